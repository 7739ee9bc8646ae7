// impulse.c: ImpulsePE(frame_rate=None), after pygmu's impulse_pe.py: 1.0 at frame 0 and 0
// everywhere else, mono. Like pygmu it reports an indefinite extent although the signal lives
// in [0, 1): pieces rely on that in their extent arithmetic (e.g. GainPE, MulPE
// intersections), so we keep it. Stateless.
#include <string.h>

#include "pe.h"

enum {
    P_FRAME_RATE
};

static const pe_param impulse_params[] = {
    { "frame_rate", PE_T_INT, PE_P_NONE_OK | PE_P_GT0, PE_NONE },
    PE_PARAMS_END,
};

static pg_status impulse_infer(pe_node *n, pe_check *ck) {
    n->out.channels = 1;
    n->out.frame_rate = pe_rate_or_default(n, P_FRAME_RATE, ck);
    n->out.extent = (pg_extent){ PG_FRAME_MIN, PG_FRAME_MAX };
    return PG_OK;
}

static pg_status impulse_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    (void)pe;
    float *o = pe_ch(out, 0);
    memset(o, 0, sizeof(float) * (size_t)n);
    if (t0 <= 0 && 0 < t0 + n)
        o[-t0] = 1.0f;
    return PG_OK;
}

const pe_kind pe_kind_impulse = {
    .name = "ImpulsePE",
    .method = NULL,
    .params = impulse_params,
    .flags = PE_F_GENERATOR | PE_F_CHEAP,
    .infer = impulse_infer,
    .process = impulse_process,
};
