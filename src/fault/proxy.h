/* proxy.h — brink's fault-injecting TCP proxy ("toxics" as Toxiproxy defines them).
 *
 * A proxy_server owns one event-loop thread (epoll) that runs every proxy: it accepts client
 * connections on a proxy's listen address, connects each to the upstream, and passes bytes both
 * ways, unchanged, through the toxics configured for each direction. All proxy state belongs to
 * that thread; the functions below (called from any other thread: the HTTP control API, the
 * stack, scenarios) post a command to the loop and wait for its answer, so the data path takes no
 * locks.
 *
 * The toxics themselves (toxic_spec, their types, streams and names) are described in toxic.h,
 * which this header includes. */
#ifndef BRINK_PROXY_H
#define BRINK_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fault/toxic.h" /* toxic_spec and the toxics' names: part of this API */

#define PROXY_NAME_MAX   TOXIC_NAME_MAX  /* proxy and toxic names share one limit */
#define PROXY_NAME_RULE  TOXIC_NAME_RULE /* ... and one rule: proxy_name_ok */
#define PROXY_ADDR_MAX   256
#define PROXY_MAX_TOXICS TOXIC_LIST_MAX

/* Status codes of the control functions; the HTTP API maps them to status codes. */
typedef enum proxy_status {
    PROXY_OK = 0,
    PROXY_EINVAL = -1, /* bad argument (400) */
    PROXY_ENOENT = -2, /* no such proxy or toxic (404) */
    PROXY_EEXIST = -3, /* name already used (409) */
    PROXY_EADDR = -4,  /* cannot listen on the address (500, as Toxiproxy) */
    PROXY_EFULL = -5,  /* too many toxics (400) */
    PROXY_EINTERNAL = -6,
} proxy_status;

typedef struct proxy_info {
    char name[PROXY_NAME_MAX];
    char listen[PROXY_ADDR_MAX]; /* the actual address, "127.0.0.1:34567" (port 0 resolved) */
    char upstream[PROXY_ADDR_MAX];
    bool enabled;
    int ntoxics;
    toxic_spec toxics[PROXY_MAX_TOXICS];
    /* counters since creation */
    int64_t connections_total, connections_active;
    int64_t bytes_upstream, bytes_downstream;
} proxy_info;

typedef struct proxy_server proxy_server;

/* A proxy's name is one the API can address as /proxies/NAME (toxic_name_ok's rule:
 * [A-Za-z0-9_.-], 1 to 63 characters); proxy_create refuses any other (PROXY_EINVAL). */
bool proxy_name_ok(const char *name);

/* Starts the event-loop thread. NULL with a reason in err. */
proxy_server *proxy_server_start(char *err, size_t errlen);
/* Closes every connection and listener, stops the thread, frees everything. */
void proxy_server_stop(proxy_server *srv);

/* name, listen ("HOST:PORT", port 0 = pick one; IPv6 as "[::1]:0"), upstream ("HOST:PORT").
 * On PROXY_OK, *out (if not NULL) describes the proxy with its actual listen address. */
proxy_status proxy_create(proxy_server *srv, const char *name, const char *listen,
                          const char *upstream, bool enabled, proxy_info *out, char *err,
                          size_t errlen);
/* Changes listen and/or upstream (NULL = keep) and enabled (-1 = keep, 0, 1). Disabling closes
 * the listener and every open connection (clients see their connections closed, new ones are
 * refused); enabling listens again on the same address. */
proxy_status proxy_update(proxy_server *srv, const char *name, const char *listen,
                          const char *upstream, int enabled, proxy_info *out, char *err,
                          size_t errlen);
proxy_status proxy_delete(proxy_server *srv, const char *name);
proxy_status proxy_get(proxy_server *srv, const char *name, proxy_info *out);
/* All proxies, sorted by name (malloc'd array, caller frees). */
proxy_status proxy_list(proxy_server *srv, proxy_info **out, int *count);
/* Enables every proxy and removes every toxic (Toxiproxy's POST /reset). */
proxy_status proxy_reset(proxy_server *srv);

/* Adds a toxic (name must be unique within the proxy). Applies to existing connections too. */
proxy_status proxy_toxic_add(proxy_server *srv, const char *proxy, const toxic_spec *t, char *err,
                             size_t errlen);
/* Replaces the toxic named name (its type and stream are kept; attributes and toxicity change). */
proxy_status proxy_toxic_update(proxy_server *srv, const char *proxy, const char *name,
                                const toxic_spec *t, char *err, size_t errlen);
proxy_status proxy_toxic_remove(proxy_server *srv, const char *proxy, const char *name);

#endif
