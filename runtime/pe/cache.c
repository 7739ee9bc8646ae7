// cache.c: CachePE(src_pe), after pygmu's cache_pe.py. The planner renders a
// PE_F_MATERIALISE node once over its finite extent and serves every read from that buffer,
// so the kernel only copies its source, in the source's own absolute time.
// QUIRK Q20: pygmu stored the cache from frame 0 whatever the source's start, shifting a
// source that does not start at 0 by -S; ours keeps absolute time.
#include <string.h>

#include "pe.h"

enum {
    P_SRC
};

static const pe_param cache_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    PE_PARAMS_END,
};

static pg_status cache_infer(pe_node *n, pe_check *ck) {
    const pe_shape *src = &n->in[pe_slot(n, P_SRC)];
    n->out = *src;
    if (!pg_extent_is_finite(src->extent))
        return pe_fail(ck, PG_ERR_EXTENT, "CachePE needs a finite source extent");
    return PG_OK;
}

static pg_status cache_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    pe_view v;
    pg_status st = pe_pull(pe, pe_slot(pe->node, P_SRC), t0, n, &v);
    if (st != PG_OK)
        return st;
    for (int c = 0; c < out->channels; c++)
        memcpy(pe_ch(out, c), pe_vch(&v, c), sizeof(float) * (size_t)n);
    return PG_OK;
}

const pe_kind pe_kind_cache = {
    .name = "CachePE",
    .method = "cache",
    .params = cache_params,
    .flags = PE_F_MATERIALISE,
    .infer = cache_infer,
    .process = cache_process,
};
