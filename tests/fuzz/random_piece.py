#!/usr/bin/env python3
# random_piece.py SEED [edit]: a random .pg piece for differential.sh: up to 60 notes, or
# 128 to 200 (a mix the planner splits into sub-mixes) for a quarter of the seeds (saws,
# sines, noise; through a low-pass, a comb, a chorus, a gain or none; faded, panned, time
# shifted; each at a gain of 8/n past 8 notes, so that the mix stays near full scale, as a
# piece's would, where -120 dBFS means what it says) mixed under a master chain (a gain, a
# low-pass, a waveshaper and a low-pass, a comb, limiters, a compressor keyed by the mix's
# envelope, a reverb made of ConvolvePE, a fade or crop). With "edit", the same piece with
# one note's pitch (or gain) changed, that note taken out, or a sine note added before it
# (the seed chooses).
import random
import sys

import os

samples = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "pieces", "samples")
seed = int(sys.argv[1])
edit = len(sys.argv) > 2
r = random.Random(seed)
n = r.randint(1, 60) if r.random() < 0.75 else r.randint(128, 200)
span = r.choice([48000, 200000, 600000, 1500000])
lines = ["frame_rate(48000)", "notes = []"]
edit_note = r.randrange(n)
edit_kind = r.choice(["pitch", "cut", "add"])
stereo = True  # (mixes need one channel count: every note ends stereo)
for i in range(n):
    f = r.choice([55.0, 110.0, 220.0, 330.0, 440.0, 661.0])
    if edit and i == edit_note and edit_kind == "pitch":
        f *= 1.5
    if edit and i == edit_note and edit_kind == "add":
        lines.append(f"notes.append(SinPE(frequency={f * 1.25}).crop(Extent(0, 20000))"
                     f".stereo().time_shift({span // 2}))")
    length = r.randint(100, 60000)
    start = r.randint(-5000, span)
    kind = r.randrange(6)
    if kind == 4:  # a sound file, looped
        src = (f"WavReaderPE('{samples}/music.flac').mono().crop(Extent(0, {length}))"
               f".loop({r.randint(1000, 20000)}).crop(Extent(0, {length}))")
    elif kind == 5:  # a sound file, reversed
        src = f"WavReaderPE('{samples}/pluck.flac').mono().reverse({r.randint(1000, 30000)})"
    elif kind == 0:
        src = f"BlitSawPE(frequency={f}).crop(Extent(0, {length}))"
    elif kind == 1:
        src = f"SinPE(frequency={f}, amplitude=0.3).crop(Extent(0, {length}))"
    elif kind == 2:
        src = f"NoisePE(gain=0.2, seed={r.randint(1, 99)}).crop(Extent(0, {length}))"
    else:
        src = f"SinPE(frequency={f}).crop(Extent({length // 3}, {length}))"
    if edit and i == edit_note and edit_kind == "pitch" and kind in (2, 4, 5):
        src += ".gain(0.8)"  # (no pitch to change)
    fx = r.randrange(6)
    if fx == 1:
        src += f".lowpass(f0={r.choice([200, 1000, 5000])}, q={r.choice([0.7, 4])})"
    elif fx == 2:
        src = f"CombPE({src}, f0={f}, q={r.choice([2, 20])})"
    elif fx == 3:
        src = f"ChorusPE({src}, rate=0.3, depth=0.2, mix=0.4)"
    elif fx == 4:
        src += f".gain({r.choice([0.5, 1.5])})"
    elif fx == 5 and r.random() < 0.5:
        src += f".warp_speed({r.choice([0.71, 1.3])})"
    if r.random() < 0.5:
        src += f".crop(Extent(0, {length}), fade_in={r.randint(1, 400)}, fade_out={r.randint(1, 4000)})"
    if r.random() < 0.4:
        src += f".pan({r.randint(-60, 60)})"
    elif r.random() < 0.2:
        src += ".stereo()"
    else:
        src += ".stereo()" if stereo else ""
    if n > 8:  # (so that the mix stays near full scale, as a piece's would)
        src += f".gain({round(8 / n, 3)})"
    if not (edit and i == edit_note and edit_kind == "cut"):
        lines.append(f"notes.append({src}.time_shift({start}))")
mix = "MixPE(*notes)"
if r.random() < 0.5:
    mix += f".crop(Extent(0, {span + 70000}))"
master = r.randrange(11)
if master == 1:
    mix += ".gain(0.7)"
elif master == 2:
    mix += f".lowpass(f0={r.choice([300, 8000])}, q={r.choice([0.7, 10])})"
elif master == 3:
    mix = f"CombPE({mix}, f0={r.choice([40, 100])}, q={r.choice([2, 20])})"
elif master == 4:
    mix = f"LimiterPE({mix})"
elif master == 5:
    lines.append(f"ir = NoisePE(seed=7).crop(Extent(0, {r.choice([100, 3000, 20000])}))")
    lines.append(f"m = {mix}")
    mix = "MixPE(m.gain(0.7), ConvolvePE(m.gain(0.28), ir).gain(0.3))"
elif master == 6:
    mix += f".lowpass(f0=2000, q=1).gain(0.5)"
elif master == 7:
    mix = f"LimiterAPE({mix}, threshold_db=-20)"
elif master in (8, 9):  # a compressor keyed by the mix's envelope (of its mono sum, for 9)
    lines.append(f"m = {mix}")
    env = "m" if master == 8 else "m.mono()"
    mix = (f"CompressorPE(m, EnvDetectPE({env}, attack=0.9, release={r.choice([0.1, 0.0001])}),"
           f" threshold_db=-20, ratio=4, makeup_db=0)")
elif master == 10:  # a waveshaper before a master filter (a link of the chain under it)
    mix += f".waveshape(lambda x: x / (1 + abs(x))).lowpass(f0={r.choice([300, 8000])}, q=0.7)"
tail = r.randrange(4)
if tail == 1:
    mix += f".splice({r.randint(1, 48000)}, {r.randint(1, 96000)})"
elif tail == 2:
    mix += f".crop(Extent({r.randint(-1000, 30000)}, {span}))"
elif tail == 3:
    mix += ".gain(0.9)"
lines.append(f"render({mix})")
print("\n".join(lines))
