// test_spread.c: SpreadPE(src_pe, channel_count=2). pygmu's test_spread_pe.py on
// RampPE(0, 5, [0, 5)): channel counts 1, 2, 3 and the default 2, each row [0,1,2,3,4]; the
// extent is the source's; a stereo source is a channel count error; the frame rate (1234) is
// inherited. channel_count must be >= 1.
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void test_values(void) {
    pg_graph *g = t_graph(0);
    int r = ADD(g, "RampPE", t_num(NULL, 0), t_num(NULL, 5), t_ext(NULL, 0, 5), t_int(NULL, 1234));
    int counts[4] = { 1, 2, 3, 2 };
    float out[15];
    for (int k = 0; k < 4; k++) {
        int s = k < 3 ? ADD(g, "SpreadPE", t_node(NULL, r), t_int("channel_count", counts[k]))
                      : ADD(g, "SpreadPE", t_node(NULL, r));
        CHECK_EQ_I64(pg_graph_node_channels(g, s), counts[k]);
        CHECK(t_extent_is(pg_graph_node_extent(g, s), 0, 5));
        CHECK_EQ_I64(pg_graph_node_frame_rate(g, s), 1234);
        RENDER(g, s, 0, 5, out);
        for (int c = 0; c < counts[k]; c++)
            CHECK_FRAMES(out + 5 * c, ((double[]){ 0, 1, 2, 3, 4 }), 5, 0);
    }
    int noise = t_add(g, "NoisePE", NULL, 0);
    int s8 = ADD(g, "SpreadPE", t_node(NULL, noise), t_int(NULL, 8));
    CHECK(t_block_invariant(g, s8, -500, 4500));
    CHECK_FUSED(g, s8, -500, 4500, 0);
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    int r = ADD(g, "RampPE", t_num(NULL, 0), t_num(NULL, 5), t_ext(NULL, 0, 5));
    CHECK_STATUS(STATUS(g, "SpreadPE", t_node(NULL, r), t_int(NULL, 0)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "SpreadPE", t_node(NULL, r), t_int(NULL, -2)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "SpreadPE", t_node(NULL, r), t_num(NULL, 2.5)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "SpreadPE", t_node(NULL, r), t_int(NULL, 1 << 20)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "SpreadPE", t_num(NULL, 1)), PG_ERR_ARG);
    CHECK_EQ_I64(pg_graph_node_count(g), 1);
    int s2 = ADD(g, "SpreadPE", t_node(NULL, r));
    CHECK_STATUS(STATUS(g, "SpreadPE", t_node(NULL, s2)), PG_ERR_CHANNELS);
    CHECK(strstr(pg_graph_diag(g, 0)->message, "SpreadPE src_pe has 2 channels, expected 1"));
    pg_graph_free(g);
}

int main(void) {
    test_values();
    test_bad_args();
    return check_done();
}
