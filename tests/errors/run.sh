#!/bin/sh
# run.sh: the error-piece suite. Each DIR/*.pg starts with the line
#   # expect: <line>:<col> <kind> <message substring>
# (kind: syntax name arg channels rate extent file limit). For each piece, `$PYGMUC check`
# must exit with the kind's pg_status number (not a crash: < 128) and print
# "<file>:<line>:<col>: error: ..." on stderr with the message substring on that line.
# Usage: PYGMUC=path/to/pygmuc sh tests/errors/run.sh tests/errors   (POSIX sh)

dir=${1:-.}
if [ -z "$PYGMUC" ] || [ ! -x "$PYGMUC" ]; then
    echo "run.sh: set PYGMUC to the pygmuc executable" >&2
    exit 2
fi
# a piece that hangs is a failure, not a stuck suite
limit=""
if command -v timeout >/dev/null 2>&1; then
    limit="timeout 120"
fi

tmp=$(mktemp "${TMPDIR:-/tmp}/pg-errors.XXXXXX") || exit 2
trap 'rm -f "$tmp"' EXIT INT TERM

passed=0
failed=0

status_of() {
    case $1 in
    syntax) echo 1 ;; name) echo 2 ;; arg) echo 3 ;; channels) echo 4 ;;
    rate) echo 5 ;; extent) echo 6 ;; file) echo 7 ;; limit) echo 8 ;;
    *) echo "" ;;
    esac
}

# check_piece FILE: prints "" when the piece behaves as it says, else the reason.
check_piece() {
    file=$1
    spec=$(sed -n '1s/^# expect: //p' "$file")
    if [ -z "$spec" ]; then
        echo "no '# expect: <line>:<col> <kind> <message>' first line"
        return
    fi
    loc=${spec%% *}
    rest=${spec#* }
    kind=${rest%% *}
    msg=${rest#"$kind"}
    msg=${msg# }
    want=$(status_of "$kind")
    if [ -z "$want" ]; then
        echo "unknown kind '$kind'"
        return
    fi
    $limit "$PYGMUC" check "$file" >/dev/null 2>"$tmp"
    rc=$?
    if [ "$rc" -ge 124 ]; then
        echo "crashed or hung (exit $rc)"
        return
    fi
    if [ "$rc" -ne "$want" ]; then
        echo "exit $rc, want $want ($kind); stderr: $(head -n 1 "$tmp")"
        return
    fi
    line=$(grep -F -e "$file:$loc: error: " "$tmp" | head -n 1)
    if [ -z "$line" ]; then
        echo "no '$file:$loc: error:' on stderr: $(head -n 1 "$tmp")"
        return
    fi
    case $line in
    *"$msg"*) echo "" ;;
    *) echo "message lacks '$msg': $line" ;;
    esac
}

for file in "$dir"/*.pg; do
    [ -e "$file" ] || continue
    why=$(check_piece "$file")
    name=$(basename "$file")
    if [ -z "$why" ]; then
        passed=$((passed + 1))
        echo "ok   $name"
    else
        failed=$((failed + 1))
        echo "FAIL $name: $why"
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
