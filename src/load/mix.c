/* mix.c — the scenario's parts of the load engine that need no connection (see mix.h). */
#include "load/mix.h"

#include <stdlib.h>
#include <string.h>

#include "core/jscan.h"

void mix_init(mix *m, const scenario *sc) {
    memset(m, 0, sizeof *m);
    m->sc = sc;
    for (int i = 0; i < sc->nreq; i++) {
        if (sc->req[i].weight <= 0) continue;
        m->total += sc->req[i].weight;
        m->items[m->n++] = (mix_item){.req = i, .flow = -1, .cum = m->total};
    }
    for (int i = 0; i < sc->nflows; i++) {
        if (sc->flow[i].weight <= 0) continue;
        m->total += sc->flow[i].weight;
        m->items[m->n++] = (mix_item){.req = -1, .flow = i, .cum = m->total};
    }
}

/* splitmix64's finalizer: consecutive seqs spread over [0, 2^64) */
static uint64_t mix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

const mix_item *mix_pick(const mix *m, uint64_t seq) {
    double u = (double)(mix64(seq) >> 11) * 0x1.0p-53 * m->total;
    int lo = 0, hi = m->n - 1;
    while (lo < hi) { /* the first item whose cumulative weight exceeds u */
        int mid = (lo + hi) / 2;
        if (m->items[mid].cum > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return &m->items[lo];
}

int mix_nchecks(const scn_request *r) {
    return (r->has_status ? 1 : 0) + r->nchecks;
}

const char *mix_check_label(const scn_request *r, int i) {
    if (r->has_status) {
        if (i == 0) return r->status_label;
        i--;
    }
    return r->checks[i].label;
}

bool mix_needs_body(const scn_request *r) {
    return r->nchecks > 0 || r->ncaptures > 0;
}

/* v's text into out (TMPL_VAR_MAX + 1 bytes), as a capture or a check reads it */
static bool text_of(const jscan_val *v, char *out) {
    return jscan_text(v, out, TMPL_VAR_MAX + 1) >= 0;
}

/* The value at k's path compared as k says. ok: the body is JSON. */
static bool check_ok(const scn_check *k, const char *body, size_t len, bool ok) {
    if (!ok) return false; /* no response, or not JSON */
    jscan_val v;
    int r = jscan_find(body, len, k->path, &v);
    bool has = r == 1 && v.type != JS_NULL;
    char text[TMPL_VAR_MAX + 1];
    switch (k->op) {
    case SCN_EXISTS: return has;
    case SCN_ABSENT: return r >= 0 && !has;
    case SCN_EQUALS:
        if (!has || !text_of(&v, text)) return false;
        if (v.type == JS_NUMBER && k->is_num) return strtod(text, NULL) == k->num;
        return !strcmp(text, k->text);
    case SCN_MATCHES: return has && text_of(&v, text) && regexec(&k->re, text, 0, NULL, 0) == 0;
    default: break;
    }
    if (!has || v.type != JS_NUMBER || !text_of(&v, text)) return false;
    double x = strtod(text, NULL);
    switch (k->op) {
    case SCN_LT: return x < k->num;
    case SCN_LE: return x <= k->num;
    case SCN_GT: return x > k->num;
    case SCN_GE: return x >= k->num;
    default: return false;
    }
}

/* A captured value: present, shorter than a variable holds, no control characters (it goes into
 * request lines and headers). */
static bool capture(const char *body, size_t len, const char *path, char *out, uint16_t *vlen) {
    jscan_val v;
    char text[TMPL_VAR_MAX + 1];
    if (jscan_find(body, len, path, &v) != 1 || v.type == JS_NULL || !text_of(&v, text))
        return false;
    size_t n = strlen(text);
    if (n == 0 || n >= TMPL_VAR_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f) return false;
    memcpy(out, text, n);
    *vlen = (uint16_t)n;
    return true;
}

void mix_judge(const scn_request *r, int status, const char *body, size_t len, char *vals,
               uint16_t *lens, mix_verdict *v) {
    v->expected = status > 0 && (r->has_status ? status_set_has(&r->status, status) : status < 400);
    v->captured = true;
    v->failed = 0;
    int i = 0;
    if (r->has_status) {
        if (!v->expected) v->failed |= 1u;
        i = 1;
    }
    if (!mix_needs_body(r)) return;
    /* the body is read in place (core/jscan.h): nothing allocated per response */
    bool json = status > 0 && body && len > 0 && jscan_valid(body, len);
    for (int k = 0; k < r->nchecks; k++, i++)
        if (!check_ok(&r->checks[k], body, len, json)) v->failed |= 1u << i;
    for (int k = 0; k < r->ncaptures; k++) {
        int var = r->captures[k].var;
        if (!json ||
            !capture(body, len, r->captures[k].path, vals + (size_t)var * TMPL_VAR_MAX, &lens[var]))
            v->captured = false;
    }
}

int mix_pool_init(mix_pool *p, int nvars, int32_t max) {
    memset(p, 0, sizeof *p);
    p->nvars = nvars > 0 ? nvars : 1;
    p->max = max;
    p->free_head = -1;
    return 0;
}

void mix_pool_free(mix_pool *p) {
    free(p->in);
    free(p->vals);
    free(p->lens);
    memset(p, 0, sizeof *p);
    p->free_head = -1;
}

static int grow(mix_pool *p) {
    int32_t cap = p->cap ? p->cap * 2 : 64;
    if (cap > p->max) cap = p->max;
    if (cap <= p->cap) return -1;
    size_t nv = (size_t)p->nvars;
    mix_inst *in = realloc(p->in, (size_t)cap * sizeof *in);
    if (!in) return -1;
    p->in = in;
    char *vals = realloc(p->vals, (size_t)cap * nv * TMPL_VAR_MAX);
    if (!vals) return -1;
    p->vals = vals;
    uint16_t *lens = realloc(p->lens, (size_t)cap * nv * sizeof *lens);
    if (!lens) return -1;
    p->lens = lens;
    for (int32_t i = cap - 1; i >= p->cap; i--) { /* new ones on the free list, lowest first */
        p->in[i].next_free = p->free_head;
        p->free_head = i;
    }
    p->cap = cap;
    return 0;
}

int32_t mix_pool_get(mix_pool *p) {
    if (p->free_head < 0 && grow(p) < 0) return -1;
    int32_t i = p->free_head;
    p->free_head = p->in[i].next_free;
    p->used++;
    memset(mix_lens(p, i), 0, (size_t)p->nvars * sizeof(uint16_t));
    return i;
}

void mix_pool_put(mix_pool *p, int32_t i) {
    p->in[i].next_free = p->free_head;
    p->free_head = i;
    p->used--;
}
