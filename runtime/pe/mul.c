// mul.c: MulPE(*pes), after pygmu's mul_pe.py: the product of its inputs, frame by frame, in
// float32 and input order (1 * x1 * x2 * ...), e.g. a tremolo. Channels as MixPE: the most
// of any input, mono fitted, any other mismatch an error; frame rates must agree. The
// evaluator builds the .mul() method itself. Stateless, pointwise.
#include <string.h>

#include "pe.h"

static const pe_param mul_params[] = {
    { "pes", PE_T_PES, 0, PE_NONE },
    PE_PARAMS_END,
};

// QUIRK Q39: pygmu's extent is the union of the inputs'; a product is zero wherever a
// factor is, so ours is the intersection (and every input covers every window we render).
// QUIRK Q37: MulPE() has an empty extent, 1 channel and the default rate (pygmu crashes).
static pg_status mul_infer(pe_node *n, pe_check *ck) {
    n->out.extent = (pg_extent){ 0, 0 };
    for (int i = 0; i < n->n_inputs; i++)
        n->out.extent =
            i == 0 ? n->in[i].extent : pg_extent_intersect(n->out.extent, n->in[i].extent);
    return pe_fit_inputs(n, ck, "MulPE");
}

static pg_status mul_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    for (int c = 0; c < out->channels; c++) {
        float *o = pe_ch(out, c);
        for (int64_t i = 0; i < n; i++)
            o[i] = 1.0f;
    }
    for (int k = 0; k < pe->node->n_inputs; k++) {
        pe_view v;
        pg_status st = pe_pull(pe, k, t0, n, &v);
        if (st != PG_OK)
            return st;
        for (int c = 0; c < out->channels; c++) {
            const float *x = pe_vch(&v, c);
            float *o = pe_ch(out, c);
            for (int64_t i = 0; i < n; i++)
                o[i] *= x[i];
        }
    }
    return PG_OK;
}

const pe_kind pe_kind_mul = {
    .name = "MulPE",
    .method = NULL,
    .params = mul_params,
    .flags = PE_F_VARIADIC | PE_F_POINTWISE,
    .infer = mul_infer,
    .process = mul_process,
};
