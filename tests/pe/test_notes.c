// test_notes.c: NotesPE(src_pe, note_list, tempo=120, gain_factor=0.24, native_pitch=60,
// atk_secs=0.005, rel_secs=0), note_list rows (offset, duration, pitch[, velocity]) in beats.
// Expectations: the catalogue's verified example, and the formula (varispeed from the
// source's time 0, vol = gain (120 + 20 log10(v/127))/120, linear attack and release ramps)
// summed by brute force here.
#include <math.h>
#include <stdlib.h>

#include "check.h"

static int ident(pg_graph *g, int rate, pg_frame end) {
    pg_arg r[] = { t_int("frame_rate", rate) };
    pg_arg c[] = { t_node(NULL, t_add(g, "IdentityPE", r, 1)), t_ext(NULL, 0, end) };
    return t_add(g, "CropPE", c, 2);
}

static int notes(pg_graph *g, int src, int rows, int cols, const double *d, double atk,
                 double rel) {
    pg_arg a[] = { t_node(NULL, src), t_arr(NULL, rows, cols, d), t_num("atk_secs", atk),
                   t_num("rel_secs", rel) };
    return t_add(g, "NotesPE", a, 4);
}

// The catalogue's example: IdentityPE(fr=8) on [0, 100), tempo 120 (a beat is 4 frames).
static void test_catalogue(void) {
    pg_graph *g = t_graph(0);
    int src = ident(g, 8, 100);
    double d[] = { 0, 1, 60, 127, 2, .5, 72, 64 };
    int n = notes(g, src, 2, 4, d, 0.005, 0); // atk: int(0.005 * 8) = 0 frames, no ramp
    CHECK_EQ_I64(pg_graph_node_extent(g, n).start, 0);
    CHECK_EQ_I64(pg_graph_node_extent(g, n).end, 10);
    float out[12];
    CHECK_STATUS(t_render(g, n, 0, 12, 3, out), PG_OK);
    // Note(0,1,60,127): [0, 4), 0 .24 .48 .72 (velocity 127: 0 dB, vol .24)
    CHECK_NEAR(out[0], 0.0, 1e-7);
    CHECK_NEAR(out[1], 0.24, 1e-7);
    CHECK_NEAR(out[2], 0.48, 1e-7);
    CHECK_NEAR(out[3], 0.72, 1e-7);
    CHECK_NEAR(out[4], 0.0, 0);
    // Note(2,.5,72,64): [8, 10), speed 2, vol .24 (120 + 20 log10(64/127))/120 = 0.228095
    CHECK_NEAR(out[8], 0.0, 1e-7);
    CHECK_NEAR(out[9], 0.45619, 2e-6);
    CHECK_NEAR(out[10], 0.0, 0);
    pg_graph_free(g);
}

typedef struct ref_note {
    double off, dur, pitch, vel;
} ref_note;

// The formula for one output frame t, source x(t) = t on [0, src_end), at frame rate fr.
static double notes_at(const ref_note *ns, int count, long t, double fr, double atk, double rel,
                       long src_end) {
    double sum = 0, tempo = 120, gain = 0.24;
    long atk_f = (long)(atk * fr), rel_f = (long)(rel * fr);
    for (int i = 0; i < count; i++) {
        const ref_note *x = &ns[i];
        long s = (long)(x->off * 60 / tempo * fr), e = s + (long)((x->dur * 60 / tempo + rel) * fr);
        if (t < s || t >= e || x->vel == 0)
            continue;
        double r = pow(2.0, (x->pitch - 60) / 12), tau = r * (double)(t - s), f = floor(tau);
        double x0 = f >= 0 && f < src_end ? f : 0, x1 = f + 1 < src_end ? f + 1 : 0;
        float y = (float)((x1 - x0) * (tau - f) + x0);
        float vol = (float)(gain * (120 + 20 * log10(x->vel / 127)) / 120);
        double env = 1.0;
        if (atk_f > 0)
            env = fmin(env, (double)(t - s) / (double)atk_f);
        if (rel_f > 0)
            env = fmin(env, (double)(e - t) / (double)rel_f);
        sum += (double)(y * vol) * env;
    }
    return sum;
}

// Many overlapping notes with ramps at 48 kHz: against the formula, at every block size.
static void test_formula(void) {
    enum {
        COUNT = 60,
        END = 48000 * 4
    };
    pg_graph *g = t_graph(0);
    int src = ident(g, 48000, 30000);
    static ref_note ns[COUNT];
    static double d[COUNT * 4];
    unsigned s = 12345;
    for (int i = 0; i < COUNT; i++) {
        s = s * 1103515245u + 12345u;
        ns[i] = (ref_note){ (double)(s % 1400) / 200.0, 0.05 + (double)(s % 97) / 100.0,
                            48 + (double)(s % 25), (double)(1 + s % 127) };
        if (i % 17 == 0)
            ns[i].vel = 0; // a silent note
        d[4 * i] = ns[i].off;
        d[4 * i + 1] = ns[i].dur;
        d[4 * i + 2] = ns[i].pitch;
        d[4 * i + 3] = ns[i].vel;
    }
    int n = notes(g, src, COUNT, 4, d, 0.01, 0.02);
    static float out[END];
    CHECK_STATUS(t_render(g, n, 0, END, 4096, out), PG_OK);
    int bad = 0;
    for (long t = 0; t < END; t++)
        bad += fabs((double)out[t] - notes_at(ns, COUNT, t, 48000, 0.01, 0.02, 30000)) >
               1e-6 * (1 + fabs((double)out[t]));
    CHECK_EQ_I64(bad, 0);
    int loud = 0;
    for (long t = 0; t < END; t++)
        loud += fabs((double)out[t]) > 0.01;
    CHECK(loud > END / 4); // the notes sound (a check on the check)
    CHECK(t_block_invariant(g, n, -100, END));
    pg_graph_free(g);
}

// Ramps (QUIRK Q41: pygmu leaves atk_secs unused), rel_secs in the sound extent only,
// velocity 0, three columns, an empty list.
static void test_quirks(void) {
    pg_graph *g = t_graph(0);
    int src = ident(g, 8, 100);
    double d[] = { 0, 1, 60, 127 };
    int n = notes(g, src, 1, 4, d, 0.25, 0.5);             // attack 2 frames, release 4 frames
    CHECK_EQ_I64(pg_graph_node_extent(g, n).end, 4);       // pygmu's: no release
    CHECK_EQ_I64(pg_graph_node_sound_extent(g, n).end, 8); // the release sounds
    float out[10];
    CHECK_STATUS(t_render(g, n, 0, 10, 4, out), PG_OK);
    // x(t) = t, vol .24; env min(t/2, (8 - t)/4, 1)
    static const double env[] = { 0, 0.5, 1, 1, 1, 0.75, 0.5, 0.25, 0, 0 };
    for (int t = 0; t < 10; t++)
        CHECK_NEAR(out[t], (double)(float)(t * 0.24f) * env[t], 1e-6);
    double silent[] = { 0, 1, 60, 0 };
    int z = notes(g, src, 1, 4, silent, 0, 0);
    CHECK_STATUS(t_render(g, z, 0, 4, 4, out), PG_OK);
    CHECK_NEAR(out[1] + out[2] + out[3], 0.0, 0); // pygmu: vol -inf
    double three[] = { 0, 1, 60 };                // velocity 100
    int v = notes(g, src, 1, 3, three, 0, 0);
    CHECK_STATUS(t_render(g, v, 0, 4, 4, out), PG_OK);
    CHECK_NEAR(out[1], (double)(float)(0.24 * (120 + 20 * log10(100.0 / 127)) / 120), 1e-7);
    int empty = notes(g, src, 1, 0, d, 0, 0);
    CHECK(pg_extent_is_empty(pg_graph_node_extent(g, empty)));
    CHECK_STATUS(t_render(g, empty, 0, 4, 4, out), PG_OK);
    CHECK_NEAR(out[0] + out[3], 0.0, 0);
    // stereo source: each channel alike (channel 1 = -channel 0)
    double arr[] = { 0, 1, 2, 3, 4, 5, 6, 7, 0, -1, -2, -3, -4, -5, -6, -7 };
    pg_arg a[] = { t_arr(NULL, 2, 8, arr), t_int("frame_rate", 8) };
    int st = notes(g, t_add(g, "ArrayPE", a, 2), 1, 4, d, 0, 0);
    CHECK_EQ_I64(pg_graph_node_channels(g, st), 2);
    float o2[8];
    CHECK_STATUS(t_render(g, st, 0, 4, 3, o2), PG_OK);
    for (int t = 0; t < 4; t++)
        CHECK_NEAR(o2[4 + t], -o2[t], 0);
    CHECK_NEAR(o2[3], 0.72, 1e-6);
    pg_graph_free(g);
}

static void test_bad_args(void) {
    pg_graph *g = t_graph(0);
    int src = ident(g, 8, 100);
    double two[] = { 0, 1 };
    CHECK_STATUS(
        t_add_status(g, "NotesPE", (pg_arg[]){ t_node(NULL, src), t_arr(NULL, 1, 2, two) }, 2),
        PG_ERR_ARG);
    double loud[] = { 0, 1, 60, 128 };
    CHECK_STATUS(
        t_add_status(g, "NotesPE", (pg_arg[]){ t_node(NULL, src), t_arr(NULL, 1, 4, loud) }, 2),
        PG_ERR_ARG);
    double back[] = { 0, -1, 60, 100 };
    CHECK_STATUS(
        t_add_status(g, "NotesPE", (pg_arg[]){ t_node(NULL, src), t_arr(NULL, 1, 4, back) }, 2),
        PG_ERR_ARG);
    double high[] = { 0, 1, 1000, 100 };
    CHECK_STATUS(
        t_add_status(g, "NotesPE", (pg_arg[]){ t_node(NULL, src), t_arr(NULL, 1, 4, high) }, 2),
        PG_ERR_ARG);
    double nan_off[] = { NAN, 1, 60, 100 };
    CHECK_STATUS(
        t_add_status(g, "NotesPE", (pg_arg[]){ t_node(NULL, src), t_arr(NULL, 1, 4, nan_off) }, 2),
        PG_ERR_ARG);
    double ok[] = { 0, 1, 60, 100 };
    CHECK_STATUS(
        t_add_status(g, "NotesPE",
                     (pg_arg[]){ t_node(NULL, src), t_arr(NULL, 1, 4, ok), t_num("tempo", 0) }, 3),
        PG_ERR_ARG);
    CHECK_STATUS(
        t_add_status(g, "NotesPE",
                     (pg_arg[]){ t_node(NULL, src), t_arr(NULL, 1, 4, ok), t_num("atk_secs", -1) },
                     3),
        PG_ERR_ARG);
    CHECK_STATUS(t_add_status(g, "NotesPE", (pg_arg[]){ t_node(NULL, src) }, 1), PG_ERR_ARG);
    CHECK_STATUS(
        t_add_status(g, "NotesPE", (pg_arg[]){ t_node(NULL, src), t_str(NULL, "notes.mid") }, 2),
        PG_ERR_ARG);
    pg_graph_free(g);
}

int main(void) {
    test_catalogue();
    test_formula();
    test_quirks();
    test_bad_args();
    return check_done();
}
