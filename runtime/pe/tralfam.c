// tralfam.c: TralfamPE(src_pe, seed=None), after pygmu's tralfam_pe.py: smears a finite
// source's spectrum across its whole duration. With A = FFT(x) over the n frames of the
// source and one random phase phi_k = 2 pi u_k per bin k < n (shared by the channels),
// out = real(IFFT(|A_k| exp(i phi_k))), as pygmu computes it (a full complex inverse FFT of
// a spectrum that is not Hermitian, keeping the real part). init computes it all; process
// copies. Extent, channels and rate: the source's. Always a buffer (PE_F_MATERIALISE), so
// that the render cache keeps what init computes: a warm render loads it, init never runs.
// QUIRK Q54: pygmu draws u from an unseeded generator (no two renders agree); here u_k is
// the top 53 bits of XXH3_64bits_withSeed(&k, sizeof k, seed) (k an int64 in host byte
// order) times 2^-53, the scheme NoisePE uses: reproducible, and the evaluator may pass the
// piece's seed (None means 0).
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "fft.h"
#include "pe.h"

enum {
    P_SRC,
    P_SEED
};

#define TWO_PI 6.283185307179586476925286766559

static const pe_param tralfam_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED | PE_P_RANDOM, PE_NONE },
    { "seed", PE_T_INT, PE_P_NONE_OK, PE_NONE },
    PE_PARAMS_END,
};

typedef struct tralfam_state {
    float *data; // channels x len, planar: frame S + i at column i
    int64_t len;
    pg_frame start;
} tralfam_state;

static pg_status tralfam_infer(pe_node *n, pe_check *ck) {
    n->out = n->in[pe_slot(n, P_SRC)];
    if (!pg_extent_is_finite(n->out.extent))
        return pe_fail(ck, PG_ERR_EXTENT, "TralfamPE src_pe must have a finite extent");
    return PG_OK;
}

static void tralfam_need(const pe_node *n, int slot, pg_extent out, pg_extent *in) {
    (void)out;
    *in = n->in[slot].extent;
}

static double tralfam_phase(int64_t k, XXH64_hash_t seed) {
    double u = (double)(XXH3_64bits_withSeed(&k, sizeof k, seed) >> 11) * 0x1p-53;
    return TWO_PI * u;
}

// spec (n complex) = |A_k| exp(i phi_k) for every k, from the r2c half spectrum in half
// (|A_{n-k}| = |A_k| for a real source).
static void tralfam_spectrum(fft_cpx *half, fft_cpx *spec, int64_t n, XXH64_hash_t seed) {
    for (int64_t k = 0; k < n; k++) {
        int64_t m = k <= n / 2 ? k : n - k;
        double mag = hypot((double)half[m][0], (double)half[m][1]), phi = tralfam_phase(k, seed);
        spec[k][0] = (float)(mag * cos(phi));
        spec[k][1] = (float)(mag * sin(phi));
    }
}

// Channel c of the source through the smear into s->data.
static pg_status tralfam_channel(pe_inst *pe, int c, float *buf, fft_cpx *half, fft_cpx *spec) {
    tralfam_state *s = pe->state;
    const pe_node *nd = pe->node;
    XXH64_hash_t seed = nd->args[P_SEED].type == PG_V_NONE ? 0 : (XXH64_hash_t)pe_int(nd, P_SEED);
    pe_view v;
    pg_status st = pe_pull(pe, pe_slot(nd, P_SRC), s->start, s->len, &v);
    if (st != PG_OK)
        return st;
    memcpy(buf, pe_vch(&v, c), sizeof(float) * (size_t)s->len);
    fft_r2c(fft_plan_r2c(s->len), buf, half);
    tralfam_spectrum(half, spec, s->len, seed);
    fft_c2c(fft_plan_c2c(s->len, +1), spec, half);
    float *y = s->data + c * s->len;
    for (int64_t i = 0; i < s->len; i++)
        y[i] = (float)((double)half[i][0] / (double)s->len);
    return PG_OK;
}

static pg_status tralfam_init(pe_inst *pe) {
    tralfam_state *s = pe->state;
    int ch = pe->node->out.channels;
    pg_extent e = pe->node->out.extent;
    s->start = e.start;
    s->len = e.end - e.start;
    if (s->len <= 0)
        return PG_OK;
    s->data = malloc(sizeof(float) * (size_t)(s->len * ch));
    float *buf = fft_alloc(sizeof(float) * (size_t)s->len);
    fft_cpx *half = fft_alloc(sizeof(fft_cpx) * (size_t)s->len); // later the inverse's output
    fft_cpx *spec = fft_alloc(sizeof(fft_cpx) * (size_t)s->len);
    pg_status st = PG_OK;
    if (!s->data || !buf || !half || !spec || !fft_plan_r2c(s->len) || !fft_plan_c2c(s->len, +1))
        st =
            pe_error(pe, PG_ERR_NOMEM, "TralfamPE: out of memory (%lld frames)", (long long)s->len);
    for (int c = 0; st == PG_OK && c < ch; c++)
        st = tralfam_channel(pe, c, buf, half, spec);
    fft_free(buf);
    fft_free(half);
    fft_free(spec);
    if (st != PG_OK) { // the executor calls fini only after a successful init
        free(s->data);
        s->data = NULL;
    }
    return st;
}

// QUIRK Q54: pygmu indexed its result by absolute frame (right only for sources at 0) and
// raised NameError for windows straddling the extent; ours is relative to the start.
static pg_status tralfam_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const tralfam_state *s = pe->state;
    for (int c = 0; c < out->channels; c++)
        memcpy(pe_ch(out, c), s->data + c * s->len + (t0 - s->start), sizeof(float) * (size_t)n);
    return PG_OK;
}

static void tralfam_fini(pe_inst *pe) {
    tralfam_state *s = pe->state;
    free(s->data);
    s->data = NULL;
}

const pe_kind pe_kind_tralfam = {
    .name = "TralfamPE",
    .method = "tralfam",
    .params = tralfam_params,
    .flags = PE_F_MATERIALISE,
    .state_size = sizeof(tralfam_state),
    .infer = tralfam_infer,
    .need = tralfam_need,
    .init = tralfam_init,
    .process = tralfam_process,
    .fini = tralfam_fini,
};
