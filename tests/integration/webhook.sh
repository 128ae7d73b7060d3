# webhook.sh — `brink webhook`: the light profile on the embedded stack (dispatchd, real
# PostgreSQL and Redis) is green with exit 0 and a complete result document; the same service
# signed with the wrong secret answers 401 and the error-rate detector fires (red, exit 99) while
# the right secret stays green; with brink.yaml's target.metrics the red verdict's evidence carries
# dispatchd's own count of those 401s, while a metrics page that answers 404 (testsrv) leaves the
# advice without it and is no error; an unreachable target is exit 3; bad input is one line and
# exit 2, before anything starts. Loopback only; every run is bounded by its duration.
. "$(dirname "$0")/lib.bash"

# usage_case NAME EXPECTED_MESSAGE_PART ARGS...: exit 2, one line on stderr naming the problem
# (refused before anything starts: at once, within 2 s)
usage_case() {
    local t0=$SECONDS
    REFUSES_ALSO=in_time refuses "bad input: $1" 2 "$2" timeout 20 "$BRINK" "${@:3}"
}
in_time() { [ $((SECONDS - t0)) -le 2 ]; }

usage_case "missing profile" "missing profile" webhook
usage_case "unknown profile" "unknown profile 'extreme'" webhook extreme
usage_case "bad rate" "invalid rate 'fast'" webhook light --rate fast
usage_case "bad duration" "--duration" webhook light --duration 5x
usage_case "search option with a fixed profile" "--start-rate goes with the search" webhook light --start-rate 100
usage_case "rate with stress" "--rate does not go with stress" webhook stress --rate 100
usage_case "secret without target" "--secret-file goes with --target" webhook light --secret-file /etc/hostname
usage_case "stack option with target" "--stack-profile is for the embedded stack" webhook light --target http://127.0.0.1:1/ --stack-profile untuned --sign none
usage_case "bad stack profile" "want tuned or untuned" webhook light --stack-profile fast
usage_case "bad target URL" "--target" webhook light --target ftp://127.0.0.1/ --sign none
usage_case "target without secret" "needs the signing secret" webhook light --target http://127.0.0.1:1/
usage_case "missing secret file" "secret: cannot read" webhook light --target http://127.0.0.1:1/ --secret-file /nonexistent/secret
usage_case "unknown signing scheme" "unknown scheme 'hmac'" webhook light --target http://127.0.0.1:1/ --sign hmac
usage_case "unknown option" "unknown option '--frobnicate'" webhook light --frobnicate
usage_case "extra argument" "unexpected argument 'heavy'" webhook light heavy
check "brink webhook --help lists the profiles" prints 'moderate' "$BRINK" webhook --help

# --- unreachable target: refused by the preflight (no load, no document), exit 3 with one line
"$BRINK" webhook light -d 1s --target http://127.0.0.1:1/ --sign none -q --json "$TMP/down.json" >"$TMP/down.out" 2>"$TMP/down.err"
rc=$?
if [ $rc -eq 3 ] && grep -q 'target http://127.0.0.1:1/webhooks/orders does not answer' "$TMP/down.err" &&
    [ "$(lines "$TMP/down.err")" -eq 1 ] && [ ! -e "$TMP/down.json" ]; then
    ok "unreachable target → exit 3 before any load, says so"
else
    not_ok "unreachable target (exit $rc)"
    sed 's/^/#   /' "$TMP/down.err" | head -5
fi

# --- the light profile on the embedded stack (5 s instead of 10 to keep CI short)
"$BRINK" webhook light --duration 5s -q --json "$TMP/light.json" >"$TMP/light.out" 2>"$TMP/light.err"
rc=$?
check "webhook light on the embedded stack: exit 0" [ $rc -eq 0 ]
[ $rc -eq 0 ] || sed 's/^/#   /' "$TMP/light.out" "$TMP/light.err" | tail -20
jqcheck "document: test webhook, profile light, target the stack's dispatchd" "$TMP/light.json" \
    '.schema == "brink.result/1" and .test == "webhook" and .profile == "light" and (.target | test("^http://127.0.0.1:[0-9]+/webhooks/orders$")) and .config.stack.profile == "tuned" and .config.sign == "standard-webhooks"'
jqcheck "stats: the load keys, availability and the service's resources" "$TMP/light.json" \
    '.stats | (["requests","rps","offered_rps","errors","error_rate","timeouts","p50_ms","p95_ms","p99_ms","p999_ms","max_ms","availability","service_cpu_pct","service_rss_mib"] - keys) == []'
jqcheck "about 500 webhooks at 100/s, every one answered 202" "$TMP/light.json" \
    '.stats.requests == .stats.scheduled and .stats.requests >= 495 and .stats.offered_rps >= 99 and .stats.errors == 0 and .status["202"] == .stats.requests and .stats.availability == 1'
# (latency on a machine busy with other tests may be orange, as brink suite allows: never red)
jqcheck "thresholds: every webhook metric and the resources judged, all green (latency at worst orange)" "$TMP/light.json" \
    '([.thresholds[].metric] | sort) == (["availability","error_rate","p50_ms","p95_ms","p999_ms","p99_ms","rps","service_cpu_pct","service_rss_mib","timeouts"] | sort)
     and all(.thresholds[]; .status == "green" or (.status == "orange" and (.metric | test("^p[0-9]+_ms$"))))
     and all(.advice[]; .metric | test("^p[0-9]+_ms$"))'
jqcheck "resources: the service's pid, CPU and RSS sampled once a second" "$TMP/light.json" \
    '.resources.pid > 0 and (.resources.samples | length) >= 4 and .stats.service_rss_mib > 1 and .stats.service_cpu_pct >= 0 and (.timeline[1].service_rss_mib > 1)'
check "terminal: thresholds printed" grep -q 'availability' "$TMP/light.out"

# --- a running service with the wrong secret: 401s, the error-rate detector fires
if ! stack_up S target --ready-timeout 30s 2>"$TMP/stack.err"; then
    not_ok "stack up for the target cases: $(head -3 "$TMP/stack.err")"
    exit 0
fi
URL=$(jq -r .service.url "$S")
GOOD=$(jq -r .service.secret_file "$S")
printf 'whsec_%s\n' "$(head -c 32 /dev/urandom | base64)" >"$TMP/wrong.secret"
"$BRINK" webhook light -d 2s --target "$URL" --secret-file "$TMP/wrong.secret" -q --json "$TMP/401.json" >"$TMP/401.out" 2>"$TMP/401.err"
rc=$?
check "wrong secret → exit 99" [ $rc -eq 99 ]
jqcheck "wrong secret: every webhook 401, error_rate and availability red, advice given" "$TMP/401.json" \
    '.status["401"] == .stats.requests and .stats.requests > 0 and .stats.error_rate == 1 and (.thresholds[] | select(.metric == "error_rate") | .status) == "red" and (.thresholds[] | select(.metric == "availability") | .status) == "red" and any(.advice[]; .metric == "error_rate" and (.evidence | test("401")))'
jqcheck "target: no pid, resources skipped" "$TMP/401.json" \
    '.config.stack == null and .stats.service_cpu_pct == null and (.thresholds[] | select(.metric == "service_cpu_pct") | .status) == "skipped"'
check "one line on stderr names the red thresholds" all [ "$(lines "$TMP/401.err")" -eq 1 ] -- grep -q 'red' "$TMP/401.err"
jqcheck "--target without a metrics page: the advice has no service metrics" "$TMP/401.json" \
    '(.advice | length) > 0 and all(.advice[]; (.evidence | test("service metrics") | not) and .service_metrics == null)'

# --- the service's own metrics as evidence: brink.yaml's target.metrics names dispatchd's page, so
#     the red error_rate's evidence carries the service's own count of the 401s it answered
cat >"$TMP/metrics.yaml" <<EOF
target:
  url: $URL
  webhook:
    secret: {file: $TMP/wrong.secret}
  metrics: $URL/metrics
EOF
"$BRINK" webhook light -d 2s -f "$TMP/metrics.yaml" -q --json "$TMP/401m.json" >"$TMP/401m.out" 2>"$TMP/401m.err"
rc=$?
check "target.metrics, wrong secret → exit 99, one line on stderr" \
    all [ $rc -eq 99 ] -- [ "$(lines "$TMP/401m.err")" -eq 1 ]
jqcheck "target.metrics: error_rate's evidence names the service's 401 counter, changed" "$TMP/401m.json" \
    'any(.advice[]; .metric == "error_rate" and (.evidence | test("[(]service metrics: [^)]*webhook 401s [+][1-9]"))
       and .service_metrics["dispatchd_http_requests_total{route=\"webhook\",status=\"401\"}"].change > 0
       and .service_metrics["dispatchd_http_requests_total{route=\"webhook\",status=\"401\"}"].kind == "counter")'
check "target.metrics: the terminal advice shows the service metrics" \
    grep -q 'service metrics: .*webhook 401s +[1-9]' "$TMP/401m.out"
"$BRINK" webhook light -d 2s --target "$URL" --secret-file "$GOOD" -q --json "$TMP/good.json" \
    --threshold 'availability>=0.99' --threshold 'p99_ms<60000 orange<50000' >"$TMP/good.out" 2>&1
rc=$?
check "the right secret on the same target → exit 0" [ $rc -eq 0 ]
jqcheck "--threshold: the run's own conditions judged beside the built-in verdicts (green)" "$TMP/good.json" \
    '[.thresholds[] | select(.test == "custom") | "\(.metric)=\(.status)"] == ["availability=green","p99_ms=green"]'
refuses "--threshold on a number webhook does not write: exit 2 before any stack starts" 2 \
    "unknown metric 'outage_error_rate'" "$BRINK" webhook light --threshold 'outage_error_rate<0.01'
refuses "--threshold with the search on a number it has not" 2 "unknown metric 'p99_ms'" \
    "$BRINK" webhook stress --threshold 'p99_ms<100'
jqcheck "the right secret: every webhook 202, error_rate green" "$TMP/good.json" \
    '.status["202"] == .stats.requests and .stats.requests >= 195 and (.thresholds[] | select(.metric == "error_rate") | .status) == "green"'
SECRET_TEXT=$(cat "$GOOD")
if grep -rqF -- "${SECRET_TEXT#whsec_}" "$TMP"/*.json "$TMP"/*.out "$TMP"/*.err; then
    not_ok "the secret never appears in output or results"
else
    ok "the secret never appears in output or results"
fi
"$BRINK" stack down --state "$S" >/dev/null 2>&1
check "stack down" [ ! -e "$S" ]

# --- a target whose metrics page does not exist (testsrv: every webhook 503, the page 404): the
#     verdicts and the advice stand without service metrics, and the failed scrape is no error
if start_srv plain; then
    cat >"$TMP/nometrics.yaml" <<EOF
target:
  url: http://127.0.0.1:$PORT_plain
  webhook:
    path: /status/503
    sign: none
  metrics: http://127.0.0.1:$PORT_plain/status/404
EOF
    "$BRINK" webhook light -d 1s -f "$TMP/nometrics.yaml" -q --json "$TMP/nometrics.json" \
        >"$TMP/nometrics.out" 2>"$TMP/nometrics.err"
    rc=$?
    check "target.metrics answering 404: exit 99 (the 503s), one line on stderr, silent on the scrape" \
        all [ $rc -eq 99 ] -- [ "$(lines "$TMP/nometrics.err")" -eq 1 ] -- not grep -qiE 'metrics|404' "$TMP/nometrics.err"
    jqcheck "target.metrics answering 404: error_rate red with its advice, no service metrics" "$TMP/nometrics.json" \
        'any(.advice[]; .metric == "error_rate" and .status == "red" and (.evidence | test("503"))
           and (.evidence | test("service metrics") | not) and .service_metrics == null)'
else
    not_ok "testsrv for the target without a metrics page"
fi
printf 'target:\n  url: http://127.0.0.1:1\n  webhook: {sign: none}\n  metrics: https://127.0.0.1:1/metrics\n' \
    >"$TMP/badmetrics.yaml"
usage_case "target.metrics not http://" "target.metrics: want an http:// URL" webhook light -f "$TMP/badmetrics.yaml"
