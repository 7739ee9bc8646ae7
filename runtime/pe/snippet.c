// snippet.c: SnippetPE(filename, sync_point=0, crop=None), after pygmu's snippet_pe.py: a
// sound file (libsndfile, any format it reads, at the file's rate and channel count) cropped
// to `crop` and shifted so that file frame sync_point plays at frame 0: out(t) = x(t + sync)
// with x the cropped file (zeros outside). An integral sync point shifts exactly; a
// fractional one interpolates as pygmu's TimeShiftPE does (np.interp, in double).
// init reads the cropped frames into memory once; process is stateless.
#include <math.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>

#include "pe.h"

enum {
    P_FILENAME,
    P_SYNC,
    P_CROP
};

// Sync points beyond +-2^53 frames cannot be told apart in double.
#define MAX_SYNC_FRAMES 9007199254740992.0

static const pe_param snip_params[] = {
    { "filename", PE_T_STR, PE_P_REQUIRED | PE_P_FILE, PE_NONE },
    { "sync_point", PE_T_NUM, 0, PE_NUM(0.0) },
    { "crop", PE_T_EXTENT, PE_P_NONE_OK, PE_NONE },
    PE_PARAMS_END,
};

typedef struct snip_state {
    float *data;   // channels x (len + 2): x(a - 1) .. x(b), zero at both ends
    int64_t len;   // b - a, the cropped frames
    pg_frame a;    // first file frame kept
    double sync;   // sync_point
    int64_t shift; // -sync when integral
    int is_integral;
} snip_state;

// The file frames kept: [0, frames) cut by crop.
static pg_extent snip_window(const pe_node *n, int64_t frames) {
    pg_extent w = { 0, frames };
    if (n->args[P_CROP].type == PG_V_EXTENT)
        w = pg_extent_intersect(w, n->args[P_CROP].u.ext);
    return w;
}

static pg_status snip_infer(pe_node *n, pe_check *ck) {
    const char *path = n->args[P_FILENAME].u.str;
    double sync = pe_num(n, P_SYNC);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f)
        return pe_fail(ck, PG_ERR_FILE, "SnippetPE cannot read '%s': %s", path, sf_strerror(NULL));
    sf_close(f);
    n->out.channels = info.channels;
    n->out.frame_rate = info.samplerate;
    n->out.extent = (pg_extent){ 0, 0 };
    if (!(fabs(sync) <= MAX_SYNC_FRAMES))
        return pe_fail(ck, PG_ERR_ARG,
                       "SnippetPE sync_point must be a finite number of frames, got %g", sync);
    pg_extent w = snip_window(n, (int64_t)info.frames);
    if (pg_extent_is_empty(w))
        return PG_OK;
    // QUIRK Q47: pygmu reported the extent before the sync-point shift; ours is shifted,
    // and a fractional shift covers the frames its interpolation reaches:
    // [a + floor(-sync), b + ceil(-sync)).
    n->out.extent.start = pg_extent_offset(w, (pg_frame)floor(-sync)).start;
    n->out.extent.end = pg_extent_offset(w, (pg_frame)ceil(-sync)).end;
    return PG_OK;
}

// Reads file frames [w.start, w.end) into s->data (planar, padded by a zero frame at each
// end). A file that shrank since the graph was built reads short: the rest stays zero.
static pg_status snip_load(pe_inst *pe, snip_state *s, SNDFILE *f, int channels, pg_extent w) {
    int64_t stride = s->len + 2;
    s->data = calloc((size_t)(stride * channels), sizeof(float));
    float *tmp = malloc(sizeof(float) * (size_t)(s->len * channels + 1));
    if (!s->data || !tmp) {
        free(tmp);
        free(s->data); // the executor calls fini only after a successful init
        s->data = NULL;
        return pe_error(pe, PG_ERR_NOMEM, "SnippetPE: out of memory (%lld frames)",
                        (long long)s->len);
    }
    sf_count_t got = 0;
    if (sf_seek(f, w.start, SEEK_SET) >= 0)
        got = sf_readf_float(f, tmp, s->len);
    for (int c = 0; c < channels; c++)
        for (sf_count_t i = 0; i < got; i++)
            s->data[c * stride + 1 + i] = tmp[i * channels + c];
    free(tmp);
    return PG_OK;
}

static pg_status snip_init(pe_inst *pe) {
    snip_state *s = pe->state;
    const pe_node *n = pe->node;
    const char *path = n->args[P_FILENAME].u.str;
    s->sync = pe_num(n, P_SYNC);
    s->is_integral = s->sync == floor(s->sync);
    s->shift = (int64_t)-s->sync;
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f)
        return pe_error(pe, PG_ERR_FILE, "SnippetPE cannot read '%s': %s", path, sf_strerror(NULL));
    if (info.channels != n->out.channels) {
        sf_close(f);
        return pe_error(pe, PG_ERR_FILE, "SnippetPE: '%s' changed: %d channels, was %d", path,
                        info.channels, n->out.channels);
    }
    pg_extent w = snip_window(n, (int64_t)info.frames);
    s->a = w.start;
    s->len = w.end - w.start;
    pg_status st = snip_load(pe, s, f, info.channels, w);
    sf_close(f);
    return st;
}

// x(frame) for a file frame, zero outside the kept window.
static float snip_at(const snip_state *s, const float *row, pg_frame frame) {
    int64_t k = frame - s->a + 1;
    return k >= 0 && k < s->len + 2 ? row[k] : 0.0f;
}

static pg_status snip_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const snip_state *s = pe->state;
    for (int c = 0; c < out->channels; c++) {
        const float *row = s->data + c * (s->len + 2);
        float *y = pe_ch(out, c);
        for (int64_t i = 0; i < n; i++) {
            if (s->is_integral) {
                y[i] = snip_at(s, row, t0 + i - s->shift);
                continue;
            }
            double tau = (double)(t0 + i) + s->sync, f = floor(tau);
            double x0 = (double)snip_at(s, row, (pg_frame)f);
            double x1 = (double)snip_at(s, row, (pg_frame)f + 1);
            y[i] = (float)((x1 - x0) * (tau - f) + x0);
        }
    }
    return PG_OK;
}

static void snip_fini(pe_inst *pe) {
    snip_state *s = pe->state;
    free(s->data);
    s->data = NULL;
}

const pe_kind pe_kind_snippet = {
    .name = "SnippetPE",
    .method = NULL,
    .params = snip_params,
    .flags = PE_F_GENERATOR,
    .state_size = sizeof(snip_state),
    .infer = snip_infer,
    .init = snip_init,
    .process = snip_process,
    .fini = snip_fini,
};
