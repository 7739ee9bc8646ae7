// env_detect.c: EnvDetectPE(src_pe, attack=0.9, release=0.1, units=None), after pygmu's
// env_detect_pe.py: a one-pole attack/release follower of max_c |x_c|, where attack and
// release are per-frame smoothing coefficients in [0, 1] (not times). Every output channel
// carries the same envelope; units='db' gives 20 log10(max(env, RATIO_MIN)). Stateful: one
// double, from 0 at the origin, which a master chain's checkpoints save (resume.c).
#include <math.h>
#include <stdbool.h>
#include <strings.h>

#include "pe.h"

enum {
    P_SRC,
    P_ATTACK,
    P_RELEASE,
    P_UNITS
};

#define ENV_RATIO_MIN 1.1754944e-38 // utils.RATIO_MIN: 0 becomes -758.6 dB

typedef struct env_state {
    double level; // the envelope after the last frame rendered
} env_state;

static const pe_param env_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "attack", PE_T_NUM, PE_P_GE0, PE_NUM(0.9) },
    { "release", PE_T_NUM, PE_P_GE0, PE_NUM(0.1) },
    { "units", PE_T_STR, PE_P_NONE_OK, PE_NONE },
    PE_PARAMS_END,
};

static bool is_db(const pe_node *n) {
    return n->args[P_UNITS].type == PG_V_STR;
}

static pg_status env_infer(pe_node *n, pe_check *ck) {
    double attack = pe_num(n, P_ATTACK), release = pe_num(n, P_RELEASE);
    n->out = n->in[pe_slot(n, P_SRC)];
    if (!(attack >= 0 && attack <= 1))
        return pe_fail(ck, PG_ERR_ARG, "EnvDetectPE attack must be within [0, 1], got %g", attack);
    if (!(release >= 0 && release <= 1))
        return pe_fail(ck, PG_ERR_ARG, "EnvDetectPE release must be within [0, 1], got %g",
                       release);
    // pygmu silently treats any units but 'db' as linear; we accept 'db' in any case and
    // reject the rest.
    if (is_db(n) && strcasecmp(n->args[P_UNITS].u.str, "db") != 0)
        return pe_fail(ck, PG_ERR_ARG, "EnvDetectPE units must be None or 'db', got '%s'",
                       n->args[P_UNITS].u.str);
    return PG_OK;
}

// The loudest channel's magnitude at frame i.
static double peak_at(const pe_view *x, int channels, int64_t i) {
    double p = fabs((double)pe_vch(x, 0)[i]);
    for (int c = 1; c < channels; c++)
        p = fmax(p, fabs((double)pe_vch(x, c)[i]));
    return p;
}

static pg_status env_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    env_state *st = pe->state;
    const pe_node *nd = pe->node;
    double attack = pe_num(nd, P_ATTACK), release = pe_num(nd, P_RELEASE), s = st->level;
    bool db = is_db(nd);
    pe_view x;
    pg_status status = pe_pull(pe, pe_slot(nd, P_SRC), t0, n, &x);
    if (status != PG_OK)
        return status;
    float *o0 = pe_ch(out, 0);
    for (int64_t i = 0; i < n; i++) {
        // pygmu adds one delta, max_c(|x_c| - s), to every channel's (equal) state.
        double d = peak_at(&x, x.channels, i) - s;
        s += d > 0 ? d * attack : d * release;
        o0[i] = (float)(db ? 20 * log10(s > ENV_RATIO_MIN ? s : ENV_RATIO_MIN) : s);
    }
    for (int c = 1; c < out->channels; c++) {
        float *oc = pe_ch(out, c);
        for (int64_t i = 0; i < n; i++)
            oc[i] = o0[i];
    }
    st->level = s;
    return PG_OK;
}

const pe_kind pe_kind_env_detect = {
    .name = "EnvDetectPE",
    .params = env_params,
    .flags = PE_F_STATEFUL,
    .state_size = sizeof(env_state),
    .infer = env_infer,
    .process = env_process,
    .save = pe_save_flat, // (the envelope)
    .load = pe_load_flat,
};
