// print.c: PrintPE(src_pe), after pygmu's print_pe.py: a pass-through that prints, for every
// window it renders, one summary line to stderr (none in a quiet render, pygmuc -q): the
// frames, and per channel min, max, RMS and the first and last three samples (pygmu prints
// the whole numpy block). Stateful, so that it renders once, in time order from its origin:
// the lines come out in time order whatever the thread count (their sizes follow the
// render's block size).
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pe.h"

enum {
    P_SRC
};

enum {
    SHOWN = 3,         // samples shown at each end of a window
    LINE_PER_CH = 200, // bytes of line per channel, at most
};

static const pe_param print_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    PE_PARAMS_END,
};

// QUIRK Q42: pygmu's PrintPE reports an indefinite extent; ours is its source's.
static pg_status print_infer(pe_node *n, pe_check *ck) {
    (void)ck;
    n->out = n->in[pe_slot(n, P_SRC)];
    return PG_OK;
}

// A line being built: appends never run past size - 2 (room for "\n" and NUL).
typedef struct print_line {
    char *buf;
    size_t size, at;
} print_line;

static void append(print_line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void append(print_line *l, const char *fmt, ...) {
    if (l->at + 2 >= l->size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(l->buf + l->at, l->size - 1 - l->at, fmt, ap);
    va_end(ap);
    if (k > 0)
        l->at = l->at + (size_t)k < l->size - 2 ? l->at + (size_t)k : l->size - 2;
}

// Appends channel c's summary: min, max, RMS and its first and last SHOWN samples.
static void print_channel(print_line *l, int c, const float *x, int64_t n) {
    double lo = HUGE_VAL, hi = -HUGE_VAL, sq = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double v = (double)x[i];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        sq += v * v;
    }
    append(l, "%s ch%d min %.6g max %.6g rms %.6g [", c ? ";" : "", c, lo, hi,
           sqrt(sq / (double)n));
    for (int64_t i = 0; i < n; i++) {
        if (i == SHOWN && n > 2 * SHOWN) {
            append(l, " ...");
            i = n - SHOWN;
        }
        append(l, "%s%.6g", i ? " " : "", (double)x[i]);
    }
    append(l, "]");
}

static pg_status print_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    pe_view v;
    pg_status st = pe_pull(pe, pe_slot(pe->node, P_SRC), t0, n, &v);
    if (st != PG_OK)
        return st;
    for (int c = 0; c < out->channels; c++) // the frames pass through
        memcpy(pe_ch(out, c), pe_vch(&v, c), sizeof(float) * (size_t)n);
    FILE *log = pe_log(pe);
    if (!log) // a quiet render: nothing is formatted
        return PG_OK;
    print_line l = { NULL, (size_t)out->channels * LINE_PER_CH + 64, 0 };
    if (!(l.buf = pe_scratch(pe, l.size)))
        return pe_error(pe, PG_ERR_NOMEM, "PrintPE: out of scratch memory");
    append(&l, "PrintPE [%lld, %lld) %d ch:", (long long)t0, (long long)(t0 + n), out->channels);
    for (int c = 0; c < out->channels; c++)
        print_channel(&l, c, pe_vch(&v, c), n);
    l.buf[l.at] = '\n';
    l.buf[l.at + 1] = '\0';
    fputs(l.buf, log); // one call per line, so lines of parallel renders never interleave
    return PG_OK;
}

const pe_kind pe_kind_print = {
    .name = "PrintPE",
    .method = NULL,
    .params = print_params,
    .flags = PE_F_STATEFUL | PE_F_SIDE_EFFECT,
    .infer = print_infer,
    .process = print_process,
};
