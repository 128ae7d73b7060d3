/* lifecycle.c — see lifecycle.h. The mapping from a delivery's seq to its event:
 *   E steps per order, W orders interleaved (width): deliveries come in blocks of W * E;
 *   in block b, delivery r = seq mod (W * E) is position r / W of order b * W + r mod W.
 * So an order's events are W deliveries (W / rate seconds) apart. An order's positions map to its
 * steps through a permutation that swaps, by the order's hash, pairs of neighbouring steps after
 * the first; the type of a step with alternatives is drawn from the same hash. */
#include "load/lifecycle.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

static uint64_t mix(uint64_t x) { /* splitmix64's finaliser */
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A uniform draw in [0, 1) for (order, what). */
static double draw(uint64_t order, uint64_t what) {
    return (double)(mix(order * 0x100000001b3ULL ^ mix(what)) >> 11) * 0x1.0p-53;
}

static bool name_char(int c) {
    return isalnum(c) || c == '.' || c == '_' || c == '-';
}

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

/* The index of type name[0..len) in lc->types, added when new; -1 when there is no room. */
static int type_index(lifecycle *lc, const char *name, size_t len) {
    for (int i = 0; i < lc->ntypes; i++)
        if (lc->type_len[i] == len && !memcmp(lc->types[i], name, len)) return i;
    if (lc->ntypes == LIFECYCLE_MAX_TYPES) return -1;
    memcpy(lc->types[lc->ntypes], name, len);
    lc->types[lc->ntypes][len] = '\0';
    lc->type_len[lc->ntypes] = (uint8_t)len;
    return lc->ntypes++;
}

/* Parses one step at *pp (up to ',' or the end) into st; the repeat count into *repeat. */
static int parse_step(lifecycle *lc, const char **pp, lifecycle_step *st, int *repeat, char *err,
                      size_t errlen) {
    const char *p = *pp;
    double prob[LIFECYCLE_MAX_TYPES];
    int given = 0;
    st->nalt = 0;
    *repeat = 1;
    for (;;) {
        p = skip_ws(p);
        const char *name = p;
        while (name_char((unsigned char)*p)) p++;
        size_t len = (size_t)(p - name);
        if (len == 0) {
            err_set(err, errlen, "an event type expected at '%.20s'", name);
            return -1;
        }
        if (len >= LIFECYCLE_NAME_MAX) {
            err_set(err, errlen, "event type '%.20s...' is too long (at most %d bytes)", name,
                    LIFECYCLE_NAME_MAX - 1);
            return -1;
        }
        if (st->nalt == LIFECYCLE_MAX_TYPES) {
            err_set(err, errlen, "at most %d alternatives in a step", LIFECYCLE_MAX_TYPES);
            return -1;
        }
        int t = type_index(lc, name, len);
        if (t < 0) {
            err_set(err, errlen, "at most %d event types", LIFECYCLE_MAX_TYPES);
            return -1;
        }
        for (int i = 0; i < st->nalt; i++)
            if (st->type[i] == t) {
                err_set(err, errlen, "'%.*s' twice in one step", (int)len, name);
                return -1;
            }
        prob[st->nalt] = -1;
        p = skip_ws(p);
        if (*p == ':') {
            char *end;
            double v = strtod(p + 1, &end);
            if (end == p + 1 || !(v > 0 && v <= 1)) {
                err_set(err, errlen, "'%.*s': a probability in (0, 1] expected after ':'", (int)len,
                        name);
                return -1;
            }
            prob[st->nalt] = v;
            given++;
            p = skip_ws(end);
        }
        st->type[st->nalt++] = (uint8_t)t;
        if (*p != '|') break;
        p++;
    }
    if (*p == '*') {
        char *end;
        long k = strtol(p + 1, &end, 10);
        if (end == p + 1 || k < 1 || k > LIFECYCLE_MAX_STEPS) {
            err_set(err, errlen, "a repeat count 1..%d expected after '*'", LIFECYCLE_MAX_STEPS);
            return -1;
        }
        *repeat = (int)k;
        p = skip_ws(end);
    }
    if (*p != ',' && *p != '\0') {
        err_set(err, errlen, "unexpected '%c' (steps are separated by ',')", *p);
        return -1;
    }
    if (given && given != st->nalt) {
        err_set(err, errlen, "give every alternative of a step a probability, or none");
        return -1;
    }
    if (given == 1 && st->nalt == 1 && prob[0] != 1) {
        err_set(err, errlen, "a step without alternatives always happens (drop ':%g')", prob[0]);
        return -1;
    }
    double sum = 0;
    for (int i = 0; i < st->nalt; i++) sum += given ? prob[i] : 1.0 / st->nalt;
    if (given && fabs(sum - 1) > 1e-9) {
        err_set(err, errlen, "a step's probabilities add up to %g, not 1", sum);
        return -1;
    }
    double acc = 0;
    for (int i = 0; i < st->nalt; i++) {
        acc += given ? prob[i] : 1.0 / st->nalt;
        st->cum[i] = i == st->nalt - 1 ? 1.0 : acc;
    }
    *pp = p;
    return 0;
}

int lifecycle_parse(const char *spec, lifecycle *lc, char *err, size_t errlen) {
    memset(lc, 0, sizeof *lc);
    lc->interval_ns = 100 * 1000000LL;
    lc->width = 1;
    if (!strcmp(spec, "default")) spec = LIFECYCLE_DEFAULT;
    const char *p = spec;
    if (!*skip_ws(p)) {
        err_set(err, errlen, "no event types (e.g. --events default, or %s)", LIFECYCLE_DEFAULT);
        return -1;
    }
    for (;;) {
        lifecycle_step st;
        int repeat;
        if (parse_step(lc, &p, &st, &repeat, err, errlen) < 0) return -1;
        if (lc->nsteps + repeat > LIFECYCLE_MAX_STEPS) {
            err_set(err, errlen, "at most %d events per order", LIFECYCLE_MAX_STEPS);
            return -1;
        }
        for (int i = 0; i < repeat; i++) lc->step[lc->nsteps++] = st;
        if (*p == '\0') break;
        p++; /* ',' */
    }
    return 0;
}

void lifecycle_plan(lifecycle *lc, double rate, int connections) {
    double w = rate > 0 ? llround(rate * (double)lc->interval_ns / 1e9) : connections;
    lc->width = w >= 1 ? (uint64_t)w : 1;
}

/* The step at position pos of this order (after its reordering). */
static int step_at(const lifecycle *lc, uint64_t order, int pos) {
    if (lc->reorder_rate <= 0 || pos == 0) return pos;
    /* pairs (s, s + 1) from s = 1 on, each swapped with the rate; a swapped pair is skipped */
    for (int s = 1; s + 1 < lc->nsteps; s++) {
        if (s > pos) break;
        bool swap = draw(order, (uint64_t)s) < lc->reorder_rate;
        if (!swap) continue;
        if (pos == s) return s + 1;
        if (pos == s + 1) return s;
        s++;
    }
    return pos;
}

void lifecycle_at(const lifecycle *lc, uint64_t seq, lifecycle_event *ev) {
    uint64_t w = lc->width, e = (uint64_t)lc->nsteps;
    uint64_t block = seq / (w * e), r = seq % (w * e);
    int pos = (int)(r / w);
    ev->order = block * w + r % w;
    int s = step_at(lc, ev->order, pos);
    const lifecycle_step *st = &lc->step[s];
    int alt = 0;
    if (st->nalt > 1) {
        double u = draw(ev->order, 1000 + (uint64_t)s);
        while (alt < st->nalt - 1 && u >= st->cum[alt]) alt++;
    }
    ev->version = s + 1;
    ev->type = st->type[alt];
}

static bool step_eq(const lifecycle_step *a, const lifecycle_step *b) {
    if (a->nalt != b->nalt) return false;
    for (int i = 0; i < a->nalt; i++)
        if (a->type[i] != b->type[i] || a->cum[i] != b->cum[i]) return false;
    return true;
}

void lifecycle_describe(const lifecycle *lc, char *out, size_t outlen) {
    size_t n = 0;
    out[0] = '\0';
    for (int s = 0; s < lc->nsteps && n < outlen; s++) {
        const lifecycle_step *st = &lc->step[s];
        int k = 1;
        while (s + k < lc->nsteps && step_eq(&lc->step[s + k], st)) k++;
        n += (size_t)snprintf(out + n, outlen - n, "%s", s ? "," : "");
        for (int a = 0; a < st->nalt && n < outlen; a++) {
            double pr = st->cum[a] - (a ? st->cum[a - 1] : 0);
            n +=
                (size_t)snprintf(out + n, outlen - n, "%s%s", a ? "|" : "", lc->types[st->type[a]]);
            if (st->nalt > 1 && n < outlen) n += (size_t)snprintf(out + n, outlen - n, ":%g", pr);
        }
        if (k > 1 && n < outlen) n += (size_t)snprintf(out + n, outlen - n, "*%d", k);
        s += k - 1;
    }
}

int lifecycle_args_check(lifecycle_args *a, const lifecycle **out, char *err, size_t errlen) {
    *out = NULL;
    if (!a->spec) {
        if (a->interval_set || a->reorder_set) {
            err_set(err, errlen, "--%s goes with --events",
                    a->interval_set ? "event-interval" : "reorder-rate");
            return -1;
        }
        return 0;
    }
    char sub[200];
    if (lifecycle_parse(a->spec, &a->lc, sub, sizeof sub) < 0) {
        err_set(err, errlen, "--events: %s", sub);
        return -1;
    }
    if (a->interval > 0) a->lc.interval_ns = a->interval;
    a->lc.reorder_rate = a->reorder;
    if (a->reorder > 0 && a->lc.nsteps < 3) {
        err_set(err, errlen,
                "--reorder-rate needs at least three events per order (the first one never "
                "moves): '%s' has %d",
                a->spec, a->lc.nsteps);
        return -1;
    }
    *out = &a->lc;
    return 0;
}
