/* test_stack.c — unit tests for the embedded stack's building blocks that need no database:
 * command splitting and templates (src/stack/proc.c, stack.c), ready-check URLs and bounded
 * probes against sockets made here (ready.c) — including a server that accepts and never
 * answers, as a paused one does — the command runner and its time limit, process groups, and the
 * allocation-free directory removal the reaper relies on. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "stack/proc.h"
#include "stack/ready.h"
#include "stack/stack.h"
#include "unit.h"

/* ---- splitting and templates ---------------------------------------------------------------- */

static void expect_split(const char *cmd, int n, const char *const want[]) {
    char **argv, err[256];
    int got = proc_split(cmd, &argv, err, sizeof err);
    assert_int_equal(got, n);
    for (int i = 0; i < n; i++) assert_string_equal(argv[i], want[i]);
    assert_null(argv[n]);
    proc_argv_free(argv);
}

static void test_split(void **state) {
    expect_split("a b  c", 3, (const char *const[]){"a", "b", "c"});
    expect_split("  lead\ttab\nnl  ", 3, (const char *const[]){"lead", "tab", "nl"});
    expect_split("sh -c 'echo a b; exit 3'", 3,
                 (const char *const[]){"sh", "-c", "echo a b; exit 3"});
    expect_split("x \"a \\\"q\\\" \\\\ b\" y", 3, (const char *const[]){"x", "a \"q\" \\ b", "y"});
    expect_split("pre'mid dle'post", 1, (const char *const[]){"premid dlepost"});
    expect_split("a\\ b c", 2, (const char *const[]){"a b", "c"});
    expect_split("''", 1, (const char *const[]){""});
    char **argv, err[256];
    assert_int_equal(proc_split("a 'open", &argv, err, sizeof err), -1);
    assert_non_null(strstr(err, "unterminated '"));
    assert_int_equal(proc_split("a \"open", &argv, err, sizeof err), -1);
    assert_int_equal(proc_split("   ", &argv, err, sizeof err), -1);
    assert_non_null(strstr(err, "empty command"));
}

static const stack_var vars[] = {
    {"listen", "127.0.0.1:8080"},
    {"port", "8080"},
    {"pg_url", "postgresql://u@127.0.0.1:5/db"},
    {"secret_file", "/tmp/with space/secret"},
};

static void test_template(void **state) {
    char *out, err[300];
    assert_int_equal(stack_template("http://{listen}/readyz", vars, 4, &out, err, sizeof err), 0);
    assert_string_equal(out, "http://127.0.0.1:8080/readyz");
    free(out);
    /* braces that are not placeholders pass through */
    assert_int_equal(stack_template("{\"a\":{port}} {X} { } {}", vars, 4, &out, err, sizeof err),
                     0);
    assert_string_equal(out, "{\"a\":8080} {X} { } {}");
    free(out);
    assert_int_equal(stack_template("--x {prot}", vars, 4, &out, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown placeholder {prot}"));
    assert_non_null(strstr(err, "{listen}"));
}

static void test_template_argv(void **state) {
    char **argv, err[300];
    /* values are never split, even with spaces; quotes group the template's own words */
    assert_int_equal(stack_template_argv("srv --listen {listen} --secret-file {secret_file} "
                                         "'--name=a b {port}'",
                                         vars, 4, &argv, err, sizeof err),
                     0);
    const char *want[] = {"srv",
                          "--listen",
                          "127.0.0.1:8080",
                          "--secret-file",
                          "/tmp/with space/secret",
                          "--name=a b 8080"};
    for (int i = 0; i < 6; i++) assert_string_equal(argv[i], want[i]);
    assert_null(argv[6]);
    proc_argv_free(argv);
    assert_int_equal(stack_template_argv("srv {nope}", vars, 4, &argv, err, sizeof err), -1);
    assert_int_equal(stack_template_argv("srv 'x", vars, 4, &argv, err, sizeof err), -1);
}

static void test_fault_names(void **state) {
    const char *names[] = {"pause", "resume", "stop", "kill", "start", "restart"};
    for (int i = 0; i < 6; i++) {
        stack_fault_op op;
        assert_int_equal(stack_fault_parse(names[i], &op), 0);
        assert_string_equal(stack_fault_name(op), names[i]);
    }
    stack_fault_op op;
    assert_int_equal(stack_fault_parse("Kill", &op), -1);
    assert_int_equal(stack_fault_parse("", &op), -1);
}

/* ---- ready-check URLs ------------------------------------------------------------------------ */

static void test_ready_urls(void **state) {
    char err[300];
    const char *good[] = {"tcp://127.0.0.1:5432",
                          "tcp://[::1]:80",
                          "redis://127.0.0.1",
                          "redis://:pw@127.0.0.1:6380/2",
                          "redis://user:pw@localhost:6379",
                          "postgresql://u:p@127.0.0.1:5432/db",
                          "postgres://127.0.0.1/db?connect_timeout=2",
                          "http://127.0.0.1:8080/readyz",
                          "https://example.com/health"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (ready_check_url(good[i], err, sizeof err) != 0) fail_msg("%s: %s", good[i], err);
    }
    const char *bad[] = {"tcp://127.0.0.1", "tcp://:80",       "redis://127.0.0.1:x",
                         "redis://h:70000", "ftp://127.0.0.1", "127.0.0.1:80",
                         "http://",         "redis://h/notadb"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (ready_check_url(bad[i], err, sizeof err) == 0) fail_msg("accepted %s", bad[i]);
    }
    /* the error never shows a password */
    assert_int_equal(ready_check_url("redis://:s3cret@h:99999", err, sizeof err), -1);
    assert_null(strstr(err, "s3cret"));
}

static void test_redact(void **state) {
    char out[256];
    ready_redact("postgresql://brink:s3cret@127.0.0.1:5432/brink", out, sizeof out);
    assert_string_equal(out, "postgresql://brink:***@127.0.0.1:5432/brink");
    ready_redact("redis://:pw@127.0.0.1:6379", out, sizeof out);
    assert_string_equal(out, "redis://:***@127.0.0.1:6379");
    ready_redact("redis://127.0.0.1:6379", out, sizeof out);
    assert_string_equal(out, "redis://127.0.0.1:6379");
    ready_redact("http://127.0.0.1/a@b", out, sizeof out);
    assert_string_equal(out, "http://127.0.0.1/a@b");
    ready_redact("postgresql://user@h/db", out, sizeof out);
    assert_string_equal(out, "postgresql://user@h/db");
}

/* ---- probes against local sockets ---------------------------------------------------------- */

static int listen_any(int *port, int backlog) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, backlog), 0);
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A closed port: bind, read the port, close. */
static int closed_port(void) {
    int port;
    int fd = listen_any(&port, 1);
    close(fd);
    return port;
}

typedef struct http_srv {
    int fd;
    const char *response;
    int requests;
} http_srv;

static void *http_serve(void *arg) {
    http_srv *h = arg;
    for (int i = 0; i < h->requests; i++) {
        int c = accept(h->fd, NULL, NULL);
        if (c < 0) break;
        char buf[2048];
        ssize_t n = read(c, buf, sizeof buf);
        (void)n;
        if (write(c, h->response, strlen(h->response)) < 0) {
        }
        close(c);
    }
    return NULL;
}

static void test_probe_tcp_and_timeouts(void **state) {
    char err[300], url[128];
    int port;
    int fd = listen_any(&port, 4);
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", port);
    assert_int_equal(ready_probe(url, NS_PER_S, err, sizeof err), 0);
    close(fd);
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", closed_port());
    assert_int_equal(ready_probe(url, NS_PER_S, err, sizeof err), -1);
    assert_non_null(strstr(err, "refused"));

    /* a server that accepts (the kernel does) and never answers, like a paused one: each
     * protocol's probe must give up at its deadline */
    int silent = listen_any(&port, 16);
    const char *fmts[] = {"redis://127.0.0.1:%d", "postgresql://u:p@127.0.0.1:%d/db",
                          "http://127.0.0.1:%d/readyz"};
    for (int i = 0; i < 3; i++) {
        snprintf(url, sizeof url, fmts[i], port);
        int64_t t0 = clock_now_ns();
        assert_int_equal(ready_probe(url, 200 * NS_PER_MS, err, sizeof err), -1);
        int64_t took = clock_now_ns() - t0;
        if (took < 150 * NS_PER_MS || took > 1500 * NS_PER_MS)
            fail_msg("%s took %.3fs (want ~0.2s): %s", url, (double)took / NS_PER_S, err);
        assert_null(strstr(err, ":p@")); /* no password in the reason */
    }
    close(silent);
    /* stack_ready_check repeats until its deadline */
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", closed_port());
    int64_t t0 = clock_now_ns();
    assert_int_equal(stack_ready_check(url, 300 * NS_PER_MS, err, sizeof err), -1);
    int64_t took = clock_now_ns() - t0;
    assert_true(took >= 290 * NS_PER_MS && took < 2 * NS_PER_S);
    assert_int_equal(stack_ready_check("ftp://x", NS_PER_S, err, sizeof err), -1);
}

/* ready_probe on PATH of a server that answers response once: it must fail, naming words. */
static void probe_refused(const char *response, const char *path, const char *words) {
    char err[300], url[128];
    int port;
    http_srv h = {.fd = listen_any(&port, 4), .response = response, .requests = 1};
    pthread_t th;
    pthread_create(&th, NULL, http_serve, &h);
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    assert_int_equal(ready_probe(url, NS_PER_S, err, sizeof err), -1);
    if (!strstr(err, words)) fail_msg("%s: error \"%s\" lacks \"%s\"", url, err, words);
    pthread_join(th, NULL);
    close(h.fd);
}

static void test_probe_http(void **state) {
    char err[300], url[128];
    int port;
    http_srv h = {.fd = listen_any(&port, 4),
                  .response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                  .requests = 2};
    pthread_t th;
    pthread_create(&th, NULL, http_serve, &h);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/readyz", port);
    assert_int_equal(ready_probe(url, NS_PER_S, err, sizeof err), 0);
    int status = 0;
    assert_int_equal(ready_http_get(url, NS_PER_S, &status, err, sizeof err), 0);
    assert_int_equal(status, 200);
    pthread_join(th, NULL);
    close(h.fd);

    probe_refused("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", "/readyz",
                  "503");
    probe_refused("garbage\r\n\r\n", "/", "no HTTP status line");
}

/* ---- processes ------------------------------------------------------------------------------ */

static void test_run(void **state) {
    char out[256], err[300];
    int st = -1;
    assert_int_equal(
        stack_run_cmd("echo 'a  b' c", 5 * NS_PER_S, &st, out, sizeof out, err, sizeof err), 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_string_equal(out, "a  b c\n");
    /* no shell unless asked: the ; is an argument of echo */
    assert_int_equal(
        stack_run_cmd("echo x; exit 3", 5 * NS_PER_S, &st, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "x; exit 3\n");
    assert_int_equal(stack_run_cmd("sh -c 'echo oops >&2; exit 3'", 5 * NS_PER_S, &st, out,
                                   sizeof out, err, sizeof err),
                     0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 3);
    assert_string_equal(out, "oops\n");
    /* output larger than the buffer is truncated, not an error */
    char small[4];
    assert_int_equal(
        stack_run_cmd("echo 123456789", 5 * NS_PER_S, &st, small, sizeof small, err, sizeof err),
        0);
    assert_string_equal(small, "123");
    assert_int_equal(
        stack_run_cmd("/nonexistent/prog", NS_PER_S, &st, out, sizeof out, err, sizeof err), -1);
    assert_non_null(strstr(err, "not found"));
    /* the time limit kills the whole group, grandchildren included */
    int64_t t0 = clock_now_ns();
    assert_int_equal(stack_run_cmd("sh -c 'sleep 30 & sleep 30'", 300 * NS_PER_MS, &st, out,
                                   sizeof out, err, sizeof err),
                     -1);
    assert_true(clock_now_ns() - t0 < 3 * NS_PER_S);
    assert_non_null(strstr(err, "did not finish"));
}

static void test_spawn_and_groups(void **state) {
    char err[300];
    char *argv[] = {"/bin/sh", "-c", "sleep 30 & sleep 30", NULL};
    proc_spec sp = {.argv = argv, .stdin_fd = -1, .out_fd = -1, .pdeathsig = SIGKILL};
    pid_t pid;
    assert_int_equal(proc_spawn(&sp, &pid, err, sizeof err), 0);
    assert_int_equal(getpgid(pid), pid); /* its own group */
    for (int i = 0; i < 200 && proc_group_alive(pid) < 2; i++) usleep(5000);
    assert_true(proc_group_alive(pid) >= 2); /* sh and its sleeps */
    assert_true(proc_alive(pid));
    assert_int_equal(proc_wait(pid, 50 * NS_PER_MS, NULL), 1); /* still running */
    assert_int_equal(proc_group_end(pid, SIGTERM, 2 * NS_PER_S), 0);
    assert_int_equal(proc_group_alive(pid), 0);
    int st;
    proc_wait(pid, NS_PER_S, &st); /* may already be reaped by proc_group_alive */
    assert_false(proc_alive(pid));

    char *bad[] = {"/nonexistent/prog", NULL};
    sp.argv = bad;
    assert_int_equal(proc_spawn(&sp, &pid, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot run /nonexistent/prog"));

    char d[64];
    snprintf(d, sizeof d, "/tmp/brink-test-cwd-XXXXXX");
    assert_non_null(mkdtemp(d));
    char *sl[] = {"/bin/sleep", "30", NULL};
    sp.argv = sl;
    sp.cwd = d;
    assert_int_equal(proc_spawn(&sp, &pid, err, sizeof err), 0);
    assert_int_equal(proc_signal_cwd_under(d, NULL, 0), 1);
    char sleep_exe[4096];
    assert_non_null(realpath("/bin/sleep", sleep_exe));
    assert_int_equal(proc_signal_cwd_under(d, sleep_exe, 0), 1);
    assert_int_equal(proc_signal_cwd_under(d, "/bin/sh", 0), 0); /* another program: spared */
    pid_t listed[4];
    assert_int_equal(proc_list_cwd_under(d, NULL, listed, 4), 1);
    assert_int_equal(listed[0], pid);
    assert_int_equal(proc_end_cwd_under(d, sleep_exe, SIGTERM, 2 * NS_PER_S), 0);
    proc_wait(pid, NS_PER_S, NULL);
    assert_int_equal(proc_signal_cwd_under(d, NULL, 0), 0);
    rmdir(d);
}

static void test_log_tail(void **state) {
    char path[] = "/tmp/brink-test-log-XXXXXX";
    int fd = mkstemp(path);
    const char *text = "one\ntwo\nthree\x01\nfour\n\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char out[128];
    proc_log_tail(path, 2, out, sizeof out);
    assert_string_equal(out, "three  | four");
    proc_log_tail(path, 10, out, sizeof out);
    assert_string_equal(out, "one | two | three  | four");
    unlink(path);
    proc_log_tail(path, 3, out, sizeof out);
    assert_string_equal(out, "");
}

static void test_rmtree(void **state) {
    char root[] = "/tmp/brink-test-rm-XXXXXX";
    assert_non_null(mkdtemp(root));
    char outside[] = "/tmp/brink-test-keep-XXXXXX";
    assert_non_null(mkdtemp(outside));
    char p[256];
    snprintf(p, sizeof p, "%s/a/b/c", root);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s/a", root);
    mkdir(cmd, 0700);
    snprintf(cmd, sizeof cmd, "%s/a/b", root);
    mkdir(cmd, 0700);
    mkdir(p, 0500);                 /* a read-only directory is still removed */
    for (int i = 0; i < 300; i++) { /* more entries than one getdents buffer */
        snprintf(cmd, sizeof cmd, "%s/a/file-with-a-long-name-%04d", root, i);
        close(open(cmd, O_CREAT | O_WRONLY, 0600));
    }
    snprintf(cmd, sizeof cmd, "%s/precious", outside);
    close(open(cmd, O_CREAT | O_WRONLY, 0600));
    snprintf(p, sizeof p, "%s/a/link", root);
    assert_int_equal(symlink(outside, p), 0); /* not followed */
    assert_int_equal(proc_rmtree(root), 0);
    struct stat st;
    assert_int_equal(stat(root, &st), -1);
    assert_int_equal(stat(cmd, &st), 0);
    assert_int_equal(proc_rmtree(root), 0); /* already gone: fine */
    unlink(cmd);
    rmdir(outside);
}

static void test_find_exe(void **state) {
    char out[4096];
    assert_int_equal(proc_find_exe("sh", out, sizeof out), 0);
    assert_non_null(strchr(out, '/'));
    assert_int_equal(proc_find_exe("/bin/sh", out, sizeof out), 0);
    assert_int_equal(proc_find_exe("no-such-program-brink", out, sizeof out), -1);
    assert_int_equal(proc_find_exe("/etc/passwd", out, sizeof out), -1); /* not executable */
    assert_int_equal(proc_find_exe("/tmp", out, sizeof out), -1);        /* a directory */
}

static void test_dir_create(void **state) {
    char out[1024], err[300];
    assert_int_equal(stack_dir_create(NULL, false, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "brink-stack-"));
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    /* an existing non-empty directory is refused; an empty one is fine */
    char f[1100];
    snprintf(f, sizeof f, "%s/x", out);
    close(open(f, O_CREAT | O_WRONLY, 0600));
    char again[1024];
    assert_int_equal(stack_dir_create(out, false, again, sizeof again, err, sizeof err), -1);
    assert_non_null(strstr(err, "not empty"));
    assert_int_equal(stack_dir_create(out, true, again, sizeof again, err, sizeof err), 0);
    unlink(f);
    assert_int_equal(stack_dir_create(out, false, again, sizeof again, err, sizeof err), 0);
    assert_int_equal(
        stack_dir_create("/etc/passwd/sub", false, again, sizeof again, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot create stack directory /etc/passwd/sub"));
    rmdir(out);
}

/* The group's setup: a closed pipe to a stack process is an error to see, not a signal. */
static int group_setup(void **state) {
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

UNIT_MAIN_WITH(group_setup, NULL, test_split, test_template, test_template_argv, test_fault_names,
               test_ready_urls, test_redact, test_probe_tcp_and_timeouts, test_probe_http, test_run,
               test_spawn_and_groups, test_log_tail, test_rmtree, test_find_exe, test_dir_create)
