#!/bin/sh
# bench/run.sh [BUILD_DIR] [RUNS]: render every piece in pieces/ and the conformance set
# RUNS times (default 5) and print, per piece, the median render time inside the process,
# the realtime factor (seconds of audio per second), peak memory, and pygmu's render time
# from ../shared/conformance/README.md with the speed-up over it. Not a test: numbers only.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
runs=${2:-5}
pygmuc=$build/pygmuc
conf=$here/../shared/conformance
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# pygmu's wall time for a conformance piece (the README's table), or "-".
pygmu_time() {
    [ -f "$conf/README.md" ] || { echo -; return; }
    awk -F'|' -v p="$1" '$2 ~ " "p" " && $4 ~ /[0-9]/ { gsub(/ /, "", $4); print $4; f=1 }
                         END { if (!f) print "-" }' "$conf/README.md"
}

bench_piece() { # piece.pg
    name=$(basename "$1" .pg)
    times=""
    for i in $(seq "$runs"); do
        if ! "$pygmuc" "$1" -o "$out/$name.wav" -q --no-cache --explain 2>"$out/log" >/dev/null
        then
            printf "%-28s render failed: %s\n" "$name" "$(head -1 "$out/log")"
            return 0
        fi
        line=$(grep '^stats:' "$out/log")
        times="$times $(echo "$line" | sed 's/.*render_sec=\([0-9.]*\).*/\1/')"
    done
    audio=$(echo "$line" | sed 's/.*audio_sec=\([0-9.]*\).*/\1/')
    rss=$(echo "$line" | sed 's/.*peak_rss_mib=\([0-9.]*\).*/\1/')
    median=$(echo $times | tr ' ' '\n' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    ref=$(pygmu_time "$name")
    awk -v n="$name" -v a="$audio" -v m="$median" -v r="$rss" -v p="$ref" 'BEGIN {
        rt = m > 0 ? a / m : 0; sp = (p != "-" && m > 0) ? sprintf("%.0fx", p / m) : "-";
        printf "%-28s %8.2f %10.4f %10.0fx %9.1f %10s %9s\n", n, a, m, rt, r, p, sp }'
}

printf "%-28s %8s %10s %11s %9s %10s %9s\n" piece audio_s median_s realtime rss_MiB pygmu_s speedup
for p in "$here"/pieces/*.pg; do bench_piece "$p"; done
if [ -d "$conf" ]; then
    for p in "$conf"/*.pg; do bench_piece "$p"; done
fi
