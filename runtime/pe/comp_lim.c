// comp_lim.c: CompLimPE(src_pe, env_pe, ratio=2.0, limit_db=0.0, squelch_db=-50.0), after
// pygmu's comp_lim_pe.py: a static curve on the envelope level x dB: slope 1/ratio between
// squelch_db (x0) and limit_db (x1), a hard limit at x1 above, and a fall of 10 dB per dB
// below x0; src is scaled by 10^((y - x)/20). A mono envelope scales every channel.
// Stateless; double precision (pygmu's float32 misses its own test by 3e-5 dB).
#include <math.h>

#include "pe.h"

enum {
    P_SRC,
    P_ENV,
    P_RATIO,
    P_LIMIT,
    P_SQUELCH
};

#define CL_RATIO_MIN     1.1754944e-38 // utils.RATIO_MIN
#define CL_SQUELCH_SLOPE 10.0          // CompLimPE.SQUELCH_SLOPE

static const pe_param cl_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE }, { "env_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "ratio", PE_T_NUM, PE_P_GT0, PE_NUM(2.0) },  { "limit_db", PE_T_NUM, 0, PE_NUM(0.0) },
    { "squelch_db", PE_T_NUM, 0, PE_NUM(-50.0) },  PE_PARAMS_END,
};

typedef struct cl_curve {
    double m, x0, x1, y0; // slope, squelch and limit levels, output level at the squelch
} cl_curve;

static cl_curve curve_of(const pe_node *n) {
    cl_curve k;
    k.m = 1 / pe_num(n, P_RATIO);
    k.x1 = pe_num(n, P_LIMIT);
    k.x0 = pe_num(n, P_SQUELCH);
    k.y0 = k.m * (k.x0 - k.x1) + k.x1; // the line through (x1, x1) with slope m
    return k;
}

// pygmu's order: the compression line, then the limit, then the squelch overrides.
static double gain_of(const cl_curve *k, double env) {
    double x = 20 * log10(env > CL_RATIO_MIN ? env : CL_RATIO_MIN);
    double y = k->m * (x - k->x0) + k->y0;
    if (x > k->x1)
        y = k->x1;
    if (x < k->x0)
        y = CL_SQUELCH_SLOPE * (x - k->x0) + k->y0;
    return pow(10, (y - x) / 20);
}

static pg_status cl_infer(pe_node *n, pe_check *ck) {
    const pe_shape *src = &n->in[pe_slot(n, P_SRC)], *env = &n->in[pe_slot(n, P_ENV)];
    double x0 = pe_num(n, P_SQUELCH), x1 = pe_num(n, P_LIMIT);
    n->out = *src;
    if (!isfinite(x0) || !isfinite(x1) || !(x0 <= x1))
        return pe_fail(ck, PG_ERR_ARG,
                       "CompLimPE squelch_db must be <= limit_db, got squelch_db %g and "
                       "limit_db %g",
                       x0, x1);
    if (env->channels != 1 && env->channels != src->channels)
        return pe_fail(ck, PG_ERR_CHANNELS,
                       "channel count mismatch: CompLimPE env_pe has %d channels, src_pe has %d",
                       env->channels, src->channels);
    if (env->frame_rate != src->frame_rate)
        return pe_fail(ck, PG_ERR_RATE,
                       "frame rate mismatch: CompLimPE env_pe is %d Hz, src_pe is %d Hz",
                       env->frame_rate, src->frame_rate);
    return PG_OK;
}

static pg_status cl_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const pe_node *nd = pe->node;
    cl_curve k = curve_of(nd);
    pe_view x, e;
    pg_status s = pe_pull(pe, pe_slot(nd, P_SRC), t0, n, &x);
    if (s == PG_OK)
        s = pe_pull(pe, pe_slot(nd, P_ENV), t0, n, &e);
    if (s != PG_OK)
        return s;
    double *g = pe_scratch(pe, (size_t)n * sizeof *g);
    if (!g)
        return pe_error(pe, PG_ERR_NOMEM, "CompLimPE: out of scratch memory");
    for (int c = 0; c < out->channels; c++) {
        const float *xc = pe_vch(&x, c), *ec = pe_vch(&e, c);
        float *o = pe_ch(out, c);
        if (c == 0 || e.channels > 1) // a mono envelope's gains serve every channel
            for (int64_t i = 0; i < n; i++)
                g[i] = gain_of(&k, (double)ec[i]);
        for (int64_t i = 0; i < n; i++)
            o[i] = (float)((double)xc[i] * g[i]);
    }
    return PG_OK;
}

const pe_kind pe_kind_comp_lim = {
    .name = "CompLimPE",
    .params = cl_params,
    .infer = cl_infer,
    .process = cl_process,
};
