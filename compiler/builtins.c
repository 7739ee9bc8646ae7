// builtins.c: the .pg builtin functions and porting modules (see builtins.h): Python's
// builtins (len, range, sorted, round, ...), math, the music helpers of pygmu's utils.py
// (pitch_to_freq with its Just and Renold tables, mtof, db_to_ratio, ...), CPython's
// random functions over prng.c, numpy look-alikes for ported pieces, and the graph
// functions frame_rate, render, Transport and Extent. Python's semantics and messages.
#include "builtins.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lex.h"
#include "methods.h"

#define PG_PI 3.14159265358979323846

#define BUILTIN(id, pyname)                                                                \
    static value bi_##id(evaluator *ev, const call_args *c);                               \
    static const builtin B_##id = { pyname, bi_##id };

// ---- argument helpers ----

void builtins_bind(evaluator *ev, const call_args *c, const char *fname,
                   const char *const *names, int n_names, int n_required, value *out) {
    for (int i = 0; i < n_names; i++)
        out[i].t = VT_UNBOUND;
    if (c->n > n_names)
        eval_error(ev, c->loc, PG_ERR_ARG, "%s() takes at most %d argument%s (%d given)", fname,
                   n_names, n_names == 1 ? "" : "s", c->n);
    for (int i = 0; i < c->n; i++)
        out[i] = c->args[i];
    for (int k = 0; k < c->nk; k++) {
        int i = 0;
        while (i < n_names && strcmp(names[i], c->kw_names[k]) != 0)
            i++;
        if (i == n_names)
            eval_error(ev, c->loc, PG_ERR_ARG, "%s() got an unexpected keyword argument '%s'",
                       fname, c->kw_names[k]);
        if (out[i].t != VT_UNBOUND)
            eval_error(ev, c->loc, PG_ERR_ARG, "%s() got multiple values for argument '%s'",
                       fname, names[i]);
        out[i] = c->kw[k];
    }
    for (int i = 0; i < n_required; i++)
        if (out[i].t == VT_UNBOUND)
            eval_error(ev, c->loc, PG_ERR_ARG, "%s() missing required argument '%s' (pos %d)",
                       fname, names[i], i + 1);
}

double builtins_num(evaluator *ev, value v, const char *what, pg_srcloc loc) {
    if (!value_is_num(v))
        eval_error(ev, loc, PG_ERR_ARG, "%s: must be a number, not '%s'", what,
                   value_type_name(v));
    return value_as_double(v);
}

int64_t builtins_int(evaluator *ev, value v, const char *what, pg_srcloc loc) {
    if (!value_is_intlike(v))
        eval_error(ev, loc, PG_ERR_ARG, "%s: '%s' object cannot be interpreted as an integer",
                   what, value_type_name(v));
    return v.u.i;
}

static void want_args(evaluator *ev, const call_args *c, const char *fname, int lo, int hi) {
    if (c->nk)
        eval_error(ev, c->loc, PG_ERR_ARG, "%s() takes no keyword arguments", fname);
    if (c->n < lo || c->n > hi) {
        if (lo == hi)
            eval_error(ev, c->loc, PG_ERR_ARG, "%s() takes exactly %d argument%s (%d given)",
                       fname, lo, lo == 1 ? "" : "s", c->n);
        eval_error(ev, c->loc, PG_ERR_ARG, "%s() takes from %d to %d arguments (%d given)", fname,
                   lo, hi, c->n);
    }
}

static bool given(value v) {
    return v.t != VT_UNBOUND;
}

static value list_of(evaluator *ev, value v, pg_srcloc loc) {
    return v.t == VT_LIST || v.t == VT_TUPLE ? v : value_to_list(ev, v, loc);
}

// ---- core builtins ----

BUILTIN(len, "len")
static value bi_len(evaluator *ev, const call_args *c) {
    want_args(ev, c, "len", 1, 1);
    return value_int(value_len(ev, c->args[0], c->loc));
}

BUILTIN(range, "range")
static value bi_range(evaluator *ev, const call_args *c) {
    want_args(ev, c, "range", 1, 3);
    int64_t a[3];
    for (int i = 0; i < c->n; i++)
        a[i] = builtins_int(ev, c->args[i], "range()", c->loc);
    if (c->n == 1)
        return value_range(ev, 0, a[0], 1);
    if (c->n == 3 && a[2] == 0)
        eval_error(ev, c->loc, PG_ERR_ARG, "range() arg 3 must not be zero");
    return value_range(ev, a[0], a[1], c->n == 3 ? a[2] : 1);
}

BUILTIN(enumerate, "enumerate")
static value bi_enumerate(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "iterable", "start" };
    value a[2];
    builtins_bind(ev, c, "enumerate", names, 2, 1, a);
    int64_t start = given(a[1]) ? builtins_int(ev, a[1], "enumerate()", c->loc) : 0;
    value items = list_of(ev, a[0], c->loc);
    value out = value_list(ev, items.u.l->n);
    for (int64_t i = 0; i < items.u.l->n; i++) {
        value pair[2] = { value_int(start + i), items.u.l->items[i] };
        out.u.l->items[i] = value_tuple(ev, pair, 2);
    }
    out.u.l->n = items.u.l->n;
    return out;
}

BUILTIN(zip, "zip")
static value bi_zip(evaluator *ev, const call_args *c) {
    if (c->nk)
        eval_error(ev, c->loc, PG_ERR_ARG, "zip() takes no keyword arguments");
    if (c->n == 0)
        return value_list(ev, 0);
    value *lists = ARENA_ARRAY(ev->a, value, c->n);
    int64_t n = INT64_MAX;
    for (int i = 0; i < c->n; i++) {
        lists[i] = list_of(ev, c->args[i], c->loc);
        if (lists[i].u.l->n < n)
            n = lists[i].u.l->n;
    }
    value out = value_list(ev, n);
    value *row = ARENA_ARRAY(ev->a, value, c->n);
    for (int64_t k = 0; k < n; k++) {
        for (int i = 0; i < c->n; i++)
            row[i] = lists[i].u.l->items[k];
        out.u.l->items[k] = value_tuple(ev, row, c->n);
    }
    out.u.l->n = n;
    return out;
}

BUILTIN(list, "list")
static value bi_list(evaluator *ev, const call_args *c) {
    want_args(ev, c, "list", 0, 1);
    return c->n ? value_to_list(ev, c->args[0], c->loc) : value_list(ev, 0);
}

BUILTIN(tuple, "tuple")
static value bi_tuple(evaluator *ev, const call_args *c) {
    want_args(ev, c, "tuple", 0, 1);
    if (c->n && c->args[0].t == VT_TUPLE)
        return c->args[0];
    value v = c->n ? value_to_list(ev, c->args[0], c->loc) : value_list(ev, 0);
    v.t = VT_TUPLE;
    return v;
}

BUILTIN(dict, "dict")
static value bi_dict(evaluator *ev, const call_args *c) {
    if (c->n > 1)
        eval_error(ev, c->loc, PG_ERR_ARG, "dict expected at most 1 argument, got %d", c->n);
    value d = value_dict(ev);
    if (c->n && c->args[0].t == VT_DICT) {
        const dict_obj *src = c->args[0].u.d;
        for (int64_t i = 0; i < src->n; i++)
            if (src->keys[i].t != VT_UNBOUND)
                value_dict_set(ev, d.u.d, src->keys[i], src->vals[i], c->loc);
    } else if (c->n) {
        value items = list_of(ev, c->args[0], c->loc);
        for (int64_t i = 0; i < items.u.l->n; i++) {
            value pair = list_of(ev, items.u.l->items[i], c->loc);
            if (pair.u.l->n != 2)
                eval_error(ev, c->loc, PG_ERR_ARG,
                           "dictionary update sequence element #%lld has length %lld; 2 is "
                           "required",
                           (long long)i, (long long)pair.u.l->n);
            value_dict_set(ev, d.u.d, pair.u.l->items[0], pair.u.l->items[1], c->loc);
        }
    }
    for (int k = 0; k < c->nk; k++)
        value_dict_set(ev, d.u.d, value_cstr(ev, c->kw_names[k]), c->kw[k], c->loc);
    return d;
}

// Stable merge sort of items by keys (Python's sort is stable, and so is reverse=True).
static void merge_sort(evaluator *ev, value *items, value *keys, value *tmp_i, value *tmp_k,
                       int64_t n, bool reverse, pg_srcloc loc) {
    if (n < 2)
        return;
    int64_t h = n / 2;
    merge_sort(ev, items, keys, tmp_i, tmp_k, h, reverse, loc);
    merge_sort(ev, items + h, keys + h, tmp_i, tmp_k, n - h, reverse, loc);
    int64_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        // The right item goes first only when it strictly precedes the left one.
        bool right_first = reverse ? value_lt(ev, keys[i], keys[j], loc)
                                   : value_lt(ev, keys[j], keys[i], loc);
        int64_t from = right_first ? j++ : i++;
        tmp_i[k] = items[from];
        tmp_k[k++] = keys[from];
    }
    for (; i < h; i++, k++) {
        tmp_i[k] = items[i];
        tmp_k[k] = keys[i];
    }
    for (; j < n; j++, k++) {
        tmp_i[k] = items[j];
        tmp_k[k] = keys[j];
    }
    memcpy(items, tmp_i, (size_t)n * sizeof(value));
    memcpy(keys, tmp_k, (size_t)n * sizeof(value));
}

// Sorts list l in place (list.sort and sorted()).
static void sort_list(evaluator *ev, list_obj *l, value key, bool reverse, pg_srcloc loc) {
    int64_t n = l->n;
    value *keys = ARENA_ARRAY(ev->a, value, n + 1);
    for (int64_t i = 0; i < n; i++)
        keys[i] = key.t == VT_NONE || key.t == VT_UNBOUND ? l->items[i]
                                                         : eval_call(ev, key, &l->items[i], 1, loc);
    value *tmp_i = ARENA_ARRAY(ev->a, value, n + 1), *tmp_k = ARENA_ARRAY(ev->a, value, n + 1);
    value *items = ARENA_ARRAY(ev->a, value, n + 1);
    memcpy(items, l->items, (size_t)n * sizeof(value));
    merge_sort(ev, items, keys, tmp_i, tmp_k, n, reverse, loc);
    memcpy(l->items, items, (size_t)n * sizeof(value));
}

static const char *const sort_names[] = { "iterable", "key", "reverse" };

BUILTIN(sorted, "sorted")
static value bi_sorted(evaluator *ev, const call_args *c) {
    value a[3];
    builtins_bind(ev, c, "sorted", sort_names, 3, 1, a);
    value out = value_to_list(ev, a[0], c->loc);
    sort_list(ev, out.u.l, a[1], given(a[2]) && value_truthy(a[2]), c->loc);
    return out;
}

// list.sort(key=None, reverse=False), used by methods.c through the builtin table.
BUILTIN(list_sort, "sort")
static value bi_list_sort(evaluator *ev, const call_args *c) {
    value a[3];
    builtins_bind(ev, c, "sort", sort_names, 3, 1, a);
    sort_list(ev, a[0].u.l, a[1], given(a[2]) && value_truthy(a[2]), c->loc);
    return value_none();
}

BUILTIN(reversed, "reversed")
static value bi_reversed(evaluator *ev, const call_args *c) {
    want_args(ev, c, "reversed", 1, 1);
    value out = value_to_list(ev, c->args[0], c->loc);
    list_obj *l = out.u.l;
    for (int64_t i = 0, j = l->n - 1; i < j; i++, j--) {
        value t = l->items[i];
        l->items[i] = l->items[j];
        l->items[j] = t;
    }
    return out;
}

static value min_max(evaluator *ev, const call_args *c, const char *fname, bool is_max) {
    value key = value_none(), dflt = { .t = VT_UNBOUND };
    for (int k = 0; k < c->nk; k++) {
        if (strcmp(c->kw_names[k], "key") == 0)
            key = c->kw[k];
        else if (strcmp(c->kw_names[k], "default") == 0)
            dflt = c->kw[k];
        else
            eval_error(ev, c->loc, PG_ERR_ARG, "%s() got an unexpected keyword argument '%s'",
                       fname, c->kw_names[k]);
    }
    if (c->n == 0)
        eval_error(ev, c->loc, PG_ERR_ARG, "%s expected at least 1 argument, got 0", fname);
    value items = c->n == 1 ? list_of(ev, c->args[0], c->loc) : value_tuple(ev, c->args, c->n);
    const list_obj *l = items.u.l;
    if (l->n == 0) {
        if (given(dflt))
            return dflt;
        eval_error(ev, c->loc, PG_ERR_ARG, "%s() arg is an empty sequence", fname);
    }
    value best = l->items[0];
    value best_key = key.t == VT_NONE ? best : eval_call(ev, key, &best, 1, c->loc);
    for (int64_t i = 1; i < l->n; i++) {
        value k = key.t == VT_NONE ? l->items[i] : eval_call(ev, key, &l->items[i], 1, c->loc);
        bool better = is_max ? value_lt(ev, best_key, k, c->loc) : value_lt(ev, k, best_key, c->loc);
        if (better) {
            best = l->items[i];
            best_key = k;
        }
    }
    return best;
}

BUILTIN(min, "min")
static value bi_min(evaluator *ev, const call_args *c) {
    return min_max(ev, c, "min", false);
}

BUILTIN(max, "max")
static value bi_max(evaluator *ev, const call_args *c) {
    return min_max(ev, c, "max", true);
}

BUILTIN(abs, "abs")
static value bi_abs(evaluator *ev, const call_args *c) {
    want_args(ev, c, "abs", 1, 1);
    value v = c->args[0];
    if (v.t == VT_FLOAT)
        return value_float(fabs(v.u.f));
    if (value_is_intlike(v)) {
        if (v.u.i == INT64_MIN)
            eval_error(ev, c->loc, PG_ERR_ARG, "integer overflow (results must fit in 64 bits)");
        return value_int(v.u.i < 0 ? -v.u.i : v.u.i);
    }
    eval_error(ev, c->loc, PG_ERR_ARG, "bad operand type for abs(): '%s'", value_type_name(v));
}

// round(i, n) for an int and n < 0: to a multiple of 10^-n, halves to even.
static int64_t round_int(evaluator *ev, int64_t x, int64_t nd, pg_srcloc loc) {
    if (nd >= 0)
        return x;
    if (nd < -18)
        return 0;
    int64_t p = 1;
    for (int64_t i = 0; i < -nd; i++)
        p *= 10;
    int64_t q = x / p, r = x % p;
    if (r < 0) {
        q--;
        r += p;
    }
    if (2 * r > p || (2 * r == p && (q & 1)))
        q++;
    value prod = eval_binop(ev, TK_STAR, value_int(q), value_int(p), loc);
    return prod.u.i;
}

BUILTIN(round, "round")
static value bi_round(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "number", "ndigits" };
    value a[2];
    builtins_bind(ev, c, "round", names, 2, 1, a);
    value x = a[0];
    if (!value_is_num(x))
        eval_error(ev, c->loc, PG_ERR_ARG, "type %s doesn't define __round__ method",
                   value_type_name(x));
    if (!given(a[1]) || a[1].t == VT_NONE) {
        if (x.t == VT_FLOAT)
            return value_int(value_round_half_even(ev, x.u.f, c->loc));
        return value_int(x.u.i);
    }
    int64_t nd = builtins_int(ev, a[1], "round()", c->loc);
    if (x.t == VT_FLOAT)
        return value_float(value_round_digits(x.u.f, nd));
    return value_int(round_int(ev, x.u.i, nd, c->loc));
}

static _Noreturn void bad_int_literal(evaluator *ev, value s, int base, pg_srcloc loc) {
    sbuf b = { 0 };
    value_repr(ev, &b, s, 0);
    eval_error(ev, loc, PG_ERR_ARG, "invalid literal for int() with base %d: %s", base, b.p);
}

static int digit_value(char ch) {
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A' + 10;
    return 99;
}

static int64_t parse_int(evaluator *ev, value s, int base, pg_srcloc loc) {
    const char *p = s.u.s->data, *end = p + s.u.s->len;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
        end--;
    bool neg = p < end && *p == '-';
    if (p < end && (*p == '-' || *p == '+'))
        p++;
    if (end - p > 2 && p[0] == '0' && (base == 16 || base == 0) && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    if (base == 0)
        base = 10;
    if (p == end)
        bad_int_literal(ev, s, base, loc);
    uint64_t acc = 0;
    for (; p < end; p++) {
        if (*p == '_' && p + 1 < end && p[1] != '_')
            continue;
        int d = digit_value(*p);
        if (d >= base)
            bad_int_literal(ev, s, base, loc);
        if (acc > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            eval_error(ev, loc, PG_ERR_ARG, "integer overflow (results must fit in 64 bits)");
        acc = acc * (uint64_t)base + (uint64_t)d;
    }
    if (acc > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
        eval_error(ev, loc, PG_ERR_ARG, "integer overflow (results must fit in 64 bits)");
    return neg ? (int64_t)(0u - acc) : (int64_t)acc;
}

BUILTIN(int, "int")
static value bi_int(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "x", "base" };
    value a[2];
    builtins_bind(ev, c, "int", names, 2, 0, a);
    if (!given(a[0]))
        return value_int(0);
    value x = a[0];
    if (given(a[1])) {
        if (x.t != VT_STR)
            eval_error(ev, c->loc, PG_ERR_ARG, "int() can't convert non-string with explicit base");
        int64_t base = builtins_int(ev, a[1], "int()", c->loc);
        if (base != 0 && (base < 2 || base > 36))
            eval_error(ev, c->loc, PG_ERR_ARG, "int() base must be >= 2 and <= 36, or 0");
        return value_int(parse_int(ev, x, (int)base, c->loc));
    }
    if (value_is_intlike(x))
        return value_int(x.u.i);
    if (x.t == VT_FLOAT)
        return value_int(value_float_to_int(ev, x.u.f, c->loc));
    if (x.t == VT_STR)
        return value_int(parse_int(ev, x, 10, c->loc));
    eval_error(ev, c->loc, PG_ERR_ARG,
               "int() argument must be a string or a real number, not '%s'", value_type_name(x));
}

static bool word_is(const char *p, size_t n, const char *w) {
    if (strlen(w) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((p[i] | 0x20) != w[i])
            return false;
    return true;
}

static double parse_float(evaluator *ev, value s, pg_srcloc loc) {
    const char *p = s.u.s->data, *end = p + s.u.s->len;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
        end--;
    const char *body = p + (p < end && (*p == '+' || *p == '-'));
    double sign = p < end && *p == '-' ? -1.0 : 1.0;
    size_t bn = (size_t)(end - body);
    if (word_is(body, bn, "inf") || word_is(body, bn, "infinity"))
        return sign * HUGE_VAL;
    if (word_is(body, bn, "nan"))
        return (double)NAN;
    char tmp[128];
    size_t n = (size_t)(end - p);
    char *stop = NULL;
    double x = 0.0;
    if (n > 0 && n < sizeof tmp && !memchr(p, 'x', n) && !memchr(p, 'X', n)) {
        memcpy(tmp, p, n);
        tmp[n] = '\0';
        x = strtod(tmp, &stop);
    }
    if (!stop || *stop || n == 0) {
        sbuf b = { 0 };
        value_repr(ev, &b, s, 0);
        eval_error(ev, loc, PG_ERR_ARG, "could not convert string to float: %s", b.p);
    }
    return x;
}

BUILTIN(float, "float")
static value bi_float(evaluator *ev, const call_args *c) {
    want_args(ev, c, "float", 0, 1);
    if (c->n == 0)
        return value_float(0.0);
    value x = c->args[0];
    if (value_is_num(x))
        return value_float(value_as_double(x));
    if (x.t == VT_STR)
        return value_float(parse_float(ev, x, c->loc));
    eval_error(ev, c->loc, PG_ERR_ARG, "float() argument must be a string or a real number, not '%s'",
               value_type_name(x));
}

BUILTIN(str, "str")
static value bi_str(evaluator *ev, const call_args *c) {
    want_args(ev, c, "str", 0, 1);
    return c->n ? value_to_str(ev, c->args[0]) : value_str(ev, "", 0);
}

BUILTIN(repr, "repr")
static value bi_repr(evaluator *ev, const call_args *c) {
    want_args(ev, c, "repr", 1, 1);
    sbuf b = { 0 };
    value_repr(ev, &b, c->args[0], 0);
    return value_str(ev, b.p, b.n);
}

BUILTIN(bool, "bool")
static value bi_bool(evaluator *ev, const call_args *c) {
    want_args(ev, c, "bool", 0, 1);
    return value_bool(c->n && value_truthy(c->args[0]));
}

BUILTIN(sum, "sum")
static value bi_sum(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "iterable", "start" };
    value a[2];
    builtins_bind(ev, c, "sum", names, 2, 1, a);
    value acc = given(a[1]) ? a[1] : value_int(0);
    if (acc.t == VT_STR)
        eval_error(ev, c->loc, PG_ERR_ARG, "sum() can't sum strings [use ''.join(seq) instead]");
    value items = list_of(ev, a[0], c->loc);
    for (int64_t i = 0; i < items.u.l->n; i++)
        acc = eval_binop(ev, TK_PLUS, acc, items.u.l->items[i], c->loc);
    return acc;
}

BUILTIN(print, "print")
static value bi_print(evaluator *ev, const call_args *c) {
    const char *sep = " ", *end = "\n";
    for (int k = 0; k < c->nk; k++) {
        value v = c->kw[k];
        if (strcmp(c->kw_names[k], "sep") == 0 && v.t == VT_STR)
            sep = v.u.s->data;
        else if (strcmp(c->kw_names[k], "end") == 0 && v.t == VT_STR)
            end = v.u.s->data;
    }
    sbuf b = { 0 };
    for (int i = 0; i < c->n; i++) {
        if (i)
            value_sbuf_puts(ev, &b, sep);
        value_str_into(ev, &b, c->args[i]);
    }
    value_sbuf_puts(ev, &b, end);
    fputs(b.p, stderr);
    return value_none();
}

static bool is_instance(evaluator *ev, value x, value t, pg_srcloc loc);

BUILTIN(isinstance, "isinstance")
static value bi_isinstance(evaluator *ev, const call_args *c) {
    want_args(ev, c, "isinstance", 2, 2);
    return value_bool(is_instance(ev, c->args[0], c->args[1], c->loc));
}

BUILTIN(map, "map")
static value bi_map(evaluator *ev, const call_args *c) {
    if (c->n < 2 || c->nk)
        eval_error(ev, c->loc, PG_ERR_ARG, "map() must have at least two arguments");
    int n_it = c->n - 1;
    value *lists = ARENA_ARRAY(ev->a, value, n_it);
    int64_t n = INT64_MAX;
    for (int i = 0; i < n_it; i++) {
        lists[i] = list_of(ev, c->args[i + 1], c->loc);
        if (lists[i].u.l->n < n)
            n = lists[i].u.l->n;
    }
    value out = value_list(ev, n);
    value *row = ARENA_ARRAY(ev->a, value, n_it);
    for (int64_t k = 0; k < n; k++) {
        for (int i = 0; i < n_it; i++)
            row[i] = lists[i].u.l->items[k];
        out.u.l->items[k] = eval_call(ev, c->args[0], row, n_it, c->loc);
        out.u.l->n = k + 1;
    }
    return out;
}

BUILTIN(filter, "filter")
static value bi_filter(evaluator *ev, const call_args *c) {
    want_args(ev, c, "filter", 2, 2);
    value items = list_of(ev, c->args[1], c->loc);
    value out = value_list(ev, 0);
    for (int64_t i = 0; i < items.u.l->n; i++) {
        value x = items.u.l->items[i];
        value keep = c->args[0].t == VT_NONE ? x : eval_call(ev, c->args[0], &x, 1, c->loc);
        if (value_truthy(keep))
            value_list_append(ev, out, x, c->loc);
    }
    return out;
}

static value any_all(evaluator *ev, const call_args *c, const char *fname, bool want) {
    want_args(ev, c, fname, 1, 1);
    value items = list_of(ev, c->args[0], c->loc);
    for (int64_t i = 0; i < items.u.l->n; i++)
        if (value_truthy(items.u.l->items[i]) == want)
            return value_bool(want);
    return value_bool(!want);
}

BUILTIN(any, "any")
static value bi_any(evaluator *ev, const call_args *c) {
    return any_all(ev, c, "any", true);
}

BUILTIN(all, "all")
static value bi_all(evaluator *ev, const call_args *c) {
    return any_all(ev, c, "all", false);
}

BUILTIN(divmod, "divmod")
static value bi_divmod(evaluator *ev, const call_args *c) {
    want_args(ev, c, "divmod", 2, 2);
    value r[2] = { eval_binop(ev, TK_DSLASH, c->args[0], c->args[1], c->loc),
                   eval_binop(ev, TK_PERCENT, c->args[0], c->args[1], c->loc) };
    return value_tuple(ev, r, 2);
}

BUILTIN(pow, "pow")
static value bi_pow(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "base", "exp", "mod" };
    value a[3];
    builtins_bind(ev, c, "pow", names, 3, 2, a);
    if (!given(a[2]) || a[2].t == VT_NONE)
        return eval_binop(ev, TK_DSTAR, a[0], a[1], c->loc);
    int64_t b = builtins_int(ev, a[0], "pow()", c->loc), e = builtins_int(ev, a[1], "pow()", c->loc);
    int64_t m = builtins_int(ev, a[2], "pow()", c->loc);
    if (m == 0)
        eval_error(ev, c->loc, PG_ERR_ARG, "pow() 3rd argument cannot be 0");
    if (e < 0)
        eval_error(ev, c->loc, PG_ERR_ARG, "pow() with a negative exponent and a modulus is not supported");
    value r = value_int(1 % m), base = eval_binop(ev, TK_PERCENT, value_int(b), value_int(m), c->loc);
    for (; e > 0; e >>= 1) {
        if (e & 1)
            r = eval_binop(ev, TK_PERCENT, eval_binop(ev, TK_STAR, r, base, c->loc), value_int(m), c->loc);
        base = eval_binop(ev, TK_PERCENT, eval_binop(ev, TK_STAR, base, base, c->loc), value_int(m), c->loc);
    }
    return r;
}

BUILTIN(chr, "chr")
static value bi_chr(evaluator *ev, const call_args *c) {
    want_args(ev, c, "chr", 1, 1);
    int64_t cp = builtins_int(ev, c->args[0], "chr()", c->loc);
    if (cp < 0 || cp > 0x10ffff)
        eval_error(ev, c->loc, PG_ERR_ARG, "chr() arg not in range(0x110000)");
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return value_str(ev, b, n);
}

BUILTIN(ord, "ord")
static value bi_ord(evaluator *ev, const call_args *c) {
    want_args(ev, c, "ord", 1, 1);
    value s = c->args[0];
    if (s.t != VT_STR || s.u.s->len < 1 || s.u.s->len > 4)
        eval_error(ev, c->loc, PG_ERR_ARG, "ord() expected a character");
    const unsigned char *p = (const unsigned char *)s.u.s->data;
    int64_t n = s.u.s->len;
    if (n == 1)
        return value_int(p[0]);
    int64_t cp = p[0] & (0x3f >> (n - 1));
    for (int64_t i = 1; i < n; i++)
        cp = (cp << 6) | (p[i] & 0x3f);
    return value_int(cp);
}

static value radix_str(evaluator *ev, const call_args *c, const char *fname, const char *spec) {
    want_args(ev, c, fname, 1, 1);
    builtins_int(ev, c->args[0], fname, c->loc);
    sbuf b = { 0 };
    value_format(ev, &b, c->args[0], spec, strlen(spec), c->loc);
    return value_str(ev, b.p, b.n);
}

BUILTIN(hex, "hex")
static value bi_hex(evaluator *ev, const call_args *c) {
    return radix_str(ev, c, "hex", "#x");
}

BUILTIN(bin, "bin")
static value bi_bin(evaluator *ev, const call_args *c) {
    return radix_str(ev, c, "bin", "#b");
}

BUILTIN(callable, "callable")
static value bi_callable(evaluator *ev, const call_args *c) {
    want_args(ev, c, "callable", 1, 1);
    val_type t = c->args[0].t;
    return value_bool(t == VT_FUNC || t == VT_BUILTIN || t == VT_BOUND || t == VT_KIND ||
                      (t == VT_MODULE && c->args[0].u.mod->call));
}

// ---- math ----

// Python's math-module error rules: a NaN from a non-NaN argument is a domain error, an
// infinity from finite arguments a range error (for the functions that can overflow) or a
// domain error (log(0), atanh(1), ...).
static value math_result(evaluator *ev, double r, double x, bool can_overflow, pg_srcloc loc) {
    if (isnan(r) && !isnan(x))
        eval_error(ev, loc, PG_ERR_ARG, "math domain error");
    if (isinf(r) && isfinite(x))
        eval_error(ev, loc, PG_ERR_ARG, can_overflow ? "math range error" : "math domain error");
    return value_float(r);
}

static value math1(evaluator *ev, const call_args *c, const char *fname, double (*fn)(double),
                   bool can_overflow) {
    want_args(ev, c, fname, 1, 1);
    double x = builtins_num(ev, c->args[0], fname, c->loc);
    return math_result(ev, fn(x), x, can_overflow, c->loc);
}

#define MATH1(id, fn, ovf)                                                                 \
    BUILTIN(id, #id)                                                                       \
    static value bi_##id(evaluator *ev, const call_args *c) {                              \
        return math1(ev, c, #id, fn, ovf);                                                 \
    }

MATH1(sin, sin, false)
MATH1(cos, cos, false)
MATH1(tan, tan, false)
MATH1(asin, asin, false)
MATH1(acos, acos, false)
MATH1(atan, atan, false)
MATH1(sinh, sinh, true)
MATH1(cosh, cosh, true)
MATH1(tanh, tanh, false)
MATH1(asinh, asinh, false)
MATH1(acosh, acosh, false)
MATH1(atanh, atanh, false)
MATH1(exp, exp, true)
MATH1(expm1, expm1, true)
MATH1(log2, log2, false)
MATH1(log10, log10, false)
MATH1(log1p, log1p, false)
MATH1(sqrt, sqrt, false)
MATH1(fabs, fabs, false)

BUILTIN(log, "log")
static value bi_log(evaluator *ev, const call_args *c) {
    want_args(ev, c, "log", 1, 2);
    double x = builtins_num(ev, c->args[0], "log", c->loc);
    if (x <= 0.0 && !isnan(x))
        eval_error(ev, c->loc, PG_ERR_ARG, "math domain error");
    double num = log(x);
    if (c->n == 1)
        return value_float(num);
    double b = builtins_num(ev, c->args[1], "log", c->loc);
    if (b <= 0.0 && !isnan(b))
        eval_error(ev, c->loc, PG_ERR_ARG, "math domain error");
    double den = log(b);
    if (den == 0.0)
        eval_error(ev, c->loc, PG_ERR_ARG, "float division by zero");
    return value_float(num / den);
}

BUILTIN(atan2, "atan2")
static value bi_atan2(evaluator *ev, const call_args *c) {
    want_args(ev, c, "atan2", 2, 2);
    return value_float(atan2(builtins_num(ev, c->args[0], "atan2", c->loc),
                             builtins_num(ev, c->args[1], "atan2", c->loc)));
}

static value round_to_int(evaluator *ev, const call_args *c, const char *fname,
                          double (*fn)(double)) {
    want_args(ev, c, fname, 1, 1);
    value x = c->args[0];
    if (value_is_intlike(x))
        return value_int(x.u.i);
    double d = builtins_num(ev, x, fname, c->loc);
    return value_int(value_float_to_int(ev, fn(d), c->loc));
}

BUILTIN(floor, "floor")
static value bi_floor(evaluator *ev, const call_args *c) {
    return round_to_int(ev, c, "floor", floor);
}

BUILTIN(ceil, "ceil")
static value bi_ceil(evaluator *ev, const call_args *c) {
    return round_to_int(ev, c, "ceil", ceil);
}

BUILTIN(trunc, "trunc")
static value bi_trunc(evaluator *ev, const call_args *c) {
    return round_to_int(ev, c, "trunc", trunc);
}

BUILTIN(fmod, "fmod")
static value bi_fmod(evaluator *ev, const call_args *c) {
    want_args(ev, c, "fmod", 2, 2);
    double x = builtins_num(ev, c->args[0], "fmod", c->loc);
    double y = builtins_num(ev, c->args[1], "fmod", c->loc);
    if (isinf(y) && isfinite(x))
        return value_float(x);
    if ((y == 0.0 || isinf(x)) && !isnan(x) && !isnan(y))
        eval_error(ev, c->loc, PG_ERR_ARG, "math domain error");
    return value_float(fmod(x, y));
}

BUILTIN(hypot, "hypot")
static value bi_hypot(evaluator *ev, const call_args *c) {
    want_args(ev, c, "hypot", 0, 64);
    if (c->n == 2)
        return value_float(hypot(builtins_num(ev, c->args[0], "hypot", c->loc),
                                 builtins_num(ev, c->args[1], "hypot", c->loc)));
    double acc = 0.0;
    for (int i = 0; i < c->n; i++)
        acc = hypot(acc, builtins_num(ev, c->args[i], "hypot", c->loc));
    return value_float(acc);
}

BUILTIN(degrees, "degrees")
static value bi_degrees(evaluator *ev, const call_args *c) {
    want_args(ev, c, "degrees", 1, 1);
    return value_float(builtins_num(ev, c->args[0], "degrees", c->loc) * (180.0 / PG_PI));
}

BUILTIN(radians, "radians")
static value bi_radians(evaluator *ev, const call_args *c) {
    want_args(ev, c, "radians", 1, 1);
    return value_float(builtins_num(ev, c->args[0], "radians", c->loc) * (PG_PI / 180.0));
}

BUILTIN(isclose, "isclose")
static value bi_isclose(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "a", "b", "rel_tol", "abs_tol" };
    value v[4];
    builtins_bind(ev, c, "isclose", names, 4, 2, v);
    double a = builtins_num(ev, v[0], "isclose", c->loc), b = builtins_num(ev, v[1], "isclose", c->loc);
    double rel = given(v[2]) ? builtins_num(ev, v[2], "isclose", c->loc) : 1e-09;
    double abs_tol = given(v[3]) ? builtins_num(ev, v[3], "isclose", c->loc) : 0.0;
    if (rel < 0.0 || abs_tol < 0.0)
        eval_error(ev, c->loc, PG_ERR_ARG, "tolerances must be non-negative");
    if (a == b)
        return value_bool(true);
    if (isinf(a) || isinf(b))
        return value_bool(false);
    double diff = fabs(b - a);
    return value_bool(diff <= fabs(rel * b) || diff <= fabs(rel * a) || diff <= abs_tol);
}

BUILTIN(copysign, "copysign")
static value bi_copysign(evaluator *ev, const call_args *c) {
    want_args(ev, c, "copysign", 2, 2);
    return value_float(copysign(builtins_num(ev, c->args[0], "copysign", c->loc),
                                builtins_num(ev, c->args[1], "copysign", c->loc)));
}

BUILTIN(gcd, "gcd")
static value bi_gcd(evaluator *ev, const call_args *c) {
    want_args(ev, c, "gcd", 0, 64);
    uint64_t g = 0;
    for (int i = 0; i < c->n; i++) {
        int64_t x = builtins_int(ev, c->args[i], "gcd()", c->loc);
        uint64_t b = x < 0 ? 0u - (uint64_t)x : (uint64_t)x;
        while (b) {
            uint64_t t = g % b;
            g = b;
            b = t;
        }
    }
    if (g > (uint64_t)INT64_MAX)
        eval_error(ev, c->loc, PG_ERR_ARG, "integer overflow (results must fit in 64 bits)");
    return value_int((int64_t)g);
}

static value float_test(evaluator *ev, const call_args *c, const char *fname, int which) {
    want_args(ev, c, fname, 1, 1);
    double x = builtins_num(ev, c->args[0], fname, c->loc);
    return value_bool(which == 0 ? isnan(x) : which == 1 ? isinf(x) : isfinite(x));
}

BUILTIN(isnan, "isnan")
static value bi_isnan(evaluator *ev, const call_args *c) {
    return float_test(ev, c, "isnan", 0);
}

BUILTIN(isinf, "isinf")
static value bi_isinf(evaluator *ev, const call_args *c) {
    return float_test(ev, c, "isinf", 1);
}

BUILTIN(isfinite, "isfinite")
static value bi_isfinite(evaluator *ev, const call_args *c) {
    return float_test(ev, c, "isfinite", 2);
}

BUILTIN(factorial, "factorial")
static value bi_factorial(evaluator *ev, const call_args *c) {
    want_args(ev, c, "factorial", 1, 1);
    int64_t n = builtins_int(ev, c->args[0], "factorial()", c->loc);
    if (n < 0)
        eval_error(ev, c->loc, PG_ERR_ARG, "factorial() not defined for negative values");
    value r = value_int(1);
    for (int64_t i = 2; i <= n; i++)
        r = eval_binop(ev, TK_STAR, r, value_int(i), c->loc);
    return r;
}

// math.pow: always a float, with the math module's errors.
BUILTIN(math_pow, "pow")
static value bi_math_pow(evaluator *ev, const call_args *c) {
    want_args(ev, c, "pow", 2, 2);
    double x = builtins_num(ev, c->args[0], "pow", c->loc);
    double y = builtins_num(ev, c->args[1], "pow", c->loc);
    double r = pow(x, y);
    if (isfinite(x) && isfinite(y)) {
        if (isnan(r))
            eval_error(ev, c->loc, PG_ERR_ARG, "math domain error");
        if (isinf(r))
            eval_error(ev, c->loc, PG_ERR_ARG, x == 0.0 ? "math domain error" : "math range error");
    }
    return value_float(r);
}

// ---- music helpers (pygmu's utils.py) ----

static const double renold_cents[12] = { 0, 1.914023, 3.6104998, 6.244825, 8.033583, -1.8587259,
                                         0, 1.804308, 3.829694, 6.021689, 7.952746, 9.64478287 };
static const double just_cents[12] = { 0,      11.73, 3.91,  15.64,  -13.69, -1.96,
                                       -17.49, 1.96,  13.69, -15.64, -3.91,  -11.73 };
static const double ratio_min = 1.1754944e-38; // utils.RATIO_MIN (float32's smallest normal)

// utils.freq_to_nearest_*_freq: the nearest step of a tempered scale based on C0.
static double nearest_tempered(evaluator *ev, double f, double a_hz, const double *cents,
                               pg_srcloc loc) {
    double c0 = a_hz * pow(2.0, -4.75);
    double raw = 12.0 * log2(f / c0);
    int64_t steps = value_round_half_even(ev, raw, loc);
    int64_t pc = ((steps % 12) + 12) % 12;
    double bent = (double)steps + cents[pc] / 100.0;
    return c0 * pow(2.0, bent / 12.0);
}

static value nearest_freq(evaluator *ev, const call_args *c, const char *fname, double a_default,
                          const double *cents) {
    static const char *const names[] = { "frequency", "a_hz" };
    value a[2];
    builtins_bind(ev, c, fname, names, 2, 1, a);
    double f = builtins_num(ev, a[0], fname, c->loc);
    double a_hz = given(a[1]) ? builtins_num(ev, a[1], fname, c->loc) : a_default;
    return value_float(nearest_tempered(ev, f, a_hz, cents, c->loc));
}

BUILTIN(just_freq, "freq_to_nearest_just_freq")
static value bi_just_freq(evaluator *ev, const call_args *c) {
    return nearest_freq(ev, c, "freq_to_nearest_just_freq", 440.0, just_cents);
}

BUILTIN(renold_freq, "freq_to_nearest_renold_freq")
static value bi_renold_freq(evaluator *ev, const call_args *c) {
    return nearest_freq(ev, c, "freq_to_nearest_renold_freq", 432.0, renold_cents);
}

BUILTIN(pitch_to_freq, "pitch_to_freq")
static value bi_pitch_to_freq(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "note", "tuning_system", "a_hz" };
    value a[3];
    builtins_bind(ev, c, "pitch_to_freq", names, 3, 1, a);
    value steps = eval_binop(ev, TK_MINUS, a[0], value_int(69), c->loc);
    double a_hz = given(a[2]) ? builtins_num(ev, a[2], "pitch_to_freq", c->loc) : 440.0;
    double et = a_hz * pow(2.0, builtins_num(ev, steps, "pitch_to_freq", c->loc) / 12.0);
    const char *sys = "12TET";
    if (given(a[1])) {
        if (a[1].t != VT_STR)
            eval_error(ev, c->loc, PG_ERR_ARG, "pitch_to_freq(): tuning_system must be a str");
        sys = a[1].u.s->data;
    }
    if (strcmp(sys, "Renold") == 0)
        return value_float(nearest_tempered(ev, et, a_hz, renold_cents, c->loc));
    if (strcmp(sys, "Just") == 0)
        return value_float(nearest_tempered(ev, et, a_hz, just_cents, c->loc));
    if (strcmp(sys, "12TET") != 0 && strcmp(sys, "833") != 0)
        fprintf(stderr, "Unknown tuning system. %s  - sticking with 12TET.\n", sys);
    return value_float(et);
}

BUILTIN(mtof, "mtof")
static value bi_mtof(evaluator *ev, const call_args *c) {
    want_args(ev, c, "mtof", 1, 1);
    value d = eval_binop(ev, TK_SLASH, eval_binop(ev, TK_MINUS, c->args[0], value_int(69), c->loc),
                         value_int(12), c->loc);
    return value_float(440.0 * pow(2.0, value_as_double(d)));
}

BUILTIN(ftom, "ftom")
static value bi_ftom(evaluator *ev, const call_args *c) {
    want_args(ev, c, "ftom", 1, 1);
    double f = builtins_num(ev, c->args[0], "ftom", c->loc);
    if (!(f > 0.0))
        eval_error(ev, c->loc, PG_ERR_ARG, "math domain error");
    return value_float(69.0 + 12.0 * log(f / 440.0) / log(2.0));
}

BUILTIN(freq_to_pitch, "freq_to_pitch")
static value bi_freq_to_pitch(evaluator *ev, const call_args *c) {
    return bi_ftom(ev, c);
}

// Applies fn to a number, or to each element of a (nested) list, as numpy would.
static value map_num(evaluator *ev, value x, double (*fn)(double), const char *fname,
                     pg_srcloc loc) {
    if (x.t == VT_LIST || x.t == VT_TUPLE || x.t == VT_RANGE) {
        value items = list_of(ev, x, loc);
        value out = value_list(ev, items.u.l->n);
        for (int64_t i = 0; i < items.u.l->n; i++)
            out.u.l->items[i] = map_num(ev, items.u.l->items[i], fn, fname, loc);
        out.u.l->n = items.u.l->n;
        return out;
    }
    return value_float(fn(builtins_num(ev, x, fname, loc)));
}

static double db_to_ratio_1(double db) {
    return pow(10.0, db / 20.0);
}

static double ratio_to_db_1(double r) {
    return 20.0 * log10(r > ratio_min ? r : ratio_min);
}

BUILTIN(db_to_ratio, "db_to_ratio")
static value bi_db_to_ratio(evaluator *ev, const call_args *c) {
    want_args(ev, c, "db_to_ratio", 1, 1);
    return map_num(ev, c->args[0], db_to_ratio_1, "db_to_ratio", c->loc);
}

BUILTIN(ratio_to_db, "ratio_to_db")
static value bi_ratio_to_db(evaluator *ev, const call_args *c) {
    want_args(ev, c, "ratio_to_db", 1, 1);
    return map_num(ev, c->args[0], ratio_to_db_1, "ratio_to_db", c->loc);
}

BUILTIN(lerp, "lerp")
static value bi_lerp(evaluator *ev, const call_args *c) {
    want_args(ev, c, "lerp", 5, 5);
    // y0 + (x - x0) * (y1 - y0) / (x1 - x0), with Python's arithmetic in this order.
    const value *a = c->args;
    value t = eval_binop(ev, TK_STAR, eval_binop(ev, TK_MINUS, a[0], a[1], c->loc),
                         eval_binop(ev, TK_MINUS, a[4], a[3], c->loc), c->loc);
    t = eval_binop(ev, TK_SLASH, t, eval_binop(ev, TK_MINUS, a[2], a[1], c->loc), c->loc);
    return eval_binop(ev, TK_PLUS, a[3], t, c->loc);
}

BUILTIN(clamp, "clamp")
static value bi_clamp(evaluator *ev, const call_args *c) {
    want_args(ev, c, "clamp", 3, 3); // pygmu's order: clamp(xlo, x, xhi)
    if (value_lt(ev, c->args[1], c->args[0], c->loc))
        return c->args[0];
    if (value_lt(ev, c->args[2], c->args[1], c->loc))
        return c->args[2];
    return c->args[1];
}

BUILTIN(sign, "sign")
static value bi_sign(evaluator *ev, const call_args *c) {
    want_args(ev, c, "sign", 1, 1);
    double x = builtins_num(ev, c->args[0], "sign", c->loc);
    return value_int(x < 0 ? -1 : (x > 0 ? 1 : 0));
}

BUILTIN(velocity_to_db, "velocity_to_db")
static value bi_velocity_to_db(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "velocity", "reference" };
    value a[2];
    builtins_bind(ev, c, "velocity_to_db", names, 2, 1, a);
    double v = builtins_num(ev, a[0], "velocity_to_db", c->loc);
    double ref = given(a[1]) ? builtins_num(ev, a[1], "velocity_to_db", c->loc) : 127.0;
    if (v == 0.0)
        return value_float(-HUGE_VAL);
    if (ref == 0.0)
        eval_error(ev, c->loc, PG_ERR_ARG, "float division by zero");
    double r = v / ref;
    if (r <= 0.0)
        eval_error(ev, c->loc, PG_ERR_ARG, "math domain error");
    return value_float(20.0 * log10(r));
}

BUILTIN(stof, "stof")
static value bi_stof(evaluator *ev, const call_args *c) {
    want_args(ev, c, "stof", 1, 1);
    value frames = eval_binop(ev, TK_STAR, c->args[0], value_int(48000), c->loc);
    if (frames.t == VT_FLOAT)
        return value_int(value_float_to_int(ev, frames.u.f, c->loc));
    return value_int(builtins_int(ev, frames, "stof", c->loc));
}

BUILTIN(midi_to_note, "midi_to_note")
static value bi_midi_to_note(evaluator *ev, const call_args *c) {
    static const char *const names[12] = { "C",  "Db", "D",  "Eb", "E",  "F",
                                           "Gb", "G",  "Ab", "A",  "Bb", "B" };
    want_args(ev, c, "midi_to_note", 1, 1);
    int64_t p = builtins_int(ev, c->args[0], "midi_to_note()", c->loc);
    int64_t pc = ((p % 12) + 12) % 12;
    int64_t octave = (p - pc) / 12 - 1;
    char buf[48];
    snprintf(buf, sizeof buf, "%s%lld", names[pc], (long long)octave);
    return value_cstr(ev, buf);
}

// ---- random (CPython's algorithms, prng.c) ----

BUILTIN(seed, "seed")
static value bi_seed(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "a", "version" };
    value a[2];
    builtins_bind(ev, c, "seed", names, 2, 0, a);
    value x = a[0];
    if (!given(x) || x.t == VT_NONE)
        prng_seed_int(&ev->rng, 0); // deterministic: no seed means the default seed 0
    else if (value_is_intlike(x))
        prng_seed_int(&ev->rng, x.u.i);
    else if (x.t == VT_FLOAT && !isnan(x.u.f))
        prng_seed_float(&ev->rng, x.u.f);
    else
        eval_error(ev, c->loc, PG_ERR_ARG, "seed() takes an int or a float in .pg, not '%s'",
                   value_type_name(x));
    return value_none();
}

BUILTIN(random, "random")
static value bi_random(evaluator *ev, const call_args *c) {
    want_args(ev, c, "random", 0, 0);
    return value_float(prng_random(&ev->rng));
}

BUILTIN(uniform, "uniform")
static value bi_uniform(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "a", "b" };
    value a[2];
    builtins_bind(ev, c, "uniform", names, 2, 2, a);
    double lo = builtins_num(ev, a[0], "uniform", c->loc), hi = builtins_num(ev, a[1], "uniform", c->loc);
    return value_float(prng_uniform(&ev->rng, lo, hi));
}

// randrange's int arguments: CPython 3.11 still accepts integral floats.
static int64_t range_arg(evaluator *ev, value v, const char *which, pg_srcloc loc) {
    if (value_is_intlike(v))
        return v.u.i;
    if (v.t == VT_FLOAT && v.u.f == floor(v.u.f))
        return value_float_to_int(ev, v.u.f, loc);
    eval_error(ev, loc, PG_ERR_ARG, "non-integer %s for randrange()", which);
}

static value randrange(evaluator *ev, value start, value stop, value stp, pg_srcloc loc) {
    int64_t a = range_arg(ev, start, "arg 1", loc);
    if (!given(stop) || stop.t == VT_NONE) {
        if (a > 0)
            return value_int(prng_below(&ev->rng, a));
        eval_error(ev, loc, PG_ERR_ARG, "empty range for randrange()");
    }
    int64_t b = range_arg(ev, stop, "stop", loc);
    int64_t s = given(stp) ? range_arg(ev, stp, "step", loc) : 1;
    if (s == 0)
        eval_error(ev, loc, PG_ERR_ARG, "zero step for randrange()");
    int64_t out;
    if (!prng_randrange(&ev->rng, a, b, s, &out))
        eval_error(ev, loc, PG_ERR_ARG, "empty range for randrange() (%lld, %lld, %lld)",
                   (long long)a, (long long)b, (long long)(b - a));
    return value_int(out);
}

BUILTIN(randrange, "randrange")
static value bi_randrange(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "start", "stop", "step" };
    value a[3];
    builtins_bind(ev, c, "randrange", names, 3, 1, a);
    return randrange(ev, a[0], a[1], a[2], c->loc);
}

BUILTIN(randint, "randint")
static value bi_randint(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "a", "b" };
    value a[2];
    builtins_bind(ev, c, "randint", names, 2, 2, a);
    value stop = eval_binop(ev, TK_PLUS, a[1], value_int(1), c->loc);
    value none = { .t = VT_UNBOUND };
    return randrange(ev, a[0], stop, none, c->loc);
}

BUILTIN(choice, "choice")
static value bi_choice(evaluator *ev, const call_args *c) {
    want_args(ev, c, "choice", 1, 1);
    int64_t n = value_len(ev, c->args[0], c->loc);
    if (n == 0)
        eval_error(ev, c->loc, PG_ERR_ARG, "Cannot choose from an empty sequence");
    return eval_getitem(ev, c->args[0], value_int(prng_below(&ev->rng, n)), c->loc);
}

BUILTIN(shuffle, "shuffle")
static value bi_shuffle(evaluator *ev, const call_args *c) {
    want_args(ev, c, "shuffle", 1, 1);
    if (c->args[0].t != VT_LIST)
        eval_error(ev, c->loc, PG_ERR_ARG, "shuffle() needs a list, not '%s'",
                   value_type_name(c->args[0]));
    list_obj *l = c->args[0].u.l;
    for (int64_t i = l->n - 1; i >= 1; i--) {
        int64_t j = prng_below(&ev->rng, i + 1);
        value t = l->items[i];
        l->items[i] = l->items[j];
        l->items[j] = t;
    }
    return value_none();
}

static void mu_sigma(evaluator *ev, const call_args *c, const char *fname, double *mu,
                     double *sigma) {
    static const char *const names[] = { "mu", "sigma" };
    value a[2];
    builtins_bind(ev, c, fname, names, 2, 0, a);
    *mu = given(a[0]) ? builtins_num(ev, a[0], fname, c->loc) : 0.0;
    *sigma = given(a[1]) ? builtins_num(ev, a[1], fname, c->loc) : 1.0;
}

BUILTIN(gauss, "gauss")
static value bi_gauss(evaluator *ev, const call_args *c) {
    double mu, sigma;
    mu_sigma(ev, c, "gauss", &mu, &sigma);
    return value_float(prng_gauss(&ev->rng, mu, sigma));
}

BUILTIN(normalvariate, "normalvariate")
static value bi_normalvariate(evaluator *ev, const call_args *c) {
    double mu, sigma;
    mu_sigma(ev, c, "normalvariate", &mu, &sigma);
    return value_float(prng_normalvariate(&ev->rng, mu, sigma));
}

BUILTIN(getrandbits, "getrandbits")
static value bi_getrandbits(evaluator *ev, const call_args *c) {
    want_args(ev, c, "getrandbits", 1, 1);
    int64_t k = builtins_int(ev, c->args[0], "getrandbits()", c->loc);
    if (k < 0)
        eval_error(ev, c->loc, PG_ERR_ARG, "number of bits must be non-negative");
    if (k > 63)
        eval_error(ev, c->loc, PG_ERR_ARG, "getrandbits(%lld): at most 63 bits in .pg", (long long)k);
    return value_int((int64_t)prng_getrandbits(&ev->rng, (int)k));
}

// random.sample, CPython 3.11's algorithm: a pool for small populations, else rejection of
// repeated indices.
BUILTIN(sample, "sample")
static value bi_sample(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "population", "k" };
    value a[2];
    builtins_bind(ev, c, "sample", names, 2, 2, a);
    value pop = list_of(ev, a[0], c->loc);
    int64_t n = pop.u.l->n, k = builtins_int(ev, a[1], "sample()", c->loc);
    if (k < 0 || k > n)
        eval_error(ev, c->loc, PG_ERR_ARG, "Sample larger than population or is negative");
    value out = value_list(ev, k);
    out.u.l->n = k;
    int64_t setsize = 21;
    if (k > 5)
        setsize += (int64_t)pow(4.0, ceil(log((double)(k * 3)) / log(4.0)));
    if (n <= setsize) {
        value *pool = ARENA_ARRAY(ev->a, value, n + 1);
        memcpy(pool, pop.u.l->items, (size_t)n * sizeof(value));
        for (int64_t i = 0; i < k; i++) {
            int64_t j = prng_below(&ev->rng, n - i);
            out.u.l->items[i] = pool[j];
            pool[j] = pool[n - i - 1];
        }
        return out;
    }
    unsigned char *selected = arena_alloc(ev->a, (size_t)n);
    for (int64_t i = 0; i < k; i++) {
        int64_t j = prng_below(&ev->rng, n);
        while (selected[j])
            j = prng_below(&ev->rng, n);
        selected[j] = 1;
        out.u.l->items[i] = pop.u.l->items[j];
    }
    return out;
}

// ---- numpy look-alikes ----

static double identity_fn(double x) {
    return x;
}

static value np_unary(evaluator *ev, const call_args *c, const char *fname, double (*fn)(double)) {
    want_args(ev, c, fname, 1, 1);
    return map_num(ev, c->args[0], fn, fname, c->loc);
}

#define NP1(id, fn)                                                                        \
    BUILTIN(np_##id, #id)                                                                  \
    static value bi_np_##id(evaluator *ev, const call_args *c) {                           \
        return np_unary(ev, c, #id, fn);                                                   \
    }

NP1(sin, sin)
NP1(cos, cos)
NP1(tan, tan)
NP1(arcsin, asin)
NP1(arccos, acos)
NP1(arctan, atan)
NP1(sinh, sinh)
NP1(cosh, cosh)
NP1(tanh, tanh)
NP1(exp, exp)
NP1(log, log)
NP1(log2, log2)
NP1(log10, log10)
NP1(sqrt, sqrt)
NP1(abs, fabs)
NP1(floor, floor)
NP1(ceil, ceil)
NP1(float64, identity_fn)

static double rint_half_even(double x) {
    double fl = floor(x), diff = x - fl;
    if (diff > 0.5 || (diff == 0.5 && fmod(fl, 2.0) != 0.0))
        return fl + 1.0;
    return fl;
}

static double float32_of(double x) {
    return (double)(float)x;
}

NP1(float32, float32_of)

// np.round(x, decimals=0): numpy multiplies by 10^d, rounds half to even and divides.
BUILTIN(np_round, "round")
static value bi_np_round(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "a", "decimals" };
    value a[2];
    builtins_bind(ev, c, "round", names, 2, 1, a);
    int64_t d = given(a[1]) ? builtins_int(ev, a[1], "round()", c->loc) : 0;
    if (d == 0)
        return map_num(ev, a[0], rint_half_even, "round", c->loc);
    double scale = pow(10.0, (double)(d < 0 ? -d : d));
    value items = a[0];
    if (value_is_num(items)) {
        double x = value_as_double(items);
        double y = d > 0 ? rint_half_even(x * scale) / scale : rint_half_even(x / scale) * scale;
        return value_float(y);
    }
    value l = list_of(ev, items, c->loc);
    value out = value_list(ev, l.u.l->n);
    for (int64_t i = 0; i < l.u.l->n; i++) {
        value one[2] = { l.u.l->items[i], value_int(d) };
        call_args sub = { .loc = c->loc, .args = one, .n = 2 };
        out.u.l->items[i] = bi_np_round(ev, &sub);
    }
    out.u.l->n = l.u.l->n;
    return out;
}

static value np_clip1(evaluator *ev, value x, double lo, double hi, pg_srcloc loc) {
    if (x.t == VT_LIST || x.t == VT_TUPLE) {
        value out = value_list(ev, x.u.l->n);
        for (int64_t i = 0; i < x.u.l->n; i++)
            out.u.l->items[i] = np_clip1(ev, x.u.l->items[i], lo, hi, loc);
        out.u.l->n = x.u.l->n;
        return out;
    }
    double v = builtins_num(ev, x, "clip", loc);
    v = v < lo ? lo : (v > hi ? hi : v);
    return x.t == VT_FLOAT ? value_float(v) : value_int((int64_t)v);
}

BUILTIN(np_clip, "clip")
static value bi_np_clip(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "a", "a_min", "a_max" };
    value a[3];
    builtins_bind(ev, c, "clip", names, 3, 3, a);
    double lo = a[1].t == VT_NONE ? -HUGE_VAL : builtins_num(ev, a[1], "clip", c->loc);
    double hi = a[2].t == VT_NONE ? HUGE_VAL : builtins_num(ev, a[2], "clip", c->loc);
    return np_clip1(ev, a[0], lo, hi, c->loc);
}

BUILTIN(np_array, "array")
static value bi_np_array(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "object", "dtype" };
    value a[2];
    builtins_bind(ev, c, "array", names, 2, 1, a);
    if (value_is_num(a[0]))
        return a[0];
    return value_to_list(ev, a[0], c->loc);
}

// np.linspace, numpy's recipe: y_i = i * step + start, the last one = stop when endpoint.
BUILTIN(np_linspace, "linspace")
static value bi_np_linspace(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "start", "stop", "num", "endpoint" };
    value a[4];
    builtins_bind(ev, c, "linspace", names, 4, 2, a);
    double start = builtins_num(ev, a[0], "linspace", c->loc);
    double stop = builtins_num(ev, a[1], "linspace", c->loc);
    int64_t num = given(a[2]) ? builtins_int(ev, a[2], "linspace()", c->loc) : 50;
    bool endpoint = !given(a[3]) || value_truthy(a[3]);
    if (num < 0)
        eval_error(ev, c->loc, PG_ERR_ARG, "Number of samples, %lld, must be non-negative.",
                   (long long)num);
    int64_t div = endpoint ? num - 1 : num;
    double delta = stop - start, stp = div > 0 ? delta / (double)div : 0.0;
    value out = value_list(ev, 0);
    value_list_reserve(ev, out.u.l, num, c->loc);
    for (int64_t i = 0; i < num; i++) {
        double y;
        if (div > 0)
            y = stp == 0.0 ? (double)i / (double)div * delta : (double)i * stp;
        else
            y = (double)i * delta;
        out.u.l->items[i] = value_float(y + start);
    }
    out.u.l->n = num;
    if (endpoint && num > 1)
        out.u.l->items[num - 1] = value_float(stop);
    return out;
}

// np.arange(stop) / (start, stop[, step]): ints stay ints; length ceil((stop - start) / step).
BUILTIN(np_arange, "arange")
static value bi_np_arange(evaluator *ev, const call_args *c) {
    want_args(ev, c, "arange", 1, 3);
    value start = c->n == 1 ? value_int(0) : c->args[0];
    value stop = c->n == 1 ? c->args[0] : c->args[1];
    value stp = c->n == 3 ? c->args[2] : value_int(1);
    bool ints = value_is_intlike(start) && value_is_intlike(stop) && value_is_intlike(stp);
    double s0 = builtins_num(ev, start, "arange", c->loc), s1 = builtins_num(ev, stop, "arange", c->loc);
    double d = builtins_num(ev, stp, "arange", c->loc);
    if (d == 0.0)
        eval_error(ev, c->loc, PG_ERR_ARG, "arange(): step must not be zero");
    double len_d = ceil((s1 - s0) / d);
    int64_t n = len_d > 0 ? (int64_t)fmin(len_d, 9.0e18) : 0;
    value out = value_list(ev, 0);
    value_list_reserve(ev, out.u.l, n, c->loc);
    for (int64_t i = 0; i < n; i++)
        out.u.l->items[i] = ints ? value_int(start.u.i + i * stp.u.i) : value_float(s0 + (double)i * d);
    out.u.l->n = n;
    return out;
}

static value filled(evaluator *ev, const call_args *c, const char *fname, double x) {
    static const char *const names[] = { "shape", "dtype" };
    value a[2];
    builtins_bind(ev, c, fname, names, 2, 1, a);
    int64_t n = builtins_int(ev, a[0], fname, c->loc);
    if (n < 0)
        eval_error(ev, c->loc, PG_ERR_ARG, "negative dimensions are not allowed");
    value out = value_list(ev, 0);
    value_list_reserve(ev, out.u.l, n, c->loc);
    for (int64_t i = 0; i < n; i++)
        out.u.l->items[i] = value_float(x);
    out.u.l->n = n;
    return out;
}

BUILTIN(np_zeros, "zeros")
static value bi_np_zeros(evaluator *ev, const call_args *c) {
    return filled(ev, c, "zeros", 0.0);
}

BUILTIN(np_ones, "ones")
static value bi_np_ones(evaluator *ev, const call_args *c) {
    return filled(ev, c, "ones", 1.0);
}

BUILTIN(np_power, "power")
static value bi_np_power(evaluator *ev, const call_args *c) {
    want_args(ev, c, "power", 2, 2);
    return value_float(pow(builtins_num(ev, c->args[0], "power", c->loc),
                           builtins_num(ev, c->args[1], "power", c->loc)));
}

static value np_reduce(evaluator *ev, const call_args *c, const char *fname, int which) {
    want_args(ev, c, fname, 1, 1);
    value l = list_of(ev, c->args[0], c->loc);
    if (l.u.l->n == 0 && which >= 2)
        eval_error(ev, c->loc, PG_ERR_ARG, "zero-size array to reduction operation %s", fname);
    double acc = which == 0 || which == 1 ? 0.0 : builtins_num(ev, l.u.l->items[0], fname, c->loc);
    for (int64_t i = 0; i < l.u.l->n; i++) {
        double x = builtins_num(ev, l.u.l->items[i], fname, c->loc);
        if (which <= 1)
            acc += x;
        else if (which == 2 ? x > acc : x < acc)
            acc = x;
    }
    if (which == 1)
        acc = l.u.l->n ? acc / (double)l.u.l->n : (double)NAN;
    return value_float(acc);
}

BUILTIN(np_sum, "sum")
static value bi_np_sum(evaluator *ev, const call_args *c) {
    return np_reduce(ev, c, "sum", 0);
}

BUILTIN(np_mean, "mean")
static value bi_np_mean(evaluator *ev, const call_args *c) {
    return np_reduce(ev, c, "mean", 1);
}

BUILTIN(np_max, "max")
static value bi_np_max(evaluator *ev, const call_args *c) {
    return np_reduce(ev, c, "max", 2);
}

BUILTIN(np_min, "min")
static value bi_np_min(evaluator *ev, const call_args *c) {
    return np_reduce(ev, c, "min", 3);
}

// np.random.seed(n): the seed of every NoisePE built afterwards (see methods.c).
BUILTIN(np_seed, "seed")
static value bi_np_seed(evaluator *ev, const call_args *c) {
    want_args(ev, c, "seed", 0, 1);
    int64_t n = c->n && c->args[0].t != VT_NONE ? builtins_int(ev, c->args[0], "seed()", c->loc) : 0;
    if (n < 0 || n > 0xffffffffLL)
        eval_error(ev, c->loc, PG_ERR_ARG, "Seed must be between 0 and 2**32 - 1");
    ev->noise_seed = (uint64_t)n;
    return value_none();
}

// ---- os, sys, time ----

static value str_arg(evaluator *ev, value v, const char *fname, pg_srcloc loc) {
    if (v.t != VT_STR)
        eval_error(ev, loc, PG_ERR_ARG, "%s() argument must be str, not '%s'", fname,
                   value_type_name(v));
    return v;
}

// os.path.join: an absolute part discards what came before; '/' joins the rest.
BUILTIN(path_join, "join")
static value bi_path_join(evaluator *ev, const call_args *c) {
    want_args(ev, c, "join", 1, 64);
    sbuf b = { 0 };
    value_sbuf_puts(ev, &b, "");
    for (int i = 0; i < c->n; i++) {
        value p = str_arg(ev, c->args[i], "join", c->loc);
        if (p.u.s->len && p.u.s->data[0] == '/')
            b.n = 0;
        else if (b.n && b.p[b.n - 1] != '/')
            value_sbuf_puts(ev, &b, "/");
        value_sbuf_put(ev, &b, p.u.s->data, (size_t)p.u.s->len);
    }
    return value_str(ev, b.p, b.n);
}

static const char *last_slash(value p) {
    const char *s = p.u.s->data;
    for (int64_t i = p.u.s->len - 1; i >= 0; i--)
        if (s[i] == '/')
            return s + i;
    return NULL;
}

BUILTIN(path_dirname, "dirname")
static value bi_path_dirname(evaluator *ev, const call_args *c) {
    want_args(ev, c, "dirname", 1, 1);
    value p = str_arg(ev, c->args[0], "dirname", c->loc);
    const char *sl = last_slash(p);
    if (!sl)
        return value_str(ev, "", 0);
    size_t n = (size_t)(sl - p.u.s->data) + 1;
    while (n > 1 && p.u.s->data[n - 1] == '/') // trailing slashes go, except a root
        n--;
    return value_str(ev, p.u.s->data, n);
}

BUILTIN(path_basename, "basename")
static value bi_path_basename(evaluator *ev, const call_args *c) {
    want_args(ev, c, "basename", 1, 1);
    value p = str_arg(ev, c->args[0], "basename", c->loc);
    const char *sl = last_slash(p);
    if (!sl)
        return p;
    return value_str(ev, sl + 1, (size_t)(p.u.s->data + p.u.s->len - sl - 1));
}

BUILTIN(sleep, "sleep")
static value bi_sleep(evaluator *ev, const call_args *c) {
    (void)ev;
    (void)c;
    return value_none(); // time.sleep in a piece (real-time playback) means nothing here
}

// ---- the graph ----

BUILTIN(frame_rate, "frame_rate")
static value bi_frame_rate(evaluator *ev, const call_args *c) {
    want_args(ev, c, "frame_rate", 0, 1);
    if (c->n) {
        value v = c->args[0];
        int64_t n = v.t == VT_FLOAT && v.u.f == floor(v.u.f)
                        ? value_float_to_int(ev, v.u.f, c->loc)
                        : builtins_int(ev, v, "frame_rate()", c->loc);
        if (n <= 0 || n > 100000000)
            eval_error(ev, c->loc, PG_ERR_ARG, "frame_rate must be > 0, got %lld", (long long)n);
        pg_graph_set_default_frame_rate(ev->s->graph, (int)n);
    }
    return value_int(pg_graph_default_frame_rate(ev->s->graph));
}

BUILTIN(render, "render")
static value bi_render(evaluator *ev, const call_args *c) {
    want_args(ev, c, "render", 1, 1);
    methods_render(ev, c->args[0], c->loc);
    return value_none();
}

static value transport(evaluator *ev, const call_args *c, const char *fname) {
    if (c->n < 1)
        eval_error(ev, c->loc, PG_ERR_ARG, "%s() missing required argument 'src_pe'", fname);
    if (c->args[0].t != VT_PE)
        eval_error(ev, c->loc, PG_ERR_ARG, "%s() needs a PE, got '%s'", fname,
                   value_type_name(c->args[0]));
    value t = { .t = VT_TRANSPORT, .u.i = c->args[0].u.i };
    return t;
}

BUILTIN(Transport, "Transport")
static value bi_Transport(evaluator *ev, const call_args *c) {
    return transport(ev, c, "Transport");
}

BUILTIN(FtsTransport, "FtsTransport")
static value bi_FtsTransport(evaluator *ev, const call_args *c) {
    return transport(ev, c, "FtsTransport");
}

BUILTIN(Extent, "Extent")
static value bi_Extent(evaluator *ev, const call_args *c) {
    return methods_extent_new(ev, c);
}

// ---- isinstance ----

static bool is_instance(evaluator *ev, value x, value t, pg_srcloc loc) {
    if (t.t == VT_TUPLE) {
        for (int64_t i = 0; i < t.u.l->n; i++)
            if (is_instance(ev, x, t.u.l->items[i], loc))
                return true;
        return false;
    }
    if (t.t != VT_BUILTIN)
        eval_error(ev, loc, PG_ERR_ARG, "isinstance() arg 2 must be a type or tuple of types");
    const builtin *b = t.u.bi;
    if (b == &B_int)
        return value_is_intlike(x);
    if (b == &B_float)
        return x.t == VT_FLOAT;
    if (b == &B_bool)
        return x.t == VT_BOOL;
    if (b == &B_str)
        return x.t == VT_STR;
    if (b == &B_list)
        return x.t == VT_LIST;
    if (b == &B_tuple)
        return x.t == VT_TUPLE;
    if (b == &B_dict)
        return x.t == VT_DICT;
    if (b == &B_range)
        return x.t == VT_RANGE;
    if (b == &B_Extent)
        return x.t == VT_EXTENT;
    eval_error(ev, loc, PG_ERR_ARG, "isinstance() arg 2 must be a type or tuple of types");
}

// ---- tables ----

static const builtin *const global_fns[] = {
    &B_len, &B_range, &B_enumerate, &B_zip, &B_list, &B_tuple, &B_dict, &B_sorted,
    &B_reversed, &B_min, &B_max, &B_abs, &B_round, &B_int, &B_float, &B_str, &B_repr, &B_bool,
    &B_sum, &B_print, &B_isinstance, &B_map, &B_filter, &B_any, &B_all, &B_divmod, &B_pow,
    &B_chr, &B_ord, &B_hex, &B_bin, &B_callable,
    // math
    &B_sin, &B_cos, &B_tan, &B_asin, &B_acos, &B_atan, &B_atan2, &B_sinh, &B_cosh, &B_tanh,
    &B_asinh, &B_acosh, &B_atanh, &B_exp, &B_expm1, &B_log, &B_log2, &B_log10, &B_log1p,
    &B_sqrt, &B_floor, &B_ceil, &B_trunc, &B_fabs, &B_fmod, &B_hypot, &B_degrees, &B_radians,
    &B_isclose, &B_copysign, &B_gcd, &B_isnan, &B_isinf, &B_isfinite, &B_factorial,
    // music helpers
    &B_pitch_to_freq, &B_mtof, &B_ftom, &B_freq_to_pitch, &B_db_to_ratio, &B_ratio_to_db,
    &B_lerp, &B_clamp, &B_sign, &B_velocity_to_db, &B_stof, &B_midi_to_note, &B_just_freq,
    &B_renold_freq,
    // random
    &B_seed, &B_uniform, &B_randrange, &B_randint, &B_choice, &B_shuffle, &B_gauss,
    &B_normalvariate, &B_getrandbits, &B_sample,
    // the graph
    &B_frame_rate, &B_render, &B_Transport, &B_FtsTransport, &B_Extent,
};

typedef struct constant {
    const char *name;
    double x;
} constant;

static const constant global_floats[] = {
    { "pi", PG_PI }, { "e", 2.718281828459045 }, { "tau", 2.0 * PG_PI }, { "inf", HUGE_VAL },
    { "nan", (double)NAN },  { "PHI", 1.6180339887 },   { "RATIO_MIN", 1.1754944e-38 },
};

static value get_sys_path(evaluator *ev) {
    return ev->sys_path;
}

static value random_module_call(evaluator *ev, const call_args *c) {
    return bi_random(ev, c);
}

static const module_attr np_random_attrs[] = {
    { "seed", &B_np_seed, NULL, NULL, 0 },
    { NULL, NULL, NULL, NULL, 0 },
};
static const module_def mod_np_random = { "numpy.random", np_random_attrs, true, NULL };

static const module_attr numpy_attrs[] = {
    { "random", NULL, &mod_np_random, NULL, 0 },
    { "array", &B_np_array, NULL, NULL, 0 },
    { "asarray", &B_np_array, NULL, NULL, 0 },
    { "linspace", &B_np_linspace, NULL, NULL, 0 },
    { "arange", &B_np_arange, NULL, NULL, 0 },
    { "zeros", &B_np_zeros, NULL, NULL, 0 },
    { "ones", &B_np_ones, NULL, NULL, 0 },
    { "clip", &B_np_clip, NULL, NULL, 0 },
    { "abs", &B_np_abs, NULL, NULL, 0 },
    { "absolute", &B_np_abs, NULL, NULL, 0 },
    { "floor", &B_np_floor, NULL, NULL, 0 },
    { "ceil", &B_np_ceil, NULL, NULL, 0 },
    { "round", &B_np_round, NULL, NULL, 0 },
    { "around", &B_np_round, NULL, NULL, 0 },
    { "rint", &B_np_round, NULL, NULL, 0 },
    { "sin", &B_np_sin, NULL, NULL, 0 },
    { "cos", &B_np_cos, NULL, NULL, 0 },
    { "tan", &B_np_tan, NULL, NULL, 0 },
    { "arcsin", &B_np_arcsin, NULL, NULL, 0 },
    { "arccos", &B_np_arccos, NULL, NULL, 0 },
    { "arctan", &B_np_arctan, NULL, NULL, 0 },
    { "sinh", &B_np_sinh, NULL, NULL, 0 },
    { "cosh", &B_np_cosh, NULL, NULL, 0 },
    { "tanh", &B_np_tanh, NULL, NULL, 0 },
    { "exp", &B_np_exp, NULL, NULL, 0 },
    { "log", &B_np_log, NULL, NULL, 0 },
    { "log2", &B_np_log2, NULL, NULL, 0 },
    { "log10", &B_np_log10, NULL, NULL, 0 },
    { "sqrt", &B_np_sqrt, NULL, NULL, 0 },
    { "power", &B_np_power, NULL, NULL, 0 },
    { "sum", &B_np_sum, NULL, NULL, 0 },
    { "mean", &B_np_mean, NULL, NULL, 0 },
    { "max", &B_np_max, NULL, NULL, 0 },
    { "amax", &B_np_max, NULL, NULL, 0 },
    { "min", &B_np_min, NULL, NULL, 0 },
    { "amin", &B_np_min, NULL, NULL, 0 },
    { "float32", &B_np_float32, NULL, NULL, 0 },
    { "float64", &B_np_float64, NULL, NULL, 0 },
    { NULL, NULL, NULL, NULL, 0 },
};
static const module_def mod_numpy = { "numpy", numpy_attrs, false, NULL };

static const module_attr math_attrs[] = {
    { "pow", &B_math_pow, NULL, NULL, 0 },
    { NULL, NULL, NULL, NULL, 0 },
};
static const module_def mod_math = { "math", math_attrs, false, NULL };

static const module_attr random_attrs[] = {
    { "random", &B_random, NULL, NULL, 0 },
    { NULL, NULL, NULL, NULL, 0 },
};
static const module_def mod_random = { "random", random_attrs, false, random_module_call };

static const module_attr utils_attrs[] = {
    { "FRAME_RATE", NULL, NULL, NULL, 48000.0 },
    { NULL, NULL, NULL, NULL, 0 },
};
static const module_def mod_utils = { "utils", utils_attrs, false, NULL };

static const module_attr pygmu_attrs[] = {
    { "utils", NULL, &mod_utils, NULL, 0 },
    { NULL, NULL, NULL, NULL, 0 },
};
static const module_def mod_pygmu = { "pygmu", pygmu_attrs, false, NULL };

static const module_attr os_path_attrs[] = {
    { "join", &B_path_join, NULL, NULL, 0 },
    { "dirname", &B_path_dirname, NULL, NULL, 0 },
    { "basename", &B_path_basename, NULL, NULL, 0 },
    { NULL, NULL, NULL, NULL, 0 },
};
static const module_def mod_os_path = { "os.path", os_path_attrs, true, NULL };

static const module_attr os_attrs[] = {
    { "path", NULL, &mod_os_path, NULL, 0 },
    { NULL, NULL, NULL, NULL, 0 },
};
static const module_def mod_os = { "os", os_attrs, true, NULL };

static const module_attr sys_attrs[] = {
    { "path", NULL, NULL, get_sys_path, 0 },
    { NULL, NULL, NULL, NULL, 0 },
};
static const module_def mod_sys = { "sys", sys_attrs, true, NULL };

static const module_attr time_attrs[] = {
    { "sleep", &B_sleep, NULL, NULL, 0 },
    { NULL, NULL, NULL, NULL, 0 },
};
static const module_def mod_time = { "time", time_attrs, true, NULL };

typedef struct module_name {
    const char *name;
    const module_def *mod;
} module_name;

// Importable modules by their Python names.
static const module_name importable[] = {
    { "pygmu", &mod_pygmu },   { "utils", &mod_utils },        { "numpy", &mod_numpy },
    { "math", &mod_math },     { "random", &mod_random },      { "os", &mod_os },
    { "os.path", &mod_os_path }, { "sys", &mod_sys },          { "time", &mod_time },
    { "numpy.random", &mod_np_random }, { "pygmu.utils", &mod_utils },
};

// Names bound to modules before any import (pieces often rely on pg. / np. / ut.).
static const module_name predefined[] = {
    { "pg", &mod_pygmu },   { "pygmu", &mod_pygmu },   { "ut", &mod_utils },
    { "utils", &mod_utils }, { "np", &mod_numpy },     { "numpy", &mod_numpy },
    { "math", &mod_math },  { "random", &mod_random }, { "os", &mod_os },
    { "sys", &mod_sys },    { "time", &mod_time },
};

static value module_value(const module_def *m) {
    value v = { .t = VT_MODULE, .u.mod = m };
    return v;
}

value builtins_module(evaluator *ev, const char *name) {
    (void)ev;
    for (size_t i = 0; i < sizeof importable / sizeof importable[0]; i++)
        if (strcmp(importable[i].name, name) == 0)
            return module_value(importable[i].mod);
    value none = { .t = VT_UNBOUND };
    return none;
}

static value attr_value(evaluator *ev, const module_attr *a) {
    if (a->fn) {
        value v = { .t = VT_BUILTIN, .u.bi = a->fn };
        return v;
    }
    if (a->mod)
        return module_value(a->mod);
    if (a->get)
        return a->get(ev);
    if (a->num == floor(a->num) && fabs(a->num) < 1e15)
        return value_int((int64_t)a->num);
    return value_float(a->num);
}

bool builtins_module_getattr(evaluator *ev, const module_def *m, const char *name, value *out) {
    for (const module_attr *a = m->attrs; a && a->name; a++) {
        if (strcmp(a->name, name) == 0) {
            *out = attr_value(ev, a);
            return true;
        }
    }
    if (m->closed)
        return false;
    value *v = value_symtab_find(&ev->builtins, eval_intern(ev, name, strlen(name)));
    if (!v)
        return false;
    *out = *v;
    return true;
}

void builtins_module_names(evaluator *ev, const module_def *m,
                           void (*fn)(void *ctx, const char *name), void *ctx) {
    for (const module_attr *a = m->attrs; a && a->name; a++)
        fn(ctx, a->name);
    if (m->closed)
        return;
    for (uint32_t i = 0; i < ev->builtins.cap; i++)
        if (ev->builtins.keys[i])
            fn(ctx, ev->builtins.keys[i]);
}

static void put(evaluator *ev, const char *name, value v) {
    value_symtab_put(ev, &ev->builtins, eval_intern(ev, name, strlen(name)), v);
}

void builtins_init(evaluator *ev) {
    // PE constructors first, so that a builtin of the same name would win. Kinds named
    // "_..." exist only behind a chaining method and are no constructors.
    for (int k = 0; k < pg_kind_count(); k++) {
        value v = { .t = VT_KIND, .u.i = k };
        if (pg_kind_name(k)[0] != '_')
            put(ev, pg_kind_name(k), v);
    }
    for (size_t i = 0; i < sizeof global_fns / sizeof global_fns[0]; i++) {
        value v = { .t = VT_BUILTIN, .u.bi = global_fns[i] };
        put(ev, global_fns[i]->name, v);
    }
    for (size_t i = 0; i < sizeof global_floats / sizeof global_floats[0]; i++)
        put(ev, global_floats[i].name, value_float(global_floats[i].x));
    put(ev, "FRAME_RATE", value_int(48000));
    // __file__ is the piece's path (pieces find their folder with os.path.dirname).
    put(ev, "__file__", value_cstr(ev, ev->s->files[ev->file].path));
    put(ev, "__name__", value_cstr(ev, "__main__"));
    for (size_t i = 0; i < sizeof predefined / sizeof predefined[0]; i++)
        put(ev, predefined[i].name, module_value(predefined[i].mod));
    ev->sys_path = value_list(ev, 0);
}

// The builtin behind list.sort (methods.c calls it with the list as first argument).
const builtin *builtins_list_sort(void) {
    return &B_list_sort;
}
