// blit_saw.c: BlitSawPE(frequency=440.0, n_harmonics=0, frame_rate=None), after pygmu's
// blit_saw_pe.py (itself after STK's BlitSaw): a band-limited impulse train integrated by a
// leaky integrator into a falling sawtooth, mono, indefinite, always stateful (it starts at
// pe->origin). p = fr/f, C2 = 1/p, rate = pi/p, m = 2*floor(p/2)+1 (or 2*n_harmonics+1),
// a = m/p; phi = 0, state = -a/2; per sample tmp = (|sin phi| <= 1e-5 ? a : sin(m*phi)/(p*sin
// phi)) + state - C2, state = 0.995*tmp, phi = (phi + rate) mod pi, out (float)tmp; in double.
#include <math.h>

#include "pe.h"

#define BLIT_PI      3.14159265358979323846 // numpy's np.pi
#define BLIT_EPSILON 0.00001

enum {
    P_FREQUENCY,
    P_N_HARMONICS,
    P_FRAME_RATE
};

typedef struct blit_params {
    double p, c2, rate, m, a;
} blit_params;

// A static saw evaluates sin(phi) and sin(m phi) by rotating two phasors, re-anchored on
// exact values every ANCHOR samples since the origin (so independent of blocks): since m is
// odd, sin(m theta) / sin(theta) is the same for theta = phi and for the unwrapped
// theta = phi + j pi, so the phasors can run without the wrap.
enum {
    ANCHOR = 256
};

typedef struct phasors {
    double c1, s1, cm, sm;     // e^(i theta), e^(i m theta)
    double r1c, r1s, rmc, rms; // rotations per sample: e^(i rate), e^(i m rate)
    int64_t since_anchor;
} phasors;

typedef struct blit_saw_state {
    blit_params k; // for a static frequency, from init on
    phasors z;     // static frequency only
    double phi;    // radians in [0, pi)
    double state;  // the integrator
    bool started;  // a dynamic saw sets state = -a/2 from its first frequency
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

// QUIRK Q17: pygmu at 88ed1dd derives the parameters from 440 Hz whatever the frequency.
// Ours derives them from the frequency, and state = -a/2 from those parameters: that is what
// our conformance reference (01_tristan.ref.wav) holds bit for bit.
static pg_status blit_saw_init(pe_inst *pe) {
    blit_saw_state *s = pe->state;
    const pe_node *nd = pe->node;
    s->phi = 0;
    if (pe_slot(nd, P_FREQUENCY) >= 0)
        return PG_OK; // set from the first frequency sample
    s->k = blit_saw_derive(nd->out.frame_rate, pe_num(nd, P_FREQUENCY), pe_int(nd, P_N_HARMONICS));
    s->state = -0.5 * s->k.a;
    s->started = true;
    s->z.r1c = cos(s->k.rate);
    s->z.r1s = sin(s->k.rate);
    s->z.rmc = cos(s->k.m * s->k.rate);
    s->z.rms = sin(s->k.m * s->k.rate);
    return PG_OK;
}

// One output sample; advances phi and the integrator.
static double blit_saw_tick(blit_saw_state *s, const blit_params *k) {
    double den = sin(s->phi), tmp;
    if (fabs(den) <= BLIT_EPSILON)
        tmp = k->a;
    else
        tmp = sin(k->m * s->phi) / (k->p * den);
    tmp += s->state - k->c2;
    s->state = tmp * 0.995;
    s->phi = fmod(s->phi + k->rate, BLIT_PI); // phi, rate >= 0: numpy's mod is fmod here
    return tmp;
}

// pygmu's phi = (phi + rate) mod pi, exactly: for phi + rate in [pi, 2 pi) the subtraction
// is exact (Sterbenz), and fmod is exact too.
static double wrap_phi(double x) {
    return x < BLIT_PI ? x : x < 2 * BLIT_PI ? x - BLIT_PI : fmod(x, BLIT_PI);
}

static pg_status blit_saw_process_static(pe_inst *pe, int64_t n, pe_buf *out) {
    blit_saw_state *s = pe->state;
    const blit_params k = s->k;
    phasors z = s->z;
    double phi = s->phi, state = s->state;
    float *o = pe_ch(out, 0);
    for (int64_t i = 0; i < n; i++) {
        if (z.since_anchor == 0) {
            z.c1 = cos(phi);
            z.s1 = sin(phi);
            z.cm = cos(k.m * phi);
            z.sm = sin(k.m * phi);
        }
        double tmp = fabs(z.s1) <= BLIT_EPSILON ? k.a : z.sm / (k.p * z.s1);
        tmp += state - k.c2;
        state = tmp * 0.995;
        o[i] = (float)tmp;
        phi = wrap_phi(phi + k.rate);
        double c1 = z.c1, cm = z.cm;
        z.c1 = c1 * z.r1c - z.s1 * z.r1s;
        z.s1 = z.s1 * z.r1c + c1 * z.r1s;
        z.cm = cm * z.rmc - z.sm * z.rms;
        z.sm = z.sm * z.rmc + cm * z.rms;
        if (++z.since_anchor == ANCHOR)
            z.since_anchor = 0;
    }
    s->z = z;
    s->phi = phi;
    s->state = state;
    return PG_OK;
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
