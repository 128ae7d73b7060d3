# suite.sh — `brink suite` end to end on the embedded stack (real PostgreSQL, Redis, dispatchd):
# bad usage is one line and exit 2 with nothing written; `brink suite quick` runs the four tests
# and leaves one JSON per test, summary.json (agreeing with those documents), junit.xml,
# report.html and the `latest` link, exit 0; the broken case must fire: the untuned service under
# a Redis outage is red, exit 99, and the summary (also on stdout with --json -) says so; SIGINT
# in the middle stops the running test, exits 130 and still writes summary.json for what ran.
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
check "--help: exit 0, profiles and exit statuses" \
    bash -c "grep -q 'quick' '$TMP/help.out' && grep -q 'stress' '$TMP/help.out' && grep -q '130 interrupted' '$TMP/help.out'"

# ---- brink suite quick -----------------------------------------------------------------------
timeout -s INT -k 60 $T "$BRINK" suite quick --out "$OUT" >"$TMP/quick.out" 2>&1
rc=$?
check "quick: exit 0 ($rc)" [ $rc -eq 0 ]
[ $rc -eq 0 ] || tail -40 "$TMP/quick.out" | sed 's/^/#   /'
L=$OUT/latest
run1=$(readlink "$L")
check "quick: latest is a relative link to a UTC-timestamp directory ($run1)" \
    bash -c "[ -L '$L' ] && [[ '$run1' =~ ^[0-9]{8}T[0-9]{6}Z(-[0-9]+)?\$ ]] && [ -d '$OUT/$run1' ]"
D=$OUT/$run1
check "quick: one JSON per test, summary.json, junit.xml, report.html; no temporary file" \
    bash -c "cd '$D' && [ -s webhook.json ] && [ -s race.json ] && [ -s redis-failure.json ] &&
             [ -s db-restart.json ] && [ -s summary.json ] && [ -s junit.xml ] && [ -s report.html ] &&
             [ \$(ls | wc -l) -eq 7 ] && ! ls -a '$OUT' | grep -q 'tmp'"
S=$D/summary.json
jqcheck "summary: brink.summary/1, quick, the four tests in order, exit 0, nothing red" "$S" \
    '.schema == "brink.summary/1" and .profile == "quick" and .stack_profile == "tuned"
     and .planned == ["webhook","race","redis-failure","db-restart"]
     and ([.tests[].test] == .planned) and .exit_code == 0 and .interrupted == false
     and (.status == "green" or .status == "orange") and .counts.red == 0 and .counts.error == 0
     and (.duration_s >= ([.tests[].duration_s] | add))'
jqcheck "summary: each test's command line is the profile's, writing its file" "$S" \
    '(.tests[0].args[0:2] == ["webhook","light"]) and (.tests[1].args[0:2] == ["race","light"])
     and (.tests[2].args[0:2] == ["redis-failure","down"]) and (.tests[3].args[0:2] == ["db-restart","crash"])
     and all(.tests[]; .file == (.test + ".json") and .args[-2] == "--json"
                        and (.file as $f | .args[-1] | endswith("/" + $f)) and .exit_code == 0 and .error == null)'
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
    '.thresholds.green == ([.tests[].thresholds.green] | add) and .thresholds.red == 0
     and .counts.green + .counts.orange == 4'
check "jq '.stats' latest/*.json works" bash -c "jq '.stats' '$L'/*.json >/dev/null"
J=$D/junit.xml
nth=$(cat "$D"/webhook.json "$D"/race.json "$D"/redis-failure.json "$D"/db-restart.json | jq -s '[.[].thresholds | length] | add')
check "junit.xml: one testsuite per test, one testcase per threshold ($nth), no failure" \
    [ "$(grep -c '<testsuite ' "$J")" -eq 4 -a "$(grep -o '<testcase ' "$J" | wc -l)" -eq "$nth" -a \
      "$(grep -c '<failure' "$J")" -eq 0 ]
check "junit.xml: the report module's format (brink.<test> classnames, closed root)" \
    bash -c "grep -q 'classname=\"brink.redis-failure\"' '$J' && tail -1 '$J' | grep -q '^</testsuites>$'"
H=$D/report.html
check "report.html: one self-contained page naming the four tests" \
    bash -c "head -1 '$H' | grep -q '^<!DOCTYPE html>' && ! grep -qi '<script' '$H' &&
             grep -q 'webhook.json' '$H' && grep -q 'db-restart.json' '$H' && grep -q 'chart-timeline' '$H'"
Q=$TMP/quick.out
check "terminal: a header per test, then the summary table and its overall row (words: no TTY)" \
    bash -c "grep -q '^== \[1/4\] brink webhook light' '$Q' && grep -q '^== \[4/4\] brink db-restart crash' '$Q' &&
             grep -Eq '^  webhook +(green|orange) ' '$Q' && grep -Eq '^  db-restart +(green|orange) ' '$Q' &&
             grep -Eq '^  overall +(green|orange) .*exit 0$' '$Q' && ! grep -E '^  (overall|webhook|race) ' '$Q' | grep -q '🟢'"
check "terminal: each test's own table is there (its thresholds)" \
    bash -c "grep -q 'race_conditions' '$Q' && grep -q 'outage_error_rate' '$Q' && grep -q 'pool_recovery_s' '$Q'"

# ---- the broken case must fire: untuned dispatchd, Redis down → red, exit 99 ---------------------
timeout -s INT -k 60 $T "$BRINK" suite quick --stack-profile untuned --only redis-failure --json - \
    --out "$OUT" >"$TMP/untuned.json" 2>"$TMP/untuned.err"
rc=$?
check "untuned, Redis down: exit 99 ($rc)" [ $rc -eq 99 ]
[ $rc -eq 99 ] || tail -30 "$TMP/untuned.err" | sed 's/^/#   /'
run2=$(readlink "$L")
check "untuned: latest moved to the new run ($run2)" [ -n "$run2" -a "$run2" != "$run1" -a -d "$OUT/$run2" ]
S2=$OUT/$run2/summary.json
jqcheck "untuned: the summary says red, exit 99, the red threshold counted" "$S2" \
    '.status == "red" and .exit_code == 99 and .stack_profile == "untuned" and .planned == ["redis-failure"]
     and (.tests | length) == 1 and .tests[0].status == "red" and .tests[0].exit_code == 99
     and .tests[0].thresholds.red >= 1 and .tests[0].stats.outage_error_rate > 0.2
     and (.tests[0].args | index("--stack-profile")) != null and (.tests[0].args | index("untuned")) != null'
check "untuned: --json - put the same summary (and only it) on stdout" \
    bash -c "jq -e . '$TMP/untuned.json' >/dev/null && [ \"\$(jq -cS . '$TMP/untuned.json')\" = \"\$(jq -cS . '$S2')\" ]"
check "untuned: junit.xml has the failure, the terminal (stderr) the red row and the advice" \
    bash -c "grep -q '<failure' '$OUT/$run2/junit.xml' && grep -Eq '^  redis-failure +red ' '$TMP/untuned.err' &&
             grep -q '^  advice' '$TMP/untuned.err' && grep -Eq '^  overall +red .*exit 99$' '$TMP/untuned.err'"

# ---- SIGINT in the middle: the running test stops, exit 130, a partial summary ------------------
"$BRINK" suite quick --skip webhook,race -q --out "$OUT" >"$TMP/int.out" 2>&1 &
spid=$!
PIDS+=("$spid")
for _ in $(seq 1 600); do # until the second test has started (bounded: 120 s)
    grep -q '^== \[2/2\]' "$TMP/int.out" && break
    sleep 0.2
done
sleep 3 # db-restart is now starting its stack or under load
kill -INT "$spid"
for _ in $(seq 1 600); do # bounded wait: 120 s
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.2
done
wait "$spid"
rc=$?
check "SIGINT: exit 130 ($rc)" [ $rc -eq 130 ]
run3=$(readlink "$L")
S3=$OUT/$run3/summary.json
jqcheck "SIGINT: summary.json written: the finished test, then the interrupted one" "$S3" \
    '.interrupted == true and .status == "interrupted" and .exit_code == 130
     and .planned == ["redis-failure","db-restart"] and (.tests | length) == 2
     and .tests[0].test == "redis-failure" and .tests[0].exit_code == 0
     and (.tests[0].status == "green" or .tests[0].status == "orange")
     and .tests[1].test == "db-restart" and .tests[1].status == "interrupted"'
check "SIGINT: reports still written" [ -s "$OUT/$run3/junit.xml" -a -s "$OUT/$run3/report.html" ]
# (the pattern's [n] keeps it from matching this shell's own command line)
check "SIGINT: the interrupted test's process is gone" \
    bash -c "! pgrep -f -- '$OUT/$run3/db-restart.jso[n]' >/dev/null"
check "SIGINT: the terminal says what happened" \
    bash -c "grep -q 'interrupted — stopping brink db-restart' '$TMP/int.out' && grep -Eq '^  overall +interrupted .*exit 130$' '$TMP/int.out'"
