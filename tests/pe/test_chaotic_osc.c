// test_chaotic_osc.c: ChaoticOscPE, a Lorenz attractor by forward Euler (dt = 1/fr), output
// x * scale after each step. Expectations: pygmu's verified first outputs (catalogue), and the
// recurrence itself computed here in double; the origin rule for stateful generators.
#include <math.h>
#include <stdlib.h>

#include "check.h"

// The first n outputs of the recurrence (pygmu's loop, term for term).
static void lorenz(double rho, double sigma, double beta, double scale, double fr, int n,
                   float *out) {
    double x = 0.1, y = 0.0, z = 0.0, dt = 1.0 / fr;
    for (int i = 0; i < n; i++) {
        double dx = sigma * (y - x) * dt, dy = (x * (rho - z) - y) * dt,
               dz = (x * y - beta * z) * dt;
        x += dx;
        y += dy;
        z += dz;
        out[i] = (float)(x * scale);
    }
}

static int count_diff(const float *a, const float *b, int n) {
    int bad = 0;
    for (int i = 0; i < n; i++)
        bad += a[i] != b[i];
    return bad;
}

static void test_defaults(void) {
    pg_graph *g = t_graph(0);
    int osc = t_add(g, "ChaoticOscPE", NULL, 0);
    CHECK_EQ_I64(pg_graph_node_channels(g, osc), 1);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, osc), 48000);
    CHECK_EQ_I64(pg_graph_node_extent(g, osc).start, PG_FRAME_MIN);
    CHECK_EQ_I64(pg_graph_node_extent(g, osc).end, PG_FRAME_MAX);
    float out[3];
    CHECK_STATUS(t_render(g, osc, 0, 3, 64, out), PG_OK);
    // pygmu (catalogue, verified): 0.00999792, 0.00999583, 0.00999375
    // (printed to 8 decimals, so within 1e-8)
    CHECK_NEAR(out[0], 0.00999792, 1e-8);
    CHECK_NEAR(out[1], 0.00999583, 1e-8);
    CHECK_NEAR(out[2], 0.00999375, 1e-8);
    pg_graph_free(g);
}

// 20000 frames (0.4 s: the attractor has left the start) equal the recurrence exactly.
static void test_recurrence(void) {
    enum {
        N = 20000
    };
    float *got = malloc(N * sizeof *got), *want = malloc(N * sizeof *want);
    pg_graph *g = t_graph(0);
    int osc = t_add(g, "ChaoticOscPE", NULL, 0);
    CHECK_STATUS(t_render(g, osc, 0, N, 4096, got), PG_OK);
    lorenz(28.0, 10.0, 8.0 / 3.0, 0.1, 48000.0, N, want);
    CHECK_EQ_I64(count_diff(got, want, N), 0);
    CHECK(t_block_invariant(g, osc, 0, N));
    // other parameters, keyword and positional, at frame rate 1000
    pg_arg a[] = { t_num(NULL, 20.0), t_num(NULL, 9.0), t_num("beta", 2.0), t_num("scale", 2.0),
                   t_int("frame_rate", 1000) };
    int o2 = t_add(g, "ChaoticOscPE", a, 5);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, o2), 1000);
    CHECK_STATUS(t_render(g, o2, 0, N, 7, got), PG_OK);
    lorenz(20.0, 9.0, 2.0, 2.0, 1000.0, N, want);
    CHECK_EQ_I64(count_diff(got, want, N), 0);
    CHECK(fabs((double)got[N - 1]) > 1e-3); // it is moving, not decayed to 0
    pg_graph_free(g);
    free(got);
    free(want);
}

// Stateful with an indefinite start: the origin is the first frame the render needs, so
// the first step lands there (design.md's time model). Cropped, the origin is the crop's.
static void test_origin_and_extents(void) {
    pg_graph *g = t_graph(0);
    int osc = t_add(g, "ChaoticOscPE", NULL, 0);
    float want[10], out[100];
    lorenz(28.0, 10.0, 8.0 / 3.0, 0.1, 48000.0, 10, want);
    CHECK_STATUS(t_render(g, osc, 500, 510, 3, out), PG_OK);
    CHECK_EQ_I64(count_diff(out, want, 10), 0);
    pg_arg c[] = { t_node(NULL, osc), t_ext(NULL, 50, 60) };
    int crop = t_add(g, "CropPE", c, 2);
    CHECK_STATUS(t_render(g, crop, 0, 100, 16, out), PG_OK);
    CHECK_NEAR(out[49], 0.0, 0);
    CHECK_EQ_I64(count_diff(out + 50, want, 10), 0); // first frame of the extent: step 1
    CHECK_NEAR(out[59], want[9], 0);                 // last frame of the extent: step 10
    CHECK_NEAR(out[60], 0.0, 0);
    // an empty crop: nothing to render
    pg_arg e[] = { t_node(NULL, osc), t_ext(NULL, 70, 70) };
    int empty = t_add(g, "CropPE", e, 2);
    CHECK(pg_extent_is_empty(pg_graph_node_extent(g, empty)));
    CHECK_STATUS(t_render(g, empty, 0, 10, 4, out), PG_OK);
    CHECK_NEAR(out[0] + out[9], 0.0, 0);
    // stereo: spread to two channels, both the same signal
    pg_arg s[] = { t_node(NULL, osc), t_int(NULL, 2) };
    int st = t_add(g, "SpreadPE", s, 2);
    CHECK_STATUS(t_render(g, st, 0, 10, 4, out), PG_OK);
    CHECK_EQ_I64(count_diff(out, want, 10) + count_diff(out + 10, want, 10), 0);
    CHECK(t_block_invariant(g, st, 0, 3000));
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    pg_arg inf[] = { t_num("rho", INFINITY) };
    CHECK_STATUS(t_add_status(g, "ChaoticOscPE", inf, 1), PG_ERR_ARG);
    pg_arg nan_x[] = { t_num("x0", NAN) };
    CHECK_STATUS(t_add_status(g, "ChaoticOscPE", nan_x, 1), PG_ERR_ARG);
    pg_arg fr0[] = { t_int("frame_rate", 0) };
    CHECK_STATUS(t_add_status(g, "ChaoticOscPE", fr0, 1), PG_ERR_ARG);
    pg_arg str[] = { t_str("sigma", "ten") };
    CHECK_STATUS(t_add_status(g, "ChaoticOscPE", str, 1), PG_ERR_ARG);
    pg_arg kw[] = { t_num("gamma", 1.0) };
    CHECK_STATUS(t_add_status(g, "ChaoticOscPE", kw, 1), PG_ERR_ARG);
    pg_arg many[9];
    for (int i = 0; i < 9; i++)
        many[i] = t_num(NULL, 1.0);
    CHECK_STATUS(t_add_status(g, "ChaoticOscPE", many, 9), PG_ERR_ARG);
    pg_graph_free(g);
}

int main(void) {
    test_defaults();
    test_recurrence();
    test_origin_and_extents();
    test_bad_args();
    return check_done();
}
