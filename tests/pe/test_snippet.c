// test_snippet.c: SnippetPE(filename, sync_point=0, crop=None): the file's frames cut by
// crop and shifted so that frame sync_point plays at 0: out(t) = x(t + sync), interpolated
// as np.interp for a fractional sync point. The extent is shifted too (QUIRK Q47). Files are
// written here with libsndfile (float WAV: stereo x_c(i) = (c + 1) (i + 1) / 1024, exact in
// float32; mono at 44100 Hz).
#include <math.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

#define INF_S PG_FRAME_MIN
#define INF_E PG_FRAME_MAX

enum {
    FRAMES = 100
};

static double xval(int c, int64_t i) {
    return i >= 0 && i < FRAMES ? (double)(c + 1) * (double)(i + 1) / 1024.0 : 0.0;
}

// Writes a float WAV of FRAMES frames into a fresh temporary path (returned in path).
static int write_file(char *path, int channels, int rate) {
    strcpy(path, "/tmp/pg_test_snippet_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    SF_INFO info = { .samplerate = rate,
                     .channels = channels,
                     .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f)
        return -1;
    float buf[FRAMES * 2];
    for (int i = 0; i < FRAMES; i++)
        for (int c = 0; c < channels; c++)
            buf[i * channels + c] = (float)xval(c, i);
    sf_writef_float(f, buf, FRAMES);
    sf_close(f);
    return 0;
}

static int snippet(pg_graph *g, const char *path, double sync, const pg_extent *crop) {
    pg_arg a[3] = { t_str(NULL, path), t_num(NULL, sync) };
    if (crop)
        a[2] = t_ext("crop", crop->start, crop->end);
    return t_add(g, "SnippetPE", a, crop ? 3 : 2);
}

// Renders node over its extent and checks out(t) = x_c(t + sync) against f(c, tau).
static void check_values(pg_graph *g, int node, double sync, pg_frame lo, pg_frame hi) {
    pg_extent e = pg_graph_node_extent(g, node);
    int64_t n = e.end - e.start;
    int ch = pg_graph_node_channels(g, node);
    float *y = calloc((size_t)(n * ch + 1), sizeof(float));
    CHECK_STATUS(t_render(g, node, e.start, e.end, 7, y), PG_OK);
    for (int c = 0; c < ch; c++)
        for (int64_t i = 0; i < n; i++) {
            double tau = (double)(e.start + i) + sync, f = floor(tau);
            // the kept window is file frames [lo, hi)
            double x0 = f >= lo && f < hi ? xval(c, (int64_t)f) : 0.0;
            double x1 = f + 1 >= lo && f + 1 < hi ? xval(c, (int64_t)f + 1) : 0.0;
            CHECK_NEAR(y[c * n + i], (x1 - x0) * (tau - f) + x0, 1e-7);
        }
    free(y);
}

static void test_stereo(const char *path) {
    pg_graph *g = t_graph(0);
    int plain = snippet(g, path, 0, NULL);
    CHECK_EXTENT(g, plain, 0, FRAMES);
    CHECK_EQ_I64(pg_graph_node_channels(g, plain), 2);
    check_values(g, plain, 0, 0, FRAMES);
    int synced = snippet(g, path, 10, NULL); // QUIRK Q47: [-10, 90), not pygmu's [0, 100)
    CHECK_EXTENT(g, synced, -10, 90);
    check_values(g, synced, 10, 0, FRAMES);
    pg_extent crop = { 20, 50 };
    int cropped = snippet(g, path, 0, &crop);
    CHECK_EXTENT(g, cropped, 20, 50);
    check_values(g, cropped, 0, 20, 50);
    int both = snippet(g, path, 30, &crop); // the sync point 30 is inside [20, 50)
    CHECK_EXTENT(g, both, -10, 20);
    check_values(g, both, 30, 20, 50);
    // fractional: tau = t + 10.5 touches the file for t in [-11, 90): out(-11) = x(0) / 2
    int frac = snippet(g, path, 10.5, NULL);
    CHECK_EXTENT(g, frac, -11, 90);
    check_values(g, frac, 10.5, 0, FRAMES);
    pg_extent miss = { 200, 300 }, open_end = { 60, INF_E };
    CHECK(pg_extent_is_empty(pg_graph_node_extent(g, snippet(g, path, 0, &miss))));
    int tail = snippet(g, path, 60, &open_end);
    CHECK_EXTENT(g, tail, 0, 40);
    check_values(g, tail, 60, 60, FRAMES);
    CHECK(t_block_invariant(g, frac, -11, 90));
    CHECK(t_block_invariant(g, both, -10, 20));
    pg_graph_free(g);
}

// A mono file keeps its own rate (44100) whatever the graph's default.
static void test_mono(const char *path) {
    pg_graph *g = t_graph(48000);
    int node = snippet(g, path, -5, NULL);
    CHECK_EXTENT(g, node, 5, 105);
    CHECK_EQ_I64(pg_graph_node_channels(g, node), 1);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, node), 44100);
    check_values(g, node, -5, 0, FRAMES);
    pg_graph_free(g);
}

static void test_bad(const char *path) {
    pg_graph *g = t_graph(0);
    pg_arg a[] = { t_str(NULL, "/nonexistent/no_such_file.wav") };
    CHECK_STATUS(t_add_status(g, "SnippetPE", a, 1), PG_ERR_FILE);
    pg_arg b[] = { t_str(NULL, path), t_num(NULL, (double)NAN) };
    CHECK_STATUS(t_add_status(g, "SnippetPE", b, 2), PG_ERR_ARG);
    pg_arg c[] = { t_num(NULL, 3.0) };
    CHECK_STATUS(t_add_status(g, "SnippetPE", c, 1), PG_ERR_ARG);
    pg_graph_free(g);
}

int main(void) {
    char stereo[64], mono[64];
    if (write_file(stereo, 2, 48000) < 0 || write_file(mono, 1, 44100) < 0) {
        fprintf(stderr, "cannot write test files in /tmp\n");
        return 1;
    }
    test_stereo(stereo);
    test_mono(mono);
    test_bad(stereo);
    unlink(stereo);
    unlink(mono);
    return check_done();
}
