// fuse.c: fused evaluation of linear pointwise trees. A maximal tree of PE_F_LINEAR nodes
// (gain by a constant, mix, mono, stereo, spread, crop, splice envelope, whole-frame time
// shift) is evaluated as one weighted sum: each leaf is pulled once (at the frames its path's
// shifts give, scaled by its path's envelopes) and added into the output with the product of
// the gains on its path (a channel matrix),
// instead of one pass and one temporary buffer per node. A
// linear node with many inputs gets an interval index so that a block visits only the
// inputs that sound in it: cost follows the sounding notes, not their number.
// Summation order is the inputs' order, so results never depend on blocks or threads.
#include "fuse.h"

#include <stdlib.h>
#include <string.h>

#include "plan.h"

enum {
    BUCKET_SHIFT = 14,
    INDEX_MIN_INPUTS = 16,
    MAX_BUCKETS = 1 << 20
};

struct fuse_index {
    pg_frame origin; // the first bucket's first frame
    int64_t n_buckets;
    int *offsets; // n_buckets + 1 offsets into slots
    int *slots;   // input slots per bucket, in slot order
    int *always;  // slots with indefinite or very long extents, in order
    int n_always;
};

static int64_t bucket_of(const fuse_index *x, pg_frame t) {
    return (t - x->origin) >> BUCKET_SHIFT;
}

static bool too_long(const fuse_index *x, pg_extent e) {
    return !pg_extent_is_finite(e) || (e.end - e.start) >> BUCKET_SHIFT > 4096 ||
           e.start < x->origin || bucket_of(x, e.end - 1) >= x->n_buckets;
}

// The span of the inputs' finite extents, which the buckets cover.
static pg_extent finite_span(const pe_node *n) {
    pg_extent span = { 0, 0 };
    for (int k = 0; k < n->n_inputs; k++)
        if (pg_extent_is_finite(n->in[k].extent))
            span = pg_extent_union(span, n->in[k].extent);
    return span;
}

static void fill_index(fuse_index *x, const pe_node *n, bool count_only) {
    for (int k = 0; k < n->n_inputs; k++) {
        pg_extent e = n->in[k].extent;
        if (pg_extent_is_empty(e))
            continue;
        if (too_long(x, e)) {
            if (!count_only)
                x->always[x->n_always] = k;
            x->n_always++;
            continue;
        }
        for (int64_t b = bucket_of(x, e.start); b <= bucket_of(x, e.end - 1); b++) {
            if (count_only)
                x->offsets[b + 1]++;
            else
                x->slots[x->offsets[b]++] = k;
        }
    }
}

fuse_index *fuse_index_new(const pe_node *n) {
    if (n->n_inputs < INDEX_MIN_INPUTS)
        return NULL;
    fuse_index *x = calloc(1, sizeof *x);
    pg_extent span = finite_span(n);
    if (!x)
        return NULL;
    x->origin = span.start;
    x->n_buckets = pg_extent_is_empty(span) ? 0 : ((span.end - span.start) >> BUCKET_SHIFT) + 1;
    if (x->n_buckets > MAX_BUCKETS)
        x->n_buckets = MAX_BUCKETS;
    x->offsets = calloc((size_t)x->n_buckets + 2, sizeof(int));
    if (!x->offsets) {
        fuse_index_free(x);
        return NULL;
    }
    fill_index(x, n, true);
    for (int64_t b = 0; b < x->n_buckets; b++)
        x->offsets[b + 1] += x->offsets[b];
    x->slots = malloc(sizeof(int) * (size_t)(x->offsets[x->n_buckets] + 1));
    x->always = malloc(sizeof(int) * (size_t)(x->n_always + 1));
    if (!x->slots || !x->always) {
        fuse_index_free(x);
        return NULL;
    }
    x->n_always = 0;
    fill_index(x, n, false);
    for (int64_t b = x->n_buckets; b > 0; b--) // fill_index advanced each offset to its end
        x->offsets[b] = x->offsets[b - 1];
    x->offsets[0] = 0;
    return x;
}

void fuse_index_free(fuse_index *x) {
    if (!x)
        return;
    free(x->offsets);
    free(x->slots);
    free(x->always);
    free(x);
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void bucket_range(const fuse_index *x, pg_frame t0, pg_frame t1, int64_t *b0, int64_t *b1) {
    *b0 = t0 > x->origin ? bucket_of(x, t0) : 0;
    *b1 = t1 > x->origin ? bucket_of(x, t1 - 1) : -1;
    if (*b1 >= x->n_buckets)
        *b1 = x->n_buckets - 1;
}

int fuse_index_bound(const fuse_index *x, pg_frame t0, pg_frame t1) {
    int64_t b0, b1;
    bucket_range(x, t0, t1, &b0, &b1);
    int64_t n = x->n_always;
    if (b1 >= b0)
        n += x->offsets[b1 + 1] - x->offsets[b0];
    return (int)n;
}

int fuse_index_query(const fuse_index *x, pg_frame t0, pg_frame t1, int *out) {
    int n = 0;
    int64_t b0, b1;
    bucket_range(x, t0, t1, &b0, &b1);
    for (int i = 0; i < x->n_always; i++)
        out[n++] = x->always[i];
    for (int64_t b = b0; b <= b1; b++)
        for (int i = x->offsets[b]; i < x->offsets[b + 1]; i++)
            out[n++] = x->slots[i];
    qsort(out, (size_t)n, sizeof *out, cmp_int);
    int u = 0;
    for (int i = 0; i < n; i++)
        if (u == 0 || out[u - 1] != out[i])
            out[u++] = out[i];
    return u;
}
