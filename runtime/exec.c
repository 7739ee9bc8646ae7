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

typedef struct exec_shared {
    const pg_plan *plan;
    pe_inst *inst;      // one per plan node; cx is set per call to the calling worker
    float **mat;        // materialised buffers (NULL when not materialised / not yet)
    fuse_index **index; // interval indexes of fused nodes with many inputs
    bool *initialised;
    // task scheduling (-j N)
    int *pending;    // input slots whose node is not prepared yet
    int **consumers; // consumers[i]: nodes with an input slot reading i (one per slot)
    int *n_consumers;
    int *ready; // a queue of nodes whose inputs are all prepared
    int ready_head, ready_tail, done;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool failed;
    pg_diag error;
    cache *cache;                                 // NULL when disabled
    int n_materialised, cache_hits, cache_misses; // under lock
    double *cost; // per node, summed from the workers when they finish (under lock)
    double prepare_sec, stream_sec;
    int threads;
} exec_shared;

struct exec_ctx { // one per thread
    exec_shared *sh;
    scratch_chunk *head, *cur; // the scratch stack's chunks; cur is the one in use
    double *cost;              // seconds spent in each node's own kernel (not its inputs')
    double child_sec;          // time of the kernels the running kernel pulled, so far
};

enum {
    MAX_STREAM_THREADS = 16
};

struct pg_render {
    exec_shared sh;
    exec_ctx main;                        // the calling thread's worker
    exec_ctx helpers[MAX_STREAM_THREADS]; // more workers for streaming blocks in parallel
    int n_helpers;
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
    if (pn->materialise && sh->mat[id])
        return read_mat(cx, id, t0, n, pg_extent_intersect(in, pn->mat), out);
    if (pg_extent_is_empty(in))
        return zero_view(cx, id, ch, n, out);
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

// Renders node id over its span [mat.start, mat.end) in time order, block by block,
// straight into its buffer.
static pg_status materialise(exec_ctx *cx, int id) {
    exec_shared *sh = cx->sh;
    const plan_node *pn = &sh->plan->nodes[id];
    int64_t len = pn->mat.end - pn->mat.start, block = sh->plan->block_frames;
    int ch = pn->pn.out.channels;
    float *buf = malloc(sizeof(float) * (size_t)(len > 0 ? len : 1) * (size_t)ch);
    if (!buf)
        return fail(sh, PG_ERR_NOMEM, pn->loc, "out of memory materialising %s (%lld frames)",
                    pn->pn.kind->name, (long long)len);
    uint64_t key =
        pn->cacheable && sh->cache ? cache_key(pn->hash, pn->mat, ch, pn->pn.out.frame_rate) : 0;
    bool hit = key && cache_load(sh->cache, key, buf, ch, len);
    for (int64_t off = 0; !hit && off < len && !sh->failed; off += block) {
        int64_t n = len - off < block ? len - off : block;
        pe_buf b = { ch, n, len, buf + off };
        if (run_kernel(cx, id, pn->mat.start + off, n, &b) != PG_OK)
            break;
    }
    if (sh->failed) {
        free(buf);
        return sh->error.status;
    }
    if (key && !hit)
        cache_store(sh->cache, key, buf, ch, len);
    pthread_mutex_lock(&sh->lock);
    sh->n_materialised++;
    sh->cache_hits += hit;
    sh->cache_misses += key && !hit;
    pthread_mutex_unlock(&sh->lock);
    sh->mat[id] = buf;
    return PG_OK;
}

static pg_status prepare_node(exec_ctx *cx, int id) {
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
    return pn->materialise && !pg_extent_is_empty(pn->mat) ? materialise(cx, id) : PG_OK;
}

// A worker's per-node time accumulator, or NULL when the plan does not measure.
static double *node_costs(const pg_plan *p) {
    return p->measure ? calloc((size_t)p->n_nodes + 1, sizeof(double)) : NULL;
}

// ---- the task scheduler ------------------------------------------------------------------

static int build_edges(exec_shared *sh) {
    const pg_plan *p = sh->plan;
    size_t n = (size_t)(p->n_nodes ? p->n_nodes : 1);
    sh->pending = calloc(n, sizeof(int));
    sh->n_consumers = calloc(n, sizeof(int));
    sh->consumers = calloc(n, sizeof(int *));
    sh->ready = calloc(n, sizeof(int));
    if (!sh->pending || !sh->n_consumers || !sh->consumers || !sh->ready)
        return -1;
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
        sh->pending[i] = p->nodes[i].pn.n_inputs;
        for (int s = 0; s < p->nodes[i].pn.n_inputs; s++) {
            int in = p->nodes[i].inputs[s];
            sh->consumers[in][sh->n_consumers[in]++] = i;
        }
        if (sh->pending[i] == 0)
            sh->ready[sh->ready_tail++] = i;
    }
    return 0;
}

// Marks id prepared and queues the consumers it was the last missing input of.
static void task_done(exec_shared *sh, int id) {
    sh->done++;
    for (int k = 0; k < sh->n_consumers[id]; k++) {
        int c = sh->consumers[id][k];
        if (--sh->pending[c] == 0)
            sh->ready[sh->ready_tail++] = c;
    }
}

// A worker loop: run ready tasks until every node is prepared or the render failed.
static void run_tasks(exec_ctx *cx) {
    exec_shared *sh = cx->sh;
    pthread_mutex_lock(&sh->lock);
    for (;;) {
        while (sh->ready_head == sh->ready_tail && sh->done < sh->plan->n_nodes && !sh->failed)
            pthread_cond_wait(&sh->wake, &sh->lock);
        if (sh->failed || sh->ready_head == sh->ready_tail)
            break;
        int id = sh->ready[sh->ready_head++];
        pthread_mutex_unlock(&sh->lock);
        pg_status st = prepare_node(cx, id);
        pthread_mutex_lock(&sh->lock);
        if (st == PG_OK)
            task_done(sh, id);
        pthread_cond_broadcast(&sh->wake);
    }
    pthread_mutex_unlock(&sh->lock);
}

static void *worker_main(void *arg) {
    exec_ctx *cx = arg;
    run_tasks(cx);
    return NULL;
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
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

// Prepares every node: on the calling thread alone for -j 1, else on a pool of threads.
static pg_status prepare_all(exec_ctx *main_cx) {
    exec_shared *sh = main_cx->sh;
    int nt = thread_count(sh->plan);
    sh->threads = nt;
    pthread_t threads[64];
    exec_ctx workers[64];
    int started = 0;
    for (int t = 1; t < nt; t++) {
        workers[t] = (exec_ctx){ .sh = sh };
        workers[t].cost = node_costs(sh->plan);
        if (pthread_create(&threads[t], NULL, worker_main, &workers[t]) != 0)
            break;
        started = t;
    }
    run_tasks(main_cx);
    for (int t = 1; t < nt; t++) {
        if (t <= started)
            pthread_join(threads[t], NULL);
        for (int i = 0; workers[t].cost && main_cx->cost && i < sh->plan->n_nodes; i++)
            main_cx->cost[i] += workers[t].cost[i];
        free(workers[t].cost);
        scratch_free(&workers[t]);
    }
    if (!sh->failed && sh->done < sh->plan->n_nodes)
        fail(sh, PG_ERR_INTERNAL, (pg_srcloc){ 0, 0, 0 }, "the plan has a cycle");
    return sh->failed ? sh->error.status : PG_OK;
}

static void shared_fini(exec_shared *sh) {
    const pg_plan *p = sh->plan;
    for (int i = 0; p && i < p->n_nodes; i++) {
        if (sh->initialised && sh->initialised[i] && p->nodes[i].pn.kind->fini)
            p->nodes[i].pn.kind->fini(&sh->inst[i]);
        if (sh->inst)
            free(sh->inst[i].state);
        if (sh->mat)
            free(sh->mat[i]);
        if (sh->consumers)
            free(sh->consumers[i]);
        if (sh->index)
            fuse_index_free(sh->index[i]);
    }
    free(sh->inst);
    free(sh->mat);
    free(sh->index);
    free(sh->initialised);
    free(sh->pending);
    free(sh->consumers);
    free(sh->n_consumers);
    free(sh->ready);
    cache_close(sh->cache);
    pthread_mutex_destroy(&sh->lock);
    pthread_cond_destroy(&sh->wake);
}

static pg_status shared_init(exec_shared *sh, const pg_plan *p) {
    memset(sh, 0, sizeof *sh);
    sh->plan = p;
    pthread_mutex_init(&sh->lock, NULL);
    pthread_cond_init(&sh->wake, NULL);
    size_t n = (size_t)(p->n_nodes ? p->n_nodes : 1);
    sh->inst = calloc(n, sizeof *sh->inst);
    sh->mat = calloc(n, sizeof *sh->mat);
    sh->initialised = calloc(n, sizeof *sh->initialised);
    sh->index = calloc(n, sizeof *sh->index);
    if (!sh->inst || !sh->mat || !sh->initialised || !sh->index || build_edges(sh) < 0)
        return fail(sh, PG_ERR_NOMEM, (pg_srcloc){ 0, 0, 0 }, "out of memory");
    for (int i = 0; i < p->n_nodes && !sh->cache; i++)
        if (p->nodes[i].cacheable)
            sh->cache = cache_open(p->cache_dir, 0);
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
    r->main.sh = &r->sh;
    r->main.cost = node_costs(p);
    double t0 = now_sec();
    if (shared_init(&r->sh, p) != PG_OK || prepare_all(&r->main) != PG_OK) {
        if (err)
            *err = r->sh.error;
        pg_render_free(r);
        return NULL;
    }
    r->sh.prepare_sec = now_sec() - t0;
    r->cursor = p->window.start;
    r->n_helpers = r->sh.threads - 1 < MAX_STREAM_THREADS ? r->sh.threads - 1 : MAX_STREAM_THREADS;
    for (int k = 0; k < r->n_helpers; k++) {
        r->helpers[k] = (exec_ctx){ .sh = &r->sh };
        r->helpers[k].cost = node_costs(p);
    }
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
                            .threads = sh->threads };
}

void pg_render_free(pg_render *r) {
    if (!r)
        return;
    shared_fini(&r->sh);
    scratch_free(&r->main);
    free(r->main.cost);
    for (int k = 0; k < r->n_helpers; k++) {
        scratch_free(&r->helpers[k]);
        free(r->helpers[k].cost);
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

// Renders one block of the root at the cursor into out (interleaved).
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
    for (int c = 0; c < v.channels; c++) {
        const float *src = v.data + c * v.stride;
        for (int64_t i = 0; i < n; i++)
            out[i * v.channels + c] = src[i];
    }
    int silent = is_silent(&v);
    scratch_release(cx, m);
    return silent;
}

// A run of whole blocks one worker renders, the same blocks a sequential render makes: so
// the output never depends on how the run was split.
typedef struct block_run {
    exec_ctx *cx;
    pg_frame t0, end;
    float *out;
    int block;
    bool failed;
} block_run;

static void *render_run(void *arg) {
    block_run *run = arg;
    int ch = run->cx->sh->plan->channels;
    for (pg_frame t = run->t0; t < run->end && !run->failed; t += run->block) {
        int64_t n = run->end - t < run->block ? run->end - t : run->block;
        run->failed = render_block(run->cx, t, n, run->out + (t - run->t0) * ch) < 0;
    }
    return NULL;
}

// Renders [cursor, cursor + n) split into runs of whole blocks, one per thread.
static bool render_parallel(pg_render *r, float *out, int64_t n) {
    const pg_plan *p = r->sh.plan;
    int64_t blocks = (n + p->block_frames - 1) / p->block_frames;
    int nt = r->n_helpers + 1 < blocks ? r->n_helpers + 1 : (int)blocks;
    block_run runs[MAX_STREAM_THREADS + 1];
    pthread_t th[MAX_STREAM_THREADS + 1];
    bool started[MAX_STREAM_THREADS + 1] = { false };
    pg_frame t = r->cursor;
    for (int k = 0; k < nt; k++) {
        int64_t share = (blocks * (k + 1) / nt - blocks * k / nt) * p->block_frames;
        pg_frame end = k == nt - 1 ? r->cursor + n : t + share;
        runs[k] = (block_run){ k == 0 ? &r->main : &r->helpers[k - 1],
                               t,
                               end,
                               out + (t - r->cursor) * p->channels,
                               p->block_frames,
                               false };
        t = end;
    }
    for (int k = 1; k < nt; k++)
        started[k] = pthread_create(&th[k], NULL, render_run, &runs[k]) == 0;
    render_run(&runs[0]);
    bool ok = !runs[0].failed;
    for (int k = 1; k < nt; k++) {
        if (started[k])
            pthread_join(th[k], NULL);
        else
            render_run(&runs[k]);
        ok = ok && !runs[k].failed;
    }
    return ok;
}

int64_t pg_render_next(pg_render *r, float *out, int64_t max_frames) {
    const pg_plan *p = r->sh.plan;
    double t0 = now_sec();
    int64_t n = p->window.end - r->cursor < max_frames ? p->window.end - r->cursor : max_frames;
    if (n <= 0 || r->stopped)
        return 0;
    if (!p->until_silence && r->n_helpers > 0 && n >= 2 * p->block_frames) {
        if (!render_parallel(r, out, n))
            return -1;
        r->cursor += n;
        r->sh.stream_sec += now_sec() - t0;
        return n;
    }
    int64_t done = 0;
    while (done < n && !r->stopped) {
        int64_t k = n - done < p->block_frames ? n - done : p->block_frames;
        int silent = render_block(&r->main, r->cursor, k, out + done * p->channels);
        if (silent < 0)
            return -1;
        if (p->until_silence && r->cursor >= p->last_finite_end && silent)
            r->stopped = true;
        r->cursor += k;
        done += k;
    }
    r->sh.stream_sec += now_sec() - t0;
    return done;
}

pg_status pg_render_all(const pg_plan *p, float *out, pg_diag *err) {
    pg_render *r = pg_render_new(p, err);
    if (!r)
        return err ? err->status : PG_ERR_INTERNAL;
    int64_t total = p->window.end - p->window.start;
    int64_t got = pg_render_next(r, out, total);
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
        for (int k = 0; k < r->n_helpers; k++)
            out[i] += r->helpers[k].cost ? r->helpers[k].cost[i] : 0.0;
    }
}

pg_frame exec_render_cursor(const pg_render *r) {
    return r->cursor;
}
