// warp_speed.c: WarpSpeedPE(src_pe, speed=1.0), after pygmu's warp_speed_pe.py: resampling
// by linear interpolation, out(t) = src(v * t) with v the speed (0 holds src(0); negative
// plays backwards through negative source time), interpolated exactly as np.interp does.
// Two descriptors share the callbacks: the constructor / `.speed(speed)`, and pygmu's
// `.warp_speed(rate, frame=0)` whose `frame` is ignored, as in pygmu.
#include <math.h>
#include <string.h>

#include "pe.h"

enum {
    P_SRC,
    P_SPEED
};

// Source span one pull may cover (a high speed reads a long span per block).
enum {
    MAX_SPAN_FRAMES = 1 << 16
};

// Frames beyond +-2^62 are treated as unreachable: extents are clamped there and read
// positions beyond it read silence.
#define FAR_FRAMES 4611686018427387904.0

// Steps an extent bound may move from its estimate by division.
enum {
    FIXUP_STEPS = 4
};

static const pe_param ws_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED | PE_P_RANDOM, PE_NONE },
    { "speed", PE_T_NUM, 0, PE_NUM(1.0) },
    PE_PARAMS_END,
};

static const pe_param ws_method_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED | PE_P_RANDOM, PE_NONE },
    { "rate", PE_T_NUM, PE_P_REQUIRED, PE_NONE },
    { "frame", PE_T_NUM, 0, PE_NUM(0.0) },
    PE_PARAMS_END,
};

// Whether output frame t reads the source inside src = [S, E): S - 1 < v t < E, i.e.
// floor(v t) or the frame after it lies inside.
static int ws_sounds(double v, pg_frame t, pg_extent src) {
    double tau = v * (double)t;
    int after_start = src.start == PG_FRAME_MIN || tau > (double)src.start - 1.0;
    int before_end = src.end == PG_FRAME_MAX || tau < (double)src.end;
    return after_start && before_end;
}

static pg_frame clamp_far(double t) {
    if (!(t > -FAR_FRAMES))
        return -(pg_frame)FAR_FRAMES;
    if (!(t < FAR_FRAMES))
        return (pg_frame)FAR_FRAMES;
    return (pg_frame)t;
}

// The first frame that sounds, from a guess at most a frame or two off (the division
// rounds); the fix-up is bounded so a guess clamped far away stays put.
static pg_frame ws_first(double v, double guess, pg_extent src) {
    pg_frame t = clamp_far(guess);
    for (int k = 0; k < FIXUP_STEPS && ws_sounds(v, t - 1, src); k++)
        t--;
    for (int k = 0; k < FIXUP_STEPS && !ws_sounds(v, t, src); k++)
        t++;
    return t;
}

// One past the last frame that sounds, from a guess.
static pg_frame ws_last(double v, double guess, pg_extent src) {
    pg_frame t = clamp_far(guess);
    for (int k = 0; k < FIXUP_STEPS && ws_sounds(v, t, src); k++)
        t++;
    for (int k = 0; k < FIXUP_STEPS && !ws_sounds(v, t - 1, src); k++)
        t--;
    return t;
}

// QUIRK Q56: pygmu's extent is [int(S / v), int(E / v)), truncated toward zero, and an
// indefinite source keeps its extent whatever the speed. Ours is every frame whose read
// touches the source: S - 1 < v t < E, so [floor((S - 1) / v) + 1, ceil(E / v)) for v > 0,
// mirrored for v < 0; an infinite bound maps to the matching infinite bound. At speed 0 the
// output is src(0) everywhere: indefinite, or empty when frame 0 is outside the source.
static pg_extent ws_extent(double v, pg_extent src) {
    pg_extent all = { PG_FRAME_MIN, PG_FRAME_MAX }, none = { 0, 0 };
    if (pg_extent_is_empty(src))
        return none;
    if (v == 0.0)
        return ws_sounds(1.0, 0, src) ? all : none;
    double lo = src.start == PG_FRAME_MIN ? -HUGE_VAL : ((double)src.start - 1.0) / v;
    double hi = src.end == PG_FRAME_MAX ? HUGE_VAL : (double)src.end / v;
    if (v < 0.0) { // tau falls as t rises: the source's end bounds the output's start
        double swap = lo;
        lo = hi;
        hi = swap;
    }
    int s_finite = src.start != PG_FRAME_MIN, e_finite = src.end != PG_FRAME_MAX;
    pg_extent e = all;
    if (v > 0.0 ? s_finite : e_finite)
        e.start = ws_first(v, floor(lo) + 1.0, src);
    if (v > 0.0 ? e_finite : s_finite)
        e.end = ws_last(v, ceil(hi), src);
    return e.start < e.end ? e : none;
}

static pg_status ws_infer(pe_node *n, pe_check *ck) {
    const pe_shape *src = &n->in[pe_slot(n, P_SRC)];
    double v = pe_num(n, P_SPEED);
    n->out = *src;
    if (!isfinite(v))
        return pe_fail(ck, PG_ERR_ARG, "WarpSpeedPE speed must be a finite number, got %g", v);
    n->out.extent = ws_extent(v, src->extent);
    return PG_OK;
}

// The source frames behind output frames `out`: [floor(v s), floor(v (e - 1)) + 2), ordered.
static void ws_need(const pe_node *n, int slot, pg_extent out, pg_extent *in) {
    double v = pe_num(n, P_SPEED);
    *in = out;
    if (slot != pe_slot(n, P_SRC) || pg_extent_is_empty(out))
        return;
    double a = out.start == PG_FRAME_MIN ? -HUGE_VAL : v * (double)out.start;
    double b = out.end == PG_FRAME_MAX ? HUGE_VAL : v * (double)(out.end - 1);
    double lo = a < b ? a : b, hi = a < b ? b : a;
    if (v == 0.0)
        lo = hi = 0.0;
    in->start = lo == -HUGE_VAL ? PG_FRAME_MIN : clamp_far(floor(lo));
    in->end = hi == HUGE_VAL ? PG_FRAME_MAX : clamp_far(floor(hi)) + 2;
}

// out[k] = src(tau_k) for k in [i, j), all reading source frames [lo, hi + 2).
static pg_status ws_interp_run(pe_inst *pe, double v, pg_frame t0, int64_t i, int64_t j,
                               pg_frame lo, pg_frame hi, pe_buf *out) {
    pe_view x;
    pg_status st = pe_pull(pe, pe_slot(pe->node, P_SRC), lo, hi - lo + 2, &x);
    if (st != PG_OK)
        return st;
    for (int c = 0; c < out->channels; c++) {
        const float *xs = pe_vch(&x, c);
        float *y = pe_ch(out, c);
        for (int64_t k = i; k < j; k++) {
            double tau = v * (double)(t0 + k), f = floor(tau);
            int64_t at = (int64_t)f - lo;
            double x0 = (double)xs[at], x1 = (double)xs[at + 1];
            y[k] = (float)((x1 - x0) * (tau - f) + x0);
        }
    }
    return PG_OK;
}

// QUIRK Q55: pygmu computes read positions as float32 (np.linspace(..., dtype=float32)),
// quantised to 2 frames and more past 2^24 frames; ours are v * t in double, exact for the
// speeds pieces use, and independent of the block.
static pg_status ws_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    double v = pe_num(pe->node, P_SPEED);
    // frames per pull so that the span read stays under MAX_SPAN_FRAMES
    int64_t step = fabs(v) * (double)MAX_SPAN_FRAMES < 1.0
                       ? n
                       : (int64_t)((double)(MAX_SPAN_FRAMES - 4) / fabs(v)) + 1;
    for (int64_t i = 0; i < n; i += step) {
        int64_t j = n - i < step ? n : i + step;
        double a = v * (double)(t0 + i), b = v * (double)(t0 + j - 1);
        double lo = floor(a < b ? a : b), hi = floor(a < b ? b : a);
        if (!(fabs(lo) <= FAR_FRAMES && fabs(hi) <= FAR_FRAMES)) {
            for (int c = 0; c < out->channels; c++)
                memset(pe_ch(out, c) + i, 0, sizeof(float) * (size_t)(j - i));
            continue;
        }
        pg_status st = ws_interp_run(pe, v, t0, i, j, (pg_frame)lo, (pg_frame)hi, out);
        if (st != PG_OK)
            return st;
    }
    return PG_OK;
}

const pe_kind pe_kind_warp_speed = {
    .name = "WarpSpeedPE",
    .method = "speed",
    .params = ws_params,
    .infer = ws_infer,
    .need = ws_need,
    .process = ws_process,
};

// `.warp_speed(rate, frame=0)`: the same PE under pygmu's other helper, whose parameter
// names differ; `frame` is accepted and ignored, as pygmu does.
// Its name starts with '_' so that it is no constructor (the BQ2 method kinds do the same).
const pe_kind pe_kind_warp_speed_method = {
    .name = "_warp_speed",
    .method = "warp_speed",
    .params = ws_method_params,
    .infer = ws_infer,
    .need = ws_need,
    .process = ws_process,
};
