// test_biquad2.c: Biquad2PE, the BQ2*PE family and the .lowpass() / .highpass() /
// .bandpass() methods. pygmu's test_biquad2.py is test_biquad.py with stereo accepted: the
// same coefficient tables (checked here through the impulse response h0 = b0,
// h1 = b1 - a1 h0, h2 = b2 - a1 h1 - a2 h0) and test_render2 step response. Also: each
// channel filtered on its own (steady-state gains against the analog prototype), the
// methods' own defaults, extents, errors and block-size invariance.
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define PI 3.14159265358979323846

// A sine of frequency f at rate fs on each of `rows` channels (row c at f * (c + 1)).
static int sines(pg_graph *g, double f, int fs, int rows, int n) {
    double *x = malloc(sizeof *x * (size_t)(n * rows));
    for (int c = 0; c < rows; c++)
        for (int i = 0; i < n; i++)
            x[c * n + i] = sin(2 * PI * f * (c + 1) * i / fs);
    int id = ADD(g, "ArrayPE", t_arr(NULL, rows, n, x));
    free(x);
    return id;
}

// sqrt(2) x the RMS of channel c of y (n frames each) over whole periods of p frames after
// `settle`: the gain for a unit sine (its mean square over whole periods is exactly 1/2).
static double gain_of(const float *y, int c, int n, int settle, int p) {
    int from = n - (n - settle) / p * p;
    double ss = 0;
    for (int i = from; i < n; i++)
        ss += (double)y[c * n + i] * (double)y[c * n + i];
    return sqrt(2 * ss / (n - from));
}

// |1 / (1 - W^2 + jW/q)|, the low-pass prototype, and its band-pass and high-pass forms.
static double lp_gain(double w, double q) {
    return 1 / hypot(1 - w * w, w / q);
}

static double omega(double f, double f0, int fs) {
    return tan(PI * f / fs) / tan(PI * f0 / fs);
}

// pygmu's tables (fs 44100, f0 440, q 20) for the low-pass and the +6 dB high shelf.
static void test_coefficient_tables(void) {
    static const struct {
        const char *kind;
        double gain_db, a1, a2, b0, b1, b2;
    } rows[] = {
        { "BQ2LowPassPE", 0, -1.9929499544928433, 0.99687248213489, 0.0009806319105117329,
          0.0019612638210234658, 0.0009806319105117329 },
        { "BQ2BandPassPE", 0, -1.9929499544928433, 0.99687248213489, 0.0015637589325549896, 0,
          -0.0015637589325549896 },
        { "BQ2AllPassPE", 0, -1.9929499544928433, 0.99687248213489, 0.99687248213489,
          -1.9929499544928433, 1 },
        { "BQ2PeakPE", -6, -1.989853046037509, 0.9937694783388304, 0.9984460681271236,
          -1.989853046037509, 0.9953234102117071 },
        { "BQ2HighShelfPE", 6, -1.9113981953542545, 0.9151602126790416, 1.9696071436595646,
          -3.8156128851256788, 1.8497677587909012 },
        { "BQ2LowShelfPE", -6, -1.8749596289214383, 0.8823299619830329, 0.9818978806168475,
          -1.8767978370332095, 0.8985938732544143 },
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        pg_graph *g = t_graph(44100);
        double imp[8] = { 1 };
        int src = ADD(g, "ArrayPE", t_arr(NULL, 1, 8, imp));
        bool shelf = strstr(rows[k].kind, "Shelf") != NULL;
        bool peak = strstr(rows[k].kind, "Peak") != NULL;
        pg_arg a[4] = { t_node(NULL, src), t_num("f0", 440), t_num("q", 20),
                        t_num("gain_db", rows[k].gain_db) };
        if (shelf) // no q
            a[2] = a[3];
        int f = t_add(g, rows[k].kind, a, shelf ? 3 : peak ? 4 : 3);
        float y[3];
        CHECK_STATUS(t_render(g, f, 0, 3, 1, y), PG_OK);
        double h0 = rows[k].b0, h1 = rows[k].b1 - rows[k].a1 * h0;
        CHECK_NEAR(y[0], h0, 1e-6);
        CHECK_NEAR(y[1], h1, 1e-6);
        CHECK_NEAR(y[2], rows[k].b2 - rows[k].a1 * h1 - rows[k].a2 * h0, 1e-6);
        pg_graph_free(g);
    }
}

// test_render2, on a stereo source: both channels give pygmu's numbers.
static void test_render2_stereo(void) {
    static const double want[20] = {
        0,          0.00096702, 0.00480155, 0.01236733, 0.02352002, 0.03810586, 0.05596255,
        0.07692014, 0.10080193, 0.12742535, 0.15660288, 0.18814286, 0.22185046, 0.25752842,
        0.29497797, 0.33399963, 0.37439395, 0.41596237, 0.45850787, 0.50183575,
    };
    pg_graph *g = t_graph(44100);
    double x[40] = { 0 };
    for (int i = 1; i < 20; i++)
        x[i] = x[20 + i] = 1;
    int src = ADD(g, "ArrayPE", t_arr(NULL, 2, 20, x));
    int f = ADD(g, "BQ2LowPassPE", t_node(NULL, src), t_num("f0", 440), t_num("q", 2));
    CHECK_EQ_I64(pg_graph_node_channels(g, f), 2);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, f), 44100);
    CHECK_EQ_I64(pg_graph_node_sound_extent(g, f).start, 0);
    float y[40];
    CHECK_STATUS(t_render(g, f, 0, 20, 64, y), PG_OK);
    for (int i = 0; i < 20; i++) {
        CHECK_NEAR(y[i], want[i], 1.5e-6);
        CHECK_NEAR(y[20 + i], want[i], 1.5e-6);
    }
    pg_graph_free(g);
}

// Each channel has its own history: a 3-channel input of sines at 1, 2 and 3 kHz through a
// 2 kHz low-pass comes out with the prototype's gain at each channel's frequency.
static void test_channels_independent(void) {
    pg_graph *g = t_graph(48000);
    int n = 24000;
    int f = ADD(g, "BQ2LowPassPE", t_node(NULL, sines(g, 1000, 48000, 3, n)), t_num("f0", 2000),
                t_num("q", 5));
    float *y = calloc((size_t)(3 * n), sizeof *y);
    CHECK_STATUS(t_render(g, f, 0, n, 4096, y), PG_OK);
    for (int c = 0; c < 3; c++) {
        double fc = 1000.0 * (c + 1);
        double want = lp_gain(omega(fc, 2000, 48000), 5);
        CHECK_NEAR(gain_of(y, c, n, 12000, (int)(48000 / fc)) / want, 1.0, 2e-4);
    }
    free(y);
    pg_graph_free(g);
}

// Channels are filtered two at a time (in the lanes of a vector): each must still be, bit
// for bit, the mono filter of that channel alone, for any block size (blocks of 7 start
// half the blocks at an odd frame, where the formula changes) and with an odd channel out.
static void test_channels_are_monos(void) {
    enum {
        ROWS = 3,
        N = 5000
    };
    double *x = malloc(sizeof *x * ROWS * N);
    uint64_t s = 1;
    for (int i = 0; i < ROWS * N; i++) { // noise: every frame matters
        s = s * 6364136223846793005u + 1442695040888963407u;
        x[i] = (double)(s >> 11) * 0x1p-52 - 1.0;
    }
    pg_graph *g = t_graph(48000);
    int all = ADD(g, "BQ2LowPassPE", t_node(NULL, ADD(g, "ArrayPE", t_arr(NULL, ROWS, N, x))),
                  t_num("f0", 3000), t_num("q", 3));
    float *y = calloc(ROWS * N, sizeof *y), *mono = calloc(N, sizeof *mono);
    CHECK_STATUS(t_render(g, all, 0, N, 7, y), PG_OK);
    for (int c = 0; c < ROWS; c++) {
        int one =
            ADD(g, "BQ2LowPassPE", t_node(NULL, ADD(g, "ArrayPE", t_arr(NULL, 1, N, x + c * N))),
                t_num("f0", 3000), t_num("q", 3));
        CHECK_STATUS(t_render(g, one, 0, N, 4096, mono), PG_OK);
        CHECK(memcmp(y + c * N, mono, sizeof *mono * N) == 0);
    }
    free(x);
    free(y);
    free(mono);
    pg_graph_free(g);
}

// .lowpass() and .highpass() default to f0 330, q 10 (gain q at f0), .bandpass() to
// f0 830, q 4 (gain 1 at f0): rates of 100 frames per period of f0.
static void check_method(const char *method, int fs, double f0, double want) {
    int k = pg_kind_find_method(method);
    CHECK(k >= 0);
    if (k < 0)
        return;
    pg_graph *g = t_graph(fs);
    int n = 30000;
    int src = sines(g, f0, fs, 1, n);
    int f = ADD(g, pg_kind_name(k), t_node(NULL, src));
    float *y = calloc((size_t)n, sizeof *y);
    CHECK_STATUS(t_render(g, f, 0, n, 64, y), PG_OK);
    CHECK_NEAR(gain_of(y, 0, n, 20000, 100) / want, 1.0, 5e-4);
    free(y);
    pg_graph_free(g);
}

static void test_methods(void) {
    check_method("lowpass", 33000, 330, 10);
    check_method("highpass", 33000, 330, 10);
    check_method("bandpass", 83000, 830, 1);
    // a method with arguments is the constructor with the same ones
    pg_graph *g = t_graph(48000);
    int src = sines(g, 700, 48000, 2, 5000);
    int k = pg_kind_find_method("highpass");
    int m = ADD(g, pg_kind_name(k), t_node(NULL, src), t_num(NULL, 500), t_num(NULL, 2));
    int c = ADD(g, "BQ2HighPassPE", t_node(NULL, src), t_num("f0", 500), t_num("q", 2));
    float ym[10000], yc[10000];
    CHECK_STATUS(t_render(g, m, 0, 5000, 64, ym), PG_OK);
    CHECK_STATUS(t_render(g, c, 0, 5000, 64, yc), PG_OK);
    CHECK(memcmp(ym, yc, sizeof ym) == 0);
    CHECK_STATUS(STATUS(g, pg_kind_name(k), t_node(NULL, src), t_int("frame_rate", 48000)),
                 PG_ERR_ARG); // the methods take no frame_rate
    pg_graph_free(g);
}

static void test_shapes_and_errors(void) {
    pg_graph *g = t_graph(48000);
    double x[6] = { 1, 2, 3, 4, 5, 6 };
    int stereo = ADD(g, "ArrayPE", t_arr(NULL, 2, 3, x));
    int f = ADD(g, "BQ2BandRejectPE", t_node(NULL, stereo));
    CHECK_EQ_I64(pg_graph_node_channels(g, f), 2);
    pg_extent e = pg_graph_node_sound_extent(g, f);
    CHECK(e.start == 0 && e.end > 3); // the source's extent plus the ring-out
    // QUIRK Q15: Biquad2PE alone would output zeros in pygmu; here it is an error
    CHECK_STATUS(STATUS(g, "Biquad2PE", t_node(NULL, stereo)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "BQ2HighPassPE", t_node(NULL, stereo), t_num("f0", 24000)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "BQ2HighPassPE", t_node(NULL, stereo), t_num("q", 0)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "BQ2HighShelfPE", t_node(NULL, stereo), t_num("gain_db", 1e6)),
                 PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "BQ2LowPassPE", t_node(NULL, stereo), t_int("frame_rate", 0)),
                 PG_ERR_ARG);
    CHECK_STATUS(t_add_status(g, "BQ2LowPassPE", NULL, 0), PG_ERR_ARG); // src_pe is required
    // the first and last frames of a stereo impulse: b0 on both channels, ring-out to ~0
    double imp[2] = { 1, -1 };
    int src = ADD(g, "ArrayPE", t_arr(NULL, 2, 1, imp));
    f = ADD(g, "BQ2LowPassPE", t_node(NULL, src), t_num("f0", 4800), t_num("q", 1));
    e = pg_graph_node_sound_extent(g, f);
    int64_t n = e.end;
    float *y = calloc((size_t)(2 * n), sizeof *y);
    CHECK_STATUS(t_render(g, f, 0, n, 7, y), PG_OK);
    double k = tan(PI / 10), b0 = k * k / (1 + k + k * k);
    CHECK_NEAR(y[0], b0, 1e-7);
    CHECK_NEAR(y[n], -b0, 1e-7);
    CHECK(fabs(y[n - 1]) < 1e-9 && fabs(y[2 * n - 1]) < 1e-9);
    free(y);
    pg_graph_free(g);
    g = pg_graph_new(0);
    src = ADD(g, "ArrayPE", t_arr(NULL, 2, 3, x));
    CHECK_STATUS(STATUS(g, "BQ2LowPassPE", t_node(NULL, src)), PG_ERR_RATE);
    f = ADD(g, "BQ2LowPassPE", t_node(NULL, src), t_int("frame_rate", 1234), t_num("f0", 100));
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, f), 1234);
    pg_graph_free(g);
}

static void test_block_invariance(void) {
    pg_graph *g = t_graph(48000);
    int src = sines(g, 431, 48000, 2, 6000);
    int f = ADD(g, "BQ2PeakPE", t_node(NULL, src), t_num("f0", 900), t_num("q", 8),
                t_num("gain_db", -9));
    CHECK(t_block_invariant(g, f, 0, pg_graph_node_sound_extent(g, f).end));
    int k = pg_kind_find_method("bandpass");
    f = ADD(g, pg_kind_name(k), t_node(NULL, src));
    CHECK(t_block_invariant(g, f, -100, 7000));
    pg_graph_free(g);
}

int main(void) {
    test_coefficient_tables();
    test_render2_stereo();
    test_channels_independent();
    test_channels_are_monos();
    test_methods();
    test_shapes_and_errors();
    test_block_invariance();
    return check_done();
}
