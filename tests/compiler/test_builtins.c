// test_builtins.c: the .pg builtins: pygmu's utils.py music helpers against the numbers of
// pygmu's own tests/test_utils.py (catalogue 4.2, rtol 1e-7) and CPython 3.11 evaluating
// utils.py's formulas; math functions and their errors; numbers' str() (Python's repr of
// floats); isinstance; and that builtins and module aliases are the same objects.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "eval.h"
#include "session.h"

typedef struct run {
    pg_session *s;
    pg_status st;
} run;

static run compile_piece(const char *src) {
    size_t n = strlen(src);
    char *full = malloc(n + 64);
    snprintf(full, n + 64, "%s\nrender(ConstPE(0.0))\n", src);
    run r;
    r.s = pg_session_new();
    int root;
    r.st = pg_compile_file(r.s, "t.pg", full, &root);
    free(full);
    return r;
}

// Evaluates `x = expr` and returns x as a double (NaN when it is not a number).
static double eval_num(const char *expr) {
    char src[1024];
    snprintf(src, sizeof src, "x = %s", expr);
    run r = compile_piece(src);
    double x = NAN;
    if (r.st != PG_OK || !eval_global_number(r.s, "x", &x)) {
        const pg_diag *d = pg_session_diag(r.s, 0);
        check_report(__FILE__, __LINE__, expr, d ? d->message : "not a number");
    }
    pg_session_free(r.s);
    return x;
}

static void expect_repr(const char *file, int line, const char *src, const char *want) {
    run r = compile_piece(src);
    char got[2048] = "", detail[3200];
    if (r.st != PG_OK || !eval_global_repr(r.s, "x", got, sizeof got) || strcmp(got, want) != 0) {
        const pg_diag *d = pg_session_diag(r.s, 0);
        snprintf(detail, sizeof detail, "x = %s, want %s (%s)", got, want,
                 r.st != PG_OK && d ? d->message : "");
        check_report(file, line, src, detail);
    } else {
        check_passed++;
    }
    pg_session_free(r.s);
}

#define EXPECT(src, want) expect_repr(__FILE__, __LINE__, src, want)

static void expect_fail(const char *file, int line, const char *src, pg_status st,
                        const char *msg) {
    run r = compile_piece(src);
    const pg_diag *d = pg_session_diag(r.s, 0);
    if (r.st != st || !d || !strstr(d->message, msg)) {
        char detail[1024];
        snprintf(detail, sizeof detail, "status %d \"%s\", want %d \"%s\"", r.st,
                 d ? d->message : "", st, msg);
        check_report(file, line, src, detail);
    } else {
        check_passed++;
    }
    pg_session_free(r.s);
}

#define EXPECT_FAIL(src, st, msg) expect_fail(__FILE__, __LINE__, src, st, msg)

#define CHECK_REL(a, b, rtol) CHECK_NEAR((a), (b), fabs(b) * (rtol))

// pygmu's tests/test_utils.py (assert_allclose, rtol 1e-7).
static void test_pygmu_utils(void) {
    CHECK(eval_num("PHI") == 1.6180339887);
    CHECK(eval_num("ut.PHI") == 1.6180339887);
    CHECK_REL(eval_num("freq_to_nearest_just_freq(440)"), 436.0429329888, 1e-7);
    CHECK_REL(eval_num("freq_to_nearest_renold_freq(440)"), 433.505226, 1e-7);
    CHECK_REL(eval_num("pitch_to_freq(60)"), 261.6255653005986, 1e-7);
    CHECK_REL(eval_num("pitch_to_freq(69, '12TET', 440)"), 440.0, 1e-7);
    CHECK_REL(eval_num("pitch_to_freq(69, '12TET', 432)"), 432.0, 1e-7);
    CHECK_REL(eval_num("pitch_to_freq(69, '12TET', 412.557)"), 412.557, 1e-7);
    CHECK_REL(eval_num("pitch_to_freq(69, 'Just', 440)"), 436.0429329888, 1e-7);
    CHECK_REL(eval_num("pitch_to_freq(69, 'Renold', 440)"), 441.5331008616, 1e-7);
    CHECK_REL(eval_num("pitch_to_freq(57, 'Renold', 440)"), 441.5331008616 / 2, 1e-7);
    CHECK_REL(eval_num("pitch_to_freq(note=69, tuning_system='Just', a_hz=440.0)"), 436.0429329888,
              1e-7);
    // ratio_to_db([100, 10, 1, 0.1, 0.01, 0.001]) = [40, 20, 0, -20, -40, -60] and
    // db_to_ratio is its inverse (6 decimals).
    const double ratios[6] = { 100, 10, 1, 0.1, 0.01, 0.001 };
    const double dbs[6] = { 40, 20, 0, -20, -40, -60 };
    for (int i = 0; i < 6; i++) {
        char e[64];
        snprintf(e, sizeof e, "ratio_to_db(%g)", ratios[i]);
        CHECK_NEAR(eval_num(e), dbs[i], 1e-6);
        snprintf(e, sizeof e, "db_to_ratio(%g)", dbs[i]);
        CHECK_NEAR(eval_num(e), ratios[i], 1e-6);
    }
    EXPECT("x = ratio_to_db([100, 10, 1, 0.1, 0.01, 0.001])",
           "[40.0, 20.0, 0.0, -20.0, -40.0, -60.0]");
}

// The same formulas evaluated by CPython 3.11 (utils.py with math.log2 for np.log2):
// pitch_to_freq(61, 'Just') = 279.0670624742467, pitch_to_freq(70.5) = 479.82340237271336,
// 20 * log10(max(0, RATIO_MIN)) = -758.5955887098517, 20 * log10(64 / 127).
static void test_music_helpers(void) {
    CHECK(eval_num("pitch_to_freq(61, 'Just')") == 279.0670624742467);
    CHECK(eval_num("pitch_to_freq(70.5)") == 479.82340237271336);
    CHECK(eval_num("mtof(60)") == 261.6255653005986);
    CHECK(eval_num("mtof(69)") == 440.0);
    CHECK(eval_num("ftom(880)") == 81.0);
    CHECK(eval_num("freq_to_pitch(440)") == 69.0);
    CHECK(eval_num("ftom(261.6255653005986)") == 60.0);
    CHECK(eval_num("ratio_to_db(0)") == -758.5955887098517);
    CHECK(eval_num("ratio_to_db(-3)") == -758.5955887098517);
    CHECK(eval_num("RATIO_MIN") == 1.1754944e-38);
    CHECK(eval_num("db_to_ratio(-6)") == 0.5011872336272722);
    CHECK(eval_num("velocity_to_db(64)") == -5.9524749394413945);
    CHECK(eval_num("velocity_to_db(127)") == 0.0);
    CHECK(isinf(eval_num("velocity_to_db(0)")) && eval_num("velocity_to_db(0)") < 0);
    // lerp(x, x0, x1, y0, y1) = y0 + (x - x0)(y1 - y0)/(x1 - x0); clamp(lo, x, hi).
    EXPECT("x = [lerp(5, 0, 10, 100, 200), lerp(0.25, 0, 1, -1, 1), clamp(0, -1, 10), "
           "clamp(0, 5, 10), clamp(0, 11, 10), clamp(0.0, 0.5, 1.0), sign(-3), sign(0), "
           "sign(2.5)]",
           "[150.0, -0.5, 0, 5, 10, 0.5, -1, 0, 1]");
    // stof(s) = int(s * 48000); midi_to_note(p) = names[p % 12] + str(p // 12 - 1).
    EXPECT("x = [stof(1.5), stof(1), stof(0.00001), midi_to_note(60), midi_to_note(61), "
           "midi_to_note(0), midi_to_note(127), ut.FRAME_RATE]",
           "[72000, 48000, 0, 'C4', 'Db4', 'C-1', 'G9', 48000]");
    EXPECT_FAIL("x = lerp(1, 2, 2, 0, 1)", PG_ERR_ARG, "division by zero");
}

// math: results as Python's math module (floor/ceil/trunc give ints; the domain and range
// errors are ValueError / OverflowError there, PG_ERR_ARG here).
static void test_math(void) {
    EXPECT("x = [floor(2.5), ceil(2.5), floor(-2.5), ceil(-0.5), trunc(-2.7), floor(7), "
           "math.pow(2, 3), pow(2, 3), pow(2, 0.5), log(e), log(100, 10), log2(8), "
           "sqrt(2), exp(1), factorial(10), gcd(12, 18, 8), isnan(nan), isinf(-inf)]",
           "[2, 3, -3, 0, -2, 7, 8.0, 8, 1.4142135623730951, 1.0, 2.0, 3.0, "
           "1.4142135623730951, 2.718281828459045, 3628800, 2, True, True]");
    EXPECT("x = [sin(0), cos(pi), tan(0), asin(1), atan2(0, -1), hypot(3, 4), degrees(pi / 2), "
           "radians(90), copysign(3, -1), fmod(-7, 3), fabs(-2), isclose(0.1 + 0.2, 0.3), "
           "tau, e, pi]",
           "[0.0, -1.0, 0.0, 1.5707963267948966, 3.141592653589793, 5.0, 90.0, "
           "1.5707963267948966, -3.0, -1.0, 2.0, True, 6.283185307179586, 2.718281828459045, "
           "3.141592653589793]");
    EXPECT_FAIL("x = log(0)", PG_ERR_ARG, "math domain error");
    EXPECT_FAIL("x = log(-1)", PG_ERR_ARG, "math domain error");
    EXPECT_FAIL("x = acos(2)", PG_ERR_ARG, "math domain error");
    EXPECT_FAIL("x = exp(1000)", PG_ERR_ARG, "math range error");
    EXPECT_FAIL("x = math.pow(-8, 1 / 3)", PG_ERR_ARG, "math domain error");
    EXPECT_FAIL("x = (-8) ** (1 / 3)", PG_ERR_ARG, "negative number cannot be raised");
    EXPECT_FAIL("x = floor(inf)", PG_ERR_ARG, "cannot convert float infinity to integer");
    EXPECT_FAIL("x = round(nan)", PG_ERR_ARG, "cannot convert float NaN to integer");
    EXPECT_FAIL("x = sin('a')", PG_ERR_ARG, "must be a number");
    EXPECT_FAIL("x = sin(1, 2)", PG_ERR_ARG, "sin() takes exactly 1 argument (2 given)");
}

// str() of floats is Python's shortest round-trip repr: exponent form below 1e-4 and from
// 1e16 on, ".0" on integral values.
static void test_float_text(void) {
    EXPECT("x = [str(0.1), str(1e-05), str(1e+16), str(1e15), str(inf), str(-inf), str(nan), "
           "str(0.0001), str(123456789.123), str(1/3), str(2.0 ** 70), str(5e-324), "
           "str(1.7976931348623157e308), str(-0.0), str(100.0)]",
           "['0.1', '1e-05', '1e+16', '1000000000000000.0', 'inf', '-inf', 'nan', '0.0001', "
           "'123456789.123', '0.3333333333333333', '1.1805916207174113e+21', '5e-324', "
           "'1.7976931348623157e+308', '-0.0', '100.0']");
}

static void test_types(void) {
    EXPECT("x = [isinstance(1, int), isinstance(True, int), isinstance(True, bool), "
           "isinstance(1.0, int), isinstance(1.0, (int, float)), isinstance('s', str), "
           "isinstance([], list), isinstance([], tuple), isinstance((), tuple), "
           "isinstance(Extent(), Extent), callable(len), callable(3), callable(SinPE)]",
           "[True, True, True, False, True, True, True, False, True, True, True, False, True]");
    EXPECT("x = [len, abs(-2), chr(65), ord('A'), hex(255), bin(5), repr(None), bool(range(0))]",
           "[<built-in function len>, 2, 'A', 65, '0xff', '0b101', 'None', False]");
    EXPECT_FAIL("x = isinstance(1, 2)", PG_ERR_ARG, "isinstance() arg 2 must be a type");
    EXPECT_FAIL("x = len()", PG_ERR_ARG, "len() takes exactly 1 argument (0 given)");
    EXPECT_FAIL("x = sorted([1], foo=2)", PG_ERR_ARG, "unexpected keyword argument 'foo'");
    EXPECT_FAIL("x = max([])", PG_ERR_ARG, "max() arg is an empty sequence");
    EXPECT_FAIL("x = choice([])", PG_ERR_ARG, "Cannot choose from an empty sequence");
    EXPECT_FAIL("x = randrange(0)", PG_ERR_ARG, "empty range for randrange()");
    EXPECT_FAIL("x = randrange(0, 10, 0)", PG_ERR_ARG, "zero step for randrange()");
    EXPECT_FAIL("x = randrange(1.5)", PG_ERR_ARG, "non-integer arg 1 for randrange()");
}

// print() writes where pg_session_set_print says (stderr by default; NULL: nowhere).
static void test_print(void) {
    FILE *f = tmpfile();
    CHECK(f != NULL);
    if (!f)
        return;
    pg_session *s = pg_session_new();
    pg_session_set_print(s, f);
    int root;
    CHECK_STATUS(pg_compile_file(s, "t.pg",
                                 "print('a', 1, sep='-')\nprint(2.5, end='!')\n"
                                 "x = pitch_to_freq(60, 'Pythagorean')\n"
                                 "render(ConstPE(0.0))\n",
                                 &root),
                 PG_OK);
    pg_session_free(s);
    char buf[256] = "";
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    CHECK(strcmp(buf, "a-1\n2.5!Unknown tuning system. Pythagorean  - sticking with 12TET.\n") ==
          0);
    // Silenced: nothing reaches f.
    s = pg_session_new();
    pg_session_set_print(s, NULL);
    CHECK_STATUS(pg_compile_file(s, "t.pg", "print('quiet')\nrender(ConstPE(0.0))\n", &root),
                 PG_OK);
    pg_session_free(s);
    CHECK_EQ_I64(ftell(f), (long)n);
    fclose(f);
}

// Writes bytes to dir/name; returns 1 on success.
static int write_bytes(const char *dir, const char *name, const unsigned char *b, size_t n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    int ok = fwrite(b, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

// Compiles src as dir/t.pg; returns repr(x) in out.
static pg_status compile_in(const char *dir, const char *src, char *out, size_t size) {
    char path[512];
    snprintf(path, sizeof path, "%s/t.pg", dir);
    pg_session *s = pg_session_new();
    int root;
    pg_status st = pg_compile_file(s, path, src, &root);
    if (st == PG_OK)
        eval_global_repr(s, "x", out, size);
    else
        snprintf(out, size, "%s", pg_session_diag(s, 0)->message);
    pg_session_free(s);
    return st;
}

// Note(...) is pygmu's Note as a tuple; get_notes_from_midi reads a file beside the piece;
// NotesPE takes a list of Notes as its rows x 4 note_list.
static void test_notes(void) {
    EXPECT("x = [Note(0, 1, 60), Note(offset=2, duration=0.5, pitch=72, velocity=64)]",
           "[(0, 1, 60, 100), (2, 0.5, 72, 64)]");
    EXPECT_FAIL("x = Note(0, 1)", PG_ERR_ARG, "Note() missing required argument 'pitch'");
    EXPECT_FAIL("x = Note(0, 1, 'C4')", PG_ERR_ARG, "Note() pitch must be a number, not 'str'");
    EXPECT_FAIL("x = get_notes_from_midi(3)", PG_ERR_ARG, "path must be a str, not 'int'");
    EXPECT_FAIL("x = get_notes_from_midi('no-such.mid')", PG_ERR_FILE,
                "get_notes_from_midi(): cannot open MIDI file 'no-such.mid'");
    // A note list of Notes becomes NotesPE's 2 x 4 array: IdentityPE at 8 Hz, tempo 120,
    // so one beat is 4 frames; Note(0, 1, 60, 127) plays frames 0..3 at vol .24 (catalogue).
    EXPECT("n = NotesPE(IdentityPE(frame_rate=8).crop(Extent(0, 100)), "
           "[Note(0, 1, 60, 127), Note(2, 0.5, 72, 64)])\nx = n.extent()",
           "Extent(0, 10)");
    // A format-0 file, 480 ticks per quarter: C4 (velocity 90) from tick 0 to 240 and E4
    // (velocity 100) from 480 to 1440, i.e. (0, 0.5) and (1, 2) in beats.
    static const unsigned char mid[] = {
        'M', 'T',  'h',  'd',  0,  0,   0,    6,    0,    0,  0,  1,    0x01, 0xE0, 'M',
        'T', 'r',  'k',  0,    0,  0,   23,   0x00, 0x90, 60, 90, 0x81, 0x70, 0x80, 60,
        0,   0x81, 0x70, 0x90, 64, 100, 0x87, 0x40, 0x80, 64, 0,  0x00, 0xFF, 0x2F, 0x00,
    };
    char tmpl[] = "/tmp/pg-notes-XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK(dir != NULL);
    if (!dir)
        return;
    CHECK(write_bytes(dir, "two.mid", mid, sizeof mid));
    CHECK(write_bytes(dir, "bad.mid", mid, 30)); // cut inside the track
    char out[512];
    CHECK_STATUS(compile_in(dir, "x = get_notes_from_midi('two.mid')\nrender(ConstPE(0.0))\n", out,
                            sizeof out),
                 PG_OK);
    CHECK(strcmp(out, "[(0.0, 0.5, 60, 90), (1.0, 2.0, 64, 100)]") == 0);
    CHECK_STATUS(compile_in(dir, "x = get_notes_from_midi('bad.mid')\n", out, sizeof out),
                 PG_ERR_FILE);
    CHECK(strstr(out, "get_notes_from_midi(): ") == out);
    char path[512];
    snprintf(path, sizeof path, "%s/two.mid", dir);
    remove(path);
    snprintf(path, sizeof path, "%s/bad.mid", dir);
    remove(path);
    remove(dir);
    // The piece's file (pieces/midi/frere_jacques.mid, made by make_midi.py): 36 notes, the
    // first a C4 of 84/96 beats at velocity 96, the last a G4 in the closing chord at beat 32.
    const char *root = getenv("PG_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/pieces/midi", root ? root : ".");
    CHECK_STATUS(compile_in(path,
                            "n = get_notes_from_midi('frere_jacques.mid')\n"
                            "x = [len(n), n[0], n[-1]]\nrender(ConstPE(0.0))\n",
                            out, sizeof out),
                 PG_OK);
    CHECK(strcmp(out, "[36, (0.0, 0.875, 60, 96), (32.0, 4.0, 67, 80)]") == 0);
}

int main(void) {
    test_print();
    test_notes();
    test_pygmu_utils();
    test_music_helpers();
    test_math();
    test_float_text();
    test_types();
    return check_done();
}
