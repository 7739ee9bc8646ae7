// test_graph.c: building graphs through the public API: argument binding (positional,
// keyword, defaults, types, ranges, errors with the right status and message), shape
// inference (channel and rate mismatches recorded with the call's location, the node still
// added), nominal extents, hash-consing in the planner, and file inputs hashed by content.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "plan.h"

static pg_status add_err(pg_graph *g, const char *kind, const pg_arg *args, int n, char *msg) {
    pg_diag err;
    pg_srcloc loc = { 1, 7, 3 };
    if (pg_graph_add(g, kind, args, n, loc, &err) >= 0)
        return PG_OK;
    snprintf(msg, 512, "%s", err.message);
    return err.status;
}

static void test_binding(void) {
    pg_graph *g = t_graph(48000);
    char msg[512] = "";
    // positional and keyword, defaults applied: SinPE(880, amplitude=0.5)
    pg_arg a[] = { t_num(NULL, 880.0), t_num("amplitude", 0.5) };
    int sin = t_add(g, "SinPE", a, 2);
    CHECK(sin >= 0);
    CHECK_EQ_I64(pg_graph_node_channels(g, sin), 1);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, sin), 48000); // the graph's default rate
    CHECK(!pg_extent_is_finite(pg_graph_node_extent(g, sin)));
    // errors: unknown kind, unknown keyword (with a suggestion), duplicate, missing, too many
    CHECK_STATUS(add_err(g, "SinPe", a, 2, msg), PG_ERR_NAME);
    pg_arg bad_kw[] = { t_num("freq", 1.0) };
    CHECK_STATUS(add_err(g, "SinPE", bad_kw, 1, msg), PG_ERR_ARG);
    CHECK(strstr(msg, "unexpected keyword argument 'freq'") != NULL);
    CHECK(strstr(msg, "did you mean 'frequency'") != NULL);
    pg_arg dup[] = { t_num(NULL, 1.0), t_num("frequency", 2.0) };
    CHECK_STATUS(add_err(g, "SinPE", dup, 2, msg), PG_ERR_ARG);
    CHECK(strstr(msg, "multiple values for argument 'frequency'") != NULL);
    CHECK_STATUS(add_err(g, "CropPE", NULL, 0, msg), PG_ERR_ARG);
    CHECK(strstr(msg, "missing required argument 'src_pe'") != NULL);
    pg_arg many[] = { t_num(NULL, 1), t_num(NULL, 1), t_num(NULL, 1), t_num(NULL, 1),
                      t_num(NULL, 1) };
    CHECK_STATUS(add_err(g, "SinPE", many, 5, msg), PG_ERR_ARG);
    CHECK(strstr(msg, "at most 4 arguments (5 given)") != NULL);
    // types: a string where a number is due; a PE where a number is due; a float for an int
    pg_arg str_for_num[] = { t_str("frequency", "high") };
    CHECK_STATUS(add_err(g, "SinPE", str_for_num, 1, msg), PG_ERR_ARG);
    CHECK(strstr(msg, "SinPE frequency must be a number or a PE, got a string") != NULL);
    pg_arg frac_int[] = { t_node(NULL, sin), t_num(NULL, 2.5) };
    CHECK_STATUS(add_err(g, "SpreadPE", frac_int, 2, msg), PG_ERR_ARG);
    CHECK(strstr(msg, "whole number") != NULL);
    // an integral float is accepted for an int parameter
    pg_arg whole[] = { t_node(NULL, sin), t_num(NULL, 3.0) };
    int sp = t_add(g, "SpreadPE", whole, 2);
    CHECK_EQ_I64(pg_graph_node_channels(g, sp), 3);
    // a node id that does not exist
    pg_arg ghost[] = { t_node(NULL, 12345) };
    CHECK_STATUS(add_err(g, "MonoPE", ghost, 1, msg), PG_ERR_ARG);
    pg_graph_free(g);
}

// Shape errors are recorded with the call's location and the node is still added.
static void test_shape_errors(void) {
    pg_graph *g = t_graph(48000);
    int sin = t_add(g, "SinPE", NULL, 0);
    pg_arg s3[] = { t_node(NULL, sin), t_int(NULL, 3) };
    pg_arg s2[] = { t_node(NULL, sin), t_int(NULL, 2) };
    int three = t_add(g, "SpreadPE", s3, 2), two = t_add(g, "SpreadPE", s2, 2);
    pg_arg m[] = { t_node(NULL, two), t_node(NULL, three) };
    pg_diag err;
    pg_srcloc loc = { 1, 14, 9 };
    int mix = pg_graph_add(g, "MixPE", m, 2, loc, &err);
    CHECK(mix >= 0);
    CHECK_EQ_I64(pg_graph_diag_count(g), 1);
    const pg_diag *d = pg_graph_diag(g, 0);
    CHECK_STATUS(d->status, PG_ERR_CHANNELS);
    CHECK_EQ_I64(d->loc.line, 14);
    CHECK_EQ_I64(d->loc.col, 9);
    CHECK(strstr(d->message, "MixPE input 2 has 3 channels, input 1 has 2") != NULL);
    // a rate mismatch
    pg_arg r[] = { t_int("frame_rate", 44100) };
    int s44 = t_add(g, "SinPE", r, 1);
    pg_arg m2[] = { t_node(NULL, sin), t_node(NULL, s44) };
    CHECK(pg_graph_add(g, "MixPE", m2, 2, loc, &err) >= 0);
    CHECK_EQ_I64(pg_graph_diag_count(g), 2);
    CHECK_STATUS(pg_graph_diag(g, 1)->status, PG_ERR_RATE);
    // a graph with shape errors cannot be planned
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.has_start = o.has_end = true;
    o.end = 10;
    CHECK(pg_plan_new(g, mix, &o, &err) == NULL);
    CHECK_STATUS(err.status, PG_ERR_CHANNELS);
    pg_graph_free(g);
}

// Equal subgraphs merge in the plan; different arguments do not; -O0 merges nothing.
static void test_cse(void) {
    pg_graph *g = t_graph(48000);
    pg_arg m[6];
    for (int i = 0; i < 6; i++) {
        pg_arg s[] = { t_num("frequency", i < 4 ? 220.0 : 330.0) };
        int sin = t_add(g, "SinPE", s, 1);
        pg_arg c[] = { t_node(NULL, sin), t_ext(NULL, 0, 1000) };
        m[i] = t_node(NULL, t_add(g, "CropPE", c, 2));
    }
    int mix = t_add(g, "MixPE", m, 6);
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    pg_diag err;
    pg_plan *p = pg_plan_new(g, mix, &o, &err);
    // of the 12 sine and crop nodes, 4 remain (2 frequencies x {sine, crop}), with the mix 5
    CHECK(p != NULL);
    if (p) {
        CHECK_EQ_I64(pg_plan_node_count(p), 5);
        CHECK_EQ_I64(p->n_merged, 8);
    }
    pg_plan_free(p);
    o.opt_level = 0;
    p = pg_plan_new(g, mix, &o, &err);
    if (p)
        CHECK_EQ_I64(pg_plan_node_count(p), 13);
    pg_plan_free(p);
    pg_graph_free(g);
}

// The default plan of root, without a cache; NULL (a failed check) on error.
static pg_plan *plan_without_cache(pg_graph *g, int root) {
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.cache_dir = "";
    pg_diag err;
    pg_plan *p = pg_plan_new(g, root, &o, &err);
    CHECK(p != NULL);
    return p;
}

// Frames [0, 2400) of root, mono, are the bits of the unmerged -O0 plan (the same kernels
// over the same frames: exactly).
static void check_as_unmerged(pg_graph *g, int root) {
    float a[2400] = { 0 }, b[2400] = { 0 };
    CHECK_STATUS(t_render_opt(g, root, 0, 2400, 1, a), PG_OK);
    CHECK_STATUS(t_render_opt(g, root, 0, 2400, 0, b), PG_OK);
    CHECK(memcmp(a, b, sizeof a) == 0);
}

// A saw has no start: it starts where it is needed. Four equal saw -> low-pass chains, three
// cropped to [0, 1000) (needed there, then time-shifted apart) and one to [500, 1500): the
// three merge (saw, low-pass and crop: 6 nodes), the fourth starts elsewhere and stays; the
// bits are those of the unmerged -O0 plan (the same kernels over the same frames: exactly).
static void test_cse_by_need(void) {
    pg_graph *g = t_graph(48000);
    pg_arg m[4];
    for (int i = 0; i < 4; i++) {
        int saw = ADD(g, "BlitSawPE", t_num("frequency", 220.0));
        int lp = ADD(g, "BQ2LowPassPE", t_node(NULL, saw), t_num("f0", 900.0), t_num("q", 2.0));
        int crop =
            ADD(g, "CropPE", t_node(NULL, lp), t_ext(NULL, i < 3 ? 0 : 500, i < 3 ? 1000 : 1500));
        m[i] = t_node(NULL, ADD(g, "TimeShiftPE", t_node(NULL, crop), t_int(NULL, 300 * i)));
    }
    int mix = t_add(g, "MixPE", m, 4);
    pg_plan *p = plan_without_cache(g, mix);
    if (p) {
        CHECK_EQ_I64(p->n_merged, 6);
        CHECK_EQ_I64(pg_plan_node_count(p), 16 + 1 - 6);
    }
    pg_plan_free(p);
    check_as_unmerged(g, mix);
    pg_graph_free(g);
}

// The second merge moves nodes; a node merged by the first (here the 8 equal cropped sines,
// after the saws in order) must follow its representative, or its consumers read another
// node (this plan had a cycle, and the render waited for ever). Every input comes before
// its consumer, and the bits are those of the unmerged -O0 plan.
static void test_cse_by_need_twice(void) {
    pg_graph *g = t_graph(48000);
    pg_arg m[12];
    for (int i = 0; i < 4; i++) { // equal saws, merged once needs are known
        int saw = ADD(g, "BlitSawPE", t_num("frequency", 220.0));
        int crop = ADD(g, "CropPE", t_node(NULL, saw), t_ext(NULL, 0, 1000));
        m[i] = t_node(NULL, ADD(g, "TimeShiftPE", t_node(NULL, crop), t_int(NULL, 100 * i)));
    }
    for (int i = 0; i < 8; i++) { // equal finite sines, merged at once, shifted apart
        int sine = ADD(g, "SinPE", t_num("frequency", 330.0));
        int crop = ADD(g, "CropPE", t_node(NULL, sine), t_ext(NULL, 0, 700));
        int shift = ADD(g, "TimeShiftPE", t_node(NULL, crop), t_int(NULL, 150 * i));
        m[4 + i] = t_node(NULL, ADD(g, "GainPE", t_node(NULL, shift), t_num(NULL, 0.5)));
    }
    int mix = t_add(g, "MixPE", m, 12);
    pg_plan *p = plan_without_cache(g, mix);
    if (p) {
        CHECK_EQ_I64(p->n_merged, 14 + 6); // 7 sines and 7 crops; 3 saws, 3 crops
        for (int i = 0; i < p->n_nodes; i++)
            for (int s = 0; s < p->nodes[i].pn.n_inputs; s++)
                CHECK(p->nodes[i].inputs[s] < i);
    }
    pg_plan_free(p);
    check_as_unmerged(g, mix);
    pg_graph_free(g);
}

// Two readers of the same file merge; after the file's content changes, a reader made then
// is a different node (file inputs are hashed by content, not by name).
static void write_wav(const char *path, float value) {
    pg_graph *g = t_graph(48000);
    pg_arg c[] = { t_num(NULL, value) };
    int k = t_add(g, "ConstPE", c, 1);
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.has_start = o.has_end = true;
    o.end = 100;
    pg_diag err;
    pg_plan *p = pg_plan_new(g, k, &o, &err);
    pg_write_opts w = { .subtype = PG_SUBTYPE_FLOAT, .quiet = true };
    CHECK_STATUS(pg_render_to_file(p, path, &w, NULL, &err), PG_OK);
    pg_plan_free(p);
    pg_graph_free(g);
}

static void test_file_hash(void) {
    char dir[] = "/tmp/pygmuc-test-graph-XXXXXX";
    if (!mkdtemp(dir))
        return;
    char path[128];
    snprintf(path, sizeof path, "%s/a.wav", dir);
    write_wav(path, 0.25f);
    pg_graph *g = t_graph(48000);
    pg_arg f[] = { t_str(NULL, path) };
    int r1 = t_add(g, "WavReaderPE", f, 1), r2 = t_add(g, "WavReaderPE", f, 1);
    write_wav(path, 0.5f);
    int r3 = t_add(g, "WavReaderPE", f, 1);
    pg_arg m[] = { t_node(NULL, r1), t_node(NULL, r2), t_node(NULL, r3) };
    int mix = t_add(g, "MixPE", m, 3);
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    pg_diag err;
    pg_plan *p = pg_plan_new(g, mix, &o, &err);
    if (p) {
        CHECK_EQ_I64(pg_plan_node_count(p), 3); // r1 = r2, r3, the mix
        CHECK_EQ_I64(p->n_merged, 1);
    }
    pg_plan_free(p);
    pg_graph_free(g);
    unlink(path);
    rmdir(dir);
}

// Every kind is found by its own name, every method names the first kind that has it, and
// near misses (a prefix, another case, an empty name, NULL) name nothing.
static void test_kind_lookup(void) {
    int n = pg_kind_count();
    CHECK(n > 50);
    for (int i = 0; i < n; i++) {
        CHECK_EQ_I64(pg_kind_find(pg_kind_name(i)), i);
        const char *m = pg_kind_method(i);
        if (!m)
            continue;
        int first = 0;
        while (!pg_kind_method(first) || strcmp(pg_kind_method(first), m) != 0)
            first++;
        CHECK_EQ_I64(pg_kind_find_method(m), first);
    }
    CHECK_EQ_I64(pg_kind_find("Gain"), -1);
    CHECK_EQ_I64(pg_kind_find("gainpe"), -1);
    CHECK_EQ_I64(pg_kind_find("GainPEx"), -1);
    CHECK_EQ_I64(pg_kind_find(""), -1);
    CHECK_EQ_I64(pg_kind_find(NULL), -1);
    CHECK_EQ_I64(pg_kind_find_method("GainPE"), -1);
    CHECK_EQ_I64(pg_kind_find_method(""), -1);
    CHECK_EQ_I64(pg_kind_find_method(NULL), -1);
    CHECK(pg_kind_find_method("gain") == pg_kind_find("GainPE"));
}

int main(void) {
    test_kind_lookup();
    test_binding();
    test_shape_errors();
    test_cse();
    test_cse_by_need();
    test_cse_by_need_twice();
    test_file_hash();
    return check_done();
}
