// lex.h: the .pg lexer. Turns source text into tokens with line:column, including the
// INDENT / DEDENT / NEWLINE tokens of Python's layout rules (lines join inside brackets
// and after a trailing backslash). Errors go through diag_fatal as PG_ERR_SYNTAX.
#ifndef PG_COMPILER_LEX_H
#define PG_COMPILER_LEX_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"

typedef enum tk_kind {
    TK_EOF = 0,
    TK_NEWLINE,
    TK_INDENT,
    TK_DEDENT,
    TK_NAME,
    TK_INT,   // ival
    TK_FLOAT, // fval
    TK_UNIT,  // a number with a unit suffix: fval/ival as the number, is_float, unit 's'/'m'
    TK_STR,   // str, len (decoded)
    // operators and delimiters
    TK_LPAREN,
    TK_RPAREN,
    TK_LBRACK,
    TK_RBRACK,
    TK_LBRACE,
    TK_RBRACE,
    TK_COMMA,
    TK_COLON,
    TK_DOT,
    TK_SEMI,
    TK_ARROW,
    TK_AT,
    TK_PLUS,
    TK_MINUS,
    TK_STAR,
    TK_SLASH,
    TK_DSLASH,
    TK_PERCENT,
    TK_DSTAR,
    TK_AMP,
    TK_PIPE,
    TK_CARET,
    TK_TILDE,
    TK_LSHIFT,
    TK_RSHIFT,
    TK_LT,
    TK_GT,
    TK_LE,
    TK_GE,
    TK_EQ,
    TK_NE,
    TK_ASSIGN, // =
    TK_PLUS_EQ,
    TK_MINUS_EQ,
    TK_STAR_EQ,
    TK_SLASH_EQ,
    TK_DSLASH_EQ,
    TK_PERCENT_EQ,
    TK_DSTAR_EQ,
    TK_AMP_EQ,
    TK_PIPE_EQ,
    TK_CARET_EQ,
    TK_LSHIFT_EQ,
    TK_RSHIFT_EQ,
    // keywords
    TK_AND,
    TK_OR,
    TK_NOT,
    TK_IN,
    TK_IS,
    TK_IF,
    TK_ELIF,
    TK_ELSE,
    TK_FOR,
    TK_WHILE,
    TK_DEF,
    TK_RETURN,
    TK_LAMBDA,
    TK_BREAK,
    TK_CONTINUE,
    TK_PASS,
    TK_IMPORT,
    TK_FROM,
    TK_AS,
    TK_GLOBAL,
    TK_DEL,
    TK_ASSERT,
    TK_TRUE,
    TK_FALSE,
    TK_NONE,
    // produced by the parser for comparisons only
    TK_NOT_IN,
    TK_IS_NOT,
    TK_COUNT
} tk_kind;

typedef struct token {
    tk_kind kind;
    pg_srcloc loc;
    const char *start; // the token's text in the source
    size_t text_len;
    int64_t ival;
    double fval;
    int is_float;    // TK_UNIT: the number had a fraction or exponent
    int unit;        // TK_UNIT: 's' or 'm'
    const char *str; // TK_STR: decoded bytes (arena), NUL-terminated
    size_t len;      // TK_STR: decoded length
} token;

// Tokenises the whole of src (file index `file` of the session) into an arena array
// ending with TK_EOF. Sets *n to the count (EOF included).
token *lex_tokenize(pg_session *s, int file, const char *src, int *n);

// The token kind's spelling for messages ("'('", "name", "end of line").
const char *lex_kind_str(tk_kind k);

#endif // PG_COMPILER_LEX_H
