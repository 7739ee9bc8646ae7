// waveshape.c: WaveShapePE(src_pe, shaping_func), after pygmu's waveshape_pe.py (method
// `.waveshape(fn)`): out = shaping_func(x) for every sample of every channel, on the
// source's extent, channels and rate. shaping_func is a pg_func (a .pg function or lambda,
// bound by the evaluator) called once per block on all its samples; pure, so stateless.
#include "pe.h"

enum {
    P_SRC,
    P_FN
};

static const pe_param waveshape_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED, PE_NONE },
    { "shaping_func", PE_T_FUNC, PE_P_REQUIRED, PE_NONE },
    PE_PARAMS_END,
};

static pg_status waveshape_infer(pe_node *n, pe_check *ck) {
    n->out = n->in[pe_slot(n, P_SRC)];
    if (!n->args[P_FN].u.func.call)
        return pe_fail(ck, PG_ERR_ARG, "WaveShapePE shaping_func is not callable");
    return PG_OK;
}

// QUIRK Q57: pygmu returns only the frames that overlap the source, unpositioned, when a
// request runs past its extent; here every window is filled in place (silence outside the
// source's extent). pygmu hands the function a numpy block; in .pg it maps one number to one
// number and is applied to each sample (the same result for elementwise functions).
static pg_status waveshape_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const pe_node *nd = pe->node;
    const pg_func *fn = &nd->args[P_FN].u.func;
    int ch = out->channels;
    pe_view v;
    pg_status st = pe_pull(pe, pe_slot(nd, P_SRC), t0, n, &v);
    if (st != PG_OK)
        return st;
    double *x = pe_scratch(pe, sizeof(double) * (size_t)n * (size_t)ch * 2);
    if (!x)
        return pe_error(pe, PG_ERR_NOMEM, "WaveShapePE: out of scratch memory");
    double *y = x + n * ch;
    for (int c = 0; c < ch; c++)
        for (int64_t i = 0; i < n; i++)
            x[c * n + i] = (double)pe_vch(&v, c)[i];
    char why[400] = ""; // the function's own message (file:line:col: ...)
    st = fn->call(fn->env, x, y, n * ch, why, sizeof why);
    if (st != PG_OK)
        return pe_error(pe, st, "WaveShapePE: shaping_func failed on frames [%lld, %lld): %s",
                        (long long)t0, (long long)(t0 + n), why[0] ? why : pg_status_str(st));
    for (int c = 0; c < ch; c++)
        for (int64_t i = 0; i < n; i++)
            pe_ch(out, c)[i] = (float)y[c * n + i];
    return PG_OK;
}

const pe_kind pe_kind_waveshape = {
    .name = "WaveShapePE",
    .method = "waveshape",
    .params = waveshape_params,
    .infer = waveshape_infer,
    .process = waveshape_process,
};
