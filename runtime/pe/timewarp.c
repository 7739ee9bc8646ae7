// timewarp.c: TimewarpPE(src_pe, timeline), after pygmu's timewarp_pe.py: out(t) =
// src(tau(t)) with tau = timeline(t), linearly interpolated exactly as np.interp does:
// (x1 - x0) * (tau - floor(tau)) + x0 in double, x0 = src(floor(tau)), x1 = the next frame.
// The extent is the timeline's (pygmu's rule): tau is data, so the source is read at random
// (materialised when finite) and one block may read it anywhere.
#include <math.h>
#include <string.h>

#include "pe.h"

enum {
    P_SRC,
    P_TIMELINE
};

// Source span one pull may cover: a timeline that jumps about is served in several pulls.
enum {
    MAX_SPAN_FRAMES = 1 << 16
};

// Read positions beyond +-2^62 frames read silence (and keep floor() inside int64).
#define MAX_TAU 4611686018427387904.0

static const pe_param tw_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED | PE_P_RANDOM, PE_NONE },
    { "timeline", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    PE_PARAMS_END,
};

static pg_status tw_infer(pe_node *n, pe_check *ck) {
    const pe_shape *src = &n->in[pe_slot(n, P_SRC)], *tl = &n->in[pe_slot(n, P_TIMELINE)];
    n->out.channels = src->channels;
    n->out.frame_rate = src->frame_rate ? src->frame_rate : tl->frame_rate;
    n->out.extent = tl->extent;
    if (tl->channels != 1)
        return pe_fail(ck, PG_ERR_CHANNELS,
                       "channel count mismatch: TimewarpPE timeline has %d channels, it must "
                       "be mono",
                       tl->channels);
    if (src->frame_rate && tl->frame_rate && src->frame_rate != tl->frame_rate)
        return pe_fail(ck, PG_ERR_RATE,
                       "frame rate mismatch: TimewarpPE timeline has %d Hz, src_pe has %d",
                       tl->frame_rate, src->frame_rate);
    return PG_OK;
}

// The timeline over the same frames; the source anywhere (the planner clips by its extent).
static void tw_need(const pe_node *n, int slot, pg_extent out, pg_extent *in) {
    *in = out;
    if (slot == pe_slot(n, P_SRC))
        *in = (pg_extent){ PG_FRAME_MIN, PG_FRAME_MAX };
}

// A read position split once into its frame floor(tau) and weight tau - floor(tau) (exact
// in double), or SILENT when the read cannot touch the source.
typedef struct tw_read {
    int64_t at;
    double frac;
} tw_read;

#define SILENT INT64_MIN

// floor(tau) and its weight, or SILENT when neither floor(tau) nor floor(tau) + 1 lies in
// src = [S, E): np.interp of zeros is exactly 0 there; NaN or huge positions read silence.
static tw_read tw_split(double tau, pg_extent src) {
    tw_read r = { SILENT, 0.0 };
    if (!(fabs(tau) <= MAX_TAU))
        return r;
    int64_t f = (int64_t)tau; // truncation, then down for negative fractions: floor
    f -= (double)f > tau;
    if (f >= src.end || (src.start != PG_FRAME_MIN && f < src.start - 1))
        return r;
    r.at = f;
    r.frac = tau - (double)f;
    return r;
}

// The longest run of reads from i spanning at most MAX_SPAN_FRAMES source frames
// [*lo, *hi + 2), stopping at a silent one.
static int64_t tw_run(const tw_read *rd, int64_t i, int64_t n, pg_frame *lo, pg_frame *hi) {
    *lo = *hi = rd[i].at;
    int64_t j = i + 1;
    for (; j < n && rd[j].at != SILENT; j++) {
        pg_frame l = rd[j].at < *lo ? rd[j].at : *lo, h = rd[j].at > *hi ? rd[j].at : *hi;
        if (h - l + 2 > MAX_SPAN_FRAMES)
            break;
        *lo = l;
        *hi = h;
    }
    return j;
}

// out[k] = (x1 - x0) * frac + x0 for k in [i, j), as np.interp, all reading [lo, hi + 2).
static pg_status tw_interp_run(pe_inst *pe, const tw_read *rd, int64_t i, int64_t j, pg_frame lo,
                               pg_frame hi, pe_buf *out) {
    pe_view v;
    pg_status st = pe_pull(pe, pe_slot(pe->node, P_SRC), lo, hi - lo + 2, &v);
    if (st != PG_OK)
        return st;
    for (int c = 0; c < out->channels; c++) {
        const float *x = pe_vch(&v, c) - lo;
        float *y = pe_ch(out, c);
        for (int64_t k = i; k < j; k++) {
            double x0 = (double)x[rd[k].at], x1 = (double)x[rd[k].at + 1];
            y[k] = (float)((x1 - x0) * rd[k].frac + x0);
        }
    }
    return PG_OK;
}

// out(t0 + k) = src(tau_k) for k < n, from the split reads.
static pg_status tw_sample(pe_inst *pe, const tw_read *rd, int64_t n, pe_buf *out) {
    int64_t i = 0;
    while (i < n) {
        if (rd[i].at == SILENT) {
            for (int c = 0; c < out->channels; c++)
                pe_ch(out, c)[i] = 0.0f;
            i++;
            continue;
        }
        pg_frame lo, hi;
        int64_t j = tw_run(rd, i, n, &lo, &hi);
        pg_status st = tw_interp_run(pe, rd, i, j, lo, hi, out);
        if (st != PG_OK)
            return st;
        i = j;
    }
    return PG_OK;
}

static pg_status tw_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    pe_view tl;
    pg_status st = pe_pull(pe, pe_slot(pe->node, P_TIMELINE), t0, n, &tl);
    if (st != PG_OK)
        return st;
    tw_read *rd = pe_scratch(pe, sizeof(tw_read) * (size_t)n);
    if (!rd)
        return pe_error(pe, PG_ERR_NOMEM, "TimewarpPE: out of scratch memory");
    pg_extent src = pe_in_shape(pe, pe_slot(pe->node, P_SRC))->extent;
    const float *tau = pe_vch(&tl, 0);
    for (int64_t i = 0; i < n; i++)
        rd[i] = tw_split((double)tau[i], src);
    return tw_sample(pe, rd, n, out);
}

const pe_kind pe_kind_timewarp = {
    .name = "TimewarpPE",
    .method = "timewarp",
    .params = tw_params,
    .infer = tw_infer,
    .need = tw_need,
    .process = tw_process,
};
