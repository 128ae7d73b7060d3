/* http.h — dispatchd's HTTP front: event-loop threads running libmicrohttpd daemons (and their
 * Redis pipes), executor threads for what waits for PostgreSQL, routing, and limits (body size,
 * head size, idle and request timeouts, connections). The route handlers (webhook.c, accept.c)
 * answer with a reply (reply.h) and never include this header. */
#ifndef DISPATCHD_HTTP_H
#define DISPATCHD_HTTP_H

#include "config.h"

#include <stddef.h>

/* Starts serving (the daemon's threads run the handlers). 0, or -1 with err. */
int httpd_start(const dcfg *c, char *err, size_t errlen);
/* The bound port (useful with port 0). */
int httpd_port(void);
/* Stops accepting new connections (the listening socket is closed). */
void httpd_quiesce(void);
/* Waits until no request is in flight or timeout_ms passed; returns the requests still in flight.
 */
long httpd_drain(int timeout_ms);
void httpd_stop(void);

#endif
