/* fuzz_merge.c — `brink merge` (src/report/merge.c: merge_docs) on segment documents that are
 * arbitrary JSON: the checks that the documents belong together, the HdrHistogram decoding and
 * merging of their latency and per-second histograms, the timeline alignment, the capacity steps,
 * the verdicts judged again; a merged document is then rendered as `brink merge --html` would.
 * Checked: no crash, no leak, a refusal says why, and a merged document is brink.result/1.
 *
 * Input: up to four documents separated by lines "%%" (segments 1..n in any order). */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "report/html.h"
#include "report/merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *part[4];
    size_t plen[4];
    int n = fuzz_split(data, size, part, plen, 4);
    json_t *docs[4];
    const char *names[4] = {"seg1.json", "seg2.json", "seg3.json", "seg4.json"};
    int nd = 0;
    for (int i = 0; i < n; i++) {
        json_t *d = json_loadb(part[i], plen[i], JSON_REJECT_DUPLICATES, NULL);
        if (d) docs[nd++] = d;
    }
    fuzz_free_parts(part, n);
    if (nd == 0) return 0;
    merge_verdicts v;
    char err[1024] = "";
    json_t *m = merge_docs(docs, names, nd, &v, err, sizeof err);
    if (!m) {
        if (!err[0]) { /* (a line break in a quote is main.c's to escape: err_escape) */
            fprintf(stderr, "fuzz_merge: a refusal without a reason\n");
            abort();
        }
    } else {
        const char *schema = json_string_value(json_object_get(m, "schema"));
        if (!schema || strcmp(schema, "brink.result/1")) abort();
        free(json_dumps(m, JSON_COMPACT));
        if (html_write(fuzz_devnull(), &m, names, 1, err, sizeof err) < 0 && !err[0]) abort();
        json_decref(m);
    }
    for (int i = 0; i < nd; i++) json_decref(docs[i]);
    return 0;
}
