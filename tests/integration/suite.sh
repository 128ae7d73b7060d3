# suite.sh — `brink suite` end to end on the embedded stack (real PostgreSQL, Redis, dispatchd):
# bad usage is one line and exit 2 with nothing written; `brink suite quick` runs the four tests
# and leaves one JSON per test, summary.json (agreeing with those documents), junit.xml,
# report.html and the `latest` link, exit 0. The broken case and SIGINT are in suite_untuned.sh.
. "$(dirname "$0")/lib.bash"

OUT=$TMP/results
T=420 # bound of each suite run (quick takes about a minute)

# ---- bad usage: one line, exit 2, nothing created ---------------------------------------------
bad() { # NAME ARGS...
    local name=$1
    shift
    timeout 30 "$BRINK" suite --out "$OUT" "$@" >"$TMP/bad.out" 2>"$TMP/bad.err"
    local rc=$?
    if [ $rc -eq 2 ] && [ "$(wc -l <"$TMP/bad.err")" -eq 1 ] && grep -q '^brink suite: ' "$TMP/bad.err" &&
        [ ! -s "$TMP/bad.out" ] && [ ! -e "$OUT" ]; then
        ok "usage: $name → exit 2, one line ($(cat "$TMP/bad.err"))"
    else
        not_ok "usage: $name → exit 2 with one line (got $rc)"
        sed 's/^/#   /' "$TMP/bad.err" "$TMP/bad.out" | head -5
    fi
}
bad "unknown option" quick --bogus
bad "unknown profile" medium
bad "extra argument" quick full
bad "unknown test in --only" quick --only webhook,nope
bad "--only a test the profile lacks" quick --only capacity
bad "--skip of every test" quick --skip webhook,race,redis-failure,db-restart
bad "bad --stack-profile" quick --stack-profile fast
bad "-f of a missing file" quick -f "$TMP/no-such-brink.yaml"
echo 'target: {}' >"$TMP/brink.yaml"
bad "--stack-profile with -f" quick -f "$TMP/brink.yaml" --stack-profile untuned
bad "--json without a value" quick --json
timeout 30 "$BRINK" suite --help >"$TMP/help.out" 2>&1
check "--help: exit 0, profiles and exit statuses" has "$TMP/help.out" 'quick' 'stress' '130 interrupted'

# ---- brink suite quick -----------------------------------------------------------------------
timeout -s INT -k 60 $T "$BRINK" suite quick --out "$OUT" --threshold 'race:race_conditions<1' \
    >"$TMP/quick.out" 2>&1
rc=$?
L=$OUT/latest
run1=$(readlink "$L")
# E: the exit status the checks below expect — 0; or 99 when the only red verdicts are recovery
# times (recovery_s, pool_recovery_s), which a 2-core machine busy with other test files can
# stretch past the recovery phase (the dispatchd workers' backlog drain after the crash competes
# with the accepts for the pool), or race_error_rate, when a few claims of the race's burst were
# shed with 503 after waiting --pg-acquire-timeout for one of the 8 connections (seen once in 8
# runs of make test: 4 of 250). This file tests the runner; those verdicts are resilience_*.sh's
# and race.sh's, on their own stacks. Anything else red fails here as before.
E=0
if [ $rc -eq 99 ] && cat "$OUT/$run1"/*.json 2>/dev/null | jq -e -s '
    [.[] | select(.thresholds | type == "array") | .thresholds[] | select(.status == "red") | .metric] as $red
    | ($red | length) > 0 and ($red - ["recovery_s", "pool_recovery_s", "race_error_rate"] | length) == 0' >/dev/null; then
    E=99
    echo "# quick: red only on recovery times or shed claims (a busy machine): $(grep -E '^  (race|redis-failure|db-restart) ' "$TMP/quick.out" | tr -s ' ' | tr '\n' ';')"
fi
check "quick: exit 0, or 99 with only recovery times or shed claims red ($rc)" [ $rc -eq 0 -o $E -eq 99 ]
[ $rc -eq 0 ] || tail -40 "$TMP/quick.out" | sed 's/^/#   /'
jqcheck "quick: --threshold race:COND reached the race (a custom verdict in its document)" \
    "$OUT/$run1/race.json" '[.thresholds[] | select(.test == "custom") | .metric] == ["race_conditions"]'
check "quick: latest is a relative link to a UTC-timestamp directory ($run1)" \
    all [ -L "$L" ] -- in_text "$run1" '^[0-9]{8}T[0-9]{6}Z(-[0-9]+)?$' -- [ -d "$OUT/$run1" ]
D=$OUT/$run1
# run_files DIR FILE...: DIR holds exactly these files, none empty
run_files() {
    local f
    for f in "${@:2}"; do [ -s "$1/$f" ] || return 1; done
    [ "$(ls "$1" | wc -l)" -eq $(($# - 1)) ]
}
check "quick: one JSON per test, summary.json, junit.xml, report.html; no temporary file" \
    all run_files "$D" webhook.json race.json redis-failure.json db-restart.json summary.json junit.xml report.html -- \
    not prints tmp ls -a "$OUT"
S=$D/summary.json
jqcheck "summary: brink.summary/1, quick, the four tests in order, exit 0, nothing red" "$S" \
    '.schema == "brink.summary/1" and .profile == "quick" and .stack_profile == "tuned"
     and .planned == ["webhook","race","redis-failure","db-restart"]
     and ([.tests[].test] == .planned) and .exit_code == '$E' and .interrupted == false
     and (if '$E' == 0 then (.status == "green" or .status == "orange") and .counts.red == 0
          else .status == "red" and .counts.red >= 1 end) and .counts.error == 0
     and (.duration_s >= ([.tests[].duration_s] | add))'
jqcheck "summary: each test's command line is the profile's, writing its file" "$S" \
    '(.tests[0].args[0:2] == ["webhook","light"]) and (.tests[1].args[0:2] == ["race","light"])
     and (.tests[2].args[0:2] == ["redis-failure","down"]) and (.tests[3].args[0:2] == ["db-restart","crash"])
     and all(.tests[]; .file == (.test + ".json") and .args[-2] == "--json"
                        and (.file as $f | .args[-1] | endswith("/" + $f))
                        and (.exit_code == 0 or .exit_code == '$E') and .error == null)'
# the summary against each document: the counts of its thresholds, its worst status, its numbers
agree=1
for t in webhook race redis-failure db-restart; do
    if ! jq -e -n --slurpfile s "$S" --slurpfile d "$D/$t.json" --arg t "$t" '
        ($s[0].tests[] | select(.test == $t)) as $e | $d[0] as $doc
        | ($doc.thresholds | map(.status)) as $st
        | ($st | map(select(. == "red")) | length) as $red
        | ($st | map(select(. == "orange")) | length) as $orange
        | $e.thresholds == {green: ($st | map(select(. == "green")) | length), orange: $orange,
                            red: $red, skipped: ($st | map(select(. == "skipped")) | length)}
        and $e.status == (if $red > 0 then "red" elif $orange > 0 then "orange" else "green" end)
        and ($e.stats | length) >= 3
        and all($e.stats | to_entries[]; $doc.stats[.key] == .value)' >/dev/null; then
        agree=0
        echo "# summary disagrees with $t.json: $(jq -c --arg t "$t" '.tests[] | select(.test == $t)' "$S")"
    fi
done
check "summary: thresholds counts, status and key numbers match each test's document" [ $agree -eq 1 ]
jqcheck "summary: totals are the sum of the tests'" "$S" \
    '.thresholds.green == ([.tests[].thresholds.green] | add)
     and .thresholds.red == ([.tests[].thresholds.red] | add) and (.thresholds.red == 0) == ('$E' == 0)
     and .counts.green + .counts.orange + .counts.red == 4'
check "jq '.stats' latest/*.json works" quietly jq '.stats' "$L"/*.json
J=$D/junit.xml
nth=$(cat "$D"/webhook.json "$D"/race.json "$D"/redis-failure.json "$D"/db-restart.json | jq -s '[.[].thresholds | length] | add')
nred=$(jq '.thresholds.red' "$S")
check "junit.xml: one testsuite per test, one testcase per threshold ($nth), a failure per red ($nred)" \
    [ "$(grep -c '<testsuite ' "$J")" -eq 4 -a "$(grep -o '<testcase ' "$J" | wc -l)" -eq "$nth" -a \
      "$(grep -c '<failure' "$J")" -eq "$nred" ]
check "junit.xml: the report module's format (brink.<test> classnames, closed root)" \
    all has "$J" 'classname="brink.redis-failure"' -- last_line "$J" '^</testsuites>$'
H=$D/report.html
check "report.html: one self-contained page naming the four tests" \
    all first_line "$H" '^<!DOCTYPE html>' -- not grep -qi '<script' "$H" -- \
    has "$H" 'webhook.json' 'db-restart.json' 'chart-timeline'
Q=$TMP/quick.out
check "terminal: a header per test, then the summary table and its overall row (words: no TTY)" \
    all has "$Q" '^== \[1/4\] brink webhook light' '^== \[4/4\] brink db-restart crash' \
    '^  webhook \+\(green\|orange\) ' '^  db-restart \+\(green\|orange\|red\) ' \
    "^  overall \\+\\(green\\|orange\\|red\\) .*exit $E\$" -- \
    not in_text "$(grep -E '^  (overall|webhook|race) ' "$Q")" '🟢'
check "terminal: each test's own table is there (its thresholds)" \
    has "$Q" 'race_conditions' 'outage_error_rate' 'pool_recovery_s'
