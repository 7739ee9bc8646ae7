// verify.c: `pygmuc verify [PATH...]`: reference audio for CI. Finds every X.pg with a
// reference X.ref.flac or X.ref.wav beside it, renders it in memory, compares frame rate,
// channels, length and samples (peak difference in dBFS, SNR), prints one row per piece and
// a summary line, and exits 1 on any failure. --update rewrites the references it was
// pointed at (FLAC 24-bit when the render stays within full scale, float WAV otherwise);
// -j renders pieces in parallel; --junit writes a JUnit XML report.
#include "verify.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aio.h"
#include "exec.h"
#include "pygmu.h"

enum {
    MAX_PIECES = 4096
};

typedef struct piece {
    char *path;             // X.pg
    char *ref;              // X.ref.flac or X.ref.wav, or NULL
    double tolerance_db;    // from "# verify: tolerance-db X" in the piece, else the default
    int bad_tolerance_line; // the line of such a comment whose X is not a number, or 0
    // results
    bool ok;
    bool updated;
    double peak_db, snr_db, seconds, audio_sec;
    int64_t length_diff;
    char message[600];
} piece;

typedef struct verify_opts {
    bool update;
    int jobs;
    const char *junit;
    double tolerance_db;
} verify_opts;

typedef struct job_queue {
    piece *pieces;
    int n, next;
    const verify_opts *o;
    pthread_mutex_t lock;
} job_queue;

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

// The reference beside X.pg: X.ref.flac, else X.ref.wav, else NULL.
static char *find_ref(const char *pg) {
    size_t n = strlen(pg) - 3;
    char *r = malloc(n + 10);
    if (!r)
        return NULL;
    snprintf(r, n + 10, "%.*s.ref.flac", (int)n, pg);
    if (file_exists(r))
        return r;
    snprintf(r, n + 10, "%.*s.ref.wav", (int)n, pg);
    if (file_exists(r))
        return r;
    free(r);
    return NULL;
}

// A number and nothing else (blanks around it allowed): what an option or a tolerance line
// must hold. atof would read "abc" as 0 dBFS, a tolerance that passes anything.
static bool parse_number(const char *s, double *out) {
    char *end;
    double v = strtod(s, &end);
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
        end++;
    if (end == s || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

// A per-piece tolerance: a line "# verify: tolerance-db -90" among the first lines; *bad_line
// is the line of one whose value is not a number (0 if none).
static double read_tolerance(const char *path, double fallback, int *bad_line) {
    FILE *f = fopen(path, "r");
    char line[512];
    double tol = fallback;
    *bad_line = 0;
    for (int i = 0; f && i < 40 && fgets(line, sizeof line, f); i++) {
        const char *p = strstr(line, "verify: tolerance-db");
        if (line[0] == '#' && p && !parse_number(p + strlen("verify: tolerance-db"), &tol))
            *bad_line = i + 1;
    }
    if (f)
        fclose(f);
    return tol;
}

static int add_piece(piece *ps, int *n, const char *path, bool need_ref, const verify_opts *o) {
    if (*n >= MAX_PIECES)
        return -1;
    char *ref = find_ref(path);
    if (!ref && need_ref)
        return 0;
    piece *p = &ps[(*n)++];
    memset(p, 0, sizeof *p);
    p->path = strdup(path);
    p->ref = ref;
    p->tolerance_db = read_tolerance(path, o->tolerance_db, &p->bad_tolerance_line);
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// Adds every X.pg with a reference under dir (recursively), in sorted order.
static int scan_dir(const char *dir, piece *ps, int *n, const verify_opts *o) {
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char *names[MAX_PIECES];
    int k = 0;
    struct dirent *e;
    while ((e = readdir(d)) && k < MAX_PIECES)
        if (e->d_name[0] != '.')
            names[k++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)k, sizeof names[0], cmp_str);
    for (int i = 0; i < k; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            scan_dir(path, ps, n, o);
        else if (ends_with(names[i], ".pg"))
            add_piece(ps, n, path, !o->update, o);
        free(names[i]);
    }
    return 0;
}

// ---- rendering and comparing ----------------------------------------------------------

static void fail_piece(piece *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_piece(piece *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->message, sizeof p->message, fmt, ap);
    va_end(ap);
    p->ok = false;
}

// Compiles and renders a piece into a malloc'd interleaved buffer.
static float *render_piece(piece *p, int threads, int *ch, int *rate, int64_t *frames) {
    pg_session *s = pg_session_new();
    int root = -1;
    float *out = NULL;
    if (!s) {
        fail_piece(p, "out of memory");
        return NULL;
    }
    pg_session_set_print(s, NULL); // the pieces' print() lines would clutter the report
    if (pg_compile_file(s, p->path, NULL, &root) != PG_OK) {
        const pg_diag *d = pg_session_diag(s, 0);
        for (int i = 0; i < pg_session_diag_count(s); i++)
            if (!pg_session_diag(s, i)->is_warning) {
                d = pg_session_diag(s, i);
                break;
            }
        fail_piece(p, "%s:%d:%d: %s", p->path, d ? d->loc.line : 0, d ? d->loc.col : 0,
                   d ? d->message : "compile failed");
        pg_session_free(s);
        return NULL;
    }
    pg_plan_opts po;
    pg_plan_opts_init(&po);
    po.threads = threads;
    po.cache_dir = ""; // a reference check renders from scratch
    pg_diag err;
    pg_plan *plan = pg_plan_new(pg_session_graph(s), root, &po, &err);
    if (plan) {
        *ch = pg_plan_channels(plan);
        *rate = pg_plan_frame_rate(plan);
        *frames = pg_plan_window(plan).end - pg_plan_window(plan).start;
        out = malloc(sizeof(float) * (size_t)(*frames > 0 ? *frames : 1) * (size_t)*ch);
        if (!out || pg_render_all(plan, out, &err) != PG_OK) {
            free(out);
            out = NULL;
        }
    }
    if (!out)
        fail_piece(p, "%s:%d:%d: %s", p->path, err.loc.line, err.loc.col, err.message);
    pg_plan_free(plan);
    pg_session_free(s);
    return out;
}

static void compare_with_ref(piece *p, const float *got, int ch, int rate, int64_t frames) {
    int rch, rrate;
    int64_t rframes;
    pg_diag err;
    float *ref = aio_read_file(p->ref, &rch, &rrate, &rframes, &err);
    if (!ref) {
        fail_piece(p, "%s", err.message);
        return;
    }
    p->length_diff = frames - rframes;
    if (rch != ch || rrate != rate) {
        fail_piece(p, "reference is %d Hz x %d ch, render is %d Hz x %d ch", rrate, rch, rate, ch);
        free(ref);
        return;
    }
    aio_diff(ref, rframes, got, frames, ch, &p->peak_db, &p->snr_db);
    free(ref);
    p->ok = p->peak_db <= p->tolerance_db && llabs(p->length_diff) <= 1;
    if (!p->ok)
        snprintf(p->message, sizeof p->message,
                 "audio moved: peak difference %.1f dBFS (tolerance %.1f), SNR %.1f dB, "
                 "length %+lld frames",
                 p->peak_db, p->tolerance_db, p->snr_db, (long long)p->length_diff);
}

// Writes a reference: FLAC 24-bit when the render peaks within full scale, else float WAV.
static void write_ref(piece *p, const float *got, int ch, int rate, int64_t frames) {
    uint32_t bits = exec_max_abs_bits(got, frames * ch);
    if (bits >= EXEC_NONFINITE_BITS) { // (24-bit FLAC would turn them into arbitrary numbers)
        fail_piece(p, "the render holds NaN or infinite samples: no reference written");
        return;
    }
    float peak;
    memcpy(&peak, &bits, sizeof peak);
    size_t n = strlen(p->path) - 3;
    char path[4096], other[4096];
    bool flac = peak <= 1.0f;
    snprintf(path, sizeof path, "%.*s.ref.%s", (int)n, p->path, flac ? "flac" : "wav");
    snprintf(other, sizeof other, "%.*s.ref.%s", (int)n, p->path, flac ? "wav" : "flac");
    SF_INFO info = { .samplerate = rate,
                     .channels = ch,
                     .format = flac ? SF_FORMAT_FLAC | SF_FORMAT_PCM_24
                                    : SF_FORMAT_WAV | SF_FORMAT_FLOAT };
    // written beside it under a hidden name of its own (two runs at once do not share it; a
    // killed one leaves no X.ref.flac.tmp among the pieces), then renamed into place
    char tmp[4200];
    int fd = aio_make_temp(path, tmp, sizeof tmp);
    SNDFILE *sf = fd >= 0 ? sf_open_fd(fd, SFM_WRITE, &info, SF_FALSE) : NULL;
    if (!sf) {
        fail_piece(p, "cannot write '%s': %s", path, fd < 0 ? strerror(errno) : sf_strerror(NULL));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        return;
    }
    aio_set_final_mode(fd, path);
    bool ok = sf_writef_float(sf, got, frames) == frames;
    ok = sf_close(sf) == 0 && ok;
    ok = close(fd) == 0 && ok && rename(tmp, path) == 0;
    if (!ok) {
        unlink(tmp);
        fail_piece(p, "cannot write '%s'", path);
        return;
    }
    unlink(other);
    free(p->ref);
    p->ref = strdup(path);
    p->ok = p->updated = true;
}

static void run_piece(piece *p, const verify_opts *o, int threads) {
    if (p->bad_tolerance_line) {
        fail_piece(p, "line %d: 'verify: tolerance-db' needs a number of dBFS, e.g. -90",
                   p->bad_tolerance_line);
        return;
    }
    double t0 = exec_now_sec();
    int ch = 0, rate = 0;
    int64_t frames = 0;
    float *got = render_piece(p, threads, &ch, &rate, &frames);
    p->seconds = exec_now_sec() - t0;
    if (!got)
        return;
    p->audio_sec = rate ? (double)frames / rate : 0.0;
    if (o->update)
        write_ref(p, got, ch, rate, frames);
    else if (!p->ref)
        fail_piece(p, "no reference beside it (run verify --update)");
    else
        compare_with_ref(p, got, ch, rate, frames);
    free(got);
}

static void *job_worker(void *arg) {
    job_queue *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->lock);
        int i = q->next < q->n ? q->next++ : -1;
        pthread_mutex_unlock(&q->lock);
        if (i < 0)
            return NULL;
        run_piece(&q->pieces[i], q->o, q->o->jobs > 1 ? 1 : 0);
    }
}

static void run_all(piece *ps, int n, const verify_opts *o) {
    job_queue q = { .pieces = ps, .n = n, .o = o };
    pthread_mutex_init(&q.lock, NULL);
    pthread_t th[64];
    int jobs = o->jobs < 1 ? 1 : o->jobs > 64 ? 64 : o->jobs, started = 0;
    for (int t = 1; t < jobs; t++)
        if (pthread_create(&th[t], NULL, job_worker, &q) == 0)
            started = t;
    job_worker(&q);
    for (int t = 1; t <= started; t++)
        pthread_join(th[t], NULL);
    pthread_mutex_destroy(&q.lock);
}

// ---- reporting ------------------------------------------------------------------------

static void print_row(const piece *p) {
    const char *state = p->updated ? "UPDATED" : p->ok ? "PASS" : "FAIL";
    if (p->message[0] && !p->ok)
        printf("%-7s %s  (%.2f s)\n        %s\n", state, p->path, p->seconds, p->message);
    else
        printf("%-7s %s  peak diff %.1f dBFS  SNR %.1f dB  (%.2f s for %.2f s of audio)\n", state,
               p->path, p->peak_db, p->snr_db, p->seconds, p->audio_sec);
}

static void xml_escaped(FILE *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
                fputc(*s, f);
        }
    }
}

static int write_junit(const char *path, const piece *ps, int n, int failed, double total) {
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f,
            "<testsuites><testsuite name=\"pygmuc verify\" tests=\"%d\" failures=\"%d\" "
            "errors=\"0\" time=\"%.3f\">\n",
            n, failed, total);
    for (int i = 0; i < n; i++) {
        fputs("  <testcase classname=\"pygmuc.verify\" name=\"", f);
        xml_escaped(f, ps[i].path);
        fprintf(f, "\" time=\"%.3f\">", ps[i].seconds);
        if (!ps[i].ok) {
            fputs("<failure message=\"", f);
            xml_escaped(f, ps[i].message);
            fputs("\"/>", f);
        }
        fputs("</testcase>\n", f);
    }
    fputs("</testsuite></testsuites>\n", f);
    return fclose(f);
}

static int verify_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int verify_usage(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pygmuc verify: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: pygmuc verify [PATH...] [--update] [-j N] [--junit FILE] "
                    "[--tolerance-db X]\n");
    return 64;
}

static int parse_opts(int argc, char **argv, verify_opts *o, const char **paths, int *np) {
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x;
        if (strcmp(a, "--update") == 0)
            o->update = true;
        else if (strcmp(a, "-j") == 0 && v && parse_number(v, &x) && x == (int)x && x >= 1 &&
                 x <= 256)
            o->jobs = (int)x, i++;
        else if (strcmp(a, "--junit") == 0 && v)
            o->junit = v, i++;
        else if (strcmp(a, "--tolerance-db") == 0 && v && parse_number(v, &x))
            o->tolerance_db = x, i++;
        else if (strcmp(a, "-j") == 0 || strcmp(a, "--junit") == 0)
            return verify_usage("a bad or missing value for %s (%s)", a,
                                a[1] == 'j' ? "jobs: 1 to 256" : "a file");
        else if (strcmp(a, "--tolerance-db") == 0)
            return verify_usage("a bad or missing value for %s (dBFS, e.g. -90)", a);
        else if (a[0] == '-')
            return verify_usage("unknown option '%s'", a);
        else if (*np < 256)
            paths[(*np)++] = a;
        else
            return verify_usage("more than 256 paths, from '%s' on", a);
    }
    return 0;
}

int verify_main(int argc, char **argv) {
    verify_opts o = { .jobs = 1, .tolerance_db = -100.0 };
    const char *paths[256];
    int np = 0;
    int rc = parse_opts(argc, argv, &o, paths, &np);
    if (rc)
        return rc;
    if (np == 0)
        paths[np++] = ".";
    piece *ps = calloc(MAX_PIECES, sizeof *ps);
    int n = 0;
    for (int i = 0; ps && i < np; i++) {
        struct stat st;
        if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode))
            scan_dir(paths[i], ps, &n, &o);
        else if (ends_with(paths[i], ".pg") && file_exists(paths[i]))
            add_piece(ps, &n, paths[i], false, &o);
        else
            fprintf(stderr, "pygmuc verify: no such piece or folder '%s'\n", paths[i]);
    }
    double t0 = exec_now_sec();
    if (ps)
        run_all(ps, n, &o);
    double total = exec_now_sec() - t0;
    int failed = 0;
    for (int i = 0; i < n; i++) {
        print_row(&ps[i]);
        failed += !ps[i].ok;
    }
    printf("verify: %d pieces in %.2f s\n", n, total);
    printf("%d passed, %d failed\n", n - failed, failed);
    if (o.junit && write_junit(o.junit, ps, n, failed, total) != 0)
        fprintf(stderr, "pygmuc verify: cannot write '%s'\n", o.junit);
    for (int i = 0; i < n; i++) {
        free(ps[i].path);
        free(ps[i].ref);
    }
    free(ps);
    return failed || n == 0 ? 1 : 0;
}
