// aio.c: audio files through libsndfile: rendering a plan into a file (format from the
// extension, written to a temporary file beside the target and renamed only on success, or
// the old file patched in place where the render changed it: patch.c), and comparing two
// files sample by sample.
#define _GNU_SOURCE // fallocate (Linux), a hint reserve_space() uses when it is there
#include "aio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec.h"
#include "flac_seg.h"
#include "patch.h"
#include "pcm.h"
#include "plan.h"

enum {
    WRITE_CHUNK = 65536
};

typedef struct format_entry {
    const char *ext;
    int major;
    int default_sub; // libsndfile subtype when --subtype is not given
    bool has_float;
} format_entry;

static const format_entry formats[] = {
    { "wav", SF_FORMAT_WAV, SF_FORMAT_FLOAT, true },
    { "flac", SF_FORMAT_FLAC, SF_FORMAT_PCM_24, false },
    { "aiff", SF_FORMAT_AIFF, SF_FORMAT_PCM_24, true },
    { "aif", SF_FORMAT_AIFF, SF_FORMAT_PCM_24, true },
    { "ogg", SF_FORMAT_OGG, SF_FORMAT_VORBIS, false },
    { "oga", SF_FORMAT_OGG, SF_FORMAT_VORBIS, false },
    { "opus", SF_FORMAT_OGG, SF_FORMAT_OPUS, false },
    { "caf", SF_FORMAT_CAF, SF_FORMAT_FLOAT, true },
    { "w64", SF_FORMAT_W64, SF_FORMAT_FLOAT, true },
    { "au", SF_FORMAT_AU, SF_FORMAT_FLOAT, true },
    { "mp3", SF_FORMAT_MPEG, SF_FORMAT_MPEG_LAYER_III, false },
};

static pg_status set_err(pg_diag *err, pg_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static pg_status set_err(pg_diag *err, pg_status st, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        memset(err, 0, sizeof *err);
        err->status = st;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return st;
}

int aio_strcasecmp(const char *a, const char *b) {
    for (;; a++, b++) {
        int ca = (*a >= 'A' && *a <= 'Z') ? *a + 32 : *a;
        int cb = (*b >= 'A' && *b <= 'Z') ? *b + 32 : *b;
        if (ca != cb || !ca)
            return ca - cb;
    }
}

static const format_entry *format_for(const char *path) {
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return NULL;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (aio_strcasecmp(dot + 1, formats[i].ext) == 0)
            return &formats[i];
    return NULL;
}

static pg_status pick_format(const char *path, pg_subtype sub, SF_INFO *info, pg_diag *err) {
    const format_entry *f = format_for(path);
    if (!f)
        return set_err(err, PG_ERR_IO,
                       "cannot tell the audio format of '%s' from its extension (use .wav, "
                       ".flac, .aiff, .ogg, .opus, .caf, .w64, .au or .mp3)",
                       path);
    int s = f->default_sub;
    if (sub == PG_SUBTYPE_PCM16)
        s = SF_FORMAT_PCM_16;
    else if (sub == PG_SUBTYPE_PCM24)
        s = SF_FORMAT_PCM_24;
    else if (sub == PG_SUBTYPE_FLOAT) {
        if (!f->has_float)
            return set_err(err, PG_ERR_IO, "the %s format has no float subtype", f->ext);
        s = SF_FORMAT_FLOAT;
    }
    if ((sub == PG_SUBTYPE_PCM16 || sub == PG_SUBTYPE_PCM24) &&
        (f->major == SF_FORMAT_OGG || f->major == SF_FORMAT_MPEG))
        return set_err(err, PG_ERR_IO, "the %s format is lossy: it has no PCM subtype", f->ext);
    info->format = f->major | s;
    if (!sf_format_check(info))
        return set_err(err, PG_ERR_IO, "libsndfile cannot write %s at %d Hz, %d channels", f->ext,
                       info->samplerate, info->channels);
    return PG_OK;
}

static bool is_pcm(const SF_INFO *info) {
    int s = info->format & SF_FORMAT_SUBMASK;
    return s == SF_FORMAT_PCM_16 || s == SF_FORMAT_PCM_24 || s == SF_FORMAT_PCM_S8 ||
           s == SF_FORMAT_PCM_32 || s == SF_FORMAT_PCM_U8;
}

static void draw_progress(pg_frame done, pg_frame total, double *last) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
    if (now - *last < 0.1 && done < total)
        return;
    *last = now;
    int width = 40, fill = total > 0 ? (int)((double)done / (double)total * width) : width;
    fprintf(stderr, "\r[%.*s%*s] %3d%%", fill, "########################################",
            width - fill, "", total > 0 ? (int)(100.0 * (double)done / (double)total) : 100);
    if (done >= total)
        fputc('\n', stderr);
}

// Ends a progress bar cut short by an error, so that the message starts a line of its own.
static void cut_progress(const pg_write_opts *o, double last) {
    if (o && o->progress && last > 0.0)
        fputc('\n', stderr);
}

// The encoder runs on its own thread so that encoding (FLAC especially) overlaps
// rendering: the renderer fills one of N_BUFS buffers while the encoder writes another.
// Output chunks found in the cache are queued by position only, and up to N_QUEUED of them:
// the stream runs ahead through what it found to the edit, where it helps render what the
// edit changed while the encoder catches up. The encoder reads each found chunk itself into
// a buffer of its own, checks it and writes it while it is still in its core's cache: the
// 131 chunks of a 3-minute stereo output, read and written so, took 10 ms here, written
// from mappings of their entries 20 ms (page faults, and unmapping interrupts every thread
// to flush its TLB); and the stream thread, which checked them before, is free.
enum {
    N_BUFS = 3,
    N_QUEUED = 16
};

typedef struct queued {
    const float *src; // one of the buffers, or NULL: found frames, to fetch
    pg_frame at;      // the first frame
    int64_t frames;
} queued;

typedef struct encoder {
    SNDFILE *sf;
    flac_seg *fs; // FLAC: encoded on several threads (else sf encodes)
    patch *pt;    // the old file patched in place (else sf or fs writes a new one)
    int channels;
    bool pcm; // a PCM format: track the peak, to warn of clipping
    pg_render *render;
    float *buf[N_BUFS];
    int next_buf, bufs_queued; // buffers are queued round the ring, in order
    float *fetched;            // the encoder's own: found frames, read from the cache
    unsigned char *packed;     // 16- or 24-bit PCM made here (pcm.h), else NULL
    int format;                // the output's SF_FORMAT_*
    queued q[N_QUEUED];
    int head, count; // q[head], ... q[head + count - 1] (round the ring) are queued
    bool finished;   // the renderer is done: drain and stop
    double busy_sec; // time spent encoding and writing (the encoder thread's)
    bool failed;
    bool render_failed; // fetching found frames failed (pg_render_error says why)
    int write_errno;    // why the first write failed, when the system said (ENOSPC, EIO, ...)
    double peak;        // PCM outputs: the largest |sample|, for the clipping warning
    float *chunk_peak;  // and per output chunk (for the file's record), or NULL
    pthread_mutex_t lock;
    pthread_cond_t changed;
} encoder;

// The largest |sample| of a buffer about to be written, for PCM outputs' clipping warning
// (float and lossy files keep levels over 1.0: nothing clips). NaNs and infinities are the
// render's to report (pg_render_stats.first_nonfinite_frame).
static void track_peak(encoder *e, const float *src, pg_frame at, int64_t frames) {
    for (int64_t i = 0, n; i < frames; i += n) {
        int k = e->chunk_peak ? exec_out_chunk_at(e->render, at + i) : -1;
        n = k < 0 ? frames - i : exec_out_chunk_span(e->render, k).end - (at + i);
        n = n < frames - i ? n : frames - i;
        uint32_t bits = exec_max_abs_bits(src + i * e->channels, n * e->channels);
        float f;
        memcpy(&f, &bits, sizeof f);
        if (bits >= EXEC_NONFINITE_BITS)
            continue;
        e->peak = (double)f > e->peak ? (double)f : e->peak;
        if (k >= 0 && f > e->chunk_peak[k])
            e->chunk_peak[k] = f;
    }
}

// Writes frames through libsndfile: its PCM made here (pcm.h) and written raw, or floats.
static bool write_frames(encoder *e, const float *src, int64_t frames) {
    if (!e->packed)
        return sf_writef_float(e->sf, src, frames) == frames;
    int64_t bytes = pcm_pack(src, frames * e->channels, e->format, e->packed);
    return sf_write_raw(e->sf, e->packed, bytes) == bytes;
}

// Writes frames at output frame `at`: into the file patched, or through the encoder.
static bool write_out(encoder *e, const float *src, pg_frame at, int64_t frames) {
    if (e->pt)
        return patch_add(e->pt, at, src, frames);
    return e->fs ? flac_seg_write(e->fs, src, frames) : write_frames(e, src, frames);
}

static void *encoder_main(void *arg) {
    encoder *e = arg;
    pthread_mutex_lock(&e->lock);
    for (;;) {
        while (e->count == 0 && !e->finished)
            pthread_cond_wait(&e->changed, &e->lock);
        if (e->count == 0)
            break;
        queued w = e->q[e->head];
        pthread_mutex_unlock(&e->lock);
        double t0 = exec_now_sec();
        bool found = !w.src, fetched = true, ok = false;
        if (found)
            fetched = exec_fetch_found(e->render, w.at, w.frames, e->fetched) == 0;
        errno = 0;
        if (fetched) {
            const float *src = found ? e->fetched : w.src;
            if (e->pcm)
                track_peak(e, src, w.at, w.frames);
            ok = write_out(e, src, w.at, w.frames);
        }
        int why = errno;
        e->busy_sec += exec_now_sec() - t0;
        pthread_mutex_lock(&e->lock);
        if (!ok && !e->failed && fetched)
            e->write_errno = why;
        e->render_failed = e->render_failed || !fetched;
        e->failed = e->failed || !ok;
        e->head = (e->head + 1) % N_QUEUED;
        e->count--;
        e->bufs_queued -= !found;
        pthread_cond_broadcast(&e->changed);
    }
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

// Waits for room in the queue, and for a free buffer when need_buf; returns that buffer.
static float *encoder_wait(encoder *e, bool need_buf) {
    pthread_mutex_lock(&e->lock);
    while (e->count == N_QUEUED || (need_buf && e->bufs_queued == N_BUFS))
        pthread_cond_wait(&e->changed, &e->lock);
    float *buf = e->buf[e->next_buf];
    pthread_mutex_unlock(&e->lock);
    return buf;
}

static bool encoder_failed(encoder *e) {
    pthread_mutex_lock(&e->lock);
    bool failed = e->failed;
    pthread_mutex_unlock(&e->lock);
    return failed;
}

static void encoder_push(encoder *e, queued w) {
    pthread_mutex_lock(&e->lock);
    e->q[(e->head + e->count) % N_QUEUED] = w;
    e->count++;
    if (w.src) {
        e->bufs_queued++;
        e->next_buf = (e->next_buf + 1) % N_BUFS;
    }
    pthread_cond_broadcast(&e->changed);
    pthread_mutex_unlock(&e->lock);
}

// Renders into the encoder's slots until the window is done; returns the status.
static pg_status render_into(pg_render *r, encoder *e, const pg_plan *p, const pg_write_opts *o,
                             pg_diag *err) {
    pg_frame total = p->window.end - p->window.start, done = 0;
    double last = 0.0;
    for (;;) {
        (void)encoder_wait(e, false); // room in the queue; a buffer only if it renders
        if (encoder_failed(e)) {
            cut_progress(o, last);
            return PG_OK; // the file cannot be written (the caller reports why): stop rendering
        }
        queued w = { .at = exec_render_cursor(r) };
        int64_t n = e->pt ? patch_skip(e->pt, r) : 0;
        if (n > 0) { // (the file holds these frames)
            done += n;
            if (o && o->progress)
                draw_progress(done, total, &last);
            continue;
        }
        n = exec_pass_found(r, WRITE_CHUNK);
        if (n == 0) {
            float *buf = encoder_wait(e, true);
            w.src = buf;
            // (patching, a chunk at a time, so that the next may be passed over)
            int64_t left = exec_render_chunk_left(r);
            n = pg_render_next(r, buf, e->pt && left < WRITE_CHUNK ? left : WRITE_CHUNK);
        }
        if (n < 0) {
            cut_progress(o, last);
            if (err)
                *err = *pg_render_error(r);
            return pg_render_error(r)->status;
        }
        if (n == 0) {
            if (o && o->progress && done < total) // --until-silence stopped early: done
                draw_progress(done, done, &last);
            return PG_OK;
        }
        w.frames = n;
        encoder_push(e, w);
        done += n;
        if (o && o->progress)
            draw_progress(done, total, &last);
    }
}

// The FLAC stream's end: its last segments written, its header completed.
static pg_status finish_flac(flac_seg *fs, const char *path, pg_diag *err) {
    pg_diag why;
    pg_status st = flac_seg_finish(fs, &why);
    return st == PG_OK ? PG_OK : set_err(err, st, "'%s': %s", path, why.message);
}

static void set_encoding(SNDFILE *sf, const SF_INFO *info, const pg_write_opts *o) {
    if (is_pcm(info))
        sf_command(sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
    if (o && o->flac_level_set) // libsndfile's 0.0-1.0 is FLAC's 0-8 (rounded)
        sf_command(sf, SFC_SET_COMPRESSION_LEVEL, &(double){ o->flac_level / 8.0 }, sizeof(double));
    // libsndfile's PEAK chunk (float WAV/AIFF) costs a scalar pass over every sample on the
    // encoder thread, the slowest stage of a fast render; players ignore it.
    sf_command(sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
}

// What encodes the output: libsndfile on the file, or for FLAC segments on several threads.
typedef struct sink {
    SNDFILE *sf;
    flac_seg *fs;
} sink;

// A FLAC output is encoded by as many threads as the render may use (flac_seg.h); with the
// output kept in the cache (-O1, the cache on, not --no-output-cache), its encoded segments
// are kept there too, so that a segment an edit left alone is not encoded again.
static bool is_flac(const SF_INFO *info) {
    return (info->format & SF_FORMAT_TYPEMASK) == SF_FORMAT_FLAC;
}

// FLAC's encoder threads: -j's, or one per core.
static int flac_workers(const pg_plan *p) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return p->threads > 0 ? p->threads : cores > 0 ? (int)cores : 1;
}

// The bytes of the encoder's PCM buffer (pcm.h), when it has one.
static size_t packed_bytes(const pg_plan *p, const SF_INFO *info) {
    if (is_flac(info) || !pcm_can_pack(info->format))
        return 0;
    return WRITE_CHUNK * (size_t)(p->channels * pcm_sample_bytes(info->format));
}

// The memory the output holds beside the render's buffers: the encoder's buffers and, for
// FLAC, the segments its workers have in flight.
static size_t output_bytes(const pg_plan *p, const SF_INFO *info, int workers) {
    size_t bytes = (N_BUFS + 1) * sizeof(float) * WRITE_CHUNK * (size_t)p->channels;
    bytes += packed_bytes(p, info);
    return bytes + (is_flac(info) ? flac_seg_bytes(info->channels, workers) : 0);
}

// Under --mem-limit the output's memory counts too: FLAC gets as many encoder threads as
// fit in half the limit (one at least), and the render *q (a copy of p) what the output
// leaves of it.
static pg_status fit_output(const pg_plan *p, const SF_INFO *info, int *workers, pg_plan *q,
                            pg_diag *err) {
    *q = *p;
    if (!p->mem_limit)
        return PG_OK;
    while (*workers > 1 && output_bytes(p, info, *workers) > p->mem_limit / 2)
        --*workers;
    size_t bytes = output_bytes(p, info, *workers);
    if (bytes >= p->mem_limit)
        return set_err(err, PG_ERR_LIMIT,
                       "the output's buffers need %.1f MiB, over the memory limit of %.1f MiB",
                       (double)bytes / 1048576.0, (double)p->mem_limit / 1048576.0);
    q->mem_limit -= bytes;
    return PG_OK;
}

// A render refused by the limit it was given: says that the output took its share first.
static void say_output_share(pg_diag *err, size_t output) {
    size_t len = strlen(err->message);
    snprintf(err->message + len, sizeof err->message - len,
             " (what the limit leaves after the output's buffers, %.1f MiB)",
             (double)output / 1048576.0);
}

static flac_seg *open_flac(int fd, const pg_plan *p, const SF_INFO *info, const pg_write_opts *o,
                           int workers, pg_render *r, pg_diag *err) {
    int sub = info->format & SF_FORMAT_SUBMASK;
    bool keep = p->opt_level > 0 && p->output_chunks && !(p->cache_dir && !p->cache_dir[0]);
    flac_seg_opts fo = { .channels = info->channels,
                         .frame_rate = info->samplerate,
                         .bits = sub == SF_FORMAT_PCM_S8   ? 8
                                 : sub == SF_FORMAT_PCM_16 ? 16
                                                           : 24,
                         .level = o && o->flac_level_set ? o->flac_level : -1,
                         .workers = workers,
                         .cache = keep ? exec_render_cache(r) : NULL };
    return flac_seg_new(fd, &fo, err);
}

static pg_status open_sink(int fd, const pg_plan *p, SF_INFO *info, const pg_write_opts *o,
                           int workers, pg_render *r, const char *path, sink *k, pg_diag *err) {
    *k = (sink){ NULL, NULL };
    if (is_flac(info))
        return (k->fs = open_flac(fd, p, info, o, workers, r, err)) ? PG_OK
               : err                                                ? err->status
                                                                    : PG_ERR_IO;
    if (!(k->sf = sf_open_fd(fd, SFM_WRITE, info, SF_FALSE)))
        return set_err(err, PG_ERR_IO, "cannot write '%s': %s", path, sf_strerror(NULL));
    set_encoding(k->sf, info, o);
    return PG_OK;
}

static pg_status close_sink(sink *k, pg_status st, const char *path, pg_diag *err) {
    flac_seg_free(k->fs);
    if (k->sf && sf_close(k->sf) != 0 && st == PG_OK)
        st = set_err(err, PG_ERR_IO, "closing '%s' failed", path);
    return st;
}

static void encoder_stats(const encoder *e, pg_render_stats *s) {
    s->encode_sec = e->fs ? flac_seg_busy_sec(e->fs) : e->busy_sec;
    s->encode_threads = e->fs ? flac_seg_threads(e->fs) : 1;
    if (e->fs)
        flac_seg_counts(e->fs, &s->encoded_segments, &s->encoded_found);
}

// One render into its output file: a new file (fd) or the old one patched in place (pt),
// and what it holds once written.
typedef struct output {
    const char *path; // as given (for messages)
    int fd;
    patch *pt;
    SF_INFO info;
    const pg_write_opts *o;
    int workers;           // FLAC's encoder threads
    out_record rec;        // per output chunk, when the output is kept in chunks
    double peak;           // PCM: the largest |sample|
    const char *patch_off; // why the file is not patched in place, or NULL
} output;

// The record of what the render wrote (rec's keys; its PCM peaks are the encoder's): a chunk
// from the first NaN or infinity on is not known (the next render must see it again).
static void record_keys(pg_render *r, output *out) {
    pg_render_stats st;
    pg_render_get_stats(r, &st);
    for (int k = 0; k < out->rec.n; k++) {
        bool clean = st.first_nonfinite_frame < 0 ||
                     exec_out_chunk_span(r, k).end <= st.first_nonfinite_frame;
        out->rec.key[k] = clean ? exec_out_chunk_key(r, k) : 0;
    }
}

static void patch_stats(const output *out, pg_render_stats *s) {
    s->patch_off = out->patch_off;
    s->patch_kept = out->pt ? patch_skipped(out->pt) : 0;
    s->patch_written = out->pt ? patch_written(out->pt) : 0;
}

// Renders r (of plan p) into out; frees r.
static pg_status write_all(pg_render *r, const pg_plan *p, output *out, pg_diag *err) {
    const pg_write_opts *o = out->o;
    sink k = { NULL, NULL };
    pg_status st =
        out->pt ? PG_OK : open_sink(out->fd, p, &out->info, o, out->workers, r, out->path, &k, err);
    if (st != PG_OK) {
        pg_render_free(r);
        return st;
    }
    encoder e = { .sf = k.sf,
                  .fs = k.fs,
                  .pt = out->pt,
                  .render = r,
                  .channels = p->channels,
                  .pcm = is_pcm(&out->info),
                  .chunk_peak = out->rec.n ? out->rec.peak : NULL,
                  .format = out->info.format };
    pthread_mutex_init(&e.lock, NULL);
    pthread_cond_init(&e.changed, NULL);
    size_t bytes = sizeof(float) * WRITE_CHUNK * (size_t)p->channels;
    bool made = (e.fetched = malloc(bytes)) != NULL;
    size_t packed = k.sf ? packed_bytes(p, &out->info) : 0;
    if (packed)
        made = (e.packed = malloc(packed)) && made;
    for (int i = 0; i < N_BUFS; i++)
        made = (e.buf[i] = malloc(bytes)) && made;
    if (!made)
        st = set_err(err, PG_ERR_NOMEM, "out of memory");
    pthread_t th;
    bool started = st == PG_OK && pthread_create(&th, NULL, encoder_main, &e) == 0;
    if (st == PG_OK && !started)
        st = set_err(err, PG_ERR_INTERNAL, "cannot start the encoder thread");
    if (started)
        st = render_into(r, &e, p, o, err);
    pthread_mutex_lock(&e.lock);
    e.finished = true;
    pthread_cond_broadcast(&e.changed);
    pthread_mutex_unlock(&e.lock);
    if (started)
        pthread_join(th, NULL);
    if (st == PG_OK && e.render_failed) {
        if (err)
            *err = *pg_render_error(r);
        st = pg_render_error(r)->status;
    } else if (st == PG_OK && e.fs) {
        st = finish_flac(e.fs, out->path, err); // (says why, if a write failed)
    } else if (st == PG_OK && e.failed) {
        st = set_err(err, e.pt ? PG_ERR_NOMEM : PG_ERR_IO, "'%s': cannot write the audio: %s",
                     out->path,
                     e.pt            ? "out of memory"
                     : e.write_errno ? strerror(e.write_errno)
                                     : sf_strerror(e.sf));
    }
    for (int i = 0; i < N_BUFS; i++)
        free(e.buf[i]);
    free(e.fetched);
    free(e.packed);
    pthread_mutex_destroy(&e.lock);
    pthread_cond_destroy(&e.changed);
    if (o && o->stats) {
        pg_render_get_stats(r, o->stats);
        encoder_stats(&e, o->stats);
        patch_stats(out, o->stats);
    }
    if (o && o->node_sec)
        pg_render_node_seconds(r, o->node_sec);
    record_keys(r, out);
    st = close_sink(&k, st, out->path, err); // (before the render's cache closes)
    pg_render_free(r); // (every thread of the render is done: patch_commit holds signals)
    out->peak = e.peak;
    return st;
}

// Copies a finished temporary file to stdout (for "-o -").
// Copies the finished file tmp to the stream path: "-" (stdout), a FIFO or a device.
static pg_status copy_to_stream(const char *tmp, const char *path, pg_diag *err) {
    bool to_stdout = strcmp(path, "-") == 0;
    const char *name = to_stdout ? "stdout" : path;
    FILE *f = fopen(tmp, "rb"), *out = to_stdout ? stdout : fopen(path, "wb");
    pg_status st = PG_OK;
    if (!f || !out)
        st = set_err(err, PG_ERR_IO, "cannot open '%s': %s", f ? name : tmp, strerror(errno));
    char buf[65536];
    size_t n;
    while (st == PG_OK && (n = fread(buf, 1, sizeof buf, f)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            st = set_err(err, PG_ERR_IO, "writing to %s failed: %s", name, strerror(errno));
    if (f)
        fclose(f);
    if (out && (to_stdout ? fflush(out) : fclose(out)) != 0 && st == PG_OK)
        st = set_err(err, PG_ERR_IO, "writing to %s failed: %s", name, strerror(errno));
    return st;
}

// Where the output goes, found before anything is written.
typedef struct target {
    char path[PATH_MAX]; // the file renamed into place (a link's target), or the stream
    bool stream; // stdout ("-"), a FIFO or a device: rendered into a temporary file in TMPDIR,
                 // then copied (a WAV file's header is complete only at its end)
} target;

// The file the link at path points at, which does not exist (yet), into out; 0 or -1.
static int dangling_target(const char *path, char *out, size_t size) {
    char to[PATH_MAX];
    ssize_t n = readlink(path, to, sizeof to - 1);
    if (n < 0)
        return -1;
    to[n] = '\0';
    const char *slash = strrchr(path, '/');
    int dir = to[0] != '/' && slash ? (int)(slash - path + 1) : 0; // relative to the link
    n = snprintf(out, size, "%.*s%s", dir, path, to);
    return n > 0 && (size_t)n < size ? 0 : (errno = ENAMETOOLONG, -1);
}

int aio_follow_link(const char *path, char *out, size_t size) {
    struct stat st;
    char real[PATH_MAX];
    bool link = lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
    if (link && realpath(path, real))
        path = real;
    else if (link)
        return errno == ENOENT ? dangling_target(path, out, size) : -1;
    int n = snprintf(out, size, "%s", path);
    return n >= 0 && (size_t)n < size ? 0 : (errno = ENAMETOOLONG, -1);
}

// A symbolic link is followed, so that the finished file replaces (or becomes) the file it
// points at, not the link; a FIFO or a device (a player reading a pipe) is written into, not
// replaced; a folder is an error now, not after the render.
static pg_status resolve_target(const char *path, target *t, pg_diag *err) {
    t->stream = strcmp(path, "-") == 0;
    snprintf(t->path, sizeof t->path, "%s", path);
    struct stat st;
    if (t->stream)
        return PG_OK;
    if (aio_follow_link(path, t->path, sizeof t->path) != 0)
        return set_err(err, PG_ERR_IO, "cannot follow the link '%s': %s", path, strerror(errno));
    if (stat(t->path, &st) != 0)
        return PG_OK; // a new file (or a link to one)
    if (S_ISDIR(st.st_mode))
        return set_err(err, PG_ERR_IO, "cannot write '%s': it is a folder", path);
    t->stream = !S_ISREG(st.st_mode);
    return PG_OK;
}

static int sample_bytes(const SF_INFO *info) {
    switch (info->format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_16:
        return 2;
    case SF_FORMAT_PCM_24:
        return 3;
    case SF_FORMAT_DOUBLE:
        return 8;
    default:
        return 4;
    }
}

#define COMPRESSED_RESERVE_MAX ((off_t)1 << 30)

// ext4 writes a file that replaces another by rename out to disk inside rename() when its
// blocks are not allocated yet (auto_da_alloc): 40-60 ms for a 3-minute stereo float WAV
// here, more than writing it took, and 10 ms for a minute of FLAC. Blocks reserved up front
// (keeping the file's size) avoid that: the exact size of an uncompressed format, the PCM
// size as a bound for a compressed one (trim_space gives back what it did not use). Linux
// only; a hint: failures are ignored. Returns the bytes reserved.
static off_t reserve_space(int fd, const pg_plan *p, const SF_INFO *info) {
#ifdef FALLOC_FL_KEEP_SIZE
    if (p->until_silence)
        return 0;
    int major = info->format & SF_FORMAT_TYPEMASK;
    bool compressed = major == SF_FORMAT_FLAC || major == SF_FORMAT_OGG || major == SF_FORMAT_MPEG;
    off_t bytes = (off_t)(p->window.end - p->window.start) * p->channels * sample_bytes(info);
    if (compressed) { // FLAC's worst case (verbatim frames) is PCM plus its frame headers
        bytes += bytes / 64 + 65536;
        // more would hold disk space that others may want for as long as the render runs
        bytes = bytes < COMPRESSED_RESERVE_MAX ? bytes : COMPRESSED_RESERVE_MAX;
    }
    return fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, bytes) == 0 ? bytes : 0;
#else
    (void)fd;
    (void)p;
    (void)info;
    return 0;
#endif
}

// Frees the reserved blocks past the end of the finished file: truncating a file to its own
// size drops its blocks beyond the end (ext4 ignores a hole punched there).
static void trim_space(int fd, off_t reserved) {
    struct stat st;
    if (reserved > 0 && fstat(fd, &st) == 0 && st.st_size < reserved)
        (void)ftruncate(fd, st.st_size);
}

int aio_make_temp(const char *path, char *tmp, size_t size) {
    const char *slash = strrchr(path, '/');
    int dir_len = slash ? (int)(slash - path + 1) : 0;
    int n = snprintf(tmp, size, "%.*s.%s.pygmuc-XXXXXX", dir_len, path, slash ? slash + 1 : path);
    if (n < 0 || (size_t)n >= size)
        return -1;
    return mkstemp(tmp);
}

// The process's umask, read without changing it: umask() only reads it by setting it, and a
// file another thread made meanwhile (a WavWriterPE's, on a worker) would get the wrong mode.
// Where Linux does not report it (before 4.7), 077: a file kept private rather than opened
// wider than the user asked.
static mode_t current_umask(void) {
    FILE *f = fopen("/proc/self/status", "r");
    unsigned mask = 077;
    char line[256];
    while (f && fgets(line, sizeof line, f) && sscanf(line, "Umask: %o", &mask) != 1)
        continue;
    if (f)
        fclose(f);
    return (mode_t)mask;
}

void aio_set_final_mode(int fd, const char *path) {
    struct stat st;
    fchmod(fd, stat(path, &st) == 0 ? st.st_mode & 07777 : 0666 & ~current_umask());
}

bool aio_same_file(const char *a, const char *b) {
    const char *sa = strrchr(a, '/'), *sb = strrchr(b, '/');
    const char *na = sa ? sa + 1 : a, *nb = sb ? sb + 1 : b;
    if (strcmp(na, nb) != 0)
        return false;
    char da[4096], db[4096];
    snprintf(da, sizeof da, "%.*s", sa ? (int)(sa - a + 1) : 1, sa ? a : ".");
    snprintf(db, sizeof db, "%.*s", sb ? (int)(sb - b + 1) : 1, sb ? b : ".");
    struct stat x, y;
    return stat(da, &x) == 0 && stat(db, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

// The file node n names through a parameter with flag (PE_P_OUTPUT: a file it writes beside
// the render's output, a WavWriterPE's stem, when the render runs it; PE_P_FILE: a file it
// reads), else NULL.
static const char *file_arg(const plan_node *n, unsigned flag) {
    bool runs = !pg_extent_is_empty(n->need);
    for (int k = 0; (runs || flag != PE_P_OUTPUT) && n->pn.kind->params[k].name; k++)
        if ((n->pn.kind->params[k].flags & flag) && n->pn.args[k].type == PG_V_STR)
            return n->pn.args[k].u.str;
    return NULL;
}

int aio_reader_of(const pg_plan *p, const char *file) {
    for (int j = 0; j < p->n_nodes; j++) {
        const char *in = file_arg(&p->nodes[j], PE_P_FILE);
        if (in && aio_same_file(in, file))
            return j;
    }
    return -1;
}

// A file the render writes (its output, a node's side output) must be no other written file
// and no file the piece reads, or one write would silently replace the other, or a sample
// with a render. The error points at the node.
static pg_status check_outputs(const pg_plan *p, const char *path, pg_diag *err) {
    bool to_file = strcmp(path, "-") != 0;
    int r = to_file ? aio_reader_of(p, path) : -1;
    if (r >= 0) {
        set_err(err, PG_ERR_IO, "the output '%s' is a sound file the piece reads (%s)", path,
                p->nodes[r].pn.kind->name);
        if (err)
            err->loc = p->nodes[r].loc;
        return PG_ERR_IO;
    }
    for (int i = 0; i < p->n_nodes; i++) {
        const plan_node *n = &p->nodes[i];
        const char *file = file_arg(n, PE_P_OUTPUT), *other = NULL;
        pg_status st = PG_OK;
        if (file && to_file && aio_same_file(file, path))
            st = set_err(err, PG_ERR_IO, "%s writes '%s', the render's output file",
                         n->pn.kind->name, file);
        if (file && st == PG_OK && (r = aio_reader_of(p, file)) >= 0)
            st = set_err(err, PG_ERR_IO, "%s writes '%s', which the %s at line %d reads",
                         n->pn.kind->name, file, p->nodes[r].pn.kind->name, p->nodes[r].loc.line);
        for (int j = 0; file && st == PG_OK && j < i; j++)
            if ((other = file_arg(&p->nodes[j], PE_P_OUTPUT)) && aio_same_file(file, other))
                st = set_err(err, PG_ERR_IO, "%s writes '%s', as the %s at line %d does",
                             n->pn.kind->name, file, p->nodes[j].pn.kind->name,
                             p->nodes[j].loc.line);
        if (st != PG_OK) {
            if (err)
                err->loc = n->loc;
            return st;
        }
    }
    return PG_OK;
}

// The checks made before anything is written: the format, the FLAC level, the target, the
// files the render writes.
static pg_status check_request(const pg_plan *p, const char *path, const pg_write_opts *o,
                               SF_INFO *info, target *t, pg_diag *err) {
    info->samplerate = p->frame_rate;
    info->channels = p->channels;
    bool to_stdout = strcmp(path, "-") == 0;
    pg_status st = pick_format(to_stdout ? "stdout.wav" : path, o ? o->subtype : 0, info, err);
    if (st != PG_OK)
        return st;
    if (o && o->flac_level_set && (info->format & SF_FORMAT_TYPEMASK) != SF_FORMAT_FLAC)
        return set_err(err, PG_ERR_IO, "a FLAC compression level, but '%s' is not a FLAC file",
                       path);
    if (o && o->flac_level_set && (o->flac_level < 0 || o->flac_level > 8))
        return set_err(err, PG_ERR_IO, "FLAC compression level %d is not 0 to 8", o->flac_level);
    if ((st = resolve_target(path, t, err)) != PG_OK)
        return st;
    return check_outputs(p, to_stdout ? path : t->path, err);
}

// The temporary file the render writes: beside the target, or in TMPDIR for a stream.
static int open_temp(const target *t, char *tmp, size_t size) {
    const char *tdir = getenv("TMPDIR");
    char tpath[4096];
    snprintf(tpath, sizeof tpath, "%s/stream.wav", tdir && *tdir ? tdir : "/tmp");
    int fd = aio_make_temp(t->stream ? tpath : t->path, tmp, size);
    if (fd >= 0 && !t->stream)
        aio_set_final_mode(fd, t->path);
    return fd;
}

// Renders r into a new file, renamed over the old one (or copied into a stream), and records
// what the file holds; frees r.
static pg_status write_new(pg_render *r, const pg_plan *p, const target *t, output *out,
                           pg_diag *err) {
    char tmp[4096];
    int fd = open_temp(t, tmp, sizeof tmp);
    if (fd < 0) {
        pg_render_free(r);
        return set_err(err, PG_ERR_IO, "cannot create a file beside '%s': %s", out->path,
                       strerror(errno));
    }
    off_t reserved = t->stream ? 0 : reserve_space(fd, p, &out->info);
    out->fd = fd;
    pg_status st = write_all(r, p, out, err);
    trim_space(fd, reserved);
    // (the record is of the file renamed into place, as fstat sees it after the rename)
    int kept = st == PG_OK && !t->stream && out->rec.n ? dup(fd) : -1;
    if (close(fd) != 0 && st == PG_OK)
        st = set_err(err, PG_ERR_IO, "closing '%s' failed: %s", out->path, strerror(errno));
    if (st == PG_OK && t->stream)
        st = copy_to_stream(tmp, t->path, err);
    else if (st == PG_OK && rename(tmp, t->path) != 0)
        st = set_err(err, PG_ERR_IO, "cannot rename the finished file to '%s': %s", out->path,
                     strerror(errno));
    if (st == PG_OK && kept >= 0)
        patch_remember(kept, p, out->info.format, out->info.channels, &out->rec);
    if (kept >= 0)
        close(kept);
    if (st != PG_OK || t->stream)
        unlink(tmp);
    return st;
}

// Renders r into the old file, patched in place where it changed; frees r.
static pg_status write_patched(pg_render *r, const pg_plan *p, output *out, pg_diag *err) {
    pg_status st = write_all(r, p, out, err);
    patch *pt = out->pt;
    out->pt = NULL;
    if (st != PG_OK) {
        patch_free(pt); // (the file as it was)
        return st;
    }
    st = patch_commit(pt, &out->rec, out->path, err);
    for (int k = 0; k < out->rec.n; k++) // (the chunks it held: their peaks from its record)
        out->peak = (double)out->rec.peak[k] > out->peak ? (double)out->rec.peak[k] : out->peak;
    return st;
}

pg_status pg_render_to_file(const pg_plan *p, const char *path, const pg_write_opts *o,
                            double *peak, pg_diag *err) {
    output out = { .path = path, .fd = -1, .o = o };
    target t;
    pg_status st = check_request(p, path, o, &out.info, &t, err);
    if (st != PG_OK)
        return st;
    pg_plan fitted; // (the render keeps a pointer to it)
    out.workers = flac_workers(p);
    if ((st = fit_output(p, &out.info, &out.workers, &fitted, err)) != PG_OK)
        return st;
    pg_render *r = pg_render_new(&fitted, err);
    if (!r && err && err->status == PG_ERR_LIMIT)
        say_output_share(err, p->mem_limit - fitted.mem_limit);
    if (!r)
        return err ? err->status : PG_ERR_INTERNAL;
    int chunks = exec_out_chunks(r);
    if (chunks > 0 && !out_record_init(&out.rec, chunks))
        out.rec.n = 0; // (out of memory: nothing recorded, so nothing patched next time)
    out.patch_off = t.stream ? "not a file" : o && o->no_patch ? "--no-patch" : NULL;
    if (!out.patch_off)
        out.pt = patch_open(t.path, &fitted, out.info.format, out.info.channels, r, &out.patch_off);
    st = out.pt ? write_patched(r, &fitted, &out, err) : write_new(r, &fitted, &t, &out, err);
    if (peak)
        *peak = out.peak;
    out_record_free(&out.rec);
    return st;
}

// ---- reading and comparing ---------------------------------------------------------------

float *aio_read_file(const char *path, int *channels, int *rate, int64_t *frames, pg_diag *err) {
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf) {
        set_err(err, PG_ERR_FILE, "cannot open sound file '%s': %s", path, sf_strerror(NULL));
        return NULL;
    }
    size_t n = (size_t)info.frames * (size_t)info.channels;
    float *d = malloc(sizeof(float) * (n ? n : 1));
    sf_count_t got = d ? sf_readf_float(sf, d, info.frames) : 0;
    sf_close(sf);
    if (!d || got != info.frames) {
        free(d);
        set_err(err, d ? PG_ERR_FILE : PG_ERR_NOMEM, "cannot read sound file '%s'%s", path,
                d ? ": short read" : ": out of memory");
        return NULL;
    }
    *channels = info.channels;
    *rate = info.samplerate;
    *frames = info.frames;
    return d;
}

// How far apart two samples are: 0 when equal (infinities of one sign, and NaN against NaN,
// included); a NaN against anything else is infinitely far (fabs(x - NaN) is NaN, which no
// "greater than" admits, so a render full of NaNs compared equal to anything).
static double sample_diff(double x, double y) {
    if (x == y || (isnan(x) && isnan(y)))
        return 0.0;
    double d = fabs(x - y);
    return isnan(d) ? (double)INFINITY : d;
}

void aio_diff(const float *a, int64_t na, const float *b, int64_t nb, int ch, double *peak_dbfs,
              double *snr_db) {
    int64_t n = na > nb ? na : nb;
    double peak = 0.0, sig = 0.0, noise = 0.0;
    for (int64_t i = 0; i < n * ch; i++) {
        double x = i < na * ch ? (double)a[i] : 0.0, y = i < nb * ch ? (double)b[i] : 0.0;
        double d = sample_diff(x, y);
        peak = d > peak ? d : peak;
        sig += isfinite(x) ? x * x : 0.0;
        noise += d * d;
    }
    *peak_dbfs = peak > 0.0 ? 20.0 * log10(peak) : -(double)INFINITY;
    *snr_db = noise > 0.0 && sig > 0.0 ? 10.0 * log10(sig / noise) : (double)INFINITY;
}

pg_status pg_compare_files(const char *a, const char *b, pg_compare_result *res, pg_diag *err) {
    memset(res, 0, sizeof *res);
    float *da = aio_read_file(a, &res->channels_a, &res->rate_a, &res->frames_a, err);
    if (!da)
        return PG_ERR_FILE;
    float *db = aio_read_file(b, &res->channels_b, &res->rate_b, &res->frames_b, err);
    if (!db) {
        free(da);
        return PG_ERR_FILE;
    }
    if (res->channels_a == res->channels_b)
        aio_diff(da, res->frames_a, db, res->frames_b, res->channels_a, &res->peak_diff_dbfs,
                 &res->snr_db);
    else
        res->peak_diff_dbfs = res->snr_db = (double)NAN;
    free(da);
    free(db);
    return PG_OK;
}
