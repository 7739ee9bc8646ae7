// test_fft.c: the FFTW wrapper (runtime/fft.c) against the DFT summed here in double:
// X_k = sum_t x_t e^{-2 pi i k t / n}; fft_c2r(fft_r2c(x)) = n x (unnormalised, as FFTW);
// complex transforms both ways; even sizes (the half-size complex path) and odd sizes (FFTW's
// real plans); plans shared between threads.
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fft.h"

#define TWO_PI 6.283185307179586476925286766559

static void fill_random(float *x, int64_t n, uint64_t seed) {
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        x[i] = (float)((double)(seed >> 11) * 0x1p-52 - 1.0);
    }
}

// cos and sin of -2 pi j / n for j < n (the DFT's kernel, indexed by k t mod n).
static double *kernel(int64_t n) {
    double *w = malloc(sizeof(double) * 2 * (size_t)n);
    for (int64_t j = 0; w && j < n; j++) {
        w[2 * j] = cos(-TWO_PI * (double)j / (double)n);
        w[2 * j + 1] = sin(-TWO_PI * (double)j / (double)n);
    }
    return w;
}

// The largest |fft_r2c(x)_k - DFT_k| over k <= n / 2, relative to sqrt(n) (the size of a
// random spectrum), and of c2r(r2c(x)) / n - x.
static void check_real(int64_t n) {
    float *x = fft_alloc(sizeof(float) * (size_t)n), *y = fft_alloc(sizeof(float) * (size_t)n);
    fft_cpx *s = fft_alloc(sizeof(fft_cpx) * (size_t)(n / 2 + 1));
    const fft_plan *f = fft_plan_r2c(n), *b = fft_plan_c2r(n);
    CHECK(f && b && x && y && s);
    if (!f || !b || !x || !y || !s)
        return;
    fill_random(x, n, (uint64_t)n);
    fft_r2c(f, x, s);
    double worst = 0.0, *w = kernel(n);
    for (int64_t k = 0; k <= n / 2; k++) {
        double re = 0.0, im = 0.0;
        for (int64_t t = 0; t < n; t++) {
            int64_t j = (k * t) % n;
            re += (double)x[t] * w[2 * j];
            im += (double)x[t] * w[2 * j + 1];
        }
        double d = hypot((double)s[k][0] - re, (double)s[k][1] - im);
        worst = d > worst ? d : worst;
    }
    CHECK_NEAR(worst / sqrt((double)n), 0.0, 2e-6);
    fft_c2r(b, s, y);
    worst = 0.0;
    for (int64_t t = 0; t < n; t++) {
        double d = fabs((double)y[t] / (double)n - (double)x[t]);
        worst = d > worst ? d : worst;
    }
    CHECK_NEAR(worst, 0.0, 2e-6);
    free(w);
    fft_free(x);
    fft_free(y);
    fft_free(s);
}

// Complex forward (sign -1) and backward (+1) transforms of n points against the sum.
static void check_complex(int64_t n) {
    fft_cpx *x = fft_alloc(sizeof(fft_cpx) * (size_t)n),
            *y = fft_alloc(sizeof(fft_cpx) * (size_t)n);
    double *w = kernel(n);
    fill_random((float *)x, 2 * n, (uint64_t)n + 7);
    for (int sign = -1; sign <= 1; sign += 2) {
        fft_c2c(fft_plan_c2c(n, sign), x, y);
        double worst = 0.0;
        for (int64_t k = 0; k < n; k++) {
            double re = 0.0, im = 0.0;
            for (int64_t t = 0; t < n; t++) {
                int64_t j = (k * t) % n;
                double c = w[2 * j], sn = -sign * w[2 * j + 1]; // sin(sign 2 pi j / n)
                re += (double)x[t][0] * c - (double)x[t][1] * sn;
                im += (double)x[t][0] * sn + (double)x[t][1] * c;
            }
            double d = hypot((double)y[k][0] - re, (double)y[k][1] - im);
            worst = d > worst ? d : worst;
        }
        CHECK_NEAR(worst / sqrt((double)n), 0.0, 2e-6);
    }
    free(w);
    fft_free(x);
    fft_free(y);
}

// A plan is made once per (kind, size): asking again gives the same one.
static void test_cache(void) {
    CHECK(fft_plan_r2c(4096) == fft_plan_r2c(4096));
    CHECK(fft_plan_r2c(4096) != fft_plan_c2r(4096));
    CHECK(fft_plan_c2c(64, -1) != fft_plan_c2c(64, 1));
    CHECK(fft_plan_r2c(0) == NULL);
    CHECK(fft_plan_c2r(-3) == NULL);
}

static void *plan_many(void *arg) {
    int64_t base = *(const int64_t *)arg;
    for (int64_t n = 2; n < 300; n++)
        if (!fft_plan_r2c(base + n) || !fft_plan_c2r(base + n))
            return arg;
    return NULL;
}

// Two threads planning the same sizes at once get valid, shared plans.
static void test_threads(void) {
    int64_t base = 10000;
    pthread_t a, b;
    void *ra = NULL, *rb = NULL;
    CHECK(pthread_create(&a, NULL, plan_many, &base) == 0);
    CHECK(pthread_create(&b, NULL, plan_many, &base) == 0);
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    CHECK(ra == NULL && rb == NULL);
    CHECK(fft_plan_r2c(base + 77) == fft_plan_r2c(base + 77));
}

int main(void) {
    static const int64_t sizes[] = { 1, 2, 3, 4, 5, 6, 8, 10, 16, 97, 1000, 1024, 4096, 6000 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        check_real(sizes[i]);
        check_complex(sizes[i]);
    }
    test_cache();
    test_threads();
    fft_release();
    return check_done();
}
