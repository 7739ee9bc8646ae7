// test_sin.c: SinPE(frequency=440, amplitude=1.0, phase=0.0, frame_rate=None). pygmu's
// test_sin_pe.py at 48 kHz over [0, 5): frequency 0 -> zeros, fr/2 -> zeros to 6 decimals,
// fr/4 -> [0, 1, 0, -1, 0], amplitude .5 -> halves, phase pi/2 -> [1, 0, -1, 0, 1]. Static:
// (float)amplitude * (float)sin(omega*t + phase) at absolute t, omega = f*2.0*pi/fr.
// Dynamic (a PE frequency): phi starts at phase at the origin and grows by 2*pi*f[i]/fr, so a
// linear chirp f(k) = f0 + s*k has phi(t) = phase + 2*pi/fr * (t*f0 + s*t*(t-1)/2).
#include "graph.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"

#define PI 3.14159265358979323846

enum {
    FR = 48000
};

static void test_shape(void) {
    pg_graph *g = t_graph(0);
    int s = t_add(g, "SinPE", NULL, 0);
    int r = ADD(g, "SinPE", t_num(NULL, 440), t_num(NULL, 1), t_num(NULL, 0), t_int(NULL, 1234));
    int f = ADD(g, "ConstPE", t_num(NULL, 100));
    int d = ADD(g, "SinPE", t_node("frequency", f));
    CHECK(t_extent_is(pg_graph_node_extent(g, s), PG_FRAME_MIN, PG_FRAME_MAX));
    CHECK(t_extent_is(pg_graph_node_extent(g, d), PG_FRAME_MIN, PG_FRAME_MAX));
    CHECK_EQ_I64(pg_graph_node_channels(g, s), 1);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, s), FR);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, r), 1234);
    CHECK(!(graph_node(g, s)->pn.flags & PE_F_STATEFUL)); // static: a function of time
    CHECK(graph_node(g, d)->pn.flags & PE_F_STATEFUL);    // dynamic: a phase accumulator
    pg_graph_free(g);
}

static void test_pygmu_table(void) {
    pg_graph *g = t_graph(0);
    int zero = ADD(g, "SinPE", t_num(NULL, 0));
    int nyq = ADD(g, "SinPE", t_num(NULL, FR / 2));
    int quarter = ADD(g, "SinPE", t_num(NULL, FR / 4));
    int half_amp = ADD(g, "SinPE", t_num(NULL, FR / 4), t_num("amplitude", 0.5));
    int shifted = ADD(g, "SinPE", t_num(NULL, FR / 4), t_num("phase", PI / 2));
    float out[5];
    RENDER(g, zero, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, 0, 0, 0 }), 5, 0);
    RENDER(g, nyq, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, 0, 0, 0 }), 5, 1.5e-6);
    RENDER(g, quarter, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 1, 0, -1, 0 }), 5, 1.5e-6);
    RENDER(g, half_amp, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0.5, 0, -0.5, 0 }), 5, 1.5e-6);
    RENDER(g, shifted, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 1, 0, -1, 0, 1 }), 5, 1.5e-6);
    RENDER(g, quarter, 101, 4, out); // absolute time: frame 101 is a quarter period past 100
    CHECK_FRAMES(out, ((double[]){ 1, 0, -1, 0 }), 4, 1.5e-6);
    pg_graph_free(g);
}

// pygmu's order of roundings: the sine in double, rounded to float32, times the float32
// amplitude (numpy keeps float32 * Python float in float32).
static void test_rounding(void) {
    pg_graph *g = t_graph(0);
    int s = ADD(g, "SinPE", t_num(NULL, 440), t_num(NULL, 0.3), t_num(NULL, 0.1));
    enum {
        N = 4800
    };
    float out[N];
    pg_frame t0 = 1000000;
    RENDER(g, s, t0, N, out);
    double omega = 440 * 2.0 * PI / FR;
    int same = 1;
    for (int i = 0; i < N; i++)
        same &= out[i] == (float)0.3 * (float)sin(omega * (double)(t0 + i) + 0.1);
    CHECK(same);
    CHECK(t_block_invariant(g, s, -5000, 5000));
    pg_graph_free(g);
}

// A constant PE frequency accumulates to the static sine (same omega each frame) within
// float32 rounding; a chirp follows its closed-form phase.
static void test_dynamic(void) {
    enum {
        N = 4800
    };
    pg_graph *g = t_graph(0);
    int c = ADD(g, "ConstPE", t_num(NULL, 440));
    int dyn = ADD(g, "SinPE", t_node(NULL, c), t_num(NULL, 0.5), t_num(NULL, PI / 2));
    int stat = ADD(g, "SinPE", t_num(NULL, 440), t_num(NULL, 0.5), t_num(NULL, PI / 2));
    int ramp = ADD(g, "RampPE", t_num(NULL, 100), t_num(NULL, 100 + 0.5 * N), t_ext(NULL, 0, N));
    int chirp = ADD(g, "SinPE", t_node(NULL, ramp), t_num(NULL, 1), t_num(NULL, 0.25));
    static float a[N], b[N];
    RENDER(g, dyn, 0, N, a);
    RENDER(g, stat, 0, N, b);
    CHECK(a[0] == 0.5f); // (float)(0.5 * sin(pi/2)): the first sample is sin(phase)
    double want[N];
    for (int i = 0; i < N; i++)
        want[i] = b[i];
    CHECK_FRAMES(a, want, N, 1e-6);
    RENDER(g, chirp, 0, N, a);
    for (int t = 0; t < N; t++)
        want[t] = sin(0.25 + 2 * PI / FR * (t * 100.0 + 0.5 * t * (t - 1) / 2.0));
    CHECK_FRAMES(a, want, N, 1e-6);
    CHECK(t_block_invariant(g, dyn, 0, 9000));
    CHECK(t_block_invariant(g, chirp, 0, N));
    pg_graph_free(g);
}

// QUIRK Q46: a dynamic sine starts its phase at its origin, the first frame the render needs:
// cropped to [100, 105) it plays [0, 1, 0, -1, 0] there, whatever came before.
static void test_dynamic_origin(void) {
    pg_graph *g = t_graph(0);
    int c = ADD(g, "ConstPE", t_num(NULL, FR / 4));
    int dyn = ADD(g, "SinPE", t_node(NULL, c));
    int crop = ADD(g, "CropPE", t_node(NULL, dyn), t_ext(NULL, 100, 105));
    float out[200];
    RENDER(g, crop, 0, 200, out);
    CHECK_FRAMES(out + 95, ((double[]){ 0, 0, 0, 0, 0, 0, 1, 0, -1, 0, 0, 0 }), 12, 1.5e-6);
    RENDER(g, dyn, 1001, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 1, 0, -1, 0 }), 5, 1.5e-6);
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    CHECK_STATUS(STATUS(g, "SinPE", t_num(NULL, INFINITY)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "SinPE", t_str(NULL, "A4")), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "SinPE", t_num("amplitude", NAN)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "SinPE", t_str("phase", "up")), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "SinPE", t_num("frequence", 3)), PG_ERR_ARG);
    CHECK_EQ_I64(pg_graph_node_count(g), 0);
    pg_graph_free(g);
    // shape errors: the node is added and the graph records the mismatch
    g = t_graph(0);
    int c = ADD(g, "ConstPE", t_num(NULL, 5));
    int st = ADD(g, "SpreadPE", t_node(NULL, c));
    CHECK_STATUS(STATUS(g, "SinPE", t_node(NULL, st)), PG_ERR_CHANNELS);
    int other = ADD(g, "ConstPE", t_num(NULL, 5), t_int("frame_rate", 44100));
    CHECK_STATUS(STATUS(g, "SinPE", t_node(NULL, other)), PG_ERR_RATE);
    CHECK_EQ_I64(pg_graph_node_count(g), 5);
    CHECK(strstr(pg_graph_diag(g, 0)->message, "SinPE frequency has 2 channels") != NULL);
    pg_graph_free(g);
    // a non-finite frequency sample stops the render
    g = t_graph(0);
    int inf = ADD(g, "ConstPE", t_num(NULL, INFINITY));
    int s = ADD(g, "SinPE", t_node(NULL, inf));
    float out[4];
    CHECK_STATUS(t_render(g, s, 0, 4, 4, out), PG_ERR_ARG);
    pg_graph_free(g);
}

int main(void) {
    test_shape();
    test_pygmu_table();
    test_rounding();
    test_dynamic();
    test_dynamic_origin();
    test_bad_args();
    return check_done();
}
