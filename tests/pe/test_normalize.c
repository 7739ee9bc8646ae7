// test_normalize.c: NormalizePE(src_pe, release_time=0.1, frame_rate=None) and .normalize()
// (release_time=0.6). The peak follower e starts at 1, e = max(e r, p) on frames with a
// peak p > 0, r = exp(-1/(release_time fs)); out = x / e. Closed forms: a constant 0.25 at
// fs 1000, release 0.1 (r = e^-0.01) gives 0.25 / r^(n+1) until r^(n+1) < 0.25 (frame 138),
// then exactly 1.0; a louder peak is brought to 1 at once; silence leaves e alone.
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void test_closed_form(void) {
    pg_graph *g = t_graph(1000);
    double x[300];
    for (int i = 0; i < 300; i++)
        x[i] = i < 200 ? 0.25 : i < 250 ? 0 : (i == 250 ? 2.0 : -0.5);
    int src = ADD(g, "ArrayPE", t_arr(NULL, 1, 300, x));
    int nz = ADD(g, "NormalizePE", t_node(NULL, src));
    float y[300];
    CHECK_STATUS(t_render(g, nz, 0, 300, 7, y), PG_OK);
    double r = exp(-0.01);
    int cross = (int)ceil(log(0.25) / log(r)) - 1; // the first frame where r^(n+1) < 0.25
    CHECK_EQ_I64(cross, 138);
    for (int n = 0; n < cross; n += 11)
        CHECK_NEAR(y[n], 0.25 / pow(r, n + 1), 1e-6);
    for (int n = cross; n < 200; n++)
        CHECK_NEAR(y[n], 1.0, 1e-7);
    for (int n = 200; n < 250; n++)
        CHECK(y[n] == 0);
    CHECK_NEAR(y[250], 1.0, 1e-7);       // e jumps to 2
    CHECK_NEAR(y[251], -0.25 / r, 1e-6); // and decays from there
    CHECK_NEAR(y[299], -0.25 / pow(r, 49), 1e-6);
    CHECK(t_block_invariant(g, nz, -20, 320));
    pg_graph_free(g);
}

// The peak is over the channels; the method defaults to release 0.6 s.
static void test_stereo_method(void) {
    pg_graph *g = t_graph(1000);
    double x[40];
    for (int i = 0; i < 20; i++) {
        x[i] = 0.1;
        x[20 + i] = -0.2;
    }
    int src = ADD(g, "ArrayPE", t_arr(NULL, 2, 20, x));
    int k = pg_kind_find_method("normalize");
    CHECK(k >= 0);
    int nz = ADD(g, pg_kind_name(k), t_node(NULL, src));
    CHECK_EQ_I64(pg_graph_node_channels(g, nz), 2);
    float y[40];
    CHECK_STATUS(t_render(g, nz, 0, 20, 64, y), PG_OK);
    double r = exp(-1 / 600.0);
    CHECK_NEAR(y[19], 0.1 / pow(r, 20), 1e-7);
    CHECK_NEAR(y[39], -0.2 / pow(r, 20), 1e-7);
    pg_graph_free(g);
}

static void test_shapes_errors(void) {
    pg_graph *g = t_graph(48000);
    int src = ADD(g, "SinPE", t_num(NULL, 100));
    int nz = ADD(g, "NormalizePE", t_node(NULL, src), t_int("frame_rate", 44100));
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, nz), 44100);
    pg_extent e = pg_graph_node_extent(g, nz);
    CHECK(e.start == PG_FRAME_MIN && e.end == PG_FRAME_MAX);
    int none = ADD(g, "CropPE", t_node(NULL, src), t_ext(NULL, 1, 1));
    CHECK(pg_extent_is_empty(pg_graph_node_extent(g, ADD(g, "NormalizePE", t_node(NULL, none)))));
    CHECK_STATUS(STATUS(g, "NormalizePE", t_node(NULL, src), t_num(NULL, 0)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "NormalizePE", t_node(NULL, src), t_num(NULL, -1)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "NormalizePE", t_node(NULL, src), t_int("frame_rate", -5)), PG_ERR_ARG);
    pg_graph_free(g);
}

int main(void) {
    test_closed_form();
    test_stereo_method();
    test_shapes_errors();
    return check_done();
}
