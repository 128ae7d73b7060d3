/* proc.c — the process plumbing under the embedded stack (see proc.h).
 *
 * proc_spawn is fork + exec with everything prepared before the fork, because the caller may
 * have threads (the fault proxy's loop, the control API): between fork and exec the child only
 * makes system calls. It joins a new process group (so a whole server — the postmaster and its
 * backends — is signalled at once), resets signal dispositions and the mask (the stack's
 * supervisor blocks signals for its signalfd; children must not inherit that), marks every file
 * descriptor above 2 close-on-exec, takes the unprivileged identity when asked (PostgreSQL
 * refuses to run as root), and only then sets PR_SET_PDEATHSIG (changing credentials clears it).
 * An exec failure travels back over a close-on-exec pipe, so the caller gets "cannot run X: No
 * such file or directory" instead of a mysterious exit status 127.
 *
 * Process groups are watched through /proc, reading directory entries with getdents64 into a
 * stack buffer: no malloc, so the reaper (a forked child that never execs) can use it too.
 * Zombies count as dead everywhere: on this kind of machine PID 1 may never reap them. */
#include "stack/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/fmt.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

static void sleep_ns(int64_t ns) {
    struct timespec ts = {.tv_sec = ns / NS_PER_S, .tv_nsec = ns % NS_PER_S};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* ---- spawning ------------------------------------------------------------------------------- */

enum { STAGE_SETUP = 1, STAGE_IDENTITY, STAGE_CWD, STAGE_EXEC };

typedef struct child_report {
    int stage;
    int err;
} child_report;

static void child_fail(int fd, int stage) {
    child_report r = {stage, errno};
    ssize_t n = write(fd, &r, sizeof r);
    (void)n;
    _exit(127);
}

static int move_fd(int from, int to) {
    if (from == to) return fcntl(to, F_SETFD, 0);
    return dup2(from, to) < 0 ? -1 : 0;
}

static void cloexec_from(int lowfd) {
    if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
    for (int fd = lowfd; fd < 4096; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* Runs in the child: system calls only. exec_fd (-1: none) is the program, opened by the parent
 * before it changed identity. */
static void child_exec(const proc_spec *sp, int in, int out, int repfd, pid_t parent, int exec_fd) {
    if (setpgid(0, 0) < 0) child_fail(repfd, STAGE_SETUP);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++) sigaction(s, &dfl, NULL);
    /* in and out are above 2 (0..2 are open in any sane process), so this order is safe */
    if (move_fd(in, 0) < 0 || move_fd(out, 1) < 0 || move_fd(out, 2) < 0)
        child_fail(repfd, STAGE_SETUP);
    cloexec_from(3);
    if (sp->as_user) {
        gid_t g = sp->gid;
        if (setgroups(1, &g) < 0 || setresgid(g, g, g) < 0 || setresuid(sp->uid, sp->uid, sp->uid))
            child_fail(repfd, STAGE_IDENTITY);
    }
    if (sp->pdeathsig) {
        prctl(PR_SET_PDEATHSIG, sp->pdeathsig);
        if (getppid() != parent) _exit(127); /* the parent died before we set it */
    }
    if (sp->cwd && chdir(sp->cwd) < 0) child_fail(repfd, STAGE_CWD);
    char *const *envp = sp->envp ? sp->envp : environ;
    execve(sp->argv[0], sp->argv, envp);
    /* as another account, a directory above the program that the account may not search (a build
     * under /root): through the descriptor opened before the identity change, for which only the
     * program's own execute bit counts (not first: the process would then be named after the
     * file, redis-check-rdb, and not after the link, redis-server) */
    if (errno == EACCES && exec_fd >= 0) {
        syscall(SYS_execveat, exec_fd, "", sp->argv, envp, AT_EMPTY_PATH);
        errno = EACCES;
    }
    child_fail(repfd, STAGE_EXEC);
}

int proc_spawn(const proc_spec *sp, pid_t *pid, char *err, size_t errlen) {
    int rep[2], devnull = -1;
    if (sp->stdin_fd < 0 || sp->out_fd < 0) {
        devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull < 0) {
            err_set(err, errlen, "cannot open /dev/null: %s", strerror(errno));
            return -1;
        }
    }
    if (pipe2(rep, O_CLOEXEC) < 0) {
        err_set(err, errlen, "pipe: %s", strerror(errno));
        if (devnull >= 0) close(devnull);
        return -1;
    }
    int in = sp->stdin_fd >= 0 ? sp->stdin_fd : devnull;
    int out = sp->out_fd >= 0 ? sp->out_fd : devnull;
    int exec_fd = sp->as_user ? open(sp->argv[0], O_PATH | O_CLOEXEC) : -1;
    pid_t parent = getpid();
    pid_t p = fork();
    if (p < 0) {
        err_set(err, errlen, "fork: %s", strerror(errno));
        close(rep[0]);
        close(rep[1]);
        if (devnull >= 0) close(devnull);
        if (exec_fd >= 0) close(exec_fd);
        return -1;
    }
    if (p == 0) {
        close(rep[0]);
        child_exec(sp, in, out, rep[1], parent, exec_fd);
    }
    close(rep[1]);
    if (devnull >= 0) close(devnull);
    if (exec_fd >= 0) close(exec_fd);
    /* the child may already be in its own group; set it from here too to close the race with
     * a signal sent to the group right after we return */
    setpgid(p, p);
    child_report r;
    ssize_t n;
    do n = read(rep[0], &r, sizeof r);
    while (n < 0 && errno == EINTR);
    close(rep[0]);
    if (n == (ssize_t)sizeof r) {
        waitpid(p, NULL, 0);
        const char *what = r.stage == STAGE_EXEC       ? "cannot run"
                           : r.stage == STAGE_IDENTITY ? "cannot change identity to run"
                           : r.stage == STAGE_CWD      ? "cannot enter the working directory for"
                                                       : "cannot set up the process for";
        err_set(err, errlen, "%s %s: %s", what, sp->argv[0], strerror(r.err));
        return -1;
    }
    *pid = p;
    return 0;
}

/* ---- waiting -------------------------------------------------------------------------------- */

int proc_wait(pid_t pid, int64_t timeout_ns, int *status) {
    int64_t deadline = timeout_ns < 0 ? INT64_MAX : clock_now_ns() + timeout_ns;
    int64_t nap = 1 * NS_PER_MS;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            if (status) *status = st;
            return 0;
        }
        if (r < 0 && errno != EINTR) return -1;
        int64_t now = clock_now_ns();
        if (now >= deadline) return 1;
        int64_t left = deadline - now;
        sleep_ns(nap < left ? nap : left);
        if (nap < 20 * NS_PER_MS) nap *= 2;
    }
}

void proc_describe_status(int status, char *out, size_t outlen) {
    if (WIFEXITED(status))
        err_set(out, outlen, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        err_set(out, outlen, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        err_set(out, outlen, "wait status 0x%x", (unsigned)status);
}

/* "/proc/PID" + suffix, without snprintf (the reaper calls this after fork). */
static void proc_path(char out[64], pid_t pid, const char *suffix) {
    memcpy(out, "/proc/", 6);
    size_t n = 6 + fmt_i64(out + 6, pid);
    size_t sl = strlen(suffix);
    memcpy(out + n, suffix, sl + 1);
}

/* Reads /proc/PID/stat: state and process group. 0, or -1 when the process is gone. */
static int read_stat(pid_t pid, char *state, pid_t *pgrp) {
    char path[64], buf[512];
    proc_path(path, pid, "/stat");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = '\0';
    char *rp = strrchr(buf, ')');
    if (!rp || rp[1] != ' ' || !rp[2]) return -1;
    *state = rp[2];
    /* ") S ppid pgrp" */
    char *p = rp + 3;
    while (*p == ' ') p++;
    while (*p && *p != ' ') p++; /* ppid */
    long g = strtol(p, NULL, 10);
    if (pgrp) *pgrp = (pid_t)g;
    return 0;
}

char proc_state(pid_t pid) {
    char st;
    if (pid <= 0 || read_stat(pid, &st, NULL) < 0) return 0;
    return st;
}

bool proc_alive(pid_t pid) {
    char st = proc_state(pid);
    return st && st != 'Z' && st != 'X' && st != 'x';
}

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* The processes of /proc, one at a time, read with getdents64 into a buffer of its own. */
typedef struct pid_walk {
    int fd;
    long n, off;
    char buf[4096] __attribute__((aligned(8)));
} pid_walk;

static int pid_walk_open(pid_walk *w) {
    w->n = w->off = 0;
    w->fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return w->fd < 0 ? -1 : 0;
}

/* The next pid, or 0 at the end (the walk is then closed). */
static pid_t pid_walk_next(pid_walk *w) {
    for (;;) {
        if (w->off >= w->n) {
            w->n = syscall(SYS_getdents64, w->fd, w->buf, sizeof w->buf);
            w->off = 0;
            if (w->n <= 0) {
                close(w->fd);
                return 0;
            }
        }
        struct linux_dirent64 *d = (struct linux_dirent64 *)(w->buf + w->off);
        w->off += d->d_reclen;
        if (d->d_name[0] >= '1' && d->d_name[0] <= '9') return (pid_t)strtol(d->d_name, NULL, 10);
    }
}

int proc_group_alive(pid_t pgid) {
    if (pgid <= 1) return 0;
    siginfo_t si;
    for (;;) { /* reap what is ours */
        memset(&si, 0, sizeof si);
        if (waitid(P_PGID, (id_t)pgid, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0) break;
    }
    if (kill(-pgid, 0) < 0 && errno == ESRCH) return 0;
    pid_walk w;
    if (pid_walk_open(&w) < 0) return 1; /* cannot tell: assume alive */
    int live = 0;
    for (pid_t pid; (pid = pid_walk_next(&w)) > 0;) {
        char st;
        pid_t g;
        if (read_stat(pid, &st, &g) == 0 && g == pgid && st != 'Z' && st != 'X' && st != 'x')
            live++;
    }
    return live;
}

int proc_group_end(pid_t pgid, int sig, int64_t timeout_ns) {
    if (pgid <= 1) return 0;
    if (sig) {
        kill(-pgid, sig);
        if (sig != SIGKILL) kill(-pgid, SIGCONT); /* a paused group cannot act on sig */
    }
    int64_t deadline = clock_now_ns() + timeout_ns;
    int64_t nap = 1 * NS_PER_MS;
    bool killed = sig == SIGKILL;
    for (;;) {
        if (proc_group_alive(pgid) == 0) return 0;
        int64_t now = clock_now_ns();
        if (now >= deadline) {
            if (killed) return -1;
            kill(-pgid, SIGKILL);
            killed = true;
            deadline = now + NS_PER_S;
            nap = 1 * NS_PER_MS;
        }
        sleep_ns(nap);
        if (nap < 20 * NS_PER_MS) nap *= 2;
    }
}

/* Whether path equals dir or lies below it. */
static bool path_under(const char *path, const char *dir) {
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/') dl--;
    return !strncmp(path, dir, dl) && (path[dl] == '\0' || path[dl] == '/');
}

/* Signals (sig != 0) and counts, or lists (out != NULL), the processes working under dir. */
static int scan_cwd_under(const char *dir, const char *exe, int sig, pid_t *out, int max) {
    pid_walk w;
    if (pid_walk_open(&w) < 0) return 0;
    pid_t self = getpid();
    int live = 0;
    for (pid_t pid; (pid = pid_walk_next(&w)) > 0;) {
        if (pid == self) continue;
        char link[64], cwd[4096];
        proc_path(link, pid, "/cwd");
        ssize_t l = readlink(link, cwd, sizeof cwd - 1);
        if (l <= 0) continue; /* gone, a zombie, or not ours to see */
        cwd[l] = '\0';
        if (!path_under(cwd, dir)) continue;
        /* no program any more: it is exiting (its memory is already released) */
        proc_path(link, pid, "/exe");
        l = readlink(link, cwd, sizeof cwd - 1);
        if (l <= 0) continue;
        cwd[l] = '\0';
        if (exe) { /* the kernel appends " (deleted)" when the file was replaced */
            size_t el = strlen(exe);
            if (strncmp(cwd, exe, el) != 0 || (cwd[el] && strcmp(cwd + el, " (deleted)"))) continue;
        }
        char st;
        if (read_stat(pid, &st, NULL) < 0 || st == 'Z' || st == 'X' || st == 'x') continue;
        if (sig) kill(pid, sig);
        if (out && live < max) out[live] = pid;
        live++;
    }
    return out && live > max ? max : live;
}

int proc_signal_cwd_under(const char *dir, const char *exe, int sig) {
    return scan_cwd_under(dir, exe, sig, NULL, 0);
}

int proc_list_cwd_under(const char *dir, const char *exe, pid_t *out, int max) {
    return scan_cwd_under(dir, exe, 0, out, max);
}

int proc_end_cwd_under(const char *dir, const char *exe, int sig, int64_t timeout_ns) {
    if (proc_signal_cwd_under(dir, exe, sig) == 0) return 0;
    int64_t deadline = clock_now_ns() + timeout_ns;
    int64_t nap = 1 * NS_PER_MS;
    bool killed = sig == SIGKILL;
    for (;;) {
        if (proc_signal_cwd_under(dir, exe, killed ? SIGKILL : 0) == 0) return 0;
        int64_t now = clock_now_ns();
        if (now >= deadline) {
            if (killed) return -1;
            killed = true;
            deadline = now + NS_PER_S;
        }
        sleep_ns(nap);
        if (nap < 20 * NS_PER_MS) nap *= 2;
    }
}

void proc_comm(pid_t pid, char *out, size_t outlen) {
    char path[64];
    out[0] = '\0';
    proc_path(path, pid, "/comm");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = read(fd, out, outlen - 1);
    close(fd);
    if (n < 0) n = 0;
    out[n] = '\0';
    out[strcspn(out, "\n")] = '\0';
}

/* ---- removing a directory tree --------------------------------------------------------------- */

static int rm_at(int dirfd, const char *name, int depth) {
    if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return 0;
    if (errno != EISDIR && errno != EPERM) return -1;
    if (depth > 64) {
        errno = ELOOP;
        return -1;
    }
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : -1;
    char buf[2048] __attribute__((aligned(8)));
    int rc = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (n < 0) {
            rc = -1;
            break;
        }
        if (n == 0) break;
        for (long off = 0; off < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            off += d->d_reclen;
            if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..")) continue;
            if (rm_at(fd, d->d_name, depth + 1) < 0) rc = -1;
        }
    }
    int saved = errno;
    close(fd);
    if (rc < 0) {
        errno = saved;
        return -1;
    }
    if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) return -1;
    return 0;
}

int proc_rmtree(const char *path) {
    return rm_at(AT_FDCWD, path, 0);
}

/* ---- command lines ------------------------------------------------------------------------ */

void proc_argv_free(char **argv) {
    if (!argv) return;
    for (char **a = argv; *a; a++) free(*a);
    free(argv);
}

char **proc_argv(const char *arg0, ...) {
    va_list ap;
    size_t n = 1;
    va_start(ap, arg0);
    while (va_arg(ap, const char *)) n++;
    va_end(ap);
    char **argv = calloc(n + 1, sizeof *argv);
    if (!argv) return NULL;
    va_start(ap, arg0);
    const char *a = arg0;
    for (size_t i = 0; i < n; i++, a = va_arg(ap, const char *)) {
        if (!(argv[i] = strdup(a))) {
            va_end(ap);
            proc_argv_free(argv);
            return NULL;
        }
    }
    va_end(ap);
    return argv;
}

int proc_split(const char *cmd, char ***argv_out, char *err, size_t errlen) {
    size_t cap = 8, n = 0, len = strlen(cmd);
    char **argv = calloc(cap, sizeof *argv);
    char *word = malloc(len + 1);
    if (!argv || !word) goto oom;
    const char *p = cmd;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
        if (!*p) break;
        size_t w = 0;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            if (*p == '\'') {
                const char *end = strchr(p + 1, '\'');
                if (!end) {
                    err_set(err, errlen, "unterminated ' in command: %s", cmd);
                    goto fail;
                }
                memcpy(word + w, p + 1, (size_t)(end - p - 1));
                w += (size_t)(end - p - 1);
                p = end + 1;
            } else if (*p == '"') {
                p++;
                while (*p && *p != '"') {
                    if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) p++;
                    word[w++] = *p++;
                }
                if (*p != '"') {
                    err_set(err, errlen, "unterminated \" in command: %s", cmd);
                    goto fail;
                }
                p++;
            } else if (*p == '\\' && p[1]) {
                word[w++] = p[1];
                p += 2;
            } else {
                word[w++] = *p++;
            }
        }
        if (n + 2 > cap) {
            cap *= 2;
            char **na = realloc(argv, cap * sizeof *argv);
            if (!na) goto oom;
            argv = na;
        }
        argv[n] = malloc(w + 1);
        if (!argv[n]) goto oom;
        memcpy(argv[n], word, w);
        argv[n][w] = '\0';
        argv[++n] = NULL;
    }
    if (n == 0) {
        err_set(err, errlen, "empty command");
        goto fail;
    }
    free(word);
    *argv_out = argv;
    return (int)n;
oom:
    err_set(err, errlen, "out of memory");
fail:
    free(word);
    proc_argv_free(argv);
    *argv_out = NULL;
    return -1;
}

static bool is_exe(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int proc_find_exe(const char *name, char *out, size_t outlen) {
    out[0] = '\0';
    if (!*name) return -1;
    if (strchr(name, '/')) {
        if (!is_exe(name) || strlen(name) >= outlen) return -1;
        snprintf(out, outlen, "%s", name);
        return 0;
    }
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t dl = strcspn(path, ":");
        char cand[4096];
        int k = snprintf(cand, sizeof cand, "%.*s/%s", (int)(dl ? dl : 1), dl ? path : ".", name);
        if (k > 0 && (size_t)k < sizeof cand && (size_t)k < outlen && is_exe(cand)) {
            memcpy(out, cand, (size_t)k + 1);
            return 0;
        }
        path += dl;
        if (*path == ':') path++;
    }
    return -1;
}

int proc_find_server(const char *env, const char *name, const char *fallback, const char *package,
                     char *out, size_t outlen, char *err, size_t errlen) {
    const char *given = getenv(env);
    if (given && *given) {
        if (proc_find_exe(given, out, outlen) == 0) return 0;
        err_set(err, errlen,
                "%s not found: %s=%s is not an executable (install the Debian package %s)", name,
                env, given, package);
        return -1;
    }
    if (proc_find_exe(name, out, outlen) == 0 || proc_find_exe(fallback, out, outlen) == 0)
        return 0;
    err_set(err, errlen, "%s not found (install the Debian package %s)", name, package);
    return -1;
}

int proc_run(char *const argv[], int64_t timeout_ns, int *status, char *out, size_t outlen,
             char *err, size_t errlen) {
    char exe[4096];
    if (!argv || !argv[0] || proc_find_exe(argv[0], exe, sizeof exe) < 0) {
        err_set(err, errlen, "command not found: %s", argv && argv[0] ? argv[0] : "(empty)");
        return -1;
    }
    size_t argc = 0;
    while (argv[argc]) argc++;
    char **av = calloc(argc + 1, sizeof *av);
    if (!av) {
        err_set(err, errlen, "out of memory");
        return -1;
    }
    av[0] = exe;
    for (size_t i = 1; i < argc; i++) av[i] = argv[i];
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        free(av);
        err_set(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    proc_spec sp = {.argv = av, .stdin_fd = -1, .out_fd = pfd[1], .pdeathsig = SIGKILL};
    pid_t pid;
    int rc = proc_spawn(&sp, &pid, err, errlen);
    close(pfd[1]);
    free(av);
    if (rc < 0) {
        close(pfd[0]);
        return -1;
    }
    size_t used = 0;
    int64_t deadline = clock_now_ns() + timeout_ns;
    bool timed_out = false;
    for (;;) {
        int64_t left = deadline - clock_now_ns();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        int pr = poll(&p, 1, (int)(left / NS_PER_MS) + 1);
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) continue;
        char buf[4096];
        ssize_t n = read(pfd[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (out && outlen > 1 && used < outlen - 1) {
            size_t take = (size_t)n < outlen - 1 - used ? (size_t)n : outlen - 1 - used;
            memcpy(out + used, buf, take);
            used += take;
        }
    }
    close(pfd[0]);
    if (out && outlen) out[used] = '\0';
    if (timed_out) {
        proc_group_end(pid, SIGKILL, NS_PER_S);
        proc_wait(pid, NS_PER_S, NULL);
        err_set(err, errlen, "%s did not finish within %.1fs (killed)", argv[0],
                (double)timeout_ns / NS_PER_S);
        return -1;
    }
    int st = 0;
    int64_t left = deadline - clock_now_ns();
    if (proc_wait(pid, left > 0 ? left : 0, &st) != 0) {
        proc_group_end(pid, SIGKILL, NS_PER_S);
        proc_wait(pid, NS_PER_S, &st);
        err_set(err, errlen, "%s did not finish within %.1fs (killed)", argv[0],
                (double)timeout_ns / NS_PER_S);
        return -1;
    }
    proc_group_end(pid, SIGKILL, NS_PER_S); /* anything it left behind in its group */
    if (status) *status = st;
    return 0;
}

/* ---- accounts ------------------------------------------------------------------------------- */

int proc_lookup_user(const char *name, uid_t *uid, gid_t *gid, char *err, size_t errlen) {
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwnam_r(name, &pw, buf, sizeof buf, &res) != 0 || !res) {
        err_set(err, errlen, "no '%s' account on this machine", name);
        return -1;
    }
    *uid = pw.pw_uid;
    *gid = pw.pw_gid;
    return 0;
}

bool proc_access_as(const char *path, int mode, uid_t uid, gid_t gid) {
    pid_t p = fork();
    if (p < 0) return false;
    if (p == 0) {
        gid_t g = gid;
        if (setgroups(1, &g) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
            _exit(2);
        _exit(access(path, mode) == 0 ? 0 : 1);
    }
    int st;
    if (proc_wait(p, 5 * NS_PER_S, &st) != 0) {
        kill(p, SIGKILL);
        waitpid(p, NULL, 0);
        return false;
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* ---- files ---------------------------------------------------------------------------------- */

int proc_write_file(const char *path, const char *text, int flags, uid_t uid, gid_t gid, char *err,
                    size_t errlen) {
    bool secret = flags & PROC_FILE_SECRET;
    int oflags = O_WRONLY | O_CREAT | O_CLOEXEC | (flags & PROC_FILE_APPEND ? O_APPEND : O_TRUNC);
    int fd = open(path, oflags | (secret ? O_NOFOLLOW : 0), secret ? 0600 : 0666);
    if (fd < 0) {
        err_set(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = strlen(text);
    bool ok = (!secret || fchmod(fd, 0600) == 0) && write(fd, text, n) == (ssize_t)n;
    if (ok && (flags & PROC_FILE_CHOWN)) ok = fchown(fd, uid, gid) == 0;
    if (close(fd) != 0) ok = false;
    if (!ok) {
        err_set(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- logs ----------------------------------------------------------------------------------- */

void proc_log_tail(const char *path, int nlines, char *out, size_t outlen) {
    out[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char buf[4097];
    off_t size = lseek(fd, 0, SEEK_END);
    off_t from = size > 4096 ? size - 4096 : 0;
    ssize_t n = size > 0 ? pread(fd, buf, (size_t)(size - from), from) : 0;
    close(fd);
    if (n <= 0) return;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) buf[--n] = 0;
    /* find the start of the last nlines lines */
    char *start = buf;
    int seen = 0;
    for (ssize_t i = n - 1; i >= 0; i--) {
        if (buf[i] == '\n' && ++seen == nlines) {
            start = buf + i + 1;
            break;
        }
    }
    if (from > 0 && start == buf) { /* drop a partial first line */
        char *nl = strchr(buf, '\n');
        if (nl) start = nl + 1;
    }
    size_t o = 0;
    for (char *c = start; *c && o + 4 < outlen; c++) {
        if (*c == '\n') {
            memcpy(out + o, " | ", 3);
            o += 3;
        } else if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            out[o++] = ' ';
        } else {
            out[o++] = *c;
        }
    }
    out[o] = '\0';
}
