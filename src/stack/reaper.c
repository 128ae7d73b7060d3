/* reaper.c — the clean-up process behind the stack's promise that nothing leaks (see reaper.h).
 *
 * PR_SET_PDEATHSIG takes every direct child of the stack down with its owner, but not the
 * PostgreSQL backends (children of the postmaster) and not the stack's directory. So stack_up
 * forks this process first, before any server exists; the stack then reports each process group
 * it creates ("G pgid"), each one that is gone ("g pgid") and the directories to remove
 * ("D path"; "d path" to keep it after all) and the directories in which any process is one of
 * its own ("W path": PostgreSQL's backends leave the postmaster's process group, but they all
 * work in the data directory) over a socket pair. The reaper holds the only other end: when its
 * owner exits for any reason — a normal stack_down, a crash, SIGKILL — the read returns
 * end-of-file. After a normal stack_down the owner has sent "X" (forget everything) first and the
 * reaper just exits; otherwise it SIGKILLs every group it knows and every process working in a
 * watched directory, until none is left (bounded), and removes the directories.
 *
 * The reaper is forked without exec from a process that may have threads, so it only makes
 * system calls (proc_group_alive and proc_rmtree are written for this). It lives in its own
 * process group and ignores the terminal's and the supervisor's signals, so Ctrl-C, which kills
 * its owner, does not kill it before it has done its job. */
#include "stack/reaper.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/fmt.h"
#include "stack/proc.h"

#define REAPER_MAX_GROUPS 64
#define REAPER_MAX_DIRS   4
#define REAPER_PATH_MAX   1024

typedef struct reaper_state {
    pid_t groups[REAPER_MAX_GROUPS];
    int ngroups;
    char dirs[REAPER_MAX_DIRS][REAPER_PATH_MAX];
    int ndirs;
    char watch[REAPER_MAX_DIRS][REAPER_PATH_MAX]; /* kill the program that works in these */
    char watch_exe[REAPER_MAX_DIRS][REAPER_PATH_MAX];
    int nwatch;
    bool forget;
} reaper_state;

static void handle_line(reaper_state *st, char *line) {
    char op = line[0];
    const char *arg = line[1] == ' ' ? line + 2 : line + 1;
    if (op == 'G' || op == 'g') {
        pid_t g = (pid_t)strtol(arg, NULL, 10);
        if (g <= 1) return;
        for (int i = 0; i < st->ngroups; i++) {
            if (st->groups[i] == g) {
                if (op == 'g') st->groups[i] = st->groups[--st->ngroups];
                return;
            }
        }
        if (op == 'G' && st->ngroups < REAPER_MAX_GROUPS) st->groups[st->ngroups++] = g;
    } else if (op == 'D') {
        size_t n = strlen(arg);
        if (arg[0] == '/' && n < REAPER_PATH_MAX && st->ndirs < REAPER_MAX_DIRS)
            memcpy(st->dirs[st->ndirs++], arg, n + 1);
    } else if (op == 'W') { /* "EXE<TAB>DIR" */
        const char *tab = strchr(arg, '\t');
        if (!tab || arg[0] != '/' || tab[1] != '/' || st->nwatch >= REAPER_MAX_DIRS) return;
        size_t el = (size_t)(tab - arg), dl = strlen(tab + 1);
        if (el >= REAPER_PATH_MAX || dl >= REAPER_PATH_MAX) return;
        memcpy(st->watch_exe[st->nwatch], arg, el);
        st->watch_exe[st->nwatch][el] = '\0';
        memcpy(st->watch[st->nwatch++], tab + 1, dl + 1);
    } else if (op == 'd') {
        for (int i = 0; i < st->ndirs; i++) {
            if (!strcmp(st->dirs[i], arg)) {
                memmove(st->dirs[i], st->dirs[--st->ndirs], REAPER_PATH_MAX);
                break;
            }
        }
    } else if (op == 'X') {
        st->forget = true;
    }
}

static void nap_ms(long ms) {
    struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000L};
    nanosleep(&ts, NULL);
}

static int kill_all(reaper_state *st) {
    int live = 0;
    for (int i = 0; i < st->ngroups; i++) {
        kill(-st->groups[i], SIGKILL);
        live += proc_group_alive(st->groups[i]);
    }
    for (int i = 0; i < st->nwatch; i++)
        live += proc_signal_cwd_under(st->watch[i], st->watch_exe[i], SIGKILL);
    return live;
}

static void clean_up(reaper_state *st) {
    /* kill until nothing is left before removing their files (bounded: 5 s) */
    for (int tries = 0; tries < 500 && kill_all(st) > 0; tries++) nap_ms(10);
    for (int i = 0; i < st->ndirs; i++) {
        if (proc_rmtree(st->dirs[i]) < 0) { /* a straggler may still have been writing */
            nap_ms(100);
            proc_rmtree(st->dirs[i]);
        }
    }
}

static void close_other_fds(int keep) {
    if (keep > 3) syscall(SYS_close_range, 3U, (unsigned)keep - 1, 0U);
    if (syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0U) < 0)
        for (int fd = keep + 1; fd < 4096; fd++) close(fd);
}

static void reaper_main(int fd) {
    setpgid(0, 0);
    prctl(PR_SET_NAME, "brink-reaper");
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    int ignored[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU};
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
        sigaction(ignored[i], &ign, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
    }
    close_other_fds(fd);

    static reaper_state st; /* static: a fork of a process with threads must not malloc */
    char buf[4 * REAPER_PATH_MAX];
    size_t used = 0;
    for (;;) {
        ssize_t n = read(fd, buf + used, sizeof buf - 1 - used);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        used += (size_t)n;
        buf[used] = '\0';
        char *line = buf, *nl;
        while ((nl = memchr(line, '\n', used - (size_t)(line - buf)))) {
            *nl = '\0';
            handle_line(&st, line);
            line = nl + 1;
        }
        used -= (size_t)(line - buf);
        memmove(buf, line, used);
        if (used == sizeof buf - 1) used = 0; /* an overlong line: drop it */
    }
    if (!st.forget) clean_up(&st);
    _exit(0);
}

int reaper_start(reaper *r, char *err, size_t errlen) {
    int sv[2];
    r->pid = 0;
    r->fd = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        err_set(err, errlen, "socketpair: %s", strerror(errno));
        return -1;
    }
    pid_t p = fork();
    if (p < 0) {
        err_set(err, errlen, "fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    if (p == 0) {
        close(sv[1]);
        reaper_main(sv[0]);
    }
    close(sv[0]);
    r->pid = p;
    r->fd = sv[1];
    return 0;
}

static void send_line(reaper *r, char op, const char *arg, size_t len) {
    if (r->fd < 0) return;
    char line[2 * REAPER_PATH_MAX + 4];
    if (len + 3 > sizeof line) return;
    line[0] = op;
    line[1] = ' ';
    memcpy(line + 2, arg, len);
    line[len + 2] = '\n';
    ssize_t n;
    do n = send(r->fd, line, len + 3, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
}

void reaper_add_group(reaper *r, pid_t pgid) {
    char num[FMT_INT_MAX];
    send_line(r, 'G', num, fmt_i64(num, pgid));
}

void reaper_del_group(reaper *r, pid_t pgid) {
    char num[FMT_INT_MAX];
    send_line(r, 'g', num, fmt_i64(num, pgid));
}

void reaper_add_dir(reaper *r, const char *dir) {
    send_line(r, 'D', dir, strlen(dir));
}

void reaper_add_watch(reaper *r, const char *dir, const char *exe) {
    char arg[2 * REAPER_PATH_MAX];
    size_t el = strlen(exe), dl = strlen(dir);
    if (el + dl + 2 > sizeof arg) return;
    memcpy(arg, exe, el);
    arg[el] = '\t';
    memcpy(arg + el + 1, dir, dl + 1);
    send_line(r, 'W', arg, el + 1 + dl);
}

void reaper_del_dir(reaper *r, const char *dir) {
    send_line(r, 'd', dir, strlen(dir));
}

void reaper_finish(reaper *r) {
    if (r->fd >= 0) {
        send_line(r, 'X', "", 0);
        close(r->fd);
        r->fd = -1;
    }
    if (r->pid > 0) {
        if (proc_wait(r->pid, 2 * NS_PER_S, NULL) != 0) {
            kill(r->pid, SIGKILL);
            waitpid(r->pid, NULL, 0);
        }
        r->pid = 0;
    }
}
