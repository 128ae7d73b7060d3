/* stack_cmd.c — `brink stack up|down|status|fault` (see docs/stack.md): the command front end.
 *
 * `stack up` must return while the stack keeps running, and the proxies live in-process, so it
 * starts a supervisor (stack/supervisor.c: brink run again, as a sibling of this process), which
 * starts the stack and reports "O path" or "E reason" over a pipe; the command prints the state
 * file's path (exit 0) or the reason (exit 3) and returns, while the supervisor keeps the stack
 * running and answers fault requests on its control socket.
 *
 * `stack down` sends SIGTERM to the supervisor and waits, bounded, until it and every process of
 * the state file have exited — and have been collected by their parents: the shell that ran
 * `stack up` collects the supervisor at once — and the directory is removed; if the supervisor is
 * already dead (it was SIGKILLed: its reaper cleans up) it finishes whatever is left itself. A
 * process that will not exit is named, exit 1. Without --dir or --state, commands use the most
 * recent stack, whose state path `stack up` writes to a pointer file:
 * $XDG_RUNTIME_DIR/brink-stack.latest, else ${TMPDIR:-/tmp}/brink-stack-UID.latest.
 *
 * `stack fault TARGET OP --config FILE` needs no supervisor: it breaks a part of the user's own
 * stack in this process, with the commands of FILE's dependencies: section (deps.c), and prints
 * the same JSON line through the same code (supervisor_fault_reply, fault_print).
 *
 * The command line: one core/cli.h table per subcommand (its own --help, errors naming `brink
 * stack SUB --help`); `brink stack --help` is the overview; an unknown subcommand, fault target or
 * operation gets a suggestion. */
#include "cmd/stack_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cli.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/exitcode.h"
#include "config/deps_yaml.h"
#include "stack/proc.h"
#include "stack/ready.h"
#include "stack/stack.h"
#include "stack/state.h"
#include "stack/supervisor.h"

#define UP_WAIT_NS   (300 * NS_PER_S) /* safety net: the supervisor bounds every step itself */
#define CHECK_NS     (2 * NS_PER_S)
#define DOWN_EXIT_NS (10 * NS_PER_S) /* after the supervisor: the rest must have exited */
#define DOWN_REAP_NS (2 * NS_PER_S)  /* an exited process's parent collects it (not an error) */

static void nap_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits until pid is no longer running (gone, or a zombie: exited). 0, or -1 after timeout_ns. */
static int wait_gone(pid_t pid, int64_t timeout_ns) {
    int64_t deadline = clock_now_ns() + timeout_ns;
    while (proc_alive(pid)) {
        if (clock_now_ns() >= deadline) return -1;
        nap_ms(10);
    }
    return 0;
}

/* ---- the pointer to the most recent stack ------------------------------------------------- */

static void pointer_path(char *out, size_t len) {
    const char *x = getenv("XDG_RUNTIME_DIR");
    struct stat st;
    if (x && *x && stat(x, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
        access(x, W_OK) == 0) {
        snprintf(out, len, "%s/brink-stack.latest", x);
        return;
    }
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    snprintf(out, len, "%s/brink-stack-%u.latest", tmp, (unsigned)geteuid());
}

static void pointer_write(const char *state) {
    char p[1024];
    pointer_path(p, sizeof p);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return;
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_uid == geteuid()) {
        size_t n = strlen(state);
        if (write(fd, state, n) != (ssize_t)n || write(fd, "\n", 1) != 1) {
        }
    }
    close(fd);
}

static int pointer_read(char *out, size_t outlen) {
    char p[1024];
    pointer_path(p, sizeof p);
    int fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    ssize_t n = -1;
    if (fstat(fd, &st) == 0 && st.st_uid == geteuid()) n = read(fd, out, outlen - 1);
    close(fd);
    if (n <= 0) return -1;
    out[n] = '\0';
    out[strcspn(out, "\n")] = '\0';
    return out[0] ? 0 : -1;
}

static void pointer_clear_if(const char *state) {
    char cur[1024];
    if (pointer_read(cur, sizeof cur) == 0 && !strcmp(cur, state)) {
        char p[1024];
        pointer_path(p, sizeof p);
        unlink(p);
    }
}

static int locate_state(const char *dir, const char *state, char *out, size_t outlen, char *err,
                        size_t errlen) {
    if (state) {
        snprintf(out, outlen, "%s", state);
    } else if (dir) {
        snprintf(out, outlen, "%s/" STACK_STATE_FILE, dir);
    } else if (pointer_read(out, outlen) < 0) {
        char p[1024];
        pointer_path(p, sizeof p);
        err_set(err, errlen, "no stack found (no %s): give --dir DIR or --state FILE", p);
        return -1;
    }
    return 0;
}

/* ---- the command line: one table per subcommand ---------------------------------------------- */

/* The help texts, shared by `brink stack --help` and the subcommands' own. */
#define ABOUT_TEXT                                                                                 \
    "The embedded stack: a real PostgreSQL and Redis (Debian's packages) on free loopback ports, " \
    "a fault proxy in front of each with a Toxiproxy-compatible control API, and the service "     \
    "under test, given only the proxies' addresses. `up` prints the path of the state file "       \
    "(JSON: every URL, pid and file; see docs/stack.md) and returns while the stack runs under a " \
    "supervisor process; nothing is left behind after `down`, or if the supervisor dies."
#define LATEST_TEXT                                                                                \
    "Without --dir or --state, status, down and fault use the most recent stack: the last one "    \
    "that `up` started, whose state file's path is kept in $XDG_RUNTIME_DIR/brink-stack.latest, "  \
    "else in ${TMPDIR:-/tmp}/brink-stack-UID.latest."
#define FAULT_TEXT                                                                                 \
    "Fault targets: postgres, redis, pgbouncer (up --pgbouncer), service. Operations:\n"           \
    "  pause    SIGSTOP to its process group\n"                                                    \
    "  resume   SIGCONT; waits until it is ready\n"                                                \
    "  stop     graceful (SIGTERM; PostgreSQL: SIGINT, a fast shutdown); waits for the exit\n"     \
    "  kill     SIGKILL to the main process, then its group: a crash (WAL recovery next)\n"        \
    "  start    starts it again (same data, same port); waits until it is ready\n"                 \
    "  restart  stop, then start\n"                                                                \
    "The answer is one line of JSON with monotonic and wall-clock timestamps (signal, down, "      \
    "ready), the pids before and after, and the downtime."
#define CONFIG_TEXT                                                                                \
    "With --config FILE the fault is made on your own stack instead: TARGET is a dependency of "   \
    "FILE's dependencies: section, each with start_cmd, stop_cmd, kill_cmd, pause_cmd, "           \
    "resume_cmd (a list or a string; no shell unless sh -c), a ready_check URL (tcp://, "          \
    "redis://, postgresql://, http(s)://) and a timeout (default 10s); see docs/stack.md. For "    \
    "example:\n"                                                                                   \
    "  dependencies:\n"                                                                            \
    "    redis:\n"                                                                                 \
    "      start_cmd: redis-server /etc/redis/redis.conf\n"                                        \
    "      stop_cmd: [redis-cli, -p, \"6379\", shutdown]\n"                                        \
    "      kill_cmd: sh -c 'kill -9 $(cat /run/redis/redis-server.pid)'\n"                         \
    "      ready_check: redis://127.0.0.1:6379"

static const cli_cmd stack_cli = {
    .name = "stack",
    .args = "up [options]\n"
            "status [--dir DIR | --state FILE]\n"
            "down [--dir DIR | --state FILE] [--keep] [--timeout D]\n"
            "fault TARGET OP [--dir DIR | --state FILE | --config FILE]",
    .summary = ABOUT_TEXT "\n"
                          "\n"
                          "Subcommands (brink stack SUBCOMMAND --help for each one's options):\n"
                          "  up      start the stack; print its state file's path\n"
                          "  status  check every part: its pid, its process, its ready check\n"
                          "  down    stop the stack and remove its directory (unless --keep)\n"
                          "  fault   break a part: pause, resume, stop, kill, start, restart\n"
                          "\n" LATEST_TEXT,
    .epilog = FAULT_TEXT "\n"
                         "\n" CONFIG_TEXT "\n"
                         "\n"
                         "Exit status: 0 done (status: everything answers); 1 a process of the "
                         "stack would not exit (down); 2 bad usage; 3 the stack could not be "
                         "started, is not healthy, or its directory could not be removed.",
};
static const cli_opt stack_help_opts[] = {CLI_HELP};

/* --dir and --state: which stack (status, down, fault; up creates the directory). */
#define DIR_ROW(dest_, help_)                                                                      \
    { .name = "dir", .kind = CLI_STR, .dest = (dest_), .meta = "DIR", .help = (help_) }
#define STATE_ROW(dest_)                                                                           \
    {                                                                                              \
        .name = "state", .kind = CLI_STR, .dest = (dest_), .meta = "FILE",                         \
        .help = "the stack's state file (the path that up printed)"                                \
    }
#define WHICH_DIR "the stack's directory (default: the most recent stack)"
#define PORT_ROW(name_, dest_, help_)                                                              \
    {                                                                                              \
        .name = (name_), .kind = CLI_INT, .dest = (dest_), .min = 1, .max = 65535, .meta = "N",    \
        .help = (help_)                                                                            \
    }

/* "unknown WHAT 'word'; did you mean 'x'?", or with the list of what is known (want) when
 * nothing is close. */
static void unknown_word(const char *what, const char *word, const char *const *names, size_t n,
                         const char *want, char *err, size_t errlen) {
    if (cli_suggest(word, names, n))
        cli_unknown(what, word, names, n, err, errlen);
    else
        err_set(err, errlen, "unknown %s '%s' (want %s)", what, word, want);
}

/* --profile (dest: the stack_profile). */
static int parse_profile(const char *value, void *dest, char *err, size_t errlen) {
    static const char *const names[] = {"tuned", "untuned"}; /* stack_profile's order */
    for (size_t i = 0; i < 2; i++) {
        if (!strcmp(value, names[i])) {
            *(stack_profile *)dest = (stack_profile)i;
            return 0;
        }
    }
    char msg[200];
    unknown_word("profile", value, names, 2, "tuned or untuned", msg, sizeof msg);
    err_set(err, errlen, "option '--profile': %s", msg);
    return -1;
}

/* Which stack a subcommand acts on: --dir or --state (the embedded one, else the most recent), or
 * --config (fault: the user's own stack). */
typedef struct which {
    const char *dir, *state, *config;
} which;

#define GO_ON -1 /* parse_sub: the command line is good */

/* cli_parse, then what no table can say: --dir, --state and --config exclude each other (w may be
 * NULL). Returns GO_ON, or the exit status: EXIT_OK after --help, EXIT_USAGE with err. */
static int parse_sub(const cli_cmd *cmd, const cli_opt *opts, size_t nopts, int argc, char **argv,
                     const char **pos, int maxpos, const which *w, char *err, size_t errlen) {
    int npos;
    int rc = cli_parse(cmd, opts, nopts, argc, argv, pos, maxpos, &npos, err, errlen);
    if (rc != CLI_OK) return rc == CLI_EXIT_HELP ? EXIT_OK : EXIT_USAGE;
    if (w && ((w->dir && !w->dir[0]) || (w->state && !w->state[0]))) {
        err_set(err, errlen,
                "option '--%s': empty (give a path, or leave it out for the most "
                "recent stack)",
                w->dir && !w->dir[0] ? "dir" : "state");
        return EXIT_USAGE;
    }
    if (w && w->dir && w->state) {
        err_set(err, errlen, "give either --dir or --state, not both");
        return EXIT_USAGE;
    }
    if (w && w->config && (w->dir || w->state)) {
        const char *env = getenv("BRINK_CONFIG");
        err_set(err, errlen,
                "give either --config (your own stack) or --dir/--state (the embedded one)%s",
                env && *env ? "; BRINK_CONFIG is set" : "");
        return EXIT_USAGE;
    }
    return GO_ON;
}

/* ---- up --------------------------------------------------------------------------------- */

static int cmd_up(int argc, char **argv, char *err, size_t errlen) {
    const char *want_dir = NULL;
    stack_opts o = {.dir_prepared = true}; /* the table fills in the rest */
    const cli_cmd cmd = {
        .name = "stack up",
        .args = "[options]",
        .summary = ABOUT_TEXT "\n"
                              "\n"
                              "The state file's path is also remembered as the most recent stack, "
                              "which status, down and fault use without --dir or --state.",
        .epilog = "Exit status: 0 the stack is up (the state file's path on stdout); 2 bad usage; "
                  "3 the stack could not be started (nothing is left running, and the directory "
                  "is removed unless --keep).",
    };
    /* clang-format off */
    const cli_opt opts[] = {
        DIR_ROW(&want_dir, "the stack's directory, new or empty (default: a fresh "
                           "${TMPDIR:-/tmp}/brink-stack-XXXXXX)"),
        {.name = "profile", .kind = CLI_FN, .fn = parse_profile, .dest = &o.profile,
         .def = "tuned", .meta = "P",
         .help = "tuned or untuned; untuned gives the default service --untuned, see "
                 "docs/dispatchd.md#tuned-and-untuned"},
        CLI_KEEP_AS(&o.keep, NULL, "keep the directory (data, logs) after the stack goes down, "
                                   "or when it fails to start"),
        {.name = "service", .kind = CLI_STR, .dest = &o.service, .meta = "CMD",
         .help = "the service's command (no shell; quotes group words), with {pg_url} "
                 "{redis_addr} {redis_url} {listen} {port} {secret_file} {dir} "
                 "{redis_password_file}; default: bin/dispatchd --listen {listen} --pg {pg_url} "
                 "--redis {redis_url} --secret-file {secret_file}; none: no service. The URLs "
                 "carry no password: it gets PGPASSFILE and DISPATCHD_REDIS_PASSWORD_FILE (and "
                 "DATABASE_URL, REDIS_URL). As root it runs as the postgres account"},
        {.name = "service-ready", .kind = CLI_STR, .dest = &o.service_ready, .meta = "URL",
         .help = "the service's ready check (default http://{listen}/readyz)"},
        {.name = "pgbouncer", .kind = CLI_FLAG, .dest = &o.pgbouncer,
         .help = "PgBouncer (pool_mode transaction) between the service and PostgreSQL's "
                 "proxy; {pg_url} points at it and the default service gets --pg-prepare off"},
        PORT_ROW("pg-port", &o.pg_port,
                 "PostgreSQL's port (default: a free one; a busy port is an error)"),
        PORT_ROW("redis-port", &o.redis_port, "Redis's port (the same)"),
        PORT_ROW("service-port", &o.service_port, "the service's port, {port} (the same)"),
        PORT_ROW("pgbouncer-port", &o.pgbouncer_port,
                 "PgBouncer's port, with --pgbouncer (the same)"),
        {.name = "ready-timeout", .kind = CLI_DURATION, .dest = &o.ready_timeout_ns, .min = 1,
         .def = "10s", .meta = "D", .help = "how long each part may take to become ready"},
        CLI_HELP,
    };
    /* clang-format on */
    int pst = parse_sub(&cmd, opts, CLI_NOPTS(opts), argc, argv, NULL, 0, NULL, err, errlen);
    if (pst != GO_ON) return pst;
    if (want_dir && !want_dir[0]) { /* not a directory that cannot be made: a usage error */
        err_set(err, errlen,
                "option '--dir': empty (give a new or empty directory, or leave it "
                "out for a fresh one)");
        return EXIT_USAGE;
    }
    bool no_service = o.service && !strcmp(o.service, "none");
    if (no_service && o.service_ready) {
        err_set(err, errlen, "--service-ready needs a service (not --service none)");
        return EXIT_USAGE;
    }
    if (no_service && o.service_port) {
        err_set(err, errlen, "--service-port needs a service (not --service none)");
        return EXIT_USAGE;
    }
    if (o.pgbouncer_port && !o.pgbouncer) {
        err_set(err, errlen, "--pgbouncer-port needs --pgbouncer");
        return EXIT_USAGE;
    }
    char dir[1024];
    int repfd;
    if (supervisor_requested(&repfd, dir, sizeof dir)) { /* we are the one started below */
        o.dir = dir;
        return supervisor_run(&o, dir, repfd, err, errlen);
    }
    if (stack_dir_create(want_dir, false, dir, sizeof dir, err, errlen) < 0)
        return EXIT_UNREACHABLE;
    o.dir = dir;
    char exe[PATH_MAX];
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[el > 0 ? el : 0] = '\0';
    char **sargv = calloc((size_t)argc + 3, sizeof *sargv); /* brink stack up ARGS... */
    if (!sargv) {
        err_set(err, errlen, "out of memory");
        proc_rmtree(dir);
        return EXIT_UNREACHABLE;
    }
    sargv[0] = el > 0 ? exe : "brink";
    sargv[1] = "stack";
    for (int i = 0; i < argc; i++) sargv[i + 2] = argv[i];
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        err_set(err, errlen, "pipe: %s", strerror(errno));
        free(sargv);
        proc_rmtree(dir);
        return EXIT_UNREACHABLE;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid;
    int sp = supervisor_spawn(sargv, pfd[1], dir, &pid, err, errlen);
    free(sargv);
    close(pfd[1]);
    if (sp < 0) {
        close(pfd[0]);
        proc_rmtree(dir);
        return EXIT_UNREACHABLE;
    }
    char msg[1200];
    size_t got = 0;
    int64_t deadline = clock_now_ns() + UP_WAIT_NS;
    while (got < sizeof msg - 1) {
        int64_t left = deadline - clock_now_ns();
        if (left <= 0) break;
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        int r = poll(&p, 1, (int)(left / NS_PER_MS) + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        ssize_t n = read(pfd[0], msg + got, sizeof msg - 1 - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(pfd[0]);
    msg[got] = '\0';
    msg[strcspn(msg, "\n")] = '\0';
    if (got > 2 && msg[0] == 'O') {
        pointer_write(msg + 2);
        printf("%s\n", msg + 2);
        return EXIT_OK;
    }
    /* failed: wait (bounded) until the supervisor has cleaned up, so nothing is left running
     * (it is not our child but our sibling: watched, not waited for) */
    if (wait_gone(pid, 30 * NS_PER_S) != 0) {
        kill(pid, SIGKILL); /* its reaper cleans up after it */
        wait_gone(pid, 5 * NS_PER_S);
    }
    if (got > 2 && msg[0] == 'E') {
        err_set(err, errlen, "%s", msg + 2);
    } else {
        err_set(err, errlen, "the stack supervisor ended before the stack was ready (see %s/%s)",
                dir, SUPERVISOR_LOG);
    }
    if (!o.keep) {
        struct timespec ts = {0, 200 * 1000000L}; /* give the reaper a moment first */
        nanosleep(&ts, NULL);
        proc_rmtree(dir);
    }
    return EXIT_UNREACHABLE;
}

/* ---- status ------------------------------------------------------------------------------ */

typedef struct row {
    char name[32];
    long long pid;
    const char *proc; /* running, dead, - */
    const char *check;
    char endpoint[512];
    char detail[400];
} row;

static bool proc_row(row *r, json_t *doc, const char *name, long long pid) {
    snprintf(r->name, sizeof r->name, "%s", name);
    r->pid = pid;
    r->proc = pid <= 0 ? "stopped" : proc_alive((pid_t)pid) ? "running" : "dead";
    (void)doc;
    return pid > 0 && proc_alive((pid_t)pid);
}

static bool check_row(row *r, const char *url, const char *probe_url) {
    ready_redact(url, r->endpoint, sizeof r->endpoint);
    int64_t t0 = clock_now_ns();
    char e[400];
    if (ready_probe(probe_url ? probe_url : url, CHECK_NS, e, sizeof e) == 0) {
        r->check = "ok";
        snprintf(r->detail, sizeof r->detail, "%.1f ms", (double)(clock_now_ns() - t0) / NS_PER_MS);
        return true;
    }
    r->check = "FAIL";
    snprintf(r->detail, sizeof r->detail, "%s", e);
    return false;
}

static int cmd_status(int argc, char **argv, char *err, size_t errlen) {
    which w = {0};
    const cli_cmd cmd = {
        .name = "stack status",
        .args = "[--dir DIR | --state FILE]",
        .summary = "Checks every part of the stack: its supervisor and reaper, PostgreSQL, Redis, "
                   "their proxies, PgBouncer, the proxies' control API and the service, each with "
                   "its pid, whether its process runs, and its ready check (the time it took, or "
                   "why it failed); no password is shown.\n"
                   "\n" LATEST_TEXT,
        .epilog = "Exit status: 0 every part answers; 2 bad usage; 3 no stack found, or a part is "
                  "not healthy.",
    };
    const cli_opt opts[] = {DIR_ROW(&w.dir, WHICH_DIR), STATE_ROW(&w.state), CLI_HELP};
    int pst = parse_sub(&cmd, opts, CLI_NOPTS(opts), argc, argv, NULL, 0, &w, err, errlen);
    if (pst != GO_ON) return pst;
    char path[1100];
    if (locate_state(w.dir, w.state, path, sizeof path, err, errlen) < 0) return EXIT_UNREACHABLE;
    json_t *doc = stack_state_read(path, err, errlen);
    if (!doc) return EXIT_UNREACHABLE;
    row rows[12];
    int n = 0;
    bool healthy = true;
    memset(rows, 0, sizeof rows);

    row *r = &rows[n++];
    healthy &= proc_row(r, doc, "supervisor", stack_state_int(doc, "supervisor.pid"));
    r->check = "-";
    json_t *procs = json_object_get(doc, "processes");
    size_t i;
    json_t *p;
    long long reaper = 0;
    json_array_foreach(procs, i, p) {
        const char *nm = json_string_value(json_object_get(p, "name"));
        if (nm && !strcmp(nm, "reaper")) reaper = json_integer_value(json_object_get(p, "pid"));
    }
    r = &rows[n++];
    healthy &= proc_row(r, doc, "reaper", reaper);
    r->check = "-";

    const char *u;
    r = &rows[n++];
    healthy &= proc_row(r, doc, "postgres", stack_state_int(doc, "postgres.pid"));
    if ((u = stack_state_str(doc, "postgres.url"))) healthy &= check_row(r, u, NULL);
    r = &rows[n++];
    snprintf(r->name, sizeof r->name, "postgres proxy");
    r->proc = "-";
    if ((u = stack_state_str(doc, "postgres.proxy_url"))) healthy &= check_row(r, u, NULL);
    r = &rows[n++];
    healthy &= proc_row(r, doc, "redis", stack_state_int(doc, "redis.pid"));
    if ((u = stack_state_str(doc, "redis.url"))) healthy &= check_row(r, u, NULL);
    r = &rows[n++];
    snprintf(r->name, sizeof r->name, "redis proxy");
    r->proc = "-";
    if ((u = stack_state_str(doc, "redis.proxy_url"))) healthy &= check_row(r, u, NULL);
    if (stack_state_str(doc, "pgbouncer.url")) {
        r = &rows[n++];
        healthy &= proc_row(r, doc, "pgbouncer", stack_state_int(doc, "pgbouncer.pid"));
        healthy &= check_row(r, stack_state_str(doc, "pgbouncer.url"), NULL);
    }
    r = &rows[n++];
    snprintf(r->name, sizeof r->name, "proxy api");
    r->proc = "-";
    if ((u = stack_state_str(doc, "proxies.api"))) {
        char probe[600];
        snprintf(probe, sizeof probe, "%s/proxies", u);
        healthy &= check_row(r, u, probe);
    }
    if (stack_state_str(doc, "service.url")) {
        r = &rows[n++];
        healthy &= proc_row(r, doc, "service", stack_state_int(doc, "service.pid"));
        const char *ready = stack_state_str(doc, "service.ready_url");
        healthy &= check_row(r, ready ? ready : stack_state_str(doc, "service.url"), NULL);
    }
    printf("stack %s (%s)\n", stack_state_str(doc, "dir") ? stack_state_str(doc, "dir") : "?",
           path);
    printf("%-15s %-8s %-8s %-5s %s\n", "COMPONENT", "PID", "PROCESS", "CHECK", "ENDPOINT");
    for (int k = 0; k < n; k++) {
        char pid[24];
        if (rows[k].pid > 0)
            snprintf(pid, sizeof pid, "%lld", rows[k].pid);
        else
            snprintf(pid, sizeof pid, "-");
        printf("%-15s %-8s %-8s %-5s %s%s%s%s\n", rows[k].name, pid, rows[k].proc,
               rows[k].check ? rows[k].check : "-", rows[k].endpoint[0] ? rows[k].endpoint : "-",
               rows[k].detail[0] ? " (" : "", rows[k].detail, rows[k].detail[0] ? ")" : "");
    }
    json_decref(doc);
    if (!healthy) {
        err_set(err, errlen, "the stack is not healthy (see the table)");
        return EXIT_UNREACHABLE;
    }
    return EXIT_OK;
}

/* ---- down -------------------------------------------------------------------------------- */

static int cmd_down(int argc, char **argv, char *err, size_t errlen) {
    which w = {0};
    bool keep_opt = false;
    int64_t timeout_ns;
    const cli_cmd cmd = {
        .name = "stack down",
        .args = "[--dir DIR | --state FILE] [--keep] [--timeout D]",
        .summary = "Stops the stack: SIGTERM to its supervisor, which stops every part (if it has "
                   "not finished within --timeout, it is killed and its reaper ends what is "
                   "left); what is still running then is killed here. It returns when every "
                   "process of the stack has exited (at most 10 s more), after the directory is "
                   "removed, unless --keep (here or at up).\n"
                   "\n" LATEST_TEXT,
        .epilog = "Exit status: 0 the stack is down; 1 a process of the stack would not exit "
                  "(named); 2 bad usage; 3 no stack found, or the directory was left behind.",
    };
    /* clang-format off */
    const cli_opt opts[] = {
        DIR_ROW(&w.dir, WHICH_DIR),
        STATE_ROW(&w.state),
        CLI_KEEP_AS(&keep_opt, NULL, "keep the directory (data, logs): only stop the stack"),
        {.name = "timeout", .kind = CLI_DURATION, .dest = &timeout_ns, .min = 1, .def = "60s",
         .meta = "D", .help = "how long the supervisor may take to stop the stack"},
        CLI_HELP,
    };
    /* clang-format on */
    int pst = parse_sub(&cmd, opts, CLI_NOPTS(opts), argc, argv, NULL, 0, &w, err, errlen);
    if (pst != GO_ON) return pst;
    char path[1100];
    if (locate_state(w.dir, w.state, path, sizeof path, err, errlen) < 0) return EXIT_UNREACHABLE;
    json_t *doc = stack_state_read(path, err, errlen);
    if (!doc) {
        pointer_clear_if(path);
        return EXIT_UNREACHABLE;
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", stack_state_str(doc, "dir") ? stack_state_str(doc, "dir") : "");
    bool keep = keep_opt || json_is_true(json_object_get(doc, "keep"));
    pid_t sup = (pid_t)stack_state_int(doc, "supervisor.pid");
    if (keep_opt && dir[0]) supervisor_keep(dir);
    int rc = EXIT_OK;
    if (sup > 0 && supervisor_alive(sup)) {
        kill(sup, SIGTERM);
        if (wait_gone(sup, timeout_ns) < 0) {
            kill(sup, SIGKILL); /* its reaper kills what is left and removes the directory */
            wait_gone(sup, 5 * NS_PER_S);
        }
    }
    /* whatever is left (the supervisor was killed, or did not finish): end each group */
    json_t *procs = json_object_get(doc, "processes");
    size_t i;
    json_t *p;
    int64_t deadline = clock_now_ns() + 10 * NS_PER_S;
    json_array_foreach(procs, i, p) {
        pid_t pid = (pid_t)json_integer_value(json_object_get(p, "pid"));
        if (pid <= 1 || pid == sup) continue;
        while (proc_group_alive(pid) > 0 && clock_now_ns() < deadline) {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (proc_group_alive(pid) > 0) proc_group_end(pid, SIGKILL, 5 * NS_PER_S);
    }
    /* PostgreSQL's backends are not in the postmaster's group: the servers' programs working in
     * their data directories (normally gone already; this is for a stack whose supervisor and
     * reaper were both killed) */
    const char *wd[2][2] = {{"postgres.data_dir", "postgres.bindir"},
                            {"redis.data_dir", "redis.server"}};
    for (int k = 0; k < 2; k++) {
        const char *d = stack_state_str(doc, wd[k][0]), *x = stack_state_str(doc, wd[k][1]);
        char prog[1100], real[PATH_MAX];
        if (!d || !x) continue;
        snprintf(prog, sizeof prog, k == 0 ? "%s/postgres" : "%s", x);
        if (realpath(prog, real)) proc_end_cwd_under(d, real, 0, 2 * NS_PER_S);
    }
    /* every process of the state file has exited (bounded), and its parent has collected it:
     * a zombie holds nothing, but it is still a process to anyone who looks (kill -0, ps); the
     * shell that ran `stack up` collects the supervisor at once (supervisor_spawn), PID 1 may
     * take a second, or never, which is then no error */
    int64_t exit_by = clock_now_ns() + DOWN_EXIT_NS;
    for (bool running = true; running;) {
        running = false;
        json_array_foreach(procs, i, p) {
            pid_t pid = (pid_t)json_integer_value(json_object_get(p, "pid"));
            if (pid > 1 && proc_alive(pid)) running = true;
        }
        if (running && clock_now_ns() >= exit_by) break;
        if (running) nap_ms(10);
    }
    int64_t reap_by = clock_now_ns() + DOWN_REAP_NS;
    for (bool zombies = true; zombies && clock_now_ns() < reap_by;) {
        zombies = false;
        json_array_foreach(procs, i, p) {
            pid_t pid = (pid_t)json_integer_value(json_object_get(p, "pid"));
            if (pid > 1 && !proc_alive(pid) && proc_state(pid)) zombies = true;
        }
        if (zombies) nap_ms(5);
    }
    char left[256] = "";
    size_t ll = 0;
    json_array_foreach(procs, i, p) {
        pid_t pid = (pid_t)json_integer_value(json_object_get(p, "pid"));
        const char *nm = json_string_value(json_object_get(p, "name"));
        if (pid > 1 && proc_alive(pid) && ll < sizeof left)
            ll += (size_t)snprintf(left + ll, sizeof left - ll, " %s(%d)", nm ? nm : "?", (int)pid);
    }
    if (!keep && dir[0]) {
        struct stat st;
        for (int k = 0; k < 50 && stat(dir, &st) == 0; k++) { /* the reaper may be at it */
            if (proc_rmtree(dir) == 0) break;
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
    } else if (keep && dir[0]) {
        unlink(path);
    }
    pointer_clear_if(path);
    json_decref(doc);
    if (left[0]) {
        err_set(err, errlen,
                "processes of the stack would not exit (SIGKILL sent, waited %.0f s):%s (see ps "
                "-o pid,stat,wchan -p PID)",
                (double)DOWN_EXIT_NS / NS_PER_S, left);
        rc = EXIT_FAILURE_;
    } else if (!keep && dir[0] && access(dir, F_OK) == 0) {
        err_set(err, errlen, "the stack is down but %s could not be removed", dir);
        rc = EXIT_UNREACHABLE;
    } else {
        printf("stack %s is down%s\n", dir, keep ? " (directory kept)" : "");
    }
    return rc;
}

/* ---- fault ------------------------------------------------------------------------------- */

/* Prints a fault's JSON line (the supervisor's reply, or the same for --config) and returns
 * the exit status: 0, or 3 with the fault's error in err. */
static int fault_print(const char *reply, char *err, size_t errlen) {
    json_error_t je;
    json_t *doc = json_loads(reply, 0, &je);
    if (!doc) {
        err_set(err, errlen, "no answer from the stack's supervisor");
        return EXIT_UNREACHABLE;
    }
    size_t n = strlen(reply);
    printf("%s%s", reply, n && reply[n - 1] == '\n' ? "" : "\n");
    int rc = EXIT_OK;
    if (!json_is_true(json_object_get(doc, "ok"))) {
        const char *e = json_string_value(json_object_get(doc, "error"));
        err_set(err, errlen, "%s", e ? e : "the fault failed");
        rc = EXIT_UNREACHABLE;
    }
    json_decref(doc);
    return rc;
}

/* `fault TARGET OP --config FILE`: the user's own stack, with the commands of FILE. */
static int fault_config(const char *file, const char *target, stack_fault_op op, char *err,
                        size_t errlen) {
    deps *d;
    if (deps_load(file, &d, err, errlen) < 0) return EXIT_USAGE;
    if (!deps_find(d, target)) {
        char names[256];
        deps_names(d, names, sizeof names);
        err_set(err, errlen, "unknown fault target '%s' (%s defines %s)", target, file,
                names[0] ? names : "no dependency");
        deps_free(d);
        return EXIT_USAGE;
    }
    stack_fault_times t;
    char ferr[512] = "";
    int rc = deps_fault(d, target, op, &t, ferr, sizeof ferr);
    deps_free(d);
    json_t *reply = supervisor_fault_reply(target, stack_fault_name(op), rc, ferr, &t);
    char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
    json_decref(reply);
    if (!text) {
        err_set(err, errlen, "out of memory");
        return EXIT_UNREACHABLE;
    }
    int st = fault_print(text, err, errlen);
    free(text);
    return st;
}

static int cmd_fault(int argc, char **argv, char *err, size_t errlen) {
    static const char *const targets[] = {"postgres", "redis", "pgbouncer", "service"};
    which w = {0};
    const cli_cmd cmd = {
        .name = "stack fault",
        .args = "TARGET OP [--dir DIR | --state FILE]\nTARGET OP --config FILE",
        .summary = "Breaks a part of the embedded stack (its supervisor does it), or of your own "
                   "stack with --config.\n"
                   "\n" FAULT_TEXT "\n"
                   "\n" LATEST_TEXT,
        .epilog = CONFIG_TEXT "\n"
                              "\n"
                              "Exit status: 0 done; 2 bad usage (an unknown target or operation, "
                              "a bad FILE); 3 no stack found, or the fault failed.",
        .missing = "missing TARGET OP (e.g. brink stack fault postgres kill)",
        .min_args = 2,
        .max_args = 2,
    };
    /* clang-format off */
    const cli_opt opts[] = {
        DIR_ROW(&w.dir, WHICH_DIR),
        STATE_ROW(&w.state),
        CLI_CONFIG_AS(&w.config, "your own stack: TARGET is a dependency of this brink.yaml, "
                                 "as below"),
        CLI_HELP,
    };
    /* clang-format on */
    const char *pos[2];
    int pst = parse_sub(&cmd, opts, CLI_NOPTS(opts), argc, argv, pos, 2, &w, err, errlen);
    if (pst != GO_ON) return pst;
    const char *target = pos[0];
    bool known = w.config != NULL; /* the file says which targets it has (fault_config) */
    for (size_t i = 0; i < sizeof targets / sizeof targets[0] && !known; i++)
        known = !strcmp(target, targets[i]);
    if (!known) {
        unknown_word("fault target", target, targets, sizeof targets / sizeof targets[0],
                     "postgres, redis, pgbouncer or service", err, errlen);
        return EXIT_USAGE;
    }
    stack_fault_op op;
    if (stack_fault_parse(pos[1], &op) < 0) {
        const char *ops[STACK_FAULT_RESTART + 1];
        for (int i = 0; i <= STACK_FAULT_RESTART; i++) ops[i] = stack_fault_name((stack_fault_op)i);
        unknown_word("fault operation", pos[1], ops, STACK_FAULT_RESTART + 1,
                     "pause, resume, stop, kill, start or restart", err, errlen);
        return EXIT_USAGE;
    }
    if (w.config) return fault_config(w.config, target, op, err, errlen);
    char path[1100];
    if (locate_state(w.dir, w.state, path, sizeof path, err, errlen) < 0) return EXIT_UNREACHABLE;
    json_t *doc = stack_state_read(path, err, errlen);
    if (!doc) return EXIT_UNREACHABLE;
    char reply[4096];
    int rc = supervisor_fault_request(stack_state_str(doc, "supervisor.control"), target, pos[1],
                                      reply, sizeof reply, err, errlen);
    json_decref(doc);
    if (rc < 0) return EXIT_UNREACHABLE;
    return fault_print(reply, err, errlen);
}

/* ---- dispatch ---------------------------------------------------------------------------- */

static const struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv, char *err, size_t errlen);
} subcommands[] = {
    {"up", cmd_up}, {"status", cmd_status}, {"down", cmd_down}, {"fault", cmd_fault}};
#define NSUBCOMMANDS (sizeof subcommands / sizeof subcommands[0])

int stack_cmd_main(int argc, char **argv, char *err, size_t errlen) {
    if (argc < 2) {
        err_set(err, errlen,
                "missing subcommand: up, status, down or fault (see brink stack --help)");
        return EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "help")) {
        cli_help(stdout, &stack_cli, stack_help_opts, CLI_NOPTS(stack_help_opts));
        return EXIT_OK;
    }
    if (sub[0] == '-' && sub[1]) { /* -h, --help, or an option before the subcommand */
        int npos, rc = cli_parse(&stack_cli, stack_help_opts, CLI_NOPTS(stack_help_opts), 2, argv,
                                 NULL, 0, &npos, err, errlen);
        if (rc != CLI_OK) return rc == CLI_EXIT_HELP ? EXIT_OK : EXIT_USAGE;
    }
    const char *names[NSUBCOMMANDS];
    for (size_t i = 0; i < NSUBCOMMANDS; i++) {
        if (!strcmp(sub, subcommands[i].name))
            return subcommands[i].run(argc - 1, argv + 1, err, errlen);
        names[i] = subcommands[i].name;
    }
    unknown_word("subcommand", sub, names, NSUBCOMMANDS, "up, status, down or fault", err, errlen);
    return EXIT_USAGE;
}
