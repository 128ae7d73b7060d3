# load_delivery.sh — brink load as a webhook sender that retries and duplicates (--delivery,
# --retry-schedule, --duplicate-rate), against testsrv, whose own request count is the ground
# truth: /fail-first/N/ID fails each event N times, /status/500 always fails (the sender must give
# every event up: the detector fires), /retry-after/S/ID answers 429 with Retry-After once (the
# sender waits that long only when it honours the header), / always acknowledges (duplicates). Every count brink
# reports must add up to what the server saw. Bad sender options: one line, exit 2, nothing sent.
# Loopback only, every run bounded.
. "$(dirname "$0")/lib.bash"

# ---- bad options: exit 2, one line, nothing sent ------------------------------------------------
start_srv bad || exit 1
U=http://127.0.0.1:$PORT_bad/
usage_case() { refuses "usage: $1" 2 "$2" timeout 20 "$BRINK" load -d 1s "${@:3}" "$U"; }
usage_case "closed model" "need the open model" --delivery stripe
usage_case "unknown sender, with a suggestion" "did you mean 'stripe'" -R 10 --delivery strpe
usage_case "both a provider and a schedule" "not both" -R 10 --delivery stripe --retry-schedule 1s
usage_case "an empty wait" "list of waits" -R 10 --retry-schedule 1s,,2s
usage_case "a schedule longer than run plus drain" "longer than the run" \
    -R 10 --retry-schedule 5s,5s --delivery-drain 1s
usage_case "a scale for a sender that does not retry" "does not retry" \
    -R 10 --delivery github --retry-scale 0.1
usage_case "a duplicate rate above 1" "duplicate-rate" -R 10 --duplicate-rate 1.5
check "nothing was sent by the refused runs" [ "$(srv_count "$PORT_bad")" = 0 ]
check "brink load --help lists the sender options" \
    all prints '--delivery SENDER' "$BRINK" load --help -- prints '--duplicate-rate' "$BRINK" load --help

# ---- every event fails twice, then succeeds: 3 attempts each, all delivered ----------------------
start_srv flaky || exit 1
"$BRINK" load -R 200 -d 2s -c 16 -t 2 --retry-schedule 50ms,100ms,200ms -q \
    "http://127.0.0.1:$PORT_flaky/fail-first/2/{{seq}}" --json "$TMP/flaky.json" >"$TMP/flaky.out" 2>&1
check "retries: exit 0" [ $? -eq 0 ]
seen=$(srv_count "$PORT_flaky")
jqcheck "retries: 0% acknowledged at once, 100% in the end, 3 attempts an event, none given up" \
    "$TMP/flaky.json" '.stats.events == 400 and .stats.first_attempt_success_rate == 0
     and .stats.eventual_delivery_rate == 1 and .stats.gave_up == 0 and .stats.undelivered == 0
     and .stats.attempts_per_event == 3 and .stats.attempts_per_event_max == 3
     and .stats.retries == 800 and .status["503"] == 800 and .status["200"] == 400'
jqcheck "retries: the server saw every attempt brink counts ($seen requests)" "$TMP/flaky.json" \
    ".stats.sent == $seen and .stats.events + .stats.retries == $seen"
jqcheck "retries: delivery delay = the two waits (150 ms) plus the answers, under 1 s" \
    "$TMP/flaky.json" '.stats.delivery_delay_p50_s >= 0.15 and .stats.delivery_delay_max_s < 1
     and .delivery.policy == "custom" and .delivery.retry_schedule_s == [0.05, 0.1, 0.2]'
start_srv term || exit 1
"$BRINK" load -R 50 -d 1s -c 4 -t 1 --retry-schedule 20ms -q \
    "http://127.0.0.1:$PORT_term/fail-first/1/{{seq}}" >"$TMP/term.out" 2>&1
check "retries: the terminal names the sender and the delivery" \
    has "$TMP/term.out" '^  sender  *custom: 1 retry after 20ms' \
    '^  delivery  *50 events: 0.00% acknowledged at once, 100.00% in the end; 0 gave up'

# ---- a target that always fails: the sender gives every event up (the detector fires) ----------
start_srv broken || exit 1
"$BRINK" load -R 100 -d 1s -c 8 -t 1 --retry-schedule 10ms,20ms -q \
    "http://127.0.0.1:$PORT_broken/status/500" --json "$TMP/broken.json" >/dev/null 2>&1
seen=$(srv_count "$PORT_broken")
jqcheck "always 500: every event given up after 3 attempts, eventual delivery 0" "$TMP/broken.json" \
    ".stats.events == 100 and .stats.gave_up == 100 and .stats.eventual_delivery_rate == 0
     and .stats.delivery_delay_p99_s == null and .stats.sent == $seen and $seen == 300"

# ---- a provider's schedule, compressed into the run ---------------------------------------------
start_srv sw || exit 1
"$BRINK" load -R 100 -d 2s -c 8 -t 1 --delivery standard-webhooks -q \
    "http://127.0.0.1:$PORT_sw/fail-first/3/{{seq}}" --json "$TMP/sw.json" >/dev/null 2>&1
jqcheck "standard-webhooks: Svix's 7 waits (5 s ... 10 h) compressed into the 2 s run, every event delivered at its 4th attempt" \
    "$TMP/sw.json" '.delivery.policy == "standard-webhooks" and (.delivery.retry_schedule_s | length) == 7
     and .delivery.scale < 0.0001 and (.delivery.retry_schedule_s | add) <= 2.000001
     and .stats.eventual_delivery_rate == 1 and .stats.attempts_per_event == 4'

# ---- -n at a rate bounds the run too: the schedule is compressed into it, not run for hours --------
start_srv nreq || exit 1
timeout 60 "$BRINK" load -R 100 -n 100 -c 8 -t 1 --delivery standard-webhooks -q \
    "http://127.0.0.1:$PORT_nreq/fail-first/1/{{seq}}" --json "$TMP/nreq.json" >/dev/null 2>&1
jqcheck "-n 100 at 100/s: Svix's schedule compressed into the run's 2 s, every event delivered" \
    "$TMP/nreq.json" '.delivery.scale < 0.0001 and .stats.events == 100 and .stats.eventual_delivery_rate == 1'

# ---- the run ends before the retries: what is still owed is counted, not lost silently ----------
start_srv owed || exit 1
"$BRINK" load -R 100 -d 1s -c 8 -t 1 --retry-schedule 1.5s --delivery-drain 0.6s -q \
    "http://127.0.0.1:$PORT_owed/fail-first/1/{{seq}}" --json "$TMP/owed.json" >/dev/null 2>&1
jqcheck "a drain shorter than the wait: events still owed are undelivered, the rest delivered" \
    "$TMP/owed.json" '.stats.undelivered > 0 and .stats.events == 100
     and .stats.undelivered + .delivery.acknowledged == 100 and .stats.gave_up == 0'

# ---- Retry-After: each event's first attempt is answered 429 with "Retry-After: 2" ---------------
# the schedule's own 100 ms unless the sender honours the header (then 2 s, in real time)
start_srv ra || exit 1
"$BRINK" load -R 50 -d 1s -c 4 -t 1 --retry-schedule 100ms -q \
    "http://127.0.0.1:$PORT_ra/retry-after/2/{{seq}}" --json "$TMP/ra.json" >/dev/null 2>&1
jqcheck "Retry-After ignored (the presets' way): the retry follows the 100 ms schedule" \
    "$TMP/ra.json" '.stats.eventual_delivery_rate == 1 and .stats.retries == 50
     and .stats.delivery_delay_max_s < 1 and .delivery.retry_after_waits == 0
     and .delivery.honor_retry_after == false and .status["429"] == 50'
start_srv rah || exit 1
"$BRINK" load -R 50 -d 1s -c 4 -t 1 --retry-schedule 100ms --honor-retry-after \
    "http://127.0.0.1:$PORT_rah/retry-after/2/{{seq}}" --json "$TMP/rah.json" >"$TMP/rah.out" 2>&1
jqcheck "--honor-retry-after: every retry waits the 2 s the service asked for, all delivered" \
    "$TMP/rah.json" '.stats.eventual_delivery_rate == 1 and .stats.retries == 50
     and .delivery.retry_after_waits == 50 and .delivery.honor_retry_after
     and .stats.delivery_delay_p50_s >= 2 and .stats.delivery_delay_max_s < 3'
check "--honor-retry-after: the terminal counts the retries that waited" \
    has "$TMP/rah.out" "^  *50 retries waited for the service's Retry-After"
usage_case "--honor-retry-after for a sender that does not retry" "does not retry" \
    -R 10 --delivery github --honor-retry-after

# ---- duplicates: a share of acknowledged events is delivered again --------------------------------
start_srv dup || exit 1
"$BRINK" load -R 1000 -d 2s -c 16 -t 2 --duplicate-rate 0.2 --duplicate-window 200ms -q \
    "http://127.0.0.1:$PORT_dup/" --json "$TMP/dup.json" >/dev/null 2>&1
seen=$(srv_count "$PORT_dup")
# 2000 events at 20 %: 400 expected, the binomial's sd ~ 18; 5 sd either way
jqcheck "duplicates: about 20% of 2000 events sent twice, every request counted by the server ($seen)" \
    "$TMP/dup.json" ".stats.events == 2000 and .stats.duplicates_sent >= 310 and .stats.duplicates_sent <= 490
     and .stats.sent == $seen and .stats.events + .stats.duplicates_sent == $seen
     and .delivery.duplicates_acknowledged == .stats.duplicates_sent and .stats.retries == 0"

# ---- brink webhook with a sender: the delivery verdicts ------------------------------------------
start_srv wh || exit 1
"$BRINK" webhook light --target "http://127.0.0.1:$PORT_wh/fail-first/1/{{seq}}" --sign none \
    -R 100 -d 1s --retry-schedule 100ms,200ms -q --json "$TMP/wh.json" >"$TMP/wh.out" 2>&1
jqcheck "webhook --retry-schedule: every event delivered at its 2nd attempt; the delivery thresholds green" \
    "$TMP/wh.json" '.test == "webhook" and .stats.eventual_delivery_rate == 1 and .stats.attempts_per_event == 2
     and ([.thresholds[] | select(.test == "delivery") | .metric] == ["eventual_delivery_rate","gave_up","delivery_delay_p99_s"])
     and all(.thresholds[] | select(.test == "delivery"); .status == "green")'
"$BRINK" webhook light --target "http://127.0.0.1:$PORT_wh/status/503" --sign none \
    -R 100 -d 1s --retry-schedule 50ms -q --json "$TMP/wh503.json" >"$TMP/wh503.out" 2>&1
rc=$?
check "webhook against an endpoint that always fails: exit 99" [ $rc -eq 99 ]
jqcheck "... every event given up: gave_up and eventual_delivery_rate red, with evidence" "$TMP/wh503.json" \
    '([.thresholds[] | select(.test == "delivery" and .status == "red") | .metric] | sort) == ["eventual_delivery_rate","gave_up"]
     and .stats.gave_up == 100
     and ([.advice[] | select(.metric == "gave_up")][0].evidence | test("100 events failed every attempt"))'
refuses "webhook stress with a sender option: exit 2, one line" 2 "fixed-rate profile" \
    timeout 20 "$BRINK" webhook stress --target "http://127.0.0.1:$PORT_wh/" --sign none --delivery stripe

# ---- an event lifecycle per order: types, versions and reordering by arithmetic on {{seq}} ------
start_srv ev || exit 1
"$BRINK" load -m POST -R 400 -d 2s -c 8 -q --events 'a,b*2,c:0.5|d:0.5' --reorder-rate 0.3 \
    --body '{"t":"{{event}}","o":{{order}},"v":{{version}}}' "http://127.0.0.1:$PORT_ev/" \
    --json "$TMP/ev.json" >/dev/null 2>&1
seen=$(srv_count "$PORT_ev")
# 800 deliveries = 200 orders x 4 events, 40 orders interleaved (100 ms at 400/s): whole blocks
jqcheck "--events: 800 deliveries are 200 orders' a, b, b, c|d; counted by type ($seen at the server)" \
    "$TMP/ev.json" ".events.by_type.a.requests == 200 and .events.by_type.b.requests == 400
     and .events.by_type.c.requests + .events.by_type.d.requests == 200
     and .events.by_type.c.requests > 60 and .events.by_type.d.requests > 60
     and ([.events.by_type[].requests] | add) == $seen and .events.orders_interleaved == 40
     and .events.lifecycle == \"a,b*2,c:0.5|d:0.5\" and .events.reorder_rate == 0.3"
"$BRINK" load -m POST -R 200 -d 1s -c 8 -q --events 'a,b' --retry-schedule 50ms \
    --body '{"t":"{{event}}"}' "http://127.0.0.1:$PORT_ev/fail-first/1/{{seq}}" \
    --json "$TMP/evr.json" >/dev/null 2>&1
# (a busy machine can leave the last few of the 200 unsent when the 1 s schedule ends: counted)
jqcheck "--events with retries: a retry is the same event (each type sent twice, acknowledged once)" \
    "$TMP/evr.json" '.events.by_type as $t | $t.a.requests == 2 * $t.a.acknowledged
     and $t.b.requests == 2 * $t.b.acknowledged and $t.a.acknowledged >= 95
     and $t.a.acknowledged + $t.b.acknowledged + .stats.unsent == 200'
refuses "{{event}} without --events: exit 2, one line" 2 "need an event lifecycle" \
    "$BRINK" load -R 10 -d 1s --body '{{event}}' "http://127.0.0.1:$PORT_ev/"
refuses "--reorder-rate without --events: exit 2" 2 "goes with --events" \
    "$BRINK" load -R 10 -d 1s --reorder-rate 0.1 "http://127.0.0.1:$PORT_ev/"
refuses "--events with probabilities that do not add up: exit 2" 2 "add up to 1.2" \
    "$BRINK" load -R 10 -d 1s --events 'a,b:0.6|c:0.6' "http://127.0.0.1:$PORT_ev/"
