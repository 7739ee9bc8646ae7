// exec.c: the block executor. Pull-based: rendering a node over a window renders exactly
// the inputs its kernel pulls, over the windows it asks for. Nodes the plan marks
// materialised are rendered once, in time order from their origin, into a buffer before any
// consumer runs (topological order guarantees their inputs are ready), and then read at
// random with no copy. Temporaries live on a scratch stack released when the kernel that
// pulled them returns, so a render allocates nothing per block once warm.
#include "exec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

enum { SCRATCH_CHUNK = 4 << 20, SCRATCH_ALIGN = 64 };

typedef struct scratch_chunk {
    struct scratch_chunk *next;
    size_t size, used;
    _Alignas(64) unsigned char data[];
} scratch_chunk;

typedef struct scratch_mark {
    scratch_chunk *chunk;
    size_t used;
} scratch_mark;

struct exec_ctx {
    const pg_plan *plan;
    pe_inst *inst;      // one per plan node
    float **mat;        // materialised buffers (NULL when not materialised / not yet)
    bool *initialised;
    scratch_chunk *head, *cur; // chunk list; cur is the one in use
    pg_diag error;
    bool failed;
};

struct pg_render {
    exec_ctx cx;
    pg_frame cursor;
    int64_t silent_run; // frames of silence since the last finite end (until_silence)
};

// ---- scratch stack ----------------------------------------------------------------------

static scratch_mark scratch_get(exec_ctx *cx) {
    scratch_mark m = { cx->cur, cx->cur ? cx->cur->used : 0 };
    return m;
}

static void scratch_release(exec_ctx *cx, scratch_mark m) {
    cx->cur = m.chunk ? m.chunk : cx->head;
    if (cx->cur)
        cx->cur->used = m.chunk ? m.used : 0;
    // chunks after cur keep their memory for reuse; reset them when reached
}

static void *scratch_alloc(exec_ctx *cx, size_t bytes) {
    bytes = (bytes + SCRATCH_ALIGN - 1) & ~(size_t)(SCRATCH_ALIGN - 1);
    scratch_chunk *c = cx->cur;
    while (c && c->size - c->used < bytes) {
        c = c->next;
        if (c)
            c->used = 0;
    }
    if (!c) {
        size_t size = bytes > SCRATCH_CHUNK ? bytes : SCRATCH_CHUNK;
        c = malloc(sizeof *c + size);
        if (!c)
            return NULL;
        c->size = size;
        c->used = 0;
        c->next = NULL;
        // append after the last chunk so that the order of chunks is the stack order
        scratch_chunk **tail = &cx->head;
        while (*tail)
            tail = &(*tail)->next;
        *tail = c;
    }
    cx->cur = c;
    void *r = c->data + c->used;
    c->used += bytes;
    return r;
}

// ---- errors ------------------------------------------------------------------------------

static pg_status vfail(exec_ctx *cx, pg_status st, pg_srcloc loc, const char *fmt, va_list ap) {
    if (!cx->failed) {
        cx->failed = true;
        cx->error.status = st;
        cx->error.loc = loc;
        vsnprintf(cx->error.message, sizeof cx->error.message, fmt, ap);
    }
    return st;
}

static pg_status fail(exec_ctx *cx, pg_status st, pg_srcloc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static pg_status fail(exec_ctx *cx, pg_status st, pg_srcloc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(cx, st, loc, fmt, ap);
    va_end(ap);
    return st;
}

pg_status pe_error(pe_inst *pe, pg_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(pe->cx, st, pe->cx->plan->nodes[pe->id].loc, fmt, ap);
    va_end(ap);
    return st;
}

void *pe_scratch(pe_inst *pe, size_t bytes) {
    return scratch_alloc(pe->cx, bytes);
}

// ---- pulling -----------------------------------------------------------------------------

// Runs node id's kernel over [t0, t0 + n) (inside its extent) into out, releasing whatever
// the kernel pulled when it returns.
static pg_status run_kernel(exec_ctx *cx, int id, pg_frame t0, int64_t n, pe_buf *out) {
    scratch_mark m = scratch_get(cx);
    pg_status st = cx->plan->nodes[id].pn.kind->process(&cx->inst[id], t0, n, out);
    scratch_release(cx, m);
    if (st != PG_OK && !cx->failed)
        fail(cx, st, cx->plan->nodes[id].loc, "%s failed: %s", cx->plan->nodes[id].pn.kind->name,
             pg_status_str(st));
    return st;
}

static pg_status zero_view(exec_ctx *cx, int channels, int64_t n, pe_view *out) {
    float *d = scratch_alloc(cx, sizeof(float) * (size_t)(n > 0 ? n : 1) * (size_t)channels);
    if (!d)
        return fail(cx, PG_ERR_NOMEM, (pg_srcloc){ 0, 0, 0 }, "out of memory");
    memset(d, 0, sizeof(float) * (size_t)n * (size_t)channels);
    *out = (pe_view){ channels, n, n, d };
    return PG_OK;
}

// Reads a materialised node: zero-copy when the window lies inside its buffer.
static pg_status read_mat(exec_ctx *cx, int id, pg_frame t0, int64_t n, pg_extent in,
                          pe_view *out) {
    const plan_node *pn = &cx->plan->nodes[id];
    int ch = pn->pn.out.channels;
    int64_t len = pn->mat.end - pn->mat.start;
    const float *buf = cx->mat[id];
    if (in.start == t0 && in.end == t0 + n) {
        *out = (pe_view){ ch, n, len, buf + (t0 - pn->mat.start) };
        return PG_OK;
    }
    pg_status st = zero_view(cx, ch, n, out);
    if (st != PG_OK || pg_extent_is_empty(in))
        return st;
    for (int c = 0; c < ch; c++)
        memcpy((float *)out->data + c * n + (in.start - t0),
               buf + c * len + (in.start - pn->mat.start),
               sizeof(float) * (size_t)(in.end - in.start));
    return PG_OK;
}

static pg_status pull_node(exec_ctx *cx, int id, pg_frame t0, int64_t n, pe_view *out) {
    const plan_node *pn = &cx->plan->nodes[id];
    int ch = pn->pn.out.channels;
    pg_extent want = { t0, t0 + n };
    pg_extent in = pg_extent_intersect(want, pn->pn.out.extent);
    if (cx->mat[id]) {
        in = pg_extent_intersect(in, pn->mat);
        return read_mat(cx, id, t0, n, in, out);
    }
    if (pg_extent_is_empty(in))
        return zero_view(cx, ch, n, out);
    if (pn->materialise)
        return fail(cx, PG_ERR_INTERNAL, pn->loc, "%s pulled before it was materialised",
                    pn->pn.kind->name);
    float *d = scratch_alloc(cx, sizeof(float) * (size_t)n * (size_t)ch);
    if (!d)
        return fail(cx, PG_ERR_NOMEM, pn->loc, "out of memory");
    if (in.start != t0 || in.end != t0 + n)
        memset(d, 0, sizeof(float) * (size_t)n * (size_t)ch);
    pe_buf b = { ch, in.end - in.start, n, d + (in.start - t0) };
    pg_status st = run_kernel(cx, id, in.start, in.end - in.start, &b);
    *out = (pe_view){ ch, n, n, d };
    return st;
}

pg_status pe_pull(pe_inst *pe, int slot, pg_frame t0, int64_t n, pe_view *out) {
    exec_ctx *cx = pe->cx;
    const plan_node *pn = &cx->plan->nodes[pe->id];
    if (slot < 0 || slot >= pn->pn.n_inputs || n < 0)
        return fail(cx, PG_ERR_INTERNAL, pn->loc, "%s pulled a bad input %d", pn->pn.kind->name,
                    slot);
    return pull_node(cx, pn->inputs[slot], t0, n, out);
}

// ---- materialising -----------------------------------------------------------------------

// Renders node id over its span [mat.start, mat.end) in time order, block by block,
// straight into its buffer.
static pg_status materialise(exec_ctx *cx, int id) {
    const plan_node *pn = &cx->plan->nodes[id];
    int64_t len = pn->mat.end - pn->mat.start, block = cx->plan->block_frames;
    int ch = pn->pn.out.channels;
    float *buf = malloc(sizeof(float) * (size_t)(len > 0 ? len : 1) * (size_t)ch);
    if (!buf)
        return fail(cx, PG_ERR_NOMEM, pn->loc, "out of memory materialising %s (%lld frames)",
                    pn->pn.kind->name, (long long)len);
    for (int64_t off = 0; off < len; off += block) {
        int64_t n = len - off < block ? len - off : block;
        pe_buf b = { ch, n, len, buf + off };
        pg_status st = run_kernel(cx, id, pn->mat.start + off, n, &b);
        if (st != PG_OK) {
            free(buf);
            return st;
        }
    }
    cx->mat[id] = buf;
    return PG_OK;
}

static pg_status prepare_node(exec_ctx *cx, int id) {
    const plan_node *pn = &cx->plan->nodes[id];
    pe_inst *pe = &cx->inst[id];
    pe->node = &pn->pn;
    pe->cx = cx;
    pe->id = id;
    pe->origin = pn->materialise ? pn->mat.start : pn->need.start;
    if (pn->pn.kind->state_size) {
        pe->state = calloc(1, pn->pn.kind->state_size);
        if (!pe->state)
            return fail(cx, PG_ERR_NOMEM, pn->loc, "out of memory");
    }
    if (pn->pn.kind->init) {
        scratch_mark m = scratch_get(cx);
        pg_status st = pn->pn.kind->init(pe);
        scratch_release(cx, m);
        if (st != PG_OK)
            return cx->failed ? st : fail(cx, st, pn->loc, "%s: init failed",
                                          pn->pn.kind->name);
    }
    cx->initialised[id] = true;
    return pn->materialise ? materialise(cx, id) : PG_OK;
}

static void exec_fini(exec_ctx *cx) {
    const pg_plan *p = cx->plan;
    for (int i = 0; p && i < p->n_nodes; i++) {
        if (cx->initialised && cx->initialised[i] && p->nodes[i].pn.kind->fini)
            p->nodes[i].pn.kind->fini(&cx->inst[i]);
        if (cx->inst)
            free(cx->inst[i].state);
        if (cx->mat)
            free(cx->mat[i]);
    }
    free(cx->inst);
    free(cx->mat);
    free(cx->initialised);
    for (scratch_chunk *c = cx->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    memset(cx, 0, sizeof *cx);
}

static pg_status exec_init(exec_ctx *cx, const pg_plan *p) {
    memset(cx, 0, sizeof *cx);
    cx->plan = p;
    size_t n = (size_t)(p->n_nodes ? p->n_nodes : 1);
    cx->inst = calloc(n, sizeof *cx->inst);
    cx->mat = calloc(n, sizeof *cx->mat);
    cx->initialised = calloc(n, sizeof *cx->initialised);
    if (!cx->inst || !cx->mat || !cx->initialised)
        return fail(cx, PG_ERR_NOMEM, (pg_srcloc){ 0, 0, 0 }, "out of memory");
    for (int i = 0; i < p->n_nodes; i++) {
        pg_status st = prepare_node(cx, i);
        if (st != PG_OK)
            return st;
    }
    return PG_OK;
}

// ---- the public render API ---------------------------------------------------------------

pg_render *pg_render_new(const pg_plan *p, pg_diag *err) {
    pg_render *r = calloc(1, sizeof *r);
    if (!r) {
        if (err)
            *err = (pg_diag){ .status = PG_ERR_NOMEM, .message = "out of memory" };
        return NULL;
    }
    if (exec_init(&r->cx, p) != PG_OK) {
        if (err)
            *err = r->cx.error;
        pg_render_free(r);
        return NULL;
    }
    r->cursor = p->window.start;
    return r;
}

void pg_render_free(pg_render *r) {
    if (!r)
        return;
    exec_fini(&r->cx);
    free(r);
}

const pg_diag *pg_render_error(const pg_render *r) {
    return &r->cx.error;
}

static bool is_silent(const pe_view *v) {
    for (int c = 0; c < v->channels; c++)
        for (int64_t i = 0; i < v->frames; i++)
            if (v->data[c * v->stride + i] != 0.0f)
                return false;
    return true;
}

// Renders one block of the root at the cursor into out (interleaved).
static int64_t render_block(pg_render *r, float *out, int64_t n) {
    exec_ctx *cx = &r->cx;
    const pg_plan *p = cx->plan;
    scratch_mark m = scratch_get(cx);
    pe_view v;
    if (pull_node(cx, p->root, r->cursor, n, &v) != PG_OK) {
        scratch_release(cx, m);
        return -1;
    }
    for (int64_t i = 0; i < n; i++)
        for (int c = 0; c < v.channels; c++)
            out[i * v.channels + c] = v.data[c * v.stride + i];
    if (p->until_silence && r->cursor >= p->last_finite_end && is_silent(&v))
        r->silent_run = 1;
    scratch_release(cx, m);
    r->cursor += n;
    return n;
}

int64_t pg_render_next(pg_render *r, float *out, int64_t max_frames) {
    const pg_plan *p = r->cx.plan;
    int64_t done = 0;
    while (done < max_frames && r->cursor < p->window.end && !r->silent_run) {
        int64_t n = p->window.end - r->cursor;
        if (n > p->block_frames)
            n = p->block_frames;
        if (n > max_frames - done)
            n = max_frames - done;
        int64_t got = render_block(r, out + done * p->channels, n);
        if (got < 0)
            return -1;
        done += got;
    }
    return done;
}

pg_status pg_render_all(const pg_plan *p, float *out, pg_diag *err) {
    pg_render *r = pg_render_new(p, err);
    if (!r)
        return err ? err->status : PG_ERR_INTERNAL;
    int64_t total = p->window.end - p->window.start;
    int64_t got = pg_render_next(r, out, total);
    pg_status st = got < 0 ? r->cx.error.status : PG_OK;
    if (got < 0 && err)
        *err = r->cx.error;
    for (int64_t i = got < 0 ? 0 : got; i < total; i++) // an until_silence stop leaves zeros
        for (int c = 0; c < p->channels; c++)
            out[i * p->channels + c] = 0.0f;
    pg_render_free(r);
    return st;
}

pg_frame exec_render_cursor(const pg_render *r) {
    return r->cursor;
}
