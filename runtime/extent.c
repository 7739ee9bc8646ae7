// extent.c: arithmetic on half-open frame spans [start, end) with infinite bounds
// (PG_FRAME_MIN / PG_FRAME_MAX), saturating so that an infinite bound stays infinite.
#include <stdbool.h>

#include "pygmu.h"

pg_extent pg_extent_make(pg_frame start, pg_frame end) {
    pg_extent e = { start, end };
    if (end < start) { // pygmu swaps reversed bounds
        e.start = end;
        e.end = start;
    }
    return e;
}

bool pg_extent_is_empty(pg_extent a) {
    return a.start >= a.end;
}

bool pg_extent_is_finite(pg_extent a) {
    return a.start != PG_FRAME_MIN && a.end != PG_FRAME_MAX;
}

pg_extent pg_extent_intersect(pg_extent a, pg_extent b) {
    pg_extent r = { a.start > b.start ? a.start : b.start, a.end < b.end ? a.end : b.end };
    if (r.start >= r.end)
        r.start = r.end = 0;
    return r;
}

// QUIRK Q1: pygmu's union counts empty extents (stretching a mix to frame 0); ours skips them.
pg_extent pg_extent_union(pg_extent a, pg_extent b) {
    if (pg_extent_is_empty(a))
        return pg_extent_is_empty(b) ? (pg_extent){ 0, 0 } : b;
    if (pg_extent_is_empty(b))
        return a;
    pg_extent r = { a.start < b.start ? a.start : b.start, a.end > b.end ? a.end : b.end };
    return r;
}

static pg_frame add_sat(pg_frame x, pg_frame d) {
    if (x == PG_FRAME_MIN || x == PG_FRAME_MAX)
        return x;
    if (d > 0 && x > PG_FRAME_MAX - 1 - d)
        return PG_FRAME_MAX - 1;
    if (d < 0 && x < PG_FRAME_MIN + 1 - d)
        return PG_FRAME_MIN + 1;
    return x + d;
}

pg_extent pg_extent_offset(pg_extent a, pg_frame d) {
    pg_extent r = { add_sat(a.start, d), add_sat(a.end, d) };
    return r;
}

bool pg_extent_overlaps(pg_extent a, pg_extent b) {
    return !pg_extent_is_empty(pg_extent_intersect(a, b)) && (a.start < b.end && b.start < a.end);
}
