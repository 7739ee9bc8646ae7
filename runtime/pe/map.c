// map.c: MapPE(src_pe, user_fn), after pygmu's map_pe.py, and WaveShapePE(src_pe,
// shaping_func) (method `.waveshape(fn)`), after waveshape_pe.py: the same kernel, out =
// fn(x) for every sample of every channel, on the source's extent, channels and rate. fn is
// a pg_func (a .pg function or lambda, bound by the evaluator) called once per block on all
// the block's samples; it must be pure, so the PEs are stateless.
// QUIRK Q57: pygmu's WaveShapePE returns only the frames that overlap the source,
// unpositioned, when a request runs past its extent; here every window is filled in place.
#include "pe.h"

enum {
    P_SRC,
    P_FN
};

static const pe_param map_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "user_fn", PE_T_FUNC, PE_P_REQUIRED, PE_NONE },
    PE_PARAMS_END,
};

static pg_status map_infer(pe_node *n, pe_check *ck) {
    n->out = n->in[pe_slot(n, P_SRC)];
    if (!n->args[P_FN].u.func.call)
        return pe_fail(ck, PG_ERR_ARG, "%s %s is not callable", n->kind->name,
                       n->kind->params[P_FN].name);
    return PG_OK;
}

// QUIRK: pygmu hands user_fn the whole (channels, frames) numpy block, so a numpy function
// (np.tanh, x * 2, np.where...) maps every sample; in .pg the function takes one number and
// returns one, and is called on each sample. Outside the source's extent the output is
// silence (pygmu computed user_fn(zeros) there while reporting the source's extent).
static pg_status map_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const pe_node *nd = pe->node;
    const pg_func *fn = &nd->args[P_FN].u.func;
    int ch = out->channels;
    pe_view v;
    pg_status st = pe_pull(pe, pe_slot(nd, P_SRC), t0, n, &v);
    if (st != PG_OK)
        return st;
    double *buf = pe_scratch(pe, sizeof(double) * (size_t)n * (size_t)ch * 2);
    if (!buf)
        return pe_error(pe, PG_ERR_NOMEM, "%s: out of scratch memory", nd->kind->name);
    double *y = buf + n * ch;
    for (int c = 0; c < ch; c++)
        for (int64_t i = 0; i < n; i++)
            buf[c * n + i] = (double)pe_vch(&v, c)[i];
    char why[400] = ""; // the function's own message (file:line:col: ...)
    st = fn->call(fn->env, buf, y, n * ch, why, sizeof why);
    if (st != PG_OK)
        return pe_error(pe, st, "%s: %s failed on frames [%lld, %lld): %s", nd->kind->name,
                        nd->kind->params[P_FN].name, (long long)t0, (long long)(t0 + n),
                        why[0] ? why : pg_status_str(st));
    for (int c = 0; c < ch; c++)
        for (int64_t i = 0; i < n; i++)
            pe_ch(out, c)[i] = (float)y[c * n + i];
    return PG_OK;
}

static const pe_param waveshape_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "shaping_func", PE_T_FUNC, PE_P_REQUIRED, PE_NONE },
    PE_PARAMS_END,
};

const pe_kind pe_kind_waveshape = {
    .name = "WaveShapePE",
    .method = "waveshape",
    .params = waveshape_params,
    .infer = map_infer,
    .process = map_process,
};

const pe_kind pe_kind_map = {
    .name = "MapPE",
    .method = NULL,
    .params = map_params,
    .infer = map_infer,
    .process = map_process,
};
