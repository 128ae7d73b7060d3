/* loadcmd.h — `brink load`: command-line front end of the load engine. */
#ifndef BRINK_LOADCMD_H
#define BRINK_LOADCMD_H

#include <stddef.h>

/* Exit statuses shared by every command (k6's convention for thresholds). */
enum {
    EXIT_OK = 0,
    EXIT_FAILURE_ = 1,
    EXIT_USAGE = 2,
    EXIT_UNREACHABLE = 3,
    EXIT_THRESHOLDS = 99,
    EXIT_INTERRUPTED = 130,
};

/* Runs `brink load` with argv[0] = "load". Returns the exit status; for EXIT_USAGE (and other
 * failures before any traffic) a one-line reason is in err. */
int loadcmd_main(int argc, char **argv, char *err, size_t errlen);
void loadcmd_usage(void);

/* Reads a secret from the environment variable or file (exactly one non-NULL); malloc'd, trailing
 * newlines trimmed. NULL with a reason in err (which never contains the secret). */
char *loadcmd_read_secret(const char *env, const char *file, size_t *len, char *err, size_t errlen);

#endif
