/* toxic.c — the toxics of brink's fault proxy (see toxic.h), as Toxiproxy defines them.
 *
 * Where it sits: proxy.c relays bytes between a client and its upstream through two ring buffers
 * per connection, one per direction ("flow"); a flow without toxics is a plain read → write and
 * never comes here. With toxics, every chunk read is passed through the flow's ordered toxic
 * list, which computes release times: latency adds latency ± jitter, bandwidth paces pieces of at
 * most 100 ms worth of bytes, slicer cuts pieces of average_size ± size_variation bytes spaced by
 * delay µs. The bytes stay in proxy.c's ring; the schedule this file appends (segments: length,
 * release time) says when each part may be written, never before the part in front of it, so
 * order is kept. limit_data truncates at its byte count (proxy.c closes the connection once the
 * bytes are written); timeout and reset_peer swallow data (timeout also holds what is buffered);
 * a timeout > 0 closes the connection after that many ms without data, as Toxiproxy's does;
 * reset_peer resets both sides `timeout` ms after the first data (or EOF) it sees; slow_close
 * delays the propagation of an EOF. Whether a toxic applies to a connection is drawn (random <
 * toxicity) when the connection is made and when the toxic is added or updated.
 *
 * Everything here runs on the proxy's loop thread: no locks, and the only allocation is the
 * growth of a flow's segment ring (doubling, kept for the connection's life). */
#include "fault/toxic.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"

#define SEG_INIT 64
#define ATTR_MAX 1000000000000LL /* largest accepted time/size attribute */

static const char *const type_names[TOXIC__COUNT] = {
    "latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data",
};

const char *toxic_type_name(toxic_type t) {
    return (unsigned)t < TOXIC__COUNT ? type_names[t] : "unknown";
}

int toxic_type_parse(const char *s, toxic_type *out) {
    for (int i = 0; s && i < TOXIC__COUNT; i++)
        if (strcmp(s, type_names[i]) == 0) {
            *out = (toxic_type)i;
            return 0;
        }
    return -1;
}

const char *toxic_stream_name(toxic_stream s) {
    return s == STREAM_UPSTREAM ? "upstream" : s == STREAM_DOWNSTREAM ? "downstream" : "unknown";
}

int toxic_stream_parse(const char *s, toxic_stream *out) {
    if (s && strcmp(s, "upstream") == 0)
        *out = STREAM_UPSTREAM;
    else if (s && strcmp(s, "downstream") == 0)
        *out = STREAM_DOWNSTREAM;
    else
        return -1;
    return 0;
}

/* ---------------------------------------------------------------- small helpers */

static int64_t sat_add(int64_t a, int64_t b) {
    if (a == TOXIC_NEVER || b == TOXIC_NEVER) return TOXIC_NEVER;
    return a > TOXIC_NEVER - b ? TOXIC_NEVER : a + b;
}

static int64_t max64(int64_t a, int64_t b) {
    return a > b ? a : b;
}

void toxic_rng_seed(uint64_t *rng) {
    if (getrandom(rng, sizeof *rng, GRND_NONBLOCK) != (ssize_t)sizeof *rng)
        *rng = (uint64_t)clock_now_ns() ^ ((uint64_t)getpid() << 32);
    if (*rng == 0) *rng = 0x9e3779b97f4a7c15ULL;
}

/* xorshift64* */
static uint64_t rnd_next(uint64_t *rng) {
    uint64_t x = *rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static double rnd_unit(uint64_t *rng) { /* [0, 1) */
    return (double)(rnd_next(rng) >> 11) * 0x1.0p-53;
}

static int64_t rnd_range(uint64_t *rng, int64_t lo, int64_t hi) { /* [lo, hi] */
    if (hi <= lo) return lo;
    return lo + (int64_t)(rnd_next(rng) % (uint64_t)(hi - lo + 1));
}

/* ---------------------------------------------------------------- validation and the list */

static bool attr_ok(int64_t v) {
    return v >= 0 && v <= ATTR_MAX;
}

int toxic_spec_check(toxic_type type, const toxic_spec *t, char *err, size_t errlen) {
    if (!(t->toxicity >= 0.0 && t->toxicity <= 1.0)) { /* also rejects NaN */
        err_set(err, errlen, "invalid toxicity %g: want a number from 0 to 1", t->toxicity);
        return -1;
    }
    struct {
        const char *name;
        int64_t v;
    } a[2] = {{NULL, 0}, {NULL, 0}};
    switch (type) {
    case TOXIC_LATENCY:
        a[0].name = "latency", a[0].v = t->latency;
        a[1].name = "jitter", a[1].v = t->jitter;
        break;
    case TOXIC_BANDWIDTH: a[0].name = "rate", a[0].v = t->rate; break;
    case TOXIC_SLOW_CLOSE: a[0].name = "delay", a[0].v = t->delay; break;
    case TOXIC_TIMEOUT:
    case TOXIC_RESET_PEER: a[0].name = "timeout", a[0].v = t->timeout; break;
    case TOXIC_SLICER:
        if (!attr_ok(t->delay)) {
            err_set(err, errlen, "invalid slicer delay %lld: want 0 or more", (long long)t->delay);
            return -1;
        }
        if (t->average_size <= 0 || t->average_size > ATTR_MAX) {
            err_set(err, errlen, "invalid slicer average_size %lld: want 1 or more",
                    (long long)t->average_size);
            return -1;
        }
        a[0].name = "size_variation", a[0].v = t->size_variation;
        break;
    case TOXIC_LIMIT_DATA:
        if (t->bytes < 0) {
            err_set(err, errlen, "invalid limit_data bytes %lld: want 0 or more",
                    (long long)t->bytes);
            return -1;
        }
        break;
    default: err_set(err, errlen, "invalid toxic type"); return -1;
    }
    for (int i = 0; i < 2; i++)
        if (a[i].name && !attr_ok(a[i].v)) {
            err_set(err, errlen, "invalid %s %s %lld: want 0 to %lld", toxic_type_name(type),
                    a[i].name, (long long)a[i].v, (long long)ATTR_MAX);
            return -1;
        }
    return 0;
}

_Static_assert(TOXIC_NAME_MAX == 64, "TOXIC_NAME_RULE says 63 characters");

bool toxic_name_ok(const char *name) {
    size_t n = name ? strnlen(name, TOXIC_NAME_MAX) : 0;
    if (n == 0 || n >= TOXIC_NAME_MAX || !strcmp(name, ".") || !strcmp(name, "..")) return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

int toxic_spec_check_new(const toxic_spec *t, char *err, size_t errlen) {
    if (!t) {
        err_set(err, errlen, "no toxic");
        return -1;
    }
    if (!memchr(t->name, '\0', TOXIC_NAME_MAX) || !toxic_name_ok(t->name)) {
        err_set(err, errlen, "invalid toxic name '%.*s': " TOXIC_NAME_RULE,
                (int)strnlen(t->name, TOXIC_NAME_MAX), t->name);
        return -1;
    }
    if ((unsigned)t->type >= TOXIC__COUNT) {
        err_set(err, errlen, "invalid toxic type");
        return -1;
    }
    if (t->stream != STREAM_UPSTREAM && t->stream != STREAM_DOWNSTREAM) {
        err_set(err, errlen, "invalid toxic stream: want upstream or downstream");
        return -1;
    }
    return toxic_spec_check(t->type, t, err, errlen);
}

bool toxic_delays(toxic_type t) {
    return t == TOXIC_LATENCY || t == TOXIC_BANDWIDTH || t == TOXIC_SLICER;
}

int toxic_list_find(const toxic_list *l, const char *name) {
    for (int k = 0; k < l->n; k++)
        if (strcmp(l->t[k].name, name) == 0) return k;
    return -1;
}

void toxic_list_remove(toxic_list *l, int k) {
    memmove(&l->t[k], &l->t[k + 1], (size_t)(l->n - k - 1) * sizeof l->t[0]);
    l->n--;
}

/* ---------------------------------------------------------------- the engine */

void toxic_state_init(toxic_state *s, const toxic_spec *x, int64_t now, uint64_t *rng) {
    s->applies = rnd_unit(rng) < x->toxicity;
    s->next = 0;
    s->count = 0;
    s->deadline = TOXIC_NEVER;
    if (x->type == TOXIC_TIMEOUT && x->timeout > 0)
        s->deadline = sat_add(now, x->timeout * NS_PER_MS);
}

void toxic_flow_derive(toxic_flow *f, const toxic_list *l, int d) {
    bool on = false, split = false, hold = false, dropping = false;
    for (int k = 0; k < l->n; k++) {
        if ((int)l->t[k].stream != d || !f->st[k].applies) continue;
        on = true;
        switch (l->t[k].type) {
        case TOXIC_SLICER: split = true; break;
        case TOXIC_TIMEOUT: hold = dropping = true; break;
        case TOXIC_RESET_PEER: dropping = true; break;
        default: break;
        }
    }
    f->on = on;
    f->split = split;
    f->hold = hold;
    f->dropping = dropping;
}

void toxic_flow_release(toxic_flow *f, int64_t now) {
    f->seg_n = 0;
    f->seg_head = 0;
    f->last_release = now;
}

static int seg_push(toxic_flow *f, uint32_t len, int64_t release) {
    if (release < f->last_release) release = f->last_release;
    f->last_release = release;
    if (f->seg_n > 0 && !f->split) { /* same release time: one segment */
        toxic_segment *t = &f->seg[(f->seg_head + f->seg_n - 1) & (f->seg_cap - 1)];
        if (t->release == release && t->len <= UINT32_MAX - len) {
            t->len += len;
            return 0;
        }
    }
    if (f->seg_n == f->seg_cap) {
        size_t cap = f->seg_cap ? f->seg_cap * 2 : SEG_INIT;
        toxic_segment *s = malloc(cap * sizeof *s);
        if (!s) return -1;
        for (size_t i = 0; i < f->seg_n; i++) s[i] = f->seg[(f->seg_head + i) & (f->seg_cap - 1)];
        free(f->seg);
        f->seg = s;
        f->seg_cap = cap;
        f->seg_head = 0;
    }
    f->seg[(f->seg_head + f->seg_n) & (f->seg_cap - 1)] = (toxic_segment){release, len};
    f->seg_n++;
    return 0;
}

static int chain(toxic_flow *f, const toxic_list *l, int d, int k, size_t len, int64_t t,
                 uint64_t *rng);

/* Toxiproxy's slicer: halves around the middle ± size_variation until a piece is no more than
 * average_size + size_variation; pieces are released `delay` µs apart. */
static int slice(toxic_flow *f, const toxic_list *l, int d, int k, size_t len, int64_t *t,
                 int64_t step, uint64_t *rng) {
    const toxic_spec *x = &l->t[k];
    if ((int64_t)len - x->average_size <= x->size_variation) {
        int r = chain(f, l, d, k + 1, len, *t, rng);
        *t = sat_add(*t, step);
        return r;
    }
    int64_t v = x->size_variation, mid = (int64_t)len / 2;
    if (v > 0) mid += rnd_range(rng, -v, v - 1);
    if (mid < 1) mid = 1;
    if (mid > (int64_t)len - 1) mid = (int64_t)len - 1;
    if (slice(f, l, d, k, (size_t)mid, t, step, rng) < 0) return -1;
    return slice(f, l, d, k, len - (size_t)mid, t, step, rng);
}

/* Passes len bytes that entered toxic k at time t through toxics k.. of flow d; appends the
 * resulting segments. */
static int chain(toxic_flow *f, const toxic_list *l, int d, int k, size_t len, int64_t t,
                 uint64_t *rng) {
    for (; k < l->n; k++) {
        const toxic_spec *x = &l->t[k];
        toxic_state *s = &f->st[k];
        if ((int)x->stream != d || !s->applies) continue;
        switch (x->type) {
        case TOXIC_LATENCY: {
            int64_t delay = x->latency * NS_PER_MS;
            if (x->jitter > 0)
                delay += rnd_range(rng, -x->jitter * NS_PER_MS, x->jitter * NS_PER_MS);
            if (delay > 0) t = sat_add(t, delay);
            break;
        }
        case TOXIC_BANDWIDTH: {
            if (x->rate <= 0) { /* 0 KB/s: nothing passes until the toxic changes */
                t = TOXIC_NEVER;
                break;
            }
            size_t piece = x->rate * 100 > (int64_t)len ? len : (size_t)(x->rate * 100);
            while (len > 0) {
                size_t p = len < piece ? len : piece;
                s->next = sat_add(max64(t, s->next), (int64_t)p * NS_PER_MS / x->rate);
                if (chain(f, l, d, k + 1, p, s->next, rng) < 0) return -1;
                len -= p;
            }
            return 0;
        }
        case TOXIC_SLICER: {
            int64_t start = max64(t, s->next), step = x->delay * NS_PER_US;
            if (slice(f, l, d, k, len, &start, step, rng) < 0) return -1;
            s->next = start;
            return 0;
        }
        default: break;
        }
    }
    return seg_push(f, (uint32_t)len, t);
}

int toxic_flow_take(toxic_flow *f, const toxic_list *l, int d, size_t *n, int64_t now,
                    uint64_t *rng) {
    size_t pass = *n;
    bool limited = false;
    for (int k = 0; k < l->n; k++) {
        const toxic_spec *x = &l->t[k];
        if ((int)x->stream != d || !f->st[k].applies || x->type != TOXIC_LIMIT_DATA) continue;
        int64_t rem = x->bytes - f->st[k].count;
        if (rem < 0) rem = 0;
        if ((int64_t)pass > rem) pass = (size_t)rem;
        limited = true;
    }
    if (limited) {
        for (int k = 0; k < l->n; k++) {
            const toxic_spec *x = &l->t[k];
            if ((int)x->stream != d || !f->st[k].applies || x->type != TOXIC_LIMIT_DATA) continue;
            f->st[k].count += (int64_t)pass;
            if (x->bytes - f->st[k].count <= 0) f->limit_hit = true;
        }
    }
    *n = pass;
    if (pass == 0) return 0;
    return chain(f, l, d, 0, pass, now, rng);
}

void toxic_flow_swallow(toxic_flow *f, const toxic_list *l, int d, int64_t now) {
    for (int k = 0; k < l->n; k++) {
        const toxic_spec *x = &l->t[k];
        toxic_state *s = &f->st[k];
        if ((int)x->stream != d || !s->applies) continue;
        if (x->type == TOXIC_TIMEOUT && x->timeout > 0)
            s->deadline = sat_add(now, x->timeout * NS_PER_MS); /* Toxiproxy restarts it */
        else if (x->type == TOXIC_RESET_PEER && s->deadline == TOXIC_NEVER)
            s->deadline = sat_add(now, x->timeout * NS_PER_MS);
    }
}

int64_t toxic_flow_fin_at(const toxic_flow *f, const toxic_list *l, int d, int64_t now) {
    int64_t delay = 0;
    for (int k = 0; k < l->n; k++) {
        const toxic_spec *x = &l->t[k];
        if ((int)x->stream == d && x->type == TOXIC_SLOW_CLOSE && f->st[k].applies)
            delay = sat_add(delay, x->delay * NS_PER_MS);
    }
    return sat_add(max64(now, f->last_release), delay);
}

int64_t toxic_flow_deadline(const toxic_flow *f, const toxic_list *l, int d) {
    int64_t when = TOXIC_NEVER;
    for (int k = 0; k < l->n; k++)
        if ((int)l->t[k].stream == d && f->st[k].applies && f->st[k].deadline < when)
            when = f->st[k].deadline;
    return when;
}

toxic_action toxic_flow_due(const toxic_flow *f, const toxic_list *l, int d, int64_t now) {
    for (int k = 0; k < l->n; k++) {
        const toxic_state *s = &f->st[k];
        if ((int)l->t[k].stream != d || !s->applies || s->deadline > now) continue;
        return l->t[k].type == TOXIC_RESET_PEER ? TOXIC_RESET : TOXIC_CLOSE; /* or timeout */
    }
    return TOXIC_PASS;
}

void toxic_flow_remove(toxic_flow *f, int k, int n) {
    memmove(&f->st[k], &f->st[k + 1], (size_t)(n - k - 1) * sizeof f->st[0]);
}

void toxic_flow_free(toxic_flow *f) {
    free(f->seg);
    f->seg = NULL;
}
