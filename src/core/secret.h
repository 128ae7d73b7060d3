/* secret.h — reading a secret (webhook signing key, password) from an environment variable or a
 * file: never from a command-line value, and never echoed in an error message. */
#ifndef BRINK_SECRET_H
#define BRINK_SECRET_H

#include <stddef.h>

/* Reads a secret from the environment variable or file (exactly one non-NULL); malloc'd, trailing
 * newlines and blanks trimmed. NULL with a reason in err (which never contains the secret). */
char *secret_read(const char *env, const char *file, size_t *len, char *err, size_t errlen);

#endif
