// test_splice.c: SplicePE(src_pe, up_dur, dn_dur). Envelope over E(src) = [S, E):
// g(t) = min(1, (t - S)/up, (E - t)/dn), applied in float32. Numbers from pygmu's
// test_splice_pe.py where pygmu is right, closed forms for the QUIRK fixes (Q50, Q51).
#include <math.h>
#include <stdlib.h>

#include "check.h"

static int cnst(pg_graph *g, double v) {
    pg_arg a[] = { t_num(NULL, v) };
    return t_add(g, "ConstPE", a, 1);
}

static int crop(pg_graph *g, int src, pg_frame s, pg_frame e) {
    pg_arg a[] = { t_node(NULL, src), t_ext(NULL, s, e) };
    return t_add(g, "CropPE", a, 2);
}

static int splice(pg_graph *g, int src, double up, double dn) {
    pg_arg a[] = { t_node(NULL, src), t_num(NULL, up), t_num(NULL, dn) };
    return t_add(g, "SplicePE", a, 3);
}

// Renders node over [s, s + n) at block 7 and checks every channel against want.
static void expect(pg_graph *g, int node, pg_frame s, int n, const double *want, double tol) {
    int ch = pg_graph_node_channels(g, node);
    float *out = calloc((size_t)(n * ch + 1), sizeof(float));
    CHECK_STATUS(t_render(g, node, s, s + n, 7, out), PG_OK);
    for (int c = 0; c < ch; c++)
        for (int i = 0; i < n; i++)
            CHECK_NEAR(out[c * n + i], want[i], tol);
    free(out);
}

// pygmu: SplicePE(ConstPE(10).crop([0,10)), 4, 5) has gains [0,.25,.5,.75,1,1,.8,.6,.4,.2]
// (up: t/4; down from td0 = 5: (10 - t)/5). Every window of pygmu's test, 10 frames each.
static void test_pygmu_normal(void) {
    static const double gain[10] = { 0, .25, .5, .75, 1, 1, .8, .6, .4, .2 };
    pg_graph *g = t_graph(0);
    int s = splice(g, crop(g, cnst(g, 10), 0, 10), 4, 5);
    CHECK_EQ_I64(pg_graph_node_extent(g, s).start, 0);
    CHECK_EQ_I64(pg_graph_node_extent(g, s).end, 10);
    CHECK_EQ_I64(pg_graph_node_channels(g, s), 1);
    for (int w0 = -10; w0 <= 10; w0 += 2) {
        double want[10];
        for (int i = 0; i < 10; i++) {
            int t = w0 + i;
            want[i] = t >= 0 && t < 10 ? 10 * gain[t] : 0;
        }
        expect(g, s, w0, 10, want, 2e-6);
    }
    static const double flat[] = { 10, 10 }; // pygmu's flat path, [4, 6)
    expect(g, s, 4, 2, flat, 0);
    static const double w[] = { 0, 0, 0, 2.5, 5, 7.5, 10, 10, 8, 6 }; // [-2, 8)
    expect(g, s, -2, 10, w, 2e-6);
    CHECK(t_block_invariant(g, s, -12, 23));
    pg_graph_free(g);
}

// pygmu's overlap case: source [0,6), up 4, down 5. The ramps t/4 and (6 - t)/5 cross at
// t* = 24/9 = 2.667, so min() gives [0, .25, .5, .6, .4, .2]: pygmu's values too (its t' is
// the integer 3 here, where the two constructions agree).
static void test_pygmu_overlap(void) {
    pg_graph *g = t_graph(0);
    int s = splice(g, crop(g, cnst(g, 10), 0, 6), 4, 5);
    static const double w0[] = { 0, 0, 0, 0, 0, 0, 0, 2.5, 5, 6 }; // [-6, 4)
    static const double w1[] = { 0, 2.5, 5, 6, 4, 2, 0, 0, 0, 0 }; // [0, 10)
    static const double w2[10] = { 0 };                            // [6, 16)
    expect(g, s, -6, 10, w0, 2e-6);
    expect(g, s, 0, 10, w1, 2e-6);
    expect(g, s, 6, 10, w2, 0);
    CHECK(t_block_invariant(g, s, -6, 16));
    pg_graph_free(g);
}

// QUIRK Q50: source [0,10), up 8, down 6. Up t/8, down (10 - t)/6 cross at
// t* = (8*10 - 0*4)/(8 - 0 + 10 - 4) = 80/14 = 5.714. min(): t = 6 -> 4/6, t = 7 -> 3/6.
// pygmu's t' = 80/(8 + 10 - 8) = 8 would keep the up ramp to .875 at t = 7 and then jump
// to 1/3: an envelope above the fade-out.
static void test_q50_true_crossing(void) {
    pg_graph *g = t_graph(0);
    int s = splice(g, crop(g, cnst(g, 1), 0, 10), 8, 6);
    double want[10];
    for (int t = 0; t < 10; t++)
        want[t] = fmin(t / 8.0, (10 - t) / 6.0);
    CHECK_NEAR(want[6], 4.0 / 6.0, 1e-12);
    CHECK_NEAR(want[7], 0.5, 1e-12);
    expect(g, s, 0, 10, want, 1e-7);
    CHECK(t_block_invariant(g, s, -3, 13));
    pg_graph_free(g);
}

// QUIRK Q51: every channel gets the same envelope. pygmu scrambled stereo 10-frame splices
// (up 4, down 4) into [0,0,.25,.25,1,...]; both rows must be [0,.25,.5,.75,1,1,1,.75,.5,.25].
static void test_q51_stereo(void) {
    pg_graph *g = t_graph(0);
    pg_arg sp[] = { t_node(NULL, crop(g, cnst(g, 1), 0, 10)), t_int(NULL, 2) };
    int st = t_add(g, "SpreadPE", sp, 2);
    int s = splice(g, st, 4, 4);
    CHECK_EQ_I64(pg_graph_node_channels(g, s), 2);
    static const double want[] = { 0, .25, .5, .75, 1, 1, 1, .75, .5, .25 };
    expect(g, s, 0, 10, want, 1e-7);
    // distinct rows 1 and -2 (ArrayPE 2 x 10) keep their own values under one envelope
    double rows[20];
    for (int i = 0; i < 10; i++) {
        rows[i] = 1;
        rows[10 + i] = -2;
    }
    pg_arg aa[] = { t_arr(NULL, 2, 10, rows) };
    int s2 = splice(g, t_add(g, "ArrayPE", aa, 1), 4, 4);
    float out[20];
    CHECK_STATUS(t_render(g, s2, 0, 10, 3, out), PG_OK);
    for (int i = 0; i < 10; i++) {
        CHECK_NEAR(out[i], want[i], 1e-7);
        CHECK_NEAR(out[10 + i], -2 * want[i], 1e-7);
    }
    CHECK(t_block_invariant(g, s2, -2, 12));
    pg_graph_free(g);
}

// Absolute time: a source on [100, 110) ramps from its own start; fractional and zero
// durations; fades that cover the whole source.
static void test_closed_forms(void) {
    pg_graph *g = t_graph(0);
    int src = crop(g, cnst(g, 1), 100, 110);
    int a = splice(g, src, 4, 0);
    static const double wa[] = { 0, 0, 0, .25, .5, .75, 1, 1, 1, 1, 1, 1, 0 }; // [98, 111)
    expect(g, a, 98, 13, wa, 1e-7);
    int b = splice(g, src, 2.5, 0); // up (t - 100)/2.5: 0, .4, .8, 1
    static const double wb[] = { 0, .4, .8, 1, 1 };
    expect(g, b, 100, 5, wb, 1e-7);
    int c = splice(g, src, 0, 0); // no fades: the source unchanged
    static const double wc[] = { 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 };
    expect(g, c, 99, 12, wc, 0);
    int d = splice(g, src, 0, 10); // down (110 - t)/10 over the whole source
    double wd[10];
    for (int i = 0; i < 10; i++)
        wd[i] = (10 - i) / 10.0;
    expect(g, d, 100, 10, wd, 1e-7);
    int e = splice(g, src, 20, 20); // both longer than the source: min(t/20, (10-t)/20)
    double we[10];
    for (int i = 0; i < 10; i++)
        we[i] = fmin(i / 20.0, (10 - i) / 20.0);
    expect(g, e, 100, 10, we, 1e-7);
    // a long sine with block-straddling ramps
    pg_arg sa[] = { t_num(NULL, 440) };
    int sn = splice(g, crop(g, t_add(g, "SinPE", sa, 1), 0, 20000), 3000, 5000);
    CHECK(t_block_invariant(g, sn, -100, 20100));
    pg_graph_free(g);
}

static void test_extents_and_errors(void) {
    pg_graph *g = t_graph(0);
    int k = cnst(g, 1);
    pg_arg inf[] = { t_node(NULL, k), t_num(NULL, 4) };
    CHECK_STATUS(t_add_status(g, "SplicePE", inf, 2), PG_ERR_EXTENT);
    int half[2];
    pg_extent halves[2] = { { PG_FRAME_MIN, 10 }, { 0, PG_FRAME_MAX } };
    for (int i = 0; i < 2; i++) {
        half[i] = crop(g, k, halves[i].start, halves[i].end);
        pg_arg a[] = { t_node(NULL, half[i]) };
        CHECK_STATUS(t_add_status(g, "SplicePE", a, 1), PG_ERR_EXTENT);
    }
    int src = crop(g, k, 0, 10);
    pg_arg neg_up[] = { t_node(NULL, src), t_num(NULL, -1) };
    CHECK_STATUS(t_add_status(g, "SplicePE", neg_up, 2), PG_ERR_ARG);
    pg_arg neg_dn[] = { t_node(NULL, src), t_num("dn_dur", -0.5) };
    CHECK_STATUS(t_add_status(g, "SplicePE", neg_dn, 2), PG_ERR_ARG);
    pg_arg str[] = { t_node(NULL, src), t_str("up_dur", "4") };
    CHECK_STATUS(t_add_status(g, "SplicePE", str, 2), PG_ERR_ARG);
    pg_arg ints[] = { t_node(NULL, src), t_int("up_dur", 4), t_int("dn_dur", 5) };
    CHECK_STATUS(t_add_status(g, "SplicePE", ints, 3), PG_OK);
    // an empty source: an empty, finite extent, silence
    int e2 = splice(g, crop(g, src, 20, 30), 3, 3);
    CHECK(e2 >= 0);
    CHECK_EQ_I64(pg_graph_node_extent(g, e2).start, 0);
    CHECK_EQ_I64(pg_graph_node_extent(g, e2).end, 0);
    static const double zeros[5] = { 0 };
    expect(g, e2, 0, 5, zeros, 0);
    // frame rate passes through
    pg_arg r[] = { t_num(NULL, 1), t_int("frame_rate", 1234) };
    int k2 = crop(g, t_add(g, "ConstPE", r, 2), 0, 4);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, splice(g, k2, 1, 1)), 1234);
    pg_graph_free(g);
}

// A stateful source under the envelope.
static void test_stateful_source(void) {
    pg_graph *g = t_graph(0);
    pg_arg a[] = { t_num(NULL, 440.0) };
    int s = crop(g, t_add(g, "BlitSawPE", a, 1), 100, 9000);
    CHECK(t_block_invariant(g, splice(g, s, 1000, 3000), 0, 9100));
    pg_graph_free(g);
}

// The envelope fused into the linear tree around it (issue 4: crop and splice envelopes):
// each leaf is scaled by its path's envelope as it is added. A spliced constant under a gain
// of 2 in a mix is 2 g(t); a splice of a splice is the product of both envelopes; a mix of
// spliced sines (one spread to stereo, one shifted) is the -O0 render exactly (the same
// float products and sums) and the same at every block size.
static void test_fused(void) {
    pg_graph *g = t_graph(0);
    int one = crop(g, cnst(g, 1), 100, 110);
    pg_arg ma[] = { t_node(NULL, t_gain(g, splice(g, one, 4, 5), 2.0)) };
    int m1 = t_add(g, "MixPE", ma, 1);
    int total;
    CHECK_EQ_I64(t_fused_count(g, m1, "SplicePE", &total), 1);
    double w1[12], w2[12];
    for (int i = 0; i < 12; i++) {
        double t = 99 + i, in = t >= 100 && t < 110;
        w1[i] = in * 2.0 * fmin(1.0, fmin((t - 100) / 4, (110 - t) / 5));
        w2[i] = in * fmin(1.0, (t - 100) / 4) * fmin(1.0, (110 - t) / 5);
    }
    expect(g, m1, 99, 12, w1, 1e-7);
    int nested = t_gain(g, splice(g, splice(g, one, 4, 0), 0, 5), 1.0);
    CHECK_EQ_I64(t_fused_count(g, nested, "SplicePE", &total), 2);
    expect(g, nested, 99, 12, w2, 1e-7);
    pg_arg sa[] = { t_num(NULL, 440) }, sb[] = { t_num(NULL, 660) };
    int s1 = splice(g, crop(g, t_add(g, "SinPE", sa, 1), 0, 9000), 3000, 5000);
    int s2 = splice(g, crop(g, t_add(g, "SinPE", sb, 1), 4000, 6000), 100, 1999);
    int s3 = splice(g, crop(g, t_add(g, "SinPE", sb, 1), 0, 3000), 700, 700);
    pg_arg sp[] = { t_node(NULL, s2), t_int(NULL, 2) },
           sh[] = { t_node(NULL, s3), t_int(NULL, 500) };
    pg_arg mb[] = { t_node(NULL, t_add(g, "SpreadPE", sp, 2)),
                    t_node(NULL, t_add(g, "TimeShiftPE", sh, 2)), t_node(NULL, s1) };
    int m2 = t_add(g, "MixPE", mb, 3);
    CHECK_EQ_I64(t_fused_count(g, m2, "SplicePE", &total), 3);
    CHECK_FUSED(g, m2, -100, 9700, 0);
    CHECK(t_block_invariant(g, m2, -100, 9700));
    pg_graph_free(g);
}

int main(void) {
    test_pygmu_normal();
    test_pygmu_overlap();
    test_q50_true_crossing();
    test_q51_stereo();
    test_closed_forms();
    test_extents_and_errors();
    test_stateful_source();
    test_fused();
    return check_done();
}
