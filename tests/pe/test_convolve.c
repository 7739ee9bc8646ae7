// test_convolve.c: ConvolvePE(src_pe, filter_pe). The closed form of the catalogue:
// out_k(t) = 1/(50 r) * sum_{j<N} h_k[j] x_k(t - j), r the RMS of the whole filter (all
// channels), extent [S, E + N - 1). Hand-worked short sequences, impulses through the
// normalisation (a unit impulse in N frames gives gain sqrt(N) / 50), long random filters
// against the sum computed here in double (direct mode N <= 64 and the partitioned FFT mode
// above it), pygmu's test_convolve_pe.py shapes, extents and rates, and block invariance.
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

static int spread(pg_graph *g, int src, int ch) {
    pg_arg a[] = { t_node(NULL, src), t_int(NULL, ch) };
    return t_add(g, "SpreadPE", a, 2);
}

static int shift(pg_graph *g, int src, int64_t d) {
    pg_arg a[] = { t_node(NULL, src), t_int(NULL, d) };
    return t_add(g, "TimeShiftPE", a, 2);
}

static int noise(pg_graph *g, int64_t seed) {
    pg_arg a[] = { t_int("seed", seed) };
    return t_add(g, "NoisePE", a, 1);
}

static int conv(pg_graph *g, int src, int filt) {
    pg_arg a[] = { t_node(NULL, src), t_node(NULL, filt) };
    return t_add(g, "ConvolvePE", a, 2);
}

// The catalogue's closed form at frame t for a source row x starting at frame xs (length
// xn, zeros outside) and a filter row h of N taps, h already divided by 50 r.
static double closed_form(const double *x, pg_frame xs, int64_t xn, const double *h, int64_t taps,
                          pg_frame t) {
    double y = 0.0;
    for (int64_t j = 0; j < taps; j++) {
        pg_frame k = t - j - xs;
        if (k >= 0 && k < xn)
            y += h[j] * x[k];
    }
    return y;
}

// h / (50 * rms(h)) over every row, as pygmu normalises.
static void normalise(double *h, int64_t count) {
    double sum = 0.0;
    for (int64_t i = 0; i < count; i++)
        sum += h[i] * h[i];
    double scale = 1.0 / (50.0 * sqrt(sum / (double)count));
    for (int64_t i = 0; i < count; i++)
        h[i] *= scale;
}

// [1, 2, 3] * [1, 1]: rms 1, full convolution [1, 3, 5, 3], divided by 50.
// [1, 2, 3] * [1, 0, -1, 2]: rms sqrt(6 / 4), full convolution [1, 2, 2, 0, 1, 6].
static void test_hand(void) {
    pg_graph *g = t_graph(0);
    static const double x[] = { 1, 2, 3 }, h1[] = { 1, 1 }, h2[] = { 1, 0, -1, 2 };
    int src = array(g, 1, 3, x);
    int a = conv(g, src, array(g, 1, 2, h1)), b = conv(g, src, array(g, 1, 4, h2));
    CHECK_EXTENT(g, a, 0, 4);
    CHECK_EXTENT(g, b, 0, 6);
    float *ya = t_render_new(g, a, 0, 4), *yb = t_render_new(g, b, 0, 6);
    static const double wa[] = { 1, 3, 5, 3 }, wb[] = { 1, 2, 2, 0, 1, 6 };
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(ya[i], wa[i] / 50.0, 1e-7);
    for (int i = 0; i < 6; i++)
        CHECK_NEAR(yb[i], wb[i] / (50.0 * sqrt(1.5)), 1e-7);
    free(ya);
    free(yb);
    pg_graph_free(g);
}

// A unit impulse in an N-frame filter has rms 1 / sqrt(N): gain sqrt(N) / 50 (QUIRK Q27;
// pygmu's 4-frame impulse gives 0.04). N = 10 runs directly, N = 100 (gain 0.2) by FFT; an
// impulse at frame 10 of the filter delays by 10.
static void test_impulse_gain(void) {
    pg_graph *g = t_graph(0);
    int src = crop(g, noise(g, 3), 0, 1000), imp = t_add(g, "ImpulsePE", NULL, 0);
    int c4 = conv(g, src, crop(g, imp, 0, 4)), c10 = conv(g, src, crop(g, imp, 0, 10));
    int c100 = conv(g, src, crop(g, imp, 0, 100));
    int d100 = conv(g, src, crop(g, shift(g, imp, 10), 0, 100));
    float *x = t_render_new(g, src, 0, 1200), *y4 = t_render_new(g, c4, 0, 1200);
    float *y10 = t_render_new(g, c10, 0, 1200), *y100 = t_render_new(g, c100, 0, 1200);
    float *yd = t_render_new(g, d100, 0, 1200);
    for (int t = 0; t < 1200; t++) {
        CHECK_NEAR(y4[t], 0.04 * (double)x[t], 1e-7);
        CHECK_NEAR(y10[t], sqrt(10.0) / 50.0 * (double)x[t], 1e-7);
        CHECK_NEAR(y100[t], 0.2 * (double)x[t], 1e-6);
        CHECK_NEAR(yd[t], t >= 10 ? 0.2 * (double)x[t - 10] : 0.0, 1e-6);
    }
    CHECK_EXTENT(g, c100, 0, 1099);
    free(x);
    free(y4);
    free(y10);
    free(y100);
    free(yd);
    pg_graph_free(g);
}

// Random mono filters of 40 (direct), 3000 and 20000 (partitioned) taps on 30000 random
// frames starting at frame 17, against the closed form in double; first and last frames of
// the extent included.
static void check_random(int64_t taps, double tol) {
    enum {
        XN = 30000,
        XS = 17
    };
    pg_graph *g = t_graph(0);
    double *x = malloc(sizeof(double) * XN), *h = malloc(sizeof(double) * (size_t)taps);
    t_fill_random(x, XN, 1);
    t_fill_random(h, taps, 2);
    int node = conv(g, shift(g, array(g, 1, XN, x), XS), array(g, 1, taps, h));
    normalise(h, taps);
    int64_t n = XN + taps - 1;
    CHECK_EXTENT(g, node, XS, XS + n);
    float *y = t_render_new(g, node, XS, n);
    double worst = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)y[i] - closed_form(x, XS, XN, h, taps, XS + i));
        worst = d > worst ? d : worst;
    }
    CHECK_NEAR(worst, 0.0, tol);
    CHECK_NEAR(y[0], h[0] * x[0], 1e-6);
    CHECK_NEAR(y[n - 1], h[taps - 1] * x[XN - 1], 1e-6);
    free(y);
    free(x);
    free(h);
    pg_graph_free(g);
}

static void test_random(void) {
    check_random(40, 1e-6);
    check_random(3000, 5e-6);
    check_random(20000, 1e-5);
}

// Channel pairing: mono x stereo uses each filter row on the one source row; stereo x mono
// the one filter row on each source row; stereo x stereo row by row. The RMS is over both
// filter rows together. Filters of 4 (direct) and 100 taps (FFT).
static void check_pairing(int64_t taps) {
    enum {
        XN = 500
    };
    pg_graph *g = t_graph(0);
    double *x = malloc(sizeof(double) * 2 * XN), *h = malloc(sizeof(double) * 2 * (size_t)taps);
    t_fill_random(x, 2 * XN, 5);
    t_fill_random(h, 2 * taps, 6);
    int xm = array(g, 1, XN, x), xs = array(g, 2, XN, x);
    int hm = array(g, 1, taps, h), hs = array(g, 2, taps, h);
    int ms = conv(g, xm, hs), sm = conv(g, xs, hm), ss = conv(g, xs, hs);
    double *hn_s = malloc(sizeof(double) * 2 * (size_t)taps);
    memcpy(hn_s, h, sizeof(double) * 2 * (size_t)taps);
    normalise(hn_s, 2 * taps); // the stereo filter, normalised over both rows
    normalise(h, taps);        // the mono filter (its first row)
    int64_t n = XN + taps - 1;
    float *yms = t_render_new(g, ms, 0, n), *ysm = t_render_new(g, sm, 0, n),
          *yss = t_render_new(g, ss, 0, n);
    for (int c = 0; c < 2; c++)
        for (int64_t t = 0; t < n; t += 7) {
            const double *xc = x + c * XN, *hc = hn_s + c * taps;
            CHECK_NEAR(yms[c * n + t], closed_form(x, 0, XN, hc, taps, t), 1e-6);
            CHECK_NEAR(ysm[c * n + t], closed_form(xc, 0, XN, h, taps, t), 1e-6);
            CHECK_NEAR(yss[c * n + t], closed_form(xc, 0, XN, hc, taps, t), 1e-6);
        }
    CHECK_EQ_I64(pg_graph_node_channels(g, ms), 2);
    CHECK_EQ_I64(pg_graph_node_channels(g, sm), 2);
    CHECK_EQ_I64(pg_graph_node_channels(g, conv(g, xm, hm)), 1);
    free(yms);
    free(ysm);
    free(yss);
    free(hn_s);
    free(x);
    free(h);
    pg_graph_free(g);
}

static void test_pairing(void) {
    check_pairing(4);
    check_pairing(100);
}

// pygmu's test_convolve_pe.py: NoisePE sources, ImpulsePE().crop([0, 10)) filters; the
// result over [0, 1000) has 1 or 2 channels; a cropped source rendered away from its extent
// gives zeros; indefinite source -> indefinite result; the 20-frame filter makes [0, 20) ->
// [0, 39).
static void test_pygmu(void) {
    pg_graph *g = t_graph(0);
    int src = noise(g, 0), imp = t_add(g, "ImpulsePE", NULL, 0);
    int f10 = crop(g, imp, 0, 10), f10s = crop(g, spread(g, imp, 2), 0, 10);
    int nodes[4] = { conv(g, src, f10), conv(g, spread(g, src, 2), f10), conv(g, src, f10s),
                     conv(g, spread(g, src, 2), f10s) };
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_I64(pg_graph_node_channels(g, nodes[i]), i == 0 ? 1 : 2);
        CHECK_EXTENT(g, nodes[i], INF_S, INF_E);
        float *y = t_render_new(g, nodes[i], 0, 1000);
        free(y);
    }
    int off = conv(g, crop(g, src, 0, 100), f10);
    float *z = t_render_new(g, off, 200, 100);
    int zeros = 1;
    for (int i = 0; i < 100; i++)
        zeros &= z[i] == 0.0f;
    CHECK(zeros);
    free(z);
    CHECK_EXTENT(g, conv(g, crop(g, src, 0, 20), crop(g, imp, 0, 20)), 0, 39);
    CHECK_EXTENT(g, conv(g, crop(g, src, INF_S, 1000), f10), INF_S, 1009);
    pg_graph_free(g);
}

// A source with no start: the stream begins N - 1 frames before the first frame rendered,
// so the history is there: frames [1000, 3000) of noise(..5000) * a random 300-tap filter.
static void test_indefinite_start(void) {
    enum {
        TAPS = 300
    };
    pg_graph *g = t_graph(0);
    double h[TAPS];
    t_fill_random(h, TAPS, 9);
    int src = crop(g, noise(g, 4), INF_S, 5000);
    int node = conv(g, src, array(g, 1, TAPS, h));
    normalise(h, TAPS);
    CHECK_EXTENT(g, node, INF_S, 5000 + TAPS - 1);
    float *xf = t_render_new(g, src, 1000 - TAPS, 2000 + TAPS),
          *y = t_render_new(g, node, 1000, 2000);
    double *x = malloc(sizeof(double) * (2000 + TAPS));
    for (int i = 0; i < 2000 + TAPS; i++)
        x[i] = (double)xf[i];
    for (int i = 0; i < 2000; i += 3)
        CHECK_NEAR(y[i], closed_form(x, 1000 - TAPS, 2000 + TAPS, h, TAPS, 1000 + i), 1e-6);
    free(x);
    free(xf);
    free(y);
    pg_graph_free(g);
}

// Two bursts far apart: between them the output is exactly 0 (silent partitions are
// skipped, not transformed); around them it follows the closed form.
static void test_sparse(void) {
    enum {
        XN = 100000,
        TAPS = 300
    };
    pg_graph *g = t_graph(0);
    double *x = calloc(XN, sizeof(double)), h[TAPS];
    t_fill_random(x, 100, 11);
    t_fill_random(x + 90000, 100, 12);
    t_fill_random(h, TAPS, 13);
    int node = conv(g, array(g, 1, XN, x), array(g, 1, TAPS, h));
    normalise(h, TAPS);
    float *y = t_render_new(g, node, 0, XN + TAPS - 1);
    int zeros = 1;
    for (int t = 2000; t < 89000; t++)
        zeros &= y[t] == 0.0f;
    CHECK(zeros);
    for (int t = 0; t < 500; t += 5)
        CHECK_NEAR(y[t], closed_form(x, 0, XN, h, TAPS, t), 1e-6);
    for (int t = 89900; t < 90500; t += 5)
        CHECK_NEAR(y[t], closed_form(x, 0, XN, h, TAPS, t), 1e-6);
    free(y);
    free(x);
    pg_graph_free(g);
}

// Frame rates: the source's (both at the graph's default, or both given); 1111 vs 2222 is a
// frame-rate error (QUIRK Q25: pygmu only printed "HACK").
static void test_rates(void) {
    pg_graph *g = t_graph(1234);
    int imp = t_add(g, "ImpulsePE", NULL, 0);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, conv(g, noise(g, 0), crop(g, imp, 0, 20))), 1234);
    pg_arg n1[] = { t_int("frame_rate", 1111) }, i1[] = { t_int("frame_rate", 1111) };
    pg_arg i2[] = { t_int("frame_rate", 2222) };
    int src = t_add(g, "NoisePE", n1, 1);
    int f1 = crop(g, t_add(g, "ImpulsePE", i1, 1), 0, 20);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, conv(g, src, f1)), 1111);
    pg_arg bad[] = { t_node(NULL, src),
                     t_node(NULL, crop(g, t_add(g, "ImpulsePE", i2, 1), 0, 20)) };
    CHECK_STATUS(t_add_status(g, "ConvolvePE", bad, 2), PG_ERR_RATE);
    pg_graph_free(g);
}

// Bad arguments: 3 channels on either side, an indefinite or empty filter, a silent filter
// (QUIRK Q27: pygmu divides by a zero RMS and renders NaN).
static void test_bad(void) {
    pg_graph *g = t_graph(0);
    int src = noise(g, 0), imp = t_add(g, "ImpulsePE", NULL, 0), f = crop(g, imp, 0, 20);
    pg_arg a1[] = { t_node(NULL, spread(g, src, 3)), t_node(NULL, f) };
    CHECK_STATUS(t_add_status(g, "ConvolvePE", a1, 2), PG_ERR_CHANNELS);
    pg_graph_free(g);
    g = t_graph(0);
    src = noise(g, 0);
    imp = t_add(g, "ImpulsePE", NULL, 0);
    f = crop(g, imp, 0, 20);
    pg_arg a2[] = { t_node(NULL, src), t_node(NULL, crop(g, spread(g, imp, 3), 0, 20)) };
    CHECK_STATUS(t_add_status(g, "ConvolvePE", a2, 2), PG_ERR_CHANNELS);
    pg_arg a3[] = { t_node(NULL, src), t_node(NULL, imp) };
    CHECK_STATUS(t_add_status(g, "ConvolvePE", a3, 2), PG_ERR_EXTENT);
    pg_arg a4[] = { t_node(NULL, src), t_node(NULL, crop(g, f, 50, 60)) };
    CHECK_STATUS(t_add_status(g, "ConvolvePE", a4, 2), PG_ERR_ARG); // crop misses: empty
    pg_arg a5[] = { t_node(NULL, src) };
    CHECK_STATUS(t_add_status(g, "ConvolvePE", a5, 1), PG_ERR_ARG);
    pg_graph_free(g);
    g = t_graph(0);
    src = noise(g, 0);
    static const double zeros[100] = { 0 };
    float out[64];
    int s5 = conv(g, crop(g, src, 0, 10), array(g, 1, 5, zeros));
    int s100 = conv(g, crop(g, src, 0, 10), array(g, 1, 100, zeros));
    CHECK_STATUS(t_render(g, s5, 0, 10, 64, out), PG_ERR_ARG);
    CHECK_STATUS(t_render(g, s100, 0, 10, 64, out), PG_ERR_ARG);
    pg_graph_free(g);
}

// An empty source convolves to nothing: an empty extent.
static void test_empty_source(void) {
    pg_graph *g = t_graph(0);
    int imp = t_add(g, "ImpulsePE", NULL, 0);
    int node = conv(g, crop(g, noise(g, 0), 10, 10), crop(g, imp, 0, 20));
    CHECK(pg_extent_is_empty(pg_graph_node_extent(g, node)));
    pg_graph_free(g);
}

// Bit-identical output for blocks of 1, 7, 64 and 4096 frames: direct (10 taps), one FFT
// partition (100 taps) and several (9600 taps: five of 2048 frames), mono x stereo.
static void test_blocks(void) {
    enum {
        XN = 20000
    };
    static const int64_t taps[] = { 10, 100, 9600 };
    for (int k = 0; k < 3; k++) {
        pg_graph *g = t_graph(0);
        double *x = malloc(sizeof(double) * XN), *h = malloc(sizeof(double) * 2 * (size_t)taps[k]);
        t_fill_random(x, XN, 21);
        t_fill_random(h, 2 * taps[k], 22);
        int node = conv(g, shift(g, array(g, 1, XN, x), -5), array(g, 2, taps[k], h));
        CHECK(t_block_invariant(g, node, -5, XN + taps[k] - 6));
        CHECK(t_block_invariant(g, node, 3000, 9000));
        free(x);
        free(h);
        pg_graph_free(g);
    }
}

int main(void) {
    test_hand();
    test_impulse_gain();
    test_random();
    test_pairing();
    test_pygmu();
    test_indefinite_start();
    test_sparse();
    test_rates();
    test_bad();
    test_empty_source();
    test_blocks();
    return check_done();
}
