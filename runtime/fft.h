// fft.h: a small wrapper over FFTW3 (single precision) for the spectral kernels
// (ConvolvePE, GaneshPE, TralfamPE). Plans are made once per (kind, size) with FFTW_ESTIMATE,
// so they are the same on every run, and shared by every kernel and thread; planning is
// serialised by a mutex (FFTW's planner is not thread-safe), execution is not (FFTW's
// new-array execute functions are). Every array passed to fft_r2c / fft_c2r / fft_c2c must
// come from fft_alloc (or be 64-byte aligned, as pe_scratch memory is).
#ifndef PG_RUNTIME_FFT_H
#define PG_RUNTIME_FFT_H

#include <stddef.h>
#include <stdint.h>

#include <fftw3.h>

typedef fftwf_complex fft_cpx; // float[2]: real, imaginary
typedef struct fft_plan fft_plan;

// The shared plan for a real-to-complex transform of n real values (n / 2 + 1 complex
// outputs), its inverse, or a complex transform of n values (sign -1 forward, +1 backward).
// Plans live until fft_release. NULL when n < 1 or out of memory. Thread-safe.
const fft_plan *fft_plan_r2c(int64_t n);
const fft_plan *fft_plan_c2r(int64_t n);
const fft_plan *fft_plan_c2c(int64_t n, int sign);

// Unnormalised transforms (a forward and backward pair scales by n). fft_c2r destroys its
// input; the others keep it. in and out must not overlap.
void fft_r2c(const fft_plan *p, float *in, fft_cpx *out);
void fft_c2r(const fft_plan *p, fft_cpx *in, float *out);
void fft_c2c(const fft_plan *p, fft_cpx *in, fft_cpx *out);

// Aligned memory for transforms (fftwf_malloc); NULL when out of memory. fft_free(NULL) is
// a no-op.
void *fft_alloc(size_t bytes);
void fft_free(void *p);

// Destroys every cached plan. Only when no transform is running or will run with an old
// plan (at exit, or between tests).
void fft_release(void);

#endif // PG_RUNTIME_FFT_H
