// check.h: the test harness. CHECK* macros print file:line, the expression as written and
// both values on failure, and the test goes on; check_done() prints "N passed, N failed"
// and returns the exit status.
#ifndef PG_TESTS_CHECK_H
#define PG_TESTS_CHECK_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pygmu.h"

extern int check_passed, check_failed;

void check_report(const char *file, int line, const char *expr, const char *detail);
int check_done(void);

#define CHECK(cond) ((cond) ? (void)check_passed++ : check_report(__FILE__, __LINE__, #cond, ""))

#define CHECK_EQ_I64(a, b)                                                                         \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        char d_[96];                                                                               \
        snprintf(d_, sizeof d_, "%lld != %lld", a_, b_);                                           \
        (a_ == b_) ? (void)check_passed++ : check_report(__FILE__, __LINE__, #a " == " #b, d_);    \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double a_ = (double)(a), b_ = (double)(b);                                                 \
        char d_[128];                                                                              \
        snprintf(d_, sizeof d_, "%.9g vs %.9g (tol %.3g)", a_, b_, (double)(tol));                 \
        (fabs(a_ - b_) <= (tol)) ? (void)check_passed++                                            \
                                 : check_report(__FILE__, __LINE__, #a " ~ " #b, d_);              \
    } while (0)

#define CHECK_STATUS(expr, st)                                                                     \
    do {                                                                                           \
        int s_ = (int)(expr);                                                                      \
        char d_[128];                                                                              \
        snprintf(d_, sizeof d_, "got %d (%s), want %d (%s)", s_, pg_status_str((pg_status)s_),     \
                 (int)(st), pg_status_str(st));                                                    \
        (s_ == (int)(st)) ? (void)check_passed++                                                   \
                          : check_report(__FILE__, __LINE__, #expr " -> " #st, d_);                \
    } while (0)

// ---- helpers for PE tests (tests/support.c) ----

// A graph with default frame rate 48000 unless the test sets another.
pg_graph *t_graph(int frame_rate);
// Adds a node from "k=v"-free positional and named args; aborts the test on a binding
// error (printing it) and returns -1.
int t_add(pg_graph *g, const char *kind, const pg_arg *args, int n);
// Argument constructors.
pg_arg t_num(const char *name, double x);
pg_arg t_int(const char *name, int64_t x);
pg_arg t_str(const char *name, const char *s);
pg_arg t_node(const char *name, int node);
pg_arg t_ext(const char *name, pg_frame s, pg_frame e);
pg_arg t_arr(const char *name, int rows, int cols, const double *data);
// Renders node over [start, end) with the given block size into out (channels * n floats,
// planar: channel c at out + c * n). Returns the status.
pg_status t_render(pg_graph *g, int node, pg_frame start, pg_frame end, int block, float *out);
// Renders at block sizes 1, 7, 64 and 4096 and checks the results are bit-identical.
// Returns 1 when they are.
int t_block_invariant(pg_graph *g, int node, pg_frame start, pg_frame end);

// ADD(g, "SinPE", t_num(NULL, 440), ...) adds a node (t_add prints a binding error);
// STATUS(...) gives the status of adding it instead: PG_OK, a binding error's status (no node
// added), or the status of the shape error the graph recorded for the new node.
#define ARGS(...)         ((pg_arg[]){ __VA_ARGS__ })
#define NARGS(...)        ((int)(sizeof(ARGS(__VA_ARGS__)) / sizeof(pg_arg)))
#define ADD(g, k, ...)    t_add(g, k, ARGS(__VA_ARGS__), NARGS(__VA_ARGS__))
#define STATUS(g, k, ...) t_add_status(g, k, ARGS(__VA_ARGS__), NARGS(__VA_ARGS__))
pg_status t_add_status(pg_graph *g, const char *kind, const pg_arg *args, int n);

// Checks out[i] against want[i] for i < n, reporting the first differing frame.
#define CHECK_FRAMES(out, want, n, tol) t_check_frames(__FILE__, __LINE__, out, want, n, tol)
void t_check_frames(const char *file, int line, const float *out, const double *want, int n,
                    double tol);

// Renders node over [s, s + n) (block 64) into out (planar) and checks it succeeded.
#define RENDER(g, node, s, n, out) CHECK_STATUS(t_render(g, node, s, (s) + (n), 64, out), PG_OK)

bool t_extent_is(pg_extent e, pg_frame s, pg_frame end);

// Renders node over [s, s + n) at optimisation level opt (0: every kernel's own process; 1:
// linear trees fused) into out, planar.
pg_status t_render_opt(pg_graph *g, int node, pg_frame s, int64_t n, int opt, float *out);

// The fused plan (-O1) agrees with the kernels (-O0) within tol (design.md's invariant 4).
#define CHECK_FUSED(g, node, s, n, tol) t_check_fused(__FILE__, __LINE__, g, node, s, n, tol)
void t_check_fused(const char *file, int line, pg_graph *g, int node, pg_frame s, int64_t n,
                   double tol);

// Of the nodes of kind `kind` in root's -O1 plan (no cache), how many are fused; *total:
// how many there are (-1 when it does not plan).
int t_fused_count(pg_graph *g, int root, const char *kind, int *total);

// GainPE(src, k).
int t_gain(pg_graph *g, int src, double k);

// Deterministic values in [-1, 1) (a 64-bit LCG, Knuth's MMIX constants).
void t_fill_random(double *x, int64_t n, uint64_t seed);

// Renders node over [s, s + n) (block 4096) into a fresh planar buffer the caller frees.
#define t_render_new(g, node, s, n) t_render_new_at(__FILE__, __LINE__, g, node, s, n)
float *t_render_new_at(const char *file, int line, pg_graph *g, int node, pg_frame s, int64_t n);

// ---- helpers for the executor's tests ----

// Copies folder `from` under `dir` to `to` there, replacing any `to`: a cache as it was,
// for a second render from the same state. Returns whether it worked.
bool t_copy_folder(const char *dir, const char *from, const char *to);
// n BlitSaw notes of len frames at gain 0.05, one every `step` frames, mixed (mono); note
// `odd` at 333 Hz, the others at 110 + 5 (i mod 40) Hz. Returns the mix.
int t_saw_notes(pg_graph *g, int n, pg_frame step, pg_frame len, int odd);
// The same without note `missing` (the others where they were).
int t_saw_notes_but(pg_graph *g, int n, pg_frame step, pg_frame len, int odd, int missing);
// Plans root with o and renders its window into out (interleaved), asking for `request`
// frames at a time; fills *stats and, when not NULL, *nodes (the plan's node count).
pg_status t_render_plan(pg_graph *g, int root, const pg_plan_opts *o, int64_t request, float *out,
                        pg_render_stats *stats, int *nodes);
// Renders root's window twice with a new cache folder (under /tmp, named after `name`),
// without output chunks, the stats of each in *cold and *warm: whether both worked and gave
// the same bits (frames: the window's length).
bool t_render_twice(pg_graph *g, int root, int64_t frames, const char *name, pg_render_stats *cold,
                    pg_render_stats *warm);
// A fresh folder /tmp/pygmuc-test-NAME-XXXXXX into dir; false (with a message) if it failed.
bool t_temp_dir(char *dir, size_t size, const char *name);
// Flips the byte at `offset` of every file of `size` bytes in folder (a cache's entries);
// returns how many.
int t_flip_byte(const char *folder, long size, long offset);
// Removes folder dir and everything in it.
void t_remove_dir(const char *dir);

#define CHECK_EXTENT(g, node, s, e)                                                                \
    do {                                                                                           \
        CHECK_EQ_I64(pg_graph_node_extent(g, node).start, s);                                      \
        CHECK_EQ_I64(pg_graph_node_extent(g, node).end, e);                                        \
    } while (0)

#endif // PG_TESTS_CHECK_H
