# dispatchd.sh — dispatchd against a real PostgreSQL and Redis: Standard Webhooks verification,
# idempotency, schema errors, limits, the vendor race (atomic: exactly one winner; naive: the
# race must show), durability across SIGKILL, and a clean SIGTERM. The stack comes from
# `brink stack up --service none` when this build has it, else PostgreSQL and Redis are started
# here; everything listens on loopback and every wait is bounded.
. "$(dirname "$0")/lib.bash"

DISPATCHD=$BUILD/dispatchd
RACE=$BUILD/servers/dispatchd_race
DD_PIDS=()
STACK_DIR=
OWN_PIDS=()

dd_cleanup() {
    for p in "${DD_PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
    [ -n "$STACK_DIR" ] && "$BRINK" stack down --dir "$STACK_DIR" >/dev/null 2>&1
    for p in "${OWN_PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    cleanup
}
trap dd_cleanup EXIT

if [ ! -x "$DISPATCHD" ] || [ ! -x "$RACE" ]; then
    not_ok "dispatchd and servers/dispatchd_race are built in $BUILD"
    exit 0
fi

# ---- without servers ------------------------------------------------------------------------

# the verifier and the schema checks, run by the binary itself (the spec's example vector too)
out=$("$DISPATCHD" --selftest 2>&1)
rc=$?
printf '%s\n' "$out" | grep -E '^(not )?ok - ' | sed 's/^\(not \)\{0,1\}ok - /&dispatchd /'
check "dispatchd --selftest exits 0" [ $rc -eq 0 ]
check "the embedded schema is identical to sql/schema.sql" \
    cmp -s <("$DISPATCHD" --print-schema) "$ROOT/sql/schema.sql"
help=$("$DISPATCHD" --help)
ok_help=1
for f in listen:DISPATCHD_LISTEN pg:DISPATCHD_PG redis:DISPATCHD_REDIS \
    secret-file:DISPATCHD_SECRET_FILE threads:DISPATCHD_THREADS workers:DISPATCHD_WORKERS \
    accept-mode:DISPATCHD_ACCEPT_MODE ingest:DISPATCHD_INGEST redis-fallback:DISPATCHD_REDIS_FALLBACK \
    redis-timeout:DISPATCHD_REDIS_TIMEOUT pg-pool:DISPATCHD_PG_POOL pg-reconnect:DISPATCHD_PG_RECONNECT; do
    grep -q -- "--${f%%:*} .*(${f##*:})" <<<"$help" || { ok_help=0; echo "#   --help lacks --${f%%:*}"; }
done
grep -q 'default: 8\]' <<<"$help" || ok_help=0
check "--help lists the flags, their variables and defaults" [ $ok_help -eq 1 ]
"$DISPATCHD" --no-such-flag >/dev/null 2>&1
check "an unknown flag is a usage error (exit 2)" [ $? -eq 2 ]
"$DISPATCHD" --secret whsec_x >/dev/null 2>&1
check "the secret cannot be given as a flag value" [ $? -eq 2 ]
env -u DISPATCHD_SECRET -u DISPATCHD_SECRET_FILE "$DISPATCHD" --listen 127.0.0.1:0 >"$TMP/nosecret.out" 2>&1
check "no secret: refuses to start, naming what to set (exit 2)" \
    bash -c "[ $? -eq 2 ] && grep -q DISPATCHD_SECRET '$TMP/nosecret.out'"

# ---- PostgreSQL and Redis -------------------------------------------------------------------

free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

if "$BRINK" stack --help >/dev/null 2>&1; then
    STACK_DIR=$TMP/stack
    chmod 711 "$TMP" # the postgres account must reach the stack's directory
    if ! state=$("$BRINK" stack up --service none --dir "$STACK_DIR" 2>"$TMP/stack.err"); then
        not_ok "brink stack up --service none: $(head -c 300 "$TMP/stack.err")"
        STACK_DIR=
        exit 0
    fi
    export PGPASSFILE
    PGPASSFILE=$(jq -r '.postgres.pgpass_file' "$state")
    PG_URL=$(jq -r '.postgres.service_url' "$state")   # through the fault proxy, no password
    REDIS_URL=$(jq -r '.redis.proxy_url' "$state")
    REDIS_HOST=127.0.0.1
    REDIS_PORT=$(jq -r '.redis.port' "$state")
    SECRET_FILE=$(jq -r '.service.secret_file' "$state")
    ok "the stack is up (brink stack up --service none)"
else
    pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    PGDIR=$TMP/pg
    mkdir -p "$PGDIR"
    PG_PORT=$(free_port)
    REDIS_PORT=$(free_port)
    as_pg=()
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres "$TMP" "$PGDIR"
        chmod 755 "$TMP"
        as_pg=(runuser -u postgres --)
    fi
    "${as_pg[@]}" "$pgbin/initdb" -D "$PGDIR/data" -A trust -U postgres --no-sync >/dev/null 2>&1
    "${as_pg[@]}" "$pgbin/postgres" -D "$PGDIR/data" -p "$PG_PORT" -c listen_addresses=127.0.0.1 \
        -c unix_socket_directories="$PGDIR" >"$TMP/pg.log" 2>&1 &
    OWN_PIDS+=($!)
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly yes \
        --dir "$TMP" >"$TMP/redis.log" 2>&1 &
    OWN_PIDS+=($!)
    PG_URL=postgresql://postgres@127.0.0.1:$PG_PORT/postgres
    REDIS_URL=redis://127.0.0.1:$REDIS_PORT
    REDIS_HOST=127.0.0.1
    SECRET_FILE=$TMP/webhook.secret
    printf 'whsec_%s\n' "$(head -c 24 /dev/urandom | base64 -w0)" >"$SECRET_FILE"
    for _ in $(seq 1 100); do
        pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    ok "PostgreSQL and Redis started here (no brink stack in this build)"
fi

jqq() { jq -e "$@" >/dev/null 2>&1; }
sql() { psql "$PG_URL" -X -q -t -A -v ON_ERROR_STOP=1 -c "$1" 2>>"$TMP/psql.err"; }
rcli() { redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" "$@"; }
export DISPATCHD_PG=$PG_URL DISPATCHD_REDIS=$REDIS_URL DISPATCHD_SECRET_FILE=$SECRET_FILE

# start_dd NAME [flags]: starts dispatchd, waits for /readyz; sets PORT_<NAME>, PID_<NAME>
start_dd() {
    local name=$1
    shift
    local pf=$TMP/$name.port
    rm -f "$pf"
    "$DISPATCHD" --listen 127.0.0.1:0 --port-file "$pf" "$@" >>"$TMP/$name.log" 2>&1 &
    local pid=$!
    DD_PIDS+=("$pid")
    for _ in $(seq 1 200); do
        [ -s "$pf" ] && curl -sf --max-time 2 "http://127.0.0.1:$(cat "$pf")/readyz" >/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if [ ! -s "$pf" ] || ! curl -sf --max-time 2 "http://127.0.0.1:$(cat "$pf")/readyz" >/dev/null; then
        echo "# dispatchd $name did not become ready: $(tail -5 "$TMP/$name.log")"
        return 1
    fi
    printf -v "PORT_$name" '%s' "$(cat "$pf")"
    printf -v "PID_$name" '%s' "$pid"
}

# wait_exit PID SECONDS: waits for a process we started to end; its status in WAIT_RC
wait_exit() {
    local pid=$1 limit=$2
    for _ in $(seq 1 $((limit * 20))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        WAIT_RC=timeout
        return 1
    fi
    wait "$pid"
    WAIT_RC=$?
}

# wait_sql QUERY EXPECTED SECONDS: polls until the query's answer is EXPECTED
wait_sql() {
    local got
    for _ in $(seq 1 $(($3 * 10))); do
        got=$(sql "$1")
        [ "$got" = "$2" ] && return 0
        sleep 0.1
    done
    echo "#   $1 → $got (expected $2)"
    return 1
}

KEYHEX=$(sed 's/^whsec_//' "$SECRET_FILE" | tr -d '\n' | base64 -d 2>/dev/null | od -An -tx1 | tr -d ' \n')
WRONGHEX=$(printf 'not the secret' | od -An -tx1 | tr -d ' \n')
sig_of() { # HEXKEY ID TS BODY
    printf '%s.%s.%s' "$2" "$3" "$4" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" -binary | base64 -w0
}
# post PORT ID BODY [TS] [SIGNATURE-HEADER] [EXTRA CURL ARGS...]: prints the status; body in $TMP/resp
post() {
    local port=$1 id=$2 body=$3 ts=${4:-$(date +%s)} sig=${5:-}
    shift 5 2>/dev/null || shift $#
    [ -z "$sig" ] && sig="v1,$(sig_of "$KEYHEX" "$id" "$ts" "$body")"
    local hdr=(-H "Content-Type: ${CT:-application/json}")
    [ "$id" != - ] && hdr+=(-H "webhook-id: $id")
    [ "$ts" != - ] && hdr+=(-H "webhook-timestamp: $ts")
    [ "$sig" != - ] && hdr+=(-H "webhook-signature: $sig")
    curl -s --max-time 10 -o "$TMP/resp" -w '%{http_code}' "${hdr[@]}" "$@" \
        --data-binary "$body" "http://127.0.0.1:$port/webhooks/orders"
}
order() { # ORDER_ID → a valid order.created body
    printf '{"type":"order.created","data":{"order_id":"%s","customer_id":"c1","items":[{"sku":"s","qty":2,"price_cents":150}],"total_cents":300},"note":"kept"}' "$1"
}

# ---- the tuned service ----------------------------------------------------------------------

if ! start_dd main --claim-idle 1000; then
    not_ok "dispatchd (tuned) starts and becomes ready"
    exit 0
fi
ok "dispatchd (tuned) starts, applies the schema and becomes ready"
P=$PORT_main
check "GET /healthz answers 200" [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/healthz")" = 200 ]
check "GET /readyz answers 200 with PostgreSQL and Redis up" \
    bash -c "curl -s http://127.0.0.1:$P/readyz | jq -e '.postgres == \"ok\" and (.redis | startswith(\"ok\"))' >/dev/null"

# signature matrix
run=${DD_RUN:-$RANDOM$RANDOM}
now=$(date +%s)
b=$(order "sig-$run-1")
check "a valid signature: 202" [ "$(post "$P" "msg_sig_${run}_1" "$b")" = 202 ]
b=$(order "sig-$run-2")
good=$(sig_of "$KEYHEX" "msg_sig_${run}_2" "$now" "$b")
bad=$(sig_of "$WRONGHEX" "msg_sig_${run}_2" "$now" "$b")
check "several signatures, one valid: 202" \
    [ "$(post "$P" "msg_sig_${run}_2" "$b" "$now" "v1,$bad v1a,xyz v1,$good")" = 202 ]
b=$(order "sig-$run-3")
check "a tampered body: 401" \
    [ "$(post "$P" "msg_sig_${run}_3" "${b/300/301}" "$now" "v1,$(sig_of "$KEYHEX" "msg_sig_${run}_3" "$now" "$b")")" = 401 ]
check "the wrong secret: 401" \
    [ "$(post "$P" "msg_sig_${run}_3" "$b" "$now" "v1,$(sig_of "$WRONGHEX" "msg_sig_${run}_3" "$now" "$b")")" = 401 ]
check "a timestamp 310 s old: 401" [ "$(post "$P" "msg_sig_${run}_3" "$b" $((now - 310)))" = 401 ]
check "a timestamp 310 s in the future: 401" [ "$(post "$P" "msg_sig_${run}_3" "$b" $((now + 310)))" = 401 ]
check "a timestamp 250 s old is still accepted: 202" [ "$(post "$P" "msg_sig_${run}_4" "$(order "sig-$run-4")" $((now - 250)))" = 202 ]
check "no webhook-id: 401" [ "$(post "$P" - "$b" "$now" "v1,$good")" = 401 ]
check "no webhook-timestamp: 401" [ "$(post "$P" "msg_sig_${run}_3" "$b" - "v1,$good")" = 401 ]
check "no webhook-signature: 401" [ "$(post "$P" "msg_sig_${run}_3" "$b" "$now" -)" = 401 ]
check "the 401 body says why" jqq '.error == "unauthorized" and (.detail | test("signature"))' "$TMP/resp"
check "no order from any refused webhook" wait_sql "select count(*) from orders where order_id = 'sig-$run-3'" 0 1

# idempotency
b=$(order "idem-$run")
r1=$(post "$P" "msg_idem_$run" "$b")
r2=$(post "$P" "msg_idem_$run" "$b")
check "the same webhook-id twice: 202 then 200" [ "$r1:$r2" = "202:200" ]
check "... and exactly one order for it" wait_sql "select count(*) from orders where webhook_id = 'msg_idem_$run'" 1 10
check "... a third time, after it was stored: 200" [ "$(post "$P" "msg_idem_$run" "$b")" = 200 ]
sleep 0.5
check "... still one order" wait_sql "select count(*) from orders where webhook_id = 'msg_idem_$run'" 1 1
check "the order keeps the body as received (optional fields too)" \
    wait_sql "select payload::jsonb->>'note' || ':' || total_cents || ':' || status from orders where order_id = 'idem-$run'" "kept:300:open" 2
r=$(post "$P" "msg_idem2_$run" "$(order "idem-$run")")
sleep 0.5
check "another webhook-id carrying the same order_id: 202, and still one order (the first)" \
    bash -c "[ '$r' = 202 ] && [ \"\$(psql '$PG_URL' -X -tAc \"select webhook_id from orders where order_id = 'idem-$run'\")\" = 'msg_idem_$run' ]"

# schema errors name the field
schema_case() { # BODY FIELD
    local id="msg_schema_${run}_$RANDOM"
    local st
    st=$(post "$P" "$id" "$1")
    if [ "$st" = 400 ] && jq -e --arg f "$2" '.field == $f' "$TMP/resp" >/dev/null; then
        ok "400 names the field: $2"
    else
        not_ok "400 names the field: $2 (got $st $(head -c 200 "$TMP/resp"))"
    fi
}
D='"order_id":"s1","customer_id":"c1","items":[{"sku":"a","qty":1,"price_cents":1}],"total_cents":1'
schema_case '{"type":"order.created","data":{' body
schema_case "{\"data\":{$D}}" type
schema_case "{\"type\":\"order.updated\",\"data\":{$D}}" type
schema_case '{"type":"order.created"}' data
schema_case '{"type":"order.created","data":{"customer_id":"c1","items":[{"sku":"a","qty":1,"price_cents":1}],"total_cents":1}}' data.order_id
schema_case '{"type":"order.created","data":{"order_id":"s1","items":[{"sku":"a","qty":1,"price_cents":1}],"total_cents":1}}' data.customer_id
schema_case '{"type":"order.created","data":{"order_id":"s1","customer_id":"c1","items":[],"total_cents":1}}' data.items
schema_case '{"type":"order.created","data":{"order_id":"s1","customer_id":"c1","items":[{"qty":1,"price_cents":1}],"total_cents":1}}' 'data.items[0].sku'
schema_case '{"type":"order.created","data":{"order_id":"s1","customer_id":"c1","items":[{"sku":"a","qty":1,"price_cents":1},{"sku":"b","qty":0,"price_cents":1}],"total_cents":1}}' 'data.items[1].qty'
schema_case '{"type":"order.created","data":{"order_id":"s1","customer_id":"c1","items":[{"sku":"a","qty":1,"price_cents":-5}],"total_cents":1}}' 'data.items[0].price_cents'
schema_case '{"type":"order.created","data":{"order_id":"s1","customer_id":"c1","items":[{"sku":"a","qty":1,"price_cents":1}],"total_cents":"1"}}' data.total_cents
st=$(post "$P" "msg_badjson_$run" '{"type": nope}')
check "invalid JSON: 400 invalid_json" bash -c "[ $st = 400 ] && jq -e '.error == \"invalid_json\"' '$TMP/resp' >/dev/null"

# limits and content type
big=$(printf '{"type":"order.created","data":{"order_id":"big","customer_id":"c","items":[{"sku":"a","qty":1,"price_cents":1}],"total_cents":1},"pad":"%070000d"}' 0)
near=$(printf '{"type":"order.created","data":{"order_id":"near-%s","customer_id":"c","items":[{"sku":"a","qty":1,"price_cents":1}],"total_cents":1},"pad":"%060000d"}' "$run" 0)
check "a body of 60 KB (under the limit): 202" [ "$(post "$P" "msg_near_$run" "$near")" = 202 ]
check "a body over 64 KiB: 413" [ "$(post "$P" "msg_big_$run" "$big")" = 413 ]
check "a chunked body over 64 KiB: 413" [ "$(post "$P" "msg_big2_$run" "$big" "" "" -H 'Transfer-Encoding: chunked')" = 413 ]
check "Content-Type text/plain: 415" [ "$(CT=text/plain post "$P" "msg_ct_$run" "$(order ct)")" = 415 ]
check "Content-Type application/json; charset=utf-8: accepted" \
    [ "$(CT='application/json; charset=utf-8' post "$P" "msg_ct2_$run" "$(order "ct2-$run")")" = 202 ]
check "a header block over the limit is refused" \
    bash -c "st=\$(curl -s -o /dev/null -w '%{http_code}' -H \"X-Big: \$(printf '%020000d' 0)\" http://127.0.0.1:$P/healthz); [ \"\$st\" -ge 400 ] || [ \"\$st\" = 000 ]"
check "an unknown route: 404" [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/nope")" = 404 ]

# bad HTTP: a garbage request line is answered (400) or closed; a client that sends half a request
# and stalls does not keep others from being served, and its connection is closed by the timeouts
exec 3<>/dev/tcp/127.0.0.1/"$P"
printf 'GARBAGE\x01 NOT HTTP\r\n\r\n' >&3
garbage=$(timeout 3 head -c 12 <&3 | tr -d '\r')
exec 3>&-
check "a garbage request line: answered 400 or closed (got '${garbage:-EOF}')" \
    bash -c "[ -z '$garbage' ] || [[ '$garbage' == 'HTTP/1.1 400' ]]"
check "... and the service still answers" \
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$P/healthz")" = 200 ]
if start_dd stall --idle-timeout 2 --request-timeout 1000 --workers 0; then
    exec 4<>/dev/tcp/127.0.0.1/"$PORT_stall"
    printf 'POST /webhooks/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ty' >&4
    served=0
    for _ in $(seq 1 20); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$PORT_stall/healthz")" = 200 ] &&
            served=$((served + 1))
    done
    check "a client stalled mid-request: the others are served (20 of 20: $served)" [ $served = 20 ]
    t0=$(date +%s%N)
    timeout 10 cat <&4 >/dev/null
    rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    exec 4>&-
    check "... and its connection is closed by the service's timeouts ($ms ms)" [ $rc -ne 124 ]
    kill "$PID_stall"
    wait_exit "$PID_stall" 5
else
    not_ok "dispatchd with short timeouts starts"
fi
check "GET /webhooks/orders: 405" [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/webhooks/orders")" = 405 ]

# reading orders
check "GET /orders/ID: the order" \
    bash -c "curl -s http://127.0.0.1:$P/orders/idem-$run | jq -e '.order_id == \"idem-$run\" and .status == \"open\" and .vendor_id == null and (.created_at | test(\"Z\$\")) and .accepted_at == null' >/dev/null"
check "GET /orders/unknown: 404" [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/orders/none-$run")" = 404 ]

# accept: errors
acc() { curl -s --max-time 10 -o "$TMP/resp" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$2" "http://127.0.0.1:$P/orders/$1/accept"; }
check "accept with a bad body: 400" [ "$(acc "idem-$run" '{"vendor":1}')" = 400 ]
check "accept of an unknown order: 404" [ "$(acc "none-$run" '{"vendor_id":"v1"}')" = 404 ]
check "accept: the winner gets 200 with order_id, vendor_id, accepted_at" \
    bash -c "[ \$(curl -s -o '$TMP/w' -w '%{http_code}' -H 'Content-Type: application/json' -d '{\"vendor_id\":\"va\"}' http://127.0.0.1:$P/orders/idem-$run/accept) = 200 ] && jq -e '.order_id == \"idem-$run\" and .vendor_id == \"va\" and (.accepted_at | test(\"Z\$\"))' '$TMP/w' >/dev/null"
check "accept: a later vendor gets 409 naming the winner" \
    bash -c "[ \$(curl -s -o '$TMP/l' -w '%{http_code}' -H 'Content-Type: application/json' -d '{\"vendor_id\":\"vb\"}' http://127.0.0.1:$P/orders/idem-$run/accept) = 409 ] && jq -e '.error == \"already_accepted\" and .winner == \"va\"' '$TMP/l' >/dev/null"

# load through the real path: every 202 becomes exactly one order
"$BRINK" load -n 3000 -c 16 -m POST -H 'Content-Type: application/json' \
    -b "{\"type\":\"order.created\",\"data\":{\"order_id\":\"load-$run-{{seq}}\",\"customer_id\":\"c1\",\"items\":[{\"sku\":\"s\",\"qty\":1,\"price_cents\":100}],\"total_cents\":100}}" \
    --sign standard-webhooks --secret-file "$SECRET_FILE" -q --json "$TMP/load.json" \
    "http://127.0.0.1:$P/webhooks/orders" >"$TMP/load.out" 2>&1
if jqq '.status["202"] == 3000' "$TMP/load.json"; then
    ok "3000 signed webhooks under load: all 202"
else
    not_ok "3000 signed webhooks under load: all 202"
    echo "#   $(jq -c '[.status, .errors]' "$TMP/load.json" 2>&1) $(tail -3 "$TMP/load.out")"
    grep -v ' info ' "$TMP/main.log" | tail -5 | sed 's/^/#   /'
fi
check "... and the workers store exactly 3000 orders" \
    wait_sql "select count(*) from orders where order_id like 'load-$run-%'" 3000 30

# the race: 50 vendors at once on each of 200 orders
"$BRINK" load -n 200 -c 8 -m POST -H 'Content-Type: application/json' \
    -b "{\"type\":\"order.created\",\"data\":{\"order_id\":\"race-$run-{{seq}}\",\"customer_id\":\"c1\",\"items\":[{\"sku\":\"s\",\"qty\":1,\"price_cents\":100}],\"total_cents\":100}}" \
    --sign standard-webhooks --secret-file "$SECRET_FILE" -q "http://127.0.0.1:$P/webhooks/orders" >/dev/null 2>&1
if wait_sql "select count(*) from orders where order_id ~ '^race-$run-([0-9]|[1-9][0-9]|1[0-9][0-9])\$'" 200 30; then
    "$RACE" --port "$P" --orders 200 --vendors 50 --prefix "race-$run-" >"$TMP/race.out" 2>&1
    summary=$(tail -1 "$TMP/race.out")
    check "atomic accept, 50 vendors x 200 orders: one 200 per order, 49 409s naming it ($summary)" \
        bash -c "grep -q 'summary orders 200 single 200 double 0 none 0 inconsistent 0 other 0' <<<'$summary'"
    awk '$1 == "order" { print $2 "|" $10 }' "$TMP/race.out" | sort >"$TMP/race.http"
    sql "select o.order_id || '|' || o.vendor_id from orders o join order_assignments a on a.order_id = o.order_id and a.vendor_id = o.vendor_id where o.order_id like 'race-$run-%' and o.status = 'accepted'" | sort >"$TMP/race.db"
    check "the database agrees: each order accepted by the vendor that got 200, one assignment each" \
        cmp -s "$TMP/race.http" "$TMP/race.db"
else
    not_ok "the 200 race orders were stored"
fi

# metrics
curl -s "http://127.0.0.1:$P/metrics" >"$TMP/metrics"
mok=1
for m in 'dispatchd_http_requests_total{route="webhook",status="202"}' \
    'dispatchd_http_request_duration_seconds_bucket{route="accept",le="+Inf"}' \
    dispatchd_stream_length dispatchd_stream_pending dispatchd_inbox_depth \
    dispatchd_redis_circuit_state dispatchd_pg_pool_size dispatchd_pg_pool_in_use \
    dispatchd_pg_pool_waits_total dispatchd_pg_reconnects_total; do
    grep -qF "$m" "$TMP/metrics" || { mok=0; echo "#   /metrics lacks $m"; }
done
check "GET /metrics: Prometheus text with requests, latency, stream, inbox, circuit and pool" [ $mok -eq 1 ]

# ---- the naive accept must lose the race ----------------------------------------------------

if start_dd naive --accept-mode naive --workers 0; then
    "$BRINK" load -n 50 -c 4 -m POST -H 'Content-Type: application/json' \
        -b "{\"type\":\"order.created\",\"data\":{\"order_id\":\"nrace-$run-{{seq}}\",\"customer_id\":\"c1\",\"items\":[{\"sku\":\"s\",\"qty\":1,\"price_cents\":100}],\"total_cents\":100}}" \
        --sign standard-webhooks --secret-file "$SECRET_FILE" -q "http://127.0.0.1:$P/webhooks/orders" >/dev/null 2>&1
    if wait_sql "select count(*) from orders where order_id ~ '^nrace-$run-([0-9]|[1-4][0-9])\$'" 50 30; then
        "$RACE" --port "$PORT_naive" --orders 50 --vendors 50 --prefix "nrace-$run-" >"$TMP/nrace.out" 2>&1
        d=$(awk '$1 == "summary" { print $7 }' "$TMP/nrace.out")
        check "naive accept (read, think, write): the race shows — $d of 50 orders had several winners" \
            [ "${d:-0}" -ge 1 ]
    else
        not_ok "the naive race's orders were stored"
    fi
    kill "$PID_naive"
    wait_exit "$PID_naive" 5
else
    not_ok "dispatchd --accept-mode naive starts"
fi

# ---- Redis and PostgreSQL outages (needs the stack's fault command) ---------------------------

metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }
fault() { "$BRINK" stack fault "$1" "$2" --dir "$STACK_DIR" >"$TMP/fault.json" 2>&1; }
wh_load() { # PORT PREFIX RATE DURATION JSON
    "$BRINK" load -R "$3" -d "$4" -c 16 --timeout 3s -m POST -H 'Content-Type: application/json' \
        -b "{\"type\":\"order.created\",\"data\":{\"order_id\":\"$2-{{seq}}\",\"customer_id\":\"c1\",\"items\":[{\"sku\":\"s\",\"qty\":1,\"price_cents\":100}],\"total_cents\":100}}" \
        --sign standard-webhooks --secret-file "$SECRET_FILE" -q --json "$5" \
        "http://127.0.0.1:$1/webhooks/orders" >/dev/null 2>&1
}

if [ -n "$STACK_DIR" ]; then
    # tuned: Redis stops under load → the circuit opens, webhooks go to the inbox, nothing fails
    opens0=$(metric "$P" dispatchd_redis_circuit_opens_total)
    wh_load "$P" "rdown-$run" 400 6s "$TMP/rdown.json" &
    lpid=$!
    sleep 1.5
    fault redis stop
    sleep 2
    fault redis start
    wait $lpid
    nreq=$(jq -r '.stats.requests' "$TMP/rdown.json")
    n202=$(jq -r '.status["202"] // 0' "$TMP/rdown.json")
    check "tuned, Redis stopped for 2 s under load: every webhook still answered 202 ($n202 of $nreq)" \
        [ "$n202" = "$nreq" -a "$nreq" -gt 1000 ]
    check "... the circuit opened and the inbox took webhooks" \
        [ "$(metric "$P" dispatchd_redis_circuit_opens_total)" -gt "${opens0:-0}" -a \
          "$(metric "$P" 'dispatchd_webhooks_total{outcome="queued_inbox"}')" -gt 0 ]
    check "... every 202 became exactly one order (stream and inbox drained)" \
        wait_sql "select count(*) from orders where order_id like 'rdown-$run-%'" "$n202" 30
    check "... the inbox is empty again" wait_sql "select count(*) from webhook_inbox" 0 10
    closed=no
    for _ in $(seq 1 50); do
        [ "$(metric "$P" dispatchd_redis_circuit_state)" = 0 ] && closed=yes && break
        sleep 0.1
    done
    check "... and the circuit closed again after Redis came back" [ $closed = yes ]

    # untuned (--redis-fallback off): the same outage answers 503 — the detector's evidence
    if start_dd nofb --redis-fallback off --workers 0; then
        wh_load "$PORT_nofb" "rdown2-$run" 200 4s "$TMP/rdown2.json" &
        lpid=$!
        sleep 1
        fault redis stop
        sleep 1.5
        fault redis start
        wait $lpid
        n503=$(jq -r '.status["503"] // 0' "$TMP/rdown2.json")
        check "--redis-fallback off, Redis stopped: webhooks are refused with 503 ($n503)" [ "$n503" -gt 0 ]
        kill "$PID_nofb"
        wait_exit "$PID_nofb" 5
    else
        not_ok "dispatchd --redis-fallback off starts"
    fi

    # tuned: the Redis proxy goes down (connections refused and closed) under load — the same
    # promise as a stopped Redis: every webhook answered 202, every 202 exactly one order
    API=$(jq -r '.proxies.api' "$STACK_DIR/stack.json")
    wh_load "$P" "pdown-$run" 400 5s "$TMP/pdown.json" &
    lpid=$!
    sleep 1.5
    curl -s -o /dev/null -XPOST "$API/proxies/redis" -d '{"enabled":false}'
    sleep 2
    curl -s -o /dev/null -XPOST "$API/proxies/redis" -d '{"enabled":true}'
    wait $lpid
    nreq=$(jq -r '.stats.requests' "$TMP/pdown.json")
    n202=$(jq -r '.status["202"] // 0' "$TMP/pdown.json")
    check "tuned, Redis proxy down for 2 s under load: every webhook answered 202 ($n202 of $nreq; status $(jq -c .status "$TMP/pdown.json"), transport errors $(jq .stats.transport_errors "$TMP/pdown.json"))" \
        [ "$n202" = "$nreq" -a "$nreq" -gt 1000 ]
    check "... every 202 became exactly one order" \
        wait_sql "select count(*) from orders where order_id like 'pdown-$run-%'" "$n202" 30

    # PostgreSQL stopped: accept answers 503 fast, never hangs; back within 1 s of a restart
    acc_t() { curl -s --max-time 5 -o "$TMP/resp" -D "$TMP/hdr" -w '%{http_code} %{time_total}' \
        -H 'Content-Type: application/json' -d '{"vendor_id":"vz"}' "http://127.0.0.1:$P/orders/$1/accept"; }
    fault postgres stop
    sleep 0.3
    read -r st tt <<<"$(acc_t "race-$run-0")"
    check "PostgreSQL stopped: accept answers 503 within 100 ms (${tt}s)" \
        bash -c "[ '$st' = 503 ] && awk 'BEGIN { exit !($tt < 0.1) }'"
    check "... with Retry-After" grep -qi '^retry-after:' "$TMP/hdr"
    check "... /readyz says 503 and names PostgreSQL" \
        bash -c "[ \$(curl -s -o '$TMP/ready' -w '%{http_code}' http://127.0.0.1:$P/readyz) = 503 ] && jq -e '.postgres | startswith(\"down\")' '$TMP/ready' >/dev/null"
    check "... webhooks are still taken (Redis queue): 202" \
        [ "$(post "$P" "msg_pgdown_$run" "$(order "pgdown-$run")")" = 202 ]
    fault postgres start
    t0=$(date +%s%N)
    back=no
    for _ in $(seq 1 100); do
        read -r st tt <<<"$(acc_t "race-$run-0")"
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
        curl -s -o /dev/null -XPOST "$API/proxies/redis/toxics" \
            -d '{"name":"slow","type":"latency","stream":"downstream","attributes":{"latency":150}}'
        fault postgres stop
        wh_load "$P" "slow-$run" 20 3s "$TMP/slow.json" &
        lpid=$!
        wh_load "$PORT_nolr" "slow2-$run" 20 3s "$TMP/slow2.json"
        wait $lpid
        fault postgres start
        curl -s -o /dev/null -XDELETE "$API/proxies/redis/toxics/slow"
        # 2xx: 202, or 200 when the request's own XADD, sent before its pipe gave up on the
        # slow reply, already reached Redis (the webhook-id was received: nothing new is created)
        nreq=$(jq -r '.stats.requests' "$TMP/slow.json")
        n202=$(jq -r '(.status["202"] // 0) + (.status["200"] // 0)' "$TMP/slow.json")
        check "Redis slow (150 ms > --redis-timeout) and PostgreSQL stopped: still 2xx ($n202 of $nreq; status $(jq -c .status "$TMP/slow.json"))" \
            [ "$n202" = "$nreq" -a "$nreq" -ge 50 ]
        check "... through the last resort (dispatchd_webhooks_last_resort_total > 0)" \
            [ "$(metric "$P" dispatchd_webhooks_last_resort_total)" -gt 0 ]
        check "... every one became exactly one order" \
            wait_sql "select count(*) from orders where order_id like 'slow-$run-%'" "$n202" 30
        n503=$(jq -r '.status["503"] // 0' "$TMP/slow2.json")
        check "--last-resort-timeout 0, the same outage: webhooks refused with 503 ($n503)" [ "$n503" -gt 0 ]
        kill "$PID_nolr"
        wait_exit "$PID_nolr" 5
    else
        not_ok "dispatchd --last-resort-timeout 0 starts"
    fi

    # Load shedding: with PostgreSQL slow (500 ms a reply) and one executor, requests queue for
    # it; those that waited longer than --queue-timeout are answered 503 "overloaded" at once
    # instead of waiting on until their client gives up
    if start_dd shed --executors 1 --queue-timeout 200 --workers 0; then
        curl -s -o /dev/null -XPOST "$API/proxies/postgres/toxics" \
            -d '{"name":"slowpg","type":"latency","stream":"downstream","attributes":{"latency":500}}'
        cpids=()
        for i in $(seq 1 6); do
            curl -s --max-time 10 -o "$TMP/shed$i" -D "$TMP/shedh$i" -w '%{http_code}\n' \
                "http://127.0.0.1:$PORT_shed/orders/none-$run-$i" >"$TMP/shedc$i" &
            cpids+=($!)
        done
        wait "${cpids[@]}"
        curl -s -o /dev/null -XDELETE "$API/proxies/postgres/toxics/slowpg"
        codes=$(cat "$TMP"/shedc* | sort | uniq -c | tr -s ' \n' ' ')
        check "one executor, PostgreSQL slow: queued requests are shed with 503 overloaded ($codes)" \
            bash -c "grep -l overloaded '$TMP'/shed[0-9]* | head -1 | grep -q . && grep -q 503 '$TMP'/shedc*"
        check "... with Retry-After" bash -c "grep -qi '^retry-after:' \$(grep -l 503 '$TMP'/shedh* | head -1)"
        check "... and counted (dispatchd_requests_shed_total > 0)" \
            [ "$(metric "$PORT_shed" dispatchd_requests_shed_total)" -gt 0 ]
        kill "$PID_shed"
        wait_exit "$PID_shed" 5
    else
        not_ok "dispatchd --queue-timeout starts"
    fi
else
    ok "Redis/PostgreSQL outage checks # SKIP no brink stack (fault injection) in this build"
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
ready=0
for _ in $(seq 1 200); do
    ready=0
    for t in 1 2; do
        [ -s "$TMP/twin$t.port" ] &&
            curl -sf --max-time 2 "http://127.0.0.1:$(cat "$TMP/twin$t.port")/readyz" >/dev/null &&
            ready=$((ready + 1))
    done
    [ $ready -eq 2 ] && break
    sleep 0.05
done
check "two instances started at once on an empty schema both become ready (advisory lock)" \
    [ $ready -eq 2 ]
check "... and created the three tables once, without errors" \
    bash -c "! grep -q error '$TMP/twin1.log' '$TMP/twin2.log'"
check "... three tables in the new schema" \
    wait_sql "select count(*) from information_schema.tables where table_schema = 'dd_twin_$run'" 3 1
kill "$tw1" "$tw2"
wait_exit "$tw1" 5
wait_exit "$tw2" 5
sql "drop schema if exists dd_twin_$run cascade"

# ---- SIGKILL under load loses nothing that was answered 202 ---------------------------------

if start_dd kill --claim-idle 1000; then
    KP=$PORT_kill
    "$BRINK" load -R 1500 -d 6s -c 32 --timeout 2s -m POST -H 'Content-Type: application/json' \
        -b "{\"type\":\"order.created\",\"data\":{\"order_id\":\"kill-$run-{{seq}}\",\"customer_id\":\"c1\",\"items\":[{\"sku\":\"s\",\"qty\":1,\"price_cents\":100}],\"total_cents\":100}}" \
        --sign standard-webhooks --secret-file "$SECRET_FILE" -q --json "$TMP/kill.json" \
        "http://127.0.0.1:$KP/webhooks/orders" >"$TMP/kill.out" 2>&1 &
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
    # wait until nothing is left in the stream, pending, or the inbox
    for _ in $(seq 1 300); do
        lag=$(rcli xinfo groups dispatchd:webhooks 2>/dev/null | awk 'p { print; exit } /^lag$/ { p = 1 }')
        pend=$(rcli xpending dispatchd:webhooks dispatchd 2>/dev/null | head -1)
        inbox=$(sql "select count(*) from webhook_inbox")
        [ "${lag:-1}" = 0 ] && [ "${pend:-1}" = 0 ] && [ "${inbox:-1}" = 0 ] && break
        sleep 0.1
    done
    rows=$(sql "select count(*) from orders where order_id like 'kill-$run-%'")
    echo "#   SIGKILL run: $nall requests, $n202 answered 202, $noresp without a response, $rows orders"
    check "SIGKILL mid-load: the stream drains after a restart (pending entries reclaimed)" \
        [ "${pend:-1}:${lag:-1}" = 0:0 ]
    check "SIGKILL mid-load: every webhook answered 202 is an order (orders >= 202s)" \
        [ "${n202:-0}" -gt 0 -a "${rows:-0}" -ge "${n202:-1}" ]
    check "SIGKILL mid-load: no order beyond those sent without an answer (orders <= 202s + unanswered)" \
        [ "${rows:-0}" -le $((n202 + noresp)) ]
    kill "$kpid2"
    wait_exit "$kpid2" 5
else
    not_ok "dispatchd starts for the SIGKILL test"
fi

# ---- SIGTERM: finish in flight, exit 0 within 5 s -------------------------------------------

"$BRINK" load -R 500 -d 3s -c 8 -m POST -H 'Content-Type: application/json' \
    -b "{\"type\":\"order.created\",\"data\":{\"order_id\":\"term-$run-{{seq}}\",\"customer_id\":\"c1\",\"items\":[{\"sku\":\"s\",\"qty\":1,\"price_cents\":100}],\"total_cents\":100}}" \
    --sign standard-webhooks --secret-file "$SECRET_FILE" -q --json "$TMP/term.json" \
    "http://127.0.0.1:$P/webhooks/orders" >/dev/null 2>&1 &
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
    kill "$PID_after"
    wait_exit "$PID_after" 5
else
    not_ok "dispatchd restarts after SIGTERM"
fi
check "the log says it stopped" grep -q 'dispatchd stopped' "$TMP/main.log"

# the logs never carry the secret or a signature
secret_b64=$(sed 's/^whsec_//' "$SECRET_FILE" | tr -d '\n')
if grep -qF -e "$secret_b64" -e 'v1,' "$TMP"/*.log; then
    not_ok "no secret or signature in dispatchd's logs"
else
    ok "no secret or signature in dispatchd's logs"
fi
check "every log line has a timestamp and a level" \
    bash -c "! grep -vhE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z (debug|info|warn|error) ' '$TMP'/*.log | grep -q ."
