# resilience.sh — brink redis-failure and brink db-restart: their usage, then Redis down (the
# stack's Redis proxy disabled: connections refused) against the embedded stack with the reference
# service, both profiles: the tuned dispatchd rides it out without losing or duplicating a webhook
# (the document's phases, timeline, backlog, probes, resources and thresholds checked too); the
# untuned one is caught (red, exit 99) and its advice carries dispatchd's own count of the
# webhooks it answered "unavailable" and names the knob it ran without. Both runs deliver as a
# retrying sender: the tuned one (5% duplicates) delivers every event at once and stores none twice;
# the untuned one (no fallback) delivers every event in the end, late by the outage, and shows the
# retry storm after it, whose per-second counts must add up to the sender's. The other faults are in
# resilience_kill.sh, resilience_timeout.sh and resilience_db.sh. Short phases (1 s warm-up, 2 s
# baseline, 5 s fault, 8 s recovery, 12 s for the tuned run) keep each run near 20 s; everything
# is on loopback and every wait is bounded.
. "$(dirname "$0")/lib.bash"

needs_dispatchd "resilience runs"
RUN_SUMMARY=$RESIL_SUMMARY

# ---- usage -------------------------------------------------------------------------------------

lists_modes() { # TEXT MODES...: every mode has its line "  MODE ..." in TEXT
    local m
    for m in "${@:2}"; do in_text "$1" "^  $m " || return 1; done
}
check "redis-failure --help exits 0 and lists every mode" \
    lists_modes "$("$BRINK" redis-failure --help)" latency timeout reset down pause kill all
check "db-restart --help lists graceful, crash, latency, blackhole" \
    lists_modes "$("$BRINK" db-restart --help)" graceful crash latency blackhole all
"$BRINK" redis-failure >/dev/null 2>&1
check "a missing mode is a usage error (exit 2)" [ $? -eq 2 ]
"$BRINK" redis-failure explode >"$TMP/u.out" 2>&1
check "an unknown mode is a usage error naming the modes" \
    all [ $? -eq 2 ] -- grep -q 'latency|timeout|reset|down|pause|kill|all' "$TMP/u.out"
"$BRINK" db-restart crash --recovery 1s >/dev/null 2>&1
check "a recovery shorter than the 3 s window is refused (exit 2)" [ $? -eq 2 ]
"$BRINK" redis-failure down --probe '{"kind":"sql"}' >/dev/null 2>&1
check "a bad --probe is a usage error" [ $? -eq 2 ]
"$BRINK" redis-failure down --delivery strpe >"$TMP/u2.out" 2>&1
check "an unknown sender is refused before any stack starts (exit 2, with a suggestion)" \
    all [ $? -eq 2 ] -- grep -q "did you mean 'stripe'" "$TMP/u2.out"
"$BRINK" db-restart crash --retry-schedule 60s --delivery-drain 1s >"$TMP/u3.out" 2>&1
check "a retry schedule longer than the run plus the drain is refused (exit 2)" \
    all [ $? -eq 2 ] -- grep -q "longer than the run" "$TMP/u3.out"
BRINK_REDIS_SERVER=/nonexistent/redis-server "$BRINK" redis-failure down "${RESIL_PHASES[@]}" \
    >"$TMP/nostack.out" 2>&1
check "a stack that cannot start exits 3 with the reason" all [ $? -eq 3 ] -- grep -qi redis "$TMP/nostack.out"

# ---- Redis down ----------------------------------------------------------------------------------

brink_run redis-down-tuned redis-failure down --rate 200 "${RESIL_TUNED[@]}" \
    --delivery standard-webhooks --duplicate-rate 0.05 \
    --probe '{"kind":"http","name":"circuit","url":"{service_url}/metrics","metric":"dispatchd_redis_circuit_state"}' \
    --probe '{"kind":"sql","name":"orders","url":"{pg_url}","query":"SELECT count(*) FROM orders"}'
F=$TMP/redis-down-tuned.json
check "tuned, Redis down: exit 0 (nothing red)" [ "$(rc redis-down-tuned)" = 0 ]
jqcheck "tuned, Redis down: outage error rate < 1%" "$F" '.stats.outage_error_rate < 0.01'
jqcheck "tuned, Redis down: 0 lost, 0 duplicated, 0 integrity violations" "$F" \
    '.audit.done and .stats.lost == 0 and .stats.duplicated == 0 and .stats.integrity_violations == 0'
jqcheck "tuned, Redis down: every acknowledged webhook is in orders" "$F" \
    '.audit.webhooks.acknowledged > 2500 and .audit.webhooks.stored >= .audit.webhooks.acknowledged'
jqcheck "the document: schema, test, mode, phases in order, fault timestamps" "$F" \
    '.schema == "brink.result/1" and .test == "redis-failure" and .mode == "down"
     and ([.phases[].name] == ["warmup","baseline","fault","recovery"])
     and .fault.downtime_s > 4.9 and .fault.downtime_s < 6 and .stats.recovered == true'
jqcheck "the timeline: per second, phase-tagged, offered ~ 200/s, 250 ms samples too" "$F" \
    '(.timeline | length) >= 16 and ([.timeline[].phase] | index("fault")) != null
     and (.timeline[5].offered >= 190 and .timeline[5].offered <= 210)
     and (.timeline_250ms | length) >= 64 and (.timeline_250ms[8].length_s == 0.25)'
jqcheck "the backlog: 250 ms samples of the stream and the inbox, drained" "$F" \
    '(.backlog.samples | length) >= 60 and ([.backlog.probes[].name] | index("inbox")) != null
     and (.backlog.probes | all(.answered)) and .backlog.drained and .stats.max_backlog >= 0'
jqcheck "--probe: an HTTP (Prometheus) and an SQL probe on this stack, sampled beside the backlog" "$F" \
    '([.backlog.probes[] | select(.name == "circuit" or .name == "orders") | .answered] == [true, true])
     and ([.backlog.samples[] | select(.phase == "fault") | .circuit] | max) >= 1
     and ([.backlog.samples[] | select(.phase == "baseline") | .circuit] | max) == 0
     and ([.backlog.samples[].orders] | max) >= .audit.webhooks.acknowledged'
jqcheck "resources per phase for the service, redis and postgres" "$F" \
    '(.resources.phases | length) == 4
     and (.resources.phases[1] | .service.rss_mib > 0 and .redis.rss_mib > 0 and .postgres.rss_mib > 0)'
jqcheck "thresholds of the redis table with verdicts" "$F" \
    '([.thresholds[].metric] | contains(["outage_error_rate","outage_p99_ms","max_backlog",
       "recovery_s","drain_s","lost","duplicated","integrity_violations"]))'
jqcheck "tuned, a standard-webhooks sender with 5% duplicates: every event delivered, none stored twice" "$F" \
    '.delivery.policy == "standard-webhooks" and .stats.eventual_delivery_rate == 1
     and .stats.gave_up == 0 and .delivery.duplicates > 50 and .stats.duplicated == 0
     and .stats.outage_events > 900 and .stats.outage_events_delivered == .stats.outage_events
     and .stats.outage_delivery_delay_p99_s < 1'
jqcheck "tuned: the sender's verdicts and the storm's (no burst: the fallback answered)" "$F" \
    '([.thresholds[].metric] | contains(["eventual_delivery_rate","gave_up","delivery_delay_p99_s",
       "storm_error_rate","storm_p99_ms","storm_relapse_s"]))
     and .storm.valid and .stats.storm_peak_ratio < 1.5 and .stats.storm_error_rate < 0.01'

# the untuned one has no fallback: with a sender retrying every second, every event gets through
# once Redis is back, late by the outage, and the retries owed arrive at once (the storm)
brink_run redis-down-untuned redis-failure down --rate 200 --stack-profile untuned \
    --warmup 1s --baseline 2s --fault 5s --recovery 8s --drain-timeout 20s \
    --retry-schedule 0.5s,1s,1s,1s,1s,1s,1s,1s,1s,1s \
    --threshold 'eventual_delivery_rate>=0.99' --threshold 'storm_peak_ratio<1000 orange<1.01'
F=$TMP/redis-down-untuned.json
check "untuned, Redis down: exit 99 (red)" [ "$(rc redis-down-untuned)" = 99 ]
jqcheck "untuned, Redis down: outage error rate > 20%, red" "$F" \
    '.stats.outage_error_rate > 0.2 and ([.thresholds[] | select(.metric == "outage_error_rate")
     | .status] == ["red"]) and (.advice | length) > 0'
jqcheck "untuned, Redis down: the errors are 503s, and only during the fault" "$F" \
    '(.phases[2].errors_by_class.http_5xx // 0) > 500 and .phases[1].error_rate < 0.01'
jqcheck "untuned, retrying sender: eventual delivery 100%, nothing lost, delay p99 ~ the 5 s outage" "$F" \
    '.stats.eventual_delivery_rate == 1 and .stats.gave_up == 0 and .stats.lost == 0
     and .stats.first_attempt_success_rate < 0.8
     and .stats.outage_delivery_delay_p99_s > 3.5 and .stats.outage_delivery_delay_p99_s < 8
     and .stats.delivery_delay_p99_s > 3.5'
jqcheck "untuned: the retry storm — 500+ events owed at the fault's end, attempts well above the baseline rate" "$F" \
    '.storm.valid and .storm.owed_at_fault_end > 500 and .stats.storm_peak_ratio > 2
     and .storm.peak_rps > 400 and .storm.excess_attempts > 300 and .storm.back_s != null'
jqcheck "the storm's seconds add up to the sender's counts (every attempt, each retry)" "$F" \
    '.storm.fault_end_second as $fe
     | ([.storm.seconds[].attempts] | add) == .delivery.events + .delivery.retries + .delivery.duplicates
     and ([.storm.seconds[].retries] | add) == .delivery.retries
     and ([.storm.seconds[] | select(.t >= $fe) | .attempts] | max) == .storm.peak_rps'
jqcheck "--threshold: the run's own conditions judged beside the built-in verdicts" "$F" \
    '[.thresholds[] | select(.test == "custom") | "\(.metric)=\(.status)"]
     == ["eventual_delivery_rate=green","storm_peak_ratio=orange"]'
"$BRINK" redis-failure down --threshold 'nope<1' >/dev/null 2>"$TMP/names.err"
names=$(sed -n 's/.*unknown metric .nope. (this run has: \(.*\))$/\1/p' "$TMP/names.err")
check "--threshold: an unknown number is refused (exit 2) with a list that covers every number of the document" \
    jqt --arg names "$names" '($names | split(", ")) as $n
        | ([.stats | to_entries[] | select(.value | type == "number") | .key] - $n) == [] and ($n | length) > 40' "$F"
check "untuned: the backlog line says its peak against the baseline's level and how it came back" \
    grep -qE '^  backlog       (max [0-9]+ at [0-9.]+ s \(baseline level [0-9]+\)(; back to [0-9]+ [0-9.]+ s after the fault ended|; NOT back to its baseline level)?|never above its baseline level \([0-9]+\))$' \
    "$TMP/redis-down-untuned.out"
check "untuned (no -q, no terminal): a progress line at 10 s of the 16 s run" \
    grep -qE '^brink redis-failure down: 10s/16s ETA 6s: [0-9]+ responses' "$TMP/redis-down-untuned.out"
check "untuned: the terminal shows the sender, the events due during the fault and the storm" \
    all grep -q '^  delivery      [0-9]* events: ' "$TMP/redis-down-untuned.out" \
    -- grep -qE '^  during fault  [0-9]+ events due, [0-9]+ delivered in the end; delivery delay p99 [0-9.]+ s' "$TMP/redis-down-untuned.out" \
    -- grep -qE "^  retry storm   [0-9]+ events owed at the fault's end; peak [0-9]+ attempts/s" "$TMP/redis-down-untuned.out"
jqcheck "untuned, Redis down: the advice's evidence has dispatchd's own unavailable count, and the remedy names the fallback it ran without" "$F" \
    'any(.advice[]; .metric == "outage_error_rate"
       and (.evidence | test("[(]service metrics: [^)]*webhooks unavailable [+][1-9]"))
       and .service_metrics["dispatchd_webhooks_total{outcome=\"unavailable\"}"].change > 0
       and .service_metrics["dispatchd_webhooks_total{outcome=\"unavailable\"}"].fault_end > 0
       and (.service_remedy | test("--redis-fallback on")) and (.service_remedy as $s | .remedy | startswith($s)))'
