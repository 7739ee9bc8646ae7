// mono.c: MonoPE(src_pe, attenuation=1.0), after pygmu's mono_pe.py; the .mono() method.
// out = (x0 + x1 + ... in float32, channel order) * (float)attenuation: a sum, not a mean,
// as pygmu computes (X[0] + X[1]) * attenuation for stereo. Extent and rate are src's.
// Stateless, pointwise.
// QUIRK Q38: pygmu passes a mono source through unattenuated and concatenates 3+ channels
// into one long row; ours attenuates mono too and sums any number of channels.
#include "pe.h"

enum {
    P_SRC,
    P_ATTENUATION
};

static const pe_param mono_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "attenuation", PE_T_NUM, 0, PE_NUM(1.0) },
    PE_PARAMS_END,
};

static pg_status mono_infer(pe_node *n, pe_check *ck) {
    (void)ck;
    n->out = n->in[pe_slot(n, P_SRC)];
    n->out.channels = 1;
    return PG_OK;
}

static pg_status mono_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    pe_view v;
    pg_status st = pe_pull(pe, pe_slot(pe->node, P_SRC), t0, n, &v);
    if (st != PG_OK)
        return st;
    float att = (float)pe_num(pe->node, P_ATTENUATION);
    float *o = pe_ch(out, 0);
    for (int64_t i = 0; i < n; i++) {
        float sum = pe_vch(&v, 0)[i];
        for (int c = 1; c < v.channels; c++)
            sum += pe_vch(&v, c)[i];
        o[i] = sum * att;
    }
    return PG_OK;
}

// Fusion: every source channel times the attenuation.
static double mono_linear(const pe_node *n, int slot, int out_ch, int in_ch) {
    (void)slot;
    (void)out_ch;
    (void)in_ch;
    return pe_num(n, P_ATTENUATION);
}

const pe_kind pe_kind_mono = {
    .name = "MonoPE",
    .method = "mono",
    .params = mono_params,
    .flags = PE_F_POINTWISE | PE_F_LINEAR,
    .infer = mono_infer,
    .linear = mono_linear,
    .process = mono_process,
};
