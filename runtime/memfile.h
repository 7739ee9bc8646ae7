// memfile.h: a file in memory that libsndfile writes and reads through sf_open_virtual
// (&memfile_io, ..., &a_memfile): it grows as written; a seek past its end and a write
// there leave zeros between, as a file would. Zero it to start; free(p) when done.
#ifndef PG_RUNTIME_MEMFILE_H
#define PG_RUNTIME_MEMFILE_H

#include <sndfile.h>
#include <stdbool.h>

typedef struct memfile {
    unsigned char *p;
    sf_count_t len, cap, pos;
    bool nomem; // a write failed for want of memory
} memfile;

extern SF_VIRTUAL_IO memfile_io;

#endif // PG_RUNTIME_MEMFILE_H
