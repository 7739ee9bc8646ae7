// test_loop.c: LoopPE(src_pe, loop_duration). out(t) = src(t mod L), floor-mod, in absolute
// source time: the tables of pygmu's test_loop_pe.py (source IdentityPE cropped), plus
// QUIRK Q36 (non-integral lengths rejected at the call).
#include <stdlib.h>

#include "check.h"

static int crop(pg_graph *g, int src, pg_frame s, pg_frame e) {
    pg_arg a[] = { t_node(NULL, src), t_ext(NULL, s, e) };
    return t_add(g, "CropPE", a, 2);
}

static int loop(pg_graph *g, int src, int64_t len) {
    pg_arg a[] = { t_node(NULL, src), t_int(NULL, len) };
    return t_add(g, "LoopPE", a, 2);
}

// Renders [s, s + n) (block 5, so windows wrap mid-block) against want on every channel.
static void expect(pg_graph *g, int node, pg_frame s, int n, const double *want) {
    int ch = pg_graph_node_channels(g, node);
    float *out = calloc((size_t)(n * ch + 1), sizeof(float));
    CHECK_STATUS(t_render(g, node, s, s + n, 5, out), PG_OK);
    for (int c = 0; c < ch; c++)
        for (int i = 0; i < n; i++)
            CHECK_NEAR(out[c * n + i], want[i], 0);
    free(out);
}

static void test_pygmu_tables(void) {
    pg_graph *g = t_graph(0);
    int id = t_add(g, "IdentityPE", NULL, 0);
    int src = crop(g, id, 0, 6);
    pg_arg sp[] = { t_node(NULL, src), t_int(NULL, 2) };
    int st = t_add(g, "SpreadPE", sp, 2);
    static const double l3[] = { 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2 };
    static const double l5[] = { 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1 };
    static const double l7[] = { 0, 1, 2, 3, 4, 5, 0, 0, 1, 2, 3, 4 };
    static const double l9[] = { 0, 1, 2, 3, 4, 5, 0, 0, 0, 0, 1, 2 };
    static const double l5neg[] = { 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4 }; // [-12, 0)
    static const double l5mid[] = { 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0 }; // [-6, 6)
    int srcs[] = { src, st };
    for (int k = 0; k < 2; k++) {
        expect(g, loop(g, srcs[k], 3), 0, 12, l3);
        expect(g, loop(g, srcs[k], 5), 0, 12, l5);
        expect(g, loop(g, srcs[k], 7), 0, 12, l7);
        expect(g, loop(g, srcs[k], 9), 0, 12, l9);
        expect(g, loop(g, srcs[k], 5), -12, 12, l5neg);
        expect(g, loop(g, srcs[k], 5), -6, 12, l5mid);
    }
    // a source on [0, 3), L = 5, R = [-5, 7)
    static const double a[] = { 0, 1, 2, 0, 0, 0, 1, 2, 0, 0, 0, 1 };
    expect(g, loop(g, crop(g, id, 0, 3), 5), -5, 12, a);
    // a source on [3, 6), L = 5: absolute source time, so 0,0,0,3,4 per period
    static const double b[] = { 0, 0, 0, 3, 4, 0, 0, 0, 3, 4, 0, 0 };
    expect(g, loop(g, crop(g, id, 3, 6), 5), 0, 12, b);
    // an uncropped IdentityPE with L = 10000
    int big = loop(g, id, 10000);
    double w[10];
    for (int i = 0; i < 10; i++)
        w[i] = i;
    expect(g, big, 0, 10, w);
    for (int i = 0; i < 10; i++)
        w[i] = 10 + i;
    expect(g, big, 10, 10, w);
    for (int i = 0; i < 10; i++)
        w[i] = i < 5 ? 9995 + i : i - 5;
    expect(g, big, 9995, 10, w);
    CHECK_EQ_I64(pg_graph_node_extent(g, big).start, PG_FRAME_MIN);
    CHECK_EQ_I64(pg_graph_node_extent(g, big).end, PG_FRAME_MAX);
    CHECK_EQ_I64(pg_graph_node_channels(g, loop(g, st, 4)), 2);
    pg_graph_free(g);
}

// Rate passes through; a long window over a short loop equals the closed form
// t mod L at every frame, and is the same at every block size.
static void test_closed_form(void) {
    pg_graph *g = t_graph(0);
    pg_arg r[] = { t_int("frame_rate", 1234) };
    int id = t_add(g, "IdentityPE", r, 1);
    int l = loop(g, crop(g, id, 0, 100), 3);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, l), 1234);
    enum {
        N = 10000
    };
    float *out = calloc(N, sizeof(float));
    CHECK_STATUS(t_render(g, l, -5000, 5000, 4096, out), PG_OK);
    int bad = 0;
    for (int i = 0; i < N; i++) {
        int t = -5000 + i, m = ((t % 3) + 3) % 3;
        bad += out[i] != (float)m;
    }
    CHECK_EQ_I64(bad, 0);
    free(out);
    CHECK(t_block_invariant(g, l, -5000, 5000));
    CHECK(t_block_invariant(g, loop(g, crop(g, id, 0, 100), 1000), -3000, 3000));
    CHECK(t_block_invariant(g, loop(g, crop(g, id, 0, 5000), 4096), -9000, 9000));
    // L = 1 repeats source frame 0
    static const double ones[] = { 7, 7, 7, 7 };
    pg_arg k[] = { t_num(NULL, 7) };
    expect(g, loop(g, t_add(g, "ConstPE", k, 1), 1), -2, 4, ones);
    // an empty source loops silence
    static const double zeros[4] = { 0 };
    expect(g, loop(g, crop(g, crop(g, id, 0, 10), 20, 30), 4), 0, 4, zeros);
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    int id = t_add(g, "IdentityPE", NULL, 0);
    pg_arg f4[] = { t_node(NULL, id), t_num(NULL, 4.0) }; // an integral float is fine
    CHECK_STATUS(t_add_status(g, "LoopPE", f4, 2), PG_OK);
    pg_arg f45[] = { t_node(NULL, id), t_num(NULL, 4.5) };
    CHECK_STATUS(t_add_status(g, "LoopPE", f45, 2), PG_ERR_ARG);
    pg_arg zero[] = { t_node(NULL, id), t_int(NULL, 0) };
    CHECK_STATUS(t_add_status(g, "LoopPE", zero, 2), PG_ERR_ARG);
    pg_arg neg[] = { t_node(NULL, id), t_int("loop_duration", -3) };
    CHECK_STATUS(t_add_status(g, "LoopPE", neg, 2), PG_ERR_ARG);
    pg_arg missing[] = { t_node(NULL, id) };
    CHECK_STATUS(t_add_status(g, "LoopPE", missing, 1), PG_ERR_ARG);
    pg_arg str[] = { t_node(NULL, id), t_str(NULL, "5") };
    CHECK_STATUS(t_add_status(g, "LoopPE", str, 2), PG_ERR_ARG);
    pg_graph_free(g);
}

// A stateful source (BlitSawPE runs in time order from its origin) on [0, n).
static int saw(pg_graph *g, pg_frame n) {
    pg_arg a[] = { t_num(NULL, 440.0) };
    return crop(g, t_add(g, "BlitSawPE", a, 1), 0, n);
}

// A stateful source read at random (materialised by the planner).
static void test_stateful_source(void) {
    pg_graph *g = t_graph(0);
    CHECK(t_block_invariant(g, loop(g, saw(g, 3000), 1000), -5000, 5000));
    CHECK(t_block_invariant(g, loop(g, saw(g, 9000), 5000), -9000, 9000));
    pg_graph_free(g);
}

int main(void) {
    test_pygmu_tables();
    test_closed_form();
    test_bad_args();
    test_stateful_source();
    return check_done();
}
