// eval_fast.h: the fast path of .pg functions given to MapPE / WaveShapePE. A function of one
// number whose body is straight-line arithmetic (numbers, its parameter, locals assigned
// once in order, globals bound once to numbers, arithmetic / comparison / boolean operators,
// `a if c else b`, the math builtins and their np. / math. aliases) is compiled once
// (eval_fast.c) into a typed register program that eval_fast_run.c evaluates over blocks of
// doubles, one tight loop per operation, with the interpreter's results and error messages
// bit for bit. Lazy operators run under lane masks, so an untaken branch raises nothing.
#ifndef PG_COMPILER_EVAL_FAST_H
#define PG_COMPILER_EVAL_FAST_H

#include "value.h"

// Static types of registers. FT_FI holds a float or an int the interpreter would have (an
// exact small int, stored as its double); it is used only where both behave alike.
typedef enum fast_type {
    FT_F,  // float (double pool)
    FT_I,  // int (int64 pool)
    FT_B,  // bool, 0 or 1 (int64 pool)
    FT_FI, // float or exact int (double pool)
} fast_type;

typedef enum fast_code {
    // float x float -> float
    FC_ADD,
    FC_SUB,
    FC_MUL,
    FC_DIV,      // float division by zero
    FC_FLOORDIV, // float floor division by zero
    FC_MOD,      // float modulo by zero
    FC_POW,      // Python's float **
    FC_ATAN2,
    FC_HYPOT,
    FC_COPYSIGN,
    FC_FMOD,  // math.fmod
    FC_MPOW,  // math.pow
    FC_NPPOW, // np.power
    // int x int -> int (int64 overflow is an error, as in the interpreter)
    IC_ADD,
    IC_SUB,
    IC_MUL,
    IC_FLOORDIV,
    IC_MOD,
    IC_POW,    // b: a constant exponent >= 0
    IC_DIV,    // -> float
    IC_POWNEG, // b: a constant exponent < 0 -> float
    // comparisons -> bool; sub: the token kind (TK_LT ... TK_NE) index, see fast_cmp
    CC_FF,
    CC_II,
    CC_IF, // int a, float b (exact)
    CC_FI, // float a, int b (exact)
    // unary
    UC_FNEG,
    UC_INEG,
    UC_FABS,
    UC_IABS,
    UC_I2F,
    UC_FTRUTH, // -> bool
    UC_ITRUTH, // -> bool
    UC_NOT,    // bool -> bool
    UC_CALL,   // float -> float: sub indexes eval_fast_fns
    UC_TOINT,  // float -> int: sub is a fast_round
    UC_FTEST,  // float -> bool: sub 0 isnan, 1 isinf, 2 isfinite
    UC_SIGN,   // float -> int
    // masks, selection, clip
    MC_AND,    // bool a and bool b
    MC_ANDNOT, // bool a and not bool b
    SC_F,      // c ? a : b over the double pool
    SC_I,      // c ? a : b over the int pool
    XC_CLIP,   // np.clip(a, b, c) for a float a
    FC_COUNT
} fast_code;

// The comparison of CC_* ops (sub).
typedef enum fast_cmp {
    CMP_LT,
    CMP_LE,
    CMP_GT,
    CMP_GE,
    CMP_EQ,
    CMP_NE
} fast_cmp;

// The float -> int conversion of UC_TOINT (sub).
typedef enum fast_round {
    RND_FLOOR,
    RND_CEIL,
    RND_TRUNC, // math.trunc and int()
    RND_HALF_EVEN,
} fast_round;

// Error rules of a UC_CALL function.
typedef enum fast_err {
    FE_NONE,     // numpy: inf and nan come out as values
    FE_MATH,     // math: nan from non-nan is a domain error, inf from finite a domain error
    FE_MATH_OVF, // ... or a range error (functions that overflow)
    FE_LOG,      // math.log: x <= 0 is a domain error
    FE_POS,      // ftom: x must be > 0
} fast_err;

typedef struct fast_fn {
    const char *name; // for the hash (never the pointer, which differs between runs)
    double (*fn)(double);
    fast_err err;
} fast_fn;

extern const fast_fn eval_fast_fns[];
extern const int eval_fast_n_fns;

typedef struct fast_op {
    uint8_t code; // fast_code
    uint8_t sub;  // comparison, function index or rounding mode
    int16_t dst;  // registers
    int16_t a, b, c;
    int16_t mask;  // a bool register: the lanes the op runs in (errors count there); -1 all
    pg_srcloc loc; // where the interpreter would report its error
} fast_op;

typedef struct fast_reg {
    uint8_t type;  // fast_type
    bool is_const; // filled once per run with k
    int32_t slot;  // index in its pool: doubles for FT_F / FT_FI, int64 for FT_I / FT_B
    union {
        double f;
        int64_t i;
    } k;
} fast_reg;

typedef struct fast_prog {
    const fast_op *ops;
    int n_ops;
    const fast_reg *regs;
    int n_regs;
    int n_fslots, n_islots;
    int param, result; // registers
    const char *path;  // the source file, for error messages
    uint64_t hash;     // XXH3 of the operations and constants (locations excluded)
} fast_prog;

enum {
    FAST_MAX_REGS = 512, // larger functions stay with the interpreter
    FAST_CHUNK = 256,    // lanes evaluated per pass (registers stay in cache)
};

// The compiled form of fn, or NULL when it is outside the subset (then it is interpreted).
// loc is where the function is called from (a builtin's errors are reported there).
const fast_prog *eval_fast_compile(evaluator *ev, value fn, pg_srcloc loc);

// out[i] = f(in[i]) for i < n. On error returns its status (PG_ERR_ARG) with
// "file:line:col: message" in err, the interpreter's error for the first failing element.
// Thread-safe: p is read-only.
pg_status eval_fast_run(const fast_prog *p, const double *in, double *out, int64_t n, char *err,
                        size_t err_size);

// Runs op over len lanes of the pools (register r at pool + slot * stride). Returns the first
// lane where it fails (inside its mask), or -1.
int eval_fast_exec(const fast_prog *p, const fast_op *op, double *fp, int64_t *ip, int stride,
                   int len);
// The interpreter's message for op failing at lane `lane`.
void eval_fast_describe(const fast_prog *p, const fast_op *op, const double *fp, const int64_t *ip,
                        int stride, int lane, char *msg, size_t size);

#endif // PG_COMPILER_EVAL_FAST_H
