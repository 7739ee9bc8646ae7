// eval_fast_run.c: evaluates eval_fast's register programs over blocks of doubles. Each
// operation is one loop over the lanes of a chunk; it computes every lane (never trapping:
// divisions and conversions are guarded) and reports the first lane, inside its mask, where
// the interpreter would have raised. On any error the chunk is run again one lane at a time,
// so the error reported is the interpreter's: the first failing element, its first failing
// operation, with the same message. Nothing here allocates except the run's pools.
#include "eval_fast.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_PI 3.14159265358979323846

// ---- the function table of UC_CALL ----

static double identity(double x) {
    return x;
}

static double float32_of(double x) {
    return (double)(float)x;
}

// numpy's rint: halves to even (builtins_num.c's rint_half_even).
static double rint_half_even(double x) {
    double fl = floor(x), diff = x - fl;
    if (diff > 0.5 || (diff == 0.5 && fmod(fl, 2.0) != 0.0))
        return fl + 1.0;
    return fl;
}

// The music helpers, with the builtins' expressions in the same order.
static double db_to_ratio_1(double db) {
    return pow(10.0, db / 20.0);
}

static double ratio_to_db_1(double r) {
    const double ratio_min = 1.1754944e-38; // utils.RATIO_MIN
    return 20.0 * log10(r > ratio_min ? r : ratio_min);
}

static double ftom_1(double f) {
    return 69.0 + 12.0 * log(f / 440.0) / log(2.0);
}

static double exp2_pow(double x) {
    return pow(2.0, x);
}

static double degrees_1(double x) {
    return x * (180.0 / PG_PI);
}

static double radians_1(double x) {
    return x * (PG_PI / 180.0);
}

const fast_fn eval_fast_fns[] = {
    { "sin", sin, FE_MATH },
    { "cos", cos, FE_MATH },
    { "tan", tan, FE_MATH },
    { "asin", asin, FE_MATH },
    { "acos", acos, FE_MATH },
    { "atan", atan, FE_MATH },
    { "sinh", sinh, FE_MATH_OVF },
    { "cosh", cosh, FE_MATH_OVF },
    { "tanh", tanh, FE_MATH },
    { "asinh", asinh, FE_MATH },
    { "acosh", acosh, FE_MATH },
    { "atanh", atanh, FE_MATH },
    { "exp", exp, FE_MATH_OVF },
    { "expm1", expm1, FE_MATH_OVF },
    { "log2", log2, FE_MATH },
    { "log10", log10, FE_MATH },
    { "log1p", log1p, FE_MATH },
    { "sqrt", sqrt, FE_MATH },
    { "fabs", fabs, FE_MATH },
    { "log", log, FE_LOG },
    { "ftom", ftom_1, FE_POS },
    { "degrees", degrees_1, FE_NONE },
    { "radians", radians_1, FE_NONE },
    { "db_to_ratio", db_to_ratio_1, FE_NONE },
    { "ratio_to_db", ratio_to_db_1, FE_NONE },
    { "exp2", exp2_pow, FE_NONE },
    { "np.sin", sin, FE_NONE },
    { "np.cos", cos, FE_NONE },
    { "np.tan", tan, FE_NONE },
    { "np.arcsin", asin, FE_NONE },
    { "np.arccos", acos, FE_NONE },
    { "np.arctan", atan, FE_NONE },
    { "np.sinh", sinh, FE_NONE },
    { "np.cosh", cosh, FE_NONE },
    { "np.tanh", tanh, FE_NONE },
    { "np.exp", exp, FE_NONE },
    { "np.log", log, FE_NONE },
    { "np.log2", log2, FE_NONE },
    { "np.log10", log10, FE_NONE },
    { "np.sqrt", sqrt, FE_NONE },
    { "np.abs", fabs, FE_NONE },
    { "np.floor", floor, FE_NONE },
    { "np.ceil", ceil, FE_NONE },
    { "np.float64", identity, FE_NONE },
    { "np.float32", float32_of, FE_NONE },
    { "np.round", rint_half_even, FE_NONE },
};
const int eval_fast_n_fns = (int)(sizeof eval_fast_fns / sizeof eval_fast_fns[0]);

// ---- registers ----

typedef struct pools {
    double *fp;
    int64_t *ip;
    int stride; // lanes per register
} pools;

static double *freg(const fast_prog *p, const pools *pl, int r) {
    return pl->fp + (size_t)p->regs[r].slot * (size_t)pl->stride;
}

static int64_t *ireg(const fast_prog *p, const pools *pl, int r) {
    return pl->ip + (size_t)p->regs[r].slot * (size_t)pl->stride;
}

static bool in_double_pool(const fast_reg *r) {
    return r->type == FT_F || r->type == FT_FI;
}

// ---- scalar semantics shared by the kernels and the error messages ----

// Python's float ** (value_ops.c's float_pow): 0 ok, 1 zero to a negative power, 2 negative
// to a fractional power, 3 overflow.
static double py_pow(double x, double y, int *err) {
    *err = 0;
    if (y == 0.0)
        return 1.0;
    if (isnan(x))
        return x;
    if (isnan(y))
        return x == 1.0 ? 1.0 : y;
    if (x == 0.0 && y < 0.0 && isfinite(y))
        *err = 1;
    else if (x < 0.0 && isfinite(x) && isfinite(y) && y != floor(y))
        *err = 2;
    double r = pow(x, y);
    if (!*err && isinf(r) && isfinite(x) && isfinite(y))
        *err = 3;
    return r;
}

// math.fmod and math.pow (builtins_num.c): 0 ok, 1 domain error, 2 range error.
static double math_fmod(double x, double y, int *err) {
    *err = 0;
    if (isinf(y) && isfinite(x))
        return x;
    if ((y == 0.0 || isinf(x)) && !isnan(x) && !isnan(y)) {
        *err = 1;
        return 0.0;
    }
    return fmod(x, y);
}

static double math_pow(double x, double y, int *err) {
    double r = pow(x, y);
    *err = 0;
    if (isfinite(x) && isfinite(y)) {
        if (isnan(r))
            *err = 1;
        else if (isinf(r))
            *err = x == 0.0 ? 1 : 2;
    }
    return r;
}

// A UC_CALL's error: 0 ok, 1 domain error, 2 range error.
static int call_error(fast_err e, double x, double r) {
    switch (e) {
    case FE_NONE:
        return 0;
    case FE_MATH:
    case FE_MATH_OVF:
        if (isnan(r) && !isnan(x))
            return 1;
        if (isinf(r) && isfinite(x))
            return e == FE_MATH_OVF ? 2 : 1;
        return 0;
    case FE_LOG:
        return x <= 0.0 && !isnan(x) ? 1 : 0;
    case FE_POS:
        return !(x > 0.0) ? 1 : 0;
    }
    return 0;
}

// UC_TOINT's float before the int conversion; value_float_to_int's error: 0 ok, 1 NaN,
// 2 infinity, 3 out of the int64 range.
static double rounded(fast_round mode, double x) {
    switch (mode) {
    case RND_FLOOR:
        return floor(x);
    case RND_CEIL:
        return ceil(x);
    case RND_TRUNC:
        return x;
    case RND_HALF_EVEN:
        return isfinite(x) ? rint_half_even(x) : x;
    }
    return x;
}

static int to_int_error(double r) {
    if (isnan(r))
        return 1;
    if (isinf(r))
        return 2;
    double t = trunc(r);
    return t < -9223372036854775808.0 || t >= 9223372036854775808.0 ? 3 : 0;
}

// Exact int-float comparison (value.c's cmp_int_float); *unordered for NaN.
static int cmp_int_float(int64_t i, double d, bool *unordered) {
    *unordered = isnan(d);
    if (*unordered)
        return 0;
    if (d >= 9223372036854775808.0)
        return -1;
    if (d < -9223372036854775808.0)
        return 1;
    double t = trunc(d);
    int64_t ti = (int64_t)t;
    if (i != ti)
        return i < ti ? -1 : 1;
    return d > t ? -1 : (d < t ? 1 : 0);
}

static bool cmp_holds(fast_cmp op, int c, bool unordered) {
    switch (op) {
    case CMP_LT:
        return !unordered && c < 0;
    case CMP_LE:
        return !unordered && c <= 0;
    case CMP_GT:
        return !unordered && c > 0;
    case CMP_GE:
        return !unordered && c >= 0;
    case CMP_EQ:
        return !unordered && c == 0;
    case CMP_NE:
        return unordered || c != 0;
    }
    return false;
}

// Checked int64 arithmetic (value_ops.c's rules): false on overflow.
static bool add_ok(int64_t a, int64_t b) {
    return !((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b));
}

static bool sub_ok(int64_t a, int64_t b) {
    return !((b < 0 && a > INT64_MAX + b) || (b > 0 && a < INT64_MIN + b));
}

static bool mul_ok(int64_t a, int64_t b, int64_t *out) {
    *out = 0;
    if (a == 0 || b == 0)
        return true;
    uint64_t ua = a < 0 ? 0u - (uint64_t)a : (uint64_t)a;
    uint64_t ub = b < 0 ? 0u - (uint64_t)b : (uint64_t)b;
    bool neg = (a < 0) != (b < 0);
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    if (ua > limit / ub)
        return false;
    uint64_t prod = ua * ub;
    *out = neg ? (int64_t)(0u - prod) : (int64_t)prod;
    return true;
}

// a ** e for e >= 0 by squaring, as the interpreter multiplies (so it overflows alike).
static bool ipow_ok(int64_t a, int64_t e, int64_t *out) {
    int64_t result = 1, base = a;
    while (e > 0) {
        if ((e & 1) && !mul_ok(result, base, &result))
            return false;
        e >>= 1;
        if (e > 0 && !mul_ok(base, base, &base))
            return false;
    }
    *out = result;
    return true;
}

// Python's float floor division and modulo for y != 0 (value_ops.c).
static double py_floordiv(double x, double y) {
    double q, m;
    value_float_divmod(x, y, &q, &m);
    return q;
}

static double py_mod(double x, double y) {
    double q, m;
    value_float_divmod(x, y, &q, &m);
    return m;
}

// ---- kernels: each returns the first failing lane inside the mask m (NULL: all), or -1 ----

#define ON(i) (!m || m[i])

static int float_checked(fast_code code, const double *a, const double *b, double *o,
                         const int64_t *m, int len) {
    int bad = -1;
    for (int i = 0; i < len; i++) {
        double x = a[i], y = b[i], r = 0.0;
        int err = 0;
        switch (code) {
        case FC_DIV:
            err = y == 0.0;
            r = err ? 0.0 : x / y;
            break;
        case FC_FLOORDIV:
            err = y == 0.0;
            r = err ? 0.0 : py_floordiv(x, y);
            break;
        case FC_MOD:
            err = y == 0.0;
            r = err ? 0.0 : py_mod(x, y);
            break;
        case FC_POW:
            r = py_pow(x, y, &err);
            break;
        case FC_FMOD:
            r = math_fmod(x, y, &err);
            break;
        default: // FC_MPOW
            r = math_pow(x, y, &err);
            break;
        }
        o[i] = r;
        if (err && bad < 0 && ON(i))
            bad = i;
    }
    return bad;
}

static int float_binary(fast_code code, const double *a, const double *b, double *o,
                        const int64_t *m, int len) {
    switch (code) {
    case FC_ADD:
        for (int i = 0; i < len; i++)
            o[i] = a[i] + b[i];
        return -1;
    case FC_SUB:
        for (int i = 0; i < len; i++)
            o[i] = a[i] - b[i];
        return -1;
    case FC_MUL:
        for (int i = 0; i < len; i++)
            o[i] = a[i] * b[i];
        return -1;
    case FC_ATAN2:
        for (int i = 0; i < len; i++)
            o[i] = atan2(a[i], b[i]);
        return -1;
    case FC_HYPOT:
        for (int i = 0; i < len; i++)
            o[i] = hypot(a[i], b[i]);
        return -1;
    case FC_COPYSIGN:
        for (int i = 0; i < len; i++)
            o[i] = copysign(a[i], b[i]);
        return -1;
    case FC_NPPOW:
        for (int i = 0; i < len; i++)
            o[i] = pow(a[i], b[i]);
        return -1;
    default:
        return float_checked(code, a, b, o, m, len);
    }
}

// One lane of an int operation: false when the interpreter raises.
static bool int_lane(fast_code code, int64_t x, int64_t y, int64_t *r) {
    *r = 0;
    switch (code) {
    case IC_ADD:
        if (!add_ok(x, y))
            return false;
        *r = x + y;
        return true;
    case IC_SUB:
        if (!sub_ok(x, y))
            return false;
        *r = x - y;
        return true;
    case IC_MUL:
        return mul_ok(x, y, r);
    case IC_FLOORDIV:
        if (y == 0 || (x == INT64_MIN && y == -1))
            return false;
        *r = x / y - ((x % y != 0) && ((x < 0) != (y < 0)));
        return true;
    case IC_MOD:
        if (y == 0)
            return false;
        *r = y == -1 ? 0 : x % y;
        if (*r != 0 && ((*r < 0) != (y < 0)))
            *r += y;
        return true;
    default: // IC_POW
        return ipow_ok(x, y, r);
    }
}

static int int_binary(fast_code code, const int64_t *a, const int64_t *b, int64_t *o,
                      const int64_t *m, int len) {
    int bad = -1;
    if (code == IC_ADD && !m) { // the common case: one check per lane, no branches out
        for (int i = 0; i < len; i++) {
            bool ok = add_ok(a[i], b[i]);
            o[i] = ok ? a[i] + b[i] : 0;
            if (!ok && bad < 0)
                bad = i;
        }
        return bad;
    }
    for (int i = 0; i < len; i++)
        if (!int_lane(code, a[i], b[i], &o[i]) && bad < 0 && ON(i))
            bad = i;
    return bad;
}

// int / int and int ** negative int: float results.
static int int_to_float(fast_code code, const int64_t *a, const int64_t *b, double *o,
                        const int64_t *m, int len) {
    int bad = -1;
    for (int i = 0; i < len; i++) {
        bool err = code == IC_DIV ? b[i] == 0 : a[i] == 0;
        if (err)
            o[i] = 0.0;
        else if (code == IC_DIV)
            o[i] = (double)a[i] / (double)b[i];
        else
            o[i] = pow((double)a[i], (double)b[i]);
        if (err && bad < 0 && ON(i))
            bad = i;
    }
    return bad;
}

static void compare_ff(fast_cmp op, const double *a, const double *b, int64_t *o, int len) {
    switch (op) {
    case CMP_LT:
        for (int i = 0; i < len; i++)
            o[i] = a[i] < b[i];
        return;
    case CMP_LE:
        for (int i = 0; i < len; i++)
            o[i] = a[i] <= b[i];
        return;
    case CMP_GT:
        for (int i = 0; i < len; i++)
            o[i] = a[i] > b[i];
        return;
    case CMP_GE:
        for (int i = 0; i < len; i++)
            o[i] = a[i] >= b[i];
        return;
    case CMP_EQ:
        for (int i = 0; i < len; i++)
            o[i] = a[i] == b[i];
        return;
    case CMP_NE:
        for (int i = 0; i < len; i++)
            o[i] = a[i] != b[i];
        return;
    }
}

static void compare_ii(fast_cmp op, const int64_t *a, const int64_t *b, int64_t *o, int len) {
    for (int i = 0; i < len; i++) {
        int c = a[i] < b[i] ? -1 : (a[i] > b[i] ? 1 : 0);
        o[i] = cmp_holds(op, c, false);
    }
}

// int a against float b, or (flip) float a against int b.
static void compare_if(fast_cmp op, const int64_t *a, const double *b, bool flip, int64_t *o,
                       int len) {
    for (int i = 0; i < len; i++) {
        bool unordered;
        int c = cmp_int_float(a[i], b[i], &unordered);
        o[i] = cmp_holds(op, flip ? -c : c, unordered);
    }
}

static int call_fn(int fi, const double *a, double *o, const int64_t *m, int len) {
    const fast_fn *f = &eval_fast_fns[fi];
    int bad = -1;
    for (int i = 0; i < len; i++)
        o[i] = f->fn(a[i]);
    if (f->err == FE_NONE)
        return -1;
    for (int i = 0; i < len && bad < 0; i++)
        if (ON(i) && call_error(f->err, a[i], o[i]))
            bad = i;
    return bad;
}

static int to_int(fast_round mode, const double *a, int64_t *o, const int64_t *m, int len) {
    int bad = -1;
    for (int i = 0; i < len; i++) {
        double r = rounded(mode, a[i]);
        bool err = to_int_error(r) != 0;
        o[i] = err ? 0 : (int64_t)trunc(r);
        if (err && bad < 0 && ON(i))
            bad = i;
    }
    return bad;
}

static int int_unary(fast_code code, const int64_t *a, int64_t *o, const int64_t *m, int len) {
    int bad = -1;
    for (int i = 0; i < len; i++) {
        int64_t x = a[i];
        if (code == UC_ITRUTH) {
            o[i] = x != 0;
        } else if (code == UC_NOT) {
            o[i] = x == 0;
        } else if (x == INT64_MIN) { // UC_INEG, UC_IABS
            o[i] = 0;
            if (bad < 0 && ON(i))
                bad = i;
        } else {
            o[i] = code == UC_INEG || x < 0 ? -x : x;
        }
    }
    return bad;
}

static void float_unary(fast_code code, int sub, const double *a, double *fo, int64_t *io,
                        int len) {
    for (int i = 0; i < len; i++) {
        double x = a[i];
        switch (code) {
        case UC_FNEG:
            fo[i] = -x;
            break;
        case UC_FABS:
            fo[i] = fabs(x);
            break;
        case UC_FTRUTH:
            io[i] = x != 0.0;
            break;
        case UC_SIGN:
            io[i] = x < 0 ? -1 : (x > 0 ? 1 : 0);
            break;
        default: // UC_FTEST
            io[i] = (sub == 0 ? isnan(x) : (sub == 1 ? isinf(x) : isfinite(x))) != 0;
            break;
        }
    }
}

static void select_f(const int64_t *c, const double *a, const double *b, double *o, int len) {
    for (int i = 0; i < len; i++)
        o[i] = c[i] ? a[i] : b[i];
}

static void select_i(const int64_t *c, const int64_t *a, const int64_t *b, int64_t *o, int len) {
    for (int i = 0; i < len; i++)
        o[i] = c[i] ? a[i] : b[i];
}

static void mask_and(bool negate_b, const int64_t *a, const int64_t *b, int64_t *o, int len) {
    for (int i = 0; i < len; i++)
        o[i] = a[i] & (negate_b ? !b[i] : b[i]);
}

static void clip(const double *a, const double *lo, const double *hi, double *o, int len) {
    for (int i = 0; i < len; i++)
        o[i] = a[i] < lo[i] ? lo[i] : (a[i] > hi[i] ? hi[i] : a[i]);
}

// ---- dispatch ----

static int exec_float(const fast_prog *p, const fast_op *op, const pools *pl, const int64_t *m,
                      int len) {
    double *a = freg(p, pl, op->a);
    switch ((fast_code)op->code) {
    case UC_CALL:
        return call_fn(op->sub, a, freg(p, pl, op->dst), m, len);
    case UC_TOINT:
        return to_int((fast_round)op->sub, a, ireg(p, pl, op->dst), m, len);
    case UC_FNEG:
    case UC_FABS:
        float_unary((fast_code)op->code, op->sub, a, freg(p, pl, op->dst), NULL, len);
        return -1;
    case UC_FTRUTH:
    case UC_FTEST:
    case UC_SIGN:
        float_unary((fast_code)op->code, op->sub, a, NULL, ireg(p, pl, op->dst), len);
        return -1;
    case XC_CLIP:
        clip(a, freg(p, pl, op->b), freg(p, pl, op->c), freg(p, pl, op->dst), len);
        return -1;
    case CC_FI:
        compare_if((fast_cmp)op->sub, ireg(p, pl, op->b), a, true, ireg(p, pl, op->dst), len);
        return -1;
    case CC_FF:
        compare_ff((fast_cmp)op->sub, a, freg(p, pl, op->b), ireg(p, pl, op->dst), len);
        return -1;
    default:
        return float_binary((fast_code)op->code, a, freg(p, pl, op->b), freg(p, pl, op->dst), m,
                            len);
    }
}

static int exec_int(const fast_prog *p, const fast_op *op, const pools *pl, const int64_t *m,
                    int len) {
    int64_t *a = ireg(p, pl, op->a);
    switch ((fast_code)op->code) {
    case IC_DIV:
    case IC_POWNEG:
        return int_to_float((fast_code)op->code, a, ireg(p, pl, op->b), freg(p, pl, op->dst), m,
                            len);
    case UC_INEG:
    case UC_IABS:
    case UC_ITRUTH:
    case UC_NOT:
        return int_unary((fast_code)op->code, a, ireg(p, pl, op->dst), m, len);
    case UC_I2F: {
        double *o = freg(p, pl, op->dst);
        for (int i = 0; i < len; i++)
            o[i] = (double)a[i];
        return -1;
    }
    case CC_II:
        compare_ii((fast_cmp)op->sub, a, ireg(p, pl, op->b), ireg(p, pl, op->dst), len);
        return -1;
    case CC_IF:
        compare_if((fast_cmp)op->sub, a, freg(p, pl, op->b), false, ireg(p, pl, op->dst), len);
        return -1;
    case MC_AND:
    case MC_ANDNOT:
        mask_and(op->code == MC_ANDNOT, a, ireg(p, pl, op->b), ireg(p, pl, op->dst), len);
        return -1;
    default:
        return int_binary((fast_code)op->code, a, ireg(p, pl, op->b), ireg(p, pl, op->dst), m, len);
    }
}

// Whether op's first operand is in the int pool (the kernels above dispatch on it).
static bool reads_int(const fast_op *op) {
    switch ((fast_code)op->code) {
    case IC_ADD:
    case IC_SUB:
    case IC_MUL:
    case IC_FLOORDIV:
    case IC_MOD:
    case IC_POW:
    case IC_DIV:
    case IC_POWNEG:
    case CC_II:
    case CC_IF:
    case UC_INEG:
    case UC_IABS:
    case UC_I2F:
    case UC_ITRUTH:
    case UC_NOT:
    case MC_AND:
    case MC_ANDNOT:
        return true;
    default:
        return false;
    }
}

int eval_fast_exec(const fast_prog *p, const fast_op *op, double *fp, int64_t *ip, int stride,
                   int len) {
    pools pl = { fp, ip, stride };
    const int64_t *m = op->mask >= 0 ? ireg(p, &pl, op->mask) : NULL;
    if (op->code == SC_F || op->code == SC_I) {
        const int64_t *c = ireg(p, &pl, op->c);
        if (op->code == SC_F)
            select_f(c, freg(p, &pl, op->a), freg(p, &pl, op->b), freg(p, &pl, op->dst), len);
        else
            select_i(c, ireg(p, &pl, op->a), ireg(p, &pl, op->b), ireg(p, &pl, op->dst), len);
        return -1;
    }
    return reads_int(op) ? exec_int(p, op, &pl, m, len) : exec_float(p, op, &pl, m, len);
}

// ---- error messages (the interpreter's words) ----

static const char overflow_msg[] = "integer overflow (results must fit in 64 bits)";

static void describe_float(const fast_op *op, double x, double y, char *msg, size_t size) {
    int err = 0;
    switch ((fast_code)op->code) {
    case FC_DIV:
        snprintf(msg, size, "float division by zero");
        return;
    case FC_FLOORDIV:
        snprintf(msg, size, "float floor division by zero");
        return;
    case FC_MOD:
        snprintf(msg, size, "float modulo by zero");
        return;
    case FC_POW:
        py_pow(x, y, &err);
        if (err == 1)
            snprintf(msg, size, "0.0 cannot be raised to a negative power");
        else if (err == 2)
            snprintf(msg, size, "negative number cannot be raised to a fractional power (%g ** %g)",
                     x, y);
        else
            snprintf(msg, size, "numerical result out of range (%g ** %g)", x, y);
        return;
    case FC_FMOD:
        snprintf(msg, size, "math domain error");
        return;
    default: // FC_MPOW
        math_pow(x, y, &err);
        snprintf(msg, size, "%s", err == 2 ? "math range error" : "math domain error");
        return;
    }
}

static void describe_to_int(const fast_op *op, double x, char *msg, size_t size) {
    double r = rounded((fast_round)op->sub, x);
    int err = to_int_error(r);
    if (err == 1)
        snprintf(msg, size, "cannot convert float NaN to integer");
    else if (err == 2)
        snprintf(msg, size, "cannot convert float infinity to integer");
    else
        snprintf(msg, size, "integer overflow: %g does not fit in 64 bits", r);
}

static void describe_int(const fast_op *op, int64_t y, char *msg, size_t size) {
    switch ((fast_code)op->code) {
    case IC_FLOORDIV:
    case IC_MOD:
        snprintf(msg, size, "%s", y == 0 ? "integer division or modulo by zero" : overflow_msg);
        return;
    case IC_DIV:
        snprintf(msg, size, "division by zero");
        return;
    case IC_POWNEG:
        snprintf(msg, size, "0.0 cannot be raised to a negative power");
        return;
    default: // overflow of + - * ** and unary - / abs
        snprintf(msg, size, "%s", overflow_msg);
        return;
    }
}

void eval_fast_describe(const fast_prog *p, const fast_op *op, const double *fp, const int64_t *ip,
                        int stride, int lane, char *msg, size_t size) {
    pools pl = { (double *)fp, (int64_t *)ip, stride };
    bool unary = op->b < 0;
    if (op->code == UC_CALL) {
        double x = freg(p, &pl, op->a)[lane];
        const fast_fn *f = &eval_fast_fns[op->sub];
        int err = call_error(f->err, x, f->fn(x));
        snprintf(msg, size, "%s", err == 2 ? "math range error" : "math domain error");
    } else if (op->code == UC_TOINT) {
        describe_to_int(op, freg(p, &pl, op->a)[lane], msg, size);
    } else if (reads_int(op)) {
        describe_int(op, unary ? 0 : ireg(p, &pl, op->b)[lane], msg, size);
    } else {
        describe_float(op, freg(p, &pl, op->a)[lane], unary ? 0.0 : freg(p, &pl, op->b)[lane], msg,
                       size);
    }
}

// ---- running a program ----

static void fill_constants(const fast_prog *p, const pools *pl) {
    for (int r = 0; r < p->n_regs; r++) {
        const fast_reg *g = &p->regs[r];
        if (!g->is_const)
            continue;
        if (in_double_pool(g)) {
            double *x = freg(p, pl, r);
            for (int i = 0; i < pl->stride; i++)
                x[i] = g->k.f;
        } else {
            int64_t *x = ireg(p, pl, r);
            for (int i = 0; i < pl->stride; i++)
                x[i] = g->k.i;
        }
    }
}

// Runs every op over len lanes; the index of the first op that failed, or -1.
static int run_ops(const fast_prog *p, const pools *pl, int len) {
    for (int k = 0; k < p->n_ops; k++)
        if (eval_fast_exec(p, &p->ops[k], pl->fp, pl->ip, pl->stride, len) >= 0)
            return k;
    return -1;
}

static bool pools_new(const fast_prog *p, int stride, pools *pl) {
    pl->stride = stride;
    pl->fp = malloc(sizeof(double) * (size_t)(p->n_fslots + 1) * (size_t)stride);
    pl->ip = malloc(sizeof(int64_t) * (size_t)(p->n_islots + 1) * (size_t)stride);
    if (pl->fp && pl->ip) {
        fill_constants(p, pl);
        return true;
    }
    free(pl->fp);
    free(pl->ip);
    return false;
}

static void pools_free(pools *pl) {
    free(pl->fp);
    free(pl->ip);
}

// The interpreter's error among in[0..n), one element at a time: the first failing element
// and, in it, the first failing operation.
static pg_status first_error(const fast_prog *p, const double *in, int n, char *err,
                             size_t err_size) {
    pools one;
    if (!pools_new(p, 1, &one)) {
        snprintf(err, err_size, "out of memory");
        return PG_ERR_NOMEM;
    }
    for (int j = 0; j < n; j++) {
        freg(p, &one, p->param)[0] = in[j];
        for (int k = 0; k < p->n_ops; k++) {
            const fast_op *op = &p->ops[k];
            if (eval_fast_exec(p, op, one.fp, one.ip, 1, 1) < 0)
                continue;
            char msg[400];
            eval_fast_describe(p, op, one.fp, one.ip, 1, 0, msg, sizeof msg);
            snprintf(err, err_size, "%s:%d:%d: %s", p->path, op->loc.line, op->loc.col, msg);
            pools_free(&one);
            return PG_ERR_ARG;
        }
    }
    pools_free(&one);
    snprintf(err, err_size, "internal error: a compiled .pg function failed without a cause");
    return PG_ERR_INTERNAL;
}

static void store_result(const fast_prog *p, const pools *pl, double *out, int len) {
    if (in_double_pool(&p->regs[p->result])) {
        memcpy(out, freg(p, pl, p->result), sizeof(double) * (size_t)len);
        return;
    }
    const int64_t *r = ireg(p, pl, p->result);
    for (int i = 0; i < len; i++)
        out[i] = (double)r[i];
}

pg_status eval_fast_run(const fast_prog *p, const double *in, double *out, int64_t n, char *err,
                        size_t err_size) {
    pools pl;
    if (!pools_new(p, FAST_CHUNK, &pl)) {
        snprintf(err, err_size, "out of memory");
        return PG_ERR_NOMEM;
    }
    pg_status st = PG_OK;
    double *x = freg(p, &pl, p->param);
    for (int64_t start = 0; start < n && st == PG_OK; start += FAST_CHUNK) {
        int len = n - start < FAST_CHUNK ? (int)(n - start) : FAST_CHUNK;
        memcpy(x, in + start, sizeof(double) * (size_t)len);
        if (run_ops(p, &pl, len) >= 0)
            st = first_error(p, in + start, len, err, err_size);
        else
            store_result(p, &pl, out + start, len);
    }
    pools_free(&pl);
    return st;
}
