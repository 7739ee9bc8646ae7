// blit_saw.c: BlitSawPE(frequency=440.0, n_harmonics=0, frame_rate=None), after pygmu's
// blit_saw_pe.py (itself after STK's BlitSaw): a band-limited impulse train integrated by a
// leaky integrator into a falling sawtooth, mono, indefinite, always stateful (it starts at
// pe->origin). p = fr/f, C2 = 1/p, rate = pi/p, m = 2*floor(p/2)+1 (or 2*n_harmonics+1),
// a = m/p; phi = 0, state = -a/2; per sample tmp = (|sin phi| <= 1e-5 ? a : sin(m*phi)/(p*sin
// phi)) + state - C2, state = 0.995*tmp, phi = (phi + rate) mod pi, out (float)tmp; in double.
// A PE frequency runs that recurrence; a static one is computed a segment at a time with no
// serial chain but the integrator's, split in four (see "Static frequency" below).
#include <math.h>
#include <string.h>

#include "pe.h"

#define BLIT_PI      3.14159265358979323846 // numpy's np.pi
#define BLIT_EPSILON 0.00001
#define BLIT_LEAK    0.995

enum {
    P_FREQUENCY,
    P_N_HARMONICS,
    P_FRAME_RATE
};

typedef struct blit_params {
    double p, c2, rate, m, a;
} blit_params;

// Static frequency. Frame k since the origin lies in segment k / ANCHOR, which is always
// rendered whole (into the output, or into s->out when a block holds only part of it), so
// every sample is a function of k alone, whatever the blocks. sin(theta) and sin(m theta) at theta
// = k rate come from the angle-sum formula: the segment's start angles (exact every GROUP segments,
// rotated by a table entry in between) times per-render tables of cos/sin(j rate) and cos/sin(j m
// rate), j < ANCHOR; so no sample depends on the one before and the loop vectorises. The phase is
// not wrapped: m being odd, sin(m theta) / sin(theta) and |sin theta| are the same for theta and
// theta + pi.
enum {
    ANCHOR = 256, // frames per segment
    GROUP = 16,   // segments per exact start angle
    TSTEP = 16    // table entries per exact angle (ANCHOR / TSTEP of them)
};

typedef struct blit_rot { // e^(i t) and e^(i m t) for an angle t
    double c1, s1, cm, sm;
} blit_rot;

typedef struct blit_saw_state {
    blit_params k; // for a static frequency, from init on
    double phi;    // dynamic: radians in [0, pi)
    double state;  // dynamic: the integrator
    bool started;  // dynamic: state = -a/2 from the first frequency
    // static frequency only
    int64_t frames;       // rendered since the origin
    int64_t seg_index;    // the segment held in out, -1 before the first
    blit_rot base;        // at the start of the current group of segments
    blit_rot step[GROUP]; // rotations by b ANCHOR rate, b < GROUP
    double xh[3], yh[4];  // the integrator's history: x_{k-3..k-1}, tmp_{k-4..k-1}
    _Alignas(16) double tc1[ANCHOR], ts1[ANCHOR], tcm[ANCHOR], tsm[ANCHOR];
    _Alignas(16) float out[ANCHOR];
} blit_saw_state;

static const pe_param blit_saw_params[] = {
    { "frequency", PE_T_NUM_OR_PE, 0, PE_NUM(440.0) },
    { "n_harmonics", PE_T_INT, PE_P_GE0, PE_INT(0) },
    { "frame_rate", PE_T_INT, PE_P_NONE_OK | PE_P_GT0, PE_NONE },
    PE_PARAMS_END,
};

static pg_status blit_saw_infer_dynamic(pe_node *n, pe_check *ck, const pe_shape *f) {
    n->flags &= ~(unsigned)PE_F_GENERATOR; // it has a signal input
    return pe_check_control(n, ck, "frequency", f);
}

// QUIRK Q18: pygmu fails with a TypeError without a frame rate; ours falls back to the graph's
// default rate, or reports PG_ERR_RATE when there is none.
static pg_status blit_saw_infer(pe_node *n, pe_check *ck) {
    n->out.channels = 1;
    n->out.frame_rate = pe_rate_or_default(n, P_FRAME_RATE, ck);
    n->out.extent = (pg_extent){ PG_FRAME_MIN, PG_FRAME_MAX };
    if (n->out.frame_rate <= 0)
        return pe_fail(ck, PG_ERR_RATE, "BlitSawPE needs a frame_rate");
    int slot = pe_slot(n, P_FREQUENCY);
    if (slot >= 0)
        return blit_saw_infer_dynamic(n, ck, &n->in[slot]);
    double f = pe_num(n, P_FREQUENCY);
    if (!(f > 0) || !isfinite(f))
        return pe_fail(ck, PG_ERR_ARG, "BlitSawPE frequency must be > 0, got %g", f);
    return PG_OK;
}

// pygmu's initialize_frequency_params and update_harmonics.
static blit_params blit_saw_derive(double fr, double f, int64_t n_harmonics) {
    blit_params k;
    k.p = fr / f;
    k.c2 = 1 / k.p;
    k.rate = BLIT_PI / k.p;
    k.m = n_harmonics == 0 ? 2 * floor(0.5 * k.p) + 1 : 2 * (double)n_harmonics + 1;
    k.a = k.m / k.p;
    return k;
}

// Dekker's exact product without FMA: a * b = *hi + *lo exactly (|a b| far from overflow).
static void two_product(double a, double b, double *hi, double *lo) {
    double ta = 134217729.0 * a, tb = 134217729.0 * b; // 2^27 + 1 splits into 26-bit halves
    double ah = ta - (ta - a), al = a - ah;
    double bh = tb - (tb - b), bl = b - bh;
    *hi = a * b;
    *lo = ((ah * bh - *hi) + ah * bl + al * bh) + al * bl;
}

// count * rate mod 2 pi (pi as numpy's) for a whole count < 2^53 and 0 <= rate < 2 pi, to
// within an ulp of 2 pi however long the render: count * rate = hi + lo exactly, q 2 pi =
// qh + ql exactly, and hi - qh is exact (Sterbenz). fmod(hi, 2 pi) costs ~300 samples' time
// for the large counts of m theta.
static double blit_angle(double count, double rate) {
    double hi, lo, qh, ql;
    two_product(count, rate, &hi, &lo);
    two_product(floor(hi * (1 / (2 * BLIT_PI))), 2 * BLIT_PI, &qh, &ql);
    return ((hi - qh) - ql) + lo;
}

// e^(i t), e^(i m t) for t = count * rate, to the ulp. A rate beyond 2 pi (a frequency above
// the frame rate) is reduced first, exactly, so that the products cannot overflow.
static blit_rot blit_rot_at(const blit_params *k, double count) {
    double rate = fmod(k->rate, 2 * BLIT_PI);
    double t = blit_angle(count, rate), tm = blit_angle(count * k->m, rate);
    return (blit_rot){ cos(t), sin(t), cos(tm), sin(tm) };
}

// The angles' sums: e^(i (t + u)) = e^(i t) e^(i u), for both.
static blit_rot blit_rot_mul(blit_rot a, blit_rot b) {
    return (blit_rot){ a.c1 * b.c1 - a.s1 * b.s1, a.s1 * b.c1 + a.c1 * b.s1,
                       a.cm * b.cm - a.sm * b.sm, a.sm * b.cm + a.cm * b.sm };
}

// The angle-sum tables, exact every TSTEP entries and rotated in between (an ulp more; 32 exact
// angles instead of 256), and the rotations from a group's start to its segments.
static void blit_saw_init_tables(blit_saw_state *s) {
    blit_rot fine[TSTEP];
    for (int b = 0; b < TSTEP; b++)
        fine[b] = blit_rot_at(&s->k, b);
    for (int j = 0; j < ANCHOR; j += TSTEP) {
        blit_rot coarse = blit_rot_at(&s->k, j);
        for (int b = 0; b < TSTEP; b++) {
            blit_rot r = blit_rot_mul(coarse, fine[b]);
            s->tc1[j + b] = r.c1;
            s->ts1[j + b] = r.s1;
            s->tcm[j + b] = r.cm;
            s->tsm[j + b] = r.sm;
        }
    }
    for (int b = 0; b < GROUP; b++)
        s->step[b] = blit_rot_at(&s->k, (double)b * ANCHOR);
}

// QUIRK Q17: pygmu at 88ed1dd derives the parameters from 440 Hz whatever the frequency.
// Ours derives them from the frequency, and state = -a/2 from those parameters: that is what
// our conformance reference (01_tristan.ref.wav) holds.
static pg_status blit_saw_init(pe_inst *pe) {
    blit_saw_state *s = pe->state;
    const pe_node *nd = pe->node;
    s->phi = 0;
    if (pe_slot(nd, P_FREQUENCY) >= 0)
        return PG_OK; // set from the first frequency sample
    s->k = blit_saw_derive(nd->out.frame_rate, pe_num(nd, P_FREQUENCY), pe_int(nd, P_N_HARMONICS));
    blit_saw_init_tables(s);
    s->seg_index = -1;
    // x_{-3..-1} = 0 and tmp_{-k} = -a / (2 c^k), so that c^4 tmp_{n-4} = c^(n+1) tmp_{-1} for
    // n < 4 (see blit_integrate): tmp_0 = x_0 - a/2, pygmu's state = -a/2.
    double y = -0.5 * s->k.a;
    for (int i = 3; i >= 0; i--)
        s->yh[i] = y /= BLIT_LEAK;
    return PG_OK;
}

// QUIRK: pygmu accumulates phi = (phi + rate) mod pi sample by sample, so its phase carries
// the rounding of every addition (~1e-12 rad after 5 s, growing with time); a static saw here
// takes theta = k rate mod 2 pi to the ulp at each segment (and k m rate for m theta: reducing
// both by 2 pi keeps sin(m theta) / sin(theta) as pygmu's, m being odd). The outputs differ by
// a few float ulps (tests/pe/test_blit_saw.c compares them with the serial algorithm).
// Segments come in order from 0, so a group's exact start is computed before its other
// segments.
static blit_rot blit_anchor(blit_saw_state *s, int64_t index) {
    if (index % GROUP == 0)
        s->base = blit_rot_at(&s->k, (double)(index * ANCHOR));
    return blit_rot_mul(s->base, s->step[index % GROUP]);
}

// p sin(theta) at frame j of a segment whose start is (c1, s1) scaled by p: the one
// expression of both the vector loop and the pole test, so they agree to the bit.
static inline double blit_psin(const blit_saw_state *s, double c1, double s1, int j) {
    return s1 * s->tc1[j] + c1 * s->ts1[j];
}

// x = BLIT - C2 over a segment, the BLIT as sin(m theta) / (p sin theta) everywhere: at the
// poles blit_poles or blit_poles_dense then replace the inf, NaN (0 / 0, a quiet IEEE result,
// no trap) or inexact value. Testing for them here would cost a third of the loop: ?: would not
// vectorise (the compiler will not speculate a division) and a bit mask takes 7 instructions per
// pair.
static void blit_impulses(const blit_saw_state *s, blit_rot an, double *restrict x) {
    const double p = s->k.p, c2 = s->k.c2, c1 = p * an.c1, s1 = p * an.s1;
    for (int j = 0; j < ANCHOR; j++) {
        double n = an.sm * s->tcm[j] + an.cm * s->tsm[j]; // sin(m theta)
        x[j] = n / blit_psin(s, c1, s1, j) - c2;
    }
}

// Sets x[j] = a - C2 for the frames j0..j1 of a segment where |p sin theta| <= p epsilon
// (pygmu's |sin phi| <= epsilon, scaled as the vector loop computes it).
static void blit_pole_range(const blit_saw_state *s, blit_rot an, int j0, int j1, double *x) {
    const double p = s->k.p, c1 = p * an.c1, s1 = p * an.s1, eps = p * BLIT_EPSILON;
    for (int j = j0; j <= j1; j++)
        if (fabs(blit_psin(s, c1, s1, j)) <= eps)
            x[j] = s->k.a - s->k.c2;
}

// pygmu's BLIT is a where |sin theta| <= epsilon. theta = k rate reaches a multiple of pi at
// k = i p (i whole), so only frames within w = epsilon p / pi of some i p can be poles (w is
// widened for the rounding of i p and of the angles): a few per period, tested one by one.
static void blit_poles(const blit_saw_state *s, blit_rot an, int64_t first, double *x) {
    const double p = s->k.p, f = (double)first;
    const double w = 1.01 * BLIT_EPSILON / BLIT_PI * p + 1e-3 + 1e-15 * f;
    for (double i = ceil((f - w) / p); i * p - w - f <= ANCHOR - 1; i++) {
        double lo = i * p - w - f, hi = i * p + w - f; // the frames' offsets in the segment
        int j0 = lo <= 0 ? 0 : (int)lo + ((double)(int)lo < lo);
        int j1 = hi < 0 ? -1 : hi >= ANCHOR - 1 ? ANCHOR - 1 : (int)hi;
        blit_pole_range(s, an, j0, j1, x);
    }
}

// Bits of a double and back (memcpy: the defined way; compiled to nothing).
static uint64_t bits_of(double x) {
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}
static double double_of(uint64_t u) {
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

// The same test on every frame, for high notes (a pole every few frames, so one by one would
// cost more): y = x but a - C2 at the poles. A bit mask from the sign of eps - |p sin| selects,
// as ?: would not vectorise (the compiler will not speculate the load of x).
static void blit_poles_dense(const blit_saw_state *s, blit_rot an, const double *x,
                             double *restrict y) {
    const double p = s->k.p, c1 = p * an.c1, s1 = p * an.s1, eps = p * BLIT_EPSILON;
    const uint64_t pole = bits_of(s->k.a - s->k.c2);
    for (int j = 0; j < ANCHOR; j++) {
        uint64_t is_far = -(bits_of(eps - fabs(blit_psin(s, c1, s1, j))) >> 63); // all 1s or 0
        y[j] = double_of((bits_of(x[j]) & is_far) | (pole & ~is_far));
    }
}

// tmp_k = x_k + c tmp_{k-1} as four interleaved chains, tmp_k = u_k + c^4 tmp_{k-4} with
// u_k = x_k + c x_{k-1} + c^2 x_{k-2} + c^3 x_{k-3} (summed in that order): four samples in
// flight instead of one, the same arithmetic for every k. x[0..2] hold x_{k-3..k-1}.
static void blit_integrate(blit_saw_state *s, const double *x, float *restrict o) {
    const double c1 = BLIT_LEAK, c2 = c1 * c1, c3 = c2 * c1, c4 = c2 * c2;
    _Alignas(16) double y[4 + ANCHOR];
    memcpy(y, s->yh, sizeof s->yh);
    for (int j = 0; j < ANCHOR; j++) {
        y[j + 4] = (((x[j + 3] + c1 * x[j + 2]) + c2 * x[j + 1]) + c3 * x[j]) + c4 * y[j];
        o[j] = (float)y[j + 4];
    }
    memcpy(s->xh, x + ANCHOR, sizeof s->xh);
    memcpy(s->yh, y + ANCHOR, sizeof s->yh);
}

// Renders segment `index` (the one after the last rendered) into o. Below 8 frames per
// period the dense pole test is the cheaper (both set the same frames).
static void blit_segment(blit_saw_state *s, int64_t index, float *o) {
    _Alignas(16) double x[4 + ANCHOR], raw[ANCHOR]; // x[1..3]: the history, x[4..]: the segment
    memcpy(x + 1, s->xh, sizeof s->xh);
    blit_rot an = blit_anchor(s, index);
    if (s->k.p < 8) {
        blit_impulses(s, an, raw);
        blit_poles_dense(s, an, raw, x + 4);
    } else {
        blit_impulses(s, an, x + 4);
        blit_poles(s, an, index * ANCHOR, x + 4);
    }
    blit_integrate(s, x + 1, o);
}

// Frames [frames, frames + n) since the origin: whole segments straight into the output, the
// others through s->out.
static pg_status blit_saw_process_static(pe_inst *pe, int64_t n, pe_buf *out) {
    blit_saw_state *s = pe->state;
    float *o = pe_ch(out, 0);
    for (int64_t i = 0; i < n;) {
        int64_t k = s->frames + i, index = k / ANCHOR;
        int j0 = (int)(k % ANCHOR), len = (int)(n - i < ANCHOR - j0 ? n - i : ANCHOR - j0);
        if (len == ANCHOR) {
            blit_segment(s, index, o + i);
        } else {
            if (s->seg_index != index)
                blit_segment(s, index, s->out);
            s->seg_index = index;
            memcpy(o + i, s->out + j0, (size_t)len * sizeof *o);
        }
        i += len;
    }
    s->frames += n;
    return PG_OK;
}

// One output sample of a dynamic saw; advances phi and the integrator.
static double blit_saw_tick(blit_saw_state *s, const blit_params *k) {
    double den = sin(s->phi), tmp;
    if (fabs(den) <= BLIT_EPSILON)
        tmp = k->a;
    else
        tmp = sin(k->m * s->phi) / (k->p * den);
    tmp += s->state - k->c2;
    s->state = tmp * BLIT_LEAK;
    s->phi = fmod(s->phi + k->rate, BLIT_PI); // phi, rate >= 0: numpy's mod is fmod here
    return tmp;
}

// QUIRK Q19: pygmu checks only Python-number frequencies (a float32 0 slips through) and
// takes the initial state from 440 Hz; we reject any non-positive or non-finite sample and
// start the integrator at -a/2 of the first frequency.
static pg_status blit_saw_process_dynamic(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    blit_saw_state *s = pe->state;
    const pe_node *nd = pe->node;
    pe_view fv;
    pg_status st = pe_pull(pe, pe_slot(nd, P_FREQUENCY), t0, n, &fv);
    if (st != PG_OK)
        return st;
    const float *f = pe_vch(&fv, 0);
    float *o = pe_ch(out, 0);
    int64_t nh = pe_int(nd, P_N_HARMONICS);
    for (int64_t i = 0; i < n; i++) {
        if (!(f[i] > 0) || !isfinite(f[i]))
            return pe_error(pe, PG_ERR_ARG, "BlitSawPE frequency must be > 0, got %g at frame %lld",
                            (double)f[i], (long long)(t0 + i));
        blit_params k = blit_saw_derive(nd->out.frame_rate, (double)f[i], nh);
        if (!s->started) {
            s->state = -0.5 * k.a;
            s->started = true;
        }
        o[i] = (float)blit_saw_tick(s, &k);
    }
    return PG_OK;
}

static pg_status blit_saw_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    if (pe_slot(pe->node, P_FREQUENCY) >= 0)
        return blit_saw_process_dynamic(pe, t0, n, out);
    return blit_saw_process_static(pe, n, out);
}

const pe_kind pe_kind_blit_saw = {
    .name = "BlitSawPE",
    .method = NULL,
    .params = blit_saw_params,
    .flags = PE_F_GENERATOR | PE_F_STATEFUL,
    .state_size = sizeof(blit_saw_state),
    .infer = blit_saw_infer,
    .init = blit_saw_init,
    .process = blit_saw_process,
};
