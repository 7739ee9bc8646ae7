// flac_seg.c: a FLAC stream encoded in segments on several threads (see flac_seg.h).
//
// The caller's thread copies the floats into segments and hands each full one to the
// workers, which turn it into integers and encode it (or find its encoding in the cache),
// and add the segments' samples to the stream's MD5, one segment after the other, the next
// before any encoding (or, with a cache, find the MD5's state after a segment there, keyed
// by its state before and the segment: a render that changed nothing computes none of it).
// The caller's thread writes the finished segments in order: the first as libsndfile made
// it (its header and frames), the others' frames renumbered. The format (FLAC's
// specification, RFC 9639): a frame's header holds its number (blocks of a fixed size) in a
// UTF-8-like code and ends with a CRC-8 of itself; the frame ends with a CRC-16 of all its bytes;
// STREAMINFO, the first metadata block, holds the block and frame sizes, the length and the MD5 of
// the samples (little-endian, bits/8 bytes each, interleaved).
#include "flac_seg.h"

#include <errno.h>
#include <math.h>
#include <md5.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "cache.h"
#include "exec.h"
#include "memfile.h"

enum {
    INFO_LEN = 34,      // STREAMINFO's body
    INFO_AT = 8,        // its place in the file: after "fLaC" and its block header
    MAX_HEAD = 16,      // the longest frame header: 4 + 7 (number) + 2 + 2 + 1 (CRC-8)
    TYPE_SEEKTABLE = 3, // points at frames of one segment: dropped
    MD5_SAMPLES = 4096, // samples packed for MD5Update at a time
    MAX_WORKERS = 16
};

static int clamp_workers(int n) {
    return n < 1 ? 1 : n > MAX_WORKERS ? MAX_WORKERS : n;
}

typedef enum seg_state {
    SEG_FREE,
    SEG_FILLING,
    SEG_READY,
    SEG_ENCODING,
    SEG_DONE,   // encoded (or found)
    SEG_WRITTEN // its MD5 still to add; then free
} seg_state;

typedef struct segment {
    seg_state state;
    int64_t index;
    float *x;                   // channels * seg_frames samples, as handed over
    int32_t *pcm;               // the same as integers, scaled as sf_writef_int takes them
    bool ints;                  // pcm is made
    uint64_t key;               // in the cache (when there is one): the samples' and the encoding's
    int64_t frames;             // filled so far
    memfile out;                // the encoded stream, when encoded here
    cache_mapping map;          // the encoded stream, when found in the cache
    const unsigned char *bytes; // the encoded stream: out's or map's
    size_t n_bytes;
    bool failed;
    bool found;    // in the cache
    bool md5_done; // its samples are in the stream's MD5
    double sec;    // the worker's time encoding it
} segment;

struct flac_seg {
    flac_seg_opts o;
    int fd;
    segment *slot; // a ring: segment i in slot[i % n_slots]
    int n_slots;
    int64_t filling; // the segment being filled (claimed when its first frames come)
    int64_t written; // segments written to the file
    pthread_t th[MAX_WORKERS];
    int n_threads;
    bool stop;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    // the stream so far
    MD5_CTX md5;                  // (the workers', one segment at a time, in order)
    int64_t md5_next;             // the segment whose samples go into it next
    bool md5_busy;                // a worker is adding them
    double md5_sec;               // the workers' time on it
    int64_t frames_out;           // frames written
    unsigned block;               // its block size, from the first segment
    uint32_t min_size, max_size;  // its frames' smallest and largest (bytes)
    unsigned char info[INFO_LEN]; // the first segment's STREAMINFO, completed at the end
    bool short_seen;              // a segment ended inside a block: it must be the last
    int segments, found;          // segments written, of which found in the cache
    uint64_t encoder_id;          // with a cache: encoder_id()
    bool failed;
    int write_errno;
    char why[160];
    double busy_sec;
};

// ---- CRCs ------------------------------------------------------------------------------

static uint8_t crc8_table[256];
static uint16_t crc16_table[8][256]; // [k][i]: the CRC of byte i followed by k zero bytes
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void make_crc_tables(void) {
    for (unsigned i = 0; i < 256; i++) {
        unsigned c8 = i, c16 = i << 8;
        for (int k = 0; k < 8; k++) {
            c8 = (c8 << 1) ^ (c8 & 0x80 ? 0x07 : 0);        // x^8 + x^2 + x + 1
            c16 = (c16 << 1) ^ (c16 & 0x8000 ? 0x8005 : 0); // x^16 + x^15 + x^2 + 1
        }
        crc8_table[i] = (uint8_t)c8;
        crc16_table[0][i] = (uint16_t)c16;
    }
    for (int k = 1; k < 8; k++)
        for (unsigned i = 0; i < 256; i++) {
            unsigned c = crc16_table[k - 1][i];
            crc16_table[k][i] = (uint16_t)((c << 8) ^ crc16_table[0][c >> 8]);
        }
}

static uint8_t crc8(const unsigned char *b, size_t n) {
    unsigned c = 0;
    for (size_t i = 0; i < n; i++)
        c = crc8_table[c ^ b[i]];
    return (uint8_t)c;
}

// Eight bytes at a time (the register's two bytes fold into the first two): every byte of a
// frame is read once to find where the frame ends.
static uint16_t crc16(uint16_t c, const unsigned char *b, size_t n) {
    uint16_t(*t)[256] = crc16_table;
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        c = t[7][(c >> 8) ^ b[i]] ^ t[6][(c & 0xFF) ^ b[i + 1]] ^ t[5][b[i + 2]] ^ t[4][b[i + 3]] ^
            t[3][b[i + 4]] ^ t[2][b[i + 5]] ^ t[1][b[i + 6]] ^ t[0][b[i + 7]];
    for (; i < n; i++)
        c = (uint16_t)((c << 8) ^ t[0][(c >> 8) ^ b[i]]);
    return c;
}

// a * b mod the CRC-16 polynomial (carry-less: polynomials over GF(2)).
static uint16_t crc16_mul(uint16_t a, uint16_t b) {
    uint32_t r = 0;
    for (int i = 15; i >= 0; i--) {
        r <<= 1;
        r ^= r & 0x10000 ? 0x18005 : 0;
        r ^= (b >> i) & 1 ? a : 0;
    }
    return (uint16_t)r;
}

// The CRC-16 of a message c was the CRC of, once n zero bytes follow it: c * x^(8n). With
// no initial value and no final xor, crc(H B) = crc(H) x^(8|B|) + crc(B), so a frame whose
// header changes from H to H' has the checksum crc(H B) + (crc(H) + crc(H')) x^(8|B|):
// its body need not be read again.
static uint16_t crc16_advance(uint16_t c, size_t n) {
    uint16_t x8 = 0x100; // x^8, squared into x^(8 * 2^k)
    for (; n > 0; n >>= 1, x8 = crc16_mul(x8, x8))
        if (n & 1)
            c = crc16_mul(c, x8);
    return c;
}

static int subtype_of(int bits) {
    return bits == 8 ? SF_FORMAT_PCM_S8 : bits == 16 ? SF_FORMAT_PCM_16 : SF_FORMAT_PCM_24;
}

// One segment into s->out, as one libsndfile stream.
static bool encode_segment(const flac_seg_opts *o, segment *s) {
    SF_INFO info = { .samplerate = o->frame_rate,
                     .channels = o->channels,
                     .format = SF_FORMAT_FLAC | subtype_of(o->bits) };
    s->out.len = s->out.pos = 0;
    s->out.nomem = false;
    SNDFILE *sf = sf_open_virtual(&memfile_io, SFM_WRITE, &info, &s->out);
    if (!sf)
        return false;
    if (o->level >= 0) // libsndfile's 0.0-1.0 is FLAC's 0-8 (rounded)
        sf_command(sf, SFC_SET_COMPRESSION_LEVEL, &(double){ o->level / 8.0 }, sizeof(double));
    bool ok = sf_writef_int(sf, s->pcm, s->frames) == s->frames;
    return sf_close(sf) == 0 && ok && !s->out.nomem;
}

// ---- the workers -----------------------------------------------------------------------

static bool find_or_encode(const flac_seg *w, segment *s);

static segment *first_ready(flac_seg *w) {
    segment *best = NULL;
    for (int i = 0; i < w->n_slots; i++)
        if (w->slot[i].state == SEG_READY && (!best || w->slot[i].index < best->index))
            best = &w->slot[i];
    return best;
}

static void md5_segment(flac_seg *w, segment *s);

// The segment whose samples go into the MD5 next, when no worker is on it and it is
// encoded (its key made, its integers made if it was encoded here).
static segment *md5_ready(flac_seg *w) {
    segment *s = &w->slot[w->md5_next % w->n_slots];
    bool ready = s->state == SEG_DONE || s->state == SEG_WRITTEN;
    return !w->md5_busy && s->index == w->md5_next && ready && !s->md5_done ? s : NULL;
}

// Adds segment s to the MD5 (the lock held on entry and on return).
static void md5_task(flac_seg *w, segment *s) {
    w->md5_busy = true;
    pthread_mutex_unlock(&w->lock);
    double t0 = exec_now_sec();
    md5_segment(w, s);
    double sec = exec_now_sec() - t0;
    pthread_mutex_lock(&w->lock);
    w->md5_sec += sec;
    w->md5_busy = false;
    w->md5_next++;
    s->md5_done = true;
    if (s->state == SEG_WRITTEN)
        s->state = SEG_FREE;
    pthread_cond_broadcast(&w->changed);
}

static void *worker_main(void *arg) {
    flac_seg *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        segment *s, *m;
        while (!(m = md5_ready(w)) && !(s = first_ready(w)) && !w->stop)
            pthread_cond_wait(&w->changed, &w->lock);
        if (w->stop)
            break;
        if (m) { // the MD5 first: it is one chain, the encoding runs on every worker
            md5_task(w, m);
            continue;
        }
        s->state = SEG_ENCODING;
        pthread_mutex_unlock(&w->lock);
        double t0 = exec_now_sec();
        bool ok = find_or_encode(w, s);
        double sec = exec_now_sec() - t0;
        pthread_mutex_lock(&w->lock);
        s->failed = !ok;
        s->sec = sec;
        s->state = SEG_DONE;
        pthread_cond_broadcast(&w->changed);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

// ---- frames ----------------------------------------------------------------------------

typedef struct frame_head {
    size_t size;     // header bytes, its CRC-8 included
    size_t num_len;  // the coded frame number's bytes (from byte 4)
    int64_t number;  // the frame number
    unsigned blocks; // samples per channel in the frame
} frame_head;

// The coded number's length from its first byte (0: not a first byte).
static size_t coded_len(unsigned c) {
    if (c < 0x80)
        return 1;
    size_t n = 0;
    while (n < 8 && (c & (0x80u >> n)))
        n++;
    return n >= 2 && n <= 7 ? n : 0;
}

static bool decode_number(const unsigned char *b, size_t len, int64_t *v) {
    int64_t x = len == 1 ? b[0] : b[0] & (0x3F >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((b[i] & 0xC0) != 0x80)
            return false;
        x = (x << 6) | (b[i] & 0x3F);
    }
    *v = x;
    return true;
}

static size_t encode_number(int64_t v, unsigned char *b) {
    size_t len = v < 0x80         ? 1
                 : v < 0x800      ? 2
                 : v < 0x10000    ? 3
                 : v < 0x200000   ? 4
                 : v < 0x4000000  ? 5
                 : v < 0x80000000 ? 6
                                  : 7;
    if (len == 1) {
        b[0] = (unsigned char)v;
        return 1;
    }
    b[0] = (unsigned char)((0xFF00u >> len) & 0xFF);
    b[0] |= (unsigned char)(len < 7 ? v >> (6 * (len - 1)) : 0);
    for (size_t i = 1; i < len; i++)
        b[i] = (unsigned char)(0x80 | ((v >> (6 * (len - 1 - i))) & 0x3F));
    return len;
}

static unsigned block_of_code(unsigned code, const unsigned char *extra) {
    if (code == 1)
        return 192;
    if (code >= 2 && code <= 5)
        return 576u << (code - 2);
    if (code == 6)
        return extra[0] + 1u;
    if (code == 7)
        return ((unsigned)extra[0] << 8 | extra[1]) + 1u;
    return code >= 8 ? 256u << (code - 8) : 0;
}

// A frame header of a fixed-block-size stream at b (n bytes left), its CRC-8 checked.
static bool parse_head(const unsigned char *b, size_t n, frame_head *h) {
    if (n < 6 || b[0] != 0xFF || b[1] != 0xF8 || (b[2] >> 4) == 0 || (b[2] & 15) == 15 ||
        (b[3] & 1))
        return false;
    size_t len = coded_len(b[4]), p = 4 + len;
    unsigned bs = b[2] >> 4, sr = b[2] & 15;
    size_t extra = (bs == 6 ? 1 : bs == 7 ? 2 : 0) + (sr == 12 ? 1 : sr == 13 || sr == 14 ? 2 : 0);
    if (len == 0 || p + extra + 1 > n || !decode_number(b + 4, len, &h->number))
        return false;
    h->blocks = block_of_code(bs, b + p);
    p += extra;
    if (crc8(b, p) != b[p])
        return false;
    h->size = p + 1;
    h->num_len = len;
    return true;
}

// The first place at or after from where frame number + 1 could start (its header parses),
// or len.
static size_t next_head(const unsigned char *b, size_t len, size_t from, int64_t number) {
    while (from < len) {
        const unsigned char *ff = memchr(b + from, 0xFF, len - from);
        if (!ff)
            return len;
        size_t i = (size_t)(ff - b);
        frame_head next;
        if (parse_head(b + i, len - i, &next) && next.number == number + 1)
            return i;
        from = i + 1;
    }
    return len;
}

// Where the frame numbered h->number at pos ends: the first place that is the end of the
// data or the start of the next frame's header where the CRC-16 of the bytes from pos comes
// to 0 (a frame's checksum makes its whole CRC zero); 0 if there is none. Each byte is read
// once for the CRC.
static size_t frame_end(const unsigned char *b, size_t len, size_t pos, const frame_head *h) {
    uint16_t c = 0;
    size_t done = pos;                                    // c is the CRC of [pos, done)
    for (size_t from = pos + h->size + 3; from <= len;) { // a subframe's byte, the CRC's two
        size_t end = next_head(b, len, from, h->number);
        c = crc16(c, b + done, end - done);
        done = end;
        if (c == 0)
            return end;
        from = end + 1;
    }
    return 0;
}

// ---- writing ---------------------------------------------------------------------------

static bool fail(flac_seg *w, int err, const char *why) {
    if (!w->failed) {
        w->failed = true;
        w->write_errno = err;
        snprintf(w->why, sizeof w->why, "%s", why);
    }
    return false;
}

static bool write_all_bytes(flac_seg *w, const unsigned char *b, size_t n) {
    while (n > 0) {
        ssize_t k = write(w->fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return fail(w, k < 0 ? errno : EIO, "cannot write the audio");
        b += k;
        n -= (size_t)k;
    }
    return true;
}

static uint32_t be24(const unsigned char *b) {
    return (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
}

static void put_be24(unsigned char *b, uint32_t v) {
    b[0] = (unsigned char)(v >> 16);
    b[1] = (unsigned char)(v >> 8);
    b[2] = (unsigned char)v;
}

typedef struct stream_view {
    const unsigned char *info; // STREAMINFO's body
    size_t meta_end;           // where the frames start
} stream_view;

// The metadata of an encoded segment's stream, checked against what was asked for.
static bool view_stream(const flac_seg_opts *o, const unsigned char *b, size_t len, int64_t frames,
                        stream_view *v) {
    size_t p = 4;
    if (len < INFO_AT + INFO_LEN || memcmp(b, "fLaC", 4) != 0 || (b[4] & 0x7F) != 0 ||
        be24(b + 5) != INFO_LEN)
        return false;
    for (bool last = false; !last; p += 4 + be24(b + p + 1)) {
        if (p + 4 > len || p + 4 + be24(b + p + 1) > len)
            return false;
        last = b[p] & 0x80;
    }
    const unsigned char *i = b + INFO_AT;
    unsigned rate = be24(i + 10) >> 4, ch = ((i[12] >> 1) & 7) + 1u;
    unsigned bits = ((unsigned)(i[12] & 1) << 4 | i[13] >> 4) + 1u;
    int64_t total = (int64_t)(i[13] & 15) << 32 | (int64_t)i[14] << 24 | (int64_t)i[15] << 16 |
                    (int64_t)i[16] << 8 | i[17];
    unsigned min_block = (unsigned)i[0] << 8 | i[1], max_block = (unsigned)i[2] << 8 | i[3];
    v->info = i;
    v->meta_end = p;
    return rate == (unsigned)o->frame_rate && ch == (unsigned)o->channels &&
           bits == (unsigned)o->bits && total == frames && min_block == max_block && max_block > 0;
}

// Floats to the integers FLAC keeps: full scale 2^(bits-1), clipped, a NaN as 0, rounded
// to the nearest (ties to even, as libsndfile's lrintf rounds): adding 2^23 with the sign
// of v leaves no fraction in a float, and subtracting it again is exact. Branch-free, so it
// vectorises. Scaled by 2^(32-bits) for sf_writef_int.
static void to_ints(const float *src, int32_t *dst, int64_t n, int bits) {
    float scale = (float)(1 << (bits - 1)), top = scale - 1, bottom = -scale;
    unsigned shift = 32u - (unsigned)bits;
    for (int64_t i = 0; i < n; i++) {
        float v = src[i] * scale;
        v = v == v ? v : 0.0f;
        v = v < top ? v : top;
        v = v > bottom ? v : bottom;
        float m = copysignf(8388608.0f, v);
        dst[i] = (int32_t)((uint32_t)(int32_t)((v + m) - m) << shift);
    }
}

// The cache key of a segment's encoding: its samples (the floats: the integers follow from
// them) and everything that shapes the stream libsndfile makes of them (not where it lies:
// equal segments share an entry).
static uint64_t segment_key(const flac_seg *w, const segment *s) {
    struct {
        char tag[8];
        uint64_t samples, encoder;
        int32_t bits, level;
    } k;
    memset(&k, 0, sizeof k);
    memcpy(k.tag, "flacseg1", 8);
    k.samples = XXH3_64bits(s->x, sizeof(float) * (size_t)(s->frames * w->o.channels));
    k.encoder = w->encoder_id;
    k.bits = w->o.bits;
    k.level = w->o.level;
    return cache_key(XXH3_64bits(&k, sizeof k), (pg_extent){ 0, s->frames }, w->o.channels,
                     w->o.frame_rate);
}

// The encoder's fingerprint: the stream libsndfile, and the libFLAC under it, make of a
// fixed signal with these settings. A segment kept in the cache is only joined to segments
// of the same encoder (another version may choose other frames, or name itself otherwise
// in the header), so that the bytes never depend on the cache. 0 if it cannot be made.
static uint64_t encoder_id(const flac_seg_opts *o) {
    enum {
        PROBE_FRAMES = 4608
    }; // a whole block at every level, and a partial one
    segment s;
    memset(&s, 0, sizeof s);
    s.frames = PROBE_FRAMES;
    s.pcm = malloc(sizeof(int32_t) * PROBE_FRAMES * (size_t)o->channels);
    for (int64_t i = 0; s.pcm && i < PROBE_FRAMES * o->channels; i++)
        s.pcm[i] = (int32_t)((uint32_t)((i * 37) % 255 - 127) << (32 - o->bits));
    uint64_t id = s.pcm && encode_segment(o, &s) ? XXH3_64bits(s.out.p, (size_t)s.out.len) : 0;
    free(s.pcm);
    free(s.out.p);
    return id;
}

// A segment's stream from the cache (checked: its checksum, and its header against the
// segment), else encoded (and stored).
static bool find_or_encode(const flac_seg *w, segment *s) {
    const flac_seg_opts *o = &w->o;
    s->key = o->cache ? segment_key(w, s) : 0;
    stream_view v;
    s->found = s->ints = false;
    s->bytes = o->cache ? cache_map_bytes(o->cache, s->key, &s->n_bytes, &s->map) : NULL;
    if (s->bytes && view_stream(o, s->bytes, s->n_bytes, s->frames, &v))
        return s->found = true;
    cache_unmap(&s->map);
    to_ints(s->x, s->pcm, s->frames * o->channels, o->bits);
    s->ints = true;
    bool ok = encode_segment(o, s);
    s->bytes = s->out.p;
    s->n_bytes = (size_t)s->out.len;
    if (ok && o->cache && s->frames > 0)
        cache_store_bytes(o->cache, s->key, s->out.p, s->n_bytes);
    return ok;
}

// The first segment's metadata, without a SEEKTABLE (its offsets would be the segment's).
static bool write_header(flac_seg *w, const segment *s, const stream_view *v) {
    const unsigned char *b = s->bytes;
    unsigned char *h = malloc(v->meta_end), *last = NULL;
    if (!h)
        return fail(w, ENOMEM, "out of memory");
    size_t n = 4;
    memcpy(h, b, 4);
    for (size_t p = 4; p < v->meta_end; p += 4 + be24(b + p + 1)) {
        if ((b[p] & 0x7F) == TYPE_SEEKTABLE)
            continue;
        last = h + n;
        memcpy(h + n, b + p, 4 + be24(b + p + 1));
        h[n] &= 0x7F;
        n += 4 + be24(b + p + 1);
    }
    *last |= 0x80;
    bool ok = write_all_bytes(w, h, n);
    free(h);
    return ok;
}

static void count_frame(flac_seg *w, uint32_t size) {
    w->min_size = w->min_size == 0 || size < w->min_size ? size : w->min_size;
    w->max_size = size > w->max_size ? size : w->max_size;
}

// A frame of a later segment (size bytes at b), renumbered first + its number, into dst;
// its new size.
static size_t renumber_frame(const unsigned char *b, size_t size, const frame_head *h,
                             int64_t first, unsigned char *dst) {
    size_t n = 4 + encode_number(first + h->number, dst + 4);
    memcpy(dst, b, 4);
    size_t rest = h->size - 1 - 4 - h->num_len; // the block-size and rate bytes after the number
    memcpy(dst + n, b + 4 + h->num_len, rest);
    n += rest;
    dst[n] = crc8(dst, n);
    n++;
    size_t body = size - h->size - 2;
    memcpy(dst + n, b + h->size, body);
    uint16_t old = (uint16_t)(b[size - 2] << 8 | b[size - 1]);
    uint16_t c = old ^ crc16_advance(crc16(0, b, h->size) ^ crc16(0, dst, n), body);
    n += body;
    dst[n++] = (unsigned char)(c >> 8);
    dst[n++] = (unsigned char)c;
    return n;
}

// The frames of a segment after the first, renumbered to follow the stream so far.
static bool write_renumbered(flac_seg *w, const segment *s, const stream_view *v) {
    const unsigned char *b = s->bytes;
    size_t len = s->n_bytes, pos = v->meta_end, n = 0;
    int64_t first = w->frames_out / w->block, samples = 0;
    unsigned char *dst = malloc(len - pos + (size_t)(s->frames / w->block + 1) * 8);
    if (!dst)
        return fail(w, ENOMEM, "out of memory");
    for (int64_t k = 0; pos < len; k++) {
        frame_head h;
        size_t end =
            parse_head(b + pos, len - pos, &h) && h.number == k ? frame_end(b, len, pos, &h) : 0;
        if (end == 0 || (h.blocks != w->block && end != len)) {
            free(dst);
            return fail(w, 0, "libsndfile's FLAC stream could not be followed (internal error)");
        }
        size_t size = renumber_frame(b + pos, end - pos, &h, first, dst + n);
        count_frame(w, (uint32_t)size);
        n += size;
        samples += h.blocks;
        pos = end;
    }
    bool ok = samples == s->frames
                  ? write_all_bytes(w, dst, n)
                  : fail(w, 0, "a FLAC segment's frames do not add up (internal error)");
    free(dst);
    return ok;
}

// A stream of no samples: libsndfile writes nothing at all (its encoder starts with the
// first samples), which no decoder reads, so the header is ours: STREAMINFO alone, with
// libFLAC's block size for the level and frame sizes unknown (0).
static bool write_empty(flac_seg *w) {
    unsigned rate = (unsigned)w->o.frame_rate, ch = (unsigned)w->o.channels - 1;
    unsigned bits = (unsigned)w->o.bits - 1;
    w->block = w->o.level >= 0 && w->o.level <= 2 ? 1152 : 4096;
    unsigned char h[INFO_AT] = { 'f', 'L', 'a', 'C', 0x80, 0, 0, INFO_LEN }, *i = w->info;
    memset(i, 0, INFO_LEN);
    i[0] = i[2] = (unsigned char)(w->block >> 8);
    i[1] = i[3] = (unsigned char)w->block;
    i[10] = (unsigned char)(rate >> 12);
    i[11] = (unsigned char)(rate >> 4);
    i[12] = (unsigned char)((rate & 15) << 4 | ch << 1 | bits >> 4);
    i[13] = (unsigned char)((bits & 15) << 4);
    return write_all_bytes(w, h, sizeof h) && write_all_bytes(w, i, INFO_LEN);
}

// A segment's samples into the MD5 (little-endian, bits/8 bytes each).
static void md5_add(flac_seg *w, const int32_t *dst, int64_t n) {
    int bytes = w->o.bits / 8, shift = 32 - w->o.bits;
    unsigned char packed[MD5_SAMPLES * 3];
    for (int64_t i = 0; i < n; i += MD5_SAMPLES) {
        int64_t m = n - i < MD5_SAMPLES ? n - i : MD5_SAMPLES;
        for (int64_t j = 0; bytes == 3 && j < m; j++) { // (24-bit, the default: unrolled)
            uint32_t v = (uint32_t)(dst[i + j] >> shift);
            packed[3 * j] = (unsigned char)v;
            packed[3 * j + 1] = (unsigned char)(v >> 8);
            packed[3 * j + 2] = (unsigned char)(v >> 16);
        }
        for (int64_t j = 0; bytes != 3 && j < m; j++) {
            uint32_t v = (uint32_t)(dst[i + j] >> shift);
            for (int k = 0; k < bytes; k++)
                packed[j * bytes + k] = (unsigned char)(v >> (8 * k));
        }
        MD5Update(&w->md5, packed, (size_t)(m * bytes));
    }
}

// The key of the MD5's state after segment s, given its state before.
static uint64_t md5_key(const flac_seg *w, const segment *s) {
    struct {
        char tag[8];
        uint64_t segment;
        unsigned char before[sizeof(MD5_CTX)];
    } k;
    memset(&k, 0, sizeof k);
    memcpy(k.tag, "flacmd51", 8);
    k.segment = s->key;
    memcpy(k.before, &w->md5, sizeof w->md5);
    return cache_key(XXH3_64bits(&k, sizeof k), (pg_extent){ 0, s->frames }, w->o.channels,
                     w->o.frame_rate);
}

// Segment s (the next in order) into the stream's MD5: its state after s from the cache, or
// computed (and stored).
static void md5_segment(flac_seg *w, segment *s) {
    if (s->frames == 0)
        return;
    uint64_t key = w->o.cache ? md5_key(w, s) : 0;
    cache_mapping m = { NULL, 0 };
    size_t n = 0;
    const void *after = w->o.cache ? cache_map_bytes(w->o.cache, key, &n, &m) : NULL;
    if (after && n == sizeof w->md5) {
        memcpy(&w->md5, after, sizeof w->md5);
        cache_unmap(&m);
        return;
    }
    cache_unmap(&m);
    if (!s->ints)
        to_ints(s->x, s->pcm, s->frames * w->o.channels, w->o.bits);
    s->ints = true;
    md5_add(w, s->pcm, s->frames * w->o.channels);
    if (w->o.cache)
        cache_store_bytes(w->o.cache, key, &w->md5, sizeof w->md5);
}

// Writes segment s, the next in order.
static bool emit_segment(flac_seg *w, segment *s) {
    stream_view v;
    if (s->failed)
        return fail(w, s->out.nomem ? ENOMEM : 0, "the FLAC encoder failed");
    if (s->index == 0 && s->frames == 0 && s->n_bytes == 0)
        return write_empty(w);
    unsigned block = 0;
    if (view_stream(&w->o, s->bytes, s->n_bytes, s->frames, &v))
        block = (unsigned)v.info[2] << 8 | v.info[3];
    if (block == 0 || (w->block && block != w->block) || (w->short_seen && s->frames > 0))
        return fail(w, 0, "libsndfile's FLAC stream is not as expected (internal error)");
    bool ok;
    w->segments++;
    w->found += s->found;
    if (s->index == 0) {
        w->block = block;
        memcpy(w->info, v.info, INFO_LEN);
        w->min_size = be24(v.info + 4);
        w->max_size = be24(v.info + 7);
        ok = write_header(w, s, &v) &&
             write_all_bytes(w, s->bytes + v.meta_end, s->n_bytes - v.meta_end);
    } else {
        ok = write_renumbered(w, s, &v);
    }
    w->short_seen = s->frames % w->block != 0;
    w->frames_out += s->frames;
    return ok;
}

// STREAMINFO for the whole stream: its frame sizes, its length, its samples' MD5.
static bool complete_header(flac_seg *w) {
    unsigned char *i = w->info;
    put_be24(i + 4, w->min_size);
    put_be24(i + 7, w->max_size);
    i[13] = (unsigned char)((i[13] & 0xF0) | ((w->frames_out >> 32) & 15));
    for (int k = 0; k < 4; k++)
        i[14 + k] = (unsigned char)(w->frames_out >> (24 - 8 * k));
    MD5Final(i + 18, &w->md5);
    ssize_t k = pwrite(w->fd, i, INFO_LEN, INFO_AT);
    return k == INFO_LEN || fail(w, k < 0 ? errno : EIO, "cannot write the audio");
}

// ---- the caller's side -----------------------------------------------------------------

// Writes the next segment in order once it is done (waiting for it when wait); false when it
// was not done.
static bool write_next(flac_seg *w, bool wait) {
    segment *s = &w->slot[w->written % w->n_slots];
    pthread_mutex_lock(&w->lock);
    while (wait && s->state != SEG_DONE)
        pthread_cond_wait(&w->changed, &w->lock);
    bool done = s->state == SEG_DONE;
    pthread_mutex_unlock(&w->lock);
    if (!done)
        return false;
    double t0 = exec_now_sec();
    if (!w->failed)
        emit_segment(w, s);
    cache_unmap(&s->map);
    w->busy_sec += exec_now_sec() - t0 + s->sec;
    pthread_mutex_lock(&w->lock);
    s->state = s->md5_done ? SEG_FREE : SEG_WRITTEN;
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->lock);
    w->written++;
    return true;
}

// The slot of the segment being filled, claimed when free (segments still in it written
// first, in order).
static seg_state state_of(flac_seg *w, const segment *s) {
    pthread_mutex_lock(&w->lock);
    seg_state st = s->state;
    pthread_mutex_unlock(&w->lock);
    return st;
}

static segment *filling_slot(flac_seg *w) {
    segment *s = &w->slot[w->filling % w->n_slots];
    if (state_of(w, s) == SEG_FILLING)
        return s;
    for (;;) { // write what is done; wait for a worker when nothing is
        while (w->written < w->filling && write_next(w, false))
            continue;
        pthread_mutex_lock(&w->lock);
        if (s->state == SEG_FREE)
            break;
        segment *next = &w->slot[w->written % w->n_slots];
        if (w->written == w->filling || next->state != SEG_DONE)
            pthread_cond_wait(&w->changed, &w->lock);
        pthread_mutex_unlock(&w->lock);
    }
    s->state = SEG_FILLING;
    s->index = w->filling;
    s->frames = 0;
    s->md5_done = false;
    pthread_mutex_unlock(&w->lock);
    return s;
}

static void submit(flac_seg *w, segment *s) {
    pthread_mutex_lock(&w->lock);
    s->state = SEG_READY;
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->lock);
    w->filling++;
    while (w->written < w->filling && write_next(w, false))
        continue;
}

bool flac_seg_write(flac_seg *w, const float *src, int64_t frames) {
    int ch = w->o.channels;
    while (frames > 0 && !w->failed) {
        segment *s = filling_slot(w);
        int64_t n = w->o.seg_frames - s->frames;
        n = frames < n ? frames : n;
        memcpy(s->x + s->frames * ch, src, sizeof(float) * (size_t)(n * ch));
        s->frames += n;
        src += n * ch;
        frames -= n;
        if (s->frames == w->o.seg_frames)
            submit(w, s);
    }
    return !w->failed;
}

static void set_diag(pg_diag *err, pg_status st, const char *msg) {
    if (err) {
        memset(err, 0, sizeof *err);
        err->status = st;
        snprintf(err->message, sizeof err->message, "%s", msg);
    }
}

static flac_seg *give_up(flac_seg *w, pg_diag *err, pg_status st, const char *why) {
    flac_seg_free(w);
    set_diag(err, st, why);
    return NULL;
}

pg_status flac_seg_finish(flac_seg *w, pg_diag *err) {
    segment *s = &w->slot[w->filling % w->n_slots];
    if (!w->failed && (state_of(w, s) == SEG_FILLING || w->filling == 0)) // the rest, or nothing
        submit(w, filling_slot(w));
    while (!w->failed && w->written < w->filling)
        write_next(w, true);
    pthread_mutex_lock(&w->lock);
    while (!w->failed && w->md5_next < w->filling)
        pthread_cond_wait(&w->changed, &w->lock);
    pthread_mutex_unlock(&w->lock);
    if (!w->failed)
        complete_header(w);
    if (!w->failed)
        return PG_OK;
    char msg[256];
    snprintf(msg, sizeof msg, "%s%s%s", w->why, w->write_errno ? ": " : "",
             w->write_errno ? strerror(w->write_errno) : "");
    set_diag(err, PG_ERR_IO, msg);
    return PG_ERR_IO;
}

double flac_seg_busy_sec(flac_seg *w) {
    pthread_mutex_lock(&w->lock);
    double sec = w->busy_sec + w->md5_sec;
    pthread_mutex_unlock(&w->lock);
    return sec;
}

int flac_seg_threads(flac_seg *w) {
    return w->n_threads + 1;
}

void flac_seg_counts(flac_seg *w, int *segments, int *found) {
    *segments = w->segments;
    *found = w->o.cache ? w->found : -1;
}

size_t flac_seg_bytes(int channels, int workers) {
    // per slot: floats and integers (4 bytes a sample each), and an encoding of at most the
    // integers' size in a buffer grown by half again plus 64 KiB (memfile.c)
    size_t samples = (size_t)FLAC_SEG_FRAMES * (size_t)channels;
    size_t slot = 4 * samples + 4 * samples + 6 * samples + 65536;
    return (size_t)(clamp_workers(workers) + 2) * slot;
}

flac_seg *flac_seg_new(int fd, const flac_seg_opts *o, pg_diag *err) {
    pthread_once(&crc_once, make_crc_tables);
    flac_seg *w = calloc(1, sizeof *w);
    if (!w)
        goto nomem;
    w->o = *o;
    w->o.seg_frames = o->seg_frames > 0 ? o->seg_frames : FLAC_SEG_FRAMES;
    w->o.workers = clamp_workers(o->workers);
    w->fd = fd;
    w->encoder_id = o->cache ? encoder_id(o) : 0;
    w->o.cache = w->encoder_id ? o->cache : NULL; // (no fingerprint: nothing kept)
    w->n_slots = w->o.workers + 2; // one filling, one per worker, one done waiting its turn
    w->slot = calloc((size_t)w->n_slots, sizeof *w->slot);
    MD5Init(&w->md5);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->changed, NULL);
    for (int i = 0; w->slot && i < w->n_slots; i++)
        if (!(w->slot[i].pcm = malloc(sizeof(int32_t) * (size_t)(w->o.seg_frames * o->channels))) ||
            !(w->slot[i].x = malloc(sizeof(float) * (size_t)(w->o.seg_frames * o->channels))))
            goto nomem;
    if (!w->slot)
        goto nomem;
    for (; w->n_threads < w->o.workers; w->n_threads++)
        if (pthread_create(&w->th[w->n_threads], NULL, worker_main, w) != 0)
            break;
    if (w->n_threads > 0)
        return w;
    return give_up(w, err, PG_ERR_INTERNAL, "cannot start the FLAC encoder threads");
nomem:
    return give_up(w, err, PG_ERR_NOMEM, "out of memory for the FLAC encoders");
}

void flac_seg_free(flac_seg *w) {
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < w->n_threads; i++)
        pthread_join(w->th[i], NULL);
    for (int i = 0; w->slot && i < w->n_slots; i++) {
        free(w->slot[i].pcm);
        free(w->slot[i].x);
        free(w->slot[i].out.p);
        cache_unmap(&w->slot[i].map);
    }
    free(w->slot);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->changed);
    free(w);
}
