# capacity.sh — `brink capacity` (and `brink webhook stress`) against a service whose breaking
# point is known analytically: testsrv's /slow/20 answers every request after 20 ms, with one
# thread per connection, so with brink held to C connections the most it can complete is
# C / 20 ms; in the open model a step above that falls behind (achieved < 97 % of offered) and
# breaks. With C = 40 that is 2,000/s (a little less for the per-request overhead; the search
# may count up to 2000/0.97 = 2,062/s as sustained): the search must land within 1,600–2,300/s.
# Also: a service that fails from the first step (500s) → 0 with a clear message and exit 99; an
# unreachable one → exit 3; SIGINT → the partial result and exit 130; bad input → one line, exit
# 2. Loopback only; every search is bounded by --max-time.
. "$(dirname "$0")/lib.bash"

usage_case() { refuses "bad input: $1" 2 "$2" timeout 20 "$BRINK" "${@:3}"; } # NAME WANT ARGS...

usage_case "step too short" "--step" capacity --step 0
usage_case "max-rate below start" "--max-rate (10/s) must be at least --start-rate (200/s)" capacity --max-rate 10
usage_case "bad factor" "--factor: invalid value" capacity --factor 1
usage_case "bad resolution" "--resolution: invalid value" capacity --resolution 5
usage_case "bad error limit" "--error-limit: invalid value" capacity --error-limit lots
usage_case "max-time shorter than a step" "--max-time" capacity --step 10s --max-time 5s
usage_case "rate does not go with capacity" "--rate does not go with brink capacity" capacity --rate 100
usage_case "positional argument" "unexpected argument 'heavy'" capacity heavy
usage_case "too many steps" "invalid number" capacity --max-steps 1000
check "brink capacity --help documents --p99-limit" prints '--p99-limit' "$BRINK" capacity --help

start_srv slow || exit 1
T=http://127.0.0.1:$PORT_slow

# --- the analytic breaking point: 40 connections / 20 ms = 2000/s
t0=$SECONDS
"$BRINK" capacity --target "$T/slow/20" --sign none -c 40 --step 2s --max-time 30s -q \
    --threshold 'max_sustainable_rps>=1000' --threshold 'knee_p99_ms<1000 orange<0.001' \
    --json "$TMP/cap.json" >"$TMP/cap.out" 2>"$TMP/cap.err"
rc=$?
took=$((SECONDS - t0))
check "capacity against /slow/20 with 40 connections: exit 0" [ $rc -eq 0 ]
[ $rc -eq 0 ] || sed 's/^/#   /' "$TMP/cap.out" "$TMP/cap.err" | tail -25
check "bounded: done within --max-time plus set-up ($took s)" [ $took -le 45 ]
jqcheck "max sustainable within 1600–2300/s of the analytic 2000/s" "$TMP/cap.json" \
    '.stats.max_sustainable_rps >= 1600 and .stats.max_sustainable_rps <= 2300'
jqcheck "resolution: bisected below 5 % (or stated when the time ran out)" "$TMP/cap.json" \
    '(.capacity.stop == "resolved" and .stats.resolution_rps < 0.05 * .stats.max_sustainable_rps) or (.capacity.stop == "max_time" and .stats.resolution_rps > 0)'
jqcheck "the document: test capacity, stats and steps with every column" "$TMP/cap.json" \
    '.test == "capacity" and .profile == null and (.stats | has("max_sustainable_rps") and has("knee_rps") and has("knee_p99_ms") and has("resolution_rps")) and (.capacity.steps | length) >= 5 and all(.capacity.steps[]; has("offered_rps") and has("achieved_rps") and has("p50_ms") and has("p99_ms") and has("errors") and (.verdict == "good" or .verdict == "bad"))'
jqcheck "the ramp doubles from 200/s; bad steps say why (achieved below 97 %)" "$TMP/cap.json" \
    '.capacity.steps[0].offered_rps == 200 and .capacity.steps[1].offered_rps == 400 and any(.capacity.steps[]; .verdict == "bad" and (.reason | test("achieved")))'
jqcheck "every good step is below every bad one" "$TMP/cap.json" \
    '([.capacity.steps[] | select(.verdict == "good") | .offered_rps] | max) < ([.capacity.steps[] | select(.verdict == "bad") | .offered_rps] | min)'
jqcheck "the knee: a good step at or below the maximum, p99 about the 20 ms service time" "$TMP/cap.json" \
    '.stats.knee_rps > 0 and .stats.knee_rps <= .stats.max_sustainable_rps and .stats.knee_p99_ms >= 20 and .stats.knee_p99_ms < 80'
jqcheck "thresholds: max_sustainable_rps and knee_p99_ms judged under capacity" "$TMP/cap.json" \
    '([.thresholds[] | select(.test == "capacity") | .metric] | sort) == ["knee_p99_ms","max_sustainable_rps"]'
jqcheck "--threshold on the search's numbers: judged beside them (green, orange)" "$TMP/cap.json" \
    '[.thresholds[] | select(.test == "custom") | .status] == ["green", "orange"]'
refuses "capacity --threshold on a number the search has not" 2 "unknown metric 'p99_ms'" \
    "$BRINK" capacity --target "$T/" --threshold 'p99_ms<5'
jqcheck "timeline: per-second entries of every step" "$TMP/cap.json" \
    '(.timeline | length) >= 10 and (.timeline[0].phase == "step 1")'

# --- webhook stress is the same search, filed under test webhook, profile stress
"$BRINK" webhook stress --target "$T/slow/20" --sign none -c 10 --start-rate 100 --step 1s \
    --warmup 0 --max-time 12s -q --json "$TMP/stress.json" >"$TMP/stress.out" 2>&1
rc=$?
check "webhook stress: exit 0 or 99 (500/s is at the red bound)" [ $rc -eq 0 -o $rc -eq 99 ]
jqcheck "webhook stress: test webhook, profile stress, .capacity.steps" "$TMP/stress.json" \
    '.test == "webhook" and .profile == "stress" and (.capacity.steps | length) >= 2 and .stats.max_sustainable_rps > 0'

# --- broken from the first step: every answer a 500
"$BRINK" capacity --target "$T/status/500" --sign none --step 1s --max-time 10s -q \
    --json "$TMP/first.json" >"$TMP/first.out" 2>"$TMP/first.err"
rc=$?
check "broken from the first step → exit 99" [ $rc -eq 99 ]
jqcheck "first step broke: 0/s, one step, stop first_step, a clear message" "$TMP/first.json" \
    '.stats.max_sustainable_rps == 0 and (.capacity.steps | length) == 1 and .capacity.stop == "first_step" and (.capacity.message | test("first step")) and (.thresholds[] | select(.metric == "max_sustainable_rps") | .status) == "red"'
check "first step broke: the one stderr line says so" all [ "$(lines "$TMP/first.err")" -eq 1 ] -- grep -q 'first step' "$TMP/first.err"

# --- unreachable: refused by the preflight before any step → exit 3, one line
"$BRINK" capacity --target http://127.0.0.1:1/ --sign none --step 1s --max-time 10s -q >"$TMP/down.out" 2>"$TMP/down.err"
rc=$?
check "unreachable target → exit 3, one line naming it" \
    all [ $rc -eq 3 ] -- grep -q 'target http://127.0.0.1:1/webhooks/orders does not answer' "$TMP/down.err" -- \
    [ "$(lines "$TMP/down.err")" -eq 1 ]

# --- SIGINT: stops, writes the partial result, exit 130
"$BRINK" capacity --target "$T/slow/20" --sign none -c 40 --step 2s --max-time 60s -q \
    --json "$TMP/int.json" >"$TMP/int.out" 2>&1 &
pid=$!
sleep 6
kill -INT $pid
wait $pid
rc=$?
check "SIGINT → exit 130" [ $rc -eq 130 ]
jqcheck "SIGINT: partial result written, stop interrupted" "$TMP/int.json" \
    '.capacity.stop == "interrupted" and .stats.interrupted == true and (.capacity.steps | length) >= 1'
