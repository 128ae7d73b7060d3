# pgbouncer.sh — `brink stack up --pgbouncer`: PgBouncer in transaction-pooling mode between
# dispatchd and PostgreSQL. The stack's part: the state file, the files (0600, the password never
# on a command line), the process (as the postgres account when root), faults and clean-up. The
# service's part, through PgBouncer: webhooks answered 202 and stored by the workers, the accept
# race with exactly one winner per order (the database agrees), GET /orders/ID, /readyz — and
# PgBouncer's own counters show that the traffic went through it. The detector's other side:
# dispatchd with named prepared statements (--pg-prepare on) behind the same PgBouncer fails
# under load and its log names the cause.
. "$(dirname "$0")/lib.bash"

RACE=$BUILD/servers/dispatchd_race
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
    all [ $? -eq 2 ] -- grep -qe '--pgbouncer-port needs --pgbouncer' "$TMP/u.out"
BRINK_PGBOUNCER=/nonexistent "$BRINK" stack up --pgbouncer --service none --dir "$TMP/nostack" >"$TMP/m.out" 2>&1
check "no pgbouncer program: exit 3 naming the Debian package, nothing left" \
    all [ $? -eq 3 ] -- grep -q 'Debian package pgbouncer' "$TMP/m.out" -- [ ! -e "$TMP/nostack" ]

# ---- the stack --------------------------------------------------------------------------------

dd_stack --pgbouncer
state=$STATE
PGB_ADDR=$(jq -r '.pgbouncer.addr' "$state")
PGB_PID=$(jq -r '.pgbouncer.pid' "$state")
P=$(jq -r '.service.port' "$state")
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
check "pgbouncer.ini and the auth file are 0600" [ "$(stat -c %a "$ini" "$auth" | sort -u)" = 600 ]
check "pool_mode = transaction, listening on 127.0.0.1 only, no unix socket" \
    all grep -qx 'pool_mode = transaction' "$ini" -- grep -qx 'listen_addr = 127.0.0.1' "$ini" -- \
    grep -qx 'unix_socket_dir =' "$ini"
pw=$(cat "$(jq -r .postgres.password_file "$state")")
check "the auth file holds the stack's password for the brink role" grep -qxF "\"brink\" \"$pw\"" "$auth"
check "the password is on no command line" \
    not grep -qaF "$pw" "/proc/$PGB_PID/cmdline" "/proc/$(jq -r .service.pid "$state")/cmdline"
admin_config() { psql "postgresql://brink@$PGB_ADDR/pgbouncer" -X -tA -c 'SHOW CONFIG' 2>/dev/null; }
check "SHOW CONFIG through PgBouncer's admin database: pool_mode transaction" \
    in_text "$(admin_config)" '^pool_mode\|transaction\|'
if [ "$(id -u)" = 0 ]; then
    check "as root, pgbouncer runs as the postgres account and owns its files" \
        all [ "$(ps -o user= -p "$PGB_PID")" = postgres ] -- [ "$(stat -c %U "$ini" "$auth" | sort -u)" = postgres ]
fi
"$BRINK" stack status --dir "$STACK_DIR" >"$TMP/status.out" 2>&1
check "brink stack status: healthy, with a pgbouncer row" \
    all [ $? -eq 0 ] -- grep -q '^pgbouncer .* running  ok ' "$TMP/status.out"
check "readyz: PostgreSQL (through PgBouncer) and Redis ok" http_jq "http://127.0.0.1:$P/readyz" '.postgres == "ok"'

# ---- dispatchd through PgBouncer --------------------------------------------------------------

run=$RANDOM$RANDOM
x0=$(admin STATS total_xact_count)
webhooks() { webhook_load "$1" "$2" "$4" -n "$3" -c 16 --timeout 5s; } # PORT PREFIX N JSON
stored() { # PREFIX N: the workers stored N orders PREFIX-<n> (the count in STORED)
    STORED=$(sql "select count(*) from orders where order_id ~ '^$1-[0-9]+\$'")
    [ "$STORED" = "$2" ]
}
webhooks "$P" "pb-$run" 2000 "$TMP/wh.json"
jqcheck "2000 signed webhooks: all 202" "$TMP/wh.json" '.status["202"] == 2000'
wait_for 10 stored "pb-$run" 2000
check "... and the workers stored 2000 orders through PgBouncer ($STORED)" [ "$STORED" = 2000 ]
x1=$(admin STATS total_xact_count)
check "PgBouncer counted the service's transactions (total_xact_count ${x0:-?} → ${x1:-?})" \
    [ -n "$x1" -a "${x1:-0}" -gt "${x0:-0}" ]

code=$(curl -s -o "$TMP/get" -w '%{http_code}' "http://127.0.0.1:$P/orders/pb-$run-7")
check "GET /orders/ID through PgBouncer: 200 with the order ($code)" \
    all [ "$code" = 200 ] -- jqt ".order_id == \"pb-$run-7\" and .status == \"open\"" "$TMP/get"
check "GET /orders/unknown: 404" [ "$(http_status "http://127.0.0.1:$P/orders/none-$run")" = 404 ]

accept_race "$P" 100 20 "pb-$run-" "^pb-$run-([0-9]|[1-9][0-9])\$" \
    "accept race through PgBouncer, 20 vendors x 100 orders: exactly one winner each" \
    "... and the database agrees (one assignment each, the vendor that got 200)"

# PostgreSQL restarted behind PgBouncer: the pooler drops its server connections and makes new
# ones; dispatchd's client connections to PgBouncer stay, and it reads and stores again
reads() { [ "$(http_status "http://127.0.0.1:$P/orders/pb-$run-7")" = 200 ]; }
"$BRINK" stack fault postgres restart --dir "$STACK_DIR" >"$TMP/pgr.json" 2>&1
check "PostgreSQL restarted behind PgBouncer: dispatchd reads through it again" \
    all jqt .ok "$TMP/pgr.json" -- wait_for 5 reads
webhooks "$P" "pbr-$run" 200 "$TMP/whr.json"
wait_for 10 stored "pbr-$run" 200
# 2xx: 202, or 200 when a request's own write reached Redis after its pipe had timed out on a busy
# machine (the retry finds its webhook-id); each is still stored exactly once
check "... and 200 webhooks after the restart: all 2xx, all stored ($(jq -c .status "$TMP/whr.json"), $STORED orders)" \
    all jqt '(.status["202"] // 0) + (.status["200"] // 0) == 200' "$TMP/whr.json" -- [ "$STORED" = 200 ]

# ---- the detector's other side: named prepared statements behind the same PgBouncer ------------

if START_DD_UNTIL=dd_listening start_dd on --pg "$(jq -r '.pgbouncer.service_url' "$state")" --pg-prepare on --workers 0 \
    --redis "$REDIS_URL" --secret-file "$SECRET_FILE"; then
    # both instances read at once, so that PgBouncer hands transactions to several server
    # connections (a named statement exists only on the one it was prepared on)
    gets() { "$BRINK" load -d 2s -c 8 --timeout 3s --json "$2" -q "http://127.0.0.1:$1/orders/pb-$run-{{rand:0-1999}}" >/dev/null 2>&1; }
    gets "$PORT_on" "$TMP/on.json" &
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
        in_text "$(grep -E 'prepared statement .* (already exists|does not exist)' "$TMP/on.log")" '--pg-prepare off'
    kill "$PID_on"
    check "... it stops on SIGTERM, with no sanitizer report in its log" \
        all all_gone_within 5 "$PID_on" -- not grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP/on.log"
else
    not_ok "dispatchd --pg-prepare on starts behind PgBouncer: $(tail -3 "$TMP/on.log")"
fi

# ---- faults and clean-up ------------------------------------------------------------------------

"$BRINK" stack fault pgbouncer restart --dir "$STACK_DIR" >"$TMP/fault.json" 2>&1
jqcheck "stack fault pgbouncer restart: ok, a new pid, ready again" "$TMP/fault.json" \
    ".ok == true and .pid_after != $PGB_PID and .ready_at != null"
check "... and dispatchd reads through the new PgBouncer" wait_for 5 reads
new_pid=$(jq -r '.pgbouncer.pid' "$state")
"$BRINK" stack down --dir "$STACK_DIR" >/dev/null 2>&1
check "brink stack down: exit 0, pgbouncer gone, directory removed" \
    all [ $? -eq 0 ] -- not kill -0 "$new_pid" 2>/dev/null -- [ ! -e "$STACK_DIR" ]
