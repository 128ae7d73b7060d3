/* transport.h — the byte transport under an HTTP connection, behind a tiny table of functions so
 * that plain TCP and TLS share one engine (as wrk does). All calls are non-blocking; they return
 * the byte count, or one of the TRANSPORT_* codes. */
#ifndef BRINK_TRANSPORT_H
#define BRINK_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum {
    TRANSPORT_AGAIN = -1,     /* would block: wait for readiness (want_write says which) */
    TRANSPORT_ERROR = -2,     /* the connection is broken (errno / tls detail set) */
    TRANSPORT_EOF = -3,       /* orderly close by the peer */
    TRANSPORT_TLS_ERROR = -4, /* a TLS failure (handshake, verification, protocol) */
};

typedef struct transport_conn {
    int fd;
    void *ssl;       /* SSL * for TLS */
    bool want_write; /* after TRANSPORT_AGAIN: true when the call waits for writability */
    int last_errno;
} transport_conn;

typedef struct transport {
    const char *name;
    /* Continues the handshake after the TCP connect succeeded: 1 done, 0 in progress,
     * TRANSPORT_TLS_ERROR on failure. */
    int (*handshake)(transport_conn *c, const char *sni_host, bool host_is_ip);
    ssize_t (*read)(transport_conn *c, char *buf, size_t len);
    ssize_t (*write)(transport_conn *c, const char *buf, size_t len);
    /* Bytes already decrypted and buffered (TLS): the caller must read again before waiting. */
    size_t (*pending)(transport_conn *c);
    void (*close)(transport_conn *c);
} transport;

extern const transport transport_plain;
extern const transport transport_tls;

/* Creates the process-wide TLS client context (call once, before threads start). With insecure,
 * certificates are not verified. Returns 0 or -1 with a reason in err. */
int transport_tls_init(bool insecure, char *err, size_t errlen);
void transport_tls_cleanup(void);
/* A one-line description of the last TLS failure on this thread (e.g. "certificate verify
 * failed: self-signed certificate"). */
const char *transport_tls_last_error(void);

#endif
