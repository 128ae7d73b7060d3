/* err.h — the error-message convention of library code (see DESIGN.md, Conventions: library code
 * returns a status and fills a one-line message; only main.c prints and exits). Every function
 * that can fail takes (char *err, size_t errlen) and fills it with err_set. */
#ifndef BRINK_ERR_H
#define BRINK_ERR_H

#include <stddef.h>

/* printf-style message into err (errlen bytes, truncated, always NUL-terminated); does nothing
 * when err is NULL or errlen is 0, so that callers may pass NULL, 0 to ignore the message. */
void err_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
