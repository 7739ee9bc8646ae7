// builtins_num.c: the numeric part of the .pg builtins (see builtins.h): Python's math
// module, the music helpers of pygmu's utils.py (pitch_to_freq with its Just and Renold
// tables, mtof, db_to_ratio, ...), CPython's random functions over prng.c, and the numpy
// look-alikes ported pieces use (np.linspace, np.arange, np.clip, np.random.seed, ...).
#include "builtins.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lex.h"

#define PG_PI 3.14159265358979323846

#define BUILTIN(id, pyname)                                                                        \
    static value bi_##id(evaluator *ev, const call_args *c);                                       \
    static const builtin B_##id = { pyname, bi_##id };

static bool given(value v) {
    return v.t != VT_UNBOUND;
}

// ---- math ----

// Python's math-module error rules: a NaN from a non-NaN argument is a domain error, an
// infinity from finite arguments a range error (for the functions that can overflow) or a
// domain error (log(0), atanh(1), ...).
static value math_result(evaluator *ev, double r, double x, bool can_overflow, pg_srcloc loc) {
    if (isnan(r) && !isnan(x))
        eval_error(ev, loc, PG_ERR_ARG, "math domain error");
    if (isinf(r) && isfinite(x))
        eval_error(ev, loc, PG_ERR_ARG, can_overflow ? "math range error" : "math domain error");
    return value_float(r);
}

static value math1(evaluator *ev, const call_args *c, const char *fname, double (*fn)(double),
                   bool can_overflow) {
    builtins_want_args(ev, c, fname, 1, 1);
    double x = builtins_num(ev, c->args[0], fname, c->loc);
    return math_result(ev, fn(x), x, can_overflow, c->loc);
}

#define MATH1(id, fn, ovf)                                                                         \
    BUILTIN(id, #id)                                                                               \
    static value bi_##id(evaluator *ev, const call_args *c) {                                      \
        return math1(ev, c, #id, fn, ovf);                                                         \
    }

MATH1(sin, sin, false)
MATH1(cos, cos, false)
MATH1(tan, tan, false)
MATH1(asin, asin, false)
MATH1(acos, acos, false)
MATH1(atan, atan, false)
MATH1(sinh, sinh, true)
MATH1(cosh, cosh, true)
MATH1(tanh, tanh, false)
MATH1(asinh, asinh, false)
MATH1(acosh, acosh, false)
MATH1(atanh, atanh, false)
MATH1(exp, exp, true)
MATH1(expm1, expm1, true)
MATH1(log2, log2, false)
MATH1(log10, log10, false)
MATH1(log1p, log1p, false)
MATH1(sqrt, sqrt, false)
MATH1(fabs, fabs, false)

BUILTIN(log, "log")
static value bi_log(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "log", 1, 2);
    double x = builtins_num(ev, c->args[0], "log", c->loc);
    if (x <= 0.0 && !isnan(x))
        eval_error(ev, c->loc, PG_ERR_ARG, "math domain error");
    double num = log(x);
    if (c->n == 1)
        return value_float(num);
    double b = builtins_num(ev, c->args[1], "log", c->loc);
    if (b <= 0.0 && !isnan(b))
        eval_error(ev, c->loc, PG_ERR_ARG, "math domain error");
    double den = log(b);
    if (den == 0.0)
        eval_error(ev, c->loc, PG_ERR_ARG, "float division by zero");
    return value_float(num / den);
}

BUILTIN(atan2, "atan2")
static value bi_atan2(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "atan2", 2, 2);
    return value_float(atan2(builtins_num(ev, c->args[0], "atan2", c->loc),
                             builtins_num(ev, c->args[1], "atan2", c->loc)));
}

static value round_to_int(evaluator *ev, const call_args *c, const char *fname,
                          double (*fn)(double)) {
    builtins_want_args(ev, c, fname, 1, 1);
    value x = c->args[0];
    if (value_is_intlike(x))
        return value_int(x.u.i);
    double d = builtins_num(ev, x, fname, c->loc);
    return value_int(value_float_to_int(ev, fn(d), c->loc));
}

BUILTIN(floor, "floor")
static value bi_floor(evaluator *ev, const call_args *c) {
    return round_to_int(ev, c, "floor", floor);
}

BUILTIN(ceil, "ceil")
static value bi_ceil(evaluator *ev, const call_args *c) {
    return round_to_int(ev, c, "ceil", ceil);
}

BUILTIN(trunc, "trunc")
static value bi_trunc(evaluator *ev, const call_args *c) {
    return round_to_int(ev, c, "trunc", trunc);
}

BUILTIN(fmod, "fmod")
static value bi_fmod(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "fmod", 2, 2);
    double x = builtins_num(ev, c->args[0], "fmod", c->loc);
    double y = builtins_num(ev, c->args[1], "fmod", c->loc);
    if (isinf(y) && isfinite(x))
        return value_float(x);
    if ((y == 0.0 || isinf(x)) && !isnan(x) && !isnan(y))
        eval_error(ev, c->loc, PG_ERR_ARG, "math domain error");
    return value_float(fmod(x, y));
}

BUILTIN(hypot, "hypot")
static value bi_hypot(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "hypot", 0, 64);
    if (c->n == 2)
        return value_float(hypot(builtins_num(ev, c->args[0], "hypot", c->loc),
                                 builtins_num(ev, c->args[1], "hypot", c->loc)));
    double acc = 0.0;
    for (int i = 0; i < c->n; i++)
        acc = hypot(acc, builtins_num(ev, c->args[i], "hypot", c->loc));
    return value_float(acc);
}

BUILTIN(degrees, "degrees")
static value bi_degrees(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "degrees", 1, 1);
    return value_float(builtins_num(ev, c->args[0], "degrees", c->loc) * (180.0 / PG_PI));
}

BUILTIN(radians, "radians")
static value bi_radians(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "radians", 1, 1);
    return value_float(builtins_num(ev, c->args[0], "radians", c->loc) * (PG_PI / 180.0));
}

BUILTIN(isclose, "isclose")
static value bi_isclose(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "a", "b", "rel_tol", "abs_tol" };
    value v[4];
    builtins_bind(ev, c, "isclose", names, 4, 2, v);
    double a = builtins_num(ev, v[0], "isclose", c->loc),
           b = builtins_num(ev, v[1], "isclose", c->loc);
    double rel = given(v[2]) ? builtins_num(ev, v[2], "isclose", c->loc) : 1e-09;
    double abs_tol = given(v[3]) ? builtins_num(ev, v[3], "isclose", c->loc) : 0.0;
    if (rel < 0.0 || abs_tol < 0.0)
        eval_error(ev, c->loc, PG_ERR_ARG, "tolerances must be non-negative");
    if (a == b)
        return value_bool(true);
    if (isinf(a) || isinf(b))
        return value_bool(false);
    double diff = fabs(b - a);
    return value_bool(diff <= fabs(rel * b) || diff <= fabs(rel * a) || diff <= abs_tol);
}

BUILTIN(copysign, "copysign")
static value bi_copysign(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "copysign", 2, 2);
    return value_float(copysign(builtins_num(ev, c->args[0], "copysign", c->loc),
                                builtins_num(ev, c->args[1], "copysign", c->loc)));
}

BUILTIN(gcd, "gcd")
static value bi_gcd(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "gcd", 0, 64);
    uint64_t g = 0;
    for (int i = 0; i < c->n; i++) {
        int64_t x = builtins_int(ev, c->args[i], "gcd()", c->loc);
        uint64_t b = x < 0 ? 0u - (uint64_t)x : (uint64_t)x;
        while (b) {
            uint64_t t = g % b;
            g = b;
            b = t;
        }
    }
    if (g > (uint64_t)INT64_MAX)
        eval_error(ev, c->loc, PG_ERR_ARG, "integer overflow (results must fit in 64 bits)");
    return value_int((int64_t)g);
}

static value float_test(evaluator *ev, const call_args *c, const char *fname, int which) {
    builtins_want_args(ev, c, fname, 1, 1);
    double x = builtins_num(ev, c->args[0], fname, c->loc);
    return value_bool(which == 0 ? isnan(x) : which == 1 ? isinf(x) : isfinite(x));
}

BUILTIN(isnan, "isnan")
static value bi_isnan(evaluator *ev, const call_args *c) {
    return float_test(ev, c, "isnan", 0);
}

BUILTIN(isinf, "isinf")
static value bi_isinf(evaluator *ev, const call_args *c) {
    return float_test(ev, c, "isinf", 1);
}

BUILTIN(isfinite, "isfinite")
static value bi_isfinite(evaluator *ev, const call_args *c) {
    return float_test(ev, c, "isfinite", 2);
}

BUILTIN(factorial, "factorial")
static value bi_factorial(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "factorial", 1, 1);
    int64_t n = builtins_int(ev, c->args[0], "factorial()", c->loc);
    if (n < 0)
        eval_error(ev, c->loc, PG_ERR_ARG, "factorial() not defined for negative values");
    value r = value_int(1);
    for (int64_t i = 2; i <= n; i++)
        r = value_binop(ev, TK_STAR, r, value_int(i), c->loc);
    return r;
}

// math.pow: always a float, with the math module's errors.
BUILTIN(math_pow, "pow")
static value bi_math_pow(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "pow", 2, 2);
    double x = builtins_num(ev, c->args[0], "pow", c->loc);
    double y = builtins_num(ev, c->args[1], "pow", c->loc);
    double r = pow(x, y);
    if (isfinite(x) && isfinite(y)) {
        if (isnan(r))
            eval_error(ev, c->loc, PG_ERR_ARG, "math domain error");
        if (isinf(r))
            eval_error(ev, c->loc, PG_ERR_ARG, x == 0.0 ? "math domain error" : "math range error");
    }
    return value_float(r);
}

// ---- music helpers (pygmu's utils.py) ----

static const double renold_cents[12] = { 0, 1.914023, 3.6104998, 6.244825, 8.033583, -1.8587259,
                                         0, 1.804308, 3.829694,  6.021689, 7.952746, 9.64478287 };
static const double just_cents[12] = { 0,      11.73, 3.91,  15.64,  -13.69, -1.96,
                                       -17.49, 1.96,  13.69, -15.64, -3.91,  -11.73 };
static const double ratio_min = 1.1754944e-38; // utils.RATIO_MIN (float32's smallest normal)

// utils.freq_to_nearest_*_freq: the nearest step of a tempered scale based on C0.
static double nearest_tempered(evaluator *ev, double f, double a_hz, const double *cents,
                               pg_srcloc loc) {
    double c0 = a_hz * pow(2.0, -4.75);
    double raw = 12.0 * log2(f / c0);
    int64_t steps = value_round_half_even(ev, raw, loc);
    int64_t pc = ((steps % 12) + 12) % 12;
    double bent = (double)steps + cents[pc] / 100.0;
    return c0 * pow(2.0, bent / 12.0);
}

static value nearest_freq(evaluator *ev, const call_args *c, const char *fname, double a_default,
                          const double *cents) {
    static const char *const names[] = { "frequency", "a_hz" };
    value a[2];
    builtins_bind(ev, c, fname, names, 2, 1, a);
    double f = builtins_num(ev, a[0], fname, c->loc);
    double a_hz = given(a[1]) ? builtins_num(ev, a[1], fname, c->loc) : a_default;
    return value_float(nearest_tempered(ev, f, a_hz, cents, c->loc));
}

BUILTIN(just_freq, "freq_to_nearest_just_freq")
static value bi_just_freq(evaluator *ev, const call_args *c) {
    return nearest_freq(ev, c, "freq_to_nearest_just_freq", 440.0, just_cents);
}

BUILTIN(renold_freq, "freq_to_nearest_renold_freq")
static value bi_renold_freq(evaluator *ev, const call_args *c) {
    return nearest_freq(ev, c, "freq_to_nearest_renold_freq", 432.0, renold_cents);
}

BUILTIN(pitch_to_freq, "pitch_to_freq")
static value bi_pitch_to_freq(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "note", "tuning_system", "a_hz" };
    value a[3];
    builtins_bind(ev, c, "pitch_to_freq", names, 3, 1, a);
    value steps = value_binop(ev, TK_MINUS, a[0], value_int(69), c->loc);
    double a_hz = given(a[2]) ? builtins_num(ev, a[2], "pitch_to_freq", c->loc) : 440.0;
    double et = a_hz * pow(2.0, builtins_num(ev, steps, "pitch_to_freq", c->loc) / 12.0);
    const char *sys = "12TET";
    if (given(a[1])) {
        if (a[1].t != VT_STR)
            eval_error(ev, c->loc, PG_ERR_ARG, "pitch_to_freq(): tuning_system must be a str");
        sys = a[1].u.s->data;
    }
    if (strcmp(sys, "Renold") == 0)
        return value_float(nearest_tempered(ev, et, a_hz, renold_cents, c->loc));
    if (strcmp(sys, "Just") == 0)
        return value_float(nearest_tempered(ev, et, a_hz, just_cents, c->loc));
    if (strcmp(sys, "12TET") != 0 && strcmp(sys, "833") != 0)
        if (ev->s->print_to) // pygmu prints this line: it is the piece's output
            fprintf(ev->s->print_to, "Unknown tuning system. %s  - sticking with 12TET.\n", sys);
    return value_float(et);
}

BUILTIN(mtof, "mtof")
static value bi_mtof(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "mtof", 1, 1);
    value d =
        value_binop(ev, TK_SLASH, value_binop(ev, TK_MINUS, c->args[0], value_int(69), c->loc),
                    value_int(12), c->loc);
    return value_float(440.0 * pow(2.0, value_as_double(d)));
}

BUILTIN(ftom, "ftom")
static value bi_ftom(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "ftom", 1, 1);
    double f = builtins_num(ev, c->args[0], "ftom", c->loc);
    if (!(f > 0.0))
        eval_error(ev, c->loc, PG_ERR_ARG, "math domain error");
    return value_float(69.0 + 12.0 * log(f / 440.0) / log(2.0));
}

BUILTIN(freq_to_pitch, "freq_to_pitch")
static value bi_freq_to_pitch(evaluator *ev, const call_args *c) {
    return bi_ftom(ev, c);
}

// Applies fn to a number, or to each element of a (nested) list, as numpy would.
static value map_num(evaluator *ev, value x, double (*fn)(double), const char *fname,
                     pg_srcloc loc) {
    if (x.t == VT_LIST || x.t == VT_TUPLE || x.t == VT_RANGE) {
        value items = builtins_list_of(ev, x, loc);
        value out = value_list(ev, items.u.l->n);
        value_enter(ev, loc);
        for (int64_t i = 0; i < items.u.l->n; i++)
            out.u.l->items[i] = map_num(ev, items.u.l->items[i], fn, fname, loc);
        value_leave(ev);
        out.u.l->n = items.u.l->n;
        return out;
    }
    return value_float(fn(builtins_num(ev, x, fname, loc)));
}

static double db_to_ratio_1(double db) {
    return pow(10.0, db / 20.0);
}

static double ratio_to_db_1(double r) {
    return 20.0 * log10(r > ratio_min ? r : ratio_min);
}

BUILTIN(db_to_ratio, "db_to_ratio")
static value bi_db_to_ratio(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "db_to_ratio", 1, 1);
    return map_num(ev, c->args[0], db_to_ratio_1, "db_to_ratio", c->loc);
}

BUILTIN(ratio_to_db, "ratio_to_db")
static value bi_ratio_to_db(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "ratio_to_db", 1, 1);
    return map_num(ev, c->args[0], ratio_to_db_1, "ratio_to_db", c->loc);
}

BUILTIN(lerp, "lerp")
static value bi_lerp(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "lerp", 5, 5);
    // y0 + (x - x0) * (y1 - y0) / (x1 - x0), with Python's arithmetic in this order.
    const value *a = c->args;
    value t = value_binop(ev, TK_STAR, value_binop(ev, TK_MINUS, a[0], a[1], c->loc),
                          value_binop(ev, TK_MINUS, a[4], a[3], c->loc), c->loc);
    t = value_binop(ev, TK_SLASH, t, value_binop(ev, TK_MINUS, a[2], a[1], c->loc), c->loc);
    return value_binop(ev, TK_PLUS, a[3], t, c->loc);
}

BUILTIN(clamp, "clamp")
static value bi_clamp(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "clamp", 3, 3); // pygmu's order: clamp(xlo, x, xhi)
    if (value_lt(ev, c->args[1], c->args[0], c->loc))
        return c->args[0];
    if (value_lt(ev, c->args[2], c->args[1], c->loc))
        return c->args[2];
    return c->args[1];
}

BUILTIN(sign, "sign")
static value bi_sign(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "sign", 1, 1);
    double x = builtins_num(ev, c->args[0], "sign", c->loc);
    return value_int(x < 0 ? -1 : (x > 0 ? 1 : 0));
}

BUILTIN(velocity_to_db, "velocity_to_db")
static value bi_velocity_to_db(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "velocity", "reference" };
    value a[2];
    builtins_bind(ev, c, "velocity_to_db", names, 2, 1, a);
    double v = builtins_num(ev, a[0], "velocity_to_db", c->loc);
    double ref = given(a[1]) ? builtins_num(ev, a[1], "velocity_to_db", c->loc) : 127.0;
    if (v == 0.0)
        return value_float(-HUGE_VAL);
    if (ref == 0.0)
        eval_error(ev, c->loc, PG_ERR_ARG, "float division by zero");
    double r = v / ref;
    if (r <= 0.0)
        eval_error(ev, c->loc, PG_ERR_ARG, "math domain error");
    return value_float(20.0 * log10(r));
}

BUILTIN(stof, "stof")
static value bi_stof(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "stof", 1, 1);
    value frames = value_binop(ev, TK_STAR, c->args[0], value_int(48000), c->loc);
    if (frames.t == VT_FLOAT)
        return value_int(value_float_to_int(ev, frames.u.f, c->loc));
    return value_int(builtins_int(ev, frames, "stof", c->loc));
}

BUILTIN(midi_to_note, "midi_to_note")
static value bi_midi_to_note(evaluator *ev, const call_args *c) {
    static const char *const names[12] = { "C",  "Db", "D",  "Eb", "E",  "F",
                                           "Gb", "G",  "Ab", "A",  "Bb", "B" };
    builtins_want_args(ev, c, "midi_to_note", 1, 1);
    int64_t p = builtins_int(ev, c->args[0], "midi_to_note()", c->loc);
    int64_t pc = ((p % 12) + 12) % 12;
    int64_t octave = (p - pc) / 12 - 1;
    char buf[48];
    snprintf(buf, sizeof buf, "%s%lld", names[pc], (long long)octave);
    return value_cstr(ev, buf);
}

// ---- random (CPython's algorithms, prng.c) ----

BUILTIN(seed, "seed")
static value bi_seed(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "a", "version" };
    value a[2];
    builtins_bind(ev, c, "seed", names, 2, 0, a);
    value x = a[0];
    if (!given(x) || x.t == VT_NONE)
        prng_seed_int(&ev->rng, 0); // deterministic: no seed means the default seed 0
    else if (value_is_intlike(x))
        prng_seed_int(&ev->rng, x.u.i);
    else if (x.t == VT_FLOAT && !isnan(x.u.f))
        prng_seed_float(&ev->rng, x.u.f);
    else
        eval_error(ev, c->loc, PG_ERR_ARG, "seed() takes an int or a float in .pg, not '%s'",
                   value_type_name(x));
    return value_none();
}

BUILTIN(random, "random")
static value bi_random(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "random", 0, 0);
    return value_float(prng_random(&ev->rng));
}

BUILTIN(uniform, "uniform")
static value bi_uniform(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "a", "b" };
    value a[2];
    builtins_bind(ev, c, "uniform", names, 2, 2, a);
    double lo = builtins_num(ev, a[0], "uniform", c->loc),
           hi = builtins_num(ev, a[1], "uniform", c->loc);
    return value_float(prng_uniform(&ev->rng, lo, hi));
}

// randrange's int arguments: CPython 3.11 still accepts integral floats.
static int64_t range_arg(evaluator *ev, value v, const char *which, pg_srcloc loc) {
    if (value_is_intlike(v))
        return v.u.i;
    if (v.t == VT_FLOAT && v.u.f == floor(v.u.f))
        return value_float_to_int(ev, v.u.f, loc);
    eval_error(ev, loc, PG_ERR_ARG, "non-integer %s for randrange()", which);
}

static value randrange(evaluator *ev, value start, value stop, value stp, pg_srcloc loc) {
    int64_t a = range_arg(ev, start, "arg 1", loc);
    if (!given(stop) || stop.t == VT_NONE) {
        if (a > 0)
            return value_int(prng_below(&ev->rng, a));
        eval_error(ev, loc, PG_ERR_ARG, "empty range for randrange()");
    }
    int64_t b = range_arg(ev, stop, "stop", loc);
    int64_t s = given(stp) ? range_arg(ev, stp, "step", loc) : 1;
    if (s == 0)
        eval_error(ev, loc, PG_ERR_ARG, "zero step for randrange()");
    int64_t out;
    if (!prng_randrange(&ev->rng, a, b, s, &out))
        eval_error(ev, loc, PG_ERR_ARG, "empty range for randrange() (%lld, %lld, %lld)",
                   (long long)a, (long long)b, (long long)(b - a));
    return value_int(out);
}

BUILTIN(randrange, "randrange")
static value bi_randrange(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "start", "stop", "step" };
    value a[3];
    builtins_bind(ev, c, "randrange", names, 3, 1, a);
    return randrange(ev, a[0], a[1], a[2], c->loc);
}

BUILTIN(randint, "randint")
static value bi_randint(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "a", "b" };
    value a[2];
    builtins_bind(ev, c, "randint", names, 2, 2, a);
    value stop = value_binop(ev, TK_PLUS, a[1], value_int(1), c->loc);
    value none = { .t = VT_UNBOUND };
    return randrange(ev, a[0], stop, none, c->loc);
}

BUILTIN(choice, "choice")
static value bi_choice(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "choice", 1, 1);
    int64_t n = value_len(ev, c->args[0], c->loc);
    if (n == 0)
        eval_error(ev, c->loc, PG_ERR_ARG, "Cannot choose from an empty sequence");
    return value_getitem(ev, c->args[0], value_int(prng_below(&ev->rng, n)), c->loc);
}

BUILTIN(shuffle, "shuffle")
static value bi_shuffle(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "shuffle", 1, 1);
    if (c->args[0].t != VT_LIST)
        eval_error(ev, c->loc, PG_ERR_ARG, "shuffle() needs a list, not '%s'",
                   value_type_name(c->args[0]));
    list_obj *l = c->args[0].u.l;
    for (int64_t i = l->n - 1; i >= 1; i--) {
        int64_t j = prng_below(&ev->rng, i + 1);
        value t = l->items[i];
        l->items[i] = l->items[j];
        l->items[j] = t;
    }
    return value_none();
}

static void mu_sigma(evaluator *ev, const call_args *c, const char *fname, double *mu,
                     double *sigma) {
    static const char *const names[] = { "mu", "sigma" };
    value a[2];
    builtins_bind(ev, c, fname, names, 2, 0, a);
    *mu = given(a[0]) ? builtins_num(ev, a[0], fname, c->loc) : 0.0;
    *sigma = given(a[1]) ? builtins_num(ev, a[1], fname, c->loc) : 1.0;
}

BUILTIN(gauss, "gauss")
static value bi_gauss(evaluator *ev, const call_args *c) {
    double mu, sigma;
    mu_sigma(ev, c, "gauss", &mu, &sigma);
    return value_float(prng_gauss(&ev->rng, mu, sigma));
}

BUILTIN(normalvariate, "normalvariate")
static value bi_normalvariate(evaluator *ev, const call_args *c) {
    double mu, sigma;
    mu_sigma(ev, c, "normalvariate", &mu, &sigma);
    return value_float(prng_normalvariate(&ev->rng, mu, sigma));
}

BUILTIN(getrandbits, "getrandbits")
static value bi_getrandbits(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "getrandbits", 1, 1);
    int64_t k = builtins_int(ev, c->args[0], "getrandbits()", c->loc);
    if (k < 0)
        eval_error(ev, c->loc, PG_ERR_ARG, "number of bits must be non-negative");
    if (k > 63)
        eval_error(ev, c->loc, PG_ERR_ARG, "getrandbits(%lld): at most 63 bits in .pg",
                   (long long)k);
    return value_int((int64_t)prng_getrandbits(&ev->rng, (int)k));
}

// random.sample, CPython 3.11's algorithm: a pool for small populations, else rejection of
// repeated indices.
BUILTIN(sample, "sample")
static value bi_sample(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "population", "k" };
    value a[2];
    builtins_bind(ev, c, "sample", names, 2, 2, a);
    value pop = builtins_list_of(ev, a[0], c->loc);
    int64_t n = pop.u.l->n, k = builtins_int(ev, a[1], "sample()", c->loc);
    if (k < 0 || k > n)
        eval_error(ev, c->loc, PG_ERR_ARG, "Sample larger than population or is negative");
    value out = value_list(ev, k);
    out.u.l->n = k;
    int64_t setsize = 21;
    if (k > 5)
        setsize += (int64_t)pow(4.0, ceil(log((double)(k * 3)) / log(4.0)));
    if (n <= setsize) {
        value *pool = ARENA_ARRAY(ev->a, value, n + 1);
        memcpy(pool, pop.u.l->items, (size_t)n * sizeof(value));
        for (int64_t i = 0; i < k; i++) {
            int64_t j = prng_below(&ev->rng, n - i);
            out.u.l->items[i] = pool[j];
            pool[j] = pool[n - i - 1];
        }
        return out;
    }
    unsigned char *selected = arena_alloc(ev->a, (size_t)n);
    for (int64_t i = 0; i < k; i++) {
        int64_t j = prng_below(&ev->rng, n);
        while (selected[j])
            j = prng_below(&ev->rng, n);
        selected[j] = 1;
        out.u.l->items[i] = pop.u.l->items[j];
    }
    return out;
}

// ---- numpy look-alikes ----

static double identity_fn(double x) {
    return x;
}

static value np_unary(evaluator *ev, const call_args *c, const char *fname, double (*fn)(double)) {
    builtins_want_args(ev, c, fname, 1, 1);
    return map_num(ev, c->args[0], fn, fname, c->loc);
}

#define NP1(id, fn)                                                                                \
    BUILTIN(np_##id, #id)                                                                          \
    static value bi_np_##id(evaluator *ev, const call_args *c) {                                   \
        return np_unary(ev, c, #id, fn);                                                           \
    }

NP1(sin, sin)
NP1(cos, cos)
NP1(tan, tan)
NP1(arcsin, asin)
NP1(arccos, acos)
NP1(arctan, atan)
NP1(sinh, sinh)
NP1(cosh, cosh)
NP1(tanh, tanh)
NP1(exp, exp)
NP1(log, log)
NP1(log2, log2)
NP1(log10, log10)
NP1(sqrt, sqrt)
NP1(abs, fabs)
NP1(floor, floor)
NP1(ceil, ceil)
NP1(float64, identity_fn)

static double rint_half_even(double x) {
    double fl = floor(x), diff = x - fl;
    if (diff > 0.5 || (diff == 0.5 && fmod(fl, 2.0) != 0.0))
        return fl + 1.0;
    return fl;
}

static double float32_of(double x) {
    return (double)(float)x;
}

NP1(float32, float32_of)

// np.round(x, decimals=0): numpy multiplies by 10^d, rounds half to even and divides.
BUILTIN(np_round, "round")
static value bi_np_round(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "a", "decimals" };
    value a[2];
    builtins_bind(ev, c, "round", names, 2, 1, a);
    int64_t d = given(a[1]) ? builtins_int(ev, a[1], "round()", c->loc) : 0;
    if (d == 0)
        return map_num(ev, a[0], rint_half_even, "round", c->loc);
    double scale = pow(10.0, (double)(d < 0 ? -d : d));
    value items = a[0];
    if (value_is_num(items)) {
        double x = value_as_double(items);
        double y = d > 0 ? rint_half_even(x * scale) / scale : rint_half_even(x / scale) * scale;
        return value_float(y);
    }
    value l = builtins_list_of(ev, items, c->loc);
    value out = value_list(ev, l.u.l->n);
    for (int64_t i = 0; i < l.u.l->n; i++) {
        value one[2] = { l.u.l->items[i], value_int(d) };
        call_args sub = { .loc = c->loc, .args = one, .n = 2 };
        out.u.l->items[i] = bi_np_round(ev, &sub);
    }
    out.u.l->n = l.u.l->n;
    return out;
}

static value np_clip1(evaluator *ev, value x, double lo, double hi, pg_srcloc loc) {
    if (x.t == VT_LIST || x.t == VT_TUPLE) {
        value out = value_list(ev, x.u.l->n);
        value_enter(ev, loc);
        for (int64_t i = 0; i < x.u.l->n; i++)
            out.u.l->items[i] = np_clip1(ev, x.u.l->items[i], lo, hi, loc);
        value_leave(ev);
        out.u.l->n = x.u.l->n;
        return out;
    }
    double v = builtins_num(ev, x, "clip", loc);
    v = v < lo ? lo : (v > hi ? hi : v);
    return x.t == VT_FLOAT ? value_float(v) : value_int((int64_t)v);
}

BUILTIN(np_clip, "clip")
static value bi_np_clip(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "a", "a_min", "a_max" };
    value a[3];
    builtins_bind(ev, c, "clip", names, 3, 3, a);
    double lo = a[1].t == VT_NONE ? -HUGE_VAL : builtins_num(ev, a[1], "clip", c->loc);
    double hi = a[2].t == VT_NONE ? HUGE_VAL : builtins_num(ev, a[2], "clip", c->loc);
    return np_clip1(ev, a[0], lo, hi, c->loc);
}

BUILTIN(np_array, "array")
static value bi_np_array(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "object", "dtype" };
    value a[2];
    builtins_bind(ev, c, "array", names, 2, 1, a);
    if (value_is_num(a[0]))
        return a[0];
    return value_to_list(ev, a[0], c->loc);
}

// np.linspace, numpy's recipe: y_i = i * step + start, the last one = stop when endpoint.
BUILTIN(np_linspace, "linspace")
static value bi_np_linspace(evaluator *ev, const call_args *c) {
    static const char *const names[] = { "start", "stop", "num", "endpoint" };
    value a[4];
    builtins_bind(ev, c, "linspace", names, 4, 2, a);
    double start = builtins_num(ev, a[0], "linspace", c->loc);
    double stop = builtins_num(ev, a[1], "linspace", c->loc);
    int64_t num = given(a[2]) ? builtins_int(ev, a[2], "linspace()", c->loc) : 50;
    bool endpoint = !given(a[3]) || value_truthy(a[3]);
    if (num < 0)
        eval_error(ev, c->loc, PG_ERR_ARG, "Number of samples, %lld, must be non-negative.",
                   (long long)num);
    int64_t div = endpoint ? num - 1 : num;
    double delta = stop - start, stp = div > 0 ? delta / (double)div : 0.0;
    value out = value_list(ev, 0);
    value_list_reserve(ev, out.u.l, num, c->loc);
    for (int64_t i = 0; i < num; i++) {
        double y;
        if (div > 0)
            y = stp == 0.0 ? (double)i / (double)div * delta : (double)i * stp;
        else
            y = (double)i * delta;
        out.u.l->items[i] = value_float(y + start);
    }
    out.u.l->n = num;
    if (endpoint && num > 1)
        out.u.l->items[num - 1] = value_float(stop);
    return out;
}

// np.arange(stop) / (start, stop[, step]): ints stay ints; length ceil((stop - start) / step).
BUILTIN(np_arange, "arange")
static value bi_np_arange(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "arange", 1, 3);
    value start = c->n == 1 ? value_int(0) : c->args[0];
    value stop = c->n == 1 ? c->args[0] : c->args[1];
    value stp = c->n == 3 ? c->args[2] : value_int(1);
    bool ints = value_is_intlike(start) && value_is_intlike(stop) && value_is_intlike(stp);
    double s0 = builtins_num(ev, start, "arange", c->loc),
           s1 = builtins_num(ev, stop, "arange", c->loc);
    double d = builtins_num(ev, stp, "arange", c->loc);
    if (d == 0.0)
        eval_error(ev, c->loc, PG_ERR_ARG, "arange(): step must not be zero");
    double len_d = ceil((s1 - s0) / d);
    int64_t n = len_d > 0 ? (int64_t)fmin(len_d, 9.0e18) : 0;
    value out = value_list(ev, 0);
    value_list_reserve(ev, out.u.l, n, c->loc);
    for (int64_t i = 0; i < n; i++)
        out.u.l->items[i] =
            ints ? value_int(start.u.i + i * stp.u.i) : value_float(s0 + (double)i * d);
    out.u.l->n = n;
    return out;
}

static value filled(evaluator *ev, const call_args *c, const char *fname, double x) {
    static const char *const names[] = { "shape", "dtype" };
    value a[2];
    builtins_bind(ev, c, fname, names, 2, 1, a);
    int64_t n = builtins_int(ev, a[0], fname, c->loc);
    if (n < 0)
        eval_error(ev, c->loc, PG_ERR_ARG, "negative dimensions are not allowed");
    value out = value_list(ev, 0);
    value_list_reserve(ev, out.u.l, n, c->loc);
    for (int64_t i = 0; i < n; i++)
        out.u.l->items[i] = value_float(x);
    out.u.l->n = n;
    return out;
}

BUILTIN(np_zeros, "zeros")
static value bi_np_zeros(evaluator *ev, const call_args *c) {
    return filled(ev, c, "zeros", 0.0);
}

BUILTIN(np_ones, "ones")
static value bi_np_ones(evaluator *ev, const call_args *c) {
    return filled(ev, c, "ones", 1.0);
}

BUILTIN(np_power, "power")
static value bi_np_power(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "power", 2, 2);
    return value_float(pow(builtins_num(ev, c->args[0], "power", c->loc),
                           builtins_num(ev, c->args[1], "power", c->loc)));
}

static value np_reduce(evaluator *ev, const call_args *c, const char *fname, int which) {
    builtins_want_args(ev, c, fname, 1, 1);
    value l = builtins_list_of(ev, c->args[0], c->loc);
    if (l.u.l->n == 0 && which >= 2)
        eval_error(ev, c->loc, PG_ERR_ARG, "zero-size array to reduction operation %s", fname);
    double acc = which == 0 || which == 1 ? 0.0 : builtins_num(ev, l.u.l->items[0], fname, c->loc);
    for (int64_t i = 0; i < l.u.l->n; i++) {
        double x = builtins_num(ev, l.u.l->items[i], fname, c->loc);
        if (which <= 1)
            acc += x;
        else if (which == 2 ? x > acc : x < acc)
            acc = x;
    }
    if (which == 1)
        acc = l.u.l->n ? acc / (double)l.u.l->n : (double)NAN;
    return value_float(acc);
}

BUILTIN(np_sum, "sum")
static value bi_np_sum(evaluator *ev, const call_args *c) {
    return np_reduce(ev, c, "sum", 0);
}

BUILTIN(np_mean, "mean")
static value bi_np_mean(evaluator *ev, const call_args *c) {
    return np_reduce(ev, c, "mean", 1);
}

BUILTIN(np_max, "max")
static value bi_np_max(evaluator *ev, const call_args *c) {
    return np_reduce(ev, c, "max", 2);
}

BUILTIN(np_min, "min")
static value bi_np_min(evaluator *ev, const call_args *c) {
    return np_reduce(ev, c, "min", 3);
}

// np.random.seed(n): the seed of every NoisePE built afterwards (see methods.c).
BUILTIN(np_seed, "seed")
static value bi_np_seed(evaluator *ev, const call_args *c) {
    builtins_want_args(ev, c, "seed", 0, 1);
    int64_t n =
        c->n && c->args[0].t != VT_NONE ? builtins_int(ev, c->args[0], "seed()", c->loc) : 0;
    if (n < 0 || n > 0xffffffffLL)
        eval_error(ev, c->loc, PG_ERR_ARG, "Seed must be between 0 and 2**32 - 1");
    ev->noise_seed = (uint64_t)n;
    return value_none();
}

// ---- tables ----

static const builtin *const num_fns[] = {
    &B_sin,
    &B_cos,
    &B_tan,
    &B_asin,
    &B_acos,
    &B_atan,
    &B_atan2,
    &B_sinh,
    &B_cosh,
    &B_tanh,
    &B_asinh,
    &B_acosh,
    &B_atanh,
    &B_exp,
    &B_expm1,
    &B_log,
    &B_log2,
    &B_log10,
    &B_log1p,
    &B_sqrt,
    &B_floor,
    &B_ceil,
    &B_trunc,
    &B_fabs,
    &B_fmod,
    &B_hypot,
    &B_degrees,
    &B_radians,
    &B_isclose,
    &B_copysign,
    &B_gcd,
    &B_isnan,
    &B_isinf,
    &B_isfinite,
    &B_factorial,
    // music helpers
    &B_pitch_to_freq,
    &B_mtof,
    &B_ftom,
    &B_freq_to_pitch,
    &B_db_to_ratio,
    &B_ratio_to_db,
    &B_lerp,
    &B_clamp,
    &B_sign,
    &B_velocity_to_db,
    &B_stof,
    &B_midi_to_note,
    &B_just_freq,
    &B_renold_freq,
    // random
    &B_seed,
    &B_uniform,
    &B_randrange,
    &B_randint,
    &B_choice,
    &B_shuffle,
    &B_gauss,
    &B_normalvariate,
    &B_getrandbits,
    &B_sample,
};

typedef struct constant {
    const char *name;
    double x;
} constant;

static const constant global_floats[] = {
    { "pi", PG_PI },
    { "e", 2.718281828459045 },
    { "tau", 2.0 * PG_PI },
    { "inf", HUGE_VAL },
    { "nan", (double)NAN },
    { "PHI", 1.6180339887 },
    { "RATIO_MIN", 1.1754944e-38 },
};

static value random_module_call(evaluator *ev, const call_args *c) {
    return bi_random(ev, c);
}

static const module_attr np_random_attrs[] = {
    { "seed", &B_np_seed, NULL, NULL, 0 },
    { NULL, NULL, NULL, NULL, 0 },
};
const module_def builtins_mod_np_random = { "numpy.random", np_random_attrs, true, NULL };

static const module_attr numpy_attrs[] = {
    { "random", NULL, &builtins_mod_np_random, NULL, 0 },
    { "array", &B_np_array, NULL, NULL, 0 },
    { "asarray", &B_np_array, NULL, NULL, 0 },
    { "linspace", &B_np_linspace, NULL, NULL, 0 },
    { "arange", &B_np_arange, NULL, NULL, 0 },
    { "zeros", &B_np_zeros, NULL, NULL, 0 },
    { "ones", &B_np_ones, NULL, NULL, 0 },
    { "clip", &B_np_clip, NULL, NULL, 0 },
    { "abs", &B_np_abs, NULL, NULL, 0 },
    { "absolute", &B_np_abs, NULL, NULL, 0 },
    { "floor", &B_np_floor, NULL, NULL, 0 },
    { "ceil", &B_np_ceil, NULL, NULL, 0 },
    { "round", &B_np_round, NULL, NULL, 0 },
    { "around", &B_np_round, NULL, NULL, 0 },
    { "rint", &B_np_round, NULL, NULL, 0 },
    { "sin", &B_np_sin, NULL, NULL, 0 },
    { "cos", &B_np_cos, NULL, NULL, 0 },
    { "tan", &B_np_tan, NULL, NULL, 0 },
    { "arcsin", &B_np_arcsin, NULL, NULL, 0 },
    { "arccos", &B_np_arccos, NULL, NULL, 0 },
    { "arctan", &B_np_arctan, NULL, NULL, 0 },
    { "sinh", &B_np_sinh, NULL, NULL, 0 },
    { "cosh", &B_np_cosh, NULL, NULL, 0 },
    { "tanh", &B_np_tanh, NULL, NULL, 0 },
    { "exp", &B_np_exp, NULL, NULL, 0 },
    { "log", &B_np_log, NULL, NULL, 0 },
    { "log2", &B_np_log2, NULL, NULL, 0 },
    { "log10", &B_np_log10, NULL, NULL, 0 },
    { "sqrt", &B_np_sqrt, NULL, NULL, 0 },
    { "power", &B_np_power, NULL, NULL, 0 },
    { "sum", &B_np_sum, NULL, NULL, 0 },
    { "mean", &B_np_mean, NULL, NULL, 0 },
    { "max", &B_np_max, NULL, NULL, 0 },
    { "amax", &B_np_max, NULL, NULL, 0 },
    { "min", &B_np_min, NULL, NULL, 0 },
    { "amin", &B_np_min, NULL, NULL, 0 },
    { "float32", &B_np_float32, NULL, NULL, 0 },
    { "float64", &B_np_float64, NULL, NULL, 0 },
    { NULL, NULL, NULL, NULL, 0 },
};
const module_def builtins_mod_numpy = { "numpy", numpy_attrs, false, NULL };

static const module_attr math_attrs[] = {
    { "pow", &B_math_pow, NULL, NULL, 0 },
    { NULL, NULL, NULL, NULL, 0 },
};
const module_def builtins_mod_math = { "math", math_attrs, false, NULL };

static const module_attr random_attrs[] = {
    { "random", &B_random, NULL, NULL, 0 },
    { NULL, NULL, NULL, NULL, 0 },
};
const module_def builtins_mod_random = { "random", random_attrs, false, random_module_call };

void builtins_num_init(evaluator *ev) {
    for (size_t i = 0; i < sizeof num_fns / sizeof num_fns[0]; i++) {
        value v = { .t = VT_BUILTIN, .u.bi = num_fns[i] };
        value_symtab_put(ev, &ev->builtins,
                         eval_intern(ev, num_fns[i]->name, strlen(num_fns[i]->name)), v);
    }
    for (size_t i = 0; i < sizeof global_floats / sizeof global_floats[0]; i++) {
        const char *name = global_floats[i].name;
        value_symtab_put(ev, &ev->builtins, eval_intern(ev, name, strlen(name)),
                         value_float(global_floats[i].x));
    }
}
