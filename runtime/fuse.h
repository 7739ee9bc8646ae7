// fuse.h: the interval index of linear nodes with many inputs (see fuse.c). The fused
// evaluation itself is in exec.c, next to the pulls it is made of.
#ifndef PG_RUNTIME_FUSE_H
#define PG_RUNTIME_FUSE_H

#include "pe.h"

typedef struct fuse_index fuse_index;

// An index of n's input slots by extent, or NULL when n has too few inputs to need one.
fuse_index *fuse_index_new(const pe_node *n);
void fuse_index_free(fuse_index *x);
// At most how many slots fuse_index_query can return for [t0, t1).
int fuse_index_bound(const fuse_index *x, pg_frame t0, pg_frame t1);
// Writes the input slots whose extent may overlap [t0, t1) to out, sorted and unique;
// returns their count.
int fuse_index_query(const fuse_index *x, pg_frame t0, pg_frame t1, int *out);

#endif // PG_RUNTIME_FUSE_H
