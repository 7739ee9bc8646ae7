// exec.c: the block executor. Pull-based: rendering a node over a window renders exactly
// the inputs its kernel pulls, over the windows it asks for. Nodes the plan marks
// materialised are rendered once, in time order from their origin, into a buffer before any
// consumer runs (topological order guarantees their inputs are ready), and then read at
// random with no copy. Temporaries live on a per-thread scratch stack released when the
// kernel that pulled them returns, so a render allocates nothing per block once warm.
// Preparing a node (init, then materialising it) is a task that may start once its inputs'
// tasks are done; with -j N, N threads run ready tasks. Each task's output is a pure function
// of the plan, so results never depend on N or on the order tasks finish in.
#include "exec.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "fuse.h"
#include "plan.h"

enum {
    SCRATCH_CHUNK = 4 << 20,
    SCRATCH_ALIGN = 64
};

typedef struct scratch_chunk {
    struct scratch_chunk *next;
    size_t size, used;
    _Alignas(64) unsigned char data[];
} scratch_chunk;

typedef struct scratch_mark {
    scratch_chunk *chunk;
    size_t used;
} scratch_mark;

typedef struct block_run block_run;

typedef struct exec_shared {
    const pg_plan *plan;
    pe_inst *inst;         // one per plan node; cx is set per call to the calling worker
    float **mat;           // materialised buffers (NULL when not materialised / not yet)
    cache_mapping *mapped; // per node: its buffer is a cache entry mapped read-only
    fuse_index **index;    // interval indexes of fused nodes with many inputs
    bool *initialised;
    // Scheduling (-j N): a pool of threads runs every node's init, then node tasks (a
    // materialisation, or nothing) once their inputs' tasks are done, most urgent first, and
    // stream runs as soon as every buffer they may read is ready: so the output streams
    // while later notes are still being materialised.
    pg_frame *first;  // per node: the earliest output frame at which streaming may pull it
    pg_frame *urgent; // per node: when its task is needed (also through its consumers' tasks)
    int *pending;     // per node: its own init and its inputs' tasks not done yet
    int **consumers;  // consumers[i]: nodes with an input slot reading i (one per slot)
    int *n_consumers;
    int *heap, n_heap;                   // ready node tasks, the most urgent on top
    int *early, n_early, next_init;      // nodes initialised before their inputs are ready
    int done;                            // node tasks done
    int *streamed, n_streamed, frontier; // the nodes streaming pulls, by first; frontier:
    bool *ready;                         // the first of them not ready to be pulled
    // Freeing: a materialised buffer is freed once the stream has passed the last frame it
    // may pull it at and every task that may pull it is done. Node tasks run only up to a
    // horizon a little ahead of the stream, so that buffers are freed as fast as they are
    // made and memory follows what sounds at once, not the whole piece.
    pg_frame *last;    // per node: the output frame after which streaming pulls it no more
    int *pullers_left; // per materialised node: the tasks that may still pull it
    int **pulls;       // per node task: the materialised nodes it may pull
    int *n_pulls;
    int *by_last, n_by_last, free_front; // streamed materialised nodes, by last
    pg_frame stream_done, horizon;       // output frames done; tasks needed before horizon run
    size_t live_bytes, peak_bytes;       // materialised buffers alive now, at most
    size_t reserved, budget;             // buffers of tasks running; what later tasks may fill
    // Demand: with a warm cache, a materialised node found in it needs none of its inputs;
    // the nodes nothing needs are neither initialised nor rendered. If an entry turns out
    // damaged when loaded, its inputs are revived (rendered on the spot) after all.
    bool *needed;
    bool *probed;                // found in the cache when the render started
    pthread_mutex_t revive_lock; // one revival at a time (the rare path)
    block_run *runs;             // the stream runs of the current pg_render_next call
    int n_runs, runs_taken, runs_left;
    atomic_bool shutdown; // pg_render_free: the pool stops
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_bool failed; // read without the lock by long tasks, to stop early
    pg_diag error;
    cache *cache;                                 // NULL when disabled
    int n_materialised, cache_hits, cache_misses; // under lock
    double t_start, prepare_sec, stream_sec;
    int threads;
} exec_shared;

struct exec_ctx { // one per thread
    exec_shared *sh;
    scratch_chunk *head, *cur; // the scratch stack's chunks; cur is the one in use
    double *cost;              // seconds spent in each node's own kernel (not its inputs')
    double child_sec;          // time of the kernels the running kernel pulled, so far
};

enum {
    MAX_THREADS = 64,
    LOOKAHEAD_BLOCKS = 8 // node tasks run up to this far ahead of the stream, at least
};

static const double LOOKAHEAD_SEC = 2.0; // ... and at least this far

// Without --mem-limit, node tasks needed later than the lookahead run while the buffers
// alive stay under this: enough to keep every thread busy, little enough for any machine.
#define DEFAULT_BUDGET ((size_t)512 << 20)

struct pg_render {
    exec_shared sh;
    exec_ctx main;              // the calling thread's worker
    exec_ctx pool[MAX_THREADS]; // the pool's workers
    pthread_t threads[MAX_THREADS];
    int n_pool;
    pg_frame cursor;
    bool stopped; // until_silence found its silent block
};

static double now_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

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

// Records the first error of the render (any thread) and returns st.
static pg_status vfail(exec_shared *sh, pg_status st, pg_srcloc loc, const char *fmt, va_list ap) {
    pthread_mutex_lock(&sh->lock);
    if (!sh->failed) {
        sh->failed = true;
        sh->error.status = st;
        sh->error.loc = loc;
        vsnprintf(sh->error.message, sizeof sh->error.message, fmt, ap);
    }
    pthread_mutex_unlock(&sh->lock);
    return st;
}

static pg_status fail(exec_shared *sh, pg_status st, pg_srcloc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static pg_status fail(exec_shared *sh, pg_status st, pg_srcloc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(sh, st, loc, fmt, ap);
    va_end(ap);
    return st;
}

pg_status pe_error(pe_inst *pe, pg_status st, const char *fmt, ...) {
    exec_shared *sh = pe->cx->sh;
    va_list ap;
    va_start(ap, fmt);
    vfail(sh, st, sh->plan->nodes[pe->id].loc, fmt, ap);
    va_end(ap);
    return st;
}

void *pe_scratch(pe_inst *pe, size_t bytes) {
    return scratch_alloc(pe->cx, bytes);
}

static pg_status oom(exec_ctx *cx, int id) {
    return fail(cx->sh, PG_ERR_NOMEM, cx->sh->plan->nodes[id].loc, "out of memory");
}

// ---- pulling -----------------------------------------------------------------------------

// Each node's own time, for --dump-graph: measured only when the plan asks (two clock reads
// per kernel call are not free at small block sizes).
typedef struct timing {
    double outer_child, start;
} timing;

static void timing_begin(exec_ctx *cx, timing *t) {
    if (!cx->cost)
        return;
    t->outer_child = cx->child_sec;
    t->start = now_sec();
    cx->child_sec = 0.0;
}

static void timing_end(exec_ctx *cx, const timing *t, int id) {
    if (!cx->cost)
        return;
    double spent = now_sec() - t->start;
    cx->cost[id] += spent - cx->child_sec;
    cx->child_sec = t->outer_child + spent;
}

// Runs node id's kernel over [t0, t0 + n) (inside its extent) into out, on worker cx,
// releasing whatever the kernel pulled when it returns.
static pg_status run_kernel(exec_ctx *cx, int id, pg_frame t0, int64_t n, pe_buf *out) {
    exec_shared *sh = cx->sh;
    pe_inst local = sh->inst[id];
    local.cx = cx;
    scratch_mark m = scratch_get(cx);
    timing tm = { 0.0, 0.0 };
    timing_begin(cx, &tm);
    pg_status st = sh->plan->nodes[id].pn.kind->process(&local, t0, n, out);
    timing_end(cx, &tm, id);
    scratch_release(cx, m);
    if (st != PG_OK)
        fail(sh, st, sh->plan->nodes[id].loc, "%s failed: %s", sh->plan->nodes[id].pn.kind->name,
             pg_status_str(st));
    return st;
}

static pg_status zero_view(exec_ctx *cx, int id, int channels, int64_t n, pe_view *out) {
    float *d = scratch_alloc(cx, sizeof(float) * (size_t)(n > 0 ? n : 1) * (size_t)channels);
    if (!d)
        return oom(cx, id);
    memset(d, 0, sizeof(float) * (size_t)n * (size_t)channels);
    *out = (pe_view){ channels, n, n, d };
    return PG_OK;
}

// Reads a materialised node: zero-copy when the window lies inside its buffer.
static pg_status read_mat(exec_ctx *cx, int id, pg_frame t0, int64_t n, pg_extent in,
                          pe_view *out) {
    const plan_node *pn = &cx->sh->plan->nodes[id];
    int ch = pn->pn.out.channels;
    int64_t len = pn->mat.end - pn->mat.start;
    const float *buf = cx->sh->mat[id];
    if (in.start == t0 && in.end == t0 + n) {
        *out = (pe_view){ ch, n, len, buf + (t0 - pn->mat.start) };
        return PG_OK;
    }
    pg_status st = zero_view(cx, id, ch, n, out);
    if (st != PG_OK || pg_extent_is_empty(in))
        return st;
    for (int c = 0; c < ch; c++)
        memcpy((float *)out->data + c * n + (in.start - t0),
               buf + c * len + (in.start - pn->mat.start),
               sizeof(float) * (size_t)(in.end - in.start));
    return PG_OK;
}

// ---- fused linear trees ------------------------------------------------------------------

static pg_status pull_node(exec_ctx *cx, int id, pg_frame t0, int64_t n, pe_view *out);

static bool is_fused(const exec_shared *sh, int id) {
    return sh->plan->nodes[id].fused;
}

// Adds w (c_out x ch) times a leaf's output over [t0, t0 + n) into out.
static pg_status add_leaf(exec_ctx *cx, int id, pg_frame t0, int64_t n, float *out, int64_t stride,
                          int c_out, const double *w) {
    int ch = cx->sh->plan->nodes[id].pn.out.channels;
    scratch_mark m = scratch_get(cx);
    pe_view v;
    pg_status st = pull_node(cx, id, t0, n, &v);
    for (int c = 0; st == PG_OK && c < c_out; c++) {
        float *o = out + c * stride;
        for (int j = 0; j < ch; j++) {
            double wj = w[c * ch + j];
            const float *x = v.data + j * v.stride;
            float g = (float)wj;
            if (wj == 1.0)
                for (int64_t i = 0; i < n; i++)
                    o[i] += x[i];
            else if (wj != 0.0)
                for (int64_t i = 0; i < n; i++)
                    o[i] += g * x[i];
        }
    }
    scratch_release(cx, m);
    return st;
}

// The slots of linear node id to visit for [t0, t1): from its index, or all of them.
static int *slots_for(exec_ctx *cx, int id, pg_frame t0, pg_frame t1, int *count) {
    const fuse_index *x = cx->sh->index[id];
    int n_in = cx->sh->plan->nodes[id].pn.n_inputs;
    int cap = x ? fuse_index_bound(x, t0, t1) : n_in;
    int *slots = scratch_alloc(cx, sizeof(int) * (size_t)(cap + 1));
    if (!slots)
        return NULL;
    if (x)
        *count = fuse_index_query(x, t0, t1, slots);
    else
        for (*count = 0; *count < n_in; (*count)++)
            slots[*count] = *count;
    return slots;
}

static pg_status accum(exec_ctx *cx, int id, pg_frame t0, int64_t n, float *out, int64_t stride,
                       int c_out, const double *w);

// Adds w times input `slot` of linear node id: the weights compose as w x M_slot.
static pg_status accum_input(exec_ctx *cx, int id, int slot, pg_extent win, float *out,
                             int64_t stride, int c_out, const double *w) {
    const plan_node *pn = &cx->sh->plan->nodes[id];
    int ch = pn->pn.out.channels, in_ch = pn->pn.in[slot].channels;
    double *wk = scratch_alloc(cx, sizeof(double) * (size_t)(c_out * in_ch));
    if (!wk)
        return oom(cx, id);
    bool any = false;
    for (int c = 0; c < c_out; c++)
        for (int j = 0; j < in_ch; j++) {
            double sum = 0.0;
            for (int k = 0; k < ch; k++)
                if (w[c * ch + k] != 0.0)
                    sum += w[c * ch + k] * pn->pn.kind->linear(&pn->pn, slot, k, j);
            wk[c * in_ch + j] = sum;
            any = any || sum != 0.0;
        }
    if (!any)
        return PG_OK;
    return accum(cx, pn->inputs[slot], win.start, win.end - win.start, out, stride, c_out, wk);
}

// Adds w (c_out x channels of id) times node id over [t0, t0 + n) into out.
static pg_status accum(exec_ctx *cx, int id, pg_frame t0, int64_t n, float *out, int64_t stride,
                       int c_out, const double *w) {
    const plan_node *pn = &cx->sh->plan->nodes[id];
    pg_extent win = pg_extent_intersect((pg_extent){ t0, t0 + n }, pn->pn.out.extent);
    if (pg_extent_is_empty(win))
        return PG_OK;
    out += win.start - t0;
    if (!is_fused(cx->sh, id))
        return add_leaf(cx, id, win.start, win.end - win.start, out, stride, c_out, w);
    scratch_mark m = scratch_get(cx);
    int count = 0;
    int *slots = slots_for(cx, id, win.start, win.end, &count);
    pg_status st = slots ? PG_OK : oom(cx, id);
    for (int i = 0; st == PG_OK && i < count; i++) {
        if (!pg_extent_overlaps(pn->pn.in[slots[i]].extent, win))
            continue;
        scratch_mark mi = scratch_get(cx);
        st = accum_input(cx, id, slots[i], win, out, stride, c_out, w);
        scratch_release(cx, mi);
    }
    scratch_release(cx, m);
    return st;
}

// Renders a fused node: zeros, then every leaf of its linear tree added in once.
static pg_status pull_fused(exec_ctx *cx, int id, pg_frame t0, int64_t n, pe_view *out) {
    int ch = cx->sh->plan->nodes[id].pn.out.channels;
    float *d = scratch_alloc(cx, sizeof(float) * (size_t)(n > 0 ? n : 1) * (size_t)ch);
    double *eye = scratch_alloc(cx, sizeof(double) * (size_t)(ch * ch));
    if (!d || !eye)
        return oom(cx, id);
    memset(d, 0, sizeof(float) * (size_t)n * (size_t)ch);
    for (int i = 0; i < ch * ch; i++)
        eye[i] = i % (ch + 1) == 0 ? 1.0 : 0.0;
    *out = (pe_view){ ch, n, n, d };
    return accum(cx, id, t0, n, d, n, ch, eye);
}

static pg_status pull_node(exec_ctx *cx, int id, pg_frame t0, int64_t n, pe_view *out) {
    exec_shared *sh = cx->sh;
    const plan_node *pn = &sh->plan->nodes[id];
    int ch = pn->pn.out.channels;
    pg_extent want = { t0, t0 + n };
    pg_extent in = pg_extent_intersect(want, pn->pn.out.extent);
    // Outside its extent a node is never touched: a buffer still being materialised by
    // another thread is read only once the scheduler has seen it done.
    if (pg_extent_is_empty(in))
        return zero_view(cx, id, ch, n, out);
    if (pn->materialise && sh->mat[id])
        return read_mat(cx, id, t0, n, pg_extent_intersect(in, pn->mat), out);
    if (is_fused(sh, id)) {
        timing tm = { 0.0, 0.0 };
        timing_begin(cx, &tm);
        pg_status st = pull_fused(cx, id, t0, n, out);
        timing_end(cx, &tm, id);
        return st;
    }
    if (pn->materialise)
        return fail(sh, PG_ERR_INTERNAL, pn->loc, "%s pulled before it was materialised",
                    pn->pn.kind->name);
    float *d = scratch_alloc(cx, sizeof(float) * (size_t)n * (size_t)ch);
    if (!d)
        return oom(cx, id);
    if (in.start != t0 || in.end != t0 + n)
        memset(d, 0, sizeof(float) * (size_t)n * (size_t)ch);
    pe_buf b = { ch, in.end - in.start, n, d + (in.start - t0) };
    pg_status st = run_kernel(cx, id, in.start, in.end - in.start, &b);
    *out = (pe_view){ ch, n, n, d };
    return st;
}

pg_status pe_pull(pe_inst *pe, int slot, pg_frame t0, int64_t n, pe_view *out) {
    exec_shared *sh = pe->cx->sh;
    const plan_node *pn = &sh->plan->nodes[pe->id];
    if (slot < 0 || slot >= pn->pn.n_inputs || n < 0)
        return fail(sh, PG_ERR_INTERNAL, pn->loc, "%s pulled a bad input %d", pn->pn.kind->name,
                    slot);
    return pull_node(pe->cx, pn->inputs[slot], t0, n, out);
}

// ---- preparing nodes: init and materialise -----------------------------------------------

static pg_status revive_below(exec_ctx *cx, int id, int **made, int *n_made);

// Renders node id over its span in time order, block by block, straight into buf.
static pg_status render_span(exec_ctx *cx, int id, float *buf) {
    exec_shared *sh = cx->sh;
    const plan_node *pn = &sh->plan->nodes[id];
    int64_t len = pn->mat.end - pn->mat.start, block = sh->plan->block_frames;
    for (int64_t off = 0; off < len && !sh->failed && !sh->shutdown; off += block) {
        int64_t n = len - off < block ? len - off : block;
        pe_buf b = { pn->pn.out.channels, n, len, buf + off };
        if (run_kernel(cx, id, pn->mat.start + off, n, &b) != PG_OK)
            break;
    }
    return sh->failed ? sh->error.status : sh->shutdown ? PG_ERR_INTERNAL : PG_OK;
}

static void free_mat(exec_shared *sh, int id);

// A node found in the cache at the start whose entry is damaged now: what it reads was
// never rendered. Renders that (one revival at a time), then the node, then drops it again.
static pg_status render_revived(exec_ctx *cx, int id, float *buf) {
    exec_shared *sh = cx->sh;
    int *made = NULL, n_made = 0;
    pthread_mutex_lock(&sh->revive_lock);
    pg_status st = revive_below(cx, id, &made, &n_made);
    if (st == PG_OK)
        st = render_span(cx, id, buf);
    pthread_mutex_lock(&sh->lock);
    for (int k = 0; k < n_made; k++)
        free_mat(sh, made[k]);
    pthread_mutex_unlock(&sh->lock);
    pthread_mutex_unlock(&sh->revive_lock);
    free(made);
    return st;
}

// Renders node id over its span [mat.start, mat.end) into a new buffer, or maps it from
// the cache; stores what it rendered in the cache.
static pg_status materialise(exec_ctx *cx, int id) {
    exec_shared *sh = cx->sh;
    const plan_node *pn = &sh->plan->nodes[id];
    int64_t len = pn->mat.end - pn->mat.start;
    int ch = pn->pn.out.channels;
    size_t bytes = sizeof(float) * (size_t)(len > 0 ? len : 1) * (size_t)ch;
    uint64_t key =
        pn->cacheable && sh->cache ? cache_key(pn->hash, pn->mat, ch, pn->pn.out.frame_rate) : 0;
    cache_mapping map = { NULL, 0 };
    // read-only: materialised buffers are never written once made
    float *buf = key ? (float *)cache_map(sh->cache, key, ch, len, &map) : NULL;
    bool hit = buf != NULL;
    if (!hit && !(buf = malloc(bytes)))
        return fail(sh, PG_ERR_NOMEM, pn->loc, "out of memory materialising %s (%lld frames)",
                    pn->pn.kind->name, (long long)len);
    pg_status st = hit              ? PG_OK
                   : sh->probed[id] ? render_revived(cx, id, buf)
                                    : render_span(cx, id, buf);
    if (st != PG_OK) {
        free(buf);
        return st;
    }
    if (key && !hit)
        cache_store(sh->cache, key, buf, ch, len);
    pthread_mutex_lock(&sh->lock);
    sh->n_materialised++;
    sh->cache_hits += hit;
    sh->cache_misses += key && !hit;
    sh->mat[id] = buf;
    sh->mapped[id] = map;
    sh->live_bytes += bytes;
    sh->peak_bytes = sh->live_bytes > sh->peak_bytes ? sh->live_bytes : sh->peak_bytes;
    pthread_mutex_unlock(&sh->lock);
    return PG_OK;
}

static pg_status init_node(exec_ctx *cx, int id);

// What a revival must bring up: every node below id that is not a materialised node with
// its buffer (those are ready), in plan (topological) order.
static int collect_revival(exec_shared *sh, int id, bool *seen, int *stack, int *order) {
    const plan_node *nodes = sh->plan->nodes;
    int top = 0, n = 0;
    stack[top++] = id;
    while (top > 0) {
        const plan_node *pn = &nodes[stack[--top]];
        for (int s = 0; s < pn->pn.n_inputs; s++) {
            int i = pn->inputs[s];
            pthread_mutex_lock(&sh->lock);
            bool ready = nodes[i].materialise && sh->mat[i];
            pthread_mutex_unlock(&sh->lock);
            if (seen[i] || ready)
                continue;
            seen[i] = true;
            stack[top++] = i;
        }
    }
    for (int i = 0; i < id; i++)
        if (seen[i])
            order[n++] = i;
    return n;
}

// Brings node j up for a revival: initialised afresh (a stateful node restarts from its
// origin), and rendered if it is materialised.
static pg_status revive_node(exec_ctx *cx, int j, int *made, int *n_made) {
    exec_shared *sh = cx->sh;
    const plan_node *pn = &sh->plan->nodes[j];
    if (!pn->materialise && sh->initialised[j])
        return PG_OK; // stateless and in use elsewhere: as it is
    if (sh->initialised[j] && pn->pn.kind->fini)
        pn->pn.kind->fini(&sh->inst[j]);
    free(sh->inst[j].state);
    sh->inst[j].state = NULL;
    sh->initialised[j] = false;
    pg_status st = init_node(cx, j);
    if (st != PG_OK || !pn->materialise)
        return st;
    int64_t len = pn->mat.end - pn->mat.start;
    size_t bytes = sizeof(float) * (size_t)(len > 0 ? len : 1) * (size_t)pn->pn.out.channels;
    float *buf = malloc(bytes);
    if (!buf)
        return oom(cx, j);
    if ((st = render_span(cx, j, buf)) != PG_OK) {
        free(buf);
        return st;
    }
    pthread_mutex_lock(&sh->lock);
    sh->mat[j] = buf;
    sh->live_bytes += bytes;
    pthread_mutex_unlock(&sh->lock);
    made[(*n_made)++] = j;
    return PG_OK;
}

static pg_status revive_below(exec_ctx *cx, int id, int **made, int *n_made) {
    size_t n = (size_t)cx->sh->plan->n_nodes + 1;
    bool *seen = calloc(n, sizeof(bool));
    int *stack = malloc(n * sizeof(int)), *order = malloc(n * sizeof(int));
    *made = malloc(n * sizeof(int));
    pg_status st = seen && stack && order && *made ? PG_OK : oom(cx, id);
    int count = st == PG_OK ? collect_revival(cx->sh, id, seen, stack, order) : 0;
    for (int k = 0; st == PG_OK && k < count; k++)
        st = revive_node(cx, order[k], *made, n_made);
    free(seen);
    free(stack);
    free(order);
    return st;
}

// A node's init: its state, its kind's init and its interval index. Inits read no input, so
// they all may run at once, before anything is pulled.
static pg_status init_node(exec_ctx *cx, int id) {
    exec_shared *sh = cx->sh;
    const plan_node *pn = &sh->plan->nodes[id];
    pe_inst *pe = &sh->inst[id];
    pe->node = &pn->pn;
    pe->id = id;
    pe->origin = pn->materialise ? pn->mat.start : pn->need.start;
    if (pn->pn.kind->state_size && !(pe->state = calloc(1, pn->pn.kind->state_size)))
        return oom(cx, id);
    if (pn->pn.kind->init) {
        pe_inst local = *pe;
        local.cx = cx;
        scratch_mark m = scratch_get(cx);
        pg_status st = pn->pn.kind->init(&local);
        scratch_release(cx, m);
        if (st != PG_OK)
            return fail(sh, st, pn->loc, "%s: %s", pn->pn.kind->name, pg_status_str(st));
    }
    sh->initialised[id] = true;
    if (is_fused(sh, id))
        sh->index[id] = fuse_index_new(&pn->pn); // NULL (no index) for a few inputs
    return PG_OK;
}

// A kind's init may pull its inputs (ConvolvePE reads its impulse response): a node whose
// kind has an init and which has inputs is initialised in its task, once they are ready.
static bool early_init(const plan_node *pn) {
    return pn->pn.kind->init == NULL || pn->pn.n_inputs == 0;
}

// Whose task pulls inputs: a materialisation, or an init that may pull.
static bool is_task_puller(const plan_node *pn) {
    return pn->materialise || !early_init(pn);
}

// A node's task, once its inputs' tasks are done: its init if that may pull, then
// materialising it if the plan says so (its inputs can all be pulled by then).
static pg_status node_task(exec_ctx *cx, int id) {
    const plan_node *pn = &cx->sh->plan->nodes[id];
    if (!cx->sh->needed[id])
        return PG_OK;
    pg_status st = early_init(pn) ? PG_OK : init_node(cx, id);
    if (st == PG_OK && pn->materialise && !pg_extent_is_empty(pn->mat))
        st = materialise(cx, id);
    return st;
}

// A worker's per-node time accumulator, or NULL when the plan does not measure.
static double *node_costs(const pg_plan *p) {
    return p->measure ? calloc((size_t)p->n_nodes + 1, sizeof(double)) : NULL;
}

// ---- when streaming first pulls each node ------------------------------------------------

static bool is_task_puller(const plan_node *pn);

static pg_frame frame_min(pg_frame a, pg_frame b) {
    return a < b ? a : b;
}

static pg_frame frame_max(pg_frame a, pg_frame b) {
    return a > b ? a : b;
}

// first[i]: a lower bound on the output frame at which streaming first pulls node i
// (PG_FRAME_MAX: only materialisations pull it). A node is pulled only while a consumer is
// pulled, and only over frames inside its extent; while every consumer on the way from the
// root reads its inputs at the frames it makes (need == NULL), node and output frames are the
// same, so a node's extent start (less a block: blocks are whole) bounds it as well.
// urgent[i] is when i is first needed at all: its own first, or when a task that pulls it
// runs (the urgency of a materialised node, through its non-materialised inputs). last[i]
// is the matching upper bound: streaming pulls i at no output frame from last[i] on.
static void plan_first_pulls(exec_shared *sh, bool *aligned) {
    const pg_plan *p = sh->plan;
    for (int i = 0; i < p->n_nodes; i++) {
        sh->first[i] = sh->urgent[i] = PG_FRAME_MAX;
        sh->last[i] = PG_FRAME_MIN;
    }
    sh->first[p->root] = p->window.start;
    sh->last[p->root] = p->window.end;
    aligned[p->root] = true;
    for (int x = p->n_nodes - 1; x >= 0; x--) { // consumers before their inputs
        const plan_node *pn = &p->nodes[x];
        pg_frame by_task = sh->urgent[x]; // so far: when tasks pull it
        sh->urgent[x] = frame_min(by_task, sh->first[x]);
        pg_frame pulled = is_task_puller(pn) ? sh->urgent[x] : by_task;
        bool same = pn->pn.kind->need == NULL && aligned[x];
        for (int s = 0; s < pn->pn.n_inputs; s++) {
            int i = pn->inputs[s];
            sh->urgent[i] = frame_min(sh->urgent[i], pulled);
            if (pn->materialise || sh->first[x] == PG_FRAME_MAX)
                continue; // pulled by x's materialisation, which waits for i's task
            pg_extent e = p->nodes[i].pn.out.extent;
            pg_frame f = sh->first[x], l = sh->last[x];
            if (same && e.start != PG_FRAME_MIN)
                f = frame_max(f, e.start - (p->block_frames - 1));
            if (same && e.end != PG_FRAME_MAX)
                l = frame_min(l, e.end + (p->block_frames - 1));
            bool was_pulled = sh->first[i] != PG_FRAME_MAX;
            aligned[i] = same && (aligned[i] || !was_pulled);
            sh->first[i] = frame_min(sh->first[i], f);
            sh->last[i] = frame_max(sh->last[i], l);
        }
    }
}

// Sorts ids by key[id] (a stable merge sort).
static void sort_by(const pg_frame *key, int *ids, int *tmp, int n) {
    if (n < 2)
        return;
    int h = n / 2;
    sort_by(key, ids, tmp, h);
    sort_by(key, ids + h, tmp, n - h);
    int i = 0, j = h, k = 0;
    while (i < h || j < n)
        tmp[k++] = j >= n || (i < h && key[ids[i]] <= key[ids[j]]) ? ids[i++] : ids[j++];
    memcpy(ids, tmp, sizeof(int) * (size_t)n);
}

// The nodes streaming pulls, in the order it first pulls them.
static int plan_streamed(exec_shared *sh) {
    const pg_plan *p = sh->plan;
    int *tmp = malloc(sizeof(int) * (size_t)(p->n_nodes + 1));
    if (!tmp)
        return -1;
    sh->n_streamed = 0;
    for (int i = 0; i < p->n_nodes; i++)
        if (sh->first[i] != PG_FRAME_MAX)
            sh->streamed[sh->n_streamed++] = i;
    for (int i = 0; i < p->n_nodes; i++)
        if (sh->needed[i] && early_init(&p->nodes[i]))
            sh->early[sh->n_early++] = i;
    sort_by(sh->first, sh->streamed, tmp, sh->n_streamed);
    free(tmp);
    return 0;
}

enum {
    MAX_PULL_VISITS = 1 << 22 // past this, the graph is too tangled to track: never free early
};

// Collects into pulls the materialised nodes reachable from node x's inputs through nodes
// that are not materialised (what x's task may pull). Returns the visits made, or -1.
static int64_t collect_pulls(exec_shared *sh, int x, int *stamp, int *stack, int *pulls) {
    const pg_plan *p = sh->plan;
    int top = 0, n = 0;
    int64_t visits = 0;
    stack[top++] = x;
    while (top > 0) {
        const plan_node *pn = &p->nodes[stack[--top]];
        for (int s = 0; s < pn->pn.n_inputs; s++, visits++) {
            int i = pn->inputs[s];
            if (stamp[i] == x + 1)
                continue;
            stamp[i] = x + 1;
            if (p->nodes[i].materialise)
                pulls[n++] = i;
            else
                stack[top++] = i;
        }
    }
    sh->n_pulls[x] = n;
    return visits;
}

// pulls[x] for every node whose task may pull (see is_task_puller), and pullers_left.
static int plan_pulls(exec_shared *sh) {
    const pg_plan *p = sh->plan;
    size_t n = (size_t)p->n_nodes + 1;
    int *stamp = calloc(n, sizeof(int)), *stack = malloc(n * sizeof(int));
    int *tmp = malloc(n * sizeof(int));
    int64_t visits = 0;
    int rc = stamp && stack && tmp ? 0 : -1;
    for (int x = 0; rc == 0 && x < p->n_nodes && visits < MAX_PULL_VISITS; x++) {
        if (!is_task_puller(&p->nodes[x]))
            continue;
        visits += collect_pulls(sh, x, stamp, stack, tmp);
        sh->pulls[x] = malloc(sizeof(int) * (size_t)(sh->n_pulls[x] + 1));
        if (!sh->pulls[x])
            rc = -1;
        for (int k = 0; rc == 0 && k < sh->n_pulls[x]; k++)
            sh->pullers_left[(sh->pulls[x][k] = tmp[k])]++;
    }
    for (int i = 0; visits >= MAX_PULL_VISITS && i < p->n_nodes; i++)
        sh->pullers_left[i] = INT32_MAX / 2; // too tangled: kept to the end
    free(stamp);
    free(stack);
    free(tmp);
    return rc;
}

// The materialised nodes, by the output frame from which streaming no longer pulls them.
static int plan_by_last(exec_shared *sh) {
    const pg_plan *p = sh->plan;
    int *tmp = malloc(sizeof(int) * (size_t)(p->n_nodes + 1));
    if (!tmp)
        return -1;
    for (int i = 0; i < p->n_nodes; i++)
        if (p->nodes[i].materialise)
            sh->by_last[sh->n_by_last++] = i;
    sort_by(sh->last, sh->by_last, tmp, sh->n_by_last);
    free(tmp);
    return 0;
}

static void release_buffer(exec_shared *sh, int id) {
    if (sh->mapped[id].base)
        cache_unmap(&sh->mapped[id]);
    else
        free(sh->mat[id]);
    sh->mat[id] = NULL; // a pull now is an internal error, never a read of freed memory
}

// Under the lock.
static void free_mat(exec_shared *sh, int id) {
    const plan_node *pn = &sh->plan->nodes[id];
    int64_t len = pn->mat.end - pn->mat.start;
    release_buffer(sh, id);
    sh->live_bytes -= sizeof(float) * (size_t)(len > 0 ? len : 1) * (size_t)pn->pn.out.channels;
}

// ---- memory needed at once ---------------------------------------------------------------

// The buffer node id's task makes (0 when it makes none).
static size_t task_bytes(const exec_shared *sh, int id) {
    const plan_node *pn = &sh->plan->nodes[id];
    if (!pn->materialise || !sh->needed[id] || pg_extent_is_empty(pn->mat))
        return 0;
    return sizeof(float) * (size_t)(pn->mat.end - pn->mat.start) * (size_t)pn->pn.out.channels;
}

typedef struct mem_event {
    pg_frame t;
    int64_t bytes; // + made, - freed
} mem_event;

static int by_time(const void *a, const void *b) {
    const mem_event *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->bytes > y->bytes) - (x->bytes < y->bytes); // frees first at a tie
}

// release[i]: the output frame from which node i is pulled no more: past its last stream
// pull, and past the release of every task that pulls it.
static void plan_release(const exec_shared *sh, pg_frame *release) {
    const pg_plan *p = sh->plan;
    for (int i = 0; i < p->n_nodes; i++)
        release[i] = sh->last[i];
    for (int x = p->n_nodes - 1; x >= 0; x--) // pullers before what they pull
        for (int k = 0; sh->pulls[x] && k < sh->n_pulls[x]; k++)
            release[sh->pulls[x][k]] = frame_max(release[sh->pulls[x][k]], release[x]);
}

// The most the buffers the stream needs at once take: a buffer lives from when its task is
// needed (its urgency, less the lookahead) until its release. A pure function of the plan,
// so a render over the memory limit fails at its start, on every run alike.
static size_t needed_at_once(const exec_shared *sh, pg_frame ahead) {
    const pg_plan *p = sh->plan;
    pg_frame *release = malloc(sizeof(pg_frame) * (size_t)(p->n_nodes + 1));
    mem_event *ev = malloc(sizeof *ev * (size_t)(2 * p->n_nodes + 1));
    size_t peak = 0;
    int n = 0;
    if (release && ev) {
        plan_release(sh, release);
        for (int i = 0; i < p->n_nodes; i++) {
            int64_t b = (int64_t)task_bytes(sh, i);
            if (b == 0)
                continue;
            pg_frame from = sh->urgent[i] == PG_FRAME_MAX ? PG_FRAME_MAX - 1 : sh->urgent[i];
            ev[n++] = (mem_event){ from > PG_FRAME_MIN + ahead ? from - ahead : from, b };
            ev[n++] = (mem_event){ frame_max(release[i], from), -b };
        }
        qsort(ev, (size_t)n, sizeof *ev, by_time);
    }
    int64_t live = 0;
    for (int k = 0; k < n; k++) {
        live += ev[k].bytes;
        peak = (size_t)live > peak ? (size_t)live : peak;
    }
    free(release);
    free(ev);
    return peak;
}

// Under the lock: frees materialised node id's buffer if nothing will pull it again.
static void try_free(exec_shared *sh, int id) {
    if (sh->mat[id] && sh->pullers_left[id] == 0 && sh->last[id] <= sh->stream_done)
        free_mat(sh, id);
}

// Under the lock: the output before frame t is rendered.
static void stream_advanced(exec_shared *sh, pg_frame t) {
    sh->stream_done = t;
    for (; sh->free_front < sh->n_by_last; sh->free_front++) {
        int id = sh->by_last[sh->free_front];
        if (sh->last[id] > t)
            break;
        try_free(sh, id);
    }
}

// Streaming [t0, t1) may start once every node it may pull is ready: initialised, and
// materialised if the plan says so.
static bool stream_ready(const exec_shared *sh, pg_frame t1) {
    return sh->frontier == sh->n_streamed || sh->first[sh->streamed[sh->frontier]] >= t1;
}

// Under the lock: node id can be pulled by streaming.
static void node_ready(exec_shared *sh, int id) {
    sh->ready[id] = true;
    while (sh->frontier < sh->n_streamed && sh->ready[sh->streamed[sh->frontier]])
        sh->frontier++;
}

// ---- the task graph ----------------------------------------------------------------------

// needed[i]: whether node i is pulled at all: by streaming, or by the task of a needed node
// that is not found in the cache (probed[i]: it is, so it needs none of its inputs).
static void plan_needed(exec_shared *sh) {
    const pg_plan *p = sh->plan;
    sh->needed[p->root] = true;
    for (int x = p->n_nodes - 1; x >= 0; x--) {
        const plan_node *pn = &p->nodes[x];
        if (!sh->needed[x])
            continue;
        if (pn->materialise && pn->cacheable && sh->cache && !pg_extent_is_empty(pn->mat)) {
            int ch = pn->pn.out.channels;
            uint64_t key = cache_key(pn->hash, pn->mat, ch, pn->pn.out.frame_rate);
            sh->probed[x] = cache_has(sh->cache, key, ch, pn->mat.end - pn->mat.start);
        }
        for (int s = 0; !sh->probed[x] && s < pn->pn.n_inputs; s++)
            sh->needed[pn->inputs[s]] = true;
    }
}

static void heap_push(exec_shared *sh, int id);

static int build_edges(exec_shared *sh) {
    const pg_plan *p = sh->plan;
    for (int i = 0; i < p->n_nodes; i++)
        for (int s = 0; s < p->nodes[i].pn.n_inputs; s++)
            sh->n_consumers[p->nodes[i].inputs[s]]++;
    for (int i = 0; i < p->n_nodes; i++) {
        sh->consumers[i] = malloc(sizeof(int) * (size_t)(sh->n_consumers[i] + 1));
        if (!sh->consumers[i])
            return -1;
        sh->n_consumers[i] = 0;
    }
    for (int i = 0; i < p->n_nodes; i++) {
        sh->pending[i] = p->nodes[i].pn.n_inputs + (sh->needed[i] && early_init(&p->nodes[i]));
        for (int s = 0; s < p->nodes[i].pn.n_inputs; s++) {
            int in = p->nodes[i].inputs[s];
            sh->consumers[in][sh->n_consumers[in]++] = i;
        }
        if (sh->pending[i] == 0) // nothing to wait for: an unneeded generator
            heap_push(sh, i);
    }
    return 0;
}

// The ready node tasks form a binary heap on (urgent, id): the order is a pure function of
// the plan, though results never depend on it.
static bool heap_less(const exec_shared *sh, int a, int b) {
    return sh->urgent[a] != sh->urgent[b] ? sh->urgent[a] < sh->urgent[b] : a < b;
}

static void heap_push(exec_shared *sh, int id) {
    int k = sh->n_heap++;
    while (k > 0 && heap_less(sh, id, sh->heap[(k - 1) / 2])) {
        sh->heap[k] = sh->heap[(k - 1) / 2];
        k = (k - 1) / 2;
    }
    sh->heap[k] = id;
}

static int heap_pop(exec_shared *sh) {
    int top = sh->heap[0], last = sh->heap[--sh->n_heap], k = 0;
    for (;;) {
        int c = 2 * k + 1;
        if (c >= sh->n_heap)
            break;
        if (c + 1 < sh->n_heap && heap_less(sh, sh->heap[c + 1], sh->heap[c]))
            c++;
        if (!heap_less(sh, sh->heap[c], last))
            break;
        sh->heap[k] = sh->heap[c];
        k = c;
    }
    if (sh->n_heap > 0)
        sh->heap[k] = last;
    return top;
}

static void dependency_done(exec_shared *sh, int id) {
    if (--sh->pending[id] == 0)
        heap_push(sh, id);
}

// Under the lock: node id's task is done; its consumers may become ready, and what it
// pulled may be freed.
static void node_done(exec_shared *sh, int id) {
    sh->done++;
    for (int k = 0; sh->needed[id] && sh->pulls[id] && k < sh->n_pulls[id]; k++) {
        sh->pullers_left[sh->pulls[id][k]]--;
        try_free(sh, sh->pulls[id][k]);
    }
    try_free(sh, id);
    for (int k = 0; k < sh->n_consumers[id]; k++)
        dependency_done(sh, sh->consumers[id][k]);
    if (sh->plan->nodes[id].materialise || !early_init(&sh->plan->nodes[id]))
        node_ready(sh, id);
}

// Under the lock: node id's early init is done.
static void init_done(exec_shared *sh, int id) {
    dependency_done(sh, id);
    if (!sh->plan->nodes[id].materialise)
        node_ready(sh, id);
}

// ---- the pool ----------------------------------------------------------------------------

// A run of whole blocks of the output, the same blocks a sequential render makes: so the
// output never depends on how a call was split into runs.
struct block_run {
    pg_frame t0, end;
    float *out;
    bool failed;
};

typedef enum task_kind {
    TASK_NONE,
    TASK_INIT,
    TASK_NODE,
    TASK_RUN
} task_kind;

typedef struct task {
    task_kind kind;
    int index; // node id or run index
} task;

// Under the lock: a task the stream needs soon always starts (the render checked at its
// start that those fit the memory limit); one needed later starts while the buffers alive
// and in the making leave room in the budget, keeping the threads busy.
static bool may_start(const exec_shared *sh, int id) {
    if (sh->urgent[id] < sh->horizon)
        return true;
    return sh->live_bytes + sh->reserved + task_bytes(sh, id) <= sh->budget;
}

// Under the lock: the next task, streaming first (it is what the caller waits for), then
// inits, then the most urgent ready node.
static task pick_task(exec_shared *sh) {
    if (sh->failed || sh->shutdown)
        return (task){ TASK_NONE, 0 };
    if (sh->runs_taken < sh->n_runs && stream_ready(sh, sh->runs[sh->runs_taken].end))
        return (task){ TASK_RUN, sh->runs_taken++ };
    if (sh->next_init < sh->n_early)
        return (task){ TASK_INIT, sh->early[sh->next_init++] };
    if (sh->n_heap > 0 && may_start(sh, sh->heap[0])) {
        sh->reserved += task_bytes(sh, sh->heap[0]);
        return (task){ TASK_NODE, heap_pop(sh) };
    }
    return (task){ TASK_NONE, 0 };
}

static int render_block(exec_ctx *cx, pg_frame t0, int64_t n, float *out);

static void run_stream(exec_ctx *cx, block_run *run) {
    const pg_plan *p = cx->sh->plan;
    for (pg_frame t = run->t0; t < run->end && !run->failed; t += p->block_frames) {
        int64_t n = run->end - t < p->block_frames ? run->end - t : p->block_frames;
        run->failed = render_block(cx, t, n, run->out + (t - run->t0) * p->channels) < 0;
    }
}

// Runs t (outside the lock) and records it done (under the lock, which the caller holds).
static void run_task(exec_ctx *cx, task t) {
    exec_shared *sh = cx->sh;
    pthread_mutex_unlock(&sh->lock);
    pg_status st = PG_OK;
    if (t.kind == TASK_INIT)
        st = init_node(cx, t.index);
    else if (t.kind == TASK_NODE)
        st = node_task(cx, t.index);
    else
        run_stream(cx, &sh->runs[t.index]);
    pthread_mutex_lock(&sh->lock);
    if (t.kind == TASK_INIT && st == PG_OK) {
        init_done(sh, t.index);
    } else if (t.kind == TASK_NODE) {
        sh->reserved -= task_bytes(sh, t.index);
        if (st == PG_OK)
            node_done(sh, t.index);
    } else if (t.kind == TASK_RUN) {
        sh->runs_left--;
    }
    pthread_cond_broadcast(&sh->wake);
}

static void *pool_main(void *arg) {
    exec_ctx *cx = arg;
    exec_shared *sh = cx->sh;
    pthread_mutex_lock(&sh->lock);
    while (!sh->shutdown) {
        task t = pick_task(sh);
        if (t.kind == TASK_NONE)
            pthread_cond_wait(&sh->wake, &sh->lock);
        else
            run_task(cx, t);
    }
    pthread_mutex_unlock(&sh->lock);
    return NULL;
}

// Under the lock: the calling thread works on tasks (or waits) until done(sh) holds or the
// render failed; it then still waits for stream runs in flight, which write the caller's
// buffer.
static void help_until(exec_ctx *cx, bool (*done)(const exec_shared *, pg_frame), pg_frame arg) {
    exec_shared *sh = cx->sh;
    while (!(sh->failed ? sh->runs_taken - (sh->n_runs - sh->runs_left) == 0 : done(sh, arg))) {
        task t = pick_task(sh);
        if (t.kind == TASK_NONE)
            pthread_cond_wait(&sh->wake, &sh->lock);
        else
            run_task(cx, t);
    }
}

static bool runs_finished(const exec_shared *sh, pg_frame unused) {
    (void)unused;
    return sh->runs_left == 0;
}

static bool all_done(const exec_shared *sh, pg_frame unused) {
    (void)unused;
    return sh->done == sh->plan->n_nodes;
}

static void scratch_free(exec_ctx *cx) {
    for (scratch_chunk *c = cx->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    cx->head = cx->cur = NULL;
}

static int thread_count(const pg_plan *p) {
    long n = p->threads > 0 ? p->threads : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

// Starts the pool: the calling thread is one of the -j N workers, N - 1 more run here.
static void pool_start(pg_render *r) {
    r->sh.threads = thread_count(r->sh.plan);
    for (int k = 0; k < r->sh.threads - 1; k++) {
        r->pool[k] = (exec_ctx){ .sh = &r->sh };
        r->pool[k].cost = node_costs(r->sh.plan);
        if (pthread_create(&r->threads[k], NULL, pool_main, &r->pool[k]) != 0) {
            free(r->pool[k].cost);
            break;
        }
        r->n_pool = k + 1;
    }
}

static void pool_stop(pg_render *r) {
    pthread_mutex_lock(&r->sh.lock);
    r->sh.shutdown = true;
    pthread_cond_broadcast(&r->sh.wake);
    pthread_mutex_unlock(&r->sh.lock);
    for (int k = 0; k < r->n_pool; k++)
        pthread_join(r->threads[k], NULL);
}

static void shared_fini(exec_shared *sh) {
    const pg_plan *p = sh->plan;
    for (int i = 0; p && i < p->n_nodes; i++) {
        if (sh->initialised && sh->initialised[i] && p->nodes[i].pn.kind->fini)
            p->nodes[i].pn.kind->fini(&sh->inst[i]);
        if (sh->inst)
            free(sh->inst[i].state);
        if (sh->mat && sh->mapped)
            release_buffer(sh, i);
        if (sh->consumers)
            free(sh->consumers[i]);
        if (sh->pulls)
            free(sh->pulls[i]);
        if (sh->index)
            fuse_index_free(sh->index[i]);
    }
    void *arrays[] = { sh->inst,     sh->mat,     sh->index,     sh->initialised, sh->first,
                       sh->urgent,   sh->pending, sh->consumers, sh->n_consumers, sh->heap,
                       sh->streamed, sh->ready,   sh->early,     sh->last,        sh->pullers_left,
                       sh->n_pulls,  sh->by_last, sh->needed,    sh->probed,      sh->mapped };
    for (size_t k = 0; k < sizeof arrays / sizeof arrays[0]; k++)
        free(arrays[k]);
    free(sh->pulls);
    cache_close(sh->cache);
    pthread_mutex_destroy(&sh->lock);
    pthread_mutex_destroy(&sh->revive_lock);
    pthread_cond_destroy(&sh->wake);
}

static pg_status shared_init(exec_shared *sh, const pg_plan *p) {
    memset(sh, 0, sizeof *sh);
    sh->plan = p;
    pthread_mutex_init(&sh->lock, NULL);
    pthread_mutex_init(&sh->revive_lock, NULL);
    pthread_cond_init(&sh->wake, NULL);
    size_t n = (size_t)(p->n_nodes ? p->n_nodes : 1);
    sh->inst = calloc(n, sizeof *sh->inst);
    sh->mat = calloc(n, sizeof *sh->mat);
    sh->initialised = calloc(n, sizeof *sh->initialised);
    sh->index = calloc(n, sizeof *sh->index);
    sh->first = calloc(n, sizeof *sh->first);
    sh->urgent = calloc(n, sizeof *sh->urgent);
    sh->pending = calloc(n, sizeof *sh->pending);
    sh->consumers = calloc(n, sizeof *sh->consumers);
    sh->n_consumers = calloc(n, sizeof *sh->n_consumers);
    sh->heap = calloc(n, sizeof *sh->heap);
    sh->streamed = calloc(n, sizeof *sh->streamed);
    sh->ready = calloc(n, sizeof *sh->ready);
    sh->early = calloc(n, sizeof *sh->early);
    sh->last = calloc(n, sizeof *sh->last);
    sh->pullers_left = calloc(n, sizeof *sh->pullers_left);
    sh->pulls = calloc(n, sizeof *sh->pulls);
    sh->n_pulls = calloc(n, sizeof *sh->n_pulls);
    sh->by_last = calloc(n, sizeof *sh->by_last);
    sh->needed = calloc(n, sizeof *sh->needed);
    sh->probed = calloc(n, sizeof *sh->probed);
    sh->mapped = calloc(n, sizeof *sh->mapped);
    for (int i = 0; i < p->n_nodes && !sh->cache; i++)
        if (p->nodes[i].cacheable)
            sh->cache = cache_open(p->cache_dir, 0);
    bool *aligned = calloc(n, sizeof *aligned);
    bool ok = sh->inst && sh->mat && sh->initialised && sh->index && sh->first && sh->urgent &&
              sh->pending && sh->consumers && sh->n_consumers && sh->heap && sh->streamed &&
              sh->ready && sh->early && sh->last && sh->pullers_left && sh->pulls && sh->n_pulls &&
              sh->by_last && sh->needed && sh->probed && sh->mapped && aligned;
    if (ok) {
        plan_needed(sh);
        plan_first_pulls(sh, aligned); // before build_edges, which queues by urgency
    }
    ok = ok && build_edges(sh) == 0;
    free(aligned);
    if (!ok || plan_streamed(sh) < 0 || plan_pulls(sh) < 0 || plan_by_last(sh) < 0)
        return fail(sh, PG_ERR_NOMEM, (pg_srcloc){ 0, 0, 0 }, "out of memory");
    return PG_OK;
}

// ---- the public render API ---------------------------------------------------------------

// The horizon of node tasks once the stream has reached t.
static pg_frame horizon_after(const pg_render *r, pg_frame t) {
    const pg_plan *p = r->sh.plan;
    pg_frame ahead = (pg_frame)(LOOKAHEAD_SEC * p->frame_rate);
    ahead = frame_max(ahead, (pg_frame)LOOKAHEAD_BLOCKS * p->block_frames);
    return t > PG_FRAME_MAX - ahead ? PG_FRAME_MAX : t + ahead;
}

// Under the lock: the stream has rendered everything before t.
static void stream_reached(pg_render *r, pg_frame t) {
    stream_advanced(&r->sh, t);
    r->sh.horizon = frame_max(r->sh.horizon, horizon_after(r, t));
    pthread_cond_broadcast(&r->sh.wake);
}

// The stream asks for chunks of this many frames at most from its callers, for the memory
// estimate (pg_render_all keeps to it).
enum {
    STREAM_CHUNK = 65536
};

static pg_status check_mem_limit(pg_render *r, pg_diag *err) {
    const pg_plan *p = r->sh.plan;
    size_t need = needed_at_once(&r->sh, horizon_after(r, STREAM_CHUNK)); // chunk + lookahead
    if (need <= p->mem_limit)
        return PG_OK;
    if (err) {
        *err = (pg_diag){ .status = PG_ERR_LIMIT };
        snprintf(err->message, sizeof err->message,
                 "the buffers needed at once come to %.1f MiB, over the memory limit of %.1f "
                 "MiB",
                 (double)need / 1048576.0, (double)p->mem_limit / 1048576.0);
    }
    return PG_ERR_LIMIT;
}

// Starts a render: the pool begins initialising and materialising at once (most urgent
// first); pg_render_next streams as soon as what it reads is ready. Errors of a node's
// init or materialisation are reported by pg_render_next.
pg_render *pg_render_new(const pg_plan *p, pg_diag *err) {
    pg_render *r = calloc(1, sizeof *r);
    if (!r) {
        if (err)
            *err = (pg_diag){ .status = PG_ERR_NOMEM, .message = "out of memory" };
        return NULL;
    }
    r->main.sh = &r->sh;
    r->main.cost = node_costs(p);
    if (shared_init(&r->sh, p) != PG_OK) {
        if (err)
            *err = r->sh.error;
        pg_render_free(r);
        return NULL;
    }
    r->sh.t_start = now_sec();
    r->cursor = p->window.start;
    r->sh.stream_done = p->window.start;
    r->sh.budget = p->mem_limit ? p->mem_limit : DEFAULT_BUDGET;
    if (p->mem_limit && check_mem_limit(r, err) != PG_OK) {
        pg_render_free(r);
        return NULL;
    }
    r->sh.horizon = horizon_after(r, p->window.start);
    pool_start(r);
    return r;
}

void pg_render_get_stats(const pg_render *r, pg_render_stats *s) {
    const exec_shared *sh = &r->sh;
    *s = (pg_render_stats){ .nodes = sh->plan->n_nodes,
                            .materialised = sh->n_materialised,
                            .cache_hits = sh->cache_hits,
                            .cache_misses = sh->cache_misses,
                            .prepare_sec = sh->prepare_sec,
                            .stream_sec = sh->stream_sec,
                            .threads = sh->threads,
                            .peak_mat_bytes = sh->peak_bytes };
}

void pg_render_free(pg_render *r) {
    if (!r)
        return;
    pool_stop(r);
    shared_fini(&r->sh);
    scratch_free(&r->main);
    free(r->main.cost);
    for (int k = 0; k < r->n_pool; k++) {
        scratch_free(&r->pool[k]);
        free(r->pool[k].cost);
    }
    free(r);
}

const pg_diag *pg_render_error(const pg_render *r) {
    return &r->sh.error;
}

static bool is_silent(const pe_view *v) {
    for (int c = 0; c < v->channels; c++)
        for (int64_t i = 0; i < v->frames; i++)
            if (v->data[c * v->stride + i] != 0.0f)
                return false;
    return true;
}

// Planar to interleaved; stereo, the common case, in a loop compilers vectorise.
static void interleave(const pe_view *v, int64_t n, float *out) {
    if (v->channels == 2) {
        const float *l = v->data, *r = v->data + v->stride;
        for (int64_t i = 0; i < n; i++) {
            out[2 * i] = l[i];
            out[2 * i + 1] = r[i];
        }
        return;
    }
    for (int c = 0; c < v->channels; c++) {
        const float *src = v->data + c * v->stride;
        for (int64_t i = 0; i < n; i++)
            out[i * v->channels + c] = src[i];
    }
}

// Renders the root over [t0, t0 + n) on worker cx into out (interleaved). Returns whether
// the block was silent (for until_silence), or -1 on error.
static int render_block(exec_ctx *cx, pg_frame t0, int64_t n, float *out) {
    const pg_plan *p = cx->sh->plan;
    scratch_mark m = scratch_get(cx);
    pe_view v;
    if (pull_node(cx, p->root, t0, n, &v) != PG_OK) {
        scratch_release(cx, m);
        return -1;
    }
    interleave(&v, n, out);
    int silent = p->until_silence && is_silent(&v); // only that mode asks
    scratch_release(cx, m);
    return silent;
}

// Under the lock: [cursor, cursor + n) as runs of whole blocks, one per thread, for the
// pool and the calling thread to render.
static void submit_runs(pg_render *r, block_run *runs, float *out, int64_t n) {
    const pg_plan *p = r->sh.plan;
    int64_t blocks = (n + p->block_frames - 1) / p->block_frames;
    int nt = r->sh.threads < blocks ? r->sh.threads : (int)blocks;
    pg_frame t = r->cursor;
    for (int k = 0; k < nt; k++) {
        int64_t share = (blocks * (k + 1) / nt - blocks * k / nt) * p->block_frames;
        pg_frame end = k == nt - 1 ? r->cursor + n : t + share;
        runs[k] = (block_run){ t, end, out + (t - r->cursor) * p->channels, false };
        t = end;
    }
    r->sh.runs = runs;
    r->sh.n_runs = r->sh.runs_left = nt;
    r->sh.runs_taken = 0;
    r->sh.horizon = frame_max(r->sh.horizon, horizon_after(r, r->cursor + n));
    pthread_cond_broadcast(&r->sh.wake);
}

// Renders [cursor, cursor + n) on the pool; false on error.
static bool render_runs(pg_render *r, float *out, int64_t n) {
    block_run runs[MAX_THREADS];
    exec_shared *sh = &r->sh;
    pthread_mutex_lock(&sh->lock);
    submit_runs(r, runs, out, n);
    help_until(&r->main, runs_finished, 0);
    bool ok = !sh->failed;
    for (int k = 0; k < sh->n_runs; k++)
        ok = ok && !runs[k].failed;
    sh->runs = NULL;
    sh->n_runs = sh->runs_left = sh->runs_taken = 0;
    if (ok)
        stream_reached(r, r->cursor + n);
    pthread_mutex_unlock(&sh->lock);
    return ok;
}

// until_silence: block by block on the calling thread, to stop at the first silent one.
static int64_t render_until_silence(pg_render *r, float *out, int64_t n) {
    const pg_plan *p = r->sh.plan;
    int64_t done = 0;
    while (done < n && !r->stopped) {
        int64_t k = n - done < p->block_frames ? n - done : p->block_frames;
        pthread_mutex_lock(&r->sh.lock);
        r->sh.horizon = frame_max(r->sh.horizon, horizon_after(r, r->cursor + k));
        help_until(&r->main, stream_ready, r->cursor + k);
        bool failed = r->sh.failed;
        pthread_mutex_unlock(&r->sh.lock);
        int silent = failed ? -1 : render_block(&r->main, r->cursor, k, out + done * p->channels);
        if (silent < 0)
            return -1;
        pthread_mutex_lock(&r->sh.lock);
        stream_reached(r, r->cursor + k);
        pthread_mutex_unlock(&r->sh.lock);
        if (r->cursor >= p->last_finite_end && silent)
            r->stopped = true;
        r->cursor += k;
        done += k;
    }
    return done;
}

// Once the window is rendered, the calling thread helps the pool finish (so the statistics
// are complete and every error is reported).
static bool finish(pg_render *r) {
    exec_shared *sh = &r->sh;
    pthread_mutex_lock(&sh->lock);
    stream_advanced(sh, PG_FRAME_MAX); // frees what the stream read, before the last tasks
    sh->horizon = PG_FRAME_MAX;
    pthread_cond_broadcast(&sh->wake);
    help_until(&r->main, all_done, 0);
    if (sh->prepare_sec == 0.0)
        sh->prepare_sec = now_sec() - sh->t_start;
    bool ok = !sh->failed;
    pthread_mutex_unlock(&sh->lock);
    return ok;
}

int64_t pg_render_next(pg_render *r, float *out, int64_t max_frames) {
    const pg_plan *p = r->sh.plan;
    double t0 = now_sec();
    int64_t n = p->window.end - r->cursor < max_frames ? p->window.end - r->cursor : max_frames;
    if (n <= 0 || r->stopped)
        return finish(r) ? 0 : -1;
    int64_t done = n;
    if (p->until_silence)
        done = render_until_silence(r, out, n);
    else if (!render_runs(r, out, n))
        done = -1;
    else
        r->cursor += n;
    r->sh.stream_sec += now_sec() - t0;
    return done;
}

pg_status pg_render_all(const pg_plan *p, float *out, pg_diag *err) {
    pg_render *r = pg_render_new(p, err);
    if (!r)
        return err ? err->status : PG_ERR_INTERNAL;
    int64_t total = p->window.end - p->window.start, got = 0, k;
    while ((k = pg_render_next(r, out + got * p->channels, STREAM_CHUNK)) > 0)
        got += k;
    if (k < 0)
        got = -1;
    pg_status st = got < 0 ? r->sh.error.status : PG_OK;
    if (got < 0 && err)
        *err = r->sh.error;
    for (int64_t i = got < 0 ? 0 : got; i < total; i++) // an until_silence stop leaves zeros
        for (int c = 0; c < p->channels; c++)
            out[i * p->channels + c] = 0.0f;
    pg_render_free(r);
    return st;
}

void pg_render_node_seconds(const pg_render *r, double *out) {
    for (int i = 0; i < r->sh.plan->n_nodes; i++) {
        out[i] = r->main.cost ? r->main.cost[i] : 0.0;
        for (int k = 0; k < r->n_pool; k++)
            out[i] += r->pool[k].cost ? r->pool[k].cost[i] : 0.0;
    }
}

pg_frame exec_render_cursor(const pg_render *r) {
    return r->cursor;
}
