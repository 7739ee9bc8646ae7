// pe.h: the processing-element interface. One pe_kind descriptor per PE kind (one file in
// runtime/pe/ each, listed in pe_list.h). The compiler binds arguments from a kind's
// declarative parameter list and calls infer; the executor calls init, process and fini.
//
// Rules for kernels: process fills every channel of out for the absolute frames
// [t0, t0 + n), which the executor guarantees lie inside the node's extent. Output depends
// on parameters, inputs, absolute time and state only: never on n, block boundaries or
// threads. A PE_F_STATEFUL kind gets contiguous windows in time order from pe->origin.
// A stateless kind's process may run on several threads at once: it must not write
// pe->state (set everything up in init). No allocation in process (use pe_scratch), no
// locks, no printing, no globals.
#ifndef PG_RUNTIME_PE_PE_H
#define PG_RUNTIME_PE_PE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pygmu.h"

typedef pg_value pe_value;

// Kind flags.
enum {
    PE_F_GENERATOR = 1u << 0,    // no signal inputs
    PE_F_POINTWISE = 1u << 1,    // out(t) depends on inputs at t only (fusable)
    PE_F_STATEFUL = 1u << 2,     // sees its window in time order from its origin
    PE_F_MATERIALISE = 1u << 3,  // always rendered once over its (finite) extent (CachePE)
    PE_F_VARIADIC = 1u << 4,     // the first parameter is *pes: every positional PE argument
    PE_F_LINEAR = 1u << 5,       // a constant linear map of its inputs (see pe_kind.linear):
                                 // fusable into one loop with its neighbours
    PE_F_CHEAP = 1u << 6,        // process only copies or fills memory: never worth
                                 // materialising for the sake of its consumers
    PE_F_TAIL = 1u << 7,         // its extent runs past its source's (a filter's ring-out):
                                 // infer, asked for the nominal extent, leaves the tail out
    PE_F_SIDE_EFFECT = 1u << 8,  // does something besides its output (writes a file, prints):
                                 // it and everything fed by it must really run, never come
                                 // from the render cache
    PE_F_INIT_OWN = 1u << 9,     // init reads its arguments only, never pulls: it runs with
                                 // every other init at the start, as a generator's does
    PE_F_INIT_RANDOM = 1u << 10, // init pulls only its PE_P_RANDOM inputs, whole (a reverb's
                                 // impulse response), and process never pulls them
};

// Parameter types.
typedef enum pe_ptype {
    PE_T_NUM, // a number (ints are converted to double)
    PE_T_INT, // an int (a float with an integral value is accepted)
    PE_T_BOOL,
    PE_T_STR,
    PE_T_EXTENT,
    PE_T_PE,        // a PE: becomes an input slot
    PE_T_NUM_OR_PE, // a number, or a PE supplying one value per frame (an input slot)
    PE_T_ARRAY,     // a number, a list of numbers or a list of lists of numbers
    PE_T_FUNC,      // a per-sample function
    PE_T_PES,       // *pes (only as the first parameter of a PE_F_VARIADIC kind)
    PE_T_ANY,       // any value (the kernel's infer checks it)
} pe_ptype;

// Parameter flags.
enum {
    PE_P_REQUIRED = 1u << 0, // no default: the caller must pass it
    PE_P_NONE_OK = 1u << 1,  // None is accepted (value PG_V_NONE)
    PE_P_RANDOM = 1u << 2,   // a PE input read at random times: materialise it if finite
    PE_P_GT0 = 1u << 3,      // a number must be > 0
    PE_P_GE0 = 1u << 4,      // a number must be >= 0
    PE_P_FILE = 1u << 5,     // a string naming a file whose content the node depends on
                             // (hashed by content for CSE and the render cache)
    PE_P_OUTPUT = 1u << 6,   // a string naming a file the node writes (a stem): no other
                             // node, nor the render's output, may write it too
};

typedef struct pe_param {
    const char *name; // pygmu's parameter name; NULL ends the list
    pe_ptype type;
    unsigned flags;
    pe_value def; // the default (ignored when PE_P_REQUIRED)
} pe_param;

#define PE_NUM(x)                                                                                  \
    { .type = PG_V_NUM, .u.num = (x) }
#define PE_INT(x)                                                                                  \
    { .type = PG_V_INT, .u.i = (x) }
#define PE_BOOL(x)                                                                                 \
    { .type = PG_V_BOOL, .u.b = (x) }
#define PE_STR(x)                                                                                  \
    { .type = PG_V_STR, .u.str = (x) }
#define PE_NONE                                                                                    \
    { .type = PG_V_NONE }
#define PE_PARAMS_END                                                                              \
    { .name = NULL }

// The shape a node has after inference.
typedef struct pe_shape {
    int channels;
    int frame_rate; // Hz; 0 = none (only graphs built from C without a default rate)
    pg_extent extent;
} pe_shape;

// A node as kernels see it: bound arguments and its inputs' shapes.
typedef struct pe_node {
    const struct pe_kind *kind;
    const pe_value *args; // one per parameter, defaults applied. A PE argument holds its
                          // input slot in u.node (PG_V_NODE); NUM_OR_PE holds either.
    int n_inputs;
    const pe_shape *in; // the inputs' shapes, by slot
    pe_shape out;       // filled by infer
    unsigned flags;     // kind->flags on entry; infer may add PE_F_STATEFUL (e.g. a SinPE
                        // whose frequency is a PE)
} pe_node;

// What infer reports through.
typedef struct pe_check {
    int default_rate; // the graph's default frame rate
    bool nominal;     // infer the extent pygmu reports: inputs' nominal extents, no tails
    pg_status status;
    char message[400];
} pe_check;

typedef struct pe_buf { // a writable planar block
    int channels;
    int64_t frames;
    int64_t stride; // floats from one channel to the next
    float *data;
} pe_buf;

typedef struct pe_view { // a read-only planar block (may point into a shared buffer)
    int channels;
    int64_t frames;
    int64_t stride;
    const float *data;
} pe_view;

typedef struct exec_ctx exec_ctx; // the executor's, opaque to kernels

typedef struct pe_inst {
    const pe_node *node;
    void *state;     // kind->state_size bytes, zeroed before init
    pg_frame origin; // first frame a stateful PE sees
    exec_ctx *cx;
    int id; // the node's index in the plan
} pe_inst;

// The cells of a kind of finite memory (pe_kind.cells).
typedef struct pe_cells {
    int slot;        // the input the cells follow
    pg_frame anchor; // a cell boundary
    int64_t step;    // frames per cell
    int back;        // how many cells before its own an output cell reads
} pe_cells;

typedef struct pe_kind {
    const char *name;       // constructor in .pg: "SinPE"
    const char *method;     // chaining method, or NULL: "gain"
    const pe_param *params; // pygmu's positional order, ended by PE_PARAMS_END
    unsigned flags;         // PE_F_*
    size_t state_size;      // per-instance state, zeroed by the executor
    // Derives n->out from n->args and n->in; reports errors with pe_fail. NULL: one
    // input's shape passes through (or, for generators, mono, indefinite, default rate).
    pg_status (*infer)(pe_node *n, pe_check *ck);
    // The frames of input `slot` needed to produce the frames `out` (a hull). NULL: the
    // same frames. Used to find each node's origin and what to materialise.
    void (*need)(const pe_node *n, int slot, pg_extent out, pg_extent *in);
    // For PE_F_LINEAR nodes (kind flag, or added by infer): inside the node's extent,
    // out[c](t) = sum over slots k and input channels j of linear(n, k, c, j) * in_k[j](t'),
    // t' = t, or t shifted by the node's need (which must then keep a window's length).
    // It must describe exactly what process computes (fusion uses it instead of process).
    double (*linear)(const pe_node *n, int slot, int out_ch, int in_ch);
    // For PE_F_LINEAR nodes whose map is also scaled in time (a fade), else NULL: e[i], the
    // float32 factor at frame t0 + i (inside the extent) by which process multiplies every
    // channel of the linear map's result. Returns false, e left alone, when every factor is
    // exactly 1 (x * 1.0f is x: fusion then skips the products).
    bool (*envelope)(const pe_node *n, pg_frame t0, int64_t len, float *e);
    // A kind whose output channels are each a constant linear map of its one input read at
    // its own lag, else NULL: out[c](t) = sum over j of linear(n, 0, c, j) * in[j](t - lag),
    // lag = lag(n, c) >= 0 frames (a panner's far ear hears the source late); -1 when node n
    // is no such map (what process computes is not linear). Not PE_F_LINEAR: its need is
    // the hull over its channels, and fusion reads its input once per lag, so the planner
    // fuses it only when that input is a buffer (through one-input fused nodes), read twice
    // for nothing but the memory.
    int64_t (*lag)(const pe_node *n, int out_ch);
    pg_status (*init)(pe_inst *pe); // once per render, before the first process; may pull
    pg_status (*process)(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out);
    void (*fini)(pe_inst *pe); // undoes init
    // A stateful kind that can resume where it left off (NULL: it cannot). save writes into
    // out, when not NULL, what its state holds that decides what it makes from here on (its
    // history and frame count, not what init derives from the arguments) and returns its
    // size in bytes; load puts it back into an instance of the same node, initialised and
    // not yet run. A master filter then resumes after an edit from its state at the edit's
    // chunk instead of running from its origin (chunks.c).
    size_t (*save)(const pe_inst *pe, void *out);
    void (*load)(pe_inst *pe, const void *in);
    // A kind of finite memory (a FIR filter), else NULL: fills *c and returns true when the
    // node's output over cell k, frames [anchor + k step, anchor + (k + 1) step), depends
    // on input c->slot over cells k - c->back .. k only (and on its other inputs whole),
    // and process may then be asked for any cell without the ones before it (it primes
    // itself, to the same bits). A buffer of it made again after an edit then copies the
    // cells whose input did not change from its previous render (reuse.c).
    bool (*cells)(const pe_node *n, pe_cells *c);
} pe_kind;

// ---- for infer ----

// Records an error (the caller adds the node's location) and returns st.
pg_status pe_fail(pe_check *ck, pg_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

// For kinds that combine their inputs frame by frame (mix, mul, add): sets n->out's
// channels (the most of any input: mono is fitted to any count) and frame rate (input 1's),
// and reports any other channel or rate mismatch naming `kind` and the inputs from 1.
pg_status pe_fit_inputs(pe_node *n, pe_check *ck, const char *kind);

// For kinds whose envelope input sets their source's gain (CompressorPE, CompLimPE): the
// envelope must be mono or have the source's channels, at the source's rate.
pg_status pe_check_sidechain(pe_node *n, pe_check *ck, const char *kind, int src_slot,
                             int env_slot);

// A control input (a PE-driven frequency, delay or timeline) must be mono at n's rate.
pg_status pe_check_control(const pe_node *n, pe_check *ck, const char *param, const pe_shape *ctl);

// How a value's type reads in messages: "a float", "a PE", ...
const char *pe_value_type_name(pg_value_type t);

// Whether input `slot` is bound to a PE_P_RANDOM parameter (read whole or at random).
bool pe_slot_is_random(const pe_node *n, int slot);

// The input slot bound to parameter k, or -1 when it holds a number / None.
static inline int pe_slot(const pe_node *n, int k) {
    return n->args[k].type == PG_V_NODE ? n->args[k].u.node : -1;
}
static inline double pe_num(const pe_node *n, int k) {
    return n->args[k].type == PG_V_INT ? (double)n->args[k].u.i : n->args[k].u.num;
}
static inline int64_t pe_int(const pe_node *n, int k) {
    return n->args[k].u.i;
}
static inline int pe_rate_or_default(const pe_node *n, int k, const pe_check *ck) {
    return n->args[k].type == PG_V_NONE ? ck->default_rate : (int)n->args[k].u.i;
}

// ---- for process / init ----

// save and load for a kind whose whole state is its state_size bytes (no pointers).
size_t pe_save_flat(const pe_inst *pe, void *out);
void pe_load_flat(pe_inst *pe, const void *in);

// Input `slot` over [t0, t0 + n): zeros outside the input's extent. The view is valid
// until the caller's process (or init) returns and must not be written.
pg_status pe_pull(pe_inst *pe, int slot, pg_frame t0, int64_t n, pe_view *out);
// pe_pull, then use(&view, arg), then the memory the pull took is given back: a kernel
// that reads many inputs one after the other (a mix) keeps each one's frames in the cache
// lines the one before used, not a fresh stretch of scratch per input.
pg_status pe_read(pe_inst *pe, int slot, pg_frame t0, int64_t n,
                  void (*use)(const pe_view *v, void *arg), void *arg);
// Sparse scheduling: whether a kernel of many inputs (a mix) reads only those whose extent
// overlaps the block. The naive plan (-O0) has none: a mix reads every input for every block,
// as pygmu's MixPE does, an input outside the block giving a block of zeros.
bool pe_sparse(const pe_inst *pe);
// Scratch memory (64-byte aligned, uninitialised) valid until process / init returns.
void *pe_scratch(pe_inst *pe, size_t bytes);
// Reports a runtime error (I/O, memory) and returns st.
pg_status pe_error(pe_inst *pe, pg_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
// Where a PE prints what it reports while rendering (PrintPE's lines, a warning): stderr, or
// NULL when the render is quiet (pygmuc -q).
FILE *pe_log(const pe_inst *pe);

// out = src * gain(curve, env) frame by frame, the gain in double (a mono envelope's gains
// serve every channel). For sidechain kinds' process.
pg_status pe_apply_gain_curve(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out, int src_slot,
                              int env_slot, double (*gain)(const void *curve, double env),
                              const void *curve);

static inline float *pe_ch(const pe_buf *b, int c) {
    return b->data + (int64_t)c * b->stride;
}
// Channel c of a view; a mono view answers every channel (mono is fitted to any count).
static inline const float *pe_vch(const pe_view *v, int c) {
    return v->data + (v->channels == 1 ? 0 : (int64_t)c * v->stride);
}
static inline const pe_shape *pe_in_shape(const pe_inst *pe, int slot) {
    return &pe->node->in[slot];
}

// ---- the registry (pe_list.h) ----

#define PE(kind) extern const pe_kind pe_kind_##kind;
#include "pe_list.h"
#undef PE

int pe_kind_count(void);
const pe_kind *pe_kind_at(int i);
const pe_kind *pe_kind_lookup(const char *name); // NULL when there is none
int pe_kind_find(const char *name);              // the kind's index, or -1
int pe_kind_find_method(const char *method);     // the first kind with that method, or -1
int pe_param_count(const pe_kind *k);

#endif // PG_RUNTIME_PE_PE_H
