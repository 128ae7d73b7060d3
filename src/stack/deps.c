/* deps.c — a user's own stack (see deps.h): the dependencies that a `dependencies:` section
 * describes (config/deps_yaml.c reads it into deps_new / deps_add), and the process faults of the
 * embedded stack (stack.c) carried out with the user's commands.
 *
 * A fault is a command run with proc_run (no shell, its own process group, a time limit: the
 * dependency's timeout) — or, for an operation without a command, a signal to the dependency's
 * pid or pid_file — followed by polling the ready check, which is what gives the timestamps the
 * same meaning as the embedded stack's: "down" is the first failed check after a stop or kill
 * returned, "ready" the first successful one after a start or resume. The toxiproxy API is only
 * kept here (brink.yaml's network faults are applied by resilience/resil_user.c). */
#include "stack/deps.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/yml.h"
#include "stack/proc.h"
#include "stack/ready.h"

#define START_CHECK_NS (2 * NS_PER_S) /* the "already running?" probe before a start */

struct deps {
    char *file;
    deps_dep *v;
    int n;
};

deps *deps_new(const char *file) {
    deps *d = calloc(1, sizeof *d);
    if (d && !(d->file = strdup(file))) {
        free(d);
        return NULL;
    }
    return d;
}

deps_dep *deps_add(deps *d, const char *name, int line) {
    deps_dep *v = realloc(d->v, (size_t)(d->n + 1) * sizeof *v);
    if (!v) return NULL;
    d->v = v;
    deps_dep *dep = memset(&v[d->n], 0, sizeof *v);
    if (!(dep->name = strdup(name))) return NULL;
    dep->line = line;
    d->n++;
    return dep;
}

void deps_free(deps *d) {
    if (!d) return;
    for (int i = 0; i < d->n; i++) {
        deps_dep *dep = &d->v[i];
        free(dep->name);
        char **cmds[] = {dep->start_cmd, dep->stop_cmd, dep->kill_cmd, dep->pause_cmd,
                         dep->resume_cmd};
        for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++) proc_argv_free(cmds[k]);
        free(dep->ready_check);
        free(dep->pid_file);
        free(dep->toxi_api);
        free(dep->toxi_proxy);
    }
    free(d->v);
    free(d->file);
    free(d);
}

/* ---- access --------------------------------------------------------------------------------- */

const char *deps_file(const deps *d) {
    return d->file;
}

int deps_count(const deps *d) {
    return d->n;
}

const deps_dep *deps_at(const deps *d, int i) {
    return i >= 0 && i < d->n ? &d->v[i] : NULL;
}

const deps_dep *deps_find(const deps *d, const char *name) {
    for (int i = 0; i < d->n; i++)
        if (!strcmp(d->v[i].name, name)) return &d->v[i];
    return NULL;
}

void deps_names(const deps *d, char *out, size_t outlen) {
    size_t used = 0;
    if (outlen) out[0] = '\0';
    for (int i = 0; i < d->n && used < outlen; i++) {
        int w = snprintf(out + used, outlen - used, "%s%s", i ? ", " : "", d->v[i].name);
        if (w < 0) break;
        used += (size_t)w;
    }
}

/* ---- faults --------------------------------------------------------------------------------- */

static void mark(int64_t *mono, int64_t *wall) {
    *mono = clock_now_ns();
    *wall = clock_wall_ns();
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static double secs(int64_t ns) {
    return (double)ns / NS_PER_S;
}

/* Runs one of dep's commands; 0 when it exited with status 0, else -1 with its status and the
 * start of its output. */
static int run(const deps_dep *dep, char **argv, const char *what, char *err, size_t errlen) {
    char out[1024] = "", e[400];
    int status = 0;
    if (proc_run(argv, dep->timeout_ns, &status, out, sizeof out, e, sizeof e) < 0) {
        err_set(err, errlen, "%s: %s: %s", dep->name, what, e);
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char st[64];
        proc_describe_status(status, st, sizeof st);
        yml_one_line(out);
        char *o = out;
        while (*o == ' ') o++;
        size_t n = strlen(o);
        while (n && o[n - 1] == ' ') o[--n] = '\0';
        if (n > 200) memcpy(o + 197, "...", 4);
        err_set(err, errlen, "%s: %s failed (%s)%s%s", dep->name, what, st, *o ? ": " : "", o);
        return -1;
    }
    return 0;
}

static int need(const deps *d, const deps_dep *dep, char **argv, const char *what, const char *op,
                char *err, size_t errlen) {
    if (argv) return 0;
    err_set(err, errlen, "%s has no %s in %s: add one to %s it", dep->name, what, d->file, op);
    return -1;
}

/* After a stop or kill command: polls the ready check until it fails (down). */
static int wait_down(const deps_dep *dep, const char *what, stack_fault_times *t, char *err,
                     size_t errlen) {
    int64_t deadline = clock_now_ns() + dep->timeout_ns;
    for (int attempt = 0;; attempt++) {
        int64_t left = deadline - clock_now_ns();
        int64_t each = left < NS_PER_S ? left : NS_PER_S;
        if (each < 10 * NS_PER_MS) each = 10 * NS_PER_MS;
        char e[400];
        if (ready_probe(dep->ready_check, each, e, sizeof e) < 0) {
            mark(&t->down_ns, &t->down_wall_ns);
            return 0;
        }
        if (clock_now_ns() >= deadline) break;
        sleep_ms(attempt < 50 ? 5 : 20);
    }
    char shown[512];
    ready_redact(dep->ready_check, shown, sizeof shown);
    err_set(err, errlen, "%s still answers its ready check (%s) %.1fs after its %s returned",
            dep->name, shown, secs(dep->timeout_ns), what);
    return -1;
}

/* After a start or resume command: polls the ready check until it succeeds (ready). */
static int wait_ready(const deps_dep *dep, const char *what, stack_fault_times *t, char *err,
                      size_t errlen) {
    char e[400];
    if (stack_ready_check(dep->ready_check, dep->timeout_ns, e, sizeof e) < 0) {
        err_set(err, errlen, "%s did not become ready within %.1fs after its %s: %s", dep->name,
                secs(dep->timeout_ns), what, e);
        return -1;
    }
    mark(&t->ready_ns, &t->ready_wall_ns);
    return 0;
}

static int fault_stop(const deps_dep *dep, char **argv, const char *what, stack_fault_times *t,
                      char *err, size_t errlen) {
    mark(&t->signal_ns, &t->signal_wall_ns);
    if (run(dep, argv, what, err, errlen) < 0) return -1;
    return wait_down(dep, what, t, err, errlen);
}

static int fault_start(const deps_dep *dep, bool check_running, stack_fault_times *t, char *err,
                       size_t errlen) {
    if (check_running) {
        int64_t probe = dep->timeout_ns < START_CHECK_NS ? dep->timeout_ns : START_CHECK_NS;
        char e[400];
        if (ready_probe(dep->ready_check, probe, e, sizeof e) == 0) {
            char shown[512];
            ready_redact(dep->ready_check, shown, sizeof shown);
            err_set(err, errlen,
                    "%s is already running (its ready check %s answers): stop or kill it first",
                    dep->name, shown);
            return -1;
        }
    }
    if (run(dep, dep->start_cmd, "start_cmd", err, errlen) < 0) return -1;
    return wait_ready(dep, "start_cmd", t, err, errlen);
}

pid_t deps_pid(const deps_dep *dep) {
    if (dep->pid) return dep->pid;
    if (!dep->pid_file) return 0;
    FILE *f = fopen(dep->pid_file, "r");
    if (!f) return 0;
    long v = 0;
    int k = fscanf(f, "%ld", &v);
    fclose(f);
    return k == 1 && v > 1 && v < (1L << 22) ? (pid_t)v : 0;
}

/* The process a signal goes to, or -1 with why not. */
static pid_t signal_target(const deps_dep *dep, char *err, size_t errlen) {
    pid_t pid = deps_pid(dep);
    if (pid > 0) return pid;
    if (dep->pid_file)
        err_set(err, errlen, "%s: no process id in %s (%s)", dep->name, dep->pid_file,
                access(dep->pid_file, R_OK) == 0 ? "not a number" : strerror(errno));
    else
        err_set(err, errlen, "%s: no pid", dep->name);
    return -1;
}

/* Sends sig to the dependency's process (pid or pid_file) instead of running a command. */
static int send_signal(const deps_dep *dep, int sig, stack_fault_times *t, char *err,
                       size_t errlen) {
    pid_t pid = signal_target(dep, err, errlen);
    if (pid < 0) return -1;
    t->pid_before = pid;
    mark(&t->signal_ns, &t->signal_wall_ns);
    if (kill(pid, sig) < 0) {
        err_set(err, errlen, "%s: cannot send %s to pid %d: %s", dep->name, strsignal(sig),
                (int)pid, strerror(errno));
        return -1;
    }
    return 0;
}

int deps_fault(const deps *d, const char *name, stack_fault_op op, stack_fault_times *t, char *err,
               size_t errlen) {
    memset(t, 0, sizeof *t);
    const deps_dep *dep = deps_find(d, name);
    if (!dep) {
        char names[256];
        deps_names(d, names, sizeof names);
        err_set(err, errlen, "unknown dependency '%s' (%s defines %s)", name, d->file,
                names[0] ? names : "none");
        return -1;
    }
    const char *opname = stack_fault_name(op);
    bool sig = dep->pid || dep->pid_file; /* signals stand in for a missing command */
    int rc;
    switch (op) {
    case STACK_FAULT_PAUSE:
        if (!dep->pause_cmd && sig) {
            if (send_signal(dep, SIGSTOP, t, err, errlen) < 0) return -1;
            mark(&t->down_ns, &t->down_wall_ns);
            return 0;
        }
        if (need(d, dep, dep->pause_cmd, "pause_cmd", opname, err, errlen) < 0) return -1;
        mark(&t->signal_ns, &t->signal_wall_ns);
        if (run(dep, dep->pause_cmd, "pause_cmd", err, errlen) < 0) return -1;
        mark(&t->down_ns, &t->down_wall_ns);
        return 0;
    case STACK_FAULT_RESUME:
        if (!dep->resume_cmd && sig) {
            if (send_signal(dep, SIGCONT, t, err, errlen) < 0) return -1;
            return wait_ready(dep, "SIGCONT", t, err, errlen);
        }
        if (need(d, dep, dep->resume_cmd, "resume_cmd", opname, err, errlen) < 0) return -1;
        mark(&t->signal_ns, &t->signal_wall_ns);
        if (run(dep, dep->resume_cmd, "resume_cmd", err, errlen) < 0) return -1;
        return wait_ready(dep, "resume_cmd", t, err, errlen);
    case STACK_FAULT_STOP:
        if (!dep->stop_cmd && sig) {
            if (send_signal(dep, dep->stop_signal, t, err, errlen) < 0) return -1;
            return wait_down(dep, strsignal(dep->stop_signal), t, err, errlen);
        }
        if (need(d, dep, dep->stop_cmd, "stop_cmd", opname, err, errlen) < 0) return -1;
        return fault_stop(dep, dep->stop_cmd, "stop_cmd", t, err, errlen);
    case STACK_FAULT_KILL:
        if (!dep->kill_cmd && sig) {
            if (send_signal(dep, SIGKILL, t, err, errlen) < 0) return -1;
            return wait_down(dep, "SIGKILL", t, err, errlen);
        }
        if (need(d, dep, dep->kill_cmd, "kill_cmd", opname, err, errlen) < 0) return -1;
        return fault_stop(dep, dep->kill_cmd, "kill_cmd", t, err, errlen);
    case STACK_FAULT_START:
        if (need(d, dep, dep->start_cmd, "start_cmd", opname, err, errlen) < 0) return -1;
        rc = fault_start(dep, true, t, err, errlen);
        if (rc == 0 && sig) t->pid_after = deps_pid(dep);
        return rc;
    case STACK_FAULT_RESTART:
        if ((!sig && need(d, dep, dep->stop_cmd, "stop_cmd", opname, err, errlen) < 0) ||
            need(d, dep, dep->start_cmd, "start_cmd", opname, err, errlen) < 0)
            return -1;
        if (dep->stop_cmd) {
            if (fault_stop(dep, dep->stop_cmd, "stop_cmd", t, err, errlen) < 0) return -1;
        } else {
            if (send_signal(dep, dep->stop_signal, t, err, errlen) < 0) return -1;
            if (wait_down(dep, strsignal(dep->stop_signal), t, err, errlen) < 0) return -1;
        }
        rc = fault_start(dep, false, t, err, errlen);
        if (rc == 0 && sig) t->pid_after = deps_pid(dep);
        return rc;
    }
    err_set(err, errlen, "unknown fault operation");
    return -1;
}
