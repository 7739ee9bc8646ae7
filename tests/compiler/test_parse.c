// test_parse.c: the .pg parser: the AST shape of precedence cases and of every statement
// form (printed as S-expressions), node locations, syntax errors with their line:column,
// nesting limits, and a fixed-seed mutation fuzz (flipped, inserted and deleted bytes,
// truncations) whose every variant must parse or fail with a located syntax/limit error.
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "parse.h"

typedef struct parsed {
    pg_session *s;
    ast_module *m;
    pg_status st;
    pg_diag diag;
} parsed;

static parsed parse(const char *src) {
    parsed r;
    memset(&r, 0, sizeof r);
    r.s = pg_session_new();
    jmp_buf handler;
    r.s->on_error = &handler;
    if (setjmp(handler)) {
        r.st = r.s->diags[r.s->n_diags - 1].status;
        r.diag = r.s->diags[r.s->n_diags - 1];
        r.m = NULL;
        return r;
    }
    int file = session_add_file(r.s, "t.pg", src);
    int n = 0;
    token *toks = lex_tokenize(r.s, file, r.s->files[file].text, &n);
    r.m = parse_module(r.s, toks, n);
    r.s->on_error = NULL;
    return r;
}

static void done(parsed *r) {
    pg_session_free(r->s);
}

// ---- the S-expression printer ----

typedef struct out {
    char *buf;
    size_t n, cap;
} out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(out *o, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (o->n < o->cap) {
        int w = vsnprintf(o->buf + o->n, o->cap - o->n, fmt, ap);
        o->n += w > 0 ? (size_t)w : 0;
        if (o->n >= o->cap)
            o->n = o->cap - 1;
    }
    va_end(ap);
}

// The operator's spelling without lex_kind_str's quotes: "'+'" -> "+".
static void put_op(out *o, int op) {
    const char *s = lex_kind_str((tk_kind)op);
    size_t len = strlen(s);
    if (len >= 2 && s[0] == '\'')
        put(o, "%.*s", (int)(len - 2), s + 1);
    else
        put(o, "%s", s);
}

static void dump(out *o, const ast *x);

static void dump_list(out *o, ast *const *list, int n, const char *sep) {
    for (int i = 0; i < n; i++) {
        if (i)
            put(o, "%s", sep);
        dump(o, list[i]);
    }
}

static void dump_body(out *o, ast *const *list, int n) {
    put(o, "{");
    dump_list(o, list, n, "; ");
    put(o, "}");
}

static void dump_opt(out *o, const ast *x) {
    if (x)
        dump(o, x);
    else
        put(o, "_");
}

static void dump_float(out *o, double v) {
    char b[64];
    snprintf(b, sizeof b, "%.17g", v);
    put(o, "%s%s", b, strpbrk(b, ".en") ? "" : ".0");
}

static void dump_expr_more(out *o, const ast *x) {
    switch (x->kind) {
    case AST_LAMBDA:
        put(o, "(lambda (");
        dump_list(o, x->list2, x->n2, " ");
        put(o, ") ");
        dump(o, x->a);
        put(o, ")");
        break;
    case AST_LISTCOMP:
    case AST_GENEXP:
        put(o, "(%s ", x->kind == AST_LISTCOMP ? "listcomp" : "genexp");
        dump(o, x->a);
        put(o, " ");
        dump_list(o, x->list, x->n, " ");
        put(o, ")");
        break;
    case AST_COMP_FOR:
        put(o, "(for ");
        dump(o, x->a);
        put(o, " ");
        dump(o, x->b);
        put(o, ")");
        break;
    case AST_COMP_IF:
        put(o, "(if ");
        dump(o, x->a);
        put(o, ")");
        break;
    case AST_PARAM:
        put(o, "%s%s", x->op == '*' ? "*" : x->op == 'k' ? "**" : "", x->name ? x->name : "");
        if (x->a) {
            put(o, "=");
            dump(o, x->a);
        }
        break;
    case AST_COMPARE:
        put(o, "(cmp ");
        dump(o, x->a);
        for (int i = 0; i < x->n; i++) {
            put(o, " ");
            put_op(o, x->ops[i]);
            put(o, " ");
            dump(o, x->list[i]);
        }
        put(o, ")");
        break;
    default:
        put(o, "?%d", (int)x->kind);
        break;
    }
}

static void dump_stmt(out *o, const ast *x) {
    switch (x->kind) {
    case AST_EXPR:
        put(o, "(expr ");
        dump(o, x->a);
        put(o, ")");
        break;
    case AST_ASSIGN:
        put(o, "(= ");
        dump_list(o, x->list, x->n, " ");
        put(o, " ");
        dump(o, x->a);
        put(o, ")");
        break;
    case AST_AUGASSIGN:
        put(o, "(");
        put_op(o, x->op);
        put(o, "= ");
        dump(o, x->a);
        put(o, " ");
        dump(o, x->b);
        put(o, ")");
        break;
    case AST_DEF:
        put(o, "(def %s (", x->name);
        dump_list(o, x->list2, x->n2, " ");
        put(o, ") ");
        dump_body(o, x->list, x->n);
        put(o, ")");
        break;
    case AST_RETURN:
        put(o, "(return ");
        dump_opt(o, x->a);
        put(o, ")");
        break;
    case AST_IF:
    case AST_FOR:
    case AST_WHILE:
        put(o, "(%s ", x->kind == AST_IF ? "if" : x->kind == AST_FOR ? "for" : "while");
        if (x->kind == AST_FOR) {
            dump(o, x->a);
            put(o, " in ");
            dump(o, x->b);
        } else {
            dump(o, x->a);
        }
        put(o, " ");
        dump_body(o, x->list, x->n);
        if (x->n2) {
            put(o, " else ");
            dump_body(o, x->list2, x->n2);
        }
        put(o, ")");
        break;
    case AST_BREAK:
    case AST_CONTINUE:
    case AST_PASS:
        put(o, "%s",
            x->kind == AST_BREAK      ? "break"
            : x->kind == AST_CONTINUE ? "continue"
                                      : "pass");
        break;
    case AST_IMPORT:
        put(o, "(%s %s", x->op == TK_FROM ? "from" : "import", x->name);
        if (x->str)
            put(o, " as %s", x->str);
        for (int i = 0; i < x->n; i++)
            put(o, x->list[i]->str ? " %s as %s" : " %s", x->list[i]->name, x->list[i]->str);
        put(o, ")");
        break;
    case AST_GLOBAL:
    case AST_DEL:
        put(o, "(%s ", x->kind == AST_GLOBAL ? "global" : "del");
        dump_list(o, x->list, x->n, " ");
        put(o, ")");
        break;
    case AST_ASSERT:
        put(o, "(assert ");
        dump(o, x->a);
        put(o, " ");
        dump_opt(o, x->b);
        put(o, ")");
        break;
    default:
        dump_expr_more(o, x);
        break;
    }
}

static void dump(out *o, const ast *x) {
    switch (x->kind) {
    case AST_INT:
        put(o, "%lld", (long long)x->ival);
        break;
    case AST_FLOAT:
        dump_float(o, x->fval);
        break;
    case AST_UNIT:
        put(o, "(unit %s ", x->op == 's' ? "s" : x->op == 'm' ? "ms" : "?");
        dump(o, x->a);
        put(o, ")");
        break;
    case AST_STR:
        put(o, "'%.*s'", (int)x->len, x->str);
        break;
    case AST_NAME:
        put(o, "%s", x->name);
        break;
    case AST_TRUE:
    case AST_FALSE:
    case AST_NONE:
        put(o, "%s", x->kind == AST_TRUE ? "True" : x->kind == AST_FALSE ? "False" : "None");
        break;
    case AST_LIST:
        put(o, "[");
        dump_list(o, x->list, x->n, " ");
        put(o, "]");
        break;
    case AST_TUPLE:
        put(o, "(tuple");
        for (int i = 0; i < x->n; i++) {
            put(o, " ");
            dump(o, x->list[i]);
        }
        put(o, ")");
        break;
    case AST_DICT:
        put(o, "(dict");
        for (int i = 0; i < x->n; i++) {
            put(o, " ");
            dump(o, x->list[i]);
            put(o, ":");
            dump(o, x->list2[i]);
        }
        put(o, ")");
        break;
    case AST_STARRED:
        put(o, "*");
        dump(o, x->a);
        break;
    case AST_ATTR:
        put(o, "(. ");
        dump(o, x->a);
        put(o, " %s)", x->name);
        break;
    case AST_INDEX:
        put(o, "(index ");
        dump(o, x->a);
        put(o, " ");
        dump(o, x->b);
        put(o, ")");
        break;
    case AST_SLICE:
        put(o, "(slice ");
        dump_opt(o, x->a);
        put(o, " ");
        dump_opt(o, x->b);
        put(o, " ");
        dump_opt(o, x->c);
        put(o, ")");
        break;
    case AST_CALL:
        put(o, "(call ");
        dump(o, x->a);
        for (int i = 0; i < x->n; i++) {
            put(o, " ");
            dump(o, x->list[i]);
        }
        for (int i = 0; i < x->n2; i++) {
            put(o, " ");
            dump(o, x->list2[i]);
        }
        put(o, ")");
        break;
    case AST_KEYWORD:
        put(o, "%s=", x->name ? x->name : "**");
        dump(o, x->a);
        break;
    case AST_UNARY:
        if (x->op == TK_NOT)
            put(o, "(not ");
        else
            put(o, "(%cu ", (char)x->op);
        dump(o, x->a);
        put(o, ")");
        break;
    case AST_BINARY:
    case AST_BOOLOP:
        put(o, "(");
        put_op(o, x->op);
        put(o, " ");
        dump(o, x->a);
        put(o, " ");
        dump(o, x->b);
        put(o, ")");
        break;
    case AST_IFEXP:
        put(o, "(ifexp ");
        dump(o, x->a);
        put(o, " ");
        dump(o, x->b);
        put(o, " ");
        dump(o, x->c);
        put(o, ")");
        break;
    default:
        dump_stmt(o, x);
        break;
    }
}

// ---- checking helpers ----

static void expect_at(int ok, int line, const char *what, const char *detail) {
    if (ok)
        check_passed++;
    else
        check_report(__FILE__, line, what, detail);
}

// src parses, and its statements print as want (joined by "; ").
static void check_ast(const char *src, const char *want, int line) {
    parsed r = parse(src);
    char got[4096];
    out o = { got, 0, sizeof got };
    got[0] = '\0';
    if (r.st != PG_OK)
        put(&o, "error %d:%d %s", r.diag.loc.line, r.diag.loc.col, r.diag.message);
    else
        dump_list(&o, r.m->body, r.m->n, "; ");
    char d[9000];
    snprintf(d, sizeof d, "\n   got  %s\n   want %s", got, want);
    expect_at(strcmp(got, want) == 0, line, src, d);
    done(&r);
}

// src fails with status st at line:col and a message containing msg.
static void check_error(const char *src, pg_status st, int line, int col, const char *msg,
                        int at_line) {
    parsed r = parse(src);
    char d[1200];
    snprintf(d, sizeof d, "got %s %d:%d \"%s\", want %s %d:%d \"%s\"", pg_status_str(r.st),
             r.diag.loc.line, r.diag.loc.col, r.diag.message, pg_status_str(st), line, col, msg);
    expect_at(r.st == st && r.diag.loc.line == line && r.diag.loc.col == col &&
                  strstr(r.diag.message, msg) != NULL,
              at_line, src, d);
    done(&r);
}

#define CHECK_AST(src, want)              check_ast(src, want, __LINE__)
#define CHECK_SYNTAX(src, line, col, msg) check_error(src, PG_ERR_SYNTAX, line, col, msg, __LINE__)

// ---- expressions ----

static void test_precedence(void) {
    CHECK_AST("1 + 2 * 3 ** -x", "(expr (+ 1 (* 2 (** 3 (-u x)))))");
    // ** binds tighter than unary minus on its left, and is right-associative
    CHECK_AST("-2 ** 2", "(expr (-u (** 2 2)))");
    CHECK_AST("2 ** -1", "(expr (** 2 (-u 1)))");
    CHECK_AST("a ** b ** c", "(expr (** a (** b c)))");
    CHECK_AST("a - b - c", "(expr (- (- a b) c))");
    CHECK_AST("a / b // c % d @ e", "(expr (@ (% (// (/ a b) c) d) e))");
    CHECK_AST("a | b ^ c & d << e + f", "(expr (| a (^ b (& c (<< d (+ e f))))))");
    CHECK_AST("a >> b << c", "(expr (<< (>> a b) c))");
    CHECK_AST("~a + -b - +c", "(expr (- (+ (~u a) (-u b)) (+u c)))");
    CHECK_AST("not a == b", "(expr (not (cmp a == b)))");
    CHECK_AST("a < b < c", "(expr (cmp a < b < c))");
    CHECK_AST("a in b not in c is d is not e != f >= g <= h > i",
              "(expr (cmp a in b not in c is d is not e != f >= g <= h > i))");
    CHECK_AST("a or b and not c", "(expr (or a (and b (not c))))");
    CHECK_AST("a or b or c", "(expr (or (or a b) c))");
    CHECK_AST("not not a", "(expr (not (not a)))");
    CHECK_AST("x if c else y", "(expr (ifexp c x y))");
    CHECK_AST("a if b else c if d else e", "(expr (ifexp b a (ifexp d c e)))");
    CHECK_AST("a or b if c or d else e", "(expr (ifexp (or c d) (or a b) e))");
    CHECK_AST("lambda a, b=2: a", "(expr (lambda (a b=2) a))");
    CHECK_AST("lambda: x if y else z", "(expr (lambda () (ifexp y x z)))");
    CHECK_AST("lambda *a, k=1, **kw: 0", "(expr (lambda (*a k=1 **kw) 0))");
    CHECK_AST("(1 + 2) * 3", "(expr (* (+ 1 2) 3))");
    CHECK_AST("-x.y[1](2)", "(expr (-u (call (index (. x y) 1) 2)))");
    CHECK_AST("a & b == c", "(expr (cmp (& a b) == c))");
}

static void test_atoms(void) {
    CHECK_AST("x = 42, 1.5, 1., .5, 1e-3, True, False, None",
              "(= x (tuple 42 1.5 1.0 0.5 0.001 True False None))");
    CHECK_AST("d = 2.5s + 250ms - 3s", "(= d (- (+ (unit s 2.5) (unit ms 250)) (unit s 3)))");
    CHECK_AST("s = 'a' \"b\" '''c'''", "(= s 'abc')");
    CHECK_AST("t = ()", "(= t (tuple))");
    CHECK_AST("t = (1,)", "(= t (tuple 1))");
    CHECK_AST("t = (1, 2,)", "(= t (tuple 1 2))");
    CHECK_AST("t = (x)", "(= t x)");
    CHECK_AST("t = 1,", "(= t (tuple 1))");
    CHECK_AST("l = []", "(= l [])");
    CHECK_AST("l = [1, *a, 2,]", "(= l [1 *a 2])");
    CHECK_AST("t = (*a, *b)", "(= t (tuple *a *b))");
    CHECK_AST("d = {}", "(= d (dict))");
    CHECK_AST("d = {'a': 1, b: [2],}", "(= d (dict 'a':1 b:[2]))");
    CHECK_AST("l = [x for x in y if c for z in w]",
              "(= l (listcomp x (for x y) (if c) (for z w)))");
    CHECK_AST("l = [a * b for a, b in zip(p, q) if a if b]",
              "(= l (listcomp (* a b) (for (tuple a b) (call zip p q)) (if a) (if b)))");
    CHECK_AST("l = [i for i, (p, n) in e]", "(= l (listcomp i (for (tuple i (tuple p n)) e)))");
    CHECK_AST("g = (x * 2 for x in y)", "(= g (genexp (* x 2) (for x y)))");
    CHECK_AST("l = [x for x in a if b or c]", "(= l (listcomp x (for x a) (if (or b c))))");
}

static void test_trailers(void) {
    CHECK_AST("f()", "(expr (call f))");
    CHECK_AST("f(1, *a, k=2, **kw,)", "(expr (call f 1 *a k=2 **=kw))");
    CHECK_AST("f(a=1, *b)", "(expr (call f *b a=1))");
    CHECK_AST("sum(x for x in y)", "(expr (call sum (genexp x (for x y))))");
    CHECK_AST("sum((x for x in y), 0)", "(expr (call sum (genexp x (for x y)) 0))");
    CHECK_AST("a.b.c(d).e", "(expr (. (call (. (. a b) c) d) e))");
    CHECK_AST("a[1:2]", "(expr (index a (slice 1 2 _)))");
    CHECK_AST("a[::2]", "(expr (index a (slice _ _ 2)))");
    CHECK_AST("a[1:]", "(expr (index a (slice 1 _ _)))");
    CHECK_AST("a[:]", "(expr (index a (slice _ _ _)))");
    CHECK_AST("a[:-1:]", "(expr (index a (slice _ (-u 1) _)))");
    CHECK_AST("a[1, 2]", "(expr (index a (tuple 1 2)))");
    CHECK_AST("a[1:2, ::3]", "(expr (index a (tuple (slice 1 2 _) (slice _ _ 3))))");
    CHECK_AST("a[i,]", "(expr (index a (tuple i)))");
    CHECK_AST("a[i][j]", "(expr (index (index a i) j))");
    CHECK_AST("SinPE(440).gain(0.5).crop(Extent(0, 1s))",
              "(expr (call (. (call (. (call SinPE 440) gain) 0.5) crop) "
              "(call Extent 0 (unit s 1))))");
    CHECK_AST("f(\n  1,\n  2,\n)", "(expr (call f 1 2))");
}

// ---- statements ----

static void test_assignments(void) {
    CHECK_AST("a = b = 1", "(= a b 1)");
    CHECK_AST("a, *b = c", "(= (tuple a *b) c)");
    CHECK_AST("(a, [b, *c]), d = e", "(= (tuple (tuple a [b *c]) d) e)");
    CHECK_AST("x.y = z[0] = 1", "(= (. x y) (index z 0) 1)");
    CHECK_AST("a, b = b, a", "(= (tuple a b) (tuple b a))");
    CHECK_AST("x = *a, b", "(= x (tuple *a b))");
    CHECK_AST("x += 1; y -= 2; z *= 3; w /= 4", "(+= x 1); (-= y 2); (*= z 3); (/= w 4)");
    CHECK_AST("a //= 1; b %= 2; c **= 3; d &= 4; e |= 5; f ^= 6; g <<= 7; h >>= 8",
              "(//= a 1); (%= b 2); (**= c 3); (&= d 4); (|= e 5); (^= f 6); (<<= g 7); "
              "(>>= h 8)");
    CHECK_AST("x[i] += 1, 2", "(+= (index x i) (tuple 1 2))");
    CHECK_AST("x: int = 3\ny: float", "(= x 3); pass");
    CHECK_AST("'''docstring'''\nx", "(expr 'docstring'); (expr x)");
}

static void test_compound(void) {
    CHECK_AST("if a:\n    b\nelif c:\n    d\nelif e:\n    f\nelse:\n    g\n",
              "(if a {(expr b)} else {(if c {(expr d)} else {(if e {(expr f)} else "
              "{(expr g)})})})");
    CHECK_AST("if x: y = 1\nelse: y = 2", "(if x {(= y 1)} else {(= y 2)})");
    CHECK_AST("if x: a; b;\nc", "(if x {(expr a); (expr b)}); (expr c)");
    CHECK_AST("for i in range(3):\n    pass\nelse:\n    done()\n",
              "(for i in (call range 3) {pass} else {(expr (call done))})");
    CHECK_AST("for i, (p, n) in enumerate(xs):\n  continue",
              "(for (tuple i (tuple p n)) in (call enumerate xs) {continue})");
    CHECK_AST("for x in 1, 2: break", "(for x in (tuple 1 2) {break})");
    CHECK_AST("for *a, b in c: pass", "(for (tuple *a b) in c {pass})");
    CHECK_AST("for a, in c: pass", "(for (tuple a) in c {pass})");
    CHECK_AST("while a < 3:\n  a += 1\n  if a: break\nelse:\n  pass",
              "(while (cmp a < 3) {(+= a 1); (if a {break})} else {pass})");
    CHECK_AST("def f(a, b=1, *args, c, d=2, **kw):\n    return a\n",
              "(def f (a b=1 *args c d=2 **kw) {(return a)})");
    CHECK_AST("def f(a, *, k):\n    return\n", "(def f (a * k) {(return _)})");
    CHECK_AST("def f(x: int, y: float = 1.0) -> int:\n    return x, y\n",
              "(def f (x y=1.0) {(return (tuple x y))})");
    CHECK_AST("def f(): pass", "(def f () {pass})");
    CHECK_AST("def f():\n  def g():\n    return 1\n  return g\n",
              "(def f () {(def g () {(return 1)}); (return g)})");
    CHECK_AST("import x\nimport a.b as c, d\nfrom x import y, z as w\nfrom m import *\n"
              "from . import q\nfrom ..p.r import (s,)\n",
              "(import x); (import a.b as c d); (from x y z as w); (from m *); (from . q); "
              "(from ..p.r s)");
    CHECK_AST("def f():\n  global a, b\n  del a, b[0], c.d\n  assert a, 'msg'\n  assert b\n",
              "(def f () {(global a b); (del a (index b 0) (. c d)); (assert a 'msg'); "
              "(assert b _)})");
    CHECK_AST("del (a, b)", "(del (tuple a b))");
    CHECK_AST("for x in y:\n  def g():\n    for z in w:\n      break\n  continue\n",
              "(for x in y {(def g () {(for z in w {break})}); continue})");
    CHECK_AST("f = lambda: (yield_)", "(= f (lambda () yield_))");
}

// ---- locations ----

static const ast *stmt(const parsed *r, int i) {
    return r->m && i < r->m->n ? r->m->body[i] : NULL;
}

static void check_loc(const ast *x, int line, int col, int at_line) {
    char d[128];
    snprintf(d, sizeof d, "node at %d:%d, want %d:%d", x ? x->loc.line : -1, x ? x->loc.col : -1,
             line, col);
    expect_at(x && x->loc.line == line && x->loc.col == col && x->loc.file == 1, at_line,
              "location", d);
}

#define CHECK_LOC(x, line, col) check_loc(x, line, col, __LINE__)

static void test_locations(void) {
    parsed r = parse("x = a.gain(2)\n"                 // 1: ASSIGN, CALL at gain, ATTR at gain
                     "y = 1 + b * c\n"                 // 2: + at 7, * at 11
                     "z = p < q and r\n"               // 3: compare at 7, and at 11
                     "if k:\n    w = [i for i in v]\n" // 4, 5
                     "t = m if n else o\n"             // 6: ifexp at its first token
                     "u = s[1:2]\n"                    // 7
                     "f(x, key=3)\n");                 // 8
    CHECK_STATUS(r.st, PG_OK);
    const ast *s0 = stmt(&r, 0);
    CHECK_LOC(s0, 1, 1);
    CHECK_LOC(s0->list[0], 1, 1);
    CHECK_LOC(s0->a, 1, 7);    // the call: its callee's location, the attribute name
    CHECK_LOC(s0->a->a, 1, 7); // the attribute
    CHECK_LOC(s0->a->a->a, 1, 5);
    CHECK_LOC(s0->a->list[0], 1, 12);
    const ast *s1 = stmt(&r, 1);
    CHECK_LOC(s1->a, 2, 7);
    CHECK_LOC(s1->a->b, 2, 11);
    const ast *s2 = stmt(&r, 2);
    CHECK_LOC(s2->a, 3, 11);
    CHECK_LOC(s2->a->a, 3, 7);
    const ast *s3 = stmt(&r, 3);
    CHECK_LOC(s3, 4, 1);
    CHECK_LOC(s3->list[0], 5, 5);
    CHECK_LOC(s3->list[0]->a, 5, 9);           // listcomp at '['
    CHECK_LOC(s3->list[0]->a->list[0], 5, 12); // the 'for' clause
    CHECK_LOC(stmt(&r, 4)->a, 6, 5);
    const ast *s5 = stmt(&r, 5);
    CHECK_LOC(s5->a, 7, 5);    // index: its first token
    CHECK_LOC(s5->a->b, 7, 7); // slice
    const ast *s6 = stmt(&r, 6);
    CHECK_LOC(s6, 8, 1);
    CHECK_LOC(s6->a, 8, 1);
    CHECK_LOC(s6->a->list2[0], 8, 6); // keyword at its name
    done(&r);

    r = parse("def note(a,\n         b=2):\n    return -a\n");
    CHECK_STATUS(r.st, PG_OK);
    CHECK_LOC(stmt(&r, 0), 1, 1);
    CHECK_LOC(stmt(&r, 0)->list2[1], 2, 10);
    CHECK_LOC(stmt(&r, 0)->list[0], 3, 5);
    CHECK_LOC(stmt(&r, 0)->list[0]->a, 3, 12); // unary at its operator
    done(&r);

    r = parse("a = 'é' + (x.y)\nn = 2.5s\nif p:\n  pass\nelif q:\n  pass\n");
    CHECK_STATUS(r.st, PG_OK);
    CHECK_LOC(stmt(&r, 0)->a, 1, 9);     // + after a 1-character, 2-byte string body
    CHECK_LOC(stmt(&r, 0)->a->b, 1, 14); // attribute name inside parentheses
    CHECK_LOC(stmt(&r, 1)->a, 2, 5);
    CHECK_LOC(stmt(&r, 1)->a->a, 2, 5);
    CHECK_LOC(stmt(&r, 2)->list2[0], 5, 1); // the elif
    done(&r);
}

// ---- errors ----

static void test_errors(void) {
    CHECK_SYNTAX("x = = 1\n", 1, 5, "invalid syntax");
    CHECK_SYNTAX("x = 1 +\n", 1, 8, "invalid syntax");
    CHECK_SYNTAX("a b\n", 1, 3, "invalid syntax");
    CHECK_SYNTAX("if x\n    y\n", 1, 5, "expected ':'");
    CHECK_SYNTAX("if x = 1:\n    y\n", 1, 6, "Maybe you meant '==' instead of '='?");
    CHECK_SYNTAX("for i range(3):\n  pass\n", 1, 7, "expected 'in'");
    CHECK_SYNTAX("def f(x)\n  pass\n", 1, 9, "expected ':'");
    CHECK_SYNTAX("x = 1\n    y = 2\n", 2, 5, "unexpected indent");
    CHECK_SYNTAX("a = 1\nif a:\n    b\nelse:\nc\n", 5, 1,
                 "expected an indented block after 'else' statement on line 4");
    CHECK_SYNTAX("x = 1\n\nif x > 0:\nprint(x)\n", 4, 1,
                 "expected an indented block after 'if' statement on line 3");
    CHECK_SYNTAX("for x in y:\n", 2, 1,
                 "expected an indented block after 'for' statement on line 1");
    CHECK_SYNTAX("def f():\n# c\nx\n", 3, 1,
                 "expected an indented block after function definition on line 1");
    CHECK_SYNTAX("while 1:\n  pass\nelse:\npass", 4, 1, "after 'else' statement on line 3");
    CHECK_SYNTAX("if a:\n  pass\nelif b:\npass", 4, 1, "after 'elif' statement on line 3");
    CHECK_SYNTAX("else:\n  pass\n", 1, 1, "invalid syntax");
    // invalid targets, blamed at the target's first token
    CHECK_SYNTAX("f() = 1\n", 1, 1, "cannot assign to function call here. Maybe you meant '=='");
    CHECK_SYNTAX("x = 1 = y\n", 1, 5, "cannot assign to literal");
    CHECK_SYNTAX("a.b(c) = 1\n", 1, 1, "cannot assign to function call");
    CHECK_SYNTAX("a, f() = 1, 2\n", 1, 4, "cannot assign to function call");
    CHECK_SYNTAX("a + b = 1\n", 1, 1, "cannot assign to expression");
    CHECK_SYNTAX("None = 1\n", 1, 1, "cannot assign to None");
    CHECK_SYNTAX("for f() in x:\n  pass\n", 1, 5, "cannot assign to function call");
    CHECK_SYNTAX("[x for 1 in y]\n", 1, 8, "cannot assign to literal");
    CHECK_SYNTAX("f() += 1\n", 1, 1, "'function call' is an illegal expression for augmented");
    CHECK_SYNTAX("a, b += 1\n", 1, 1, "'tuple' is an illegal expression for augmented");
    CHECK_SYNTAX("del f()\n", 1, 5, "cannot delete function call");
    CHECK_SYNTAX("*a = 1\n", 1, 1, "starred assignment target must be in a list or tuple");
    CHECK_SYNTAX("*a, *b = c\n", 1, 5, "multiple starred expressions in assignment");
    CHECK_SYNTAX("x = *a\n", 1, 5, "cannot use starred expression here");
    CHECK_SYNTAX("print(*a for a in b)\n", 1, 7, "iterable unpacking cannot be used");
    CHECK_SYNTAX("x = [*a for a in b]\n", 1, 6, "iterable unpacking cannot be used");
    CHECK_SYNTAX("x = (*a)\n", 1, 6, "cannot use starred expression here");
    CHECK_SYNTAX("False = 1\n", 1, 1, "cannot assign to False");
    CHECK_SYNTAX("lambda: 1 = x\n", 1, 1, "cannot assign to lambda");
    CHECK_SYNTAX("[x for x in y] = 1\n", 1, 1, "cannot assign to list comprehension");
    CHECK_SYNTAX("(x for x in y) = 1\n", 1, 1, "cannot assign to generator expression");
    CHECK_SYNTAX("{} = 1\n", 1, 1, "cannot assign to dict literal");
    CHECK_SYNTAX("a if b else c = 1\n", 1, 1, "cannot assign to conditional expression");
    CHECK_SYNTAX("a < b = 1\n", 1, 1, "cannot assign to comparison");
    // calls
    CHECK_SYNTAX("f(a=1, 2)\n", 1, 8, "positional argument follows keyword argument");
    CHECK_SYNTAX("f(**k, 2)\n", 1, 8, "positional argument follows keyword argument unpacking");
    CHECK_SYNTAX("f(**k, *a)\n", 1, 8, "iterable argument unpacking follows keyword argument");
    CHECK_SYNTAX("f(a=1, a=2)\n", 1, 8, "keyword argument repeated: a");
    CHECK_SYNTAX("f(x.y=1)\n", 1, 3, "expression cannot contain assignment");
    CHECK_SYNTAX("f(True=1)\n", 1, 3, "cannot assign to True");
    CHECK_SYNTAX("f(x for x in y, 1)\n", 1, 3, "Generator expression must be parenthesized");
    CHECK_SYNTAX("f(1, x for x in y)\n", 1, 6, "Generator expression must be parenthesized");
    CHECK_SYNTAX("MixPE(\n  note(1),\n  note(2)\n  note(3))\n", 3, 3,
                 "invalid syntax. Perhaps you forgot a comma?");
    CHECK_SYNTAX("x = [1, 2 3]\n", 1, 9, "Perhaps you forgot a comma?");
    CHECK_SYNTAX("x = (a 'b')\n", 1, 6, "Perhaps you forgot a comma?");
    CHECK_SYNTAX("x = a if b\n", 1, 11, "expected 'else' after 'if' expression");
    CHECK_SYNTAX("x = a[]\n", 1, 7, "invalid syntax");
    CHECK_SYNTAX("x = {1, 2}\n", 1, 5, "set displays are not supported");
    CHECK_SYNTAX("x = {k: v for k in y}\n", 1, 11, "dict comprehensions are not supported");
    CHECK_SYNTAX("x = {**a}\n", 1, 6, "dict unpacking");
    // definitions
    CHECK_SYNTAX("def f(a=1, b):\n  pass\n", 1, 12,
                 "non-default argument follows default argument");
    CHECK_SYNTAX("def f(a, a):\n  pass\n", 1, 10, "duplicate argument 'a' in function definition");
    CHECK_SYNTAX("def f(*):\n  pass\n", 1, 7, "named arguments must follow bare *");
    CHECK_SYNTAX("def f(*, **k):\n  pass\n", 1, 7, "named arguments must follow bare *");
    CHECK_SYNTAX("def f(**k, a):\n  pass\n", 1, 12, "arguments cannot follow var-keyword argument");
    CHECK_SYNTAX("def f(*a, *b):\n  pass\n", 1, 11, "* argument may appear only once");
    CHECK_SYNTAX("def f(*a=1):\n  pass\n", 1, 9, "var-positional argument cannot have default");
    CHECK_SYNTAX("lambda x y: 1\n", 1, 10, "expected ':'");
    CHECK_SYNTAX("@dec\ndef f():\n  pass\n", 1, 1, "decorators are not supported");
    CHECK_SYNTAX("class A:\n  pass\n", 1, 1, "'class' statements are not supported");
    CHECK_SYNTAX("try:\n  pass\n", 1, 1, "'try' statements are not supported");
    CHECK_SYNTAX("with f as g:\n  pass\n", 1, 1, "'with' statements are not supported");
    CHECK_SYNTAX("return 1\n", 1, 1, "'return' outside function");
    CHECK_SYNTAX("break\n", 1, 1, "'break' outside loop");
    CHECK_SYNTAX("if x:\n  continue\n", 2, 3, "'continue' not properly in loop");
    CHECK_SYNTAX("for x in y:\n  def f():\n    break\n", 3, 5, "'break' outside loop");
    CHECK_SYNTAX("for x in y:\n  pass\nelse:\n  break\n", 4, 3, "'break' outside loop");
    CHECK_SYNTAX("from x imp y\n", 1, 8, "expected 'import'");
    CHECK_SYNTAX("import .x\n", 1, 8, "invalid syntax");
    CHECK_SYNTAX("x = 1 y = 2\n", 1, 7, "invalid syntax");
    CHECK_SYNTAX("x = (1 if 2)\n", 1, 12, "expected 'else'");
    // the lexer's errors come through parse unchanged
    CHECK_SYNTAX("x = f'{y}'\n", 1, 5, "f-strings are not supported");
    CHECK_SYNTAX("x = (1,\ny = 2\n", 1, 5, "'(' was never closed");
}

// Deep nesting of every recursive form is PG_ERR_LIMIT, not a stack overflow.
static void check_nested(const char *prefix, const char *middle, const char *suffix, int times,
                         pg_status want, int line) {
    size_t cap =
        strlen(prefix) * (size_t)times + strlen(middle) + strlen(suffix) * (size_t)times + 1;
    char *src = malloc(cap);
    size_t n = 0;
    for (int i = 0; i < times; i++)
        n += (size_t)sprintf(src + n, "%s", prefix);
    n += (size_t)sprintf(src + n, "%s", middle);
    for (int i = 0; i < times; i++)
        n += (size_t)sprintf(src + n, "%s", suffix);
    parsed r = parse(src);
    char d[800];
    snprintf(d, sizeof d, "%s x %d: got %s (%s), want %s", prefix, times, pg_status_str(r.st),
             r.diag.message, pg_status_str(want));
    expect_at(r.st == want && (want == PG_OK || strstr(r.diag.message, "too deeply nested")), line,
              "nesting", d);
    done(&r);
    free(src);
}

static void test_limits(void) {
    check_nested("(", "1", ")", 100, PG_OK, __LINE__);
    check_nested("(", "1", ")", 250, PG_ERR_LIMIT, __LINE__);
    check_nested("[", "1", "]", 100000, PG_ERR_LIMIT, __LINE__);
    check_nested("f(", "1", ")", 150, PG_OK, __LINE__);
    check_nested("-", "1", "", 150, PG_OK, __LINE__);
    check_nested("-", "1", "", 100000, PG_ERR_LIMIT, __LINE__);
    check_nested("not ", "1", "", 100000, PG_ERR_LIMIT, __LINE__);
    check_nested("2 ** ", "1", "", 100000, PG_ERR_LIMIT, __LINE__);
    check_nested("lambda: ", "1", "", 100000, PG_ERR_LIMIT, __LINE__);
    check_nested("a if b else ", "1", "", 100000, PG_ERR_LIMIT, __LINE__);
    check_nested("x = ", "1", "", 1, PG_OK, __LINE__);
    // long flat sequences are not nesting
    check_nested("1 + ", "1", "", 100000, PG_OK, __LINE__);
    check_nested("a.", "b", "", 100000, PG_OK, __LINE__);
    check_nested("", "x", "[0]", 100000, PG_OK, __LINE__);
    check_nested("if a:\n  pass\nel", "se:\n  pass\n", "", 1, PG_OK, __LINE__);
    check_nested("pass\n", "", "", 100000, PG_OK, __LINE__);
}

// ---- fuzz ----

static const char *const fuzz_seeds[] = {
    "# tristan.pg\n"
    "frame_rate(48000)\n"
    "\n"
    "def note(start, dur, pitch, amp=0.2, *rest, **kw):\n"
    "    '''one note'''\n"
    "    return BlitSawPE(frequency=pitch_to_freq(pitch)).gain(amp).crop(\n"
    "        Extent(start, start + dur))\n"
    "\n"
    "chord = MixPE(\n"
    "    note(0.5s, 4.5s, 53, 0.2),\n"
    "    note(1.0s, 4.0s, 59),\n"
    "    *[note(i * 250ms, 3s, p) for i, p in enumerate([63, 68]) if p > 0])\n"
    "render(chord)\n",

    "import math, random as rnd\n"
    "from pygmu import *\n"
    "xs = [1, 2.5, 0x1f, 1_000, 'a\\tb', r'\\d', \"\"\"doc\"\"\", None, True]\n"
    "d = {'k': xs[1:3], 'j': xs[::2], 'm': xs[-1]}\n"
    "a, *b = xs\n"
    "for i, (p, n) in enumerate(zip(xs, xs)):\n"
    "    if i % 2 == 0 and not p is None:\n"
    "        continue\n"
    "    elif i >= 3 or n in d:\n"
    "        break\n"
    "    else:\n"
    "        a += i ** -2 // 3 << 1 | 4 & ~5 ^ 6\n"
    "else:\n"
    "    pass\n"
    "while a < 10: a += 1; b = a if a else -a\n"
    "f = lambda x, y=2: (x, y) if x is not y else [x for x in range(y)]\n"
    "del d['k']\n"
    "assert len(xs) > 0, 'empty'\n"
    "def g():\n"
    "    global a\n"
    "    a = sum(x * x for x in xs if x)\n"
    "    return a\n",

    "s = SinPE(frequency=440, amplitude=0.5)\n"
    "t = s.time_shift(int(1.5s)).crop(Extent(end=2s))\n"
    "x = \\\n"
    "    MixPE(t, s.gain(-6), f(*args, k=1, **kw))\n"
    "if x:\n"
    "\tm = [[1, 2], [3, 4]][0][1]\n"
    "render(x.mono())\n",
};

static uint64_t rng_state = 0x9E3779B97F4A7C15u; // fixed seed: the run is reproducible

static uint32_t rng(void) {
    // xorshift64*
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Du) >> 32);
}

// Bytes the mutations insert: mostly the language's own characters, so that mutants get
// deep into the parser, and some arbitrary bytes.
static char fuzz_byte(void) {
    static const char alphabet[] = "()[]{}:,.;=+-*/%<>!&|^~@#'\"\\ \t\n\r_0123456789esmxabf"
                                   "\x80\xc3\xe2\xff";
    if (rng() % 8 == 0)
        return (char)(1 + rng() % 255);
    return alphabet[rng() % (sizeof alphabet - 1)];
}

static int fuzz_failures;
static int fuzz_outcomes[PG_ERR_INTERNAL + 1]; // variants per status

static void fuzz_one(const char *src) {
    parsed r = parse(src);
    if (r.st >= PG_OK && r.st <= PG_ERR_INTERNAL)
        fuzz_outcomes[r.st]++;
    int ok = r.st == PG_OK || ((r.st == PG_ERR_SYNTAX || r.st == PG_ERR_LIMIT) &&
                               r.diag.loc.line >= 1 && r.diag.loc.col >= 1 && r.diag.loc.file == 1);
    if (!ok && fuzz_failures++ < 5) {
        char d[700];
        snprintf(d, sizeof d, "status %s at %d:%d \"%s\" for:\n%s", pg_status_str(r.st),
                 r.diag.loc.line, r.diag.loc.col, r.diag.message, src);
        check_report(__FILE__, __LINE__, "fuzz", d);
    }
    done(&r);
}

static void mutate(char *buf, size_t *n, size_t cap) {
    int edits = 1 + (int)(rng() % 3);
    for (int e = 0; e < edits; e++) {
        size_t at = *n ? rng() % *n : 0;
        switch (rng() % 3) {
        case 0: // flip
            if (*n)
                buf[at] = fuzz_byte();
            break;
        case 1: // insert
            if (*n + 1 < cap) {
                memmove(buf + at + 1, buf + at, *n - at);
                buf[at] = fuzz_byte();
                (*n)++;
            }
            break;
        default: // delete
            if (*n) {
                memmove(buf + at, buf + at + 1, *n - at - 1);
                (*n)--;
            }
            break;
        }
    }
    buf[*n] = '\0';
}

// Copies line `which` (counted modulo the line count) of src into line, NUL-terminated.
static void pick_line(const char *src, unsigned which, char *line, size_t cap) {
    unsigned lines = 0;
    for (const char *q = src; *q; q++)
        lines += *q == '\n';
    which %= lines ? lines : 1;
    const char *b = src;
    for (unsigned i = 0; i < which; i++)
        b = strchr(b, '\n') + 1;
    size_t n = strcspn(b, "\n");
    n = n < cap - 2 ? n : cap - 2;
    memcpy(line, b, n);
    line[n] = '\n';
    line[n + 1] = '\0';
}

// Inserts a line of some seed (its indentation kept) at a line start of buf: statements
// land in the wrong blocks, which exercises the parser rather than the lexer.
static void splice(char *buf, size_t *n, size_t cap) {
    char line[256];
    size_t k = rng() % (sizeof fuzz_seeds / sizeof fuzz_seeds[0]);
    pick_line(fuzz_seeds[k], rng(), line, sizeof line);
    size_t len = strlen(line), at = *n ? rng() % *n : 0;
    while (at > 0 && buf[at - 1] != '\n')
        at--;
    if (*n + len >= cap)
        return;
    memmove(buf + at + len, buf + at, *n - at + 1);
    memcpy(buf + at, line, len);
    *n += len;
}

static void test_fuzz(void) {
    int variants = 0;
    for (size_t k = 0; k < sizeof fuzz_seeds / sizeof fuzz_seeds[0]; k++) {
        const char *seed = fuzz_seeds[k];
        size_t len = strlen(seed);
        parsed r = parse(seed);
        CHECK_STATUS(r.st, PG_OK); // the seeds themselves are valid
        done(&r);
        size_t cap = len + 1024;
        char *buf = malloc(cap);
        for (size_t cut = 0; cut <= len; cut++) { // every truncation
            memcpy(buf, seed, cut);
            buf[cut] = '\0';
            fuzz_one(buf);
            variants++;
        }
        for (int i = 0; i < 1500; i++) { // random edits
            size_t n = len;
            memcpy(buf, seed, len + 1);
            mutate(buf, &n, cap);
            fuzz_one(buf);
            variants++;
        }
        for (int i = 0; i < 500; i++) { // lines moved between blocks and programs
            size_t n = len;
            memcpy(buf, seed, len + 1);
            for (int j = 1 + (int)(rng() % 3); j > 0; j--)
                splice(buf, &n, cap);
            fuzz_one(buf);
            variants++;
        }
        free(buf);
    }
    printf("fuzz: %d variants: %d parsed, %d syntax errors, %d limit errors\n", variants,
           fuzz_outcomes[PG_OK], fuzz_outcomes[PG_ERR_SYNTAX], fuzz_outcomes[PG_ERR_LIMIT]);
    CHECK(variants > 4000);
    CHECK_EQ_I64(fuzz_failures, 0);
    // the mutants reach the parser: some parse, many fail in it rather than in the lexer
    CHECK(fuzz_outcomes[PG_OK] > 100);
}

int main(void) {
    test_precedence();
    test_atoms();
    test_trailers();
    test_assignments();
    test_compound();
    test_locations();
    test_errors();
    test_limits();
    test_fuzz();
    return check_done();
}
