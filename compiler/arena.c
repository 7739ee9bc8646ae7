// arena.c: bump allocation in chunks for the compile session (see arena.h).
#include "arena.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#ifdef PG_ARENA_DEBUG
enum {
    CHUNK_BYTES = 256
}; // small chunks give overrun bugs a chance to show
#else
enum {
    CHUNK_BYTES = 64 * 1024
};
#endif

typedef struct chunk {
    struct chunk *next;
    size_t size, used;
    _Alignas(max_align_t) unsigned char data[];
} chunk;

struct arena {
    chunk *head;
    void (*oom)(void *ctx);
    void *ctx;
    size_t bytes;
};

arena *arena_new(void (*oom)(void *ctx), void *ctx) {
    arena *a = calloc(1, sizeof *a);
    if (a) {
        a->oom = oom;
        a->ctx = ctx;
    }
    return a;
}

void arena_free(arena *a) {
    if (!a)
        return;
    for (chunk *c = a->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}

static void *fail(arena *a) {
    if (a->oom)
        a->oom(a->ctx);
    return NULL;
}

static atomic_long fail_countdown; // arena_fail_nth: 0 = off

void arena_fail_nth(long n) {
    atomic_store(&fail_countdown, n);
}

// Whether this chunk allocation is the one arena_fail_nth asked to fail.
static bool injected_failure(void) {
    long left = atomic_load(&fail_countdown);
    return left > 0 && atomic_fetch_sub(&fail_countdown, 1) == 1;
}

static chunk *new_chunk(arena *a, size_t need) {
    if (injected_failure())
        return NULL;
    size_t size = need > CHUNK_BYTES ? need : CHUNK_BYTES;
#ifdef PG_ARENA_DEBUG
    size = need; // one malloc per allocation, exactly sized
#endif
    chunk *c = malloc(sizeof(chunk) + size);
    if (!c)
        return NULL;
    c->size = size;
    c->used = 0;
    c->next = a->head;
    a->head = c;
    return c;
}

void *arena_alloc(arena *a, size_t n) {
    size_t align = _Alignof(max_align_t);
    if (n > SIZE_MAX - align)
        return fail(a);
    n = (n + align - 1) & ~(align - 1);
    if (n == 0)
        n = align;
    chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        c = new_chunk(a, n);
        if (!c)
            return fail(a);
    }
    void *p = c->data + c->used;
    c->used += n;
    a->bytes += n;
    memset(p, 0, n);
    return p;
}

void *arena_array(arena *a, size_t n, size_t size) {
    if (size && n > SIZE_MAX / size)
        return fail(a);
    return arena_alloc(a, n * size);
}

char *arena_strndup(arena *a, const char *s, size_t n) {
    char *p = arena_alloc(a, n + 1);
    if (p && n)
        memcpy(p, s, n);
    return p;
}

char *arena_strdup(arena *a, const char *s) {
    return arena_strndup(a, s, strlen(s));
}

void *arena_grow(arena *a, void *old, size_t old_n, size_t new_n, size_t size) {
    void *p = arena_array(a, new_n, size);
    if (p && old && old_n)
        memcpy(p, old, (old_n < new_n ? old_n : new_n) * size);
    return p;
}

size_t arena_bytes(const arena *a) {
    return a->bytes;
}
