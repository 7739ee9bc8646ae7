// main.c: the pygmuc driver. Parses the command line and calls the public API: compile a
// .pg piece (pg_compile_file), plan it (pg_plan_new), render it (pg_render_to_file); or
// check a piece, or compare two audio files. Exit status: 0 on success, the pg_status
// number of the first error (1 syntax ... 11 internal), 64 for a bad command line; compare
// exits 1 when the difference is above the tolerance.
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "aio.h"
#include "exec.h"
#include "pygmu.h"
#include "verify.h"

enum {
    EXIT_USAGE = 64
};

static const char usage_text[] =
    "usage: pygmuc PIECE.pg -o OUT.{wav,flac,aiff,ogg,...} [options]   render a piece\n"
    "       pygmuc check PIECE.pg [--duration T ...]                  compile only\n"
    "       pygmuc compare A B [--tolerance-db X]                       compare two files\n"
    "       pygmuc verify [PATH...] [--update] [-j N] [--junit FILE]    check reference renders\n"
    "options:\n"
    "  -o FILE            output file; the format comes from the extension; '-' is WAV on "
    "stdout\n"
    "  --subtype S        pcm16 | pcm24 | float (default: float for WAV/AIFF-like, pcm24 "
    "for FLAC)\n"
    "  --flac-level N     FLAC compression 0 (fastest) to 8 (smallest), as flac -N "
    "(default 5)\n"
    "  --start T --end T  render only [T, T); T is seconds (2.5 or 2.5s), 250ms, or frames "
    "(48000f)\n"
    "  --duration T       render T from the start\n"
    "  --until-silence    an endless piece stops after the first silent 4096 frames (on a "
    "grid\n"
    "                     from the start) that begin after its last finite part; 60 s past "
    "it at most\n"
    "  -j N               threads (default: the number of cores)\n"
    "  --block N          frames per block (default 4096); output never depends on it\n"
    "  -O0                no optimisation (the naive plan: no merging, fusion, cache,\n"
    "                     threads or sparse scheduling)\n"
    "  --no-cache, --cache-dir DIR\n"
    "  --cache-limit MB   the most the cache folder keeps (default 2048); least recently "
    "used go first\n"
    "  --mem-limit MB     the most memory rendered buffers may take at once\n"
    "  --no-output-cache  cache the materialised buffers only, not the output's chunks\n"
    "  --no-patch         write a new output file even where the old one could be patched "
    "in place\n"
    "  --dump-graph FILE.dot   write the graph for Graphviz\n"
    "  --explain          print the plan\n"
    "  -q                 no progress bar, warnings, print() output or PrintPE lines\n"
    "  --version\n";

typedef struct time_arg { // a time on the command line, converted once the rate is known
    bool set;
    double value;
    char unit; // 's' seconds, 'm' milliseconds, 'f' frames
} time_arg;

typedef struct options {
    const char *piece, *out, *dot, *cache_dir;
    pg_subtype subtype;
    int flac_level; // -1: the default
    time_arg start, end, duration;
    bool until_silence, explain, quiet, no_cache, no_output_cache, no_patch;
    int threads, block, opt_level;
    double mem_limit_mb, cache_limit_mb;
} options;

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pygmuc: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(pygmuc --help lists the options)\n");
    return EXIT_USAGE;
}

static bool parse_time(const char *s, time_arg *t) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || !isfinite(v))
        return false;
    t->unit = 's';
    if (strcmp(end, "ms") == 0)
        t->unit = 'm';
    else if (strcmp(end, "f") == 0)
        t->unit = 'f';
    else if (*end && strcmp(end, "s") != 0)
        return false;
    t->value = v;
    t->set = true;
    return true;
}

// Times beyond +-2^61 frames (12 million years at 48 kHz) are clamped there: llround of a
// double out of range gives nonsense, and a start plus a duration must not overflow. The
// window checks then report them ("ends before it starts", "over the limit of 24 hours").
static pg_frame to_frames(const time_arg *t, int rate) {
    const double far = 2305843009213693952.0; // 2^61
    double f = t->unit == 'f'   ? t->value
               : t->unit == 'm' ? t->value * rate / 1000.0
                                : t->value * rate;
    return (pg_frame)llround(f > far ? far : f < -far ? -far : f);
}

static bool parse_int(const char *s, int lo, int hi, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

// A positive number of megabytes (MiB).
static bool parse_mb(const char *s, double *out) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > 0.0))
        return false;
    *out = v;
    return true;
}

// Bytes of mb MiB; a huge count (1e30) is "no limit", not an overflow.
static size_t mb_bytes(double mb) {
    double bytes = mb * 1048576.0;
    return bytes >= (double)SIZE_MAX ? SIZE_MAX : (size_t)bytes;
}

static int parse_subtype(const char *s, pg_subtype *out) {
    if (strcmp(s, "pcm16") == 0)
        *out = PG_SUBTYPE_PCM16;
    else if (strcmp(s, "pcm24") == 0)
        *out = PG_SUBTYPE_PCM24;
    else if (strcmp(s, "float") == 0)
        *out = PG_SUBTYPE_FLOAT;
    else
        return usage_error("unknown subtype '%s' (pcm16, pcm24 or float)", s);
    return 0;
}

// Options that take a value; returns 1 when argv[*i] was one, -1 on a usage error.
static int parse_valued(options *o, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    static const char *const valued[] = {
        "-o",          "--subtype",    "--format",      "-j",          "--block",
        "--start",     "--end",        "--duration",    "--cache-dir", "--dump-graph",
        "--mem-limit", "--flac-level", "--cache-limit", NULL
    };
    // what each takes, for the error when a value is not that
    static const char *const expects[] = { "a file",
                                           "pcm16, pcm24 or float",
                                           "pcm16, pcm24 or float",
                                           "threads: a whole number from 1 to 256",
                                           "frames: a whole number from 1 to 16777216",
                                           "a time: seconds (2.5, 2.5s), 250ms or frames (48000f)",
                                           "a time: seconds (2.5, 2.5s), 250ms or frames (48000f)",
                                           "a time: seconds (2.5, 2.5s), 250ms or frames (48000f)",
                                           "a folder",
                                           "a file",
                                           "megabytes, more than 0",
                                           "a whole number from 0 to 8",
                                           "megabytes, more than 0" };
    int k = 0;
    while (valued[k] && strcmp(a, valued[k]) != 0)
        k++;
    if (!valued[k])
        return 0;
    if (*i + 1 >= argc)
        return usage_error("%s needs a value", a) ? -1 : -1;
    const char *v = argv[++*i];
    bool ok = true;
    switch (k) {
    case 0:
        o->out = v;
        break;
    case 1:
    case 2:
        return parse_subtype(v, &o->subtype) ? -1 : 1;
    case 3:
        ok = parse_int(v, 1, 256, &o->threads);
        break;
    case 4:
        ok = parse_int(v, 1, 1 << 24, &o->block);
        break;
    case 5:
        ok = parse_time(v, &o->start);
        break;
    case 6:
        ok = parse_time(v, &o->end);
        break;
    case 7:
        ok = parse_time(v, &o->duration);
        break;
    case 8:
        o->cache_dir = v;
        break;
    case 9:
        o->dot = v;
        break;
    case 10:
        ok = parse_mb(v, &o->mem_limit_mb);
        break;
    case 11:
        ok = parse_int(v, 0, 8, &o->flac_level);
        break;
    case 12:
        ok = parse_mb(v, &o->cache_limit_mb);
        break;
    }
    if (!ok) {
        usage_error("bad value '%s' for %s (%s)", v, a, expects[k]);
        return -1;
    }
    return 1;
}

static int parse_args(options *o, int argc, char **argv, int first) {
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        int r = parse_valued(o, argc, argv, &i);
        if (r < 0)
            return EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(a, "--until-silence") == 0)
            o->until_silence = true;
        else if (strcmp(a, "--explain") == 0)
            o->explain = true;
        else if (strcmp(a, "-q") == 0)
            o->quiet = true;
        else if (strcmp(a, "--no-cache") == 0)
            o->no_cache = true;
        else if (strcmp(a, "--no-output-cache") == 0)
            o->no_output_cache = true;
        else if (strcmp(a, "--no-patch") == 0)
            o->no_patch = true;
        else if (strcmp(a, "-O0") == 0 || strcmp(a, "-O1") == 0)
            o->opt_level = a[2] - '0';
        else if (a[0] == '-' && a[1])
            return usage_error("unknown option '%s'", a);
        else if (!o->piece)
            o->piece = a;
        else
            return usage_error("unexpected argument '%s'", a);
    }
    if (!o->piece)
        return fputs(usage_text, stderr), EXIT_USAGE; // no piece: how to give one
    if (o->duration.set && o->end.set)
        return usage_error("%s", "give --end or --duration, not both");
    return 0;
}

static void print_diags(const pg_session *s, bool quiet) {
    for (int i = 0; i < pg_session_diag_count(s); i++) {
        const pg_diag *d = pg_session_diag(s, i);
        if (!d->is_warning || !quiet)
            pg_session_print_diag(s, d, stderr);
    }
}

static int first_error(const pg_session *s) {
    for (int i = 0; i < pg_session_diag_count(s); i++)
        if (!pg_session_diag(s, i)->is_warning)
            return (int)pg_session_diag(s, i)->status;
    return PG_ERR_INTERNAL;
}

static void window_opts(const options *o, pg_graph *g, int root, pg_plan_opts *po) {
    int rate = pg_graph_node_frame_rate(g, root);
    pg_plan_opts_init(po);
    po->has_start = o->start.set;
    po->start = o->start.set ? to_frames(&o->start, rate) : 0;
    pg_frame from = o->start.set ? po->start : pg_graph_node_extent(g, root).start;
    if (from == PG_FRAME_MIN)
        from = 0; // an extent with no start plays from frame 0
    if (o->end.set) {
        po->has_end = true;
        po->end = to_frames(&o->end, rate);
    } else if (o->duration.set && from != PG_FRAME_MIN) {
        po->has_end = true;
        po->end = from + to_frames(&o->duration, rate);
    }
    po->until_silence = o->until_silence;
    po->opt_level = o->opt_level;
    po->block_frames = o->block;
    po->threads = o->threads;
    po->cache_dir = o->no_cache ? "" : o->cache_dir;
    po->no_output_cache = o->no_output_cache;
    po->mem_limit = mb_bytes(o->mem_limit_mb);
    po->cache_limit = mb_bytes(o->cache_limit_mb);
    po->measure = o->dot != NULL; // the graph picture shows each node's own time
    po->quiet = o->quiet;
}

static int report(const pg_session *s, const pg_diag *d) {
    pg_session_print_diag(s, d, stderr);
    return (int)d->status;
}

// Writes the plan as a Graphviz picture, with each node's measured cost when rendered.
static int write_dot(const options *o, const pg_plan *p, const double *node_sec) {
    FILE *f = fopen(o->dot, "w");
    if (!f) {
        fprintf(stderr, "pygmuc: cannot write '%s'\n", o->dot);
        return PG_ERR_IO;
    }
    pg_status st = pg_plan_write_dot(p, node_sec, f);
    return fclose(f) != 0 ? PG_ERR_IO : (int)st;
}

// Ctrl-C (or a kill, or the terminal closing) during a render: the render stops at its next
// block, its temporary output is removed and the old output left in place, the cache's
// stores in flight finish (none is left half-written), and pygmuc then dies of the signal,
// as it would have. A second signal kills at once (SA_RESETHAND). A signal ignored when
// pygmuc started (nohup, a background job) stays ignored. SIGPIPE (-o - into `head`, a
// player that quit) makes the copy to the pipe fail, so that the temporary file goes too
// (every write to the closed pipe raises it again: it stays caught), and pygmuc then dies of
// it quietly, as a filter does.
enum {
    N_STOP_SIGNALS = 4
};
static const int stop_signals[N_STOP_SIGNALS] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
static struct sigaction before_render[N_STOP_SIGNALS]; // the actions put back after it
static volatile sig_atomic_t caught_signal;

static void on_stop_signal(int sig) {
    caught_signal = sig;
    pg_interrupt(true);
}

static void catch_stop_signals(void) {
    for (int k = 0; k < N_STOP_SIGNALS; k++) {
        int sig = stop_signals[k];
        struct sigaction sa = { .sa_handler = on_stop_signal,
                                .sa_flags = sig == SIGPIPE ? 0 : SA_RESETHAND };
        sigemptyset(&sa.sa_mask);
        if (sigaction(sig, NULL, &before_render[k]) == 0 && before_render[k].sa_handler != SIG_IGN)
            sigaction(sig, &sa, NULL);
    }
}

// After the render: dies of the signal caught during it, if one was (written: the render
// finished first all the same); else signals act as before it (a Ctrl-C while --dump-graph
// writes stops pygmuc, it is not swallowed).
static void die_of_caught_signal(const options *o, bool written) {
    for (int k = 0; k < N_STOP_SIGNALS; k++)
        sigaction(stop_signals[k], &before_render[k], NULL);
    if (!caught_signal)
        return;
    if (!o->quiet && !written && caught_signal != SIGPIPE)
        fprintf(stderr, "pygmuc: interrupted: '%s' not written\n", o->out);
    signal(caught_signal, SIG_DFL);
    raise(caught_signal);
}

// The warnings a finished render may call for (unless -q): no cache, NaNs, clipping.
static void warn_after_render(const options *o, const pg_plan *p, const pg_render_stats *st,
                              double peak) {
    if (o->quiet)
        return;
    if (st->cache_errno)
        fprintf(stderr, "pygmuc: warning: rendered without the cache: cannot use %s%s%s: %s\n",
                o->cache_dir ? "'" : "", o->cache_dir ? o->cache_dir : "its default folder",
                o->cache_dir ? "'" : "", strerror(st->cache_errno));
    if (st->first_nonfinite_frame >= 0)
        fprintf(stderr,
                "pygmuc: warning: the output holds NaN or infinite samples, the first at "
                "%.3f s: a PE's arguments are out of its range\n",
                (double)st->first_nonfinite_frame / pg_plan_frame_rate(p));
    if (peak > 1.0)
        fprintf(stderr,
                "pygmuc: warning: the render clips: peak %.3f (%+.1f dBFS) in a PCM "
                "format; lower the gain or use --subtype float\n",
                peak, 20.0 * log10(peak));
}

// --explain's account of the render (dt: its wall time).
static void explain_render(const pg_plan *p, const pg_render_stats *st, double dt) {
    double secs = (double)st->frames / pg_plan_frame_rate(p);
    char limit_note[80] = "";
    if (st->limit_need_bytes)
        snprintf(limit_note, sizeof limit_note, " (%.1f MiB by the plan, for --mem-limit)",
                 (double)st->limit_need_bytes / 1048576.0);
    char chunk_note[320], resume_note[160] = "";
    if (st->chain_resumed > 0 || st->chain_rejoined > 0)
        snprintf(resume_note, sizeof resume_note,
                 "; the master chain resumed after %d of them (its state from the cache)"
                 " and was found again for %d",
                 st->chain_resumed, st->chain_rejoined);
    if (st->output_chunks_off)
        snprintf(chunk_note, sizeof chunk_note, "output chunks not kept (%s)",
                 st->output_chunks_off);
    else
        snprintf(chunk_note, sizeof chunk_note,
                 "output chunks %d from the cache / %d rendered and stored (%d ahead of "
                 "the stream); %d through the master chain%s",
                 st->chunk_hits, st->chunk_misses, st->chunks_ahead, st->chunks_chained,
                 resume_note);
    char reuse_note[160] = "";
    if (st->cells_copied + st->cells_made > 0)
        snprintf(reuse_note, sizeof reuse_note,
                 "; buffers remade from their last render: %d cells (FFT partitions) "
                 "copied, %d rendered",
                 st->cells_copied, st->cells_made);
    char encode_note[96] = "";
    if (st->encoded_segments > 0 && st->encoded_found >= 0)
        snprintf(encode_note, sizeof encode_note, " (%d of %d FLAC segments from the cache)",
                 st->encoded_found, st->encoded_segments);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr,
            "rendered %.2f s of audio in %.3f s (%.0fx realtime) on %d threads\n"
            "  materialise %.3f s (overlapping the stream): %d buffers (%d in parts on "
            "every thread), at most %.1f MiB at once%s, cache %d hits / %d misses (%.1f MiB "
            "loaded, %.1f MiB stored)%s\n  stream "
            "%.3f s: %s; encoding %.3f s on %d thread%s of its own%s\n",
            secs, dt, dt > 0 ? secs / dt : 0.0, st->threads, st->prepare_sec, st->materialised,
            st->parted, (double)st->peak_mat_bytes / 1048576.0, limit_note, st->cache_hits,
            st->cache_misses, (double)st->cache_loaded_bytes / 1048576.0,
            (double)st->cache_stored_bytes / 1048576.0, reuse_note, st->stream_sec, chunk_note,
            st->encode_sec, st->encode_threads, st->encode_threads == 1 ? "" : "s", encode_note);
    if (st->silent_reads > 0)
        fprintf(stderr,
                "  no sparse scheduling (-O0): mixes read every input for every block, %lld "
                "blocks of them silent\n",
                (long long)st->silent_reads);
    if (st->patch_off)
        fprintf(stderr, "  output written as a new file (not patched in place: %s)\n",
                st->patch_off);
    else
        fprintf(stderr,
                "  output patched in place: %d chunk%s written, %d held by the file already\n",
                st->patch_written, st->patch_written == 1 ? "" : "s", st->patch_kept);
    fprintf(stderr, "stats: audio_sec=%.3f render_sec=%.4f peak_rss_mib=%.1f encode_sec=%.4f\n",
            secs, dt, (double)ru.ru_maxrss / 1024.0, st->encode_sec);
}

static int render(const options *o, pg_session *s, pg_plan *p) {
    pg_render_stats stats;
    double *node_sec = o->dot ? calloc((size_t)pg_plan_node_count(p) + 1, sizeof(double)) : NULL;
    pg_write_opts wo = { .subtype = o->subtype,
                         .flac_level_set = o->flac_level >= 0,
                         .flac_level = o->flac_level,
                         .quiet = o->quiet,
                         .no_patch = o->no_patch,
                         .stats = &stats,
                         .node_sec = node_sec,
                         .progress = !o->quiet && isatty(2) && strcmp(o->out, "-") != 0 };
    double peak = 0.0, t0 = exec_now_sec();
    pg_diag err;
    catch_stop_signals();
    pg_status st = pg_render_to_file(p, o->out, &wo, &peak, &err);
    die_of_caught_signal(o, st == PG_OK);
    int rc = st == PG_OK && o->dot ? write_dot(o, p, node_sec) : 0;
    free(node_sec);
    if (st != PG_OK)
        return report(s, &err);
    if (rc)
        return rc;
    warn_after_render(o, p, &stats, peak);
    if (o->explain)
        explain_render(p, &stats, exec_now_sec() - t0);
    return 0;
}

static int compile_and_run(const options *o, bool check_only) {
    pg_session *s = pg_session_new();
    if (!s) {
        fprintf(stderr, "pygmuc: out of memory\n");
        return PG_ERR_NOMEM;
    }
    int root = -1, rc = 0;
    if (o->quiet)
        pg_session_set_print(s, NULL);
    pg_status st = pg_compile_file(s, o->piece, NULL, &root);
    print_diags(s, o->quiet);
    if (st != PG_OK) {
        rc = first_error(s);
    } else {
        pg_plan_opts po;
        window_opts(o, pg_session_graph(s), root, &po);
        pg_diag err;
        pg_plan *p = pg_plan_new(pg_session_graph(s), root, &po, &err);
        if (!p)
            rc = report(s, &err);
        if (p && o->explain) {
            pg_compile_times t = pg_session_times(s);
            fprintf(stderr, "compile: parse %.4f s, evaluate %.4f s\n", t.parse_sec, t.eval_sec);
            pg_plan_explain(p, stderr);
        }
        if (p && o->dot && aio_reader_of(p, o->dot) >= 0) // (found only now: the piece names it)
            rc = usage_error("--dump-graph '%s' is a sound file the piece reads", o->dot);
        if (p && !rc && o->dot && check_only)
            rc = write_dot(o, p, NULL);
        if (p && !rc && !check_only)
            rc = render(o, s, p);
        pg_plan_free(p);
    }
    pg_session_free(s);
    return rc;
}

static int compare(int argc, char **argv) {
    const char *a = NULL, *b = NULL;
    double tol = -90.0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--tolerance-db") == 0) {
            char *end = NULL;
            const char *v = i + 1 < argc ? argv[++i] : "";
            tol = strtod(v, &end);
            if (end == v || *end || isnan(tol))
                return usage_error("bad value '%s' for --tolerance-db (dBFS, e.g. -90)", v);
        } else if (!a)
            a = argv[i];
        else if (!b)
            b = argv[i];
        else
            return usage_error("unexpected argument '%s'", argv[i]);
    }
    if (!a || !b)
        return usage_error("%s", "compare needs two files");
    pg_compare_result r;
    pg_diag err;
    if (pg_compare_files(a, b, &r, &err) != PG_OK) {
        fprintf(stderr, "pygmuc: error: %s\n", err.message);
        return (int)err.status;
    }
    if (r.rate_a != r.rate_b || r.channels_a != r.channels_b) {
        printf("mismatch: %s is %d Hz x %d ch, %s is %d Hz x %d ch\n", a, r.rate_a, r.channels_a, b,
               r.rate_b, r.channels_b);
        return 1;
    }
    int64_t dlen = r.frames_b - r.frames_a;
    bool ok = r.peak_diff_dbfs <= tol && dlen >= -1 && dlen <= 1;
    printf("length_diff_frames=%lld peak_diff_dbfs=%.1f snr_db=%.1f %s (tol %.1f dBFS)\n",
           (long long)dlen, r.peak_diff_dbfs, r.snr_db, ok ? "ok" : "FAIL", tol);
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("pygmuc %s\n", PG_VERSION_STRING);
        return 0;
    }
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "compare") == 0)
        return compare(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "verify") == 0)
        return verify_main(argc, argv);
    options o = { .opt_level = 1, .flac_level = -1 };
    bool check_only = argc >= 2 && strcmp(argv[1], "check") == 0;
    int rc = parse_args(&o, argc, argv, check_only ? 2 : 1);
    if (rc)
        return rc;
    if (!check_only && !o.out)
        return usage_error("%s", "no output file: give -o OUT.wav (or -o - for stdout)");
    if (o.dot && aio_same_file(o.dot, o.piece)) // a slip of the keyboard must not eat a piece
        return usage_error("--dump-graph '%s' is the piece itself", o.dot);
    if (o.dot && o.out && aio_same_file(o.dot, o.out))
        return usage_error("--dump-graph '%s' is the output file", o.dot);
    return compile_and_run(&o, check_only);
}
