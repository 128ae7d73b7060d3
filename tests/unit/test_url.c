/* test_url.c — unit tests for url_parse() in src/http/url.c: http and https, names, IPv4 and IPv6
 * literals (bracketed, with and without a port), default ports, the Host header value, the path
 * and query (a "?q" with no path, fragments dropped, request-template placeholders kept
 * verbatim), and every rejection with its message. url_resolve is exercised only on literal
 * addresses, so that no test depends on DNS. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/url.h"
#include "unit.h"

typedef struct want {
    bool tls;
    const char *host;
    int port;
    bool default_port;
    bool host_is_ip;
    const char *path;
    const char *host_header;
} want;

/* Parses s and compares every field with w at once, as one line each, so that a failure names the
 * URL and shows the fields side by side. */
static void parse_as(const char *s, want w) {
    url u;
    char err[512] = "";
    if (url_parse(s, &u, err, sizeof err) != 0) fail_msg("url \"%s\": %s", s, err);
    assert_non_null(u.path);
    char got[1024], exp[1024];
    snprintf(got, sizeof got, "%s: tls %d host %s port %d/%s default %d ip %d path %s hh %s", s,
             u.tls, u.host, u.port, u.port_str, u.default_port, u.host_is_ip, u.path,
             u.host_header);
    snprintf(exp, sizeof exp, "%s: tls %d host %s port %d/%d default %d ip %d path %s hh %s", s,
             w.tls, w.host, w.port, w.port, w.default_port, w.host_is_ip, w.path, w.host_header);
    assert_string_equal(got, exp);
    url_free(&u);
    assert_null(u.path);
    url_free(&u); /* a second free is harmless */
}

/* The URL must be rejected with an error that contains `want` and quotes the URL; nothing is left
 * allocated (ASan's leak check). */
static void reject(const char *s, const char *want_msg) {
    url u;
    char err[512] = "";
    if (url_parse(s, &u, err, sizeof err) == 0) {
        char got[600];
        snprintf(got, sizeof got, "url \"%s\" accepted: host \"%s\" port %d path \"%s\"", s, u.host,
                 u.port, u.path);
        url_free(&u);
        fail_msg("%s", got);
    }
    assert_null(u.path);
    url_free(&u);
    if (!strstr(err, want_msg)) fail_msg("url \"%s\": error \"%s\" lacks \"%s\"", s, err, want_msg);
    if (strncmp(err, "out of memory", 13) != 0 && !strstr(err, s))
        fail_msg("url \"%s\": error \"%s\" does not name the URL", s, err);
}

typedef struct accept_case {
    const char *url;
    want w;
} accept_case;

static void parse_each(const accept_case *c, size_t n) {
    for (size_t i = 0; i < n; i++) parse_as(c[i].url, c[i].w);
}

typedef struct reject_case {
    const char *url;
    const char *msg;
} reject_case;

static void reject_each(const reject_case *c, size_t n) {
    for (size_t i = 0; i < n; i++) reject(c[i].url, c[i].msg);
}

/* Every URL of a list rejected with the same message. */
static void reject_all(const char *const *urls, size_t n, const char *msg) {
    for (size_t i = 0; i < n; i++) reject(urls[i], msg);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- accepted URLs -------------------------------------------------------------------------- */

static void test_http_https_names(void **state) {
    static const accept_case cases[] = {
        {"http://example.com", {false, "example.com", 80, true, false, "/", "example.com"}},
        {"http://example.com/", {false, "example.com", 80, true, false, "/", "example.com"}},
        {"https://example.com", {true, "example.com", 443, true, false, "/", "example.com"}},
        {"https://api.example.com/v1/orders",
         {true, "api.example.com", 443, true, false, "/v1/orders", "api.example.com"}},
        /* an explicit port is kept in the Host header, even when it equals the default */
        {"http://localhost:8080/", {false, "localhost", 8080, false, false, "/", "localhost:8080"}},
        {"http://example.com:80/x",
         {false, "example.com", 80, false, false, "/x", "example.com:80"}},
        {"https://example.com:443",
         {true, "example.com", 443, false, false, "/", "example.com:443"}},
        {"https://example.com:80/", {true, "example.com", 80, false, false, "/", "example.com:80"}},
        /* the scheme is case-insensitive; the host is kept as written */
        {"HTTP://Example.COM/A", {false, "Example.COM", 80, true, false, "/A", "Example.COM"}},
        {"HttpS://h/", {true, "h", 443, true, false, "/", "h"}},
        /* port range ends, and leading zeros (5 digits at most) */
        {"http://h:1/", {false, "h", 1, false, false, "/", "h:1"}},
        {"http://h:65535/", {false, "h", 65535, false, false, "/", "h:65535"}},
        {"http://h:00080/", {false, "h", 80, false, false, "/", "h:80"}},
    };
    parse_each(cases, COUNT(cases));
}

static void test_ipv4(void **state) {
    static const accept_case cases[] = {
        {"http://127.0.0.1/", {false, "127.0.0.1", 80, true, true, "/", "127.0.0.1"}},
        {"http://127.0.0.1:8080/api?x=1",
         {false, "127.0.0.1", 8080, false, true, "/api?x=1", "127.0.0.1:8080"}},
        {"https://10.1.2.3:8443", {true, "10.1.2.3", 8443, false, true, "/", "10.1.2.3:8443"}},
        /* not a literal address: four dotted numbers above 255 are a name */
        {"http://1.2.3.456/", {false, "1.2.3.456", 80, true, false, "/", "1.2.3.456"}},
    };
    parse_each(cases, COUNT(cases));
}

static void test_ipv6(void **state) {
    static const accept_case cases[] = {
        /* the host is stored without brackets; the Host header puts them back */
        {"http://[::1]/", {false, "::1", 80, true, true, "/", "[::1]"}},
        {"http://[::1]", {false, "::1", 80, true, true, "/", "[::1]"}},
        {"http://[::1]:8080/p", {false, "::1", 8080, false, true, "/p", "[::1]:8080"}},
        {"http://[::1]:8080", {false, "::1", 8080, false, true, "/", "[::1]:8080"}},
        {"https://[2001:db8::1]/", {true, "2001:db8::1", 443, true, true, "/", "[2001:db8::1]"}},
        {"https://[2001:db8::1]:8443?q=1",
         {true, "2001:db8::1", 8443, false, true, "/?q=1", "[2001:db8::1]:8443"}},
        {"http://[::ffff:127.0.0.1]:9/",
         {false, "::ffff:127.0.0.1", 9, false, true, "/", "[::ffff:127.0.0.1]:9"}},
        {"http://[::1]#f", {false, "::1", 80, true, true, "/", "[::1]"}},
    };
    parse_each(cases, COUNT(cases));
}

static void test_path_and_query(void **state) {
    static const accept_case cases[] = {
        /* "?q" without a path: the path becomes "/" followed by the query */
        {"http://h?q", {false, "h", 80, true, false, "/?q", "h"}},
        {"http://h?a=1&b=2", {false, "h", 80, true, false, "/?a=1&b=2", "h"}},
        {"http://h:81?a=1", {false, "h", 81, false, false, "/?a=1", "h:81"}},
        {"http://h/p?", {false, "h", 80, true, false, "/p?", "h"}},
        {"http://h/a/b/?c=d/e?f", {false, "h", 80, true, false, "/a/b/?c=d/e?f", "h"}},
        /* fragments are never sent */
        {"http://h/p#frag", {false, "h", 80, true, false, "/p", "h"}},
        {"http://h#frag", {false, "h", 80, true, false, "/", "h"}},
        {"http://h:8080#frag", {false, "h", 8080, false, false, "/", "h:8080"}},
        {"http://h?q=1#frag", {false, "h", 80, true, false, "/?q=1", "h"}},
        {"http://h/p?q=1#f?g", {false, "h", 80, true, false, "/p?q=1", "h"}},
        {"http://h/#", {false, "h", 80, true, false, "/", "h"}},
        /* '@' and ':' after the authority are ordinary path characters */
        {"http://h/a@b:c", {false, "h", 80, true, false, "/a@b:c", "h"}},
        {"http://h?u=a@b", {false, "h", 80, true, false, "/?u=a@b", "h"}},
        /* percent-escapes and non-ASCII bytes are passed through untouched */
        {"http://h/a%20b/\xc3\xa9", {false, "h", 80, true, false, "/a%20b/\xc3\xa9", "h"}},
    };
    parse_each(cases, COUNT(cases));
}

/* Request-template placeholders in the path and query are kept byte for byte: the template
 * compiler, not the URL parser, gives them meaning. */
static void test_templates_verbatim(void **state) {
    static const accept_case cases[] = {
        {"http://h/orders/{{seq}}", {false, "h", 80, true, false, "/orders/{{seq}}", "h"}},
        {"http://127.0.0.1:8080/o/{{uuid}}?n={{rand:1-100}}&t={{time}}",
         {false, "127.0.0.1", 8080, false, true, "/o/{{uuid}}?n={{rand:1-100}}&t={{time}}",
          "127.0.0.1:8080"}},
        {"http://h?id={{seq}}", {false, "h", 80, true, false, "/?id={{seq}}", "h"}},
    };
    parse_each(cases, COUNT(cases));
}

/* A host name of 255 bytes fits (host[256]); the Host header then holds it with a port. */
static void test_long_host(void **state) {
    char host[256], s[300], hh[300];
    memset(host, 'a', 255);
    host[255] = '\0';
    snprintf(s, sizeof s, "http://%s:65535/", host);
    snprintf(hh, sizeof hh, "%s:65535", host);
    parse_as(s, (want){false, host, 65535, false, false, "/", hh});
}

/* ---- rejections ---------------------------------------------------------------------------- */

static void test_reject_scheme(void **state) {
    const char *msg = "must start with http:// or https://";
    static const char *const urls[] = {
        "example.com", "example.com:80/x", "ftp://example.com/", "ws://h/", "http:/h/", "http:h",
        "https:/h",    "httpx://h/",       " http://h/",         "//h/",    "",
    };
    reject_all(urls, COUNT(urls), msg);
}

static void test_reject_host(void **state) {
    static const reject_case cases[] = {
        {"http://", "no host"},
        {"https://", "no host"},
        {"http:///path", "no host"},
        {"http://?q", "no host"},
        {"http://#f", "no host"},
        {"http://:80/", "bad host"}, /* a port with no host */
        {"http://[]/", "bad host"},
        {"http://[]:80/", "bad host"},
        /* an unbracketed IPv6 address: its first ':' starts the "port" */
        {"http://::1/", "bad host"},
        {"http://fe80::1/", "bad port"},
        /* placeholders, spaces, backslashes and control characters have no place in a host */
        {"http://h{{seq}}/", "bad character in host"},
        {"http://{{host}}:80/", "bad character in host"},
        {"http://a b/", "bad character in host"},
        {"http://a\\b/", "bad character in host"},
        {"http://a\tb/", "bad character in host"},
        {"http://a\r\nX-Injected:1/", "bad character in host"},
        {"http://a\x01/", "bad character in host"},
        {"http://a\x7f/", "bad character in host"},
        {"http://[::1\n]/", "bad character in host"},
    };
    reject_each(cases, COUNT(cases));
    /* 256 bytes do not fit host[256] */
    char s[300];
    memcpy(s, "http://", 7);
    memset(s + 7, 'a', 256);
    strcpy(s + 7 + 256, "/");
    reject(s, "bad host");
}

static void test_reject_port(void **state) {
    const char *msg = "bad port (want 1..65535)";
    static const char *const urls[] = {
        "http://h:/",                           /* empty */
        "http://h:",        "http://h:0/",      /* zero */
        "http://h:00000/",  "http://h:65536/",  /* one too large */
        "http://h:99999/",  "http://h:123456/", /* six digits */
        "http://h:000080/",                     /* six digits, although the value is 80 */
        "http://h:8a/",     "http://h:a8/",        "http://h:-1/",    "http://h:+80/",
        "http://h: 80/",    "http://h:80:90/",     "http://h:80 /",   "http://[::1]:/",
        "http://[::1]:0/",  "http://[::1]:65536/", "http://[::1]:x/", "http://[::1]::80/",
    };
    reject_all(urls, COUNT(urls), msg);
}

static void test_reject_ipv6_syntax(void **state) {
    static const reject_case cases[] = {
        {"http://[::1]x/", "junk after IPv6 address"},
        {"http://[::1]80/", "junk after IPv6 address"},
        {"http://[::1]]/", "junk after IPv6 address"},
        {"http://[::1][::2]/", "junk after IPv6 address"},
        {"http://[::1", "unterminated IPv6 address"},
        {"http://[::1/", "unterminated IPv6 address"},
        {"http://[::1:80/", "unterminated IPv6 address"},
        {"http://[::1?q=]", "unterminated IPv6 address"}, /* the ']' is in the query */
        {"http://[", "unterminated IPv6 address"},
    };
    reject_each(cases, COUNT(cases));
}

static void test_reject_credentials(void **state) {
    const char *msg = "credentials in URLs are not supported";
    static const char *const urls[] = {
        "http://user:pw@h/", "http://user@h", "https://@h/", "http://u@[::1]:80/", "http://h@/",
    };
    reject_all(urls, COUNT(urls), msg);
}

static void test_reject_path_chars(void **state) {
    const char *msg = "spaces or control characters in the path";
    static const char *const urls[] = {
        "http://h/a b",
        "http://h/ ",
        "http://h?q=a b", /* the query is part of the path */
        "http://h/a\tb",
        "http://h/a\r\nX: y",
        "http://h/\x01",
        "http://h/\x1f",
        "http://h/\x7f",
        "http://[::1]:80/{{ seq }}",
        "http://h:8080/p?x=1&y=2 HTTP/1.1",
    };
    reject_all(urls, COUNT(urls), msg);
}

/* ---- resolution of literal addresses (no DNS) ------------------------------------------------ */

static void test_resolve_literals(void **state) {
    url u;
    char err[512] = "";
    struct sockaddr_storage ss;
    socklen_t len = 0;
    assert_int_equal(url_parse("http://127.0.0.1:8080/", &u, err, sizeof err), 0);
    assert_int_equal(url_resolve(&u, &ss, &len, err, sizeof err), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(len, sizeof(struct sockaddr_in));
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    assert_int_equal(ntohs(sin->sin_port), 8080);
    assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000001); /* 127.0.0.1 */
    url_free(&u);

    assert_int_equal(url_parse("https://[::1]/", &u, err, sizeof err), 0);
    assert_int_equal(url_resolve(&u, &ss, &len, err, sizeof err), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(len, sizeof(struct sockaddr_in6));
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    assert_int_equal(ntohs(sin6->sin6_port), 443); /* the default https port */
    assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
    url_free(&u);
}

UNIT_MAIN(test_http_https_names, test_ipv4, test_ipv6, test_path_and_query, test_templates_verbatim,
          test_long_host, test_reject_scheme, test_reject_host, test_reject_port,
          test_reject_ipv6_syntax, test_reject_credentials, test_reject_path_chars,
          test_resolve_literals)
