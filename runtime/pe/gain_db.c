// gain_db.c: GainDbPE(src_pe, gain_db), after pygmu's gain_db_pe.py: src scaled by
// 10^(gain_db/20), where gain_db is a number (extent E(src)) or a PE giving one value per
// frame (mono, or as many channels as src; extent E(src) ∩ E(gain_db)). Stateless; the
// gain is computed in double.
// QUIRK Q31: pygmu has the class but does not export it; pygmuc does.
#include <math.h>

#include "pe.h"

enum {
    P_SRC,
    P_GAIN
};

static const pe_param gdb_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "gain_db", PE_T_NUM_OR_PE, PE_P_REQUIRED, PE_NONE },
    PE_PARAMS_END,
};

static pg_status gdb_infer(pe_node *n, pe_check *ck) {
    const pe_shape *src = &n->in[pe_slot(n, P_SRC)];
    int slot = pe_slot(n, P_GAIN);
    n->out = *src;
    if (slot < 0) {
        if (!isfinite(pe_num(n, P_GAIN)))
            return pe_fail(ck, PG_ERR_ARG, "GainDbPE gain_db must be finite, got %g",
                           pe_num(n, P_GAIN));
        return PG_OK;
    }
    const pe_shape *g = &n->in[slot];
    n->out.extent = pg_extent_intersect(src->extent, g->extent);
    if (g->channels != 1 && g->channels != src->channels)
        return pe_fail(ck, PG_ERR_CHANNELS,
                       "channel count mismatch: GainDbPE gain_db has %d channels, src_pe has %d",
                       g->channels, src->channels);
    if (g->frame_rate != src->frame_rate)
        return pe_fail(ck, PG_ERR_RATE,
                       "frame rate mismatch: GainDbPE gain_db is %d Hz, src_pe is %d Hz",
                       g->frame_rate, src->frame_rate);
    return PG_OK;
}

static pg_status gdb_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const pe_node *nd = pe->node;
    int slot = pe_slot(nd, P_GAIN);
    pe_view x, g;
    pg_status s = pe_pull(pe, pe_slot(nd, P_SRC), t0, n, &x);
    if (s == PG_OK && slot >= 0)
        s = pe_pull(pe, slot, t0, n, &g);
    if (s != PG_OK)
        return s;
    double k = slot < 0 ? pow(10, pe_num(nd, P_GAIN) / 20) : 0;
    for (int c = 0; c < out->channels; c++) {
        const float *xc = pe_vch(&x, c);
        float *o = pe_ch(out, c);
        if (slot < 0) {
            for (int64_t i = 0; i < n; i++)
                o[i] = (float)((double)xc[i] * k);
            continue;
        }
        const float *gc = pe_vch(&g, c);
        for (int64_t i = 0; i < n; i++)
            o[i] = (float)((double)xc[i] * pow(10, (double)gc[i] / 20));
    }
    return PG_OK;
}

const pe_kind pe_kind_gain_db = {
    .name = "GainDbPE",
    .params = gdb_params,
    .infer = gdb_infer,
    .process = gdb_process,
};
