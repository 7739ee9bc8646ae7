// exec_int.h: the executor's internals, shared by its three files: exec.c (scratch memory,
// pulling, fused trees, materialising, revivals), demand.c (what the stream and each task
// pull, from when to when, and the memory that takes) and sched.c (the task graph, the pool,
// freeing, the render API). Nothing else includes it.
#ifndef PG_RUNTIME_EXEC_INT_H
#define PG_RUNTIME_EXEC_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bufpool.h"
#include "cache.h"
#include "exec.h"
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

// A chunk of the output kept in the cache (chunks.c).
typedef enum chunk_state {
    CHUNK_UNCHECKED, // (or rendered by the stream: not found)
    CHUNK_CHECKING,  // its entry is being checked (or the chunk rendered afresh)
    CHUNK_CHECKED    // data is its frames, or NULL after an error
} chunk_state;

typedef enum ahead_state {
    AHEAD_NONE,      // the stream renders it when it gets there
    AHEAD_RENDERING, // a thread is rendering it ahead of the stream
    AHEAD_DONE       // ahead_out holds its output frames (NULL after an error)
} ahead_state;

typedef struct out_chunk {
    uint64_t key;      // its cache key: what sounds in it
    bool found;        // the cache held it when the render started: the stream copies it
    chunk_state state; // under the lock
    const float *data; // its frames, interleaved: its stage, once checked
    float *stage;      // found: its entry, read; else rendered by the stream (or afresh)
    int64_t done;      // frames copied out (found) or rendered (not), under the lock
    bool nonfinite;    // a rendered block of it held a NaN or an infinity: not stored
    bool direct;       // the root's chain only scales it: found, it is copied (and scaled)
    uint64_t out_key;  // after a stateful chain (resume.c): the key of the output frames made
                       // or found for it, once they were (0 until then)
    // Not found, and rendered ahead of the stream by an idle thread (chunks.c): its output
    // frames wait in ahead_out until the stream reaches them. Under the lock.
    ahead_state ahead;
    float *ahead_out;
    int64_t ahead_read; // frames of ahead_out the stream has copied
} out_chunk;

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
    pg_frame stream_want;          // the end of the stream's request: windows needed before it run
    size_t live_bytes, peak_bytes; // materialised buffers alive now, at most
    size_t limit_need;             // with --mem-limit: what the plan says they need at once
    pg_frame first_nonfinite;      // the first output frame holding a NaN or an infinity
    bool cache_tried;              // exec_open_cache ran
    int cache_errno;               // why the cache folder could not be used (0: it could)
    size_t reserved, budget;       // buffers of tasks running; what later tasks may fill
    bufpool *buffers;              // where rendered buffers live (NULL: malloc), see bufpool.c
    // Demand: with a warm cache, a materialised node found in it needs none of its inputs;
    // the nodes nothing needs are neither initialised nor rendered. If an entry turns out
    // damaged when loaded, its inputs are revived (rendered on the spot) after all.
    bool *needed;
    bool *probed;                // found in the cache when the render started
    pthread_mutex_t revive_lock; // one revival at a time (the rare path)
    uint64_t *store_key;         // a buffer just rendered, to store in the cache under this key
    int storing;                 // stores in flight (a render is done when they are)
    // Windows: when the buffers needed at once would not fit the budget, a buffer only the
    // stream reads, at output time, is rendered a segment at a time just ahead of the
    // stream, and its pages are given back behind it (it is then not cached).
    bool *bounded;             // per node: the stream reads it within lag of output time:
    pg_frame *lag_lo, *lag_hi; // node frames [t0 + lag_lo, t1 + lag_hi) for output [t0, t1)
    bool *windowed;            // per node
    pg_frame *made_upto;       // per windowed node: rendered before this frame
    pg_frame *dropped_upto;    // per windowed node: pages before this frame given back
    int *windows, n_windows;
    int64_t segment; // frames a windowed node renders per task
    // Parts (exec.c): a stateless buffer is rendered in parts that any thread may take, so
    // that one long buffer (the sub-mix an edit changed) does not leave the others idle.
    int *part_next, *part_left; // per node: the next part to take; parts not yet rendered
    float **part_buf;           // per node rendered in parts: its buffer
    int *parted, n_parted;      // the nodes with parts left to take
    int n_parted_total;         // buffers rendered in parts (under lock)
    block_run *runs;            // the stream runs of the current pg_render_next call
    int n_runs, runs_taken, runs_left;
    atomic_bool shutdown; // pg_render_free: the pool stops
    // -O0 (no sparse scheduling): the blocks of silence read from inputs outside their
    // extents, as pygmu's MixPE reads every input for every block
    atomic_llong silent_reads;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_bool failed; // read without the lock by long tasks, to stop early
    pg_diag error;
    // Output chunks (chunks.c): the output is kept in the cache in chunks, each keyed by
    // what sounds in it; the chunks found there are copied, and only what the others read
    // is rendered.
    out_chunk *chunks;      // NULL: not kept
    const char *chunks_off; // why not (a static string), or NULL
    int n_chunks;
    int check_next; // found chunks before it are all claimed for checking (or checked)
    int chunk_hits, chunk_misses; // found; rendered and stored (under lock)
    int ahead_next;               // chunks before it are found, or rendered ahead or claimed
    int ahead_held, chunk_ahead;  // rendered ahead and not yet read; rendered ahead in all
    int chunk_channels;           // of the chunk root (the plan's), whose frames the chunks hold
    bool chunks_diagonal;         // every link of the root's chain keeps each channel to itself
    bool chunks_scaled;           // with a weight (chunk_weight, per channel) not 1
    double *chunk_weight;         // per channel: the chain's weight, as its fused sum applies it
    struct resume *resume;        // checkpoints of a stateful chain (resume.c), or NULL
    cache *cache;                 // NULL when disabled
    int cells_copied, cells_made; // of buffers made again from their last render (reuse.c)
    int n_materialised, cache_hits, cache_misses; // under lock
    size_t cache_loaded, cache_stored;            // bytes, under lock
    double t_start, prepare_sec, stream_sec;
    int threads;
    int busy; // threads running a task (under lock)
} exec_shared;

struct exec_ctx { // one per thread
    exec_shared *sh;
    scratch_chunk *head, *cur; // the scratch stack's chunks; cur is the one in use
    double *cost;              // seconds spent in each node's own kernel (not its inputs')
    double child_sec;          // time of the kernels the running kernel pulled, so far
    bool in_chunk;             // streaming a block of output chunk `chunk` (chunks.c)
    int chunk;
    // The chunk root's frames [root_t0, root_t0 + root_n), planar, when the chain reads it
    // twice in a block (plan->chunk_root_reread); root_cap floats allocated.
    float *root_frames;
    pg_frame root_t0;
    int64_t root_n, root_cap;
};

enum {
    MAX_THREADS = 64
};

struct pg_render {
    exec_shared sh;
    exec_ctx main;              // the calling thread's worker
    exec_ctx pool[MAX_THREADS]; // the pool's workers
    pthread_t threads[MAX_THREADS];
    int n_pool;
    pg_frame cursor;
    bool stopped;   // until_silence found its silent unit
    bool unit_loud; // until_silence: the unit the cursor is in has a sample that is not 0
};

static inline pg_frame frame_min(pg_frame a, pg_frame b) {
    return a < b ? a : b;
}

static inline pg_frame frame_max(pg_frame a, pg_frame b) {
    return a > b ? a : b;
}

// ---- exec.c ----
// Records the first error of the render (any thread) and returns st.
pg_status exec_fail(exec_shared *sh, pg_status st, pg_srcloc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
// The same, called under the lock, with a fixed message.
void exec_fail_locked(exec_shared *sh, pg_status st, const char *message);
// Whether the render should stop: it failed, is being freed, or pg_interrupt asked (which
// then fails it with PG_ERR_INTERRUPTED). Called between blocks.
bool exec_stopped(exec_shared *sh);
// Whether pg_interrupt asked every render to stop (any thread, any lock held).
bool exec_interrupt_asked(void);
pg_status exec_init_node(exec_ctx *cx, int id);
// Runs node id's fini (kernels may report through pe_log there, so it gets a context).
void exec_fini_node(exec_shared *sh, int id);
pg_status exec_node_task(exec_ctx *cx, int id);
bool exec_early_init(const plan_node *pn);
// Whether node pn's task (its materialisation, or an init that pulls) pulls input `slot`.
bool exec_task_pulls(const plan_node *pn, int slot);
bool exec_is_task_puller(const plan_node *pn);
double *exec_node_costs(const pg_plan *p);
void exec_release_buffer(exec_shared *sh, int id);
void exec_free_mat(exec_shared *sh, int id);
void exec_scratch_free(exec_ctx *cx);
// Under the lock: gives back the pages of windowed node id before frame t.
void exec_drop_window(exec_shared *sh, int id, pg_frame t);
// Under the lock: takes the next part of a buffer rendered in parts (sh->parted[0]): its node
// in *id, and the part's index.
int exec_take_part(exec_shared *sh, int *id);
// Pulls input `slot` of node id over [t0, t0 + n) as its kernel would and hands the frames
// to use (outside the lock); their memory is released after.
pg_status exec_read_input(exec_ctx *cx, int id, int slot, pg_frame t0, int64_t n,
                          void (*use)(const pe_view *v, void *arg), void *arg);
// Renders node id's frames [from, to) of its span into buf (offsets into its buffer).
pg_status exec_render_range(exec_ctx *cx, int id, float *buf, int64_t from, int64_t to);
// Renders part k of node id (outside the lock).
pg_status exec_render_part(exec_ctx *cx, int id, int k, float *buf);
int exec_render_block(exec_ctx *cx, pg_frame t0, int64_t n, float *out);
// Records the first NaN or infinity of output frames [t, t + n) (interleaved, ch channels).
void exec_note_nonfinite(exec_shared *sh, const float *out, int64_t n, int ch, pg_frame t);
// Renders fused node id over [t0, t0 + n) into a view on cx's scratch memory.
pg_status exec_pull_fused(exec_ctx *cx, int id, pg_frame t0, int64_t n, pe_view *out);
// Scratch memory of cx, released with what pulled it; NULL when out of memory.
void *exec_scratch(exec_ctx *cx, size_t bytes);

// ---- demand.c ----
// Fills needed, probed, first, urgent, last, streamed, pulls, pullers_left and by_last from
// the plan (and the cache's contents); -1 when out of memory.
int exec_plan_demand(exec_shared *sh);
size_t exec_task_bytes(const exec_shared *sh, int id);
size_t exec_needed_at_once(const exec_shared *sh, pg_frame ahead, pg_frame request);
// Windows the long buffers only the stream reads when the buffers needed at once would
// exceed budget (ahead: how far node tasks run ahead of the stream; request: the frames the
// stream asks for at once).
void exec_plan_windows(exec_shared *sh, size_t budget, pg_frame ahead, pg_frame request);
// Frames of node id that its task renders at once (a segment if windowed, else all).
size_t exec_window_bytes(const exec_shared *sh, int id);

// ---- resume.c ----
// Checkpoints of a stateful master chain (plan->stream_state): the output after the chain
// is kept in chunks too, with the chain's state at each chunk's end. Decides, once the
// chunks are keyed and looked up, where the chain resumes: the chunks before that are
// marked found and direct, their keys those of the chain's output.
void exec_plan_resume(exec_shared *sh);
// Whether chunk k is one of those (found after the chain before the stream started).
bool exec_resume_before(const exec_shared *sh, int k);
// Those chunks (-1: no checkpoints), and the chunks after the chain found while streaming.
void exec_resume_counts(const exec_shared *sh, int *at, int *rejoined);
// Before the stream runs the chain over [t0, t0 + n) of chunk k: at the resume chunk, the
// saved state is put back into the chain's links; past it, chunk k after the chain is
// looked up for the chain's state now. 1: found, its frames copied to out (the chain is
// not run); 0: run the chain; -1 on error.
int exec_resume_block(exec_ctx *cx, int k, pg_frame t0, int64_t n, float *out);
// The chain's output [t0, t0 + n) of chunk k (interleaved); at the chunk's end it and the
// chain's state are stored.
void exec_keep_final(exec_ctx *cx, int k, pg_frame t0, int64_t n, const float *out, bool nonfinite);
void exec_resume_free(exec_shared *sh);

// ---- reuse.c ----
// Whether node id's buffer, not found in the cache, is made from its last render's (its
// kind has finite memory, pe_kind.cells, and the buffer is cached).
bool exec_reusable(const exec_shared *sh, int id);
// Renders node id's buffer into buf (key: its cache key), copying the cells of its last
// render whose source did not change, and records its source's cells for the next one.
pg_status exec_render_reusing(exec_ctx *cx, int id, float *buf, uint64_t key);

// ---- chunks.c ----
// Output chunk k's frames.
pg_extent exec_chunk_span(const exec_shared *sh, int k);
// Keys the output's chunks and looks them up in the cache. True when some were found: the
// nodes the others read are then marked needed (and no others).
bool exec_plan_chunks(exec_shared *sh);
// Marks needed what sounds in the plan's window (a walk as for the chunks to render); false
// when the stream is too tangled to walk.
bool exec_mark_window(exec_shared *sh);
// The end of the output chunk frame t is in (PG_FRAME_MAX when chunks are not kept): a
// stream block never crosses it.
pg_frame exec_chunk_end(const exec_shared *sh, pg_frame t);
// Whether every chunk of output frames [t0, t1) was found in the cache.
bool exec_chunks_found(const exec_shared *sh, pg_frame t0, pg_frame t1);
// Copies output frames [t0, t1), all in chunks found in the cache, to out (a whole chunk
// is checked as it is copied); -1 on error.
int exec_copy_found(exec_shared *sh, pg_frame t0, pg_frame t1, float *out);
// The frames from output frame t0 to the end of its chunk.
int64_t exec_chunk_left(const exec_shared *sh, pg_frame t0);
// The output chunk frame t is in.
int exec_chunk_at(const exec_shared *sh, pg_frame t);
// A key of the output's frames over chunk k (not 0), or 0 when they are not known before
// they are rendered (a master chain's filter or fade runs over them).
uint64_t exec_chunk_out_key(const exec_shared *sh, int k);
// Under the lock: a found chunk that the stream reads through the master chain and no thread
// has checked yet, at most CHECK_AHEAD chunks past the stream, claimed for an idle thread to
// check; -1 if none.
int exec_claim_check(exec_shared *sh);
// Opens the render cache, once (sh->cache stays NULL when it is off or unusable).
void exec_open_cache(exec_shared *sh);
// The most memory output chunks being rendered hold at once (staged until whole).
size_t exec_chunk_stage_bytes(const exec_shared *sh);
// The chunks found in the cache that the root's chain does not only scale (run through it).
int exec_chunks_chained(const exec_shared *sh);
// Under the lock: the next chunk an idle thread may render ahead of the stream (one not
// found, which the stream has not asked for yet), with its span; -1 if none. The caller
// claims it with exec_claim_ahead once the buffers the stream reads before its end are ready.
int exec_ahead_candidate(exec_shared *sh, pg_extent *span);
void exec_claim_ahead(exec_shared *sh, int k);
// Renders chunk k, claimed by exec_claim_ahead, ahead of the stream (outside the lock).
void exec_render_ahead(exec_ctx *cx, int k);
// Checks chunk k, claimed by exec_claim_check (outside the lock).
void exec_check_claimed(exec_shared *sh, int k);
// exec_render_block, or a copy of a chunk found in the cache; keeps what it renders.
int exec_stream_block(exec_ctx *cx, pg_frame t0, int64_t n, float *out);
// The chunk root (fused) over [t0, t0 + n) while cx streams a block of chunk cx->chunk, when
// the root's chain changes its frames: read from the chunk found in the cache, or rendered
// and kept for the chunk's entry.
pg_status exec_chunk_leaf(exec_ctx *cx, int id, pg_frame t0, int64_t n, pe_view *out);
void exec_chunks_free(exec_shared *sh);

#endif // PG_RUNTIME_EXEC_INT_H
