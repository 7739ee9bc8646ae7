#!/bin/sh
# golden.sh PYGMUC PIECES_DIR: re-render every piece with a reference beside it and compare
# (pygmuc verify: one row per piece, "N passed, N failed", exit 1 on any failure).
set -u
exec "$1" verify "$2" -j 2
