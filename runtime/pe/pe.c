// pe.c: the PE registry built from pe_list.h, and the helpers kernels share for infer.
#include "pe.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#define PE(kind) &pe_kind_##kind,
static const pe_kind *const registry[] = {
#include "pe_list.h"
    NULL,
};
#undef PE

int pe_kind_count(void) {
    return (int)(sizeof registry / sizeof registry[0]) - 1;
}

const pe_kind *pe_kind_at(int i) {
    return i >= 0 && i < pe_kind_count() ? registry[i] : NULL;
}

// The evaluator looks kinds up by name or method for every node it builds (a large piece
// builds thousands), so names are found through hash tables built once instead of a scan.
enum {
    INDEX_SLOTS = 512 // a power of two, at least twice the number of kinds
};
_Static_assert(2 * (sizeof registry / sizeof registry[0]) <= INDEX_SLOTS, "grow INDEX_SLOTS");

typedef struct name_index {
    short kind[INDEX_SLOTS]; // kind + 1; 0 marks a free slot
} name_index;

static name_index by_name, by_method;
static pthread_once_t indexed = PTHREAD_ONCE_INIT;

static const char *kind_name(int i) {
    return registry[i]->name;
}

static const char *kind_method(int i) {
    return registry[i]->method;
}

// The slot of `key` in `ix`: where it is, or the free slot where it would go.
static size_t slot_of(const name_index *ix, const char *(*key_of)(int), const char *key) {
    size_t mask = INDEX_SLOTS - 1, i = (size_t)XXH3_64bits(key, strlen(key)) & mask;
    while (ix->kind[i] && strcmp(key_of(ix->kind[i] - 1), key) != 0)
        i = (i + 1) & mask;
    return i;
}

// Inserts every kind's key in registry order; the first kind with a key keeps it.
static void index_keys(name_index *ix, const char *(*key_of)(int)) {
    for (int k = 0; k < pe_kind_count(); k++) {
        const char *key = key_of(k);
        if (!key)
            continue;
        size_t i = slot_of(ix, key_of, key);
        if (!ix->kind[i])
            ix->kind[i] = (short)(k + 1);
    }
}

static void build_indexes(void) {
    index_keys(&by_name, kind_name);
    index_keys(&by_method, kind_method);
}

static int find_in(const name_index *ix, const char *(*key_of)(int), const char *key) {
    if (!key)
        return -1;
    pthread_once(&indexed, build_indexes);
    return ix->kind[slot_of(ix, key_of, key)] - 1;
}

int pe_kind_find(const char *name) {
    return find_in(&by_name, kind_name, name);
}

int pe_kind_find_method(const char *method) {
    return find_in(&by_method, kind_method, method);
}

const pe_kind *pe_kind_lookup(const char *name) {
    return pe_kind_at(pe_kind_find(name));
}

int pe_param_count(const pe_kind *k) {
    int n = 0;
    while (k->params && k->params[n].name)
        n++;
    return n;
}

pg_status pe_fail(pe_check *ck, pg_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ck->message, sizeof ck->message, fmt, ap);
    va_end(ap);
    ck->status = st;
    return st;
}

// Channels = the most of any input; a mono input fits any count, any other count must agree
// with the first multi-channel input. Frame rates must all be input 1's.
pg_status pe_fit_inputs(pe_node *n, pe_check *ck, const char *kind) {
    n->out.channels = 1;
    n->out.frame_rate = n->n_inputs > 0 ? n->in[0].frame_rate : ck->default_rate;
    int first_multi = -1;
    for (int i = 0; i < n->n_inputs; i++) {
        if (n->in[i].channels > n->out.channels)
            n->out.channels = n->in[i].channels;
        if (n->in[i].channels > 1 && first_multi < 0)
            first_multi = i;
    }
    for (int i = 1; i < n->n_inputs; i++)
        if (n->in[i].frame_rate != n->in[0].frame_rate)
            return pe_fail(ck, PG_ERR_RATE,
                           "frame rate mismatch: %s input %d is %d Hz, input 1 is %d Hz", kind,
                           i + 1, n->in[i].frame_rate, n->in[0].frame_rate);
    for (int i = first_multi + 1; first_multi >= 0 && i < n->n_inputs; i++) {
        int c = n->in[i].channels;
        if (c != 1 && c != n->in[first_multi].channels)
            return pe_fail(ck, PG_ERR_CHANNELS,
                           "channel count mismatch: %s input %d has %d channels, input %d has %d",
                           kind, i + 1, c, first_multi + 1, n->in[first_multi].channels);
    }
    return PG_OK;
}

// A sidechain (an envelope that sets a source's gain, as CompressorPE and CompLimPE take):
// the envelope is mono or has the source's channels, at the source's rate.
pg_status pe_check_sidechain(pe_node *n, pe_check *ck, const char *kind, int src_slot,
                             int env_slot) {
    const pe_shape *src = &n->in[src_slot], *env = &n->in[env_slot];
    if (env->channels != 1 && env->channels != src->channels)
        return pe_fail(ck, PG_ERR_CHANNELS,
                       "channel count mismatch: %s env_pe has %d channels, src_pe has %d", kind,
                       env->channels, src->channels);
    if (env->frame_rate != src->frame_rate)
        return pe_fail(ck, PG_ERR_RATE, "frame rate mismatch: %s env_pe is %d Hz, src_pe is %d Hz",
                       kind, env->frame_rate, src->frame_rate);
    return PG_OK;
}

pg_status pe_apply_gain_curve(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out, int src_slot,
                              int env_slot, double (*gain)(const void *curve, double env),
                              const void *curve) {
    pe_view x, e;
    pg_status s = pe_pull(pe, src_slot, t0, n, &x);
    if (s == PG_OK)
        s = pe_pull(pe, env_slot, t0, n, &e);
    if (s != PG_OK)
        return s;
    double *g = pe_scratch(pe, (size_t)n * sizeof *g);
    if (!g)
        return pe_error(pe, PG_ERR_NOMEM, "%s: out of scratch memory", pe->node->kind->name);
    for (int c = 0; c < out->channels; c++) {
        const float *xc = pe_vch(&x, c), *ec = pe_vch(&e, c);
        float *o = pe_ch(out, c);
        if (c == 0 || e.channels > 1) // a mono envelope's gains serve every channel
            for (int64_t i = 0; i < n; i++)
                g[i] = gain(curve, (double)ec[i]);
        for (int64_t i = 0; i < n; i++)
            o[i] = (float)((double)xc[i] * g[i]);
    }
    return PG_OK;
}

// How a value's type reads in messages: "a float", "a PE", ...
const char *pe_value_type_name(pg_value_type t) {
    switch (t) {
    case PG_V_NONE:
        return "None";
    case PG_V_NUM:
        return "a float";
    case PG_V_INT:
        return "an int";
    case PG_V_BOOL:
        return "a bool";
    case PG_V_STR:
        return "a string";
    case PG_V_EXTENT:
        return "an Extent";
    case PG_V_NODE:
        return "a PE";
    case PG_V_ARRAY:
        return "a list";
    case PG_V_FUNC:
        return "a function";
    }
    return "a value";
}

bool pe_slot_is_random(const pe_node *n, int slot) {
    for (int k = 0; n->kind->params[k].name; k++)
        if ((n->kind->params[k].flags & PE_P_RANDOM) && pe_slot(n, k) == slot)
            return true;
    return false;
}

// A control input (a PE-driven frequency, delay or timeline) is one value per frame: mono,
// at the node's own rate.
pg_status pe_check_control(const pe_node *n, pe_check *ck, const char *param, const pe_shape *ctl) {
    if (ctl->channels != 1)
        return pe_fail(ck, PG_ERR_CHANNELS,
                       "channel count mismatch: %s %s has %d channels, expected 1", n->kind->name,
                       param, ctl->channels);
    if (ctl->frame_rate != n->out.frame_rate)
        return pe_fail(ck, PG_ERR_RATE, "frame rate mismatch: %s %s is %d Hz, %s is %d Hz",
                       n->kind->name, param, ctl->frame_rate, n->kind->name, n->out.frame_rate);
    return PG_OK;
}

size_t pe_save_flat(const pe_inst *pe, void *out) {
    size_t n = pe->node->kind->state_size;
    if (out)
        memcpy(out, pe->state, n);
    return n;
}

void pe_load_flat(pe_inst *pe, const void *in) {
    memcpy(pe->state, in, pe->node->kind->state_size);
}
