// bufpool.h: memory for a render's materialised buffers (see bufpool.c).
#ifndef PG_RUNTIME_BUFPOOL_H
#define PG_RUNTIME_BUFPOOL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct bufpool bufpool;

// A pool over `reserve` bytes of address space (pages are only made when written), or NULL
// when there is none to be had: callers then use malloc.
bufpool *bufpool_new(size_t reserve);
void bufpool_delete(bufpool *bp);

// A page-aligned block of at least `bytes`, or NULL when the pool has no room (the caller
// falls back to malloc). Thread-safe.
void *bufpool_alloc(bufpool *bp, size_t bytes);
// Gives back a block of bufpool_alloc(bp, bytes). Thread-safe.
void bufpool_free(bufpool *bp, void *p, size_t bytes);
bool bufpool_owns(const bufpool *bp, const void *p);

// Bytes of the pool in use now, and the most ever in use plus what lies between (the high
// water mark of its address space: what it may hold in memory at most).
size_t bufpool_in_use(bufpool *bp);
size_t bufpool_high_water(bufpool *bp);

#endif // PG_RUNTIME_BUFPOOL_H
