// test_mono.c: MonoPE(src_pe, attenuation=1.0). pygmu's test_mono_pe.py on IdentityPE over
// [0, 5): mono -> [0,1,2,3,4], spread(2) -> [0,2,4,6,8] (a sum, not a mean), spread(2) with
// attenuation .5 -> [0,1,2,3,4]; extent and frame rate pass through; 1 channel. QUIRK Q38
// fixed: a mono source is attenuated too ([0,.5,1,1.5,2]) and 3 channels are summed
// (spread(3) -> [0,3,6,9,12]). float32: (x0 + x1) * (float)attenuation.
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void test_pygmu(void) {
    pg_graph *g = t_graph(0);
    int id = t_add(g, "IdentityPE", NULL, 0);
    int s2 = ADD(g, "SpreadPE", t_node(NULL, id), t_int(NULL, 2));
    int m1 = ADD(g, "MonoPE", t_node(NULL, id));
    int m2 = ADD(g, "MonoPE", t_node(NULL, s2));
    int m2h = ADD(g, "MonoPE", t_node(NULL, s2), t_num("attenuation", 0.5));
    float out[5];
    RENDER(g, m1, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 1, 2, 3, 4 }), 5, 0);
    RENDER(g, m2, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 2, 4, 6, 8 }), 5, 0);
    RENDER(g, m2h, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 1, 2, 3, 4 }), 5, 0);
    CHECK_EQ_I64(pg_graph_node_channels(g, m2), 1);
    CHECK(t_extent_is(pg_graph_node_extent(g, m2), PG_FRAME_MIN, PG_FRAME_MAX));
    int c = ADD(g, "CropPE", t_node(NULL, s2), t_ext(NULL, 2, 4));
    int mc = ADD(g, "MonoPE", t_node(NULL, c));
    CHECK(t_extent_is(pg_graph_node_extent(g, mc), 2, 4));
    RENDER(g, mc, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, 4, 6, 0 }), 5, 0);
    int sin = ADD(g, "SinPE", t_int("frame_rate", 1234));
    int ms = ADD(g, "MonoPE", t_node(NULL, sin));
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, ms), 1234);
    pg_graph_free(g);
}

static void test_fixed_quirk(void) {
    pg_graph *g = t_graph(0);
    int id = t_add(g, "IdentityPE", NULL, 0);
    int s3 = ADD(g, "SpreadPE", t_node(NULL, id), t_int(NULL, 3));
    int mh = ADD(g, "MonoPE", t_node(NULL, id), t_num(NULL, 0.5));
    int m3 = ADD(g, "MonoPE", t_node(NULL, s3));
    float out[5];
    RENDER(g, mh, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, .5, 1, 1.5, 2 }), 5, 0);
    RENDER(g, m3, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 3, 6, 9, 12 }), 5, 0);
    // the kernel's float32 rounding order (-O0): (0.1f + 0.2f) * 0.3f, as pygmu
    int st = ADD(g, "ArrayPE", t_arr(NULL, 2, 1, (double[]){ 0.1, 0.2 }));
    int ms = ADD(g, "MonoPE", t_node(NULL, st), t_num(NULL, 0.3));
    CHECK_STATUS(t_render_opt(g, ms, 0, 1, 0, out), PG_OK);
    CHECK(out[0] == ((float)0.1 + (float)0.2) * (float)0.3);
    // fused (-O1) it is 0.3 x0 + 0.3 x1: the same within float32 rounding
    enum {
        N = 1000
    };
    double *d = malloc(sizeof(double) * 2 * N);
    for (int i = 0; i < N; i++) {
        d[i] = sin(0.01 * i);
        d[N + i] = 0.7 * cos(0.03 * i);
    }
    int wave = ADD(g, "ArrayPE", t_arr(NULL, 2, N, d));
    free(d);
    int mw = ADD(g, "MonoPE", t_node(NULL, wave), t_num(NULL, 0.3));
    CHECK_FUSED(g, mw, -10, N + 10, 2e-7);
    CHECK(t_block_invariant(g, m3, -5000, 5000));
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    int id = t_add(g, "IdentityPE", NULL, 0);
    CHECK_STATUS(STATUS(g, "MonoPE", t_num(NULL, 1)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "MonoPE", t_node(NULL, id), t_str(NULL, "half")), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "MonoPE", t_node(NULL, id), t_num("gain", 1)), PG_ERR_ARG);
    CHECK_EQ_I64(pg_graph_node_count(g), 1);
    pg_graph_free(g);
}

int main(void) {
    test_pygmu();
    test_fixed_quirk();
    test_bad_args();
    return check_done();
}
