// ganesh.c: GaneshPE(head_pe, body_pe, extend=True), after pygmu's ganesh_pe.py: the
// magnitude spectrum of one sound with the phase spectrum of another, over the whole of
// both: out = real(IFFT(|FFT(head)| * exp(i * angle(FFT(body))))), per channel, with the
// shorter input zero-padded (extend) or the longer cut (not extend) to a common length L.
// Extent [0, L), as pygmu's (it stores the result in an ArrayPE). Both inputs must be finite
// and are read at random (materialised); init computes everything (FFTW, float transforms,
// double magnitude and phase arithmetic), process copies. Always a buffer itself
// (PE_F_MATERIALISE), so that the render cache keeps what init computes: a warm render loads
// it, init never runs.
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fft.h"
#include "pe.h"

enum {
    P_HEAD,
    P_BODY,
    P_EXTEND
};

static const pe_param ganesh_params[] = {
    { "head_pe", PE_T_PE, PE_P_REQUIRED | PE_P_RANDOM, PE_NONE },
    { "body_pe", PE_T_PE, PE_P_REQUIRED | PE_P_RANDOM, PE_NONE },
    { "extend", PE_T_BOOL, 0, PE_BOOL(true) },
    PE_PARAMS_END,
};

typedef struct ganesh_state {
    float *data; // channels x len, planar
    int64_t len;
} ganesh_state;

static int64_t span(pg_extent e) {
    return e.end - e.start;
}

// QUIRK Q32: pygmu cut to |n_head - n_body| frames with extend=False (a broadcast error
// unless one input is twice the other); ours cuts to min(n_head, n_body), as intended.
static int64_t ganesh_len(const pe_node *n) {
    int64_t h = span(n->in[pe_slot(n, P_HEAD)].extent), b = span(n->in[pe_slot(n, P_BODY)].extent);
    bool extend = n->args[P_EXTEND].u.b;
    return extend ? (h > b ? h : b) : (h < b ? h : b);
}

static pg_status ganesh_infer(pe_node *n, pe_check *ck) {
    const pe_shape *h = &n->in[pe_slot(n, P_HEAD)], *b = &n->in[pe_slot(n, P_BODY)];
    n->out.channels = h->channels > b->channels ? h->channels : b->channels;
    n->out.frame_rate = h->frame_rate ? h->frame_rate : b->frame_rate;
    n->out.extent = (pg_extent){ 0, 0 };
    if (!pg_extent_is_finite(h->extent) || !pg_extent_is_finite(b->extent))
        return pe_fail(ck, PG_ERR_EXTENT, "GaneshPE %s must have a finite extent",
                       pg_extent_is_finite(h->extent) ? "body_pe" : "head_pe");
    // QUIRK: pygmu reported head's channel count even when a mono head and a stereo body
    // broadcast to two rows; ours is the wider one (mono fits either), other mixes are errors.
    if (h->channels != b->channels && h->channels != 1 && b->channels != 1)
        return pe_fail(ck, PG_ERR_CHANNELS,
                       "channel count mismatch: GaneshPE body_pe has %d channels, head_pe has %d",
                       b->channels, h->channels);
    // QUIRK Q32: pygmu fell back to 48000 Hz when both rates were set and equal, and only
    // warned when they differed; equal rates are kept, a mismatch is an error.
    if (h->frame_rate && b->frame_rate && h->frame_rate != b->frame_rate)
        return pe_fail(ck, PG_ERR_RATE,
                       "frame rate mismatch: GaneshPE body_pe has %d Hz, head_pe has %d",
                       b->frame_rate, h->frame_rate);
    n->out.extent.end = ganesh_len(n);
    return PG_OK;
}

// Both inputs over their whole extents, as init reads them.
static void ganesh_need(const pe_node *n, int slot, pg_extent out, pg_extent *in) {
    (void)out;
    *in = n->in[slot].extent;
}

// Input `param` channel c: L frames from its extent's start (zeros past its end) into buf,
// then its spectrum into spec.
static pg_status ganesh_spectrum(pe_inst *pe, int param, int c, int64_t len, float *buf,
                                 fft_cpx *spec) {
    int slot = pe_slot(pe->node, param);
    pe_view v;
    pg_status st = pe_pull(pe, slot, pe_in_shape(pe, slot)->extent.start, len, &v);
    if (st != PG_OK)
        return st;
    memcpy(buf, pe_vch(&v, c), sizeof(float) * (size_t)len);
    fft_r2c(fft_plan_r2c(len), buf, spec);
    return PG_OK;
}

// Y_k = |H_k| exp(i angle(B_k)) (numpy's angle: atan2), in place into hs.
static void ganesh_combine(fft_cpx *hs, fft_cpx *bs, int64_t bins) {
    for (int64_t k = 0; k < bins; k++) {
        double mag = hypot((double)hs[k][0], (double)hs[k][1]);
        double phase = atan2((double)bs[k][1], (double)bs[k][0]);
        hs[k][0] = (float)(mag * cos(phase));
        hs[k][1] = (float)(mag * sin(phase));
    }
}

// Output channel c: the head's magnitudes with the body's phases, back in time, / L.
static pg_status ganesh_channel(pe_inst *pe, int c, float *buf, fft_cpx *hs, fft_cpx *bs) {
    ganesh_state *s = pe->state;
    int hc = pe_in_shape(pe, pe_slot(pe->node, P_HEAD))->channels == 1 ? 0 : c;
    int bc = pe_in_shape(pe, pe_slot(pe->node, P_BODY))->channels == 1 ? 0 : c;
    pg_status st = ganesh_spectrum(pe, P_HEAD, hc, s->len, buf, hs);
    if (st == PG_OK)
        st = ganesh_spectrum(pe, P_BODY, bc, s->len, buf, bs);
    if (st != PG_OK)
        return st;
    ganesh_combine(hs, bs, s->len / 2 + 1);
    fft_c2r(fft_plan_c2r(s->len), hs, buf);
    float *y = s->data + c * s->len;
    for (int64_t i = 0; i < s->len; i++)
        y[i] = (float)((double)buf[i] / (double)s->len);
    return PG_OK;
}

static pg_status ganesh_init(pe_inst *pe) {
    ganesh_state *s = pe->state;
    int ch = pe->node->out.channels;
    s->len = ganesh_len(pe->node);
    if (s->len == 0)
        return PG_OK;
    size_t bins = (size_t)(s->len / 2 + 1);
    s->data = malloc(sizeof(float) * (size_t)(s->len * ch));
    float *buf = fft_alloc(sizeof(float) * (size_t)s->len);
    fft_cpx *hs = fft_alloc(sizeof(fft_cpx) * bins), *bs = fft_alloc(sizeof(fft_cpx) * bins);
    pg_status st = PG_OK;
    if (!s->data || !buf || !hs || !bs || !fft_plan_r2c(s->len) || !fft_plan_c2r(s->len))
        st = pe_error(pe, PG_ERR_NOMEM, "GaneshPE: out of memory (%lld frames)", (long long)s->len);
    for (int c = 0; st == PG_OK && c < ch; c++)
        st = ganesh_channel(pe, c, buf, hs, bs);
    fft_free(buf);
    fft_free(hs);
    fft_free(bs);
    if (st != PG_OK) { // the executor calls fini only after a successful init
        free(s->data);
        s->data = NULL;
    }
    return st;
}

static pg_status ganesh_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const ganesh_state *s = pe->state;
    for (int c = 0; c < out->channels; c++)
        memcpy(pe_ch(out, c), s->data + c * s->len + t0, sizeof(float) * (size_t)n);
    return PG_OK;
}

static void ganesh_fini(pe_inst *pe) {
    ganesh_state *s = pe->state;
    free(s->data);
    s->data = NULL;
}

const pe_kind pe_kind_ganesh = {
    .name = "GaneshPE",
    .method = NULL,
    .params = ganesh_params,
    .flags = PE_F_MATERIALISE,
    .state_size = sizeof(ganesh_state),
    .infer = ganesh_infer,
    .need = ganesh_need,
    .init = ganesh_init,
    .process = ganesh_process,
    .fini = ganesh_fini,
};
