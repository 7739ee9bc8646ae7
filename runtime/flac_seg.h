// flac_seg.h: a FLAC file encoded by several threads at once. libFLAC's encoder is the
// slowest stage of a FLAC render (one core: ~300x realtime for 24-bit stereo here), and
// FLAC frames do not depend on one another, so the audio is cut into segments a whole
// number of blocks long, each encoded by libsndfile into memory on a worker thread, and the
// segments' frames are joined into one stream: renumbered, their checksums remade, the
// stream's header (sizes, length, MD5 of the samples) completed at the end. The file is the
// bytes one libsndfile stream would write from the same samples (tests/runtime/test_flac.c).
#ifndef PG_RUNTIME_FLAC_SEG_H
#define PG_RUNTIME_FLAC_SEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pygmu.h"

// A multiple of both block sizes libFLAC uses (1152 frames at levels 0-2, 4096 at 3-8), so
// that every segment but the last ends on a whole block, as FLAC requires of every frame but
// the stream's last.
#define FLAC_SEG_ALIGN 36864
// 3.1 s at 48 kHz: long enough that libsndfile's set-up per segment is lost in the noise,
// short enough that a minute of audio keeps two encoders busy from its first seconds.
#define FLAC_SEG_FRAMES (4 * FLAC_SEG_ALIGN)

typedef struct flac_seg_opts {
    int channels;
    int frame_rate;
    int bits;            // bits per sample: 8, 16 or 24
    int level;           // compression 0-8, or -1 for libsndfile's default (5)
    int workers;         // encoder threads, >= 1 (the bytes do not depend on it)
    int64_t seg_frames;  // 0: FLAC_SEG_FRAMES; else a positive multiple of FLAC_SEG_ALIGN
    struct cache *cache; // when not NULL, encoded segments are kept there, keyed by their
                         // samples, and a segment found there is not encoded again
} flac_seg_opts;

typedef struct flac_seg flac_seg;

// A writer of one FLAC stream into fd, an empty file open for writing at offset 0 (the
// header is completed with pwrite at the end); NULL with *err set.
flac_seg *flac_seg_new(int fd, const flac_seg_opts *o, pg_diag *err);
// Appends frames of interleaved floats (full scale +-1.0, clipped; a NaN is written as 0).
// False once the output has failed (flac_seg_finish says why).
bool flac_seg_write(flac_seg *w, const float *src, int64_t frames);
// Encodes what is left, writes it and completes the stream's header.
pg_status flac_seg_finish(flac_seg *w, pg_diag *err);
// Stops the workers (an unfinished stream is abandoned) and frees w; NULL is ignored.
void flac_seg_free(flac_seg *w);
// Seconds spent encoding and writing, summed over every thread.
double flac_seg_busy_sec(flac_seg *w);
// The most memory a writer with that many workers holds at once (its segments in flight,
// their samples as floats and integers and their encoding), for --mem-limit.
size_t flac_seg_bytes(int channels, int workers);
// The encoder threads (the workers and the caller's).
int flac_seg_threads(flac_seg *w);
// The segments written so far, and of those the ones found in the cache (-1: no cache).
void flac_seg_counts(flac_seg *w, int *segments, int *found);

#endif // PG_RUNTIME_FLAC_SEG_H
