// test_mul.c: MulPE(*pes). pygmu's test_mul_pe.py is a stub; expectations are closed forms:
// a product of two arrays frame by frame, with the extent the intersection of the inputs'
// (QUIRK Q39: pygmu reports the union, e.g. [0,5) * [3,10) gives [0,10)); a mono input
// scales every channel; the product is float32 in input order; a ramp times a ramp is the
// quadratic t*(t - 5) on their overlap.
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void test_values(void) {
    pg_graph *g = t_graph(0);
    int a = ADD(g, "ArrayPE", t_arr(NULL, 1, 5, (double[]){ 1, 2, 3, 4, 5 }));
    int b = ADD(g, "ArrayPE", t_arr(NULL, 1, 3, (double[]){ 2, 2, -2 }));
    int m = ADD(g, "MulPE", t_node(NULL, a), t_node(NULL, b));
    CHECK(t_extent_is(pg_graph_node_extent(g, m), 0, 3));
    float out[7];
    RENDER(g, m, -1, 7, out);
    CHECK_FRAMES(out, ((double[]){ 0, 2, 4, -6, 0, 0, 0 }), 7, 0);
    // Q39's example: [0, 5) * [3, 10) is [3, 5)
    int r1 = ADD(g, "RampPE", t_num(NULL, 0), t_num(NULL, 5), t_ext(NULL, 0, 5));
    int r2 = ADD(g, "RampPE", t_num(NULL, 0), t_num(NULL, 7), t_ext(NULL, 3, 10));
    int q = ADD(g, "MulPE", t_node(NULL, r1), t_node(NULL, r2));
    CHECK(t_extent_is(pg_graph_node_extent(g, q), 3, 5));
    RENDER(g, q, 2, 4, out);
    CHECK_FRAMES(out, ((double[]){ 0, 3 * 0, 4 * 1, 0 }), 4, 0);
    // a ramp t on [0, 100) times a ramp t - 5 on [5, 100): t*(t - 5) on [5, 100)
    int u = ADD(g, "RampPE", t_num(NULL, 0), t_num(NULL, 100), t_ext(NULL, 0, 100));
    int v = ADD(g, "RampPE", t_num(NULL, 0), t_num(NULL, 95), t_ext(NULL, 5, 100));
    int uv = ADD(g, "MulPE", t_node(NULL, u), t_node(NULL, v));
    float w[100];
    double want[100];
    RENDER(g, uv, 0, 100, w);
    for (int t = 0; t < 100; t++)
        want[t] = t < 5 ? 0 : (double)t * (t - 5);
    CHECK_FRAMES(w, want, 100, 0);
    CHECK(t_block_invariant(g, uv, -10, 110));
    pg_graph_free(g);
}

// Indefinite inputs: ConstPE(2) * IdentityPE is 2t everywhere; a mono factor scales both
// channels; float32 products in input order.
static void test_channels_and_rounding(void) {
    pg_graph *g = t_graph(0);
    int two = ADD(g, "ConstPE", t_num(NULL, 2));
    int id = t_add(g, "IdentityPE", NULL, 0);
    int m = ADD(g, "MulPE", t_node(NULL, two), t_node(NULL, id));
    CHECK(t_extent_is(pg_graph_node_extent(g, m), PG_FRAME_MIN, PG_FRAME_MAX));
    float out[6];
    RENDER(g, m, -2, 5, out);
    CHECK_FRAMES(out, ((double[]){ -4, -2, 0, 2, 4 }), 5, 0);
    int st = ADD(g, "ArrayPE", t_arr(NULL, 2, 2, (double[]){ 1, 2, 3, 4 }));
    int ten = ADD(g, "ArrayPE", t_arr(NULL, 1, 2, (double[]){ 10, -10 }));
    int sm = ADD(g, "MulPE", t_node(NULL, ten), t_node(NULL, st));
    CHECK_EQ_I64(pg_graph_node_channels(g, sm), 2);
    RENDER(g, sm, 0, 2, out);
    CHECK_FRAMES(out, ((double[]){ 10, -20, 30, -40 }), 4, 0);
    int a = ADD(g, "ConstPE", t_num(NULL, 0.1));
    int b = ADD(g, "ConstPE", t_num(NULL, 0.2));
    int c = ADD(g, "ConstPE", t_num(NULL, 0.3));
    int abc = ADD(g, "MulPE", t_node(NULL, a), t_node(NULL, b), t_node(NULL, c));
    RENDER(g, abc, 0, 1, out);
    CHECK(out[0] == ((float)0.1 * (float)0.2) * (float)0.3);
    int single = ADD(g, "MulPE", t_node(NULL, id));
    RENDER(g, single, 3, 2, out);
    CHECK_FRAMES(out, ((double[]){ 3, 4 }), 2, 0);
    CHECK(t_block_invariant(g, sm, -3, 5));
    pg_graph_free(g);
}

static void test_empty(void) {
    pg_graph *g = t_graph(22050);
    int m = t_add(g, "MulPE", NULL, 0);
    CHECK(pg_extent_is_empty(pg_graph_node_extent(g, m)));
    CHECK_EQ_I64(pg_graph_node_channels(g, m), 1);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, m), 22050);
    // disjoint factors: empty, silent
    int a = ADD(g, "ArrayPE", t_arr(NULL, 1, 2, (double[]){ 1, 1 }));
    int r = ADD(g, "RampPE", t_num(NULL, 1), t_num(NULL, 1), t_ext(NULL, 10, 20));
    int d = ADD(g, "MulPE", t_node(NULL, a), t_node(NULL, r));
    CHECK(pg_extent_is_empty(pg_graph_node_extent(g, d)));
    float out[3] = { 1, 1, 1 };
    RENDER(g, d, 0, 3, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, 0 }), 3, 0);
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    int c = ADD(g, "ConstPE", t_num(NULL, 1));
    CHECK_STATUS(STATUS(g, "MulPE", t_node(NULL, c), t_num(NULL, 2)), PG_ERR_ARG);
    CHECK_EQ_I64(pg_graph_node_count(g), 1);
    pg_graph_free(g);
    g = t_graph(0);
    c = ADD(g, "ConstPE", t_num(NULL, 1));
    int s2 = ADD(g, "SpreadPE", t_node(NULL, c), t_int(NULL, 2));
    int s3 = ADD(g, "SpreadPE", t_node(NULL, c), t_int(NULL, 3));
    CHECK_STATUS(STATUS(g, "MulPE", t_node(NULL, s2), t_node(NULL, c), t_node(NULL, s3)),
                 PG_ERR_CHANNELS);
    CHECK(strstr(pg_graph_diag(g, 0)->message,
                 "channel count mismatch: MulPE input 3 has 3 channels, input 1 has 2"));
    int r44 = ADD(g, "ConstPE", t_num(NULL, 1), t_int(NULL, 44100));
    CHECK_STATUS(STATUS(g, "MulPE", t_node(NULL, c), t_node(NULL, r44)), PG_ERR_RATE);
    CHECK(strstr(pg_graph_diag(g, 1)->message, "MulPE input 2 is 44100 Hz, input 1 is 48000"));
    pg_graph_free(g);
}

int main(void) {
    test_values();
    test_channels_and_rounding();
    test_empty();
    test_bad_args();
    return check_done();
}
