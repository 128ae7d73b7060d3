/* test_deps.c — unit tests for a user's own stack (src/config/deps_yaml.c, src/stack/deps.c): the
 * `dependencies:` YAML section — a valid file, and for every kind of mistake the exact
 * "FILE:LINE: KEY: ..." line — deps_parse called from a bigger document under another key, and
 * the fault semantics that need no server of their own: a TCP listener made here stands for the
 * dependency's ready check, and the commands are true, false and sh. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "config/deps_yaml.h"

#include "unit.h"

/* The tests run in a fresh directory, so that files are named plainly in messages. */
static char tmpdir[] = "/tmp/brink-test-deps.XXXXXX";
static char olddir[4096];

static int group_setup(void **state) {
    signal(SIGPIPE, SIG_IGN);
    if (!getcwd(olddir, sizeof olddir) || !mkdtemp(tmpdir) || chdir(tmpdir) < 0) return -1;
    return 0;
}

static int group_teardown(void **state) {
    unlink("deps.yaml");
    if (chdir(olddir) < 0) return -1;
    rmdir(tmpdir);
    return 0;
}

/* Loads text from deps.yaml; returns the result of deps_load. */
static int load(const char *text, deps **d, char *err, size_t errlen) {
    unit_write_file("deps.yaml", text);
    err[0] = '\0';
    return deps_load("deps.yaml", d, err, errlen);
}

/* text must fail with a message that starts with want (file, line and key). */
static void expect_error(const char *text, const char *want) {
    deps *d = (deps *)1;
    char err[512];
    assert_int_equal(load(text, &d, err, sizeof err), -1);
    assert_null(d);
    if (strncmp(err, want, strlen(want)) != 0) fail_msg("got: %s\nwant: %s...", err, want);
    assert_null(strchr(err, '\n'));
}

/* ---- a valid file -----------------------------------------------------------------------------
 */

static const char valid[] =
    "# brink's configuration; other top-level keys are not the dependencies' business\n"
    "target: http://127.0.0.1:8080\n"
    "dependencies:\n"
    "  redis:\n"
    "    start_cmd: [\"redis-server\", \"/etc/redis/redis.conf\"]\n"
    "    stop_cmd: \"redis-cli -p 6379 shutdown\"\n"
    "    kill_cmd: [\"sh\", \"-c\", \"kill -9 $(cat /run/redis.pid)\"]\n"
    "    pause_cmd: sh -c 'kill -STOP $(cat /run/redis.pid)'\n"
    "    resume_cmd:\n"
    "      - sh\n"
    "      - -c\n"
    "      - kill -CONT $(cat /run/redis.pid)\n"
    "    ready_check: redis://127.0.0.1:6379\n"
    "    timeout: 3s\n"
    "  postgres: {start_cmd: pg_ctlcluster 15 main start, ready_check: "
    "\"postgresql://u:pw@127.0.0.1:5432/db\"}\n"
    "  api.v2:\n"
    "    ready_check: http://127.0.0.1:8080/healthz\n"
    "    timeout: 250ms\n"
    "  plain:\n"
    "    ready_check: tcp://127.0.0.1:9\n";

static void expect_argv(char *const *argv, int n, const char *const want[]) {
    assert_non_null(argv);
    for (int i = 0; i < n; i++) assert_string_equal(argv[i], want[i]);
    assert_null(argv[n]);
}

static void test_valid(void **state) {
    deps *d;
    char err[512];
    if (load(valid, &d, err, sizeof err) != 0) fail_msg("%s", err);
    assert_int_equal(deps_count(d), 4);
    assert_string_equal(deps_file(d), "deps.yaml");

    const deps_dep *r = deps_find(d, "redis");
    assert_non_null(r);
    assert_ptr_equal(r, deps_at(d, 0));
    assert_int_equal(r->line, 4);
    expect_argv(r->start_cmd, 2, (const char *const[]){"redis-server", "/etc/redis/redis.conf"});
    expect_argv(r->stop_cmd, 4, (const char *const[]){"redis-cli", "-p", "6379", "shutdown"});
    expect_argv(r->kill_cmd, 3, (const char *const[]){"sh", "-c", "kill -9 $(cat /run/redis.pid)"});
    expect_argv(r->pause_cmd, 3,
                (const char *const[]){"sh", "-c", "kill -STOP $(cat /run/redis.pid)"});
    expect_argv(r->resume_cmd, 3,
                (const char *const[]){"sh", "-c", "kill -CONT $(cat /run/redis.pid)"});
    assert_string_equal(r->ready_check, "redis://127.0.0.1:6379");
    assert_int_equal(r->timeout_ns, 3 * NS_PER_S);

    const deps_dep *p = deps_find(d, "postgres");
    assert_non_null(p);
    assert_int_equal(p->line, 15);
    expect_argv(p->start_cmd, 4, (const char *const[]){"pg_ctlcluster", "15", "main", "start"});
    assert_null(p->stop_cmd);
    assert_null(p->kill_cmd);
    assert_null(p->pause_cmd);
    assert_null(p->resume_cmd);
    assert_string_equal(p->ready_check, "postgresql://u:pw@127.0.0.1:5432/db");
    assert_int_equal(p->timeout_ns, 10 * NS_PER_S); /* the default */

    assert_int_equal(deps_find(d, "api.v2")->timeout_ns, 250 * NS_PER_MS);
    assert_null(deps_find(d, "nope"));
    assert_null(deps_at(d, 4));
    char names[128];
    deps_names(d, names, sizeof names);
    assert_string_equal(names, "redis, postgres, api.v2, plain");
    deps_free(d);
    deps_free(NULL);

    /* an empty dependencies mapping is valid: nothing to break */
    assert_int_equal(load("dependencies: {}\n", &d, err, sizeof err), 0);
    assert_int_equal(deps_count(d), 0);
    deps_free(d);
}

/* ---- errors: each names the file, the line and the key ------------------------------------- */

static void test_unknown_key(void **state) {
    expect_error("dependencies:\n"
                 "  redis:\n"
                 "    ready_check: redis://127.0.0.1:6379\n"
                 "\n"
                 "    stopcmd: redis-cli shutdown\n",
                 "deps.yaml:5: dependencies.redis.stopcmd: unknown key (want start_cmd, stop_cmd, "
                 "kill_cmd, pause_cmd, resume_cmd, ready_check, timeout, pid, pid_file, "
                 "stop_signal or toxiproxy)");
}

static void test_wrong_type(void **state) {
    /* the example of the issue: a mapping where a command belongs */
    expect_error(
        "dependencies:\n"
        "  redis:\n"
        "    ready_check: redis://127.0.0.1:6379\n"
        "    start_cmd: redis-server\n"
        "\n"
        "\n"
        "    stop_cmd: {program: redis-cli}\n",
        "deps.yaml:7: dependencies.redis.stop_cmd: expected a string or a list of strings");
    /* a list with a list inside: the item's line */
    expect_error("dependencies:\n"
                 "  redis:\n"
                 "    ready_check: redis://127.0.0.1:6379\n"
                 "    kill_cmd:\n"
                 "      - kill\n"
                 "      - [-9]\n",
                 "deps.yaml:6: dependencies.redis.kill_cmd: expected a string or a list of "
                 "strings, found a list as item 2");
    /* an empty value: the key's line */
    expect_error("dependencies:\n"
                 "  redis:\n"
                 "    ready_check: redis://127.0.0.1:6379\n"
                 "    stop_cmd:\n",
                 "deps.yaml:4: dependencies.redis.stop_cmd: expected a string or a list of "
                 "strings, found nothing (null)");
    expect_error("dependencies:\n"
                 "  redis:\n"
                 "    ready_check: redis://127.0.0.1:6379\n"
                 "    start_cmd: []\n",
                 "deps.yaml:4: dependencies.redis.start_cmd: empty command");
    expect_error("dependencies:\n"
                 "  redis:\n"
                 "    ready_check: redis://127.0.0.1:6379\n"
                 "    start_cmd: \"redis-server 'unterminated\"\n",
                 "deps.yaml:4: dependencies.redis.start_cmd: unterminated '");
    expect_error("dependencies:\n"
                 "  redis:\n"
                 "    ready_check: [redis://127.0.0.1:6379]\n",
                 "deps.yaml:3: dependencies.redis.ready_check: expected a URL");
    expect_error("dependencies:\n"
                 "  redis:\n"
                 "    ready_check: redis://127.0.0.1:6379\n"
                 "    timeout: [10s]\n",
                 "deps.yaml:4: dependencies.redis.timeout: expected a duration");
    expect_error("dependencies:\n"
                 "  redis:\n"
                 "    ready_check: redis://127.0.0.1:6379\n"
                 "    timeout: !!int 10\n",
                 "deps.yaml:4: dependencies.redis.timeout: expected a duration (e.g. 10s, 500ms), "
                 "found a non-string scalar");
    expect_error("dependencies:\n"
                 "  redis:\n"
                 "    ready_check: redis://127.0.0.1:6379\n"
                 "    timeout: soon\n",
                 "deps.yaml:4: dependencies.redis.timeout: invalid duration 'soon'");
    expect_error("dependencies:\n"
                 "  redis:\n"
                 "    ready_check: redis://127.0.0.1:6379\n"
                 "    timeout: 0s\n",
                 "deps.yaml:4: dependencies.redis.timeout: must be more than 0");
    expect_error("dependencies:\n"
                 "  [a, b]: {ready_check: tcp://127.0.0.1:1}\n",
                 "deps.yaml:2: dependencies: a key is a list, not a name");
    expect_error("dependencies:\n"
                 "  \"my redis\": {ready_check: tcp://127.0.0.1:1}\n",
                 "deps.yaml:2: dependencies.my redis: a dependency's name may hold only");
}

static void test_bad_url(void **state) {
    expect_error("dependencies:\n"
                 "  redis:\n"
                 "    start_cmd: redis-server\n"
                 "    ready_check: ftp://127.0.0.1:6379\n",
                 "deps.yaml:4: dependencies.redis.ready_check: unsupported ready check (want "
                 "tcp://, redis://, postgresql:// or http(s)://)");
    expect_error("dependencies:\n"
                 "  redis:\n"
                 "    ready_check: tcp://127.0.0.1\n",
                 "deps.yaml:3: dependencies.redis.ready_check: bad ready-check URL");
    /* a password in a bad URL is not repeated */
    deps *d;
    char err[512];
    assert_int_equal(load("dependencies:\n"
                          "  pg:\n"
                          "    ready_check: \"redis://:sekrit@127.0.0.1:notaport\"\n",
                          &d, err, sizeof err),
                     -1);
    assert_null(strstr(err, "sekrit"));
}

static void test_duplicate_key(void **state) {
    expect_error("dependencies:\n"
                 "  redis:\n"
                 "    stop_cmd: redis-cli shutdown\n"
                 "    ready_check: redis://127.0.0.1:6379\n"
                 "    stop_cmd: redis-cli shutdown nosave\n",
                 "deps.yaml:5: dependencies.redis.stop_cmd: duplicate key (first at line 3)");
    expect_error("dependencies:\n"
                 "  redis: {ready_check: tcp://127.0.0.1:1}\n"
                 "  redis: {ready_check: tcp://127.0.0.1:2}\n",
                 "deps.yaml:3: dependencies.redis: duplicate key (first at line 2)");
    expect_error("dependencies:\n"
                 "  redis: {ready_check: tcp://127.0.0.1:1}\n"
                 "dependencies:\n"
                 "  pg: {ready_check: tcp://127.0.0.1:2}\n",
                 "deps.yaml:3: dependencies: duplicate key (first at line 1)");
}

static void test_missing_ready_check(void **state) {
    expect_error("dependencies:\n"
                 "  redis: {ready_check: tcp://127.0.0.1:1}\n"
                 "  postgres:\n"
                 "    start_cmd: pg_ctlcluster 15 main start\n",
                 "deps.yaml:3: dependencies.postgres.ready_check: missing: the URL that answers "
                 "when postgres is up");
}

static void test_not_a_mapping(void **state) {
    expect_error("- dependencies\n", "deps.yaml:1: dependencies: missing: the top level is a list");
    expect_error("just text\n", "deps.yaml:1: dependencies: missing: the top level is a string");
    expect_error("target: x\n", "deps.yaml:1: dependencies: missing (want a top-level");
    expect_error("dependencies: redis\n",
                 "deps.yaml:1: dependencies: expected a mapping with one entry per dependency");
    expect_error("# nothing yet\ndependencies:\n",
                 "deps.yaml:2: dependencies: expected a mapping with one entry per dependency "
                 "(NAME: {start_cmd: ..., ready_check: ...}), found nothing (null)");
    expect_error("dependencies:\n"
                 "  - redis\n",
                 "deps.yaml:2: dependencies: expected a mapping with one entry per dependency "
                 "(NAME: {start_cmd: ..., ready_check: ...}), found a list");
    expect_error("dependencies:\n"
                 "  redis: redis-server\n",
                 "deps.yaml:2: dependencies.redis: expected a mapping with ready_check");
    expect_error("dependencies:\n"
                 "  redis:\n",
                 "deps.yaml:2: dependencies.redis: expected a mapping with ready_check and the "
                 "commands (start_cmd, stop_cmd, kill_cmd, ...), found nothing (null)");
}

static void test_empty_file(void **state) {
    expect_error("", "deps.yaml:1: dependencies: missing (the file is empty)");
    expect_error("# only a comment\n\n", "deps.yaml:1: dependencies: missing (the file is empty)");
}

static void test_syntax_error(void **state) {
    expect_error("dependencies:\n"
                 "  redis:\n"
                 "    ready_check: redis://127.0.0.1:6379\n"
                 "   stop_cmd: x\n",
                 "deps.yaml:4: YAML syntax error: ");
    expect_error("dependencies:\n"
                 "  redis: {ready_check: tcp://127.0.0.1:1\n"
                 "\n",
                 "deps.yaml:4: YAML syntax error: did not find expected ',' or '}'");
    expect_error("dependencies:\n"
                 "  redis: *nowhere\n",
                 "deps.yaml:2: YAML syntax error: found undefined alias");
    expect_error("dependencies:\n"
                 "  redis:\n"
                 "    ready_check: \"tcp://127.0.0.1:1\xff\"\n",
                 "deps.yaml:3: not valid YAML text: invalid leading UTF-8 octet");
    expect_error("dependencies:\n"
                 "  redis: {ready_check: tcp://127.0.0.1:1}\n"
                 "---\n"
                 "dependencies: {}\n",
                 "deps.yaml:4: a second YAML document");
}

static void test_unreadable(void **state) {
    deps *d;
    char err[512];
    assert_int_equal(deps_load("no-such-file.yaml", &d, err, sizeof err), -1);
    assert_null(d);
    assert_string_equal(err, "cannot read no-such-file.yaml: No such file or directory");
}

/* ---- deps_parse from a bigger loader ------------------------------------------------------- */

static int parse_embedded(const char *text, deps **d, char *err, size_t errlen) {
    yaml_parser_t p;
    yaml_document_t doc;
    assert_int_equal(yaml_parser_initialize(&p), 1);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    assert_int_equal(yaml_parser_load(&p, &doc), 1);
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    assert_non_null(root);
    /* root: {stack: {deps: ...}}: find stack.deps as a bigger loader would */
    yaml_node_t *outer = yaml_document_get_node(&doc, root->data.mapping.pairs.start[0].value);
    yaml_node_t *node = yaml_document_get_node(&doc, outer->data.mapping.pairs.start[0].value);
    int rc = deps_parse(&doc, node, "brink.yaml", "stack.deps", d, err, errlen);
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    return rc;
}

static void test_parse_embedded(void **state) {
    deps *d;
    char err[512];
    assert_int_equal(parse_embedded("stack:\n"
                                    "  deps:\n"
                                    "    cache:\n"
                                    "      stop_cmd: [systemctl, stop, redis]\n"
                                    "      ready_check: tcp://127.0.0.1:6379\n",
                                    &d, err, sizeof err),
                     0);
    assert_int_equal(deps_count(d), 1);
    assert_int_equal(deps_at(d, 0)->line, 3);
    expect_argv(deps_find(d, "cache")->stop_cmd, 3,
                (const char *const[]){"systemctl", "stop", "redis"});
    deps_free(d);
    assert_int_equal(parse_embedded("stack:\n"
                                    "  deps:\n"
                                    "    cache:\n"
                                    "      stop_cmd: [systemctl, stop, redis]\n",
                                    &d, err, sizeof err),
                     -1);
    assert_null(d);
    assert_string_equal(err, "brink.yaml:3: stack.deps.cache.ready_check: missing: the URL that "
                             "answers when cache is up (tcp://, redis://, postgresql:// or "
                             "http(s)://)");
}

/* ---- faults --------------------------------------------------------------------------------- */

/* A stand-in dependency: a thread that listens on a fixed loopback port (accepting and closing
 * each connection, as a server would) and that goes down or up when a command creates the file
 * ctl.stop or ctl.start in the test's directory. Bounded: it ends after 30 s at most. */
typedef struct fake {
    int port;
    atomic_int quit;
    pthread_t th;
} fake;

static int listen_on(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)port)};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 64) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void *fake_main(void *arg) {
    fake *f = arg;
    int fd = listen_on(f->port);
    int64_t end = clock_now_ns() + 30 * NS_PER_S;
    while (!atomic_load(&f->quit) && clock_now_ns() < end) {
        if (unlink("ctl.stop") == 0 && fd >= 0) {
            close(fd);
            fd = -1;
        }
        if (unlink("ctl.start") == 0 && fd < 0) fd = listen_on(f->port);
        if (fd < 0) {
            struct timespec ts = {0, 2 * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 2) == 1) {
            int c = accept(fd, NULL, NULL);
            if (c >= 0) close(c);
        }
    }
    if (fd >= 0) close(fd);
    return NULL;
}

static void fake_start(fake *f) {
    int fd = listen_on(0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    f->port = ntohs(a.sin_port);
    atomic_store(&f->quit, 0);
    assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
    for (int i = 0; i < 500; i++) { /* until it listens */
        int c = socket(AF_INET, SOCK_STREAM, 0);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int ok = connect(c, (struct sockaddr *)&a, sizeof a) == 0;
        close(c);
        if (ok) return;
        struct timespec ts = {0, 2 * 1000000L};
        nanosleep(&ts, NULL);
    }
    fail_msg("the stand-in dependency does not listen");
}

static void fake_stop(fake *f) {
    atomic_store(&f->quit, 1);
    pthread_join(f->th, NULL);
    unlink("ctl.stop");
    unlink("ctl.start");
}

static deps *load_fault_deps(int port) {
    char text[2048], err[512];
    snprintf(text, sizeof text,
             "dependencies:\n"
             "  svc:\n"
             "    start_cmd: touch ctl.start\n"
             "    stop_cmd: [touch, ctl.stop]\n"
             "    pause_cmd: \"true\"\n"
             "    resume_cmd: [sh, -c, 'echo resumed']\n"
             "    kill_cmd: [sh, -c, 'echo no such process >&2; exit 3']\n"
             "    ready_check: tcp://127.0.0.1:%d\n"
             "    timeout: 2s\n"
             "  stuck:\n" /* commands that do nothing */
             "    start_cmd: \"true\"\n"
             "    stop_cmd: \"true\"\n"
             "    ready_check: tcp://127.0.0.1:%d\n"
             "    timeout: 300ms\n"
             "  none:\n"
             "    ready_check: tcp://127.0.0.1:%d\n",
             port, port, port);
    deps *d;
    if (load(text, &d, err, sizeof err) != 0) fail_msg("%s", err);
    return d;
}

static void test_fault(void **state) {
    fake f;
    fake_start(&f);
    deps *d = load_fault_deps(f.port);
    stack_fault_times t;
    char err[512];

    assert_int_equal(deps_fault(d, "nope", STACK_FAULT_STOP, &t, err, sizeof err), -1);
    assert_string_equal(err, "unknown dependency 'nope' (deps.yaml defines svc, stuck, none)");
    assert_int_equal(deps_fault(d, "none", STACK_FAULT_KILL, &t, err, sizeof err), -1);
    assert_string_equal(err, "none has no kill_cmd in deps.yaml: add one to kill it");
    assert_int_equal(deps_fault(d, "none", STACK_FAULT_RESTART, &t, err, sizeof err), -1);
    assert_string_equal(err, "none has no stop_cmd in deps.yaml: add one to restart it");
    assert_int_equal(deps_fault(d, "none", STACK_FAULT_PAUSE, &t, err, sizeof err), -1);
    assert_string_equal(err, "none has no pause_cmd in deps.yaml: add one to pause it");

    /* pause: signal when the command starts, down when it returned */
    assert_int_equal(deps_fault(d, "svc", STACK_FAULT_PAUSE, &t, err, sizeof err), 0);
    assert_true(t.signal_ns > 0 && t.down_ns >= t.signal_ns && t.down_wall_ns > 0);
    assert_int_equal(t.ready_ns, 0);
    assert_int_equal(t.pid_before, 0);
    assert_int_equal(t.pid_after, 0);
    /* resume: ready at the first successful check */
    assert_int_equal(deps_fault(d, "svc", STACK_FAULT_RESUME, &t, err, sizeof err), 0);
    assert_true(t.signal_ns > 0 && t.ready_ns >= t.signal_ns && t.ready_wall_ns > 0);
    assert_int_equal(t.down_ns, 0);

    /* start of a running one is an error, as for the embedded stack */
    assert_int_equal(deps_fault(d, "svc", STACK_FAULT_START, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "svc is already running (its ready check tcp://127.0.0.1:"));

    /* a stop command that leaves it up: bounded by the timeout, then an error */
    int64_t t0 = clock_now_ns();
    assert_int_equal(deps_fault(d, "stuck", STACK_FAULT_STOP, &t, err, sizeof err), -1);
    assert_true(clock_now_ns() - t0 < 3 * NS_PER_S);
    assert_non_null(strstr(err, "stuck still answers its ready check (tcp://127.0.0.1:"));
    assert_non_null(strstr(err, "0.3s after its stop_cmd returned"));
    assert_true(t.signal_ns > 0);
    assert_int_equal(t.down_ns, 0);

    /* a failing command: its status and output */
    assert_int_equal(deps_fault(d, "svc", STACK_FAULT_KILL, &t, err, sizeof err), -1);
    assert_string_equal(err, "svc: kill_cmd failed (exit status 3): no such process");

    /* stop: down when the command returned and the check fails */
    assert_int_equal(deps_fault(d, "svc", STACK_FAULT_STOP, &t, err, sizeof err), 0);
    assert_true(t.signal_ns > 0 && t.down_ns >= t.signal_ns && t.down_wall_ns > 0);
    assert_int_equal(t.ready_ns, 0);

    /* a start whose dependency never comes up: bounded, an error with the last failure */
    t0 = clock_now_ns();
    assert_int_equal(deps_fault(d, "stuck", STACK_FAULT_START, &t, err, sizeof err), -1);
    assert_true(clock_now_ns() - t0 < 3 * NS_PER_S);
    assert_non_null(strstr(err, "stuck did not become ready within 0.3s after its start_cmd: "));
    assert_int_equal(t.ready_ns, 0);

    /* start: no signal; ready at the first successful check */
    assert_int_equal(deps_fault(d, "svc", STACK_FAULT_START, &t, err, sizeof err), 0);
    assert_int_equal(t.signal_ns, 0);
    assert_int_equal(t.down_ns, 0);
    assert_true(t.ready_ns > 0 && t.ready_wall_ns > 0);

    /* restart: stop, then start, with all three timestamps in order */
    assert_int_equal(deps_fault(d, "svc", STACK_FAULT_RESTART, &t, err, sizeof err), 0);
    assert_true(t.signal_ns > 0 && t.down_ns >= t.signal_ns && t.ready_ns >= t.down_ns);
    assert_true(t.signal_wall_ns > 0 && t.down_wall_ns > 0 && t.ready_wall_ns > 0);

    deps_free(d);
    fake_stop(&f);
}

UNIT_MAIN_WITH(group_setup, group_teardown, test_valid, test_unknown_key, test_wrong_type,
               test_bad_url, test_duplicate_key, test_missing_ready_check, test_not_a_mapping,
               test_empty_file, test_syntax_error, test_unreadable, test_parse_embedded, test_fault)
