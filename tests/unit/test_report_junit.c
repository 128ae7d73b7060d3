/* test_report_junit.c — JUnit XML: escaping of every special and control character (and the
 * HTML flavour of the same escape), the counts (tests, failures, skipped) of real result
 * documents, the failure message carrying value, bound, evidence and remedy, and well-formedness
 * of the whole file, checked by a small XML scanner (tags balanced, attributes quoted, only known
 * entities, no raw '<' or '&' in text). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/junit.h"
#include "report/xml.h"

#include "unit.h"

#define FIXTURES "tests/integration/fixtures/"

static char *capture_escape(const char *s, unsigned flags) {
    unit_mem m;
    report_xml_escape(unit_mem_open(&m), s, flags);
    return unit_mem_close(&m);
}

static char *capture_junit(json_t **docs, int n) {
    unit_mem m;
    char err[256];
    assert_int_equal(junit_write(unit_mem_open(&m), docs, n, err, sizeof err), 0);
    return unit_mem_close(&m);
}

/* ---- a small XML well-formedness scanner --------------------------------------------------- */

static bool valid_entity(const char **pp) {
    const char *p = *pp; /* at '&' */
    static const char *const ents[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;", NULL};
    for (int i = 0; ents[i]; i++)
        if (!strncmp(p, ents[i], strlen(ents[i]))) {
            *pp = p + strlen(ents[i]);
            return true;
        }
    if (p[1] == '#') {
        const char *q = p + 2;
        while (isdigit((unsigned char)*q)) q++;
        if (q > p + 2 && *q == ';') {
            *pp = q + 1;
            return true;
        }
    }
    return false;
}

/* Returns NULL when well-formed, else a static reason. */
static const char *xml_check(const char *s) {
    char stack[32][64];
    int depth = 0, roots = 0;
    const char *p = s;
    if (!strncmp(p, "<?xml", 5)) {
        p = strstr(p, "?>");
        if (!p) return "unterminated declaration";
        p += 2;
    }
    while (*p) {
        if (*p == '&') {
            if (!valid_entity(&p)) return "bad entity in text";
            continue;
        }
        if (*p == '>') return "raw > outside a tag";
        if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r')
            return "control character in text";
        if (*p != '<') {
            if (!depth && !isspace((unsigned char)*p)) return "text outside the root";
            p++;
            continue;
        }
        p++;
        bool closing = *p == '/';
        if (closing) p++;
        char name[64];
        int n = 0;
        while (isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == ':')
            if (n < 63)
                name[n++] = *p++;
            else
                return "long name";
        name[n] = '\0';
        if (!n) return "tag without a name";
        /* attributes */
        for (;;) {
            while (isspace((unsigned char)*p)) p++;
            if (*p == '>' || (*p == '/' && p[1] == '>')) break;
            if (closing) return "attribute on a closing tag";
            if (!isalpha((unsigned char)*p)) return "bad attribute name";
            while (isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == ':') p++;
            if (*p++ != '=') return "attribute without =";
            if (*p != '"' && *p != '\'') return "unquoted attribute";
            char q = *p++;
            while (*p && *p != q) {
                if (*p == '<') return "raw < in an attribute";
                if (*p == '&') {
                    if (!valid_entity(&p)) return "bad entity in an attribute";
                    continue;
                }
                if ((unsigned char)*p < 0x20) return "control character in an attribute";
                p++;
            }
            if (!*p) return "unterminated attribute";
            p++;
        }
        bool empty = *p == '/';
        p += empty ? 2 : 1;
        if (closing) {
            if (!depth || strcmp(stack[depth - 1], name)) return "mismatched closing tag";
            depth--;
        } else if (!empty) {
            if (depth == 0) roots++;
            if (depth == 32) return "too deep";
            snprintf(stack[depth++], 64, "%s", name);
        } else if (depth == 0) {
            roots++;
        }
    }
    if (depth) return "unclosed element";
    if (roots != 1) return "not exactly one root element";
    return NULL;
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_escape(void **state) {
    char *e = capture_escape("a<b>&\"c'\t\n\r\x01z", REPORT_XML_JUNIT);
    assert_string_equal(e, "a&lt;b&gt;&amp;&quot;c&apos;&#9;&#10;&#13;?z");
    free(e);
    /* the HTML page and its charts: &#39; (HTML 4 has no &apos;), control characters as spaces */
    e = capture_escape("a<b>&\"c'\t\n\r\x01\x7fz", REPORT_XML_HTML);
    assert_string_equal(e, "a&lt;b&gt;&amp;&quot;c&#39;     z");
    free(e);
    e = capture_escape(NULL, REPORT_XML_JUNIT);
    assert_string_equal(e, "");
    free(e);
    e = capture_escape("</script><img src=x onerror=alert(1)>", REPORT_XML_JUNIT);
    assert_null(strchr(e, '<'));
    assert_null(strchr(e, '>'));
    assert_null(xml_check("<r>x</r>")); /* the scanner itself */
    assert_non_null(xml_check("<r>a<b</r>"));
    assert_non_null(xml_check("<r a=b/>"));
    assert_non_null(xml_check("<r>&bogus;</r>"));
    assert_non_null(xml_check("<r><s></r></s>"));
    free(e);
    e = capture_escape("ünïcødé ✓", REPORT_XML_JUNIT); /* UTF-8 passes through */
    assert_string_equal(e, "ünïcødé ✓");
    free(e);
}

static void test_counts_fixture(void **state) {
    json_t *d = unit_load_json(FIXTURES "race-untuned.json");
    junit_counts c;
    junit_count(d, &c);
    assert_int_equal(c.tests, 6);
    assert_int_equal(c.failures, 3);
    assert_int_equal(c.skipped, 0);
    assert_int_equal(c.errors, 0);
    char *x = capture_junit(&d, 1);
    const char *why = xml_check(x);
    if (why) fail_msg("not well-formed: %s", why);
    assert_non_null(strstr(x, "<testsuites name=\"brink\" tests=\"6\" failures=\"3\" errors=\"0\" "
                              "skipped=\"0\""));
    assert_non_null(strstr(x, "<testsuite name=\"race\""));
    assert_int_equal(unit_count(x, "<testcase "), 6);
    assert_int_equal(unit_count(x, "<failure "), 3);
    assert_int_equal(unit_count(x, "classname=\"brink.race\""), 6);
    assert_non_null(strstr(x, "name=\"race_conditions\""));
    /* the failure message: value vs bound, evidence and remedy */
    const char *f = strstr(x, "<failure type=\"red\" message=\"race_conditions = 50; red &gt; 0");
    assert_non_null(f);
    assert_non_null(strstr(f, "Evidence: 50 of 50 orders: double_win 50"));
    assert_non_null(strstr(f, "Remedy: accept with one atomic conditional UPDATE"));
    free(x);
    json_decref(d);
}

static void test_hostile_and_many(void **state) {
    json_t *docs[3] = {unit_load_json(FIXTURES "hostile.json"),
                       unit_load_json(FIXTURES "race.json"), unit_load_json(FIXTURES "load.json")};
    char *x = capture_junit(docs, 3);
    const char *why = xml_check(x);
    if (why) fail_msg("not well-formed: %s\n%s", why, x);
    /* hostile: 5 thresholds, 2 red, 1 orange, 1 skipped; race: 6 green; load: none */
    assert_non_null(strstr(x, "<testsuites name=\"brink\" tests=\"11\" failures=\"2\" errors=\"0\" "
                              "skipped=\"1\""));
    assert_int_equal(unit_count(x, "<testsuite "), 3);
    assert_int_equal(unit_count(x, "<skipped "), 1);
    assert_int_equal(unit_count(x, "<system-out>orange: p999_ms"), 1);
    assert_null(strstr(x, "<script"));
    assert_null(strstr(x, "<img"));
    assert_non_null(strstr(x, "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert_non_null(strstr(x, "<testsuite name=\"load\" id=\"2\" tests=\"0\" failures=\"0\""));
    free(x);
    for (int i = 0; i < 3; i++) json_decref(docs[i]);
}

static void test_unknown_status_is_error(void **state) {
    json_t *d =
        json_pack("{s:s, s:s, s:[{s:s, s:s, s:f}], s:[]}", "schema", "brink.result/1", "test", "x",
                  "thresholds", "metric", "m", "status", "purple", "value", 1.0, "advice");
    junit_counts c;
    junit_count(d, &c);
    assert_int_equal(c.tests, 1);
    assert_int_equal(c.errors, 1);
    char *x = capture_junit(&d, 1);
    assert_null(xml_check(x));
    assert_non_null(strstr(x, "<error type=\"status\""));
    free(x);
    json_decref(d);
}

UNIT_MAIN(test_escape, test_counts_fixture, test_hostile_and_many, test_unknown_status_is_error)
