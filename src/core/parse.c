/* parse.c — strict value parsers shared by the CLI and the config loader. Strict means: the whole
 * string must be consumed, numbers must be in range, and the error names the bad value. */
#include "core/parse.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"

int parse_duration_ns(const char *s, int64_t *out, char *err, size_t errlen) {
    if (!s || !*s) {
        snprintf(err, errlen, "empty duration (want e.g. 500ms, 10s, 2m, 1h)");
        return -1;
    }
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0) goto bad;
    double mult;
    if (!*end || !strcmp(end, "s"))
        mult = (double)NS_PER_S;
    else if (!strcmp(end, "ms"))
        mult = (double)NS_PER_MS;
    else if (!strcmp(end, "us"))
        mult = (double)NS_PER_US;
    else if (!strcmp(end, "m"))
        mult = 60.0 * NS_PER_S;
    else if (!strcmp(end, "h"))
        mult = 3600.0 * NS_PER_S;
    else
        goto bad;
    double ns = v * mult;
    if (ns > 9.0e18) goto bad;
    /* round, not truncate: 1.001 * 1e9 is 1000999999.9999999 in binary floating point */
    *out = (int64_t)(ns + 0.5);
    return 0;
bad:
    snprintf(err, errlen, "invalid duration '%s' (want e.g. 500ms, 10s, 2m, 1h)", s);
    return -1;
}

int parse_rate(const char *s, double *out, char *err, size_t errlen) {
    errno = 0;
    char *end = NULL;
    double v = s ? strtod(s, &end) : 0;
    if (!s || end == s || *end || errno || !isfinite(v) || v <= 0 || v > 1e8) {
        snprintf(err, errlen, "invalid rate '%s' (want requests per second, > 0)", s ? s : "");
        return -1;
    }
    *out = v;
    return 0;
}

int parse_int(const char *s, int64_t min, int64_t max, int64_t *out, char *err, size_t errlen) {
    errno = 0;
    char *end = NULL;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (!s || !*s || end == s || *end || errno || v < min || v > max) {
        snprintf(err, errlen, "invalid number '%s' (want an integer from %lld to %lld)", s ? s : "",
                 (long long)min, (long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

int parse_stages(const char *s, parse_stage **out, int *count, char *err, size_t errlen) {
    *out = NULL;
    *count = 0;
    if (!s || !*s) {
        snprintf(err, errlen, "empty stage list (want e.g. 10s:100,30s:2000,10s:0)");
        return -1;
    }
    char *copy = strdup(s);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int cap = 8, n = 0;
    int64_t total_ns = 0;
    parse_stage *st = malloc(sizeof *st * (size_t)cap);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok && st; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        char sub[128];
        if (!colon) {
            snprintf(err, errlen, "invalid stage '%s' (want DURATION:RATE, e.g. 30s:2000)", tok);
            goto fail;
        }
        *colon = '\0';
        if (parse_duration_ns(tok, &st[n].duration_ns, sub, sizeof sub) < 0 ||
            st[n].duration_ns <= 0) {
            snprintf(err, errlen, "invalid stage duration '%s' (want e.g. 10s)", tok);
            goto fail;
        }
        if (st[n].duration_ns > INT64_MAX - total_ns) {
            snprintf(err, errlen, "stage list too long in total (at most %lld hours)",
                     (long long)(INT64_MAX / 3600000000000LL));
            goto fail;
        }
        total_ns += st[n].duration_ns;
        char *end;
        errno = 0;
        double r = strtod(colon + 1, &end);
        if (end == colon + 1 || *end || errno || !isfinite(r) || r < 0 || r > 1e8) {
            snprintf(err, errlen, "invalid stage rate '%s' (want requests per second, >= 0)",
                     colon + 1);
            goto fail;
        }
        st[n].target_rps = r;
        if (++n == cap) {
            cap *= 2;
            parse_stage *grown = realloc(st, sizeof *st * (size_t)cap);
            if (!grown) goto fail;
            st = grown;
        }
    }
    if (!st || n == 0) {
        snprintf(err, errlen, "empty stage list (want e.g. 10s:100,30s:2000,10s:0)");
        goto fail;
    }
    free(copy);
    *out = st;
    *count = n;
    return 0;
fail:
    free(copy);
    free(st);
    return -1;
}
