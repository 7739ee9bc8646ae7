// fft.c: the shared FFTW plan cache behind fft.h. One process-wide list of plans, keyed by
// (kind, size): FFTW's planner keeps global state of its own, so sharing plans across
// renders and threads costs nothing in safety as long as planning is serialised, which the
// mutex does. FFTW_ESTIMATE never measures, so a size always gets the same plan (and the
// same bits) on a given machine; no other code in pygmuc may plan (wisdom would leak in).
// Real transforms of even size n run as complex transforms of n / 2 points (the even and odd
// samples as real and imaginary parts) plus a twiddle pass: FFTW plans those in tens of
// microseconds, where its own real-data planner takes milliseconds even with FFTW_ESTIMATE,
// which dominated short renders. Odd sizes use FFTW's real plans.
#include "fft.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#define TWO_PI 6.283185307179586476925286766559

typedef enum fft_kind {
    FFT_R2C,
    FFT_C2R,
    FFT_C2C_FWD,
    FFT_C2C_BWD,
} fft_kind;

struct fft_plan {
    fftwf_plan plan; // a real plan (odd n), or a complex one of n / 2 (even) or n points
    fft_kind kind;
    int64_t n;
    int64_t half; // n / 2 for the even real kinds (plan is complex of that size), else 0
    fft_cpx *tw;  // even real kinds: e^{-2 pi i k / n} for k <= n / 4
    struct fft_plan *next;
};

// The cache and its lock: the one piece of process-wide mutable state in the runtime, because
// FFTW's planner is process-wide too.
static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fft_plan *plans;

// Makes the FFTW plan of e on scratch arrays of the right size and alignment. Locked.
static fftwf_plan make_plan(const struct fft_plan *e) {
    int n = (int)e->n, m = (int)e->half;
    float *re = fftwf_malloc(sizeof(float) * (size_t)n);
    fftwf_complex *a = fftwf_malloc(sizeof(fftwf_complex) * ((size_t)n + 1));
    fftwf_complex *b = fftwf_malloc(sizeof(fftwf_complex) * ((size_t)n + 1));
    fftwf_plan p = NULL;
    if (re && a && b) {
        switch (e->kind) {
        case FFT_R2C:
            p = m ? fftwf_plan_dft_1d(m, a, b, FFTW_FORWARD, FFTW_ESTIMATE)
                  : fftwf_plan_dft_r2c_1d(n, re, a, FFTW_ESTIMATE);
            break;
        case FFT_C2R:
            p = m ? fftwf_plan_dft_1d(m, a, b, FFTW_BACKWARD, FFTW_ESTIMATE)
                  : fftwf_plan_dft_c2r_1d(n, a, re, FFTW_ESTIMATE);
            break;
        case FFT_C2C_FWD:
            p = fftwf_plan_dft_1d(n, a, b, FFTW_FORWARD, FFTW_ESTIMATE);
            break;
        case FFT_C2C_BWD:
            p = fftwf_plan_dft_1d(n, a, b, FFTW_BACKWARD, FFTW_ESTIMATE);
            break;
        }
    }
    fftwf_free(re);
    fftwf_free(a);
    fftwf_free(b);
    return p;
}

// Twiddles e^{-2 pi i k / n}, k <= n / 4, computed in double. NULL when out of memory.
static fft_cpx *make_twiddles(int64_t n) {
    fft_cpx *tw = fftwf_malloc(sizeof(fft_cpx) * (size_t)(n / 4 + 1));
    for (int64_t k = 0; tw && k <= n / 4; k++) {
        double a = -TWO_PI * (double)k / (double)n;
        tw[k][0] = (float)cos(a);
        tw[k][1] = (float)sin(a);
    }
    return tw;
}

// A new cache entry, or NULL. Locked.
static struct fft_plan *new_entry(fft_kind kind, int64_t n) {
    struct fft_plan *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->kind = kind;
    e->n = n;
    bool is_real = kind == FFT_R2C || kind == FFT_C2R;
    e->half = is_real && n % 2 == 0 ? n / 2 : 0;
    e->plan = make_plan(e);
    e->tw = e->half ? make_twiddles(n) : NULL;
    if (!e->plan || (e->half && !e->tw)) {
        if (e->plan)
            fftwf_destroy_plan(e->plan);
        fftwf_free(e->tw);
        free(e);
        return NULL;
    }
    return e;
}

static const fft_plan *get_plan(fft_kind kind, int64_t n) {
    if (n < 1 || n > INT_MAX - 1)
        return NULL;
    pthread_mutex_lock(&plan_lock);
    struct fft_plan *e = plans;
    while (e && (e->kind != kind || e->n != n))
        e = e->next;
    if (!e && (e = new_entry(kind, n)) != NULL) {
        e->next = plans;
        plans = e;
    }
    pthread_mutex_unlock(&plan_lock);
    return e;
}

const fft_plan *fft_plan_r2c(int64_t n) {
    return get_plan(FFT_R2C, n);
}

const fft_plan *fft_plan_c2r(int64_t n) {
    return get_plan(FFT_C2R, n);
}

const fft_plan *fft_plan_c2c(int64_t n, int sign) {
    return get_plan(sign < 0 ? FFT_C2C_FWD : FFT_C2C_BWD, n);
}

// w^k for k <= m = n / 2 from the quarter table: w^{m - j} = -conj(w^j).
static void twiddle(const fft_plan *p, int64_t k, float *re, float *im) {
    int64_t q = p->half / 2;
    if (k <= q) {
        *re = p->tw[k][0];
        *im = p->tw[k][1];
    } else {
        *re = -p->tw[p->half - k][0];
        *im = p->tw[p->half - k][1];
    }
}

// With Z the m-point transform of z[j] = x[2j] + i x[2j + 1]: E_k = (Z_k + conj Z_{m-k}) / 2
// and O_k = (Z_k - conj Z_{m-k}) / 2i are the transforms of the even and odd samples, and
// X_k = E_k + w^k O_k, X_{m-k} = conj(E_k - w^k O_k). In place, one pair (k, m - k) at a time.
static void r2c_split(const fft_plan *p, fft_cpx *z) {
    int64_t m = p->half;
    float z0r = z[0][0], z0i = z[0][1];
    z[0][0] = z0r + z0i;
    z[0][1] = 0.0f;
    z[m][0] = z0r - z0i;
    z[m][1] = 0.0f;
    for (int64_t k = 1; k <= m / 2; k++) {
        float ar = z[k][0], ai = z[k][1], br = z[m - k][0], bi = z[m - k][1];
        float er = 0.5f * (ar + br), ei = 0.5f * (ai - bi);
        float or_ = 0.5f * (ai + bi), oi = -0.5f * (ar - br);
        float wr, wi;
        twiddle(p, k, &wr, &wi);
        float tr = wr * or_ - wi * oi, ti = wr * oi + wi * or_;
        z[k][0] = er + tr;
        z[k][1] = ei + ti;
        z[m - k][0] = er - tr;
        z[m - k][1] = -(ei - ti);
    }
}

// The inverse of r2c_split, times 2 so that the m-point backward transform scales by n as
// FFTW's c2r does: Z_k = (X_k + conj X_{m-k}) + i conj(w^k) (X_k - conj X_{m-k}).
static void c2r_merge(const fft_plan *p, fft_cpx *x) {
    int64_t m = p->half;
    float x0 = x[0][0], xm = x[m][0];
    x[0][0] = x0 + xm;
    x[0][1] = x0 - xm;
    for (int64_t k = 1; k <= m / 2; k++) {
        float ar = x[k][0], ai = x[k][1], br = x[m - k][0], bi = x[m - k][1];
        float er = ar + br, ei = ai - bi; // X_k + conj X_{m-k}
        float dr = ar - br, di = ai + bi; // X_k - conj X_{m-k}
        float wr, wi;
        twiddle(p, k, &wr, &wi);
        float or_ = wr * dr + wi * di, oi = wr * di - wi * dr; // conj(w^k) d
        x[k][0] = er - oi;
        x[k][1] = ei + or_;
        x[m - k][0] = er + oi; // Z_{m-k} = conj(e) + i conj(w^{m-k}) conj(-d)
        x[m - k][1] = -ei + or_;
    }
}

void fft_r2c(const fft_plan *p, float *in, fft_cpx *out) {
    if (!p->half) {
        fftwf_execute_dft_r2c(p->plan, in, out);
        return;
    }
    fftwf_execute_dft(p->plan, (fft_cpx *)in, out);
    r2c_split(p, out);
}

void fft_c2r(const fft_plan *p, fft_cpx *in, float *out) {
    if (!p->half) {
        fftwf_execute_dft_c2r(p->plan, in, out);
        return;
    }
    c2r_merge(p, in);
    fftwf_execute_dft(p->plan, in, (fft_cpx *)out);
}

void fft_c2c(const fft_plan *p, fft_cpx *in, fft_cpx *out) {
    fftwf_execute_dft(p->plan, in, out);
}

void *fft_alloc(size_t bytes) {
    return fftwf_malloc(bytes ? bytes : 1);
}

void fft_free(void *p) {
    if (p)
        fftwf_free(p);
}

void fft_release(void) {
    pthread_mutex_lock(&plan_lock);
    while (plans) {
        struct fft_plan *next = plans->next;
        fftwf_destroy_plan(plans->plan);
        fftwf_free(plans->tw);
        free(plans);
        plans = next;
    }
    pthread_mutex_unlock(&plan_lock);
}
