// bufpool.c: memory for a render's materialised buffers. A render makes hundreds or
// thousands of buffers and frees most of them again behind the stream; from malloc each
// large one is a fresh mapping whose every 4 KiB page faults in and is zeroed when first
// written (piece_RD03: 15,600 faults, a quarter of its render). The pool reserves one range
// of address space advised to use transparent huge pages, so a page fault makes 2 MiB, and
// a freed block is reused by the next buffer with its pages already there.
//
// Blocks are whole pages, handed out first-fit from a list of free extents kept in address
// order and merged with their neighbours when freed; the list is short (it holds the gaps
// between live buffers), so a linear search is fine. Memory given back stays with the
// process until the pool is deleted at the end of the render.
#define _DEFAULT_SOURCE // MAP_NORESERVE, MADV_HUGEPAGE
#include "bufpool.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum {
    PAGE = 4096
};

typedef struct extent {
    size_t start, size; // offsets from the base, in bytes
} extent;

struct bufpool {
    char *base;
    size_t reserve;
    pthread_mutex_t lock;
    extent *free; // address order, never adjacent (merged)
    int n_free, cap_free;
    size_t in_use, high_water;
};

bufpool *bufpool_new(size_t reserve) {
    reserve = reserve / PAGE * PAGE;
    bufpool *bp = calloc(1, sizeof *bp);
    if (!bp || reserve == 0) {
        free(bp);
        return NULL;
    }
    void *base = mmap(NULL, reserve, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    bp->free = malloc(sizeof *bp->free * 16);
    if (base == MAP_FAILED || !bp->free) {
        if (base != MAP_FAILED)
            munmap(base, reserve);
        free(bp->free);
        free(bp);
        return NULL;
    }
#ifdef MADV_HUGEPAGE
    (void)madvise(base, reserve, MADV_HUGEPAGE); // a hint: without it, 4 KiB pages
#endif
    bp->base = base;
    bp->reserve = reserve;
    bp->free[0] = (extent){ 0, reserve };
    bp->n_free = 1;
    bp->cap_free = 16;
    pthread_mutex_init(&bp->lock, NULL);
    return bp;
}

void bufpool_delete(bufpool *bp) {
    if (!bp)
        return;
    munmap(bp->base, bp->reserve);
    pthread_mutex_destroy(&bp->lock);
    free(bp->free);
    free(bp);
}

static size_t pages(size_t bytes) {
    return bytes == 0 ? PAGE : (bytes + PAGE - 1) / PAGE * PAGE;
}

void *bufpool_alloc(bufpool *bp, size_t bytes) {
    if (!bp || bytes > bp->reserve)
        return NULL;
    size_t need = pages(bytes);
    void *p = NULL;
    pthread_mutex_lock(&bp->lock);
    for (int i = 0; i < bp->n_free; i++) {
        extent *e = &bp->free[i];
        if (e->size < need)
            continue;
        p = bp->base + e->start;
        e->start += need;
        e->size -= need;
        if (e->size == 0) {
            memmove(e, e + 1, sizeof *e * (size_t)(bp->n_free - i - 1));
            bp->n_free--;
        }
        bp->in_use += need;
        size_t end = (size_t)((char *)p - bp->base) + need;
        bp->high_water = end > bp->high_water ? end : bp->high_water;
        break;
    }
    pthread_mutex_unlock(&bp->lock);
    return p;
}

// Under the lock: room for one more free extent.
static bool grow_free_list(bufpool *bp) {
    if (bp->n_free < bp->cap_free)
        return true;
    extent *f = realloc(bp->free, sizeof *f * (size_t)bp->cap_free * 2);
    if (!f)
        return false;
    bp->free = f;
    bp->cap_free *= 2;
    return true;
}

// Under the lock: [start, start + size) is free again; merges it with its neighbours.
static void insert_free(bufpool *bp, size_t start, size_t size) {
    int i = 0; // the first free extent after the block
    while (i < bp->n_free && bp->free[i].start < start)
        i++;
    bool joins_prev = i > 0 && bp->free[i - 1].start + bp->free[i - 1].size == start;
    bool joins_next = i < bp->n_free && start + size == bp->free[i].start;
    if (joins_prev && joins_next) {
        bp->free[i - 1].size += size + bp->free[i].size;
        memmove(&bp->free[i], &bp->free[i + 1], sizeof(extent) * (size_t)(bp->n_free - i - 1));
        bp->n_free--;
    } else if (joins_prev) {
        bp->free[i - 1].size += size;
    } else if (joins_next) {
        bp->free[i].start = start;
        bp->free[i].size += size;
    } else if (grow_free_list(bp)) {
        memmove(&bp->free[i + 1], &bp->free[i], sizeof(extent) * (size_t)(bp->n_free - i));
        bp->free[i] = (extent){ start, size };
        bp->n_free++;
    } // else: out of memory for the list; the block is lost to this render, not reused
}

void bufpool_free(bufpool *bp, void *p, size_t bytes) {
    if (!bp || !p)
        return;
    size_t size = pages(bytes);
    pthread_mutex_lock(&bp->lock);
    insert_free(bp, (size_t)((char *)p - bp->base), size);
    bp->in_use -= size;
    pthread_mutex_unlock(&bp->lock);
}

bool bufpool_owns(const bufpool *bp, const void *p) {
    if (!bp || !p)
        return false;
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)bp->base;
    return a >= b && a < b + bp->reserve;
}

size_t bufpool_in_use(bufpool *bp) {
    pthread_mutex_lock(&bp->lock);
    size_t n = bp->in_use;
    pthread_mutex_unlock(&bp->lock);
    return n;
}

size_t bufpool_high_water(bufpool *bp) {
    pthread_mutex_lock(&bp->lock);
    size_t n = bp->high_water;
    pthread_mutex_unlock(&bp->lock);
    return n;
}
