// test_impulse.c: ImpulsePE(frame_rate=None). pygmu's test_impulse_pe.py: [-5, 0) zeros,
// [0, 5) = [1, 0, 0, 0, 0], [5, 10) zeros; ImpulsePE(1) sets frame rate 1 positionally; the
// extent stays indefinite as in pygmu (pieces rely on it).
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void test_shape(void) {
    pg_graph *g = t_graph(0);
    int a = ADD(g, "ImpulsePE", t_int(NULL, 1));
    int b = ADD(g, "ImpulsePE", t_int("frame_rate", 1234));
    int c = t_add(g, "ImpulsePE", NULL, 0);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, a), 1);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, b), 1234);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, c), 48000);
    CHECK(t_extent_is(pg_graph_node_extent(g, c), PG_FRAME_MIN, PG_FRAME_MAX));
    CHECK_EQ_I64(pg_graph_node_channels(g, c), 1);
    pg_graph_free(g);
}

static void test_values(void) {
    pg_graph *g = t_graph(0);
    int imp = t_add(g, "ImpulsePE", NULL, 0);
    float out[5];
    RENDER(g, imp, -5, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, 0, 0, 0 }), 5, 0);
    RENDER(g, imp, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 1, 0, 0, 0, 0 }), 5, 0);
    RENDER(g, imp, 5, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, 0, 0, 0 }), 5, 0);
    RENDER(g, imp, -2, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, 1, 0, 0 }), 5, 0);
    RENDER(g, imp, -4, 5, out); // frame 0 is the last of the window
    CHECK_FRAMES(out, ((double[]){ 0, 0, 0, 0, 1 }), 5, 0);
    CHECK(t_block_invariant(g, imp, -4097, 4100));
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    CHECK_STATUS(STATUS(g, "ImpulsePE", t_int(NULL, 0)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "ImpulsePE", t_int(NULL, 1), t_int(NULL, 2)), PG_ERR_ARG);
    CHECK_EQ_I64(pg_graph_node_count(g), 0);
    pg_graph_free(g);
}

int main(void) {
    test_shape();
    test_values();
    test_bad_args();
    return check_done();
}
