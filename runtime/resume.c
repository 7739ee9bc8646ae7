// resume.c: checkpoints of a stateful master chain. When the root's chain runs a stateful
// node (a master filter or limiter, plan->stream_state) the output's chunks hold the mix
// under it, and every render would run the filter from its origin over all of them. So the
// output after the chain is kept as well, chunk by chunk, with the chain's state at each
// chunk's end (each stateful link's kind->save). Chunk k after the chain is keyed by what
// decides it: the chain's own arguments, its state at the chunk's start (a hash of the
// saved bytes; none at the origin) and the key of the mix's chunk k.
//
// A render starts from the origin's state and follows the keys: while chunk k after the
// chain is found, the state at its end is read, which keys chunk k + 1. Those chunks are
// marked found and direct, so the stream copies them as any found chunk and nothing under
// them is made; the chain is loaded with the state at the end of the last one and runs from
// there. Past an edit the stream keeps looking: a filter whose state comes back to the
// same bits once the edit's ring has died away (a low-pass soon does) finds the chunks
// after it again, and the chain stops running; a limiter whose peak the edit raised never
// does. Every chunk it runs is stored with the state at its end.
//
// A chunk found before the stream starts and damaged when copied is rendered again from
// the chain's origin (chunks.c's render_afresh): slow, rare, and the same bits. A chunk
// found while streaming is read whole and checked before it is used.
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "exec_int.h"

enum {
    MAX_LINKS = 16,           // stateful links of one chain (more: no checkpoints)
    STATE_MAX_FRAMES = 65536, // states above a whole chunk's bytes are not kept
    TAG_OUTPUT = 0x6f7574,
    TAG_STATE = 0x737461
};

struct resume {
    int links[MAX_LINKS]; // the chain's stateful nodes, from the root down
    int n_links;
    uint64_t seed;        // the chain's own key
    int at;               // the chunk the chain first runs (found before it: copied)
    unsigned char *state; // the saved state the chain resumes from (at > 0)
    size_t state_bytes;
    uint64_t state_hash; // of the chain's state at the start of the chunk the stream is at
    bool lost;    // it could not be saved (out of memory), or is too large: nothing more kept
    bool loaded;  // the state is back in the links
    int rejoined; // chunks found while streaming
    // the chunk the stream is in: found after the chain (`found`, its frames) or being made
    // by it (`stage`, stored with the state at its end unless it held a NaN or an infinity)
    int k;
    float *found, *stage; // (stage: chunk_bytes of chunk k)
    uint64_t start_hash;  // the state's at its start
    int64_t staged;
    bool nonfinite;
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

static size_t chunk_bytes(const exec_shared *sh, int k) {
    return sizeof(float) * (size_t)span_len(sh, k) * (size_t)ch_out(sh);
}

// The chain's stateful links, each able to save its state, and the chain's own key (every
// link's arguments, shape and extent: a crop's bounds, a filter's origin; and how the plan
// computes it, fused or not); 0 when the chain cannot be checkpointed.
static uint64_t chain_seed(const exec_shared *sh, struct resume *rs) {
    const pg_plan *p = sh->plan;
    uint64_t seed = XXH3_64bits(&p->window.start, sizeof p->window.start);
    for (int i = 0; i < p->n_chain; i++) {
        int x = p->chain[i];
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

// Chunk k after the chain, from a state of that hash at its start; and the state at its end.
static uint64_t output_key(const exec_shared *sh, int k, uint64_t state_hash) {
    uint64_t key = fold(fold(sh->resume->seed, TAG_OUTPUT, state_hash), sh->chunks[k].key, 0);
    return cache_key(key, exec_chunk_span(sh, k), ch_out(sh), sh->plan->frame_rate);
}

static uint64_t state_key(const exec_shared *sh, int k, uint64_t state_hash) {
    uint64_t key = fold(fold(sh->resume->seed, TAG_STATE, state_hash), sh->chunks[k].key, 0);
    return cache_key(key, exec_chunk_span(sh, k), 0, sh->plan->frame_rate);
}

static uint64_t hash_state(const unsigned char *bytes, size_t n) {
    uint64_t h = XXH3_64bits(bytes, n);
    return h ? h : 1; // (0 is the origin's)
}

// The state saved at the end of chunk k run from a state of hash h, checked (its checksum)
// and copied into rs->state; false if there is none.
static bool read_state(exec_shared *sh, int k, uint64_t h) {
    struct resume *rs = sh->resume;
    cache_mapping m;
    size_t n;
    const void *bytes = cache_map_bytes(sh->cache, state_key(sh, k, h), &n, &m);
    unsigned char *copy = bytes ? malloc(n ? n : 1) : NULL;
    if (copy) {
        memcpy(copy, bytes, n);
        free(rs->state);
        rs->state = copy;
        rs->state_bytes = n;
    }
    cache_unmap(&m);
    return copy != NULL;
}

// Follows the keys from the origin: the chunks after the chain found, each with the state at
// its end, from the first on; they become found and direct, keyed as after the chain. Leaves
// the state at the end of the last in rs->state, its hash in rs->state_hash.
static int resume_point(exec_shared *sh) {
    struct resume *rs = sh->resume;
    uint64_t *keys = malloc(sizeof *keys * ((size_t)sh->n_chunks + 1));
    int k = 0;
    for (; keys && k < sh->n_chunks; k++) {
        uint64_t h = rs->state_hash;
        keys[k] = output_key(sh, k, h);
        if (!cache_has(sh->cache, keys[k], ch_out(sh), span_len(sh, k)) || !read_state(sh, k, h))
            break;
        rs->state_hash = hash_state(rs->state, rs->state_bytes);
    }
    for (int j = 0; j < k; j++) {
        out_chunk *c = &sh->chunks[j];
        c->key = keys[j];
        c->found = c->direct = true;
    }
    free(keys);
    return k;
}

void exec_plan_resume(exec_shared *sh) {
    const pg_plan *p = sh->plan;
    // (a chain that changes the channel count: its output is not a chunk's shape; under a
    // memory limit, a damaged chunk after the chain could not be made again within it)
    if (!p->stream_state || !sh->chunks || p->channels != sh->chunk_channels || p->mem_limit)
        return;
    struct resume *rs = calloc(1, sizeof *rs);
    sh->resume = rs;
    if (!rs || !(rs->seed = chain_seed(sh, rs)) || rs->n_links == 0) {
        exec_resume_free(sh);
        return;
    }
    rs->k = -1;
    rs->at = resume_point(sh);
}

bool exec_resume_before(const exec_shared *sh, int k) {
    return sh->resume && k < sh->resume->at;
}

void exec_resume_counts(const exec_shared *sh, int *at, int *rejoined) {
    *at = sh->resume ? sh->resume->at : -1;
    *rejoined = sh->resume ? sh->resume->rejoined : 0;
}

// Puts rs->state back into the chain's links: each link's part, its size first.
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
    rs->loaded = true;
    return PG_OK;
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

// At the start of chunk k, past the resume point: chunk k after the chain, if the cache
// holds it for the state the chain has now, read and checked into rs->found, and the state
// at its end loaded into the links (the chain runs on from there if k + 1 is not found).
static pg_status look_again(exec_ctx *cx, int k) {
    exec_shared *sh = cx->sh;
    struct resume *rs = sh->resume;
    uint64_t h = rs->state_hash;
    float *buf = malloc(chunk_bytes(sh, k));
    bool found = buf &&
                 cache_load(sh->cache, output_key(sh, k, h), buf, ch_out(sh), span_len(sh, k)) &&
                 read_state(sh, k, h);
    if (!found) {
        free(buf);
        return PG_OK;
    }
    pg_status st = load_state(cx);
    rs->found = buf;
    sh->chunks[k].out_key = output_key(sh, k, h);
    rs->state_hash = hash_state(rs->state, rs->state_bytes);
    rs->rejoined++;
    pthread_mutex_lock(&sh->lock);
    sh->cache_loaded += chunk_bytes(sh, k);
    sh->chunk_hits++;
    pthread_mutex_unlock(&sh->lock);
    return st;
}

// The stream enters chunk k: what was found or staged for the chunk before is done with.
static pg_status enter_chunk(exec_ctx *cx, int k) {
    struct resume *rs = cx->sh->resume;
    free(rs->found);
    rs->found = NULL;
    free(rs->stage);
    rs->stage = NULL;
    rs->k = k;
    rs->start_hash = rs->state_hash;
    rs->staged = 0;
    rs->nonfinite = false;
    if (k == rs->at && rs->at > 0 && !rs->loaded)
        return load_state(cx); // (the state at the end of the last chunk found before)
    return k > rs->at && !rs->lost ? look_again(cx, k) : PG_OK;
}

int exec_resume_block(exec_ctx *cx, int k, pg_frame t0, int64_t n, float *out) {
    exec_shared *sh = cx->sh;
    struct resume *rs = sh->resume;
    if (!rs || k < rs->at)
        return 0;
    if (k != rs->k && enter_chunk(cx, k) != PG_OK) // (the stream is the chain's only caller,
        return -1;                                 // in order: no lock)
    if (!rs->found)
        return 0;
    int ch = ch_out(sh);
    memcpy(out, rs->found + (t0 - exec_chunk_span(sh, k).start) * ch,
           sizeof(float) * (size_t)(n * ch));
    return 1;
}

// Chunk rs->k after the chain is whole: its frames and the chain's state at its end stored,
// keyed by the state at its start; that state's hash keys the next chunk.
static void store_final(exec_ctx *cx) {
    exec_shared *sh = cx->sh;
    struct resume *rs = sh->resume;
    int k = rs->k;
    size_t n = 0;
    unsigned char *state = save_state(cx, &n);
    // a state larger than a whole chunk it would spare (a comb's delay of seconds) is not kept
    rs->lost = rs->lost || (state && n > sizeof(float) * STATE_MAX_FRAMES * (size_t)ch_out(sh));
    bool stored = state && !rs->nonfinite && !rs->lost &&
                  cache_store(sh->cache, output_key(sh, k, rs->start_hash), rs->stage, ch_out(sh),
                              span_len(sh, k)) &&
                  cache_store_bytes(sh->cache, state_key(sh, k, rs->start_hash), state, n);
    sh->chunks[k].out_key = stored ? output_key(sh, k, rs->start_hash) : 0;
    rs->state_hash = state ? hash_state(state, n) : 0;
    rs->lost = rs->lost || !state;
    free(state);
    pthread_mutex_lock(&sh->lock);
    sh->cache_stored += stored ? chunk_bytes(sh, k) + n : 0;
    pthread_mutex_unlock(&sh->lock);
}

void exec_keep_final(exec_ctx *cx, int k, pg_frame t0, int64_t n, const float *out,
                     bool nonfinite) {
    exec_shared *sh = cx->sh;
    struct resume *rs = sh->resume;
    if (!rs || k < rs->at || rs->found)
        return;
    int ch = ch_out(sh);
    pg_extent s = exec_chunk_span(sh, k);
    if (!rs->stage && rs->staged == 0)
        rs->stage = malloc(chunk_bytes(sh, k));
    if (rs->stage)
        memcpy(rs->stage + (t0 - s.start) * ch, out, sizeof(float) * (size_t)(n * ch));
    rs->nonfinite = rs->nonfinite || nonfinite || !rs->stage; // (out of memory: not stored)
    if ((rs->staged += n) == s.end - s.start)
        store_final(cx);
}

void exec_resume_free(exec_shared *sh) {
    struct resume *rs = sh->resume;
    if (!rs)
        return;
    free(rs->found);
    free(rs->stage);
    free(rs->state);
    free(rs);
    sh->resume = NULL;
}
