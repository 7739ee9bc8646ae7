#!/usr/bin/env python3
# random_piece.py SEED [edit]: a random .pg piece for differential.sh: up to 60 notes, or
# 128 to 200 (a mix the planner splits into sub-mixes) for a quarter of the seeds (saws,
# sines, noise; through a low-pass, a comb, a chorus, a gain or none; faded, panned, time
# shifted; each at a gain of 8/n past 8 notes, so that the mix stays near full scale, as a
# piece's would, where -120 dBFS means what it says) mixed under a master chain (a gain, a
# low-pass, a waveshaper and a low-pass, a comb, limiters, a compressor keyed by the mix's
# envelope, a reverb made of ConvolvePE, a fade or crop). A second generator adds other
# sources (PWM, a chaotic oscillator, segments, a comb rung by an impulse), note effects
# (biquads, a time warp, a reversal, normalising, an envelope product, an expander-limiter,
# a compressor-limiter, CachePE, a splice, |x|, a shift, an echo) and master chains (a
# normaliser, a compressor-limiter, a high-pass, TralfamPE, a time warp). With "edit",
# the same piece with one note's pitch (or gain) changed, that note taken out, or a sine
# note added before it (the seed chooses).
import random
import sys

import os

samples = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "pieces", "samples")
seed = int(sys.argv[1])
edit = len(sys.argv) > 2
r = random.Random(seed)
# A second generator chooses the kernels added later (more sources, note effects, master
# chains), so that the choices r makes, and so the pieces of seeds tried before, stay.
r2 = random.Random(seed * 7919 + 1)
n = r.randint(1, 60) if r.random() < 0.75 else r.randint(128, 200)
span = r.choice([48000, 200000, 600000, 1500000])
lines = ["frame_rate(48000)", "notes = []"]
edit_note = r.randrange(n)
edit_kind = r.choice(["pitch", "cut", "add"])
stereo = True  # (mixes need one channel count: every note ends stereo)


def other_source(f, length):
    """A mono source of another kernel, and whether the note's pitch is in it."""
    k = r2.randrange(4)
    crop = f".crop(Extent(0, {length}))"
    if k == 0:
        return f"PwmPE({int(48000 / f)}, {r2.randint(2, int(48000 / f) - 1)}).gain(0.2){crop}", True
    if k == 1:
        return f"ChaoticOscPE(x0={r2.choice([0.1, 0.3])}, scale=0.02){crop}", False
    if k == 2:
        shape = f"SegmentsPE([(0, 0.0), ({length // 3}, 1.0), ({length}, 0.0)])"
        return f"MulPE(SinPE(frequency={f}), {shape}){crop}", True
    return f"CombPE(ImpulsePE().crop(Extent(0, 1)), f0={f}, q=20){crop}", True


def note_effect(src, f, length):
    """src (mono, starting at 0) through one more kernel."""
    k = r2.randrange(14)
    if k == 0:
        return f"{src}.highpass(f0={r2.choice([100, 2000])}, q={r2.choice([0.7, 5])})"
    if k == 1:
        return f"{src}.bandpass(f0={r2.choice([300, 3000])}, q={r2.choice([0.7, 5])})"
    if k == 2:  # read at another speed through a timeline
        return f"TimewarpPE({src}, RampPE(0, {length * r2.choice([0.6, 1.4])}, Extent(0, {length})))"
    if k == 3:
        return f"{src}.reverse({length})"
    if k == 4:
        return f"NormalizePE({src}).gain(0.5)"
    if k == 5:  # a signal envelope (a product of signals)
        return f"MulPE({src}, RampPE(1.0, 0.0, Extent(0, {length})))"
    if k == 6:
        # (its gain heads for 0.5 / |x| near every zero crossing, 1e11 here: a saturator
        # brings that back to full scale, where -120 dBFS means what it says)
        return f"ExpanderLimiterPE({src}, target_amp=0.5).waveshape(lambda x: x / (1 + abs(x)))"
    if k == 7:
        return f"CompLimPE({src}, EnvDetectPE({src}), ratio=4, limit_db=-10)"
    if k == 8:
        return f"CachePE({src})"
    if k == 9:
        return f"{src}.splice({r2.randint(1, 500)}, {r2.randint(1, 5000)})"
    if k == 10:
        return f"BQ2PeakPE({src}, f0={f * 2}, q=2, gain_db={r2.choice([-6, 6])})"
    if k == 11:
        return f"AbsPE({src}).gain(0.5)"
    if k == 12:
        return f"{src}.time_shift({r2.randint(-2000, 2000)})"
    # an echo: the note read at two time mappings
    return f"MixPE({src}, {src}.time_shift({r2.randint(100, 20000)}).gain(0.5))"


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
    pitched = kind not in (2, 4, 5)
    if r2.random() < 0.15:
        src, pitched = other_source(f, length)
    if edit and i == edit_note and edit_kind == "pitch" and not pitched:
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
    if r2.random() < 0.35:
        src = note_effect(src, f, length)
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
elif r2.random() < 0.5:  # (master == 0) a chain of the kernels added later
    extra = r2.randrange(4)
    if extra == 0:
        # (not ExpanderLimiterPE: its gain heads for 0.8 / |x| near every zero crossing, and
        # so multiplies the rounding of the mix, whose order -O0 changes, by 1e11)
        mix = f"{mix}.normalize().gain(0.8)"
    elif extra == 1:
        lines.append(f"m = {mix}")
        mix = "CompLimPE(m, EnvDetectPE(m), ratio=4, limit_db=-6)"
    elif extra == 2:
        mix += f".highpass(f0={r2.choice([40, 400])}, q=0.7)"
    elif span <= 200000:  # the whole mix's spectrum smeared (an FFT of all of it)
        mix = f"TralfamPE({mix}.crop(Extent(0, {span + 70000}))).gain(0.05)"
    else:  # the whole mix read through a timeline
        mix = f"TimewarpPE({mix}, RampPE(0, {span * 0.9}, Extent(0, {span})))"
tail = r.randrange(4)
if tail == 1:
    mix += f".splice({r.randint(1, 48000)}, {r.randint(1, 96000)})"
elif tail == 2:
    mix += f".crop(Extent({r.randint(-1000, 30000)}, {span}))"
elif tail == 3:
    mix += ".gain(0.9)"
lines.append(f"render({mix})")
print("\n".join(lines))
