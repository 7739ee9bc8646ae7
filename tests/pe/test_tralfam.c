// test_tralfam.c: TralfamPE(src_pe, seed=None): out[t] = real(IFFT(|A_k| e^{i phi_k}))[t] =
// (1/n) sum_k |A_k| cos(2 pi k t / n + phi_k), A = DFT of the source's n frames, phi_k =
// 2 pi u_k with u_k the top 53 bits of XXH3_64bits_withSeed(&k, 8, seed) / 2^53 (the
// documented scheme, QUIRK Q54). Checked against that sum in double (DFT done here), for a
// source away from frame 0 (pygmu indexed by absolute time), stereo (shared phases), seeds,
// bad arguments and block invariance.
#include <math.h>
#include <stdlib.h>
#include <xxhash.h>

#include "check.h"

#define TWO_PI 6.283185307179586476925286766559

static int array(pg_graph *g, int rows, int cols, const double *data) {
    pg_arg a[] = { t_arr(NULL, rows, cols, data) };
    return t_add(g, "ArrayPE", a, 1);
}

static int tralfam(pg_graph *g, int src, int64_t seed) {
    pg_arg a[] = { t_node(NULL, src), t_int("seed", seed) };
    return t_add(g, "TralfamPE", a, seed < 0 ? 1 : 2);
}

// The closed form for one row x of n frames (as float32, as the source renders it).
static void smear(const double *x, int64_t n, uint64_t seed, double *out) {
    double *mag = malloc(sizeof(double) * (size_t)n);
    for (int64_t k = 0; k < n; k++) {
        double re = 0.0, im = 0.0;
        for (int64_t t = 0; t < n; t++) {
            double w = -TWO_PI * (double)((k * t) % n) / (double)n;
            re += (double)(float)x[t] * cos(w);
            im += (double)(float)x[t] * sin(w);
        }
        mag[k] = hypot(re, im);
    }
    for (int64_t t = 0; t < n; t++) {
        double y = 0.0;
        for (int64_t k = 0; k < n; k++) {
            double u = (double)(XXH3_64bits_withSeed(&k, sizeof k, seed) >> 11) * 0x1p-53;
            y += mag[k] * cos(TWO_PI * (double)((k * t) % n) / (double)n + TWO_PI * u);
        }
        out[t] = y / (double)n;
    }
    free(mag);
}

// A stereo source of 200 frames at [300, 500): each row smeared with the same phases; the
// output sits at [300, 500) too. Seed None is seed 0.
static void test_closed_form(void) {
    enum {
        N = 200
    };
    pg_graph *g = t_graph(0);
    double x[2 * N], want[2 * N];
    t_fill_random(x, 2 * N, 1);
    pg_arg sa[] = { t_node(NULL, array(g, 2, N, x)), t_int(NULL, 300) };
    int src = t_add(g, "TimeShiftPE", sa, 2);
    int a = tralfam(g, src, -1), b = tralfam(g, src, 42);
    CHECK_EQ_I64(pg_graph_node_extent(g, a).start, 300);
    CHECK_EQ_I64(pg_graph_node_extent(g, a).end, 300 + N);
    CHECK_EQ_I64(pg_graph_node_channels(g, a), 2);
    float ya[2 * N], yb[2 * N];
    CHECK_STATUS(t_render(g, a, 300, 300 + N, 7, ya), PG_OK);
    CHECK_STATUS(t_render(g, b, 300, 300 + N, 64, yb), PG_OK);
    smear(x, N, 0, want);
    smear(x + N, N, 0, want + N);
    for (int i = 0; i < 2 * N; i++)
        CHECK_NEAR(ya[i], want[i], 1e-5);
    smear(x, N, 42, want);
    for (int i = 0; i < N; i++)
        CHECK_NEAR(yb[i], want[i], 1e-5);
    pg_graph_free(g);
}

// A partial window straddling the start (pygmu: NameError) reads zeros before it.
static void test_partial(void) {
    enum {
        N = 64
    };
    pg_graph *g = t_graph(0);
    double x[N], want[N];
    t_fill_random(x, N, 2);
    pg_arg sa[] = { t_node(NULL, array(g, 1, N, x)), t_int(NULL, 10) };
    int node = tralfam(g, t_add(g, "TimeShiftPE", sa, 2), 5);
    float y[N + 20];
    CHECK_STATUS(t_render(g, node, 0, N + 20, 7, y), PG_OK);
    smear(x, N, 5, want);
    for (int i = 0; i < N + 20; i++)
        CHECK_NEAR(y[i], i >= 10 && i < 10 + N ? want[i - 10] : 0.0, 1e-5);
    pg_graph_free(g);
}

static void test_bad(void) {
    pg_graph *g = t_graph(0);
    pg_arg a[] = { t_node(NULL, t_add(g, "IdentityPE", NULL, 0)) };
    CHECK_STATUS(t_add_status(g, "TralfamPE", a, 1), PG_ERR_EXTENT);
    pg_arg b[] = { t_num(NULL, 1.0) };
    CHECK_STATUS(t_add_status(g, "TralfamPE", b, 1), PG_ERR_ARG);
    pg_graph_free(g);
}

// Bit-identical at blocks 1, 7, 64, 4096 (5000 frames, an awkward FFT size 5000 = 2^3 5^4).
static void test_blocks(void) {
    enum {
        N = 5000
    };
    pg_graph *g = t_graph(0);
    double *x = malloc(sizeof(double) * N);
    t_fill_random(x, N, 3);
    int node = tralfam(g, array(g, 1, N, x), 9);
    CHECK(t_block_invariant(g, node, 0, N));
    free(x);
    pg_graph_free(g);
}

// TralfamPE computes everything in init: it is a buffer, which the render cache keeps
// (stored with its source, read whole, so a buffer too), and a warm render loads it and
// nothing else (its init, the FFTs, never runs).
static void test_cached(void) {
    enum {
        N = 3000
    };
    pg_graph *g = t_graph(48000);
    double *x = malloc(sizeof(double) * N);
    t_fill_random(x, N, 4);
    pg_render_stats cold, warm;
    CHECK(t_render_twice(g, tralfam(g, array(g, 1, N, x), 9), N, "tralfam", &cold, &warm));
    CHECK_EQ_I64(cold.cache_misses, 2);
    CHECK_EQ_I64(warm.cache_hits, 1);
    CHECK_EQ_I64(warm.materialised, 1);
    CHECK_EQ_I64(warm.cache_misses, 0);
    free(x);
    pg_graph_free(g);
}

int main(void) {
    test_closed_form();
    test_partial();
    test_bad();
    test_blocks();
    test_cached();
    return check_done();
}
