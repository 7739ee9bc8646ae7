// granular.c: GranularPE(src_pe, grain_size=0.81, grain_overlap=0.15, frame_rate=None,
// seed=0) and `.granular(grain_size=0.1, grain_overlap=0.5)`: the granular re-scattering
// pygmu's broken granular_pe.py meant (QUIRK Q33). Grains of G frames start every hop frames;
// grain k reads the source near its own time, scattered over +-G frames by a hash of
// (seed, k), under a periodic Hann window; the sum is scaled by min(1, 2 hop / G). A pure
// function of absolute time: stateless. Design: docs/quirks-effects.md.
#include <math.h>
#include <stdlib.h>
#include <xxhash.h>

#include "pe.h"

enum {
    P_SRC,
    P_SIZE,
    P_OVERLAP,
    P_FRAME_RATE,
    P_SEED
};

#define GRAIN_PI      3.14159265358979323846
#define GRAIN_MAX_SEC 10.0 // longest grain

typedef struct grain_geom {
    pg_frame len;        // G, frames per grain
    pg_frame hop;        // frames between grain starts
    pg_frame anchor;     // start of grain 0: the source's start, or 0 when indefinite
    pg_frame k_lo, k_hi; // grains [k_lo, k_hi] exist (INT64_MIN / INT64_MAX: unbounded)
    pg_extent src;       // the source's extent
    double scale;        // min(1, 2 hop / G)
    uint64_t seed;
} grain_geom;

typedef struct granular_state {
    grain_geom g;
    double *window; // G values of the periodic Hann window
} granular_state;

static const pe_param granular_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED | PE_P_RANDOM, PE_NONE },
    { "grain_size", PE_T_NUM, PE_P_GT0, PE_NUM(0.81) },
    { "grain_overlap", PE_T_NUM, PE_P_GE0, PE_NUM(0.15) },
    { "frame_rate", PE_T_INT, PE_P_NONE_OK | PE_P_GT0, PE_NONE },
    { "seed", PE_T_INT, 0, PE_INT(0) },
    PE_PARAMS_END,
};

// pygmu's `.granular()` helper passes other defaults than the constructor has.
static const pe_param granular_method_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED | PE_P_RANDOM, PE_NONE },
    { "grain_size", PE_T_NUM, PE_P_GT0, PE_NUM(0.1) },
    { "grain_overlap", PE_T_NUM, PE_P_GE0, PE_NUM(0.5) },
    { "frame_rate", PE_T_INT, PE_P_NONE_OK | PE_P_GT0, PE_NONE },
    { "seed", PE_T_INT, 0, PE_INT(0) },
    PE_PARAMS_END,
};

static pg_frame floor_div(pg_frame a, pg_frame b) {
    pg_frame q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static pg_frame ceil_div(pg_frame a, pg_frame b) {
    return -floor_div(-a, b);
}

// The grain geometry for a source of shape src (grain sizes use the source's rate).
static grain_geom geom_of(const pe_node *n, const pe_shape *src) {
    grain_geom g = { 0 };
    g.len = (pg_frame)(pe_num(n, P_SIZE) * src->frame_rate);
    g.hop = (pg_frame)((double)g.len * (1.0 - pe_num(n, P_OVERLAP)));
    g.hop = g.hop < 1 ? 1 : g.hop;
    g.src = src->extent;
    g.anchor = src->extent.start == PG_FRAME_MIN ? 0 : src->extent.start;
    g.k_lo = src->extent.start == PG_FRAME_MIN ? INT64_MIN : 0;
    g.k_hi = src->extent.end == PG_FRAME_MAX ? INT64_MAX
                                             : ceil_div(src->extent.end - g.anchor, g.hop) - 1;
    g.scale = fmin(1.0, 2.0 * (double)g.hop / (double)g.len);
    g.seed = (uint64_t)pe_int(n, P_SEED);
    return g;
}

static pg_status granular_check(const pe_node *n, const pe_shape *src, pe_check *ck) {
    double size = pe_num(n, P_SIZE), overlap = pe_num(n, P_OVERLAP);
    int fr = src->frame_rate;
    if (fr <= 0)
        return pe_fail(ck, PG_ERR_RATE, "GranularPE needs its source's frame rate");
    if (n->args[P_FRAME_RATE].type != PG_V_NONE && pe_int(n, P_FRAME_RATE) != fr)
        return pe_fail(ck, PG_ERR_RATE,
                       "frame rate mismatch: GranularPE frame_rate is %lld Hz, "
                       "its source is %d Hz",
                       (long long)pe_int(n, P_FRAME_RATE), fr);
    if (!(size <= GRAIN_MAX_SEC) || size * fr < 2.0)
        return pe_fail(ck, PG_ERR_ARG, "GranularPE grain_size must be 2 frames to %g s, got %g",
                       GRAIN_MAX_SEC, size);
    if (!(overlap < 1.0))
        return pe_fail(ck, PG_ERR_ARG, "GranularPE grain_overlap must be < 1, got %g", overlap);
    if (pg_extent_is_finite(src->extent) &&
        (double)src->extent.end - (double)src->extent.start > 0x1p61)
        return pe_fail(ck, PG_ERR_ARG, "GranularPE source extent is too long");
    return PG_OK;
}

// The source's extent from its start (or, when indefinite, everything) to the end of the
// last grain starting inside it. QUIRK Q33: pygmu reports E(src) and drops grains past it;
// E(src) stays the nominal extent (what .extent() answers and a render covers by default).
static pg_status granular_infer(pe_node *n, pe_check *ck) {
    const pe_shape *src = &n->in[pe_slot(n, P_SRC)];
    n->out = *src;
    if (granular_check(n, src, ck) != PG_OK)
        return ck->status;
    if (pg_extent_is_empty(src->extent)) {
        n->out.extent = (pg_extent){ 0, 0 };
        return PG_OK;
    }
    grain_geom g = geom_of(n, src);
    if (!ck->nominal && src->extent.end != PG_FRAME_MAX)
        n->out.extent.end = g.anchor + g.k_hi * g.hop + g.len;
    return PG_OK;
}

// The grains that sound in [a, b), clipped to those that exist; false when none.
static int grains_in(const grain_geom *g, pg_frame a, pg_frame b, pg_frame *k0, pg_frame *k1) {
    *k0 = ceil_div(a - g->anchor - g->len + 1, g->hop);
    *k1 = floor_div(b - 1 - g->anchor, g->hop);
    *k0 = *k0 < g->k_lo ? g->k_lo : *k0;
    *k1 = *k1 > g->k_hi ? g->k_hi : *k1;
    return *k0 <= *k1;
}

// Where grain k starts reading: its own start, scattered uniformly over [-G, G] by
// XXH3(k, seed) (top 53 bits as a fraction), then kept inside the source when it is finite.
static pg_frame grain_read(const grain_geom *g, pg_frame k) {
    int64_t key = k;
    double u = (double)(XXH3_64bits_withSeed(&key, sizeof key, g->seed) >> 11) * 0x1p-53;
    pg_frame p = g->anchor + k * g->hop + (pg_frame)(u * (double)(2 * g->len + 1)) - g->len;
    if (g->src.end != PG_FRAME_MAX && p > g->src.end - g->len)
        p = g->src.end - g->len;
    if (g->src.start != PG_FRAME_MIN && p < g->src.start)
        p = g->src.start;
    return p;
}

static void granular_need(const pe_node *n, int slot, pg_extent out, pg_extent *in) {
    const pe_shape *src = &n->in[slot];
    *in = (pg_extent){ PG_FRAME_MIN, PG_FRAME_MAX };
    if (pg_extent_is_empty(out) || pg_extent_is_empty(src->extent)) {
        *in = (pg_extent){ 0, 0 };
        return;
    }
    if (!pg_extent_is_finite(out))
        return;
    grain_geom g = geom_of(n, src);
    pg_frame k0, k1;
    if (!grains_in(&g, out.start, out.end, &k0, &k1)) {
        *in = (pg_extent){ 0, 0 };
        return;
    }
    *in = (pg_extent){ g.anchor + k0 * g.hop - g.len, g.anchor + k1 * g.hop + 2 * g.len + 1 };
}

static pg_status granular_init(pe_inst *pe) {
    granular_state *s = pe->state;
    const pe_node *nd = pe->node;
    s->g = geom_of(nd, &nd->in[pe_slot(nd, P_SRC)]);
    s->window = malloc(sizeof(double) * (size_t)s->g.len);
    if (!s->window)
        return pe_error(pe, PG_ERR_NOMEM, "GranularPE: out of memory for a %lld-frame grain",
                        (long long)s->g.len);
    for (pg_frame j = 0; j < s->g.len; j++)
        s->window[j] = 0.5 - 0.5 * cos(2.0 * GRAIN_PI * (double)j / (double)s->g.len);
    return PG_OK;
}

static void granular_fini(pe_inst *pe) {
    granular_state *s = pe->state;
    free(s->window);
    s->window = NULL;
}

// Adds grain k's part inside [t0, t0 + n) into acc (ch x n, planar).
static pg_status add_grain(pe_inst *pe, const granular_state *s, pg_frame k, pg_frame t0, int64_t n,
                           int ch, double *acc) {
    const grain_geom *g = &s->g;
    pg_frame start = g->anchor + k * g->hop;
    pg_frame a = start > t0 ? start : t0;
    pg_frame b = start + g->len < t0 + n ? start + g->len : t0 + n;
    if (a >= b)
        return PG_OK;
    pe_view v;
    pg_status st = pe_pull(pe, pe_slot(pe->node, P_SRC), grain_read(g, k) + (a - start), b - a, &v);
    if (st != PG_OK)
        return st;
    const double *w = s->window + (a - start);
    for (int c = 0; c < ch; c++) {
        const float *x = pe_vch(&v, c);
        double *y = acc + c * n + (a - t0);
        for (int64_t i = 0; i < b - a; i++)
            y[i] += w[i] * (double)x[i];
    }
    return PG_OK;
}

// Every frame sums its grains in increasing k, in double, whatever the window: the result
// does not depend on the block size.
static pg_status granular_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const granular_state *s = pe->state;
    int ch = out->channels;
    double *acc = pe_scratch(pe, sizeof(double) * (size_t)n * (size_t)ch);
    if (!acc)
        return pe_error(pe, PG_ERR_NOMEM, "GranularPE: out of scratch memory");
    for (int64_t i = 0; i < n * ch; i++)
        acc[i] = 0.0;
    pg_frame k0, k1;
    if (grains_in(&s->g, t0, t0 + n, &k0, &k1))
        for (pg_frame k = k0; k <= k1; k++) {
            pg_status st = add_grain(pe, s, k, t0, n, ch, acc);
            if (st != PG_OK)
                return st;
        }
    for (int c = 0; c < ch; c++)
        for (int64_t i = 0; i < n; i++)
            pe_ch(out, c)[i] = (float)(s->g.scale * acc[c * n + i]);
    return PG_OK;
}

const pe_kind pe_kind_granular = {
    .name = "GranularPE",
    .method = NULL,
    .params = granular_params,
    .flags = PE_F_TAIL,
    .state_size = sizeof(granular_state),
    .infer = granular_infer,
    .need = granular_need,
    .init = granular_init,
    .process = granular_process,
    .fini = granular_fini,
};

// `.granular(grain_size=0.1, grain_overlap=0.5)`: the same PE with the helper's defaults.
// Its name starts with '_' so that it is no constructor (as the BQ2 method kinds).
const pe_kind pe_kind_granular_method = {
    .name = "_granular",
    .method = "granular",
    .params = granular_method_params,
    .flags = PE_F_TAIL,
    .state_size = sizeof(granular_state),
    .infer = granular_infer,
    .need = granular_need,
    .init = granular_init,
    .process = granular_process,
    .fini = granular_fini,
};
