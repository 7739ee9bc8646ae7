// test_comb.c: CombPE. The design is scipy.signal.iircomb's: beta = tan(pi/(2q)),
// ax = (1-beta)/(1+beta), peak bx = beta/(1+beta), notch bx = 1/(1+beta), so for f0 4800 at
// 48000 (N = 10), q 20 the impulse response is bx at 0, +-bx(1+ax) at 10, +-bx ax(1+ax) at 20
// (the catalogue's verified 0.07296, -0.135273, 0.115534 for the default peak comb). The
// numbers for the four type / pass_zero cases were derived with scipy 1.10:
// lfilter(*iircomb(4800, 20, ftype, fs=48000, pass_zero), x) for x = [1, 0, 0, .5, 0...].
// Also: f0 snapping, steady-state gains at 0 and f0/2, the ring-out tail, errors, blocks.
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define PI 3.14159265358979323846

static int comb(pg_graph *g, int src, double f0, const char *type, bool pass_zero) {
    return ADD(g, "CombPE", t_node(NULL, src), t_num("f0", f0), t_num("q", 20),
               t_str("filter_type", type),
               (pg_arg){ "pass_zero", { .type = PG_V_BOOL, .u.b = pass_zero } });
}

// The catalogue's verified impulse response, from the closed form.
static void test_impulse_closed_form(void) {
    pg_graph *g = t_graph(48000);
    double imp[1] = { 1 };
    int src = ADD(g, "ArrayPE", t_arr(NULL, 1, 1, imp));
    int c = ADD(g, "CombPE", t_node(NULL, src), t_num("f0", 4800));
    float y[31];
    CHECK_STATUS(t_render(g, c, 0, 31, 64, y), PG_OK);
    double beta = tan(PI / 40), ax = (1 - beta) / (1 + beta), bx = beta / (1 + beta);
    CHECK_NEAR(y[0], bx, 1e-8);
    CHECK_NEAR(y[10], -bx * (1 + ax), 1e-8);
    CHECK_NEAR(y[20], bx * ax * (1 + ax), 1e-8);
    CHECK_NEAR(y[30], -bx * ax * ax * (1 + ax), 1e-8);
    CHECK_NEAR(y[0], 0.07296, 5e-6);
    CHECK_NEAR(y[10], -0.135273, 5e-7);
    CHECK_NEAR(y[20], 0.115534, 5e-7);
    for (int i = 1; i < 30; i++)
        if (i % 10)
            CHECK(y[i] == 0);
    pg_graph_free(g);
}

// scipy's numbers for the four cases (frames 0, 3, 10, 13, 20, 23).
static void test_scipy_cases(void) {
    static const struct {
        const char *type;
        bool pass_zero;
        double y[6];
    } cases[] = {
        { "peak",
          false,
          { 0.07295965403318405, 0.036479827016592026, -0.13527308404445648, -0.06763654202222824,
            0.11553413420915604, 0.05776706710457802 } },
        { "peak",
          true,
          { 0.07295965403318405, 0.036479827016592026, 0.13527308404445648, 0.06763654202222824,
            0.11553413420915604, 0.05776706710457802 } },
        { "notch",
          false,
          { 0.9270403385162354, 0.4635201692581177, -0.13527308404445648, -0.06763654202222824,
            -0.11553413420915604, -0.05776706710457802 } },
        { "NOTCH",
          true,
          { 0.9270403385162354, 0.4635201692581177, 0.13527308404445648, 0.06763654202222824,
            -0.11553413420915604, -0.05776706710457802 } },
    };
    static const int at[6] = { 0, 3, 10, 13, 20, 23 };
    for (int k = 0; k < 4; k++) {
        pg_graph *g = t_graph(48000);
        double x[4] = { 1, 0, 0, 0.5 };
        int c = comb(g, ADD(g, "ArrayPE", t_arr(NULL, 1, 4, x)), 4800, cases[k].type,
                     cases[k].pass_zero);
        float y[25];
        CHECK_STATUS(t_render(g, c, 0, 25, 7, y), PG_OK);
        for (int i = 0; i < 6; i++)
            CHECK_NEAR(y[at[i]], cases[k].y[i], 1e-9);
        pg_graph_free(g);
    }
}

// f0 snaps to fs/N with N = round(fs/f0), halves to even: 441 Hz -> N = 109
// (440.367 Hz); 1846.15... Hz -> 26 (25.5 would be 26 either way; 1920 Hz -> 25).
static void check_delay(double f0, int n) {
    pg_graph *g = t_graph(48000);
    double imp[1] = { 1 };
    int c = comb(g, ADD(g, "ArrayPE", t_arr(NULL, 1, 1, imp)), f0, "peak", false);
    float *y = calloc((size_t)n + 1, sizeof *y);
    CHECK_STATUS(t_render(g, c, 0, n + 1, 64, y), PG_OK);
    int first = 0;
    for (int i = 1; i <= n && !first; i++)
        if (y[i] != 0)
            first = i;
    CHECK_EQ_I64(first, n);
    free(y);
    pg_graph_free(g);
}

static void test_snapping(void) {
    check_delay(441, 109);
    check_delay(1000, 48);
    check_delay(1920, 25);
    check_delay(48000.0 / 25.5, 26); // 25.5 rounds to the even 26
    check_delay(48000.0 / 24.5, 24); // 24.5 rounds to the even 24
}

// Steady-state levels: a sine of fs/(2N) (peaks of the default comb at odd multiples of
// f0/2: QUIRK Q22) and DC. peak/False: 1 at f0/2, 0 at DC; peak/True: 0, 1;
// notch/False: 1, 0; notch/True: 0, 1 (|H| = 2bx/(1 -+ ax) = 1 at the peaks).
static double level(const char *type, bool pass_zero, bool dc) {
    pg_graph *g = t_graph(48000);
    int n = 48000;
    double *x = malloc(sizeof *x * (size_t)n);
    for (int i = 0; i < n; i++)
        x[i] = dc ? 1 : sin(2 * PI * 500 * i / 48000); // f0 1000: N = 48, f0/2 = 500 Hz
    int c = comb(g, ADD(g, "ArrayPE", t_arr(NULL, 1, n, x)), 1000, type, pass_zero);
    float *y = calloc((size_t)n, sizeof *y);
    CHECK_STATUS(t_render(g, c, 0, n, 4096, y), PG_OK);
    double ss = 0;
    for (int i = n - 96 * 100; i < n; i++)
        ss += (double)y[i] * (double)y[i];
    free(x);
    free(y);
    pg_graph_free(g);
    return sqrt(ss / (96 * 100) * (dc ? 1 : 2));
}

static void test_levels(void) {
    CHECK_NEAR(level("peak", false, false), 1, 1e-5);
    CHECK_NEAR(level("peak", false, true), 0, 1e-5);
    CHECK_NEAR(level("peak", true, false), 0, 1e-5);
    CHECK_NEAR(level("peak", true, true), 1, 1e-5);
    CHECK_NEAR(level("notch", false, false), 1, 1e-5);
    CHECK_NEAR(level("notch", false, true), 0, 1e-5);
    CHECK_NEAR(level("notch", true, false), 0, 1e-5);
    CHECK_NEAR(level("notch", true, true), 1, 1e-5);
}

// QUIRK Q23: the ring-out is inside the extent, N (1 + ceil(ln 1e-7 / ln ax)) frames past
// the source's end, and decays by ax per period.
static void test_tail(void) {
    pg_graph *g = t_graph(48000);
    double x[3] = { 1, 1, 1 };
    int src = ADD(g, "ArrayPE", t_arr(NULL, 2, 1, x)); // stereo: [1] and [1]
    int c = ADD(g, "CombPE", t_node(NULL, src), t_num("f0", 4800));
    double beta = tan(PI / 40), ax = (1 - beta) / (1 + beta);
    int64_t tail = 10 * (1 + (int64_t)ceil(log(1e-7) / log(ax)));
    pg_extent e = pg_graph_node_sound_extent(g, c);
    CHECK_EQ_I64(e.start, 0);
    CHECK_EQ_I64(e.end, 1 + tail);
    CHECK_EQ_I64(pg_graph_node_channels(g, c), 2);
    float *y = calloc((size_t)(2 * (e.end + 5)), sizeof *y);
    int64_t n = e.end + 5;
    CHECK_STATUS(t_render(g, c, 0, n, 64, y), PG_OK);
    int64_t last = (e.end - 1) / 10 * 10; // the last nonzero frame of the extent
    CHECK_NEAR(fabs(y[last]) / fabs(y[10]), pow(ax, (double)(last / 10 - 1)), 1e-9);
    CHECK(fabs(y[last]) < 1e-7 * fabs(y[10]));
    CHECK(y[n + last] == y[last]); // channel 1 is the same
    CHECK(y[e.end] == 0);
    free(y);

    // empty stays empty, indefinite stays indefinite
    int none = ADD(g, "CropPE", t_node(NULL, src), t_ext(NULL, 7, 7));
    CHECK(pg_extent_is_empty(pg_graph_node_sound_extent(g, ADD(g, "CombPE", t_node(NULL, none)))));
    int one = ADD(g, "ConstPE", t_num(NULL, 1.0));
    e = pg_graph_node_sound_extent(g, ADD(g, "CombPE", t_node(NULL, one)));
    CHECK(e.start == PG_FRAME_MIN && e.end == PG_FRAME_MAX);
    pg_graph_free(g);
}

static void test_errors_and_rates(void) {
    pg_graph *g = t_graph(12345);
    double x[4] = { 1, 2, 3, 4 };
    int src = ADD(g, "ArrayPE", t_arr(NULL, 1, 4, x));
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, ADD(g, "CombPE", t_node(NULL, src))), 12345);
    // the keyword wins (pygmu printed a warning)
    int c = ADD(g, "CombPE", t_node(NULL, src), t_int("frame_rate", 45678));
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, c), 45678);
    CHECK_STATUS(STATUS(g, "CombPE", t_node(NULL, src), t_str("filter_type", "band")), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "CombPE", t_node(NULL, src), t_num("f0", 5000)), PG_ERR_ARG); // N 2
    CHECK_STATUS(STATUS(g, "CombPE", t_node(NULL, src), t_num("f0", 0)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "CombPE", t_node(NULL, src), t_num("f0", 0.001)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "CombPE", t_node(NULL, src), t_num("q", 0.99)), PG_ERR_ARG);
    // q = 1 rings for ever: the tail is capped at 60 s
    c = ADD(g, "CombPE", t_node(NULL, src), t_num("q", 1));
    CHECK_EQ_I64(pg_graph_node_sound_extent(g, c).end, 4 + 60 * 12345);
    CHECK_STATUS(STATUS(g, "CombPE", t_node(NULL, src), t_num("q", -3)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "CombPE", t_node(NULL, src), t_int("frame_rate", -1)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "CombPE", t_node(NULL, src), t_str("pass_zero", "yes")), PG_ERR_ARG);
    pg_graph_free(g);
    g = pg_graph_new(0);
    src = ADD(g, "ArrayPE", t_arr(NULL, 1, 4, x));
    CHECK_STATUS(STATUS(g, "CombPE", t_node(NULL, src)), PG_ERR_RATE);
    pg_graph_free(g);
}

// Delays shorter and longer than the block sizes, mono and stereo.
static void test_block_invariance(void) {
    pg_graph *g = t_graph(48000);
    double x[2 * 3000];
    for (int i = 0; i < 6000; i++)
        x[i] = sin(i * 0.37) * (i % 3000 < 2000);
    int mono = ADD(g, "ArrayPE", t_arr(NULL, 1, 3000, x));
    int stereo = ADD(g, "ArrayPE", t_arr(NULL, 2, 3000, x));
    int a = comb(g, mono, 4800, "notch", true);
    int b = comb(g, stereo, 90, "peak", false);
    CHECK(t_block_invariant(g, a, 0, pg_graph_node_sound_extent(g, a).end));
    CHECK(t_block_invariant(g, b, -50, 9000));
    pg_graph_free(g);
}

int main(void) {
    test_impulse_closed_form();
    test_scipy_cases();
    test_snapping();
    test_levels();
    test_tail();
    test_errors_and_rates();
    test_block_invariance();
    return check_done();
}
