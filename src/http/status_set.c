/* status_set.c — sets of HTTP statuses as configuration writes them (status_set.h). */
#include "http/status_set.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

int status_set_add(status_set *s, int lo, int hi) {
    if (lo < 100 || hi > 599 || lo > hi || s->n == STATUS_SET_RANGES) return -1;
    s->lo[s->n] = lo;
    s->hi[s->n] = hi;
    s->n++;
    return 0;
}

/* One item: "2xx", "409", "200-204". */
static int parse_item(const char *s, size_t len, int *lo, int *hi) {
    if (len == 3 && s[0] >= '1' && s[0] <= '5' && (s[1] == 'x' || s[1] == 'X') &&
        (s[2] == 'x' || s[2] == 'X')) {
        *lo = (s[0] - '0') * 100;
        *hi = *lo + 99;
        return 0;
    }
    char buf[16];
    if (len == 0 || len >= sizeof buf) return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    long a = strtol(buf, &end, 10), b = a;
    if (end == buf || !isdigit((unsigned char)buf[0])) return -1;
    if (*end == '-') {
        char *e2;
        if (!isdigit((unsigned char)end[1])) return -1;
        b = strtol(end + 1, &e2, 10);
        end = e2;
    }
    if (*end || a < 100 || b > 599 || a > b) return -1;
    *lo = (int)a;
    *hi = (int)b;
    return 0;
}

int status_set_parse(const char *text, status_set *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    const char *p = text;
    for (;;) {
        while (*p == ' ') p++;
        size_t len = strcspn(p, ",");
        size_t trim = len;
        while (trim && p[trim - 1] == ' ') trim--;
        int lo, hi;
        if (parse_item(p, trim, &lo, &hi) < 0) {
            err_set(err, errlen,
                    "invalid status class '%.*s' (want a code like 409, a range like 200-204 or a "
                    "class like 2xx)",
                    (int)trim, p);
            return -1;
        }
        if (status_set_add(out, lo, hi) < 0) {
            err_set(err, errlen, "too many status classes (at most %d)", STATUS_SET_RANGES);
            return -1;
        }
        if (!p[len]) break;
        p += len + 1;
    }
    return 0;
}

bool status_set_has(const status_set *s, int status) {
    for (int i = 0; i < s->n; i++)
        if (status >= s->lo[i] && status <= s->hi[i]) return true;
    return false;
}

void status_set_format(const status_set *s, char *out, size_t outlen) {
    size_t off = 0;
    if (outlen) out[0] = '\0';
    for (int i = 0; i < s->n && off < outlen; i++) {
        const char *sep = i ? "," : "";
        int n;
        if (s->lo[i] % 100 == 0 && s->hi[i] == s->lo[i] + 99)
            n = snprintf(out + off, outlen - off, "%s%dxx", sep, s->lo[i] / 100);
        else if (s->lo[i] == s->hi[i])
            n = snprintf(out + off, outlen - off, "%s%d", sep, s->lo[i]);
        else
            n = snprintf(out + off, outlen - off, "%s%d-%d", sep, s->lo[i], s->hi[i]);
        if (n < 0) break;
        off += (size_t)n;
    }
}
