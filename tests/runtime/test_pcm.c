// test_pcm.c: the 16- and 24-bit PCM bytes pygmuc makes for its writer (runtime/pcm.c) are,
// byte for byte, the data libsndfile writes from the same floats with clipping on: a million
// samples (full scale and past it, half steps at 16, 24 and 32 bits, the edges of 2^-8,
// zeros, NaN, infinities, random values) in WAV (little-endian) and AIFF (big-endian). With
// libsndfile 1.2.0, the version this was written against, every such format is packed; the
// formats it leaves to libsndfile are not.
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "pcm.h"

enum {
    N = 1 << 20
};

static void fill(float *x) {
    int k = 0;
    for (int j = -3000; j <= 3000; j++) { // half steps and steps at every scale, near zero
        x[k++] = ((float)j + 0.5f) / 32768.0f;
        x[k++] = ((float)j + 0.5f) / 8388608.0f;
        x[k++] = ((float)j + 0.5f) / 2147483648.0f;
        x[k++] = (float)j / 32768.0f;
    }
    static const float edges[] = { 1.0f,        -1.0f,    0.99999994f, -0.99999994f, 1.0000001f,
                                   -1.0000001f, 1e9f,     -1e9f,       0.00390625f,  -0.00390625f,
                                   0.0f,        -0.0f,    1e-42f,      -1e-42f,      NAN,
                                   -NAN,        INFINITY, -INFINITY,   0.5f,         -0.5f };
    for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++)
        x[k++] = edges[e];
    double r[2];
    for (; k < N; k++) {
        t_fill_random(r, 2, (uint64_t)k);
        double mag = k % 3 == 0 ? 1.2 : ldexp(1.0, -(k % 40)); // (loud, and every scale)
        x[k] = (float)(r[0] * mag);
    }
}

// The data bytes libsndfile writes of x in `format` (mono), into *bytes; NULL on failure.
static unsigned char *libsndfile_bytes(const float *x, int format, long *bytes) {
    char path[] = "/tmp/pg_test_pcm_XXXXXX";
    int fd = mkstemp(path);
    SF_INFO info = { .samplerate = 48000, .channels = 1, .format = format };
    SNDFILE *sf = fd >= 0 ? sf_open_fd(fd, SFM_WRITE, &info, SF_TRUE) : NULL;
    bool ok = sf && sf_command(sf, SFC_SET_CLIPPING, NULL, SF_TRUE) == SF_TRUE &&
              sf_writef_float(sf, x, N) == N;
    ok = sf && sf_close(sf) == 0 && ok;
    FILE *f = ok ? fopen(path, "rb") : NULL;
    *bytes = (long)N * pcm_sample_bytes(format);
    unsigned char *data = f ? malloc((size_t)*bytes) : NULL;
    // (the samples are the file's last bytes)
    ok = data && fseek(f, -*bytes, SEEK_END) == 0 &&
         fread(data, 1, (size_t)*bytes, f) == (size_t)*bytes;
    if (f)
        fclose(f);
    unlink(path);
    if (!ok) {
        free(data);
        return NULL;
    }
    return data;
}

static void check_format(const float *x, int format, const char *name) {
    bool known = strcmp(sf_version_string(), "libsndfile-1.2.0") == 0;
    bool packs = pcm_can_pack(format);
    if (known)
        CHECK(packs);
    if (!packs) {
        fprintf(stderr, "test_pcm: %s left to %s\n", name, sf_version_string());
        return;
    }
    long bytes;
    unsigned char *want = libsndfile_bytes(x, format, &bytes), *got = malloc((size_t)bytes);
    CHECK(want != NULL && got != NULL);
    if (want && got) {
        CHECK_EQ_I64(pcm_pack(x, N, format, got), bytes);
        long first = -1;
        for (long i = 0; i < bytes && first < 0; i++)
            first = got[i] != want[i] ? i : -1;
        if (first >= 0)
            fprintf(stderr, "%s: byte %ld (sample %.9g) differs\n", name, first,
                    (double)x[first / pcm_sample_bytes(format)]);
        CHECK(first < 0);
    }
    free(want);
    free(got);
}

int main(void) {
    float *x = malloc(sizeof(float) * N);
    fill(x);
    check_format(x, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "WAV 16");
    check_format(x, SF_FORMAT_WAV | SF_FORMAT_PCM_24, "WAV 24");
    check_format(x, SF_FORMAT_AIFF | SF_FORMAT_PCM_16, "AIFF 16");
    check_format(x, SF_FORMAT_AIFF | SF_FORMAT_PCM_24, "AIFF 24");
    check_format(x, SF_FORMAT_WAVEX | SF_FORMAT_PCM_24, "WAVEX 24");
    // left to libsndfile: floats, 8 and 32 bits, FLAC (its own encoder), a forced byte order
    CHECK(!pcm_can_pack(SF_FORMAT_WAV | SF_FORMAT_FLOAT));
    CHECK(!pcm_can_pack(SF_FORMAT_WAV | SF_FORMAT_PCM_U8));
    CHECK(!pcm_can_pack(SF_FORMAT_WAV | SF_FORMAT_PCM_32));
    CHECK(!pcm_can_pack(SF_FORMAT_FLAC | SF_FORMAT_PCM_16));
    CHECK(!pcm_can_pack(SF_FORMAT_WAV | SF_FORMAT_PCM_16 | SF_ENDIAN_BIG));
    CHECK_EQ_I64(pcm_sample_bytes(SF_FORMAT_WAV | SF_FORMAT_PCM_16), 2);
    CHECK_EQ_I64(pcm_sample_bytes(SF_FORMAT_AIFF | SF_FORMAT_PCM_24), 3);
    free(x);
    return check_done();
}
