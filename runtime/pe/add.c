// add.c: AddPE(src_pe, src_pe2), after pygmu's add_pe.py; the .add() method. The sum of two
// signals in float32 (typically control signals: a vibrato frequency
// SinPE(6).gain(20).add(ConstPE(180))). Channels as MixPE: the larger count, mono fitted,
// any other mismatch an error (pygmu reports the first input's count whatever numpy
// broadcasts to); frame rates must agree. An input whose extent misses the window is not
// pulled. Stateless, pointwise and linear (fusable).
#include <string.h>

#include "pe.h"

enum {
    P_SRC,
    P_SRC2
};

static const pe_param add_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "src_pe2", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    PE_PARAMS_END,
};

// QUIRK Q1: the extent is the union of the non-empty extents (pygmu counts an empty one).
static pg_status add_infer(pe_node *n, pe_check *ck) {
    n->out.extent =
        pg_extent_union(n->in[pe_slot(n, P_SRC)].extent, n->in[pe_slot(n, P_SRC2)].extent);
    return pe_fit_inputs(n, ck, "AddPE");
}

// out = 0 + x1 + x2 in float32, skipping an input outside the window.
static pg_status add_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    pg_extent win = { t0, t0 + n };
    for (int c = 0; c < out->channels; c++)
        memset(pe_ch(out, c), 0, sizeof(float) * (size_t)n);
    for (int p = P_SRC; p <= P_SRC2; p++) {
        int slot = pe_slot(pe->node, p);
        if (!pg_extent_overlaps(pe_in_shape(pe, slot)->extent, win))
            continue;
        pe_view v;
        pg_status st = pe_pull(pe, slot, t0, n, &v);
        if (st != PG_OK)
            return st;
        for (int c = 0; c < out->channels; c++) {
            const float *x = pe_vch(&v, c);
            float *o = pe_ch(out, c);
            for (int64_t i = 0; i < n; i++)
                o[i] += x[i];
        }
    }
    return PG_OK;
}

// Fusion: each input adds into the output; a mono input into every channel.
static double add_linear(const pe_node *n, int slot, int out_ch, int in_ch) {
    return n->in[slot].channels == 1 ? (in_ch == 0) : (in_ch == out_ch);
}

const pe_kind pe_kind_add = {
    .name = "AddPE",
    .method = "add",
    .params = add_params,
    .flags = PE_F_POINTWISE | PE_F_LINEAR,
    .infer = add_infer,
    .linear = add_linear,
    .process = add_process,
};
