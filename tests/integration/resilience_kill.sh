# resilience_kill.sh — brink redis-failure kill (SIGKILL of redis-server, restarted after the
# fault) against the embedded stack with the reference service: the tuned dispatchd loses and
# duplicates nothing and the restart is seen in the fault's timestamps; the untuned one is caught
# (red, exit 99). Short phases keep each run near 20 s, and the two runs (each on its own stack)
# overlap; loopback only, every wait bounded.
. "$(dirname "$0")/lib.bash"

needs_dispatchd "redis-failure kill"
RUN_SUMMARY=$RESIL_SUMMARY

brink_run_bg redis-kill-tuned redis-failure kill --rate 200 "${RESIL_TUNED[@]}"
brink_run_bg redis-kill-untuned redis-failure kill --rate 200 --stack-profile untuned "${RESIL_PHASES[@]}"
brink_wait
F=$TMP/redis-kill-tuned.json
check "tuned, Redis killed: exit 0" [ "$(rc redis-kill-tuned)" = 0 ]
jqcheck "tuned, Redis killed: outage error rate < 1%, 0 lost, 0 duplicated" "$F" \
    '.stats.outage_error_rate < 0.01 and .stats.lost == 0 and .stats.duplicated == 0'
jqcheck "tuned, Redis killed: restarted (new pid), downtime from the fault timestamps" "$F" \
    '.fault.pid_after != .fault.pid_before and .fault.ready_s > .fault.down_s
     and .stats.downtime_s > 4.9'
jqcheck "tuned, Redis killed: no webhook left waiting until the client's 5 s timeout" "$F" \
    '[.phases[].timeouts] | add == 0'

F=$TMP/redis-kill-untuned.json
check "untuned, Redis killed: exit 99" [ "$(rc redis-kill-untuned)" = 99 ]
jqcheck "untuned, Redis killed: outage error rate > 20%" "$F" '.stats.outage_error_rate > 0.2'
