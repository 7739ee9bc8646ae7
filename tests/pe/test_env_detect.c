// test_env_detect.c: EnvDetectPE(src_pe, attack=0.9, release=0.1, units=None). pygmu's
// test_env_detect_pe.py (attack = release = 1 gives |x|; ConstPE(0.5) cropped to [0,5),
// [2,7), [5,10) and rendered over [0,5); 'db' of 12.34 is 21.826303, which pygmu's float32
// misses and double passes), the catalogue's verified two-channel case (attack .5, release
// .1: [0,.5,.75,1.375,1.2375,1.11375] on both channels), and the closed forms of a step:
// s_n = 1 - (1-a)^(n+1) rising, s_{k+n} = s_k (1-r)^n falling.
#include <stdlib.h>
#include <string.h>

#include "check.h"

// ConstPE(0.5) cropped to [s, e), on `channels` channels (SpreadPE for 2).
static int half(pg_graph *g, pg_frame s, pg_frame e, int channels) {
    int c = ADD(g, "ConstPE", t_num(NULL, 0.5));
    if (channels == 2)
        c = ADD(g, "SpreadPE", t_node(NULL, c));
    return ADD(g, "CropPE", t_node(NULL, c), t_ext(NULL, s, e));
}

static void test_pygmu_render(void) {
    static const struct {
        pg_frame s, e;
        double want[5];
    } cases[] = {
        { 0, 5, { .5, .5, .5, .5, .5 } },
        { 2, 7, { 0, 0, .5, .5, .5 } },
        { 5, 10, { 0, 0, 0, 0, 0 } },
    };
    for (int ch = 1; ch <= 2; ch++)
        for (int k = 0; k < 3; k++) {
            pg_graph *g = t_graph(48000);
            int src = half(g, cases[k].s, cases[k].e, ch);
            int env =
                ADD(g, "EnvDetectPE", t_node(NULL, src), t_num("attack", 1), t_num("release", 1));
            CHECK_EQ_I64(pg_graph_node_channels(g, env), ch);
            pg_extent e = pg_graph_node_extent(g, env);
            CHECK(e.start == cases[k].s && e.end == cases[k].e); // E(src)
            float y[10];
            CHECK_STATUS(t_render(g, env, 0, 5, 64, y), PG_OK);
            for (int c = 0; c < ch; c++)
                for (int i = 0; i < 5; i++)
                    CHECK_NEAR(y[c * 5 + i], cases[k].want[i], 0);
            pg_graph_free(g);
        }
}

static void test_db(void) {
    pg_graph *g = t_graph(12345);
    int src = ADD(g, "ConstPE", t_num(NULL, 12.34));
    int env = ADD(g, "EnvDetectPE", t_node(NULL, src), t_num("attack", 1), t_num("release", 1),
                  t_str("units", "db"));
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, env), 12345);
    pg_extent e = pg_graph_node_extent(g, env);
    CHECK(e.start == PG_FRAME_MIN && e.end == PG_FRAME_MAX);
    float y[5];
    CHECK_STATUS(t_render(g, env, 0, 5, 64, y), PG_OK);
    for (int i = 0; i < 5; i++)
        CHECK_NEAR(y[i], 21.826303, 1.5e-6);
    // silence is utils.RATIO_MIN: 20 log10(1.1754944e-38) = -758.5955887 dB
    int zero = ADD(g, "ConstPE", t_num(NULL, 0));
    env = ADD(g, "EnvDetectPE", t_node(NULL, zero), t_str("units", "dB"));
    CHECK_STATUS(t_render(g, env, 0, 1, 64, y), PG_OK);
    CHECK_NEAR(y[0], -758.5955887, 1e-4);
    pg_graph_free(g);
}

// One delta, max_c(|x_c| - s), moves the shared state.
static void test_two_channels(void) {
    pg_graph *g = t_graph(48000);
    double x[12] = { 0, 1, 1, 0, 0, 0, 0, 0, -.5, 2, 0, 0 };
    int src = ADD(g, "ArrayPE", t_arr(NULL, 2, 6, x));
    int env = ADD(g, "EnvDetectPE", t_node(NULL, src), t_num(NULL, .5), t_num(NULL, .1));
    static const double want[6] = { 0, .5, .75, 1.375, 1.2375, 1.11375 };
    float y[12];
    CHECK_STATUS(t_render(g, env, 0, 6, 1, y), PG_OK);
    for (int i = 0; i < 6; i++) {
        CHECK_NEAR(y[i], want[i], 1e-7);
        CHECK_NEAR(y[6 + i], want[i], 1e-7);
    }
    pg_graph_free(g);
}

// A unit step up at frame 0 then down at frame 100, with attack .3 and release .02.
static void test_step_closed_form(void) {
    pg_graph *g = t_graph(48000);
    double x[100];
    for (int i = 0; i < 100; i++)
        x[i] = i % 2 ? -1 : 1; // |x| = 1
    int src = ADD(g, "ArrayPE", t_arr(NULL, 1, 100, x));
    int env = ADD(g, "EnvDetectPE", t_node(NULL, src), t_num("attack", .3), t_num("release", .02));
    float y[100];
    CHECK_STATUS(t_render(g, env, 0, 100, 7, y), PG_OK);
    for (int i = 0; i < 100; i += 9)
        CHECK_NEAR(y[i], 1 - pow(0.7, i + 1), 1e-7);
    // the extent is E(src): the release is followed from a source that goes silent inside it
    int crop = ADD(g, "CropPE", t_node(NULL, src), t_ext(NULL, 0, 50));
    int longer = ADD(g, "MixPE", t_node(NULL, crop),
                     t_node(NULL, ADD(g, "CropPE", t_node(NULL, ADD(g, "ConstPE", t_num(NULL, 0))),
                                      t_ext(NULL, 0, 100))));
    env = ADD(g, "EnvDetectPE", t_node(NULL, longer), t_num("attack", .3), t_num("release", .02));
    CHECK_STATUS(t_render(g, env, 0, 100, 64, y), PG_OK);
    double s49 = 1 - pow(0.7, 50);
    CHECK_NEAR(y[49], s49, 1e-7);
    CHECK_NEAR(y[99], s49 * pow(0.98, 50), 1e-7);
    CHECK(t_block_invariant(g, env, 0, 100));
    pg_graph_free(g);
}

static void test_errors(void) {
    pg_graph *g = t_graph(48000);
    int src = ADD(g, "ConstPE", t_num(NULL, 1));
    int none = ADD(g, "CropPE", t_node(NULL, src), t_ext(NULL, 4, 4));
    CHECK(pg_extent_is_empty(pg_graph_node_extent(g, ADD(g, "EnvDetectPE", t_node(NULL, none)))));
    CHECK_STATUS(STATUS(g, "EnvDetectPE", t_node(NULL, src), t_num("attack", 1.5)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "EnvDetectPE", t_node(NULL, src), t_num("attack", -0.5)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "EnvDetectPE", t_node(NULL, src), t_num("release", 2)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "EnvDetectPE", t_node(NULL, src), t_str("units", "volts")), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "EnvDetectPE", t_node(NULL, src), t_num("units", 1)), PG_ERR_ARG);
    CHECK_STATUS(t_add_status(g, "EnvDetectPE", NULL, 0), PG_ERR_ARG);
    pg_graph_free(g);
}

static void test_block_invariance(void) {
    pg_graph *g = t_graph(48000);
    double x[6000];
    for (int i = 0; i < 6000; i++)
        x[i] = sin(i * 0.05) * sin(i * 0.0011);
    int src = ADD(g, "ArrayPE", t_arr(NULL, 2, 3000, x));
    int env = ADD(g, "EnvDetectPE", t_node(NULL, src), t_num(NULL, 0.6), t_num(NULL, 0.001),
                  t_str(NULL, "db"));
    CHECK(t_block_invariant(g, env, 0, 3000));
    pg_graph_free(g);
}

int main(void) {
    test_pygmu_render();
    test_db();
    test_two_channels();
    test_step_closed_form();
    test_errors();
    test_block_invariance();
    return check_done();
}
