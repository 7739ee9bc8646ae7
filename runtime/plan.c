// plan.c: the plan's own memory (a chunk list freed with the plan) and its accessors.
#include "plan.h"

#include <stdlib.h>
#include <string.h>

struct plan_chunk {
    plan_chunk *next;
    size_t size, used;
    _Alignas(64) unsigned char data[];
};

enum {
    CHUNK_BYTES = 64 * 1024,
    ALIGN = 64
};

pg_plan *plan_new_empty(void) {
    return calloc(1, sizeof(pg_plan));
}

void *plan_alloc(pg_plan *p, size_t bytes) {
    if (bytes > SIZE_MAX / 2)
        return NULL;
    bytes = (bytes + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (!bytes)
        bytes = ALIGN;
    plan_chunk *c = p->pool;
    if (!c || c->size - c->used < bytes) {
        size_t size = bytes > CHUNK_BYTES ? bytes : CHUNK_BYTES;
        c = malloc(sizeof *c + size);
        if (!c)
            return NULL;
        c->size = size;
        c->used = 0;
        c->next = p->pool;
        p->pool = c;
    }
    void *r = c->data + c->used;
    c->used += bytes;
    memset(r, 0, bytes);
    return r;
}

int plan_copy_value(pg_plan *p, pe_value *v) {
    if (v->type == PG_V_STR) {
        size_t n = strlen(v->u.str) + 1;
        char *s = plan_alloc(p, n);
        if (!s)
            return -1;
        memcpy(s, v->u.str, n);
        v->u.str = s;
    } else if (v->type == PG_V_ARRAY) {
        size_t n = (size_t)v->u.array.rows * (size_t)v->u.array.cols;
        double *d = plan_alloc(p, (n ? n : 1) * sizeof *d);
        if (!d)
            return -1;
        if (n)
            memcpy(d, v->u.array.data, n * sizeof *d);
        v->u.array.data = d;
    }
    return 0;
}

void pg_plan_free(pg_plan *p) {
    if (!p)
        return;
    for (plan_chunk *c = p->pool, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(p);
}

int pg_plan_channels(const pg_plan *p) {
    return p->channels;
}

int pg_plan_frame_rate(const pg_plan *p) {
    return p->frame_rate;
}

int pg_plan_node_count(const pg_plan *p) {
    return p->n_nodes;
}

pg_extent pg_plan_window(const pg_plan *p) {
    return p->window;
}

void pg_plan_opts_init(pg_plan_opts *o) {
    memset(o, 0, sizeof *o);
    o->opt_level = 1;
}
