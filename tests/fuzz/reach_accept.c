/* reach_accept.c — dispatchd's accept route (service/accept.c, compiled whole) and a way into
 * the parsing of its body for fuzz_dispatchd.c (see reach.h): parse_vendor, the only part of
 * the route that runs before PostgreSQL. */
#include "../../service/accept.c"

#include "reach.h"

int fuzz_dd_parse_vendor(const char *body, size_t len, char *vendor, size_t cap, int *status,
                         char *out, size_t outlen) {
    reply rep;
    memset(&rep, 0, sizeof rep);
    int rc = parse_vendor(body, len, vendor, cap, &rep);
    *status = rep.status;
    snprintf(out, outlen, "%.*s", (int)rep.len, rep.body ? rep.body : "");
    return rc;
}
