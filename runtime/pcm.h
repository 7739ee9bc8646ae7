// pcm.h: 16- and 24-bit PCM output bytes made by pygmuc, bit for bit what libsndfile makes
// of the same floats (with clipping on), so that the writer hands libsndfile raw bytes
// (sf_write_raw) instead of floats it converts one branch and one lrintf call at a time.
#ifndef PG_RUNTIME_PCM_H
#define PG_RUNTIME_PCM_H

#include <stdbool.h>
#include <stdint.h>

// Whether pcm_pack makes the data bytes of libsndfile format `format` (SF_FORMAT_*): WAV,
// WAVEX, W64, RF64 or AIFF of PCM_16 or PCM_24, and the installed libsndfile's conversion
// is the one pcm_pack follows (checked once per process on probe samples written through
// libsndfile itself: its conversion has changed between versions). Not thread-safe on the
// first call.
bool pcm_can_pack(int format);

// The data bytes of n samples src (interleaved) in format `format`, which pcm_can_pack
// accepted, into dst (n * 2 or n * 3 bytes). Returns the bytes written.
int64_t pcm_pack(const float *src, int64_t n, int format, unsigned char *dst);

// The bytes a sample takes in format `format` (2 or 3 for what pcm_can_pack accepts).
int pcm_sample_bytes(int format);

#endif // PG_RUNTIME_PCM_H
