# resilience_db.sh — brink db-restart crash (SIGKILL of PostgreSQL, crash recovery) against the
# embedded stack with the reference service: the tuned dispatchd keeps taking webhooks in the
# Redis stream, accepts fail during the crash and come back (pool recovery), nothing is lost or
# duplicated and integrity holds; the untuned one (sync ingest) fails webhooks while PostgreSQL is
# down and is caught (red, exit 99), its advice carrying the service's pool timeouts. Short
# phases keep each run near 20 s, and the two runs (each on its own stack) overlap; loopback only,
# every wait bounded.
. "$(dirname "$0")/lib.bash"

needs_dispatchd "db-restart crash"
RUN_SUMMARY=$RESIL_SUMMARY

brink_run_bg db-crash-tuned db-restart crash --rate 50 --accept-rate 20 "${RESIL_TUNED[@]}"
brink_run_bg db-crash-untuned db-restart crash --rate 50 --accept-rate 20 --stack-profile untuned "${RESIL_PHASES[@]}"
brink_wait
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
