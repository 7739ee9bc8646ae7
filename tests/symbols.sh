#!/bin/sh
# symbols.sh LIB...: every global symbol our static libraries define must carry the public
# prefix pg_, the PE prefixes pe_ / pe_kind_, or the prefix of the module that defines it
# (style.md §2), so internals cannot collide with a host program's names.
set -u
prefixes='pg_ pe_ arena_ session_ diag_ lex_ parse_ eval_ value_ builtins_ methods_ prng_
graph_ planner_ verify_ dot_ exec_ plan_ aio_ cache_ fuse_ fft_ midi_ pool_ bufpool_
flac_seg_ pcm_ memfile_ patch_ out_record_'
bad=0
total=0
for lib in "$@"; do
    # compiler-made symbols (sanitizer ODR markers, ...) start with an underscore: skip them
    for sym in $(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF == 3 && $3 !~ /^_/ { print $3 }'); do
        total=$((total + 1))
        ok=0
        for p in $prefixes; do
            case "$sym" in "$p"*) ok=1 ;; esac
        done
        if [ $ok = 0 ]; then
            echo "symbol without a module prefix: $sym ($(basename "$lib"))"
            bad=$((bad + 1))
        fi
    done
done
echo "$((total - bad)) passed, $bad failed"
[ $bad = 0 ]
