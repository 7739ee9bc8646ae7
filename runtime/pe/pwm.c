// pwm.c: PwmPE(period, duty_cycle, frame_rate=None), after pygmu's pwm_pe.py: a mono,
// indefinite rectangular wave, out(t) = 1 when (t mod P) < duty P, else 0, with t the
// absolute frame, P in frames (fractional periods work) and floor-mod. Each of period and
// duty_cycle is a number or a mono PE read at the same frame: stateless and pointwise.
// Thresholds follow pygmu's numpy dtypes so that edges fall on the same frames.
#include <math.h>

#include "pe.h"

enum {
    P_PERIOD,
    P_DUTY,
    P_FRAME_RATE
};

static const pe_param pwm_params[] = {
    { "period", PE_T_NUM_OR_PE, PE_P_REQUIRED | PE_P_GT0, PE_NONE },
    { "duty_cycle", PE_T_NUM_OR_PE, PE_P_REQUIRED, PE_NONE },
    { "frame_rate", PE_T_INT, PE_P_NONE_OK | PE_P_GT0, PE_NONE },
    PE_PARAMS_END,
};

static const char *const pwm_names[] = { "period", "duty_cycle" };

// A PE argument must be mono and at the PE's rate; a number must be finite.
static pg_status pwm_check_arg(pe_node *n, int k, pe_check *ck) {
    int slot = pe_slot(n, k);
    if (slot < 0)
        return isfinite(pe_num(n, k)) ? PG_OK
                                      : pe_fail(ck, PG_ERR_ARG, "PwmPE %s must be finite, got %g",
                                                pwm_names[k], pe_num(n, k));
    const pe_shape *in = &n->in[slot];
    if (in->channels != 1)
        return pe_fail(ck, PG_ERR_CHANNELS,
                       "channel count mismatch: PwmPE %s has %d channels, expected 1", pwm_names[k],
                       in->channels);
    if (in->frame_rate != n->out.frame_rate)
        return pe_fail(ck, PG_ERR_RATE, "frame rate mismatch: PwmPE %s is %d Hz, PwmPE is %d Hz",
                       pwm_names[k], in->frame_rate, n->out.frame_rate);
    return PG_OK;
}

// The rate is frame_rate when given, else that of a PE argument, else the piece's.
static pg_status pwm_infer(pe_node *n, pe_check *ck) {
    n->out.channels = 1;
    n->out.extent = (pg_extent){ PG_FRAME_MIN, PG_FRAME_MAX };
    n->out.frame_rate = pe_rate_or_default(n, P_FRAME_RATE, ck);
    if (n->args[P_FRAME_RATE].type == PG_V_NONE)
        for (int k = P_DUTY; k >= P_PERIOD; k--)
            if (pe_slot(n, k) >= 0)
                n->out.frame_rate = n->in[pe_slot(n, k)].frame_rate;
    if (n->n_inputs > 0)
        n->flags &= ~(unsigned)PE_F_GENERATOR;
    pg_status st = pwm_check_arg(n, P_PERIOD, ck);
    return st != PG_OK ? st : pwm_check_arg(n, P_DUTY, ck);
}

// Floor-mod on doubles, as numpy's remainder: the result has the sign of p.
static double pwm_mod(double t, double p) {
    double r = fmod(t, p);
    return r != 0.0 && (r < 0.0) != (p < 0.0) ? r + p : r;
}

// pygmu's dtypes: a PE gives float32 values; a period PE is clamped to >= 1 (QUIRK Q43:
// pygmu clamps the period source's own buffer in place; we clamp a copy). duty * period is
// float32 when either is a PE (numpy's float32 array times a Python float stays float32),
// double when both are numbers.
static pg_status pwm_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const pe_node *nd = pe->node;
    int ps = pe_slot(nd, P_PERIOD), ds = pe_slot(nd, P_DUTY);
    pe_view pv = { 0 }, dv = { 0 };
    pg_status st = PG_OK;
    if (ps >= 0)
        st = pe_pull(pe, ps, t0, n, &pv);
    if (st == PG_OK && ds >= 0)
        st = pe_pull(pe, ds, t0, n, &dv);
    if (st != PG_OK)
        return st;
    double pn = ps >= 0 ? 0.0 : pe_num(nd, P_PERIOD), dn = ds >= 0 ? 0.0 : pe_num(nd, P_DUTY);
    float *o = pe_ch(out, 0);
    for (int64_t i = 0; i < n; i++) {
        float pf = ps >= 0 ? pv.data[i] : (float)pn;
        if (ps >= 0 && pf < 1.0f)
            pf = 1.0f;
        float df = ds >= 0 ? dv.data[i] : (float)dn;
        double p = ps >= 0 ? (double)pf : pn;
        double thresh = ps >= 0 || ds >= 0 ? (double)(float)((double)df * (double)pf) : dn * pn;
        o[i] = pwm_mod((double)(t0 + i), p) < thresh ? 1.0f : 0.0f;
    }
    return PG_OK;
}

const pe_kind pe_kind_pwm = {
    .name = "PwmPE",
    .method = NULL,
    .params = pwm_params,
    .flags = PE_F_GENERATOR | PE_F_POINTWISE,
    .infer = pwm_infer,
    .process = pwm_process,
};
