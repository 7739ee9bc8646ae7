// test_lex.c: the .pg lexer: token streams for layout (INDENT/DEDENT/NEWLINE, joins,
// comments), numbers and unit literals, strings and escapes, operators and keywords, and
// the syntax errors with their line:column. Each case lexes one text in a fresh session
// under a setjmp handler, as compile_text does.
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "lex.h"

typedef struct lexed {
    pg_session *s;
    token *toks;
    int n;
    pg_status st; // PG_OK, or the error's status
    pg_diag diag; // the error, when st != PG_OK
} lexed;

static lexed lex(const char *src) {
    lexed r;
    memset(&r, 0, sizeof r);
    r.s = pg_session_new();
    jmp_buf handler;
    r.s->on_error = &handler;
    if (setjmp(handler)) {
        r.st = r.s->diags[r.s->n_diags - 1].status;
        r.diag = r.s->diags[r.s->n_diags - 1];
        r.toks = NULL;
        r.n = 0;
        return r;
    }
    int file = session_add_file(r.s, "t.pg", src);
    r.toks = lex_tokenize(r.s, file, r.s->files[file].text, &r.n);
    r.s->on_error = NULL;
    return r;
}

static void done(lexed *r) {
    pg_session_free(r->s);
}

// The kinds of src's tokens, spelled compactly: names N, ints I, floats F, units U,
// strings S, NEWLINE ';' -> 'n', INDENT '>', DEDENT '<', EOF '$', keywords k, operators
// by their text. E.g. "x = 1" -> "N = I n $".
static void spell(const lexed *r, char *out, size_t cap) {
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < r->n && n + 8 < cap; i++) {
        const token *t = &r->toks[i];
        const char *w;
        char buf[8];
        switch (t->kind) {
        case TK_NAME:
            w = "N";
            break;
        case TK_INT:
            w = "I";
            break;
        case TK_FLOAT:
            w = "F";
            break;
        case TK_UNIT:
            w = "U";
            break;
        case TK_STR:
            w = "S";
            break;
        case TK_NEWLINE:
            w = "n";
            break;
        case TK_INDENT:
            w = ">";
            break;
        case TK_DEDENT:
            w = "<";
            break;
        case TK_EOF:
            w = "$";
            break;
        default:
            if (t->kind >= TK_AND && t->kind <= TK_NONE) {
                w = "k";
            } else {
                snprintf(buf, sizeof buf, "%.*s", (int)t->text_len, t->start);
                w = buf;
            }
            break;
        }
        n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? " " : "", w);
    }
}

// Reports a failed expectation at the caller's line.
static void expect_at(int ok, int line, const char *what, const char *detail) {
    if (ok)
        check_passed++;
    else
        check_report(__FILE__, line, what, detail);
}

static void check_tokens(const char *src, const char *want, int line) {
    lexed r = lex(src);
    char got[1024];
    spell(&r, got, sizeof got);
    if (r.st != PG_OK)
        snprintf(got, sizeof got, "error %d:%d %s", r.diag.loc.line, r.diag.loc.col,
                 r.diag.message);
    char d[1400];
    snprintf(d, sizeof d, "got \"%s\", want \"%s\"", got, want);
    expect_at(strcmp(got, want) == 0, line, src, d);
    done(&r);
}

// Lexing src fails with status st at line:col, and the message contains msg.
static void check_lex_error(const char *src, pg_status st, int line, int col, const char *msg,
                            int at_line) {
    lexed r = lex(src);
    char d[800];
    snprintf(d, sizeof d, "got %s %d:%d \"%s\", want %s %d:%d \"%s\"", pg_status_str(r.st),
             r.diag.loc.line, r.diag.loc.col, r.diag.message, pg_status_str(st), line, col, msg);
    expect_at(r.st == st && r.diag.loc.line == line && r.diag.loc.col == col &&
                  strstr(r.diag.message, msg) != NULL,
              at_line, src, d);
    done(&r);
}

#define CHECK_TOKENS(src, want)                  check_tokens(src, want, __LINE__)
#define CHECK_LEX_ERROR(src, st, line, col, msg) check_lex_error(src, st, line, col, msg, __LINE__)

static void test_layout(void) {
    CHECK_TOKENS("", "$");
    CHECK_TOKENS("\n\n  \n# only a comment\n", "$");
    CHECK_TOKENS("x = 1", "N = I n $");
    CHECK_TOKENS("x = 1\n", "N = I n $");
    CHECK_TOKENS("x = 1  # comment\n\n\ny\n", "N = I n N n $");
    // nested blocks: one INDENT per deeper level, one DEDENT per level closed
    CHECK_TOKENS("if a:\n    if b:\n        c\n    d\ne\n",
                 "k N : n > k N : n > N n < N n < N n $");
    // dedent of two levels at once, and at end of file
    CHECK_TOKENS("if a:\n  if b:\n    c\nd\n", "k N : n > k N : n > N n < < N n $");
    CHECK_TOKENS("if a:\n  if b:\n    c", "k N : n > k N : n > N n < < $");
    // blank and comment-only lines inside a block do not change indentation
    CHECK_TOKENS("if a:\n  b\n\n      # deep comment\n  c\n", "k N : n > N n N n < $");
    // a tab counts to the next multiple of 8; with tabs only it is consistent
    CHECK_TOKENS("if a:\n\tb\n\tc\n", "k N : n > N n N n < $");
    // implicit joining inside brackets: no NEWLINE / INDENT inside
    CHECK_TOKENS("f(1,\n     2,\n  3)\nx\n", "N ( I , I , I ) n N n $");
    CHECK_TOKENS("a = [1,  # c\n\n 2]\n", "N = [ I , I ] n $");
    CHECK_TOKENS("d = {1:\n 2}\n", "N = { I : I } n $");
    // backslash joining
    CHECK_TOKENS("x = 1 + \\\n        2\ny\n", "N = I + I n N n $");
    CHECK_TOKENS("x = 1 + \\\r\n 2\r\n", "N = I + I n $");
    // a UTF-8 byte order mark is skipped; columns start after it
    CHECK_LEX_ERROR("\xEF\xBB\xBFx = $", PG_ERR_SYNTAX, 1, 5, "invalid character '$'");
    CHECK_TOKENS("\xEF\xBB\xBF  x", "> N n < $");
    // CRLF line ends
    CHECK_TOKENS("if a:\r\n  b\r\n", "k N : n > N n < $");
}

static void test_operators(void) {
    CHECK_TOKENS("a**=b//=c<<=d>>=e", "N **= N //= N <<= N >>= N n $");
    CHECK_TOKENS("a->b<=c>=d==e!=f", "N -> N <= N >= N == N != N n $");
    CHECK_TOKENS("a+=b-=c*=d/=e%=f&=g|=h^=i", "N += N -= N *= N /= N %= N &= N |= N ^= N n $");
    CHECK_TOKENS("a**b//c<<d>>e<f>g=h", "N ** N // N << N >> N < N > N = N n $");
    CHECK_TOKENS("@x.y;~a%b&c|d^e", "@ N . N ; ~ N % N & N | N ^ N n $");
    lexed r = lex("and or not in is if elif else for while def return lambda break continue "
                  "pass import from as global del assert True False None nonlocal");
    static const tk_kind want[] = { TK_AND,  TK_OR,      TK_NOT,    TK_IN,    TK_IS,
                                    TK_IF,   TK_ELIF,    TK_ELSE,   TK_FOR,   TK_WHILE,
                                    TK_DEF,  TK_RETURN,  TK_LAMBDA, TK_BREAK, TK_CONTINUE,
                                    TK_PASS, TK_IMPORT,  TK_FROM,   TK_AS,    TK_GLOBAL,
                                    TK_DEL,  TK_ASSERT,  TK_TRUE,   TK_FALSE, TK_NONE,
                                    TK_NAME, TK_NEWLINE, TK_EOF };
    CHECK_EQ_I64(r.n, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < r.n && i < (int)(sizeof want / sizeof want[0]); i++)
        CHECK_EQ_I64(r.toks[i].kind, want[i]);
    done(&r);
    // names that begin with a keyword are names
    CHECK_TOKENS("iffy fort in_ Trueish", "N N N N n $");
    CHECK(strcmp(lex_kind_str(TK_LPAREN), "'('") == 0);
    CHECK(strcmp(lex_kind_str(TK_NEWLINE), "end of line") == 0);
    CHECK(strcmp(lex_kind_str(TK_NAME), "name") == 0);
    CHECK(strcmp(lex_kind_str(TK_NOT_IN), "'not in'") == 0);
}

static void test_numbers(void) {
    lexed r = lex("0 42 1_000_000 0x_fF 0o17 0b1010 9223372036854775807 00");
    static const int64_t ints[] = { 0, 42, 1000000, 255, 15, 10, INT64_MAX, 0 };
    for (int i = 0; i < 8; i++) {
        CHECK_EQ_I64(r.toks[i].kind, TK_INT);
        CHECK_EQ_I64(r.toks[i].ival, ints[i]);
    }
    done(&r);
    r = lex("1. .5 1e-3 1_000.5 2.5E+2 0.0 1e3");
    static const double floats[] = { 1.0, 0.5, 1e-3, 1000.5, 250.0, 0.0, 1000.0 };
    for (int i = 0; i < 7; i++) {
        CHECK_EQ_I64(r.toks[i].kind, TK_FLOAT);
        CHECK(r.toks[i].fval == floats[i]);
    }
    done(&r);
    // units: s and ms after ints and floats
    r = lex("2.5s 250ms 3s .5ms 1e3ms");
    CHECK_EQ_I64(r.toks[0].kind, TK_UNIT);
    CHECK(r.toks[0].is_float && r.toks[0].fval == 2.5 && r.toks[0].unit == 's');
    CHECK(!r.toks[1].is_float && r.toks[1].ival == 250 && r.toks[1].unit == 'm');
    CHECK(!r.toks[2].is_float && r.toks[2].ival == 3 && r.toks[2].unit == 's');
    CHECK(r.toks[3].is_float && r.toks[3].fval == 0.5 && r.toks[3].unit == 'm');
    CHECK(r.toks[4].is_float && r.toks[4].fval == 1000.0 && r.toks[4].unit == 'm');
    for (int i = 0; i < 5; i++)
        CHECK_EQ_I64(r.toks[i].kind, TK_UNIT);
    done(&r);
    // a unit is followed by an operator or a bracket like any number
    CHECK_TOKENS("f(1s,2ms)+3s*x", "N ( U , U ) + U * N n $");
    CHECK_TOKENS("x.y 1.5.real", "N . N F . N n $");
}

static void test_number_errors(void) {
    CHECK_LEX_ERROR("x = 2.5sec\n", PG_ERR_SYNTAX, 1, 5, "invalid number literal '2.5sec'");
    CHECK_LEX_ERROR("x = 3x\n", PG_ERR_SYNTAX, 1, 5, "a time unit must be 's' or 'ms'");
    CHECK_LEX_ERROR("y\nx = 3msx\n", PG_ERR_SYNTAX, 2, 5, "'3msx'");
    CHECK_LEX_ERROR("x = 1__0\n", PG_ERR_SYNTAX, 1, 5, "invalid decimal literal");
    CHECK_LEX_ERROR("x = 1_\n", PG_ERR_SYNTAX, 1, 5, "invalid decimal literal");
    CHECK_LEX_ERROR("x = 0x\n", PG_ERR_SYNTAX, 1, 5, "invalid hexadecimal literal");
    CHECK_LEX_ERROR("x = 0b102\n", PG_ERR_SYNTAX, 1, 9, "invalid digit '2' in binary literal");
    CHECK_LEX_ERROR("x = 0o8\n", PG_ERR_SYNTAX, 1, 7, "invalid digit '8' in octal literal");
    CHECK_LEX_ERROR("x = 0123\n", PG_ERR_SYNTAX, 1, 5, "leading zeros");
    // INT64_MAX + 1
    CHECK_LEX_ERROR("x = 9223372036854775808\n", PG_ERR_SYNTAX, 1, 5, "integer literal too large");
    CHECK_LEX_ERROR("x = 0x1_0000_0000_0000_0000\n", PG_ERR_SYNTAX, 1, 5,
                    "integer literal too large");
    CHECK_LEX_ERROR("x = 99999999999999999999s\n", PG_ERR_SYNTAX, 1, 5,
                    "integer literal too large");
}

static void check_str(const char *src, const char *want, size_t want_len, int line) {
    lexed r = lex(src);
    int ok = r.st == PG_OK && r.n >= 1 && r.toks[0].kind == TK_STR && r.toks[0].len == want_len &&
             memcmp(r.toks[0].str, want, want_len) == 0 && r.toks[0].str[want_len] == '\0';
    if (ok) {
        check_passed++;
    } else {
        char d[600];
        snprintf(d, sizeof d, "string %s: got \"%s\" (%zu bytes, status %d %s)", src,
                 r.n ? r.toks[0].str : "", r.n ? r.toks[0].len : 0, (int)r.st, r.diag.message);
        check_report(__FILE__, line, "check_str", d);
    }
    done(&r);
}

static void test_strings(void) {
    check_str("'abc'", "abc", 3, __LINE__);
    check_str("\"it's\"", "it's", 4, __LINE__);
    check_str("''", "", 0, __LINE__);
    check_str("'a\\nb\\tc\\\\d\\'e\\\"f'", "a\nb\tc\\d'e\"f", 11, __LINE__);
    // \xhh and \uXXXX are code points, stored as UTF-8: U+00E9 = C3 A9, U+266F = E2 99 AF
    check_str("'\\x41\\xe9'", "A\xc3\xa9", 3, __LINE__);
    check_str("'\\u266f'", "\xe2\x99\xaf", 3, __LINE__);
    check_str("'\\U0001F3B5'", "\xf0\x9f\x8e\xb5", 4, __LINE__);
    check_str("'\\101\\0'", "A\0", 2, __LINE__);
    // unknown escapes keep the backslash, as in Python
    check_str("'\\d'", "\\d", 2, __LINE__);
    check_str("r'\\n\\d'", "\\n\\d", 4, __LINE__);
    check_str("R\"\\\"\"", "\\\"", 2, __LINE__);
    check_str("u'x'", "x", 1, __LINE__);
    check_str("'''a\nb'''", "a\nb", 3, __LINE__);
    check_str("\"\"\"say \"hi\" '' \"\"\"", "say \"hi\" '' ", 12, __LINE__);
    check_str("'a\\\nb'", "ab", 2, __LINE__);
    check_str("'a\\\r\nb'", "ab", 2, __LINE__);
    check_str("'h\xc3\xa9'", "h\xc3\xa9", 3, __LINE__);
    // a triple-quoted string spans lines: the next token is on line 3
    lexed r = lex("x = '''a\nb\n''' + y\n");
    CHECK_EQ_I64(r.toks[3].kind, TK_PLUS);
    CHECK_EQ_I64(r.toks[3].loc.line, 3);
    CHECK_EQ_I64(r.toks[3].loc.col, 5);
    done(&r);
    CHECK_TOKENS("'a' 'b' rb", "S S N n $");
}

static void test_string_errors(void) {
    CHECK_LEX_ERROR("x = 'abc\ny = 2\n", PG_ERR_SYNTAX, 1, 5, "unterminated string literal");
    CHECK_LEX_ERROR("x = \"abc", PG_ERR_SYNTAX, 1, 5,
                    "unterminated string literal (detected at line 1)");
    CHECK_LEX_ERROR("x = 1\ns = '''abc\n\n", PG_ERR_SYNTAX, 2, 5,
                    "unterminated triple-quoted string literal (detected at line 4)");
    CHECK_LEX_ERROR("x = 'a\\'", PG_ERR_SYNTAX, 1, 5, "unterminated string literal");
    CHECK_LEX_ERROR("x = r'\\'\n", PG_ERR_SYNTAX, 1, 5, "unterminated string literal");
    CHECK_LEX_ERROR("x = f'{a}'\n", PG_ERR_SYNTAX, 1, 5, "f-strings are not supported");
    CHECK_LEX_ERROR("x = rf'{a}'\n", PG_ERR_SYNTAX, 1, 5, "f-strings are not supported");
    CHECK_LEX_ERROR("x = b'a'\n", PG_ERR_SYNTAX, 1, 5, "bytes literals are not supported");
    CHECK_LEX_ERROR("x = '\\x4'\n", PG_ERR_SYNTAX, 1, 5, "truncated \\x escape");
    CHECK_LEX_ERROR("x = '\\u12'\n", PG_ERR_SYNTAX, 1, 5, "truncated \\u escape");
    CHECK_LEX_ERROR("x = '\\U00110000'\n", PG_ERR_SYNTAX, 1, 5, "illegal Unicode character");
    CHECK_LEX_ERROR("x = '\\N{DASH}'\n", PG_ERR_SYNTAX, 1, 5, "\\N{...} escapes");
}

static void test_layout_errors(void) {
    CHECK_LEX_ERROR("if a:\n    b\n  c\n", PG_ERR_SYNTAX, 3, 3,
                    "unindent does not match any outer indentation level");
    // a tab (8) vs 8 spaces (8): equal at tab size 8, not at tab size 1
    CHECK_LEX_ERROR("if a:\n\tb\n        c\n", PG_ERR_SYNTAX, 3, 9,
                    "inconsistent use of tabs and spaces in indentation");
    // dedent to a width that matches but with tabs where there were spaces
    CHECK_LEX_ERROR("if a:\n\tif b:\n\t        c\n        d\n", PG_ERR_SYNTAX, 4, 9,
                    "inconsistent use of tabs and spaces in indentation");
    // a form feed resets the indentation count, as in Python
    CHECK_TOKENS("if a:\n  b\n\f\n  \fc\n", "k N : n > N n < N n $");
    CHECK_LEX_ERROR("f(1,\n  [2,\n 3)\n", PG_ERR_SYNTAX, 3, 3,
                    "closing parenthesis ')' does not match opening bracket '[' on line 2");
    CHECK_LEX_ERROR("f(1]\n", PG_ERR_SYNTAX, 1, 4,
                    "closing bracket ']' does not match opening parenthesis '('");
    CHECK_LEX_ERROR("x = 1)\n", PG_ERR_SYNTAX, 1, 6, "unmatched ')'");
    // the innermost unclosed bracket is blamed, at its own position
    CHECK_LEX_ERROR("x = f(1,\n  g[2,\n\ny = 3\n", PG_ERR_SYNTAX, 2, 4, "'[' was never closed");
    CHECK_LEX_ERROR("chord = MixPE(a,\n  b\nrender(chord)\n", PG_ERR_SYNTAX, 1, 14,
                    "'(' was never closed");
    CHECK_LEX_ERROR("x = 1 + \\ 2\n", PG_ERR_SYNTAX, 1, 9,
                    "unexpected character after line continuation character");
    CHECK_LEX_ERROR("x = 1 + \\", PG_ERR_SYNTAX, 1, 9, "unexpected end of file");
    CHECK_LEX_ERROR("x = 3 $ 4\n", PG_ERR_SYNTAX, 1, 7, "invalid character '$'");
    CHECK_LEX_ERROR("x = 3 ! 4\n", PG_ERR_SYNTAX, 1, 7, "invalid character '!'");
    // columns count characters: "é" is one column though two bytes
    CHECK_LEX_ERROR("s = 'é'; x = 3 × 4\n", PG_ERR_SYNTAX, 1, 16, "invalid character '×' (U+00D7)");
    CHECK_LEX_ERROR("x = \x01\n", PG_ERR_SYNTAX, 1, 5, "non-printable character U+0001");
    CHECK_LEX_ERROR("x = \xff\n", PG_ERR_SYNTAX, 1, 5, "invalid UTF-8 byte 0xFF");
    CHECK_LEX_ERROR("x = \xc3\n", PG_ERR_SYNTAX, 1, 5, "invalid UTF-8 byte 0xC3");
}

// Brackets nest up to 200 deep; deeper is PG_ERR_LIMIT, as is indentation past 100 levels.
static void test_limits(void) {
    char src[2048];
    size_t n = 0;
    n += (size_t)snprintf(src, sizeof src, "x = ");
    for (int i = 0; i < 200; i++)
        src[n++] = '(';
    src[n++] = '1';
    for (int i = 0; i < 200; i++)
        src[n++] = ')';
    src[n] = '\0';
    lexed r = lex(src);
    CHECK_STATUS(r.st, PG_OK);
    done(&r);
    n = (size_t)snprintf(src, sizeof src, "x = ");
    for (int i = 0; i < 201; i++)
        src[n++] = '[';
    src[n] = '\0';
    // the 201st bracket is at column 4 + 201
    CHECK_LEX_ERROR(src, PG_ERR_LIMIT, 1, 205, "too deeply nested");

    static char deep[200 * 110];
    n = 0;
    for (int i = 0; i < 102; i++) {
        for (int j = 0; j < i; j++)
            deep[n++] = ' ';
        n += (size_t)snprintf(deep + n, sizeof deep - n, "if x:\n");
    }
    deep[n] = '\0';
    // line k is indented k - 1 columns: line 102 would open level 101
    CHECK_LEX_ERROR(deep, PG_ERR_LIMIT, 102, 102, "too deeply nested");
}

// Tokens carry line:column in characters; NEWLINE sits just after the line's last token.
static void test_locations(void) {
    lexed r = lex("def f(x):\n    return x  # c\n");
    CHECK_EQ_I64(r.toks[0].loc.line, 1); // def
    CHECK_EQ_I64(r.toks[0].loc.col, 1);
    CHECK_EQ_I64(r.toks[3].loc.col, 7); // x
    CHECK_EQ_I64(r.toks[6].kind, TK_NEWLINE);
    CHECK_EQ_I64(r.toks[6].loc.col, 10);
    CHECK_EQ_I64(r.toks[7].kind, TK_INDENT);
    CHECK_EQ_I64(r.toks[7].loc.line, 2);
    CHECK_EQ_I64(r.toks[7].loc.col, 5);
    CHECK_EQ_I64(r.toks[9].loc.col, 12); // x after return
    CHECK_EQ_I64(r.toks[10].kind, TK_NEWLINE);
    CHECK_EQ_I64(r.toks[10].loc.line, 2);
    CHECK_EQ_I64(r.toks[10].loc.col, 13);
    CHECK_EQ_I64(r.toks[11].kind, TK_DEDENT);
    CHECK_EQ_I64(r.toks[12].kind, TK_EOF);
    CHECK_EQ_I64(r.toks[12].loc.line, 3);
    CHECK_EQ_I64(r.toks[9].loc.file, 1);
    CHECK(r.toks[9].text_len == 1 && r.toks[9].start[0] == 'x');
    done(&r);
    r = lex("n = 'ü' + ab\n");
    CHECK_EQ_I64(r.toks[3].loc.col, 9); // + after a 1-character, 2-byte string body
    CHECK_EQ_I64(r.toks[4].loc.col, 11);
    done(&r);
}

int main(void) {
    test_layout();
    test_operators();
    test_numbers();
    test_number_errors();
    test_strings();
    test_string_errors();
    test_layout_errors();
    test_limits();
    test_locations();
    return check_done();
}
