// pygmu.h: the public C API of pygmuc, a dataflow compiler and offline renderer for
// pygmu-style music graphs. A program builds a graph of processing elements (PEs),
// compiles it into a plan, and renders the plan to a buffer or an audio file. The .pg
// front end builds its graphs through exactly these calls.
//
// Ownership: every object is created by a pg_x_new / pg_x_open call and released by its
// pg_x_free / pg_x_close; passing NULL to a free function is a no-op. Strings and arrays
// passed in are copied. Nothing here is thread-safe on one object; distinct objects may be
// used from distinct threads.
#ifndef PYGMU_H
#define PYGMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define PG_API __attribute__((visibility("default")))
#else
#define PG_API
#endif

// ---- version ------------------------------------------------------------------------

#define PG_VERSION_MAJOR  0
#define PG_VERSION_MINOR  2
#define PG_VERSION_PATCH  0
#define PG_VERSION_STRING "0.2.0"

// ---- status and diagnostics ---------------------------------------------------------

// One value per error kind; the numbers are part of the API and never change.
typedef enum pg_status {
    PG_OK = 0,
    PG_ERR_SYNTAX = 1,       // the .pg text does not parse
    PG_ERR_NAME = 2,         // undefined name
    PG_ERR_ARG = 3,          // wrong, unknown, missing or out-of-range argument; wrong type
    PG_ERR_CHANNELS = 4,     // channel-count mismatch
    PG_ERR_RATE = 5,         // frame-rate mismatch or missing frame rate
    PG_ERR_EXTENT = 6,       // an indefinite extent where a finite one is needed
    PG_ERR_FILE = 7,         // missing, unreadable or malformed sound file
    PG_ERR_LIMIT = 8,        // evaluation steps, recursion depth, list size, memory budget
    PG_ERR_NOMEM = 9,        // out of memory
    PG_ERR_IO = 10,          // writing the output failed
    PG_ERR_INTERNAL = 11,    // a bug in pygmuc
    PG_ERR_INTERRUPTED = 12, // pg_interrupt stopped the render
} pg_status;

// A short lower-case name for a status ("syntax error", "channel count mismatch", ...).
// The string is static.
PG_API const char *pg_status_str(pg_status s);

// A position in a source file. file indexes the session's file table (0 = none, for graphs
// built from C); line and col count from 1 (col in characters); line 0 means "no location".
typedef struct pg_srcloc {
    int file;
    int line;
    int col;
} pg_srcloc;

// One diagnostic: an error (or a warning when is_warning) with its location.
typedef struct pg_diag {
    pg_status status;
    pg_srcloc loc;
    bool is_warning;
    char message[512];
} pg_diag;

// ---- frames and extents -------------------------------------------------------------

typedef int64_t pg_frame; // a frame number or a count of frames

#define PG_FRAME_MIN INT64_MIN // an indefinite start
#define PG_FRAME_MAX INT64_MAX // an indefinite end

// The half-open span [start, end) of frames. start == end is empty. An infinite bound is
// PG_FRAME_MIN / PG_FRAME_MAX.
typedef struct pg_extent {
    pg_frame start;
    pg_frame end;
} pg_extent;

PG_API pg_extent pg_extent_make(pg_frame start, pg_frame end);  // swaps reversed bounds
PG_API pg_extent pg_extent_intersect(pg_extent a, pg_extent b); // empty result: [0, 0)
PG_API pg_extent pg_extent_union(pg_extent a, pg_extent b);     // ignores empty extents
PG_API pg_extent pg_extent_offset(pg_extent a, pg_frame d);     // infinite bounds stay
PG_API bool pg_extent_is_empty(pg_extent a);
PG_API bool pg_extent_is_finite(pg_extent a);
PG_API bool pg_extent_overlaps(pg_extent a, pg_extent b); // a non-empty intersection

// ---- graph building -----------------------------------------------------------------

typedef struct pg_graph pg_graph;

typedef enum pg_value_type {
    PG_V_NONE = 0, // Python's None; also "absent"
    PG_V_NUM,      // a double
    PG_V_INT,      // an int64
    PG_V_BOOL,
    PG_V_STR, // a NUL-terminated string
    PG_V_EXTENT,
    PG_V_NODE,  // a node id of the same graph
    PG_V_ARRAY, // a rows x cols matrix of doubles, row-major (a flat list: rows = 1)
    PG_V_FUNC,  // a per-sample function (MapPE, WaveShapePE)
} pg_value_type;

typedef struct pg_array {
    int rows;
    int cols;
    const double *data; // rows * cols values, row-major
} pg_array;

// A vectorised function of one variable: writes out[i] = f(in[i]) for i < n. It must be
// pure and thread-safe. On failure it returns the error's status and writes its message,
// NUL-terminated, into err (err_size bytes; nothing is written when err_size is 0). env
// stays owned by whoever made the function and must outlive every plan that uses it; hash
// identifies the function for caching (0 = never cache).
typedef struct pg_func {
    pg_status (*call)(void *env, const double *in, double *out, int64_t n, char *err,
                      size_t err_size);
    void *env;
    uint64_t hash;
} pg_func;

typedef struct pg_value {
    pg_value_type type;
    union {
        double num;
        int64_t i;
        bool b;
        const char *str;
        pg_extent ext;
        int node;
        pg_array array;
        pg_func func;
    } u;
} pg_value;

// An argument of a PE constructor: name NULL for a positional argument.
typedef struct pg_arg {
    const char *name;
    pg_value value;
} pg_arg;

// A new, empty graph. Generators whose frame_rate is not given use default_frame_rate.
// Returns NULL when out of memory.
PG_API pg_graph *pg_graph_new(int default_frame_rate);
PG_API void pg_graph_free(pg_graph *g);
PG_API void pg_graph_set_default_frame_rate(pg_graph *g, int frame_rate);
PG_API int pg_graph_default_frame_rate(const pg_graph *g);

// Adds a PE of kind `kind` (its pygmu constructor name, e.g. "SinPE") with the given
// arguments, bound like a Python call to the kind's parameter list. Returns the new node's
// id (>= 0). A binding error (unknown kind, unknown / duplicate / missing argument, wrong
// type, out-of-range value, unreadable sound file) returns -1 and fills *err (err may be
// NULL). A shape error (channel count, frame rate) is recorded in the graph's diagnostics
// with loc, and the node is still added, so that one run reports every mismatch.
PG_API int pg_graph_add(pg_graph *g, const char *kind, const pg_arg *args, int n_args,
                        pg_srcloc loc, pg_diag *err);

// The shape of a node: channel count, frame rate (Hz) and extent.
PG_API int pg_graph_node_channels(const pg_graph *g, int node);
PG_API int pg_graph_node_frame_rate(const pg_graph *g, int node);
PG_API pg_extent pg_graph_node_extent(const pg_graph *g, int node); // as pygmu reports it
// Where the node's signal may be non-zero: its extent plus any ring-out tail of filters in
// it (pygmu's filters ring on past the extent they report when a mix pulls them).
PG_API pg_extent pg_graph_node_sound_extent(const pg_graph *g, int node);
PG_API int pg_graph_node_count(const pg_graph *g);

// The shape errors recorded so far (valid until the graph is freed or changed).
PG_API int pg_graph_diag_count(const pg_graph *g);
PG_API const pg_diag *pg_graph_diag(const pg_graph *g, int i);

// Writes the graph reachable from root in Graphviz dot form.
PG_API pg_status pg_graph_write_dot(const pg_graph *g, int root, FILE *f);

// ---- PE kinds -----------------------------------------------------------------------

PG_API int pg_kind_count(void);
PG_API const char *pg_kind_name(int i);             // constructor name, e.g. "GainPE"
PG_API const char *pg_kind_method(int i);           // chaining method, e.g. "gain", or NULL
PG_API int pg_kind_find(const char *name);          // index, or -1
PG_API int pg_kind_find_method(const char *method); // index, or -1
// The position of parameter `param` in the kind's parameter list, or -1.
PG_API int pg_kind_param_index(int kind, const char *param);

// ---- compiling ----------------------------------------------------------------------

typedef struct pg_plan pg_plan;

typedef struct pg_plan_opts {
    bool has_start; // render from start (else the root's extent start)
    bool has_end;   // render until end (else the root's extent end)
    pg_frame start;
    pg_frame end;
    bool until_silence;    // an infinite root ends with the first silent 4096 frames (on a
                           // grid from the start) that begin after every finite part ended
    int opt_level;         // 0: the naive plan; 1 (default): every optimisation
    int block_frames;      // 0: the default (4096)
    int threads;           // 0: the number of cores
    const char *cache_dir; // NULL: the default; "" disables the render cache
    size_t cache_limit;    // bytes the cache folder may hold (least recently used entries are
                           // deleted past it when a render stored some); 0: 2 GiB
    size_t mem_limit;      // bytes of materialised buffers allowed; 0: no limit
    bool no_output_cache;  // with the cache on, do not keep the output in it as well (in
                           // chunks, so that an edit re-renders the seconds it changed)
    bool measure;          // time every node's own work (pg_render_node_seconds); off, it
                           // reads zeros and costs nothing
    bool quiet;            // PEs print nothing while rendering (PrintPE's lines, warnings)
} pg_plan_opts;

PG_API void pg_plan_opts_init(pg_plan_opts *o);

// Checks the graph reachable from root and compiles it into a plan that owns all its
// memory (the graph may be freed afterwards). On error returns NULL and fills *err.
PG_API pg_plan *pg_plan_new(const pg_graph *g, int root, const pg_plan_opts *o, pg_diag *err);
PG_API void pg_plan_free(pg_plan *p);

PG_API int pg_plan_channels(const pg_plan *p);
PG_API int pg_plan_frame_rate(const pg_plan *p);
PG_API pg_extent pg_plan_window(const pg_plan *p); // the frames the plan renders
PG_API int pg_plan_node_count(const pg_plan *p);
// Writes the plan in Graphviz dot form: one box per node with its kind, shape and source
// line, what the passes did (merged, fused, materialised, cached) and, when node_sec is not
// NULL (see pg_render_node_seconds), its measured cost.
PG_API pg_status pg_plan_write_dot(const pg_plan *p, const double *node_sec, FILE *f);
// Prints what the passes did (merged, fused, materialised nodes; timings) to f.
PG_API void pg_plan_explain(const pg_plan *p, FILE *f);

// ---- rendering ----------------------------------------------------------------------

typedef struct pg_render pg_render;

// Starts rendering a plan: prepares every PE and materialises what must be. The plan
// must outlive the render. Returns NULL on error and fills *err.
PG_API pg_render *pg_render_new(const pg_plan *p, pg_diag *err);
PG_API void pg_render_free(pg_render *r);

// Renders the next at most max_frames frames of the window, interleaved, into out
// (channels * max_frames floats). Returns the number of frames written (0 at the end), or
// -1 on error with the message in pg_render_error(). (Where an until_silence render stops,
// out may hold frames past the count returned: they are not part of the output.)
PG_API int64_t pg_render_next(pg_render *r, float *out, int64_t max_frames);
PG_API const pg_diag *pg_render_error(const pg_render *r);

// Renders the whole window into out (channels * window-length floats, interleaved).
PG_API pg_status pg_render_all(const pg_plan *p, float *out, pg_diag *err);

// pg_interrupt(true) asks every render in this process to stop: each fails at its next
// block with PG_ERR_INTERRUPTED (pg_render_to_file removes its temporary file and leaves the
// old output in place), and so does every render started until pg_interrupt(false).
// Async-signal-safe: made to be called from a SIGINT handler.
PG_API void pg_interrupt(bool stop);

// What a render did so far (for --explain and benchmarks).
typedef struct pg_render_stats {
    int64_t frames;   // frames rendered so far (--until-silence may stop short of the window)
    int nodes;        // nodes in the plan
    int materialised; // buffers rendered once (or loaded from the cache)
    int cache_hits;
    int cache_misses;                              // cacheable buffers rendered and stored
    size_t cache_loaded_bytes, cache_stored_bytes; // the samples of those hits, those stores
                                                   // (and of the output chunks')
    const char *output_chunks_off; // why the output is not kept in the cache in chunks (a static
                                   // string: "--no-output-cache", "-O0", ...), or NULL
    int chunk_hits;                // output chunks found in the cache (copied, not rendered)
    int chunk_misses;              // output chunks rendered and stored in the cache
    int chunks_ahead;              // of those, rendered by an idle thread ahead of the stream
    int chunks_chained;            // chunks found that a master chain's fade or edge reaches: run
                                   // through it (the others are copied, scaled by its gain)
    int chain_resumed;             // a stateful master chain (a filter on the mix): the chunks
                                   // of its output found, from the first on, after which it
                                   // resumed from its state saved there; -1: not kept
    int chain_rejoined;            // and those found past that point, once its state came
                                   // back to what it was before an edit
    int cells_copied;              // buffers of finite memory (a reverb) made again from their
    int cells_made;                // last render: their cells (FFT partitions) copied from it,
                                   // and made again because their source changed there
    int parted;                    // buffers rendered in parts, by every thread at once
    int64_t silent_reads;          // -O0: blocks of zeros read from inputs outside their extents
                                   // (its mixes read every input for every block, as pygmu's
                                   // MixPE does; -O1 reads only the inputs that sound)
    double prepare_sec;            // wall time from the start until every materialisation was done
                                   // (it overlaps the stream)
    double stream_sec;             // wall time spent in pg_render_next
    int threads;
    size_t peak_mat_bytes;         // the most memory materialised buffers held at once
    size_t limit_need_bytes;       // with a memory limit: what the buffers needed at once come to
                                   // by the plan, which the limit was checked against (else 0)
    int cache_errno;               // 0, or why the cache folder could not be used (an errno): the
                                   // render ran without the cache
    double encode_sec;             // pg_render_to_file: the time spent encoding, summed over the
                                   // encoder threads (libsndfile's, and a FLAC stream's joining)
    int encode_threads;            // pg_render_to_file: the threads that encoded (FLAC: several)
    int encoded_segments;          // pg_render_to_file, FLAC: the segments of the stream, and of
    int encoded_found;             // those the ones found encoded in the cache (-1: no cache)
    int64_t first_nonfinite_frame; // pg_render_to_file: the first output frame holding a NaN
                                   // or an infinity (a PE driven out of its range), or -1
    const char *patch_off;         // pg_render_to_file: why the output was written as a new
                                   // file rather than patched in place (a static string), or
                                   // NULL: the old file was patched where the render changed it
    int patch_written, patch_kept; // patched: the output chunks written into it, and those it
                                   // held already (not read, not written)
} pg_render_stats;
PG_API void pg_render_get_stats(const pg_render *r, pg_render_stats *s);
// Seconds spent in each plan node's own kernel so far (its inputs' time excluded), when the
// plan was made with pg_plan_opts.measure (else zeros); out has pg_plan_node_count() entries.
PG_API void pg_render_node_seconds(const pg_render *r, double *out);

// ---- audio files --------------------------------------------------------------------

typedef enum pg_subtype {
    PG_SUBTYPE_DEFAULT = 0, // float for WAV/AIFF, pcm24 for FLAC, vorbis for OGG
    PG_SUBTYPE_PCM16,
    PG_SUBTYPE_PCM24,
    PG_SUBTYPE_FLOAT,
} pg_subtype;

typedef struct pg_write_opts {
    pg_subtype subtype;
    bool flac_level_set;    // FLAC outputs: compress at flac_level, 0-8 as flac -0 ... -8;
    int flac_level;         // unset, libsndfile's (and flac's) default, 5
    bool progress;          // draw a progress bar on stderr
    bool quiet;             // no warnings on stderr
    pg_render_stats *stats; // when not NULL, receives the render's statistics
    double *node_sec;       // when not NULL, receives pg_render_node_seconds()
    bool no_patch;          // always write a new file (never patch the old one in place)
} pg_write_opts;

// Renders the plan into the audio file at path (format from the extension; "-" writes WAV
// to stdout). The file is written beside its final name and renamed on success only, so a
// failed render never leaves a truncated or clobbered file. A file pygmuc wrote itself and
// nothing changed since (float WAV, 16- or 24-bit PCM WAV or AIFF, the same window) is
// instead patched in place where the render differs from it, when that is a small part of
// it (a warm render after an edit), once the render has succeeded: the same bytes as a new
// file (runtime/patch.c). A PCM render that clips sets *peak (if not NULL) above 1.0; the
// caller reports it.
PG_API pg_status pg_render_to_file(const pg_plan *p, const char *path, const pg_write_opts *o,
                                   double *peak, pg_diag *err);

// Compares two audio files: frame rate, channels, length, the peak absolute sample
// difference (dBFS, -inf when identical) and the SNR of b against a (dB).
typedef struct pg_compare_result {
    int rate_a, rate_b, channels_a, channels_b;
    int64_t frames_a, frames_b;
    double peak_diff_dbfs;
    double snr_db;
} pg_compare_result;
PG_API pg_status pg_compare_files(const char *a, const char *b, pg_compare_result *res,
                                  pg_diag *err);

// ---- the .pg front end --------------------------------------------------------------

typedef struct pg_session pg_session;

PG_API pg_session *pg_session_new(void);
PG_API void pg_session_free(pg_session *s);

// Compiles the .pg program in the file at path (or the text src named path when src is not
// NULL) into the session's graph. Returns PG_OK and sets *root to the node passed to
// render(). On error the diagnostics are in the session.
PG_API pg_status pg_compile_file(pg_session *s, const char *path, const char *src, int *root);

// Where the piece's print() output goes: f (the session does not close it), or nowhere when
// f is NULL. The default is stderr. Applies to print() calls at compile time and to those in
// .pg functions that PEs call while rendering.
PG_API void pg_session_set_print(pg_session *s, FILE *f);

// The most memory the program's values may take while it is evaluated (lists, strings,
// closures); past it pg_compile_file fails with PG_ERR_LIMIT at the statement that grew
// them. The default, 1 GiB, keeps a runaway loop from exhausting the machine; 0 restores it.
PG_API void pg_session_set_memory_limit(pg_session *s, size_t bytes);

// The most steps (statements and calls) the program may run; past it pg_compile_file fails
// with PG_ERR_LIMIT at the statement it was running. The default, 50,000,000 (about a second),
// stops an endless loop; 0 (or less) restores it.
PG_API void pg_session_set_step_limit(pg_session *s, int64_t steps);

// Wall time of the front end's stages in the last pg_compile_file: lexing and parsing, and
// evaluating the program (which builds the graph). For --explain.
typedef struct pg_compile_times {
    double parse_sec, eval_sec;
} pg_compile_times;
PG_API pg_compile_times pg_session_times(const pg_session *s);

PG_API pg_graph *pg_session_graph(pg_session *s);
PG_API int pg_session_diag_count(const pg_session *s);
PG_API const pg_diag *pg_session_diag(const pg_session *s, int i);
// Prints one diagnostic as "file:line:col: error: message", the source line and a caret.
PG_API void pg_session_print_diag(const pg_session *s, const pg_diag *d, FILE *f);
// The path of source file index `file` (1-based), or "" for none.
PG_API const char *pg_session_file_path(const pg_session *s, int file);

#ifdef __cplusplus
}
#endif

#endif // PYGMU_H
