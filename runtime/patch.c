// patch.c: an output file rewritten in place where a render changed it. After a one-note
// edit the render finds all but a few of the output's chunks in the cache (chunks.c), and
// writing a new file meant copying every one of those into it: large_piece's 69 MB float WAV
// took ~15 ms to read and write, and renaming it over the old file another 3-5 ms (the old
// file's page cache freed inside rename), most of a warm render. But the old file holds
// those frames already, at their place, if pygmuc wrote it and nothing touched it since.
//
// So after writing an output file pygmuc records in the cache what it holds: the file's
// identity (device, inode, size, modification and change times: any write to it, by anyone,
// changes the change time, which no one can set) and, chunk by chunk, a key of the frames
// written there (exec_out_chunk_key). A later render into the same file, in the same format
// and window, writes only the chunks whose key is not the file's (an incremental linker
// patches its output so). The file then is byte for byte the one a whole render writes.
//
// What it takes: an uncompressed format whose bytes pygmuc makes (float WAV, 16- and 24-bit
// PCM: pcm.h), a file with no other link (it would change too), the chunks changed a
// quarter of the file at most (past that, writing a new file costs about the same and
// replaces the old one at once). The changed chunks are rendered into memory first and
// written only once the render succeeded, with the stop signals held for those milliseconds,
// so a failed or interrupted render leaves the file as it was; the record is removed before
// the first write and written again after the last, so a machine that stops between them
// leaves a file the next render writes whole. A write that fails puts back what it replaced.
// A player reading the file meanwhile hears the new frames from then on.
#define _GNU_SOURCE // (futimens and flock are POSIX and BSD; pthread_sigmask)
#include "patch.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "cache.h"
#include "exec.h"
#include "pcm.h"

#define RECORD_MAGIC    "PGMOUTR1"
#define PATCH_MAX_BYTES ((size_t)64 << 20) // changed chunks held in memory at most
enum {
    HEADER_READ = 4096, // the bytes before the data that patch_remember reads, at most
    MAX_HEADER_CHUNKS = 64
};

// The file a record describes, as fstat saw it once pygmuc had written it.
typedef struct record_head {
    char magic[8];
    uint64_t dev, ino;
    int64_t size, mtime_ns, ctime_ns;
    int64_t window_start, window_end, data_offset;
    int32_t format, channels, rate, n_chunks;
} record_head;

typedef struct record_chunk {
    uint64_t key;
    float peak;
    uint32_t unused;
} record_chunk;

typedef struct piece {
    off_t at;
    size_t len;
    unsigned char *data;
} piece;

struct patch {
    int fd; // the output, open for writing and locked (flock) until patch_commit or patch_free
    cache *cache;
    uint64_t record_key;
    record_head head;  // the file's record
    record_chunk *was; // what the file holds, chunk by chunk
    bool *skipped;     // per chunk: patch_skip passed over it
    int n_chunks;
    int format, channels, frame_bytes;
    pg_frame start; // the window's start: the file's first frame
    piece *pieces;  // what patch_add kept, in order
    int n_pieces, cap_pieces;
};

bool out_record_init(out_record *rec, int n) {
    rec->n = n;
    rec->key = calloc((size_t)n + 1, sizeof *rec->key);
    rec->peak = calloc((size_t)n + 1, sizeof *rec->peak);
    if (rec->key && rec->peak)
        return true;
    out_record_free(rec);
    return false;
}

void out_record_free(out_record *rec) {
    free(rec->key);
    free(rec->peak);
    *rec = (out_record){ 0 };
}

// The bytes of a frame of `format` when pygmuc makes them (floats on a little-endian machine
// into a RIFF file, PCM that pcm.h packs into RIFF or AIFF), else 0.
static int frame_bytes_of(int format, int channels) {
    int major = format & SF_FORMAT_TYPEMASK, sub = format & SF_FORMAT_SUBMASK;
    bool riff = major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX || major == SF_FORMAT_RF64;
    if ((format & SF_FORMAT_ENDMASK) != 0)
        return 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (riff && sub == SF_FORMAT_FLOAT)
        return 4 * channels;
#endif
    if ((riff || major == SF_FORMAT_AIFF) && pcm_can_pack(format))
        return pcm_sample_bytes(format) * channels;
    return 0;
}

static int64_t ns_of(struct timespec t) {
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

// The cache key of the record of the file with st's device and inode.
static uint64_t record_key_of(const struct stat *st) {
    uint64_t id[3] = { 0x7067756f75747075u, (uint64_t)st->st_dev, (uint64_t)st->st_ino };
    return cache_key(XXH3_64bits(id, sizeof id), (pg_extent){ 0, 0 }, 0, 0);
}

// Whether fstat's st is the file the record head describes, rendered as plan p into format.
static bool head_matches(const record_head *h, const struct stat *st, const pg_plan *p, int format,
                         int channels, int n_chunks) {
    return memcmp(h->magic, RECORD_MAGIC, 8) == 0 && h->dev == (uint64_t)st->st_dev &&
           h->ino == (uint64_t)st->st_ino && h->size == (int64_t)st->st_size &&
           h->mtime_ns == ns_of(st->st_mtim) && h->ctime_ns == ns_of(st->st_ctim) &&
           h->format == format && h->channels == channels && h->rate == p->frame_rate &&
           h->window_start == p->window.start && h->window_end == p->window.end &&
           h->n_chunks == n_chunks;
}

// Reads the file's record into pt (its head and chunks); the reason it cannot be, or NULL.
static const char *read_record(patch *pt, const struct stat *st, const pg_plan *p) {
    cache_mapping m;
    size_t n = 0;
    const unsigned char *b = cache_map_bytes(pt->cache, pt->record_key, &n, &m);
    if (!b)
        return "no record of the file in the cache";
    const char *why = NULL;
    memcpy(&pt->head, b, n >= sizeof pt->head ? sizeof pt->head : 0);
    if (n != sizeof pt->head + sizeof(record_chunk) * (size_t)pt->n_chunks ||
        !head_matches(&pt->head, st, p, pt->format, pt->channels, pt->n_chunks))
        why = "the file is not the one last written (or not in this format and window)";
    else if (!(pt->was = malloc(sizeof(record_chunk) * (size_t)pt->n_chunks + 1)))
        why = "out of memory";
    else
        memcpy(pt->was, b + sizeof pt->head, sizeof(record_chunk) * (size_t)pt->n_chunks);
    cache_unmap(&m);
    return why;
}

// Whether the file holds chunk k of render r already, and the stream need not make it.
static bool holds(const patch *pt, pg_render *r, int k) {
    uint64_t key = exec_out_chunk_key(r, k);
    return key != 0 && pt->was[k].key == key && exec_out_chunk_found(r, k);
}

// The bytes the chunks the file does not hold come to; why they are too many, or NULL.
static const char *too_much(const patch *pt, pg_render *r) {
    size_t changed = 0, all = 0;
    for (int k = 0; k < pt->n_chunks; k++) {
        pg_extent s = exec_out_chunk_span(r, k);
        size_t bytes = (size_t)(s.end - s.start) * (size_t)pt->frame_bytes;
        all += bytes;
        changed += holds(pt, r, k) ? 0 : bytes;
    }
    return changed > all / 4 || changed > PATCH_MAX_BYTES ? "the render changes much of the file"
                                                          : NULL;
}

// Opens and locks the file, checks its record; the reason it cannot be patched, or NULL.
static const char *open_file(patch *pt, const char *path, const pg_plan *p) {
    struct stat st;
    if ((pt->fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
        return errno == ENOENT ? "a new file" : "the file cannot be opened for writing";
    if (flock(pt->fd, LOCK_EX) != 0 || fstat(pt->fd, &st) != 0) // (after the lock: another
        return "the file cannot be locked";                     // pygmuc may have written it)
    if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
        return "the file has other links";
    int why = 0;
    if (!(pt->cache = cache_open(p->cache_dir, p->cache_limit, &why)))
        return "no cache";
    pt->record_key = record_key_of(&st);
    return read_record(pt, &st, p);
}

patch *patch_open(const char *path, const pg_plan *p, int format, int channels, pg_render *r,
                  const char **why) {
    *why = NULL;
    if (p->mem_limit || p->until_silence || exec_out_chunks(r) == 0)
        *why = p->mem_limit       ? "--mem-limit"
               : p->until_silence ? "--until-silence"
                                  : "the output is not kept in chunks";
    int frame_bytes = *why ? 0 : frame_bytes_of(format, channels);
    if (!*why && !frame_bytes)
        *why = "a format pygmuc does not patch";
    patch *pt = *why ? NULL : calloc(1, sizeof *pt);
    if (!pt) {
        *why = *why ? *why : "out of memory";
        return NULL;
    }
    *pt = (patch){ .fd = -1,
                   .n_chunks = exec_out_chunks(r),
                   .format = format,
                   .channels = channels,
                   .frame_bytes = frame_bytes,
                   .start = p->window.start };
    *why = open_file(pt, path, p);
    if (!*why && !(pt->skipped = calloc((size_t)pt->n_chunks + 1, sizeof(bool))))
        *why = "out of memory";
    if (!*why)
        *why = too_much(pt, r);
    if (*why) {
        patch_free(pt);
        return NULL;
    }
    return pt;
}

int64_t patch_skip(patch *pt, pg_render *r) {
    pg_frame at = exec_render_cursor(r);
    int k = exec_out_chunk_at(r, at);
    if (k >= pt->n_chunks || !holds(pt, r, k))
        return 0;
    int64_t n = exec_skip_found(r);
    pt->skipped[k] = pt->skipped[k] || n > 0;
    return n;
}

bool patch_add(patch *pt, pg_frame at, const float *src, int64_t n) {
    if (pt->n_pieces == pt->cap_pieces) {
        int cap = pt->cap_pieces ? 2 * pt->cap_pieces : 16;
        piece *more = realloc(pt->pieces, sizeof *more * (size_t)cap);
        if (!more)
            return false;
        pt->pieces = more;
        pt->cap_pieces = cap;
    }
    size_t len = (size_t)n * (size_t)pt->frame_bytes;
    unsigned char *data = malloc(len ? len : 1);
    if (!data)
        return false;
    if ((pt->format & SF_FORMAT_SUBMASK) == SF_FORMAT_FLOAT)
        memcpy(data, src, len); // (a RIFF file's floats are little-endian: this machine's)
    else
        pcm_pack(src, n * pt->channels, pt->format, data);
    off_t at_byte = pt->head.data_offset + (off_t)(at - pt->start) * pt->frame_bytes;
    pt->pieces[pt->n_pieces++] = (piece){ at_byte, len, data };
    return true;
}

int patch_skipped(const patch *pt) {
    int n = 0;
    for (int k = 0; k < pt->n_chunks; k++)
        n += pt->skipped[k];
    return n;
}

int patch_written(const patch *pt) {
    return pt->n_chunks - patch_skipped(pt);
}

// All n bytes at offset at, written from b (out) or read into it; false on an error or an
// early end of file.
static bool transfer(int fd, unsigned char *b, size_t n, off_t at, bool out) {
    while (n > 0) {
        ssize_t done = out ? pwrite(fd, b, n, at) : pread(fd, b, n, at);
        if (done < 0 && errno == EINTR)
            continue;
        if (done <= 0)
            return false;
        b += done;
        n -= (size_t)done;
        at += done;
    }
    return true;
}

// Stores the record of the file open on fd: head (its file fields from fstat now) and rec.
static void store_record(cache *c, int fd, record_head *head, const out_record *rec) {
    struct stat st;
    size_t bytes = sizeof *head + sizeof(record_chunk) * (size_t)rec->n;
    unsigned char *b = malloc(bytes);
    if (!b || fstat(fd, &st) != 0) {
        free(b);
        return;
    }
    memcpy(head->magic, RECORD_MAGIC, 8);
    head->dev = (uint64_t)st.st_dev;
    head->ino = (uint64_t)st.st_ino;
    head->size = (int64_t)st.st_size;
    head->mtime_ns = ns_of(st.st_mtim);
    head->ctime_ns = ns_of(st.st_ctim);
    head->n_chunks = rec->n;
    memcpy(b, head, sizeof *head);
    for (int k = 0; k < rec->n; k++) {
        record_chunk one = { rec->key[k], rec->peak[k], 0 };
        memcpy(b + sizeof *head + sizeof one * (size_t)k, &one, sizeof one);
    }
    cache_store_bytes(c, record_key_of(&st), b, bytes);
    free(b);
}

// Writes the pieces; on a failure puts back the bytes of those it began (saved first in
// old, one buffer per piece) and returns the errno, else 0.
static int write_pieces(patch *pt, unsigned char **old) {
    int done = 0, why = 0;
    for (; done < pt->n_pieces && !why; done++) {
        piece *q = &pt->pieces[done];
        errno = 0;
        if (!transfer(pt->fd, q->data, q->len, q->at, true))
            why = errno ? errno : EIO;
    }
    for (int i = 0; why && i < done; i++)
        (void)transfer(pt->fd, old[i], pt->pieces[i].len, pt->pieces[i].at, true);
    return why;
}

// The bytes each piece replaces, read before it is written; NULL when they cannot be.
static unsigned char **save_old(const patch *pt) {
    unsigned char **old = calloc((size_t)pt->n_pieces + 1, sizeof *old);
    bool ok = old != NULL;
    for (int i = 0; ok && i < pt->n_pieces; i++) {
        const piece *q = &pt->pieces[i];
        ok = (old[i] = malloc(q->len ? q->len : 1)) &&
             transfer(pt->fd, old[i], q->len, q->at, false);
    }
    for (int i = 0; !ok && old && i < pt->n_pieces; i++)
        free(old[i]);
    if (!ok)
        free(old);
    return ok ? old : NULL;
}

static void free_old(unsigned char **old, int n) {
    for (int i = 0; old && i < n; i++)
        free(old[i]);
    free(old);
}

pg_status patch_commit(patch *pt, out_record *rec, const char *path, pg_diag *err) {
    for (int k = 0; k < pt->n_chunks && k < rec->n; k++)
        if (pt->skipped[k])
            rec->peak[k] = pt->was[k].peak;
    sigset_t stop, old_mask;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, &old_mask);
    unsigned char **old = save_old(pt);
    int why = old ? 0 : errno ? errno : ENOMEM;
    if (!why)
        cache_remove(pt->cache, pt->record_key); // (until the file is whole again)
    if (!why && pt->n_pieces == 0 && futimens(pt->fd, NULL) != 0)
        why = errno; // (nothing changed: dated now all the same, as a new file would be)
    if (!why)
        why = write_pieces(pt, old);
    if (!why)
        store_record(pt->cache, pt->fd, &pt->head, rec);
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    free_old(old, pt->n_pieces);
    patch_free(pt);
    if (!why)
        return PG_OK;
    if (err) {
        memset(err, 0, sizeof *err);
        err->status = PG_ERR_IO;
        snprintf(err->message, sizeof err->message,
                 "'%s': cannot write the audio: %s (the file is as it was)", path, strerror(why));
    }
    return PG_ERR_IO;
}

void patch_free(patch *pt) {
    if (!pt)
        return;
    for (int i = 0; i < pt->n_pieces; i++)
        free(pt->pieces[i].data);
    free(pt->pieces);
    free(pt->was);
    free(pt->skipped);
    cache_close(pt->cache);
    if (pt->fd >= 0)
        close(pt->fd); // (the lock goes with it)
    free(pt);
}

// ---- the data's place in a new file --------------------------------------------------------

static uint32_t le32(const unsigned char *b) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[3] | (uint32_t)b[2] << 8 | (uint32_t)b[1] << 16 | (uint32_t)b[0] << 24;
}

// Where the samples start in a RIFF (WAV, WAVEX, RF64) or AIFF file's first n bytes b: the
// "data" or "SSND" chunk's contents; -1 when they are not there.
static int64_t data_offset(const unsigned char *b, size_t n, bool aiff) {
    size_t at = 12;
    for (int i = 0; i < MAX_HEADER_CHUNKS && at + 16 <= n; i++) {
        uint32_t size = aiff ? be32(b + at + 4) : le32(b + at + 4);
        if (!aiff && memcmp(b + at, "data", 4) == 0)
            return (int64_t)at + 8;
        if (aiff && memcmp(b + at, "SSND", 4) == 0) // (its offset field, then its block size)
            return (int64_t)at + 16 + be32(b + at + 8);
        at += 8 + (size_t)size + (size & 1);
    }
    return -1;
}

void patch_remember(int fd, const pg_plan *p, int format, int channels, const out_record *rec) {
    int frame_bytes = frame_bytes_of(format, channels), why = 0;
    unsigned char b[HEADER_READ];
    struct stat st;
    if (!frame_bytes || rec->n == 0 || fstat(fd, &st) != 0)
        return;
    size_t n = st.st_size < HEADER_READ ? (size_t)st.st_size : HEADER_READ;
    bool aiff = (format & SF_FORMAT_TYPEMASK) == SF_FORMAT_AIFF;
    int64_t at = transfer(fd, b, n, 0, false) ? data_offset(b, n, aiff) : -1;
    int64_t data = (p->window.end - p->window.start) * (int64_t)frame_bytes;
    if (at < 0 || at + data > (int64_t)st.st_size)
        return;
    cache *c = cache_open(p->cache_dir, p->cache_limit, &why);
    record_head head = { .format = format,
                         .channels = channels,
                         .rate = p->frame_rate,
                         .window_start = p->window.start,
                         .window_end = p->window.end,
                         .data_offset = at };
    if (c)
        store_record(c, fd, &head, rec);
    cache_close(c);
}
