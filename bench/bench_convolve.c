// bench_convolve.c: render speed of ConvolvePE through the public API: 60 s of stereo noise
// (48 kHz) convolved with a 3 s stereo impulse response (decaying noise), both ArrayPEs, the
// whole extent rendered with pg_render_all. Prints the best and median of 5 renders as
// seconds and as a realtime factor (audio seconds / render seconds); the target is >= 400x
// on the project's 2-core machines.
//   usage: bench_convolve [seconds=60] [ir_seconds=3] [runs=5]
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pygmu.h"

enum {
    RATE = 48000
};

static double now_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

// Noise in [-1, 1) from a 64-bit LCG, times an exponential decay of time constant tau
// frames (0: none).
static void fill(double *x, int64_t n, uint64_t seed, double tau) {
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        double u = (double)(seed >> 11) * 0x1p-52 - 1.0;
        x[i] = tau > 0.0 ? u * exp(-(double)(i % (n / 2)) / tau) : u;
    }
}

static int add(pg_graph *g, const char *kind, const pg_arg *a, int n) {
    pg_diag err;
    int id = pg_graph_add(g, kind, a, n, (pg_srcloc){ 0, 0, 0 }, &err);
    if (id < 0)
        fprintf(stderr, "bench_convolve: %s: %s\n", kind, err.message);
    return id;
}

static int array_pe(pg_graph *g, const double *data, int64_t frames) {
    pg_arg a = { NULL, { .type = PG_V_ARRAY, .u.array = { 2, (int)frames, data } } };
    return add(g, "ArrayPE", &a, 1);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// The largest difference between out (interleaved, from frame 0) and the closed form
// 1/(50 r) sum_j h_c[j] x_c(t - j) at 16 frames spread over the output.
static double spot_check(const float *out, const double *x, int64_t n, const double *h,
                         int64_t taps) {
    double sum = 0.0, worst = 0.0;
    for (int64_t i = 0; i < 2 * taps; i++)
        sum += h[i] * h[i];
    double scale = 1.0 / (50.0 * sqrt(sum / (double)(2 * taps)));
    for (int k = 0; k < 16; k++) {
        int64_t t = (n + taps - 1) * k / 16 + k;
        for (int c = 0; c < 2; c++) {
            double y = 0.0;
            for (int64_t j = 0; j < taps; j++)
                if (t - j >= 0 && t - j < n)
                    y += h[c * taps + j] * x[c * n + t - j];
            double d = fabs(y * scale - (double)out[2 * t + c]);
            worst = d > worst ? d : worst;
        }
    }
    return worst;
}

// One render of the whole window; returns seconds, or -1 on error.
static double render_once(const pg_plan *p, float *out) {
    pg_diag err;
    double t0 = now_sec();
    if (pg_render_all(p, out, &err) != PG_OK) {
        fprintf(stderr, "bench_convolve: render: %s\n", err.message);
        return -1.0;
    }
    return now_sec() - t0;
}

int main(int argc, char **argv) {
    double sec = argc > 1 ? atof(argv[1]) : 60.0, ir_sec = argc > 2 ? atof(argv[2]) : 3.0;
    int runs = argc > 3 ? atoi(argv[3]) : 5;
    int64_t n = (int64_t)(sec * RATE), taps = (int64_t)(ir_sec * RATE);
    double *x = malloc(sizeof(double) * 2 * (size_t)n),
           *h = malloc(sizeof(double) * 2 * (size_t)taps);
    pg_graph *g = pg_graph_new(RATE);
    if (!x || !h || !g || runs < 1 || runs > 100)
        return 2;
    fill(x, 2 * n, 1, 0.0);
    fill(h, 2 * taps, 2, 0.4 * RATE);
    pg_arg a[] = { { NULL, { .type = PG_V_NODE, .u.node = array_pe(g, x, n) } },
                   { NULL, { .type = PG_V_NODE, .u.node = array_pe(g, h, taps) } } };
    int root = add(g, "ConvolvePE", a, 2);
    pg_diag err;
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.cache_dir = ""; // the convolution every time, not a cache load
    pg_plan *p = root < 0 ? NULL : pg_plan_new(g, root, &o, &err);
    if (!p) {
        fprintf(stderr, "bench_convolve: plan failed\n");
        return 1;
    }
    pg_extent w = pg_plan_window(p);
    float *out = malloc(sizeof(float) * 2 * (size_t)(w.end - w.start));
    double times[100];
    for (int r = 0; r < runs; r++)
        if (!out || (times[r] = render_once(p, out)) < 0.0)
            return 1;
    qsort(times, (size_t)runs, sizeof times[0], cmp_double);
    double audio = (double)(w.end - w.start) / RATE;
    printf("ConvolvePE: %.1f s stereo x %.1f s stereo IR: best %.3f s (%.0fx realtime), median "
           "%.3f s (%.0fx); max error at 16 frames %.2g\n",
           audio, ir_sec, times[0], audio / times[0], times[runs / 2], audio / times[runs / 2],
           spot_check(out, x, n, h, taps));
    pg_plan_free(p);
    pg_graph_free(g);
    free(out);
    free(x);
    free(h);
    return 0;
}
