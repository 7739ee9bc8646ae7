// exec.c: the block executor's pulling side. Pull-based: rendering a node over a window
// renders exactly the inputs its kernel pulls, over the windows it asks for. Nodes the plan
// marks materialised are rendered once, in time order from their origin, into a buffer (or
// mapped from the cache) and then read at random with no copy. Temporaries live on a
// per-thread scratch stack released when the kernel that pulled them returns, so a render
// allocates nothing per block once warm. The scheduling is in sched.c.
#define _DEFAULT_SOURCE // MAP_ANONYMOUS and MADV_DONTNEED, for windowed buffers
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "exec_int.h"

double exec_now_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

// |x| as bits, a non-negative int32: signed compares, which SSE2 has (unsigned ones it lacks).
static inline int32_t abs_bits_of(const float *x) {
    int32_t bits;
    memcpy(&bits, x, sizeof bits);
    return bits & 0x7fffffff;
}

// The running maxima are kept in four independent vectors of four lanes (the vector
// extension the biquads use): with one, every step waited for the last compare, and a
// 3-minute stereo output took ~16 ms (the writer's clipping check for PCM outputs, on its
// critical path).
typedef int32_t max_v4 __attribute__((vector_size(16)));

static inline max_v4 max_v(max_v4 a, const float *x) {
    max_v4 b;
    memcpy(&b, x, sizeof b);
    b &= 0x7fffffff;
    max_v4 gt = b > a; // (all ones where b is larger)
    return (b & gt) | (a & ~gt);
}

uint32_t exec_max_abs_bits(const float *x, int64_t n) {
    max_v4 m0 = { 0 }, m1 = { 0 }, m2 = { 0 }, m3 = { 0 };
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        m0 = max_v(m0, x + i);
        m1 = max_v(m1, x + i + 4);
        m2 = max_v(m2, x + i + 8);
        m3 = max_v(m3, x + i + 12);
    }
    int32_t pk = 0;
    for (int j = 0; j < 4; j++) {
        int32_t m[] = { m0[j], m1[j], m2[j], m3[j] };
        for (int k = 0; k < 4; k++)
            pk = m[k] > pk ? m[k] : pk;
    }
    for (; i < n; i++) {
        int32_t b = abs_bits_of(&x[i]);
        pk = b > pk ? b : pk;
    }
    return (uint32_t)pk;
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
static pg_status vfail(exec_shared *sh, pg_status st, pg_srcloc loc, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static pg_status vfail(exec_shared *sh, pg_status st, pg_srcloc loc, const char *fmt, va_list ap) {
    pthread_mutex_lock(&sh->lock);
    if (!sh->failed) {
        sh->error.status = st;
        sh->error.loc = loc;
        vsnprintf(sh->error.message, sizeof sh->error.message, fmt, ap);
        sh->failed = true; // (last: a thread that sees it without the lock sees the error too)
    }
    pthread_mutex_unlock(&sh->lock);
    return st;
}

void exec_fail_locked(exec_shared *sh, pg_status st, const char *message) {
    if (sh->failed)
        return;
    sh->error = (pg_diag){ .status = st };
    snprintf(sh->error.message, sizeof sh->error.message, "%s", message);
    sh->failed = true; // (last, as in vfail)
}

pg_status exec_fail(exec_shared *sh, pg_status st, pg_srcloc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(sh, st, loc, fmt, ap);
    va_end(ap);
    return st;
}

// pg_interrupt's request, for every render in the process: set from a signal handler, so a
// lock-free atomic (C11 7.14.1.1), read by every thread between blocks.
static atomic_bool interrupted;
_Static_assert(ATOMIC_BOOL_LOCK_FREE == 2, "pg_interrupt must be async-signal-safe");

void pg_interrupt(bool stop) {
    atomic_store_explicit(&interrupted, stop, memory_order_relaxed);
}

bool exec_interrupt_asked(void) {
    return atomic_load_explicit(&interrupted, memory_order_relaxed);
}

bool exec_stopped(exec_shared *sh) {
    if (exec_interrupt_asked() && !sh->failed)
        exec_fail(sh, PG_ERR_INTERRUPTED, (pg_srcloc){ 0, 0, 0 }, "interrupted");
    return sh->failed || sh->shutdown;
}

pg_status pe_error(pe_inst *pe, pg_status st, const char *fmt, ...) {
    exec_shared *sh = pe->cx->sh;
    va_list ap;
    va_start(ap, fmt);
    vfail(sh, st, sh->plan->nodes[pe->id].loc, fmt, ap);
    va_end(ap);
    return st;
}

FILE *pe_log(const pe_inst *pe) {
    return pe->cx->sh->plan->quiet ? NULL : stderr;
}

void *pe_scratch(pe_inst *pe, size_t bytes) {
    return scratch_alloc(pe->cx, bytes);
}

static pg_status oom(exec_ctx *cx, int id) {
    return exec_fail(cx->sh, PG_ERR_NOMEM, cx->sh->plan->nodes[id].loc, "out of memory");
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
    t->start = exec_now_sec();
    cx->child_sec = 0.0;
}

static void timing_end(exec_ctx *cx, const timing *t, int id) {
    if (!cx->cost)
        return;
    double spent = exec_now_sec() - t->start;
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
        exec_fail(sh, st, sh->plan->nodes[id].loc, "%s failed: %s",
                  sh->plan->nodes[id].pn.kind->name, pg_status_str(st));
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

// Where a fused tree's leaves are added: channel c of frame k at out[c * stride + k], each
// frame scaled by env[k] first when the path has an envelope (a fade), else NULL.
typedef struct sink {
    float *out;
    const float *env;
    int64_t stride;
    int channels;
} sink;

// The sink from frame k on.
static sink sink_at(sink s, int64_t k) {
    s.out += k;
    s.env = s.env ? s.env + k : NULL;
    return s;
}

// o[i] += g x[i], or o[i] += g (x[i] env[i]): the leaf scaled as an envelope node's kernel
// scales it (a float product), then weighted.
static void add_scaled(float *o, const float *x, const float *env, double w, int64_t n) {
    float g = (float)w;
    if (env && w == 1.0)
        for (int64_t i = 0; i < n; i++)
            o[i] += x[i] * env[i];
    else if (env)
        for (int64_t i = 0; i < n; i++)
            o[i] += g * (x[i] * env[i]);
    else if (w == 1.0)
        for (int64_t i = 0; i < n; i++)
            o[i] += x[i];
    else
        for (int64_t i = 0; i < n; i++)
            o[i] += g * x[i];
}

// A mono leaf panned into a stereo sink (a note in a mix, the commonest leaf): both
// channels in one pass, each frame's arithmetic that of add_scaled, so the same bits with
// the leaf and its envelope read once.
static void add_panned(float *restrict o0, float *restrict o1, const float *restrict x,
                       const float *restrict env, double w0, double w1, int64_t n) {
    float g0 = (float)w0, g1 = (float)w1; // (times 1.0f changes no bit: add_scaled's w == 1)
    if (env)
        for (int64_t i = 0; i < n; i++) {
            float e = x[i] * env[i];
            o0[i] += g0 * e;
            o1[i] += g1 * e;
        }
    else
        for (int64_t i = 0; i < n; i++) {
            o0[i] += g0 * x[i];
            o1[i] += g1 * x[i];
        }
}

// Adds w (sink channels x ch) times a leaf's output over [t0, t0 + n) into the sink.
static pg_status add_leaf(exec_ctx *cx, int id, pg_frame t0, int64_t n, sink to, const double *w) {
    int ch = cx->sh->plan->nodes[id].pn.out.channels;
    scratch_mark m = scratch_get(cx);
    pe_view v;
    pg_status st = pull_node(cx, id, t0, n, &v);
    if (st == PG_OK && ch == 1 && to.channels == 2 && w[0] != 0.0 && w[1] != 0.0) {
        add_panned(to.out, to.out + to.stride, v.data, to.env, w[0], w[1], n);
        scratch_release(cx, m);
        return st;
    }
    for (int c = 0; st == PG_OK && c < to.channels; c++)
        for (int j = 0; j < ch; j++)
            if (w[c * ch + j] != 0.0)
                add_scaled(to.out + c * to.stride, v.data + j * v.stride, to.env, w[c * ch + j], n);
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

// How a node enters a fused sum: the top of the tree (its own sum); inlined, its leaves'
// terms added where they fall; or as one term for each channel, as its kernel's output (or
// its own sum) would be added: a node summed on its own (plan_node.leaf) adds its inputs so,
// the same bits as its kernel whichever way it is evaluated.
typedef enum sum_mode {
    SUM_TOP,
    SUM_INLINE,
    SUM_TERM
} sum_mode;

static pg_status accum(exec_ctx *cx, int id, pg_frame t0, int64_t n, sink to, const double *w,
                       sum_mode mode);

// The frames of input `slot` that linear node pn reads to make win: win, or win shifted
// (a time shift is linear too).
static pg_extent input_window(const plan_node *pn, int slot, pg_extent win) {
    pg_extent in = win;
    if (pn->pn.kind->need)
        pn->pn.kind->need(&pn->pn, slot, win, &in);
    return in;
}

// Adds w times input `slot` of linear node id over its frames `win` (those that make the
// node's frames out[0], out[1], ...): the weights compose as w x M_slot.
static pg_status accum_input(exec_ctx *cx, int id, int slot, pg_extent win, sink to,
                             const double *w, sum_mode mode) {
    const plan_node *pn = &cx->sh->plan->nodes[id];
    int ch = pn->pn.out.channels, in_ch = pn->pn.in[slot].channels, c_out = to.channels;
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
    return accum(cx, pn->inputs[slot], win.start, win.end - win.start, to, wk, mode);
}

// Adds w times input `slot` of node id, whose channels lag (pe_kind.lag), for its frames
// win: for each distinct lag, the channels at that lag, from the input's frames that lag
// before win (each frame then the product process makes: a panner's x * gain).
static pg_status accum_lagged(exec_ctx *cx, int id, int slot, pg_extent win, sink to,
                              const double *w, sum_mode mode) {
    const plan_node *pn = &cx->sh->plan->nodes[id];
    int ch = pn->pn.out.channels, c_out = to.channels;
    double *wl = scratch_alloc(cx, sizeof(double) * (size_t)(c_out * ch));
    int64_t *lags = scratch_alloc(cx, sizeof(int64_t) * (size_t)ch);
    if (!wl || !lags)
        return oom(cx, id);
    for (int k = 0; k < ch; k++)
        lags[k] = pn->pn.kind->lag(&pn->pn, k);
    pg_status st = PG_OK;
    for (int k = 0; st == PG_OK && k < ch; k++) {
        bool first = true; // (k is the first channel at this lag)
        for (int j = 0; j < k; j++)
            first = first && lags[j] != lags[k];
        if (!first)
            continue;
        for (int c = 0; c < c_out; c++)
            for (int j = 0; j < ch; j++)
                wl[c * ch + j] = lags[j] == lags[k] ? w[c * ch + j] : 0.0;
        pg_extent in = { win.start - lags[k], win.end - lags[k] };
        if (pg_extent_overlaps(pn->pn.in[slot].extent, in))
            st = accum_input(cx, id, slot, in, to, wl, mode);
    }
    return st;
}

// Scales the sink by node id's envelope over frames win (times any envelope it had; none
// when id has no envelope); false when out of scratch memory.
static bool enveloped(exec_ctx *cx, int id, pg_extent win, sink *to) {
    const pe_node *n = &cx->sh->plan->nodes[id].pn;
    if (!n->kind->envelope)
        return true;
    int64_t len = win.end - win.start;
    float *e = scratch_alloc(cx, sizeof(float) * (size_t)(len > 0 ? len : 1));
    if (!e)
        return false;
    if (!n->kind->envelope(n, win.start, len, e))
        return true; // all ones: the sink as it was
    for (int64_t i = 0; to->env && i < len; i++)
        e[i] *= to->env[i];
    to->env = e;
    return true;
}

// Adds w (sink channels x channels of id) times node id over [t0, t0 + n) into the sink.
// Below the top of the tree, a node summed on its own is pulled as a leaf (its own sum),
// and so is one that must come as one term but would add several (plan_node.single).
static pg_status accum(exec_ctx *cx, int id, pg_frame t0, int64_t n, sink to, const double *w,
                       sum_mode mode) {
    const plan_node *pn = &cx->sh->plan->nodes[id];
    pg_extent win = pg_extent_intersect((pg_extent){ t0, t0 + n }, pn->pn.out.extent);
    if (pg_extent_is_empty(win))
        return PG_OK;
    to = sink_at(to, win.start - t0);
    if (!is_fused(cx->sh, id) || (pn->leaf && mode != SUM_TOP) || (mode == SUM_TERM && !pn->single))
        return add_leaf(cx, id, win.start, win.end - win.start, to, w);
    sum_mode below = mode == SUM_TOP && pn->leaf ? SUM_TERM : SUM_INLINE;
    scratch_mark m = scratch_get(cx);
    int count = 0;
    int *slots = slots_for(cx, id, win.start, win.end, &count);
    pg_status st = slots && enveloped(cx, id, win, &to) ? PG_OK : oom(cx, id);
    for (int i = 0; st == PG_OK && i < count; i++) {
        scratch_mark mi = scratch_get(cx);
        if (pn->pn.kind->lag) {
            st = accum_lagged(cx, id, slots[i], win, to, w, below);
        } else {
            pg_extent in = input_window(pn, slots[i], win);
            if (pg_extent_overlaps(pn->pn.in[slots[i]].extent, in))
                st = accum_input(cx, id, slots[i], in, to, w, below);
        }
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
    return accum(cx, id, t0, n, (sink){ d, NULL, n, ch }, eye, SUM_TOP);
}

pg_status exec_pull_fused(exec_ctx *cx, int id, pg_frame t0, int64_t n, pe_view *out) {
    timing tm = { 0.0, 0.0 };
    timing_begin(cx, &tm);
    pg_status st = pull_fused(cx, id, t0, n, out);
    timing_end(cx, &tm, id);
    return st;
}

void *exec_scratch(exec_ctx *cx, size_t bytes) {
    return scratch_alloc(cx, bytes);
}

// The chunk root as its chain reads it: from the output's chunk when the stream is in one,
// else as the fused sum it is.
static pg_status pull_chunk_root(exec_ctx *cx, int id, pg_frame t0, int64_t n, pe_view *out) {
    return cx->in_chunk ? exec_chunk_leaf(cx, id, t0, n, out) : exec_pull_fused(cx, id, t0, n, out);
}

// A chain that reads the chunk root twice a block (a compressor and its side chain, both of
// the mix): the first read's frames are kept on the calling thread and serve the second, so
// the mix is made once (a node's frames depend on the frames asked alone: any read of the
// same ones may take them).
static pg_status pull_reread_root(exec_ctx *cx, int id, pg_frame t0, int64_t n, pe_view *out) {
    int ch = cx->sh->plan->nodes[id].pn.out.channels;
    if (cx->root_frames && cx->root_t0 == t0 && cx->root_n == n) {
        *out = (pe_view){ ch, n, n, cx->root_frames };
        return PG_OK;
    }
    pg_status st = pull_chunk_root(cx, id, t0, n, out);
    if (st != PG_OK)
        return st;
    if (cx->root_cap < n * ch) {
        free(cx->root_frames);
        cx->root_frames = malloc(sizeof(float) * (size_t)(n * ch));
        cx->root_cap = cx->root_frames ? n * ch : 0;
    }
    cx->root_n = cx->root_frames ? n : 0;
    cx->root_t0 = t0;
    for (int c = 0; cx->root_frames && c < ch; c++)
        memcpy(cx->root_frames + c * n, out->data + c * out->stride, sizeof(float) * (size_t)n);
    return PG_OK;
}

// Sparse scheduling (pe_sparse): every plan but -O0's.
static bool sparse(const exec_shared *sh) {
    return sh->plan->opt_level > 0;
}

static pg_status pull_node(exec_ctx *cx, int id, pg_frame t0, int64_t n, pe_view *out) {
    exec_shared *sh = cx->sh;
    const plan_node *pn = &sh->plan->nodes[id];
    int ch = pn->pn.out.channels;
    pg_extent want = { t0, t0 + n };
    pg_extent in = pg_extent_intersect(want, pn->pn.out.extent);
    // Outside its extent a node is never touched: a buffer still being materialised by
    // another thread is read only once the scheduler has seen it done.
    if (pg_extent_is_empty(in)) {
        if (!sparse(sh))
            atomic_fetch_add_explicit(&sh->silent_reads, 1, memory_order_relaxed);
        return zero_view(cx, id, ch, n, out);
    }
    if (pn->materialise && sh->mat[id])
        return read_mat(cx, id, t0, n, pg_extent_intersect(in, pn->mat), out);
    if (is_fused(sh, id) && id == sh->plan->chunk_root && sh->plan->chunk_root_reread)
        return pull_reread_root(cx, id, t0, n, out);
    if (is_fused(sh, id) && cx->in_chunk && id == sh->plan->chunk_root)
        return exec_chunk_leaf(cx, id, t0, n, out);
    if (is_fused(sh, id))
        return exec_pull_fused(cx, id, t0, n, out);
    if (pn->materialise)
        return exec_fail(sh, PG_ERR_INTERNAL, pn->loc, "%s pulled before it was materialised",
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

bool pe_sparse(const pe_inst *pe) {
    return sparse(pe->cx->sh);
}

pg_status pe_pull(pe_inst *pe, int slot, pg_frame t0, int64_t n, pe_view *out) {
    exec_shared *sh = pe->cx->sh;
    const plan_node *pn = &sh->plan->nodes[pe->id];
    if (slot < 0 || slot >= pn->pn.n_inputs || n < 0)
        return exec_fail(sh, PG_ERR_INTERNAL, pn->loc, "%s pulled a bad input %d",
                         pn->pn.kind->name, slot);
    return pull_node(pe->cx, pn->inputs[slot], t0, n, out);
}

pg_status pe_read(pe_inst *pe, int slot, pg_frame t0, int64_t n,
                  void (*use)(const pe_view *v, void *arg), void *arg) {
    const plan_node *pn = &pe->cx->sh->plan->nodes[pe->id];
    if (slot < 0 || slot >= pn->pn.n_inputs || n < 0)
        return exec_fail(pe->cx->sh, PG_ERR_INTERNAL, pn->loc, "%s read a bad input %d",
                         pn->pn.kind->name, slot);
    return exec_read_input(pe->cx, pe->id, slot, t0, n, use, arg);
}

pg_status exec_read_input(exec_ctx *cx, int id, int slot, pg_frame t0, int64_t n,
                          void (*use)(const pe_view *v, void *arg), void *arg) {
    scratch_mark m = scratch_get(cx);
    pe_view v;
    pg_status st = pull_node(cx, cx->sh->plan->nodes[id].inputs[slot], t0, n, &v);
    if (st == PG_OK)
        use(&v, arg);
    scratch_release(cx, m);
    return st;
}

// ---- preparing nodes: init and materialise -----------------------------------------------

static pg_status revive_below(exec_ctx *cx, int id, int **made, int *n_made);

// Under the lock: bytes more of materialised buffers are alive.
static void add_live(exec_shared *sh, size_t bytes) {
    sh->live_bytes += bytes;
    sh->peak_bytes = sh->live_bytes > sh->peak_bytes ? sh->live_bytes : sh->peak_bytes;
}

// How a task's work ended: PG_OK, or the render's error (read under the lock: another thread
// may be recording it).
static pg_status outcome(exec_shared *sh) {
    if (!sh->failed)
        return sh->shutdown ? PG_ERR_INTERNAL : PG_OK;
    pthread_mutex_lock(&sh->lock);
    pg_status st = sh->error.status;
    pthread_mutex_unlock(&sh->lock);
    return st;
}

// Renders node id over [mat.start + from, mat.start + to) in time order, block by block,
// straight into its buffer.
pg_status exec_render_range(exec_ctx *cx, int id, float *buf, int64_t from, int64_t to) {
    exec_shared *sh = cx->sh;
    const plan_node *pn = &sh->plan->nodes[id];
    int64_t len = pn->mat.end - pn->mat.start, block = sh->plan->block_frames;
    for (int64_t off = from; off < to && !exec_stopped(sh); off += block) {
        int64_t n = to - off < block ? to - off : block;
        pe_buf b = { pn->pn.out.channels, n, len, buf + off };
        if (run_kernel(cx, id, pn->mat.start + off, n, &b) != PG_OK)
            break;
    }
    return outcome(sh);
}

static pg_status render_span(exec_ctx *cx, int id, float *buf) {
    const plan_node *pn = &cx->sh->plan->nodes[id];
    return exec_render_range(cx, id, buf, 0, pn->mat.end - pn->mat.start);
}

enum {
    PART_BLOCKS = 16 // a part of a buffer rendered in parts: 65536 frames at the default block
};

static int64_t part_frames(const exec_shared *sh) {
    return PART_BLOCKS * (int64_t)sh->plan->block_frames;
}

static int part_count(const exec_shared *sh, int id) {
    const plan_node *pn = &sh->plan->nodes[id];
    return (int)((pn->mat.end - pn->mat.start + part_frames(sh) - 1) / part_frames(sh));
}

// Under the lock: takes node id's next part; a node with none left leaves the list.
static int take_part_of(exec_shared *sh, int id) {
    int k = sh->part_next[id]++;
    for (int j = 0; sh->part_next[id] == part_count(sh, id) && j < sh->n_parted; j++)
        if (sh->parted[j] == id)
            sh->parted[j] = sh->parted[--sh->n_parted];
    return k;
}

int exec_take_part(exec_shared *sh, int *id) {
    *id = sh->parted[0];
    return take_part_of(sh, *id);
}

pg_status exec_render_part(exec_ctx *cx, int id, int k, float *buf) {
    const plan_node *pn = &cx->sh->plan->nodes[id];
    int64_t part = part_frames(cx->sh), from = k * part, len = pn->mat.end - pn->mat.start;
    return exec_render_range(cx, id, buf, from, from + part < len ? from + part : len);
}

// Renders a stateless node's span in parts, which the other threads take as well (sched.c)
// while this one takes its share, then waits for theirs. Each part writes its own frames,
// and a stateless kernel's output never depends on where a window starts, so the buffer is
// the one render_span makes.
static pg_status render_parts(exec_ctx *cx, int id, float *buf) {
    exec_shared *sh = cx->sh;
    int parts = part_count(sh, id);
    if (parts < 2 || sh->threads < 2 || (sh->plan->nodes[id].pn.flags & PE_F_STATEFUL))
        return render_span(cx, id, buf);
    pthread_mutex_lock(&sh->lock);
    sh->part_buf[id] = buf;
    sh->part_next[id] = 0;
    sh->part_left[id] = parts;
    sh->parted[sh->n_parted++] = id;
    sh->n_parted_total++;
    pthread_cond_broadcast(&sh->wake);
    while (sh->part_left[id] > 0) {
        if (sh->part_next[id] == parts) { // the others are rendering the last ones
            pthread_cond_wait(&sh->wake, &sh->lock);
            continue;
        }
        int k = take_part_of(sh, id);
        pthread_mutex_unlock(&sh->lock);
        exec_render_part(cx, id, k, buf);
        pthread_mutex_lock(&sh->lock);
        sh->part_left[id]--;
    }
    pthread_mutex_unlock(&sh->lock);
    return outcome(sh);
}

// A node found in the cache at the start whose entry is damaged now: what it reads was
// never rendered. Renders that (one revival at a time), then the node, then drops it again.
static pg_status render_revived(exec_ctx *cx, int id, float *buf) {
    exec_shared *sh = cx->sh;
    int *made = NULL, n_made = 0;
    pthread_mutex_lock(&sh->revive_lock);
    pg_status st = revive_below(cx, id, &made, &n_made);
    if (st == PG_OK && !sh->initialised[id])
        st = exec_init_node(cx, id);
    if (st == PG_OK)
        st = render_span(cx, id, buf);
    pthread_mutex_lock(&sh->lock);
    for (int k = 0; k < n_made; k++)
        exec_free_mat(sh, made[k]);
    pthread_mutex_unlock(&sh->lock);
    pthread_mutex_unlock(&sh->revive_lock);
    free(made);
    return st;
}

// A windowed node's buffer: its whole span in address space, its pages made as segments are
// written and given back behind the stream.
static float *map_window(exec_shared *sh, int id) {
    const plan_node *pn = &sh->plan->nodes[id];
    size_t bytes =
        sizeof(float) * (size_t)(pn->mat.end - pn->mat.start) * (size_t)pn->pn.out.channels;
    void *base = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        return NULL;
    sh->mapped[id] = (cache_mapping){ base, bytes }; // unmapped as cache mappings are
    return base;
}

// The next segment of windowed node id (the first one maps its buffer).
static pg_status materialise_segment(exec_ctx *cx, int id) {
    exec_shared *sh = cx->sh;
    const plan_node *pn = &sh->plan->nodes[id];
    pthread_mutex_lock(&sh->lock);
    float *buf = sh->mat[id] ? sh->mat[id] : map_window(sh, id);
    int64_t from = sh->made_upto[id] - pn->mat.start;
    pthread_mutex_unlock(&sh->lock);
    if (!buf)
        return oom(cx, id);
    int64_t to = from + sh->segment, len = pn->mat.end - pn->mat.start;
    to = to < len ? to : len;
    pg_status st = exec_render_range(cx, id, buf, from, to);
    pthread_mutex_lock(&sh->lock);
    sh->n_materialised += from == 0;
    if (from == 0)
        sh->mat[id] = buf; // published once: the stream reads it from the first segment on
    sh->made_upto[id] = pn->mat.start + to;
    add_live(sh, sizeof(float) * (size_t)(to - from) * (size_t)pn->pn.out.channels);
    pthread_mutex_unlock(&sh->lock);
    return st;
}

void exec_drop_window(exec_shared *sh, int id, pg_frame t) {
    const plan_node *pn = &sh->plan->nodes[id];
    t = t < sh->made_upto[id] ? t : sh->made_upto[id];
    if (!sh->mat[id] || t <= sh->dropped_upto[id])
        return;
    int64_t len = pn->mat.end - pn->mat.start, from = sh->dropped_upto[id] - pn->mat.start;
    int64_t to = t - pn->mat.start;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    for (int c = 0; c < pn->pn.out.channels; c++) {
        uintptr_t a = (uintptr_t)(sh->mat[id] + c * len + from),
                  b = (uintptr_t)(sh->mat[id] + c * len + to);
        a = (a + page - 1) / page * page; // whole pages inside the frames given back only
        b = b / page * page;
        if (b > a)
            madvise((void *)a, b - a, MADV_DONTNEED);
    }
    sh->live_bytes -= sizeof(float) * (size_t)(to - from) * (size_t)pn->pn.out.channels;
    sh->dropped_upto[id] = t;
}

// The bytes of node id's materialised buffer (whole, not windowed).
static size_t mat_bytes(const plan_node *pn) {
    int64_t len = pn->mat.end - pn->mat.start;
    return sizeof(float) * (size_t)(len > 0 ? len : 1) * (size_t)pn->pn.out.channels;
}

// A buffer for a rendered node: from the render's pool, or malloc when it has no room. Its
// memory may be a buffer freed earlier: every kernel writes each frame it is asked for. The
// checking builds fill it with NaNs, so that a frame left unwritten shows in every test.
static float *buffer_new(exec_shared *sh, size_t bytes) {
    float *b = bufpool_alloc(sh->buffers, bytes);
    b = b ? b : malloc(bytes);
#ifdef PG_DEBUG
    for (size_t i = 0; b && i < bytes / sizeof(float); i++)
        b[i] = NAN;
#endif
    return b;
}

static void buffer_free(exec_shared *sh, float *b, size_t bytes) {
    if (bufpool_owns(sh->buffers, b))
        bufpool_free(sh->buffers, b, bytes);
    else
        free(b);
}

// Renders node id over its span [mat.start, mat.end) into a new buffer, or maps it from
// the cache (what it rendered is stored in the cache once it is published).
static pg_status materialise(exec_ctx *cx, int id) {
    exec_shared *sh = cx->sh;
    const plan_node *pn = &sh->plan->nodes[id];
    if (sh->windowed[id])
        return materialise_segment(cx, id);
    int64_t len = pn->mat.end - pn->mat.start;
    int ch = pn->pn.out.channels;
    size_t bytes = mat_bytes(pn);
    uint64_t key =
        pn->cacheable && sh->cache ? cache_key(pn->hash, pn->mat, ch, pn->pn.out.frame_rate) : 0;
    cache_mapping map = { NULL, 0 };
    // read-only: materialised buffers are never written once made
    float *buf = key ? (float *)cache_map(sh->cache, key, ch, len, &map) : NULL;
    bool hit = buf != NULL;
    if (!hit && !(buf = buffer_new(sh, bytes)))
        return exec_fail(sh, PG_ERR_NOMEM, pn->loc, "out of memory materialising %s (%lld frames)",
                         pn->pn.kind->name, (long long)len);
    pg_status st = hit                     ? PG_OK
                   : sh->probed[id]        ? render_revived(cx, id, buf)
                   : exec_reusable(sh, id) ? exec_render_reusing(cx, id, buf, key)
                                           : render_parts(cx, id, buf);
    if (st != PG_OK) { // (a hit is always PG_OK)
        buffer_free(sh, buf, bytes);
        return st;
    }
    pthread_mutex_lock(&sh->lock);
    sh->store_key[id] = hit ? 0 : key; // stored once published (sched.c): off the stream's path
    sh->n_materialised++;
    sh->cache_hits += hit;
    sh->cache_misses += key && !hit;
    sh->cache_loaded += hit ? bytes : 0;
    sh->mat[id] = buf;
    sh->mapped[id] = map;
    add_live(sh, bytes);
    pthread_mutex_unlock(&sh->lock);
    return PG_OK;
}

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
    if (sh->initialised[j])
        exec_fini_node(sh, j);
    free(sh->inst[j].state);
    sh->inst[j].state = NULL;
    sh->initialised[j] = false;
    pg_status st = exec_init_node(cx, j);
    if (st != PG_OK || !pn->materialise)
        return st;
    size_t bytes = mat_bytes(pn);
    float *buf = buffer_new(sh, bytes);
    if (!buf)
        return oom(cx, j);
    if ((st = render_span(cx, j, buf)) != PG_OK) {
        buffer_free(sh, buf, bytes);
        return st;
    }
    pthread_mutex_lock(&sh->lock);
    sh->mat[j] = buf;
    add_live(sh, bytes);
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

void exec_fini_node(exec_shared *sh, int id) {
    const pe_kind *k = sh->plan->nodes[id].pn.kind;
    if (!k->fini)
        return;
    exec_ctx none = { .sh = sh }; // no scratch: fini only undoes init
    pe_inst local = sh->inst[id];
    local.cx = &none;
    k->fini(&local);
}

// A node's init: its state, its kind's init and its interval index. Inits read no input, so
// they all may run at once, before anything is pulled.
pg_status exec_init_node(exec_ctx *cx, int id) {
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
            return exec_fail(sh, st, pn->loc, "%s: %s", pn->pn.kind->name, pg_status_str(st));
    }
    sh->initialised[id] = true;
    if (is_fused(sh, id))
        sh->index[id] = fuse_index_new(&pn->pn); // NULL (no index) for a few inputs
    return PG_OK;
}

// A kind's init may pull its inputs (ConvolvePE reads its impulse response): a node whose
// kind has an init and which has inputs is initialised in its task, once they are ready.
bool exec_early_init(const plan_node *pn) {
    return pn->pn.kind->init == NULL || pn->pn.n_inputs == 0 ||
           (pn->pn.kind->flags & PE_F_INIT_OWN);
}

// Whose task pulls inputs: a materialisation, or an init that may pull.
bool exec_is_task_puller(const plan_node *pn) {
    return pn->materialise || !exec_early_init(pn);
}

// Whether node pn's task pulls input `slot`: a materialisation pulls them all, an init that
// may pull any of them too, unless its kind's init pulls only its PE_P_RANDOM inputs (a
// reverb's impulse response: its source is pulled by the stream, which runs it).
bool exec_task_pulls(const plan_node *pn, int slot) {
    if (pn->materialise)
        return true;
    if (exec_early_init(pn))
        return false;
    return !(pn->pn.kind->flags & PE_F_INIT_RANDOM) || pe_slot_is_random(&pn->pn, slot);
}

// A node's task, once its inputs' tasks are done: its init if that may pull, then
// materialising it if the plan says so (its inputs can all be pulled by then).
pg_status exec_node_task(exec_ctx *cx, int id) {
    const plan_node *pn = &cx->sh->plan->nodes[id];
    if (!cx->sh->needed[id])
        return PG_OK;
    // (a windowed node's task runs once per segment: initialised by the first; a node found
    // in the cache is initialised only if its entry fails to load: its init may pull inputs
    // nothing rendered)
    bool init = !exec_early_init(pn) && !cx->sh->initialised[id] && !cx->sh->probed[id];
    pg_status st = init ? exec_init_node(cx, id) : PG_OK;
    if (st == PG_OK && pn->materialise && !pg_extent_is_empty(pn->mat))
        st = materialise(cx, id);
    return st;
}

// A worker's per-node time accumulator, or NULL when the plan does not measure.
double *exec_node_costs(const pg_plan *p) {
    return p->measure ? calloc((size_t)p->n_nodes + 1, sizeof(double)) : NULL;
}

void exec_release_buffer(exec_shared *sh, int id) {
    if (sh->mapped[id].base)
        cache_unmap(&sh->mapped[id]);
    else if (sh->mat[id])
        buffer_free(sh, sh->mat[id], mat_bytes(&sh->plan->nodes[id]));
    sh->mat[id] = NULL; // a pull now is an internal error, never a read of freed memory
}

// Under the lock.
void exec_free_mat(exec_shared *sh, int id) {
    const plan_node *pn = &sh->plan->nodes[id];
    int64_t len = pn->mat.end - pn->mat.start;
    if (sh->windowed[id]) // what is left of its window
        len = sh->made_upto[id] - sh->dropped_upto[id];
    exec_release_buffer(sh, id);
    sh->live_bytes -= sizeof(float) * (size_t)(len > 0 ? len : 1) * (size_t)pn->pn.out.channels;
}

void exec_scratch_free(exec_ctx *cx) {
    free(cx->root_frames);
    cx->root_frames = NULL;
    cx->root_n = cx->root_cap = 0;
    for (scratch_chunk *c = cx->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    cx->head = cx->cur = NULL;
}

// Planar to interleaved; mono and stereo, the common cases, in loops compilers vectorise.
static void interleave(const pe_view *v, int64_t n, float *out) {
    if (v->channels == 1) {
        memcpy(out, v->data, sizeof(float) * (size_t)n);
        return;
    }
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

// A NaN or an infinity at output frame t: the earliest one is reported (a PE was driven out
// of its range; pygmu would write it silently).
void exec_note_nonfinite(exec_shared *sh, const float *out, int64_t n, int ch, pg_frame t) {
    int64_t i = 0;
    while (i < n * ch && exec_max_abs_bits(&out[i], 1) < EXEC_NONFINITE_BITS)
        i++;
    pthread_mutex_lock(&sh->lock);
    sh->first_nonfinite = frame_min(sh->first_nonfinite, t + i / ch);
    pthread_mutex_unlock(&sh->lock);
}

// Renders the root over [t0, t0 + n) on worker cx into out (interleaved): 0, 1 when the
// block holds a NaN or an infinity, or -1 on error. (The block is checked while it is still
// in this core's cache: a pass over the whole output later cost float renders 9%.)
int exec_render_block(exec_ctx *cx, pg_frame t0, int64_t n, float *out) {
    const pg_plan *p = cx->sh->plan;
    scratch_mark m = scratch_get(cx);
    pe_view v;
    if (pull_node(cx, p->root, t0, n, &v) != PG_OK) {
        scratch_release(cx, m);
        return -1;
    }
    interleave(&v, n, out);
    scratch_release(cx, m);
    if (exec_max_abs_bits(out, n * p->channels) < EXEC_NONFINITE_BITS)
        return 0;
    exec_note_nonfinite(cx->sh, out, n, p->channels, t0);
    return 1;
}
