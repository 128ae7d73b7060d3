# dispatchd_faults.sh — dispatchd through failures, on the embedded stack (`brink stack up
# --service none`, its fault command and proxies): Redis stopped or its proxy down under load
# (the circuit and the inbox: every 202 is one order; without the fallback: 503), PostgreSQL
# stopped (accept answers 503 at once, serves again within 1 s of a restart), Redis slow while
# PostgreSQL is down (the last resort), load shedding, two instances starting at once on an empty
# schema, durability across SIGKILL under load, a clean SIGTERM, and clean logs. Its HTTP API is
# in dispatchd.sh. Everything listens on loopback and every wait is bounded.
. "$(dirname "$0")/lib.bash"

dd_stack
# load shedding (--queue-timeout) has its own instance below; the others must not shed because
# the machine is busy with other tests; for the same reason the last resort may wait for Redis up to
# 2.5 s (the default 1 s, under the loads' 3 s timeout; its other side is --last-resort-timeout 0)
if ! start_dd main --claim-idle 1000 --queue-timeout 30000 --last-resort-timeout 2500; then
    not_ok "dispatchd (tuned) starts and becomes ready"
    exit 0
fi
P=$PORT_main
run=$RANDOM$RANDOM
fault() { "$BRINK" stack fault "$1" "$2" --dir "$STACK_DIR" >"$TMP/fault.json" 2>&1; }
# wh_load PORT PREFIX RATE DURATION JSON: an open-model webhook load on 16 connections
wh_load() { webhook_load "$1" "$2" "$5" -R "$3" -d "$4" -c 16 --timeout 3s; }
# answers JSON: what a load's requests were answered, for a message
answers() { echo "status $(jq -c .status "$1"), transport errors $(jq .stats.transport_errors "$1")"; }
# circuit_closes: a webhook (the circuit lets one through as a probe once it has been open for
# --breaker-open), then the circuit is closed
# outage PORT PREFIX RATE DURATION JSON AFTER LENGTH BREAK MEND: a webhook load (wh_load) with an
# outage in it: the command BREAK AFTER seconds in, the command MEND LENGTH seconds later
outage() {
    wh_load "$1" "$2" "$3" "$4" "$5" &
    local lpid=$!
    sleep "$6"
    $8
    sleep "$7"
    $9
    wait $lpid
}
redis_stop() { fault redis stop; }
redis_start() { fault redis start; }
proxy_off() { curl -s -o /dev/null -XPOST "$API/proxies/redis" -d '{"enabled":false}'; }
proxy_on() { curl -s -o /dev/null -XPOST "$API/proxies/redis" -d '{"enabled":true}'; }
# all_2xx JSON: every request of the load was answered 2xx, more than 1000 of them (N2XX of
# NREQ): 202, or 200 when its webhook-id was already received — the request's own write reached
# Redis before its reply timed out (a busy machine): the webhook is queued once, the 200 adds nothing
all_2xx() {
    NREQ=$(jq -r '.stats.requests' "$1")
    N2XX=$(n2xx "$1")
    [ "$N2XX" = "$NREQ" ] && [ "$NREQ" -gt 1000 ]
}
circuit_closes() {
    post "$P" "msg_probe_${run}_$RANDOM" "$(order_body "probe-$run-$RANDOM")" >/dev/null
    [ "$(metric "$P" dispatchd_redis_circuit_state)" = 0 ]
}

# ---- Redis outages ------------------------------------------------------------------------------

# tuned: Redis stops under load → the circuit opens, webhooks go to the inbox, nothing fails
opens0=$(metric "$P" dispatchd_redis_circuit_opens_total)
outage "$P" "rdown-$run" 400 6s "$TMP/rdown.json" 1.5 2 redis_stop redis_start
all_2xx "$TMP/rdown.json"
check "tuned, Redis stopped for 2 s under load: every webhook still answered 2xx ($N2XX of $NREQ; $(answers "$TMP/rdown.json"))" \
    all_2xx "$TMP/rdown.json"
check "... the circuit opened and the inbox took webhooks" \
    [ "$(metric "$P" dispatchd_redis_circuit_opens_total)" -gt "${opens0:-0}" -a \
    "$(metric "$P" 'dispatchd_webhooks_total{outcome="queued_inbox"}')" -gt 0 ]
check "... every 2xx became exactly one order (stream and inbox drained)" \
    wait_sql "select count(*) from orders where order_id like 'rdown-$run-%'" "$N2XX" 30
check "... the inbox is empty again" wait_sql "select count(*) from webhook_inbox" 0 10
check "... and the circuit closed again after Redis came back (at the next webhooks)" wait_for 10 circuit_closes

# untuned (--redis-fallback off): the same outage answers 503 — the detector's evidence
if start_dd nofb --redis-fallback off --workers 0; then
    outage "$PORT_nofb" "rdown2-$run" 200 4s "$TMP/rdown2.json" 1 1.5 redis_stop redis_start
    n503=$(jq -r '.status["503"] // 0' "$TMP/rdown2.json")
    check "--redis-fallback off, Redis stopped: webhooks are refused with 503 ($n503)" [ "$n503" -gt 0 ]
    stop "$PID_nofb"
else
    not_ok "dispatchd --redis-fallback off starts"
fi

# tuned: the Redis proxy goes down (connections refused and closed) under load — the same
# promise as a stopped Redis: every webhook answered 202, every 202 exactly one order
outage "$P" "pdown-$run" 400 5s "$TMP/pdown.json" 1.5 2 proxy_off proxy_on
all_2xx "$TMP/pdown.json"
check "tuned, Redis proxy down for 2 s under load: every webhook answered 2xx ($N2XX of $NREQ; $(answers "$TMP/pdown.json"))" \
    all_2xx "$TMP/pdown.json"
check "... every 2xx became exactly one order" \
    wait_sql "select count(*) from orders where order_id like 'pdown-$run-%'" "$N2XX" 30

# ---- PostgreSQL stopped: accept answers 503 fast, never hangs; back within 1 s of a restart --------

# an order that vendor va has won: once PostgreSQL is back, another accept of it answers 409
won_by_va() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"vendor_id":"va"}' \
        "http://127.0.0.1:$P/orders/acc-$run/accept")" = 200 ]
}
check "an order to accept during the outage: 202, stored, won by va" \
    all [ "$(post "$P" "msg_acc_$run" "$(order_body "acc-$run")")" = 202 ] -- \
    wait_sql "select count(*) from orders where order_id = 'acc-$run'" 1 10 -- won_by_va
acc_t() { curl -s --max-time 5 -o "$TMP/resp" -D "$TMP/hdr" -w '%{http_code} %{time_total}' \
    -H 'Content-Type: application/json' -d '{"vendor_id":"vz"}' "http://127.0.0.1:$P/orders/acc-$run/accept"; }
fault postgres stop
sleep 0.3
read -r st tt <<<"$(acc_t)"
check "PostgreSQL stopped: accept answers 503 within 100 ms (${tt}s)" \
    all [ "$st" = 503 ] -- awk "BEGIN { exit !($tt < 0.1) }"
check "... with Retry-After" grep -qi '^retry-after:' "$TMP/hdr"
check "... /readyz says 503 and names PostgreSQL" \
    all [ "$(curl -s -o "$TMP/ready" -w '%{http_code}' "http://127.0.0.1:$P/readyz")" = 503 ] -- \
    jqt '.postgres | startswith("down")' "$TMP/ready"
check "... webhooks are still taken (Redis queue): 202" \
    [ "$(post "$P" "msg_pgdown_$run" "$(order_body "pgdown-$run")")" = 202 ]
fault postgres start
t0=$(date +%s%N)
back=no
for _ in $(seq 1 100); do
    read -r st tt <<<"$(acc_t)"
    [ "$st" = 409 ] && back=yes && break
    sleep 0.02
done
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
check "PostgreSQL restarted: accept serves again within 1 s of it accepting connections (${ms} ms)" \
    [ $back = yes -a $ms -le 1000 ]
check "... and the webhook taken during the outage is stored" \
    wait_sql "select count(*) from orders where order_id = 'pgdown-$run'" 1 10

# Redis slow (replies later than --redis-timeout: the circuit opens) while PostgreSQL is down
# (the inbox cannot take webhooks either): the last resort waits for Redis longer — 202, not
# 503. The detector's other side: --last-resort-timeout 0 answers the same outage with 503.
if start_dd nolr --last-resort-timeout 0 --workers 0; then
    toxic redis slow latency downstream '{"latency":150}'
    fault postgres stop
    wh_load "$P" "slow-$run" 20 3s "$TMP/slow.json" &
    lpid=$!
    wh_load "$PORT_nolr" "slow2-$run" 20 3s "$TMP/slow2.json"
    wait $lpid
    fault postgres start
    untoxic redis slow
    # 2xx: 202, or 200 when the request's own XADD, sent before its pipe gave up on the
    # slow reply, already reached Redis (the webhook-id was received: nothing new is created)
    nreq=$(jq -r '.stats.requests' "$TMP/slow.json")
    n202=$(n2xx "$TMP/slow.json")
    check "Redis slow (150 ms > --redis-timeout) and PostgreSQL stopped: still 2xx ($n202 of $nreq; status $(jq -c .status "$TMP/slow.json"))" \
        [ "$n202" = "$nreq" -a "$nreq" -ge 50 ]
    check "... through the last resort (dispatchd_webhooks_last_resort_total > 0)" \
        [ "$(metric "$P" dispatchd_webhooks_last_resort_total)" -gt 0 ]
    check "... every one became exactly one order" \
        wait_sql "select count(*) from orders where order_id like 'slow-$run-%'" "$n202" 30
    n503=$(jq -r '.status["503"] // 0' "$TMP/slow2.json")
    check "--last-resort-timeout 0, the same outage: webhooks refused with 503 ($n503)" [ "$n503" -gt 0 ]
    stop "$PID_nolr"
else
    not_ok "dispatchd --last-resort-timeout 0 starts"
fi

# Load shedding: with PostgreSQL slow (500 ms a reply) and one executor, requests queue for
# it; those that waited longer than --queue-timeout are answered 503 "overloaded" at once
# instead of waiting on until their client gives up
if start_dd shed --executors 1 --queue-timeout 200 --workers 0; then
    toxic postgres slowpg latency downstream '{"latency":500}'
    cpids=()
    for i in $(seq 1 6); do
        curl -s --max-time 10 -o "$TMP/shed$i" -D "$TMP/shedh$i" -w '%{http_code}\n' \
            "http://127.0.0.1:$PORT_shed/orders/none-$run-$i" >"$TMP/shedc$i" &
        cpids+=($!)
    done
    wait "${cpids[@]}"
    untoxic postgres slowpg
    codes=$(cat "$TMP"/shedc* | sort | uniq -c | tr -s ' \n' ' ')
    shed503=$(grep -l 503 "$TMP"/shedc* | head -1)
    check "one executor, PostgreSQL slow: queued requests are shed with 503 overloaded ($codes)" \
        all grep -q overloaded "$TMP"/shed[0-9]* -- [ -n "$shed503" ]
    check "... with Retry-After" grep -qi '^retry-after:' "${shed503/shedc/shedh}"
    check "... and counted (dispatchd_requests_shed_total > 0)" \
        [ "$(metric "$PORT_shed" dispatchd_requests_shed_total)" -gt 0 ]
    stop "$PID_shed"
else
    not_ok "dispatchd --queue-timeout starts"
fi

# ---- two instances starting at once on an empty schema --------------------------------------

sql "drop schema if exists dd_twin_$run cascade; create schema dd_twin_$run"
twin_url="$PG_URL?options=-csearch_path%3Ddd_twin_$run"
for t in 1 2; do
    DISPATCHD_PG=$twin_url "$DISPATCHD" --listen 127.0.0.1:0 --port-file "$TMP/twin$t.port" \
        --workers 0 --stream "twin:$run" >"$TMP/twin$t.log" 2>&1 &
    DD_PIDS+=($!)
    eval "tw$t=\$!"
done
check "two instances started at once on an empty schema both become ready (advisory lock)" \
    wait_for 20 all dd_ready "$TMP/twin1.port" -- dd_ready "$TMP/twin2.port"
check "... and created the five tables once, without errors" not grep -q error "$TMP/twin1.log" "$TMP/twin2.log"
check "... five tables and apply_order_events in the new schema" \
    all wait_sql "select count(*) from information_schema.tables where table_schema = 'dd_twin_$run'" 5 1 \
    -- sql_is "select count(*) from information_schema.routines where routine_schema = 'dd_twin_$run' and routine_name = 'apply_order_events'" 1
stop "$tw1" "$tw2"
sql "drop schema if exists dd_twin_$run cascade"

# ---- SIGKILL under load loses nothing that was answered 202 ---------------------------------

# drained: nothing left in the stream, pending, or the inbox (sets PEND and LAG)
drained() {
    LAG=$(rcli xinfo groups dispatchd:webhooks 2>/dev/null | awk 'p { print; exit } /^lag$/ { p = 1 }')
    PEND=$(rcli xpending dispatchd:webhooks dispatchd 2>/dev/null | head -1)
    [ "${LAG:-1}" = 0 ] && [ "${PEND:-1}" = 0 ] && [ "$(sql "select count(*) from webhook_inbox")" = 0 ]
}
if start_dd kill --claim-idle 1000; then
    KP=$PORT_kill
    webhook_load "$KP" "kill-$run" "$TMP/kill.json" -R 1500 -d 6s -c 32 --timeout 2s &
    lpid=$!
    sleep 2
    kill -9 "$PID_kill"
    wait "$PID_kill" 2>/dev/null
    sleep 0.5
    # the same port again, so that the load generator's reconnects reach the new process
    "$DISPATCHD" --listen "127.0.0.1:$KP" --claim-idle 1000 >>"$TMP/kill2.log" 2>&1 &
    DD_PIDS+=($!)
    kpid2=$!
    wait $lpid
    n202=$(jq -r '.status["202"] // 0' "$TMP/kill.json" 2>/dev/null)
    nall=$(jq -r '.stats.requests // 0' "$TMP/kill.json" 2>/dev/null)
    noresp=$(jq -r '.stats.transport_errors // 0' "$TMP/kill.json" 2>/dev/null)
    wait_for 30 drained
    rows=$(sql "select count(*) from orders where order_id like 'kill-$run-%'")
    echo "#   SIGKILL run: $nall requests, $n202 answered 202, $noresp without a response, $rows orders"
    check "SIGKILL mid-load: the stream drains after a restart (pending entries reclaimed)" \
        [ "${PEND:-1}:${LAG:-1}" = 0:0 ]
    check "SIGKILL mid-load: every webhook answered 202 is an order (orders >= 202s)" \
        [ "${n202:-0}" -gt 0 -a "${rows:-0}" -ge "${n202:-1}" ]
    check "SIGKILL mid-load: no order beyond those sent without an answer (orders <= 202s + unanswered)" \
        [ "${rows:-0}" -le $((n202 + noresp)) ]
    stop "$kpid2"
else
    not_ok "dispatchd starts for the SIGKILL test"
fi

# ---- SIGTERM: finish in flight, exit 0 within 5 s -------------------------------------------

webhook_load "$P" "term-$run" "$TMP/term.json" -R 500 -d 3s -c 8 &
lpid=$!
sleep 1
t0=$(date +%s%N)
kill -TERM "$PID_main"
wait_exit "$PID_main" 5
t1=$(date +%s%N)
check "SIGTERM under load: exit 0 within 5 s (took $(((t1 - t0) / 1000000)) ms)" [ "$WAIT_RC" = 0 ]
wait $lpid
n202=$(jq -r '.status["202"] // 0' "$TMP/term.json" 2>/dev/null)
# what was queued but not yet stored waits in the stream for the next instance
if start_dd after; then
    check "SIGTERM: every webhook answered 202 before the stop is an order (after a restart)" \
        wait_sql "select count(*) >= $n202 from orders where order_id like 'term-$run-%'" t 10
    stop "$PID_after"
else
    not_ok "dispatchd restarts after SIGTERM"
fi
check "the log says it stopped" grep -q 'dispatchd stopped' "$TMP/main.log"
dd_logs_check
