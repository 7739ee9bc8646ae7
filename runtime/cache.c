// cache.c: the on-disk render cache. A materialised node's buffer is stored under a key
// derived from its structural hash (kind, arguments, file contents, inputs), the span it
// covers, pygmuc's version and the identity of its code (a hash of the sources and of how
// they were compiled, pg_code_id.h: a build that differs in either never reads another's
// renders), so re-rendering an edited piece recomputes only what changed.
// An entry is written to a temporary file and renamed into place, so concurrent pygmuc
// processes never see half-written entries; it carries a checksum of its samples, and a
// corrupt, truncated or foreign entry is ignored (and re-rendered), never played. The
// least recently used entries are evicted when the cache grows past its size limit; a
// ledger of the bytes the entries take tells when that may be (see settle_usage).
#include "cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "pg_code_id.h"
#if PG_HAVE_XXH_DISPATCH
#include <xxh_x86dispatch.h>
#endif

#define CACHE_MAGIC    "PGMCACH1"
#define CACHE_FORMAT   1       // bump when the entry layout changes
#define USAGE_FILE     "usage" // the ledger (not an entry: its name has no ".pgc")
#define USAGE_MAGIC    "pygmuc-cache-usage"
#define STALE_TEMP_SEC 3600 // a store's temporary file this old is no store in progress
#define SETTLE_BYTES   ((size_t)64 << 20) // stored bytes a render adds to the ledger at once

typedef struct entry_header {
    char magic[8];
    uint64_t key;
    int32_t channels;
    int32_t format;
    int64_t frames;
    uint64_t checksum; // XXH3 of the samples
} entry_header;

struct cache {
    char dir[4096];
    size_t limit_bytes;
    atomic_bool stored;       // this process added entries
    _Atomic size_t unsettled; // bytes of those (headers included) not in the ledger yet
};

static void settle_usage(cache *c, bool may_scan);

// The checksum of an entry's samples: XXH3, whichever vector unit computes it. libxxhash's
// AVX2 and AVX-512 code leaves the upper halves of the vector registers in use, and every
// SSE instruction after it on the same thread (pygmuc is built for SSE2: the mixing of
// loaded notes, the writer's conversions) then waits on them: on this machine (an AMD EPYC
// under KVM) a loop converting 3 minutes of stereo after each chunk's checksum took 57 ms
// instead of 16. vzeroupper clears them (a CPU with AVX only: the dispatch used none else).
static uint64_t checksum(const void *data, size_t bytes) {
#if PG_HAVE_XXH_DISPATCH
    uint64_t h = XXH3_64bits_dispatch(data, bytes);
#if defined(__x86_64__) || defined(__i386__)
    if (__builtin_cpu_supports("avx"))
        __asm__ volatile("vzeroupper");
#endif
    return h;
#else
    return XXH3_64bits(data, bytes);
#endif
}

static int mkdir_p(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

// 0 when dir is (now) a folder this process may add entries to, else why not (an errno).
static int usable_dir(const char *dir) {
    struct stat st;
    if (mkdir_p(dir) < 0 || stat(dir, &st) != 0)
        return errno;
    if (!S_ISDIR(st.st_mode))
        return ENOTDIR;
    return access(dir, W_OK | X_OK) == 0 ? 0 : errno;
}

// The default folder: $PYGMUC_CACHE_DIR, $XDG_CACHE_HOME/pygmuc or ~/.cache/pygmuc.
static int default_dir(char *out, size_t size) {
    const char *env = getenv("PYGMUC_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"),
               *home = getenv("HOME");
    if (env && *env)
        snprintf(out, size, "%s", env);
    else if (xdg && *xdg)
        snprintf(out, size, "%s/pygmuc", xdg);
    else if (home && *home)
        snprintf(out, size, "%s/.cache/pygmuc", home);
    else
        return -1;
    return 0;
}

cache *cache_open(const char *dir, size_t limit_bytes, int *why) {
    *why = 0;
    if (dir && !*dir)
        return NULL; // disabled
    cache *c = calloc(1, sizeof *c);
    if (!c) {
        *why = ENOMEM;
        return NULL;
    }
    if (dir)
        snprintf(c->dir, sizeof c->dir, "%s", dir);
    else if (default_dir(c->dir, sizeof c->dir) < 0) {
        *why = ENOENT;
        free(c);
        return NULL;
    }
    c->limit_bytes = limit_bytes ? limit_bytes : CACHE_DEFAULT_LIMIT;
    if ((*why = usable_dir(c->dir)) != 0) {
        free(c);
        return NULL; // an unusable cache is no cache: renders still work
    }
    return c;
}

uint64_t cache_key(uint64_t node_hash, pg_extent span, int channels, int rate) {
    struct {
        uint64_t hash;
        int64_t start, end;
        int32_t channels, rate, format;
        char version[16], code[24];
    } k;
    memset(&k, 0, sizeof k);
    k.hash = node_hash;
    k.start = span.start;
    k.end = span.end;
    k.channels = channels;
    k.rate = rate;
    k.format = CACHE_FORMAT;
    snprintf(k.version, sizeof k.version, "%s", PG_VERSION_STRING);
    snprintf(k.code, sizeof k.code, "%s", PG_CODE_ID);
    return XXH3_64bits(&k, sizeof k);
}

static void entry_path(const cache *c, uint64_t key, char *out, size_t size) {
    snprintf(out, size, "%s/%016llx.pgc", c->dir, (unsigned long long)key);
}

static bool write_exact(int fd, const void *buf, size_t n) {
    const char *p = buf;
    while (n > 0) {
        ssize_t put = write(fd, p, n);
        if (put <= 0)
            return false;
        p += put;
        n -= (size_t)put;
    }
    return true;
}

bool cache_has(const cache *c, uint64_t key, int channels, int64_t frames) {
    if (!c)
        return false;
    char path[4200];
    entry_path(c, key, path, sizeof path);
    struct stat st;
    size_t bytes = sizeof(float) * (size_t)channels * (size_t)frames;
    return stat(path, &st) == 0 && (size_t)st.st_size == sizeof(entry_header) + bytes;
}

static bool header_ok(const entry_header *h, uint64_t key, int channels, int64_t frames) {
    return memcmp(h->magic, CACHE_MAGIC, 8) == 0 && h->key == key && h->channels == channels &&
           h->frames == frames && h->format == CACHE_FORMAT;
}

// The entry of key opened for reading; -1 if there is none (or no cache).
static int open_entry(const cache *c, uint64_t key) {
    if (!c)
        return -1;
    char path[4200];
    entry_path(c, key, path, sizeof path);
    return open(path, O_RDONLY);
}

// Maps the entry of key read-only if its header and size match (its samples are not checked
// yet); NULL otherwise. Mapping reads it straight from the page cache: no copy into fresh
// memory, whose page faults cost more than the read itself. A byte entry (channels 0) has
// the size it has: frames is then -1, and the header's byte count must match the file's.
static const entry_header *map_entry(const cache *c, uint64_t key, int channels, int64_t frames,
                                     cache_mapping *m) {
    int fd = open_entry(c, key);
    if (fd < 0)
        return NULL;
    struct stat st;
    void *base = MAP_FAILED;
    bool sized = fstat(fd, &st) == 0 && (size_t)st.st_size >= sizeof(entry_header);
    if (sized && channels == 0)
        frames = (int64_t)((size_t)st.st_size - sizeof(entry_header));
    size_t bytes = (channels ? sizeof(float) * (size_t)channels : 1) * (size_t)frames;
    if (sized && (size_t)st.st_size == sizeof(entry_header) + bytes)
        base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (base == MAP_FAILED)
        return NULL;
    posix_madvise(base, (size_t)st.st_size, POSIX_MADV_SEQUENTIAL | POSIX_MADV_WILLNEED);
    *m = (cache_mapping){ base, (size_t)st.st_size };
    if (header_ok(base, key, channels, frames))
        return base;
    cache_unmap(m);
    return NULL;
}

// The entry was used: least recently used entries go first.
static void touch(const cache *c, uint64_t key) {
    char path[4200];
    entry_path(c, key, path, sizeof path);
    utimensat(AT_FDCWD, path, NULL, 0);
}

void cache_touch(cache *c, uint64_t key) {
    if (c)
        touch(c, key);
}

const float *cache_map(cache *c, uint64_t key, int channels, int64_t frames, cache_mapping *m) {
    const entry_header *h = map_entry(c, key, channels, frames, m);
    if (!h)
        return NULL;
    const float *data = (const float *)(h + 1);
    if (checksum(data, m->size - sizeof *h) != h->checksum) {
        cache_unmap(m);
        return NULL;
    }
    touch(c, key);
    return data;
}

void cache_unmap(cache_mapping *m) {
    if (m->base)
        munmap(m->base, m->size);
    *m = (cache_mapping){ NULL, 0 };
}

// Reads exactly n bytes at offset at; false on an error or a short file.
static bool read_exact(int fd, void *buf, size_t n, off_t at) {
    while (n > 0) {
        ssize_t got = pread(fd, buf, n, at);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return false;
        buf = (char *)buf + got;
        n -= (size_t)got;
        at += got;
    }
    return true;
}

// Read, not mapped: a thread that writes mapped pages out (the output's found chunks) pays
// a page fault per few pages, and unmapping them interrupts every other thread to flush
// its TLB; a 3-minute output written from mapped chunks took twice as long as from read ones.
bool cache_load(cache *c, uint64_t key, float *buf, int channels, int64_t frames) {
    int fd = open_entry(c, key);
    if (fd < 0)
        return false;
    size_t bytes = sizeof(float) * (size_t)channels * (size_t)frames;
    entry_header h;
    struct stat st;
    bool ok = fstat(fd, &st) == 0 && (size_t)st.st_size == sizeof h + bytes &&
              read_exact(fd, &h, sizeof h, 0) && header_ok(&h, key, channels, frames) &&
              read_exact(fd, buf, bytes, (off_t)sizeof h);
    close(fd);
    ok = ok && checksum(buf, bytes) == h.checksum;
    if (ok)
        touch(c, key);
    return ok;
}

// An entry of bytes (channels 0) or samples.
static bool store_entry(cache *c, uint64_t key, const void *buf, int channels, int64_t frames) {
    if (!c)
        return false;
    char path[4200], tmp[4300];
    entry_path(c, key, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return false;
    size_t bytes = (channels ? sizeof(float) * (size_t)channels : 1) * (size_t)frames;
    entry_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, CACHE_MAGIC, 8);
    h.key = key;
    h.channels = channels;
    h.format = CACHE_FORMAT;
    h.frames = frames;
    h.checksum = checksum(buf, bytes);
    bool ok = write_exact(fd, &h, sizeof h) && write_exact(fd, buf, bytes);
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return false;
    }
    atomic_store(&c->stored, true); // workers store concurrently
    if (atomic_fetch_add(&c->unsettled, sizeof h + bytes) + sizeof h + bytes >= SETTLE_BYTES)
        settle_usage(c, false);
    return true;
}

bool cache_store(cache *c, uint64_t key, const float *buf, int channels, int64_t frames) {
    return channels > 0 && store_entry(c, key, buf, channels, frames);
}

bool cache_store_bytes(cache *c, uint64_t key, const void *data, size_t n) {
    return store_entry(c, key, data, 0, (int64_t)n);
}

const void *cache_map_bytes(cache *c, uint64_t key, size_t *n, cache_mapping *m) {
    const entry_header *h = map_entry(c, key, 0, -1, m);
    if (!h)
        return NULL;
    if (checksum(h + 1, m->size - sizeof *h) != h->checksum) {
        cache_unmap(m);
        return NULL;
    }
    touch(c, key);
    *n = m->size - sizeof *h;
    return h + 1;
}

void cache_remove(cache *c, uint64_t key) {
    char path[4200];
    if (!c)
        return;
    entry_path(c, key, path, sizeof path);
    (void)unlink(path);
}

typedef struct file_age {
    char name[64];
    long long mtime_ns;
    long long size;
} file_age;

static int by_age(const void *a, const void *b) {
    long long x = ((const file_age *)a)->mtime_ns, y = ((const file_age *)b)->mtime_ns;
    return x < y ? -1 : x > y;
}

// Deletes the least recently used entries until the cache fits its limit; returns the bytes
// the entries left take, or -1 when the folder could not be read.
static long long evict(cache *c, long long limit) {
    DIR *d = opendir(c->dir);
    if (!d)
        return -1;
    file_age *files = NULL;
    size_t n = 0, cap = 0;
    long long total = 0;
    struct dirent *e;
    time_t stale = time(NULL) - STALE_TEMP_SEC;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        char path[4400];
        struct stat st;
        int w = snprintf(path, sizeof path, "%s/%s", c->dir, e->d_name);
        bool entry = len >= 5 && len < 64 && strcmp(e->d_name + len - 4, ".pgc") == 0;
        bool temp = !entry && strstr(e->d_name, ".pgc.") != NULL;
        if (!(entry || temp) || w < 0 || (size_t)w >= sizeof path || stat(path, &st) != 0)
            continue;
        if (temp) { // left by a store that never finished (a killed process)
            if (st.st_mtime < stale)
                unlink(path);
            continue;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            file_age *p = realloc(files, cap * sizeof *p);
            if (!p)
                break;
            files = p;
        }
        memcpy(files[n].name, e->d_name, len + 1); // len < 64, checked above
        files[n].mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
        files[n].size = (long long)st.st_size;
        total += files[n++].size;
    }
    closedir(d);
    if (files && total > limit) {
        qsort(files, n, sizeof *files, by_age);
        for (size_t i = 0; i < n && total > limit; i++) {
            char path[4200];
            int w = snprintf(path, sizeof path, "%s/%s", c->dir, files[i].name);
            if (w > 0 && (size_t)w < sizeof path && unlink(path) == 0)
                total -= files[i].size;
        }
    }
    free(files);
    return total;
}

// The ledger's count of bytes, or -1 when it has none (new, or unreadable).
static long long read_usage(int fd) {
    char text[64] = { 0 };
    long long used = -1;
    if (pread(fd, text, sizeof text - 1, 0) > 0 && sscanf(text, USAGE_MAGIC " %lld", &used) == 1 &&
        used >= 0)
        return used;
    return -1;
}

static void write_usage(int fd, long long used) {
    char text[64];
    int n = snprintf(text, sizeof text, USAGE_MAGIC " %lld\n", used);
    if (pwrite(fd, text, (size_t)n, 0) == n)
        (void)!ftruncate(fd, n);
}

// Adds the bytes stored since the last call to the ledger; when may_scan (at the end of the
// render, so that no entry it is about to read goes), scans the folder, evicting past the
// limit, if the sum passes the limit or the ledger is missing. Scanning stats every entry,
// ~10 ms for the 2 GiB default, a fifth of a warm re-render after an edit. The ledger is
// locked (flock) while read and rewritten, so renders sharing the folder lose none of each
// other's additions. It overcounts (entries deleted by hand, an entry stored twice), which
// brings a scan forward, and a scan sets it to the bytes found; it undercounts only what
// a killed process stored since it last settled, SETTLE_BYTES at most.
static void settle_usage(cache *c, bool may_scan) {
    // (a limit past LLONG_MAX, "no limit", must not wrap to a negative one)
    long long limit = c->limit_bytes > (size_t)LLONG_MAX ? LLONG_MAX : (long long)c->limit_bytes;
    char path[4200];
    snprintf(path, sizeof path, "%s/" USAGE_FILE, c->dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        if (may_scan)
            evict(c, limit); // no ledger to be had: scan every time, as ever
        if (fd >= 0)
            close(fd);
        return;
    }
    long long used = read_usage(fd), stored = (long long)atomic_exchange(&c->unsettled, 0);
    if (may_scan && (used < 0 || used > limit - stored))
        used = evict(c, limit);
    else if (used >= 0)
        used += stored;
    else
        atomic_fetch_add(&c->unsettled, (size_t)stored); // no ledger yet: the last call scans
    if (used >= 0)
        write_usage(fd, used);
    close(fd); // (the lock goes with it)
}

void cache_close(cache *c) {
    if (!c)
        return;
    if (atomic_load(&c->stored)) // only a render that added entries can have pushed the cache over
        settle_usage(c, true);
    free(c);
}

const char *cache_dir(const cache *c) {
    return c ? c->dir : "";
}
