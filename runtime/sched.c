// sched.c: the executor's scheduling and its public API (pg_render_*). One pool of -j N
// threads (the calling thread among them) takes three kinds of task from one queue: node
// inits, node tasks (materialisations) once their inputs' are done, most urgent first, and
// stream runs (whole blocks of the output) as soon as every node they may pull is ready, so
// the output streams while later notes are still being materialised. A buffer is freed once
// the stream has passed it and every task that pulls it is done. Each task's output is a
// pure function of the plan, so results never depend on N or on the order tasks finish in.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exec_int.h"

enum {
    LOOKAHEAD_BLOCKS = 8 // node tasks run up to this far ahead of the stream, at least
};

static const double LOOKAHEAD_SEC = 2.0; // ... and at least this far

// How often a thread waiting for a task looks at pg_interrupt's request.
#define WAIT_POLL_NSEC 50000000L

// Without --mem-limit, node tasks needed later than the lookahead run while the buffers
// alive stay under this: enough to keep every thread busy, little enough for any machine.
#define DEFAULT_BUDGET ((size_t)512 << 20)
#define POOL_RESERVE   ((size_t)1 << 30) // address space only: pages are made as written

// Under the lock: frees materialised node id's buffer if nothing will pull it again.
static void try_free(exec_shared *sh, int id) {
    if (sh->mat[id] && sh->pullers_left[id] == 0 && sh->last[id] <= sh->stream_done)
        exec_free_mat(sh, id);
}

// Under the lock: the output before frame t is rendered.
static void stream_advanced(exec_shared *sh, pg_frame t) {
    sh->stream_done = t;
    for (int k = 0; k < sh->n_windows; k++) // read from t + lag_lo on
        exec_drop_window(sh, sh->windows[k],
                         t == PG_FRAME_MAX ? t : t + sh->lag_lo[sh->windows[k]]);
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
    if (sh->frontier < sh->n_streamed && sh->first[sh->streamed[sh->frontier]] < t1)
        return false;
    for (int k = 0; k < sh->n_windows; k++) { // a window must reach t1 (or its end)
        int id = sh->windows[k];
        pg_frame end = sh->plan->nodes[id].mat.end;
        if (sh->first[id] < t1 && sh->made_upto[id] < end &&
            sh->made_upto[id] < t1 + sh->lag_hi[id])
            return false;
    }
    return true;
}

// Under the lock: node id can be pulled by streaming.
static void node_ready(exec_shared *sh, int id) {
    sh->ready[id] = true;
    while (sh->frontier < sh->n_streamed && sh->ready[sh->streamed[sh->frontier]])
        sh->frontier++;
}

// ---- the task graph ----------------------------------------------------------------------

static void heap_push(exec_shared *sh, int id);

// Whether node i's task waits for input slot s's: always, but for a node that seeks (a reverb
// the stream runs), whose task is its init, which pulls its impulse response only: its
// source is the stream's to wait for, as any node the stream pulls.
static bool waits_for(const plan_node *pn, int s) {
    return !pn->seeks || exec_task_pulls(pn, s);
}

static int build_edges(exec_shared *sh) {
    const pg_plan *p = sh->plan;
    for (int i = 0; i < p->n_nodes; i++)
        for (int s = 0; s < p->nodes[i].pn.n_inputs; s++)
            sh->n_consumers[p->nodes[i].inputs[s]] += waits_for(&p->nodes[i], s);
    for (int i = 0; i < p->n_nodes; i++) {
        sh->consumers[i] = malloc(sizeof(int) * (size_t)(sh->n_consumers[i] + 1));
        if (!sh->consumers[i])
            return -1;
        sh->n_consumers[i] = 0;
    }
    for (int i = 0; i < p->n_nodes; i++) {
        sh->pending[i] = sh->needed[i] && exec_early_init(&p->nodes[i]);
        for (int s = 0; s < p->nodes[i].pn.n_inputs; s++) {
            int in = p->nodes[i].inputs[s];
            if (!waits_for(&p->nodes[i], s))
                continue;
            sh->pending[i]++;
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
    // (an unneeded node's init never runs: the stream copies what it would have pulled)
    if (sh->plan->nodes[id].materialise || !exec_early_init(&sh->plan->nodes[id]) ||
        !sh->needed[id])
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
    TASK_PART, // a part of a buffer another task renders in parts (exec.c)
    TASK_RUN,
    TASK_CHECK, // checking an output chunk found in the cache, ahead of the stream
    TASK_AHEAD  // rendering an output chunk not found there, ahead of the stream
} task_kind;

typedef struct task {
    task_kind kind;
    int index; // node id or run index
    int part;  // TASK_PART: which part of node index
} task;

// Under the lock: a task the stream needs soon always starts (the render checked at its
// start that those fit the memory limit); one needed later starts while the buffers alive
// and in the making leave room in the budget, keeping the threads busy.
static bool may_start(const exec_shared *sh, int id) {
    // a window's next segment runs ahead only as far as the stream has been asked to go:
    // each window then holds a request and a segment at most (past that, the budget rules)
    if (sh->urgent[id] < (sh->windowed[id] ? sh->stream_want : sh->horizon))
        return true;
    return sh->live_bytes + sh->reserved + exec_task_bytes(sh, id) <= sh->budget;
}

// Under the lock: the next task, streaming first (it is what the caller waits for), then
// inits, then the most urgent ready node.
static task pick_task(exec_shared *sh) {
    if (sh->failed || sh->shutdown)
        return (task){ TASK_NONE, 0, 0 };
    if (sh->runs_taken < sh->n_runs && stream_ready(sh, sh->runs[sh->runs_taken].end))
        return (task){ TASK_RUN, sh->runs_taken++, 0 };
    if (sh->n_parted > 0) { // a task already running: what it makes is the most urgent
        task t = { TASK_PART, 0, 0 };
        t.part = exec_take_part(sh, &t.index);
        return t;
    }
    if (sh->next_init < sh->n_early)
        return (task){ TASK_INIT, sh->early[sh->next_init++], 0 };
    if (sh->n_heap > 0 && may_start(sh, sh->heap[0])) {
        sh->reserved += exec_task_bytes(sh, sh->heap[0]);
        return (task){ TASK_NODE, heap_pop(sh), 0 };
    }
    pg_extent span;
    int ahead = exec_ahead_candidate(sh, &span);
    if (ahead >= 0 && stream_ready(sh, span.end)) {
        exec_claim_ahead(sh, ahead);
        return (task){ TASK_AHEAD, ahead, 0 };
    }
    int chunk = exec_claim_check(sh); // nothing else to do: the stream will read it soon
    if (chunk >= 0)
        return (task){ TASK_CHECK, chunk, 0 };
    return (task){ TASK_NONE, 0, 0 };
}

static void run_stream(exec_ctx *cx, block_run *run) {
    const pg_plan *p = cx->sh->plan;
    for (pg_frame t = run->t0, end; t < run->end && !run->failed; t = end) {
        if (exec_stopped(cx->sh))
            break; // (the render has failed: the run's frames are not used)
        end = frame_min(frame_min(run->end, t + p->block_frames), exec_chunk_end(cx->sh, t));
        run->failed = exec_stream_block(cx, t, end - t, run->out + (t - run->t0) * p->channels) < 0;
    }
}

static bool window_continues(const exec_shared *sh, int id) {
    return sh->windowed[id] && sh->made_upto[id] < sh->plan->nodes[id].mat.end;
}

// Under the lock: a windowed node rendered a segment: the stream may read it, and the next
// segment is queued, needed from its first frame on.
static void next_segment(exec_shared *sh, int id) {
    node_ready(sh, id);
    sh->urgent[id] = sh->made_upto[id];
    heap_push(sh, id);
}

// Under the lock: stores node id's buffer, now published, in the cache. Consumers already read
// it meanwhile; it is pinned so that it is not freed under the store.
static void store_published(exec_shared *sh, int id) {
    const plan_node *pn = &sh->plan->nodes[id];
    uint64_t key = sh->store_key[id];
    const float *buf = sh->mat[id];
    sh->store_key[id] = 0;
    sh->pullers_left[id]++;
    sh->storing++;
    pthread_cond_broadcast(&sh->wake);
    pthread_mutex_unlock(&sh->lock);
    int64_t frames = pn->mat.end - pn->mat.start;
    bool stored = cache_store(sh->cache, key, buf, pn->pn.out.channels, frames);
    pthread_mutex_lock(&sh->lock);
    sh->cache_stored += stored ? sizeof(float) * (size_t)frames * (size_t)pn->pn.out.channels : 0;
    sh->storing--;
    sh->pullers_left[id]--;
    try_free(sh, id);
}

// Runs t (outside the lock) and records it done (under the lock, which the caller holds).
static void run_task(exec_ctx *cx, task t) {
    exec_shared *sh = cx->sh;
    float *part_buf = t.kind == TASK_PART ? sh->part_buf[t.index] : NULL;
    sh->busy++;
    pthread_mutex_unlock(&sh->lock);
    pg_status st = PG_OK;
    if (t.kind == TASK_INIT)
        st = exec_init_node(cx, t.index);
    else if (t.kind == TASK_NODE)
        st = exec_node_task(cx, t.index);
    else if (t.kind == TASK_PART)
        exec_render_part(cx, t.index, t.part, part_buf); // (an error fails the render)
    else if (t.kind == TASK_CHECK)
        exec_check_claimed(sh, t.index); // (an error fails the render)
    else if (t.kind == TASK_AHEAD)
        exec_render_ahead(cx, t.index); // (likewise)
    else
        run_stream(cx, &sh->runs[t.index]);
    pthread_mutex_lock(&sh->lock);
    if (t.kind == TASK_PART)
        sh->part_left[t.index]--;
    if (t.kind == TASK_INIT && st == PG_OK) {
        init_done(sh, t.index);
    } else if (t.kind == TASK_NODE) {
        sh->reserved -= exec_task_bytes(sh, t.index);
        // (a buffer to store is pinned through node_done, which frees it when the stream is
        // past its last frame already: a buffer no frame of the window reads)
        bool store = st == PG_OK && sh->store_key[t.index];
        sh->pullers_left[t.index] += store;
        if (st == PG_OK && window_continues(sh, t.index))
            next_segment(sh, t.index);
        else if (st == PG_OK)
            node_done(sh, t.index);
        sh->pullers_left[t.index] -= store;
        if (store)
            store_published(sh, t.index);
    } else if (t.kind == TASK_RUN) {
        sh->runs_left--;
    }
    sh->busy--;
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

// Under the lock: the calling thread found no task to run and waits for one. When no thread
// is running a task either, none ever will come: that is a bug in the scheduling, reported as
// an error rather than waited on for ever. The wait is timed so that pg_interrupt stops a
// render whose tasks are all waiting for something (there are no blocks to poll it between).
static void wait_for_task(exec_shared *sh) {
    if (!sh->failed && (exec_interrupt_asked() || sh->busy == 0)) {
        if (exec_interrupt_asked())
            exec_fail_locked(sh, PG_ERR_INTERRUPTED, "interrupted");
        else
            exec_fail_locked(sh, PG_ERR_INTERNAL,
                             "internal error: the render stalled with no task able to run (a "
                             "bug in pygmuc's scheduling: please report the piece)");
        pthread_cond_broadcast(&sh->wake); // the others see the failure
        return;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += WAIT_POLL_NSEC;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&sh->wake, &sh->lock, &until);
}

// Under the lock: the calling thread works on tasks (or waits) until done(sh) holds or the
// render failed; it then still waits for stream runs in flight, which write the caller's
// buffer.
static void help_until(exec_ctx *cx, bool (*done)(const exec_shared *, pg_frame), pg_frame arg) {
    exec_shared *sh = cx->sh;
    while (!(sh->failed ? sh->runs_taken - (sh->n_runs - sh->runs_left) == 0 : done(sh, arg))) {
        task t = pick_task(sh);
        if (t.kind == TASK_NONE)
            wait_for_task(sh);
        else
            run_task(cx, t);
    }
}

static bool runs_finished(const exec_shared *sh, pg_frame unused) {
    (void)unused;
    return sh->runs_left == 0;
}

// Every node task done and every store written: the statistics are final.
static bool all_done(const exec_shared *sh, pg_frame unused) {
    (void)unused;
    return sh->done == sh->plan->n_nodes && sh->storing == 0;
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
        r->pool[k].cost = exec_node_costs(r->sh.plan);
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
        if (sh->initialised && sh->initialised[i])
            exec_fini_node(sh, i);
        if (sh->inst)
            free(sh->inst[i].state);
        if (sh->mat && sh->mapped)
            exec_release_buffer(sh, i);
        if (sh->consumers)
            free(sh->consumers[i]);
        if (sh->pulls)
            free(sh->pulls[i]);
        if (sh->index)
            fuse_index_free(sh->index[i]);
    }
    void *arrays[] = { sh->inst,        sh->mat,       sh->index,        sh->initialised,
                       sh->first,       sh->urgent,    sh->pending,      sh->consumers,
                       sh->n_consumers, sh->heap,      sh->streamed,     sh->ready,
                       sh->early,       sh->last,      sh->pullers_left, sh->n_pulls,
                       sh->by_last,     sh->needed,    sh->probed,       sh->mapped,
                       sh->store_key,   sh->bounded,   sh->lag_lo,       sh->lag_hi,
                       sh->windowed,    sh->made_upto, sh->dropped_upto, sh->windows,
                       sh->part_next,   sh->part_left, sh->part_buf,     sh->parted };
    for (size_t k = 0; k < sizeof arrays / sizeof arrays[0]; k++)
        free(arrays[k]);
    free(sh->pulls);
    exec_chunks_free(sh);
    bufpool_delete(sh->buffers); // after every buffer in it
    cache_close(sh->cache);
    pthread_mutex_destroy(&sh->lock);
    pthread_mutex_destroy(&sh->revive_lock);
    pthread_cond_destroy(&sh->wake);
}

// Every per-node array, zeroed; false when out of memory.
static bool alloc_arrays(exec_shared *sh, size_t n) {
    sh->inst = calloc(n, sizeof *sh->inst);
    sh->mat = calloc(n, sizeof *sh->mat);
    sh->mapped = calloc(n, sizeof *sh->mapped);
    sh->initialised = calloc(n, sizeof *sh->initialised);
    sh->index = calloc(n, sizeof *sh->index);
    sh->first = calloc(n, sizeof *sh->first);
    sh->urgent = calloc(n, sizeof *sh->urgent);
    sh->last = calloc(n, sizeof *sh->last);
    sh->pending = calloc(n, sizeof *sh->pending);
    sh->consumers = calloc(n, sizeof *sh->consumers);
    sh->n_consumers = calloc(n, sizeof *sh->n_consumers);
    sh->heap = calloc(n, sizeof *sh->heap);
    sh->early = calloc(n, sizeof *sh->early);
    sh->streamed = calloc(n, sizeof *sh->streamed);
    sh->ready = calloc(n, sizeof *sh->ready);
    sh->pullers_left = calloc(n, sizeof *sh->pullers_left);
    sh->pulls = calloc(n, sizeof *sh->pulls);
    sh->n_pulls = calloc(n, sizeof *sh->n_pulls);
    sh->by_last = calloc(n, sizeof *sh->by_last);
    sh->needed = calloc(n, sizeof *sh->needed);
    sh->probed = calloc(n, sizeof *sh->probed);
    sh->store_key = calloc(n, sizeof *sh->store_key);
    sh->bounded = calloc(n, sizeof *sh->bounded);
    sh->lag_lo = calloc(n, sizeof *sh->lag_lo);
    sh->lag_hi = calloc(n, sizeof *sh->lag_hi);
    sh->windowed = calloc(n, sizeof *sh->windowed);
    sh->made_upto = calloc(n, sizeof *sh->made_upto);
    sh->dropped_upto = calloc(n, sizeof *sh->dropped_upto);
    sh->windows = calloc(n, sizeof *sh->windows);
    sh->part_next = calloc(n, sizeof *sh->part_next);
    sh->part_left = calloc(n, sizeof *sh->part_left);
    sh->part_buf = calloc(n, sizeof *sh->part_buf);
    sh->parted = calloc(n, sizeof *sh->parted);
    return sh->inst && sh->mat && sh->mapped && sh->initialised && sh->index && sh->first &&
           sh->urgent && sh->last && sh->pending && sh->consumers && sh->n_consumers && sh->heap &&
           sh->early && sh->streamed && sh->ready && sh->pullers_left && sh->pulls && sh->n_pulls &&
           sh->by_last && sh->needed && sh->probed && sh->store_key && sh->bounded && sh->lag_lo &&
           sh->lag_hi && sh->windowed && sh->made_upto && sh->dropped_upto && sh->windows &&
           sh->part_next && sh->part_left && sh->part_buf && sh->parted;
}

void exec_open_cache(exec_shared *sh) {
    if (sh->cache_tried)
        return; // (an unusable folder is tried once, not once per node)
    sh->cache_tried = true;
    sh->cache = cache_open(sh->plan->cache_dir, sh->plan->cache_limit, &sh->cache_errno);
}

static pg_status shared_init(exec_shared *sh, const pg_plan *p) {
    memset(sh, 0, sizeof *sh);
    sh->plan = p;
    sh->first_nonfinite = PG_FRAME_MAX;
    pthread_mutex_init(&sh->lock, NULL);
    pthread_mutex_init(&sh->revive_lock, NULL);
    pthread_cond_init(&sh->wake, NULL);
    for (int i = 0; i < p->n_nodes; i++)
        if (p->nodes[i].cacheable) {
            exec_open_cache(sh);
            break;
        }
    // the demand first: the task graph queues by urgency
    if (!alloc_arrays(sh, (size_t)(p->n_nodes ? p->n_nodes : 1)) || exec_plan_demand(sh) < 0 ||
        build_edges(sh) < 0)
        return exec_fail(sh, PG_ERR_NOMEM, (pg_srcloc){ 0, 0, 0 }, "out of memory");
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

// A buffer that alone exceeds the limit (one that must be whole: a window needs only a
// segment at once) can never fit: refused, with its line, before anything renders.
static pg_status check_single_buffers(pg_render *r, pg_diag *err) {
    const pg_plan *p = r->sh.plan;
    for (int i = 0; i < p->n_nodes; i++) {
        size_t bytes = exec_task_bytes(&r->sh, i);
        if (bytes <= p->mem_limit)
            continue;
        if (err) {
            *err = (pg_diag){ .status = PG_ERR_LIMIT, .loc = p->nodes[i].loc };
            snprintf(err->message, sizeof err->message,
                     "%s must be rendered into a buffer of %.1f MiB, over the memory limit of "
                     "%.1f MiB",
                     p->nodes[i].pn.kind->name, (double)bytes / 1048576.0,
                     (double)p->mem_limit / 1048576.0);
        }
        return PG_ERR_LIMIT;
    }
    return PG_OK;
}

static pg_status check_mem_limit(pg_render *r, pg_diag *err) {
    const pg_plan *p = r->sh.plan;
    if (check_single_buffers(r, err) != PG_OK)
        return PG_ERR_LIMIT;
    size_t need = exec_needed_at_once(&r->sh, horizon_after(r, STREAM_CHUNK), STREAM_CHUNK) +
                  exec_chunk_stage_bytes(&r->sh);
    r->sh.limit_need = need;
    if (need <= p->mem_limit) {
        // tasks ahead of need may fill only what the needed buffers leave of the limit, so
        // the buffers alive at once never exceed it, however the threads run
        r->sh.budget = p->mem_limit - need;
        return PG_OK;
    }
    if (err) {
        *err = (pg_diag){ .status = PG_ERR_LIMIT };
        snprintf(err->message, sizeof err->message,
                 "the buffers needed at once come to %.1f MiB, over the memory limit of %.1f "
                 "MiB",
                 (double)need / 1048576.0, (double)p->mem_limit / 1048576.0);
    }
    return PG_ERR_LIMIT;
}

// Rendered buffers come from a pool of address space (bufpool.c) unless a memory limit is
// set (the pool keeps freed memory for reuse, so the process could hold more than the
// buffers alive at once) or the build checks memory (ASan sees overruns of malloc'd blocks).
static bufpool *make_buffer_pool(const pg_plan *p) {
#ifdef PG_DEBUG
    (void)p;
    return NULL;
#else
    return p->mem_limit ? NULL : bufpool_new(POOL_RESERVE);
#endif
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
    r->main.cost = exec_node_costs(p);
    if (shared_init(&r->sh, p) != PG_OK) {
        if (err)
            *err = r->sh.error;
        pg_render_free(r);
        return NULL;
    }
    r->sh.t_start = exec_now_sec();
    r->cursor = p->window.start;
    r->sh.stream_done = p->window.start;
    r->sh.budget = p->mem_limit ? p->mem_limit : DEFAULT_BUDGET;
    r->sh.buffers = make_buffer_pool(p);
    exec_plan_windows(&r->sh, r->sh.budget, horizon_after(r, STREAM_CHUNK), STREAM_CHUNK);
    if (p->mem_limit && check_mem_limit(r, err) != PG_OK) {
        pg_render_free(r);
        return NULL;
    }
    r->sh.horizon = horizon_after(r, p->window.start);
    r->sh.stream_want = p->window.start;
    pool_start(r);
    return r;
}

// Locks the render's state once no task of its pool is still running, when it has failed
// (a failed render returns at once while its tasks stop at their next block): what they
// count and time is then final. The lock is not part of the render's value, hence the cast.
static exec_shared *lock_settled(const pg_render *r) {
    exec_shared *sh = (exec_shared *)&r->sh;
    pthread_mutex_lock(&sh->lock);
    while (sh->failed && sh->busy > 0)
        pthread_cond_wait(&sh->wake, &sh->lock);
    return sh;
}

void pg_render_get_stats(const pg_render *r, pg_render_stats *s) {
    exec_shared *sh = lock_settled(r);
    int resumed, rejoined;
    exec_resume_counts(sh, &resumed, &rejoined);
    *s = (pg_render_stats){ .frames = r->cursor - sh->plan->window.start,
                            .nodes = sh->plan->n_nodes,
                            .materialised = sh->n_materialised,
                            .cache_hits = sh->cache_hits,
                            .cache_misses = sh->cache_misses,
                            .cache_loaded_bytes = sh->cache_loaded,
                            .cache_stored_bytes = sh->cache_stored,
                            .output_chunks_off = sh->chunks_off,
                            .chunk_hits = sh->chunk_hits,
                            .chunk_misses = sh->chunk_misses,
                            .chunks_ahead = sh->chunk_ahead,
                            .chunks_chained = exec_chunks_chained(sh),
                            .chain_resumed = resumed,
                            .chain_rejoined = rejoined,
                            .cells_copied = sh->cells_copied,
                            .cells_made = sh->cells_made,
                            .parted = sh->n_parted_total,
                            .silent_reads = atomic_load(&sh->silent_reads),
                            .prepare_sec = sh->prepare_sec,
                            .stream_sec = sh->stream_sec,
                            .threads = sh->threads,
                            .peak_mat_bytes = sh->peak_bytes,
                            .limit_need_bytes = sh->limit_need,
                            .cache_errno = sh->cache_errno,
                            .first_nonfinite_frame =
                                sh->first_nonfinite == PG_FRAME_MAX ? -1 : sh->first_nonfinite };
    pthread_mutex_unlock(&sh->lock);
}

void pg_render_free(pg_render *r) {
    if (!r)
        return;
    pool_stop(r);
    shared_fini(&r->sh);
    exec_scratch_free(&r->main);
    free(r->main.cost);
    for (int k = 0; k < r->n_pool; k++) {
        exec_scratch_free(&r->pool[k]);
        free(r->pool[k].cost);
    }
    free(r);
}

const pg_diag *pg_render_error(const pg_render *r) {
    return &r->sh.error;
}

// Under the lock: [cursor, cursor + n) as runs of whole blocks, one per thread, for the
// pool and the calling thread to render.
static void submit_runs(pg_render *r, block_run *runs, float *out, int64_t n) {
    const pg_plan *p = r->sh.plan;
    int64_t blocks = (n + p->block_frames - 1) / p->block_frames;
    int nt = r->sh.threads < blocks ? r->sh.threads : (int)blocks;
    // (a stateful node on the stream sees its frames in order; one that seeks, one caller)
    nt = p->stream_state || p->stream_seek ? 1 : nt;
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
    r->sh.stream_want = frame_max(r->sh.stream_want, r->cursor + n);
    pthread_cond_broadcast(&r->sh.wake);
}

// Renders [cursor, cursor + n) on the pool; false on error.
static bool render_runs(pg_render *r, float *out, int64_t n) {
    block_run runs[MAX_THREADS];
    exec_shared *sh = &r->sh;
    if (exec_chunks_found(sh, r->cursor, r->cursor + n)) {
        // copies of chunks found in the cache: faster here than handed to the pool
        bool ok = exec_copy_found(sh, r->cursor, r->cursor + n, out) == 0;
        pthread_mutex_lock(&sh->lock);
        sh->stream_want = frame_max(sh->stream_want, r->cursor + n);
        if (ok)
            stream_reached(r, r->cursor + n);
        pthread_mutex_unlock(&sh->lock);
        return ok;
    }
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

// until_silence judges silence on a grid of SILENCE_UNIT frames from the window's start, not
// per block: where the render stops must not depend on --block or on the caller's requests.
enum {
    SILENCE_UNIT = 4096
};

static bool all_zero(const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (x[i] != 0.0f)
            return false;
    return true;
}

// Of the n frames just rendered at the cursor into out, how many to keep: up to the end of
// the first silent unit that starts at or after the last finite part's end (the render
// stops there), else all n.
static int64_t until_silence_keep(pg_render *r, const float *out, int64_t n) {
    const pg_plan *p = r->sh.plan;
    int64_t kept = 0;
    while (kept < n) {
        pg_frame t = r->cursor + kept, unit_start = t - (t - p->window.start) % SILENCE_UNIT;
        int64_t k = frame_min(unit_start + SILENCE_UNIT - t, n - kept);
        if (t == unit_start)
            r->unit_loud = false;
        r->unit_loud = r->unit_loud || !all_zero(out + kept * p->channels, k * p->channels);
        kept += k;
        if (t + k == unit_start + SILENCE_UNIT && unit_start >= p->last_finite_end &&
            !r->unit_loud) {
            r->stopped = true;
            break;
        }
    }
    return kept;
}

// Once the window is rendered, the calling thread helps the pool finish (so the statistics
// are complete and every error is reported).
static bool finish(pg_render *r) {
    exec_shared *sh = &r->sh;
    pthread_mutex_lock(&sh->lock);
    stream_advanced(sh, PG_FRAME_MAX); // frees what the stream read, before the last tasks
    sh->horizon = sh->stream_want = PG_FRAME_MAX;
    pthread_cond_broadcast(&sh->wake);
    help_until(&r->main, all_done, 0);
    if (sh->prepare_sec == 0.0)
        sh->prepare_sec = exec_now_sec() - sh->t_start;
    bool ok = !sh->failed;
    pthread_mutex_unlock(&sh->lock);
    return ok;
}

// The frames a call asking for max_frames gets: the rest of the window at most.
static int64_t frames_left(const pg_render *r, int64_t max_frames) {
    pg_frame left = r->sh.plan->window.end - r->cursor;
    return left < max_frames ? left : max_frames;
}

int64_t pg_render_next(pg_render *r, float *out, int64_t max_frames) {
    const pg_plan *p = r->sh.plan;
    double t0 = exec_now_sec();
    int64_t n = frames_left(r, max_frames);
    if (exec_stopped(&r->sh))
        return -1;
    if (n <= 0 || r->stopped)
        return finish(r) ? 0 : -1;
    int64_t done = render_runs(r, out, n) ? n : -1;
    if (done > 0 && p->until_silence)
        done = until_silence_keep(r, out, n);
    if (done > 0)
        r->cursor += done;
    r->sh.stream_sec += exec_now_sec() - t0;
    return done;
}

// Moves the cursor n frames on, over frames found in the cache that the stream does not
// render: for the stream's bookkeeping they are reached.
static int64_t pass_over(pg_render *r, int64_t n) {
    exec_shared *sh = &r->sh;
    pthread_mutex_lock(&sh->lock);
    sh->stream_want = frame_max(sh->stream_want, r->cursor + n);
    stream_reached(r, r->cursor + n);
    pthread_mutex_unlock(&sh->lock);
    r->cursor += n;
    return n;
}

int64_t exec_pass_found(pg_render *r, int64_t max_frames) {
    exec_shared *sh = &r->sh;
    int64_t n = frames_left(r, max_frames);
    // (a scaled chunk is copied and scaled by pg_render_next; and where silence starts,
    // which decides how far the stream goes, needs the frames read)
    if (n <= 0 || r->stopped || sh->chunks_scaled || sh->plan->until_silence ||
        !exec_chunks_found(sh, r->cursor, r->cursor + 1))
        return 0;
    return pass_over(r, frame_min(n, exec_chunk_left(sh, r->cursor)));
}

int exec_fetch_found(pg_render *r, pg_frame t0, int64_t n, float *out) {
    return exec_copy_found(&r->sh, t0, t0 + n, out);
}

int exec_out_chunks(const pg_render *r) {
    return r->sh.chunks ? r->sh.n_chunks : 0;
}

pg_extent exec_out_chunk_span(const pg_render *r, int k) {
    return exec_chunk_span(&r->sh, k);
}

int exec_out_chunk_at(const pg_render *r, pg_frame t) {
    return exec_chunk_at(&r->sh, t);
}

uint64_t exec_out_chunk_key(const pg_render *r, int k) {
    return exec_chunk_out_key(&r->sh, k);
}

bool exec_out_chunk_found(const pg_render *r, int k) {
    const exec_shared *sh = &r->sh;
    return !sh->plan->until_silence &&
           exec_chunks_found(sh, exec_chunk_span(sh, k).start, exec_chunk_span(sh, k).start + 1);
}

int64_t exec_render_chunk_left(const pg_render *r) {
    pg_frame left = r->sh.plan->window.end - r->cursor;
    return r->sh.chunks ? frame_min(left, exec_chunk_left(&r->sh, r->cursor)) : left;
}

int64_t exec_skip_found(pg_render *r) {
    exec_shared *sh = &r->sh;
    if (!sh->chunks || r->stopped || r->cursor >= sh->plan->window.end)
        return 0;
    int k = exec_chunk_at(sh, r->cursor);
    pg_extent s = exec_chunk_span(sh, k);
    if (r->cursor != s.start || !exec_out_chunk_found(r, k))
        return 0;
    cache_touch(sh->cache, sh->chunks[k].key); // (needed, if not read: kept as recently used)
    return pass_over(r, s.end - s.start);
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
    exec_shared *sh = lock_settled(r);
    for (int i = 0; i < r->sh.plan->n_nodes; i++) {
        out[i] = r->main.cost ? r->main.cost[i] : 0.0;
        for (int k = 0; k < r->n_pool; k++)
            out[i] += r->pool[k].cost ? r->pool[k].cost[i] : 0.0;
    }
    pthread_mutex_unlock(&sh->lock);
}

pg_frame exec_render_cursor(const pg_render *r) {
    return r->cursor;
}

struct cache *exec_render_cache(pg_render *r) {
    pthread_mutex_lock(&r->sh.lock);
    exec_open_cache(&r->sh);
    struct cache *c = r->sh.cache;
    pthread_mutex_unlock(&r->sh.lock);
    return c;
}
