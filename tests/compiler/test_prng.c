// test_prng.c: prng.c against CPython 3.11's random module and the MT19937 reference.
// Every expected number below was printed by CPython 3.11.7 on this machine, e.g.
//   python3 -c "import random; random.seed(14); print(random.random(),
//                random.randint(1,10), random.choice([1,2,3]))"
// and the MT19937 reference output (mt19937ar.out: init_by_array({0x123, 0x234, 0x345,
// 0x456}) starts 1067595299 955945823 477289528 4107218783 4228976476), which CPython
// reproduces as random.Random(0x456 << 96 | 0x345 << 64 | 0x234 << 32 | 0x123).
#include <string.h>

#include "check.h"
#include "prng.h"

static void test_reference_key(void) {
    prng r;
    const uint32_t key[4] = { 0x123, 0x234, 0x345, 0x456 };
    prng_seed_words(&r, key, 4);
    const uint32_t want[5] = { 1067595299u, 955945823u, 477289528u, 4107218783u, 4228976476u };
    for (int i = 0; i < 5; i++)
        CHECK_EQ_I64(prng_u32(&r), want[i]);
}

static void test_seed_int(void) {
    prng r;
    // random.seed(0): [random.getrandbits(32) for _ in range(3)]
    prng_seed_int(&r, 0);
    CHECK_EQ_I64(prng_u32(&r), 3626764237u);
    CHECK_EQ_I64(prng_u32(&r), 1654615998u);
    CHECK_EQ_I64(prng_u32(&r), 3255389356u);
    // random.seed(0); random.random() x 3
    prng_seed_int(&r, 0);
    CHECK(prng_random(&r) == 0.8444218515250481);
    CHECK(prng_random(&r) == 0.7579544029403025);
    CHECK(prng_random(&r) == 0.420571580830845);
    // random.seed(-5) == random.seed(5): the sign is dropped.
    prng_seed_int(&r, -5);
    CHECK(prng_random(&r) == 0.6229016948897019);
    // random.seed(2**40 + 3): two key words, least significant first.
    prng_seed_int(&r, ((int64_t)1 << 40) + 3);
    CHECK(prng_random(&r) == 0.21978710637116716);
}

static void test_seed_float(void) {
    prng r;
    // random.seed(2.0) seeds with hash(2.0) == 2; random.seed(0.5) with hash(0.5) ==
    // 2**60 (0.5 * 2**61 mod 2**61 - 1).
    prng_seed_float(&r, 2.0);
    CHECK(prng_random(&r) == 0.9560342718892494);
    prng_seed_float(&r, 0.5);
    CHECK(prng_random(&r) == 0.2794930785867423);
}

static void test_seed14(void) {
    prng r;
    // random.seed(14); random.random(), random.randint(1, 10), random.choice([1, 2, 3])
    // -> 0.10682853770165568 9 1 (choice picks index _randbelow(3) == 0).
    prng_seed_int(&r, 14);
    CHECK(prng_random(&r) == 0.10682853770165568);
    int64_t x = 0;
    CHECK(prng_randrange(&r, 1, 11, 1, &x));
    CHECK_EQ_I64(x, 9);
    CHECK_EQ_I64(prng_below(&r, 3), 0);
}

static void test_randrange(void) {
    prng r;
    // random.seed(12345); [randrange(100) x5], [randrange(5, 50, 7) x3],
    // [randrange(10, 0, -3) x3] -> [53, 93, 1, 38, 47] [12, 19, 33] [1, 7, 4]
    prng_seed_int(&r, 12345);
    const int64_t a[5] = { 53, 93, 1, 38, 47 };
    for (int i = 0; i < 5; i++)
        CHECK_EQ_I64(prng_below(&r, 100), a[i]);
    const int64_t b[3] = { 12, 19, 33 }, c[3] = { 1, 7, 4 };
    int64_t x = 0;
    for (int i = 0; i < 3; i++) {
        CHECK(prng_randrange(&r, 5, 50, 7, &x));
        CHECK_EQ_I64(x, b[i]);
    }
    for (int i = 0; i < 3; i++) {
        CHECK(prng_randrange(&r, 10, 0, -3, &x));
        CHECK_EQ_I64(x, c[i]);
    }
    // random.seed(1); [randint(-3, 3) for _ in range(10)]
    prng_seed_int(&r, 1);
    const int64_t d[10] = { -2, 1, 3, 3, 3, -3, -1, -3, 0, 3 };
    for (int i = 0; i < 10; i++) {
        CHECK(prng_randrange(&r, -3, 4, 1, &x));
        CHECK_EQ_I64(x, d[i]);
    }
    // Empty ranges and a zero step are refused (ValueError in Python).
    CHECK(!prng_randrange(&r, 5, 5, 1, &x));
    CHECK(!prng_randrange(&r, 0, 10, 0, &x));
    CHECK(!prng_randrange(&r, 0, 10, -1, &x));
    CHECK(!prng_randrange(&r, INT64_MIN, INT64_MAX, 1, &x));
}

static void test_shuffle_uniform(void) {
    prng r;
    // random.seed(7); x = list(range(10)); random.shuffle(x) -> [8, 3, 1, 4, 7, 0, 9, 6, 2, 5]
    prng_seed_int(&r, 7);
    int v[10];
    for (int i = 0; i < 10; i++)
        v[i] = i;
    for (int i = 9; i >= 1; i--) {
        int j = (int)prng_below(&r, i + 1);
        int t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
    const int want[10] = { 8, 3, 1, 4, 7, 0, 9, 6, 2, 5 };
    CHECK(memcmp(v, want, sizeof v) == 0);
    // random.seed(7); [random.uniform(-72, 72) x3] (the pans of delays(width=0.8))
    prng_seed_int(&r, 7);
    CHECK(prng_uniform(&r, -72, 72) == -25.368081864024617);
    CHECK(prng_uniform(&r, -72, 72) == -50.27771895487172);
    CHECK(prng_uniform(&r, -72, 72) == 21.73456411773894);
}

static void test_gauss_bits(void) {
    prng r;
    // random.seed(99); [random.gauss(0, 1) x3]: the second value is the cached sine half.
    prng_seed_int(&r, 99);
    CHECK(prng_gauss(&r, 0, 1) == -0.5502226977406026);
    CHECK(prng_gauss(&r, 0, 1) == 0.3791183269784834);
    CHECK(prng_gauss(&r, 0, 1) == 0.3269272865950446);
    // random.seed(99); [random.normalvariate(0, 1) x2]
    prng_seed_int(&r, 99);
    CHECK(prng_normalvariate(&r, 0, 1) == -0.20592976904918464);
    CHECK(prng_normalvariate(&r, 0, 1) == -0.7331645826020126);
    // random.seed(5); [random.getrandbits(k) for k in (1, 8, 33, 63)]
    prng_seed_int(&r, 5);
    CHECK_EQ_I64(prng_getrandbits(&r, 1), 1);
    CHECK_EQ_I64(prng_getrandbits(&r, 8), 65);
    CHECK_EQ_I64(prng_getrandbits(&r, 33), 3185950873LL);
    CHECK_EQ_I64(prng_getrandbits(&r, 63), 6368248133177167415LL);
    CHECK_EQ_I64(prng_getrandbits(&r, 0), 0);
    // Reseeding clears the cached gauss value.
    prng_seed_int(&r, 99);
    prng_gauss(&r, 0, 1);
    prng_seed_int(&r, 99);
    CHECK(prng_gauss(&r, 0, 1) == -0.5502226977406026);
}

int main(void) {
    test_reference_key();
    test_seed_int();
    test_seed_float();
    test_seed14();
    test_randrange();
    test_shuffle_uniform();
    test_gauss_bits();
    return check_done();
}
