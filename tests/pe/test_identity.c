// test_identity.c: IdentityPE(frame_rate=None). pygmu's test_identity_pe.py: [0, 5) renders
// [0, 1, 2, 3, 4], indefinite extent, mono, frame rate from the keyword. out(t) = t exactly
// up to 2^24; above, float32 rounds to nearest-even (the documented precision limit).
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void test_shape(void) {
    pg_graph *g = t_graph(0);
    int a = ADD(g, "IdentityPE", t_int("frame_rate", 1234));
    int b = t_add(g, "IdentityPE", NULL, 0);
    CHECK(t_extent_is(pg_graph_node_extent(g, a), PG_FRAME_MIN, PG_FRAME_MAX));
    CHECK_EQ_I64(pg_graph_node_channels(g, a), 1);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, a), 1234);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, b), 48000);
    pg_graph_free(g);
}

static void test_values(void) {
    pg_graph *g = t_graph(0);
    int id = t_add(g, "IdentityPE", NULL, 0);
    float out[5];
    RENDER(g, id, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 1, 2, 3, 4 }), 5, 0);
    RENDER(g, id, -3, 5, out);
    CHECK_FRAMES(out, ((double[]){ -3, -2, -1, 0, 1 }), 5, 0);
    // 2^24 - 2 .. 2^24 + 2 are exact on this side, then rounding to even: 2^24 + 1 -> 2^24,
    // 2^24 + 3 -> 2^24 + 4 (the spacing of float32 above 2^24 is 2).
    RENDER(g, id, 16777214, 5, out);
    CHECK_FRAMES(out, ((double[]){ 16777214, 16777215, 16777216, 16777216, 16777218 }), 5, 0);
    RENDER(g, id, 16777219, 2, out);
    CHECK_FRAMES(out, ((double[]){ 16777220, 16777220 }), 2, 0);
    CHECK(t_block_invariant(g, id, -5000, 5000));
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    CHECK_STATUS(STATUS(g, "IdentityPE", t_int("frame_rate", -1)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "IdentityPE", t_str("frame_rate", "fast")), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "IdentityPE", t_int("gain", 2)), PG_ERR_ARG);
    CHECK_EQ_I64(pg_graph_node_count(g), 0);
    pg_graph_free(g);
}

int main(void) {
    test_shape();
    test_values();
    test_bad_args();
    return check_done();
}
