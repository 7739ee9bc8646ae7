// test_print.c: PrintPE(src_pe): a pass-through printing one line per rendered window to
// stderr (frames; per channel min, max, RMS, first and last 3 samples), in time order.
// Expectations: the lines worked out by hand for small arrays, the output bit-identical to
// the source, QUIRK Q42 (the source's extent, not an indefinite one).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

// Renders node over [s, e) at the block size with stderr captured into text (size bytes).
static pg_status render_captured(pg_graph *g, int node, pg_frame s, pg_frame e, int block,
                                 float *out, char *text, size_t size) {
    FILE *tmp = tmpfile();
    fflush(stderr);
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    pg_status st = t_render(g, node, s, e, block, out);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t got = fread(text, 1, size - 1, tmp);
    text[got] = '\0';
    fclose(tmp);
    return st;
}

static int print(pg_graph *g, int src) {
    pg_arg a[] = { t_node(NULL, src) };
    return t_add(g, "PrintPE", a, 1);
}

static void test_lines(void) {
    pg_graph *g = t_graph(0);
    double d[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    pg_arg a[] = { t_arr(NULL, 1, 8, d) };
    int arr = t_add(g, "ArrayPE", a, 1), p = print(g, arr);
    float out[8];
    char text[4096];
    // blocks of 4: rms(1..4) = sqrt(30/4) = 2.73861, rms(5..8) = sqrt(174/4) = 6.59545
    CHECK_STATUS(render_captured(g, p, 0, 8, 4, out, text, sizeof text), PG_OK);
    CHECK(strcmp(text, "PrintPE [0, 4) 1 ch: ch0 min 1 max 4 rms 2.73861 [1 2 3 4]\n"
                       "PrintPE [4, 8) 1 ch: ch0 min 5 max 8 rms 6.59545 [5 6 7 8]\n") == 0);
    for (int i = 0; i < 8; i++)
        CHECK_NEAR(out[i], d[i], 0);
    // one block: the middle elided; rms(1..8) = sqrt(204/8) = 5.04975
    CHECK_STATUS(render_captured(g, p, 0, 8, 4096, out, text, sizeof text), PG_OK);
    CHECK(strcmp(text, "PrintPE [0, 8) 1 ch: ch0 min 1 max 8 rms 5.04975 [1 2 3 ... 6 7 8]\n") ==
          0);
    // blocks of 1: eight lines, in time order
    CHECK_STATUS(render_captured(g, p, 0, 8, 1, out, text, sizeof text), PG_OK);
    const char *at = text;
    for (int i = 0; i < 8 && at; i++) {
        char want[64];
        snprintf(want, sizeof want, "PrintPE [%d, %d) 1 ch: ch0 min %d max %d", i, i + 1, i + 1,
                 i + 1);
        CHECK(strncmp(at, want, strlen(want)) == 0);
        at = strchr(at, '\n');
        at = at ? at + 1 : NULL;
    }
    CHECK(at && *at == '\0');
    pg_graph_free(g);
}

// Q42: the source's extent; a render window wider than it prints only the extent's frames.
static void test_extent_and_stereo(void) {
    pg_graph *g = t_graph(0);
    double d[] = { 0.5, -0.5, 0, 0, 0.25, 1 };
    pg_arg a[] = { t_arr(NULL, 2, 3, d) };
    pg_arg c[] = { t_node(NULL, t_add(g, "ArrayPE", a, 1)), t_int(NULL, 10) };
    int src = t_add(g, "TimeShiftPE", c, 2), p = print(g, src);
    CHECK_EQ_I64(pg_graph_node_extent(g, p).start, 10);
    CHECK_EQ_I64(pg_graph_node_extent(g, p).end, 13);
    CHECK_EQ_I64(pg_graph_node_channels(g, p), 2);
    float out[2 * 20];
    char text[4096];
    CHECK_STATUS(render_captured(g, p, 0, 20, 64, out, text, sizeof text), PG_OK);
    // rms(.5, -.5, 0) = sqrt(.5/3) = 0.408248; rms(0, .25, 1) = sqrt(1.0625/3) = 0.595119
    CHECK(strcmp(text, "PrintPE [10, 13) 2 ch: ch0 min -0.5 max 0.5 rms 0.408248 [0.5 -0.5 0]; "
                       "ch1 min 0 max 1 rms 0.595119 [0 0.25 1]\n") == 0);
    CHECK_NEAR(out[9], 0.0, 0);
    CHECK_NEAR(out[10], 0.5, 0);      // first frame of the extent
    CHECK_NEAR(out[20 + 12], 1.0, 0); // last frame, channel 1
    CHECK_NEAR(out[13], 0.0, 0);
    // an empty source prints nothing
    pg_arg e[] = { t_node(NULL, src), t_ext(NULL, 0, 5) };
    int empty = print(g, t_add(g, "CropPE", e, 2));
    CHECK(pg_extent_is_empty(pg_graph_node_extent(g, empty)));
    CHECK_STATUS(render_captured(g, empty, 0, 20, 64, out, text, sizeof text), PG_OK);
    CHECK(text[0] == '\0');
    pg_graph_free(g);
}

// A long, indefinite, stateful source: the pass-through is bit-identical at any block size.
static void test_blocks(void) {
    pg_graph *g = t_graph(0);
    pg_arg s[] = { t_num(NULL, 440.0) };
    pg_arg c[] = { t_node(NULL, t_add(g, "BlitSawPE", s, 1)), t_ext(NULL, 0, 5000) };
    int p = print(g, t_add(g, "CropPE", c, 2));
    FILE *devnull = fopen("/dev/null", "w");
    fflush(stderr);
    int saved = dup(2);
    dup2(fileno(devnull), 2);
    int same = t_block_invariant(g, p, 0, 5000);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(devnull);
    CHECK(same);
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    pg_arg none[] = { t_num("x", 1) };
    CHECK_STATUS(t_add_status(g, "PrintPE", none, 1), PG_ERR_ARG);
    pg_arg num[] = { t_num(NULL, 1) };
    CHECK_STATUS(t_add_status(g, "PrintPE", num, 1), PG_ERR_ARG);
    CHECK_STATUS(t_add_status(g, "PrintPE", NULL, 0), PG_ERR_ARG);
    pg_graph_free(g);
}

int main(void) {
    test_lines();
    test_extent_and_stereo();
    test_blocks();
    test_bad_args();
    return check_done();
}
