// splice.c: SplicePE(src_pe, up_dur=0, dn_dur=0), after pygmu's splice_pe.py: a linear fade
// in over the first up_dur frames of E(src) = [S, E) and a fade out over its last dn_dur
// frames. g(t) = (t - S)/up on the up ramp (0 on the first frame), (E - t)/dn on the down
// ramp (1/dn on the last frame), 1 between; computed in double per absolute frame and
// applied in float32, as pygmu multiplies a float32 ramp into float32 audio.
#include <math.h>
#include <string.h>

#include "pe.h"

enum {
    P_SRC,
    P_UP,
    P_DN
};

static const pe_param splice_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "up_dur", PE_T_NUM, PE_P_GE0, PE_NUM(0.0) },
    { "dn_dur", PE_T_NUM, PE_P_GE0, PE_NUM(0.0) },
    PE_PARAMS_END,
};

static pg_status splice_infer(pe_node *n, pe_check *ck) {
    const pe_shape *src = &n->in[pe_slot(n, P_SRC)];
    n->out = *src;
    if (!pg_extent_is_finite(src->extent))
        return pe_fail(ck, PG_ERR_EXTENT, "SplicePE needs a finite source extent");
    return PG_OK;
}

// g[i]: the envelope at frame t = t0 + i (i < n) inside [S, E): min(1, (t - S) / up,
// (E - t) / dn), a fade of length 0 left out, rounded to float. t - S and E - t are counted
// in doubles (exact below 2^53) rather than converted from integers each frame, and which
// fades exist is tested once, so that the divisions vectorise.
// QUIRK Q50: when the ramps overlap (E - dn < S + up), pygmu ends the up ramp at
// ceil(t') with t' = (tu1*td1 - tu0*td0)/(tu1 + td1 - 2*td0), which is not where the ramps
// cross, and restarts the down ramp there from its value at t'. Ours is the lower of the two
// ramps, min(up(t), dn(t)): it switches at the true crossing
// t* = (tu1*td1 - tu0*td0)/(tu1 - tu0 + td1 - td0) and never exceeds either fade. On
// pygmu's own test (S=0, E=6, up 4, dn 5; t' = 3 is an integer there) both give
// [0, .25, .5, .6, .4, .2]; they differ when t' falls elsewhere (tests/pe/test_splice.c).
static void gains(pg_frame t0, int64_t n, pg_extent ext, double up, double dn, float *g) {
    double a = (double)(t0 - ext.start), b = (double)(ext.end - t0);
    int m = (int)n; // (32-bit: SSE2 converts those four at a time)
    if (up > 0.0 && dn > 0.0) {
        for (int i = 0; i < m; i++) {
            double ru = (a + (double)i) / up, rd = (b - (double)i) / dn;
            double v = ru < 1.0 ? ru : 1.0;
            g[i] = (float)(rd < v ? rd : v);
        }
    } else if (up > 0.0 || dn > 0.0) {
        double q = up > 0.0 ? up : dn, sign = up > 0.0 ? 1.0 : -1.0, c = up > 0.0 ? a : b;
        for (int i = 0; i < m; i++) {
            double r = (c + sign * (double)i) / q;
            g[i] = (float)(r < 1.0 ? r : 1.0);
        }
    } else {
        for (int64_t i = 0; i < n; i++)
            g[i] = 1.0f;
    }
}

// frames [t0, t1) scaled by the envelope (float32, as pygmu multiplies its float32 ramp in)
static void ramp(const float *x, float *y, pg_frame t0, pg_frame t1, pg_frame base, pg_extent ext,
                 double up, double dn) {
    float g[256];
    for (pg_frame t = t0; t < t1; t += 256) {
        int64_t n = t1 - t < 256 ? t1 - t : 256;
        gains(t, n, ext, up, dn, g);
        for (int64_t i = 0; i < n; i++)
            y[t - base + i] = x[t - base + i] * g[i];
    }
}

static pg_frame clamp(pg_frame t, pg_frame lo, pg_frame hi) {
    return t < lo ? lo : t > hi ? hi : t;
}

// The envelope is exactly 1 on [S + ceil(up), E - ceil(dn)] ((t - S) >= up and (E - t) >= dn
// for whole t): [*lo, *hi), that part within [t0, t1); only the ramps need computing.
static void plateau(pg_extent ext, double up, double dn, pg_frame t0, pg_frame t1, pg_frame *lo,
                    pg_frame *hi) {
    *lo = clamp(ext.start + (pg_frame)ceil(up), t0, t1);
    *hi = clamp(ext.end - (pg_frame)ceil(dn) + 1, *lo, t1);
}

// The plateau is copied and the ramps scaled.
static pg_status splice_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const pe_node *nd = pe->node;
    int slot = pe_slot(nd, P_SRC);
    pg_extent ext = pe_in_shape(pe, slot)->extent;
    double up = pe_num(nd, P_UP), dn = pe_num(nd, P_DN);
    pe_view v;
    pg_status st = pe_pull(pe, slot, t0, n, &v);
    if (st != PG_OK)
        return st;
    pg_frame t1 = t0 + n, lo, hi;
    plateau(ext, up, dn, t0, t1, &lo, &hi);
    for (int c = 0; c < out->channels; c++) {
        // QUIRK Q51: pygmu's ramp_frames scrambled the fades of multi-channel sources; every
        // channel here gets the same per-frame envelope.
        const float *x = pe_vch(&v, c);
        float *y = pe_ch(out, c);
        ramp(x, y, t0, lo, t0, ext, up, dn);
        memcpy(y + (lo - t0), x + (lo - t0), sizeof(float) * (size_t)(hi - lo));
        ramp(x, y, hi, t1, t0, ext, up, dn);
    }
    return PG_OK;
}

// Fusion: every channel passes, scaled by the envelope (as splice_process scales it).
static double splice_linear(const pe_node *n, int slot, int out_ch, int in_ch) {
    (void)n;
    (void)slot;
    return in_ch == out_ch ? 1.0 : 0.0;
}

static bool splice_envelope(const pe_node *n, pg_frame t0, int64_t len, float *e) {
    pg_extent ext = n->in[pe_slot(n, P_SRC)].extent;
    double up = pe_num(n, P_UP), dn = pe_num(n, P_DN);
    pg_frame t1 = t0 + len, lo, hi;
    plateau(ext, up, dn, t0, t1, &lo, &hi);
    if (lo == t0 && hi == t1)
        return false; // all plateau: most blocks of a note
    gains(t0, lo - t0, ext, up, dn, e);
    for (pg_frame t = lo; t < hi; t++)
        e[t - t0] = 1.0f;
    gains(hi, t1 - hi, ext, up, dn, e + (hi - t0));
    return true;
}

const pe_kind pe_kind_splice = {
    .name = "SplicePE",
    .method = "splice",
    .params = splice_params,
    .flags = PE_F_POINTWISE | PE_F_LINEAR,
    .infer = splice_infer,
    .linear = splice_linear,
    .envelope = splice_envelope,
    .process = splice_process,
};
