// test_abs.c: AbsPE(src). pygmu's test_abs_pe.py on ArrayPE([[-2,0,2],[-1,1,3]]): the windows
// table below; extent, frame rate and channel count are the source's.
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void test_pygmu(void) {
    static const struct {
        pg_frame s;
        double left[5], right[5];
    } rows[] = {
        { -5, { 0, 0, 0, 0, 0 }, { 0, 0, 0, 0, 0 } }, { -3, { 0, 0, 0, 2, 0 }, { 0, 0, 0, 1, 1 } },
        { -1, { 0, 2, 0, 2, 0 }, { 0, 1, 1, 3, 0 } }, { 1, { 0, 2, 0, 0, 0 }, { 1, 3, 0, 0, 0 } },
        { 3, { 0, 0, 0, 0, 0 }, { 0, 0, 0, 0, 0 } },
    };
    pg_graph *g = t_graph(0);
    int src = ADD(g, "ArrayPE", t_arr(NULL, 2, 3, (double[]){ -2, 0, 2, -1, 1, 3 }),
                  t_int("frame_rate", 1234));
    int a = ADD(g, "AbsPE", t_node(NULL, src));
    CHECK(t_extent_is(pg_graph_node_extent(g, a), 0, 3));
    CHECK_EQ_I64(pg_graph_node_channels(g, a), 2);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, a), 1234);
    float out[10];
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        RENDER(g, a, rows[r].s, 5, out);
        CHECK_FRAMES(out, rows[r].left, 5, 0);
        CHECK_FRAMES(out + 5, rows[r].right, 5, 0);
    }
    pg_graph_free(g);
}

// A mono, indefinite source: |sin| at fr/4 is [0, 1, 0, 1, 0]; IdentityPE gives |t|.
static void test_mono(void) {
    pg_graph *g = t_graph(0);
    int s = ADD(g, "SinPE", t_num(NULL, 12000));
    int a = ADD(g, "AbsPE", t_node("src", s));
    CHECK(t_extent_is(pg_graph_node_extent(g, a), PG_FRAME_MIN, PG_FRAME_MAX));
    CHECK_EQ_I64(pg_graph_node_channels(g, a), 1);
    float out[5];
    RENDER(g, a, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 1, 0, 1, 0 }), 5, 1.5e-6);
    int id = t_add(g, "IdentityPE", NULL, 0);
    int ai = ADD(g, "AbsPE", t_node(NULL, id));
    RENDER(g, ai, -2, 5, out);
    CHECK_FRAMES(out, ((double[]){ 2, 1, 0, 1, 2 }), 5, 0);
    CHECK(t_block_invariant(g, ai, -5000, 5000));
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    CHECK_STATUS(t_add_status(g, "AbsPE", NULL, 0), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "AbsPE", t_num(NULL, -3)), PG_ERR_ARG);
    CHECK_EQ_I64(pg_graph_node_count(g), 0);
    pg_graph_free(g);
}

int main(void) {
    test_pygmu();
    test_mono();
    test_bad_args();
    return check_done();
}
