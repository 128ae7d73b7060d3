/* err.c — err_set, the one helper behind every library error message (see err.h): the modules
 * of src/ return a status and describe the failure in their caller's buffer with it. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>

void err_set(char *err, size_t errlen, const char *fmt, ...) {
    if (err == NULL || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
