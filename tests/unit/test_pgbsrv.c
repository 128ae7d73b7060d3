/* test_pgbsrv.c — unit tests for the embedded stack's PgBouncer particulars (src/stack/pgbsrv.c):
 * the configuration and auth files it writes (content, mode 0600, names it refuses), finding the
 * program, and reading the version from `pgbouncer --version` (with stand-in programs written
 * here). Starting a real PgBouncer is tests/integration/pgbouncer.sh's job. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stack/pgbsrv.h"
#include "stack/proc.h"
#include "unit.h"

static char dir[64];

static int setup(void **state) {
    snprintf(dir, sizeof dir, "/tmp/test_pgbsrv.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    return proc_rmtree(dir);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static pgbsrv_conf conf(const char *password) {
    return (pgbsrv_conf){.dir = dir,
                         .port = 6432,
                         .upstream_port = 15432,
                         .database = "brink",
                         .user = "brink",
                         .password = password};
}

static void test_configure(void **state) {
    char ini[256], auth[256], err[256] = "";
    pgbsrv_conf c = conf("0123abcd");
    assert_int_equal(pgbsrv_configure(&c, ini, sizeof ini, auth, sizeof auth, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(ini, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(auth, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *a = slurp(auth);
    assert_non_null(a);
    assert_string_equal(a, "\"brink\" \"0123abcd\"\n");
    char *t = slurp(ini);
    assert_non_null(t);
    assert_non_null(strstr(t, "\nbrink = host=127.0.0.1 port=15432 dbname=brink\n"));
    assert_non_null(strstr(t, "\npool_mode = transaction\n"));
    assert_non_null(strstr(t, "\nlisten_addr = 127.0.0.1\n"));
    assert_non_null(strstr(t, "\nlisten_port = 6432\n"));
    assert_non_null(strstr(t, "\nunix_socket_dir =\n"));
    assert_non_null(strstr(t, "\nauth_type = scram-sha-256\n"));
    assert_non_null(strstr(t, "\nstats_users = brink\n"));
    char want[300];
    snprintf(want, sizeof want, "\nauth_file = %s\n", auth);
    assert_non_null(strstr(t, want));
    assert_null(strstr(t, "0123abcd")); /* the password is only in the auth file */
}

static void test_configure_refuses(void **state) {
    char ini[256], auth[256], err[256];
    const char *bad[] = {"with\"quote", "with space", "new\nline", "back\\slash", "it's"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pgbsrv_conf c = conf(bad[i]);
        err[0] = '\0';
        assert_int_equal(pgbsrv_configure(&c, ini, sizeof ini, auth, sizeof auth, err, sizeof err),
                         -1);
        assert_non_null(strstr(err, "unsupported character"));
    }
    pgbsrv_conf c = conf("ok");
    char tiny[8];
    assert_int_equal(pgbsrv_configure(&c, tiny, sizeof tiny, auth, sizeof auth, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "too long"));
}

/* Writes an executable shell script at DIR/name printing text. */
static void fake_program(const char *name, const char *text, char *path, size_t len) {
    snprintf(path, len, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\nprintf '%s'\n", text);
    fclose(f);
    chmod(path, 0755);
}

static void test_version(void **state) {
    char prog[128], v[32];
    fake_program("pgb", "PgBouncer 1.18.0\\nlibevent 2.1.12-stable\\n", prog, sizeof prog);
    pgbsrv_version(prog, v, sizeof v);
    assert_string_equal(v, "1.18.0");
    fake_program("other", "something else\\n", prog, sizeof prog);
    pgbsrv_version(prog, v, sizeof v);
    assert_string_equal(v, "");
    pgbsrv_version("/nonexistent/pgbouncer", v, sizeof v);
    assert_string_equal(v, "");
}

static void test_find(void **state) {
    char path[256], err[256], prog[128];
    setenv("BRINK_PGBOUNCER", "/nonexistent/pgbouncer", 1);
    assert_int_equal(pgbsrv_find(path, sizeof path, err, sizeof err), -1);
    assert_non_null(strstr(err, "Debian package pgbouncer"));
    fake_program("pgb2", "PgBouncer 9.9.9\\n", prog, sizeof prog);
    setenv("BRINK_PGBOUNCER", prog, 1);
    assert_int_equal(pgbsrv_find(path, sizeof path, err, sizeof err), 0);
    assert_string_equal(path, prog);
    unsetenv("BRINK_PGBOUNCER");
}

static void test_argv(void **state) {
    char **argv = pgbsrv_argv("/usr/sbin/pgbouncer", "/d/pgbouncer.ini");
    assert_non_null(argv);
    assert_string_equal(argv[0], "/usr/sbin/pgbouncer");
    assert_string_equal(argv[1], "/d/pgbouncer.ini");
    assert_null(argv[2]);
    proc_argv_free(argv);
}

UNIT_MAIN_EACH(setup, teardown, test_configure, test_configure_refuses, test_version, test_find,
               test_argv)
