// test_pipeline.c: the executor's pipeline, the sub-mix pass and buffers rendered in parts.
// Materialised buffers are made only a little ahead of the stream and freed once it has passed
// them, so memory follows what sounds at once, not the whole piece; the output is the same for any
// thread count. A mix of many notes becomes cached sub-mixes: the plan gains one node per
// group of notes starting in one slot of 2^18 frames, the sum agrees with the naive plan
// (-O0) to float rounding, and after one note is changed, or taken out, a warm render
// renders that note and its sub-mix only. A long stateless buffer
// is rendered in parts by every thread, with the same bits as on one.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

enum {
    RATE = 48000
};

typedef struct run {
    int threads, opt_level;
    const char *cache_dir;
    size_t mem_limit;
} run;

// Renders root over its extent in requests of 10,000 frames; the plan's node count in *nodes.
static pg_status render(pg_graph *g, int root, run how, float *out, pg_render_stats *stats,
                        int *nodes) {
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.threads = how.threads;
    o.opt_level = how.opt_level;
    o.cache_dir = how.cache_dir;
    o.mem_limit = how.mem_limit;
    o.no_output_cache = true; // the sub-mixes are what these tests look at (test_chunks.c)
    return t_render_plan(g, root, &o, 10000, out, stats, nodes);
}

// 1,000 notes of 0.1 s one after another: 100 s of buffers in all (the notes, and their
// sub-mixes of 54 or 55 notes), but the stream needs a few at a time: within a 6 MiB limit, a
// sixth of the total, whatever the thread count; and the same output without a limit.
static void test_memory_follows_the_stream(void) {
    enum {
        N = 1000,
        LEN = 4800,
        FRAMES = N * LEN
    };
    pg_graph *g = t_graph(RATE);
    int root = t_saw_notes(g, N, LEN, LEN, -1);
    float *a = malloc(sizeof(float) * FRAMES), *b = malloc(sizeof(float) * FRAMES);
    pg_render_stats s1, s2;
    int n1, n2;
    size_t limit = (size_t)6 << 20;
    CHECK_STATUS(render(g, root, (run){ 1, 1, "", limit }, a, &s1, &n1), PG_OK);
    CHECK_STATUS(render(g, root, (run){ 2, 1, "", limit }, b, &s2, &n2), PG_OK);
    CHECK(s1.peak_mat_bytes > 0 && s1.peak_mat_bytes <= limit);
    CHECK(s2.peak_mat_bytes > 0 && s2.peak_mat_bytes <= limit);
    CHECK(memcmp(a, b, sizeof(float) * FRAMES) == 0);
    CHECK_STATUS(render(g, root, (run){ 2, 1, "", 0 }, b, &s2, &n2), PG_OK);
    CHECK(memcmp(a, b, sizeof(float) * FRAMES) == 0);
    free(a);
    free(b);
    pg_graph_free(g);
}

// Ten notes of 1 s sounding together need 10 buffers of 192 kB at once: under a 1 MiB limit
// the render fails with PG_ERR_LIMIT before it starts (each buffer alone would fit); under
// 4 MiB it renders; a limit under one buffer fails when planning.
static void test_memory_limit(void) {
    pg_graph *g = t_graph(RATE);
    int root = t_saw_notes(g, 10, 0, RATE, -1);
    float *out = malloc(sizeof(float) * RATE);
    pg_render_stats s;
    int n;
    CHECK_STATUS(render(g, root, (run){ 2, 1, "", (size_t)1 << 20 }, out, &s, &n), PG_ERR_LIMIT);
    CHECK_STATUS(render(g, root, (run){ 2, 1, "", (size_t)4 << 20 }, out, &s, &n), PG_OK);
    CHECK_STATUS(render(g, root, (run){ 2, 1, "", 100000 }, out, &s, &n),
                 PG_ERR_LIMIT); // one buffer
    free(out);
    pg_graph_free(g);
}

// Eight voices of 20 s, each a saw with a moving pitch (stateful) panned: 8 buffers of 3.7 MB
// needed at once, 29 MB. Under a 16 MiB limit the voices are rendered through windows, a
// segment at a time just ahead of the stream, their pages given back behind it: the same
// output, bit for bit, for any thread count and block size.
static int long_voices(pg_graph *g, int count) {
    pg_arg m[8];
    for (int i = 0; i < count; i++) {
        pg_arg lf[] = { t_num("frequency", 0.2 + 0.05 * i), t_num("amplitude", 5.0) };
        pg_arg c[] = { t_num(NULL, 110.0 + 20.0 * i) };
        pg_arg ad[] = { t_node(NULL, t_add(g, "SinPE", lf, 2)),
                        t_node(NULL, t_add(g, "ConstPE", c, 1)) };
        pg_arg s[] = { t_node("frequency", t_add(g, "AddPE", ad, 2)) };
        pg_arg cr[] = { t_node(NULL, t_add(g, "BlitSawPE", s, 1)), t_ext(NULL, 0, 20 * RATE) };
        pg_arg sp[] = { t_node(NULL, t_add(g, "CropPE", cr, 2)), t_num(NULL, -60.0 + 15.0 * i) };
        m[i] = t_node(NULL, t_add(g, "SpatialPE", sp, 2));
    }
    return t_add(g, "MixPE", m, count);
}

static void test_windows(void) {
    enum {
        FRAMES = 21 * RATE // the pans delay a little past 20 s
    };
    pg_graph *g = t_graph(RATE);
    int root = long_voices(g, 8);
    float *whole = calloc(FRAMES * 2, sizeof(float)), *win = calloc(FRAMES * 2, sizeof(float));
    pg_render_stats s;
    int n;
    CHECK_STATUS(render(g, root, (run){ 2, 1, "", 0 }, whole, &s, &n), PG_OK);
    CHECK(s.peak_mat_bytes > (size_t)25 << 20); // whole buffers: all 8 at once
    // 5 MiB: each window holds at most the stream's request and one segment, 2 x 65536
    // frames, 4 MiB for the 8 (a window used to be allowed the whole lookahead: 6.9 MiB)
    size_t limits[] = { (size_t)16 << 20, (size_t)5 << 20 };
    for (int k = 0; k < 2; k++)
        for (int j = 1; j <= 2; j++) {
            size_t limit = limits[k];
            CHECK_STATUS(render(g, root, (run){ j, 1, "", limit }, win, &s, &n), PG_OK);
            CHECK(s.peak_mat_bytes > 0 && s.peak_mat_bytes <= limit);
            CHECK(memcmp(whole, win, sizeof(float) * FRAMES * 2) == 0);
        }
    free(whole);
    free(win);
    pg_graph_free(g);
}

// One voice whose whole buffer (20 s, 3.7 MiB) is larger than the limit (2 MiB) renders
// through a window, the same output; a buffer that cannot be windowed (read backwards) and
// is larger than the limit is refused before anything renders.
static void test_voice_over_limit(void) {
    enum {
        FRAMES = 21 * RATE
    };
    pg_graph *g = t_graph(RATE);
    int root = long_voices(g, 1);
    float *whole = calloc(FRAMES * 2, sizeof(float)), *win = calloc(FRAMES * 2, sizeof(float));
    pg_render_stats s;
    int n;
    size_t limit = (size_t)2 << 20;
    CHECK_STATUS(render(g, root, (run){ 2, 1, "", 0 }, whole, &s, &n), PG_OK);
    CHECK(s.peak_mat_bytes > (size_t)3 << 20);
    CHECK_STATUS(render(g, root, (run){ 2, 1, "", limit }, win, &s, &n), PG_OK);
    CHECK(s.peak_mat_bytes > 0 && s.peak_mat_bytes <= limit);
    CHECK(memcmp(whole, win, sizeof(float) * FRAMES * 2) == 0);
    pg_arg rv[] = { t_node(NULL, root) };
    int back = t_add(g, "ReversePE", rv, 1);
    CHECK_STATUS(render(g, back, (run){ 2, 1, "", 0 }, win, &s, &n), PG_OK);
    CHECK_STATUS(render(g, back, (run){ 2, 1, "", limit }, win, &s, &n), PG_ERR_LIMIT);
    free(whole);
    free(win);
    pg_graph_free(g);
}

static double peak_diff(const float *a, const float *b, int64_t n) {
    double d = 0.0;
    for (int64_t i = 0; i < n; i++)
        d = fmax(d, fabs((double)a[i] - (double)b[i]));
    return d;
}

// The sub-mix tests' notes: SUB_N of SUB_LEN frames, one every SUB_STEP, overlapping.
enum {
    SUB_N = 200,
    SUB_STEP = 3000,
    SUB_LEN = 12000,
    SUB_FRAMES = (SUB_N - 1) * SUB_STEP + SUB_LEN
};

// 200 notes of 0.25 s, overlapping, one every 3000 frames: 3 sub-mixes, of the notes that
// start in [0, 262144) (0 to 87), [262144, 524288) (88 to 174) and after (175 to 199).
static void test_submix(const char *dir) {
    char sub[300];
    snprintf(sub, sizeof sub, "%s/submix", dir);
    pg_graph *g = t_graph(RATE);
    int root = t_saw_notes(g, SUB_N, SUB_STEP, SUB_LEN, -1);
    float *naive = malloc(sizeof(float) * SUB_FRAMES), *cold = malloc(sizeof(float) * SUB_FRAMES);
    float *warm = malloc(sizeof(float) * SUB_FRAMES), *edited = malloc(sizeof(float) * SUB_FRAMES);
    pg_render_stats s;
    int n0, n1;
    CHECK_STATUS(render(g, root, (run){ 1, 0, "", 0 }, naive, &s, &n0), PG_OK);
    CHECK_STATUS(render(g, root, (run){ 2, 1, sub, 0 }, cold, &s, &n1), PG_OK);
    CHECK_EQ_I64(n0, 3 * SUB_N + 1);
    CHECK_EQ_I64(n1, 3 * SUB_N + 1 + 3);
    CHECK_EQ_I64(s.cache_misses, SUB_N + 3);          // every saw and every sub-mix
    CHECK(peak_diff(naive, cold, SUB_FRAMES) < 1e-6); // -120 dBFS: the sums' order differs
    CHECK_STATUS(render(g, root, (run){ 2, 1, sub, 0 }, warm, &s, &n1), PG_OK);
    CHECK_EQ_I64(s.cache_hits, 3); // the sub-mixes only: no note is loaded
    CHECK_EQ_I64(s.cache_misses, 0);
    CHECK(memcmp(cold, warm, sizeof(float) * SUB_FRAMES) == 0);
    pg_graph_free(g);
    // note 40 (in the first sub-mix) changed
    g = t_graph(RATE);
    root = t_saw_notes(g, SUB_N, SUB_STEP, SUB_LEN, 40);
    CHECK_STATUS(render(g, root, (run){ 2, 1, sub, 0 }, edited, &s, &n1), PG_OK);
    CHECK_EQ_I64(s.cache_misses, 2);    // the note and its sub-mix
    CHECK_EQ_I64(s.cache_hits, 2 + 87); // the other sub-mixes, and the sub-mix's other notes
    CHECK(peak_diff(cold, edited, SUB_FRAMES) > 1e-3);
    pg_graph_free(g);
    // note 100 taken out: the notes after it keep their sub-mixes (grouped by count, every
    // later one would change); its own is made again from its 86 other notes
    g = t_graph(RATE);
    root = t_saw_notes_but(g, SUB_N, SUB_STEP, SUB_LEN, -1, 100);
    CHECK_STATUS(render(g, root, (run){ 2, 1, sub, 0 }, edited, &s, &n1), PG_OK);
    CHECK_EQ_I64(s.cache_misses, 1);
    CHECK_EQ_I64(s.cache_hits, 2 + 86);
    CHECK_STATUS(render(g, root, (run){ 2, 1, "", 0 }, warm, &s, &n1), PG_OK);
    CHECK(memcmp(warm, edited, sizeof(float) * SUB_FRAMES) == 0);
    CHECK(peak_diff(cold, edited, SUB_FRAMES) > 1e-3);
    pg_graph_free(g);
    free(naive);
    free(cold);
    free(warm);
    free(edited);
}

// 200 notes of two saws each, mixed then scaled (a fused sum of two terms): streamed, a
// sub-mix adds each note as one term, its own sum, as buffered it does (MixPE's kernel); had
// it inlined the notes' saws, (o + a) + b is not o + (a + b): the bits would depend on
// whether the cache keeps the output's chunks.
static void test_submix_terms(const char *dir) {
    char sub[300];
    snprintf(sub, sizeof sub, "%s/terms", dir);
    pg_graph *g = t_graph(RATE);
    pg_arg *m = malloc(sizeof *m * SUB_N);
    for (int i = 0; i < SUB_N; i++) {
        pg_arg two[2];
        for (int k = 0; k < 2; k++) {
            int saw = ADD(g, "BlitSawPE", t_num("frequency", 110.0 + 7.0 * (i % 30) + 3.0 * k));
            two[k] = t_node(NULL, ADD(g, "CropPE", t_node(NULL, saw),
                                      t_ext(NULL, i * SUB_STEP, i * SUB_STEP + SUB_LEN)));
        }
        m[i] = t_node(NULL, t_gain(g, t_add(g, "MixPE", two, 2), 0.05));
    }
    int root = t_add(g, "MixPE", m, SUB_N);
    free(m);
    float *streamed = malloc(sizeof(float) * SUB_FRAMES),
          *buffered = malloc(sizeof(float) * SUB_FRAMES);
    pg_render_stats s;
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.cache_dir = sub; // output chunks kept: the sub-mixes are streamed
    CHECK_STATUS(t_render_plan(g, root, &o, 10000, streamed, &s, NULL), PG_OK);
    CHECK(s.chunk_misses > 0);
    o.cache_dir = ""; // no cache: buffered
    CHECK_STATUS(t_render_plan(g, root, &o, 10000, buffered, &s, NULL), PG_OK);
    CHECK(memcmp(streamed, buffered, sizeof(float) * SUB_FRAMES) == 0);
    pg_graph_free(g);
    free(streamed);
    free(buffered);
}

// The plan's node count for a mix of test_submix's 200 saw notes (each a buffer: a saw has
// state) and `sines` cheap notes at [0, 1000) (a cropped sine, stateless: never a buffer).
static int nodes_with_sines(int sines) {
    pg_graph *g = t_graph(RATE);
    pg_arg *m = malloc(sizeof *m * (size_t)(200 + sines));
    for (int i = 0; i < 200; i++) {
        int saw = ADD(g, "BlitSawPE", t_num("frequency", 110.0 + 5.0 * (i % 40)));
        int note = ADD(g, "CropPE", t_node(NULL, saw), t_ext(NULL, i * 3000, i * 3000 + 12000));
        m[i] = t_node(NULL, ADD(g, "GainPE", t_node(NULL, note), t_num(NULL, 0.05)));
    }
    for (int i = 0; i < sines; i++) {
        int sine = ADD(g, "SinPE", t_num("frequency", 200.0 + i));
        m[200 + i] = t_node(NULL, ADD(g, "CropPE", t_node(NULL, sine), t_ext(NULL, 0, 1000)));
    }
    int root = t_add(g, "MixPE", m, 200 + sines);
    free(m);
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.cache_dir = "";
    pg_diag err;
    pg_plan *p = pg_plan_new(g, root, &o, &err);
    int n = p ? pg_plan_node_count(p) : -1;
    pg_plan_free(p);
    pg_graph_free(g);
    return n;
}

// A mix is split while at most half its inputs are cheap: a sine among the saw notes joins
// the first sub-mix (3 in all, as without it); 200 sines with them, all starting in slot 0,
// make it 288 inputs, cut every 128 (5 sub-mixes); 201 sines, and it is not split.
static void test_submix_cheap_inputs(void) {
    CHECK_EQ_I64(nodes_with_sines(1), 600 + 2 + 1 + 3);
    CHECK_EQ_I64(nodes_with_sines(200), 600 + 400 + 1 + 5);
    CHECK_EQ_I64(nodes_with_sines(201), 600 + 402 + 1);
}

// 100 sine notes (stateless) of 1 s, one every 0.1 s, mixed and reversed: the mix is read at
// random, so materialised, 10.9 s in one buffer: with more than one thread it is rendered in
// parts by all of them. Every thread count and block size gives the same bits.
static void test_parts(void) {
    enum {
        N = 100,
        STEP = RATE / 10,
        FRAMES = (N - 1) * STEP + RATE
    };
    pg_graph *g = t_graph(RATE);
    pg_arg *m = malloc(sizeof *m * N);
    for (int i = 0; i < N; i++) {
        int sine = ADD(g, "SinPE", t_num("frequency", 200.0 + 7.0 * i));
        int note = ADD(g, "CropPE", t_node(NULL, sine), t_ext(NULL, i * STEP, i * STEP + RATE));
        m[i] = t_node(NULL, ADD(g, "GainPE", t_node(NULL, note), t_num(NULL, 0.02)));
    }
    int root = ADD(g, "ReversePE", t_node(NULL, t_add(g, "MixPE", m, N)));
    free(m);
    float *one = malloc(sizeof(float) * FRAMES), *more = malloc(sizeof(float) * FRAMES);
    pg_render_stats s;
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.cache_dir = "";
    o.threads = 1;
    CHECK_STATUS(t_render_plan(g, root, &o, 10000, one, &s, NULL), PG_OK);
    CHECK_EQ_I64(s.materialised, 1);
    CHECK_EQ_I64(s.parted, 0);
    const int threads[] = { 2, 4, 2 }, blocks[] = { 0, 0, 7 };
    for (int k = 0; k < 3; k++) {
        o.threads = threads[k];
        o.block_frames = blocks[k];
        CHECK_STATUS(t_render_plan(g, root, &o, 10000, more, &s, NULL), PG_OK);
        CHECK_EQ_I64(s.parted, 1);
        CHECK(memcmp(one, more, sizeof(float) * FRAMES) == 0);
    }
    pg_graph_free(g);
    free(one);
    free(more);
}

int main(void) {
    char dir[256];
    if (!t_temp_dir(dir, sizeof dir, "pipeline"))
        return 1;
    test_memory_follows_the_stream();
    test_memory_limit();
    test_windows();
    test_voice_over_limit();
    test_submix(dir);
    test_submix_terms(dir);
    test_submix_cheap_inputs();
    test_parts();
    t_remove_dir(dir);
    return check_done();
}
