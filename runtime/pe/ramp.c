// ramp.c: RampPE(start_v, end_v, extent, frame_rate=None), after pygmu's ramp_pe.py: a mono
// line from start_v at S to end_v at E (exclusive: the last frame inside is end_v - slope),
// start_v before S and end_v from E on. The extent is the given [S, E), which must be finite
// and non-empty; since nothing is rendered outside a node's extent, the clamped values only
// show inside it. Stateless: each value comes from its absolute frame, start_v + slope*(t-S).
#include "pe.h"

enum {
    P_START_V,
    P_END_V,
    P_EXTENT,
    P_FRAME_RATE
};

static const pe_param ramp_params[] = {
    { "start_v", PE_T_NUM, PE_P_REQUIRED, PE_NONE },
    { "end_v", PE_T_NUM, PE_P_REQUIRED, PE_NONE },
    { "extent", PE_T_EXTENT, PE_P_REQUIRED, PE_NONE },
    { "frame_rate", PE_T_INT, PE_P_NONE_OK | PE_P_GT0, PE_NONE },
    PE_PARAMS_END,
};

static pg_status ramp_infer(pe_node *n, pe_check *ck) {
    pg_extent e = n->args[P_EXTENT].u.ext;
    n->out.channels = 1;
    n->out.frame_rate = pe_rate_or_default(n, P_FRAME_RATE, ck);
    n->out.extent = e;
    if (!pg_extent_is_finite(e))
        return pe_fail(ck, PG_ERR_EXTENT, "RampPE extent must be finite");
    if (pg_extent_is_empty(e))
        return pe_fail(ck, PG_ERR_ARG, "RampPE extent must not be empty, got [%lld, %lld)",
                       (long long)e.start, (long long)e.end);
    return PG_OK;
}

// QUIRK Q44: pygmu returns the wrong number of frames for requests away from the ramp and
// builds the ramp with a per-request linspace; we always fill n frames, per frame.
static pg_status ramp_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const pe_node *nd = pe->node;
    double v0 = pe_num(nd, P_START_V), v1 = pe_num(nd, P_END_V);
    pg_extent e = nd->args[P_EXTENT].u.ext;
    double slope = (v1 - v0) / (double)(e.end - e.start); // pygmu's _dvdt
    float *o = pe_ch(out, 0);
    for (int64_t i = 0; i < n; i++) {
        pg_frame t = t0 + i;
        double v = t < e.start ? v0 : t >= e.end ? v1 : v0 + slope * (double)(t - e.start);
        o[i] = (float)v;
    }
    return PG_OK;
}

const pe_kind pe_kind_ramp = {
    .name = "RampPE",
    .method = NULL,
    .params = ramp_params,
    .flags = PE_F_GENERATOR,
    .infer = ramp_infer,
    .process = ramp_process,
};
