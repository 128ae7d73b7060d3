/* test_report_cmd.c — the inputs of `brink report` and `brink compare`: a directory means its
 * *.json except summary.json, sorted; a file that is missing, not JSON, not an object or of
 * another schema is refused with one line naming it. And the terminal's plain marks (words
 * instead of emoji) that threshold_print uses when stdout is not a terminal or NO_COLOR is set. */
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

#include "report/report_cmd.h"
#include "verdict/threshold.h"

#include "unit.h"

static char dir[64];

static void put(const char *name, const char *text) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unit_write_file(path, text);
}

static int setup(void **state) {
    snprintf(dir, sizeof dir, "/tmp/brink-report-test.XXXXXX");
    if (!mkdtemp(dir)) return -1;
    return 0;
}

static int teardown(void **state) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

#define DOC(test) "{\"schema\": \"brink.result/1\", \"test\": \"" test "\"}"

static void test_dir(void **state) {
    char sub[128];
    snprintf(sub, sizeof sub, "%s/d", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    char p[256];
    put("d/b.json", DOC("b"));
    put("d/a.json", DOC("a"));
    put("d/summary.json", "{\"not\": \"a result\"}");
    put("d/notes.txt", "ignored");
    put("d/.hidden.json", "ignored");
    report_docs d = {0};
    char err[256] = "";
    assert_int_equal(report_docs_load(sub, &d, err, sizeof err), 0);
    assert_int_equal(d.n, 2);
    assert_non_null(strstr(d.names[0], "/a.json"));
    assert_non_null(strstr(d.names[1], "/b.json"));
    assert_string_equal(json_string_value(json_object_get(d.docs[1], "test")), "b");
    /* more paths append */
    snprintf(p, sizeof p, "%s/d/a.json", dir);
    assert_int_equal(report_docs_load(p, &d, err, sizeof err), 0);
    assert_int_equal(d.n, 3);
    report_docs_free(&d);
    assert_int_equal(d.n, 0);
}

static void refused(const char *name, const char *text, const char *why) {
    if (text) put(name, text);
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    report_docs d = {0};
    char err[256] = "";
    assert_int_equal(report_docs_load(p, &d, err, sizeof err), -1);
    assert_int_equal(d.n, 0);
    if (!strstr(err, why)) fail_msg("'%s': expected '%s'", err, why);
    assert_non_null(strstr(err, name)); /* names the file */
    assert_null(strchr(err, '\n'));     /* one line */
    report_docs_free(&d);
}

static void test_refused(void **state) {
    refused("missing.json", NULL, "No such file");
    refused("garbage.json", "{\"schema\": ", "not valid JSON");
    refused("array.json", "[1, 2]", "not a brink result document");
    refused("noschema.json", "{\"test\": \"load\"}", "not a brink result document");
    refused("v2.json", "{\"schema\": \"brink.result/2\"}", "brink.result/2\" is not supported");
    refused("num.json", "{\"schema\": 1}", "not a brink result document");
    char sub[128];
    snprintf(sub, sizeof sub, "%s/empty", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    refused("empty", NULL, "no result documents");
}

static void test_plain_marks(void **state) {
    th_result r[2];
    assert_int_equal(threshold_judge(&r[0], "race", "race_conditions", 3, "3 double wins"), 0);
    assert_int_equal(threshold_judge(&r[1], "race", "win_rate", 1.0, NULL), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    threshold_set_plain(true);
    threshold_print(f, r, 2);
    fclose(f);
    assert_non_null(strstr(buf, "RED    race_conditions"));
    assert_non_null(strstr(buf, "GREEN  win_rate"));
    assert_null(strstr(buf, "🔴"));
    free(buf);
    f = open_memstream(&buf, &len);
    threshold_set_plain(false);
    threshold_print(f, r, 2);
    fclose(f);
    assert_non_null(strstr(buf, "🔴"));
    free(buf);
    /* a memory stream is not a terminal; NO_COLOR decides nothing on its own when empty */
    f = open_memstream(&buf, &len);
    assert_true(threshold_want_plain(f));
    fclose(f);
    free(buf);
    setenv("NO_COLOR", "1", 1);
    assert_true(threshold_want_plain(stdout));
    unsetenv("NO_COLOR");
}

UNIT_MAIN_WITH(setup, teardown, test_dir, test_refused, test_plain_marks)
