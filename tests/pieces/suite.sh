# suite.sh, sourced by the piece suites (invariants.sh, edits.sh): a temporary folder $tmp
# removed on exit, the passed/failed counters, and each_piece FUNCTION DIR..., which calls
# FUNCTION on every piece under the DIRs that has a reference render beside it (X.ref.flac
# or X.ref.wav), in sorted order; a missing DIR is skipped (../shared/conformance may be).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

each_piece() {
    each_piece_fn=$1
    shift
    for dir in "$@"; do
        [ -d "$dir" ] || continue
        for p in $(find "$dir" -name '*.pg' | sort); do
            base=${p%.pg}
            [ -f "$base.ref.flac" ] || [ -f "$base.ref.wav" ] || continue
            "$each_piece_fn" "$p"
        done
    done
}
