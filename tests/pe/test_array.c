// test_array.c: ArrayPE(frames, frame_rate=None). pygmu's test_array_pe.py: a mono
// [[-2, 0, 2]] and a stereo [[-2, 0, 2], [-1, 1, 3]], extent [0, 3), and the windows table
// below (zeros outside [0, 3)). QUIRK Q14: a flat list (rows = 1) is mono.
#include <stdlib.h>
#include <string.h>

#include "check.h"

static const double mono_data[] = { -2, 0, 2 };
static const double stereo_data[] = { -2, 0, 2, -1, 1, 3 };

static void test_shape(void) {
    pg_graph *g = t_graph(0);
    int m = ADD(g, "ArrayPE", t_arr(NULL, 1, 3, mono_data));
    int s = ADD(g, "ArrayPE", t_arr(NULL, 2, 3, stereo_data), t_int("frame_rate", 1234));
    int e = ADD(g, "ArrayPE", t_arr(NULL, 0, 0, NULL));
    CHECK(t_extent_is(pg_graph_node_extent(g, m), 0, 3));
    CHECK_EQ_I64(pg_graph_node_channels(g, m), 1);
    CHECK_EQ_I64(pg_graph_node_channels(g, s), 2);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, m), 48000);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, s), 1234);
    // an empty list: one channel, no frames (numpy's channel_count of a 1-D array)
    CHECK(pg_extent_is_empty(pg_graph_node_extent(g, e)));
    CHECK_EQ_I64(pg_graph_node_channels(g, e), 1);
    pg_graph_free(g);
}

// The rows of pygmu's table: window start, then mono and stereo (row 0, row 1) values.
static void test_windows(void) {
    static const struct {
        pg_frame s;
        double mono[5], left[5], right[5];
    } rows[] = {
        { -5, { 0, 0, 0, 0, 0 }, { 0, 0, 0, 0, 0 }, { 0, 0, 0, 0, 0 } },
        { -3, { 0, 0, 0, -2, 0 }, { 0, 0, 0, -2, 0 }, { 0, 0, 0, -1, 1 } },
        { -1, { 0, -2, 0, 2, 0 }, { 0, -2, 0, 2, 0 }, { 0, -1, 1, 3, 0 } },
        { 1, { 0, 2, 0, 0, 0 }, { 0, 2, 0, 0, 0 }, { 1, 3, 0, 0, 0 } },
        { 3, { 0, 0, 0, 0, 0 }, { 0, 0, 0, 0, 0 }, { 0, 0, 0, 0, 0 } },
    };
    pg_graph *g = t_graph(0);
    int m = ADD(g, "ArrayPE", t_arr(NULL, 1, 3, mono_data));
    int s = ADD(g, "ArrayPE", t_arr(NULL, 2, 3, stereo_data));
    float out[10];
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        RENDER(g, m, rows[r].s, 5, out);
        CHECK_FRAMES(out, rows[r].mono, 5, 0);
        RENDER(g, s, rows[r].s, 5, out);
        CHECK_FRAMES(out, rows[r].left, 5, 0);
        CHECK_FRAMES(out + 5, rows[r].right, 5, 0);
    }
    RENDER(g, m, 0, 3, out); // exactly the extent
    CHECK_FRAMES(out, mono_data, 3, 0);
    pg_graph_free(g);
}

// Values are stored as float32 (pygmu converts with np.array(..., dtype=float32)); a long
// stereo array renders the same at any block size, first and last frame included.
static void test_long(void) {
    enum {
        N = 10000
    };
    double *d = malloc(sizeof(double) * 2 * N);
    for (int i = 0; i < N; i++) {
        d[i] = 0.1 * i;
        d[N + i] = -0.001 * i;
    }
    pg_graph *g = t_graph(0);
    int a = ADD(g, "ArrayPE", t_arr(NULL, 2, N, d));
    free(d); // the graph keeps its own copy
    float out[6];
    RENDER(g, a, -1, 3, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, (float)0.1 }), 3, 0);
    CHECK_FRAMES(out + 3, ((double[]){ 0, 0, (float)-0.001 }), 3, 0);
    RENDER(g, a, N - 1, 3, out);
    CHECK_FRAMES(out, ((double[]){ (float)(0.1 * (N - 1)), 0, 0 }), 3, 0);
    CHECK_FRAMES(out + 3, ((double[]){ (float)(-0.001 * (N - 1)), 0, 0 }), 3, 0);
    CHECK(t_block_invariant(g, a, -100, N + 100));
    pg_graph_free(g);
}

static void test_empty(void) {
    pg_graph *g = t_graph(0);
    int e = ADD(g, "ArrayPE", t_arr(NULL, 0, 0, NULL));
    float out[4] = { 1, 1, 1, 1 };
    RENDER(g, e, 0, 4, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, 0, 0 }), 4, 0);
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    CHECK_STATUS(t_add_status(g, "ArrayPE", NULL, 0), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "ArrayPE", t_str(NULL, "frames")), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "ArrayPE", t_arr(NULL, 1, 3, mono_data), t_int("frame_rate", 0)),
                 PG_ERR_ARG);
    CHECK_EQ_I64(pg_graph_node_count(g), 0);
    pg_graph_free(g);
}

int main(void) {
    test_shape();
    test_windows();
    test_long();
    test_empty();
    test_bad_args();
    return check_done();
}
