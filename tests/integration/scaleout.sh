# scaleout.sh — two dispatchd instances on one PostgreSQL and one Redis, sharing the stream's
# consumer group (each with its own consumer names, host-pid-worker). Both take signed webhooks
# under load; one is SIGKILLed while its workers hold entries pending, the other keeps taking
# load. To be sure that the killed instance holds entries that are not stored, its PostgreSQL path
# (through the stack's fault proxy) is cut by a timeout toxic first: its workers keep their batch
# pending and retry it (re-reading it, which keeps it from looking idle: --pg-timeout 300 and the
# retry backoff of at most 1 s stay well under --claim-idle 3 s, so the other instance does not
# take it over while it lives). Then SQL says: every webhook answered 2xx is exactly one order —
# the survivor's XAUTOCLAIM took over the dead instance's pending entries — and nothing is stored
# twice. The same check is run against a broken set-up and must fire: a survivor whose
# --claim-idle is an hour leaves the dead instance's entries pending, and the orders are missing
# until an instance that reclaims them starts.
#
# Which webhooks got 2xx: the loads aimed at the instance that survives must all be 202 (so their
# orders must be as many as the requests sent); the load aimed at the instance that is killed runs
# on one connection (-c 1 -t 1), so its answered requests are exactly the first K of its sequence
# numbers ({{seq}} in the order_id), K being its 2xx count; the request in flight at the kill may
# or may not have been queued (no answer: the client must retry it), so at most one order more
# may exist.
. "$(dirname "$0")/lib.bash"

dd_stack
PG_PROXY=$PG_URL # through the fault proxy, no password
export DISPATCHD_REDIS=$REDIS_URL # directly: the faults here are PostgreSQL's

# load PORT PREFIX JSON [brink load options]: signed webhooks in the background, waited for by
# loads_done
LOAD_PIDS=()
load() {
    webhook_load "$@" --timeout 3s &
    LOAD_PIDS+=($!)
    PIDS+=($!)
}
loads_done() {
    wait "${LOAD_PIDS[@]}"
    LOAD_PIDS=()
}
nreq() { jq -r '.stats.sent // 0' "$1" 2>/dev/null; }

# pending_of STREAM GROUP PID: entries pending in the consumers of the process PID
pending_of() {
    rcli --json XINFO CONSUMERS "$1" "$2" 2>/dev/null |
        jq -r --arg p "-$3-" '[.[] | select(.name | contains($p)) | .pending] | add // 0'
}
# drain STREAM GROUP SECONDS: waits until nothing is pending or undelivered in the stream and the
# inbox (where webhooks go while the circuit is open) is empty; 0 when drained
drained() {
    PEND=$(rcli XPENDING "$1" "$2" 2>/dev/null | head -1)
    LAG=$(rcli --json XINFO GROUPS "$1" 2>/dev/null | jq -r --arg g "$2" '.[] | select(.name == $g) | .lag')
    INBOX=$(sql "select count(*) from webhook_inbox")
    [ "${PEND:-1}" = 0 ] && [ "${LAG:-1}" = 0 ] && [ "${INBOX:-1}" = 0 ]
}
drain() {
    wait_for "$3" drained "$1" "$2" && return 0
    echo "#   $1: still ${PEND:-?} pending, lag ${LAG:-?}, ${INBOX:-?} in the inbox after $3 s"
    return 1
}

# audit TAG: the ground truth of one run, from SQL. Uses ALL (loads whose every request must be
# 2xx: "prefix:json" words) and KILLED ("prefix:json" of the killed instance's one-connection
# load). Prints what is wrong (nothing when all is well) and returns 1 when anything is.
audit() {
    local bad=0 w prefix json n sent got
    for w in $ALL; do
        prefix=${w%%:*} json=${w#*:}
        n=$(n2xx "$json")
        sent=$(nreq "$json")
        # every request sent was answered 2xx, so every order of the prefix is one of them (which
        # seq values were sent is not 0..n-1: each thread sends its own share of the schedule)
        got=$(sql "select count(*) from orders where order_id ~ '^$prefix-[0-9]+\$'")
        if [ "$n" != "$sent" ]; then
            echo "#   $prefix: $n of $sent requests answered 2xx ($(jq -c .status "$json"))"
            bad=1
        fi
        if [ "$got" != "$n" ]; then
            echo "#   $prefix: $n webhooks answered 2xx, $got of them are orders ($((n - got)) lost)"
            bad=1
        fi
    done
    # the killed instance's one-connection load: its answers are seq 0..m-1 (m = 2xx + other
    # statuses, all before the kill); with no other status the 2xx ones are exactly those
    prefix=${KILLED%%:*} json=${KILLED#*:}
    n=$(n2xx "$json")
    h=$(jq -r '.stats.http_errors // 0' "$json")
    m=$((n + h))
    got=$(sql "select count(*) from orders where order_id ~ '^$prefix-[0-9]+\$' and substring(order_id from '[0-9]+\$')::int < $m")
    all=$(sql "select count(*) from orders where order_id like '$prefix-%'")
    if [ "$h" = 0 ] && [ "$got" != "$n" ]; then
        echo "#   $prefix (killed instance): $n answered 2xx (seq 0..$((n - 1))), $got of them are orders ($((n - got)) lost)"
        bad=1
    elif [ "$h" != 0 ] && [ "$got" -lt "$n" ]; then
        echo "#   $prefix (killed instance): $n answered 2xx among seq 0..$((m - 1)) ($h other answers), only $got orders there ($((n - got)) lost)"
        bad=1
    fi
    [ "$h" != 0 ] && echo "#   note: $prefix had $h answers other than 2xx ($(jq -c .status "$json")): counted, not checked id by id"
    if [ "$all" -gt $((m + 1)) ]; then
        echo "#   $prefix (killed instance): $all orders for $m answers — more than one request was in flight"
        bad=1
    fi
    local dup
    dup=$(sql "select (count(*) - count(distinct webhook_id)) + (count(*) - count(distinct order_id)) from orders where order_id like '$1-%'")
    if [ "$dup" != 0 ]; then
        echo "#   $dup duplicated orders"
        bad=1
    fi
    return $bad
}

run=$RANDOM$RANDOM
S1=so:$run G1=scale

# ---- two instances, one consumer group ------------------------------------------------------

if ! start_dd A --pg "$PG_PROXY" --pg-timeout 300 --stream "$S1" --group "$G1" --claim-idle 3000 ||
    ! start_dd B --pg "$PG_DIRECT" --stream "$S1" --group "$G1" --claim-idle 3000; then
    not_ok "two dispatchd instances start on one stream and group"
    exit 0
fi
ok "two dispatchd instances on one PostgreSQL and Redis, stream $S1, group $G1"

# both take load at once; both instances' workers store (one group shares the stream)
load "$PORT_A" "so-$run-a1" "$TMP/a1.json" -n 1500 -c 8
load "$PORT_B" "so-$run-b1" "$TMP/b1.json" -n 1500 -c 8
loads_done
check "1500 + 1500 webhooks to the two instances at once: all 2xx ($(n2xx "$TMP/a1.json") + $(n2xx "$TMP/b1.json"))" \
    [ "$(n2xx "$TMP/a1.json"):$(n2xx "$TMP/b1.json")" = 1500:1500 ]
drain "$S1" "$G1" 20 >/dev/null
consumers=$(rcli --json XINFO CONSUMERS "$S1" "$G1" | jq -r '.[].name' | sed 's/-[0-9]*$//' | sort -u)
check "the group has consumers of both processes ($(echo $consumers))" \
    all in_text "$consumers" "-$PID_A\$" -- in_text "$consumers" "-$PID_B\$"
ia=$(metric "$PORT_A" dispatchd_orders_inserted_total)
ib=$(metric "$PORT_B" dispatchd_orders_inserted_total)
check "both instances' workers stored orders (A ${ia:-0}, B ${ib:-0})" [ "${ia:-0}" -gt 0 -a "${ib:-0}" -gt 0 ]

# the same webhook-id to both instances: the seen-key lives in the shared Redis
body=$(order_body "so-$run-twice")
r1=$(post "$PORT_A" "msg_so_${run}_twice" "$body")
r2=$(post "$PORT_B" "msg_so_${run}_twice" "$body")
drain "$S1" "$G1" 10 >/dev/null
check "one webhook-id sent to A, then to B: 202, then 200 ($r1, $r2), and one order" \
    [ "$r1:$r2:$(sql "select count(*) from orders where webhook_id = 'msg_so_${run}_twice'")" = 202:200:1 ]

# ---- SIGKILL one instance under load ---------------------------------------------------------

# kill_run TAG A_PORT A_PID B_PORT: cuts A's PostgreSQL path (its workers then hold their batch
# pending, unstored), loads both instances, SIGKILLs A mid-load while B keeps taking load. Sets
# HELD: the entries pending in A's consumers once it is dead — read at once, before they have
# been idle for --claim-idle and the survivor reclaims them.
kill_run() {
    local tag=$1 aport=$2 apid=$3 bport=$4
    toxic postgres cut timeout upstream '{"timeout":0}' # nothing of A's reaches PostgreSQL
    load "$bport" "so-$run-$tag-b" "$TMP/$tag-b.json" -R 600 -d 6s -c 16
    load "$aport" "so-$run-$tag-a" "$TMP/$tag-a.json" -R 200 -d 6s -c 1 -t 1
    sleep 2.5
    kill -9 "$apid"
    wait "$apid" 2>/dev/null
    HELD=$(pending_of "$S" "$G" "$apid")
    loads_done
    untoxic postgres cut
}

S=$S1 G=$G1
kill_run k "$PORT_A" "$PID_A" "$PORT_B"
echo "#   at the kill A's workers held $HELD entries; A: $(n2xx "$TMP/k-a.json") of $(nreq "$TMP/k-a.json") answered 2xx, B: $(n2xx "$TMP/k-b.json") of $(nreq "$TMP/k-b.json")"
check "the killed instance's workers held entries pending at the SIGKILL ($HELD)" [ "${HELD:-0}" -gt 0 ]
check "the killed instance answered 2xx before the kill and not after ($(n2xx "$TMP/k-a.json") of $(nreq "$TMP/k-a.json"))" \
    [ "$(n2xx "$TMP/k-a.json")" -gt 0 -a "$(n2xx "$TMP/k-a.json")" -lt "$(nreq "$TMP/k-a.json")" ]
check "the survivor drains the stream: nothing pending or undelivered" drain "$S1" "$G1" 20
claimed=$(metric "$PORT_B" dispatchd_worker_claimed_total)
check "... having reclaimed the dead instance's entries (dispatchd_worker_claimed_total ${claimed:-0} >= $HELD)" \
    [ "${claimed:-0}" -ge "${HELD:-1}" ]
ALL="so-$run-a1:$TMP/a1.json so-$run-b1:$TMP/b1.json so-$run-k-b:$TMP/k-b.json"
KILLED="so-$run-k-a:$TMP/k-a.json"
if audit "so-$run" >"$TMP/audit1"; then
    ok "SQL: every webhook answered 2xx by either instance is exactly one order; none twice"
else
    not_ok "SQL: every webhook answered 2xx by either instance is exactly one order; none twice"
    cat "$TMP/audit1"
fi
# ---- the check must fire: a survivor that never reclaims ----------------------------------------

S=so2:$run G=scale2
if start_dd A2 --pg "$PG_PROXY" --pg-timeout 300 --stream "$S" --group "$G" --claim-idle 3000 &&
    start_dd B2 --pg "$PG_DIRECT" --stream "$S" --group "$G" --claim-idle 3600000; then
    kill_run k2 "$PORT_A2" "$PID_A2" "$PORT_B2"
    ALL="so-$run-k2-b:$TMP/k2-b.json"
    KILLED="so-$run-k2-a:$TMP/k2-a.json"
    drain "$S" "$G" 5 >/dev/null # longer than the 3 s after which the first survivor reclaimed
    pend=$(rcli XPENDING "$S" "$G" | head -1)
    check "broken set-up (survivor --claim-idle 1 h): the dead instance's $HELD entries stay pending ($pend)" \
        [ "${HELD:-0}" -gt 0 -a "${pend:-0}" -ge "${HELD:-1}" ]
    # the ground truth of this set-up: the held entries whose webhook is in no table (a worker
    # killed between its INSERT's commit and its XACK holds entries that are stored already)
    held_ids=$(rcli --json XPENDING "$S" "$G" - + 1000 2>/dev/null | jq -r '.[][0]' |
        while read -r id; do
            rcli --json XRANGE "$S" "$id" "$id" 2>/dev/null | jq -r '.[0][1][1] | fromjson | .w'
        done | sed "s/.*/'&'/" | paste -sd, -)
    unstored=0
    [ -n "$held_ids" ] && unstored=$(sql "select count(*) from unnest(array[$held_ids]) w
        where not exists (select 1 from orders o where o.webhook_id = w)
        and not exists (select 1 from webhook_inbox i where i.webhook_id = w)")
    if [ "${unstored:-0}" = 0 ]; then
        # nothing was lost this time (every held entry had been stored before the kill): the
        # check must then find nothing either
        if audit "so-$run" >"$TMP/audit2"; then
            ok "broken set-up: the SQL check agrees with the ground truth (the $HELD held entries were stored before the kill: nothing lost)"
        else
            not_ok "broken set-up: the SQL check reports a loss the ground truth does not have"
            cat "$TMP/audit2"
        fi
    elif audit "so-$run" >"$TMP/audit2"; then
        not_ok "broken set-up: the SQL check finds the lost webhooks ($unstored held entries are in no table)"
    elif grep -q ' lost)' "$TMP/audit2" && ! grep -q 'requests answered 2xx' "$TMP/audit2"; then
        ok "broken set-up: the SQL check finds the lost webhooks ($unstored held entries are in no table)"
        sed 's/^#   /#   (expected) /' "$TMP/audit2"
    else
        not_ok "broken set-up: the SQL check fails, but not (only) for lost webhooks"
        cat "$TMP/audit2"
    fi
    # an instance that reclaims comes up: the gap closes
    if start_dd C2 --pg "$PG_DIRECT" --stream "$S" --group "$G" --claim-idle 3000; then
        drain "$S" "$G" 20
        if audit "so-$run" >"$TMP/audit3"; then
            ok "... until an instance that reclaims starts: then every 2xx webhook is one order"
        else
            not_ok "... until an instance that reclaims starts: then every 2xx webhook is one order"
            cat "$TMP/audit3"
        fi
    else
        not_ok "a third instance starts"
    fi
else
    not_ok "the broken set-up's instances start"
fi

# the instances that were not killed stop cleanly; no sanitizer report in any instance's log
kill "${PID_B:-}" "${PID_B2:-}" "${PID_C2:-}" 2>/dev/null
check "the surviving instances stop on SIGTERM within 5 s" all_gone_within 5 ${PID_B:-} ${PID_B2:-} ${PID_C2:-}
check "no sanitizer report in the instances' logs" \
    not grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP"/*.log
