// test_blit_saw.c: BlitSawPE(frequency=440.0, n_harmonics=0, frame_rate=None). Expectations:
// the catalogue's pygmu run at 440 Hz / 48 kHz over 5000 frames (first sample 0.490417,
// minimum -0.5946, maximum 0.6760, mean -0.0006; at 440 Hz QUIRK Q17 changes nothing), the
// closed form of the first sample (tmp = a + state - C2 with state = -a/2: a/2 - C2), the
// period p = fr/f, pygmu's own render of 01_tristan (Q17 fixed at run time), whose first
// note sounds alone on [24000, 48000): ref[24000 + i] = 0.2 * saw(i), and pygmu's algorithm
// run here serially in double (the static kernel computes the same values another way).
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

enum {
    FR = 48000
};

// a/2 - C2 for frequency f: p = fr/f, m = 2*floor(p/2) + 1 (or 2n + 1), a = m/p, C2 = 1/p.
static double first_sample(double f, int n_harmonics) {
    double p = FR / f, m = n_harmonics ? 2.0 * n_harmonics + 1 : 2 * floor(p / 2) + 1;
    return m / p / 2 - 1 / p;
}

static int saw(pg_graph *g, double f) {
    return ADD(g, "BlitSawPE", t_num("frequency", f), t_int("frame_rate", FR));
}

static void test_shape(void) {
    pg_graph *g = t_graph(0);
    int s = ADD(g, "BlitSawPE", t_num(NULL, 440), t_int(NULL, 2), t_int(NULL, FR));
    int c = ADD(g, "ConstPE", t_num(NULL, 1.0));
    int d = ADD(g, "BlitSawPE", t_node(NULL, c));
    for (int k = 0; k < 2; k++) {
        int n = k ? d : s;
        CHECK(t_extent_is(pg_graph_node_extent(g, n), PG_FRAME_MIN, PG_FRAME_MAX));
        CHECK_EQ_I64(pg_graph_node_frame_rate(g, n), FR);
        CHECK_EQ_I64(pg_graph_node_channels(g, n), 1);
    }
    pg_graph_free(g);
}

static void test_440(void) {
    enum {
        N = 5000
    };
    pg_graph *g = t_graph(0);
    int s = saw(g, 440);
    static float out[N];
    RENDER(g, s, 0, N, out);
    CHECK_NEAR(out[0], first_sample(440, 0), 1e-7);
    CHECK_NEAR(out[0], 0.490417, 1e-6);
    double lo = 1, hi = -1, sum = 0;
    for (int i = 0; i < N; i++) {
        double x = out[i];
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
        sum += x;
    }
    CHECK_NEAR(lo, -0.5946, 5e-5);
    CHECK_NEAR(hi, 0.6760, 5e-5);
    CHECK_NEAR(sum / N, -0.0006, 5e-5);
    CHECK(t_block_invariant(g, s, 0, 9000));
    pg_graph_free(g);
}

// QUIRK Q17 fixed: the frequency is honoured. At 480 Hz the period is exactly 100 frames:
// once the leaky integrator has settled (0.995^5000 ~ 1e-11) the wave repeats every 100
// frames, and its mean over whole periods is ~0 (the BLIT's DC, 1/p, cancels C2).
static void test_period(void) {
    enum {
        N = 6000
    };
    pg_graph *g = t_graph(0);
    int s = saw(g, 480);
    static float out[N];
    RENDER(g, s, 0, N, out);
    CHECK_NEAR(out[0], first_sample(480, 0), 1e-7);
    double worst = 0, sum = 0;
    for (int t = 5000; t < 5900; t++) {
        double d = fabs((double)out[t + 100] - (double)out[t]);
        worst = d > worst ? d : worst;
        sum += (double)out[t];
    }
    CHECK(worst < 1e-6);
    CHECK_NEAR(sum / 900, 0, 0.01);
    // one jump up per period: count the rises of more than half the peak-to-peak
    int jumps = 0;
    for (int t = 5000; t < 5900; t++)
        jumps += out[t + 1] - out[t] > 0.5f;
    CHECK_EQ_I64(jumps, 9);
    pg_graph_free(g);
}

// n_harmonics = 2 sets m = 5 (a = 5/p); a PE frequency holding 1000 Hz is the static 1000 Hz
// saw (the parameters are the same each frame) up to rounding: the dynamic path runs pygmu's
// serial recurrence, the static one the angle-sum formula and a split integrator, which agree
// within a float ulp or so (test_serial), so 2e-7 (< 2 ulps of |x| < 1). Its first sample uses
// the first frequency's a (QUIRK Q19 fixed: pygmu's 440 Hz state gave 0.500417, ours 0.489583).
static void test_harmonics_and_dynamic(void) {
    enum {
        N = 3000
    };
    pg_graph *g = t_graph(0);
    int h = ADD(g, "BlitSawPE", t_num(NULL, 440), t_int("n_harmonics", 2));
    int c = ADD(g, "ConstPE", t_num(NULL, 1000));
    int d = ADD(g, "BlitSawPE", t_node(NULL, c));
    int s = saw(g, 1000);
    static float a[N], b[N];
    RENDER(g, h, 0, 5, a);
    CHECK_NEAR(a[0], first_sample(440, 2), 1e-7);
    RENDER(g, d, 0, N, a);
    RENDER(g, s, 0, N, b);
    double worst = 0;
    for (int i = 0; i < N; i++) {
        double diff = fabs((double)a[i] - (double)b[i]);
        worst = diff > worst ? diff : worst;
    }
    CHECK(worst <= 2e-7);
    CHECK_NEAR(a[0], 0.489583, 1e-6);
    CHECK(t_block_invariant(g, d, 0, N));
    pg_graph_free(g);
}

// Stateful: the waveform starts at the origin, the first frame the render needs (a crop
// start), not at frame 0.
static void test_origin(void) {
    pg_graph *g = t_graph(0);
    int s = saw(g, 300);
    float a[5], b[5];
    RENDER(g, s, 0, 5, a);
    RENDER(g, s, 1000, 5, b);
    CHECK(memcmp(a, b, sizeof a) == 0);
    pg_graph_free(g);
}

// pygmu's algorithm, serially in double with libm's sin and phi wrapped by fmod at every
// sample: blit_saw_pe.py's render (with Q17 fixed), without its float32 output rounding.
static void serial_saw(double fr, double f, int n_harmonics, int n, double *out) {
    const double pi = 3.14159265358979323846, p = fr / f, c2 = 1 / p, rate = pi / p;
    const double m = n_harmonics ? 2.0 * n_harmonics + 1 : 2 * floor(p / 2) + 1, a = m / p;
    double phi = 0, state = -a / 2;
    for (int i = 0; i < n; i++) {
        double den = sin(phi), tmp = fabs(den) <= 1e-5 ? a : sin(m * phi) / (p * den);
        tmp += state - c2;
        state = 0.995 * tmp;
        out[i] = tmp;
        phi = fmod(phi + rate, pi);
    }
}

// The static kernel (angle-sum phases, split integrator) against the serial algorithm over 5 s
// at 48 and 44.1 kHz, from the lowest piano A to 12 kHz (2 to 1745 harmonics), and with
// n_harmonics = 2. The float output rounds by up to 3e-8 (|saw| < 1); the phases differ by the
// serial rounding (< 1e-11 rad here) and the integrator's 1/(1 - 0.995) = 200 gain turns
// 1e-16 errors into 1e-14 (measured: at most 5.9e-8, 27.5 Hz at 44.1 kHz). 2e-6 leaves room
// for a few ulps and catches any real mistake (a wrong pole or phase shows as 1e-3 or more).
static void test_serial(void) {
    enum {
        N = 240000
    };
    static const double freqs[] = { 27.5, 110, 440, 3520, 12000 };
    static const int rates[] = { 48000, 44100 };
    static double want[N];
    for (int r = 0; r < 2; r++) {
        for (int k = 0; k < 6; k++) {
            double f = k < 5 ? freqs[k] : 440;
            int nh = k < 5 ? 0 : 2;
            pg_graph *g = t_graph(rates[r]);
            int s = ADD(g, "BlitSawPE", t_num(NULL, f), t_int(NULL, nh));
            float *out = t_render_new(g, s, 0, N);
            serial_saw(rates[r], f, nh, N, want);
            double worst = 0;
            for (int i = 0; i < N; i++) {
                double d = fabs((double)out[i] - want[i]);
                worst = d > worst ? d : worst;
            }
            if (worst >= 2e-6)
                printf("serial: %g Hz at %d Hz, n_harmonics %d: worst %g\n", f, rates[r], nh,
                       worst);
            CHECK(worst < 2e-6);
            if (f >= 3520) // poles every 4 to 14 frames: both pole tests of the kernel
                CHECK(t_block_invariant(g, s, 0, 6000));
            free(out);
            pg_graph_free(g);
        }
    }
}

// pygmu's render of 01_tristan.py: the first note, BlitSawPE(pitch_to_freq(53)).gain(0.2)
// cropped to [24000, 240000), alone until 48000.
static void test_reference(void) {
    const char *root = getenv("PG_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/../shared/conformance/01_tristan.ref.wav", root ? root : ".");
    SF_INFO info = { 0 };
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) {
        printf("skipped the reference check: %s not found\n", path);
        return;
    }
    enum {
        S = 24000,
        N = 24000
    };
    static float ref[S + N], out[S + N];
    CHECK_EQ_I64(info.channels, 1);
    CHECK_EQ_I64(sf_readf_float(f, ref, S + N), S + N);
    sf_close(f);
    pg_graph *g = t_graph(FR);
    int note = saw(g, 440.0 * pow(2.0, (53 - 69) / 12.0));
    int gain = ADD(g, "GainPE", t_node(NULL, note), t_num(NULL, 0.2));
    int crop = ADD(g, "CropPE", t_node(NULL, gain), t_ext(NULL, S, 240000));
    RENDER(g, crop, 0, S + N, out);
    double worst = 0;
    for (int i = 0; i < S + N; i++) {
        double d = fabs((double)out[i] - (double)ref[i]);
        worst = d > worst ? d : worst;
    }
    CHECK(worst <= 3e-5);
    RENDER(g, note, S, N, out); // the bare saw, origin at the window start
    worst = 0;
    for (int i = 0; i < N; i++) {
        double d = fabs((double)(out[i] * 0.2f) - (double)ref[S + i]);
        worst = d > worst ? d : worst;
    }
    CHECK(worst <= 3e-5);
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    CHECK_STATUS(STATUS(g, "BlitSawPE", t_num(NULL, 0)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "BlitSawPE", t_num(NULL, -5)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "BlitSawPE", t_num(NULL, INFINITY)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "BlitSawPE", t_num(NULL, 440), t_int(NULL, -1)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "BlitSawPE", t_num(NULL, 440), t_num(NULL, 1.5)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "BlitSawPE", t_str(NULL, "A4")), PG_ERR_ARG);
    CHECK_EQ_I64(pg_graph_node_count(g), 0);
    pg_graph_free(g);
    // shape errors: ConstPE(1).spread(2) as frequency (pygmu's test expects a channel error)
    g = t_graph(0);
    int c = ADD(g, "ConstPE", t_num(NULL, 1));
    int st = ADD(g, "SpreadPE", t_node(NULL, c), t_int(NULL, 2));
    CHECK_STATUS(STATUS(g, "BlitSawPE", t_node(NULL, st)), PG_ERR_CHANNELS);
    int other = ADD(g, "ConstPE", t_num(NULL, 1), t_int(NULL, 44100));
    CHECK_STATUS(STATUS(g, "BlitSawPE", t_node(NULL, other)), PG_ERR_RATE);
    pg_graph_free(g);
    // pygmu's test: a dynamic ConstPE(0.0) must raise an argument error (Q19 fixed)
    const double bad[] = { 0.0, -1.0, (double)INFINITY };
    for (int k = 0; k < 3; k++) {
        g = t_graph(0);
        int f = ADD(g, "ConstPE", t_num(NULL, bad[k]));
        int s = ADD(g, "BlitSawPE", t_node(NULL, f));
        float out[5];
        CHECK_STATUS(t_render(g, s, 0, 5, 5, out), PG_ERR_ARG);
        pg_graph_free(g);
    }
}

int main(void) {
    test_shape();
    test_440();
    test_period();
    test_harmonics_and_dynamic();
    test_origin();
    test_reference();
    test_serial();
    test_bad_args();
    return check_done();
}
