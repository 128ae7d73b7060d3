/* supervisor.c — the process behind `brink stack up` (see supervisor.h and docs/stack.md).
 *
 * `stack up` must return while the stack keeps running, and the proxies live in-process, so the
 * stack runs in a supervisor: brink run again (supervisor_spawn) as a sibling of `stack up`, so
 * that its parent is the shell that ran `stack up` and collects it at once when it ends — an
 * orphan would wait for PID 1, which here reaps every second or so and in some containers never,
 * and `stack down` promises that nothing of the stack is left when it returns. The supervisor is
 * a new session (setsid) named brink-stack, its output in DIR/supervisor.log, that calls stack_up,
 * writes DIR/stack.json (the state file, with its own pid, log and control socket added) and
 * reports "O path" or "E reason" over a pipe to the command, which prints the path and returns. The
 * supervisor then waits on a signalfd (SIGTERM, SIGINT, SIGHUP end the stack; SIGCHLD notices a
 * server that died by itself, and the state file is rewritten) and on a unix socket,
 * DIR/control.sock (0600), that accepts one request per connection: "fault TARGET OP" answered with
 * one JSON line of timestamps (supervisor_fault_reply). It also stops the stack when DIR is removed
 * (rm -rf of a test's or a user's tmp dir). When it stops, a DIR/.keep marker (written by `stack
 * down --keep`) keeps the directory.
 *
 * If the supervisor itself is SIGKILLed, the stack's reaper (reaper.c) cleans up after it. */
#include "stack/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/exitcode.h"
#include "stack/proc.h"
#include "stack/state.h"

#define SUPERVISOR_ENV "BRINK_STACK_SUPERVISOR" /* "FD DIR", for the brink that supervises */
#define KEEP_MARKER    ".keep"
#define CONTROL_SOCKET "control.sock"
#define FAULT_WAIT_NS  (180 * NS_PER_S)

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
    char ts[32];
    clock_format_utc(clock_wall_ns(), ts);
    fprintf(stderr, "%s brink-stack[%d]: ", ts, (int)getpid());
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

typedef struct supervisor {
    stack *s;
    char dir[1024];
    char state[1100];
    char log[1100];
    char control[1100];
    bool keep;
    int ctl; /* listening socket, -1 without one */
} supervisor;

static int write_state(supervisor *sv, char *err, size_t errlen) {
    json_t *doc = stack_state_json(sv->s, sv->keep);
    if (!doc) {
        err_set(err, errlen, "cannot build the state document");
        return -1;
    }
    json_object_set_new(doc, "supervisor",
                        json_pack("{s:i, s:s, s:o}", "pid", (json_int_t)getpid(), "log", sv->log,
                                  "control",
                                  sv->ctl >= 0 ? json_string(sv->control) : json_null()));
    json_t *procs = json_object_get(doc, "processes");
    json_array_insert_new(
        procs, 0, json_pack("{s:s, s:i}", "name", "supervisor", "pid", (json_int_t)getpid()));
    int rc = stack_state_write(doc, sv->state, err, errlen);
    json_decref(doc);
    return rc;
}

static int control_listen(const char *path) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof a.sun_path) return -1;
    memcpy(a.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    mode_t old = umask(077);
    int rc = bind(fd, (struct sockaddr *)&a, sizeof a);
    umask(old);
    if (rc < 0 || listen(fd, 8) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static json_t *ts_or_null(int64_t v) {
    return v ? json_integer(v) : json_null();
}

static json_t *wall_or_null(int64_t wall) {
    if (!wall) return json_null();
    char t[32];
    clock_format_utc(wall, t);
    return json_string(t);
}

json_t *supervisor_fault_reply(const char *target, const char *opname, int rc, const char *err,
                               const stack_fault_times *t) {
    json_t *reply = json_pack("{s:b, s:s, s:s}", "ok", rc == 0, "target", target, "op", opname);
    if (rc < 0) json_object_set_new(reply, "error", json_string(err));
    json_object_set_new(reply, "pid_before",
                        t->pid_before ? json_integer(t->pid_before) : json_null());
    json_object_set_new(reply, "pid_after",
                        t->pid_after ? json_integer(t->pid_after) : json_null());
    json_object_set_new(reply, "signal_ns", ts_or_null(t->signal_ns));
    json_object_set_new(reply, "signal_at", wall_or_null(t->signal_wall_ns));
    json_object_set_new(reply, "down_ns", ts_or_null(t->down_ns));
    json_object_set_new(reply, "down_at", wall_or_null(t->down_wall_ns));
    json_object_set_new(reply, "ready_ns", ts_or_null(t->ready_ns));
    json_object_set_new(reply, "ready_at", wall_or_null(t->ready_wall_ns));
    int64_t from = t->down_ns ? t->down_ns : t->signal_ns;
    json_object_set_new(reply, "downtime_s",
                        t->ready_ns && from ? json_real((double)(t->ready_ns - from) / NS_PER_S)
                                            : json_null());
    return reply;
}

/* Handles one control connection: "fault TARGET OP\n". */
static void control_serve(supervisor *sv, int cfd) {
    struct timeval tv = {.tv_sec = 5};
    setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[256];
    size_t got = 0;
    while (got < sizeof req - 1) {
        ssize_t n = read(cfd, req + got, sizeof req - 1 - got);
        if (n <= 0) break;
        got += (size_t)n;
        if (memchr(req, '\n', got)) break;
    }
    req[got] = '\0';
    req[strcspn(req, "\r\n")] = '\0';
    char target[64] = "", opname[64] = "", verb[16] = "";
    json_t *reply;
    stack_fault_op op;
    if (sscanf(req, "%15s %63s %63s", verb, target, opname) == 3 && !strcmp(verb, "fault") &&
        stack_fault_parse(opname, &op) == 0) {
        say("fault %s %s", target, opname);
        stack_fault_times t;
        char err[512] = "";
        int rc = stack_fault(sv->s, target, op, &t, err, sizeof err);
        reply = supervisor_fault_reply(target, opname, rc, err, &t);
        say("fault %s %s: %s", target, opname, rc == 0 ? "done" : err);
        char werr[256];
        if (write_state(sv, werr, sizeof werr) < 0) say("%s", werr);
    } else {
        reply = json_pack("{s:b, s:s}", "ok", 0, "error",
                          "bad request (want: fault TARGET pause|resume|stop|kill|start|restart)");
    }
    char *text = json_dumps(reply, JSON_COMPACT);
    json_decref(reply);
    if (text) {
        size_t n = strlen(text);
        if (write(cfd, text, n) != (ssize_t)n || write(cfd, "\n", 1) != 1) {
        }
        free(text);
    }
}

static void report(int fd, char kind, const char *msg) {
    char line[1200];
    int n = snprintf(line, sizeof line, "%c %s\n", kind, msg);
    if (n > 0 && write(fd, line, (size_t)n) != n) say("cannot report to brink stack up");
}

extern char **environ;

int supervisor_spawn(char *const argv[], int repfd, const char *dir, pid_t *pid, char *err,
                     size_t errlen) {
    size_t n = 0;
    while (environ[n]) n++;
    char **envp = calloc(n + 2, sizeof *envp);
    size_t vl = strlen(SUPERVISOR_ENV "=") + 24 + strlen(dir);
    char *var = malloc(vl);
    if (!envp || !var) {
        free(envp);
        free(var);
        err_set(err, errlen, "out of memory");
        return -1;
    }
    snprintf(var, vl, SUPERVISOR_ENV "=%d %s", repfd, dir);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], SUPERVISOR_ENV "=", strlen(SUPERVISOR_ENV "=")))
            envp[k++] = environ[i];
    envp[k++] = var;
    envp[k] = NULL;
    static const char failed[] = "E cannot run brink again as the stack's supervisor\n";
    /* between the clone and exec only system calls: no allocation, no lock */
    long p = syscall(SYS_clone, (unsigned long)(CLONE_PARENT | SIGCHLD), NULL, NULL, NULL, NULL);
    if (p < 0 && errno == EINVAL) /* the caller is a namespace's init: a plain child then */
        p = syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, NULL);
    if (p == 0) {
        if (fcntl(repfd, F_SETFD, 0) == 0) execve("/proc/self/exe", argv, envp);
        if (write(repfd, failed, sizeof failed - 1) < 0) {
        }
        _exit(127);
    }
    int e = errno;
    free(envp);
    free(var);
    if (p < 0) {
        err_set(err, errlen, "cannot start the stack's supervisor: %s", strerror(e));
        return -1;
    }
    *pid = (pid_t)p;
    return 0;
}

bool supervisor_requested(int *repfd, char *dir, size_t dirlen) {
    const char *v = getenv(SUPERVISOR_ENV);
    if (!v) return false;
    char *end;
    long fd = strtol(v, &end, 10);
    struct stat st;
    bool ok = end != v && *end == ' ' && end[1] == '/' && fd > 2 && fd < INT_MAX &&
              strlen(end + 1) < dirlen && fstat((int)fd, &st) == 0 && S_ISFIFO(st.st_mode);
    if (ok) {
        *repfd = (int)fd;
        memcpy(dir, end + 1, strlen(end + 1) + 1);
        fcntl(*repfd, F_SETFD, FD_CLOEXEC);
    }
    unsetenv(SUPERVISOR_ENV);
    return ok;
}

/* Never returns to the caller's flow with the stack running. */
int supervisor_run(const stack_opts *o, const char *dir, int repfd, char *err, size_t errlen) {
    supervisor sv = {.ctl = -1, .keep = o->keep};
    snprintf(sv.dir, sizeof sv.dir, "%s", dir);
    snprintf(sv.state, sizeof sv.state, "%s/" STACK_STATE_FILE, dir);
    snprintf(sv.log, sizeof sv.log, "%s/" SUPERVISOR_LOG, dir);
    snprintf(sv.control, sizeof sv.control, "%s/" CONTROL_SOCKET, dir);
    setsid();
    prctl(PR_SET_NAME, SUPERVISOR_NAME);
    int logfd = open(sv.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (logfd >= 0) {
        dup2(logfd, 1);
        dup2(logfd, 2);
        close(logfd);
    }
    if (devnull >= 0) {
        dup2(devnull, 0);
        close(devnull);
    }
    /* nothing inherited from the caller stays open but the report pipe (a caller waiting for
     * end-of-file on some descriptor of its own must not wait for the stack) */
    for (int fd = 3; fd < 1024; fd++)
        if (fd != repfd) close(fd);
    setvbuf(stdout, NULL, _IOLBF, 0);
    setvbuf(stderr, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);

    say("starting the stack in %s", dir);
    int64_t t0 = clock_now_ns();
    if (stack_up(o, &sv.s, err, errlen) < 0) {
        say("failed: %s", err);
        report(repfd, 'E', err);
        close(repfd);
        if (sfd >= 0) close(sfd);
        err[0] = '\0'; /* already reported */
        return EXIT_UNREACHABLE;
    }
    say("ready in %.2fs", (double)(clock_now_ns() - t0) / NS_PER_S);
    sv.ctl = control_listen(sv.control);
    if (sv.ctl < 0) say("no control socket at %s: %s", sv.control, strerror(errno));
    char werr[512];
    bool ok = write_state(&sv, werr, sizeof werr) == 0;
    if (!ok) {
        say("%s", werr);
        report(repfd, 'E', werr);
    } else {
        char line[1200];
        int n = snprintf(line, sizeof line, "O %s\n", sv.state);
        if (write(repfd, line, (size_t)n) != n) {
            say("brink stack up went away before the stack was ready: stopping");
            ok = false;
        }
    }
    close(repfd);

    while (ok) {
        struct pollfd p[2] = {{.fd = sfd, .events = POLLIN}, {.fd = sv.ctl, .events = POLLIN}};
        int r = poll(p, sv.ctl >= 0 ? 2 : 1, 1000);
        if (r < 0 && errno != EINTR) break;
        if (r > 0 && (p[0].revents & POLLIN)) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si && si.ssi_signo != SIGCHLD) {
                say("signal %d (%s): stopping", (int)si.ssi_signo, strsignal((int)si.ssi_signo));
                break;
            }
        }
        if (r > 0 && sv.ctl >= 0 && (p[1].revents & POLLIN)) {
            int cfd = accept4(sv.ctl, NULL, NULL, SOCK_CLOEXEC);
            if (cfd >= 0) {
                control_serve(&sv, cfd);
                close(cfd);
            }
        }
        struct stat st;
        if (stat(dir, &st) < 0 && errno == ENOENT) { /* rm -rf of a test's or a user's tmp dir */
            say("the stack's directory %s was removed: stopping", dir);
            break;
        }
        char what[256];
        if (stack_poll(sv.s, what, sizeof what) > 0) {
            say("%s", what);
            if (write_state(&sv, werr, sizeof werr) < 0) say("%s", werr);
        }
    }
    char marker[1100];
    snprintf(marker, sizeof marker, "%s/" KEEP_MARKER, dir);
    if (access(marker, F_OK) == 0) {
        sv.keep = true;
        unlink(marker);
    }
    stack_set_keep(sv.s, sv.keep);
    if (sv.ctl >= 0) {
        close(sv.ctl);
        unlink(sv.control);
    }
    say("stopping the stack%s", sv.keep ? " (keeping its directory)" : "");
    stack_down(sv.s);
    if (sv.keep) {
        unlink(sv.state); /* a kept directory holds data, not a running stack */
        say("stopped");
    }
    if (sfd >= 0) close(sfd);
    return EXIT_OK;
}

/* ---- for the other commands --------------------------------------------------------------- */

bool supervisor_alive(pid_t pid) {
    char comm[64];
    proc_comm(pid, comm, sizeof comm);
    return proc_alive(pid) && !strcmp(comm, SUPERVISOR_NAME);
}

void supervisor_keep(const char *dir) {
    char marker[1100];
    snprintf(marker, sizeof marker, "%s/" KEEP_MARKER, dir);
    int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) close(fd);
}

int supervisor_fault_request(const char *control, const char *target, const char *op, char *reply,
                             size_t replylen, char *err, size_t errlen) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    reply[0] = '\0';
    if (!control || strlen(control) >= sizeof a.sun_path) {
        err_set(err, errlen, "this stack has no control socket (its directory path is too long)");
        return -1;
    }
    memcpy(a.sun_path, control, strlen(control) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        err_set(err, errlen, "cannot reach the stack's supervisor at %s: %s (is the stack up?)",
                a.sun_path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    char req[256];
    int n = snprintf(req, sizeof req, "fault %s %s\n", target, op);
    struct timeval tv = {.tv_sec = FAULT_WAIT_NS / NS_PER_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t got = 0;
    if (write(fd, req, (size_t)n) == n) {
        for (;;) {
            ssize_t r = read(fd, reply + got, replylen - 1 - got);
            if (r <= 0) break;
            got += (size_t)r;
            if (got == replylen - 1) break;
        }
    }
    close(fd);
    reply[got] = '\0';
    return 0;
}
