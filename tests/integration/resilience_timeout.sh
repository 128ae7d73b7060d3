# resilience_timeout.sh — brink redis-failure timeout (the stack's proxy black-holes Redis)
# against the embedded stack with the reference service: no request of the tuned dispatchd hangs;
# the untuned one's requests hang to the client's timeout and it is caught (red, exit 99). Short
# phases keep each run near 20 s, and the two runs (each on its own stack) overlap; loopback only,
# every wait bounded.
. "$(dirname "$0")/lib.bash"

needs_dispatchd "redis-failure timeout"
RUN_SUMMARY=$RESIL_SUMMARY

brink_run_bg redis-timeout-tuned redis-failure timeout --rate 100 --timeout 2s "${RESIL_PHASES[@]}"
brink_run_bg redis-timeout-untuned redis-failure timeout --rate 100 --timeout 2s --stack-profile untuned \
    "${RESIL_PHASES[@]}"
brink_wait
F=$TMP/redis-timeout-tuned.json
# "hangs" = waits for the 2 s client timeout (the untuned picture below); the tuned service's
# outage p99 is usually < 100 ms, but one CI run on the 2-core machine saw 743 ms with no timeout
# and no error, so the bound is well below the client timeout rather than a tight latency claim
jqcheck "tuned, Redis black-holed: no request hangs (p99 < 1.5 s, no timeouts, < 1% errors)" "$F" \
    '.stats.outage_p99_ms < 1500 and .stats.outage_error_rate < 0.01 and .stats.outage_timeouts == 0'

F=$TMP/redis-timeout-untuned.json
check "untuned, Redis black-holed: exit 99" [ "$(rc redis-timeout-untuned)" = 99 ]
jqcheck "untuned, Redis black-holed: requests hang to the client timeout (p99 ~ 2 s)" "$F" \
    '.stats.outage_p99_ms >= 1900 and .stats.outage_timeouts > 0
     and (.phases[2].errors_by_class.request_timeout // 0) > 0
     and ([.thresholds[] | select(.metric == "outage_p99_ms") | .status] != ["green"])'
echo "# untuned timeout: $(jq -c '.audit.webhooks | {acknowledged, stored, lost}' "$F" 2>/dev/null)"
