// test_seek.c: a reverb on the mix run by the stream (plan_node.seeks), its output kept in
// the cache in chunks (runtime/chunks.c) like a mix's. The piece: 200 ringing notes (12000
// frames, one every 3000, mono, [0, 609000)) as m, and the reverb pygmu's .reverb()
// builds: MixPE(m.gain(0.7), ConvolvePE(m.gain(0.28), h).gain(0.3)), h 9600 random taps.
// 9600 taps make FFT partitions of B = 2048 frames, P = 5 of them (test_reuse), on a grid
// from m's start, frame 0. Output [0, 618599): 10 chunks of 65536 (the last 28775). An
// output partition reads its own source partition and the 5 before it, so output chunk k
// reads m from partition 32 k - 5, and the kernel, asked for a chunk away from its last
// window, starts afresh there (the same bits as running from the start).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

enum {
    RATE = 48000,
    STEP = 3000,
    LEN = 12000,
    NOTES = 200,
    TAPS = 9600,
    FRAMES = (NOTES - 1) * STEP + LEN + TAPS - 1, // 618599
    CHUNKS = 10,
    HEADER = 40,                      // bytes before an entry's samples
    WHOLE_CHUNK = HEADER + 65536 * 4, // a whole mono chunk's entry
    WINDOW_START = 100000,
    WINDOW_END = 420000
};

static char dir[256];

typedef struct how {
    const char *cache; // a folder under dir, or "" for no cache
    int threads, block;
    pg_frame start, end; // a window (end 0: the whole piece)
    int odd;             // the note changed (-1: none)
    int notes;           // 0: NOTES
    bool early_note;     // a silent note before the others, at [-1000, -500)
} how;

// n notes (note odd changed), and when `early`, a silent one at [-1000, -500) last among
// them. Note i: a comb filter (a buffer) ringing at 110 + 5 (i % 40) Hz (333 Hz when odd)
// after a burst of noise, [3000 i, 3000 i + 12000). (A comb has a start, unlike a saw,
// which would start where a window first needs it and sound different from the whole
// render's: the README's time model.)
static int notes(pg_graph *g, int n, int odd, bool early) {
    pg_arg m[NOTES + 1];
    for (int i = 0; i < n; i++) {
        int noise = ADD(g, "NoisePE", t_num("gain", 0.2), t_int("seed", i));
        int burst = ADD(g, "CropPE", t_node(NULL, noise), t_ext(NULL, 0, 100));
        double f = i == odd ? 333.0 : 110.0 + 5.0 * (i % 40);
        int ring = ADD(g, "CombPE", t_node(NULL, burst), t_num("f0", f), t_num("q", 20.0));
        int note = ADD(g, "CropPE", t_node(NULL, ring), t_ext(NULL, 0, LEN));
        m[i] = t_node(NULL, ADD(g, "TimeShiftPE", t_node(NULL, note), t_int(NULL, i * STEP)));
    }
    if (early) {
        int z = ADD(g, "ConstPE", t_num(NULL, 0.0));
        m[n++] = t_node(NULL, ADD(g, "CropPE", t_node(NULL, z), t_ext(NULL, -1000, -500)));
    }
    return t_add(g, "MixPE", m, n);
}

// The reverb over m, as pygmu's .reverb() builds it.
static int reverb_of(pg_graph *g, int m) {
    double *h = malloc(sizeof(double) * TAPS);
    t_fill_random(h, TAPS, 11);
    int ir = ADD(g, "ArrayPE", t_arr(NULL, 1, TAPS, h));
    free(h);
    int wet = ADD(g, "ConvolvePE", t_node(NULL, t_gain(g, m, 0.28)), t_node(NULL, ir));
    return ADD(g, "MixPE", t_node(NULL, t_gain(g, m, 0.7)), t_node(NULL, t_gain(g, wet, 0.3)));
}

// The reverb over the notes.
static int reverb(pg_graph *g, int n, int odd, bool early) {
    return reverb_of(g, notes(g, n, odd, early));
}

// Renders the piece into out (its frames from the window's start), asked for 30000 frames at
// a time (never a whole chunk).
static pg_status render(how h, float *out, pg_render_stats *s) {
    char path[400];
    snprintf(path, sizeof path, "%s/%s", dir, h.cache);
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.cache_dir = h.cache[0] ? path : "";
    o.threads = h.threads;
    o.block_frames = h.block;
    o.has_start = o.has_end = h.end > 0;
    o.start = h.start;
    o.end = h.end;
    pg_graph *g = t_graph(RATE);
    pg_status st = t_render_plan(g, reverb(g, h.notes ? h.notes : NOTES, h.odd, h.early_note), &o,
                                 30000, out, s, NULL);
    pg_graph_free(g);
    return st;
}

static float *frames(void) {
    return calloc(FRAMES + 1000, sizeof(float));
}

static bool same(const float *a, const float *b, int64_t n) {
    return memcmp(a, b, sizeof(float) * (size_t)n) == 0;
}

// Cold: the notes and the impulse response are the only buffers (the reverb and the mix
// under it are streamed; without a cache the mix's 3 sub-mixes are buffers too), and every
// chunk is stored. Warm: every chunk found, nothing made or loaded but the chunks. The bits
// of a render without cache, and of one on one thread.
static void test_cold_and_warm(void) {
    float *none = frames(), *cold = frames(), *warm = frames(), *one = frames();
    pg_render_stats s;
    CHECK_STATUS(render((how){ "", 2, 0, 0, 0, -1, 0, false }, none, &s), PG_OK);
    CHECK_EQ_I64(s.materialised, NOTES + 1 + 3);
    CHECK_STATUS(render((how){ "", 1, 0, 0, 0, -1, 0, false }, one, &s), PG_OK);
    CHECK_STATUS(render((how){ "a", 2, 0, 0, 0, -1, 0, false }, cold, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_misses, CHUNKS);
    CHECK_EQ_I64(s.materialised, NOTES + 1);
    CHECK_STATUS(render((how){ "a", 2, 0, 0, 0, -1, 0, false }, warm, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, CHUNKS);
    CHECK_EQ_I64(s.materialised, 0);
    CHECK_EQ_I64(s.cache_hits, 0);
    CHECK(same(none, cold, FRAMES));
    CHECK(same(none, warm, FRAMES));
    CHECK(same(none, one, FRAMES));
    free(none);
    free(cold);
    free(warm);
    free(one);
}

// Note 40, [120000, 132000), is in source partitions 58..64, so output partitions 58..69
// change, [118784, 143360): chunks 1 and 2 are rendered again, 8 found. Chunk 1's reverb
// starts afresh at partition 32 - 5 = 27, frame 55296, and chunk 2 follows it, so m is read
// over [55296, 196608): notes 15 to 65 sound there, note 40 made again, 50 loaded, and the
// impulse response loaded. The bits of a render without cache on 1 and 2 threads, in blocks
// of 7 and 65536.
static void test_one_note_edit(void) {
    float *fresh = frames(), *got = frames();
    pg_render_stats s;
    CHECK_STATUS(render((how){ "b", 2, 0, 0, 0, -1, 0, false }, got, &s), PG_OK);
    CHECK(t_copy_folder(dir, "b", "b2"));
    CHECK(t_copy_folder(dir, "b", "b3"));
    CHECK(t_copy_folder(dir, "b", "b4"));
    CHECK_STATUS(render((how){ "", 2, 0, 0, 0, 40, 0, false }, fresh, &s), PG_OK);
    const how edits[] = { { "b", 2, 0, 0, 0, 40, 0, false },
                          { "b2", 1, 0, 0, 0, 40, 0, false },
                          { "b3", 2, 7, 0, 0, 40, 0, false },
                          { "b4", 1, 65536, 0, 0, 40, 0, false } };
    for (int k = 0; k < 4; k++) {
        memset(got, 0, sizeof(float) * FRAMES);
        CHECK_STATUS(render(edits[k], got, &s), PG_OK);
        CHECK_EQ_I64(s.chunk_hits, 8);
        CHECK_EQ_I64(s.chunk_misses, 2);
        CHECK_EQ_I64(s.cache_hits, 51);
        CHECK_EQ_I64(s.cache_misses, 1);
        CHECK(same(fresh, got, FRAMES));
    }
    free(fresh);
    free(got);
}

// Every whole chunk's entry damaged: the stream finds out as it copies them and renders each
// afresh (a render of that chunk alone, the reverb primed before it): the same bits.
static void test_damaged_chunks(void) {
    float *none = frames(), *got = frames();
    pg_render_stats s;
    CHECK_STATUS(render((how){ "c", 2, 0, 0, 0, -1, 0, false }, got, &s), PG_OK);
    char path[600];
    snprintf(path, sizeof path, "%s/c", dir);
    CHECK_EQ_I64(t_flip_byte(path, WHOLE_CHUNK, HEADER + 40000), CHUNKS - 1);
    CHECK_STATUS(render((how){ "", 2, 0, 0, 0, -1, 0, false }, none, &s), PG_OK);
    memset(got, 0, sizeof(float) * FRAMES);
    CHECK_STATUS(render((how){ "c", 2, 0, 0, 0, -1, 0, false }, got, &s), PG_OK);
    CHECK(same(none, got, FRAMES));
    free(none);
    free(got);
}

// A --start/--end window [100000, 420000) from the whole render's cache: the chunks inside
// it, 2 to 5, are found; 1 and 6, cut by its edges, are its own (the reverb primed before
// 100000): the whole render's frames there. Without a cache, the same.
static void test_window(void) {
    float *whole = frames(), *got = frames();
    pg_render_stats s;
    CHECK_STATUS(render((how){ "d", 2, 0, 0, 0, -1, 0, false }, whole, &s), PG_OK);
    int64_t n = WINDOW_END - WINDOW_START;
    CHECK_STATUS(render((how){ "d", 2, 0, WINDOW_START, WINDOW_END, -1, 0, false }, got, &s),
                 PG_OK);
    CHECK_EQ_I64(s.chunk_hits, 4);
    CHECK_EQ_I64(s.chunk_misses, 2);
    CHECK(same(whole + WINDOW_START, got, n));
    memset(got, 0, sizeof(float) * FRAMES);
    CHECK_STATUS(render((how){ "", 2, 0, WINDOW_START, WINDOW_END, -1, 0, false }, got, &s), PG_OK);
    CHECK(same(whole + WINDOW_START, got, n));
    free(whole);
    free(got);
}

// 100 notes (too few to split into sub-mixes) and a silent one at [-1000, -500), last in
// the mix: what sounds after it, and the notes each chunk reads, are the same, but m starts
// at -1000 now, and so does the partitions' grid, which decides the reverb's bits (where its
// FFTs cut the source): every chunk is rendered again, none found. The bits of a render
// without cache.
static void test_grid_moved(void) {
    float *none = frames(), *got = frames();
    pg_render_stats s;
    CHECK_STATUS(render((how){ "e", 2, 0, 0, 0, -1, 100, false }, got, &s), PG_OK);
    CHECK_STATUS(render((how){ "", 2, 0, 0, 0, -1, 100, true }, none, &s), PG_OK);
    memset(got, 0, sizeof(float) * FRAMES);
    CHECK_STATUS(render((how){ "e", 2, 0, 0, 0, -1, 100, true }, got, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, 0);
    CHECK(same(none, got, 99 * STEP + LEN + TAPS - 1 + 1000));
    free(none);
    free(got);
}

// A saw has no start of its own: in a window it starts where the window first needs it (the
// README's time model), which under a reverb is where the reverb, rendered from its origin
// as -O0 renders it, reads it: the note's start, frame 0. The reverb that seeks reads the
// mix from a few partitions before the window only, yet the saw must start there all the
// same: the window [120000, 180000) holds the whole render's frames, as at -O0, to within
// float rounding (the plans share work differently). (The saw started where the seeking
// reverb first read it, a different phase: the frames differed at -1.3 dBFS.)
static float *saw_reverb(pg_frame start, pg_frame end, int opt_level) {
    pg_graph *g = t_graph(RATE);
    int saw = ADD(g, "BlitSawPE", t_num("frequency", 220.0));
    int note = ADD(g, "CropPE", t_node(NULL, saw), t_ext(NULL, 0, 200000));
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.cache_dir = "";
    o.opt_level = opt_level;
    o.has_start = o.has_end = true;
    o.start = start;
    o.end = end;
    float *out = calloc((size_t)(end - start), sizeof(float));
    pg_render_stats s;
    CHECK_STATUS(t_render_plan(g, reverb_of(g, note), &o, 30000, out, &s, NULL), PG_OK);
    pg_graph_free(g);
    return out;
}

static void test_saw_in_window(void) {
    float *whole = saw_reverb(0, 180000, 1), *win = saw_reverb(120000, 180000, 1);
    float *naive = saw_reverb(120000, 180000, 0);
    double d = 0.0, d0 = 0.0;
    for (int i = 0; i < 60000; i++) {
        d = fmax(d, fabs((double)win[i] - (double)whole[120000 + i]));
        d0 = fmax(d0, fabs((double)win[i] - (double)naive[i]));
    }
    CHECK(d < 1e-6);  // -120 dBFS
    CHECK(d0 < 1e-6); // (a saw at full scale: its frames differ by far more when the phase does)
    CHECK(fabs((double)whole[150000]) > 0.01);
    free(whole);
    free(win);
    free(naive);
}

int main(void) {
    if (!t_temp_dir(dir, sizeof dir, "seek"))
        return 1;
    test_cold_and_warm();
    test_one_note_edit();
    test_damaged_chunks();
    test_window();
    test_grid_moved();
    test_saw_in_window();
    t_remove_dir(dir);
    return check_done();
}
