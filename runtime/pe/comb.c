// comb.c: CombPE(src_pe, f0=440, q=20, filter_type='peak', pass_zero=False, frame_rate=None),
// after pygmu's comb_pe.py: f0 snaps to fs/N for a whole delay of N frames, and the
// coefficients are scipy.signal.iircomb's (Orfanidis, "Introduction to Signal Processing",
// eqs. 11.5.1-11.5.4): y[n] = b0 x[n] + bN x[n-N] - aN y[n-N], run as scipy's lfilter does
// (transposed direct form II, in double). Stateful: one N-frame delay line per channel. The
// extent grows by the ring-out tail.
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pe.h"

enum {
    P_SRC,
    P_F0,
    P_Q,
    P_TYPE,
    P_PASS_ZERO,
    P_FRAME_RATE
};

#define COMB_PI          3.14159265358979323846 // numpy's np.pi
#define COMB_TAIL_FLOOR  1e-7                   // the tail ends 140 dB down
#define COMB_MAX_SECONDS 60.0                   // longest delay and longest tail

typedef struct comb_design {
    int64_t delay_frames; // N
    double b0, bn, an;    // b[0], b[N], a[N]; a[0] = 1
} comb_design;

typedef struct comb_state {
    comb_design d;
    int channels;
    int64_t pos; // index into each delay line of the frame N frames back
    double *w;   // channels * N: bN x[n] - aN y[n], scipy's last delay, by channel
} comb_state;

static const pe_param comb_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "f0", PE_T_NUM, PE_P_GT0, PE_NUM(440) },
    { "q", PE_T_NUM, PE_P_GT0, PE_NUM(20) },
    { "filter_type", PE_T_STR, 0, PE_STR("peak") },
    { "pass_zero", PE_T_BOOL, 0, PE_BOOL(false) },
    { "frame_rate", PE_T_INT, PE_P_NONE_OK, PE_NONE },
    PE_PARAMS_END,
};

static bool is_peak(const pe_node *n) {
    return strcasecmp(n->args[P_TYPE].u.str, "peak") == 0;
}

// The delay N = max(round(fs/f0), 1), rounding halves to even as Python's round() does.
static int64_t delay_of(double fs, double f0) {
    double r = nearbyint(fs / f0);
    return r < 1 ? 1 : (int64_t)r;
}

// scipy.signal.iircomb(fs/N, q, ftype, fs, pass_zero), written as scipy computes it so the
// coefficients agree to the last bit. QUIRK Q22 (kept): the default 'peak' comb with
// pass_zero=False peaks at odd multiples of f0/2 and nulls f0 itself; that is scipy's
// definition, and pygmu pieces sound the way it makes them.
static comb_design comb_design_of(const pe_node *n, int fs) {
    comb_design d;
    double q = pe_num(n, P_Q);
    d.delay_frames = delay_of(fs, pe_num(n, P_F0));
    double w0 = 2 * COMB_PI * (fs / (double)d.delay_frames) / fs;
    double gb = 1 / sqrt(2.0), g0 = is_peak(n) ? 0 : 1, g = is_peak(n) ? 1 : 0;
    double beta =
        sqrt((gb * gb - g0 * g0) / (g * g - gb * gb)) * tan((double)d.delay_frames * (w0 / q) / 4);
    double ax = (1 - beta) / (1 + beta);
    double bx = (g0 + g * beta) / (1 + beta), cx = (g0 - g * beta) / (1 + beta);
    bool neg = is_peak(n) == n->args[P_PASS_ZERO].u.b;
    d.b0 = bx;
    d.bn = neg ? -cx : cx;
    d.an = neg ? -ax : ax;
    return d;
}

// After the source ends the output decays by |aN| every N frames; the first N frames also
// carry bN x[n-N].
static pg_frame tail_frames(const comb_design *d, int fs) {
    double cap = COMB_MAX_SECONDS * fs, a = fabs(d->an);
    double periods = a <= 0 ? 0 : a >= 1 ? cap : ceil(log(COMB_TAIL_FLOOR) / log(a));
    double t = (double)d->delay_frames * (1 + periods);
    return (pg_frame)(t < cap ? t : cap);
}

static pg_status comb_rate(const pe_node *n, pe_check *ck, int *fs) {
    *fs = n->in[pe_slot(n, P_SRC)].frame_rate;
    if (n->args[P_FRAME_RATE].type != PG_V_NONE) {
        int64_t fr = pe_int(n, P_FRAME_RATE);
        if (fr <= 0 || fr > 100000000)
            return pe_fail(ck, PG_ERR_ARG, "CombPE frame_rate must be > 0, got %lld",
                           (long long)fr);
        *fs = (int)fr; // the keyword wins over the source's rate, as in pygmu
    }
    if (*fs <= 0)
        return pe_fail(ck, PG_ERR_RATE,
                       "CombPE has no frame rate: its source has none and frame_rate is None");
    return PG_OK;
}

static pg_status comb_check(const pe_node *n, int fs, pe_check *ck) {
    const char *type = n->args[P_TYPE].u.str;
    double f0 = pe_num(n, P_F0), q = pe_num(n, P_Q);
    if (strcasecmp(type, "peak") != 0 && strcasecmp(type, "notch") != 0)
        return pe_fail(ck, PG_ERR_ARG, "CombPE filter_type must be 'peak' or 'notch', got '%s'",
                       type);
    // scipy requires 0 < fs/N < fs/2, i.e. a delay of 3 frames or more.
    if (!(f0 > 0) || delay_of(fs, f0) < 3)
        return pe_fail(ck, PG_ERR_ARG,
                       "CombPE f0 must round to a delay of at least 3 frames (f0 <= %g at "
                       "frame rate %d), got %g",
                       fs / 2.5, fs, f0);
    if ((double)delay_of(fs, f0) > COMB_MAX_SECONDS * fs)
        return pe_fail(ck, PG_ERR_ARG, "CombPE f0 must be >= %g Hz, got %g", 1 / COMB_MAX_SECONDS,
                       f0);
    // beta = tan(pi/(2q)): below q = 1 the poles leave the unit circle; q = 1 puts them on it
    // (a comb that rings for ever, which piece_RD03 approaches with max(1, q)).
    if (!(q >= 1) || !isfinite(q))
        return pe_fail(ck, PG_ERR_ARG, "CombPE q must be >= 1 (the comb is unstable below), got %g",
                       q);
    return PG_OK;
}

static pg_status comb_infer(pe_node *n, pe_check *ck) {
    const pe_shape *src = &n->in[pe_slot(n, P_SRC)];
    int fs;
    n->out = *src;
    if (comb_rate(n, ck, &fs) != PG_OK || comb_check(n, fs, ck) != PG_OK)
        return ck->status;
    comb_design d = comb_design_of(n, fs);
    n->out.frame_rate = fs;
    // QUIRK Q23: pygmu's extent is E(src) and the ring-out is cut at the first block that
    // misses it; ours runs on until it has decayed by 140 dB.
    if (!ck->nominal && !pg_extent_is_empty(src->extent) && src->extent.end != PG_FRAME_MAX) {
        pg_frame t = tail_frames(&d, fs);
        n->out.extent.end = src->extent.end > PG_FRAME_MAX - t ? PG_FRAME_MAX : src->extent.end + t;
    }
    return PG_OK;
}

static pg_status comb_init(pe_inst *pe) {
    comb_state *st = pe->state;
    st->d = comb_design_of(pe->node, pe->node->out.frame_rate);
    st->channels = pe->node->out.channels;
    st->w = calloc((size_t)st->channels * (size_t)st->d.delay_frames, sizeof *st->w);
    if (!st->w)
        return pe_error(pe, PG_ERR_NOMEM, "CombPE: out of memory for a %lld-frame delay",
                        (long long)st->d.delay_frames);
    return PG_OK;
}

static void comb_fini(pe_inst *pe) {
    comb_state *st = pe->state;
    free(st->w);
    st->w = NULL;
}

// m <= N frames from delay-line position p: no frame depends on another here, so the loop
// vectorises.
static void comb_run(const comb_design *d, double *restrict w, const float *restrict x,
                     float *restrict y, int64_t m) {
    double b0 = d->b0, bn = d->bn, an = d->an;
    for (int64_t i = 0; i < m; i++) {
        double xi = (double)x[i];
        double yi = w[i] + b0 * xi;
        w[i] = xi * bn - yi * an;
        y[i] = (float)yi;
    }
}

static pg_status comb_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    comb_state *st = pe->state;
    int64_t len = st->d.delay_frames, p = st->pos;
    pe_view in;
    pg_status s = pe_pull(pe, pe_slot(pe->node, P_SRC), t0, n, &in);
    if (s != PG_OK)
        return s;
    for (int64_t i = 0; i < n;) {
        int64_t m = n - i < len - p ? n - i : len - p;
        for (int c = 0; c < st->channels; c++)
            comb_run(&st->d, st->w + c * len + p, pe_vch(&in, c) + i, pe_ch(out, c) + i, m);
        i += m;
        p = p + m == len ? 0 : p + m;
    }
    st->pos = p;
    return PG_OK;
}

// The state a comb resumes from: the delay lines and where in them it is (the design comes
// from the arguments).
static size_t comb_save(const pe_inst *pe, void *out) {
    const comb_state *st = pe->state;
    size_t lines = sizeof *st->w * (size_t)st->channels * (size_t)st->d.delay_frames;
    if (out) {
        memcpy(out, &st->pos, sizeof st->pos);
        memcpy((char *)out + sizeof st->pos, st->w, lines);
    }
    return sizeof st->pos + lines;
}

static void comb_load(pe_inst *pe, const void *in) {
    comb_state *st = pe->state;
    memcpy(&st->pos, in, sizeof st->pos);
    memcpy(st->w, (const char *)in + sizeof st->pos,
           sizeof *st->w * (size_t)st->channels * (size_t)st->d.delay_frames);
}

const pe_kind pe_kind_comb = {
    .name = "CombPE",
    .params = comb_params,
    .flags = PE_F_STATEFUL | PE_F_TAIL | PE_F_INIT_OWN,
    .state_size = sizeof(comb_state),
    .infer = comb_infer,
    .init = comb_init,
    .process = comb_process,
    .fini = comb_fini,
    .save = comb_save,
    .load = comb_load,
};
