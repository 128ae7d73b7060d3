/* secret.c — secrets from an environment variable or a file (see secret.h). The file is read
 * whole (at most 64 KiB); error messages name the variable or the path, never the value. */
#include "core/secret.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *secret_read(const char *env, const char *file, size_t *len, char *err, size_t errlen) {
    char *s = NULL;
    if (env) {
        const char *v = getenv(env);
        if (!v || !*v) {
            snprintf(err, errlen, "secret: environment variable %s is not set or empty", env);
            return NULL;
        }
        s = strdup(v);
    } else {
        FILE *f = fopen(file, "rb");
        if (!f) {
            snprintf(err, errlen, "secret: cannot read %s: %s", file, strerror(errno));
            return NULL;
        }
        s = malloc(65537);
        size_t n = s ? fread(s, 1, 65536, f) : 0;
        bool bad = ferror(f) || !feof(f);
        fclose(f);
        if (!s || bad) {
            free(s);
            snprintf(err, errlen, "secret: %s is unreadable or larger than 64 KiB", file);
            return NULL;
        }
        s[n] = '\0';
    }
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    if (!n) {
        free(s);
        snprintf(err, errlen, "secret: %s is empty", env ? env : file);
        return NULL;
    }
    *len = n;
    return s;
}
