// test_cache.c: the on-disk render cache: entries round-trip; a corrupt, truncated or
// foreign entry is a miss, never data; keys change with the node, the span and the shape;
// a render with a warm cache equals a cold one and a render without cache, bit for bit;
// a changed parameter or file content is a miss.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include "cache.h"
#include "check.h"

static char dir[256];
static int why; // cache_open's reason for failing

// Writes text into a new file at path.
static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void entry_file(uint64_t key, char *out, size_t size) {
    snprintf(out, size, "%s/%016llx.pgc", dir, (unsigned long long)key);
}

static void test_round_trip(void) {
    cache *c = cache_open(dir, 0, &why);
    CHECK(c != NULL);
    float data[2 * 100], back[2 * 100];
    for (int i = 0; i < 200; i++)
        data[i] = (float)i * 0.25f - 3.0f;
    uint64_t key = cache_key(0x1234, (pg_extent){ 0, 100 }, 2, 48000);
    CHECK(!cache_load(c, key, back, 2, 100)); // cold
    cache_store(c, key, data, 2, 100);
    CHECK(cache_load(c, key, back, 2, 100));
    CHECK(memcmp(data, back, sizeof data) == 0);
    CHECK(!cache_load(c, key, back, 1, 200)); // same bytes, other shape: not this entry
    // the checksum on disk (after magic, key, channels, format, frames) is plain XXH3 of
    // the samples, whichever vector unit computed it: entries move between machines
    char path[512];
    entry_file(key, path, sizeof path);
    FILE *f = fopen(path, "rb");
    uint64_t sum = 0;
    CHECK(f && fseek(f, 32, SEEK_SET) == 0 && fread(&sum, sizeof sum, 1, f) == 1);
    if (f)
        fclose(f);
    CHECK(sum == XXH3_64bits(data, sizeof data));
    cache_close(c);
}

static void test_damaged(void) {
    cache *c = cache_open(dir, 0, &why);
    float data[64] = { 0 }, back[64];
    for (int i = 0; i < 64; i++)
        data[i] = (float)i;
    uint64_t key = cache_key(0x99, (pg_extent){ 5, 69 }, 1, 44100);
    char path[512];
    entry_file(key, path, sizeof path);
    // a flipped sample byte fails the checksum
    cache_store(c, key, data, 1, 64);
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    if (f) {
        fseek(f, -7, SEEK_END);
        int ch = fgetc(f);
        fseek(f, -7, SEEK_END);
        fputc(ch ^ 0x40, f);
        fclose(f);
    }
    CHECK(!cache_load(c, key, back, 1, 64));
    // a truncated entry is a miss
    cache_store(c, key, data, 1, 64);
    CHECK(truncate(path, 100) == 0);
    CHECK(!cache_load(c, key, back, 1, 64));
    // a foreign file under the entry's name is a miss
    f = fopen(path, "wb");
    if (f) {
        for (int i = 0; i < 48 + 256; i++)
            fputc('x', f);
        fclose(f);
    }
    CHECK(!cache_load(c, key, back, 1, 64));
    cache_close(c);
}

// Two processes share a cache: one stores an entry over and over, alternating two contents,
// while the other loads it. Every load after the first store must find a whole entry, one of
// the two: an entry written in place would be caught half-written (a failed checksum).
static void test_two_processes(void) {
    enum {
        FRAMES = 1 << 16,
        ROUNDS = 200
    };
    static float a[FRAMES], b[FRAMES], back[FRAMES];
    for (int i = 0; i < FRAMES; i++) {
        a[i] = (float)i;
        b[i] = -(float)i;
    }
    uint64_t key = cache_key(0x7777, (pg_extent){ 0, FRAMES }, 1, 48000);
    cache *c = cache_open(dir, 0, &why);
    cache_store(c, key, a, 1, FRAMES);
    pid_t child = fork();
    if (child == 0) {
        cache *w = cache_open(dir, 0, &why);
        for (int r = 0; r < ROUNDS; r++)
            cache_store(w, key, r % 2 ? a : b, 1, FRAMES);
        cache_close(w);
        _exit(0);
    }
    CHECK(child > 0);
    int whole = 0, torn = 0;
    for (int r = 0; r < ROUNDS; r++) {
        if (!cache_load(c, key, back, 1, FRAMES))
            torn++;
        else if (memcmp(back, a, sizeof a) == 0 || memcmp(back, b, sizeof b) == 0)
            whole++;
        else
            torn++;
    }
    int status = 1;
    CHECK(child > 0 && waitpid(child, &status, 0) == child && status == 0);
    CHECK_EQ_I64(torn, 0);
    CHECK_EQ_I64(whole, ROUNDS);
    cache_close(c);
}

static void test_keys(void) {
    pg_extent a = { 0, 100 }, b = { 1, 101 };
    uint64_t k = cache_key(1, a, 2, 48000);
    CHECK(k != cache_key(2, a, 2, 48000));
    CHECK(k != cache_key(1, b, 2, 48000));
    CHECK(k != cache_key(1, a, 1, 48000));
    CHECK(k != cache_key(1, a, 2, 44100));
    CHECK(k == cache_key(1, a, 2, 48000));
}

// Eight BlitSaw notes: every note is stateful, so materialised, so cacheable.
static int saw_piece(pg_graph *g, double base_hz) {
    pg_arg m[8];
    for (int i = 0; i < 8; i++) {
        pg_arg s[] = { t_num("frequency", base_hz * (i + 1)) };
        int saw = t_add(g, "BlitSawPE", s, 1);
        pg_arg c[] = { t_node(NULL, saw), t_ext(NULL, i * 1000, i * 1000 + 4000) };
        m[i] = t_node(NULL, t_add(g, "CropPE", c, 2));
    }
    return t_add(g, "MixPE", m, 8);
}

static pg_status render(pg_graph *g, int root, const char *cache_dir, float *out,
                        pg_render_stats *stats) {
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.cache_dir = cache_dir;
    o.no_output_cache = true; // the buffers' cache is what these tests look at (the output's
                              // chunks: test_chunks.c)
    return t_render_plan(g, root, &o, INT32_MAX, out, stats, NULL);
}

static void test_render_warm(void) {
    char sub[300];
    snprintf(sub, sizeof sub, "%s/render", dir);
    pg_graph *g = t_graph(48000);
    int root = saw_piece(g, 110.0);
    enum {
        N = 11000
    };
    static float none[N], cold[N], warm[N], edited[N];
    pg_render_stats s;
    CHECK_STATUS(render(g, root, "", none, &s), PG_OK);
    CHECK_EQ_I64(s.cache_hits + s.cache_misses, 0);
    CHECK_STATUS(render(g, root, sub, cold, &s), PG_OK);
    CHECK_EQ_I64(s.cache_misses, 8);
    CHECK_EQ_I64(s.cache_hits, 0);
    CHECK_STATUS(render(g, root, sub, warm, &s), PG_OK);
    CHECK_EQ_I64(s.cache_hits, 8);
    CHECK_EQ_I64(s.cache_misses, 0);
    CHECK(memcmp(none, cold, sizeof none) == 0);
    CHECK(memcmp(none, warm, sizeof none) == 0);
    pg_graph_free(g);
    // one note changed: only it is rendered again
    g = t_graph(48000);
    pg_arg m[8];
    for (int i = 0; i < 8; i++) {
        pg_arg s8[] = { t_num("frequency", i == 3 ? 333.0 : 110.0 * (i + 1)) };
        int saw = t_add(g, "BlitSawPE", s8, 1);
        pg_arg c[] = { t_node(NULL, saw), t_ext(NULL, i * 1000, i * 1000 + 4000) };
        m[i] = t_node(NULL, t_add(g, "CropPE", c, 2));
    }
    root = t_add(g, "MixPE", m, 8);
    CHECK_STATUS(render(g, root, sub, edited, &s), PG_OK);
    CHECK_EQ_I64(s.cache_hits, 7);
    CHECK_EQ_I64(s.cache_misses, 1);
    CHECK(memcmp(none, edited, sizeof none) != 0);
    pg_graph_free(g);
}

// A side effect (WavWriterPE) and everything it feeds always run: a warm cache serves the
// saw next to it, but the stem file is written again after it was deleted.
static void test_side_effect(void) {
    char sub[300], stem[320];
    snprintf(sub, sizeof sub, "%s/side", dir);
    snprintf(stem, sizeof stem, "%s/stem.wav", dir);
    pg_graph *g = t_graph(48000);
    pg_arg s[] = { t_num("frequency", 220.0) };
    int saw = t_add(g, "BlitSawPE", s, 1);
    pg_arg c[] = { t_node(NULL, saw), t_ext(NULL, 0, 3000) };
    int note = t_add(g, "CropPE", c, 2);
    pg_arg w[] = { t_node(NULL, note), t_str("filename", stem) };
    int writer = t_add(g, "WavWriterPE", w, 2);
    pg_arg cb[] = { t_node(NULL, writer), t_num("f0", 300.0) };
    int comb = t_add(g, "CombPE", cb, 2); // stateful: materialised, but fed by the writer
    enum {
        N = 3000
    };
    static float cold[N * 2], warm[N * 2];
    pg_render_stats st;
    CHECK_STATUS(render(g, comb, sub, cold, &st), PG_OK);
    CHECK(unlink(stem) == 0);
    CHECK_STATUS(render(g, comb, sub, warm, &st), PG_OK);
    CHECK_EQ_I64(st.cache_hits, 1); // the saw
    CHECK(access(stem, F_OK) == 0);
    CHECK(memcmp(cold, warm, sizeof(float) * N) == 0);
    pg_graph_free(g);
}

// Two combs in a chain over a cropped saw, shifted by a frame: both stateful, so both
// materialised and cached (unshifted, the stream would run them as a master chain).
static int comb_chain(pg_graph *g) {
    pg_arg s[] = { t_num("frequency", 150.0) };
    int saw = t_add(g, "BlitSawPE", s, 1);
    pg_arg c[] = { t_node(NULL, saw), t_ext(NULL, 0, 6000) };
    int note = t_add(g, "CropPE", c, 2);
    pg_arg c1[] = { t_node(NULL, note), t_num("f0", 300.0) };
    int comb1 = t_add(g, "CombPE", c1, 2);
    pg_arg c2[] = { t_node(NULL, comb1), t_num("f0", 450.0) };
    pg_arg sh[] = { t_node(NULL, t_add(g, "CombPE", c2, 2)), t_int(NULL, 1) };
    return t_add(g, "TimeShiftPE", sh, 2);
}

// Flips a byte near the end of every entry in folder d: every checksum fails.
static void damage_all(const char *d) {
    DIR *dp = opendir(d);
    CHECK(dp != NULL);
    for (struct dirent *e; dp && (e = readdir(dp));) {
        if (!strstr(e->d_name, ".pgc"))
            continue;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", d, e->d_name);
        FILE *f = fopen(path, "r+b");
        if (!f)
            continue;
        fseek(f, -5, SEEK_END);
        int ch = fgetc(f);
        fseek(f, -5, SEEK_END);
        fputc(ch ^ 0x10, f);
        fclose(f);
    }
    if (dp)
        closedir(dp);
}

// A node found in the cache needs none of its inputs: a warm render loads the last comb
// only (the saw and the first comb are not rendered, nor loaded). When that entry turns out
// damaged, what it reads is rendered after all, and the output is still the same.
static void test_demand_and_revival(void) {
    char sub[300];
    snprintf(sub, sizeof sub, "%s/demand", dir);
    pg_graph *g = t_graph(48000);
    int root = comb_chain(g);
    enum {
        N = 6000
    };
    static float cold[N], warm[N], revived[N], again[N];
    pg_render_stats s;
    CHECK_STATUS(render(g, root, sub, cold, &s), PG_OK);
    CHECK_EQ_I64(s.cache_misses, 3); // saw, comb, comb
    CHECK_STATUS(render(g, root, sub, warm, &s), PG_OK);
    CHECK_EQ_I64(s.cache_hits, 1);
    CHECK_EQ_I64(s.cache_misses, 0);
    CHECK_EQ_I64(s.materialised, 1);
    damage_all(sub);
    CHECK_STATUS(render(g, root, sub, revived, &s), PG_OK);
    CHECK_EQ_I64(s.cache_hits, 0);
    CHECK_EQ_I64(s.cache_misses, 1); // the last comb, rendered from its revived inputs
    CHECK_STATUS(render(g, root, sub, again, &s), PG_OK);
    CHECK_EQ_I64(s.cache_hits, 1); // the re-rendered entry replaced the damaged one
    CHECK(memcmp(cold, warm, sizeof cold) == 0);
    CHECK(memcmp(cold, revived, sizeof cold) == 0);
    CHECK(memcmp(cold, again, sizeof cold) == 0);
    pg_graph_free(g);
}

// A mono ArrayPE of sin(step * i), i < n (the data stays alive in `data`).
static int array_of(pg_graph *g, double *data, int n, double step) {
    for (int i = 0; i < n; i++)
        data[i] = sin(step * i);
    pg_arg a[] = { { NULL, { .type = PG_V_ARRAY, .u.array = { 1, n, data } } } };
    return t_add(g, "ArrayPE", a, 1);
}

// ConvolvePE's init reads its impulse response: found in the cache, it is not initialised
// (its inputs are not rendered); when its entry is damaged, it is initialised after its
// inputs are revived. The output is the same every time.
static void test_init_that_pulls(void) {
    char sub[300];
    snprintf(sub, sizeof sub, "%s/conv", dir);
    pg_graph *g = t_graph(48000);
    static double src[3000], ir[200];
    pg_arg c[] = { t_node(NULL, array_of(g, src, 3000, 0.01)),
                   t_node(NULL, array_of(g, ir, 200, 0.3)) };
    int root = t_add(g, "ConvolvePE", c, 2);
    enum {
        N = 3199
    };
    static float cold[N], warm[N], revived[N];
    pg_render_stats s;
    CHECK_STATUS(render(g, root, sub, cold, &s), PG_OK);
    CHECK_STATUS(render(g, root, sub, warm, &s), PG_OK);
    CHECK_EQ_I64(s.cache_hits, 1);
    damage_all(sub);
    CHECK_STATUS(render(g, root, sub, revived, &s), PG_OK);
    CHECK_EQ_I64(s.cache_hits, 0);
    CHECK(memcmp(cold, warm, sizeof cold) == 0);
    CHECK(memcmp(cold, revived, sizeof cold) == 0);
    pg_graph_free(g);
}

// A cache folder that cannot be used (a file of that name) says why, is tried once, and the
// render goes on without it: the samples of a render without cache.
static void test_unusable_folder(void) {
    char path[300];
    snprintf(path, sizeof path, "%s/a-file", dir);
    write_text(path, "");
    CHECK(cache_open(path, 0, &why) == NULL);
    CHECK_EQ_I64(why, ENOTDIR);
    cache *c = cache_open(dir, 0, &why);
    CHECK(c != NULL && why == 0);
    cache_close(c);
    pg_graph *g = t_graph(48000);
    int root = saw_piece(g, 110.0);
    static float none[11000], out[11000];
    pg_render_stats s;
    CHECK_STATUS(render(g, root, "", none, &s), PG_OK);
    CHECK_EQ_I64(s.cache_errno, 0);
    CHECK_STATUS(render(g, root, path, out, &s), PG_OK);
    CHECK_EQ_I64(s.cache_errno, ENOTDIR);
    CHECK_EQ_I64(s.cache_misses, 0);
    CHECK(memcmp(none, out, sizeof none) == 0);
    pg_graph_free(g);
}

// ---- the usage ledger: the bytes the entries take, kept by the renders that store ----

enum {
    ENTRY_HEADER = 40,
    SMALL = 1000,                           // frames of a small entry (mono)
    SMALL_BYTES = ENTRY_HEADER + 4 * SMALL, // 4040
    BIG = 1 << 18,                          // frames of a big one (mono): 1 MiB
    BIG_BYTES = ENTRY_HEADER + 4 * BIG
};

// The ledger's count in folder d (-1 when it has none).
static long long ledger(const char *d) {
    char path[640];
    snprintf(path, sizeof path, "%s/usage", d);
    FILE *f = fopen(path, "r");
    long long used = -1;
    if (f && fscanf(f, "pygmuc-cache-usage %lld", &used) != 1)
        used = -1;
    if (f)
        fclose(f);
    return used;
}

// The bytes of the entries (*.pgc) in folder d, as a scan finds them.
static long long entries_bytes(const char *d) {
    DIR *dd = opendir(d);
    long long total = 0;
    for (struct dirent *e; dd && (e = readdir(dd));) {
        char path[700];
        struct stat st;
        size_t len = strlen(e->d_name);
        snprintf(path, sizeof path, "%s/%s", d, e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".pgc") == 0 && stat(path, &st) == 0)
            total += st.st_size;
    }
    if (dd)
        closedir(dd);
    return total;
}

// Stores n entries of frames each (keys from seed on) through one cache of limit bytes.
static void store_entries(const char *d, size_t limit, uint64_t seed, int n, int64_t frames) {
    float *x = calloc((size_t)frames, sizeof(float));
    cache *c = cache_open(d, limit, &why);
    CHECK(c != NULL && x != NULL);
    for (int i = 0; c && x && i < n; i++)
        CHECK(cache_store(c, cache_key(seed + (uint64_t)i, (pg_extent){ 0, frames }, 1, 48000), x,
                          1, frames));
    cache_close(c);
    free(x);
}

// A stray entry (not counted by any ledger) of BIG frames, last used long ago.
static void stray_entry(const char *d, const char *name) {
    char path[640];
    snprintf(path, sizeof path, "%s/%s", d, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    for (int i = 0; f && i < BIG_BYTES; i++)
        fputc(0, f);
    if (f)
        fclose(f);
    struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } }; // 2001
    CHECK(utimensat(AT_FDCWD, path, old, 0) == 0);
}

// A render that stores adds what it stored to the ledger, and scans the folder only when that
// passes the limit (or there is no ledger). A stray 1 MiB entry that no ledger counted stays
// while the ledger's sum is under the limit, though the folder is over it, and goes first (the
// least recently used) at the render that takes the sum past it; then the oldest others, down
// to the limit, and the ledger is set to what the scan left.
static void test_ledger(void) {
    char d[400];
    snprintf(d, sizeof d, "%s/ledger", dir);
    // 3 big and 1 small entries fit, 3 big and 5 small do not
    size_t limit = 3 * BIG_BYTES + 4500;
    store_entries(d, limit, 100, 3, SMALL);
    CHECK_EQ_I64(ledger(d), 3 * SMALL_BYTES); // no ledger yet: scanned, 3 entries
    stray_entry(d, "00000000000000aa.pgc");
    store_entries(d, limit, 200, 2, SMALL);
    CHECK_EQ_I64(ledger(d), 5 * SMALL_BYTES); // added, no scan: the stray is not counted
    store_entries(d, limit, 300, 2, BIG);
    CHECK_EQ_I64(ledger(d), 5 * SMALL_BYTES + 2 * BIG_BYTES); // under the limit: no scan
    CHECK(entries_bytes(d) > (long long)limit);               // (the folder is over it)
    store_entries(d, limit, 400, 1, BIG); // the sum passes the limit: a scan evicts
    CHECK_EQ_I64(entries_bytes(d), 3 * BIG_BYTES + SMALL_BYTES);
    CHECK_EQ_I64(ledger(d), entries_bytes(d));
    // an unreadable ledger is rebuilt by a scan
    char path[640];
    snprintf(path, sizeof path, "%s/usage", d);
    write_text(path, "garbage");
    // ... and a scan deletes the temporary files of stores that never finished (a killed
    // process) once they are an hour old, not those that may be in progress
    stray_entry(d, "00000000000000bb.pgc.AbCdEf");
    char fresh[640];
    snprintf(fresh, sizeof fresh, "%s/00000000000000cc.pgc.GhIjKl", d);
    write_text(fresh, "");
    store_entries(d, limit, 500, 1, SMALL);
    CHECK_EQ_I64(ledger(d), entries_bytes(d));
    snprintf(path, sizeof path, "%s/00000000000000bb.pgc.AbCdEf", d);
    CHECK(access(path, F_OK) != 0);
    CHECK(access(fresh, F_OK) == 0);
}

// Four processes storing at once lose none of each other's additions to the ledger (it is
// locked while read and rewritten).
static void test_ledger_shared(void) {
    char d[400];
    snprintf(d, sizeof d, "%s/ledger2", dir);
    store_entries(d, 0, 1, 1, SMALL); // the ledger exists: the processes below only add
    pid_t kids[4];
    for (int k = 0; k < 4; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            for (int r = 0; r < 25; r++) // 25 renders of 2 entries each
                store_entries(d, 0, 1000u * (uint64_t)(k + 1) + 2u * (uint64_t)r, 2, SMALL);
            _exit(check_done());
        }
    }
    for (int k = 0; k < 4; k++) {
        int status = 1;
        CHECK(kids[k] > 0 && waitpid(kids[k], &status, 0) == kids[k] && status == 0);
    }
    CHECK_EQ_I64(entries_bytes(d), (1 + 4 * 25 * 2) * SMALL_BYTES);
    CHECK_EQ_I64(ledger(d), entries_bytes(d));
}

// A render adds to the ledger every 64 MiB it stores, not only at its end: a process killed
// after storing 17 entries of 4 MiB has had the first 16 counted (it never closed its cache).
static void test_ledger_killed(void) {
    enum {
        FRAMES = 1 << 20
    };
    char d[400];
    snprintf(d, sizeof d, "%s/ledger3", dir);
    store_entries(d, 0, 1, 1, SMALL);
    pid_t kid = fork();
    if (kid == 0) {
        float *x = calloc(FRAMES, sizeof(float));
        cache *c = cache_open(d, 0, &why);
        for (int i = 0; c && x && i < 17; i++)
            cache_store(c, cache_key(50 + (uint64_t)i, (pg_extent){ 0, FRAMES }, 1, 48000), x, 1,
                        FRAMES);
        _exit(0); // killed: no cache_close
    }
    int status = 1;
    CHECK(kid > 0 && waitpid(kid, &status, 0) == kid && status == 0);
    long long entry = ENTRY_HEADER + 4LL * FRAMES;
    CHECK_EQ_I64(entries_bytes(d), SMALL_BYTES + 17 * entry);
    CHECK_EQ_I64(ledger(d), SMALL_BYTES + 16 * entry);
}

int main(void) {
    if (!t_temp_dir(dir, sizeof dir, "cache"))
        return 1;
    test_round_trip();
    test_damaged();
    test_keys();
    test_two_processes();
    test_render_warm();
    test_side_effect();
    test_demand_and_revival();
    test_init_that_pulls();
    test_unusable_folder();
    test_ledger();
    test_ledger_shared();
    test_ledger_killed();
    t_remove_dir(dir);
    return check_done();
}
