#!/bin/sh
# verify.sh PYGMUC: pygmuc verify end to end in a scratch folder: --update creates a
# reference; verify passes; a reference altered on purpose fails with its dB figure and
# exit 1; --update of that piece makes it pass again and touches no other reference; the
# JUnit report is well-formed XML.
set -u
pg=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

cat >"$tmp/a.pg" <<'PG'
render(SinPE(frequency=440.0, amplitude=0.5).crop(Extent(0, 0.5s)))
PG
cat >"$tmp/b.pg" <<'PG'
# verify: tolerance-db -60
render(SinPE(frequency=660.0, amplitude=0.25).crop(Extent(0, 0.25s)))
PG
cat >"$tmp/other.pg" <<'PG'
render(SinPE(frequency=440.0, amplitude=0.5).crop(Extent(0, 0.5s)).gain(1.001))
PG

"$pg" verify "$tmp" >"$tmp/out" 2>&1 && bad "verify passed with no references" || ok
"$pg" verify --update "$tmp/a.pg" "$tmp/b.pg" >"$tmp/out" 2>&1 && ok || bad "update: $(cat "$tmp/out")"
[ -f "$tmp/a.ref.flac" ] && [ -f "$tmp/b.ref.flac" ] && ok || bad "no FLAC references written"
[ "$(ls -a "$tmp" | grep -c 'pygmuc-\|\.tmp$')" = 0 ] && ok || bad "a temporary file left: $(ls -a "$tmp")"
"$pg" verify "$tmp" --junit "$tmp/report.xml" >"$tmp/out" 2>&1 && ok || bad "verify: $(cat "$tmp/out")"
grep -q "^2 passed, 0 failed$" "$tmp/out" && ok || bad "summary: $(tail -1 "$tmp/out")"

# alter a's reference on purpose: the render of a 0.1 dB louder piece (about -66 dBFS off)
"$pg" "$tmp/other.pg" -o "$tmp/a.ref.flac" -q
cp "$tmp/b.ref.flac" "$tmp/b.before"
"$pg" verify "$tmp" >"$tmp/out" 2>&1
[ $? = 1 ] && ok || bad "a moved reference did not fail"
grep -q "FAIL .*a.pg" "$tmp/out" && grep -q "peak difference -6[0-9].[0-9] dBFS" "$tmp/out" && ok ||
    bad "no dB figure: $(cat "$tmp/out")"
grep -q "^1 passed, 1 failed$" "$tmp/out" && ok || bad "summary: $(tail -1 "$tmp/out")"
"$pg" verify --update "$tmp/a.pg" >/dev/null 2>&1 && ok || bad "update a"
"$pg" verify "$tmp" >"$tmp/out" 2>&1 && ok || bad "after update: $(cat "$tmp/out")"
cmp -s "$tmp/b.ref.flac" "$tmp/b.before" && ok || bad "--update a touched b's reference"

# a bad value is a usage error, not a number: --tolerance-db abc read as 0 dBFS passed a
# reference 66 dB off; so did a piece's tolerance line with a typo
"$pg" "$tmp/other.pg" -o "$tmp/a.ref.flac" -q
"$pg" verify "$tmp" --tolerance-db abc >"$tmp/out" 2>&1
[ $? = 64 ] && ok || bad "--tolerance-db abc: $(cat "$tmp/out")"
"$pg" verify "$tmp" -j 0 >"$tmp/out" 2>&1
[ $? = 64 ] && ok || bad "-j 0: $(cat "$tmp/out")"
sed 's/-60/-6O/' "$tmp/b.pg" >"$tmp/b2.pg" && mv "$tmp/b2.pg" "$tmp/b.pg"
"$pg" verify "$tmp/b.pg" >"$tmp/out" 2>&1
[ $? = 1 ] && grep -q "line 1: 'verify: tolerance-db' needs a number" "$tmp/out" && ok ||
    bad "tolerance typo: $(cat "$tmp/out")"

# a render that turns to NaN fails against its finite reference (it passed: NaN differences
# slipped past the tolerance)
cat >"$tmp/n.pg" <<'PG'
render(SinPE(frequency=440.0).crop(Extent(0, 4800)))
PG
"$pg" verify --update "$tmp/n.pg" >/dev/null 2>&1
cat >"$tmp/n.pg" <<'PG'
render(MixPE(SinPE(frequency=440.0).crop(Extent(0, 4800)), MixPE(ConstPE(3e38).gain(10.0), ConstPE(-3e38).gain(10.0)).crop(Extent(100, 101))))
PG
"$pg" verify "$tmp/n.pg" >"$tmp/out" 2>&1
[ $? = 1 ] && grep -q "peak difference inf dBFS" "$tmp/out" && ok || bad "NaN render: $(cat "$tmp/out")"
# ... and --update refuses to make it the reference (24-bit FLAC would hold arbitrary numbers)
cp "$tmp/n.ref.flac" "$tmp/n.before"
"$pg" verify --update "$tmp/n.pg" >"$tmp/out" 2>&1
[ $? = 1 ] && grep -q "NaN or infinite samples: no reference written" "$tmp/out" &&
    cmp -s "$tmp/n.ref.flac" "$tmp/n.before" && ok || bad "NaN --update: $(cat "$tmp/out")"

# the JUnit report parses as XML (when python3 is there to check it)
if command -v python3 >/dev/null 2>&1; then
    python3 -c "import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); \
assert len(d.getElementsByTagName('testcase')) == 2" "$tmp/report.xml" && ok || bad "junit XML"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
