/* test_jscan.c — unit tests for src/core/jscan.c: well-formed and malformed documents against
 * jansson's own verdict, every path of a set of documents read in place and read through jansson
 * (core/jpath.c) giving the same text, escapes and \u sequences decoded, buffers that are too
 * small refused, hostile nesting bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "core/jpath.h"
#include "core/jscan.h"
#include "unit.h"

static const char *const docs[] = {
    "{\"id\":\"item-42\",\"state\":\"open\",\"total\":1250,\"ok\":true,\"no\":false,\"gone\":null}",
    " { \"data\" : { \"vendor\" : { \"id\" : \"v1\" } , \"items\" : [ {\"sku\":\"a\"}, "
    "{\"sku\":\"b\","
    "\"qty\":2} ] } } ",
    "[1, [2, 3], {\"x\": [\"y\"]}]",
    "{\"esc\":\"a\\\"b\\\\c\\/d\\n\",\"uni\":\"caf\\u00e9 \\ud83d\\ude00\",\"k\\u0065y\":5}",
    "{\"neg\":-0.5e+3,\"zero\":0,\"big\":1.5e300,\"deep\":{\"a\":{\"b\":{\"c\":[]}}}}",
    "\"just a string\"",
    "42",
};

static const char *const paths[] = {
    "$",
    "id",
    "state",
    "total",
    "ok",
    "no",
    "gone",
    "missing",
    "id.deeper",
    "data.vendor.id",
    "data.items[1].qty",
    "data.items[1].sku",
    "data.items[2].sku",
    "[1][0]",
    "[2].x[0]",
    "[9]",
    "esc",
    "uni",
    "key",
    "neg",
    "zero",
    "deep.a.b.c",
    "$.data.vendor",
};

/* Every path of every document: found by both or by neither, with the same text for scalars. */
static void test_agrees_with_jansson(void **state) {
    for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
        const char *doc = docs[d];
        size_t len = strlen(doc);
        assert_true(jscan_valid(doc, len));
        json_error_t je;
        json_t *root = json_loadb(doc, len, JSON_DECODE_ANY, &je);
        assert_non_null(root);
        for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
            json_t *jv = NULL;
            jpath_find(root, paths[p], &jv, NULL, 0);
            jscan_val v;
            int r = jscan_find(doc, len, paths[p], &v);
            bool has_j = jv && !json_is_null(jv), has_s = r == 1 && v.type != JS_NULL;
            if (has_j != has_s)
                fail_msg("doc %zu path %s: jansson %d, jscan %d", d, paths[p], has_j, r);
            if (!has_s || json_is_object(jv) || json_is_array(jv) || json_is_real(jv)) continue;
            char a[256], b[256];
            jpath_scalar(jv, a, sizeof a);
            assert_true(jscan_text(&v, b, sizeof b) >= 0);
            if (strcmp(a, b))
                fail_msg("doc %zu path %s: jansson '%s', jscan '%s'", d, paths[p], a, b);
        }
        json_decref(root);
    }
}

static void test_types_and_text(void **state) {
    const char *doc = docs[3];
    jscan_val v;
    char out[64];
    assert_int_equal(jscan_find(doc, strlen(doc), "esc", &v), 1);
    assert_int_equal(v.type, JS_STRING);
    assert_true(v.escaped);
    assert_int_equal(jscan_text(&v, out, sizeof out), 8);
    assert_string_equal(out, "a\"b\\c/d\n");
    assert_int_equal(jscan_find(doc, strlen(doc), "uni", &v), 1);
    assert_true(jscan_text(&v, out, sizeof out) > 0);
    assert_string_equal(out, "caf\xc3\xa9 \xf0\x9f\x98\x80");
    assert_int_equal(jscan_text(&v, out, 5), -1); /* does not fit */
    assert_int_equal(jscan_find(docs[4], strlen(docs[4]), "neg", &v), 1);
    assert_int_equal(v.type, JS_NUMBER);
    assert_int_equal(jscan_text(&v, out, sizeof out), 7);
    assert_string_equal(out, "-0.5e+3");
    assert_int_equal(jscan_find(docs[0], strlen(docs[0]), "gone", &v), 1);
    assert_int_equal(v.type, JS_NULL);
    assert_int_equal(jscan_find(docs[1], strlen(docs[1]), "data.items", &v), 1);
    assert_int_equal(v.type, JS_ARRAY);
    assert_int_equal(jscan_find(docs[0], strlen(docs[0]), "a..b", &v), -1);
    assert_int_equal(jscan_find(docs[0], strlen(docs[0]), "x[y]", &v), -1);
}

/* Malformed documents: jscan and jansson refuse the same ones. */
static void test_malformed(void **state) {
    static const char *const bad[] = {
        "",     "{",          "{\"a\"}",     "{\"a\":}", "{\"a\":1,}",
        "[1,]", "[1 2]",      "{a:1}",       "'x'",      "\"unterminated",
        "tru",  "nul",        "01",          "1.",       "-",
        "1e",   "\"\\x\"",    "\"\\u12g4\"", "\"a\nb\"", "{} {}",
        "[1]]", "{\"a\":1}x", "+1",          ".5",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_error_t je;
        json_t *j = json_loadb(bad[i], strlen(bad[i]), JSON_DECODE_ANY, &je);
        if (j) fail_msg("jansson accepts '%s'", bad[i]);
        if (jscan_valid(bad[i], strlen(bad[i]))) fail_msg("jscan accepts '%s'", bad[i]);
    }
    jscan_val v;
    assert_int_equal(jscan_find("{\"a\":[1,}", 9, "a[1]", &v), -1);
    assert_int_equal(jscan_find("{\"a\":1", 6, "b", &v), -1);
}

/* Nesting beyond the bound is refused, not followed down the stack. */
static void test_depth(void **state) {
    size_t n = 100000;
    char *deep = malloc(2 * n);
    assert_non_null(deep);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    assert_false(jscan_valid(deep, 2 * n));
    assert_true(jscan_valid(deep + n - 100, 200));
    free(deep);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agrees_with_jansson),
        cmocka_unit_test(test_types_and_text),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
