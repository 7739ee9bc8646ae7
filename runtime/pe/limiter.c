// limiter.c: LimiterPE(src_pe, headroom_db=2), after pygmu's limiter_pe.py: a hard limiter
// with no knee and no recovery. The gain is min(1, L / M) with M the largest |sample| seen so
// far (over every channel) and L = 10^(-headroom_db/20), so no output sample exceeds L.
// Stateful: M, from 0 at the origin.
// QUIRK Q35: pygmu's LimiterPE takes the signed maximum of each whole block, scales by
// (M - 0.3)/M (x0.032 for M = 0.31, x0.7 for M = 1) and ignores headroom_db, so its gain
// depends on the block size. We keep its idea (hold the largest peak, never recover) with a
// per-frame peak, |x| and the gain that puts that peak at the headroom.
#include <math.h>

#include "pe.h"

enum {
    P_SRC,
    P_HEADROOM
};

typedef struct lim_state {
    double peak; // the largest |sample| so far
} lim_state;

static const pe_param lim_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "headroom_db", PE_T_NUM, PE_P_GE0, PE_NUM(2) },
    PE_PARAMS_END,
};

static pg_status lim_infer(pe_node *n, pe_check *ck) {
    double h = pe_num(n, P_HEADROOM);
    n->out = n->in[pe_slot(n, P_SRC)];
    if (!(h >= 0 && h <= 400))
        return pe_fail(ck, PG_ERR_ARG, "LimiterPE headroom_db must be within [0, 400], got %g", h);
    return PG_OK;
}

static pg_status lim_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    lim_state *st = pe->state;
    double limit = pow(10, -pe_num(pe->node, P_HEADROOM) / 20), peak = st->peak;
    pe_view x;
    pg_status s = pe_pull(pe, pe_slot(pe->node, P_SRC), t0, n, &x);
    if (s != PG_OK)
        return s;
    double g = peak > limit ? limit / peak : 1;
    for (int64_t i = 0; i < n; i++) {
        for (int c = 0; c < x.channels; c++) {
            double a = fabs((double)pe_vch(&x, c)[i]);
            if (a > peak) {
                peak = a;
                g = peak > limit ? limit / peak : 1;
            }
        }
        for (int c = 0; c < out->channels; c++)
            pe_ch(out, c)[i] = (float)((double)pe_vch(&x, c)[i] * g);
    }
    st->peak = peak;
    return PG_OK;
}

const pe_kind pe_kind_limiter = {
    .name = "LimiterPE",
    .params = lim_params,
    .flags = PE_F_STATEFUL,
    .state_size = sizeof(lim_state),
    .infer = lim_infer,
    .process = lim_process,
    .save = pe_save_flat, // (the largest |sample| so far)
    .load = pe_load_flat,
};
