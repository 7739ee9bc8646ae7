// test_limiter_a.c: LimiterAPE(src_pe, threshold_db=-10, headroom_db=3) and .limit_a():
// pygmu's CompressorPE(src, EnvDetectPE(src.mono(), .9, .0001), T, 1000, -T-H) in one
// kernel. Closed forms for a constant level a: the envelope is s_n = a (1 - 0.1^(n+1)) and
// the gain is 10^((g_n)/20) with x = 20 log10 s_n, g_n = (x - T)/1000 + T - x - T - H above
// T and -T - H below; after the source stops s decays by 0.9999 per frame.
#include <stdlib.h>
#include <string.h>

#include "check.h"

static double gain(double s, double t, double h) {
    double x = 20 * log10(s), y = x > t ? (x - t) / 1000 + t : x;
    return pow(10, (y - x - t - h) / 20);
}

// Constant level 1.0 for 200 frames, then 0.05 (below -10 dB) for 200.
static void test_closed_form(void) {
    pg_graph *g = t_graph(48000);
    double x[400];
    for (int i = 0; i < 400; i++)
        x[i] = (i < 200 ? 1.0 : 0.05) * (i % 2 ? -1 : 1);
    int src = ADD(g, "ArrayPE", t_arr(NULL, 1, 400, x));
    int lim = ADD(g, "LimiterAPE", t_node(NULL, src));
    float y[400];
    CHECK_STATUS(t_render(g, lim, 0, 400, 7, y), PG_OK);
    for (int i = 0; i < 200; i += 13) {
        double s = 1 - pow(0.1, i + 1);
        CHECK_NEAR(y[i], x[i] * gain(s, -10, 3), 1e-6);
    }
    CHECK_NEAR(fabs(y[199]), pow(10, -2.99 / 20), 1e-6); // peaks pinned near -H dBFS
    // the envelope releases slowly: s = 0.9999^n (1 - 0.05) + 0.05 over the quiet part
    for (int n = 1; n <= 200; n += 37) {
        double s = pow(0.9999, n) * (1 - 0.05) + 0.05;
        CHECK_NEAR(y[199 + n], x[199 + n] * gain(s, -10, 3), 1e-6);
    }
    pg_graph_free(g);
}

// A stereo source: the envelope follows |L + R| (MonoPE without halving); the gain scales
// both channels. L = 0.25 and R = 0.25 on odd frames: |L + R| alternates 0.25, 0.5, and
// the envelope settles near 0.5 (-6 dB), over a -20 dB threshold.
static void test_stereo_and_method(void) {
    pg_graph *g = t_graph(48000);
    double x[200];
    for (int i = 0; i < 200; i++)
        x[i] = i < 100 || i % 2 ? 0.25 : 0.0; // R is 0.25 on odd frames only
    int src = ADD(g, "ArrayPE", t_arr(NULL, 2, 100, x));
    int k = pg_kind_find_method("limit_a");
    CHECK(k >= 0 && strcmp(pg_kind_name(k), "LimiterAPE") == 0);
    int lim = ADD(g, "LimiterAPE", t_node(NULL, src), t_num(NULL, -20), t_num(NULL, 1));
    CHECK_EQ_I64(pg_graph_node_channels(g, lim), 2);
    float y[200];
    CHECK_STATUS(t_render(g, lim, 0, 100, 64, y), PG_OK);
    double s = 0; // EnvDetectPE's recurrence on |L + R|
    for (int i = 0; i < 50; i++) {
        double d = (i % 2 ? 0.5 : 0.25) - s;
        s += d > 0 ? 0.9 * d : 0.0001 * d;
    }
    CHECK_NEAR(y[49], 0.25 * gain(s, -20, 1), 1e-7);
    CHECK_NEAR(y[149], 0.25 * gain(s, -20, 1), 1e-7);
    CHECK(y[148] == 0); // R silent on an even frame: the gain scales it too, to 0
    CHECK(t_block_invariant(g, lim, -10, 300));
    pg_graph_free(g);
}

static void test_shapes_errors(void) {
    pg_graph *g = t_graph(48000);
    int src = ADD(g, "SinPE", t_num(NULL, 100));
    int lim = ADD(g, "LimiterAPE", t_node(NULL, src));
    pg_extent e = pg_graph_node_extent(g, lim);
    CHECK(e.start == PG_FRAME_MIN && e.end == PG_FRAME_MAX);
    int none = ADD(g, "CropPE", t_node(NULL, src), t_ext(NULL, 3, 3));
    CHECK(pg_extent_is_empty(pg_graph_node_extent(g, ADD(g, "LimiterAPE", t_node(NULL, none)))));
    CHECK_STATUS(STATUS(g, "LimiterAPE", t_node(NULL, src), t_num(NULL, 1e6)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "LimiterAPE", t_node(NULL, src), t_str("headroom_db", "3")), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "LimiterAPE", t_node(NULL, src), t_num("ratio", 3)), PG_ERR_ARG);
    pg_graph_free(g);
}

int main(void) {
    test_closed_form();
    test_stereo_and_method();
    test_shapes_errors();
    return check_done();
}
