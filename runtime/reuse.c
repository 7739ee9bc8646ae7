// reuse.c: a buffer of finite memory made again after an edit. A convolution's output over
// one of its cells (pe_kind.cells: a partition of its FFT) depends on its source over that
// cell and the few before it only. A reverb over the whole mix is one such buffer, and a
// one-note edit under it changes its key, so the whole reverb would be made again, though
// only the seconds the note reaches changed.
//
// So each such buffer is stored with a record beside it, under a key made of everything
// that decides it except its source's content and its length (its own arguments, its
// other inputs, shapes and grid): the key and span of the buffer it describes and a hash
// of each source cell. A buffer not found is then made from the last one recorded: an
// output cell is the same when its frames lie in the old span and the source cells it
// reads hash the same; those are taken from the old buffer (read and checked), the others
// rendered, the kernel starting afresh before each run of them (the same bits as a render
// from the start: the kind promises it). Every render of such a buffer writes a new record.
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "exec_int.h"

enum {
    TAG_RECORD = 0x726575 // "reu"
};

typedef struct record_head {
    uint64_t tag;
    uint64_t buffer_key; // the buffer the hashes describe
    pg_extent span;      // its span
    int64_t first;       // the first source cell hashed (its index on the grid)
    int64_t cells;       // source cells hashed
} record_head;

typedef struct cell_grid {
    pe_cells c;
    int src;           // the source's node
    int64_t first;     // the first output cell (may be negative)
    int64_t n_out;     // output cells the span touches
    int64_t n_in;      // source cells they read: n_out + back
    XXH128_hash_t *in; // their hashes now
} cell_grid;

static int64_t floor_div(int64_t a, int64_t b) {
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

// The frames of output cell k (on the grid) within node pn's span.
static pg_extent cell_frames(const plan_node *pn, const cell_grid *g, int64_t k) {
    pg_frame a = g->c.anchor + k * g->c.step;
    return pg_extent_intersect((pg_extent){ a, a + g->c.step }, pn->mat);
}

bool exec_reusable(const exec_shared *sh, int id) {
    const plan_node *pn = &sh->plan->nodes[id];
    pe_cells c;
    return pn->pn.kind->cells && pn->cacheable && sh->cache && pn->pn.kind->cells(&pn->pn, &c) &&
           c.step > 0 && c.back >= 0 && pg_extent_is_finite(pn->mat) &&
           !pg_extent_is_empty(pn->mat);
}

static void hash_view(const pe_view *v, void *arg) {
    for (int ch = 0; ch < v->channels; ch++)
        XXH3_128bits_update(arg, v->data + ch * v->stride, sizeof(float) * (size_t)v->frames);
}

// The hashes of the source's cells, read as the kernel reads them.
static pg_status hash_cells(exec_ctx *cx, int id, cell_grid *g) {
    XXH3_state_t *st = XXH3_createState();
    pg_status status = st ? PG_OK : PG_ERR_NOMEM;
    for (int64_t j = 0; status == PG_OK && j < g->n_in; j++) {
        if (exec_stopped(cx->sh)) {
            status = PG_ERR_INTERRUPTED; // (the render's failure is recorded already)
            break;
        }
        pg_frame a = g->c.anchor + (g->first - g->c.back + j) * g->c.step;
        XXH3_128bits_reset(st);
        status = exec_read_input(cx, id, g->c.slot, a, g->c.step, hash_view, st);
        g->in[j] = XXH3_128bits_digest(st);
    }
    XXH3_freeState(st);
    return status;
}

static pg_status grid_init(exec_ctx *cx, int id, cell_grid *g) {
    const plan_node *pn = &cx->sh->plan->nodes[id];
    pn->pn.kind->cells(&pn->pn, &g->c);
    g->src = pn->inputs[g->c.slot];
    g->first = floor_div(pn->mat.start - g->c.anchor, g->c.step);
    g->n_out = floor_div(pn->mat.end - 1 - g->c.anchor, g->c.step) - g->first + 1;
    g->n_in = g->n_out + g->c.back;
    g->in = malloc(sizeof *g->in * (size_t)g->n_in);
    return g->in ? hash_cells(cx, id, g) : PG_ERR_NOMEM;
}

// The record's key: the node's own arguments, its other inputs, its shape and grid, its
// source's channels and start; not what the source holds, nor the span.
static uint64_t record_key(const exec_shared *sh, int id, const cell_grid *g) {
    const plan_node *pn = &sh->plan->nodes[id], *sp = &sh->plan->nodes[g->src];
    XXH3_state_t *st = XXH3_createState();
    if (!st)
        return 0;
    uint64_t head[] = { TAG_RECORD,
                        pn->own_hash,
                        (uint64_t)sp->pn.out.channels,
                        (uint64_t)sp->pn.out.extent.start,
                        (uint64_t)g->c.anchor,
                        (uint64_t)g->c.step,
                        (uint64_t)g->c.back };
    XXH3_64bits_reset(st);
    XXH3_64bits_update(st, head, sizeof head);
    for (int s = 0; s < pn->pn.n_inputs; s++)
        if (s != g->c.slot)
            XXH3_64bits_update(st, &sh->plan->nodes[pn->inputs[s]].hash, sizeof(uint64_t));
    uint64_t k = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return cache_key(k, (pg_extent){ 0, 0 }, pn->pn.out.channels, pn->pn.out.frame_rate);
}

// Whether output cell k (on the grid) of the buffer described by record r (its head h) is
// what it is now: the cell's frames within the span now lie in the old one, and the source
// cells it reads have the same hashes.
static bool cell_same(const cell_grid *g, const record_head *h, const unsigned char *r,
                      const plan_node *pn, int64_t k) {
    pg_extent e = cell_frames(pn, g, k);
    if (e.start < h->span.start || e.end > h->span.end)
        return false;
    for (int64_t j = k - g->c.back; j <= k; j++) {
        XXH128_hash_t old;
        if (j < h->first || j >= h->first + h->cells)
            return false;
        memcpy(&old, r + sizeof *h + sizeof old * (size_t)(j - h->first), sizeof old);
        if (!XXH128_isEqual(old, g->in[j - (g->first - g->c.back)]))
            return false;
    }
    return true;
}

// Copies frames e of the old buffer `old` (span h->span) into buf.
static void copy_frames(const plan_node *pn, const record_head *h, const float *old, float *buf,
                        pg_extent e) {
    int64_t len = pn->mat.end - pn->mat.start, old_len = h->span.end - h->span.start;
    for (int c = 0; c < pn->pn.out.channels; c++)
        memcpy(buf + c * len + (e.start - pn->mat.start),
               old + c * old_len + (e.start - h->span.start),
               sizeof(float) * (size_t)(e.end - e.start));
}

// The old buffer (span h->span) into buf where the cells are the same now: read whole (and
// checked) when the span is the same, which costs less than mapping it; else mapped, and
// those cells copied. False when it is missing or damaged.
static bool read_old(exec_shared *sh, const plan_node *pn, const cell_grid *g, const record_head *h,
                     const bool *dirty, float *buf) {
    int ch = pn->pn.out.channels;
    if (h->span.start == pn->mat.start && h->span.end == pn->mat.end)
        return cache_load(sh->cache, h->buffer_key, buf, ch, pn->mat.end - pn->mat.start);
    cache_mapping bm = { NULL, 0 };
    const float *old = cache_map(sh->cache, h->buffer_key, ch, h->span.end - h->span.start, &bm);
    for (int64_t k = 0; old && k < g->n_out; k++)
        if (!dirty[k])
            copy_frames(pn, h, old, buf, cell_frames(pn, g, g->first + k));
    cache_unmap(&bm);
    return old != NULL;
}

// A record's numbers within bounds no render reaches (its checksum was right, but it may
// come from a broken writer): the arithmetic on them cannot overflow.
static bool plausible(const record_head *h) {
    const int64_t far = (int64_t)1 << 48;
    return h->span.start > -far && h->span.end < far && h->span.start < h->span.end &&
           h->first > -far && h->first < far;
}

// Reads the record, marks in dirty[] the output cells not the same now, and puts the old
// buffer's others into buf. False when there is no usable record or buffer (render it all).
static bool load_previous(exec_shared *sh, int id, const cell_grid *g, uint64_t rkey, float *buf,
                          bool *dirty) {
    const plan_node *pn = &sh->plan->nodes[id];
    cache_mapping m = { NULL, 0 };
    size_t n = 0;
    const unsigned char *r = cache_map_bytes(sh->cache, rkey, &n, &m);
    record_head h;
    if (r && n >= sizeof h)
        memcpy(&h, r, sizeof h);
    bool ok = r && n >= sizeof h && h.tag == TAG_RECORD && h.cells >= 0 &&
              n == sizeof h + sizeof(XXH128_hash_t) * (size_t)h.cells && plausible(&h);
    for (int64_t k = 0; ok && k < g->n_out; k++)
        dirty[k] = !cell_same(g, &h, r, pn, g->first + k);
    ok = ok && read_old(sh, pn, g, &h, dirty, buf);
    cache_unmap(&m);
    return ok;
}

static void store_record(exec_shared *sh, uint64_t rkey, uint64_t key, const plan_node *pn,
                         const cell_grid *g) {
    size_t n = sizeof(record_head) + sizeof(XXH128_hash_t) * (size_t)g->n_in;
    unsigned char *r = malloc(n);
    if (!r)
        return; // (no record: the next edit renders it all)
    record_head h = { TAG_RECORD, key, pn->mat, g->first - g->c.back, g->n_in };
    memcpy(r, &h, sizeof h);
    memcpy(r + sizeof h, g->in, sizeof(XXH128_hash_t) * (size_t)g->n_in);
    cache_store_bytes(sh->cache, rkey, r, n);
    free(r);
}

// Renders the runs of dirty output cells, in time order.
static pg_status render_dirty(exec_ctx *cx, int id, const cell_grid *g, const bool *dirty,
                              float *buf, int *made) {
    const plan_node *pn = &cx->sh->plan->nodes[id];
    for (int64_t k = 0; k < g->n_out;) {
        if (!dirty[k]) {
            k++;
            continue;
        }
        int64_t end = k;
        while (end < g->n_out && dirty[end])
            end++;
        pg_frame from = cell_frames(pn, g, g->first + k).start;
        pg_frame to = cell_frames(pn, g, g->first + end - 1).end;
        pg_status st = exec_render_range(cx, id, buf, from - pn->mat.start, to - pn->mat.start);
        if (st != PG_OK)
            return st;
        *made += (int)(end - k);
        k = end;
    }
    return PG_OK;
}

static pg_status render_whole(exec_ctx *cx, int id, float *buf) {
    const plan_node *pn = &cx->sh->plan->nodes[id];
    return exec_render_range(cx, id, buf, 0, pn->mat.end - pn->mat.start);
}

pg_status exec_render_reusing(exec_ctx *cx, int id, float *buf, uint64_t key) {
    exec_shared *sh = cx->sh;
    cell_grid g = { 0 };
    bool *dirty = NULL;
    pg_status st = grid_init(cx, id, &g);
    if (st == PG_OK && !(dirty = malloc(sizeof(bool) * (size_t)g.n_out)))
        st = PG_ERR_NOMEM;
    if (st != PG_OK) { // a failed pull fails the render; short of memory here, render it all
        free(g.in);
        return sh->failed ? st : render_whole(cx, id, buf);
    }
    uint64_t rkey = record_key(sh, id, &g);
    bool found = rkey && load_previous(sh, id, &g, rkey, buf, dirty);
    for (int64_t k = 0; !found && k < g.n_out; k++)
        dirty[k] = true;
    int made = 0;
    st = render_dirty(cx, id, &g, dirty, buf, &made);
    if (st == PG_OK && rkey)
        store_record(sh, rkey, key, &sh->plan->nodes[id], &g);
    if (found) {
        pthread_mutex_lock(&sh->lock);
        sh->cells_copied += (int)g.n_out - made;
        sh->cells_made += made;
        pthread_mutex_unlock(&sh->lock);
    }
    free(dirty);
    free(g.in);
    return st;
}
