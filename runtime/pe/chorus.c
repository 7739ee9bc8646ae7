// chorus.c: ChorusPE(src_pe, rate=1.5, depth=0.5, mix=0.5), after pygmu's chorus_pe.py:
// out(t) = (1 - mix) x(t) + mix x(t - D(t)), D(t) = depth fr/1000 (1 + sin(2 pi rate t/fr))
// frames (depth in milliseconds, so the delay sweeps 0 .. 2 depth ms), the fractional delay
// read by linear interpolation, t the absolute frame. A pure function of absolute time that
// reads its source's history through need(): any window, any block size, no state.
#include <math.h>
#include <stdint.h>

#include "pe.h"

enum {
    P_SRC,
    P_RATE,
    P_DEPTH,
    P_MIX
};

#define CHORUS_PI        3.14159265358979323846 // numpy's np.pi
#define CHORUS_MAX_DEPTH 1000.0                 // ms: a delay of up to 2 s

static const pe_param chorus_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "rate", PE_T_NUM, 0, PE_NUM(1.5) },
    { "depth", PE_T_NUM, PE_P_GE0, PE_NUM(0.5) },
    { "mix", PE_T_NUM, 0, PE_NUM(0.5) },
    PE_PARAMS_END,
};

// Frames of history a frame may read: x(t - d) and x(t - d - 1) with d <= floor(Dmax).
static pg_frame chorus_history(const pe_node *n, int fr) {
    double dmax = 2.0 * pe_num(n, P_DEPTH) * fr / 1000.0;
    return (pg_frame)floor(dmax) + 1;
}

static pg_status chorus_check(const pe_node *n, pe_check *ck) {
    double rate = pe_num(n, P_RATE), depth = pe_num(n, P_DEPTH), mix = pe_num(n, P_MIX);
    if (!isfinite(rate))
        return pe_fail(ck, PG_ERR_ARG, "ChorusPE rate must be finite, got %g", rate);
    if (!(depth <= CHORUS_MAX_DEPTH))
        return pe_fail(ck, PG_ERR_ARG, "ChorusPE depth must be <= %g ms, got %g", CHORUS_MAX_DEPTH,
                       depth);
    if (!isfinite(mix))
        return pe_fail(ck, PG_ERR_ARG, "ChorusPE mix must be finite, got %g", mix);
    return PG_OK;
}

// QUIRK Q21: pygmu's extent is E(src), cutting the delayed copy of the last frames; ours
// runs on while x(t - D(t)) can still read the source (at most the history length). E(src)
// stays the nominal extent (what .extent() answers and a render covers by default).
static pg_status chorus_infer(pe_node *n, pe_check *ck) {
    const pe_shape *src = &n->in[pe_slot(n, P_SRC)];
    n->out = *src;
    if (chorus_check(n, ck) != PG_OK)
        return ck->status;
    if (src->frame_rate <= 0)
        return pe_fail(ck, PG_ERR_RATE, "ChorusPE needs its source's frame rate");
    pg_frame h = chorus_history(n, src->frame_rate);
    if (!ck->nominal && !pg_extent_is_empty(src->extent) && src->extent.end != PG_FRAME_MAX)
        n->out.extent.end = src->extent.end > PG_FRAME_MAX - h ? PG_FRAME_MAX : src->extent.end + h;
    return PG_OK;
}

static void chorus_need(const pe_node *n, int slot, pg_extent out, pg_extent *in) {
    (void)slot;
    pg_frame h = chorus_history(n, n->out.frame_rate);
    *in = out;
    if (!pg_extent_is_empty(out) && out.start != PG_FRAME_MIN)
        in->start = out.start < PG_FRAME_MIN + h ? PG_FRAME_MIN : out.start - h;
}

enum {
    ANCHOR = 1024 // frames of absolute time between exact LFO values
};

// lfo[i] = the LFO at frame t0 + i, sin(2 pi rate (t / fr)) in pygmu's order of operations:
// exact at every multiple of ANCHOR frames and rotated in between (the LFO is slow: within
// ~1e-13 of sin(), four sin()s per 1024 frames instead of one per frame, and every value a
// function of its frame number only, never of the block). Four phasors, for the frames
// a, a + 1, a + 2, a + 3 of an anchor, each turn by four frames' angle: four independent
// chains of multiplies rather than one, which the CPU overlaps.
static void chorus_lfo(double rate, int fr, pg_frame t0, int64_t n, double *lfo) {
    double w4 = 4.0 * (2.0 * CHORUS_PI * rate / fr), wc = cos(w4), ws = sin(w4);
    for (int64_t i = 0; i < n;) {
        pg_frame t = t0 + i;
        pg_frame a = t >= 0 ? t / ANCHOR * ANCHOR : -((-t + ANCHOR - 1) / ANCHOR) * ANCHOR;
        double c[4], s[4];
        for (int k = 0; k < 4; k++) {
            double x = 2.0 * CHORUS_PI * rate * ((double)(a + k) / fr);
            c[k] = cos(x);
            s[k] = sin(x);
        }
        // frames u .. u + 3 at each step; those before t (the block starts inside the anchor)
        // or past the block are turned through, not written
        pg_frame end = a + ANCHOR < t0 + n ? a + ANCHOR : t0 + n;
        for (pg_frame u = a; u < end; u += 4) {
            if (u >= t && u + 4 <= end) { // (all but a block's first and last steps)
                for (int k = 0; k < 4; k++)
                    lfo[u + k - t0] = s[k];
            } else {
                for (int k = 0; k < 4; k++)
                    if (u + k >= t && u + k < end)
                        lfo[u + k - t0] = s[k];
            }
            for (int k = 0; k < 4; k++) {
                double ck = c[k];
                c[k] = ck * wc - s[k] * ws;
                s[k] = s[k] * wc + ck * ws;
            }
        }
        i = end - t0;
    }
}

// The end of the run of frames from i on whose whole delay is d[i]: eight frames compared at
// a time (a loop without an early exit, which vectorises), then one by one.
static int64_t run_end(const int32_t *d, int64_t i, int64_t n) {
    int32_t v = d[i];
    int64_t j = i + 1;
    for (; j + 8 <= n; j += 8) {
        int same = 0;
        for (int k = 0; k < 8; k++)
            same += d[j + k] == v;
        if (same != 8)
            break;
    }
    while (j < n && d[j] == v)
        j++;
    return j;
}

// y[i] for i in [i0, i1), where every frame reads its source d frames back: a run of
// frames whose whole delay is the same (the LFO is slow: thousands of frames at a time), so
// the reads are contiguous and the loop vectorises.
static void chorus_run(const float *x, float *y, const double *f, int32_t d, double mix, int64_t i0,
                       int64_t i1) {
    const float *xa = x - d, *xb = x - d - 1;
    for (int64_t i = i0; i < i1; i++) {
        double wet = (1.0 - f[i]) * (double)xa[i] + f[i] * (double)xb[i];
        y[i] = (float)((1.0 - mix) * (double)x[i] + mix * wet);
    }
}

// QUIRK Q21: pygmu resets the delay line every block (the first d + 1 frames of a block are
// dry), pads misaligned partial blocks at the wrong end and runs its LFO on a counter of
// frames rendered that wraps every second. Here the delay reads the source's real history
// (silence before its extent) and the LFO runs on absolute time.
static pg_status chorus_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const pe_node *nd = pe->node;
    int fr = nd->out.frame_rate;
    double rate = pe_num(nd, P_RATE), depth = pe_num(nd, P_DEPTH), mix = pe_num(nd, P_MIX);
    pg_frame h = chorus_history(nd, fr);
    pe_view v;
    pg_status st = pe_pull(pe, pe_slot(nd, P_SRC), t0 - h, n + h, &v);
    if (st != PG_OK)
        return st;
    int32_t *d = pe_scratch(pe, sizeof *d * (size_t)n);
    double *f = pe_scratch(pe, sizeof *f * (size_t)n);
    if (!d || !f)
        return pe_error(pe, PG_ERR_NOMEM, "ChorusPE: out of scratch memory");
    chorus_lfo(rate, fr, t0, n, f);
    // D = depth fr / 1000 (1 + lfo): at most 2 s of frames, so 32-bit whole frames, and the
    // loop vectorises (a division and a 64-bit conversion per frame did not)
    double scale = depth * fr / 1000.0;
    for (int64_t i = 0; i < n; i++) {
        double delay = scale * (1.0 + f[i]);
        d[i] = (int32_t)delay; // delay >= 0: truncation is floor
        f[i] = delay - (double)d[i];
    }
    for (int c = 0; c < out->channels; c++) {
        const float *x = pe_vch(&v, c) + h; // x[i] is frame t0 + i; x[-h] the oldest
        for (int64_t i = 0, j; i < n; i = j) {
            j = run_end(d, i, n);
            chorus_run(x, pe_ch(out, c), f, d[i], mix, i, j);
        }
    }
    return PG_OK;
}

const pe_kind pe_kind_chorus = {
    .name = "ChorusPE",
    .method = "chorus",
    .params = chorus_params,
    .flags = PE_F_TAIL,
    .infer = chorus_infer,
    .need = chorus_need,
    .process = chorus_process,
};
