// test_identity.c: IdentityPE(frame_rate=None). pygmu's test_identity_pe.py: [0, 5) renders
// [0, 1, 2, 3, 4], indefinite extent, mono, frame rate from the keyword. out(t) = t exactly
// up to 2^24; above, float32 rounds to nearest-even (the documented precision limit).
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
    int a = ADD(g, "IdentityPE", t_int("frame_rate", 1234));
    int b = t_add(g, "IdentityPE", NULL, 0);
    CHECK(extent_is(pg_graph_node_extent(g, a), PG_FRAME_MIN, PG_FRAME_MAX));
    CHECK_EQ_I64(pg_graph_node_channels(g, a), 1);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, a), 1234);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, b), 48000);
    pg_graph_free(g);
}

static void test_values(void) {
    pg_graph *g = t_graph(0);
    int id = t_add(g, "IdentityPE", NULL, 0);
    float out[5];
    render(g, id, 0, 5, out);
    CHECK_FRAMES(out, ((double[]){ 0, 1, 2, 3, 4 }), 5, 0);
    render(g, id, -3, 5, out);
    CHECK_FRAMES(out, ((double[]){ -3, -2, -1, 0, 1 }), 5, 0);
    // 2^24 - 2 .. 2^24 + 2 are exact on this side, then rounding to even: 2^24 + 1 -> 2^24,
    // 2^24 + 3 -> 2^24 + 4 (the spacing of float32 above 2^24 is 2).
    render(g, id, 16777214, 5, out);
    CHECK_FRAMES(out, ((double[]){ 16777214, 16777215, 16777216, 16777216, 16777218 }), 5, 0);
    render(g, id, 16777219, 2, out);
    CHECK_FRAMES(out, ((double[]){ 16777220, 16777220 }), 2, 0);
    CHECK(t_block_invariant(g, id, -5000, 5000));
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    CHECK_STATUS(STATUS(g, "IdentityPE", t_int("frame_rate", -1)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "IdentityPE", t_str("frame_rate", "fast")), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "IdentityPE", t_int("gain", 2)), PG_ERR_ARG);
    CHECK_EQ_I64(pg_graph_node_count(g), 0);
    pg_graph_free(g);
}

int main(void) {
    test_shape();
    test_values();
    test_bad_args();
    return check_done();
}
