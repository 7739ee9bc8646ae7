// resume.c: checkpoints of a stateful master chain. When the root's chain runs a stateful
// node (a master filter or limiter, plan->stream_state) the output's chunks hold the mix
// under it, and every render runs the filter from its origin over all of them. So the
// output after the chain is kept as well, chunk by chunk, with the chain's state at each
// chunk's end (each stateful link's kind->save): chunk k's entries are keyed by the chain's
// own arguments and the keys of the mix's chunks 0 to k, which is everything its frames and
// that state depend on. A render copies the chunks after the chain it finds from the first
// on, loads the state at the end of the last of them, and runs the chain from there: an
// unchanged render copies the whole output, an edit the seconds before it.
//
// The chunks before the resume point are marked found and direct, their keys the chunks
// after the chain, so the stream copies them as any found chunk and nothing under them is
// made. One of them found damaged when copied is rendered again from the chain's origin
// (chunks.c's render_afresh): slow, rare, and the same bits.
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "exec_int.h"

enum {
    MAX_LINKS = 16, // stateful links of one chain (more: no checkpoints)
    TAG_OUTPUT = 0x6f7574,
    TAG_STATE = 0x737461
};

struct resume {
    int links[MAX_LINKS]; // the chain's stateful nodes, from the root down
    int n_links;
    uint64_t *chain;      // per chunk: the chain's key through that chunk
    int at;               // the chunk the chain resumes at (0: from its origin)
    unsigned char *state; // the state saved at the end of chunk at - 1 (at > 0)
    size_t state_bytes;
    bool loaded;     // the state is back in the links
    float **stage;   // per chunk from `at` on: the chain's output, until whole
    int64_t *done;   // its frames staged so far
    bool *nonfinite; // a NaN or an infinity: not stored (rendered again, reported again)
};

static uint64_t fold(uint64_t key, uint64_t a, uint64_t b) {
    uint64_t w[2] = { a, b };
    return XXH3_64bits_withSeed(w, sizeof w, key);
}

// The channels of the chain's output (the root's), which are the chunk root's here.
static int ch_out(const exec_shared *sh) {
    return sh->plan->channels;
}

static int64_t span_len(const exec_shared *sh, int k) {
    pg_extent s = exec_chunk_span(sh, k);
    return s.end - s.start;
}

// The chain's stateful links, each able to save its state, and the chain's own key (every
// link's arguments, shape and extent: a crop's bounds, a filter's origin; and how the plan
// computes it, fused or not); 0 when the chain cannot be checkpointed.
static uint64_t chain_seed(const exec_shared *sh, struct resume *rs) {
    const pg_plan *p = sh->plan;
    uint64_t seed = XXH3_64bits(&p->window.start, sizeof p->window.start);
    for (int x = p->root; x != p->chunk_root; x = p->nodes[x].inputs[0]) {
        const plan_node *n = &p->nodes[x];
        if (n->own_hash == 0)
            return 0;
        if (n->pn.flags & PE_F_STATEFUL) {
            if (!n->pn.kind->save || !n->pn.kind->load || rs->n_links == MAX_LINKS)
                return 0;
            rs->links[rs->n_links++] = x;
        }
        seed = fold(seed, n->own_hash, (uint64_t)n->pn.out.channels | (uint64_t)n->fused << 32);
        seed = fold(seed, (uint64_t)n->pn.out.extent.start, (uint64_t)n->pn.out.extent.end);
    }
    return seed;
}

static uint64_t output_key(const exec_shared *sh, int k) {
    return cache_key(fold(sh->resume->chain[k], TAG_OUTPUT, 0), exec_chunk_span(sh, k), ch_out(sh),
                     sh->plan->frame_rate);
}

static uint64_t state_key(const exec_shared *sh, int k) {
    return cache_key(fold(sh->resume->chain[k], TAG_STATE, 0), exec_chunk_span(sh, k), 0,
                     sh->plan->frame_rate);
}

// The state saved at the end of chunk k, checked (its checksum) and copied; false if there
// is none.
static bool read_state(exec_shared *sh, int k) {
    struct resume *rs = sh->resume;
    cache_mapping m;
    size_t n;
    const void *bytes = cache_map_bytes(sh->cache, state_key(sh, k), &n, &m);
    free(rs->state);
    rs->state = bytes ? malloc(n) : NULL;
    if (rs->state)
        memcpy(rs->state, bytes, n);
    rs->state_bytes = rs->state ? n : 0;
    cache_unmap(&m);
    return rs->state != NULL;
}

// The first chunk after the chain the cache does not hold, or back from it to the last one
// whose state at its start is there too.
static int resume_point(exec_shared *sh) {
    int e = 0;
    while (e < sh->n_chunks && cache_has(sh->cache, output_key(sh, e), ch_out(sh), span_len(sh, e)))
        e++;
    while (e > 0 && !read_state(sh, e - 1))
        e--;
    return e;
}

static bool make_stages(struct resume *rs, int n) {
    rs->chain = malloc(sizeof *rs->chain * (size_t)n);
    rs->stage = calloc((size_t)n, sizeof *rs->stage);
    rs->done = calloc((size_t)n, sizeof *rs->done);
    rs->nonfinite = calloc((size_t)n, sizeof *rs->nonfinite);
    return rs->chain && rs->stage && rs->done && rs->nonfinite;
}

void exec_plan_resume(exec_shared *sh) {
    const pg_plan *p = sh->plan;
    // (a chain that changes the channel count: its output is not a chunk's shape; under a
    // memory limit, a damaged chunk after the chain could not be made again within it)
    if (!p->stream_state || !sh->chunks || p->channels != sh->chunk_channels || p->mem_limit)
        return;
    struct resume *rs = calloc(1, sizeof *rs);
    uint64_t seed = rs ? chain_seed(sh, rs) : 0;
    sh->resume = rs;
    if (!seed || rs->n_links == 0 || !make_stages(rs, sh->n_chunks)) {
        exec_resume_free(sh);
        return;
    }
    for (int k = 0; k < sh->n_chunks; k++)
        rs->chain[k] = fold(k ? rs->chain[k - 1] : seed, sh->chunks[k].key, 0);
    rs->at = resume_point(sh);
    for (int k = 0; k < rs->at; k++) {
        out_chunk *c = &sh->chunks[k];
        c->key = output_key(sh, k);
        c->found = c->direct = true;
    }
}

bool exec_resume_before(const exec_shared *sh, int k) {
    return sh->resume && k < sh->resume->at;
}

int exec_resumed_at(const exec_shared *sh) {
    return sh->resume ? sh->resume->at : -1;
}

// Puts the saved state back into the chain's links: each link's part, its size first.
static pg_status load_state(exec_ctx *cx) {
    exec_shared *sh = cx->sh;
    struct resume *rs = sh->resume;
    size_t at = 0;
    for (int i = 0; i < rs->n_links; i++) {
        pe_inst pe = sh->inst[rs->links[i]];
        pe.cx = cx;
        uint64_t n;
        size_t want = pe.node->kind->save(&pe, NULL);
        bool fits = at + sizeof n <= rs->state_bytes;
        if (fits)
            memcpy(&n, rs->state + at, sizeof n);
        fits = fits && n == want && at + sizeof n + n <= rs->state_bytes;
        if (!fits) // (the cache keys the code too: another build's state is never read)
            return exec_fail(sh, PG_ERR_INTERNAL, sh->plan->nodes[rs->links[i]].loc,
                             "%s: a saved state does not fit it", pe.node->kind->name);
        pe.node->kind->load(&pe, rs->state + at + sizeof n);
        at += sizeof n + n;
    }
    return PG_OK;
}

pg_status exec_resume_chain(exec_ctx *cx, int k) {
    struct resume *rs = cx->sh->resume;
    if (!rs || rs->loaded || k != rs->at || rs->at == 0)
        return PG_OK;
    rs->loaded = true; // (the stream is the chain's only caller, in order: no lock)
    return load_state(cx);
}

// The chain's links' states now, each part's size first; NULL when out of memory.
static unsigned char *save_state(exec_ctx *cx, size_t *bytes) {
    exec_shared *sh = cx->sh;
    struct resume *rs = sh->resume;
    size_t total = 0;
    for (int i = 0; i < rs->n_links; i++) {
        pe_inst pe = sh->inst[rs->links[i]];
        total += sizeof(uint64_t) + pe.node->kind->save(&pe, NULL);
    }
    unsigned char *out = malloc(total ? total : 1);
    size_t at = 0;
    for (int i = 0; out && i < rs->n_links; i++) {
        pe_inst pe = sh->inst[rs->links[i]];
        uint64_t n = pe.node->kind->save(&pe, NULL);
        memcpy(out + at, &n, sizeof n);
        pe.node->kind->save(&pe, out + at + sizeof n);
        at += sizeof n + n;
    }
    *bytes = total;
    return out;
}

// Chunk k after the chain is whole: its frames and the chain's state stored.
static void store_final(exec_ctx *cx, int k) {
    exec_shared *sh = cx->sh;
    struct resume *rs = sh->resume;
    size_t n = 0;
    unsigned char *state = rs->nonfinite[k] ? NULL : save_state(cx, &n);
    bool stored = state && cache_store(sh->cache, output_key(sh, k), rs->stage[k], ch_out(sh),
                                       span_len(sh, k));
    stored = stored && cache_store_bytes(sh->cache, state_key(sh, k), state, n);
    free(state);
    free(rs->stage[k]);
    rs->stage[k] = NULL;
    pthread_mutex_lock(&sh->lock);
    sh->cache_stored += stored ? sizeof(float) * (size_t)(span_len(sh, k) * ch_out(sh)) + n : 0;
    pthread_mutex_unlock(&sh->lock);
}

void exec_keep_final(exec_ctx *cx, int k, pg_frame t0, int64_t n, const float *out,
                     bool nonfinite) {
    exec_shared *sh = cx->sh;
    struct resume *rs = sh->resume;
    if (!rs || k < rs->at)
        return;
    int ch = ch_out(sh);
    pg_extent s = exec_chunk_span(sh, k);
    if (!rs->stage[k] &&
        !(rs->stage[k] = malloc(sizeof(float) * (size_t)(s.end - s.start) * (size_t)ch)))
        rs->nonfinite[k] = true; // (out of memory: nothing stored, as for a NaN)
    if (rs->stage[k])
        memcpy(rs->stage[k] + (t0 - s.start) * ch, out, sizeof(float) * (size_t)(n * ch));
    rs->nonfinite[k] = rs->nonfinite[k] || nonfinite;
    if ((rs->done[k] += n) == s.end - s.start)
        store_final(cx, k);
}

void exec_resume_free(exec_shared *sh) {
    struct resume *rs = sh->resume;
    if (!rs)
        return;
    for (int k = 0; rs->stage && k < sh->n_chunks; k++)
        free(rs->stage[k]);
    free(rs->stage);
    free(rs->done);
    free(rs->nonfinite);
    free(rs->chain);
    free(rs->state);
    free(rs);
    sh->resume = NULL;
}
