// test_reverse.c: ReversePE(src_pe, infinite_end=None). out(t) = src(F - 1 - t) on
// [F - E, F - S), F = infinite_end or E(src).end (QUIRK Q45 fixed). pygmu's test is a stub;
// the expectations are the mirror formula worked by hand, and the verified pygmu failure
// (R = [-2, 3) over [[1..5], [10..50]]) now gives time-reversed rows.
#include <stdlib.h>

#include "check.h"

#define INF_S PG_FRAME_MIN
#define INF_E PG_FRAME_MAX

static int crop(pg_graph *g, int src, pg_frame s, pg_frame e) {
    pg_arg a[] = { t_node(NULL, src), t_ext(NULL, s, e) };
    return t_add(g, "CropPE", a, 2);
}

static int reverse(pg_graph *g, int src) {
    pg_arg a[] = { t_node(NULL, src) };
    return t_add(g, "ReversePE", a, 1);
}

static int reverse_f(pg_graph *g, int src, int64_t f) {
    pg_arg a[] = { t_node(NULL, src), t_int("infinite_end", f) };
    return t_add(g, "ReversePE", a, 2);
}

// want holds channels * n values, planar.
static void expect(pg_graph *g, int node, pg_frame s, int n, const double *want) {
    int ch = pg_graph_node_channels(g, node);
    float *out = calloc((size_t)(n * ch + 1), sizeof(float));
    CHECK_STATUS(t_render(g, node, s, s + n, 3, out), PG_OK);
    for (int i = 0; i < n * ch; i++)
        CHECK_NEAR(out[i], want[i], 0);
    free(out);
}

static void test_default_end(void) {
    pg_graph *g = t_graph(0);
    static const double rows[] = { 1, 2, 3, 4, 5, 10, 20, 30, 40, 50 };
    pg_arg a1[] = { t_arr(NULL, 1, 5, rows) }, a2[] = { t_arr(NULL, 2, 5, rows) };
    int m = reverse(g, t_add(g, "ArrayPE", a1, 1));
    int s = reverse(g, t_add(g, "ArrayPE", a2, 1));
    CHECK_EXTENT(g, m, 0, 5);
    CHECK_EQ_I64(pg_graph_node_channels(g, s), 2);
    static const double wm[] = { 0, 5, 4, 3, 2, 1, 0 }; // [-1, 6)
    expect(g, m, -1, 7, wm);
    // pygmu's partial block gave [[0,0,30,40,50],[0,0,3,4,5]] (channels flipped, not time)
    static const double ws[] = { 0, 0, 5, 4, 3, 0, 0, 50, 40, 30 }; // [-2, 3)
    expect(g, s, -2, 5, ws);
    CHECK(t_block_invariant(g, s, -4, 9));
    // a source on [10, 15): F = 15, extent [0, 5), out(t) = src(14 - t) = 14 - t
    int id = t_add(g, "IdentityPE", NULL, 0);
    int r = reverse(g, crop(g, id, 10, 15));
    CHECK_EXTENT(g, r, 0, 5);
    static const double wr[] = { 0, 14, 13, 12, 11, 10, 0 };
    expect(g, r, -1, 7, wr);
    // reversing r again (F' = 5, extent [0, 5)): r(4 - t) = 14 - (4 - t) = 10 + t
    int rr = reverse(g, r);
    CHECK_EXTENT(g, rr, 0, 5);
    static const double wrr[] = { 10, 11, 12, 13, 14 };
    expect(g, rr, 0, 5, wrr);
    pg_graph_free(g);
}

static void test_infinite_end(void) {
    pg_graph *g = t_graph(0);
    static const double row[] = { 1, 2, 3, 4, 5 };
    pg_arg a[] = { t_arr(NULL, 1, 5, row) };
    int arr = t_add(g, "ArrayPE", a, 1);
    // F = 20: [20 - 5, 20 - 0) = [15, 20), out(15) = x(4) = 5, out(19) = x(0) = 1
    int r = reverse_f(g, arr, 20);
    CHECK_EXTENT(g, r, 15, 20);
    static const double w[] = { 0, 5, 4, 3, 2, 1, 0 };
    expect(g, r, 14, 7, w);
    // F = 2 < E: the image [-3, 2)
    CHECK_EXTENT(g, reverse_f(g, arr, 2), -3, 2);
    // an indefinite source with an explicit F: [0, inf) -> [-inf, F); out(t) = F - 1 - t
    int id = t_add(g, "IdentityPE", NULL, 0);
    int h = reverse_f(g, crop(g, id, 0, INF_E), 100);
    CHECK_EXTENT(g, h, INF_S, 100);
    static const double tail[] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0 }; // [90, 101)
    expect(g, h, 90, 11, tail);
    double far[10]; // [-10, 0): 99 - t
    for (int i = 0; i < 10; i++)
        far[i] = 99 - (-10 + i);
    expect(g, h, -10, 10, far);
    CHECK_EXTENT(g, reverse_f(g, id, 7), INF_S, INF_E);
    CHECK_EXTENT(g, reverse_f(g, crop(g, id, INF_S, 10), 7), -3, INF_E);
    // an empty source stays empty
    CHECK_EXTENT(g, reverse_f(g, crop(g, arr, 10, 20), 50), 0, 0);
    pg_arg sa[] = { t_num(NULL, 300.0) };
    int sn = reverse_f(g, crop(g, t_add(g, "SinPE", sa, 1), 0, 10000), 12345);
    CHECK(t_block_invariant(g, sn, 2000, 12500));
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    int id = t_add(g, "IdentityPE", NULL, 0);
    pg_arg ind[] = { t_node(NULL, id) };
    CHECK_STATUS(t_add_status(g, "ReversePE", ind, 1), PG_ERR_EXTENT);
    pg_arg half[] = { t_node(NULL, crop(g, id, 0, INF_E)) };
    CHECK_STATUS(t_add_status(g, "ReversePE", half, 1), PG_ERR_EXTENT);
    pg_arg frac[] = { t_node(NULL, id), t_num(NULL, 2.5) };
    CHECK_STATUS(t_add_status(g, "ReversePE", frac, 2), PG_ERR_ARG);
    pg_arg str[] = { t_node(NULL, id), t_str(NULL, "x") };
    CHECK_STATUS(t_add_status(g, "ReversePE", str, 2), PG_ERR_ARG);
    pg_arg nosrc[] = { t_int("infinite_end", 3) };
    CHECK_STATUS(t_add_status(g, "ReversePE", nosrc, 1), PG_ERR_ARG);
    pg_arg fl[] = { t_node(NULL, crop(g, id, 0, 4)), t_num(NULL, 8.0) }; // integral float
    CHECK_STATUS(t_add_status(g, "ReversePE", fl, 2), PG_OK);
    pg_graph_free(g);
}

// A stateful source (BlitSawPE runs in time order from its origin) on [0, n).
static int saw(pg_graph *g, pg_frame n) {
    pg_arg a[] = { t_num(NULL, 440.0) };
    return crop(g, t_add(g, "BlitSawPE", a, 1), 0, n);
}

// A stateful source read backwards (materialised by the planner).
static void test_stateful_source(void) {
    pg_graph *g = t_graph(0);
    CHECK(t_block_invariant(g, reverse(g, saw(g, 9000)), -10, 9010));
    CHECK(t_block_invariant(g, reverse_f(g, saw(g, 9000), 10000), 0, 10000));
    pg_graph_free(g);
}

int main(void) {
    test_default_end();
    test_infinite_end();
    test_bad_args();
    test_stateful_source();
    return check_done();
}
