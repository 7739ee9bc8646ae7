#!/bin/sh
# differential.sh PYGMUC FROM TO: random pieces FROM..TO (random_piece.py, python3), each
# rendered without any cache (the reference) and compared, bit for bit, with what every
# other path makes of it: other block sizes and thread counts (64 on 4 threads, 65536 on 1,
# and 1 on 3 for pieces of 300000 frames at most), the cache cold and warm (-j 1), a
# one-note edit with the first render's cache (WAV, and FLAC on 2 threads against 1 without
# cache; and under --mem-limit 64 on 4 threads in blocks of 1000, unless that limit is too
# small), the edit patched into the file the piece was rendered into and patched back
# (runtime/patch.c), a window from the cache against one without (--block 7) and, when every
# stateful node has a start, against the whole render's frames (within -120 dB); -O0 within
# -120 dB. A render that fails (a crash, a sanitizer's report: try it with an ASan build's
# pygmuc) counts as a difference.
# Prints one line per difference and a count. CTest runs seeds 1 to 12 (test "differential");
# more by hand (~3 s a piece).
set -u
pg=$1
here=$(cd "$(dirname "$0")" && pwd)
fails=0
bad() {
    echo "$s: $*"
    fails=$((fails + 1))
}
cmp_to() { # label A B
    cmp -s "$2" "$3" || bad "$1 differs: $("$pg" compare "$2" "$3")"
}
r() { # a render that must succeed (a crash or a sanitizer's report is a difference too)
    "$pg" "$@" 2>"$w/stderr" || {
        bad "failed ($?): $*: $(tail -1 "$w/stderr")"
        return 1
    }
}
for s in $(seq "$2" "$3"); do
    w=$(mktemp -d)
    python3 "$here/random_piece.py" "$s" >"$w/p.pg"
    python3 "$here/random_piece.py" "$s" edit >"$w/e.pg"
    if ! "$pg" "$w/p.pg" -o "$w/ref.wav" -q --no-cache --explain 2>"$w/err"; then
        bad "the reference render failed: $(tail -1 "$w/err")"
        rm -rf "$w"
        continue
    fi
    st=$(sed -n 's/.*window \[\(-*[0-9]*\), .*/\1/p' "$w/err")
    en=$(sed -n 's/.*window \[-*[0-9]*, \(-*[0-9]*\)).*/\1/p' "$w/err")
    grep -q "starts where first needed" "$w/err" && floating=1 || floating=0
    r "$w/p.pg" -o "$w/cold.wav" -q --cache-dir "$w/c" && cmp_to cold "$w/ref.wav" "$w/cold.wav"
    r "$w/p.pg" -o "$w/warm.wav" -q --cache-dir "$w/c" -j 1 && cmp_to warm "$w/ref.wav" "$w/warm.wav"
    # other block sizes and thread counts (block 1 for the shorter pieces: it is slow)
    r "$w/p.pg" -o "$w/b64.wav" -q --no-cache -j 4 --block 64 &&
        cmp_to "-j 4 --block 64" "$w/ref.wav" "$w/b64.wav"
    r "$w/p.pg" -o "$w/b64k.wav" -q --no-cache -j 1 --block 65536 &&
        cmp_to "-j 1 --block 65536" "$w/ref.wav" "$w/b64k.wav"
    if [ "$((en - st))" -le 300000 ]; then
        r "$w/p.pg" -o "$w/b1.wav" -q --no-cache -j 3 --block 1 &&
            cmp_to "--block 1" "$w/ref.wav" "$w/b1.wav"
    fi
    r "$w/e.pg" -o "$w/eref.wav" -q --no-cache
    cp -r "$w/c" "$w/c2"
    r "$w/e.pg" -o "$w/edit.wav" -q --cache-dir "$w/c2" && cmp_to edit "$w/eref.wav" "$w/edit.wav"
    cp -r "$w/c" "$w/c3"
    if "$pg" "$w/e.pg" -o "$w/editm.wav" -q --cache-dir "$w/c3" -j 4 --block 1000 \
        --mem-limit 64 2>"$w/merr"; then
        cmp_to "edit under --mem-limit 64" "$w/eref.wav" "$w/editm.wav"
    elif ! grep -q "over the memory limit" "$w/merr"; then
        bad "edit under --mem-limit: $(tail -1 "$w/merr")"
    fi
    r "$w/e.pg" -o "$w/edit.flac" -q --cache-dir "$w/c2" -j 2 &&
        r "$w/e.pg" -o "$w/eref.flac" -q --no-cache -j 1 &&
        cmp_to "edit to FLAC" "$w/eref.flac" "$w/edit.flac"
    # the edit patched into the file the piece was rendered into (runtime/patch.c), and back
    cp -r "$w/c" "$w/c4"
    r "$w/p.pg" -o "$w/patched.wav" -q --cache-dir "$w/c4" &&
        r "$w/e.pg" -o "$w/patched.wav" -q --cache-dir "$w/c4" &&
        cmp_to "edit patched in place" "$w/eref.wav" "$w/patched.wav" &&
        r "$w/p.pg" -o "$w/patched.wav" -q --cache-dir "$w/c4" -j 1 &&
        cmp_to "edit patched back" "$w/ref.wav" "$w/patched.wav" &&
        r "$w/p.pg" -o "$w/patched.wav" -q --cache-dir "$w/c4" --block 7 &&
        cmp_to "the same piece patched" "$w/ref.wav" "$w/patched.wav"
    w0=$((st + (en - st) / 3))
    w1=$((st + 2 * (en - st) / 3 + 1))
    r "$w/p.pg" -o "$w/win.wav" -q --cache-dir "$w/c" --start ${w0}f --end ${w1}f &&
        r "$w/p.pg" -o "$w/winn.wav" -q --no-cache --start ${w0}f --end ${w1}f --block 7 &&
        cmp_to "window from the cache" "$w/winn.wav" "$w/win.wav"
    if [ "$floating" = 0 ]; then
        printf 'render(WavReaderPE("ref.wav").time_shift(%s))\n' "$st" >"$w/back.pg"
        r "$w/back.pg" -o "$w/winr.wav" -q --no-cache --start ${w0}f --end ${w1}f &&
            { "$pg" compare "$w/winr.wav" "$w/winn.wav" --tolerance-db -120 >/dev/null ||
                bad "the window differs from the whole render: $("$pg" compare "$w/winr.wav" "$w/winn.wav")"; }
    fi
    r "$w/p.pg" -o "$w/o0.wav" -q --no-cache -O0 &&
        { "$pg" compare "$w/ref.wav" "$w/o0.wav" --tolerance-db -120 >/dev/null ||
            bad "-O0 differs: $("$pg" compare "$w/ref.wav" "$w/o0.wav")"; }
    rm -rf "$w"
done
echo "pieces $2..$3: $fails differences"
[ "$fails" = 0 ]
