/* stack_cmd.c — `brink stack up|down|status|fault` (see docs/stack.md): the command front end.
 *
 * `stack up` must return while the stack keeps running, and the proxies live in-process, so it
 * forks a supervisor (stack/supervisor.c), which starts the stack and reports "O path" or "E
 * reason" over a pipe; the command prints the state file's path (exit 0) or the reason (exit 3) and
 * returns, while the supervisor keeps the stack running and answers fault requests on its control
 * socket.
 *
 * `stack down` sends SIGTERM to the supervisor and waits, bounded, until it and every process of
 * the state file are gone and the directory is removed; if the supervisor is already dead (it
 * was SIGKILLed: its reaper cleans up) it finishes whatever is left itself. Without --dir or
 * --state, commands use the most recent stack, whose state path `stack up` writes to a pointer
 * file: $XDG_RUNTIME_DIR/brink-stack.latest, else ${TMPDIR:-/tmp}/brink-stack-UID.latest.
 *
 * `stack fault TARGET OP --config FILE` needs no supervisor: it breaks a part of the user's own
 * stack in this process, with the commands of FILE's dependencies: section (deps.c), and prints
 * the same JSON line through the same code (supervisor_fault_reply, fault_print). */
#include "cmd/stack_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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

#include "core/clock.h"
#include "core/err.h"
#include "core/parse.h"
#include "core/exitcode.h"
#include "config/deps_yaml.h"
#include "stack/proc.h"
#include "stack/ready.h"
#include "stack/stack.h"
#include "stack/state.h"
#include "stack/supervisor.h"

#define UP_WAIT_NS (300 * NS_PER_S) /* safety net: the supervisor bounds every step itself */
#define CHECK_NS   (2 * NS_PER_S)

static void usage(void) {
    printf(
        "Usage: brink stack up [options]\n"
        "       brink stack status [--dir DIR | --state FILE]\n"
        "       brink stack down [--dir DIR | --state FILE] [--keep] [--timeout D]\n"
        "       brink stack fault TARGET OP [--dir DIR | --state FILE | --config FILE]\n"
        "\n"
        "The embedded stack: a real PostgreSQL and Redis (Debian's packages) on free loopback\n"
        "ports, a fault proxy in front of each with a Toxiproxy-compatible control API, and\n"
        "the service under test, given only the proxies' addresses. `up` prints the path of\n"
        "the state file (JSON: every URL, pid and file; see docs/stack.md) and returns while\n"
        "the stack runs under a supervisor process; nothing is left behind after `down`, or\n"
        "if the supervisor dies.\n"
        "\n"
        "Options of up:\n"
        "  --dir DIR            the stack's directory (new or empty; default: a fresh\n"
        "                       ${TMPDIR:-/tmp}/brink-stack-XXXXXX)\n"
        "  --profile P          tuned (default) or untuned (the default service gets --untuned)\n"
        "  --keep               keep the directory after the stack goes down\n"
        "  --service CMD        the service's command (no shell; quotes group words), with\n"
        "                       {pg_url} {redis_addr} {redis_url} {listen} {port}\n"
        "                       {secret_file} {dir}; default: bin/dispatchd --listen {listen}\n"
        "                       --pg {pg_url} --redis {redis_url} --secret-file {secret_file};\n"
        "                       none: no service\n"
        "  --service-ready URL  the service's ready check (default http://{listen}/readyz)\n"
        "  --pgbouncer          PgBouncer (pool_mode transaction) between the service and\n"
        "                       PostgreSQL's proxy; {pg_url} points at it and the default\n"
        "                       service gets --pg-prepare off\n"
        "  --pg-port N, --redis-port N, --service-port N, --pgbouncer-port N\n"
        "                       fixed ports (default: free ones); a busy port is an error\n"
        "  --ready-timeout D    how long each part may take to become ready (default 10s)\n"
        "\n"
        "Fault targets: postgres, redis, pgbouncer (with --pgbouncer), service. Operations:\n"
        "pause, resume, stop, kill, start, restart; the answer is JSON with monotonic and\n"
        "wall-clock timestamps.\n"
        "With --config FILE the fault is made on your own stack instead: TARGET is a\n"
        "dependency of FILE's dependencies: section, each with start_cmd, stop_cmd,\n"
        "kill_cmd, pause_cmd, resume_cmd (a list or a string; no shell unless sh -c), a\n"
        "ready_check URL (tcp://, redis://, postgresql://, http(s)://) and a timeout\n"
        "(default 10s); see docs/stack.md. For example:\n"
        "  dependencies:\n"
        "    redis:\n"
        "      start_cmd: redis-server /etc/redis/redis.conf\n"
        "      stop_cmd: [redis-cli, -p, \"6379\", shutdown]\n"
        "      kill_cmd: sh -c 'kill -9 $(cat /run/redis/redis-server.pid)'\n"
        "      ready_check: redis://127.0.0.1:6379\n"
        "\n"
        "Exit status: 0 done (status: everything answers); 2 bad usage; 3 the stack could\n"
        "not be started, is not healthy, or could not be stopped.\n");
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

/* ---- shared option parsing ---------------------------------------------------------------- */

enum {
    OPT_DIR = 1000,
    OPT_STATE,
    OPT_PROFILE,
    OPT_KEEP,
    OPT_SERVICE,
    OPT_SERVICE_READY,
    OPT_PG_PORT,
    OPT_REDIS_PORT,
    OPT_SERVICE_PORT,
    OPT_READY_TIMEOUT,
    OPT_TIMEOUT,
    OPT_CONFIG,
    OPT_PGBOUNCER,
    OPT_PGBOUNCER_PORT,
};

typedef struct cli {
    const char *dir, *state, *service, *service_ready, *config;
    stack_profile profile;
    bool keep, pgbouncer;
    int pg_port, redis_port, service_port, pgbouncer_port;
    int64_t ready_timeout_ns, timeout_ns;
    char *pos[4];
    int npos;
} cli;

/* allowed: which options the subcommand takes (bit per OPT_ - 1000). */
static int parse_cli(int argc, char **argv, const char *sub, unsigned allowed, int maxpos, cli *c,
                     char *err, size_t errlen) {
    static const struct option opts[] = {
        {"dir", required_argument, 0, OPT_DIR},
        {"state", required_argument, 0, OPT_STATE},
        {"profile", required_argument, 0, OPT_PROFILE},
        {"keep", no_argument, 0, OPT_KEEP},
        {"service", required_argument, 0, OPT_SERVICE},
        {"service-ready", required_argument, 0, OPT_SERVICE_READY},
        {"pg-port", required_argument, 0, OPT_PG_PORT},
        {"redis-port", required_argument, 0, OPT_REDIS_PORT},
        {"service-port", required_argument, 0, OPT_SERVICE_PORT},
        {"ready-timeout", required_argument, 0, OPT_READY_TIMEOUT},
        {"timeout", required_argument, 0, OPT_TIMEOUT},
        {"config", required_argument, 0, OPT_CONFIG},
        {"pgbouncer", no_argument, 0, OPT_PGBOUNCER},
        {"pgbouncer-port", required_argument, 0, OPT_PGBOUNCER_PORT},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    char msg[256];
    int64_t v;
    optind = 1;
    opterr = 0;
    int o, idx;
    while ((o = getopt_long(argc, argv, ":h", opts, &idx)) != -1) {
        if (o >= OPT_DIR && !(allowed & (1u << (o - OPT_DIR)))) {
            err_set(err, errlen, "brink stack %s does not take %s (see brink stack --help)", sub,
                    argv[optind - 1]);
            return -1;
        }
        switch (o) {
        case OPT_DIR: c->dir = optarg; break;
        case OPT_STATE: c->state = optarg; break;
        case OPT_CONFIG: c->config = optarg; break;
        case OPT_PROFILE:
            if (!strcmp(optarg, "tuned"))
                c->profile = STACK_PROFILE_TUNED;
            else if (!strcmp(optarg, "untuned"))
                c->profile = STACK_PROFILE_UNTUNED;
            else {
                err_set(err, errlen, "unknown profile '%s' (want tuned or untuned)", optarg);
                return -1;
            }
            break;
        case OPT_KEEP: c->keep = true; break;
        case OPT_PGBOUNCER: c->pgbouncer = true; break;
        case OPT_SERVICE: c->service = optarg; break;
        case OPT_SERVICE_READY: c->service_ready = optarg; break;
        case OPT_PG_PORT:
        case OPT_REDIS_PORT:
        case OPT_SERVICE_PORT:
        case OPT_PGBOUNCER_PORT:
            if (parse_int(optarg, 1, 65535, &v, msg, sizeof msg) < 0) {
                err_set(err, errlen, "--%s: %s", opts[idx].name, msg);
                return -1;
            }
            *(o == OPT_PG_PORT        ? &c->pg_port
              : o == OPT_REDIS_PORT   ? &c->redis_port
              : o == OPT_SERVICE_PORT ? &c->service_port
                                      : &c->pgbouncer_port) = (int)v;
            break;
        case OPT_READY_TIMEOUT:
        case OPT_TIMEOUT:
            if (parse_duration_ns(optarg, &v, msg, sizeof msg) < 0) {
                err_set(err, errlen, "--%s: %s", opts[idx].name, msg);
                return -1;
            }
            if (v <= 0) {
                err_set(err, errlen, "--%s: must be more than 0", opts[idx].name);
                return -1;
            }
            *(o == OPT_TIMEOUT ? &c->timeout_ns : &c->ready_timeout_ns) = v;
            break;
        case 'h': usage(); return 1;
        case ':':
            err_set(err, errlen, "option '%s' needs a value (see brink stack --help)",
                    argv[optind - 1]);
            return -1;
        default:
            err_set(err, errlen, "unknown option '%s' (see brink stack --help)", argv[optind - 1]);
            return -1;
        }
    }
    for (; optind < argc; optind++) {
        if (c->npos >= maxpos) {
            err_set(err, errlen, "unexpected argument '%s' (see brink stack --help)", argv[optind]);
            return -1;
        }
        c->pos[c->npos++] = argv[optind];
    }
    if (c->dir && c->state) {
        err_set(err, errlen, "give either --dir or --state, not both");
        return -1;
    }
    if (c->config && (c->dir || c->state)) {
        err_set(err, errlen,
                "give either --config (your own stack) or --dir/--state (the embedded one)");
        return -1;
    }
    return 0;
}

#define ALLOW(x) (1u << ((x)-OPT_DIR))

/* ---- up --------------------------------------------------------------------------------- */

static int cmd_up(int argc, char **argv, char *err, size_t errlen) {
    cli c = {0};
    unsigned allowed = ALLOW(OPT_DIR) | ALLOW(OPT_PROFILE) | ALLOW(OPT_KEEP) | ALLOW(OPT_SERVICE) |
                       ALLOW(OPT_SERVICE_READY) | ALLOW(OPT_PG_PORT) | ALLOW(OPT_REDIS_PORT) |
                       ALLOW(OPT_SERVICE_PORT) | ALLOW(OPT_READY_TIMEOUT) | ALLOW(OPT_PGBOUNCER) |
                       ALLOW(OPT_PGBOUNCER_PORT);
    int pr = parse_cli(argc, argv, "up", allowed, 0, &c, err, errlen);
    if (pr != 0) return pr < 0 ? EXIT_USAGE : EXIT_OK;
    if (c.service && !strcmp(c.service, "none") && c.service_ready) {
        err_set(err, errlen, "--service-ready needs a service (not --service none)");
        return EXIT_USAGE;
    }
    if (c.service && !strcmp(c.service, "none") && c.service_port) {
        err_set(err, errlen, "--service-port needs a service (not --service none)");
        return EXIT_USAGE;
    }
    if (c.pgbouncer_port && !c.pgbouncer) {
        err_set(err, errlen, "--pgbouncer-port needs --pgbouncer");
        return EXIT_USAGE;
    }
    char dir[1024];
    if (stack_dir_create(c.dir, false, dir, sizeof dir, err, errlen) < 0) return EXIT_UNREACHABLE;
    stack_opts o = {
        .dir = dir,
        .dir_prepared = true,
        .keep = c.keep,
        .profile = c.profile,
        .service = c.service,
        .service_ready = c.service_ready,
        .pg_port = c.pg_port,
        .redis_port = c.redis_port,
        .service_port = c.service_port,
        .pgbouncer = c.pgbouncer,
        .pgbouncer_port = c.pgbouncer_port,
        .ready_timeout_ns = c.ready_timeout_ns,
    };
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        err_set(err, errlen, "pipe: %s", strerror(errno));
        proc_rmtree(dir);
        return EXIT_UNREACHABLE;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        err_set(err, errlen, "fork: %s", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        proc_rmtree(dir);
        return EXIT_UNREACHABLE;
    }
    if (pid == 0) {
        close(pfd[0]);
        return supervisor_run(&o, dir, pfd[1], err, errlen);
    }
    close(pfd[1]);
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
    /* failed: wait (bounded) until the supervisor has cleaned up, so nothing is left running */
    if (proc_wait(pid, 30 * NS_PER_S, NULL) != 0) {
        kill(pid, SIGKILL); /* its reaper cleans up after it */
        proc_wait(pid, 5 * NS_PER_S, NULL);
    }
    if (got > 2 && msg[0] == 'E') {
        err_set(err, errlen, "%s", msg + 2);
    } else {
        err_set(err, errlen, "the stack supervisor ended before the stack was ready (see %s/%s)",
                dir, SUPERVISOR_LOG);
    }
    if (!c.keep) {
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
    cli c = {0};
    int pr = parse_cli(argc, argv, "status", ALLOW(OPT_DIR) | ALLOW(OPT_STATE), 0, &c, err, errlen);
    if (pr != 0) return pr < 0 ? EXIT_USAGE : EXIT_OK;
    char path[1100];
    if (locate_state(c.dir, c.state, path, sizeof path, err, errlen) < 0) return EXIT_UNREACHABLE;
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

static int wait_gone(pid_t pid, int64_t timeout_ns) {
    int64_t deadline = clock_now_ns() + timeout_ns;
    while (proc_alive(pid)) {
        if (clock_now_ns() >= deadline) return -1;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return 0;
}

static int cmd_down(int argc, char **argv, char *err, size_t errlen) {
    cli c = {.timeout_ns = 60 * NS_PER_S};
    int pr = parse_cli(argc, argv, "down",
                       ALLOW(OPT_DIR) | ALLOW(OPT_STATE) | ALLOW(OPT_KEEP) | ALLOW(OPT_TIMEOUT), 0,
                       &c, err, errlen);
    if (pr != 0) return pr < 0 ? EXIT_USAGE : EXIT_OK;
    char path[1100];
    if (locate_state(c.dir, c.state, path, sizeof path, err, errlen) < 0) return EXIT_UNREACHABLE;
    json_t *doc = stack_state_read(path, err, errlen);
    if (!doc) {
        pointer_clear_if(path);
        return EXIT_UNREACHABLE;
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", stack_state_str(doc, "dir") ? stack_state_str(doc, "dir") : "");
    bool keep = c.keep || json_is_true(json_object_get(doc, "keep"));
    pid_t sup = (pid_t)stack_state_int(doc, "supervisor.pid");
    if (c.keep && dir[0]) supervisor_keep(dir);
    int rc = EXIT_OK;
    if (sup > 0 && supervisor_alive(sup)) {
        kill(sup, SIGTERM);
        if (wait_gone(sup, c.timeout_ns) < 0) {
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
        err_set(err, errlen, "processes still running after stopping the stack:%s", left);
        rc = EXIT_UNREACHABLE;
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
    cli c = {0};
    int pr = parse_cli(argc, argv, "fault", ALLOW(OPT_DIR) | ALLOW(OPT_STATE) | ALLOW(OPT_CONFIG),
                       2, &c, err, errlen);
    if (pr != 0) return pr < 0 ? EXIT_USAGE : EXIT_OK;
    stack_fault_op op;
    if (c.npos != 2) {
        err_set(err, errlen,
                "usage: brink stack fault TARGET OP (e.g. brink stack fault postgres kill)");
        return EXIT_USAGE;
    }
    if (!c.config && strcmp(c.pos[0], "postgres") && strcmp(c.pos[0], "redis") &&
        strcmp(c.pos[0], "pgbouncer") && strcmp(c.pos[0], "service")) {
        err_set(err, errlen,
                "unknown fault target '%s' (want postgres, redis, pgbouncer or service)", c.pos[0]);
        return EXIT_USAGE;
    }
    if (stack_fault_parse(c.pos[1], &op) < 0) {
        err_set(err, errlen,
                "unknown fault operation '%s' (want pause, resume, stop, kill, start or restart)",
                c.pos[1]);
        return EXIT_USAGE;
    }
    if (c.config) return fault_config(c.config, c.pos[0], op, err, errlen);
    char path[1100];
    if (locate_state(c.dir, c.state, path, sizeof path, err, errlen) < 0) return EXIT_UNREACHABLE;
    json_t *doc = stack_state_read(path, err, errlen);
    if (!doc) return EXIT_UNREACHABLE;
    char reply[4096];
    int rc = supervisor_fault_request(stack_state_str(doc, "supervisor.control"), c.pos[0],
                                      c.pos[1], reply, sizeof reply, err, errlen);
    json_decref(doc);
    if (rc < 0) return EXIT_UNREACHABLE;
    return fault_print(reply, err, errlen);
}

/* ---- dispatch ---------------------------------------------------------------------------- */

int stack_cmd_main(int argc, char **argv, char *err, size_t errlen) {
    if (argc < 2) {
        err_set(err, errlen,
                "missing subcommand: up, status, down or fault (see brink stack --help)");
        return EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        usage();
        return EXIT_OK;
    }
    if (!strcmp(sub, "up")) return cmd_up(argc - 1, argv + 1, err, errlen);
    if (!strcmp(sub, "status")) return cmd_status(argc - 1, argv + 1, err, errlen);
    if (!strcmp(sub, "down")) return cmd_down(argc - 1, argv + 1, err, errlen);
    if (!strcmp(sub, "fault")) return cmd_fault(argc - 1, argv + 1, err, errlen);
    err_set(err, errlen, "unknown subcommand '%s' (want up, status, down or fault)", sub);
    return EXIT_USAGE;
}
