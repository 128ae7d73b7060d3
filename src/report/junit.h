/* junit.h — JUnit XML from result documents, for CI systems: one <testsuite> per document
 * (name = its test), one <testcase> per threshold (classname brink.<test>, name = the metric); a
 * red verdict is a <failure> whose message holds the value, the bound, the evidence and the
 * remedy; a skipped one is <skipped/>; green and orange pass, with the verdict in <system-out>. */
#ifndef BRINK_JUNIT_H
#define BRINK_JUNIT_H

#include <jansson.h>
#include <stdio.h>

typedef struct junit_counts {
    int tests, failures, errors, skipped;
    double time_s;
} junit_counts;

/* The counts one document contributes (its thresholds by status). */
void junit_count(const json_t *doc, junit_counts *c);
/* Writes the whole XML file for docs[0..n). 0, or -1 with a one-line reason (write error). */
int junit_write(FILE *out, json_t *const *docs, int n, char *err, size_t errlen);

#endif
