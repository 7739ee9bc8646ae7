// arena.h: the compile session's allocator. Allocations are zeroed, max_align_t-aligned
// and freed all at once by arena_free. With PG_ARENA_DEBUG each allocation is its own
// malloc, so AddressSanitizer sees overruns. Out of memory calls the arena's oom handler
// (the session longjmps out with PG_ERR_NOMEM).
#ifndef PG_COMPILER_ARENA_H
#define PG_COMPILER_ARENA_H

#include <stddef.h>
#include <stdint.h>

typedef struct arena arena;

arena *arena_new(void (*oom)(void *ctx), void *ctx);
void arena_free(arena *a);
void *arena_alloc(arena *a, size_t n);
// Checked n * size (calls the oom handler on overflow).
void *arena_array(arena *a, size_t n, size_t size);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_strdup(arena *a, const char *s);
// Grows an arena array from old_n to new_n elements (the old block is abandoned).
void *arena_grow(arena *a, void *old, size_t old_n, size_t new_n, size_t size);
size_t arena_bytes(const arena *a); // bytes handed out so far
// For tests of the out-of-memory paths (style.md §4): the n-th chunk the arenas ask of
// malloc from now on fails (n >= 1), as if memory ran out there; 0 turns it off.
void arena_fail_nth(long n);

#define ARENA_NEW(a, T)      ((T *)arena_alloc((a), sizeof(T)))
#define ARENA_ARRAY(a, T, n) ((T *)arena_array((a), (size_t)(n), sizeof(T)))

#endif // PG_COMPILER_ARENA_H
