// ast.h: the syntax tree of a .pg program, the contract between the parser (parse.c) and
// the evaluator (eval.c). One node type; each kind documents which fields it uses. Every
// node carries the location of its first token, except: AST_ATTR has the location of the
// attribute name (so `x.gain(2)` blames `gain`), AST_CALL has its callee's location, and
// binary / comparison / boolean operators have the operator's location. Nodes live in the
// session arena.
#ifndef PG_COMPILER_AST_H
#define PG_COMPILER_AST_H

#include <stddef.h>
#include <stdint.h>

#include "pygmu.h"

typedef enum ast_kind {
    // ---- expressions ----
    AST_INT,   // ival
    AST_FLOAT, // fval
    AST_UNIT,  // a number with a time unit: a = AST_INT/AST_FLOAT, op = 's' or 'm' (ms)
    AST_STR,   // str, len (escapes decoded; adjacent literals joined)
    AST_NAME,  // name
    AST_TRUE,
    AST_FALSE,
    AST_NONE,
    AST_LIST,     // list[n]: elements (an element may be AST_STARRED)
    AST_TUPLE,    // list[n]: elements
    AST_DICT,     // list[n]: keys, list2[n]: values (same n)
    AST_STARRED,  // *a (in calls, list/tuple displays and assignment targets)
    AST_ATTR,     // a.name
    AST_INDEX,    // a[b]  (b may be AST_SLICE or AST_TUPLE)
    AST_SLICE,    // a:b:c, each NULL when omitted
    AST_CALL,     // a(list[n]): positional args (AST_STARRED for *x); keyword args in
                  // list2[n2] as AST_KEYWORD; a **kw argument is AST_KEYWORD with name NULL
    AST_KEYWORD,  // name=a
    AST_UNARY,    // op a: op is '-', '+', '~' or TK_NOT
    AST_BINARY,   // a op b: op is a token kind (TK_PLUS, TK_STAR, TK_DSLASH, ...)
    AST_BOOLOP,   // a and b / a or b: op TK_AND or TK_OR (short-circuit)
    AST_COMPARE,  // a op0 list[0] op1 list[1] ...: ops[i] are token kinds (TK_LT, TK_EQ,
                  // TK_IN, TK_NOT_IN, TK_IS, TK_IS_NOT, ...), chained as in Python
    AST_IFEXP,    // b if a else c   (a = condition, b = then, c = else)
    AST_LAMBDA,   // lambda params: a   (params as for AST_DEF)
    AST_LISTCOMP, // [a for ...]: list[n] are AST_COMP_FOR / AST_COMP_IF clauses in order
    AST_GENEXP,   // (a for ...) and a bare generator argument f(a for ...): as LISTCOMP
    AST_COMP_FOR, // for a in b   (a is the target)
    AST_COMP_IF,  // if a
    // ---- statements ----
    AST_EXPR,      // a (an expression statement; a bare string is a docstring)
    AST_ASSIGN,    // list[n] targets = a   (a = b = c has two targets); a target is a
                   // NAME, ATTR, INDEX, TUPLE/LIST of targets (nested), or STARRED
    AST_AUGASSIGN, // a op= b: op is the binary operator's token kind (TK_PLUS for +=)
    AST_DEF,       // def name(params): body   params: list2[n2] of AST_PARAM; body list[n]
    AST_PARAM,     // name, a = default or NULL; op = 0 plain, '*' for *args, 'k' for **kw
    AST_RETURN,    // return a (a NULL for a bare return)
    AST_IF,        // if a: list[n] else list2[n2] (elif is a nested AST_IF in list2)
    AST_FOR,       // for a in b: list[n] else list2[n2]
    AST_WHILE,     // while a: list[n] else list2[n2]
    AST_BREAK,
    AST_CONTINUE,
    AST_PASS,
    AST_IMPORT, // import / from ... import: name = the first module's dotted name,
                // str = its "as" alias or NULL; list of further modules unused
    AST_GLOBAL, // global names: list[n] of AST_NAME
    AST_DEL,    // del targets: list[n]
    AST_ASSERT, // assert a, b
} ast_kind;

typedef struct ast ast;
struct ast {
    ast_kind kind;
    pg_srcloc loc;
    ast *a, *b, *c;
    ast **list; // children: elements, arguments, statements of a body
    int n;
    ast **list2; // second children: keywords, else-body, dict values, parameters
    int n2;
    int *ops; // AST_COMPARE: n operators
    const char *name;
    const char *str; // string value (AST_STR), alias (AST_IMPORT)
    size_t len;      // AST_STR length in bytes
    int64_t ival;
    double fval;
    int op;
};

// A parsed module: its top-level statements.
typedef struct ast_module {
    ast **body;
    int n;
} ast_module;

#endif // PG_COMPILER_AST_H
