// wav_reader.c: WavReaderPE(filename), after pygmu's wav_reader_pe.py: any sound file
// libsndfile reads, on [0, frames) at the file's own channel count and rate (no
// resampling). infer opens the file for its shape; init reads it whole, as float with
// libsndfile's scaling (PCM16 is x/32768), into planar memory the instance owns.
#include <sndfile.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pe.h"

enum {
    P_FILENAME
};

// Frames read per sf_readf_float call while loading (bounds the interleaved scratch).
enum {
    READ_CHUNK_FRAMES = 16384
};

static const pe_param wav_reader_params[] = {
    { "filename", PE_T_STR, PE_P_REQUIRED | PE_P_FILE, PE_NONE },
    PE_PARAMS_END,
};

typedef struct wav_reader_state {
    float *data; // planar: channel c at data + c * frames
    int64_t frames;
    int channels;
} wav_reader_state;

static pg_status wav_reader_infer(pe_node *n, pe_check *ck) {
    const char *path = n->args[P_FILENAME].u.str;
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f)
        return pe_fail(ck, PG_ERR_FILE, "cannot open sound file '%s': %s", path, sf_strerror(NULL));
    sf_close(f);
    if (info.channels < 1 || info.samplerate < 1 || info.frames < 0)
        return pe_fail(ck, PG_ERR_FILE, "cannot open sound file '%s': bad header", path);
    n->out.channels = info.channels;
    n->out.frame_rate = info.samplerate;
    n->out.extent = (pg_extent){ 0, info.frames };
    return PG_OK;
}

// Reads every frame of f into the planar st->data, through an interleaved chunk.
static pg_status wav_reader_load(pe_inst *pe, SNDFILE *f, wav_reader_state *st, const char *path) {
    int ch = st->channels;
    float *chunk = pe_scratch(pe, sizeof(float) * (size_t)READ_CHUNK_FRAMES * (size_t)ch);
    if (!chunk)
        return pe_error(pe, PG_ERR_NOMEM, "out of memory reading '%s'", path);
    for (int64_t at = 0; at < st->frames;) {
        int64_t want = st->frames - at < READ_CHUNK_FRAMES ? st->frames - at : READ_CHUNK_FRAMES;
        sf_count_t got = sf_readf_float(f, chunk, (sf_count_t)want);
        if (got != (sf_count_t)want)
            return pe_error(pe, PG_ERR_FILE, "sound file '%s' is short: read %lld of %lld frames",
                            path, (long long)(at + (got > 0 ? got : 0)), (long long)st->frames);
        for (int c = 0; c < ch; c++) {
            float *dst = st->data + (int64_t)c * st->frames + at;
            for (int64_t i = 0; i < want; i++)
                dst[i] = chunk[i * ch + c];
        }
        at += want;
    }
    return PG_OK;
}

static pg_status wav_reader_init(pe_inst *pe) {
    const pe_node *n = pe->node;
    const char *path = n->args[P_FILENAME].u.str;
    wav_reader_state *st = pe->state;
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f)
        return pe_error(pe, PG_ERR_FILE, "cannot open sound file '%s': %s", path,
                        sf_strerror(NULL));
    pg_status rc = PG_OK;
    st->channels = n->out.channels;
    st->frames = n->out.extent.end;
    if (info.channels != st->channels || info.samplerate != n->out.frame_rate) {
        rc = pe_error(pe, PG_ERR_FILE, "sound file '%s' changed since it was compiled", path);
        goto done;
    }
    size_t count = (size_t)st->frames * (size_t)st->channels;
    if ((uint64_t)st->frames <= SIZE_MAX / sizeof(float) / (size_t)st->channels)
        st->data = malloc(sizeof(float) * (count ? count : 1));
    if (!st->data) {
        rc = pe_error(pe, PG_ERR_NOMEM, "out of memory reading '%s' (%lld frames)", path,
                      (long long)st->frames);
        goto done;
    }
    rc = wav_reader_load(pe, f, st, path);
    if (rc != PG_OK) { // fini may not run after a failed init
        free(st->data);
        st->data = NULL;
    }
done:
    sf_close(f);
    return rc;
}

static pg_status wav_reader_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const wav_reader_state *st = pe->state;
    for (int c = 0; c < out->channels; c++)
        memcpy(pe_ch(out, c), st->data + (int64_t)c * st->frames + t0, sizeof(float) * (size_t)n);
    return PG_OK;
}

static void wav_reader_fini(pe_inst *pe) {
    wav_reader_state *st = pe->state;
    free(st->data);
    st->data = NULL;
}

const pe_kind pe_kind_wav_reader = {
    .name = "WavReaderPE",
    .method = NULL,
    .params = wav_reader_params,
    .flags = PE_F_GENERATOR | PE_F_CHEAP,
    .state_size = sizeof(wav_reader_state),
    .infer = wav_reader_infer,
    .init = wav_reader_init,
    .process = wav_reader_process,
    .fini = wav_reader_fini,
};
