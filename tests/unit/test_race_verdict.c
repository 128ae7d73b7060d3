/* test_race_verdict.c — the race's verdict on one order (every class fires on its own evidence
 * and stays quiet on a valid order), the status classes, the JSON paths that find a winner's
 * name, and the {{id}}/{{vendor}}/{{run}} substitution. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "race/race.h"
#include "core/jpath.h"
#include "verdict/race_verdict.h"
#include "unit.h"

#define W(v)                                                                                       \
    { v, RACE_WON, false, NULL }
#define L(v, n)                                                                                    \
    { v, RACE_LOST, true, n }
#define LX(v)                                                                                      \
    { v, RACE_LOST, false, NULL }
#define F(v)                                                                                       \
    { v, RACE_FAILED, false, NULL }
#define HTTP(w)                                                                                    \
    { "http", true, false, w }
#define SQL(w)                                                                                     \
    { "sql", true, false, w }
#define UNKNOWN                                                                                    \
    { "http", false, false, NULL }
#define BIT(c) RACE_BIT(RACE_##c)

static unsigned judge(const race_answer *a, int n, const race_truth *t, int nt) {
    race_verdict v;
    race_judge(a, n, t, nt, &v);
    return v.classes;
}

static void test_valid(void **state) {
    race_answer a[] = {L("v1", "v2"), W("v2"), L("v3", "v2")};
    race_truth t[] = {HTTP("v2"), SQL("v2")};
    race_verdict v;
    race_judge(a, 3, t, 2, &v);
    assert_int_equal(v.classes, 0);
    assert_int_equal(v.won, 1);
    assert_int_equal(v.lost, 2);
    assert_string_equal(v.announced, "v2");
    /* without ground truth, and with losers that name no one because the protocol has no name */
    race_answer b[] = {LX("v1"), W("v2")};
    assert_int_equal(judge(b, 2, NULL, 0), 0);
    race_truth u[] = {UNKNOWN};
    assert_int_equal(judge(a, 3, u, 1), 0);
}

static void test_double_win(void **state) {
    race_answer a[] = {W("v1"), W("v2"), L("v3", "v2")};
    race_truth t[] = {HTTP("v2")};
    assert_int_equal(judge(a, 3, t, 1), BIT(DOUBLE_WIN));
    /* stored winner not among the winners: phantom too */
    race_truth t2[] = {HTTP("v3")};
    assert_int_equal(judge(a, 3, t2, 1), BIT(DOUBLE_WIN) | BIT(PHANTOM_WINNER));
    /* losers that disagree on which winner */
    race_answer b[] = {W("v1"), W("v2"), L("v3", "v2"), L("v4", "v1")};
    assert_int_equal(judge(b, 4, t, 1), BIT(DOUBLE_WIN) | BIT(INCONSISTENT_LOSER));
    /* a loser naming a non-winner */
    race_answer c[] = {W("v1"), W("v2"), L("v3", "v9")};
    assert_int_equal(judge(c, 3, t, 1), BIT(DOUBLE_WIN) | BIT(INCONSISTENT_LOSER));
}

static void test_no_winner(void **state) {
    race_answer a[] = {L("v1", NULL), L("v2", NULL)};
    race_truth none[] = {HTTP(NULL)};
    assert_int_equal(judge(a, 2, none, 1), BIT(NO_WINNER));
    assert_int_equal(judge(a, 2, NULL, 0), BIT(NO_WINNER));
    /* nobody told, but someone stored: phantom; losers naming the stored one are consistent */
    race_answer b[] = {L("v1", "v2"), L("v2", "v2")};
    race_truth stored[] = {HTTP("v2")};
    assert_int_equal(judge(b, 2, stored, 1), BIT(NO_WINNER) | BIT(PHANTOM_WINNER));
    /* no truth: the losers must agree among themselves */
    race_answer c[] = {L("v1", "v2"), L("v2", "v1")};
    assert_int_equal(judge(c, 2, NULL, 0), BIT(NO_WINNER) | BIT(INCONSISTENT_LOSER));
    /* all failed */
    race_answer d[] = {F("v1"), F("v2")};
    assert_int_equal(judge(d, 2, none, 1), BIT(NO_WINNER) | BIT(ERROR));
}

static void test_phantom(void **state) {
    race_answer a[] = {W("v1"), L("v2", "v1")};
    race_truth other[] = {HTTP("v2")};
    assert_int_equal(judge(a, 2, other, 1), BIT(PHANTOM_WINNER));
    race_truth none[] = {HTTP(NULL)};
    assert_int_equal(judge(a, 2, none, 1), BIT(PHANTOM_WINNER));
    /* the sources disagree: the HTTP read-back is right, the table is not */
    race_truth split[] = {HTTP("v1"), SQL("v2")};
    assert_int_equal(judge(a, 2, split, 2), BIT(PHANTOM_WINNER));
    race_truth multi[] = {HTTP("v1"), {"sql", true, true, "v1"}};
    assert_int_equal(judge(a, 2, multi, 2), BIT(PHANTOM_WINNER));
    /* an unknown source is not evidence */
    race_truth unknown[] = {{"sql", false, false, "v9"}};
    assert_int_equal(judge(a, 2, unknown, 1), 0);
}

static void test_inconsistent_and_error(void **state) {
    race_answer a[] = {W("v1"), L("v2", "someone-else"), L("v3", "v1")};
    race_truth t[] = {HTTP("v1")};
    assert_int_equal(judge(a, 3, t, 1), BIT(INCONSISTENT_LOSER));
    /* a loser that was read for a name but gave none */
    race_answer b[] = {W("v1"), L("v2", NULL)};
    assert_int_equal(judge(b, 2, t, 1), BIT(INCONSISTENT_LOSER));
    race_answer c[] = {W("v1"), F("v2"), L("v3", "v1")};
    race_verdict v;
    race_judge(c, 3, t, 1, &v);
    assert_int_equal(v.classes, BIT(ERROR));
    assert_int_equal(v.failed, 1);
    assert_int_equal(v.classes & RACE_CONDITION_MASK, 0);
    assert_string_equal(race_class_name(RACE_PHANTOM_WINNER), "phantom_winner");
}

static void test_status_classes(void **state) {
    status_set s;
    char err[200], out[100];
    assert_int_equal(status_set_parse("2xx", &s, err, sizeof err), 0);
    assert_true(status_set_has(&s, 200));
    assert_true(status_set_has(&s, 299));
    assert_false(status_set_has(&s, 300));
    assert_int_equal(status_set_parse("200, 201-204,409", &s, err, sizeof err), 0);
    assert_true(status_set_has(&s, 203));
    assert_true(status_set_has(&s, 409));
    assert_false(status_set_has(&s, 205));
    status_set_format(&s, out, sizeof out);
    assert_string_equal(out, "200,201-204,409");
    assert_int_equal(status_set_parse("4xx", &s, err, sizeof err), 0);
    status_set_format(&s, out, sizeof out);
    assert_string_equal(out, "4xx");
    const char *bad[] = {"", "20", "6xx", "abc", "204-200", "200-", "700", "2xx,", "1000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(status_set_parse(bad[i], &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "invalid status class"));
}

/* An answer's outcome from its status: won before lost where the classes overlap; no response
 * (0) and a status of neither class are failures. */
static void test_outcome_of(void **state) {
    status_set won, lost;
    char err[200];
    assert_int_equal(status_set_parse("2xx", &won, err, sizeof err), 0);
    assert_int_equal(status_set_parse("409", &lost, err, sizeof err), 0);
    assert_int_equal(race_outcome_of(&won, &lost, 200), RACE_WON);
    assert_int_equal(race_outcome_of(&won, &lost, 204), RACE_WON);
    assert_int_equal(race_outcome_of(&won, &lost, 409), RACE_LOST);
    assert_int_equal(race_outcome_of(&won, &lost, 410), RACE_FAILED);
    assert_int_equal(race_outcome_of(&won, &lost, 503), RACE_FAILED);
    assert_int_equal(race_outcome_of(&won, &lost, 0), RACE_FAILED); /* no response */
    assert_int_equal(status_set_parse("200,409", &lost, err, sizeof err), 0);
    assert_int_equal(race_outcome_of(&won, &lost, 200), RACE_WON); /* overlap: won */
    assert_int_equal(race_outcome_of(&won, &lost, 409), RACE_LOST);
}

static void test_json_paths(void **state) {
    char out[64], err[200];
    const char *b = "{\"winner\":\"v2\",\"data\":{\"vendor\":{\"id\":7}},\"list\":[{\"v\":\"a\"},"
                    "{\"v\":\"b\"}],\"none\":null,\"ok\":true}";
    size_t n = strlen(b);
    assert_int_equal(jpath_get(b, n, "winner", out, sizeof out), 1);
    assert_string_equal(out, "v2");
    assert_int_equal(jpath_get(b, n, "$.winner", out, sizeof out), 1);
    assert_int_equal(jpath_get(b, n, "data.vendor.id", out, sizeof out), 1);
    assert_string_equal(out, "7");
    assert_int_equal(jpath_get(b, n, "list[1].v", out, sizeof out), 1);
    assert_string_equal(out, "b");
    assert_int_equal(jpath_get(b, n, "ok", out, sizeof out), 1);
    assert_string_equal(out, "true");
    assert_int_equal(jpath_get(b, n, "none", out, sizeof out), 0);
    assert_int_equal(jpath_get(b, n, "missing.deeper", out, sizeof out), 0);
    assert_int_equal(jpath_get(b, n, "list[5].v", out, sizeof out), 0);
    assert_int_equal(jpath_get("not json", 8, "winner", out, sizeof out), -1);
    assert_int_equal(jpath_check("a.b[0].c", err, sizeof err), 0);
    assert_int_equal(jpath_check("a..b", err, sizeof err), -1);
    assert_int_equal(jpath_check("a[x]", err, sizeof err), -1);
    assert_int_equal(jpath_check("", err, sizeof err), -1);
}

static void test_subst(void **state) {
    char *s =
        race_subst("/orders/{{id}}/accept?by={{vendor}}&r={{run}}&{{seq}}", "o-1", "v-2", "abc");
    assert_string_equal(s, "/orders/o-1/accept?by=v-2&r=abc&{{seq}}");
    free(s);
    s = race_subst("{{id}}{{id}}{{", NULL, NULL, "r"); /* no id: left for later */
    assert_string_equal(s, "{{id}}{{id}}{{");
    free(s);
    race_spec sp;
    char err[200];
    assert_int_equal(race_spec_default(&sp, err, sizeof err), 0);
    assert_string_equal(sp.claim.path, "/orders/{{id}}/accept");
    assert_true(status_set_has(&sp.lost, 409));
    assert_false(status_set_has(&sp.won, 409));
    assert_string_equal(sp.loser_winner_path, "winner");
    race_spec_free(&sp);
}

UNIT_MAIN(test_valid, test_double_win, test_no_winner, test_phantom, test_inconsistent_and_error,
          test_status_classes, test_outcome_of, test_json_paths, test_subst)
