// test_wav_writer.c: WavWriterPE(src_pe, filename="wav"): a pass-through writing its source
// to a float WAV as a side output, once, in time order, from its origin (the source's start
// when finite); the file appears (renamed from a temporary beside it) only when every frame
// was written. Expectations: the file read back equals the source bit for bit.
#include <dirent.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static char dir[64];

static const char *path_of(const char *name) {
    static char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static int writer(pg_graph *g, int src, const char *name) {
    pg_arg a[] = { t_node(NULL, src), t_str(NULL, path_of(name)) };
    return t_add(g, "WavWriterPE", a, 2);
}

// Reads a whole file (planar into out, at most max frames); returns its frame count or -1.
static long read_wav(const char *name, int *channels, int *rate, int *format, float *out,
                     long max) {
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path_of(name), SFM_READ, &info);
    if (!f)
        return -1;
    *channels = info.channels;
    *rate = info.samplerate;
    *format = info.format;
    long n = (long)info.frames < max ? (long)info.frames : max;
    float *inter = malloc(sizeof(float) * (size_t)(n * info.channels + 1));
    sf_readf_float(f, inter, n);
    for (long i = 0; i < n; i++)
        for (int c = 0; c < info.channels; c++)
            out[c * n + i] = inter[i * info.channels + c];
    free(inter);
    sf_close(f);
    return (long)info.frames;
}

// The number of entries in dir (., .. excluded): temporary files must not stay behind.
static int dir_entries(void) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

// A stereo source on [10, 510) at 1000 Hz: channel 0 a sine, channel 1 its negative / 2.
static int stereo_source(pg_graph *g) {
    static double d[2 * 500];
    for (int i = 0; i < 500; i++) {
        d[i] = 0.9 * sin(i * 0.05);
        d[500 + i] = -d[i] / 2;
    }
    pg_arg a[] = { t_arr(NULL, 2, 500, d), t_int("frame_rate", 1000) };
    pg_arg s[] = { t_node(NULL, t_add(g, "ArrayPE", a, 2)), t_int(NULL, 10) };
    return t_add(g, "TimeShiftPE", s, 2);
}

static void test_writes(void) {
    pg_graph *g = t_graph(0);
    int src = stereo_source(g), w = writer(g, src, "a.wav");
    CHECK_EQ_I64(pg_graph_node_extent(g, w).start, 10);
    CHECK_EQ_I64(pg_graph_node_extent(g, w).end, 510);
    CHECK_EQ_I64(pg_graph_node_channels(g, w), 2);
    static float out[2 * 600], ref[2 * 600], file[2 * 600];
    CHECK_STATUS(t_render(g, src, 0, 600, 64, ref), PG_OK);
    int blocks[] = { 1, 7, 64, 4096 };
    for (int b = 0; b < 4; b++) {
        CHECK_STATUS(t_render(g, w, 0, 600, blocks[b], out), PG_OK);
        CHECK(memcmp(out, ref, sizeof out) == 0); // a pass-through
        int ch = 0, rate = 0, format = 0;
        CHECK_EQ_I64(read_wav("a.wav", &ch, &rate, &format, file, 600), 500);
        CHECK_EQ_I64(ch, 2);
        CHECK_EQ_I64(rate, 1000);
        CHECK_EQ_I64(format, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
        int bad = 0;
        for (int i = 0; i < 500; i++) // file frame 0 is the source's first frame, 10
            bad += file[i] != ref[10 + i] || file[500 + i] != ref[600 + 10 + i];
        CHECK_EQ_I64(bad, 0);
        CHECK_EQ_I64(dir_entries(), 1);
    }
    // a window ending inside the source: the file holds the source's start up to there
    CHECK_STATUS(t_render(g, w, 0, 100, 64, out), PG_OK);
    int ch, rate, format;
    CHECK_EQ_I64(read_wav("a.wav", &ch, &rate, &format, file, 600), 90);
    // a mono, indefinite source cropped by the writer's consumer
    pg_arg f[] = { t_num(NULL, 100.0), t_int("frame_rate", 1000) };
    int mono = writer(g, t_add(g, "SinPE", f, 2), "b.wav");
    pg_arg c[] = { t_node(NULL, mono), t_ext(NULL, -20, 30) };
    CHECK_STATUS(t_render(g, t_add(g, "CropPE", c, 2), -100, 100, 16, out), PG_OK);
    CHECK_EQ_I64(read_wav("b.wav", &ch, &rate, &format, file, 600), 50);
    CHECK_EQ_I64(ch, 1);
    CHECK_NEAR(file[20], 0.0, 1e-7); // frame 0 of the sine: sin(0)
    CHECK_EQ_I64(pg_kind_find_method("wav_writer"), pg_kind_find("WavWriterPE"));
    remove(path_of("a.wav"));
    remove(path_of("b.wav"));
    pg_graph_free(g);
}

static pg_status fail_after(void *env, const double *in, double *out, int64_t n, char *err,
                            size_t err_size) {
    (void)env;
    (void)err;
    (void)err_size;
    for (int64_t i = 0; i < n; i++) {
        if (in[i] > 100.0)
            return PG_ERR_ARG;
        out[i] = in[i];
    }
    return PG_OK;
}

// A render that fails while the writer writes leaves the old file alone and no temporary;
// a source with nothing to write makes no file.
static void test_atomic(void) {
    FILE *old = fopen(path_of("keep.wav"), "w");
    fputs("old", old);
    fclose(old);
    pg_graph *g = t_graph(0);
    pg_arg c[] = { t_node(NULL, t_add(g, "IdentityPE", NULL, 0)), t_ext(NULL, 0, 1000) };
    pg_arg m[] = { t_node(NULL, t_add(g, "CropPE", c, 2)),
                   { NULL, { .type = PG_V_FUNC, .u.func = { fail_after, NULL, 7 } } } };
    int w = writer(g, t_add(g, "MapPE", m, 2), "keep.wav");
    static float out[1000];
    FILE *devnull = fopen("/dev/null", "w");
    int saved = dup(2);
    dup2(fileno(devnull), 2);
    pg_status st = t_render(g, w, 0, 1000, 64, out);
    dup2(saved, 2);
    close(saved);
    fclose(devnull);
    CHECK_STATUS(st, PG_ERR_ARG);
    char text[8] = { 0 };
    FILE *f = fopen(path_of("keep.wav"), "r");
    CHECK(f && fread(text, 1, 7, f) == 3 && strcmp(text, "old") == 0);
    if (f)
        fclose(f);
    CHECK_EQ_I64(dir_entries(), 1);
    remove(path_of("keep.wav"));
    pg_arg e[] = { t_node(NULL, stereo_source(g)), t_ext(NULL, 0, 5) };
    int empty = writer(g, t_add(g, "CropPE", e, 2), "none.wav");
    CHECK(pg_extent_is_empty(pg_graph_node_extent(g, empty)));
    CHECK_STATUS(t_render(g, empty, 0, 10, 4, out), PG_OK);
    CHECK_EQ_I64(dir_entries(), 0);
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    int src = stereo_source(g);
    pg_arg blank[] = { t_node(NULL, src), t_str(NULL, "") };
    CHECK_STATUS(t_add_status(g, "WavWriterPE", blank, 2), PG_ERR_ARG);
    pg_arg slash[] = { t_node(NULL, src), t_str(NULL, "some/dir/") };
    CHECK_STATUS(t_add_status(g, "WavWriterPE", slash, 2), PG_ERR_ARG);
    pg_arg num[] = { t_node(NULL, src), t_num(NULL, 3) };
    CHECK_STATUS(t_add_status(g, "WavWriterPE", num, 2), PG_ERR_ARG);
    pg_arg nosrc[] = { t_str("filename", "x.wav") };
    CHECK_STATUS(t_add_status(g, "WavWriterPE", nosrc, 1), PG_ERR_ARG);
    // a folder that does not exist: the render fails at its start, writing nothing
    pg_arg gone[] = { t_node(NULL, src), t_str(NULL, "/nonexistent-pygmuc-dir/x.wav") };
    int w = t_add(g, "WavWriterPE", gone, 2);
    float out[2 * 20];
    FILE *devnull = fopen("/dev/null", "w");
    int saved = dup(2);
    dup2(fileno(devnull), 2);
    pg_status st = t_render(g, w, 0, 20, 8, out);
    dup2(saved, 2);
    close(saved);
    fclose(devnull);
    CHECK_STATUS(st, PG_ERR_IO);
    pg_graph_free(g);
}

// A complete stem that cannot be put in place (its name is a folder that is not empty) fails
// the render with an I/O error, as the main output would, and leaves no temporary file.
static void test_cannot_place(void) {
    char sub[160], inner[200];
    snprintf(sub, sizeof sub, "%s", path_of("stem.wav"));
    snprintf(inner, sizeof inner, "%s/keep", sub);
    CHECK(mkdir(sub, 0755) == 0);
    FILE *f = fopen(inner, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    pg_graph *g = t_graph(0);
    int w = writer(g, stereo_source(g), "stem.wav");
    static float out[2 * 500];
    CHECK_STATUS(t_render(g, w, 0, 500, 64, out), PG_ERR_IO);
    CHECK_EQ_I64(dir_entries(), 1); // the folder alone
    remove(inner);
    rmdir(sub);
    pg_graph_free(g);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/pg_wav_writer_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_writes();
    test_atomic();
    test_bad_args();
    test_cannot_place();
    rmdir(dir);
    return check_done();
}
