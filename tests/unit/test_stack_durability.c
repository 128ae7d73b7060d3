/* test_stack_durability.c — the embedded stack in-process (src/stack/stack.c), against the real
 * PostgreSQL and Redis it starts: committed rows survive a SIGKILL of the postmaster (the restart
 * goes through WAL crash recovery), Redis's append-only file survives a SIGKILL, pause/resume and
 * restart report sane timestamps, the fault API refuses what makes no sense, and stack_down
 * leaves no process and no directory behind. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include "core/clock.h"
#include "stack/proc.h"
#include "stack/ready.h"
#include "stack/stack.h"
#include "unit.h"

#define ROWS_SINGLE 300 /* one transaction each */
#define ROWS_BATCH  700 /* one more transaction */
#define REDIS_KEYS  200

static stack *g_stack;

static int setup(void **state) {
    signal(SIGPIPE, SIG_IGN);
    char err[512];
    stack_opts o = {.service = "none"};
    int64_t t0 = clock_now_ns();
    if (stack_up(&o, &g_stack, err, sizeof err) < 0) {
        fprintf(stderr, "stack_up: %s\n", err);
        return -1;
    }
    printf("# stack up (PostgreSQL + Redis + proxies) in %.2fs\n",
           (double)(clock_now_ns() - t0) / NS_PER_S);
    return 0;
}

static int teardown(void **state) {
    stack_down(g_stack);
    return 0;
}

static PGconn *pg_connect(const char *url) {
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) fail_msg("connect: %s", PQerrorMessage(c));
    return c;
}

static void pg_exec(PGconn *c, const char *sql) {
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

static long pg_long(PGconn *c, const char *sql) {
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    long v = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

/* Fails, naming them, when processes still work in dir. */
static void assert_none_under(const char *dir) {
    pid_t pids[64];
    int n = proc_list_cwd_under(dir, NULL, pids, 64);
    if (n == 0) return;
    char what[1024] = "";
    size_t w = 0;
    for (int k = 0; k < n && w < sizeof what; k++) {
        char comm[64], exe[512] = "", link[64];
        proc_comm(pids[k], comm, sizeof comm);
        snprintf(link, sizeof link, "/proc/%d/exe", (int)pids[k]);
        ssize_t l = readlink(link, exe, sizeof exe - 1);
        exe[l > 0 ? l : 0] = '\0';
        w += (size_t)snprintf(what + w, sizeof what - w, " %d(%s, state %c, %s)", (int)pids[k],
                              comm, proc_state(pids[k]), exe);
    }
    fail_msg("still working in %s:%s", dir, what);
}

static void check_times(const stack_fault_times *t, bool down, bool ready) {
    assert_true(t->signal_ns > 0 || !down);
    if (down) {
        assert_true(t->down_ns >= t->signal_ns);
        assert_true(t->down_wall_ns > 0);
    }
    if (ready) {
        assert_true(t->ready_ns > 0);
        assert_true(t->ready_wall_ns > 0);
        if (down) assert_true(t->ready_ns >= t->down_ns);
    }
}

static bool file_contains(const char *path, const char *needle) {
    FILE *f = fopen(path, "r");
    if (!f) return false;
    char line[2048];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

static void test_pg_commits_survive_sigkill(void **state) {
    const stack_info *i = stack_get_info(g_stack);
    /* write through the proxy, as the service would */
    PGconn *c = pg_connect(i->pg_proxy_url);
    /* a durability test, not a toy */
    const char *on[] = {"SHOW fsync", "SHOW full_page_writes", "SHOW synchronous_commit"};
    for (int k = 0; k < 3; k++) {
        PGresult *r = PQexec(c, on[k]);
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        assert_string_equal(PQgetvalue(r, 0, 0), "on");
        PQclear(r);
    }
    pg_exec(c, "CREATE TABLE orders (id int PRIMARY KEY, payload text NOT NULL)");
    for (int k = 1; k <= ROWS_SINGLE; k++) {
        char sql[128];
        snprintf(sql, sizeof sql, "INSERT INTO orders VALUES (%d, 'single-%d')", k, k);
        pg_exec(c, sql);
    }
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO orders SELECT g, 'batch-' || g FROM generate_series(%d, %d) g",
             ROWS_SINGLE + 1, ROWS_SINGLE + ROWS_BATCH);
    pg_exec(c, sql);
    PQfinish(c);

    stack_fault_times t;
    char err[512];
    pid_t before = 0;
    stack_process ps[8];
    int n = stack_processes(g_stack, ps, 8);
    for (int k = 0; k < n; k++)
        if (!strcmp(ps[k].name, "postgres")) before = ps[k].pid;
    assert_true(before > 0);
    if (stack_fault(g_stack, "postgres", STACK_FAULT_KILL, &t, err, sizeof err) < 0)
        fail_msg("kill: %s", err);
    check_times(&t, true, false);
    assert_int_equal(t.pid_before, before);
    assert_int_equal(t.pid_after, 0);
    assert_false(proc_alive(before));
    /* every backend is gone too (they leave the postmaster's process group) */
    assert_none_under(i->pg_data_dir);
    assert_int_equal(ready_probe(i->pg_url, 300 * NS_PER_MS, err, sizeof err), -1);

    if (stack_fault(g_stack, "postgres", STACK_FAULT_START, &t, err, sizeof err) < 0)
        fail_msg("start: %s", err);
    check_times(&t, false, true);
    assert_true(t.pid_after > 0 && t.pid_after != before);
    assert_true(file_contains(i->pg_log, "automatic recovery in progress"));

    c = pg_connect(i->pg_url);
    assert_int_equal(pg_long(c, "SELECT count(*) FROM orders"), ROWS_SINGLE + ROWS_BATCH);
    assert_int_equal(pg_long(c, "SELECT count(*) FROM orders WHERE payload LIKE 'single-%'"),
                     ROWS_SINGLE);
    assert_int_equal(pg_long(c, "SELECT max(id) FROM orders"), ROWS_SINGLE + ROWS_BATCH);
    PQfinish(c);
}

/* A connection to 127.0.0.1:port that has AUTHed with the stack's Redis password. */
static redisContext *redis_authed(const stack_info *i, int port) {
    redisContext *r = redisConnect("127.0.0.1", port);
    assert_true(r && !r->err);
    redisReply *rep = redisCommand(r, "AUTH %s", i->redis_password);
    assert_true(rep && rep->type == REDIS_REPLY_STATUS);
    freeReplyObject(rep);
    return r;
}

static void test_redis_aof_survives_sigkill(void **state) {
    const stack_info *i = stack_get_info(g_stack);
    const char *colon = strrchr(i->redis_proxy_addr, ':');
    redisContext *r = redisConnect("127.0.0.1", atoi(colon + 1));
    assert_true(r && !r->err);
    redisReply *noauth = redisCommand(r, "PING"); /* without the password: refused */
    assert_true(noauth && noauth->type == REDIS_REPLY_ERROR && !strncmp(noauth->str, "NOAUTH", 6));
    freeReplyObject(noauth);
    redisFree(r);
    r = redis_authed(i, atoi(colon + 1));
    const char *conf[][2] = {{"appendonly", "yes"}, {"appendfsync", "everysec"}, {"save", ""}};
    for (int k = 0; k < 3; k++) {
        redisReply *rep = redisCommand(r, "CONFIG GET %s", conf[k][0]);
        assert_true(rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2);
        assert_string_equal(rep->element[1]->str, conf[k][1]);
        freeReplyObject(rep);
    }
    for (int k = 0; k < REDIS_KEYS; k++) {
        redisReply *rep = redisCommand(r, "SET key:%d v%d", k, k);
        assert_true(rep && rep->type == REDIS_REPLY_STATUS);
        freeReplyObject(rep);
    }
    redisFree(r);
    /* appendfsync everysec: what is older than ~2 s is on disk */
    usleep(2200 * 1000);
    stack_fault_times t;
    char err[512];
    if (stack_fault(g_stack, "redis", STACK_FAULT_KILL, &t, err, sizeof err) < 0)
        fail_msg("kill: %s", err);
    check_times(&t, true, false);
    if (stack_fault(g_stack, "redis", STACK_FAULT_START, &t, err, sizeof err) < 0)
        fail_msg("start: %s", err);
    check_times(&t, false, true);
    r = redis_authed(i, i->redis_port); /* the same password after the restart */
    redisReply *rep = redisCommand(r, "DBSIZE");
    assert_true(rep && rep->type == REDIS_REPLY_INTEGER);
    assert_int_equal(rep->integer, REDIS_KEYS);
    freeReplyObject(rep);
    rep = redisCommand(r, "GET key:%d", REDIS_KEYS - 1);
    assert_true(rep && rep->type == REDIS_REPLY_STRING);
    assert_string_equal(rep->str, "v199");
    freeReplyObject(rep);
    redisFree(r);
}

static void test_pause_resume_restart(void **state) {
    const stack_info *i = stack_get_info(g_stack);
    stack_fault_times t;
    char err[512];
    if (stack_fault(g_stack, "postgres", STACK_FAULT_PAUSE, &t, err, sizeof err) < 0)
        fail_msg("pause: %s", err);
    check_times(&t, true, false);
    /* paused: a connection is accepted by the kernel but nothing answers */
    assert_int_equal(ready_probe(i->pg_proxy_url, 300 * NS_PER_MS, err, sizeof err), -1);
    if (stack_fault(g_stack, "postgres", STACK_FAULT_RESUME, &t, err, sizeof err) < 0)
        fail_msg("resume: %s", err);
    check_times(&t, false, true);
    assert_true(t.ready_ns >= t.signal_ns);
    assert_int_equal(t.pid_before, t.pid_after);
    assert_int_equal(ready_probe(i->pg_proxy_url, 2 * NS_PER_S, err, sizeof err), 0);

    if (stack_fault(g_stack, "redis", STACK_FAULT_RESTART, &t, err, sizeof err) < 0)
        fail_msg("restart: %s", err);
    check_times(&t, true, true);
    assert_true(t.pid_after != t.pid_before && t.pid_after > 0);
    if (stack_fault(g_stack, "postgres", STACK_FAULT_STOP, &t, err, sizeof err) < 0)
        fail_msg("stop: %s", err);
    check_times(&t, true, false);
    assert_true(file_contains(i->pg_log, "received fast shutdown request"));
    if (stack_fault(g_stack, "postgres", STACK_FAULT_START, &t, err, sizeof err) < 0)
        fail_msg("start: %s", err);
    /* a paused server still stops (stop sends SIGCONT after its signal) */
    if (stack_fault(g_stack, "redis", STACK_FAULT_PAUSE, &t, err, sizeof err) < 0)
        fail_msg("pause: %s", err);
    if (stack_fault(g_stack, "redis", STACK_FAULT_STOP, &t, err, sizeof err) < 0)
        fail_msg("stop paused: %s", err);
    assert_true(t.down_ns - t.signal_ns < 10 * NS_PER_S);
    if (stack_fault(g_stack, "redis", STACK_FAULT_START, &t, err, sizeof err) < 0)
        fail_msg("start: %s", err);
}

static void test_fault_errors(void **state) {
    stack_fault_times t;
    char err[512];
    assert_int_equal(stack_fault(g_stack, "mysql", STACK_FAULT_KILL, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown fault target 'mysql'"));
    assert_int_equal(stack_fault(g_stack, "service", STACK_FAULT_KILL, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "no service"));
    assert_int_equal(stack_fault(g_stack, "redis", STACK_FAULT_START, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "already running"));
    assert_int_equal(stack_fault(g_stack, "redis", STACK_FAULT_STOP, &t, err, sizeof err), 0);
    assert_int_equal(stack_fault(g_stack, "redis", STACK_FAULT_STOP, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "not running"));
    assert_int_equal(stack_fault(g_stack, "redis", STACK_FAULT_PAUSE, &t, err, sizeof err), -1);
    assert_int_equal(stack_fault(g_stack, "redis", STACK_FAULT_START, &t, err, sizeof err), 0);
}

/* Last: a second stack, brought down, leaves nothing. */
static void test_down_leaves_nothing(void **state) {
    char err[512];
    stack *s;
    stack_opts o = {.service = "none"};
    if (stack_up(&o, &s, err, sizeof err) < 0) fail_msg("stack_up: %s", err);
    const stack_info *i = stack_get_info(s);
    char dir[1024], pgdata[1100];
    snprintf(dir, sizeof dir, "%s", i->dir);
    snprintf(pgdata, sizeof pgdata, "%s", i->pg_data_dir);
    struct stat st;
    assert_int_equal(stat(i->pg_password_file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(i->secret_file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    stack_process ps[8];
    int n = stack_processes(s, ps, 8);
    assert_int_equal(n, 3); /* reaper, postgres, redis */
    stack_down(s);
    for (int k = 0; k < n; k++)
        if (proc_alive(ps[k].pid)) fail_msg("%s (%d) still alive", ps[k].name, (int)ps[k].pid);
    assert_none_under(pgdata);
    assert_int_equal(stat(dir, &st), -1);
}

UNIT_MAIN_WITH(setup, teardown, test_pg_commits_survive_sigkill, test_redis_aof_survives_sigkill,
               test_pause_resume_restart, test_fault_errors, test_down_leaves_nothing)
