/* fuzz_proxy_api.c — the fault proxy's Toxiproxy-compatible HTTP API (src/fault/api.c through
 * reach_api.c) on arbitrary requests: routes, methods, the JSON bodies of proxies, toxics and
 * populate, attributes and toxicity, names. The proxies themselves are stood in for by a small
 * table here with proxy.c's rules (names, HOST:PORT addresses, duplicate and missing proxies and
 * toxics, the toxic limit, toxic.c's own checks): the real ones listen on sockets, which a fuzzer
 * must not open. libmicrohttpd's response functions are stood in for too, so that each answer can
 * be checked: a status Toxiproxy uses, and a JSON body whenever one is sent.
 *
 * Input: requests separated by a line "%%", each "METHOD URL" on its first line and its body
 * after; at most 8, against a table that starts empty for each input. */
#include <jansson.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "fault/api.h"
#include "fault/proxy.h"
#include "reach.h"

/* ---- libmicrohttpd's response side -------------------------------------------------------- */

struct MHD_Response {
    char *body;
    size_t len;
    int json;
};

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer,
                                                     enum MHD_ResponseMemoryMode mode) {
    struct MHD_Response *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->len = size;
    if (mode == MHD_RESPMEM_MUST_FREE) {
        r->body = buffer;
    } else if (size) {
        r->body = malloc(size);
        if (!r->body) abort();
        memcpy(r->body, buffer, size);
    }
    return r;
}

enum MHD_Result MHD_add_response_header(struct MHD_Response *r, const char *header,
                                        const char *content) {
    if (!strcasecmp(header, "Content-Type") && !strncmp(content, "application/json", 16))
        r->json = 1;
    return MHD_YES;
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *c, unsigned int status,
                                   struct MHD_Response *r) {
    static const unsigned ok[] = {200, 201, 204, 400, 403, 404, 405, 409, 413, 500};
    size_t i = 0;
    while (i < sizeof ok / sizeof ok[0] && ok[i] != status) i++;
    if (i == sizeof ok / sizeof ok[0]) {
        fprintf(stderr, "fuzz_proxy_api: status %u\n", status);
        abort();
    }
    if (r->json) {
        json_error_t je;
        json_t *v = json_loadb(r->body, r->len, JSON_DECODE_ANY, &je);
        if (!v) {
            fprintf(stderr, "fuzz_proxy_api: a JSON answer that is not (%s): %.*s\n", je.text,
                    (int)r->len, r->body);
            abort();
        }
        json_decref(v);
    }
    return MHD_YES;
}

void MHD_destroy_response(struct MHD_Response *r) {
    if (!r) return;
    free(r->body);
    free(r);
}

/* ---- the proxies: a table with proxy.c's rules ---------------------------------------------- */

#define MAXP 16

struct proxy_server {
    proxy_info p[MAXP];
    int n;
    int port;
};

static proxy_info *find(proxy_server *s, const char *name) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->p[i].name, name)) return &s->p[i];
    return NULL;
}

/* HOST:PORT or [V6]:PORT with a numeric port (proxy.c's split_hostport, in short). */
static bool hostport(const char *s, bool port0) {
    if (!s || !*s || strlen(s) >= PROXY_ADDR_MAX) return false;
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || !colon[1] || strlen(colon + 1) > 5) return false;
    for (const char *q = colon + 1; *q; q++)
        if (*q < '0' || *q > '9') return false;
    return port0 || atoi(colon + 1) != 0;
}

proxy_status proxy_create(proxy_server *s, const char *name, const char *listen,
                          const char *upstream, bool enabled, proxy_info *out, char *err,
                          size_t errlen) {
    if (!name || !*name || strlen(name) >= PROXY_NAME_MAX) return PROXY_EINVAL;
    if (find(s, name)) return PROXY_EEXIST;
    if (!hostport(upstream, false)) {
        snprintf(err, errlen, "invalid upstream address \"%s\": want HOST:PORT", upstream);
        return PROXY_EINVAL;
    }
    if (!hostport(listen, true)) return PROXY_EINVAL;
    if (s->n == MAXP) return PROXY_EADDR;
    proxy_info *p = &s->p[s->n++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->listen, sizeof p->listen, "127.0.0.1:%d", 20000 + s->port++);
    snprintf(p->upstream, sizeof p->upstream, "%s", upstream);
    p->enabled = enabled;
    if (out) *out = *p;
    return PROXY_OK;
}

proxy_status proxy_update(proxy_server *s, const char *name, const char *listen,
                          const char *upstream, int enabled, proxy_info *out, char *err,
                          size_t errlen) {
    proxy_info *p = find(s, name ? name : "");
    if (!p) return PROXY_ENOENT;
    if (listen && !hostport(listen, true)) return PROXY_EINVAL;
    if (upstream && !hostport(upstream, false)) return PROXY_EINVAL;
    if (listen) snprintf(p->listen, sizeof p->listen, "127.0.0.1:%d", 20000 + s->port++);
    if (upstream) snprintf(p->upstream, sizeof p->upstream, "%s", upstream);
    if (enabled >= 0) p->enabled = enabled != 0;
    if (out) *out = *p;
    return PROXY_OK;
}

proxy_status proxy_delete(proxy_server *s, const char *name) {
    proxy_info *p = find(s, name ? name : "");
    if (!p) return PROXY_ENOENT;
    *p = s->p[--s->n];
    return PROXY_OK;
}

proxy_status proxy_get(proxy_server *s, const char *name, proxy_info *out) {
    proxy_info *p = find(s, name ? name : "");
    if (!p) return PROXY_ENOENT;
    *out = *p;
    return PROXY_OK;
}

proxy_status proxy_list(proxy_server *s, proxy_info **out, int *count) {
    *out = malloc(sizeof **out * (size_t)(s->n ? s->n : 1));
    if (!*out) return PROXY_EINTERNAL;
    memcpy(*out, s->p, sizeof **out * (size_t)s->n);
    *count = s->n;
    return PROXY_OK;
}

proxy_status proxy_reset(proxy_server *s) {
    for (int i = 0; i < s->n; i++) {
        s->p[i].enabled = true;
        s->p[i].ntoxics = 0;
    }
    return PROXY_OK;
}

static int find_toxic(proxy_info *p, const char *name) {
    for (int i = 0; i < p->ntoxics; i++)
        if (!strcmp(p->toxics[i].name, name)) return i;
    return -1;
}

proxy_status proxy_toxic_add(proxy_server *s, const char *proxy, const toxic_spec *t, char *err,
                             size_t errlen) {
    proxy_info *p = find(s, proxy ? proxy : "");
    if (!p) return PROXY_ENOENT;
    if (toxic_spec_check_new(t, err, errlen) < 0) return PROXY_EINVAL;
    if (find_toxic(p, t->name) >= 0) return PROXY_EEXIST;
    if (p->ntoxics >= PROXY_MAX_TOXICS) return PROXY_EFULL;
    p->toxics[p->ntoxics++] = *t;
    return PROXY_OK;
}

proxy_status proxy_toxic_update(proxy_server *s, const char *proxy, const char *name,
                                const toxic_spec *t, char *err, size_t errlen) {
    proxy_info *p = find(s, proxy ? proxy : "");
    int k = p ? find_toxic(p, name ? name : "") : -1;
    if (k < 0) return PROXY_ENOENT;
    if (toxic_spec_check(p->toxics[k].type, t, err, errlen) < 0) return PROXY_EINVAL;
    toxic_spec n = *t;
    memcpy(n.name, p->toxics[k].name, sizeof n.name);
    n.type = p->toxics[k].type;
    n.stream = p->toxics[k].stream;
    p->toxics[k] = n;
    return PROXY_OK;
}

proxy_status proxy_toxic_remove(proxy_server *s, const char *proxy, const char *name) {
    proxy_info *p = find(s, proxy ? proxy : "");
    int k = p ? find_toxic(p, name ? name : "") : -1;
    if (k < 0) return PROXY_ENOENT;
    memmove(&p->toxics[k], &p->toxics[k + 1], sizeof p->toxics[0] * (size_t)(p->ntoxics - k - 1));
    p->ntoxics--;
    return PROXY_OK;
}

/* ---- the harness ------------------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static proxy_server srv;
    memset(&srv, 0, sizeof srv);
    char *part[8];
    size_t plen[8];
    int n = fuzz_split(data, size, part, plen, 8);
    for (int i = 0; i < n; i++) {
        char *line = part[i], *nl = strchr(line, '\n');
        const char *body = nl ? nl + 1 : "";
        size_t blen = nl ? plen[i] - (size_t)(nl + 1 - line) : 0;
        if (nl) *nl = '\0';
        char *sp = strchr(line, ' ');
        if (!sp) continue;
        *sp = '\0';
        const char *url = sp + 1;
        if (*url != '/') continue; /* libmicrohttpd hands over paths only */
        fuzz_api_request(&srv, line, url, blen ? body : NULL, blen);
    }
    /* a populate document on its own too (POST /populate's body, and `brink proxy --config`) */
    char err[512] = "";
    memset(&srv, 0, sizeof srv);
    int st = proxy_api_populate(&srv, (const char *)data, size, err, sizeof err);
    if (st != 0 && (st != 400 && st != 409 && st != 500)) abort();
    fuzz_free_parts(part, n);
    return 0;
}
