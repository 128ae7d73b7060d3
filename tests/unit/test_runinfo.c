/* test_runinfo.c — unit tests for src/core/runinfo.c: the command line as result documents show
 * it (URL passwords and credential headers as ***, words quoted as a shell needs them), and the
 * stamp (.brink_version, .command, .host) added to brink.result/1 documents only, never over
 * what a document already says. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/runinfo.h"
#include "core/version.h"
#include "unit.h"

static void redacts(const char *arg, const char *prev, const char *want) {
    char out[256];
    runinfo_redact(arg, prev, out, sizeof out);
    if (strcmp(out, want)) fail_msg("%s after %s: got '%s', want '%s'", arg, prev, out, want);
}

static void test_redact(void **state) {
    redacts("postgresql://app:s3cret@db:5432/app", NULL, "postgresql://app:***@db:5432/app");
    redacts("redis://:pw@127.0.0.1:6379/0", "--redis", "redis://:***@127.0.0.1:6379/0");
    redacts("http://127.0.0.1:8080/hooks", NULL, "http://127.0.0.1:8080/hooks");
    redacts("http://h/a:b@c", NULL, "http://h/a:b@c"); /* '@' in the path: no credentials */
    redacts("Authorization: Bearer abc", "-H", "Authorization: ***");
    redacts("X-Api-Key: k1", "--header", "X-Api-Key: ***");
    redacts("--header=Cookie: sid=1", NULL, "--header=Cookie: ***");
    redacts("Content-Type: application/json", "-H", "Content-Type: application/json");
    redacts("hunter2", "--db-password", "***");
    redacts("ORDERS_SECRET", "--secret-env", "ORDERS_SECRET"); /* a variable's name, not a value */
}

static void test_command(void **state) {
    char *argv[] = {"/usr/bin/brink",
                    "load",
                    "-R",
                    "200",
                    "-b",
                    "{\"a\": 1}",
                    "-H",
                    "Authorization: Bearer x",
                    "it's",
                    "postgresql://u:p@h/d",
                    NULL};
    runinfo_set_argv(10, argv);
    assert_string_equal(runinfo_command(),
                        "brink load -R 200 -b '{\"a\": 1}' -H 'Authorization: ***' 'it'\\''s' "
                        "'postgresql://u:***@h/d'"); /* '*' quoted: a shell would glob it */
}

static void test_stamp(void **state) {
    char *argv[] = {"brink", "webhook", "light", NULL};
    runinfo_set_argv(3, argv);
    json_t *doc = json_pack("{s:s, s:s}", "schema", "brink.result/1", "test", "webhook");
    json_t *s = runinfo_stamped(doc);
    assert_ptr_not_equal(s, doc);
    assert_string_equal(json_string_value(json_object_get(s, "brink_version")), BRINK_VERSION);
    assert_string_equal(json_string_value(json_object_get(s, "command")), "brink webhook light");
    json_t *host = json_object_get(s, "host");
    assert_true(json_integer_value(json_object_get(host, "cores")) >= 1);
    assert_true(strlen(json_string_value(json_object_get(host, "kernel"))) > 0);
    assert_null(json_object_get(doc, "brink_version")); /* the original is left as it was */
    json_decref(s);
    /* what a document says already stays (a merged document keeps the merge's own) */
    json_object_set_new(doc, "brink_version", json_string("0.0.9"));
    s = runinfo_stamped(doc);
    assert_string_equal(json_string_value(json_object_get(s, "brink_version")), "0.0.9");
    json_decref(s);
    /* not a result document: untouched */
    json_t *other = json_pack("{s:s}", "schema", "brink.compare/1");
    s = runinfo_stamped(other);
    assert_ptr_equal(s, other);
    assert_null(json_object_get(s, "command"));
    json_decref(s);
    json_decref(other);
    json_decref(doc);
}

UNIT_MAIN(test_redact, test_command, test_stamp)
