// test_ramp.c: RampPE(start_v, end_v, extent, frame_rate=None). pygmu's test_ramp_pe.py on
// RampPE(10, 20, [0, 10)): [0, 10) gives 10..19, the extent is [0, 10). Values inside the
// extent are start_v + slope*(t - S), slope = (end_v - start_v)/(E - S), from the absolute
// frame (QUIRK Q44 fixed: n frames for every window). Outside the extent a node renders
// nothing, so pygmu's clamped start_v / end_v rows ([-10, 0) = 10s, [10, 20) = 20s) are zeros
// here (extent semantics of design.md).
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void test_shape(void) {
    pg_graph *g = t_graph(0);
    int r = ADD(g, "RampPE", t_num(NULL, 10), t_num(NULL, 20), t_ext(NULL, 0, 10));
    int q = ADD(g, "RampPE", t_num(NULL, 0), t_num(NULL, 1), t_ext(NULL, 0, 10),
                t_int("frame_rate", 1234));
    CHECK(t_extent_is(pg_graph_node_extent(g, r), 0, 10));
    CHECK_EQ_I64(pg_graph_node_channels(g, r), 1);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, r), 48000);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, q), 1234);
    pg_graph_free(g);
}

static void test_values(void) {
    pg_graph *g = t_graph(0);
    int r = ADD(g, "RampPE", t_num(NULL, 10), t_num(NULL, 20), t_ext(NULL, 0, 10));
    float out[10];
    RENDER(g, r, 0, 10, out);
    CHECK_FRAMES(out, ((double[]){ 10, 11, 12, 13, 14, 15, 16, 17, 18, 19 }), 10, 0);
    RENDER(g, r, -5, 10, out); // pygmu: 10 x 5 before the ramp; here the extent starts at 0
    CHECK_FRAMES(out, ((double[]){ 0, 0, 0, 0, 0, 10, 11, 12, 13, 14 }), 10, 0);
    RENDER(g, r, 5, 10, out); // the last frame inside is end_v - slope = 19
    CHECK_FRAMES(out, ((double[]){ 15, 16, 17, 18, 19, 0, 0, 0, 0, 0 }), 10, 0);
    RENDER(g, r, -20, 10, out); // wholly outside: n frames (Q44), all zero
    CHECK_FRAMES(out, ((double[]){ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }), 10, 0);
    // pygmu's test_gain_pe fixture: RampPE(-40, 60, [0, 5)) = [-40, -20, 0, 20, 40]
    int db = ADD(g, "RampPE", t_num(NULL, -40), t_num(NULL, 60), t_ext(NULL, 0, 5));
    RENDER(g, db, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ -40, -20, 0, 20, 40 }), 5, 0);
    // a ramp far from 0 is computed from t - S: 0, 1/4, 2/4, 3/4 (exact in float32)
    pg_frame far = (pg_frame)1 << 40;
    int f = ADD(g, "RampPE", t_num(NULL, 0), t_num(NULL, 1), t_ext(NULL, far, far + 4));
    RENDER(g, f, far, 4, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0.25, 0.5, 0.75 }), 4, 0);
    // thirds round to float32 per frame: (float)(1/3), (float)(2/3)
    int th = ADD(g, "RampPE", t_num(NULL, 0), t_num(NULL, 1), t_ext(NULL, 0, 3));
    RENDER(g, th, 0, 3, out);
    CHECK_FRAMES(out, ((double[]){ 0, (float)(1.0 / 3), (float)(2.0 / 3) }), 3, 0);
    pg_graph_free(g);
}

// The per-frame formula makes the ramp independent of the block size and of where a block
// starts (pygmu's per-request linspace was not).
static void test_blocks(void) {
    pg_graph *g = t_graph(0);
    int r = ADD(g, "RampPE", t_num(NULL, -1), t_num(NULL, 1), t_ext(NULL, 100, 9000));
    CHECK(t_block_invariant(g, r, 0, 9100));
    float *out = malloc(sizeof(float) * 8900);
    RENDER(g, r, 100, 8900, out);
    int ok = 1;
    for (int i = 0; i < 8900; i++)
        ok &= out[i] == (float)(-1.0 + (2.0 / 8900) * i);
    CHECK(ok);
    free(out);
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    CHECK_STATUS(STATUS(g, "RampPE", t_num(NULL, 0), t_num(NULL, 1),
                        t_ext(NULL, PG_FRAME_MIN, PG_FRAME_MAX)),
                 PG_ERR_EXTENT);
    CHECK_STATUS(STATUS(g, "RampPE", t_num(NULL, 0), t_num(NULL, 1), t_ext(NULL, 0, PG_FRAME_MAX)),
                 PG_ERR_EXTENT);
    CHECK_STATUS(STATUS(g, "RampPE", t_num(NULL, 0), t_num(NULL, 1), t_ext(NULL, 5, 5)),
                 PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "RampPE", t_num(NULL, 0), t_num(NULL, 1)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "RampPE", t_str(NULL, "0"), t_num(NULL, 1), t_ext(NULL, 0, 5)),
                 PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "RampPE", t_num(NULL, 0), t_num(NULL, 1), t_num(NULL, 5)),
                 PG_ERR_ARG); // extent must be an Extent
    CHECK_EQ_I64(pg_graph_node_count(g), 0);
    pg_graph_free(g);
}

int main(void) {
    test_shape();
    test_values();
    test_blocks();
    test_bad_args();
    return check_done();
}
