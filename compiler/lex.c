// lex.c: the .pg lexer: source text -> an arena array of tokens ending with TK_EOF.
// Python's layout rules: INDENT/DEDENT from a stack of indentation widths (tabs to multiples
// of 8, checked against a tab-width-1 stack for tab/space consistency), NEWLINE only at the
// end of a logical line, implicit joining inside brackets and after a trailing backslash.
// Columns count characters (UTF-8 continuation bytes do not count). The whole file is
// tokenised before parsing, so a lexical error anywhere wins over a parse error, as in Python.
#include "lex.h"

#include <stdlib.h>
#include <string.h>

enum {
    MAX_BRACKETS = 200, // Python's MAXLEVEL: deeper nesting is PG_ERR_LIMIT
    MAX_INDENTS = 100,  // Python's MAXINDENT
};

typedef struct bracket {
    char ch;
    pg_srcloc loc;
} bracket;

typedef struct lexer {
    pg_session *s;
    int file;
    const char *p; // next byte
    int line, col; // of p
    token *toks;
    int n, cap;
    int indents[MAX_INDENTS + 1];     // widths with tabs to multiples of 8; [0] = 0
    int alt_indents[MAX_INDENTS + 1]; // the same with tabs counted as 1 column
    int n_indents;
    bracket brackets[MAX_BRACKETS];
    int depth;
    int at_line_start;   // at the first byte of a physical line outside brackets
    int line_has_tokens; // a token was emitted since the last NEWLINE
    pg_srcloc last_end;  // just after the last token, where a NEWLINE is placed
} lexer;

static const struct {
    const char *word;
    tk_kind kind;
} keywords[] = {
    { "and", TK_AND },       { "or", TK_OR },         { "not", TK_NOT },
    { "in", TK_IN },         { "is", TK_IS },         { "if", TK_IF },
    { "elif", TK_ELIF },     { "else", TK_ELSE },     { "for", TK_FOR },
    { "while", TK_WHILE },   { "def", TK_DEF },       { "return", TK_RETURN },
    { "lambda", TK_LAMBDA }, { "break", TK_BREAK },   { "continue", TK_CONTINUE },
    { "pass", TK_PASS },     { "import", TK_IMPORT }, { "from", TK_FROM },
    { "as", TK_AS },         { "global", TK_GLOBAL }, { "del", TK_DEL },
    { "assert", TK_ASSERT }, { "True", TK_TRUE },     { "False", TK_FALSE },
    { "None", TK_NONE },
};

// Operators, longest first so that the first match is the longest.
static const struct {
    const char *text;
    tk_kind kind;
} operators[] = {
    { "**=", TK_DSTAR_EQ },  { "//=", TK_DSLASH_EQ }, { "<<=", TK_LSHIFT_EQ },
    { ">>=", TK_RSHIFT_EQ }, { "**", TK_DSTAR },      { "//", TK_DSLASH },
    { "<<", TK_LSHIFT },     { ">>", TK_RSHIFT },     { "<=", TK_LE },
    { ">=", TK_GE },         { "==", TK_EQ },         { "!=", TK_NE },
    { "->", TK_ARROW },      { "+=", TK_PLUS_EQ },    { "-=", TK_MINUS_EQ },
    { "*=", TK_STAR_EQ },    { "/=", TK_SLASH_EQ },   { "%=", TK_PERCENT_EQ },
    { "&=", TK_AMP_EQ },     { "|=", TK_PIPE_EQ },    { "^=", TK_CARET_EQ },
    { "(", TK_LPAREN },      { ")", TK_RPAREN },      { "[", TK_LBRACK },
    { "]", TK_RBRACK },      { "{", TK_LBRACE },      { "}", TK_RBRACE },
    { ",", TK_COMMA },       { ":", TK_COLON },       { ".", TK_DOT },
    { ";", TK_SEMI },        { "@", TK_AT },          { "+", TK_PLUS },
    { "-", TK_MINUS },       { "*", TK_STAR },        { "/", TK_SLASH },
    { "%", TK_PERCENT },     { "&", TK_AMP },         { "|", TK_PIPE },
    { "^", TK_CARET },       { "~", TK_TILDE },       { "<", TK_LT },
    { ">", TK_GT },          { "=", TK_ASSIGN },
};

static pg_srcloc here(const lexer *lx) {
    pg_srcloc loc = { lx->file, lx->line, lx->col };
    return loc;
}

// Moves past one byte, keeping line and column (in characters) up to date.
static void adv(lexer *lx) {
    unsigned char c = (unsigned char)*lx->p;
    if (c == '\0')
        return;
    lx->p++;
    if (c == '\n') {
        lx->line++;
        lx->col = 1;
    } else if ((c & 0xC0) != 0x80) {
        lx->col++; // a UTF-8 continuation byte belongs to the character already counted
    }
}

static void adv_n(lexer *lx, int n) {
    while (n-- > 0)
        adv(lx);
}

static int is_ident_start(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(int c) {
    return c >= '0' && c <= '9';
}

static int is_ident_char(int c) {
    return is_ident_start(c) || is_digit(c);
}

// The value of a digit in any base up to 16, or 99 for a non-digit.
static int digit_value(int c) {
    if (is_digit(c))
        return c - '0';
    if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
        return (c | 0x20) - 'a' + 10;
    return 99;
}

static int is_newline_at(const char *p) {
    return p[0] == '\n' || (p[0] == '\r' && p[1] == '\n');
}

static token *push_token(lexer *lx, tk_kind kind, pg_srcloc loc, const char *start) {
    if (lx->n == lx->cap) {
        int cap = lx->cap ? lx->cap * 2 : 256;
        lx->toks = arena_grow(lx->s->arena, lx->toks, (size_t)lx->cap, (size_t)cap, sizeof(token));
        lx->cap = cap;
    }
    token *t = &lx->toks[lx->n++];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->loc = loc;
    t->start = start;
    return t;
}

// Emits a token that ends at the current position (its text is [start, p)).
static token *finish_token(lexer *lx, tk_kind kind, pg_srcloc loc, const char *start) {
    token *t = push_token(lx, kind, loc, start);
    t->text_len = (size_t)(lx->p - start);
    lx->line_has_tokens = 1;
    lx->last_end = here(lx);
    return t;
}

// ---- indentation ----

static void push_indent(lexer *lx, int width, int alt, pg_srcloc loc) {
    if (alt <= lx->alt_indents[lx->n_indents])
        diag_fatal(lx->s, loc, PG_ERR_SYNTAX, "inconsistent use of tabs and spaces in indentation");
    if (lx->n_indents >= MAX_INDENTS)
        diag_fatal(lx->s, loc, PG_ERR_LIMIT, "too deeply nested (too many levels of indentation)");
    lx->n_indents++;
    lx->indents[lx->n_indents] = width;
    lx->alt_indents[lx->n_indents] = alt;
    push_token(lx, TK_INDENT, loc, lx->p);
}

static void pop_indents(lexer *lx, int width, int alt, pg_srcloc loc) {
    while (lx->n_indents > 0 && width < lx->indents[lx->n_indents]) {
        lx->n_indents--;
        push_token(lx, TK_DEDENT, loc, lx->p);
    }
    if (width != lx->indents[lx->n_indents])
        diag_fatal(lx->s, loc, PG_ERR_SYNTAX,
                   "unindent does not match any outer indentation level");
    if (alt != lx->alt_indents[lx->n_indents])
        diag_fatal(lx->s, loc, PG_ERR_SYNTAX, "inconsistent use of tabs and spaces in indentation");
}

// At the start of a physical line outside brackets: measures the indentation and emits
// INDENT / DEDENT tokens. Blank and comment-only lines do not count.
static void read_indentation(lexer *lx) {
    int width = 0, alt = 0;
    for (;; adv(lx)) {
        char c = *lx->p;
        if (c == ' ') {
            width++;
            alt++;
        } else if (c == '\t') {
            width = (width / 8 + 1) * 8;
            alt++;
        } else if (c == '\f') {
            width = alt = 0; // as in Python: a form feed resets the count
        } else {
            break;
        }
    }
    lx->at_line_start = 0;
    char c = *lx->p;
    if (c == '#' || c == '\0' || is_newline_at(lx->p))
        return;
    pg_srcloc loc = here(lx);
    int top = lx->indents[lx->n_indents];
    if (width > top)
        push_indent(lx, width, alt, loc);
    else if (width < top)
        pop_indents(lx, width, alt, loc);
    else if (alt != lx->alt_indents[lx->n_indents])
        diag_fatal(lx->s, loc, PG_ERR_SYNTAX, "inconsistent use of tabs and spaces in indentation");
}

// ---- numbers ----

static _Noreturn void bad_number(lexer *lx, pg_srcloc loc, const char *start, const char *what) {
    const char *e = lx->p;
    while (is_ident_char((unsigned char)*e) || *e == '.')
        e++;
    diag_fatal(lx->s, loc, PG_ERR_SYNTAX, "invalid %s literal '%.*s'", what, (int)(e - start),
               start);
}

// Skips digits of a base with single '_' separators between them. Returns the count of
// digits read; a '_' not followed by a digit is an error.
static int scan_digits(lexer *lx, int base, pg_srcloc loc, const char *start, const char *what) {
    int count = 0;
    for (;;) {
        int c = (unsigned char)*lx->p;
        if (digit_value(c) < base) {
            adv(lx);
            count++;
        } else if (c == '_' && count > 0) {
            adv(lx);
            if (digit_value((unsigned char)*lx->p) >= base)
                bad_number(lx, loc, start, what);
        } else {
            return count;
        }
    }
}

// Accumulates the digits of [b, e) (underscores skipped) in base; too large is an error.
static int64_t int_value(lexer *lx, pg_srcloc loc, const char *b, const char *e, int base) {
    int64_t v = 0;
    for (const char *q = b; q < e; q++) {
        int c = (unsigned char)*q;
        if (c == '_')
            continue;
        int d = digit_value(c);
        if (v > (INT64_MAX - d) / base)
            diag_fatal(lx->s, loc, PG_ERR_SYNTAX, "integer literal too large");
        v = v * base + d;
    }
    return v;
}

// 0x / 0o / 0b literals (no fraction, no unit).
static void read_based(lexer *lx, pg_srcloc loc, const char *start) {
    char k = (char)(lx->p[1] | 0x20);
    int base = k == 'x' ? 16 : k == 'o' ? 8 : 2;
    const char *what = base == 16 ? "hexadecimal" : base == 8 ? "octal" : "binary";
    adv_n(lx, 2);
    if (*lx->p == '_')
        adv(lx); // Python allows 0x_ff
    const char *digits = lx->p;
    int count = scan_digits(lx, base, loc, start, what);
    int c = (unsigned char)*lx->p;
    if (is_digit(c))
        diag_fatal(lx->s, here(lx), PG_ERR_SYNTAX, "invalid digit '%c' in %s literal", c, what);
    if (count == 0 || is_ident_char(c) || c >= 0x80)
        bad_number(lx, loc, start, what);
    token *t = finish_token(lx, TK_INT, loc, start);
    t->ival = int_value(lx, loc, digits, lx->p, base);
}

// The suffix after a decimal number: nothing, or a time unit 's' / 'ms'. Returns the unit.
static int read_unit(lexer *lx, pg_srcloc loc, const char *start) {
    const char *q = lx->p;
    int unit = 0;
    if (q[0] == 's')
        unit = 's';
    else if (q[0] == 'm' && q[1] == 's')
        unit = 'm';
    const char *after = q + (unit == 'm' ? 2 : unit ? 1 : 0);
    int c = (unsigned char)*after;
    if (!is_ident_char(c) && c < 0x80) {
        adv_n(lx, (int)(after - q));
        return unit;
    }
    if (!is_ident_start((unsigned char)q[0]) || q[0] == '_')
        bad_number(lx, loc, start, "decimal");
    const char *e = after;
    while (is_ident_char((unsigned char)*e) || (unsigned char)*e >= 0x80)
        e++;
    diag_fatal(lx->s, loc, PG_ERR_SYNTAX,
               "invalid number literal '%.*s': a time unit must be 's' or 'ms'", (int)(e - start),
               start);
}

static double float_value(lexer *lx, const char *b, const char *e) {
    char *buf = arena_alloc(lx->s->arena, (size_t)(e - b) + 1);
    size_t n = 0;
    for (const char *q = b; q < e; q++)
        if (*q != '_')
            buf[n++] = *q;
    buf[n] = '\0';
    return strtod(buf, NULL);
}

// decimal = digits ["." [digits]] [exponent] | "." digits [exponent], then a unit or nothing
static void read_number(lexer *lx) {
    pg_srcloc loc = here(lx);
    const char *start = lx->p;
    if (lx->p[0] == '0' && strchr("xXoObB", lx->p[1]) && lx->p[1] != '\0') {
        read_based(lx, loc, start);
        return;
    }
    int is_float = 0;
    if (*lx->p != '.')
        scan_digits(lx, 10, loc, start, "decimal");
    const char *int_end = lx->p;
    if (*lx->p == '.') {
        is_float = 1;
        adv(lx);
        if (is_digit((unsigned char)*lx->p))
            scan_digits(lx, 10, loc, start, "decimal");
    }
    const char *q = lx->p;
    if ((*q == 'e' || *q == 'E') &&
        (is_digit((unsigned char)q[1]) ||
         ((q[1] == '+' || q[1] == '-') && is_digit((unsigned char)q[2])))) {
        is_float = 1;
        adv_n(lx, is_digit((unsigned char)q[1]) ? 1 : 2);
        scan_digits(lx, 10, loc, start, "decimal");
    }
    const char *num_end = lx->p;
    if (!is_float && start[0] == '0')
        for (const char *d = start; d < int_end; d++)
            if (*d != '0' && *d != '_')
                diag_fatal(lx->s, loc, PG_ERR_SYNTAX,
                           "leading zeros in decimal integer literals are not permitted; use "
                           "an 0o prefix for octal integers");
    int unit = read_unit(lx, loc, start);
    token *t = finish_token(lx, unit ? TK_UNIT : is_float ? TK_FLOAT : TK_INT, loc, start);
    t->unit = unit;
    t->is_float = is_float;
    if (is_float) {
        t->fval = float_value(lx, start, num_end);
    } else {
        t->ival = int_value(lx, loc, start, num_end, 10);
        t->fval = (double)t->ival;
    }
}

// ---- strings ----

// Appends code point cp as UTF-8 (surrogates are encoded as they are, as Python keeps them).
static size_t put_utf8(char *out, uint32_t cp) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

// Reads exactly n hex digits at q into *cp; returns 0 when there are fewer.
static int hex_digits(const char *q, int n, uint32_t *cp) {
    uint32_t v = 0;
    for (int i = 0; i < n; i++) {
        int d = digit_value((unsigned char)q[i]);
        if (d > 15)
            return 0;
        v = v * 16 + (uint32_t)d;
    }
    *cp = v;
    return 1;
}

// Decodes one escape at q (just after the backslash) into out; returns the bytes read
// from q and sets *out_n to the bytes written.
static int decode_escape(lexer *lx, pg_srcloc loc, const char *q, char *out, size_t *out_n) {
    static const char simple[] = "\\\\''\"\"a\ab\bf\fn\nr\rt\tv\v";
    for (int i = 0; simple[i]; i += 2)
        if (*q == simple[i]) {
            out[0] = simple[i + 1];
            *out_n = 1;
            return 1;
        }
    *out_n = 0;
    if (*q == '\n')
        return 1; // backslash-newline continues the string
    if (q[0] == '\r' && q[1] == '\n')
        return 2;
    uint32_t cp = 0;
    int len = 0;
    if (*q >= '0' && *q <= '7') {
        while (len < 3 && q[len] >= '0' && q[len] <= '7')
            cp = cp * 8 + (uint32_t)(q[len++] - '0');
    } else if (*q == 'x' || *q == 'u' || *q == 'U') {
        int n = *q == 'x' ? 2 : *q == 'u' ? 4 : 8;
        if (!hex_digits(q + 1, n, &cp))
            diag_fatal(lx->s, loc, PG_ERR_SYNTAX, "truncated \\%c escape in string literal", *q);
        if (cp > 0x10FFFF)
            diag_fatal(lx->s, loc, PG_ERR_SYNTAX, "illegal Unicode character in string literal");
        len = n + 1;
    } else if (*q == 'N') {
        diag_fatal(lx->s, loc, PG_ERR_SYNTAX, "\\N{...} escapes are not supported");
    } else {
        out[0] = '\\'; // unknown escapes keep their backslash, as in Python
        *out_n = 1;
        return 0;
    }
    *out_n = put_utf8(out, cp);
    return len;
}

// Decodes the body [b, e) of a string literal into the arena.
static void decode_string(lexer *lx, token *t, const char *b, const char *e, int is_raw) {
    char *out = arena_alloc(lx->s->arena, (size_t)(e - b) + 1);
    size_t n = 0;
    for (const char *q = b; q < e;) {
        if (*q != '\\' || is_raw) {
            out[n++] = *q++;
            continue;
        }
        size_t w = 0;
        int used = decode_escape(lx, t->loc, q + 1, out + n, &w);
        n += w;
        q += 1 + used;
    }
    out[n] = '\0';
    t->str = out;
    t->len = n;
}

// Finds the end of a string body starting at p (after the opening quotes); leaves p after
// the closing quotes and returns the end of the body.
static const char *scan_string(lexer *lx, pg_srcloc loc, char quote, int triple) {
    for (;;) {
        const char *q = lx->p;
        if (*q == '\0' || (!triple && is_newline_at(q)))
            diag_fatal(lx->s, loc, PG_ERR_SYNTAX,
                       triple ? "unterminated triple-quoted string literal (detected at line %d)"
                              : "unterminated string literal (detected at line %d)",
                       lx->line);
        if (*q == '\\') {
            adv(lx);
            if (lx->p[0] == '\r' && lx->p[1] == '\n')
                adv(lx);
            adv(lx);
            continue;
        }
        if (*q == quote && (!triple || (q[1] == quote && q[2] == quote))) {
            adv_n(lx, triple ? 3 : 1);
            return q;
        }
        adv(lx);
    }
}

// string = prefix? (' | " | ''' | """) body closing quote(s). prefix is r / u (f and b
// are rejected: f-strings and bytes are not part of .pg).
static void read_string(lexer *lx, pg_srcloc loc, const char *start) {
    int is_raw = 0;
    for (; *lx->p != '\'' && *lx->p != '"'; adv(lx)) {
        char c = (char)(*lx->p | 0x20);
        if (c == 'f')
            diag_fatal(lx->s, loc, PG_ERR_SYNTAX, "f-strings are not supported");
        if (c == 'b')
            diag_fatal(lx->s, loc, PG_ERR_SYNTAX, "bytes literals are not supported");
        if (c == 'r')
            is_raw = 1;
    }
    char quote = *lx->p;
    int triple = lx->p[1] == quote && lx->p[2] == quote;
    adv_n(lx, triple ? 3 : 1);
    const char *body = lx->p;
    const char *end = scan_string(lx, loc, quote, triple);
    token *t = finish_token(lx, TK_STR, loc, start);
    decode_string(lx, t, body, end, is_raw);
}

// A string prefix is one of r u f b rb br fr rf in any case, directly before a quote.
static int is_string_prefix(const char *b, size_t n) {
    if (n == 0 || n > 2 || (b[n] != '\'' && b[n] != '"'))
        return 0;
    char c0 = (char)(b[0] | 0x20), c1 = n == 2 ? (char)(b[1] | 0x20) : 0;
    if (n == 1)
        return c0 == 'r' || c0 == 'u' || c0 == 'f' || c0 == 'b';
    return (c0 == 'r' && (c1 == 'b' || c1 == 'f')) || (c1 == 'r' && (c0 == 'b' || c0 == 'f'));
}

// ---- names, operators, brackets ----

static void read_name(lexer *lx) {
    pg_srcloc loc = here(lx);
    const char *start = lx->p;
    const char *e = start;
    while (is_ident_char((unsigned char)*e))
        e++;
    size_t n = (size_t)(e - start);
    if (is_string_prefix(start, n)) {
        read_string(lx, loc, start);
        return;
    }
    adv_n(lx, (int)n);
    tk_kind kind = TK_NAME;
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strlen(keywords[i].word) == n && memcmp(keywords[i].word, start, n) == 0)
            kind = keywords[i].kind;
    finish_token(lx, kind, loc, start);
}

static void open_bracket(lexer *lx, char ch, pg_srcloc loc) {
    if (lx->depth >= MAX_BRACKETS)
        diag_fatal(lx->s, loc, PG_ERR_LIMIT, "too deeply nested (more than %d brackets)",
                   MAX_BRACKETS);
    lx->brackets[lx->depth].ch = ch;
    lx->brackets[lx->depth].loc = loc;
    lx->depth++;
}

static void close_bracket(lexer *lx, char ch, pg_srcloc loc) {
    static const char *names[] = { "parenthesis", "bracket", "brace" };
    if (lx->depth == 0)
        diag_fatal(lx->s, loc, PG_ERR_SYNTAX, "unmatched '%c'", ch);
    const bracket *open = &lx->brackets[lx->depth - 1];
    char want = open->ch == '(' ? ')' : open->ch == '[' ? ']' : '}';
    if (ch != want) {
        const char *name = names[ch == ')' ? 0 : ch == ']' ? 1 : 2];
        const char *oname = names[open->ch == '(' ? 0 : open->ch == '[' ? 1 : 2];
        if (open->loc.line != loc.line)
            diag_fatal(lx->s, loc, PG_ERR_SYNTAX,
                       "closing %s '%c' does not match opening %s '%c' on line %d", name, ch, oname,
                       open->ch, open->loc.line);
        diag_fatal(lx->s, loc, PG_ERR_SYNTAX, "closing %s '%c' does not match opening %s '%c'",
                   name, ch, oname, open->ch);
    }
    lx->depth--;
}

// A character that starts no token: name it (decoding UTF-8) in the message.
static _Noreturn void bad_char(lexer *lx) {
    const unsigned char *q = (const unsigned char *)lx->p;
    uint32_t cp = q[0];
    int len = 1;
    if (q[0] >= 0xC0 && q[0] < 0xF8) {
        len = q[0] >= 0xF0 ? 4 : q[0] >= 0xE0 ? 3 : 2;
        cp = q[0] & (0x3F >> (len - 1));
        for (int i = 1; i < len; i++) {
            if ((q[i] & 0xC0) != 0x80)
                diag_fatal(lx->s, here(lx), PG_ERR_SYNTAX, "invalid UTF-8 byte 0x%02X", q[0]);
            cp = (cp << 6) | (q[i] & 0x3F);
        }
    } else if (q[0] >= 0x80) {
        diag_fatal(lx->s, here(lx), PG_ERR_SYNTAX, "invalid UTF-8 byte 0x%02X", q[0]);
    }
    if (cp < 0x20 || cp == 0x7F)
        diag_fatal(lx->s, here(lx), PG_ERR_SYNTAX, "invalid non-printable character U+%04X",
                   (unsigned)cp);
    diag_fatal(lx->s, here(lx), PG_ERR_SYNTAX, "invalid character '%.*s' (U+%04X)", len, lx->p,
               (unsigned)cp);
}

static void read_operator(lexer *lx) {
    pg_srcloc loc = here(lx);
    const char *start = lx->p;
    for (size_t i = 0; i < sizeof operators / sizeof operators[0]; i++) {
        size_t n = strlen(operators[i].text);
        if (strncmp(start, operators[i].text, n) != 0)
            continue;
        char c = start[0];
        if (n == 1 && (c == '(' || c == '[' || c == '{'))
            open_bracket(lx, c, loc);
        if (n == 1 && (c == ')' || c == ']' || c == '}'))
            close_bracket(lx, c, loc);
        adv_n(lx, (int)n);
        finish_token(lx, operators[i].kind, loc, start);
        return;
    }
    bad_char(lx);
}

// ---- the main loop ----

// A backslash outside a string: it must end the physical line, which then joins the next.
static void read_backslash(lexer *lx) {
    pg_srcloc loc = here(lx);
    adv(lx);
    if (*lx->p == '\r' && lx->p[1] == '\n')
        adv(lx);
    if (*lx->p == '\n') {
        adv(lx);
        return;
    }
    if (*lx->p == '\0')
        diag_fatal(lx->s, loc, PG_ERR_SYNTAX,
                   "unexpected end of file after line continuation "
                   "character");
    diag_fatal(lx->s, loc, PG_ERR_SYNTAX, "unexpected character after line continuation character");
}

static void end_physical_line(lexer *lx) {
    if (lx->depth == 0 && lx->line_has_tokens) {
        push_token(lx, TK_NEWLINE, lx->last_end, lx->p);
        lx->line_has_tokens = 0;
    }
    if (*lx->p == '\r')
        adv(lx);
    adv(lx);
    lx->at_line_start = lx->depth == 0;
}

// Reads whatever starts at p: returns 0 at the end of the text.
static int lex_step(lexer *lx) {
    if (lx->at_line_start)
        read_indentation(lx);
    unsigned char c = (unsigned char)*lx->p;
    if (c == ' ' || c == '\t' || c == '\f' || (c == '\r' && lx->p[1] != '\n')) {
        adv(lx);
    } else if (c == '\0') {
        return 0;
    } else if (c == '#') {
        while (*lx->p && !is_newline_at(lx->p))
            adv(lx);
    } else if (is_newline_at(lx->p)) {
        end_physical_line(lx);
    } else if (c == '\\') {
        read_backslash(lx);
    } else if (is_digit(c) || (c == '.' && is_digit((unsigned char)lx->p[1]))) {
        read_number(lx);
    } else if (is_ident_start(c)) {
        read_name(lx);
    } else if (c == '\'' || c == '"') {
        pg_srcloc loc = here(lx);
        read_string(lx, loc, lx->p);
    } else {
        read_operator(lx);
    }
    return 1;
}

token *lex_tokenize(pg_session *s, int file, const char *src, int *n) {
    lexer lx;
    memset(&lx, 0, sizeof lx);
    lx.s = s;
    lx.file = file;
    lx.p = src ? src : "";
    if (strncmp(lx.p, "\xEF\xBB\xBF", 3) == 0)
        lx.p += 3; // a UTF-8 byte order mark, as some editors write, is not text
    lx.line = lx.col = 1;
    lx.at_line_start = 1;
    while (lex_step(&lx))
        ;
    if (lx.depth > 0) {
        const bracket *open = &lx.brackets[lx.depth - 1];
        diag_fatal(s, open->loc, PG_ERR_SYNTAX, "'%c' was never closed", open->ch);
    }
    if (lx.line_has_tokens)
        push_token(&lx, TK_NEWLINE, lx.last_end, lx.p);
    pg_srcloc end = here(&lx);
    for (; lx.n_indents > 0; lx.n_indents--)
        push_token(&lx, TK_DEDENT, end, lx.p);
    push_token(&lx, TK_EOF, end, lx.p);
    *n = lx.n;
    return lx.toks;
}

const char *lex_kind_str(tk_kind k) {
    static const char *const names[TK_COUNT] = {
        [TK_EOF] = "end of file", [TK_NEWLINE] = "end of line",
        [TK_INDENT] = "indent",   [TK_DEDENT] = "dedent",
        [TK_NAME] = "name",       [TK_INT] = "integer",
        [TK_FLOAT] = "float",     [TK_UNIT] = "number with a unit",
        [TK_STR] = "string",      [TK_LPAREN] = "'('",
        [TK_RPAREN] = "')'",      [TK_LBRACK] = "'['",
        [TK_RBRACK] = "']'",      [TK_LBRACE] = "'{'",
        [TK_RBRACE] = "'}'",      [TK_COMMA] = "','",
        [TK_COLON] = "':'",       [TK_DOT] = "'.'",
        [TK_SEMI] = "';'",        [TK_ARROW] = "'->'",
        [TK_AT] = "'@'",          [TK_PLUS] = "'+'",
        [TK_MINUS] = "'-'",       [TK_STAR] = "'*'",
        [TK_SLASH] = "'/'",       [TK_DSLASH] = "'//'",
        [TK_PERCENT] = "'%'",     [TK_DSTAR] = "'**'",
        [TK_AMP] = "'&'",         [TK_PIPE] = "'|'",
        [TK_CARET] = "'^'",       [TK_TILDE] = "'~'",
        [TK_LSHIFT] = "'<<'",     [TK_RSHIFT] = "'>>'",
        [TK_LT] = "'<'",          [TK_GT] = "'>'",
        [TK_LE] = "'<='",         [TK_GE] = "'>='",
        [TK_EQ] = "'=='",         [TK_NE] = "'!='",
        [TK_ASSIGN] = "'='",      [TK_PLUS_EQ] = "'+='",
        [TK_MINUS_EQ] = "'-='",   [TK_STAR_EQ] = "'*='",
        [TK_SLASH_EQ] = "'/='",   [TK_DSLASH_EQ] = "'//='",
        [TK_PERCENT_EQ] = "'%='", [TK_DSTAR_EQ] = "'**='",
        [TK_AMP_EQ] = "'&='",     [TK_PIPE_EQ] = "'|='",
        [TK_CARET_EQ] = "'^='",   [TK_LSHIFT_EQ] = "'<<='",
        [TK_RSHIFT_EQ] = "'>>='", [TK_AND] = "'and'",
        [TK_OR] = "'or'",         [TK_NOT] = "'not'",
        [TK_IN] = "'in'",         [TK_IS] = "'is'",
        [TK_IF] = "'if'",         [TK_ELIF] = "'elif'",
        [TK_ELSE] = "'else'",     [TK_FOR] = "'for'",
        [TK_WHILE] = "'while'",   [TK_DEF] = "'def'",
        [TK_RETURN] = "'return'", [TK_LAMBDA] = "'lambda'",
        [TK_BREAK] = "'break'",   [TK_CONTINUE] = "'continue'",
        [TK_PASS] = "'pass'",     [TK_IMPORT] = "'import'",
        [TK_FROM] = "'from'",     [TK_AS] = "'as'",
        [TK_GLOBAL] = "'global'", [TK_DEL] = "'del'",
        [TK_ASSERT] = "'assert'", [TK_TRUE] = "'True'",
        [TK_FALSE] = "'False'",   [TK_NONE] = "'None'",
        [TK_NOT_IN] = "'not in'", [TK_IS_NOT] = "'is not'",
    };
    return k >= 0 && k < TK_COUNT && names[k] ? names[k] : "token";
}
