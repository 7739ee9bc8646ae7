// eval_fast.c: compiles a .pg function of one number into eval_fast's register program (see
// eval_fast.h). Each expression node becomes typed operations in evaluation order, over SSA
// registers; constant operands are folded by running the operation itself on one lane. `and`,
// `or`, `a if c else b` and chained comparisons run their lazy operands under lane masks.
// Anything outside the subset, or whose typing could differ from the interpreter's, refuses
// (a longjmp to eval_fast_compile), and the function stays with the interpreter.
#include "eval_fast.h"

#include <math.h>
#include <setjmp.h>
#include <string.h>
#include <xxhash.h>

#include "builtins.h"
#include "lex.h"

enum {
    MAX_OPS = 2048,
    MAX_DEPTH = 200, // expression nesting
};

typedef struct local {
    const char *name; // interned
    int reg;
} local;

typedef struct cx {
    evaluator *ev;
    jmp_buf refuse;
    const func_obj *fn; // NULL when compiling a builtin passed directly
    fast_op *ops;
    int n_ops;
    fast_reg *regs;
    int n_regs;
    int n_fslots, n_islots;
    double kf[FAST_MAX_REGS]; // constants' values by slot (one lane), for folding
    int64_t ki[FAST_MAX_REGS];
    local locals[FAST_MAX_REGS]; // the function's locals, latest binding last
    int n_locals;
    int mask;  // the lanes the current code runs in (a bool register), -1: all
    int depth; // expression nesting
} cx;

static _Noreturn void refuse(cx *c) {
    longjmp(c->refuse, 1);
}

// ---- registers and operations ----

static bool in_doubles(fast_type t) {
    return t == FT_F || t == FT_FI;
}

static int new_reg(cx *c, fast_type t) {
    if (c->n_regs >= FAST_MAX_REGS)
        refuse(c);
    fast_reg *r = &c->regs[c->n_regs];
    memset(r, 0, sizeof *r);
    r->type = (uint8_t)t;
    r->slot = in_doubles(t) ? c->n_fslots++ : c->n_islots++;
    return c->n_regs++;
}

static fast_type type_of(const cx *c, int r) {
    return (fast_type)c->regs[r].type;
}

static bool is_const(const cx *c, int r) {
    return r < 0 || c->regs[r].is_const;
}

static int const_f(cx *c, double x) {
    int r = new_reg(c, FT_F);
    c->regs[r].is_const = true;
    c->regs[r].k.f = x;
    c->kf[c->regs[r].slot] = x;
    return r;
}

static int const_i(cx *c, int64_t x, fast_type t) {
    int r = new_reg(c, t);
    c->regs[r].is_const = true;
    c->regs[r].k.i = x;
    c->ki[c->regs[r].slot] = x;
    return r;
}

static fast_prog view_of(const cx *c) {
    fast_prog p = { .ops = c->ops, .n_ops = c->n_ops, .regs = c->regs, .n_regs = c->n_regs };
    return p;
}

// Runs the last op at compile time when its operands are constants; when it succeeds (in
// every lane, whatever its mask), its result becomes a constant and the op goes. (One that
// fails stays: it fails at run time, where the interpreter would, if its lanes are taken.)
static void fold_last(cx *c) {
    fast_op *op = &c->ops[c->n_ops - 1];
    if (!is_const(c, op->a) || !is_const(c, op->b) || !is_const(c, op->c))
        return;
    fast_prog p = view_of(c);
    fast_op unmasked = *op;
    unmasked.mask = -1;
    if (eval_fast_exec(&p, &unmasked, c->kf, c->ki, 1, 1) >= 0)
        return;
    fast_reg *d = &c->regs[op->dst];
    d->is_const = true;
    if (in_doubles((fast_type)d->type))
        d->k.f = c->kf[d->slot];
    else
        d->k.i = c->ki[d->slot];
    c->n_ops--;
}

// Appends an operation run in the current mask; returns its result register.
static int emit(cx *c, fast_code code, int sub, fast_type t, int a, int b, int k, pg_srcloc loc) {
    if (c->n_ops >= MAX_OPS)
        refuse(c);
    int dst = new_reg(c, t);
    fast_op *op = &c->ops[c->n_ops++];
    *op = (fast_op){ (uint8_t)code, (uint8_t)sub, (int16_t)dst,     (int16_t)a,
                     (int16_t)b,    (int16_t)k,   (int16_t)c->mask, loc };
    fold_last(c);
    return dst;
}

static bool is_int(fast_type t) {
    return t == FT_I || t == FT_B;
}

// r as a float (int -> float conversion as Python's int + float does it).
static int as_float(cx *c, int r, pg_srcloc loc) {
    return in_doubles(type_of(c, r)) ? r : emit(c, UC_I2F, 0, FT_F, r, -1, -1, loc);
}

// The truth of r as a bool register.
static int truth(cx *c, int r, pg_srcloc loc) {
    switch (type_of(c, r)) {
    case FT_B:
        return r;
    case FT_I:
        return emit(c, UC_ITRUTH, 0, FT_B, r, -1, -1, loc);
    case FT_F:
    case FT_FI:
        break;
    }
    return emit(c, UC_FTRUTH, 0, FT_B, r, -1, -1, loc);
}

// The lanes of `parent` (-1: all) where cond is true (or false, when negate).
static int sub_mask(cx *c, int parent, int cond, bool negate, pg_srcloc loc) {
    if (parent < 0)
        return negate ? emit(c, UC_NOT, 0, FT_B, cond, -1, -1, loc) : cond;
    return emit(c, negate ? MC_ANDNOT : MC_AND, 0, FT_B, parent, cond, -1, loc);
}

// The static type of `c ? a : b`, or a refusal when the interpreter's value could behave
// differently: a float and an int merge only when the int is 0/1 or a constant that a double
// holds exactly, and then only where an exact int and its double act alike (FT_FI).
static fast_type merge(cx *c, int a, int b) {
    fast_type ta = type_of(c, a), tb = type_of(c, b);
    if (ta == tb)
        return ta;
    if (is_int(ta) && is_int(tb))
        return FT_I;
    int ir = is_int(ta) ? a : b;
    if (!is_int(type_of(c, ir)))
        return FT_FI; // FT_F with FT_FI
    const fast_reg *g = &c->regs[ir];
    bool exact = g->type == FT_B ||
                 (g->is_const && g->k.i >= -(INT64_C(1) << 53) && g->k.i <= (INT64_C(1) << 53));
    if (!exact)
        refuse(c);
    return FT_FI;
}

static int select_of(cx *c, int cond, int a, int b, pg_srcloc loc) {
    fast_type t = merge(c, a, b);
    if (in_doubles(t)) {
        a = as_float(c, a, loc);
        b = as_float(c, b, loc);
    }
    return emit(c, in_doubles(t) ? SC_F : SC_I, 0, t, a, b, cond, loc);
}

// ---- operators (value_ops.c's rules) ----

static fast_code float_code(int op) {
    switch (op) {
    case TK_PLUS:
        return FC_ADD;
    case TK_MINUS:
        return FC_SUB;
    case TK_STAR:
        return FC_MUL;
    case TK_SLASH:
        return FC_DIV;
    case TK_DSLASH:
        return FC_FLOORDIV;
    case TK_PERCENT:
        return FC_MOD;
    case TK_DSTAR:
        return FC_POW;
    default:
        return FC_COUNT;
    }
}

static int int_binary(cx *c, int op, int a, int b, pg_srcloc loc) {
    switch (op) {
    case TK_PLUS:
        return emit(c, IC_ADD, 0, FT_I, a, b, -1, loc);
    case TK_MINUS:
        return emit(c, IC_SUB, 0, FT_I, a, b, -1, loc);
    case TK_STAR:
        return emit(c, IC_MUL, 0, FT_I, a, b, -1, loc);
    case TK_DSLASH:
        return emit(c, IC_FLOORDIV, 0, FT_I, a, b, -1, loc);
    case TK_PERCENT:
        return emit(c, IC_MOD, 0, FT_I, a, b, -1, loc);
    case TK_SLASH:
        return emit(c, IC_DIV, 0, FT_F, a, b, -1, loc);
    case TK_DSTAR: // the result's type depends on the exponent's sign: it must be known
        if (!c->regs[b].is_const)
            refuse(c);
        if (c->regs[b].k.i >= 0)
            return emit(c, IC_POW, 0, FT_I, a, b, -1, loc);
        return emit(c, IC_POWNEG, 0, FT_F, a, b, -1, loc);
    default:
        refuse(c);
    }
}

// a op b: int op int stays int; anything with a float is float op float. A float-or-int
// (FT_FI) mixes only with floats, where an exact int and its double give the same result.
static int binary(cx *c, int op, int a, int b, pg_srcloc loc) {
    fast_type ta = type_of(c, a), tb = type_of(c, b);
    if (is_int(ta) && is_int(tb))
        return int_binary(c, op, a, b, loc);
    if ((ta == FT_FI && tb != FT_F) || (tb == FT_FI && ta != FT_F))
        refuse(c);
    fast_code code = float_code(op);
    if (code == FC_COUNT)
        refuse(c);
    a = as_float(c, a, loc);
    b = as_float(c, b, loc);
    return emit(c, code, 0, FT_F, a, b, -1, loc);
}

static int compare(cx *c, int op, int a, int b, pg_srcloc loc) {
    fast_cmp k;
    switch (op) {
    case TK_LT:
        k = CMP_LT;
        break;
    case TK_LE:
        k = CMP_LE;
        break;
    case TK_GT:
        k = CMP_GT;
        break;
    case TK_GE:
        k = CMP_GE;
        break;
    case TK_EQ:
        k = CMP_EQ;
        break;
    case TK_NE:
        k = CMP_NE;
        break;
    default: // in, is, ...
        refuse(c);
    }
    bool ia = is_int(type_of(c, a)), ib = is_int(type_of(c, b));
    fast_code code = ia ? (ib ? CC_II : CC_IF) : (ib ? CC_FI : CC_FF);
    return emit(c, code, k, FT_B, a, b, -1, loc);
}

// ---- names ----

static int find_local(const cx *c, const char *name) {
    for (int i = c->n_locals - 1; i >= 0; i--)
        if (c->locals[i].name == name)
            return c->locals[i].reg;
    return -1;
}

static void bind_local(cx *c, const char *name, int reg) {
    if (c->n_locals >= FAST_MAX_REGS)
        refuse(c);
    c->locals[c->n_locals++] = (local){ name, reg };
}

static bool is_function_local(const cx *c, const char *name) {
    if (!c->fn)
        return false;
    for (int i = 0; i < c->fn->sc->n; i++)
        if (c->fn->sc->names[i] == name)
            return true;
    return false;
}

static void count_bind(evaluator *ev, symtab *t, const char *name, int64_t w) {
    if (!name)
        return;
    const char *sym = eval_intern(ev, name, strlen(name));
    value *v = value_symtab_find(t, sym);
    value_symtab_put(ev, t, sym, value_int((v ? v->u.i : 0) + w));
}

static void count_target(evaluator *ev, symtab *t, const ast *x, int64_t w) {
    if (x->kind == AST_NAME)
        count_bind(ev, t, x->name, w);
    else if (x->kind == AST_STARRED)
        count_target(ev, t, x->a, w);
    else if (x->kind == AST_TUPLE || x->kind == AST_LIST)
        for (int i = 0; i < x->n; i++)
            count_target(ev, t, x->list[i], w);
}

// `global x` anywhere in a function body lets that function rebind x at any time.
static void count_global_decls(evaluator *ev, symtab *t, ast *const *body, int n) {
    for (int i = 0; i < n; i++) {
        const ast *st = body[i];
        if (st->kind == AST_GLOBAL)
            for (int k = 0; k < st->n; k++)
                count_bind(ev, t, st->list[k]->name, 2);
        if (st->kind == AST_DEF || st->kind == AST_IF || st->kind == AST_FOR ||
            st->kind == AST_WHILE) {
            count_global_decls(ev, t, st->list, st->n);
            if (st->kind != AST_DEF)
                count_global_decls(ev, t, st->list2, st->n2);
        }
    }
}

static void count_import(evaluator *ev, symtab *t, const ast *st, int64_t w) {
    if (st->op == TK_FROM) {
        for (int i = 0; i < st->n; i++)
            if (strcmp(st->list[i]->name, "*") != 0)
                count_bind(ev, t, st->list[i]->str ? st->list[i]->str : st->list[i]->name, w);
        return;
    }
    // `import a.b` binds a, `import a.b as x` binds x; counting the dotted name too is safe.
    count_bind(ev, t, st->str, w);
    count_bind(ev, t, st->name, w);
    if (st->name && strchr(st->name, '.'))
        count_bind(ev, t, eval_intern(ev, st->name, (size_t)(strchr(st->name, '.') - st->name)), w);
    for (int i = 0; i < st->n; i++)
        count_import(ev, t, st->list[i], w);
}

// How many times the module may bind each global name: an assignment counts its weight w (1
// at the top level, 2 in a loop, where it may run again), as do defs and imports; a `del`
// or a `global` declaration counts 2.
static void count_stmts(evaluator *ev, symtab *t, ast *const *body, int n, int64_t w) {
    for (int i = 0; i < n; i++) {
        const ast *st = body[i];
        switch (st->kind) {
        case AST_ASSIGN:
            for (int k = 0; k < st->n; k++)
                count_target(ev, t, st->list[k], w);
            break;
        case AST_AUGASSIGN:
            count_target(ev, t, st->a, w);
            break;
        case AST_FOR:
            count_target(ev, t, st->a, 2);
            count_stmts(ev, t, st->list, st->n, 2);
            count_stmts(ev, t, st->list2, st->n2, 2);
            break;
        case AST_WHILE:
            count_stmts(ev, t, st->list, st->n, 2);
            count_stmts(ev, t, st->list2, st->n2, 2);
            break;
        case AST_IF:
            count_stmts(ev, t, st->list, st->n, w);
            count_stmts(ev, t, st->list2, st->n2, w);
            break;
        case AST_DEF:
            count_bind(ev, t, st->name, w);
            count_global_decls(ev, t, st->list, st->n);
            break;
        case AST_IMPORT:
            count_import(ev, t, st, w);
            break;
        case AST_DEL:
            for (int k = 0; k < st->n; k++)
                count_target(ev, t, st->list[k], 2);
            break;
        default:
            break;
        }
    }
}

static int64_t bind_count(evaluator *ev, const char *name) {
    if (!ev->bind_counts) {
        symtab *t = ARENA_NEW(ev->a, symtab);
        if (ev->module)
            count_stmts(ev, t, ev->module->body, ev->module->n, 1);
        ev->bind_counts = t;
    }
    value *v = value_symtab_find(ev->bind_counts, name);
    return v ? v->u.i : 0;
}

// The value of a name that is neither a parameter nor a local, when it can never change: a
// builtin the module never rebinds, or a global it binds exactly once (not in a loop, not
// from a function) and has bound already. Anything else could change before the render.
static value fixed_value(cx *c, const char *name) {
    evaluator *ev = c->ev;
    if (c->fn && c->fn->env && eval_frame_binds(c->fn->env, name))
        refuse(c); // a closure variable
    int64_t n = bind_count(ev, name);
    value *g = value_symtab_find(&ev->globals, name);
    if (n == 1 && g && g->t != VT_UNBOUND)
        return *g;
    value *b = n == 0 ? value_symtab_find(&ev->builtins, name) : NULL;
    if (!b)
        refuse(c);
    return *b;
}

static int const_of(cx *c, value v) {
    switch (v.t) {
    case VT_INT:
        return const_i(c, v.u.i, FT_I);
    case VT_BOOL:
        return const_i(c, v.u.i, FT_B);
    case VT_FLOAT:
        return const_f(c, v.u.f);
    default:
        refuse(c);
    }
}

// A name or module attribute used as a callee or a module: its fixed value.
static value fixed_expr(cx *c, const ast *e) {
    if (e->kind == AST_NAME) {
        if (find_local(c, e->name) >= 0 || is_function_local(c, e->name))
            refuse(c);
        return fixed_value(c, e->name);
    }
    if (e->kind != AST_ATTR)
        refuse(c);
    value base = fixed_expr(c, e->a), v;
    if (base.t != VT_MODULE || !builtins_module_getattr(c->ev, base.u.mod, e->name, &v))
        refuse(c);
    return v;
}

static int load(cx *c, const ast *e) {
    int r = find_local(c, e->name);
    if (r >= 0)
        return r;
    if (is_function_local(c, e->name))
        refuse(c); // read before its assignment: the interpreter's error
    return const_of(c, fixed_value(c, e->name));
}

// ---- builtin calls ----

typedef enum call_kind {
    K_FN1,    // float -> float through eval_fast_fns[sub]
    K_FBIN,   // float x float -> float: fast_code sub
    K_TOINT,  // floor, ceil, trunc, round, int: fast_round sub
    K_FLOAT,  // float(x)
    K_ABS,    // abs(x)
    K_MIN,    // min(a, b, ...)
    K_MAX,    // max(a, b, ...)
    K_TEST,   // isnan / isinf / isfinite: sub
    K_SIGN,   // sign(x)
    K_POW,    // pow(a, b): a ** b
    K_MTOF,   // mtof(p)
    K_P2F,    // pitch_to_freq(p)
    K_NPCLIP, // np.clip(x, lo, hi)
} call_kind;

typedef struct call_def {
    const char *module; // NULL: a global builtin (also math.X, pg.X, ...); else the module's own
    const char *name;
    const char *fn; // K_FN1: the eval_fast_fns name
    call_kind kind;
    int sub;
    int n_args; // exact count (0: two or more)
} call_def;

static const call_def call_defs[] = {
    { NULL, "sin", "sin", K_FN1, 0, 1 },
    { NULL, "cos", "cos", K_FN1, 0, 1 },
    { NULL, "tan", "tan", K_FN1, 0, 1 },
    { NULL, "asin", "asin", K_FN1, 0, 1 },
    { NULL, "acos", "acos", K_FN1, 0, 1 },
    { NULL, "atan", "atan", K_FN1, 0, 1 },
    { NULL, "sinh", "sinh", K_FN1, 0, 1 },
    { NULL, "cosh", "cosh", K_FN1, 0, 1 },
    { NULL, "tanh", "tanh", K_FN1, 0, 1 },
    { NULL, "asinh", "asinh", K_FN1, 0, 1 },
    { NULL, "acosh", "acosh", K_FN1, 0, 1 },
    { NULL, "atanh", "atanh", K_FN1, 0, 1 },
    { NULL, "exp", "exp", K_FN1, 0, 1 },
    { NULL, "expm1", "expm1", K_FN1, 0, 1 },
    { NULL, "log", "log", K_FN1, 0, 1 },
    { NULL, "log2", "log2", K_FN1, 0, 1 },
    { NULL, "log10", "log10", K_FN1, 0, 1 },
    { NULL, "log1p", "log1p", K_FN1, 0, 1 },
    { NULL, "sqrt", "sqrt", K_FN1, 0, 1 },
    { NULL, "fabs", "fabs", K_FN1, 0, 1 },
    { NULL, "degrees", "degrees", K_FN1, 0, 1 },
    { NULL, "radians", "radians", K_FN1, 0, 1 },
    { NULL, "ftom", "ftom", K_FN1, 0, 1 },
    { NULL, "freq_to_pitch", "ftom", K_FN1, 0, 1 },
    { NULL, "db_to_ratio", "db_to_ratio", K_FN1, 0, 1 },
    { NULL, "ratio_to_db", "ratio_to_db", K_FN1, 0, 1 },
    { NULL, "atan2", NULL, K_FBIN, FC_ATAN2, 2 },
    { NULL, "hypot", NULL, K_FBIN, FC_HYPOT, 2 },
    { NULL, "copysign", NULL, K_FBIN, FC_COPYSIGN, 2 },
    { NULL, "fmod", NULL, K_FBIN, FC_FMOD, 2 },
    { "math", "pow", NULL, K_FBIN, FC_MPOW, 2 },
    { NULL, "floor", NULL, K_TOINT, RND_FLOOR, 1 },
    { NULL, "ceil", NULL, K_TOINT, RND_CEIL, 1 },
    { NULL, "trunc", NULL, K_TOINT, RND_TRUNC, 1 },
    { NULL, "int", NULL, K_TOINT, RND_TRUNC, 1 },
    { NULL, "round", NULL, K_TOINT, RND_HALF_EVEN, 1 },
    { NULL, "float", NULL, K_FLOAT, 0, 1 },
    { NULL, "abs", NULL, K_ABS, 0, 1 },
    { NULL, "min", NULL, K_MIN, 0, 0 },
    { NULL, "max", NULL, K_MAX, 0, 0 },
    { NULL, "isnan", NULL, K_TEST, 0, 1 },
    { NULL, "isinf", NULL, K_TEST, 1, 1 },
    { NULL, "isfinite", NULL, K_TEST, 2, 1 },
    { NULL, "sign", NULL, K_SIGN, 0, 1 },
    { NULL, "pow", NULL, K_POW, 0, 2 },
    { NULL, "mtof", NULL, K_MTOF, 0, 1 },
    { NULL, "pitch_to_freq", NULL, K_P2F, 0, 1 },
    { "numpy", "sin", "np.sin", K_FN1, 0, 1 },
    { "numpy", "cos", "np.cos", K_FN1, 0, 1 },
    { "numpy", "tan", "np.tan", K_FN1, 0, 1 },
    { "numpy", "arcsin", "np.arcsin", K_FN1, 0, 1 },
    { "numpy", "arccos", "np.arccos", K_FN1, 0, 1 },
    { "numpy", "arctan", "np.arctan", K_FN1, 0, 1 },
    { "numpy", "sinh", "np.sinh", K_FN1, 0, 1 },
    { "numpy", "cosh", "np.cosh", K_FN1, 0, 1 },
    { "numpy", "tanh", "np.tanh", K_FN1, 0, 1 },
    { "numpy", "exp", "np.exp", K_FN1, 0, 1 },
    { "numpy", "log", "np.log", K_FN1, 0, 1 },
    { "numpy", "log2", "np.log2", K_FN1, 0, 1 },
    { "numpy", "log10", "np.log10", K_FN1, 0, 1 },
    { "numpy", "sqrt", "np.sqrt", K_FN1, 0, 1 },
    { "numpy", "abs", "np.abs", K_FN1, 0, 1 },
    { "numpy", "floor", "np.floor", K_FN1, 0, 1 },
    { "numpy", "ceil", "np.ceil", K_FN1, 0, 1 },
    { "numpy", "round", "np.round", K_FN1, 0, 1 },
    { "numpy", "float32", "np.float32", K_FN1, 0, 1 },
    { "numpy", "float64", "np.float64", K_FN1, 0, 1 },
    { "numpy", "power", NULL, K_FBIN, FC_NPPOW, 2 },
    { "numpy", "clip", NULL, K_NPCLIP, 0, 3 },
};

// The call_def whose builtin is bi (aliases such as np.absolute resolve to the same one).
static const call_def *call_def_of(cx *c, const builtin *bi) {
    for (size_t i = 0; i < sizeof call_defs / sizeof call_defs[0]; i++) {
        const call_def *d = &call_defs[i];
        value v = { .t = VT_UNBOUND };
        const char *sym = eval_intern(c->ev, d->name, strlen(d->name));
        if (!d->module) {
            value *b = value_symtab_find(&c->ev->builtins, sym);
            v = b ? *b : v;
        } else {
            const module_def *m =
                strcmp(d->module, "numpy") == 0 ? &builtins_mod_numpy : &builtins_mod_math;
            builtins_module_getattr(c->ev, m, d->name, &v);
        }
        if (v.t == VT_BUILTIN && v.u.bi == bi)
            return d;
    }
    return NULL;
}

static int fn_index(cx *c, const char *name) {
    for (int i = 0; i < eval_fast_n_fns; i++)
        if (strcmp(eval_fast_fns[i].name, name) == 0)
            return i;
    refuse(c);
}

static int call1(cx *c, const char *fn, int a, pg_srcloc loc) {
    return emit(c, UC_CALL, fn_index(c, fn), FT_F, as_float(c, a, loc), -1, -1, loc);
}

// floor / ceil / trunc / int / round of one argument: an int comes back as it is.
static int to_int(cx *c, fast_round mode, int a, pg_srcloc loc) {
    if (is_int(type_of(c, a)))
        return a;
    return emit(c, UC_TOINT, mode, FT_I, a, -1, -1, loc);
}

// min / max as the builtin folds them: best = the first; each next item x replaces it when
// x < best (min) or best < x (max), compared exactly.
static int min_max(cx *c, const int *args, int n, bool is_max, pg_srcloc loc) {
    if (n < 2)
        refuse(c);
    int best = args[0];
    for (int i = 1; i < n; i++) {
        int better =
            is_max ? compare(c, TK_LT, best, args[i], loc) : compare(c, TK_LT, args[i], best, loc);
        best = select_of(c, better, args[i], best, loc);
    }
    return best;
}

// mtof(p) = 440 * 2 ** ((p - 69) / 12) and pitch_to_freq(p) = 440 * 2 ** ((p - 69) / 12.0),
// with the builtins' arithmetic: Python's operators up to the float, then libm's pow.
static int music(cx *c, call_kind k, int p, pg_srcloc loc) {
    int steps = binary(c, TK_MINUS, p, const_i(c, 69, FT_I), loc);
    int x = k == K_MTOF
                ? binary(c, TK_SLASH, steps, const_i(c, 12, FT_I), loc)
                : emit(c, FC_DIV, 0, FT_F, as_float(c, steps, loc), const_f(c, 12.0), -1, loc);
    int two = call1(c, "exp2", x, loc);
    return emit(c, FC_MUL, 0, FT_F, const_f(c, 440.0), two, -1, loc);
}

// np.clip(x, lo, hi) for a float x (an int x gives an int: refused); None bounds are -inf /
// +inf. bounds[k] is the AST of bound k, to tell None apart.
static int np_clip(cx *c, const int *args, const ast *const *bounds, pg_srcloc loc) {
    if (type_of(c, args[0]) != FT_F)
        refuse(c);
    int b[2];
    for (int k = 0; k < 2; k++)
        b[k] = bounds && bounds[k]->kind == AST_NONE ? const_f(c, k == 0 ? -HUGE_VAL : HUGE_VAL)
                                                     : as_float(c, args[k + 1], loc);
    return emit(c, XC_CLIP, 0, FT_F, args[0], b[0], b[1], loc);
}

// The call of builtin d on argument registers args[0..n) (already evaluated, in order).
static int call_builtin(cx *c, const call_def *d, const int *args, int n, const ast *const *bounds,
                        pg_srcloc loc) {
    if (d->n_args ? n != d->n_args : n < 2)
        refuse(c); // the interpreter reports the wrong count
    int a = args[0];
    fast_type t = type_of(c, a);
    switch (d->kind) {
    case K_FN1:
        return call1(c, d->fn, a, loc);
    case K_FBIN: {
        int x = as_float(c, a, loc), y = as_float(c, args[1], loc);
        return emit(c, (fast_code)d->sub, 0, FT_F, x, y, -1, loc);
    }
    case K_TOINT:
        return to_int(c, (fast_round)d->sub, a, loc);
    case K_FLOAT:
        return as_float(c, a, loc);
    case K_ABS:
        if (is_int(t))
            return emit(c, UC_IABS, 0, FT_I, a, -1, -1, loc);
        return emit(c, UC_FABS, 0, t, a, -1, -1, loc); // |exact int| is |its double|
    case K_MIN:
    case K_MAX:
        return min_max(c, args, n, d->kind == K_MAX, loc);
    case K_TEST:
        return emit(c, UC_FTEST, d->sub, FT_B, as_float(c, a, loc), -1, -1, loc);
    case K_SIGN:
        return emit(c, UC_SIGN, 0, FT_I, as_float(c, a, loc), -1, -1, loc);
    case K_POW:
        return binary(c, TK_DSTAR, a, args[1], loc);
    case K_MTOF:
    case K_P2F:
        return music(c, d->kind, a, loc);
    case K_NPCLIP:
        return np_clip(c, args, bounds ? bounds + 1 : NULL, loc);
    }
    refuse(c);
}

static int expr(cx *c, const ast *e);

// f(args) for a builtin f in the table; positional arguments only, evaluated left to right.
static int call(cx *c, const ast *e) {
    value f = fixed_expr(c, e->a);
    const call_def *d = f.t == VT_BUILTIN ? call_def_of(c, f.u.bi) : NULL;
    if (!d || e->n2 > 0 || e->n > 8)
        refuse(c);
    int args[8];
    for (int i = 0; i < e->n; i++) {
        if (e->list[i]->kind == AST_STARRED)
            refuse(c);
        args[i] = e->list[i]->kind == AST_NONE && d->kind == K_NPCLIP && i > 0
                      ? -1 // a None bound (np_clip makes it +-inf)
                      : expr(c, e->list[i]);
    }
    return call_builtin(c, d, args, e->n, (const ast *const *)e->list, e->loc);
}

// ---- expressions ----

static int unary(cx *c, const ast *e) {
    int a = expr(c, e->a);
    fast_type t = type_of(c, a);
    switch (e->op) {
    case TK_NOT:
        return emit(c, UC_NOT, 0, FT_B, truth(c, a, e->loc), -1, -1, e->loc);
    case '-':
    case TK_MINUS:
        if (t == FT_FI) // -0 is 0 but -0.0 is -0.0: an exact int and its double differ
            refuse(c);
        if (is_int(t))
            return emit(c, UC_INEG, 0, FT_I, a, -1, -1, e->loc);
        return emit(c, UC_FNEG, 0, FT_F, a, -1, -1, e->loc);
    case '+':
    case TK_PLUS:
        return a; // +True is 1: the same value
    default:
        refuse(c);
    }
}

// a and b / a or b: b runs only in the lanes where a does not decide.
static int boolop(cx *c, const ast *e) {
    int a = expr(c, e->a);
    int ta = truth(c, a, e->loc), saved = c->mask;
    c->mask = sub_mask(c, saved, ta, e->op == TK_OR, e->loc);
    int b = expr(c, e->b);
    c->mask = saved;
    return e->op == TK_AND ? select_of(c, ta, b, a, e->loc) : select_of(c, ta, a, b, e->loc);
}

// b if a else c: each branch runs in its own lanes.
static int ifexp(cx *c, const ast *e) {
    int cond = truth(c, expr(c, e->a), e->loc), saved = c->mask;
    c->mask = sub_mask(c, saved, cond, false, e->loc);
    int a = expr(c, e->b);
    c->mask = saved;
    c->mask = sub_mask(c, saved, cond, true, e->loc);
    int b = expr(c, e->c);
    c->mask = saved;
    return select_of(c, cond, a, b, e->loc);
}

// a < b < c: each further operand runs in the lanes where the comparisons so far hold.
static int compare_chain(cx *c, const ast *e) {
    int left = expr(c, e->a), result = -1, saved = c->mask;
    for (int i = 0; i < e->n; i++) {
        int right = expr(c, e->list[i]);
        int r = compare(c, e->ops[i], left, right, e->loc);
        result = result < 0 ? r : emit(c, MC_AND, 0, FT_B, result, r, -1, e->loc);
        c->mask = saved;
        if (i + 1 < e->n)
            c->mask = sub_mask(c, saved, result, false, e->loc);
        left = right;
    }
    c->mask = saved;
    return result;
}

static int expr_inner(cx *c, const ast *e) {
    switch (e->kind) {
    case AST_INT:
        return const_i(c, e->ival, FT_I);
    case AST_FLOAT:
        return const_f(c, e->fval);
    case AST_TRUE:
    case AST_FALSE:
        return const_i(c, e->kind == AST_TRUE, FT_B);
    case AST_NAME:
        return load(c, e);
    case AST_ATTR:
        return const_of(c, fixed_expr(c, e));
    case AST_UNARY:
        return unary(c, e);
    case AST_BINARY: {
        int a = expr(c, e->a);
        int b = expr(c, e->b);
        return binary(c, e->op, a, b, e->loc);
    }
    case AST_BOOLOP:
        return boolop(c, e);
    case AST_COMPARE:
        return compare_chain(c, e);
    case AST_IFEXP:
        return ifexp(c, e);
    case AST_CALL:
        return call(c, e);
    default: // strings, lists, units (the frame rate may still change), lambdas, ...
        refuse(c);
    }
}

static int expr(cx *c, const ast *e) {
    if (++c->depth > MAX_DEPTH)
        refuse(c);
    int r = expr_inner(c, e);
    c->depth--;
    return r;
}

// ---- functions ----

// The body of a def: `name = expr` and `name op= expr` statements in order (a docstring and
// `pass` allowed), then `return expr`. Returns the result register.
static int body(cx *c, const ast *fn) {
    for (int i = 0; i < fn->n; i++) {
        const ast *st = fn->list[i];
        bool last = i == fn->n - 1;
        if (st->kind == AST_RETURN && last && st->a)
            return expr(c, st->a);
        if (st->kind == AST_ASSIGN && st->n == 1 && st->list[0]->kind == AST_NAME) {
            bind_local(c, st->list[0]->name, expr(c, st->a));
        } else if (st->kind == AST_AUGASSIGN && st->a->kind == AST_NAME) {
            int cur = load(c, st->a);
            int rhs = expr(c, st->b);
            bind_local(c, st->a->name, binary(c, st->op, cur, rhs, st->loc));
        } else if (!(st->kind == AST_PASS || (st->kind == AST_EXPR && st->a->kind == AST_STR))) {
            refuse(c);
        }
    }
    refuse(c); // no return: the function gives None
}

// fn's program; its parameter is register 0.
static int function(cx *c, const func_obj *fn) {
    const ast *node = fn->node;
    if (node->n2 != 1 || node->list2[0]->op != 0 || fn->sc->n_globals > 0)
        refuse(c);
    bind_local(c, node->list2[0]->name, new_reg(c, FT_F));
    return node->kind == AST_LAMBDA ? expr(c, node->a) : body(c, node);
}

// A builtin passed itself (MapPE(src, np.tanh)): called on the parameter at the PE's call.
static int builtin_function(cx *c, const builtin *bi, pg_srcloc loc) {
    const call_def *d = call_def_of(c, bi);
    if (!d)
        refuse(c);
    int x = new_reg(c, FT_F);
    return call_builtin(c, d, &x, 1, NULL, loc);
}

static void hash_add(XXH3_state_t *h, const void *p, size_t n) {
    XXH3_64bits_update(h, p, n);
}

// Identifies what the program computes: its operations and constants (function names, not
// pointers, so that the hash is the same in every run); not locations.
static uint64_t program_hash(const fast_prog *p) {
    XXH3_state_t *h = XXH3_createState();
    if (!h)
        return 0; // never cached
    XXH3_64bits_reset(h);
    hash_add(h, "pygmuc eval_fast 1", 18);
    for (int r = 0; r < p->n_regs; r++) {
        const fast_reg *g = &p->regs[r];
        int64_t k = g->is_const ? g->k.i : 0; // the constant's bits (double or int)
        int32_t head[2] = { g->type, g->is_const };
        hash_add(h, head, sizeof head);
        hash_add(h, &k, sizeof k);
    }
    for (int i = 0; i < p->n_ops; i++) {
        const fast_op *op = &p->ops[i];
        int32_t f[6] = { op->code, op->sub, op->dst, op->a, op->b, op->c };
        if (op->code == UC_CALL) // the function by name
            hash_add(h, eval_fast_fns[op->sub].name, strlen(eval_fast_fns[op->sub].name));
        hash_add(h, f, sizeof f);
        hash_add(h, &op->mask, sizeof op->mask);
    }
    int32_t ends[2] = { p->param, p->result };
    hash_add(h, ends, sizeof ends);
    uint64_t x = XXH3_64bits_digest(h);
    XXH3_freeState(h);
    return x ? x : 1;
}

static fast_prog *finish(cx *c, int result) {
    evaluator *ev = c->ev;
    fast_prog *p = ARENA_NEW(ev->a, fast_prog);
    fast_op *ops = ARENA_ARRAY(ev->a, fast_op, c->n_ops + 1);
    fast_reg *regs = ARENA_ARRAY(ev->a, fast_reg, c->n_regs + 1);
    memcpy(ops, c->ops, sizeof(fast_op) * (size_t)c->n_ops);
    memcpy(regs, c->regs, sizeof(fast_reg) * (size_t)c->n_regs);
    *p = (fast_prog){ ops,       c->n_ops,    regs,
                      c->n_regs, c->n_fslots, c->n_islots,
                      0,         result,      pg_session_file_path(ev->s, ev->file),
                      0 };
    p->hash = program_hash(p);
    return p;
}

const fast_prog *eval_fast_compile(evaluator *ev, value fn, pg_srcloc loc) {
    if (fn.t != VT_FUNC && fn.t != VT_BUILTIN)
        return NULL;
    // One workspace per session, reused (compiles never nest), in the arena so that an
    // out-of-memory longjmp leaks nothing.
    if (!ev->fast_scratch) {
        cx *w = ARENA_NEW(ev->a, cx);
        w->ops = ARENA_ARRAY(ev->a, fast_op, MAX_OPS);
        w->regs = ARENA_ARRAY(ev->a, fast_reg, FAST_MAX_REGS);
        ev->fast_scratch = w;
    }
    cx *c = ev->fast_scratch;
    c->ev = ev;
    c->n_ops = c->n_regs = c->n_fslots = c->n_islots = c->n_locals = c->depth = 0;
    c->mask = -1;
    c->fn = fn.t == VT_FUNC ? fn.u.fn : NULL;
    if (setjmp(c->refuse) != 0)
        return NULL;
    int result = c->fn ? function(c, c->fn) : builtin_function(c, fn.u.bi, loc);
    return finish(c, result);
}
