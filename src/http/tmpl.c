/* tmpl.c — request templates: compiled once, rendered per request by the load engine.
 *
 * A scenario's body, path or header text may hold placeholders ({{seq}}, {{uuid}},
 * {{rand:A-B}}, {{now_s}}, {{now_ms}}, {{conn}}, {{thread}}; see tmpl.h). tmpl_compile() parses
 * the text once into a flat array of segments — literal runs (offset and length into a private
 * copy of the text) and placeholders (a kind, and the bounds for rand) — all in one allocation,
 * and computes tmpl_max_len(), the most bytes any rendering can take.
 *
 * tmpl_render() runs in the engine's hot path, once per request on every thread: it walks the
 * segments, copies literals, and formats numbers by hand (core/fmt.c: two digits per step from
 * a table, no snprintf, no locale), drawing random values from the caller's per-thread rng. It
 * never allocates and never writes past tmpl_max_len() bytes. */
#include "http/tmpl.h"

#include "core/err.h"
#include "core/fmt.h"

#include <stdlib.h>
#include <string.h>

enum seg_kind {
    SEG_LIT,
    SEG_SEQ,
    SEG_UUID,
    SEG_RAND,
    SEG_NOW_S,
    SEG_NOW_MS,
    SEG_CONN,
    SEG_THREAD,
    SEG_ORDER,
    SEG_EVENT,
    SEG_VERSION,
    SEG_VAR,
    SEG_RUN,
};

/* Most bytes each placeholder can render to. */
#define W_SEQ     20 /* UINT64_MAX */
#define W_UUID    36
#define W_RAND    20 /* INT64_MIN, with sign */
#define W_NOW_S   20
#define W_NOW_MS  20
#define W_CONN    10 /* UINT32_MAX */
#define W_THREAD  10
#define W_ORDER   20
#define W_EVENT   TMPL_EVENT_MAX
#define W_VERSION 10

typedef struct tmpl_seg {
    enum seg_kind kind;
    size_t off, len; /* SEG_LIT: the run in t->text */
    int64_t lo, hi;  /* SEG_RAND; SEG_VAR: lo is the variable's index */
} tmpl_seg;

struct tmpl {
    size_t nsegs;
    size_t max_len;
    bool is_static;
    bool needs_time;
    bool needs_event; /* {{event}} or {{version}} */
    uint32_t vars;    /* bit i: uses variable i */
    const char *text; /* private copy, stored after segs[] */
    tmpl_seg segs[];
};

/* ---- compile ------------------------------------------------------------------------------ */

static const char *find2(const char *p, const char *end, char c) {
    while (p + 1 < end) {
        const char *q = memchr(p, c, (size_t)(end - p - 1));
        if (q == NULL) return NULL;
        if (q[1] == c) return q;
        p = q + 1;
    }
    return NULL;
}

/* Parses an optionally negative decimal int64 from [*pp, end); advances *pp. */
static bool parse_i64(const char **pp, const char *end, int64_t *out) {
    const char *p = *pp;
    bool neg = false;
    if (p < end && *p == '-') {
        neg = true;
        p++;
    }
    if (p >= end || *p < '0' || *p > '9') return false;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, v = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (limit - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    *pp = p;
    return true;
}

/* "A-B" with A <= B, each an optionally negative decimal. */
static bool parse_range(const char *p, const char *end, int64_t *lo, int64_t *hi) {
    if (!parse_i64(&p, end, lo)) return false;
    if (p >= end || *p != '-') return false;
    p++;
    if (!parse_i64(&p, end, hi)) return false;
    return p == end && *lo <= *hi;
}

/* Copies a placeholder name into a one-line, bounded form for an error message. */
static void quote_name(const char *name, size_t len, char *q, size_t qcap) {
    size_t n = len, i, j = 0;
    bool cut = false;
    if (n > 48) {
        n = 48;
        cut = true;
    }
    for (i = 0; i < n && j + 1 < qcap; i++) {
        unsigned char c = (unsigned char)name[i];
        q[j++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (cut && j + 4 < qcap) {
        memcpy(q + j, "...", 3);
        j += 3;
    }
    q[j] = '\0';
}

static bool name_is(const char *name, size_t len, const char *want) {
    size_t n = strlen(want);
    return len == n && memcmp(name, want, n) == 0;
}

/* Classifies the placeholder name[0..len) into seg; returns false with err filled. */
static bool compile_placeholder(const char *name, size_t len, const char *const *vars, int nvars,
                                tmpl_seg *seg, char *err, size_t errlen) {
    static const struct {
        const char *name;
        enum seg_kind kind;
    } simple[] = {
        {"seq", SEG_SEQ},       {"uuid", SEG_UUID},   {"now_s", SEG_NOW_S},
        {"now_ms", SEG_NOW_MS}, {"conn", SEG_CONN},   {"thread", SEG_THREAD},
        {"order", SEG_ORDER},   {"event", SEG_EVENT}, {"version", SEG_VERSION},
        {"run", SEG_RUN},
    };
    char q[64];
    memset(seg, 0, sizeof *seg);
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
        if (name_is(name, len, simple[i].name)) {
            seg->kind = simple[i].kind;
            return true;
        }
    }
    if (name_is(name, len, "rand") || (len >= 5 && memcmp(name, "rand:", 5) == 0)) {
        seg->kind = SEG_RAND;
        if (len > 5 && parse_range(name + 5, name + len, &seg->lo, &seg->hi)) return true;
        quote_name(name, len, q, sizeof q);
        err_set(err, errlen, "bad range in {{%s}} (want {{rand:A-B}} with A <= B)", q);
        return false;
    }
    for (int i = 0; i < nvars; i++) {
        if (name_is(name, len, vars[i])) {
            seg->kind = SEG_VAR;
            seg->lo = i;
            return true;
        }
    }
    quote_name(name, len, q, sizeof q);
    err_set(err, errlen, "unknown placeholder {{%s}}", q);
    return false;
}

bool tmpl_is_builtin(const char *name) {
    static const char *const builtin[] = {"seq",   "uuid",  "now_s",   "now_ms", "conn", "thread",
                                          "order", "event", "version", "rand",   "run"};
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (!strcmp(name, builtin[i])) return true;
    return !strncmp(name, "rand:", 5);
}

static size_t seg_width(const tmpl_seg *s) {
    switch (s->kind) {
    case SEG_LIT: return s->len;
    case SEG_SEQ: return W_SEQ;
    case SEG_UUID: return W_UUID;
    case SEG_RAND: return W_RAND;
    case SEG_NOW_S: return W_NOW_S;
    case SEG_NOW_MS: return W_NOW_MS;
    case SEG_CONN: return W_CONN;
    case SEG_THREAD: return W_THREAD;
    case SEG_ORDER: return W_ORDER;
    case SEG_EVENT: return W_EVENT;
    case SEG_VERSION: return W_VERSION;
    case SEG_VAR: return TMPL_VAR_MAX;
    case SEG_RUN: return TMPL_RUN_LEN;
    }
    return 0;
}

tmpl *tmpl_compile(const char *text, size_t len, char *err, size_t errlen) {
    return tmpl_compile_vars(text, len, NULL, 0, err, errlen);
}

tmpl *tmpl_compile_vars(const char *text, size_t len, const char *const *names, int nnames,
                        char *err, size_t errlen) {
    if (nnames > TMPL_VARS_MAX) {
        err_set(err, errlen, "too many variables (at most %d)", TMPL_VARS_MAX);
        return NULL;
    }
    if (err != NULL && errlen > 0) err[0] = '\0';
    if (text == NULL) {
        text = "";
        len = 0;
    }

    /* Placeholders open at non-overlapping "{{" pairs, and a literal run lies before, between or
     * after them: with k such pairs, 2k + 1 segments are always enough. */
    const char *end = text + len;
    size_t opens = 0;
    for (const char *q = find2(text, end, '{'); q != NULL; q = find2(q + 2, end, '{')) opens++;
    size_t cap = 2 * opens + 1;

    tmpl *t = malloc(sizeof *t + cap * sizeof(tmpl_seg) + len + 1);
    if (t == NULL) {
        err_set(err, errlen, "out of memory compiling a template of %zu bytes", len);
        return NULL;
    }
    char *copy = (char *)(t->segs + cap);
    if (len) memcpy(copy, text, len);
    copy[len] = '\0';
    t->text = copy;
    t->nsegs = 0;
    t->max_len = 0;
    t->is_static = true;
    t->needs_time = false;
    t->needs_event = false;
    t->vars = 0;

    const char *p = copy, *cend = copy + len;
    while (p < cend) {
        const char *open = find2(p, cend, '{');
        const char *lit_end = open ? open : cend;
        if (lit_end > p) {
            tmpl_seg *s = &t->segs[t->nsegs++];
            memset(s, 0, sizeof *s);
            s->kind = SEG_LIT;
            s->off = (size_t)(p - copy);
            s->len = (size_t)(lit_end - p);
        }
        if (open == NULL) break;
        const char *close = find2(open + 2, cend, '}');
        if (close == NULL) {
            err_set(err, errlen, "unterminated placeholder at offset %zu", (size_t)(open - copy));
            free(t);
            return NULL;
        }
        tmpl_seg *s = &t->segs[t->nsegs];
        if (!compile_placeholder(open + 2, (size_t)(close - open - 2), names, nnames, s, err,
                                 errlen)) {
            free(t);
            return NULL;
        }
        t->nsegs++;
        t->is_static = false;
        if (s->kind == SEG_NOW_S || s->kind == SEG_NOW_MS) t->needs_time = true;
        if (s->kind == SEG_EVENT || s->kind == SEG_VERSION) t->needs_event = true;
        if (s->kind == SEG_VAR) t->vars |= 1u << s->lo;
        p = close + 2;
    }
    for (size_t i = 0; i < t->nsegs; i++) t->max_len += seg_width(&t->segs[i]);
    return t;
}

void tmpl_free(tmpl *t) {
    free(t);
}

size_t tmpl_max_len(const tmpl *t) {
    return t->max_len;
}

bool tmpl_is_static(const tmpl *t) {
    return t->is_static;
}

bool tmpl_needs_time(const tmpl *t) {
    return t->needs_time;
}

bool tmpl_needs_event(const tmpl *t) {
    return t->needs_event;
}

bool tmpl_uses_var(const tmpl *t, int i) {
    return i >= 0 && i < TMPL_VARS_MAX && (t->vars >> i & 1u);
}

/* ---- render (hot path) -------------------------------------------------------------------- */

/* Floor division, so that times before 1970 still count down correctly. */
static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

size_t tmpl_render(const tmpl *t, const tmpl_vars *v, char *out) {
    char *o = out;
    for (size_t i = 0; i < t->nsegs; i++) {
        const tmpl_seg *s = &t->segs[i];
        switch (s->kind) {
        case SEG_LIT:
            memcpy(o, t->text + s->off, s->len);
            o += s->len;
            break;
        case SEG_SEQ: o += fmt_u64(o, v->seq); break;
        case SEG_UUID:
            rng_uuid4(v->rng, o);
            o += W_UUID;
            break;
        case SEG_RAND: o += fmt_i64(o, rng_range(v->rng, s->lo, s->hi)); break;
        case SEG_NOW_S: o += fmt_i64(o, floor_div(v->now_wall_ns, 1000000000)); break;
        case SEG_NOW_MS: o += fmt_i64(o, floor_div(v->now_wall_ns, 1000000)); break;
        case SEG_CONN: o += fmt_u64(o, v->conn); break;
        case SEG_THREAD: o += fmt_u64(o, v->thread); break;
        case SEG_ORDER: o += fmt_u64(o, v->order); break;
        case SEG_EVENT:
            memcpy(o, v->event, v->event_len);
            o += v->event_len;
            break;
        case SEG_VERSION: o += fmt_u64(o, v->version); break;
        case SEG_RUN:
            memcpy(o, v->run, TMPL_RUN_LEN);
            o += TMPL_RUN_LEN;
            break;
        case SEG_VAR: {
            size_t n = v->var_len[s->lo];
            memcpy(o, v->var + (size_t)s->lo * TMPL_VAR_MAX, n);
            o += n;
            break;
        }
        }
    }
    return (size_t)(o - out);
}
