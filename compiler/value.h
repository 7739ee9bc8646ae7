// value.h: the .pg evaluator's values (int, float, bool, None, str, list, tuple, dict,
// range, function, builtin, bound method, module, PE kind, Extent, PE, transport), the
// evaluator state shared by eval.c, builtins*.c and methods.c, and the operations on values
// (value.c: equality, ordering, hashing, dicts, repr/str, Python's number formatting;
// value_ops.c: the operators).
// Every object lives in the session arena and is never freed before the session ends.
// Names are interned (one pointer per spelling), so symbol tables compare pointers.
#ifndef PG_COMPILER_VALUE_H
#define PG_COMPILER_VALUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ast.h"
#include "eval.h"
#include "prng.h"
#include "session.h"

typedef enum val_type {
    VT_UNBOUND = 0, // an unassigned local slot (never seen by programs)
    VT_NONE,
    VT_BOOL,      // u.i is 0 or 1; an int in arithmetic, as in Python
    VT_INT,       // u.i
    VT_FLOAT,     // u.f
    VT_STR,       // u.s
    VT_LIST,      // u.l
    VT_TUPLE,     // u.l (never mutated after construction)
    VT_DICT,      // u.d
    VT_RANGE,     // u.r
    VT_FUNC,      // u.fn: a def or lambda with its closure
    VT_BUILTIN,   // u.bi
    VT_BOUND,     // u.bm: a method bound to its receiver (xs.append, pe.gain, ...)
    VT_MODULE,    // u.mod: pg, ut, np, math, random, os, os.path, sys, np.random, time
    VT_KIND,      // u.i: a PE kind index (a constructor such as SinPE)
    VT_EXTENT,    // u.ext
    VT_PE,        // u.i: a graph node id
    VT_TRANSPORT, // u.i: the node id given to Transport(pe) / FtsTransport(pe)
} val_type;

typedef struct str_obj str_obj;
typedef struct list_obj list_obj;
typedef struct dict_obj dict_obj;
typedef struct range_obj range_obj;
typedef struct func_obj func_obj;
typedef struct builtin builtin;
typedef struct bound_obj bound_obj;
typedef struct module_def module_def;

typedef struct value {
    val_type t;
    union {
        int64_t i;
        double f;
        str_obj *s;
        list_obj *l;
        dict_obj *d;
        range_obj *r;
        func_obj *fn;
        const builtin *bi;
        bound_obj *bm;
        const module_def *mod;
        const pg_extent *ext;
    } u;
} value;

struct str_obj {
    int64_t len;   // bytes (strings are UTF-8 byte strings; len() counts bytes)
    uint64_t hash; // 0 until computed
    char data[];   // len bytes and a NUL
};

struct list_obj {
    int64_t n, cap;
    value *items;
};

struct range_obj {
    int64_t start, stop, step, len;
};

struct dict_obj {
    int64_t n, cap;     // entries used (deleted ones included) and allocated
    int64_t live;       // entries not deleted
    value *keys, *vals; // insertion order; a deleted entry has key VT_UNBOUND
    int64_t *index;     // open addressing: entry + 1, 0 = empty
    int64_t index_cap;  // a power of two
};

// ---- scopes and frames (eval.c) ----

// The static scope of a def, lambda or comprehension: its local names (parameters first,
// in order) and the names it declares global.
typedef struct scope {
    const char **names;
    int n;
    int n_params;
    const char **globals;
    int n_globals;
    const char **table; // open addressing over names (NULL = empty): index = slot
    int *slots;
    int table_cap; // a power of two
} scope;

typedef struct frame {
    const scope *sc;
    value *slots;
    struct frame *up; // the lexically enclosing frame (NULL: the module)
    bool captured;    // a closure refers to it: it must never be recycled
    struct frame *next_free;
} frame;

struct func_obj {
    const ast *node;  // AST_DEF or AST_LAMBDA
    const char *name; // "<lambda>" for lambdas
    const scope *sc;
    frame *env;      // the defining frame
    value *defaults; // one per parameter (VT_UNBOUND: none)
};

// A call's arguments: positional (with *args expanded) then keyword.
typedef struct call_args {
    pg_srcloc loc;
    const value *args;
    int n;
    const char *const *kw_names; // interned
    const value *kw;
    int nk;
} call_args;

typedef struct evaluator evaluator;

typedef value (*builtin_fn)(evaluator *ev, const call_args *c);

struct builtin {
    const char *name;
    builtin_fn fn;
};

struct bound_obj {
    value self;
    const char *name; // interned method name
};

// A module: attribute lookup tries its own table, then (unless closed) the global
// builtins, so pg.SinPE == SinPE and math.sin == sin.
struct module_def {
    const char *name;                // as Python prints it: "pygmu", "numpy", "math", ...
    const struct module_attr *attrs; // ended by a NULL name
    bool closed;                     // no fallback to the builtins (os, os.path, sys, time)
    builtin_fn call;                 // non-NULL when the module itself is callable (random())
};

// One module attribute: a function, a submodule, a computed value or a float constant.
typedef struct module_attr {
    const char *name;
    const builtin *fn;
    const module_def *mod;
    value (*get)(evaluator *ev);
    double num;
} module_attr;

// Open-addressing table keyed by interned names.
typedef struct symtab {
    const char **keys;
    value *vals;
    uint32_t cap, n; // cap: a power of two (0 = empty table)
} symtab;

// Pointer-keyed map (AST node -> its scope).
typedef struct ptrmap {
    const void **keys;
    void **vals;
    uint32_t cap, n;
} ptrmap;

// Frames of up to this many slots are recycled when no closure holds them.
enum {
    EVAL_FREE_FRAME_SLOTS = 64
};

// A render() call (or a porting alias): the PE and where it was called.
typedef struct render_call {
    int node;
    pg_srcloc loc;
} render_call;

// The evaluator state (s->eval).
struct evaluator {
    pg_session *s;
    arena *a;
    int file;
    eval_limits lim;
    int64_t steps;
    int depth;
    const char **interned; // the intern table: open addressing over strings
    uint32_t interned_cap, interned_n;
    symtab globals;
    symtab builtins;
    ptrmap scopes;      // AST_DEF / AST_LAMBDA / comprehension node -> its scope
    ptrmap strings;     // AST_STR node -> its str_obj (literals are made once)
    pg_srcloc stmt_loc; // the statement being executed (for errors without a better place)
    int nesting;        // expression nesting (C recursion guard)
    int value_nesting;  // nesting of recursive operations on values (==, <, hash, ...)
    frame *free_frames[EVAL_FREE_FRAME_SLOTS + 1]; // recycled frames by slot count
    prng rng;
    uint64_t noise_seed;  // np.random.seed(n) (0 until set)
    int64_t noise_count;  // NoisePEs built so far
    value sys_path;       // sys.path: a list a piece may append to (ignored)
    value ret;            // the value of the last return statement
    pthread_mutex_t lock; // serialises calls from PG_V_FUNC callbacks (render threads)
    pg_status last_error; // the status of the last eval_error (for PG_V_FUNC callbacks)
    char *cb_err;         // inside a PG_V_FUNC callback: eval_error writes its message here
    size_t cb_err_size;   // (as "file:line:col: message") instead of recording a diagnostic
    render_call *renders; // every render() call, in order (eval_module combines them)
    int n_renders, cap_renders;
    const ast_module *module;  // the module being run (eval_fast's constant-global check)
    const symtab *bind_counts; // per global name: how often the module may bind it (lazy)
    void *fast_scratch;        // eval_fast's compile workspace (made once)
};

// ---- errors ----

_Noreturn void eval_error(evaluator *ev, pg_srcloc loc, pg_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

// ---- the interpreter's services (eval.c) ----

const char *eval_intern(evaluator *ev, const char *s, size_t n);
// Calls a callable value with positional arguments.
value eval_call(evaluator *ev, value fn, const value *args, int n, pg_srcloc loc);
value eval_call_args(evaluator *ev, value fn, const call_args *c);
void eval_step(evaluator *ev, pg_srcloc loc); // counts one step; PG_ERR_LIMIT past the limit
// Whether sym names a slot of frame f or of a frame enclosing it (a local or a closure
// variable), as a load of sym from code running in f would find it.
bool eval_frame_binds(const frame *f, const char *sym);

// "Did you mean" suggestions: offer candidates, then read best (NULL when none is close: a
// case-insensitive match, or CPython's edit distance within its bound).
typedef struct suggest {
    const char *name;
    const char *best;
    int best_score;
} suggest;
void eval_suggest_offer(void *ctx, const char *candidate); // ctx is a suggest *

// ---- constructors ----

static inline value value_none(void) {
    value v = { .t = VT_NONE };
    return v;
}
static inline value value_int(int64_t i) {
    value v = { .t = VT_INT, .u.i = i };
    return v;
}
static inline value value_bool(bool b) {
    value v = { .t = VT_BOOL, .u.i = b ? 1 : 0 };
    return v;
}
static inline value value_float(double f) {
    value v = { .t = VT_FLOAT, .u.f = f };
    return v;
}
static inline bool value_is_num(value v) {
    return v.t == VT_INT || v.t == VT_FLOAT || v.t == VT_BOOL;
}
static inline bool value_is_intlike(value v) {
    return v.t == VT_INT || v.t == VT_BOOL;
}
static inline double value_as_double(value v) {
    return v.t == VT_FLOAT ? v.u.f : (double)v.u.i;
}

value value_str(evaluator *ev, const char *s, size_t n);
value value_cstr(evaluator *ev, const char *s);
value value_list(evaluator *ev, int64_t cap); // empty, with room for cap items
value value_tuple(evaluator *ev, const value *items, int64_t n);
value value_dict(evaluator *ev);
value value_extent(evaluator *ev, pg_extent e);
value value_range(evaluator *ev, int64_t start, int64_t stop, int64_t step);
value value_bound(evaluator *ev, value self, const char *name);

// ---- lists (list_obj is shared by lists and tuples) ----

void value_list_append(evaluator *ev, value list, value x, pg_srcloc loc);
void value_list_reserve(evaluator *ev, list_obj *l, int64_t n, pg_srcloc loc);
// The items of a list, tuple, str, dict (keys) or range as a fresh list; PG_ERR_ARG
// "'int' object is not iterable" for anything else.
value value_to_list(evaluator *ev, value v, pg_srcloc loc);

// ---- dicts (keys: None, bool, int, float, str, tuple of those) ----

value *value_dict_find(evaluator *ev, dict_obj *d, value key, pg_srcloc loc);
void value_dict_set(evaluator *ev, dict_obj *d, value key, value v, pg_srcloc loc);
bool value_dict_del(evaluator *ev, dict_obj *d, value key, pg_srcloc loc);

// ---- symbol tables and pointer maps ----

value *value_symtab_find(const symtab *t, const char *sym);
void value_symtab_put(evaluator *ev, symtab *t, const char *sym, value v);
void *value_ptrmap_get(const ptrmap *m, const void *key);
void value_ptrmap_put(evaluator *ev, ptrmap *m, const void *key, void *val);

// ---- semantics ----

// Brackets an operation that recurses into nested values: PG_ERR_LIMIT past a fixed depth
// (Python's RecursionError), so that no program overflows the C stack.
// An error when the values allocated so far exceed the evaluation's memory budget.
void value_check_memory(evaluator *ev, pg_srcloc loc);
void value_enter(evaluator *ev, pg_srcloc loc);
void value_leave(evaluator *ev);

const char *value_type_name(value v); // Python's name: "int", "str", "PE", ...
bool value_truthy(value v);
bool value_eq(evaluator *ev, value a, value b, pg_srcloc loc);
// a < b with Python's rules; PG_ERR_ARG when the types do not order.
bool value_lt(evaluator *ev, value a, value b, pg_srcloc loc);
// -1, 0 or 1 for two numbers, NaN aware: *unordered is set when either is NaN.
int value_num_cmp(value a, value b, bool *unordered);
uint64_t value_hash(evaluator *ev, value v, pg_srcloc loc);
int64_t value_len(evaluator *ev, value v, pg_srcloc loc);

// ---- operators (value_ops.c) ----

// a op b for a binary operator token (TK_PLUS, TK_STAR, TK_DSLASH, ...), Python's rules;
// PG_ERR_ARG for unsupported operand types, division by zero and int64 overflow.
value value_binop(evaluator *ev, int op, value a, value b, pg_srcloc loc);
// Python's float // and % for y != 0 (CPython's _float_div_mod); the evaluator's fast path
// (eval_fast_run.c) shares it.
void value_float_divmod(double x, double y, double *floordiv, double *mod);
// a op= b: a list is extended (+=) or repeated (*=) in place, as in Python.
value value_inplace_binop(evaluator *ev, int op, value a, value b, pg_srcloc loc);
// op v for '-', '+', '~' (or their token kinds) and TK_NOT.
value value_unary(evaluator *ev, int op, value v, pg_srcloc loc);
// a op b for a comparison token: TK_LT .. TK_NE, TK_IN, TK_NOT_IN, TK_IS, TK_IS_NOT.
bool value_compare(evaluator *ev, int op, value a, value b, pg_srcloc loc);
// obj[key], obj[key] = v and del obj[key] for lists, tuples, str, range and dicts.
value value_getitem(evaluator *ev, value obj, value key, pg_srcloc loc);
void value_setitem(evaluator *ev, value obj, value key, value v, pg_srcloc loc);
void value_delitem(evaluator *ev, value obj, value key, pg_srcloc loc);

// ---- text ----

// A growable byte buffer in the arena.
typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;
void value_sbuf_put(evaluator *ev, sbuf *b, const char *s, size_t n);
void value_sbuf_puts(evaluator *ev, sbuf *b, const char *s);
void value_sbuf_printf(evaluator *ev, sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void value_repr(evaluator *ev, sbuf *b, value v, int depth); // repr(v)
void value_str_into(evaluator *ev, sbuf *b, value v);        // str(v)
value value_to_str(evaluator *ev, value v);                  // str(v) as a value
// Python's repr of a float: the shortest round-trip form ("0.1", "1e-05", "inf").
void value_float_repr(double x, char *out, size_t size);
// format(v, spec) with Python's format mini-language (fill, align, sign, width, ",", ".p",
// types d f F e E g G % s x X o b). A width or precision over VALUE_FMT_MAX is an error.
enum {
    VALUE_FMT_MAX = 99999
};
// Reads the digits at *p (a width or a precision), stopping at VALUE_FMT_MAX + 1.
int value_fmt_number(const char **p, const char *end);
void value_format(evaluator *ev, sbuf *b, value v, const char *spec, size_t spec_len,
                  pg_srcloc loc);

// ---- numbers ----

// Python's round(x) for a float: halves to even; PG_ERR_ARG for inf / nan.
int64_t value_round_half_even(evaluator *ev, double x, pg_srcloc loc);
// round(x, ndigits) for a float, correctly rounded like CPython.
double value_round_digits(double x, int64_t ndigits);
// A float to an int64 (truncating), PG_ERR_ARG when it does not fit.
int64_t value_float_to_int(evaluator *ev, double x, pg_srcloc loc);

#endif // PG_COMPILER_VALUE_H
