# load_cli.sh — `brink load` at its edges: bad input is a one-line error with exit 2 and no
# traffic; TLS verification; a refused target is measured, not a usage error; SIGINT writes a
# partial result and exits 130.
. "$(dirname "$0")/lib.bash"

start_srv a || exit 1
A=http://127.0.0.1:$PORT_a

# usage_case NAME EXPECTED_MESSAGE_PART ARGS...: exit 2, one line on stderr naming the problem
usage_case() {
    local before
    before=$(srv_count "$PORT_a")
    REFUSES_ALSO=no_traffic REFUSES_SAYS=", no traffic" refuses "bad input: $1" 2 "$2" "$BRINK" load "${@:3}"
}
no_traffic() {
    local after
    after=$(srv_count "$PORT_a")
    REFUSES_NOTE=", requests $before→$after"
    [ "$before" = "$after" ]
}

usage_case "invalid URL" "invalid URL" -n 1 "ftp://127.0.0.1:$PORT_a/"
usage_case "URL without host" "no host" -n 1 "http:///x"
usage_case "bad port" "bad port" -n 1 "http://127.0.0.1:99999/"
usage_case "missing URL" "missing URL" -n 1
usage_case "unknown flag" "unknown option '--frobnicate'" --frobnicate "$A/"
usage_case "unknown short flag" "unknown option '-Z'" -Z "$A/"
usage_case "flag without value" "needs a value" "$A/" -c
usage_case "bad duration" "invalid duration '10x'" -d 10x "$A/"
usage_case "zero duration" "invalid duration" -d 0 "$A/"
usage_case "bad rate" "invalid rate 'fast'" -R fast "$A/"
usage_case "negative rate" "invalid rate" -R -5 "$A/"
usage_case "bad connections" "invalid number 'many'" -c many "$A/"
usage_case "bad stages" "invalid stage" --stages "10s-100" "$A/"
usage_case "unreadable body file" "cannot read body file" --body-file /nonexistent/body.json -m POST "$A/"
usage_case "unknown placeholder in body" "unknown placeholder {{sqe}}" -b '{"id":{{sqe}}}' -m POST "$A/"
usage_case "unknown placeholder in URL" "unknown placeholder" -n 1 "$A/x/{{nope}}"
usage_case "unterminated placeholder" "unterminated placeholder" -H 'X-A: {{seq' "$A/"
usage_case "bad header" "invalid header" -H 'NoColonHere' "$A/"
# a value with control characters is quoted escaped (\r, \n, \xNN), never raw: one line on stderr
usage_case "header with CR LF: escaped in the one line" "invalid header 'X: a\r\nB: c\x1b[31m'" \
    -H $'X: a\r\nB: c\e[31m' "$A/"
check "the error holds no raw control character" bash -c "! LC_ALL=C grep -q '[[:cntrl:]]' '$TMP/refused.err'"
usage_case "sign without secret" "needs --secret-env VAR or --secret-file F" --sign github "$A/"
usage_case "unknown signing scheme" "unknown signing scheme 'hmac'" --sign hmac --secret-env HOME "$A/"
usage_case "missing secret env" "environment variable BRINK_NO_SUCH_VAR is not set" --sign stripe --secret-env BRINK_NO_SUCH_VAR "$A/"
usage_case "missing secret file" "secret: cannot read" --sign stripe --secret-file /nonexistent/secret "$A/"
printf 'whsec_!!!notbase64' >"$TMP/badsecret"
usage_case "invalid whsec secret" "not valid base64" --sign standard-webhooks --secret-file "$TMP/badsecret" "$A/"
if grep -q 'notbase64' "$TMP/refused.err"; then not_ok "secret text never printed"; else ok "secret text never printed"; fi

# --- help
check "brink load --help exits 0 and documents -R" prints '--rate RPS' "$BRINK" load --help
check "brink --help exits 0" quietly "$BRINK" --help
"$BRINK" frobnicate >/dev/null 2>&1
check "unknown command exits 2" [ $? -eq 2 ]

# --- refused target: not a usage error; errors counted; says so plainly; exit 3
"$BRINK" load -c 2 -t 1 -d 1s "http://127.0.0.1:1/" --json "$TMP/r.json" >"$TMP/r.out" 2>&1
rc=$?
check "refused target: exit 3 (got $rc)" [ $rc -eq 3 ]
jqcheck "refused target: connect_refused counted" "$TMP/r.json" '.errors.connect_refused > 0 and .stats.requests == 0'
jqcheck "refused target: each slot backs off (2 slots, 1 s: at most 50 connects a slot, not thousands)" \
    "$TMP/r.json" '.stats.connects <= 100 and .stats.connects >= 4 and .stats.reconnect_backoffs >= 4'
"$BRINK" load -c 2 -t 1 -d 1s --reconnect-backoff 0 "http://127.0.0.1:1/" --json "$TMP/r0.json" >/dev/null 2>&1
jqcheck "--reconnect-backoff 0: reconnects at once (the old behaviour, on request)" "$TMP/r0.json" \
    '.stats.connects > 500 and .stats.reconnect_backoffs == 0'
# a target that comes up 0.5 s into the run: the backoff (at most 1 s) lets it be found soon,
# and the requests due meanwhile are late or unsent, counted
p=$(free_port)
(sleep 0.5 && exec "$TESTSRV" --port "$p" --max-seconds 8 >/dev/null 2>&1) &
PIDS+=($!)
"$BRINK" load -R 100 -d 3s -c 4 -t 1 "http://127.0.0.1:$p/" --json "$TMP/late.json" >/dev/null 2>&1
jqcheck "a target that starts late: found within ~1 s of starting, the early requests counted" \
    "$TMP/late.json" '.stats.requests >= 150 and .errors.connect_refused >= 4 and .stats.reconnect_backoffs >= 4
     and .stats.requests + .errors.connect_refused + .stats.unsent >= 290'
start_srv prog || exit 1
# --threshold: conditions on any run's .stats, judged like the built-in ones
"$BRINK" load -R 50 -d 1s -c 2 -t 1 -q --threshold 'p99_ms<5000 orange<4000' --threshold 'rps>=1000' \
    --threshold 'error_rate<=0.001' "http://127.0.0.1:$PORT_prog/" --json "$TMP/th.json" >"$TMP/th.out" 2>&1
check "--threshold: a condition the run misses (rps>=1000 at 50/s) is red: exit 99 ($?)" [ $? -eq 99 ]
jqcheck "--threshold: three verdicts of test custom in .thresholds, red/green as the conditions say" "$TMP/th.json" \
    '[.thresholds[] | select(.test == "custom") | "\(.metric)=\(.status)"] == ["p99_ms=green","rps=red","error_rate=green"]
     and (.advice | map(.metric) == ["rps"])'
"$BRINK" report "$TMP/th.json" --junit "$TMP/th.xml" >/dev/null 2>&1
check "--threshold: one JUnit testcase per condition, the red one failed" \
    all [ "$(grep -c '<testcase' "$TMP/th.xml")" = 3 ] -- [ "$(grep -c '<failure' "$TMP/th.xml")" = 1 ]
"$BRINK" load -R 50 -d 1s -c 2 -t 1 -q --threshold 'p99_ms<5000' "http://127.0.0.1:$PORT_prog/" >/dev/null 2>&1
check "--threshold: every condition met → exit 0 ($?)" [ $? -eq 0 ]
# (the progress lines of a run without a terminal: resilience.sh checks them on a 17 s run)
usage_case "--threshold on an unknown metric: refused before sending, naming the metrics" \
    "unknown metric 'p9_ms' (this run has: requests, rps," -d 1s --threshold 'p9_ms<5' "$A/"
usage_case "--threshold without an operator" "want METRIC<VALUE" --threshold 'p99_ms' "$A/"
usage_case "--threshold whose orange bound comes after the red one" "must come before the red one" \
    --threshold 'p99_ms<5 orange<9' "$A/"
jqcheck "the document says which brink, command line and machine wrote it" "$TMP/r.json" \
    '(.brink_version | test("^[0-9]+[.][0-9]+")) and .command == "brink load -c 2 -t 1 -d 1s http://127.0.0.1:1/ --json '"$TMP"'/r.json"
     and .host.cores >= 1 and (.host.kernel | length) > 0'
check "refused target: summary says nothing succeeded" grep -q "nothing succeeded" "$TMP/r.out"

# --- TLS: self-signed certificate works with --insecure, fails verification without it
if openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
    -keyout "$TMP/k.pem" -out "$TMP/c.pem" >/dev/null 2>&1; then
    start_srv tls --tls-cert "$TMP/c.pem" --tls-key "$TMP/k.pem" || exit 1
    "$BRINK" load -q --insecure -c 4 -t 1 -n 300 "https://127.0.0.1:$PORT_tls/" --json "$TMP/t1.json" >/dev/null
    jqcheck "TLS --insecure: 300 responses over 4 connections" "$TMP/t1.json" \
        '.stats.requests == 300 and .stats.errors == 0 and .stats.connects == 4'
    "$BRINK" load -q -c 2 -t 1 -n 10 "https://localhost:$PORT_tls/" --json "$TMP/t2.json" >"$TMP/t2.out" 2>&1
    rc=$?
    jqcheck "TLS without --insecure: verification fails, counted as tls errors" "$TMP/t2.json" \
        '.stats.requests == 0 and .errors.tls == 10 and (.error_details.tls | test("certificate verify failed"))'
    check "TLS without --insecure: exit 3" [ $rc -eq 3 ]
else
    ok "TLS # SKIP openssl could not make a certificate"
fi

# --- SIGINT: stops sending, partial result, exit 130, within ~2 s
"$BRINK" load -q -c 4 -t 2 -d 60s "$A/" --json "$TMP/i.json" >"$TMP/i.out" 2>&1 &
bp=$!
sleep 1.2
t0=$(date +%s%N)
kill -INT $bp
wait $bp
rc=$?
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
check "SIGINT: exit 130 (got $rc)" [ $rc -eq 130 ]
check "SIGINT: stopped within 2 s (took ${ms} ms)" [ $ms -lt 2000 ]
jqcheck "SIGINT: partial result written, marked interrupted" "$TMP/i.json" \
    '.stats.interrupted == true and .stats.requests > 0'
check "SIGINT: summary printed" grep -q "interrupted" "$TMP/i.out"
