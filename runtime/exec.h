// exec.h: the block executor's internals shared with the audio writer (aio.c). The public
// render API (pg_render_*) is in pygmu.h; pe_pull / pe_scratch / pe_error are in pe.h.
#ifndef PG_RUNTIME_EXEC_H
#define PG_RUNTIME_EXEC_H

#include "pe.h"
#include "pygmu.h"

// Monotonic seconds, for timing.
double exec_now_sec(void);
// The largest |x[i]| as bits (sign cleared): for finite floats their order is the order of
// the values, an integer maximum compilers vectorise (a float one they may not, for NaN's
// sake). EXEC_NONFINITE_BITS or more: a NaN or an infinity is among them.
uint32_t exec_max_abs_bits(const float *x, int64_t n);
#define EXEC_NONFINITE_BITS 0x7f800000u
// The first frame the next pg_render_next call renders.
pg_frame exec_render_cursor(const pg_render *r);
// The render's cache (opened now if no node needed it), or NULL when it is off or unusable;
// it stays open until pg_render_free.
struct cache *exec_render_cache(pg_render *r);

// When the next frames of the window are in an output chunk found in the cache, the stream
// passes over them without reading them: returns their count n > 0 (to the chunk's end at
// most; the cursor moves on), and exec_fetch_found(r, t0, n, out), with t0 the cursor
// before the call, copies them later on any thread (the writer's, which then writes them
// from its own cache). 0: the next frames are not found (pg_render_next renders them) or
// the window is done.
int64_t exec_pass_found(pg_render *r, int64_t max_frames);
// Copies found frames [t0, t0 + n) that exec_pass_found passed over to out (checked as they
// are read); -1 on error (pg_render_error).
int exec_fetch_found(pg_render *r, pg_frame t0, int64_t n, float *out);

// The output's chunks, for a file patched in place (patch.h): their count (0 when the
// output is not kept in chunks), chunk k's frames, and the chunk frame t is in.
int exec_out_chunks(const pg_render *r);
pg_extent exec_out_chunk_span(const pg_render *r, int k);
int exec_out_chunk_at(const pg_render *r, pg_frame t);
// What chunk k's output frames are: a key (not 0) of them, or 0 when that is not known (a
// master fade's edge runs over them; under a master filter, until the filter made or found
// them).
uint64_t exec_out_chunk_key(const pg_render *r, int k);
// Whether chunk k was found in the cache and is copied out as found (scaled by a master
// gain at most): the stream need not render it.
bool exec_out_chunk_found(const pg_render *r, int k);
// When the cursor is at the start of a chunk exec_out_chunk_found: passes over it without
// reading it (nor is it ever fetched) and returns its frames; else 0.
int64_t exec_skip_found(pg_render *r);
// The frames from the cursor to the end of its chunk (the rest of the window when the
// output is not kept in chunks).
int64_t exec_render_chunk_left(const pg_render *r);

#endif // PG_RUNTIME_EXEC_H
