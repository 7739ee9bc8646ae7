#!/bin/sh
# header_check.sh INCLUDE_DIR: the public header compiles alone as strict C11 and as C++.
set -eu
dir=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include "pygmu.h"\nint pg_header_check_(void);\nint pg_header_check_(void) { return PG_OK; }\n' >"$tmp/c.c"
cc -std=c11 -Wall -Wextra -Wpedantic -Werror -I"$dir" -c "$tmp/c.c" -o "$tmp/c.o"
passed=1
if command -v c++ >/dev/null 2>&1; then
    printf '#include "pygmu.h"\nint main() { pg_extent e = pg_extent_make(0, 1); return (int)e.start; }\n' >"$tmp/x.cc"
    c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -I"$dir" -c "$tmp/x.cc" -o "$tmp/x.o"
    passed=2
fi
echo "$passed passed, 0 failed"
