// mix.c: MixPE(*pes), after pygmu's mix_pe.py: the sum of its inputs, frame by frame, in
// float32 and input order (0 + x1 + x2 + ...). Channels: the most of any input; a mono input
// is added to every channel, any other mismatch is an error (pygmu broadcasts, or fails at
// render when a later input has more channels than the first). Frame rates must agree.
// Each input is pulled and added over the frames of its extent only: work follows what
// sounds. The naive plan (-O0, no sparse scheduling) reads every input over the whole block,
// as pygmu's MixPE does: an input's silence adds +0.0, which leaves the sum's bits alone
// (the sum starts at +0.0, and a float sum of round-to-nearest that starts there is never
// -0.0), so the two give the same bits.
#include <string.h>

#include "pe.h"

static const pe_param mix_params[] = {
    { "pes", PE_T_PES, 0, PE_NONE },
    PE_PARAMS_END,
};

static pg_status mix_infer(pe_node *n, pe_check *ck) {
    n->out.extent = (pg_extent){ 0, 0 };
    for (int i = 0; i < n->n_inputs; i++)
        n->out.extent = pg_extent_union(n->out.extent, n->in[i].extent);
    return pe_fit_inputs(n, ck, "MixPE");
}

typedef struct mix_add {
    pe_buf *out;
    int64_t at; // the input's first frame, from the output's
} mix_add;

static void add_input(const pe_view *v, void *arg) {
    const mix_add *a = arg;
    for (int c = 0; c < a->out->channels; c++) {
        const float *x = pe_vch(v, c);
        float *o = pe_ch(a->out, c) + a->at;
        for (int64_t i = 0; i < v->frames; i++)
            o[i] += x[i];
    }
}

static pg_status mix_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    pg_extent win = { t0, t0 + n };
    bool sparse = pe_sparse(pe);
    for (int c = 0; c < out->channels; c++)
        memset(pe_ch(out, c), 0, sizeof(float) * (size_t)n);
    for (int k = 0; k < pe->node->n_inputs; k++) {
        pg_extent in = sparse ? pg_extent_intersect(pe_in_shape(pe, k)->extent, win) : win;
        if (pg_extent_is_empty(in))
            continue;
        mix_add a = { out, in.start - t0 };
        pg_status st = pe_read(pe, k, in.start, in.end - in.start, add_input, &a);
        if (st != PG_OK)
            return st;
    }
    return PG_OK;
}

// Fusion: every input adds into the output; a mono input into every channel.
static double mix_linear(const pe_node *n, int slot, int out_ch, int in_ch) {
    return n->in[slot].channels == 1 ? (in_ch == 0) : (in_ch == out_ch);
}

const pe_kind pe_kind_mix = {
    .name = "MixPE",
    .method = NULL,
    .params = mix_params,
    .flags = PE_F_VARIADIC | PE_F_POINTWISE | PE_F_LINEAR,
    .infer = mix_infer,
    .linear = mix_linear,
    .process = mix_process,
};
