// test_time_shift.c: TimeShiftPE(src_pe, delay). out(t) = x(t - d): exact for an integral
// delay, else x at tau = t - d interpolated between floor(tau) and floor(tau) + 1 as
// np.interp does. Numbers from pygmu's test_timem_shift_pe.py, plus closed forms for the
// extents ([S + floor(d), E + ceil(d)), QUIRK Q53) and PE-driven delays.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define INF_S PG_FRAME_MIN
#define INF_E PG_FRAME_MAX

static int crop(pg_graph *g, int src, pg_frame s, pg_frame e) {
    pg_arg a[] = { t_node(NULL, src), t_ext(NULL, s, e) };
    return t_add(g, "CropPE", a, 2);
}

static int spread(pg_graph *g, int src, int ch) {
    pg_arg a[] = { t_node(NULL, src), t_int(NULL, ch) };
    return t_add(g, "SpreadPE", a, 2);
}

static int array(pg_graph *g, int rows, int cols, const double *data) {
    pg_arg a[] = { t_arr(NULL, rows, cols, data) };
    return t_add(g, "ArrayPE", a, 1);
}

static int cnst(pg_graph *g, double v) {
    pg_arg a[] = { t_num(NULL, v) };
    return t_add(g, "ConstPE", a, 1);
}

static int shift_num(pg_graph *g, int src, double d) {
    pg_arg a[] = { t_node(NULL, src), t_num(NULL, d) };
    return t_add(g, "TimeShiftPE", a, 2);
}

static int shift_int(pg_graph *g, int src, int64_t d) {
    pg_arg a[] = { t_node(NULL, src), t_int(NULL, d) };
    return t_add(g, "TimeShiftPE", a, 2);
}

static int shift_pe(pg_graph *g, int src, int delay) {
    pg_arg a[] = { t_node(NULL, src), t_node("delay", delay) };
    return t_add(g, "TimeShiftPE", a, 2);
}

static void expect(pg_graph *g, int node, pg_frame s, int n, const double *want, double tol) {
    int ch = pg_graph_node_channels(g, node);
    float *out = calloc((size_t)(n * ch + 1), sizeof(float));
    CHECK_STATUS(t_render(g, node, s, s + n, 7, out), PG_OK);
    for (int c = 0; c < ch; c++)
        for (int i = 0; i < n; i++)
            CHECK_NEAR(out[c * n + i], want[c * n + i], tol);
    free(out);
}

// pygmu's init tests: delay 0 keeps a finite extent and the channel count; a PE delay makes
// it indefinite; a stereo PE delay is a channel error.
static void test_pygmu_init(void) {
    pg_graph *g = t_graph(0);
    pg_arg ra[] = { t_num(NULL, 0), t_num(NULL, 10), t_ext(NULL, 0, 10) };
    int ramp = crop(g, t_add(g, "RampPE", ra, 3), 0, 10);
    int m = shift_int(g, ramp, 0), s = shift_int(g, spread(g, ramp, 2), 0);
    CHECK_EXTENT(g, m, 0, 10);
    CHECK_EQ_I64(pg_graph_node_channels(g, m), 1);
    CHECK_EQ_I64(pg_graph_node_channels(g, s), 2);
    CHECK_EXTENT(g, shift_pe(g, ramp, cnst(g, 0)), INF_S, INF_E);
    pg_arg bad[] = { t_node(NULL, ramp), t_node(NULL, spread(g, cnst(g, 0), 2)) };
    CHECK_STATUS(t_add_status(g, "TimeShiftPE", bad, 2), PG_ERR_CHANNELS);
    pg_graph_free(g);
}

// pygmu's render tests on ArrayPE([[100, 101, 98, 100]]) over [0, 3).
static void test_pygmu_render(void) {
    pg_graph *g = t_graph(0);
    static const double row[] = { 100, 101, 98, 100 },
                        rows[] = { 100, 101, 98, 100, 200, 201, 198, 200 };
    int a = array(g, 1, 4, row);
    // -0.5: tau = t + .5 -> (100+101)/2, (101+98)/2, (98+100)/2
    static const double h[] = { 100.5, 99.5, 99.0 };
    int d = shift_num(g, a, -0.5);
    expect(g, d, 0, 3, h, 1e-6);
    expect(g, shift_int(g, d, 30), 30, 3, h, 1e-6);
    static const double m1[] = { 101, 98, 100 }, z[] = { 100, 101, 98 };
    expect(g, shift_num(g, a, -1.0), 0, 3, m1, 0);
    expect(g, shift_num(g, a, 0.0), 0, 3, z, 0);
    static const double hs[] = { 100.5, 99.5, 99.0, 200.5, 199.5, 199.0 };
    expect(g, shift_num(g, array(g, 2, 4, rows), -0.5), 0, 3, hs, 1e-6);
    // int 5 on IdentityPE().spread(2): [0, 5) -> -5..-1, [5, 10) -> 0..4 per row
    int id2 = spread(g, t_add(g, "IdentityPE", NULL, 0), 2);
    int i5 = shift_int(g, id2, 5);
    static const double w0[] = { -5, -4, -3, -2, -1, -5, -4, -3, -2, -1 };
    static const double w1[] = { 0, 1, 2, 3, 4, 0, 1, 2, 3, 4 };
    expect(g, i5, 0, 5, w0, 0);
    expect(g, i5, 5, 5, w1, 0);
    // a ConstPE(22.0) delay on IdentityPE (mono and spread(2)) over [10, 20): t - 22
    int id = t_add(g, "IdentityPE", NULL, 0);
    double w22[20];
    for (int i = 0; i < 20; i++)
        w22[i] = 10 + i % 10 - 22;
    expect(g, shift_pe(g, id, cnst(g, 22.0)), 10, 10, w22, 0);
    expect(g, shift_pe(g, id2, cnst(g, 22.0)), 10, 10, w22, 0);
    pg_graph_free(g);
}

// x = [1..10] on [0, 10). d = 2.5: extent [0 + 2, 10 + 3); first frame x(-0.5) = .5*x(0),
// last x(9.5) = .5*x(9). d = -2.5: [-3, 8), the same end values. d = 3.0 (QUIRK Q53): an
// exact shift to [3, 13). An int delay on an infinite bound keeps it infinite.
static void test_extents(void) {
    pg_graph *g = t_graph(0);
    double x[10];
    for (int i = 0; i < 10; i++)
        x[i] = i + 1;
    int a = array(g, 1, 10, x);
    int p = shift_num(g, a, 2.5), n = shift_num(g, a, -2.5), e = shift_num(g, a, 3.0);
    CHECK_EXTENT(g, p, 2, 13);
    CHECK_EXTENT(g, n, -3, 8);
    CHECK_EXTENT(g, e, 3, 13);
    double wp[13]; // [1, 14): x(t - 2.5)
    for (int i = 0; i < 13; i++) {
        double tau = (1 + i) - 2.5, f = floor(tau);
        double x0 = f >= 0 && f < 10 ? x[(int)f] : 0,
               x1 = f + 1 >= 0 && f + 1 < 10 ? x[(int)f + 1] : 0;
        wp[i] = (x1 - x0) * (tau - f) + x0;
    }
    CHECK_NEAR(wp[0], 0.0, 0);  // t = 1 is outside the extent
    CHECK_NEAR(wp[1], 0.5, 0);  // t = 2, the first frame
    CHECK_NEAR(wp[11], 5.0, 0); // t = 12, the last frame
    CHECK_NEAR(wp[12], 0.0, 0); // t = 13
    expect(g, p, 1, 13, wp, 1e-6);
    static const double wn[] = { 0, 0.5, 1.5, 2.5 }; // [-4, 0)
    expect(g, n, -4, 4, wn, 1e-6);
    static const double wn_end[] = { 9.5, 5, 0 }; // [6, 9)
    expect(g, n, 6, 3, wn_end, 1e-6);
    static const double we[] = { 0, 1, 2, 3 }; // [2, 6)
    expect(g, e, 2, 4, we, 0);
    int half = crop(g, t_add(g, "IdentityPE", NULL, 0), 5, INF_E);
    CHECK_EXTENT(g, shift_int(g, half, -7), -2, INF_E);
    CHECK_EXTENT(g, shift_num(g, half, 0.5), 5, INF_E);
    int left = crop(g, t_add(g, "IdentityPE", NULL, 0), INF_S, 5);
    CHECK_EXTENT(g, shift_num(g, left, -1.25), INF_S, 4);
    // an empty source stays empty
    CHECK_EXTENT(g, shift_num(g, crop(g, a, 20, 30), 2.5), 0, 0);
    // IdentityPE shifted by .25: (t - (t-1)) * .75 + (t - 1) = t - .25, for negative t too
    int q = shift_num(g, t_add(g, "IdentityPE", NULL, 0), 0.25);
    CHECK_EXTENT(g, q, INF_S, INF_E);
    double wq[10];
    for (int i = 0; i < 10; i++)
        wq[i] = -5 + i - 0.25;
    expect(g, q, -5, 10, wq, 0);
    pg_graph_free(g);
}

// A PE delay: src [10,20,30,40,50] on [0,5), delay [.5, 1, 1.5, -.25, 3] on [0,5) and 0
// elsewhere (ArrayPE is silent outside its extent).
// t=0: x(-.5) = 5; t=1: x(0) = 10; t=2: x(.5) = 15; t=3: x(3.25) = 42.5; t=4: x(1) = 20.
static void test_pe_delay(void) {
    pg_graph *g = t_graph(0);
    static const double x[] = { 10, 20, 30, 40, 50 }, d[] = { .5, 1, 1.5, -.25, 3 };
    int s = shift_pe(g, array(g, 1, 5, x), array(g, 1, 5, d));
    static const double want[] = { 0, 5, 10, 15, 42.5, 20, 0, 0 }; // [-1, 7)
    expect(g, s, -1, 8, want, 1e-6);
    CHECK(t_block_invariant(g, s, -3, 9));
    // a stereo source under a mono delay
    static const double xs[] = { 10, 20, 30, 40, 50, -1, -2, -3, -4, -5 };
    int s2 = shift_pe(g, array(g, 2, 5, xs), array(g, 1, 5, d));
    static const double w2[] = { 5, 10, 15, 42.5, 20, -.5, -1, -1.5, -4.25, -2 };
    expect(g, s2, 0, 5, w2, 1e-6);
    pg_graph_free(g);
}

// Conformance piece 02's delays on a sine: 7200.375 is tau = (t - 7201) + .625, so
// out(t) = (x(t-7200) - x(t-7201)) * .625 + x(t-7201), from the source's own samples.
static void test_fractional_sine(void) {
    pg_graph *g = t_graph(0);
    pg_arg sa[] = { t_num(NULL, 392.0), t_num("amplitude", 0.3) };
    int src = crop(g, t_add(g, "SinPE", sa, 2), 0, 12000);
    int s = shift_num(g, src, 7200.375);
    CHECK_EXTENT(g, s, 7200, 19201);
    enum {
        N = 12002
    };
    float *x = calloc(N + 2, sizeof(float)), *y = calloc(N, sizeof(float));
    CHECK_STATUS(t_render(g, src, -2, N, 64, x), PG_OK); // x[k] = src(k - 2)
    CHECK_STATUS(t_render(g, s, 7199, 7199 + N, 4096, y), PG_OK);
    int bad = 0;
    for (int i = 0; i < N; i++) {
        int f = 7199 + i - 7201; // floor(tau)
        double x0 = x[f + 2], x1 = x[f + 3];
        double want = (double)(float)((x1 - x0) * 0.625 + x0);
        bad += y[i] != (float)want;
    }
    CHECK_EQ_I64(bad, 0);
    CHECK(t_block_invariant(g, s, 7000, 19500));
    // the PE-driven delay of piece 02: 360 + 120 sin(2 pi .35 t / 48000), on an IdentityPE
    // source, out(t) = t - d(t) to float32 precision at |t| ~ 1e4 (5e-4) plus d's own
    // float32 rounding
    pg_arg w1[] = { t_num(NULL, 0.35), t_num("amplitude", 120.0) };
    pg_arg mix[] = { t_node(NULL, cnst(g, 360.0)), t_node(NULL, t_add(g, "SinPE", w1, 2)) };
    int wob = t_add(g, "MixPE", mix, 2);
    int c = shift_pe(g, t_add(g, "IdentityPE", NULL, 0), wob);
    float out[2000];
    CHECK_STATUS(t_render(g, c, 9000, 11000, 64, out), PG_OK);
    for (int i = 0; i < 2000; i += 97) {
        double t = 9000 + i;
        double dd = 360 + 120 * sin(2 * 3.14159265358979323846 * 0.35 * t / 48000);
        CHECK_NEAR(out[i], t - dd, 2e-3);
    }
    CHECK(t_block_invariant(g, shift_pe(g, src, wob), -100, 13000));
    free(x);
    free(y);
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    int id = t_add(g, "IdentityPE", NULL, 0);
    pg_arg s[] = { t_node(NULL, id), t_str(NULL, "abc") };
    CHECK_STATUS(t_add_status(g, "TimeShiftPE", s, 2), PG_ERR_ARG);
    pg_arg inf[] = { t_node(NULL, id), t_num(NULL, INFINITY) };
    CHECK_STATUS(t_add_status(g, "TimeShiftPE", inf, 2), PG_ERR_ARG);
    pg_arg nan[] = { t_node(NULL, id), t_num(NULL, NAN) };
    CHECK_STATUS(t_add_status(g, "TimeShiftPE", nan, 2), PG_ERR_ARG);
    pg_arg huge[] = { t_node(NULL, id), t_num(NULL, 1e300) };
    CHECK_STATUS(t_add_status(g, "TimeShiftPE", huge, 2), PG_ERR_ARG);
    pg_arg none[] = { t_node(NULL, id), { "delay", { .type = PG_V_NONE } } };
    CHECK_STATUS(t_add_status(g, "TimeShiftPE", none, 2), PG_ERR_ARG);
    pg_arg ext[] = { t_node(NULL, id), t_ext(NULL, 0, 3) };
    CHECK_STATUS(t_add_status(g, "TimeShiftPE", ext, 2), PG_ERR_ARG);
    pg_diag err;
    pg_srcloc nowhere = { 0, 0, 0 };
    CHECK(pg_graph_add(g, "TimeShiftPE", inf, 2, nowhere, &err) < 0);
    CHECK(strstr(err.message, "TimeShiftPE delay must be finite") != NULL);
    CHECK(pg_graph_add(g, "TimeShiftPE", ext, 2, nowhere, &err) < 0);
    CHECK(strstr(err.message, "got an Extent") != NULL);
    pg_arg nosrc[] = { t_num("delay", 3) };
    CHECK_STATUS(t_add_status(g, "TimeShiftPE", nosrc, 1), PG_ERR_ARG);
    // rates must agree between the source and a PE delay
    pg_arg r[] = { t_int("frame_rate", 1234) };
    int id1234 = t_add(g, "IdentityPE", r, 1);
    pg_arg mism[] = { t_node(NULL, id1234), t_node(NULL, id) };
    CHECK_STATUS(t_add_status(g, "TimeShiftPE", mism, 2), PG_ERR_RATE);
    // pygmu: the frame rate is the source's (1234) with an IdentityPE delay at that rate
    int ok = shift_pe(g, id1234, t_add(g, "IdentityPE", r, 1));
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, ok), 1234);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, shift_int(g, id1234, 3)), 1234);
    pg_graph_free(g);
}

static void test_block_invariance(void) {
    pg_graph *g = t_graph(0);
    pg_arg sa[] = { t_num(NULL, 1000.0) };
    int src = crop(g, t_add(g, "SinPE", sa, 1), 0, 9000);
    CHECK(t_block_invariant(g, shift_int(g, src, 123), -50, 9300));
    CHECK(t_block_invariant(g, shift_int(g, spread(g, src, 2), -4100), -5000, 5000));
    CHECK(t_block_invariant(g, shift_num(g, src, -33.3), -100, 9100));
    CHECK(t_block_invariant(g, shift_num(g, spread(g, src, 2), 4096.5), 4000, 13200));
    pg_graph_free(g);
}

// A stateful source (BlitSawPE runs in time order from its origin) on [0, n).
static int saw(pg_graph *g, pg_frame n) {
    pg_arg a[] = { t_num(NULL, 440.0) };
    return crop(g, t_add(g, "BlitSawPE", a, 1), 0, n);
}

// A stateful source: an int shift is the source's own render moved by d, bit for bit; the
// fractional and PE paths read overlapping spans and still do not depend on the block size.
static void test_stateful_source(void) {
    pg_graph *g = t_graph(0);
    int s = saw(g, 9000);
    enum {
        N = 9000
    };
    float *a = malloc(sizeof(float) * N), *b = malloc(sizeof(float) * N);
    CHECK_STATUS(t_render(g, s, 0, N, 4096, a), PG_OK);
    CHECK_STATUS(t_render(g, shift_int(g, s, 100), 100, 100 + N, 7, b), PG_OK);
    int bad = 0;
    for (int i = 0; i < N; i++)
        bad += a[i] != b[i];
    CHECK_EQ_I64(bad, 0);
    CHECK(t_block_invariant(g, shift_num(g, s, 10.5), -100, 9200));
    pg_arg sa[] = { t_num(NULL, 2.0), t_num("amplitude", 50.0) };
    pg_arg ma[] = { t_node(NULL, cnst(g, 60.0)), t_node(NULL, t_add(g, "SinPE", sa, 2)) };
    CHECK(t_block_invariant(g, shift_pe(g, s, t_add(g, "MixPE", ma, 2)), -100, 9200));
    free(a);
    free(b);
    pg_graph_free(g);
}

// A whole-frame shift is fused into the linear tree around it: its input is read d frames
// earlier, with no copy. Notes shifted forwards, backwards and before the window, under
// and over gains, stereo and mono, agree with the unfused -O0 render (the gains compose
// into one weight: a float32 rounding apart); a shift of a shift is the sum of both, bit for
// bit; a fractional shift stays a kernel of its own.
static void test_fused(void) {
    pg_graph *g = t_graph(0);
    pg_arg sa[] = { t_num(NULL, 440.0) };
    int sine = crop(g, t_add(g, "SinPE", sa, 1), 0, 3000);
    pg_arg ma[] = { t_node(NULL, t_gain(g, shift_int(g, t_gain(g, sine, 0.5), 1000), 0.3)),
                    t_node(NULL, shift_int(g, spread(g, sine, 2), -2000)),
                    t_node(NULL, t_gain(g, shift_num(g, sine, 10.5), 0.7)),
                    t_node(NULL, shift_int(g, shift_int(g, sine, 2500), 1500)) };
    int mix = t_add(g, "MixPE", ma, 4);
    int total; // the four whole-frame shifts fused, the fractional one not
    CHECK_EQ_I64(t_fused_count(g, mix, "TimeShiftPE", &total), 4);
    CHECK_EQ_I64(total, 5);
    CHECK_FUSED(g, mix, -2500, 9000, 3e-7);
    CHECK(t_block_invariant(g, mix, -2500, 9000));
    enum {
        N = 4000
    };
    float *a = malloc(sizeof(float) * N), *b = malloc(sizeof(float) * N);
    int twice = shift_int(g, shift_int(g, sine, 100), -30), once = shift_int(g, sine, 70);
    CHECK_STATUS(t_render(g, t_gain(g, twice, 1.0), -100, N - 100, 4096, a), PG_OK);
    CHECK_STATUS(t_render(g, once, -100, N - 100, 4096, b), PG_OK);
    CHECK(memcmp(a, b, sizeof(float) * N) == 0);
    free(a);
    free(b);
    pg_graph_free(g);
}

int main(void) {
    test_pygmu_init();
    test_pygmu_render();
    test_extents();
    test_pe_delay();
    test_fractional_sine();
    test_bad_args();
    test_block_invariance();
    test_stateful_source();
    test_fused();
    return check_done();
}
