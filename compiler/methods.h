// methods.h: attributes and methods of .pg values (str, list, tuple, dict, float, Extent,
// PE, Transport, modules) and the bridge to the graph: PE constructor calls converted to
// pg_graph_add arguments, the chaining helpers of pygmu's PygPE (crop with fades, pad,
// delays, reverb, mul, ...), Extent construction and render().
#ifndef PG_COMPILER_METHODS_H
#define PG_COMPILER_METHODS_H

#include "value.h"

// obj.name as a value (a bound method or a module attribute); PG_ERR_NAME with a
// suggestion when obj has no such attribute.
value methods_getattr(evaluator *ev, value obj, const char *name, pg_srcloc loc);
// obj.name(args), without building the bound method.
value methods_call(evaluator *ev, value obj, const char *name, const call_args *c);
// A call of a PE constructor (kind index) with the call's arguments.
value methods_pe_new(evaluator *ev, int kind, const call_args *c);
// Extent(start=-inf, end=+inf).
value methods_extent_new(evaluator *ev, const call_args *c);
// render(pe): records the call (the PE and its location).
void methods_render(evaluator *ev, value pe, pg_srcloc loc);
// After the module has run: sets the session's root to the one rendered PE, or to the
// rendered PEs played one after another (TimeShiftPE + MixPE); PG_ERR_ARG when render()
// was never called, PG_ERR_EXTENT when one of several has an indefinite extent.
void methods_render_finish(evaluator *ev);
// A relative file path names a file beside the piece: the path to open (arena memory).
const char *methods_resolve_path(evaluator *ev, const char *path);
// fmt % args for a str fmt (printf-style formatting).
value methods_percent_format(evaluator *ev, value fmt, value args, pg_srcloc loc);

#endif // PG_COMPILER_METHODS_H
