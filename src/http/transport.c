/* transport.c — plain TCP and TLS (OpenSSL) transports for the load engine's connections. The TLS
 * context is shared by every thread (SSL_CTX is thread-safe once configured); each connection has
 * its own SSL with SNI and host-name verification unless the user asked for --insecure. */
#include "http/transport.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static SSL_CTX *tls_ctx;
static bool tls_insecure;
static _Thread_local char tls_err[256];

/* ---- plain ---- */

static int plain_handshake(transport_conn *c, const char *sni, bool is_ip) {
    return 1;
}

static ssize_t plain_read(transport_conn *c, char *buf, size_t len) {
    ssize_t n = read(c->fd, buf, len);
    if (n > 0) return n;
    if (n == 0) return TRANSPORT_EOF;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        c->want_write = false;
        return TRANSPORT_AGAIN;
    }
    c->last_errno = errno;
    return TRANSPORT_ERROR;
}

static ssize_t plain_write(transport_conn *c, const char *buf, size_t len) {
    ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0) return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        c->want_write = true;
        return TRANSPORT_AGAIN;
    }
    c->last_errno = errno;
    return TRANSPORT_ERROR;
}

static size_t plain_pending(transport_conn *c) {
    return 0;
}

static void plain_close(transport_conn *c) {
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
}

const transport transport_plain = {"tcp",       plain_handshake, plain_read,
                                   plain_write, plain_pending,   plain_close};

/* ---- TLS ---- */

static void tls_note_error(SSL *ssl) {
    unsigned long e = ERR_get_error();
    long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (vr != X509_V_OK) {
        snprintf(tls_err, sizeof tls_err, "certificate verify failed: %s",
                 X509_verify_cert_error_string(vr));
    } else if (e) {
        char buf[200];
        ERR_error_string_n(e, buf, sizeof buf);
        snprintf(tls_err, sizeof tls_err, "%s", buf);
    } else {
        snprintf(tls_err, sizeof tls_err, "TLS failure (%s)", errno ? strerror(errno) : "protocol");
    }
    ERR_clear_error();
}

const char *transport_tls_last_error(void) {
    return tls_err[0] ? tls_err : "TLS failure";
}

int transport_tls_init(bool insecure, char *err, size_t errlen) {
    if (tls_ctx) return 0;
    tls_ctx = SSL_CTX_new(TLS_client_method());
    if (!tls_ctx) {
        snprintf(err, errlen, "cannot create a TLS context");
        return -1;
    }
    tls_insecure = insecure;
    SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (insecure) {
        SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_PEER, NULL);
        if (SSL_CTX_set_default_verify_paths(tls_ctx) != 1) {
            snprintf(err, errlen, "cannot load the system's CA certificates");
            SSL_CTX_free(tls_ctx);
            tls_ctx = NULL;
            return -1;
        }
    }
    return 0;
}

void transport_tls_cleanup(void) {
    if (tls_ctx) SSL_CTX_free(tls_ctx);
    tls_ctx = NULL;
}

static int tls_handshake(transport_conn *c, const char *sni, bool is_ip) {
    SSL *ssl = c->ssl;
    if (!ssl) {
        ssl = SSL_new(tls_ctx);
        if (!ssl) {
            tls_note_error(NULL);
            return TRANSPORT_TLS_ERROR;
        }
        SSL_set_fd(ssl, c->fd);
        if (!is_ip) SSL_set_tlsext_host_name(ssl, sni);
        if (!tls_insecure) {
            if (is_ip) {
                X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), sni);
            } else {
                SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                SSL_set1_host(ssl, sni);
            }
        }
        c->ssl = ssl;
    }
    ERR_clear_error();
    errno = 0;
    int rc = SSL_connect(ssl);
    if (rc == 1) return 1;
    int e = SSL_get_error(ssl, rc);
    if (e == SSL_ERROR_WANT_READ) {
        c->want_write = false;
        return 0;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        c->want_write = true;
        return 0;
    }
    tls_note_error(ssl);
    return TRANSPORT_TLS_ERROR;
}

static ssize_t tls_result(transport_conn *c, int rc) {
    int e = SSL_get_error(c->ssl, rc);
    switch (e) {
    case SSL_ERROR_WANT_READ: c->want_write = false; return TRANSPORT_AGAIN;
    case SSL_ERROR_WANT_WRITE: c->want_write = true; return TRANSPORT_AGAIN;
    case SSL_ERROR_ZERO_RETURN: return TRANSPORT_EOF;
    case SSL_ERROR_SYSCALL:
        c->last_errno = errno;
        ERR_clear_error();
        return errno ? TRANSPORT_ERROR : TRANSPORT_EOF;
    default: tls_note_error(c->ssl); return TRANSPORT_TLS_ERROR;
    }
}

static ssize_t tls_read(transport_conn *c, char *buf, size_t len) {
    ERR_clear_error();
    errno = 0;
    int rc = SSL_read(c->ssl, buf, (int)(len > 1 << 30 ? 1 << 30 : len));
    return rc > 0 ? rc : tls_result(c, rc);
}

static ssize_t tls_write(transport_conn *c, const char *buf, size_t len) {
    ERR_clear_error();
    errno = 0;
    int rc = SSL_write(c->ssl, buf, (int)(len > 1 << 30 ? 1 << 30 : len));
    return rc > 0 ? rc : tls_result(c, rc);
}

static size_t tls_pending(transport_conn *c) {
    return c->ssl ? (size_t)SSL_pending(c->ssl) : 0;
}

static void tls_close(transport_conn *c) {
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    plain_close(c);
}

const transport transport_tls = {"tls", tls_handshake, tls_read, tls_write, tls_pending, tls_close};
