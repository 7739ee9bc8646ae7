// test_add.c: AddPE(src_pe, src_pe2). pygmu has no test; expectations are closed forms: the
// catalogue's vibrato control SinPE(6).gain(20).add(ConstPE(180)) is 180 + 20 sin(2 pi 6 t/fr)
// (rounded as float32 steps), the sum of two arrays frame by frame, the extent the union of
// the non-empty inputs (QUIRK Q1), mono fitted to stereo.
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define PI 3.14159265358979323846

static void test_vibrato(void) {
    pg_graph *g = t_graph(0);
    int s = ADD(g, "SinPE", t_num(NULL, 6));
    int g20 = ADD(g, "GainPE", t_node(NULL, s), t_num(NULL, 20));
    int c = ADD(g, "ConstPE", t_num(NULL, 180));
    int f = ADD(g, "AddPE", t_node(NULL, g20), t_node(NULL, c));
    CHECK(t_extent_is(pg_graph_node_extent(g, f), PG_FRAME_MIN, PG_FRAME_MAX));
    enum {
        N = 8000
    };
    static float out[N];
    RENDER(g, f, 0, N, out);
    int same = 1;
    for (int t = 0; t < N; t++) {
        float sine = (float)sin(6 * 2.0 * PI / 48000 * t);
        same &= out[t] == 0.0f + sine * 20.0f + 180.0f;
    }
    CHECK(same);
    CHECK_NEAR(out[2000], 200, 1e-5); // a quarter period of 6 Hz: 180 + 20
    CHECK(t_block_invariant(g, f, -100, 9000));
    CHECK_FUSED(g, f, -100, 9000, 2e-5); // values near 200: float32 ulp 1.5e-5
    pg_graph_free(g);
}

// [1, 2, 3] on [0, 3) plus a constant-5 ramp on [5, 8): extent [0, 8), a gap on [3, 5).
// An empty input ([0, 0)) does not stretch the extent of a later ramp to 0.
static void test_extents(void) {
    pg_graph *g = t_graph(0);
    int a = ADD(g, "ArrayPE", t_arr(NULL, 1, 3, (double[]){ 1, 2, 3 }));
    int r = ADD(g, "RampPE", t_num(NULL, 5), t_num(NULL, 5), t_ext(NULL, 5, 8));
    int s = ADD(g, "AddPE", t_node(NULL, a), t_node(NULL, r));
    CHECK(t_extent_is(pg_graph_node_extent(g, s), 0, 8));
    float out[10];
    RENDER(g, s, -1, 10, out);
    CHECK_FRAMES(out, ((double[]){ 0, 1, 2, 3, 0, 0, 5, 5, 5, 0 }), 10, 0);
    int e = ADD(g, "ArrayPE", t_arr(NULL, 0, 0, NULL));
    int re = ADD(g, "AddPE", t_node(NULL, r), t_node(NULL, e));
    CHECK(t_extent_is(pg_graph_node_extent(g, re), 5, 8));
    CHECK(t_block_invariant(g, s, -10, 20));
    pg_graph_free(g);
}

static void test_channels(void) {
    pg_graph *g = t_graph(0);
    int st = ADD(g, "ArrayPE", t_arr(NULL, 2, 2, (double[]){ 1, 2, 3, 4 }));
    int mono = ADD(g, "ArrayPE", t_arr(NULL, 1, 2, (double[]){ 10, 20 }));
    int a = ADD(g, "AddPE", t_node(NULL, mono), t_node(NULL, st));
    int b = ADD(g, "AddPE", t_node(NULL, st), t_node(NULL, mono));
    float out[4];
    for (int k = 0; k < 2; k++) {
        CHECK_EQ_I64(pg_graph_node_channels(g, k ? b : a), 2);
        RENDER(g, k ? b : a, 0, 2, out);
        CHECK_FRAMES(out, ((double[]){ 11, 22, 13, 24 }), 4, 0);
        CHECK_FUSED(g, k ? b : a, -1, 4, 0);
    }
    int id = ADD(g, "IdentityPE", t_int(NULL, 1234));
    int c = ADD(g, "ConstPE", t_num(NULL, 1), t_int(NULL, 1234));
    int r = ADD(g, "AddPE", t_node(NULL, id), t_node(NULL, c));
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, r), 1234);
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    int c = ADD(g, "ConstPE", t_num(NULL, 1));
    CHECK_STATUS(STATUS(g, "AddPE", t_node(NULL, c), t_num(NULL, 2)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "AddPE", t_node(NULL, c)), PG_ERR_ARG);
    CHECK_EQ_I64(pg_graph_node_count(g), 1);
    pg_graph_free(g);
    g = t_graph(0);
    c = ADD(g, "ConstPE", t_num(NULL, 1));
    int s2 = ADD(g, "SpreadPE", t_node(NULL, c), t_int(NULL, 2));
    int s3 = ADD(g, "SpreadPE", t_node(NULL, c), t_int(NULL, 3));
    CHECK_STATUS(STATUS(g, "AddPE", t_node(NULL, s2), t_node(NULL, s3)), PG_ERR_CHANNELS);
    CHECK(strstr(pg_graph_diag(g, 0)->message, "AddPE input 2 has 3 channels, input 1 has 2"));
    int r44 = ADD(g, "ConstPE", t_num(NULL, 1), t_int(NULL, 44100));
    CHECK_STATUS(STATUS(g, "AddPE", t_node(NULL, c), t_node(NULL, r44)), PG_ERR_RATE);
    pg_graph_free(g);
}

int main(void) {
    test_vibrato();
    test_extents();
    test_channels();
    test_bad_args();
    return check_done();
}
