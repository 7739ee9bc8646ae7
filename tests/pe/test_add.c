// test_add.c: AddPE(src_pe, src_pe2). pygmu has no test; expectations are closed forms: the
// catalogue's vibrato control SinPE(6).gain(20).add(ConstPE(180)) is 180 + 20 sin(2 pi 6 t/fr)
// (rounded as float32 steps), the sum of two arrays frame by frame, the extent the union of
// the non-empty inputs (QUIRK Q1), mono fitted to stereo.
#include <stdlib.h>
#include <string.h>

#include "check.h"

// ADD(g, "SinPE", t_num(NULL, 440), ...) adds a node (t_add prints a binding error);
// STATUS(...) gives the status of adding it instead: PG_OK, a binding error's status (no node
// added), or the status of the shape error the graph recorded for the new node.
#define ARGS(...)                       ((pg_arg[]){ __VA_ARGS__ })
#define NARGS(...)                      ((int)(sizeof(ARGS(__VA_ARGS__)) / sizeof(pg_arg)))
#define ADD(g, k, ...)                  t_add(g, k, ARGS(__VA_ARGS__), NARGS(__VA_ARGS__))
#define STATUS(g, k, ...)               add_status(g, k, ARGS(__VA_ARGS__), NARGS(__VA_ARGS__))
#define CHECK_FRAMES(out, want, n, tol) check_frames(__LINE__, out, want, n, tol)

static inline pg_status add_status(pg_graph *g, const char *kind, const pg_arg *args, int n) {
    pg_diag err;
    pg_srcloc none = { 0, 0, 0 };
    int before = pg_graph_diag_count(g);
    if (pg_graph_add(g, kind, args, n, none, &err) < 0)
        return err.status;
    return pg_graph_diag_count(g) > before ? pg_graph_diag(g, before)->status : PG_OK;
}

// Checks out[i] against want[i] for i < n, reporting the first differing frame.
static inline void check_frames(int line, const float *out, const double *want, int n, double tol) {
    for (int i = 0; i < n; i++) {
        if (fabs((double)out[i] - want[i]) > tol || isnan(out[i]) != isnan(want[i])) {
            char d[160];
            snprintf(d, sizeof d, "frame %d: got %.9g, want %.9g (tol %.3g)", i, (double)out[i],
                     want[i], tol);
            check_report(__FILE__, line, "frames", d);
            return;
        }
    }
    check_passed++;
}

// Renders node over [s, s + n) (block 64) into out and checks that the render succeeded.
static inline void render(pg_graph *g, int node, pg_frame s, int64_t n, float *out) {
    CHECK_STATUS(t_render(g, node, s, s + n, 64, out), PG_OK);
}

static inline bool extent_is(pg_extent e, pg_frame s, pg_frame end) {
    return e.start == s && e.end == end;
}

// Renders node over [s, s + n) at optimisation level opt (0: every kernel's own process;
// 1: linear trees fused) into out, planar.
static pg_status render_opt(pg_graph *g, int node, pg_frame s, int64_t n, int opt, float *out) {
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.has_start = o.has_end = true;
    o.start = s;
    o.end = s + n;
    o.opt_level = opt;
    o.cache_dir = "";
    pg_diag err;
    pg_plan *p = pg_plan_new(g, node, &o, &err);
    if (!p)
        return err.status;
    int ch = pg_plan_channels(p);
    float *inter = malloc(sizeof(float) * (size_t)(n * ch));
    pg_status st = pg_render_all(p, inter, &err);
    for (int64_t i = 0; st == PG_OK && i < n; i++)
        for (int c = 0; c < ch; c++)
            out[c * n + i] = inter[i * ch + c];
    free(inter);
    pg_plan_free(p);
    return st;
}

// The fused plan (-O1) agrees with the kernels (-O0) within tol (design.md's invariant 4).
static void check_fused_matches(pg_graph *g, int node, pg_frame s, int64_t n, double tol) {
    int ch = pg_graph_node_channels(g, node);
    float *a = malloc(sizeof(float) * (size_t)(n * ch)),
          *b = malloc(sizeof(float) * (size_t)(n * ch));
    CHECK_STATUS(render_opt(g, node, s, n, 0, a), PG_OK);
    CHECK_STATUS(render_opt(g, node, s, n, 1, b), PG_OK);
    double worst = 0;
    for (int64_t i = 0; i < n * ch; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        worst = d > worst ? d : worst;
    }
    CHECK(worst <= tol);
    free(a);
    free(b);
}

#define PI 3.14159265358979323846

static void test_vibrato(void) {
    pg_graph *g = t_graph(0);
    int s = ADD(g, "SinPE", t_num(NULL, 6));
    int g20 = ADD(g, "GainPE", t_node(NULL, s), t_num(NULL, 20));
    int c = ADD(g, "ConstPE", t_num(NULL, 180));
    int f = ADD(g, "AddPE", t_node(NULL, g20), t_node(NULL, c));
    CHECK(extent_is(pg_graph_node_extent(g, f), PG_FRAME_MIN, PG_FRAME_MAX));
    enum {
        N = 8000
    };
    static float out[N];
    render(g, f, 0, N, out);
    int same = 1;
    for (int t = 0; t < N; t++) {
        float sine = (float)sin(6 * 2.0 * PI / 48000 * t);
        same &= out[t] == 0.0f + sine * 20.0f + 180.0f;
    }
    CHECK(same);
    CHECK_NEAR(out[2000], 200, 1e-5); // a quarter period of 6 Hz: 180 + 20
    CHECK(t_block_invariant(g, f, -100, 9000));
    check_fused_matches(g, f, -100, 9000, 2e-5); // values near 200: float32 ulp 1.5e-5
    pg_graph_free(g);
}

// [1, 2, 3] on [0, 3) plus a constant-5 ramp on [5, 8): extent [0, 8), a gap on [3, 5).
// An empty input ([0, 0)) does not stretch the extent of a later ramp to 0.
static void test_extents(void) {
    pg_graph *g = t_graph(0);
    int a = ADD(g, "ArrayPE", t_arr(NULL, 1, 3, (double[]){ 1, 2, 3 }));
    int r = ADD(g, "RampPE", t_num(NULL, 5), t_num(NULL, 5), t_ext(NULL, 5, 8));
    int s = ADD(g, "AddPE", t_node(NULL, a), t_node(NULL, r));
    CHECK(extent_is(pg_graph_node_extent(g, s), 0, 8));
    float out[10];
    render(g, s, -1, 10, out);
    CHECK_FRAMES(out, ((double[]){ 0, 1, 2, 3, 0, 0, 5, 5, 5, 0 }), 10, 0);
    int e = ADD(g, "ArrayPE", t_arr(NULL, 0, 0, NULL));
    int re = ADD(g, "AddPE", t_node(NULL, r), t_node(NULL, e));
    CHECK(extent_is(pg_graph_node_extent(g, re), 5, 8));
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
        render(g, k ? b : a, 0, 2, out);
        CHECK_FRAMES(out, ((double[]){ 11, 22, 13, 24 }), 4, 0);
        check_fused_matches(g, k ? b : a, -1, 4, 0);
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
