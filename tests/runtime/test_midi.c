// test_midi.c: the Standard MIDI File reader (runtime/midi.c): notes of a hand-assembled
// file (running status, note-on velocity 0 as note-off, chords, overlapping notes of one
// pitch, a note left open at the track's end, meta and sysex events, an unknown chunk),
// the errors of damaged files, and a fixed-seed mutation run: never a crash, never a read
// outside the buffer (the sanitizer build checks that), only well-formed notes.
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "midi.h"

typedef struct buf {
    unsigned char d[1024];
    size_t n;
} buf;

static void put(buf *b, const unsigned char *x, size_t n) {
    memcpy(b->d + b->n, x, n);
    b->n += n;
}

static void put_be32(buf *b, size_t v) {
    unsigned char x[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
                           (unsigned char)(v >> 8), (unsigned char)v };
    put(b, x, 4);
}

// Appends a chunk: 4-byte id, big-endian length, data.
static void chunk(buf *b, const char *id, const unsigned char *data, size_t n) {
    put(b, (const unsigned char *)id, 4);
    put_be32(b, n);
    put(b, data, n);
}

// Track 0 (channel 0), ticks at division 480:
//   0: on 60 v100   480: off 60 (0x80)   480: on 64 v90 (running status)
//   960: on 64 v0 (a note-off by running status)   960: chord on 60 64 67 v80
//   1440: chord off   1440: on 50 v10, 1540: on 50 v20, 1640: off 50, 1740: off 50
//   with a tempo meta, a sysex and a track name; end of track at 2000 leaves 72 (on at
//   1900) open: it ends at 2000.
// clang-format off
static const unsigned char track0[] = {
    0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20, // tempo
    0x00, 0xFF, 0x03, 0x03, 'P', 'n', 'o',    // track name
    0x00, 0x90, 60, 100,                      // 0: on 60
    0x83, 0x60, 0x80, 60, 0,                  // 480: off 60
    0x00, 0x90, 64, 90,                       // 480: on 64
    0x83, 0x60, 64, 0,                        // 960: running status, velocity 0: off 64
    0x00, 60, 80, 0x00, 64, 80, 0x00, 67, 80, // 960: chord (running status)
    0x00, 0xF0, 0x02, 0x7E, 0xF7,             // sysex (cancels running status)
    0x83, 0x60, 0x80, 60, 0, 0x00, 0x80, 64, 0, 0x00, 0x80, 67, 0, // 1440: chord off
    0x00, 0x90, 50, 10,                       // 1440: on 50 v10
    0x64, 0x90, 50, 20,                       // 1540: on 50 v20
    0x64, 0x80, 50, 0,                        // 1640: off (the first 50)
    0x64, 0x80, 50, 0,                        // 1740: off (the second 50)
    0x81, 0x20, 0x90, 72, 127,                // 1900: on 72
    0x64, 0xFF, 0x2F, 0x00,                   // 2000: end of track
};
// clang-format on

// Track 1 (channel 1): on 72 at 240, off at 720 (0x81), program change and pitch bend.
// clang-format off
static const unsigned char track1[] = {
    0x00, 0xC1, 5,            // program change: one data byte
    0x81, 0x70, 0x91, 72, 64, // 240: on 72
    0x00, 0xE1, 0, 64,        // pitch bend
    0x83, 0x60, 0x81, 72, 0,  // 720: off
    0x00, 0xFF, 0x2F, 0x00,
};
// clang-format on

static buf valid_file(void) {
    buf b = { .n = 0 };
    static const unsigned char hdr[] = { 0, 1, 0, 2, 0x01, 0xE0 }; // format 1, 2 tracks, 480
    chunk(&b, "MThd", hdr, sizeof hdr);
    chunk(&b, "MTrk", track0, sizeof track0);
    static const unsigned char junk[] = { 1, 2, 3 };
    chunk(&b, "XFIH", junk, sizeof junk); // an unknown chunk: skipped
    chunk(&b, "MTrk", track1, sizeof track1);
    return b;
}

typedef struct want_note {
    double off, dur;
    int pitch, vel, ch, track;
} want_note;

static void test_valid(void) {
    static const want_note want[] = {
        { 0, 1, 60, 100, 0, 0 },
        { 1, 1, 64, 90, 0, 0 },
        { 2, 1, 60, 80, 0, 0 },
        { 2, 1, 64, 80, 0, 0 },
        { 2, 1, 67, 80, 0, 0 },
        { 3, 200.0 / 480, 50, 10, 0, 0 },
        { 1540.0 / 480, 200.0 / 480, 50, 20, 0, 0 },
        { 1900.0 / 480, 100.0 / 480, 72, 127, 0, 0 },
        { 0.5, 1, 72, 64, 1, 1 },
    };
    buf b = valid_file();
    midi_notes m;
    char err[200];
    CHECK_STATUS(midi_parse(b.d, b.n, &m, err, sizeof err), PG_OK);
    CHECK_EQ_I64(m.format, 1);
    CHECK_EQ_I64(m.division, 480);
    CHECK_EQ_I64(m.count, 9);
    for (size_t i = 0; i < 9 && i < m.count; i++) {
        CHECK_NEAR(m.notes[i].offset_beats, want[i].off, 1e-12);
        CHECK_NEAR(m.notes[i].duration_beats, want[i].dur, 1e-12);
        CHECK_EQ_I64(m.notes[i].pitch, want[i].pitch);
        CHECK_EQ_I64(m.notes[i].velocity, want[i].vel);
        CHECK_EQ_I64(m.notes[i].channel, want[i].ch);
        CHECK_EQ_I64(m.notes[i].track, want[i].track);
    }
    midi_free(&m);
    CHECK(m.notes == NULL && m.count == 0);
    midi_free(NULL);
    // the same through a file
    char path[] = "/tmp/pg_midi_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "wb");
    fwrite(b.d, 1, b.n, f);
    fclose(f);
    CHECK_STATUS(midi_read_file(path, &m, err, sizeof err), PG_OK);
    CHECK_EQ_I64(m.count, 9);
    midi_free(&m);
    remove(path);
    CHECK_STATUS(midi_read_file("/nonexistent/x.mid", &m, err, sizeof err), PG_ERR_FILE);
}

// Parses b with byte i set to v (i < 0: unchanged), truncated to n bytes.
static pg_status parse_changed(long i, unsigned char v, size_t n, char *err) {
    buf b = valid_file();
    if (i >= 0)
        b.d[i] = v;
    midi_notes m;
    pg_status st = midi_parse(b.d, n < b.n ? n : b.n, &m, err, 200);
    midi_free(&m);
    return st;
}

static void test_errors(void) {
    char err[200];
    CHECK_STATUS(parse_changed(0, 'R', 9999, err), PG_ERR_FILE); // not "MThd"
    CHECK(strstr(err, "not a Standard MIDI File") != NULL);
    CHECK_STATUS(parse_changed(9, 3, 9999, err), PG_ERR_FILE);     // format 3
    CHECK_STATUS(parse_changed(12, 0xE7, 9999, err), PG_ERR_FILE); // SMPTE division
    CHECK(strstr(err, "SMPTE") != NULL);
    CHECK_STATUS(parse_changed(-1, 0, 30, err), PG_ERR_FILE); // a truncated chunk
    CHECK(strstr(err, "truncated") != NULL);
    CHECK_STATUS(parse_changed(-1, 0, 10, err), PG_ERR_FILE); // a truncated header
    // the first event's status byte (track data at 22, tempo meta's 0xFF at 23) as a data byte
    CHECK_STATUS(parse_changed(23, 0x10, 9999, err), PG_ERR_FILE);
    CHECK(strstr(err, "without status") != NULL);
    CHECK_STATUS(parse_changed(23, 0xF4, 9999, err), PG_ERR_FILE); // undefined status
    CHECK_STATUS(parse_changed(25, 0xFF, 9999, err), PG_ERR_FILE); // meta length runs off
    midi_notes m;
    CHECK_STATUS(midi_parse(NULL, 0, &m, err, sizeof err), PG_ERR_FILE);
    CHECK_STATUS(midi_parse((const unsigned char *)"", 0, &m, NULL, 0), PG_ERR_FILE);
    static const unsigned char div0[] = { 'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0, 0 };
    CHECK_STATUS(midi_parse(div0, sizeof div0, &m, err, sizeof err), PG_ERR_FILE); // division 0
    // a header alone: no tracks, no notes
    static const unsigned char hdr[] = { 'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0, 96 };
    CHECK_STATUS(midi_parse(hdr, sizeof hdr, &m, err, sizeof err), PG_OK);
    CHECK_EQ_I64(m.count, 0);
    midi_free(&m);
}

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint32_t next_rand(void) { // xorshift64*
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 2685821657736338717u) >> 32);
}

// One random damage: flip a bit, set a byte, truncate, insert bytes or duplicate a run.
static void mutate(buf *b) {
    size_t at = b->n ? next_rand() % b->n : 0;
    switch (next_rand() % 5) {
    case 0:
        if (b->n)
            b->d[at] ^= (unsigned char)(1u << (next_rand() % 8));
        break;
    case 1:
        if (b->n)
            b->d[at] = (unsigned char)next_rand();
        break;
    case 2:
        b->n = at;
        break;
    case 3: {
        size_t k = 1 + next_rand() % 8;
        if (b->n + k > sizeof b->d)
            break;
        memmove(b->d + at + k, b->d + at, b->n - at);
        for (size_t i = 0; i < k; i++)
            b->d[at + i] = (unsigned char)next_rand();
        b->n += k;
        break;
    }
    default: {
        size_t k = 1 + next_rand() % 16;
        if (at + k > b->n || b->n + k > sizeof b->d)
            break;
        memmove(b->d + at + k, b->d + at, b->n - at);
        b->n += k;
        break;
    }
    }
}

// 30,000 damaged files: each parse ends with a status, and any notes it gives are sane.
static void test_fuzz(void) {
    int ok = 0, failed = 0, insane = 0;
    for (int iter = 0; iter < 30000; iter++) {
        buf b = valid_file();
        int k = 1 + (int)(next_rand() % 8);
        for (int i = 0; i < k; i++)
            mutate(&b);
        midi_notes m;
        char err[200];
        pg_status st = midi_parse(b.d, b.n, &m, err, sizeof err);
        if (st != PG_OK) {
            failed++;
            insane += st != PG_ERR_FILE && st != PG_ERR_LIMIT;
            insane += m.notes != NULL || m.count != 0 || err[0] == '\0';
            continue;
        }
        ok++;
        for (size_t i = 0; i < m.count; i++) {
            const midi_note *x = &m.notes[i];
            insane += x->pitch < 0 || x->pitch > 127 || x->velocity < 1 || x->velocity > 127 ||
                      x->channel < 0 || x->channel > 15 || !(x->offset_beats >= 0) ||
                      !(x->duration_beats >= 0) || x->track < 0;
        }
        midi_free(&m);
    }
    CHECK_EQ_I64(insane, 0);
    CHECK(ok > 1000);     // the damage often leaves a readable file...
    CHECK(failed > 1000); // ...and often does not
}

int main(void) {
    test_valid();
    test_errors();
    test_fuzz();
    return check_done();
}
