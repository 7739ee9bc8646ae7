// wav_writer.c: WavWriterPE(src_pe, filename="wav"), after pygmu's wav_writer_pe.py (method
// `.wav_writer(filename)`): a pass-through that also writes its source to a 32-bit float WAV
// file, a side output of the render. Stateful, so it sees its frames once and in time order:
// the file holds [origin, end of what the render needed), file frame 0 = the origin (the
// source's start when finite). Written atomically, like the main output: into a temporary
// file beside the target, renamed over it as soon as the last frame of the span is written,
// so that a file that cannot be put in place fails the render with an error (a stem the
// composer asked for is output, not a warning).
#include <errno.h>
#include <limits.h>
#include <sndfile.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aio.h"
#include "pe.h"
#include "plan.h"

enum {
    P_SRC,
    P_FILENAME
};

typedef struct wav_writer_state {
    SNDFILE *sf;     // the temporary file, open for writing (NULL when none)
    char *tmp;       // its path (malloc'd)
    char *target;    // the file it replaces when complete: a link's target (malloc'd)
    int64_t written; // frames written so far
    bool failed;     // a write failed: the target is left alone
    bool done;       // the file is complete and in place
} wav_writer_state;

// The filename is an output path: not PE_P_FILE (nothing is read from it, so the node's
// hash must not depend on what an earlier render left there).
static const pe_param wav_writer_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "filename", PE_T_STR, PE_P_OUTPUT, PE_STR("wav") },
    PE_PARAMS_END,
};

static pg_status wav_writer_infer(pe_node *n, pe_check *ck) {
    n->out = n->in[pe_slot(n, P_SRC)];
    const char *path = n->args[P_FILENAME].u.str;
    size_t len = strlen(path);
    if (len == 0 || path[len - 1] == '/')
        return pe_fail(ck, PG_ERR_ARG, "WavWriterPE filename must name a file, got '%s'", path);
    if (n->out.frame_rate <= 0)
        return pe_fail(ck, PG_ERR_RATE, "WavWriterPE needs its source's frame rate");
    return PG_OK;
}

static pg_status wav_writer_init(pe_inst *pe) {
    wav_writer_state *s = pe->state;
    const char *path = pe->node->args[P_FILENAME].u.str;
    size_t size = PATH_MAX + 32;
    s->tmp = malloc(size);
    s->target = malloc(PATH_MAX);
    if (!s->tmp || !s->target) {
        free(s->tmp);
        free(s->target);
        return pe_error(pe, PG_ERR_NOMEM, "WavWriterPE: out of memory");
    }
    int fd = aio_follow_link(path, s->target, PATH_MAX) == 0
                 ? aio_make_temp(s->target, s->tmp, size)
                 : -1;
    if (fd >= 0)
        aio_set_final_mode(fd, s->target);
    if (fd < 0) {
        int e = errno;
        free(s->tmp);
        free(s->target);
        s->tmp = s->target = NULL; // fini does not run after a failed init
        return pe_error(pe, PG_ERR_IO, "WavWriterPE: cannot create a file beside '%s': %s", path,
                        strerror(e));
    }
    SF_INFO info = { .samplerate = pe->node->out.frame_rate,
                     .channels = pe->node->out.channels,
                     .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
    s->sf = sf_open_fd(fd, SFM_WRITE, &info, SF_TRUE);
    if (!s->sf) {
        close(fd);
        unlink(s->tmp);
        free(s->tmp);
        free(s->target);
        s->tmp = s->target = NULL;
        return pe_error(pe, PG_ERR_IO, "WavWriterPE: cannot write '%s': %s", path,
                        sf_strerror(NULL));
    }
    // libsndfile's PEAK chunk carries the time it was written: two renders of one stem would
    // differ by it (the main output leaves it out too)
    sf_command(s->sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
    return PG_OK;
}

// The frames the executor renders this node over. The kernel interface does not carry the
// span, so it is read from the plan node that holds pe->node (runtime/plan.h).
static int64_t span_frames(const pe_inst *pe) {
    const plan_node *pn =
        (const plan_node *)(const void *)((const char *)pe->node - offsetof(plan_node, pn));
    pg_extent span = pn->materialise ? pn->mat : pg_extent_intersect(pn->need, pn->pn.out.extent);
    return pg_extent_is_empty(span) ? 0 : span.end - span.start;
}

// Closes the complete file and puts it in place of the target.
static pg_status finish(pe_inst *pe) {
    wav_writer_state *s = pe->state;
    const char *path = pe->node->args[P_FILENAME].u.str;
    int closed = sf_close(s->sf);
    s->sf = NULL;
    s->failed = true; // until it is in place: fini then removes the temporary file
    if (closed != 0)
        return pe_error(pe, PG_ERR_IO, "WavWriterPE: writing '%s' failed: %s", path,
                        sf_error_number(closed));
    if (rename(s->tmp, s->target) != 0)
        return pe_error(pe, PG_ERR_IO, "WavWriterPE: cannot put its file in place of '%s': %s",
                        path, strerror(errno));
    s->failed = false;
    s->done = true;
    return PG_OK;
}

// QUIRK: pygmu appends every frame of each request that overlaps the source (zeros outside
// included), opens and closes the file as requests enter and leave the extent, and never
// closes it at the end; ours writes exactly the frames the render computes, once.
static pg_status wav_writer_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    wav_writer_state *s = pe->state;
    int ch = out->channels;
    pe_view v;
    pg_status st = pe_pull(pe, pe_slot(pe->node, P_SRC), t0, n, &v);
    if (st != PG_OK)
        return st;
    float *inter = pe_scratch(pe, sizeof(float) * (size_t)n * (size_t)ch);
    if (!inter)
        return pe_error(pe, PG_ERR_NOMEM, "WavWriterPE: out of scratch memory");
    for (int c = 0; c < ch; c++) {
        const float *x = pe_vch(&v, c);
        float *y = pe_ch(out, c);
        for (int64_t i = 0; i < n; i++) {
            y[i] = x[i];
            inter[i * ch + c] = x[i];
        }
    }
    if (!s->sf || sf_writef_float(s->sf, inter, n) != n) {
        s->failed = true;
        return pe_error(pe, PG_ERR_IO, "WavWriterPE: writing '%s' failed: %s",
                        pe->node->args[P_FILENAME].u.str, sf_strerror(s->sf));
    }
    s->written += n;
    return s->written == span_frames(pe) ? finish(pe) : PG_OK;
}

// Removes the temporary file when the file was not put in place (an error here or elsewhere
// stopped the render first).
static void wav_writer_fini(pe_inst *pe) {
    wav_writer_state *s = pe->state;
    const char *path = pe->node->args[P_FILENAME].u.str;
    int64_t want = span_frames(pe);
    if (s->sf)
        sf_close(s->sf);
    s->sf = NULL;
    if (!s->done && s->tmp)
        unlink(s->tmp);
    FILE *log = pe_log(pe);
    if (log && want > 0 && s->written == 0 && !s->failed)
        fprintf(log, "pygmuc: warning: WavWriterPE did not write '%s' (the render stopped first)\n",
                path);
    free(s->tmp);
    free(s->target);
    s->tmp = s->target = NULL;
}

const pe_kind pe_kind_wav_writer = {
    .name = "WavWriterPE",
    .method = "wav_writer",
    .params = wav_writer_params,
    .flags = PE_F_STATEFUL | PE_F_SIDE_EFFECT,
    .state_size = sizeof(wav_writer_state),
    .infer = wav_writer_infer,
    .init = wav_writer_init,
    .process = wav_writer_process,
    .fini = wav_writer_fini,
};
