#!/bin/sh
# tests/cli/run.sh PYGMUC: the command line end to end: output formats and subtypes, WAV on
# stdout, the render window options, the clipping warning, exit statuses, and that a failed
# render leaves an existing output file untouched. Prints "N passed, N failed".
set -u
pg=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
expect_status() { # want cmd...
    want=$1
    shift
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    [ "$got" = "$want" ] && ok || bad "$* exited $got, want $want: $(head -2 "$tmp/err")"
}

cat >"$tmp/tone.pg" <<'PG'
frame_rate(48000)
render(SinPE(frequency=440.0, amplitude=0.5).crop(Extent(0, 1s)))
PG
cat >"$tmp/loud.pg" <<'PG'
render(SinPE(frequency=440.0, amplitude=2.0).crop(Extent(0, 0.1s)))
PG
cat >"$tmp/endless.pg" <<'PG'
render(SinPE(frequency=440.0))
PG
cat >"$tmp/tail.pg" <<'PG'
render(MixPE(SinPE(frequency=440.0).crop(Extent(0, 10000)), ConstPE(0.0)))
PG
cat >"$tmp/fails.pg" <<'PG'
# a frequency PE that becomes 0 Hz at render time: an error only the render can see
f = SegmentsPE([(0, 440.0), (100, 0.0)])
render(BlitSawPE(frequency=f).crop(Extent(0, 1000)))
PG

# formats from the extension, and their default subtypes
for ext in wav flac aiff ogg; do
    expect_status 0 "$pg" "$tmp/tone.pg" -o "$tmp/tone.$ext" -q
    [ -s "$tmp/tone.$ext" ] && ok || bad "no $ext written"
done
expect_status 0 "$pg" compare "$tmp/tone.wav" "$tmp/tone.flac" --tolerance-db -130
# --flac-level: lossless at every level (the same samples), faster and larger at 0 than at
# 8; only for FLAC files, only 0 to 8
expect_status 0 "$pg" "$tmp/tone.pg" -o "$tmp/tone0.flac" -q --flac-level 0
expect_status 0 "$pg" "$tmp/tone.pg" -o "$tmp/tone8.flac" -q --flac-level 8
expect_status 0 "$pg" compare "$tmp/tone.flac" "$tmp/tone0.flac" --tolerance-db -1000
expect_status 0 "$pg" compare "$tmp/tone.flac" "$tmp/tone8.flac" --tolerance-db -1000
[ "$(stat -c %s "$tmp/tone0.flac")" -gt "$(stat -c %s "$tmp/tone8.flac")" ] && ok ||
    bad "--flac-level 0 is not larger than 8"
expect_status 10 "$pg" "$tmp/tone.pg" -o "$tmp/tone_level.wav" --flac-level 3
expect_status 64 "$pg" "$tmp/tone.pg" -o "$tmp/tone9.flac" --flac-level 9
expect_status 64 "$pg" "$tmp/tone.pg" -o "$tmp/tone9.flac" --flac-level -1
# FLAC is encoded by several threads in segments of 3 s joined into one stream: the same
# bytes on 1 and 4 threads, every frame's CRC and the samples' MD5 right (flac -t, where the
# flac tool is installed: CI installs it), the samples those of the float WAV to 24 bits; a
# render of unknown length and an empty one are valid streams too
cat >"$tmp/chord.pg" <<'PG'
frame_rate(48000)
render(MixPE(BlitSawPE(frequency=110.0).crop(Extent(0, 7s)).spread(2).gain(0.2), SinPE(frequency=331.0, amplitude=0.3).crop(Extent(2s, 12s)).pan(-20)))
PG
printf 'render(SinPE(440).crop(Extent(0, 0)))\n' >"$tmp/empty.pg"
expect_status 0 "$pg" "$tmp/chord.pg" -o "$tmp/chord1.flac" -j 1
expect_status 0 "$pg" "$tmp/chord.pg" -o "$tmp/chord4.flac" -j 4
expect_status 0 "$pg" "$tmp/chord.pg" -o "$tmp/chord.wav"
expect_status 0 "$pg" "$tmp/tail.pg" -o "$tmp/tail.flac" --until-silence
expect_status 0 "$pg" "$tmp/empty.pg" -o "$tmp/empty.flac"
cmp -s "$tmp/chord1.flac" "$tmp/chord4.flac" && ok || bad "FLAC on 1 and 4 threads differs"
# the encoded segments are kept in the cache with the output: a second render encodes none
expect_status 0 "$pg" "$tmp/chord.pg" -o "$tmp/chordc1.flac" --cache-dir "$tmp/fc"
expect_status 0 "$pg" "$tmp/chord.pg" -o "$tmp/chordc2.flac" --cache-dir "$tmp/fc" --explain
grep -q "(4 of 4 FLAC segments from the cache)" "$tmp/err" && ok ||
    bad "FLAC segments not found in the cache: $(grep encoding "$tmp/err")"
cmp -s "$tmp/chord1.flac" "$tmp/chordc2.flac" && ok || bad "FLAC from the cache differs"
# under --mem-limit the output's memory counts: FLAC gets the encoder threads whose segments
# (4.2 MiB each in flight for stereo, -j + 2 of them) fit in half the limit, and the bytes
# are the same; a limit the output's buffers alone exceed fails before anything renders
expect_status 0 "$pg" "$tmp/chord.pg" -o "$tmp/chordl.flac" -j 8 --mem-limit 30 --explain
grep -q "on 2 threads of its own" "$tmp/err" && ok ||
    bad "FLAC under --mem-limit 30: $(grep encoding "$tmp/err")"
cmp -s "$tmp/chord1.flac" "$tmp/chordl.flac" && ok || bad "FLAC under --mem-limit differs"
expect_status 8 "$pg" "$tmp/chord.pg" -o "$tmp/chordm.flac" --mem-limit 8
grep -q "the output's buffers need 14.0 MiB, over the memory limit of 8.0 MiB" "$tmp/err" && ok ||
    bad "FLAC over --mem-limit 8: $(head -1 "$tmp/err")"
[ -e "$tmp/chordm.flac" ] && bad "FLAC over --mem-limit wrote a file" || ok
expect_status 0 "$pg" "$tmp/chord.pg" -o "$tmp/chordc3.flac" --cache-dir "$tmp/fc" --explain \
    --no-output-cache
grep -q "FLAC segments" "$tmp/err" && bad "--no-output-cache kept FLAC segments" || ok
expect_status 0 "$pg" compare "$tmp/chord.wav" "$tmp/chord4.flac" --tolerance-db -138
if command -v flac >/dev/null; then
    for f in chord4 tail empty; do
        flac -t -s "$tmp/$f.flac" 2>"$tmp/err" && ok || bad "flac -t $f.flac: $(cat "$tmp/err")"
    done
else
    echo "flac not installed: FLAC streams not checked with flac -t"
fi
# a compressed file is written into blocks reserved for its PCM size (so that replacing a
# file costs no flush in rename): what it did not use is given back
for ext in flac ogg; do
    used=$(stat -c '%b * %B' "$tmp/tone.$ext" | awk '{print $1 * $3}')
    size=$(stat -c %s "$tmp/tone.$ext")
    [ "$used" -le $((size + 8192)) ] && ok || bad "tone.$ext keeps $used bytes of disk for $size"
done
expect_status 1 "$pg" compare "$tmp/tone.wav" "$tmp/tone.ogg" --tolerance-db -130
expect_status 10 "$pg" "$tmp/tone.pg" -o "$tmp/tone.xyz"
expect_status 10 "$pg" "$tmp/tone.pg" -o "$tmp/tone.flac" --subtype float
expect_status 0 "$pg" "$tmp/tone.pg" -o "$tmp/tone16.wav" --subtype pcm16 -q
expect_status 0 "$pg" compare "$tmp/tone.wav" "$tmp/tone16.wav" --tolerance-db -80
expect_status 64 "$pg" compare "$tmp/tone.wav" "$tmp/tone16.wav" --tolerance-db abc
expect_status 64 "$pg" compare "$tmp/tone.wav" "$tmp/tone16.wav" --tolerance-db

# the finished file has a new file's mode (the temporary one was 0600), and so has a stem a
# WavWriterPE writes (it was left 0600)
cat >"$tmp/stem.pg" <<'PG'
render(WavWriterPE(SinPE(frequency=440.0).crop(Extent(0, 0.1s)), "stem_out.wav"))
PG
for mask in 022 027; do
    rm -f "$tmp/mode.wav" "$tmp/stem_out.wav"
    (umask $mask && "$pg" "$tmp/tone.pg" -o "$tmp/mode.wav" -q &&
        "$pg" "$tmp/stem.pg" -o "$tmp/stem_mix.wav" -q)
    want=$(printf '%o' $((0666 & ~0$mask)))
    for f in mode.wav stem_out.wav; do
        [ "$(stat -c %a "$tmp/$f")" = "$want" ] && ok || bad "$f mode $(stat -c %a "$tmp/$f") under umask $mask"
    done
done

# a stem that cannot be put in place (a folder of that name holds a file) fails the render
# with an I/O error, even under -q, and the main output is then left alone (exit 0 and a
# warning before)
rm -f "$tmp/stem_out.wav" "$tmp/stem_mix.wav"
mkdir "$tmp/stem_out.wav" && touch "$tmp/stem_out.wav/keep"
expect_status 10 "$pg" "$tmp/stem.pg" -o "$tmp/stem_mix.wav" -q
grep -q "error: .*WavWriterPE: cannot put its file in place of '.*/stem_out.wav': Is a directory" "$tmp/err" && ok ||
    bad "stem in place of a folder: $(head -1 "$tmp/err")"
[ ! -e "$tmp/stem_mix.wav" ] && ok || bad "the main output was written although its stem failed"
rm -r "$tmp/stem_out.wav"

# a stem that is the render's output, or another stem, is refused before anything is written
# (one write would silently replace the other); the error points at the writer
cat >"$tmp/stem_out.pg" <<'PG'
x = SinPE(frequency=440.0).crop(Extent(0, 0.1s))
render(MixPE(x.wav_writer("same.wav"), x.gain(0.5).wav_writer("stem_b.wav")))
PG
echo keep >"$tmp/same.wav"
expect_status 10 "$pg" "$tmp/stem_out.pg" -o "$tmp/./same.wav"
grep -q "stem_out.pg:2:16: error: WavWriterPE writes '.*same.wav', the render's output file" \
    "$tmp/err" && ok || bad "a stem that is the output: $(head -1 "$tmp/err")"
[ "$(cat "$tmp/same.wav")" = keep ] && ok || bad "the output named by a stem was written"
sed 's/stem_b.wav/same.wav/' "$tmp/stem_out.pg" >"$tmp/stem_twice.pg"
expect_status 10 "$pg" "$tmp/stem_twice.pg" -o "$tmp/mix_twice.wav"
grep -q "stem_twice.pg:2:52: error: WavWriterPE writes '.*same.wav', as the WavWriterPE at line 2 does" \
    "$tmp/err" && ok || bad "two stems of one name: $(head -1 "$tmp/err")"
[ ! -e "$tmp/mix_twice.wav" ] && ok || bad "a render with two stems of one name wrote its output"

# the output, or a stem, that is a sound file the piece reads is refused before anything is
# written (the render replaced the sample: a typo in -o destroyed a source); the error points
# at the reader, or at the writer
sample=$(cd "$(dirname "$0")/../.." && pwd)/pieces/samples/drumloop.flac
cp "$sample" "$tmp/loop.flac"
cat >"$tmp/reads.pg" <<'PG'
beat = WavReaderPE("loop.flac")
render(beat.gain(0.5))
PG
expect_status 10 "$pg" "$tmp/reads.pg" -o "$tmp/./loop.flac"
grep -q "reads.pg:1:8: error: the output '.*loop.flac' is a sound file the piece reads (WavReaderPE)" \
    "$tmp/err" && ok || bad "the output is the piece's sample: $(head -1 "$tmp/err")"
cmp -s "$tmp/loop.flac" "$sample" && ok || bad "the sample was replaced"
printf 'beat = WavReaderPE("loop.flac")\nrender(MixPE(beat, beat.gain(0.5).wav_writer("loop.flac")))\n' \
    >"$tmp/reads_stem.pg"
expect_status 10 "$pg" "$tmp/reads_stem.pg" -o "$tmp/reads_mix.wav"
grep -q "reads_stem.pg:2:35: error: WavWriterPE writes '.*loop.flac', which the WavReaderPE at line 1 reads" \
    "$tmp/err" && ok || bad "a stem that is the piece's sample: $(head -1 "$tmp/err")"
cmp -s "$tmp/loop.flac" "$sample" && ok || bad "the sample was replaced by a stem"
expect_status 64 "$pg" "$tmp/reads.pg" -o "$tmp/reads.wav" --dump-graph "$tmp/loop.flac"
grep -q "dump-graph '.*loop.flac' is a sound file the piece reads" "$tmp/err" && ok ||
    bad "--dump-graph onto the piece's sample: $(head -1 "$tmp/err")"
cmp -s "$tmp/loop.flac" "$sample" && ok || bad "the sample was replaced by the graph"

# a random piece that a merging pass once deadlocked (every thread waiting, no task ready):
# it must render, on one thread and on two, within a minute
cat >"$tmp/dead.pg" <<'PG'
frame_rate(44100)
shared = WavReaderPE("loop.flac").crop(Extent(25997, 43955), fade_in=70, fade_out=109).time_shift(-1796).chorus(rate=1.594, depth=0.448, mix=0.594)
render(MixPE(NoisePE(gain=0.066, seed=231).crop(Extent(7913, 26767)).chorus(rate=1.418, depth=0.231, mix=0.214).lowpass(f0=5346.903, q=2.437).stereo(), shared, shared.time_shift(16871), MixPE(MixPE(SinPE(frequency=5.379, amplitude=0.273).crop(Extent(21814, 45261)).pan(69.1), *[BlitSawPE(frequency=1478.025).crop(Extent(4241, 11724)).time_shift(i * 1512).gain(0.036) for i in range(40)]), *[SinPE(frequency=2.382, amplitude=0.28).crop(Extent(6763, 37475), fade_in=182, fade_out=227).time_shift(i * 2560).gain(0.026) for i in range(40)])).crop(Extent(0, 124168)))

PG
for j in 1 2; do
    expect_status 0 timeout -k 5 60 "$pg" "$tmp/dead.pg" -o "$tmp/dead.wav" -q -j $j --no-cache
done

# -o through a symbolic link writes the file it points at (the link stays; a link to a file
# not made yet makes it); into a FIFO, the finished file is written into the pipe (it was
# replaced by a regular file, and a player reading the pipe got nothing); a folder is refused
# before the render
expect_status 0 "$pg" "$tmp/tone.pg" -o "$tmp/plain.wav" -q
mkdir "$tmp/links" && echo old >"$tmp/links/target.wav"
ln -s target.wav "$tmp/links/link.wav" && ln -s ../made.wav "$tmp/links/to_new.wav"
expect_status 0 "$pg" "$tmp/tone.pg" -o "$tmp/links/link.wav" -q
[ -L "$tmp/links/link.wav" ] && cmp -s "$tmp/links/target.wav" "$tmp/plain.wav" && ok ||
    bad "-o through a link: $(ls -la "$tmp/links")"
expect_status 0 "$pg" "$tmp/tone.pg" -o "$tmp/links/to_new.wav" -q
[ -L "$tmp/links/to_new.wav" ] && cmp -s "$tmp/made.wav" "$tmp/plain.wav" && ok ||
    bad "-o through a link to a new file: $(ls -la "$tmp/links")"
printf 'x = SinPE(frequency=440.0).crop(Extent(0, 0.1s))\nrender(MixPE(x, x.wav_writer("link.wav")))\n' \
    >"$tmp/links/stem.pg"
sed 's/link.wav/plain_stem.wav/' "$tmp/links/stem.pg" >"$tmp/links/plain_stem.pg"
expect_status 0 "$pg" "$tmp/links/plain_stem.pg" -o "$tmp/links/mix.wav" -q
expect_status 0 "$pg" "$tmp/links/stem.pg" -o "$tmp/links/mix.wav" -q
[ -L "$tmp/links/link.wav" ] && cmp -s "$tmp/links/target.wav" "$tmp/links/plain_stem.wav" && ok ||
    bad "a stem through a link: $(ls -la "$tmp/links")"
# a stem's bytes never depend on when it was written (libsndfile's PEAK chunk holds a time
# stamp: this test failed when its two stems were written a second apart)
grep -q PEAK "$tmp/links/plain_stem.wav" && bad "a stem carries a PEAK chunk" || ok
mkfifo "$tmp/pipe.wav"
cat "$tmp/pipe.wav" >"$tmp/piped.wav" &
reader=$!
expect_status 0 "$pg" "$tmp/tone.pg" -o "$tmp/pipe.wav" -q
[ -p "$tmp/pipe.wav" ] || kill $reader # (the pipe replaced: its reader would wait forever)
wait $reader
[ -p "$tmp/pipe.wav" ] && cmp -s "$tmp/piped.wav" "$tmp/plain.wav" && ok || bad "-o into a FIFO"
mkdir "$tmp/folder.wav"
expect_status 10 "$pg" "$tmp/tone.pg" -o "$tmp/folder.wav"
grep -q "cannot write '.*folder.wav': it is a folder" "$tmp/err" && ok || bad "-o a folder: $(cat "$tmp/err")"
[ -z "$(ls -A "$tmp/folder.wav")" ] && [ "$(ls -a "$tmp" | grep -c 'folder.wav.pygmuc')" = 0 ] && ok ||
    bad "-o a folder left a file"

# -q silences what PEs print while rendering too: PrintPE's lines (the same samples either way)
printf 'render(PrintPE(SinPE(frequency=1.0).crop(Extent(0, 3))))\n' >"$tmp/print.pg"
expect_status 0 "$pg" "$tmp/print.pg" -o "$tmp/print.wav"
grep -q "^PrintPE \[0, 3) 1 ch: ch0 min 0 max " "$tmp/err" && ok || bad "PrintPE printed: $(head -1 "$tmp/err")"
expect_status 0 "$pg" "$tmp/print.pg" -o "$tmp/print_q.wav" -q
[ ! -s "$tmp/err" ] && ok || bad "PrintPE under -q: $(head -1 "$tmp/err")"
expect_status 0 "$pg" compare "$tmp/print.wav" "$tmp/print_q.wav" --tolerance-db -1000

# WAV on stdout equals the file
"$pg" "$tmp/tone.pg" -o - -q >"$tmp/stdout.wav" && ok || bad "-o - failed"
expect_status 0 "$pg" compare "$tmp/tone.wav" "$tmp/stdout.wav" --tolerance-db -1000
# ... and into a pipe its reader closes early (head), pygmuc dies of SIGPIPE (141) quietly,
# leaving no temporary file in TMPDIR (it left the whole render there)
mkdir "$tmp/tmpdir"
(TMPDIR="$tmp/tmpdir" "$pg" "$tmp/tone.pg" -o - 2>"$tmp/err"; echo $? >"$tmp/rc") | head -c 10 >/dev/null
[ "$(cat "$tmp/rc")" = 141 ] && [ ! -s "$tmp/err" ] && ok ||
    bad "-o - into a closed pipe: exit $(cat "$tmp/rc"), $(head -1 "$tmp/err")"
[ -z "$(ls -A "$tmp/tmpdir")" ] && ok || bad "-o - into a closed pipe left $(ls -A "$tmp/tmpdir")"

# --explain: the front end's stages and the planner's passes, timed
"$pg" "$tmp/tone.pg" -o "$tmp/ex.wav" -q --explain 2>"$tmp/err" >/dev/null
grep -q "^compile: parse [0-9.]* s, evaluate [0-9.]* s$" "$tmp/err" && ok || bad "no compile times"
grep -q "^  passes [0-9.]* s: sort [0-9.]*, merge equal subgraphs [0-9.]*, needs [0-9.]*, materialise and fuse [0-9.]*, sub-mixes [0-9.]*$" "$tmp/err" && ok || bad "no pass times"

# the window: --duration, --start/--end with units; an endless piece needs an end
expect_status 0 "$pg" "$tmp/tone.pg" -o "$tmp/half.wav" --duration 0.5s -q
expect_status 0 "$pg" "$tmp/tone.pg" -o "$tmp/mid.wav" --start 250ms --end 24000f -q
expect_status 6 "$pg" "$tmp/endless.pg" -o "$tmp/endless.wav"
grep -q "endless.pg:1:8: error: .*indefinite" "$tmp/err" && ok || bad "endless: $(head -1 "$tmp/err")"
expect_status 0 "$pg" "$tmp/endless.pg" -o "$tmp/endless.wav" --duration 0.1s -q

# --until-silence: an endless piece stops with the first silent 4096 frames (on a grid from
# the start) after its finite parts: [12288, 16384), whatever the block size
expect_status 0 "$pg" "$tmp/tail.pg" -o "$tmp/tail.wav" --until-silence -q
expect_status 0 "$pg" "$tmp/tail.pg" -o "$tmp/tail16k.wav" --duration 16384f -q
"$pg" compare "$tmp/tail16k.wav" "$tmp/tail.wav" --tolerance-db -1000 | grep -q "length_diff_frames=0 " &&
    ok || bad "--until-silence length"
for b in 1 7 65536; do
    expect_status 0 "$pg" "$tmp/tail.pg" -o "$tmp/tail_b.wav" --until-silence -q --block $b -j 2
    cmp -s "$tmp/tail.wav" "$tmp/tail_b.wav" && ok || bad "--until-silence --block $b"
done
# ... and keeps its output in the cache: the second render finds its chunk, and an edit that
# ends the sine at 20000 stops at 24576 from that cache as without it
for i in 1 2; do
    expect_status 0 "$pg" "$tmp/tail.pg" -o "$tmp/tail_c.wav" --until-silence -q --cache-dir "$tmp/tc" --explain
    cmp -s "$tmp/tail.wav" "$tmp/tail_c.wav" && ok || bad "--until-silence with a cache, render $i"
done
grep -q "output chunks 1 from the cache / 0 rendered" "$tmp/err" && grep -q "audio_sec=0.341 " "$tmp/err" &&
    ok || bad "--until-silence warm: $(grep "chunks\|stats" "$tmp/err")"
sed 's/10000/20000/' "$tmp/tail.pg" >"$tmp/tail2.pg"
expect_status 0 "$pg" "$tmp/tail2.pg" -o "$tmp/tail_c.wav" --until-silence -q --cache-dir "$tmp/tc"
expect_status 0 "$pg" "$tmp/tail2.pg" -o "$tmp/tail_n.wav" --until-silence -q --no-cache
expect_status 0 "$pg" "$tmp/tail2.pg" -o "$tmp/tail24k.wav" --duration 24576f -q --no-cache
cmp -s "$tmp/tail_c.wav" "$tmp/tail_n.wav" && cmp -s "$tmp/tail_n.wav" "$tmp/tail24k.wav" &&
    ok || bad "--until-silence edited, from the cache"
# a damaged chunk is rendered again whole, though the render stops inside it: a loop of a
# 5000-frame note every 20000 stops at 12288, and sounds again at 20000 in the same chunk
echo 'render(SinPE(frequency=440.0).crop(Extent(0, 5000)).crop(Extent(0, 20000)).loop(20000))' >"$tmp/gap.pg"
expect_status 0 "$pg" "$tmp/gap.pg" -o "$tmp/gap.wav" --until-silence -q --cache-dir "$tmp/gc"
for f in "$tmp"/gc/*.pgc; do # damage the chunk (the larger entry), keeping its size
    [ "$(wc -c <"$f")" -gt 100000 ] && printf 'XXXX' | dd of="$f" bs=1 seek=100000 conv=notrunc 2>/dev/null
done
expect_status 0 "$pg" "$tmp/gap.pg" -o "$tmp/gap2.wav" --until-silence -q --cache-dir "$tmp/gc" -j 1
expect_status 0 "$pg" "$tmp/gap.pg" -o "$tmp/gap3.wav" --duration 65536f -q --cache-dir "$tmp/gc"
expect_status 0 "$pg" "$tmp/gap.pg" -o "$tmp/gap4.wav" --duration 65536f -q --no-cache
cmp -s "$tmp/gap.wav" "$tmp/gap2.wav" && cmp -s "$tmp/gap3.wav" "$tmp/gap4.wav" &&
    ok || bad "--until-silence, damaged chunk"
expect_status 8 "$pg" "$tmp/endless.pg" -o "$tmp/long.wav" --duration 90000s
# times past any frame count are clamped, then refused like any window (no overflow)
expect_status 8 "$pg" "$tmp/tone.pg" -o "$tmp/long.wav" --end 99999999999999999999
grep -q "over the limit of 24 hours" "$tmp/err" && ok || bad "--end 1e20: $(head -1 "$tmp/err")"
expect_status 3 "$pg" "$tmp/tone.pg" -o "$tmp/long.wav" --start 1e300
grep -q "ends before it starts" "$tmp/err" && ok || bad "--start 1e300: $(head -1 "$tmp/err")"
expect_status 8 "$pg" "$tmp/endless.pg" -o "$tmp/long.wav" --start -1e300 --duration 1e300

# clipping in PCM is a warning with the peak; float keeps it silently
expect_status 0 "$pg" "$tmp/loud.pg" -o "$tmp/loud.flac"
grep -q "warning: the render clips: peak 2.000" "$tmp/err" && ok || bad "no clip warning"
expect_status 0 "$pg" "$tmp/loud.pg" -o "$tmp/loud.wav" --subtype float
grep -q "clips" "$tmp/err" && bad "float warned" || ok

# a failed render keeps the old file and leaves no temporary beside it
cp "$tmp/tone.wav" "$tmp/keep.wav"
expect_status 3 "$pg" "$tmp/fails.pg" -o "$tmp/keep.wav"
cmp -s "$tmp/tone.wav" "$tmp/keep.wav" && ok || bad "failed render clobbered the output"
ls -a "$tmp" | grep -q "pygmuc-" && bad "temporary file left behind" || ok

# --explain prints the plan and the render's statistics; --dump-graph draws the plan with
# what the passes did and each node's measured time
cat >"$tmp/shared.pg" <<'PG'
note = BlitSawPE(frequency=220.0).crop(Extent(0, 4800))
render(MixPE(note.gain(0.5), note.time_shift(2400).gain(0.25), SinPE().crop(Extent(0, 100)).gain(0.1)))
PG
expect_status 0 "$pg" "$tmp/shared.pg" -o "$tmp/shared.wav" --explain --dump-graph "$tmp/g.dot"
grep -q "^plan: .* materialised" "$tmp/err" && grep -q "^stats: audio_sec=0.150 " "$tmp/err" &&
    ok || bad "--explain: $(head -3 "$tmp/err")"
grep -q "^digraph pygmuc" "$tmp/g.dot" && grep -q "materialised \[0, 4800)" "$tmp/g.dot" &&
    grep -q "fused" "$tmp/g.dot" && grep -q " ms (" "$tmp/g.dot" && ok || bad "--dump-graph"
expect_status 0 "$pg" check "$tmp/shared.pg" --dump-graph "$tmp/g0.dot"
grep -q "BlitSawPE" "$tmp/g0.dot" && ok || bad "check --dump-graph"

# --mem-limit: materialised buffers over the budget fail before anything renders
expect_status 8 "$pg" "$tmp/shared.pg" -o "$tmp/mem.wav" --mem-limit 0.01
grep -q "over the memory limit" "$tmp/err" && ok || bad "--mem-limit: $(head -1 "$tmp/err")"
[ -e "$tmp/mem.wav" ] && bad "--mem-limit wrote a file" || ok
expect_status 0 "$pg" "$tmp/tone.pg" -o "$tmp/huge.wav" -q --mem-limit 1e30 # no limit
expect_status 64 "$pg" "$tmp/tone.pg" -o "$tmp/huge.wav" -q --mem-limit -5

# the render cache after an edit: 200 comb-filtered notes (one every 3000 frames) become 3
# sub-mixes (of the notes starting in [0, 262144), [262144, 524288) and after), and the
# output, mono [0, 609000), is kept in 10 chunks of 65536 frames (the last 19176). A warm
# render copies the chunks and needs nothing else. After note 40 ([120000, 132000)) changes,
# the chunks it sounds in (1 and 2) are rendered again from the 47 other notes sounding
# there (loaded) and the note (rendered). The edited render equals a cold one. With
# --no-output-cache the sub-mixes are buffers, and a warm render loads them.
notes_pg() { # the pitch of note 40
    cat <<PG
frame_rate(48000)
notes = []
for i in range(200):
    f = ${1} if i == 40 else 110.0 + 5.0 * (i % 40)
    ring = CombPE(NoisePE(gain=0.2, seed=i).crop(Extent(0, 100)), f0=f, q=20)
    notes.append(ring.crop(Extent(0, 12000)).time_shift(i * 3000))
render(MixPE(*notes))
PG
}
notes_pg 300.0 >"$tmp/notes.pg"
notes_pg 333.0 >"$tmp/notes_edit.pg"
hits() { sed -n 's/.*cache \([0-9]*\) hits \/ \([0-9]*\) misses.*/\1 \2/p' "$tmp/err"; }
chunks() {
    sed -n -e 's/.*output chunks \([0-9]*\) from the cache \/ \([0-9]*\) rendered.*/\1 \2/p' \
        -e 's/.*output chunks not kept (\(.*\));.*/off: \1/p' "$tmp/err"
}
# --explain's bytes loaded and stored; entry_mib: the samples of the entries in the cache
# (each has a 40-byte header) not listed in file $1, in MiB as --explain prints them
moved() { sed -n 's/.*misses (\([0-9.]*\) MiB loaded, \([0-9.]*\) MiB stored).*/\1 \2/p' "$tmp/err"; }
entry_mib() {
    ls -l "$tmp/nc" | awk -v seen="$1" 'BEGIN { while ((getline n < seen) > 0) old[n] = 1 }
        $9 ~ /\.pgc$/ && !($9 in old) { s += $5 - 40 } END { printf "%.1f", s / 1048576 }'
}
: >"$tmp/none"
expect_status 0 "$pg" "$tmp/notes.pg" -o "$tmp/n1.wav" -q --explain --cache-dir "$tmp/nc"
[ "$(hits) $(chunks)" = "0 200 0 10" ] && ok || bad "cold cache: $(hits) $(chunks)"
# (the 3 sub-mixes streamed: fused sums of their own, each note one term)
[ "$(grep -c '#[0-9]* MixPE \[fused\] \[summed on its own\] need' "$tmp/err")" = 3 ] && ok ||
    bad "--explain: the streamed sub-mixes not marked"
[ "$(moved)" = "0.0 $(entry_mib "$tmp/none")" ] && ok || bad "cold cache moved $(moved)"
ls "$tmp/nc" >"$tmp/cold-entries"
expect_status 0 "$pg" "$tmp/notes.pg" -o "$tmp/n2.wav" -q --explain --cache-dir "$tmp/nc"
[ "$(hits) $(chunks)" = "0 0 10 0" ] && ok || bad "warm cache: $(hits) $(chunks)"
# it loads the output's 609000 samples: 2.3 MiB
[ "$(moved)" = "2.3 0.0" ] && ok || bad "warm cache moved $(moved)"
expect_status 0 "$pg" "$tmp/notes_edit.pg" -o "$tmp/n3.wav" -q --explain --cache-dir "$tmp/nc"
[ "$(hits) $(chunks)" = "47 1 8 2" ] && ok || bad "after an edit: $(hits) $(chunks)"
[ "$(moved | cut -d' ' -f2)" = "$(entry_mib "$tmp/cold-entries")" ] && ok ||
    bad "after an edit stored $(moved), new entries $(entry_mib "$tmp/cold-entries")"
expect_status 0 "$pg" "$tmp/notes_edit.pg" -o "$tmp/n4.wav" -q --no-cache
expect_status 0 "$pg" compare "$tmp/n3.wav" "$tmp/n4.wav" --tolerance-db -1000
# note 100 ([300000, 312000)) taken out: chunk 4 alone is rendered again, from the 25 other
# notes sounding there; the notes after it keep their sub-mix
sed 's/^    notes.append(ring/    if i != 100:\n        notes.append(ring/' "$tmp/notes.pg" >"$tmp/notes_cut.pg"
expect_status 0 "$pg" "$tmp/notes_cut.pg" -o "$tmp/n7.wav" -q --explain --cache-dir "$tmp/nc"
[ "$(hits) $(chunks)" = "25 0 9 1" ] && ok || bad "after a note taken out: $(hits) $(chunks)"
expect_status 0 "$pg" "$tmp/notes_cut.pg" -o "$tmp/n8.wav" -q --no-cache
cmp -s "$tmp/n7.wav" "$tmp/n8.wav" && ok || bad "a note taken out: not the render without cache"
# the same under --mem-limit (the output was not kept under a limit): the edit renders 2 chunks
expect_status 0 "$pg" "$tmp/notes.pg" -o "$tmp/n1l.wav" -q --explain --cache-dir "$tmp/nc_cold" --mem-limit 64
[ "$(chunks)" = "0 10" ] && ok || bad "--mem-limit cold: $(chunks)"
expect_status 0 "$pg" "$tmp/notes_edit.pg" -o "$tmp/n3l.wav" -q --explain --cache-dir "$tmp/nc_cold" --mem-limit 64
[ "$(hits) $(chunks)" = "47 1 8 2" ] && ok || bad "--mem-limit, after an edit: $(hits) $(chunks)"
expect_status 0 "$pg" compare "$tmp/n3l.wav" "$tmp/n4.wav" --tolerance-db -1000
expect_status 0 "$pg" compare "$tmp/n1.wav" "$tmp/n2.wav" --tolerance-db -1000
expect_status 0 "$pg" "$tmp/notes.pg" -o "$tmp/n5.wav" -q --explain --cache-dir "$tmp/nc" \
    --no-output-cache
[ "$(hits) $(chunks)" = "200 3 off: --no-output-cache" ] && ok ||
    bad "--no-output-cache: $(hits) $(chunks)"
[ "$(grep -c '#[0-9]* MixPE \[materialised\] \[cached\] need' "$tmp/err")" = 3 ] && ok ||
    bad "--explain: the buffered sub-mixes not marked"
# (with output chunks the sub-mixes were streamed; without, they are buffers, now cached)
expect_status 0 "$pg" "$tmp/notes.pg" -o "$tmp/n6.wav" -q --explain --cache-dir "$tmp/nc" \
    --no-output-cache
[ "$(hits) $(chunks)" = "3 0 off: --no-output-cache" ] && ok ||
    bad "--no-output-cache again: $(hits) $(chunks)"
# chain_edit NAME SED: notes.pg through SED, cold (nothing found, 10 chunks stored; its
# --explain kept in $tmp/NAME.err, its --dump-graph in $tmp/NAME.dot) and after note 40's
# edit (2 chunks rendered from 47 notes loaded, the chain resumed after chunk 0 and running
# over the 7 others, found): the bits of a render without cache
chain_edit() {
    sed "$2" "$tmp/notes.pg" >"$tmp/$1.pg"
    sed "$2" "$tmp/notes_edit.pg" >"$tmp/$1_edit.pg"
    expect_status 0 "$pg" "$tmp/$1.pg" -o "$tmp/$1.wav" -q --explain --cache-dir "$tmp/lc_$1" \
        --dump-graph "$tmp/$1.dot"
    cp "$tmp/err" "$tmp/$1.err"
    [ "$(hits) $(chunks)" = "0 200 0 10" ] && ok || bad "$1, cold: $(hits) $(chunks)"
    expect_status 0 "$pg" "$tmp/$1_edit.pg" -o "$tmp/$1_2.wav" -q --explain --cache-dir "$tmp/lc_$1"
    [ "$(hits) $(chunks)" = "47 1 8 2" ] &&
        grep -q "; 7 through the master chain; the master chain resumed after 1 of them" "$tmp/err" &&
        ok ||
        bad "$1, after an edit: $(hits) $(chunks)"
    expect_status 0 "$pg" "$tmp/$1_edit.pg" -o "$tmp/$1_3.wav" -q --no-cache
    cmp -s "$tmp/$1_2.wav" "$tmp/$1_3.wav" && ok || bad "$1: not the render without cache"
}
# a limiter over the whole mix (stateful, one input, an init that pulls nothing) is run by
# the stream in time order: the chunks hold the mix under it, as without it, and its output
# is kept too, with its state at each chunk's end
chain_edit limiter 's/render(MixPE(\*notes))/render(LimiterPE(MixPE(*notes)))/'
# a waveshaper before a master low-pass (stateless, one input, not linear) is a link of the
# chain under the filter: the chunks hold the mix, not what the waveshaper makes of it
chain_edit waveshaper 's/render(MixPE(\*notes))/render(MixPE(*notes).waveshape(lambda x: x \/ (1 + abs(x))).lowpass(f0=3000))/'
grep -q "#[0-9]* WaveShapePE \[master chain\] need" "$tmp/waveshaper.err" && ok ||
    bad "--explain: the waveshaper not in the chain"
# alone at the end of the piece it is no link: the chunks hold its output, copied out as found
sed 's/render(MixPE(\*notes))/render(MixPE(*notes).waveshape(lambda x: x \/ (1 + abs(x))))/' \
    "$tmp/notes.pg" >"$tmp/shaped.pg"
expect_status 0 "$pg" "$tmp/shaped.pg" -o "$tmp/shaped.wav" -q --cache-dir "$tmp/lc_shaped"
expect_status 0 "$pg" "$tmp/shaped.pg" -o "$tmp/shaped2.wav" -q --explain --cache-dir "$tmp/lc_shaped"
[ "$(chunks)" = "10 0" ] && grep -q "; 0 through the master chain" "$tmp/err" &&
    ! grep -q "master chain\] need" "$tmp/err" && ok || bad "a waveshaper alone: $(chunks)"
# a compressor keyed by an envelope of the mix (CompressorPE(m, EnvDetectPE(m))): the root's
# final chain reads the mix twice, and the stream runs it like the limiter (its slow
# envelope still differs at the end)
chain_edit compressor 's/render(MixPE(\*notes))/m = MixPE(*notes)\nrender(CompressorPE(m, EnvDetectPE(m, release=0.0001), threshold_db=-30, ratio=4))/'
for k in CompressorPE EnvDetectPE; do
    grep -q "#[0-9]* $k \[master chain\] need" "$tmp/compressor.err" && ok ||
        bad "--explain: $k not in the chain"
done
grep -q "#[0-9]* MixPE \[fused\] \[chunk root\] need" "$tmp/compressor.err" && ok ||
    bad "--explain: no chunk root"
[ "$(grep -c 'master chain' "$tmp/compressor.dot") $(grep -c 'chunk root' "$tmp/compressor.dot")" = "2 1" ] &&
    ok || bad "--dump-graph: the chain and its chunk root not marked"
# a comb filter over the whole mix (stateful, one input, an init that pulls nothing, and a
# state it can save: its delay lines) is run by the stream like the limiter: after the edit
# the comb resumes after chunk 0, runs over chunks 1 and 2, and its state at chunk 3's
# start is back to the same bits (q = 2 at 100 Hz: a ring of a few ms, gone 64608 frames
# after the edited note ends), so chunks 3 to 9 are found again: the bits of --no-cache
sed 's/render(MixPE(\*notes))/render(CombPE(MixPE(*notes), f0=100, q=2))/' "$tmp/notes.pg" >"$tmp/comb.pg"
sed 's/render(MixPE(\*notes))/render(CombPE(MixPE(*notes), f0=100, q=2))/' "$tmp/notes_edit.pg" \
    >"$tmp/comb_edit.pg"
expect_status 0 "$pg" "$tmp/comb.pg" -o "$tmp/cb1.wav" -q --explain --cache-dir "$tmp/lc_comb"
[ "$(hits) $(chunks)" = "0 200 0 10" ] && ok || bad "a comb on the mix, cold: $(hits) $(chunks)"
expect_status 0 "$pg" "$tmp/comb_edit.pg" -o "$tmp/cb2.wav" -q --explain --cache-dir "$tmp/lc_comb"
[ "$(hits) $(chunks)" = "47 1 8 2" ] &&
    grep -q "the master chain resumed after 1 of them (its state from the cache) and was found again for 7" \
        "$tmp/err" && ok || bad "a comb on the mix, after an edit: $(hits) $(chunks)"
expect_status 0 "$pg" "$tmp/comb_edit.pg" -o "$tmp/cb3.wav" -q --no-cache
cmp -s "$tmp/cb2.wav" "$tmp/cb3.wav" && ok || bad "a comb on the mix resumed differs"
# a comb of a 2 s delay (0.5 Hz) keeps 96000 frames of doubles, more than a chunk's bytes,
# so its states are not kept: run again, the mix under it is found (10 chunks) and the comb
# runs over all of them
sed 's/f0=100, q=2/f0=0.5, q=2/' "$tmp/comb.pg" >"$tmp/comb_long.pg"
expect_status 0 "$pg" "$tmp/comb_long.pg" -o "$tmp/cl1.wav" -q --explain --cache-dir "$tmp/lc_cl"
expect_status 0 "$pg" "$tmp/comb_long.pg" -o "$tmp/cl2.wav" -q --explain --cache-dir "$tmp/lc_cl"
[ "$(chunks)" = "10 0" ] && grep -q "; 10 through the master chain; encoding" "$tmp/err" && ok ||
    bad "a comb of a long delay on the mix: $(chunks) $(grep chunks "$tmp/err")"
expect_status 0 "$pg" compare "$tmp/n1.wav" "$tmp/n5.wav" --tolerance-db -1000
# a reverb on the mix (a ConvolvePE of 9600 taps: FFT partitions of 2048 frames on a grid
# from frame 0, each output partition reading its own and the 5 before it) is run by the
# stream, not made whole: the output's chunks hold it, each keyed by the source partitions
# it reads. Note 40 ([120000, 132000)) changes output frames up to 143359 (partition 69),
# so chunks 1 and 2 are rendered again; the reverb primes itself 5 partitions before chunk
# 1 (from 55296), so notes 15 to 65 sound in what they read: 50 loaded, note 40 made, and
# the impulse response loaded. The window is pygmu's extent, [0, 597100 + 9599): the
# bits of a render without cache
reverb='render(MixPE(m.gain(0.7), ConvolvePE(m.gain(0.28), ir).gain(0.3)))'
for v in "" _edit; do
    sed -e 's/render(MixPE(\*notes))/m = MixPE(*notes)/' "$tmp/notes$v.pg" >"$tmp/rv$v.pg"
    printf '%s\n%s\n' 'ir = NoisePE(seed=99).crop(Extent(0, 9600))' "$reverb" >>"$tmp/rv$v.pg"
done
expect_status 0 "$pg" "$tmp/rv.pg" -o "$tmp/rv1.wav" -q --explain --cache-dir "$tmp/lc_rv" \
    --dump-graph "$tmp/rv.dot"
[ "$(chunks)" = "0 10" ] && grep -q "ConvolvePE \[streamed, primed wherever asked\] need" "$tmp/err" &&
    grep -q "ConvolvePE.*streamed, primed wherever asked" "$tmp/rv.dot" &&
    ok || bad "a reverb, cold: $(chunks) $(grep ConvolvePE "$tmp/err")"
expect_status 0 "$pg" "$tmp/rv_edit.pg" -o "$tmp/rv2.wav" -q --explain --cache-dir "$tmp/lc_rv"
[ "$(hits) $(chunks)" = "51 1 8 2" ] && ok || bad "a reverb on the mix, after an edit: $(hits) $(chunks)"
expect_status 0 "$pg" "$tmp/rv_edit.pg" -o "$tmp/rv3.wav" -q --no-cache
cmp -s "$tmp/rv2.wav" "$tmp/rv3.wav" && ok || bad "a reverb's chunks after an edit differ"
# the same window alone, from that cache: chunks 2 to 5 found, the edges rendered (the
# reverb primed before each), the whole render's frames
expect_status 0 "$pg" "$tmp/rv_edit.pg" -o "$tmp/rv4.wav" -q --explain --cache-dir "$tmp/lc_rv" \
    --start 100000f --end 420000f
[ "$(chunks)" = "4 2" ] && ok || bad "a reverb's window: $(chunks)"
expect_status 0 "$pg" "$tmp/rv_edit.pg" -o "$tmp/rv5.wav" -q --no-cache --start 100000f --end 420000f
cmp -s "$tmp/rv4.wav" "$tmp/rv5.wav" && ok || bad "a reverb's window differs from one without cache"

# a --start/--end window keeps its output in chunks too, on the whole piece's grid: the
# window [100000, 420000) spans chunks 1 to 6, of which 2 to 5 lie inside it and are the
# whole render's (found in its cache); 1 and 6 are cut by the window (rendered, stored).
# (The notes that cross the window's edges are buffered over the part the window needs, a
# span of their own, and those that cross its end, 408000 and later, sound in chunk 6 only.)
# Run again, the window finds all 6. The notes it leaves out are grouped into sub-mixes as
# in the whole piece, so the window is the same sums: its frames equal the whole render's
# (every comb starts at its note's start, wherever the window starts)
cp -r "$tmp/nc" "$tmp/wc"
expect_status 0 "$pg" "$tmp/notes.pg" -o "$tmp/win1.wav" -q --explain --cache-dir "$tmp/wc" \
    --start 100000f --end 420000f
[ "$(chunks)" = "4 2" ] && ok || bad "a window from the whole piece's cache: $(chunks)"
expect_status 0 "$pg" "$tmp/notes.pg" -o "$tmp/win2.wav" -q --explain --cache-dir "$tmp/wc" \
    --start 100000f --end 420000f
[ "$(chunks)" = "6 0" ] && ok || bad "the window again: $(chunks)"
expect_status 0 "$pg" "$tmp/notes.pg" -o "$tmp/win3.wav" -q --no-cache --start 100000f \
    --end 420000f
echo 'render(WavReaderPE("n1.wav"))' >"$tmp/whole.pg"
expect_status 0 "$pg" "$tmp/whole.pg" -o "$tmp/win4.wav" -q --start 100000f --end 420000f
for w in win2 win3 win4; do
    expect_status 0 "$pg" compare "$tmp/win1.wav" "$tmp/$w.wav" --tolerance-db -1000
done

# three processes rendering into one cold cache at once: each render equals the first one,
# no temporary entry is left behind, and what they stored serves a warm render
for k in 1 2 3; do
    "$pg" "$tmp/notes.pg" -o "$tmp/p$k.wav" -q --cache-dir "$tmp/shared-cache" &
done
wait
for k in 1 2 3; do
    expect_status 0 "$pg" compare "$tmp/n1.wav" "$tmp/p$k.wav" --tolerance-db -1000
done
[ -z "$(find "$tmp/shared-cache" -name '*.pgc.*')" ] && ok || bad "temporary cache files left"
expect_status 0 "$pg" "$tmp/notes.pg" -o "$tmp/p4.wav" -q --explain --cache-dir "$tmp/shared-cache"
[ "$(hits) $(chunks)" = "0 0 10 0" ] && ok || bad "warm cache after three processes: $(hits) $(chunks)"

# a buffer rendered in parts on 2 threads (a stateless MapPE read backwards, 10 s) whose
# function fails in its fourth part (sin(0) at frame 0): the error with its line, no output
# file, no hang
cat >"$tmp/partfail.pg" <<'PG'
frame_rate(48000)
render(MapPE(SinPE(frequency=1).crop(Extent(-240000, 240000)), lambda v: 1 / v).reverse())
PG
expect_status 3 timeout 60 "$pg" "$tmp/partfail.pg" -o "$tmp/pf.wav" -j 2
grep -q "partfail.pg:2:.*division by zero" "$tmp/err" && ok || bad "part failure: $(head -1 "$tmp/err")"
[ -e "$tmp/pf.wav" ] && bad "a failed render in parts wrote a file" || ok

# a cache folder that cannot be made: the render goes on without a cache, the same bits
expect_status 0 "$pg" "$tmp/notes.pg" -o "$tmp/nocache.wav" -q --cache-dir /proc/pygmuc-cache
expect_status 0 "$pg" compare "$tmp/n1.wav" "$tmp/nocache.wav" --tolerance-db -1000

# a cached buffer is keyed by how its inputs are computed too: what is worth sharing
# depends on the window, so in piece_RD03's first 60 s a comb's input is a fused sum where
# the whole piece reads it from a buffer (the same values to within a rounding, not the same
# bits). The whole piece's cache must not serve that comb to the 60 s render, which equals
# one without a cache (it was 162 dB down but not equal)
rd=$(dirname "$0")/../../pieces/ported/piece_RD03.pg
"$pg" "$rd" -o "$tmp/rd.wav" -q --cache-dir "$tmp/rdc" &&
    "$pg" "$rd" -o "$tmp/rd-warm.wav" -q --cache-dir "$tmp/rdc" --duration 60s &&
    "$pg" "$rd" -o "$tmp/rd-none.wav" -q --no-cache --duration 60s
cmp -s "$tmp/rd-warm.wav" "$tmp/rd-none.wav" && ok ||
    bad "RD03's first 60 s from the whole piece's cache: $("$pg" compare "$tmp/rd-none.wav" "$tmp/rd-warm.wav")"

# --cache-limit: past it the least recently used entries go, down to the limit (the folder
# above holds more than 1 MiB); the render's bits are those of any other
entry_bytes() { ls -l "$1" | awk '$9 ~ /\.pgc$/ { s += $5 } END { print s + 0 }'; }
[ "$(entry_bytes "$tmp/nc")" -gt 1048576 ] && ok || bad "the cache holds $(entry_bytes "$tmp/nc") bytes"
expect_status 0 "$pg" "$tmp/notes.pg" -o "$tmp/lim.wav" -q --cache-dir "$tmp/lc" --cache-limit 1
[ "$(entry_bytes "$tmp/lc")" -le 1048576 ] && ok || bad "--cache-limit 1: $(entry_bytes "$tmp/lc") bytes"
expect_status 0 "$pg" compare "$tmp/n1.wav" "$tmp/lim.wav" --tolerance-db -1000
expect_status 64 "$pg" "$tmp/notes.pg" -o "$tmp/lim.wav" --cache-limit 0
# a limit beyond any size is no limit (it wrapped to a negative one and emptied the cache):
# the cold render keeps what one without the option keeps
expect_status 0 "$pg" "$tmp/notes.pg" -o "$tmp/lim.wav" -q --cache-dir "$tmp/lc2" --cache-limit 1e30
expect_status 0 "$pg" "$tmp/notes.pg" -o "$tmp/lim.wav" -q --cache-dir "$tmp/lc3"
[ "$(entry_bytes "$tmp/lc2")" = "$(entry_bytes "$tmp/lc3")" ] && [ "$(entry_bytes "$tmp/lc3")" -gt 1048576 ] &&
    ok || bad "--cache-limit 1e30 kept $(entry_bytes "$tmp/lc2") bytes, no limit $(entry_bytes "$tmp/lc3")"
expect_status 64 "$pg" "$tmp/notes.pg" -o "$tmp/lim.wav" --mem-limit 12abc

# a write that fails (here past a file-size limit, as on a full disk) stops the render with
# the system's reason; the old file stays, no temporary is left
echo "old" >"$tmp/big.wav"
(trap '' XFSZ && ulimit -f 200 && exec "$pg" "$tmp/notes.pg" -o "$tmp/big.wav" -q --no-cache) \
    >"$tmp/out" 2>"$tmp/err"
[ $? = 10 ] && grep -q "big.wav': cannot write the audio: File too large" "$tmp/err" &&
    [ "$(cat "$tmp/big.wav")" = "old" ] && [ -z "$(ls -A "$tmp" | grep '^\.big')" ] &&
    ok || bad "write failure: $(cat "$tmp/err")"

# a cache folder that cannot be used is a warning (-q: silent), and the render goes on
echo "a file" >"$tmp/notafolder"
expect_status 0 "$pg" "$tmp/tone.pg" -o "$tmp/nc.wav" --cache-dir "$tmp/notafolder"
grep -q "warning: rendered without the cache: cannot use '.*notafolder': Not a directory" \
    "$tmp/err" && ok || bad "unusable cache folder: $(cat "$tmp/err")"
expect_status 0 "$pg" "$tmp/tone.pg" -o "$tmp/nc.wav" --cache-dir "$tmp/notafolder" -q
[ -s "$tmp/err" ] && bad "-q printed: $(cat "$tmp/err")" || ok

# --dump-graph never writes over the piece or the output (it did, after the render)
cp "$tmp/tone.pg" "$tmp/dg.pg"
expect_status 64 "$pg" "$tmp/dg.pg" -o "$tmp/dg.wav" --dump-graph "$tmp/./dg.pg"
expect_status 64 "$pg" "$tmp/dg.pg" -o "$tmp/dg.wav" --dump-graph "$tmp/dg.wav"
cmp -s "$tmp/tone.pg" "$tmp/dg.pg" && [ ! -e "$tmp/dg.wav" ] && ok || bad "--dump-graph overwrote"

# NaN or infinite samples in the output are a warning with the time of the first (-q: silent)
echo 'render(MixPE(SinPE(frequency=440.0).crop(Extent(0, 96000)), ConstPE(3e38).gain(10.0).crop(Extent(72000, 72010))))' >"$tmp/inf.pg"
expect_status 0 "$pg" "$tmp/inf.pg" -o "$tmp/inf.wav" --block 7
grep -q "warning: the output holds NaN or infinite samples, the first at 1.500 s" "$tmp/err" &&
    ok || bad "non-finite warning: $(cat "$tmp/err")"
expect_status 0 "$pg" "$tmp/inf.pg" -o "$tmp/inf.wav" -q
[ -s "$tmp/err" ] && bad "-q printed: $(cat "$tmp/err")" || ok
# compare: NaN samples against numbers are an infinite difference (fabs(x - NaN) is NaN,
# which passed every tolerance: a render full of NaNs compared "ok" with anything)
echo 'render(MixPE(SinPE(frequency=440.0).crop(Extent(0, 96000)), MixPE(ConstPE(3e38).gain(10.0), ConstPE(-3e38).gain(10.0)).crop(Extent(72000, 72010))))' >"$tmp/nan.pg"
echo 'render(SinPE(frequency=440.0).crop(Extent(0, 96000)))' >"$tmp/fin.pg"
expect_status 0 "$pg" "$tmp/nan.pg" -o "$tmp/nan.wav" -q
expect_status 0 "$pg" "$tmp/fin.pg" -o "$tmp/fin.wav" -q
expect_status 1 "$pg" compare "$tmp/fin.wav" "$tmp/nan.wav"
grep -q "peak_diff_dbfs=inf" "$tmp/out" && ok || bad "NaN compare: $(cat "$tmp/out")"
expect_status 0 "$pg" compare "$tmp/nan.wav" "$tmp/nan.wav" # NaN where NaN was: equal

# a NUL byte is an error where it is, not the end of the piece (what followed it was dropped:
# the render(oops) after it went unseen, exit 0)
printf 'x = 1\nrender(SinPE(frequency=440.0).crop(Extent(0, 480)))\n  \0render(oops)\n' >"$tmp/nul.pg"
expect_status 1 "$pg" check "$tmp/nul.pg"
grep -q "nul.pg:3:3: error: a NUL byte in the piece" "$tmp/err" && ok || bad "NUL: $(head -1 "$tmp/err")"

# SIGTERM or SIGHUP during a render (Ctrl-C is SIGINT, which a background job here ignores):
# the render stops, the old output stays, no temporary file is left beside it or in the
# cache, the cache's ledger counts what it holds, and pygmuc dies of the signal (128 + n).
# The piece takes about 2 s here (minutes under the sanitizers); the signal goes 0.3 s
# after the temporary output appears, and the render then ends at its next block.
cat >"$tmp/long.pg" <<'EOF'
frame_rate(48000)
notes = []
for i in range(5000):
    notes.append(BlitSawPE(frequency=110 + i % 40).crop(Extent(i * 11520, i * 11520 + 192000)).gain(0.01))
render(MixPE(*notes))
EOF
for sig in TERM HUP; do
    rm -rf "$tmp/sigdir" && mkdir "$tmp/sigdir" && echo old >"$tmp/sigdir/out.wav"
    "$pg" "$tmp/long.pg" -o "$tmp/sigdir/out.wav" --cache-dir "$tmp/sigdir/cache" 2>"$tmp/err" &
    pid=$!
    for i in $(seq 3000); do # 30 s at most
        ls -a "$tmp/sigdir" | grep -q '^\.out\.wav\.pygmuc-' && break
        sleep 0.01
    done
    sleep 0.3 # (some entries stored by then)
    kill -$sig $pid
    wait $pid
    rc=$?
    want=$([ $sig = TERM ] && echo 143 || echo 129)
    [ "$rc" = "$want" ] && ok || bad "SIG$sig during a render: exit $rc, want $want"
    [ "$(cat "$tmp/sigdir/out.wav")" = old ] && ok || bad "SIG$sig: the old output is gone"
    [ "$(ls -a "$tmp/sigdir" | grep -c pygmuc-)" = 0 ] && ok || bad "SIG$sig: a temporary output left"
    [ "$(ls "$tmp/sigdir/cache" | grep -c '\.pgc\.')" = 0 ] && ok || bad "SIG$sig: a half-stored entry"
    used=$(sed -n 's/^pygmuc-cache-usage \([0-9]*\)$/\1/p' "$tmp/sigdir/cache/usage")
    [ "${used:-0}" = "$(entry_bytes "$tmp/sigdir/cache")" ] && ok ||
        bad "SIG$sig: the ledger says $used bytes, the cache holds $(entry_bytes "$tmp/sigdir/cache")"
    grep -q "pygmuc: interrupted: '.*out.wav' not written" "$tmp/err" && ok ||
        bad "SIG$sig: $(cat "$tmp/err")"
done
# ... and with the progress bar on a terminal (script gives one), the message starts a line
# of its own instead of running on from the bar
if command -v script >/dev/null; then
    (cd "$tmp/sigdir" && script -qec "sh -c '\"$pg\" \"$tmp/long.pg\" -o bar.wav --no-cache & p=\$!
        while ! ls -a | grep -q bar.wav.pygmuc-; do sleep 0.01; done
        sleep 0.3; kill -TERM \$p; wait \$p'" /dev/null >"$tmp/tty.txt" 2>&1)
    tr '\r' '\n' <"$tmp/tty.txt" | grep -q "^pygmuc: interrupted: 'bar.wav' not written" && ok ||
        bad "the progress bar and the interruption: $(cat -A "$tmp/tty.txt" | tail -2)"
fi

# An output file patched in place (runtime/patch.c): after a one-note edit pygmuc writes the
# chunk the edit changed (of 15: note 20 sounds in [480000, 492000), chunk 7 alone) into the
# file it wrote before, the same inode, byte for byte the file a new render writes;
# --no-patch writes a new one. SIGTERM during such a render (a note of 3000 saws added in
# chunk 7: seconds of work, its saws stored in the cache as they are made) leaves the file
# as it was, and its record good: the next render patches it.
cat >"$tmp/patch.pg" <<'PIECE'
frame_rate(48000)
notes = []
for i in range(40):
    notes.append(SinPE(frequency=200 + 10 * i).crop(Extent(i * 24000, i * 24000 + 12000)).gain(0.1))
render(MixPE(*notes))
PIECE
sed 's/200 + 10 \* i)/200 + 10 * i + (5 if i == 20 else 0))/' "$tmp/patch.pg" >"$tmp/patch_edit.pg"
sed 's/^render(MixPE(\*notes))/notes.append(MixPE(*[BlitSawPE(frequency=100 + k).crop(Extent(470000, 520000)) for k in range(3000)]).gain(0.0001))\nrender(MixPE(*notes))/' \
    "$tmp/patch.pg" >"$tmp/patch_heavy.pg"
pd=$tmp/patchdir
rm -rf "$pd" && mkdir "$pd"
"$pg" "$tmp/patch.pg" -o "$pd/p.wav" --cache-dir "$pd/c" -q --explain 2>"$tmp/err"
grep -q "output written as a new file (not patched in place: a new file)" "$tmp/err" && ok ||
    bad "patch: the first render: $(grep output "$tmp/err")"
inode=$(stat -c %i "$pd/p.wav")
cp "$pd/p.wav" "$pd/first.wav"
"$pg" "$tmp/patch_edit.pg" -o "$pd/p.wav" --cache-dir "$pd/c" -q --explain 2>"$tmp/err"
grep -q "output patched in place: 1 chunk written, 14 held by the file already" "$tmp/err" && ok ||
    bad "patch: the edit: $(grep output "$tmp/err")"
[ "$(stat -c %i "$pd/p.wav")" = "$inode" ] && ok || bad "patch: the file was replaced"
"$pg" "$tmp/patch_edit.pg" -o "$pd/ref.wav" --no-cache -q
cmp -s "$pd/p.wav" "$pd/ref.wav" && ok || bad "patch: not the bytes of a new render"
"$pg" "$tmp/patch.pg" -o "$pd/p.wav" --cache-dir "$pd/c" -q --no-patch --explain 2>"$tmp/err"
grep -q "not patched in place: --no-patch" "$tmp/err" && [ "$(stat -c %i "$pd/p.wav")" != "$inode" ] &&
    cmp -s "$pd/p.wav" "$pd/first.wav" && ok || bad "patch: --no-patch: $(grep output "$tmp/err")"
cp "$pd/p.wav" "$pd/before.wav"
entries=$(ls "$pd/c" | wc -l)
"$pg" "$tmp/patch_heavy.pg" -o "$pd/p.wav" --cache-dir "$pd/c" 2>"$tmp/err" &
pid=$!
for i in $(seq 3000); do # 30 s at most: until its saws are being stored
    [ "$(ls "$pd/c" | wc -l)" -gt $((entries + 20)) ] && break
    sleep 0.01
done
kill -TERM $pid
wait $pid
rc=$?
[ "$rc" = 143 ] && ok || bad "SIGTERM while patching: exit $rc, want 143"
cmp -s "$pd/p.wav" "$pd/before.wav" && ok || bad "SIGTERM while patching: the file changed"
[ "$(ls -a "$pd" | grep -c pygmuc-)" = 0 ] && ok || bad "SIGTERM while patching: a temporary file left"
"$pg" "$tmp/patch.pg" -o "$pd/p.wav" --cache-dir "$pd/c" -q --explain 2>"$tmp/err"
grep -q "output patched in place: 0 chunks written, 15 held by the file already" "$tmp/err" && ok ||
    bad "patch: after SIGTERM: $(grep output "$tmp/err")"

# check compiles without rendering; usage errors are 64
expect_status 0 "$pg" check "$tmp/tone.pg"
[ -e "$tmp/tone.pg.wav" ] && bad "check wrote audio" || ok
expect_status 64 "$pg" "$tmp/tone.pg"
expect_status 64 "$pg" "$tmp/tone.pg" -o "$tmp/x.wav" --bogus
# a bad value names its option and what it takes, in one line and a pointer to --help
expect_status 64 "$pg" "$tmp/tone.pg" -o "$tmp/x.wav" --block 0
[ "$(head -1 "$tmp/err")" = "pygmuc: bad value '0' for --block (frames: a whole number from 1 to 16777216)" ] &&
    [ "$(wc -l <"$tmp/err")" -eq 2 ] && ok || bad "--block 0: $(cat "$tmp/err")"
expect_status 7 "$pg" compare "$tmp/none.wav" "$tmp/tone.wav"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
