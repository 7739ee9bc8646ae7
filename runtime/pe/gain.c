// gain.c: GainPE(src_pe, gain, units=None), after pygmu's gain_pe.py; the .gain() method.
// A number gain g (or 10^(g/20) for units='db', computed in double) scales the source in
// float32 (numpy keeps a float32 array times a Python float in float32); extent E(src).
// A PE gain (mono, or as many channels as src) multiplies frame by frame; extent
// E(src) ∩ E(gain); in dB each gain sample becomes powf(10, g/20) in float32, as numpy does
// for a float32 array. Stateless, pointwise.
#include <math.h>
#include <string.h>

#include "pe.h"

enum {
    P_SRC,
    P_GAIN,
    P_UNITS
};

static const pe_param gain_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "gain", PE_T_NUM_OR_PE, PE_P_REQUIRED, PE_NONE },
    { "units", PE_T_STR, PE_P_NONE_OK, PE_NONE },
    PE_PARAMS_END,
};

static bool gain_is_db(const pe_node *n) {
    return n->args[P_UNITS].type == PG_V_STR;
}

static pg_status gain_infer_pe(pe_node *n, pe_check *ck, const pe_shape *g) {
    const pe_shape *src = &n->in[pe_slot(n, P_SRC)];
    n->out.extent = pg_extent_intersect(src->extent, g->extent);
    if (g->channels != 1 && g->channels != src->channels)
        return pe_fail(ck, PG_ERR_CHANNELS,
                       "channel count mismatch: GainPE gain has %d channels, src_pe has %d",
                       g->channels, src->channels);
    if (g->frame_rate != src->frame_rate)
        return pe_fail(ck, PG_ERR_RATE,
                       "frame rate mismatch: GainPE gain is %d Hz, src_pe is %d Hz", g->frame_rate,
                       src->frame_rate);
    return PG_OK;
}

// pygmu treats any units other than 'db' as a plain ratio; we reject them.
static pg_status gain_infer(pe_node *n, pe_check *ck) {
    n->out = n->in[pe_slot(n, P_SRC)];
    const pe_value *u = &n->args[P_UNITS];
    if (u->type == PG_V_STR && strcmp(u->u.str, "db") != 0)
        return pe_fail(ck, PG_ERR_ARG, "GainPE units must be None or 'db', got '%s'", u->u.str);
    int slot = pe_slot(n, P_GAIN);
    if (slot >= 0)
        return gain_infer_pe(n, ck, &n->in[slot]);
    n->flags |= PE_F_LINEAR;
    return PG_OK;
}

static pg_status gain_process_const(pe_inst *pe, const pe_view *x, int64_t n, pe_buf *out) {
    double g = pe_num(pe->node, P_GAIN);
    float gf = (float)(gain_is_db(pe->node) ? pow(10.0, g / 20.0) : g);
    for (int c = 0; c < out->channels; c++) {
        const float *xi = pe_vch(x, c);
        float *o = pe_ch(out, c);
        for (int64_t i = 0; i < n; i++)
            o[i] = xi[i] * gf;
    }
    return PG_OK;
}

// QUIRK Q30: pygmu prints every PE-gain block to stdout; we do not.
static pg_status gain_process_pe(pe_inst *pe, const pe_view *x, pg_frame t0, int64_t n,
                                 pe_buf *out) {
    pe_view gv;
    pg_status st = pe_pull(pe, pe_slot(pe->node, P_GAIN), t0, n, &gv);
    if (st != PG_OK)
        return st;
    bool db = gain_is_db(pe->node);
    for (int c = 0; c < out->channels; c++) {
        const float *xi = pe_vch(x, c), *g = pe_vch(&gv, c);
        float *o = pe_ch(out, c);
        if (db)
            for (int64_t i = 0; i < n; i++)
                o[i] = xi[i] * powf(10.0f, g[i] / 20.0f);
        else
            for (int64_t i = 0; i < n; i++)
                o[i] = xi[i] * g[i];
    }
    return PG_OK;
}

static pg_status gain_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    pe_view x;
    pg_status st = pe_pull(pe, pe_slot(pe->node, P_SRC), t0, n, &x);
    if (st != PG_OK)
        return st;
    if (pe_slot(pe->node, P_GAIN) >= 0)
        return gain_process_pe(pe, &x, t0, n, out);
    return gain_process_const(pe, &x, n, out);
}

// Fusion (a constant gain only: infer marks those nodes PE_F_LINEAR): the gain on every
// channel, in dB converted exactly as gain_process_const does.
static double gain_linear(const pe_node *n, int slot, int out_ch, int in_ch) {
    (void)slot;
    double g = pe_num(n, P_GAIN);
    return in_ch == out_ch ? (gain_is_db(n) ? pow(10.0, g / 20.0) : g) : 0.0;
}

const pe_kind pe_kind_gain = {
    .name = "GainPE",
    .method = "gain",
    .params = gain_params,
    .flags = PE_F_POINTWISE,
    .infer = gain_infer,
    .linear = gain_linear,
    .process = gain_process,
};
