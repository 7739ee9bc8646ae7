// abs.c: AbsPE(src), after pygmu's abs_pe.py: |x| sample by sample, with src's extent,
// channels and rate. pygmu's .abs() helper is broken (QUIRK Q9), so the evaluator builds
// .abs() itself and this kind has no method. Stateless, pointwise.
#include <math.h>

#include "pe.h"

enum {
    P_SRC
};

static const pe_param abs_params[] = {
    { "src", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    PE_PARAMS_END,
};

static pg_status abs_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    pe_view v;
    pg_status st = pe_pull(pe, pe_slot(pe->node, P_SRC), t0, n, &v);
    if (st != PG_OK)
        return st;
    for (int c = 0; c < out->channels; c++) {
        const float *x = pe_vch(&v, c);
        float *o = pe_ch(out, c);
        for (int64_t i = 0; i < n; i++)
            o[i] = fabsf(x[i]);
    }
    return PG_OK;
}

const pe_kind pe_kind_abs = {
    .name = "AbsPE",
    .method = NULL,
    .params = abs_params,
    .flags = PE_F_POINTWISE,
    .infer = NULL, // src's shape passes through
    .process = abs_process,
};
