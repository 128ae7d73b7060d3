/* reach_api.c — the fault proxy's Toxiproxy-compatible API (src/fault/api.c, compiled whole) and a
 * way into its router for fuzz_proxy_api.c (see reach.h): a request as on_request hands it over
 * once libmicrohttpd has read its body. */
#include "../../src/fault/api.c"

#include "reach.h"

int fuzz_api_request(proxy_server *srv, const char *method, const char *url, const char *body,
                     size_t len) {
    request r = {.c = NULL, .srv = srv, .method = method, .body = body, .len = len};
    return (int)route(&r, url);
}
