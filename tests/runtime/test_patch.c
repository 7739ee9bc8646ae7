// test_patch.c: an output file patched in place after an edit (runtime/patch.c). The piece:
// 200 saw notes of 12000 frames, one every 3000 frames, mono, [0, 609000): 10 output chunks
// of 65536 frames (the last 19176). Note i sounds in [3000 i, 3000 i + 12000), so note 100
// ([300000, 312000)) sounds in chunk 4 ([262144, 327680)) alone, note 30 ([90000, 102000))
// in chunk 1 alone, and note 0 in chunk 0 alone. An edit of one of them changes that chunk's
// frames only: patched, the file gets that chunk and keeps the other 9; and whatever the
// way, the file must be byte for byte the one a render into a new file writes.
#include <dirent.h>
#include <fcntl.h>
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
    NOTES = 200,
    CHUNKS = 10,
    WHOLE_CHUNK = 40 + 65536 * 4 // a whole chunk's cache entry (mono floats after a header)
};

static char dir[256];

// How a render goes: the notes changed (their saws at another pitch, by note index: -1 for
// none), the output's subtype, and options.
typedef struct how {
    int odd[4];
    double loud; // when not 0, note 197's gain (chunk 9, the last: [589824, 609000))
    pg_subtype subtype;
    bool no_patch, no_cache;
    bool lowpass;   // the mix through a low-pass (a stateful master chain: resume.c)
    pg_frame start; // a window from start (0: the whole piece)
} how;

static bool is_odd(const how *h, int i) {
    for (int k = 0; k < 4; k++)
        if (h->odd[k] == i)
            return true;
    return false;
}

static int notes(pg_graph *g, const how *h) {
    pg_arg m[NOTES];
    for (int i = 0; i < NOTES; i++) {
        double f = is_odd(h, i) ? 333.0 : 110.0 + 5.0 * (i % 40);
        int saw = t_add(g, "BlitSawPE", (pg_arg[]){ t_num("frequency", f) }, 1);
        int note = t_add(g, "CropPE",
                         (pg_arg[]){ t_node(NULL, saw), t_ext(NULL, i * STEP, i * STEP + LEN) }, 2);
        double gain = i == 197 && h->loud != 0.0 ? h->loud : 0.05;
        m[i] = t_node(NULL,
                      t_add(g, "GainPE", (pg_arg[]){ t_node(NULL, note), t_num(NULL, gain) }, 2));
    }
    int mix = t_add(g, "MixPE", m, NOTES);
    if (!h->lowpass)
        return mix;
    return t_add(g, "BQLowPassPE",
                 (pg_arg[]){ t_node(NULL, mix), t_num("f0", 2000.0), t_num("q", 0.7) }, 3);
}

// Renders the piece as h says into file `name` (in dir), with the cache in dir/cache.
static pg_status render_to(const char *name, how h, pg_render_stats *s, double *peak) {
    char path[400], cache[400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    pg_graph *g = t_graph(RATE);
    int root = notes(g, &h);
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.cache_dir = h.no_cache ? "" : cache;
    o.has_start = h.start > 0;
    o.start = h.start;
    pg_diag err;
    pg_plan *p = pg_plan_new(g, root, &o, &err);
    pg_graph_free(g);
    if (!p)
        return err.status;
    pg_write_opts wo = { .subtype = h.subtype, .quiet = true, .stats = s, .no_patch = h.no_patch };
    double pk = 0.0;
    pg_status st = pg_render_to_file(p, path, &wo, &pk, &err);
    if (peak)
        *peak = pk;
    pg_plan_free(p);
    return st;
}

static how plain(void) {
    return (how){ .odd = { -1, -1, -1, -1 } };
}

static how with(int a, int b, int c) {
    return (how){ .odd = { a, b, c, -1 } };
}

// The bytes of file `name` in dir (*n of them), or NULL.
static unsigned char *slurp(const char *name, long *n) {
    char path[400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    unsigned char *b = NULL;
    if (f && fseek(f, 0, SEEK_END) == 0 && (*n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (b = malloc((size_t)*n)) && fread(b, 1, (size_t)*n, f) != (size_t)*n) {
        free(b);
        b = NULL;
    }
    if (f)
        fclose(f);
    return b;
}

static bool same_files(const char *a, const char *b) {
    long na = 0, nb = 0;
    unsigned char *x = slurp(a, &na), *y = slurp(b, &nb);
    bool same = x && y && na == nb && memcmp(x, y, (size_t)na) == 0;
    free(x);
    free(y);
    return same;
}

static ino_t inode_of(const char *name) {
    char path[400];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0 ? st.st_ino : 0;
}

// The render h into `name`, patched: `written` chunks written, the rest kept; the file the
// same inode as before, byte for byte a new file's (`ref`, rendered without the cache).
static void check_patched(const char *name, how h, int written, const char *ref) {
    pg_render_stats s;
    ino_t before = inode_of(name);
    CHECK_STATUS(render_to(name, h, &s, NULL), PG_OK);
    CHECK(s.patch_off == NULL);
    if (s.patch_off)
        fprintf(stderr, "  (%s not patched: %s)\n", name, s.patch_off);
    CHECK_EQ_I64(s.patch_written, written);
    CHECK_EQ_I64(s.patch_kept, CHUNKS - written);
    CHECK(inode_of(name) == before);
    how r = h;
    r.no_cache = true;
    CHECK_STATUS(render_to(ref, r, &s, NULL), PG_OK);
    CHECK(s.patch_off != NULL); // (no cache: no chunks)
    CHECK(same_files(name, ref));
}

// The render h into `name`, written as a new file, for reason `why`.
static void check_new(const char *name, how h, const char *why) {
    pg_render_stats s;
    CHECK_STATUS(render_to(name, h, &s, NULL), PG_OK);
    CHECK(s.patch_off != NULL && strcmp(s.patch_off, why) == 0);
    if (s.patch_off && strcmp(s.patch_off, why) != 0)
        fprintf(stderr, "  (written new: %s; want %s)\n", s.patch_off, why);
}

static bool later(struct timespec x, struct timespec y) {
    return x.tv_sec > y.tv_sec || (x.tv_sec == y.tv_sec && x.tv_nsec > y.tv_nsec);
}

// The cache's entries of `bytes` used (modified) after t.
static int entries_since(long bytes, struct timespec t) {
    char path[600];
    snprintf(path, sizeof path, "%s/cache", dir);
    DIR *d = opendir(path);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        struct stat st;
        snprintf(path, sizeof path, "%s/cache/%s", dir, e->d_name);
        n += stat(path, &st) == 0 && st.st_size == bytes && later(st.st_mtim, t);
    }
    if (d)
        closedir(d);
    return n;
}

// A float WAV, a one-note edit there and back, the same piece again.
static void test_float_wav(void) {
    check_new("a.wav", plain(), "a new file");
    long n0 = 0;
    unsigned char *first = slurp("a.wav", &n0);
    check_patched("a.wav", with(100, -1, -1), 1, "ref.wav");
    check_patched("a.wav", with(100, 30, -1), 1, "ref.wav");
    check_patched("a.wav", plain(), 2, "ref.wav");
    long n1 = 0;
    unsigned char *back = slurp("a.wav", &n1);
    CHECK(first && back && n0 == n1 && memcmp(first, back, (size_t)n0) == 0);
    free(first);
    free(back);
    // nothing changed: nothing written, but the file is dated now, as a new one would be,
    // and the chunks' entries as used (least recently used go first)
    char path[400];
    struct stat a, b;
    snprintf(path, sizeof path, "%s/a.wav", dir);
    stat(path, &a);
    nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
    check_patched("a.wav", plain(), 0, "ref.wav");
    stat(path, &b);
    CHECK(later(b.st_mtim, a.st_mtim));
    CHECK_EQ_I64(entries_since(WHOLE_CHUNK, a.st_mtim), CHUNKS - 1);
}

// 16-bit WAV and 24-bit AIFF: their PCM bytes made by pcm.c, patched as floats are.
static void test_pcm(void) {
    how h = plain();
    h.subtype = PG_SUBTYPE_PCM16;
    check_new("b.wav", h, "a new file");
    h.odd[0] = 0;
    check_patched("b.wav", h, 1, "ref.wav");
    h = plain();
    h.subtype = PG_SUBTYPE_PCM24;
    check_new("c.aiff", h, "a new file");
    h.odd[0] = 100;
    check_patched("c.aiff", h, 1, "ref.aiff");
    // another subtype into the same file: the record is of the 24-bit one
    h.subtype = PG_SUBTYPE_PCM16;
    check_new("c.aiff", h,
              "the file is not the one last written (or not in this format and window)");
}

// What makes pygmuc write a new file instead.
static void test_not_patched(void) {
    char path[400], other[400];
    check_new("d.wav", plain(), "a new file");
    // another link to the file would change with it: a new file, the link keeps the old
    snprintf(path, sizeof path, "%s/d.wav", dir);
    snprintf(other, sizeof other, "%s/d-link.wav", dir);
    CHECK(link(path, other) == 0);
    check_new("d.wav", with(100, -1, -1), "the file has other links");
    CHECK(same_files("d-link.wav", "a.wav")); // (a.wav: the plain piece, from test_float_wav)
    CHECK(!same_files("d.wav", "d-link.wav"));
    unlink(other);
    // a byte changed by someone else (its modification time put back): its change time tells
    check_patched("d.wav", plain(), 1, "ref.wav"); // (its record is of this file now)
    struct stat st;
    stat(path, &st);
    int fd = open(path, O_WRONLY);
    CHECK(fd >= 0 && pwrite(fd, "x", 1, 100000) == 1);
    struct timespec times[2] = { st.st_atim, st.st_mtim };
    CHECK(fd >= 0 && futimens(fd, times) == 0);
    close(fd);
    check_new("d.wav", with(100, -1, -1),
              "the file is not the one last written (or not in this format and window)");
    check_patched("d.wav", plain(), 1, "ref.wav"); // (and the new file has its record)
    // another window of the piece
    how h = plain();
    h.start = 1000;
    check_new("d.wav", h,
              "the file is not the one last written (or not in this format and window)");
    check_new("d.wav", plain(),
              "the file is not the one last written (or not in this format and window)");
    // three chunks of ten changed: over a quarter of the file
    check_new("d.wav", with(0, 30, 100), "the render changes much of the file");
    check_patched("d.wav", with(0, 30, -1), 1, "ref.wav"); // (two: patched)
    // asked not to; a FLAC file
    h = plain();
    h.no_patch = true;
    ino_t before = inode_of("d.wav");
    check_new("d.wav", h, "--no-patch");
    CHECK(inode_of("d.wav") != before);
    check_new("e.flac", plain(), "a format pygmuc does not patch");
    check_new("e.flac", with(100, -1, -1), "a format pygmuc does not patch");
}

// A record damaged in the cache is no record (its checksum): the file is written anew.
static void test_damaged_record(void) {
    char cache[400];
    snprintf(cache, sizeof cache, "%s/cache", dir);
    check_new("f.wav", plain(), "a new file");
    // (a record: the entry header, 40 bytes, its own head, 88, and 16 per chunk)
    long record = 40 + 88 + 16 * CHUNKS;
    CHECK(t_flip_byte(cache, record, 40 + 88 + 16 * 4 + 2) >= 1);
    check_new("f.wav", with(100, -1, -1), "no record of the file in the cache");
    check_patched("f.wav", plain(), 1, "ref.wav");
}

// Under a master low-pass the chunks before an edit are found after the filter, keyed by its
// state at their start (resume.c): the file holds them. From the edit on the filter runs,
// and what it makes is known only once made: written. An edit in the last chunk writes one;
// one in chunk 4, six of ten: a new file.
static void test_chain(void) {
    how h = plain();
    h.lowpass = true;
    check_new("k.wav", h, "a new file");
    h.odd[0] = 197;
    check_patched("k.wav", h, 1, "ref.wav");
    h.odd[0] = 100;
    check_new("k.wav", h, "the render changes much of the file");
    how r = h;
    r.no_cache = true;
    CHECK_STATUS(render_to("ref.wav", r, &(pg_render_stats){ 0 }, NULL), PG_OK);
    CHECK(same_files("k.wav", "ref.wav"));
    h.odd[1] = 197; // (chunk 9 again: its state at the start is the one the file was made from)
    check_patched("k.wav", h, 1, "ref.wav");
}

// A render that fails (interrupted) leaves the file as it was, and its record good.
static void test_failed_render(void) {
    long n0 = 0, n1 = 0;
    unsigned char *before = slurp("a.wav", &n0);
    pg_render_stats s;
    pg_interrupt(true);
    CHECK_STATUS(render_to("a.wav", with(100, -1, -1), &s, NULL), PG_ERR_INTERRUPTED);
    pg_interrupt(false);
    unsigned char *after = slurp("a.wav", &n1);
    CHECK(before && after && n0 == n1 && memcmp(before, after, (size_t)n0) == 0);
    free(before);
    free(after);
    check_patched("a.wav", with(100, -1, -1), 1, "ref.wav");
}

// A chunk holding infinities is not recorded (nor any after it): the next render writes it
// again, and says so again; a PCM file's clipping is known from its record where a chunk is
// kept.
static void test_loud(void) {
    how h = plain();
    h.loud = 1e39; // (past the largest float: infinite)
    pg_render_stats s;
    CHECK_STATUS(render_to("g.wav", h, &s, NULL), PG_OK);
    CHECK(s.first_nonfinite_frame >= 591000 && s.first_nonfinite_frame < 603000);
    CHECK_STATUS(render_to("g.wav", h, &s, NULL), PG_OK);
    CHECK(s.patch_off == NULL && s.patch_written == 1);
    CHECK(s.first_nonfinite_frame >= 591000 && s.first_nonfinite_frame < 603000);
    h.loud = 40.0; // (a 16-bit file clips in chunk 9)
    h.subtype = PG_SUBTYPE_PCM16;
    double peak = 0.0;
    CHECK_STATUS(render_to("h.wav", h, &s, &peak), PG_OK);
    CHECK(peak > 1.0);
    h.odd[0] = 30; // (chunk 1 changed; chunk 9, kept, still clips)
    CHECK_STATUS(render_to("h.wav", h, &s, &peak), PG_OK);
    CHECK(s.patch_off == NULL && s.patch_written == 1);
    CHECK(peak > 1.0);
}

int main(void) {
    if (!t_temp_dir(dir, sizeof dir, "patch"))
        return 1;
    test_float_wav();
    test_pcm();
    test_not_patched();
    test_failed_render();
    test_chain();
    test_loud();
    test_damaged_record(); // (last: it damages every record in the cache)
    t_remove_dir(dir);
    return check_done();
}
