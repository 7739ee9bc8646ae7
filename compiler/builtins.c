// builtins.c: the .pg global namespace (see builtins.h): Python's builtins (len, range,
// sorted, round, int, print, ...), the graph functions frame_rate, render, Transport and
// Extent, os / sys / time for porting, and the module registry behind `import` and
// attribute lookup on modules. The numeric builtins are in builtins_num.c. Python's
// semantics and messages.
#include "builtins.h"

#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lex.h"
#include "methods.h"
#include "midi.h"

#define BUILTIN(id, pyname)                                                                        \
    static value bi_##id(evaluator *ev, const call_args *c);                                       \
    static const builtin B_##id = { pyname, bi_##id };

// ---- argument helpers ----

void builtins_bind(evaluator *ev, const call_args *c, const char *fname, const char *const *names,
                   int n_names, int n_required, value *out) {
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
            eval_error(ev, c->loc, PG_ERR_ARG, "%s() got multiple values for argument '%s'", fname,
                       names[i]);
        out[i] = c->kw[k];
    }
    for (int i = 0; i < n_required; i++)
        if (out[i].t == VT_UNBOUND)
            eval_error(ev, c->loc, PG_ERR_ARG, "%s() missing required argument '%s' (pos %d)",
                       fname, names[i], i + 1);
}

double builtins_num(evaluator *ev, value v, const char *what, pg_srcloc loc) {
    if (!value_is_num(v))
        eval_error(ev, loc, PG_ERR_ARG, "%s: must be a number, not '%s'", what, value_type_name(v));
    return value_as_double(v);
}

int64_t builtins_int(evaluator *ev, value v, const char *what, pg_srcloc loc) {
    if (!value_is_intlike(v))
        eval_error(ev, loc, PG_ERR_ARG, "%s: '%s' object cannot be interpreted as an integer", what,
                   value_type_name(v));
    return v.u.i;
}

void builtins_want_args(evaluator *ev, const call_args *c, const char *fname, int lo, int hi) {
    if (c->nk)
        eval_error(ev, c->loc, PG_ERR_ARG, "%s() takes no keyword arguments", fname);
    if (c->n < lo || c->n > hi) {
        if (lo == hi)
            eval_error(ev, c->loc, PG_ERR_ARG, "%s() takes exactly %d argument%s (%d given)", fname,
                       lo, lo == 1 ? "" : "s", c->n);
        eval_error(ev, c->loc, PG_ERR_ARG, "%s() takes from %d to %d arguments (%d given)", fname,
                   lo, hi, c->n);
    }
}

static bool given(value v) {
    return v.t != VT_UNBOUND;
}

value builtins_list_of(evaluator *ev, value v, pg_srcloc loc) {
    return v.t == VT_LIST || v.t == VT_TUPLE ? v : value_to_list(ev, v, loc);
}

// ---- core builtins ----

BUILTIN(len, "len")
static value bi_len(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "len", 1, 1);
    return value_int(value_len(ev, c->args[0], c->loc));
}

BUILTIN(range, "range")
static value bi_range(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "range", 1, 3);
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
    value items = builtins_list_of(ev, a[0], c->loc);
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
        lists[i] = builtins_list_of(ev, c->args[i], c->loc);
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
    builtins_want_args(ev, c, "list", 0, 1);
    return c->n ? value_to_list(ev, c->args[0], c->loc) : value_list(ev, 0);
}

BUILTIN(tuple, "tuple")
static value bi_tuple(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "tuple", 0, 1);
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
        value items = builtins_list_of(ev, c->args[0], c->loc);
        for (int64_t i = 0; i < items.u.l->n; i++) {
            value pair = builtins_list_of(ev, items.u.l->items[i], c->loc);
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
        bool right_first =
            reverse ? value_lt(ev, keys[i], keys[j], loc) : value_lt(ev, keys[j], keys[i], loc);
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
        keys[i] = key.t == VT_NONE || key.t == VT_UNBOUND
                      ? l->items[i]
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
    builtins_want_args(ev, c, "reversed", 1, 1);
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
    value items =
        c->n == 1 ? builtins_list_of(ev, c->args[0], c->loc) : value_tuple(ev, c->args, c->n);
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
        bool better =
            is_max ? value_lt(ev, best_key, k, c->loc) : value_lt(ev, k, best_key, c->loc);
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
    builtins_want_args(ev, c, "abs", 1, 1);
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
    value prod = value_binop(ev, TK_STAR, value_int(q), value_int(p), loc);
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
    eval_error(ev, c->loc, PG_ERR_ARG, "int() argument must be a string or a real number, not '%s'",
               value_type_name(x));
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
    builtins_want_args(ev, c, "float", 0, 1);
    if (c->n == 0)
        return value_float(0.0);
    value x = c->args[0];
    if (value_is_num(x))
        return value_float(value_as_double(x));
    if (x.t == VT_STR)
        return value_float(parse_float(ev, x, c->loc));
    eval_error(ev, c->loc, PG_ERR_ARG,
               "float() argument must be a string or a real number, not '%s'", value_type_name(x));
}

BUILTIN(str, "str")
static value bi_str(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "str", 0, 1);
    return c->n ? value_to_str(ev, c->args[0]) : value_str(ev, "", 0);
}

BUILTIN(repr, "repr")
static value bi_repr(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "repr", 1, 1);
    sbuf b = { 0 };
    value_repr(ev, &b, c->args[0], 0);
    return value_str(ev, b.p, b.n);
}

BUILTIN(bool, "bool")
static value bi_bool(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "bool", 0, 1);
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
    value items = builtins_list_of(ev, a[0], c->loc);
    for (int64_t i = 0; i < items.u.l->n; i++)
        acc = value_binop(ev, TK_PLUS, acc, items.u.l->items[i], c->loc);
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
    if (ev->s->print_to) // pg_session_set_print(s, NULL) silences the piece (verify, -q)
        fputs(b.p, ev->s->print_to);
    return value_none();
}

static bool is_instance(evaluator *ev, value x, value t, pg_srcloc loc);

BUILTIN(isinstance, "isinstance")
static value bi_isinstance(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "isinstance", 2, 2);
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
        lists[i] = builtins_list_of(ev, c->args[i + 1], c->loc);
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
    builtins_want_args(ev, c, "filter", 2, 2);
    value items = builtins_list_of(ev, c->args[1], c->loc);
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
    builtins_want_args(ev, c, fname, 1, 1);
    value items = builtins_list_of(ev, c->args[0], c->loc);
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
    builtins_want_args(ev, c, "divmod", 2, 2);
    value r[2] = { value_binop(ev, TK_DSLASH, c->args[0], c->args[1], c->loc),
                   value_binop(ev, TK_PERCENT, c->args[0], c->args[1], c->loc) };
    return value_tuple(ev, r, 2);
}

BUILTIN(pow, "pow")
static value bi_pow(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "base", "exp", "mod" };
    value a[3];
    builtins_bind(ev, c, "pow", names, 3, 2, a);
    if (!given(a[2]) || a[2].t == VT_NONE)
        return value_binop(ev, TK_DSTAR, a[0], a[1], c->loc);
    int64_t b = builtins_int(ev, a[0], "pow()", c->loc),
            e = builtins_int(ev, a[1], "pow()", c->loc);
    int64_t m = builtins_int(ev, a[2], "pow()", c->loc);
    if (m == 0)
        eval_error(ev, c->loc, PG_ERR_ARG, "pow() 3rd argument cannot be 0");
    if (e < 0)
        eval_error(ev, c->loc, PG_ERR_ARG,
                   "pow() with a negative exponent and a modulus is not supported");
    value r = value_int(1 % m),
          base = value_binop(ev, TK_PERCENT, value_int(b), value_int(m), c->loc);
    for (; e > 0; e >>= 1) {
        if (e & 1)
            r = value_binop(ev, TK_PERCENT, value_binop(ev, TK_STAR, r, base, c->loc), value_int(m),
                            c->loc);
        base = value_binop(ev, TK_PERCENT, value_binop(ev, TK_STAR, base, base, c->loc),
                           value_int(m), c->loc);
    }
    return r;
}

BUILTIN(chr, "chr")
static value bi_chr(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "chr", 1, 1);
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
    builtins_want_args(ev, c, "ord", 1, 1);
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
    builtins_want_args(ev, c, fname, 1, 1);
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
    builtins_want_args(ev, c, "callable", 1, 1);
    val_type t = c->args[0].t;
    return value_bool(t == VT_FUNC || t == VT_BUILTIN || t == VT_BOUND || t == VT_KIND ||
                      (t == VT_MODULE && c->args[0].u.mod->call));
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
    builtins_want_args(ev, c, "join", 1, 64);
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
    builtins_want_args(ev, c, "dirname", 1, 1);
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
    builtins_want_args(ev, c, "basename", 1, 1);
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
    builtins_want_args(ev, c, "frame_rate", 0, 1);
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
    builtins_want_args(ev, c, "render", 1, 1);
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

// Note(offset, duration, pitch, velocity=100): pygmu's Note as the tuple NotesPE reads, one
// row of its note_list (offsets and durations in beats, pitch and velocity MIDI numbers).
BUILTIN(Note, "Note")
static value bi_Note(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "offset", "duration", "pitch", "velocity" };
    value a[4];
    builtins_bind(ev, c, "Note", names, 4, 3, a);
    if (!given(a[3]))
        a[3] = value_int(100);
    for (int i = 0; i < 4; i++)
        if (!value_is_num(a[i]))
            eval_error(ev, c->loc, PG_ERR_ARG, "Note() %s must be a number, not '%s'", names[i],
                       value_type_name(a[i]));
    return value_tuple(ev, a, 4);
}

static value notes_list(evaluator *ev, const midi_notes *m, pg_srcloc loc) {
    if (m->count > (size_t)ev->lim.max_list)
        eval_error(ev, loc, PG_ERR_LIMIT, "list too large (%zu notes)", m->count);
    value out = value_list(ev, (int64_t)m->count);
    for (size_t i = 0; i < m->count; i++) {
        const midi_note *n = &m->notes[i];
        value row[4] = { value_float(n->offset_beats), value_float(n->duration_beats),
                         value_int(n->pitch), value_int(n->velocity) };
        out.u.l->items[i] = value_tuple(ev, row, 4);
    }
    out.u.l->n = (int64_t)m->count;
    return out;
}

// get_notes_from_midi(path): the notes of a Standard MIDI File (runtime/midi.c) beside the
// piece, track by track, as Note tuples (offset, duration, pitch, velocity).
BUILTIN(get_notes, "get_notes_from_midi")
static value bi_get_notes(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "get_notes_from_midi", 1, 1);
    value path = c->args[0];
    if (path.t != VT_STR)
        eval_error(ev, c->loc, PG_ERR_ARG, "get_notes_from_midi() path must be a str, not '%s'",
                   value_type_name(path));
    midi_notes m = { 0 };
    char err[256];
    pg_status st = midi_read_file(methods_resolve_path(ev, path.u.s->data), &m, err, sizeof err);
    if (st != PG_OK)
        eval_error(ev, c->loc, st, "get_notes_from_midi(): %s", err);
    // m is malloc'd: an error while the list is built (out of memory) frees it on its way.
    jmp_buf here;
    jmp_buf *outer = ev->s->on_error;
    ev->s->on_error = &here;
    if (setjmp(here)) {
        ev->s->on_error = outer;
        midi_free(&m);
        longjmp(*outer, 1);
    }
    value out = notes_list(ev, &m, c->loc);
    ev->s->on_error = outer;
    midi_free(&m);
    return out;
}

// ---- isinstance ----

static bool is_instance(evaluator *ev, value x, value t, pg_srcloc loc) {
    if (t.t == VT_TUPLE) {
        bool found = false;
        value_enter(ev, loc);
        for (int64_t i = 0; i < t.u.l->n && !found; i++)
            found = is_instance(ev, x, t.u.l->items[i], loc);
        value_leave(ev);
        return found;
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
    &B_len,
    &B_range,
    &B_enumerate,
    &B_zip,
    &B_list,
    &B_tuple,
    &B_dict,
    &B_sorted,
    &B_reversed,
    &B_min,
    &B_max,
    &B_abs,
    &B_round,
    &B_int,
    &B_float,
    &B_str,
    &B_repr,
    &B_bool,
    &B_sum,
    &B_print,
    &B_isinstance,
    &B_map,
    &B_filter,
    &B_any,
    &B_all,
    &B_divmod,
    &B_pow,
    &B_chr,
    &B_ord,
    &B_hex,
    &B_bin,
    &B_callable,
    // the graph
    &B_frame_rate,
    &B_render,
    &B_Transport,
    &B_FtsTransport,
    &B_Extent,
    &B_Note,
    &B_get_notes,
};

static value get_sys_path(evaluator *ev) {
    return ev->sys_path;
}

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
    { "pygmu", &mod_pygmu },
    { "utils", &mod_utils },
    { "numpy", &builtins_mod_numpy },
    { "math", &builtins_mod_math },
    { "random", &builtins_mod_random },
    { "os", &mod_os },
    { "os.path", &mod_os_path },
    { "sys", &mod_sys },
    { "time", &mod_time },
    { "numpy.random", &builtins_mod_np_random },
    { "pygmu.utils", &mod_utils },
};

// Names bound to modules before any import (pieces often rely on pg. / np. / ut.).
static const module_name predefined[] = {
    { "pg", &mod_pygmu },
    { "pygmu", &mod_pygmu },
    { "ut", &mod_utils },
    { "utils", &mod_utils },
    { "np", &builtins_mod_numpy },
    { "numpy", &builtins_mod_numpy },
    { "math", &builtins_mod_math },
    { "random", &builtins_mod_random },
    { "os", &mod_os },
    { "sys", &mod_sys },
    { "time", &mod_time },
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
    builtins_num_init(ev);
    put(ev, "FRAME_RATE", value_int(48000));
    // __file__ is the piece's file name without its folder: ported pieces build paths as
    // os.path.join(os.path.dirname(__file__), "x.wav"), which then stays relative, and a
    // relative sound-file path is already relative to the piece's folder.
    const char *path = ev->s->files[ev->file].path;
    const char *slash = strrchr(path, '/');
    put(ev, "__file__", value_cstr(ev, slash ? slash + 1 : path));
    put(ev, "__name__", value_cstr(ev, "__main__"));
    for (size_t i = 0; i < sizeof predefined / sizeof predefined[0]; i++)
        put(ev, predefined[i].name, module_value(predefined[i].mod));
    ev->sys_path = value_list(ev, 0);
}

// The builtin behind list.sort (methods.c calls it with the list as first argument).
const builtin *builtins_list_sort(void) {
    return &B_list_sort;
}
