// session.h: the compile session (pg_session): source files, the arena, diagnostics, the
// graph being built and the single error handler. Front-end errors are fatal: diag_fatal
// records one diagnostic and longjmps to the handler that pg_compile_file installed
// (Lua's luaD_rawrunprotected). Below that handler allocate only from s->arena.
#ifndef PG_COMPILER_SESSION_H
#define PG_COMPILER_SESSION_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>

#include "arena.h"
#include "pygmu.h"

enum {
    SESSION_MAX_DIAGS = 20,
    SESSION_MAX_FILES = 64
};

typedef struct src_file {
    const char *path; // as given
    const char *dir;  // its folder, for relative sound-file paths ("" for the cwd)
    const char *text; // NUL-terminated
} src_file;

struct pg_session {
    arena *arena;
    jmp_buf *on_error;                     // the handler; NULL outside pg_compile_file
    src_file files[SESSION_MAX_FILES + 1]; // index 0 unused (no location)
    int n_files;
    pg_diag diags[SESSION_MAX_DIAGS];
    int n_diags;
    pg_graph *graph;
    int root;            // the node passed to render(), or -1
    void *eval;          // the evaluator's state (eval.c)
    FILE *print_to;      // where print() writes (stderr by default); NULL discards
    size_t memory_limit; // the evaluator's value memory (EVAL_MEMORY_LIMIT when 0)
    int64_t step_limit;  // the evaluator's steps (EVAL_STEP_LIMIT when 0)
    pg_compile_times times;
};

// Adds a source file (text copied into the arena); returns its index.
int session_add_file(pg_session *s, const char *path, const char *text);

// Records an error at loc and longjmps to the session's handler.
_Noreturn void diag_fatal(pg_session *s, pg_srcloc loc, pg_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
_Noreturn void diag_vfatal(pg_session *s, pg_srcloc loc, pg_status st, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
// Records a diagnostic and goes on (warnings, and shape errors from the graph).
void diag_add(pg_session *s, pg_srcloc loc, pg_status st, int is_warning, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif // PG_COMPILER_SESSION_H
