#!/bin/sh
# invariants.sh PYGMUC DIR...: design.md's invariants on every piece found under the DIRs
# (pieces with a reference beside them): the render is bit-identical for -j 1, 2 and 4, for
# block sizes 1, 7, 64, 4096 and 65536 (1 and 7 over the first 0.2 s, to keep it quick), and
# with the render cache cold, warm and disabled (and a window of the piece rendered from the
# whole piece's cache, which is the whole render's frames when every stateful node has a
# start); -O0 (the naive plan) agrees with the optimised plan within -120 dBFS;
# a FLAC file (encoded in segments on -j threads, kept in the cache) is the same bytes on 1
# and 4 threads, with the cache disabled, cold and warm (and passes flac -t where the flac
# tool is installed). Prints one line per failure and "N passed, N failed".
set -u
. "$(dirname "$0")/suite.sh"
pygmuc=$1
shift

same() { # label A B TOLERANCE_DB
    if "$pygmuc" compare "$2" "$3" --tolerance-db "$4" >"$tmp/cmp" 2>&1; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL $1: $(cat "$tmp/cmp")"
    fi
}

render() { # piece out options...
    p=$1
    o=$2
    shift 2
    "$pygmuc" "$p" -o "$o" -q --subtype float "$@" 2>"$tmp/err" || {
        echo "FAIL render (exit $?): $p $*: $(head -3 "$tmp/err")"
        failed=$((failed + 1))
        return 1
    }
}

check_piece() {
    p=$1
    n=$(basename "$p" .pg)
    render "$p" "$tmp/ref.wav" --no-cache --explain || return
    start=$(sed -n 's/.*window \[\(-*[0-9]*\), .*/\1/p' "$tmp/err")
    end=$(sed -n 's/.*window \[-*[0-9]*, \(-*[0-9]*\)).*/\1/p' "$tmp/err")
    grep -q "starts where first needed" "$tmp/err" && floating=1 || floating=0
    for j in 1 4; do
        render "$p" "$tmp/j$j.wav" --no-cache -j $j && same "$n -j $j" "$tmp/ref.wav" "$tmp/j$j.wav" -1000
    done
    for b in 64 65536; do
        render "$p" "$tmp/b$b.wav" --no-cache --block $b && same "$n --block $b" "$tmp/ref.wav" "$tmp/b$b.wav" -1000
    done
    render "$p" "$tmp/short.wav" --no-cache --duration 0.2s --block 4096
    for b in 1 7; do
        render "$p" "$tmp/s$b.wav" --no-cache --duration 0.2s --block $b && same "$n --block $b" "$tmp/short.wav" "$tmp/s$b.wav" -1000
    done
    rm -rf "$tmp/cache"
    render "$p" "$tmp/cold.wav" --cache-dir "$tmp/cache" && same "$n cold cache" "$tmp/ref.wav" "$tmp/cold.wav" -1000
    render "$p" "$tmp/warm.wav" --cache-dir "$tmp/cache" && same "$n warm cache" "$tmp/ref.wav" "$tmp/warm.wav" -1000
    # a window, off the chunk grid, from the whole piece's cache (it shares the chunks inside)
    render "$p" "$tmp/win-none.wav" --no-cache --start 1.3s --duration 2.1s &&
        render "$p" "$tmp/win-warm.wav" --cache-dir "$tmp/cache" --start 1.3s --duration 2.1s &&
        same "$n window, warm cache" "$tmp/win-none.wav" "$tmp/win-warm.wav" -1000
    # ... and those frames of the whole render read back (to within the rounding of a plan
    # that shares differently), unless a stateful node has no start: it then starts where the
    # window first needs it, as in pygmu
    # (its middle third: past the whole render's end, a filter's tail would sound)
    if [ "$floating" = 0 ]; then
        w0=$((start + (end - start) / 3))
        w1=$((start + 2 * (end - start) / 3))
        piece=$p # (render sets p)
        printf 'render(WavReaderPE("ref.wav").time_shift(%s))\n' "$start" >"$tmp/ref_window.pg"
        render "$p" "$tmp/win-mid.wav" --no-cache --start ${w0}f --end ${w1}f &&
            render "$tmp/ref_window.pg" "$tmp/win-ref.wav" --no-cache --start ${w0}f --end ${w1}f &&
            same "$n window of the whole render" "$tmp/win-ref.wav" "$tmp/win-mid.wav" -120
        p=$piece
    fi
    render "$p" "$tmp/o0.wav" -O0 && same "$n -O0" "$tmp/ref.wav" "$tmp/o0.wav" -120
    check_flac "$p" "$n"
}

bytes_same() { # label A B
    if cmp -s "$2" "$3"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL $1: the FLAC files differ"
    fi
}

check_flac() { # piece name
    flac_piece=$1
    flac_name=$2
    rm -rf "$tmp/fcache"
    for run in "none --no-cache -j 1" "cold --cache-dir $tmp/fcache -j 4" \
        "warm --cache-dir $tmp/fcache -j 2"; do
        set -- $run
        label=$1
        shift
        "$pygmuc" "$flac_piece" -o "$tmp/$label.flac" -q "$@" 2>"$tmp/err" || {
            echo "FAIL render (exit $?): $flac_piece $*: $(head -3 "$tmp/err")"
            failed=$((failed + 1))
            return
        }
    done
    bytes_same "$flac_name FLAC cold cache, -j 4" "$tmp/none.flac" "$tmp/cold.flac"
    bytes_same "$flac_name FLAC warm cache, -j 2" "$tmp/none.flac" "$tmp/warm.flac"
    if command -v flac >/dev/null; then
        if flac -t -s "$tmp/warm.flac" 2>"$tmp/err"; then
            passed=$((passed + 1))
        else
            failed=$((failed + 1))
            echo "FAIL $flac_name: flac -t: $(cat "$tmp/err")"
        fi
    fi
}

each_piece check_piece "$@"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
