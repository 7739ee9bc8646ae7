// test_exec.c: the planner and executor end to end through the public API: render windows,
// zero fill outside extents, the origin of stateful nodes, materialisation, the render
// window options, thread-count and block-size invariance, and errors.
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "exec.h"
#include "plan.h"

// ConstPE(v).crop([s, e)) rendered over a wider window is v inside, 0 outside.
static void test_crop_window(void) {
    pg_graph *g = t_graph(48000);
    pg_arg c[] = { t_num(NULL, 0.5) };
    int k = t_add(g, "ConstPE", c, 1);
    pg_arg cr[] = { t_node(NULL, k), t_ext(NULL, 10, 20) };
    int crop = t_add(g, "CropPE", cr, 2);
    float out[30];
    CHECK_STATUS(t_render(g, crop, 0, 30, 4, out), PG_OK);
    for (int i = 0; i < 30; i++)
        CHECK(out[i] == (i >= 10 && i < 20 ? 0.5f : 0.0f));
    pg_graph_free(g);
}

// The render window defaults to the root's extent; an indefinite root needs an end.
static void test_window(void) {
    pg_graph *g = t_graph(48000);
    pg_arg c[] = { t_num(NULL, 1.0) };
    int k = t_add(g, "ConstPE", c, 1);
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    pg_diag err;
    pg_plan *p = pg_plan_new(g, k, &o, &err);
    CHECK(p == NULL);
    CHECK_STATUS(err.status, PG_ERR_EXTENT);
    o.has_start = o.has_end = true;
    o.start = -5;
    o.end = 5;
    p = pg_plan_new(g, k, &o, &err);
    CHECK(p != NULL);
    if (p) {
        CHECK_EQ_I64(pg_plan_window(p).start, -5);
        CHECK_EQ_I64(pg_plan_window(p).end, 5);
        CHECK_EQ_I64(pg_plan_channels(p), 1);
        CHECK_EQ_I64(pg_plan_frame_rate(p), 48000);
    }
    pg_plan_free(p);
    pg_graph_free(g);
}

// A stateful node (BlitSawPE) under a crop starts at the crop: the same note cropped at
// 1000 and at 5000 gives the same samples relative to its start.
static void test_stateful_origin(void) {
    pg_graph *g = t_graph(48000);
    pg_arg s[] = { t_num("frequency", 300.0) };
    int saw1 = t_add(g, "BlitSawPE", s, 1);
    int saw2 = t_add(g, "BlitSawPE", s, 1);
    pg_arg c1[] = { t_node(NULL, saw1), t_ext(NULL, 1000, 1500) };
    pg_arg c2[] = { t_node(NULL, saw2), t_ext(NULL, 5000, 5500) };
    int n1 = t_add(g, "CropPE", c1, 2), n2 = t_add(g, "CropPE", c2, 2);
    float a[500], b[500];
    CHECK_STATUS(t_render(g, n1, 1000, 1500, 64, a), PG_OK);
    CHECK_STATUS(t_render(g, n2, 5000, 5500, 7, b), PG_OK);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(a[0] != 0.0f); // the saw starts at its peak-ish first sample, not silence
    CHECK(t_block_invariant(g, n1, 900, 1600));
    pg_graph_free(g);
}

// kind(frequency=220).crop([0, 1000)) mixed with itself shifted by shift frames: a node
// read at two time mappings, so materialised. Returns the mix.
static int echoed(pg_graph *g, const char *kind, int shift) {
    pg_arg s[] = { t_num("frequency", 220.0) };
    int source = t_add(g, kind, s, 1);
    pg_arg c[] = { t_node(NULL, source), t_ext(NULL, 0, 1000) };
    int crop = t_add(g, "CropPE", c, 2);
    pg_arg sh[] = { t_node(NULL, crop), t_int(NULL, shift) };
    int later = t_add(g, "TimeShiftPE", sh, 2);
    pg_arg m[] = { t_node(NULL, crop), t_node(NULL, later) };
    return t_add(g, "MixPE", m, 2);
}

// Rendering the same stateful node twice in one graph (fan-out through two crops of the
// same saw) reads one materialised buffer: both consumers see identical samples.
static void test_fanout(void) {
    pg_graph *g = t_graph(48000);
    int mix = echoed(g, "BlitSawPE", 1000);
    float out[2000];
    CHECK_STATUS(t_render(g, mix, 0, 2000, 100, out), PG_OK);
    CHECK(memcmp(out, out + 1000, 1000 * sizeof(float)) == 0);
    pg_graph_free(g);
}

// -j 1 and -j 4 give bit-identical renders.
static void test_threads(void) {
    pg_graph *g = t_graph(48000);
    int notes[8];
    for (int i = 0; i < 8; i++) {
        pg_arg s[] = { t_num("frequency", 110.0 * (i + 1)) };
        int saw = t_add(g, "BlitSawPE", s, 1);
        pg_arg c[] = { t_node(NULL, saw), t_ext(NULL, i * 3000, i * 3000 + 20000) };
        notes[i] = t_add(g, "CropPE", c, 2);
    }
    pg_arg m[8];
    for (int i = 0; i < 8; i++)
        m[i] = t_node(NULL, notes[i]);
    int mix = t_add(g, "MixPE", m, 8);
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    pg_diag err;
    float *a = malloc(sizeof(float) * 41000), *b = malloc(sizeof(float) * 41000);
    o.threads = 1;
    pg_plan *p1 = pg_plan_new(g, mix, &o, &err);
    o.threads = 4;
    o.block_frames = 333;
    pg_plan *p4 = pg_plan_new(g, mix, &o, &err);
    CHECK(p1 && p4);
    if (p1 && p4) {
        CHECK_EQ_I64(pg_plan_window(p1).end, 41000);
        CHECK_STATUS(pg_render_all(p1, a, &err), PG_OK);
        CHECK_STATUS(pg_render_all(p4, b, &err), PG_OK);
        CHECK(memcmp(a, b, sizeof(float) * 41000) == 0);
    }
    pg_plan_free(p1);
    pg_plan_free(p4);
    free(a);
    free(b);
    pg_graph_free(g);
}

// An indefinite stateful node read at data-dependent times cannot be materialised.
static void test_indefinite_stateful(void) {
    pg_graph *g = t_graph(48000);
    pg_arg s[] = { t_num("frequency", 220.0) };
    int saw = t_add(g, "BlitSawPE", s, 1);
    pg_arg loop[] = { t_node(NULL, saw), t_int(NULL, 100) };
    int lp = t_add(g, "LoopPE", loop, 2);
    // LoopPE reads [0, 100) of the saw: finite, so this works.
    float out[300];
    CHECK_STATUS(t_render(g, lp, 0, 300, 64, out), PG_OK);
    CHECK(memcmp(out, out + 100, 100 * sizeof(float)) == 0);
    pg_graph_free(g);
}

// The options of these renders: a block size, no cache.
static pg_plan_opts block_opts(int block) {
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.block_frames = block;
    o.cache_dir = "";
    return o;
}

// Renders node over [0, n) with the given optimisation level and block size (interleaved).
static pg_status render_opt(pg_graph *g, int node, int64_t n, int opt, int block, float *out) {
    pg_plan_opts o = block_opts(block);
    o.has_start = o.has_end = true;
    o.end = n;
    o.opt_level = opt;
    pg_diag err;
    pg_plan *p = pg_plan_new(g, node, &o, &err);
    pg_status st = p ? pg_render_all(p, out, &err) : err.status;
    pg_plan_free(p);
    return st;
}

// A fused linear tree (mix of gains, mono, spread, stereo, crops; 40 inputs so the interval
// index is used) agrees with the naive plan within -120 dBFS and with itself at any block.
static void test_fusion(void) {
    pg_graph *g = t_graph(48000);
    pg_arg m[41];
    for (int i = 0; i < 40; i++) {
        pg_arg s[] = { t_num("frequency", 100.0 + 37.0 * i) };
        int sin = t_add(g, "SinPE", s, 1);
        pg_arg sp[] = { t_node(NULL, sin), t_int(NULL, 2) };
        int st = t_add(g, "SpreadPE", sp, 2);
        pg_arg mo[] = { t_node(NULL, st), t_num(NULL, 0.25) };
        int mono = t_add(g, "MonoPE", mo, 2);
        pg_arg ga[] = { t_node(NULL, i % 2 ? mono : st), t_num(NULL, 0.1 + 0.01 * i) };
        int gain = t_add(g, "GainPE", ga, 2);
        pg_arg cr[] = { t_node(NULL, gain), t_ext(NULL, i * 997, i * 997 + 5000) };
        m[i] = t_node(NULL, t_add(g, "CropPE", cr, 2));
    }
    int mix = t_add(g, "MixPE", m, 40);
    int64_t n = 50000;
    float *a = malloc(sizeof(float) * 2 * n), *b = malloc(sizeof(float) * 2 * n),
          *c = malloc(sizeof(float) * 2 * n);
    CHECK_STATUS(render_opt(g, mix, n, 0, 4096, a), PG_OK);
    CHECK_STATUS(render_opt(g, mix, n, 1, 4096, b), PG_OK);
    CHECK_STATUS(render_opt(g, mix, n, 1, 7, c), PG_OK);
    double peak = 0.0, energy = 0.0;
    for (int64_t i = 0; i < 2 * n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        peak = d > peak ? d : peak;
        energy += (double)a[i] * (double)a[i];
    }
    CHECK(energy > 100.0); // the mix is not silent
    CHECK(peak <= 1e-6);   // -120 dBFS
    CHECK(memcmp(b, c, sizeof(float) * 2 * n) == 0);
    free(a);
    free(b);
    free(c);
    pg_graph_free(g);
}

// Renders an until_silence plan of root through pg_render_next in requests of `ask` frames;
// returns the frames rendered (out holds at most cap), or -1 on error.
static int64_t render_until_silence(pg_graph *g, int root, pg_frame start, int block, int threads,
                                    int64_t ask, float *out, int64_t cap) {
    pg_plan_opts o = block_opts(block);
    o.until_silence = true;
    o.has_start = start != 0;
    o.start = start;
    o.threads = threads;
    pg_diag err;
    pg_plan *p = pg_plan_new(g, root, &o, &err);
    pg_render *r = p ? pg_render_new(p, &err) : NULL;
    int64_t got = r ? 0 : -1, n = 1;
    while (r && n > 0 && got < cap) {
        n = pg_render_next(r, out + got, ask < cap - got ? ask : cap - got);
        got = n < 0 ? -1 : got + n;
    }
    pg_render_free(r);
    pg_plan_free(p);
    return got;
}

// until_silence stops at the end of the first all-zero unit of 4096 frames, counted from the
// window's start, that begins at or after the last finite part's end. A sine cropped to
// [0, 10000) under an endless mix: units [8192, 12288) sounds, [12288, 16384) is silent, so
// 16384 frames, whatever the block size, thread count or request size (it depended on the
// block size: 10001 frames with blocks of 1, 131072 with 65536). From 1000: 16384 again.
static void test_until_silence(void) {
    pg_graph *g = t_graph(48000);
    pg_arg s[] = { t_num("frequency", 440.0) };
    pg_arg cr[] = { t_node(NULL, t_add(g, "SinPE", s, 1)), t_ext(NULL, 0, 10000) };
    pg_arg z[] = { t_num(NULL, 0.0) };
    pg_arg m[] = { t_node(NULL, t_add(g, "CropPE", cr, 2)),
                   t_node(NULL, t_add(g, "ConstPE", z, 1)) };
    int mix = t_add(g, "MixPE", m, 2);
    enum {
        CAP = 200000
    };
    float *want = malloc(sizeof(float) * CAP), *got = malloc(sizeof(float) * CAP);
    CHECK_EQ_I64(render_until_silence(g, mix, 0, 4096, 1, 65536, want, CAP), 16384);
    CHECK(want[1] != 0.0f && want[9999] != 0.0f && want[10000] == 0.0f && want[16383] == 0.0f);
    const int blocks[] = { 1, 7, 64, 5000, 65536 }, threads[] = { 1, 2, 4 };
    const int64_t asks[] = { 3, 4096, 65536 };
    for (int i = 0; i < 5; i++) {
        memset(got, 0xff, sizeof(float) * CAP);
        int64_t n =
            render_until_silence(g, mix, 0, blocks[i], threads[i % 3], asks[i % 3], got, CAP);
        CHECK_EQ_I64(n, 16384);
        CHECK(memcmp(want, got, sizeof(float) * 16384) == 0);
    }
    CHECK_EQ_I64(render_until_silence(g, mix, 1000, 7, 2, 4096, got, CAP), 16384);
    CHECK(memcmp(want + 1000, got, sizeof(float) * 9000) == 0);
    free(want);
    free(got);
    pg_graph_free(g);
}

// ---- pg_interrupt ----------------------------------------------------------------------

enum {
    LONG_NOTES = 2500, // 2500 saws of 4 s over 10 min: about a second on two cores here
    LONG_STEP = 11520,
    LONG_LEN = 192000
};

// The plan of root on that many threads, without a cache.
static pg_plan *plan_threads(pg_graph *g, int root, int threads) {
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.threads = threads;
    o.cache_dir = "";
    pg_diag err;
    pg_plan *p = pg_plan_new(g, root, &o, &err);
    CHECK(p != NULL);
    return p;
}

static pg_plan *long_plan(int threads) {
    pg_graph *g = t_graph(48000);
    pg_plan *p = plan_threads(g, t_saw_notes(g, LONG_NOTES, LONG_STEP, LONG_LEN, -1), threads);
    pg_graph_free(g);
    return p;
}

static void *interrupt_soon(void *unused) {
    (void)unused;
    nanosleep(&(struct timespec){ 0, 30 * 1000 * 1000 }, NULL);
    pg_interrupt(true);
    return NULL;
}

// Asked between two calls, the next fails with PG_ERR_INTERRUPTED, and so does a new render
// until pg_interrupt(false); then renders run again.
static void test_interrupt_between_calls(void) {
    pg_plan *p = long_plan(2);
    pg_diag err;
    pg_render *r = p ? pg_render_new(p, &err) : NULL;
    float *out = malloc(sizeof(float) * 4096);
    CHECK(r && out && pg_render_next(r, out, 4096) == 4096);
    pg_interrupt(true);
    CHECK(r && pg_render_next(r, out, 4096) == -1);
    CHECK(r && pg_render_error(r)->status == PG_ERR_INTERRUPTED);
    pg_render_free(r);
    r = p ? pg_render_new(p, &err) : NULL;
    CHECK(!r || pg_render_next(r, out, 4096) == -1);
    pg_render_free(r);
    pg_interrupt(false);
    r = p ? pg_render_new(p, &err) : NULL;
    CHECK(r && pg_render_next(r, out, 4096) == 4096);
    pg_render_free(r);
    pg_plan_free(p);
    free(out);
}

// Asked by another thread 30 ms into a render of about a second, on 1, 2 and 4 threads: the
// render fails with PG_ERR_INTERRUPTED, well before the end of the window (the stream and the
// tasks rendering the notes ahead of it all stop).
static void test_interrupt_during_render(void) {
    for (int threads = 1; threads <= 4; threads *= 2) {
        pg_plan *p = long_plan(threads);
        pg_diag err;
        pg_render *r = p ? pg_render_new(p, &err) : NULL;
        float *out = malloc(sizeof(float) * 65536);
        pthread_t th;
        CHECK(pthread_create(&th, NULL, interrupt_soon, NULL) == 0);
        int64_t got = 0, n = 0;
        while (r && out && (n = pg_render_next(r, out, 65536)) > 0)
            got += n;
        pthread_join(th, NULL);
        CHECK_EQ_I64(n, -1);
        CHECK(r && pg_render_error(r)->status == PG_ERR_INTERRUPTED);
        CHECK(got < (int64_t)(LONG_NOTES - 1) * LONG_STEP + LONG_LEN);
        pg_render_free(r);
        pg_interrupt(false);
        pg_plan_free(p);
        free(out);
    }
}

// Into a file: the render stops, its temporary file is removed, the old output is left.
static void test_interrupt_into_file(void) {
    char dir[256], path[320];
    if (!t_temp_dir(dir, sizeof dir, "interrupt"))
        return;
    snprintf(path, sizeof path, "%s/out.wav", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("old", f);
        fclose(f);
    }
    pg_plan *p = long_plan(2);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, interrupt_soon, NULL) == 0);
    pg_write_opts w = { .quiet = true };
    pg_diag err;
    double peak;
    CHECK(p && pg_render_to_file(p, path, &w, &peak, &err) == PG_ERR_INTERRUPTED);
    pthread_join(th, NULL);
    pg_interrupt(false);
    char back[8] = { 0 };
    f = fopen(path, "r");
    CHECK(f && fread(back, 1, sizeof back - 1, f) == 3 && strcmp(back, "old") == 0);
    if (f)
        fclose(f);
    int files = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        files += e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."));
    if (d)
        closedir(d);
    CHECK_EQ_I64(files, 1); // out.wav alone: no temporary file beside it
    pg_plan_free(p);
    t_remove_dir(dir);
}

// A plan whose task graph has a cycle (the planner's bug that 1d3e500 fixed made one: a
// materialised node reading, through its input, its own consumer) can never finish. The
// render reports an internal error as soon as no thread has a task to run, on 1, 2 and 4
// threads, instead of waiting for ever.
static void test_stall_reported(void) {
    pg_graph *g = t_graph(48000);
    int mix = echoed(g, "SinPE", 500);
    for (int threads = 1; threads <= 4; threads *= 2) {
        pg_plan *p = plan_threads(g, mix, threads);
        int mat = -1;
        for (int i = 0; p && i < p->n_nodes; i++)
            mat = p->nodes[i].materialise && p->nodes[i].pn.n_inputs == 1 ? i : mat;
        CHECK(mat >= 0);
        if (mat < 0) {
            pg_plan_free(p);
            continue;
        }
        p->nodes[mat].inputs[0] = p->root;
        float out[1500];
        pg_diag err;
        CHECK_STATUS(pg_render_all(p, out, &err), PG_ERR_INTERNAL);
        CHECK(strstr(err.message, "stalled") != NULL);
        pg_plan_free(p);
    }
    pg_graph_free(g);
}

// The largest |sample| as bits (the clipping warning's peak, and NaN and infinity detection,
// whose bits are larger than any finite value's): every length from 0 to 40 (the vector
// loop takes 16 at a time, the rest one by one), the peak at every position, negative,
// and NaN and -inf winning over any finite value.
static void test_max_abs_bits(void) {
    float x[40] = { 0 };
    CHECK_EQ_I64(exec_max_abs_bits(x, 0), 0);
    for (int n = 1; n <= 40; n++)
        for (int at = 0; at < n; at++) {
            for (int i = 0; i < n; i++)
                x[i] = (float)((i * 7) % 11 - 5) * 0.125f; // |x| <= 0.625
            x[at] = at % 2 ? -3.5f : 3.5f;
            uint32_t want;
            memcpy(&want, &(float){ 3.5f }, sizeof want);
            CHECK_EQ_I64(exec_max_abs_bits(x, n), want);
            x[at] = at % 2 ? -INFINITY : NAN;
            CHECK(exec_max_abs_bits(x, n) >= EXEC_NONFINITE_BITS);
        }
}

int main(void) {
    test_max_abs_bits();
    test_fusion();
    test_crop_window();
    test_window();
    test_stateful_origin();
    test_fanout();
    test_threads();
    test_indefinite_stateful();
    test_until_silence();
    test_interrupt_between_calls();
    test_interrupt_during_render();
    test_interrupt_into_file();
    test_stall_reported();
    return check_done();
}
