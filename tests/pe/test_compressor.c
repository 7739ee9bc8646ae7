// test_compressor.c: CompressorPE(src_pe, env_pe, threshold_db=0.0, ratio=2.0,
// makeup_db=None). pygmu's test_compressor_pe.py: threshold -20, ratio 2, makeup 0, source
// ConstPE(1), envelope ArrayPE(db_to_ratio(arange(-60, 10))) (frame i is i - 60 dB): the
// envelope x gain is -20 dB at -20, -19.5 at -19, -21 at -21. The curve's closed form elsewhere:
// gain_db = m (x - T) + T - x + makeup above T, makeup below; makeup None = -T (QUIRK Q24,
// kept). Also channels, rates, extents, silence (RATIO_MIN), blocks.
#include <stdlib.h>
#include <string.h>

#include "check.h"

// ArrayPE of 70 frames, frame i at (i - 60) dB.
static int db_ramp(pg_graph *g) {
    double r[70];
    for (int i = 0; i < 70; i++)
        r[i] = pow(10, (i - 60) / 20.0);
    return ADD(g, "ArrayPE", t_arr(NULL, 1, 70, r));
}

static double db(float x) {
    return 20 * log10(fabs((double)x));
}

static void test_pygmu_render(void) {
    pg_graph *g = t_graph(48000);
    int one = ADD(g, "ConstPE", t_num(NULL, 1.0));
    int c = ADD(g, "CompressorPE", t_node(NULL, one), t_node(NULL, db_ramp(g)),
                t_num("threshold_db", -20), t_num("ratio", 2), t_num("makeup_db", 0));
    float y[70];
    CHECK_STATUS(t_render(g, c, 0, 70, 64, y), PG_OK);
    // pygmu's db_out is the level of envelope x gain: (i - 60) + db(gain)
    CHECK_NEAR(-20 + db(y[40]), -20, 1e-5); // at the threshold, untouched
    CHECK_NEAR(-19 + db(y[41]), -19.5, 1e-5);
    CHECK_NEAR(-21 + db(y[39]), -21, 1e-5);
    // the source is ConstPE(1), so the output level is the gain: m(x - T) + T - x above T
    for (int i = 0; i < 70; i++) {
        double x = i - 60, want = x > -20 ? 0.5 * (x + 20) - 20 - x : 0;
        CHECK_NEAR(db(y[i]), want, 1e-5);
    }
    pg_graph_free(g);
}

// makeup_db None is -threshold_db: a quiet envelope gets +|T| dB.
static void test_default_makeup(void) {
    pg_graph *g = t_graph(48000);
    double x[3] = { 0.5, -0.25, 0.125 }, e[3] = { 0.01, 0.01, 1.0 };
    int src = ADD(g, "ArrayPE", t_arr(NULL, 1, 3, x));
    int env = ADD(g, "ArrayPE", t_arr(NULL, 1, 3, e));
    int c = ADD(g, "CompressorPE", t_node(NULL, src), t_node(NULL, env), t_num("threshold_db", -10),
                t_num("ratio", 4));
    float y[3];
    CHECK_STATUS(t_render(g, c, 0, 3, 64, y), PG_OK);
    double up = pow(10, 10 / 20.0);
    CHECK_NEAR(y[0], 0.5 * up, 1e-6);
    CHECK_NEAR(y[1], -0.25 * up, 1e-6);
    // envelope 0 dB, 10 dB over: y = -10 + 10/4, gain = -7.5 + 10 dB
    CHECK_NEAR(y[2], 0.125 * pow(10, 2.5 / 20), 1e-6);
    // defaults: threshold 0, ratio 2, makeup 0
    c = ADD(g, "CompressorPE", t_node(NULL, src), t_node(NULL, env));
    CHECK_STATUS(t_render(g, c, 0, 3, 64, y), PG_OK);
    CHECK_NEAR(y[0], 0.5, 1e-7);
    CHECK_NEAR(y[2], 0.125, 1e-7);
    pg_graph_free(g);
}

// A mono envelope scales both channels; a stereo one scales each its own way. An envelope
// that has ended is silence: RATIO_MIN, below any threshold, so the make-up gain alone.
static void test_channels_and_silence(void) {
    pg_graph *g = t_graph(48000);
    double x[8] = { 1, 1, 1, 1, -1, -1, -1, -1 }, e1[2] = { 10, 10 }, e2[4] = { 10, 10, 1, 1 };
    int src = ADD(g, "ArrayPE", t_arr(NULL, 2, 4, x));
    int mono = ADD(g, "ArrayPE", t_arr(NULL, 1, 2, e1));
    int stereo = ADD(g, "ArrayPE", t_arr(NULL, 2, 2, e2));
    int a = ADD(g, "CompressorPE", t_node(NULL, src), t_node(NULL, mono), t_num(NULL, 0),
                t_num(NULL, 2), t_num(NULL, 3));
    int b = ADD(g, "CompressorPE", t_node(NULL, src), t_node(NULL, stereo), t_num(NULL, 0),
                t_num(NULL, 2), t_num(NULL, 3));
    CHECK_EQ_I64(pg_graph_node_channels(g, a), 2);
    pg_extent e = pg_graph_node_extent(g, a);
    CHECK(e.start == 0 && e.end == 4); // E(src)
    float y[8];
    CHECK_STATUS(t_render(g, a, 0, 4, 64, y), PG_OK);
    double over = pow(10, (-10 + 3) / 20.0); // env +20 dB: y = 10, gain 10 - 20 + 3 dB
    double quiet = pow(10, 3 / 20.0);
    CHECK_NEAR(y[0], over, 1e-6);
    CHECK_NEAR(y[4], -over, 1e-6);
    CHECK_NEAR(y[2], quiet, 1e-6); // the envelope ended at frame 2
    CHECK_NEAR(y[7], -quiet, 1e-6);
    CHECK_STATUS(t_render(g, b, 0, 4, 64, y), PG_OK);
    CHECK_NEAR(y[0], over, 1e-6);
    CHECK_NEAR(y[4], -quiet, 1e-6); // channel 1's envelope is 0 dB: at the threshold
    // no overlap: zeros
    int early =
        ADD(g, "CropPE", t_node(NULL, ADD(g, "ConstPE", t_num(NULL, 1))), t_ext(NULL, 0, 10));
    int c = ADD(g, "CompressorPE", t_node(NULL, early), t_node(NULL, mono));
    float z[10];
    CHECK_STATUS(t_render(g, c, 10, 20, 64, z), PG_OK);
    for (int i = 0; i < 10; i++)
        CHECK(z[i] == 0);
    pg_graph_free(g);
}

static void test_errors(void) {
    pg_graph *g = t_graph(48000);
    double x[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    int stereo = ADD(g, "ArrayPE", t_arr(NULL, 2, 3, x));
    int three = ADD(g, "ArrayPE", t_arr(NULL, 3, 3, x));
    int other_rate = ADD(g, "ArrayPE", t_arr(NULL, 1, 3, x), t_int("frame_rate", 44100));
    CHECK_STATUS(STATUS(g, "CompressorPE", t_node(NULL, stereo), t_node(NULL, three)),
                 PG_ERR_CHANNELS);
    CHECK_STATUS(STATUS(g, "CompressorPE", t_node(NULL, stereo), t_node(NULL, other_rate)),
                 PG_ERR_RATE);
    CHECK_STATUS(
        STATUS(g, "CompressorPE", t_node(NULL, stereo), t_node(NULL, stereo), t_num("ratio", 0)),
        PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "CompressorPE", t_node(NULL, stereo)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "CompressorPE", t_node(NULL, stereo), t_num(NULL, 1)), PG_ERR_ARG);
    pg_graph_free(g);
}

// With a stateful envelope (EnvDetectPE) on an indefinite source.
static void test_blocks_and_infinite(void) {
    pg_graph *g = t_graph(48000);
    int src = ADD(g, "SinPE", t_num("frequency", 300), t_num("amplitude", 0.9));
    int env = ADD(g, "EnvDetectPE", t_node(NULL, src), t_num(NULL, 0.9), t_num(NULL, 0.0005));
    int c = ADD(g, "CompressorPE", t_node(NULL, src), t_node(NULL, env), t_num(NULL, -18),
                t_num(NULL, 4), t_num(NULL, 6));
    pg_extent e = pg_graph_node_extent(g, c);
    CHECK(e.start == PG_FRAME_MIN && e.end == PG_FRAME_MAX);
    int none = ADD(g, "CropPE", t_node(NULL, src), t_ext(NULL, 9, 9));
    e = pg_graph_node_extent(g, ADD(g, "CompressorPE", t_node(NULL, none), t_node(NULL, env)));
    CHECK(pg_extent_is_empty(e));
    CHECK(t_block_invariant(g, c, 0, 5000));
    pg_graph_free(g);
}

int main(void) {
    test_pygmu_render();
    test_default_makeup();
    test_channels_and_silence();
    test_errors();
    test_blocks_and_infinite();
    return check_done();
}
