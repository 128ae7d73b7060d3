# stack.sh — `brink stack up|status|fault|down` end to end, against the real PostgreSQL and Redis
# the stack starts: queries and PINGs directly and through the fault proxies; Redis's password
# (NOAUTH without it, directly and through the proxy; a 0600 file; on no command line and in no
# log; the same after a restart) and, as root, the unprivileged account of redis-server and
# dispatchd; status; process faults from the CLI (committed rows survive a SIGKILL of
# PostgreSQL); nothing left running — not even a zombie, the moment `down` returns — and no
# directory left after `down` and after a SIGKILL of the supervisor (with a backend busy in a
# query, since PostgreSQL's backends leave the postmaster's process group); a service started
# from a command template; bad input (one line, exit 2 or 3, nothing left running); and, when
# run as root, the same basic cycle as an unprivileged user.
. "$(dirname "$0")/lib.bash"

# stacks and the "most recent stack" pointer live in $TMP; as root the postgres account must be
# able to traverse it
export TMPDIR=$TMP
unset XDG_RUNTIME_DIR
chmod 711 "$TMP"

# leftovers: live processes working in $TMP or naming it on their command line (found by one grep
# and one find over /proc: a loop of commands per process is slow on a busy machine)
leftovers() {
    local p comm out=""
    for p in $({
        grep -laF "$TMP/" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3
        find /proc/[0-9]*/cwd -maxdepth 0 -lname "$TMP/*" 2>/dev/null | cut -d/ -f3
    } | sort -un); do
        [ "$p" = $$ ] && continue
        [[ " ${PIDS[*]:-} " == *" $p "* ]] && continue # the test's own servers
        alive "$p" && { read -r comm <"/proc/$p/comm"; } 2>/dev/null && out+=" $p($comm)"
    done
    echo "$out"
}
# state_pids FILE: every pid of the state file
state_pids() { jq -r '.processes[].pid' "$1"; }
# q URL SQL: one psql query's answer (errors too)
q() { psql "$1" -tAc "$2" 2>&1; }
# ping_of URL: redis-cli PING's answer (errors too; the URL's password through REDISCLI_AUTH);
# pongs URL: it is PONG
ping_of() { rcli_url "$1" ping 2>&1; }
pongs() { [ "$(ping_of "$1")" = PONG ]; }
# noauth PORT COMMAND...: redis-cli without a password gets NOAUTH for the command
noauth() { env -u REDISCLI_AUTH redis-cli -h 127.0.0.1 -p "$1" "${@:2}" 2>&1 | grep -q '^NOAUTH'; }
# user_of PID: the account a process runs as
user_of() { ps -o user= -p "$1" | tr -d ' '; }
# in_cmdline FILE: the pids of the processes whose command line holds FILE's first line (the
# pattern is read from the file, so that grep's own command line does not hold it)
in_cmdline() { grep -laFf <(head -1 "$1") /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3 | tr '\n' ' '; }
# exists PIDS...: those of them that still exist, zombies included (a zombie is a process its
# parent has not collected yet)
exists() { for p in "$@"; do [ -e "/proc/$p" ] && echo -n " $p"; done; }
# still_alive PIDS...: those of them alive, for a message
still_alive() { for p in "$@"; do alive "$p" && echo -n " $p"; done; }

# --- 1. up --service none, without --dir: a fresh directory, the state path on stdout ----------
t0=$(date +%s%N)
"$BRINK" stack up --service none >"$TMP/up.out" 2>"$TMP/up.err"
rc=$?
t1=$(date +%s%N)
S=$(cat "$TMP/up.out")
echo "# stack up --service none: $(((t1 - t0) / 1000000)) ms to ready"
if [ $rc -eq 0 ] && [ -f "$S" ] && [ "$(wc -l <"$TMP/up.out")" -eq 1 ]; then
    ok "stack up --service none prints the state file path"
else
    not_ok "stack up --service none (exit $rc): $(cat "$TMP/up.err")"
    exit 1
fi
STATES+=("$S")
D=$(dirname "$S")
check "the stack directory is a fresh brink-stack-XXXXXX under TMPDIR" \
    [ "$(dirname "$D")" = "$TMP" -a "$(basename "$D" | cut -c1-12)" = brink-stack- ]
check "state file is 0600" [ "$(stat -c %a "$S")" = 600 ]
jqcheck "state file has every documented key" "$S" '
  .schema == "brink.stack/1" and (.dir | type) == "string" and .profile == "tuned" and
  (.postgres.url | startswith("postgresql://brink:")) and (.postgres.proxy_url | startswith("postgresql://")) and
  (.redis.url | startswith("redis://:")) and (.redis.proxy_url | startswith("redis://:")) and
  (.redis.service_url | startswith("redis://127.0.0.1:")) and (.redis.password_file | type) == "string" and
  (.proxies.api | startswith("http://127.0.0.1:")) and (.service.secret_file | type) == "string" and
  .service.url == null and (.supervisor.pid | type) == "number" and
  ([.processes[].name] | sort) == ["postgres", "reaper", "redis", "supervisor"] and
  (.postgres.version | length) > 0 and (.redis.version | length) > 0'
check "secret files are 0600" [ "$(stat -c %a "$(jq -r .postgres.password_file "$S")")" = 600 -a \
    "$(stat -c %a "$(jq -r .service.secret_file "$S")")" = 600 ]
check "webhook secret is whsec_ + base64 of 32 bytes" \
    [ "$(sed 's/^whsec_//' "$(jq -r .service.secret_file "$S")" | base64 -d | wc -c)" = 32 ]

PGURL=$(jq -r .postgres.url "$S")
PGPROXY=$(jq -r .postgres.proxy_url "$S")
RURL=$(jq -r .redis.url "$S")
RPROXY=$(jq -r .redis.proxy_url "$S")
check "PostgreSQL answers directly" [ "$(q "$PGURL" 'select 1')" = 1 ]
check "PostgreSQL answers through the proxy" [ "$(q "$PGPROXY" 'select 1')" = 1 ]
check "PostgreSQL runs with fsync and full_page_writes on" \
    [ "$(psql "$PGURL" -tAc 'show fsync' -c 'show full_page_writes' 2>&1 | tr '\n' ' ')" = 'on on ' ]
check "Redis answers PING directly" [ "$(ping_of "$RURL")" = PONG ]
check "Redis answers PING through the proxy" [ "$(ping_of "$RPROXY")" = PONG ]
check "the proxies' control API lists both proxies" \
    http_jq "$(jq -r .proxies.api "$S")/proxies" 'has("postgres") and has("redis")'
PW=$(cat "$(jq -r .postgres.password_file "$S")")
if grep -rqF "$PW" "$D"/*.log "$TMP/up.out" "$TMP/up.err" 2>/dev/null; then
    not_ok "the database password appears in a log or in the output"
else
    ok "the database password appears in no log and not in the output"
fi
leak=""
for p in $(state_pids "$S"); do tr '\0' ' ' <"/proc/$p/cmdline" | grep -qF "$PW" && leak+=" $p"; done
check "the database password is on no command line of the stack's processes" [ -z "$leak" ]

# Redis has a password: in a 0600 file, never on a command line nor in a log; a client without it
# is refused (NOAUTH) directly and through the proxy, which is transparent to AUTH
RPWF=$(jq -r '.redis.password_file // empty' "$S")
RPORT=$(jq -r .redis.port "$S")
RPXPORT=$(jq -r .redis.proxy_addr "$S" | sed 's/.*://')
check "the Redis password file is 0600 and not empty" \
    all [ -n "$RPWF" ] -- [ -s "$RPWF" ] -- [ "$(stat -c %a "$RPWF" 2>/dev/null)" = 600 ]
if [ -s "$RPWF" ]; then # redis-cli's own way, off the command line
    REDISCLI_AUTH=$(head -1 "$RPWF")
    export REDISCLI_AUTH
fi
check "Redis refuses an unauthenticated PING: NOAUTH directly" noauth "$RPORT" PING
check "Redis refuses an unauthenticated PING: NOAUTH through the proxy" noauth "$RPXPORT" PING
check "Redis refuses an unauthenticated XADD (an unsigned order): NOAUTH directly and through the proxy" \
    all noauth "$RPORT" XADD dispatchd:webhooks '*' j '{"order_id":"forged"}' -- \
    noauth "$RPXPORT" XADD dispatchd:webhooks '*' j '{"order_id":"forged"}'
check "the stack's URLs carry the Redis password (the state file is 0600); service_url does not" \
    all [ -s "$RPWF" ] -- jqt '(.redis.url | contains(":" + $pw + "@")) and (.redis.proxy_url | contains(":" + $pw + "@")) and (.redis.service_url | contains("@") | not)' "$S" --arg pw "$(head -1 "$RPWF" 2>/dev/null)"
if [ -s "$RPWF" ]; then
    check "the Redis password is on no process's command line" [ -z "$(in_cmdline "$RPWF")" ]
    check "the Redis password is in no log of the stack" not grep -rqFf <(head -1 "$RPWF") "$D" --include='*.log'
fi
if [ "$(id -u)" = 0 ]; then
    check "as root, redis-server runs as an unprivileged account ($(user_of "$(jq .redis.pid "$S")"))" \
        [ "$(user_of "$(jq .redis.pid "$S")")" != root ]
fi

"$BRINK" stack status >"$TMP/status.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^postgres proxy .* ok' "$TMP/status.out" && ! grep -qF "$PW" "$TMP/status.out"; then
    ok "stack status (the most recent stack) exits 0, every check ok, no password shown"
else
    not_ok "stack status exit $rc"
    sed 's/^/#   /' "$TMP/status.out"
fi

# --- 2. durability through the fault CLI: committed rows survive SIGKILL of PostgreSQL ------------
N=500
psql "$PGPROXY" -q -v ON_ERROR_STOP=1 -c 'create table t (id int primary key)' >/dev/null 2>&1
for i in $(seq 1 $N); do echo "insert into t values ($i);"; done | psql "$PGPROXY" -q -v ON_ERROR_STOP=1 >/dev/null 2>&1
check "$N rows committed one by one through the proxy" [ "$(q "$PGURL" 'select count(*) from t')" = $N ]
"$BRINK" stack fault postgres kill --state "$S" >"$TMP/kill.json" 2>"$TMP/kill.err"
rc=$?
jqcheck "stack fault postgres kill: exit $rc, JSON with signal and down times" "$TMP/kill.json" \
    '.ok and .op == "kill" and .signal_ns > 0 and .down_ns >= .signal_ns and .pid_after == null and (.down_at | type) == "string"'
check "PostgreSQL refuses queries after the kill" not quietly psql "$PGURL" -tAc 'select 1'
"$BRINK" stack status --state "$S" >/dev/null 2>&1
check "stack status exits 3 while PostgreSQL is down" [ $? -eq 3 ]
"$BRINK" stack fault postgres start --dir "$D" >"$TMP/start.json" 2>"$TMP/start.err"
jqcheck "stack fault postgres start: ready time" "$TMP/start.json" '.ok and .ready_ns > 0 and .pid_after > 0'
check "all $N committed rows are there after crash recovery" \
    [ "$(q "$PGPROXY" 'select count(*) from t')" = $N ]
check "the restart went through WAL crash recovery" grep -q "automatic recovery in progress" "$(jq -r .postgres.log "$S")"
jqcheck "the state file follows the new postmaster pid" "$S" ".postgres.pid == $(jq .pid_after "$TMP/start.json")"
"$BRINK" stack fault redis pause --state "$S" >"$TMP/pause.json" 2>&1
check "redis paused: PING through the proxy times out" not quietly timeout 2 redis-cli -p "$RPXPORT" ping
"$BRINK" stack fault redis resume --state "$S" >"$TMP/resume.json" 2>&1
jqcheck "stack fault redis resume: ready again" "$TMP/resume.json" '.ok and .ready_ns >= .signal_ns'
"$BRINK" stack fault redis kill --state "$S" >/dev/null 2>&1
"$BRINK" stack fault redis kill --state "$S" >"$TMP/kill2.json" 2>"$TMP/kill2.err"
rc=$?
check "a fault on a stopped process: exit 3 and a reason" \
    all [ $rc -eq 3 ] -- grep -q 'redis is not running' "$TMP/kill2.err" -- jqt '.ok == false' "$TMP/kill2.json"
"$BRINK" stack fault redis restart --state "$S" >/dev/null 2>&1
check "restart of a killed process is refused (not running)" [ $? -eq 3 ]
check "start after a kill works" \
    all quietly "$BRINK" stack fault redis start --state "$S" -- pongs "$RPROXY"
check "the started redis-server has the same password (NOAUTH without it, PONG with it)" \
    all noauth "$RPORT" PING -- pongs "$RURL"
if [ "$(id -u)" = 0 ]; then
    check "as root, the started redis-server runs as the same unprivileged account" \
        [ "$(user_of "$(jq .redis.pid "$S")")" != root ]
fi

# --- 3. down: every process gone, the directory removed, the pointer cleared ------------------
pids=$(state_pids "$S")
"$BRINK" stack down >"$TMP/down.out" 2>&1
rc=$?
check "stack down (the most recent stack) exits 0" [ $rc -eq 0 ]
left=$(exists $pids) # at once: down returns when every process of the stack is gone
check "as soon as down returns, no process of the state file exists, the supervisor included${left:+ (left:$left)}" [ -z "$left" ]
left=""
for p in $pids; do alive "$p" && left+=" $p"; done
check "after down no process of the stack is alive" [ -z "$left" ]
check "after down the stack directory is gone" [ ! -e "$D" ]
"$BRINK" stack status >/dev/null 2>"$TMP/nostack.err"
rc=$?
check "stack status without a stack: exit 3, one line" [ $rc -eq 3 -a "$(wc -l <"$TMP/nostack.err")" -eq 1 ]

# --- 4. SIGKILL of the supervisor, with a backend busy in a query: the reaper cleans up --------
S2=$(exec "$BRINK" stack up --service none --dir "$TMP/s2" 2>"$TMP/up2.err")
STATES+=("$S2")
if [ -f "$S2" ]; then
    psql "$(jq -r .postgres.url "$S2")" -c 'select pg_sleep(60)' >/dev/null 2>&1 &
    PIDS+=($!)
    sleeping() { [ "$(q "$(jq -r .postgres.url "$S2")" "select count(*) from pg_stat_activity where query like 'select pg_sleep%'")" = 1 ]; }
    wait_for 5 sleeping
    pids=$(state_pids "$S2")
    backends=$(for p in /proc/[0-9]*; do [[ "$(readlink "$p/cwd" 2>/dev/null)" == "$TMP/s2/"* ]] && echo "${p#/proc/}"; done)
    kill -9 "$(jq .supervisor.pid "$S2")"
    # shellcheck disable=SC2086
    if all_gone_within 5 $pids $backends; then
        ok "SIGKILL of the supervisor: every process (and busy backend) gone within 5 s"
    else
        not_ok "SIGKILL of the supervisor: still alive:$(still_alive $pids $backends)"
    fi
    check "SIGKILL of the supervisor: the directory is removed" wait_for 5 test ! -e "$TMP/s2"
else
    not_ok "stack up --dir: $(cat "$TMP/up2.err")"
fi

# --- 4b. the stack's directory removed under it (a test's or a user's rm -rf of a tmp dir): the
# supervisor notices within a second and stops everything, instead of running on forever
S3=$(exec "$BRINK" stack up --service none --dir "$TMP/s3" 2>"$TMP/up3.err")
STATES+=("$S3")
if [ -f "$S3" ]; then
    pids=$(state_pids "$S3")
    rm -rf "$TMP/s3"
    # shellcheck disable=SC2086
    if all_gone_within 5 $pids; then
        ok "the stack's directory removed: every process gone within 5 s"
    else
        not_ok "the stack's directory removed: still alive:$(still_alive $pids)"
    fi
else
    not_ok "stack up --dir s3: $(cat "$TMP/up3.err")"
fi

# --- 5. a service from a command template ({port}, {listen}) ----------------------------------
S3=$(exec "$BRINK" stack up --dir "$TMP/s3" --service "$TESTSRV --listen 127.0.0.1 --port {port} --max-seconds 120" 2>"$TMP/up3.err")
rc=$?
STATES+=("$S3")
if [ $rc -eq 0 ] && [ -f "$S3" ]; then
    ok "stack up with a templated service command"
    URL=$(jq -r .service.url "$S3")
    check "the service answers /readyz 200" [ "$(http_status "$URL/readyz")" = 200 ]
    jqcheck "{port} and {listen} substituted, argv without a shell" "$S3" \
        '(.service.listen == "127.0.0.1:\(.service.port)") and .service.command[4] == (.service.port | tostring) and (.service.command[0] | endswith("testsrv"))'
    "$BRINK" stack status --dir "$TMP/s3" >"$TMP/status3.out" 2>&1
    check "stack status with a service: exit 0" [ $? -eq 0 ]
    "$BRINK" stack fault service restart --dir "$TMP/s3" >"$TMP/svc.json" 2>&1
    jqcheck "stack fault service restart: a new pid, ready again" "$TMP/svc.json" \
        '.ok and .pid_after != .pid_before and .ready_ns > .down_ns'
    pids=$(state_pids "$S3")
    "$BRINK" stack down --dir "$TMP/s3" >/dev/null 2>&1
    left=$(exists $pids)
    check "down with a service: no process left (not even a zombie), directory gone${left:+ (left:$left)}" [ -z "$left" -a ! -e "$TMP/s3" ]
else
    not_ok "stack up with a templated service command (exit $rc): $(cat "$TMP/up3.err")"
fi

# --- 6. --keep keeps the data directory; down --keep too ---------------------------------------
# (the kept supervisor.log also shows whether the sanitizers found anything in the supervisor)
sanitizer_clean() { ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$1"; }
S4=$(exec "$BRINK" stack up --service none --dir "$TMP/s4" 2>"$TMP/up4.err")
STATES+=("$S4")
"$BRINK" stack fault postgres restart --dir "$TMP/s4" >/dev/null 2>&1
"$BRINK" stack down --dir "$TMP/s4" --keep >/dev/null 2>&1
check "down --keep: the data stays, the stack is stopped" \
    all [ -f "$TMP/s4/postgres/PG_VERSION" ] -- [ -f "$TMP/s4/redis/redis.conf" ] -- [ ! -e "$S4" ]
check "supervisor log after up, fault, down: no sanitizer report" sanitizer_clean "$TMP/s4/supervisor.log"
rm -rf "$TMP/s4"
"$BRINK" stack up --keep --dir "$TMP/k1" --service "$TESTSRV --no-such-flag" >/dev/null 2>&1
check "up --keep that fails: the directory and its logs stay" [ -f "$TMP/k1/service.log" ]
check "supervisor log after a failed start: no sanitizer report" sanitizer_clean "$TMP/k1/supervisor.log"
rm -rf "$TMP/k1"

# --- 7. bad input: one line, exit 2 (usage) or 3 (environment), nothing left running ----------
# bad_case NAME EXIT MESSAGE_PART ARGS...
bad_case() {
    local name=$1 want_rc=$2 want=$3 rc lines
    shift 3
    "$BRINK" stack "$@" >"$TMP/b.out" 2>"$TMP/b.err"
    rc=$?
    lines=$(wc -l <"$TMP/b.err")
    local left
    left=$(leftovers)
    if [ $rc -eq "$want_rc" ] && [ "$lines" -eq 1 ] && grep -qF -- "$want" "$TMP/b.err" &&
        [ ! -s "$TMP/b.out" ] && [ -z "$left" ]; then
        ok "bad input: $name → exit $want_rc, one line, nothing left running"
    else
        not_ok "bad input: $name (exit $rc, $lines lines, left:$left)"
        sed 's/^/#   /' "$TMP/b.err" | head -5
    fi
}
touch "$TMP/afile"
bad_case "unwritable --dir" 3 "cannot create stack directory" up --service none --dir "$TMP/afile/sub"
mkdir -p "$TMP/full" && touch "$TMP/full/x"
bad_case "non-empty --dir" 3 "is not empty" up --service none --dir "$TMP/full"
start_srv busy || exit 1
bad_case "busy --pg-port" 3 "port $PORT_busy for PostgreSQL is already in use" up --service none --dir "$TMP/b1" --pg-port "$PORT_busy"
bad_case "busy --redis-port" 3 "port $PORT_busy for Redis is already in use" up --service none --dir "$TMP/b2" --redis-port "$PORT_busy"
bad_case "busy --service-port" 3 "port $PORT_busy for the service is already in use" up --dir "$TMP/b3" --service "$TESTSRV --port {port}" --service-port "$PORT_busy"
bad_case "service binary missing" 3 "service command not found: $TMP/no-such-service" up --dir "$TMP/b4" --service "$TMP/no-such-service --listen {listen}"
bad_case "service never ready" 3 "service did not become ready within 1.0s" \
    up --dir "$TMP/b5" --ready-timeout 1s --service "$TESTSRV --listen 127.0.0.1 --port 0 --max-seconds 60 --count-file $TMP/never"
bad_case "service exits at once (its log shown)" 3 "last log lines: " \
    up --dir "$TMP/b6" --service "$TESTSRV --no-such-flag $TMP/x"
bad_case "unknown placeholder" 3 "unknown placeholder {prot}" up --dir "$TMP/b7" --service "$TESTSRV --port {prot}"
BRINK_PG_BINDIR=$TMP/nope bad_case "PostgreSQL binaries missing (BRINK_PG_BINDIR)" 3 "install the Debian package postgresql" up --service none --dir "$TMP/b8"
BRINK_REDIS_SERVER=$TMP/nope bad_case "redis-server missing" 3 "install the Debian package redis-server" up --service none --dir "$TMP/b9"
bad_case "unknown option" 2 "unknown option '--frobnicate'" up --frobnicate
bad_case "bad profile" 2 "unknown profile 'fast'" up --profile fast
bad_case "bad port" 2 "--pg-port" up --pg-port 70000
bad_case "bad ready timeout" 2 "--ready-timeout" up --ready-timeout soon
bad_case "missing subcommand" 2 "missing subcommand" 
bad_case "unknown subcommand" 2 "unknown subcommand 'upp'" upp
bad_case "fault: unknown operation" 2 "unknown fault operation 'explode'" fault postgres explode
bad_case "fault: unknown target" 2 "unknown fault target 'mysql'" fault mysql kill
bad_case "down: --dir and --state" 2 "either --dir or --state" down --dir a --state b
check "no directory left by the failed starts" [ -z "$(ls -d "$TMP"/b[0-9] "$TMP"/brink-stack-* 2>/dev/null)" ]
if [ -x "$BUILD/dispatchd" ] || [ -x "$ROOT/bin/dispatchd" ]; then
    # the default service: the reference dispatchd, given only the proxies' addresses
    S5=$(exec "$BRINK" stack up --dir "$TMP/s5" --profile untuned 2>"$TMP/up5.err")
    STATES+=("$S5")
    if [ -f "$S5" ]; then
        jqcheck "default service: dispatchd with the proxies' addresses and --untuned" "$S5" \
            '. as $s | ($s.service.command[0] | endswith("dispatchd")) and ($s.service.command | index(["--pg", $s.postgres.service_url]) != null) and ($s.service.command | index(["--redis", $s.redis.service_url]) != null) and $s.service.command[-1] == "--untuned"'
        "$BRINK" stack status --dir "$TMP/s5" >"$TMP/status5.out" 2>&1
        check "default service: stack status exits 0" [ $? -eq 0 ]
        # dispatchd reaches Redis through the proxy with the password, which it reads from a file
        RPWF5=$(jq -r '.redis.password_file // empty' "$S5")
        check "default service: dispatchd's --redis is the proxy's service_url, no password on its command line" \
            jqt '. as $s | ($s.service.command | index(["--redis", $s.redis.service_url]) != null) and ([$s.service.command[] | select(contains($pw))] | length == 0)' \
            "$S5" --arg pw "$(head -1 "$RPWF5" 2>/dev/null)"
        if [ -s "$RPWF5" ]; then
            check "default service: the Redis password is on no process's command line" [ -z "$(in_cmdline "$RPWF5")" ]
            check "default service: the Redis password is in no log of the stack" \
                not grep -rqFf <(head -1 "$RPWF5") "$TMP/s5" --include='*.log'
        else
            not_ok "default service: the state file names the Redis password file"
        fi
        if [ "$(id -u)" = 0 ]; then
            check "as root, dispatchd runs as an unprivileged account ($(user_of "$(jq .service.pid "$S5")"))" \
                [ "$(user_of "$(jq .service.pid "$S5")")" != root ]
            check "as root, redis-server runs as an unprivileged account" \
                [ "$(user_of "$(jq .redis.pid "$S5")")" != root ]
        fi
        "$BRINK" stack down --dir "$TMP/s5" >/dev/null 2>&1
        check "default service: down removes everything" [ ! -e "$TMP/s5" ]
    else
        not_ok "stack up with the default service: $(cat "$TMP/up5.err")"
    fi
else
    bad_case "default service not built" 3 "--service none" up --dir "$TMP/b10"
fi

# --- 8. as root: the postgres account must reach the directory; and the cycle as a normal user --
if [ "$(id -u)" = 0 ]; then
    mkdir -m 700 "$TMP/private"
    bad_case "root: directory the postgres account cannot reach" 3 "the postgres account cannot reach" \
        up --service none --dir "$TMP/private/s"
    rmdir "$TMP/private" 2>/dev/null
    if id nobody >/dev/null 2>&1 && command -v runuser >/dev/null; then
        mkdir -m 700 "$TMP/nobody" && chown nobody "$TMP/nobody"
        # the cycle, run by the nobody account: exits with the number of the step that failed
        user_cycle() {
            local S pids p
            S=$(exec "$BRINK" stack up --service none) || exit 1
            fail() { "$BRINK" stack down >/dev/null 2>&1; exit "$1"; } # nothing left behind
            [ "$(psql "$(jq -r .postgres.proxy_url "$S")" -tAc 'select current_user')" = brink ] || fail 2
            "$BRINK" stack status >/dev/null || fail 3
            REDISCLI_AUTH=$(cat "$(jq -r .redis.password_file "$S")") || fail 7
            export REDISCLI_AUTH
            [ "$(redis-cli -p "$(jq -r .redis.port "$S")" ping)" = PONG ] || fail 8
            pids=$(jq -r '.processes[].pid' "$S")
            "$BRINK" stack down >/dev/null || exit 4
            for p in $pids; do [ -e "/proc/$p" ] && exit 5; done
            [ ! -e "$(dirname "$S")" ] || exit 6
        }
        out=$(runuser -u nobody -- env -i PATH="$PATH" TMPDIR="$TMP/nobody" ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
            BRINK="$BRINK" bash -c "$(declare -f alive user_cycle); user_cycle" 2>&1)
        rc=$?
        if [ $rc -eq 0 ]; then
            ok "as an unprivileged user: up, query through the proxy, status, down, nothing left"
        else
            not_ok "as an unprivileged user: step $rc failed: $out"
        fi
    else
        ok "as an unprivileged user # SKIP no nobody account or no runuser"
    fi
else
    ok "root-only checks # SKIP not root"
fi

left=$(leftovers)
check "nothing of any stack is left running at the end${left:+:$left}" [ -z "$left" ]
