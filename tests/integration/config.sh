# config.sh — -f brink.yaml: every test pointed at "a user's own stack". An embedded stack started
# with `brink stack up` plays that stack: a brink.yaml describes it from the outside only — the
# service's URL and secret file, Redis and PostgreSQL probes, the audit's SQL, fault hooks that
# call `brink stack fault ... --state` (process faults), the stack's own Toxiproxy-compatible API
# (network faults) and a pid file (signals). Then: webhook light, race light, redis-failure kill
# (hooks) and down (Toxiproxy API), db-restart crash, each asserting its document; `stack fault
# --config` pausing Redis by SIGSTOP; bad files and unconfigured modes (exit 2, one line). The
# detectors must fire against the user's stack too: an audit query that loses rows (lost > 0,
# exit 99), a threshold override that turns a green metric red (exit 99), and a stack started with
# --profile untuned (race conditions, exit 99). Short phases keep the whole under ~2.5 minutes;
# everything stays on loopback and every wait is bounded.
. "$(dirname "$0")/lib.bash"

PH=(--warmup 1s --baseline 1s --fault 3s --recovery 3s --drain-timeout 15s -q)
needs_dispatchd "brink.yaml runs"
RUN_LIMIT=120

# write_config FILE STATE [STORED_QUERY]: a brink.yaml describing the stack of STATE
write_config() {
    local f=$1 s=$2
    local stored=${3:-"SELECT webhook_id, count(*) FROM orders WHERE webhook_id = ANY(\$1) GROUP BY webhook_id"}
    local pg_port redis_port
    pg_port=$(jq -r .postgres.port "$s")
    redis_port=$(jq -r .redis.port "$s")
    cat >"$f" <<EOF
# the embedded stack of $s, seen as a user's own stack
target:
  url: $(jq -r .service.url "$s")
  webhook:
    sign: standard-webhooks
    secret: {file: $(jq -r .service.secret_file "$s")}
  service_pid: $(jq -r .service.pid "$s")
race:   # dispatchd's protocol, written out
  create:
    path: /webhooks/orders
    sign: standard-webhooks
    body: '{"type":"order.created","data":{"order_id":"{{id}}","customer_id":"c-{{seq}}","items":[{"sku":"s","qty":1,"price_cents":1250}],"total_cents":1250}}'
  visible: {path: '/orders/{{id}}', status: 200}
  claim:
    path: /orders/{{id}}/accept
    body: '{"vendor_id":"{{vendor}}"}'
    won: 2xx
    lost: 409
    loser_winner: winner
  truth:
    http: {path: '/orders/{{id}}', winner: vendor_id}
    sql: {query: 'SELECT vendor_id FROM order_assignments WHERE order_id = \$1'}
probes:   # Redis has a password: the URL that carries it is in the environment
  - {name: stream_lag, kind: redis, url_env: STACK_REDIS_URL,
     command: XINFO GROUPS dispatchd:webhooks, path: '[name=dispatchd].lag'}
  - {name: stream_pending, kind: redis, url_env: STACK_REDIS_URL,
     command: XPENDING dispatchd:webhooks dispatchd, path: '[0]'}
  - {name: inbox, kind: sql, url: 'postgresql://brink@127.0.0.1:$pg_port/brink',
     query: SELECT count(*) FROM webhook_inbox}
audit:
  url: postgresql://brink@127.0.0.1:$pg_port/brink
  stored: $stored
  queued: SELECT webhook_id FROM webhook_inbox WHERE webhook_id = ANY(\$1)
  integrity:
    accepted_without_assignment: >-
      SELECT count(*) FROM orders o WHERE o.status = 'accepted'
      AND NOT EXISTS (SELECT 1 FROM order_assignments a WHERE a.order_id = o.order_id)
    assignment_without_accept: >-
      SELECT count(*) FROM order_assignments a WHERE NOT EXISTS
      (SELECT 1 FROM orders o WHERE o.order_id = a.order_id AND o.status = 'accepted')
dependencies:
  redis:
    kill_cmd: [$BRINK, stack, fault, redis, kill, --state, $s]
    start_cmd: [$BRINK, stack, fault, redis, start, --state, $s]
    pid_file: $TMP/redis.pid
    ready_check: tcp://127.0.0.1:$redis_port   # no password in the file (start_cmd waits for PONG)
    timeout: 30s
    toxiproxy: {api: '$(jq -r .proxies.api "$s")', proxy: redis}
  postgresql:
    kill_cmd: [$BRINK, stack, fault, postgres, kill, --state, $s]
    start_cmd: [$BRINK, stack, fault, postgres, start, --state, $s]
    ready_check: tcp://127.0.0.1:$pg_port
    timeout: 60s
EOF
}

stack_up S user || {
    not_ok "brink stack up (the stand-in for a user's stack)"
    exit 0
}
ok "an embedded stack is up as the user's stack"
export PGPASSFILE STACK_REDIS_URL
PGPASSFILE=$(jq -r .postgres.pgpass_file "$S") # the audit's and probes' password, off the URLs
STACK_REDIS_URL=$(jq -r .redis.url "$S")       # the Redis probes' URL, with its password
jq -r .redis.pid "$S" >"$TMP/redis.pid"
C=$TMP/brink.yaml
write_config "$C" "$S"

# ---- bad files and unconfigured modes: one line, exit 2, before anything runs ------------------

printf 'target:\n  url: http://127.0.0.1:1\n  webhook:\n    secret: whsec_literal\n' >"$TMP/bad.yaml"
"$BRINK" webhook light -f "$TMP/bad.yaml" >"$TMP/bad.out" 2>&1
check "a literal secret: exit 2, FILE:LINE: KEY on one line" \
    all [ $? -eq 2 ] -- grep -q 'bad.yaml:4: target.webhook.secret: a literal secret' "$TMP/bad.out" -- \
    [ "$(lines "$TMP/bad.out")" -eq 1 ]
sed 's/^probes:/probe:/' "$C" >"$TMP/typo.yaml"
"$BRINK" race light -f "$TMP/typo.yaml" >"$TMP/typo.out" 2>&1
check "an unknown key (race -f): exit 2 naming it" \
    all [ $? -eq 2 ] -- grep -q 'typo.yaml:[0-9]*: probe: unknown key' "$TMP/typo.out"
grep -v toxiproxy "$C" >"$TMP/notoxi.yaml"
"$BRINK" redis-failure down -f "$TMP/notoxi.yaml" "${PH[@]}" >"$TMP/notoxi.out" 2>&1
check "a network mode without toxiproxy: exit 2 naming dependencies.redis.toxiproxy" \
    all [ $? -eq 2 ] -- grep -q 'dependencies.redis.toxiproxy: missing' "$TMP/notoxi.out"
"$BRINK" db-restart crash -f "$C" --stack-profile untuned "${PH[@]}" >"$TMP/prof.out" 2>&1
check "--stack-profile with -f: exit 2" [ $? -eq 2 ]

# ---- preflight: each broken setting fails in seconds, with one line, before any load ------------

PG_USER_URL="postgresql://brink@127.0.0.1:$(jq -r .postgres.port "$S")/brink"
orders() { psql "$PG_USER_URL" -XtAc 'select count(*) from orders' 2>/dev/null; }
orders_before=$(orders)
free=$(free_port || echo 1)
# pre NAME EXIT WANT FILE MODE [ARGS]: redis-failure MODE -f FILE is refused within 5 s
pre() {
    local name=$1 want_rc=$2 want=$3 f=$4 mode=$5 t0=${EPOCHREALTIME/./} rc ms
    shift 5
    "$BRINK" redis-failure "$mode" -f "$f" "${PH[@]}" "$@" >"$TMP/pre.out" 2>"$TMP/pre.err"
    rc=$?
    ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
    if [ $rc -eq "$want_rc" ] && [ "$(lines "$TMP/pre.err")" -eq 1 ] &&
        grep -qF -- "$want" "$TMP/pre.err" && [ $ms -lt 5000 ]; then
        ok "preflight: $name → exit $want_rc in $ms ms, one line"
    else
        not_ok "preflight: $name (exit $rc in $ms ms)"
        sed 's/^/#   /' "$TMP/pre.err" | head -3
    fi
}
env -u PGPASSFILE -u PGPASSWORD "$BRINK" redis-failure down -f "$C" "${PH[@]}" >/dev/null 2>"$TMP/pre.err"
check "preflight: the audit database without a password → exit 2, says where to put it" \
    all [ $? -eq 2 ] -- grep -q 'audit.url: .*no password supplied (give the password in PGPASSWORD' "$TMP/pre.err"
sed "s|^  url: postgresql://brink@127.0.0.1:[0-9]*/brink|  url: postgresql://brink@127.0.0.1:$free/brink|" "$C" >"$TMP/p1.yaml"
pre "the audit database does not answer" 3 "audit.url:" "$TMP/p1.yaml" down
sed 's|^  stored: .*|  stored: SELECT webhook_id FROM no_such_table WHERE webhook_id = ANY($1)|' "$C" >"$TMP/p2.yaml"
pre "audit.stored names a table that is not there" 2 'audit.stored: ERROR:  relation "no_such_table" does not exist' "$TMP/p2.yaml" down
sed "0,/url_env: STACK_REDIS_URL/s||url_env: NO_REDIS_URL|" "$C" >"$TMP/p3.yaml"
NO_REDIS_URL=redis://127.0.0.1:$free pre "a probe that cannot connect" 3 "probes[0] (stream_lag)" "$TMP/p3.yaml" down
sed 's/command: XINFO GROUPS dispatchd:webhooks/command: XINFO GROUPS no:such:stream/' "$C" >"$TMP/p4.yaml"
pre "a probe whose command fails" 2 "probes[0] (stream_lag)" "$TMP/p4.yaml" down
sed 's/proxy: redis}/proxy: redis_typo}/' "$C" >"$TMP/p5.yaml"
pre "a proxy the API does not have" 2 "toxiproxy.proxy: " "$TMP/p5.yaml" down
check "... and the line lists the proxies it has" grep -q "has no proxy 'redis_typo' (it has: .*redis" "$TMP/pre.err"
sed "s|toxiproxy: {api: '[^']*'|toxiproxy: {api: 'http://127.0.0.1:$free'|" "$C" >"$TMP/p6.yaml"
pre "the proxy API does not answer" 3 "does not answer" "$TMP/p6.yaml" down
sed "0,/kill_cmd: \[[^,]*,/s||kill_cmd: [/nonexistent/kill-redis,|" "$C" >"$TMP/p7.yaml"
pre "a dependency command that is not there" 2 "dependencies.redis.kill_cmd: '/nonexistent/kill-redis' is not an executable" "$TMP/p7.yaml" kill
pre "an unwritable --json path" 2 "is not writable" "$C" down --json /nonexistent/dir/out.json
sed "s|^  url: http://127.0.0.1:[0-9]*|  url: http://127.0.0.1:$free|" "$C" >"$TMP/p8.yaml"
pre "the target does not answer" 3 "does not answer" "$TMP/p8.yaml" down
check "preflight: nothing reached the service (its orders: $orders_before before, $(orders) after)" \
    [ "$(orders)" = "$orders_before" ]

# ---- webhook, race -----------------------------------------------------------------------------

brink_run webhook webhook light -f "$C" -d 2s -q
F=$TMP/webhook.json
# (a machine running two other test files can turn the latency tail red in a 3 s run: that is not
# what this checks)
check "webhook light -f: exit 0 (99: only latency percentiles red)" \
    verdict_ok webhook p95_ms p99_ms p999_ms
jqcheck "webhook light -f: the user's URL, the file, signed, every webhook answered" "$F" \
    '.target == "'"$(jq -r .service.url "$S")"'/webhooks/orders" and (.config.config_file | endswith("brink.yaml")) and .config.stack == null
     and .config.sign == "standard-webhooks" and .stats.requests >= 190 and .stats.errors == 0
     and .resources.pid > 0'

brink_run race race light -f "$C" -q
F=$TMP/race.json
check "race light -f: exit 0" [ "$(rc race)" = 0 ]
jqcheck "race light -f: 50 orders, no race condition, HTTP and SQL truth (audit.url)" "$F" \
    '.stats.orders == 50 and .stats.race_conditions == 0 and .stats.integrity == 1
     and .race.audit.sql_orders == 50 and .config.audit_sql and (.config.config_file | endswith("brink.yaml"))'

env -u PGPASSFILE "$BRINK" race light -f "$C" -q >/dev/null 2>"$TMP/race-pre.err"
check "race -f without the SQL truth's password: exit 2 before any order, naming audit.url" \
    all [ $? -eq 2 ] -- grep -q 'audit.url (the SQL truth): .*no password supplied' "$TMP/race-pre.err"

# ---- process faults by signals: stack fault --config with pid_file ------------------------------

"$BRINK" stack fault redis pause --config "$C" >"$TMP/pause.json" 2>"$TMP/pause.err"
p_rc=$?
"$BRINK" stack fault redis resume --config "$C" >"$TMP/resume.json" 2>"$TMP/resume.err"
r_rc=$?
check "stack fault redis pause/resume --config: SIGSTOP/SIGCONT to the pid file's process" \
    all [ $p_rc -eq 0 ] -- [ $r_rc -eq 0 ] -- jqt ".ok and .pid_before == $(cat "$TMP/redis.pid")" "$TMP/pause.json" -- \
    jqt '.ok and .ready_ns > 0' "$TMP/resume.json"

# ---- resilience on the user's stack --------------------------------------------------------------

audit_ok='.audit.done and .audit.source == "config" and .stats.lost == 0 and .stats.duplicated == 0
    and .stats.integrity_violations == 0 and .audit.webhooks.acknowledged > 500
    and (.audit.queries.stored | startswith("SELECT webhook_id, count(*) FROM orders"))
    and ([.audit.integrity.checks[].name] == ["accepted_without_assignment","assignment_without_accept"])'

brink_run kill redis-failure kill -f "$C" --rate 200 "${PH[@]}"
F=$TMP/kill.json
check "redis-failure kill -f (kill_cmd/start_cmd hooks): exit 0 (99: only recovery_s red)" \
    verdict_ok kill recovery_s
jqcheck "redis-failure kill -f: 0 lost, 0 duplicated, audited with the file's queries" "$F" "$audit_ok"
jqcheck "redis-failure kill -f: the document — user stack, phases, fault times, backlog probes" "$F" \
    '.profile == null and .config.stack == "user" and .mode == "kill"
     and ([.phases[].name] == ["warmup","baseline","fault","recovery"])
     and .fault.down_s > 0 and .fault.ready_s > .fault.down_s and .stats.downtime_s > 0
     and ([.backlog.probes[].name] == ["stream_lag","stream_pending","inbox"])
     and .backlog.probes[0].answered and (.stats | has("max_backlog"))
     and .resources.phases[1].service.cpu_pct != null'

jq -r .redis.pid "$S" >"$TMP/redis.pid" # the restarted redis-server's, for the resource samples

brink_run crash db-restart crash -f "$C" --rate 200 "${PH[@]}"
F=$TMP/crash.json
check "db-restart crash -f: exit 0 (99: only the recovery times red, a busy machine)" \
    verdict_ok crash recovery_s pool_recovery_s
jqcheck "db-restart crash -f: PostgreSQL killed and started by the hooks, 0 lost, integrity 0" "$F" \
    "$audit_ok and .test == \"db-restart\" and .fault.signal_s > 0 and .fault.ready_s > .fault.signal_s
     and (.stats | has(\"pool_recovery_s\")) and .config.accept_rate == 0"

# ---- stack: your own service on brink's PostgreSQL and Redis -----------------------------------------

# the file gives the service and the audit's queries; the stack's state fills in the audit's URL and
# password, the dependencies' faults (brink stack fault), ready checks and proxies (network faults
# through its Toxiproxy API)
{
    printf 'stack: %s\n' "$(dirname "$S")"
    sed -n '/^target:/,/^  service_pid:/p' "$C"
    sed -n '/^audit:/,/^dependencies:/p' "$C" | grep -v '^  url:' | grep -v '^dependencies:'
} >"$TMP/onstack.yaml"
(
    unset PGPASSFILE # the stack's password comes from its state
    brink_run down redis-failure down -f "$TMP/onstack.yaml" --rate 200 "${PH[@]}"
)
F=$TMP/down.json
check "stack: (no audit.url, dependencies or password given): redis-failure down through the Toxiproxy API: exit 0 (99: only recovery_s red)" \
    verdict_ok down recovery_s
jqcheck "redis-failure down, stack: 0 lost, outage answered, audited with the file's queries" "$F" \
    "$audit_ok and .stats.outage_error_rate < 0.01 and .fault.downtime_s >= 2.9"
refuses "stack: a directory without a running stack" 2 "is the stack up?" \
    "$BRINK" redis-failure down -f <(printf 'stack: /nonexistent\ntarget: {url: "http://127.0.0.1:1", webhook: {sign: none}}\n')

# ---- the detectors fire on a user's stack ----------------------------------------------------------

# an audit whose query "loses" every id ending in 7: the same run must be red for lost
write_config "$TMP/lossy.yaml" "$S" \
    "SELECT webhook_id, count(*) FROM orders WHERE webhook_id = ANY(\$1) AND right(webhook_id, 1) <> '7' GROUP BY webhook_id"
brink_run lossy redis-failure down -f "$TMP/lossy.yaml" --rate 200 --warmup 0s --baseline 1s \
    --fault 1s --recovery 3s --drain-timeout 3s -q
F=$TMP/lossy.json
check "an audit that reports missing rows: red, exit 99" [ "$(rc lossy)" = 99 ]
jqcheck "the lossy audit: lost > 0, first_lost ends in 7, lost is red" "$F" \
    '.stats.lost > 0 and (.audit.webhooks.first_lost | endswith("7")) and .audit.attempts >= 1
     and ([.thresholds[] | select(.metric == "lost")][0].status == "red")'

# a threshold override that turns a green metric red
cp "$C" "$TMP/strict.yaml"
printf 'thresholds:\n  p50_ms: {orange: 0.0005, red: 0.001}\n' >>"$TMP/strict.yaml"
brink_run strict webhook light -f "$TMP/strict.yaml" -d 2s -q
F=$TMP/strict.json
check "a threshold override (p50_ms red > 0.001 ms): exit 99" [ "$(rc strict)" = 99 ]
jqcheck "the override is in the document: p50_ms red, overridden, red bound 0.001" "$F" \
    '[.thresholds[] | select(.metric == "p50_ms")][0] | .status == "red" and .overridden == true
     and .red == 0.001'

# a broken user's stack: dispatchd untuned (check-then-act accept) behind the same kind of file
if stack_up S2 untuned --profile untuned; then
    write_config "$TMP/untuned.yaml" "$S2"
    sed -i '/^race:/,/^probes:/{/^probes:/!d}' "$TMP/untuned.yaml" # dispatchd's built-in protocol
    found=0
    for attempt in 1 2 3; do
        PGPASSFILE=$(jq -r .postgres.pgpass_file "$S2") \
            brink_run "untuned$attempt" race -f "$TMP/untuned.yaml" --orders 100 --vendors 10 -q
        if [ "$(rc "untuned$attempt")" = 99 ] &&
            jq -e '.stats.race_conditions > 0' "$TMP/untuned$attempt.json" >/dev/null 2>&1; then
            found=1
            break
        fi
    done
    check "race -f against an untuned user's stack: race conditions found, exit 99" [ $found -eq 1 ]
else
    not_ok "brink stack up --profile untuned"
fi
