// stereo.c: StereoPE(src_pe), after pygmu's stereo_pe.py; the .stereo() method. A mono
// source is copied to both channels; a stereo one passes through. Extent and rate are src's.
// Stateless, pointwise.
// QUIRK Q52: pygmu passes 3+ channels through while reporting 2; ours rejects them.
#include <string.h>

#include "pe.h"

enum {
    P_SRC
};

static const pe_param stereo_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    PE_PARAMS_END,
};

static pg_status stereo_infer(pe_node *n, pe_check *ck) {
    const pe_shape *src = &n->in[pe_slot(n, P_SRC)];
    n->out = *src;
    n->out.channels = 2;
    if (src->channels > 2)
        return pe_fail(ck, PG_ERR_CHANNELS,
                       "channel count mismatch: StereoPE src_pe has %d channels, expected 1 or 2",
                       src->channels);
    return PG_OK;
}

static pg_status stereo_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    pe_view v;
    pg_status st = pe_pull(pe, pe_slot(pe->node, P_SRC), t0, n, &v);
    if (st != PG_OK)
        return st;
    for (int c = 0; c < 2; c++)
        memcpy(pe_ch(out, c), pe_vch(&v, c), sizeof(float) * (size_t)n);
    return PG_OK;
}

// Fusion: a mono source into both channels, a stereo one channel to channel.
static double stereo_linear(const pe_node *n, int slot, int out_ch, int in_ch) {
    return n->in[slot].channels == 1 ? (in_ch == 0) : (in_ch == out_ch);
}

const pe_kind pe_kind_stereo = {
    .name = "StereoPE",
    .method = "stereo",
    .params = stereo_params,
    .flags = PE_F_POINTWISE | PE_F_LINEAR,
    .infer = stereo_infer,
    .linear = stereo_linear,
    .process = stereo_process,
};
