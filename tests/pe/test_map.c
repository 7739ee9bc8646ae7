// test_map.c: MapPE(src_pe, user_fn) and WaveShapePE(src_pe, shaping_func), one kernel:
// out = fn(x) per sample, on the source's extent, channels and rate. fn is a pg_func (here C
// callbacks standing in for .pg functions).
// Expectations: the function applied in double to the source's samples, silence outside the
// extent even where user_fn(0) != 0, errors from the function fail the render.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static pg_status square(void *env, const double *in, double *out, int64_t n, char *err,
                        size_t err_size) {
    (void)env;
    (void)err;
    (void)err_size;
    for (int64_t i = 0; i < n; i++)
        out[i] = in[i] * in[i];
    return PG_OK;
}

static pg_status plus_one(void *env, const double *in, double *out, int64_t n, char *err,
                          size_t err_size) {
    (void)env;
    (void)err;
    (void)err_size;
    for (int64_t i = 0; i < n; i++)
        out[i] = in[i] + 1.0;
    return PG_OK;
}

// Fails with a message, as a .pg function does ("file:line:col: what went wrong").
static pg_status refuses(void *env, const double *in, double *out, int64_t n, char *err,
                         size_t err_size) {
    (void)env;
    (void)in;
    (void)out;
    (void)n;
    if (err_size > 0)
        snprintf(err, err_size, "t.pg:3:14: float division by zero");
    return PG_ERR_ARG;
}

static pg_arg t_fn(const char *name,
                   pg_status (*call)(void *, const double *, double *, int64_t, char *, size_t),
                   uint64_t hash) {
    pg_arg a = { name, { .type = PG_V_FUNC, .u.func = { call, NULL, hash } } };
    return a;
}

// MapPE and WaveShapePE share one kernel: every test runs for both (their names and the
// function parameter's name differ).
static const char *kind = "MapPE", *fn_param = "user_fn";

static int map(pg_graph *g, int src,
               pg_status (*call)(void *, const double *, double *, int64_t, char *, size_t),
               uint64_t hash) {
    pg_arg a[] = { t_node(NULL, src), t_fn(NULL, call, hash) };
    return t_add(g, kind, a, 2);
}

static int sine(pg_graph *g, pg_frame s, pg_frame e) {
    pg_arg f[] = { t_num(NULL, 440.0) };
    pg_arg c[] = { t_node(NULL, t_add(g, "SinPE", f, 1)), t_ext(NULL, s, e) };
    return t_add(g, "CropPE", c, 2);
}

static void test_values(void) {
    pg_graph *g = t_graph(0);
    int src = sine(g, 0, 1000), sq = map(g, src, square, 1);
    float x[1200], y[1200];
    CHECK_STATUS(t_render(g, src, -100, 1100, 64, x), PG_OK);
    CHECK_STATUS(t_render(g, sq, -100, 1100, 64, y), PG_OK);
    int bad = 0;
    for (int i = 0; i < 1200; i++)
        bad += y[i] != (float)((double)x[i] * (double)x[i]);
    CHECK_EQ_I64(bad, 0);
    CHECK_EQ_I64(pg_graph_node_extent(g, sq).start, 0);
    CHECK_EQ_I64(pg_graph_node_extent(g, sq).end, 1000);
    // x + 1: 1 + x on the extent's first and last frames, silence just outside
    int p1 = map(g, src, plus_one, 2);
    CHECK_STATUS(t_render(g, p1, -1, 1001, 7, y), PG_OK);
    CHECK_NEAR(y[0], 0.0, 0);
    CHECK_NEAR(y[1], 1.0, 0); // sin(0) = 0
    CHECK_NEAR(y[1000], (float)(1.0 + (double)x[1099]), 0);
    CHECK_NEAR(y[1001], 0.0, 0);
    // an empty source, an indefinite one (IdentityPE: t + 1 at every frame)
    int empty = map(g, sine(g, 5, 5), plus_one, 2);
    CHECK(pg_extent_is_empty(pg_graph_node_extent(g, empty)));
    int id = map(g, t_add(g, "IdentityPE", NULL, 0), plus_one, 2);
    CHECK_EQ_I64(pg_graph_node_extent(g, id).start, PG_FRAME_MIN);
    CHECK_STATUS(t_render(g, id, -5, 5, 3, y), PG_OK);
    for (int i = 0; i < 10; i++)
        CHECK_NEAR(y[i], i - 5 + 1, 0);
    CHECK(t_block_invariant(g, sq, -10, 1010));
    pg_graph_free(g);
}

static void test_stereo(void) {
    pg_graph *g = t_graph(0);
    double d[] = { 1, 2, 3, -1, -2, -3 };
    pg_arg a[] = { t_arr(NULL, 2, 3, d) };
    int m = map(g, t_add(g, "ArrayPE", a, 1), square, 1);
    CHECK_EQ_I64(pg_graph_node_channels(g, m), 2);
    float out[6];
    CHECK_STATUS(t_render(g, m, 0, 3, 2, out), PG_OK);
    for (int i = 0; i < 6; i++)
        CHECK_NEAR(out[i], d[i] * d[i], 0);
    pg_graph_free(g);
}

static void test_errors(void) {
    pg_graph *g = t_graph(0);
    int src = sine(g, 0, 100);
    float out[100];
    int bad = map(g, src, refuses, 3);
    CHECK_STATUS(t_render(g, bad, 0, 100, 64, out), PG_ERR_ARG);
    // The render's error is the function's own message, behind the PE and the frames.
    pg_plan_opts po;
    pg_plan_opts_init(&po);
    po.cache_dir = "";
    pg_diag err;
    pg_plan *p = pg_plan_new(g, bad, &po, &err);
    CHECK(p != NULL);
    if (p) {
        CHECK_STATUS(pg_render_all(p, out, &err), PG_ERR_ARG);
        char want[80];
        snprintf(want, sizeof want, "%s: %s failed on frames [0, ", kind, fn_param);
        CHECK(strstr(err.message, want) != NULL);
        CHECK(strstr(err.message, "): t.pg:3:14: float division by zero") != NULL);
    }
    pg_plan_free(p);
    pg_arg num[] = { t_node(NULL, src), t_num(NULL, 2.0) };
    CHECK_STATUS(t_add_status(g, kind, num, 2), PG_ERR_ARG);
    pg_arg none[] = { t_node(NULL, src), t_fn(NULL, NULL, 0) };
    CHECK_STATUS(t_add_status(g, kind, none, 2), PG_ERR_ARG);
    pg_arg missing[] = { t_node(NULL, src) };
    CHECK_STATUS(t_add_status(g, kind, missing, 1), PG_ERR_ARG);
    pg_arg nosrc[] = { t_fn(fn_param, square, 1) };
    CHECK_STATUS(t_add_status(g, kind, nosrc, 1), PG_ERR_ARG);
    pg_graph_free(g);
}

// pygmu's waveshape_example: tanh(20 x) / 20.
static pg_status distortion(void *env, const double *in, double *out, int64_t n, char *err,
                            size_t err_size) {
    (void)env;
    (void)err;
    (void)err_size;
    for (int64_t i = 0; i < n; i++)
        out[i] = tanh(in[i] * 20) / 20;
    return PG_OK;
}

// QUIRK Q57: over a 3-frame source pygmu answers R = [-2, 3) with 3 unpositioned frames; the
// window here is 5 frames with the source's frames in place.
static void test_q57(void) {
    pg_graph *g = t_graph(0);
    double d[] = { 0.01, -0.02, 0.5 };
    pg_arg a[] = { t_arr(NULL, 1, 3, d) };
    int w = map(g, t_add(g, "ArrayPE", a, 1), distortion, 4);
    float out[5];
    CHECK_STATUS(t_render(g, w, -2, 3, 5, out), PG_OK);
    CHECK_NEAR(out[0], 0.0, 0);
    CHECK_NEAR(out[1], 0.0, 0);
    for (int i = 0; i < 3; i++)
        CHECK_NEAR(out[2 + i], tanh((double)(float)d[i] * 20) / 20, 1e-8);
    CHECK_EQ_I64(pg_kind_find_method("waveshape"), pg_kind_find("WaveShapePE"));
    pg_graph_free(g);
}

int main(void) {
    for (int k = 0; k < 2; k++) {
        kind = k == 0 ? "MapPE" : "WaveShapePE";
        fn_param = k == 0 ? "user_fn" : "shaping_func";
        test_values();
        test_stereo();
        test_errors();
    }
    kind = "WaveShapePE";
    test_q57();
    return check_done();
}
