// compressor.c: CompressorPE(src_pe, env_pe, threshold_db=0.0, ratio=2.0, makeup_db=None),
// after pygmu's compressor_pe.py: env_pe is a linear envelope (1.0 = full scale, e.g. an
// EnvDetectPE); its level x dB maps to y = x below the threshold T and T + (x - T)/ratio
// above, and src is scaled by 10^((y - x + makeup_db)/20). A mono envelope scales every
// channel. Stateless (env_pe may be stateful); double precision throughout.
#include <math.h>

#include "pe.h"

enum {
    P_SRC,
    P_ENV,
    P_THRESHOLD,
    P_RATIO,
    P_MAKEUP
};

#define COMP_RATIO_MIN 1.1754944e-38 // utils.RATIO_MIN

static const pe_param comp_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },    { "env_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "threshold_db", PE_T_NUM, 0, PE_NUM(0.0) },     { "ratio", PE_T_NUM, PE_P_GT0, PE_NUM(2.0) },
    { "makeup_db", PE_T_NUM, PE_P_NONE_OK, PE_NONE }, PE_PARAMS_END,
};

typedef struct comp_curve {
    double threshold_db, slope, makeup_db; // slope = 1/ratio above the threshold
    double below, makeup; // envelopes under `below` are surely under the threshold: they
                          // get the make-up gain `makeup` without a logarithm
} comp_curve;

// QUIRK Q24 (kept): the docstring says makeup_db defaults to threshold_db, the code uses
// -threshold_db. We keep the code: it restores the level the threshold took away, where the
// docstring's value would cut every signal by |threshold_db| more.
static comp_curve curve_of(const pe_node *n) {
    comp_curve k;
    k.threshold_db = pe_num(n, P_THRESHOLD);
    k.slope = 1 / pe_num(n, P_RATIO);
    k.makeup_db = n->args[P_MAKEUP].type == PG_V_NONE ? -k.threshold_db : pe_num(n, P_MAKEUP);
    k.below = 0.999 * pow(10, k.threshold_db / 20);
    k.makeup = pow(10, k.makeup_db / 20);
    return k;
}

static double gain_of(const void *curve, double env) {
    const comp_curve *k = curve;
    if (env < k->below)
        return k->makeup;
    double x = 20 * log10(env > COMP_RATIO_MIN ? env : COMP_RATIO_MIN);
    double y = x > k->threshold_db ? k->slope * (x - k->threshold_db) + k->threshold_db : x;
    return pow(10, ((y - x) + k->makeup_db) / 20);
}

static pg_status comp_infer(pe_node *n, pe_check *ck) {
    n->out = n->in[pe_slot(n, P_SRC)];
    if (!isfinite(pe_num(n, P_THRESHOLD)) || !isfinite(pe_num(n, P_RATIO)))
        return pe_fail(ck, PG_ERR_ARG, "CompressorPE threshold_db and ratio must be finite");
    return pe_check_sidechain(n, ck, "CompressorPE", pe_slot(n, P_SRC), pe_slot(n, P_ENV));
}

static pg_status comp_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    comp_curve k = curve_of(pe->node);
    return pe_apply_gain_curve(pe, t0, n, out, pe_slot(pe->node, P_SRC), pe_slot(pe->node, P_ENV),
                               gain_of, &k);
}

const pe_kind pe_kind_compressor = {
    .name = "CompressorPE",
    .params = comp_params,
    .infer = comp_infer,
    .process = comp_process,
};
