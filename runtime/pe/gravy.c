// gravy.c: GravyPE(src_pe, window_start, window_duration, walk_rate, flip_flag): what
// pygmu's broken gravy_pe.py meant (QUIRK Q34): a window of L = window_duration frames that
// walks on by walk_rate frames per repetition, out(t) = src(floor(window_start + k walk_rate)
// + (t - k L)), k = floor(t/L); with flip_flag, odd repetitions play backwards (as pygmu's
// good_gravy() does). Indefinite, stateless; the source is read at random.
#include <math.h>
#include <string.h>

#include "pe.h"

enum {
    P_SRC,
    P_START,
    P_DUR,
    P_WALK,
    P_FLIP
};

#define GRAVY_FAR 4611686018427387904.0 // 2^62: window positions beyond read silence

static const pe_param gravy_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED | PE_P_RANDOM, PE_NONE },
    { "window_start", PE_T_NUM, PE_P_REQUIRED, PE_NONE },
    { "window_duration", PE_T_INT, PE_P_REQUIRED | PE_P_GT0, PE_NONE },
    { "walk_rate", PE_T_NUM, PE_P_REQUIRED, PE_NONE },
    { "flip_flag", PE_T_BOOL, PE_P_REQUIRED, PE_NONE },
    PE_PARAMS_END,
};

static pg_status gravy_infer(pe_node *n, pe_check *ck) {
    n->out = n->in[pe_slot(n, P_SRC)];
    n->out.extent = (pg_extent){ PG_FRAME_MIN, PG_FRAME_MAX };
    if (!isfinite(pe_num(n, P_START)) || !isfinite(pe_num(n, P_WALK)))
        return pe_fail(ck, PG_ERR_ARG,
                       "GravyPE window_start and walk_rate must be finite, got "
                       "%g and %g",
                       pe_num(n, P_START), pe_num(n, P_WALK));
    return PG_OK;
}

static pg_frame floor_div(pg_frame a, pg_frame b) {
    pg_frame q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// The source frame where repetition k's window starts; false when it lies beyond +-2^62.
// QUIRK Q34: pygmu took k = trunc(t / L) but t mod L floored, which disagree before 0, and
// added the walk once per render call instead of once per repetition.
static int window_of(const pe_node *n, pg_frame k, pg_frame *at) {
    double w = floor(pe_num(n, P_START) + (double)k * pe_num(n, P_WALK));
    if (!(fabs(w) < GRAVY_FAR))
        return 0;
    *at = (pg_frame)w;
    return 1;
}

static void gravy_need(const pe_node *n, int slot, pg_extent out, pg_extent *in) {
    (void)slot;
    pg_frame len = pe_int(n, P_DUR), w0, w1;
    *in = (pg_extent){ PG_FRAME_MIN, PG_FRAME_MAX };
    if (pg_extent_is_empty(out)) {
        *in = out;
        return;
    }
    if (!pg_extent_is_finite(out) || !window_of(n, floor_div(out.start, len), &w0) ||
        !window_of(n, floor_div(out.end - 1, len), &w1))
        return;
    // window starts are monotonic in k: the first and last bound them all
    *in = (pg_extent){ w0 < w1 ? w0 : w1, (w0 < w1 ? w1 : w0) + len };
}

// Frames [a, b) of repetition k (a, b inside it) into out at index a - t0.
static pg_status gravy_run(pe_inst *pe, pg_frame k, pg_frame a, pg_frame b, pg_frame t0,
                           pe_buf *out) {
    const pe_node *nd = pe->node;
    pg_frame len = pe_int(nd, P_DUR), w, off = a - k * len, m = b - a;
    int flip = nd->args[P_FLIP].u.b && (k & 1);
    if (!window_of(nd, k, &w)) {
        for (int c = 0; c < out->channels; c++)
            memset(pe_ch(out, c) + (a - t0), 0, sizeof(float) * (size_t)m);
        return PG_OK;
    }
    // backwards, frame off of the window is its frame len - 1 - off
    pg_frame from = flip ? w + len - off - m : w + off;
    pe_view v;
    pg_status st = pe_pull(pe, pe_slot(nd, P_SRC), from, m, &v);
    if (st != PG_OK)
        return st;
    for (int c = 0; c < out->channels; c++) {
        const float *x = pe_vch(&v, c);
        float *y = pe_ch(out, c) + (a - t0);
        if (!flip)
            memcpy(y, x, sizeof(float) * (size_t)m);
        else
            for (pg_frame i = 0; i < m; i++)
                y[i] = x[m - 1 - i];
    }
    return PG_OK;
}

static pg_status gravy_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    pg_frame len = pe_int(pe->node, P_DUR);
    for (pg_frame a = t0; a < t0 + n;) {
        pg_frame k = floor_div(a, len), b = (k + 1) * len < t0 + n ? (k + 1) * len : t0 + n;
        pg_status st = gravy_run(pe, k, a, b, t0, out);
        if (st != PG_OK)
            return st;
        a = b;
    }
    return PG_OK;
}

const pe_kind pe_kind_gravy = {
    .name = "GravyPE",
    .method = NULL,
    .params = gravy_params,
    .infer = gravy_infer,
    .need = gravy_need,
    .process = gravy_process,
};
