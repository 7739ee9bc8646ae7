// eval.c: the .pg evaluator, a deterministic tree-walking interpreter of the Python subset
// of design.md. Names are interned once (the AST's name pointers are replaced by interned
// ones), each def / lambda / comprehension gets a static scope (its local names, Python's
// rule: assigned anywhere in the body => local), and calls run in frames of slots linked
// to the defining frame, which gives Python's closures (LEGB, late binding). PE constructor
// calls build the session graph (methods.c); operators are in value_ops.c, builtins in
// builtins.c and builtins_num.c.
// Every allocation is from the session arena; errors longjmp out through diag_fatal.
#include "eval.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtins.h"
#include "lex.h"
#include "methods.h"
#include "value.h"

typedef enum flow {
    FLOW_NORMAL,
    FLOW_BREAK,
    FLOW_CONTINUE,
    FLOW_RETURN,
} flow;

enum {
    MAX_EXPR_NESTING = 4000
}; // C recursion guard for absurdly nested expressions

static value eval_expr(evaluator *ev, frame *f, const ast *e);
static flow exec_block(evaluator *ev, frame *f, ast *const *body, int n);
static void assign(evaluator *ev, frame *f, const ast *target, value v);

// ---- errors and limits ----

_Noreturn void eval_error(evaluator *ev, pg_srcloc loc, pg_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ev->last_error = st;
    if (!ev->cb_err)
        diag_vfatal(ev->s, loc, st, fmt, ap);
    // Inside a PG_V_FUNC callback (eval_func.c): the message goes back to the render,
    // located as a diagnostic would be, and the session's diagnostics stay as they were.
    char msg[400];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (loc.line > 0)
        snprintf(ev->cb_err, ev->cb_err_size, "%s:%d:%d: %s", pg_session_file_path(ev->s, loc.file),
                 loc.line, loc.col, msg);
    else
        snprintf(ev->cb_err, ev->cb_err_size, "%s", msg);
    longjmp(*ev->s->on_error, 1);
}

static _Noreturn void step_limit(evaluator *ev, pg_srcloc loc) {
    eval_error(ev, loc, PG_ERR_LIMIT, "evaluation step limit (%lld) exceeded",
               (long long)ev->lim.max_steps);
}

static inline void step(evaluator *ev, pg_srcloc loc) {
    if (++ev->steps > ev->lim.max_steps)
        step_limit(ev, loc);
    // The memory budget, now and then: the arena frees nothing before the end, so a loop of
    // small temporaries (a list, an Extent, a bound method per pass) would grow it past the
    // budget without ever passing check_size.
    if ((ev->steps & 1023) == 0)
        value_check_memory(ev, loc);
}

void eval_step(evaluator *ev, pg_srcloc loc) {
    step(ev, loc);
}

// ---- interning ----

static uint32_t str_hash32(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static void intern_grow(evaluator *ev) {
    const char **old = ev->interned;
    uint32_t old_cap = ev->interned_cap;
    ev->interned_cap = old_cap ? old_cap * 2 : 1024;
    ev->interned = ARENA_ARRAY(ev->a, const char *, ev->interned_cap);
    uint32_t mask = ev->interned_cap - 1;
    for (uint32_t i = 0; i < old_cap; i++) {
        if (!old[i])
            continue;
        uint32_t j = str_hash32(old[i], strlen(old[i])) & mask;
        while (ev->interned[j])
            j = (j + 1) & mask;
        ev->interned[j] = old[i];
    }
}

const char *eval_intern(evaluator *ev, const char *s, size_t n) {
    if ((ev->interned_n + 1) * 2 > ev->interned_cap)
        intern_grow(ev);
    uint32_t mask = ev->interned_cap - 1;
    uint32_t i = str_hash32(s, n) & mask;
    for (; ev->interned[i]; i = (i + 1) & mask) {
        const char *k = ev->interned[i];
        if (strncmp(k, s, n) == 0 && k[n] == '\0')
            return k;
    }
    ev->interned[i] = arena_strndup(ev->a, s, n);
    ev->interned_n++;
    return ev->interned[i];
}

static const char *intern_c(evaluator *ev, const char *s) {
    return eval_intern(ev, s, strlen(s));
}

// Replaces every name in the tree by its interned copy, so that symbol tables can compare
// pointers. The AST is the evaluator's after parsing; the strings stay equal.
static void intern_tree(evaluator *ev, ast *e) {
    if (!e)
        return;
    if (e->name)
        e->name = intern_c(ev, e->name);
    intern_tree(ev, e->a);
    intern_tree(ev, e->b);
    intern_tree(ev, e->c);
    for (int i = 0; i < e->n; i++)
        intern_tree(ev, e->list[i]);
    for (int i = 0; i < e->n2; i++)
        intern_tree(ev, e->list2[i]);
}

// ---- "did you mean" ----

static char lower(char c) {
    return (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

// CPython's suggestion distance (Python/suggestions.c): inserting, deleting or replacing a
// character costs 2, a change of case only 1; here swapping two neighbours also costs 2,
// so that "gian" finds "gain".
static int edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 999;
    int d[41][41];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = 2 * (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = 2 * (int)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            char x = a[i - 1], y = b[j - 1];
            int sub = x == y ? 0 : (lower(x) == lower(y) ? 1 : 2);
            int best = d[i - 1][j - 1] + sub;
            if (d[i - 1][j] + 2 < best)
                best = d[i - 1][j] + 2;
            if (d[i][j - 1] + 2 < best)
                best = d[i][j - 1] + 2;
            if (i > 1 && j > 1 && x == b[j - 2] && a[i - 2] == y && d[i - 2][j - 2] + 2 < best)
                best = d[i - 2][j - 2] + 2;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

static bool same_ignoring_case(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (lower(*a) != lower(*b))
            return false;
    return *a == *b;
}

static int common_prefix(const char *a, const char *b) {
    int n = 0;
    while (a[n] && a[n] == b[n])
        n++;
    return n;
}

// Names starting with '_' are offered only for a name that starts with '_' too, and never
// the hidden PE kinds ("_lowpass", "_warp_speed": a method's own defaults, no constructors).
static bool offerable(const char *cand, const char *name) {
    if (cand[0] == '<')
        return false;
    return cand[0] != '_' || (name[0] == '_' && pg_kind_find(cand) < 0);
}

void eval_suggest_offer(void *ctx, const char *cand) {
    suggest *sg = ctx;
    if (!cand || strcmp(cand, sg->name) == 0 || !offerable(cand, sg->name))
        return;
    int score = 0;
    if (!same_ignoring_case(cand, sg->name)) {
        // CPython's bound: (len(a) + len(b) + 3) * 2 // 6.
        int allowed = (int)((strlen(cand) + strlen(sg->name) + 3) * 2 / 6);
        score = edit_distance(cand, sg->name);
        if (score > allowed)
            return;
    }
    // Ties go to the longer common prefix, then to the alphabetically first name, so that
    // hash order never decides ("sinn" -> "sin" rather than "sign").
    int tie = 0;
    if (sg->best && score == sg->best_score) {
        tie = common_prefix(cand, sg->name) - common_prefix(sg->best, sg->name);
        if (tie == 0)
            tie = strcmp(sg->best, cand);
    }
    if (!sg->best || score < sg->best_score || tie > 0) {
        sg->best = cand;
        sg->best_score = score;
    }
}

static void offer_symtab(suggest *sg, const symtab *t) {
    for (uint32_t i = 0; i < t->cap; i++)
        if (t->keys[i] && t->vals[i].t != VT_UNBOUND)
            eval_suggest_offer(sg, t->keys[i]);
}

static _Noreturn void name_error(evaluator *ev, const frame *f, const ast *e) {
    suggest sg = { .name = e->name };
    for (const frame *g = f; g; g = g->up)
        for (int i = 0; i < g->sc->n; i++)
            eval_suggest_offer(&sg, g->sc->names[i]);
    offer_symtab(&sg, &ev->globals);
    offer_symtab(&sg, &ev->builtins);
    if (sg.best)
        eval_error(ev, e->loc, PG_ERR_NAME, "name '%s' is not defined; did you mean '%s'?", e->name,
                   sg.best);
    eval_error(ev, e->loc, PG_ERR_NAME, "name '%s' is not defined", e->name);
}

// ---- scopes ----

typedef struct name_set {
    const char **v;
    int n, cap;
} name_set;

static bool ns_has(const name_set *s, const char *sym) {
    for (int i = 0; i < s->n; i++)
        if (s->v[i] == sym)
            return true;
    return false;
}

static void ns_add(evaluator *ev, name_set *s, const char *sym) {
    if (!sym || ns_has(s, sym))
        return;
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 16;
        s->v = arena_grow(ev->a, s->v, (size_t)s->n, (size_t)cap, sizeof(const char *));
        s->cap = cap;
    }
    s->v[s->n++] = sym;
}

static void collect_target(evaluator *ev, name_set *locals, const ast *t) {
    if (!t)
        return;
    switch (t->kind) {
    case AST_NAME:
        ns_add(ev, locals, t->name);
        return;
    case AST_TUPLE:
    case AST_LIST:
        for (int i = 0; i < t->n; i++)
            collect_target(ev, locals, t->list[i]);
        return;
    case AST_STARRED:
        collect_target(ev, locals, t->a);
        return;
    default:
        return; // attribute and subscript targets bind no name
    }
}

// The name `import a.b.c [as x]` binds: x, else a.
static const char *module_binding(evaluator *ev, const ast *m) {
    if (m->str)
        return intern_c(ev, m->str);
    if (!m->name)
        return NULL;
    const char *dot = strchr(m->name, '.');
    return dot ? eval_intern(ev, m->name, (size_t)(dot - m->name)) : m->name;
}

// The names an import statement binds: each module's binding (import), or each imported
// name or its alias (from ... import; `*` binds nothing: the builtins are already there).
static void collect_import(evaluator *ev, const ast *st, name_set *locals) {
    if (st->op == TK_FROM) {
        for (int i = 0; i < st->n; i++)
            if (strcmp(st->list[i]->name, "*") != 0)
                ns_add(ev, locals, module_binding(ev, st->list[i]));
        return;
    }
    ns_add(ev, locals, module_binding(ev, st));
    for (int i = 0; i < st->n; i++)
        ns_add(ev, locals, module_binding(ev, st->list[i]));
}

// The names a block of statements binds (nested defs, lambdas and comprehensions are
// scopes of their own and are not entered).
static void collect_stmts(evaluator *ev, ast *const *body, int n, name_set *locals,
                          name_set *globals) {
    for (int i = 0; i < n; i++) {
        const ast *st = body[i];
        switch (st->kind) {
        case AST_ASSIGN:
            for (int k = 0; k < st->n; k++)
                collect_target(ev, locals, st->list[k]);
            break;
        case AST_AUGASSIGN:
            collect_target(ev, locals, st->a);
            break;
        case AST_FOR:
            collect_target(ev, locals, st->a);
            collect_stmts(ev, st->list, st->n, locals, globals);
            collect_stmts(ev, st->list2, st->n2, locals, globals);
            break;
        case AST_IF:
        case AST_WHILE:
            collect_stmts(ev, st->list, st->n, locals, globals);
            collect_stmts(ev, st->list2, st->n2, locals, globals);
            break;
        case AST_DEF:
            ns_add(ev, locals, st->name);
            break;
        case AST_IMPORT:
            collect_import(ev, st, locals);
            break;
        case AST_GLOBAL:
            for (int k = 0; k < st->n; k++)
                ns_add(ev, globals, st->list[k]->name);
            break;
        case AST_DEL:
            for (int k = 0; k < st->n; k++)
                collect_target(ev, locals, st->list[k]);
            break;
        default:
            break;
        }
    }
}

static void scope_index(evaluator *ev, scope *sc) {
    int cap = 8;
    while (cap < sc->n * 2)
        cap *= 2;
    sc->table = ARENA_ARRAY(ev->a, const char *, cap);
    sc->slots = ARENA_ARRAY(ev->a, int, cap);
    sc->table_cap = cap;
    for (int i = 0; i < sc->n; i++) {
        int j = (int)(((uintptr_t)sc->names[i] >> 4) & (uintptr_t)(cap - 1));
        while (sc->table[j])
            j = (j + 1) & (cap - 1);
        sc->table[j] = sc->names[i];
        sc->slots[j] = i;
    }
}

static inline int scope_find(const scope *sc, const char *sym) {
    int mask = sc->table_cap - 1;
    for (int j = (int)(((uintptr_t)sym >> 4) & (uintptr_t)mask);; j = (j + 1) & mask) {
        if (sc->table[j] == sym)
            return sc->slots[j];
        if (!sc->table[j])
            return -1;
    }
}

static bool scope_is_global(const scope *sc, const char *sym) {
    for (int i = 0; i < sc->n_globals; i++)
        if (sc->globals[i] == sym)
            return true;
    return false;
}

// The scope of a def or lambda: parameters first (in order), then the other locals.
static const scope *function_scope(evaluator *ev, const ast *fn) {
    scope *sc = value_ptrmap_get(&ev->scopes, fn);
    if (sc)
        return sc;
    name_set locals = { 0 }, globals = { 0 };
    for (int i = 0; i < fn->n2; i++)
        ns_add(ev, &locals, fn->list2[i]->name);
    int n_params = locals.n;
    if (fn->kind == AST_DEF)
        collect_stmts(ev, fn->list, fn->n, &locals, &globals);
    sc = ARENA_NEW(ev->a, scope);
    sc->names = ARENA_ARRAY(ev->a, const char *, locals.n + 1);
    for (int i = 0; i < locals.n; i++)
        if (i < n_params || !ns_has(&globals, locals.v[i]))
            sc->names[sc->n++] = locals.v[i];
    sc->n_params = n_params;
    sc->globals = globals.v;
    sc->n_globals = globals.n;
    scope_index(ev, sc);
    value_ptrmap_put(ev, &ev->scopes, fn, sc);
    return sc;
}

// A comprehension's scope: the targets of its for clauses.
static const scope *comp_scope(evaluator *ev, const ast *comp) {
    scope *sc = value_ptrmap_get(&ev->scopes, comp);
    if (sc)
        return sc;
    name_set locals = { 0 };
    for (int i = 0; i < comp->n; i++)
        if (comp->list[i]->kind == AST_COMP_FOR)
            collect_target(ev, &locals, comp->list[i]->a);
    sc = ARENA_NEW(ev->a, scope);
    sc->names = locals.v;
    sc->n = locals.n;
    scope_index(ev, sc);
    value_ptrmap_put(ev, &ev->scopes, comp, sc);
    return sc;
}

// ---- frames ----

static frame *frame_new(evaluator *ev, const scope *sc, frame *up) {
    frame *fr = NULL;
    int n = sc->n;
    if (n <= EVAL_FREE_FRAME_SLOTS && ev->free_frames[n]) {
        fr = ev->free_frames[n];
        ev->free_frames[n] = fr->next_free;
        memset(fr->slots, 0, (size_t)n * sizeof(value)); // VT_UNBOUND
    } else {
        fr = ARENA_NEW(ev->a, frame);
        fr->slots = ARENA_ARRAY(ev->a, value, n > 0 ? n : 1);
    }
    fr->sc = sc;
    fr->up = up;
    fr->captured = false;
    fr->next_free = NULL;
    return fr;
}

// Recycles a frame no closure refers to (a call's frame dies with the call otherwise).
static void frame_release(evaluator *ev, frame *fr) {
    int n = fr->sc->n;
    if (fr->captured || n > EVAL_FREE_FRAME_SLOTS)
        return;
    fr->next_free = ev->free_frames[n];
    ev->free_frames[n] = fr;
}

static void mark_captured(frame *f) {
    for (; f && !f->captured; f = f->up)
        f->captured = true;
}

// ---- names ----

static _Noreturn void unbound_error(evaluator *ev, const ast *e, bool is_local) {
    if (is_local)
        eval_error(ev, e->loc, PG_ERR_NAME, "local variable '%s' referenced before assignment",
                   e->name);
    eval_error(ev, e->loc, PG_ERR_NAME,
               "cannot access free variable '%s' where it is not associated with a value in "
               "enclosing scope",
               e->name);
}

static value load_name(evaluator *ev, frame *f, const ast *e) {
    const char *sym = e->name;
    for (frame *g = f; g; g = g->up) {
        if (g->sc->n_globals && scope_is_global(g->sc, sym))
            break;
        int slot = scope_find(g->sc, sym);
        if (slot >= 0) {
            value v = g->slots[slot];
            if (v.t == VT_UNBOUND)
                unbound_error(ev, e, g == f);
            return v;
        }
    }
    value *v = value_symtab_find(&ev->globals, sym);
    if (v)
        return *v;
    v = value_symtab_find(&ev->builtins, sym);
    if (v)
        return *v;
    name_error(ev, f, e);
}

bool eval_frame_binds(const frame *f, const char *sym) {
    for (const frame *g = f; g; g = g->up) {
        if (g->sc->n_globals && scope_is_global(g->sc, sym))
            return false;
        if (scope_find(g->sc, sym) >= 0)
            return true;
    }
    return false;
}

static value *name_slot(frame *f, const char *sym) {
    if (!f || (f->sc->n_globals && scope_is_global(f->sc, sym)))
        return NULL;
    int slot = scope_find(f->sc, sym);
    return slot >= 0 ? &f->slots[slot] : NULL;
}

static void store_name(evaluator *ev, frame *f, const char *sym, value v) {
    value *slot = name_slot(f, sym);
    if (slot)
        *slot = v;
    else
        value_symtab_put(ev, &ev->globals, sym, v);
}

static void delete_name(evaluator *ev, frame *f, const ast *e) {
    value *slot = name_slot(f, e->name);
    if (!slot)
        slot = value_symtab_find(&ev->globals, e->name);
    if (!slot || slot->t == VT_UNBOUND)
        name_error(ev, f, e);
    slot->t = VT_UNBOUND;
}

static value eval_compare(evaluator *ev, frame *f, const ast *e) {
    value left = eval_expr(ev, f, e->a);
    for (int i = 0; i < e->n; i++) {
        value right = eval_expr(ev, f, e->list[i]);
        if (!value_compare(ev, e->ops[i], left, right, e->loc))
            return value_bool(false);
        left = right;
    }
    return value_bool(true);
}

// ---- indexing and slicing ----

typedef struct slice_ix {
    int64_t start, step, count;
} slice_ix;

static int64_t slice_bound(evaluator *ev, frame *f, const ast *e, bool *given, pg_srcloc loc) {
    *given = false;
    if (!e)
        return 0;
    value v = eval_expr(ev, f, e);
    if (v.t == VT_NONE)
        return 0;
    if (!value_is_intlike(v))
        eval_error(ev, loc, PG_ERR_ARG, "slice indices must be integers or None, not %s",
                   value_type_name(v));
    *given = true;
    return v.u.i;
}

static int64_t clamp_bound(int64_t x, int64_t len, int64_t step) {
    if (x < 0) {
        x += len;
        if (x < 0)
            x = step < 0 ? -1 : 0;
    } else if (x >= len) {
        x = step < 0 ? len - 1 : len;
    }
    return x;
}

// CPython's PySlice_AdjustIndices for a slice node over a sequence of length len.
static slice_ix eval_slice(evaluator *ev, frame *f, const ast *sl, int64_t len) {
    bool has_start, has_stop, has_step;
    int64_t start = slice_bound(ev, f, sl->a, &has_start, sl->loc);
    int64_t stop = slice_bound(ev, f, sl->b, &has_stop, sl->loc);
    int64_t stp = slice_bound(ev, f, sl->c, &has_step, sl->loc);
    if (!has_step)
        stp = 1;
    if (stp == 0)
        eval_error(ev, sl->loc, PG_ERR_ARG, "slice step cannot be zero");
    if (stp == INT64_MIN)
        stp = -INT64_MAX;
    start = has_start ? clamp_bound(start, len, stp) : (stp < 0 ? len - 1 : 0);
    stop = has_stop ? clamp_bound(stop, len, stp) : (stp < 0 ? -1 : len);
    slice_ix ix = { start, stp, 0 };
    if (stp < 0)
        ix.count = stop < start ? (start - stop - 1) / (-stp) + 1 : 0;
    else
        ix.count = start < stop ? (stop - start - 1) / stp + 1 : 0;
    return ix;
}

static value get_slice(evaluator *ev, frame *f, value obj, const ast *sl) {
    if (obj.t == VT_RANGE)
        obj = value_to_list(ev, obj, sl->loc);
    if (obj.t == VT_STR) {
        slice_ix ix = eval_slice(ev, f, sl, obj.u.s->len);
        char *buf = arena_alloc(ev->a, (size_t)ix.count + 1);
        for (int64_t k = 0; k < ix.count; k++)
            buf[k] = obj.u.s->data[ix.start + k * ix.step];
        return value_str(ev, buf, (size_t)ix.count);
    }
    if (obj.t != VT_LIST && obj.t != VT_TUPLE)
        eval_error(ev, sl->loc, PG_ERR_ARG, "'%s' object is not subscriptable",
                   value_type_name(obj));
    slice_ix ix = eval_slice(ev, f, sl, obj.u.l->n);
    value out = value_list(ev, ix.count);
    for (int64_t k = 0; k < ix.count; k++)
        out.u.l->items[k] = obj.u.l->items[ix.start + k * ix.step];
    out.u.l->n = ix.count;
    out.t = obj.t;
    return out;
}

static void set_slice(evaluator *ev, frame *f, value obj, const ast *sl, value v) {
    if (obj.t != VT_LIST)
        eval_error(ev, sl->loc, PG_ERR_ARG, "'%s' object does not support slice assignment",
                   value_type_name(obj));
    list_obj *l = obj.u.l;
    value items = value_to_list(ev, v, sl->loc);
    list_obj *src = items.u.l;
    slice_ix ix = eval_slice(ev, f, sl, l->n);
    if (ix.step != 1) {
        if (src->n != ix.count)
            eval_error(ev, sl->loc, PG_ERR_ARG,
                       "attempt to assign sequence of size %lld to extended slice of size %lld",
                       (long long)src->n, (long long)ix.count);
        for (int64_t k = 0; k < ix.count; k++)
            l->items[ix.start + k * ix.step] = src->items[k];
        return;
    }
    int64_t lo = ix.start, hi = ix.start + ix.count; // replace [lo, hi) by src
    int64_t n = l->n - (hi - lo) + src->n;
    value_list_reserve(ev, l, n, sl->loc);
    memmove(l->items + lo + src->n, l->items + hi, (size_t)(l->n - hi) * sizeof(value));
    memcpy(l->items + lo, src->items, (size_t)src->n * sizeof(value));
    l->n = n;
}

static void delitem(evaluator *ev, frame *f, const ast *t) {
    value obj = eval_expr(ev, f, t->a);
    if (t->b->kind == AST_SLICE) {
        value empty = value_list(ev, 0);
        set_slice(ev, f, obj, t->b, empty);
        return;
    }
    value_delitem(ev, obj, eval_expr(ev, f, t->b), t->loc);
}

static value eval_index(evaluator *ev, frame *f, const ast *e) {
    value obj = eval_expr(ev, f, e->a);
    if (e->b->kind == AST_SLICE)
        return get_slice(ev, f, obj, e->b);
    value key = eval_expr(ev, f, e->b);
    return value_getitem(ev, obj, key, e->loc);
}

// ---- iteration ----

typedef struct iter {
    value seq; // a list, tuple, str or range (dicts iterate over a snapshot of their keys)
    int64_t i;
} iter;

static iter iter_start(evaluator *ev, value v, pg_srcloc loc) {
    iter it = { v, 0 };
    if (v.t == VT_DICT)
        it.seq = value_to_list(ev, v, loc);
    else if (v.t != VT_LIST && v.t != VT_TUPLE && v.t != VT_STR && v.t != VT_RANGE)
        eval_error(ev, loc, PG_ERR_ARG, "'%s' object is not iterable", value_type_name(v));
    return it;
}

static bool iter_next(evaluator *ev, iter *it, value *out) {
    value s = it->seq;
    switch (s.t) {
    case VT_LIST:
    case VT_TUPLE:
        if (it->i >= s.u.l->n) // lists are re-checked every step, as Python does
            return false;
        *out = s.u.l->items[it->i++];
        return true;
    case VT_STR:
        if (it->i >= s.u.s->len)
            return false;
        *out = value_str(ev, s.u.s->data + it->i++, 1);
        return true;
    case VT_RANGE:
        if (it->i >= s.u.r->len)
            return false;
        *out = value_int(s.u.r->start + it->i++ * s.u.r->step);
        return true;
    default:
        return false;
    }
}

// ---- displays and unpacking ----

static void extend_from(evaluator *ev, value list, value src, pg_srcloc loc) {
    iter it = iter_start(ev, src, loc);
    value x;
    while (iter_next(ev, &it, &x))
        value_list_append(ev, list, x, loc);
}

static value eval_display(evaluator *ev, frame *f, const ast *e) {
    value out = value_list(ev, e->n);
    for (int i = 0; i < e->n; i++) {
        const ast *x = e->list[i];
        if (x->kind == AST_STARRED)
            extend_from(ev, out, eval_expr(ev, f, x->a), x->loc);
        else
            value_list_append(ev, out, eval_expr(ev, f, x), x->loc);
    }
    if (e->kind == AST_TUPLE)
        out.t = VT_TUPLE;
    return out;
}

static value eval_dict_display(evaluator *ev, frame *f, const ast *e) {
    value d = value_dict(ev);
    for (int i = 0; i < e->n; i++) {
        value k = eval_expr(ev, f, e->list[i]);
        value v = eval_expr(ev, f, e->list2[i]);
        value_dict_set(ev, d.u.d, k, v, e->list[i]->loc);
    }
    return d;
}

static void unpack(evaluator *ev, frame *f, const ast *t, value v) {
    value seq = (v.t == VT_LIST || v.t == VT_TUPLE) ? v : value_to_list(ev, v, t->loc);
    const list_obj *l = seq.u.l;
    int star = -1;
    for (int i = 0; i < t->n; i++)
        if (t->list[i]->kind == AST_STARRED)
            star = i;
    int64_t need = star < 0 ? t->n : t->n - 1;
    if (l->n < need)
        eval_error(ev, t->loc, PG_ERR_ARG,
                   "not enough values to unpack (expected %s%lld, got %lld)",
                   star < 0 ? "" : "at least ", (long long)need, (long long)l->n);
    if (star < 0 && l->n > need)
        eval_error(ev, t->loc, PG_ERR_ARG, "too many values to unpack (expected %lld)",
                   (long long)need);
    // Copy first: the targets may modify the source list.
    value *items = ARENA_ARRAY(ev->a, value, l->n + 1);
    memcpy(items, l->items, (size_t)l->n * sizeof(value));
    int64_t n = l->n, rest = n - need;
    for (int i = 0, k = 0; i < t->n; i++) {
        if (i == star) {
            value mid = value_tuple(ev, items + k, rest);
            mid.t = VT_LIST;
            assign(ev, f, t->list[i]->a, mid);
            k += (int)rest;
        } else {
            assign(ev, f, t->list[i], items[k++]);
        }
    }
}

static void assign(evaluator *ev, frame *f, const ast *t, value v) {
    switch (t->kind) {
    case AST_NAME:
        store_name(ev, f, t->name, v);
        return;
    case AST_TUPLE:
    case AST_LIST:
        unpack(ev, f, t, v);
        return;
    case AST_INDEX: {
        value obj = eval_expr(ev, f, t->a);
        if (t->b->kind == AST_SLICE) {
            set_slice(ev, f, obj, t->b, v);
            return;
        }
        value_setitem(ev, obj, eval_expr(ev, f, t->b), v, t->loc);
        return;
    }
    case AST_ATTR: {
        value obj = eval_expr(ev, f, t->a);
        eval_error(ev, t->loc, PG_ERR_ARG, "cannot set attribute '%s' of a '%s'", t->name,
                   value_type_name(obj));
    }
    case AST_STARRED:
        eval_error(ev, t->loc, PG_ERR_SYNTAX,
                   "starred assignment target must be in a list or tuple");
    default:
        eval_error(ev, t->loc, PG_ERR_SYNTAX, "cannot assign to this expression");
    }
}

// ---- functions ----

static value make_function(evaluator *ev, frame *f, const ast *node) {
    func_obj *fn = ARENA_NEW(ev->a, func_obj);
    fn->node = node;
    fn->name = node->kind == AST_DEF ? node->name : "<lambda>";
    fn->sc = function_scope(ev, node);
    fn->env = f;
    mark_captured(f);
    fn->defaults = ARENA_ARRAY(ev->a, value, node->n2 + 1);
    for (int i = 0; i < node->n2; i++)
        if (node->list2[i]->a)
            fn->defaults[i] = eval_expr(ev, f, node->list2[i]->a);
    value v = { .t = VT_FUNC, .u.fn = fn };
    return v;
}

// "'a'", "'a' and 'b'", "'a', 'b', and 'c'" (Python's list of missing arguments).
static void name_list(evaluator *ev, sbuf *b, const char **names, int n) {
    for (int i = 0; i < n; i++) {
        if (i > 0)
            value_sbuf_puts(ev, b, n == 2 ? " and " : (i == n - 1 ? ", and " : ", "));
        value_sbuf_printf(ev, b, "'%s'", names[i]);
    }
}

static _Noreturn void missing_args(evaluator *ev, const func_obj *fn, const char **names, int n,
                                   bool kwonly, pg_srcloc loc) {
    sbuf b = { 0 };
    name_list(ev, &b, names, n);
    eval_error(ev, loc, PG_ERR_ARG, "%s() missing %d required %s argument%s: %s", fn->name, n,
               kwonly ? "keyword-only" : "positional", n == 1 ? "" : "s", b.p);
}

static _Noreturn void too_many_args(evaluator *ev, const func_obj *fn, int n_pos, int n_req,
                                    int given, pg_srcloc loc) {
    char takes[64];
    if (n_req < n_pos)
        snprintf(takes, sizeof takes, "from %d to %d positional arguments", n_req, n_pos);
    else
        snprintf(takes, sizeof takes, "%d positional argument%s", n_pos, n_pos == 1 ? "" : "s");
    eval_error(ev, loc, PG_ERR_ARG, "%s() takes %s but %d %s given", fn->name, takes, given,
               given == 1 ? "was" : "were");
}

typedef struct param_info {
    int n_pos;  // positional parameters (before * / *args)
    int n_req;  // of those, without a default
    int star;   // the *args parameter's index, or -1
    int kwstar; // the **kw parameter's index, or -1
} param_info;

static param_info params_of(const ast *node) {
    param_info pi = { 0, 0, -1, -1 };
    bool after_star = false;
    for (int i = 0; i < node->n2; i++) {
        const ast *p = node->list2[i];
        if (p->op == '*') {
            after_star = true;
            if (p->name)
                pi.star = i;
        } else if (p->op == 'k') {
            pi.kwstar = i;
        } else if (!after_star) {
            pi.n_pos++;
            if (!p->a)
                pi.n_req++;
        }
    }
    return pi;
}

// The slot of parameter i: named parameters take slots 0.. in order (a bare * has none).
static int param_slot(const ast *node, int i) {
    int slot = 0;
    for (int k = 0; k < i; k++)
        if (node->list2[k]->name)
            slot++;
    return slot;
}

static void bind_keyword(evaluator *ev, const func_obj *fn, frame *fr, const param_info *pi,
                         const char *name, value v, value *kwdict, pg_srcloc loc) {
    const ast *node = fn->node;
    for (int i = 0; i < node->n2; i++) {
        const ast *p = node->list2[i];
        if (p->name != name || p->op != 0)
            continue;
        value *slot = &fr->slots[param_slot(node, i)];
        if (slot->t != VT_UNBOUND)
            eval_error(ev, loc, PG_ERR_ARG, "%s() got multiple values for argument '%s'", fn->name,
                       name);
        *slot = v;
        return;
    }
    if (pi->kwstar < 0)
        eval_error(ev, loc, PG_ERR_ARG, "%s() got an unexpected keyword argument '%s'", fn->name,
                   name);
    if (kwdict->t == VT_UNBOUND)
        *kwdict = value_dict(ev);
    value_dict_set(ev, kwdict->u.d, value_cstr(ev, name), v, loc);
}

static void fill_defaults(evaluator *ev, const func_obj *fn, frame *fr, pg_srcloc loc) {
    const ast *node = fn->node;
    const char *missing[64];
    int n_missing = 0;
    bool kwonly = false, after_star = false;
    for (int i = 0; i < node->n2; i++) {
        const ast *p = node->list2[i];
        if (p->op == '*')
            after_star = true;
        if (p->op != 0)
            continue;
        value *slot = &fr->slots[param_slot(node, i)];
        if (slot->t != VT_UNBOUND)
            continue;
        if (p->a) {
            *slot = fn->defaults[i];
        } else if (n_missing == 0 || kwonly == after_star) {
            kwonly = after_star;
            if (n_missing < 64)
                missing[n_missing++] = p->name;
        }
    }
    if (n_missing)
        missing_args(ev, fn, missing, n_missing, kwonly, loc);
}

static void bind_args(evaluator *ev, const func_obj *fn, frame *fr, const call_args *c) {
    const ast *node = fn->node;
    param_info pi = params_of(node);
    if (c->n > pi.n_pos && pi.star < 0)
        too_many_args(ev, fn, pi.n_pos, pi.n_req, c->n, c->loc);
    // Positional parameters come first; the first * or ** parameter ends them.
    int k = 0;
    for (int i = 0; i < node->n2 && k < c->n && node->list2[i]->op == 0; i++)
        fr->slots[param_slot(node, i)] = c->args[k++];
    if (pi.star >= 0) {
        int extra = c->n - k;
        fr->slots[param_slot(node, pi.star)] = value_tuple(ev, c->args + k, extra > 0 ? extra : 0);
    }
    value kwdict = { .t = VT_UNBOUND };
    for (int i = 0; i < c->nk; i++)
        bind_keyword(ev, fn, fr, &pi, c->kw_names[i], c->kw[i], &kwdict, c->loc);
    if (pi.kwstar >= 0)
        fr->slots[param_slot(node, pi.kwstar)] = kwdict.t == VT_UNBOUND ? value_dict(ev) : kwdict;
    fill_defaults(ev, fn, fr, c->loc);
}

static value call_function(evaluator *ev, const func_obj *fn, const call_args *c) {
    step(ev, c->loc);
    if (ev->depth >= ev->lim.max_depth)
        eval_error(ev, c->loc, PG_ERR_LIMIT, "maximum recursion depth (%d) exceeded",
                   ev->lim.max_depth);
    frame *fr = frame_new(ev, fn->sc, fn->env);
    bind_args(ev, fn, fr, c);
    ev->depth++;
    value result = value_none();
    if (fn->node->kind == AST_LAMBDA) {
        result = eval_expr(ev, fr, fn->node->a);
    } else if (exec_block(ev, fr, fn->node->list, fn->node->n) == FLOW_RETURN) {
        result = ev->ret;
    }
    ev->depth--;
    frame_release(ev, fr);
    return result;
}

value eval_call_args(evaluator *ev, value fn, const call_args *c) {
    switch (fn.t) {
    case VT_FUNC:
        return call_function(ev, fn.u.fn, c);
    case VT_BUILTIN:
        step(ev, c->loc);
        return fn.u.bi->fn(ev, c);
    case VT_BOUND:
        return methods_call(ev, fn.u.bm->self, fn.u.bm->name, c);
    case VT_KIND:
        step(ev, c->loc);
        return methods_pe_new(ev, (int)fn.u.i, c);
    case VT_MODULE:
        if (fn.u.mod->call)
            return fn.u.mod->call(ev, c);
        break;
    default:
        break;
    }
    eval_error(ev, c->loc, PG_ERR_ARG, "'%s' object is not callable", value_type_name(fn));
}

value eval_call(evaluator *ev, value fn, const value *args, int n, pg_srcloc loc) {
    call_args c = { .loc = loc, .args = args, .n = n };
    return eval_call_args(ev, fn, &c);
}

typedef struct arg_buf {
    value *v;
    int n, cap;
} arg_buf;

typedef struct name_buf {
    const char **v;
    int n, cap;
} name_buf;

static void name_push(evaluator *ev, name_buf *b, const char *name) {
    if (b->n == b->cap) {
        int cap = b->cap * 2;
        b->v = arena_grow(ev->a, b->v, (size_t)b->n, (size_t)cap, sizeof(const char *));
        b->cap = cap;
    }
    b->v[b->n++] = name;
}

static void arg_push(evaluator *ev, arg_buf *b, value x, pg_srcloc loc) {
    if (b->n == b->cap) {
        int cap = b->cap * 2;
        if (cap > ev->lim.max_list || cap < 0)
            eval_error(ev, loc, PG_ERR_LIMIT, "too many arguments in one call");
        b->v = arena_grow(ev->a, b->v, (size_t)b->n, (size_t)cap, sizeof(value));
        b->cap = cap;
    }
    b->v[b->n++] = x;
}

static void push_kwargs(evaluator *ev, frame *f, const ast *k, name_buf *names, arg_buf *vals) {
    if (k->name) {
        value v = eval_expr(ev, f, k->a);
        name_push(ev, names, k->name);
        arg_push(ev, vals, v, k->loc);
        return;
    }
    value d = eval_expr(ev, f, k->a); // **mapping
    if (d.t != VT_DICT)
        eval_error(ev, k->loc, PG_ERR_ARG, "argument after ** must be a dict, not %s",
                   value_type_name(d));
    for (int64_t i = 0; i < d.u.d->n; i++) {
        value key = d.u.d->keys[i];
        if (key.t == VT_UNBOUND)
            continue;
        if (key.t != VT_STR)
            eval_error(ev, k->loc, PG_ERR_ARG, "keywords must be strings");
        name_push(ev, names, eval_intern(ev, key.u.s->data, (size_t)key.u.s->len));
        arg_push(ev, vals, d.u.d->vals[i], k->loc);
    }
}

static value eval_call_node(evaluator *ev, frame *f, const ast *e) {
    const ast *callee = e->a;
    value obj = value_none(), fn = value_none();
    bool is_method = callee->kind == AST_ATTR;
    if (is_method)
        obj = eval_expr(ev, f, callee->a);
    else
        fn = eval_expr(ev, f, callee);
    value pos_store[12], kw_store[6];
    const char *name_store[6];
    arg_buf pos = { pos_store, 0, 12 }, kws = { kw_store, 0, 6 };
    name_buf names = { name_store, 0, 6 };
    for (int i = 0; i < e->n; i++) {
        const ast *x = e->list[i];
        if (x->kind != AST_STARRED) {
            arg_push(ev, &pos, eval_expr(ev, f, x), x->loc);
            continue;
        }
        iter it = iter_start(ev, eval_expr(ev, f, x->a), x->loc);
        value item;
        while (iter_next(ev, &it, &item))
            arg_push(ev, &pos, item, x->loc);
    }
    for (int i = 0; i < e->n2; i++)
        push_kwargs(ev, f, e->list2[i], &names, &kws);
    call_args c = { e->loc, pos.v, pos.n, names.v, kws.v, kws.n };
    if (is_method)
        return methods_call(ev, obj, callee->name, &c);
    return eval_call_args(ev, fn, &c);
}

// ---- comprehensions ----

static void comp_loop(evaluator *ev, frame *outer, frame *cf, const ast *comp, int k, value out) {
    if (k == comp->n) {
        value_list_append(ev, out, eval_expr(ev, cf, comp->a), comp->loc);
        return;
    }
    const ast *cl = comp->list[k];
    if (cl->kind == AST_COMP_IF) {
        if (value_truthy(eval_expr(ev, cf, cl->a)))
            comp_loop(ev, outer, cf, comp, k + 1, out);
        return;
    }
    // The first iterable is evaluated in the enclosing scope, as Python does.
    iter it = iter_start(ev, eval_expr(ev, k == 0 ? outer : cf, cl->b), cl->loc);
    value x;
    while (iter_next(ev, &it, &x)) {
        step(ev, cl->loc);
        assign(ev, cf, cl->a, x);
        comp_loop(ev, outer, cf, comp, k + 1, out);
    }
}

static value eval_comprehension(evaluator *ev, frame *f, const ast *e) {
    frame *cf = frame_new(ev, comp_scope(ev, e), f);
    value out = value_list(ev, 0);
    comp_loop(ev, f, cf, e, 0, out);
    frame_release(ev, cf);
    return out;
}

// ---- expressions ----

static value eval_unit(evaluator *ev, const ast *e) {
    int64_t rate = pg_graph_default_frame_rate(ev->s->graph);
    const ast *num = e->a;
    bool ms = e->op == 'm';
    if (num->kind == AST_INT) {
        // Exact in integers: n s = n * rate frames; n ms = round(n * rate / 1000).
        int64_t q = value_binop(ev, TK_STAR, value_int(num->ival), value_int(rate), e->loc).u.i;
        if (!ms)
            return value_int(q);
        int64_t d = q / 1000, r = q % 1000;
        if (r < 0) {
            d--;
            r += 1000;
        }
        if (r > 500 || (r == 500 && (d & 1)))
            d++;
        return value_int(d);
    }
    // A fraction: round(value * rate) (value * rate / 1000 for ms), halves to even.
    double frames = num->fval * (double)rate;
    if (ms)
        frames /= 1000.0;
    return value_int(value_round_half_even(ev, frames, e->loc));
}

static value eval_string(evaluator *ev, const ast *e) {
    str_obj *s = value_ptrmap_get(&ev->strings, e); // literals are cached per node
    if (!s) {
        value v = value_str(ev, e->str ? e->str : "", e->str ? e->len : 0);
        value_ptrmap_put(ev, &ev->strings, e, v.u.s);
        return v;
    }
    value v = { .t = VT_STR, .u.s = s };
    return v;
}

static value eval_boolop(evaluator *ev, frame *f, const ast *e) {
    value a = eval_expr(ev, f, e->a);
    bool t = value_truthy(a);
    if (e->op == TK_AND ? !t : t)
        return a;
    return eval_expr(ev, f, e->b);
}

static value eval_expr_inner(evaluator *ev, frame *f, const ast *e) {
    switch (e->kind) {
    case AST_INT:
        return value_int(e->ival);
    case AST_FLOAT:
        return value_float(e->fval);
    case AST_UNIT:
        return eval_unit(ev, e);
    case AST_STR:
        return eval_string(ev, e);
    case AST_NAME:
        return load_name(ev, f, e);
    case AST_TRUE:
        return value_bool(true);
    case AST_FALSE:
        return value_bool(false);
    case AST_NONE:
        return value_none();
    case AST_LIST:
    case AST_TUPLE:
        return eval_display(ev, f, e);
    case AST_DICT:
        return eval_dict_display(ev, f, e);
    case AST_ATTR:
        return methods_getattr(ev, eval_expr(ev, f, e->a), e->name, e->loc);
    case AST_INDEX:
        return eval_index(ev, f, e);
    case AST_CALL:
        return eval_call_node(ev, f, e);
    case AST_UNARY:
        return value_unary(ev, e->op, eval_expr(ev, f, e->a), e->loc);
    case AST_BINARY: {
        value a = eval_expr(ev, f, e->a);
        value b = eval_expr(ev, f, e->b);
        return value_binop(ev, e->op, a, b, e->loc);
    }
    case AST_BOOLOP:
        return eval_boolop(ev, f, e);
    case AST_COMPARE:
        return eval_compare(ev, f, e);
    case AST_IFEXP:
        return eval_expr(ev, f, value_truthy(eval_expr(ev, f, e->a)) ? e->b : e->c);
    case AST_LAMBDA:
        return make_function(ev, f, e);
    case AST_LISTCOMP:
    case AST_GENEXP:
        return eval_comprehension(ev, f, e);
    case AST_STARRED:
        eval_error(ev, e->loc, PG_ERR_SYNTAX, "can't use starred expression here");
    case AST_SLICE:
        eval_error(ev, e->loc, PG_ERR_ARG, "a slice is only allowed alone in a subscript");
    case AST_KEYWORD:
    case AST_COMP_FOR:
    case AST_COMP_IF:
    case AST_EXPR:
    case AST_ASSIGN:
    case AST_AUGASSIGN:
    case AST_DEF:
    case AST_PARAM:
    case AST_RETURN:
    case AST_IF:
    case AST_FOR:
    case AST_WHILE:
    case AST_BREAK:
    case AST_CONTINUE:
    case AST_PASS:
    case AST_IMPORT:
    case AST_GLOBAL:
    case AST_DEL:
    case AST_ASSERT:
        break;
    }
    eval_error(ev, e->loc, PG_ERR_INTERNAL, "unexpected syntax node %d in an expression",
               (int)e->kind);
}

static value eval_expr(evaluator *ev, frame *f, const ast *e) {
    if (++ev->nesting > MAX_EXPR_NESTING)
        eval_error(ev, e->loc, PG_ERR_LIMIT, "expression nested too deeply (limit %d)",
                   MAX_EXPR_NESTING);
    value v = eval_expr_inner(ev, f, e);
    ev->nesting--;
    return v;
}

// ---- statements ----

static flow exec_for(evaluator *ev, frame *f, const ast *st) {
    iter it = iter_start(ev, eval_expr(ev, f, st->b), st->b->loc);
    value x;
    while (iter_next(ev, &it, &x)) {
        step(ev, st->loc);
        assign(ev, f, st->a, x);
        flow fl = exec_block(ev, f, st->list, st->n);
        if (fl == FLOW_BREAK)
            return FLOW_NORMAL;
        if (fl == FLOW_RETURN)
            return fl;
    }
    return exec_block(ev, f, st->list2, st->n2);
}

static flow exec_while(evaluator *ev, frame *f, const ast *st) {
    while (value_truthy(eval_expr(ev, f, st->a))) {
        step(ev, st->loc);
        flow fl = exec_block(ev, f, st->list, st->n);
        if (fl == FLOW_BREAK)
            return FLOW_NORMAL;
        if (fl == FLOW_RETURN)
            return fl;
    }
    return exec_block(ev, f, st->list2, st->n2);
}

static void exec_augassign(evaluator *ev, frame *f, const ast *st) {
    const ast *t = st->a;
    if (t->kind == AST_NAME) {
        value cur = load_name(ev, f, t);
        value rhs = eval_expr(ev, f, st->b);
        store_name(ev, f, t->name, value_inplace_binop(ev, st->op, cur, rhs, st->loc));
        return;
    }
    if (t->kind == AST_INDEX && t->b->kind != AST_SLICE) {
        value obj = eval_expr(ev, f, t->a);
        value key = eval_expr(ev, f, t->b);
        value cur = value_getitem(ev, obj, key, t->loc);
        value rhs = eval_expr(ev, f, st->b);
        value_setitem(ev, obj, key, value_inplace_binop(ev, st->op, cur, rhs, st->loc), t->loc);
        return;
    }
    eval_error(ev, t->loc, PG_ERR_SYNTAX, "illegal target for augmented assignment");
}

static value import_module(evaluator *ev, const char *name, pg_srcloc loc) {
    value m = builtins_module(ev, name);
    if (m.t == VT_UNBOUND)
        eval_error(ev, loc, PG_ERR_NAME,
                   "module '%s' is not available in .pg (only pygmu, utils, numpy, math, "
                   "random, os, sys)",
                   name);
    return m;
}

// `import a.b as x` binds x to a.b; `import a.b` binds a.
static void import_one(evaluator *ev, frame *f, const ast *m) {
    value mod = import_module(ev, m->name, m->loc);
    const char *bind = module_binding(ev, m);
    if (!m->str) {
        value root = builtins_module(ev, bind);
        if (root.t != VT_UNBOUND)
            mod = root;
    }
    store_name(ev, f, bind, mod);
}

static void exec_import(evaluator *ev, frame *f, const ast *st) {
    if (st->op != TK_FROM) {
        import_one(ev, f, st);
        for (int i = 0; i < st->n; i++)
            import_one(ev, f, st->list[i]);
        return;
    }
    value mod = import_module(ev, st->name, st->loc);
    for (int i = 0; i < st->n; i++) {
        const ast *n = st->list[i];
        if (strcmp(n->name, "*") == 0)
            continue;
        value v;
        if (!builtins_module_getattr(ev, mod.u.mod, n->name, &v))
            eval_error(ev, n->loc, PG_ERR_NAME, "cannot import name '%s' from '%s'", n->name,
                       st->name);
        store_name(ev, f, module_binding(ev, n), v);
    }
}

static void exec_del(evaluator *ev, frame *f, const ast *st) {
    for (int i = 0; i < st->n; i++) {
        const ast *t = st->list[i];
        if (t->kind == AST_NAME)
            delete_name(ev, f, t);
        else if (t->kind == AST_INDEX)
            delitem(ev, f, t);
        else if (t->kind == AST_TUPLE || t->kind == AST_LIST) {
            ast sub = *st;
            sub.list = t->list;
            sub.n = t->n;
            exec_del(ev, f, &sub);
        } else
            eval_error(ev, t->loc, PG_ERR_SYNTAX, "cannot delete this expression");
    }
}

static void exec_assert(evaluator *ev, frame *f, const ast *st) {
    if (value_truthy(eval_expr(ev, f, st->a)))
        return;
    if (st->b) {
        value msg = value_to_str(ev, eval_expr(ev, f, st->b));
        eval_error(ev, st->loc, PG_ERR_ARG, "assertion failed: %s", msg.u.s->data);
    }
    eval_error(ev, st->loc, PG_ERR_ARG, "assertion failed");
}

static flow exec_stmt(evaluator *ev, frame *f, const ast *st) {
    step(ev, st->loc);
    ev->stmt_loc = st->loc;
    switch (st->kind) {
    case AST_EXPR:
        if (st->a && st->a->kind != AST_STR)
            eval_expr(ev, f, st->a);
        return FLOW_NORMAL;
    case AST_ASSIGN: {
        value v = eval_expr(ev, f, st->a);
        for (int i = 0; i < st->n; i++)
            assign(ev, f, st->list[i], v);
        return FLOW_NORMAL;
    }
    case AST_AUGASSIGN:
        exec_augassign(ev, f, st);
        return FLOW_NORMAL;
    case AST_DEF:
        store_name(ev, f, st->name, make_function(ev, f, st));
        return FLOW_NORMAL;
    case AST_RETURN:
        ev->ret = st->a ? eval_expr(ev, f, st->a) : value_none();
        return FLOW_RETURN;
    case AST_IF:
        if (value_truthy(eval_expr(ev, f, st->a)))
            return exec_block(ev, f, st->list, st->n);
        return exec_block(ev, f, st->list2, st->n2);
    case AST_FOR:
        return exec_for(ev, f, st);
    case AST_WHILE:
        return exec_while(ev, f, st);
    case AST_BREAK:
        return FLOW_BREAK;
    case AST_CONTINUE:
        return FLOW_CONTINUE;
    case AST_PASS:
    case AST_GLOBAL:
        return FLOW_NORMAL;
    case AST_IMPORT:
        exec_import(ev, f, st);
        return FLOW_NORMAL;
    case AST_DEL:
        exec_del(ev, f, st);
        return FLOW_NORMAL;
    case AST_ASSERT:
        exec_assert(ev, f, st);
        return FLOW_NORMAL;
    case AST_INT:
    case AST_FLOAT:
    case AST_UNIT:
    case AST_STR:
    case AST_NAME:
    case AST_TRUE:
    case AST_FALSE:
    case AST_NONE:
    case AST_LIST:
    case AST_TUPLE:
    case AST_DICT:
    case AST_STARRED:
    case AST_ATTR:
    case AST_INDEX:
    case AST_SLICE:
    case AST_CALL:
    case AST_KEYWORD:
    case AST_UNARY:
    case AST_BINARY:
    case AST_BOOLOP:
    case AST_COMPARE:
    case AST_IFEXP:
    case AST_LAMBDA:
    case AST_LISTCOMP:
    case AST_GENEXP:
    case AST_COMP_FOR:
    case AST_COMP_IF:
    case AST_PARAM:
        // A bare expression where a statement belongs: evaluate it (a parser may hand
        // expression statements over without an AST_EXPR wrapper).
        eval_expr(ev, f, st);
        return FLOW_NORMAL;
    }
    return FLOW_NORMAL;
}

static flow exec_block(evaluator *ev, frame *f, ast *const *body, int n) {
    for (int i = 0; i < n; i++) {
        flow fl = exec_stmt(ev, f, body[i]);
        if (fl != FLOW_NORMAL)
            return fl;
    }
    return FLOW_NORMAL;
}

// ---- the module ----

static evaluator *evaluator_new(pg_session *s, int file, const eval_limits *lim) {
    evaluator *ev = ARENA_NEW(s->arena, evaluator);
    ev->s = s;
    ev->a = s->arena;
    ev->file = file;
    ev->lim = *lim;
    pthread_mutex_init(&ev->lock, NULL);
    prng_seed_int(&ev->rng, 0); // the documented default seed: random.seed(0)
    s->eval = ev;
    builtins_init(ev);
    return ev;
}

void eval_module(pg_session *s, const ast_module *m, int file, const eval_limits *lim) {
    evaluator *ev = evaluator_new(s, file, lim);
    s->root = -1; // this module's render() decides
    for (int i = 0; i < m->n; i++)
        intern_tree(ev, m->body[i]);
    ev->module = m;
    exec_block(ev, NULL, m->body, m->n);
    methods_render_finish(ev);
}

// ---- test hooks ----

static const value *global_of(pg_session *s, const char *name) {
    evaluator *ev = s->eval;
    if (!ev)
        return NULL;
    for (uint32_t i = 0; i < ev->globals.cap; i++)
        if (ev->globals.keys[i] && strcmp(ev->globals.keys[i], name) == 0)
            return ev->globals.vals[i].t == VT_UNBOUND ? NULL : &ev->globals.vals[i];
    return NULL;
}

int eval_global_number(pg_session *s, const char *name, double *out) {
    const value *v = global_of(s, name);
    if (!v || !value_is_num(*v))
        return 0;
    *out = value_as_double(*v);
    return 1;
}

int eval_global_repr(pg_session *s, const char *name, char *buf, size_t size) {
    const value *v = global_of(s, name);
    if (!v || size == 0)
        return 0;
    evaluator *ev = s->eval;
    sbuf b = { 0 };
    value_repr(ev, &b, *v, 0);
    snprintf(buf, size, "%s", b.p ? b.p : "");
    return 1;
}
