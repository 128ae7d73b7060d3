/* err.c — err_set, the one helper behind every library error message (see err.h): the modules
 * of src/ return a status and describe the failure in their caller's buffer with it; err_escape,
 * through which main.c prints them (a value quoted into a message is shown, never obeyed). */
#include "core/err.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void err_set(char *err, size_t errlen, const char *fmt, ...) {
    if (err == NULL || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void err_escape(const char *s, char *out, size_t outlen) {
    if (!out || !outlen) return;
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[9];
        bool c1 = p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f; /* U+0080..U+009F */
        if (*p == '\r' || *p == '\n' || *p == '\t')
            snprintf(esc, sizeof esc, "\\%c", *p == '\r' ? 'r' : *p == '\n' ? 'n' : 't');
        else if (*p < 0x20 || *p == 0x7f)
            snprintf(esc, sizeof esc, "\\x%02x", *p);
        else if (c1)
            snprintf(esc, sizeof esc, "\\xc2\\x%02x", *++p);
        else
            snprintf(esc, sizeof esc, "%c", *p);
        size_t n = strlen(esc);
        if (o + n >= outlen) break;
        memcpy(out + o, esc, n);
        o += n;
    }
    out[o] = '\0';
}
