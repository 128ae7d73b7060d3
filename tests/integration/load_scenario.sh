# load_scenario.sh — brink load -f SCENARIO against the test server: the mix's proportions (the
# server's own tallies), flows that carry a captured id (the server sees every one), checks that
# fail when the server's body changes, thresholds on names and on checks (exit 99), think time,
# per-name numbers in the JSON, the terminal, the HTML and brink merge, and bad scenarios refused
# in one line before anything is sent.
. "$(dirname "$0")/lib.bash"

tallies() { curl -s --max-time 5 "http://127.0.0.1:$1/tallies"; }
field() { tr ' ' '\n' <<<"$1" | sed -n "$(($2 + 1))p"; } # TALLIES K: the K-th number (0-based)

cat >"$TMP/mix.yaml" <<'Y'
requests:
  a: {url: /tally/0, weight: 1}
  b: {url: /tally/1, weight: 2}
  c: {url: /tally/2, weight: 7}
Y
start_srv mix
"$BRINK" load -q -f "$TMP/mix.yaml" -c 8 -t 2 -n 10000 "http://127.0.0.1:$PORT_mix" \
    --json "$TMP/mix.json" >"$TMP/mix.out" 2>&1
rc=$?
t=$(tallies "$PORT_mix")
a=$(field "$t" 0) b=$(field "$t" 1) c=$(field "$t" 2)
check "a mix of 10,000 requests runs (exit 0) and the server counts 10,000" \
    all [ $rc -eq 0 ] -- [ $((a + b + c)) -eq 10000 ]
# weights 1:2:7 → 10 %, 20 %, 70 %, each within ±2 points
check "the server sees the mix's proportions within ±2 % of the weights ($a/$b/$c of 10,000)" \
    all [ $a -ge 800 -a $a -le 1200 ] -- [ $b -ge 1800 -a $b -le 2200 ] -- [ $c -ge 6800 -a $c -le 7200 ]
jqcheck "brink's counts by name are the server's" "$TMP/mix.json" \
    ".by_name.a.requests == $a and .by_name.b.requests == $b and .by_name.c.requests == $c"
check "the terminal has a line per request name" \
    has "$TMP/mix.out" '^  by request' '^  a  ' '^  c  '

# flows: create (POST /items → {"id": "item-N"}) then get /items/{{item}} with the captured id;
# the open model, each arrival starts a flow
cat >"$TMP/flow.yaml" <<'Y'
target: http://127.0.0.1:1/
requests:
  create:
    method: POST
    url: /items
    body: '{"n": {{seq}}, "run": "{{run}}"}'
    headers: {Content-Type: application/json}
    expect:
      status: 201
      json:
        - {path: id, matches: '^item-[0-9]+$'}
        - {path: state, equals: open}
        - {path: missing, exists: false}
    capture: {item: id}
  get:
    url: /items/{{item}}
    expect:
      status: [200]
      json: [{path: state, equals: open}, {path: id, exists: true}]
  ping: {url: /tally/3, weight: 1}
flows:
  buy:
    weight: 1
    steps: [create, {request: get, think: 20ms}]
thresholds: ['checks>=0.999', 'get.p99_ms<5000']
Y
start_srv flow
"$BRINK" load -f "$TMP/flow.yaml" -R 400 -d 1s -c 8 "http://127.0.0.1:$PORT_flow" \
    --json "$TMP/flow.json" >"$TMP/flow.out" 2>&1
rc=$?
t=$(tallies "$PORT_flow")
created=$(field "$t" 16) found=$(field "$t" 17) missing=$(field "$t" 18)
check "a scenario with a flow runs green (exit 0; the URL overrides its target)" [ $rc -eq 0 ]
check "every step 2 carried the id step 1 captured: the server found $found of $created, missing 0" \
    all [ "$created" -gt 100 ] -- [ "$missing" -eq 0 ] -- [ $((created - found)) -le 8 ]
jqcheck "the flows are counted (started = create, completed = get = the server's finds)" \
    "$TMP/flow.json" ".flows.buy.started == .by_name.create.sent and .flows.buy.completed == $found
      and .by_name.get.requests == $found and .flows.buy.aborted == 0"
jqcheck "every check passed: .stats.checks is 1, by name and in total" "$TMP/flow.json" \
    '.stats.checks == 1 and .by_name.create.checks == 1 and .by_name.get.checks == 1
     and .stats.checks_failed == 0 and .stats.checks_passed > 0 and .by_name.ping.checks == null'
jqcheck "the scenario's thresholds are judged (test custom, green)" "$TMP/flow.json" \
    '[.thresholds[] | select(.test == "custom")] | length == 2 and all(.status == "green")'
jqcheck "per-name latency is a mergeable histogram, and status by code" "$TMP/flow.json" \
    '(.by_name.get.latency.hdr | length > 10) and .by_name.create.status["201"] > 0
     and .config.scenario != null and .config.method == null'
"$BRINK" report "$TMP/flow.json" --junit "$TMP/flow.xml" --html "$TMP/flow.html" >/dev/null 2>&1
check "JUnit: one testcase per threshold" \
    all grep -q 'testcase[^>]*name="[^"]*checks' "$TMP/flow.xml" -- \
    grep -q 'testcase[^>]*name="[^"]*get.p99_ms' "$TMP/flow.xml"
check "the HTML report has the table by request" has "$TMP/flow.html" 'By request' '<td>create</td>'

# the server's body changes: checks fail by name, the flow is not aborted (its status is
# expected), the checks threshold turns the run red
start_srv closed --item-state closed
"$BRINK" load -f "$TMP/flow.yaml" -R 200 -d 1s -c 4 "http://127.0.0.1:$PORT_closed" \
    --json "$TMP/closed.json" >"$TMP/closed.out" 2>&1
rc=$?
check "checks fail when the body changes: exit 99 (checks>=0.999 is red)" [ $rc -eq 99 ]
jqcheck "... the failing check is named, with its count" "$TMP/closed.json" \
    '(.by_name.get.check[] | select(.check == "state == open") | .failed) == .by_name.get.requests
     and .stats.checks < 0.999 and .flows.buy.aborted == 0'
check "... and the terminal names it" has "$TMP/closed.out" '^  FAILED get: state == open'

# a threshold on a request name, red
"$BRINK" load -q -f "$TMP/flow.yaml" -R 100 -d 1s -c 2 --threshold 'create.p50_ms<0.0001' \
    "http://127.0.0.1:$PORT_flow" --json "$TMP/red.json" >/dev/null 2>&1
check "a name's threshold turns a green run red: exit 99" \
    all [ $? -eq 99 ] -- jqt '[.thresholds[] | select(.status == "red")] | length == 1' "$TMP/red.json"

# the closed model: each connection runs its flow, pausing 200 ms after create
cat >"$TMP/think.yaml" <<'Y'
requests:
  create: {method: POST, url: /items, capture: {item: id}}
  get: {url: '/items/{{item}}'}
flows:
  slow: {steps: [{request: create, think: 200ms}, get]}
Y
"$BRINK" load -q -f "$TMP/think.yaml" -c 2 -t 1 -d 1s "http://127.0.0.1:$PORT_flow" \
    --json "$TMP/think.json" >/dev/null 2>&1
jqcheck "closed model: think time paces each connection's flow (2 connections × 1 s / 200 ms)" \
    "$TMP/think.json" '.by_name.create.requests >= 2 and .by_name.create.requests <= 12
     and .by_name.get.errors == 0'

# brink merge adds the segments' numbers by name
segs=()
for i in 1 2; do
    "$BRINK" load -q -f "$TMP/mix.yaml" -c 2 -t 1 -R 500 -d 1s --segment $i/2 \
        "http://127.0.0.1:$PORT_mix" --json "$TMP/seg$i.json" >/dev/null 2>&1 &
    segs+=($!)
done
wait "${segs[@]}"
"$BRINK" merge "$TMP/seg1.json" "$TMP/seg2.json" --json "$TMP/merged.json" >/dev/null 2>&1
jqcheck "brink merge adds the requests by name" "$TMP/merged.json" \
    "[.by_name[].requests] | add == $(jq -s '[.[].by_name[].requests] | add' "$TMP/seg1.json" "$TMP/seg2.json")"

# brink.yaml's load: section, with brink.yaml's target
printf 'target:\n  url: http://127.0.0.1:%s\nload:\n  requests:\n    a: {url: /tally/5}\n' \
    "$PORT_mix" >"$TMP/brink.yaml"
"$BRINK" load -q -f "$TMP/brink.yaml" -n 50 -c 1 --json "$TMP/section.json" >/dev/null 2>&1
check "brink load -f brink.yaml runs its load: section against its target.url" \
    all jqt '.by_name.a.requests == 50' "$TMP/section.json" -- [ "$(field "$(tallies "$PORT_mix")" 5)" = 50 ]

# --dry-run renders what the mix picks for {{seq}} 0
check "--dry-run with -f prints the first request" \
    prints '^POST /items HTTP/1.1' "$BRINK" load --dry-run -f "$TMP/flow.yaml"

# refused before anything is sent (to a live server that counts)
start_srv idle
U=http://127.0.0.1:$PORT_idle
printf 'requests:\n  a: {url: /x, weigth: 1}\n' >"$TMP/typo.yaml"
refuses "a scenario with an unknown key" 2 "typo.yaml:2: requests.a.weigth" \
    "$BRINK" load -f "$TMP/typo.yaml" "$U"
refuses "-f with -b" 2 "have their own method and body" "$BRINK" load -f "$TMP/mix.yaml" -b x "$U"
refuses "a threshold on an unknown request" 2 "its requests: a, b, c" \
    "$BRINK" load -f "$TMP/mix.yaml" --threshold 'x.p99_ms<5' "$U"
refuses "a threshold on an unknown metric of a request" 2 "unknown metric 'p98_ms' of request a" \
    "$BRINK" load -f "$TMP/mix.yaml" --threshold 'a.p98_ms<5' "$U"
refuses "a scenario without a target and no URL" 2 "no target" "$BRINK" load -f "$TMP/mix.yaml"
refuses "a request to another host" 2 "not to the target" \
    "$BRINK" load -f <(printf 'requests:\n  a: {url: "http://example.com/x"}\n') "$U"
refuses "a step that uses a variable no earlier step captures" 2 "which no earlier step" \
    "$BRINK" load -f <(printf 'requests:\n  a: {url: "/{{v}}"}\n  b: {url: /, capture: {v: id}}\nflows:\n  f: {steps: [a, b]}\n') "$U"
check "nothing reached the server from the refused runs" [ "$(srv_count "$PORT_idle")" = 0 ]
