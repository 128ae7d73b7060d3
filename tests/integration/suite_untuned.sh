# suite_untuned.sh — `brink suite` end to end on the embedded stack: the broken case must fire —
# the untuned service under a Redis outage is red, exit 99, and the summary (also on stdout with
# --json -) says so; SIGINT in the middle stops the running test, exits 130 and still writes
# summary.json for what ran; `latest` follows each run. The quick profile is in suite.sh.
. "$(dirname "$0")/lib.bash"

OUT=$TMP/results
T=420 # bound of each suite run
L=$OUT/latest

# ---- the broken case must fire: untuned dispatchd, Redis down → red, exit 99 ---------------------
timeout -s INT -k 60 $T "$BRINK" suite quick --stack-profile untuned --only redis-failure --json - \
    --out "$OUT" >"$TMP/untuned.json" 2>"$TMP/untuned.err"
rc=$?
check "untuned, Redis down: exit 99 ($rc)" [ $rc -eq 99 ]
[ $rc -eq 99 ] || tail -30 "$TMP/untuned.err" | sed 's/^/#   /'
run2=$(readlink "$L")
check "untuned: latest is the new run ($run2)" [ -n "$run2" -a -d "$OUT/$run2" ]
S2=$OUT/$run2/summary.json
jqcheck "untuned: the summary says red, exit 99, the red threshold counted" "$S2" \
    '.status == "red" and .exit_code == 99 and .stack_profile == "untuned" and .planned == ["redis-failure"]
     and (.tests | length) == 1 and .tests[0].status == "red" and .tests[0].exit_code == 99
     and .tests[0].thresholds.red >= 1 and .tests[0].stats.outage_error_rate > 0.2
     and (.tests[0].args | index("--stack-profile")) != null and (.tests[0].args | index("untuned")) != null'
check "untuned: --json - put the same summary (and only it) on stdout" \
    all jqt . "$TMP/untuned.json" -- [ "$(jq -cS . "$TMP/untuned.json")" = "$(jq -cS . "$S2")" ]
check "untuned: junit.xml has the failure, the terminal (stderr) the red row and the advice" \
    all has "$OUT/$run2/junit.xml" '<failure' -- \
    has "$TMP/untuned.err" '^  redis-failure \+red ' '^  advice' '^  overall \+red .*exit 99$'

# ---- SIGINT in the middle: the running test stops, exit 130, a partial summary ------------------
"$BRINK" suite quick --skip webhook,redis-failure -q --out "$OUT" >"$TMP/int.out" 2>&1 &
spid=$!
PIDS+=("$spid")
wait_for 120 grep -q '^== \[2/2\]' "$TMP/int.out" # until the second test has started
sleep 3 # db-restart is now starting its stack or under load
kill -INT "$spid"
wait_exit "$spid" 120
rc=$WAIT_RC
check "SIGINT: exit 130 ($rc)" [ "$rc" = 130 ]
run3=$(readlink "$L")
check "SIGINT: latest moved to the new run ($run3)" [ -n "$run3" -a "$run3" != "$run2" -a -d "$OUT/$run3" ]
S3=$OUT/$run3/summary.json
jqcheck "SIGINT: summary.json written: the finished test, then the interrupted one" "$S3" \
    '.interrupted == true and .status == "interrupted" and .exit_code == 130
     and .planned == ["race","db-restart"] and (.tests | length) == 2
     and .tests[0].test == "race" and .tests[0].exit_code == 0
     and (.tests[0].status == "green" or .tests[0].status == "orange")
     and .tests[1].test == "db-restart" and .tests[1].status == "interrupted"'
check "SIGINT: reports still written" [ -s "$OUT/$run3/junit.xml" -a -s "$OUT/$run3/report.html" ]
# (the pattern's [n] keeps it from matching this shell's own command line)
check "SIGINT: the interrupted test's process is gone" \
    not quietly pgrep -f -- "$OUT/$run3/db-restart.jso[n]"
check "SIGINT: the terminal says what happened" \
    has "$TMP/int.out" 'interrupted — stopping brink db-restart' '^  overall \+interrupted .*exit 130$'
