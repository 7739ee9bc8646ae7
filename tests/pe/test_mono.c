// test_mono.c: MonoPE(src_pe, attenuation=1.0). pygmu's test_mono_pe.py on IdentityPE over
// [0, 5): mono -> [0,1,2,3,4], spread(2) -> [0,2,4,6,8] (a sum, not a mean), spread(2) with
// attenuation .5 -> [0,1,2,3,4]; extent and frame rate pass through; 1 channel. QUIRK Q38
// fixed: a mono source is attenuated too ([0,.5,1,1.5,2]) and 3 channels are summed
// (spread(3) -> [0,3,6,9,12]). float32: (x0 + x1) * (float)attenuation.
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

static void test_pygmu(void) {
    pg_graph *g = t_graph(0);
    int id = t_add(g, "IdentityPE", NULL, 0);
    int s2 = ADD(g, "SpreadPE", t_node(NULL, id), t_int(NULL, 2));
    int m1 = ADD(g, "MonoPE", t_node(NULL, id));
    int m2 = ADD(g, "MonoPE", t_node(NULL, s2));
    int m2h = ADD(g, "MonoPE", t_node(NULL, s2), t_num("attenuation", 0.5));
    float out[5];
    render(g, m1, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 1, 2, 3, 4 }), 5, 0);
    render(g, m2, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 2, 4, 6, 8 }), 5, 0);
    render(g, m2h, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 1, 2, 3, 4 }), 5, 0);
    CHECK_EQ_I64(pg_graph_node_channels(g, m2), 1);
    CHECK(extent_is(pg_graph_node_extent(g, m2), PG_FRAME_MIN, PG_FRAME_MAX));
    int c = ADD(g, "CropPE", t_node(NULL, s2), t_ext(NULL, 2, 4));
    int mc = ADD(g, "MonoPE", t_node(NULL, c));
    CHECK(extent_is(pg_graph_node_extent(g, mc), 2, 4));
    render(g, mc, 0, 5, out);
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
    render(g, mh, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, .5, 1, 1.5, 2 }), 5, 0);
    render(g, m3, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 3, 6, 9, 12 }), 5, 0);
    // the kernel's float32 rounding order (-O0): (0.1f + 0.2f) * 0.3f, as pygmu
    int st = ADD(g, "ArrayPE", t_arr(NULL, 2, 1, (double[]){ 0.1, 0.2 }));
    int ms = ADD(g, "MonoPE", t_node(NULL, st), t_num(NULL, 0.3));
    CHECK_STATUS(render_opt(g, ms, 0, 1, 0, out), PG_OK);
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
    check_fused_matches(g, mw, -10, N + 10, 2e-7);
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
