/* ready.h — "is it up?" for the four kinds of endpoint a stack has: tcp://HOST:PORT (a connect),
 * redis://[[USER]:PASS@]HOST[:PORT][/DB] (PING answers PONG), postgresql://... or postgres://...
 * (a real query, SELECT 1, answers) and http(s)://HOST[:PORT]/PATH (a GET answers 2xx; HTTPS
 * certificates are not verified: this checks liveness, not identity). Every probe is bounded by
 * its timeout, including a server that accepts and never answers (a paused process). */
#ifndef BRINK_READY_H
#define BRINK_READY_H

#include <stddef.h>
#include <stdint.h>

/* One attempt. 0 when ready; -1 with a one-line reason (which never contains a password). */
int ready_probe(const char *url, int64_t timeout_ns, char *err, size_t errlen);
/* One HTTP GET of url: the status code in *status. 0, or -1 when no response came. */
int ready_http_get(const char *url, int64_t timeout_ns, int *status, char *err, size_t errlen);
/* Whether url is one of the four kinds (syntax only). 0, or -1 with a reason. */
int ready_check_url(const char *url, char *err, size_t errlen);
/* url with its password replaced by "***" (for display). */
void ready_redact(const char *url, char *out, size_t outlen);

#endif
