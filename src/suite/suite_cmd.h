/* suite_cmd.h — `brink suite quick|full|stress`: brink's tests one after another, each in a child
 * process of the same binary, with their result documents, summary.json, junit.xml and
 * report.html in performance-results/<UTC timestamp>/ (and a `latest` link). See docs/suite.md. */
#ifndef BRINK_SUITECMD_H
#define BRINK_SUITECMD_H

#include <stddef.h>

/* Runs `brink suite` with argv[0] = "suite". Returns the exit status (0 nothing red, 99 something
 * red, 2 bad usage or a test's bad configuration, 3 a stack or target could not be started or
 * reached, 1 a test failed otherwise or a file could not be written, 130 interrupted); a one-line
 * reason in err unless the status is 0 or 99. */
int suite_cmd_main(int argc, char **argv, char *err, size_t errlen);

#endif
