/* reach_dispatchd.c — dispatchd's HTTP front (service/http.c, compiled whole) and a way into the
 * pure parts of its request path for fuzz_dispatchd.c (see reach.h): the router that takes the
 * order id out of the URL and the Content-Type check. (The head itself is parsed by
 * libmicrohttpd.) */
#include "../../service/http.c"

#include "reach.h"

int fuzz_dd_classify(const char *url, char *id, size_t idlen) {
    conn_ctx cc;
    memset(&cc, 0, sizeof cc);
    route r = classify(url, &cc);
    snprintf(id, idlen, "%s", cc.id);
    return (int)r;
}

bool fuzz_dd_json_content_type(const char *ct) {
    return json_content_type(ct);
}
