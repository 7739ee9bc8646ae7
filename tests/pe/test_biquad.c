// test_biquad.c: BiquadPE and the BQ*PE family (mono only). Expectations: the impulse
// responses h0 = b0, h1 = b1 - a1 h0, h2 = b2 - a1 h1 - a2 h0, h3 = -a1 h2 - a2 h1 of
// pygmu's coefficient tables (test_biquad.py, fs 44100, f0 440, q 20); test_render2's
// step response; steady-state gains against the analog prototypes the bilinear transform
// maps onto the filters (Omega = tan(pi f/fs) / tan(pi f0/fs)); the ring-out tail; shapes,
// errors and block-size invariance.
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define PI 3.14159265358979323846

// A mono ArrayPE over [0, n).
static int array1(pg_graph *g, const double *x, int n) {
    return ADD(g, "ArrayPE", t_arr(NULL, 1, n, x));
}

// ---- pygmu's coefficient tables ----

typedef struct table_row {
    const char *kind;
    double gain_db; // peak and shelf types only
    double a1, a2, b0, b1, b2;
} table_row;

#define A1 -1.9929499544928433
#define A2 0.99687248213489
static const table_row table[] = {
    { "BQLowPassPE", 0, A1, A2, 0.0009806319105117329, 0.0019612638210234658,
      0.0009806319105117329 },
    { "BQHighPassPE", 0, A1, A2, 0.9974556091569333, -1.9949112183138666, 0.9974556091569333 },
    { "BQBandPassPE", 0, A1, A2, 0.0015637589325549896, 0, -0.0015637589325549896 },
    { "BQBandRejectPE", 0, A1, A2, 0.998436241067445, -1.9929499544928433, 0.998436241067445 },
    { "BQAllPassPE", 0, A1, A2, 0.99687248213489, -1.9929499544928433, 1 },
    { "BQPeakPE", 6, A1, A2, 1.0015563503352678, A1, 0.9953161317996221 },
    { "BQPeakPE", 0, A1, A2, 1, A1, A2 },
    { "BQPeakPE", -6, -1.989853046037509, 0.9937694783388304, 0.9984460681271236,
      -1.989853046037509, 0.9953234102117071 },
    { "BQLowShelfPE", 6, -1.9113981953542545, 0.9151602126790416, 1.0184358472917574,
      -1.909526098318444, 0.8985964624230943 },
    { "BQLowShelfPE", 0, -1.9113981953542545, 0.9151602126790416, 1, -1.9113981953542545,
      0.9151602126790416 },
    { "BQLowShelfPE", -6, -1.8749596289214383, 0.8823299619830329, 0.9818978806168475,
      -1.8767978370332095, 0.8985938732544143 },
    { "BQHighShelfPE", 6, -1.9113981953542545, 0.9151602126790416, 1.9696071436595646,
      -3.8156128851256788, 1.8497677587909012 },
    { "BQHighShelfPE", 0, -1.9113981953542545, 0.9151602126790416, 1, -1.9113981953542545,
      0.9151602126790416 },
    { "BQHighShelfPE", -6, -1.9372456570380847, 0.939155691400469, 0.5077154615422355,
      -0.9704464169452813, 0.46464098976543 },
};

static bool has_q(const char *kind) {
    return strstr(kind, "Shelf") == NULL;
}

static bool has_gain(const char *kind) {
    return strstr(kind, "Shelf") || strstr(kind, "Peak");
}

// Adds kind over src with f0, q (where the kind has it) and gain_db (where it has it).
static int add_filter(pg_graph *g, const char *kind, int src, double f0, double q, double gdb) {
    pg_arg a[4] = { t_node(NULL, src), t_num("f0", f0) };
    int n = 2;
    if (has_q(kind))
        a[n++] = t_num("q", q);
    if (has_gain(kind))
        a[n++] = t_num("gain_db", gdb);
    return t_add(g, kind, a, n);
}

// The impulse response's first four frames, worked from the difference equation.
static void check_impulse(const char *prefix, const table_row *r) {
    pg_graph *g = t_graph(44100);
    double imp[8] = { 1 };
    char kind[40];
    snprintf(kind, sizeof kind, "%s%s", prefix, r->kind + 2); // "BQ" -> prefix
    int f = add_filter(g, kind, array1(g, imp, 8), 440, 20, r->gain_db);
    float y[4];
    CHECK_STATUS(t_render(g, f, 0, 4, 64, y), PG_OK);
    double h0 = r->b0, h1 = r->b1 - r->a1 * h0, h2 = r->b2 - r->a1 * h1 - r->a2 * h0;
    double h3 = -r->a1 * h2 - r->a2 * h1;
    CHECK_NEAR(y[0], h0, 1e-6);
    CHECK_NEAR(y[1], h1, 1e-6);
    CHECK_NEAR(y[2], h2, 1e-6);
    CHECK_NEAR(y[3], h3, 1e-6);
    pg_graph_free(g);
}

static void test_coefficient_tables(void) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        check_impulse("BQ", &table[i]);
}

// pygmu's test_render2: LP f0 440, q 2, fs 44100, input [0, 1 x 19].
static void test_render2(void) {
    static const double want[20] = {
        0,          0.00096702, 0.00480155, 0.01236733, 0.02352002, 0.03810586, 0.05596255,
        0.07692014, 0.10080193, 0.12742535, 0.15660288, 0.18814286, 0.22185046, 0.25752842,
        0.29497797, 0.33399963, 0.37439395, 0.41596237, 0.45850787, 0.50183575,
    };
    pg_graph *g = t_graph(44100);
    double x[20] = { 0 };
    for (int i = 1; i < 20; i++)
        x[i] = 1;
    int f = ADD(g, "BQLowPassPE", t_node(NULL, array1(g, x, 20)), t_num("f0", 440), t_num("q", 2));
    float y[20];
    CHECK_STATUS(t_render(g, f, 0, 20, 7, y), PG_OK);
    for (int i = 0; i < 20; i++)
        CHECK_NEAR(y[i], want[i], 1.5e-6);
    pg_graph_free(g);
}

// ---- magnitude responses ----

// |H(j Omega)| of the analog prototype the bilinear transform maps onto kind (catalogue
// §6: e.g. the low-pass numerator K^2 and denominator 1 + K/Q + K^2 are 1/(s^2 + s/Q + 1)).
static double prototype_gain(const char *kind, double w, double q, double gdb) {
    double v = pow(10, fabs(gdb) / 20), re = 1 - w * w, r2 = sqrt(2.0), rv = sqrt(2 * v);
    double den = hypot(re, w / q);
    if (strstr(kind, "LowPass"))
        return 1 / den;
    if (strstr(kind, "HighPass"))
        return w * w / den;
    if (strstr(kind, "BandPass"))
        return (w / q) / den;
    if (strstr(kind, "BandReject"))
        return fabs(re) / den;
    if (strstr(kind, "AllPass"))
        return 1;
    if (strstr(kind, "Peak"))
        return gdb >= 0 ? hypot(re, v * w / q) / den : den / hypot(re, v * w / q);
    if (strstr(kind, "LowShelf"))
        return gdb >= 0 ? hypot(v - w * w, rv * w) / hypot(re, r2 * w)
                        : hypot(re, r2 * w) / hypot(v - w * w, rv * w);
    // high shelf: (1 + sqrt(2V) s + V s^2) / (1 + sqrt(2) s + s^2), inverted for a cut
    return gdb >= 0 ? hypot(1 - v * w * w, rv * w) / hypot(re, r2 * w)
                    : hypot(re, r2 * w) / hypot(1 - v * w * w, rv * w);
}

// The steady-state gain of node at f Hz: its RMS over whole periods after the transient,
// times sqrt(2), for a unit sine input (a sampled sine's mean square over whole periods of
// three or more frames is exactly 1/2).
static double measured_gain(pg_graph *g, int node, double f, int n, int settle) {
    float *y = calloc((size_t)n, sizeof *y);
    double ss = 0;
    int period = (int)lround(48000 / f), from = n - (n - settle) / period * period;
    CHECK_STATUS(t_render(g, node, 0, n, 4096, y), PG_OK);
    for (int i = from; i < n; i++)
        ss += (double)y[i] * (double)y[i];
    free(y);
    return sqrt(2 * ss / (n - from));
}

static int sine(pg_graph *g, double f, int n) {
    double *x = malloc(sizeof *x * (size_t)n);
    for (int i = 0; i < n; i++)
        x[i] = sin(2 * PI * f * i / 48000);
    int id = array1(g, x, n);
    free(x);
    return id;
}

static void check_gain(const char *kind, double f0, double q, double gdb, double f) {
    pg_graph *g = t_graph(48000);
    int n = 24000;
    int node = add_filter(g, kind, sine(g, f, n), f0, q, gdb);
    double want = prototype_gain(kind, tan(PI * f / 48000) / tan(PI * f0 / 48000), q, gdb);
    double got = measured_gain(g, node, f, n, 12000);
    CHECK_NEAR(got / want, 1.0, 2e-4);
    pg_graph_free(g);
}

static void test_magnitude(void) {
    static const char *const kinds[] = { "BQLowPassPE", "BQHighPassPE", "BQBandPassPE",
                                         "BQBandRejectPE", "BQAllPassPE" };
    static const double freqs[] = { 250, 1000, 2000, 6000, 12000 };
    for (int k = 0; k < 5; k++)
        for (int i = 0; i < 5; i++)
            if (!(strstr(kinds[k], "Reject") && freqs[i] == 1000)) // the null: checked below
                check_gain(kinds[k], 1000, 3, 0, freqs[i]);
    // closed forms at f0: low- and high-pass give q, band-pass 1, peaks V^(+-1)
    check_gain("BQLowPassPE", 1000, 10, 0, 1000);
    check_gain("BQHighPassPE", 1000, 0.7071, 0, 1000);
    check_gain("BQPeakPE", 1000, 2, 12, 1000);
    check_gain("BQPeakPE", 1000, 2, -12, 1000);
    check_gain("BQPeakPE", 1000, 2, 12, 6000);
    // shelves: V below (low) or above (high) f0, unity on the other side
    for (int i = 0; i < 5; i++) {
        check_gain("BQLowShelfPE", 1000, 0, 9, freqs[i]);
        check_gain("BQLowShelfPE", 1000, 0, -9, freqs[i]);
        check_gain("BQHighShelfPE", 1000, 0, 9, freqs[i]);
        check_gain("BQHighShelfPE", 1000, 0, -9, freqs[i]);
    }
    // the band-reject null at f0: the gain is 0, so check the level itself
    pg_graph *g = t_graph(48000);
    int br = add_filter(g, "BQBandRejectPE", sine(g, 1000, 24000), 1000, 3, 0);
    CHECK(measured_gain(g, br, 1000, 24000, 12000) < 1e-4);
    pg_graph_free(g);
}

// ---- extents, shapes, errors ----

// Extent [0, 100 + tail): the first frame is b0 x[0]; the source's end is followed by the
// ring-out, which has decayed below -180 dB of the peak by the extent's last frames.
static void test_extent(void) {
    pg_graph *g = t_graph(48000);
    double x[100];
    for (int i = 0; i < 100; i++)
        x[i] = i % 10 < 5 ? 0.5 : -0.5;
    int f = ADD(g, "BQLowPassPE", t_node(NULL, array1(g, x, 100)), t_num("f0", 600), t_num("q", 4));
    pg_extent e = pg_graph_node_sound_extent(g, f);
    CHECK_EQ_I64(e.start, 0);
    CHECK(e.end > 100 + 1000 && e.end < 100 + 48000);
    // what .extent() answers, and what a render covers by default, is pygmu's: E(src)
    CHECK_EQ_I64(pg_graph_node_extent(g, f).start, 0);
    CHECK_EQ_I64(pg_graph_node_extent(g, f).end, 100);
    int64_t n = e.end + 10;
    float *y = calloc((size_t)n, sizeof *y);
    CHECK_STATUS(t_render(g, f, 0, n, 64, y), PG_OK);
    // b0 = K^2 / (1 + K/q + K^2), K = tan(pi 600/48000)
    double k = tan(PI * 600 / 48000);
    CHECK_NEAR(y[0], 0.5 * k * k / (1 + k / 4 + k * k), 1e-8);
    double peak = 0, last = 0;
    for (int64_t i = 0; i < e.end; i++)
        peak = fmax(peak, fabs(y[i]));
    for (int64_t i = e.end - 10; i < e.end; i++)
        last = fmax(last, fabs(y[i]));
    CHECK(fabs(y[110]) > 1e-3); // still ringing after the source
    CHECK(last < 1e-8 * peak);
    CHECK(y[e.end] == 0 && y[n - 1] == 0);
    free(y);

    // an empty source gives an empty filter; an indefinite one an indefinite filter, whose
    // step response settles at the DC gain 1
    int empty = ADD(g, "CropPE", t_node(NULL, array1(g, x, 100)), t_ext(NULL, 50, 50));
    int fe = ADD(g, "BQLowPassPE", t_node(NULL, empty));
    CHECK(pg_extent_is_empty(pg_graph_node_sound_extent(g, fe)));
    int one = ADD(g, "ConstPE", t_num(NULL, 1.0));
    int fi = ADD(g, "BQLowPassPE", t_node(NULL, one), t_num("f0", 2000), t_num("q", 0.7));
    e = pg_graph_node_sound_extent(g, fi);
    CHECK(e.start == PG_FRAME_MIN && e.end == PG_FRAME_MAX);
    float z[2000];
    CHECK_STATUS(t_render(g, fi, -1000, 1000, 64, z), PG_OK);
    CHECK_NEAR(
        z[0],
        tan(PI * 2000 / 48000) * tan(PI * 2000 / 48000) /
            (1 + tan(PI * 2000 / 48000) / 0.7 + tan(PI * 2000 / 48000) * tan(PI * 2000 / 48000)),
        1e-7);
    CHECK_NEAR(z[1999], 1.0, 1e-6);
    pg_graph_free(g);
}

static void test_shape_errors(void) {
    pg_graph *g = t_graph(48000);
    double st[6] = { 1, 2, 3, 4, 5, 6 };
    int mono = array1(g, st, 6);
    int stereo = ADD(g, "ArrayPE", t_arr(NULL, 2, 3, st));
    // pygmu's checks: a stereo source is a channel-count mismatch (the BQ2 family takes it)
    CHECK_STATUS(STATUS(g, "BQLowPassPE", t_node(NULL, stereo)), PG_ERR_CHANNELS);
    CHECK_STATUS(STATUS(g, "BQPeakPE", t_node(NULL, stereo)), PG_ERR_CHANNELS);
    int f = ADD(g, "BQHighPassPE", t_node(NULL, mono));
    CHECK_EQ_I64(pg_graph_node_channels(g, f), 1);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, f), 48000);
    // QUIRK Q15: the base class has no coefficients
    CHECK_STATUS(STATUS(g, "BiquadPE", t_node(NULL, mono)), PG_ERR_ARG);
    // f0 in (0, fs/2), q > 0, with the keyword frame rate deciding fs/2
    CHECK_STATUS(STATUS(g, "BQLowPassPE", t_node(NULL, mono), t_num("f0", 0)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "BQLowPassPE", t_node(NULL, mono), t_num("f0", -5)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "BQLowPassPE", t_node(NULL, mono), t_num("f0", 24000)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "BQBandPassPE", t_node(NULL, mono), t_num("q", 0)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "BQPeakPE", t_node(NULL, mono), t_num("q", -1)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "BQLowShelfPE", t_node(NULL, mono), t_num("f0", 30000)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "BQLowShelfPE", t_node(NULL, mono), t_num("q", 3)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "BQLowPassPE", t_node(NULL, mono), t_num("f0", 20000),
                        t_int("frame_rate", 32000)),
                 PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "BQLowPassPE", t_node(NULL, mono), t_str("f0", "x")), PG_ERR_ARG);
    pg_graph_free(g);

    // the keyword frame rate wins over the source's (pygmu's order)
    g = t_graph(12345);
    int src = array1(g, st, 6);
    f = ADD(g, "BQLowPassPE", t_node(NULL, src), t_int("frame_rate", 45678));
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, f), 45678);
    pg_graph_free(g);
    // no frame rate anywhere
    g = pg_graph_new(0);
    src = array1(g, st, 6);
    CHECK_STATUS(STATUS(g, "BQLowPassPE", t_node(NULL, src)), PG_ERR_RATE);
    pg_graph_free(g);
}

// Output is the same for every block size (pseudo-random input, every type).
static void test_block_invariance(void) {
    static const char *const kinds[] = { "BQLowPassPE",    "BQHighPassPE", "BQBandPassPE",
                                         "BQBandRejectPE", "BQAllPassPE",  "BQPeakPE",
                                         "BQLowShelfPE",   "BQHighShelfPE" };
    pg_graph *g = t_graph(48000);
    double x[3000];
    uint32_t r = 12345;
    for (int i = 0; i < 3000; i++) {
        r = r * 1664525u + 1013904223u;
        x[i] = (double)(r >> 8) / (1 << 24) - 0.5;
    }
    int src = array1(g, x, 3000);
    for (int k = 0; k < 8; k++) {
        int f = add_filter(g, kinds[k], src, 900, 5, 6);
        CHECK(t_block_invariant(g, f, 0, pg_graph_node_sound_extent(g, f).end));
    }
    pg_graph_free(g);
}

int main(void) {
    test_coefficient_tables();
    test_render2();
    test_magnitude();
    test_extent();
    test_shape_errors();
    test_block_invariance();
    return check_done();
}
