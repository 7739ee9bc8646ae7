// noise.c: NoisePE(gain=1.0, frame_rate=None, seed=None), after pygmu's noise_pe.py: mono,
// indefinite white noise uniform in [-gain, gain), a pure function of (seed, absolute frame),
// so stateless: any window, any block size. The evaluator passes the piece's noise seed for
// every NoisePE; None means 0, and a negative seed is taken modulo 2^64 as XXH3's seed.
#include <xxhash.h>

#include "pe.h"

enum {
    P_GAIN,
    P_FRAME_RATE,
    P_SEED
};

static const pe_param noise_params[] = {
    { "gain", PE_T_NUM, 0, PE_NUM(1.0) },
    { "frame_rate", PE_T_INT, PE_P_NONE_OK | PE_P_GT0, PE_NONE },
    { "seed", PE_T_INT, PE_P_NONE_OK, PE_NONE },
    PE_PARAMS_END,
};

static pg_status noise_infer(pe_node *n, pe_check *ck) {
    n->out.channels = 1;
    n->out.frame_rate = pe_rate_or_default(n, P_FRAME_RATE, ck);
    n->out.extent = (pg_extent){ PG_FRAME_MIN, PG_FRAME_MAX };
    return PG_OK;
}

// QUIRK Q40: pygmu draws from numpy's unseeded global generator, so no two renders agree.
// Here U = the top 53 bits of XXH3_64bits_withSeed(&t, sizeof t, seed) (t an int64 in host
// byte order) times 2^-53, and out = (2U - 1) * gain in double, stored as float32.
static pg_status noise_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const pe_node *nd = pe->node;
    double gain = pe_num(nd, P_GAIN);
    XXH64_hash_t seed = nd->args[P_SEED].type == PG_V_NONE ? 0 : (XXH64_hash_t)pe_int(nd, P_SEED);
    float *o = pe_ch(out, 0);
    for (int64_t i = 0; i < n; i++) {
        int64_t t = t0 + i;
        double u = (double)(XXH3_64bits_withSeed(&t, sizeof t, seed) >> 11) * 0x1p-53;
        o[i] = (float)((2.0 * u - 1.0) * gain);
    }
    return PG_OK;
}

const pe_kind pe_kind_noise = {
    .name = "NoisePE",
    .method = NULL,
    .params = noise_params,
    .flags = PE_F_GENERATOR,
    .infer = noise_infer,
    .process = noise_process,
};
