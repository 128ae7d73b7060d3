/* report_cmd.h — `brink report` (terminal, HTML and JUnit reports regenerated from result
 * documents) and `brink compare` (before/after regressions), and the loader they share: files
 * and directories of result documents, checked for the schema brink.result/1. */
#ifndef BRINK_REPORTCMD_H
#define BRINK_REPORTCMD_H

#include <jansson.h>
#include <stddef.h>

typedef struct report_docs {
    int n;
    char **names; /* the file of each document */
    json_t **docs;
} report_docs;

/* Loads each path: a file is one document, a directory every *.json in it (sorted, without
 * summary.json). Appends to out (zero it first). 0, or -1 with a one-line reason naming the
 * file (not found, not JSON, not a brink.result/1 document, an empty directory). */
int report_docs_load(const char *path, report_docs *out, char *err, size_t errlen);
void report_docs_free(report_docs *d);

/* argv[0] = "report" / "compare". Return the exit status; a one-line reason in err. */
int report_cmd_main(int argc, char **argv, char *err, size_t errlen);
int report_cmd_compare_main(int argc, char **argv, char *err, size_t errlen);

#endif
