// test_mix.c: MixPE(*pes). pygmu's test_mix_pe.py is a stub, so the expectations are closed
// forms: the sum of two ramps, RampPE(0, 10, [0, 10)) + RampPE(100, 0, [5, 15)), is t for
// t < 5, t + 100 - 10(t - 5) on [5, 10) and 100 - 10(t - 5) on [10, 15); the extent is the
// union of the non-empty input extents (QUIRK Q1); a mono input is added to every channel;
// the sum is float32 in input order (1e8 + 1 - 1e8 = 0 in float32); MixPE() is empty,
// mono, at the default rate (QUIRK Q37).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void test_two_ramps(void) {
    pg_graph *g = t_graph(0);
    int a = ADD(g, "RampPE", t_num(NULL, 0), t_num(NULL, 10), t_ext(NULL, 0, 10));
    int b = ADD(g, "RampPE", t_num(NULL, 100), t_num(NULL, 0), t_ext(NULL, 5, 15));
    int m = ADD(g, "MixPE", t_node(NULL, a), t_node(NULL, b));
    CHECK(t_extent_is(pg_graph_node_extent(g, m), 0, 15));
    CHECK_EQ_I64(pg_graph_node_channels(g, m), 1);
    float out[20];
    double want[20];
    RENDER(g, m, -2, 20, out);
    for (int i = 0; i < 20; i++) {
        int t = i - 2;
        want[i] = t < 0 || t >= 15 ? 0
                  : t < 5          ? t
                  : t < 10         ? t + 100 - 10 * (t - 5)
                                   : 100 - 10 * (t - 5);
    }
    CHECK_FRAMES(out, want, 20, 0);
    CHECK(t_block_invariant(g, m, -100, 100));
    pg_graph_free(g);
}

// Q1: an input with an empty extent (ArrayPE([]) is [0, 0)) does not stretch the mix to 0.
// Disjoint inputs leave a silent gap inside the union.
static void test_extents(void) {
    pg_graph *g = t_graph(0);
    int a = ADD(g, "RampPE", t_num(NULL, 1), t_num(NULL, 1), t_ext(NULL, 10, 20));
    int e = ADD(g, "ArrayPE", t_arr(NULL, 0, 0, NULL));
    int b = ADD(g, "RampPE", t_num(NULL, 2), t_num(NULL, 2), t_ext(NULL, 30, 40));
    int m = ADD(g, "MixPE", t_node(NULL, a), t_node(NULL, e), t_node(NULL, b));
    CHECK(t_extent_is(pg_graph_node_extent(g, m), 10, 40));
    int c = ADD(g, "ConstPE", t_num(NULL, 0.5));
    int inf = ADD(g, "MixPE", t_node(NULL, a), t_node(NULL, c));
    CHECK(t_extent_is(pg_graph_node_extent(g, inf), PG_FRAME_MIN, PG_FRAME_MAX));
    float out[40];
    double want[40];
    RENDER(g, m, 0, 40, out);
    for (int t = 0; t < 40; t++)
        want[t] = t >= 10 && t < 20 ? 1 : t >= 30 ? 2 : 0;
    CHECK_FRAMES(out, want, 40, 0);
    CHECK(t_block_invariant(g, m, 0, 50));
    pg_graph_free(g);
}

// A mono input fits a stereo mix (added to both channels); a stereo first input and a mono
// second give the same as the other order; the sum keeps input order in float32.
static void test_channels_and_order(void) {
    pg_graph *g = t_graph(0);
    int st = ADD(g, "ArrayPE", t_arr(NULL, 2, 3, (double[]){ 1, 2, 3, 10, 20, 30 }));
    int mono = ADD(g, "ArrayPE", t_arr(NULL, 1, 3, (double[]){ 100, 200, 300 }));
    int m1 = ADD(g, "MixPE", t_node(NULL, mono), t_node(NULL, st));
    int m2 = ADD(g, "MixPE", t_node(NULL, st), t_node(NULL, mono));
    CHECK_EQ_I64(pg_graph_node_channels(g, m1), 2);
    CHECK_EQ_I64(pg_graph_node_channels(g, m2), 2);
    float out[6];
    for (int k = 0; k < 2; k++) {
        RENDER(g, k ? m2 : m1, 0, 3, out);
        CHECK_FRAMES(out, ((double[]){ 101, 202, 303, 110, 220, 330 }), 6, 0);
    }
    int big = ADD(g, "ConstPE", t_num(NULL, 1e8));
    int one = ADD(g, "ConstPE", t_num(NULL, 1));
    int neg = ADD(g, "ConstPE", t_num(NULL, -1e8));
    int ordered = ADD(g, "MixPE", t_node(NULL, big), t_node(NULL, one), t_node(NULL, neg));
    int other = ADD(g, "MixPE", t_node(NULL, big), t_node(NULL, neg), t_node(NULL, one));
    RENDER(g, ordered, 0, 1, out);
    CHECK(out[0] == 0.0f); // 1e8 + 1 rounds to 1e8 in float32 (spacing 8)
    RENDER(g, other, 0, 1, out);
    CHECK(out[0] == 1.0f);
    CHECK(t_block_invariant(g, m1, -5, 10));
    CHECK_FUSED(g, m1, -2, 6, 0);
    pg_graph_free(g);
}

// design.md's fusion example, mix(a.gain(.2), b.mono().gain(.3), c): the fused plan agrees
// with the kernels within float32 rounding (values below 2, so 1e-6 is a few ulps).
static void test_fused(void) {
    pg_graph *g = t_graph(0);
    int a = ADD(g, "SinPE", t_num(NULL, 440));
    int ag = ADD(g, "GainPE", t_node(NULL, a), t_num(NULL, 0.2));
    int n = t_add(g, "NoisePE", NULL, 0);
    int b = ADD(g, "SpreadPE", t_node(NULL, n), t_int(NULL, 2));
    int bm = ADD(g, "MonoPE", t_node(NULL, b));
    int bg = ADD(g, "GainPE", t_node(NULL, bm), t_num(NULL, 0.3));
    int s = ADD(g, "SinPE", t_num(NULL, 1000), t_num(NULL, 0.5));
    int c = ADD(g, "StereoPE", t_node(NULL, s));
    int m = ADD(g, "MixPE", t_node(NULL, ag), t_node(NULL, bg), t_node(NULL, c));
    CHECK_EQ_I64(pg_graph_node_channels(g, m), 2);
    CHECK_FUSED(g, m, -3000, 9000, 1e-6);
    CHECK(t_block_invariant(g, m, -3000, 3000));
    pg_graph_free(g);
}

// Sparse scheduling: -O1 adds only the inputs that sound in a block; -O0 (the naive plan)
// reads every input for every block, as pygmu's MixPE does, and counts the blocks that
// were silent. Ramps on [0, 100), [300, 400) and [500, 600) in blocks of 64 over [0, 640):
// 10 blocks of 3 inputs, of which the ramps overlap 2, 3 and 3, so 30 - 8 = 22 silent
// reads; the samples are the same bits either way.
static void test_sparse(void) {
    pg_graph *g = t_graph(0);
    int a = ADD(g, "RampPE", t_num(NULL, 1), t_num(NULL, 2), t_ext(NULL, 0, 100));
    int b = ADD(g, "RampPE", t_num(NULL, -1), t_num(NULL, 3), t_ext(NULL, 300, 400));
    int c = ADD(g, "RampPE", t_num(NULL, 0.5), t_num(NULL, 0.25), t_ext(NULL, 500, 600));
    int m = ADD(g, "MixPE", t_node(NULL, a), t_node(NULL, b), t_node(NULL, c));
    float o0[640], o1[640];
    pg_render_stats st0, st1;
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.block_frames = 64;
    o.cache_dir = "";
    o.has_end = true;
    o.end = 640;
    o.opt_level = 0;
    CHECK_STATUS(t_render_plan(g, m, &o, 640, o0, &st0, NULL), PG_OK);
    o.opt_level = 1;
    CHECK_STATUS(t_render_plan(g, m, &o, 640, o1, &st1, NULL), PG_OK);
    CHECK_EQ_I64(st0.silent_reads, 22);
    CHECK_EQ_I64(st1.silent_reads, 0);
    CHECK(memcmp(o0, o1, sizeof o0) == 0);
    CHECK(o0[0] == 1.0f && fabsf(o0[99] - 1.99f) < 1e-6f && o0[100] == 0.0f);
    CHECK(o0[300] == -1.0f && fabsf(o0[599] - 0.2525f) < 1e-6f && o0[600] == 0.0f);
    pg_graph_free(g);
}

static void test_empty_and_single(void) {
    pg_graph *g = t_graph(44100);
    int m = t_add(g, "MixPE", NULL, 0);
    CHECK(pg_extent_is_empty(pg_graph_node_extent(g, m)));
    CHECK_EQ_I64(pg_graph_node_channels(g, m), 1);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, m), 44100);
    float out[4] = { 1, 1, 1, 1 };
    RENDER(g, m, 0, 4, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, 0, 0 }), 4, 0);
    int id = ADD(g, "IdentityPE", t_int("frame_rate", 1234));
    int single = ADD(g, "MixPE", t_node(NULL, id));
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, single), 1234);
    RENDER(g, single, 7, 3, out);
    CHECK_FRAMES(out, ((double[]){ 7, 8, 9 }), 3, 0);
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    int c = ADD(g, "ConstPE", t_num(NULL, 1));
    CHECK_STATUS(STATUS(g, "MixPE", t_node(NULL, c), t_num(NULL, 2)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "MixPE", t_node("pes", c)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "MixPE", t_node(NULL, 99)), PG_ERR_ARG);
    CHECK_EQ_I64(pg_graph_node_count(g), 1);
    pg_graph_free(g);
    // design.md's example: input 2 has 3 channels, input 1 has 2 (a mono input 3 fits)
    g = t_graph(0);
    c = ADD(g, "ConstPE", t_num(NULL, 1));
    int s2 = ADD(g, "SpreadPE", t_node(NULL, c), t_int(NULL, 2));
    int s3 = ADD(g, "SpreadPE", t_node(NULL, c), t_int(NULL, 3));
    CHECK_STATUS(STATUS(g, "MixPE", t_node(NULL, s2), t_node(NULL, s3), t_node(NULL, c)),
                 PG_ERR_CHANNELS);
    CHECK(strstr(pg_graph_diag(g, 0)->message,
                 "channel count mismatch: MixPE input 2 has 3 channels, input 1 has 2"));
    CHECK_STATUS(STATUS(g, "MixPE", t_node(NULL, c), t_node(NULL, s3), t_node(NULL, s2)),
                 PG_ERR_CHANNELS);
    CHECK(strstr(pg_graph_diag(g, 1)->message, "MixPE input 3 has 2 channels, input 2 has 3"));
    int r44 = ADD(g, "ConstPE", t_num(NULL, 1), t_int(NULL, 44100));
    CHECK_STATUS(STATUS(g, "MixPE", t_node(NULL, c), t_node(NULL, r44)), PG_ERR_RATE);
    CHECK(strstr(pg_graph_diag(g, 2)->message,
                 "frame rate mismatch: MixPE input 2 is 44100 Hz, input 1 is 48000 Hz"));
    CHECK_EQ_I64(pg_graph_node_count(g), 7);
    pg_graph_free(g);
}

int main(void) {
    test_two_ramps();
    test_extents();
    test_channels_and_order();
    test_fused();
    test_sparse();
    test_empty_and_single();
    test_bad_args();
    return check_done();
}
