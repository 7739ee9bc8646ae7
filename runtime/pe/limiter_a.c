// limiter_a.c: LimiterAPE(src_pe, threshold_db=-10, headroom_db=3) and .limit_a(), after
// pygmu's limiter_a_pe.py, which builds
//   CompressorPE(src, EnvDetectPE(src.mono(), attack=0.9, release=0.0001),
//                threshold_db=T, ratio=1000, makeup_db=-T-H).
// One kernel does the same per frame: follow |sum of the channels| (MonoPE adds L and R
// without halving), then compress by 1000:1 above T and add -T-H dB, so peaks settle near
// -H dBFS. Stateful: the envelope, from 0 at the origin. Double precision.
#include <math.h>

#include "pe.h"

enum {
    P_SRC,
    P_THRESHOLD,
    P_HEADROOM
};

#define LA_RATIO_MIN 1.1754944e-38 // utils.RATIO_MIN
#define LA_ATTACK    0.9
#define LA_RELEASE   0.0001
#define LA_SLOPE     (1 / 1000.0) // 1/ratio

typedef struct la_state {
    double level; // the envelope after the last frame rendered
} la_state;

static const pe_param la_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "threshold_db", PE_T_NUM, 0, PE_NUM(-10) },
    { "headroom_db", PE_T_NUM, 0, PE_NUM(3) },
    PE_PARAMS_END,
};

static pg_status la_infer(pe_node *n, pe_check *ck) {
    double t = pe_num(n, P_THRESHOLD), h = pe_num(n, P_HEADROOM);
    n->out = n->in[pe_slot(n, P_SRC)];
    if (!(fabs(t) <= 400) || !(fabs(h) <= 400))
        return pe_fail(ck, PG_ERR_ARG,
                       "LimiterAPE threshold_db and headroom_db must be within +-400, got %g "
                       "and %g",
                       t, h);
    return PG_OK;
}

// QUIRK Q38: pygmu's MonoPE sums only two channels (3 or more come out concatenated); we
// sum them all.
static double mono_at(const pe_view *x, int64_t i) {
    double m = 0;
    for (int c = 0; c < x->channels; c++)
        m += (double)pe_vch(x, c)[i];
    return m;
}

// The compressor's gain for envelope s: CompressorPE's curve with ratio 1000.
static double gain_of(double s, double t, double makeup_db) {
    double x = 20 * log10(s > LA_RATIO_MIN ? s : LA_RATIO_MIN);
    double y = x > t ? LA_SLOPE * (x - t) + t : x;
    return pow(10, ((y - x) + makeup_db) / 20);
}

static pg_status la_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    la_state *st = pe->state;
    double t = pe_num(pe->node, P_THRESHOLD), h = pe_num(pe->node, P_HEADROOM);
    double s = st->level, makeup_db = -t - h;
    pe_view x;
    pg_status status = pe_pull(pe, pe_slot(pe->node, P_SRC), t0, n, &x);
    if (status != PG_OK)
        return status;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs(mono_at(&x, i)) - s;
        s += d > 0 ? d * LA_ATTACK : d * LA_RELEASE;
        double g = gain_of(s, t, makeup_db);
        for (int c = 0; c < out->channels; c++)
            pe_ch(out, c)[i] = (float)((double)pe_vch(&x, c)[i] * g);
    }
    st->level = s;
    return PG_OK;
}

const pe_kind pe_kind_limiter_a = {
    .name = "LimiterAPE",
    .method = "limit_a",
    .params = la_params,
    .flags = PE_F_STATEFUL,
    .state_size = sizeof(la_state),
    .infer = la_infer,
    .process = la_process,
    .save = pe_save_flat, // (the envelope)
    .load = pe_load_flat,
};
