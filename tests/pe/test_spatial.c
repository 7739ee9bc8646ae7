// test_spatial.c: SpatialPE(src_pe, degree=0, theta=None, curve='cosine', frame_rate=None).
// Left/right gains (cos w, sin w), w = (theta + pi/2)/2 ('cosine'); (1 - u, u),
// u = (theta + pi/2)/pi ('linear'); (1, 1) ('none'). The far ear lags by
// int((0.22/343) sin(theta) rate) frames: 30 at +-90 degrees, 21 at +-45 at 48 kHz (the
// catalogue's verified table). QUIRK Q49: mono mix is a mean and the tail is kept. Last, a
// slice of conformance piece 03 against pygmu's own render.
#include <math.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define PI 3.14159265358979323846

static int crop(pg_graph *g, int src, pg_frame s, pg_frame e) {
    pg_arg a[] = { t_node(NULL, src), t_ext(NULL, s, e) };
    return t_add(g, "CropPE", a, 2);
}

static int cnst(pg_graph *g, double v) {
    pg_arg a[] = { t_num(NULL, v) };
    return t_add(g, "ConstPE", a, 1);
}

static int pan(pg_graph *g, int src, double degree, const char *curve) {
    pg_arg a[] = { t_node(NULL, src), t_num("degree", degree), t_str("curve", curve) };
    return t_add(g, "SpatialPE", a, 3);
}

// Checks a pan of a constant-1 mono source on [0, 100): the near ear is gl or gr on
// [0, 100); the far ear (left when left_late) the same gain on [delay, 100 + delay).
static void check_pan(pg_graph *g, int node, double gl, double gr, int delay, int left_late) {
    enum {
        N = 140
    };
    CHECK_EQ_I64(pg_graph_node_channels(g, node), 2);
    CHECK_EQ_I64(pg_graph_node_extent(g, node).start, 0);
    CHECK_EQ_I64(pg_graph_node_extent(g, node).end, 100 + delay);
    float out[2 * N];
    CHECK_STATUS(t_render(g, node, -5, N - 5, 7, out), PG_OK);
    int bad = 0;
    for (int ear = 0; ear < 2; ear++) {
        int lag = (ear == 0) == (left_late != 0) ? delay : 0;
        double gain = ear == 0 ? gl : gr;
        for (int i = 0; i < N; i++) {
            int t = i - 5;
            double want = t >= lag && t < 100 + lag ? gain : 0.0;
            bad += fabs((double)out[ear * N + i] - want) > 1e-7; // gain in double, applied in float
        }
    }
    CHECK_EQ_I64(bad, 0);
    CHECK(t_block_invariant(g, node, -5, 140));
}

static void test_cosine_table(void) {
    pg_graph *g = t_graph(0);
    int src = crop(g, cnst(g, 1), 0, 100);
    // (degree, left, right, delay, left is late)
    check_pan(g, pan(g, src, -90, "cosine"), 1.0, 0.0, 30, 0);
    check_pan(g, pan(g, src, -45, "cosine"), cos(PI / 8), sin(PI / 8), 21, 0);
    check_pan(g, pan(g, src, 0, "cosine"), cos(PI / 4), sin(PI / 4), 0, 0);
    check_pan(g, pan(g, src, 45, "cosine"), cos(3 * PI / 8), sin(3 * PI / 8), 21, 1);
    check_pan(g, pan(g, src, 90, "cosine"), cos(PI / 2), 1.0, 30, 1);
    CHECK_NEAR(cos(PI / 8), 0.92388, 1e-5); // the catalogue's verified gains
    CHECK_NEAR(sin(PI / 8), 0.38268, 1e-5);
    // 0.22/343 * sin(pi/4) * 48000 = 21.77 and 0.22/343 * 48000 = 30.79, truncated
    CHECK_NEAR(0.22 / 343 * sin(PI / 4) * 48000, 21.77, 0.01);
    CHECK_NEAR(0.22 / 343 * 48000, 30.79, 0.01);
    // the default degree is the centre, the default curve cosine
    pg_arg a[] = { t_node(NULL, src) };
    check_pan(g, t_add(g, "SpatialPE", a, 1), cos(PI / 4), sin(PI / 4), 0, 0);
    pg_graph_free(g);
}

static void test_linear_none_theta(void) {
    pg_graph *g = t_graph(0);
    int src = crop(g, cnst(g, 1), 0, 100);
    check_pan(g, pan(g, src, 45, "linear"), 0.25, 0.75, 21, 1);
    check_pan(g, pan(g, src, -90, "linear"), 1.0, 0.0, 30, 0);
    check_pan(g, pan(g, src, 0, "linear"), 0.5, 0.5, 0, 0);
    check_pan(g, pan(g, src, 45, "none"), 1.0, 1.0, 21, 1);
    check_pan(g, pan(g, src, -60, "none"), 1.0, 1.0, 26, 0); // 30.79 sin 60 = 26.66
    // theta (radians) overrides degree
    pg_arg th[] = { t_node(NULL, src), t_num("degree", 45), t_num("theta", -PI / 2) };
    check_pan(g, t_add(g, "SpatialPE", th, 3), 1.0, 0.0, 30, 0);
    pg_graph_free(g);
}

// A ramp source shows which ear lags: IdentityPE on [0, 1000) at 45 degrees,
// left(t) = gl * (t - 21) on [21, 1021), right(t) = gr * t on [0, 1000).
static void test_delay_closed_form(void) {
    pg_graph *g = t_graph(0);
    int src = crop(g, t_add(g, "IdentityPE", NULL, 0), 0, 1000);
    int p = pan(g, src, 45, "cosine");
    enum {
        N = 1030
    };
    float out[2 * N];
    CHECK_STATUS(t_render(g, p, 0, N, 64, out), PG_OK);
    float gl = (float)cos(3 * PI / 8), gr = (float)sin(3 * PI / 8);
    int bad = 0;
    for (int t = 0; t < N; t++) {
        float wl = t >= 21 && t < 1021 ? (float)(t - 21) * gl : 0.0f;
        float wr = t < 1000 ? (float)t * gr : 0.0f;
        bad += fabs((double)(out[t] - wl)) > 1e-6 * t || fabs((double)(out[N + t] - wr)) > 1e-6 * t;
    }
    CHECK_EQ_I64(bad, 0);
    CHECK(t_block_invariant(g, p, -100, 1100));
    pg_graph_free(g);
}

// QUIRK Q49: a multi-channel source is averaged (pygmu summed: 2.83 here, not 1.41).
static void test_multichannel_mean(void) {
    pg_graph *g = t_graph(0);
    static const double st[] = { 1, 1, 1, 1, 3, 3, 3, 3 };
    pg_arg a2[] = { t_arr(NULL, 2, 4, st) };
    int p = pan(g, t_add(g, "ArrayPE", a2, 1), 0, "cosine");
    float out[8];
    CHECK_STATUS(t_render(g, p, 0, 4, 3, out), PG_OK);
    for (int i = 0; i < 8; i++)
        CHECK_NEAR(out[i], 2.0f * (float)cos(PI / 4), 0);
    static const double three[] = { 1, 2, 6 };
    pg_arg a3[] = { t_arr(NULL, 3, 1, three) };
    int p3 = pan(g, t_add(g, "ArrayPE", a3, 1), 0, "none");
    CHECK_STATUS(t_render(g, p3, 0, 1, 1, out), PG_OK);
    CHECK_NEAR(out[0], 3.0, 0);
    CHECK_NEAR(out[1], 3.0, 0);
    pg_arg sa[] = { t_num(NULL, 300.0) };
    int sn = crop(g, t_add(g, "SinPE", sa, 1), 0, 9000);
    pg_arg sp[] = { t_node(NULL, sn), t_int(NULL, 2) };
    CHECK(t_block_invariant(g, pan(g, t_add(g, "SpreadPE", sp, 2), 60, "cosine"), -50, 9100));
    CHECK(t_block_invariant(g, pan(g, sn, -30, "linear"), -50, 9100));
    pg_graph_free(g);
}

// QUIRK Q48: the frame_rate keyword sets the node's rate and the delay's; without it the
// source's rate counts. Infinite and empty extents.
static void test_rate_and_extents(void) {
    pg_graph *g = t_graph(0);
    int src = crop(g, cnst(g, 1), 0, 100);
    pg_arg fr[] = { t_node(NULL, src), t_num("degree", 90), t_int("frame_rate", 96000) };
    int p = t_add(g, "SpatialPE", fr, 3);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, p), 96000);
    CHECK_EQ_I64(pg_graph_node_extent(g, p).end, 100 + 61); // 61.57 truncated
    pg_arg r[] = { t_num(NULL, 1), t_int("frame_rate", 1234) };
    int slow = crop(g, t_add(g, "ConstPE", r, 2), 0, 100);
    int ps = pan(g, slow, 90, "cosine"); // 0.79 frames: no delay
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, ps), 1234);
    CHECK_EQ_I64(pg_graph_node_extent(g, ps).end, 100);
    int inf = pan(g, cnst(g, 1), 45, "cosine");
    CHECK_EQ_I64(pg_graph_node_extent(g, inf).start, PG_FRAME_MIN);
    CHECK_EQ_I64(pg_graph_node_extent(g, inf).end, PG_FRAME_MAX);
    float out[20];
    CHECK_STATUS(t_render(g, inf, -5, 5, 4, out), PG_OK);
    CHECK_NEAR(out[0], (float)cos(3 * PI / 8), 0);
    CHECK_NEAR(out[19], (float)sin(3 * PI / 8), 0);
    int empty = pan(g, crop(g, src, 200, 300), 45, "cosine");
    CHECK_EQ_I64(pg_graph_node_extent(g, empty).start, 0);
    CHECK_EQ_I64(pg_graph_node_extent(g, empty).end, 0);
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    int src = cnst(g, 1);
    pg_arg curve[] = { t_node(NULL, src), t_num(NULL, 30), t_str("curve", "bogus") };
    CHECK_STATUS(t_add_status(g, "SpatialPE", curve, 3), PG_ERR_ARG);
    pg_arg fr0[] = { t_node(NULL, src), t_int("frame_rate", 0) };
    CHECK_STATUS(t_add_status(g, "SpatialPE", fr0, 2), PG_ERR_ARG);
    pg_arg frn[] = { t_node(NULL, src), t_int("frame_rate", -48000) };
    CHECK_STATUS(t_add_status(g, "SpatialPE", frn, 2), PG_ERR_ARG);
    pg_arg deg[] = { t_node(NULL, src), t_str(NULL, "left") };
    CHECK_STATUS(t_add_status(g, "SpatialPE", deg, 2), PG_ERR_ARG);
    pg_arg th[] = { t_node(NULL, src), t_num("theta", INFINITY) };
    CHECK_STATUS(t_add_status(g, "SpatialPE", th, 2), PG_ERR_ARG);
    pg_arg dinf[] = { t_node(NULL, src), t_num(NULL, -INFINITY) };
    CHECK_STATUS(t_add_status(g, "SpatialPE", dinf, 2), PG_ERR_ARG);
    pg_arg nosrc[] = { t_num("degree", 3) };
    CHECK_STATUS(t_add_status(g, "SpatialPE", nosrc, 1), PG_ERR_ARG);
    int k = pg_kind_find_method("pan");
    CHECK(k >= 0 && strcmp(pg_kind_name(k), "SpatialPE") == 0);
    pg_graph_free(g);
}

// Reads `n` stereo frames of the reference from frame `at` (NULL when it cannot).
static float *read_ref(const char *path, int64_t at, int64_t n) {
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f)
        return NULL;
    float *buf = malloc(sizeof(float) * (size_t)(2 * n));
    int ok = buf && info.channels == 2 && sf_seek(f, at, SEEK_SET) == at &&
             sf_readf_float(f, buf, n) == n;
    sf_close(f);
    if (!ok) {
        free(buf);
        return NULL;
    }
    return buf;
}

// One event of piece 03: SpatialPE(src, degree=d, curve=c).crop([0, 12000)) plays alone in
// the reference over [at, at + 12000). Returns the peak difference.
static double piece03_event(pg_graph *g, int src, double d, const char *curve, int64_t at,
                            const char *ref) {
    enum {
        N = 12000
    };
    float *want = read_ref(ref, at, N), *got = malloc(sizeof(float) * 2 * N);
    double peak = 1.0;
    if (want && got && t_render(g, crop(g, pan(g, src, d, curve), 0, N), 0, N, 4096, got) == 0) {
        peak = 0.0;
        for (int i = 0; i < N; i++)
            for (int c = 0; c < 2; c++)
                peak = fmax(peak, fabs((double)got[c * N + i] - (double)want[2 * i + c]));
    }
    free(want);
    free(got);
    return peak;
}

// Conformance piece 03, its first 21 events (cosine, linear and none at 7 angles each):
// kick = MonoPE(loop, .5).crop([0, 12000)), snare = its [24000, 36000) shifted to 0.
static void test_piece03(void) {
    const char *dir = getenv("PG_SOURCE_DIR");
    char ref[1024], wav[1024];
    snprintf(ref, sizeof ref, "%s/../shared/conformance/03_spatial_pan.ref.wav", dir ? dir : ".");
    snprintf(wav, sizeof wav, "%s/../shared/conformance/data/drumloop_48k.wav", dir ? dir : ".");
    FILE *probe = fopen(ref, "rb");
    if (!probe) {
        printf("test_piece03: %s not found, skipped\n", ref);
        return;
    }
    fclose(probe);
    pg_graph *g = t_graph(0);
    pg_arg wa[] = { t_str(NULL, wav) };
    pg_arg ma[] = { t_node(NULL, t_add(g, "WavReaderPE", wa, 1)), t_num("attenuation", 0.5) };
    int mono = t_add(g, "MonoPE", ma, 2);
    int kick = crop(g, mono, 0, 12000);
    pg_arg sa[] = { t_node(NULL, crop(g, mono, 24000, 36000)), t_int(NULL, -24000) };
    int snare = t_add(g, "TimeShiftPE", sa, 2);
    static const double degrees[] = { 90, 60, 30, 0, -30, -60, -90 };
    static const char *const curves[] = { "cosine", "linear", "none" };
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < 7; k++) {
            int64_t at = 108000 * c + 12000 * k;
            double peak = piece03_event(g, c == 1 ? snare : kick, degrees[k], curves[c], at, ref);
            CHECK_NEAR(peak, 0.0, 3e-5);
        }
    pg_graph_free(g);
}

// A stateful source (BlitSawPE runs in time order from its origin) on [0, n).
static int saw(pg_graph *g, pg_frame n) {
    pg_arg a[] = { t_num(NULL, 440.0) };
    return crop(g, t_add(g, "BlitSawPE", a, 1), 0, n);
}

// A stateful source read with an interaural delay (overlapping pulls).
static void test_stateful_source(void) {
    pg_graph *g = t_graph(0);
    int s = saw(g, 9000);
    CHECK(t_block_invariant(g, pan(g, s, 70, "cosine"), -10, 9100));
    CHECK(t_block_invariant(g, pan(g, s, -20, "linear"), 0, 9100));
    pg_graph_free(g);
}

static int saw_hz(pg_graph *g, double hz) {
    pg_arg a[] = { t_num(NULL, hz) };
    return t_add(g, "BlitSawPE", a, 1);
}

static int node1(pg_graph *g, const char *kind, int src) {
    pg_arg a[] = { t_node(NULL, src) };
    return t_add(g, kind, a, 1);
}

static int shift(pg_graph *g, int src, pg_frame delay) {
    pg_arg a[] = { t_node(NULL, src), t_int("delay", delay) };
    return t_add(g, "TimeShiftPE", a, 2);
}

// A note: the buffer (CachePE) of a saw over [0, 4000), cropped to [0, 3000), shifted to 500.
static int cached_note(pg_graph *g, double hz) {
    int cached = node1(g, "CachePE", crop(g, saw_hz(g, hz), 0, 4000));
    return shift(g, crop(g, cached, 0, 3000), 500);
}

// Whether the one SpatialPE under root is fused (-O1), and -O1 has -O0's bits around the
// note (the far ear's tail included) at every block size.
static void check_fused_pan(pg_graph *g, int root, bool fused) {
    int total = 0;
    CHECK_EQ_I64(t_fused_count(g, root, "SpatialPE", &total), (fused ? 1 : 0));
    CHECK_EQ_I64(total, 1);
    CHECK_FUSED(g, root, 0, 3600, 0.0);
    CHECK_FUSED(g, root, 3490, 30, 0.0); // (the tail alone)
    CHECK(t_block_invariant(g, root, 0, 3600));
}

// A mono buffer under one-input linear nodes is panned in the fused sum, each ear read at its
// own lag and scaled as the kernel scales it (x * gain in float: the same bits), right or
// left late or neither, by degree or theta, every curve; over a mix (read twice, every note
// would be added twice), a stereo source (averaged in double) or a product (a kernel's
// output, not a buffer) the kernel pans.
static void test_fused(void) {
    static const double degrees[] = { 45.0, -45.0, 0.0, -90.0 };
    for (int k = 0; k < 4; k++) {
        pg_graph *g = t_graph(48000);
        check_fused_pan(g, pan(g, cached_note(g, 220.0), degrees[k], "cosine"), true);
        pg_graph_free(g);
    }
    pg_graph *g = t_graph(48000);
    check_fused_pan(g, pan(g, cached_note(g, 220.0), 70.0, "none"), true); // (both gains 1)
    pg_graph_free(g);
    g = t_graph(48000);
    pg_arg by_theta[] = { t_node(NULL, cached_note(g, 220.0)), t_num("theta", -1.2) };
    check_fused_pan(g, t_add(g, "SpatialPE", by_theta, 2), true);
    pg_graph_free(g);
    g = t_graph(48000);
    int gained = t_gain(g, cached_note(g, 220.0), 0.5);
    check_fused_pan(g, t_gain(g, pan(g, gained, 60.0, "linear"), 0.25), true);
    pg_graph_free(g);
    g = t_graph(48000);
    pg_arg two[] = { t_node(NULL, cached_note(g, 220.0)), t_node(NULL, cached_note(g, 330.0)) };
    check_fused_pan(g, pan(g, t_add(g, "MixPE", two, 2), 30.0, "cosine"), false);
    pg_graph_free(g);
    g = t_graph(48000);
    check_fused_pan(g, pan(g, node1(g, "StereoPE", cached_note(g, 220.0)), 30.0, "cosine"), false);
    pg_graph_free(g);
    g = t_graph(48000);
    pg_arg ring[] = { t_node(NULL, cached_note(g, 220.0)), t_node(NULL, cached_note(g, 330.0)) };
    check_fused_pan(g, pan(g, t_add(g, "MulPE", ring, 2), 30.0, "cosine"), false);
    pg_graph_free(g);
}

int main(void) {
    test_cosine_table();
    test_linear_none_theta();
    test_delay_closed_form();
    test_multichannel_mean();
    test_rate_and_extents();
    test_bad_args();
    test_piece03();
    test_stateful_source();
    test_fused();
    return check_done();
}
