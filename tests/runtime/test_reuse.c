// test_reuse.c: a convolution's buffer made again after an edit copies the FFT partitions
// (pe_kind.cells) whose source did not change from its last render (runtime/reuse.c).
// The piece: a reverb-like ConvolvePE over a mix of a quiet noise bed [0, 300000) and one
// louder noise burst, stereo (the mix spread to 2 channels, a 2-channel filter of 9600
// random taps). 9600 taps make partitions of B = 2048 frames, P = 5 of them (convolve.c's
// cost table: 2048 minimises 5.1 + ceil(9600 / B) * 0.38 ns), on a grid from frame 0; the
// output [0, 309599) touches cells 0..151 (152 cells). Output cell k reads source cells
// k - 5 .. k, so a burst changed over source cells a..b makes output cells a..b + 5 again
// (clipped to 151) and copies the rest. Every render is compared, bit for bit, with one
// without a cache.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

enum {
    RATE = 48000,
    BED = 300000,
    TAPS = 9600,
    FRAMES = BED + TAPS - 1, // 309599
    CELL = 2048,
    BACK = 5,
    CELLS = (FRAMES - 1) / CELL + 1, // 152
    HEADER = 40                      // bytes before an entry's samples
};

static char dir[256];

typedef struct burst {
    pg_frame at;
    int64_t len;
    double gain; // 0: exact zeros
} burst;

typedef struct piece {
    burst b[2];  // a burst of len 0 is left out
    double tap0; // the filter's first tap (an edit of the filter)
} piece;

static int add(pg_graph *g, const char *kind, pg_arg *a, int n) {
    return t_add(g, kind, a, n);
}

// Noise over [s, s + len); a seed of 0: exact zeros (+0.0) there.
static int noise_crop(pg_graph *g, int64_t seed, pg_frame s, int64_t len) {
    pg_arg n[] = { t_int("seed", seed) }, z[] = { t_num(NULL, 0.0) };
    int src = seed ? add(g, "NoisePE", n, 1) : add(g, "ConstPE", z, 1);
    pg_arg c[] = { t_node(NULL, src), t_ext(NULL, 0, len) };
    pg_arg sh[] = { t_node(NULL, add(g, "CropPE", c, 2)), t_int(NULL, s) };
    return add(g, "TimeShiftPE", sh, 2);
}

// The piece: its ConvolvePE, read twice.
static int build(pg_graph *g, piece p) {
    int parts[3], n = 0;
    parts[n++] = t_gain(g, noise_crop(g, 1, 0, BED), 0.1);
    for (int i = 0; i < 2; i++)
        if (p.b[i].len > 0)
            parts[n++] = p.b[i].gain == 0.0
                             ? noise_crop(g, 0, p.b[i].at, p.b[i].len)
                             : t_gain(g, noise_crop(g, 2 + i, p.b[i].at, p.b[i].len), p.b[i].gain);
    pg_arg m[3];
    for (int i = 0; i < n; i++)
        m[i] = t_node(NULL, parts[i]);
    pg_arg sp[] = { t_node(NULL, add(g, "MixPE", m, n)), t_int(NULL, 2) };
    double *h = malloc(sizeof(double) * 2 * TAPS);
    t_fill_random(h, 2 * TAPS, 7);
    h[0] = p.tap0;
    pg_arg f[] = { t_arr(NULL, 2, TAPS, h) };
    pg_arg c[] = { t_node(NULL, add(g, "SpreadPE", sp, 2)), t_node(NULL, add(g, "ArrayPE", f, 1)) };
    int conv = add(g, "ConvolvePE", c, 2);
    free(h);
    // read twice (x / 2 + x / 2: x itself), so a buffer; a reverb the stream reads once is
    // run by the stream instead, its output kept in chunks (test_chunks)
    int half = t_gain(g, conv, 0.5);
    pg_arg twice[] = { t_node(NULL, half), t_node(NULL, half) };
    return add(g, "MixPE", twice, 2);
}

// Renders the piece with the cache folder `cache` under dir ("": none) on `threads`
// threads in blocks of `block` frames (0: the default) into out (interleaved stereo).
static pg_status render(piece p, const char *cache, int threads, int block, float *out,
                        pg_render_stats *s) {
    char path[400];
    snprintf(path, sizeof path, "%s/%s", dir, cache);
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.cache_dir = cache[0] ? path : "";
    o.threads = threads;
    o.block_frames = block;
    pg_graph *g = t_graph(RATE);
    pg_status st = t_render_plan(g, build(g, p), &o, 30000, out, s, NULL);
    pg_graph_free(g);
    return st;
}

static float *frames(void) {
    return calloc(2 * FRAMES, sizeof(float));
}

// Renders p without a cache and with `cache` (threads, block): the same bits; the cells
// copied and made again as given (-1, -1: the buffer not made from a last render).
static void check_render(piece p, const char *cache, int threads, int block, int copied, int made,
                         int line) {
    float *want = frames(), *got = frames();
    pg_render_stats s;
    CHECK_STATUS(render(p, "", 1, 0, want, &s), PG_OK);
    CHECK_STATUS(render(p, cache, threads, block, got, &s), PG_OK);
    if (s.cells_copied != (copied < 0 ? 0 : copied) || s.cells_made != (made < 0 ? 0 : made)) {
        char detail[120];
        snprintf(detail, sizeof detail, "%d copied, %d made; want %d, %d", s.cells_copied,
                 s.cells_made, copied, made);
        check_report(__FILE__, line, "cells copied, made", detail);
    } else {
        check_passed++;
    }
    if (memcmp(want, got, sizeof(float) * 2 * FRAMES) != 0)
        check_report(__FILE__, line, "memcmp(want, got) == 0", "");
    else
        check_passed++;
    free(want);
    free(got);
}

static const piece base = { { { 100000, 10000, 0.5 }, { 0, 0, 0 } }, 0.25 };

// The burst's gain edited: it covers source cells 48 (100000 / 2048) to 53 (109999 / 2048),
// so output cells 48..58 are made again (11) and 141 copied. Then the edit again: the
// buffer is found whole. On 1 and 2 threads, in blocks of 7 (the kernel asked for a
// partition 7 frames at a time, starting afresh at each run) and of 65536.
static void test_one_edit(void) {
    piece edit = base;
    edit.b[0].gain = 0.6;
    check_render(base, "a", 2, 0, -1, -1, __LINE__); // cold: no record yet
    CHECK(t_copy_folder(dir, "a", "a2"));
    CHECK(t_copy_folder(dir, "a", "a3"));
    CHECK(t_copy_folder(dir, "a", "a4"));
    check_render(edit, "a", 2, 0, 141, 11, __LINE__);
    check_render(edit, "a", 2, 0, -1, -1, __LINE__); // a cache hit
    check_render(edit, "a2", 1, 0, 141, 11, __LINE__);
    check_render(edit, "a3", 2, 7, 141, 11, __LINE__);
    check_render(edit, "a4", 1, 65536, 141, 11, __LINE__);
    check_render(base, "a", 2, 0, -1, -1, __LINE__); // the first render: still a hit
}

// Edits at the edges: a burst moved to [0, 5000) (cells 0..2 now, 48..53 before: 0..7 and
// 48..58 made again, 19), then to the end [295000, 300000) (cells 144..146 and 0..2: 0..7
// and 144..151, clipped at the last cell, 16).
static void test_edges(void) {
    piece start = base, end = base;
    start.b[0] = (burst){ 0, 5000, 0.5 };
    end.b[0] = (burst){ 295000, 5000, 0.5 };
    check_render(base, "b", 2, 0, -1, -1, __LINE__);
    check_render(start, "b", 2, 0, CELLS - 19, 19, __LINE__);
    check_render(end, "b", 2, 0, CELLS - 16, 16, __LINE__);
}

// Two bursts edited far apart: two runs of cells made again, each started afresh. A second
// burst added at [200000, 204000) (cells 97..99: 97..104, 8) with the first's gain edited
// (48..58, 11).
static void test_two_runs(void) {
    piece two = base;
    two.b[0].gain = 0.7;
    two.b[1] = (burst){ 200000, 4000, 0.3 };
    check_render(base, "c", 2, 0, -1, -1, __LINE__);
    check_render(two, "c", 2, 0, CELLS - 19, 19, __LINE__);
}

// Renders p with cache folder `cache` and without: the same bits, `copied` and `made`
// cells. Its output is `frames` long.
static void check_longer(piece p, const char *cache, int64_t frames, int copied, int made) {
    float *out = calloc(2 * (size_t)frames, sizeof(float)), *fresh = calloc(2 * (size_t)frames, 4);
    pg_render_stats s;
    CHECK_STATUS(render(p, cache, 2, 0, out, &s), PG_OK);
    CHECK_EQ_I64(s.cells_copied, copied);
    CHECK_EQ_I64(s.cells_made, made);
    CHECK_STATUS(render(p, "", 1, 0, fresh, &s), PG_OK);
    CHECK(memcmp(out, fresh, sizeof(float) * 2 * (size_t)frames) == 0);
    free(out);
    free(fresh);
}

// A burst added after the bed, [300000, 305000): the source and the output run 5000 frames
// longer, [0, 314599), 154 cells. Source cells 146..148 changed (the bed's last frames and
// the silence after), so output cells 146..153 are made (152 and 153 are new) and 146
// copied. Zeros added there instead lengthen the span the same way but change no source
// cell: only cell 151 (cut by the old span's end) and the new 152 and 153 are made.
static void test_longer(void) {
    piece longer = base, silent = base;
    longer.b[1] = (burst){ BED, 5000, 0.5 };
    silent.b[1] = (burst){ BED, 5000, 0.0 };
    check_render(base, "f", 2, 0, -1, -1, __LINE__);
    CHECK(t_copy_folder(dir, "f", "f2"));
    check_longer(longer, "f", FRAMES + 5000, 146, 8);
    check_longer(silent, "f2", FRAMES + 5000, 151, 3);
}

// The filter edited: the record is keyed by it, so nothing is copied.
static void test_filter_edit(void) {
    piece f = base;
    f.tap0 = -0.5;
    check_render(base, "d", 2, 0, -1, -1, __LINE__);
    check_render(f, "d", 2, 0, -1, -1, __LINE__);
}

// Flips a byte (at `at` past the header) of every entry of `size` bytes in folder `cache`.
static int damage_entries(const char *cache, long size, long at) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, cache);
    return t_flip_byte(path, size, HEADER + at);
}

// A damaged last buffer, or a damaged record: the buffer is made whole, the same bits.
// The record holds a 48-byte head and a 128-bit hash per source cell (CELLS + BACK).
static void test_damaged(void) {
    piece edit = base;
    edit.b[0].gain = 0.6;
    check_render(base, "e", 2, 0, -1, -1, __LINE__);
    CHECK(t_copy_folder(dir, "e", "e2"));
    CHECK_EQ_I64(damage_entries("e", HEADER + 2L * FRAMES * 4, 4L * 200000), 1);
    check_render(edit, "e", 2, 0, -1, -1, __LINE__);
    CHECK_EQ_I64(damage_entries("e2", HEADER + 48 + 16L * (CELLS + BACK), 48 + 16 * 60), 1);
    check_render(edit, "e2", 2, 0, -1, -1, __LINE__);
}

int main(void) {
    if (!t_temp_dir(dir, sizeof dir, "reuse"))
        return 1;
    test_one_edit();
    test_edges();
    test_two_runs();
    test_longer();
    test_filter_edit();
    test_damaged();
    t_remove_dir(dir);
    return check_done();
}
