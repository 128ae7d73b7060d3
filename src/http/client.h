/* client.h — a small HTTP/1.1 client for set-up and audits (not the load engine's hot path): one
 * keep-alive connection to one host, requests bounded by a deadline, responses parsed by
 * libhttp-parser (Content-Length, chunked, or until the server closes), plain TCP or TLS through
 * the engine's transports (http/transport.h).
 *
 * Two levels:
 *   client_request   a whole request and its response, reconnecting when a kept-alive connection
 *                    turns out to be closed (idempotent methods are retried once);
 *   the split API    connect, write raw bytes, then read the response step by step from a poll()
 *                    loop — what the vendor race needs to hold back a request's last byte.
 * The response's body belongs to the client and stays valid until the next request. */
#ifndef BRINK_CLIENT_H
#define BRINK_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CLIENT_BODY_MAX (1024 * 1024) /* a larger response body is an error (CLIENT_ERR_PARSE) */

typedef struct client client;

/* Why a request got no response. */
typedef enum client_err {
    CLIENT_OK = 0,
    CLIENT_ERR_CONNECT, /* refused, unreachable, handshake failed */
    CLIENT_ERR_TIMEOUT, /* the deadline passed */
    CLIENT_ERR_RESET,   /* reset or another socket error */
    CLIENT_ERR_CLOSED,  /* the server closed before a complete response */
    CLIENT_ERR_PARSE,   /* not HTTP, or a body above CLIENT_BODY_MAX */
    CLIENT_ERR_TLS,
} client_err;

const char *client_err_name(client_err e); /* "connect", "timeout", "reset", ... */

typedef struct client_response {
    int status;
    const char *body; /* NUL-terminated; owned by the client */
    size_t body_len;
    bool keep_alive; /* the connection may carry another request */
} client_response;

/* A client for base_url (http(s)://host[:port][/...]; the path is ignored: each request names
 * its own). The address is resolved here, once. insecure: do not verify TLS certificates. */
int client_new(const char *base_url, bool insecure, client **out, char *err, size_t errlen);
void client_free(client *c); /* NULL is allowed */
/* "Host" header value and the base URL as given (for messages). */
const char *client_host_header(const client *c);
const char *client_base_url(const client *c);

/* A whole request. headers: extra "Name: value" lines, each ending in \r\n (may be NULL); Host,
 * Content-Length (with a body) and Connection: keep-alive are added. 0 with *resp, or -1 with
 * the class in *why (may be NULL) and a one-line reason in err. */
int client_request(client *c, const char *method, const char *path, const char *headers,
                   const char *body, size_t body_len, int64_t timeout_ns, client_response *resp,
                   client_err *why, char *err, size_t errlen);

/* ---- the split API ------------------------------------------------------------------------- */

/* Opens the connection unless it is open (and, when it is open, sees whether the server closed
 * it meanwhile: then it reconnects). deadline_ns: CLOCK_MONOTONIC. 0, or -1. */
int client_connect(client *c, int64_t deadline_ns, client_err *why, char *err, size_t errlen);
bool client_is_open(const client *c);
int client_fd(const client *c); /* -1 when closed */
void client_close(client *c);
/* Writes all len bytes (blocking until deadline_ns). 0, or -1 (the connection is closed). */
int client_write_all(client *c, const char *buf, size_t len, int64_t deadline_ns, client_err *why,
                     char *err, size_t errlen);
/* One non-blocking write attempt: bytes written, or -1 (would block or failed). */
ssize_t client_write_once(client *c, const char *buf, size_t len);
/* Bytes written to the connection that the kernel has not transmitted yet (SIOCOUTQNSD); 0 once
 * everything went out — on loopback, into the server's socket. (Not "unacknowledged": a server
 * that waits for the rest of a request may delay its ACK by up to 40 ms.) -1 when closed. */
int client_unsent(const client *c);
/* Prepares for the next response (call before the request's last byte goes out). */
void client_response_begin(client *c);
/* Reads what the socket holds and parses it: 1 when the response is complete (then *resp), 0
 * when more is needed (wait for POLLIN on client_fd), -1 on failure (connection closed, *why). */
int client_response_step(client *c, client_response *resp, client_err *why, char *err,
                         size_t errlen);
/* Steps until complete or deadline_ns: 0 with *resp, or -1. */
int client_response_wait(client *c, int64_t deadline_ns, client_response *resp, client_err *why,
                         char *err, size_t errlen);

#endif
