// identity.c: IdentityPE(frame_rate=None), after pygmu's identity_pe.py: out(t) = t, a mono,
// indefinite time base (e.g. for TimewarpPE). pygmu returns int64 frames; we store float32,
// which holds every integer exactly only up to 2^24 = 16,777,216 (5.8 minutes at 48 kHz):
// beyond that t is rounded to the nearest float (even spacing 2, 4, ... frames).
#include "pe.h"

enum {
    P_FRAME_RATE
};

static const pe_param identity_params[] = {
    { "frame_rate", PE_T_INT, PE_P_NONE_OK | PE_P_GT0, PE_NONE },
    PE_PARAMS_END,
};

static pg_status identity_infer(pe_node *n, pe_check *ck) {
    n->out.channels = 1;
    n->out.frame_rate = pe_rate_or_default(n, P_FRAME_RATE, ck);
    n->out.extent = (pg_extent){ PG_FRAME_MIN, PG_FRAME_MAX };
    return PG_OK;
}

static pg_status identity_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    (void)pe;
    float *o = pe_ch(out, 0);
    for (int64_t i = 0; i < n; i++)
        o[i] = (float)(t0 + i); // rounds to nearest above 2^24 (see the header)
    return PG_OK;
}

const pe_kind pe_kind_identity = {
    .name = "IdentityPE",
    .method = NULL,
    .params = identity_params,
    .flags = PE_F_GENERATOR | PE_F_CHEAP,
    .infer = identity_infer,
    .process = identity_process,
};
