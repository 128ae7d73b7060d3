# proxy_api.sh — `brink proxy` and its Toxiproxy-compatible HTTP API, driven with curl the way
# Toxiproxy's clients drive it: proxies created, listed, updated, disabled, deleted, populated;
# toxics added, updated, removed, with Toxiproxy's JSON shapes, defaults and status codes; every
# kind of bad request answered with {"error", "status"} and the right code — and after each, the
# proxy still forwards. Traffic goes only to loopback; every wait is bounded.
. "$(dirname "$0")/lib.bash"

start_srv a || exit 1
UP=127.0.0.1:$PORT_a

# --- usage errors: exit 2, one line on stderr naming the problem, nothing started
usage_case() { refuses "brink proxy $1" 2 "$2" timeout 10 "$BRINK" proxy "${@:3}"; } # NAME WANT ARGS...
usage_case "unknown flag" "unknown option '--frobnicate'" --frobnicate
usage_case "flag without value" "needs a value" --upstream
usage_case "--listen without --upstream" "needs --upstream" --listen 127.0.0.1:0
usage_case "bad --api" "invalid --api 'nonsense'" --api nonsense
usage_case "bad --upstream" "invalid --upstream" --upstream localhost
usage_case "--api that is no address of this host" "invalid --api '999.999.999.999:1'" \
    --api 999.999.999.999:1
usage_case "--listen that is no address of this host" 'invalid listen address "999.999.999.999:1"' \
    --listen 999.999.999.999:1 --upstream "$UP" --api 127.0.0.1:0
usage_case "--name with a /" "invalid proxy name 'a/b': want 1 to 63 letters, digits" \
    --name a/b --upstream "$UP" --api 127.0.0.1:0
usage_case "missing config file" "cannot read config file" --config /nonexistent/toxiproxy.json
echo '[{"name": "x"}]' >"$TMP/bad.json"
usage_case "config without upstream" "missing required field: upstream" --config "$TMP/bad.json" --api 127.0.0.1:0
usage_case "extra argument" "unexpected argument 'extra'" extra
check "brink proxy --help exits 0 and documents --api" prints '--api ADDR' "$BRINK" proxy --help
check "brink help lists proxy" prints '^  proxy ' "$BRINK" help


# --- start: an initial proxy in front of the test server, the API on a free loopback port
"$BRINK" proxy --api 127.0.0.1:0 --upstream "$UP" --name first >"$TMP/p.out" 2>"$TMP/p.err" &
BP=$!
PIDS+=("$BP")
if ! wait_line "$TMP/p.out" '^api http://'; then
    not_ok "brink proxy started (stdout: $(cat "$TMP/p.out"), stderr: $(cat "$TMP/p.err"))"
    exit 1
fi
ok "brink proxy started and printed the API address"
API=$(awk '$1 == "api" {print $2}' "$TMP/p.out")
FIRST=$(awk '$1 == "proxy" && $2 == "first" {print $3}' "$TMP/p.out")
check "API bound to loopback ($API)" in_text "$API" '^http://127\.0\.0\.1:'
check "initial proxy printed with its chosen port ($FIRST)" in_text "$FIRST" '^127\.0\.0\.1:[1-9]'

# api METHOD PATH [curl args]: the status code on stdout, the body in $TMP/body
api() {
    local m=$1 p=$2
    shift 2
    curl -s --max-time 5 -o "$TMP/body" -w '%{http_code}' -X "$m" "$@" "$API$p"
}
# expect NAME WANT_STATUS [JQ_EXPR] -- METHOD PATH [curl args]
expect() {
    local name=$1 want=$2 expr=true
    shift 2
    if [ "$1" != "--" ]; then
        expr=$1
        shift
    fi
    shift
    local got
    got=$(api "$@")
    if [ "$got" = "$want" ] && jq -e "$expr" "$TMP/body" >/dev/null 2>&1; then
        ok "$name → $want"
    else
        not_ok "$name (status $got, want $want; jq: $expr)"
        head -c 400 "$TMP/body" | sed 's/^/#   body: /'
        echo
    fi
}
# fetch ADDR [PATH]: a request through a proxy; prints the body, fails when it fails
fetch() { curl -sf --max-time 5 "http://$1${2:-/}"; }
forwards() { [ "$(fetch "$1")" = ok ]; }
fetch_ms() { # ADDR: how long a request through it took, in ms
    local t0=${EPOCHREALTIME/./}
    fetch "$1" >/dev/null
    echo $(((${EPOCHREALTIME/./} - t0) / 1000))
}
# refused ADDR: connecting is refused (curl exit 7)
refused() {
    curl -s --max-time 5 -o /dev/null "http://$1/"
    [ $? -eq 7 ]
}
# still_forwards WHAT: after a bad request, the proxies keep forwarding
still_forwards() {
    if forwards "$FIRST" && forwards "$WEB"; then ok "after $1: proxies still forward"; else not_ok "after $1: proxies stopped forwarding"; fi
}

check "initial proxy forwards to the test server" forwards "$FIRST"

# --- version, index
expect "GET /version" 200 '.version | startswith("brink-")' -- GET /version
expect "GET /proxies lists the initial proxy" 200 \
    ".first.name == \"first\" and .first.listen == \"$FIRST\" and .first.upstream == \"$UP\" and .first.enabled == true and .first.toxics == []" \
    -- GET /proxies

# --- create
expect "POST /proxies creates" 201 \
    ".name == \"web\" and (.listen | test(\"^127\\\\.0\\\\.0\\\\.1:[1-9][0-9]*$\")) and .upstream == \"$UP\" and .enabled == true and .toxics == []" \
    -- POST /proxies -d "{\"name\":\"web\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"$UP\"}"
WEB=$(jq -r .listen "$TMP/body")
check "created proxy forwards ($WEB)" forwards "$WEB"
expect "GET /proxies/web" 200 ".name == \"web\" and .listen == \"$WEB\"" -- GET /proxies/web
expect "duplicate name" 409 '.status == 409 and (.error | test("already exists"))' \
    -- POST /proxies -d "{\"name\":\"web\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"$UP\"}"
still_forwards "duplicate"
expect "unknown proxy" 404 '.status == 404 and .error == "proxy not found"' -- GET /proxies/nope
expect "malformed JSON" 400 '.status == 400 and (.error | startswith("bad request body"))' \
    -- POST /proxies -d '{"name": "x", "upstream":'
still_forwards "malformed JSON"
expect "missing upstream" 400 '.error == "missing required field: upstream"' -- POST /proxies -d '{"name":"x"}'
expect "missing name" 400 '.error == "missing required field: name"' -- POST /proxies -d "{\"upstream\":\"$UP\"}"
expect "name of the wrong type" 400 '.status == 400' -- POST /proxies -d "{\"name\":5,\"upstream\":\"$UP\"}"
expect "body not an object" 400 '.status == 400' -- POST /proxies -d '[1,2]'
expect "empty body" 400 '.status == 400' -- POST /proxies
expect "listen on an address in use" 500 '.status == 500' \
    -- POST /proxies -d "{\"name\":\"clash\",\"listen\":\"$WEB\",\"upstream\":\"$UP\"}"
expect "the failed proxy was not kept" 404 -- GET /proxies/clash
# a name must be addressable as /proxies/NAME: [A-Za-z0-9_.-], 1 to 63 characters (a name with
# a / was accepted, then could never be shown or deleted: security review, issue 15)
for bad in 'a/b' 'a b' '..' 'a?b' "$(printf 'x%.0s' {1..64})"; do
    expect "name '${bad:0:12}' refused" 400 '.status == 400 and (.error | test("invalid proxy name|name.* too long"))' \
        -- POST /proxies -d "{\"name\":\"$bad\",\"upstream\":\"$UP\"}"
done
expect "populate with a bad name: refused, nothing applied" 400 \
    '.status == 400 and (.error | test("invalid proxy name .a/b.")) and .proxies == null' \
    -- POST /populate -d "[{\"name\":\"okname\",\"upstream\":\"$UP\"},{\"name\":\"a/b\",\"upstream\":\"$UP\"}]"
expect "toxic name with a / refused" 400 '.status == 400 and (.error | startswith("invalid toxic name"))' \
    -- POST /proxies/web/toxics -d '{"name":"t/x","type":"latency"}'
expect "no proxy of a bad name was made" 200 '[keys[] | select(test("^[A-Za-z0-9_.-]+$") | not)] == [] and (has("okname") | not)' \
    -- GET /proxies
expect "a name of every allowed character" 201 '.name == "Redis_1.main-2"' \
    -- POST /proxies -d "{\"name\":\"Redis_1.main-2\",\"upstream\":\"$UP\"}"
expect "... can be deleted" 204 -- DELETE /proxies/Redis_1.main-2
still_forwards "bad creates"

# --- toxics
expect "add latency toxic: defaults name, stream, toxicity" 200 \
    '.name == "latency_downstream" and .type == "latency" and .stream == "downstream" and .toxicity == 1 and .attributes.latency == 300 and .attributes.jitter == 0' \
    -- POST /proxies/web/toxics -d '{"type":"latency","attributes":{"latency":300}}'
ms=$(fetch_ms "$WEB")
check "latency toxic delays the response (${ms} ms >= 300)" [ "$ms" -ge 300 ]
check "the other proxy is not delayed" forwards "$FIRST"
expect "GET toxics lists it" 200 'length == 1 and .[0].name == "latency_downstream"' -- GET /proxies/web/toxics
expect "GET /proxies/web shows it" 200 '.toxics | length == 1' -- GET /proxies/web
expect "GET the toxic" 200 '.attributes.latency == 300' -- GET /proxies/web/toxics/latency_downstream
expect "update (POST) merges attributes" 200 \
    '.name == "latency_downstream" and .attributes.latency == 300 and .attributes.jitter == 10 and .toxicity == 1' \
    -- POST /proxies/web/toxics/latency_downstream -d '{"attributes":{"jitter":10}}'
expect "update (PATCH) toxicity" 200 '.toxicity == 0.5 and .attributes.jitter == 10' \
    -- PATCH /proxies/web/toxics/latency_downstream -d '{"toxicity":0.5}'
expect "update keeps type and stream" 200 '.type == "latency" and .stream == "downstream"' \
    -- PATCH /proxies/web/toxics/latency_downstream -d '{"type":"timeout","stream":"upstream","attributes":{"latency":0}}'
expect "duplicate toxic" 409 '.error == "toxic already exists"' \
    -- POST /proxies/web/toxics -d '{"type":"latency"}'
expect "upstream toxic with a name" 200 '.name == "bw" and .stream == "upstream" and .attributes.rate == 1000' \
    -- POST /proxies/web/toxics -d '{"name":"bw","type":"bandwidth","stream":"upstream","attributes":{"rate":1000}}'
expect "toxics listed upstream first" 200 '[.[].name] == ["bw", "latency_downstream"]' -- GET /proxies/web/toxics
for ty in slow_close:delay timeout:timeout reset_peer:timeout limit_data:bytes; do
    expect "add ${ty%%:*} with ${ty#*:}" 200 ".type == \"${ty%%:*}\" and .attributes.${ty#*:} == 0" \
        -- POST /proxies/first/toxics -d "{\"type\":\"${ty%%:*}\",\"stream\":\"upstream\",\"toxicity\":0}"
done
expect "add slicer" 200 '.attributes == {"average_size": 100, "size_variation": 10, "delay": 5}' \
    -- POST /proxies/first/toxics -d '{"type":"slicer","toxicity":0,"attributes":{"average_size":100,"size_variation":10,"delay":5}}'
check "toxics of toxicity 0 leave traffic alone" forwards "$FIRST"
expect "unknown toxic type" 400 '.status == 400 and (.error | test("invalid toxic type"))' \
    -- POST /proxies/web/toxics -d '{"type":"frobnicate"}'
expect "missing toxic type" 400 '.status == 400' -- POST /proxies/web/toxics -d '{"attributes":{}}'
expect "negative attribute" 400 '.status == 400 and (.error | test("latency"))' \
    -- POST /proxies/web/toxics -d '{"name":"neg","type":"latency","attributes":{"latency":-5}}'
expect "attribute of the wrong type" 400 '.status == 400' \
    -- POST /proxies/web/toxics -d '{"name":"str","type":"latency","attributes":{"latency":"100"}}'
expect "fractional attribute" 400 '.status == 400' \
    -- POST /proxies/web/toxics -d '{"name":"frac","type":"latency","attributes":{"latency":1.5}}'
expect "attributes not an object" 400 '.status == 400' \
    -- POST /proxies/web/toxics -d '{"name":"arr","type":"latency","attributes":[1]}'
expect "bad stream" 400 '.error == "stream was invalid, can be either upstream or downstream"' \
    -- POST /proxies/web/toxics -d '{"type":"latency","stream":"sideways"}'
expect "toxicity out of range" 400 '.status == 400' -- POST /proxies/web/toxics -d '{"name":"t2","type":"latency","toxicity":2}'
expect "negative attribute in an update" 400 '.status == 400' \
    -- PATCH /proxies/web/toxics/latency_downstream -d '{"attributes":{"jitter":-1}}'
expect "the failed update changed nothing" 200 '.attributes.jitter == 10' -- GET /proxies/web/toxics/latency_downstream
expect "malformed toxic JSON" 400 '.status == 400' -- POST /proxies/web/toxics -d '{"type":'
expect "toxic of an unknown proxy" 404 '.error == "proxy not found"' -- POST /proxies/nope/toxics -d '{"type":"latency"}'
expect "unknown toxic" 404 '.error == "toxic not found"' -- GET /proxies/web/toxics/nope
expect "update of an unknown toxic" 404 '.error == "toxic not found"' -- PATCH /proxies/web/toxics/nope -d '{}'
expect "failed adds added nothing" 200 'length == 2' -- GET /proxies/web/toxics
still_forwards "bad toxics"
expect "remove toxic" 204 -- DELETE /proxies/web/toxics/latency_downstream
expect "removed toxic is gone" 404 -- GET /proxies/web/toxics/latency_downstream
expect "remove it again" 404 '.error == "toxic not found"' -- DELETE /proxies/web/toxics/latency_downstream
# the fastest of 5 (a machine busy with other tests may delay one): with the toxic, every
# response would take 300 ms or more
ms=$(for _ in 1 2 3 4 5; do fetch_ms "$WEB"; done | sort -n | head -1)
check "without the latency toxic the response is fast (${ms} ms < 250)" [ "$ms" -lt 250 ]

# --- routing and protocol errors
expect "unknown route" 404 '.status == 404' -- GET /nope
expect "trailing slash is another route" 404 -- GET /proxies/
expect "wrong method on /proxies" 405 '.status == 405' -- DELETE /proxies
expect "wrong method on /reset" 405 -- GET /reset
expect "wrong method on a proxy" 405 -- PUT /proxies/web -d '{}'
expect "wrong method on /version" 405 -- POST /version
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' 'x' >"$TMP/big"
expect "body over 1 MiB" 413 -- POST /proxies --data-binary @"$TMP/big"
expect "chunked body over 1 MiB" 413 -- POST /populate -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/big"
expect "browser user agent" 403 -- GET /proxies -A 'Mozilla/5.0 (X11; Linux x86_64)'
printf 'GARBAGE\r\n\r\n' | timeout 5 bash -c "cat >/dev/tcp/127.0.0.1/${API##*:}" 2>/dev/null
still_forwards "protocol errors"
expect "the API still answers" 200 -- GET /version

# --- down (enabled:false) and up, Toxiproxy client style (the whole proxy posted back)
expect "disable" 200 '.enabled == false' -- POST /proxies/web -d '{"enabled":false}'
check "disabled proxy refuses connections" refused "$WEB"
check "the other proxy still forwards" forwards "$FIRST"
expect "enable with the whole proxy (Go client Save)" 200 ".enabled == true and .listen == \"$WEB\"" \
    -- POST /proxies/web -d "{\"name\":\"web\",\"listen\":\"$WEB\",\"upstream\":\"$UP\",\"enabled\":true,\"toxics\":null}"
check "enabled proxy forwards again" forwards "$WEB"
expect "PATCH disables too" 200 '.enabled == false' -- PATCH /proxies/web -d '{"enabled":false}'
expect "bad enabled type" 400 -- PATCH /proxies/web -d '{"enabled":"yes"}'
expect "update of an unknown proxy" 404 -- POST /proxies/nope -d '{"enabled":false}'

# --- reset: every proxy enabled, every toxic removed
expect "POST /reset" 204 -- POST /reset
expect "after reset: web enabled, no toxics" 200 '.enabled == true and .toxics == []' -- GET /proxies/web
expect "after reset: first has no toxics" 200 '. == []' -- GET /proxies/first/toxics
check "after reset: web forwards" forwards "$WEB"

# --- populate: create or replace; untouched when listen and upstream are the same
expect "toxic before populate" 200 -- POST /proxies/web/toxics -d '{"type":"latency","attributes":{"latency":1}}'
expect "populate" 201 \
    "(.proxies | length) == 2 and .proxies[0].name == \"web\" and .proxies[0].listen == \"$WEB\" and .proxies[1].name == \"pop1\" and .proxies[1].enabled == true" \
    -- POST /populate -d "[{\"name\":\"web\",\"listen\":\"$WEB\",\"upstream\":\"$UP\"},{\"name\":\"pop1\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"$UP\"}]"
POP1=$(jq -r '.proxies[1].listen' "$TMP/body")
expect "populate left the consistent proxy untouched (its toxic kept)" 200 '.toxics | length == 1' -- GET /proxies/web
check "populated proxy forwards ($POP1)" forwards "$POP1"
expect "populate with a disabled proxy" 201 '.proxies[0].enabled == false' \
    -- POST /populate -d "[{\"name\":\"pop2\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"$UP\",\"enabled\":false}]"
expect "populate replaces a proxy whose upstream differs" 201 '.proxies[0].upstream == "127.0.0.1:1"' \
    -- POST /populate -d "[{\"name\":\"pop2\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:1\",\"enabled\":false}]"
expect "invalid populate entry" 400 '.status == 400 and .error == "missing required field: upstream at proxy 2" and .proxies == null' \
    -- POST /populate -d "[{\"name\":\"pop3\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"$UP\"},{\"name\":\"pop4\"}]"
expect "nothing of the invalid populate was applied" 404 -- GET /proxies/pop3
expect "populate with a listen clash fails" 500 '.status == 500' \
    -- POST /populate -d "[{\"name\":\"pop5\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"$UP\"},{\"name\":\"pop6\",\"listen\":\"$WEB\",\"upstream\":\"$UP\"}]"
expect "the failed populate was rolled back" 404 -- GET /proxies/pop5
expect "populate body not an array" 400 -- POST /populate -d '{"name":"x"}'
expect "populate with duplicate names" 400 -- POST /populate -d "[{\"name\":\"d\",\"upstream\":\"$UP\"},{\"name\":\"d\",\"upstream\":\"$UP\"}]"
expect "index after populate" 200 '(keys | sort) == ["first", "pop1", "pop2", "web"]' -- GET /proxies
still_forwards "populate"

# --- metrics
curl -s --max-time 5 "$API/metrics" >"$TMP/metrics"
check "metrics count connections per proxy" grep -qE '^brink_proxy_connections_total\{proxy="web"\} [1-9]' "$TMP/metrics"

# --- delete
expect "DELETE proxy" 204 -- DELETE /proxies/pop1
expect "deleted proxy is gone" 404 -- GET /proxies/pop1
check "deleted proxy refuses connections" refused "$POP1"
expect "DELETE unknown proxy" 404 '.error == "proxy not found"' -- DELETE /proxies/pop1
still_forwards "delete"

# --- a proxy from a Toxiproxy config file; SIGTERM stops it cleanly
printf '[{"name":"cfg","listen":"127.0.0.1:0","upstream":"%s","enabled":true}]\n' "$UP" >"$TMP/toxiproxy.json"
"$BRINK" proxy --api 127.0.0.1:0 --config "$TMP/toxiproxy.json" >"$TMP/c.out" 2>"$TMP/c.err" &
CP=$!
PIDS+=("$CP")
if wait_line "$TMP/c.out" '^api http://'; then
    CFG=$(awk '$1 == "proxy" && $2 == "cfg" {print $3}' "$TMP/c.out")
    check "--config proxy forwards ($CFG)" forwards "$CFG"
    t0=$(date +%s%N)
    kill -TERM $CP
    for _ in $(seq 1 100); do kill -0 $CP 2>/dev/null || break; sleep 0.05; done
    wait $CP
    rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    check "SIGTERM: exit 0 (got $rc) within 5 s (${ms} ms)" [ $rc -eq 0 -a $ms -lt 5000 ]
    check "after SIGTERM the proxy is gone" refused "$CFG"
else
    not_ok "--config: brink proxy did not start ($(head -c 300 "$TMP/c.err"))"
fi

# --- an address in use is not a usage error: exit 1, one line
fail_case() { refuses "brink proxy $1" 1 "in use" timeout 10 "$BRINK" proxy "${@:2}"; } # NAME ARGS...
fail_case "with the API address in use" --api "${API#http://}"
fail_case "with the listen address in use" --api 127.0.0.1:0 --upstream "$UP" --listen "$FIRST"

# --- SIGINT stops the main one cleanly
kill -INT $BP
for _ in $(seq 1 100); do kill -0 $BP 2>/dev/null || break; sleep 0.05; done
wait $BP
rc=$?
check "SIGINT: exit 0 (got $rc)" [ $rc -eq 0 ]
check "SIGINT: nothing on stderr" [ ! -s "$TMP/p.err" ]
check "after SIGINT the proxies are gone" refused "$WEB"
