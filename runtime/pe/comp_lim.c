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
static double gain_of(const void *curve, double env) {
    const cl_curve *k = curve;
    double x = 20 * log10(env > CL_RATIO_MIN ? env : CL_RATIO_MIN);
    double y = k->m * (x - k->x0) + k->y0;
    if (x > k->x1)
        y = k->x1;
    if (x < k->x0)
        y = CL_SQUELCH_SLOPE * (x - k->x0) + k->y0;
    return pow(10, (y - x) / 20);
}

static pg_status cl_infer(pe_node *n, pe_check *ck) {
    double x0 = pe_num(n, P_SQUELCH), x1 = pe_num(n, P_LIMIT);
    n->out = n->in[pe_slot(n, P_SRC)];
    if (!isfinite(x0) || !isfinite(x1) || !(x0 <= x1))
        return pe_fail(ck, PG_ERR_ARG,
                       "CompLimPE squelch_db must be <= limit_db, got squelch_db %g and "
                       "limit_db %g",
                       x0, x1);
    return pe_check_sidechain(n, ck, "CompLimPE", pe_slot(n, P_SRC), pe_slot(n, P_ENV));
}

static pg_status cl_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    cl_curve k = curve_of(pe->node);
    return pe_apply_gain_curve(pe, t0, n, out, pe_slot(pe->node, P_SRC), pe_slot(pe->node, P_ENV),
                               gain_of, &k);
}

const pe_kind pe_kind_comp_lim = {
    .name = "CompLimPE",
    .params = cl_params,
    .infer = cl_infer,
    .process = cl_process,
};
