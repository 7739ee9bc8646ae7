// test_abs.c: AbsPE(src). pygmu's test_abs_pe.py on ArrayPE([[-2,0,2],[-1,1,3]]): the windows
// table below; extent, frame rate and channel count are the source's.
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

static void test_pygmu(void) {
    static const struct {
        pg_frame s;
        double left[5], right[5];
    } rows[] = {
        { -5, { 0, 0, 0, 0, 0 }, { 0, 0, 0, 0, 0 } }, { -3, { 0, 0, 0, 2, 0 }, { 0, 0, 0, 1, 1 } },
        { -1, { 0, 2, 0, 2, 0 }, { 0, 1, 1, 3, 0 } }, { 1, { 0, 2, 0, 0, 0 }, { 1, 3, 0, 0, 0 } },
        { 3, { 0, 0, 0, 0, 0 }, { 0, 0, 0, 0, 0 } },
    };
    pg_graph *g = t_graph(0);
    int src = ADD(g, "ArrayPE", t_arr(NULL, 2, 3, (double[]){ -2, 0, 2, -1, 1, 3 }),
                  t_int("frame_rate", 1234));
    int a = ADD(g, "AbsPE", t_node(NULL, src));
    CHECK(extent_is(pg_graph_node_extent(g, a), 0, 3));
    CHECK_EQ_I64(pg_graph_node_channels(g, a), 2);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, a), 1234);
    float out[10];
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        render(g, a, rows[r].s, 5, out);
        CHECK_FRAMES(out, rows[r].left, 5, 0);
        CHECK_FRAMES(out + 5, rows[r].right, 5, 0);
    }
    pg_graph_free(g);
}

// A mono, indefinite source: |sin| at fr/4 is [0, 1, 0, 1, 0]; IdentityPE gives |t|.
static void test_mono(void) {
    pg_graph *g = t_graph(0);
    int s = ADD(g, "SinPE", t_num(NULL, 12000));
    int a = ADD(g, "AbsPE", t_node("src", s));
    CHECK(extent_is(pg_graph_node_extent(g, a), PG_FRAME_MIN, PG_FRAME_MAX));
    CHECK_EQ_I64(pg_graph_node_channels(g, a), 1);
    float out[5];
    render(g, a, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 1, 0, 1, 0 }), 5, 1.5e-6);
    int id = t_add(g, "IdentityPE", NULL, 0);
    int ai = ADD(g, "AbsPE", t_node(NULL, id));
    render(g, ai, -2, 5, out);
    CHECK_FRAMES(out, ((double[]){ 2, 1, 0, 1, 2 }), 5, 0);
    CHECK(t_block_invariant(g, ai, -5000, 5000));
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    CHECK_STATUS(add_status(g, "AbsPE", NULL, 0), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "AbsPE", t_num(NULL, -3)), PG_ERR_ARG);
    CHECK_EQ_I64(pg_graph_node_count(g), 0);
    pg_graph_free(g);
}

int main(void) {
    test_pygmu();
    test_mono();
    test_bad_args();
    return check_done();
}
