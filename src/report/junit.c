/* junit.c — the verdicts of result documents as JUnit XML, the format every CI system displays
 * (testsuites / testsuite / testcase / failure / skipped / system-out). A threshold is a test
 * case: red fails it, with the value against the red bound and the document's evidence and
 * remedy in the failure message, so that the CI page alone says what broke and what to do;
 * skipped (not measured) is <skipped/>; orange passes but says so in <system-out>. Reads only
 * the documents (.test, .mode, .started_at, .duration_s, .target, .profile, .thresholds,
 * .advice); every string from them is escaped, as they carry user input. */
#include "report/junit.h"
#include "verdict/threshold.h"

#include <math.h>
#include <string.h>

#include "core/err.h"
#include "core/json.h"
#include "report/xml.h"

static const char *test_name(const json_t *doc) {
    const char *t = jx_str(doc, "test");
    return t[0] ? t : "unknown";
}

void junit_count(const json_t *doc, junit_counts *c) {
    memset(c, 0, sizeof *c);
    double d = jx_num(doc, "duration_s");
    c->time_s = isfinite(d) && d > 0 ? d : 0;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(doc, "thresholds"), i, t) {
        const char *st = jx_str(t, "status");
        c->tests++;
        if (!strcmp(st, "red"))
            c->failures++;
        else if (!strcmp(st, "skipped"))
            c->skipped++;
        else if (strcmp(st, "green") && strcmp(st, "orange"))
            c->errors++;
    }
}

/* The advice entry of a threshold: same metric, and the same mode when the threshold has one. */
static const json_t *advice_for(const json_t *doc, const json_t *th) {
    const char *metric = jx_str(th, "metric"), *mode = jx_str(th, "mode");
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(doc, "advice"), i, a) {
        if (strcmp(jx_str(a, "metric"), metric)) continue;
        if (mode[0] && strcmp(jx_str(a, "mode"), mode)) continue;
        return a;
    }
    return NULL;
}

/* "p99_ms = 812 ms; red > 500 ms, orange > 250 ms" */
static void verdict_text(const json_t *th, char *out, size_t n) {
    const char *unit = jx_str(th, "unit");
    char v[48], o[48], r[48];
    threshold_format_value(v, sizeof v, jx_num(th, "value"), unit, "-");
    threshold_format_value(o, sizeof o, jx_num(th, "orange"), unit, "-");
    threshold_format_value(r, sizeof r, jx_num(th, "red"), unit, "-");
    const char *dir = jx_str(th, "direction");
    const char *cmp = !strcmp(dir, "below") ? "<" : !strcmp(dir, "above") ? ">" : "past";
    snprintf(out, n, "%s = %s; red %s %s, orange %s %s", jx_str(th, "metric"), v, cmp, r, cmp, o);
}

static void write_case(FILE *out, const json_t *doc, const json_t *th) {
    const char *status = jx_str(th, "status"), *mode = jx_str(th, "mode");
    const json_t *adv = advice_for(doc, th);
    char verdict[256];
    verdict_text(th, verdict, sizeof verdict);
    report_xml_wrap(out, "    <testcase classname=\"brink.", test_name(doc), "\" name=\"",
                    REPORT_XML_JUNIT);
    report_xml_escape(out, jx_str(th, "metric"), REPORT_XML_JUNIT);
    if (mode[0]) {
        report_xml_wrap(out, " (", mode, ")", REPORT_XML_JUNIT);
    }
    fputs("\" time=\"0\">\n", out);
    if (!strcmp(status, "red")) {
        fputs("      <failure type=\"red\" message=\"", out);
        report_xml_escape(out, verdict, REPORT_XML_JUNIT);
        if (adv && jx_str(adv, "evidence")[0]) {
            fputs(". Evidence: ", out);
            report_xml_escape(out, jx_str(adv, "evidence"), REPORT_XML_JUNIT);
        }
        if (adv && jx_str(adv, "remedy")[0]) {
            fputs(". Remedy: ", out);
            report_xml_escape(out, jx_str(adv, "remedy"), REPORT_XML_JUNIT);
        }
        fputs("\">", out);
        report_xml_escape(out, verdict, REPORT_XML_JUNIT);
        if (adv) {
            report_xml_wrap(out, "&#10;evidence: ", jx_str(adv, "evidence"),
                            "&#10;remedy: ", REPORT_XML_JUNIT);
            report_xml_escape(out, jx_str(adv, "remedy"), REPORT_XML_JUNIT);
        }
        fputs("</failure>\n", out);
    } else if (!strcmp(status, "skipped")) {
        report_xml_wrap(out, "      <skipped message=\"not measured: ", verdict, "\"/>\n",
                        REPORT_XML_JUNIT);
    } else if (strcmp(status, "green") && strcmp(status, "orange")) {
        report_xml_wrap(out, "      <error type=\"status\" message=\"unknown threshold status '",
                        status, "'\"/>\n", REPORT_XML_JUNIT);
    } else {
        report_xml_wrap(out, "      <system-out>", status, ": ", REPORT_XML_JUNIT);
        report_xml_escape(out, verdict, REPORT_XML_JUNIT);
        if (adv && !strcmp(status, "orange")) {
            report_xml_wrap(out, "&#10;evidence: ", jx_str(adv, "evidence"),
                            "&#10;remedy: ", REPORT_XML_JUNIT);
            report_xml_escape(out, jx_str(adv, "remedy"), REPORT_XML_JUNIT);
        }
        fputs("</system-out>\n", out);
    }
    fputs("    </testcase>\n", out);
}

static void property(FILE *out, const char *name, const char *value) {
    if (!value || !value[0]) return;
    fprintf(out, "      <property name=\"%s\" value=\"", name);
    report_xml_escape(out, value, REPORT_XML_JUNIT);
    fputs("\"/>\n", out);
}

static void write_suite(FILE *out, const json_t *doc, int index) {
    junit_counts c;
    junit_count(doc, &c);
    const char *mode = jx_str(doc, "mode"), *when = jx_str(doc, "started_at");
    fputs("  <testsuite name=\"", out);
    report_xml_escape(out, test_name(doc), REPORT_XML_JUNIT);
    if (mode[0]) {
        report_xml_wrap(out, " (", mode, ")", REPORT_XML_JUNIT);
    }
    fprintf(out,
            "\" id=\"%d\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" "
            "time=\"%.3f\"",
            index, c.tests, c.failures, c.errors, c.skipped, c.time_s);
    /* JUnit's timestamp is an ISO 8601 date-time without a zone: the first 19 characters */
    if (strlen(when) >= 19) {
        char ts[20];
        memcpy(ts, when, 19);
        ts[19] = '\0';
        report_xml_wrap(out, " timestamp=\"", ts, "\"", REPORT_XML_JUNIT);
    }
    fputs(">\n    <properties>\n", out);
    property(out, "target", jx_str(doc, "target"));
    property(out, "profile", jx_str(doc, "profile"));
    property(out, "mode", mode);
    property(out, "started_at", when);
    property(out, "schema", jx_str(doc, "schema"));
    fputs("    </properties>\n", out);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(doc, "thresholds"), i, t) {
        if (json_is_object(t)) write_case(out, doc, t);
    }
    fputs("  </testsuite>\n", out);
}

int junit_write(FILE *out, json_t *const *docs, int n, char *err, size_t errlen) {
    junit_counts total = {0};
    for (int i = 0; i < n; i++) {
        junit_counts c;
        junit_count(docs[i], &c);
        total.tests += c.tests;
        total.failures += c.failures;
        total.errors += c.errors;
        total.skipped += c.skipped;
        total.time_s += c.time_s;
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    fprintf(out,
            "<testsuites name=\"brink\" tests=\"%d\" failures=\"%d\" errors=\"%d\" "
            "skipped=\"%d\" time=\"%.3f\">\n",
            total.tests, total.failures, total.errors, total.skipped, total.time_s);
    for (int i = 0; i < n; i++) write_suite(out, docs[i], i);
    fputs("</testsuites>\n", out);
    if (ferror(out)) {
        err_set(err, errlen, "cannot write the JUnit XML");
        return -1;
    }
    return 0;
}
