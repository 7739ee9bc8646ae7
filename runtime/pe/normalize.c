// normalize.c: NormalizePE(src_pe, release_time=0.1, frame_rate=None) and .normalize()
// (release_time=0.6), after pygmu's normalize_pe.py (deleted in 6d6bb88, catalogue §8.3): an
// automatic gain that keeps the output peaks at 1.0. A peak follower e jumps up to each
// frame's peak p = max_c |x_c| and otherwise decays by r = exp(-1/(release_time fs)) per
// frame: e = max(e r, p); the output is x / e. Silent frames leave e alone. Stateful: e,
// from 1.0 at the origin (unit gain), in double.
// QUIRK Q9: pygmu's .normalize() names a class it no longer has. The class itself kept
// s = max(s r, 1/p) on the gain, so the gain leapt to 1/p at every near-zero sample and only
// ever decayed; we follow the peak instead, the automatic gain its docstring describes. Its
// frame_rate defaulted to 48000 whatever the source; ours defaults to the source's.
#include <math.h>

#include "pe.h"

enum {
    P_SRC,
    P_RELEASE,
    P_FRAME_RATE
};

typedef struct norm_state {
    double peak; // the peak follower e
    double r;    // its decay per frame
} norm_state;

static const pe_param norm_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "release_time", PE_T_NUM, PE_P_GT0, PE_NUM(0.1) },
    { "frame_rate", PE_T_INT, PE_P_NONE_OK, PE_NONE },
    PE_PARAMS_END,
};

static const pe_param norm_method_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "release_time", PE_T_NUM, PE_P_GT0, PE_NUM(0.6) },
    PE_PARAMS_END,
};

static pg_status norm_infer(pe_node *n, pe_check *ck) {
    n->out = n->in[pe_slot(n, P_SRC)];
    // The method kind has no frame_rate parameter.
    if (n->kind->params[P_FRAME_RATE].name && n->args[P_FRAME_RATE].type != PG_V_NONE) {
        int64_t fr = pe_int(n, P_FRAME_RATE);
        if (fr <= 0 || fr > 100000000)
            return pe_fail(ck, PG_ERR_ARG, "NormalizePE frame_rate must be > 0, got %lld",
                           (long long)fr);
        n->out.frame_rate = (int)fr;
    }
    if (n->out.frame_rate <= 0)
        return pe_fail(ck, PG_ERR_RATE,
                       "NormalizePE has no frame rate: its source has none and frame_rate is "
                       "None");
    if (!isfinite(pe_num(n, P_RELEASE)))
        return pe_fail(ck, PG_ERR_ARG, "NormalizePE release_time must be finite");
    return PG_OK;
}

static pg_status norm_init(pe_inst *pe) {
    norm_state *st = pe->state;
    st->peak = 1.0;
    st->r = exp(-1.0 / (pe_num(pe->node, P_RELEASE) * pe->node->out.frame_rate));
    return PG_OK;
}

static pg_status norm_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    norm_state *st = pe->state;
    double e = st->peak, r = st->r;
    pe_view x;
    pg_status s = pe_pull(pe, pe_slot(pe->node, P_SRC), t0, n, &x);
    if (s != PG_OK)
        return s;
    for (int64_t i = 0; i < n; i++) {
        double p = 0;
        for (int c = 0; c < x.channels; c++)
            p = fmax(p, fabs((double)pe_vch(&x, c)[i]));
        if (p > 0)
            e = fmax(e * r, p);
        for (int c = 0; c < out->channels; c++)
            pe_ch(out, c)[i] = (float)((double)pe_vch(&x, c)[i] / e);
    }
    st->peak = e;
    return PG_OK;
}

const pe_kind pe_kind_normalize = {
    .name = "NormalizePE",
    .params = norm_params,
    .flags = PE_F_STATEFUL,
    .state_size = sizeof(norm_state),
    .infer = norm_infer,
    .init = norm_init,
    .process = norm_process,
};

// The method's own default release_time (pyg_pe.py); '_' keeps it out of the constructors.
const pe_kind pe_kind_normalize_method = {
    .name = "_normalize",
    .method = "normalize",
    .params = norm_method_params,
    .flags = PE_F_STATEFUL,
    .state_size = sizeof(norm_state),
    .infer = norm_infer,
    .init = norm_init,
    .process = norm_process,
};
