/* url.c — parsing and resolving the target URL. Resolution happens once, before any traffic; the
 * engine connects to the resolved address for the whole run (as wrk does). */
#include "http/url.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int url_parse(const char *s, url *u, char *err, size_t errlen) {
    memset(u, 0, sizeof *u);
    const char *p;
    if (!strncasecmp(s, "http://", 7)) {
        p = s + 7;
    } else if (!strncasecmp(s, "https://", 8)) {
        u->tls = true;
        p = s + 8;
    } else {
        snprintf(err, errlen, "invalid URL '%s': must start with http:// or https://", s);
        return -1;
    }
    size_t alen = strcspn(p, "/?#");
    const char *rest = p + alen;
    if (alen == 0) {
        snprintf(err, errlen, "invalid URL '%s': no host", s);
        return -1;
    }
    if (memchr(p, '@', alen)) {
        snprintf(err, errlen, "invalid URL '%s': credentials in URLs are not supported", s);
        return -1;
    }
    const char *hs = p, *he, *port = NULL;
    if (*p == '[') {
        const char *close = memchr(p, ']', alen);
        if (!close) {
            snprintf(err, errlen, "invalid URL '%s': unterminated IPv6 address", s);
            return -1;
        }
        hs = p + 1;
        he = close;
        if (close + 1 < p + alen) {
            if (close[1] != ':') {
                snprintf(err, errlen, "invalid URL '%s': junk after IPv6 address", s);
                return -1;
            }
            port = close + 2;
        }
    } else {
        const char *colon = memchr(p, ':', alen);
        he = colon ? colon : p + alen;
        if (colon) port = colon + 1;
    }
    size_t hlen = (size_t)(he - hs);
    if (hlen == 0 || hlen >= sizeof u->host) {
        snprintf(err, errlen, "invalid URL '%s': bad host", s);
        return -1;
    }
    memcpy(u->host, hs, hlen);
    for (size_t i = 0; i < hlen; i++) {
        unsigned char c = (unsigned char)u->host[i];
        /* control characters would end up raw in the Host header (CR LF: header injection) */
        if (c == '{' || c == '}' || c <= ' ' || c == 0x7f || c == '/' || c == '\\') {
            snprintf(err, errlen, "invalid URL '%s': bad character in host", s);
            return -1;
        }
    }
    if (port) {
        size_t plen = (size_t)(p + alen - port);
        int v = 0;
        if (plen == 0 || plen > 5) goto badport;
        for (size_t i = 0; i < plen; i++) {
            if (port[i] < '0' || port[i] > '9') goto badport;
            v = v * 10 + (port[i] - '0');
        }
        if (v < 1 || v > 65535) goto badport;
        u->port = v;
    } else {
        u->port = u->tls ? 443 : 80;
        u->default_port = true;
    }
    snprintf(u->port_str, sizeof u->port_str, "%d", u->port);
    unsigned char tmp[16];
    u->host_is_ip = inet_pton(AF_INET, u->host, tmp) == 1 || inet_pton(AF_INET6, u->host, tmp) == 1;
    bool v6 = strchr(u->host, ':') != NULL;
    if (u->default_port)
        snprintf(u->host_header, sizeof u->host_header, v6 ? "[%s]" : "%s", u->host);
    else
        snprintf(u->host_header, sizeof u->host_header, v6 ? "[%s]:%d" : "%s:%d", u->host, u->port);
    /* path: drop a fragment; add "/" when the URL has none */
    size_t rlen = strcspn(rest, "#");
    if (rlen && rest[0] == '?') {
        u->path = malloc(rlen + 2);
        if (u->path) {
            u->path[0] = '/';
            memcpy(u->path + 1, rest, rlen);
            u->path[rlen + 1] = '\0';
        }
    } else if (rlen) {
        u->path = strndup(rest, rlen);
    } else {
        u->path = strdup("/");
    }
    if (!u->path) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (const char *c = u->path; *c; c++) {
        if ((unsigned char)*c <= ' ' || *c == 0x7f) {
            snprintf(err, errlen, "invalid URL '%s': spaces or control characters in the path", s);
            url_free(u);
            return -1;
        }
    }
    return 0;
badport:
    snprintf(err, errlen, "invalid URL '%s': bad port (want 1..65535)", s);
    return -1;
}

void url_free(url *u) {
    free(u->path);
    u->path = NULL;
}

int url_resolve(const url *u, struct sockaddr_storage *addr, socklen_t *addrlen, char *err,
                size_t errlen) {
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC}, *res = NULL;
    int rc = getaddrinfo(u->host, u->port_str, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "cannot resolve host '%s': %s", u->host, gai_strerror(rc));
        return -1;
    }
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}
