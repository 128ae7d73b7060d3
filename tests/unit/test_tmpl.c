/* test_tmpl.c — unit tests for src/http/tmpl.c: compile errors, static templates, the rendering
 * of every placeholder, and tmpl_max_len() as a true upper bound (renders go into buffers of
 * exactly tmpl_max_len() bytes on the heap, so AddressSanitizer catches any overrun). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/tmpl.h"
#include "unit.h"

static tmpl *compile_ok(const char *text) {
    char err[256] = "";
    tmpl *t = tmpl_compile(text, strlen(text), err, sizeof err);
    if (t == NULL) fail_msg("compile \"%s\": %s", text, err);
    return t;
}

static void expect_error(const char *text, const char *want) {
    char err[256] = "";
    tmpl *t = tmpl_compile(text, strlen(text), err, sizeof err);
    assert_null(t);
    assert_string_equal(err, want);
}

/* Renders into a heap buffer of exactly tmpl_max_len() bytes; returns a NUL-terminated copy. */
static char *render(const tmpl *t, const tmpl_vars *v) {
    size_t max = tmpl_max_len(t);
    char *buf = malloc(max ? max : 1);
    assert_non_null(buf);
    size_t n = tmpl_render(t, v, buf);
    assert_true(n <= max);
    char *s = malloc(n + 1);
    assert_non_null(s);
    memcpy(s, buf, n);
    s[n] = '\0';
    free(buf);
    return s;
}

static void expect_render(const char *text, const tmpl_vars *v, const char *want) {
    tmpl *t = compile_ok(text);
    char *got = render(t, v);
    assert_string_equal(got, want);
    free(got);
    tmpl_free(t);
}

/* ---- compile errors ------------------------------------------------------------------------ */

static void test_unknown_placeholder(void **state) {
    expect_error("{{sqe}}", "unknown placeholder {{sqe}}");
    expect_error("id={{seq}}&x={{nope}}", "unknown placeholder {{nope}}");
    expect_error("{{}}", "unknown placeholder {{}}");
    expect_error("{{ seq }}", "unknown placeholder {{ seq }}");
    expect_error("{{SEQ}}", "unknown placeholder {{SEQ}}");
    expect_error("{{seq:1}}", "unknown placeholder {{seq:1}}");
    expect_error("{{uuid4}}", "unknown placeholder {{uuid4}}");
    /* Control characters and very long names stay on one bounded line. */
    expect_error("{{a\nb}}", "unknown placeholder {{a?b}}");
    char text[200], want[200];
    snprintf(text, sizeof text, "{{%0100d}}", 0);
    snprintf(want, sizeof want, "unknown placeholder {{%048d...}}", 0);
    expect_error(text, want);
}

static void test_unterminated_placeholder(void **state) {
    expect_error("{{seq", "unterminated placeholder at offset 0");
    expect_error("abc {{seq}", "unterminated placeholder at offset 4");
    expect_error("{{seq}} and {{uuid", "unterminated placeholder at offset 12");
    expect_error("x{{", "unterminated placeholder at offset 1");
    expect_error("{{}", "unterminated placeholder at offset 0");
}

static void test_bad_range(void **state) {
    expect_error("{{rand:5-1}}", "bad range in {{rand:5-1}} (want {{rand:A-B}} with A <= B)");
    expect_error("{{rand}}", "bad range in {{rand}} (want {{rand:A-B}} with A <= B)");
    expect_error("{{rand:}}", "bad range in {{rand:}} (want {{rand:A-B}} with A <= B)");
    expect_error("{{rand:1}}", "bad range in {{rand:1}} (want {{rand:A-B}} with A <= B)");
    expect_error("{{rand:1-}}", "bad range in {{rand:1-}} (want {{rand:A-B}} with A <= B)");
    expect_error("{{rand:-1}}", "bad range in {{rand:-1}} (want {{rand:A-B}} with A <= B)");
    expect_error("{{rand:a-b}}", "bad range in {{rand:a-b}} (want {{rand:A-B}} with A <= B)");
    expect_error("{{rand:1-2x}}", "bad range in {{rand:1-2x}} (want {{rand:A-B}} with A <= B)");
    expect_error("{{rand:1 - 2}}", "bad range in {{rand:1 - 2}} (want {{rand:A-B}} with A <= B)");
    expect_error("{{rand:--1-2}}", "bad range in {{rand:--1-2}} (want {{rand:A-B}} with A <= B)");
    expect_error("{{rand:-3--5}}", "bad range in {{rand:-3--5}} (want {{rand:A-B}} with A <= B)");
    /* Out of int64 range. */
    expect_error("{{rand:0-9223372036854775808}}",
                 "bad range in {{rand:0-9223372036854775808}} (want {{rand:A-B}} with A <= B)");
    expect_error("{{rand:-9223372036854775809-0}}",
                 "bad range in {{rand:-9223372036854775809-0}} (want {{rand:A-B}} with A <= B)");
}

static void test_error_buffer_small_or_null(void **state) {
    char err[8];
    assert_null(tmpl_compile("{{nope}}", 8, err, sizeof err));
    assert_string_equal(err, "unknown"); /* truncated, NUL-terminated */
    assert_null(tmpl_compile("{{nope}}", 8, NULL, 0));
}

/* ---- static templates ---------------------------------------------------------------------- */

static void test_static(void **state) {
    tmpl_vars v = {0};
    tmpl *t = compile_ok("{\"hello\":\"world\"}");
    assert_true(tmpl_is_static(t));
    assert_false(tmpl_needs_time(t));
    assert_int_equal(tmpl_max_len(t), 17);
    char *s = render(t, &v);
    assert_string_equal(s, "{\"hello\":\"world\"}");
    free(s);
    tmpl_free(t);

    /* Single braces and lone closers are literal. */
    expect_render("{a} }} {b}", &v, "{a} }} {b}");
    expect_render("{", &v, "{");
    expect_render("}", &v, "}");

    t = compile_ok("");
    assert_true(tmpl_is_static(t));
    assert_int_equal(tmpl_max_len(t), 0);
    char one;
    assert_int_equal(tmpl_render(t, &v, &one), 0);
    tmpl_free(t);

    char err[64];
    t = tmpl_compile(NULL, 0, err, sizeof err);
    assert_non_null(t);
    assert_true(tmpl_is_static(t));
    assert_int_equal(tmpl_max_len(t), 0);
    tmpl_free(t);
}

static void test_embedded_nul(void **state) {
    static const char text[] = "a\0{{seq}}\0b";
    char err[64];
    tmpl *t = tmpl_compile(text, sizeof text - 1, err, sizeof err);
    assert_non_null(t);
    assert_false(tmpl_is_static(t));
    tmpl_vars v = {.seq = 9};
    char out[64];
    size_t n = tmpl_render(t, &v, out);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "a\0009\0b", 5);
    tmpl_free(t);
}

/* ---- placeholders -------------------------------------------------------------------------- */

static void test_seq(void **state) {
    tmpl_vars v = {0};
    v.seq = 0;
    expect_render("{{seq}}", &v, "0");
    v.seq = 7;
    expect_render("n={{seq}};", &v, "n=7;");
    v.seq = 10;
    expect_render("{{seq}}", &v, "10");
    v.seq = 99;
    expect_render("{{seq}}", &v, "99");
    v.seq = 100;
    expect_render("{{seq}}", &v, "100");
    v.seq = 1234567890123ULL;
    expect_render("{{seq}}", &v, "1234567890123");
    v.seq = UINT64_MAX;
    expect_render("{{seq}}", &v, "18446744073709551615");
    v.seq = 42;
    expect_render("{{seq}}{{seq}}", &v, "4242");

    /* Every value from 0 to 100000 against printf. */
    tmpl *t = compile_ok("{{seq}}");
    char out[32], want[32];
    for (uint64_t i = 0; i <= 100000; i++) {
        v.seq = i;
        size_t n = tmpl_render(t, &v, out);
        int wn = snprintf(want, sizeof want, "%llu", (unsigned long long)i);
        assert_int_equal(n, (size_t)wn);
        assert_memory_equal(out, want, n);
    }
    /* ... and powers of ten and their neighbours up to 10^19. */
    for (uint64_t p = 1; p <= 10000000000000000000ULL; p *= 10) {
        uint64_t vals[] = {p - 1, p, p + 1};
        for (int k = 0; k < 3; k++) {
            v.seq = vals[k];
            size_t n = tmpl_render(t, &v, out);
            int wn = snprintf(want, sizeof want, "%llu", (unsigned long long)vals[k]);
            assert_int_equal(n, (size_t)wn);
            assert_memory_equal(out, want, n);
        }
        if (p == 10000000000000000000ULL) break;
    }
    tmpl_free(t);
}

static void test_conn_thread(void **state) {
    tmpl_vars v = {.conn = 0, .thread = 0};
    expect_render("c{{conn}}t{{thread}}", &v, "c0t0");
    v.conn = 12345;
    v.thread = 7;
    expect_render("{\"conn\":{{conn}},\"thread\":{{thread}}}", &v, "{\"conn\":12345,\"thread\":7}");
    v.conn = UINT32_MAX;
    v.thread = UINT32_MAX;
    expect_render("{{conn}}/{{thread}}", &v, "4294967295/4294967295");
    tmpl *t = compile_ok("{{conn}}{{thread}}");
    assert_false(tmpl_is_static(t));
    assert_false(tmpl_needs_time(t));
    tmpl_free(t);
}

static void test_lifecycle_vars(void **state) {
    tmpl_vars v = {.order = 42, .version = 3, .event = "order.paid", .event_len = 10};
    expect_render("{\"type\":\"{{event}}\",\"id\":\"o-{{order}}\",\"version\":{{version}}}", &v,
                  "{\"type\":\"order.paid\",\"id\":\"o-42\",\"version\":3}");
    /* {{order}} is {{seq}} without a lifecycle; {{event}} and {{version}} need one */
    const char *texts[] = {"{{order}}", "x{{version}}", "{{event}}"};
    for (int i = 0; i < 3; i++) {
        tmpl *t = compile_ok(texts[i]);
        assert_int_equal(tmpl_needs_event(t), i > 0);
        if (i == 2) assert_int_equal(tmpl_max_len(t), TMPL_EVENT_MAX);
        tmpl_free(t);
    }
}

static void test_time(void **state) {
    tmpl_vars v = {.now_wall_ns = 1700000000123456789LL};
    expect_render("{{now_s}}", &v, "1700000000");
    expect_render("{{now_ms}}", &v, "1700000000123");
    expect_render("s={{now_s}} ms={{now_ms}}", &v, "s=1700000000 ms=1700000000123");
    v.now_wall_ns = 0;
    expect_render("{{now_s}}/{{now_ms}}", &v, "0/0");
    v.now_wall_ns = 999999999;
    expect_render("{{now_s}}/{{now_ms}}", &v, "0/999");
    v.now_wall_ns = -1; /* before the epoch: floor, not truncation */
    expect_render("{{now_s}}/{{now_ms}}", &v, "-1/-1");
    v.now_wall_ns = INT64_MAX;
    expect_render("{{now_s}}/{{now_ms}}", &v, "9223372036/9223372036854");

    tmpl *t = compile_ok("{{now_s}}");
    assert_true(tmpl_needs_time(t));
    tmpl_free(t);
    t = compile_ok("x{{now_ms}}y");
    assert_true(tmpl_needs_time(t));
    tmpl_free(t);
    t = compile_ok("{{seq}}{{uuid}}{{rand:1-2}}");
    assert_false(tmpl_needs_time(t));
    tmpl_free(t);
}

static bool is_lower_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void test_uuid(void **state) {
    rng r;
    rng_seed_with(&r, 5);
    tmpl_vars v = {.rng = &r};
    tmpl *t = compile_ok("id={{uuid}};");
    char prev[37] = "";
    for (int n = 0; n < 200; n++) {
        char *s = render(t, &v);
        assert_int_equal(strlen(s), 3 + 36 + 1);
        assert_memory_equal(s, "id=", 3);
        assert_int_equal(s[39], ';');
        const char *u = s + 3;
        for (int i = 0; i < 36; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23)
                assert_int_equal(u[i], '-');
            else
                assert_true(is_lower_hex(u[i]));
        }
        assert_int_equal(u[14], '4');
        assert_non_null(strchr("89ab", u[19]));
        assert_memory_not_equal(prev, u, 36);
        memcpy(prev, u, 36);
        free(s);
    }
    tmpl_free(t);
}

static void check_rand(const char *text, int64_t lo, int64_t hi, int draws, bool all_values) {
    rng r;
    rng_seed_with(&r, (uint64_t)lo ^ (uint64_t)hi);
    tmpl_vars v = {.rng = &r};
    tmpl *t = compile_ok(text);
    size_t span = all_values ? (size_t)(hi - lo + 1) : 0;
    bool *seen = all_values ? calloc(span, 1) : NULL;
    for (int i = 0; i < draws; i++) {
        char *s = render(t, &v);
        char *end = NULL;
        long long x = strtoll(s, &end, 10);
        assert_true(end != s && *end == '\0');
        assert_true(x >= lo && x <= hi);
        if (seen) seen[x - lo] = true;
        free(s);
    }
    if (seen) {
        for (size_t i = 0; i < span; i++) assert_true(seen[i]);
        free(seen);
    }
    tmpl_free(t);
}

static void test_rand(void **state) {
    check_rand("{{rand:1-6}}", 1, 6, 5000, true);
    check_rand("{{rand:-5-5}}", -5, 5, 5000, true);
    check_rand("{{rand:-10--3}}", -10, -3, 5000, true);
    check_rand("{{rand:0-0}}", 0, 0, 100, true);
    check_rand("{{rand:-7--7}}", -7, -7, 100, true);
    check_rand("{{rand:0-999}}", 0, 999, 20000, true);
    check_rand("{{rand:-9223372036854775808-9223372036854775807}}", INT64_MIN, INT64_MAX, 5000,
               false);
    check_rand("{{rand:-9223372036854775808--9223372036854775807}}", INT64_MIN, INT64_MIN + 1, 500,
               true);
    check_rand("{{rand:9223372036854775806-9223372036854775807}}", INT64_MAX - 1, INT64_MAX, 500,
               true);

    rng r;
    rng_seed_with(&r, 3);
    tmpl_vars v = {.rng = &r};
    expect_render("[{{rand:42-42}}]", &v, "[42]");
    expect_render("{{rand:-9223372036854775808--9223372036854775808}}", &v, "-9223372036854775808");
}

static void test_mixed(void **state) {
    rng r;
    rng_seed_with(&r, 11);
    tmpl_vars v = {
        .seq = 17, .conn = 3, .thread = 1, .now_wall_ns = 1500000000000000000LL, .rng = &r};
    expect_render("{\"id\":{{seq}},\"c\":{{conn}},\"t\":{{thread}},\"ts\":{{now_s}},\"n\":"
                  "{{rand:5-5}}}",
                  &v, "{\"id\":17,\"c\":3,\"t\":1,\"ts\":1500000000,\"n\":5}");
    /* Adjacent placeholders and placeholders at both ends. */
    expect_render("{{seq}}{{conn}}{{thread}}", &v, "1731");
    /* A third brace belongs to the literal after the placeholder. */
    expect_render("{\"a\":{{seq}}}", &v, "{\"a\":17}");
}

/* ---- tmpl_max_len -------------------------------------------------------------------------- */

static void test_max_len_values(void **state) {
    struct {
        const char *text;
        size_t max;
    } cases[] = {
        {"{{seq}}", 20},        {"{{uuid}}", 36},    {"{{rand:1-2}}", 20}, {"{{now_s}}", 20},
        {"{{now_ms}}", 20},     {"{{conn}}", 10},    {"{{thread}}", 10},   {"abc{{seq}}de", 25},
        {"{{seq}}{{seq}}", 40}, {"hello world", 11},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tmpl *t = compile_ok(cases[i].text);
        assert_int_equal(tmpl_max_len(t), cases[i].max);
        tmpl_free(t);
    }
}

/* Extreme values into exact-size heap buffers: the longest output of each placeholder fits. */
static void test_max_len_is_upper_bound(void **state) {
    rng r;
    rng_seed_with(&r, 77);
    const char *text = "<{{seq}}|{{uuid}}|{{rand:-9223372036854775808--9223372036854775808}}|"
                       "{{rand:-9223372036854775808-9223372036854775807}}|{{now_s}}|{{now_ms}}|"
                       "{{conn}}|{{thread}}>";
    tmpl *t = compile_ok(text);
    tmpl_vars v = {.seq = UINT64_MAX, .conn = UINT32_MAX, .thread = UINT32_MAX, .rng = &r};
    const int64_t times[] = {INT64_MIN, INT64_MIN + 1, -1, 0, 1700000000123456789LL, INT64_MAX};
    for (size_t k = 0; k < sizeof times / sizeof times[0]; k++) {
        v.now_wall_ns = times[k];
        for (int i = 0; i < 200; i++) {
            char *s = render(t, &v); /* asserts n <= max and ASan checks the writes */
            assert_true(strlen(s) <= tmpl_max_len(t));
            free(s);
        }
    }
    tmpl_free(t);
}

UNIT_MAIN(test_unknown_placeholder, test_unterminated_placeholder, test_bad_range,
          test_error_buffer_small_or_null, test_static, test_embedded_nul, test_seq,
          test_conn_thread, test_lifecycle_vars, test_time, test_uuid, test_rand, test_mixed,
          test_max_len_values, test_max_len_is_upper_bound)
