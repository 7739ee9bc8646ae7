// test_wav_reader.c: WavReaderPE(filename). Writes its own small files with libsndfile in
// a mkdtemp folder (PCM16 and float WAV, FLAC, mono and stereo, 0 frames, one longer than
// the reader's load chunk), then checks shape ([0, frames), the file's channels and rate)
// and samples (PCM16 reads as x/32768, float as written), and PG_ERR_FILE for a missing
// file, a non-audio file and a folder.
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static char dir[64];

static const char *path_of(const char *name) {
    static char buf[8][128];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, 128, "%s/%s", dir, name);
    return p;
}

// Writes frames interleaved shorts (PCM) or floats to a new file; returns 1 on success.
static int write_file(const char *name, int format, int channels, int rate, const short *s,
                      const float *f, int64_t frames) {
    SF_INFO info = { .samplerate = rate, .channels = channels, .format = format };
    SNDFILE *sf = sf_open(path_of(name), SFM_WRITE, &info);
    if (!sf) {
        fprintf(stderr, "write_file(%s): %s\n", name, sf_strerror(NULL));
        return 0;
    }
    sf_count_t n = frames == 0 ? 0
                   : s         ? sf_writef_short(sf, s, frames)
                               : sf_writef_float(sf, f, frames);
    sf_close(sf);
    return n == frames;
}

static int reader(pg_graph *g, const char *name) {
    pg_arg a[] = { t_str(NULL, path_of(name)) };
    return t_add(g, "WavReaderPE", a, 1);
}

// The status (and message) of adding a WavReaderPE on `path`.
static pg_status add_status(pg_graph *g, const char *path, char *msg, size_t cap) {
    pg_diag err;
    pg_srcloc none = { 0, 0, 0 };
    pg_arg a[] = { t_str(NULL, path) };
    int id = pg_graph_add(g, "WavReaderPE", a, 1, none, &err);
    snprintf(msg, cap, "%s", id < 0 ? err.message : "");
    return id < 0 ? err.status : PG_OK;
}

static void check_shape(pg_graph *g, int node, int ch, int rate, int64_t frames) {
    CHECK_EQ_I64(pg_graph_node_channels(g, node), ch);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, node), rate);
    CHECK_EQ_I64(pg_graph_node_extent(g, node).start, 0);
    CHECK_EQ_I64(pg_graph_node_extent(g, node).end, frames);
}

static void test_pcm16_mono(void) {
    static const short s[] = { 0, 16384, -32768, 32767, -1, 100 };
    CHECK(write_file("m16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 48000, s, NULL, 6));
    pg_graph *g = t_graph(0);
    int r = reader(g, "m16.wav");
    check_shape(g, r, 1, 48000, 6);
    float out[8];
    CHECK_STATUS(t_render(g, r, -1, 7, 3, out), PG_OK);
    CHECK_NEAR(out[0], 0, 0); // before the file
    for (int i = 0; i < 6; i++)
        CHECK_NEAR(out[1 + i], s[i] / 32768.0, 0);
    CHECK_NEAR(out[7], 0, 0); // after it
    CHECK_NEAR(out[3], -1.0, 0);
    CHECK(t_block_invariant(g, r, -3, 9));
    pg_graph_free(g);
}

static void test_float_stereo(void) {
    static const float f[] = { 0.1f, -1.5f, 0.2f, 2.0f, -0.25f, 0.0f, 1e-3f, 3.0f, 0.5f, -0.5f };
    CHECK(write_file("st.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 2, 44100, NULL, f, 5));
    pg_graph *g = t_graph(0);
    int r = reader(g, "st.wav");
    check_shape(g, r, 2, 44100, 5);
    float out[14];
    CHECK_STATUS(t_render(g, r, -1, 6, 2, out), PG_OK); // planar: left [0, 7), right [7, 14)
    for (int i = 0; i < 5; i++) {
        CHECK_NEAR(out[1 + i], f[2 * i], 0);
        CHECK_NEAR(out[7 + 1 + i], f[2 * i + 1], 0);
    }
    CHECK(out[0] == 0 && out[6] == 0 && out[7] == 0 && out[13] == 0);
    CHECK(t_block_invariant(g, r, -2, 8));
    pg_graph_free(g);
}

// FLAC, stereo PCM16, longer than the reader's load chunk: L(t) = (t mod 32768)/32768,
// R(t) = -L(t).
static void test_flac_long(void) {
    enum {
        N = 40000
    };
    short *s = malloc(sizeof(short) * 2 * N);
    for (int i = 0; i < N; i++) {
        s[2 * i] = (short)(i % 32768);
        s[2 * i + 1] = (short)-(i % 32768);
    }
    CHECK(write_file("long.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 2, 22050, s, NULL, N));
    pg_graph *g = t_graph(0);
    int r = reader(g, "long.flac");
    check_shape(g, r, 2, 22050, N);
    float *out = malloc(sizeof(float) * 2 * N);
    CHECK_STATUS(t_render(g, r, 0, N, 4096, out), PG_OK);
    int bad = 0;
    for (int i = 0; i < N; i++) {
        float want = (float)(i % 32768) / 32768.0f;
        bad += out[i] != want || out[N + i] != -want;
    }
    CHECK_EQ_I64(bad, 0);
    CHECK(t_block_invariant(g, r, -100, N + 100));
    free(out);
    free(s);
    pg_graph_free(g);
}

static void test_empty_file(void) {
    CHECK(write_file("empty.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 48000, NULL, NULL, 0));
    pg_graph *g = t_graph(0);
    int r = reader(g, "empty.wav");
    check_shape(g, r, 1, 48000, 0);
    float out[3] = { 1, 1, 1 };
    CHECK_STATUS(t_render(g, r, 0, 3, 2, out), PG_OK);
    CHECK(out[0] == 0 && out[1] == 0 && out[2] == 0);
    pg_graph_free(g);
}

static void test_errors(void) {
    pg_graph *g = t_graph(0);
    char msg[512];
    CHECK_STATUS(add_status(g, path_of("missing.wav"), msg, sizeof msg), PG_ERR_FILE);
    CHECK(strstr(msg, "cannot open sound file '") != NULL);
    CHECK(strstr(msg, "missing.wav': ") != NULL);
    FILE *f = fopen(path_of("text.wav"), "w");
    CHECK(f != NULL);
    if (f) {
        fputs("this is not a sound file, just some text that goes on for a while\n", f);
        fclose(f);
    }
    CHECK_STATUS(add_status(g, path_of("text.wav"), msg, sizeof msg), PG_ERR_FILE);
    CHECK(strstr(msg, "text.wav") != NULL);
    CHECK_STATUS(add_status(g, dir, msg, sizeof msg), PG_ERR_FILE);
    CHECK_STATUS(add_status(g, "", msg, sizeof msg), PG_ERR_FILE);
    // a number for the filename, and no filename
    pg_diag err;
    pg_srcloc none = { 0, 0, 0 };
    pg_arg num[] = { t_num(NULL, 3) };
    CHECK(pg_graph_add(g, "WavReaderPE", num, 1, none, &err) < 0 && err.status == PG_ERR_ARG);
    CHECK(pg_graph_add(g, "WavReaderPE", NULL, 0, none, &err) < 0 && err.status == PG_ERR_ARG);
    pg_graph_free(g);
}

static void cleanup(void) {
    static const char *const names[] = { "m16.wav", "st.wav", "long.flac", "empty.wav",
                                         "text.wav" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unlink(path_of(names[i]));
    rmdir(dir);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/pg_wav_reader_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_pcm16_mono();
    test_float_stereo();
    test_flac_long();
    test_empty_file();
    test_errors();
    cleanup();
    return check_done();
}
