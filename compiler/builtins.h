// builtins.h: the .pg global namespace: Python's builtin functions, the graph functions
// (frame_rate, render, Transport, Extent) and the PE constructors (builtins.c); math, the
// pygmu utils music helpers, the CPython-compatible random functions and numpy look-alikes
// (builtins_num.c); and the porting modules (pg, ut, np, math, random, os, os.path, sys,
// time), whose attributes resolve to the same builtins (pg.SinPE == SinPE, math.sin ==
// sin) plus a few module-specific ones.
#ifndef PG_COMPILER_BUILTINS_H
#define PG_COMPILER_BUILTINS_H

#include "value.h"

// Fills ev->builtins.
void builtins_init(evaluator *ev);
// The module imported as `name` (a dotted name: its first component decides), or a value
// of type VT_UNBOUND when .pg does not provide it.
value builtins_module(evaluator *ev, const char *name);
// m.name; false when the module has no such attribute.
bool builtins_module_getattr(evaluator *ev, const module_def *m, const char *name, value *out);
// The attribute names of a module (for "did you mean" suggestions): calls fn for each.
void builtins_module_names(evaluator *ev, const module_def *m,
                           void (*fn)(void *ctx, const char *name), void *ctx);

// Binds a builtin's arguments to its parameter names (positional, then keyword): out[i]
// is VT_UNBOUND when parameter i was not given. The first n_required must be given.
void builtins_bind(evaluator *ev, const call_args *c, const char *fname, const char *const *names,
                   int n_names, int n_required, value *out);
// The builtin behind list.sort(key=None, reverse=False), called with the list first.
const builtin *builtins_list_sort(void);

// Checks a builtin takes no keywords and lo..hi positional arguments.
void builtins_want_args(evaluator *ev, const call_args *c, const char *fname, int lo, int hi);
// v itself when it is a list or tuple, else its items as a new list (not iterable: error).
value builtins_list_of(evaluator *ev, value v, pg_srcloc loc);

// ---- builtins_num.c ----

// Adds math, the music helpers and the random functions to ev->builtins.
void builtins_num_init(evaluator *ev);
extern const module_def builtins_mod_numpy, builtins_mod_np_random, builtins_mod_math,
    builtins_mod_random;

// A number argument as a double / an int argument (bools count; floats do not).
double builtins_num(evaluator *ev, value v, const char *what, pg_srcloc loc);
int64_t builtins_int(evaluator *ev, value v, const char *what, pg_srcloc loc);

#endif // PG_COMPILER_BUILTINS_H
