/* url.h — target URLs: http(s)://host[:port][/path][?query], IPv4, IPv6 ([::1]) and names.
 * The path and query may hold request-template placeholders; the host may not. */
#ifndef BRINK_URL_H
#define BRINK_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

typedef struct url {
    bool tls;
    char host[256];        /* without brackets */
    char port_str[8];      /* decimal */
    int port;              /* explicit or 80/443 */
    bool default_port;     /* port not written in the URL */
    bool host_is_ip;       /* literal address (no SNI) */
    char *path;            /* path + query, at least "/"; malloc'd */
    char host_header[300]; /* value for the Host header ("[::1]:8080", "example.com") */
} url;

/* Parses s. Returns 0, or -1 with a one-line reason in err. */
int url_parse(const char *s, url *u, char *err, size_t errlen);
void url_free(url *u);

/* Resolves host:port to one address (the first that getaddrinfo returns). 0 or -1 + err. */
int url_resolve(const url *u, struct sockaddr_storage *addr, socklen_t *addrlen, char *err,
                size_t errlen);

#endif
