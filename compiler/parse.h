// parse.h: the .pg parser: tokens -> ast_module (ast.h), Python's grammar and operator
// precedence for the subset design.md describes. Errors go through diag_fatal.
#ifndef PG_COMPILER_PARSE_H
#define PG_COMPILER_PARSE_H

#include "ast.h"
#include "lex.h"
#include "session.h"

ast_module *parse_module(pg_session *s, const token *toks, int n);

#endif // PG_COMPILER_PARSE_H
