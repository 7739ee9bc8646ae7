// test_crop.c: CropPE(src_pe, extent). Expected values are pygmu's test_crop_pe.py table
// (IdentityPE cropped to [100, 103): out(t) = t inside the crop, 0 outside), plus the
// closed form out(t) = src(t) on crop ∩ E(src) for the other cases.
#include <stdlib.h>

#include "check.h"

#define INF_S PG_FRAME_MIN
#define INF_E PG_FRAME_MAX

static int crop(pg_graph *g, int src, pg_frame s, pg_frame e) {
    pg_arg a[] = { t_node(NULL, src), t_ext(NULL, s, e) };
    return t_add(g, "CropPE", a, 2);
}

static int spread(pg_graph *g, int src, int ch) {
    pg_arg a[] = { t_node(NULL, src), t_int("channel_count", ch) };
    return t_add(g, "SpreadPE", a, 2);
}

// Renders node over [s, s + n) and checks every channel against want (n values).
static void expect(pg_graph *g, int node, pg_frame s, int n, const double *want) {
    int ch = pg_graph_node_channels(g, node);
    float *out = calloc((size_t)(n * ch + 1), sizeof(float));
    CHECK_STATUS(t_render(g, node, s, s + n, 64, out), PG_OK);
    for (int c = 0; c < ch; c++)
        for (int i = 0; i < n; i++)
            CHECK_NEAR(out[c * n + i], want[i], 1e-6);
    free(out);
}

static void test_pygmu_table(void) {
    pg_graph *g = t_graph(0);
    int id = t_add(g, "IdentityPE", NULL, 0);
    int mono = crop(g, id, 100, 103);
    int stereo = spread(g, mono, 2);
    CHECK_EQ_I64(pg_graph_node_extent(g, mono).start, 100);
    CHECK_EQ_I64(pg_graph_node_extent(g, mono).end, 103);
    CHECK_EQ_I64(pg_graph_node_channels(g, mono), 1);
    CHECK_EQ_I64(pg_graph_node_channels(g, stereo), 2);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, mono), 48000);
    static const double w95[] = { 0, 0, 0, 0, 0 }, w97[] = { 0, 0, 0, 100, 101 },
                        w100[] = { 100, 101, 102 }, w99[] = { 0, 100, 101, 102, 0 },
                        w101[] = { 101, 102, 0, 0, 0 };
    int nodes[] = { mono, stereo };
    for (int k = 0; k < 2; k++) {
        expect(g, nodes[k], 95, 5, w95);
        expect(g, nodes[k], 97, 5, w97);
        expect(g, nodes[k], 100, 3, w100);
        expect(g, nodes[k], 99, 5, w99);
        expect(g, nodes[k], 101, 5, w101);
        expect(g, nodes[k], 103, 5, w95);
        CHECK(t_block_invariant(g, nodes[k], 90, 110));
    }
    pg_graph_free(g);
}

// crop ∩ E(src): a crop of a crop narrows; disjoint crops are empty at [0, 0).
static void test_extents(void) {
    pg_graph *g = t_graph(0);
    int id = t_add(g, "IdentityPE", NULL, 0);
    int a = crop(g, id, 10, 50);
    int b = crop(g, a, 30, 80);
    CHECK_EQ_I64(pg_graph_node_extent(g, b).start, 30);
    CHECK_EQ_I64(pg_graph_node_extent(g, b).end, 50);
    int d = crop(g, a, 60, 70);
    CHECK_EQ_I64(pg_graph_node_extent(g, d).start, 0);
    CHECK_EQ_I64(pg_graph_node_extent(g, d).end, 0);
    static const double zeros[4] = { 0 };
    expect(g, d, 58, 4, zeros);
    // first and last frame of [30, 50)
    static const double first[] = { 0, 30 }, last[] = { 49, 0 };
    expect(g, b, 29, 2, first);
    expect(g, b, 49, 2, last);
    // an infinite crop keeps the infinite side: [-inf, 5) of IdentityPE
    int h = crop(g, id, INF_S, 5);
    CHECK_EQ_I64(pg_graph_node_extent(g, h).start, INF_S);
    CHECK_EQ_I64(pg_graph_node_extent(g, h).end, 5);
    static const double neg[] = { -3, -2, -1, 0, 1, 2, 3, 4, 0, 0 };
    expect(g, h, -3, 10, neg);
    int open = crop(g, id, INF_S, INF_E);
    CHECK_EQ_I64(pg_graph_node_extent(g, open).start, INF_S);
    CHECK_EQ_I64(pg_graph_node_extent(g, open).end, INF_E);
    // a long crop straddling many blocks
    int big = crop(g, id, -1000, 9000);
    CHECK(t_block_invariant(g, big, -1234, 9100));
    pg_graph_free(g);
}

// Distinct channels stay distinct: rows [1..4] and [10..40] of an ArrayPE.
static void test_stereo_rows(void) {
    pg_graph *g = t_graph(0);
    static const double rows[] = { 1, 2, 3, 4, 10, 20, 30, 40 };
    pg_arg aa[] = { t_arr(NULL, 2, 4, rows) };
    int arr = t_add(g, "ArrayPE", aa, 1);
    int c = crop(g, arr, 1, 3);
    float out[2 * 5];
    CHECK_STATUS(t_render(g, c, 0, 5, 7, out), PG_OK);
    static const double want[] = { 0, 2, 3, 0, 0, 0, 20, 30, 0, 0 };
    for (int i = 0; i < 10; i++)
        CHECK_NEAR(out[i], want[i], 0);
    CHECK(t_block_invariant(g, c, -3, 8));
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    int id = t_add(g, "IdentityPE", NULL, 0);
    pg_arg no_extent[] = { t_node(NULL, id) };
    CHECK_STATUS(t_add_status(g, "CropPE", no_extent, 1), PG_ERR_ARG);
    pg_arg num_extent[] = { t_node(NULL, id), t_num(NULL, 3) };
    CHECK_STATUS(t_add_status(g, "CropPE", num_extent, 2), PG_ERR_ARG);
    pg_arg num_src[] = { t_num(NULL, 1), t_ext(NULL, 0, 5) };
    CHECK_STATUS(t_add_status(g, "CropPE", num_src, 2), PG_ERR_ARG);
    pg_arg bad_kw[] = { t_node(NULL, id), t_ext("extnt", 0, 5) };
    CHECK_STATUS(t_add_status(g, "CropPE", bad_kw, 2), PG_ERR_ARG);
    pg_arg kw[] = { t_node("src_pe", id), t_ext("extent", 0, 5) };
    CHECK_STATUS(t_add_status(g, "CropPE", kw, 2), PG_OK);
    pg_graph_free(g);
}

int main(void) {
    test_pygmu_table();
    test_extents();
    test_stereo_rows();
    test_bad_args();
    return check_done();
}
