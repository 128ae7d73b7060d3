/*
 * testsrv — the deliberately simple HTTP/1.1 server that brink's integration
 * tests run the load engine against.
 *
 * It is built to be obviously correct rather than fast: one detached thread per
 * connection, blocking sockets (blocking OpenSSL with --tls-cert/--tls-key),
 * keep-alive, and a hand-written parser for the request line, the headers and
 * a Content-Length body (chunked requests are not supported: 400).  A test
 * starts it with --port 0, reads the line "PORT <n>" from its stdout (or the
 * --port-file), drives load at 127.0.0.1:<n> or [::1]:<n>, then checks the
 * server's own count of requests (GET /count, or --count-file, written on
 * SIGTERM/SIGINT/--max-seconds) against what brink reports.
 *
 * Routes (any method; HEAD gets the GET headers without a body):
 *   /            200 "ok"             /chunked     200, body in 3 chunks
 *   /close       200 then close       /eof         200, body until close
 *   /204         204, no length       /304         304, Content-Length: 5
 *   /100         100 Continue, 200    /status/NNN  NNN (200..599), "status"
 *   /slow/N      200 after N ms       /echo        the raw request as body
 *   /count       the request counter (requests to /count are not counted)
 *   /fail-first/N/ID  503 to the first N requests for ID (0..1048575), then 200: an
 *                endpoint that fails each event N times, for a sender's retries
 *   /retry-after/S/ID  429 with "Retry-After: S" to the first request for ID, then 200
 *                (the same counters as /fail-first: use distinct IDs)
 *   POST /items  201 {"id":"item-N","state":"open"} (a new N each time; --item-state S puts S
 *                in "state" instead, for checks that must fail)
 *   /items/item-N  200 with the same body when item-N was created, else 404 {"error":...}
 *   /tally/K     200; counts requests per K (0..15)
 *   /tallies     the 16 tallies, then created, found and missing items, space-separated
 *                (not counted)
 * A request that cannot be parsed gets 400 and the connection is closed.
 * Failure modes for tests: --delay-ms, --stall-after-ms/--stall-ms (one pause
 * of every response, like a GC pause) and --close-every (reconnects).
 *
 * Requests count when complete (head and body received).  The stall window
 * starts --stall-after-ms after the first counted request arrived.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define HEAD_MAX     (64 * 1024)        /* request line + headers */
#define BODY_MAX     (16 * 1024 * 1024) /* Content-Length limit (413 above) */
#define HEADERS_MAX  200                /* header lines per request */
#define READ_CHUNK   (16 * 1024)
#define THREAD_STACK (512 * 1024)
#define LINGER_NS    (1000 * 1000000ull) /* drain time after our own close */
#define SHUTDOWN_NS  (2000 * 1000000ull) /* wait for connection threads */
#define SLEEP_SLICE  (50 * 1000000ull)   /* sleeps check the stop flag */
#define MS           1000000ull

/* ---- options and shared state ------------------------------------------ */

static struct {
    const char *listen_addr;
    long port;
    const char *port_file;
    const char *count_file;
    const char *tls_cert;
    const char *tls_key;
    long delay_ms;
    long stall_after_ms;
    long stall_ms;
    long max_seconds;
    long close_every;
    const char *item_state;
} opt = {.listen_addr = "127.0.0.1", .max_seconds = 120, .item_state = "open"};

static atomic_ullong g_requests; /* every complete request but /count */
#define FAIL_IDS (1 << 20)
static atomic_uint g_attempts[FAIL_IDS]; /* /fail-first: requests seen per ID */
static atomic_ullong g_first_ns;         /* arrival of the first counted one */
#define ITEMS_MAX (1 << 20)
static atomic_uchar g_item[ITEMS_MAX]; /* /items: created */
static atomic_ullong g_items, g_items_found, g_items_missing;
static atomic_ullong g_tally[16];
static atomic_int g_stop; /* set once, when the server shuts down */
static volatile sig_atomic_t g_signalled;
static SSL_CTX *g_ssl_ctx;

/* Live connections, so that shutdown can unblock their threads. */
struct conn;
static pthread_mutex_t g_conns_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_conns_empty;
static struct conn *g_conns;
static long g_nconns;

struct conn {
    int fd;
    SSL *ssl;
    bool io_failed;     /* a read or write failed: no TLS close_notify */
    bool sent_continue; /* 100 Continue already sent for this request */
    unsigned long responses;
    uint64_t last_recv_ns; /* when the latest bytes arrived */
    char *in;
    size_t in_len, in_cap;
    char *out;
    size_t out_len, out_cap;
    struct conn *prev, *next;
};

/* One parsed request; offsets into conn->in, which may move. */
struct request {
    size_t method_off, method_len;
    size_t target_off, target_len;
    int minor; /* HTTP/1.<minor> */
    size_t head_len;
    size_t body_len;
    size_t total_len;
    bool has_length;
    bool has_te;
    bool conn_close;
    bool conn_keep_alive;
    bool expect_continue;
    uint64_t arrival_ns;
};

enum { REQ_EOF = 0, REQ_OK = 1, REQ_BAD = -1, REQ_TOO_BIG = -2 };

enum body_mode {
    BODY_LENGTH,     /* Content-Length and the body */
    BODY_NONE,       /* neither (204) */
    BODY_LENGTH_NIL, /* Content-Length but no body (304) */
    BODY_CHUNKED,    /* Transfer-Encoding: chunked */
    BODY_EOF,        /* body delimited by closing the connection */
};

struct response {
    int status;
    const char *content_type;
    const char *body;
    size_t body_len;
    enum body_mode mode;
    bool interim_100;
    bool close;
    long extra_delay_ms;
    long retry_after_s; /* > 0: a Retry-After header */
};

/* ---- small helpers ------------------------------------------------------ */

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sleeps until the CLOCK_MONOTONIC deadline, or until the server stops. */
static void sleep_until(uint64_t deadline) {
    for (;;) {
        if (atomic_load(&g_stop)) return;
        uint64_t now = now_ns();
        if (now >= deadline) return;
        uint64_t next = deadline - now > SLEEP_SLICE ? now + SLEEP_SLICE : deadline;
        struct timespec ts = {.tv_sec = (time_t)(next / 1000000000ull),
                              .tv_nsec = (long)(next % 1000000000ull)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
}

/* The one stall: responses due inside [first + A, first + A + S) wait for its end. */
static void wait_for_stall(void) {
    if (opt.stall_ms <= 0) return;
    uint64_t first = atomic_load(&g_first_ns);
    if (first == 0) return;
    uint64_t start = first + (uint64_t)opt.stall_after_ms * MS;
    uint64_t end = start + (uint64_t)opt.stall_ms * MS;
    uint64_t now = now_ns();
    if (now >= start && now < end) sleep_until(end);
}

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n);
    if (q == NULL) {
        fprintf(stderr, "testsrv: out of memory (%zu bytes)\n", n);
        abort();
    }
    return q;
}

static void reserve(char **buf, size_t *cap, size_t need) {
    if (need <= *cap) return;
    size_t n = *cap ? *cap : 4096;
    while (n < need) n *= 2;
    *buf = xrealloc(*buf, n);
    *cap = n;
}

static void out_add(struct conn *c, const void *p, size_t n) {
    reserve(&c->out, &c->out_cap, c->out_len + n);
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
}

static void out_str(struct conn *c, const char *s) {
    out_add(c, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void out_fmt(struct conn *c, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) out_add(c, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Writes F through a temporary name, so that readers never see half a file. */
static int write_file_atomic(const char *path, const char *text) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        fprintf(stderr, "testsrv: path too long: %s\n", path);
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        fprintf(stderr, "testsrv: cannot write %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        fprintf(stderr, "testsrv: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* ---- connection I/O (plain TCP or TLS) ---------------------------------- */

static ssize_t conn_recv(struct conn *c, char *buf, size_t n) {
    if (c->ssl) {
        int k = SSL_read(c->ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
        if (k > 0) return k;
        int err = SSL_get_error(c->ssl, k);
        ERR_clear_error();
        if (err == SSL_ERROR_ZERO_RETURN) return 0;
        c->io_failed = true;
        return -1;
    }
    for (;;) {
        ssize_t k = recv(c->fd, buf, n, 0);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) c->io_failed = true;
        return k;
    }
}

static int conn_send_all(struct conn *c, const char *buf, size_t n) {
    while (n > 0) {
        ssize_t k;
        if (c->ssl) {
            int w = SSL_write(c->ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
            if (w <= 0) {
                ERR_clear_error();
                c->io_failed = true;
                return -1;
            }
            k = w;
        } else {
            k = send(c->fd, buf, n, MSG_NOSIGNAL);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) {
                c->io_failed = true;
                return -1;
            }
        }
        buf += k;
        n -= (size_t)k;
    }
    return 0;
}

static int conn_flush(struct conn *c) {
    int rc = conn_send_all(c, c->out, c->out_len);
    c->out_len = 0;
    return rc;
}

/* Reads more bytes into c->in; returns what recv returned. */
static ssize_t conn_fill(struct conn *c) {
    reserve(&c->in, &c->in_cap, c->in_len + READ_CHUNK);
    ssize_t k = conn_recv(c, c->in + c->in_len, c->in_cap - c->in_len);
    if (k > 0) {
        c->in_len += (size_t)k;
        c->last_recv_ns = now_ns();
    }
    return k;
}

static void conn_consume(struct conn *c, size_t n) {
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
}

/* After we decided to close: send close_notify / FIN, then drain what the
 * client still sends for a moment, so that our last response is not lost to
 * a reset. */
static void conn_linger(struct conn *c) {
    if (c->ssl && !c->io_failed) SSL_shutdown(c->ssl);
    ERR_clear_error();
    shutdown(c->fd, SHUT_WR);
    uint64_t deadline = now_ns() + LINGER_NS;
    size_t drained = 0;
    char tmp[4096];
    while (!atomic_load(&g_stop) && drained < (1u << 20)) {
        uint64_t now = now_ns();
        if (now >= deadline) break;
        uint64_t left_ms = (deadline - now) / MS + 1;
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int r = poll(&p, 1, left_ms > 100 ? 100 : (int)left_ms);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) break;
        if (r == 0) continue;
        ssize_t k = recv(c->fd, tmp, sizeof tmp, 0);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        drained += (size_t)k;
    }
}

/* ---- request parsing ----------------------------------------------------- */

static bool is_tchar(unsigned char ch) {
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return true;
    return ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static bool is_ows(char ch) {
    return ch == ' ' || ch == '\t';
}

/* Finds the end of the head (just past the empty line); 0 if not there yet.
 * *scan remembers where to go on when more bytes arrive. */
static size_t find_head_end(const char *b, size_t len, size_t *scan) {
    size_t i = *scan;
    for (; i < len; i++) {
        if (b[i] != '\n') continue;
        if (i + 1 >= len) break;
        if (b[i + 1] == '\n') return i + 2;
        if (b[i + 1] == '\r') {
            if (i + 2 >= len) break;
            if (b[i + 2] == '\n') return i + 3;
        }
    }
    *scan = i;
    return 0;
}

/* The next line of b[*pos, end), without its CRLF or LF. */
static void next_line(const char *b, size_t end, size_t *pos, size_t *ls, size_t *le) {
    const char *nl = memchr(b + *pos, '\n', end - *pos);
    size_t i = nl ? (size_t)(nl - b) : end;
    *ls = *pos;
    *le = (i > *pos && b[i - 1] == '\r') ? i - 1 : i;
    *pos = nl ? i + 1 : end;
}

/* Whether b[off, off + len) is name, ignoring case (header names and tokens). */
static bool name_is(const char *b, size_t off, size_t len, const char *name) {
    return strlen(name) == len && strncasecmp(b + off, name, len) == 0;
}

/* Sets the Connection flags from a comma-separated token list. */
static void parse_connection(const char *v, size_t len, struct request *r) {
    size_t i = 0;
    while (i < len) {
        while (i < len && (is_ows(v[i]) || v[i] == ',')) i++;
        size_t s = i;
        while (i < len && v[i] != ',') i++;
        size_t e = i;
        while (e > s && is_ows(v[e - 1])) e--;
        if (name_is(v, s, e - s, "close")) r->conn_close = true;
        if (name_is(v, s, e - s, "keep-alive")) r->conn_keep_alive = true;
    }
}

static int parse_content_length(const char *v, size_t len, size_t *out) {
    if (len == 0) return -1;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9') return -1;
        if (n > (SIZE_MAX - 9) / 10) return -1;
        n = n * 10 + (size_t)(v[i] - '0');
    }
    *out = n;
    return 0;
}

/* Parses the request line and headers in b[0, head_len). */
static int parse_head(const char *b, size_t head_len, struct request *r) {
    size_t pos = 0, ls, le, i;

    next_line(b, head_len, &pos, &ls, &le);
    for (i = ls; i < le && is_tchar((unsigned char)b[i]); i++) {
    }
    if (i == ls || i >= le || b[i] != ' ') return REQ_BAD;
    r->method_off = ls;
    r->method_len = i - ls;
    size_t t0 = ++i;
    while (i < le && (unsigned char)b[i] > 0x20 && b[i] != 0x7f) i++;
    if (i == t0 || i >= le || b[i] != ' ') return REQ_BAD;
    r->target_off = t0;
    r->target_len = i - t0;
    i++;
    if (le - i != 8 || memcmp(b + i, "HTTP/1.", 7) != 0) return REQ_BAD;
    if (b[i + 7] != '0' && b[i + 7] != '1') return REQ_BAD;
    r->minor = b[i + 7] - '0';

    for (int n = 0;; n++) {
        if (pos >= head_len) return REQ_BAD;
        next_line(b, head_len, &pos, &ls, &le);
        if (ls == le) break; /* the empty line that ends the head */
        if (n >= HEADERS_MAX) return REQ_BAD;
        for (i = ls; i < le && is_tchar((unsigned char)b[i]); i++) {
        }
        if (i == ls || i >= le || b[i] != ':') return REQ_BAD; /* also obs-fold */
        size_t name_off = ls, name_len = i - ls;
        size_t v0 = i + 1, v1 = le;
        while (v0 < v1 && is_ows(b[v0])) v0++;
        while (v1 > v0 && is_ows(b[v1 - 1])) v1--;
        for (size_t k = v0; k < v1; k++) {
            unsigned char ch = (unsigned char)b[k];
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return REQ_BAD;
        }
        if (name_is(b, name_off, name_len, "content-length")) {
            size_t len;
            if (parse_content_length(b + v0, v1 - v0, &len) != 0) return REQ_BAD;
            if (r->has_length && len != r->body_len) return REQ_BAD;
            r->has_length = true;
            r->body_len = len;
        } else if (name_is(b, name_off, name_len, "transfer-encoding")) {
            r->has_te = true;
        } else if (name_is(b, name_off, name_len, "connection")) {
            parse_connection(b + v0, v1 - v0, r);
        } else if (name_is(b, name_off, name_len, "expect")) {
            if (name_is(b, v0, v1 - v0, "100-continue")) r->expect_continue = true;
        }
    }
    if (pos != head_len) return REQ_BAD;
    if (r->has_te) return REQ_BAD; /* chunked requests are not supported */
    r->head_len = head_len;
    return REQ_OK;
}

static const char continue_100[] = "HTTP/1.1 100 Continue\r\n\r\n";

/* Reads one complete request (head and body) into the front of c->in. */
static int read_request(struct conn *c, struct request *r) {
    size_t scan = 0, head_len;
    memset(r, 0, sizeof *r);
    c->sent_continue = false;
    for (;;) {
        size_t skip = 0; /* empty lines before a request line are ignored */
        while (skip < c->in_len && (c->in[skip] == '\r' || c->in[skip] == '\n')) skip++;
        if (skip > 0) {
            conn_consume(c, skip);
            scan = 0;
        }
        head_len = find_head_end(c->in, c->in_len, &scan);
        if (head_len > 0) break;
        if (c->in_len >= HEAD_MAX) return REQ_BAD;
        if (conn_fill(c) <= 0) return REQ_EOF;
    }
    if (head_len > HEAD_MAX) return REQ_BAD;
    int rc = parse_head(c->in, head_len, r);
    if (rc != REQ_OK) return rc;
    if (r->body_len > BODY_MAX) return REQ_TOO_BIG;
    r->total_len = head_len + r->body_len;
    if (c->in_len < r->total_len && r->expect_continue && r->minor >= 1) {
        if (conn_send_all(c, continue_100, sizeof continue_100 - 1) != 0) return REQ_EOF;
        c->sent_continue = true;
    }
    while (c->in_len < r->total_len)
        if (conn_fill(c) <= 0) return REQ_EOF;
    r->arrival_ns = c->last_recv_ns;
    return REQ_OK;
}

/* ---- routes and responses ------------------------------------------------ */

static const char *reason_phrase(int status) {
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
    }
}

/* Parses the decimal number that ends the path after prefix; -1 if not one. */
static long path_number(const char *path, const char *prefix, long max) {
    const char *s = path + strlen(prefix);
    if (*s == '\0' || strlen(s) > 9) return -1;
    long n = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        n = n * 10 + (*s - '0');
    }
    return n <= max ? n : -1;
}

/* Copies the path of the target (origin- or absolute-form, no query) into
 * path; an empty string when it does not fit (then the default route). */
static void target_path(const char *t, size_t len, char *path, size_t size) {
    if (len >= 7 && strncasecmp(t, "http://", 7) == 0)
        t += 7, len -= 7;
    else if (len >= 8 && strncasecmp(t, "https://", 8) == 0)
        t += 8, len -= 8;
    else
        goto origin;
    {
        const char *slash = memchr(t, '/', len);
        if (slash == NULL) {
            snprintf(path, size, "/");
            return;
        }
        len -= (size_t)(slash - t);
        t = slash;
    }
origin:;
    size_t n = 0;
    while (n < len && t[n] != '?' && t[n] != '#') n++;
    if (n >= size) n = 0;
    memcpy(path, t, n);
    path[n] = '\0';
}

static void route(struct conn *c, const struct request *r, const char *path, struct response *resp,
                  char *numbuf, size_t numsize) {
    long n;
    *resp = (struct response){.status = 200,
                              .content_type = "text/plain",
                              .body = "ok",
                              .body_len = 2,
                              .mode = BODY_LENGTH};
    if (strcmp(path, "/count") == 0) {
        snprintf(numbuf, numsize, "%llu", (unsigned long long)atomic_load(&g_requests));
        resp->body = numbuf;
        resp->body_len = strlen(numbuf);
    } else if (strcmp(path, "/chunked") == 0) {
        resp->body = "hello chunked world";
        resp->body_len = strlen(resp->body);
        resp->mode = r->minor >= 1 ? BODY_CHUNKED : BODY_EOF;
    } else if (strcmp(path, "/close") == 0) {
        resp->close = true;
    } else if (strcmp(path, "/eof") == 0) {
        resp->body = "until-eof";
        resp->body_len = strlen(resp->body);
        resp->mode = BODY_EOF;
    } else if (strcmp(path, "/204") == 0) {
        *resp = (struct response){.status = 204, .mode = BODY_NONE};
    } else if (strcmp(path, "/304") == 0) {
        *resp = (struct response){.status = 304, .body_len = 5, .mode = BODY_LENGTH_NIL};
    } else if (strcmp(path, "/100") == 0) {
        resp->interim_100 = true;
    } else if (strncmp(path, "/status/", 8) == 0) {
        n = path_number(path, "/status/", 599);
        resp->body = "status";
        resp->body_len = 6;
        if (n < 200) {
            resp->status = 400;
            resp->body = "bad status code\n";
            resp->body_len = strlen(resp->body);
        } else if (n == 204) {
            *resp = (struct response){.status = 204, .mode = BODY_NONE};
        } else if (n == 304) {
            *resp = (struct response){.status = 304, .body_len = 6, .mode = BODY_LENGTH_NIL};
        } else if (n == 205) {
            *resp = (struct response){.status = 205, .mode = BODY_LENGTH};
        } else {
            resp->status = (int)n;
        }
    } else if (strncmp(path, "/slow/", 6) == 0) {
        n = path_number(path, "/slow/", 3600 * 1000);
        if (n < 0) {
            resp->status = 400;
            resp->body = "bad delay\n";
            resp->body_len = strlen(resp->body);
        } else {
            resp->extra_delay_ms = n;
        }
    } else if (strncmp(path, "/fail-first/", 12) == 0 || strncmp(path, "/retry-after/", 13) == 0) {
        /* /fail-first/N/ID: 503 N times; /retry-after/S/ID: 429 with Retry-After: S once */
        bool ra = path[1] == 'r';
        char *end;
        long count = strtol(strchr(path + 1, '/') + 1, &end, 10);
        long id = *end == '/' ? strtol(end + 1, &end, 10) : -1;
        long before = id >= 0 && id < FAIL_IDS ? (long)atomic_fetch_add(&g_attempts[id], 1) : 0;
        if (count < (ra ? 1 : 0) || id < 0 || id >= FAIL_IDS || *end) {
            resp->status = 400;
            resp->body = ra ? "want /retry-after/S/ID\n" : "want /fail-first/N/ID\n";
            resp->body_len = strlen(resp->body);
        } else if (before < (ra ? 1 : count)) {
            resp->status = ra ? 429 : 503;
            resp->body = ra ? "slow down" : "failing";
            resp->body_len = strlen(resp->body);
            resp->retry_after_s = ra ? count : 0;
        }
    } else if (strcmp(path, "/items") == 0 && r->method_len == 4 &&
               memcmp(c->in + r->method_off, "POST", 4) == 0) {
        unsigned long long id = atomic_fetch_add(&g_items, 1);
        if (id < ITEMS_MAX) atomic_store(&g_item[id], 1);
        snprintf(numbuf, numsize, "{\"id\":\"item-%llu\",\"state\":\"%s\"}", id, opt.item_state);
        resp->status = 201;
        resp->content_type = "application/json";
        resp->body = numbuf;
        resp->body_len = strlen(numbuf);
    } else if (strncmp(path, "/items/item-", 12) == 0) {
        n = path_number(path, "/items/item-", ITEMS_MAX - 1);
        resp->content_type = "application/json";
        if (n >= 0 && atomic_load(&g_item[n])) {
            atomic_fetch_add(&g_items_found, 1);
            snprintf(numbuf, numsize, "{\"id\":\"item-%ld\",\"state\":\"%s\"}", n, opt.item_state);
        } else {
            atomic_fetch_add(&g_items_missing, 1);
            resp->status = 404;
            snprintf(numbuf, numsize, "{\"error\":\"no such item\"}");
        }
        resp->body = numbuf;
        resp->body_len = strlen(numbuf);
    } else if (strncmp(path, "/tally/", 7) == 0) {
        n = path_number(path, "/tally/", 15);
        if (n < 0) {
            resp->status = 400;
            resp->body = "want /tally/K with K from 0 to 15\n";
            resp->body_len = strlen(resp->body);
        } else {
            atomic_fetch_add(&g_tally[n], 1);
        }
    } else if (strcmp(path, "/tallies") == 0) {
        size_t off = 0;
        for (int k = 0; k < 16; k++)
            off += (size_t)snprintf(numbuf + off, numsize - off, "%llu ", atomic_load(&g_tally[k]));
        snprintf(numbuf + off, numsize - off, "%llu %llu %llu", atomic_load(&g_items),
                 atomic_load(&g_items_found), atomic_load(&g_items_missing));
        resp->body = numbuf;
        resp->body_len = strlen(numbuf);
    } else if (strcmp(path, "/echo") == 0) {
        resp->body = c->in; /* the raw request: head and body */
        resp->body_len = r->total_len;
    }
}

/* Answers one request; returns false when the connection is to be closed. */
static bool handle_request(struct conn *c, const struct request *r) {
    char path[512], numbuf[512];
    target_path(c->in + r->target_off, r->target_len, path, sizeof path);

    if (strcmp(path, "/count") != 0 && strcmp(path, "/tallies") != 0) {
        atomic_fetch_add_explicit(&g_requests, 1, memory_order_relaxed);
        unsigned long long zero = 0;
        atomic_compare_exchange_strong(&g_first_ns, &zero, r->arrival_ns);
    }
    bool head = r->method_len == 4 && memcmp(c->in + r->method_off, "HEAD", 4) == 0;

    struct response resp;
    route(c, r, path, &resp, numbuf, sizeof numbuf);
    c->responses++;
    bool keep_alive = r->minor >= 1 ? !r->conn_close : r->conn_keep_alive && !r->conn_close;
    if (!keep_alive || resp.mode == BODY_EOF || atomic_load(&g_stop)) resp.close = true;
    if (opt.close_every > 0 && c->responses % (unsigned long)opt.close_every == 0)
        resp.close = true;

    if (resp.interim_100 && !c->sent_continue) {
        if (conn_send_all(c, continue_100, sizeof continue_100 - 1) != 0) return false;
    }
    long delay = opt.delay_ms + resp.extra_delay_ms;
    if (delay > 0) sleep_until(r->arrival_ns + (uint64_t)delay * MS);
    wait_for_stall();

    c->out_len = 0;
    out_fmt(c, "HTTP/1.1 %d %s\r\n", resp.status, reason_phrase(resp.status));
    if (resp.content_type) out_fmt(c, "Content-Type: %s\r\n", resp.content_type);
    if (resp.retry_after_s > 0) out_fmt(c, "Retry-After: %ld\r\n", resp.retry_after_s);
    if (resp.mode == BODY_LENGTH || resp.mode == BODY_LENGTH_NIL)
        out_fmt(c, "Content-Length: %zu\r\n", resp.body_len);
    if (resp.mode == BODY_CHUNKED) out_str(c, "Transfer-Encoding: chunked\r\n");
    if (resp.close)
        out_str(c, "Connection: close\r\n");
    else if (r->minor == 0)
        out_str(c, "Connection: keep-alive\r\n");
    out_str(c, "\r\n");
    if (!head) {
        if (resp.mode == BODY_LENGTH || resp.mode == BODY_EOF) {
            out_add(c, resp.body, resp.body_len);
        } else if (resp.mode == BODY_CHUNKED) {
            size_t third = resp.body_len / 3, off = 0;
            for (int i = 0; i < 3; i++) {
                size_t n = i < 2 ? third : resp.body_len - off;
                out_fmt(c, "%zx\r\n", n);
                out_add(c, resp.body + off, n);
                out_str(c, "\r\n");
                off += n;
            }
            out_str(c, "0\r\n\r\n");
        }
    }
    if (conn_flush(c) != 0) return false;
    return !resp.close;
}

static void send_error(struct conn *c, int status) {
    const char *body = status == 413 ? "request too large\n" : "bad request\n";
    c->out_len = 0;
    out_fmt(c,
            "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
            "Connection: close\r\n\r\n%s",
            status, reason_phrase(status), strlen(body), body);
    conn_flush(c);
}

/* ---- connections ----------------------------------------------------------- */

static bool conn_register(struct conn *c) {
    pthread_mutex_lock(&g_conns_lock);
    bool ok = !atomic_load(&g_stop);
    if (ok) {
        c->next = g_conns;
        if (g_conns) g_conns->prev = c;
        g_conns = c;
        g_nconns++;
    }
    pthread_mutex_unlock(&g_conns_lock);
    return ok;
}

static void conn_unregister(struct conn *c) {
    pthread_mutex_lock(&g_conns_lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        g_conns = c->next;
    if (c->next) c->next->prev = c->prev;
    if (--g_nconns == 0) pthread_cond_broadcast(&g_conns_empty);
    pthread_mutex_unlock(&g_conns_lock);
}

static void conn_free(struct conn *c) {
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
}

static void *conn_main(void *arg) {
    struct conn *c = arg;
    bool we_close = false;

    if (c->ssl && SSL_accept(c->ssl) <= 0) {
        ERR_clear_error();
        c->io_failed = true;
    } else {
        while (!atomic_load(&g_stop)) {
            struct request r;
            int rc = read_request(c, &r);
            if (rc == REQ_EOF) break;
            if (rc != REQ_OK) {
                send_error(c, rc == REQ_TOO_BIG ? 413 : 400);
                we_close = true;
                break;
            }
            bool keep = handle_request(c, &r);
            conn_consume(c, r.total_len);
            if (!keep) {
                we_close = true;
                break;
            }
        }
    }
    if (we_close && !c->io_failed) conn_linger(c);
    if (c->ssl) {
        SSL_free(c->ssl);
        OPENSSL_thread_stop(); /* before main may run OpenSSL's atexit cleanup */
    }
    /* Unregister before close(): shutdown never touches a reused fd. */
    conn_unregister(c);
    conn_free(c);
    return NULL;
}

static void start_connection(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        close(fd);
        return;
    }
    c->fd = fd;
    if (g_ssl_ctx) {
        c->ssl = SSL_new(g_ssl_ctx);
        if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
            ERR_clear_error();
            SSL_free(c->ssl);
            conn_free(c);
            return;
        }
    }
    if (!conn_register(c)) {
        SSL_free(c->ssl);
        conn_free(c);
        return;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    pthread_t tid;
    int err = pthread_create(&tid, &attr, conn_main, c);
    pthread_attr_destroy(&attr);
    if (err != 0) {
        fprintf(stderr, "testsrv: pthread_create: %s\n", strerror(err));
        conn_unregister(c);
        SSL_free(c->ssl);
        conn_free(c);
    }
}

/* Unblocks every connection thread and waits (bounded) for them to finish;
 * returns the number still running. */
static long stop_connections(void) {
    atomic_store(&g_stop, 1);
    pthread_mutex_lock(&g_conns_lock);
    for (struct conn *c = g_conns; c; c = c->next) shutdown(c->fd, SHUT_RDWR);
    uint64_t deadline = 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    deadline = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + SHUTDOWN_NS;
    ts.tv_sec = (time_t)(deadline / 1000000000ull);
    ts.tv_nsec = (long)(deadline % 1000000000ull);
    while (g_nconns > 0)
        if (pthread_cond_timedwait(&g_conns_empty, &g_conns_lock, &ts) == ETIMEDOUT) break;
    long left = g_nconns;
    pthread_mutex_unlock(&g_conns_lock);
    return left;
}

/* ---- setup ------------------------------------------------------------------ */

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg) {
    static const unsigned char http11[] = "\x08http/1.1";
    if (SSL_select_next_proto((unsigned char **)out, outlen, http11, sizeof http11 - 1, in,
                              inlen) == OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_OK;
    return SSL_TLSEXT_ERR_NOACK;
}

static int tls_setup(void) {
    g_ssl_ctx = SSL_CTX_new(TLS_server_method());
    if (g_ssl_ctx == NULL) return -1;
    SSL_CTX_set_min_proto_version(g_ssl_ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(g_ssl_ctx, SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_alpn_select_cb(g_ssl_ctx, alpn_select, NULL);
    if (SSL_CTX_use_certificate_chain_file(g_ssl_ctx, opt.tls_cert) != 1) {
        fprintf(stderr, "testsrv: cannot load certificate %s\n", opt.tls_cert);
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(g_ssl_ctx, opt.tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(g_ssl_ctx) != 1) {
        fprintf(stderr, "testsrv: cannot load key %s (or it does not match the certificate)\n",
                opt.tls_key);
        return -1;
    }
    return 0;
}

/* Binds and listens; returns the socket and sets *port. */
static int listen_on(const char *addr, long want_port, int *port) {
    char host[256];
    size_t len = strlen(addr);
    if (len >= 2 && addr[0] == '[' && addr[len - 1] == ']') addr++, len -= 2;
    if (len >= sizeof host) return -1;
    memcpy(host, addr, len);
    host[len] = '\0';
    char service[16];
    snprintf(service, sizeof service, "%ld", want_port);

    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0) {
        fprintf(stderr, "testsrv: cannot resolve --listen %s: %s\n", host, gai_strerror(gai));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4096) == 0) break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        fprintf(stderr, "testsrv: cannot listen on %s port %ld: %s\n", host, want_port,
                strerror(err));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                     : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

static void on_signal(int sig) {
    g_signalled = sig;
}

static void usage(FILE *f) {
    fprintf(f, "usage: testsrv [--listen ADDR] [--port N] [--port-file F] [--count-file F]\n"
               "               [--delay-ms N] [--stall-after-ms A --stall-ms S]\n"
               "               [--max-seconds N] [--close-every N] [--tls-cert F --tls-key F]\n"
               "               [--item-state S]\n");
}

static int parse_long(const char *name, const char *s, long min, long max, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "testsrv: --%s wants a number from %ld to %ld, not '%s'\n", name, min, max,
                s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_options(int argc, char **argv) {
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"port", required_argument, NULL, 'p'},
        {"port-file", required_argument, NULL, 'P'},
        {"count-file", required_argument, NULL, 'C'},
        {"delay-ms", required_argument, NULL, 'd'},
        {"stall-after-ms", required_argument, NULL, 'a'},
        {"stall-ms", required_argument, NULL, 's'},
        {"max-seconds", required_argument, NULL, 'm'},
        {"close-every", required_argument, NULL, 'k'},
        {"tls-cert", required_argument, NULL, 'c'},
        {"tls-key", required_argument, NULL, 'K'},
        {"item-state", required_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const long day_ms = 24L * 3600 * 1000;
    int ch, rc = 0;
    while (rc == 0 && (ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'l': opt.listen_addr = optarg; break;
        case 'p': rc = parse_long("port", optarg, 0, 65535, &opt.port); break;
        case 'P': opt.port_file = optarg; break;
        case 'C': opt.count_file = optarg; break;
        case 'd': rc = parse_long("delay-ms", optarg, 0, day_ms, &opt.delay_ms); break;
        case 'a': rc = parse_long("stall-after-ms", optarg, 0, day_ms, &opt.stall_after_ms); break;
        case 's': rc = parse_long("stall-ms", optarg, 0, day_ms, &opt.stall_ms); break;
        case 'm': rc = parse_long("max-seconds", optarg, 0, 86400, &opt.max_seconds); break;
        case 'k': rc = parse_long("close-every", optarg, 0, LONG_MAX, &opt.close_every); break;
        case 'c': opt.tls_cert = optarg; break;
        case 'K': opt.tls_key = optarg; break;
        case 'I': opt.item_state = optarg; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (rc != 0) return -1;
    if (optind < argc) {
        fprintf(stderr, "testsrv: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if ((opt.tls_cert == NULL) != (opt.tls_key == NULL)) {
        fprintf(stderr, "testsrv: --tls-cert and --tls-key go together\n");
        return -1;
    }
    return 0;
}

/* Accepts connections until a signal or --max-seconds (0: no limit). */
static void accept_loop(int lfd, const sigset_t *unblocked) {
    uint64_t deadline = opt.max_seconds > 0 ? now_ns() + (uint64_t)opt.max_seconds * 1000 * MS : 0;
    while (!g_signalled) {
        uint64_t wait = 1000 * MS;
        if (deadline) {
            uint64_t now = now_ns();
            if (now >= deadline) break;
            if (deadline - now < wait) wait = deadline - now;
        }
        struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000ull),
                              .tv_nsec = (long)(wait % 1000000000ull)};
        struct pollfd p = {.fd = lfd, .events = POLLIN};
        int n = ppoll(&p, 1, &ts, unblocked); /* signals arrive only here */
        if (n <= 0) continue;
        for (int i = 0; i < 256; i++) {
            int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0) {
                start_connection(fd);
                continue;
            }
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                sleep_until(now_ns() + 10 * MS);
            break;
        }
    }
}

int main(int argc, char **argv) {
    if (parse_options(argc, argv) != 0) return 2;

    signal(SIGPIPE, SIG_IGN);
    /* SIGTERM/SIGINT stay blocked everywhere but in the accept loop's ppoll;
     * connection threads inherit the blocked mask. */
    sigset_t block, unblocked;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &unblocked);
    sigdelset(&unblocked, SIGTERM);
    sigdelset(&unblocked, SIGINT);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g_conns_empty, &ca);
    pthread_condattr_destroy(&ca);

    if (opt.tls_cert && tls_setup() != 0) {
        SSL_CTX_free(g_ssl_ctx);
        return 1;
    }
    int port;
    int lfd = listen_on(opt.listen_addr, opt.port, &port);
    if (lfd < 0) {
        SSL_CTX_free(g_ssl_ctx);
        return 1;
    }
    char text[32];
    snprintf(text, sizeof text, "%d\n", port);
    if (opt.port_file && write_file_atomic(opt.port_file, text) != 0) {
        SSL_CTX_free(g_ssl_ctx);
        return 1;
    }
    printf("PORT %d\n", port);
    fflush(stdout);

    accept_loop(lfd, &unblocked);

    close(lfd);
    long left = stop_connections();
    int status = 0;
    if (opt.count_file) {
        snprintf(text, sizeof text, "%llu\n", (unsigned long long)atomic_load(&g_requests));
        if (write_file_atomic(opt.count_file, text) != 0) status = 1;
    }
    if (left > 0) {
        /* A thread is still stuck somewhere: leave without running atexit
         * cleanups under its feet. */
        fflush(stdout);
        _exit(status);
    }
    SSL_CTX_free(g_ssl_ctx);
    return status;
}
