# lib.bash — shared helpers for brink's integration tests (sourced, not run).
# Each test prints TAP-like lines: "ok - name" / "not ok - name"; tests/run counts them.
# Servers and stacks started here are bounded (--max-seconds) and stopped on exit, whatever
# happens; traffic stays on loopback. Test files run in parallel (tests/run -j): everything a test
# makes lives in its own $TMP, every port is picked free, and nothing is shared between files.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BRINK_BUILD:-build/asan}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
BRINK=$BUILD/brink
TESTSRV=$BUILD/servers/testsrv
DISPATCHD=$BUILD/dispatchd
TMP=$(mktemp -d /tmp/brink-test.XXXXXX)
PIDS=()    # processes to stop on exit (SIGTERM)
DD_PIDS=() # dispatchd instances (start_dd): SIGKILLed on exit
STATES=()  # state files of the embedded stacks this test started: brought down on exit

cleanup() {
    local p s
    for p in "${DD_PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
    for s in "${STATES[@]:-}"; do
        [ -n "$s" ] && [ -f "$s" ] && "$BRINK" stack down --state "$s" >/dev/null 2>&1
    done
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
# check NAME COMMAND...: ok when the command succeeds
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else not_ok "$name"; fi
}
# all CMD [-- CMD]...: true when every command succeeds (several conditions for one check)
all() {
    local cmd=() a
    for a in "$@"; do
        if [ "$a" = -- ]; then
            "${cmd[@]}" || return 1
            cmd=()
        else
            cmd+=("$a")
        fi
    done
    [ ${#cmd[@]} -eq 0 ] || "${cmd[@]}"
}
# quietly CMD...: the command, its output dropped
quietly() { "$@" >/dev/null 2>&1; }
# not CMD...: true when the command fails
not() { ! "$@"; }
# has FILE PATTERN...: FILE has a line matching each PATTERN (grep's basic regular expressions)
has() {
    local p
    for p in "${@:2}"; do grep -q -e "$p" "$1" || return 1; done
}
# first_line FILE PATTERN, last_line FILE PATTERN: its first (last) line matches PATTERN
first_line() { head -1 "$1" | grep -q -e "$2"; }
last_line() { tail -1 "$1" | grep -q -e "$2"; }
# prints PATTERN COMMAND...: the command's output (stdout) has a line matching PATTERN (grep's)
prints() { "${@:2}" | grep -q -e "$1"; }
# in_text TEXT REGEX: true when a line of TEXT matches the extended REGEX
in_text() { grep -qE -e "$2" <<<"$1"; }
# lines FILE: its number of lines
lines() { wc -l <"$1"; }
# jqt EXPR FILE [jq options]: true when jq -e EXPR holds on FILE
jqt() { jq -e "$1" "$2" "${@:3}" >/dev/null 2>&1; }
# jqcheck NAME FILE EXPR: ok when jq -e EXPR on FILE is true; prints the values otherwise
jqcheck() {
    local name=$1 file=$2 expr=$3
    if jqt "$expr" "$file"; then
        ok "$name"
    else
        not_ok "$name"
        echo "#   jq: $expr"
        jq -c '.stats, .status // empty' "$file" 2>&1 | sed 's/^/#   stats, status: /' | head -5
        return 1
    fi
}
# http_status URL [curl options]: the status code of a GET (000 when nothing answered)
http_status() { curl -s --max-time 5 -o /dev/null -w '%{http_code}' "${@:2}" "$1"; }
# http_jq URL EXPR: true when the body of a GET satisfies jq -e EXPR
http_jq() { curl -s --max-time 5 "$1" | jq -e "$2" >/dev/null 2>&1; }

# refuses NAME EXIT WANT COMMAND...: ok "NAME → exit EXIT, one line" when COMMAND exits EXIT with
# exactly one line on stderr that contains WANT; otherwise not ok with the status, the line count
# and stderr. REFUSES_ALSO names a command that must succeed too (it may set REFUSES_NOTE, shown
# when not ok), REFUSES_SAYS what the ok line adds. The output is kept in $TMP/refused.out and
# $TMP/refused.err.
refuses() {
    local name=$1 want_rc=$2 want=$3 rc n also=0
    shift 3
    "$@" >"$TMP/refused.out" 2>"$TMP/refused.err"
    rc=$?
    n=$(lines "$TMP/refused.err")
    REFUSES_NOTE=
    ${REFUSES_ALSO:-true} || also=1
    if [ $rc -eq "$want_rc" ] && [ "$n" -eq 1 ] && grep -qF -- "$want" "$TMP/refused.err" && [ $also = 0 ]; then
        ok "$name → exit $want_rc, one line${REFUSES_SAYS:-}"
    else
        not_ok "$name (exit $rc, $n lines$REFUSES_NOTE)"
        sed 's/^/#   /' "$TMP/refused.err" | head -5
    fi
}

# help_says ARGS... -- WANT...: `brink ARGS` (a --help) exits 0, prints nothing wider than 80
# columns, and its output (stdout and stderr) contains "-h, --help" and every WANT: a fixed string,
# or a WANT that starts with ^, a regular expression (e.g. "^Usage: brink load ")
help_says() {
    local args=() out rc wide w missing=""
    while [ "$1" != -- ]; do
        args+=("$1")
        shift
    done
    shift
    out=$("$BRINK" "${args[@]}" 2>&1)
    rc=$?
    wide=$(LC_ALL=C.UTF-8 awk '{ if (length($0) > 80) print }' <<<"$out" | head -1)
    for w in "-h, --help" "$@"; do
        if [ "${w:0:1}" = "^" ]; then
            grep -q -e "$w" <<<"$out" || missing+=" '$w'"
        else
            grep -qF -- "$w" <<<"$out" || missing+=" '$w'"
        fi
    done
    if [ $rc -eq 0 ] && [ -z "$wide" ] && [ -z "$missing" ]; then
        ok "brink ${args[*]}: exit 0, at most 80 columns, says what it must"
    else
        not_ok "brink ${args[*]}: exit $rc; too wide: '$wide'; missing:$missing"
    fi
}

# wait_for SECONDS COMMAND...: polls the command (every 50 ms) until it succeeds; false when it
# still fails after SECONDS
wait_for() {
    local end=$((${EPOCHREALTIME/./} + $1 * 1000000))
    shift
    until "$@"; do
        [ "${EPOCHREALTIME/./}" -lt "$end" ] || return 1
        sleep 0.05
    done
}
# wait_line FILE REGEX: waits (at most 10 s) until FILE has a line matching REGEX
wait_line() { wait_for 10 grep -qE "$2" "$1" 2>/dev/null; }
# alive PID: the process exists and is not a zombie
alive() {
    local st
    { read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
    st=${st##*) }
    st=${st%% *}
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
none_alive() { # PIDS...: true when none of them is alive
    local p
    for p in "$@"; do alive "$p" && return 1; done
    return 0
}
# all_gone_within SECONDS PIDS...: true when none of the pids is alive within the time
all_gone_within() { wait_for "$1" none_alive "${@:2}"; }
# wait_exit PID SECONDS: waits for a process we started to end; its status in WAIT_RC
wait_exit() {
    if ! wait_for "$2" not kill -0 "$1" 2>/dev/null; then
        WAIT_RC=timeout
        return 1
    fi
    wait "$1"
    WAIT_RC=$?
}
# stop PID...: SIGTERM, then waits (at most 5 s each) for them to end
stop() {
    local p
    for p in "$@"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    for p in "$@"; do [ -n "$p" ] && wait_exit "$p" 5; done
    return 0
}

# free_port: a loopback port nothing listens on
free_port() {
    local p low=32768
    # below the kernel's ephemeral range: a port that bind(0) or an outgoing connection of a test
    # running in parallel could take between this check and the server's bind
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
    [ "$low" -gt 21024 ] || low=32768
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % (low - 20000)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# start_srv NAME [testsrv options]: starts a test server; sets PORT_<NAME> and PID_<NAME>
start_srv() {
    local name=$1
    shift
    local pf=$TMP/$name.port
    "$TESTSRV" --port 0 --port-file "$pf" --max-seconds 120 "$@" >"$TMP/$name.out" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    if ! wait_for 4 test -s "$pf"; then
        echo "# could not start testsrv $*: $(cat "$TMP/$name.out")"
        return 1
    fi
    printf -v "PORT_$name" '%s' "$(cat "$pf")"
    printf -v "PID_$name" '%s' "$pid"
}
# srv_count PORT [HOST]: the server's own request count
srv_count() {
    local host=${2:-127.0.0.1}
    curl -s --max-time 5 "http://$host:$1/count"
}

# ---- the embedded stack -----------------------------------------------------------------------

# stack_up VAR NAME [brink stack up options]: a stack in $TMP/NAME, its state file in $VAR;
# brought down on exit. Not in a subshell: STATES must see it, or the stack outlives the test.
stack_up() {
    local var=$1 name=$2 s
    shift 2
    chmod 711 "$TMP" # the postgres account must reach the stack's directory
    # exec: brink is this shell's child, and so is the stack's supervisor (its sibling), which
    # this shell then collects the moment it exits (a subshell's would wait for PID 1)
    if ! s=$(exec "$BRINK" stack up --dir "$TMP/$name" "$@" 2>"$TMP/$name.err"); then
        echo "# stack up $name: $(head -c 400 "$TMP/$name.err")" >&2
        return 1
    fi
    STATES+=("$s")
    printf -v "$var" '%s' "$s"
}
# stack_env STATE: the variables of that stack for sql, rcli and start_dd: PG_URL (through the
# fault proxy, no password), PG_DIRECT, REDIS_URL and REDIS_PROXY (directly and through the proxy,
# no password), REDIS_PORT, SECRET_FILE, API (the proxies' control API), STACK_DIR; the passwords'
# PGPASSFILE, REDISCLI_AUTH (redis-cli's) and DISPATCHD_REDIS_PASSWORD_FILE, and dispatchd's
# DISPATCHD_PG, DISPATCHD_REDIS (through the proxies) and DISPATCHD_SECRET_FILE are exported.
stack_env() {
    local s=$1
    export PGPASSFILE REDISCLI_AUTH DISPATCHD_REDIS_PASSWORD_FILE
    PGPASSFILE=$(jq -r .postgres.pgpass_file "$s")
    DISPATCHD_REDIS_PASSWORD_FILE=$(jq -r .redis.password_file "$s")
    REDISCLI_AUTH=$(head -1 "$DISPATCHD_REDIS_PASSWORD_FILE")
    PG_URL=$(jq -r .postgres.service_url "$s")
    PG_DIRECT="postgresql://brink@127.0.0.1:$(jq -r .postgres.port "$s")/brink"
    REDIS_URL="redis://127.0.0.1:$(jq -r .redis.port "$s")"
    REDIS_PROXY=$(jq -r .redis.service_url "$s")
    REDIS_PORT=$(jq -r .redis.port "$s")
    SECRET_FILE=$(jq -r .service.secret_file "$s")
    API=$(jq -r .proxies.api "$s")
    STACK_DIR=$(dirname "$s")
    export DISPATCHD_PG=$PG_URL DISPATCHD_REDIS=$REDIS_PROXY DISPATCHD_SECRET_FILE=$SECRET_FILE
}
# rcli_url URL ARGS...: redis-cli against a redis:// URL; a password in the URL is handed over in
# REDISCLI_AUTH (redis-cli -u with a password warns on stderr, and it would be on a command line)
rcli_url() {
    local u=$1 pw=
    if [[ $u =~ ^redis://([^@/]*)@(.*)$ ]]; then
        pw=${BASH_REMATCH[1]#*:}
        u=redis://${BASH_REMATCH[2]}
    fi
    if [ -n "$pw" ]; then REDISCLI_AUTH=$pw redis-cli -u "$u" "${@:2}"; else redis-cli -u "$u" "${@:2}"; fi
}
# sql QUERY: psql against the stack's PostgreSQL (directly), unaligned, errors in $TMP/psql.err
sql() { psql "$PG_DIRECT" -X -q -t -A -v ON_ERROR_STOP=1 -c "$1" 2>>"$TMP/psql.err"; }
# rcli ARGS...: redis-cli against the stack's Redis (directly)
rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
# wait_sql QUERY EXPECTED SECONDS: polls until the query's answer is EXPECTED
wait_sql() {
    wait_for "$3" sql_is "$1" "$2" && return 0
    echo "#   $1 → $SQL_GOT (expected $2)"
    return 1
}
sql_is() { # QUERY EXPECTED: the query's answer (in SQL_GOT) is EXPECTED
    SQL_GOT=$(sql "$1")
    [ "$SQL_GOT" = "$2" ]
}
# metric PORT NAME: the value of one sample of the /metrics page on 127.0.0.1:PORT
metric() { curl -s --max-time 5 "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }
# toxic PROXY NAME TYPE STREAM ATTRIBUTES: adds a toxic through the stack's proxy API;
# untoxic PROXY NAME removes it
toxic() {
    curl -s -o /dev/null -XPOST "$API/proxies/$1/toxics" \
        -d "{\"name\":\"$2\",\"type\":\"$3\",\"stream\":\"$4\",\"attributes\":$5}"
}
untoxic() { curl -s -o /dev/null -XDELETE "$API/proxies/$1/toxics/$2"; }

# start_dd NAME [flags]: starts dispatchd on a free port (on the stack of stack_env, or the
# --pg/--redis/--secret-file given), waits for /readyz (with START_DD_UNTIL=dd_listening: only
# for its port); sets PORT_<NAME> and PID_<NAME>; its log is $TMP/NAME.log
start_dd() {
    local name=$1
    shift
    local pf=$TMP/$name.port pid i
    rm -f "$pf"
    "$DISPATCHD" --listen 127.0.0.1:0 --port-file "$pf" "$@" >>"$TMP/$name.log" 2>&1 &
    pid=$!
    DD_PIDS+=("$pid")
    for ((i = 0; i < 400; i++)); do # 20 s: an ASan build on a busy machine
        "${START_DD_UNTIL:-dd_ready}" "$pf" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if ! "${START_DD_UNTIL:-dd_ready}" "$pf"; then
        echo "# dispatchd $name did not become ready: $(tail -5 "$TMP/$name.log")"
        return 1
    fi
    printf -v "PORT_$name" '%s' "$(cat "$pf")"
    printf -v "PID_$name" '%s' "$pid"
}
# dd_ready PORT_FILE: the dispatchd that writes PORT_FILE answers /readyz with 200
dd_ready() { [ -s "$1" ] && curl -sf --max-time 2 "http://127.0.0.1:$(cat "$1")/readyz" >/dev/null; }
dd_listening() { [ -s "$1" ]; } # PORT_FILE: it listens

# ---- webhooks -----------------------------------------------------------------------------------

# order_body ID [QTY [PRICE_CENTS [EXTRA]]]: an order.created body (EXTRA: more top-level keys)
order_body() {
    local qty=${2:-1} price=${3:-100}
    printf '{"type":"order.created","data":{"order_id":"%s","customer_id":"c1","items":[{"sku":"s","qty":%d,"price_cents":%d}],"total_cents":%d}%s}' \
        "$1" "$qty" "$price" $((qty * price)) "${4:+,$4}"
}
# secret_hex [FILE]: the HMAC key of a whsec_ secret file ($SECRET_FILE), in hex
secret_hex() { sed 's/^whsec_//' "${1:-$SECRET_FILE}" | tr -d '\n' | base64 -d 2>/dev/null | od -An -tx1 | tr -d ' \n'; }
# sig_of HEXKEY ID TS BODY: a Standard Webhooks signature (base64)
sig_of() {
    printf '%s.%s.%s' "$2" "$3" "$4" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" -binary | base64 -w0
}
# post PORT ID BODY [TS] [SIGNATURE-HEADER] [EXTRA CURL ARGS...]: a webhook to dispatchd, signed
# with $SECRET_FILE unless a signature is given ("-" leaves a header out); prints the status, the
# body in $TMP/resp; Content-Type from $CT (application/json)
post() {
    local port=$1 id=$2 body=$3 ts=${4:-$(date +%s)} sig=${5:-}
    shift 5 2>/dev/null || shift $#
    [ -z "$sig" ] && sig="v1,$(sig_of "$(secret_hex)" "$id" "$ts" "$body")"
    local hdr=(-H "Content-Type: ${CT:-application/json}")
    [ "$id" != - ] && hdr+=(-H "webhook-id: $id")
    [ "$ts" != - ] && hdr+=(-H "webhook-timestamp: $ts")
    [ "$sig" != - ] && hdr+=(-H "webhook-signature: $sig")
    curl -s --max-time 10 -o "$TMP/resp" -w '%{http_code}' "${hdr[@]}" "$@" \
        --data-binary "$body" "http://127.0.0.1:$port/webhooks/orders"
}
# webhook_load PORT PREFIX JSON [brink load options]: signed order.created webhooks (order_id
# PREFIX-{{seq}}) to dispatchd on PORT with $SECRET_FILE; the result in JSON, the output in JSON.out
webhook_load() {
    local port=$1 prefix=$2 json=$3
    shift 3
    "$BRINK" load "$@" -m POST -H 'Content-Type: application/json' -b "$(order_body "$prefix-{{seq}}")" \
        --sign standard-webhooks --secret-file "$SECRET_FILE" -q --json "$json" \
        "http://127.0.0.1:$port/webhooks/orders" >"$json.out" 2>&1
}
# n2xx JSON: the 2xx answers of a brink load document
n2xx() { jq -r '[.status // {} | to_entries[] | select(.key | test("^2")) | .value] | add // 0' "$1" 2>/dev/null; }
# accept_race PORT ORDERS VENDORS PREFIX ID_REGEX NAME DB_NAME: servers/dispatchd_race's VENDORS
# at once on each of the ORDERS orders PREFIX<i> of dispatchd on PORT; ok NAME (with its summary)
# when each order had one winner whom every loser's 409 names, ok DB_NAME when the database agrees
accept_race() {
    local out=$TMP/race-$4out summary
    "$BUILD/servers/dispatchd_race" --port "$1" --orders "$2" --vendors "$3" --prefix "$4" >"$out" 2>&1
    summary=$(tail -1 "$out")
    check "$6 ($summary)" [ "$summary" = "summary orders $2 single $2 double 0 none 0 inconsistent 0 other 0" ]
    check "$7" race_agrees "$out" "$5"
}
race_agrees() { # RACE_OUT ID_REGEX: the winners dispatchd_race saw are those the database stored
    awk '$1 == "order" { print $2 "|" $10 }' "$1" | sort >"$1.http"
    sql "select o.order_id || '|' || o.vendor_id from orders o join order_assignments a on a.order_id = o.order_id and a.vendor_id = o.vendor_id where o.order_id ~ '$2' and o.status = 'accepted'" | sort >"$1.db"
    [ -s "$1.http" ] && cmp -s "$1.http" "$1.db"
}

# ---- dispatchd ----------------------------------------------------------------------------------

# dd_stack [brink stack up options]: the embedded stack for a dispatchd test (default: without a
# service) in $TMP/stack, with its variables (stack_env); ends the test when it cannot start
dd_stack() {
    local opts=("$@")
    [ $# -eq 0 ] && opts=(--service none)
    if [ ! -x "$DISPATCHD" ]; then
        not_ok "dispatchd is built in $BUILD"
        exit 0
    fi
    if ! stack_up STATE stack "${opts[@]}" 2>"$TMP/stack_up.err"; then
        not_ok "brink stack up ${opts[*]}: $(cat "$TMP/stack_up.err")"
        exit 0
    fi
    stack_env "$STATE"
    ok "the stack is up (brink stack up ${opts[*]})"
}
# dd_logs_check: no secret or signature in any dispatchd log of this test ($TMP/*.log), and
# every line of them has a timestamp and a level
dd_logs_check() {
    local secret_b64
    secret_b64=$(sed 's/^whsec_//' "$SECRET_FILE" | tr -d '\n')
    if grep -qF -e "$secret_b64" -e 'v1,' "$TMP"/*.log; then
        not_ok "no secret or signature in dispatchd's logs"
    else
        ok "no secret or signature in dispatchd's logs"
    fi
    if grep -vHE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z (debug|info|warn|error) ' "$TMP"/*.log >"$TMP/badlines"; then
        not_ok "every log line has a timestamp and a level"
        head -5 "$TMP/badlines" | sed 's/^/#   /'
    else
        ok "every log line has a timestamp and a level"
    fi
}

# ---- brink's tests as a user runs them --------------------------------------------------------

# brink_run NAME ARGS...: runs brink ARGS --json $TMP/NAME.json (at most RUN_LIMIT s, 150), its
# output in $TMP/NAME.out, its exit status in $TMP/NAME.rc (see rc NAME); prints "# NAME: exit N
# in S s" and what the document says (RUN_SUMMARY, a jq filter: by default the red thresholds),
# or the output's tail when there is no document
brink_run() {
    local name=$1 t0=$SECONDS
    shift
    timeout -k 5 "${RUN_LIMIT:-150}" "$BRINK" "$@" --json "$TMP/$name.json" >"$TMP/$name.out" 2>&1
    echo $? >"$TMP/$name.rc"
    echo "# $name: exit $(rc "$name") in $((SECONDS - t0)) s"
    if [ -s "$TMP/$name.json" ]; then
        jq -r "${RUN_SUMMARY:-$RED_SUMMARY}" "$TMP/$name.json" | sed 's/^/#   /'
    else
        tail -5 "$TMP/$name.out" | sed 's/^/#   /'
    fi
}
# brink_run_bg NAME ARGS...: brink_run in the background (its own embedded stack: the runs of a
# file that are light — a few hundred requests a second — overlap instead of queueing); then
# brink_wait prints what each printed, in the order they were started
BG_RUNS=()
brink_run_bg() {
    brink_run "$@" >"$TMP/$1.bg" 2>&1 &
    BG_RUNS+=("$1:$!")
}
brink_wait() {
    local r
    for r in "${BG_RUNS[@]}"; do
        wait "${r##*:}"
        cat "$TMP/${r%:*}.bg"
    done
    BG_RUNS=()
}
RED_SUMMARY='"red: " + ([.thresholds[] | select(.status == "red") | "\(.metric) \(.value)"] | join(", "))'
rc() { cat "$TMP/$1.rc"; }
# verdict_ok NAME METRIC...: brink_run NAME ended green (exit 0), or red (exit 99) on none but the
# METRICs given: the timing verdicts a busy machine can turn in a test's short phases (a recovery
# not seen within a 6 s phase), where the test is about something else
verdict_ok() {
    local name=$1
    shift
    case "$(rc "$name")" in
    0) return 0 ;;
    99) jq -e '[.thresholds[] | select(.status == "red") | .metric] - $ARGS.positional | length == 0' \
        "$TMP/$name.json" --args "$@" >/dev/null 2>&1 ;;
    *) return 1 ;;
    esac
}
# needs_dispatchd WHAT: ends the test (skipped) when brink or dispatchd is not built
needs_dispatchd() {
    if [ ! -x "$BRINK" ]; then
        not_ok "brink is built in $BUILD"
        exit 0
    fi
    if [ ! -x "$DISPATCHD" ] && [ ! -x "$ROOT/bin/dispatchd" ]; then
        echo "ok - $1 # SKIP dispatchd is not built"
        exit 0
    fi
}
# the resilience tests' short phases (1 s warm-up, 3 s baseline, 5 s fault, 8 s recovery: about
# 20 s a run) and their summary of a run. The tuned runs, which must recover (back to the
# baseline's errors and p99 for 3 s), get 12 s of recovery: a machine busy with other tests slows
# PostgreSQL's and the pool's return for a few seconds.
RESIL_PHASES=(--warmup 1s --baseline 2s --fault 5s --recovery 8s --drain-timeout 20s -q)
RESIL_TUNED=(--warmup 1s --baseline 2s --fault 5s --recovery 12s --drain-timeout 20s -q)
RESIL_SUMMARY='(.stats | {outage_error_rate, outage_p99_ms, outage_timeouts, max_backlog, drain_s,
    downtime_s, recovery_s, pool_recovery_s, accepted, lost, duplicated, integrity_violations} | tojson),
    "errors by phase: " + ([.phases[]? | "\(.name) \(.errors_by_class // {} | tojson)"] | join(", "))'
