// const.c: ConstPE(value, frame_rate=None), after pygmu's const_pe.py: a mono, indefinite
// signal equal to value at every frame (pygmu stores it as float32, so do we). Stateless;
// pointwise in the sense of design.md's fusion list (a leaf with no inputs).
#include "pe.h"

enum {
    P_VALUE,
    P_FRAME_RATE
};

static const pe_param const_params[] = {
    { "value", PE_T_NUM, PE_P_REQUIRED, PE_NONE },
    { "frame_rate", PE_T_INT, PE_P_NONE_OK | PE_P_GT0, PE_NONE },
    PE_PARAMS_END,
};

static pg_status const_infer(pe_node *n, pe_check *ck) {
    n->out.channels = 1;
    n->out.frame_rate = pe_rate_or_default(n, P_FRAME_RATE, ck);
    n->out.extent = (pg_extent){ PG_FRAME_MIN, PG_FRAME_MAX };
    return PG_OK;
}

static pg_status const_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    (void)t0;
    float v = (float)pe_num(pe->node, P_VALUE);
    float *o = pe_ch(out, 0);
    for (int64_t i = 0; i < n; i++)
        o[i] = v;
    return PG_OK;
}

const pe_kind pe_kind_const = {
    .name = "ConstPE",
    .method = NULL,
    .params = const_params,
    .flags = PE_F_GENERATOR | PE_F_POINTWISE | PE_F_CHEAP,
    .infer = const_infer,
    .process = const_process,
};
