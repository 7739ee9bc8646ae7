// array.c: ArrayPE(frames, frame_rate=None), after pygmu's array_pe.py: a fixed block of
// samples, rows = channels, columns = frames, extent [0, columns). pygmu converts the data to
// float32 once; so does init (the node's arguments stay valid for the render, but a float
// copy keeps process a plain memcpy).
// QUIRK Q14: pygmu accepts a 1-D list but cannot render it; here a flat list is one row (the
// binder makes it rows = 1), i.e. mono.
#include <stdlib.h>
#include <string.h>

#include "pe.h"

enum {
    P_FRAMES,
    P_FRAME_RATE
};

typedef struct array_state {
    float *data; // channels x frames, planar
    int64_t frames;
} array_state;

static const pe_param array_params[] = {
    { "frames", PE_T_ARRAY, PE_P_REQUIRED, PE_NONE },
    { "frame_rate", PE_T_INT, PE_P_NONE_OK | PE_P_GT0, PE_NONE },
    PE_PARAMS_END,
};

// An empty list has no rows: pygmu counts it as one channel with no frames.
static pg_status array_infer(pe_node *n, pe_check *ck) {
    const pg_array *a = &n->args[P_FRAMES].u.array;
    n->out.channels = a->rows > 0 ? a->rows : 1;
    n->out.frame_rate = pe_rate_or_default(n, P_FRAME_RATE, ck);
    n->out.extent = (pg_extent){ 0, a->rows > 0 ? a->cols : 0 };
    return PG_OK;
}

static pg_status array_init(pe_inst *pe) {
    array_state *s = pe->state;
    const pg_array *a = &pe->node->args[P_FRAMES].u.array;
    size_t count = a->rows > 0 && a->cols > 0 ? (size_t)a->rows * (size_t)a->cols : 0;
    s->frames = count ? a->cols : 0;
    if (!count)
        return PG_OK;
    s->data = malloc(sizeof(float) * count);
    if (!s->data)
        return pe_error(pe, PG_ERR_NOMEM, "ArrayPE: out of memory (%zu samples)", count);
    for (size_t i = 0; i < count; i++)
        s->data[i] = (float)a->data[i];
    return PG_OK;
}

// The executor asks only for frames inside [0, frames); zeros elsewhere keep it safe anyway.
static pg_status array_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const array_state *s = pe->state;
    pg_frame lo = t0 < 0 ? 0 : t0, hi = t0 + n < s->frames ? t0 + n : s->frames;
    for (int c = 0; c < out->channels; c++) {
        float *o = pe_ch(out, c);
        if (lo >= hi) {
            memset(o, 0, sizeof(float) * (size_t)n);
            continue;
        }
        memset(o, 0, sizeof(float) * (size_t)(lo - t0));
        memcpy(o + (lo - t0), s->data + c * s->frames + lo, sizeof(float) * (size_t)(hi - lo));
        memset(o + (hi - t0), 0, sizeof(float) * (size_t)(t0 + n - hi));
    }
    return PG_OK;
}

static void array_fini(pe_inst *pe) {
    array_state *s = pe->state;
    free(s->data);
    s->data = NULL;
}

const pe_kind pe_kind_array = {
    .name = "ArrayPE",
    .method = NULL,
    .params = array_params,
    .flags = PE_F_GENERATOR | PE_F_CHEAP,
    .state_size = sizeof(array_state),
    .infer = array_infer,
    .init = array_init,
    .process = array_process,
    .fini = array_fini,
};
