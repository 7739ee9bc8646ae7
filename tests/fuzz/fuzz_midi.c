// fuzz_midi.c: a libFuzzer target for the Standard MIDI File reader (runtime/midi.c) on any
// bytes: it must return a status, never crash or read out of bounds. Built with
// -DPG_FUZZ=ON (clang); seeds: pieces/midi/*.mid.
#include <stddef.h>
#include <stdint.h>

#include "midi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    midi_notes notes;
    char err[256];
    if (midi_parse(data, size, &notes, err, sizeof err) == PG_OK)
        midi_free(&notes);
    return 0;
}
