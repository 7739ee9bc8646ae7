// aio.h: audio-file helpers shared inside the runtime (libsndfile).
#ifndef PG_RUNTIME_AIO_H
#define PG_RUNTIME_AIO_H

#include <stdint.h>

#include "pygmu.h"

// Reads a whole sound file as interleaved floats (libsndfile's scaling). Returns malloc'd
// memory the caller frees, or NULL with *err filled (PG_ERR_FILE / PG_ERR_NOMEM).
float *aio_read_file(const char *path, int *channels, int *rate, int64_t *frames, pg_diag *err);

// ASCII case-insensitive strcmp (for file extensions).
int aio_strcasecmp(const char *a, const char *b);

#endif // PG_RUNTIME_AIO_H
