// test_stereo.c: StereoPE(src_pe). pygmu has no test: a mono source is duplicated into two
// channels, a stereo source passes unchanged, extent and frame rate are the source's.
// QUIRK Q52 fixed: 3+ channels are a channel count error (pygmu passes them, reporting 2).
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void test_values(void) {
    pg_graph *g = t_graph(0);
    int r = ADD(g, "RampPE", t_num(NULL, 0), t_num(NULL, 5), t_ext(NULL, 0, 5), t_int(NULL, 1234));
    int s = ADD(g, "StereoPE", t_node(NULL, r));
    CHECK_EQ_I64(pg_graph_node_channels(g, s), 2);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, s), 1234);
    CHECK(t_extent_is(pg_graph_node_extent(g, s), 0, 5));
    float out[12];
    RENDER(g, s, -1, 6, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, 1, 2, 3, 4, 0, 0, 1, 2, 3, 4 }), 12, 0);
    int st = ADD(g, "ArrayPE", t_arr(NULL, 2, 3, (double[]){ 1, 2, 3, -1, -2, -3 }));
    int ss = ADD(g, "StereoPE", t_node(NULL, st));
    RENDER(g, ss, 0, 3, out);
    CHECK_FRAMES(out, ((double[]){ 1, 2, 3, -1, -2, -3 }), 6, 0);
    int sin = ADD(g, "SinPE", t_num(NULL, 1000));
    int s2 = ADD(g, "StereoPE", t_node(NULL, sin));
    CHECK(t_extent_is(pg_graph_node_extent(g, s2), PG_FRAME_MIN, PG_FRAME_MAX));
    CHECK(t_block_invariant(g, s2, -3000, 3000));
    CHECK_FUSED(g, s2, -3000, 3000, 0);
    CHECK_FUSED(g, ss, -1, 5, 0);
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    CHECK_STATUS(STATUS(g, "StereoPE", t_num(NULL, 1)), PG_ERR_ARG);
    CHECK_STATUS(t_add_status(g, "StereoPE", NULL, 0), PG_ERR_ARG);
    int c = ADD(g, "ConstPE", t_num(NULL, 1));
    int s3 = ADD(g, "SpreadPE", t_node(NULL, c), t_int(NULL, 3));
    CHECK_STATUS(STATUS(g, "StereoPE", t_node(NULL, s3)), PG_ERR_CHANNELS);
    CHECK_EQ_I64(pg_graph_node_count(g), 3);
    CHECK(strstr(pg_graph_diag(g, 0)->message, "StereoPE src_pe has 3 channels"));
    pg_graph_free(g);
}

int main(void) {
    test_values();
    test_bad_args();
    return check_done();
}
