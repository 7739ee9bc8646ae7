// test_warp_speed.c: WarpSpeedPE(src_pe, speed=1.0) and `.warp_speed(rate, frame=0)`:
// out(t) = src(v t) interpolated as np.interp, read positions v t in double (QUIRK Q55).
// pygmu's test_warp_speed_pe.py numbers (IdentityPE source, R = [20, 30)), speed 2 reading
// every other frame, exact reads past 2^24 frames, the extent of every frame whose read
// touches the source (QUIRK Q56), bad arguments and block invariance.
#include <math.h>
#include <stdlib.h>

#include "check.h"

#define INF_S PG_FRAME_MIN
#define INF_E PG_FRAME_MAX

static int array(pg_graph *g, int rows, int cols, const double *data) {
    pg_arg a[] = { t_arr(NULL, rows, cols, data) };
    return t_add(g, "ArrayPE", a, 1);
}

static int shift(pg_graph *g, int src, pg_arg delay) {
    pg_arg a[] = { t_node(NULL, src), delay };
    return t_add(g, "TimeShiftPE", a, 2);
}

static int speed(pg_graph *g, int src, double v) {
    pg_arg a[] = { t_node(NULL, src), t_num(NULL, v) };
    return t_add(g, "WarpSpeedPE", a, 2);
}

static float *render(pg_graph *g, int node, pg_frame s, int64_t n) {
    int ch = pg_graph_node_channels(g, node);
    float *out = calloc((size_t)(n * ch + 1), sizeof(float));
    CHECK_STATUS(t_render(g, node, s, s + n, 7, out), PG_OK);
    return out;
}

// out over [20, 30) is v t for an IdentityPE source, for every speed of pygmu's tests
// (0 reads src(0) = 0); frame rate and channel count are the source's.
static void test_pygmu(void) {
    static const double speeds[] = { 0.5, 1, 2, 4, -0.5, -1, -2, -4, 0 };
    pg_graph *g = t_graph(0);
    pg_arg fr[] = { t_int("frame_rate", 1234) };
    int id = t_add(g, "IdentityPE", fr, 1);
    for (size_t k = 0; k < sizeof speeds / sizeof speeds[0]; k++) {
        int node = speed(g, id, speeds[k]);
        float *y = render(g, node, 20, 10);
        for (int i = 0; i < 10; i++)
            CHECK_NEAR(y[i], speeds[k] * (20 + i), 1.5e-6);
        free(y);
        CHECK_EQ_I64(pg_graph_node_frame_rate(g, node), 1234);
        CHECK_EQ_I64(pg_graph_node_channels(g, node), 1);
    }
    // continuity (get_src_frame_a1 / b1): speed 0.5 after time_shift(-45.0) over [30, 40)
    // reads 0.5 t + 45 = 60, 60.5, ...; speed 2 after time_shift(45.0) reads 2 t - 45.
    float *a = render(g, speed(g, shift(g, id, t_num(NULL, -45.0)), 0.5), 30, 10);
    float *b = render(g, speed(g, shift(g, id, t_num(NULL, 45.0)), 2.0), 30, 10);
    for (int i = 0; i < 10; i++) {
        CHECK_NEAR(a[i], 60.0 + 0.5 * i, 1.5e-6);
        CHECK_NEAR(b[i], 15.0 + 2.0 * i, 1.5e-6);
    }
    free(a);
    free(b);
    // extents of an indefinite source: indefinite at 1, 2, 0 and -1 (test_extent_p2r0's
    // finite +-9e307 bounds are a pygmu test bug, per the catalogue)
    CHECK_EXTENT(g, speed(g, id, 1.0), INF_S, INF_E);
    CHECK_EXTENT(g, speed(g, id, 2.0), INF_S, INF_E);
    CHECK_EXTENT(g, speed(g, id, 0.0), INF_S, INF_E);
    CHECK_EXTENT(g, speed(g, id, -1.0), INF_S, INF_E);
    pg_graph_free(g);
}

// Speed 2 reads every other frame exactly; 0.5 halfway between frames; stereo rows alike.
static void test_resample(void) {
    enum {
        XN = 400
    };
    pg_graph *g = t_graph(0);
    double *x = malloc(sizeof(double) * 2 * XN);
    t_fill_random(x, 2 * XN, 1);
    int src = array(g, 2, XN, x);
    float *f = render(g, src, 0, XN);
    float *y2 = render(g, speed(g, src, 2.0), 0, 200), *yh = render(g, speed(g, src, 0.5), 0, 798);
    for (int c = 0; c < 2; c++) {
        const float *xc = f + c * XN;
        for (int t = 0; t < 200; t++)
            CHECK_NEAR(y2[c * 200 + t], xc[2 * t], 0.0);
        for (int t = 0; t < 798; t++) {
            double x0 = (double)xc[t / 2], x1 = (double)xc[t / 2 + 1];
            CHECK_NEAR(yh[c * 798 + t], t % 2 ? (x1 - x0) * 0.5 + x0 : x0, 1e-7);
        }
    }
    free(f);
    free(y2);
    free(yh);
    free(x);
    pg_graph_free(g);
}

// QUIRK Q55: past 2^24 frames pygmu's float32 positions read 20000001, 20000002, 20000004,
// 20000004, ...; ours are exact: speed 1 copies frames at 2e7, speed 0.5 at 4e7 + 1 reads
// halfway between 2e7 and 2e7 + 1.
static void test_far(void) {
    enum {
        XN = 100
    };
    pg_graph *g = t_graph(0);
    double x[XN];
    t_fill_random(x, XN, 2);
    int src = shift(g, array(g, 1, XN, x), t_int(NULL, 20000000));
    float *y1 = render(g, speed(g, src, 1.0), 20000000, XN);
    float *yh = render(g, speed(g, src, 0.5), 40000001, 1);
    for (int i = 0; i < XN; i++)
        CHECK_NEAR(y1[i], (float)x[i], 0.0);
    CHECK_NEAR(yh[0], ((double)(float)x[1] - (double)(float)x[0]) * 0.5 + (double)(float)x[0],
               1e-7);
    free(y1);
    free(yh);
    pg_graph_free(g);
}

// QUIRK Q56: the extent holds every frame with S - 1 < v t < E. Source [3, 10):
// v = 2: [2, 5) (pygmu [1, 5): frame 1 reads x(2) = 0); v = 0.5: [5, 20) (frame 5 reads
// x(2.5) = x(3) / 2); v = -2: t in (10 / -2, 2 / -2) = [-4, -1) (pygmu [-5, -1)); v = 1:
// [3, 10); v = 0: src(0) = 0 everywhere, so empty. First and last frames read as stated.
static void test_extent(void) {
    pg_graph *g = t_graph(0);
    static const double x[] = { 1, 2, 3, 4, 5, 6, 7 };
    int src = shift(g, array(g, 1, 7, x), t_int(NULL, 3)); // x(3) = 1 ... x(9) = 7
    int v2 = speed(g, src, 2.0), vh = speed(g, src, 0.5), vm = speed(g, src, -2.0);
    CHECK_EXTENT(g, v2, 2, 5);
    CHECK_EXTENT(g, vh, 5, 20);
    CHECK_EXTENT(g, vm, -4, -1);
    CHECK_EXTENT(g, speed(g, src, 1.0), 3, 10);
    CHECK(pg_extent_is_empty(pg_graph_node_extent(g, speed(g, src, 0.0))));
    float *a = render(g, v2, 2, 3), *b = render(g, vh, 5, 15), *c = render(g, vm, -4, 3);
    CHECK_NEAR(a[0], 2.0, 0.0);  // x(4)
    CHECK_NEAR(a[2], 6.0, 0.0);  // x(8)
    CHECK_NEAR(b[0], 0.5, 0.0);  // x(2.5) = (0 + 1) / 2
    CHECK_NEAR(b[14], 3.5, 0.0); // x(9.5) = (7 + 0) / 2
    CHECK_NEAR(c[0], 6.0, 0.0);  // x(8)
    CHECK_NEAR(c[2], 2.0, 0.0);  // x(4)
    free(a);
    free(b);
    free(c);
    // an infinite bound stays infinite on its own side: [-inf, 10) at 2 is [-inf, 5), at -1
    // (-10, inf) -> [-9, inf)
    pg_arg ca[] = { t_node(NULL, t_add(g, "IdentityPE", NULL, 0)), t_ext(NULL, INF_S, 10) };
    int half = t_add(g, "CropPE", ca, 2);
    CHECK_EXTENT(g, speed(g, half, 2.0), INF_S, 5);
    CHECK_EXTENT(g, speed(g, half, -1.0), -9, INF_E);
    pg_graph_free(g);
}

// `.warp_speed(rate, frame=0)` is the same PE; `frame` is ignored. Both methods exist.
static void test_method(void) {
    pg_graph *g = t_graph(0);
    int id = t_add(g, "IdentityPE", NULL, 0);
    pg_arg a[] = { t_node(NULL, id), t_num("rate", 3.0), t_num("frame", 100.0) };
    int node = t_add(g, "_warp_speed", a, 3);
    float *y = render(g, node, 20, 10);
    for (int i = 0; i < 10; i++)
        CHECK_NEAR(y[i], 3.0 * (20 + i), 0.0);
    free(y);
    int ks = pg_kind_find_method("speed"), kw = pg_kind_find_method("warp_speed");
    CHECK(ks >= 0 && kw >= 0);
    CHECK(ks >= 0 && pg_kind_name(ks)[0] == 'W');
    pg_graph_free(g);
}

// A PE speed is an argument error (pygmu: ArgumentError), as are NaN and infinite speeds.
static void test_bad(void) {
    pg_graph *g = t_graph(0);
    int id = t_add(g, "IdentityPE", NULL, 0);
    pg_arg a[] = { t_node(NULL, id), t_node("speed", t_add(g, "IdentityPE", NULL, 0)) };
    CHECK_STATUS(t_add_status(g, "WarpSpeedPE", a, 2), PG_ERR_ARG);
    pg_arg b[] = { t_node(NULL, id), t_num(NULL, (double)NAN) };
    CHECK_STATUS(t_add_status(g, "WarpSpeedPE", b, 2), PG_ERR_ARG);
    pg_arg c[] = { t_node(NULL, id), t_num(NULL, HUGE_VAL) };
    CHECK_STATUS(t_add_status(g, "WarpSpeedPE", c, 2), PG_ERR_ARG);
    pg_graph_free(g);
}

// Bit-identical at blocks 1, 7, 64, 4096: speeds 0.75, -1.5 and 300 (reads split into
// bounded spans) over a random stereo source.
static void test_blocks(void) {
    enum {
        XN = 30000
    };
    static const double speeds[] = { 0.75, -1.5, 300.0 };
    pg_graph *g = t_graph(0);
    double *x = malloc(sizeof(double) * 2 * XN);
    t_fill_random(x, 2 * XN, 3);
    int src = array(g, 2, XN, x);
    for (int k = 0; k < 3; k++) {
        int node = speed(g, src, speeds[k]);
        pg_extent e = pg_graph_node_extent(g, node);
        CHECK(t_block_invariant(g, node, e.start, e.end));
    }
    free(x);
    pg_graph_free(g);
}

int main(void) {
    test_pygmu();
    test_resample();
    test_far();
    test_extent();
    test_method();
    test_bad();
    test_blocks();
    return check_done();
}
