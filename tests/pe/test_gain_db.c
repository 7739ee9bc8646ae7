// test_gain_db.c: GainDbPE(src_pe, gain_db), exported by pygmuc (QUIRK Q31). It behaves as
// GainPE(units='db'), so pygmu's dB cases of test_gain_pe.py apply: IdentityPE over [0,5)
// at 0 / -20 / +20 dB gives x1 / x0.1 / x10; RampPE(-40, 60, [0,5)) as the gain
// ([-40,-20,0,20,40] dB) gives [0,.1,2,30,400]; a cropped source or gain limits the extent
// to E(src) ∩ E(gain); no overlap gives zeros.
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void check5(pg_graph *g, int node, const double *want, double tol) {
    float y[5];
    CHECK_STATUS(t_render(g, node, 0, 5, 64, y), PG_OK);
    for (int i = 0; i < 5; i++)
        CHECK_NEAR(y[i], want[i], tol * fmax(1, fabs(want[i])));
}

static void test_constant(void) {
    pg_graph *g = t_graph(0);
    int src = t_add(g, "IdentityPE", NULL, 0);
    check5(g, ADD(g, "GainDbPE", t_node(NULL, src), t_num(NULL, 0)), (double[]){ 0, 1, 2, 3, 4 },
           0);
    check5(g, ADD(g, "GainDbPE", t_node(NULL, src), t_num(NULL, -20)),
           (double[]){ 0, .1, .2, .3, .4 }, 1e-7);
    check5(g, ADD(g, "GainDbPE", t_node(NULL, src), t_int("gain_db", 20)),
           (double[]){ 0, 10, 20, 30, 40 }, 1e-7);
    int cropped = ADD(g, "CropPE", t_node(NULL, src), t_ext(NULL, 2, 4));
    int before = ADD(g, "GainDbPE", t_node(NULL, cropped), t_num(NULL, 0));
    check5(g, before, (double[]){ 0, 0, 2, 3, 0 }, 0);
    check5(g,
           ADD(g, "CropPE", t_node(NULL, ADD(g, "GainDbPE", t_node(NULL, src), t_num(NULL, 0))),
               t_ext(NULL, 2, 4)),
           (double[]){ 0, 0, 2, 3, 0 }, 0);
    pg_extent e = pg_graph_node_extent(g, before);
    CHECK(e.start == 2 && e.end == 4);
    e = pg_graph_node_extent(g, ADD(g, "GainDbPE", t_node(NULL, src), t_num(NULL, 6)));
    CHECK(e.start == PG_FRAME_MIN && e.end == PG_FRAME_MAX);
    int none = ADD(g, "CropPE", t_node(NULL, src), t_ext(NULL, 9, 9));
    e = pg_graph_node_extent(g, ADD(g, "GainDbPE", t_node(NULL, none), t_num(NULL, 3)));
    CHECK(pg_extent_is_empty(e));
    e = pg_graph_node_extent(g, ADD(g, "GainDbPE", t_node(NULL, src), t_node(NULL, none)));
    CHECK(pg_extent_is_empty(e));
    pg_graph_free(g);
}

static void test_dynamic(void) {
    pg_graph *g = t_graph(0);
    int src = t_add(g, "IdentityPE", NULL, 0);
    int ramp = ADD(g, "RampPE", t_num(NULL, -40), t_num(NULL, 60), t_ext(NULL, 0, 5));
    int d = ADD(g, "GainDbPE", t_node(NULL, src), t_node(NULL, ramp));
    check5(g, d, (double[]){ 0, .1, 2, 30, 400 }, 1e-7);
    pg_extent e = pg_graph_node_extent(g, d);
    CHECK(e.start == 0 && e.end == 5); // E(src) ∩ E(gain)
    int c05 = ADD(g, "CropPE", t_node(NULL, src), t_ext(NULL, 0, 5));
    int late = ADD(g, "GainDbPE", t_node(NULL, src), t_node(NULL, c05));
    float y[5];
    CHECK_STATUS(t_render(g, late, 5, 10, 64, y), PG_OK);
    for (int i = 0; i < 5; i++)
        CHECK(y[i] == 0);
    // a stereo source with a mono gain, then with a stereo gain of its own per channel
    double x[6] = { 1, 1, 1, -1, -1, -1 }, gdb[6] = { 0, -6, 6, 20, 20, 20 };
    int st = ADD(g, "ArrayPE", t_arr(NULL, 2, 3, x));
    int mono = ADD(g, "ArrayPE", t_arr(NULL, 1, 3, gdb));
    int both = ADD(g, "ArrayPE", t_arr(NULL, 2, 3, gdb));
    float z[6];
    CHECK_STATUS(t_render(g, ADD(g, "GainDbPE", t_node(NULL, st), t_node(NULL, mono)), 0, 3, 64, z),
                 PG_OK);
    CHECK_NEAR(z[1], pow(10, -6 / 20.0), 1e-7);
    CHECK_NEAR(z[4], -pow(10, -6 / 20.0), 1e-7);
    CHECK_STATUS(t_render(g, ADD(g, "GainDbPE", t_node(NULL, st), t_node(NULL, both)), 0, 3, 7, z),
                 PG_OK);
    CHECK_NEAR(z[2], pow(10, 6 / 20.0), 1e-6);
    CHECK_NEAR(z[5], -10, 1e-6);
    CHECK(t_block_invariant(g, d, -3, 8));
    pg_graph_free(g);
}

static void test_errors(void) {
    pg_graph *g = t_graph(48000);
    double x[9] = { 0 };
    int st = ADD(g, "ArrayPE", t_arr(NULL, 2, 3, x));
    int three = ADD(g, "ArrayPE", t_arr(NULL, 3, 3, x));
    int other = ADD(g, "ArrayPE", t_arr(NULL, 1, 3, x), t_int("frame_rate", 22050));
    CHECK_STATUS(STATUS(g, "GainDbPE", t_node(NULL, st), t_node(NULL, three)), PG_ERR_CHANNELS);
    CHECK_STATUS(STATUS(g, "GainDbPE", t_node(NULL, st), t_node(NULL, other)), PG_ERR_RATE);
    CHECK_STATUS(STATUS(g, "GainDbPE", t_node(NULL, st)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "GainDbPE", t_node(NULL, st), t_str(NULL, "6dB")), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "GainDbPE", t_node(NULL, st), t_num(NULL, INFINITY)), PG_ERR_ARG);
    pg_graph_free(g);
}

int main(void) {
    test_constant();
    test_dynamic();
    test_errors();
    return check_done();
}
