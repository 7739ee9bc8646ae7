// eval_func.c: the pg_func bridge (see eval_func.h). The interpreter path re-enters the
// evaluator from a render thread: it takes ev->lock, installs its own error handler (the
// compile's is gone by then) and sets ev->cb_err so that eval_error writes its message there
// instead of recording a diagnostic in the session.
#include "eval_func.h"

#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "eval_fast.h"

typedef struct func_env {
    evaluator *ev;
    value fn;
    pg_srcloc loc;
    const char *kind;
    const fast_prog *prog; // the compiled function, or NULL: interpret
} func_env;

// The message of an error raised outside eval_error (out of memory: diag_fatal), taken
// back out of the session's diagnostics so that rendering leaves them as they were.
static pg_status take_session_error(evaluator *ev, int n_before, char *msg, size_t size) {
    pg_session *s = ev->s;
    if (s->n_diags <= n_before) {
        snprintf(msg, size, "internal error in a .pg function");
        return PG_ERR_INTERNAL;
    }
    const pg_diag *d = &s->diags[s->n_diags - 1];
    snprintf(msg, size, "%s", d->message);
    pg_status st = d->status;
    s->n_diags = n_before;
    return st;
}

// Calls the function on in[0..n) through the interpreter; PG_OK or the error's status with
// its message in msg. Called with ev->lock held.
static pg_status interpret(func_env *env, const double *in, double *out, int64_t n, char *msg,
                           size_t size) {
    evaluator *ev = env->ev;
    jmp_buf handler;
    jmp_buf *saved = ev->s->on_error;
    volatile int n_diags = ev->s->n_diags;
    volatile pg_status st = PG_OK;
    ev->s->on_error = &handler;
    ev->cb_err = msg;
    ev->cb_err_size = size;
    ev->last_error = PG_OK;
    if (setjmp(handler) == 0) {
        for (int64_t i = 0; i < n; i++) {
            ev->steps = 0; // each element gets the whole step budget
            ev->depth = 0;
            ev->nesting = 0;
            ev->value_nesting = 0;
            value x = value_float(in[i]);
            value r = eval_call(ev, env->fn, &x, 1, env->loc);
            if (!value_is_num(r))
                eval_error(ev, env->loc, PG_ERR_ARG,
                           "the function given to %s must return a number, got '%s'", env->kind,
                           value_type_name(r));
            out[i] = value_as_double(r);
        }
    } else {
        st = ev->last_error ? ev->last_error : take_session_error(ev, n_diags, msg, size);
    }
    ev->cb_err = NULL;
    ev->s->on_error = saved;
    return st;
}

static pg_status func_call(void *envp, const double *in, double *out, int64_t n, char *err,
                           size_t err_size) {
    func_env *env = envp;
    char msg[512] = "";
    pg_status st;
    if (env->prog) {
        st = eval_fast_run(env->prog, in, out, n, msg, sizeof msg);
    } else {
        pthread_mutex_lock(&env->ev->lock);
        st = interpret(env, in, out, n, msg, sizeof msg);
        pthread_mutex_unlock(&env->ev->lock);
    }
    if (st != PG_OK && err_size > 0)
        snprintf(err, err_size, "%s", msg);
    // One NaN for every NaN: which operand's NaN an operation passes on (and so its sign) is
    // the C compiler's choice (IEEE 754 leaves it open), so the output is made independent of
    // it, the same whichever path and build computed it.
    for (int64_t i = 0; st == PG_OK && i < n; i++)
        if (isnan(out[i]))
            out[i] = (double)NAN;
    return st;
}

pg_func eval_func_make(evaluator *ev, value fn, pg_srcloc loc, const char *kind) {
    func_env *env = ARENA_NEW(ev->a, func_env);
    *env = (func_env){ ev, fn, loc, kind, eval_fast_compile(ev, fn, loc) };
    // A compiled function is identified by its program; an interpreted one cannot be.
    pg_func f = { func_call, env, env->prog ? env->prog->hash : 0 };
    return f;
}
