# stack_deps.sh — `brink stack fault TARGET OP --config FILE`: process faults on a user's own
# stack, here a redis-server that the test manages itself (daemonized, on a free loopback port)
# through the commands of a dependencies: file. start → ready and PING answers; kill → down and
# PING fails; start; stop; restart → ready again, a new process; the JSON line has the embedded
# stack's keys and ordered timestamps; errors: an operation without its command, a start of a
# running server, a stop of a stopped one (exit 3), a bad file (exit 2, one line naming file, line
# and key). No redis-server is left running at the end, whatever happens (trap).
. "$(dirname "$0")/lib.bash"

REDIS_SERVER=$(command -v redis-server || echo /usr/bin/redis-server)
REDIS_CLI=$(command -v redis-cli || echo /usr/bin/redis-cli)
if [ ! -x "$REDIS_SERVER" ] || [ ! -x "$REDIS_CLI" ]; then
    echo "ok - stack fault --config # SKIP redis-server/redis-cli not installed (scripts/install-deps)"
    exit 0
fi

P=$(free_port) || {
    not_ok "no free loopback port"
    exit 1
}
echo "# the user-managed redis-server: 127.0.0.1:$P"

# our_redis: pids of live redis-servers on our port (their title is "redis-server 127.0.0.1:P")
our_redis() {
    local p comm out=""
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        { read -r comm <"/proc/$p/comm"; } 2>/dev/null && [ "$comm" = redis-server ] || continue
        alive "$p" || continue
        tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q ":$P\b" && out+=" $p"
    done
    echo "$out"
}
cleanup_redis() {
    local p
    for p in $(our_redis); do kill -9 "$p" 2>/dev/null; done
    cleanup
}
trap cleanup_redis EXIT

jqe() { jq -e "$1" "$2" >/dev/null 2>&1; }
ping() { timeout 5 "$REDIS_CLI" -p "$P" ping 2>/dev/null; }
# fault NAME OP [CONFIG]: runs brink stack fault, JSON in $TMP/out.json, stderr in $TMP/err, $RC
fault() {
    timeout 120 "$BRINK" stack fault "$1" "$2" --config "${3:-$CFG}" >"$TMP/out.json" 2>"$TMP/err"
    RC=$?
}
# fault_ok NAME: the fault exited 0 with one JSON line, "ok": true; prints the error otherwise
fault_ok() {
    if [ $RC -eq 0 ] && [ "$(wc -l <"$TMP/out.json")" -eq 1 ] && jq -e '.ok == true' "$TMP/out.json" >/dev/null; then
        ok "$1"
    else
        not_ok "$1 (exit $RC): $(cat "$TMP/err") $(cat "$TMP/out.json")"
    fi
}
AT='test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$")'

CFG=$TMP/deps.yaml
cat >"$CFG" <<EOF
# a user's own Redis, managed by the user's commands
dependencies:
  redis:
    start_cmd: $REDIS_SERVER --port $P --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --pidfile $TMP/r.pid --dir $TMP --logfile $TMP/r.log
    stop_cmd: $REDIS_CLI -p $P shutdown nosave
    kill_cmd: sh -c "kill -9 \$(cat $TMP/r.pid)"
    ready_check: redis://127.0.0.1:$P
    timeout: 10s
EOF

# --- help and usage ---------------------------------------------------------------------------
"$BRINK" stack --help >"$TMP/help" 2>&1
check "stack --help documents --config" grep -q -- "--config FILE" "$TMP/help"
timeout 30 "$BRINK" stack fault redis start --config "$CFG" --dir "$TMP" >/dev/null 2>"$TMP/err"
check "--config with --dir: exit 2" [ $? -eq 2 ]
check "before start: nothing answers on the port" [ "$(ping)" != PONG ]

# --- start ------------------------------------------------------------------------------------
fault redis start
fault_ok "start: exit 0, one JSON line"
jqcheck "start: ready_ns and ready_at set, no signal nor down (as for the embedded stack)" "$TMP/out.json" "
  .target == \"redis\" and .op == \"start\" and (.ready_ns | type) == \"number\" and
  (.ready_at | $AT) and .signal_ns == null and .down_ns == null and .pid_before == null and
  .pid_after == null and (.error | not) and has(\"downtime_s\")"
check "start: PING answers PONG" [ "$(ping)" = PONG ]
PID1=$(cat "$TMP/r.pid" 2>/dev/null)
check "start: the server runs detached (pid file, alive)" alive "${PID1:-0}"

fault redis start
check "start of a running server: exit 3" [ $RC -eq 3 ]
check "start of a running server: the error says so" \
    jqe '.ok == false and (.error | test("already running"))' "$TMP/out.json"
check "start of a running server: one line on stderr" \
    all [ "$(lines "$TMP/err")" -eq 1 ] -- grep -q 'already running' "$TMP/err"

# --- kill -------------------------------------------------------------------------------------
fault redis kill
fault_ok "kill: exit 0"
jqcheck "kill: signal then down, no ready" "$TMP/out.json" "
  .op == \"kill\" and .signal_ns > 0 and .down_ns >= .signal_ns and (.signal_at | $AT) and
  (.down_at | $AT) and .ready_ns == null and .downtime_s == null"
check "kill: PING fails" [ "$(ping)" != PONG ]
check "kill: the server process is gone" not alive "${PID1:-0}"

# --- start, stop --------------------------------------------------------------------------------
fault redis start
fault_ok "start after kill: exit 0"
check "start after kill: PING answers PONG" [ "$(ping)" = PONG ]
check "start after kill: ready_at set" jqe '.ready_ns > 0' "$TMP/out.json"

fault redis stop
fault_ok "stop: exit 0"
jqcheck "stop: signal then down" "$TMP/out.json" \
    ".op == \"stop\" and .signal_ns > 0 and .down_ns >= .signal_ns and (.down_at | $AT) and .ready_ns == null"
check "stop: PING fails" [ "$(ping)" != PONG ]
check "stop: no redis-server left on the port" [ -z "$(our_redis)" ]

fault redis stop
check "stop of a stopped server: exit 3 (its stop_cmd fails)" [ $RC -eq 3 ]
check "stop of a stopped server: the error names the command and its status" \
    jqe '.ok == false and (.error | test("redis: stop_cmd failed \\(exit status [0-9]+\\)"))' "$TMP/out.json"

# --- restart ------------------------------------------------------------------------------------
fault redis start
fault_ok "start again: exit 0"
PID2=$(cat "$TMP/r.pid" 2>/dev/null)
fault redis restart
fault_ok "restart: exit 0"
jqcheck "restart: signal, down, ready in order; downtime_s" "$TMP/out.json" "
  .op == \"restart\" and .signal_ns > 0 and .down_ns >= .signal_ns and .ready_ns >= .down_ns and
  (.signal_at | $AT) and (.down_at | $AT) and (.ready_at | $AT) and .downtime_s > 0 and
  (.downtime_s - (.ready_ns - .down_ns) / 1e9 | fabs) < 0.001"
check "restart: ready again, PING answers PONG" [ "$(ping)" = PONG ]
PID3=$(cat "$TMP/r.pid" 2>/dev/null)
check "restart: a new server process" [ -n "$PID3" -a "$PID3" != "$PID2" ]
check "restart: the old one is gone" not alive "${PID2:-0}"

# --- an operation without its command -----------------------------------------------------------
fault redis pause
check "pause without pause_cmd: exit 3, a clear error" \
    jqe ".ok == false and .error == \"redis has no pause_cmd in $CFG: add one to pause it\"" "$TMP/out.json"
check "pause without pause_cmd: redis still answers" [ "$(ping)" = PONG ]

# --- bad files: exit 2, one line naming the file, the line and the key --------------------------
bad() { # bad NAME EXPECTED-PREFIX: the config in $TMP/bad.yaml must fail so
    local name=$1 want=$2
    timeout 30 "$BRINK" stack fault redis stop --config "$TMP/bad.yaml" >"$TMP/bad.out" 2>"$TMP/bad.err"
    local rc=$?
    if [ $rc -eq 2 ] && [ ! -s "$TMP/bad.out" ] && [ "$(wc -l <"$TMP/bad.err")" -eq 1 ] &&
        grep -qF -- "$want" "$TMP/bad.err"; then
        ok "$name"
    else
        not_ok "$name (exit $rc): $(cat "$TMP/bad.err")"
    fi
}
printf 'dependencies:\n  redis:\n    ready_check: redis://127.0.0.1:%s\n    stop_cmd: [a, {b: c}]\n' "$P" >"$TMP/bad.yaml"
bad "bad config (wrong type): exit 2, FILE:LINE: KEY" \
    "$TMP/bad.yaml:4: dependencies.redis.stop_cmd: expected a string or a list of strings"
printf 'dependencies:\n  redis:\n    ready_check: redis://127.0.0.1:%s\n    stop: x\n' "$P" >"$TMP/bad.yaml"
bad "bad config (unknown key): exit 2, FILE:LINE: KEY" \
    "$TMP/bad.yaml:4: dependencies.redis.stop: unknown key"
printf 'dependencies:\n  redis:\n    ready_check: ftp://127.0.0.1:%s\n' "$P" >"$TMP/bad.yaml"
bad "bad config (ready_check scheme): exit 2" \
    "$TMP/bad.yaml:3: dependencies.redis.ready_check: unsupported ready check"
printf 'dependencies:\n  redis: {ready_check: "redis://127.0.0.1:%s"\n' "$P" >"$TMP/bad.yaml"
bad "bad config (YAML syntax): exit 2, FILE:LINE" "$TMP/bad.yaml:3: YAML syntax error"
: >"$TMP/bad.yaml"
bad "bad config (empty file): exit 2" "$TMP/bad.yaml:1: dependencies: missing"
rm -f "$TMP/bad.yaml"
bad "missing config file: exit 2" "cannot read $TMP/bad.yaml"
timeout 30 "$BRINK" stack fault postgres stop --config "$CFG" >/dev/null 2>"$TMP/err"
check "a target the file does not define: exit 2, naming what it defines" \
    all [ $? -eq 2 ] -- grep -qF "unknown fault target 'postgres' ($CFG defines redis)" "$TMP/err"
check "bad configs and unknown targets touched nothing: PING answers" [ "$(ping)" = PONG ]

# --- end: stop it through the file; nothing left running -----------------------------------------
fault redis stop
fault_ok "final stop: exit 0"
check "no redis-server left running" [ -z "$(our_redis)" ]
