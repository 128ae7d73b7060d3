# cli.sh — the shared option parser (src/core/cli.c) as users meet it, through the built brink:
# a typo gets a one-line error with a suggestion and exit 2, an abbreviated option is refused (not
# guessed), an unknown command is answered with the closest one, every converted command's
# --help exits 0 and fits in 80 columns, and `-b @FILE` sends the file's bytes, as curl does.
# Nothing here may send traffic except where a test says so; the test server counts requests.
. "$(dirname "$0")/lib.bash"

start_srv a || exit 1
A=http://127.0.0.1:$PORT_a

# refused NAME WANT CMD...: exit 2, exactly one line on stderr containing WANT, no request sent
refused() {
    local name=$1 want=$2 rc lines before after
    shift 2
    before=$(srv_count "$PORT_a")
    timeout 10 "$BRINK" "$@" >"$TMP/r.out" 2>"$TMP/r.err"
    rc=$?
    after=$(srv_count "$PORT_a")
    lines=$(wc -l <"$TMP/r.err")
    if [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && grep -qF -- "$want" "$TMP/r.err" &&
        [ "$before" = "$after" ]; then
        ok "$name → exit 2, one line"
    else
        not_ok "$name (exit $rc, $lines lines, requests $before→$after)"
        sed 's/^/#   /' "$TMP/r.err" | head -5
    fi
}

# --- typos and abbreviations
refused "load --duraton: a suggestion" "unknown option '--duraton'; did you mean '--duration'?" \
    load --duraton 1s "$A/"
refused "the error points at the command's help" "(see brink load --help)" load --duraton 1s "$A/"
refused "load --dur (a prefix of --duration) is refused" "did you mean '--duration'?" \
    load --dur 1s -n 1 "$A/"
refused "load --conn=4 (a prefix, with =) is refused" "unknown option '--conn'; did you mean '--connections'?" \
    load --conn=4 -n 1 "$A/"
refused "proxy --up (a prefix of --upstream) is refused, nothing listens" \
    "did you mean '--upstream'?" proxy --up "127.0.0.1:$PORT_a" --api 127.0.0.1:0
refused "merge --js (a prefix of --json) is refused" "did you mean '--json'?" merge --js x.json y.json
refused "compare --tol (a prefix of --tolerance) is refused" "did you mean '--tolerance'?" \
    compare --tol 0.2 a.json b.json
refused "probe --cuont: a suggestion" "did you mean '--count'?" probe --cuont 2 '{}'
refused "a flag given a value" "option '--quiet' takes no value" load --quiet=1 -n 1 "$A/"
refused "an option without its value" "option '--duration' needs a value" load "$A/" --duration
refused "a value naming its option" "option '--connections': invalid number 'many'" load -c many "$A/"
refused "an unknown command: a suggestion" "unknown command 'rase'; did you mean 'race'?" rase
refused "an unknown command far from any" "unknown command 'frobnicate' (see brink help)" frobnicate

# --- the options still work in every spelling (wrk's short ones, =, clusters, "--")
"$BRINK" load -qc2 -t1 -n 4 --timeout=2s "$A/" --json "$TMP/l.json" >/dev/null 2>&1
jqcheck "load -qc2 -t1 -n 4 --timeout=2s: 4 requests over 2 connections" "$TMP/l.json" \
    '.stats.requests == 4 and .config.connections == 2 and .config.threads == 1'
"$BRINK" load --dry-run -m POST -- "$A/after-dashes" >"$TMP/dd.out" 2>&1
check "load -- URL: the URL after \"--\" is positional" grep -q '^POST /after-dashes HTTP/1.1' "$TMP/dd.out"

# --- --help of every command on the shared parser: exit 0, nothing wider than 80 columns
for cmd in load probe proxy report compare merge; do
    help_says $cmd --help -- "^Usage: brink $cmd "
done
check "brink load -h documents -b @FILE" bash -c "'$BRINK' load -h | grep -q -- '@FILE reads it from FILE'"

# --- -b @FILE: the file's bytes are the body (as --body-file), shown by --dry-run
printf '{"order": 42,\n "note": "two lines, a tab\there"}\n' >"$TMP/body.json"
"$BRINK" load --dry-run -m POST -b @"$TMP/body.json" "$A/echo" >"$TMP/at.out" 2>"$TMP/at.err"
rc=$?
size=$(stat -c %s "$TMP/body.json")
if [ $rc -eq 0 ] && tail -c "$size" "$TMP/at.out" | cmp -s - "$TMP/body.json" &&
    grep -q "^Content-Length: $size" "$TMP/at.out"; then
    ok "load -b @FILE: the body is the file's $size bytes"
else
    not_ok "load -b @FILE (exit $rc): $(head -c 300 "$TMP/at.out" "$TMP/at.err")"
fi
"$BRINK" load --dry-run -m POST --body-file "$TMP/body.json" "$A/echo" >"$TMP/bf.out" 2>&1
check "load -b @FILE sends what --body-file FILE sends" cmp -s "$TMP/at.out" "$TMP/bf.out"
"$BRINK" load --dry-run -m POST -b '{"at": "@"}' "$A/echo" >"$TMP/lit.out" 2>&1
check "load -b TEXT with an @ inside is still the text itself" grep -q '^{"at": "@"}$' "$TMP/lit.out"
before=$(srv_count "$PORT_a")
"$BRINK" load -q -c 1 -t 1 -n 3 -m POST -b @"$TMP/body.json" "$A/echo" --json "$TMP/b.json" >/dev/null 2>&1
jqcheck "load -b @FILE against the server: 3 requests answered" "$TMP/b.json" \
    '.stats.requests == 3 and .stats.errors == 0'
check "the server counted the 3 requests" [ "$(srv_count "$PORT_a")" -eq $((before + 3)) ]
refused "load -b @FILE of a missing file" "cannot read body file /nonexistent/body.json" \
    load -m POST -b @/nonexistent/body.json "$A/"
refused "load -b @FILE with --body-file" "give either -b @FILE or --body-file, not both" \
    load -m POST -b @"$TMP/body.json" --body-file "$TMP/body.json" "$A/"

# webhook, capacity, redis-failure, db-restart: --help from their tables, typos and prefixes
# refused before any stack starts (the refused helper checks exit 2, one line, nothing sent)
for cmd in webhook capacity redis-failure db-restart; do
    help_says $cmd --help -- "^Usage: brink $cmd "
done
check "db-restart --help: a long mode line goes on under its text" \
    bash -c "'$BRINK' db-restart --help | grep -q '^             toxic 0)$'"
refused "webhook --duraton: a suggestion" "unknown option '--duraton'; did you mean '--duration'?" \
    webhook light --duraton 1s
refused "webhook --rat 5 (a prefix of --rate) is refused" \
    "unknown option '--rat'; did you mean '--rate'?" webhook --rat 5 light
refused "capacity --stpe: a suggestion" "did you mean '--step'?" capacity --stpe 2s
refused "capacity --p99 (a prefix of --p99-limit) is refused" "did you mean '--p99-limit'?" \
    capacity --p99 200
refused "capacity: -R is refused with the reason" "--rate does not go with brink capacity" \
    capacity -R 100
refused "redis-failure --recovry: a suggestion" "did you mean '--recovery'?" \
    redis-failure down --recovry 5s
refused "redis-failure --stack (a prefix of --stack-profile) is refused" \
    "did you mean '--stack-profile'?" redis-failure down --stack untuned
refused "db-restart --baselne: a suggestion" "did you mean '--baseline'?" \
    db-restart crash --baselne 5s
refused "db-restart --drain (a prefix of --drain-timeout) is refused" \
    "did you mean '--drain-timeout'?" db-restart crash --drain 5s
refused "db-restart: a value naming its option" "option '--fault': invalid duration '5x'" \
    db-restart crash --fault 5x
refused "webhook: a shared row names its option" "option '--connections': invalid number 'many'" \
    webhook light -c many

# --- big and deep -f files (security review, issue 15: 80k keys took 53 s to be refused, 100k
# nested '[' 10 s): refused at once, before the YAML is parsed or its keys compared, one line
# naming the file (the limits: docs/config.md)
HEAD='target:\n  url: http://127.0.0.1:1/\n  webhook:\n    sign: none\n    headers:\n'
{ printf "$HEAD"; awk 'BEGIN { for (i = 0; i < 80000; i++) printf "      X-H%05d: v\n", i }'; } \
    >"$TMP/keys80k.yaml"
{ printf "$HEAD"; awk 'BEGIN { for (i = 0; i < 50000; i++) printf "      X-H%05d: v\n", i }'; } \
    >"$TMP/keys50k.yaml"
{ printf 'target: '; head -c 100000 /dev/zero | tr '\0' '['; echo; } >"$TMP/deep.yaml"
refused "-f with 80k keys (1.4 MB): too big, at once" \
    "$TMP/keys80k.yaml: too big (1440074 bytes; a config file holds at most 1 MiB)" \
    webhook light -f "$TMP/keys80k.yaml"
refused "-f with 50k keys in one mapping (under 1 MiB): too many keys, at once" \
    "$TMP/keys50k.yaml:6: target.webhook.headers: 50000 keys (a mapping holds at most 1000)" \
    webhook light -f "$TMP/keys50k.yaml"
refused "-f with 100k nested '[': too deep, at once" \
    "$TMP/deep.yaml:1: nested more than 64 levels deep" webhook light -f "$TMP/deep.yaml"
