// test_comp_lim.c: CompLimPE(src_pe, env_pe, ratio=2.0, limit_db=0.0, squelch_db=-50.0).
// pygmu's test_comp_lim_pe.py: source ConstPE(1), envelope at (i - 60) dB on frame i; with
// db = 20 log10(out): db[10] - 50 = -25 (y0, which pygmu's float32 misses by 3e-5),
// db[60] = 0, db[61] = -1 (limited). The curve's closed form at every frame: m (x - x0) + y0
// between the squelch and the limit, x1 above, 10 (x - x0) + y0 below, gain y - x.
#include <stdlib.h>
#include <string.h>

#include "check.h"

static int db_ramp(pg_graph *g) {
    double r[70];
    for (int i = 0; i < 70; i++)
        r[i] = pow(10, (i - 60) / 20.0);
    return ADD(g, "ArrayPE", t_arr(NULL, 1, 70, r));
}

static double db(float x) {
    return 20 * log10(fabs((double)x));
}

// The static curve's gain in dB for input level x.
static double curve(double x, double ratio, double x1, double x0) {
    double m = 1 / ratio, y0 = m * (x0 - x1) + x1;
    double y = x > x1 ? x1 : x < x0 ? 10 * (x - x0) + y0 : m * (x - x0) + y0;
    return y - x;
}

static void check_curve(double ratio, double limit, double squelch) {
    pg_graph *g = t_graph(48000);
    int one = ADD(g, "ConstPE", t_num(NULL, 1));
    int c = ADD(g, "CompLimPE", t_node(NULL, one), t_node(NULL, db_ramp(g)), t_num(NULL, ratio),
                t_num(NULL, limit), t_num(NULL, squelch));
    float y[70];
    CHECK_STATUS(t_render(g, c, 0, 70, 7, y), PG_OK);
    for (int i = 0; i < 70; i++)
        CHECK_NEAR(db(y[i]), curve(i - 60, ratio, limit, squelch), 2e-5);
    pg_graph_free(g);
}

static void test_pygmu_render(void) {
    pg_graph *g = t_graph(48000);
    int one = ADD(g, "ConstPE", t_num(NULL, 1));
    int c = ADD(g, "CompLimPE", t_node(NULL, one), t_node(NULL, db_ramp(g)));
    float y[70];
    CHECK_STATUS(t_render(g, c, 0, 70, 64, y), PG_OK);
    CHECK_NEAR(db(y[10]) - 50, -25, 5e-6);
    CHECK_NEAR(db(y[60]) + 0, 0, 5e-6);
    CHECK_NEAR(db(y[61]) + 1, 0, 5e-6);
    pg_graph_free(g);
    check_curve(2, 0, -50);
    check_curve(3, -4, -60);
    check_curve(1.5, -10, -30);
}

static void test_shapes(void) {
    pg_graph *g = t_graph(1234);
    int one = ADD(g, "ConstPE", t_num(NULL, 1));
    int sig = ADD(g, "CropPE", t_node(NULL, one), t_ext(NULL, -60, 10));
    int env = db_ramp(g);
    int c = ADD(g, "CompLimPE", t_node(NULL, sig), t_node(NULL, env));
    pg_extent e = pg_graph_node_extent(g, c);
    CHECK(e.start == -60 && e.end == 10);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, c), 1234);
    e = pg_graph_node_extent(g, ADD(g, "CompLimPE", t_node(NULL, one), t_node(NULL, env)));
    CHECK(e.start == PG_FRAME_MIN && e.end == PG_FRAME_MAX);
    int none = ADD(g, "CropPE", t_node(NULL, one), t_ext(NULL, 9, 9));
    e = pg_graph_node_extent(g, ADD(g, "CompLimPE", t_node(NULL, none), t_node(NULL, env)));
    CHECK(pg_extent_is_empty(e));
    int two = ADD(g, "SpreadPE", t_node(NULL, sig));
    c = ADD(g, "CompLimPE", t_node(NULL, two), t_node(NULL, env));
    CHECK_EQ_I64(pg_graph_node_channels(g, c), 2);
    float y[4];
    CHECK_STATUS(t_render(g, c, 8, 10, 64, y), PG_OK); // env -52, -51 dB: squelched
    CHECK_NEAR(db(y[0]), curve(-52, 2, 0, -50), 2e-5);
    CHECK_NEAR(db(y[3]), curve(-51, 2, 0, -50), 2e-5);
    // no overlap with the source: zeros
    int early = ADD(g, "CropPE", t_node(NULL, one), t_ext(NULL, 0, 10));
    c = ADD(g, "CompLimPE", t_node(NULL, early), t_node(NULL, env));
    float z[10];
    CHECK_STATUS(t_render(g, c, 10, 20, 64, z), PG_OK);
    for (int i = 0; i < 10; i++)
        CHECK(z[i] == 0);
    CHECK(t_block_invariant(
        g, ADD(g, "CompLimPE", t_node(NULL, two), t_node(NULL, env), t_num(NULL, 4)), -80, 20));
    pg_graph_free(g);
}

static void test_errors(void) {
    pg_graph *g = t_graph(48000);
    double x[6] = { 1, 2, 3, 4, 5, 6 };
    int stereo = ADD(g, "ArrayPE", t_arr(NULL, 2, 3, x));
    int three = ADD(g, "ArrayPE", t_arr(NULL, 3, 2, x));
    int slow = ADD(g, "ArrayPE", t_arr(NULL, 1, 6, x), t_int("frame_rate", 8000));
    CHECK_STATUS(STATUS(g, "CompLimPE", t_node(NULL, stereo), t_node(NULL, three)),
                 PG_ERR_CHANNELS);
    CHECK_STATUS(STATUS(g, "CompLimPE", t_node(NULL, stereo), t_node(NULL, slow)), PG_ERR_RATE);
    CHECK_STATUS(
        STATUS(g, "CompLimPE", t_node(NULL, stereo), t_node(NULL, stereo), t_num("ratio", 0)),
        PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "CompLimPE", t_node(NULL, stereo), t_node(NULL, stereo),
                        t_num("limit_db", -60), t_num("squelch_db", -50)),
                 PG_ERR_ARG);
    pg_graph_free(g);
}

int main(void) {
    test_pygmu_render();
    test_shapes();
    test_errors();
    return check_done();
}
