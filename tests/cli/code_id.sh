#!/bin/sh
# code_id.sh SOURCE_DIR: runtime/code_id.cmake, the code identity in every cache key, changes
# when a source's content or the compile flags change, and only then (touching a file, or
# hashing again, leaves the header as it was, so nothing rebuilds).
set -u
script=$1/runtime/code_id.cmake
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { echo "FAIL: $1"; failed=$((failed + 1)); }
id() { # flags: prints the id written for the two sources
    cmake -DOUT="$tmp/id.h" -DSOURCES="$tmp/a.c,$tmp/b.c" -DFLAGS="$1" -P "$script" &&
        sed 's/.*"\(.*\)".*/\1/' "$tmp/id.h"
}
echo "int a;" >"$tmp/a.c"
echo "int b;" >"$tmp/b.c"
first=$(id "-O2")
[ ${#first} -eq 16 ] && ok || bad "an id of 16 hex digits: '$first'"
touch -d '2001-01-01' "$tmp/id.h"
touch "$tmp/a.c"
[ "$(id "-O2")" = "$first" ] && ok || bad "touching a source changed the id"
[ "$(find "$tmp/id.h" -newermt 2002-01-01)" = "" ] && ok || bad "the same id rewrote the header"
echo "int a = 1;" >"$tmp/a.c"
second=$(id "-O2")
[ "$second" != "$first" ] && ok || bad "a changed source kept the id"
[ "$(id "-O0")" != "$second" ] && ok || bad "changed flags kept the id"
echo "int a;" >"$tmp/a.c"
[ "$(id "-O2")" = "$first" ] && ok || bad "the same sources gave another id"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
