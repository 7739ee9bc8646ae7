// baseline_saw.c: the hand-written C baseline for bench/pieces/saw64.pg: 64 BLIT sawtooth
// notes of 4 s spread over 60 s, each panned with constant gains, summed into a stereo
// buffer in one pass per note, then written with libsndfile. No graph, no threads: what a
// careful programmer writes by hand. Usage: baseline_saw OUT.wav|OUT.flac
#include <math.h>
#include <sndfile.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    RATE = 48000,
    SECONDS = 60,
    NOTES = 64,
    NOTE_FRAMES = 4 * RATE
};

static const double PI = 3.14159265358979323846;

static double now_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

// One band-limited saw (STK's BlitSaw, as pygmu's BlitSawPE) added into a stereo buffer.
static void add_saw(float *lr, double hz, double gl, double gr) {
    double p = (double)RATE / hz, c2 = 1.0 / p, rate = PI / p;
    int m = 2 * (int)floor(p / 2.0) + 1;
    double a = m / p, state = -a / 2.0, phi = 0.0;
    for (int i = 0; i < NOTE_FRAMES; i++) {
        double den = sin(phi);
        double tmp = fabs(den) <= 1e-5 ? a : sin(m * phi) / (p * den);
        tmp += state - c2;
        state = 0.995 * tmp;
        phi = fmod(phi + rate, PI);
        float y = (float)tmp * 0.05f;
        lr[2 * i] += y * (float)gl;
        lr[2 * i + 1] += y * (float)gr;
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: baseline_saw OUT.wav|OUT.flac\n");
        return 64;
    }
    double t0 = now_sec();
    float *buf = calloc((size_t)SECONDS * RATE * 2, sizeof(float));
    if (!buf)
        return 1;
    unsigned seed = 64;
    for (int i = 0; i < NOTES; i++) {
        seed = seed * 1103515245u + 12345u;
        int pitch = 36 + (int)((seed >> 16) % 36);
        seed = seed * 1103515245u + 12345u;
        double theta = ((double)((seed >> 16) % 121) - 60.0) * PI / 180.0;
        double w = (theta + PI / 2) / 2;
        long start = (long)i * 56 * RATE / 64;
        add_saw(buf + 2 * start, 440.0 * pow(2.0, (pitch - 69) / 12.0), cos(w), sin(w));
    }
    double t1 = now_sec(); // the encoder alone from here: what overlapping can at best hide
    bool flac = strstr(argv[1], ".flac") != NULL;
    SF_INFO info = { .samplerate = RATE,
                     .channels = 2,
                     .format = flac ? SF_FORMAT_FLAC | SF_FORMAT_PCM_24
                                    : SF_FORMAT_WAV | SF_FORMAT_FLOAT };
    SNDFILE *sf = sf_open(argv[1], SFM_WRITE, &info);
    if (!sf || sf_writef_float(sf, buf, (sf_count_t)SECONDS * RATE) != (sf_count_t)SECONDS * RATE)
        return 1;
    sf_close(sf);
    double t2 = now_sec();
    free(buf);
    printf("stats: audio_sec=%d render_sec=%.4f write_sec=%.4f\n", SECONDS, t2 - t0, t2 - t1);
    return 0;
}
