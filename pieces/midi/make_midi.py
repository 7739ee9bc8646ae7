#!/usr/bin/env python3
# make_midi.py: writes frere_jacques.mid, the tiny Standard MIDI File that midi_melody.pg
# plays. Deterministic (no timestamps, no randomness): running it again gives the same bytes.
# Format 0, one track, 96 ticks per quarter note; a tempo event (120 bpm) and a track name,
# which pygmuc's reader skips; note-offs written as note-on with velocity 0 under running
# status, as most sequencers do. Usage: python3 make_midi.py [OUT.mid]
import struct
import sys

DIVISION = 96  # ticks per quarter note
GAP = 12       # ticks of silence before the next note (detached playing)

# "Frere Jacques" (traditional), in C: (pitch, beats, velocity); pitch None is a rest.
TUNE = [
    (60, 1, 96), (62, 1, 80), (64, 1, 80), (60, 1, 80),
    (60, 1, 96), (62, 1, 80), (64, 1, 80), (60, 1, 80),
    (64, 1, 96), (65, 1, 80), (67, 2, 88),
    (64, 1, 96), (65, 1, 80), (67, 2, 88),
    (67, 0.5, 96), (69, 0.5, 72), (67, 0.5, 80), (65, 0.5, 72), (64, 1, 88), (60, 1, 80),
    (67, 0.5, 96), (69, 0.5, 72), (67, 0.5, 80), (65, 0.5, 72), (64, 1, 88), (60, 1, 80),
    (60, 1, 96), (55, 1, 80), (60, 2, 88),
    (60, 1, 96), (55, 1, 80), (60, 2, 88),
]
CHORD = [(48, 100), (60, 80), (64, 80), (67, 80)]  # the closing C major chord, 4 beats


def varlen(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def events():
    """(tick, bytes) of every event, in time order."""
    name = b"Frere Jacques"
    ev = [(0, b"\xff\x03" + varlen(len(name)) + name), (0, b"\xff\x51\x03\x07\xa1\x20")]
    t = 0
    for pitch, beats, vel in TUNE:
        length = int(beats * DIVISION)
        ev.append((t, bytes([0x90, pitch, vel])))
        ev.append((t + length - GAP, bytes([0x90, pitch, 0])))
        t += length
    for pitch, vel in CHORD:
        ev.append((t, bytes([0x90, pitch, vel])))
    for pitch, _ in CHORD:
        ev.append((t + 4 * DIVISION, bytes([0x90, pitch, 0])))
    ev.sort(key=lambda e: e[0])  # stable: note-offs before the note-ons of the same tick
    return ev, t + 4 * DIVISION


def track_bytes():
    ev, end = events()
    out, last, status = bytearray(), 0, None
    for tick, data in ev:
        out += varlen(tick - last)
        last = tick
        if data[0] == status:  # running status
            data = data[1:]
        else:
            status = data[0] if data[0] < 0xF0 else None
        out += data
    out += varlen(end - last) + b"\xff\x2f\x00"
    return bytes(out)


def smf():
    trk = track_bytes()
    head = b"MThd" + struct.pack(">IHHH", 6, 0, 1, DIVISION)
    return head + b"MTrk" + struct.pack(">I", len(trk)) + trk


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else "frere_jacques.mid"
    with open(path, "wb") as f:
        f.write(smf())
