/* merge.h — `brink merge`: the result documents of the n segments of one scaled-out test
 * (load/segment.h: --segment i/n on n machines) added up into one result document, exactly:
 * latency histograms merged from their HdrHistogram encodings, counts summed, rates over the
 * aligned window, timelines aligned by wall-clock second, and the verdicts judged again on the
 * merged numbers by the threshold table. The merged document is an ordinary brink.result/1
 * document (.config.merged_from lists its parts) that `brink report` and `brink compare` read.
 * See docs/distributed.md. */
#ifndef BRINK_MERGE_H
#define BRINK_MERGE_H

#include <jansson.h>
#include <stddef.h>

#include "verdict/threshold.h"

#define MERGE_MAX_VERDICTS 64

/* The verdicts of a merged document, for the terminal (strings point into the document). */
typedef struct merge_verdicts {
    th_result r[MERGE_MAX_VERDICTS];
    int n;
} merge_verdicts;

/* Merges docs[0..n) — the segments 1..N of one test, in any order; names[i] labels docs[i] in
 * messages and in .config.merged_from. Returns a new document, with its verdicts in *v (may be
 * NULL), or NULL with one line naming the file and what stops the merge: a document that is
 * not a segment, segments of different tests, targets or settings, a segment given twice or
 * missing, a test brink merge does not merge, a missing or broken histogram. */
json_t *merge_docs(json_t *const *docs, const char *const *names, int n, merge_verdicts *v,
                   char *err, size_t errlen);

/* `brink merge FILE|DIR... [--json OUT] [--html OUT] [--junit OUT]` (argv[0] = "merge"). Returns
 * the exit status (0; 99 when a merged verdict is red; 2 bad usage or documents that cannot be
 * merged; 1 an output could not be written), a one-line reason in err. */
int merge_main(int argc, char **argv, char *err, size_t errlen);

#endif
