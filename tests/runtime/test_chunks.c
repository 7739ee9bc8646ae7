// test_chunks.c: the output kept in the cache in chunks of 65536 frames (runtime/chunks.c).
// The piece: 200 saw notes of 12000 frames, one every 3000 frames, mono, [0, 609000): 10
// chunks (9 whole, the last 19176 frames); note i's saw is a buffer over [3000 i, 3000 i +
// 12000). The mix is split into 3 sub-mixes, of the notes starting in [0, 262144) (notes 0
// to 87, covering [0, 273000)), in [262144, 524288) (88 to 174, [264000, 534000)) and after
// (175 to 199, [525000, 609000)): streamed when chunks are kept, buffers (cached) without.
// Every expectation below follows from that geometry: a chunk is rendered again when a note
// sounding in it changed, and a render needs only the notes that sound in the chunks it
// renders.
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum {
    RATE = 48000,
    STEP = 3000,
    LEN = 12000,
    FRAMES = 199 * STEP + LEN, // 609000
    CHUNKS = 10,
    HEADER = 40,                      // bytes before an entry's samples
    WHOLE_CHUNK = HEADER + 65536 * 4, // a whole mono chunk's entry
    LAST_CHUNK = HEADER + (FRAMES - 9 * 65536) * 4
};

static char dir[256];

typedef struct how {
    const char *cache; // a folder under dir, or "" for no cache
    int threads, block;
    bool no_output_cache;
    int64_t request;  // frames asked for at once (0: 30000, which never covers a whole chunk)
    size_t mem_limit; // bytes (0: none)
} how;

// Renders root over its extent into out (FRAMES frames at most).
static pg_status render(pg_graph *g, int root, how h, float *out, pg_render_stats *stats) {
    char path[400];
    snprintf(path, sizeof path, "%s/%s", dir, h.cache);
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.cache_dir = h.cache[0] ? path : "";
    o.threads = h.threads;
    o.block_frames = h.block;
    o.no_output_cache = h.no_output_cache;
    o.mem_limit = h.mem_limit;
    return t_render_plan(g, root, &o, h.request ? h.request : 30000, out, stats, NULL);
}

static pg_status render_notes(int n, int odd, how h, float *out, pg_render_stats *s) {
    pg_graph *g = t_graph(RATE);
    pg_status st = render(g, t_saw_notes(g, n, STEP, LEN, odd), h, out, s);
    pg_graph_free(g);
    return st;
}

// The entries in folder `cache` whose size is `bytes`.
static int entries_of_size(const char *cache, long bytes) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, cache);
    DIR *d = opendir(path);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s/%s", dir, cache, e->d_name);
        n += stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == bytes;
    }
    if (d)
        closedir(d);
    return n;
}

static float *frames(void) {
    return calloc(FRAMES, sizeof(float));
}

// Cold: every chunk rendered and stored. Warm: every chunk copied, nothing else needed (no
// buffer made or loaded). The same bits as without a cache each time.
static void test_cold_and_warm(void) {
    float *none = frames(), *cold = frames(), *warm = frames();
    pg_render_stats s;
    CHECK_STATUS(render_notes(200, -1, (how){ "", 2, 0, false, 0, 0 }, none, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_hits + s.chunk_misses, 0);
    CHECK_STATUS(render_notes(200, -1, (how){ "a", 2, 0, false, 0, 0 }, cold, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_misses, CHUNKS);
    CHECK_EQ_I64(s.chunk_hits, 0);
    CHECK_EQ_I64(s.materialised, 200); // the saws; the sub-mixes streamed
    CHECK_EQ_I64(entries_of_size("a", WHOLE_CHUNK), 9);
    CHECK_EQ_I64(entries_of_size("a", LAST_CHUNK), 1);
    CHECK_STATUS(render_notes(200, -1, (how){ "a", 2, 0, false, 65536, 0 }, warm, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, CHUNKS);
    CHECK_EQ_I64(s.chunk_misses, 0);
    CHECK_EQ_I64(s.materialised, 0);
    CHECK_EQ_I64(s.cache_loaded_bytes, (size_t)FRAMES * 4); // the chunks' samples only
    CHECK(memcmp(none, cold, sizeof(float) * FRAMES) == 0);
    CHECK(memcmp(none, warm, sizeof(float) * FRAMES) == 0);
    free(none);
    free(cold);
    free(warm);
}

// Note 40, [120000, 132000), sounds in chunks 1 [65536, 131072) and 2 [131072, 196608): those
// two are rendered again, the 8 others copied. They read notes 18 to 65 (the notes sounding
// in [65536, 196608)): note 40 rendered, 47 loaded. On 1 thread and on 2, the bits of a
// render without cache; at block sizes 7 and 4096 (a block never crosses a chunk) as well.
static void test_one_note_edit(void) {
    float *fresh = frames(), *one = frames(), *two = frames(), *odd = frames();
    pg_render_stats s;
    CHECK_STATUS(render_notes(200, -1, (how){ "b", 2, 0, false, 0, 0 }, one, &s), PG_OK);
    CHECK(t_copy_folder(dir, "b", "b2"));
    CHECK(t_copy_folder(dir, "b", "b3"));
    CHECK_STATUS(render_notes(200, 40, (how){ "", 2, 0, false, 0, 0 }, fresh, &s), PG_OK);
    CHECK_STATUS(render_notes(200, 40, (how){ "b", 1, 0, false, 0, 0 }, one, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, 8);
    CHECK_EQ_I64(s.chunk_misses, 2);
    CHECK_EQ_I64(s.cache_hits, 47);
    CHECK_EQ_I64(s.cache_misses, 1);
    CHECK_STATUS(render_notes(200, 40, (how){ "b2", 2, 0, false, 0, 0 }, two, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, 8);
    CHECK_STATUS(render_notes(200, 40, (how){ "b3", 2, 7, false, 0, 0 }, odd, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_misses, 2);
    CHECK(memcmp(fresh, one, sizeof(float) * FRAMES) == 0);
    CHECK(memcmp(fresh, two, sizeof(float) * FRAMES) == 0);
    CHECK(memcmp(fresh, odd, sizeof(float) * FRAMES) == 0);
    free(fresh);
    free(one);
    free(two);
    free(odd);
}

// A note added at the end, [600000, 612000): the mix's key counts its inputs by order, so
// adding one changes only what it sounds in: chunk 9 (longer now, [589824, 612000)) is
// rendered again, 0..8 copied.
static void test_added_note(void) {
    float *out = calloc(FRAMES + STEP, sizeof(float));
    pg_render_stats s;
    CHECK_STATUS(render_notes(200, -1, (how){ "c", 2, 0, false, 0, 0 }, out, &s), PG_OK);
    CHECK_STATUS(render_notes(201, -1, (how){ "c", 2, 0, false, 0, 0 }, out, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, 9);
    CHECK_EQ_I64(s.chunk_misses, 1);
    free(out);
}

// Note 100, [300000, 312000), taken out: chunk 4 [262144, 327680) alone is rendered again,
// the bits of a render without cache. The notes after it keep their sub-mix (grouped by a
// count of notes instead, every sub-mix after it would change, and every chunk they sound in).
static void test_removed_note(void) {
    float *none = frames(), *out = frames();
    pg_render_stats s;
    CHECK_STATUS(render_notes(200, -1, (how){ "c2", 2, 0, false, 0, 0 }, out, &s), PG_OK);
    pg_graph *g = t_graph(RATE);
    int root = t_saw_notes_but(g, 200, STEP, LEN, -1, 100);
    CHECK_STATUS(render(g, root, (how){ "", 2, 0, false, 0, 0 }, none, &s), PG_OK);
    CHECK_STATUS(render(g, root, (how){ "c2", 2, 0, false, 0, 0 }, out, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, 9);
    CHECK_EQ_I64(s.chunk_misses, 1);
    CHECK_EQ_I64(s.cache_hits, 25); // notes 84 to 109 sound in chunk 4
    CHECK_EQ_I64(s.cache_misses, 0);
    CHECK(memcmp(none, out, sizeof(float) * FRAMES) == 0);
    pg_graph_free(g);
    free(none);
    free(out);
}

// Flips a byte (at `at` past the header) of every entry of `size` bytes in folder `cache`.
static void damage_entries(const char *cache, long size, long at) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, cache);
    CHECK(t_flip_byte(path, size, HEADER + at) > 0);
}

// Flips a byte of every whole chunk's entry in folder `cache`.
static void damage_whole_chunks(const char *cache) {
    damage_entries(cache, WHOLE_CHUNK, 1000);
}

// Every chunk but the last damaged: they turn out so when the stream copies them, are
// rendered afresh (the same bits) and stored again. Asked for 30000 frames at a time, an
// entry is checked before it is copied; asked for whole chunks, as it is copied. A chunk
// rendered afresh loads the notes sounding in it alone: 22 in chunk 0, 26 or 25 in the
// others, 229 in all (every one of the 200, for each chunk, before: 1800).
static void test_damaged_chunks(void) {
    float *cold = frames(), *again = frames(), *whole = frames(), *third = frames();
    pg_render_stats s;
    CHECK_STATUS(render_notes(200, -1, (how){ "d", 2, 0, false, 0, 0 }, cold, &s), PG_OK);
    damage_whole_chunks("d");
    CHECK_STATUS(render_notes(200, -1, (how){ "d", 2, 0, false, 0, 0 }, again, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, 1);
    CHECK_EQ_I64(s.chunk_misses, 9);
    CHECK_EQ_I64(s.cache_hits, 229);
    CHECK_EQ_I64(s.cache_misses, 0);
    CHECK(memcmp(cold, again, sizeof(float) * FRAMES) == 0);
    damage_whole_chunks("d");
    CHECK_STATUS(render_notes(200, -1, (how){ "d", 2, 0, false, 65536, 0 }, whole, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, 1);
    CHECK_EQ_I64(s.chunk_misses, 9);
    CHECK(memcmp(cold, whole, sizeof(float) * FRAMES) == 0);
    CHECK_STATUS(render_notes(200, -1, (how){ "d", 1, 0, false, 65536, 0 }, third, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, CHUNKS); // the damaged entries were replaced
    CHECK(memcmp(cold, third, sizeof(float) * FRAMES) == 0);
    free(cold);
    free(again);
    free(whole);
    free(third);
}

// Under a memory limit (64 MiB: every note fits, none is spilled) the output is kept too:
// cold, 10 chunks stored; note 40's edit, chunks 1 and 2 rendered from 47 notes loaded and
// 1 made. Damaged entries are found before the render starts, so the stream renders their
// chunks within the limit (rather than a render of each beside it): the notes sounding in
// chunks 0 to 8, 0 to 196, are loaded once each.
static void test_mem_limit(void) {
    const size_t limit = (size_t)64 << 20;
    float *fresh = frames(), *out = frames();
    pg_render_stats s;
    CHECK_STATUS(render_notes(200, -1, (how){ "", 2, 0, false, 0, 0 }, fresh, &s), PG_OK);
    CHECK_STATUS(render_notes(200, -1, (how){ "m", 2, 0, false, 0, limit }, out, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_misses, CHUNKS);
    CHECK_EQ_I64(s.materialised, 200);
    CHECK(memcmp(fresh, out, sizeof(float) * FRAMES) == 0);
    CHECK(t_copy_folder(dir, "m", "m2"));
    CHECK_STATUS(render_notes(200, 40, (how){ "", 2, 0, false, 0, 0 }, fresh, &s), PG_OK);
    CHECK_STATUS(render_notes(200, 40, (how){ "m", 2, 0, false, 0, limit }, out, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, 8);
    CHECK_EQ_I64(s.chunk_misses, 2);
    CHECK_EQ_I64(s.cache_hits, 47);
    CHECK_EQ_I64(s.cache_misses, 1);
    CHECK(memcmp(fresh, out, sizeof(float) * FRAMES) == 0);
    damage_whole_chunks("m2");
    CHECK_STATUS(render_notes(200, -1, (how){ "", 2, 0, false, 0, 0 }, fresh, &s), PG_OK);
    CHECK_STATUS(render_notes(200, -1, (how){ "m2", 2, 0, false, 0, limit }, out, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, 1);
    CHECK_EQ_I64(s.chunk_misses, 9);
    CHECK_EQ_I64(s.cache_hits, 197);
    CHECK_EQ_I64(s.cache_misses, 0);
    CHECK(memcmp(fresh, out, sizeof(float) * FRAMES) == 0);
    free(fresh);
    free(out);
}

// What --mem-limit checks against, without output chunks (so the 3 sub-mixes are buffers,
// each pulling its notes): a sub-mix lives from its urgency (its first frame) less the
// lookahead (2 s and a request of 65536 frames: 161536 frames) to its last frame (and a
// block); its notes (48000 bytes each) from the same start until the stream reaches the
// sub-mix, by when its task is surely done. The most at once is from frame 102464 (sub-mix
// 1's start less the lookahead) to 264000: sub-mixes 0 and 1 (273000 and 270000 frames:
// 2172000 bytes) and sub-mix 1's 87 notes (4176000 bytes), 6348000 bytes in all. The render
// stays within it.
static void test_limit_estimate(void) {
    float *out = frames();
    pg_render_stats s;
    CHECK_STATUS(render_notes(200, -1, (how){ "", 2, 0, true, 0, (size_t)64 << 20 }, out, &s),
                 PG_OK);
    CHECK_EQ_I64(s.materialised, 203);
    CHECK_EQ_I64(s.limit_need_bytes, 6348000);
    // (under 64 MiB, tasks ahead of need may fill what the needed buffers leave; at the
    // figure itself, nothing is left for them)
    CHECK_STATUS(render_notes(200, -1, (how){ "", 2, 0, true, 0, 6348000 }, out, &s), PG_OK);
    CHECK(s.peak_mat_bytes > 0 && s.peak_mat_bytes <= 6348000);
    CHECK_EQ_I64(render_notes(200, -1, (how){ "", 2, 0, true, 0, 6347999 }, out, &s), PG_ERR_LIMIT);
    free(out);
}

// A NaN or an infinity in the output is reported with its frame (pg_render_stats), at any
// block size and thread count; the chunk holding it (chunk 3: [196608, 262144)) is not kept,
// so a warm render renders it, and reports it, again. 3e38 * 10 overflows float: inf from
// frame 200000.
static int notes_with_inf(pg_graph *g) {
    int big = ADD(g, "ConstPE", t_num(NULL, 3e38));
    int inf = ADD(g, "GainPE", t_node(NULL, big), t_num(NULL, 10.0));
    int at = ADD(g, "CropPE", t_node(NULL, inf), t_ext(NULL, 200000, 200010));
    return ADD(g, "MixPE", t_node(NULL, t_saw_notes(g, 200, STEP, LEN, -1)), t_node(NULL, at));
}

static void test_nonfinite(void) {
    pg_graph *g = t_graph(RATE);
    int root = notes_with_inf(g);
    float *out = frames();
    pg_render_stats s;
    const int blocks[] = { 7, 4096, 65536 }, threads[] = { 1, 2, 4 };
    for (int i = 0; i < 3; i++) {
        CHECK_STATUS(render(g, root, (how){ "", threads[i], blocks[i], false, 0, 0 }, out, &s),
                     PG_OK);
        CHECK_EQ_I64(s.first_nonfinite_frame, 200000);
    }
    CHECK_STATUS(render(g, root, (how){ "n", 2, 0, false, 0, 0 }, out, &s), PG_OK);
    CHECK_EQ_I64(s.first_nonfinite_frame, 200000);
    CHECK_EQ_I64(s.chunk_misses, CHUNKS - 1);
    CHECK_STATUS(render(g, root, (how){ "n", 2, 0, false, 0, 0 }, out, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, CHUNKS - 1);
    CHECK_EQ_I64(s.first_nonfinite_frame, 200000);
    CHECK(isinf(out[200000]) && isfinite(out[199999]));
    CHECK_STATUS(render_notes(200, -1, (how){ "", 2, 0, false, 0, 0 }, out, &s), PG_OK);
    CHECK_EQ_I64(s.first_nonfinite_frame, -1);
    pg_graph_free(g);
    free(out);
}

// --no-output-cache: no chunk is stored; a warm render loads the 3 sub-mixes instead.
static void test_no_output_cache(void) {
    float *out = frames();
    pg_render_stats s;
    CHECK_STATUS(render_notes(200, -1, (how){ "e", 2, 0, true, 0, 0 }, out, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_misses, 0);
    CHECK_EQ_I64(s.materialised, 203); // the saws and the sub-mixes
    CHECK_EQ_I64(entries_of_size("e", WHOLE_CHUNK), 0);
    CHECK_STATUS(render_notes(200, -1, (how){ "e", 2, 0, true, 0, 0 }, out, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, 0);
    CHECK_EQ_I64(s.cache_hits, 3);
    free(out);
}

// The notes (note `odd` changed) through a LimiterPE (stateful) and, when `late`, mixed with
// a lone note at [620000, 632000): the limiter is then no link of the root's chain but a
// buffer over the mix's whole extent, shorter than the window.
static pg_status render_limited(int odd, bool late, how h, float *out, pg_render_stats *s) {
    pg_graph *g = t_graph(RATE);
    int root = ADD(g, "LimiterPE", t_node(NULL, t_saw_notes(g, 200, STEP, LEN, odd)));
    if (late) {
        int saw = ADD(g, "BlitSawPE", t_num("frequency", 440.0));
        int note = ADD(g, "CropPE", t_node(NULL, saw), t_ext(NULL, 620000, 632000));
        root = ADD(g, "MixPE", t_node(NULL, root), t_node(NULL, note));
    }
    pg_status st = render(g, root, h, out, s);
    pg_graph_free(g);
    return st;
}

// The notes (note `odd` changed) through a 40 Hz low-pass, whose every output frame depends
// on its history: a state restored wrong shows at once. Kind 0: a resonant BQ2LowPassPE (q
// 20), which rings for seconds, so that an edit still shows a chunk after it ends; 1: a
// 4-pole FilterPE; 2: an 8 kHz BQ2LowPassPE (q 0.7), whose ring dies in a few frames; 3: a
// CombPE at 40 Hz, q 20 (a 2 Hz band: it rings for seconds too); 4: a LimiterAPE at -30 dB,
// 5: an ExpanderLimiterPE to 0.05 with a 2 s release and 6: a CompressorPE (-30 dB, 4:1)
// keyed by an EnvDetectPE of the notes with a release of 0.0001 a frame (slow envelopes: an
// edit still shows a chunk later; the compressor and its side chain read the mix twice).
static int lowpass_kind;

static pg_status render_lowpassed(int odd, how h, float *out, pg_render_stats *s) {
    pg_graph *g = t_graph(RATE);
    int notes = t_saw_notes(g, 200, STEP, LEN, odd);
    int root;
    if (lowpass_kind == 0)
        root = ADD(g, "BQ2LowPassPE", t_node(NULL, notes), t_num("f0", 40.0), t_num("q", 20.0));
    else if (lowpass_kind == 1)
        root = ADD(g, "FilterPE", t_node(NULL, notes), t_int("num_poles", 4), t_num("freq", 40.0));
    else if (lowpass_kind == 3)
        root = ADD(g, "CombPE", t_node(NULL, notes), t_num("f0", 40.0), t_num("q", 20.0));
    else if (lowpass_kind == 4)
        root = ADD(g, "LimiterAPE", t_node(NULL, notes), t_num("threshold_db", -30.0));
    else if (lowpass_kind == 5)
        root = ADD(g, "ExpanderLimiterPE", t_node(NULL, notes), t_num("target_amp", 0.05),
                   t_num("release_time", 2.0));
    else if (lowpass_kind == 6)
        root = ADD(g, "CompressorPE", t_node(NULL, notes),
                   t_node(NULL, ADD(g, "EnvDetectPE", t_node(NULL, notes), t_num("attack", 0.9),
                                    t_num("release", 0.0001))),
                   t_num("threshold_db", -30.0), t_num("ratio", 4.0));
    else
        root = ADD(g, "BQ2LowPassPE", t_node(NULL, notes), t_num("f0", 8000.0), t_num("q", 0.7));
    pg_status st = render(g, root, h, out, s);
    pg_graph_free(g);
    return st;
}

// A limiter over the whole mix (a stateful link of the root's chain, whose init pulls
// nothing) is run by the stream in time order, not made into a buffer: the chunks hold the
// mix under it, as without it (10 stored cold, the 200 saws the only buffers), and after note
// 40's edit chunks 1 and 2 are rendered again (47 saws loaded, note 40 rendered), the 8 others
// found, and every chunk runs through the limiter. The bits of renders without cache, on 1
// and 2 threads and in blocks of 7 (the -O0 plan, where the limiter is a buffer, is checked
// against by the pieces' invariants).
static void test_filtered_mix(void) {
    float *none = frames(), *out = frames();
    pg_render_stats s;
    CHECK_STATUS(render_limited(40, false, (how){ "", 2, 0, false, 0, 0 }, none, &s), PG_OK);
    CHECK_STATUS(render_limited(-1, false, (how){ "i", 2, 0, false, 0, 0 }, out, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_misses, CHUNKS);
    CHECK_EQ_I64(s.materialised, 200);
    CHECK(t_copy_folder(dir, "i", "i2"));
    CHECK_STATUS(render_limited(40, false, (how){ "i", 2, 0, false, 0, 0 }, out, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, 8);
    CHECK_EQ_I64(s.chunk_misses, 2);
    CHECK_EQ_I64(s.chain_resumed, 1);  // (test_resumed_chain)
    CHECK_EQ_I64(s.chain_rejoined, 7); // (the edit leaves the mix's peak, its state, alone)
    CHECK_EQ_I64(s.chunks_chained, 7);
    CHECK_EQ_I64(s.cache_misses, 1);
    CHECK_EQ_I64(s.cache_hits, 47);
    CHECK(memcmp(none, out, sizeof(float) * FRAMES) == 0);
    memset(out, 0, sizeof(float) * FRAMES);
    CHECK_STATUS(render_limited(40, false, (how){ "i2", 1, 7, false, 0, 0 }, out, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, 8);
    CHECK(memcmp(none, out, sizeof(float) * FRAMES) == 0);
    free(none);
    free(out);
    // with the lone note after it, the window [0, 632000) is longer than the limiter's buffer:
    // 10 chunks kept (the last [589824, 632000)); the sub-mixes, pulled by its task, are still
    // buffers
    none = calloc(632000, sizeof(float));
    out = calloc(632000, sizeof(float));
    CHECK_STATUS(render_limited(-1, true, (how){ "", 2, 0, false, 0, 0 }, none, &s), PG_OK);
    CHECK_STATUS(render_limited(-1, true, (how){ "j", 2, 0, false, 0, 0 }, out, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_misses, CHUNKS);
    CHECK_EQ_I64(s.materialised, 200 + 3 + 1 + 1);
    CHECK(memcmp(none, out, sizeof(float) * 632000) == 0);
    free(none);
    free(out);
}

// A master low-pass's output is kept as well, with its state at each chunk's end (resume.c),
// in folder r (and copies of it, r2 to r4). An unchanged render copies its 10 chunks and
// makes nothing. Note 190's edit, [570000, 582000), sounds in chunk 8 [524288, 589824) alone:
// chunks 0-7 are copied after the filter, which resumes from its state at the end of chunk
// 7 over chunk 8 (rendered: notes 171-196 sound in it, 25 loaded, 190 made) and 9 (the mix
// found). Damaged states (every entry of state_entry bytes) make it run from its origin again
// over the mix's 10 chunks; damaged chunks after it (and the mix's, the same size) are each
// made again by a render from the window's start. Every time, the bits of a render without
// cache. (Mutations that load no state, or key a chunk by its own mix alone, fail it.)
static void resumed_chain(const char *r, long state_entry) {
    char r2[16], r3[16], r4[16];
    snprintf(r2, sizeof r2, "%s2", r);
    snprintf(r3, sizeof r3, "%s3", r);
    snprintf(r4, sizeof r4, "%s4", r);
    float *none = frames(), *edited = frames(), *out = frames();
    pg_render_stats s;
    CHECK_STATUS(render_lowpassed(-1, (how){ "", 2, 0, false, 0, 0 }, none, &s), PG_OK);
    CHECK_EQ_I64(s.chain_resumed, -1); // (no cache)
    CHECK_STATUS(render_lowpassed(190, (how){ "", 2, 0, false, 0, 0 }, edited, &s), PG_OK);
    CHECK_STATUS(render_lowpassed(-1, (how){ r, 2, 0, false, 0, 0 }, out, &s), PG_OK);
    CHECK_EQ_I64(s.chain_resumed, 0);
    CHECK(t_copy_folder(dir, r, r2));
    CHECK(t_copy_folder(dir, r, r3));
    CHECK(t_copy_folder(dir, r, r4));
    CHECK_STATUS(render_lowpassed(-1, (how){ r, 2, 0, false, 0, 0 }, out, &s), PG_OK);
    CHECK_EQ_I64(s.chain_resumed, CHUNKS);
    CHECK_EQ_I64(s.chunk_hits, CHUNKS);
    CHECK_EQ_I64(s.materialised + s.cache_hits + s.cache_misses, 0);
    CHECK(memcmp(none, out, sizeof(float) * FRAMES) == 0);
    CHECK_STATUS(render_lowpassed(190, (how){ r2, 2, 7, false, 0, 0 }, out, &s), PG_OK);
    CHECK_EQ_I64(s.chain_resumed, 8);
    CHECK_EQ_I64(s.chain_rejoined, 0); // (the edit still rings at the end of chunk 8)
    CHECK_EQ_I64(s.chunk_hits, 9);
    CHECK_EQ_I64(s.chunk_misses, 1);
    CHECK_EQ_I64(s.cache_hits, 25);
    CHECK_EQ_I64(s.cache_misses, 1);
    CHECK(memcmp(edited, out, sizeof(float) * FRAMES) == 0);
    // the edit undone: the first render's chunks, all 10 (chunk 9's mix is the same in both,
    // but its key after the filter holds every chunk before it: the edit's chunk 9 is another)
    CHECK_STATUS(render_lowpassed(-1, (how){ r2, 2, 0, false, 0, 0 }, out, &s), PG_OK);
    CHECK_EQ_I64(s.chain_resumed, CHUNKS);
    CHECK(memcmp(none, out, sizeof(float) * FRAMES) == 0);
    damage_entries(r3, HEADER + state_entry, state_entry - 4); // (its size, then the filter's)
    CHECK_STATUS(render_lowpassed(-1, (how){ r3, 2, 0, false, 0, 0 }, out, &s), PG_OK);
    CHECK_EQ_I64(s.chain_resumed, 0);
    CHECK_EQ_I64(s.chunks_chained, CHUNKS);
    CHECK(memcmp(none, out, sizeof(float) * FRAMES) == 0);
    damage_whole_chunks(r4);
    memset(out, 0, sizeof(float) * FRAMES);
    CHECK_STATUS(render_lowpassed(-1, (how){ r4, 1, 0, false, 65536, 0 }, out, &s), PG_OK);
    CHECK_EQ_I64(s.chain_resumed, CHUNKS);
    CHECK(memcmp(none, out, sizeof(float) * FRAMES) == 0);
    free(none);
    free(edited);
    free(out);
}

// A BQ2LowPassPE's state: its frame count and 6 doubles of history (8 + 8 + 48 bytes, after
// the size); a 4-pole FilterPE's: 2 sections of 4 doubles (8 + 64); a 40 Hz comb's: where
// it is in its delay line and the line, 1200 doubles (8 + 8 + 9600); a LimiterAPE's, its
// envelope (8 + 8); an ExpanderLimiterPE's, its gain and release coefficient (8 + 16); a
// compressor's, its EnvDetectPE's envelope (8 + 8).
static void test_resumed_chain(void) {
    lowpass_kind = 0;
    resumed_chain("r", 64);
    lowpass_kind = 1;
    resumed_chain("f", 72);
    lowpass_kind = 3;
    resumed_chain("cb", 9616);
    lowpass_kind = 4;
    resumed_chain("la", 16);
    lowpass_kind = 5;
    resumed_chain("el", 24);
    lowpass_kind = 6;
    resumed_chain("cs", 16);
}

// A compressor keyed by an envelope of the mix it compresses (lowpass_kind 6) reads the mix
// twice, through the root's final chain, which the stream runs: neither the mix nor the
// envelope is a buffer (the saws are the only ones: one spanning the whole window would
// leave no chunk to keep), and the output is kept in its 10 chunks.
static void test_side_chain(void) {
    lowpass_kind = 6;
    float *out = frames();
    pg_render_stats s;
    CHECK_STATUS(render_lowpassed(-1, (how){ "sc", 2, 0, false, 0, 0 }, out, &s), PG_OK);
    CHECK_EQ_I64(s.materialised, 200);
    CHECK_EQ_I64(s.chunk_misses, CHUNKS);
    CHECK_EQ_I64(s.chain_resumed, 0);
    free(out);
}

// A window that starts after a master filter's origin: the filter must still run from its
// origin (frame 0, the notes' start), so the window's frames are those of the whole render,
// without a cache and with one (cold and warm). Planned against the root's need, which a
// stateful root's origin widens back to frame 0, the stream ran the resonant low-pass from
// the window's start instead: the frames differed at once.
static void test_window_after_filter_origin(void) {
    enum {
        W0 = 100000,
        W1 = 420000
    };
    float *whole = frames(), *win = calloc(W1 - W0, sizeof(float));
    pg_render_stats s;
    lowpass_kind = 0;
    CHECK_STATUS(render_lowpassed(-1, (how){ "", 2, 0, false, 0, 0 }, whole, &s), PG_OK);
    static const char *const caches[] = { "", "wf", "wf" }; // none, cold, warm
    for (int k = 0; k < 3; k++) {
        char path[400];
        snprintf(path, sizeof path, "%s/%s", dir, caches[k]);
        pg_plan_opts o;
        pg_plan_opts_init(&o);
        o.cache_dir = caches[k][0] ? path : "";
        o.has_start = o.has_end = true;
        o.start = W0;
        o.end = W1;
        pg_graph *g = t_graph(RATE);
        int root = ADD(g, "BQ2LowPassPE", t_node(NULL, t_saw_notes(g, 200, STEP, LEN, -1)),
                       t_num("f0", 40.0), t_num("q", 20.0));
        memset(win, 0, sizeof(float) * (W1 - W0));
        CHECK_STATUS(t_render_plan(g, root, &o, 30000, win, &s, NULL), PG_OK);
        CHECK(memcmp(win, whole + W0, sizeof(float) * (W1 - W0)) == 0);
        pg_graph_free(g);
    }
    free(whole);
    free(win);
}

// Past an edit the stream keeps looking for the chunks after the chain: an 8 kHz low-pass
// comes back to the same state bits soon after note 40 ([120000, 132000), chunks 1 and 2)
// ends, so chunk 0 is copied, 1 and 2 run through the filter (their mix rendered), and 3 to
// 9 are found again after it: the filter runs over 2 chunks of 10, and nothing reads the
// mix's chunks 3 to 9. The bits of a render without cache.
static void test_chain_rejoined(void) {
    lowpass_kind = 2;
    float *edited = frames(), *out = frames();
    pg_render_stats s;
    CHECK_STATUS(render_lowpassed(40, (how){ "", 2, 0, false, 0, 0 }, edited, &s), PG_OK);
    CHECK_STATUS(render_lowpassed(-1, (how){ "q", 2, 0, false, 0, 0 }, out, &s), PG_OK);
    CHECK_STATUS(render_lowpassed(40, (how){ "q", 1, 0, false, 0, 0 }, out, &s), PG_OK);
    CHECK_EQ_I64(s.chain_resumed, 1);
    CHECK_EQ_I64(s.chain_rejoined, 7);
    CHECK_EQ_I64(s.chunk_hits, 8);
    CHECK_EQ_I64(s.chunk_misses, 2);
    CHECK(memcmp(edited, out, sizeof(float) * FRAMES) == 0);
    free(edited);
    free(out);
}

// The notes panned (SpatialPE at 30 degrees: the right ear 15 frames early, int(0.22 / 343 *
// sin(30 deg) * 48000) = 15, so [0, 609015), stereo): the panner, streamed, works out its
// gains and delay in an init that pulls nothing, so it is keyed like any streamed node and
// the output is kept in its 10 chunks, found warm (an init that may pull would have made it
// a task of its own, and the stream unkeyable).
static void test_panned(void) {
    enum {
        PANNED = FRAMES + 15
    };
    float *none = calloc(2 * PANNED, sizeof(float)), *out = calloc(2 * PANNED, sizeof(float));
    pg_render_stats s;
    for (int k = 0; k < 3; k++) {
        pg_graph *g = t_graph(RATE);
        int notes = t_saw_notes(g, 200, STEP, LEN, -1);
        int root = ADD(g, "SpatialPE", t_node(NULL, notes), t_num("degree", 30.0));
        CHECK_EQ_I64(pg_graph_node_extent(g, root).end, PANNED);
        CHECK_STATUS(render(g, root, (how){ k ? "k" : "", 2, 0, false, 0, 0 }, k ? out : none, &s),
                     PG_OK);
        pg_graph_free(g);
    }
    CHECK_EQ_I64(s.chunk_hits, CHUNKS);
    CHECK(memcmp(none, out, sizeof(float) * 2 * PANNED) == 0);
    free(none);
    free(out);
}

// A side effect on the stream's way (WavWriterPE writing a stem of a note the mix plays):
// the output is not kept, so the stem is written on every render.
static void test_side_effect(void) {
    char stem[320];
    snprintf(stem, sizeof stem, "%s/stem.wav", dir);
    pg_graph *g = t_graph(RATE);
    pg_arg s[] = { t_num("frequency", 220.0) };
    pg_arg c[] = { t_node(NULL, t_add(g, "BlitSawPE", s, 1)), t_ext(NULL, 0, 3000) };
    pg_arg w[] = { t_node(NULL, t_add(g, "CropPE", c, 2)), t_str("filename", stem) };
    pg_arg m[] = { t_node(NULL, t_add(g, "WavWriterPE", w, 2)),
                   t_node(NULL, t_saw_notes(g, 8, STEP, LEN, -1)) };
    int root = t_add(g, "MixPE", m, 2);
    float *out = frames();
    pg_render_stats st;
    CHECK_STATUS(render(g, root, (how){ "f", 2, 0, false, 0, 0 }, out, &st), PG_OK);
    CHECK(unlink(stem) == 0);
    CHECK_STATUS(render(g, root, (how){ "f", 2, 0, false, 0, 0 }, out, &st), PG_OK);
    CHECK_EQ_I64(st.chunk_hits + st.chunk_misses, 0);
    CHECK(access(stem, F_OK) == 0);
    pg_graph_free(g);
    free(out);
}

// 40 sine notes (stateless, so streamed) of 40000 frames, one every 3000, in one fused mix:
// the mix has an interval index, and each note sits in three of its buckets of 16384 frames;
// the chunks' keys walk it (a walk that sized its slot list by the inputs overran it). 3
// chunks: stored cold, copied warm, the bits of a render without cache.
static void test_indexed_mix(void) {
    enum {
        N = 40,
        FRAMES_IX = (N - 1) * STEP + 40000
    };
    pg_graph *g = t_graph(RATE);
    pg_arg m[N];
    for (int i = 0; i < N; i++) {
        int sine = ADD(g, "SinPE", t_num("frequency", 300.0 + 11.0 * i));
        int note = ADD(g, "CropPE", t_node(NULL, sine), t_ext(NULL, i * STEP, i * STEP + 40000));
        m[i] = t_node(NULL, ADD(g, "GainPE", t_node(NULL, note), t_num(NULL, 0.02)));
    }
    int root = t_add(g, "MixPE", m, N);
    float *none = calloc(FRAMES_IX, sizeof(float)), *out = calloc(FRAMES_IX, sizeof(float));
    pg_render_stats s;
    CHECK_STATUS(render(g, root, (how){ "", 2, 0, false, 0, 0 }, none, &s), PG_OK);
    CHECK_STATUS(render(g, root, (how){ "g", 2, 0, false, 0, 0 }, out, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_misses, 3);
    CHECK(memcmp(none, out, sizeof(float) * FRAMES_IX) == 0);
    CHECK_STATUS(render(g, root, (how){ "g", 2, 0, false, 65536, 0 }, out, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, 3);
    CHECK(memcmp(none, out, sizeof(float) * FRAMES_IX) == 0);
    pg_graph_free(g);
    free(none);
    free(out);
}

// Renders the notes (note `odd` changed) into file name under dir with cache folder `cache`
// ("" for none); *peak: the level a PCM file reports.
static pg_status render_file(int odd, const char *cache, const char *name, pg_subtype sub,
                             pg_render_stats *s, double *peak) {
    char path[400], cpath[400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(cpath, sizeof cpath, "%s/%s", dir, cache);
    pg_graph *g = t_graph(RATE);
    int root = t_saw_notes(g, 200, STEP, LEN, odd);
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.cache_dir = cache[0] ? cpath : "";
    pg_diag err;
    pg_plan *p = pg_plan_new(g, root, &o, &err);
    pg_graph_free(g);
    if (!p)
        return err.status;
    pg_write_opts w = { .subtype = sub, .quiet = true, .stats = s };
    pg_status st = pg_render_to_file(p, path, &w, peak, &err);
    pg_plan_free(p);
    return st;
}

// Whether files a and b under dir hold the same samples.
static bool same_file(const char *a, const char *b) {
    char pa[400], pb[400];
    snprintf(pa, sizeof pa, "%s/%s", dir, a);
    snprintf(pb, sizeof pb, "%s/%s", dir, b);
    pg_compare_result r;
    pg_diag err;
    return pg_compare_files(pa, pb, &r, &err) == PG_OK && r.frames_a == FRAMES &&
           r.frames_b == FRAMES && r.peak_diff_dbfs < -1000.0;
}

// Into a file, the chunks found are written from the cache entry itself (checked, not
// copied): warm, all 10 chunks; after note 40's edit, 8 (chunks 1 and 2 rendered); with every
// whole chunk damaged, 1 (9 rendered afresh). The files hold the samples of renders without
// cache, and a PCM file reports the peak a render without cache does.
static void test_into_file(void) {
    pg_render_stats s;
    double peak = 0.0, cold_peak = 0.0;
    CHECK_STATUS(render_file(-1, "", "none.wav", PG_SUBTYPE_FLOAT, &s, &peak), PG_OK);
    CHECK_STATUS(render_file(40, "", "none40.wav", PG_SUBTYPE_FLOAT, &s, &peak), PG_OK);
    CHECK_STATUS(render_file(-1, "", "none16.wav", PG_SUBTYPE_PCM16, &s, &cold_peak), PG_OK);
    CHECK_STATUS(render_file(-1, "h", "cold.wav", PG_SUBTYPE_FLOAT, &s, &peak), PG_OK);
    CHECK_EQ_I64(s.chunk_misses, CHUNKS);
    CHECK_STATUS(render_file(-1, "h", "warm.wav", PG_SUBTYPE_FLOAT, &s, &peak), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, CHUNKS);
    CHECK_EQ_I64(s.materialised, 0);
    CHECK(same_file("none.wav", "cold.wav"));
    CHECK(same_file("none.wav", "warm.wav"));
    CHECK_STATUS(render_file(-1, "h", "warm16.wav", PG_SUBTYPE_PCM16, &s, &peak), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, CHUNKS);
    CHECK(cold_peak > 0.1 && peak == cold_peak);
    CHECK(same_file("none16.wav", "warm16.wav"));
    CHECK(t_copy_folder(dir, "h", "h2"));
    CHECK_STATUS(render_file(40, "h", "edit.wav", PG_SUBTYPE_FLOAT, &s, &peak), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, 8);
    CHECK_EQ_I64(s.chunk_misses, 2);
    CHECK(same_file("none40.wav", "edit.wav"));
    damage_whole_chunks("h2");
    CHECK_STATUS(render_file(-1, "h2", "damaged.wav", PG_SUBTYPE_FLOAT, &s, &peak), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, 1);
    CHECK_EQ_I64(s.chunk_misses, 9);
    CHECK(same_file("none.wav", "damaged.wav"));
}

// The notes (note `odd` changed) under a master chain: a gain, then (fade > 0) a fade in and
// out of `fade` frames over the whole piece. The chain reads the mix as a leaf, so the
// chunks hold the mix, and the chain is applied to them as the stream reads them.
static int mastered(pg_graph *g, int odd, double gain, double fade) {
    int root =
        ADD(g, "GainPE", t_node(NULL, t_saw_notes(g, 200, STEP, LEN, odd)), t_num(NULL, gain));
    if (fade > 0)
        root = ADD(g, "SplicePE", t_node(NULL, root), t_num("up_dur", fade), t_num("dn_dur", fade));
    return root;
}

static pg_status render_mastered(int odd, double gain, double fade, how h, float *out,
                                 pg_render_stats *s) {
    pg_graph *g = t_graph(RATE);
    pg_status st = render(g, mastered(g, odd, gain, fade), h, out, s);
    pg_graph_free(g);
    return st;
}

// A master-level edit (the gain 0.5 -> 0.8, then a fade added) keeps every chunk: all 10
// copied through the new chain, no note made or loaded, the bits of a render without cache
// (1 and 2 threads, blocks of 7). A note edited under the chain re-renders chunks 1 and 2
// alone, as without the chain.
static void test_master_edit(void) {
    float *none = frames(), *warm = frames();
    pg_render_stats s;
    CHECK_STATUS(render_mastered(-1, 0.5, 0, (how){ "mg", 2, 0, false, 0, 0 }, warm, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_misses, CHUNKS);
    CHECK_EQ_I64(entries_of_size("mg", WHOLE_CHUNK), 9); // the mix's frames: mono, as the output
    const double gains[] = { 0.8, 0.8, 0.8 }, fades[] = { 0, 0, 24000 };
    const int threads[] = { 2, 1, 2 }, blocks[] = { 0, 7, 0 };
    for (int k = 0; k < 3; k++) {
        how h = { "mg", threads[k], blocks[k], false, 0, 0 };
        CHECK_STATUS(
            render_mastered(-1, gains[k], fades[k], (how){ "", 2, 0, false, 0, 0 }, none, &s),
            PG_OK);
        CHECK_STATUS(render_mastered(-1, gains[k], fades[k], h, warm, &s), PG_OK);
        CHECK_EQ_I64(s.chunk_hits, CHUNKS);
        CHECK_EQ_I64(s.chunk_misses, 0);
        CHECK_EQ_I64(s.materialised, 0);
        CHECK(memcmp(none, warm, sizeof(float) * FRAMES) == 0);
    }
    CHECK_STATUS(render_mastered(40, 0.8, 24000, (how){ "", 2, 0, false, 0, 0 }, none, &s), PG_OK);
    CHECK_STATUS(render_mastered(40, 0.8, 24000, (how){ "mg", 2, 0, false, 0, 0 }, warm, &s),
                 PG_OK);
    CHECK_EQ_I64(s.chunk_hits, 8);
    CHECK_EQ_I64(s.chunk_misses, 2);
    CHECK_EQ_I64(s.cache_hits, 47);
    CHECK(memcmp(none, warm, sizeof(float) * FRAMES) == 0);
    free(none);
    free(warm);
}

// Note 40 edited under a master gain and fade, rendered from folder `cache` (its cold render
// made without the edit): chunks 1 and 2 rendered again, the 8 others found, the bits of a
// render without cache. Returns the render's statistics.
static pg_render_stats edited_under_chain(double gain, double fade, const char *cache) {
    float *none = frames(), *warm = frames();
    pg_render_stats s;
    CHECK_STATUS(render_mastered(40, gain, fade, (how){ "", 2, 0, false, 0, 0 }, none, &s), PG_OK);
    CHECK_STATUS(render_mastered(40, gain, fade, (how){ cache, 2, 0, false, 0, 0 }, warm, &s),
                 PG_OK);
    CHECK_EQ_I64(s.chunk_hits, 8);
    CHECK_EQ_I64(s.chunk_misses, 2);
    CHECK(memcmp(none, warm, sizeof(float) * FRAMES) == 0);
    free(none);
    free(warm);
    return s;
}

// A chain that only scales (a gain) copies a found chunk and scales it, one pass, the way
// the chain's sum would (0 + g x): the bits of a render without cache for gains 0.3 and 0
// (all zeros), on 1 and 2 threads, asked for 30000 frames and for whole chunks; a note
// edited under it re-renders chunks 1 and 2 (their mix staged for the cache) and scales the
// 8 others. A gain that overflows (1e39 is inf as a float) makes infinities and NaNs, the
// first reported at the same frame with the chunks as without.
static void test_master_gain_scaled(void) {
    float *none = frames(), *warm = frames();
    pg_render_stats s, t;
    CHECK_STATUS(render_mastered(-1, 0.5, 0, (how){ "ms", 2, 0, false, 0, 0 }, warm, &s), PG_OK);
    const double gains[] = { 0.3, 0.3, 0.0 };
    const int threads[] = { 2, 1, 2 };
    const int64_t requests[] = { 0, 65536, 0 };
    for (int k = 0; k < 3; k++) {
        how h = { "ms", threads[k], 0, false, requests[k], 0 };
        CHECK_STATUS(render_mastered(-1, gains[k], 0, (how){ "", 2, 0, false, 0, 0 }, none, &s),
                     PG_OK);
        CHECK_STATUS(render_mastered(-1, gains[k], 0, h, warm, &s), PG_OK);
        CHECK_EQ_I64(s.chunk_hits, CHUNKS);
        CHECK_EQ_I64(s.materialised, 0);
        CHECK(memcmp(none, warm, sizeof(float) * FRAMES) == 0);
    }
    edited_under_chain(0.3, 0, "ms");
    CHECK_STATUS(render_mastered(-1, 1e39, 0, (how){ "", 2, 0, false, 0, 0 }, none, &t), PG_OK);
    CHECK_STATUS(render_mastered(-1, 1e39, 0, (how){ "ms", 2, 0, false, 0, 0 }, warm, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, CHUNKS);
    CHECK(t.first_nonfinite_frame >= 0);
    CHECK_EQ_I64(s.first_nonfinite_frame, t.first_nonfinite_frame);
    free(none);
    free(warm);
}

// A master fade (1000 frames in and out, with the gain) runs through the chain only the
// chunks it reaches, 0 and 9: the 8 between are copied and scaled as under a gain alone. A
// note edited under it: chunks 1 and 2 rendered, 0 and 9 through the chain, 6 scaled. Whole
// chunks asked for, or 30000 frames, 1 thread or 2, blocks of 7: the bits without cache.
// A fade as long as the piece reaches every chunk: all through the chain.
static void test_master_fade(void) {
    float *none = frames(), *warm = frames();
    pg_render_stats s;
    CHECK_STATUS(render_mastered(-1, 0.5, 1000, (how){ "mf", 2, 0, false, 0, 0 }, warm, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_misses, CHUNKS);
    CHECK_STATUS(render_mastered(-1, 0.5, 1000, (how){ "", 2, 0, false, 0, 0 }, none, &s), PG_OK);
    CHECK(t_copy_folder(dir, "mf", "mf2"));
    const how hows[] = { { "mf", 2, 0, false, 0, 0 }, { "mf", 1, 7, false, 65536, 0 } };
    for (int k = 0; k < 2; k++) {
        CHECK_STATUS(render_mastered(-1, 0.5, 1000, hows[k], warm, &s), PG_OK);
        CHECK_EQ_I64(s.chunk_hits, CHUNKS);
        CHECK_EQ_I64(s.chunks_chained, 2);
        CHECK(memcmp(none, warm, sizeof(float) * FRAMES) == 0);
    }
    CHECK_EQ_I64(edited_under_chain(0.5, 1000, "mf").chunks_chained, 2);
    CHECK_STATUS(render_mastered(-1, 0.5, FRAMES / 2, (how){ "", 2, 0, false, 0, 0 }, none, &s),
                 PG_OK);
    CHECK_STATUS(render_mastered(-1, 0.5, FRAMES / 2, (how){ "mf2", 2, 0, false, 0, 0 }, warm, &s),
                 PG_OK);
    CHECK_EQ_I64(s.chunk_hits, CHUNKS);
    CHECK_EQ_I64(s.chunks_chained, CHUNKS);
    CHECK(memcmp(none, warm, sizeof(float) * FRAMES) == 0);
    free(none);
    free(warm);
}

// Under a master gain, damaged chunks are rendered afresh as what they hold (the mix, not
// the output) and stored again: the bits of the undamaged render, then 10 found again.
static void test_master_damaged(void) {
    float *cold = frames(), *again = frames();
    pg_render_stats s;
    CHECK_STATUS(render_mastered(-1, 0.5, 0, (how){ "md", 2, 0, false, 0, 0 }, cold, &s), PG_OK);
    damage_whole_chunks("md");
    CHECK_STATUS(render_mastered(-1, 0.5, 0, (how){ "md", 2, 0, false, 0, 0 }, again, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, 1);
    CHECK_EQ_I64(s.chunk_misses, 9);
    CHECK(memcmp(cold, again, sizeof(float) * FRAMES) == 0);
    CHECK_STATUS(render_mastered(-1, 0.5, 0, (how){ "md", 1, 0, false, 0, 0 }, again, &s), PG_OK);
    CHECK_EQ_I64(s.chunk_hits, CHUNKS);
    CHECK(memcmp(cold, again, sizeof(float) * FRAMES) == 0);
    free(cold);
    free(again);
}

// Waits (a minute at most) until folder `cache` holds n entries of whole chunks.
static bool wait_for_chunks(const char *cache, int n) {
    for (int i = 0; i < 6000 && entries_of_size(cache, WHOLE_CHUNK) < n; i++)
        nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
    return entries_of_size(cache, WHOLE_CHUNK) >= n;
}

// Renders root on two threads from folder `cache`, letting the pool work alone until the
// folder holds `entries` whole chunks, and only then streaming.
static pg_status render_settled(pg_graph *g, int root, const char *cache, int entries, float *out,
                                pg_render_stats *s) {
    char path[400];
    snprintf(path, sizeof path, "%s/%s", dir, cache);
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.cache_dir = path;
    o.threads = 2;
    pg_diag err;
    pg_plan *p = pg_plan_new(g, root, &o, &err);
    if (!p)
        return err.status;
    pg_render *r = pg_render_new(p, &err);
    pg_status st = r ? PG_OK : err.status;
    CHECK(!r || wait_for_chunks(cache, entries));
    for (int64_t got = 0, k; r && (k = pg_render_next(r, out + got, 30000)) != 0; got += k)
        if (k < 0) {
            st = pg_render_error(r)->status;
            break;
        }
    if (r)
        pg_render_get_stats(r, s);
    pg_render_free(r);
    pg_plan_free(p);
    return st;
}

// A thread with nothing else to do renders the chunks an edit changed ahead of the stream,
// once what they read is ready (the encoder then never waits for them): here before the
// stream asks for anything, so both chunks of note 40 are rendered (and stored) ahead, and
// the stream copies them: the bits of a render without cache. Likewise under a master gain,
// through which they are rendered.
static void test_rendered_ahead(void) {
    float *none = frames(), *warm = frames();
    pg_render_stats s;
    CHECK_STATUS(render_notes(200, -1, (how){ "ah", 2, 0, false, 0, 0 }, warm, &s), PG_OK);
    CHECK_STATUS(render_notes(200, 40, (how){ "", 2, 0, false, 0, 0 }, none, &s), PG_OK);
    pg_graph *g = t_graph(RATE);
    CHECK_STATUS(render_settled(g, t_saw_notes(g, 200, STEP, LEN, 40), "ah", 11, warm, &s), PG_OK);
    pg_graph_free(g);
    CHECK_EQ_I64(s.chunk_hits, 8);
    CHECK_EQ_I64(s.chunk_misses, 2);
    CHECK_EQ_I64(s.chunks_ahead, 2);
    CHECK(memcmp(none, warm, sizeof(float) * FRAMES) == 0);

    CHECK_STATUS(render_mastered(-1, 0.5, 0, (how){ "am", 2, 0, false, 0, 0 }, warm, &s), PG_OK);
    CHECK_STATUS(render_mastered(40, 0.5, 0, (how){ "", 2, 0, false, 0, 0 }, none, &s), PG_OK);
    g = t_graph(RATE);
    CHECK_STATUS(render_settled(g, mastered(g, 40, 0.5, 0), "am", 11, warm, &s), PG_OK);
    pg_graph_free(g);
    CHECK_EQ_I64(s.chunk_misses, 2);
    CHECK_EQ_I64(s.chunks_ahead, 2);
    CHECK(memcmp(none, warm, sizeof(float) * FRAMES) == 0);
    free(none);
    free(warm);
}

int main(void) {
    if (!t_temp_dir(dir, sizeof dir, "chunks"))
        return 1;
    test_cold_and_warm();
    test_one_note_edit();
    test_added_note();
    test_removed_note();
    test_damaged_chunks();
    test_no_output_cache();
    test_filtered_mix();
    test_resumed_chain();
    test_side_chain();
    test_chain_rejoined();
    test_window_after_filter_origin();
    test_panned();
    test_mem_limit();
    test_limit_estimate();
    test_nonfinite();
    test_side_effect();
    test_indexed_mix();
    test_into_file();
    test_master_edit();
    test_master_gain_scaled();
    test_master_damaged();
    test_master_fade();
    test_rendered_ahead();
    t_remove_dir(dir);
    return check_done();
}
