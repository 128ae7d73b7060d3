# dispatchd_events.sh — order events after the creation (order.updated, order.paid,
# order.cancelled, each carrying the order's version), proven against the database: tuned, an
# event is handled once per webhook-id and an older version never overwrites a newer one; a
# cancelled order cannot be accepted and a cancellation after the acceptance is recorded; under
# real-sender traffic (brink webhook --events with reordering and duplicates) the ground truth,
# computed here with SQL, shows nothing handled twice and no stale overwrite — and each untuned
# knob (--dedupe off, --ordering ignore) shows its own defect in the same SQL. brink's audit of
# those two runs goes through brink.yaml's audit.events queries, written against views that stand
# for a user's own schema (2 columns: stale overwrites not known; 3 columns: known).
. "$(dirname "$0")/lib.bash"

# One dispatchd at a time: instances of one database share the inbox (where webhooks go while
# their Redis circuit is open), so any instance's workers may handle any instance's webhooks.
dd_stack
start_dd dd || exit 1
check "dispatchd --help names --dedupe and --ordering, and the untuned values" \
    all prints '--dedupe on|off' "$DISPATCHD" --help -- prints '--ordering MODE' "$DISPATCHD" --help

# event_body TYPE ORDER VERSION: an order event carrying the whole order
event_body() {
    printf '{"type":"%s","data":{"order_id":"%s","version":%d,"customer_id":"c1","items":[{"sku":"s","qty":1,"price_cents":100}],"total_cents":100}}' "$1" "$2" "$3"
}
# state_of PORT ORDER: "state version status" from GET /orders/ORDER
state_of() {
    curl -s --max-time 5 "http://127.0.0.1:$1/orders/$2" | jq -r '"\(.state) \(.version) \(.status)"'
}
# drained STREAM GROUP: nothing pending or undelivered in the stream, the inbox empty
drained() {
    local pend lag
    pend=$(rcli XPENDING "$1" "$2" 2>/dev/null | head -1)
    lag=$(rcli --json XINFO GROUPS "$1" 2>/dev/null | jq -r --arg g "$2" '.[] | select(.name == $g) | .lag')
    [ "${pend:-1}" = 0 ] && [ "${lag:-1}" = 0 ] && [ "$(sql "select count(*) from webhook_inbox")" = 0 ]
}

# ---- one order, event by event -------------------------------------------------------------------
P=$PORT_dd
s1=$(post "$P" ev-a1 "$(event_body order.created ev-a 1)")
s3=$(post "$P" ev-a3 "$(event_body order.paid ev-a 3)")
wait_for 10 sql_is "select state || ' ' || version from orders where order_id = 'ev-a'" "paid 3"
check "created (v1) then paid (v3): 202 each, the order is paid at version 3 ($s1 $s3, $SQL_GOT)" \
    all [ "$s1$s3" = 202202 ] -- sql_is "select state || ' ' || version from orders where order_id = 'ev-a'" "paid 3"
s2=$(post "$P" ev-a2 "$(event_body order.updated ev-a 2)")
wait_for 10 sql_is "select count(*) from order_events where webhook_id = 'ev-a2'" 1
check "an older update (v2) after v3 is recorded, not applied: the order stays paid at 3 ($s2)" \
    all [ "$s2" = 202 ] -- sql_is "select applied::text || ' ' || prev_version from order_events where webhook_id = 'ev-a2'" "false 3" \
    -- sql_is "select state || ' ' || version from orders where order_id = 'ev-a'" "paid 3"
check "GET /orders/ev-a shows the state and version" [ "$(state_of "$P" ev-a)" = "paid 3 open" ]
d3=$(post "$P" ev-a3 "$(event_body order.paid ev-a 3)")
wait_for 10 drained dispatchd:webhooks dispatchd
check "the same paid event delivered again: 200, handled once (one order_events row)" \
    all [ "$d3" = 200 ] -- sql_is "select count(*) from order_events where webhook_id = 'ev-a3'" 1

# ---- cancellation and the vendor race ------------------------------------------------------------
post "$P" ev-c1 "$(event_body order.created ev-c 1)" >/dev/null
post "$P" ev-c2 "$(event_body order.cancelled ev-c 2)" >/dev/null
wait_for 10 sql_is "select state from orders where order_id = 'ev-c'" cancelled
code=$(curl -s -o "$TMP/acc" -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
    -d '{"vendor_id":"v1"}' "http://127.0.0.1:$P/orders/ev-c/accept")
check "a cancelled order cannot be accepted: 409 cancelled, no assignment ($code $(cat "$TMP/acc"))" \
    all [ "$code" = 409 ] -- jqt '.error == "cancelled"' "$TMP/acc" \
    -- sql_is "select count(*) from order_assignments where order_id = 'ev-c'" 0
check "GET /orders/ev-c: status cancelled" [ "$(state_of "$P" ev-c)" = "cancelled 2 cancelled" ]
post "$P" ev-d1 "$(event_body order.created ev-d 1)" >/dev/null
wait_for 10 sql_is "select count(*) from orders where order_id = 'ev-d'" 1
code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
    -d '{"vendor_id":"v1"}' "http://127.0.0.1:$P/orders/ev-d/accept")
post "$P" ev-d2 "$(event_body order.cancelled ev-d 2)" >/dev/null
wait_for 10 sql_is "select state from orders where order_id = 'ev-d'" cancelled
check "a cancellation after the acceptance is recorded; the acceptance stands ($code)" \
    all [ "$code" = 200 ] -- sql_is "select status || ' ' || state || ' ' || (cancelled_at is not null) from orders where order_id = 'ev-d'" "accepted cancelled true"

# ---- the event's schema --------------------------------------------------------------------------
code=$(post "$P" ev-x1 "$(event_body order.shipped ev-x 1)")
check "an unknown event type: 400 naming the four types" \
    all [ "$code" = 400 ] -- jqt '.field == "type" and (.detail | test("order.cancelled"))' "$TMP/resp"
code=$(post "$P" ev-x2 "$(event_body order.updated ev-x 0)")
check "version 0: 400 on data.version" all [ "$code" = 400 ] -- jqt '.field == "data.version"' "$TMP/resp"

# ---- through the inbox (the Redis proxy down: the circuit opens) --------------------------------
curl -s -o /dev/null -XPOST "$API/proxies/redis" -d '{"enabled":false}'
codes=""
for v in 1 3 2; do
    t=order.updated
    [ $v = 1 ] && t=order.created
    [ $v = 3 ] && t=order.paid
    code=$(post "$P" "ev-i$v" "$(event_body $t ev-i $v)")
    codes="$codes$code "
done
dup=$(post "$P" ev-i3 "$(event_body order.paid ev-i 3)")
curl -s -o /dev/null -XPOST "$API/proxies/redis" -d '{"enabled":true}'
wait_for 15 sql_is "select count(*) from webhook_inbox" 0
check "Redis down: created, paid (v3), then an older update (v2) through the inbox (${codes}then $dup): paid at 3, the update recorded unapplied, the repeat refused" \
    all [ "$codes$dup" = "202 202 202 200" ] \
    -- sql_is "select state || ' ' || version from orders where order_id = 'ev-i'" "paid 3" \
    -- sql_is "select string_agg(webhook_id || ':' || applied, ' ' order by webhook_id) from order_events where order_id = 'ev-i'" "ev-i2:false ev-i3:true"
stop "$PID_dd"

# ---- sync ingest, untuned ------------------------------------------------------------------------
start_dd untuned --untuned || exit 1
code=$(post "$PORT_untuned" ev-u1 "$(event_body order.created ev-u 1)")
post "$PORT_untuned" ev-u3 "$(event_body order.paid ev-u 3)" >/dev/null
post "$PORT_untuned" ev-u2 "$(event_body order.updated ev-u 2)" >/dev/null
check "untuned (sync ingest, last write wins): the older update overwrites paid (stale overwrite in order_events)" \
    all [ "$code" = 202 ] -- sql_is "select state || ' ' || version from orders where order_id = 'ev-u'" "updated 2" \
    -- sql_is "select count(*) from order_events where order_id = 'ev-u' and applied and prev_version > version" 1
stop "$PID_untuned"

# ---- real-sender traffic: lifecycles with reordering, duplicates and retries ---------------------
# ground truth of one run (RUN = its run id), from SQL alone
truth() {
    local like="$1-%"
    TWICE=$(sql "select count(*) from (select webhook_id from order_events where order_id like '$like' group by 1 having count(*) > 1) t")
    STALE=$(sql "select count(*) from order_events where order_id like '$like' and applied and prev_version > version")
    # orders whose stored version is below the newest version handled for them
    BEHIND=$(sql "select count(*) from orders o where o.order_id like '$like' and o.version < (select max(e.version) from order_events e where e.order_id = o.order_id)")
    HANDLED=$(sql "select count(*) from order_events where order_id like '$like'")
    ORDERS=$(sql "select count(*) from orders where order_id like '$like'")
}
# traffic NAME PORT STREAM GROUP [yaml|cli]: 2 s of lifecycles at 300/s (150 orders of 4 events,
# 15 orders interleaved 50 ms apart), 30 % of the pairs reordered, 5 % duplicates, retries — given in the
# brink.yaml (target.webhook.events, delivery:) or on the command line; brink audits through the
# brink.yaml's audit.url, the ground truth (truth) comes from SQL here
traffic() {
    local sender=() events="" delivery=""
    if [ "${5:-yaml}" = cli ]; then
        sender=(--events default --event-interval 50ms --reorder-rate 0.3 --duplicate-rate 0.05
            --duplicate-window 300ms --retry-schedule 100ms,200ms,400ms)
    else # the same from the brink.yaml
        events=$'\n    events: default\n    event_interval: 50ms\n    reorder_rate: 0.3'
        delivery=$'delivery:\n  retry_schedule: 100ms,200ms,400ms\n  duplicate_rate: 0.05\n  duplicate_window: 300ms'
    fi
    cat >"$TMP/$1.yaml" <<EOF
target:
  url: http://127.0.0.1:$2
  webhook:
    sign: standard-webhooks
    secret: {file: $SECRET_FILE}$events
audit:
  url: $PG_DIRECT
  stored: SELECT webhook_id, count(*) FROM orders WHERE webhook_id = ANY(\$1) GROUP BY webhook_id
$AUDIT_EVENTS
$delivery
EOF
    "$BRINK" webhook light -f "$TMP/$1.yaml" -q -R 300 -d 2s "${sender[@]}" \
        --json "$TMP/$1.json" >"$TMP/$1.out" 2>&1
    RC=$?
    wait_for 30 drained "$3" "$4"
    truth "$(jq -r .config.run_id "$TMP/$1.json")"
}
AUDIT_EVENTS=""
# agrees NAME: brink's audit of run NAME equals the SQL ground truth (stale overwrites: when its
# audit knew them)
agrees() {
    jqt ".audit.done and .stats.applied_twice == $TWICE
         and (.stats.stale_overwrites == $STALE or (.audit.stale_known | not))
         and .stats.missing_events == $BEHIND and .stats.lost_after_ack == 0
         and .audit.orders == $ORDERS" "$TMP/$1.json"
}
# "a user's schema" for audit.events: views over dispatchd's tables under other names
sql "CREATE OR REPLACE VIEW shop_event_log AS SELECT webhook_id AS delivery_id, order_id AS ref,
       applied, prev_version, version FROM order_events;
     CREATE OR REPLACE VIEW shop_orders AS SELECT order_id AS ref, version AS rev FROM orders"
user_audit() { # HANDLED_COLUMNS: the audit.events section (2: no stale overwrites column)
    local stale=""
    [ "$1" = 3 ] && stale=", count(*) FILTER (WHERE applied AND prev_version > version)"
    AUDIT_EVENTS="  events:
    handled: SELECT delivery_id, count(*)$stale FROM shop_event_log WHERE ref LIKE \$1 GROUP BY delivery_id
    orders: SELECT ref, rev FROM shop_orders WHERE ref LIKE \$1
    pending: SELECT count(*) FROM webhook_inbox"
}
start_dd dd || exit 1
traffic tuned "$PORT_dd" dispatchd:webhooks dispatchd
check "tuned: 600 deliveries of 150 orders, every event acknowledged ($HANDLED events handled, $ORDERS orders)" \
    jqt '.stats.eventual_delivery_rate == 1 and .events.by_type["order.created"].requests >= 150
         and .stats.events == 600 and .stats.duplicates_sent > 10' "$TMP/tuned.json"
check "tuned: nothing handled twice (SQL: $TWICE), no stale overwrite ($STALE), no order behind its newest event ($BEHIND)" \
    [ "$TWICE/$STALE/$BEHIND" = 0/0/0 ]
check "tuned: every order stored, every event handled once ($ORDERS orders, $HANDLED events)" \
    all [ "$ORDERS" = 150 ] -- [ "$HANDLED" = 450 ]
check "tuned: brink's audit equals the SQL (exit $RC, the four exactly-once thresholds green)" \
    all agrees tuned -- jqt '[.thresholds[] | select(.test == "events") | .status] == ["green","green","green","green"]' "$TMP/tuned.json"

stop "$PID_dd"
# the untuned runs are audited through audit.events, as on a user's own schema
start_dd nodedupe --dedupe off || exit 1
user_audit 2
traffic nodedupe "$PORT_nodedupe" dispatchd:webhooks dispatchd
check "audit.events (2 columns): the user's queries ran, stale overwrites not known (null)" \
    jqt '.audit.source == "config" and (.audit.stale_known | not) and .stats.stale_overwrites == null
         and ([.thresholds[] | select(.metric == "stale_overwrites")][0].value == null)' "$TMP/nodedupe.json"
check "--dedupe off: duplicates are handled again (SQL: $TWICE webhook-ids handled twice)" [ "$TWICE" -gt 0 ]
check "--dedupe off: versions still protect the order ($STALE stale overwrites)" [ "$STALE" = 0 ]
check "--dedupe off: brink's applied_twice equals the SQL ($TWICE), red, exit 99 ($RC)" \
    all agrees nodedupe -- [ "$RC" = 99 ] \
    -- jqt '[.thresholds[] | select(.status == "red") | .metric] | index("applied_twice") != null' "$TMP/nodedupe.json"
stop "$PID_nodedupe"
start_dd noorder --ordering ignore || exit 1
user_audit 3
traffic noorder "$PORT_noorder" dispatchd:webhooks dispatchd
check "--ordering ignore: reordered events overwrite newer ones (SQL: $STALE stale, $BEHIND orders behind)" \
    all [ "$STALE" -gt 0 ] -- [ "$BEHIND" -gt 0 ]
check "--ordering ignore: still handled once each ($TWICE twice)" [ "$TWICE" = 0 ]
check "--ordering ignore: brink's stale_overwrites and missing_events (audit.events, 3 columns) equal the SQL, red, exit 99 ($RC)" \
    all agrees noorder -- [ "$RC" = 99 ] \
    -- jqt '.audit.source == "config" and .audit.stale_known' "$TMP/noorder.json" \
    -- jqt '[.thresholds[] | select(.status == "red") | .metric] as $r | ($r | index("stale_overwrites")) != null and ($r | index("missing_events")) != null' "$TMP/noorder.json"

# a broken receiver: it acknowledges every event and stores none (testsrv answers 200), audited
# against the stack's database
start_srv nostore || exit 1
stop "$PID_noorder"
AUDIT_EVENTS=""
traffic nostore "$PORT_nostore" dispatchd:webhooks dispatchd cli
check "a receiver that stores nothing: every acknowledged event lost_after_ack, every order missing, red, exit 99 ($RC)" \
    all [ "$RC" = 99 ] -- jqt '.audit.done and .stats.lost_after_ack == .audit.events_acknowledged
        and .audit.events_acknowledged >= 600 and .stats.missing_events == 150 and .audit.orders == 0
        and ([.thresholds[] | select(.status == "red") | .metric] | index("lost_after_ack")) != null' "$TMP/nostore.json"

dd_logs_check
