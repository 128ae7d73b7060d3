/* err.h — the error-message convention of library code (see DESIGN.md, Conventions: library code
 * returns a status and fills a one-line message; only main.c prints and exits). Every function
 * that can fail takes (char *err, size_t errlen) and fills it with err_set. */
#ifndef BRINK_ERR_H
#define BRINK_ERR_H

#include <stddef.h>

/* printf-style message into err (errlen bytes, truncated, always NUL-terminated); does nothing
 * when err is NULL or errlen is 0, so that callers may pass NULL, 0 to ignore the message. */
void err_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A message as it may be printed: s copied into out (outlen bytes, always NUL-terminated, never
 * cut inside an escape) with every control character escaped — \r, \n, \t, the others (and DEL,
 * and UTF-8's C1 controls) as \xNN — so that a user's value quoted into an error can neither
 * break its one line nor drive the terminal. main.c prints every command's error through it. */
void err_escape(const char *s, char *out, size_t outlen);

#endif
