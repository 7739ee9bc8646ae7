// chaotic_osc.c: ChaoticOscPE(rho=28.0, sigma=10.0, beta=8/3, scale=0.1, x0=0.1, y0=0.0,
// z0=0.0, frame_rate=None), after pygmu's chaotic_osc_pe.py: a Lorenz attractor integrated
// by forward Euler with dt = 1/fr, one step per frame, every derivative taken from the old
// state; the output is x * scale after the step. Mono, indefinite, stateful: the state is
// in double and advances from the node's origin (the first frame the render needs).
#include <math.h>

#include "pe.h"

enum {
    P_RHO,
    P_SIGMA,
    P_BETA,
    P_SCALE,
    P_X0,
    P_Y0,
    P_Z0,
    P_FRAME_RATE
};

typedef struct chaotic_state {
    double x, y, z;
    double dt; // seconds per frame
} chaotic_state;

// QUIRK: pygmu's frame_rate defaults to 48000 whatever the piece's rate; here None means
// the piece's rate (frame_rate(n), 48000 by default), as for every other generator.
static const pe_param chaotic_params[] = {
    { "rho", PE_T_NUM, 0, PE_NUM(28.0) },
    { "sigma", PE_T_NUM, 0, PE_NUM(10.0) },
    { "beta", PE_T_NUM, 0, PE_NUM(8.0 / 3.0) },
    { "scale", PE_T_NUM, 0, PE_NUM(0.1) },
    { "x0", PE_T_NUM, 0, PE_NUM(0.1) },
    { "y0", PE_T_NUM, 0, PE_NUM(0.0) },
    { "z0", PE_T_NUM, 0, PE_NUM(0.0) },
    { "frame_rate", PE_T_INT, PE_P_NONE_OK | PE_P_GT0, PE_NONE },
    PE_PARAMS_END,
};

static const char *const chaotic_names[] = { "rho", "sigma", "beta", "scale", "x0", "y0", "z0" };

static pg_status chaotic_infer(pe_node *n, pe_check *ck) {
    n->out.channels = 1;
    n->out.frame_rate = pe_rate_or_default(n, P_FRAME_RATE, ck);
    n->out.extent = (pg_extent){ PG_FRAME_MIN, PG_FRAME_MAX };
    for (int k = P_RHO; k <= P_Z0; k++)
        if (!isfinite(pe_num(n, k)))
            return pe_fail(ck, PG_ERR_ARG, "ChaoticOscPE %s must be finite, got %g",
                           chaotic_names[k], pe_num(n, k));
    if (n->out.frame_rate <= 0)
        return pe_fail(ck, PG_ERR_RATE, "ChaoticOscPE needs a frame_rate");
    return PG_OK;
}

static pg_status chaotic_init(pe_inst *pe) {
    chaotic_state *s = pe->state;
    s->x = pe_num(pe->node, P_X0);
    s->y = pe_num(pe->node, P_Y0);
    s->z = pe_num(pe->node, P_Z0);
    s->dt = 1.0 / pe->node->out.frame_rate;
    return PG_OK;
}

// pygmu's loop, term for term (sigma * (y - x) * dt groups left to right as Python does).
static pg_status chaotic_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    (void)t0; // stateful: the windows arrive in time order from the origin
    chaotic_state *s = pe->state;
    const pe_node *nd = pe->node;
    double rho = pe_num(nd, P_RHO), sigma = pe_num(nd, P_SIGMA), beta = pe_num(nd, P_BETA);
    double scale = pe_num(nd, P_SCALE), dt = s->dt;
    double x = s->x, y = s->y, z = s->z;
    float *o = pe_ch(out, 0);
    for (int64_t i = 0; i < n; i++) {
        double dx = sigma * (y - x) * dt;
        double dy = (x * (rho - z) - y) * dt;
        double dz = (x * y - beta * z) * dt;
        x += dx;
        y += dy;
        z += dz;
        o[i] = (float)(x * scale);
    }
    s->x = x;
    s->y = y;
    s->z = z;
    return PG_OK;
}

const pe_kind pe_kind_chaotic_osc = {
    .name = "ChaoticOscPE",
    .method = NULL,
    .params = chaotic_params,
    .flags = PE_F_GENERATOR | PE_F_STATEFUL,
    .state_size = sizeof(chaotic_state),
    .infer = chaotic_infer,
    .init = chaotic_init,
    .process = chaotic_process,
};
