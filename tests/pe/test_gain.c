// test_gain.c: GainPE(src_pe, gain, units=None). pygmu's test_gain_pe.py with IdentityPE as
// source, over [0, 5): gain 1 -> [0,1,2,3,4], -2 -> [0,-2,-4,-6,-8], crops -> [0,0,2,3,0],
// GainPE(src, src) -> squares, dB 0/-20/+20 -> x1/x0.1/x10, a dB RampPE(-40, 60, [0, 5))
// gain -> [0,.1,2,30,400]; the extent is E(src) for a number, E(src) ∩ E(gain) for a PE.
// The product is float32: x * (float)g (numpy keeps float32 times a Python float in float32).
#include <stdlib.h>
#include <string.h>

#include "check.h"

static int crop(pg_graph *g, int src, pg_frame s, pg_frame e) {
    return ADD(g, "CropPE", t_node(NULL, src), t_ext(NULL, s, e));
}

static void test_pygmu(void) {
    pg_graph *g = t_graph(0);
    int src = t_add(g, "IdentityPE", NULL, 0);
    int one = ADD(g, "GainPE", t_node(NULL, src), t_num(NULL, 1.0));
    int neg = ADD(g, "GainPE", t_node(NULL, src), t_num(NULL, -2.0));
    int cropped_after = crop(g, one, 2, 4);
    int cropped_src = crop(g, src, 2, 4);
    int cropped_before = ADD(g, "GainPE", t_node(NULL, cropped_src), t_num(NULL, 1));
    int sq = ADD(g, "GainPE", t_node(NULL, src), t_node(NULL, src));
    int sq_src = ADD(g, "GainPE", t_node(NULL, cropped_src), t_node(NULL, src));
    int sq_gain = ADD(g, "GainPE", t_node(NULL, src), t_node(NULL, cropped_src));
    int c05 = crop(g, src, 0, 5);
    int late = ADD(g, "GainPE", t_node(NULL, src), t_node(NULL, c05));
    float out[5];
    RENDER(g, one, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 1, 2, 3, 4 }), 5, 0);
    RENDER(g, neg, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, -2, -4, -6, -8 }), 5, 0);
    RENDER(g, cropped_after, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, 2, 3, 0 }), 5, 0);
    RENDER(g, cropped_before, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, 2, 3, 0 }), 5, 0);
    RENDER(g, sq, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 1, 4, 9, 16 }), 5, 0);
    RENDER(g, sq_src, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, 4, 9, 0 }), 5, 0);
    RENDER(g, sq_gain, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, 4, 9, 0 }), 5, 0);
    RENDER(g, late, 5, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, 0, 0, 0 }), 5, 0);
    // extents
    CHECK(t_extent_is(pg_graph_node_extent(g, one), PG_FRAME_MIN, PG_FRAME_MAX));
    CHECK(t_extent_is(pg_graph_node_extent(g, cropped_before), 2, 4));
    CHECK(t_extent_is(pg_graph_node_extent(g, sq_src), 2, 4));
    CHECK(t_extent_is(pg_graph_node_extent(g, sq_gain), 2, 4)); // gain-limited
    CHECK(t_block_invariant(g, sq_gain, -10, 10));
    pg_graph_free(g);
}

static void test_db(void) {
    pg_graph *g = t_graph(0);
    int src = t_add(g, "IdentityPE", NULL, 0);
    int d0 = ADD(g, "GainPE", t_node(NULL, src), t_num(NULL, 0), t_str(NULL, "db"));
    int dm20 = ADD(g, "GainPE", t_node(NULL, src), t_num(NULL, -20), t_str("units", "db"));
    int dp20 = ADD(g, "GainPE", t_node(NULL, src), t_num(NULL, 20), t_str("units", "db"));
    int cs = crop(g, src, 2, 4);
    int before = ADD(g, "GainPE", t_node(NULL, cs), t_num(NULL, 0), t_str("units", "db"));
    int after = crop(g, d0, 2, 4);
    int ramp = ADD(g, "RampPE", t_num(NULL, -40), t_num(NULL, 60), t_ext(NULL, 0, 5));
    int dyn = ADD(g, "GainPE", t_node(NULL, src), t_node(NULL, ramp), t_str("units", "db"));
    float out[5];
    RENDER(g, d0, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 1, 2, 3, 4 }), 5, 0);
    RENDER(g, dm20, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, .1, .2, .3, .4 }), 5, 1.5e-6);
    CHECK(out[3] == 3.0f * (float)pow(10.0, -20.0 / 20.0)); // a number: 10^(g/20) in double
    RENDER(g, dp20, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 10, 20, 30, 40 }), 5, 1.5e-6);
    RENDER(g, before, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, 2, 3, 0 }), 5, 0);
    RENDER(g, after, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, 2, 3, 0 }), 5, 0);
    RENDER(g, dyn, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, .1, 2, 30, 400 }), 5, 1.5e-4); // 400 has float32 ulp 3e-5
    // a PE gain in dB converts in float32 as numpy does: powf(10, g/20) per frame
    CHECK(out[1] == 1.0f * powf(10.0f, -20.0f / 20.0f));
    CHECK(t_extent_is(pg_graph_node_extent(g, dyn), 0, 5));
    pg_graph_free(g);
}

// Frame rate passes through; spread(2) gives 2 channels; a mono PE gain scales every channel;
// a stereo gain scales its own channel; the product rounds as float32 x * (float)g.
static void test_channels(void) {
    pg_graph *g = t_graph(0);
    int fr = ADD(g, "IdentityPE", t_int("frame_rate", 1234));
    int gfr = ADD(g, "GainPE", t_node(NULL, fr), t_num(NULL, 1));
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, gfr), 1234);
    int src = t_add(g, "IdentityPE", NULL, 0);
    int st = ADD(g, "SpreadPE", t_node(NULL, src), t_int(NULL, 2));
    int gst = ADD(g, "GainPE", t_node(NULL, st), t_num(NULL, 1));
    CHECK_EQ_I64(pg_graph_node_channels(g, gst), 2);
    int by_mono = ADD(g, "GainPE", t_node(NULL, st), t_node(NULL, src));
    int arr = ADD(g, "ArrayPE", t_arr(NULL, 2, 3, (double[]){ 1, 2, 3, -1, -2, -3 }));
    int by_stereo = ADD(g, "GainPE", t_node(NULL, st), t_node(NULL, arr));
    float out[10];
    RENDER(g, by_mono, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 1, 4, 9, 16, 0, 1, 4, 9, 16 }), 10, 0);
    RENDER(g, by_stereo, 0, 3, out);
    CHECK_FRAMES(out, ((double[]){ 0, 2, 6, 0, -2, -6 }), 6, 0);
    int c = ADD(g, "ConstPE", t_num(NULL, 0.1));
    int p = ADD(g, "GainPE", t_node(NULL, c), t_num(NULL, 0.3));
    RENDER(g, p, 0, 1, out);
    CHECK(out[0] == (float)0.1 * (float)0.3);
    CHECK(t_block_invariant(g, by_mono, -100, 5000));
    // a chain of constant gains fuses into one weight (0.3 * 0.7 in double): within an ulp or
    // two of the kernels' (x * 0.3f) * 0.7f, for noise below 1
    int noise = t_add(g, "NoisePE", NULL, 0);
    int g1 = ADD(g, "GainPE", t_node(NULL, noise), t_num(NULL, 0.3));
    int g2 = ADD(g, "GainPE", t_node(NULL, g1), t_num(NULL, 0.7));
    CHECK_FUSED(g, g2, 0, 4800, 3e-8);
    int gd = ADD(g, "GainPE", t_node(NULL, st), t_num(NULL, -6), t_str("units", "db"));
    CHECK_FUSED(g, gd, 0, 100, 0);
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    int src = t_add(g, "IdentityPE", NULL, 0);
    CHECK_STATUS(STATUS(g, "GainPE", t_node(NULL, src)), PG_ERR_ARG); // gain is required
    CHECK_STATUS(STATUS(g, "GainPE", t_num(NULL, 1), t_num(NULL, 1)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "GainPE", t_node(NULL, src), t_str(NULL, "loud")), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "GainPE", t_node(NULL, src), t_num(NULL, 1), t_str(NULL, "dB")),
                 PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "GainPE", t_node(NULL, src), t_num(NULL, 1), t_str(NULL, "ratio")),
                 PG_ERR_ARG);
    CHECK_EQ_I64(pg_graph_node_count(g), 1);
    pg_graph_free(g);
    // shape errors: recorded, the node added
    g = t_graph(0);
    src = t_add(g, "IdentityPE", NULL, 0);
    int st = ADD(g, "SpreadPE", t_node(NULL, src), t_int(NULL, 2));
    int s3 = ADD(g, "SpreadPE", t_node(NULL, src), t_int(NULL, 3));
    CHECK_STATUS(STATUS(g, "GainPE", t_node(NULL, src), t_node(NULL, st)), PG_ERR_CHANNELS);
    CHECK_STATUS(STATUS(g, "GainPE", t_node(NULL, st), t_node(NULL, s3)), PG_ERR_CHANNELS);
    int other = ADD(g, "ConstPE", t_num(NULL, 1), t_int(NULL, 44100));
    CHECK_STATUS(STATUS(g, "GainPE", t_node(NULL, src), t_node(NULL, other)), PG_ERR_RATE);
    CHECK_EQ_I64(pg_graph_node_count(g), 7);
    CHECK(strstr(pg_graph_diag(g, 0)->message, "GainPE gain has 2 channels, src_pe has 1"));
    pg_graph_free(g);
}

int main(void) {
    test_pygmu();
    test_db();
    test_channels();
    test_bad_args();
    return check_done();
}
