// prng.c: MT19937 and CPython's random.Random algorithms on top of it (see prng.h for
// the exact recipe). Written from the published MT19937 reference algorithm and from
// the behaviour of CPython 3.11's Lib/random.py; every result is checked against
// CPython's own output in tests/compiler/test_prng.c.
#include "prng.h"

#include <math.h>

enum {
    MT_M = 397
};
#define MT_MATRIX_A   0x9908b0dfu
#define MT_UPPER_MASK 0x80000000u
#define MT_LOWER_MASK 0x7fffffffu

static void init_genrand(prng *r, uint32_t s) {
    r->mt[0] = s;
    for (int i = 1; i < PRNG_N; i++) {
        uint32_t prev = r->mt[i - 1] ^ (r->mt[i - 1] >> 30);
        r->mt[i] = 1812433253u * prev + (uint32_t)i;
    }
    r->mti = PRNG_N;
}

void prng_seed_words(prng *r, const uint32_t *words, size_t n_words) {
    static const uint32_t zero = 0;
    if (n_words == 0) {
        words = &zero;
        n_words = 1;
    }
    init_genrand(r, 19650218u);
    size_t i = 1, j = 0;
    size_t k = PRNG_N > n_words ? PRNG_N : n_words;
    for (; k; k--) {
        uint32_t prev = r->mt[i - 1] ^ (r->mt[i - 1] >> 30);
        r->mt[i] = (r->mt[i] ^ (prev * 1664525u)) + words[j] + (uint32_t)j;
        i++;
        j++;
        if (i >= PRNG_N) {
            r->mt[0] = r->mt[PRNG_N - 1];
            i = 1;
        }
        if (j >= n_words)
            j = 0;
    }
    for (k = PRNG_N - 1; k; k--) {
        uint32_t prev = r->mt[i - 1] ^ (r->mt[i - 1] >> 30);
        r->mt[i] = (r->mt[i] ^ (prev * 1566083941u)) - (uint32_t)i;
        i++;
        if (i >= PRNG_N) {
            r->mt[0] = r->mt[PRNG_N - 1];
            i = 1;
        }
    }
    r->mt[0] = 0x80000000u; // MSB is 1, assuring a non-zero initial array
    r->mti = PRNG_N;
    r->has_gauss = false;
    r->gauss_next = 0.0;
}

// Seeds with an unsigned 64-bit magnitude: one word if it fits, else two.
static void seed_u64(prng *r, uint64_t n) {
    uint32_t words[2] = { (uint32_t)n, (uint32_t)(n >> 32) };
    prng_seed_words(r, words, words[1] ? 2 : 1);
}

void prng_seed_int(prng *r, int64_t n) {
    // |INT64_MIN| is 2^63, which still fits the unsigned magnitude.
    uint64_t mag = n < 0 ? 0u - (uint64_t)n : (uint64_t)n;
    seed_u64(r, mag);
}

// CPython's _Py_HashDouble for a non-NaN double: the value modulo the Mersenne prime
// 2^61 - 1, keeping the sign; -1 is reserved, so it becomes -2.
static int64_t python_float_hash(double v) {
    const int bits = 61;
    const uint64_t modulus = ((uint64_t)1 << bits) - 1;
    if (isinf(v))
        return v > 0 ? 314159 : -314159;
    int e = 0;
    double m = frexp(v, &e);
    int sign = 1;
    if (m < 0) {
        sign = -1;
        m = -m;
    }
    uint64_t x = 0;
    while (m != 0.0) {
        x = ((x << 28) & modulus) | x >> (bits - 28);
        m *= 268435456.0; // 2**28
        e -= 28;
        uint64_t y = (uint64_t)m;
        m -= (double)y;
        x += y;
        if (x >= modulus)
            x -= modulus;
    }
    e = e >= 0 ? e % bits : bits - 1 - ((-1 - e) % bits);
    x = ((x << e) & modulus) | x >> (bits - e);
    int64_t h = (int64_t)x * sign;
    return h == -1 ? -2 : h;
}

void prng_seed_float(prng *r, double x) {
    // CPython seeds a non-int with (size_t)hash(x): the hash's two's complement bits.
    seed_u64(r, (uint64_t)python_float_hash(x));
}

static void generate(prng *r) {
    static const uint32_t mag01[2] = { 0u, MT_MATRIX_A };
    int kk = 0;
    for (; kk < PRNG_N - MT_M; kk++) {
        uint32_t y = (r->mt[kk] & MT_UPPER_MASK) | (r->mt[kk + 1] & MT_LOWER_MASK);
        r->mt[kk] = r->mt[kk + MT_M] ^ (y >> 1) ^ mag01[y & 1u];
    }
    for (; kk < PRNG_N - 1; kk++) {
        uint32_t y = (r->mt[kk] & MT_UPPER_MASK) | (r->mt[kk + 1] & MT_LOWER_MASK);
        r->mt[kk] = r->mt[kk + (MT_M - PRNG_N)] ^ (y >> 1) ^ mag01[y & 1u];
    }
    uint32_t y = (r->mt[PRNG_N - 1] & MT_UPPER_MASK) | (r->mt[0] & MT_LOWER_MASK);
    r->mt[PRNG_N - 1] = r->mt[MT_M - 1] ^ (y >> 1) ^ mag01[y & 1u];
    r->mti = 0;
}

uint32_t prng_u32(prng *r) {
    if (r->mti >= PRNG_N)
        generate(r);
    uint32_t y = r->mt[r->mti++];
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= (y >> 18);
    return y;
}

double prng_random(prng *r) {
    uint32_t a = prng_u32(r) >> 5, b = prng_u32(r) >> 6;
    return ((double)a * 67108864.0 + (double)b) * (1.0 / 9007199254740992.0);
}

uint64_t prng_getrandbits(prng *r, int k) {
    if (k <= 0)
        return 0;
    if (k <= 32)
        return prng_u32(r) >> (32 - k);
    // Two words, least significant first; the last one keeps its top k - 32 bits.
    uint64_t lo = prng_u32(r);
    uint64_t hi = prng_u32(r);
    if (k < 64)
        hi >>= (64 - k);
    return lo | hi << 32;
}

static int bit_length(uint64_t n) {
    int k = 0;
    while (n) {
        k++;
        n >>= 1;
    }
    return k;
}

int64_t prng_below(prng *r, int64_t n) {
    if (n <= 0)
        return 0;
    int k = bit_length((uint64_t)n);
    uint64_t v = prng_getrandbits(r, k);
    while (v >= (uint64_t)n)
        v = prng_getrandbits(r, k);
    return (int64_t)v;
}

// Python's floor division for the range arithmetic below (b != 0).
static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

bool prng_randrange(prng *r, int64_t start, int64_t stop, int64_t step, int64_t *out) {
    if (step == 0)
        return false;
    // stop - start must fit an int64: ranges wider than that are refused.
    if ((start < 0 && stop > INT64_MAX + start) || (start > 0 && stop < INT64_MIN + start))
        return false;
    int64_t width = stop - start;
    if (step == 1) {
        if (width <= 0)
            return false;
        *out = start + prng_below(r, width);
        return true;
    }
    int64_t n;
    if (step > 0)
        n = width > INT64_MAX - step ? -1 : floor_div(width + step - 1, step);
    else
        n = width < INT64_MIN - step ? -1 : floor_div(width + step + 1, step);
    if (n <= 0)
        return false;
    *out = start + step * prng_below(r, n);
    return true;
}

double prng_uniform(prng *r, double a, double b) {
    return a + (b - a) * prng_random(r);
}

double prng_gauss(prng *r, double mu, double sigma) {
    double z;
    if (r->has_gauss) {
        z = r->gauss_next;
        r->has_gauss = false;
    } else {
        const double twopi = 6.283185307179586;
        double x2pi = prng_random(r) * twopi;
        double g2rad = sqrt(-2.0 * log(1.0 - prng_random(r)));
        z = cos(x2pi) * g2rad;
        r->gauss_next = sin(x2pi) * g2rad;
        r->has_gauss = true;
    }
    return mu + z * sigma;
}

double prng_normalvariate(prng *r, double mu, double sigma) {
    // Kinderman and Monahan's ratio method, as Lib/random.py.
    const double nv_magicconst = 4.0 * exp(-0.5) / sqrt(2.0);
    double z;
    for (;;) {
        double u1 = prng_random(r);
        double u2 = 1.0 - prng_random(r);
        z = nv_magicconst * (u1 - 0.5) / u2;
        double zz = z * z / 4.0;
        if (zz <= -log(u2))
            break;
    }
    return mu + z * sigma;
}
