// test_chorus.c: ChorusPE(src_pe, rate=1.5, depth=0.5, mix=0.5): out(t) = (1 - mix) x(t) +
// mix x(t - D(t)), D(t) = depth fr/1000 (1 + sin(2 pi rate t/fr)), fractional delays by
// linear interpolation, t absolute. Expectations: pygmu's verified first block (where its
// per-block delay line already has history), the formula evaluated here elsewhere, the tail.
#include <math.h>
#include <stdlib.h>

#include "check.h"

#define PI 3.14159265358979323846

static int chorus(pg_graph *g, int src, double rate, double depth, double mix) {
    pg_arg a[] = { t_node(NULL, src), t_num("rate", rate), t_num("depth", depth),
                   t_num("mix", mix) };
    return t_add(g, "ChorusPE", a, 4);
}

// x(t) = t + 1 on [0, 1000) at 1000 Hz, 0 elsewhere (the catalogue's source, cropped).
static int ramp_source(pg_graph *g) {
    pg_arg r[] = { t_int("frame_rate", 1000) };
    int id = t_add(g, "IdentityPE", r, 1);
    pg_arg k[] = { t_num(NULL, 1.0), t_int("frame_rate", 1000) };
    pg_arg ad[] = { t_node(NULL, id), t_node(NULL, t_add(g, "ConstPE", k, 2)) };
    pg_arg c[] = { t_node(NULL, t_add(g, "AddPE", ad, 2)), t_ext(NULL, 0, 1000) };
    return t_add(g, "CropPE", c, 2);
}

static double ramp_x(long t) {
    return t >= 0 && t < 1000 ? (double)t + 1.0 : 0.0;
}

// The formula, with x given as a function.
static double chorus_at(double (*x)(long), long t, double fr, double rate, double depth,
                        double mix) {
    double d = depth * (1.0 + sin(2.0 * PI * rate * ((double)t / fr))) * fr / 1000.0;
    long di = (long)d;
    double f = d - (double)di;
    double wet = (1.0 - f) * x(t - di) + f * x(t - di - 1);
    return (1.0 - mix) * x(t) + mix * wet;
}

static void test_pygmu_block(void) {
    pg_graph *g = t_graph(0);
    int ch = chorus(g, ramp_source(g), 1.5, 5.0, 0.5);
    float out[1100];
    CHECK_STATUS(t_render(g, ch, 0, 20, 20, out), PG_OK);
    // pygmu's first block [0, 20) (verified): from frame 6 on its delay line has the history
    // ours has: 4.358704, 5.335186, 6.311683, 7.288197, 8.264729
    static const double py[] = { 4.358704, 5.335186, 6.311683, 7.288197, 8.264729 };
    for (int i = 0; i < 5; i++)
        CHECK_NEAR(out[6 + i], py[i], 2e-6);
    // QUIRK Q21: frames 0-5 are dry in pygmu (1..6); ours read the silence before the source:
    // e.g. t = 0: D = 5, out = 0.5 x(0) + 0.5 x(-5) = 0.5
    CHECK_NEAR(out[0], 0.5, 1e-6);
    for (int i = 0; i < 20; i++)
        CHECK_NEAR(out[i], chorus_at(ramp_x, i, 1000, 1.5, 5.0, 0.5), 2e-6);
    // every frame of the extent and of its tail, any window
    CHECK_STATUS(t_render(g, ch, -50, 1050, 64, out), PG_OK);
    int bad = 0;
    for (int i = 0; i < 1100; i++)
        bad += fabs((double)out[i] - chorus_at(ramp_x, i - 50, 1000, 1.5, 5.0, 0.5)) > 1e-4;
    CHECK_EQ_I64(bad, 0);
    // LFO on absolute time (pygmu's counter wraps every fr frames: a phase jump at 1 s
    // unless rate is whole): at rate 0.7 frame 999 and 1000 follow the formula
    int c2 = chorus(g, ramp_source(g), 0.7, 5.0, 1.0);
    CHECK_STATUS(t_render(g, c2, 990, 1000, 3, out), PG_OK);
    CHECK_NEAR(out[9], chorus_at(ramp_x, 999, 1000, 0.7, 5.0, 1.0), 1e-4);
    pg_graph_free(g);
}

// Extent: the source's (nominal); the sound runs on by floor(2 depth fr/1000) + 1 frames.
static void test_extents(void) {
    pg_graph *g = t_graph(0);
    int ch = chorus(g, ramp_source(g), 1.5, 5.0, 0.5);
    CHECK_EQ_I64(pg_graph_node_extent(g, ch).start, 0);
    CHECK_EQ_I64(pg_graph_node_extent(g, ch).end, 1000);
    CHECK_EQ_I64(pg_graph_node_sound_extent(g, ch).end, 1011); // 2 * 5 ms at 1 kHz = 10, + 1
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, ch), 1000);
    float out[20];
    CHECK_STATUS(t_render(g, ch, 999, 1012, 5, out), PG_OK);
    CHECK_NEAR(out[0], chorus_at(ramp_x, 999, 1000, 1.5, 5.0, 0.5), 1e-4); // last frame
    CHECK(out[1] > 0.0f);                                                  // the tail
    CHECK_NEAR(out[12], 0.0, 0);                                           // past it
    // an empty source: an empty chorus
    pg_arg e[] = { t_node(NULL, ramp_source(g)), t_ext(NULL, 2000, 3000) };
    int empty = chorus(g, t_add(g, "CropPE", e, 2), 1.5, 0.5, 0.5);
    CHECK(pg_extent_is_empty(pg_graph_node_extent(g, empty)));
    // an indefinite source (x(t) = t everywhere): indefinite, any window
    int id = t_add(g, "IdentityPE", NULL, 0);
    int inf = chorus(g, id, 1.5, 0.5, 0.5);
    CHECK_EQ_I64(pg_graph_node_extent(g, inf).start, PG_FRAME_MIN);
    CHECK_EQ_I64(pg_graph_node_sound_extent(g, inf).end, PG_FRAME_MAX);
    CHECK_STATUS(t_render(g, inf, -100000, -99990, 4, out), PG_OK);
    // x(t) = t: out = 0.5 t + 0.5 (t - D(t)) = t - D(t)/2, D at 48 kHz, 0.5 ms
    double d = 0.5 * (1.0 + sin(2.0 * PI * 1.5 * (-100000.0 / 48000.0))) * 48000.0 / 1000.0;
    CHECK_NEAR(out[0], -100000.0 - d / 2.0, 0.01);
    pg_graph_free(g);
}

static double row0(long t) {
    return t >= 0 && t < 8 ? (double)(t * t) : 0.0;
}

static double row1(long t) {
    return t >= 0 && t < 8 ? -(double)t : 0.0;
}

// Channels are processed alike; mono sources stay mono.
static void test_stereo(void) {
    pg_graph *g = t_graph(1000);
    double d[16];
    for (int t = 0; t < 8; t++) {
        d[t] = row0(t);
        d[8 + t] = row1(t);
    }
    pg_arg a[] = { t_arr(NULL, 2, 8, d), t_int("frame_rate", 1000) };
    int st = chorus(g, t_add(g, "ArrayPE", a, 2), 100.0, 2.0, 0.75);
    CHECK_EQ_I64(pg_graph_node_channels(g, st), 2);
    float out[2 * 12];
    CHECK_STATUS(t_render(g, st, 0, 12, 5, out), PG_OK);
    for (int t = 0; t < 12; t++) {
        CHECK_NEAR(out[t], chorus_at(row0, t, 1000, 100.0, 2.0, 0.75), 1e-5);
        CHECK_NEAR(out[12 + t], chorus_at(row1, t, 1000, 100.0, 2.0, 0.75), 1e-5);
    }
    CHECK_EQ_I64(pg_graph_node_channels(g, chorus(g, ramp_source(g), 1, 1, 1)), 1);
    pg_graph_free(g);
}

// Block-size invariance, also over a stateful (materialised) source; depth 0 is dry.
static void test_blocks(void) {
    pg_graph *g = t_graph(0);
    pg_arg s[] = { t_num(NULL, 440.0) };
    pg_arg c[] = { t_node(NULL, t_add(g, "BlitSawPE", s, 1)), t_ext(NULL, 0, 6000) };
    int saw = t_add(g, "CropPE", c, 2);
    int ch = chorus(g, saw, 1.5, 3.0, 0.5);
    CHECK(t_block_invariant(g, ch, 0, 6500));
    CHECK(t_block_invariant(g, chorus(g, ramp_source(g), 3.3, 7.0, 0.3), -20, 1100));
    // (a stateless source: a stateful one's origin would follow what each render needs)
    pg_arg f[] = { t_num(NULL, 300.0) };
    pg_arg cs[] = { t_node(NULL, t_add(g, "SinPE", f, 1)), t_ext(NULL, 0, 6000) };
    int sine = t_add(g, "CropPE", cs, 2);
    float a[100], b[100];
    CHECK_STATUS(t_render(g, chorus(g, sine, 1.5, 0.0, 0.5), 100, 200, 7, a), PG_OK);
    CHECK_STATUS(t_render(g, sine, 100, 200, 7, b), PG_OK);
    int bad = 0;
    for (int i = 0; i < 100; i++)
        bad += a[i] != b[i];
    CHECK_EQ_I64(bad, 0);
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    int src = ramp_source(g);
    pg_arg neg[] = { t_node(NULL, src), t_num("depth", -1.0) };
    CHECK_STATUS(t_add_status(g, "ChorusPE", neg, 2), PG_ERR_ARG);
    pg_arg deep[] = { t_node(NULL, src), t_num("depth", 5000.0) };
    CHECK_STATUS(t_add_status(g, "ChorusPE", deep, 2), PG_ERR_ARG);
    pg_arg rate[] = { t_node(NULL, src), t_num("rate", INFINITY) };
    CHECK_STATUS(t_add_status(g, "ChorusPE", rate, 2), PG_ERR_ARG);
    pg_arg mix[] = { t_node(NULL, src), t_num("mix", NAN) };
    CHECK_STATUS(t_add_status(g, "ChorusPE", mix, 2), PG_ERR_ARG);
    pg_arg nosrc[] = { t_num("rate", 1.0) };
    CHECK_STATUS(t_add_status(g, "ChorusPE", nosrc, 1), PG_ERR_ARG);
    pg_arg num[] = { t_num(NULL, 1.0) };
    CHECK_STATUS(t_add_status(g, "ChorusPE", num, 1), PG_ERR_ARG);
    CHECK_EQ_I64(pg_kind_find_method("chorus"), pg_kind_find("ChorusPE"));
    pg_graph_free(g);
}

int main(void) {
    test_pygmu_block();
    test_extents();
    test_stereo();
    test_blocks();
    test_bad_args();
    return check_done();
}
