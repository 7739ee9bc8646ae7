// test_flac.c: a FLAC stream encoded in segments on several threads (runtime/flac_seg.c) is,
// byte for byte, the file one libsndfile stream writes from the same samples (so its frames
// are renumbered and their CRCs remade right, and its header's frame sizes, length and MD5
// are the whole stream's), whatever the segment length, the number of threads, the way the
// frames are handed over, the channels, the sample size and the compression level; floats
// become integers as libsndfile makes them (rounded to even, clipped, NaN as 0); a failed
// write is reported.
#include <fcntl.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "check.h"
#include "flac_seg.h"

typedef struct bytes {
    unsigned char *p;
    long n;
} bytes;

static int temp_file(char *path, size_t size) {
    const char *dir = getenv("TMPDIR");
    snprintf(path, size, "%s/pg_test_flac_XXXXXX", dir && *dir ? dir : "/tmp");
    return mkstemp(path);
}

// The whole file, read back (and removed).
static bytes slurp(int fd, const char *path) {
    bytes b = { NULL, (long)lseek(fd, 0, SEEK_END) };
    b.p = malloc((size_t)(b.n > 0 ? b.n : 1));
    if (!b.p || pread(fd, b.p, (size_t)b.n, 0) != b.n)
        b.n = -1;
    close(fd);
    unlink(path);
    return b;
}

// frames x ch integers of the given size: a tone, noise, silence and a full-scale square in
// turn, so that the encoder makes frames of every kind and of very different sizes.
static int32_t *test_signal(int64_t frames, int ch, int bits) {
    int32_t top = (int32_t)((1u << (bits - 1)) - 1);
    int32_t *v = malloc(sizeof *v * (size_t)(frames * ch + 1));
    uint32_t seed = 12345;
    for (int64_t i = 0; v && i < frames; i++)
        for (int c = 0; c < ch; c++) {
            seed = seed * 1103515245u + 12345u;
            int kind = (int)((i / 5000) % 4);
            double tone = 0.5 * sin(0.01 * (double)i * (c + 1));
            v[i * ch + c] = kind == 0   ? (int32_t)(tone * top)
                            : kind == 1 ? (int32_t)((int64_t)(seed >> 8) % (top / 4 + 1))
                            : kind == 2 ? 0
                                        : ((i / 50) % 2 ? top : -top - 1);
        }
    return v;
}

// The integers as floats that convert back to them exactly.
static float *as_floats(const int32_t *v, int64_t n, int bits) {
    float *f = malloc(sizeof *f * (size_t)(n + 1));
    for (int64_t i = 0; f && i < n; i++)
        f[i] = (float)v[i] / (float)(1u << (bits - 1));
    return f;
}

static int subtype(int bits) {
    return bits == 8 ? SF_FORMAT_PCM_S8 : bits == 16 ? SF_FORMAT_PCM_16 : SF_FORMAT_PCM_24;
}

// What one libsndfile stream writes from the integers.
static bytes reference(const int32_t *v, int64_t frames, int ch, int bits, int level) {
    char path[256];
    int fd = temp_file(path, sizeof path);
    SF_INFO info = { .samplerate = 48000,
                     .channels = ch,
                     .format = SF_FORMAT_FLAC | subtype(bits) };
    SNDFILE *sf = sf_open_fd(fd, SFM_WRITE, &info, SF_FALSE);
    CHECK(sf != NULL);
    int32_t *scaled = malloc(sizeof *scaled * (size_t)(frames * ch + 1));
    for (int64_t i = 0; i < frames * ch; i++)
        scaled[i] = (int32_t)((uint32_t)v[i] << (32 - bits));
    if (level >= 0)
        sf_command(sf, SFC_SET_COMPRESSION_LEVEL, &(double){ level / 8.0 }, sizeof(double));
    CHECK_EQ_I64(sf_writef_int(sf, scaled, frames), frames);
    sf_close(sf);
    free(scaled);
    return slurp(fd, path);
}

typedef struct seg_case {
    int64_t frames;
    int ch, bits, level, workers;
    int64_t seg_frames, per_call; // the segment length; frames handed over per call
    cache *cache;                 // where encoded segments are kept, or NULL
    int found;                    // out: segments found there
} seg_case;

static bytes segmented(const float *f, seg_case *k) {
    char path[256];
    int fd = temp_file(path, sizeof path);
    pg_diag err;
    flac_seg_opts o = { .channels = k->ch,
                        .frame_rate = 48000,
                        .bits = k->bits,
                        .level = k->level,
                        .workers = k->workers,
                        .seg_frames = k->seg_frames,
                        .cache = k->cache };
    flac_seg *w = flac_seg_new(fd, &o, &err);
    CHECK(w != NULL);
    for (int64_t i = 0; w && i < k->frames; i += k->per_call) {
        int64_t n = k->frames - i < k->per_call ? k->frames - i : k->per_call;
        CHECK(flac_seg_write(w, f + i * k->ch, n));
    }
    CHECK_STATUS(w ? flac_seg_finish(w, &err) : PG_ERR_INTERNAL, PG_OK);
    CHECK(!w || flac_seg_threads(w) == (k->workers < 1 ? 1 : k->workers) + 1);
    int segments = 0;
    if (w)
        flac_seg_counts(w, &segments, &k->found);
    CHECK_EQ_I64(segments, k->frames > 0 ? (k->frames - 1) / k->seg_frames + 1 : 1);
    CHECK(k->cache || k->found == -1);
    flac_seg_free(w);
    return slurp(fd, path);
}

// The bytes of k's stream against one libsndfile stream's; v: the integers (NULL: the test
// signal).
static void check_ints(seg_case *k, const int32_t *given) {
    int32_t *own = given ? NULL : test_signal(k->frames, k->ch, k->bits);
    const int32_t *v = given ? given : own;
    float *f = as_floats(v, k->frames * k->ch, k->bits);
    bytes want = reference(v, k->frames, k->ch, k->bits, k->level);
    bytes got = segmented(f, k);
    bool same = want.n > 0 && got.n == want.n && memcmp(got.p, want.p, (size_t)want.n) == 0;
    if (!same) // where they part, for the log
        for (long i = 0; i < want.n && i < got.n; i++)
            if (got.p[i] != want.p[i]) {
                fprintf(stderr, "  first difference at byte %ld of %ld/%ld\n", i, got.n, want.n);
                break;
            }
    char what[160];
    snprintf(what, sizeof what,
             "%lld frames, %d ch, %d bits, level %d, %d workers, segments of %lld, %lld per call",
             (long long)k->frames, k->ch, k->bits, k->level, k->workers, (long long)k->seg_frames,
             (long long)k->per_call);
    same ? (void)check_passed++ : check_report(__FILE__, __LINE__, "same bytes", what);
    free(own);
    free(f);
    free(want.p);
    free(got.p);
}

static void check_case(seg_case k) {
    if (k.seg_frames == 0)
        k.seg_frames = FLAC_SEG_FRAMES;
    check_ints(&k, NULL);
}

// Every segment boundary and stream length that could trip the joining: one frame, under a
// block, exactly one segment, one frame over, several segments and a partial block (no
// frames: test_empty).
static void test_same_bytes(void) {
    const int64_t A = FLAC_SEG_ALIGN;
    const int64_t lengths[] = { 1, 4095, A, A + 1, 3 * A + 777 };
    for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++)
        for (int workers = 1; workers <= 3; workers += 2) {
            check_case((seg_case){ lengths[i], 2, 24, -1, workers, A, 1000, NULL, 0 });
            check_case((seg_case){ lengths[i], 2, 24, -1, workers, A, lengths[i] + 1, NULL, 0 });
        }
}

// Frame numbers past 127 and 2047 take two and three bytes (a renumbered header grows);
// levels 0-2 use blocks of 1152 frames.
static void test_long_streams(void) {
    const int64_t A = FLAC_SEG_ALIGN;
    check_case((seg_case){ 2400000, 1, 16, 0, 2, A, 65536, NULL, 0 });   // 2084 blocks of 1152
    check_case((seg_case){ 600000, 2, 24, 8, 2, 2 * A, 4096, NULL, 0 }); // 147 blocks of 4096
    check_case((seg_case){ 600000, 2, 24, -1, 4, 0, 65536, NULL, 0 });   // the default segments
}

static void test_shapes(void) {
    const int64_t A = FLAC_SEG_ALIGN;
    check_case((seg_case){ 2 * A + 5, 1, 24, 5, 2, A, 777, NULL, 0 });
    check_case((seg_case){ 2 * A + 5, 6, 16, 3, 2, A, 777, NULL, 0 });
    check_case((seg_case){ 2 * A + 5, 3, 8, 1, 3, A, 777, NULL, 0 });
}

// Floats to 24-bit integers: full scale 2^23, rounded half to even, clipped at both ends,
// NaN as 0; read back through libsndfile (sf_readf_int gives them scaled by 2^8).
static void test_values(void) {
    const float s = 1.0f / 8388608.0f;
    const float in[] = { 0.0f,      0.5f * s, 1.5f * s,  2.5f * s,       -0.5f * s,
                         -1.5f * s, 1.0f,     -1.0f,     2.0f,           -3.0f,
                         NAN,       INFINITY, -INFINITY, 8388606.5f * s, -8388607.5f * s,
                         0.25f };
    const int32_t want[] = { 0,       0,        2, 2,       0,        -2,      8388607,  -8388608,
                             8388607, -8388608, 0, 8388607, -8388608, 8388606, -8388608, 2097152 };
    int n = (int)(sizeof in / sizeof *in);
    char path[256];
    int fd = temp_file(path, sizeof path);
    pg_diag err;
    flac_seg *w = flac_seg_new(fd, &(flac_seg_opts){ 1, 48000, 24, -1, 1, 0, NULL }, &err);
    CHECK(w && flac_seg_write(w, in, n));
    CHECK_STATUS(w ? flac_seg_finish(w, &err) : PG_ERR_INTERNAL, PG_OK);
    flac_seg_free(w);
    close(fd);
    SF_INFO info = { 0 };
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    CHECK(sf != NULL);
    int32_t got[32] = { 0 };
    CHECK_EQ_I64(sf ? sf_readf_int(sf, got, 32) : -1, n);
    for (int i = 0; i < n; i++)
        CHECK_EQ_I64(got[i] / 256, want[i]);
    if (sf)
        sf_close(sf);
    unlink(path);
}

// No samples: libsndfile alone writes an empty file, which nothing reads; ours is a stream
// header that says so, as flac's own encoder writes it (STREAMINFO: 4096-frame blocks, 48 kHz, 2
// channels, 24 bits, no samples, the MD5 of nothing).
static void test_empty(void) {
    static const unsigned char want[42] = { 'f',  'L',  'a',  'C',  0x80, 0,    0,    34,   0x10,
                                            0x00, 0x10, 0x00, 0,    0,    0,    0,    0,    0,
                                            0x0B, 0xB8, 0x03, 0x70, 0,    0,    0,    0,    0xD4,
                                            0x1D, 0x8C, 0xD9, 0x8F, 0x00, 0xB2, 0x04, 0xE9, 0x80,
                                            0x09, 0x98, 0xEC, 0xF8, 0x42, 0x7E };
    char path[256];
    int fd = temp_file(path, sizeof path);
    pg_diag err;
    flac_seg *w = flac_seg_new(fd, &(flac_seg_opts){ 2, 48000, 24, -1, 2, 0, NULL }, &err);
    CHECK_STATUS(w ? flac_seg_finish(w, &err) : PG_ERR_INTERNAL, PG_OK);
    flac_seg_free(w);
    SF_INFO info = { 0 };
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    CHECK(sf != NULL && info.channels == 2 && info.samplerate == 48000);
    float f[8]; // (a length of 0 means "unknown" to FLAC; libsndfile then reads to the end)
    CHECK_EQ_I64(sf ? sf_readf_float(sf, f, 4) : -1, 0);
    if (sf)
        sf_close(sf);
    bytes got = slurp(fd, path);
    CHECK(got.n == 42 && memcmp(got.p, want, 42) == 0);
    free(got.p);
}

// A device that is full: the write fails and the error says why.
static void test_write_error(void) {
    int fd = open("/dev/full", O_WRONLY);
    if (fd < 0)
        return; // (no /dev/full here)
    pg_diag err;
    flac_seg *w =
        flac_seg_new(fd, &(flac_seg_opts){ 2, 48000, 24, -1, 2, FLAC_SEG_ALIGN, NULL }, &err);
    float *f = calloc(2 * 3 * FLAC_SEG_ALIGN, sizeof *f);
    bool ok = true;
    for (int i = 0; w && f && i < 3; i++)
        ok = flac_seg_write(w, f + 2 * i * FLAC_SEG_ALIGN, FLAC_SEG_ALIGN) && ok;
    CHECK_STATUS(w ? flac_seg_finish(w, &err) : PG_OK, PG_ERR_IO);
    CHECK(strstr(err.message, "No space left on device") != NULL);
    flac_seg_free(w);
    free(f);
    close(fd);
}

// Flips one byte in the middle of every entry in dir; how many.
static int damage_entries(const char *dir) {
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "for f in %s/*.pgc; do printf x | dd of=\"$f\" bs=1 seek=100 conv=notrunc "
             "status=none; echo; done | wc -l",
             dir);
    FILE *p = popen(cmd, "r");
    int n = 0;
    if (p && fscanf(p, "%d", &n) != 1)
        n = 0;
    if (p)
        pclose(p);
    return n;
}

// With a cache, the encoded segments are kept (and the stream MD5's state after each): a
// second render finds every one, a changed sample re-encodes its segment alone (and the MD5
// from there on), a damaged entry is computed again (never used); the bytes are one
// libsndfile stream's every time.
static void test_cached(void) {
    char dir[] = "/tmp/pg_test_flac_cache_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    int why = 0;
    cache *c = cache_open(dir, 0, &why);
    CHECK(c != NULL);
    const int64_t A = FLAC_SEG_ALIGN, frames = 3 * A + 777;
    int32_t *v = test_signal(frames, 2, 24);
    seg_case k = { frames, 2, 24, -1, 2, A, 5000, c, -1 };
    check_ints(&k, v);
    CHECK_EQ_I64(k.found, 0);
    check_ints(&k, v);
    CHECK_EQ_I64(k.found, 4);
    v[2 * (2 * A + 10)] ^= 1; // one sample of the third segment
    check_ints(&k, v);
    CHECK_EQ_I64(k.found, 3);
    CHECK(damage_entries(dir) >= 5); // 5 encodings, and the MD5's states after segments
    check_ints(&k, v);
    CHECK_EQ_I64(k.found, 0);
    check_ints(&k, v); // stored again
    CHECK_EQ_I64(k.found, 4);
    k.level = 0; // another encoding of the same samples: another entry
    check_ints(&k, v);
    CHECK_EQ_I64(k.found, 0);
    cache_close(c);
    free(v);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

int main(void) {
    test_same_bytes();
    test_long_streams();
    test_shapes();
    test_values();
    test_cached();
    test_empty();
    test_write_error();
    return check_done();
}
