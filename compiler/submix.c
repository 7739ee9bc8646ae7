// submix.c: the sub-mix pass of the planner. A MixPE of many inputs (a piece's notes) is
// split into sub-mixes of neighbours in time (those starting in one slot of SLOT_FRAMES);
// the mix then adds the sub-mixes. Without output chunks they are materialised and cached
// like any costly subgraph: after an edit of one note, a re-render loads every unchanged
// sub-mix from the cache and mixes a few dozen buffers instead of every note again. When
// the render keeps its output in chunks, those already skip what the edit left alone, and a
// sub-mix is streamed instead (summed block by block, never written to a buffer or the
// cache): the edited seconds read their notes directly. Either way a sub-mix is the same sum
// (0 + x1 + x2 + ..., each input over its extent, in order: MixPE's kernel, or the fused sum
// of a node summed on its own), so the output stays
// bit-identical whether the cache is cold, warm or off; the plan's shape never depends on
// the cache.
#include "submix.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

// Which inputs share a sub-mix is a matter of their start times alone, so that an edit
// changes the sub-mix it is in and no other: a note edited, added or taken out leaves every
// other sub-mix as it was (their cached buffers, the output chunks' keys). A sub-mix holds
// the inputs that start in one slot of SLOT_FRAMES (aligned on frame 0 of the mix), with
// those of the slots after it while it holds fewer than MIN_GROUP (a sparse stretch), and a
// crowded slot is cut every MAX_GROUP inputs.
enum {
    MIN_INPUTS = 128,      // fewer inputs mix fast enough: grouping would only add a pass
    SLOT_FRAMES = 1 << 18, // 5.5 s at 48 kHz: about as long as a note and its tail
    MIN_GROUP = 8,
    MAX_GROUP = 128
};

enum {
    COSTLY = 1,
    SEEKING = 2
};

// A mix is split when its inputs are notes worth keeping: at least half of them render
// through a materialised (stateful or shared) node. A mix of cheap stateless notes mixes
// faster than it would write and read sub-mixes; a few among costly ones (a sine added to a
// piece of filtered saws) must not undo the split of the others. Notes a --start/--end
// window leaves out are rendered nowhere, so materialise nothing: they do not count against
// the split, which is then the whole piece's (and a window's output chunks are the whole
// render's). A mix reading a node that seeks (a reverb the stream runs) through nodes that
// are not materialised is not split either: a sub-mix buffer is rendered in parts on every
// thread, and such a node has one state, which the stream's thread alone may drive.
static bool groupable(const pg_plan *p, const plan_node *n, const unsigned char *costly) {
    if (strcmp(n->pn.kind->name, "MixPE") != 0 || n->materialise || !n->fused ||
        n->pn.n_inputs < MIN_INPUTS || pg_extent_is_empty(n->need))
        return false;
    int cheap = 0;
    for (int s = 0; s < n->pn.n_inputs; s++) {
        int x = n->inputs[s];
        bool unused = pg_extent_is_empty(p->nodes[x].need);
        if (!pg_extent_is_finite(n->pn.in[s].extent) || (costly[x] & SEEKING))
            return false;
        cheap += !(costly[x] & COSTLY) && !unused;
    }
    return cheap * 2 <= n->pn.n_inputs;
}

// costly[i] & COSTLY: node i is materialised, or reads one through nodes that are not;
// & SEEKING: it seeks, or reads one that does through nodes that are not materialised.
static unsigned char *costly_nodes(const pg_plan *p) {
    unsigned char *costly = calloc((size_t)p->n_nodes + 1, 1);
    for (int i = 0; costly && i < p->n_nodes; i++) {
        const plan_node *n = &p->nodes[i];
        costly[i] = (n->materialise ? COSTLY : 0) | (n->seeks ? SEEKING : 0);
        for (int s = 0; !n->materialise && s < n->pn.n_inputs; s++)
            costly[i] |= costly[n->inputs[s]];
    }
    return costly;
}

// The mix's input slots by extent start (then slot): neighbours in time share a sub-mix.
typedef struct slot_start {
    pg_frame start;
    int slot;
} slot_start;

static int by_start(const void *a, const void *b) {
    const slot_start *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return (x->slot > y->slot) - (x->slot < y->slot);
}

static int *slots_by_start(const plan_node *mix) {
    int n = mix->pn.n_inputs;
    slot_start *order = malloc(sizeof *order * (size_t)n);
    int *slots = malloc(sizeof(int) * (size_t)n);
    if (order && slots) {
        for (int s = 0; s < n; s++)
            order[s] = (slot_start){ mix->pn.in[s].extent.start, s };
        qsort(order, (size_t)n, sizeof *order, by_start);
        for (int s = 0; s < n; s++)
            slots[s] = order[s].slot;
    }
    free(order);
    if (!order) {
        free(slots);
        return NULL;
    }
    return slots;
}

static pg_frame slot_of(pg_frame start) { // (rounding down below frame 0 too)
    return start >= 0 ? start / SLOT_FRAMES : -((-start - 1) / SLOT_FRAMES) - 1;
}

// The sizes of the sub-mixes of mix, whose slots by start are `slots`, in that order, in a
// new array of *groups; NULL when out of memory.
static int *group_sizes(const plan_node *mix, const int *slots, int *groups) {
    int n = mix->pn.n_inputs, size = 0;
    int *sizes = malloc(sizeof(int) * (size_t)n);
    *groups = 0;
    for (int k = 0; sizes && k < n; k++) {
        pg_frame slot = slot_of(mix->pn.in[slots[k]].extent.start);
        bool slot_ends = k + 1 == n || slot_of(mix->pn.in[slots[k + 1]].extent.start) != slot;
        if (++size == MAX_GROUP || (slot_ends && size >= MIN_GROUP) || k + 1 == n) {
            sizes[(*groups)++] = size;
            size = 0;
        }
    }
    return sizes;
}

// The number of sub-mixes mix is split into; -1 when out of memory.
static int count_groups(const plan_node *mix) {
    int groups = -1, *slots = slots_by_start(mix);
    int *sizes = slots ? group_sizes(mix, slots, &groups) : NULL;
    free(slots);
    free(sizes);
    return sizes ? groups : -1;
}

// A sub-mix of the mix's slots[0 .. count): a MixPE node of its own, materialised when
// `buffer`, else fused but summed on its own (a leaf of the mix's sum, not part of it). The mix's
// inputs are already renumbered; placed holds the nodes before it in the new plan.
static bool make_group(pg_plan *p, const plan_node *placed, const plan_node *mix, const int *slots,
                       int count, bool buffer, plan_node *g) {
    *g = *mix;
    pe_shape *in = plan_alloc(p, sizeof *in * (size_t)count);
    int *inputs = plan_alloc(p, sizeof(int) * (size_t)count);
    uint64_t *hashes = malloc(sizeof(uint64_t) * (size_t)(count + 1));
    if (!in || !inputs || !hashes) {
        free(hashes);
        return false;
    }
    pg_extent ext = { 0, 0 };
    hashes[count] = (uint64_t)mix->pn.out.channels; // a mono input fitted to the mix's width
    for (int k = 0; k < count; k++) {
        in[k] = mix->pn.in[slots[k]];
        inputs[k] = mix->inputs[slots[k]];
        hashes[k] = placed[inputs[k]].hash;
        ext = pg_extent_union(ext, in[k].extent);
    }
    g->pn.n_inputs = count;
    g->pn.in = in;
    g->pn.out.extent = ext;
    g->inputs = inputs;
    g->need = pg_extent_intersect(mix->need, ext);
    g->materialise = buffer && !pg_extent_is_empty(g->need);
    g->mat = g->materialise ? g->need : (pg_extent){ 0, 0 };
    g->cacheable = g->materialise;
    g->fused = !g->materialise; // (summed on its own, as the kernel would: the same bits)
    g->leaf = g->fused;
    g->merged = 0;
    g->hash = XXH3_64bits_withSeed(hashes, sizeof(uint64_t) * (size_t)(count + 1), 0x5b3);
    free(hashes);
    if (g->materialise)
        p->mat_bytes +=
            sizeof(float) * (size_t)(g->mat.end - g->mat.start) * (size_t)g->pn.out.channels;
    return true;
}

// Writes the sub-mixes of mix at placed[at ..) and the mix, now reading them, after them.
// Returns the number of nodes written, or -1.
static int split_mix(pg_plan *p, plan_node *placed, int at, const plan_node *mix, bool buffers) {
    int ng = 0, *slots = slots_by_start(mix);
    int *sizes = slots ? group_sizes(mix, slots, &ng) : NULL;
    pe_shape *in = sizes ? plan_alloc(p, sizeof *in * (size_t)ng) : NULL;
    int *inputs = sizes ? plan_alloc(p, sizeof(int) * (size_t)ng) : NULL;
    bool ok = in && inputs;
    for (int k = 0, first = 0; ok && k < ng; first += sizes[k++]) {
        ok = make_group(p, placed, mix, slots + first, sizes[k], buffers, &placed[at + k]);
        in[k] = placed[at + k].pn.out;
        inputs[k] = at + k;
    }
    free(slots);
    free(sizes);
    if (!ok)
        return -1;
    placed[at + ng] = *mix;
    placed[at + ng].pn.n_inputs = ng;
    placed[at + ng].pn.in = in;
    placed[at + ng].inputs = inputs;
    return ng + 1;
}

// pulled[i]: node i is read by a materialised node's task, directly or through nodes that
// are not materialised (rendered inside that task), rather than by the stream alone.
static bool *pulled_by_tasks(const pg_plan *p) {
    bool *pulled = calloc((size_t)p->n_nodes + 1, sizeof(bool));
    for (int x = p->n_nodes - 1; pulled && x >= 0; x--) { // consumers before their inputs
        const plan_node *n = &p->nodes[x];
        for (int s = 0; (n->materialise || pulled[x]) && s < n->pn.n_inputs; s++)
            pulled[n->inputs[s]] = true;
    }
    return pulled;
}

int plan_group_mixes(pg_plan *p) {
    // Sub-mixes are streamed when output chunks render the edited seconds from the notes,
    // and buffered (and cached) when something renders the mix whole: no output, or a task
    // (a filter on the whole mix) that pulls every frame of it after any edit.
    bool chunks = plan_keeps_output_chunks(p); // (streamed MixPE sub-mixes keep it so)
    unsigned char *costly = costly_nodes(p);
    bool *pulled = pulled_by_tasks(p);
    if (!costly || !pulled) {
        free(costly);
        free(pulled);
        return -1;
    }
    int extra = 0;
    for (int i = p->n_nodes - 1; i >= 0; i--) { // backwards: costly[i] is read by later nodes
        bool split = groupable(p, &p->nodes[i], costly);
        int groups = split ? count_groups(&p->nodes[i]) : 0;
        if (groups < 0) {
            free(costly);
            free(pulled);
            return -1;
        }
        extra += groups;
        costly[i] = split; // from here on: whether node i (by its old index) is split
    }
    plan_node *placed = extra ? plan_alloc(p, sizeof(plan_node) * (size_t)(p->n_nodes + extra)) : 0;
    int *newpos = extra ? malloc(sizeof(int) * (size_t)p->n_nodes) : NULL;
    if (!extra || !placed || !newpos) {
        free(costly);
        free(pulled);
        free(newpos);
        return extra && (!placed || !newpos) ? -1 : 0;
    }
    int at = 0;
    for (int i = 0; i < p->n_nodes && at >= 0; i++) {
        plan_node n = p->nodes[i];
        for (int s = 0; s < n.pn.n_inputs; s++)
            n.inputs[s] = newpos[n.inputs[s]]; // plan-owned, this node's own: renumbered once
        int made = 1;
        if (costly[i])
            made = split_mix(p, placed, at, &n, !chunks || pulled[i]);
        else
            placed[at] = n;
        newpos[i] = at + made - 1;
        at = made < 0 ? -1 : at + made;
    }
    if (at >= 0) {
        p->root = newpos[p->root];
        p->nodes = placed;
        p->n_nodes = at;
    }
    free(newpos);
    free(costly);
    free(pulled);
    return at < 0 ? -1 : extra;
}
