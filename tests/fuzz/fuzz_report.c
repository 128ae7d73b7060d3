/* fuzz_report.c — the readers of result documents behind `brink report` and `brink compare`
 * (src/report/: report_cmd.c's loader and terminal verdicts, html.c with its SVG charts, junit.c,
 * compare.c), on documents that are arbitrary bytes: a brink.result/1 document can come from
 * another machine or another version. Checked: no crash, no leak, a refusal says why.
 *
 * Input: one document, or two separated by a line "%%" (before and after for compare; the
 * report takes both). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "report/compare.h"
#include "report/html.h"
#include "report/junit.h"
#include "report/report_cmd.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_quiet_stdout();
    return 0;
}

/* A refusal says why. (Its quote of the input, jansson's "near '...'", may hold a line break:
 * main.c prints every error through err_escape, which keeps it on one line.) */
static void reason(const char *err) {
    if (!err[0]) {
        fprintf(stderr, "fuzz_report: a refusal without a reason\n");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *part[2];
    size_t plen[2];
    int n = fuzz_split(data, size, part, plen, 2);
    char a[512], b[512], err[1024] = "";
    fuzz_write("a.json", (const uint8_t *)part[0], plen[0], a, sizeof a);
    fuzz_write("b.json", (const uint8_t *)part[n - 1], plen[n - 1], b, sizeof b);
    fuzz_free_parts(part, n);

    /* brink report a.json [b.json]: the terminal's verdicts (stdout is /dev/null) */
    char *argv[] = {"report", a, b, NULL};
    int rc = report_cmd_main(n == 2 ? 3 : 2, argv, err, sizeof err);
    if (rc != 0) reason(err);

    report_docs before = {0}, after = {0};
    if (report_docs_load(a, &before, err, sizeof err) < 0) {
        reason(err);
    } else {
        FILE *out = fuzz_devnull();
        if (html_write(out, before.docs, (const char *const *)before.names, before.n, err,
                       sizeof err) < 0)
            reason(err);
        if (junit_write(out, before.docs, before.n, err, sizeof err) < 0) reason(err);
        if (report_docs_load(b, &after, err, sizeof err) == 0) {
            compare_result r;
            if (compare_sets(before.docs, (const char *const *)before.names, before.n, after.docs,
                             (const char *const *)after.names, after.n, 0.1, true, &r, err,
                             sizeof err) == 0) {
                compare_print(out, &r);
                json_t *j = compare_json(&r);
                free(json_dumps(j, 0));
                json_decref(j);
                compare_free(&r);
            } else {
                reason(err);
            }
        }
    }
    report_docs_free(&before);
    report_docs_free(&after);
    return 0;
}
