# report.sh — reports from files alone: `brink report` turns the fixture result documents (real
# runs of load, race, redis-failure and capacity, plus a hand-made hostile one) into a terminal
# table, one self-contained HTML page and JUnit XML whose counts match the documents;
# `brink compare` exits 1 on a regressed run and 0 on itself; bad inputs exit 2 with one line.
# When chromium is installed, the page is rendered headless: the DOM holds the expected charts,
# no NaN, no injected element, and a screenshot is taken (kept with BRINK_KEEP_SHOT=DIR).
. "$(dirname "$0")/lib.bash"

FIX=$ROOT/tests/integration/fixtures
T=60 # every command is bounded

# ---- brink report: HTML and JUnit from a directory --------------------------------------------
mkdir -p "$TMP/fx"
cp "$FIX"/*.json "$TMP/fx/"
echo '{"suite": "not a result document"}' >"$TMP/fx/summary.json" # skipped by name
timeout $T "$BRINK" report "$TMP/fx" --html "$TMP/r.html" --junit "$TMP/j.xml" >"$TMP/r.out" 2>"$TMP/r.err"
rc=$?
check "report: a directory of documents → exit 0 ($rc)" [ $rc -eq 0 ]
check "report: HTML and JUnit written, no temporary left" \
    all [ -s "$TMP/r.html" ] -- [ -s "$TMP/j.xml" ] -- not quietly ls "$TMP"/*.tmp
ndocs=$(ls "$FIX"/*.json | wc -l)

# ---- JUnit: structure and counts (no xmllint: counted with grep, cross-checked with jq) --------
J=$TMP/j.xml
cnt() { grep -o -- "$1" "$J" | wc -l; }
attr_sum() { # attr_sum ELEMENT ATTR: sum of ATTR over <ELEMENT ...> start tags
    grep -o "<$1 [^>]*>" "$J" | grep -o " $2=\"[0-9]*\"" | tr -dc '0-9\n' | awk '{s+=$1} END {print s+0}'
}
exp_tests=$(cat "$FIX"/*.json | jq -s '[.[].thresholds | length] | add')
exp_red=$(cat "$FIX"/*.json | jq -s '[.[].thresholds[] | select(.status == "red")] | length')
exp_skip=$(cat "$FIX"/*.json | jq -s '[.[].thresholds[] | select(.status == "skipped")] | length')
check "junit: XML declaration first, one <testsuites> root closed last" \
    all first_line "$J" '^<?xml version="1.0" encoding="UTF-8"?>$' -- [ "$(grep -c '<testsuites ' "$J")" -eq 1 ] -- \
    last_line "$J" '^</testsuites>$'
check "junit: one <testsuite> per document ($ndocs), each closed" \
    [ "$(cnt '<testsuite ')" -eq "$ndocs" -a "$(cnt '</testsuite>')" -eq "$ndocs" ]
check "junit: one <testcase> per threshold ($exp_tests), each closed" \
    [ "$(cnt '<testcase ')" -eq "$exp_tests" -a "$(cnt '</testcase>')" -eq "$exp_tests" ]
check "junit: <failure> per red threshold ($exp_red), <skipped/> per skipped ($exp_skip)" \
    [ "$(cnt '<failure ')" -eq "$exp_red" -a "$(cnt '</failure>')" -eq "$exp_red" -a "$(cnt '<skipped ')" -eq "$exp_skip" ]
check "junit: testsuite attributes add up (tests, failures, skipped)" \
    [ "$(attr_sum testsuite tests)" -eq "$exp_tests" -a "$(attr_sum testsuite failures)" -eq "$exp_red" -a "$(attr_sum testsuite skipped)" -eq "$exp_skip" ]
check "junit: testsuites totals" \
    [ "$(attr_sum testsuites tests)" -eq "$exp_tests" -a "$(attr_sum testsuites failures)" -eq "$exp_red" ]
check "junit: classname brink.<test>, suite named by test" \
    has "$J" '<testcase classname="brink.race" name="race_conditions"' '<testsuite name="capacity"'
check "junit: failure message has value, bound, evidence, remedy" \
    grep -q 'message="race_conditions = 50; red &gt; 0, orange &gt; 0. Evidence: 50 of 50 orders.*Remedy: accept with one atomic' "$J"
check "junit: hostile strings escaped (no raw tag, no raw quote break-out)" \
    all not grep -q '<script\|<img\|<b>' "$J" -- has "$J" '&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;'
# between tags there is only markup: every '<' starts a known element or the declaration
elements() { grep -o '<[^ >/?]*' "$1" | sed 's/^<//' | sort -u; } # FILE: the names of its elements
check "junit: only JUnit elements" \
    [ -z "$(elements "$J" | grep -vxE 'testsuites|testsuite|properties|property|testcase|failure|skipped|error|system-out')" ]
if command -v python3 >/dev/null 2>&1; then
    check "junit: parses as XML (python3 xml.etree, when present)" \
        timeout $T python3 -c "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); sys.exit(0 if r.tag == 'testsuites' and len(r) == int(sys.argv[2]) else 1)" "$J" "$ndocs"
else
    ok "junit: parses as XML # SKIP no python3"
fi

# ---- HTML ------------------------------------------------------------------------------------
H=$TMP/r.html
check "html: one page, doctype, CSP forbids scripts and the network" \
    all first_line "$H" '^<!DOCTYPE html>' -- has "$H" "default-src 'none'" -- [ "$(grep -c '</html>' "$H")" -eq 1 ]
check "html: nothing external or executable (no script, link, src=, url(http)" \
    not grep -qi '<script\|<link\|<iframe\|<img\|src="\|href="http\|url(http\|@import' "$H"
# charts FILE [BEFORE]: how many charts of each kind FILE has (BEFORE: what precedes the class)
charts() {
    local k
    for k in timeline spectrum backlog race capacity; do
        echo -n "$k $(grep -o -- "${2:-}class=\"chart chart-$k\"" "$1" | wc -l), "
    done
}
CHARTS='timeline 7, spectrum 5, backlog 4, race 2, capacity 1, '
check "html: the charts the data allows (timeline 7, spectrum 5, backlog 4, race 2, capacity 1)" \
    [ "$(charts "$H")" = "$CHARTS" ]
check "html: no NaN, inf or undefined" not grep -qiw 'nan\|inf\|undefined' "$H"
check "html: hostile target escaped" \
    all has "$H" '&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;' -- not grep -qF '</script><img' "$H"
check "html: overall verdict red with counts" grep -q 'Overall verdict: <span class="st st-red">' "$H"
size=$(wc -c <"$H")
check "html: reasonable size ($size bytes < 1 MiB)" [ "$size" -lt 1048576 ]

# ---- terminal ----------------------------------------------------------------------------------
timeout $T "$BRINK" report "$FIX/race-untuned.json" "$FIX/load.json" >"$TMP/t.out" 2>&1
rc=$?
check "terminal: exit 0, verdicts in words when stdout is not a terminal" \
    all [ $rc -eq 0 ] -- has "$TMP/t.out" '^  RED    race_conditions' '^  GREEN  race_error_rate' -- not grep -q '🔴' "$TMP/t.out"
check "terminal: advice with evidence and remedy" \
    has "$TMP/t.out" 'RED    integrity: the stored winner differs' '→ the service answered one winner'
check "terminal: a document without thresholds shows its headline" \
    grep -q 'requests 800, rps 200.221' "$TMP/t.out"
timeout $T "$BRINK" report --terminal "$FIX/redis-failure-all.json" --junit - >"$TMP/t2.out" 2>"$TMP/t2.err"
check "terminal + --junit -: XML on stdout, verdicts per run on stderr" \
    all first_line "$TMP/t2.out" '^<?xml' -- has "$TMP/t2.err" 'redis-failure timeout' 'RED    recovery_s'

# ---- brink compare -----------------------------------------------------------------------------
timeout $T "$BRINK" compare "$FIX/load.json" "$FIX/load-regressed.json" --json "$TMP/c.json" >"$TMP/c.out" 2>&1
rc=$?
check "compare: a slower run → exit 1 ($rc)" [ $rc -eq 1 ]
check "compare: p99_ms flagged, unknown metrics shown but not flagged" \
    all has "$TMP/c.out" '^  p99_ms .*REGRESSION (higher is worse)' '^  bytes_read ' -- \
    not grep -q '^  bytes_read .*REGRESSION' "$TMP/c.out"
jqcheck "compare: --json has before, after, ratio, regression" "$TMP/c.json" \
    '.schema == "brink.compare/1" and .regressions > 0 and (.tests[0].metrics[] | select(.metric == "p99_ms") | .regression and .before == 4.495 and .ratio > 10 and .direction == "above")'
jq '.stats.offered_rps = 500 | .stats.interrupted = true' "$FIX/load.json" >"$TMP/other.json"
refuses "compare: runs that differ (offered rate, interrupted) are refused, naming what differs" 2 \
    "not comparable runs of load: offered rate 200/s vs 500/s; AFTER was interrupted (--force" \
    timeout $T "$BRINK" compare "$FIX/load.json" "$TMP/other.json"
timeout $T "$BRINK" compare --force "$FIX/load.json" "$TMP/other.json" --json "$TMP/cf.json" >"$TMP/cf.out" 2>&1
check "compare --force: compared under a NOT COMPARABLE line (exit $?)" \
    all grep -q "^  NOT COMPARABLE (--force): offered rate 200/s vs 500/s" "$TMP/cf.out" \
    -- jqt '.tests[0].not_comparable == "offered rate 200/s vs 500/s; AFTER was interrupted"' "$TMP/cf.json"
timeout $T "$BRINK" compare "$FIX/load.json" "$FIX/load.json" >"$TMP/c2.out" 2>&1
check "compare: a run against itself → exit 0" [ $? -eq 0 ]
timeout $T "$BRINK" compare "$FIX/load-regressed.json" "$FIX/load.json" >/dev/null 2>&1
check "compare: an improvement → exit 0" [ $? -eq 0 ]
timeout $T "$BRINK" compare "$FIX/load.json" "$FIX/load-regressed.json" --tolerance 10000% >/dev/null 2>&1
check "compare: within a wide tolerance → exit 0" [ $? -eq 0 ]
mkdir -p "$TMP/before" "$TMP/after"
cp "$FIX/load.json" "$FIX/race.json" "$TMP/before/"
cp "$FIX/load-regressed.json" "$TMP/after/run-2.json"
cp "$FIX/race.json" "$TMP/after/race.json"
timeout $T "$BRINK" compare "$TMP/before" "$TMP/after" >"$TMP/c3.out" 2>&1
rc=$?
check "compare: directories matched by test name → exit 1 ($rc)" \
    all [ $rc -eq 1 ] -- has "$TMP/c3.out" '^load: .*load.json → .*run-2.json' '^race: '
timeout $T "$BRINK" compare "$TMP/fx" "$TMP/fx" >"$TMP/c4.out" 2>&1
check "compare: the fixture directory against itself → exit 0" [ $? -eq 0 ]

# ---- bad inputs: exit 2, one line --------------------------------------------------------------
echo '{"schema": "brink.result/2"}' >"$TMP/v2.json"
echo 'not json' >"$TMP/bad.json"
echo '{"test": "load"}' >"$TMP/noschema.json"
mkdir -p "$TMP/empty"
bad() { refuses "bad input: $1" 2 "$2" timeout $T "$BRINK" "${@:3}"; } # bad NAME WANT ARGS...
bad "report: no inputs" "no result documents given" report
bad "report: missing file" "nope.json: No such file or directory" report "$TMP/nope.json"
bad "report: not JSON" "bad.json: not valid JSON" report "$TMP/bad.json" --html "$TMP/x.html"
bad "report: other schema" 'schema "brink.result/2" is not supported' report "$TMP/v2.json"
bad "report: no schema" 'not a brink result document' report "$TMP/noschema.json"
bad "report: empty directory" "no result documents (*.json)" report "$TMP/empty"
bad "report: unknown option" "unknown option '--pdf'" report --pdf x "$FIX/load.json"
bad "report: option without value" "needs a value" report "$FIX/load.json" --html
bad "compare: one argument" "expected BEFORE and AFTER" compare "$FIX/load.json"
bad "compare: different tests" "nothing to compare" compare "$FIX/race.json" "$FIX/load.json"
bad "compare: bad tolerance" "--tolerance 'lots'" compare --tolerance lots "$FIX/load.json" "$FIX/load.json"
bad "compare: negative tolerance" "is not a fraction" compare --tolerance -0.1 "$FIX/load.json" "$FIX/load.json"
bad "compare: not a document" "not a brink result document" compare "$TMP/noschema.json" "$FIX/load.json"
check "bad input: no output file left behind" [ ! -e "$TMP/x.html" -a ! -e "$TMP/x.html.tmp" ]

# ---- in a browser ------------------------------------------------------------------------------
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
    flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
        --disable-background-networking --disable-component-update --disable-sync
        --user-data-dir="$TMP/chr")
    timeout 90 "$CHROMIUM" "${flags[@]}" --dump-dom "file://$H" >"$TMP/dom.html" 2>"$TMP/chr.err"
    check "browser: DOM rendered" grep -q '</html>' "$TMP/dom.html"
    check "browser: every chart in the DOM (timeline 7, spectrum 5, backlog 4, race 2, capacity 1)" \
        [ "$(charts "$TMP/dom.html" '<svg ')" = "$CHARTS" ]
    check "browser: no NaN or undefined in the DOM" not grep -q 'NaN\|undefined' "$TMP/dom.html"
    check "browser: no injected element (img, script, b) from the hostile document" \
        not grep -qi '<img\|<script\|<b>mode' "$TMP/dom.html"
    rm -rf "$TMP/chr"
    timeout 90 "$CHROMIUM" "${flags[@]}" --screenshot="$TMP/shot.png" --window-size=1280,2000 "file://$H" >/dev/null 2>&1
    check "browser: screenshot taken (PNG)" \
        [ "$(head -c 8 "$TMP/shot.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a -a "$(wc -c <"$TMP/shot.png")" -gt 20000 ]
    if [ -n "${BRINK_KEEP_SHOT:-}" ]; then cp "$TMP/shot.png" "$H" "$BRINK_KEEP_SHOT/" 2>/dev/null; fi
else
    ok "browser: rendered in chromium # SKIP $CHROMIUM not installed (scripts/install-deps)"
fi
