// loop.c: LoopPE(src_pe, loop_duration), after pygmu's loop_pe.py: out(t) = src(t mod L),
// floor-mod, so source frames [0, L) in absolute source time repeat forever in both
// directions (pygmu's tests pin absolute time: a source on [3, 6) with L = 5 plays
// 0,0,0,3,4 per period). The source is read at random: the planner materialises it.
#include <string.h>

#include "pe.h"

enum {
    P_SRC,
    P_LEN
};

// QUIRK Q36: pygmu accepted a float loop_duration and failed at render; PE_T_INT rejects a
// non-integral one at the call (an integral float such as 4.0 is accepted).
static const pe_param loop_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED | PE_P_RANDOM, PE_NONE },
    { "loop_duration", PE_T_INT, PE_P_REQUIRED | PE_P_GT0, PE_NONE },
    PE_PARAMS_END,
};

static pg_frame floor_mod(pg_frame t, pg_frame len) {
    pg_frame r = t % len;
    return r < 0 ? r + len : r;
}

static pg_status loop_infer(pe_node *n, pe_check *ck) {
    (void)ck;
    n->out = n->in[pe_slot(n, P_SRC)];
    n->out.extent = (pg_extent){ PG_FRAME_MIN, PG_FRAME_MAX };
    return PG_OK;
}

// Source frames behind `out`: one run [i, i + len) when it does not wrap, else all of
// [0, L) (the hull of the wrapped pieces).
static void loop_need(const pe_node *n, int slot, pg_extent out, pg_extent *in) {
    (void)slot;
    pg_frame len = pe_int(n, P_LEN);
    *in = (pg_extent){ 0, len };
    if (pg_extent_is_empty(out) || !pg_extent_is_finite(out) || out.end - out.start >= len)
        return;
    pg_frame i = floor_mod(out.start, len);
    if (i + (out.end - out.start) <= len)
        *in = (pg_extent){ i, i + (out.end - out.start) };
}

// Copies source frames [i, i + k) of view v (which starts at source frame v0) to out + at.
static void loop_copy(const pe_view *v, pg_frame v0, pg_frame i, int64_t k, pe_buf *out,
                      int64_t at) {
    for (int c = 0; c < out->channels; c++)
        memcpy(pe_ch(out, c) + at, pe_vch(v, c) + (i - v0), sizeof(float) * (size_t)k);
}

// A window at least one period long pulls the whole period once and tiles it; a shorter
// one wraps at most once, so it takes at most two pulls.
static pg_status loop_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    pg_frame len = pe_int(pe->node, P_LEN);
    int slot = pe_slot(pe->node, P_SRC);
    pg_frame i = floor_mod(t0, len);
    pe_view v;
    pg_status st;
    if (n >= len && (st = pe_pull(pe, slot, 0, len, &v)) != PG_OK)
        return st;
    for (int64_t done = 0; done < n;) {
        int64_t k = len - i < n - done ? len - i : n - done;
        if (n < len && (st = pe_pull(pe, slot, i, k, &v)) != PG_OK)
            return st;
        loop_copy(&v, n >= len ? 0 : i, i, k, out, done);
        done += k;
        i = 0; // every later run starts the period over
    }
    return PG_OK;
}

const pe_kind pe_kind_loop = {
    .name = "LoopPE",
    .method = "loop",
    .params = loop_params,
    .infer = loop_infer,
    .need = loop_need,
    .process = loop_process,
};
