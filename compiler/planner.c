// planner.c: graph -> plan. Orders the nodes reachable from the root topologically, works
// out the render window, propagates what each node must produce (its "need": a hull of
// frames) from the root down to the sources, fixes each stateful node's origin, decides
// what is materialised, and copies it all into a plan that owns its memory.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "exec.h"
#include "graph.h"
#include "plan.h"
#include "submix.h"

enum {
    DEFAULT_BLOCK = 4096
};

// A render longer than this is almost certainly a mistake (an extent computed in the wrong
// unit): it is refused rather than left to run for days.
enum {
    MAX_RENDER_HOURS = 24
};

// How long an --until-silence render may run past the last finite end (frames = seconds
// times the rate): a guard against feedback-like infinite tails.
enum {
    UNTIL_SILENCE_TAIL_SEC = 60
};

typedef struct planner {
    const pg_graph *g;
    int *order; // graph ids, inputs first
    int n;
    int *index_of;       // graph id -> position in order, or -1
    pg_extent *need;     // by position
    int *merged_into;    // graph id -> how many nodes were merged into it
    int *readers;        // by position: how many input slots read the node
    double *read_frames; // by position: the frames those reads ask for, summed
    pg_diag *err;
} planner;

// A node read by several consumers is rendered once and read from memory when recomputing
// it would cost more (see worth_sharing); at most this much memory goes to such buffers.
#define SHARED_BUDGET_BYTES ((size_t)512 << 20)

static pg_plan *fail(planner *pl, pg_status st, pg_srcloc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static pg_plan *fail(planner *pl, pg_status st, pg_srcloc loc, const char *fmt, ...) {
    if (pl->err) {
        va_list ap;
        va_start(ap, fmt);
        pl->err->status = st;
        pl->err->loc = loc;
        pl->err->is_warning = false;
        vsnprintf(pl->err->message, sizeof pl->err->message, fmt, ap);
        va_end(ap);
    }
    return NULL;
}

// Depth-first post-order from root without recursion (graphs can be thousands deep).
static int topo_sort(planner *pl, int root) {
    int total = pg_graph_node_count(pl->g);
    pl->order = malloc(sizeof(int) * (size_t)total);
    pl->index_of = malloc(sizeof(int) * (size_t)total);
    int *stack = malloc(sizeof(int) * (size_t)total * 2);
    if (!pl->order || !pl->index_of || !stack) {
        free(stack);
        return -1;
    }
    for (int i = 0; i < total; i++)
        pl->index_of[i] = -2; // -2 unvisited, -1 on the stack, >= 0 placed
    int sp = 0;
    stack[sp++] = root;
    stack[sp++] = 0;
    pl->index_of[root] = -1;
    while (sp > 0) {
        int id = stack[sp - 2], next = stack[sp - 1];
        const gnode *n = graph_node(pl->g, id);
        if (next < n->pn.n_inputs) {
            stack[sp - 1] = next + 1;
            int in = n->inputs[next];
            if (pl->index_of[in] == -2) {
                pl->index_of[in] = -1;
                stack[sp++] = in;
                stack[sp++] = 0;
            }
            continue;
        }
        sp -= 2;
        pl->index_of[id] = pl->n;
        pl->order[pl->n++] = id;
    }
    free(stack);
    return 0;
}

// ---- hash-consing (CSE) ------------------------------------------------------------------
// Equal subgraphs (same kind, arguments and inputs; found by their XXH3 hash, confirmed by
// comparing them) become one node. A stateful node whose extent has no start (a saw, a
// filter on it) starts where its need does, so two equal-looking ones may start at
// different frames: they are merged only in a second pass, once needs are known, when they
// are needed over the same frames.

static bool values_equal(const pe_value *a, const pe_value *b) {
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case PG_V_NONE:
        return true;
    case PG_V_NUM:
        return memcmp(&a->u.num, &b->u.num, sizeof a->u.num) == 0;
    case PG_V_INT:
        return a->u.i == b->u.i;
    case PG_V_BOOL:
        return a->u.b == b->u.b;
    case PG_V_STR:
        return strcmp(a->u.str, b->u.str) == 0;
    case PG_V_EXTENT:
        return a->u.ext.start == b->u.ext.start && a->u.ext.end == b->u.ext.end;
    case PG_V_NODE:
        return a->u.node == b->u.node; // slots; inputs are compared separately
    case PG_V_ARRAY:
        return a->u.array.rows == b->u.array.rows && a->u.array.cols == b->u.array.cols &&
               memcmp(a->u.array.data, b->u.array.data,
                      sizeof(double) * (size_t)a->u.array.rows * (size_t)a->u.array.cols) == 0;
    case PG_V_FUNC:
        return a->u.func.call == b->u.func.call && a->u.func.env == b->u.func.env;
    }
    return false;
}

// canon maps graph ids (representatives of earlier merges, through rep) to their
// representative's graph id; need (by graph id, NULL before needs are known) must match too.
static bool nodes_equal(const pg_graph *g, const int *canon, const int *rep, const pg_extent *need,
                        int x, int y) {
    const gnode *a = graph_node(g, x), *b = graph_node(g, y);
    if (a->kind != b->kind || a->hash != b->hash || a->n_args != b->n_args ||
        a->pn.n_inputs != b->pn.n_inputs)
        return false;
    if (need && (need[x].start != need[y].start || need[x].end != need[y].end))
        return false;
    for (int k = 0; k < a->n_args; k++)
        if (!values_equal(&a->args[k], &b->args[k]))
            return false;
    for (int s = 0; s < a->pn.n_inputs; s++)
        if (canon[rep[a->inputs[s]]] != canon[rep[b->inputs[s]]])
            return false;
    return true;
}

static bool mergeable(const gnode *n, const bool *ok_inputs, const int *rep, bool needs_known) {
    if (!needs_known && (n->pn.flags & PE_F_STATEFUL) && n->pn.out.extent.start == PG_FRAME_MIN)
        return false;
    for (int s = 0; s < n->pn.n_inputs; s++)
        if (!ok_inputs[rep[n->inputs[s]]])
            return false;
    return true;
}

typedef struct merge_scratch {
    int *canon;   // by graph id: the representative of a node in order
    int *rep;     // by graph id: the node in order standing for it (an earlier merge's)
    int *table;   // open-addressing hash table of representatives
    int *visited; // order as it was
    int *newpos;  // by old position: the new one
    bool *ok;     // by graph id: mergeable
} merge_scratch;

static void scratch_free(merge_scratch *m) {
    free(m->canon);
    free(m->rep);
    free(m->table);
    free(m->visited);
    free(m->newpos);
    free(m->ok);
}

static bool scratch_alloc(merge_scratch *m, int total, int n, int cap) {
    m->canon = malloc(sizeof(int) * (size_t)total);
    m->rep = malloc(sizeof(int) * (size_t)total);
    m->table = malloc(sizeof(int) * (size_t)cap);
    m->visited = malloc(sizeof(int) * (size_t)n);
    m->newpos = malloc(sizeof(int) * (size_t)n);
    m->ok = calloc((size_t)total, sizeof(bool));
    if (m->canon && m->rep && m->table && m->visited && m->newpos && m->ok)
        return true;
    scratch_free(m);
    return false;
}

// After a merge: every graph id placed in order (those merged by an earlier pass too) points
// at its representative's new position.
static void renumber(planner *pl, const merge_scratch *m, int n, int total) {
    for (int pos = 0; pos < n; pos++) {
        int id = m->visited[pos];
        if (m->canon[id] != id) // a representative comes first, so its position is final
            m->newpos[pos] = m->newpos[pl->index_of[m->canon[id]]];
    }
    for (int i = 0; i < total; i++)
        if (pl->index_of[i] >= 0)
            pl->index_of[i] = m->newpos[pl->index_of[i]];
}

// Rewrites pl->order without duplicates and points index_of of each merged node at its
// representative; need: by graph id, once known (else NULL). May run again on its own
// result. Returns the number of nodes merged away, or -1 when out of memory.
static int merge_equal(planner *pl, int **merged_into, const pg_extent *need) {
    int total = pg_graph_node_count(pl->g), cap = 1, kept = 0, n = pl->n;
    while (cap < 2 * n)
        cap *= 2;
    merge_scratch m;
    if (!scratch_alloc(&m, total, n, cap))
        return -1;
    for (int i = 0; i < cap; i++)
        m.table[i] = -1;
    memcpy(m.visited, pl->order, sizeof(int) * (size_t)n);
    for (int i = 0; i < total; i++)
        m.rep[i] = pl->index_of[i] >= 0 ? m.visited[pl->index_of[i]] : i;
    for (int pos = 0; pos < n; pos++) {
        int id = m.visited[pos];
        const gnode *node = graph_node(pl->g, id);
        m.canon[id] = id;
        m.ok[id] = mergeable(node, m.ok, m.rep, need != NULL);
        size_t h = (size_t)(node->hash & (uint64_t)(cap - 1));
        while (m.ok[id] && m.table[h] >= 0 &&
               !nodes_equal(pl->g, m.canon, m.rep, need, m.table[h], id))
            h = (h + 1) & (size_t)(cap - 1);
        if (m.ok[id] && m.table[h] >= 0) {
            m.canon[id] = m.table[h];
            (*merged_into)[m.table[h]] += 1 + (*merged_into)[id]; // (an earlier merge's too)
            continue;
        }
        if (m.ok[id])
            m.table[h] = id;
        pl->order[kept] = id;
        m.newpos[pos] = kept++;
    }
    renumber(pl, &m, n, total);
    pl->n = kept;
    scratch_free(&m);
    return n - kept;
}

static pg_extent hull(pg_extent a, pg_extent b) {
    return pg_extent_union(a, b);
}

static void propagate_needs(planner *pl, bool *random_read, const bool *seeks,
                            const pg_extent *first);

// Works the needs out again from the window w, with the nodes that seek (may be NULL)
// needed over what is asked of them only, not from their origin. A stateful node with no
// start of its own still starts where the needs before first had it: a reverb that seeks
// reads less of the mix under it than one rendered from its origin, but the saws in the mix
// must start where they would without it (the bits of -O0 and of a render that begins
// earlier). False when out of memory.
static bool renew_needs(planner *pl, pg_extent w, bool *random_read, const bool *seeks) {
    int n = pl->n;
    pg_extent *first = seeks ? malloc(sizeof *first * (size_t)n) : NULL;
    if (seeks && !first)
        return false;
    if (first)
        memcpy(first, pl->need, sizeof *first * (size_t)n);
    memset(pl->need, 0, sizeof *pl->need * (size_t)n);
    memset(pl->readers, 0, sizeof *pl->readers * (size_t)n);
    memset(pl->read_frames, 0, sizeof *pl->read_frames * (size_t)n);
    memset(random_read, 0, sizeof *random_read * (size_t)n);
    pl->need[n - 1] = w;
    propagate_needs(pl, random_read, seeks, first);
    free(first);
    return true;
}

// The second merge, once needs are known: equal stateful nodes without a start (and what is
// built on them) needed over the same frames make the same samples (large_piece: the saw and
// filter of each of its 36 pitches, rendered once instead of 17 times). Needs are then worked
// out again over the merged graph, from the window w. Returns the number merged, or -1.
static int merge_equal_needs(planner *pl, pg_extent w, bool *random_read) {
    int total = pg_graph_node_count(pl->g), n = pl->n;
    pg_extent *need = calloc((size_t)total + 1, sizeof *need);
    if (!need)
        return -1;
    for (int pos = 0; pos < n; pos++)
        need[pl->order[pos]] = pl->need[pos];
    int merged = merge_equal(pl, &pl->merged_into, need);
    free(need);
    if (merged > 0)
        renew_needs(pl, w, random_read, NULL); // (no seeks: nothing to allocate)
    return merged;
}

// The frames a materialised or stateful node must render: from its origin (its extent's
// start when finite, else the first frame needed) to the end of what is needed.
static pg_extent origin_span(pg_extent ext, pg_extent need) {
    pg_extent m = need;
    if (ext.start != PG_FRAME_MIN && !pg_extent_is_empty(need))
        m.start = ext.start;
    return pg_extent_intersect(m, ext);
}

static bool must_materialise(const gnode *n) {
    return (n->pn.flags & (PE_F_STATEFUL | PE_F_MATERIALISE)) != 0;
}

// Propagates needs from consumers to inputs, in reverse topological order. A stateful node
// is needed from its origin, unless it seeks (seeks[pos]; seeks may be NULL); one with no
// start of its own from where it was first needed (first[pos], when first is not NULL).
static void propagate_needs(planner *pl, bool *random_read, const bool *seeks,
                            const pg_extent *first) {
    for (int pos = pl->n - 1; pos >= 0; pos--) {
        const gnode *n = graph_node(pl->g, pl->order[pos]);
        pg_extent h = pg_extent_intersect(pl->need[pos], n->pn.out.extent);
        if (must_materialise(n) && !(seeks && seeks[pos]))
            h = origin_span(n->pn.out.extent, h);
        bool floating = must_materialise(n) && n->pn.out.extent.start == PG_FRAME_MIN;
        if (first && floating && !pg_extent_is_empty(h) && !pg_extent_is_empty(first[pos]) &&
            first[pos].start < h.start)
            h.start = first[pos].start;
        pl->need[pos] = h;
        if (pg_extent_is_empty(h))
            continue;
        for (int s = 0; s < n->pn.n_inputs; s++) {
            int ipos = pl->index_of[n->inputs[s]];
            pg_extent want = h;
            if (n->kind->need)
                n->kind->need(&n->pn, s, h, &want);
            want = pg_extent_intersect(want, graph_node(pl->g, n->inputs[s])->pn.out.extent);
            pl->need[ipos] = hull(pl->need[ipos], want);
            if (!pg_extent_is_empty(want)) {
                pl->readers[ipos]++;
                pl->read_frames[ipos] += (double)want.end - (double)want.start;
            }
            if (pe_slot_is_random(&n->pn, s))
                random_read[ipos] = true;
        }
    }
}

// A materialised buffer is worth a cache entry unless it is a plain file read (reading the
// file again costs as much as reading the entry).
static bool worth_caching(const gnode *n) {
    if (n->uncacheable)
        return false;
    if (n->pn.n_inputs > 0)
        return true;
    for (int k = 0; k < n->n_args; k++)
        if (n->kind->params[k].flags & PE_P_FILE)
            return false;
    return true;
}

// Whether node x's frames may be read twice at no cost but the reading: a buffer, under
// one-input fused nodes only (a note's crop, fade and time shift).
static bool rereadable(const pg_plan *p, int x) {
    while (!p->nodes[x].materialise) {
        if (!p->nodes[x].fused || p->nodes[x].pn.n_inputs != 1)
            return false;
        x = p->nodes[x].inputs[0];
    }
    return true;
}

// Whether copied node d is evaluated as part of a fused weighted sum: a linear node, or
// one whose channels lag (a panner) over a rereadable input.
static bool fusable(const pg_plan *p, const plan_node *d) {
    const pe_node *n = &d->pn;
    if (!n->kind->linear)
        return false;
    if (n->flags & PE_F_LINEAR)
        return true;
    return n->kind->lag && n->n_inputs == 1 && n->kind->lag(n, 0) >= 0 &&
           rereadable(p, d->inputs[0]);
}

static pg_plan *copy_node(planner *pl, pg_plan *p, int pos, bool mat, bool seeks) {
    const gnode *n = graph_node(pl->g, pl->order[pos]);
    plan_node *d = &p->nodes[pos];
    int np = n->n_args ? n->n_args : 1, ni = n->pn.n_inputs ? n->pn.n_inputs : 1;
    pe_value *args = plan_alloc(p, sizeof *args * (size_t)np);
    pe_shape *in = plan_alloc(p, sizeof *in * (size_t)ni);
    d->inputs = plan_alloc(p, sizeof(int) * (size_t)ni);
    if (!args || !in || !d->inputs)
        return NULL;
    for (int k = 0; k < n->n_args; k++) {
        args[k] = n->args[k];
        if (plan_copy_value(p, &args[k]) < 0)
            return NULL;
    }
    for (int s = 0; s < n->pn.n_inputs; s++) {
        in[s] = n->pn.in[s];
        d->inputs[s] = pl->index_of[n->inputs[s]];
    }
    d->pn = n->pn;
    d->pn.args = args;
    d->pn.in = in;
    d->need = pl->need[pos];
    d->materialise = mat;
    d->seeks = seeks;
    d->cacheable = mat && p->opt_level > 0 && worth_caching(n);
    d->fused = !mat && p->opt_level > 0 && fusable(p, d);
    d->merged = pl->merged_into[pl->order[pos]];
    d->mat = mat ? pl->need[pos] : (pg_extent){ 0, 0 };
    d->loc = n->loc;
    d->hash = n->hash;
    d->own_hash = n->uncacheable ? 0 : n->own_hash;
    return p;
}

static pg_plan *check_window(planner *pl, const pg_plan_opts *o, const gnode *root, pg_extent *w) {
    pg_extent ext = root->nominal; // pygmu's extent: filters' tails past it are cut
    // an extent with no start plays from frame 0, as pygmu's transports do
    w->start = o->has_start ? o->start : ext.start == PG_FRAME_MIN ? 0 : ext.start;
    w->end = o->has_end ? o->end : ext.end;
    if (w->end == PG_FRAME_MAX && !o->until_silence)
        return fail(pl, PG_ERR_EXTENT, root->loc,
                    "the piece's extent never ends (it is indefinite): give --duration or "
                    "--end, or --until-silence");
    if (w->end < w->start)
        return fail(pl, PG_ERR_ARG, root->loc, "the render window ends before it starts");
    double hours = ((double)w->end - (double)w->start) / root->pn.out.frame_rate / 3600.0;
    if (w->end != PG_FRAME_MAX && hours > MAX_RENDER_HOURS) // --until-silence is capped later
        return fail(pl, PG_ERR_LIMIT, root->loc,
                    "the render would be %.3g hours long, over the limit of %d hours: give "
                    "--duration or --end",
                    hours, MAX_RENDER_HOURS);
    return (pg_plan *)1;
}

static pg_frame last_finite_end(planner *pl) {
    pg_frame last = PG_FRAME_MIN;
    for (int i = 0; i < pl->n; i++) {
        pg_extent e = graph_node(pl->g, pl->order[i])->pn.out.extent;
        if (e.end != PG_FRAME_MAX && !pg_extent_is_empty(e) && e.end > last)
            last = e.end;
    }
    return last;
}

// Checks the materialisation decisions: a stateful or random-read node must have a finite
// span; the buffers must fit the memory limit.
// A stateless node read through several input slots is worth rendering once when it does
// real work (more than copying memory) and its reads, not one wide hull, fill its span.
static bool worth_sharing(planner *pl, int pos, double work, size_t *budget) {
    pg_extent h = pl->need[pos];
    if (pl->readers[pos] < 2 || work < 2.0 || !pg_extent_is_finite(h) || pg_extent_is_empty(h))
        return false;
    double len = (double)h.end - (double)h.start;
    size_t bytes = (size_t)len * (size_t)graph_node(pl->g, pl->order[pos])->pn.out.channels * 4;
    if (len > 2.0 * pl->read_frames[pos] || bytes > *budget)
        return false;
    *budget -= bytes;
    return true;
}

// Own cost of a node per frame, in rough units: 0 for kinds that only copy or fill memory.
static double own_work(const gnode *n) {
    return (n->pn.flags & PE_F_CHEAP) ? 0.0 : 1.0;
}

// The root's final chain: the nodes between the root and one node x under them all (the
// mix under a master gain, fade, filter, or a compressor and its side chain). A node is in
// the chain when every read of it is by the chain (the root is in it), it reads its inputs
// at the frames it makes (no need), none of them at random, its init pulls nothing, and it
// is linear with one input (a gain, a crop or fade, stereo), stateless with several inputs
// (a compressor reading the mix and its envelope) or with one under a stateful link
// (state_above: a waveshaper before a filter), or stateful with one input and one
// reader (a filter, an envelope follower). A stateful one must also be needed over finite
// frames from the window's start on (else a buffer makes the frames before the window), and
// has an end (the stream's runs of an endless root may stop at silence): the stream then
// runs it in time order from its origin (streamed) instead of materialising it, so that the
// output's chunks can hold the mix under it, and an edit re-renders the mix's changed
// seconds and runs the chain over the rest as found. What the chain reads outside it is x,
// which must be one node, read by the chain alone. w is the window, not the root's need: a
// stateful root's need reaches back to its origin.
static bool chain_link_at(const planner *pl, int pos, pg_extent w, bool stateful_ok,
                          bool state_above) {
    const gnode *n = graph_node(pl->g, pl->order[pos]);
    unsigned f = n->pn.flags;
    bool own_init = !n->kind->init || (f & PE_F_INIT_OWN);
    if (n->pn.n_inputs < 1 || n->kind->need || !own_init || (f & PE_F_MATERIALISE))
        return false;
    for (int s = 0; s < n->pn.n_inputs; s++)
        if (pe_slot_is_random(&n->pn, s))
            return false;
    if ((f & PE_F_LINEAR) && n->kind->linear)
        return n->pn.n_inputs == 1;
    // (a stateless node of one input that is not linear, a waveshaper, is a link only under
    // a stateful one, a filter the stream runs: alone at the end of the piece, it is better
    // kept in the chunks, which are then copied out as found, not run through it)
    if (!(f & PE_F_STATEFUL))
        return (n->pn.n_inputs > 1 || state_above) && !(f & PE_F_SIDE_EFFECT);
    pg_extent h = pl->need[pos];
    return stateful_ok && n->pn.n_inputs == 1 && (pos == pl->n - 1 || pl->readers[pos] == 1) &&
           !pg_extent_is_empty(h) && pg_extent_is_finite(h) && h.start >= w.start;
}

// Marks the chain's nodes in_chain and its stateful ones streamed, and sets *under to x
// (all left alone when there is no chain, or it would read more than one node); false when
// out of memory. Without stateful_ok (--until-silence) the chain has no stateful node.
static bool find_chain(planner *pl, pg_extent w, bool stateful_ok, bool *in_chain, bool *streamed,
                       int *under) {
    int *reads = calloc((size_t)pl->n + 1, sizeof(int)); // by the chain's nodes
    bool *link = calloc((size_t)pl->n + 1, sizeof(bool));
    int root = pl->n - 1, x = -1;
    bool ok = reads && link, state_above = false;
    for (int pos = root; ok && pos >= 0; pos--) {
        if (pos != root && reads[pos] != pl->readers[pos]) {
            ok = reads[pos] == 0; // (read partly by the chain: a second node under it)
            continue;
        }
        if (pos != root && reads[pos] == 0)
            continue; // (under x)
        if (!chain_link_at(pl, pos, w, stateful_ok, state_above)) {
            ok = x < 0 && pos != root;
            x = pos;
            continue;
        }
        link[pos] = true;
        const gnode *n = graph_node(pl->g, pl->order[pos]);
        state_above = state_above || (n->pn.flags & PE_F_STATEFUL);
        for (int s = 0; !pg_extent_is_empty(pl->need[pos]) && s < n->pn.n_inputs; s++)
            reads[pl->index_of[n->inputs[s]]]++;
    }
    for (int pos = 0; ok && x >= 0 && pos < pl->n; pos++) {
        const gnode *n = graph_node(pl->g, pl->order[pos]);
        in_chain[pos] = link[pos];
        streamed[pos] = link[pos] && (n->pn.flags & PE_F_STATEFUL);
    }
    if (ok && x >= 0)
        *under = x;
    bool allocated = reads && link;
    free(reads);
    free(link);
    return allocated;
}

// Whether node n is a kind of finite memory (pe_kind.cells: a reverb's convolution) that a
// stream may run: asked for a window away from its last one it primes itself from the cells
// before, to the same bits, and its init pulls its impulse response at most.
static bool seekable(const gnode *n, pe_cells *c) {
    unsigned f = n->pn.flags;
    bool init_ok = !n->kind->init || (f & (PE_F_INIT_OWN | PE_F_INIT_RANDOM));
    return (f & PE_F_STATEFUL) && !(f & PE_F_MATERIALISE) && init_ok && n->kind->cells &&
           n->kind->cells(&n->pn, c) && !pe_slot_is_random(&n->pn, c->slot);
}

// Such a node read by the stream only, once (through fused sums and streamed links from the
// root, each read by one slot: so in time order) is run by the stream too (seeks), not
// rendered whole: the output's chunks can then hold it, and an edit re-renders the seconds
// it changed and the reverb's ring after them instead of the whole reverb. on[pos]: the
// stream alone reads node pos. When some node seeks, nothing on the stream is shared into a
// buffer (a mix read dry and by the reverb would be one spanning the window, which every
// edit changes): it is summed twice instead. Returns whether some node seeks; false when
// out of memory (nothing seeks).
static bool mark_streamed_cells(planner *pl, const bool *streamed, bool *seeks, bool *on) {
    int *reads = calloc((size_t)pl->n + 1, sizeof(int));
    int *on_reads = calloc((size_t)pl->n + 1, sizeof(int));
    bool *once = calloc((size_t)pl->n + 1, sizeof(bool)); // read by one slot, in time order
    bool any = false, ok = reads && on_reads && once;
    for (int pos = 0; ok && pos < pl->n; pos++) {
        const gnode *n = graph_node(pl->g, pl->order[pos]);
        for (int s = 0; !pg_extent_is_empty(pl->need[pos]) && s < n->pn.n_inputs; s++)
            reads[pl->index_of[n->inputs[s]]]++;
    }
    if (ok)
        once[pl->n - 1] = true;
    for (int pos = pl->n - 1; ok && pos >= 0; pos--) {
        const gnode *n = graph_node(pl->g, pl->order[pos]);
        pg_extent h = pl->need[pos];
        on[pos] = pos == pl->n - 1 || (reads[pos] > 0 && on_reads[pos] == reads[pos]);
        if (!on[pos] || pg_extent_is_empty(h))
            continue;
        pe_cells c = { -1, 0, 0, 0 };
        bool linear = (n->pn.flags & PE_F_LINEAR) && n->kind->linear && !must_materialise(n);
        seeks[pos] = once[pos] && pg_extent_is_finite(h) && seekable(n, &c);
        any = any || seeks[pos];
        for (int s = 0; s < n->pn.n_inputs; s++) {
            int ipos = pl->index_of[n->inputs[s]];
            if (!linear && !streamed[pos] && !(seeks[pos] && s == c.slot))
                continue;
            on_reads[ipos]++;
            once[ipos] = once[pos] && reads[ipos] == 1;
        }
    }
    if (!ok)
        memset(seeks, 0, sizeof(bool) * (size_t)pl->n);
    free(reads);
    free(on_reads);
    free(once);
    return any && ok;
}

static pg_plan *decide(planner *pl, pg_plan *p, bool *random_read, bool *mat, bool *seeks,
                       bool *chain, bool optimise) {
    double *work = calloc((size_t)pl->n + 1, sizeof(double));
    size_t budget = p->mem_limit ? p->mem_limit / 2 : SHARED_BUDGET_BYTES;
    bool *streamed = calloc((size_t)pl->n + 1, sizeof(bool));
    bool *on = calloc((size_t)pl->n + 1, sizeof(bool)); // (read by the stream alone)
    if (!work || !streamed || !on) {
        free(work);
        free(streamed);
        free(on);
        return fail(pl, PG_ERR_NOMEM, (pg_srcloc){ 0, 0, 0 }, "out of memory");
    }
    int under = -1; // (what the root's final chain reads)
    if (optimise && !find_chain(pl, p->window, !p->until_silence, chain, streamed, &under)) {
        free(work);
        free(streamed);
        free(on);
        return fail(pl, PG_ERR_NOMEM, (pg_srcloc){ 0, 0, 0 }, "out of memory");
    }
    bool no_share = optimise && !p->until_silence && mark_streamed_cells(pl, streamed, seeks, on);
    // (what a node that seeks needs of its source: what is asked of it, primed)
    if (no_share && !renew_needs(pl, p->window, random_read, seeks)) {
        free(work);
        free(streamed);
        free(on);
        return fail(pl, PG_ERR_NOMEM, (pg_srcloc){ 0, 0, 0 }, "out of memory");
    }
    for (int pos = 0; pos < pl->n; pos++) {
        const gnode *n = graph_node(pl->g, pl->order[pos]);
        pg_extent h = pl->need[pos];
        bool finite = pg_extent_is_finite(h) || pg_extent_is_empty(h);
        bool must = must_materialise(n) && !streamed[pos] && !seeks[pos];
        p->stream_state = p->stream_state || streamed[pos];
        p->stream_seek = p->stream_seek || seeks[pos];
        mat[pos] = !pg_extent_is_empty(h) && (must || (random_read[pos] && finite));
        if (mat[pos] && !finite) {
            free(work);
            free(streamed);
            free(on);
            return fail(pl, PG_ERR_EXTENT, n->loc,
                        "%s has an indefinite extent but must be rendered from a start "
                        "(it is stateful or read at random times): crop it",
                        n->kind->name);
        }
        work[pos] = own_work(n);
        for (int s = 0; s < n->pn.n_inputs; s++) {
            int ipos = pl->index_of[n->inputs[s]];
            work[pos] += mat[ipos] ? 0.0 : work[ipos];
        }
        // (the chain and what it reads are run by the stream block by block, which reads the
        // mix under a compressor and its side chain twice rather than make it a buffer
        // spanning the window, which every edit would change)
        bool streams = (no_share && on[pos]) || chain[pos] || pos == under;
        if (!mat[pos] && optimise && !streams && worth_sharing(pl, pos, work[pos], &budget))
            mat[pos] = true;
        if (mat[pos])
            p->mat_bytes += (size_t)(h.end - h.start) * (size_t)n->pn.out.channels * 4;
    }
    free(work);
    free(streamed);
    free(on);
    return p; // a buffer over --mem-limit is refused by the render, which knows the windows
}

// The hashes the cache keys use. A buffer's samples depend on how its inputs were computed
// too: fused into one weighted sum or read from a buffer, an input gives the same values to
// within a float rounding, not the same bits. So each node's hash also folds in whether
// each input is fused or materialised, and the inputs' own (folded) hashes: an edit that
// changes how a subgraph is shared changes the keys of the buffers above it, which the
// cache then never serves from the old plan.
static bool fold_plan_hashes(pg_plan *p) {
    XXH3_state_t *h = XXH3_createState();
    for (int i = 0; h && i < p->n_nodes; i++) { // inputs first: theirs are folded already
        plan_node *n = &p->nodes[i];
        XXH3_64bits_reset(h);
        XXH3_64bits_update(h, &n->hash, sizeof n->hash);
        for (int s = 0; s < n->pn.n_inputs; s++) {
            const plan_node *in = &p->nodes[n->inputs[s]];
            uint64_t words[2] = { in->hash, (uint64_t)in->fused | (uint64_t)in->materialise << 1 };
            XXH3_64bits_update(h, words, sizeof words);
        }
        n->hash = XXH3_64bits_digest(h);
    }
    bool ok = h != NULL;
    XXH3_freeState(h);
    return ok;
}

// Whether fused node n adds at most one term to each of its channels (a note: a buffer
// under a crop, a fade, a time shift and a pan), counting an input that adds several as two.
static bool single_terms(const pg_plan *p, const plan_node *n) {
    for (int c = 0; c < n->pn.out.channels; c++) {
        int terms = 0;
        for (int s = 0; s < n->pn.n_inputs; s++) {
            const plan_node *in = &p->nodes[n->inputs[s]];
            for (int j = 0; j < n->pn.in[s].channels; j++)
                if (n->pn.kind->linear(&n->pn, s, c, j) != 0.0)
                    terms += !in->fused || in->leaf || in->single ? 1 : 2;
        }
        if (terms > 1)
            return false;
    }
    return true;
}

// plan_node.single, inputs first: what a node summed on its own may inline and still add
// each input as its kernel adds it (one rounding per term), the same bits.
static void mark_single_sums(pg_plan *p) {
    for (int i = 0; i < p->n_nodes; i++) {
        plan_node *n = &p->nodes[i];
        n->single = n->fused && !n->leaf && single_terms(p, n);
    }
}

// Adds the time since *t to pass k's, and restarts *t.
static void lap(double *pass_sec, int k, double *t) {
    double now = exec_now_sec();
    pass_sec[k] += now - *t;
    *t = now;
}

static int consumers_of(const pg_plan *p, int x) {
    int count = 0;
    for (int i = 0; i < p->n_nodes; i++)
        for (int s = 0; s < p->nodes[i].pn.n_inputs; s++)
            count += p->nodes[i].inputs[s] == x;
    return count;
}

// The output's chunks (runtime/chunks.c) hold the fused node under the root's final chain
// (find_chain: the mix under a master gain, fade, filter, or compressor and its side
// chain), which the chain then reads as a leaf rather than as part of one weighted sum: an
// edit of the chain keeps every chunk. p->chain lists the chain's nodes, the root first,
// every consumer before its inputs. Decided whatever the cache and its options, so that the
// bits never depend on them.
static void mark_chunk_root(pg_plan *p) {
    p->chunk_root = p->root;
    int x = -1, reads = 0, links = 0;
    for (int i = 0; i < p->n_nodes; i++) {
        const plan_node *n = &p->nodes[i];
        links += n->chain;
        for (int s = 0; n->chain && s < n->pn.n_inputs; s++) {
            int in = n->inputs[s];
            if (p->nodes[in].chain)
                continue;
            if (x >= 0 && in != x)
                return; // (find_chain allows one)
            x = in;
            reads++;
        }
    }
    if (x < 0 || !p->nodes[x].fused || consumers_of(p, x) != reads)
        return;
    p->chain = plan_alloc(p, sizeof(int) * (size_t)links);
    if (!p->chain)
        return;
    for (int i = p->n_nodes - 1; i >= 0; i--)
        if (p->nodes[i].chain)
            p->chain[p->n_chain++] = i;
    p->nodes[x].leaf = true;
    p->chunk_root = x;
    p->chunk_root_reread = reads > 1;
}

// The plan's settings from the options, and its window w (which --until-silence ends 60 s
// after the piece's last finite part).
static void take_options(planner *pl, pg_plan *p, const pg_plan_opts *o, const gnode *r,
                         pg_extent *w) {
    p->until_silence = o->until_silence && w->end == PG_FRAME_MAX;
    p->last_finite_end = last_finite_end(pl);
    if (p->until_silence) {
        pg_frame base = p->last_finite_end > w->start ? p->last_finite_end : w->start;
        w->end = base + (pg_frame)UNTIL_SILENCE_TAIL_SEC * r->pn.out.frame_rate;
    }
    p->window = *w;
    p->mem_limit = o->mem_limit;
    p->cache_limit = o->cache_limit;
    p->measure = o->measure;
    p->quiet = o->quiet;
    p->output_chunks = !o->no_output_cache;
    p->opt_level = o->opt_level;
    if (o->cache_dir) {
        char *dir = plan_alloc(p, strlen(o->cache_dir) + 1);
        if (dir)
            memcpy(dir, o->cache_dir, strlen(o->cache_dir) + 1);
        p->cache_dir = dir ? dir : "";
    }
    if (o->opt_level == 0)
        p->cache_dir = ""; // -O0: the naive plan, no cache
    p->channels = r->pn.out.channels;
    p->frame_rate = r->pn.out.frame_rate;
    p->block_frames = o->block_frames > 0 ? o->block_frames : DEFAULT_BLOCK;
    p->threads = o->opt_level == 0 ? 1 : o->threads; // -O0: the naive plan, one thread
}

static pg_plan *build(planner *pl, int root, const pg_plan_opts *o) {
    const gnode *r = graph_node(pl->g, root);
    double pass_sec[PLAN_PASSES] = { 0 }, t = exec_now_sec();
    pg_extent w;
    if (!check_window(pl, o, r, &w))
        return NULL;
    if (topo_sort(pl, root) < 0)
        return fail(pl, PG_ERR_NOMEM, r->loc, "out of memory");
    lap(pass_sec, PASS_SORT, &t);
    int *merged_into = calloc((size_t)pg_graph_node_count(pl->g), sizeof(int));
    int merged = !merged_into ? -1 : o->opt_level > 0 ? merge_equal(pl, &merged_into, NULL) : 0;
    pl->merged_into = merged_into;
    lap(pass_sec, PASS_MERGE, &t);
    if (merged < 0)
        return fail(pl, PG_ERR_NOMEM, r->loc, "out of memory");
    pg_plan *p = plan_new_empty();
    pl->need = calloc((size_t)pl->n, sizeof *pl->need);
    pl->readers = calloc((size_t)pl->n + 1, sizeof *pl->readers);
    pl->read_frames = calloc((size_t)pl->n + 1, sizeof *pl->read_frames);
    bool *random_read = calloc((size_t)pl->n, sizeof *random_read);
    bool *mat = calloc((size_t)pl->n, sizeof *mat);
    bool *seeks = calloc((size_t)pl->n, sizeof *seeks);
    bool *chain = calloc((size_t)pl->n, sizeof *chain);
    if (!p || !pl->need || !random_read || !mat || !seeks || !chain || !pl->readers ||
        !pl->read_frames) {
        free(random_read);
        free(mat);
        free(seeks);
        free(chain);
        pg_plan_free(p);
        return fail(pl, PG_ERR_NOMEM, r->loc, "out of memory");
    }
    take_options(pl, p, o, r, &w);
    pl->need[pl->n - 1] = w;
    propagate_needs(pl, random_read, NULL, NULL);
    int more = o->opt_level > 0 ? merge_equal_needs(pl, w, random_read) : 0;
    if (more < 0) {
        free(random_read);
        free(mat);
        free(seeks);
        free(chain);
        pg_plan_free(p);
        return fail(pl, PG_ERR_NOMEM, r->loc, "out of memory");
    }
    merged += more;
    lap(pass_sec, PASS_NEEDS, &t);
    pg_plan *ok = decide(pl, p, random_read, mat, seeks, chain, o->opt_level > 0);
    p->nodes = ok ? plan_alloc(p, sizeof(plan_node) * (size_t)pl->n) : NULL;
    for (int pos = 0; ok && p->nodes && pos < pl->n; pos++) {
        ok = copy_node(pl, p, pos, mat[pos], seeks[pos]);
        p->nodes[pos].chain = chain[pos];
    }
    free(random_read);
    free(mat);
    free(seeks);
    free(chain);
    if (!ok || !p->nodes) {
        pg_plan_free(p);
        return ok ? fail(pl, PG_ERR_NOMEM, r->loc, "out of memory") : NULL;
    }
    p->n_nodes = pl->n;
    p->n_merged = merged;
    p->root = pl->n - 1;
    lap(pass_sec, PASS_DECIDE, &t);
    if ((o->opt_level > 0 && plan_group_mixes(p) < 0) || !fold_plan_hashes(p)) {
        pg_plan_free(p);
        return fail(pl, PG_ERR_NOMEM, r->loc, "out of memory");
    }
    lap(pass_sec, PASS_GROUP, &t);
    memcpy(p->pass_sec, pass_sec, sizeof pass_sec);
    mark_chunk_root(p);
    mark_single_sums(p);
    return p;
}

pg_plan *pg_plan_new(const pg_graph *g, int root, const pg_plan_opts *o, pg_diag *err) {
    planner pl = { .g = g, .err = err };
    pg_plan_opts defaults;
    if (!o) {
        pg_plan_opts_init(&defaults);
        o = &defaults;
    }
    if (pg_graph_diag_count(g) > 0) {
        if (err)
            *err = *pg_graph_diag(g, 0);
        return NULL;
    }
    if (!graph_node(g, root))
        return fail(&pl, PG_ERR_ARG, (pg_srcloc){ 0, 0, 0 }, "no such root node %d", root);
    pg_plan *p = build(&pl, root, o);
    free(pl.order);
    free(pl.index_of);
    free(pl.need);
    free(pl.merged_into);
    free(pl.readers);
    free(pl.read_frames);
    return p;
}

static void explain_to(const pg_plan *p, FILE *f);

// Written through a memory stream and copied to f at once: f is usually stderr, which is
// unbuffered, and a plan of thousands of nodes made a write per field (10 ms for large_piece).
void pg_plan_explain(const pg_plan *p, FILE *f) {
    char *text = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&text, &size);
    if (!m) {
        explain_to(p, f);
        return;
    }
    explain_to(p, m);
    if (fclose(m) == 0)
        fwrite(text, 1, size, f);
    free(text);
}

static void explain_to(const pg_plan *p, FILE *f) {
    int mats = 0, fused = 0;
    for (int i = 0; i < p->n_nodes; i++) {
        mats += p->nodes[i].materialise;
        fused += p->nodes[i].fused;
    }
    fprintf(f,
            "plan: %d nodes (%d equal subgraph nodes merged), %d materialised (%.1f MiB), %d "
            "fused, window [%lld, %lld) at %d Hz, %d channels, block %d\n",
            p->n_nodes, p->n_merged, mats, (double)p->mat_bytes / 1048576.0, fused,
            (long long)p->window.start, (long long)p->window.end, p->frame_rate, p->channels,
            p->block_frames);
    const double *ps = p->pass_sec;
    fprintf(f,
            "  passes %.4f s: sort %.4f, merge equal subgraphs %.4f, needs %.4f, materialise "
            "and fuse %.4f, sub-mixes %.4f\n",
            ps[PASS_SORT] + ps[PASS_MERGE] + ps[PASS_NEEDS] + ps[PASS_DECIDE] + ps[PASS_GROUP],
            ps[PASS_SORT], ps[PASS_MERGE], ps[PASS_NEEDS], ps[PASS_DECIDE], ps[PASS_GROUP]);
    for (int i = 0; i < p->n_nodes; i++) {
        const plan_node *n = &p->nodes[i];
        // a stateful node with no start runs from the first frame the window needs of it
        bool floating = (n->pn.flags & PE_F_STATEFUL) && n->pn.out.extent.start == PG_FRAME_MIN &&
                        !pg_extent_is_empty(n->need);
        fprintf(f, "  #%d %s%s%s%s%s%s%s%s need [%lld, %lld)", i, n->pn.kind->name,
                n->materialise ? " [materialised]" : "", n->cacheable ? " [cached]" : "",
                n->fused ? " [fused]" : "",
                !n->leaf             ? ""
                : i == p->chunk_root ? " [chunk root]"
                                     : " [summed on its own]",
                n->chain && p->n_chain ? " [master chain]" : "",
                n->seeks ? " [streamed, primed wherever asked]" : "",
                floating ? " [starts where first needed]" : "", (long long)n->need.start,
                (long long)n->need.end);
        if (n->merged > 0)
            fprintf(f, " (%d equal nodes merged into it)", n->merged);
        for (int s = 0; s < n->pn.n_inputs; s++)
            fprintf(f, "%s#%d", s ? ", " : " <- ", n->inputs[s]);
        fputc('\n', f);
    }
}
