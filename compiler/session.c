// session.c: the compile session and the front end's public entry point: read the file,
// then lex -> parse -> evaluate under one error handler, which frees nothing itself (all
// front-end memory is the session arena's) and returns the status.
#include "session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "exec.h"
#include "lex.h"
#include "parse.h"

static void on_oom(void *ctx) {
    pg_session *s = ctx;
    pg_srcloc none = { 0, 0, 0 };
    diag_fatal(s, none, PG_ERR_NOMEM, "out of memory");
}

pg_session *pg_session_new(void) {
    pg_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->arena = arena_new(on_oom, s);
    s->graph = pg_graph_new(48000);
    s->root = -1;
    s->print_to = stderr;
    if (!s->arena || !s->graph) {
        pg_session_free(s);
        return NULL;
    }
    return s;
}

void pg_session_free(pg_session *s) {
    if (!s)
        return;
    pg_graph_free(s->graph);
    arena_free(s->arena);
    free(s);
}

void pg_session_set_print(pg_session *s, FILE *f) {
    s->print_to = f;
}

void pg_session_set_memory_limit(pg_session *s, size_t bytes) {
    s->memory_limit = bytes;
}

void pg_session_set_step_limit(pg_session *s, int64_t steps) {
    s->step_limit = steps > 0 ? steps : 0;
}

pg_graph *pg_session_graph(pg_session *s) {
    return s->graph;
}

int pg_session_diag_count(const pg_session *s) {
    return s->n_diags;
}

const pg_diag *pg_session_diag(const pg_session *s, int i) {
    return i >= 0 && i < s->n_diags ? &s->diags[i] : NULL;
}

const char *pg_session_file_path(const pg_session *s, int file) {
    return file >= 1 && file <= s->n_files ? s->files[file].path : "";
}

static const char *dir_of(arena *a, const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? arena_strndup(a, path, (size_t)(slash - path + 1)) : "";
}

int session_add_file(pg_session *s, const char *path, const char *text) {
    pg_srcloc none = { 0, 0, 0 };
    if (s->n_files >= SESSION_MAX_FILES)
        diag_fatal(s, none, PG_ERR_LIMIT, "too many source files");
    int i = ++s->n_files;
    s->files[i].path = arena_strdup(s->arena, path);
    s->files[i].dir = dir_of(s->arena, path);
    s->files[i].text = arena_strdup(s->arena, text);
    return i;
}

static void record(pg_session *s, pg_srcloc loc, pg_status st, int is_warning, const char *fmt,
                   va_list ap) __attribute__((format(printf, 5, 0)));
static void record(pg_session *s, pg_srcloc loc, pg_status st, int is_warning, const char *fmt,
                   va_list ap) {
    if (s->n_diags >= SESSION_MAX_DIAGS)
        return;
    pg_diag *d = &s->diags[s->n_diags++];
    d->status = st;
    d->loc = loc;
    d->is_warning = is_warning != 0;
    vsnprintf(d->message, sizeof d->message, fmt, ap);
}

void diag_vfatal(pg_session *s, pg_srcloc loc, pg_status st, const char *fmt, va_list ap) {
    record(s, loc, st, 0, fmt, ap);
    if (s->on_error)
        longjmp(*s->on_error, 1);
    abort(); // a front-end call outside pg_compile_file is a bug in pygmuc
}

void diag_fatal(pg_session *s, pg_srcloc loc, pg_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    diag_vfatal(s, loc, st, fmt, ap);
}

void diag_add(pg_session *s, pg_srcloc loc, pg_status st, int is_warning, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    record(s, loc, st, is_warning, fmt, ap);
    va_end(ap);
}

// Reads a whole file into malloc'd memory (NUL-terminated, its length in *len); NULL with
// errno set on failure, EFBIG past 1 GiB (no piece is that long: a wrong file).
static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        if (cap > ((size_t)1 << 30)) {
            free(buf);
            buf = NULL;
            errno = EFBIG;
            break;
        }
        char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

// A NUL byte would end the text there as far as the lexer sees, and the rest of the piece
// would be dropped without a word: an error at the byte instead (column in characters, as
// the lexer counts them).
static void reject_nul(pg_session *s, int file, const char *text, size_t len) {
    const char *nul = memchr(text, '\0', len);
    if (!nul)
        return;
    pg_srcloc loc = { file, 1, 1 };
    for (const char *p = text; p < nul; p++) {
        if (*p == '\n')
            loc.line++, loc.col = 1;
        else if (((unsigned char)*p & 0xC0) != 0x80)
            loc.col++;
    }
    diag_fatal(s, loc, PG_ERR_SYNTAX, "a NUL byte in the piece (is it a text file?)");
}

static void copy_graph_diags(pg_session *s) {
    for (int i = 0; i < pg_graph_diag_count(s->graph) && s->n_diags < SESSION_MAX_DIAGS; i++)
        s->diags[s->n_diags++] = *pg_graph_diag(s->graph, i);
}

static pg_status compile_text(pg_session *s, const char *path, const char *text, size_t len,
                              int *root) {
    jmp_buf handler;
    s->on_error = &handler;
    if (setjmp(handler)) {
        s->on_error = NULL;
        return s->diags[s->n_diags - 1].status;
    }
    double t0 = exec_now_sec();
    int file = session_add_file(s, path, text);
    reject_nul(s, file, text, len);
    int n_tokens = 0;
    token *toks = lex_tokenize(s, file, s->files[file].text, &n_tokens);
    ast_module *m = parse_module(s, toks, n_tokens);
    double t1 = exec_now_sec();
    s->times.parse_sec = t1 - t0;
    eval_limits lim = { s->step_limit ? s->step_limit : EVAL_STEP_LIMIT, 200, 10000000,
                        s->memory_limit ? s->memory_limit : EVAL_MEMORY_LIMIT };
    eval_module(s, m, file, &lim);
    s->times.eval_sec = exec_now_sec() - t1;
    s->on_error = NULL;
    copy_graph_diags(s);
    for (int i = 0; i < s->n_diags; i++)
        if (!s->diags[i].is_warning)
            return s->diags[i].status;
    *root = s->root;
    return PG_OK;
}

pg_compile_times pg_session_times(const pg_session *s) {
    return s->times;
}

pg_status pg_compile_file(pg_session *s, const char *path, const char *src, int *root) {
    *root = -1;
    size_t len = 0;
    if (src)
        return compile_text(s, path, src, strlen(src), root);
    char *text = read_file(path, &len);
    if (!text) {
        pg_srcloc none = { 0, 0, 0 };
        diag_add(s, none, PG_ERR_FILE, 0, "cannot read '%s': %s", path, strerror(errno));
        return PG_ERR_FILE;
    }
    pg_status st = compile_text(s, path, text, len, root);
    free(text);
    return st;
}

// The text of line `line` of file `file` (not NUL-terminated); its length in *len.
static const char *line_text(const pg_session *s, int file, int line, size_t *len) {
    if (file < 1 || file > s->n_files || line < 1)
        return NULL;
    const char *p = s->files[file].text;
    for (int l = 1; l < line && p; l++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (!p)
        return NULL;
    const char *e = strchr(p, '\n');
    *len = e ? (size_t)(e - p) : strlen(p);
    if (*len && p[*len - 1] == '\r')
        (*len)--;
    return p;
}

void pg_session_print_diag(const pg_session *s, const pg_diag *d, FILE *f) {
    const char *what = d->is_warning ? "warning" : "error";
    if (d->loc.line < 1) {
        fprintf(f, "pygmuc: %s: %s\n", what, d->message);
        return;
    }
    fprintf(f, "%s:%d:%d: %s: %s\n", pg_session_file_path(s, d->loc.file), d->loc.line, d->loc.col,
            what, d->message);
    size_t len = 0;
    const char *text = line_text(s, d->loc.file, d->loc.line, &len);
    if (!text)
        return;
    fprintf(f, "    %.*s\n    ", (int)len, text);
    // The caret sits under column col, counted in characters (UTF-8 continuation bytes
    // do not count); tabs are kept so it lines up.
    int col = 1;
    for (size_t i = 0; i < len && col < d->loc.col; i++) {
        unsigned char ch = (unsigned char)text[i];
        if ((ch & 0xC0) == 0x80)
            continue;
        fputc(ch == '\t' ? '\t' : ' ', f);
        col++;
    }
    fputs("^\n", f);
}
