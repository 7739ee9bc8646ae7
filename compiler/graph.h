// graph.h: the graph's nodes as the compiler passes (planner, dot writer) see them. The
// graph itself is built only through the public pg_graph_* API (graph.c).
#ifndef PG_COMPILER_GRAPH_H
#define PG_COMPILER_GRAPH_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "pe.h"
#include "pygmu.h"

typedef struct gnode {
    const pe_kind *kind;
    pe_value *args; // n_args, one per parameter; PE arguments hold input slots
    int n_args;
    int *inputs;       // node ids by input slot (pn.n_inputs)
    pe_node pn;        // the kernel's view: kind, args, input shapes, inferred shape, flags
    pg_extent nominal; // the extent pygmu reports (without filters' ring-out tails): what
                       // .extent() answers and what a render covers by default
    pg_srcloc loc;     // the call that made the node
    uint64_t hash;     // XXH3 of its own hash and its inputs' hashes
    uint64_t own_hash; // XXH3 of kind and arguments (inputs as slots), files' content
    bool uncacheable;  // its output may not come from the render cache: it or a node feeding
                       // it has side effects, or takes a function its hash cannot identify
} gnode;

// Node `id`, or NULL. Valid until the next pg_graph_add.
const gnode *graph_node(const pg_graph *g, int id);
// The memory the graph holds (its node array and its pool), for the evaluator's budget.
size_t graph_bytes(const pg_graph *g);

#endif // PG_COMPILER_GRAPH_H
