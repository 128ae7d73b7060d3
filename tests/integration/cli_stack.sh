# cli_stack.sh — `brink stack up|status|down|fault` on the shared option parser (src/core/cli.c),
# through the built brink: each --help exits 0 within 80 columns and says what the old help said
# (every option of up, the fault targets and operations, --config's dependencies, the exit
# statuses); a typo'd subcommand, option, profile, fault target or operation gets a suggestion; a
# prefix of a long option is refused, not guessed. Nothing here starts a stack: every command is
# refused before it would, and $RUN (TMPDIR and XDG_RUNTIME_DIR of every run) stays empty.
. "$(dirname "$0")/lib.bash"

RUN=$TMP/run # where a stack (or the most-recent-stack pointer) would be written
mkdir -p "$RUN"
chmod 700 "$RUN"

# stack_help ARGS -- WANT...: `brink stack ARGS` exits 0, prints nothing wider than 80 columns,
# and its output contains every WANT
stack_help() { help_says stack "$@"; }

stack_help --help -- "Usage: brink stack up [options]" "brink stack status [--dir DIR" \
    "brink stack down [--dir DIR | --state FILE] [--keep] [--timeout D]" \
    "brink stack fault TARGET OP [--dir DIR | --state FILE | --config FILE]" \
    "brink stack SUBCOMMAND --help" "Fault targets: postgres, redis, pgbouncer" \
    "brink-stack.latest" "ready_check: redis://127.0.0.1:6379" "3 the stack could"
stack_help help -- "Usage: brink stack up [options]" "Subcommands"
stack_help -h -- "Usage: brink stack up [options]"
stack_help up --help -- "Usage: brink stack up [options]" "--dir DIR" "--profile P" \
    "(default tuned)" "--keep" "--service CMD" "{secret_file} {dir}" "none: no service" \
    "--service-ready URL" "--pgbouncer " "--pg-prepare off" "--pg-port N" "--redis-port N" \
    "--service-port N" "--pgbouncer-port N" "--ready-timeout D" "(default" "10s)" \
    "a busy port" "Exit status: 0"
stack_help up -h -- "Usage: brink stack up [options]"
stack_help status --help -- "Usage: brink stack status [--dir DIR | --state FILE]" \
    "--dir DIR" "--state FILE" "most recent stack" "3 no stack found"
stack_help down --help -- "Usage: brink stack down [--dir DIR | --state FILE] [--keep]" \
    "--keep" "--timeout D" "60s)" "--keep (here or at up)"
stack_help fault --help -- "Usage: brink stack fault TARGET OP [--dir DIR | --state FILE]" \
    "brink stack fault TARGET OP --config FILE" "-f, --config FILE" "env BRINK_CONFIG" \
    "pause    SIGSTOP" "restart  stop, then start" "kill_cmd, pause_cmd, resume_cmd" \
    "wall-clock timestamps" "2 bad usage"

# refused NAME WANT ARGS...: `brink stack ARGS` exits 2 with one line on stderr containing WANT,
# nothing on stdout, and nothing in $RUN
refused() {
    local name=$1 want=$2 rc lines made
    shift 2
    TMPDIR=$RUN XDG_RUNTIME_DIR=$RUN timeout 20 "$BRINK" stack "$@" >"$TMP/r.out" 2>"$TMP/r.err"
    rc=$?
    lines=$(wc -l <"$TMP/r.err")
    made=$(ls -A "$RUN")
    if [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && grep -qF -- "$want" "$TMP/r.err" &&
        [ ! -s "$TMP/r.out" ] && [ -z "$made" ]; then
        ok "$name → exit 2, one line, nothing created"
    else
        not_ok "$name (exit $rc, $lines lines on stderr, created: '$made')"
        sed 's/^/#   /' "$TMP/r.err" "$TMP/r.out" | head -5
    fi
}

# --- subcommands
refused "stack upp: a suggestion" "unknown subcommand 'upp'; did you mean 'up'?" upp
refused "stack stat: the subcommand it begins" "unknown subcommand 'stat'; did you mean 'status'?" \
    stat
refused "stack xyz: the subcommands" "unknown subcommand 'xyz' (want up, status, down or fault)" xyz
refused "stack without a subcommand" "missing subcommand: up, status, down or fault" # none
refused "an option before the subcommand" "unknown option '--dir' (see brink stack --help)" \
    --dir "$RUN/d" up

# --- prefixes are refused, not guessed: nothing is started, no directory is made
refused "up --pg-por 5 (a prefix of --pg-port) is refused" \
    "unknown option '--pg-por'; did you mean '--pg-port'? (see brink stack up --help)" \
    up --pg-por 5 --service none
refused "up --pg-por=5 --dir DIR: refused, DIR not made" "did you mean '--pg-port'?" \
    up --pg-por=5 --service none --dir "$RUN/stack"
refused "up --ready 5s (a prefix of --ready-timeout) is refused" \
    "did you mean '--ready-timeout'?" up --ready 5s --service none
refused "fault --stat F (a prefix of --state) is refused" \
    "unknown option '--stat'; did you mean '--state'?" fault redis kill --stat "$RUN/x.json"

# --- typos
refused "up --servce: a suggestion" "unknown option '--servce'; did you mean '--service'?" \
    up --servce none
refused "down --timout: a suggestion" "unknown option '--timout'; did you mean '--timeout'?" \
    down --timout 5s --dir "$RUN/none"
refused "status --keep: not an option of status" "unknown option '--keep' (see brink stack status" \
    status --keep
refused "up --profile tunde: a suggestion" \
    "option '--profile': unknown profile 'tunde'; did you mean 'tuned'?" up --profile tunde
refused "fault redsi kill: a suggestion" "unknown fault target 'redsi'; did you mean 'redis'?" \
    fault redsi kill
refused "fault redis kil: a suggestion" "unknown fault operation 'kil'; did you mean 'kill'?" \
    fault redis kil

# --- values and arity are checked where they are read, naming the option
refused "up --pg-port 0" "option '--pg-port': invalid number '0'" up --pg-port 0
refused "down --timeout 0" "option '--timeout': invalid duration '0'" down --timeout 0
refused "up --dir '': not a directory, a usage error" "option '--dir': empty" up --dir "" --service none
refused "status --state '': a usage error" "option '--state': empty" status --state ""
refused "fault with one argument" "missing TARGET OP (e.g. brink stack fault postgres kill)" \
    fault redis
refused "up takes no argument" "unexpected argument 'now' (see brink stack up --help)" up now
refused "--config and --state" "give either --config (your own stack) or --dir/--state" \
    fault redis kill -f "$RUN/brink.yaml" --state "$RUN/x.json"
check "no stack directory or pointer was made" [ -z "$(ls -A "$RUN")" ]
