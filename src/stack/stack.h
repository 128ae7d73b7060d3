/* stack.h — the embedded stack: a real PostgreSQL and a real Redis from Debian's packages, a
 * fault proxy in front of each (with the Toxiproxy-compatible control API), and the service under
 * test, which is only ever given the proxies' addresses. brink starts it, breaks it (process
 * faults here; network faults through the proxies) and removes every trace of it, even when
 * brink itself is killed.
 *
 * `brink stack up` runs one in a supervisor process (supervisor.c); scenarios call stack_up in
 * their own process. Use a stack from one thread — the one that called stack_up, which must live
 * as long as the stack: the servers get PR_SET_PDEATHSIG, which fires when the thread that
 * created them ends. stack_up makes the calling process a child subreaper
 * (PR_SET_CHILD_SUBREAPER) so that the PostgreSQL backends orphaned by a killed postmaster are
 * reaped here. See docs/stack.md. */
#ifndef BRINK_STACK_H
#define BRINK_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fault/proxy.h"

typedef struct stack stack;

typedef enum stack_profile {
    STACK_PROFILE_TUNED,
    STACK_PROFILE_UNTUNED, /* the default service command gets --untuned */
} stack_profile;

typedef struct stack_opts {
    /* NULL: a fresh directory made with mkdtemp, $TMPDIR/brink-stack-XXXXXX (or /tmp/...).
     * Otherwise a directory that does not exist yet or is empty (created if needed). */
    const char *dir;
    bool dir_prepared; /* dir exists and was made for this stack by the caller, who may have
                          put its own files there (the supervisor's log); no emptiness check */
    bool keep;         /* keep the directory when the stack goes down */
    stack_profile profile;
    /* The service's command template, split into words as a shell would (quotes, no expansion)
     * and then substituted: {pg_url} {redis_addr} {redis_url} {redis_password_file} {listen}
     * {port} {secret_file} {dir} ({pg_url} and {redis_url} without their passwords, which the
     * service finds through PGPASSFILE and DISPATCHD_REDIS_PASSWORD_FILE). NULL: the default,
     * DISPATCHD --listen {listen} --pg {pg_url} --redis {redis_url} --secret-file {secret_file}
     * (with DISPATCHD next to the running executable). "none": no service. As root the service
     * runs as the postgres account, like every server of the stack. */
    const char *service;
    const char *service_ready;             /* URL template; NULL: http://{listen}/readyz */
    int pg_port, redis_port, service_port; /* 0: a free port; otherwise it must be free */
    /* PgBouncer (transaction pooling) between the service and the PostgreSQL proxy: {pg_url}
     * and DATABASE_URL then point at it, and the default service gets --pg-prepare off */
    bool pgbouncer;
    int pgbouncer_port;       /* 0: a free port */
    int64_t ready_timeout_ns; /* for each server and the service; 0: 10 s */
} stack_opts;

/* Everything a user of the stack needs to reach it. Strings belong to the stack. */
typedef struct stack_info {
    const char *dir;
    const char *profile; /* "tuned" or "untuned" */
    /* PostgreSQL: URLs carry the application role's password (stack.json is 0600) */
    const char *pg_url;         /* postgresql://brink:PW@127.0.0.1:PORT/brink, direct */
    const char *pg_proxy_url;   /* the same through the proxy */
    const char *pg_service_url; /* {pg_url}: through the proxy (with pgbouncer: through
                                   PgBouncer) without the password (PGPASSFILE has it) */
    const char *pg_proxy_addr;  /* 127.0.0.1:PORT */
    const char *pg_user, *pg_database;
    const char *pg_password_file, *pgpass_file, *pg_superuser_password_file;
    const char *pg_data_dir, *pg_log, *pg_version, *pg_bindir;
    int pg_port;
    /* Redis: a password (requirepass), which the URLs carry (stack.json is 0600) */
    const char *redis_url, *redis_proxy_url; /* redis://:PW@127.0.0.1:PORT, direct / proxy */
    const char *redis_service_url;           /* {redis_url}: the proxy, without the password */
    const char *redis_password;              /* hex; never printed */
    const char *redis_password_file;         /* the password and a newline, 0600 */
    const char *redis_addr, *redis_proxy_addr;
    const char *redis_data_dir, *redis_log, *redis_version, *redis_server;
    int redis_port;
    /* the proxies' control API */
    const char *proxy_api_url; /* http://127.0.0.1:PORT */
    /* the service; url is NULL without one */
    const char *service_url;    /* http://127.0.0.1:PORT */
    const char *service_listen; /* 127.0.0.1:PORT */
    const char *service_ready;  /* the ready-check URL */
    const char *service_log;
    char *const *service_argv;
    int service_port;
    const char *secret_file; /* whsec_ + base64(32 random bytes), 0600 */
    /* PgBouncer; every pointer NULL (and the port 0) without --pgbouncer */
    const char *pgb_url;         /* postgresql://brink:PW@127.0.0.1:PORT/brink */
    const char *pgb_service_url; /* the same without the password (= pg_service_url then) */
    const char *pgb_addr;        /* 127.0.0.1:PORT */
    const char *pgb_pool_mode;   /* "transaction" */
    const char *pgb_config, *pgb_auth_file, *pgb_log, *pgb_version, *pgb_exe;
    int pgb_port;
} stack_info;

typedef struct stack_process {
    const char *name; /* "reaper", "postgres", "redis", "pgbouncer", "service" */
    pid_t pid;        /* also its process group */
} stack_process;

/* Starts everything and waits until each part is ready (a real query, PING, GET readyz).
 * 0 with *out, or -1 with a one-line reason; on failure nothing is left running and the
 * directory is removed (unless keep). */
int stack_up(const stack_opts *o, stack **out, char *err, size_t errlen);
/* Stops everything (the service, the proxies, Redis, PostgreSQL — gracefully, bounded), removes
 * the directory unless keep, frees s. NULL is allowed. */
void stack_down(stack *s);
void stack_set_keep(stack *s, bool keep);

/* Makes the stack directory as stack_up does (dir NULL: mkdtemp; else dir must not exist or be
 * empty, unless prepared) and checks that it is writable; out receives its absolute path. */
int stack_dir_create(const char *dir, bool prepared, char *out, size_t outlen, char *err,
                     size_t errlen);

const stack_info *stack_get_info(const stack *s);
proxy_server *stack_proxies(stack *s);
/* The running processes (at most max); returns how many. */
int stack_processes(const stack *s, stack_process *out, int max);
/* Reaps members that exited on their own (and their groups' leftovers). Returns how many were
 * found dead, describing the first in what ("postgres exited: signal 9 (Killed)"). */
int stack_poll(stack *s, char *what, size_t whatlen);

/* ---- process faults ------------------------------------------------------------------------ */

typedef enum stack_fault_op {
    STACK_FAULT_PAUSE,   /* SIGSTOP to the process group */
    STACK_FAULT_RESUME,  /* SIGCONT; waits until ready */
    STACK_FAULT_STOP,    /* graceful: SIGTERM (PostgreSQL: SIGINT, fast shutdown); waits for exit */
    STACK_FAULT_KILL,    /* SIGKILL the main process, then its group: a crash (WAL recovery next) */
    STACK_FAULT_START,   /* starts it again (same data, same port); waits until ready */
    STACK_FAULT_RESTART, /* stop, then start */
} stack_fault_op;

/* Timestamps of a fault: CLOCK_MONOTONIC ns and wall-clock ns (CLOCK_REALTIME); 0 when the
 * step does not apply to the operation. */
typedef struct stack_fault_times {
    int64_t signal_ns, signal_wall_ns; /* the first signal was sent */
    int64_t down_ns, down_wall_ns; /* it was down: exited (stop, kill, restart), stopped (pause) */
    int64_t ready_ns, ready_wall_ns; /* ready again (resume, start, restart) */
    pid_t pid_before, pid_after;
} stack_fault_times;

/* target: "postgres", "redis", "pgbouncer" or "service". 0, or -1 with a reason (unknown target,
 * not running, did not become ready within the limit). */
int stack_fault(stack *s, const char *target, stack_fault_op op, stack_fault_times *t, char *err,
                size_t errlen);
int stack_fault_parse(const char *name, stack_fault_op *op); /* 0 or -1 */
const char *stack_fault_name(stack_fault_op op);

/* ---- for users' own stacks (and the above) -------------------------------------------------- */

/* Repeats a readiness probe (tcp://, redis://, postgresql://, http(s)://; see ready.h) until it
 * succeeds or timeout_ns passes. 0 when ready, -1 with the last failure. */
int stack_ready_check(const char *url, int64_t timeout_ns, char *err, size_t errlen);
/* Runs a command line (split as for the service; no shell unless it says sh -c) with a time
 * limit; the wait status in *status and the first outlen - 1 bytes of its output in out. */
int stack_run_cmd(const char *cmd, int64_t timeout_ns, int *status, char *out, size_t outlen,
                  char *err, size_t errlen);

/* Template substitution: {name} for each var; an unknown {lower_case_name} is an error; other
 * braces pass through. stack_template returns a malloc'd string, stack_template_argv splits tmpl
 * into words first (values are never split). 0, or -1 with a reason. */
typedef struct stack_var {
    const char *name;
    const char *value;
} stack_var;
int stack_template(const char *tmpl, const stack_var *vars, int nvars, char **out, char *err,
                   size_t errlen);
int stack_template_argv(const char *tmpl, const stack_var *vars, int nvars, char ***argv, char *err,
                        size_t errlen);

#endif
