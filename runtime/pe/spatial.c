// spatial.c: SpatialPE(src_pe, degree=0, theta=None, curve='cosine', frame_rate=None), after
// pygmu's spatial_pe.py: a stereo panner with an interaural delay, as one kernel instead of
// pygmu's two MonoPE -> TimeShiftPE -> GainPE chains. theta = pi*degree/180 unless given;
// the far ear hears the mono source int((0.22/343)*sin(theta)*rate) frames late; the gains
// are cos/sin of (theta + pi/2)/2 ('cosine'), 1-u/u with u = (theta + pi/2)/pi ('linear')
// or 1/1 ('none'), computed in double and applied in float32 as GainPE does.
#include <math.h>
#include <string.h>

#include "pe.h"

enum {
    P_SRC,
    P_DEGREE,
    P_THETA,
    P_CURVE,
    P_RATE
};

#define SPATIAL_PI         3.14159265358979323846
#define HEAD_RADIUS_M      0.22
#define SPEED_OF_SOUND_MPS 343.0

static const pe_param spatial_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },     // any channel count, averaged
    { "degree", PE_T_NUM, 0, PE_NUM(0.0) },            // -90 hard left .. 90 hard right
    { "theta", PE_T_NUM, PE_P_NONE_OK, PE_NONE },      // radians; overrides degree
    { "curve", PE_T_STR, 0, PE_STR("cosine") },        // 'cosine', 'linear' or 'none'
    { "frame_rate", PE_T_INT, PE_P_NONE_OK, PE_NONE }, // Hz; default: the source's
    PE_PARAMS_END,
};

typedef struct spatial_geom {
    double gain[2];  // left, right
    int64_t delay;   // frames the far ear lags, >= 0
    int delayed_ear; // 0 left, 1 right, -1 none
} spatial_geom;

static double spatial_theta(const pe_node *n) {
    if (n->args[P_THETA].type != PG_V_NONE)
        return pe_num(n, P_THETA);
    return SPATIAL_PI * pe_num(n, P_DEGREE) / 180.0;
}

// Gains for a curve name; returns 0 for an unknown curve.
static int spatial_gains(const char *curve, double theta, double gain[2]) {
    if (strcmp(curve, "cosine") == 0) {
        double omega = (theta + SPATIAL_PI / 2) / 2;
        gain[0] = cos(omega);
        gain[1] = sin(omega);
    } else if (strcmp(curve, "linear") == 0) {
        // utils.lerp(theta, -pi/2, pi/2, 0, 1), written as pygmu evaluates it
        double u =
            0.0 + (theta - -SPATIAL_PI / 2) * (1.0 - 0.0) / (SPATIAL_PI / 2 - -SPATIAL_PI / 2);
        gain[0] = 1 - u;
        gain[1] = u;
    } else if (strcmp(curve, "none") == 0) {
        gain[0] = gain[1] = 1.0;
    } else {
        return 0; // QUIRK: pygmu silently treated any other string as 'none'
    }
    return 1;
}

// The geometry at frame rate `rate`: the delay truncates toward zero like Python's int().
static int spatial_geometry(const pe_node *n, int rate, spatial_geom *g) {
    double theta = spatial_theta(n);
    double d = (HEAD_RADIUS_M / SPEED_OF_SOUND_MPS) * sin(theta) * (double)rate;
    g->delay = (int64_t)fabs(d);
    g->delayed_ear = d > 0 ? 0 : d < 0 ? 1 : -1;
    return spatial_gains(n->args[P_CURVE].u.str, theta, g->gain);
}

// QUIRK Q48: pygmu took frame_rate from the keyword only to validate it and then used the
// source's rate anyway (and failed with the keyword alone); here the keyword, when given, is
// the node's rate and the rate of the delay. Without it the source's rate is used.
static pg_status spatial_rate(pe_node *n, const pe_shape *src, pe_check *ck) {
    if (n->args[P_RATE].type != PG_V_NONE) {
        int64_t r = pe_int(n, P_RATE);
        if (r <= 0 || r > 1000000000)
            return pe_fail(ck, PG_ERR_ARG, "SpatialPE frame_rate must be > 0, got %lld",
                           (long long)r);
        n->out.frame_rate = (int)r;
    } else {
        n->out.frame_rate = src->frame_rate ? src->frame_rate : ck->default_rate;
    }
    if (n->out.frame_rate <= 0)
        return pe_fail(ck, PG_ERR_RATE, "SpatialPE needs a frame rate: give frame_rate");
    return PG_OK;
}

static pg_status spatial_infer(pe_node *n, pe_check *ck) {
    const pe_shape *src = &n->in[pe_slot(n, P_SRC)];
    spatial_geom g;
    n->out = *src;
    n->out.channels = 2;
    if (!isfinite(spatial_theta(n)))
        return pe_fail(ck, PG_ERR_ARG, "SpatialPE theta must be finite, got %g", spatial_theta(n));
    pg_status st = spatial_rate(n, src, ck);
    if (st != PG_OK)
        return st;
    if (!spatial_geometry(n, n->out.frame_rate, &g))
        return pe_fail(ck, PG_ERR_ARG,
                       "SpatialPE curve must be 'cosine', 'linear' or 'none', got '%s'",
                       n->args[P_CURVE].u.str);
    // QUIRK Q49: pygmu kept E(src), cutting the last |d| frames of the delayed ear.
    if (!pg_extent_is_empty(src->extent))
        n->out.extent.end = pg_extent_offset(src->extent, g.delay).end;
    return PG_OK;
}

// Output frames [s, e) read the source over [s - delay, e).
static void spatial_need(const pe_node *n, int slot, pg_extent out, pg_extent *in) {
    spatial_geom g;
    (void)slot;
    *in = out;
    spatial_geometry(n, n->out.frame_rate, &g);
    in->start = pg_extent_offset(out, -g.delay).start;
}

// The mono mix of source view v over m frames.
// QUIRK Q49: pygmu's MonoPE summed a stereo source (+6 dB before panning) and broke on 3 or
// more channels; this averages any channel count (a mono source passes through untouched).
static const float *spatial_mono(pe_inst *pe, const pe_view *v, int channels, int64_t m) {
    if (channels == 1)
        return pe_vch(v, 0);
    float *mono = pe_scratch(pe, sizeof(float) * (size_t)m);
    if (!mono)
        return NULL;
    for (int64_t i = 0; i < m; i++) {
        double sum = 0.0;
        for (int c = 0; c < channels; c++)
            sum += (double)pe_vch(v, c)[i];
        mono[i] = (float)(sum / channels);
    }
    return mono;
}

// The geometry, worked out once per render (its sin and cos per block cost a tenth of
// panning 600 notes).
static pg_status spatial_init(pe_inst *pe) {
    spatial_geometry(pe->node, pe->node->out.frame_rate, pe->state);
    return PG_OK;
}

// QUIRK Q60: pygmu rendered its source twice per block (once per ear), advancing a stateful
// source twice; this kernel pulls the source once and derives both ears from that pull.
static pg_status spatial_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const pe_node *nd = pe->node;
    int slot = pe_slot(nd, P_SRC);
    const spatial_geom g = *(const spatial_geom *)pe->state;
    pe_view v;
    pg_status st = pe_pull(pe, slot, t0 - g.delay, n + g.delay, &v);
    if (st != PG_OK)
        return st;
    const float *m = spatial_mono(pe, &v, pe_in_shape(pe, slot)->channels, n + g.delay);
    if (!m)
        return pe_error(pe, PG_ERR_NOMEM, "SpatialPE: out of scratch memory");
    for (int ear = 0; ear < 2; ear++) {
        // m[k] is the mono source at t0 - delay + k: the near ear reads it `delay` later
        const float *x = m + (ear == g.delayed_ear ? 0 : g.delay);
        float gain = (float)g.gain[ear];
        float *y = pe_ch(out, ear);
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] * gain;
    }
    return PG_OK;
}

// Fusion: each ear is the mono source times its gain, in float32 as process applies it.
static double spatial_linear(const pe_node *n, int slot, int out_ch, int in_ch) {
    spatial_geom g;
    (void)slot;
    (void)in_ch;
    spatial_geometry(n, n->out.frame_rate, &g);
    return g.gain[out_ch];
}

// The far ear lags the source by the delay; a source of several channels is averaged in
// double first, which no weighted sum of float products reproduces.
static int64_t spatial_lag(const pe_node *n, int out_ch) {
    spatial_geom g;
    if (n->in[pe_slot(n, P_SRC)].channels != 1)
        return -1;
    spatial_geometry(n, n->out.frame_rate, &g);
    return out_ch == g.delayed_ear ? g.delay : 0;
}

const pe_kind pe_kind_spatial = {
    .name = "SpatialPE",
    .method = "pan",
    .params = spatial_params,
    .infer = spatial_infer,
    .flags = PE_F_INIT_OWN,
    .need = spatial_need,
    .linear = spatial_linear,
    .lag = spatial_lag,
    .state_size = sizeof(spatial_geom),
    .init = spatial_init,
    .process = spatial_process,
};
