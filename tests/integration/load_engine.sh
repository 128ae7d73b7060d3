# load_engine.sh — proves the load engine's numbers against small test servers on loopback:
# exact request counts in both models, latency against a known server delay, coordinated-omission
# correction, response framing (chunked, close, HEAD, 204, 304, 1xx, close-delimited), reconnects,
# IPv6, and stages.
. "$(dirname "$0")/lib.bash"

start_srv a || exit 1
A=http://127.0.0.1:$PORT_a

# --- count reconciliation, closed model, by count
"$BRINK" load -q -c 16 -t 2 -n 5000 "$A/" --json "$TMP/c1.json" >/dev/null
jqcheck "closed -n 5000: brink completed exactly 5000" "$TMP/c1.json" '.stats.requests == 5000 and .stats.errors == 0'
n=$(srv_count "$PORT_a")
check "closed -n 5000: server counted 5000 (got $n)" [ "$n" = 5000 ]

# --- count reconciliation, closed model, by duration
before=$(srv_count "$PORT_a")
"$BRINK" load -q -c 8 -t 2 -d 2s "$A/" --json "$TMP/c2.json" >/dev/null
after=$(srv_count "$PORT_a")
got=$(jq '.stats.requests' "$TMP/c2.json")
check "closed -d 2s: server count $((after - before)) == brink completed $got" [ "$((after - before))" = "$got" ]
jqcheck "closed -d 2s: timeline has 2 full seconds, counts add up" "$TMP/c2.json" \
    '(.timeline | length) >= 2 and ([.timeline[].completed] | add) == .stats.requests'

# --- count reconciliation, open model
before=$(srv_count "$PORT_a")
"$BRINK" load -q -c 20 -t 2 -R 1000 -d 2s "$A/" --json "$TMP/o1.json" >/dev/null
after=$(srv_count "$PORT_a")
got=$(jq '.stats.requests' "$TMP/o1.json")
check "open -R 1000 -d 2s: server count $((after - before)) == brink completed $got" [ "$((after - before))" = "$got" ]
jqcheck "open -R 1000 -d 2s: 2000 scheduled, 2000 completed" "$TMP/o1.json" \
    '.stats.scheduled == 2000 and .stats.requests == 2000 and .stats.unsent == 0 and .stats.offered_rps == 1000'

# --- open model with -n: stops by count
"$BRINK" load -q -c 4 -R 2000 -n 300 "$A/" --json "$TMP/o2.json" >/dev/null
jqcheck "open -R 2000 -n 300: exactly 300 requests" "$TMP/o2.json" '.stats.requests == 300 and .stats.sent == 300'

# --- stages: 0->200 over 1s (100 due), 200 for 1s (200 due)
"$BRINK" load -q -c 10 --stages 1s:200,1s:200 "$A/" --json "$TMP/st.json" >/dev/null
jqcheck "stages 1s:200,1s:200: 300 requests due and completed" "$TMP/st.json" \
    '.stats.scheduled == 300 and .stats.requests == 300'

# --- fixed 20 ms server delay: p50 within [20, 25] ms. The floor is exact (a latency is never
# under-reported); the ceiling leaves 5 ms for the scheduling delay of testsrv's and brink's
# threads on 2 cores shared with other test files (22.2 ms seen once, 20.1 ms idle)
start_srv slow --delay-ms 20 || exit 1
"$BRINK" load -q -c 10 -t 1 -d 3s "http://127.0.0.1:$PORT_slow/" --json "$TMP/d.json" >/dev/null
jqcheck "20 ms server: p50 between 20 and 25 ms" "$TMP/d.json" '.stats.p50_ms >= 20 and .stats.p50_ms <= 25'

# --- coordinated omission: 500 rps for 4 s; the server stalls once for 500 ms, 1.5 s in.
# Requests whose intended time falls in the stall (500 rps x 0.5 s = 250 of N = 2000) wait until
# it ends: their corrected latencies are spread uniformly over (0, 500] ms. The p99 sample is the
# 20th largest (1% of 2000), so corrected p99 = 500 * (1 - 20/250) = 460 ms (+ the drain of the
# queue after the stall). With 2 connections only 2 requests are *sent* into the stall, so the
# service-time p99 stays at the server's normal latency.
start_srv co --stall-after-ms 1500 --stall-ms 500 || exit 1
"$BRINK" load -q -c 2 -t 1 -R 500 -d 4s "http://127.0.0.1:$PORT_co/" --json "$TMP/co.json" >/dev/null
expect=$(awk 'BEGIN { n = 2000; stalled = 500 * 0.5; print 500 * (1 - 0.01 * n / stalled) }')
jqcheck "coordinated omission: corrected p99 shows the stall (expect ~${expect} ms, 430..600)" "$TMP/co.json" \
    '.stats.p99_ms >= 430 and .stats.p99_ms <= 600 and .stats.max_ms >= 480'
jqcheck "coordinated omission: service-time p99 stays low (< 50 ms)" "$TMP/co.json" \
    '.stats.service_p99_ms < 50'
# A request still waiting for a busy connection when the 4 s end is reported as unsent, not sent:
# idle that is none; with two connections on a loaded machine a few of the last ones can be (13
# were seen with four test files at once): at most 2 % of them.
jqcheck "coordinated omission: nothing dropped (2000 due = completed + unsent at the end, late sends counted)" \
    "$TMP/co.json" '.stats.scheduled == 2000 and .stats.requests + .stats.unsent == 2000 and
    .stats.unsent <= 40 and .stats.late_sends > 100'

# --- response framing
for path in chunked close eof 204 304 100; do
    "$BRINK" load -q -c 4 -t 1 -n 200 "$A/$path" --json "$TMP/f.json" >/dev/null
    code=$path
    case $path in chunked | close | eof | 100) code=200 ;; esac
    jqcheck "framing /$path: 200 responses, all $code, no errors" "$TMP/f.json" \
        ".stats.requests == 200 and .status[\"$code\"] == 200 and .stats.errors == 0"
done
jqcheck "framing /100: the interim 100 is not counted as a response" "$TMP/f.json" '.status["100"] == null'
"$BRINK" load -q -c 4 -t 1 -n 200 "$A/close" --json "$TMP/f.json" >/dev/null
jqcheck "Connection: close: one connection per request" "$TMP/f.json" '.stats.connects == 200'
"$BRINK" load -q -c 4 -t 1 -n 200 -m HEAD "$A/" --json "$TMP/f.json" >/dev/null
jqcheck "HEAD: Content-Length without a body is parsed right" "$TMP/f.json" \
    '.stats.requests == 200 and .status["200"] == 200 and .stats.errors == 0'
"$BRINK" load -q -c 4 -t 1 -n 100 "$A/status/503" --json "$TMP/f.json" >/dev/null
jqcheck "HTTP 503 counts as an error, not as a transport error" "$TMP/f.json" \
    '.stats.http_errors == 100 and .stats.transport_errors == 0 and .stats.error_rate == 1'

# --- server closes connections every 3 responses: reconnects, nothing lost
start_srv ce --close-every 3 || exit 1
"$BRINK" load -q -c 8 -t 2 -n 3000 "http://127.0.0.1:$PORT_ce/" --json "$TMP/ce.json" >/dev/null
jqcheck "close-every 3: 3000 requests, no errors, >= 1000 connects" "$TMP/ce.json" \
    '.stats.requests == 3000 and .stats.errors == 0 and .stats.connects >= 1000'

# --- IPv6
start_srv v6 --listen ::1 || exit 1
"$BRINK" load -q -c 4 -t 1 -n 500 "http://[::1]:$PORT_v6/" --json "$TMP/v6.json" >/dev/null
jqcheck "IPv6 [::1]: 500 requests" "$TMP/v6.json" '.stats.requests == 500 and .stats.errors == 0'

# --- POST with a templated body and headers
"$BRINK" load -q -c 2 -t 1 -n 50 -m POST -H 'X-Req: {{seq}}-{{uuid}}' -b '{"n":{{seq}},"r":{{rand:1-9}},"t":{{now_ms}}}' \
    "$A/echo?c={{conn}}&t={{thread}}" --json "$TMP/p.json" >/dev/null
jqcheck "POST with templates: 50 responses" "$TMP/p.json" '.stats.requests == 50 and .stats.errors == 0'

# --- hdr interval log
"$BRINK" load -q -c 4 -t 2 -d 2s --hdr-log "$TMP/h.log" "$A/" >/dev/null
check "hdr-log: header and one Tag=latency interval per second" \
    all grep -q '^#\[Histogram log format version 1.3\]' "$TMP/h.log" -- [ "$(grep -c '^Tag=latency,' "$TMP/h.log")" -ge 2 ]
