// bench_filters.c: render speed of CombPE and the BQ2 filters through the public API: 200
// notes of 1.5 to 3 s spread over 60 s (48 kHz, mono), each a noise take (an ArrayPE) cropped and
// shifted to its note, through a CombPE (pitched noise) and then a BQ2 low-, band- or high-pass,
// the 200 mixed. Notes come from a fixed LCG, so every run renders the same piece. Prints the best
// and the median of the renders (plan + render, threads as given) as seconds and as a realtime
// factor (audio seconds / render seconds); the target is >= 700x on the project's 2-core machines.
//   usage: bench_filters [notes=200] [seconds=60] [runs=5] [threads=0 (all cores)]
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

// A uniform number in [lo, hi) from a 64-bit LCG.
static double uniform(uint64_t *s, double lo, double hi) {
    *s = *s * 6364136223846793005u + 1442695040888963407u;
    return lo + (hi - lo) * ((double)(*s >> 11) * 0x1p-53);
}

static int add(pg_graph *g, const char *kind, const pg_arg *a, int n) {
    pg_diag err;
    int id = pg_graph_add(g, kind, a, n, (pg_srcloc){ 0, 0, 0 }, &err);
    if (id < 0)
        fprintf(stderr, "bench_filters: %s: %s\n", kind, err.message);
    return id;
}

static pg_arg num(const char *name, double x) {
    return (pg_arg){ name, { .type = PG_V_NUM, .u.num = x } };
}

static pg_arg node(int id) {
    return (pg_arg){ NULL, { .type = PG_V_NODE, .u.node = id } };
}

// One note: the shared noise take cropped to [0, dur) and shifted to start -> CombPE(f0, q)
// -> a BQ2 filter -> gain. The source is an ArrayPE so that the filters dominate the cost.
static int note(pg_graph *g, int noise, uint64_t *s, double total_sec, int k) {
    static const char *const filters[] = { "BQ2LowPassPE", "BQ2BandPassPE", "BQ2HighPassPE" };
    double dur = uniform(s, 1.5, 3.0), start = uniform(s, 0, total_sec - dur);
    pg_arg ca[] = { node(noise),
                    { NULL, { .type = PG_V_EXTENT, .u.ext = { 0, (pg_frame)(dur * RATE) } } } };
    pg_arg ta[] = { node(add(g, "CropPE", ca, 2)),
                    { NULL, { .type = PG_V_INT, .u.i = (pg_frame)(start * RATE) } } };
    int src = add(g, "TimeShiftPE", ta, 2);
    pg_arg comb[] = { node(src), num("f0", 110 * pow(2, uniform(s, 0, 3))),
                      num("q", uniform(s, 8, 40)) };
    int c = add(g, "CombPE", comb, 3);
    pg_arg bq[] = { node(c), num("f0", uniform(s, 300, 4000)), num("q", uniform(s, 0.7, 4)) };
    int f = add(g, filters[k % 3], bq, 3);
    pg_arg ga[] = { node(f), num(NULL, 0.1) };
    return add(g, "GainPE", ga, 2);
}

// 3 s of noise in [-0.5, 0.5), shared by every note.
static int noise_take(pg_graph *g) {
    int64_t n = 3 * RATE;
    double *x = malloc(sizeof *x * (size_t)n);
    uint64_t s = 7;
    for (int64_t i = 0; x && i < n; i++)
        x[i] = uniform(&s, -0.5, 0.5);
    pg_arg a = { NULL, { .type = PG_V_ARRAY, .u.array = { 1, (int)n, x } } };
    int id = x ? add(g, "ArrayPE", &a, 1) : -1;
    free(x);
    return id;
}

static pg_graph *build(int notes, double seconds, int *root) {
    pg_graph *g = pg_graph_new(RATE);
    pg_arg *mix = calloc((size_t)notes, sizeof *mix);
    uint64_t s = 2024;
    int noise = g ? noise_take(g) : -1;
    for (int k = 0; noise >= 0 && mix && k < notes; k++)
        mix[k] = node(note(g, noise, &s, seconds, k));
    *root = g && mix ? add(g, "MixPE", mix, notes) : -1;
    free(mix);
    return g;
}

// Plans and renders the root's whole extent into out; returns the seconds taken, or -1.
static double render_once(const pg_graph *g, int root, int threads, float *out) {
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.threads = threads;
    o.cache_dir = "";
    pg_diag err;
    double t0 = now_sec();
    pg_plan *p = pg_plan_new(g, root, &o, &err);
    if (!p || pg_render_all(p, out, &err) != PG_OK) {
        fprintf(stderr, "bench_filters: %s\n", err.message);
        pg_plan_free(p);
        return -1;
    }
    double t = now_sec() - t0;
    pg_plan_free(p);
    return t;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int notes = argc > 1 ? atoi(argv[1]) : 200, runs = argc > 3 ? atoi(argv[3]) : 5;
    double seconds = argc > 2 ? atof(argv[2]) : 60;
    int threads = argc > 4 ? atoi(argv[4]) : 0, root;
    if (notes < 1 || runs < 1 || !(seconds > 3))
        return fprintf(stderr, "usage: bench_filters [notes] [seconds > 3] [runs] [threads]\n"), 2;
    pg_graph *g = build(notes, seconds, &root);
    if (!g || root < 0)
        return 1;
    pg_extent e = pg_graph_node_extent(g, root);
    double audio = (double)(e.end - e.start) / RATE;
    float *out = malloc(sizeof *out * (size_t)(e.end - e.start));
    double *t = calloc((size_t)runs, sizeof *t);
    for (int i = 0; out && t && i < runs; i++)
        if ((t[i] = render_once(g, root, threads, out)) < 0)
            return 1;
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    double peak = 0;
    for (int64_t i = 0; i < e.end - e.start; i++)
        peak = fmax(peak, fabs((double)out[i]));
    printf("bench_filters: %d notes (CombPE -> BQ2*PE), %.2f s of audio, %d runs, threads %d\n",
           notes, audio, runs, threads);
    printf("  best   %.4f s  %7.0fx realtime\n", t[0], audio / t[0]);
    printf("  median %.4f s  %7.0fx realtime   (peak %.3f)\n", t[runs / 2], audio / t[runs / 2],
           peak);
    free(out);
    free(t);
    pg_graph_free(g);
    return 0;
}
