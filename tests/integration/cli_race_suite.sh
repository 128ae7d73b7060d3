# cli_race_suite.sh — `brink race` and `brink suite` on the shared option parser (src/core/cli.c),
# through the built brink: --help exits 0 within 80 columns and still says what the old one said
# (profiles, the suite's command lines, exit statuses); a prefix of a long option is refused with
# a suggestion (--vendor is not --vendors); typos in options and profiles get one. Nothing here
# starts a stack: every command is refused before it would, or aims at a closed port.
. "$(dirname "$0")/lib.bash"

OUT=$TMP/out # the suite must not create it when it refuses its command line

# help_ok CMD WANT...: --help exits 0, nothing wider than 80 columns, and contains the usage line
# and every WANT
help_ok() { help_says "$1" --help -- "Usage: brink $1 " "${@:2}"; }

help_ok race 'light|moderate|heavy|stress' 'light 50x5' 'stress 1000x100' --vendors --orders \
    --stack-profile --target --secret-file --secret-env --pg '-f, --config' --release --settle \
    --timeout --setup-timeout --insecure --json '-q, --quiet' 'race_conditions > 0 red' \
    '130 interrupted' 'race.yaml'
help_ok suite 'quick|full|stress' 'Profiles (default quick)' 'brink race light' \
    'brink race moderate' 'brink race stress' 'brink capacity --max-time' --out --only --skip \
    --stack-profile '-f, --config' --json '-q, --quiet' '99 a threshold is red' '130 interrupted'
check "brink race -h is --help" bash -c "'$BRINK' race -h | grep -q '^Usage: brink race '"

# refused NAME WANT CMD...: exit 2, exactly one line on stderr containing WANT, nothing on stdout
refused() {
    local name=$1 want=$2 rc lines
    shift 2
    timeout 20 "$BRINK" "$@" >"$TMP/r.out" 2>"$TMP/r.err"
    rc=$?
    lines=$(wc -l <"$TMP/r.err")
    if [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && grep -qF -- "$want" "$TMP/r.err" && [ ! -s "$TMP/r.out" ]; then
        ok "$name → exit 2, one line"
    else
        not_ok "$name (exit $rc, $lines lines on stderr)"
        sed 's/^/#   /' "$TMP/r.err" "$TMP/r.out" | head -5
    fi
}

# --- suite --threshold TEST:COND, checked against that test's numbers before anything starts
refused "suite --threshold without a test" "want TEST:COND" suite quick --threshold 'p99_ms<5'
refused "suite --threshold on a number the race has not" "unknown metric 'p99_ms'" \
    suite quick --threshold 'race:p99_ms<5'

# --- prefixes are refused, not guessed
refused "race --vendor 3 (a prefix of --vendors) is refused" \
    "unknown option '--vendor'; did you mean '--vendors'?" race --vendor 3
refused "race --order=3 (a prefix, with =) is refused" \
    "unknown option '--order'; did you mean '--orders'?" race --order=3
refused "race --setup (a prefix of --setup-timeout) is refused" \
    "did you mean '--setup-timeout'?" race --setup 5s
refused "suite --stack tuned (a prefix of --stack-profile) is refused" \
    "did you mean '--stack-profile'?" suite quick --out "$OUT" --stack tuned
# --- typos in options
refused "race --vednors: a suggestion" "unknown option '--vednors'; did you mean '--vendors'?" \
    race --vednors 3
refused "suite --onyl: a suggestion" "unknown option '--onyl'; did you mean '--only'?" \
    suite quick --out "$OUT" --onyl race
refused "the error points at the command's help" "(see brink suite --help)" \
    suite --out "$OUT" --bogus
# --- typos in profiles
refused "suite quik: a suggestion" "unknown profile 'quik'; did you mean 'quick'?" \
    suite quik --out "$OUT"
refused "suite medium: the profiles" "unknown profile 'medium': quick, full or stress" \
    suite medium --out "$OUT"
refused "race ligth: a suggestion" "unknown profile 'ligth'; did you mean 'light'?" race ligth
refused "race tiny: the profiles" "unknown profile 'tiny' (light, moderate, heavy or stress)" \
    race tiny
# --- values are checked where they are read, naming the option
refused "race --vendors 1: a race needs 2" "option '--vendors': invalid number '1'" race --vendors 1
refused "race --settle 2s: at most 1s" "option '--settle': invalid duration '2s'" race --settle 2s
refused "race --timeout 0: at least 1ms" "option '--timeout': invalid duration '0'" race --timeout 0
refused "race --release together" "option '--release': unknown mode 'together'" \
    race --release together
refused "suite --stack-profile fast" "option '--stack-profile': invalid value 'fast'" \
    suite quick --out "$OUT" --stack-profile fast
refused "race: one profile only" "unexpected argument 'moderate'" race light moderate
refused "race --segment is still refused" "brink race does not take --segment" race --segment 1/2
# --- -f: the file is parsed once, before anything starts: one line naming FILE:LINE, not one error
# per test and "4 of 4 tests could not run" (security review, issue 15)
printf 'target:\n  url: http://127.0.0.1:1/\n  webhook: {sign: none}\n  bogus: 1\n' >"$TMP/bad.yaml"
refused "suite -f with a mistake: the file's line, once" \
    "brink suite: $TMP/bad.yaml:4: target.bogus: unknown key" suite quick --out "$OUT" -f "$TMP/bad.yaml"
printf 'target:\n  url: [\n' >"$TMP/bad2.yaml"
refused "suite --only race -f with a YAML syntax error" "$TMP/bad2.yaml:3: YAML syntax error" \
    suite --out "$OUT" --only race -f "$TMP/bad2.yaml"
check "the refused suites created no output directory" [ ! -e "$OUT" ]

# --- the options still work in every spelling: port 1 answers nothing (exit 3)
"$BRINK" race light --target "http://127.0.0.1:1" --orders=3 --vendors 2 --timeout=1s \
    --setup-timeout 2s --release=barrier --settle 0 -q --json "$TMP/race.json" \
    >"$TMP/race.out" 2>&1
rc=$?
check "race with every value spelling: parsed, then exit 3 at the closed port ($rc)" \
    bash -c "[ $rc -eq 3 ] && grep -q 'does not answer' '$TMP/race.out' && [ ! -s '$TMP/race.json' ]"
