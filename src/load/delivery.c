/* delivery.c — delivery policies (see delivery.h). The presets' sources, checked 2026-12-07:
 *   standard-webhooks: Svix's published schedule, which Standard Webhooks senders use — retries
 *     5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after each failure; any non-2xx (3xx included)
 *     or no answer within 15 s fails (docs.svix.com/retries).
 *   stripe: live mode retries "for up to three days" with exponential backoff; the intervals
 *     are not published, so brink doubles from 1 min (12 retries, 68 h).
 *   shopify: "a total of 8 times over 4 hours using an exponential backoff schedule"
 *     (shopify.dev changelog, 2024-09-10); intervals not published: 1, 2, 4, ... 64 min, then
 *     the rest of the 4 hours (113 min).
 *   github: "GitHub does not automatically redeliver failed deliveries" (docs.github.com,
 *     handling failed webhook deliveries): no retry.
 *   none: no retry. */
#include "load/delivery.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/cli.h"
#include "core/err.h"
#include "core/parse.h"

#define MIN_NS  (60 * (int64_t)1000000000)
#define SEC_NS  ((int64_t)1000000000)
#define HOUR_NS (60 * MIN_NS)

const char *const delivery_presets[] = {
    "standard-webhooks", "stripe", "shopify", "github", "none", NULL};

int delivery_preset(const char *name, delivery_policy *p, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    p->scale = 1;
    if (!strcmp(name, "standard-webhooks")) {
        static const int64_t svix[] = {5 * SEC_NS,  5 * MIN_NS,   30 * MIN_NS, 2 * HOUR_NS,
                                       5 * HOUR_NS, 10 * HOUR_NS, 10 * HOUR_NS};
        p->retries = (int)(sizeof svix / sizeof svix[0]);
        memcpy(p->delay_ns, svix, sizeof svix);
    } else if (!strcmp(name, "stripe")) {
        p->retries = 12;
        for (int i = 0; i < p->retries; i++) p->delay_ns[i] = MIN_NS << i;
    } else if (!strcmp(name, "shopify")) {
        p->retries = 8;
        for (int i = 0; i < 7; i++) p->delay_ns[i] = MIN_NS << i;
        p->delay_ns[7] = 4 * HOUR_NS - 127 * MIN_NS;
    } else if (strcmp(name, "github") && strcmp(name, "none")) {
        const char *near = cli_suggest(name, delivery_presets, 5);
        if (near)
            err_set(err, errlen, "unknown sender '%.40s'; did you mean '%s'?", name, near);
        else
            err_set(err, errlen,
                    "unknown sender '%.40s': standard-webhooks, stripe, shopify, github or none",
                    name);
        return -1;
    }
    snprintf(p->name, sizeof p->name, "%s", name);
    return 0;
}

int delivery_set_schedule(delivery_policy *p, const char *list, char *err, size_t errlen) {
    int n = 0;
    const char *s = list;
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        char item[32], e[160];
        if (len == 0 || len >= sizeof item) {
            err_set(err, errlen, "a retry schedule is a list of waits such as 0.5s,1s,2s,4s");
            return -1;
        }
        if (n == DELIVERY_MAX_RETRIES) {
            err_set(err, errlen, "a retry schedule has at most %d waits", DELIVERY_MAX_RETRIES);
            return -1;
        }
        memcpy(item, s, len);
        item[len] = '\0';
        int64_t ns;
        if (parse_duration_ns(item, &ns, e, sizeof e) < 0 || ns <= 0) {
            err_set(err, errlen, "retry wait '%s': a positive duration such as 500ms or 2s", item);
            return -1;
        }
        p->delay_ns[n++] = ns;
        s += len;
        if (*s == ',') {
            s++;
            if (!*s) {
                err_set(err, errlen, "a retry schedule is a list of waits such as 0.5s,1s,2s,4s");
                return -1;
            }
        }
    }
    if (n == 0) {
        err_set(err, errlen, "a retry schedule is a list of waits such as 0.5s,1s,2s,4s");
        return -1;
    }
    p->retries = n;
    snprintf(p->name, sizeof p->name, "custom");
    return 0;
}

int64_t delivery_retry_delay_ns(const delivery_policy *p, int n) {
    if (n < 1 || n > p->retries) return -1;
    double d = (double)p->delay_ns[n - 1] * p->scale;
    return d < 1 ? 1 : (int64_t)d;
}

int64_t delivery_retry_after_ns(const char *value, int64_t now_wall_ns) {
    const int64_t day = 86400 * SEC_NS;
    while (*value == ' ' || *value == '\t') value++;
    size_t n = strlen(value);
    while (n && (value[n - 1] == ' ' || value[n - 1] == '\t')) n--;
    if (!n) return -1;
    if (value[0] >= '0' && value[0] <= '9') {
        int64_t secs = 0;
        for (size_t i = 0; i < n; i++) {
            if (value[i] < '0' || value[i] > '9') return -1;
            if (secs < 86400) secs = secs * 10 + (value[i] - '0');
        }
        return secs >= 86400 ? day : secs * SEC_NS;
    }
    char buf[40];
    if (n >= sizeof buf) return -1;
    memcpy(buf, value, n);
    buf[n] = '\0';
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end) return -1;
    time_t t = timegm(&tm);
    if (t < 0) return 0;                    /* before 1970: long past */
    if (t > INT64_MAX / SEC_NS) return day; /* years ahead (would overflow): a day anyway */
    int64_t at = (int64_t)t * SEC_NS, wait = at - now_wall_ns;
    return wait < 0 ? 0 : wait > day ? day : wait;
}

int64_t delivery_span_ns(const delivery_policy *p) {
    int64_t sum = 0;
    for (int n = 1; n <= p->retries; n++) sum += delivery_retry_delay_ns(p, n);
    return sum;
}

/* "90ms", "1.5s", "5m", "2h": a short duration for the terminal */
static void short_duration(int64_t ns, char *out, size_t outlen) {
    double s = (double)ns / SEC_NS;
    if (s < 1)
        snprintf(out, outlen, "%.0fms", s * 1000);
    else if (s < 60)
        snprintf(out, outlen, "%.3gs", s);
    else if (s < 3600)
        snprintf(out, outlen, "%.3gm", s / 60);
    else
        snprintf(out, outlen, "%.3gh", s / 3600);
}

void delivery_describe(const delivery_policy *p, char *out, size_t outlen) {
    if (p->retries == 0) {
        snprintf(out, outlen, "%s: no retry", p->name);
        return;
    }
    size_t n = (size_t)snprintf(out, outlen, "%s: %d %s after ", p->name, p->retries,
                                p->retries == 1 ? "retry" : "retries");
    for (int i = 0; i < p->retries && n < outlen; i++) {
        char d[16];
        short_duration(delivery_retry_delay_ns(p, i + 1), d, sizeof d);
        n += (size_t)snprintf(out + n, outlen - n, "%s%s", i ? ", " : "", d);
    }
    if (n < outlen && p->scale != 1)
        snprintf(out + n, outlen - n, " (the provider's schedule x %g)", p->scale);
}

int delivery_args_check(delivery_args *d, int64_t run_ns, int64_t timeout_ns, bool open,
                        const delivery_policy **out, int64_t *drain_ns, char *err, size_t errlen) {
    *out = NULL;
    *drain_ns = 0;
    if (!d->name && !d->schedule && !d->scale_set && !d->dup_set && !d->drain_set &&
        !d->retry_after)
        return 0;
    if (!open) {
        err_set(err, errlen,
                "the sender options (--delivery, --retry-*, --duplicate-*, "
                "--delivery-drain) need the open model: give a rate (-R)");
        return -1;
    }
    if (d->name && d->schedule) {
        err_set(err, errlen, "give either --delivery or --retry-schedule, not both");
        return -1;
    }
    char sub[200];
    if (delivery_preset(d->name ? d->name : "none", &d->pol, sub, sizeof sub) < 0) {
        err_set(err, errlen, "--delivery: %s", sub);
        return -1;
    }
    if (d->schedule && delivery_set_schedule(&d->pol, d->schedule, err, errlen) < 0) return -1;
    if (d->scale_set && d->pol.retries == 0) {
        err_set(err, errlen, "--retry-scale: the sender '%s' does not retry", d->pol.name);
        return -1;
    }
    if (d->retry_after && d->pol.retries == 0) {
        err_set(err, errlen, "--honor-retry-after: the sender '%s' does not retry", d->pol.name);
        return -1;
    }
    d->pol.honor_retry_after = d->retry_after;
    if (d->scale_set) {
        d->pol.scale = d->scale;
    } else if (!d->schedule && run_ns > 0) { /* a provider's hours, compressed into the run */
        int64_t span = delivery_span_ns(&d->pol);
        if (span > run_ns) d->pol.scale = (double)run_ns / (double)span;
    }
    d->pol.duplicate_rate = d->dup_rate;
    d->pol.duplicate_window_ns = d->dup_window;
    int64_t span = delivery_span_ns(&d->pol);
    *drain_ns = d->drain_set ? d->drain : span + timeout_ns;
    if (d->drain_set && run_ns > 0 && span > run_ns + d->drain) {
        err_set(err, errlen,
                "the retry schedule (%.3g s) is longer than the run (%.3g s) plus --delivery-drain "
                "(%.3g s): give a smaller --retry-scale or a longer --delivery-drain",
                span / 1e9, run_ns / 1e9, d->drain / 1e9);
        return -1;
    }
    *out = &d->pol;
    return 0;
}
