// midi.h: a small, bounds-checked reader of Standard MIDI Files (format 0, 1 and 2) for
// get_notes_from_midi: the notes of every track as (offset, duration) in quarter notes,
// pitch, velocity, channel and track. Tempo and time-signature events are ignored (NotesPE
// applies its own tempo, as pygmu's music21-based reader does). Pure parsing: no globals.
#ifndef PG_RUNTIME_MIDI_H
#define PG_RUNTIME_MIDI_H

#include <stddef.h>

#include "pygmu.h"

typedef struct midi_note {
    double offset_beats;   // note-on time, in quarter notes from the file's start
    double duration_beats; // note-off minus note-on, in quarter notes (>= 0)
    int pitch;             // MIDI note number, 0..127
    int velocity;          // note-on velocity, 1..127
    int channel;           // 0..15
    int track;             // index of its MTrk chunk, from 0
} midi_note;

typedef struct midi_notes {
    midi_note *notes; // in track order, then note-on order (so by offset within a track)
    size_t count;
    int format;   // the header's format (0, 1 or 2)
    int division; // ticks per quarter note
} midi_notes;

enum {
    MIDI_MAX_BYTES = 64 << 20, // larger files are refused (PG_ERR_LIMIT)
    MIDI_MAX_NOTES = 1 << 22,  // more notes are refused (PG_ERR_LIMIT)
};

// Parses the SMF held in data[0, size). On success fills *out (free it with midi_free) and
// returns PG_OK; on error returns PG_ERR_FILE (malformed, SMPTE time), PG_ERR_LIMIT or
// PG_ERR_NOMEM with a message in err (err_size bytes, may be 0). Never reads outside data.
// Thread-safe.
pg_status midi_parse(const unsigned char *data, size_t size, midi_notes *out, char *err,
                     size_t err_size);

// Reads and parses the file at path (PG_ERR_FILE when it cannot be read).
pg_status midi_read_file(const char *path, midi_notes *out, char *err, size_t err_size);

// Releases what midi_parse filled in; leaves *m empty. NULL or an empty *m is a no-op.
void midi_free(midi_notes *m);

#endif // PG_RUNTIME_MIDI_H
