// aio.h: audio-file helpers shared inside the runtime (libsndfile).
#ifndef PG_RUNTIME_AIO_H
#define PG_RUNTIME_AIO_H

#include <stdint.h>

#include "pygmu.h"

// Reads a whole sound file as interleaved floats (libsndfile's scaling). Returns malloc'd
// memory the caller frees, or NULL with *err filled (PG_ERR_FILE / PG_ERR_NOMEM).
float *aio_read_file(const char *path, int *channels, int *rate, int64_t *frames, pg_diag *err);

// Makes a temporary file "<dir>/.<name>.pygmuc-XXXXXX" beside path (so that renaming it over
// path is atomic: one file system) into tmp; its descriptor, or -1 (tmp too small, or mkstemp
// failed: errno).
int aio_make_temp(const char *path, char *tmp, size_t size);

// mkstemp makes a file 0600; a finished output gets the mode a new file would have (0666
// less the umask), or that of the file it replaces.
void aio_set_final_mode(int fd, const char *path);

// ASCII case-insensitive strcmp (for file extensions).
int aio_strcasecmp(const char *a, const char *b);
// Whether two paths name the same file: the same name in the same folder, the folders
// compared by identity (so "out.wav", "./out.wav" and its absolute path agree). A folder that
// does not exist holds nothing to collide with.
bool aio_same_file(const char *a, const char *b);
// The file a write to path should replace: path, or the file the symbolic link at path points
// at (which may not exist yet), into out; 0, or -1 with errno set.
int aio_follow_link(const char *path, char *out, size_t size);
// The node of p that reads file path (a sound file of the piece: a PE_P_FILE argument), or -1.
int aio_reader_of(const pg_plan *p, const char *path);
// The peak difference (dBFS) and the SNR (dB) of b against a, interleaved, ch channels; the
// shorter one counts as silence past its end, and a NaN against a number as an infinite
// difference.
void aio_diff(const float *a, int64_t na, const float *b, int64_t nb, int ch, double *peak_dbfs,
              double *snr_db);

#endif // PG_RUNTIME_AIO_H
