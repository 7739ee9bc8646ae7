// eval_func.h: .pg functions handed to PEs (MapPE's user_fn, WaveShapePE's shaping_func) as
// pg_func callbacks that render threads call. A function eval_fast can compile runs as a
// register program (no lock, a real hash); any other goes back into the interpreter, one
// element at a time under the evaluator's lock (hash 0: never cached). Either way an error
// comes back as the status and "file:line:col: message", the interpreter's own words.
#ifndef PG_COMPILER_EVAL_FUNC_H
#define PG_COMPILER_EVAL_FUNC_H

#include "value.h"

// The pg_func for fn (a def, lambda, builtin or bound method), passed to `kind` at loc.
// Its environment lives in the session arena: the session must outlive the plans using it.
pg_func eval_func_make(evaluator *ev, value fn, pg_srcloc loc, const char *kind);

#endif // PG_COMPILER_EVAL_FUNC_H
