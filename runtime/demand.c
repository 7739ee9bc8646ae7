// demand.c: what the render will pull, and when, worked out from the plan before it starts.
// For every node: whether anything needs it at all (a node found in the cache needs none of
// its inputs), the first and last output frames at which the stream may pull it, its
// urgency (when the first task or stream run that pulls it needs it), and which tasks pull
// which buffers; and from those, the memory the buffers needed at once take. All of it is a
// pure function of the plan (and of what the cache holds), never of timing.
#include <stdlib.h>
#include <string.h>

#include "exec_int.h"

// ---- when streaming first pulls each node ------------------------------------------------

// Narrows node x's first and last stream pulls by its lag (plan_lags): the stream reads it
// over [t0 + lag_lo, t0 + n + lag_hi) for output [t0, t0 + n), n a block at most, so only
// while that overlaps its extent. (What a reverb the stream runs reads runs ahead of the
// output and back to where it primes itself: within a bounded lag still, which keeps the
// notes under it from being needed from the window's start.)
static void tighten_by_lag(exec_shared *sh, int x) {
    const pg_plan *p = sh->plan;
    pg_extent e = p->nodes[x].pn.out.extent;
    pg_frame reach = p->block_frames - 1;
    if (!sh->bounded[x] || sh->first[x] == PG_FRAME_MAX)
        return;
    if (e.start != PG_FRAME_MIN)
        sh->first[x] = frame_max(sh->first[x], e.start - sh->lag_hi[x] - reach);
    if (e.end != PG_FRAME_MAX)
        sh->last[x] = frame_min(sh->last[x], e.end - sh->lag_lo[x] + reach);
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
        tighten_by_lag(sh, x);
        pg_frame by_task = sh->urgent[x]; // so far: when tasks pull it
        sh->urgent[x] = frame_min(by_task, sh->first[x]);
        bool same = pn->pn.kind->need == NULL && aligned[x];
        for (int s = 0; s < pn->pn.n_inputs; s++) {
            int i = pn->inputs[s];
            pg_frame pulled = exec_task_pulls(pn, s) ? sh->urgent[x] : by_task;
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

// How kind `n` shifts what it reads of input slot s: need(out) = [out.start + *a, out.end + *b)
// for every window probed (time-invariant and bounded), or for a node that seeks, bounds
// of what it reads (its cells'); else false.
static bool shift_of(const plan_node *n, int s, pg_frame *a, pg_frame *b) {
    if (!n->pn.kind->need) {
        *a = *b = 0;
        return true;
    }
    pe_cells c;
    if (n->seeks && n->pn.kind->cells(&n->pn, &c) && s == c.slot) {
        // whole cells, from `back` before the one holding out.start (where it primes
        // itself, or runs on from its last window) to the end of the one holding the last
        *a = -(pg_frame)(c.back + 1) * c.step;
        *b = c.step;
        return true;
    }
    static const pg_extent probes[] = { { 0, 1 }, { 0, 4096 }, { 1 << 30, (1 << 30) + 4096 } };
    for (int k = 0; k < 3; k++) {
        pg_extent in = probes[k];
        n->pn.kind->need(&n->pn, s, probes[k], &in);
        if (in.start == PG_FRAME_MIN || in.end == PG_FRAME_MAX)
            return false;
        pg_frame ka = in.start - probes[k].start, kb = in.end - probes[k].end;
        if (k > 0 && (ka != *a || kb != *b))
            return false;
        *a = ka;
        *b = kb;
    }
    return *a > -(1LL << 40) && *b < (1LL << 40);
}

// bounded[i]: the stream reads node i only within a fixed lag of output time, through
// consumers that each read their inputs at a fixed shift: output [t0, t1) reads frames
// within [t0 + lag_lo, t1 + lag_hi) of it. What windowed buffers rely on.
static void plan_lags(exec_shared *sh, bool *seen) {
    const pg_plan *p = sh->plan;
    sh->bounded[p->root] = true;
    seen[p->root] = true;
    for (int x = p->n_nodes - 1; x >= 0; x--) {
        const plan_node *pn = &p->nodes[x];
        if (!seen[x] || pn->materialise)
            continue; // materialised: read by its task, not by the stream
        for (int s = 0; s < pn->pn.n_inputs; s++) {
            int i = pn->inputs[s];
            pg_frame a = 0, b = 0;
            bool ok = sh->bounded[x] && shift_of(pn, s, &a, &b);
            pg_frame lo = sh->lag_lo[x] + a, hi = sh->lag_hi[x] + b;
            sh->bounded[i] = ok && (!seen[i] || sh->bounded[i]);
            sh->lag_lo[i] = seen[i] ? frame_min(sh->lag_lo[i], lo) : lo;
            sh->lag_hi[i] = seen[i] ? frame_max(sh->lag_hi[i], hi) : hi;
            seen[i] = true;
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
        if (sh->needed[i] && exec_early_init(&p->nodes[i]))
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
        int at = stack[--top];
        const plan_node *pn = &p->nodes[at];
        for (int s = 0; s < pn->pn.n_inputs; s++, visits++) {
            int i = pn->inputs[s];
            if (stamp[i] == x + 1 || (at == x && !exec_task_pulls(pn, s)))
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
        if (!exec_is_task_puller(&p->nodes[x]))
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

// ---- memory needed at once ---------------------------------------------------------------

// The buffer node id's task makes (0 when it makes none).
size_t exec_task_bytes(const exec_shared *sh, int id) {
    const plan_node *pn = &sh->plan->nodes[id];
    if (!pn->materialise || !sh->needed[id] || pg_extent_is_empty(pn->mat))
        return 0;
    int64_t len = pn->mat.end - pn->mat.start;
    if (sh->windowed[id] && len > sh->segment)
        len = sh->segment;
    return sizeof(float) * (size_t)len * (size_t)pn->pn.out.channels;
}

size_t exec_window_bytes(const exec_shared *sh, int id) {
    return exec_task_bytes(sh, id);
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
// pull, and past the point where every task that pulls it is surely done. done_by[x] is
// that point for task x: the stream renders no frame past first[x] before x is ready, and a
// task that only tasks pull is done before any of them is. (Holding what a task pulls until
// that task's own release instead, as this once did, counted the 32 notes of a sub-mix
// alive for the sub-mix's whole length: large_piece asked for 4x the memory it took.)
static void plan_release(const exec_shared *sh, pg_frame *release, pg_frame *done_by) {
    const pg_plan *p = sh->plan;
    for (int i = 0; i < p->n_nodes; i++) {
        release[i] = sh->last[i];
        done_by[i] = sh->first[i] == PG_FRAME_MAX ? PG_FRAME_MAX : sh->first[i] + 1;
    }
    for (int x = p->n_nodes - 1; x >= 0; x--) { // pullers before what they pull
        pg_frame done = done_by[x] != PG_FRAME_MAX ? done_by[x] : release[x];
        for (int k = 0; sh->pulls[x] && k < sh->n_pulls[x]; k++) {
            int i = sh->pulls[x][k];
            release[i] = frame_max(release[i], done);
            done_by[i] = frame_min(done_by[i], done);
        }
    }
}

// The most the buffers the stream needs at once take: a buffer lives from when its task is
// needed (its urgency, less the lookahead `ahead`) until its release; a window, from its
// urgency less the stream's request (`request` frames) on, holds at most a request and the
// segment past it (sched.c makes a window further ahead only within the budget). A pure
// function of the plan, so a render over the memory limit fails at its start, on every run
// alike.
size_t exec_needed_at_once(const exec_shared *sh, pg_frame ahead, pg_frame request) {
    const pg_plan *p = sh->plan;
    pg_frame *release = malloc(sizeof(pg_frame) * (size_t)(2 * p->n_nodes + 1));
    mem_event *ev = malloc(sizeof *ev * (size_t)(2 * p->n_nodes + 1));
    size_t peak = 0;
    int n = 0;
    if (release && ev) {
        plan_release(sh, release, release + p->n_nodes);
        for (int i = 0; i < p->n_nodes; i++) {
            int64_t b = (int64_t)exec_task_bytes(sh, i);
            if (b == 0)
                continue;
            pg_frame lead = sh->windowed[i] ? request : ahead;
            if (sh->windowed[i])
                b += (int64_t)sizeof(float) * request * p->nodes[i].pn.out.channels;
            pg_frame from = sh->urgent[i] == PG_FRAME_MAX ? PG_FRAME_MAX - 1 : sh->urgent[i];
            ev[n++] = (mem_event){ from > PG_FRAME_MIN + lead ? from - lead : from, b };
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

// needed[i]: whether node i is pulled at all: by the stream (only over the output chunks
// it renders when others are found in the cache, chunks.c), or by the task of a needed node
// that is not found in the cache (probed[i]: it is, so it needs none of its inputs). whole:
// the nodes that read all of their inputs (a task, or what a task pulls).
static int plan_needed(exec_shared *sh) {
    const pg_plan *p = sh->plan;
    bool *whole = calloc((size_t)p->n_nodes + 1, sizeof(bool));
    if (!whole)
        return -1;
    if (!exec_plan_chunks(sh) && !(p->window_only && exec_mark_window(sh)))
        sh->needed[p->root] = whole[p->root] = true;
    for (int x = p->n_nodes - 1; x >= 0; x--) {
        const plan_node *pn = &p->nodes[x];
        if (!sh->needed[x])
            continue;
        if (pn->materialise && pn->cacheable && sh->cache && !pg_extent_is_empty(pn->mat)) {
            int ch = pn->pn.out.channels;
            uint64_t key = cache_key(pn->hash, pn->mat, ch, pn->pn.out.frame_rate);
            sh->probed[x] = cache_has(sh->cache, key, ch, pn->mat.end - pn->mat.start);
        }
        whole[x] = pn->materialise ? !sh->probed[x] : whole[x];
        for (int s = 0; s < pn->pn.n_inputs; s++) // (an init that pulls reads its inputs whole)
            if (whole[x] || (!pn->materialise && exec_task_pulls(pn, s)))
                sh->needed[pn->inputs[s]] = whole[pn->inputs[s]] = true;
    }
    free(whole);
    return 0;
}

int exec_plan_demand(exec_shared *sh) {
    size_t n = (size_t)sh->plan->n_nodes + 1;
    bool *seen = calloc(n, sizeof(bool)), *same_time = calloc(n, sizeof(bool));
    if (!seen || !same_time || plan_needed(sh) < 0) {
        free(seen);
        free(same_time);
        return -1;
    }
    plan_lags(sh, seen);
    plan_first_pulls(sh, same_time); // (narrowed by the lags)
    free(seen);
    free(same_time);
    return plan_streamed(sh) < 0 || plan_pulls(sh) < 0 || plan_by_last(sh) < 0 ? -1 : 0;
}

enum {
    SEGMENT_FRAMES = 65536, // about a second and a half: a windowed node's task
    WINDOW_MIN_FRAMES = 4 * SEGMENT_FRAMES
};

// A buffer may be windowed when only the stream reads it, at output time, and its task
// pulls no other buffer (its segments then depend on nothing but the previous one), it is
// rendered here (not loaded), and it is long enough to be worth it.
static bool windowable(const exec_shared *sh, int id) {
    const plan_node *pn = &sh->plan->nodes[id];
    return pn->materialise && sh->needed[id] && !sh->probed[id] && sh->bounded[id] &&
           sh->first[id] != PG_FRAME_MAX && sh->pullers_left[id] == 0 && sh->n_pulls[id] == 0 &&
           pn->mat.end - pn->mat.start >= WINDOW_MIN_FRAMES;
}

void exec_plan_windows(exec_shared *sh, size_t budget, pg_frame ahead, pg_frame request) {
    const pg_plan *p = sh->plan;
    sh->segment = ((SEGMENT_FRAMES + p->block_frames - 1) / p->block_frames) * p->block_frames;
    if (exec_needed_at_once(sh, ahead, request) <= budget)
        return; // everything fits whole: whole buffers can be cached
    for (int i = 0; i < p->n_nodes; i++)
        if (windowable(sh, i)) {
            sh->windowed[i] = true;
            sh->windows[sh->n_windows++] = i;
            sh->made_upto[i] = sh->dropped_upto[i] = p->nodes[i].mat.start;
        }
}
