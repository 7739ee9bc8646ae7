// convolve.c: ConvolvePE(src_pe, filter_pe), after pygmu's convolve_pe.py: a FIR convolution
// out_k(t) = 1/(50 r) * sum_{j<N} h_k[j] x_k(t - j), where h_k[j] is frame j of the filter
// counted from the start of its extent, N its length and r its RMS over every channel and
// frame. Extent [S, E + N - 1); mono/stereo paired as pygmu (a mono side feeds both).
// Filters of up to DIRECT_MAX_TAPS taps run directly in double, statelessly. Longer ones
// stream (PE_F_STATEFUL) through uniformly partitioned overlap-save with FFTW: partitions of
// B frames (B a function of N only), a frequency-domain delay line of the input spectra,
// the source pulled in whole partitions and the executor's windows served from the newest
// output partition, so the arithmetic never depends on the block size. An output partition
// depends on the P = ceil(N / B) input partitions before it and its own only: asked for a
// window far from the last, the kernel starts afresh P partitions before it, to the same
// bits (pe_kind.cells: a buffer made again after an edit re-renders only what it changed).
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fft.h"
#include "pe.h"

enum {
    P_SRC,
    P_FILTER
};

// At or below this many taps, direct convolution (N multiply-adds a frame) beats the FFT.
enum {
    DIRECT_MAX_TAPS = 64
};

// Spectra are padded to a multiple of this many bins so the multiply-add loop vectorises.
enum {
    BIN_GROUP = 16
};

static const pe_param conv_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "filter_pe", PE_T_PE, PE_P_REQUIRED | PE_P_RANDOM, PE_NONE },
    PE_PARAMS_END,
};

typedef struct conv_state {
    int out_ch, src_ch, filt_ch;
    int64_t taps; // N, the filter's length in frames
    double *h;    // direct mode: filt_ch x N taps, scaled by 1 / (50 r)
    // partitioned mode
    int64_t part;       // B, frames per partition (FFT size 2B)
    int64_t parts;      // P = ceil(N / B)
    int64_t bins;       // B + 1 rounded up to BIN_GROUP
    float *mem;         // one fft_alloc block holding every array below
    float *h_re, *h_im; // filter spectra [filt_ch][P][bins], scaled by 1 / (50 r 2B)
    float *x_re, *x_im; // delay line of input spectra [src_ch][P][bins]
    bool *x_zero;       // [src_ch][P]: that spectrum is all zeros (skipped)
    bool *prev_zero;    // [src_ch]: the previous input partition is all zeros
    int64_t head;       // delay-line slot of the newest spectrum
    pg_frame p0;        // the partitions' grid: the source's start, else before the origin
    float *prev;        // [src_ch][B]: the previous input partition
    float *y;           // [out_ch][B]: output frames [y_start, y_start + B)
    float *tbuf;        // 2B time-domain frames
    float *spec;        // B + 1 interleaved complex bins
    float *acc_re, *acc_im;
    pg_frame y_start; // first frame of y
    pg_frame in_pos;  // first source frame of the next partition
    const fft_plan *fwd, *inv;
} conv_state;

static int64_t conv_taps(const pe_node *n) {
    pg_extent f = n->in[pe_slot(n, P_FILTER)].extent;
    return f.end - f.start;
}

static pg_status conv_infer(pe_node *n, pe_check *ck) {
    const pe_shape *src = &n->in[pe_slot(n, P_SRC)], *flt = &n->in[pe_slot(n, P_FILTER)];
    n->out.channels = src->channels > flt->channels ? src->channels : flt->channels;
    n->out.frame_rate = src->frame_rate ? src->frame_rate : flt->frame_rate;
    n->out.extent = (pg_extent){ 0, 0 };
    if (src->channels > 2)
        return pe_fail(ck, PG_ERR_CHANNELS,
                       "channel count mismatch: ConvolvePE src_pe has %d channels, it takes 1 "
                       "or 2",
                       src->channels);
    if (flt->channels > 2)
        return pe_fail(ck, PG_ERR_CHANNELS,
                       "channel count mismatch: ConvolvePE filter_pe has %d channels, it takes "
                       "1 or 2",
                       flt->channels);
    if (!pg_extent_is_finite(flt->extent))
        return pe_fail(ck, PG_ERR_EXTENT, "ConvolvePE filter_pe must have a finite extent");
    if (pg_extent_is_empty(flt->extent))
        return pe_fail(ck, PG_ERR_ARG, "ConvolvePE filter_pe is empty (no frames)");
    // QUIRK Q25: pygmu printed "HACK: ... using src_pe frame rate"; a mismatch is an error.
    if (src->frame_rate && flt->frame_rate && src->frame_rate != flt->frame_rate)
        return pe_fail(ck, PG_ERR_RATE,
                       "frame rate mismatch: ConvolvePE src_pe has %d Hz, filter_pe has %d",
                       src->frame_rate, flt->frame_rate);
    // The convolution of nothing is nothing (pygmu gave [0, N - 1) of zeros).
    if (!pg_extent_is_empty(src->extent)) {
        n->out.extent.start = src->extent.start;
        n->out.extent.end = pg_extent_offset(src->extent, conv_taps(n) - 1).end;
    }
    if (conv_taps(n) > DIRECT_MAX_TAPS)
        n->flags |= PE_F_STATEFUL;
    return PG_OK;
}

static bool conv_cells(const pe_node *n, pe_cells *c);

// Output frames `out` need the source over [out.start - N + 1, out.end) and the whole filter
// (read once, in init). One input may be both. On a grid of partitions the kernel reads
// more: whole partitions, from P before the one holding out.start (where it starts afresh)
// to the end of the one holding the last frame; what it may read is what it needs, so
// that a stream that runs it reads nothing it was not given.
static void conv_need(const pe_node *n, int slot, pg_extent out, pg_extent *in) {
    pg_extent need = { 0, 0 };
    pe_cells c;
    if (slot == pe_slot(n, P_SRC) && !pg_extent_is_empty(out) && conv_cells(n, &c)) {
        // (an output frame before the grid's start reads from the start: silence before it)
        pg_frame first = out.start <= c.anchor ? 0 : (out.start - c.anchor) / c.step - c.back;
        need.start = c.anchor + (first > 0 ? first : 0) * c.step;
        need.end = out.end;
        if (out.end > c.anchor && out.end < PG_FRAME_MAX - c.step)
            need.end = c.anchor + ((out.end - 1 - c.anchor) / c.step + 1) * c.step;
    } else if (slot == pe_slot(n, P_SRC)) {
        need.start = pg_extent_offset(out, -(conv_taps(n) - 1)).start;
        need.end = out.end;
    }
    if (slot == pe_slot(n, P_FILTER))
        need = pg_extent_union(need, n->in[slot].extent);
    *in = need;
}

// ---- the filter -----------------------------------------------------------------------

// Reads the filter into h (filt_ch x N doubles, planar) scaled by 1 / (50 r).
// QUIRK Q27: pygmu's normalisation (divide by the RMS, then by 50) is kept because levels
// must match pygmu (reverb() relies on it); an all-zero filter, where pygmu divides by zero
// and renders NaN, is an error.
// QUIRK Q26: the filter starts at its extent's start, whatever that is (pygmu ignores the
// filter's time offset: a filter on [5, 8) acts as one on [0, 3)). Documented, kept.
static pg_status conv_read_filter(pe_inst *pe, conv_state *s, double *h) {
    pg_extent fe = pe_in_shape(pe, pe_slot(pe->node, P_FILTER))->extent;
    pe_view v;
    pg_status st = pe_pull(pe, pe_slot(pe->node, P_FILTER), fe.start, s->taps, &v);
    if (st != PG_OK)
        return st;
    double sum = 0.0;
    for (int c = 0; c < s->filt_ch; c++)
        for (int64_t j = 0; j < s->taps; j++) {
            h[c * s->taps + j] = (double)pe_vch(&v, c)[j];
            sum += h[c * s->taps + j] * h[c * s->taps + j];
        }
    double rms = sqrt(sum / ((double)s->taps * s->filt_ch));
    if (!(rms > 0.0) || !isfinite(rms))
        return pe_error(pe, PG_ERR_ARG, "ConvolvePE filter_pe is %s: its RMS normalises the output",
                        rms == 0.0 ? "silent (all zeros)" : "not finite");
    double scale = 1.0 / (50.0 * rms);
    for (int64_t i = 0; i < s->filt_ch * s->taps; i++)
        h[i] *= scale;
    return PG_OK;
}

// ---- direct mode: stateless ------------------------------------------------------------

static pg_status direct_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const conv_state *s = pe->state;
    int64_t taps = s->taps;
    pe_view v;
    pg_status st = pe_pull(pe, pe_slot(pe->node, P_SRC), t0 - (taps - 1), n + taps - 1, &v);
    if (st != PG_OK)
        return st;
    for (int o = 0; o < s->out_ch; o++) {
        const float *x = pe_vch(&v, s->src_ch == 1 ? 0 : o) + (taps - 1);
        const double *h = s->h + (s->filt_ch == 1 ? 0 : o) * taps;
        float *y = pe_ch(out, o);
        for (int64_t i = 0; i < n; i++) {
            double acc = 0.0;
            for (int64_t j = 0; j < taps; j++)
                acc += h[j] * (double)x[i - j];
            y[i] = (float)acc;
        }
    }
    return PG_OK;
}

// ---- partitioned mode: layout ----------------------------------------------------------

// Measured on the project's machines: ns per frame of one r2c + c2r pair of size 2B, and of
// one partition's complex multiply-add. The partition size minimising fft + ceil(N/B) * mac
// is a fixed function of N, so every machine and run makes the same choice. Partitions end
// at 16384 frames: past that the kernels alone gain a few percent, but in a piece they
// lose (the source is pulled a partition at a time through the stream's sums, out of the
// core's cache: large_piece under a 72000-tap reverb, 0.51 s with partitions of 65536, 0.44
// s with 16384), and a reverb the stream runs primes itself P partitions before each run
// of chunks an edit renders again (its one-note edit 0.057 -> 0.042 s).
static const struct {
    int64_t part;
    double fft_ns, mac_ns;
} part_costs[] = {
    { 256, 4.2, 0.36 },  { 512, 4.3, 0.34 },  { 1024, 4.4, 0.32 },  { 2048, 5.1, 0.38 },
    { 4096, 6.3, 0.46 }, { 8192, 7.6, 0.44 }, { 16384, 8.9, 0.45 },
};

static int64_t conv_part_frames(int64_t taps) {
    int64_t best = part_costs[0].part;
    double best_ns = HUGE_VAL;
    for (size_t i = 0; i < sizeof part_costs / sizeof part_costs[0]; i++) {
        double parts = (double)((taps + part_costs[i].part - 1) / part_costs[i].part);
        double ns = part_costs[i].fft_ns + parts * part_costs[i].mac_ns;
        if (ns < best_ns) {
            best_ns = ns;
            best = part_costs[i].part;
        }
    }
    return best;
}

static int64_t round_up(int64_t x, int64_t m) {
    return (x + m - 1) / m * m;
}

static float *take(float **p, int64_t n) {
    float *r = *p;
    *p += n;
    return r;
}

// Carves every float array out of one aligned block (each a multiple of 16 floats long,
// so each stays 64-byte aligned).
static pg_status conv_alloc(pe_inst *pe, conv_state *s) {
    int64_t B = s->part, PB = s->parts * s->bins, spec = round_up(2 * (B + 1), 16);
    int64_t total = 2 * s->filt_ch * PB + 2 * s->src_ch * PB + s->src_ch * B + s->out_ch * B +
                    2 * B + spec + 2 * s->bins;
    s->mem = fft_alloc(sizeof(float) * (size_t)total);
    s->x_zero = malloc(sizeof(bool) * (size_t)(s->src_ch * s->parts));
    s->prev_zero = malloc(sizeof(bool) * (size_t)s->src_ch);
    if (!s->mem || !s->x_zero || !s->prev_zero)
        return pe_error(pe, PG_ERR_NOMEM, "ConvolvePE: out of memory (%lld-frame filter)",
                        (long long)s->taps);
    memset(s->mem, 0, sizeof(float) * (size_t)total);
    float *p = s->mem;
    s->h_re = take(&p, s->filt_ch * PB);
    s->h_im = take(&p, s->filt_ch * PB);
    s->x_re = take(&p, s->src_ch * PB);
    s->x_im = take(&p, s->src_ch * PB);
    s->prev = take(&p, s->src_ch * B);
    s->y = take(&p, s->out_ch * B);
    s->tbuf = take(&p, 2 * B);
    s->spec = take(&p, spec);
    s->acc_re = take(&p, s->bins);
    s->acc_im = take(&p, s->bins);
    for (int64_t i = 0; i < s->src_ch * s->parts; i++)
        s->x_zero[i] = true;
    for (int c = 0; c < s->src_ch; c++)
        s->prev_zero[c] = true;
    return PG_OK;
}

// Transforms tbuf (2B frames) into split spectra re / im (B + 1 bins; the padding stays 0).
static void conv_forward(conv_state *s, float *re, float *im) {
    fft_r2c(s->fwd, s->tbuf, (fft_cpx *)s->spec);
    for (int64_t k = 0; k <= s->part; k++) {
        re[k] = s->spec[2 * k];
        im[k] = s->spec[2 * k + 1];
    }
}

// The filter's partitions, each zero-padded to 2B frames, transformed once. The FFT's 1/2B
// normalisation is folded in here.
static void conv_filter_spectra(conv_state *s, const double *h) {
    int64_t B = s->part;
    double norm = 1.0 / (double)(2 * B);
    for (int c = 0; c < s->filt_ch; c++)
        for (int64_t p = 0; p < s->parts; p++) {
            int64_t len = s->taps - p * B < B ? s->taps - p * B : B;
            const double *hp = h + c * s->taps + p * B;
            for (int64_t j = 0; j < 2 * B; j++)
                s->tbuf[j] = j < len ? (float)(hp[j] * norm) : 0.0f;
            int64_t at = (c * s->parts + p) * s->bins;
            conv_forward(s, s->h_re + at, s->h_im + at);
        }
}

// ---- partitioned mode: one partition ----------------------------------------------------

static bool all_zero(const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (x[i] != 0.0f)
            return false;
    return true;
}

// Pushes source channel c's next partition x (NULL: silence) into the delay line.
static void conv_push(conv_state *s, int c, const float *x) {
    int64_t B = s->part, slot = c * s->parts + s->head;
    float *prev = s->prev + c * B;
    bool x_zero = !x || all_zero(x, B);
    s->x_zero[slot] = x_zero && s->prev_zero[c];
    if (!s->x_zero[slot]) {
        memcpy(s->tbuf, prev, sizeof(float) * (size_t)B);
        if (x_zero)
            memset(s->tbuf + B, 0, sizeof(float) * (size_t)B);
        else
            memcpy(s->tbuf + B, x, sizeof(float) * (size_t)B);
        conv_forward(s, s->x_re + slot * s->bins, s->x_im + slot * s->bins);
    }
    if (x_zero)
        memset(prev, 0, sizeof(float) * (size_t)B);
    else
        memcpy(prev, x, sizeof(float) * (size_t)B);
    s->prev_zero[c] = x_zero;
}

// acc += x * h over bins, in groups of BIN_GROUP so that -O2 vectorises it.
static void cmac(float *restrict acc_re, float *restrict acc_im, const float *restrict xr,
                 const float *restrict xi, const float *restrict hr, const float *restrict hi,
                 int64_t bins) {
    for (int64_t i = 0; i < bins; i += BIN_GROUP)
        for (int j = 0; j < BIN_GROUP; j++) {
            float a = xr[i + j], b = xi[i + j], c = hr[i + j], d = hi[i + j];
            acc_re[i + j] += a * c - b * d;
            acc_im[i + j] += a * d + b * c;
        }
}

// Output channel o's partition: sum over p of H_p X_{head-p}, back to time, last B frames.
static void conv_output(conv_state *s, int o) {
    int sc = s->src_ch == 1 ? 0 : o, fc = s->filt_ch == 1 ? 0 : o;
    int64_t B = s->part;
    float *y = s->y + o * B;
    bool any = false;
    memset(s->acc_re, 0, sizeof(float) * (size_t)s->bins);
    memset(s->acc_im, 0, sizeof(float) * (size_t)s->bins);
    for (int64_t p = 0; p < s->parts; p++) {
        int64_t slot = sc * s->parts + (s->head - p + s->parts) % s->parts;
        int64_t hat = (fc * s->parts + p) * s->bins, xat = slot * s->bins;
        if (s->x_zero[slot])
            continue;
        cmac(s->acc_re, s->acc_im, s->x_re + xat, s->x_im + xat, s->h_re + hat, s->h_im + hat,
             s->bins);
        any = true;
    }
    if (!any) {
        memset(y, 0, sizeof(float) * (size_t)B);
        return;
    }
    for (int64_t k = 0; k <= B; k++) {
        s->spec[2 * k] = s->acc_re[k];
        s->spec[2 * k + 1] = s->acc_im[k];
    }
    fft_c2r(s->inv, (fft_cpx *)s->spec, s->tbuf);
    memcpy(y, s->tbuf + B, sizeof(float) * (size_t)B);
}

// Consumes the source's next partition [in_pos, in_pos + B) and computes the output there.
static pg_status conv_block(pe_inst *pe, conv_state *s) {
    int slot = pe_slot(pe->node, P_SRC);
    pg_extent want = { s->in_pos, s->in_pos + s->part };
    pe_view v = { 0 };
    bool has_input = pg_extent_overlaps(want, pe_in_shape(pe, slot)->extent);
    if (has_input) {
        pg_status st = pe_pull(pe, slot, s->in_pos, s->part, &v);
        if (st != PG_OK)
            return st;
    }
    s->head = (s->head + 1) % s->parts;
    for (int c = 0; c < s->src_ch; c++)
        conv_push(s, c, has_input ? pe_vch(&v, c) : NULL);
    for (int o = 0; o < s->out_ch; o++)
        conv_output(s, o);
    s->y_start = s->in_pos;
    s->in_pos += s->part;
    return PG_OK;
}

static pg_status part_process(pe_inst *pe, conv_state *s, pg_frame t0, int64_t n, pe_buf *out) {
    int64_t done = 0;
    while (done < n) {
        pg_frame t = t0 + done;
        while (t >= s->y_start + s->part) {
            pg_status st = conv_block(pe, s);
            if (st != PG_OK)
                return st;
        }
        int64_t k = s->y_start + s->part - t < n - done ? s->y_start + s->part - t : n - done;
        for (int o = 0; o < s->out_ch; o++)
            memcpy(pe_ch(out, o) + done, s->y + o * s->part + (t - s->y_start),
                   sizeof(float) * (size_t)k);
        done += k;
    }
    return PG_OK;
}

// Starts afresh P partitions before the one holding frame t (at the grid's start at the
// earliest): the delay line then holds the same spectra, the same bits, as when every
// partition since the start was pushed. (The first partition pushed sees a silent previous
// one, but its spectrum has left the delay line by the time the output is used.)
static void conv_seek(conv_state *s, pg_frame t) {
    int64_t k = (t - s->p0) / s->part, first = k - s->parts;
    first = first > 0 ? first : 0;
    for (int64_t i = 0; i < s->src_ch * s->parts; i++)
        s->x_zero[i] = true;
    for (int c = 0; c < s->src_ch; c++)
        s->prev_zero[c] = true;
    memset(s->prev, 0, sizeof(float) * (size_t)(s->src_ch * s->part));
    s->head = 0;
    s->in_pos = s->p0 + first * s->part;
    s->y_start = s->in_pos - s->part; // no output partition yet
}

// The grid starts at the source's start (silence before it), or, for a source without
// one, N - 1 frames before the origin (the history the first output needs).
static void conv_start_stream(pe_inst *pe, conv_state *s) {
    pg_extent se = pe_in_shape(pe, pe_slot(pe->node, P_SRC))->extent;
    s->p0 = se.start != PG_FRAME_MIN ? se.start : pe->origin - (s->taps - 1);
    conv_seek(s, pe->origin > s->p0 ? pe->origin : s->p0);
}

static pg_status part_init(pe_inst *pe, conv_state *s, const double *h) {
    s->part = conv_part_frames(s->taps);
    s->parts = (s->taps + s->part - 1) / s->part;
    s->bins = round_up(s->part + 1, BIN_GROUP);
    s->fwd = fft_plan_r2c(2 * s->part);
    s->inv = fft_plan_c2r(2 * s->part);
    if (!s->fwd || !s->inv)
        return pe_error(pe, PG_ERR_NOMEM, "ConvolvePE: cannot plan an FFT of %lld frames",
                        (long long)(2 * s->part));
    pg_status st = conv_alloc(pe, s);
    if (st != PG_OK)
        return st;
    conv_filter_spectra(s, h);
    conv_start_stream(pe, s);
    return PG_OK;
}

static pg_status conv_setup(pe_inst *pe) {
    conv_state *s = pe->state;
    const pe_node *n = pe->node;
    s->out_ch = n->out.channels;
    s->src_ch = n->in[pe_slot(n, P_SRC)].channels;
    s->filt_ch = n->in[pe_slot(n, P_FILTER)].channels;
    s->taps = conv_taps(n);
    s->h = malloc(sizeof(double) * (size_t)(s->taps * s->filt_ch));
    if (!s->h)
        return pe_error(pe, PG_ERR_NOMEM, "ConvolvePE: out of memory (%lld-frame filter)",
                        (long long)s->taps);
    pg_status st = conv_read_filter(pe, s, s->h);
    if (st != PG_OK || s->taps <= DIRECT_MAX_TAPS)
        return st;
    st = part_init(pe, s, s->h);
    free(s->h); // the spectra replace it
    s->h = NULL;
    return st;
}

static void conv_fini(pe_inst *pe) {
    conv_state *s = pe->state;
    free(s->h);
    fft_free(s->mem);
    free(s->x_zero);
    free(s->prev_zero);
    memset(s, 0, sizeof *s);
}

// The executor calls fini only after a successful init: a failed one cleans up itself.
static pg_status conv_init(pe_inst *pe) {
    pg_status st = conv_setup(pe);
    if (st != PG_OK)
        conv_fini(pe);
    return st;
}

static pg_status conv_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    conv_state *s = pe->state;
    if (s->taps <= DIRECT_MAX_TAPS)
        return direct_process(pe, t0, n, out);
    // before the newest partition, or more partitions ahead than starting afresh pushes
    if (t0 < s->y_start || t0 >= s->in_pos + (s->parts + 1) * s->part)
        conv_seek(s, t0);
    return part_process(pe, s, t0, n, out);
}

// Cells are the partitions (an output partition reads P input partitions before its own),
// when the grid is fixed by the source's start, and not in direct mode (stateless: nothing
// to gain).
static bool conv_cells(const pe_node *n, pe_cells *c) {
    int64_t taps = conv_taps(n);
    pg_extent se = n->in[pe_slot(n, P_SRC)].extent;
    if (taps <= DIRECT_MAX_TAPS || se.start == PG_FRAME_MIN || pg_extent_is_empty(se))
        return false;
    int64_t part = conv_part_frames(taps);
    *c = (pe_cells){ pe_slot(n, P_SRC), se.start, part, (int)((taps + part - 1) / part) };
    return true;
}

const pe_kind pe_kind_convolve = {
    .name = "ConvolvePE",
    .method = NULL,
    .params = conv_params,
    .flags = PE_F_INIT_RANDOM,
    .state_size = sizeof(conv_state),
    .infer = conv_infer,
    .need = conv_need,
    .init = conv_init,
    .process = conv_process,
    .fini = conv_fini,
    .cells = conv_cells,
};
