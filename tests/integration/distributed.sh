# distributed.sh — scale-out of load generation (docs/distributed.md), without a cluster:
#  (1) the Kubernetes manifests of deploy/kubernetes: parsed as YAML and checked for what brink
#      relies on, and broken copies refused (the C test test_segment_k8s, run here too);
#  (2) the mechanism, locally: 4 brink load processes, --segment 1/4..4/4 with one --start-at,
#      against one counting test server: the server's count equals the configured load exactly,
#      the {{seq}} values of the 4 are disjoint and together the whole sequence (open and closed
#      model, logged by a small path-recording server), and brink merge of the 4 documents gives
#      a latency histogram equal, bucket for bucket, to the sum of the 4 (decoded here by an
#      independent HdrHistogram V2 decoder in Perl, not by brink); webhook segments merge into a
#      judged document that brink report reads; capacity segments run one plan and merge step by
#      step; the manifests' own shell scripts (4 load pods, the merge Job) run here with /bin/sh
#      and the cluster's paths moved to a temporary directory, a late pod included;
#  (3) bad input: exit 2 and one line (merge of a missing, duplicate or foreign document, bad
#      --segment and --start-at, --segment where it is refused), --start-at interruptible.
# All traffic stays on loopback; every run is bounded by -d or -n and by the servers' lifetimes.
. "$(dirname "$0")/lib.bash"

# ---- (1) the manifests ---------------------------------------------------------------------
if [ -x "$BUILD/tests/test_segment_k8s" ]; then
    if out=$("$BUILD/tests/test_segment_k8s" 2>&1); then
        ok "manifests: Indexed Job, segments, PVC, Secret file, ConfigMap brink.yaml (and broken copies refused)"
    else
        not_ok "manifests"
        printf '%s\n' "$out" | grep -v '^\[ *\(RUN\|OK\) ' | sed 's/^/#   /' | head -10
    fi
else
    not_ok "manifests: $BUILD/tests/test_segment_k8s is not built"
fi
if command -v kubectl >/dev/null 2>&1; then
    if kubectl kustomize "$ROOT/deploy/kubernetes" >"$TMP/k.yaml" 2>"$TMP/k.err" &&
        [ "$(grep -c '^kind: Job$' "$TMP/k.yaml")" -eq 2 ]; then
        ok "manifests: kubectl kustomize renders both Jobs"
    else
        not_ok "manifests: kubectl kustomize"
        sed 's/^/#   /' "$TMP/k.err" | head -5
    fi
else
    ok "manifests: kubectl kustomize # SKIP kubectl is not installed"
fi

# ---- helpers -------------------------------------------------------------------------------

# An independent decoder of brink's .hdr strings (HdrHistogram V2, compressed, base64): prints
# "index count" for every non-zero bucket of the histograms given on stdin (one per line),
# summed.
cat >"$TMP/hdr.pl" <<'EOF'
use strict;
use warnings;
use MIME::Base64;
use Compress::Zlib;
my @sum;
while (my $line = <STDIN>) {
    chomp $line;
    next unless length $line;
    my $bin = decode_base64($line);
    my ($cookie, $len) = unpack("NN", $bin);
    die "not a compressed V2 histogram\n" unless ($cookie & ~0xf0) == 0x1c849304;
    my $p = uncompress(substr($bin, 8, $len));
    die "zlib stream does not inflate\n" unless defined $p;
    my ($c2, $plen) = unpack("NN", $p);
    die "not a V2 encoding\n" unless ($c2 & ~0xf0) == 0x1c849303;
    my ($pos, $end, $i) = (40, 40 + $plen, 0);
    while ($pos < $end) {
        my ($u, $n) = (0, 0);
        while (1) {
            my $b = ord(substr($p, $pos + $n, 1));
            if ($n == 8) { $u |= $b << 56; $n++; last; }
            $u |= ($b & 0x7f) << (7 * $n);
            $n++;
            last unless $b & 0x80;
        }
        $pos += $n;
        my $v = ($u & 1) ? -(($u >> 1) + 1) : ($u >> 1);
        if ($v < 0) { $i += -$v; next; }
        $sum[$i] += $v if $v;
        $i++;
    }
}
for my $i (0 .. $#sum) { print "$i $sum[$i]\n" if $sum[$i]; }
EOF

# A server that records the path of every request, one a line, and answers 200 with
# Connection: close (so one process serves them all in turn). Bounded by an alarm.
cat >"$TMP/paths.pl" <<'EOF'
use strict;
use warnings;
use IO::Socket::INET;
my ($portfile, $log) = @ARGV;
my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 512,
                                ReuseAddr => 1, Proto => 'tcp') or die "listen: $!";
open(my $pf, '>', "$portfile.tmp") or die; print $pf $srv->sockport, "\n"; close $pf;
rename("$portfile.tmp", $portfile);
open(my $lf, '>', $log) or die; $lf->autoflush(1);
$SIG{ALRM} = sub { exit 0 }; alarm 90;
while (my $c = $srv->accept) {
    local $/ = "\r\n\r\n";
    my $head = <$c>;
    next unless defined $head;
    my ($path) = $head =~ m{^[A-Z]+ (\S+) HTTP/};
    if ($head =~ /^Content-Length:\s*(\d+)/mi && $1 > 0) { my $body; read($c, $body, $1); }
    print $lf "$path\n" if defined $path;
    print $c "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    close $c;
}
EOF

start_paths() { # sets PPORT, PLOG
    PLOG=$TMP/paths.$1.log
    rm -f "$TMP/paths.port"
    perl "$TMP/paths.pl" "$TMP/paths.port" "$PLOG" &
    PIDS+=("$!")
    for _ in $(seq 1 200); do
        [ -s "$TMP/paths.port" ] && break
        sleep 0.02
    done
    PPORT=$(cat "$TMP/paths.port")
}

# run4 PREFIX ARGS...: 4 brink load processes, segments 1/4..4/4, one --start-at 3 s ahead,
# PREFIX.N.json and PREFIX.N.err; returns non-zero when any failed
run4() {
    local prefix=$1 rc=0 pids=() i
    shift
    local at=$(($(date +%s) + 3))
    for i in 1 2 3 4; do
        "$BRINK" load -q --segment "$i/4" --start-at "$at" --json "$prefix.$i.json" "$@" \
            >"$prefix.$i.out" 2>"$prefix.$i.err" &
        pids+=("$!")
    done
    for i in 0 1 2 3; do wait "${pids[$i]}" || rc=1; done
    return $rc
}

jsum() { # jsum EXPR FILES...: the sum of jq EXPR over the files
    local expr=$1
    shift
    jq -s "map($expr) | add" "$@"
}

# ---- (2) the mechanism ---------------------------------------------------------------------
start_srv a || exit 1
S=$TMP/open

# open model: 500/s for 2 s is exactly 1000 requests, 250 each; they are the events of 250 orders
# (a, b, b, b: --events is planned for the whole test, so the segments share one lifecycle),
# delivered by a sender that would retry (nothing fails: its counts merge, none is dropped)
if run4 "$S" -R 500 -d 2s -c 8 -t 1 -m POST --events 'a,b*3' -b '{"t":"{{event}}","o":{{order}}}' \
    --retry-schedule 100ms,200ms \
    "http://127.0.0.1:$PORT_a/"; then
    ok "4 segments ran (open model, one --start-at)"
else
    not_ok "4 segments ran"
    cat "$S".*.err | sed 's/^/#   /' | head -5
fi
served=$(srv_count "$PORT_a")
check "the server counted exactly the configured load, 1000 (got $served)" [ "$served" = 1000 ]
check "the segments' responses sum to the server's count" \
    [ "$(jsum .stats.requests "$S".[1-4].json)" = "$served" ]
check "each segment was scheduled its share, 250" \
    [ "$(jq -s 'map(.stats.scheduled) | unique' "$S".[1-4].json | jq -c .)" = "[250]" ]
check "each segment had its share of -c 8, 2 connections" \
    [ "$(jq -s 'map(.config.connections) | unique' "$S".[1-4].json | jq -c .)" = "[2]" ]
check "the 4 started at the same instant (.started_at)" \
    [ "$(jq -s 'map(.started_at) | unique | length' "$S".[1-4].json)" = 1 ]
check ".config.segment says which segment of how many" \
    [ "$(jq -s -c 'map(.config.segment) | sort_by(.index)' "$S".[1-4].json)" = \
        '[{"index":1,"count":4},{"index":2,"count":4},{"index":3,"count":4},{"index":4,"count":4}]' ]
check "every segment's timeline carries per-second histograms" \
    [ "$(jq -s 'map(.timeline[] | has("hdr")) | all' "$S".[1-4].json)" = true ]

"$BRINK" merge "$S".[4321].json --json "$TMP/merged.json" >"$TMP/merge.out" 2>&1
check "brink merge of the 4 exits 0" [ $? -eq 0 ]
jqcheck "the merged document is a normal result document with .config.merged_from" \
    "$TMP/merged.json" '.schema == "brink.result/1" and .test == "load" and (.config.merged_from | length) == 4 and (.config | has("segment") | not)'
jqcheck "merged requests = the server's count" "$TMP/merged.json" ".stats.requests == $served"
jqcheck "merged offered rate = the configured 500/s" "$TMP/merged.json" '.stats.offered_rps == 500'
jqcheck "merged events: 250 orders' a and 750 b over the 4 segments, one lifecycle" "$TMP/merged.json" \
    '.events.by_type.a.requests == 250 and .events.by_type.b.requests == 750
     and .events.lifecycle == "a,b*3" and .events.orders_interleaved == 50'
jqcheck "merged sender: 1000 events, every one acknowledged at once, nothing dropped" "$TMP/merged.json" \
    '.delivery.events == 1000 and .delivery.acknowledged_first == 1000 and .stats.events == 1000
     and .stats.eventual_delivery_rate == 1 and .stats.retries == 0 and .delivery.delay.count == 1000
     and (.merge.dropped_stats | map(select(test("deliver|retr|events"))) | length) == 0'
# every second has all 4 segments but the last, which a segment whose final response came late
# (a busy machine) can have alone
jqcheck "merged timeline: aligned seconds, counts of all 4, percentiles merged" "$TMP/merged.json" \
    '.merge.aligned and .merge.timeline_percentiles == "merged" and ([.timeline[].completed] | add) == .stats.requests and all(.timeline[:-1][]; .segments == 4) and .timeline[-1].segments >= 1'
for h in corrected service; do
    for f in "$S".[1-4].json; do jq -r ".latency.$h.hdr" "$f"; done | perl "$TMP/hdr.pl" >"$TMP/sum.$h" 2>"$TMP/dec.err"
    jq -r ".latency.$h.hdr" "$TMP/merged.json" | perl "$TMP/hdr.pl" >"$TMP/merged.$h" 2>>"$TMP/dec.err"
    if [ -s "$TMP/sum.$h" ] && [ ! -s "$TMP/dec.err" ] && cmp -s "$TMP/sum.$h" "$TMP/merged.$h"; then
        ok "merged .latency.$h.hdr = the sum of the 4 segments', bucket for bucket ($(wc -l <"$TMP/sum.$h") buckets)"
    else
        not_ok "merged .latency.$h.hdr = the sum of the 4"
        diff "$TMP/sum.$h" "$TMP/merged.$h" | head -5 | sed 's/^/#   /'
        sed 's/^/#   /' "$TMP/dec.err" | head -3
    fi
done
check "the decoded merged histogram holds every response" \
    [ "$(awk '{s += $2} END {print s}' "$TMP/merged.corrected")" = "$served" ]

# seq_checks DIR N NAME: the {{seq}} values of the paths /DIR/{{seq}} the server saw: none twice,
# N in all (NAME: "N requests, no {{seq}} twice"), and exactly 0..N-1
seq_checks() {
    local seqs
    seqs=$(sed -n "s|^/$1/||p" "$PLOG" | sort -n)
    check "$3" [ "$(wc -l <<<"$seqs")" = "$2" -a "$(uniq -d <<<"$seqs" | wc -l)" = 0 ]
    check "${3%%:*}: the 4 segments' {{seq}} are exactly 0..$(($2 - 1))" [ "$seqs" = "$(seq 0 $(($2 - 1)))" ]
}

# {{seq}}: disjoint across segments, together the whole sequence (open model: 0..599)
start_paths open
run4 "$TMP/so" -R 300 -d 2s -c 4 -t 1 "http://127.0.0.1:$PPORT/o/{{seq}}"
seq_checks o 600 "open model: 600 requests, no {{seq}} twice"
check "open model: segment i sent only seq = i-1 mod 4" \
    [ "$(jq -s 'map(.stats.requests) | unique' "$TMP"/so.[1-4].json | jq -c .)" = "[150]" ]

# closed model: -n 1001 split 251 + 250 + 250 + 250, seq = i-1 + 4k
start_paths closed
run4 "$TMP/sc" -n 1001 -c 8 -t 1 "http://127.0.0.1:$PPORT/c/{{seq}}"
seq_checks c 1001 "closed model: -n 1001 sent 1001 in all, no {{seq}} twice"
check "closed model: the shares of -n 1001 are 251, 250, 250, 250" \
    [ "$(jq -s -c 'sort_by(.config.segment.index) | map(.stats.requests)' "$TMP"/sc.[1-4].json)" = "[251,250,250,250]" ]

# webhook segments: judged on their share, merged and judged on the whole
at=$(($(date +%s) + 3))
for i in 1 2; do
    "$BRINK" webhook light -q --target "http://127.0.0.1:$PORT_a/" --sign none -R 200 -d 1s \
        --segment "$i/2" --start-at "$at" --json "$TMP/w.$i.json" >"$TMP/w.$i.out" 2>&1 &
    PIDS+=("$!")
done
wait "${PIDS[-1]}" "${PIDS[-2]}"
"$BRINK" merge "$TMP"/w.[12].json --json "$TMP/wm.json" --junit "$TMP/wm.xml" >"$TMP/wm.out" 2>&1
rc=$?
check "brink merge of 2 webhook segments exits 0 (nothing red)" [ $rc -eq 0 ]
jqcheck "webhook merge: rps judged against the whole 200/s (orange 198, red 194)" "$TMP/wm.json" \
    '(.thresholds[] | select(.metric == "rps") | .orange == 198 and .red == 194) and .stats.requests == 200'
check "brink report reads the merged document" quietly "$BRINK" report "$TMP/wm.json"
check "the merged JUnit has a test case per merged verdict" \
    [ "$(grep -c '<testcase' "$TMP/wm.xml")" = "$(jq '.thresholds | length' "$TMP/wm.json")" ]

# capacity segments: a fixed plan (the same steps at the same times in both), merged step by step
before=$(srv_count "$PORT_a")
at=$(($(date +%s) + 3))
cpids=()
for i in 1 2; do
    "$BRINK" capacity -q --target "http://127.0.0.1:$PORT_a/" --sign none --segment "$i/2" \
        --start-at "$at" --start-rate 50 --max-rate 100 --step 1s --timeout 1s --warmup 0 \
        --json "$TMP/cap.$i.json" >"$TMP/cap.$i.out" 2>&1 &
    cpids+=("$!")
done
crc=0
for p in "${cpids[@]}"; do
    wait "$p"
    r=$?
    [ $r -eq 0 ] || [ $r -eq 99 ] || crc=$r # 99: red on its share (max_sustainable_rps)
done
check "2 capacity segments ran their plan (exit 0 or 99)" [ $crc -eq 0 ]
jqcheck "each capacity segment sent its half of each step, at the same planned times" \
    "$TMP/cap.1.json" '[.capacity.steps[] | [.total_rps, .offered_rps, .requests]] == [[50, 25, 25], [100, 50, 50]]'
"$BRINK" merge -q "$TMP"/cap.[12].json --json "$TMP/capm.json" >/dev/null 2>&1
# Each segment also judges its own half-rate steps; on a busy machine one of them can call its last
# step broken on its own view (its stop "resolved") while the merged step holds: the merge then
# says segments_diverged — the merged judgement below is what this checks.
jqcheck "merged capacity: steps of 50 and 100 webhooks, judged, held up to --max-rate" \
    "$TMP/capm.json" '[.capacity.steps[] | [.offered_rps, .requests, .verdict]] == [[50, 50, "good"], [100, 100, "good"]]
        and (.capacity.stop == "max_rate" or .capacity.stop == "segments_diverged") and .stats.max_sustainable_rps == 100' ||
    jq -c '.capacity | {stop, message, steps: [.steps[] | [.offered_rps, .requests, .verdict]]}' "$TMP/capm.json" |
    sed 's/^/#   capacity: /'
check "the server counted the plan's 150 webhooks" [ "$(($(srv_count "$PORT_a") - before))" = 150 ]

# the manifests' own scripts, run here by /bin/sh with the cluster's paths moved to $TMP: 4 load
# pods (JOB_COMPLETION_INDEX 0..3), then the merge Job's init container and container
script_of() { # FILE CONTAINER: the /bin/sh -c script of that container
    awk -v name="$2" '
        $0 ~ "- name: " name "$" { inside = 1 }
        inside && /args:/ { getline; if ($0 ~ /- \|$/) { grab = 1; next } }
        grab { if ($0 ~ /^              / || $0 ~ /^$/) { sub(/^              /, ""); print; next } else exit }
    ' "$1"
}
K=$ROOT/deploy/kubernetes
printf 'kube-secret\n' >"$TMP/kube.secret"
chmod 600 "$TMP/kube.secret"
cat >"$TMP/kube.yaml" <<EOF
target:
  url: http://127.0.0.1:$PORT_a
  webhook:
    sign: standard-webhooks
    secret: {file: $TMP/kube.secret}
EOF
to_local() {
    sed -e "s#/results#$TMP/results#g" -e "s#/etc/brink/config/brink.yaml#$TMP/kube.yaml#g" \
        -e "s#/etc/brink/secret/webhook-secret#$TMP/kube.secret#g" \
        -e "s#\(^ *\|exec \)brink \(webhook\|merge\)#\1'$BRINK' \2#"
}
script_of "$K/job-load.yaml" brink | to_local >"$TMP/pod-load.sh"
script_of "$K/job-merge.yaml" wait-for-segments | to_local >"$TMP/pod-wait.sh"
script_of "$K/job-merge.yaml" merge | to_local >"$TMP/pod-merge.sh"
before=$(srv_count "$PORT_a")
at=$(($(date +%s) + 3))
pods=()
for k in 0 1 2 3; do
    JOB_COMPLETION_INDEX=$k SEGMENTS=4 RATE=400 DURATION=1s START_AT=$at RUN_ID=run-1 \
        sh "$TMP/pod-load.sh" >"$TMP/pod.$k.out" 2>&1 &
    pods+=("$!")
done
rc=0
for k in 0 1 2 3; do wait "${pods[$k]}" || rc=1; done
check "the load Job's script, as 4 pods: each exits 0 and writes its segment" \
    [ $rc -eq 0 -a "$(ls "$TMP"/results/run-1/segment-*-of-4.json | wc -l)" = 4 ]
SEGMENTS=4 WAIT_SECONDS=10 RUN_ID=run-1 sh "$TMP/pod-wait.sh" >"$TMP/pod-wait.out" 2>&1
RUN_ID=run-1 sh "$TMP/pod-merge.sh" >"$TMP/pod-merge.out" 2>&1
rc=$?
check "the merge Job's scripts: the wait ends, brink merge exits 0" [ $rc -eq 0 ]
jqcheck "the merge Job's result: 400 webhooks, as the server counted" \
    "$TMP/results/run-1/merged/result.json" \
    ".stats.requests == 400 and .stats.requests == $(($(srv_count "$PORT_a") - before)) and (.config.merged_from | length) == 4"
check "the merge Job also wrote the HTML and JUnit reports" \
    [ -s "$TMP/results/run-1/merged/report.html" -a -s "$TMP/results/run-1/merged/junit.xml" ]
# a pod that starts too late leaves a .failed marker; the merge names the missing segment
JOB_COMPLETION_INDEX=0 SEGMENTS=2 RATE=10 DURATION=1s START_AT=$(($(date +%s) + 3)) RUN_ID=run-2 \
    sh "$TMP/pod-load.sh" >"$TMP/ontime.out" 2>&1
JOB_COMPLETION_INDEX=1 SEGMENTS=2 RATE=10 DURATION=1s START_AT=$(($(date +%s) - 30)) RUN_ID=run-2 \
    sh "$TMP/pod-load.sh" >"$TMP/late.out" 2>&1
rc=$?
SEGMENTS=2 WAIT_SECONDS=0 RUN_ID=run-2 sh "$TMP/pod-wait.sh" >/dev/null 2>&1
RUN_ID=run-2 sh "$TMP/pod-merge.sh" >"$TMP/late-merge.out" 2>&1
mrc=$?
if [ $rc -eq 2 ] && [ -s "$TMP/results/run-2/segment-2-of-2.failed" ] && [ $mrc -eq 2 ] &&
    grep -q "segment 2/2 is missing" "$TMP/late-merge.out"; then
    ok "a late pod exits 2 with a .failed marker; the merge fails naming segment 2/2"
else
    not_ok "a late pod: exit $rc, merge exit $mrc"
    sed 's/^/#   /' "$TMP/late.out" "$TMP/late-merge.out" | head -5
fi

# ---- (3) bad input ---------------------------------------------------------------------------

# bad NAME WANT CMD...: exit 2 and exactly one line on stderr containing WANT
bad() { refuses "bad input: $1" 2 "$2" "${@:3}"; }
bad "merge with a segment missing" "segment 3/4 is missing" "$BRINK" merge "$S".1.json "$S".2.json "$S".4.json
bad "merge with a segment twice" "are both segment 2/4" "$BRINK" merge "$S".1.json "$S".2.json "$S".2.json "$S".3.json "$S".4.json
bad "merge of another test's segments" "not one test" "$BRINK" merge "$S".1.json "$TMP/so.2.json" "$S".3.json "$S".4.json
bad "merge of a merged document" "is not a segment" "$BRINK" merge "$TMP/merged.json"
bad "merge of webhook and load segments" "not one test" "$BRINK" merge "$TMP/w.1.json" "$S".2.json
bad "merge of a non-document" "not valid JSON" "$BRINK" merge "$TMP/paths.pl"
bad "merge without files" "no result documents" "$BRINK" merge
bad "merge, unknown option" "unknown option" "$BRINK" merge --frobnicate "$S".1.json
check "brink merge --help exits 0" prints '--json OUT' "$BRINK" merge --help
before=$(srv_count "$PORT_a")
bad "--segment 0/4" "index must be from 1 to 4" "$BRINK" load --segment 0/4 -n 4 "http://127.0.0.1:$PORT_a/"
bad "--segment 4" "want i/n" "$BRINK" load --segment 4 -n 4 "http://127.0.0.1:$PORT_a/"
bad "--start-at in the past" "in the past" "$BRINK" load --start-at "$(($(date +%s) - 60))" -n 4 "http://127.0.0.1:$PORT_a/"
bad "--start-at in milliseconds" "more than a day ahead" "$BRINK" load --start-at "$(date +%s)000" -n 4 "http://127.0.0.1:$PORT_a/"
bad "fewer connections than segments" "cannot be split into 4 segments" "$BRINK" load --segment 1/4 -c 3 -n 8 "http://127.0.0.1:$PORT_a/"
bad "webhook --segment on the embedded stack" "needs a shared target" "$BRINK" webhook light --segment 1/2
bad "race --segment" "brink race does not take --segment" "$BRINK" race --segment 1/2
bad "redis-failure --segment" "does not take --segment" "$BRINK" redis-failure kill --segment 1/2
bad "db-restart --start-at" "does not take --segment" "$BRINK" db-restart crash --start-at 1
check "no request was sent by the refused commands" [ "$(srv_count "$PORT_a")" = "$before" ]

# --start-at waits, and SIGINT ends the wait: exit 130, nothing sent
"$BRINK" load --start-at "$(($(date +%s) + 30))" -n 5 "http://127.0.0.1:$PORT_a/" >"$TMP/i.out" 2>"$TMP/i.err" &
pid=$!
for _ in $(seq 1 200); do # until it says it waits (its SIGINT handler is in place by then)
    grep -q 'waiting until' "$TMP/i.err" && break
    sleep 0.05
done
kill -INT "$pid"
wait "$pid"
rc=$?
check "SIGINT while waiting for --start-at: exit 130, said so, nothing sent" \
    [ $rc -eq 130 -a "$(grep -c 'interrupted while waiting' "$TMP/i.err")" = 1 -a "$(srv_count "$PORT_a")" = "$before" ]
