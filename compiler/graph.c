// graph.c: the PE graph built through the public pg_graph_* API. Adding a node binds its
// arguments to the kind's declarative parameter list (positional, keyword, defaults, types,
// ranges), turns PE arguments into input slots, infers the node's shape and hashes it.
// Shape errors (channels, frame rate) are recorded and the node is still added, so that one
// compile reports every mismatch; binding errors are returned to the caller.
#include "graph.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "pe.h"

enum {
    MAX_DIAGS = 20
};

struct pg_graph {
    arena *pool;          // node arrays, args, strings and arrays (freed with the graph)
    XXH3_state_t *hasher; // reused by every node's hash (made on first use)
    gnode *nodes;
    int n_nodes, cap_nodes;
    int default_rate;
    pg_diag diags[MAX_DIAGS];
    int n_diags;
};

static void no_oom(void *ctx) {
    (void)ctx; // arena_alloc then returns NULL, which every caller checks
}

pg_graph *pg_graph_new(int default_frame_rate) {
    pg_graph *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->pool = arena_new(no_oom, NULL);
    if (!g->pool) {
        free(g);
        return NULL;
    }
    g->default_rate = default_frame_rate;
    return g;
}

void pg_graph_free(pg_graph *g) {
    if (!g)
        return;
    arena_free(g->pool);
    XXH3_freeState(g->hasher);
    free(g->nodes);
    free(g);
}

void pg_graph_set_default_frame_rate(pg_graph *g, int frame_rate) {
    g->default_rate = frame_rate;
}

int pg_graph_default_frame_rate(const pg_graph *g) {
    return g->default_rate;
}

int pg_graph_node_count(const pg_graph *g) {
    return g->n_nodes;
}

const gnode *graph_node(const pg_graph *g, int id) {
    return id >= 0 && id < g->n_nodes ? &g->nodes[id] : NULL;
}

int pg_graph_node_channels(const pg_graph *g, int node) {
    const gnode *n = graph_node(g, node);
    return n ? n->pn.out.channels : 0;
}

int pg_graph_node_frame_rate(const pg_graph *g, int node) {
    const gnode *n = graph_node(g, node);
    return n ? n->pn.out.frame_rate : 0;
}

pg_extent pg_graph_node_extent(const pg_graph *g, int node) {
    const gnode *n = graph_node(g, node);
    pg_extent none = { 0, 0 };
    return n ? n->nominal : none;
}

pg_extent pg_graph_node_sound_extent(const pg_graph *g, int node) {
    const gnode *n = graph_node(g, node);
    pg_extent none = { 0, 0 };
    return n ? n->pn.out.extent : none;
}

int pg_graph_diag_count(const pg_graph *g) {
    return g->n_diags;
}

const pg_diag *pg_graph_diag(const pg_graph *g, int i) {
    return i >= 0 && i < g->n_diags ? &g->diags[i] : NULL;
}

static void set_diag(pg_diag *d, pg_status st, pg_srcloc loc, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static void set_diag(pg_diag *d, pg_status st, pg_srcloc loc, const char *fmt, va_list ap) {
    d->status = st;
    d->loc = loc;
    d->is_warning = false;
    vsnprintf(d->message, sizeof d->message, fmt, ap);
}

// Fills *err (when given) and returns -1: the binding-error exit of pg_graph_add.
static int bind_fail(pg_diag *err, pg_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bind_fail(pg_diag *err, pg_status st, const char *fmt, ...) {
    pg_diag scratch;
    pg_srcloc none = { 0, 0, 0 };
    va_list ap;
    va_start(ap, fmt);
    set_diag(err ? err : &scratch, st, none, fmt, ap);
    va_end(ap);
    return -1;
}

static void record_diag(pg_graph *g, pg_status st, pg_srcloc loc, const char *msg) {
    if (g->n_diags >= MAX_DIAGS)
        return;
    pg_diag *d = &g->diags[g->n_diags++];
    d->status = st;
    d->loc = loc;
    d->is_warning = false;
    snprintf(d->message, sizeof d->message, "%s", msg);
}

// ---- PE kinds -------------------------------------------------------------------------

int pg_kind_count(void) {
    return pe_kind_count();
}

const char *pg_kind_name(int i) {
    const pe_kind *k = pe_kind_at(i);
    return k ? k->name : NULL;
}

const char *pg_kind_method(int i) {
    const pe_kind *k = pe_kind_at(i);
    return k ? k->method : NULL;
}

int pg_kind_find(const char *name) {
    return pe_kind_find(name);
}

int pg_kind_find_method(const char *method) {
    return pe_kind_find_method(method);
}

int pg_kind_param_index(int kind, const char *param) {
    const pe_kind *k = pe_kind_at(kind);
    for (int i = 0; k && k->params && k->params[i].name; i++)
        if (strcmp(k->params[i].name, param) == 0)
            return i;
    return -1;
}

// ---- binding ---------------------------------------------------------------------------

static const char *ptype_name(pe_ptype t) {
    switch (t) {
    case PE_T_NUM:
        return "a number";
    case PE_T_INT:
        return "an int";
    case PE_T_BOOL:
        return "a bool";
    case PE_T_STR:
        return "a string";
    case PE_T_EXTENT:
        return "an Extent";
    case PE_T_PE:
        return "a PE";
    case PE_T_NUM_OR_PE:
        return "a number or a PE";
    case PE_T_ARRAY:
        return "a list of numbers";
    case PE_T_FUNC:
        return "a function";
    case PE_T_PES:
        return "PEs";
    case PE_T_ANY:
        return "a value";
    }
    return "a value";
}

// The binding of one call in progress.
typedef struct binder {
    pg_graph *g;
    const pe_kind *kind;
    int n_params;
    pe_value *args; // n_params
    bool *given;    // n_params
    int *inputs;    // node ids by slot
    int n_inputs, cap_inputs;
    pg_diag *err;
} binder;

static int add_input(binder *b, int node) {
    if (b->n_inputs == b->cap_inputs) {
        int cap = b->cap_inputs ? 2 * b->cap_inputs : 8;
        int *p = arena_grow(b->g->pool, b->inputs, (size_t)b->n_inputs, (size_t)cap, sizeof *p);
        if (!p)
            return bind_fail(b->err, PG_ERR_NOMEM, "out of memory");
        b->inputs = p;
        b->cap_inputs = cap;
    }
    b->inputs[b->n_inputs] = node;
    return b->n_inputs++;
}

static bool is_number(const pe_value *v) {
    return v->type == PG_V_NUM || v->type == PG_V_INT || v->type == PG_V_BOOL;
}

static double number_of(const pe_value *v) {
    return v->type == PG_V_NUM ? v->u.num : v->type == PG_V_INT ? (double)v->u.i : v->u.b;
}

// Copies strings and arrays into the graph's pool so the caller's memory can go.
static int copy_owned(binder *b, pe_value *v) {
    if (v->type == PG_V_STR) {
        v->u.str = arena_strdup(b->g->pool, v->u.str ? v->u.str : "");
        return v->u.str ? 0 : bind_fail(b->err, PG_ERR_NOMEM, "out of memory");
    }
    if (v->type == PG_V_ARRAY) {
        size_t n = (size_t)v->u.array.rows * (size_t)v->u.array.cols;
        if (v->u.array.rows < 0 || v->u.array.cols < 0)
            return -1;
        double *d = arena_array(b->g->pool, n ? n : 1, sizeof *d);
        if (!d)
            return bind_fail(b->err, PG_ERR_NOMEM, "out of memory");
        if (n)
            memcpy(d, v->u.array.data, n * sizeof *d);
        v->u.array.data = d;
    }
    return 0;
}

static int check_node(binder *b, const pe_param *p, int node) {
    if (node < 0 || node >= b->g->n_nodes)
        return bind_fail(b->err, PG_ERR_ARG, "%s %s: no such node %d", b->kind->name, p->name,
                         node);
    return 0;
}

static int check_range(binder *b, const pe_param *p, double x) {
    if (isnan(x))
        return bind_fail(b->err, PG_ERR_ARG, "%s %s must be a number, got nan", b->kind->name,
                         p->name);
    if ((p->flags & PE_P_GT0) && !(x > 0))
        return bind_fail(b->err, PG_ERR_ARG, "%s %s must be > 0, got %g", b->kind->name, p->name,
                         x);
    if ((p->flags & PE_P_GE0) && !(x >= 0))
        return bind_fail(b->err, PG_ERR_ARG, "%s %s must be >= 0, got %g", b->kind->name, p->name,
                         x);
    return 0;
}

static int wrong_type(binder *b, const pe_param *p, const pe_value *v) {
    return bind_fail(b->err, PG_ERR_ARG, "%s %s must be %s, got %s", b->kind->name, p->name,
                     ptype_name(p->type), pe_value_type_name(v->type));
}

// Checks and converts one argument to its parameter's type (in place).
static int convert(binder *b, const pe_param *p, pe_value *v) {
    if (v->type == PG_V_NONE)
        return (p->flags & PE_P_NONE_OK) ? 0 : wrong_type(b, p, v);
    switch (p->type) {
    case PE_T_NUM:
        if (!is_number(v))
            return wrong_type(b, p, v);
        v->u.num = number_of(v);
        v->type = PG_V_NUM;
        return check_range(b, p, v->u.num);
    case PE_T_INT:
        if (!is_number(v) || number_of(v) != floor(number_of(v)) || fabs(number_of(v)) > 9e18)
            return is_number(v)
                       ? bind_fail(b->err, PG_ERR_ARG, "%s %s must be a whole number, got %g",
                                   b->kind->name, p->name, number_of(v))
                       : wrong_type(b, p, v);
        v->u.i = v->type == PG_V_INT ? v->u.i : (int64_t)number_of(v);
        v->type = PG_V_INT;
        return check_range(b, p, (double)v->u.i);
    case PE_T_BOOL:
        if (!is_number(v))
            return wrong_type(b, p, v);
        v->u.b = number_of(v) != 0;
        v->type = PG_V_BOOL;
        return 0;
    case PE_T_STR:
        return v->type == PG_V_STR ? copy_owned(b, v) : wrong_type(b, p, v);
    case PE_T_EXTENT:
        return v->type == PG_V_EXTENT ? 0 : wrong_type(b, p, v);
    case PE_T_PE:
        if (v->type != PG_V_NODE)
            return wrong_type(b, p, v);
        if (check_node(b, p, v->u.node) < 0)
            return -1;
        v->u.node = add_input(b, v->u.node);
        return v->u.node < 0 ? -1 : 0;
    case PE_T_NUM_OR_PE:
        if (v->type == PG_V_NODE) {
            if (check_node(b, p, v->u.node) < 0)
                return -1;
            v->u.node = add_input(b, v->u.node);
            return v->u.node < 0 ? -1 : 0;
        }
        if (!is_number(v))
            return wrong_type(b, p, v);
        v->u.num = number_of(v);
        v->type = PG_V_NUM;
        return check_range(b, p, v->u.num);
    case PE_T_ARRAY:
        if (is_number(v)) {
            double *d = arena_alloc(b->g->pool, sizeof *d);
            if (!d)
                return bind_fail(b->err, PG_ERR_NOMEM, "out of memory");
            *d = number_of(v);
            v->type = PG_V_ARRAY;
            v->u.array = (pg_array){ 1, 1, d };
            return 0;
        }
        return v->type == PG_V_ARRAY ? copy_owned(b, v) : wrong_type(b, p, v);
    case PE_T_FUNC:
        return v->type == PG_V_FUNC ? 0 : wrong_type(b, p, v);
    case PE_T_PES:
        return wrong_type(b, p, v);
    case PE_T_ANY:
        if (v->type == PG_V_NODE) {
            if (check_node(b, p, v->u.node) < 0)
                return -1;
            v->u.node = add_input(b, v->u.node);
            return v->u.node < 0 ? -1 : 0;
        }
        return copy_owned(b, v);
    }
    return wrong_type(b, p, v);
}

// A parameter name close to `name` (for "did you mean"), or NULL.
static const char *close_param(const pe_kind *k, const char *name) {
    const char *best = NULL;
    size_t best_len = 0;
    for (int i = 0; k->params && k->params[i].name; i++) {
        const char *p = k->params[i].name;
        size_t common = 0;
        while (p[common] && p[common] == name[common])
            common++;
        if (common >= 3 && common > best_len) {
            best = p;
            best_len = common;
        }
    }
    return best;
}

static int bind_keyword(binder *b, const pg_arg *a) {
    int k = -1;
    for (int i = 0; i < b->n_params; i++)
        if (strcmp(b->kind->params[i].name, a->name) == 0)
            k = i;
    if (k < 0 || b->kind->params[k].type == PE_T_PES) {
        const char *near = close_param(b->kind, a->name);
        return bind_fail(b->err, PG_ERR_ARG, "%s got an unexpected keyword argument '%s'%s%s%s",
                         b->kind->name, a->name, near ? "; did you mean '" : "", near ? near : "",
                         near ? "'?" : "");
    }
    if (b->given[k])
        return bind_fail(b->err, PG_ERR_ARG, "%s got multiple values for argument '%s'",
                         b->kind->name, a->name);
    b->given[k] = true;
    b->args[k] = a->value;
    return 0;
}

static int bind_variadic(binder *b, const pg_arg *args, int n_args) {
    int pos = 0;
    for (int i = 0; i < n_args; i++) {
        if (args[i].name)
            continue;
        pos++;
        if (args[i].value.type != PG_V_NODE)
            return bind_fail(b->err, PG_ERR_ARG, "%s argument %d must be a PE, got %s",
                             b->kind->name, pos, pe_value_type_name(args[i].value.type));
        if (check_node(b, &b->kind->params[0], args[i].value.u.node) < 0 ||
            add_input(b, args[i].value.u.node) < 0)
            return -1;
    }
    b->given[0] = true;
    b->args[0].type = PG_V_NONE;
    return 0;
}

static int bind_positional(binder *b, const pg_arg *args, int n_args) {
    int pos = 0;
    for (int i = 0; i < n_args; i++) {
        if (args[i].name)
            continue;
        if (pos >= b->n_params)
            return bind_fail(b->err, PG_ERR_ARG, "%s takes at most %d arguments (%d given)",
                             b->kind->name, b->n_params, pos + 1);
        b->given[pos] = true;
        b->args[pos] = args[i].value;
        pos++;
    }
    return 0;
}

static int bind_all(binder *b, const pg_arg *args, int n_args) {
    bool variadic = (b->kind->flags & PE_F_VARIADIC) != 0;
    int r = variadic ? bind_variadic(b, args, n_args) : bind_positional(b, args, n_args);
    for (int i = 0; r == 0 && i < n_args; i++)
        if (args[i].name)
            r = bind_keyword(b, &args[i]);
    for (int k = variadic ? 1 : 0; r == 0 && k < b->n_params; k++) {
        const pe_param *p = &b->kind->params[k];
        if (!b->given[k] && (p->flags & PE_P_REQUIRED))
            return bind_fail(b->err, PG_ERR_ARG, "%s missing required argument '%s'", b->kind->name,
                             p->name);
        if (!b->given[k])
            b->args[k] = p->def;
        r = convert(b, p, &b->args[k]);
    }
    return r;
}

// ---- shape and hash --------------------------------------------------------------------

static int param_named(const pe_kind *k, const char *name) {
    for (int i = 0; k->params && k->params[i].name; i++)
        if (strcmp(k->params[i].name, name) == 0)
            return i;
    return -1;
}

// The shape when a kind gives no infer: generators are mono and indefinite at their
// frame_rate; processors pass their first input's shape through.
static pg_status default_infer(pe_node *n, pe_check *ck) {
    if (n->n_inputs > 0 && !(n->kind->flags & PE_F_GENERATOR)) {
        n->out = n->in[0];
        return PG_OK;
    }
    int k = param_named(n->kind, "frame_rate");
    n->out.channels = 1;
    n->out.frame_rate = k >= 0 ? pe_rate_or_default(n, k, ck) : ck->default_rate;
    n->out.extent = (pg_extent){ PG_FRAME_MIN, PG_FRAME_MAX };
    return PG_OK;
}

// A PE argument (an input by its slot: the node's own hash leaves its inputs out).
static void hash_value(XXH3_state_t *h, const pe_value *v) {
    XXH3_64bits_update(h, &v->type, sizeof v->type);
    switch (v->type) {
    case PG_V_NONE:
        break;
    case PG_V_NUM:
        XXH3_64bits_update(h, &v->u.num, sizeof v->u.num);
        break;
    case PG_V_INT:
        XXH3_64bits_update(h, &v->u.i, sizeof v->u.i);
        break;
    case PG_V_BOOL:
        XXH3_64bits_update(h, &v->u.b, sizeof v->u.b);
        break;
    case PG_V_STR:
        XXH3_64bits_update(h, v->u.str, strlen(v->u.str) + 1);
        break;
    case PG_V_EXTENT:
        XXH3_64bits_update(h, &v->u.ext, sizeof v->u.ext);
        break;
    case PG_V_NODE:
        XXH3_64bits_update(h, &v->u.node, sizeof v->u.node);
        break;
    case PG_V_ARRAY:
        XXH3_64bits_update(h, &v->u.array.rows, sizeof(int) * 2);
        XXH3_64bits_update(h, v->u.array.data,
                           sizeof(double) * (size_t)v->u.array.rows * (size_t)v->u.array.cols);
        break;
    case PG_V_FUNC:
        XXH3_64bits_update(h, &v->u.func.hash, sizeof v->u.func.hash);
        break;
    }
}

// Hashes a file's bytes (a node reading it depends on its content, not its name or date).
static void hash_file(XXH3_state_t *h, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return; // the kind's infer reports the missing file
    char buf[65536];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        XXH3_64bits_update(h, buf, got);
    fclose(f);
}

// The node's own hash: XXH3 over the kind, the arguments in parameter order (an input as
// its slot) and the content of files it reads. Its hash adds the inputs' hashes.
static void hash_node(pg_graph *g, gnode *n) {
    if (!g->hasher) // (a state is a cache-aligned allocation: one per graph, not per node)
        g->hasher = XXH3_createState();
    XXH3_state_t *h = g->hasher;
    n->own_hash = n->hash = 0;
    if (!h)
        return;
    XXH3_64bits_reset(h);
    XXH3_64bits_update(h, n->kind->name, strlen(n->kind->name) + 1);
    for (int k = 0; k < n->n_args; k++) {
        hash_value(h, &n->args[k]);
        if ((n->kind->params[k].flags & PE_P_FILE) && n->args[k].type == PG_V_STR)
            hash_file(h, n->args[k].u.str);
    }
    n->own_hash = XXH3_64bits_digest(h);
    XXH3_64bits_reset(h);
    XXH3_64bits_update(h, &n->own_hash, sizeof n->own_hash);
    for (int i = 0; i < n->pn.n_inputs; i++)
        XXH3_64bits_update(h, &g->nodes[n->inputs[i]].hash, sizeof(uint64_t));
    n->hash = XXH3_64bits_digest(h);
}

static bool is_uncacheable(const pg_graph *g, const gnode *n) {
    if (n->kind->flags & PE_F_SIDE_EFFECT)
        return true;
    for (int k = 0; k < n->n_args; k++)
        if (n->args[k].type == PG_V_FUNC && n->args[k].u.func.hash == 0)
            return true;
    for (int i = 0; i < n->pn.n_inputs; i++)
        if (g->nodes[n->inputs[i]].uncacheable)
            return true;
    return false;
}

size_t graph_bytes(const pg_graph *g) {
    return sizeof(gnode) * (size_t)g->cap_nodes + arena_bytes(g->pool);
}

static int grow_nodes(pg_graph *g) {
    if (g->n_nodes < g->cap_nodes)
        return 0;
    int cap = g->cap_nodes ? 2 * g->cap_nodes : 64;
    gnode *p = realloc(g->nodes, sizeof *p * (size_t)cap);
    if (!p)
        return -1;
    // pn.args / pn.in point into the pool, not into the node array, so moving is safe
    g->nodes = p;
    g->cap_nodes = cap;
    return 0;
}

// The nominal extent: infer again on the inputs' nominal extents, without tails. Only
// kinds with tails, or with an input whose nominal extent differs, need the second call.
// The extent pygmu reports (filters' tails left out); false when out of memory.
static bool nominal_extent(const pg_graph *g, gnode *n, const int *inputs) {
    bool differs = (n->kind->flags & PE_F_TAIL) != 0;
    for (int i = 0; i < n->pn.n_inputs && !differs; i++) {
        const gnode *in = &g->nodes[inputs[i]];
        differs = in->nominal.start != in->pn.out.extent.start ||
                  in->nominal.end != in->pn.out.extent.end;
    }
    n->nominal = n->pn.out.extent;
    if (!differs || !n->kind->infer)
        return true;
    pe_shape *in = arena_array(g->pool, (size_t)(n->pn.n_inputs ? n->pn.n_inputs : 1), sizeof *in);
    if (!in)
        return false;
    for (int i = 0; i < n->pn.n_inputs; i++) {
        in[i] = n->pn.in[i];
        in[i].extent = g->nodes[inputs[i]].nominal;
    }
    pe_node tmp = n->pn;
    tmp.in = in;
    tmp.flags = n->kind->flags;
    pe_check ck = { .default_rate = g->default_rate, .nominal = true };
    if (n->kind->infer(&tmp, &ck) == PG_OK)
        n->nominal = tmp.out.extent;
    return true;
}

// Runs the kind's infer. Binding-class errors return -1; shape errors are recorded.
static int infer_node(pg_graph *g, gnode *n, pg_srcloc loc, pg_diag *err) {
    pe_check ck = { .default_rate = g->default_rate };
    pe_node *pn = &n->pn;
    pg_status st = pn->kind->infer ? pn->kind->infer(pn, &ck) : default_infer(pn, &ck);
    if (pn->out.frame_rate <= 0)
        pn->out.frame_rate = g->default_rate;
    if (pn->out.channels < 1)
        pn->out.channels = pn->n_inputs ? pn->in[0].channels : 1;
    if (st == PG_OK)
        return 0;
    if (st == PG_ERR_CHANNELS || st == PG_ERR_RATE) {
        record_diag(g, st, loc, ck.message);
        return 0;
    }
    return bind_fail(err, st, "%s", ck.message);
}

int pg_graph_add(pg_graph *g, const char *kind, const pg_arg *args, int n_args, pg_srcloc loc,
                 pg_diag *err) {
    const pe_kind *k = kind ? pe_kind_lookup(kind) : NULL;
    if (!k)
        return bind_fail(err, PG_ERR_NAME, "unknown PE kind '%s'", kind ? kind : "(null)");
    binder b = { .g = g, .kind = k, .n_params = pe_param_count(k), .err = err };
    int np = b.n_params ? b.n_params : 1;
    b.args = arena_array(g->pool, (size_t)np, sizeof *b.args);
    b.given = arena_array(g->pool, (size_t)np, sizeof *b.given);
    if (!b.args || !b.given || grow_nodes(g) < 0)
        return bind_fail(err, PG_ERR_NOMEM, "out of memory");
    if (bind_all(&b, args, n_args) < 0)
        return -1;
    pe_shape *in = arena_array(g->pool, (size_t)(b.n_inputs ? b.n_inputs : 1), sizeof *in);
    if (!in)
        return bind_fail(err, PG_ERR_NOMEM, "out of memory");
    for (int i = 0; i < b.n_inputs; i++)
        in[i] = g->nodes[b.inputs[i]].pn.out;
    gnode *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->kind = k;
    n->args = b.args;
    n->n_args = b.n_params;
    n->inputs = b.inputs;
    n->loc = loc;
    n->pn =
        (pe_node){ .kind = k, .args = b.args, .n_inputs = b.n_inputs, .in = in, .flags = k->flags };
    if (infer_node(g, n, loc, err) < 0)
        return -1;
    if (!nominal_extent(g, n, b.inputs))
        return bind_fail(err, PG_ERR_NOMEM, "out of memory");
    hash_node(g, n);
    n->uncacheable = is_uncacheable(g, n);
    return g->n_nodes++;
}
