// test_filter.c: FilterPE(src_pe, num_poles, freq), a causal Butterworth low-pass. Impulse
// responses were derived with scipy 1.10: lfilter(*butter(N, 1000/24000), impulse) at frames
// 0, 1, 2, 3, 10, 50. Steady-state gains follow the bilinear Butterworth magnitude
// 1/sqrt(1 + W^2N), W = tan(pi f/fs)/tan(pi freq/fs): 1/sqrt(2) at freq whatever the
// frame rate (QUIRK Q29: pygmu normalised by 22020 Hz). Also tails, errors, blocks.
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define PI 3.14159265358979323846

static void test_scipy_impulses(void) {
    static const struct {
        int poles;
        double y[6];
    } cases[] = {
        { 1,
          { 0.06151176989078522, 0.11545614153146744, 0.10125231742858887, 0.08879590034484863,
            0.035424888134002686, 0.00018570601241663098 } },
        { 2,
          { 0.003916126675903797, 0.01494135893881321, 0.027785466983914375, 0.03802374377846718,
            0.05862562730908394, -0.0018068908248096704 } },
        { 3,
          { 0.0002470008039381355, 0.00141738576348871, 0.004002407193183899, 0.007839733734726906,
            0.042042993009090424, -0.0055456520058214664 } },
        { 4,
          { 1.5551720935036428e-05, 0.00011909602471860126, 0.00045072330976836383,
            0.001159705687314272, 0.019211996346712112, -0.008517432026565075 } },
        { 8,
          { 2.434449031252228e-10, 3.731786879512811e-09, 2.843959023834941e-08,
            1.447898085871202e-07, 8.35164391901344e-05, 0.04008718580007553 } },
    };
    static const int at[6] = { 0, 1, 2, 3, 10, 50 };
    for (int k = 0; k < 5; k++) {
        pg_graph *g = t_graph(48000);
        double imp[1] = { 1 };
        int src = ADD(g, "ArrayPE", t_arr(NULL, 1, 1, imp));
        int f =
            ADD(g, "FilterPE", t_node(NULL, src), t_int(NULL, cases[k].poles), t_num(NULL, 1000));
        float y[51];
        CHECK_STATUS(t_render(g, f, 0, 51, 7, y), PG_OK);
        for (int i = 0; i < 6; i++)
            CHECK_NEAR(y[at[i]], cases[k].y[i], 1e-8 + 1e-6 * fabs(cases[k].y[i]));
        pg_graph_free(g);
    }
}

// The gain at f of an order-n filter with cutoff fc at rate fs, measured on a unit sine.
static double measured(int fs, int n_poles, double fc, double f) {
    pg_graph *g = t_graph(fs);
    int n = 40000, period = (int)lround(fs / f);
    double *x = malloc(sizeof *x * (size_t)n);
    for (int i = 0; i < n; i++)
        x[i] = sin(2 * PI * f * i / fs);
    int src = ADD(g, "ArrayPE", t_arr(NULL, 1, n, x));
    int node =
        ADD(g, "FilterPE", t_node(NULL, src), t_int("num_poles", n_poles), t_num("freq", fc));
    float *y = calloc((size_t)n, sizeof *y);
    CHECK_STATUS(t_render(g, node, 0, n, 4096, y), PG_OK);
    int from = n - 20000 / period * period;
    double ss = 0;
    for (int i = from; i < n; i++)
        ss += (double)y[i] * (double)y[i];
    free(x);
    free(y);
    pg_graph_free(g);
    return sqrt(2 * ss / (n - from));
}

static void test_magnitude(void) {
    static const double freqs[] = { 250, 1000, 2000, 4000, 8000 };
    for (int np = 1; np <= 6; np++)
        for (int i = 0; i < 5; i++) {
            double w = tan(PI * freqs[i] / 48000) / tan(PI * 1000 / 48000);
            double want = 1 / sqrt(1 + pow(w, 2 * np));
            double got = measured(48000, np, 1000, freqs[i]);
            CHECK_NEAR(got, want, 2e-4 * want + 1e-6);
        }
    // QUIRK Q29: -3 dB at freq at any frame rate (44100: 441 Hz is 100 frames a period)
    CHECK_NEAR(measured(44100, 3, 441, 441), sqrt(0.5), 2e-4);
    CHECK_NEAR(measured(96000, 2, 960, 960), sqrt(0.5), 2e-4);
}

static void test_shapes(void) {
    pg_graph *g = t_graph(48000);
    double x[8] = { 1, 0, 0, 0, -1, 0, 0, 0 };
    int stereo = ADD(g, "ArrayPE", t_arr(NULL, 2, 4, x));
    int f = ADD(g, "FilterPE", t_node(NULL, stereo), t_int(NULL, 2), t_num(NULL, 1000));
    CHECK_EQ_I64(pg_graph_node_channels(g, f), 2);
    pg_extent e = pg_graph_node_sound_extent(g, f);
    CHECK(e.start == 0 && e.end > 4 + 200 && e.end < 4 + 48000);
    int64_t n = e.end;
    float *y = calloc((size_t)(2 * n), sizeof *y);
    CHECK_STATUS(t_render(g, f, 0, n, 64, y), PG_OK);
    CHECK_NEAR(y[0], 0.003916126675903797, 1e-9); // the order-2 impulse, from scipy
    CHECK_NEAR(y[n], -0.003916126675903797, 1e-9);
    double peak = 0;
    for (int64_t i = 0; i < n; i++)
        peak = fmax(peak, fabs(y[i]));
    CHECK(fabs(y[n - 1]) < 1e-8 * peak && fabs(y[2 * n - 1]) < 1e-8 * peak);
    free(y);
    int none = ADD(g, "CropPE", t_node(NULL, stereo), t_ext(NULL, 2, 2));
    f = ADD(g, "FilterPE", t_node(NULL, none), t_int(NULL, 2), t_num(NULL, 1000));
    CHECK(pg_extent_is_empty(pg_graph_node_sound_extent(g, f)));
    int one = ADD(g, "ConstPE", t_num(NULL, 0.25));
    f = ADD(g, "FilterPE", t_node(NULL, one), t_int(NULL, 5), t_num(NULL, 3000));
    e = pg_graph_node_sound_extent(g, f);
    CHECK(e.start == PG_FRAME_MIN && e.end == PG_FRAME_MAX);
    float z[4000];
    CHECK_STATUS(t_render(g, f, 100, 4100, 4096, z), PG_OK);
    CHECK(z[0] > 0 && z[0] < 1e-3f); // the step starts at the render's origin...
    CHECK_NEAR(z[3999], 0.25, 1e-6); // ...and settles at the unit DC gain
    pg_graph_free(g);
}

static void test_errors(void) {
    pg_graph *g = t_graph(48000);
    double x[2] = { 1, 2 };
    int src = ADD(g, "ArrayPE", t_arr(NULL, 1, 2, x));
    CHECK_STATUS(STATUS(g, "FilterPE", t_node(NULL, src), t_int(NULL, 0), t_num(NULL, 100)),
                 PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "FilterPE", t_node(NULL, src), t_int(NULL, 33), t_num(NULL, 100)),
                 PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "FilterPE", t_node(NULL, src), t_int(NULL, 2), t_num(NULL, 24000)),
                 PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "FilterPE", t_node(NULL, src), t_int(NULL, 2), t_num(NULL, 0)),
                 PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "FilterPE", t_node(NULL, src), t_int(NULL, 2)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "FilterPE", t_node(NULL, src), t_num(NULL, 2.5), t_num(NULL, 100)),
                 PG_ERR_ARG);
    pg_graph_free(g);
    g = pg_graph_new(0);
    src = ADD(g, "ArrayPE", t_arr(NULL, 1, 2, x));
    CHECK_STATUS(STATUS(g, "FilterPE", t_node(NULL, src), t_int(NULL, 2), t_num(NULL, 100)),
                 PG_ERR_RATE);
    pg_graph_free(g);
}

static void test_block_invariance(void) {
    pg_graph *g = t_graph(48000);
    double x[4000];
    for (int i = 0; i < 4000; i++)
        x[i] = (i * 7919 % 1000) / 500.0 - 1;
    int src = ADD(g, "ArrayPE", t_arr(NULL, 2, 2000, x));
    int f = ADD(g, "FilterPE", t_node(NULL, src), t_int(NULL, 7), t_num(NULL, 2500));
    CHECK(t_block_invariant(g, f, 0, pg_graph_node_sound_extent(g, f).end));
    pg_graph_free(g);
}

int main(void) {
    test_scipy_impulses();
    test_magnitude();
    test_shapes();
    test_errors();
    test_block_invariance();
    return check_done();
}
