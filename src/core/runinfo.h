/* runinfo.h — what every result document says about the run that wrote it, so that a result read
 * months later (brink compare, a CI artifact) tells which brink, which command and which machine:
 * .brink_version, .command (the command line, with URL passwords and secret-looking header values
 * as ***) and .host (name, cores, kernel, machine). main() records argv once; the JSON writer
 * stamps every brink.result/1 document it writes. */
#ifndef BRINK_RUNINFO_H
#define BRINK_RUNINFO_H

#include <jansson.h>
#include <stddef.h>

/* Records the command line (argv[0] is shown as "brink"). */
void runinfo_set_argv(int argc, char **argv);
/* The recorded command line, redacted; "" before runinfo_set_argv. */
const char *runinfo_command(void);
/* One argument as the command line shows it: prev is the argument before it (or NULL). */
void runinfo_redact(const char *arg, const char *prev, char *out, size_t outlen);
/* A shallow copy of doc with .brink_version, .command and .host added where missing (new
 * reference); doc itself (a new reference to it) when it is not a brink.result/1 document. */
json_t *runinfo_stamped(const json_t *doc);

#endif
