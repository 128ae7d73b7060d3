/* test_race_yaml.c — race.yaml: a complete file and its defaults, the server-chosen ids variant,
 * and one line with the file, the line and the key for each kind of mistake (unknown keys, wrong
 * types, duplicates, bad statuses, paths and placeholders, missing sections, a second document,
 * YAML syntax). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "race/race.h"
#include "unit.h"

static unit_tmp tmp; /* tmp.file: race.yaml */

static int setup(void **state) {
    return unit_tmp_make(&tmp, "race-yaml", "race.yaml");
}

static int teardown(void **state) {
    unit_tmp_remove(&tmp);
    return 0;
}

static int load(const char *text, race_spec *s, char *err, size_t errlen) {
    unit_write_file(tmp.file, text);
    return race_spec_load(tmp.file, s, err, errlen);
}

static const char FULL[] = "target: http://127.0.0.1:8080/api\n"
                           "create:\n"
                           "  path: /webhooks/orders\n"
                           "  headers: {X-Tenant: t1}\n"
                           "  body: '{\"order_id\":\"{{id}}\",\"n\":{{seq}}}'\n"
                           "  sign: standard-webhooks\n"
                           "  secret_file: whsec.txt\n"
                           "visible:\n"
                           "  path: /orders/{{id}}\n"
                           "  status: 200\n"
                           "claim:\n"
                           "  method: PUT\n"
                           "  path: /orders/{{id}}/claim\n"
                           "  headers: [\"X-Vendor: {{vendor}}\"]\n"
                           "  won: [200, 201]\n"
                           "  lost: 409,423\n"
                           "  loser_winner: error.winner\n"
                           "truth:\n"
                           "  http:\n"
                           "    path: /orders/{{id}}\n"
                           "    winner: assignment.vendor\n"
                           "  sql:\n"
                           "    url: postgresql://app@127.0.0.1:5432/app\n"
                           "    query: SELECT vendor FROM claims WHERE order_id = $1\n";

static void test_full(void **state) {
    race_spec s;
    char err[400];
    assert_int_equal(load(FULL, &s, err, sizeof err), 0);
    assert_string_equal(s.target, "http://127.0.0.1:8080/api");
    assert_string_equal(s.create.method, "POST"); /* default */
    assert_int_equal(s.create.nheaders, 2);       /* + Content-Type for the body */
    assert_string_equal(s.create.headers[0], "X-Tenant: t1");
    assert_string_equal(s.create.headers[1], "Content-Type: application/json");
    assert_int_equal(s.create_sign, SIGN_STANDARD_WEBHOOKS);
    char want[300];
    snprintf(want, sizeof want, "%s/whsec.txt", tmp.dir); /* relative to the file */
    assert_string_equal(s.secret_file, want);
    assert_true(status_set_has(&s.create_ok, 202));
    assert_string_equal(s.visible.method, "GET");
    assert_true(status_set_has(&s.visible_ok, 200));
    assert_false(status_set_has(&s.visible_ok, 204));
    assert_string_equal(s.claim.method, "PUT");
    assert_string_equal(s.claim.headers[0], "X-Vendor: {{vendor}}");
    assert_null(s.claim.body);
    assert_true(status_set_has(&s.won, 201));
    assert_false(status_set_has(&s.won, 202));
    assert_true(status_set_has(&s.lost, 423));
    assert_string_equal(s.loser_winner_path, "error.winner");
    assert_string_equal(s.truth.path, "/orders/{{id}}");
    assert_string_equal(s.truth_winner_path, "assignment.vendor");
    assert_string_equal(s.sql_url, "postgresql://app@127.0.0.1:5432/app");
    assert_non_null(strstr(s.sql_query, "$1"));
    assert_null(s.create_id_path);
    assert_string_equal(s.file, tmp.file);
    race_spec_free(&s);
}

static void test_server_ids(void **state) {
    race_spec s;
    char err[400];
    assert_int_equal(load("create: {path: /orders, body: '{}', id_from: id, success: 201}\n"
                          "claim: {path: '/orders/{{id}}/accept',\n"
                          "        body: '{\"vendor_id\":\"{{vendor}}\"}'}\n"
                          "truth: {sql: {query: 'SELECT v FROM t WHERE id = $1'}}\n",
                          &s, err, sizeof err),
                     0);
    assert_string_equal(s.create_id_path, "id");
    assert_true(status_set_has(&s.create_ok, 201));
    assert_false(status_set_has(&s.create_ok, 200));
    assert_true(status_set_has(&s.won, 200)); /* defaults */
    assert_true(status_set_has(&s.lost, 409));
    assert_null(s.loser_winner_path);
    assert_null(s.truth.method);
    assert_null(s.sql_url); /* the embedded stack's, or --pg */
    assert_null(s.visible.method);
    race_spec_free(&s);
}

/* expect_error TEXT LINE KEY WORDS: the file fails with "FILE:LINE: KEY: ...WORDS..." */
static void expect_error(const char *text, int line, const char *key, const char *words) {
    race_spec s;
    char err[400], want[300];
    assert_int_equal(load(text, &s, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:%d: %s: ", tmp.file, line, key);
    if (strncmp(err, want, strlen(want)) || !strstr(err, words)) {
        print_error("got:  %s\nwant: %s...%s\n", err, want, words);
        fail();
    }
    assert_null(strchr(err, '\n'));
}

#define CLAIM  "claim: {path: '/o/{{id}}', body: '{{vendor}}'}\n"
#define TRUTH  "truth: {http: {path: '/o/{{id}}', winner: v}}\n"
#define CREATE "create: {path: /c, body: '{{id}}'}\n"

static void test_errors(void **state) {
    expect_error("", 1, "(top level)", "empty");
    expect_error("- a\n", 1, "(top level)", "expected a mapping");
    expect_error(CREATE CLAIM TRUTH "vendors: 5\n", 4, "vendors", "unknown key");
    expect_error(CREATE CLAIM "truth: {http: {path: '/o/{{id}}', winer: v}}\n", 3,
                 "truth.http.winer", "unknown key");
    expect_error(CREATE CLAIM, 1, "truth", "missing");
    expect_error(CLAIM TRUTH, 1, "create", "missing");
    expect_error(CREATE TRUTH, 1, "claim", "missing");
    expect_error("create: {path: /c, body: x}\n" CLAIM TRUTH, 1, "create", "never carries {{id}}");
    expect_error(CREATE "claim: {path: '/o/{{id}}'}\n" TRUTH, 2, "claim", "{{vendor}}");
    expect_error(CREATE "claim: {path: '/o/{{id}}', body: '{{vendr}}'}\n" TRUTH, 2, "claim.body",
                 "unknown placeholder {{vendr}}");
    expect_error(CREATE CLAIM "truth: {http: {path: '/o/{{seq}}', winner: v}}\n", 3,
                 "truth.http.path", "unknown placeholder {{seq}}");
    expect_error(CREATE "claim: {path: '/o/{{id}}', body: '{{vendor}}', lost: 6xx}\n" TRUTH, 2,
                 "claim.lost", "invalid status class");
    expect_error(CREATE "claim: {path: '/o/{{id}}', body: '{{vendor}}', lost: 200}\n" TRUTH, 2,
                 "claim.lost", "both won and lost");
    expect_error(CREATE "claim: {path: 'o/{{id}}', body: '{{vendor}}'}\n" TRUTH, 2, "claim.path",
                 "must start with /");
    expect_error(CREATE "claim: {path: '/o/{{id}}', body: [1]}\n" TRUTH, 2, "claim.body",
                 "found a list");
    expect_error(CREATE CLAIM "truth: {http: {path: '/o/{{id}}', winner: 'a..b'}}\n", 3,
                 "truth.http.winner", "empty key");
    expect_error(CREATE CLAIM "truth: {http: {path: '/o/{{id}}'}}\n", 3, "truth.http.winner",
                 "missing");
    expect_error(CREATE CLAIM "truth: {sql: {url: 'mysql://x', query: 'SELECT $1'}}\n", 3,
                 "truth.sql.url", "postgresql://");
    expect_error(CREATE CLAIM "truth: {sql: {query: 'SELECT 1'}}\n", 3, "truth.sql.query", "$1");
    expect_error(CREATE CLAIM "truth: {}\n", 3, "truth", "empty");
    expect_error("create: {path: /c, body: '{{id}}', sign: hmac}\n" CLAIM TRUTH, 1, "create.sign",
                 "unknown signing scheme");
    expect_error("create: {path: /c, body: '{{id}}', secret_file: f}\n" CLAIM TRUTH, 1,
                 "create.sign", "without a signing scheme");
    expect_error("create: {path: /c, body: '{{id}}', id_from: id}\n" CLAIM TRUTH, 1, "create",
                 "chosen by the service");
    expect_error("create: {path: /c, headers: {'Bad Name': x}, body: '{{id}}'}\n" CLAIM TRUTH, 1,
                 "create.headers.Bad Name", "not allowed in a name");
    expect_error("create: {path: /c, method: post, body: '{{id}}'}\n" CLAIM TRUTH, 1,
                 "create.method", "upper-case");
    expect_error(CREATE CLAIM TRUTH "claim: {path: /x}\n", 4, "claim",
                 "duplicate key (first at "
                 "line 2)");
    expect_error(CREATE CLAIM TRUTH "target: 'ftp://x'\n", 4, "target", "");
    race_spec s;
    char err[400];
    assert_int_equal(load("create:\n  path: /c\n  body: '{{id}}'\nclaim: [\n", &s, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "YAML syntax error"));
    assert_non_null(strstr(err, "race.yaml:5:"));
    assert_int_equal(load(CREATE CLAIM TRUTH "---\nx: 1\n", &s, err, sizeof err), -1);
    assert_non_null(strstr(err, ":5: a second YAML document"));
    assert_int_equal(race_spec_load("/nonexistent/race.yaml", &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot read /nonexistent/race.yaml"));
}

UNIT_MAIN_WITH(setup, teardown, test_full, test_server_ids, test_errors)
