// plan.h: the plan the runtime executes, its contract with the compiler. The compiler's
// planner (compiler/planner.c) fills it; the executor (exec.c) runs it. A plan owns all its
// memory (plan_alloc) and never points into compiler memory, except pg_func environments,
// which their maker keeps alive.
#ifndef PG_RUNTIME_PLAN_H
#define PG_RUNTIME_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pe.h"
#include "pygmu.h"

typedef struct plan_node {
    pe_node pn;        // kind, args, input shapes, shape, flags (plan-owned)
    int *inputs;       // plan node index of each input slot
    pg_extent need;    // hull of the frames the render asks of this node (may be empty)
    bool materialise;  // rendered once over `mat` into a buffer, then read at random
    bool seeks;        // stateful of finite memory (pe_kind.cells), run by the stream, which
                       // may ask it for any window: it primes itself there (a reverb)
    bool cacheable;    // a materialised buffer worth keeping in the on-disk cache
    bool fused;        // a linear node evaluated as part of a fused weighted sum
    bool leaf;         // fused, but read as a leaf by its consumer's sum: summed on its own
                       // (the chunk root under a chain; a sub-mix, the same sum buffered)
    bool single;       // fused, and adds at most one term to each channel (a chain down to
                       // one leaf): a sum summed on its own inlines it with the same bits
    bool chain;        // in the root's final chain (the planner's, for pg_plan.chain)
    int merged;        // how many equal graph nodes were merged into this one (CSE)
    pg_extent mat;     // [origin, end): what a materialised node renders
    pg_srcloc loc;     // the call that made the node
    uint64_t hash;     // structural: kind, arguments, inputs' hashes (the cache key's root)
    uint64_t own_hash; // kind and arguments only (inputs as slots); 0: its output (or an
                       // input's) may not come from the cache (side effects, unhashable code)
} plan_node;

typedef struct plan_chunk plan_chunk;

// The planner's passes, timed for --explain: checking the window and sorting the graph,
// merging equal subgraphs, propagating the frames each node is needed over, deciding what is
// materialised and fused (and copying the nodes into the plan), grouping long mixes.
enum {
    PASS_SORT,
    PASS_MERGE,
    PASS_NEEDS,
    PASS_DECIDE,
    PASS_GROUP,
    PLAN_PASSES
};

struct pg_plan {
    plan_node *nodes; // topological order: every input before its consumers
    int n_nodes;
    int n_merged;           // graph nodes merged into equal ones (CSE)
    int root;               // index of the root node
    int chunk_root;         // what the output's chunks hold: the root, or the node under its
                            // final chain (a master gain, a crop, a filter, a compressor)
    int *chain;             // the chain's nodes, the root first, consumers before their inputs
    int n_chain;            // (0: the chunks hold the root)
    bool chunk_root_reread; // the chain reads the chunk root more than once (a compressor
                            // and its side chain): the stream makes it once a block
    bool stream_state;      // the stream runs a stateful node (a master filter): in time order, on
                            // one thread at a time
    bool stream_seek;       // the stream runs a node that seeks: on one thread at a time
    pg_extent window;       // the frames rendered
    int channels;
    int frame_rate;
    int block_frames;
    int threads;
    int opt_level;
    bool measure;             // time each node's own work (for pg_render_node_seconds)
    bool quiet;               // PEs print nothing while rendering (pe_log gives NULL)
    bool until_silence;       // stop at the first silent block after every finite part ended
    pg_frame last_finite_end; // with until_silence: the latest finite end in the graph
    size_t mem_limit;
    size_t cache_limit;    // bytes the cache folder may hold; 0: CACHE_DEFAULT_LIMIT
    const char *cache_dir; // NULL: the default folder; "": no cache (plan-owned copy)
    size_t mat_bytes;      // bytes of materialised buffers
    bool output_chunks;    // keep the output in the cache in chunks (chunks.c)
    bool window_only; // (a copy rendering one chunk afresh) need only what sounds in the window
    double pass_sec[PLAN_PASSES]; // wall time of each planner pass (for --explain)
    plan_chunk *pool;
};

// Whether a render of p keeps its output in the cache in chunks (chunks.c): -O1, the cache
// on, output_chunks, a finite window, every node the stream reads stateless and hashable,
// and no buffer it reads spanning the whole window.
bool plan_keeps_output_chunks(const pg_plan *p);
// Why not, in a few words (for --explain), or NULL when it does.
const char *plan_output_chunks_off(const pg_plan *p);

// Zeroed plan-owned memory, 64-byte aligned; NULL when out of memory.
void *plan_alloc(pg_plan *p, size_t bytes);
// Copies a value's strings and arrays into the plan.
int plan_copy_value(pg_plan *p, pe_value *v);
pg_plan *plan_new_empty(void);

#endif // PG_RUNTIME_PLAN_H
