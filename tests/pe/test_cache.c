// test_cache.c: CachePE(src_pe). The planner renders it once over its finite extent; the
// output is the source in the source's own absolute time (QUIRK Q20: pygmu shifted a source
// on [10, 15) to [0, 5)). pygmu's test_cache_pe.py: the cached render equals the source's,
// channels and rate pass through, an indefinite source is refused.
#include <stdlib.h>
#include <string.h>

#include "check.h"

static int crop(pg_graph *g, int src, pg_frame s, pg_frame e) {
    pg_arg a[] = { t_node(NULL, src), t_ext(NULL, s, e) };
    return t_add(g, "CropPE", a, 2);
}

static int cache(pg_graph *g, int src) {
    pg_arg a[] = { t_node(NULL, src) };
    return t_add(g, "CachePE", a, 1);
}

// The cache's render equals its source's over [s, e), bit for bit, at block sizes 1..4096.
static void same_as_source(pg_graph *g, int c, int src, pg_frame s, pg_frame e) {
    int ch = pg_graph_node_channels(g, c);
    size_t n = (size_t)(e - s) * (size_t)ch;
    float *a = calloc(n, sizeof(float)), *b = calloc(n, sizeof(float));
    CHECK_STATUS(t_render(g, c, s, e, 64, a), PG_OK);
    CHECK_STATUS(t_render(g, src, s, e, 64, b), PG_OK);
    CHECK(memcmp(a, b, n * sizeof(float)) == 0);
    CHECK(t_block_invariant(g, c, s, e));
    free(a);
    free(b);
}

static void test_absolute_time(void) {
    pg_graph *g = t_graph(0);
    int id = t_add(g, "IdentityPE", NULL, 0);
    int c = cache(g, crop(g, id, 10, 15));
    CHECK_EQ_I64(pg_graph_node_extent(g, c).start, 10);
    CHECK_EQ_I64(pg_graph_node_extent(g, c).end, 15);
    float out[8];
    CHECK_STATUS(t_render(g, c, 8, 16, 3, out), PG_OK);
    static const float want[] = { 0, 0, 10, 11, 12, 13, 14, 0 };
    for (int i = 0; i < 8; i++)
        CHECK_NEAR(out[i], want[i], 0);
    CHECK_STATUS(t_render(g, c, 0, 5, 3, out), PG_OK); // pygmu put the data here
    for (int i = 0; i < 5; i++)
        CHECK_NEAR(out[i], 0, 0);
    pg_graph_free(g);
}

static void test_sources(void) {
    pg_graph *g = t_graph(0);
    pg_arg sa[] = { t_num(NULL, 440.0), t_int("frame_rate", 1234) };
    int sn = crop(g, t_add(g, "SinPE", sa, 2), -300, 9000);
    int c = cache(g, sn);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, c), 1234);
    CHECK_EQ_I64(pg_graph_node_channels(g, c), 1);
    same_as_source(g, c, sn, -500, 9100);
    static const double rows[] = { 1, 2, 3, 4, -1, -2, -3, -4 };
    pg_arg aa[] = { t_arr(NULL, 2, 4, rows) };
    int arr = t_add(g, "ArrayPE", aa, 1);
    int cs = cache(g, arr);
    CHECK_EQ_I64(pg_graph_node_channels(g, cs), 2);
    same_as_source(g, cs, arr, -2, 6);
    // a window inside the extent only, and a cache of a cache
    same_as_source(g, cache(g, c), sn, 4000, 4100);
    // an empty source: a finite, empty extent, silence
    int e = cache(g, crop(g, arr, 10, 20));
    CHECK_EQ_I64(pg_graph_node_extent(g, e).start, 0);
    CHECK_EQ_I64(pg_graph_node_extent(g, e).end, 0);
    CHECK_EQ_I64(pg_graph_node_channels(g, e), 2);
    float out[4] = { 1, 1, 1, 1 };
    CHECK_STATUS(t_render(g, e, 0, 2, 7, out), PG_OK);
    CHECK(out[0] == 0 && out[1] == 0 && out[2] == 0 && out[3] == 0);
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    int id = t_add(g, "IdentityPE", NULL, 0);
    pg_arg ind[] = { t_node(NULL, id) };
    CHECK_STATUS(t_add_status(g, "CachePE", ind, 1), PG_ERR_EXTENT);
    pg_arg half[] = { t_node(NULL, crop(g, id, PG_FRAME_MIN, 0)) };
    CHECK_STATUS(t_add_status(g, "CachePE", half, 1), PG_ERR_EXTENT);
    pg_arg num[] = { t_num(NULL, 1) };
    CHECK_STATUS(t_add_status(g, "CachePE", num, 1), PG_ERR_ARG);
    CHECK_STATUS(t_add_status(g, "CachePE", NULL, 0), PG_ERR_ARG);
    pg_graph_free(g);
}

// A stateful source: the cache equals it, at every block size.
static void test_stateful_source(void) {
    pg_graph *g = t_graph(0);
    pg_arg a[] = { t_num(NULL, 440.0) };
    int s = crop(g, t_add(g, "BlitSawPE", a, 1), 0, 9000);
    same_as_source(g, cache(g, s), s, 0, 9000);
    pg_graph_free(g);
}

int main(void) {
    test_absolute_time();
    test_sources();
    test_bad_args();
    test_stateful_source();
    return check_done();
}
