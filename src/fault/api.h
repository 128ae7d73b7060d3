/* api.h — the HTTP control API of brink's fault proxy, compatible with Toxiproxy's 2.x API so that
 * existing Toxiproxy clients (the Go client and toxiproxy-cli, Ruby, Python, Node, Java) drive
 * brink unchanged. It serves one proxy_server (proxy.h); every request is translated into calls
 * of that header's functions. */
#ifndef BRINK_PROXY_API_H
#define BRINK_PROXY_API_H

#include <stddef.h>

#include "fault/proxy.h"

#define PROXY_API_DEFAULT_LISTEN "127.0.0.1:8474"
#define PROXY_API_MAX_BODY       (1024 * 1024) /* larger request bodies get 413 */

typedef struct proxy_api proxy_api;

/* Starts the HTTP server on listen ("HOST:PORT", "[::1]:PORT"; NULL = PROXY_API_DEFAULT_LISTEN;
 * port 0 = pick one) with its own thread. bound receives the actual "HOST:PORT". NULL with a
 * one-line reason in err. The server binds to that address only. */
proxy_api *proxy_api_start(proxy_server *srv, const char *listen, char *bound, size_t boundlen,
                           char *err, size_t errlen);
/* Stops serving (waits for requests in progress) and frees everything. NULL is allowed. */
void proxy_api_stop(proxy_api *api);

/* Applies a Toxiproxy populate document (a JSON array of {name, listen, upstream, enabled}) with
 * the semantics of POST /populate: each proxy is created, or replaced when its listen or upstream
 * differs from the existing one's, or left untouched; nothing changes unless every entry is valid,
 * and a failure part-way restores the proxies the call had replaced. Returns 0, or the HTTP status
 * Toxiproxy would answer (400, 409, 500) with a one-line reason in err. */
int proxy_api_populate(proxy_server *srv, const char *json, size_t len, char *err, size_t errlen);

#endif
