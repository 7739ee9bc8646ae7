#!/bin/sh
# edits.sh PYGMUC DIR...: the render cache across an edit. Each piece with a reference under
# the DIRs is rendered into a fresh cache, then edited (one number changed: the middle
# numeric literal outside comments, an integer plus one, a decimal times 1.5) and rendered
# again with that cache; the edited render must be bit-identical to one without any cache.
# A cache key that missed a parameter would serve the old piece's buffers or output chunks
# (design.md invariant 3, issue 4: a changed parameter changes the key). Prints one line per
# failure and "N passed, N failed".
set -u
. "$(dirname "$0")/suite.sh"
pygmuc=$1
shift

# The piece with its middle number changed, on stdout; nothing when it has no number.
edit() {
    awk '
    function lits(line, keep,   s, n, pre) {
        s = line
        sub(/#.*/, "", s) # comments hold numbers that change nothing
        n = 0
        while (match(s, /[0-9]+(\.[0-9]+)?/)) {
            pre = RSTART > 1 ? substr(s, RSTART - 1, 1) : ""
            if (pre !~ /[A-Za-z_.]/)
                n++
            s = substr(s, RSTART + RLENGTH)
        }
        return n
    }
    { text[NR] = $0; count[NR] = lits($0); total += count[NR] }
    END {
        want = int((total + 1) / 2) # the middle literal, counted from 1
        for (i = 1; i <= NR; i++) {
            line = text[i]
            if (want > 0 && want <= count[i]) {
                out = ""; s = line; k = 0
                while (match(s, /[0-9]+(\.[0-9]+)?/)) {
                    pre = RSTART > 1 ? substr(s, RSTART - 1, 1) : ""
                    num = substr(s, RSTART, RLENGTH)
                    if (pre !~ /[A-Za-z_.]/ && ++k == want)
                        num = index(num, ".") ? num * 1.5 : num + 1
                    out = out substr(s, 1, RSTART - 1) num
                    s = substr(s, RSTART + RLENGTH)
                }
                line = out s
            }
            want -= count[i]
            print line
        }
    }' "$1"
}

# A mirror of the piece's folder and of its siblings (symbolic links), so that the edited
# copy, written beside them, finds the files the piece names (relative to its folder).
mirror() {
    d=$(cd "$(dirname "$1")" && pwd)
    name=$(basename "$d")
    rm -rf "$tmp/m"
    mkdir -p "$tmp/m/$name"
    for f in "$(dirname "$d")"/*; do
        [ "$(basename "$f")" = "$name" ] || ln -s "$f" "$tmp/m/"
    done
    for f in "$d"/*; do
        ln -s "$f" "$tmp/m/$name/"
    done
    echo "$tmp/m/$name"
}

check_piece() {
    p=$1
    n=$(basename "$p" .pg)
    rm -rf "$tmp/cache"
    "$pygmuc" "$p" -o "$tmp/cold.wav" -q --cache-dir "$tmp/cache" 2>"$tmp/err" || {
        echo "FAIL $n: the piece itself: $(head -1 "$tmp/err")"
        failed=$((failed + 1))
        return
    }
    e=$(mirror "$p")/edit.pg
    edit "$p" >"$e"
    cmp -s "$p" "$e" && return # no number to change
    "$pygmuc" "$e" -o "$tmp/none.wav" -q --no-cache 2>/dev/null
    st_none=$?
    "$pygmuc" "$e" -o "$tmp/warm.wav" -q --cache-dir "$tmp/cache" 2>"$tmp/err"
    st_warm=$?
    if [ "$st_none" != "$st_warm" ]; then
        echo "FAIL $n edited: exit $st_warm with the cache, $st_none without: $(head -1 "$tmp/err")"
        failed=$((failed + 1))
    elif [ "$st_none" != 0 ] || cmp -s "$tmp/none.wav" "$tmp/warm.wav"; then
        passed=$((passed + 1)) # (an edit the piece refuses is refused alike)
    else
        echo "FAIL $n edited: the render with the old piece's cache differs from one without: " \
            "$("$pygmuc" compare "$tmp/none.wav" "$tmp/warm.wav")"
        failed=$((failed + 1))
    fi
}

each_piece check_piece "$@"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
