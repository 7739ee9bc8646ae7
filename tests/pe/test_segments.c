// test_segments.c: SegmentsPE(time_value_pairs, interpolation='ramp', frame_rate=None).
// pygmu's test_segments_pe.py on breakpoints [[0,1],[4,2],[6,-3]]: [-5, 0) is 1s, [6, 11) is
// -3s, and [-1, 8) is 1,1,1.25,1.5,1.75,2,-0.5,-3,-3 ('ramp') or 1,1,1,1,1,2,2,-3,-3 ('step');
// insertion sorts by time and a repeated time keeps the later value.
#include <stdlib.h>
#include <string.h>

#include "check.h"

static const double bp[] = { 0, 1, 4, 2, 6, -3 };

static int seg(pg_graph *g, int rows, const double *pairs, const char *interp) {
    return ADD(g, "SegmentsPE", t_arr(NULL, rows, 2, pairs), t_str("interpolation", interp));
}

static void test_shape(void) {
    pg_graph *g = t_graph(0);
    int s = ADD(g, "SegmentsPE", t_arr(NULL, 3, 2, bp));
    int r = ADD(g, "SegmentsPE", t_arr(NULL, 3, 2, bp), t_str(NULL, "step"), t_int(NULL, 1234));
    CHECK(t_extent_is(pg_graph_node_extent(g, s), PG_FRAME_MIN, PG_FRAME_MAX));
    CHECK_EQ_I64(pg_graph_node_channels(g, s), 1);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, s), 48000);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, r), 1234);
    pg_graph_free(g);
}

static void test_values(void) {
    pg_graph *g = t_graph(0);
    int ramp = seg(g, 3, bp, "ramp"), step = seg(g, 3, bp, "step");
    float out[9];
    for (int k = 0; k < 2; k++) {
        int n = k ? step : ramp;
        RENDER(g, n, -5, 5, out);
        CHECK_FRAMES(out, ((double[]){ 1, 1, 1, 1, 1 }), 5, 0);
        RENDER(g, n, 6, 5, out);
        CHECK_FRAMES(out, ((double[]){ -3, -3, -3, -3, -3 }), 5, 0);
    }
    RENDER(g, ramp, -1, 9, out);
    CHECK_FRAMES(out, ((double[]){ 1, 1, 1.25, 1.5, 1.75, 2, -0.5, -3, -3 }), 9, 0);
    RENDER(g, step, -1, 9, out);
    CHECK_FRAMES(out, ((double[]){ 1, 1, 1, 1, 1, 2, 2, -3, -3 }), 9, 0);
    CHECK(t_block_invariant(g, ramp, -100, 100));
    pg_graph_free(g);
}

// Insertion: [[1,200],[0,300]] sorts to times [0,1], values [300,200]; a repeated time keeps
// the later value: [[0,100],[2,200],[2,300]] ramps from 100 to 300 (200 at t = 1).
static void test_insertion(void) {
    pg_graph *g = t_graph(0);
    int sorted = seg(g, 2, (double[]){ 1, 200, 0, 300 }, "ramp");
    int dup = seg(g, 3, (double[]){ 0, 100, 2, 200, 2, 300 }, "ramp");
    int dup_step = seg(g, 3, (double[]){ 0, 100, 2, 200, 2, 300 }, "step");
    int unsorted = seg(g, 3, (double[]){ 4, 2, 6, -3, 0, 1 }, "ramp"); // bp, shuffled
    float out[9];
    RENDER(g, sorted, 0, 2, out);
    CHECK_FRAMES(out, ((double[]){ 300, 200 }), 2, 0);
    RENDER(g, dup, 0, 3, out);
    CHECK_FRAMES(out, ((double[]){ 100, 200, 300 }), 3, 0);
    RENDER(g, dup_step, 0, 3, out);
    CHECK_FRAMES(out, ((double[]){ 100, 100, 300 }), 3, 0);
    RENDER(g, unsorted, -1, 9, out);
    CHECK_FRAMES(out, ((double[]){ 1, 1, 1.25, 1.5, 1.75, 2, -0.5, -3, -3 }), 9, 0);
    pg_graph_free(g);
}

// Fractional times interpolate at the integer frames: [[0.5, 0], [2.5, 2]] gives 0 at t = 0
// (before), 0.5 at 1, 1.5 at 2, 2 at 3 (after); step holds 0 from 0.5 and 2 from 2.5.
static void test_fractional(void) {
    pg_graph *g = t_graph(0);
    const double pairs[] = { 0.5, 0, 2.5, 2 };
    int ramp = seg(g, 2, pairs, "ramp"), step = seg(g, 2, pairs, "step");
    float out[4];
    RENDER(g, ramp, 0, 4, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0.5, 1.5, 2 }), 4, 0);
    RENDER(g, step, 0, 4, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, 0, 2 }), 4, 0);
    pg_graph_free(g);
}

// A long envelope: any block size gives the same frames; values at the breakpoints.
static void test_long(void) {
    pg_graph *g = t_graph(0);
    int env = seg(g, 4, (double[]){ 0, 0, 1000, 1, 3000, 0.25, 4000, 0 }, "ramp");
    float out[3];
    RENDER(g, env, 999, 3, out);
    CHECK_FRAMES(out, ((double[]){ (float)(999.0 / 1000), 1, (float)(1 - 0.75 / 2000) }), 3, 0);
    CHECK(t_block_invariant(g, env, -50, 5000));
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    CHECK_STATUS(STATUS(g, "SegmentsPE", t_arr(NULL, 1, 2, bp)), PG_ERR_ARG); // one pair
    CHECK_STATUS(STATUS(g, "SegmentsPE", t_arr(NULL, 1, 6, bp)), PG_ERR_ARG); // a flat list
    CHECK_STATUS(STATUS(g, "SegmentsPE", t_arr(NULL, 2, 3, bp)), PG_ERR_ARG); // triples
    CHECK_STATUS(STATUS(g, "SegmentsPE", t_arr(NULL, 3, 2, bp), t_str(NULL, "linear")), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "SegmentsPE", t_arr(NULL, 2, 2, (double[]){ 0, 1, NAN, 2 })),
                 PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "SegmentsPE", t_num(NULL, 3)), PG_ERR_ARG); // a number: 1 x 1
    CHECK_STATUS(t_add_status(g, "SegmentsPE", NULL, 0), PG_ERR_ARG);
    CHECK_EQ_I64(pg_graph_node_count(g), 0);
    pg_graph_free(g);
}

int main(void) {
    test_shape();
    test_values();
    test_insertion();
    test_fractional();
    test_long();
    test_bad_args();
    return check_done();
}
