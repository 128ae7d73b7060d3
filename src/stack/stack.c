/* stack.c — the embedded stack: start, fault and stop PostgreSQL, Redis, their fault proxies,
 * optionally PgBouncer, and the service under test (see stack.h; the servers' particulars are in
 * pgsrv.c, redsrv.c and pgbsrv.c).
 *
 * Start-up order, chosen for a fast and leak-free start:
 *   1. everything that can be wrong without side effects: binaries, the postgres account when
 *      root, ports (fixed ones must be free; the others are picked free), the service command;
 *   2. the fault proxies and their control API (in-process; they only need the upstream ports);
 *   3. the directory, then the reaper (reaper.c) — from here on a crash or SIGKILL of this
 *      process still ends in a clean-up;
 *   4. initdb and redis-server run in parallel; then postgres; both are awaited with real
 *      queries; then the application's role and database; then PgBouncer when asked for
 *      (service → PgBouncer → PostgreSQL's proxy → PostgreSQL, so the proxy's toxics and the
 *      process faults of PostgreSQL reach the pooler as they would in production); then the
 *      service, which is given only the proxies' (or PgBouncer's) addresses.
 * Each server is a "member": an argv, a log file, the signal that stops it gracefully and a
 * ready-check URL. Process faults are the same five moves for every member, so PostgreSQL,
 * Redis and the service share one implementation, and a restart is simply the same argv again
 * (same data directory, same port, same account, so the same password). When brink runs as root
 * every server — PostgreSQL and PgBouncer (both refuse root), Redis and the service — runs as the
 * postgres account, the stack's one unprivileged account; the stack directory is then made
 * traversable (0711) so that account can reach its data directories and the secret files it
 * needs, which it owns.
 *
 * Secrets: the application role's password, the superuser's, Redis's (requirepass: loopback is
 * shared by every account of the machine, and without it anyone could XADD a forged order) and
 * the webhook secret are random, live in 0600 files of the stack directory and are never logged
 * nor put on a command line: the service's {pg_url} and {redis_url} have no password (libpq
 * finds it through PGPASSFILE, dispatchd through DISPATCHD_REDIS_PASSWORD_FILE; DATABASE_URL and
 * REDIS_URL in the service's environment carry the whole URLs). */
#include "stack/stack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/b64.h"
#include "core/clock.h"
#include "core/err.h"
#include "fault/api.h"
#include "stack/pgbsrv.h"
#include "stack/pgsrv.h"
#include "stack/proc.h"
#include "stack/ready.h"
#include "stack/reaper.h"
#include "stack/redsrv.h"

#define SP               1024 /* paths and URLs */
#define DIR_MAX          200  /* longest stack directory (keeps every derived path short) */
#define DEFAULT_READY_NS (10 * NS_PER_S)
#define FAULT_STOP_NS    (30 * NS_PER_S) /* graceful stop before SIGKILL */
#define FAULT_READY_NS   (60 * NS_PER_S) /* crash recovery may take a while */
#define DOWN_STOP_NS     (10 * NS_PER_S)
#define INITDB_NS        (60 * NS_PER_S)
#define PG_USER          "brink"
#define PG_DB            "brink"
#define PG_ACCOUNT       "postgres"
#define DEFAULT_SERVICE                                                                            \
    "--listen {listen} --pg {pg_url} --redis {redis_url} --secret-file {secret_file}"
#define DEFAULT_READY_TMPL "http://{listen}/readyz"

extern char **environ;

typedef struct member {
    const char *name;
    char **argv;
    char **envp; /* NULL: inherit */
    char log[SP];
    const char *cwd;
    bool as_user;
    uid_t uid;
    gid_t gid;
    int stop_sig;
    bool signal_group; /* the stop signal goes to the whole group (the service may be sh -c) */
    char ready_url[SP];
    const char *workdir; /* where its processes work (PostgreSQL's backends leave its group) */
    char exe[SP];        /* its program, resolved (to recognise those processes) */
    pid_t pid;           /* 0: not running */
} member;

enum { M_PG, M_REDIS, M_PGB, M_SERVICE, M_COUNT };

struct stack {
    char dir[SP];
    bool keep;
    stack_profile profile;
    int64_t ready_timeout_ns;
    reaper reaper;
    member m[M_COUNT];
    bool has_service;
    bool has_pgb; /* --pgbouncer */
    bool root;
    uid_t pg_uid; /* as root: the account every server runs as (postgres) */
    gid_t pg_gid;
    proxy_server *proxies;
    proxy_api *api;

    char pg_bindir[SP], pg_major[16], pg_version[64];
    char pg_datadir[SP], pg_log[SP];
    char pg_password[65], pg_su_password[65];
    char pg_password_file[SP], pg_su_password_file[SP], pgpass_file[SP];
    char pg_url[SP], pg_proxy_url[SP], pg_service_url[SP], pg_admin_url[SP];
    char pg_proxy_addr[PROXY_ADDR_MAX];
    int pg_port;

    char redis_exe[SP], redis_version[32], redis_datadir[SP], redis_conf[SP], redis_log[SP];
    char redis_password[65], redis_password_file[SP];
    char redis_url[SP], redis_proxy_url[SP], redis_service_url[SP]; /* with, with, without it */
    char redis_addr[64], redis_proxy_addr[PROXY_ADDR_MAX];
    int redis_port;

    char api_addr[PROXY_ADDR_MAX], api_url[SP];

    char pgb_exe[SP], pgb_version[32], pgb_dir[SP], pgb_ini[SP], pgb_auth[SP], pgb_log[SP];
    char pgb_url[SP], pgb_service_url[SP], pgb_addr[64];
    int pgb_port;

    char service_listen[64], service_url[SP], service_log[SP], secret_file[SP];
    int service_port;

    stack_info info;
};

/* ---- small helpers -------------------------------------------------------------------------- */

static void random_hex(char *out, size_t nbytes) {
    unsigned char b[64];
    size_t got = 0;
    while (got < nbytes) {
        ssize_t n = getrandom(b + got, nbytes - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) abort(); /* the kernel always has entropy for getrandom after boot */
        got += (size_t)n;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * nbytes] = '\0';
    memset(b, 0, sizeof b);
}

static void sleep_ms(int ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* Binds 127.0.0.1:port (SO_REUSEADDR, as servers do). The socket, or -1 with errno. */
static int bind_loopback(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* The first port of the kernel's ephemeral range (the source ports of outgoing connections). */
static int ephemeral_low(void) {
    int lo = 32768, hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%d %d", &lo, &hi) != 2) lo = 32768;
        fclose(f);
    }
    return lo;
}

/* A free port below the ephemeral range, bound (the socket, its port in *port), or -1. A port
 * the kernel picks (bind to 0) comes from the ephemeral range, where any outgoing connection on
 * the machine can take it between our close and the server's own bind a second later (initdb
 * runs in between): under parallel load, PostgreSQL then failed with "Address already in use".
 * Below the range only another server picking at random can collide. */
static int bind_below_ephemeral(int *port) {
    int lo = 10000, hi = ephemeral_low() - 1;
    if (hi - lo < 1000) return -1;
    uint64_t r;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) r = (uint64_t)clock_now_ns();
    for (int attempt = 0; attempt < 64; attempt++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        int p = lo + (int)((r >> 33) % (uint64_t)(hi - lo + 1));
        int fd = bind_loopback(p);
        if (fd >= 0) {
            *port = p;
            return fd;
        }
    }
    return -1;
}

/* Fixed ports must be free; the others (0) are picked free and distinct, below the ephemeral
 * range when it can be done. */
static int choose_ports(int n, int *const ports[], const char *const what[],
                        const char *const opt[], char *err, size_t errlen) {
    int fds[4] = {-1, -1, -1, -1}, rc = 0;
    if (n > 4) abort();
    for (int i = 0; i < n && rc == 0; i++) {
        int want = *ports[i];
        if (want == 0) continue; /* fixed ones first, so that picked ones avoid them */
        fds[i] = bind_loopback(want);
        if (fds[i] < 0) {
            if (errno == EADDRINUSE)
                err_set(err, errlen,
                        "port %d for %s is already in use on 127.0.0.1 (choose another %s, or "
                        "leave it out to get a free one)",
                        want, what[i], opt[i]);
            else
                err_set(err, errlen, "cannot use port %d for %s: %s", want, what[i],
                        strerror(errno));
            rc = -1;
        }
    }
    for (int i = 0; i < n && rc == 0; i++) {
        if (*ports[i] != 0) continue;
        int picked;
        fds[i] = bind_below_ephemeral(&picked);
        if (fds[i] >= 0) {
            *ports[i] = picked;
            continue;
        }
        fds[i] = bind_loopback(0);
        struct sockaddr_in a;
        socklen_t al = sizeof a;
        if (fds[i] < 0 || getsockname(fds[i], (struct sockaddr *)&a, &al) < 0) {
            err_set(err, errlen, "cannot find a free port on 127.0.0.1: %s", strerror(errno));
            rc = -1;
            break;
        }
        *ports[i] = ntohs(a.sin_port);
    }
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0) close(fds[i]);
    return rc;
}

/* The directory of the running executable. */
static int exe_dir(char *out, size_t outlen) {
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return -1;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash) return -1;
    *slash = '\0';
    if ((size_t)(slash - buf) >= outlen) return -1;
    memcpy(out, buf, (size_t)(slash - buf) + 1);
    return 0;
}

/* dispatchd next to the executable (build/VARIANT/dispatchd, bin/dispatchd), or the
 * repository's bin/ when we run from build/VARIANT/. */
static int find_dispatchd(char *out, size_t outlen, char *err, size_t errlen) {
    char dir[PATH_MAX - 64];
    if (exe_dir(dir, sizeof dir) < 0) {
        err_set(err, errlen, "cannot find the brink executable's directory");
        return -1;
    }
    char cand[PATH_MAX];
    snprintf(cand, sizeof cand, "%s/dispatchd", dir);
    if (proc_find_exe(cand, out, outlen) == 0) return 0;
    char alt[PATH_MAX];
    snprintf(alt, sizeof alt, "%s/../../bin/dispatchd", dir);
    if (proc_find_exe(alt, out, outlen) == 0) return 0;
    err_set(err, errlen,
            "the reference service %s is not built (run make, or start the stack with "
            "--service none or --service CMD)",
            cand);
    return -1;
}

/* ---- templates ------------------------------------------------------------------------------ */

static bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || c == '_' || (c >= '0' && c <= '9');
}

int stack_template(const char *tmpl, const stack_var *vars, int nvars, char **out, char *err,
                   size_t errlen) {
    size_t cap = strlen(tmpl) + 1;
    for (int i = 0; i < nvars; i++) {
        const char *p = tmpl;
        size_t nl = strlen(vars[i].name);
        while ((p = strchr(p, '{'))) {
            if (!strncmp(p + 1, vars[i].name, nl) && p[nl + 1] == '}') cap += strlen(vars[i].value);
            p++;
        }
    }
    char *o = malloc(cap), *w = o;
    if (!o) {
        err_set(err, errlen, "out of memory");
        return -1;
    }
    for (const char *p = tmpl; *p;) {
        if (*p == '{' && p[1] >= 'a' && p[1] <= 'z') {
            const char *e = p + 1;
            while (is_name_char(*e)) e++;
            if (*e == '}') {
                int i;
                for (i = 0; i < nvars; i++) {
                    size_t nl = strlen(vars[i].name);
                    if ((size_t)(e - p - 1) == nl && !strncmp(p + 1, vars[i].name, nl)) break;
                }
                if (i == nvars) {
                    char known[512] = "";
                    size_t kl = 0;
                    for (int k = 0; k < nvars && kl < sizeof known; k++)
                        kl +=
                            (size_t)snprintf(known + kl, sizeof known - kl, " {%s}", vars[k].name);
                    err_set(err, errlen, "unknown placeholder %.*s (known:%s)", (int)(e - p + 1), p,
                            known);
                    free(o);
                    return -1;
                }
                size_t vl = strlen(vars[i].value);
                memcpy(w, vars[i].value, vl);
                w += vl;
                p = e + 1;
                continue;
            }
        }
        *w++ = *p++;
    }
    *w = '\0';
    *out = o;
    return 0;
}

int stack_template_argv(const char *tmpl, const stack_var *vars, int nvars, char ***argv, char *err,
                        size_t errlen) {
    char **words;
    int n = proc_split(tmpl, &words, err, errlen);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) {
        char *sub;
        if (stack_template(words[i], vars, nvars, &sub, err, errlen) < 0) {
            proc_argv_free(words);
            return -1;
        }
        free(words[i]);
        words[i] = sub;
    }
    *argv = words;
    return 0;
}

/* ---- members -------------------------------------------------------------------------------- */

/* Starts argv as the member's process (its identity, environment, directory and log), in a
 * process group the reaper knows. */
static int spawn_as(stack *s, const member *m, char *const *argv, pid_t *pid, char *err,
                    size_t errlen) {
    int fd = open(m->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        err_set(err, errlen, "cannot write %s: %s", m->log, strerror(errno));
        return -1;
    }
    proc_spec sp = {.argv = argv,
                    .envp = m->envp,
                    .cwd = m->cwd,
                    .stdin_fd = -1,
                    .out_fd = fd,
                    .as_user = m->as_user,
                    .uid = m->uid,
                    .gid = m->gid,
                    .pdeathsig = SIGKILL};
    int rc = proc_spawn(&sp, pid, err, errlen);
    close(fd);
    if (rc < 0) return -1;
    reaper_add_group(&s->reaper, *pid);
    return 0;
}

static int member_spawn(stack *s, member *m, char *err, size_t errlen) {
    pid_t pid;
    if (spawn_as(s, m, m->argv, &pid, err, errlen) < 0) return -1;
    m->pid = pid;
    return 0;
}

/* After the member's main process is gone: its group's leftovers, then forget the group. */
static void member_gone(stack *s, member *m) {
    proc_group_end(m->pid, 0, 2 * NS_PER_S);
    if (m->workdir) proc_end_cwd_under(m->workdir, m->exe, 0, 2 * NS_PER_S);
    reaper_del_group(&s->reaper, m->pid);
    m->pid = 0;
}

/* "NAME exited (exit status 1) before it was ready — last log lines: ..." */
static void describe_exit(const member *m, int status, const char *when, char *err, size_t errlen) {
    char st[96], tail[600];
    proc_describe_status(status, st, sizeof st);
    proc_log_tail(m->log, 5, tail, sizeof tail);
    err_set(err, errlen, "%s exited (%s) %s%s%s", m->name, st, when,
            tail[0] ? " — last log lines: " : " (its log is empty)", tail);
}

/* Probes url until ready, watching that the member stays alive. */
static int member_wait_ready(member *m, const char *url, int64_t timeout_ns, char *err,
                             size_t errlen) {
    int64_t deadline = clock_now_ns() + timeout_ns;
    char last[400] = "";
    for (int attempt = 0;; attempt++) {
        int64_t left = deadline - clock_now_ns();
        int64_t t = left < NS_PER_S ? left : NS_PER_S;
        if (t < 10 * NS_PER_MS) t = 10 * NS_PER_MS;
        if (ready_probe(url, t, last, sizeof last) == 0) return 0;
        int st;
        if (waitpid(m->pid, &st, WNOHANG) == m->pid) {
            describe_exit(m, st, "before it was ready", err, errlen);
            m->pid = -m->pid; /* exited and reaped: the caller cleans the group */
            return -1;
        }
        if (clock_now_ns() >= deadline) {
            char tail[600];
            proc_log_tail(m->log, 5, tail, sizeof tail);
            err_set(err, errlen, "%s did not become ready within %.1fs (%s)%s%s", m->name,
                    (double)timeout_ns / NS_PER_S, last,
                    tail[0] ? " — last log lines: " : " — its log is empty", tail);
            return -1;
        }
        sleep_ms(attempt < 50 ? 5 : 20);
    }
}

/* Sends the graceful stop signal (and SIGCONT, in case it is paused). */
static void member_signal_stop(member *m) {
    if (m->pid <= 0) return;
    if (m->signal_group)
        kill(-m->pid, m->stop_sig);
    else
        kill(m->pid, m->stop_sig);
    kill(-m->pid, SIGCONT);
}

/* Waits for the main process after member_signal_stop; SIGKILLs the group after timeout. */
static void member_wait_stopped(stack *s, member *m, int64_t timeout_ns) {
    if (m->pid == 0) return;
    if (m->pid < 0) { /* already reaped */
        m->pid = -m->pid;
        member_gone(s, m);
        return;
    }
    if (proc_wait(m->pid, timeout_ns, NULL) != 0) { /* too slow: kill it */
        kill(-m->pid, SIGKILL);
        kill(m->pid, SIGKILL);
        proc_wait(m->pid, 5 * NS_PER_S, NULL);
    }
    member_gone(s, m);
}

static void member_free(member *m) {
    proc_argv_free(m->argv);
    proc_argv_free(m->envp);
    m->argv = m->envp = NULL;
}

/* ---- environment ---------------------------------------------------------------------------- */

/* A copy of environ without the variables for which drop() says so, plus extra (NULL-ended). */
static char **make_env(bool (*drop)(const char *), char *const extra[]) {
    size_t n = 0, ne = 0;
    while (environ[n]) n++;
    while (extra && extra[ne]) ne++;
    char **env = calloc(n + ne + 1, sizeof *env);
    if (!env) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (drop(environ[i])) continue;
        bool replaced = false;
        for (size_t j = 0; j < ne; j++) {
            size_t nl = strcspn(extra[j], "=");
            if (!strncmp(environ[i], extra[j], nl + 1)) replaced = true;
        }
        if (replaced) continue;
        if (!(env[k++] = strdup(environ[i]))) goto oom;
    }
    for (size_t j = 0; j < ne; j++)
        if (!(env[k++] = strdup(extra[j]))) goto oom;
    return env;
oom:
    proc_argv_free(env);
    return NULL;
}

static bool drop_pg_vars(const char *e) {
    return !strncmp(e, "PG", 2);
}

static bool drop_nothing(const char *e) {
    return false;
}

/* ---- start-up ------------------------------------------------------------------------------- */

static void fill_info(stack *s) {
    stack_info *i = &s->info;
    i->dir = s->dir;
    i->profile = s->profile == STACK_PROFILE_UNTUNED ? "untuned" : "tuned";
    i->pg_url = s->pg_url;
    i->pg_proxy_url = s->pg_proxy_url;
    i->pg_service_url = s->pg_service_url;
    i->pg_proxy_addr = s->pg_proxy_addr;
    i->pg_user = PG_USER;
    i->pg_database = PG_DB;
    i->pg_password_file = s->pg_password_file;
    i->pgpass_file = s->pgpass_file;
    i->pg_superuser_password_file = s->pg_su_password_file;
    i->pg_data_dir = s->pg_datadir;
    i->pg_log = s->pg_log;
    i->pg_version = s->pg_version;
    i->pg_bindir = s->pg_bindir;
    i->pg_port = s->pg_port;
    i->redis_url = s->redis_url;
    i->redis_proxy_url = s->redis_proxy_url;
    i->redis_service_url = s->redis_service_url;
    i->redis_password = s->redis_password;
    i->redis_password_file = s->redis_password_file;
    i->redis_addr = s->redis_addr;
    i->redis_proxy_addr = s->redis_proxy_addr;
    i->redis_data_dir = s->redis_datadir;
    i->redis_log = s->redis_log;
    i->redis_version = s->redis_version;
    i->redis_server = s->redis_exe;
    i->redis_port = s->redis_port;
    i->proxy_api_url = s->api_url;
    i->service_url = s->has_service ? s->service_url : NULL;
    i->service_listen = s->has_service ? s->service_listen : NULL;
    i->service_ready = s->has_service ? s->m[M_SERVICE].ready_url : NULL;
    i->service_log = s->has_service ? s->service_log : NULL;
    i->service_argv = s->has_service ? s->m[M_SERVICE].argv : NULL;
    i->service_port = s->has_service ? s->service_port : 0;
    i->secret_file = s->secret_file;
    i->pgb_url = s->has_pgb ? s->pgb_url : NULL;
    i->pgb_service_url = s->has_pgb ? s->pgb_service_url : NULL;
    i->pgb_addr = s->has_pgb ? s->pgb_addr : NULL;
    i->pgb_pool_mode = s->has_pgb ? PGBSRV_POOL_MODE : NULL;
    i->pgb_config = s->has_pgb ? s->pgb_ini : NULL;
    i->pgb_auth_file = s->has_pgb ? s->pgb_auth : NULL;
    i->pgb_log = s->has_pgb ? s->pgb_log : NULL;
    i->pgb_version = s->has_pgb ? s->pgb_version : NULL;
    i->pgb_exe = s->has_pgb ? s->pgb_exe : NULL;
    i->pgb_port = s->has_pgb ? s->pgb_port : 0;
}

int stack_dir_create(const char *dir, bool prepared, char *out, size_t outlen, char *err,
                     size_t errlen) {
    char path[SP];
    out[0] = '\0';
    bool made = true;
    if (!dir) {
        const char *tmp = getenv("TMPDIR");
        if (!tmp || !*tmp || strlen(tmp) > DIR_MAX - 24) tmp = "/tmp";
        snprintf(path, sizeof path, "%s/brink-stack-XXXXXX", tmp);
        if (!mkdtemp(path)) {
            err_set(err, errlen, "cannot create a stack directory in %s: %s", tmp, strerror(errno));
            return -1;
        }
    } else {
        if (strlen(dir) > DIR_MAX) {
            err_set(err, errlen, "stack directory path is too long (at most %d bytes)", DIR_MAX);
            return -1;
        }
        snprintf(path, sizeof path, "%s", dir);
        if (mkdir(path, 0700) < 0) {
            if (errno != EEXIST) {
                err_set(err, errlen, "cannot create stack directory %s: %s", path, strerror(errno));
                return -1;
            }
            struct stat st;
            if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
                err_set(err, errlen, "%s exists and is not a directory", path);
                return -1;
            }
            made = false;
            /* it must be empty, since the stack removes its directory when it goes down */
            if (!prepared) {
                if (rmdir(path) < 0 || mkdir(path, 0700) < 0) {
                    err_set(err, errlen,
                            "stack directory %s is not empty (give a new or empty one)", path);
                    return -1;
                }
                made = true;
            }
        }
    }
    char real[PATH_MAX];
    if (!realpath(path, real) || strlen(real) > DIR_MAX || strlen(real) >= outlen) {
        err_set(err, errlen, "cannot resolve stack directory %s (or its path is too long)", path);
        if (made) rmdir(path);
        return -1;
    }
    /* writable for real (root passes access() everywhere, but not on a read-only mount) */
    char probe[PATH_MAX + 16];
    snprintf(probe, sizeof probe, "%s/.write-test", real);
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        err_set(err, errlen, "stack directory %s is not writable: %s", real, strerror(errno));
        if (made) rmdir(real);
        return -1;
    }
    close(fd);
    unlink(probe);
    memcpy(out, real, strlen(real) + 1); /* length checked above */
    return 0;
}

/* DIR/name into out (SP bytes; the directory is at most DIR_MAX, so it always fits). */
static void path_in(const stack *s, char *out, const char *name) {
    size_t dl = strlen(s->dir), nl = strlen(name);
    if (dl + 1 + nl >= SP) abort();
    memcpy(out, s->dir, dl);
    out[dl] = '/';
    memcpy(out + dl + 1, name, nl + 1);
}

/* The flags of a secret file the service reads: as root, the account the servers run as owns it
 * (still 0600). */
static int service_secret(const stack *s) {
    return PROC_FILE_SECRET | (s->root ? PROC_FILE_CHOWN : 0);
}

static int setup_secrets(stack *s, char *err, size_t errlen) {
    random_hex(s->pg_password, 24);
    random_hex(s->pg_su_password, 24);
    random_hex(s->redis_password, 24);
    path_in(s, s->pg_password_file, "postgres.password");
    path_in(s, s->pg_su_password_file, "postgres-superuser.password");
    path_in(s, s->pgpass_file, "pgpass");
    path_in(s, s->secret_file, "webhook.secret");
    path_in(s, s->redis_password_file, "redis.password");
    char line[256];
    snprintf(line, sizeof line, "%s\n", s->pg_password);
    if (proc_write_file(s->pg_password_file, line, PROC_FILE_SECRET, 0, 0, err, errlen) < 0)
        return -1;
    snprintf(line, sizeof line, "%s\n", s->pg_su_password);
    if (proc_write_file(s->pg_su_password_file, line, PROC_FILE_SECRET, 0, 0, err, errlen) < 0)
        return -1;
    snprintf(line, sizeof line, "%s\n", s->redis_password);
    if (proc_write_file(s->redis_password_file, line, service_secret(s), s->pg_uid, s->pg_gid, err,
                        errlen) < 0)
        return -1;
    unsigned char raw[32];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n > 0)
            got += (size_t)n;
        else if (errno != EINTR)
            abort();
    }
    char b64[64];
    b64_encode(raw, sizeof raw, b64);
    memset(raw, 0, sizeof raw);
    snprintf(line, sizeof line, "whsec_%s\n", b64);
    int rc =
        proc_write_file(s->secret_file, line, service_secret(s), s->pg_uid, s->pg_gid, err, errlen);
    memset(line, 0, sizeof line);
    memset(b64, 0, sizeof b64);
    return rc;
}

/* Every port the brink role is reached on: the proxy, PostgreSQL itself and PgBouncer (also its
 * admin database "pgbouncer", where the role may read SHOW POOLS and SHOW STATS). */
static int setup_pgpass(stack *s, int proxy_port, char *err, size_t errlen) {
    char buf[1024];
    size_t n = 0;
    int ports[4] = {proxy_port, s->pg_port, s->has_pgb ? s->pgb_port : 0,
                    s->has_pgb ? s->pgb_port : 0};
    const char *dbs[4] = {PG_DB, PG_DB, PG_DB, "pgbouncer"};
    for (int i = 0; i < 4; i++) {
        if (ports[i] == 0) continue;
        n += (size_t)snprintf(buf + n, sizeof buf - n,
                              "127.0.0.1:%d:%s:%s:%s\nlocalhost:%d:%s:%s:%s\n", ports[i], dbs[i],
                              PG_USER, s->pg_password, ports[i], dbs[i], PG_USER, s->pg_password);
    }
    int rc =
        proc_write_file(s->pgpass_file, buf, service_secret(s), s->pg_uid, s->pg_gid, err, errlen);
    memset(buf, 0, sizeof buf);
    return rc;
}

/* The fault proxy name in front of 127.0.0.1:port; its listening address into addr. */
static int create_proxy(stack *s, const char *name, int port, char *addr, size_t addrlen, char *err,
                        size_t errlen) {
    char sub[300], up[64];
    proxy_info pi;
    snprintf(up, sizeof up, "127.0.0.1:%d", port);
    if (proxy_create(s->proxies, name, "127.0.0.1:0", up, true, &pi, sub, sizeof sub) != PROXY_OK) {
        err_set(err, errlen, "cannot create the %s proxy: %s", name, sub);
        return -1;
    }
    snprintf(addr, addrlen, "%s", pi.listen);
    return 0;
}

static int start_proxies(stack *s, char *err, size_t errlen) {
    char sub[300];
    s->proxies = proxy_server_start(sub, sizeof sub);
    if (!s->proxies) {
        err_set(err, errlen, "cannot start the fault proxies: %s", sub);
        return -1;
    }
    if (create_proxy(s, "postgres", s->pg_port, s->pg_proxy_addr, sizeof s->pg_proxy_addr, err,
                     errlen) < 0 ||
        create_proxy(s, "redis", s->redis_port, s->redis_proxy_addr, sizeof s->redis_proxy_addr,
                     err, errlen) < 0)
        return -1;
    s->api = proxy_api_start(s->proxies, "127.0.0.1:0", s->api_addr, sizeof s->api_addr, sub,
                             sizeof sub);
    if (!s->api) {
        err_set(err, errlen, "cannot start the proxy control API: %s", sub);
        return -1;
    }
    snprintf(s->api_url, sizeof s->api_url, "http://%s", s->api_addr);
    return 0;
}

static int proxy_port_of(const char *addr) {
    const char *c = strrchr(addr, ':');
    return c ? atoi(c + 1) : 0;
}

/* Renders the service's argv, ready URL and environment (needs the proxies' addresses). */
static int prepare_service(stack *s, const stack_opts *o, char *err, size_t errlen) {
    member *m = &s->m[M_SERVICE];
    char tmpl[2 * SP];
    if (!o->service) {
        char exe[SP];
        if (find_dispatchd(exe, sizeof exe, err, errlen) < 0) return -1;
        /* PgBouncer 1.18's transaction mode keeps no prepared statement across transactions */
        snprintf(tmpl, sizeof tmpl, "'%s' " DEFAULT_SERVICE "%s%s", exe,
                 s->profile == STACK_PROFILE_UNTUNED ? " --untuned" : "",
                 s->has_pgb ? " --pg-prepare off" : "");
    } else {
        if (strlen(o->service) >= sizeof tmpl) {
            err_set(err, errlen, "service command is too long");
            return -1;
        }
        snprintf(tmpl, sizeof tmpl, "%s", o->service);
    }
    char port[16];
    snprintf(port, sizeof port, "%d", s->service_port);
    snprintf(s->service_listen, sizeof s->service_listen, "127.0.0.1:%d", s->service_port);
    snprintf(s->service_url, sizeof s->service_url, "http://%s", s->service_listen);
    stack_var vars[] = {
        {"pg_url", s->pg_service_url},       {"redis_addr", s->redis_proxy_addr},
        {"redis_url", s->redis_service_url}, {"redis_password_file", s->redis_password_file},
        {"listen", s->service_listen},       {"port", port},
        {"secret_file", s->secret_file},     {"dir", s->dir},
    };
    int nv = (int)(sizeof vars / sizeof vars[0]);
    char sub[400];
    if (stack_template_argv(tmpl, vars, nv, &m->argv, sub, sizeof sub) < 0) {
        err_set(err, errlen, "--service: %s", sub);
        return -1;
    }
    char exe[SP];
    if (proc_find_exe(m->argv[0], exe, sizeof exe) < 0) {
        err_set(err, errlen,
                "service command not found: %s (check --service, or use --service none)",
                m->argv[0]);
        return -1;
    }
    free(m->argv[0]);
    if (!(m->argv[0] = strdup(exe))) goto oom;
    char *ready;
    if (stack_template(o->service_ready ? o->service_ready : DEFAULT_READY_TMPL, vars, nv, &ready,
                       sub, sizeof sub) < 0) {
        err_set(err, errlen, "--service-ready: %s", sub);
        return -1;
    }
    sub[0] = '\0';
    int bad = strlen(ready) >= sizeof m->ready_url || ready_check_url(ready, sub, sizeof sub) < 0;
    if (!bad) memcpy(m->ready_url, ready, strlen(ready) + 1);
    free(ready);
    if (bad) {
        err_set(err, errlen, "--service-ready: %s", sub[0] ? sub : "URL too long");
        return -1;
    }
    /* the passwords: files named in the environment (dispatchd reads both so), and the whole URLs
     * for a service of the user's that takes those */
    char e_pgpass[SP + 16], e_db[SP + 16], e_redis[SP + 16], e_rpw[SP + 40], e_dir[SP + 32];
    snprintf(e_pgpass, sizeof e_pgpass, "PGPASSFILE=%s", s->pgpass_file);
    snprintf(e_db, sizeof e_db, "DATABASE_URL=%s", s->has_pgb ? s->pgb_url : s->pg_proxy_url);
    snprintf(e_redis, sizeof e_redis, "REDIS_URL=%s", s->redis_proxy_url);
    snprintf(e_rpw, sizeof e_rpw, "DISPATCHD_REDIS_PASSWORD_FILE=%s", s->redis_password_file);
    snprintf(e_dir, sizeof e_dir, "BRINK_STACK_DIR=%s", s->dir);
    char *extra[] = {e_pgpass, e_db, e_redis, e_rpw, e_dir, NULL};
    m->envp = make_env(drop_nothing, extra);
    memset(e_db, 0, sizeof e_db);
    memset(e_redis, 0, sizeof e_redis);
    if (!m->envp) goto oom;
    m->as_user = s->root; /* as root: the stack's account, like every server */
    m->uid = s->pg_uid;
    m->gid = s->pg_gid;
    path_in(s, s->service_log, "service.log");
    snprintf(m->log, sizeof m->log, "%s", s->service_log);
    s->has_service = true;
    return 0;
oom:
    err_set(err, errlen, "out of memory");
    return -1;
}

/* PgBouncer's directory, files and process; waits until a query answers through it. */
static int start_pgbouncer(stack *s, char *err, size_t errlen) {
    member *m = &s->m[M_PGB];
    path_in(s, s->pgb_dir, "pgbouncer");
    path_in(s, s->pgb_log, "pgbouncer.log");
    snprintf(m->log, sizeof m->log, "%s", s->pgb_log);
    m->cwd = s->pgb_dir;
    m->as_user = s->root; /* PgBouncer refuses to run as root, like PostgreSQL */
    m->uid = s->pg_uid;
    m->gid = s->pg_gid;
    if (mkdir(s->pgb_dir, 0700) < 0 || (s->root && chown(s->pgb_dir, s->pg_uid, s->pg_gid) < 0)) {
        err_set(err, errlen, "cannot create %s: %s", s->pgb_dir, strerror(errno));
        return -1;
    }
    pgbsrv_conf c = {.dir = s->pgb_dir,
                     .port = s->pgb_port,
                     .upstream_port = proxy_port_of(s->pg_proxy_addr),
                     .database = PG_DB,
                     .user = PG_USER,
                     .password = s->pg_password,
                     .chown_to = s->root,
                     .uid = s->pg_uid,
                     .gid = s->pg_gid};
    if (pgbsrv_configure(&c, s->pgb_ini, sizeof s->pgb_ini, s->pgb_auth, sizeof s->pgb_auth, err,
                         errlen) < 0)
        return -1;
    if (!(m->argv = pgbsrv_argv(s->pgb_exe, s->pgb_ini)) ||
        !(m->envp = make_env(drop_pg_vars, NULL))) {
        err_set(err, errlen, "out of memory");
        return -1;
    }
    snprintf(m->ready_url, sizeof m->ready_url, "%s", s->pgb_url);
    if (member_spawn(s, m, err, errlen) < 0) return -1;
    return member_wait_ready(m, m->ready_url, s->ready_timeout_ns, err, errlen);
}

static void teardown(stack *s);

int stack_up(const stack_opts *o, stack **out, char *err, size_t errlen) {
    *out = NULL;
    stack *s = calloc(1, sizeof *s);
    if (!s) {
        err_set(err, errlen, "out of memory");
        return -1;
    }
    s->reaper.fd = -1;
    s->keep = o->keep;
    s->profile = o->profile;
    s->ready_timeout_ns = o->ready_timeout_ns > 0 ? o->ready_timeout_ns : DEFAULT_READY_NS;
    s->m[M_PG] = (member){.name = "postgres", .stop_sig = SIGINT};
    s->m[M_REDIS] = (member){.name = "redis", .stop_sig = SIGTERM};
    s->m[M_PGB] = (member){.name = "pgbouncer", .stop_sig = SIGINT}; /* SIGINT: safe shutdown */
    s->m[M_SERVICE] = (member){.name = "service", .stop_sig = SIGTERM, .signal_group = true};
    bool want_service = !(o->service && (!strcmp(o->service, "none") || !o->service[0]));

    /* 1. what can be wrong without side effects */
    if (pgsrv_find(s->pg_bindir, sizeof s->pg_bindir, s->pg_major, sizeof s->pg_major, err,
                   errlen) < 0 ||
        redsrv_find(s->redis_exe, sizeof s->redis_exe, err, errlen) < 0)
        goto fail;
    s->has_pgb = o->pgbouncer;
    if (s->has_pgb) {
        if (pgbsrv_find(s->pgb_exe, sizeof s->pgb_exe, err, errlen) < 0) goto fail;
        pgbsrv_version(s->pgb_exe, s->pgb_version, sizeof s->pgb_version);
    }
    s->root = geteuid() == 0;
    if (s->root) {
        char sub[200];
        if (proc_lookup_user(PG_ACCOUNT, &s->pg_uid, &s->pg_gid, sub, sizeof sub) < 0) {
            err_set(err, errlen,
                    "running as root, the stack's servers need an unprivileged account: %s (the "
                    "Debian package postgresql creates it)",
                    sub);
            goto fail;
        }
    }
    s->pg_port = o->pg_port;
    s->redis_port = o->redis_port;
    s->service_port = o->service_port;
    s->pgb_port = o->pgbouncer_port;
    int *ports[4] = {&s->pg_port, &s->redis_port};
    const char *what[4] = {"PostgreSQL", "Redis"};
    const char *opt[4] = {"--pg-port", "--redis-port"};
    int nports = 2;
    if (want_service) {
        ports[nports] = &s->service_port;
        what[nports] = "the service";
        opt[nports++] = "--service-port";
    }
    if (s->has_pgb) {
        ports[nports] = &s->pgb_port;
        what[nports] = "PgBouncer";
        opt[nports++] = "--pgbouncer-port";
    }
    if (choose_ports(nports, ports, what, opt, err, errlen) < 0) goto fail;
    snprintf(s->redis_addr, sizeof s->redis_addr, "127.0.0.1:%d", s->redis_port);

    /* 2. the proxies (they need only the upstream ports) and the service's command */
    if (start_proxies(s, err, errlen) < 0) goto fail;
    snprintf(s->redis_service_url, sizeof s->redis_service_url, "redis://%s", s->redis_proxy_addr);
    snprintf(s->pg_service_url, sizeof s->pg_service_url, "postgresql://%s@%s/%s", PG_USER,
             s->pg_proxy_addr, PG_DB);
    if (s->has_pgb) { /* the service → PgBouncer → the proxy → PostgreSQL */
        snprintf(s->pgb_addr, sizeof s->pgb_addr, "127.0.0.1:%d", s->pgb_port);
        snprintf(s->pgb_service_url, sizeof s->pgb_service_url, "postgresql://%s@%s/%s", PG_USER,
                 s->pgb_addr, PG_DB);
        snprintf(s->pg_service_url, sizeof s->pg_service_url, "%s", s->pgb_service_url);
    }
    /* 3. the directory and the reaper */
    if (stack_dir_create(o->dir, o->dir_prepared, s->dir, sizeof s->dir, err, errlen) < 0)
        goto fail;
    if (s->root && chmod(s->dir, 0711) < 0) {
        err_set(err, errlen, "cannot chmod %s: %s", s->dir, strerror(errno));
        goto fail;
    }
    if (reaper_start(&s->reaper, err, errlen) < 0) goto fail;
    if (!s->keep) reaper_add_dir(&s->reaper, s->dir);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (setup_secrets(s, err, errlen) < 0) goto fail;
    snprintf(s->redis_url, sizeof s->redis_url, "redis://:%s@%s", s->redis_password, s->redis_addr);
    snprintf(s->redis_proxy_url, sizeof s->redis_proxy_url, "redis://:%s@%s", s->redis_password,
             s->redis_proxy_addr);
    snprintf(s->pg_url, sizeof s->pg_url, "postgresql://%s:%s@127.0.0.1:%d/%s", PG_USER,
             s->pg_password, s->pg_port, PG_DB);
    snprintf(s->pg_proxy_url, sizeof s->pg_proxy_url, "postgresql://%s:%s@%s/%s", PG_USER,
             s->pg_password, s->pg_proxy_addr, PG_DB);
    snprintf(s->pg_admin_url, sizeof s->pg_admin_url,
             "postgresql://postgres:%s@127.0.0.1:%d/postgres", s->pg_su_password, s->pg_port);
    if (s->has_pgb)
        snprintf(s->pgb_url, sizeof s->pgb_url, "postgresql://%s:%s@%s/%s", PG_USER, s->pg_password,
                 s->pgb_addr, PG_DB);
    if (setup_pgpass(s, proxy_port_of(s->pg_proxy_addr), err, errlen) < 0) goto fail;
    if (want_service && prepare_service(s, o, err, errlen) < 0) goto fail;

    /* 4a. initdb (PostgreSQL) and redis-server in parallel */
    member *pg = &s->m[M_PG], *rd = &s->m[M_REDIS];
    path_in(s, s->pg_datadir, "postgres");
    path_in(s, s->pg_log, "postgres.log");
    snprintf(pg->log, sizeof pg->log, "%s", s->pg_log);
    pg->cwd = s->dir;
    pg->workdir = s->pg_datadir;
    char pgexe[SP + 16];
    snprintf(pgexe, sizeof pgexe, "%s/postgres", s->pg_bindir);
    if (!realpath(pgexe, pg->exe)) {
        err_set(err, errlen, "cannot resolve %s: %s", pgexe, strerror(errno));
        goto fail;
    }
    reaper_add_watch(&s->reaper, s->pg_datadir, pg->exe);
    pg->as_user = s->root;
    pg->uid = s->pg_uid;
    pg->gid = s->pg_gid;
    if (mkdir(s->pg_datadir, 0700) < 0 ||
        (s->root && chown(s->pg_datadir, s->pg_uid, s->pg_gid) < 0)) {
        err_set(err, errlen, "cannot create %s: %s", s->pg_datadir, strerror(errno));
        goto fail;
    }
    if (s->root && !proc_access_as(s->pg_datadir, R_OK | W_OK | X_OK, s->pg_uid, s->pg_gid)) {
        err_set(err, errlen,
                "the postgres account cannot reach %s: a parent directory is not searchable by "
                "others (chmod o+x it, or use a --dir under /tmp)",
                s->pg_datadir);
        goto fail;
    }
    char pwfile[SP], line[128];
    path_in(s, pwfile, "initdb.pw");
    snprintf(line, sizeof line, "%s\n", s->pg_su_password);
    if (proc_write_file(pwfile, line, PROC_FILE_SECRET | (s->root ? PROC_FILE_CHOWN : 0), s->pg_uid,
                        s->pg_gid, err, errlen) < 0)
        goto fail;
    memset(line, 0, sizeof line);
    pg->envp = make_env(drop_pg_vars, NULL);
    char **initdb = pgsrv_initdb_argv(s->pg_bindir, s->pg_datadir, pwfile);
    if (!pg->envp || !initdb) {
        proc_argv_free(initdb);
        unlink(pwfile);
        err_set(err, errlen, "out of memory");
        goto fail;
    }
    pid_t initdb_pid; /* with the postgres member's identity, environment and log */
    int rc = spawn_as(s, pg, initdb, &initdb_pid, err, errlen);
    proc_argv_free(initdb);
    if (rc < 0) {
        unlink(pwfile);
        goto fail;
    }

    path_in(s, s->redis_datadir, "redis");
    path_in(s, s->redis_conf, "redis/redis.conf");
    path_in(s, s->redis_log, "redis.log");
    snprintf(rd->log, sizeof rd->log, "%s", s->redis_log);
    rd->cwd = s->dir;
    rd->workdir = s->redis_datadir;
    if (!realpath(s->redis_exe, rd->exe)) {
        err_set(err, errlen, "cannot resolve %s: %s", s->redis_exe, strerror(errno));
        goto fail;
    }
    reaper_add_watch(&s->reaper, s->redis_datadir, rd->exe);
    snprintf(rd->ready_url, sizeof rd->ready_url, "%s", s->redis_url);
    rd->as_user = s->root; /* as root: the stack's account, which owns the data and the file */
    rd->uid = s->pg_uid;
    rd->gid = s->pg_gid;
    redsrv_conf rconf = {.path = s->redis_conf,
                         .datadir = s->redis_datadir,
                         .port = s->redis_port,
                         .password = s->redis_password,
                         .chown_to = s->root,
                         .uid = s->pg_uid,
                         .gid = s->pg_gid};
    bool redis_ok = mkdir(s->redis_datadir, 0700) == 0 &&
                    (!s->root || chown(s->redis_datadir, s->pg_uid, s->pg_gid) == 0) &&
                    redsrv_configure(&rconf, err, errlen) == 0 &&
                    (rd->argv = redsrv_argv(s->redis_exe, s->redis_conf)) != NULL &&
                    member_spawn(s, rd, err, errlen) == 0;
    if (!redis_ok && !err[0]) err_set(err, errlen, "cannot prepare redis: %s", strerror(errno));

    int st = 0;
    int w = proc_wait(initdb_pid, INITDB_NS, &st);
    unlink(pwfile);
    if (w != 0) {
        proc_group_end(initdb_pid, SIGKILL, NS_PER_S);
        proc_wait(initdb_pid, NS_PER_S, NULL);
    } else {
        proc_group_end(initdb_pid, SIGKILL, NS_PER_S);
    }
    reaper_del_group(&s->reaper, initdb_pid);
    if (!redis_ok) goto fail;
    if (w != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        member tmp = {.name = "initdb"};
        snprintf(tmp.log, sizeof tmp.log, "%s", pg->log);
        if (w != 0)
            err_set(err, errlen, "initdb did not finish within %.0fs",
                    (double)INITDB_NS / NS_PER_S);
        else
            describe_exit(&tmp, st, "while creating the cluster", err, errlen);
        goto fail;
    }

    /* 4b. postgres, then both ready, then the application's role and database */
    if (pgsrv_configure(s->pg_datadir, s->pg_port, err, errlen) < 0) goto fail;
    if (!(pg->argv = pgsrv_argv(s->pg_bindir, s->pg_datadir))) {
        err_set(err, errlen, "out of memory");
        goto fail;
    }
    if (member_spawn(s, pg, err, errlen) < 0) goto fail;
    if (member_wait_ready(rd, rd->ready_url, s->ready_timeout_ns, err, errlen) < 0) goto fail;
    if (member_wait_ready(pg, s->pg_admin_url, s->ready_timeout_ns, err, errlen) < 0) goto fail;
    if (pgsrv_create_app(s->pg_admin_url, PG_USER, s->pg_password, PG_DB, s->pg_version,
                         sizeof s->pg_version, err, errlen) < 0)
        goto fail;
    snprintf(pg->ready_url, sizeof pg->ready_url, "%s", s->pg_url);
    redsrv_version(s->redis_port, s->redis_password, NS_PER_S, s->redis_version,
                   sizeof s->redis_version);

    /* 4c. PgBouncer, in front of the PostgreSQL proxy; ready when SELECT 1 answers through it */
    if (s->has_pgb && start_pgbouncer(s, err, errlen) < 0) goto fail;

    /* 4d. the service */
    if (s->has_service) {
        member *sv = &s->m[M_SERVICE];
        if (member_spawn(s, sv, err, errlen) < 0) goto fail;
        if (member_wait_ready(sv, sv->ready_url, s->ready_timeout_ns, err, errlen) < 0) goto fail;
    }
    fill_info(s);
    *out = s;
    return 0;
fail:
    teardown(s);
    return -1;
}

/* ---- stopping ------------------------------------------------------------------------------- */

/* Stops everything that runs, removes the directory unless keep, frees s. */
static void teardown(stack *s) {
    member *sv = &s->m[M_SERVICE], *pg = &s->m[M_PG], *rd = &s->m[M_REDIS], *pb = &s->m[M_PGB];
    member_signal_stop(sv);
    member_wait_stopped(s, sv, DOWN_STOP_NS);
    member_signal_stop(pb);
    member_wait_stopped(s, pb, DOWN_STOP_NS);
    if (s->api) proxy_api_stop(s->api);
    if (s->proxies) proxy_server_stop(s->proxies);
    s->api = NULL;
    s->proxies = NULL;
    /* A directory about to be removed needs no shutdown checkpoint: immediate shutdown (SIGQUIT)
     * skips writing and fsyncing the dirty buffers that nothing will read. */
    if (s->dir[0] && !s->keep) pg->stop_sig = SIGQUIT;
    member_signal_stop(pg);
    member_signal_stop(rd);
    member_wait_stopped(s, rd, DOWN_STOP_NS);
    member_wait_stopped(s, pg, DOWN_STOP_NS);
    if (s->dir[0] && !s->keep) proc_rmtree(s->dir);
    reaper_finish(&s->reaper);
    for (int i = 0; i < M_COUNT; i++) member_free(&s->m[i]);
    memset(s->pg_password, 0, sizeof s->pg_password);
    memset(s->pg_su_password, 0, sizeof s->pg_su_password);
    memset(s->redis_password, 0, sizeof s->redis_password);
    memset(s->redis_url, 0, sizeof s->redis_url);
    memset(s->redis_proxy_url, 0, sizeof s->redis_proxy_url);
    memset(s->pg_url, 0, sizeof s->pg_url);
    memset(s->pg_proxy_url, 0, sizeof s->pg_proxy_url);
    memset(s->pg_admin_url, 0, sizeof s->pg_admin_url);
    memset(s->pgb_url, 0, sizeof s->pgb_url);
    free(s);
}

void stack_down(stack *s) {
    if (s) teardown(s);
}

void stack_set_keep(stack *s, bool keep) {
    if (keep == s->keep) return;
    s->keep = keep;
    if (keep)
        reaper_del_dir(&s->reaper, s->dir);
    else
        reaper_add_dir(&s->reaper, s->dir);
}

/* ---- accessors ------------------------------------------------------------------------------ */

const stack_info *stack_get_info(const stack *s) {
    return &s->info;
}

proxy_server *stack_proxies(stack *s) {
    return s->proxies;
}

int stack_processes(const stack *s, stack_process *out, int max) {
    int n = 0;
    if (s->reaper.pid > 0 && n < max) out[n++] = (stack_process){"reaper", s->reaper.pid};
    for (int i = 0; i < M_COUNT && n < max; i++)
        if (s->m[i].pid > 0) out[n++] = (stack_process){s->m[i].name, s->m[i].pid};
    return n;
}

int stack_poll(stack *s, char *what, size_t whatlen) {
    int dead = 0;
    if (what && whatlen) what[0] = '\0';
    for (int i = 0; i < M_COUNT; i++) {
        member *m = &s->m[i];
        int st;
        if (m->pid <= 0 || waitpid(m->pid, &st, WNOHANG) != m->pid) continue;
        if (dead++ == 0 && what) {
            char d[96];
            proc_describe_status(st, d, sizeof d);
            err_set(what, whatlen, "%s exited by itself: %s", m->name, d);
        }
        member_gone(s, m);
    }
    if (s->reaper.pid > 0 && waitpid(s->reaper.pid, NULL, WNOHANG) == s->reaper.pid) {
        s->reaper.pid = 0;
        if (dead++ == 0 && what) err_set(what, whatlen, "the reaper exited");
    }
    return dead;
}

/* ---- faults --------------------------------------------------------------------------------- */

static const char *const fault_names[] = {"pause", "resume", "stop", "kill", "start", "restart"};

const char *stack_fault_name(stack_fault_op op) {
    return (unsigned)op < sizeof fault_names / sizeof fault_names[0] ? fault_names[op] : "?";
}

int stack_fault_parse(const char *name, stack_fault_op *op) {
    for (size_t i = 0; i < sizeof fault_names / sizeof fault_names[0]; i++) {
        if (!strcmp(name, fault_names[i])) {
            *op = (stack_fault_op)i;
            return 0;
        }
    }
    return -1;
}

static void mark(int64_t *mono, int64_t *wall) {
    *mono = clock_now_ns();
    *wall = clock_wall_ns();
}

/* m runs (stack_fault checked). */
static void fault_stop(stack *s, member *m, bool kill9, stack_fault_times *t) {
    if (kill9) {
        /* PostgreSQL's backends become our orphans (we are a child subreaper): reap them after */
        pid_t kids[512];
        int nkids = m->workdir ? proc_list_cwd_under(m->workdir, m->exe, kids, 512) : 0;
        mark(&t->signal_ns, &t->signal_wall_ns);
        kill(m->pid, SIGKILL);
        kill(-m->pid, SIGKILL);
        if (m->workdir) proc_signal_cwd_under(m->workdir, m->exe, SIGKILL);
        proc_wait(m->pid, 10 * NS_PER_S, NULL);
        mark(&t->down_ns, &t->down_wall_ns);
        proc_group_end(m->pid, SIGKILL, 5 * NS_PER_S);
        if (m->workdir) proc_end_cwd_under(m->workdir, m->exe, SIGKILL, 5 * NS_PER_S);
        for (int k = 0; k < nkids; k++)
            if (kids[k] != m->pid) waitpid(kids[k], NULL, WNOHANG);
        reaper_del_group(&s->reaper, m->pid);
        m->pid = 0;
        return;
    }
    mark(&t->signal_ns, &t->signal_wall_ns);
    member_signal_stop(m);
    if (proc_wait(m->pid, FAULT_STOP_NS, NULL) != 0) {
        kill(-m->pid, SIGKILL);
        kill(m->pid, SIGKILL);
        proc_wait(m->pid, 5 * NS_PER_S, NULL);
    }
    mark(&t->down_ns, &t->down_wall_ns);
    member_gone(s, m);
}

/* Waits until the member is ready again; a member that exited meanwhile is cleaned up. */
static int fault_ready(stack *s, member *m, stack_fault_times *t, char *err, size_t errlen) {
    if (member_wait_ready(m, m->ready_url, FAULT_READY_NS, err, errlen) < 0) {
        if (m->pid < 0) {
            m->pid = -m->pid;
            member_gone(s, m);
        }
        return -1;
    }
    mark(&t->ready_ns, &t->ready_wall_ns);
    return 0;
}

static int fault_start(stack *s, member *m, stack_fault_times *t, char *err, size_t errlen) {
    if (m->pid > 0) {
        err_set(err, errlen, "%s is already running (pid %d)", m->name, (int)m->pid);
        return -1;
    }
    if (member_spawn(s, m, err, errlen) < 0) return -1;
    return fault_ready(s, m, t, err, errlen);
}

int stack_fault(stack *s, const char *target, stack_fault_op op, stack_fault_times *t, char *err,
                size_t errlen) {
    memset(t, 0, sizeof *t);
    member *m = NULL;
    for (int i = 0; i < M_COUNT; i++)
        if (!strcmp(target, s->m[i].name) && (i != M_SERVICE || s->has_service) &&
            (i != M_PGB || s->has_pgb))
            m = &s->m[i];
    if (!m) {
        err_set(err, errlen, "unknown fault target '%s' (want postgres, redis%s%s)", target,
                s->has_pgb ? ", pgbouncer" : "",
                s->has_service ? " or service" : "; this stack has no service");
        return -1;
    }
    stack_poll(s, NULL, 0);
    t->pid_before = m->pid;
    if ((unsigned)op > STACK_FAULT_RESTART) {
        err_set(err, errlen, "unknown fault operation");
        return -1;
    }
    if (op != STACK_FAULT_START && m->pid <= 0) {
        err_set(err, errlen, "%s is not running", m->name);
        return -1;
    }
    int rc = 0;
    switch (op) {
    case STACK_FAULT_PAUSE:
        mark(&t->signal_ns, &t->signal_wall_ns);
        kill(-m->pid, SIGSTOP);
        for (int i = 0; i < 1000 && proc_state(m->pid) != 'T'; i++) sleep_ms(1);
        mark(&t->down_ns, &t->down_wall_ns);
        break;
    case STACK_FAULT_RESUME:
        mark(&t->signal_ns, &t->signal_wall_ns);
        kill(-m->pid, SIGCONT);
        rc = fault_ready(s, m, t, err, errlen);
        break;
    case STACK_FAULT_STOP: fault_stop(s, m, false, t); break;
    case STACK_FAULT_KILL: fault_stop(s, m, true, t); break;
    case STACK_FAULT_START: rc = fault_start(s, m, t, err, errlen); break;
    case STACK_FAULT_RESTART:
        fault_stop(s, m, false, t);
        rc = fault_start(s, m, t, err, errlen);
        break;
    }
    t->pid_after = m->pid > 0 ? m->pid : 0;
    return rc;
}

/* ---- users' own stacks ---------------------------------------------------------------------- */

int stack_ready_check(const char *url, int64_t timeout_ns, char *err, size_t errlen) {
    if (ready_check_url(url, err, errlen) < 0) return -1;
    int64_t deadline = clock_now_ns() + timeout_ns;
    for (int attempt = 0;; attempt++) {
        int64_t left = deadline - clock_now_ns();
        int64_t t = left < NS_PER_S ? left : NS_PER_S;
        if (t < 10 * NS_PER_MS) t = 10 * NS_PER_MS;
        if (ready_probe(url, t, err, errlen) == 0) return 0;
        if (clock_now_ns() >= deadline) return -1;
        sleep_ms(attempt < 50 ? 5 : 20);
    }
}

int stack_run_cmd(const char *cmd, int64_t timeout_ns, int *status, char *out, size_t outlen,
                  char *err, size_t errlen) {
    char **argv;
    if (proc_split(cmd, &argv, err, errlen) < 0) return -1;
    int rc = proc_run(argv, timeout_ns, status, out, outlen, err, errlen);
    proc_argv_free(argv);
    return rc;
}
