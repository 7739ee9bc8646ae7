// parse.c: the .pg parser: a recursive-descent parser over the token array of lex.c,
// building the AST of ast.h with Python 3's grammar and precedence for the subset of
// design.md. The first error is fatal (diag_fatal), with Python's wording where Python
// has one. Nesting deeper than MAX_DEPTH is PG_ERR_LIMIT, so no input overflows the stack.
// Every node carries the location of its first token, except the operators, calls and
// attributes that ast.h lists.
#include "parse.h"

#include <stdarg.h>
#include <string.h>

// Nested expressions and blocks deeper than this are PG_ERR_LIMIT (Python allows 200
// nested brackets).
enum {
    MAX_DEPTH = 200
};

typedef struct parser {
    pg_session *s;
    const token *t;
    int n, pos;
    int depth;   // current nesting, see enter()
    int in_func; // inside a def or lambda body: return is allowed
    int in_loop; // inside a loop body of the current function: break / continue allowed
} parser;

// A growable list of nodes (arena, doubling).
typedef struct nodes {
    ast **v;
    int n, cap;
} nodes;

static ast *parse_test(parser *p);
static ast *parse_or(parser *p);
static ast *parse_bitor(parser *p);
static ast *parse_factor(parser *p);
static void parse_statement(parser *p, nodes *out);
static void parse_simple_stmts(parser *p, nodes *out);

// ---- tokens and errors ----

static const token *peek(const parser *p) {
    return &p->t[p->pos];
}

static const token *peek_at(const parser *p, int k) {
    int i = p->pos + k;
    return &p->t[i < p->n ? i : p->n - 1];
}

static int at(const parser *p, tk_kind k) {
    return p->t[p->pos].kind == k;
}

// Consumes and returns the current token; never moves past TK_EOF.
static const token *next(parser *p) {
    const token *t = &p->t[p->pos];
    if (t->kind != TK_EOF)
        p->pos++;
    return t;
}

static int accept(parser *p, tk_kind k) {
    if (!at(p, k))
        return 0;
    next(p);
    return 1;
}

static _Noreturn void fail(parser *p, pg_srcloc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static _Noreturn void fail(parser *p, pg_srcloc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    diag_vfatal(p->s, loc, PG_ERR_SYNTAX, fmt, ap);
}

// The error for an unexpected token: Python's messages for the layout tokens.
static _Noreturn void unexpected(parser *p) {
    const token *t = peek(p);
    if (t->kind == TK_INDENT)
        fail(p, t->loc, "unexpected indent");
    if (t->kind == TK_DEDENT)
        fail(p, t->loc, "unexpected unindent");
    if (t->kind == TK_EOF)
        fail(p, t->loc, "unexpected end of file");
    fail(p, t->loc, "invalid syntax");
}

static const token *expect(parser *p, tk_kind k) {
    if (!at(p, k))
        unexpected(p);
    return next(p);
}

static void enter(parser *p) {
    if (++p->depth > MAX_DEPTH)
        diag_fatal(p->s, peek(p)->loc, PG_ERR_LIMIT, "too deeply nested (more than %d levels)",
                   MAX_DEPTH);
}

static void leave(parser *p) {
    p->depth--;
}

// ---- nodes ----

static ast *node(parser *p, ast_kind kind, pg_srcloc loc) {
    ast *x = ARENA_NEW(p->s->arena, ast);
    x->kind = kind;
    x->loc = loc;
    return x;
}

static void push(parser *p, nodes *l, ast *x) {
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 4;
        l->v = arena_grow(p->s->arena, l->v, (size_t)l->cap, (size_t)cap, sizeof *l->v);
        l->cap = cap;
    }
    l->v[l->n++] = x;
}

static const char *tok_text(parser *p, const token *t) {
    return arena_strndup(p->s->arena, t->start, t->text_len);
}

// The location of an expression's first token, for errors about a whole expression.
static pg_srcloc expr_start(const ast *x) {
    for (;;) {
        switch (x->kind) {
        case AST_ATTR:
        case AST_INDEX:
        case AST_CALL:
        case AST_BINARY:
        case AST_BOOLOP:
        case AST_COMPARE:
            x = x->a;
            break;
        case AST_IFEXP:
            x = x->b;
            break;
        default:
            return x->loc;
        }
    }
}

// Tokens that may start an expression directly after a complete one, which means a comma
// is probably missing ("MixPE(a b)").
static int starts_operand(tk_kind k) {
    return k == TK_NAME || k == TK_INT || k == TK_FLOAT || k == TK_UNIT || k == TK_STR ||
           k == TK_LBRACE || k == TK_TRUE || k == TK_FALSE || k == TK_NONE || k == TK_LAMBDA;
}

// Tokens that may start an expression at all (for optional expressions and trailing commas).
static int starts_expr(tk_kind k) {
    return starts_operand(k) || k == TK_LPAREN || k == TK_LBRACK || k == TK_MINUS || k == TK_PLUS ||
           k == TK_TILDE || k == TK_NOT || k == TK_STAR;
}

// Expects the closing token of a bracketed list after element x.
static void expect_close(parser *p, tk_kind close, const ast *x) {
    if (accept(p, close))
        return;
    if (x && starts_operand(peek(p)->kind))
        fail(p, expr_start(x), "invalid syntax. Perhaps you forgot a comma?");
    unexpected(p);
}

// ---- assignment targets ----

static const char *describe(const ast *x) {
    switch (x->kind) {
    case AST_CALL:
        return "function call";
    case AST_INT:
    case AST_FLOAT:
    case AST_UNIT:
    case AST_STR:
        return "literal";
    case AST_TRUE:
        return "True";
    case AST_FALSE:
        return "False";
    case AST_NONE:
        return "None";
    case AST_COMPARE:
        return "comparison";
    case AST_IFEXP:
        return "conditional expression";
    case AST_LAMBDA:
        return "lambda";
    case AST_LISTCOMP:
        return "list comprehension";
    case AST_GENEXP:
        return "generator expression";
    case AST_DICT:
        return "dict literal";
    case AST_STARRED:
        return "starred";
    default:
        return "expression";
    }
}

// Checks that x can be assigned to (or deleted, when is_del). Tuples and lists nest; one
// starred element is allowed in each.
static void check_target(parser *p, const ast *x, int is_del, const char *hint) {
    const char *verb = is_del ? "delete" : "assign to";
    if (x->kind == AST_NAME || x->kind == AST_ATTR || x->kind == AST_INDEX)
        return;
    if (x->kind == AST_STARRED && !is_del)
        fail(p, x->loc, "starred assignment target must be in a list or tuple");
    if (x->kind != AST_TUPLE && x->kind != AST_LIST)
        fail(p, expr_start(x), "cannot %s %s%s", verb, describe(x), hint);
    int stars = 0;
    for (int i = 0; i < x->n; i++) {
        const ast *e = x->list[i];
        if (e->kind == AST_STARRED && !is_del) {
            if (++stars > 1)
                fail(p, e->loc, "multiple starred expressions in assignment");
            e = e->a;
        }
        check_target(p, e, is_del, "");
    }
}

// ---- atoms ----

// Adjacent string literals are one string.
static ast *parse_strings(parser *p) {
    const token *first = peek(p);
    size_t len = 0;
    int k = 0;
    while (peek_at(p, k)->kind == TK_STR)
        len += peek_at(p, k++)->len;
    char *buf = arena_alloc(p->s->arena, len + 1);
    size_t at_byte = 0;
    while (at(p, TK_STR)) {
        const token *t = next(p);
        if (t->len)
            memcpy(buf + at_byte, t->str, t->len);
        at_byte += t->len;
    }
    ast *x = node(p, AST_STR, first->loc);
    x->str = buf;
    x->len = len;
    return x;
}

static ast *number_node(parser *p, const token *t, int is_float) {
    ast *x = node(p, is_float ? AST_FLOAT : AST_INT, t->loc);
    x->ival = t->ival;
    x->fval = t->fval;
    return x;
}

// star_or_test = "*" bitor | test
static ast *parse_star_or_test(parser *p) {
    if (!at(p, TK_STAR))
        return parse_test(p);
    ast *x = node(p, AST_STARRED, next(p)->loc);
    x->a = parse_bitor(p);
    return x;
}

// comp_clauses = ("for" targets "in" or_test | "if" or_test)*, starting with a "for"
static void parse_comp_clauses(parser *p, nodes *out);

static ast *parse_target_list(parser *p);

static void parse_comp_clauses(parser *p, nodes *out) {
    while (at(p, TK_FOR) || (out->n > 0 && at(p, TK_IF))) {
        const token *kw = next(p);
        ast *c = node(p, kw->kind == TK_FOR ? AST_COMP_FOR : AST_COMP_IF, kw->loc);
        if (kw->kind == TK_FOR) {
            c->a = parse_target_list(p);
            check_target(p, c->a, 0, "");
            if (!accept(p, TK_IN))
                fail(p, peek(p)->loc, "expected 'in'");
            c->b = parse_or(p);
        } else {
            c->a = parse_or(p);
        }
        push(p, out, c);
    }
}

// A comprehension: elt then its clauses; kind is AST_LISTCOMP or AST_GENEXP.
static ast *parse_comprehension(parser *p, ast_kind kind, pg_srcloc loc, ast *elt) {
    if (elt->kind == AST_STARRED)
        fail(p, elt->loc, "iterable unpacking cannot be used in comprehension");
    ast *x = node(p, kind, loc);
    nodes clauses = { 0 };
    parse_comp_clauses(p, &clauses);
    x->a = elt;
    x->list = clauses.v;
    x->n = clauses.n;
    return x;
}

// The elements of a list or tuple display after the first, up to the closing token.
static void parse_elements(parser *p, nodes *elts, tk_kind close) {
    while (accept(p, TK_COMMA)) {
        if (at(p, close))
            break;
        push(p, elts, parse_star_or_test(p));
    }
    expect_close(p, close, elts->v[elts->n - 1]);
}

// paren = "(" ")" | "(" test ")" | "(" test comp_clauses ")" | "(" elements ")"
static ast *parse_paren(parser *p) {
    pg_srcloc loc = next(p)->loc;
    if (accept(p, TK_RPAREN))
        return node(p, AST_TUPLE, loc);
    ast *first = parse_star_or_test(p);
    if (at(p, TK_FOR)) {
        ast *g = parse_comprehension(p, AST_GENEXP, loc, first);
        expect_close(p, TK_RPAREN, NULL);
        return g;
    }
    if (at(p, TK_RPAREN)) {
        if (first->kind == AST_STARRED)
            fail(p, first->loc, "cannot use starred expression here");
        next(p);
        return first;
    }
    if (!at(p, TK_COMMA))
        expect_close(p, TK_RPAREN, first);
    nodes elts = { 0 };
    push(p, &elts, first);
    parse_elements(p, &elts, TK_RPAREN);
    ast *x = node(p, AST_TUPLE, loc);
    x->list = elts.v;
    x->n = elts.n;
    return x;
}

// list = "[" "]" | "[" test comp_clauses "]" | "[" elements "]"
static ast *parse_list_display(parser *p) {
    pg_srcloc loc = next(p)->loc;
    ast *x = node(p, AST_LIST, loc);
    if (accept(p, TK_RBRACK))
        return x;
    ast *first = parse_star_or_test(p);
    if (at(p, TK_FOR)) {
        ast *c = parse_comprehension(p, AST_LISTCOMP, loc, first);
        expect_close(p, TK_RBRACK, NULL);
        return c;
    }
    nodes elts = { 0 };
    push(p, &elts, first);
    parse_elements(p, &elts, TK_RBRACK);
    x->list = elts.v;
    x->n = elts.n;
    return x;
}

// dict = "{" (test ":" test ("," test ":" test)* ","?)? "}"
static ast *parse_dict_display(parser *p) {
    pg_srcloc loc = next(p)->loc;
    nodes keys = { 0 }, values = { 0 };
    while (!accept(p, TK_RBRACE)) {
        if (at(p, TK_DSTAR))
            fail(p, peek(p)->loc, "dict unpacking (**) is not supported");
        ast *k = parse_test(p);
        if (!at(p, TK_COLON)) {
            if (at(p, TK_COMMA) || at(p, TK_RBRACE) || at(p, TK_FOR))
                fail(p, loc, "set displays are not supported");
            expect_close(p, TK_COLON, k);
        }
        next(p);
        ast *v = parse_test(p);
        if (at(p, TK_FOR))
            fail(p, peek(p)->loc, "dict comprehensions are not supported");
        push(p, &keys, k);
        push(p, &values, v);
        if (!accept(p, TK_COMMA)) {
            expect_close(p, TK_RBRACE, v);
            break;
        }
    }
    ast *x = node(p, AST_DICT, loc);
    x->list = keys.v;
    x->n = keys.n;
    x->list2 = values.v;
    x->n2 = values.n;
    return x;
}

// atom = NAME | number | unit | STRING+ | True | False | None | paren | list | dict
static ast *parse_atom(parser *p) {
    const token *t = peek(p);
    ast *x;
    switch (t->kind) {
    case TK_NAME:
        x = node(p, AST_NAME, t->loc);
        x->name = tok_text(p, t);
        break;
    case TK_INT:
    case TK_FLOAT:
        x = number_node(p, t, t->kind == TK_FLOAT);
        break;
    case TK_UNIT:
        x = node(p, AST_UNIT, t->loc);
        x->a = number_node(p, t, t->is_float);
        x->op = t->unit;
        break;
    case TK_STR:
        return parse_strings(p);
    case TK_TRUE:
    case TK_FALSE:
    case TK_NONE:
        x = node(p,
                 t->kind == TK_TRUE    ? AST_TRUE
                 : t->kind == TK_FALSE ? AST_FALSE
                                       : AST_NONE,
                 t->loc);
        break;
    case TK_LPAREN:
        return parse_paren(p);
    case TK_LBRACK:
        return parse_list_display(p);
    case TK_LBRACE:
        return parse_dict_display(p);
    case TK_STAR:
        fail(p, t->loc, "cannot use starred expression here");
    case TK_AT:
        fail(p, t->loc, "decorators are not supported");
    default:
        unexpected(p);
    }
    next(p);
    return x;
}

// ---- trailers: calls, subscripts, attributes ----

// A keyword argument name=value; names must not repeat.
static ast *parse_keyword(parser *p, const nodes *kws) {
    const token *name = next(p);
    next(p); // '='
    ast *k = node(p, AST_KEYWORD, name->loc);
    k->name = tok_text(p, name);
    for (int i = 0; i < kws->n; i++)
        if (kws->v[i]->name && strcmp(kws->v[i]->name, k->name) == 0)
            fail(p, name->loc, "keyword argument repeated: %s", k->name);
    k->a = parse_test(p);
    return k;
}

// A plain positional argument, or a sole generator argument f(x for x in y).
static ast *parse_positional(parser *p, const nodes *args, const nodes *kws, int seen_unpack) {
    pg_srcloc start = peek(p)->loc;
    ast *v = parse_test(p);
    if (at(p, TK_ASSIGN)) {
        if (v->kind == AST_TRUE || v->kind == AST_FALSE || v->kind == AST_NONE)
            fail(p, start, "cannot assign to %s", describe(v));
        fail(p, start, "expression cannot contain assignment, perhaps you meant \"==\"?");
    }
    if (at(p, TK_FOR)) {
        v = parse_comprehension(p, AST_GENEXP, start, v);
        if (args->n > 0 || kws->n > 0 || !at(p, TK_RPAREN))
            fail(p, start, "Generator expression must be parenthesized");
    }
    if (seen_unpack)
        fail(p, start, "positional argument follows keyword argument unpacking");
    if (kws->n > 0)
        fail(p, start, "positional argument follows keyword argument");
    return v;
}

// call = callee "(" (arg ("," arg)* ","?)? ")"
// arg  = test | test comp_clauses | "*" test | NAME "=" test | "**" test
static ast *parse_call(parser *p, ast *callee) {
    next(p); // '('
    nodes args = { 0 }, kws = { 0 };
    int seen_unpack = 0; // a **kw was seen
    while (!accept(p, TK_RPAREN)) {
        const token *t = peek(p);
        ast *arg;
        if (t->kind == TK_STAR || t->kind == TK_DSTAR) {
            next(p);
            arg = node(p, t->kind == TK_STAR ? AST_STARRED : AST_KEYWORD, t->loc);
            arg->a = parse_test(p);
            if (t->kind == TK_STAR && at(p, TK_FOR))
                fail(p, t->loc, "iterable unpacking cannot be used in comprehension");
            if (t->kind == TK_STAR && seen_unpack)
                fail(p, t->loc, "iterable argument unpacking follows keyword argument unpacking");
            seen_unpack |= t->kind == TK_DSTAR;
            push(p, t->kind == TK_STAR ? &args : &kws, arg);
        } else if (t->kind == TK_NAME && peek_at(p, 1)->kind == TK_ASSIGN) {
            arg = parse_keyword(p, &kws);
            push(p, &kws, arg);
        } else {
            arg = parse_positional(p, &args, &kws, seen_unpack);
            push(p, &args, arg);
        }
        if (!accept(p, TK_COMMA)) {
            expect_close(p, TK_RPAREN, arg);
            break;
        }
    }
    ast *x = node(p, AST_CALL, callee->loc);
    x->a = callee;
    x->list = args.v;
    x->n = args.n;
    x->list2 = kws.v;
    x->n2 = kws.n;
    return x;
}

// slice = test? ":" test? (":" test?)? | test
static ast *parse_slice(parser *p) {
    pg_srcloc loc = peek(p)->loc;
    ast *lower = at(p, TK_COLON) ? NULL : parse_test(p);
    if (!accept(p, TK_COLON))
        return lower;
    ast *x = node(p, AST_SLICE, loc);
    x->a = lower;
    if (!at(p, TK_COLON) && !at(p, TK_COMMA) && !at(p, TK_RBRACK))
        x->b = parse_test(p);
    if (accept(p, TK_COLON) && !at(p, TK_COMMA) && !at(p, TK_RBRACK))
        x->c = parse_test(p);
    return x;
}

// subscript = "[" slice ("," slice)* ","? "]"   (several make a tuple)
static ast *parse_subscript(parser *p) {
    next(p); // '['
    pg_srcloc loc = peek(p)->loc;
    nodes items = { 0 };
    push(p, &items, parse_slice(p));
    int is_tuple = 0;
    while (accept(p, TK_COMMA)) {
        is_tuple = 1;
        if (at(p, TK_RBRACK))
            break;
        push(p, &items, parse_slice(p));
    }
    expect_close(p, TK_RBRACK, items.v[items.n - 1]);
    if (!is_tuple)
        return items.v[0];
    ast *x = node(p, AST_TUPLE, loc);
    x->list = items.v;
    x->n = items.n;
    return x;
}

// primary = atom ("." NAME | "(" args ")" | "[" subscript "]")*
static ast *parse_primary(parser *p) {
    pg_srcloc start = peek(p)->loc;
    ast *x = parse_atom(p);
    for (;;) {
        if (at(p, TK_DOT)) {
            next(p);
            const token *name = expect(p, TK_NAME);
            ast *attr = node(p, AST_ATTR, name->loc);
            attr->a = x;
            attr->name = tok_text(p, name);
            x = attr;
        } else if (at(p, TK_LPAREN)) {
            x = parse_call(p, x);
        } else if (at(p, TK_LBRACK)) {
            ast *index = node(p, AST_INDEX, start);
            index->a = x;
            index->b = parse_subscript(p);
            x = index;
        } else {
            return x;
        }
    }
}

// ---- operators ----

static ast *binary(parser *p, ast_kind kind, const token *op, ast *a, ast *b) {
    ast *x = node(p, kind, op->loc);
    x->op = (int)op->kind;
    x->a = a;
    x->b = b;
    return x;
}

// power = primary ("**" factor)?   (right-associative through factor)
static ast *parse_power(parser *p) {
    ast *x = parse_primary(p);
    if (!at(p, TK_DSTAR))
        return x;
    const token *op = next(p);
    enter(p);
    x = binary(p, AST_BINARY, op, x, parse_factor(p));
    leave(p);
    return x;
}

// factor = ("+" | "-" | "~") factor | power
static ast *parse_factor(parser *p) {
    const token *t = peek(p);
    if (t->kind != TK_PLUS && t->kind != TK_MINUS && t->kind != TK_TILDE)
        return parse_power(p);
    next(p);
    enter(p);
    ast *x = node(p, AST_UNARY, t->loc);
    x->op = t->kind == TK_PLUS ? '+' : t->kind == TK_MINUS ? '-' : '~';
    x->a = parse_factor(p);
    leave(p);
    return x;
}

// The binary operator levels from loosest to tightest; each is left-associative:
// bitor = xor ("|" xor)*, xor = band ("^" band)*, band = shift ("&" shift)*,
// shift = arith (("<<" | ">>") arith)*, arith = term (("+" | "-") term)*,
// term = factor (("*" | "/" | "//" | "%" | "@") factor)*
static const tk_kind binary_levels[][6] = {
    { TK_PIPE },
    { TK_CARET },
    { TK_AMP },
    { TK_LSHIFT, TK_RSHIFT },
    { TK_PLUS, TK_MINUS },
    { TK_STAR, TK_SLASH, TK_DSLASH, TK_PERCENT, TK_AT },
};
enum {
    N_BINARY_LEVELS = sizeof binary_levels / sizeof binary_levels[0]
};

static int in_level(int level, tk_kind k) {
    for (int i = 0; i < 6 && binary_levels[level][i]; i++)
        if (binary_levels[level][i] == k)
            return 1;
    return 0;
}

static ast *parse_binary(parser *p, int level) {
    if (level == N_BINARY_LEVELS)
        return parse_factor(p);
    ast *x = parse_binary(p, level + 1);
    while (in_level(level, peek(p)->kind)) {
        const token *op = next(p);
        x = binary(p, AST_BINARY, op, x, parse_binary(p, level + 1));
    }
    return x;
}

static ast *parse_bitor(parser *p) {
    return parse_binary(p, 0);
}

// The comparison operator at the current token (not in / is not take two tokens), or 0.
static tk_kind comparison_op(parser *p, int *width) {
    tk_kind k = peek(p)->kind, k1 = peek_at(p, 1)->kind;
    *width = 1;
    switch (k) {
    case TK_LT:
    case TK_GT:
    case TK_EQ:
    case TK_GE:
    case TK_LE:
    case TK_NE:
    case TK_IN:
        return k;
    case TK_IS:
        *width = k1 == TK_NOT ? 2 : 1;
        return k1 == TK_NOT ? TK_IS_NOT : TK_IS;
    case TK_NOT:
        *width = 2;
        return k1 == TK_IN ? TK_NOT_IN : TK_EOF;
    default:
        return TK_EOF;
    }
}

// comparison = bitor (comp_op bitor)*   (chained: a < b < c is one node)
static ast *parse_comparison(parser *p) {
    ast *x = parse_bitor(p);
    int width;
    tk_kind op = comparison_op(p, &width);
    if (op == TK_EOF)
        return x;
    ast *c = node(p, AST_COMPARE, peek(p)->loc);
    c->a = x;
    nodes rest = { 0 };
    int *ops = NULL, cap = 0;
    while (op != TK_EOF) {
        p->pos += width;
        if (rest.n == cap) {
            int ncap = cap ? cap * 2 : 4;
            ops = arena_grow(p->s->arena, ops, (size_t)cap, (size_t)ncap, sizeof *ops);
            cap = ncap;
        }
        ops[rest.n] = (int)op;
        push(p, &rest, parse_bitor(p));
        op = comparison_op(p, &width);
    }
    c->list = rest.v;
    c->n = rest.n;
    c->ops = ops;
    return c;
}

// not_test = "not" not_test | comparison
static ast *parse_not(parser *p) {
    if (!at(p, TK_NOT))
        return parse_comparison(p);
    const token *t = next(p);
    enter(p);
    ast *x = node(p, AST_UNARY, t->loc);
    x->op = TK_NOT;
    x->a = parse_not(p);
    leave(p);
    return x;
}

// and_test = not_test ("and" not_test)*
static ast *parse_and(parser *p) {
    ast *x = parse_not(p);
    while (at(p, TK_AND)) {
        const token *op = next(p);
        x = binary(p, AST_BOOLOP, op, x, parse_not(p));
    }
    return x;
}

// or_test = and_test ("or" and_test)*
static ast *parse_or(parser *p) {
    ast *x = parse_and(p);
    while (at(p, TK_OR)) {
        const token *op = next(p);
        x = binary(p, AST_BOOLOP, op, x, parse_and(p));
    }
    return x;
}

// ---- parameters, lambda, test ----

// One parameter: NAME (":" test)? ("=" test)?, or "*" NAME?, or "**" NAME.
static ast *parse_param(parser *p, int allow_annotation) {
    const token *t = peek(p);
    ast *x = node(p, AST_PARAM, t->loc);
    if (t->kind == TK_STAR || t->kind == TK_DSTAR) {
        next(p);
        x->op = t->kind == TK_STAR ? '*' : 'k';
        if (t->kind == TK_DSTAR || at(p, TK_NAME))
            x->name = tok_text(p, expect(p, TK_NAME));
    } else {
        x->name = tok_text(p, expect(p, TK_NAME));
    }
    if (allow_annotation && x->name && accept(p, TK_COLON))
        parse_test(p); // annotations are accepted and ignored
    if (at(p, TK_ASSIGN) && x->op != 0)
        fail(p, peek(p)->loc, "%s argument cannot have default value",
             x->op == '*' ? "var-positional" : "var-keyword");
    if (accept(p, TK_ASSIGN))
        x->a = parse_test(p);
    return x;
}

// Checks a parameter against those before it (Python's rules for def and lambda).
static void check_param(parser *p, const nodes *params, const ast *x, int seen_star) {
    for (int i = 0; i < params->n; i++) {
        const ast *q = params->v[i];
        if (q->op == 'k')
            fail(p, x->loc, "arguments cannot follow var-keyword argument");
        if (x->name && q->name && strcmp(q->name, x->name) == 0)
            fail(p, x->loc, "duplicate argument '%s' in function definition", x->name);
        if (x->op == '*' && q->op == '*')
            fail(p, x->loc, "* argument may appear only once");
    }
    int prev_default = params->n > 0 && params->v[params->n - 1]->a;
    if (!seen_star && x->op == 0 && !x->a && prev_default)
        fail(p, x->loc, "non-default argument follows default argument");
}

// params = param ("," param)* ","?  up to `close`; a bare * needs a named parameter after it.
static void parse_params(parser *p, tk_kind close, int allow_annotation, nodes *out) {
    int seen_star = 0;
    while (!at(p, close)) {
        ast *x = parse_param(p, allow_annotation);
        check_param(p, out, x, seen_star);
        seen_star |= x->op == '*';
        push(p, out, x);
        if (!accept(p, TK_COMMA))
            break;
    }
    for (int i = 0; i < out->n; i++) {
        const ast *x = out->v[i];
        if (x->op == '*' && !x->name && (i + 1 == out->n || out->v[i + 1]->op != 0))
            fail(p, x->loc, "named arguments must follow bare *");
    }
    if (!at(p, close)) {
        if (close == TK_COLON)
            fail(p, peek(p)->loc, "expected ':'");
        unexpected(p);
    }
}

// lambda = "lambda" params ":" test
static ast *parse_lambda(parser *p) {
    ast *x = node(p, AST_LAMBDA, next(p)->loc);
    nodes params = { 0 };
    parse_params(p, TK_COLON, 0, &params);
    next(p); // ':'
    int saved_func = p->in_func, saved_loop = p->in_loop;
    p->in_func = 1;
    p->in_loop = 0;
    x->a = parse_test(p);
    p->in_func = saved_func;
    p->in_loop = saved_loop;
    x->list2 = params.v;
    x->n2 = params.n;
    return x;
}

// test = lambda | or_test ("if" or_test "else" test)?
static ast *parse_test(parser *p) {
    enter(p);
    ast *x;
    if (at(p, TK_LAMBDA)) {
        x = parse_lambda(p);
    } else {
        pg_srcloc start = peek(p)->loc;
        x = parse_or(p);
        if (at(p, TK_IF)) {
            next(p);
            ast *e = node(p, AST_IFEXP, start);
            e->b = x;
            e->a = parse_or(p);
            if (!accept(p, TK_ELSE))
                fail(p, peek(p)->loc, "expected 'else' after 'if' expression");
            e->c = parse_test(p);
            x = e;
        }
    }
    leave(p);
    return x;
}

// testlist = star_or_test ("," star_or_test)* ","?   (a comma makes a tuple)
static ast *parse_testlist(parser *p) {
    pg_srcloc start = peek(p)->loc;
    ast *first = parse_star_or_test(p);
    if (!at(p, TK_COMMA))
        return first;
    nodes elts = { 0 };
    push(p, &elts, first);
    while (accept(p, TK_COMMA) && starts_expr(peek(p)->kind))
        push(p, &elts, parse_star_or_test(p));
    ast *x = node(p, AST_TUPLE, start);
    x->list = elts.v;
    x->n = elts.n;
    return x;
}

// targets = ("*"? bitor) ("," "*"? bitor)* ","?   (for loops, comprehensions, del)
// Fills elts; returns 1 when a comma made it a tuple.
static int parse_target_items(parser *p, nodes *elts) {
    for (;;) {
        ast *x;
        if (at(p, TK_STAR)) {
            x = node(p, AST_STARRED, next(p)->loc);
            x->a = parse_bitor(p);
        } else {
            x = parse_bitor(p);
        }
        push(p, elts, x);
        if (!accept(p, TK_COMMA))
            return elts->n > 1;
        if (!starts_expr(peek(p)->kind))
            return 1;
    }
}

static ast *parse_target_list(parser *p) {
    pg_srcloc start = peek(p)->loc;
    nodes elts = { 0 };
    int is_tuple = parse_target_items(p, &elts);
    if (!is_tuple && elts.n == 1)
        return elts.v[0];
    ast *x = node(p, AST_TUPLE, start);
    x->list = elts.v;
    x->n = elts.n;
    return x;
}

// ---- simple statements ----

// dotted = "."* NAME ("." NAME)*   (leading dots, or only dots, for relative imports
// when allow_dots). The tokens' texts are joined, so "a . b" is "a.b".
static ast *parse_dotted_name(parser *p, int allow_dots) {
    const token *first = peek(p);
    int k = 0;
    while (allow_dots && peek_at(p, k)->kind == TK_DOT)
        k++;
    if (k == 0 || peek_at(p, k)->kind == TK_NAME) {
        if (peek_at(p, k)->kind != TK_NAME)
            fail(p, peek_at(p, k)->loc, "invalid syntax");
        k++;
        while (peek_at(p, k)->kind == TK_DOT && peek_at(p, k + 1)->kind == TK_NAME)
            k += 2;
    }
    size_t len = 0;
    for (int i = 0; i < k; i++)
        len += peek_at(p, i)->text_len;
    char *name = arena_alloc(p->s->arena, len + 1);
    size_t at_byte = 0;
    for (int i = 0; i < k; i++) {
        const token *t = next(p);
        memcpy(name + at_byte, t->start, t->text_len);
        at_byte += t->text_len;
    }
    ast *x = node(p, AST_NAME, first->loc);
    x->name = name;
    return x;
}

// An optional "as NAME" after an import name.
static void parse_alias(parser *p, ast *x) {
    if (accept(p, TK_AS))
        x->str = tok_text(p, expect(p, TK_NAME));
}

// import = "import" dotted ("as" NAME)? ("," dotted ("as" NAME)?)*
// from   = "from" dotted "import" ("*" | "(" names ")" | names)
// AST_IMPORT: name = the (first) module, str = its alias, op = TK_IMPORT or TK_FROM,
// list = further modules (import) or the imported names (from), as AST_NAME with str alias.
static ast *parse_import(parser *p) {
    const token *kw = next(p);
    ast *x = node(p, AST_IMPORT, kw->loc);
    x->op = (int)kw->kind;
    nodes names = { 0 };
    ast *module = parse_dotted_name(p, kw->kind == TK_FROM);
    x->name = module->name;
    if (kw->kind == TK_IMPORT) {
        parse_alias(p, x);
        while (accept(p, TK_COMMA)) {
            ast *m = parse_dotted_name(p, 0);
            parse_alias(p, m);
            push(p, &names, m);
        }
    } else {
        if (!accept(p, TK_IMPORT))
            fail(p, peek(p)->loc, "expected 'import'");
        if (at(p, TK_STAR)) {
            ast *all = node(p, AST_NAME, next(p)->loc);
            all->name = "*";
            push(p, &names, all);
        } else {
            int paren = accept(p, TK_LPAREN);
            do {
                if (paren && at(p, TK_RPAREN))
                    break;
                const token *t = expect(p, TK_NAME);
                ast *n = node(p, AST_NAME, t->loc);
                n->name = tok_text(p, t);
                parse_alias(p, n);
                push(p, &names, n);
            } while (accept(p, TK_COMMA));
            if (paren)
                expect(p, TK_RPAREN);
        }
    }
    x->list = names.v;
    x->n = names.n;
    return x;
}

static ast *parse_global(parser *p) {
    ast *x = node(p, AST_GLOBAL, next(p)->loc);
    nodes names = { 0 };
    do {
        const token *t = expect(p, TK_NAME);
        ast *n = node(p, AST_NAME, t->loc);
        n->name = tok_text(p, t);
        push(p, &names, n);
    } while (accept(p, TK_COMMA));
    x->list = names.v;
    x->n = names.n;
    return x;
}

// del = "del" targets   (each target in list)
static ast *parse_del(parser *p) {
    ast *x = node(p, AST_DEL, next(p)->loc);
    nodes targets = { 0 };
    parse_target_items(p, &targets);
    for (int i = 0; i < targets.n; i++)
        check_target(p, targets.v[i], 1, "");
    x->list = targets.v;
    x->n = targets.n;
    return x;
}

// An augmented assignment a op= b; op is the binary operator's token kind.
static tk_kind augassign_op(tk_kind k) {
    switch (k) {
    case TK_PLUS_EQ:
        return TK_PLUS;
    case TK_MINUS_EQ:
        return TK_MINUS;
    case TK_STAR_EQ:
        return TK_STAR;
    case TK_SLASH_EQ:
        return TK_SLASH;
    case TK_DSLASH_EQ:
        return TK_DSLASH;
    case TK_PERCENT_EQ:
        return TK_PERCENT;
    case TK_DSTAR_EQ:
        return TK_DSTAR;
    case TK_AMP_EQ:
        return TK_AMP;
    case TK_PIPE_EQ:
        return TK_PIPE;
    case TK_CARET_EQ:
        return TK_CARET;
    case TK_LSHIFT_EQ:
        return TK_LSHIFT;
    case TK_RSHIFT_EQ:
        return TK_RSHIFT;
    default:
        return TK_EOF;
    }
}

static void no_bare_star(parser *p, const ast *x) {
    if (x->kind == AST_STARRED)
        fail(p, x->loc, "cannot use starred expression here");
}

// assign = testlist ("=" testlist)+ ; the last is the value, the others the targets
static ast *parse_assign(parser *p, pg_srcloc start, ast *first) {
    nodes targets = { 0 };
    ast *value = first;
    while (accept(p, TK_ASSIGN)) {
        push(p, &targets, value);
        value = parse_testlist(p);
    }
    no_bare_star(p, value);
    // Python's hint when a single non-tuple target is wrong: f() = 1 was meant as ==
    int single = targets.n == 1 && first->kind != AST_TUPLE && first->kind != AST_LIST;
    for (int i = 0; i < targets.n; i++)
        check_target(p, targets.v[i], 0,
                     single ? " here. Maybe you meant '==' instead of '='?" : "");
    ast *x = node(p, AST_ASSIGN, start);
    x->list = targets.v;
    x->n = targets.n;
    x->a = value;
    return x;
}

// annotated = target ":" test ("=" test)?  (the annotation is ignored; no value is a pass)
static ast *parse_annotated(parser *p, pg_srcloc start, ast *target) {
    if (target->kind != AST_NAME && target->kind != AST_ATTR && target->kind != AST_INDEX)
        fail(p, expr_start(target), "only single target (not %s) can be annotated",
             target->kind == AST_TUPLE  ? "tuple"
             : target->kind == AST_LIST ? "list"
                                        : "expression");
    next(p); // ':'
    parse_test(p);
    if (!accept(p, TK_ASSIGN))
        return node(p, AST_PASS, start);
    ast *x = node(p, AST_ASSIGN, start);
    x->list = ARENA_ARRAY(p->s->arena, ast *, 1);
    x->list[0] = target;
    x->n = 1;
    x->a = parse_testlist(p);
    no_bare_star(p, x->a);
    return x;
}

// expr_stmt = testlist (augassign testlist | ("=" testlist)* | ":" annotation)
static ast *parse_expr_stmt(parser *p) {
    pg_srcloc start = peek(p)->loc;
    ast *first = parse_testlist(p);
    tk_kind aug = augassign_op(peek(p)->kind);
    if (aug != TK_EOF) {
        if (first->kind != AST_NAME && first->kind != AST_ATTR && first->kind != AST_INDEX)
            fail(p, expr_start(first), "'%s' is an illegal expression for augmented assignment",
                 first->kind == AST_TUPLE  ? "tuple"
                 : first->kind == AST_LIST ? "list"
                                           : describe(first));
        next(p);
        ast *x = node(p, AST_AUGASSIGN, start);
        x->a = first;
        x->op = (int)aug;
        x->b = parse_testlist(p);
        no_bare_star(p, x->b);
        return x;
    }
    if (at(p, TK_ASSIGN))
        return parse_assign(p, start, first);
    if (at(p, TK_COLON))
        return parse_annotated(p, start, first);
    no_bare_star(p, first);
    ast *x = node(p, AST_EXPR, start);
    x->a = first;
    return x;
}

static ast *parse_small_stmt(parser *p) {
    const token *t = peek(p);
    ast *x;
    switch (t->kind) {
    case TK_PASS:
    case TK_BREAK:
    case TK_CONTINUE:
        next(p);
        if (t->kind == TK_BREAK && !p->in_loop)
            fail(p, t->loc, "'break' outside loop");
        if (t->kind == TK_CONTINUE && !p->in_loop)
            fail(p, t->loc, "'continue' not properly in loop");
        return node(p,
                    t->kind == TK_PASS    ? AST_PASS
                    : t->kind == TK_BREAK ? AST_BREAK
                                          : AST_CONTINUE,
                    t->loc);
    case TK_RETURN:
        next(p);
        if (!p->in_func)
            fail(p, t->loc, "'return' outside function");
        x = node(p, AST_RETURN, t->loc);
        if (starts_expr(peek(p)->kind))
            x->a = parse_testlist(p);
        return x;
    case TK_IMPORT:
    case TK_FROM:
        return parse_import(p);
    case TK_GLOBAL:
        return parse_global(p);
    case TK_DEL:
        return parse_del(p);
    case TK_ASSERT:
        next(p);
        x = node(p, AST_ASSERT, t->loc);
        x->a = parse_test(p);
        if (accept(p, TK_COMMA))
            x->b = parse_test(p);
        return x;
    default:
        return parse_expr_stmt(p);
    }
}

// simple_stmts = small_stmt (";" small_stmt)* ";"? NEWLINE
static void parse_simple_stmts(parser *p, nodes *out) {
    for (;;) {
        push(p, out, parse_small_stmt(p));
        if (!accept(p, TK_SEMI) || at(p, TK_NEWLINE))
            break;
    }
    if (!accept(p, TK_NEWLINE))
        unexpected(p);
}

// ---- compound statements ----

static void expect_colon(parser *p) {
    if (accept(p, TK_COLON))
        return;
    if (at(p, TK_ASSIGN))
        fail(p, peek(p)->loc, "invalid syntax. Maybe you meant '==' instead of '='?");
    fail(p, peek(p)->loc, "expected ':'");
}

// suite = simple_stmts | NEWLINE INDENT statement+ DEDENT. `what` and `line` name the
// header for the error when the indented block is missing.
static void parse_suite(parser *p, const char *what, int line, ast ***list, int *n) {
    nodes body = { 0 };
    if (!accept(p, TK_NEWLINE)) {
        parse_simple_stmts(p, &body);
    } else {
        if (!at(p, TK_INDENT))
            fail(p, peek(p)->loc, "expected an indented block after %s on line %d", what, line);
        next(p);
        while (!at(p, TK_DEDENT) && !at(p, TK_EOF))
            parse_statement(p, &body);
        accept(p, TK_DEDENT);
    }
    *list = body.v;
    *n = body.n;
}

// A loop body: break and continue are allowed inside it, not in its else clause.
static void parse_loop_body(parser *p, ast *x, const char *what) {
    int saved = p->in_loop;
    p->in_loop = 1;
    parse_suite(p, what, x->loc.line, &x->list, &x->n);
    p->in_loop = saved;
    if (at(p, TK_ELSE)) {
        int line = next(p)->loc.line;
        expect_colon(p);
        parse_suite(p, "'else' statement", line, &x->list2, &x->n2);
    }
}

// if = "if" test ":" suite ("elif" test ":" suite)* ("else" ":" suite)?
// Each elif is an AST_IF alone in the else-body of the one before.
static ast *parse_if(parser *p) {
    ast *x = node(p, AST_IF, next(p)->loc);
    x->a = parse_test(p);
    expect_colon(p);
    parse_suite(p, "'if' statement", x->loc.line, &x->list, &x->n);
    ast *tail = x;
    while (at(p, TK_ELIF)) {
        ast *e = node(p, AST_IF, next(p)->loc);
        e->a = parse_test(p);
        expect_colon(p);
        parse_suite(p, "'elif' statement", e->loc.line, &e->list, &e->n);
        tail->list2 = ARENA_ARRAY(p->s->arena, ast *, 1);
        tail->list2[0] = e;
        tail->n2 = 1;
        tail = e;
    }
    if (at(p, TK_ELSE)) {
        int line = next(p)->loc.line;
        expect_colon(p);
        parse_suite(p, "'else' statement", line, &tail->list2, &tail->n2);
    }
    return x;
}

// while = "while" test ":" suite ("else" ":" suite)?
static ast *parse_while(parser *p) {
    ast *x = node(p, AST_WHILE, next(p)->loc);
    x->a = parse_test(p);
    expect_colon(p);
    parse_loop_body(p, x, "'while' statement");
    return x;
}

// for = "for" targets "in" testlist ":" suite ("else" ":" suite)?
static ast *parse_for(parser *p) {
    ast *x = node(p, AST_FOR, next(p)->loc);
    x->a = parse_target_list(p);
    check_target(p, x->a, 0, "");
    if (!accept(p, TK_IN))
        fail(p, peek(p)->loc, "expected 'in'");
    x->b = parse_testlist(p);
    no_bare_star(p, x->b);
    expect_colon(p);
    parse_loop_body(p, x, "'for' statement");
    return x;
}

// def = "def" NAME "(" params ")" ("->" test)? ":" suite
static ast *parse_def(parser *p) {
    ast *x = node(p, AST_DEF, next(p)->loc);
    x->name = tok_text(p, expect(p, TK_NAME));
    expect(p, TK_LPAREN);
    nodes params = { 0 };
    parse_params(p, TK_RPAREN, 1, &params);
    next(p); // ')'
    x->list2 = params.v;
    x->n2 = params.n;
    if (accept(p, TK_ARROW))
        parse_test(p); // a return annotation is accepted and ignored
    expect_colon(p);
    int saved_func = p->in_func, saved_loop = p->in_loop;
    p->in_func = 1;
    p->in_loop = 0;
    parse_suite(p, "function definition", x->loc.line, &x->list, &x->n);
    p->in_func = saved_func;
    p->in_loop = saved_loop;
    return x;
}

// Python statements .pg does not have, recognised to say so rather than "invalid syntax".
static void reject_unsupported(parser *p) {
    static const char *const words[] = { "class", "try",   "except", "finally",  "with",
                                         "raise", "yield", "async",  "nonlocal", "await" };
    const token *t = peek(p);
    tk_kind k1 = peek_at(p, 1)->kind;
    if (t->kind != TK_NAME || (k1 != TK_NAME && k1 != TK_COLON))
        return;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i]) == t->text_len && memcmp(words[i], t->start, t->text_len) == 0)
            fail(p, t->loc, "'%s' statements are not supported", words[i]);
}

// statement = if | while | for | def | simple_stmts
static void parse_statement(parser *p, nodes *out) {
    const token *t = peek(p);
    if (t->kind == TK_INDENT)
        fail(p, t->loc, "unexpected indent");
    if (t->kind == TK_AT)
        fail(p, t->loc, "decorators are not supported");
    reject_unsupported(p);
    enter(p);
    switch (t->kind) {
    case TK_IF:
        push(p, out, parse_if(p));
        break;
    case TK_WHILE:
        push(p, out, parse_while(p));
        break;
    case TK_FOR:
        push(p, out, parse_for(p));
        break;
    case TK_DEF:
        push(p, out, parse_def(p));
        break;
    default:
        parse_simple_stmts(p, out);
        break;
    }
    leave(p);
}

ast_module *parse_module(pg_session *s, const token *toks, int n) {
    ast_module *m = ARENA_NEW(s->arena, ast_module);
    if (!toks || n <= 0 || toks[n - 1].kind != TK_EOF)
        return m;
    parser p = { .s = s, .t = toks, .n = n };
    nodes body = { 0 };
    while (!at(&p, TK_EOF)) {
        if (at(&p, TK_NEWLINE) || at(&p, TK_DEDENT)) {
            next(&p); // cannot come from lex_tokenize; skipped for robustness
            continue;
        }
        parse_statement(&p, &body);
    }
    m->body = body.v;
    m->n = body.n;
    return m;
}
