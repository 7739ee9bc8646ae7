// test_spread.c: SpreadPE(src_pe, channel_count=2). pygmu's test_spread_pe.py on
// RampPE(0, 5, [0, 5)): channel counts 1, 2, 3 and the default 2, each row [0,1,2,3,4]; the
// extent is the source's; a stereo source is a channel count error; the frame rate (1234) is
// inherited. channel_count must be >= 1.
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

static void test_values(void) {
    pg_graph *g = t_graph(0);
    int r = ADD(g, "RampPE", t_num(NULL, 0), t_num(NULL, 5), t_ext(NULL, 0, 5), t_int(NULL, 1234));
    int counts[4] = { 1, 2, 3, 2 };
    float out[15];
    for (int k = 0; k < 4; k++) {
        int s = k < 3 ? ADD(g, "SpreadPE", t_node(NULL, r), t_int("channel_count", counts[k]))
                      : ADD(g, "SpreadPE", t_node(NULL, r));
        CHECK_EQ_I64(pg_graph_node_channels(g, s), counts[k]);
        CHECK(extent_is(pg_graph_node_extent(g, s), 0, 5));
        CHECK_EQ_I64(pg_graph_node_frame_rate(g, s), 1234);
        render(g, s, 0, 5, out);
        for (int c = 0; c < counts[k]; c++)
            CHECK_FRAMES(out + 5 * c, ((double[]){ 0, 1, 2, 3, 4 }), 5, 0);
    }
    int noise = t_add(g, "NoisePE", NULL, 0);
    int s8 = ADD(g, "SpreadPE", t_node(NULL, noise), t_int(NULL, 8));
    CHECK(t_block_invariant(g, s8, -500, 4500));
    check_fused_matches(g, s8, -500, 4500, 0);
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    int r = ADD(g, "RampPE", t_num(NULL, 0), t_num(NULL, 5), t_ext(NULL, 0, 5));
    CHECK_STATUS(STATUS(g, "SpreadPE", t_node(NULL, r), t_int(NULL, 0)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "SpreadPE", t_node(NULL, r), t_int(NULL, -2)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "SpreadPE", t_node(NULL, r), t_num(NULL, 2.5)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "SpreadPE", t_node(NULL, r), t_int(NULL, 1 << 20)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "SpreadPE", t_num(NULL, 1)), PG_ERR_ARG);
    CHECK_EQ_I64(pg_graph_node_count(g), 1);
    int s2 = ADD(g, "SpreadPE", t_node(NULL, r));
    CHECK_STATUS(STATUS(g, "SpreadPE", t_node(NULL, s2)), PG_ERR_CHANNELS);
    CHECK(strstr(pg_graph_diag(g, 0)->message, "SpreadPE src_pe has 2 channels, expected 1"));
    pg_graph_free(g);
}

int main(void) {
    test_values();
    test_bad_args();
    return check_done();
}
