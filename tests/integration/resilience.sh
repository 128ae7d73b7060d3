# resilience.sh — brink redis-failure and brink db-restart against the embedded stack with the
# reference service, both profiles: the tuned dispatchd must ride out Redis going down or being
# killed and a PostgreSQL crash without losing or duplicating a webhook; the untuned one must be
# caught (red, exit 99) on down, kill, timeout (requests hang to the client's timeout) and crash
# (ingest fails while PostgreSQL is down), and its advice must carry dispatchd's own counters from
# /metrics (unavailable answers, pool timeouts) and name the knob it ran without. Short phases (1 s warm-up, 3 s baseline, 5 s fault,
# 8 s recovery) keep each run near 20 s; everything is on loopback and every wait is bounded.
. "$(dirname "$0")/lib.bash"

PH=(--warmup 1s --baseline 3s --fault 5s --recovery 8s --drain-timeout 20s -q)

if [ ! -x "$BRINK" ]; then
    not_ok "brink is built in $BUILD"
    exit 0
fi
if [ ! -x "$BUILD/dispatchd" ] && [ ! -x "$ROOT/bin/dispatchd" ]; then
    echo "ok - resilience runs # SKIP dispatchd is not built"
    exit 0
fi

# ---- usage -------------------------------------------------------------------------------------

out=$("$BRINK" redis-failure --help)
check "redis-failure --help exits 0 and lists every mode" \
    bash -c 'for m in latency timeout reset down pause kill all; do grep -q "^  $m " <<<"$1" || exit 1; done' _ "$out"
out=$("$BRINK" db-restart --help)
check "db-restart --help lists graceful, crash, latency, blackhole" \
    bash -c 'for m in graceful crash latency blackhole all; do grep -q "^  $m " <<<"$1" || exit 1; done' _ "$out"
"$BRINK" redis-failure >/dev/null 2>&1
check "a missing mode is a usage error (exit 2)" [ $? -eq 2 ]
"$BRINK" redis-failure explode >"$TMP/u.out" 2>&1
check "an unknown mode is a usage error naming the modes" \
    bash -c "[ $? -eq 2 ] && grep -q 'latency|timeout|reset|down|pause|kill|all' '$TMP/u.out'"
"$BRINK" db-restart crash --recovery 1s >/dev/null 2>&1
check "a recovery shorter than the 3 s window is refused (exit 2)" [ $? -eq 2 ]
"$BRINK" redis-failure down --probe '{"kind":"sql"}' >/dev/null 2>&1
check "a bad --probe is a usage error" [ $? -eq 2 ]
BRINK_REDIS_SERVER=/nonexistent/redis-server "$BRINK" redis-failure down "${PH[@]}" \
    >"$TMP/nostack.out" 2>&1
check "a stack that cannot start exits 3 with the reason" \
    bash -c "[ $? -eq 3 ] && grep -qi redis '$TMP/nostack.out'"

# ---- runs --------------------------------------------------------------------------------------

# run NAME ARGS...: runs brink, keeps its output, exit status and document
run() {
    local name=$1
    shift
    local t0=$SECONDS
    timeout -k 5 150 "$BRINK" "$@" --json "$TMP/$name.json" >"$TMP/$name.out" 2>&1
    echo $? >"$TMP/$name.rc"
    echo "# $name: exit $(cat "$TMP/$name.rc") in $((SECONDS - t0)) s"
    if [ -s "$TMP/$name.json" ]; then
        jq -c '.stats | {outage_error_rate, outage_p99_ms, outage_timeouts, max_backlog, drain_s,
            downtime_s, recovery_s, pool_recovery_s, accepted, lost, duplicated,
            integrity_violations}' "$TMP/$name.json" | sed 's/^/#   /'
    else
        tail -5 "$TMP/$name.out" | sed 's/^/#   /'
    fi
}
rc() { cat "$TMP/$1.rc"; }

run redis-down-tuned redis-failure down --rate 200 "${PH[@]}" \
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

run redis-down-untuned redis-failure down --rate 200 --stack-profile untuned "${PH[@]}"
F=$TMP/redis-down-untuned.json
check "untuned, Redis down: exit 99 (red)" [ "$(rc redis-down-untuned)" = 99 ]
jqcheck "untuned, Redis down: outage error rate > 20%, red" "$F" \
    '.stats.outage_error_rate > 0.2 and ([.thresholds[] | select(.metric == "outage_error_rate")
     | .status] == ["red"]) and (.advice | length) > 0'
jqcheck "untuned, Redis down: the errors are 503s, and only during the fault" "$F" \
    '(.phases[2].errors_by_class.http_5xx // 0) > 500 and .phases[1].error_rate < 0.01'
jqcheck "untuned, Redis down: the advice's evidence has dispatchd's own unavailable count, and the remedy names the fallback it ran without" "$F" \
    'any(.advice[]; .metric == "outage_error_rate"
       and (.evidence | test("[(]service metrics: [^)]*webhooks unavailable [+][1-9]"))
       and .service_metrics["dispatchd_webhooks_total{outcome=\"unavailable\"}"].change > 0
       and .service_metrics["dispatchd_webhooks_total{outcome=\"unavailable\"}"].fault_end > 0
       and (.service_remedy | test("--redis-fallback on")) and (.service_remedy as $s | .remedy | startswith($s)))'

run redis-kill-tuned redis-failure kill --rate 200 "${PH[@]}"
F=$TMP/redis-kill-tuned.json
check "tuned, Redis killed: exit 0" [ "$(rc redis-kill-tuned)" = 0 ]
jqcheck "tuned, Redis killed: outage error rate < 1%, 0 lost, 0 duplicated" "$F" \
    '.stats.outage_error_rate < 0.01 and .stats.lost == 0 and .stats.duplicated == 0'
jqcheck "tuned, Redis killed: restarted (new pid), downtime from the fault timestamps" "$F" \
    '.fault.pid_after != .fault.pid_before and .fault.ready_s > .fault.down_s
     and .stats.downtime_s > 4.9'

run redis-kill-untuned redis-failure kill --rate 200 --stack-profile untuned "${PH[@]}"
F=$TMP/redis-kill-untuned.json
check "untuned, Redis killed: exit 99" [ "$(rc redis-kill-untuned)" = 99 ]
jqcheck "untuned, Redis killed: outage error rate > 20%" "$F" '.stats.outage_error_rate > 0.2'

run redis-timeout-tuned redis-failure timeout --rate 100 --timeout 2s "${PH[@]}"
F=$TMP/redis-timeout-tuned.json
# "hangs" = waits for the 2 s client timeout (the untuned picture below); the tuned service's
# outage p99 is usually < 100 ms, but one CI run on the 2-core machine saw 743 ms with no timeout
# and no error, so the bound is well below the client timeout rather than a tight latency claim
jqcheck "tuned, Redis black-holed: no request hangs (p99 < 1.5 s, no timeouts, < 1% errors)" "$F" \
    '.stats.outage_p99_ms < 1500 and .stats.outage_error_rate < 0.01 and .stats.outage_timeouts == 0'

run redis-timeout-untuned redis-failure timeout --rate 100 --timeout 2s --stack-profile untuned \
    "${PH[@]}"
F=$TMP/redis-timeout-untuned.json
check "untuned, Redis black-holed: exit 99" [ "$(rc redis-timeout-untuned)" = 99 ]
jqcheck "untuned, Redis black-holed: requests hang to the client timeout (p99 ~ 2 s)" "$F" \
    '.stats.outage_p99_ms >= 1900 and .stats.outage_timeouts > 0
     and (.phases[2].errors_by_class.request_timeout // 0) > 0
     and ([.thresholds[] | select(.metric == "outage_p99_ms") | .status] != ["green"])'
echo "# untuned timeout: $(jq -c '.audit.webhooks | {acknowledged, stored, lost}' "$F" 2>/dev/null)"

run db-crash-tuned db-restart crash --rate 50 --accept-rate 20 "${PH[@]}"
F=$TMP/db-crash-tuned.json
check "tuned, PostgreSQL crash: exit 0" [ "$(rc db-crash-tuned)" = 0 ]
jqcheck "tuned, PostgreSQL crash: ingest error rate ~ 0, 0 lost, 0 duplicated, integrity kept" "$F" \
    '.stats.outage_error_rate < 0.01 and .stats.lost == 0 and .stats.duplicated == 0
     and .stats.integrity_violations == 0 and .audit.accepts.lost == 0'
jqcheck "tuned, PostgreSQL crash: accepts fail during the crash and come back (pool recovery)" "$F" \
    '.stats.accept_outage_error_rate > 0.5 and .stats.pool_recovery_s < 2 and .stats.recovered
     and .audit.accepts.acknowledged > 100 and .audit.accepts.applied == .audit.accepts.acknowledged'
jqcheck "tuned, PostgreSQL crash: the webhooks wait in the Redis stream and drain" "$F" \
    '.stats.max_backlog > 50 and .backlog.drained'

run db-crash-untuned db-restart crash --rate 50 --accept-rate 20 --stack-profile untuned "${PH[@]}"
F=$TMP/db-crash-untuned.json
check "untuned, PostgreSQL crash: exit 99" [ "$(rc db-crash-untuned)" = 99 ]
jqcheck "untuned, PostgreSQL crash: ingest fails while PostgreSQL is down (> 20%), red" "$F" \
    '.stats.outage_error_rate > 0.2 and ([.thresholds[] | select(.metric == "success_rate")
     | .status] == ["red"])'
jqcheck "untuned, PostgreSQL crash: success_rate's evidence has the service's pool timeouts and unavailable answers; the remedy names sync ingest" "$F" \
    'any(.advice[]; .metric == "success_rate"
       and (.evidence | test("[(]service metrics: [^)]*pg pool timeouts [+][1-9]"))
       and .service_metrics["dispatchd_webhooks_total{outcome=\"unavailable\"}"].change > 0
       and (.service_remedy | test("--ingest queue")))'
jqcheck "untuned, PostgreSQL crash: still nothing acknowledged is lost" "$F" \
    '.audit.done and .stats.lost == 0 and .stats.duplicated == 0'
jqcheck "db-restart thresholds: recovery, success rate, pool recovery, loss, integrity" "$F" \
    '([.thresholds[].metric] | contains(["recovery_s","success_rate","pool_recovery_s","lost",
       "duplicated","integrity_violations"]))'
