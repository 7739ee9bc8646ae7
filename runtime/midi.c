// midi.c: the Standard MIDI File reader behind get_notes_from_midi (see midi.h). Every read
// goes through a bounded cursor, so a damaged file gives PG_ERR_FILE, never a read outside
// the buffer; notes pair note-ons with note-offs (or note-ons of velocity 0) first in, first
// out per channel and pitch, and notes still sounding at a track's end stop there.
#include "midi.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    KEYS = 16 * 128, // (channel, pitch) pairs
};

#define MIDI_MAX_TICK 9007199254740992.0 // 2^53: tick counts stay exact in a double

typedef struct cursor { // reads data[pos, end)
    const unsigned char *data;
    size_t pos, end;
} cursor;

typedef struct parser {
    midi_notes *out;
    size_t cap;
    uint64_t *on_tick;              // per note: its note-on tick
    int32_t *next;                  // per note: the next open note of its key, or -1
    int32_t head[KEYS], tail[KEYS]; // open notes per key, oldest first (-1: none)
    char *err;
    size_t err_size;
} parser;

static pg_status fail(parser *ps, pg_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static pg_status fail(parser *ps, pg_status st, const char *fmt, ...) {
    if (ps->err && ps->err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->err, ps->err_size, fmt, ap);
        va_end(ap);
    }
    return st;
}

static int get_u8(cursor *c, unsigned *v) {
    if (c->pos >= c->end)
        return 0;
    *v = c->data[c->pos++];
    return 1;
}

static int get_be(cursor *c, int bytes, uint32_t *v) {
    if (c->end - c->pos < (size_t)bytes)
        return 0;
    *v = 0;
    for (int i = 0; i < bytes; i++)
        *v = *v << 8 | c->data[c->pos++];
    return 1;
}

// A variable-length quantity: at most 4 bytes of 7 bits, the last without bit 7.
static int get_vlq(cursor *c, uint32_t *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned b;
        if (!get_u8(c, &b))
            return 0;
        *v = *v << 7 | (b & 0x7f);
        if (!(b & 0x80))
            return 1;
    }
    return 0;
}

static int skip(cursor *c, uint32_t n) {
    if (c->end - c->pos < n)
        return 0;
    c->pos += n;
    return 1;
}

static pg_status grow(parser *ps) {
    if (ps->out->count < ps->cap)
        return PG_OK;
    if (ps->cap >= MIDI_MAX_NOTES)
        return fail(ps, PG_ERR_LIMIT, "MIDI file has more than %d notes", MIDI_MAX_NOTES);
    size_t cap = ps->cap ? 2 * ps->cap : 256;
    midi_note *n = realloc(ps->out->notes, cap * sizeof *n);
    if (n)
        ps->out->notes = n;
    uint64_t *t = n ? realloc(ps->on_tick, cap * sizeof *t) : NULL;
    if (t)
        ps->on_tick = t;
    int32_t *x = t ? realloc(ps->next, cap * sizeof *x) : NULL;
    if (!x)
        return fail(ps, PG_ERR_NOMEM, "out of memory reading a MIDI file");
    ps->next = x;
    ps->cap = cap;
    return PG_OK;
}

static pg_status note_on(parser *ps, int track, int ch, int pitch, int vel, uint64_t tick) {
    pg_status st = grow(ps);
    if (st != PG_OK)
        return st;
    size_t i = ps->out->count++;
    int key = ch * 128 + pitch;
    ps->out->notes[i] = (midi_note){ (double)tick / ps->out->division, 0.0, pitch, vel, ch, track };
    ps->on_tick[i] = tick;
    ps->next[i] = -1;
    if (ps->tail[key] >= 0)
        ps->next[ps->tail[key]] = (int32_t)i;
    else
        ps->head[key] = (int32_t)i;
    ps->tail[key] = (int32_t)i;
    return PG_OK;
}

// Ends the oldest open note of the key (a note-off with none open is ignored).
static void note_off(parser *ps, int key, uint64_t tick) {
    int32_t i = ps->head[key];
    if (i < 0)
        return;
    ps->out->notes[i].duration_beats = (double)(tick - ps->on_tick[i]) / ps->out->division;
    ps->head[key] = ps->next[i];
    if (ps->head[key] < 0)
        ps->tail[key] = -1;
}

static void close_all(parser *ps, uint64_t tick) {
    for (int key = 0; key < KEYS; key++)
        while (ps->head[key] >= 0)
            note_off(ps, key, tick);
}

// A channel message whose status is known; reads its data bytes from c.
static pg_status channel_msg(parser *ps, cursor *c, int track, unsigned status, uint64_t tick) {
    unsigned kind = status & 0xf0, d[2] = { 0, 0 };
    int need = kind == 0xc0 || kind == 0xd0 ? 1 : 2;
    for (int i = 0; i < need; i++)
        if (!get_u8(c, &d[i]) || d[i] > 0x7f)
            return fail(ps, PG_ERR_FILE, "malformed MIDI file: bad channel message at byte %zu",
                        c->pos);
    int ch = (int)(status & 0x0f), pitch = (int)d[0], vel = (int)d[1];
    if (kind == 0x90 && vel > 0)
        return note_on(ps, track, ch, pitch, vel, tick);
    if (kind == 0x80 || kind == 0x90)
        note_off(ps, ch * 128 + pitch, tick);
    return PG_OK;
}

// Meta (0xFF type len data) and sysex (0xF0 / 0xF7 len data) events; *end at end of track.
static pg_status skip_event(parser *ps, cursor *c, unsigned status, int *end) {
    unsigned type = 0;
    uint32_t len;
    if (status == 0xff && !get_u8(c, &type))
        return fail(ps, PG_ERR_FILE, "malformed MIDI file: truncated meta event");
    if (!get_vlq(c, &len) || !skip(c, len))
        return fail(ps, PG_ERR_FILE, "malformed MIDI file: bad event length at byte %zu", c->pos);
    *end = status == 0xff && type == 0x2f;
    return PG_OK;
}

// One MTrk chunk's events (c spans exactly the chunk's data).
static pg_status parse_track(parser *ps, cursor *c, int track) {
    uint64_t tick = 0;
    unsigned status = 0; // running status (0: none)
    int end = 0;
    while (!end && c->pos < c->end) {
        uint32_t delta;
        unsigned b;
        if (!get_vlq(c, &delta) || !get_u8(c, &b))
            return fail(ps, PG_ERR_FILE, "malformed MIDI file: truncated event in track %d", track);
        tick += delta;
        if ((double)tick > MIDI_MAX_TICK)
            return fail(ps, PG_ERR_LIMIT, "MIDI track %d is too long", track);
        pg_status st = PG_OK;
        if (b < 0x80) { // running status: b is the first data byte
            if (!status)
                return fail(ps, PG_ERR_FILE, "malformed MIDI file: byte %zu: data without status",
                            c->pos - 1);
            c->pos--;
            st = channel_msg(ps, c, track, status, tick);
        } else if (b == 0xff || b == 0xf0 || b == 0xf7) {
            status = 0; // meta and sysex events cancel running status
            st = skip_event(ps, c, b, &end);
        } else if (b > 0xf0) {
            return fail(ps, PG_ERR_FILE, "malformed MIDI file: status byte 0x%02X at byte %zu", b,
                        c->pos - 1);
        } else {
            status = b;
            st = channel_msg(ps, c, track, status, tick);
        }
        if (st != PG_OK)
            return st;
    }
    close_all(ps, tick);
    return PG_OK;
}

// "MThd": format, track count, division (ticks per quarter note; SMPTE time is refused).
static pg_status parse_header(parser *ps, cursor *c) {
    uint32_t id, len, format, ntrks, division;
    if (!get_be(c, 4, &id) || id != 0x4d546864 || !get_be(c, 4, &len) || len < 6 ||
        !get_be(c, 2, &format) || !get_be(c, 2, &ntrks) || !get_be(c, 2, &division) ||
        !skip(c, len - 6))
        return fail(ps, PG_ERR_FILE, "not a Standard MIDI File (no valid MThd header)");
    if (format > 2)
        return fail(ps, PG_ERR_FILE, "malformed MIDI file: format %u", (unsigned)format);
    if (division & 0x8000)
        return fail(ps, PG_ERR_FILE, "MIDI files with SMPTE time division are not supported");
    if (division == 0)
        return fail(ps, PG_ERR_FILE, "malformed MIDI file: division 0");
    ps->out->format = (int)format;
    ps->out->division = (int)division;
    return PG_OK;
}

// The chunks after the header: MTrk chunks are tracks, others are skipped; fewer than 8
// trailing bytes (padding some writers add) are ignored.
static pg_status parse_chunks(parser *ps, cursor *c) {
    int track = 0;
    while (c->end - c->pos >= 8) {
        uint32_t id = 0, len = 0;
        get_be(c, 4, &id); // 8 bytes are there: neither read fails
        get_be(c, 4, &len);
        if (c->end - c->pos < len)
            return fail(ps, PG_ERR_FILE, "malformed MIDI file: chunk %d is truncated", track);
        cursor chunk = { c->data, c->pos, c->pos + len };
        c->pos += len;
        if (id != 0x4d54726b) // "MTrk"
            continue;
        for (int k = 0; k < KEYS; k++)
            ps->head[k] = ps->tail[k] = -1;
        pg_status st = parse_track(ps, &chunk, track++);
        if (st != PG_OK)
            return st;
    }
    return PG_OK;
}

pg_status midi_parse(const unsigned char *data, size_t size, midi_notes *out, char *err,
                     size_t err_size) {
    parser ps = { .out = out, .err = err, .err_size = err_size };
    memset(out, 0, sizeof *out);
    if (err && err_size)
        err[0] = '\0';
    if (size > MIDI_MAX_BYTES)
        return fail(&ps, PG_ERR_LIMIT, "MIDI file is larger than %d bytes", MIDI_MAX_BYTES);
    cursor c = { data, 0, data ? size : 0 };
    pg_status st = parse_header(&ps, &c);
    if (st == PG_OK)
        st = parse_chunks(&ps, &c);
    free(ps.on_tick);
    free(ps.next);
    if (st != PG_OK)
        midi_free(out);
    return st;
}

pg_status midi_read_file(const char *path, midi_notes *out, char *err, size_t err_size) {
    parser ps = { .out = out, .err = err, .err_size = err_size };
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(&ps, PG_ERR_FILE, "cannot open MIDI file '%s'", path);
    size_t cap = 1 << 16, size = 0;
    unsigned char *buf = malloc(cap);
    while (buf && size <= MIDI_MAX_BYTES) {
        size += fread(buf + size, 1, cap - size, f);
        if (size < cap)
            break;
        unsigned char *more = realloc(buf, cap * 2);
        if (!more)
            free(buf);
        buf = more;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf)
        return fail(&ps, PG_ERR_NOMEM, "out of memory reading MIDI file '%s'", path);
    pg_status st = bad ? fail(&ps, PG_ERR_FILE, "cannot read MIDI file '%s'", path)
                       : midi_parse(buf, size, out, err, err_size);
    free(buf);
    return st;
}

void midi_free(midi_notes *m) {
    if (!m)
        return;
    free(m->notes);
    memset(m, 0, sizeof *m);
}
