// test_timewarp.c: TimewarpPE(src_pe, timeline): out(t) = src(tau(t)), tau = timeline(t),
// interpolated as np.interp: (x1 - x0) * (tau - floor(tau)) + x0. pygmu's
// test_timewarp_pe.py numbers (IdentityPE source, RampPE timelines over [0, 10)), closed
// forms for linear timelines (a time shift, a resampling), reads at the source's edges, the
// extent (the timeline's), bad arguments and block invariance.
#include <math.h>
#include <stdlib.h>

#include "check.h"

#define INF_S PG_FRAME_MIN
#define INF_E PG_FRAME_MAX

static int array(pg_graph *g, int rows, int cols, const double *data) {
    pg_arg a[] = { t_arr(NULL, rows, cols, data) };
    return t_add(g, "ArrayPE", a, 1);
}

static int crop(pg_graph *g, int src, pg_frame s, pg_frame e) {
    pg_arg a[] = { t_node(NULL, src), t_ext(NULL, s, e) };
    return t_add(g, "CropPE", a, 2);
}

static int ramp(pg_graph *g, double a, double b, pg_frame s, pg_frame e) {
    pg_arg r[] = { t_num(NULL, a), t_num(NULL, b), t_ext(NULL, s, e) };
    return t_add(g, "RampPE", r, 3);
}

static int warp(pg_graph *g, int src, int timeline) {
    pg_arg a[] = { t_node(NULL, src), t_node(NULL, timeline) };
    return t_add(g, "TimewarpPE", a, 2);
}

static float *render(pg_graph *g, int node, pg_frame s, int64_t n) {
    int ch = pg_graph_node_channels(g, node);
    float *out = calloc((size_t)(n * ch + 1), sizeof(float));
    CHECK_STATUS(t_render(g, node, s, s + n, 7, out), PG_OK);
    return out;
}

// np.interp of the row x (frames [0, xn), zeros elsewhere) at tau.
static double interp(const double *x, int64_t xn, double tau) {
    double f = floor(tau);
    int64_t k = (int64_t)f;
    double x0 = k >= 0 && k < xn ? (double)(float)x[k] : 0.0;
    double x1 = k + 1 >= 0 && k + 1 < xn ? (double)(float)x[k + 1] : 0.0;
    return (x1 - x0) * (tau - f) + x0;
}

// pygmu: IdentityPE(frame_rate=1234) through RampPE(a, b, [0, 10)) timelines.
static void test_pygmu(void) {
    static const double ab[4][2] = { { 0, 10 }, { 0, 20 }, { 0, 5 }, { 10, 0 } };
    static const double want[4][10] = { { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 },
                                        { 0, 2, 4, 6, 8, 10, 12, 14, 16, 18 },
                                        { 0, .5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5 },
                                        { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 } };
    pg_graph *g = t_graph(1234);
    pg_arg fr[] = { t_int("frame_rate", 1234) };
    int id = t_add(g, "IdentityPE", fr, 1);
    for (int k = 0; k < 4; k++) {
        int node = warp(g, id, ramp(g, ab[k][0], ab[k][1], 0, 10));
        float *y = render(g, node, 0, 10);
        for (int i = 0; i < 10; i++)
            CHECK_NEAR(y[i], want[k][i], 1.5e-6);
        free(y);
        CHECK_EXTENT(g, node, 0, 10);
        CHECK_EQ_I64(pg_graph_node_frame_rate(g, node), 1234);
        CHECK_EQ_I64(pg_graph_node_channels(g, node), 1);
    }
    pg_graph_free(g);
}

// A timeline tau = t + 5.5 is a fractional time shift: out(t) = (x(t+5) + x(t+6)) / 2, and
// tau = 0.75 t a resampling; both on a random ArrayPE source (materialised), mono and
// stereo, against np.interp's formula. The edges: tau in (-1, 0) reads 0 and x(0); tau
// past the last frame reads 0.
static void test_linear(void) {
    enum {
        XN = 1000
    };
    pg_graph *g = t_graph(0);
    double *x = malloc(sizeof(double) * 2 * XN);
    t_fill_random(x, 2 * XN, 3);
    int mono = array(g, 1, XN, x), st = array(g, 2, XN, x);
    int shift = ramp(g, 5.5 - 20.0, 5.5 + 1100.0, -20, 1100); // tau = t + 5.5
    int slow = crop(g, t_gain(g, t_add(g, "IdentityPE", NULL, 0), 0.75), 0, 1400);
    int a = warp(g, mono, shift), b = warp(g, st, slow);
    float *ya = render(g, a, -20, 1120), *yb = render(g, b, 0, 1400);
    for (int i = 0; i < 1120; i++)
        CHECK_NEAR(ya[i], interp(x, XN, (double)(i - 20) + 5.5), 1e-6);
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < 1400; i++)
            CHECK_NEAR(yb[c * 1400 + i], interp(x + c * XN, XN, 0.75 * i), 1e-6);
    CHECK_NEAR(ya[14], 0.5 * (double)(float)x[0], 1e-7);         // t = -6: tau = -0.5
    CHECK_NEAR(ya[13], 0.0, 0.0);                                // t = -7: tau = -1.5
    CHECK_NEAR(ya[20 + 994], 0.5 * (double)(float)x[999], 1e-7); // tau = 999.5
    CHECK_NEAR(ya[20 + 995], 0.0, 0.0);                          // tau = 1000.5
    free(ya);
    free(yb);
    free(x);
    pg_graph_free(g);
}

// The extent is the timeline's: cropped, indefinite or empty; first and last frames.
static void test_extent(void) {
    pg_graph *g = t_graph(0);
    static const double x[] = { 10, 20, 30, 40 };
    int src = array(g, 1, 4, x), id = t_add(g, "IdentityPE", NULL, 0);
    int a = warp(g, src, crop(g, t_gain(g, id, 0.25), 4, 12)); // tau = t / 4 over [4, 12)
    CHECK_EXTENT(g, a, 4, 12);
    float *y = render(g, a, 4, 8);
    CHECK_NEAR(y[0], 20.0, 0.0); // t = 4: tau = 1
    CHECK_NEAR(y[7], 37.5, 0.0); // t = 11: tau = 2.75 -> 30 + .75 * (40 - 30)
    free(y);
    int b = warp(g, src, id);
    CHECK_EXTENT(g, b, INF_S, INF_E);
    int e = warp(g, src, crop(g, crop(g, id, 0, 5), 10, 20));
    CHECK(pg_extent_is_empty(pg_graph_node_extent(g, e)));
    pg_graph_free(g);
}

// A timeline that jumps by up to 1e6 frames between frames (noise * 1e6) over an IdentityPE
// source: np.interp of the identity is the identity, so out(t) = tau(t); the reads are split
// into runs of bounded span.
static void test_jumps(void) {
    pg_graph *g = t_graph(0);
    pg_arg na[] = { t_num("gain", 1e6), t_int("seed", 7) };
    int tl = crop(g, t_add(g, "NoisePE", na, 2), 0, 3000);
    int node = warp(g, t_add(g, "IdentityPE", NULL, 0), tl);
    float *tau = render(g, tl, 0, 3000), *y = render(g, node, 0, 3000);
    for (int i = 0; i < 3000; i++)
        CHECK_NEAR(y[i], tau[i], 0.0);
    free(tau);
    free(y);
    pg_graph_free(g);
}

// A stereo timeline is a channel error; frame rates must agree.
static void test_bad(void) {
    pg_graph *g = t_graph(0);
    int id = t_add(g, "IdentityPE", NULL, 0);
    pg_arg sp[] = { t_node(NULL, id), t_int(NULL, 2) };
    pg_arg a[] = { t_node(NULL, id), t_node(NULL, t_add(g, "SpreadPE", sp, 2)) };
    CHECK_STATUS(t_add_status(g, "TimewarpPE", a, 2), PG_ERR_CHANNELS);
    pg_graph_free(g);
    g = t_graph(0);
    pg_arg fr[] = { t_int("frame_rate", 1234) };
    pg_arg b[] = { t_node(NULL, t_add(g, "IdentityPE", NULL, 0)),
                   t_node(NULL, t_add(g, "IdentityPE", fr, 1)) };
    CHECK_STATUS(t_add_status(g, "TimewarpPE", b, 2), PG_ERR_RATE);
    pg_arg c[] = { t_node(NULL, t_add(g, "IdentityPE", NULL, 0)) };
    CHECK_STATUS(t_add_status(g, "TimewarpPE", c, 1), PG_ERR_ARG);
    pg_graph_free(g);
}

// Bit-identical at blocks 1, 7, 64, 4096: the 08_timewarp flanger timeline (t + 120 sin)
// over a random stereo source.
static void test_blocks(void) {
    enum {
        XN = 20000
    };
    pg_graph *g = t_graph(0);
    double *x = malloc(sizeof(double) * 2 * XN);
    t_fill_random(x, 2 * XN, 4);
    pg_arg sa[] = { t_num("frequency", 3.0), t_num("amplitude", 120.0) };
    pg_arg ma[] = { t_node(NULL, t_add(g, "IdentityPE", NULL, 0)),
                    t_node(NULL, t_add(g, "SinPE", sa, 2)) };
    int tl = crop(g, t_add(g, "MixPE", ma, 2), 0, XN);
    int node = warp(g, array(g, 2, XN, x), tl);
    CHECK(t_block_invariant(g, node, 0, XN));
    free(x);
    pg_graph_free(g);
}

int main(void) {
    test_pygmu();
    test_linear();
    test_extent();
    test_jumps();
    test_bad();
    test_blocks();
    return check_done();
}
