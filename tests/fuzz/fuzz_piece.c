// fuzz_piece.c: a libFuzzer target for the whole compiler on any text: lex, parse,
// evaluate, plan (at -O0 and -O1) and render the first 3000 frames into memory, with no
// cache and a 64 MiB buffer budget, and the first 3000 of an --until-silence render. A
// crash, a sanitizer report or PG_ERR_INTERNAL is a bug; any other status is a diagnostic,
// which is what bad input must get. Built with -DPG_FUZZ=ON (clang); run e.g.
// build/fuzz_piece -max_len=16384 corpus pieces/ported. Relative sound-file names resolve
// against pieces/, so seeds from there find their samples.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pygmu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
    FRAMES = 3000
};

// Options every render here shares: no cache, a 64 MiB buffer budget.
static pg_plan_opts fuzz_opts(int threads) {
    pg_plan_opts o;
    pg_plan_opts_init(&o);
    o.threads = threads;
    o.cache_dir = "";
    o.mem_limit = (size_t)64 << 20;
    return o;
}

// The plan, or NULL after a diagnostic (an internal error is a bug: abort).
static pg_plan *plan_or_null(pg_session *s, int root, const pg_plan_opts *o) {
    pg_diag err;
    pg_plan *p = pg_plan_new(pg_session_graph(s), root, o, &err);
    if (!p && err.status == PG_ERR_INTERNAL)
        abort();
    return p;
}

static void render_some(pg_session *s, int root, int opt_level) {
    pg_plan_opts o = fuzz_opts(1);
    o.opt_level = opt_level;
    o.has_start = o.has_end = true;
    o.start = 0;
    o.end = FRAMES;
    pg_plan *p = plan_or_null(s, root, &o);
    if (!p)
        return;
    pg_diag err;
    float *out = malloc(sizeof(float) * FRAMES * (size_t)pg_plan_channels(p));
    if (out && pg_render_all(p, out, &err) == PG_ERR_INTERNAL)
        abort();
    free(out);
    pg_plan_free(p);
}

// The first FRAMES frames of an --until-silence render of an endless root, asked for in
// uneven requests, as a player reading the stream would. (A finite root's window would be
// the whole piece, made ready before the first frame: minutes of audio per input.)
static void render_until_silence(pg_session *s, int root) {
    if (pg_graph_node_sound_extent(pg_session_graph(s), root).end != PG_FRAME_MAX)
        return;
    pg_plan_opts o = fuzz_opts(2);
    o.until_silence = true;
    // An endless stateful node (a BlitSawPE) is a buffer over the piece and the 60 s tail,
    // made before the first frame: 10-30 s per input under ASan, which filled the corpus
    // with such inputs and slowed the fuzzer to 20 runs a second. Past 8 MiB the plan is
    // refused instead (a diagnostic: the memory limit's path, which is worth fuzzing too).
    o.mem_limit = (size_t)8 << 20;
    pg_plan *p = plan_or_null(s, root, &o);
    if (!p)
        return;
    pg_diag err;
    pg_render *r = pg_render_new(p, &err);
    if (!r && err.status == PG_ERR_INTERNAL)
        abort();
    float *out = malloc(sizeof(float) * FRAMES * (size_t)pg_plan_channels(p));
    int64_t got = 0, n = 1;
    while (r && out && n > 0 && got < FRAMES) {
        n = pg_render_next(r, out, got % 2 ? 1000 : 7);
        got += n > 0 ? n : 1;
    }
    if (r && n < 0 && pg_render_error(r)->status == PG_ERR_INTERNAL)
        abort();
    free(out);
    pg_render_free(r);
    pg_plan_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // src is a C string: a NUL would end the piece there (a piece file with one is an error
    // when pg_compile_file reads it, tested by the cli suite)
    if (memchr(data, '\0', size))
        return 0;
    char *src = malloc(size + 1);
    if (!src)
        return 0;
    memcpy(src, data, size);
    src[size] = '\0';
    pg_session *s = pg_session_new();
    pg_session_set_print(s, NULL);
    // (ASan's redzones double the evaluator's 1 GiB default past libFuzzer's 2 GB RSS limit:
    // a runaway loop must end in the budget's diagnostic, not the fuzzer's out-of-memory)
    pg_session_set_memory_limit(s, (size_t)256 << 20);
    // (the default 50,000,000 steps take 25-40 s under ASan and the fuzzer's counters: its
    // runaway loops would be most of its time)
    pg_session_set_step_limit(s, 2000000);
    int root = -1;
    pg_status st = pg_compile_file(s, PG_FUZZ_PIECES "/fuzz.pg", src, &root);
    for (int i = 0; i < pg_session_diag_count(s); i++)
        if (pg_session_diag(s, i)->status == PG_ERR_INTERNAL)
            abort();
    if (st == PG_OK) {
        for (int opt = 0; opt <= 1; opt++)
            render_some(s, root, opt);
        render_until_silence(s, root);
    }
    pg_session_free(s);
    free(src);
    return 0;
}
