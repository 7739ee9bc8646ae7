// filter.c: FilterPE(src_pe, num_poles, freq), after pygmu's filter_pe.py: a digital
// Butterworth low-pass of order num_poles with its -3 dB point at freq, designed as
// scipy.signal.butter does (analog prototype, pre-warping, bilinear transform), run causally
// as second-order sections in double, one history per channel. Stateful; the extent grows
// by the ring-out tail.
// QUIRK Q29: pygmu normalises freq by a fixed 22020 Hz and runs filtfilt on each block
// alone (block-size dependent, twice the attenuation, zero phase). We normalise by fs/2 and
// filter causally with the state carried over, as filter_pe.py's own comment suggests.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pe.h"

enum {
    P_SRC,
    P_POLES,
    P_FREQ
};

#define FILT_PI        3.14159265358979323846
#define FILT_MAX_POLES 32
#define FILT_MAX_SECT  ((FILT_MAX_POLES + 1) / 2)
#define FILT_FLOOR     1e-9 // the tail ends 180 dB down
#define FILT_MAX_SEC   60.0

typedef struct filt_sect {
    double b0, b1, b2, a1, a2; // a0 = 1; a first-order section has b2 = a2 = 0
} filt_sect;

typedef struct filt_hist {
    double x1, x2, y1, y2;
} filt_hist;

typedef struct filt_state {
    filt_sect sect[FILT_MAX_SECT];
    int n_sect;
    int channels;
    filt_hist *hist; // channels * n_sect, by channel
    double *buf;     // one channel's frames between sections, made by pe_scratch
} filt_state;

static const pe_param filt_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "num_poles", PE_T_INT, PE_P_REQUIRED, PE_NONE },
    { "freq", PE_T_NUM, PE_P_REQUIRED | PE_P_GT0, PE_NONE },
    PE_PARAMS_END,
};

typedef struct zpole {
    double re, im;
} zpole;

// The z-plane pole k of the order-n design: scipy's buttap poles
// p = -exp(i pi m / 2n), m = -n+1, -n+3, ..., n-1, scaled by the pre-warped cutoff
// 4 tan(pi wn / 2) (scipy's fs = 2) and mapped by z = (4 + p) / (4 - p).
static zpole pole_of(int n, int k, double wn) {
    double warped = 4 * tan(FILT_PI * wn / 2);
    double th = FILT_PI * (-n + 1 + 2 * k) / (2.0 * n);
    double pr = -warped * cos(th), pi = -warped * sin(th);
    double d = (4 - pr) * (4 - pr) + pi * pi;
    return (zpole){ (16 - pr * pr - pi * pi) / d, 8 * pi / d };
}

// Pairs each pole with its conjugate into a section with the Butterworth zeros at z = -1
// (numerator (1 + z^-1)^2), scaled to unit gain at DC, where the whole low-pass has unit
// gain; an odd order adds a first-order section for the real pole. Returns the number of
// sections.
static int design(int n, double wn, filt_sect *s) {
    int ns = 0;
    for (int k = n / 2 + n % 2; k < n; k++) {
        zpole z = pole_of(n, k, wn);
        double a1 = -2 * z.re, a2 = z.re * z.re + z.im * z.im;
        double g = (1 + a1 + a2) / 4;
        s[ns++] = (filt_sect){ g, 2 * g, g, a1, a2 };
    }
    if (n % 2) {
        double z = pole_of(n, n / 2, wn).re;
        double g = (1 - z) / 2;
        s[ns++] = (filt_sect){ g, g, 0, -z, 0 };
    }
    return ns;
}

static double max_radius(int n, double wn) {
    double r = 0;
    for (int k = 0; k < n; k++) {
        zpole z = pole_of(n, k, wn);
        r = fmax(r, hypot(z.re, z.im));
    }
    return r;
}

static pg_status filt_infer(pe_node *n, pe_check *ck) {
    const pe_shape *src = &n->in[pe_slot(n, P_SRC)];
    int64_t poles = pe_int(n, P_POLES);
    double f = pe_num(n, P_FREQ), fs = src->frame_rate;
    if (src->frame_rate <= 0)
        return pe_fail(ck, PG_ERR_RATE, "FilterPE needs a frame rate: its source has none");
    if (poles < 1 || poles > FILT_MAX_POLES)
        return pe_fail(ck, PG_ERR_ARG, "FilterPE num_poles must be 1 to %d, got %lld",
                       FILT_MAX_POLES, (long long)poles);
    if (!(f > 0 && f < fs / 2))
        return pe_fail(ck, PG_ERR_ARG, "FilterPE freq must be > 0 and < frame_rate/2 = %g, got %g",
                       fs / 2, f);
    n->out = *src;
    if (ck->nominal || pg_extent_is_empty(src->extent) || src->extent.end == PG_FRAME_MAX)
        return PG_OK;
    // The slowest pole sets how long the output rings after the source ends.
    double r = max_radius((int)poles, f / (fs / 2)), cap = FILT_MAX_SEC * fs;
    double t = r <= 0 ? 0 : r >= 1 ? cap : ceil(log(FILT_FLOOR) / log(r));
    pg_frame tail = (pg_frame)(t < cap ? t : cap) + 2 * poles;
    n->out.extent.end =
        src->extent.end > PG_FRAME_MAX - tail ? PG_FRAME_MAX : src->extent.end + tail;
    return PG_OK;
}

static pg_status filt_init(pe_inst *pe) {
    filt_state *st = pe->state;
    const pe_node *n = pe->node;
    double wn = pe_num(n, P_FREQ) / (n->out.frame_rate / 2.0);
    st->n_sect = design((int)pe_int(n, P_POLES), wn, st->sect);
    st->channels = n->out.channels;
    st->hist = calloc((size_t)(st->channels * st->n_sect), sizeof *st->hist);
    if (!st->hist)
        return pe_error(pe, PG_ERR_NOMEM, "FilterPE: out of memory");
    return PG_OK;
}

static void filt_fini(pe_inst *pe) {
    filt_state *st = pe->state;
    free(st->hist);
    st->hist = NULL;
}

// One section in direct form I over buf, in place.
static void sect_run(const filt_sect *k, filt_hist *h, double *buf, int64_t n) {
    double x1 = h->x1, x2 = h->x2, y1 = h->y1, y2 = h->y2;
    for (int64_t i = 0; i < n; i++) {
        double x0 = buf[i];
        double y0 = k->b0 * x0 + k->b1 * x1 + k->b2 * x2 - k->a2 * y2 - k->a1 * y1;
        x2 = x1;
        x1 = x0;
        y2 = y1;
        y1 = y0;
        buf[i] = y0;
    }
    *h = (filt_hist){ x1, x2, y1, y2 };
}

static pg_status filt_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    filt_state *st = pe->state;
    pe_view in;
    pg_status s = pe_pull(pe, pe_slot(pe->node, P_SRC), t0, n, &in);
    if (s != PG_OK)
        return s;
    double *buf = pe_scratch(pe, (size_t)n * sizeof *buf);
    if (!buf)
        return pe_error(pe, PG_ERR_NOMEM, "FilterPE: out of scratch memory");
    for (int c = 0; c < st->channels; c++) {
        const float *x = pe_vch(&in, c);
        float *y = pe_ch(out, c);
        for (int64_t i = 0; i < n; i++)
            buf[i] = (double)x[i];
        for (int k = 0; k < st->n_sect; k++)
            sect_run(&st->sect[k], &st->hist[c * st->n_sect + k], buf, n);
        for (int64_t i = 0; i < n; i++)
            y[i] = (float)buf[i];
    }
    return PG_OK;
}

// What decides the frames to come: every section's history on every channel.
static size_t filt_save(const pe_inst *pe, void *out) {
    const filt_state *st = pe->state;
    size_t bytes = sizeof *st->hist * (size_t)(st->channels * st->n_sect);
    if (out)
        memcpy(out, st->hist, bytes);
    return bytes;
}

static void filt_load(pe_inst *pe, const void *in) {
    filt_state *st = pe->state;
    memcpy(st->hist, in, sizeof *st->hist * (size_t)(st->channels * st->n_sect));
}

const pe_kind pe_kind_filter = {
    .name = "FilterPE",
    .params = filt_params,
    .flags = PE_F_STATEFUL | PE_F_TAIL | PE_F_INIT_OWN,
    .state_size = sizeof(filt_state),
    .infer = filt_infer,
    .init = filt_init,
    .process = filt_process,
    .fini = filt_fini,
    .save = filt_save,
    .load = filt_load,
};
