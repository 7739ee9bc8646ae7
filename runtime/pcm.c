// pcm.c: 16- and 24-bit PCM bytes as libsndfile makes them. libsndfile 1.2.0 converts a
// float with clipping on (pcm.c's f2les_clip_array and its kin) by scaling it to 2^31 in
// float, clipping at full scale, rounding it to an int as cvtss2si does (to nearest, ties to
// even; a NaN gives INT32_MIN) and keeping the top 16 or 24 bits (an arithmetic shift: a
// floor). Here that is one branch-free loop the compiler vectorises; libsndfile's own is a
// branch and a call a sample, the slowest stage of a warm render to PCM (large_piece's
// one-note edit to 16-bit WAV: 3 minutes of stereo converted, 0.06-0.07 s in all).
// Later libsndfile versions round at 16 bits instead: so whether this is libsndfile's
// conversion is asked of the installed library itself, on probe samples, before it is used.
#include "pcm.h"

#include <math.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>

#include "memfile.h"

enum {
    RUN = 1024 // samples converted at a time (into a buffer on the stack)
};

// The ints libsndfile 1.2.0 makes of samples x before keeping their top bits.
static void full_scale(const float *restrict x, int32_t *restrict out, int n) {
    for (int i = 0; i < n; i++) {
        float v = x[i] * 2147483648.0f;
        // (below 2^23 the sum with 2^23 has no fraction left: rounded to nearest even, and
        // the difference is exact; above, v is an integer already)
        float m = v < 0.0f ? -8388608.0f : 8388608.0f;
        float a = v < 8388608.0f && v > -8388608.0f ? m : 0.0f;
        float r = (v + a) - a;
        r = r < 2147483520.0f ? r : 2147483520.0f; // (in range for the conversion)
        r = r > -2147483648.0f ? r : -2147483648.0f;
        int32_t k = (int32_t)r;
        k = v != v ? INT32_MIN : k;
        out[i] = v >= 2147483648.0f ? INT32_MAX : k; // (no float between 2^31 - 1 and 2^31)
    }
}

static void pack16(const float *src, int64_t n, bool big, unsigned char *dst) {
    int32_t v[RUN];
    for (int64_t at = 0; at < n; at += RUN) {
        int m = n - at < RUN ? (int)(n - at) : RUN;
        full_scale(src + at, v, m);
        for (int i = 0; i < m; i++) {
            uint16_t h = (uint16_t)((uint32_t)v[i] >> 16);
            h = big ? (uint16_t)(h << 8 | h >> 8) : h;
            memcpy(dst + 2 * (at + i), &h, 2); // (the host is little-endian: checked by the probe)
        }
    }
}

static void pack24(const float *src, int64_t n, bool big, unsigned char *dst) {
    int32_t v[RUN];
    int b0 = big ? 2 : 0, b2 = 2 - b0;
    for (int64_t at = 0; at < n; at += RUN) {
        int m = n - at < RUN ? (int)(n - at) : RUN;
        full_scale(src + at, v, m);
        unsigned char *d = dst + 3 * at;
        for (int i = 0; i < m; i++) {
            uint32_t u = (uint32_t)v[i];
            d[3 * i + b0] = (unsigned char)(u >> 8);
            d[3 * i + 1] = (unsigned char)(u >> 16);
            d[3 * i + b2] = (unsigned char)(u >> 24);
        }
    }
}

// The formats this packs: 0 when none, else 1 + its index in checked[].
static int format_slot(int format) {
    int major = format & SF_FORMAT_TYPEMASK, sub = format & SF_FORMAT_SUBMASK;
    if ((format & SF_FORMAT_ENDMASK) != SF_ENDIAN_FILE ||
        (sub != SF_FORMAT_PCM_16 && sub != SF_FORMAT_PCM_24))
        return 0;
    static const int majors[] = { SF_FORMAT_WAV, SF_FORMAT_WAVEX, SF_FORMAT_W64, SF_FORMAT_RF64,
                                  SF_FORMAT_AIFF };
    for (int k = 0; k < 5; k++)
        if (major == majors[k])
            return 1 + 2 * k + (sub == SF_FORMAT_PCM_24);
    return 0;
}

int pcm_sample_bytes(int format) {
    return (format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_24 ? 3 : 2;
}

int64_t pcm_pack(const float *src, int64_t n, int format, unsigned char *dst) {
    bool big = (format & SF_FORMAT_TYPEMASK) == SF_FORMAT_AIFF;
    if (pcm_sample_bytes(format) == 3)
        pack24(src, n, big, dst);
    else
        pack16(src, n, big, dst);
    return n * pcm_sample_bytes(format);
}

// ---- asking libsndfile ---------------------------------------------------------------

enum {
    PROBE_SAMPLES = 8192
};

// Samples that tell the conversions apart: the edges of full scale and of 2^-8 (where the
// rounding stops mattering), half steps at 16 and 24 bits, zeros, NaN, infinities, tiny and
// random values over +-1.5.
static void probe_samples(float *x) {
    static const float edges[] = {
        0.0f,        -0.0f,   1.0f,   -1.0f,       0.99999994f,  -0.99999994f,  1.0000001f,
        -1.0000001f, 3.0f,    -3.0f,  0.00390625f, -0.00390625f, 0.0039062497f, -0.0039062497f,
        1e-30f,      -1e-30f, 1e-40f, -1e-40f,     NAN,          INFINITY,      -INFINITY
    };
    int n = (int)(sizeof edges / sizeof edges[0]), k = 0;
    for (; k < n; k++)
        x[k] = edges[k];
    for (int j = -40; j <= 40 && k + 4 <= PROBE_SAMPLES; j++) { // half steps around 0
        x[k++] = ((float)j + 0.5f) / 32768.0f;
        x[k++] = ((float)j + 0.5f) / 8388608.0f;
        x[k++] = ((float)j + 0.5f) / 2147483648.0f;
        x[k++] = (float)j / 65536.0f;
    }
    uint64_t s = 0x9e3779b97f4a7c15u;
    for (; k < PROBE_SAMPLES; k++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        float u = (float)(s >> 40) / 16777216.0f; // [0, 1)
        x[k] = (k & 1 ? 3.0f * u - 1.5f : (u - 0.5f) * ldexpf(1.0f, -(int)(s % 30)));
    }
}

// Whether libsndfile writes probe samples x in `format` as pcm_pack does.
static bool same_as_libsndfile(int format, const float *x) {
    memfile m = { NULL, 0, 0, 0, false };
    SF_INFO info = { .samplerate = 48000, .channels = 1, .format = format };
    SNDFILE *sf = sf_open_virtual(&memfile_io, SFM_WRITE, &info, &m);
    if (!sf) {
        free(m.p);
        return false;
    }
    sf_command(sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
    bool ok = sf_writef_float(sf, x, PROBE_SAMPLES) == PROBE_SAMPLES;
    ok = sf_close(sf) == 0 && ok;
    int64_t bytes = PROBE_SAMPLES * (int64_t)pcm_sample_bytes(format);
    unsigned char *mine = malloc((size_t)bytes);
    // (the samples are the file's last bytes: no chunk follows a PCM file's data)
    ok = ok && mine && m.len >= bytes && pcm_pack(x, PROBE_SAMPLES, format, mine) == bytes &&
         memcmp(m.p + m.len - bytes, mine, (size_t)bytes) == 0;
    free(mine);
    free(m.p);
    return ok;
}

static pthread_mutex_t checked_lock = PTHREAD_MUTEX_INITIALIZER;
static signed char checked[10]; // per format_slot - 1: 0 not asked yet, 1 yes, -1 no

bool pcm_can_pack(int format) {
    int slot = format_slot(format);
    if (slot == 0)
        return false;
    pthread_mutex_lock(&checked_lock);
    if (checked[slot - 1] == 0) {
        float *x = malloc(sizeof(float) * PROBE_SAMPLES);
        if (x)
            probe_samples(x);
        checked[slot - 1] = x && same_as_libsndfile(format, x) ? 1 : -1;
        free(x);
    }
    bool yes = checked[slot - 1] > 0;
    pthread_mutex_unlock(&checked_lock);
    return yes;
}
