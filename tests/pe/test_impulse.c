// test_impulse.c: ImpulsePE(frame_rate=None). pygmu's test_impulse_pe.py: [-5, 0) zeros,
// [0, 5) = [1, 0, 0, 0, 0], [5, 10) zeros; ImpulsePE(1) sets frame rate 1 positionally; the
// extent stays indefinite as in pygmu (pieces rely on it).
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

static void test_shape(void) {
    pg_graph *g = t_graph(0);
    int a = ADD(g, "ImpulsePE", t_int(NULL, 1));
    int b = ADD(g, "ImpulsePE", t_int("frame_rate", 1234));
    int c = t_add(g, "ImpulsePE", NULL, 0);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, a), 1);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, b), 1234);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, c), 48000);
    CHECK(extent_is(pg_graph_node_extent(g, c), PG_FRAME_MIN, PG_FRAME_MAX));
    CHECK_EQ_I64(pg_graph_node_channels(g, c), 1);
    pg_graph_free(g);
}

static void test_values(void) {
    pg_graph *g = t_graph(0);
    int imp = t_add(g, "ImpulsePE", NULL, 0);
    float out[5];
    render(g, imp, -5, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, 0, 0, 0 }), 5, 0);
    render(g, imp, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 1, 0, 0, 0, 0 }), 5, 0);
    render(g, imp, 5, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, 0, 0, 0 }), 5, 0);
    render(g, imp, -2, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 0, 1, 0, 0 }), 5, 0);
    render(g, imp, -4, 5, out); // frame 0 is the last of the window
    CHECK_FRAMES(out, ((double[]){ 0, 0, 0, 0, 1 }), 5, 0);
    CHECK(t_block_invariant(g, imp, -4097, 4100));
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    CHECK_STATUS(STATUS(g, "ImpulsePE", t_int(NULL, 0)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "ImpulsePE", t_int(NULL, 1), t_int(NULL, 2)), PG_ERR_ARG);
    CHECK_EQ_I64(pg_graph_node_count(g), 0);
    pg_graph_free(g);
}

int main(void) {
    test_shape();
    test_values();
    test_bad_args();
    return check_done();
}
