// chunks.c: the output, kept in the render cache in chunks. An edit changes a few seconds
// of a piece, and a stream made of mixes, gains, pans, crops and time shifts of
// materialised buffers computes each output frame from what sounds at that frame only. So
// the output is also stored in chunks of CHUNK_FRAMES, each keyed by what sounds in it: the
// streamed nodes' own hashes and shapes, and for each materialised buffer read there, its
// hash and the frames read. A re-render copies the chunks it finds in the cache and renders
// the others, and only the buffers those read are made or loaded: after a one-note edit,
// the seconds around the note.
//
// Output chunks are kept only when every streamed node is stateless (a filter on the
// stream needs every frame before the chunk) or seeks (a reverb, primed from the partitions
// before the chunk, which its need covers) and hashable, and no buffer the stream reads
// spans the whole window (every edit would change every chunk); the plan's shape never
// depends on the cache, and a chunk renders the same blocks as ever, so the output is
// bit-identical whether chunks are found, rendered or not kept at all.
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "exec_int.h"

enum {
    CHUNK_FRAMES = 65536,       // 1.4 s at 48 kHz: what an edit re-renders at least
    MAX_CHUNK_VISITS = 1 << 22, // past this many visits the stream is too tangled to key
    CHECK_AHEAD = 32,           // idle threads check found chunks this far past the stream
    AHEAD_HELD = 8              // chunks rendered ahead of the stream and waiting for it, at most
};

// The grid's chunk that frame t is in (rounding down below 0 too).
static pg_frame grid_chunk(pg_frame t) {
    return (t >= 0 ? t : t - (CHUNK_FRAMES - 1)) / CHUNK_FRAMES;
}

// Chunk k covers [(base + k) * CHUNK_FRAMES, ...) within the window: the grid is fixed in
// time, so renders of different windows of a piece share their chunks.
static pg_frame chunk_base(const pg_plan *p) {
    return grid_chunk(p->window.start);
}

static pg_extent chunk_span(const exec_shared *sh, int k) {
    const pg_plan *p = sh->plan;
    pg_frame t = (chunk_base(p) + k) * CHUNK_FRAMES;
    return (pg_extent){ frame_max(t, p->window.start), frame_min(t + CHUNK_FRAMES, p->window.end) };
}

pg_extent exec_chunk_span(const exec_shared *sh, int k) {
    return chunk_span(sh, k);
}

static int chunk_of(const exec_shared *sh, pg_frame t) {
    return (int)(grid_chunk(t) - chunk_base(sh->plan));
}

pg_frame exec_chunk_end(const exec_shared *sh, pg_frame t) {
    return sh->chunks ? chunk_span(sh, chunk_of(sh, t)).end : PG_FRAME_MAX;
}

static size_t chunk_bytes(const exec_shared *sh, int k) {
    pg_extent s = chunk_span(sh, k);
    return sizeof(float) * (size_t)(s.end - s.start) * (size_t)sh->chunk_channels;
}

// ---- keys --------------------------------------------------------------------------------

typedef struct walker {
    exec_shared *sh;
    fuse_index **index; // per node with many inputs, made on first visit
    int64_t visits;
    bool mark; // also mark the nodes visited needed
} walker;

// A node whose output over a chunk is a function of what it reads there (its need): stateless,
// a buffer, or one that seeks (a reverb: its cells, primed from the ones before).
static bool streamable(const plan_node *n) {
    return n->own_hash != 0 &&
           (n->materialise || n->seeks || (!(n->pn.flags & PE_F_STATEFUL) && exec_early_init(n)));
}

// Whether every node the chunks hold (the chunk root and what it reads, down to materialised
// buffers; the chain above it runs for every block) can be keyed, and an edit can leave
// some chunks alone: a buffer the stream reads over the whole window (a
// filter on the whole mix) is in every chunk's key, so that any edit under it changes them
// all, and unchanged, the chunks would be a second copy of that buffer's cache entry. A node
// the window does not need (a note outside a --start/--end window) is never read.
// Returns why not (for --explain), or NULL.
static const char *chunks_not_worth_keeping(const pg_plan *p) {
    pg_frame window = p->window.end - p->window.start;
    bool *seen = calloc((size_t)p->n_nodes + 1, sizeof(bool));
    const char *why = seen ? NULL : "out of memory";
    if (seen)
        seen[p->chunk_root] = true;
    for (int x = p->n_nodes - 1; !why && x >= 0; x--) { // consumers before their inputs
        const plan_node *n = &p->nodes[x];
        seen[x] = seen[x] && !pg_extent_is_empty(n->need);
        if (seen[x] && n->materialise && n->mat.end - n->mat.start >= window)
            why = "a buffer the stream reads spans the whole window";
        if (!seen[x] || n->materialise)
            continue;
        for (int s = 0; s < n->pn.n_inputs; s++)
            seen[n->inputs[s]] = true;
    }
    for (int x = 0; !why && x < p->n_nodes; x++)
        if (seen[x] && !streamable(&p->nodes[x]))
            why = p->nodes[x].own_hash == 0 ? "a node the stream reads has side effects"
                                            : "a node the stream reads carries state";
    free(seen);
    return why;
}

static uint64_t fold(uint64_t key, const uint64_t *words, size_t n) {
    return XXH3_64bits_withSeed(words, sizeof(uint64_t) * n, key);
}

// The slots of node x whose input may sound in span (the index's, or all) in a new array of
// *count; NULL when out of memory.
static int *slots_in(walker *w, int x, pg_extent span, int *count) {
    const plan_node *n = &w->sh->plan->nodes[x];
    if (!w->index[x])
        w->index[x] = fuse_index_new(&n->pn);
    const fuse_index *ix = w->index[x];
    // (an input in several of the index's buckets is listed once, but counted in each)
    int cap = ix ? fuse_index_bound(ix, span.start, span.end) : n->pn.n_inputs;
    int *slots = malloc(sizeof(int) * (size_t)(cap + 1));
    if (slots && ix)
        *count = fuse_index_query(ix, span.start, span.end, slots);
    for (int s = 0; slots && !ix && s < n->pn.n_inputs; s++)
        slots[s] = s;
    if (slots && !ix)
        *count = n->pn.n_inputs;
    return slots;
}

// The key of what node x makes over span (its frames); 0 when the walk gave up.
static uint64_t walk(walker *w, int x, pg_extent span, int depth) {
    const plan_node *n = &w->sh->plan->nodes[x];
    if (++w->visits > MAX_CHUNK_VISITS || depth > 10000)
        return 0;
    if (w->mark)
        w->sh->needed[x] = true;
    if (n->materialise) { // its frames: a function of its hash and what it renders
        uint64_t m[] = { 'M',
                         n->hash,
                         (uint64_t)n->mat.start,
                         (uint64_t)n->mat.end,
                         (uint64_t)span.start,
                         (uint64_t)span.end };
        return fold(0, m, 6);
    }
    uint64_t own[] = { 'N',
                       n->own_hash,
                       (uint64_t)n->pn.out.channels,
                       (uint64_t)n->fused | (uint64_t)n->leaf << 1, // (the order of its sums)
                       (uint64_t)span.start,
                       (uint64_t)span.end };
    uint64_t key = fold(0, own, 6);
    int count = 0, *slots = slots_in(w, x, span, &count);
    bool variadic = (n->pn.kind->flags & PE_F_VARIADIC) != 0;
    for (int k = 0; slots && k < count && key; k++) {
        int s = slots[k], i = n->inputs[s];
        pg_extent in = span;
        if (n->pn.kind->need)
            n->pn.kind->need(&n->pn, s, span, &in);
        if (!pg_extent_overlaps(in, w->sh->plan->nodes[i].pn.out.extent))
            continue;
        // a mix's inputs count by their order only: adding a note elsewhere keeps the key
        uint64_t child[] = { variadic ? 0 : (uint64_t)s, walk(w, i, in, depth + 1) };
        key = child[1] ? fold(key, child, 2) : 0;
    }
    free(slots);
    return slots ? key : 0;
}

// ---- looking up ----------------------------------------------------------------------

// Whether the entry of chunk k is whole (its checksum), checked now.
static bool entry_sound(exec_shared *sh, int k) {
    pg_extent s = chunk_span(sh, k);
    cache_mapping m;
    bool ok = cache_map(sh->cache, sh->chunks[k].key, sh->chunk_channels, s.end - s.start, &m);
    cache_unmap(&m);
    return ok;
}

// Which chunks the cache holds. Their entries are checked when the stream copies them
// (chunk_data), on the stream's threads, not before the render starts; except under a
// memory limit, where a damaged entry must be found now, so that the stream renders its
// chunk within the budget instead of a render of its own (render_afresh) beside it. (The
// entry is checked again when read: keeping every found chunk mapped from here on would
// hold them all in the process's memory, which the limit is there to bound.)
static void look_up(exec_shared *sh) {
    int ch = sh->chunk_channels;
    for (int k = 0; k < sh->n_chunks; k++) {
        pg_extent s = chunk_span(sh, k);
        out_chunk *c = &sh->chunks[k];
        c->found = cache_has(sh->cache, c->key, ch, s.end - s.start);
        c->found = c->found && (!sh->plan->mem_limit || entry_sound(sh, k));
    }
}

size_t exec_chunk_stage_bytes(const exec_shared *sh) {
    // a request spans two chunks at most, each staged until it is whole
    return sh->chunks ? 2 * sizeof(float) * CHUNK_FRAMES * (size_t)sh->chunk_channels : 0;
}

const char *plan_output_chunks_off(const pg_plan *p) {
    if (p->opt_level == 0)
        return "-O0";
    if (!p->output_chunks)
        return "--no-output-cache";
    if (p->cache_dir && !p->cache_dir[0])
        return "no cache";
    if (p->window.end == PG_FRAME_MAX || p->window.end <= p->window.start)
        return "no finite window";
    return chunks_not_worth_keeping(p);
}

bool plan_keeps_output_chunks(const pg_plan *p) {
    return plan_output_chunks_off(p) == NULL;
}

// Whether node x of the root's chain maps each channel to itself by a constant weight (the
// same channels, a diagonal matrix: a gain, a crop, a fade), composing its weights into w[c]
// as the fused sum does (exec.c's accum_input), so that a found chunk scaled by them is the
// same bits.
static bool diagonal_link(const pg_plan *p, int x, double *w) {
    const pe_node *n = &p->nodes[x].pn;
    int ch = n->out.channels;
    if (!p->nodes[x].fused || ch != n->in[0].channels)
        return false; // (a filter is no scaling)
    for (int c = 0; c < ch; c++)
        for (int j = 0; j < ch; j++)
            if (c != j && n->kind->linear(n, 0, c, j) != 0.0)
                return false;
    for (int c = 0; c < ch; c++)
        w[c] = w[c] == 0.0 ? 0.0 : 0.0 + w[c] * n->kind->linear(n, 0, c, c);
    return true;
}

// Whether a diagonal link x applies just its weights over span: its extent covers it and its
// envelope (a fade's) is flat there. e: room for CHUNK_FRAMES frames of envelope.
static bool flat_over(const pg_plan *p, int x, pg_extent span, float *e) {
    const pe_node *n = &p->nodes[x].pn;
    pg_extent covered = pg_extent_intersect(n->out.extent, span);
    if (covered.start != span.start || covered.end != span.end)
        return false;
    return !n->kind->envelope || !n->kind->envelope(n, span.start, span.end - span.start, e);
}

// How a found chunk becomes output: when every link of the chain is diagonal, the weights
// they compose (chunk_weight; chunks_scaled when one is not 1); which chunks the chain only
// scales is for mark_direct to say, chunk by chunk.
static bool plan_chain(exec_shared *sh) {
    const pg_plan *p = sh->plan;
    int ch = sh->chunk_channels;
    sh->chunk_weight = malloc(sizeof(double) * (size_t)ch);
    if (!sh->chunk_weight)
        return false;
    for (int c = 0; c < ch; c++)
        sh->chunk_weight[c] = 1.0;
    bool diagonal = true;
    for (int i = 0; diagonal && i < p->n_chain; i++)
        diagonal = diagonal_link(p, p->chain[i], sh->chunk_weight);
    sh->chunks_diagonal = diagonal;
    for (int c = 0; diagonal && c < ch; c++)
        sh->chunks_scaled = sh->chunks_scaled || sh->chunk_weight[c] != 1.0;
    return true;
}

// Marks the chunks over which the chain only scales (direct): a found one is copied out as
// it is or scaled by chunk_weight, not run through the chain; the others (those a fade or a
// crop's edge reaches, or all when a link mixes channels) run the chain block by block. A
// master fade then costs only its own chunks.
static void mark_direct(exec_shared *sh) {
    const pg_plan *p = sh->plan;
    if (!sh->chunks_diagonal)
        return; // (none: every chunk through the chain)
    float *e = malloc(sizeof(float) * CHUNK_FRAMES);
    for (int k = 0; k < sh->n_chunks; k++) {
        bool direct = true; // (out of memory: direct only without a chain)
        for (int i = 0; direct && i < p->n_chain; i++)
            direct = e && flat_over(p, p->chain[i], chunk_span(sh, k), e);
        sh->chunks[k].direct = direct;
    }
    free(e);
}

static inline uint32_t abs_bits(float y) {
    uint32_t bits;
    memcpy(&bits, &y, sizeof bits);
    return bits & 0x7fffffffu;
}

// to[i * stride] = 0 + (float)w from[i * stride] for i < n (from may be to): what a fused sum
// makes of a leaf weighted w added into zeros (nothing added when w is 0; the leaf itself
// when w is 1, as a chunk root's frames never hold -0, being sums into +0 themselves).
// Returns the largest |to| as bits, found in the same pass, for the NaN and infinity check.
static uint32_t scale_strided(float *to, const float *from, int64_t n, int stride, double w) {
    float g = (float)w;
    uint32_t peak = 0;
    if (w == 0.0)
        for (int64_t i = 0; i < n; i++)
            to[i * stride] = 0.0f;
    else if (w == 1.0)
        for (int64_t i = 0; i < n; i++) {
            float y = from[i * stride];
            peak = abs_bits(y) > peak ? abs_bits(y) : peak;
            to[i * stride] = y;
        }
    else
        for (int64_t i = 0; i < n; i++) {
            float y = 0.0f + g * from[i * stride];
            peak = abs_bits(y) > peak ? abs_bits(y) : peak;
            to[i * stride] = y;
        }
    return peak;
}

// n frames of found chunk data from (at output frame t) scaled into out (from may be out) as
// the chain's fused sum would scale them: 0 + (float)w x into a zeroed sum (nothing added when
// w is 0); a NaN or an infinity the scaling makes is reported as the chain's would be.
static void scale_found(exec_shared *sh, float *out, const float *from, int64_t n, pg_frame t) {
    int ch = sh->chunk_channels;
    bool same = true; // (a master gain: one weight for every channel, one flat loop)
    for (int c = 1; c < ch; c++)
        same = same && sh->chunk_weight[c] == sh->chunk_weight[0];
    uint32_t peak = 0;
    if (same)
        peak = scale_strided(out, from, n * ch, 1, sh->chunk_weight[0]);
    for (int c = 0; !same && c < ch; c++) {
        uint32_t p = scale_strided(out + c, from + c, n, ch, sh->chunk_weight[c]);
        peak = p > peak ? p : peak;
    }
    if (peak >= EXEC_NONFINITE_BITS)
        exec_note_nonfinite(sh, out, n, ch, t);
}

// Keys every chunk (or each visited node is marked needed, for the chunks to render);
// false when the walk gave up.
static bool walk_chunks(exec_shared *sh, bool mark) {
    walker w = { sh, calloc((size_t)sh->plan->n_nodes + 1, sizeof(fuse_index *)), 0, mark };
    bool ok = w.index != NULL;
    for (int k = 0; ok && k < sh->n_chunks; k++) {
        if (mark && sh->chunks[k].found)
            continue;
        uint64_t key = walk(&w, sh->plan->chunk_root, chunk_span(sh, k), 0);
        sh->chunks[k].key =
            mark ? sh->chunks[k].key
                 : cache_key(key, chunk_span(sh, k), sh->chunk_channels, sh->plan->frame_rate);
        ok = key != 0;
    }
    // (the chain above the chunk root runs for every block)
    for (int i = 0; mark && i < sh->plan->n_chain; i++)
        sh->needed[sh->plan->chain[i]] = true;
    for (int i = 0; w.index && i < sh->plan->n_nodes; i++)
        fuse_index_free(w.index[i]);
    free(w.index);
    return ok;
}

bool exec_mark_window(exec_shared *sh) {
    walker w = { sh, calloc((size_t)sh->plan->n_nodes + 1, sizeof(fuse_index *)), 0, true };
    uint64_t key = w.index ? walk(&w, sh->plan->root, sh->plan->window, 0) : 0;
    for (int i = 0; w.index && i < sh->plan->n_nodes; i++)
        fuse_index_free(w.index[i]);
    free(w.index);
    return key != 0;
}

void exec_chunks_free(exec_shared *sh) {
    for (int k = 0; sh->chunks && k < sh->n_chunks; k++) {
        free(sh->chunks[k].stage);
        free(sh->chunks[k].ahead_out);
    }
    free(sh->chunks);
    sh->chunks = NULL;
    sh->n_chunks = 0;
    free(sh->chunk_weight);
    sh->chunk_weight = NULL;
    exec_resume_free(sh);
}

bool exec_plan_chunks(exec_shared *sh) {
    const pg_plan *p = sh->plan;
    if ((sh->chunks_off = plan_output_chunks_off(p)) != NULL)
        return false;
    sh->chunk_channels = p->nodes[p->chunk_root].pn.out.channels;
    if (!plan_chain(sh)) {
        sh->chunks_off = "out of memory";
        return false;
    }
    exec_open_cache(sh);
    sh->n_chunks = chunk_of(sh, p->window.end - 1) + 1;
    sh->chunks = sh->cache ? calloc((size_t)sh->n_chunks, sizeof *sh->chunks) : NULL;
    if (sh->chunks)
        mark_direct(sh);
    if (!sh->chunks || !walk_chunks(sh, false)) {
        sh->chunks_off = !sh->cache    ? "the cache cannot be used"
                         : !sh->chunks ? "out of memory"
                                       : "the stream is too tangled to key";
        exec_chunks_free(sh);
        return false;
    }
    look_up(sh);
    exec_plan_resume(sh);
    int found = 0;
    for (int k = 0; k < sh->n_chunks; k++)
        found += sh->chunks[k].found;
    if (found == 0)
        return false; // the stream renders every chunk: it needs what it always needs
    if (walk_chunks(sh, true))
        return true;
    sh->needed[p->root] = true; // too tangled to mark: everything, as without chunks
    return false;
}

// ---- streaming ---------------------------------------------------------------------------

// Renders chunk k afresh, its entry having turned out damaged (or gone): a render of the
// chunk's frames alone, on this thread, which loads or makes the buffers they read. What
// the chunk sounds never depends on the frames before it (every streamed node is
// stateless or seeks), so it is the chunk the whole render would have made.
//
// A chunk found after a stateful chain (resume.c) depends on every frame before it: it is
// the last chunk of a render of the root from the window's start, which runs the chain
// from its origin (slow, but only an entry damaged since the render began comes here).
static const float *render_afresh(exec_shared *sh, int k) {
    out_chunk *c = &sh->chunks[k];
    bool after_chain = exec_resume_before(sh, k);
    pg_plan one = *sh->plan;
    one.root = after_chain ? sh->plan->root : sh->plan->chunk_root;
    one.channels = sh->chunk_channels; // (the root's too, after a chain: resume.c needs it)
    one.window = chunk_span(sh, k);
    one.window.start = after_chain ? sh->plan->window.start : one.window.start;
    one.threads = 1;
    one.measure = false;
    one.output_chunks = false;
    one.window_only = true;    // what sounds in the chunk, not everything the piece reads
    one.until_silence = false; // the whole chunk: where the stream stops is not its business
    pg_diag err = { 0 };
    float *buf = malloc(chunk_bytes(sh, k));
    if (!buf) {
        exec_fail(sh, PG_ERR_NOMEM, (pg_srcloc){ 0, 0, 0 }, "out of memory");
        return NULL;
    }
    pg_render_stats st;
    pg_render *r = pg_render_new(&one, &err);
    pg_extent span = chunk_span(sh, k);
    int64_t n = 0, got = 0, len = span.end - span.start, skip = span.start - one.window.start;
    while (r && skip > 0 && (n = pg_render_next(r, buf, frame_min(skip, len))) > 0)
        skip -= n; // (the frames before the chunk: rendered into buf, not kept)
    while (r && n >= 0 && (n = pg_render_next(r, buf + got * one.channels, len - got)) > 0)
        got += n;
    if (r && n < 0)
        err = *pg_render_error(r);
    if (r)
        pg_render_get_stats(r, &st);
    pg_render_free(r);
    if (!r || n < 0) {
        exec_fail(sh, err.status, err.loc, "%s", err.message);
        free(buf);
        return NULL;
    }
    bool finite = st.first_nonfinite_frame < 0, // (as the stream's chunks: then not stored)
        stored =
            finite && got == len && cache_store(sh->cache, c->key, buf, sh->chunk_channels, len);
    pthread_mutex_lock(&sh->lock);
    if (!finite)
        sh->first_nonfinite = frame_min(sh->first_nonfinite, st.first_nonfinite_frame);
    sh->n_materialised += st.materialised;
    sh->cache_hits += st.cache_hits;
    sh->cache_misses += st.cache_misses;
    sh->cache_loaded += st.cache_loaded_bytes;
    sh->cache_stored += st.cache_stored_bytes + (stored ? chunk_bytes(sh, k) : 0);
    sh->chunk_misses += stored;
    pthread_mutex_unlock(&sh->lock);
    c->stage = buf;
    return buf;
}

// Under the lock: waits while another thread checks chunk k; true when the chunk is now
// this thread's to check (its entry unchecked so far).
static bool claim(exec_shared *sh, int k) {
    out_chunk *c = &sh->chunks[k];
    while (c->state == CHUNK_CHECKING)
        pthread_cond_wait(&sh->wake, &sh->lock);
    if (c->state != CHUNK_UNCHECKED)
        return false;
    c->state = CHUNK_CHECKING;
    return true;
}

// Under the lock: chunk k checked; data: its frames (NULL after an error).
static void checked(exec_shared *sh, int k, const float *data, bool loaded) {
    sh->cache_loaded += loaded ? chunk_bytes(sh, k) : 0;
    sh->chunk_hits += loaded;
    sh->chunks[k].data = data;
    sh->chunks[k].state = CHUNK_CHECKED;
    pthread_cond_broadcast(&sh->wake);
}

void exec_check_claimed(exec_shared *sh, int k) {
    out_chunk *c = &sh->chunks[k];
    pg_extent s = chunk_span(sh, k);
    float *buf = malloc(chunk_bytes(sh, k)); // (freed by chunk_read, once written out)
    bool loaded = buf && cache_load(sh->cache, c->key, buf, sh->chunk_channels, s.end - s.start);
    const float *data = buf;
    if (loaded) {
        c->stage = buf;
    } else {
        free(buf);
        data = render_afresh(sh, k); // (its stage)
    }
    pthread_mutex_lock(&sh->lock);
    checked(sh, k, data, loaded);
    pthread_mutex_unlock(&sh->lock);
}

int exec_claim_check(exec_shared *sh) {
    if (!sh->chunks || sh->resume)
        return -1; // (under a checkpointed chain the stream may find the chunk after it)
    int last = chunk_of(sh, frame_min(sh->stream_done, sh->plan->window.end - 1)) + CHECK_AHEAD;
    for (; sh->check_next < sh->n_chunks && sh->check_next <= last; sh->check_next++) {
        out_chunk *c = &sh->chunks[sh->check_next];
        // a direct chunk is read whole where it is copied out (the writer's thread, which
        // then writes it from its own cache): checked here, it would be read twice
        if (c->found && !c->direct && c->state == CHUNK_UNCHECKED) {
            c->state = CHUNK_CHECKING;
            return sh->check_next++;
        }
    }
    return -1;
}

// The frames of chunk k, found in the cache: its entry mapped, checked by the first thread
// to need it (another waits meanwhile; an idle thread may have checked it ahead of the
// stream); NULL on error.
static const float *chunk_data(exec_shared *sh, int k) {
    pthread_mutex_lock(&sh->lock);
    bool mine = claim(sh, k);
    pthread_mutex_unlock(&sh->lock);
    if (mine)
        exec_check_claimed(sh, k);
    return sh->chunks[k].data;
}

// Copies the whole chunk k, found in the cache and unchecked, to out, checking it as it
// copies (its memory read once); -1 on error.
static int load_whole(exec_shared *sh, int k, float *out) {
    out_chunk *c = &sh->chunks[k];
    pg_extent s = chunk_span(sh, k);
    bool loaded = cache_load(sh->cache, c->key, out, sh->chunk_channels, s.end - s.start);
    const float *data = loaded ? NULL : render_afresh(sh, k);
    if (data)
        memcpy(out, data, chunk_bytes(sh, k));
    if ((loaded || data) && sh->chunks_scaled)
        scale_found(sh, out, out, s.end - s.start, s.start);
    pthread_mutex_lock(&sh->lock);
    checked(sh, k, data, loaded);
    c->done = s.end - s.start;
    free(c->stage); // (render_afresh's)
    c->stage = NULL;
    pthread_mutex_unlock(&sh->lock);
    return loaded || data ? 0 : -1;
}

// n frames of chunk k, found in the cache, were read: once every frame has been, its memory
// may go.
static void chunk_read(exec_shared *sh, int k, int64_t n) {
    out_chunk *c = &sh->chunks[k];
    pg_extent s = chunk_span(sh, k);
    pthread_mutex_lock(&sh->lock);
    if ((c->done += n) == s.end - s.start) {
        free(c->stage);
        c->stage = NULL;
    }
    pthread_mutex_unlock(&sh->lock);
}

// Copies frames [t0, t0 + n) of chunk k, found in the cache, to out; -1 on error.
static int copy_found(exec_shared *sh, int k, pg_frame t0, int64_t n, float *out) {
    int ch = sh->chunk_channels;
    pg_extent s = chunk_span(sh, k);
    if (t0 == s.start && t0 + n == s.end) {
        pthread_mutex_lock(&sh->lock);
        bool mine = claim(sh, k);
        pthread_mutex_unlock(&sh->lock);
        if (mine)
            return load_whole(sh, k, out);
    }
    const float *data = chunk_data(sh, k);
    if (!data)
        return -1;
    if (sh->chunks_scaled)
        scale_found(sh, out, data + (t0 - s.start) * ch, n, t0);
    else
        memcpy(out, data + (t0 - s.start) * ch, sizeof(float) * (size_t)(n * ch));
    chunk_read(sh, k, n);
    return 0;
}

// Chunk k's stage, whole: stored, unless it holds a NaN or an infinity (rendered again, it
// is reported again), then freed.
static void store_stage(exec_shared *sh, int k, float *stage) {
    out_chunk *c = &sh->chunks[k];
    pg_extent s = chunk_span(sh, k);
    bool stored =
        !c->nonfinite && cache_store(sh->cache, c->key, stage, sh->chunk_channels, s.end - s.start);
    pthread_mutex_lock(&sh->lock);
    sh->chunk_misses += stored;
    sh->cache_stored += stored ? chunk_bytes(sh, k) : 0;
    free(c->stage);
    c->stage = NULL;
    pthread_mutex_unlock(&sh->lock);
}

// Keeps frames [t0, t0 + n) of chunk k, just rendered; the thread that completes the chunk
// stores it.
static void keep_rendered(exec_shared *sh, int k, pg_frame t0, int64_t n, const float *out,
                          bool nonfinite) {
    out_chunk *c = &sh->chunks[k];
    int ch = sh->chunk_channels;
    pg_extent s = chunk_span(sh, k);
    pthread_mutex_lock(&sh->lock);
    if (!c->stage)
        c->stage = malloc(chunk_bytes(sh, k));
    float *stage = c->stage;
    pthread_mutex_unlock(&sh->lock);
    if (stage)
        memcpy(stage + (t0 - s.start) * ch, out, sizeof(float) * (size_t)(n * ch));
    pthread_mutex_lock(&sh->lock);
    c->nonfinite = c->nonfinite || nonfinite;
    bool full = (c->done += n) == s.end - s.start;
    pthread_mutex_unlock(&sh->lock);
    if (full && stage)
        store_stage(sh, k, stage);
}

int exec_chunks_chained(const exec_shared *sh) {
    int n = 0;
    for (int k = 0; sh->chunks && k < sh->n_chunks; k++)
        n += sh->chunks[k].found && !sh->chunks[k].direct;
    return n;
}

bool exec_chunks_found(const exec_shared *sh, pg_frame t0, pg_frame t1) {
    if (!sh->chunks || t1 <= t0)
        return false;
    for (int k = chunk_of(sh, t0);; k++) {
        if (!sh->chunks[k].found || !sh->chunks[k].direct)
            return false;
        if (chunk_span(sh, k).end >= t1)
            return true;
    }
}

int exec_copy_found(exec_shared *sh, pg_frame t0, pg_frame t1, float *out) {
    for (pg_frame t = t0, end; t < t1; t = end) {
        int k = chunk_of(sh, t);
        end = frame_min(t1, chunk_span(sh, k).end);
        if (copy_found(sh, k, t, end - t, out + (t - t0) * sh->plan->channels) < 0)
            return -1;
    }
    return 0;
}

int64_t exec_chunk_left(const exec_shared *sh, pg_frame t0) {
    return chunk_span(sh, chunk_of(sh, t0)).end - t0;
}

int exec_chunk_at(const exec_shared *sh, pg_frame t) {
    return chunk_of(sh, t);
}

// What the output's frames over chunk k are, for a file patched in place (patch.c): a direct
// chunk's are the chunk root's, scaled by the chain's weights (the same bits found or
// rendered); one a stateful chain made or found, its key after the chain (resume.c), once
// it did; any other's (a fade's edge) are unknown.
uint64_t exec_chunk_out_key(const exec_shared *sh, int k) {
    const out_chunk *c = &sh->chunks[k];
    if (!c->direct)
        return c->out_key;
    uint64_t key = c->key;
    if (sh->chunks_scaled)
        key = XXH3_64bits_withSeed(sh->chunk_weight, sizeof(double) * (size_t)sh->chunk_channels,
                                   key);
    return key ? key : 1; // (0 says unknown)
}

// Chunk k's frames [t0, t0 + n): the chunk root's view v, kept in its stage (interleaved,
// zeros where the root was never pulled) until the chunk is whole.
static pg_status keep_leaf(exec_ctx *cx, int k, pg_frame t0, int64_t n, const pe_view *v) {
    exec_shared *sh = cx->sh;
    out_chunk *c = &sh->chunks[k];
    int ch = sh->chunk_channels;
    pg_extent s = chunk_span(sh, k);
    pthread_mutex_lock(&sh->lock);
    if (!c->stage)
        c->stage = calloc((size_t)(s.end - s.start) * (size_t)ch, sizeof(float));
    float *stage = c->stage;
    pthread_mutex_unlock(&sh->lock);
    if (!stage)
        return exec_fail(sh, PG_ERR_NOMEM, (pg_srcloc){ 0, 0, 0 }, "out of memory");
    bool nonfinite = false;
    for (int j = 0; j < ch; j++) {
        const float *x = v->data + j * v->stride;
        float *o = stage + (t0 - s.start) * ch + j;
        for (int64_t i = 0; i < n; i++)
            o[i * ch] = x[i];
        nonfinite = nonfinite || exec_max_abs_bits(x, n) >= EXEC_NONFINITE_BITS;
    }
    if (nonfinite) {
        pthread_mutex_lock(&sh->lock);
        c->nonfinite = true;
        pthread_mutex_unlock(&sh->lock);
    }
    return PG_OK;
}

// n interleaved frames of ch channels from `from` into d, channel after channel (the pair
// of a stereo frame split in one pass, which the compiler vectorises).
static void deinterleave(const float *from, int ch, int64_t n, float *d) {
    if (ch == 2) {
        for (int64_t i = 0; i < n; i++) {
            d[i] = from[2 * i];
            d[n + i] = from[2 * i + 1];
        }
        return;
    }
    for (int j = 0; j < ch; j++)
        for (int64_t i = 0; i < n; i++)
            d[j * n + i] = from[i * ch + j];
}

pg_status exec_chunk_leaf(exec_ctx *cx, int id, pg_frame t0, int64_t n, pe_view *out) {
    exec_shared *sh = cx->sh;
    int k = cx->chunk, ch = sh->chunk_channels;
    if (!sh->chunks[k].found) {
        pg_status st = exec_pull_fused(cx, id, t0, n, out);
        return st == PG_OK ? keep_leaf(cx, k, t0, n, out) : st;
    }
    const float *data = chunk_data(sh, k);
    float *d = data ? exec_scratch(cx, sizeof(float) * (size_t)(n > 0 ? n : 1) * (size_t)ch) : NULL;
    if (!d)
        return data ? exec_fail(sh, PG_ERR_NOMEM, (pg_srcloc){ 0, 0, 0 }, "out of memory")
                    : PG_ERR_INTERNAL; // (chunk_data failed the render)
    deinterleave(data + (t0 - chunk_span(sh, k).start) * ch, ch, n, d);
    *out = (pe_view){ ch, n, n, d };
    return PG_OK;
}

// A block of chunk k rendered through the chain (the chunk root read from the chunk or kept
// for it): a found chunk's entry goes once every frame has been read, a rendered one is
// stored once whole.
static void leaf_block_done(exec_shared *sh, int k, int64_t n) {
    out_chunk *c = &sh->chunks[k];
    if (c->found) {
        chunk_read(sh, k, n);
        return;
    }
    pg_extent s = chunk_span(sh, k);
    pthread_mutex_lock(&sh->lock);
    bool full = (c->done += n) == s.end - s.start;
    float *stage = full ? c->stage : NULL;
    pthread_mutex_unlock(&sh->lock);
    if (stage) // (a chunk the root never sounds in is not stored: rendering it is free)
        store_stage(sh, k, stage);
}

static int stream_block(exec_ctx *cx, pg_frame t0, int64_t n, float *out) {
    exec_shared *sh = cx->sh;
    int k = sh->chunks ? chunk_of(sh, t0) : -1;
    if (k >= 0 && sh->chunks[k].found && sh->chunks[k].direct)
        return copy_found(sh, k, t0, n, out);
    if (k >= 0 && (!sh->chunks[k].direct || sh->chunks_scaled)) {
        int found = exec_resume_block(cx, k, t0, n, out), r = found; // (1: after the chain)
        if (found == 0) {
            cx->in_chunk = true;
            cx->chunk = k;
            r = exec_render_block(cx, t0, n, out);
            cx->in_chunk = false;
            if (r >= 0)
                exec_keep_final(cx, k, t0, n, out, r == 1);
        }
        if (r >= 0)
            leaf_block_done(sh, k, n);
        return r < 0 ? -1 : 0;
    }
    int r = exec_render_block(cx, t0, n, out);
    if (r >= 0 && k >= 0)
        keep_rendered(sh, k, t0, n, out, r == 1);
    return r < 0 ? -1 : 0;
}

// ---- rendering ahead of the stream -------------------------------------------------------
// After an edit the stream copies the chunks it found about as fast as the encoder writes
// them, so it reached the changed ones only when the encoder had caught up, which then waited
// while they were mixed (large_piece's one-note edit: ~4 ms of its ~38). An idle
// thread renders them ahead instead, as soon as every buffer they read is ready, and the
// stream copies them when it gets there. A chunk is the same frames whichever thread renders
// it, whenever (every streamed node is stateless), so the bits are the stream's own.

static bool may_render_ahead(const exec_shared *sh) {
    const pg_plan *p = sh->plan;
    // (under a memory limit the stream's stages are all the chunks may hold; an endless root
    // stops where its silence starts, which the chunks past it would not know; a stateful
    // node on the stream must see every chunk in order)
    return sh->chunks && !p->mem_limit && !p->until_silence && sh->n_windows == 0 &&
           !p->stream_state && !p->stream_seek;
}

int exec_ahead_candidate(exec_shared *sh, pg_extent *span) {
    if (!may_render_ahead(sh) || sh->ahead_held >= AHEAD_HELD)
        return -1;
    const pg_plan *p = sh->plan;
    if (sh->stream_want >= p->window.end)
        return -1; // (the stream has asked for every frame)
    // the stream renders what it has asked for itself: the first chunk past its request
    int asked = sh->stream_want <= p->window.start ? 0 : chunk_of(sh, sh->stream_want - 1) + 1;
    if (sh->ahead_next < asked)
        sh->ahead_next = asked;
    while (sh->ahead_next < sh->n_chunks &&
           (sh->chunks[sh->ahead_next].found || sh->chunks[sh->ahead_next].ahead != AHEAD_NONE))
        sh->ahead_next++;
    if (sh->ahead_next >= sh->n_chunks)
        return -1;
    *span = chunk_span(sh, sh->ahead_next);
    return sh->ahead_next;
}

void exec_claim_ahead(exec_shared *sh, int k) {
    sh->chunks[k].ahead = AHEAD_RENDERING;
    sh->ahead_held++;
    sh->ahead_next = k + 1;
}

void exec_render_ahead(exec_ctx *cx, int k) {
    exec_shared *sh = cx->sh;
    const pg_plan *p = sh->plan;
    pg_extent s = chunk_span(sh, k);
    float *out = malloc(sizeof(float) * (size_t)(s.end - s.start) * (size_t)p->channels);
    bool ok = out != NULL;
    if (!ok)
        exec_fail(sh, PG_ERR_NOMEM, (pg_srcloc){ 0, 0, 0 }, "out of memory");
    for (pg_frame t = s.start, end; ok && t < s.end; t = end) {
        end = frame_min(s.end, t + p->block_frames);
        ok = !exec_stopped(sh) &&
             stream_block(cx, t, end - t, out + (t - s.start) * p->channels) == 0;
    }
    if (!ok) { // (the render has failed: the stream stops at this chunk)
        free(out);
        out = NULL;
    }
    pthread_mutex_lock(&sh->lock);
    sh->chunks[k].ahead_out = out;
    sh->chunks[k].ahead = AHEAD_DONE;
    sh->chunk_ahead += ok;
    pthread_cond_broadcast(&sh->wake);
    pthread_mutex_unlock(&sh->lock);
}

// Copies frames [t0, t0 + n) of chunk k to out when it is rendered ahead of the stream (once
// the thread rendering it is done): 0, or -1 on error; 1 when it is not (the stream renders it).
static int take_ahead(exec_shared *sh, int k, pg_frame t0, int64_t n, float *out) {
    out_chunk *c = &sh->chunks[k];
    pthread_mutex_lock(&sh->lock);
    while (c->ahead == AHEAD_RENDERING)
        pthread_cond_wait(&sh->wake, &sh->lock);
    ahead_state state = c->ahead;
    const float *from = c->ahead_out;
    pthread_mutex_unlock(&sh->lock);
    if (state == AHEAD_NONE)
        return 1;
    if (!from)
        return -1;
    int ch = sh->plan->channels;
    pg_extent s = chunk_span(sh, k);
    memcpy(out, from + (t0 - s.start) * ch, sizeof(float) * (size_t)(n * ch));
    pthread_mutex_lock(&sh->lock);
    if ((c->ahead_read += n) == s.end - s.start) {
        free(c->ahead_out);
        c->ahead_out = NULL;
        sh->ahead_held--;
        pthread_cond_broadcast(&sh->wake); // room for another
    }
    pthread_mutex_unlock(&sh->lock);
    return 0;
}

int exec_stream_block(exec_ctx *cx, pg_frame t0, int64_t n, float *out) {
    exec_shared *sh = cx->sh;
    int k = sh->chunks ? chunk_of(sh, t0) : -1;
    int r = k >= 0 && !sh->chunks[k].found ? take_ahead(sh, k, t0, n, out) : 1;
    return r == 1 ? stream_block(cx, t0, n, out) : r;
}
