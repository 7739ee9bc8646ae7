// test_noise.c: NoisePE(gain=1.0, frame_rate=None, seed=None). pygmu's test_noise_pe.py
// checks only the shape (indefinite, mono, frame rate). QUIRK Q40 fixed: the value at frame t
// is (2U - 1) * gain with U = (XXH3_64bits_withSeed(&t, 8, seed) >> 11) * 2^-53, so the
// statistics of a uniform on [-gain, gain) hold (mean 0, variance gain^2/3) and any window
// of the same seed gives the same frames.
#include <xxhash.h>

#include <stdlib.h>
#include <string.h>

#include "check.h"

enum {
    N = 48000
};

static float spec(int64_t t, uint64_t seed, double gain) {
    double u = (double)(XXH3_64bits_withSeed(&t, sizeof t, seed) >> 11) * 0x1p-53;
    return (float)((2 * u - 1) * gain);
}

static void test_shape(void) {
    pg_graph *g = t_graph(0);
    int a = t_add(g, "NoisePE", NULL, 0);
    int b = ADD(g, "NoisePE", t_num(NULL, 0.5), t_int(NULL, 44100), t_int(NULL, 7));
    CHECK(t_extent_is(pg_graph_node_extent(g, a), PG_FRAME_MIN, PG_FRAME_MAX));
    CHECK_EQ_I64(pg_graph_node_channels(g, a), 1);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, a), 48000);
    CHECK_EQ_I64(pg_graph_node_frame_rate(g, b), 44100);
    pg_graph_free(g);
}

// One second of noise: inside [-1, 1), mean within 7.5 standard errors of 0
// (sigma = sqrt(1/3)/sqrt(N) = 0.0026), variance 1/3 within 0.01 (its standard error is
// about 0.0014), and equal to the specified formula frame by frame.
static void test_statistics(void) {
    pg_graph *g = t_graph(0);
    int a = t_add(g, "NoisePE", NULL, 0);
    float *out = malloc(sizeof(float) * N);
    RENDER(g, a, 0, N, out);
    double sum = 0, sq = 0, lo = 1, hi = -1;
    int same = 1;
    for (int i = 0; i < N; i++) {
        double x = out[i];
        sum += x;
        sq += x * x;
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
        same &= out[i] == spec(i, 0, 1.0);
    }
    CHECK(same);
    CHECK(lo >= -1 && hi < 1);
    CHECK(lo < -0.999 && hi > 0.999);
    CHECK_NEAR(sum / N, 0, 0.02);
    CHECK_NEAR(sq / N - (sum / N) * (sum / N), 1.0 / 3, 0.01);
    free(out);
    pg_graph_free(g);
}

// Stateless: a window inside another gives the same frames; far frames work; seed None is 0;
// another seed gives other noise; gain 0.5 halves every sample exactly (power of 2).
static void test_windows_and_seeds(void) {
    pg_graph *g = t_graph(0);
    int a = t_add(g, "NoisePE", NULL, 0);
    int s0 = ADD(g, "NoisePE", t_int("seed", 0));
    int s1 = ADD(g, "NoisePE", t_int("seed", 1));
    int half = ADD(g, "NoisePE", t_num("gain", 0.5));
    float wide[30], narrow[10], other[30];
    RENDER(g, a, 990, 30, wide);
    RENDER(g, a, 1000, 10, narrow);
    CHECK(memcmp(wide + 10, narrow, sizeof narrow) == 0);
    RENDER(g, s0, 990, 30, other);
    CHECK(memcmp(wide, other, sizeof wide) == 0);
    RENDER(g, s1, 990, 30, other);
    int differ = 0;
    for (int i = 0; i < 30; i++)
        differ += other[i] != wide[i];
    CHECK(differ >= 29);
    CHECK(other[0] == spec(990, 1, 1.0));
    RENDER(g, half, 990, 30, other);
    int halved = 1;
    for (int i = 0; i < 30; i++)
        halved &= other[i] == 0.5f * wide[i];
    CHECK(halved);
    pg_frame far = -((pg_frame)1 << 50);
    RENDER(g, a, far, 3, other);
    CHECK(other[0] == spec(far, 0, 1.0) && other[2] == spec(far + 2, 0, 1.0));
    CHECK(t_block_invariant(g, a, -3000, 3000));
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    CHECK_STATUS(STATUS(g, "NoisePE", t_str(NULL, "loud")), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "NoisePE", t_num("seed", 1.5)), PG_ERR_ARG);
    CHECK_STATUS(STATUS(g, "NoisePE", t_int("frame_rate", 0)), PG_ERR_ARG);
    CHECK_EQ_I64(pg_graph_node_count(g), 0);
    pg_graph_free(g);
}

int main(void) {
    test_shape();
    test_statistics();
    test_windows_and_seeds();
    test_bad_args();
    return check_done();
}
