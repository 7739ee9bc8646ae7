// crop.c: CropPE(src_pe, extent), after pygmu's crop_pe.py. The output is the source inside
// extent ∩ E(src) and nothing outside it. The executor never runs a node outside its extent,
// so process only copies the pulled input; the evaluator builds the faded .crop() itself
// (CropPE then SplicePE), so this kind has no chaining method.
#include <string.h>

#include "pe.h"

enum {
    P_SRC,
    P_EXTENT
};

static const pe_param crop_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "extent", PE_T_EXTENT, PE_P_REQUIRED, PE_NONE },
    PE_PARAMS_END,
};

// The extent is crop ∩ E(src); disjoint ones give pygmu's Extent(0, 0).
static pg_status crop_infer(pe_node *n, pe_check *ck) {
    (void)ck;
    const pe_shape *src = &n->in[pe_slot(n, P_SRC)];
    n->out = *src;
    n->out.extent = pg_extent_intersect(n->args[P_EXTENT].u.ext, src->extent);
    return PG_OK;
}

static pg_status crop_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    pe_view v;
    pg_status st = pe_pull(pe, pe_slot(pe->node, P_SRC), t0, n, &v);
    if (st != PG_OK)
        return st;
    for (int c = 0; c < out->channels; c++)
        memcpy(pe_ch(out, c), pe_vch(&v, c), sizeof(float) * (size_t)n);
    return PG_OK;
}

// Fusion: inside its extent a crop is the identity.
static double crop_linear(const pe_node *n, int slot, int out_ch, int in_ch) {
    (void)n;
    (void)slot;
    return in_ch == out_ch;
}

const pe_kind pe_kind_crop = {
    .name = "CropPE",
    .method = NULL,
    .params = crop_params,
    .flags = PE_F_POINTWISE | PE_F_LINEAR,
    .infer = crop_infer,
    .linear = crop_linear,
    .process = crop_process,
};
