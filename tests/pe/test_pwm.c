// test_pwm.c: PwmPE(period, duty_cycle, frame_rate=None): out(t) = 1 when (t mod P) < duty P,
// t the absolute frame, floor-mod; numbers or mono PEs; a PE period is clamped to >= 1.
// Expectations: pygmu's test_pwm_pe.py table, its verified fractional-period case, QUIRK Q43.
#include <stdlib.h>

#include "check.h"

static int konst(pg_graph *g, double v) {
    pg_arg a[] = { t_num(NULL, v) };
    return t_add(g, "ConstPE", a, 1);
}

// Renders [s, s + n) at block 5 and compares with want (0/1 values).
static void expect(pg_graph *g, int node, pg_frame s, int n, const int *want) {
    float out[64];
    CHECK_STATUS(t_render(g, node, s, s + n, 5, out), PG_OK);
    for (int i = 0; i < n; i++)
        CHECK_NEAR(out[i], want[i], 0);
}

static void test_pygmu_table(void) {
    pg_graph *g = t_graph(0);
    static const int p10d1[] = { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
    static const int p10d2[] = { 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1 };
    static const int p10d5[] = { 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1 };
    static const int p10d9[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1 };
    static const int p4d5[] = { 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0 };
    static const int p4d25[] = { 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0 };
    static const int ones[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };
    struct {
        double p, d;
        const int *want;
    } cases[] = { { 10, .1, p10d1 }, { 10, .2, p10d2 }, { 10, .5, p10d5 },
                  { 10, .9, p10d9 }, { 4, .5, p4d5 },   { 4, .25, p4d25 } };
    for (int k = 0; k < 6; k++) {
        pg_arg a[] = { t_num(NULL, cases[k].p), t_num(NULL, cases[k].d) };
        expect(g, t_add(g, "PwmPE", a, 2), 0, 12, cases[k].want);
    }
    pg_arg dyn_duty[] = { t_num("period", 10), t_node("duty_cycle", konst(g, .5)) };
    expect(g, t_add(g, "PwmPE", dyn_duty, 2), 0, 12, p10d5);
    // "Period is forced to min(period, 1.0)": ConstPE(0) becomes 1, duty 1 is all ones
    pg_arg dyn_period[] = { t_node("period", konst(g, 0)), t_num("duty_cycle", 1.0) };
    int clamped = t_add(g, "PwmPE", dyn_period, 2);
    expect(g, clamped, 0, 12, ones);
    // a fractional period over negative time (verified in pygmu): P 2.5, duty .5, [-3, 7)
    static const int frac[] = { 0, 1, 0, 1, 1, 0, 1, 0, 1, 1 };
    pg_arg f[] = { t_num(NULL, 2.5), t_num(NULL, .5) };
    expect(g, t_add(g, "PwmPE", f, 2), -3, 10, frac);
    // a PE period, a PE duty: both read at the frame
    pg_arg both[] = { t_node(NULL, konst(g, 4)), t_node(NULL, konst(g, .25)) };
    expect(g, t_add(g, "PwmPE", both, 2), 0, 12, p4d25);
    pg_graph_free(g);
}

static void test_shape(void) {
    pg_graph *g = t_graph(0);
    pg_arg a[] = { t_num(NULL, 4), t_num(NULL, .5) };
    int p = t_add(g, "PwmPE", a, 2);
    CHECK_EQ_I64(pg_graph_node_extent(g, p).start, PG_FRAME_MIN);
    CHECK_EQ_I64(pg_graph_node_extent(g, p).end, PG_FRAME_MAX);
    CHECK_EQ_I64(pg_graph_node_channels(g, p), 1);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, p), 48000);
    pg_arg r[] = { t_num(NULL, 4), t_num(NULL, .5), t_int("frame_rate", 1234) };
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, t_add(g, "PwmPE", r, 3)), 1234);
    // no frame_rate given: a PE argument's rate
    pg_arg k[] = { t_num(NULL, 8), t_int("frame_rate", 1000) };
    pg_arg kp[] = { t_node(NULL, t_add(g, "ConstPE", k, 2)), t_num(NULL, .5) };
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, t_add(g, "PwmPE", kp, 2)), 1000);
    // a cropped (finite) PwmPE: first and last frames of its extent, silence around
    pg_arg c[] = { t_node(NULL, p), t_ext(NULL, 3, 9) };
    static const int cropped[] = { 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0 }; // t = -1 .. 10
    expect(g, t_add(g, "CropPE", c, 2), -1, 12, cropped);
    pg_arg e[] = { t_node(NULL, p), t_ext(NULL, 3, 3) };
    CHECK(pg_extent_is_empty(pg_graph_node_extent(g, t_add(g, "CropPE", e, 2))));
    // stereo: spread after the fact, both channels equal
    pg_arg s[] = { t_node(NULL, p), t_int(NULL, 2) };
    int st = t_add(g, "SpreadPE", s, 2);
    float out[16];
    CHECK_STATUS(t_render(g, st, 0, 8, 3, out), PG_OK);
    for (int i = 0; i < 8; i++)
        CHECK_NEAR(out[i], out[8 + i], 0);
    pg_graph_free(g);
}

// QUIRK Q43: pygmu clamps its period source's own buffer, changing an ArrayPE for good. Here
// the array read again by a mix still has its 0.5s.
static void test_q43(void) {
    pg_graph *g = t_graph(0);
    double half[8] = { .5, .5, .5, .5, .5, .5, .5, .5 };
    pg_arg a[] = { t_arr(NULL, 1, 8, half) };
    int arr = t_add(g, "ArrayPE", a, 1);
    pg_arg p[] = { t_node(NULL, arr), t_num(NULL, 1.0) };
    int pwm = t_add(g, "PwmPE", p, 2);
    pg_arg m[] = { t_node(NULL, pwm), t_node(NULL, arr) };
    int mix = t_add(g, "MixPE", m, 2);
    float out[8];
    CHECK_STATUS(t_render(g, mix, 0, 8, 8, out), PG_OK);
    for (int i = 0; i < 8; i++)
        CHECK_NEAR(out[i], 1.5, 0); // pwm 1 (period clamped to 1, duty 1) + the array's 0.5
    pg_graph_free(g);
}

// pygmu's pwm_example: ramps for period and duty; any window, any block size.
static void test_blocks(void) {
    pg_graph *g = t_graph(0);
    pg_arg r1[] = { t_num(NULL, 48000.0 / 40), t_num(NULL, 48000.0 / 10), t_ext(NULL, 0, 48000) };
    pg_arg r2[] = { t_num(NULL, 0.1), t_num(NULL, 1.0), t_ext(NULL, 0, 48000) };
    pg_arg p[] = { t_node(NULL, t_add(g, "RampPE", r1, 3)),
                   t_node(NULL, t_add(g, "RampPE", r2, 3)) };
    int pwm = t_add(g, "PwmPE", p, 2);
    CHECK(t_block_invariant(g, pwm, -100, 48100));
    pg_arg s[] = { t_num(NULL, 33.3), t_num(NULL, 0.3) };
    CHECK(t_block_invariant(g, t_add(g, "PwmPE", s, 2), -5000, 5000));
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    int two = konst(g, 10);
    pg_arg sp[] = { t_node(NULL, two), t_int(NULL, 2) };
    int stereo = t_add(g, "SpreadPE", sp, 2);
    pg_arg bad_p[] = { t_node(NULL, stereo), t_num(NULL, .5) };
    CHECK_STATUS(t_add_status(g, "PwmPE", bad_p, 2), PG_ERR_CHANNELS);
    pg_arg bad_d[] = { t_num(NULL, 10), t_node(NULL, stereo) };
    CHECK_STATUS(t_add_status(g, "PwmPE", bad_d, 2), PG_ERR_CHANNELS);
    pg_arg k[] = { t_num(NULL, 8), t_int("frame_rate", 1000) };
    pg_arg rate[] = { t_node(NULL, t_add(g, "ConstPE", k, 2)), t_num(NULL, .5),
                      t_int("frame_rate", 48000) };
    CHECK_STATUS(t_add_status(g, "PwmPE", rate, 3), PG_ERR_RATE);
    pg_arg zero[] = { t_num(NULL, 0), t_num(NULL, .5) };
    CHECK_STATUS(t_add_status(g, "PwmPE", zero, 2), PG_ERR_ARG);
    pg_arg neg[] = { t_num(NULL, -4), t_num(NULL, .5) };
    CHECK_STATUS(t_add_status(g, "PwmPE", neg, 2), PG_ERR_ARG);
    pg_arg inf[] = { t_num(NULL, INFINITY), t_num(NULL, .5) };
    CHECK_STATUS(t_add_status(g, "PwmPE", inf, 2), PG_ERR_ARG);
    pg_arg nan_d[] = { t_num(NULL, 4), t_num(NULL, NAN) };
    CHECK_STATUS(t_add_status(g, "PwmPE", nan_d, 2), PG_ERR_ARG);
    pg_arg one[] = { t_num(NULL, 4) };
    CHECK_STATUS(t_add_status(g, "PwmPE", one, 1), PG_ERR_ARG);
    pg_arg str[] = { t_str(NULL, "4"), t_num(NULL, .5) };
    CHECK_STATUS(t_add_status(g, "PwmPE", str, 2), PG_ERR_ARG);
    pg_graph_free(g);
}

int main(void) {
    test_pygmu_table();
    test_shape();
    test_q43();
    test_blocks();
    test_bad_args();
    return check_done();
}
