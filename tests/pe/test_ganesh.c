// test_ganesh.c: GaneshPE(head_pe, body_pe, extend=True): out = real(IFFT(|FFT(head)| *
// exp(i angle(FFT(body))))) over a common length L (the longer, zero-padded, or with
// extend=False the shorter), extent [0, L). Closed forms worked out by hand from the DFT,
// the catalogue's verified example, x with itself giving x back, mono/stereo, rates
// (QUIRK Q32), bad arguments and block invariance.
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "check.h"

static int array(pg_graph *g, int rows, int cols, const double *data) {
    pg_arg a[] = { t_arr(NULL, rows, cols, data) };
    return t_add(g, "ArrayPE", a, 1);
}

static int ganesh(pg_graph *g, int head, int body, bool extend) {
    pg_arg a[] = { t_node(NULL, head),
                   t_node(NULL, body),
                   { "extend", { .type = PG_V_BOOL, .u.b = extend } } };
    return t_add(g, "GaneshPE", a, 3);
}

static void expect(pg_graph *g, int node, int64_t n, const double *want, double tol) {
    int ch = pg_graph_node_channels(g, node);
    float *y = calloc((size_t)(n * ch + 1), sizeof(float));
    CHECK_EQ_I64(pg_graph_node_extent(g, node).start, 0);
    CHECK_EQ_I64(pg_graph_node_extent(g, node).end, n);
    CHECK_STATUS(t_render(g, node, 0, n, 7, y), PG_OK);
    for (int64_t i = 0; i < n * ch; i++)
        CHECK_NEAR(y[i], want[i], tol);
    free(y);
}

// The catalogue's verified case: head [1, 0, 0, 0], body [0, 1, 0, 0, 0, 0], extend: the
// head pads to 6 frames, all of its magnitudes are 1, the body's phases are a one-frame
// delay, so out = [0, 1, 0, 0, 0, 0]. With extend=False both are cut to 4 (QUIRK Q32):
// body [0, 1, 0, 0] gives [0, 1, 0, 0].
static void test_delta(void) {
    pg_graph *g = t_graph(0);
    static const double h[] = { 1, 0, 0, 0 }, b[] = { 0, 1, 0, 0, 0, 0 };
    static const double w6[] = { 0, 1, 0, 0, 0, 0 }, w4[] = { 0, 1, 0, 0 };
    int head = array(g, 1, 4, h), body = array(g, 1, 6, b);
    expect(g, ganesh(g, head, body, true), 6, w6, 1e-6);
    expect(g, ganesh(g, head, body, false), 4, w4, 1e-6);
    pg_graph_free(g);
}

// head [1, 1, 0, 0]: |H_k| = 2, sqrt 2, 0, sqrt 2. body [0, 0, 1, 0]: angle(B_k) = -pi k.
// Y = [2, -sqrt 2, 0, -sqrt 2], so y[n] = (2 - sqrt 2 (i^n + (-i)^n)) / 4:
// [(2 - 2 sqrt 2) / 4, 1/2, (2 + 2 sqrt 2) / 4, 1/2].
static void test_closed_form(void) {
    pg_graph *g = t_graph(0);
    static const double h[] = { 1, 1, 0, 0 }, b[] = { 0, 0, 1, 0 };
    double r2 = sqrt(2.0);
    double want[] = { (2 - 2 * r2) / 4, 0.5, (2 + 2 * r2) / 4, 0.5 };
    expect(g, ganesh(g, array(g, 1, 4, h), array(g, 1, 4, b), true), 4, want, 1e-6);
    pg_graph_free(g);
}

// x with itself is x, wherever x sits in time: the result starts at 0 (pygmu's ArrayPE).
// 1000 random frames at [500, 1500), mono.
static void test_identity(void) {
    enum {
        XN = 1000
    };
    pg_graph *g = t_graph(0);
    double *x = malloc(sizeof(double) * XN);
    t_fill_random(x, XN, 1);
    pg_arg sa[] = { t_node(NULL, array(g, 1, XN, x)), t_int(NULL, 500) };
    int src = t_add(g, "TimeShiftPE", sa, 2);
    expect(g, ganesh(g, src, src, true), XN, x, 2e-6);
    free(x);
    pg_graph_free(g);
}

// A mono head with a stereo body gives two channels (pygmu reported one): channel c has the
// head's magnitudes and body row c's phases. Body rows: a one-frame and a two-frame delay
// of an impulse; head: an impulse. So rows [0, 1, 0, 0] and [0, 0, 1, 0].
static void test_channels(void) {
    pg_graph *g = t_graph(0);
    static const double h[] = { 1, 0, 0, 0 }, b[] = { 0, 1, 0, 0, 0, 0, 1, 0 };
    static const double want[] = { 0, 1, 0, 0, 0, 0, 1, 0 };
    int node = ganesh(g, array(g, 1, 4, h), array(g, 2, 4, b), true);
    CHECK_EQ_I64(pg_graph_node_channels(g, node), 2);
    expect(g, node, 4, want, 1e-6);
    pg_graph_free(g);
}

// QUIRK Q32: equal rates are kept (pygmu gave 48000 for 44100 and 44100); unequal rates
// are an error; indefinite inputs and 2-vs-3 channels are errors.
static void test_bad(void) {
    pg_graph *g = t_graph(0);
    static const double h[] = { 1, 0, 0, 0 };
    pg_arg r1[] = { t_arr(NULL, 1, 4, h), t_int("frame_rate", 44100) };
    pg_arg r2[] = { t_arr(NULL, 1, 4, h), t_int("frame_rate", 22050) };
    int a = t_add(g, "ArrayPE", r1, 2), b = t_add(g, "ArrayPE", r1, 2);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, ganesh(g, a, b, true)), 44100);
    pg_arg bad_rate[] = { t_node(NULL, a), t_node(NULL, t_add(g, "ArrayPE", r2, 2)) };
    CHECK_STATUS(t_add_status(g, "GaneshPE", bad_rate, 2), PG_ERR_RATE);
    pg_graph_free(g);
    g = t_graph(0);
    a = array(g, 1, 4, h);
    pg_arg inf[] = { t_node(NULL, a), t_node(NULL, t_add(g, "IdentityPE", NULL, 0)) };
    CHECK_STATUS(t_add_status(g, "GaneshPE", inf, 2), PG_ERR_EXTENT);
    pg_arg s2[] = { t_node(NULL, a), t_int(NULL, 2) }, s3[] = { t_node(NULL, a), t_int(NULL, 3) };
    pg_arg ch[] = { t_node(NULL, t_add(g, "SpreadPE", s2, 2)),
                    t_node(NULL, t_add(g, "SpreadPE", s3, 2)) };
    CHECK_STATUS(t_add_status(g, "GaneshPE", ch, 2), PG_ERR_CHANNELS);
    pg_graph_free(g);
}

// Bit-identical at blocks 1, 7, 64, 4096 (an odd length, 4999 frames, stereo).
static void test_blocks(void) {
    enum {
        XN = 4999
    };
    pg_graph *g = t_graph(0);
    double *x = malloc(sizeof(double) * 2 * XN);
    t_fill_random(x, 2 * XN, 2);
    int node = ganesh(g, array(g, 2, XN, x), array(g, 1, XN - 1000, x), true);
    CHECK(t_block_invariant(g, node, 0, XN));
    free(x);
    pg_graph_free(g);
}

// GaneshPE computes everything in init: it is a buffer, which the render cache keeps
// (stored with its inputs, read at random, so buffers too), and a warm render loads it and
// nothing else (its init, the FFTs, never runs).
static void test_cached(void) {
    enum {
        XN = 3000
    };
    pg_graph *g = t_graph(48000);
    double *x = malloc(sizeof(double) * XN);
    t_fill_random(x, XN, 5);
    int node = ganesh(g, array(g, 1, XN, x), array(g, 1, 2000, x), true);
    pg_render_stats cold, warm;
    CHECK(t_render_twice(g, node, XN, "ganesh", &cold, &warm));
    CHECK_EQ_I64(cold.cache_misses, 3);
    CHECK_EQ_I64(warm.cache_hits, 1);
    CHECK_EQ_I64(warm.materialised, 1);
    CHECK_EQ_I64(warm.cache_misses, 0);
    free(x);
    pg_graph_free(g);
}

int main(void) {
    test_delta();
    test_closed_form();
    test_identity();
    test_channels();
    test_bad();
    test_blocks();
    test_cached();
    return check_done();
}
