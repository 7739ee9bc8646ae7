// prng.h: the .pg `random` module: CPython's random.Random, bit for bit, so that a ported
// piece that calls random.seed(14) makes the same choices as under pygmu.
//
// Algorithm (CPython 3.11, Modules/_randommodule.c and Lib/random.py):
// - The generator is MT19937 (Matsumoto & Nishimura, 2002 reference code).
// - seed(n) for an int n: init_by_array(key) where key is |n| split into 32-bit words,
//   least significant first; |n| == 0 gives key = [0]. A float seed uses Python's
//   hash(float) as the int (integral floats hash to themselves). Seeding also clears the
//   cached second gauss() value.
// - random() = (a * 67108864 + b) / 9007199254740992 with a = genrand >> 5, b = genrand >> 6.
// - getrandbits(k): k <= 32: genrand >> (32 - k); else 32-bit words least significant
//   first, the last word shifted right to keep k bits in all.
// - _randbelow(n) = getrandbits(n.bit_length()) repeated until < n (rejection).
// - randrange(start, stop, step), randint(a, b) = randrange(a, b + 1), choice(seq) =
//   seq[_randbelow(len)], shuffle (for i = len-1 down to 1: swap x[i], x[_randbelow(i+1)]),
//   uniform(a, b) = a + (b - a) * random(), gauss and normalvariate as Lib/random.py.
// The evaluator's generator starts as if seed(0) had been called (the default seed).
#ifndef PG_COMPILER_PRNG_H
#define PG_COMPILER_PRNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    PRNG_N = 624
};

typedef struct prng {
    uint32_t mt[PRNG_N];
    int mti;
    bool has_gauss; // gauss() keeps its second value for the next call
    double gauss_next;
} prng;

// Seeds with a non-negative integer given as 32-bit words, least significant first
// (CPython's init_by_array). n_words 0 means the key [0].
void prng_seed_words(prng *r, const uint32_t *words, size_t n_words);
// random.seed(n) for an int n (the sign is dropped, as CPython does).
void prng_seed_int(prng *r, int64_t n);
// random.seed(x) for a float x (CPython seeds with hash(x)). NaN is not accepted by the
// caller.
void prng_seed_float(prng *r, double x);

uint32_t prng_u32(prng *r);  // genrand_uint32
double prng_random(prng *r); // [0, 1), 53 bits
// getrandbits(k) for 0 <= k <= 64 (the caller keeps results it converts to int64 < 2^63).
uint64_t prng_getrandbits(prng *r, int k);
// _randbelow(n) for n >= 1 (n < 2^63).
int64_t prng_below(prng *r, int64_t n);
// randrange(start, stop, step) with CPython's argument rules; returns false for an empty
// range or a zero step (the caller reports the ValueError).
bool prng_randrange(prng *r, int64_t start, int64_t stop, int64_t step, int64_t *out);
double prng_uniform(prng *r, double a, double b);
double prng_gauss(prng *r, double mu, double sigma);
double prng_normalvariate(prng *r, double mu, double sigma);

#endif // PG_COMPILER_PRNG_H
