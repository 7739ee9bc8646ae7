// cache.h: the on-disk render cache of materialised buffers (see cache.c). Thread-safe: it
// holds no mutable state beyond its folder name; the file system serialises writers.
#ifndef PG_RUNTIME_CACHE_H
#define PG_RUNTIME_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pygmu.h"

#define CACHE_DEFAULT_LIMIT ((size_t)2 << 30) // 2 GiB

typedef struct cache cache;

// Opens (creating) the cache folder: dir NULL is the default ($PYGMUC_CACHE_DIR,
// $XDG_CACHE_HOME/pygmuc or ~/.cache/pygmuc); "" disables the cache (returns NULL, which
// every function accepts). limit_bytes 0 is the default limit.
cache *cache_open(const char *dir, size_t limit_bytes, int *why);
// Evicts least recently used entries past the limit and frees c.
void cache_close(cache *c);
// The key of a buffer: the node's structural hash, the span, its shape and the version.
uint64_t cache_key(uint64_t node_hash, pg_extent span, int channels, int rate);
// Whether an entry of that size exists (it may still turn out damaged when loaded).
bool cache_has(const cache *c, uint64_t key, int channels, int64_t frames);
// Fills buf (planar, channel c at buf + c * frames) from a valid entry, read and then
// checked; false on a miss or a damaged entry (buf then holds anything).
bool cache_load(cache *c, uint64_t key, float *buf, int channels, int64_t frames);
// A read-only mapping of an entry (cache_map).
typedef struct cache_mapping {
    void *base;
    size_t size;
} cache_mapping;
// Maps a valid entry read-only: its samples (planar), or NULL on a miss or a damaged entry.
// The samples stay valid until cache_unmap(m): entries are only ever replaced (rename) or
// removed (unlink), never truncated in place, so the mapped file outlives any of that.
const float *cache_map(cache *c, uint64_t key, int channels, int64_t frames, cache_mapping *m);
void cache_unmap(cache_mapping *m);
// Stores buf under key (atomically: temporary file, then rename); false when it could not
// (the render goes on without the entry).
bool cache_store(cache *c, uint64_t key, const float *buf, int channels, int64_t frames);
// Entries of bytes (an encoded FLAC segment): stored as cache_store stores samples; mapped
// read-only and checked, their length into *n (NULL on a miss or a damaged entry).
bool cache_store_bytes(cache *c, uint64_t key, const void *data, size_t n);
const void *cache_map_bytes(cache *c, uint64_t key, size_t *n, cache_mapping *m);
// Marks the entry under key used now, as a load does (the least recently used go first),
// for one needed but not read (an output chunk the output file holds already).
void cache_touch(cache *c, uint64_t key);
// Removes the entry under key, if there is one.
void cache_remove(cache *c, uint64_t key);
const char *cache_dir(const cache *c);

#endif // PG_RUNTIME_CACHE_H
