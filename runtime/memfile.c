// memfile.c: a file in memory for libsndfile (sf_open_virtual): the FLAC segments encoded
// on several threads (flac_seg.c), the probe of libsndfile's PCM conversion (pcm.c).
#include "memfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sf_count_t file_len(void *u) {
    return ((memfile *)u)->len;
}

static sf_count_t file_seek(sf_count_t off, int whence, void *u) {
    memfile *m = u;
    sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->len;
    if (base + off < 0)
        return -1;
    return m->pos = base + off;
}

static sf_count_t file_read(void *dst, sf_count_t n, void *u) {
    memfile *m = u;
    sf_count_t left = m->len > m->pos ? m->len - m->pos : 0;
    n = n < left ? n : left;
    memcpy(dst, m->p + m->pos, (size_t)n);
    m->pos += n;
    return n;
}

static sf_count_t file_write(const void *src, sf_count_t n, void *u) {
    memfile *m = u;
    if (m->pos + n > m->cap) {
        sf_count_t cap = (m->pos + n) * 3 / 2 + 65536;
        unsigned char *p = realloc(m->p, (size_t)cap);
        if (!p) {
            m->nomem = true;
            return 0;
        }
        m->p = p;
        m->cap = cap;
    }
    if (m->pos > m->len) // a seek past the end leaves zeros, as a file would
        memset(m->p + m->len, 0, (size_t)(m->pos - m->len));
    memcpy(m->p + m->pos, src, (size_t)n);
    m->pos += n;
    m->len = m->pos > m->len ? m->pos : m->len;
    return n;
}

static sf_count_t file_tell(void *u) {
    return ((memfile *)u)->pos;
}

SF_VIRTUAL_IO memfile_io = { file_len, file_seek, file_read, file_write, file_tell };
