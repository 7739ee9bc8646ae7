// segments.c: SegmentsPE(time_value_pairs, interpolation='ramp', frame_rate=None), after
// pygmu's segments_pe.py: a mono breakpoint function of absolute time, indefinite. The pairs
// (rows of two numbers) are sorted by time at init, a repeated time keeping the later value
// as pygmu's insertion does. 'ramp' interpolates linearly between breakpoints (held flat
// outside), 'step' holds each value until the next time. Stateless.
// pygmu takes any interpolation other than 'step' as 'ramp'; we reject anything but the two.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pe.h"

enum {
    P_PAIRS,
    P_INTERPOLATION,
    P_FRAME_RATE
};

typedef struct segments_state {
    double *times; // strictly increasing
    double *values;
    int count;
    bool is_step;
} segments_state;

static const pe_param segments_params[] = {
    { "time_value_pairs", PE_T_ARRAY, PE_P_REQUIRED, PE_NONE },
    { "interpolation", PE_T_STR, 0, PE_STR("ramp") },
    { "frame_rate", PE_T_INT, PE_P_NONE_OK | PE_P_GT0, PE_NONE },
    PE_PARAMS_END,
};

static pg_status segments_infer(pe_node *n, pe_check *ck) {
    const pg_array *a = &n->args[P_PAIRS].u.array;
    const char *interp = n->args[P_INTERPOLATION].u.str;
    n->out.channels = 1;
    n->out.frame_rate = pe_rate_or_default(n, P_FRAME_RATE, ck);
    n->out.extent = (pg_extent){ PG_FRAME_MIN, PG_FRAME_MAX };
    if (a->cols != 2 || a->rows < 2)
        return pe_fail(ck, PG_ERR_ARG,
                       "SegmentsPE time_value_pairs must be at least 2 [time, value] pairs, got "
                       "%d x %d",
                       a->rows, a->cols);
    for (int r = 0; r < a->rows; r++)
        if (!isfinite(a->data[2 * r]))
            return pe_fail(ck, PG_ERR_ARG, "SegmentsPE time_value_pairs time %d must be finite",
                           r + 1);
    if (strcmp(interp, "ramp") != 0 && strcmp(interp, "step") != 0)
        return pe_fail(ck, PG_ERR_ARG,
                       "SegmentsPE interpolation must be 'ramp' or 'step', got '%s'", interp);
    return PG_OK;
}

// Inserts (t, v) into the sorted arrays; an equal time takes the new value (pygmu's
// add_time_value).
static void segments_insert(segments_state *s, double t, double v) {
    int k = 0;
    while (k < s->count && s->times[k] < t)
        k++;
    if (k < s->count && s->times[k] == t) {
        s->values[k] = v;
        return;
    }
    memmove(s->times + k + 1, s->times + k, sizeof(double) * (size_t)(s->count - k));
    memmove(s->values + k + 1, s->values + k, sizeof(double) * (size_t)(s->count - k));
    s->times[k] = t;
    s->values[k] = v;
    s->count++;
}

static pg_status segments_init(pe_inst *pe) {
    segments_state *s = pe->state;
    const pg_array *a = &pe->node->args[P_PAIRS].u.array;
    s->times = malloc(sizeof(double) * (size_t)a->rows);
    s->values = malloc(sizeof(double) * (size_t)a->rows);
    if (!s->times || !s->values)
        return pe_error(pe, PG_ERR_NOMEM, "SegmentsPE: out of memory");
    for (int r = 0; r < a->rows; r++)
        segments_insert(s, a->data[2 * r], a->data[2 * r + 1]);
    s->is_step = strcmp(pe->node->args[P_INTERPOLATION].u.str, "step") == 0;
    return PG_OK;
}

// The number of breakpoints with time <= t (numpy's searchsorted side='right').
static int segments_count_le(const segments_state *s, double t) {
    int lo = 0, hi = s->count;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (s->times[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

// The value at t, computed as pygmu does: v0 at or before the first time, v_last at or after
// the last, else lerp(t, t_{k-1}, t_k, v_{k-1}, v_k) with k the first time >= t, in double.
static double segments_value(const segments_state *s, double t) {
    int le = segments_count_le(s, t);
    if (s->is_step)
        return s->values[le > 0 ? le - 1 : 0];
    int k = le > 0 && s->times[le - 1] == t ? le - 1 : le; // first index with time >= t
    if (k == 0)
        return s->values[0];
    if (t >= s->times[s->count - 1]) // pygmu's "request starts after the last time" path
        return s->values[s->count - 1];
    double x0 = s->times[k - 1], x1 = s->times[k], y0 = s->values[k - 1], y1 = s->values[k];
    return y0 + (t - x0) * (y1 - y0) / (x1 - x0);
}

static pg_status segments_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const segments_state *s = pe->state;
    float *o = pe_ch(out, 0);
    for (int64_t i = 0; i < n; i++)
        o[i] = (float)segments_value(s, (double)(t0 + i));
    return PG_OK;
}

static void segments_fini(pe_inst *pe) {
    segments_state *s = pe->state;
    free(s->times);
    free(s->values);
    s->times = s->values = NULL;
}

const pe_kind pe_kind_segments = {
    .name = "SegmentsPE",
    .method = NULL,
    .params = segments_params,
    .flags = PE_F_GENERATOR,
    .state_size = sizeof(segments_state),
    .infer = segments_infer,
    .init = segments_init,
    .process = segments_process,
    .fini = segments_fini,
};
