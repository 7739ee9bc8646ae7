// biquad.c: pygmu's second-order filters: BiquadPE and BQ*PE (biquad_pe.py, mono only),
// Biquad2PE and BQ2*PE (biquad2_pe.py, any channel count, one history per channel) and the
// .lowpass() / .highpass() / .bandpass() methods. Both families share one design: the
// earlevel.com formulas (catalogue §6) in double, rounded to float32 as pygmu stores them,
// run in a double-precision direct form I. Stateful; the extent grows by the ring-out tail.
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pe.h"

typedef enum bq_type {
    BQ_BASE, // BiquadPE / Biquad2PE themselves: no coefficients
    BQ_LOWPASS,
    BQ_HIGHPASS,
    BQ_BANDPASS,
    BQ_BANDREJECT,
    BQ_ALLPASS,
    BQ_PEAK,
    BQ_LOWSHELF,
    BQ_HIGHSHELF,
} bq_type;

typedef struct bq_spec {
    const pe_kind *kind;
    bq_type type;
    const char *display; // the pygmu class named in messages (a method reports its class)
    bool is_mono_only;   // the BQ* family (biquad_pe.py checks for one channel)
} bq_spec;

typedef struct bq_coefs {
    double b0, b1, b2, a1, a2; // a0 = 1; each holds a float32 value, as pygmu stores them
} bq_coefs;

typedef struct bq_hist {
    double x1, x2, x3, y1, y2, y3; // x[n-1], x[n-2], x[n-3], y[n-1], y[n-2], y[n-3]
} bq_hist;

typedef struct bq_state {
    bq_coefs k;
    int channels;
    int64_t done;  // frames rendered since the origin: their parity picks the formula
    bq_hist *hist; // one per channel, made by init
} bq_state;

// The free response after the source ends is followed until it has decayed by this factor
// (-180 dB), and never for longer than BQ_TAIL_MAX_SEC.
#define BQ_TAIL_FLOOR   1e-9
#define BQ_TAIL_MAX_SEC 60.0

#define BQ_PI 3.14159265358979323846 // numpy's np.pi, the double nearest pi

static const bq_spec bq_specs[] = {
    { &pe_kind_biquad, BQ_BASE, "BiquadPE", true },
    { &pe_kind_bq_lowpass, BQ_LOWPASS, "BQLowPassPE", true },
    { &pe_kind_bq_highpass, BQ_HIGHPASS, "BQHighPassPE", true },
    { &pe_kind_bq_bandpass, BQ_BANDPASS, "BQBandPassPE", true },
    { &pe_kind_bq_bandreject, BQ_BANDREJECT, "BQBandRejectPE", true },
    { &pe_kind_bq_allpass, BQ_ALLPASS, "BQAllPassPE", true },
    { &pe_kind_bq_peak, BQ_PEAK, "BQPeakPE", true },
    { &pe_kind_bq_lowshelf, BQ_LOWSHELF, "BQLowShelfPE", true },
    { &pe_kind_bq_highshelf, BQ_HIGHSHELF, "BQHighShelfPE", true },
    { &pe_kind_biquad2, BQ_BASE, "Biquad2PE", false },
    { &pe_kind_bq2_lowpass, BQ_LOWPASS, "BQ2LowPassPE", false },
    { &pe_kind_bq2_highpass, BQ_HIGHPASS, "BQ2HighPassPE", false },
    { &pe_kind_bq2_bandpass, BQ_BANDPASS, "BQ2BandPassPE", false },
    { &pe_kind_bq2_bandreject, BQ_BANDREJECT, "BQ2BandRejectPE", false },
    { &pe_kind_bq2_allpass, BQ_ALLPASS, "BQ2AllPassPE", false },
    { &pe_kind_bq2_peak, BQ_PEAK, "BQ2PeakPE", false },
    { &pe_kind_bq2_lowshelf, BQ_LOWSHELF, "BQ2LowShelfPE", false },
    { &pe_kind_bq2_highshelf, BQ_HIGHSHELF, "BQ2HighShelfPE", false },
    { &pe_kind_bq2_lowpass_method, BQ_LOWPASS, "BQ2LowPassPE", false },
    { &pe_kind_bq2_highpass_method, BQ_HIGHPASS, "BQ2HighPassPE", false },
    { &pe_kind_bq2_bandpass_method, BQ_BANDPASS, "BQ2BandPassPE", false },
};

static const bq_spec *spec_of(const pe_kind *k) {
    for (size_t i = 0; i < sizeof bq_specs / sizeof bq_specs[0]; i++)
        if (bq_specs[i].kind == k)
            return &bq_specs[i];
    return &bq_specs[0];
}

// The index of the parameter called name, or -1 (the families differ in which they have).
static int param_index(const pe_kind *k, const char *name) {
    for (int i = 0; k->params[i].name; i++)
        if (strcmp(k->params[i].name, name) == 0)
            return i;
    return -1;
}

static double arg_or(const pe_node *n, const char *name, double def) {
    int k = param_index(n->kind, name);
    return k < 0 ? def : pe_num(n, k);
}

// ---- coefficients (catalogue §6 "Biquad coefficient formulas") ----

// Low-, high-, band-pass, band-reject and all-pass share the denominator.
static void design_default(bq_type type, double K, double q, bq_coefs *c) {
    double K2 = K * K;
    double norm = 1 / (1 + K / q + K2);
    c->a1 = 2 * (K2 - 1) * norm;
    c->a2 = (1 - K / q + K2) * norm;
    switch (type) {
    case BQ_LOWPASS:
        c->b0 = K2 * norm;
        c->b1 = 2 * c->b0;
        c->b2 = c->b0;
        break;
    case BQ_HIGHPASS:
        c->b0 = norm;
        c->b1 = -2 * c->b0;
        c->b2 = c->b0;
        break;
    case BQ_BANDPASS: // 0 dB at f0
        c->b0 = K * (norm / q);
        c->b1 = 0.0;
        c->b2 = -c->b0;
        break;
    case BQ_BANDREJECT:
        c->b0 = (K2 + 1) * norm;
        c->b1 = 2 * (K2 - 1) * norm;
        c->b2 = c->b0;
        break;
    case BQ_ALLPASS:
        c->b0 = c->a2;
        c->b1 = c->a1;
        c->b2 = 1;
        break;
    case BQ_BASE:
    case BQ_PEAK:
    case BQ_LOWSHELF:
    case BQ_HIGHSHELF:
        break;
    }
}

// Peaks for gain_db >= 0, notches below.
static void design_peak(double K, double q, double gain_db, bq_coefs *c) {
    double K2 = K * K, V = pow(10, fabs(gain_db) / 20);
    double kq = K / q, vkq = V * K / q;
    double num = gain_db >= 0 ? vkq : kq, den = gain_db >= 0 ? kq : vkq;
    double norm = 1 / (1 + den + K2);
    c->a1 = 2 * (K2 - 1) * norm;
    c->a2 = (1 - den + K2) * norm;
    c->b0 = (1 + num + K2) * norm;
    c->b1 = c->a1;
    c->b2 = (1 - num + K2) * norm;
}

// The gain applies below f0; the shelf slope is fixed (no q).
static void design_lowshelf(double K, double gain_db, bq_coefs *c) {
    double K2 = K * K, V = pow(10, fabs(gain_db) / 20);
    double s2 = sqrt(2.0), s2v = sqrt(2 * V);
    if (gain_db >= 0) {
        double norm = 1 / (1 + s2 * K + K2);
        c->a1 = 2 * (K2 - 1) * norm;
        c->a2 = (1 - s2 * K + K2) * norm;
        c->b0 = (1 + s2v * K + V * K2) * norm;
        c->b1 = 2 * (V * K2 - 1) * norm;
        c->b2 = (1 - s2v * K + V * K2) * norm;
    } else {
        double norm = 1 / (1 + s2v * K + V * K2);
        c->b0 = (1 + s2 * K + K2) * norm;
        c->b1 = 2 * (K2 - 1) * norm;
        c->b2 = (1 - s2 * K + K2) * norm;
        c->a1 = 2 * (V * K2 - 1) * norm;
        c->a2 = (1 - s2v * K + V * K2) * norm;
    }
}

// Unity gain at DC, V at Nyquist.
static void design_highshelf(double K, double gain_db, bq_coefs *c) {
    double K2 = K * K, V = pow(10, fabs(gain_db) / 20);
    double s2 = sqrt(2.0), s2v = sqrt(2 * V);
    if (gain_db >= 0) {
        double norm = 1 / (1 + s2 * K + K2);
        c->a1 = 2 * (K2 - 1) * norm;
        c->a2 = (1 - s2 * K + K2) * norm;
        c->b0 = (V + s2v * K + K2) * norm;
        c->b1 = 2 * (K2 - V) * norm;
        c->b2 = (V - s2v * K + K2) * norm;
    } else {
        double norm = 1 / (V + s2v * K + K2);
        c->a1 = 2 * (K2 - V) * norm;
        c->a2 = (V - s2v * K + K2) * norm;
        c->b0 = (1 + s2 * K + K2) * norm;
        c->b1 = 2 * (K2 - 1) * norm;
        c->b2 = (1 - s2 * K + K2) * norm;
    }
}

static double to_f32(double x) {
    return (double)(float)x;
}

// The node's coefficients at frame rate fs, rounded to float32 as pygmu stores them: that
// rounding moves the poles measurably, so keeping it is what matches pygmu's renders.
static void design(const pe_node *n, bq_type type, int fs, bq_coefs *c) {
    double f0 = arg_or(n, "f0", 440), q = arg_or(n, "q", 20), g = arg_or(n, "gain_db", 0);
    double K = tan(BQ_PI * f0 / fs);
    memset(c, 0, sizeof *c);
    if (type == BQ_PEAK)
        design_peak(K, q, g, c);
    else if (type == BQ_LOWSHELF)
        design_lowshelf(K, g, c);
    else if (type == BQ_HIGHSHELF)
        design_highshelf(K, g, c);
    else
        design_default(type, K, q, c);
    c->b0 = to_f32(c->b0);
    c->b1 = to_f32(c->b1);
    c->b2 = to_f32(c->b2);
    c->a1 = to_f32(c->a1);
    c->a2 = to_f32(c->a2);
}

// ---- infer ----

// Frames the free response needs to decay by BQ_TAIL_FLOOR: from the larger pole radius r
// of z^2 + a1 z + a2, plus the two frames of the feed-forward history.
static pg_frame tail_frames(const bq_coefs *c, int fs) {
    double disc = c->a1 * c->a1 - 4 * c->a2;
    double r = disc < 0 ? sqrt(c->a2) : (fabs(c->a1) + sqrt(disc)) / 2;
    double cap = BQ_TAIL_MAX_SEC * fs;
    double t = r <= 0 ? 0 : r >= 1 ? cap : ceil(log(BQ_TAIL_FLOOR) / log(r));
    return (pg_frame)(t < cap ? t : cap) + 2;
}

// QUIRK Q23-like: pygmu reports E(src) but keeps ringing after it whenever a mix pulls it;
// we put the ring-out inside the extent instead of cutting it or leaving it outside.
static pg_extent with_tail(pg_extent e, pg_frame tail) {
    if (pg_extent_is_empty(e) || e.end == PG_FRAME_MAX)
        return e;
    e.end = e.end > PG_FRAME_MAX - tail ? PG_FRAME_MAX : e.end + tail;
    return e;
}

// The keyword frame rate, else the source's (the keyword wins, as in pygmu).
static pg_status resolve_rate(const pe_node *n, const bq_spec *s, pe_check *ck, int *rate) {
    int k = param_index(n->kind, "frame_rate");
    *rate = n->in[pe_slot(n, 0)].frame_rate;
    if (k >= 0 && n->args[k].type != PG_V_NONE) {
        int64_t fr = pe_int(n, k);
        if (fr <= 0 || fr > 100000000)
            return pe_fail(ck, PG_ERR_ARG, "%s frame_rate must be > 0, got %lld", s->display,
                           (long long)fr);
        *rate = (int)fr;
    }
    if (*rate <= 0)
        return pe_fail(ck, PG_ERR_RATE,
                       "%s has no frame rate: its source has none and frame_rate is None",
                       s->display);
    return PG_OK;
}

static pg_status check_args(const pe_node *n, const bq_spec *s, int fs, pe_check *ck) {
    double f0 = arg_or(n, "f0", 440), q = arg_or(n, "q", 20), g = arg_or(n, "gain_db", 0);
    if (!(f0 > 0 && f0 < fs / 2.0))
        return pe_fail(ck, PG_ERR_ARG, "%s f0 must be > 0 and < frame_rate/2 = %g, got %g",
                       s->display, fs / 2.0, f0);
    if (!(q > 0) || !isfinite(q))
        return pe_fail(ck, PG_ERR_ARG, "%s q must be > 0, got %g", s->display, q);
    if (!isfinite(g) || fabs(g) > 200)
        return pe_fail(ck, PG_ERR_ARG, "%s gain_db must be within +-200, got %g", s->display, g);
    return PG_OK;
}

static pg_status bq_infer(pe_node *n, pe_check *ck) {
    const bq_spec *s = spec_of(n->kind);
    const pe_shape *src = &n->in[pe_slot(n, 0)];
    int fs;
    n->out = *src; // a shape error still leaves the node a usable shape
    // QUIRK Q15: pygmu's bare base classes have garbage (BiquadPE) or zero (Biquad2PE)
    // coefficients; asking for one is a mistake we report.
    if (s->type == BQ_BASE)
        return pe_fail(ck, PG_ERR_ARG,
                       "%s is a base class without coefficients: use %s, e.g. %sLowPassPE, "
                       "HighPassPE, BandPassPE, BandRejectPE, AllPassPE, PeakPE, LowShelfPE "
                       "or HighShelfPE",
                       s->display, s->is_mono_only ? "BQ*PE" : "BQ2*PE",
                       s->is_mono_only ? "BQ" : "BQ2");
    if (resolve_rate(n, s, ck, &fs) != PG_OK)
        return ck->status;
    if (s->is_mono_only && src->channels != 1)
        return pe_fail(ck, PG_ERR_CHANNELS,
                       "channel count mismatch: %s takes a mono source, got %d channels "
                       "(BQ2*PE filters any channel count)",
                       s->display, src->channels);
    if (check_args(n, s, fs, ck) != PG_OK)
        return ck->status;
    bq_coefs c;
    design(n, s->type, fs, &c);
    n->out.frame_rate = fs;
    n->out.extent = ck->nominal ? src->extent : with_tail(src->extent, tail_frames(&c, fs));
    return PG_OK;
}

// ---- render ----

static pg_status bq_init(pe_inst *pe) {
    bq_state *st = pe->state;
    const pe_node *n = pe->node;
    design(n, spec_of(n->kind)->type, n->out.frame_rate, &st->k);
    st->channels = n->out.channels;
    st->hist = calloc((size_t)st->channels, sizeof *st->hist);
    if (!st->hist)
        return pe_error(pe, PG_ERR_NOMEM, "%s: out of memory", spec_of(n->kind)->display);
    return PG_OK;
}

static void bq_fini(pe_inst *pe) {
    bq_state *st = pe->state;
    free(st->hist);
    st->hist = NULL;
}

// Direct form I in double, y[n] = f[n] - a1 y[n-1] - a2 y[n-2] with the feed-forward part
// f[n] = b0 x[n] + b1 x[n-1] + b2 x[n-2]. Its speed is set by the chain through a1 y[n-1], so
// frames at an odd distance from the origin use the same recursion unrolled once,
// y[n] = (f[n] - a1 f[n-1]) + (a1^2 - a2) y[n-2] + a1 a2 y[n-3], and each pair of frames is
// computed from y[n-1], y[n-2] at once. The formula depends only on a frame's parity, never
// on where blocks start, so the output is the same for every block size.
typedef struct bq_run_k {
    double b0, b1, b2, a1, a2, c1, c2; // c1 = a1^2 - a2, c2 = a1 a2
} bq_run_k;

static double bq_even(const bq_run_k *k, const bq_hist *h, double x0) {
    return k->b0 * x0 + k->b1 * h->x1 + k->b2 * h->x2 - k->a2 * h->y2 - k->a1 * h->y1;
}

static double bq_odd(const bq_run_k *k, const bq_hist *h, double x0) {
    double f0 = k->b0 * x0 + k->b1 * h->x1 + k->b2 * h->x2;
    double f1 = k->b0 * h->x1 + k->b1 * h->x2 + k->b2 * h->x3;
    return (f0 - k->a1 * f1) + k->c1 * h->y2 + k->c2 * h->y3;
}

static void bq_push(bq_hist *h, double x0, double y0) {
    *h = (bq_hist){ x0, h->x1, h->x2, y0, h->y1, h->y2 };
}

// Frame i, at an odd distance from the origin.
static inline void bq_one_odd(const bq_run_k *k, bq_hist *h, const float *x, float *y, int64_t i) {
    double y0 = bq_odd(k, h, (double)x[i]);
    bq_push(h, (double)x[i], y0);
    y[i] = (float)y0;
}

// Frame i, at an even distance from the origin.
static inline void bq_one_even(const bq_run_k *k, bq_hist *h, const float *x, float *y, int64_t i) {
    double y0 = bq_even(k, h, (double)x[i]);
    bq_push(h, (double)x[i], y0);
    y[i] = (float)y0;
}

// Frames i (even) and i + 1 (odd), both from the history before i.
static inline void bq_pair(const bq_run_k *k, bq_hist *h, const float *x, float *y, int64_t i) {
    double xa = (double)x[i], xb = (double)x[i + 1];
    double fa = k->b0 * xa + k->b1 * h->x1 + k->b2 * h->x2;
    double fb = k->b0 * xb + k->b1 * xa + k->b2 * h->x1;
    double ya = fa - k->a2 * h->y2 - k->a1 * h->y1;
    double yb = (fb - k->a1 * fa) + k->c1 * h->y1 + k->c2 * h->y2;
    *h = (bq_hist){ xb, xa, h->x1, yb, ya, h->y1 };
    y[i] = (float)ya;
    y[i + 1] = (float)yb;
}

// n frames of one channel, the first at an odd distance from the origin when is_odd.
static void bq_run(const bq_run_k *k, bq_hist *hp, const float *x, float *y, int64_t n,
                   bool is_odd) {
    bq_hist h = *hp;
    int64_t i = 0;
    if (is_odd && n > 0)
        bq_one_odd(k, &h, x, y, i++);
    for (; i + 1 < n; i += 2)
        bq_pair(k, &h, x, y, i);
    if (i < n)
        bq_one_even(k, &h, x, y, i);
    *hp = h;
}

// Two channels at once, each exactly as bq_run computes it, in the two lanes of a vector
// (GCC's and Clang's vector extension: plain SSE2 on x86-64, and the same IEEE operations
// lane by lane as the scalar code, so the same bits): a stereo filter at about the speed of
// a mono one.
typedef double bq_v2 __attribute__((vector_size(16)));

typedef struct bq_hist2 {
    bq_v2 x1, x2, x3, y1, y2, y3;
} bq_hist2;

static void bq_run2(const bq_run_k *k, bq_hist *hp, const float *const x[2], float *const y[2],
                    int64_t n, bool is_odd) {
    int64_t i = 0;
    if (is_odd && n > 0) {
        bq_one_odd(k, &hp[0], x[0], y[0], i);
        bq_one_odd(k, &hp[1], x[1], y[1], i++);
    }
    bq_hist2 h = { { hp[0].x1, hp[1].x1 }, { hp[0].x2, hp[1].x2 }, { hp[0].x3, hp[1].x3 },
                   { hp[0].y1, hp[1].y1 }, { hp[0].y2, hp[1].y2 }, { hp[0].y3, hp[1].y3 } };
    for (; i + 1 < n; i += 2) {
        bq_v2 xa = { (double)x[0][i], (double)x[1][i] };
        bq_v2 xb = { (double)x[0][i + 1], (double)x[1][i + 1] };
        bq_v2 fa = k->b0 * xa + k->b1 * h.x1 + k->b2 * h.x2;
        bq_v2 fb = k->b0 * xb + k->b1 * xa + k->b2 * h.x1;
        bq_v2 ya = fa - k->a2 * h.y2 - k->a1 * h.y1;
        bq_v2 yb = (fb - k->a1 * fa) + k->c1 * h.y1 + k->c2 * h.y2;
        h = (bq_hist2){ xb, xa, h.x1, yb, ya, h.y1 };
        y[0][i] = (float)ya[0];
        y[1][i] = (float)ya[1];
        y[0][i + 1] = (float)yb[0];
        y[1][i + 1] = (float)yb[1];
    }
    for (int c = 0; c < 2; c++)
        hp[c] = (bq_hist){ h.x1[c], h.x2[c], h.x3[c], h.y1[c], h.y2[c], h.y3[c] };
    if (i < n) {
        bq_one_even(k, &hp[0], x[0], y[0], i);
        bq_one_even(k, &hp[1], x[1], y[1], i);
    }
}

static pg_status bq_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    bq_state *st = pe->state;
    const bq_coefs *q = &st->k;
    bq_run_k k = { q->b0, q->b1, q->b2, q->a1, q->a2, q->a1 * q->a1 - q->a2, q->a1 * q->a2 };
    pe_view in;
    pg_status s = pe_pull(pe, pe_slot(pe->node, 0), t0, n, &in);
    if (s != PG_OK)
        return s;
    int c = 0;
    for (; c + 1 < st->channels; c += 2) {
        const float *x[2] = { pe_vch(&in, c), pe_vch(&in, c + 1) };
        float *y[2] = { pe_ch(out, c), pe_ch(out, c + 1) };
        bq_run2(&k, &st->hist[c], x, y, n, st->done & 1);
    }
    if (c < st->channels)
        bq_run(&k, &st->hist[c], pe_vch(&in, c), pe_ch(out, c), n, st->done & 1);
    st->done += n;
    return PG_OK;
}

// What decides the frames to come: the frame count (its parity picks the formula) and each
// channel's history.
static size_t bq_save(const pe_inst *pe, void *out) {
    const bq_state *st = pe->state;
    size_t hist = sizeof *st->hist * (size_t)st->channels;
    if (out) {
        memcpy(out, &st->done, sizeof st->done);
        memcpy((char *)out + sizeof st->done, st->hist, hist);
    }
    return sizeof st->done + hist;
}

static void bq_load(pe_inst *pe, const void *in) {
    bq_state *st = pe->state;
    memcpy(&st->done, in, sizeof st->done);
    memcpy(st->hist, (const char *)in + sizeof st->done, sizeof *st->hist * (size_t)st->channels);
}

// ---- descriptors ----

#define FRAME_RATE_PARAM                                                                           \
    { "frame_rate", PE_T_INT, PE_P_NONE_OK, PE_NONE }

static const pe_param base_params[] = {
    { "src", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    FRAME_RATE_PARAM,
    PE_PARAMS_END,
};

static const pe_param fq_params[] = {
    // low-, high-, band-pass, band-reject, all-pass
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "f0", PE_T_NUM, PE_P_GT0, PE_NUM(440) },
    { "q", PE_T_NUM, PE_P_GT0, PE_NUM(20) },
    FRAME_RATE_PARAM,
    PE_PARAMS_END,
};

static const pe_param peak_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "f0", PE_T_NUM, PE_P_GT0, PE_NUM(440) },
    { "q", PE_T_NUM, PE_P_GT0, PE_NUM(20) },
    { "gain_db", PE_T_NUM, 0, PE_NUM(0) },
    FRAME_RATE_PARAM,
    PE_PARAMS_END,
};

static const pe_param shelf_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "f0", PE_T_NUM, PE_P_GT0, PE_NUM(440) },
    { "gain_db", PE_T_NUM, 0, PE_NUM(0) },
    FRAME_RATE_PARAM,
    PE_PARAMS_END,
};

// The chaining methods have their own defaults (pyg_pe.py) and no frame_rate.
static const pe_param lowpass_method_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "f0", PE_T_NUM, PE_P_GT0, PE_NUM(330) },
    { "q", PE_T_NUM, PE_P_GT0, PE_NUM(10) },
    PE_PARAMS_END,
};

static const pe_param bandpass_method_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "f0", PE_T_NUM, PE_P_GT0, PE_NUM(830) },
    { "q", PE_T_NUM, PE_P_GT0, PE_NUM(4) },
    PE_PARAMS_END,
};

#define BQ_KIND(cname, meth, plist)                                                                \
    {                                                                                              \
        .name = cname, .method = meth, .params = plist,                                            \
        .flags = PE_F_STATEFUL | PE_F_TAIL | PE_F_INIT_OWN, .state_size = sizeof(bq_state),        \
        .infer = bq_infer, .init = bq_init, .process = bq_process, .fini = bq_fini,                \
        .save = bq_save, .load = bq_load,                                                          \
    }

const pe_kind pe_kind_biquad = BQ_KIND("BiquadPE", NULL, base_params);
const pe_kind pe_kind_bq_lowpass = BQ_KIND("BQLowPassPE", NULL, fq_params);
const pe_kind pe_kind_bq_highpass = BQ_KIND("BQHighPassPE", NULL, fq_params);
const pe_kind pe_kind_bq_bandpass = BQ_KIND("BQBandPassPE", NULL, fq_params);
const pe_kind pe_kind_bq_bandreject = BQ_KIND("BQBandRejectPE", NULL, fq_params);
const pe_kind pe_kind_bq_allpass = BQ_KIND("BQAllPassPE", NULL, fq_params);
const pe_kind pe_kind_bq_peak = BQ_KIND("BQPeakPE", NULL, peak_params);
const pe_kind pe_kind_bq_lowshelf = BQ_KIND("BQLowShelfPE", NULL, shelf_params);
const pe_kind pe_kind_bq_highshelf = BQ_KIND("BQHighShelfPE", NULL, shelf_params);

const pe_kind pe_kind_biquad2 = BQ_KIND("Biquad2PE", NULL, base_params);
const pe_kind pe_kind_bq2_lowpass = BQ_KIND("BQ2LowPassPE", NULL, fq_params);
const pe_kind pe_kind_bq2_highpass = BQ_KIND("BQ2HighPassPE", NULL, fq_params);
const pe_kind pe_kind_bq2_bandpass = BQ_KIND("BQ2BandPassPE", NULL, fq_params);
const pe_kind pe_kind_bq2_bandreject = BQ_KIND("BQ2BandRejectPE", NULL, fq_params);
const pe_kind pe_kind_bq2_allpass = BQ_KIND("BQ2AllPassPE", NULL, fq_params);
const pe_kind pe_kind_bq2_peak = BQ_KIND("BQ2PeakPE", NULL, peak_params);
const pe_kind pe_kind_bq2_lowshelf = BQ_KIND("BQ2LowShelfPE", NULL, shelf_params);
const pe_kind pe_kind_bq2_highshelf = BQ_KIND("BQ2HighShelfPE", NULL, shelf_params);

// Hidden kinds behind the methods: a leading '_' keeps them out of the constructor names.
const pe_kind pe_kind_bq2_lowpass_method = BQ_KIND("_lowpass", "lowpass", lowpass_method_params);
const pe_kind pe_kind_bq2_highpass_method = BQ_KIND("_highpass", "highpass", lowpass_method_params);
const pe_kind pe_kind_bq2_bandpass_method =
    BQ_KIND("_bandpass", "bandpass", bandpass_method_params);
