// support.c: the test harness's counters and the helpers PE tests use to build a graph
// through the public API and render a node over a window at a chosen block size; and the
// executor's tests' piece of saw notes, plan-and-render loop and temporary folders.
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "plan.h"

int check_passed, check_failed;

void check_report(const char *file, int line, const char *expr, const char *detail) {
    check_failed++;
    fprintf(stderr, "%s:%d: FAILED: %s %s\n", file, line, expr, detail);
}

int check_done(void) {
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

pg_graph *t_graph(int frame_rate) {
    return pg_graph_new(frame_rate ? frame_rate : 48000);
}

int t_add(pg_graph *g, const char *kind, const pg_arg *args, int n) {
    pg_diag err;
    pg_srcloc none = { 0, 0, 0 };
    int id = pg_graph_add(g, kind, args, n, none, &err);
    if (id < 0)
        fprintf(stderr, "t_add(%s): %s: %s\n", kind, pg_status_str(err.status), err.message);
    return id;
}

pg_arg t_num(const char *name, double x) {
    pg_arg a = { name, { .type = PG_V_NUM, .u.num = x } };
    return a;
}

pg_arg t_int(const char *name, int64_t x) {
    pg_arg a = { name, { .type = PG_V_INT, .u.i = x } };
    return a;
}

pg_arg t_str(const char *name, const char *s) {
    pg_arg a = { name, { .type = PG_V_STR, .u.str = s } };
    return a;
}

pg_arg t_node(const char *name, int node) {
    pg_arg a = { name, { .type = PG_V_NODE, .u.node = node } };
    return a;
}

pg_arg t_ext(const char *name, pg_frame s, pg_frame e) {
    pg_arg a = { name, { .type = PG_V_EXTENT, .u.ext = { s, e } } };
    return a;
}

pg_arg t_arr(const char *name, int rows, int cols, const double *data) {
    pg_arg a = { name, { .type = PG_V_ARRAY, .u.array = { rows, cols, data } } };
    return a;
}

pg_status t_render(pg_graph *g, int node, pg_frame start, pg_frame end, int block, float *out) {
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.has_start = o.has_end = true;
    o.start = start;
    o.end = end;
    o.block_frames = block;
    o.threads = 1;
    o.cache_dir = "";
    pg_diag err;
    pg_plan *p = pg_plan_new(g, node, &o, &err);
    if (!p) {
        fprintf(stderr, "t_render: plan: %s: %s\n", pg_status_str(err.status), err.message);
        return err.status;
    }
    int ch = pg_plan_channels(p);
    int64_t n = end - start;
    float *inter = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1) * (size_t)ch);
    pg_status st = inter ? pg_render_all(p, inter, &err) : PG_ERR_NOMEM;
    if (st != PG_OK)
        fprintf(stderr, "t_render: %s: %s\n", pg_status_str(st), err.message);
    for (int64_t i = 0; st == PG_OK && i < n; i++)
        for (int c = 0; c < ch; c++)
            out[c * n + i] = inter[i * ch + c];
    free(inter);
    pg_plan_free(p);
    return st;
}

int t_block_invariant(pg_graph *g, int node, pg_frame start, pg_frame end) {
    static const int blocks[] = { 1, 7, 64, 4096 };
    int ch = pg_graph_node_channels(g, node);
    size_t n = (size_t)(end - start) * (size_t)ch;
    float *ref = calloc(n + 1, sizeof(float)), *got = calloc(n + 1, sizeof(float));
    int same = ref && got && t_render(g, node, start, end, blocks[0], ref) == PG_OK;
    for (int b = 1; same && b < 4; b++) {
        same = t_render(g, node, start, end, blocks[b], got) == PG_OK &&
               memcmp(ref, got, n * sizeof(float)) == 0;
        if (!same)
            fprintf(stderr, "t_block_invariant: block %d differs from block 1\n", blocks[b]);
    }
    free(ref);
    free(got);
    return same;
}

pg_status t_add_status(pg_graph *g, const char *kind, const pg_arg *args, int n) {
    pg_diag err;
    pg_srcloc none = { 0, 0, 0 };
    int before = pg_graph_diag_count(g);
    if (pg_graph_add(g, kind, args, n, none, &err) < 0)
        return err.status;
    return pg_graph_diag_count(g) > before ? pg_graph_diag(g, before)->status : PG_OK;
}

void t_check_frames(const char *file, int line, const float *out, const double *want, int n,
                    double tol) {
    for (int i = 0; i < n; i++) {
        if (fabs((double)out[i] - want[i]) > tol || isnan(out[i]) != isnan(want[i])) {
            char d[160];
            snprintf(d, sizeof d, "frame %d: got %.9g, want %.9g (tol %.3g)", i, (double)out[i],
                     want[i], tol);
            check_report(file, line, "frames", d);
            return;
        }
    }
    check_passed++;
}

bool t_extent_is(pg_extent e, pg_frame s, pg_frame end) {
    return e.start == s && e.end == end;
}

pg_status t_render_opt(pg_graph *g, int node, pg_frame s, int64_t n, int opt, float *out) {
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
    float *inter = malloc(sizeof(float) * (size_t)(n * ch + 1));
    pg_status st = inter ? pg_render_all(p, inter, &err) : PG_ERR_NOMEM;
    for (int64_t i = 0; st == PG_OK && i < n; i++)
        for (int c = 0; c < ch; c++)
            out[c * n + i] = inter[i * ch + c];
    free(inter);
    pg_plan_free(p);
    return st;
}

void t_check_fused(const char *file, int line, pg_graph *g, int node, pg_frame s, int64_t n,
                   double tol) {
    int ch = pg_graph_node_channels(g, node);
    float *a = malloc(sizeof(float) * (size_t)(n * ch + 1));
    float *b = malloc(sizeof(float) * (size_t)(n * ch + 1));
    pg_status sa = t_render_opt(g, node, s, n, 0, a), sb = t_render_opt(g, node, s, n, 1, b);
    double worst = 0;
    for (int64_t i = 0; sa == PG_OK && sb == PG_OK && i < n * ch; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        worst = d > worst ? d : worst;
    }
    char d[160];
    snprintf(d, sizeof d, "renders %s/%s, worst difference %.3g (tol %.3g)", pg_status_str(sa),
             pg_status_str(sb), worst, tol);
    if (sa == PG_OK && sb == PG_OK && worst <= tol)
        check_passed++;
    else
        check_report(file, line, "-O0 and fused renders agree", d);
    free(a);
    free(b);
}

int t_fused_count(pg_graph *g, int root, const char *kind, int *total) {
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.cache_dir = "";
    pg_diag err;
    pg_plan *p = pg_plan_new(g, root, &o, &err);
    int fused = p ? 0 : -1;
    *total = 0;
    for (int i = 0; p && i < p->n_nodes; i++)
        if (strcmp(p->nodes[i].pn.kind->name, kind) == 0) {
            (*total)++;
            fused += p->nodes[i].fused;
        }
    pg_plan_free(p);
    return fused;
}

int t_gain(pg_graph *g, int src, double k) {
    pg_arg a[] = { t_node(NULL, src), t_num(NULL, k) };
    return t_add(g, "GainPE", a, 2);
}

void t_fill_random(double *x, int64_t n, uint64_t seed) {
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        x[i] = (double)(seed >> 11) * 0x1p-52 - 1.0;
    }
}

float *t_render_new_at(const char *file, int line, pg_graph *g, int node, pg_frame s, int64_t n) {
    int ch = pg_graph_node_channels(g, node);
    float *out = calloc((size_t)(n * ch + 1), sizeof(float));
    pg_status st = out ? t_render(g, node, s, s + n, 4096, out) : PG_ERR_NOMEM;
    if (st == PG_OK)
        check_passed++;
    else
        check_report(file, line, "render", pg_status_str(st));
    return out;
}

int t_saw_notes_but(pg_graph *g, int n, pg_frame step, pg_frame len, int odd, int missing) {
    pg_arg *m = malloc(sizeof *m * (size_t)n);
    int count = 0;
    for (int i = 0; m && i < n; i++) {
        if (i == missing)
            continue;
        int saw =
            ADD(g, "BlitSawPE", t_num("frequency", i == odd ? 333.0 : 110.0 + 5.0 * (i % 40)));
        int note = ADD(g, "CropPE", t_node(NULL, saw), t_ext(NULL, i * step, i * step + len));
        m[count++] = t_node(NULL, ADD(g, "GainPE", t_node(NULL, note), t_num(NULL, 0.05)));
    }
    int mix = m ? t_add(g, "MixPE", m, count) : -1;
    free(m);
    return mix;
}

int t_saw_notes(pg_graph *g, int n, pg_frame step, pg_frame len, int odd) {
    return t_saw_notes_but(g, n, step, len, odd, -1);
}

pg_status t_render_plan(pg_graph *g, int root, const pg_plan_opts *o, int64_t request, float *out,
                        pg_render_stats *stats, int *nodes) {
    pg_diag err;
    pg_plan *p = pg_plan_new(g, root, o, &err);
    if (!p)
        return err.status;
    if (nodes)
        *nodes = pg_plan_node_count(p);
    pg_render *r = pg_render_new(p, &err);
    pg_status st = r ? PG_OK : err.status;
    int64_t got = 0, k = 0;
    while (r && (k = pg_render_next(r, out + got * pg_plan_channels(p), request)) > 0)
        got += k;
    if (r && k < 0)
        st = pg_render_error(r)->status;
    if (r)
        pg_render_get_stats(r, stats);
    pg_render_free(r);
    pg_plan_free(p);
    return st;
}

bool t_temp_dir(char *dir, size_t size, const char *name) {
    snprintf(dir, size, "/tmp/pygmuc-test-%s-XXXXXX", name);
    if (mkdtemp(dir))
        return true;
    perror("mkdtemp");
    return false;
}

bool t_copy_folder(const char *dir, const char *from, const char *to) {
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/%s' && cp -r '%s/%s' '%s/%s'", dir, to, dir, from, dir,
             to);
    return system(cmd) == 0;
}

bool t_render_twice(pg_graph *g, int root, int64_t frames, const char *name, pg_render_stats *cold,
                    pg_render_stats *warm) {
    char dir[256];
    if (!t_temp_dir(dir, sizeof dir, name))
        return false;
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.cache_dir = dir;
    o.no_output_cache = true;
    size_t bytes = sizeof(float) * (size_t)(frames * pg_graph_node_channels(g, root) + 1);
    float *a = calloc(1, bytes), *b = calloc(1, bytes);
    bool ok = a && b && t_render_plan(g, root, &o, 1000, a, cold, NULL) == PG_OK &&
              t_render_plan(g, root, &o, 1000, b, warm, NULL) == PG_OK && memcmp(a, b, bytes) == 0;
    free(a);
    free(b);
    t_remove_dir(dir);
    return ok;
}

int t_flip_byte(const char *folder, long size, long offset) {
    char path[600];
    DIR *d = opendir(folder);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        snprintf(path, sizeof path, "%s/%s", folder, e->d_name);
        struct stat st;
        FILE *f = stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == size
                      ? fopen(path, "r+b")
                      : NULL;
        if (!f)
            continue;
        fseek(f, offset, SEEK_SET);
        int c = fgetc(f);
        fseek(f, offset, SEEK_SET);
        fputc(c ^ 0x40, f);
        fclose(f);
        n++;
    }
    if (d)
        closedir(d);
    return n;
}

void t_remove_dir(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}
