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

static double gain_of(const comp_curve *k, double env) {
    if (env < k->below)
        return k->makeup;
    double x = 20 * log10(env > COMP_RATIO_MIN ? env : COMP_RATIO_MIN);
    double y = x > k->threshold_db ? k->slope * (x - k->threshold_db) + k->threshold_db : x;
    return pow(10, ((y - x) + k->makeup_db) / 20);
}

static pg_status comp_infer(pe_node *n, pe_check *ck) {
    const pe_shape *src = &n->in[pe_slot(n, P_SRC)], *env = &n->in[pe_slot(n, P_ENV)];
    n->out = *src;
    if (!isfinite(pe_num(n, P_THRESHOLD)) || !isfinite(pe_num(n, P_RATIO)))
        return pe_fail(ck, PG_ERR_ARG, "CompressorPE threshold_db and ratio must be finite");
    if (env->channels != 1 && env->channels != src->channels)
        return pe_fail(ck, PG_ERR_CHANNELS,
                       "channel count mismatch: CompressorPE env_pe has %d channels, src_pe "
                       "has %d",
                       env->channels, src->channels);
    if (env->frame_rate != src->frame_rate)
        return pe_fail(ck, PG_ERR_RATE,
                       "frame rate mismatch: CompressorPE env_pe is %d Hz, src_pe is %d Hz",
                       env->frame_rate, src->frame_rate);
    return PG_OK;
}

static pg_status comp_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const pe_node *nd = pe->node;
    comp_curve k = curve_of(nd);
    pe_view x, e;
    pg_status s = pe_pull(pe, pe_slot(nd, P_SRC), t0, n, &x);
    if (s == PG_OK)
        s = pe_pull(pe, pe_slot(nd, P_ENV), t0, n, &e);
    if (s != PG_OK)
        return s;
    double *g = pe_scratch(pe, (size_t)n * sizeof *g);
    if (!g)
        return pe_error(pe, PG_ERR_NOMEM, "CompressorPE: out of scratch memory");
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

const pe_kind pe_kind_compressor = {
    .name = "CompressorPE",
    .params = comp_params,
    .infer = comp_infer,
    .process = comp_process,
};
