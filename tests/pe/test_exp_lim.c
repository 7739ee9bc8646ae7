// test_exp_lim.c: ExpanderLimiterPE(src_pe, target_amp=1.0, release_time=0.1,
// frame_rate=None) and .exp_lim(). The catalogue's verified case: fs 10, release 0.1, so
// k = exp(-1) and g += (target/p - g)(1 - k) from g = 1; input [.5,.5,.5,0,.25] gives
// [0.81606, 0.932332, 0.975106, 0, 0.75624]. QUIRK Q28: a source that starts inside a
// block is output at its own frames (pygmu shifted it to the block's start).
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void test_verified(void) {
    pg_graph *g = t_graph(10);
    double x[5] = { .5, .5, .5, 0, .25 };
    int src = ADD(g, "ArrayPE", t_arr(NULL, 1, 5, x));
    int el = ADD(g, "ExpanderLimiterPE", t_node(NULL, src));
    float y[5];
    CHECK_STATUS(t_render(g, el, 0, 5, 2, y), PG_OK);
    static const double want[5] = { 0.81606, 0.932332, 0.975106, 0, 0.75624 };
    for (int i = 0; i < 5; i++)
        CHECK_NEAR(y[i], want[i], 5e-6);
    // the same from the recurrence, in full precision
    double g1 = 1, k = exp(-1.0), tg[5] = { 2, 2, 2, 1, 4 };
    for (int i = 0; i < 5; i++) {
        g1 += (tg[i] - g1) * (1 - k);
        CHECK_NEAR(y[i], x[i] * g1, 1e-7);
    }
    pg_graph_free(g);
}

// A stereo source cropped to start at frame 3 (QUIRK Q28): zeros before, then the gain
// follows max(|L|, |R|) from g = 1 at frame 3; the method is the same kind.
static void test_offset_stereo_method(void) {
    pg_graph *g = t_graph(100);
    double x[8] = { 0, 0, 0, 0.5, 0, 0, 0, -2 };
    int src = ADD(g, "ArrayPE", t_arr(NULL, 2, 4, x));
    int shifted = ADD(g, "TimeShiftPE", t_node(NULL, src), t_int(NULL, 3));
    int k = pg_kind_find_method("exp_lim");
    CHECK(k >= 0 && strcmp(pg_kind_name(k), "ExpanderLimiterPE") == 0);
    int el =
        ADD(g, "ExpanderLimiterPE", t_node(NULL, shifted), t_num(NULL, 0.5), t_num(NULL, 0.05));
    pg_extent e = pg_graph_node_extent(g, el);
    CHECK(e.start == 3 && e.end == 7);
    float y[16];
    CHECK_STATUS(t_render(g, el, 0, 8, 64, y), PG_OK);
    double step = 1 - exp(-1 / (0.05 * 100)), gs = 1;
    double peaks[4] = { 0, 0, 0, 2 }; // frames 3..6: max(|L|, |R|)
    for (int i = 0; i < 3; i++)
        CHECK(y[i] == 0 && y[8 + i] == 0);
    for (int i = 0; i < 4; i++) {
        gs += ((peaks[i] > 0 ? 0.5 / peaks[i] : 1.0) - gs) * step;
        CHECK_NEAR(y[3 + i], x[i] * gs, 1e-7);
        CHECK_NEAR(y[8 + 3 + i], x[4 + i] * gs, 1e-7);
    }
    CHECK(y[7] == 0);
    CHECK(t_block_invariant(g, el, 0, 8));
    pg_graph_free(g);
}

static void test_rates_errors(void) {
    pg_graph *g = t_graph(48000);
    int src = ADD(g, "SinPE", t_num(NULL, 3));
    int el = ADD(g, "ExpanderLimiterPE", t_node(NULL, src), t_int("frame_rate", 44100));
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, el), 44100);
    pg_extent e = pg_graph_node_extent(g, ADD(g, "ExpanderLimiterPE", t_node(NULL, src)));
    CHECK(e.start == PG_FRAME_MIN && e.end == PG_FRAME_MAX);
    int none = ADD(g, "CropPE", t_node(NULL, src), t_ext(NULL, 9, 9));
    e = pg_graph_node_extent(g, ADD(g, "ExpanderLimiterPE", t_node(NULL, none)));
    CHECK(pg_extent_is_empty(e));
    CHECK_STATUS(STATUS(g, "ExpanderLimiterPE", t_node(NULL, src), t_num("release_time", 0)),
                 PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "ExpanderLimiterPE", t_node(NULL, src), t_num("target_amp", -1)),
                 PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "ExpanderLimiterPE", t_node(NULL, src), t_int("frame_rate", 0)),
                 PG_ERR_ARG);
    int slow = ADD(g, "SinPE", t_num(NULL, 1), t_num(NULL, 0.1));
    el = ADD(g, "ExpanderLimiterPE", t_node(NULL, slow));
    CHECK(t_block_invariant(g, el, -500, 5000));
    pg_graph_free(g);
    g = pg_graph_new(0);
    double x[2] = { 1, 1 };
    src = ADD(g, "ArrayPE", t_arr(NULL, 1, 2, x));
    CHECK_STATUS(STATUS(g, "ExpanderLimiterPE", t_node(NULL, src)), PG_ERR_RATE);
    pg_graph_free(g);
}

int main(void) {
    test_verified();
    test_offset_stereo_method();
    test_rates_errors();
    return check_done();
}
