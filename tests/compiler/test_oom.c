// test_oom.c: out of memory anywhere in the front end is a clean PG_ERR_NOMEM, never a crash
// or a leak (style.md §4: fail the N-th allocation). A real piece is compiled again and
// again with the n-th arena chunk failing, n = 1, 2, ... until a compile needs fewer
// chunks than n: every compile before that must fail with PG_ERR_NOMEM and a diagnostic,
// and the last one must succeed and equal a normal compile. Under AddressSanitizer (the
// sanitizer build, where each allocation is its own chunk) this walks every allocation.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "check.h"

static const char *piece =
    "import random\n"
    "frame_rate(48000)\n"
    "random.seed(7)\n"
    "def note(i, pitch):\n"
    "    f = pitch_to_freq(pitch)\n"
    "    s = BlitSawPE(frequency=f).lowpass(f0=3 * f, q=2).gain(0.1)\n"
    "    return s.crop(Extent(0, 0.5s), fade_out=480).time_shift(int(i * 0.25s))\n"
    "notes = [note(i, 48 + randrange(0, 24)) for i in range(12)]\n"
    "chord = {'a': 1, 'b': [1, 2, 3], 'c': 'text %d' % 5}\n"
    "render(MixPE(*notes).pan(20))\n";

// One compile; the graph's node count in *nodes.
static pg_status compile(int *nodes, int *diags) {
    pg_session *s = pg_session_new();
    if (!s)
        return PG_ERR_NOMEM;
    int root = -1;
    pg_status st = pg_compile_file(s, "oom.pg", piece, &root);
    *nodes = st == PG_OK ? pg_graph_node_count(pg_session_graph(s)) : -1;
    *diags = pg_session_diag_count(s);
    if (st != PG_OK && st != PG_ERR_NOMEM && *diags > 0)
        fprintf(stderr, "%s\n", pg_session_diag(s, 0)->message);
    pg_session_free(s);
    return st;
}

int main(void) {
    int want_nodes, diags;
    CHECK_STATUS(compile(&want_nodes, &diags), PG_OK);
    CHECK(want_nodes > 40);
    long n = 1, nomem = 0;
    for (; n < 100000; n++) {
        arena_fail_nth(n);
        int nodes;
        pg_status st = compile(&nodes, &diags);
        arena_fail_nth(0);
        if (st == PG_OK) { // needed fewer chunks than n: the walk is over
            CHECK_EQ_I64(nodes, want_nodes);
            break;
        }
        nomem++;
        if (st != PG_ERR_NOMEM || diags < 1) {
            fprintf(stderr, "n = %ld: status %d\n", n, (int)st);
            CHECK_STATUS(st, PG_ERR_NOMEM);
            CHECK(diags >= 1);
        }
    }
    printf("failed the n-th arena chunk for n = 1 .. %ld: %ld clean PG_ERR_NOMEM\n", n - 1, nomem);
    CHECK(nomem >= 1);
    CHECK(n < 100000);
    return check_done();
}
