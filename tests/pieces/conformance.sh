#!/bin/sh
# conformance.sh PYGMUC DIR PIECE...: render pygmu's conformance pieces (DIR is
# ../shared/conformance) and compare with pygmu's own renders within -90 dBFS. Skips (exit
# 77) when DIR does not exist, e.g. outside the project's CI.
set -u
pygmuc=$1
dir=$2
shift 2
if [ ! -d "$dir" ]; then
    echo "conformance: $dir not found: skipped"
    exit 77
fi
set --
for p in $CONFORMANCE_PIECES; do
    set -- "$@" "$dir/$p.pg"
done
exec "$pygmuc" verify "$@" --tolerance-db -90 -j 2
