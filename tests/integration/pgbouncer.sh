# pgbouncer.sh — `brink stack up --pgbouncer`: PgBouncer in transaction-pooling mode between
# dispatchd and PostgreSQL. The stack's part: the state file, the files (0600, the password never
# on a command line), the process (as the postgres account when root), faults and clean-up. The
# service's part, through PgBouncer: webhooks answered 202 and stored by the workers, the accept
# race with exactly one winner per order (the database agrees), GET /orders/ID, /readyz — and
# PgBouncer's own counters show that the traffic went through it. The detector's other side:
# dispatchd with named prepared statements (--pg-prepare on) behind the same PgBouncer fails
# under load and its log names the cause.
. "$(dirname "$0")/lib.bash"

DISPATCHD=$BUILD/dispatchd
RACE=$BUILD/servers/dispatchd_race
STACK_DIR=
DD_PIDS=()

pb_cleanup() {
    for p in "${DD_PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
    [ -n "$STACK_DIR" ] && "$BRINK" stack down --dir "$STACK_DIR" >/dev/null 2>&1
    wait 2>/dev/null
    cleanup
}
trap pb_cleanup EXIT

if [ ! -x "$DISPATCHD" ] || [ ! -x "$RACE" ]; then
    not_ok "dispatchd and servers/dispatchd_race are built in $BUILD"
    exit 0
fi
PGB_EXE=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
if ! ver=$("$PGB_EXE" --version 2>/dev/null | head -1); then
    not_ok "pgbouncer is installed (scripts/install-deps installs the Debian package pgbouncer)"
    exit 0
fi
ok "pgbouncer is installed: $ver"

# ---- usage errors -----------------------------------------------------------------------------

"$BRINK" stack up --pgbouncer-port 7000 >"$TMP/u.out" 2>&1
check "--pgbouncer-port without --pgbouncer: exit 2, one line" \
    bash -c "[ $? -eq 2 ] && grep -q -- '--pgbouncer-port needs --pgbouncer' '$TMP/u.out'"
BRINK_PGBOUNCER=/nonexistent "$BRINK" stack up --pgbouncer --service none --dir "$TMP/nostack" >"$TMP/m.out" 2>&1
check "no pgbouncer program: exit 3 naming the Debian package, nothing left" \
    bash -c "[ $? -eq 3 ] && grep -q 'Debian package pgbouncer' '$TMP/m.out' && [ ! -e '$TMP/nostack' ]"

# ---- the stack --------------------------------------------------------------------------------

STACK_DIR=$TMP/stack
chmod 711 "$TMP" # the postgres account must reach the stack's directory
if ! state=$("$BRINK" stack up --pgbouncer --dir "$STACK_DIR" 2>"$TMP/stack.err"); then
    not_ok "brink stack up --pgbouncer: $(head -c 400 "$TMP/stack.err")"
    STACK_DIR=
    exit 0
fi
ok "brink stack up --pgbouncer: PostgreSQL, Redis, PgBouncer and dispatchd ready"
export PGPASSFILE
PGPASSFILE=$(jq -r '.postgres.pgpass_file' "$state")
PG_DIRECT="postgresql://brink@127.0.0.1:$(jq -r '.postgres.port' "$state")/brink"
PGB_ADDR=$(jq -r '.pgbouncer.addr' "$state")
PGB_PID=$(jq -r '.pgbouncer.pid' "$state")
P=$(jq -r '.service.port' "$state")
SECRET_FILE=$(jq -r '.service.secret_file' "$state")
sql() { psql "$PG_DIRECT" -X -q -t -A -v ON_ERROR_STOP=1 -c "$1" 2>>"$TMP/psql.err"; }
# admin SHOW COLUMN: a column of PgBouncer's SHOW for the brink database (the role is a stats user)
admin() {
    psql "postgresql://brink@$PGB_ADDR/pgbouncer" -X -q -A -F '|' -c "SHOW $1" 2>>"$TMP/psql.err" |
        awk -F'|' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
                               $1 == "brink" && c { print $c; exit }'
}

jqcheck "the state file has pgbouncer: transaction pooling, in front of the PostgreSQL proxy" "$state" \
    '.pgbouncer.pool_mode == "transaction" and .pgbouncer.upstream == .postgres.proxy_addr and
     (.pgbouncer.addr | test("^127\\.0\\.0\\.1:[0-9]+$")) and .pgbouncer.version != "" and
     (.pgbouncer.url | startswith("postgresql://brink:")) and (.pgbouncer.service_url | test("^postgresql://brink@127"))'
jqcheck "the service is given PgBouncer's URL ({pg_url}) and --pg-prepare off" "$state" \
    '.postgres.service_url == .pgbouncer.service_url and
     (.service.command as $c | [range(0; $c | length - 1) | select($c[.] == "--pg") | $c[. + 1]] == [.pgbouncer.service_url]) and
     (.service.command | join(" ") | contains("--pg-prepare off"))'
jqcheck "pgbouncer is a process of the stack" "$state" \
    "[.processes[] | select(.name == \"pgbouncer\" and .pid == $PGB_PID)] | length == 1"
ini=$(jq -r '.pgbouncer.config' "$state")
auth=$(jq -r '.pgbouncer.auth_file' "$state")
check "pgbouncer.ini and the auth file are 0600" \
    bash -c "[ \"\$(stat -c %a '$ini' '$auth' | sort -u)\" = 600 ]"
check "pool_mode = transaction, listening on 127.0.0.1 only, no unix socket" \
    bash -c "grep -qx 'pool_mode = transaction' '$ini' && grep -qx 'listen_addr = 127.0.0.1' '$ini' && grep -qx 'unix_socket_dir =' '$ini'"
check "the auth file holds the stack's password for the brink role" \
    bash -c "grep -qxF \"\\\"brink\\\" \\\"\$(cat '$(jq -r .postgres.password_file "$state")')\\\"\" '$auth'"
pw=$(cat "$(jq -r .postgres.password_file "$state")")
check "the password is on no command line" \
    bash -c "! grep -qaF '$pw' /proc/$PGB_PID/cmdline /proc/$(jq -r .service.pid "$state")/cmdline"
check "SHOW CONFIG through PgBouncer's admin database: pool_mode transaction" \
    bash -c "psql 'postgresql://brink@$PGB_ADDR/pgbouncer' -X -tA -c 'SHOW CONFIG' 2>/dev/null | grep -q '^pool_mode|transaction|'"
if [ "$(id -u)" = 0 ]; then
    check "as root, pgbouncer runs as the postgres account and owns its files" \
        bash -c "[ \"\$(ps -o user= -p $PGB_PID)\" = postgres ] && [ \"\$(stat -c %U '$ini' '$auth' | sort -u)\" = postgres ]"
fi
"$BRINK" stack status --dir "$STACK_DIR" >"$TMP/status.out" 2>&1
check "brink stack status: healthy, with a pgbouncer row" \
    bash -c "[ $? -eq 0 ] && grep -q '^pgbouncer .* running  ok ' '$TMP/status.out'"
check "readyz: PostgreSQL (through PgBouncer) and Redis ok" \
    bash -c "curl -s http://127.0.0.1:$P/readyz | jq -e '.postgres == \"ok\"' >/dev/null"

# ---- dispatchd through PgBouncer --------------------------------------------------------------

run=$RANDOM$RANDOM
x0=$(admin STATS total_xact_count)
webhooks() { # PORT PREFIX N JSON
    "$BRINK" load -n "$3" -c 16 --timeout 5s -m POST -H 'Content-Type: application/json' \
        -b "{\"type\":\"order.created\",\"data\":{\"order_id\":\"$2-{{seq}}\",\"customer_id\":\"c1\",\"items\":[{\"sku\":\"s\",\"qty\":1,\"price_cents\":100}],\"total_cents\":100}}" \
        --sign standard-webhooks --secret-file "$SECRET_FILE" -q --json "$4" \
        "http://127.0.0.1:$1/webhooks/orders" >/dev/null 2>&1
}
webhooks "$P" "pb-$run" 2000 "$TMP/wh.json"
jqcheck "2000 signed webhooks: all 202" "$TMP/wh.json" '.status["202"] == 2000'
stored=0
for _ in $(seq 1 100); do
    stored=$(sql "select count(*) from orders where order_id ~ '^pb-$run-[0-9]+\$'")
    [ "$stored" = 2000 ] && break
    sleep 0.1
done
check "... and the workers stored 2000 orders through PgBouncer ($stored)" [ "$stored" = 2000 ]
x1=$(admin STATS total_xact_count)
check "PgBouncer counted the service's transactions (total_xact_count ${x0:-?} → ${x1:-?})" \
    [ -n "$x1" -a "${x1:-0}" -gt "${x0:-0}" ]

code=$(curl -s -o "$TMP/get" -w '%{http_code}' "http://127.0.0.1:$P/orders/pb-$run-7")
check "GET /orders/ID through PgBouncer: 200 with the order ($code)" \
    bash -c "[ $code = 200 ] && jq -e '.order_id == \"pb-$run-7\" and .status == \"open\"' '$TMP/get' >/dev/null"
check "GET /orders/unknown: 404" [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/orders/none-$run")" = 404 ]

"$RACE" --port "$P" --orders 100 --vendors 20 --prefix "pb-$run-" >"$TMP/race.out" 2>&1
summary=$(tail -1 "$TMP/race.out")
check "accept race through PgBouncer, 20 vendors x 100 orders: exactly one winner each ($summary)" \
    bash -c "grep -q 'summary orders 100 single 100 double 0 none 0 inconsistent 0 other 0' <<<'$summary'"
awk '$1 == "order" { print $2 "|" $10 }' "$TMP/race.out" | sort >"$TMP/race.http"
sql "select o.order_id || '|' || o.vendor_id from orders o join order_assignments a on a.order_id = o.order_id and a.vendor_id = o.vendor_id where o.order_id ~ '^pb-$run-([0-9]|[1-9][0-9])\$' and o.status = 'accepted'" | sort >"$TMP/race.db"
check "... and the database agrees (one assignment each, the vendor that got 200)" \
    bash -c "[ -s '$TMP/race.http' ] && cmp -s '$TMP/race.http' '$TMP/race.db'"

# PostgreSQL restarted behind PgBouncer: the pooler drops its server connections and makes new
# ones; dispatchd's client connections to PgBouncer stay, and it reads and stores again
"$BRINK" stack fault postgres restart --dir "$STACK_DIR" >"$TMP/pgr.json" 2>&1
back=0
for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/orders/pb-$run-7")" = 200 ] && back=1 && break
    sleep 0.05
done
check "PostgreSQL restarted behind PgBouncer: dispatchd reads through it again" \
    bash -c "jq -e .ok '$TMP/pgr.json' >/dev/null && [ $back = 1 ]"
webhooks "$P" "pbr-$run" 200 "$TMP/whr.json"
stored=0
for _ in $(seq 1 100); do
    stored=$(sql "select count(*) from orders where order_id ~ '^pbr-$run-[0-9]+\$'")
    [ "$stored" = 200 ] && break
    sleep 0.1
done
check "... and 200 webhooks after the restart: all 202, all stored ($(jq -c .status "$TMP/whr.json"), $stored orders)" \
    bash -c "jq -e '.status[\"202\"] == 200' '$TMP/whr.json' >/dev/null && [ '$stored' = 200 ]"

# ---- the detector's other side: named prepared statements behind the same PgBouncer ------------

PGB_URL=$(jq -r '.pgbouncer.service_url' "$state")
pf=$TMP/on.port
"$DISPATCHD" --listen 127.0.0.1:0 --port-file "$pf" --pg "$PGB_URL" --pg-prepare on --workers 0 \
    --redis "$(jq -r .redis.url "$state")" --secret-file "$SECRET_FILE" >"$TMP/on.log" 2>&1 &
DD_PIDS+=($!)
on_pid=$!
for _ in $(seq 1 100); do
    [ -s "$pf" ] && curl -sf --max-time 2 "http://127.0.0.1:$(cat "$pf")/readyz" >/dev/null && break
    sleep 0.05
done
if [ -s "$pf" ]; then
    ON=$(cat "$pf")
    # both instances read at once, so that PgBouncer hands transactions to several server
    # connections (a named statement exists only on the one it was prepared on)
    gets() { "$BRINK" load -d 2s -c 8 --timeout 3s --json "$2" -q "http://127.0.0.1:$1/orders/pb-$run-{{rand:0-1999}}" >/dev/null 2>&1; }
    gets "$ON" "$TMP/on.json" &
    lp=$!
    gets "$P" "$TMP/off.json"
    wait $lp
    on_bad=$(jq -r '.stats.errors // 0' "$TMP/on.json")
    on_all=$(jq -r '.stats.sent // 0' "$TMP/on.json")
    off_bad=$(jq -r '.stats.errors // 0' "$TMP/off.json")
    off_all=$(jq -r '.stats.sent // 0' "$TMP/off.json")
    check "--pg-prepare off under concurrent reads: no error ($off_bad of $off_all)" \
        [ "$off_all" -gt 0 -a "$off_bad" = 0 ]
    check "--pg-prepare on behind PgBouncer (transaction mode): requests fail ($on_bad of $on_all; $(jq -c .status "$TMP/on.json"))" \
        [ "$on_bad" -gt 0 ]
    check "... and its log names the cause and the flag" \
        bash -c "grep -E 'prepared statement .* (already exists|does not exist)' '$TMP/on.log' | grep -q -- '--pg-prepare off'"
    kill "$on_pid"
    for _ in $(seq 1 100); do kill -0 "$on_pid" 2>/dev/null || break; sleep 0.05; done
    check "... it stops on SIGTERM, with no sanitizer report in its log" \
        bash -c "! kill -0 $on_pid 2>/dev/null && ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$TMP/on.log'"
else
    not_ok "dispatchd --pg-prepare on starts behind PgBouncer: $(tail -3 "$TMP/on.log")"
fi

# ---- faults and clean-up ------------------------------------------------------------------------

"$BRINK" stack fault pgbouncer restart --dir "$STACK_DIR" >"$TMP/fault.json" 2>&1
jqcheck "stack fault pgbouncer restart: ok, a new pid, ready again" "$TMP/fault.json" \
    ".ok == true and .pid_after != $PGB_PID and .ready_at != null"
ok_after=0
for _ in $(seq 1 50); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/orders/pb-$run-7")" = 200 ] && ok_after=1 && break
    sleep 0.1
done
check "... and dispatchd reads through the new PgBouncer" [ $ok_after = 1 ]
new_pid=$(jq -r '.pgbouncer.pid' "$state")
"$BRINK" stack down --dir "$STACK_DIR" >/dev/null 2>&1
rc=$?
STACK_DIR=
check "brink stack down: exit 0, pgbouncer gone, directory removed" \
    bash -c "[ $rc -eq 0 ] && ! kill -0 $new_pid 2>/dev/null && [ ! -e '$TMP/stack' ]"
