// test_gravy.c: GravyPE(src_pe, window_start, window_duration, walk_rate, flip_flag): the
// catalogue's intent, out(t) = src(floor(window_start + k walk_rate) + (t - k L)) with
// k = floor(t/L), L = window_duration; with flip_flag, odd k play their window backwards.
// Expectations from that formula over an IdentityPE source (x(t) = t).
#include <math.h>
#include <stdlib.h>

#include "check.h"

static int gravy(pg_graph *g, int src, double start, int64_t len, double walk, bool flip) {
    pg_arg a[] = { t_node(NULL, src),
                   t_num(NULL, start),
                   t_int(NULL, len),
                   t_num(NULL, walk),
                   { NULL, { .type = PG_V_BOOL, .u.b = flip } } };
    return t_add(g, "GravyPE", a, 5);
}

static long floor_div(long a, long b) {
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

// The formula for a source x(t) = t on [s, e), 0 elsewhere.
static double gravy_at(long t, double start, long len, double walk, bool flip, long s, long e) {
    long k = floor_div(t, len), off = t - k * len;
    long w = (long)floor(start + (double)k * walk);
    long at = flip && (k & 1) ? w + len - 1 - off : w + off;
    return at >= s && at < e ? (double)at : 0.0;
}

static void check_window(pg_graph *g, int node, long from, long to, double start, long len,
                         double walk, bool flip, long s, long e) {
    float *out = malloc(sizeof(float) * (size_t)(to - from));
    CHECK_STATUS(t_render(g, node, from, to, 7, out), PG_OK);
    int bad = 0;
    for (long t = from; t < to; t++)
        bad += (double)out[t - from] != gravy_at(t, start, len, walk, flip, s, e);
    CHECK_EQ_I64(bad, 0);
    free(out);
}

static void test_formula(void) {
    pg_graph *g = t_graph(0);
    pg_arg c[] = { t_node(NULL, t_add(g, "IdentityPE", NULL, 0)), t_ext(NULL, 0, 1000) };
    int src = t_add(g, "CropPE", c, 2);
    // window [100, 110) walking 3 frames per repetition: 100..109, 103..112, 106..115, ...
    int a = gravy(g, src, 100, 10, 3, false);
    float out[30];
    CHECK_STATUS(t_render(g, a, 0, 30, 4, out), PG_OK);
    CHECK_NEAR(out[0], 100, 0);
    CHECK_NEAR(out[9], 109, 0);
    CHECK_NEAR(out[10], 103, 0);
    CHECK_NEAR(out[29], 115, 0);
    check_window(g, a, -60, 400, 100, 10, 3, false, 0, 1000); // before 0: k < 0 walks back
    // fractional walk: floor(100 + 0.5 k); a backwards walk
    check_window(g, gravy(g, src, 100, 10, 0.5, false), -40, 300, 100, 10, 0.5, false, 0, 1000);
    check_window(g, gravy(g, src, 500, 7, -2.25, false), -40, 300, 500, 7, -2.25, false, 0, 1000);
    // flip_flag: odd repetitions backwards (109..100 at k = 1: window 103 -> 112..103)
    int f = gravy(g, src, 100, 10, 3, true);
    CHECK_STATUS(t_render(g, f, 10, 12, 1, out), PG_OK);
    CHECK_NEAR(out[0], 112, 0);
    CHECK_NEAR(out[1], 111, 0);
    check_window(g, f, -55, 300, 100, 10, 3, true, 0, 1000);
    // windows that leave the source read silence
    check_window(g, gravy(g, src, -25, 10, 0, false), 0, 50, -25, 10, 0, false, 0, 1000);
    check_window(g, gravy(g, src, 990, 10, 1, true), 0, 100, 990, 10, 1, true, 0, 1000);
    pg_graph_free(g);
}

static void test_shape_and_blocks(void) {
    pg_graph *g = t_graph(0);
    pg_arg c[] = { t_node(NULL, t_add(g, "IdentityPE", NULL, 0)), t_ext(NULL, 0, 50000) };
    int src = t_add(g, "CropPE", c, 2);
    int a = gravy(g, src, 2.95 * 48000, 8160, 240, false); // pygmu's commented-out etude
    CHECK_EQ_I64(pg_graph_node_extent(g, a).start, PG_FRAME_MIN);
    CHECK_EQ_I64(pg_graph_node_extent(g, a).end, PG_FRAME_MAX);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, a), 48000);
    CHECK(t_block_invariant(g, gravy(g, src, 1000, 333, 17.5, true), -2000, 9000));
    // a stateful source (materialised: read at random)
    pg_arg s[] = { t_num(NULL, 440.0) };
    pg_arg cs[] = { t_node(NULL, t_add(g, "BlitSawPE", s, 1)), t_ext(NULL, 0, 8000) };
    CHECK(
        t_block_invariant(g, gravy(g, t_add(g, "CropPE", cs, 2), 500, 1000, 250, true), 0, 10000));
    // stereo: channel 1 = 2 x channel 0
    static double d[2 * 64];
    for (int i = 0; i < 64; i++) {
        d[i] = i;
        d[64 + i] = 2 * i;
    }
    pg_arg ar[] = { t_arr(NULL, 2, 64, d) };
    int st = gravy(g, t_add(g, "ArrayPE", ar, 1), 10, 5, 2, true);
    CHECK_EQ_I64(pg_graph_node_channels(g, st), 2);
    float out[2 * 40];
    CHECK_STATUS(t_render(g, st, 0, 40, 6, out), PG_OK);
    int bad = 0;
    for (long t = 0; t < 40; t++)
        bad += (double)out[t] != gravy_at(t, 10, 5, 2, true, 0, 64) ||
               (double)out[40 + t] != 2 * gravy_at(t, 10, 5, 2, true, 0, 64);
    CHECK_EQ_I64(bad, 0);
    // an empty source: silence everywhere
    pg_arg e[] = { t_node(NULL, src), t_ext(NULL, 7, 7) };
    CHECK_STATUS(t_render(g, gravy(g, t_add(g, "CropPE", e, 2), 0, 5, 1, false), 0, 40, 6, out),
                 PG_OK);
    CHECK_NEAR(out[0] + out[39], 0.0, 0);
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    int src = t_add(g, "IdentityPE", NULL, 0);
    pg_arg zero[] = { t_node(NULL, src), t_num(NULL, 0), t_int(NULL, 0), t_num(NULL, 1),
                      t_int(NULL, 0) };
    CHECK_STATUS(t_add_status(g, "GravyPE", zero, 5), PG_ERR_ARG);
    pg_arg frac[] = { t_node(NULL, src), t_num(NULL, 0), t_num(NULL, 2.5), t_num(NULL, 1),
                      t_int(NULL, 0) };
    CHECK_STATUS(t_add_status(g, "GravyPE", frac, 5), PG_ERR_ARG);
    pg_arg inf[] = { t_node(NULL, src), t_num(NULL, INFINITY), t_int(NULL, 5), t_num(NULL, 1),
                     t_int(NULL, 0) };
    CHECK_STATUS(t_add_status(g, "GravyPE", inf, 5), PG_ERR_ARG);
    pg_arg missing[] = { t_node(NULL, src), t_num(NULL, 0), t_int(NULL, 5), t_num(NULL, 1) };
    CHECK_STATUS(t_add_status(g, "GravyPE", missing, 4), PG_ERR_ARG);
    // pygmu's disabled test used an older signature (loop_length=)
    pg_arg old[] = { t_node(NULL, src), t_int("loop_length", 4) };
    CHECK_STATUS(t_add_status(g, "GravyPE", old, 2), PG_ERR_ARG);
    pg_graph_free(g);
}

int main(void) {
    test_formula();
    test_shape_and_blocks();
    test_bad_args();
    return check_done();
}
