// test_const.c: ConstPE(value, frame_rate=None). Expectations from pygmu's test_const_pe.py
// (22.2 five times over [0, 5), indefinite, mono) and from the definition: the same float32
// value at every absolute frame, any window, any block size.
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void test_shape(void) {
    pg_graph *g = t_graph(0);
    int c = ADD(g, "ConstPE", t_num(NULL, 22.2));
    CHECK(t_extent_is(pg_graph_node_extent(g, c), PG_FRAME_MIN, PG_FRAME_MAX));
    CHECK_EQ_I64(pg_graph_node_channels(g, c), 1);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, c), 48000); // the graph's default
    int r = ADD(g, "ConstPE", t_num(NULL, 1), t_int("frame_rate", 1234));
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, r), 1234);
    int pos = ADD(g, "ConstPE", t_num(NULL, 1), t_int(NULL, 1234)); // frame_rate positional
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, pos), 1234);
    pg_graph_free(g);
}

// pygmu: ConstPE(22.2) over [0, 5) is 22.2 five times (as float32). Being indefinite, it has
// the value far before and after 0 too.
static void test_values(void) {
    pg_graph *g = t_graph(0);
    int c = ADD(g, "ConstPE", t_num(NULL, 22.2));
    int k = ADD(g, "ConstPE", t_int("value", -3)); // an int value becomes a number
    float out[5];
    const pg_frame starts[] = { 0, -5, -2, (pg_frame)1 << 40, -((pg_frame)1 << 40) };
    for (int s = 0; s < 5; s++) {
        RENDER(g, c, starts[s], 5, out);
        for (int i = 0; i < 5; i++)
            CHECK(out[i] == (float)22.2);
    }
    RENDER(g, k, 10, 5, out);
    double want[5] = { -3, -3, -3, -3, -3 };
    CHECK_FRAMES(out, want, 5, 0);
    CHECK(t_block_invariant(g, c, -1000, 9000));
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    CHECK_STATUS(t_add_status(g, "ConstPE", NULL, 0), PG_ERR_ARG); // value is required
    CHECK_STATUS(STATUS(g, "ConstPE", t_str(NULL, "one")), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "ConstPE", t_num(NULL, 1), t_int("frame_rate", 0)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "ConstPE", t_num(NULL, 1), t_num("frame_rate", 1.5)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "ConstPE", t_num(NULL, 1), t_num("valu", 2)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "ConstPE", t_num(NULL, 1), t_num(NULL, 48000), t_num(NULL, 3)),
                 PG_ERR_ARG); // too many positional arguments
    CHECK_EQ_I64(pg_graph_node_count(g), 0);
    pg_graph_free(g);
}

int main(void) {
    test_shape();
    test_values();
    test_bad_args();
    return check_done();
}
