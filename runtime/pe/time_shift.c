// time_shift.c: TimeShiftPE(src_pe, delay=0), after pygmu's time_shift_pe.py:
// out(t) = x(t - d). An integral delay is an exact shift; a fractional one, or a mono PE
// giving d(t) per frame, reads x at tau = t - d linearly interpolated between x(floor(tau))
// and x(floor(tau) + 1) exactly as np.interp does (double weights, float output).
// delay is PE_T_ANY because an int and a float delay differ; infer checks it.
#include <math.h>
#include <string.h>

#include "pe.h"

enum {
    P_SRC,
    P_DELAY
};

// Source span one pull may cover: a wildly varying PE delay is served in several pulls.
enum {
    MAX_SPAN_FRAMES = 1 << 16
};

// Delays beyond +-2^53 frames cannot be told apart in double.
#define MAX_DELAY_FRAMES 9007199254740992.0

static const pe_param ts_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "delay", PE_T_ANY, 0, PE_INT(0) },
    PE_PARAMS_END,
};

typedef enum ts_mode {
    TS_EXACT, // integral delay: frames
    TS_FRAC,  // constant fractional delay: d
    TS_PE,    // per-frame delay from input slot
} ts_mode;

typedef struct ts_delay {
    ts_mode mode;
    int64_t frames;
    double d;
    int slot;
} ts_delay;

// Reads the delay argument; returns PG_ERR_ARG for a value that is not a delay.
// QUIRK Q53: pygmu interpolated every non-int number, np.int64 and 3.0 included (same
// values, float64 output); any integral value is an exact shift here.
static pg_status ts_decode(const pe_node *n, ts_delay *out) {
    const pe_value *v = &n->args[P_DELAY];
    memset(out, 0, sizeof *out);
    if (v->type == PG_V_NODE) {
        out->mode = TS_PE;
        out->slot = v->u.node;
        return PG_OK;
    }
    if (v->type == PG_V_INT) {
        out->frames = v->u.i;
        double x = (double)v->u.i;
        return x >= -MAX_DELAY_FRAMES && x <= MAX_DELAY_FRAMES ? PG_OK : PG_ERR_ARG;
    }
    if (v->type != PG_V_NUM || !(fabs(v->u.num) <= MAX_DELAY_FRAMES))
        return PG_ERR_ARG;
    out->d = v->u.num;
    out->frames = (int64_t)floor(v->u.num);
    out->mode = v->u.num == floor(v->u.num) ? TS_EXACT : TS_FRAC;
    return PG_OK;
}

// The message for a delay ts_decode refused.
static pg_status ts_bad_delay(const pe_node *n, pe_check *ck) {
    const pe_value *v = &n->args[P_DELAY];
    if (v->type == PG_V_NUM || v->type == PG_V_INT)
        return pe_fail(ck, PG_ERR_ARG,
                       "TimeShiftPE delay must be finite and at most 2^53 frames, got %g",
                       pe_num(n, P_DELAY));
    return pe_fail(ck, PG_ERR_ARG, "TimeShiftPE delay must be a number or a mono PE, got %s",
                   pe_value_type_name(v->type));
}

static pg_status ts_infer(pe_node *n, pe_check *ck) {
    const pe_shape *src = &n->in[pe_slot(n, P_SRC)];
    ts_delay d;
    n->out = *src;
    if (ts_decode(n, &d) != PG_OK)
        return ts_bad_delay(n, ck);
    if (d.mode == TS_PE) {
        const pe_shape *ds = &n->in[d.slot];
        n->out.extent = (pg_extent){ PG_FRAME_MIN, PG_FRAME_MAX };
        if (ds->channels != 1)
            return pe_fail(ck, PG_ERR_CHANNELS,
                           "channel count mismatch: TimeShiftPE delay has %d channels, it must "
                           "be mono",
                           ds->channels);
        if (ds->frame_rate && src->frame_rate && ds->frame_rate != src->frame_rate)
            return pe_fail(ck, PG_ERR_RATE,
                           "frame rate mismatch: TimeShiftPE delay has %d Hz, src_pe has %d",
                           ds->frame_rate, src->frame_rate);
        return PG_OK;
    }
    if (pg_extent_is_empty(src->extent)) {
        n->out.extent = (pg_extent){ 0, 0 };
        return PG_OK;
    }
    if (d.mode == TS_EXACT) {
        n->out.extent = pg_extent_offset(src->extent, d.frames);
        n->flags |= PE_F_LINEAR; // a whole-frame shift: fused, its input read d frames earlier
        return PG_OK;
    }
    // QUIRK Q53: pygmu's extent was [S + d, E + d) with fractional bounds; the frames that
    // can sound are [S + floor(d), E + ceil(d)).
    n->out.extent.start = pg_extent_offset(src->extent, d.frames).start;
    n->out.extent.end = pg_extent_offset(src->extent, d.frames + 1).end;
    return PG_OK;
}

// The source frames behind output frames `out`. An interpolated read at tau = t - d needs
// floor(tau) and floor(tau) + 1: with d = f + r (0 < r < 1) that is [s - f - 1, e - f).
static void ts_need(const pe_node *n, int slot, pg_extent out, pg_extent *in) {
    ts_delay d;
    *in = out;
    if (ts_decode(n, &d) != PG_OK || slot != pe_slot(n, P_SRC))
        return;
    if (d.mode == TS_PE) {
        *in = (pg_extent){ PG_FRAME_MIN, PG_FRAME_MAX }; // data-dependent
        return;
    }
    if (d.mode == TS_EXACT) {
        *in = pg_extent_offset(out, -d.frames);
        return;
    }
    in->start = pg_extent_offset(out, -d.frames - 1).start;
    in->end = pg_extent_offset(out, -d.frames).end;
}

// Exact shift: a copy of the source at t - d.
static pg_status ts_exact(pe_inst *pe, int64_t d, pg_frame t0, int64_t n, pe_buf *out) {
    pe_view v;
    pg_status st = pe_pull(pe, pe_slot(pe->node, P_SRC), t0 - d, n, &v);
    if (st != PG_OK)
        return st;
    for (int c = 0; c < out->channels; c++)
        memcpy(pe_ch(out, c), pe_vch(&v, c), sizeof(float) * (size_t)n);
    return PG_OK;
}

// Whether tau can be floored into a frame number (a NaN or a delay beyond +-2^53 frames
// reads silence).
static int tau_ok(double tau) {
    return fabs(tau) <= MAX_DELAY_FRAMES * 2.0;
}

// Output frames [i, j) read source frames [*lo, *hi + 2): the longest run from i whose
// span stays under MAX_SPAN_FRAMES (at least one frame).
static int64_t ts_run(const double *tau, int64_t i, int64_t n, pg_frame *lo, pg_frame *hi) {
    *lo = (pg_frame)floor(tau[i]);
    *hi = *lo;
    int64_t j = i + 1;
    for (; j < n && tau_ok(tau[j]); j++) {
        pg_frame f = (pg_frame)floor(tau[j]);
        pg_frame l = f < *lo ? f : *lo, h = f > *hi ? f : *hi;
        if (h - l + 2 > MAX_SPAN_FRAMES)
            break;
        *lo = l;
        *hi = h;
    }
    return j;
}

// out[k] = x(tau[k]) for k in [i, j), interpolated as np.interp does:
// (x1 - x0) * (tau - floor(tau)) + x0 in double.
static pg_status ts_interp_run(pe_inst *pe, const double *tau, int64_t i, int64_t j, pg_frame lo,
                               pg_frame hi, pe_buf *out) {
    pe_view v;
    pg_status st = pe_pull(pe, pe_slot(pe->node, P_SRC), lo, hi - lo + 2, &v);
    if (st != PG_OK)
        return st;
    for (int c = 0; c < out->channels; c++) {
        const float *x = pe_vch(&v, c);
        float *y = pe_ch(out, c);
        for (int64_t k = i; k < j; k++) {
            double f = floor(tau[k]);
            int64_t at = (int64_t)f - lo;
            double x0 = (double)x[at], x1 = (double)x[at + 1];
            y[k] = (float)((x1 - x0) * (tau[k] - f) + x0);
        }
    }
    return PG_OK;
}

static pg_status ts_interp(pe_inst *pe, const double *tau, int64_t n, pe_buf *out) {
    int64_t i = 0;
    while (i < n) {
        if (!tau_ok(tau[i])) {
            for (int c = 0; c < out->channels; c++)
                pe_ch(out, c)[i] = 0.0f;
            i++;
            continue;
        }
        pg_frame lo, hi;
        int64_t j = ts_run(tau, i, n, &lo, &hi);
        pg_status st = ts_interp_run(pe, tau, i, j, lo, hi, out);
        if (st != PG_OK)
            return st;
        i = j;
    }
    return PG_OK;
}

// tau = t - d(t), computed as pygmu does: np.arange(t0, t1) - delays, in double.
static pg_status ts_times(pe_inst *pe, const ts_delay *d, pg_frame t0, int64_t n, double *tau) {
    if (d->mode == TS_FRAC) {
        for (int64_t i = 0; i < n; i++)
            tau[i] = (double)(t0 + i) - d->d;
        return PG_OK;
    }
    pe_view dv;
    pg_status st = pe_pull(pe, d->slot, t0, n, &dv);
    if (st != PG_OK)
        return st;
    const float *dx = pe_vch(&dv, 0);
    for (int64_t i = 0; i < n; i++)
        tau[i] = (double)(t0 + i) - (double)dx[i];
    return PG_OK;
}

static pg_status ts_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    ts_delay d;
    if (ts_decode(pe->node, &d) != PG_OK)
        return pe_error(pe, PG_ERR_INTERNAL, "TimeShiftPE: bad delay");
    if (d.mode == TS_EXACT)
        return ts_exact(pe, d.frames, t0, n, out);
    double *tau = pe_scratch(pe, sizeof(double) * (size_t)n);
    if (!tau)
        return pe_error(pe, PG_ERR_NOMEM, "TimeShiftPE: out of scratch memory");
    pg_status st = ts_times(pe, &d, t0, n, tau);
    return st != PG_OK ? st : ts_interp(pe, tau, n, out);
}

// Fusion (a whole-frame delay only: infer marks those nodes PE_F_LINEAR): each channel
// passes unchanged; ts_need gives the shifted frames it reads.
static double ts_linear(const pe_node *n, int slot, int out_ch, int in_ch) {
    (void)n;
    (void)slot;
    return in_ch == out_ch ? 1.0 : 0.0;
}

const pe_kind pe_kind_time_shift = {
    .name = "TimeShiftPE",
    .method = "time_shift",
    .params = ts_params,
    .infer = ts_infer,
    .need = ts_need,
    .linear = ts_linear,
    .process = ts_process,
};
