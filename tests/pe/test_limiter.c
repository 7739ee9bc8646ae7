// test_limiter.c: LimiterPE(src_pe, headroom_db=2). QUIRK Q35: ours holds the largest
// |sample| M seen so far and scales by min(1, L/M), L = 10^(-headroom_db/20), frame by
// frame. pygmu's verified block [0.1, 0.5, -1.0, 0.31] (x0.4 in pygmu) becomes
// [0.1, 0.5, -L, 0.31 L] here: unity until the -1.0 peak, then L/1 held.
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void test_hold_peak(void) {
    pg_graph *g = t_graph(48000);
    double x[6] = { 0.1, 0.5, -1.0, 0.31, 0.9, 2.0 };
    int src = ADD(g, "ArrayPE", t_arr(NULL, 1, 6, x));
    int lim = ADD(g, "LimiterPE", t_node(NULL, src));
    double l = pow(10, -2 / 20.0);
    double want[6] = { 0.1, 0.5, -l, 0.31 * l, 0.9 * l, 1.0 * l }; // M = 2 at the last frame
    float y[6];
    CHECK_STATUS(t_render(g, lim, 0, 6, 1, y), PG_OK);
    for (int i = 0; i < 6; i++)
        CHECK_NEAR(y[i], want[i], 1e-7);
    pg_extent e = pg_graph_node_extent(g, lim);
    CHECK(e.start == 0 && e.end == 6);
    // headroom 0: unity below full scale
    lim = ADD(g, "LimiterPE", t_node(NULL, src), t_num(NULL, 0));
    CHECK_STATUS(t_render(g, lim, 0, 6, 64, y), PG_OK);
    CHECK_NEAR(y[4], 0.9, 1e-7);
    CHECK_NEAR(y[5], 1.0, 1e-7);
    pg_graph_free(g);
}

// The peak is taken over every channel; the gain applies to all.
static void test_stereo(void) {
    pg_graph *g = t_graph(48000);
    double x[6] = { 0.2, 0.2, 0.2, 0.1, -3.0, 0.1 };
    int src = ADD(g, "ArrayPE", t_arr(NULL, 2, 3, x));
    int lim = ADD(g, "LimiterPE", t_node(NULL, src), t_num("headroom_db", 6));
    double l = pow(10, -6 / 20.0);
    float y[6];
    CHECK_EQ_I64(pg_graph_node_channels(g, lim), 2);
    CHECK_STATUS(t_render(g, lim, 0, 3, 64, y), PG_OK);
    CHECK_NEAR(y[0], 0.2, 1e-7);
    CHECK_NEAR(y[1], 0.2 * l / 3, 1e-7);
    CHECK_NEAR(y[4], -l, 1e-7);
    CHECK_NEAR(y[5], 0.1 * l / 3, 1e-7);
    pg_graph_free(g);
}

static void test_errors_blocks_infinite(void) {
    pg_graph *g = t_graph(48000);
    int src = ADD(g, "SinPE", t_num(NULL, 50));
    CHECK_STATUS(STATUS(g, "LimiterPE", t_node(NULL, src), t_num(NULL, -1)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "LimiterPE", t_node(NULL, src), t_str(NULL, "2")), PG_ERR_ARG);
    int ramp = ADD(g, "RampPE", t_num(NULL, 0), t_num(NULL, 3), t_ext(NULL, 0, 3000));
    int lim =
        ADD(g, "LimiterPE", t_node(NULL, ADD(g, "MulPE", t_node(NULL, src), t_node(NULL, ramp))));
    CHECK(t_block_invariant(g, lim, 0, 3000));
    lim = ADD(g, "LimiterPE", t_node(NULL, src));
    pg_extent e = pg_graph_node_extent(g, lim);
    CHECK(e.start == PG_FRAME_MIN && e.end == PG_FRAME_MAX);
    int none = ADD(g, "CropPE", t_node(NULL, src), t_ext(NULL, 9, 9));
    CHECK(pg_extent_is_empty(pg_graph_node_extent(g, ADD(g, "LimiterPE", t_node(NULL, none)))));
    float y[1000];
    CHECK_STATUS(t_render(g, lim, 0, 1000, 64, y), PG_OK); // a unit sine: peaks at L
    float peak = 0;
    for (int i = 0; i < 1000; i++)
        peak = fmaxf(peak, fabsf(y[i]));
    CHECK_NEAR(peak, pow(10, -2 / 20.0), 1e-6);
    pg_graph_free(g);
}

int main(void) {
    test_hold_peak();
    test_stereo();
    test_errors_blocks_infinite();
    return check_done();
}
