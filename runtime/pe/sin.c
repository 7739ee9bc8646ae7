// sin.c: SinPE(frequency=440, amplitude=1.0, phase=0.0, frame_rate=None), after pygmu's
// sin_pe.py: a mono, indefinite sine. With a number for frequency it is stateless:
// out(t) = (float)amplitude * (float)sin(omega*t + phase), omega = frequency*2.0*pi/fr, the
// sine in double rounded to float32 and then scaled in float32, pygmu's order of roundings.
// With a PE for frequency (mono) it is stateful: a double phase accumulator phi starts at
// phase, out = (float)(amplitude * sin(phi)) (pygmu's double product), phi += f*2.0*pi/fr.
#include <math.h>
#include <string.h>

#include "pe.h"

#define SIN_PI 3.14159265358979323846 // numpy's np.pi

enum {
    P_FREQUENCY,
    P_AMPLITUDE,
    P_PHASE,
    P_FRAME_RATE
};

typedef struct sin_state {
    double phi; // radians, never wrapped (as pygmu)
} sin_state;

static const pe_param sin_params[] = {
    { "frequency", PE_T_NUM_OR_PE, 0, PE_NUM(440.0) },
    { "amplitude", PE_T_NUM, 0, PE_NUM(1.0) },
    { "phase", PE_T_NUM, 0, PE_NUM(0.0) },
    { "frame_rate", PE_T_INT, PE_P_NONE_OK | PE_P_GT0, PE_NONE },
    PE_PARAMS_END,
};

// A PE frequency must be mono at our rate; it makes the sine stateful (and no longer a
// generator: it has a signal input).
static pg_status sin_infer_dynamic(pe_node *n, pe_check *ck, const pe_shape *f) {
    n->flags = (n->flags | PE_F_STATEFUL) & ~(unsigned)PE_F_GENERATOR;
    return pe_check_control(n, ck, "frequency", f);
}

static pg_status sin_infer(pe_node *n, pe_check *ck) {
    n->out.channels = 1;
    n->out.frame_rate = pe_rate_or_default(n, P_FRAME_RATE, ck);
    n->out.extent = (pg_extent){ PG_FRAME_MIN, PG_FRAME_MAX };
    if (n->out.frame_rate <= 0)
        return pe_fail(ck, PG_ERR_RATE, "SinPE needs a frame_rate");
    int slot = pe_slot(n, P_FREQUENCY);
    if (slot >= 0)
        return sin_infer_dynamic(n, ck, &n->in[slot]);
    double f = pe_num(n, P_FREQUENCY);
    if (!isfinite(f))
        return pe_fail(ck, PG_ERR_ARG, "SinPE frequency must be finite, got %g", f);
    return PG_OK;
}

static pg_status sin_init(pe_inst *pe) {
    sin_state *s = pe->state;
    s->phi = pe_num(pe->node, P_PHASE);
    return PG_OK;
}

// The static sine is evaluated by rotating phasors instead of calling sin() per frame:
// exact values at anchors every ANCHOR frames of absolute time, then complex rotation, in
// LANES independent lanes (so the loop pipelines). Every value depends only on its frame
// number, never on the block, and stays within ~1e-13 of sin(omega * t + phase).
enum {
    ANCHOR = 1024,
    LANES = 4
};

// Writes amp * sin(omega * t + phase) for the whole segment [a, a + ANCHOR) into seg.
static void sin_segment(double omega, double phase, float amp, pg_frame a, float *seg) {
    double c[LANES], sn[LANES];
    for (int j = 0; j < LANES; j++) {
        double x = omega * (double)(a + j) + phase; // pygmu's argument, exactly
        c[j] = cos(x);
        sn[j] = sin(x);
    }
    double wc = cos(omega * LANES), ws = sin(omega * LANES);
    for (int k = 0; k < ANCHOR; k += LANES)
        for (int j = 0; j < LANES; j++) {
            seg[k + j] = amp * (float)sn[j];
            double cj = c[j];
            c[j] = cj * wc - sn[j] * ws;
            sn[j] = sn[j] * wc + cj * ws;
        }
}

static pg_status sin_process_static(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const pe_node *nd = pe->node;
    double omega = pe_num(nd, P_FREQUENCY) * 2.0 * SIN_PI / nd->out.frame_rate;
    double phase = pe_num(nd, P_PHASE);
    float amp = (float)pe_num(nd, P_AMPLITUDE);
    float *o = pe_ch(out, 0), seg[ANCHOR];
    for (pg_frame t = t0; t < t0 + n;) {
        pg_frame a = t >= 0 ? t / ANCHOR * ANCHOR : -((-t + ANCHOR - 1) / ANCHOR) * ANCHOR;
        pg_frame end = a + ANCHOR < t0 + n ? a + ANCHOR : t0 + n;
        if (t == a && end == a + ANCHOR) {
            sin_segment(omega, phase, amp, a, o + (t - t0)); // a whole segment: in place
        } else {
            sin_segment(omega, phase, amp, a, seg);
            memcpy(o + (t - t0), seg + (t - a), sizeof(float) * (size_t)(end - t));
        }
        t = end;
    }
    return PG_OK;
}

// QUIRK Q46: pygmu's accumulator ignores absolute time and continues from whatever was
// rendered last; ours starts at pe->origin (the start of what the render needs, so a
// cropped dynamic sine starts its phase at the crop) and sees contiguous windows.
static pg_status sin_process_dynamic(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const pe_node *nd = pe->node;
    sin_state *s = pe->state;
    double amp = pe_num(nd, P_AMPLITUDE), fr = nd->out.frame_rate;
    pe_view fv;
    pg_status st = pe_pull(pe, pe_slot(nd, P_FREQUENCY), t0, n, &fv);
    if (st != PG_OK)
        return st;
    const float *f = pe_vch(&fv, 0);
    float *o = pe_ch(out, 0);
    double phi = s->phi;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(f[i]))
            return pe_error(pe, PG_ERR_ARG, "SinPE frequency must be finite, got %g at frame %lld",
                            (double)f[i], (long long)(t0 + i));
        o[i] = (float)(amp * sin(phi));
        phi += (double)f[i] * 2.0 * SIN_PI / fr;
    }
    s->phi = phi;
    return PG_OK;
}

static pg_status sin_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    if (pe_slot(pe->node, P_FREQUENCY) >= 0)
        return sin_process_dynamic(pe, t0, n, out);
    return sin_process_static(pe, t0, n, out);
}

const pe_kind pe_kind_sin = {
    .name = "SinPE",
    .method = NULL,
    .params = sin_params,
    .flags = PE_F_GENERATOR,
    .state_size = sizeof(sin_state),
    .infer = sin_infer,
    .init = sin_init,
    .process = sin_process,
};
