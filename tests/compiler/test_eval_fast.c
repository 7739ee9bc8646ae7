// test_eval_fast.c: the fast path of .pg functions given to MapPE (eval_fast.c, run by
// eval_fast_run.c) against the interpreter. Thousands of random expressions over the
// compiled subset (operators, comparisons, `and` / `or`, `a if c else b`, math builtins and
// their np. / math. aliases, globals bound once) are written twice: once as a function the
// compiler takes, once with a `global` declaration that keeps it in the interpreter. Both
// run on edge inputs (+-0, +-inf, nan, huge, tiny, int64 limits) and random ones; results
// must agree bit for bit, errors in status and message (location included), element by
// element and over whole blocks (where the first failing element's first error is reported).
// Then: which functions compile, their hashes, lazy branches, globals rebound later.
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "graph.h"

// ---- helpers ----

typedef struct compiled {
    pg_session *s;
    pg_status st;
    const pg_func *fast, *slow; // MapPE nodes 1 and 3
} compiled;

static const pg_func *func_of(pg_session *s, int node) {
    const gnode *n = graph_node(pg_session_graph(s), node);
    for (int i = 0; n && i < n->n_args; i++)
        if (n->args[i].type == PG_V_FUNC)
            return &n->args[i].u.func;
    return NULL;
}

// prelude, then f(x) with body `return expr` (or the statements of body, which end with a
// return), compilable, and g(x), the same after a `global` declaration that keeps it
// interpreted. Lines differ between them (strip_line), columns do not.
static compiled compile_body(const char *prelude, const char *body) {
    char src[16384];
    snprintf(src, sizeof src,
             "%sdef f(x):\n%s\nm = MapPE(ConstPE(0.0), f)\n"
             "def g(x):\n    global unused_name\n%s\nn = MapPE(ConstPE(0.0), g)\n"
             "render(m)\n",
             prelude, body, body);
    compiled c = { pg_session_new(), PG_OK, NULL, NULL };
    int root;
    c.st = pg_compile_file(c.s, "t.pg", src, &root);
    if (c.st == PG_OK) {
        c.fast = func_of(c.s, 1);
        c.slow = func_of(c.s, 3);
    }
    return c;
}

static compiled compile_pair(const char *prelude, const char *expr) {
    char body[4200];
    snprintf(body, sizeof body, "    return %s", expr);
    return compile_body(prelude, body);
}

// The message with its line number replaced by L (f and g sit on different lines).
static void strip_line(const char *msg, char *out, size_t size) {
    const char *p = strchr(msg, ':');
    const char *q = p ? strchr(p + 1, ':') : NULL;
    if (p && q)
        snprintf(out, size, "%.*s:L%s", (int)(p - msg), msg, q);
    else
        snprintf(out, size, "%s", msg);
}

static long n_calls_ok, n_calls_err; // how many agreeing calls succeeded / failed alike

// Runs both on in[0..n); reports the first disagreement. Returns 1 when they agree.
static int agree(const compiled *c, const double *in, int n, const char *what) {
    double a[64], b[64];
    char ea[512] = "", eb[512] = "", sa[512], sb[512];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    pg_status st_a = c->fast->call(c->fast->env, in, a, n, ea, sizeof ea);
    pg_status st_b = c->slow->call(c->slow->env, in, b, n, eb, sizeof eb);
    strip_line(ea, sa, sizeof sa);
    strip_line(eb, sb, sizeof sb);
    char detail[1400];
    if (st_a != st_b || (st_a != PG_OK && strcmp(sa, sb) != 0)) {
        snprintf(detail, sizeof detail, "x = %.17g...: compiled %d \"%s\", interpreted %d \"%s\"",
                 in[0], st_a, sa, st_b, sb);
        check_report(__FILE__, __LINE__, what, detail);
        return 0;
    }
    if (st_a == PG_OK && memcmp(a, b, sizeof(double) * (size_t)n) != 0) {
        for (int i = 0; i < n; i++)
            if (memcmp(&a[i], &b[i], sizeof(double)) != 0) {
                snprintf(detail, sizeof detail, "x = %.17g: compiled %.17g, interpreted %.17g",
                         in[i], a[i], b[i]);
                break;
            }
        check_report(__FILE__, __LINE__, what, detail);
        return 0;
    }
    if (st_a == PG_OK)
        n_calls_ok++;
    else
        n_calls_err++;
    return 1;
}

// ---- random expressions ----

typedef struct rng {
    uint64_t s;
} rng;

static uint32_t next(rng *r) {
    r->s = r->s * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(r->s >> 33);
}

static const char *const leaves[] = {
    "x",
    "x",
    "x",
    "x",
    "0",
    "1",
    "2",
    "3",
    "7",
    "0.5",
    "2.5",
    "-1.5",
    "1e308",
    "1e-300",
    "True",
    "False",
    "K",
    "F",
    "B",
    "pi",
    "np.pi",
    "inf",
    "9223372036854775807",
    "0.0",
};
static const char *const binops[] = { "+", "-", "*", "/", "//", "%", "**" };
static const char *const cmps[] = { "<", "<=", ">", ">=", "==", "!=" };
static const char *const calls1[] = {
    "sin",           "cos",         "exp",         "log",    "sqrt",     "tanh",       "floor",
    "ceil",          "round",       "int",         "float",  "abs",      "np.sin",     "np.log",
    "np.sqrt",       "np.abs",      "np.floor",    "np.exp", "math.sin", "math.floor", "mtof",
    "pitch_to_freq", "db_to_ratio", "ratio_to_db", "isnan",  "isinf",    "sign",       "degrees",
    "atan",          "np.round",    "np.float32",  "log10",  "asin",     "cosh",       "ftom",
};
static const char *const calls2[] = {
    "atan2", "hypot", "fmod", "math.pow", "pow", "min", "max", "copysign", "np.power",
};

// snprintf that may cut a long generated expression (it then fails to parse, and is skipped).
static void put(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(char *out, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, size, fmt, ap);
    va_end(ap);
}

static bool with_locals; // leaves may also be the locals a and b

static void gen(rng *r, int depth, char *out, size_t size) {
    uint32_t k = depth <= 0 ? 0 : next(r) % 10;
    char a[1024], b[1024], c[1024];
    switch (k) {
    case 0:
    case 1:
        if (with_locals && next(r) % 3 == 0)
            put(out, size, "%s", next(r) % 2 ? "a" : "b");
        else
            put(out, size, "%s", leaves[next(r) % (sizeof leaves / sizeof *leaves)]);
        return;
    case 2:
    case 3:
        gen(r, depth - 1, a, sizeof a);
        gen(r, depth - 1, b, sizeof b);
        put(out, size, "(%s %s %s)", a, binops[next(r) % 7], b);
        return;
    case 4:
        gen(r, depth - 1, a, sizeof a);
        gen(r, depth - 1, b, sizeof b);
        if (next(r) % 3 == 0) {
            gen(r, depth - 1, c, sizeof c);
            put(out, size, "(%s %s %s %s %s)", a, cmps[next(r) % 6], b, cmps[next(r) % 6], c);
        } else {
            put(out, size, "(%s %s %s)", a, cmps[next(r) % 6], b);
        }
        return;
    case 5:
        gen(r, depth - 1, a, sizeof a);
        gen(r, depth - 1, b, sizeof b);
        put(out, size, "(%s %s %s)", a, next(r) % 2 ? "and" : "or", b);
        return;
    case 6:
        gen(r, depth - 1, a, sizeof a);
        put(out, size, "(%s%s)", next(r) % 3 == 0 ? "not " : (next(r) % 2 ? "-" : "+"), a);
        return;
    case 7:
        gen(r, depth - 1, a, sizeof a);
        gen(r, depth - 1, b, sizeof b);
        gen(r, depth - 1, c, sizeof c);
        put(out, size, "(%s if %s else %s)", a, b, c);
        return;
    case 8:
        gen(r, depth - 1, a, sizeof a);
        put(out, size, "%s(%s)", calls1[next(r) % (sizeof calls1 / sizeof *calls1)], a);
        return;
    default:
        gen(r, depth - 1, a, sizeof a);
        gen(r, depth - 1, b, sizeof b);
        if (next(r) % 4 == 0) {
            put(out, size, "np.clip(%s, %s, %s)", a, next(r) % 2 ? "-1" : "None", b);
            return;
        }
        put(out, size, "%s(%s, %s)", calls2[next(r) % (sizeof calls2 / sizeof *calls2)], a, b);
        return;
    }
}

static const double edges[] = {
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -0.5,
    2.0,
    3.0,
    -7.0,
    1e308,
    -1e308,
    1.7976931348623157e308,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    9007199254740992.0,
    9007199254740993.0,
    9223372036854775807.0,
    -9223372036854775808.0,
    1e19,
    -1e19,
    69.0,
    440.0,
    1e-300,
    100.0,
    -100.0,
    0.1,
    2.5,
    -2.5,
    3.5,
    1e15,
    123456.789,
};

static void fill_inputs(rng *r, double *in, int n) {
    int ne = (int)(sizeof edges / sizeof edges[0]);
    for (int i = 0; i < n; i++) {
        if (i < ne) {
            in[i] = edges[i];
        } else {
            double u = (double)next(r) / 4294967296.0;
            in[i] = (u - 0.5) * (i % 2 ? 20.0 : 2e6);
        }
    }
    in[n - 3] = HUGE_VAL;
    in[n - 2] = -HUGE_VAL;
    in[n - 1] = NAN;
}

// A random body: `return E`, or (with_locals) straight-line assignments to a and b first.
static void gen_body(rng *r, char *out, size_t size) {
    char e[4][1024];
    with_locals = false;
    gen(r, 1 + (int)(next(r) % 4), e[0], sizeof e[0]);
    if (next(r) % 3) {
        put(out, size, "    return %s", e[0]);
        return;
    }
    gen(r, 1 + (int)(next(r) % 3), e[1], sizeof e[1]);
    with_locals = true;
    gen(r, 1 + (int)(next(r) % 3), e[2], sizeof e[2]);
    gen(r, 1 + (int)(next(r) % 3), e[3], sizeof e[3]);
    put(out, size, "    a = %s\n    b = %s\n    a %s= %s\n    return %s", e[0], e[1],
        binops[next(r) % 7], e[2], e[3]);
}

static void test_random_expressions(void) {
    rng r = { 20240611 };
    const char *prelude = "import numpy as np\nimport math\nK = 3\nF = -0.25\nB = True\n";
    int n_compiled = 0, n_total = 0, n_bad = 0;
    double in[48];
    char expr[4400];
    for (int t = 0; t < 8000 && n_bad < 10; t++) {
        gen_body(&r, expr, sizeof expr);
        compiled c = compile_body(prelude, expr);
        if (c.st != PG_OK || !c.fast || !c.slow) {
            pg_session_free(c.s);
            continue; // e.g. a constant that fails while the piece is evaluated
        }
        n_total++;
        n_compiled += c.fast->hash != 0;
        CHECK_EQ_I64(c.slow->hash, 0);
        fill_inputs(&r, in, 48);
        int ok = 1;
        for (int i = 0; i < 48 && ok; i++)
            ok = agree(&c, &in[i], 1, expr);
        ok = ok && agree(&c, in, 48, expr) && agree(&c, in + 20, 28, expr);
        if (ok)
            check_passed++;
        else
            n_bad++;
        pg_session_free(c.s);
    }
    // Most of the grammar is inside the subset; what is refused (an int mixed with a float
    // where they could behave differently) runs interpreted.
    fprintf(stderr,
            "test_random_expressions: %d expressions, %d compiled; calls agreeing: %ld with "
            "results, %ld with the same error\n",
            n_total, n_compiled, n_calls_ok, n_calls_err);
    CHECK(n_total > 7000);
    CHECK(n_compiled * 10 > n_total * 6);
}

// ---- which functions compile ----

// The function of the first MapPE (node 1) in src (which renders it), or NULL.
static const pg_func *first_func(const char *src, pg_session **s) {
    *s = pg_session_new();
    int root;
    if (pg_compile_file(*s, "t.pg", src, &root) != PG_OK) {
        check_report(__FILE__, __LINE__, src, pg_session_diag(*s, 0)->message);
        return NULL;
    }
    return func_of(*s, 1);
}

// Whether src's MapPE function is compiled (a non-zero hash); its hash in *hash.
static int is_compiled(const char *src, uint64_t *hash) {
    pg_session *s;
    const pg_func *f = first_func(src, &s);
    uint64_t h = f ? f->hash : 0;
    pg_session_free(s);
    if (hash)
        *hash = h;
    return h != 0;
}

static void test_subset(void) {
    // map_example's limiter: straight-line locals, min() of a float and an int global.
    CHECK(is_compiled("g = 60\nlim = -10\ndef f(d):\n    o = d + g\n    o = min(o, lim)\n"
                      "    return o - d\nrender(MapPE(ConstPE(1.0), f))\n",
                      NULL));
    CHECK(is_compiled("import numpy as np\nrender(MapPE(ConstPE(1.0), np.tanh))\n", NULL));
    CHECK(is_compiled("render(ConstPE(1.0).waveshape(lambda v: math.tanh(20 * v) / 20))\n", NULL));
    CHECK(is_compiled("def f(x):\n    'doc'\n    y = x\n    y *= 2\n    pass\n    return y\n"
                      "render(MapPE(ConstPE(1.0), f))\n",
                      NULL));
    // Outside the subset: interpreted.
    static const char *const slow[] = {
        // a global the module binds again later (late binding: the render sees 3)
        "k = 2\nm = MapPE(ConstPE(1.0), lambda x: x * k)\nk = 3\nrender(m)\n",
        // a global bound in a loop, or declared global in a function
        "for k in range(2):\n    pass\nrender(MapPE(ConstPE(1.0), lambda x: x * k))\n",
        "k = 1\ndef bump():\n    global k\n    k = 5\nrender(MapPE(ConstPE(1.0), lambda x: x * "
        "k))\n",
        // a closure variable, a builtin the piece rebinds, a name bound after the call
        "def mk(a):\n    return lambda x: x * a\nrender(MapPE(ConstPE(1.0), mk(2)))\n",
        "m = MapPE(ConstPE(1.0), lambda x: sin(x))\nsin = 3\nrender(m)\n",
        "m = MapPE(ConstPE(1.0), lambda x: x * later)\nlater = 2\nrender(m)\n",
        // statements, strings, lists, calls outside the table, two parameters, units
        "def f(x):\n    if x > 0:\n        return x\n    return -x\nrender(MapPE(ConstPE(1.0), "
        "f))\n",
        "render(MapPE(ConstPE(1.0), lambda x: len('ab') * x))\n",
        "render(MapPE(ConstPE(1.0), lambda x, y=1: x * y))\n",
        "render(MapPE(ConstPE(1.0), lambda x: x * 1s))\n",
        // an int merged with a float where they could differ, then negated
        "render(MapPE(ConstPE(1.0), lambda x: -(x if x > 0 else 0)))\n",
        "render(MapPE(ConstPE(1.0), lambda x: (x if x > 0 else floor(x)) + 1))\n",
        "render(MapPE(ConstPE(1.0), lambda x: 2 ** floor(x)))\n",
        "def f(x):\n    y = z\n    z = 1\n    return y\nrender(MapPE(ConstPE(1.0), f))\n",
    };
    for (size_t i = 0; i < sizeof slow / sizeof *slow; i++) {
        if (is_compiled(slow[i], NULL))
            check_report(__FILE__, __LINE__, slow[i], "compiled, but must be interpreted");
        else
            check_passed++;
    }
}

// A compiled function is hashed by what it computes: the same text hashes the same in
// another session, another constant hashes differently, and its MapPE is cacheable.
static void test_hash(void) {
    uint64_t h1, h2, h3, h4;
    CHECK(is_compiled("render(MapPE(ConstPE(1.0), lambda x: sin(x) * 2))\n", &h1));
    CHECK(is_compiled("k = 2\ndef f(v):\n    return sin(v) * k\nrender(MapPE(ConstPE(1.0), f))\n",
                      &h2));
    CHECK(is_compiled("render(MapPE(ConstPE(1.0), lambda x: sin(x) * 3))\n", &h3));
    CHECK(is_compiled("render(MapPE(ConstPE(1.0), lambda x: cos(x) * 2))\n", &h4));
    CHECK(h1 == h2 && h1 != h3 && h1 != h4 && h3 != h4);
    pg_session *s;
    const pg_func *f = first_func("render(MapPE(ConstPE(1.0), lambda x: x * x))\n", &s);
    const gnode *n = graph_node(pg_session_graph(s), 1);
    CHECK(f && n && !n->uncacheable);
    pg_session_free(s);
    f = first_func("render(MapPE(ConstPE(1.0), lambda x: [x][0]))\n", &s);
    n = graph_node(pg_session_graph(s), 1);
    CHECK(f && n && f->hash == 0 && n->uncacheable);
    pg_session_free(s);
}

// The value of f(x) through the compiled function of src (status in *st, message in err).
static double run1(const char *src, double x, pg_status *st, char *err, size_t size) {
    pg_session *s;
    const pg_func *f = first_func(src, &s);
    double y = NAN;
    *st = f ? f->call(f->env, &x, &y, 1, err, size) : PG_ERR_INTERNAL;
    if (!f || f->hash == 0)
        check_report(__FILE__, __LINE__, src, "not compiled");
    pg_session_free(s);
    return y;
}

static void test_semantics(void) {
    pg_status st;
    char err[512] = "";
    // An untaken branch raises nothing; a taken one raises at its operator.
    const char *safe = "render(MapPE(ConstPE(1.0), lambda x: 1 / x if x != 0 else -1))\n";
    CHECK(run1(safe, 0.0, &st, err, sizeof err) == -1.0 && st == PG_OK);
    CHECK(run1(safe, 4.0, &st, err, sizeof err) == 0.25 && st == PG_OK);
    const char *chain = "render(MapPE(ConstPE(1.0), lambda x: 0 < x < 1 / x))\n";
    CHECK(run1(chain, 0.0, &st, err, sizeof err) == 0.0 && st == PG_OK); // 1 / x not reached
    CHECK(run1(chain, 0.5, &st, err, sizeof err) == 1.0 && st == PG_OK);
    const char *guard = "render(MapPE(ConstPE(1.0), lambda x: x == 0 or 1 / x > 2))\n";
    CHECK(run1(guard, 0.0, &st, err, sizeof err) == 1.0 && st == PG_OK);
    // Errors: the interpreter's message at the operator or call (line:col).
    run1("render(MapPE(ConstPE(1.0), lambda x: x // 0))\n", 1.0, &st, err, sizeof err);
    CHECK(st == PG_ERR_ARG && strcmp(err, "t.pg:1:40: float floor division by zero") == 0);
    run1("render(MapPE(ConstPE(1.0), lambda x: sqrt(x)))\n", -1.0, &st, err, sizeof err);
    CHECK(st == PG_ERR_ARG && strcmp(err, "t.pg:1:38: math domain error") == 0);
    run1("render(MapPE(ConstPE(1.0), lambda x: floor(x) * 4))\n", HUGE_VAL, &st, err, sizeof err);
    CHECK(st == PG_ERR_ARG &&
          strcmp(err, "t.pg:1:38: cannot convert float infinity to integer") == 0);
    run1("render(MapPE(ConstPE(1.0), lambda x: floor(x) * 4))\n", 4e18, &st, err, sizeof err);
    CHECK(st == PG_ERR_ARG &&
          strcmp(err, "t.pg:1:47: integer overflow (results must fit in 64 bits)") == 0);
    run1("render(MapPE(ConstPE(1.0), lambda x: (-x) ** 0.5))\n", 2.0, &st, err, sizeof err);
    CHECK(st == PG_ERR_ARG &&
          strcmp(err, "t.pg:1:43: negative number cannot be raised to a fractional power "
                      "(-2 ** 0.5)") == 0);
    // A builtin passed itself reports at the PE's call.
    run1("import math\nrender(MapPE(ConstPE(1.0), math.log))\n", 0.0, &st, err, sizeof err);
    CHECK(st == PG_ERR_ARG && strcmp(err, "t.pg:2:8: math domain error") == 0);
    // Python's numbers: floor division and modulo floor, ints stay exact, -0.0 kept.
    CHECK(run1("render(MapPE(ConstPE(1.0), lambda x: x % -2))\n", 7.5, &st, err, 9) == -0.5);
    CHECK(run1("render(MapPE(ConstPE(1.0), lambda x: floor(x) + 1 - floor(x)))\n", 1e17, &st, err,
               9) == 1.0);
    double z = run1("render(MapPE(ConstPE(1.0), lambda x: -x * 1))\n", 0.0, &st, err, 9);
    CHECK(z == 0.0 && signbit(z));
    CHECK(run1("render(MapPE(ConstPE(1.0), lambda x: min(x, 2)))\n", 5.0, &st, err, 9) == 2.0);
    CHECK(run1("render(MapPE(ConstPE(1.0), lambda x: x > 1 and x))\n", 0.5, &st, err, 9) == 0.0);
}

// A whole block: the error reported is the first failing element's first failing operation,
// as the interpreter meets them, even when a later operation fails on an earlier element.
static void test_block_errors(void) {
    compiled c = compile_pair("", "(1 / (x - 5)) + (1 / x)");
    CHECK(c.st == PG_OK && c.fast && c.fast->hash != 0);
    if (c.fast) {
        double in[300];
        for (int i = 0; i < 300; i++)
            in[i] = 10.0 + i;
        in[290] = 0.0; // fails at the second division
        in[291] = 5.0; // would fail at the first
        char err[256];
        double out[300];
        CHECK_STATUS(c.fast->call(c.fast->env, in, out, 300, err, sizeof err), PG_ERR_ARG);
        CHECK(strcmp(err, "t.pg:2:31: float division by zero") == 0); // the second '/'

        CHECK(agree(&c, in, 48, "block"));
    }
    pg_session_free(c.s);
}

int main(void) {
    test_subset();
    test_hash();
    test_semantics();
    test_block_errors();
    test_random_expressions();
    return check_done();
}
