// patch.h: an output file rewritten in place where a render changed it (see patch.c).
#ifndef PG_RUNTIME_PATCH_H
#define PG_RUNTIME_PATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "plan.h"
#include "pygmu.h"

// What a render wrote over each of the output's chunks (exec_out_chunks): a key of its
// frames (exec_out_chunk_key; 0: not known) and, for a PCM output, its largest |sample|
// (the clipping warning's), else 0.
typedef struct out_record {
    int n;
    uint64_t *key;
    float *peak;
} out_record;

// n chunks of nothing known; false when out of memory.
bool out_record_init(out_record *rec, int n);
void out_record_free(out_record *rec);

typedef struct patch patch;

// The output file at path opened (and locked) for patching, when render r of plan p, into
// libsndfile format `format`, can be written into it in place: the file is one a render of
// this build wrote (its record in the cache matches its inode, size and times, and it has no
// other link) in the same format, channels and window, and the chunks r must write are a
// small part of it. Else NULL, and *why says why not (a static string, for --explain).
patch *patch_open(const char *path, const pg_plan *p, int format, int channels, pg_render *r,
                  const char **why);
// Passes over the chunk at r's cursor when the file holds its frames already: returns their
// count (the cursor moves on), else 0.
int64_t patch_skip(patch *pt, pg_render *r);
// Keeps output frames [at, at + n) (interleaved floats) to be written at their place in
// the file, converted; false when out of memory.
bool patch_add(patch *pt, pg_frame at, const float *src, int64_t n);
// The chunks patch_skip passed over and patch_add wrote.
int patch_skipped(const patch *pt);
int patch_written(const patch *pt);
// Writes what patch_add kept into the file, the stop signals held meanwhile (a Ctrl-C
// never leaves half of it: it acts once the file is whole), and the file's new record: rec,
// whose skipped chunks take the peaks the file's record gave them. A write that fails puts
// back the bytes it replaced. Frees pt.
pg_status patch_commit(patch *pt, out_record *rec, const char *path, pg_diag *err);
// Gives the file up unwritten.
void patch_free(patch *pt);
// Records what a new output file holds (rec), fd being open on it once renamed into place,
// so that a later render may patch it; nothing when its format is not one patched.
void patch_remember(int fd, const pg_plan *p, int format, int channels, const out_record *rec);

#endif // PG_RUNTIME_PATCH_H
