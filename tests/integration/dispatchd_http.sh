# dispatchd_http.sh — dispatchd's answers to hostile HTTP (the security review's findings), on
# the embedded stack: request heads sent a byte at a time get 408 and lose their connection, one
# client address cannot take every connection, framing that RFC 9112 forbids is answered 501/400
# and the connection closed, order ids that cannot exist are 404 before any query (no error
# logged), repeated webhook headers are combined (signatures) or refused (id, timestamp), and a
# signature is accepted only in its canonical base64 text. Loopback only; every wait is bounded.
. "$(dirname "$0")/lib.bash"

dd_stack
# --request-timeout 1000: the deadlines show within seconds
if ! start_dd h --request-timeout 1000 --max-connections 16 --max-connections-per-client 8 --threads 2; then
    not_ok "dispatchd starts and becomes ready"
    exit 0
fi
P=$PORT_h
U=http://127.0.0.1:$P

# raw NAME BYTES [WAIT]: sends BYTES (printf format) on a new connection and reads until the
# service closes it, at most WAIT seconds (5); the answer in $TMP/raw.N, its status code in
# RAW_STATUS ("none" when nothing came), RAW_CLOSED=1 when the service closed the connection
RAW_N=0
raw() {
    local bytes=$2 wait=${3:-5} f=$TMP/raw.$((++RAW_N))
    echo "# $1: answer in $f"
    # (in one write: the service answers a head it refuses at once and closes, and a client still
    # writing then would get a reset that loses the answer)
    printf "$bytes" >"$f.req"
    timeout "$wait" bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 9; cat "$1" >&3; cat <&3' \
        "$P" "$f.req" >"$f" 2>/dev/null
    local rc=$?
    RAW_CLOSED=0
    [ $rc -eq 0 ] && RAW_CLOSED=1
    RAW_STATUS=$(head -1 "$f" | tr -d '\r' | awk '{print $2}')
    RAW_STATUS=${RAW_STATUS:-none}
}
# raw_case NAME WANT BYTES: the answer is WANT and the connection closed after it
raw_case() {
    raw "$1" "$3"
    check "$1: $2 and closed (got $RAW_STATUS, closed=$RAW_CLOSED)" \
        [ "$RAW_STATUS" = "$2" -a $RAW_CLOSED = 1 ]
}

H='Host: x\r\nContent-Type: application/json\r\n'
# ---- framing (RFC 9112) -------------------------------------------------------------------------
raw_case "Transfer-Encoding: gzip" 501 "POST /webhooks/orders HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\nxx"
raw_case "Transfer-Encoding: identity" 501 "POST /webhooks/orders HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\nContent-Length: 2\r\n\r\n{}"
raw_case "Transfer-Encoding: gzip, chunked" 501 "POST /webhooks/orders HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"
raw_case "Transfer-Encoding: chunked, chunked" 400 "POST /webhooks/orders HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"
raw_case "two Transfer-Encoding: chunked headers" 400 "POST /webhooks/orders HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
raw_case "Content-Length with Transfer-Encoding: chunked" 400 "POST /webhooks/orders HTTP/1.1\r\n${H}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
raw_case "two different Content-Length headers" 400 "POST /webhooks/orders HTTP/1.1\r\n${H}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}x"
raw_case "a GET with two different Content-Length headers" 400 "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n"
raw_case "HTTP/1.1 without Host" 400 "GET /healthz HTTP/1.1\r\n\r\n"
raw_case "two Host headers" 400 "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
raw "HTTP/1.0 without Host" "GET /healthz HTTP/1.0\r\n\r\n"
check "HTTP/1.0 without Host: served (200)" [ "$RAW_STATUS" = 200 ]
raw "two equal Content-Length headers" "POST /orders/no-such-$RANDOM/accept HTTP/1.1\r\n${H}Content-Length: 18\r\nContent-Length: 18\r\nConnection: close\r\n\r\n{\"vendor_id\":\"v1\"}"
check "two equal Content-Length headers: read as one (404 for the unknown order: $RAW_STATUS)" \
    [ "$RAW_STATUS" = 404 ]
# a chunk that never comes: the body deadline answers (before, the connection waited for the
# idle timeout without an answer)
t0=$(date +%s%N)
raw "a chunk size of 2^64-1, then silence" "POST /webhooks/orders HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n" 8
ms=$((($(date +%s%N) - t0) / 1000000))
check "a chunk size of 2^64-1 and silence: answered ($RAW_STATUS) and closed within 8 s ($ms ms)" \
    [ "$RAW_STATUS" != none -a $RAW_CLOSED = 1 ]
check "... and the service still answers" [ "$(http_status "$U/healthz")" = 200 ]

# ---- slow heads and one address taking every connection ----------------------------------------
# slowhead: a request head sent one byte every 0.4 s (for at most 20 s); its answer on stdout
SLOW_HEAD=$(printf 'GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Pad: %050d\r\n' 0)
slowhead() {
    timeout 20 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 9
        ( for ((i = 0; i < ${#1}; i++)); do printf "%s" "${1:i:1}" >&3 2>/dev/null || exit; sleep 0.4; done ) &
        cat <&3' "$P" "$SLOW_HEAD" 2>/dev/null
}
t0=$(date +%s%N)
slowhead >"$TMP/slow1.raw"
ms=$((($(date +%s%N) - t0) / 1000000))
st=$(head -1 "$TMP/slow1.raw" | tr -d '\r' | awk '{print $2}')
check "a head sent a byte every 0.4 s: 408 and closed after --request-timeout (got ${st:-none} in $ms ms)" \
    [ "${st:-none}" = 408 -a $ms -lt 8000 ]
check "... with a JSON body naming the timeout" grep -q '"error":"request_timeout"' "$TMP/slow1.raw"
# 12 slow heads at once from 127.0.0.1 (over the 8 one address may hold): another address is served
slow_pids=()
for i in $(seq 1 12); do
    slowhead >"$TMP/slowmany.$i.raw" &
    slow_pids+=($!)
done
sleep 0.5
served=0
for _ in 1 2 3 4 5; do
    [ "$(http_status "$U/healthz" --interface 127.0.0.2 --max-time 1)" = 200 ] && served=$((served + 1))
done
check "12 slow heads from 127.0.0.1 hold connections: 127.0.0.2 is served 5 of 5 ($served)" [ $served = 5 ]
wait "${slow_pids[@]}"
n408=$(cat "$TMP"/slowmany.*.raw | grep -c '^HTTP/1.1 408')
check "... the slow heads that got a connection were answered 408 ($n408 of 12)" [ "$n408" -ge 4 ]
check "... and 127.0.0.1 is served again" [ "$(http_status "$U/healthz" --max-time 2)" = 200 ]
# an idle kept-alive connection is not a slow head: the idle timeout applies to it, not the deadline
timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"; printf "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" >&3
    sleep 2.5; printf "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" >&3; cat <&3' "$P" >"$TMP/idle.raw" 2>/dev/null
check "a kept-alive connection idle for 2.5 s (over --request-timeout) serves its next request" \
    [ "$(grep -c '^HTTP/1.1 200' "$TMP/idle.raw")" = 2 ]

reuse=$(curl -sv --max-time 5 "$U/healthz" "$U/orders/nope" "$U/healthz" 2>&1 | grep -c '^\* Re-using')
check "GET requests keep the connection alive (curl re-used it $reuse of 2 times)" [ "$reuse" = 2 ]

# ---- order ids that cannot exist ----------------------------------------------------------------
check "GET /orders/%FF (not UTF-8): 404" [ "$(http_status "$U/orders/%FF")" = 404 ]
check "GET /orders/%C0%AF (an overlong form): 404" [ "$(http_status "$U/orders/%C0%AF")" = 404 ]
check "GET /orders/%ED%A0%80 (a surrogate): 404" [ "$(http_status "$U/orders/%ED%A0%80")" = 404 ]
check "POST /orders/%FF/accept: 404" [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    -H 'Content-Type: application/json' --data '{"vendor_id":"v1"}' "$U/orders/%FF/accept")" = 404 ]
check "GET /orders/ + 201 bytes (longer than any order_id): 404" \
    [ "$(http_status "$U/orders/$(printf 'a%.0s' $(seq 1 201))")" = 404 ]
check "GET /orders/%C3%A9 (UTF-8, no such order): 404" [ "$(http_status "$U/orders/%C3%A9")" = 404 ]

# ---- repeated webhook headers and canonical signatures ------------------------------------------
run=$RANDOM$RANDOM
now=$(date +%s)
KEYHEX=$(secret_hex)
body=$(order_body "rep-$run")
sig=$(sig_of "$KEYHEX" "msg_rep_$run" "$now" "$body")
check "a valid signature in a second webhook-signature header: 202" \
    [ "$(post "$P" "msg_rep_$run" "$body" "$now" "v1,AAAA" -H "webhook-signature: v1,$sig")" = 202 ]
body=$(order_body "rep2-$run")
check "two webhook-id headers: 400" \
    [ "$(post "$P" "msg_rep2_$run" "$body" "$now" "" -H "webhook-id: msg_other_$run")" = 400 ]
check "two webhook-timestamp headers: 400" \
    [ "$(post "$P" "msg_rep3_$run" "$body" "$now" "" -H "webhook-timestamp: $now")" = 400 ]
# the 44-character text of a 32-byte MAC ends in one '=': its last data character carries two
# spare bits, which a canonical encoding leaves zero; setting one gives another text of one MAC
body=$(order_body "canon-$run")
sig=$(sig_of "$KEYHEX" "msg_canon_$run" "$now" "$body")
B64=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/
c=${sig:42:1}
pos=$(($(expr index "$B64" "$c") - 1))
alt=${sig:0:42}${B64:$((pos | 1)):1}=
check "the same MAC in a non-canonical base64 text ($c→${alt:42:1}): 401" \
    [ "$(post "$P" "msg_canon_$run" "$body" "$now" "v1,$alt")" = 401 ]
check "... and in its canonical text: 202" [ "$(post "$P" "msg_canon_$run" "$body" "$now")" = 202 ]

stop "$PID_h"
check "no error in dispatchd's log (no query ever saw an impossible id)" \
    not grep -E ' error ' "$TMP/h.log"
dd_logs_check
