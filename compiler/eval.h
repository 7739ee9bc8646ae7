// eval.h: the .pg evaluator. Runs a parsed module (a deterministic tree-walking
// interpreter of the Python subset in design.md) whose PE constructor calls build the
// session's graph through the public pg_graph_* API. render(pe) (and its porting aliases)
// decides s->root. Errors are fatal (diag_fatal) at the offending call's location.
#ifndef PG_COMPILER_EVAL_H
#define PG_COMPILER_EVAL_H

#include "ast.h"
#include "session.h"

// Limits that turn runaway programs into PG_ERR_LIMIT errors instead of hangs.
typedef struct eval_limits {
    int64_t max_steps; // statements + calls executed (default 50,000,000)
    int max_depth;     // call depth (default 200)
    int64_t max_list;  // elements in one list / string length (default 10,000,000)
    size_t max_bytes;  // memory for values (default EVAL_MEMORY_LIMIT)
} eval_limits;

#define EVAL_MEMORY_LIMIT ((size_t)1 << 30)
#define EVAL_STEP_LIMIT   50000000

// Evaluates module m of source file `file`. Sets s->root to the node given to render() (to
// a MixPE of time-shifted PEs when render() is called several times: they play one after
// another), or reports "the piece never calls render()" at the end of the file.
void eval_module(pg_session *s, const ast_module *m, int file, const eval_limits *lim);

// Test hooks: read a module-level name after eval_module (also after a failed one).
// eval_global_number returns 1 and sets *out when the global is an int, float or bool,
// else 0. eval_global_repr writes repr(global) into buf (truncated to size) and returns
// 1, or returns 0 when the name is not defined.
int eval_global_number(pg_session *s, const char *name, double *out);
int eval_global_repr(pg_session *s, const char *name, char *buf, size_t size);

#endif // PG_COMPILER_EVAL_H
