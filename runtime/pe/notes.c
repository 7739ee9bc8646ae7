// notes.c: NotesPE(src_pe, note_list, tempo=120, gain_factor=0.24, native_pitch=60,
// atk_secs=0.005, rel_secs=0), after pygmu's notes_pe.py: plays src_pe once per note, from
// src's own time 0, resampled by 2^((pitch - native_pitch)/12) (varispeed, interpolated as
// WarpSpeedPE does), for the note's duration, at vol = gain_factor (120 + dB(velocity))/120,
// from the note's offset. note_list is a rows x 4 array (offset, duration, pitch, velocity;
// beats and MIDI numbers; 3 columns: velocity 100). Stateless; only sounding notes cost.
#include <math.h>
#include <stdlib.h>

#include "pe.h"

enum {
    P_SRC,
    P_NOTES,
    P_TEMPO,
    P_GAIN,
    P_NATIVE,
    P_ATK,
    P_REL
};

enum {
    MAX_SPAN_FRAMES = 1 << 16, // source frames one pull may cover
    MAX_SEMITONES = 360,       // |pitch - native_pitch|: speeds within 2^-30 .. 2^30
};

#define NOTES_FAR 4611686018427387904.0 // 2^62: frame numbers beyond are refused

typedef struct note {
    pg_frame start, end; // [offset, offset + duration + release) in frames
    double ratio;        // source frames per output frame
    double vol;
    int index; // position in note_list (orders notes that start together)
} note;

typedef struct notes_state {
    note *notes;      // sorted by start (stable)
    pg_frame *maxend; // maxend[i]: the latest end among notes[0..i]
    int count;
    double atk, rel; // ramp lengths in frames (0: none)
} notes_state;

static const pe_param notes_params[] = {
    { "src_pe", PE_T_PE, PE_P_REQUIRED | PE_P_RANDOM, PE_NONE },
    { "note_list", PE_T_ARRAY, PE_P_REQUIRED, PE_NONE },
    { "tempo", PE_T_NUM, PE_P_GT0, PE_NUM(120) },
    { "gain_factor", PE_T_NUM, 0, PE_NUM(0.24) },
    { "native_pitch", PE_T_NUM, 0, PE_NUM(60) },
    { "atk_secs", PE_T_NUM, PE_P_GE0, PE_NUM(0.005) },
    { "rel_secs", PE_T_NUM, PE_P_GE0, PE_NUM(0) },
    PE_PARAMS_END,
};

static int note_count(const pe_node *n) {
    const pg_array *a = &n->args[P_NOTES].u.array;
    return a->cols == 0 ? 0 : a->rows;
}

// Column k of note i; velocity defaults to 100 when the rows have 3 columns.
static double note_field(const pe_node *n, int i, int k) {
    const pg_array *a = &n->args[P_NOTES].u.array;
    return k < a->cols ? a->data[(size_t)i * (size_t)a->cols + (size_t)k] : 100.0;
}

// Python's int(): truncation toward zero, as pygmu's Note.offset() and duration().
static pg_frame to_frames(double x) {
    return (pg_frame)trunc(x);
}

// Note i in frames, computed with pygmu's expressions and order of operations.
// QUIRK Q41: velocity 0 gives pygmu vol = -inf; here it is a silent note (MIDI's meaning),
// and so is any velocity below 127e-6 (where 120 + dB would turn the note's phase over).
static note note_of(const pe_node *n, int fr, int i) {
    double tempo = pe_num(n, P_TEMPO), rel = pe_num(n, P_REL);
    double off = note_field(n, i, 0), dur = note_field(n, i, 1);
    double pitch = note_field(n, i, 2), vel = note_field(n, i, 3);
    note x;
    x.index = i;
    x.start = to_frames(off * 60 / tempo * fr);
    x.end = x.start + to_frames((dur * 60 / tempo + rel) * fr);
    x.ratio = pow(2.0, (pitch - pe_num(n, P_NATIVE)) / 12);
    double db = vel > 0 ? 20.0 * log10(vel / 127.0) : -120.0;
    x.vol = pe_num(n, P_GAIN) * fmax(120.0 + db, 0.0) / 120.0;
    return x;
}

static pg_status notes_check_row(const pe_node *n, int fr, int i, pe_check *ck) {
    static const char *const names[] = { "offset", "duration", "pitch", "velocity" };
    for (int k = 0; k < 4; k++)
        if (!isfinite(note_field(n, i, k)))
            return pe_fail(ck, PG_ERR_ARG, "NotesPE note %d: %s must be finite, got %g", i,
                           names[k], note_field(n, i, k));
    double dur = note_field(n, i, 1), vel = note_field(n, i, 3);
    if (dur < 0)
        return pe_fail(ck, PG_ERR_ARG, "NotesPE note %d: duration must be >= 0, got %g", i, dur);
    if (!(vel >= 0 && vel <= 127))
        return pe_fail(ck, PG_ERR_ARG, "NotesPE note %d: velocity must be 0 to 127, got %g", i,
                       vel);
    double secs = pe_num(n, P_REL) + (fabs(note_field(n, i, 0)) + dur) * 60 / pe_num(n, P_TEMPO);
    if (!(secs * fr < NOTES_FAR))
        return pe_fail(ck, PG_ERR_ARG, "NotesPE note %d lies too far from frame 0", i);
    note x = note_of(n, fr, i);
    double steps = note_field(n, i, 2) - pe_num(n, P_NATIVE);
    if (!(fabs(steps) <= MAX_SEMITONES) || !(x.ratio * (double)(x.end - x.start) < NOTES_FAR))
        return pe_fail(ck, PG_ERR_ARG,
                       "NotesPE note %d: pitch %g is more than %d semitones from native_pitch "
                       "%g, or the note reads too far",
                       i, note_field(n, i, 2), MAX_SEMITONES, pe_num(n, P_NATIVE));
    return PG_OK;
}

// The union of the notes' [offset, offset + duration + release). QUIRK Q41: pygmu's extent
// leaves the release out: that is our nominal extent (what .extent() answers and a render
// covers by default), the release a tail. pygmu's extent of an empty list is indefinite;
// ours is empty.
static pg_status notes_infer(pe_node *n, pe_check *ck) {
    const pe_shape *src = &n->in[pe_slot(n, P_SRC)];
    const pg_array *a = &n->args[P_NOTES].u.array;
    n->out = *src;
    n->out.extent = (pg_extent){ 0, 0 };
    if (src->frame_rate <= 0)
        return pe_fail(ck, PG_ERR_RATE, "NotesPE needs its source's frame rate");
    if (a->cols != 0 && a->cols != 3 && a->cols != 4)
        return pe_fail(ck, PG_ERR_ARG,
                       "NotesPE note_list must hold notes (offset, duration, pitch[, velocity]), "
                       "got rows of %d numbers",
                       a->cols);
    if (!isfinite(pe_num(n, P_NATIVE)) || !isfinite(pe_num(n, P_ATK)) ||
        !isfinite(pe_num(n, P_REL)) || !isfinite(pe_num(n, P_GAIN)))
        return pe_fail(ck, PG_ERR_ARG,
                       "NotesPE gain_factor, native_pitch, atk_secs and "
                       "rel_secs must be finite");
    if (!((pe_num(n, P_ATK) + pe_num(n, P_REL)) * src->frame_rate < NOTES_FAR))
        return pe_fail(ck, PG_ERR_ARG, "NotesPE atk_secs and rel_secs are too long");
    for (int i = 0; i < note_count(n); i++) {
        if (notes_check_row(n, src->frame_rate, i, ck) != PG_OK)
            return ck->status;
        note x = note_of(n, src->frame_rate, i);
        if (ck->nominal) // pygmu's Note.extent(tempo, fr) without rel_secs
            x.end = x.start +
                    to_frames(note_field(n, i, 1) * 60 / pe_num(n, P_TEMPO) * src->frame_rate);
        n->out.extent = pg_extent_union(n->out.extent, (pg_extent){ x.start, x.end });
    }
    return PG_OK;
}

// Source frames note x reads for output frames [a, b) inside it: [floor(r (a - s)),
// floor(r (b - 1 - s)) + 2).
static pg_extent note_reads(const note *x, pg_frame a, pg_frame b) {
    double lo = floor(x->ratio * (double)(a - x->start));
    double hi = floor(x->ratio * (double)(b - 1 - x->start));
    return (pg_extent){ (pg_frame)lo, (pg_frame)hi + 2 };
}

static void notes_need(const pe_node *n, int slot, pg_extent out, pg_extent *in) {
    int fr = n->in[slot].frame_rate;
    *in = (pg_extent){ 0, 0 };
    for (int i = 0; i < note_count(n); i++) {
        note x = note_of(n, fr, i);
        pg_extent e = pg_extent_intersect(out, (pg_extent){ x.start, x.end });
        if (!pg_extent_is_empty(e) && x.vol != 0.0)
            *in = pg_extent_union(*in, note_reads(&x, e.start, e.end));
    }
}

static int note_cmp(const void *pa, const void *pb) {
    const note *a = pa, *b = pb;
    if (a->start != b->start)
        return (a->start > b->start) - (a->start < b->start);
    return (a->index > b->index) - (a->index < b->index);
}

static void notes_fini(pe_inst *pe) {
    notes_state *s = pe->state;
    free(s->notes);
    free(s->maxend);
    s->notes = NULL;
    s->maxend = NULL;
}

// Sorts the sounding notes by start and records each prefix's latest end, so that a window
// finds its notes by two binary searches.
static pg_status notes_init(pe_inst *pe) {
    notes_state *s = pe->state;
    const pe_node *nd = pe->node;
    int fr = nd->out.frame_rate, total = note_count(nd);
    s->notes = malloc(sizeof *s->notes * (size_t)(total ? total : 1));
    s->maxend = malloc(sizeof *s->maxend * (size_t)(total ? total : 1));
    if (!s->notes || !s->maxend) {
        notes_fini(pe); // fini does not run after a failed init
        return pe_error(pe, PG_ERR_NOMEM, "NotesPE: out of memory for %d notes", total);
    }
    for (int i = 0; i < total; i++) {
        note x = note_of(nd, fr, i);
        if (x.end > x.start && x.vol != 0.0)
            s->notes[s->count++] = x;
    }
    qsort(s->notes, (size_t)s->count, sizeof *s->notes, note_cmp);
    for (int i = 0; i < s->count; i++)
        s->maxend[i] = i && s->maxend[i - 1] > s->notes[i].end ? s->maxend[i - 1] : s->notes[i].end;
    // the splice pygmu meant (its code is commented out): int(secs * fr) frames each
    s->atk = (double)to_frames(pe_num(nd, P_ATK) * fr);
    s->rel = (double)to_frames(pe_num(nd, P_REL) * fr);
    return PG_OK;
}

// The first note whose prefix reaches past a, and one past the last note starting before b.
static void notes_range(const notes_state *s, pg_frame a, pg_frame b, int *lo, int *hi) {
    int l = 0, h = s->count;
    while (l < h) {
        int m = l + (h - l) / 2;
        if (s->maxend[m] > a)
            h = m;
        else
            l = m + 1;
    }
    *lo = l;
    h = s->count;
    while (l < h) {
        int m = l + (h - l) / 2;
        if (s->notes[m].start < b)
            l = m + 1;
        else
            h = m;
    }
    *hi = l;
}

// QUIRK Q41: pygmu never applies atk_secs (its splice is commented out), so notes click;
// here a linear ramp rises over the first atk frames and one falls over the last rel
// frames of each note, SplicePE's envelope: min(1, (t - start)/atk, (end - t)/rel).
static double note_env(const notes_state *s, const note *x, pg_frame t) {
    double g = 1.0;
    if (s->atk > 0)
        g = fmin(g, (double)(t - x->start) / s->atk);
    if (s->rel > 0)
        g = fmin(g, (double)(x->end - t) / s->rel);
    return g;
}

// Adds note x over output frames [a, b) (inside it) into acc (ch x n from t0), reading
// the source in runs of at most MAX_SPAN_FRAMES.
static pg_status add_note(pe_inst *pe, const notes_state *s, const note *x, pg_frame t0, int64_t n,
                          pg_frame a, pg_frame b, int ch, double *acc) {
    int64_t step = (int64_t)((double)(MAX_SPAN_FRAMES - 4) / x->ratio) + 1;
    float vol = (float)x->vol;
    for (pg_frame i = a; i < b; i += step) {
        pg_frame j = b - i < step ? b : i + step;
        pg_extent r = note_reads(x, i, j);
        pe_view v;
        pg_status st = pe_pull(pe, pe_slot(pe->node, P_SRC), r.start, r.end - r.start, &v);
        if (st != PG_OK)
            return st;
        for (pg_frame t = i; t < j; t++) {
            double tau = x->ratio * (double)(t - x->start), f = floor(tau), g = note_env(s, x, t);
            int64_t at = (int64_t)f - r.start;
            for (int c = 0; c < ch; c++) {
                const float *xs = pe_vch(&v, c);
                double x0 = (double)xs[at], x1 = (double)xs[at + 1];
                float y = (float)((x1 - x0) * (tau - f) + x0);  // WarpSpeedPE's float32 sample
                acc[c * n + (t - t0)] += (double)(y * vol) * g; // GainPE's float32 product
            }
        }
    }
    return PG_OK;
}

static pg_status notes_process(pe_inst *pe, pg_frame t0, int64_t n, pe_buf *out) {
    const notes_state *s = pe->state;
    int ch = out->channels, lo, hi;
    double *acc = pe_scratch(pe, sizeof(double) * (size_t)n * (size_t)ch);
    if (!acc)
        return pe_error(pe, PG_ERR_NOMEM, "NotesPE: out of scratch memory");
    for (int64_t i = 0; i < n * ch; i++)
        acc[i] = 0.0;
    notes_range(s, t0, t0 + n, &lo, &hi);
    for (int i = lo; i < hi; i++) {
        const note *x = &s->notes[i];
        pg_frame a = x->start > t0 ? x->start : t0, b = x->end < t0 + n ? x->end : t0 + n;
        pg_status st = a < b ? add_note(pe, s, x, t0, n, a, b, ch, acc) : PG_OK;
        if (st != PG_OK)
            return st;
    }
    for (int c = 0; c < ch; c++)
        for (int64_t i = 0; i < n; i++)
            pe_ch(out, c)[i] = (float)acc[c * n + i];
    return PG_OK;
}

const pe_kind pe_kind_notes = {
    .name = "NotesPE",
    .method = NULL,
    .params = notes_params,
    .flags = PE_F_TAIL,
    .state_size = sizeof(notes_state),
    .infer = notes_infer,
    .need = notes_need,
    .init = notes_init,
    .process = notes_process,
    .fini = notes_fini,
};
