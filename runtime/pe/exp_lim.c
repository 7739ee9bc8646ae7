// exp_lim.c: ExpanderLimiterPE(src_pe, target_amp=1.0, release_time=0.1, frame_rate=None)
// and .exp_lim(), after pygmu's exp_lim_pe.py: an automatic gain g that moves toward
// target_amp / max_c |x_c| (1.0 on silent frames) by the one-pole step
// g += (target - g)(1 - k), k = exp(-1/(release_time fs)), so quiet passages are raised and
// loud ones lowered. Stateful: g, from 1.0 at the origin, in double.
// QUIRK Q28: pygmu writes a block that starts before the source from column 0, shifting the
// audio earlier; ours is placed at its own frames.
#include <math.h>

#include "pe.h"

enum {
    P_SRC,
    P_TARGET,
    P_RELEASE,
    P_FRAME_RATE
};

typedef struct el_state {
    double gain;
    double k; // the release coefficient
} el_state;

static const pe_param el_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "target_amp", PE_T_NUM, PE_P_GE0, PE_NUM(1.0) },
    { "release_time", PE_T_NUM, PE_P_GT0, PE_NUM(0.1) },
    { "frame_rate", PE_T_INT, PE_P_NONE_OK, PE_NONE },
    PE_PARAMS_END,
};

static pg_status el_infer(pe_node *n, pe_check *ck) {
    n->out = n->in[pe_slot(n, P_SRC)];
    if (n->args[P_FRAME_RATE].type != PG_V_NONE) {
        int64_t fr = pe_int(n, P_FRAME_RATE);
        if (fr <= 0 || fr > 100000000)
            return pe_fail(ck, PG_ERR_ARG, "ExpanderLimiterPE frame_rate must be > 0, got %lld",
                           (long long)fr);
        n->out.frame_rate = (int)fr; // the keyword wins, as in pygmu
    }
    if (n->out.frame_rate <= 0)
        return pe_fail(ck, PG_ERR_RATE,
                       "ExpanderLimiterPE has no frame rate: its source has "
                       "none and frame_rate is None");
    if (!isfinite(pe_num(n, P_TARGET)) || !isfinite(pe_num(n, P_RELEASE)))
        return pe_fail(ck, PG_ERR_ARG,
                       "ExpanderLimiterPE target_amp and release_time must be "
                       "finite");
    return PG_OK;
}

static pg_status el_init(pe_inst *pe) {
    el_state *st = pe->state;
    st->gain = 1.0;
    st->k = exp(-1.0 / (pe_num(pe->node, P_RELEASE) * pe->node->out.frame_rate));
    return PG_OK;
}

static double peak_at(const pe_view *x, int64_t i) {
    double p = 0;
    for (int c = 0; c < x->channels; c++)
        p = fmax(p, fabs((double)pe_vch(x, c)[i]));
    return p;
}

static pg_status el_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    el_state *st = pe->state;
    double target_amp = pe_num(pe->node, P_TARGET), g = st->gain, step = 1 - st->k;
    pe_view x;
    pg_status s = pe_pull(pe, pe_slot(pe->node, P_SRC), t0, n, &x);
    if (s != PG_OK)
        return s;
    for (int64_t i = 0; i < n; i++) {
        double p = peak_at(&x, i);
        double target = p > 0 ? target_amp / p : 1.0;
        g += (target - g) * step;
        for (int c = 0; c < out->channels; c++)
            pe_ch(out, c)[i] = (float)((double)pe_vch(&x, c)[i] * g);
    }
    st->gain = g;
    return PG_OK;
}

const pe_kind pe_kind_exp_lim = {
    .name = "ExpanderLimiterPE",
    .method = "exp_lim",
    .params = el_params,
    .flags = PE_F_STATEFUL | PE_F_INIT_OWN, // (init reads its arguments only)
    .state_size = sizeof(el_state),
    .infer = el_infer,
    .init = el_init,
    .process = el_process,
    .save = pe_save_flat, // (the gain, and the release coefficient init derived)
    .load = pe_load_flat,
};
