# lib.bash — shared helpers for brink's integration tests (sourced, not run).
# Each test prints TAP-like lines: "ok - name" / "not ok - name"; tests/run counts them.
# Servers started here are bounded (--max-seconds) and killed on exit; traffic stays on loopback.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BRINK_BUILD:-build/asan}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
BRINK=$BUILD/brink
TESTSRV=$BUILD/servers/testsrv
TMP=$(mktemp -d /tmp/brink-test.XXXXXX)
PIDS=()

cleanup() {
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
# jqcheck NAME FILE EXPR: ok when jq -e EXPR on FILE is true; prints the values otherwise
jqcheck() {
    local name=$1 file=$2 expr=$3
    if jq -e "$expr" "$file" >/dev/null 2>&1; then
        ok "$name"
    else
        not_ok "$name"
        echo "#   jq: $expr"
        jq -c '.stats' "$file" 2>&1 | sed 's/^/#   stats: /' | head -5
    fi
}

# start_srv NAME [testsrv options]: starts a test server; sets PORT_<NAME> and PID_<NAME>
start_srv() {
    local name=$1
    shift
    local pf=$TMP/$name.port
    "$TESTSRV" --port 0 --port-file "$pf" --max-seconds 120 "$@" >"$TMP/$name.out" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    for _ in $(seq 1 200); do
        [ -s "$pf" ] && break
        sleep 0.02
    done
    if [ ! -s "$pf" ]; then
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
