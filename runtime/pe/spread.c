// spread.c: SpreadPE(src_pe, channel_count=2), after pygmu's spread_pe.py; the .spread()
// method. A mono source copied to channel_count channels (at least 1, at most
// SPREAD_MAX_CHANNELS); extent and rate are src's. Stateless, pointwise.
#include <string.h>

#include "pe.h"

enum {
    P_SRC,
    P_CHANNEL_COUNT
};
enum {
    SPREAD_MAX_CHANNELS = 1024
}; // a guard against typos; more than any sound file holds

static const pe_param spread_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "channel_count", PE_T_INT, PE_P_GT0, PE_INT(2) },
    PE_PARAMS_END,
};

static pg_status spread_infer(pe_node *n, pe_check *ck) {
    const pe_shape *src = &n->in[pe_slot(n, P_SRC)];
    int64_t count = pe_int(n, P_CHANNEL_COUNT);
    n->out = *src;
    if (count > SPREAD_MAX_CHANNELS)
        return pe_fail(ck, PG_ERR_ARG, "SpreadPE channel_count must be <= %d, got %lld",
                       SPREAD_MAX_CHANNELS, (long long)count);
    n->out.channels = (int)count;
    if (src->channels != 1)
        return pe_fail(ck, PG_ERR_CHANNELS,
                       "channel count mismatch: SpreadPE src_pe has %d channels, expected 1",
                       src->channels);
    return PG_OK;
}

static pg_status spread_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    pe_view v;
    pg_status st = pe_pull(pe, pe_slot(pe->node, P_SRC), t0, n, &v);
    if (st != PG_OK)
        return st;
    for (int c = 0; c < out->channels; c++)
        memcpy(pe_ch(out, c), pe_vch(&v, 0), sizeof(float) * (size_t)n);
    return PG_OK;
}

// Fusion: the mono source into every channel.
static double spread_linear(const pe_node *n, int slot, int out_ch, int in_ch) {
    (void)n;
    (void)slot;
    (void)out_ch;
    return in_ch == 0;
}

const pe_kind pe_kind_spread = {
    .name = "SpreadPE",
    .method = "spread",
    .params = spread_params,
    .flags = PE_F_POINTWISE | PE_F_LINEAR,
    .infer = spread_infer,
    .linear = spread_linear,
    .process = spread_process,
};
