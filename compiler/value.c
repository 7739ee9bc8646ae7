// value.c: operations on .pg values with Python 3's semantics: construction, equality and
// ordering across int / float / bool, hashing and insertion-ordered dicts, symbol tables,
// and the text forms (repr, str, format(), the shortest round-trip float repr).
// Everything is allocated from the session arena (see value.h).
#include "value.h"
#include "graph.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- constructors ----

enum {
    MAX_VALUE_NESTING = 1000
}; // comparing / hashing nested lists recurses this deep

void value_enter(evaluator *ev, pg_srcloc loc) {
    if (++ev->value_nesting > MAX_VALUE_NESTING)
        eval_error(ev, loc, PG_ERR_LIMIT,
                   "maximum recursion depth exceeded (values nested deeper than %d)",
                   MAX_VALUE_NESTING);
}

void value_leave(evaluator *ev) {
    ev->value_nesting--;
}

// The budget covers the PEs the program made as well as its values: a loop that builds
// PEs without end kept within the values' budget and went on to exhaust memory.
void value_check_memory(evaluator *ev, pg_srcloc loc) {
    if (arena_bytes(ev->a) + graph_bytes(ev->s->graph) > ev->lim.max_bytes)
        eval_error(ev, loc, PG_ERR_LIMIT,
                   "evaluation memory limit (%zu MiB) exceeded by the program's values and PEs",
                   ev->lim.max_bytes >> 20);
}

// Every growing list, string and dict passes here: the element limit, and the memory
// budget, so that a loop of large allocations stops with an error instead of exhausting
// memory. what and unit name the value in the error ("string", "bytes").
static void check_size(evaluator *ev, const char *what, const char *unit, int64_t n,
                       pg_srcloc loc) {
    if (n > ev->lim.max_list)
        eval_error(ev, loc, PG_ERR_LIMIT, "%s too large (%lld %s; the limit is %lld)", what,
                   (long long)n, unit, (long long)ev->lim.max_list);
    value_check_memory(ev, loc);
}

value value_str(evaluator *ev, const char *s, size_t n) {
    check_size(ev, "string", "bytes", (int64_t)n, ev->stmt_loc);
    str_obj *o = arena_alloc(ev->a, sizeof(str_obj) + n + 1);
    o->len = (int64_t)n;
    if (n)
        memcpy(o->data, s, n);
    value v = { .t = VT_STR, .u.s = o };
    return v;
}

value value_cstr(evaluator *ev, const char *s) {
    return value_str(ev, s, strlen(s));
}

value value_list(evaluator *ev, int64_t cap) {
    list_obj *l = ARENA_NEW(ev->a, list_obj);
    // items is never NULL, so that copying zero items is always defined.
    l->cap = cap > 4 ? cap : 4;
    l->items = ARENA_ARRAY(ev->a, value, l->cap);
    value v = { .t = VT_LIST, .u.l = l };
    return v;
}

value value_tuple(evaluator *ev, const value *items, int64_t n) {
    value v = value_list(ev, n);
    if (n)
        memcpy(v.u.l->items, items, (size_t)n * sizeof(value));
    v.u.l->n = n;
    v.t = VT_TUPLE;
    return v;
}

value value_dict(evaluator *ev) {
    value v = { .t = VT_DICT, .u.d = ARENA_NEW(ev->a, dict_obj) };
    return v;
}

value value_extent(evaluator *ev, pg_extent e) {
    pg_extent *p = ARENA_NEW(ev->a, pg_extent);
    *p = e;
    value v = { .t = VT_EXTENT, .u.ext = p };
    return v;
}

value value_range(evaluator *ev, int64_t start, int64_t stop, int64_t step) {
    range_obj *r = ARENA_NEW(ev->a, range_obj);
    r->start = start;
    r->stop = stop;
    r->step = step;
    // len = ceil((stop - start) / step) when positive, computed without overflow in
    // unsigned arithmetic (the span of two int64 fits a uint64).
    if (step > 0 && start < stop)
        r->len = (int64_t)(((uint64_t)stop - (uint64_t)start - 1) / (uint64_t)step + 1);
    else if (step < 0 && start > stop)
        r->len = (int64_t)(((uint64_t)start - (uint64_t)stop - 1) / (0u - (uint64_t)step) + 1);
    else
        r->len = 0;
    value v = { .t = VT_RANGE, .u.r = r };
    return v;
}

value value_bound(evaluator *ev, value self, const char *name) {
    bound_obj *b = ARENA_NEW(ev->a, bound_obj);
    b->self = self;
    b->name = name;
    value v = { .t = VT_BOUND, .u.bm = b };
    return v;
}

// ---- lists ----

void value_list_reserve(evaluator *ev, list_obj *l, int64_t n, pg_srcloc loc) {
    if (n <= l->cap)
        return;
    check_size(ev, "list", "elements", n, loc);
    int64_t cap = l->cap ? l->cap : 4;
    while (cap < n)
        cap *= 2;
    l->items = arena_grow(ev->a, l->items, (size_t)l->n, (size_t)cap, sizeof(value));
    l->cap = cap;
}

void value_list_append(evaluator *ev, value list, value x, pg_srcloc loc) {
    list_obj *l = list.u.l;
    if (l->n == l->cap)
        value_list_reserve(ev, l, l->n + 1, loc);
    l->items[l->n++] = x;
}

static value range_item(const range_obj *r, int64_t i) {
    return value_int((int64_t)((uint64_t)r->start + (uint64_t)i * (uint64_t)r->step));
}

value value_to_list(evaluator *ev, value v, pg_srcloc loc) {
    value out;
    switch (v.t) {
    case VT_LIST:
    case VT_TUPLE:
        out = value_tuple(ev, v.u.l->items, v.u.l->n);
        out.t = VT_LIST;
        return out;
    case VT_STR:
        out = value_list(ev, v.u.s->len);
        for (int64_t i = 0; i < v.u.s->len; i++)
            out.u.l->items[i] = value_str(ev, v.u.s->data + i, 1);
        out.u.l->n = v.u.s->len;
        return out;
    case VT_DICT:
        out = value_list(ev, v.u.d->live);
        for (int64_t i = 0; i < v.u.d->n; i++)
            if (v.u.d->keys[i].t != VT_UNBOUND)
                out.u.l->items[out.u.l->n++] = v.u.d->keys[i];
        return out;
    case VT_RANGE:
        check_size(ev, "list", "elements", v.u.r->len, loc);
        out = value_list(ev, v.u.r->len);
        for (int64_t i = 0; i < v.u.r->len; i++)
            out.u.l->items[i] = range_item(v.u.r, i);
        out.u.l->n = v.u.r->len;
        return out;
    default:
        eval_error(ev, loc, PG_ERR_ARG, "'%s' object is not iterable", value_type_name(v));
    }
}

// ---- hashing ----

static uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebu;
    x ^= x >> 31;
    return x;
}

static uint64_t str_hash(str_obj *s) {
    if (s->hash)
        return s->hash;
    uint64_t h = 0xcbf29ce484222325u; // FNV-1a
    for (int64_t i = 0; i < s->len; i++) {
        h ^= (unsigned char)s->data[i];
        h *= 0x100000001b3u;
    }
    s->hash = h ? h : 1;
    return s->hash;
}

uint64_t value_hash(evaluator *ev, value v, pg_srcloc loc) {
    switch (v.t) {
    case VT_NONE:
        return 0x6e6f6e65u;
    case VT_BOOL:
    case VT_INT:
        return mix64((uint64_t)v.u.i);
    case VT_FLOAT: {
        // Equal numbers hash equally: an integral float hashes as the int.
        double f = v.u.f;
        if (f == floor(f) && f >= -9223372036854775808.0 && f < 9223372036854775808.0)
            return mix64((uint64_t)(int64_t)f);
        uint64_t bits;
        memcpy(&bits, &f, sizeof bits);
        return mix64(bits ^ 0x5bd1e995u);
    }
    case VT_STR:
        return str_hash(v.u.s);
    case VT_TUPLE: {
        uint64_t h = 0x345678u;
        value_enter(ev, loc);
        for (int64_t i = 0; i < v.u.l->n; i++)
            h = mix64(h ^ value_hash(ev, v.u.l->items[i], loc)) + (uint64_t)i;
        value_leave(ev);
        return h;
    }
    case VT_KIND:
    case VT_PE:
        return mix64((uint64_t)v.u.i ^ ((uint64_t)v.t << 56));
    default:
        eval_error(ev, loc, PG_ERR_ARG, "unhashable type: '%s'", value_type_name(v));
    }
}

// ---- dicts ----

static void dict_rehash(evaluator *ev, dict_obj *d, int64_t cap) {
    d->index = ARENA_ARRAY(ev->a, int64_t, cap);
    d->index_cap = cap;
    pg_srcloc none = { 0, 0, 0 };
    for (int64_t e = 0; e < d->n; e++) {
        if (d->keys[e].t == VT_UNBOUND)
            continue;
        uint64_t h = value_hash(ev, d->keys[e], none);
        int64_t i = (int64_t)(h & (uint64_t)(cap - 1));
        while (d->index[i])
            i = (i + 1) & (cap - 1);
        d->index[i] = e + 1;
    }
}

// The index slot holding key, or the empty slot where it would go.
static int64_t dict_probe(evaluator *ev, const dict_obj *d, value key, uint64_t h, pg_srcloc loc) {
    int64_t mask = d->index_cap - 1;
    int64_t i = (int64_t)(h & (uint64_t)mask);
    for (;;) {
        int64_t e = d->index[i];
        if (e == 0)
            return i;
        value k = d->keys[e - 1];
        if (k.t != VT_UNBOUND && value_eq(ev, k, key, loc))
            return i;
        i = (i + 1) & mask;
    }
}

value *value_dict_find(evaluator *ev, dict_obj *d, value key, pg_srcloc loc) {
    uint64_t h = value_hash(ev, key, loc);
    if (!d->index_cap)
        return NULL;
    int64_t e = d->index[dict_probe(ev, d, key, h, loc)];
    return e ? &d->vals[e - 1] : NULL;
}

void value_dict_set(evaluator *ev, dict_obj *d, value key, value v, pg_srcloc loc) {
    uint64_t h = value_hash(ev, key, loc);
    if (d->index_cap) {
        int64_t e = d->index[dict_probe(ev, d, key, h, loc)];
        if (e) {
            d->vals[e - 1] = v;
            return;
        }
    }
    if (d->n == d->cap) {
        int64_t cap = d->cap ? d->cap * 2 : 8;
        check_size(ev, "dict", "entries", cap, loc);
        d->keys = arena_grow(ev->a, d->keys, (size_t)d->n, (size_t)cap, sizeof(value));
        d->vals = arena_grow(ev->a, d->vals, (size_t)d->n, (size_t)cap, sizeof(value));
        d->cap = cap;
    }
    if ((d->n + 1) * 2 > d->index_cap) {
        d->keys[d->n] = (value){ .t = VT_UNBOUND };
        dict_rehash(ev, d, d->index_cap ? d->index_cap * 2 : 16);
    }
    d->index[dict_probe(ev, d, key, h, loc)] = d->n + 1;
    d->keys[d->n] = key;
    d->vals[d->n] = v;
    d->n++;
    d->live++;
}

bool value_dict_del(evaluator *ev, dict_obj *d, value key, pg_srcloc loc) {
    uint64_t h = value_hash(ev, key, loc);
    if (!d->index_cap)
        return false;
    int64_t e = d->index[dict_probe(ev, d, key, h, loc)];
    if (!e)
        return false;
    // The entry stays in the index as a tombstone (key VT_UNBOUND never matches).
    d->keys[e - 1].t = VT_UNBOUND;
    d->live--;
    return true;
}

// ---- symbol tables keyed by interned pointers ----

static uint32_t ptr_hash(const void *p, uint32_t mask) {
    uint64_t x = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15u;
    return (uint32_t)(x >> 32) & mask;
}

value *value_symtab_find(const symtab *t, const char *sym) {
    if (!t->cap)
        return NULL;
    uint32_t mask = t->cap - 1;
    for (uint32_t i = ptr_hash(sym, mask);; i = (i + 1) & mask) {
        if (t->keys[i] == sym)
            return t->vals[i].t == VT_UNBOUND ? NULL : &t->vals[i];
        if (!t->keys[i])
            return NULL;
    }
}

static void symtab_grow(evaluator *ev, symtab *t) {
    symtab old = *t;
    t->cap = old.cap ? old.cap * 2 : 64;
    t->keys = ARENA_ARRAY(ev->a, const char *, t->cap);
    t->vals = ARENA_ARRAY(ev->a, value, t->cap);
    t->n = 0;
    for (uint32_t i = 0; i < old.cap; i++)
        if (old.keys[i])
            value_symtab_put(ev, t, old.keys[i], old.vals[i]);
}

void value_symtab_put(evaluator *ev, symtab *t, const char *sym, value v) {
    if ((t->n + 1) * 2 > t->cap)
        symtab_grow(ev, t);
    uint32_t mask = t->cap - 1;
    uint32_t i = ptr_hash(sym, mask);
    while (t->keys[i] && t->keys[i] != sym)
        i = (i + 1) & mask;
    if (!t->keys[i]) {
        t->keys[i] = sym;
        t->n++;
    }
    t->vals[i] = v;
}

void *value_ptrmap_get(const ptrmap *m, const void *key) {
    if (!m->cap)
        return NULL;
    uint32_t mask = m->cap - 1;
    for (uint32_t i = ptr_hash(key, mask);; i = (i + 1) & mask) {
        if (m->keys[i] == key)
            return m->vals[i];
        if (!m->keys[i])
            return NULL;
    }
}

void value_ptrmap_put(evaluator *ev, ptrmap *m, const void *key, void *val) {
    if ((m->n + 1) * 2 > m->cap) {
        ptrmap old = *m;
        m->cap = old.cap ? old.cap * 2 : 64;
        m->keys = ARENA_ARRAY(ev->a, const void *, m->cap);
        m->vals = ARENA_ARRAY(ev->a, void *, m->cap);
        m->n = 0;
        for (uint32_t i = 0; i < old.cap; i++)
            if (old.keys[i])
                value_ptrmap_put(ev, m, old.keys[i], old.vals[i]);
    }
    uint32_t mask = m->cap - 1;
    uint32_t i = ptr_hash(key, mask);
    while (m->keys[i] && m->keys[i] != key)
        i = (i + 1) & mask;
    if (!m->keys[i]) {
        m->keys[i] = key;
        m->n++;
    }
    m->vals[i] = val;
}

// ---- semantics ----

const char *value_type_name(value v) {
    switch (v.t) {
    case VT_UNBOUND:
        return "unbound";
    case VT_NONE:
        return "NoneType";
    case VT_BOOL:
        return "bool";
    case VT_INT:
        return "int";
    case VT_FLOAT:
        return "float";
    case VT_STR:
        return "str";
    case VT_LIST:
        return "list";
    case VT_TUPLE:
        return "tuple";
    case VT_DICT:
        return "dict";
    case VT_RANGE:
        return "range";
    case VT_FUNC:
        return "function";
    case VT_BUILTIN:
        return "builtin_function_or_method";
    case VT_BOUND:
        return "method";
    case VT_MODULE:
        return "module";
    case VT_KIND:
        return "PE constructor";
    case VT_EXTENT:
        return "Extent";
    case VT_PE:
        return "PE";
    case VT_TRANSPORT:
        return "Transport";
    }
    return "value";
}

bool value_truthy(value v) {
    switch (v.t) {
    case VT_NONE:
    case VT_UNBOUND:
        return false;
    case VT_BOOL:
    case VT_INT:
        return v.u.i != 0;
    case VT_FLOAT:
        return v.u.f != 0.0;
    case VT_STR:
        return v.u.s->len != 0;
    case VT_LIST:
    case VT_TUPLE:
        return v.u.l->n != 0;
    case VT_DICT:
        return v.u.d->live != 0;
    case VT_RANGE:
        return v.u.r->len != 0;
    case VT_FUNC:
    case VT_BUILTIN:
    case VT_BOUND:
    case VT_MODULE:
    case VT_KIND:
    case VT_EXTENT:
    case VT_PE:
    case VT_TRANSPORT:
        return true;
    }
    return true;
}

// Exact comparison of an int64 with a double (Python compares int and float exactly).
static int cmp_int_float(int64_t i, double d) {
    if (d >= 9223372036854775808.0)
        return -1;
    if (d < -9223372036854775808.0)
        return 1;
    double t = trunc(d);
    int64_t ti = (int64_t)t;
    if (i != ti)
        return i < ti ? -1 : 1;
    return d > t ? -1 : (d < t ? 1 : 0);
}

int value_num_cmp(value a, value b, bool *unordered) {
    *unordered = false;
    bool af = a.t == VT_FLOAT, bf = b.t == VT_FLOAT;
    if (!af && !bf)
        return a.u.i < b.u.i ? -1 : (a.u.i > b.u.i ? 1 : 0);
    if ((af && isnan(a.u.f)) || (bf && isnan(b.u.f))) {
        *unordered = true;
        return 0;
    }
    if (af && bf)
        return a.u.f < b.u.f ? -1 : (a.u.f > b.u.f ? 1 : 0);
    if (af)
        return -cmp_int_float(b.u.i, a.u.f);
    return cmp_int_float(a.u.i, b.u.f);
}

static bool seq_eq(evaluator *ev, const list_obj *a, const list_obj *b, pg_srcloc loc) {
    if (a->n != b->n)
        return false;
    value_enter(ev, loc);
    bool eq = true;
    for (int64_t i = 0; i < a->n && i < b->n && eq; i++)
        eq = value_eq(ev, a->items[i], b->items[i], loc);
    value_leave(ev);
    return eq;
}

static bool dict_eq(evaluator *ev, dict_obj *a, dict_obj *b, pg_srcloc loc) {
    if (a->live != b->live)
        return false;
    value_enter(ev, loc);
    bool eq = true;
    for (int64_t i = 0; i < a->n && eq; i++) {
        if (a->keys[i].t == VT_UNBOUND)
            continue;
        value *o = value_dict_find(ev, b, a->keys[i], loc);
        eq = o && value_eq(ev, a->vals[i], *o, loc);
    }
    value_leave(ev);
    return eq;
}

static bool range_eq(const range_obj *a, const range_obj *b) {
    if (a->len != b->len)
        return false;
    if (a->len == 0)
        return true;
    return a->start == b->start && (a->len == 1 || a->step == b->step);
}

bool value_eq(evaluator *ev, value a, value b, pg_srcloc loc) {
    if (value_is_num(a) && value_is_num(b)) {
        bool unordered;
        int c = value_num_cmp(a, b, &unordered);
        return !unordered && c == 0;
    }
    if (a.t != b.t)
        return false;
    switch (a.t) {
    case VT_NONE:
        return true;
    case VT_STR:
        return a.u.s->len == b.u.s->len &&
               memcmp(a.u.s->data, b.u.s->data, (size_t)a.u.s->len) == 0;
    case VT_LIST:
    case VT_TUPLE:
        return a.u.l == b.u.l || seq_eq(ev, a.u.l, b.u.l, loc);
    case VT_DICT:
        return a.u.d == b.u.d || dict_eq(ev, a.u.d, b.u.d, loc);
    case VT_RANGE:
        return range_eq(a.u.r, b.u.r);
    case VT_EXTENT:
        return a.u.ext->start == b.u.ext->start && a.u.ext->end == b.u.ext->end;
    case VT_KIND:
    case VT_PE:
    case VT_TRANSPORT:
        return a.u.i == b.u.i;
    case VT_FUNC:
        return a.u.fn == b.u.fn;
    case VT_BUILTIN:
        return a.u.bi == b.u.bi;
    case VT_MODULE:
        return a.u.mod == b.u.mod;
    case VT_BOUND:
        return a.u.bm->name == b.u.bm->name && value_eq(ev, a.u.bm->self, b.u.bm->self, loc);
    default:
        return false;
    }
}

static bool seq_lt(evaluator *ev, const list_obj *a, const list_obj *b, pg_srcloc loc) {
    int64_t n = a->n < b->n ? a->n : b->n;
    value_enter(ev, loc);
    bool lt = a->n < b->n;
    for (int64_t i = 0; i < n; i++) {
        if (value_eq(ev, a->items[i], b->items[i], loc))
            continue;
        lt = value_lt(ev, a->items[i], b->items[i], loc);
        break;
    }
    value_leave(ev);
    return lt;
}

bool value_lt(evaluator *ev, value a, value b, pg_srcloc loc) {
    if (value_is_num(a) && value_is_num(b)) {
        bool unordered;
        return value_num_cmp(a, b, &unordered) < 0 && !unordered;
    }
    if (a.t == VT_STR && b.t == VT_STR) {
        int64_t n = a.u.s->len < b.u.s->len ? a.u.s->len : b.u.s->len;
        int c = memcmp(a.u.s->data, b.u.s->data, (size_t)n);
        return c < 0 || (c == 0 && a.u.s->len < b.u.s->len);
    }
    if ((a.t == VT_LIST && b.t == VT_LIST) || (a.t == VT_TUPLE && b.t == VT_TUPLE))
        return seq_lt(ev, a.u.l, b.u.l, loc);
    eval_error(ev, loc, PG_ERR_ARG, "'<' not supported between instances of '%s' and '%s'",
               value_type_name(a), value_type_name(b));
}

int64_t value_len(evaluator *ev, value v, pg_srcloc loc) {
    switch (v.t) {
    case VT_STR:
        return v.u.s->len;
    case VT_LIST:
    case VT_TUPLE:
        return v.u.l->n;
    case VT_DICT:
        return v.u.d->live;
    case VT_RANGE:
        return v.u.r->len;
    default:
        eval_error(ev, loc, PG_ERR_ARG, "object of type '%s' has no len()", value_type_name(v));
    }
}

// ---- byte buffers ----

// Room for n more bytes and a terminating NUL.
static void sbuf_reserve(evaluator *ev, sbuf *b, size_t n) {
    if (b->n + n + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap * 2 : 64;
    while (cap < b->n + n + 1)
        cap *= 2;
    b->p = arena_grow(ev->a, b->p, b->n, cap, 1);
    b->cap = cap;
}

void value_sbuf_put(evaluator *ev, sbuf *b, const char *s, size_t n) {
    sbuf_reserve(ev, b, n);
    if (n)
        memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void value_sbuf_puts(evaluator *ev, sbuf *b, const char *s) {
    value_sbuf_put(ev, b, s, strlen(s));
}

void value_sbuf_printf(evaluator *ev, sbuf *b, const char *fmt, ...) {
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n >= 0) {
        sbuf_reserve(ev, b, (size_t)n);
        vsnprintf(b->p + b->n, (size_t)n + 1, fmt, again);
        b->n += (size_t)n;
    }
    va_end(again);
}

// ---- text forms ----

// The shortest decimal digits that read back as x: "%.{p}e" for p = 1..17 digits.
static int shortest_digits(double x, char *digits, int *exp10) {
    char buf[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, x);
        if (strtod(buf, NULL) == x || p == 17)
            break;
    }
    int n = 0;
    const char *c = buf;
    for (; *c && *c != 'e'; c++)
        if (*c >= '0' && *c <= '9')
            digits[n++] = *c;
    *exp10 = atoi(c + 1);
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    return n;
}

void value_float_repr(double x, char *out, size_t size) {
    if (isnan(x)) {
        snprintf(out, size, "nan");
        return;
    }
    if (isinf(x)) {
        snprintf(out, size, x > 0 ? "inf" : "-inf");
        return;
    }
    if (x == 0.0) {
        snprintf(out, size, signbit(x) ? "-0.0" : "0.0");
        return;
    }
    char digits[24];
    int e = 0;
    int n = shortest_digits(fabs(x), digits, &e);
    int decpt = e + 1; // the value is 0.DIGITS * 10^decpt
    const char *sign = x < 0 ? "-" : "";
    if (decpt <= -4 || decpt > 16) {
        // CPython's repr switches to exponent form outside 1e-4 <= |x| < 1e16.
        snprintf(out, size, "%s%c%s%s%se%c%02d", sign, digits[0], n > 1 ? "." : "", digits + 1, "",
                 e < 0 ? '-' : '+', e < 0 ? -e : e);
    } else if (decpt <= 0) {
        snprintf(out, size, "%s0.%.*s%s", sign, -decpt, "0000", digits);
    } else if (decpt >= n) {
        snprintf(out, size, "%s%s%.*s.0", sign, digits, decpt - n, "0000000000000000");
    } else {
        snprintf(out, size, "%s%.*s.%s", sign, decpt, digits, digits + decpt);
    }
}

static void repr_str(evaluator *ev, sbuf *b, const str_obj *s) {
    bool has_sq = memchr(s->data, '\'', (size_t)s->len) != NULL;
    bool has_dq = memchr(s->data, '"', (size_t)s->len) != NULL;
    char q = has_sq && !has_dq ? '"' : '\'';
    value_sbuf_put(ev, b, &q, 1);
    for (int64_t i = 0; i < s->len; i++) {
        unsigned char c = (unsigned char)s->data[i];
        char esc[8];
        if (c == '\\' || c == (unsigned char)q)
            snprintf(esc, sizeof esc, "\\%c", c);
        else if (c == '\n')
            snprintf(esc, sizeof esc, "\\n");
        else if (c == '\t')
            snprintf(esc, sizeof esc, "\\t");
        else if (c == '\r')
            snprintf(esc, sizeof esc, "\\r");
        else if (c < 0x20 || c == 0x7f)
            snprintf(esc, sizeof esc, "\\x%02x", c);
        else {
            value_sbuf_put(ev, b, (const char *)&s->data[i], 1);
            continue;
        }
        value_sbuf_puts(ev, b, esc);
    }
    value_sbuf_put(ev, b, &q, 1);
}

static void repr_bound(evaluator *ev, sbuf *b, pg_frame f, bool is_start) {
    if (f == (is_start ? PG_FRAME_MIN : PG_FRAME_MAX))
        value_sbuf_puts(ev, b, is_start ? "-inf" : "inf");
    else
        value_sbuf_printf(ev, b, "%lld", (long long)f);
}

static void repr_seq(evaluator *ev, sbuf *b, value v, int depth) {
    bool tuple = v.t == VT_TUPLE;
    value_sbuf_puts(ev, b, tuple ? "(" : "[");
    for (int64_t i = 0; i < v.u.l->n; i++) {
        if (i)
            value_sbuf_puts(ev, b, ", ");
        value_repr(ev, b, v.u.l->items[i], depth + 1);
    }
    value_sbuf_puts(ev, b, tuple ? (v.u.l->n == 1 ? ",)" : ")") : "]");
}

static void repr_dict(evaluator *ev, sbuf *b, const dict_obj *d, int depth) {
    value_sbuf_puts(ev, b, "{");
    bool first = true;
    for (int64_t i = 0; i < d->n; i++) {
        if (d->keys[i].t == VT_UNBOUND)
            continue;
        if (!first)
            value_sbuf_puts(ev, b, ", ");
        first = false;
        value_repr(ev, b, d->keys[i], depth + 1);
        value_sbuf_puts(ev, b, ": ");
        value_repr(ev, b, d->vals[i], depth + 1);
    }
    value_sbuf_puts(ev, b, "}");
}

void value_repr(evaluator *ev, sbuf *b, value v, int depth) {
    char num[40];
    if (depth > 40) {
        value_sbuf_puts(ev, b, "...");
        return;
    }
    switch (v.t) {
    case VT_UNBOUND:
    case VT_NONE:
        value_sbuf_puts(ev, b, "None");
        return;
    case VT_BOOL:
        value_sbuf_puts(ev, b, v.u.i ? "True" : "False");
        return;
    case VT_INT:
        value_sbuf_printf(ev, b, "%lld", (long long)v.u.i);
        return;
    case VT_FLOAT:
        value_float_repr(v.u.f, num, sizeof num);
        value_sbuf_puts(ev, b, num);
        return;
    case VT_STR:
        repr_str(ev, b, v.u.s);
        return;
    case VT_LIST:
    case VT_TUPLE:
        repr_seq(ev, b, v, depth);
        return;
    case VT_DICT:
        repr_dict(ev, b, v.u.d, depth);
        return;
    case VT_RANGE:
        if (v.u.r->step == 1)
            value_sbuf_printf(ev, b, "range(%lld, %lld)", (long long)v.u.r->start,
                              (long long)v.u.r->stop);
        else
            value_sbuf_printf(ev, b, "range(%lld, %lld, %lld)", (long long)v.u.r->start,
                              (long long)v.u.r->stop, (long long)v.u.r->step);
        return;
    case VT_FUNC:
        value_sbuf_printf(ev, b, "<function %s>", v.u.fn->name);
        return;
    case VT_BUILTIN:
        value_sbuf_printf(ev, b, "<built-in function %s>", v.u.bi->name);
        return;
    case VT_BOUND:
        value_sbuf_printf(ev, b, "<method %s of %s>", v.u.bm->name, value_type_name(v.u.bm->self));
        return;
    case VT_MODULE:
        value_sbuf_printf(ev, b, "<module '%s'>", v.u.mod->name);
        return;
    case VT_KIND:
        value_sbuf_printf(ev, b, "<PE constructor %s>", pg_kind_name((int)v.u.i));
        return;
    case VT_EXTENT:
        value_sbuf_puts(ev, b, "Extent(");
        repr_bound(ev, b, v.u.ext->start, true);
        value_sbuf_puts(ev, b, ", ");
        repr_bound(ev, b, v.u.ext->end, false);
        value_sbuf_puts(ev, b, ")");
        return;
    case VT_PE:
        value_sbuf_printf(ev, b, "<PE #%lld>", (long long)v.u.i);
        return;
    case VT_TRANSPORT:
        value_sbuf_printf(ev, b, "<Transport of PE #%lld>", (long long)v.u.i);
        return;
    }
}

void value_str_into(evaluator *ev, sbuf *b, value v) {
    if (v.t == VT_STR)
        value_sbuf_put(ev, b, v.u.s->data, (size_t)v.u.s->len);
    else
        value_repr(ev, b, v, 0);
}

value value_to_str(evaluator *ev, value v) {
    if (v.t == VT_STR)
        return v;
    sbuf b = { 0 };
    value_repr(ev, &b, v, 0);
    return value_str(ev, b.p, b.n);
}

// ---- format() mini-language ----

typedef struct fmt_spec {
    char fill, align, sign, type;
    bool zero, comma, alt;
    int width, prec; // -1: not given
} fmt_spec;

static bool is_align(char c) {
    return c == '<' || c == '>' || c == '^' || c == '=';
}

int value_fmt_number(const char **p, const char *end) {
    int n = 0;
    for (; *p < end && **p >= '0' && **p <= '9'; (*p)++)
        n = n > VALUE_FMT_MAX ? n : n * 10 + (**p - '0');
    return n > VALUE_FMT_MAX ? VALUE_FMT_MAX + 1 : n;
}

static bool parse_spec(const char *s, size_t len, fmt_spec *f) {
    const char *p = s, *end = s + len;
    *f = (fmt_spec){ .fill = ' ', .width = -1, .prec = -1 };
    if (end - p >= 2 && is_align(p[1])) {
        f->fill = p[0];
        f->align = p[1];
        p += 2;
    } else if (p < end && is_align(*p)) {
        f->align = *p++;
    }
    if (p < end && (*p == '+' || *p == '-' || *p == ' '))
        f->sign = *p++;
    if (p < end && *p == '#') {
        f->alt = true;
        p++;
    }
    if (p < end && *p == '0') {
        f->zero = true;
        p++;
    }
    if (p < end && *p >= '0' && *p <= '9')
        f->width = value_fmt_number(&p, end);
    if (p < end && (*p == ',' || *p == '_')) {
        f->comma = true;
        p++;
    }
    if (p < end && *p == '.') {
        p++;
        if (p == end || *p < '0' || *p > '9')
            return false;
        f->prec = value_fmt_number(&p, end);
    }
    if (p < end)
        f->type = *p++;
    return p == end;
}

// Inserts thousands separators into the integer digits of a formatted number.
static void group_digits(evaluator *ev, sbuf *out, const char *num) {
    const char *d = num;
    while (*d && (*d < '0' || *d > '9'))
        d++;
    const char *e = d;
    while (*e >= '0' && *e <= '9')
        e++;
    value_sbuf_put(ev, out, num, (size_t)(d - num));
    for (const char *c = d; c < e; c++) {
        value_sbuf_put(ev, out, c, 1);
        if ((e - c - 1) > 0 && (e - c - 1) % 3 == 0)
            value_sbuf_puts(ev, out, ",");
    }
    value_sbuf_puts(ev, out, e);
}

static void pad_out(evaluator *ev, sbuf *b, const char *body, const fmt_spec *f, bool numeric) {
    size_t len = strlen(body);
    size_t width = f->width > 0 ? (size_t)f->width : 0;
    char align = f->align ? f->align : (numeric ? '>' : '<');
    char fill = f->fill;
    if (f->zero && !f->align) {
        align = numeric ? '=' : '<'; // '0' pads numbers after the sign, strings on the right
        fill = '0';
    }
    size_t pad = width > len ? width - len : 0;
    size_t left = align == '>' ? pad : (align == '^' ? pad / 2 : 0);
    size_t right = pad - left;
    if (align == '=') {
        // Padding goes between the sign and the digits.
        size_t sign = (len && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) ? 1 : 0;
        value_sbuf_put(ev, b, body, sign);
        for (size_t i = 0; i < pad; i++)
            value_sbuf_put(ev, b, &fill, 1);
        value_sbuf_puts(ev, b, body + sign);
        return;
    }
    for (size_t i = 0; i < left; i++)
        value_sbuf_put(ev, b, &fill, 1);
    value_sbuf_puts(ev, b, body);
    for (size_t i = 0; i < right; i++)
        value_sbuf_put(ev, b, &fill, 1);
}

static void format_int(evaluator *ev, char *out, size_t size, int64_t i, const fmt_spec *f) {
    unsigned long long mag = i < 0 ? 0ull - (unsigned long long)i : (unsigned long long)i;
    const char *sign = i < 0 ? "-" : (f->sign == '+' ? "+" : (f->sign == ' ' ? " " : ""));
    (void)ev;
    switch (f->type) {
    case 'x':
        snprintf(out, size, "%s%s%llx", sign, f->alt ? "0x" : "", mag);
        return;
    case 'X':
        snprintf(out, size, "%s%s%llX", sign, f->alt ? "0X" : "", mag);
        return;
    case 'o':
        snprintf(out, size, "%s%s%llo", sign, f->alt ? "0o" : "", mag);
        return;
    case 'b': {
        char bits[72];
        int n = 0;
        do {
            bits[n++] = (char)('0' + (mag & 1u));
            mag >>= 1;
        } while (mag);
        int k = snprintf(out, size, "%s%s", sign, f->alt ? "0b" : "");
        for (int j = n - 1; j >= 0 && (size_t)k + 1 < size; j--)
            out[k++] = bits[j];
        out[k] = '\0';
        return;
    }
    default:
        snprintf(out, size, "%s%llu", sign, mag);
    }
}

// Appends x as format() writes a float: its sign, then the digits its type and precision
// ask for (any precision up to VALUE_FMT_MAX: '%.400f' of 1e300 has 710 characters).
static void format_float(evaluator *ev, sbuf *out, double x, const fmt_spec *f) {
    const char *sign =
        (signbit(x) && !isnan(x)) ? "-" : (f->sign == '+' ? "+" : (f->sign == ' ' ? " " : ""));
    double a = fabs(x);
    int prec = f->prec < 0 ? 6 : f->prec;
    char type = f->type;
    if (type == '%') {
        a *= 100.0;
        type = 'f';
    }
    value_sbuf_puts(ev, out, sign);
    size_t body = out->n;
    if (isinf(a) || isnan(a)) {
        value_sbuf_puts(ev, out, isnan(a) ? "nan" : "inf");
    } else if (type == 'f' || type == 'F') {
        value_sbuf_printf(ev, out, "%.*f", prec, a);
    } else if (type == 'e' || type == 'E') {
        value_sbuf_printf(ev, out, "%.*e", prec, a);
    } else if (type == 'g' || type == 'G') {
        value_sbuf_printf(ev, out, "%.*g", prec == 0 ? 1 : prec, a);
    } else if (f->prec < 0) {
        char repr[64];
        value_float_repr(a, repr, sizeof repr); // no type, no precision: str(x)
        value_sbuf_puts(ev, out, repr);
    } else {
        // No type with a precision: like 'g', but a whole number keeps ".0".
        value_sbuf_printf(ev, out, "%.*g", prec == 0 ? 1 : prec, a);
        if (!strpbrk(out->p + body, ".e"))
            value_sbuf_puts(ev, out, ".0");
    }
    if (f->type == '%')
        value_sbuf_puts(ev, out, "%");
    if (f->type == 'F' || f->type == 'E' || f->type == 'G')
        for (char *c = out->p + body; *c; c++)
            *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
}

void value_format(evaluator *ev, sbuf *b, value v, const char *spec, size_t spec_len,
                  pg_srcloc loc) {
    fmt_spec f;
    if (!parse_spec(spec, spec_len, &f))
        eval_error(ev, loc, PG_ERR_ARG, "invalid format specifier '%.*s'", (int)spec_len, spec);
    if (f.width > VALUE_FMT_MAX || f.prec > VALUE_FMT_MAX)
        eval_error(ev, loc, PG_ERR_LIMIT, "format width or precision too large (at most %d)",
                   VALUE_FMT_MAX);
    sbuf num = { 0 };
    bool numeric = value_is_num(v);
    if (v.t == VT_BOOL && !f.type && spec_len == 0) {
        value_sbuf_puts(ev, b, v.u.i ? "True" : "False");
        return;
    }
    if (value_is_intlike(v) && (!f.type || strchr("dxXobn", f.type))) {
        char digits[80]; // a sign, a base prefix and 64 binary digits at most
        format_int(ev, digits, sizeof digits, v.u.i, &f);
        value_sbuf_puts(ev, &num, digits);
    } else if (numeric && (!f.type || strchr("eEfFgGn%", f.type))) {
        format_float(ev, &num, value_as_double(v), &f);
    } else if (v.t == VT_STR && (!f.type || f.type == 's')) {
        sbuf t = { 0 };
        int64_t n = f.prec >= 0 && f.prec < v.u.s->len ? f.prec : v.u.s->len;
        value_sbuf_put(ev, &t, v.u.s->data, (size_t)n);
        pad_out(ev, b, t.p ? t.p : "", &f, false);
        return;
    } else if (spec_len == 0) {
        value_str_into(ev, b, v);
        return;
    } else {
        eval_error(ev, loc, PG_ERR_ARG, "unknown format code '%c' for object of type '%s'",
                   f.type ? f.type : '?', value_type_name(v));
    }
    if (f.comma) {
        sbuf g = { 0 };
        group_digits(ev, &g, num.p);
        pad_out(ev, b, g.p, &f, true);
        return;
    }
    pad_out(ev, b, num.p, &f, true);
}

// ---- numbers ----

int64_t value_float_to_int(evaluator *ev, double x, pg_srcloc loc) {
    if (isnan(x))
        eval_error(ev, loc, PG_ERR_ARG, "cannot convert float NaN to integer");
    if (isinf(x))
        eval_error(ev, loc, PG_ERR_ARG, "cannot convert float infinity to integer");
    double t = trunc(x);
    if (t < -9223372036854775808.0 || t >= 9223372036854775808.0)
        eval_error(ev, loc, PG_ERR_ARG, "integer overflow: %g does not fit in 64 bits", x);
    return (int64_t)t;
}

int64_t value_round_half_even(evaluator *ev, double x, pg_srcloc loc) {
    if (!isfinite(x))
        return value_float_to_int(ev, x, loc);
    double fl = floor(x);
    double diff = x - fl;
    double r = fl;
    if (diff > 0.5 || (diff == 0.5 && fmod(fl, 2.0) != 0.0))
        r = fl + 1.0;
    return value_float_to_int(ev, r, loc);
}

double value_round_digits(double x, int64_t ndigits) {
    if (!isfinite(x) || x == 0.0 || ndigits > 330)
        return x;
    if (ndigits < -330)
        return copysign(0.0, x);
    // Round the exact decimal expansion of |x| half to even at digit `ndigits` after the
    // point (CPython does the same with dtoa's mode 3).
    static const int frac_digits = 1100; // enough for every double's exact expansion
    char buf[1500];
    snprintf(buf, sizeof buf, "%.*f", frac_digits, fabs(x));
    char digits[1500];
    int n = 0, int_len = 0;
    for (const char *c = buf; *c; c++) {
        if (*c == '.')
            int_len = n;
        else
            digits[n++] = *c;
    }
    int64_t cut = int_len + ndigits;
    if (cut < 0)
        return copysign(0.0, x);
    if (cut >= n)
        return x;
    bool rest = false;
    for (int i = (int)cut + 1; i < n; i++)
        rest = rest || digits[i] != '0';
    char d = digits[cut];
    int last = cut > 0 ? digits[cut - 1] - '0' : 0;
    bool up = d > '5' || (d == '5' && (rest || (last & 1)));
    char kept[1510];
    kept[0] = '0'; // room for a carry
    memcpy(kept + 1, digits, (size_t)cut);
    int k = (int)cut + 1;
    for (int i = k - 1; up && i >= 0; i--) {
        if (kept[i] == '9') {
            kept[i] = '0';
        } else {
            kept[i]++;
            up = false;
        }
    }
    snprintf(kept + k, sizeof kept - (size_t)k, "e%lld", (long long)-ndigits);
    return copysign(strtod(kept, NULL), x);
}
