// test_granular.c: GranularPE(src_pe, grain_size=0.81, grain_overlap=0.15, frame_rate=None,
// seed=0) and .granular(0.1, 0.5). Grains of G = int(size fr) frames every hop =
// int(G (1 - overlap)) from the source's start, each reading the source from its own start
// scattered by XXH3(k, seed) over [-G, G] (kept inside the source), under a periodic Hann
// window, the sum scaled by min(1, 2 hop / G). Expectations from those formulas.
#include <math.h>
#include <stdlib.h>
#include <xxhash.h>

#include "check.h"

#define PI 3.14159265358979323846

static int crop(pg_graph *g, int src, pg_frame s, pg_frame e) {
    pg_arg c[] = { t_node(NULL, src), t_ext(NULL, s, e) };
    return t_add(g, "CropPE", c, 2);
}

static int granular(pg_graph *g, int src, double size, double overlap, int64_t seed) {
    pg_arg a[] = { t_node(NULL, src), t_num(NULL, size), t_num(NULL, overlap),
                   t_int("seed", seed) };
    return t_add(g, "GranularPE", a, 4);
}

static double hann(long j, long len) {
    return 0.5 - 0.5 * cos(2.0 * PI * (double)j / (double)len);
}

// Where grain k reads (the documented hash), for a source on [s, e) and grains from s.
static long grain_read(long k, long len, long hop, long s, long e, uint64_t seed) {
    int64_t key = k;
    double u = (double)(XXH3_64bits_withSeed(&key, sizeof key, seed) >> 11) * 0x1p-53;
    long p = s + k * hop + (long)(u * (double)(2 * len + 1)) - len;
    p = p > e - len ? e - len : p;
    return p < s ? s : p;
}

// A constant source: every grain reads 1s, so out = sum of the windows over the grains.
// Overlap 0.5 with an even G: periodic Hann windows sum to exactly 1 between the ramps.
static void test_constant(void) {
    pg_graph *g = t_graph(1000);
    pg_arg k[] = { t_num(NULL, 1.0) };
    int src = crop(g, t_add(g, "ConstPE", k, 1), 0, 1000);
    int gr = granular(g, src, 0.1, 0.5, 0); // G = 100, hop = 50, 20 grains, scale 1
    CHECK_EQ_I64(pg_graph_node_extent(g, gr).start, 0);
    CHECK_EQ_I64(pg_graph_node_extent(g, gr).end, 1000);       // nominal: pygmu's E(src)
    CHECK_EQ_I64(pg_graph_node_sound_extent(g, gr).end, 1050); // last grain: 950 + 100
    static float out[1080];
    CHECK_STATUS(t_render(g, gr, -10, 1070, 64, out), PG_OK);
    int bad = 0;
    for (long t = -10; t < 1070; t++) {
        double want = 0;
        for (long kk = 0; kk < 20; kk++)
            if (t - 50 * kk >= 0 && t - 50 * kk < 100)
                want += hann(t - 50 * kk, 100);
        bad += fabs((double)out[t + 10] - want) > 1e-6;
    }
    CHECK_EQ_I64(bad, 0);
    CHECK_NEAR(out[10], 0.0, 0);                     // first frame: window value 0
    CHECK_NEAR(out[10 + 500], 1.0, 1e-6);            // steady state
    CHECK_NEAR(out[10 + 1049], hann(99, 100), 1e-6); // last frame of the last grain
    CHECK_NEAR(out[10 + 1050], 0.0, 0);
    // overlap 0.75: hop 25, four windows overlap summing to 2, scaled by 2 * 25 / 100
    int g2 = granular(g, src, 0.1, 0.75, 0);
    CHECK_STATUS(t_render(g, g2, 400, 410, 3, out), PG_OK);
    CHECK_NEAR(out[0], 1.0, 1e-6);
    pg_graph_free(g);
}

// A ramp source x(t) = t on [0, 2000): with no overlap each frame has one grain, so
// out(t) = w(j) (p_k + j) with j = t - 100 k: the read start of each grain is recovered and
// compared with the hash; it stays within G of the grain's own time.
static void test_scatter(void) {
    pg_graph *g = t_graph(1000);
    int src = crop(g, t_add(g, "IdentityPE", NULL, 0), 0, 2000);
    for (uint64_t seed = 0; seed < 3; seed++) {
        int gr = granular(g, src, 0.1, 0.0, (int64_t)seed);
        static float out[2000];
        CHECK_STATUS(t_render(g, gr, 0, 2000, 128, out), PG_OK);
        int bad = 0, far = 0;
        for (long t = 0; t < 2000; t++) {
            long k = t / 100, j = t % 100, p = grain_read(k, 100, 100, 0, 2000, seed);
            bad += fabs((double)out[t] - hann(j, 100) * (double)(p + j)) > 1e-3;
            far += labs(p - 100 * k) > 100 || p < 0 || p + 100 > 2000;
        }
        CHECK_EQ_I64(bad, 0);
        CHECK_EQ_I64(far, 0);
    }
    // different seeds scatter differently; the same seed is the same
    static float a[2000], b[2000];
    CHECK_STATUS(t_render(g, granular(g, src, 0.1, 0.0, 1), 0, 2000, 64, a), PG_OK);
    CHECK_STATUS(t_render(g, granular(g, src, 0.1, 0.0, 2), 0, 2000, 64, b), PG_OK);
    int differ = 0;
    for (int i = 0; i < 2000; i++)
        differ += a[i] != b[i];
    CHECK(differ > 1000);
    pg_graph_free(g);
}

// Channels share grain positions; an indefinite source grains from frame 0, forever.
static void test_channels_and_extents(void) {
    pg_graph *g = t_graph(1000);
    static double d[2 * 300];
    for (int i = 0; i < 300; i++) {
        d[i] = sin(i * 0.1);
        d[300 + i] = 2 * d[i];
    }
    pg_arg a[] = { t_arr(NULL, 2, 300, d), t_int("frame_rate", 1000) };
    int gr = granular(g, t_add(g, "ArrayPE", a, 2), 0.02, 0.5, 5);
    CHECK_EQ_I64(pg_graph_node_channels(g, gr), 2);
    static float out[2 * 320];
    CHECK_STATUS(t_render(g, gr, 0, 320, 32, out), PG_OK);
    int bad = 0;
    for (int i = 0; i < 320; i++)
        bad += fabs((double)out[320 + i] - 2.0 * (double)out[i]) > 1e-6;
    CHECK_EQ_I64(bad, 0);
    int inf = granular(g, t_add(g, "IdentityPE", NULL, 0), 0.1, 0.0, 0);
    CHECK_EQ_I64(pg_graph_node_extent(g, inf).start, PG_FRAME_MIN);
    CHECK_EQ_I64(pg_graph_node_sound_extent(g, inf).end, PG_FRAME_MAX);
    CHECK_STATUS(t_render(g, inf, -300, -200, 16, out), PG_OK); // grain k = -3 on [-300, -200)
    long p =
        -300 +
        (long)((double)(XXH3_64bits_withSeed(&(int64_t){ -3 }, 8, 0) >> 11) * 0x1p-53 * 201.0) -
        100;
    CHECK_NEAR(out[50], hann(50, 100) * (double)(p + 50), 1e-3);
    int empty = granular(g, crop(g, t_add(g, "IdentityPE", NULL, 0), 5, 5), 0.1, 0.5, 0);
    CHECK(pg_extent_is_empty(pg_graph_node_sound_extent(g, empty)));
    pg_graph_free(g);
}

static void test_blocks_and_method(void) {
    pg_graph *g = t_graph(0);
    pg_arg s[] = { t_num(NULL, 220.0) };
    int saw = crop(g, t_add(g, "BlitSawPE", s, 1), 0, 20000); // stateful: materialised
    CHECK(t_block_invariant(g, granular(g, saw, 0.01, 0.6, 3), -100, 21000));
    int k = pg_kind_find_method("granular");
    CHECK(k >= 0 && k != pg_kind_find("GranularPE"));
    pg_arg m[] = { t_node(NULL, saw) };
    int method = t_add(g, pg_kind_name(k), m, 1); // .granular(): 0.1 s, overlap 0.5
    pg_arg c[] = { t_node(NULL, saw), t_num(NULL, 0.1), t_num(NULL, 0.5) };
    int ctor = t_add(g, "GranularPE", c, 3);
    static float a[20000], b[20000];
    CHECK_STATUS(t_render(g, method, 0, 20000, 4096, a), PG_OK);
    CHECK_STATUS(t_render(g, ctor, 0, 20000, 4096, b), PG_OK);
    int bad = 0;
    for (int i = 0; i < 20000; i++)
        bad += a[i] != b[i];
    CHECK_EQ_I64(bad, 0);
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(1000);
    int src = crop(g, t_add(g, "IdentityPE", NULL, 0), 0, 100);
    pg_arg zero[] = { t_node(NULL, src), t_num(NULL, 0.0) };
    CHECK_STATUS(t_add_status(g, "GranularPE", zero, 2), PG_ERR_ARG);
    pg_arg tiny[] = { t_node(NULL, src), t_num(NULL, 0.001) }; // 1 frame at 1 kHz
    CHECK_STATUS(t_add_status(g, "GranularPE", tiny, 2), PG_ERR_ARG);
    pg_arg huge[] = { t_node(NULL, src), t_num(NULL, 11.0) };
    CHECK_STATUS(t_add_status(g, "GranularPE", huge, 2), PG_ERR_ARG);
    pg_arg one[] = { t_node(NULL, src), t_num(NULL, 0.1), t_num(NULL, 1.0) };
    CHECK_STATUS(t_add_status(g, "GranularPE", one, 3), PG_ERR_ARG);
    pg_arg neg[] = { t_node(NULL, src), t_num(NULL, 0.1), t_num(NULL, -0.1) };
    CHECK_STATUS(t_add_status(g, "GranularPE", neg, 3), PG_ERR_ARG);
    pg_arg rate[] = { t_node(NULL, src), t_int("frame_rate", 48000) };
    CHECK_STATUS(t_add_status(g, "GranularPE", rate, 2), PG_ERR_RATE);
    pg_arg seed[] = { t_node(NULL, src), t_num("seed", 1.5) };
    CHECK_STATUS(t_add_status(g, "GranularPE", seed, 2), PG_ERR_ARG);
    pg_arg nosrc[] = { t_num("grain_size", 0.1) };
    CHECK_STATUS(t_add_status(g, "GranularPE", nosrc, 1), PG_ERR_ARG);
    pg_graph_free(g);
}

int main(void) {
    test_constant();
    test_scatter();
    test_channels_and_extents();
    test_blocks_and_method();
    test_bad_args();
    return check_done();
}
