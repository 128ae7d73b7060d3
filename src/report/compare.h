/* compare.h — `brink compare`: the headline numbers (.stats) of two sets of result documents,
 * side by side, with the ratio and whether each moved the wrong way by more than a tolerance.
 * Which way is wrong comes from the threshold table (the document's .thresholds, else the
 * defaults of verdict/threshold.h): an "above" metric (latency, errors) regresses when it grows, a
 * "below" metric (rates) when it shrinks. Metrics without a threshold are shown, never flagged. */
#ifndef BRINK_COMPARE_H
#define BRINK_COMPARE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

typedef enum compare_dir {
    COMPARE_UNKNOWN,
    COMPARE_ABOVE, /* higher is worse */
    COMPARE_BELOW, /* lower is worse */
} compare_dir;

typedef struct compare_row {
    char metric[160]; /* the .stats key; "MODE/key" for a run inside an "all" document */
    double before, after;
    double ratio; /* after / before; NaN when before is 0 */
    compare_dir dir;
    bool regression;
} compare_row;

typedef struct compare_pair {
    char key[160]; /* the test, and its mode when it has one: "redis-failure/down" */
    const char *before_name, *after_name;
    compare_row *rows;
    int nrows, regressions;
    char differs[400]; /* why the two runs are not comparable ("" when they are) */
} compare_pair;

typedef struct compare_result {
    double tolerance;
    compare_pair *pairs;
    int npairs, regressions;
    const char **only_before, **only_after; /* names of documents without a partner */
    int nonly_before, nonly_after;
} compare_result;

/* True when moving from before to after in direction dir is worse by more than tolerance (a
 * fraction: 0.1 = 10% of before). Unknown directions and non-finite values never regress. */
bool compare_is_regression(compare_dir dir, double before, double after, double tolerance);
/* The direction of a metric for a document: from its .thresholds, else the default table
 * (by the document's test, then any test whose metric of that name agrees on a direction). */
compare_dir compare_direction(const json_t *doc, const char *metric);
/* The key documents are matched by: test, or "test/mode". */
void compare_doc_key(const json_t *doc, char *out, size_t outlen);

/* What makes two runs of one test not comparable, in words ("" when nothing does): another
 * profile, offered rate or configured duration (beyond 1 %), an interrupted run, another brink
 * version (when both documents say theirs). */
void compare_differences(const json_t *before, const json_t *after, char *out, size_t outlen);
/* Compares two sets of documents (names label them in the output): pairs by key, then, where a
 * key is not unique, by name. 0, or -1 with a reason when nothing pairs up, or when a pair is not
 * comparable (compare_differences) and force is false. */
int compare_sets(json_t *const *before, const char *const *bnames, int nb, json_t *const *after,
                 const char *const *anames, int na, double tolerance, bool force,
                 compare_result *out, char *err, size_t errlen);
void compare_free(compare_result *r);

json_t *compare_json(const compare_result *r);
void compare_print(FILE *out, const compare_result *r);

#endif
