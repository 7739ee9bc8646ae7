// methods.c: attributes and methods of .pg values, and the bridge from the evaluator to the
// graph. A PE constructor call converts its arguments to pg_arg (numbers, strings, Extents,
// PEs as node ids, lists as arrays, .pg functions as PG_V_FUNC callbacks: eval_func.c) and
// calls pg_graph_add. PE methods are the kinds' chaining methods plus the helpers of pygmu's
// PygPE built here (crop with fades, pad, delays, reverb, mul, ...). render() calls are
// recorded and combined here once the module has run.
#include "methods.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtins.h"
#include "eval_func.h"
#include "lex.h"

// ---- attribute errors ----

static void offer_list(suggest *sg, const char *const *names) {
    for (; *names; names++)
        eval_suggest_offer(sg, *names);
}

static const char *const str_methods[] = {
    "join",   "split",  "format", "upper", "lower", "startswith", "endswith",   "replace", "strip",
    "lstrip", "rstrip", "find",   "count", "index", "isdigit",    "splitlines", NULL,
};
static const char *const list_methods[] = {
    "append", "extend", "insert",  "pop",  "remove", "index",
    "count",  "sort",   "reverse", "copy", "clear",  NULL,
};
static const char *const tuple_methods[] = { "index", "count", NULL };
static const char *const dict_methods[] = {
    "get", "keys", "values", "items", "pop", "update", "setdefault", "copy", "clear", NULL,
};
static const char *const extent_methods[] = {
    "start",     "end",      "duration", "is_indefinite", "is_empty", "offset", "union",
    "intersect", "overlaps", "spans",    "precedes",      "follows",  "equals", NULL,
};
static const char *const float_methods[] = { "is_integer", NULL };
static const char *const transport_methods[] = { "play", NULL };
// PE methods built here (beside every kind's chaining method).
static const char *const pe_methods[] = {
    "crop",          "pad",  "delays",  "reverb",   "mul", "extent", "frame_rate",
    "channel_count", "play", "pygplay", "fts_play", "pan", NULL,
};

// Chaining methods whose kind does not declare one (pygmu's PygPE helpers).
typedef struct method_kind {
    const char *method;
    const char *kind;
} method_kind;

static const method_kind fallback_methods[] = {
    { "abs", "AbsPE" },
    { "add", "AddPE" },
    { "cache", "CachePE" },
    { "chorus", "ChorusPE" },
    { "time_shift", "TimeShiftPE" },
    { "gain", "GainPE" },
    { "granular", "GranularPE" },
    { "exp_lim", "ExpanderLimiterPE" },
    { "limit_a", "LimiterAPE" },
    { "loop", "LoopPE" },
    { "mono", "MonoPE" },
    { "stereo", "StereoPE" },
    { "speed", "WarpSpeedPE" },
    { "reverse", "ReversePE" },
    { "splice", "SplicePE" },
    { "spread", "SpreadPE" },
    { "timewarp", "TimewarpPE" },
    { "tralfam", "TralfamPE" },
    { "wav_writer", "WavWriterPE" },
    { "waveshape", "WaveShapePE" },
};

static bool in_list(const char *const *names, const char *name) {
    for (; *names; names++)
        if (strcmp(*names, name) == 0)
            return true;
    return false;
}

// The kind a PE method names, or -1.
static int pe_method_kind(const char *name) {
    int k = pg_kind_find_method(name);
    if (k >= 0)
        return k;
    for (size_t i = 0; i < sizeof fallback_methods / sizeof fallback_methods[0]; i++)
        if (strcmp(fallback_methods[i].method, name) == 0)
            return pg_kind_find(fallback_methods[i].kind);
    return -1;
}

static const char *const *methods_of(val_type t) {
    switch (t) {
    case VT_STR:
        return str_methods;
    case VT_LIST:
        return list_methods;
    case VT_TUPLE:
        return tuple_methods;
    case VT_DICT:
        return dict_methods;
    case VT_EXTENT:
        return extent_methods;
    case VT_FLOAT:
        return float_methods;
    case VT_TRANSPORT:
        return transport_methods;
    case VT_PE:
        return pe_methods;
    default:
        return NULL;
    }
}

static bool has_method(value obj, const char *name) {
    const char *const *names = methods_of(obj.t);
    if (names && in_list(names, name))
        return true;
    return obj.t == VT_PE && pe_method_kind(name) >= 0;
}

static _Noreturn void attr_error(evaluator *ev, value obj, const char *name, pg_srcloc loc) {
    suggest sg = { .name = name };
    const char *const *names = methods_of(obj.t);
    if (names)
        offer_list(&sg, names);
    if (obj.t == VT_PE) {
        for (int k = 0; k < pg_kind_count(); k++)
            eval_suggest_offer(&sg, pg_kind_method(k));
        for (size_t i = 0; i < sizeof fallback_methods / sizeof fallback_methods[0]; i++)
            if (pg_kind_find(fallback_methods[i].kind) >= 0)
                eval_suggest_offer(&sg, fallback_methods[i].method);
    }
    if (obj.t == VT_MODULE) {
        builtins_module_names(ev, obj.u.mod, eval_suggest_offer, &sg);
        if (sg.best)
            eval_error(ev, loc, PG_ERR_NAME,
                       "module '%s' has no attribute '%s'; did you mean '%s'?", obj.u.mod->name,
                       name, sg.best);
        eval_error(ev, loc, PG_ERR_NAME, "module '%s' has no attribute '%s'", obj.u.mod->name,
                   name);
    }
    if (sg.best)
        eval_error(ev, loc, PG_ERR_NAME, "'%s' has no attribute '%s'; did you mean '%s'?",
                   value_type_name(obj), name, sg.best);
    eval_error(ev, loc, PG_ERR_NAME, "'%s' has no attribute '%s'", value_type_name(obj), name);
}

value methods_getattr(evaluator *ev, value obj, const char *name, pg_srcloc loc) {
    if (obj.t == VT_MODULE) {
        value v;
        if (builtins_module_getattr(ev, obj.u.mod, name, &v))
            return v;
        attr_error(ev, obj, name, loc);
    }
    if (!has_method(obj, name))
        attr_error(ev, obj, name, loc);
    return value_bound(ev, obj, eval_intern(ev, name, strlen(name)));
}

// ---- argument helpers ----

static void bind(evaluator *ev, const call_args *c, const char *fname, const char *const *names,
                 int n, int n_required, value *out) {
    builtins_bind(ev, c, fname, names, n, n_required, out);
}

static void no_args(evaluator *ev, const call_args *c, const char *fname) {
    if (c->n || c->nk)
        eval_error(ev, c->loc, PG_ERR_ARG, "%s() takes no arguments (%d given)", fname,
                   c->n + c->nk);
}

static void n_args(evaluator *ev, const call_args *c, const char *fname, int lo, int hi) {
    if (c->nk)
        eval_error(ev, c->loc, PG_ERR_ARG, "%s() takes no keyword arguments", fname);
    if (c->n < lo || c->n > hi)
        eval_error(ev, c->loc, PG_ERR_ARG, "%s() takes %s %d argument%s (%d given)", fname,
                   lo == hi ? "exactly" : (c->n < lo ? "at least" : "at most"), c->n < lo ? lo : hi,
                   (c->n < lo ? lo : hi) == 1 ? "" : "s", c->n);
}

static bool given(value v) {
    return v.t != VT_UNBOUND;
}

static value str_arg(evaluator *ev, value v, const char *fname, pg_srcloc loc) {
    if (v.t != VT_STR)
        eval_error(ev, loc, PG_ERR_ARG, "%s() argument must be str, not '%s'", fname,
                   value_type_name(v));
    return v;
}

// ---- str ----

static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static value str_join(evaluator *ev, value self, const call_args *c) {
    n_args(ev, c, "join", 1, 1);
    value items = value_to_list(ev, c->args[0], c->loc);
    sbuf b = { 0 };
    value_sbuf_puts(ev, &b, "");
    for (int64_t i = 0; i < items.u.l->n; i++) {
        value x = items.u.l->items[i];
        if (x.t != VT_STR)
            eval_error(ev, c->loc, PG_ERR_ARG,
                       "sequence item %lld: expected str instance, %s found", (long long)i,
                       value_type_name(x));
        if (i)
            value_sbuf_put(ev, &b, self.u.s->data, (size_t)self.u.s->len);
        value_sbuf_put(ev, &b, x.u.s->data, (size_t)x.u.s->len);
    }
    return value_str(ev, b.p, b.n);
}

// split() without a separator: runs of whitespace separate; after maxsplit splits the rest
// (trailing whitespace included, as Python) is one item.
static value split_ws(evaluator *ev, value self, int64_t maxsplit, pg_srcloc loc) {
    const char *s = self.u.s->data;
    int64_t n = self.u.s->len, i = 0;
    value out = value_list(ev, 0);
    for (;;) {
        while (i < n && is_space(s[i]))
            i++;
        if (i == n)
            return out;
        int64_t j = maxsplit == 0 ? n : i;
        while (j < n && !is_space(s[j]))
            j++;
        value_list_append(ev, out, value_str(ev, s + i, (size_t)(j - i)), loc);
        if (maxsplit == 0)
            return out;
        if (maxsplit > 0)
            maxsplit--;
        i = j;
    }
}

static value split_sep(evaluator *ev, value self, value sep, int64_t maxsplit, pg_srcloc loc) {
    const char *s = self.u.s->data;
    int64_t n = self.u.s->len, m = sep.u.s->len, start = 0;
    if (m == 0)
        eval_error(ev, loc, PG_ERR_ARG, "empty separator");
    value out = value_list(ev, 0);
    for (int64_t i = 0; i + m <= n && maxsplit != 0;) {
        if (memcmp(s + i, sep.u.s->data, (size_t)m) != 0) {
            i++;
            continue;
        }
        value_list_append(ev, out, value_str(ev, s + start, (size_t)(i - start)), loc);
        i += m;
        start = i;
        if (maxsplit > 0)
            maxsplit--;
    }
    value_list_append(ev, out, value_str(ev, s + start, (size_t)(n - start)), loc);
    return out;
}

static value str_split(evaluator *ev, value self, const call_args *c) {
    static const char *const names[] = { "sep", "maxsplit" };
    value a[2];
    bind(ev, c, "split", names, 2, 0, a);
    int64_t maxsplit = given(a[1]) ? builtins_int(ev, a[1], "split()", c->loc) : -1;
    if (!given(a[0]) || a[0].t == VT_NONE)
        return split_ws(ev, self, maxsplit, c->loc);
    return split_sep(ev, self, str_arg(ev, a[0], "split", c->loc), maxsplit, c->loc);
}

static value str_case(evaluator *ev, value self, const call_args *c, bool upper) {
    no_args(ev, c, upper ? "upper" : "lower");
    char *buf = arena_alloc(ev->a, (size_t)self.u.s->len + 1);
    for (int64_t i = 0; i < self.u.s->len; i++) {
        char ch = self.u.s->data[i];
        if (upper && ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 32);
        else if (!upper && ch >= 'A' && ch <= 'Z')
            ch = (char)(ch + 32);
        buf[i] = ch;
    }
    return value_str(ev, buf, (size_t)self.u.s->len);
}

static bool has_affix(value self, value x, bool prefix) {
    int64_t n = self.u.s->len, m = x.u.s->len;
    if (m > n)
        return false;
    const char *at = prefix ? self.u.s->data : self.u.s->data + n - m;
    return memcmp(at, x.u.s->data, (size_t)m) == 0;
}

static value str_affix(evaluator *ev, value self, const call_args *c, bool prefix) {
    const char *fname = prefix ? "startswith" : "endswith";
    n_args(ev, c, fname, 1, 1);
    value x = c->args[0];
    if (x.t == VT_TUPLE) {
        for (int64_t i = 0; i < x.u.l->n; i++)
            if (has_affix(self, str_arg(ev, x.u.l->items[i], fname, c->loc), prefix))
                return value_bool(true);
        return value_bool(false);
    }
    return value_bool(has_affix(self, str_arg(ev, x, fname, c->loc), prefix));
}

// Occurrence i of needle in hay at or after from, or -1.
static int64_t find_at(value hay, value needle, int64_t from) {
    int64_t n = hay.u.s->len, m = needle.u.s->len;
    for (int64_t i = from; i + m <= n; i++)
        if (memcmp(hay.u.s->data + i, needle.u.s->data, (size_t)m) == 0)
            return i;
    return -1;
}

static value str_replace(evaluator *ev, value self, const call_args *c) {
    n_args(ev, c, "replace", 2, 3);
    value old = str_arg(ev, c->args[0], "replace", c->loc);
    value rep = str_arg(ev, c->args[1], "replace", c->loc);
    int64_t count = c->n == 3 ? builtins_int(ev, c->args[2], "replace()", c->loc) : -1;
    sbuf b = { 0 };
    value_sbuf_puts(ev, &b, "");
    int64_t i = 0, n = self.u.s->len;
    while (i <= n) {
        int64_t j = count == 0 ? -1 : find_at(self, old, i);
        if (j < 0 || (old.u.s->len == 0 && j >= n + 1)) {
            value_sbuf_put(ev, &b, self.u.s->data + i, (size_t)(n - i));
            break;
        }
        value_sbuf_put(ev, &b, self.u.s->data + i, (size_t)(j - i));
        value_sbuf_put(ev, &b, rep.u.s->data, (size_t)rep.u.s->len);
        if (old.u.s->len == 0) {
            if (j < n)
                value_sbuf_put(ev, &b, self.u.s->data + j, 1);
            i = j + 1;
        } else {
            i = j + old.u.s->len;
        }
        if (count > 0)
            count--;
        if (i > n)
            break;
    }
    return value_str(ev, b.p, b.n);
}

static value str_strip(evaluator *ev, value self, const call_args *c, const char *fname, bool left,
                       bool right) {
    n_args(ev, c, fname, 0, 1);
    bool custom = c->n == 1 && c->args[0].t != VT_NONE;
    value chars = custom ? str_arg(ev, c->args[0], fname, c->loc) : self;
    const char *s = self.u.s->data;
    int64_t i = 0, j = self.u.s->len;
#define STRIPPED(ch)                                                                               \
    (custom ? memchr(chars.u.s->data, (ch), (size_t)chars.u.s->len) != NULL : is_space(ch))
    while (left && i < j && STRIPPED(s[i]))
        i++;
    while (right && j > i && STRIPPED(s[j - 1]))
        j--;
#undef STRIPPED
    return value_str(ev, s + i, (size_t)(j - i));
}

static value str_find(evaluator *ev, value self, const call_args *c, const char *fname) {
    n_args(ev, c, fname, 1, 1);
    value x = str_arg(ev, c->args[0], fname, c->loc);
    if (strcmp(fname, "count") == 0) {
        int64_t k = 0, i = 0;
        if (x.u.s->len == 0)
            return value_int(self.u.s->len + 1);
        while ((i = find_at(self, x, i)) >= 0) {
            k++;
            i += x.u.s->len;
        }
        return value_int(k);
    }
    int64_t i = find_at(self, x, 0);
    if (i < 0 && strcmp(fname, "index") == 0)
        eval_error(ev, c->loc, PG_ERR_ARG, "substring not found");
    return value_int(i);
}

static value str_isdigit(evaluator *ev, value self, const call_args *c) {
    no_args(ev, c, "isdigit");
    if (self.u.s->len == 0)
        return value_bool(false);
    for (int64_t i = 0; i < self.u.s->len; i++)
        if (self.u.s->data[i] < '0' || self.u.s->data[i] > '9')
            return value_bool(false);
    return value_bool(true);
}

static value str_splitlines(evaluator *ev, value self, const call_args *c) {
    no_args(ev, c, "splitlines");
    value out = value_list(ev, 0);
    const char *s = self.u.s->data;
    int64_t n = self.u.s->len, start = 0;
    for (int64_t i = 0; i < n; i++) {
        if (s[i] != '\n' && s[i] != '\r')
            continue;
        value_list_append(ev, out, value_str(ev, s + start, (size_t)(i - start)), c->loc);
        if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
            i++;
        start = i + 1;
    }
    if (start < n)
        value_list_append(ev, out, value_str(ev, s + start, (size_t)(n - start)), c->loc);
    return out;
}

// One replacement field of str.format: {name!conv:spec}; positional by auto-numbering or
// index, keyword by name.
static value format_field(evaluator *ev, const char *f, size_t n, const call_args *c,
                          int *auto_index, const char **spec, size_t *spec_len, char *conv) {
    const char *colon = memchr(f, ':', n);
    size_t name_len = colon ? (size_t)(colon - f) : n;
    *spec = colon ? colon + 1 : f + n;
    *spec_len = colon ? n - name_len - 1 : 0;
    *conv = 0;
    const char *bang = memchr(f, '!', name_len);
    if (bang) {
        *conv = bang + 1 < f + name_len ? bang[1] : 0;
        name_len = (size_t)(bang - f);
    }
    if (name_len == 0) {
        if (*auto_index >= c->n)
            eval_error(ev, c->loc, PG_ERR_ARG,
                       "Replacement index %d out of range for positional args tuple", *auto_index);
        return c->args[(*auto_index)++];
    }
    size_t digits = 0;
    while (digits < name_len && f[digits] >= '0' && f[digits] <= '9')
        digits++;
    if (digits == name_len) { // an index, as Python reads it; "0x" is a (missing) key
        long long idx = 0;
        for (size_t k = 0; k < digits && idx <= c->n; k++)
            idx = idx * 10 + (f[k] - '0');
        if (idx >= c->n)
            eval_error(ev, c->loc, PG_ERR_ARG,
                       "Replacement index %.*s out of range for positional args tuple",
                       (int)name_len, f);
        return c->args[idx];
    }
    for (int k = 0; k < c->nk; k++)
        if (strlen(c->kw_names[k]) == name_len && strncmp(c->kw_names[k], f, name_len) == 0)
            return c->kw[k];
    eval_error(ev, c->loc, PG_ERR_ARG, "KeyError: '%.*s'", (int)name_len, f);
}

static value str_format(evaluator *ev, value self, const call_args *c) {
    const char *s = self.u.s->data;
    int64_t n = self.u.s->len;
    sbuf b = { 0 };
    value_sbuf_puts(ev, &b, "");
    int auto_index = 0;
    for (int64_t i = 0; i < n; i++) {
        if ((s[i] == '{' || s[i] == '}') && i + 1 < n && s[i + 1] == s[i]) {
            value_sbuf_put(ev, &b, s + i++, 1);
            continue;
        }
        if (s[i] == '}')
            eval_error(ev, c->loc, PG_ERR_ARG, "Single '}' encountered in format string");
        if (s[i] != '{') {
            value_sbuf_put(ev, &b, s + i, 1);
            continue;
        }
        const char *close = memchr(s + i, '}', (size_t)(n - i));
        if (!close)
            eval_error(ev, c->loc, PG_ERR_ARG, "Single '{' encountered in format string");
        const char *spec;
        size_t spec_len;
        char conv;
        value v = format_field(ev, s + i + 1, (size_t)(close - s - i - 1), c, &auto_index, &spec,
                               &spec_len, &conv);
        if (conv == 'r') {
            sbuf r = { 0 };
            value_repr(ev, &r, v, 0);
            v = value_str(ev, r.p, r.n);
        } else if (conv == 's') {
            v = value_to_str(ev, v);
        }
        value_format(ev, &b, v, spec, spec_len, c->loc);
        i = close - s;
    }
    return value_str(ev, b.p, b.n);
}

static bool str_method(evaluator *ev, value self, const char *name, const call_args *c,
                       value *out) {
    if (strcmp(name, "join") == 0)
        *out = str_join(ev, self, c);
    else if (strcmp(name, "split") == 0)
        *out = str_split(ev, self, c);
    else if (strcmp(name, "format") == 0)
        *out = str_format(ev, self, c);
    else if (strcmp(name, "upper") == 0 || strcmp(name, "lower") == 0)
        *out = str_case(ev, self, c, name[0] == 'u');
    else if (strcmp(name, "startswith") == 0 || strcmp(name, "endswith") == 0)
        *out = str_affix(ev, self, c, name[0] == 's');
    else if (strcmp(name, "replace") == 0)
        *out = str_replace(ev, self, c);
    else if (strcmp(name, "strip") == 0)
        *out = str_strip(ev, self, c, name, true, true);
    else if (strcmp(name, "lstrip") == 0)
        *out = str_strip(ev, self, c, name, true, false);
    else if (strcmp(name, "rstrip") == 0)
        *out = str_strip(ev, self, c, name, false, true);
    else if (strcmp(name, "find") == 0 || strcmp(name, "count") == 0 || strcmp(name, "index") == 0)
        *out = str_find(ev, self, c, name);
    else if (strcmp(name, "isdigit") == 0)
        *out = str_isdigit(ev, self, c);
    else if (strcmp(name, "splitlines") == 0)
        *out = str_splitlines(ev, self, c);
    else
        return false;
    return true;
}

// ---- list and tuple ----

static int64_t seq_index(evaluator *ev, value self, const call_args *c) {
    n_args(ev, c, "index", 1, 3);
    const list_obj *l = self.u.l;
    int64_t lo = 0, hi = l->n;
    if (c->n > 1) {
        lo = builtins_int(ev, c->args[1], "index()", c->loc);
        lo = lo < 0 ? (lo + l->n < 0 ? 0 : lo + l->n) : lo;
    }
    if (c->n > 2) {
        hi = builtins_int(ev, c->args[2], "index()", c->loc);
        hi = hi < 0 ? hi + l->n : (hi > l->n ? l->n : hi);
    }
    for (int64_t i = lo; i < hi; i++)
        if (value_eq(ev, l->items[i], c->args[0], c->loc))
            return i;
    sbuf b = { 0 };
    value_repr(ev, &b, c->args[0], 0);
    eval_error(ev, c->loc, PG_ERR_ARG, "%s is not in %s", b.p, value_type_name(self));
}

static int64_t seq_count(evaluator *ev, value self, const call_args *c) {
    n_args(ev, c, "count", 1, 1);
    int64_t k = 0;
    for (int64_t i = 0; i < self.u.l->n; i++)
        k += value_eq(ev, self.u.l->items[i], c->args[0], c->loc);
    return k;
}

static value list_pop(evaluator *ev, value self, const call_args *c) {
    n_args(ev, c, "pop", 0, 1);
    list_obj *l = self.u.l;
    if (l->n == 0)
        eval_error(ev, c->loc, PG_ERR_ARG, "pop from empty list");
    int64_t i = c->n ? builtins_int(ev, c->args[0], "pop()", c->loc) : l->n - 1;
    if (i < 0)
        i += l->n;
    if (i < 0 || i >= l->n)
        eval_error(ev, c->loc, PG_ERR_ARG, "pop index out of range");
    value x = l->items[i];
    memmove(l->items + i, l->items + i + 1, (size_t)(l->n - i - 1) * sizeof(value));
    l->n--;
    return x;
}

static void list_insert(evaluator *ev, value self, const call_args *c) {
    n_args(ev, c, "insert", 2, 2);
    list_obj *l = self.u.l;
    int64_t i = builtins_int(ev, c->args[0], "insert()", c->loc);
    if (i < 0)
        i = i + l->n < 0 ? 0 : i + l->n;
    if (i > l->n)
        i = l->n;
    value_list_reserve(ev, l, l->n + 1, c->loc);
    memmove(l->items + i + 1, l->items + i, (size_t)(l->n - i) * sizeof(value));
    l->items[i] = c->args[1];
    l->n++;
}

static void list_remove(evaluator *ev, value self, const call_args *c) {
    n_args(ev, c, "remove", 1, 1);
    list_obj *l = self.u.l;
    for (int64_t i = 0; i < l->n; i++) {
        if (value_eq(ev, l->items[i], c->args[0], c->loc)) {
            memmove(l->items + i, l->items + i + 1, (size_t)(l->n - i - 1) * sizeof(value));
            l->n--;
            return;
        }
    }
    eval_error(ev, c->loc, PG_ERR_ARG, "list.remove(x): x not in list");
}

static void list_extend(evaluator *ev, value self, const call_args *c) {
    n_args(ev, c, "extend", 1, 1);
    value items = value_to_list(ev, c->args[0], c->loc);
    list_obj *l = self.u.l;
    value_list_reserve(ev, l, l->n + items.u.l->n, c->loc);
    memcpy(l->items + l->n, items.u.l->items, (size_t)items.u.l->n * sizeof(value));
    l->n += items.u.l->n;
}

static value list_sort(evaluator *ev, value self, const call_args *c) {
    value *args = ARENA_ARRAY(ev->a, value, c->n + 1);
    args[0] = self;
    if (c->n)
        eval_error(ev, c->loc, PG_ERR_ARG, "sort() takes no positional arguments");
    call_args sub = *c;
    sub.args = args;
    sub.n = 1;
    return builtins_list_sort()->fn(ev, &sub);
}

static bool list_method(evaluator *ev, value self, const char *name, const call_args *c,
                        value *out) {
    list_obj *l = self.u.l;
    *out = value_none();
    if (strcmp(name, "append") == 0) {
        n_args(ev, c, "append", 1, 1);
        value_list_append(ev, self, c->args[0], c->loc);
    } else if (strcmp(name, "extend") == 0) {
        list_extend(ev, self, c);
    } else if (strcmp(name, "insert") == 0) {
        list_insert(ev, self, c);
    } else if (strcmp(name, "pop") == 0) {
        *out = list_pop(ev, self, c);
    } else if (strcmp(name, "remove") == 0) {
        list_remove(ev, self, c);
    } else if (strcmp(name, "index") == 0) {
        *out = value_int(seq_index(ev, self, c));
    } else if (strcmp(name, "count") == 0) {
        *out = value_int(seq_count(ev, self, c));
    } else if (strcmp(name, "sort") == 0) {
        *out = list_sort(ev, self, c);
    } else if (strcmp(name, "reverse") == 0) {
        no_args(ev, c, "reverse");
        for (int64_t i = 0, j = l->n - 1; i < j; i++, j--) {
            value t = l->items[i];
            l->items[i] = l->items[j];
            l->items[j] = t;
        }
    } else if (strcmp(name, "copy") == 0) {
        no_args(ev, c, "copy");
        *out = value_to_list(ev, self, c->loc);
    } else if (strcmp(name, "clear") == 0) {
        no_args(ev, c, "clear");
        l->n = 0;
    } else {
        return false;
    }
    return true;
}

// ---- dict ----

static value dict_view(evaluator *ev, value self, int which) {
    const dict_obj *d = self.u.d;
    value out = value_list(ev, d->live);
    for (int64_t i = 0; i < d->n; i++) {
        if (d->keys[i].t == VT_UNBOUND)
            continue;
        value pair[2] = { d->keys[i], d->vals[i] };
        out.u.l->items[out.u.l->n++] = which == 0   ? d->keys[i]
                                       : which == 1 ? d->vals[i]
                                                    : value_tuple(ev, pair, 2);
    }
    return out;
}

static value dict_get(evaluator *ev, value self, const call_args *c, bool pop, bool set) {
    const char *fname = pop ? "pop" : set ? "setdefault" : "get";
    n_args(ev, c, fname, 1, 2);
    value *v = value_dict_find(ev, self.u.d, c->args[0], c->loc);
    if (v) {
        value r = *v;
        if (pop)
            value_dict_del(ev, self.u.d, c->args[0], c->loc);
        return r;
    }
    if (pop && c->n < 2)
        value_getitem(ev, self, c->args[0], c->loc); // the KeyError
    value dflt = c->n == 2 ? c->args[1] : value_none();
    if (set)
        value_dict_set(ev, self.u.d, c->args[0], dflt, c->loc);
    return dflt;
}

static void dict_update(evaluator *ev, value self, const call_args *c) {
    if (c->n > 1)
        eval_error(ev, c->loc, PG_ERR_ARG, "update expected at most 1 argument, got %d", c->n);
    if (c->n) {
        value src = c->args[0];
        if (src.t != VT_DICT)
            eval_error(ev, c->loc, PG_ERR_ARG, "update() needs a dict, not '%s'",
                       value_type_name(src));
        for (int64_t i = 0; i < src.u.d->n; i++)
            if (src.u.d->keys[i].t != VT_UNBOUND)
                value_dict_set(ev, self.u.d, src.u.d->keys[i], src.u.d->vals[i], c->loc);
    }
    for (int k = 0; k < c->nk; k++)
        value_dict_set(ev, self.u.d, value_cstr(ev, c->kw_names[k]), c->kw[k], c->loc);
}

static bool dict_method(evaluator *ev, value self, const char *name, const call_args *c,
                        value *out) {
    *out = value_none();
    if (strcmp(name, "get") == 0) {
        *out = dict_get(ev, self, c, false, false);
    } else if (strcmp(name, "pop") == 0) {
        *out = dict_get(ev, self, c, true, false);
    } else if (strcmp(name, "setdefault") == 0) {
        *out = dict_get(ev, self, c, false, true);
    } else if (strcmp(name, "keys") == 0 || strcmp(name, "values") == 0 ||
               strcmp(name, "items") == 0) {
        no_args(ev, c, name);
        *out = dict_view(ev, self, name[0] == 'k' ? 0 : name[0] == 'v' ? 1 : 2);
    } else if (strcmp(name, "update") == 0) {
        dict_update(ev, self, c);
    } else if (strcmp(name, "copy") == 0) {
        no_args(ev, c, "copy");
        *out = value_dict(ev);
        call_args sub = { .loc = c->loc, .args = &self, .n = 1 };
        dict_update(ev, *out, &sub);
    } else if (strcmp(name, "clear") == 0) {
        no_args(ev, c, "clear");
        *self.u.d = (dict_obj){ 0 };
    } else {
        return false;
    }
    return true;
}

// ---- Extent ----

// A frame bound from a number: ints as they are; a float is rounded half to even, and
// +-inf (or pygmu's +-1.797e308, or anything beyond int64) means indefinite.
static pg_frame frame_of(evaluator *ev, value v, bool is_end, const char *what, pg_srcloc loc) {
    if (v.t == VT_NONE || v.t == VT_UNBOUND)
        return is_end ? PG_FRAME_MAX : PG_FRAME_MIN;
    if (value_is_intlike(v))
        return v.u.i;
    if (v.t != VT_FLOAT)
        eval_error(ev, loc, PG_ERR_ARG, "%s must be a number, not '%s'", what, value_type_name(v));
    double x = v.u.f;
    if (isnan(x))
        eval_error(ev, loc, PG_ERR_ARG, "%s must not be NaN", what);
    if (x >= 9.2e18)
        return PG_FRAME_MAX;
    if (x <= -9.2e18)
        return PG_FRAME_MIN;
    return value_round_half_even(ev, x, loc);
}

value methods_extent_new(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "start", "end" };
    value a[2];
    bind(ev, c, "Extent", names, 2, 0, a);
    pg_frame s = frame_of(ev, a[0], false, "Extent start", c->loc);
    pg_frame e = frame_of(ev, a[1], true, "Extent end", c->loc);
    // An infinite start given as +inf (or an end as -inf) swaps into place like pygmu's.
    if (given(a[0]) && a[0].t == VT_FLOAT && a[0].u.f >= 9.2e18)
        s = PG_FRAME_MAX;
    if (given(a[1]) && a[1].t == VT_FLOAT && a[1].u.f <= -9.2e18)
        e = PG_FRAME_MIN;
    return value_extent(ev, pg_extent_make(s, e));
}

// A bound as a number: an int, or -inf / inf for indefinite bounds.
static value bound_value(pg_frame f) {
    if (f == PG_FRAME_MIN)
        return value_float(-HUGE_VAL);
    if (f == PG_FRAME_MAX)
        return value_float(HUGE_VAL);
    return value_int(f);
}

static bool num_le(value a, value b) {
    bool unordered;
    return value_num_cmp(a, b, &unordered) <= 0 && !unordered;
}

static bool num_lt(value a, value b) {
    bool unordered;
    return value_num_cmp(a, b, &unordered) < 0 && !unordered;
}

static value extent_relation(evaluator *ev, pg_extent x, const char *name, value o, pg_srcloc loc) {
    value s = bound_value(x.start), e = bound_value(x.end);
    if (o.t == VT_EXTENT) {
        pg_extent y = *o.u.ext;
        value ys = bound_value(y.start), ye = bound_value(y.end);
        if (strcmp(name, "precedes") == 0)
            return value_bool(num_le(e, ys));
        if (strcmp(name, "follows") == 0)
            return value_bool(num_le(ye, s));
        if (strcmp(name, "overlaps") == 0)
            return value_bool(pg_extent_overlaps(x, y));
        if (strcmp(name, "spans") == 0)
            return value_bool(num_le(s, ys) && num_le(ye, e));
        return value_bool(x.start == y.start && x.end == y.end); // equals
    }
    if (!value_is_num(o) || strcmp(name, "equals") == 0)
        eval_error(ev, loc, PG_ERR_ARG, "Extent.%s() needs an Extent%s, not '%s'", name,
                   strcmp(name, "equals") == 0 ? "" : " or a frame number", value_type_name(o));
    if (strcmp(name, "precedes") == 0)
        return value_bool(num_le(e, o));
    if (strcmp(name, "follows") == 0)
        return value_bool(num_lt(o, s));
    return value_bool(num_le(s, o) && num_lt(o, e)); // overlaps, spans
}

static value extent_of_arg(evaluator *ev, value v, const char *fname, pg_srcloc loc) {
    if (v.t != VT_EXTENT)
        eval_error(ev, loc, PG_ERR_ARG, "Extent.%s() needs an Extent, not '%s'", fname,
                   value_type_name(v));
    return v;
}

static bool extent_method(evaluator *ev, value self, const char *name, const call_args *c,
                          value *out) {
    pg_extent x = *self.u.ext;
    bool indefinite = x.start == PG_FRAME_MIN || x.end == PG_FRAME_MAX;
    if (!in_list(extent_methods, name))
        return false;
    if (strcmp(name, "start") == 0 || strcmp(name, "end") == 0) {
        no_args(ev, c, name);
        *out = bound_value(name[0] == 's' ? x.start : x.end);
    } else if (strcmp(name, "duration") == 0) {
        no_args(ev, c, name);
        *out = indefinite ? value_float(HUGE_VAL) : value_int(x.end - x.start);
    } else if (strcmp(name, "is_indefinite") == 0) {
        no_args(ev, c, name);
        *out = value_bool(indefinite);
    } else if (strcmp(name, "is_empty") == 0) {
        no_args(ev, c, name);
        *out = value_bool(pg_extent_is_empty(x));
    } else if (strcmp(name, "offset") == 0) {
        n_args(ev, c, name, 1, 1);
        pg_frame d = frame_of(ev, c->args[0], true, "Extent.offset()", c->loc);
        *out = value_extent(ev, pg_extent_offset(x, d));
    } else if (strcmp(name, "union") == 0 || strcmp(name, "intersect") == 0) {
        n_args(ev, c, name, 1, 1);
        pg_extent y = *extent_of_arg(ev, c->args[0], name, c->loc).u.ext;
        *out = value_extent(ev, name[0] == 'u' ? pg_extent_union(x, y) : pg_extent_intersect(x, y));
    } else {
        n_args(ev, c, name, 1, 1);
        *out = extent_relation(ev, x, name, c->args[0], c->loc);
    }
    return true;
}

// ---- PE construction ----

static bool all_numbers(const list_obj *l) {
    for (int64_t i = 0; i < l->n; i++)
        if (!value_is_num(l->items[i]))
            return false;
    return true;
}

// Which argument a value is, for errors: described only when one is reported, so that
// building a node formats nothing.
typedef struct arg_ref {
    int pos;        // 1-based position, when kw is NULL
    const char *kw; // the keyword, or NULL
} arg_ref;

static const char *arg_what(arg_ref a, char *buf, size_t size) {
    if (a.kw)
        snprintf(buf, size, "argument '%s'", a.kw);
    else
        snprintf(buf, size, "argument %d", a.pos);
    return buf;
}

// A list of numbers (rows = 1) or of equal-length lists of numbers (rows x cols).
static pg_value to_array(evaluator *ev, value v, const char *kind, arg_ref a, pg_srcloc loc) {
    value l = v.t == VT_RANGE ? value_to_list(ev, v, loc) : v;
    const list_obj *o = l.u.l;
    pg_value pv = { .type = PG_V_ARRAY };
    int64_t rows = 1, cols = o->n;
    bool nested = o->n > 0 && !all_numbers(o);
    if (nested) {
        rows = o->n;
        cols = -1;
        for (int64_t r = 0; r < o->n; r++) {
            value row = o->items[r];
            bool ok = (row.t == VT_LIST || row.t == VT_TUPLE) && all_numbers(row.u.l) &&
                      (cols < 0 || row.u.l->n == cols);
            char what[96];
            if (!ok)
                eval_error(ev, loc, PG_ERR_ARG,
                           "%s(): %s must be a list of numbers or of equal-length lists of numbers",
                           kind, arg_what(a, what, sizeof what));
            cols = row.u.l->n;
        }
    }
    if (rows > INT32_MAX || cols > INT32_MAX)
        eval_error(ev, loc, PG_ERR_LIMIT, "list too large");
    double *data = ARENA_ARRAY(ev->a, double, rows *cols + 1);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t k = 0; k < cols; k++)
            data[r * cols + k] = value_as_double(nested ? o->items[r].u.l->items[k] : o->items[k]);
    pv.u.array.rows = (int)rows;
    pv.u.array.cols = (int)cols;
    pv.u.array.data = data;
    return pv;
}

static pg_value to_pg(evaluator *ev, value v, const char *kind, arg_ref a, pg_srcloc loc) {
    pg_value pv = { .type = PG_V_NONE };
    char what[96];
    switch (v.t) {
    case VT_NONE:
        return pv;
    case VT_INT:
        pv.type = PG_V_INT;
        pv.u.i = v.u.i;
        return pv;
    case VT_BOOL:
        pv.type = PG_V_BOOL;
        pv.u.b = v.u.i != 0;
        return pv;
    case VT_FLOAT:
        pv.type = PG_V_NUM;
        pv.u.num = v.u.f;
        return pv;
    case VT_STR:
        pv.type = PG_V_STR;
        pv.u.str = v.u.s->data;
        return pv;
    case VT_EXTENT:
        pv.type = PG_V_EXTENT;
        pv.u.ext = *v.u.ext;
        return pv;
    case VT_PE:
        pv.type = PG_V_NODE;
        pv.u.node = (int)v.u.i;
        return pv;
    case VT_LIST:
    case VT_TUPLE:
    case VT_RANGE:
        return to_array(ev, v, kind, a, loc);
    case VT_FUNC:
    case VT_BUILTIN:
    case VT_BOUND:
        pv.type = PG_V_FUNC;
        pv.u.func = eval_func_make(ev, v, loc, kind);
        return pv;
    default:
        eval_error(ev, loc, PG_ERR_ARG, "%s(): %s cannot be a '%s'", kind,
                   arg_what(a, what, sizeof what), value_type_name(v));
    }
}

const char *methods_resolve_path(evaluator *ev, const char *path) {
    const char *dir = ev->s->files[ev->file].dir;
    if (!path[0] || path[0] == '/' || !dir || !dir[0])
        return path;
    size_t n = strlen(dir), m = strlen(path);
    char *p = arena_alloc(ev->a, n + m + 1);
    memcpy(p, dir, n);
    memcpy(p + n, path, m + 1);
    return p;
}

static void fix_filename(evaluator *ev, int kind, pg_arg *args, int n_pos, int n) {
    int fidx = pg_kind_param_index(kind, "filename");
    if (fidx < 0)
        return;
    for (int i = 0; i < n; i++) {
        bool is_it = i < n_pos ? i == fidx : strcmp(args[i].name, "filename") == 0;
        if (is_it && args[i].value.type == PG_V_STR)
            args[i].value.u.str = methods_resolve_path(ev, args[i].value.u.str);
    }
}

// NoisePE gets seed = noise_seed * 1000003 + k, k counting the NoisePEs built so far and
// noise_seed set by np.random.seed(n) (0 until then), unless the piece passes a seed. Its
// kernel hashes (seed, frame), so every NoisePE of a piece is a distinct, reproducible
// stream.
static bool add_noise_seed(evaluator *ev, int kind, pg_arg *args, int n_pos, int n) {
    if (strcmp(pg_kind_name(kind), "NoisePE") != 0)
        return false;
    int64_t k = ev->noise_count++;
    int sidx = pg_kind_param_index(kind, "seed");
    if (sidx < 0 || n_pos > sidx)
        return false;
    for (int i = n_pos; i < n; i++)
        if (strcmp(args[i].name, "seed") == 0)
            return false;
    args[n].name = "seed";
    args[n].value.type = PG_V_INT;
    args[n].value.u.i = (int64_t)(ev->noise_seed * 1000003u + (uint64_t)k);
    return true;
}

// Builds a node of `kind` from self (when not NULL) and the call's arguments.
static value pe_build(evaluator *ev, int kind, const value *self, const call_args *c) {
    const char *kname = pg_kind_name(kind);
    int n_pos = c->n + (self ? 1 : 0);
    int n = n_pos + c->nk;
    pg_arg *args = ARENA_ARRAY(ev->a, pg_arg, n + 2);
    int k = 0;
    if (self)
        args[k++].value = to_pg(ev, *self, kname, (arg_ref){ .pos = 1 }, c->loc);
    for (int i = 0; i < c->n; i++, k++)
        args[k].value = to_pg(ev, c->args[i], kname, (arg_ref){ .pos = k + 1 }, c->loc);
    for (int i = 0; i < c->nk; i++, k++) {
        args[k].name = c->kw_names[i];
        args[k].value = to_pg(ev, c->kw[i], kname, (arg_ref){ .kw = c->kw_names[i] }, c->loc);
    }
    fix_filename(ev, kind, args, n_pos, n);
    if (add_noise_seed(ev, kind, args, n_pos, n))
        n++;
    pg_diag err = { 0 };
    int id = pg_graph_add(ev->s->graph, kname, args, n, c->loc, &err);
    if (id < 0)
        eval_error(ev, c->loc, err.status ? err.status : PG_ERR_ARG, "%s", err.message);
    value v = { .t = VT_PE, .u.i = id };
    return v;
}

value methods_pe_new(evaluator *ev, int kind, const call_args *c) {
    // Hidden kinds ("_lowpass") only give a method its own defaults: no constructors.
    if (pg_kind_name(kind)[0] == '_')
        eval_error(ev, c->loc, PG_ERR_NAME, "name '%s' is not defined", pg_kind_name(kind));
    return pe_build(ev, kind, NULL, c);
}

// A node of the named kind from positional arguments (the helpers below).
static value make(evaluator *ev, const char *kind, pg_srcloc loc, const value *args, int n) {
    int k = pg_kind_find(kind);
    if (k < 0)
        eval_error(ev, loc, PG_ERR_NAME, "%s is not available in this build", kind);
    call_args c = { .loc = loc, .args = args, .n = n };
    return pe_build(ev, k, NULL, &c);
}

static value make2(evaluator *ev, const char *kind, pg_srcloc loc, value a, value b) {
    value args[2] = { a, b };
    return make(ev, kind, loc, args, 2);
}

// ---- PE helper methods (pygmu's PygPE) ----

static bool positive(value v) {
    return value_is_num(v) && value_as_double(v) > 0.0;
}

// crop(extent, fade_in=0, fade_out=0): CropPE, wrapped in SplicePE when a fade is given.
// QUIRK Q5: pygmu drops fade_out when fade_in is 0; here fade_out alone is honoured.
static value pe_crop(evaluator *ev, value self, const call_args *c) {
    static const char *const names[] = { "extent", "fade_in", "fade_out" };
    value a[3];
    bind(ev, c, "crop", names, 3, 1, a);
    value crop = make2(ev, "CropPE", c->loc, self, a[0]);
    value fin = given(a[1]) ? a[1] : value_int(0), fout = given(a[2]) ? a[2] : value_int(0);
    if (positive(fin)) {
        value args[3] = { crop, fin, value_truthy(fout) ? fout : fin };
        return make(ev, "SplicePE", c->loc, args, 3);
    }
    if (positive(fout)) {
        value args[3] = { crop, value_int(0), fout };
        return make(ev, "SplicePE", c->loc, args, 3);
    }
    return crop;
}

// pad(front_pad_frames=0, rear_pad_frames=0): silence before and after the source.
// QUIRK Q7: pygmu's extent comes out as [f+S, f+E+r+1); here it is [S, S+f+(E-S)+r).
static value pe_pad(evaluator *ev, value self, const call_args *c) {
    static const char *const names[] = { "front_pad_frames", "rear_pad_frames" };
    value a[2];
    bind(ev, c, "pad", names, 2, 0, a);
    int64_t f = given(a[0]) ? frame_of(ev, a[0], false, "pad() front_pad_frames", c->loc) : 0;
    int64_t r = given(a[1]) ? frame_of(ev, a[1], false, "pad() rear_pad_frames", c->loc) : 0;
    value shifted = f > 0 ? make2(ev, "TimeShiftPE", c->loc, self, value_int(f)) : self;
    pg_extent x = pg_graph_node_extent(ev->s->graph, (int)self.u.i);
    if (x.end == PG_FRAME_MAX)
        return shifted; // an indefinite source stays indefinite
    int rate = pg_graph_node_frame_rate(ev->s->graph, (int)self.u.i);
    value zero_args[2] = { value_float(0.0), rate > 0 ? value_int(rate) : value_none() };
    value zero = make(ev, "ConstPE", c->loc, zero_args, 2);
    value ext = value_extent(ev, pg_extent_make(x.start, x.end + f + r));
    value silence = make2(ev, "CropPE", c->loc, zero, ext);
    return make2(ev, "MixPE", c->loc, shifted, silence);
}

// delays(secs=0.5, howmany=1, decay=0.8, width=0.8): MixPE(self, taps...), tap i delayed by
// int(i * secs * frame_rate) frames, gain decay^(i-1), panned by uniform(-90w, 90w) drawn
// from the piece's PRNG (reproducible, unlike pygmu's). A mono source works: MixPE fits
// mono into the stereo taps (QUIRK Q6 fixed).
static value pe_delays(evaluator *ev, value self, const call_args *c) {
    static const char *const names[] = { "secs", "howmany", "decay", "width" };
    value a[4];
    bind(ev, c, "delays", names, 4, 0, a);
    value secs = given(a[0]) ? a[0] : value_float(0.5);
    int64_t howmany = given(a[1]) ? builtins_int(ev, a[1], "delays() howmany", c->loc) : 1;
    double decay = given(a[2]) ? builtins_num(ev, a[2], "delays() decay", c->loc) : 0.8;
    double width = given(a[3]) ? builtins_num(ev, a[3], "delays() width", c->loc) : 0.8;
    value rate = value_int(pg_graph_node_frame_rate(ev->s->graph, (int)self.u.i));
    int64_t n = howmany > 1 ? howmany : 1;
    if (n > ev->lim.max_list)
        eval_error(ev, c->loc, PG_ERR_LIMIT, "delays(): howmany = %lld is too large",
                   (long long)howmany);
    value *taps = ARENA_ARRAY(ev->a, value, n);
    taps[0] = self;
    double amp = 1.0;
    for (int64_t i = 1; i < n; i++) {
        eval_step(ev, c->loc);
        value d = value_binop(ev, TK_STAR, value_binop(ev, TK_STAR, value_int(i), secs, c->loc),
                              rate, c->loc);
        int64_t dframes = d.t == VT_FLOAT ? value_float_to_int(ev, d.u.f, c->loc) : d.u.i;
        value tap = make2(ev, "TimeShiftPE", c->loc, self, value_int(dframes));
        tap = make2(ev, "GainPE", c->loc, tap, value_float(amp));
        double deg = prng_uniform(&ev->rng, -90.0 * width, 90.0 * width);
        const char *kw = "degree";
        value kwv = value_float(deg);
        call_args pc = {
            .loc = c->loc, .args = &tap, .n = 1, .kw_names = &kw, .kw = &kwv, .nk = 1
        };
        taps[i] = pe_build(ev, pg_kind_find("SpatialPE"), NULL, &pc);
        amp *= decay;
    }
    return make(ev, "MixPE", c->loc, taps, (int)n);
}

// reverb(wetness=0.5, ir_name=None, ir_path=None):
// MixPE(GainPE(self, 1 - w), GainPE(ConvolvePE(GainPE(self, 0.28), WavReaderPE(ir)), w)),
// w = wetness**2 / 2, ir = ir_path + ir_name (relative to the piece).
static value pe_reverb(evaluator *ev, value self, const call_args *c) {
    static const char *const names[] = { "wetness", "ir_name", "ir_path" };
    value a[3];
    bind(ev, c, "reverb", names, 3, 0, a);
    double wet = given(a[0]) ? builtins_num(ev, a[0], "reverb() wetness", c->loc) : 0.5;
    if (!given(a[1]) || a[1].t == VT_NONE)
        eval_error(ev, c->loc, PG_ERR_FILE,
                   "no default impulse response yet: pass reverb(ir_name=...)");
    value name = str_arg(ev, a[1], "reverb", c->loc);
    value path = given(a[2]) && a[2].t != VT_NONE
                     ? value_binop(ev, TK_PLUS, str_arg(ev, a[2], "reverb", c->loc), name, c->loc)
                     : name;
    double w = wet * wet / 2.0;
    value ir = make(ev, "WavReaderPE", c->loc, &path, 1);
    value dry = make2(ev, "GainPE", c->loc, self, value_float(1.0 - w));
    value send = make2(ev, "GainPE", c->loc, self, value_float(0.28));
    value wet_pe =
        make2(ev, "GainPE", c->loc, make2(ev, "ConvolvePE", c->loc, send, ir), value_float(w));
    return make2(ev, "MixPE", c->loc, dry, wet_pe);
}

// mul(x): MulPE(self, x) for a PE, GainPE(self, x) for a number (QUIRK Q9: pygmu's
// mul(2.0) fails).
static value pe_mul(evaluator *ev, value self, const call_args *c) {
    static const char *const names[] = { "fac" };
    value a[1];
    bind(ev, c, "mul", names, 1, 1, a);
    return make2(ev, a[0].t == VT_PE ? "MulPE" : "GainPE", c->loc, self, a[0]);
}

// pan(degree=0): SpatialPE(self, degree=degree).
static value pe_pan(evaluator *ev, value self, const call_args *c) {
    static const char *const names[] = { "degree" };
    value a[1];
    bind(ev, c, "pan", names, 1, 0, a);
    const char *kw = "degree";
    value deg = given(a[0]) ? a[0] : value_float(0.0);
    call_args pc = { .loc = c->loc, .args = &self, .n = 1, .kw_names = &kw, .kw = &deg, .nk = 1 };
    int k = pg_kind_find("SpatialPE");
    if (k < 0)
        eval_error(ev, c->loc, PG_ERR_NAME, "SpatialPE is not available in this build");
    return pe_build(ev, k, NULL, &pc);
}

static bool pe_method(evaluator *ev, value self, const char *name, const call_args *c, value *out) {
    int node = (int)self.u.i;
    *out = value_none();
    if (strcmp(name, "crop") == 0)
        *out = pe_crop(ev, self, c);
    else if (strcmp(name, "pad") == 0)
        *out = pe_pad(ev, self, c);
    else if (strcmp(name, "delays") == 0)
        *out = pe_delays(ev, self, c);
    else if (strcmp(name, "reverb") == 0)
        *out = pe_reverb(ev, self, c);
    else if (strcmp(name, "mul") == 0)
        *out = pe_mul(ev, self, c);
    else if (strcmp(name, "pan") == 0)
        *out = pe_pan(ev, self, c);
    else if (strcmp(name, "extent") == 0) {
        no_args(ev, c, name);
        *out = value_extent(ev, pg_graph_node_extent(ev->s->graph, node));
    } else if (strcmp(name, "frame_rate") == 0) {
        no_args(ev, c, name);
        *out = value_int(pg_graph_node_frame_rate(ev->s->graph, node));
    } else if (strcmp(name, "channel_count") == 0) {
        no_args(ev, c, name);
        *out = value_int(pg_graph_node_channels(ev->s->graph, node));
    } else if (strcmp(name, "play") == 0 || strcmp(name, "pygplay") == 0 ||
               strcmp(name, "fts_play") == 0) {
        methods_render(ev, self, c->loc); // every porting alias of playback means render()
    } else {
        int k = pe_method_kind(name);
        if (k < 0)
            return false;
        *out = pe_build(ev, k, &self, c);
    }
    return true;
}

// ---- dispatch ----

value methods_call(evaluator *ev, value obj, const char *name, const call_args *c) {
    value out = value_none();
    bool found = false;
    eval_step(ev, c->loc);
    switch (obj.t) {
    case VT_MODULE:
        return eval_call_args(ev, methods_getattr(ev, obj, name, c->loc), c);
    case VT_STR:
        found = str_method(ev, obj, name, c, &out);
        break;
    case VT_LIST:
        found = list_method(ev, obj, name, c, &out);
        break;
    case VT_TUPLE:
        if (strcmp(name, "index") == 0)
            return value_int(seq_index(ev, obj, c));
        if (strcmp(name, "count") == 0)
            return value_int(seq_count(ev, obj, c));
        break;
    case VT_DICT:
        found = dict_method(ev, obj, name, c, &out);
        break;
    case VT_EXTENT:
        found = extent_method(ev, obj, name, c, &out);
        break;
    case VT_FLOAT:
        if (strcmp(name, "is_integer") == 0) {
            no_args(ev, c, name);
            return value_bool(isfinite(obj.u.f) && obj.u.f == floor(obj.u.f));
        }
        break;
    case VT_PE:
        found = pe_method(ev, obj, name, c, &out);
        break;
    case VT_TRANSPORT:
        if (strcmp(name, "play") == 0) {
            value pe = { .t = VT_PE, .u.i = obj.u.i };
            methods_render(ev, pe, c->loc);
            return value_none();
        }
        break;
    default:
        break;
    }
    if (!found)
        attr_error(ev, obj, name, c->loc);
    return out;
}

// render(pe): recorded; methods_render_finish combines the calls once the module has run.
void methods_render(evaluator *ev, value pe, pg_srcloc loc) {
    if (pe.t != VT_PE)
        eval_error(ev, loc, PG_ERR_ARG, "render() needs a PE, got '%s'", value_type_name(pe));
    if (ev->n_renders == ev->cap_renders) {
        int cap = ev->cap_renders ? ev->cap_renders * 2 : 8;
        if (cap > ev->lim.max_list || cap < 0)
            eval_error(ev, loc, PG_ERR_LIMIT, "too many render() calls");
        ev->renders =
            arena_grow(ev->a, ev->renders, (size_t)ev->n_renders, (size_t)cap, sizeof(render_call));
        ev->cap_renders = cap;
    }
    ev->renders[ev->n_renders++] = (render_call){ (int)pe.u.i, loc };
}

// a + b for frame numbers; PG_ERR_LIMIT when it leaves the int64 range.
static pg_frame frames_add(evaluator *ev, pg_frame a, pg_frame b, pg_srcloc loc) {
    if ((b > 0 && a > PG_FRAME_MAX - 1 - b) || (b < 0 && a < PG_FRAME_MIN + 1 - b))
        eval_error(ev, loc, PG_ERR_LIMIT, "the rendered PEs are too long in all");
    return a + b;
}

// Several render() calls play one after another, as pygmu's Transport(x).play() calls do:
// the first at its own extent, each next one shifted (TimeShiftPE) to start where the one
// before ended, all mixed (MixPE) at the first call's location. Each extent must be finite.
static int render_sequence(evaluator *ev) {
    pg_graph *g = ev->s->graph;
    int n = ev->n_renders;
    pg_srcloc at = ev->renders[0].loc;
    value *parts = ARENA_ARRAY(ev->a, value, n);
    pg_frame cursor = 0;
    for (int k = 0; k < n; k++) {
        const render_call *rc = &ev->renders[k];
        pg_extent x = pg_graph_node_extent(g, rc->node);
        if (!pg_extent_is_finite(x))
            eval_error(ev, rc->loc, PG_ERR_EXTENT,
                       "render() call %d of %d has an indefinite extent (no %s): PEs rendered "
                       "one after another need finite extents",
                       k + 1, n,
                       x.start != PG_FRAME_MIN
                           ? "end"
                           : (x.end == PG_FRAME_MAX ? "start and no end" : "start"));
        if (k == 0)
            cursor = x.start;
        pg_frame len = x.end > x.start ? frames_add(ev, x.end, -x.start, rc->loc) : 0;
        pg_frame shift = frames_add(ev, cursor, -x.start, rc->loc); // 0 for the first
        parts[k] = (value){ .t = VT_PE, .u.i = rc->node };
        if (shift != 0)
            parts[k] = make2(ev, "TimeShiftPE", at, parts[k], value_int(shift));
        cursor = frames_add(ev, cursor, len, rc->loc);
    }
    return (int)make(ev, "MixPE", at, parts, n).u.i;
}

void methods_render_finish(evaluator *ev) {
    if (ev->n_renders == 0) {
        pg_srcloc first = { ev->file, 1, 1 };
        eval_error(ev, first, PG_ERR_ARG, "the piece never calls render()");
    }
    ev->s->root = ev->n_renders == 1 ? ev->renders[0].node : render_sequence(ev);
}

// ---- printf-style formatting: fmt % args ----

typedef struct pct_spec {
    char flags[8];
    int width, prec; // -1: not given
    char type;
} pct_spec;

static const char *parse_pct(const char *p, const char *end, pct_spec *sp) {
    int nf = 0;
    *sp = (pct_spec){ .width = -1, .prec = -1 };
    while (p < end && strchr("-+ #0", *p) && nf < 7)
        sp->flags[nf++] = *p++;
    if (p < end && *p >= '0' && *p <= '9')
        sp->width = value_fmt_number(&p, end);
    if (p < end && *p == '.') {
        p++;
        sp->prec = value_fmt_number(&p, end);
    }
    sp->type = p < end ? *p++ : 0;
    return p;
}

// One %-conversion, done through format()'s mini-language: flags '-' '+' ' ' '0' '#',
// width, precision and the type map onto [align][sign][#][0][width][.prec][type].
// The value a %-conversion formats: an int for d i u x X o, a float for e f g, a str for
// s (str()) and r (repr()).
static value pct_value(evaluator *ev, char t, value v, pg_srcloc loc) {
    if (t == 's' || t == 'r') {
        sbuf s = { 0 };
        if (t == 's')
            value_str_into(ev, &s, v);
        else
            value_repr(ev, &s, v, 0);
        return value_str(ev, s.p ? s.p : "", s.n);
    }
    if (!value_is_num(v))
        eval_error(ev, loc, PG_ERR_ARG, "%%%c format: a real number is required, not %s", t,
                   value_type_name(v));
    if (strchr("eEfFgG", t))
        return value_float(value_as_double(v));
    return v.t == VT_FLOAT ? value_int(value_float_to_int(ev, v.u.f, loc)) : v;
}

// One %-conversion, done through format()'s mini-language: flags '-' '+' ' ' '0' '#',
// width, precision and the type map onto [align][sign][#][0][width][.prec][type].
static void pct_one(evaluator *ev, sbuf *b, const pct_spec *sp, value v, pg_srcloc loc) {
    char t = sp->type;
    bool is_str = t == 's' || t == 'r';
    if (!t || !strchr("diuxXoeEfFgGsr", t))
        eval_error(ev, loc, PG_ERR_ARG, "unsupported format character '%c'", t ? t : '?');
    bool left = strchr(sp->flags, '-') != NULL;
    char spec[48];
    int k = 0;
    if (left || is_str)
        spec[k++] = left ? '<' : '>';
    if (!is_str && strchr(sp->flags, '+'))
        spec[k++] = '+';
    else if (!is_str && strchr(sp->flags, ' '))
        spec[k++] = ' ';
    if (!is_str && strchr(sp->flags, '#'))
        spec[k++] = '#';
    if (!is_str && !left && strchr(sp->flags, '0'))
        spec[k++] = '0';
    if (sp->width >= 0)
        k += snprintf(spec + k, sizeof spec - (size_t)k, "%d", sp->width);
    if (strchr("eEfFgG", t))
        k += snprintf(spec + k, sizeof spec - (size_t)k, ".%d%c", sp->prec < 0 ? 6 : sp->prec, t);
    else if (is_str && sp->prec >= 0)
        k += snprintf(spec + k, sizeof spec - (size_t)k, ".%d", sp->prec);
    else if (!is_str)
        spec[k++] = (t == 'i' || t == 'u') ? 'd' : t;
    value_format(ev, b, pct_value(ev, t, v, loc), spec, (size_t)k, loc);
}

value methods_percent_format(evaluator *ev, value fmt, value args, pg_srcloc loc) {
    const value *items = &args;
    int64_t n = 1, used = 0;
    if (args.t == VT_TUPLE) {
        items = args.u.l->items;
        n = args.u.l->n;
    }
    const char *p = fmt.u.s->data, *end = p + fmt.u.s->len;
    sbuf b = { 0 };
    value_sbuf_puts(ev, &b, "");
    while (p < end) {
        const char *pct = memchr(p, '%', (size_t)(end - p));
        if (!pct) {
            value_sbuf_put(ev, &b, p, (size_t)(end - p));
            break;
        }
        value_sbuf_put(ev, &b, p, (size_t)(pct - p));
        pct_spec sp;
        p = parse_pct(pct + 1, end, &sp);
        if (sp.type == '%') {
            value_sbuf_puts(ev, &b, "%");
            continue;
        }
        if (used >= n)
            eval_error(ev, loc, PG_ERR_ARG, "not enough arguments for format string");
        pct_one(ev, &b, &sp, items[used++], loc);
    }
    if (used < n)
        eval_error(ev, loc, PG_ERR_ARG, "not all arguments converted during string formatting");
    return value_str(ev, b.p, b.n);
}
