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

typedef struct want {
    bool tls;
    const char *host;
    int port;
    bool default_port;
    bool host_is_ip;
    const char *path;
    const char *host_header;
} want;

static void parse_as(const char *s, want w) {
    url u;
    char err[512] = "";
    if (url_parse(s, &u, err, sizeof err) != 0) fail_msg("url \"%s\": %s", s, err);
    char port_str[8];
    snprintf(port_str, sizeof port_str, "%d", w.port);
    assert_int_equal(u.tls, w.tls);
    assert_string_equal(u.host, w.host);
    assert_int_equal(u.port, w.port);
    assert_string_equal(u.port_str, port_str);
    assert_int_equal(u.default_port, w.default_port);
    assert_int_equal(u.host_is_ip, w.host_is_ip);
    assert_non_null(u.path);
    assert_string_equal(u.path, w.path);
    assert_string_equal(u.host_header, w.host_header);
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

/* ---- accepted URLs -------------------------------------------------------------------------- */

static void test_http_https_names(void **state) {
    parse_as("http://example.com",
             (want){false, "example.com", 80, true, false, "/", "example.com"});
    parse_as("http://example.com/",
             (want){false, "example.com", 80, true, false, "/", "example.com"});
    parse_as("https://example.com",
             (want){true, "example.com", 443, true, false, "/", "example.com"});
    parse_as("https://api.example.com/v1/orders",
             (want){true, "api.example.com", 443, true, false, "/v1/orders", "api.example.com"});
    /* an explicit port is kept in the Host header, even when it equals the default */
    parse_as("http://localhost:8080/",
             (want){false, "localhost", 8080, false, false, "/", "localhost:8080"});
    parse_as("http://example.com:80/x",
             (want){false, "example.com", 80, false, false, "/x", "example.com:80"});
    parse_as("https://example.com:443",
             (want){true, "example.com", 443, false, false, "/", "example.com:443"});
    parse_as("https://example.com:80/",
             (want){true, "example.com", 80, false, false, "/", "example.com:80"});
    /* the scheme is case-insensitive; the host is kept as written */
    parse_as("HTTP://Example.COM/A",
             (want){false, "Example.COM", 80, true, false, "/A", "Example.COM"});
    parse_as("HttpS://h/", (want){true, "h", 443, true, false, "/", "h"});
    /* port range ends, and leading zeros (5 digits at most) */
    parse_as("http://h:1/", (want){false, "h", 1, false, false, "/", "h:1"});
    parse_as("http://h:65535/", (want){false, "h", 65535, false, false, "/", "h:65535"});
    parse_as("http://h:00080/", (want){false, "h", 80, false, false, "/", "h:80"});
}

static void test_ipv4(void **state) {
    parse_as("http://127.0.0.1/", (want){false, "127.0.0.1", 80, true, true, "/", "127.0.0.1"});
    parse_as("http://127.0.0.1:8080/api?x=1",
             (want){false, "127.0.0.1", 8080, false, true, "/api?x=1", "127.0.0.1:8080"});
    parse_as("https://10.1.2.3:8443",
             (want){true, "10.1.2.3", 8443, false, true, "/", "10.1.2.3:8443"});
    /* not a literal address: four dotted numbers above 255 are a name */
    parse_as("http://1.2.3.456/", (want){false, "1.2.3.456", 80, true, false, "/", "1.2.3.456"});
}

static void test_ipv6(void **state) {
    /* the host is stored without brackets; the Host header puts them back */
    parse_as("http://[::1]/", (want){false, "::1", 80, true, true, "/", "[::1]"});
    parse_as("http://[::1]", (want){false, "::1", 80, true, true, "/", "[::1]"});
    parse_as("http://[::1]:8080/p", (want){false, "::1", 8080, false, true, "/p", "[::1]:8080"});
    parse_as("http://[::1]:8080", (want){false, "::1", 8080, false, true, "/", "[::1]:8080"});
    parse_as("https://[2001:db8::1]/",
             (want){true, "2001:db8::1", 443, true, true, "/", "[2001:db8::1]"});
    parse_as("https://[2001:db8::1]:8443?q=1",
             (want){true, "2001:db8::1", 8443, false, true, "/?q=1", "[2001:db8::1]:8443"});
    parse_as("http://[::ffff:127.0.0.1]:9/",
             (want){false, "::ffff:127.0.0.1", 9, false, true, "/", "[::ffff:127.0.0.1]:9"});
    parse_as("http://[::1]#f", (want){false, "::1", 80, true, true, "/", "[::1]"});
}

static void test_path_and_query(void **state) {
    /* "?q" without a path: the path becomes "/" followed by the query */
    parse_as("http://h?q", (want){false, "h", 80, true, false, "/?q", "h"});
    parse_as("http://h?a=1&b=2", (want){false, "h", 80, true, false, "/?a=1&b=2", "h"});
    parse_as("http://h:81?a=1", (want){false, "h", 81, false, false, "/?a=1", "h:81"});
    parse_as("http://h/p?", (want){false, "h", 80, true, false, "/p?", "h"});
    parse_as("http://h/a/b/?c=d/e?f", (want){false, "h", 80, true, false, "/a/b/?c=d/e?f", "h"});
    /* fragments are never sent */
    parse_as("http://h/p#frag", (want){false, "h", 80, true, false, "/p", "h"});
    parse_as("http://h#frag", (want){false, "h", 80, true, false, "/", "h"});
    parse_as("http://h:8080#frag", (want){false, "h", 8080, false, false, "/", "h:8080"});
    parse_as("http://h?q=1#frag", (want){false, "h", 80, true, false, "/?q=1", "h"});
    parse_as("http://h/p?q=1#f?g", (want){false, "h", 80, true, false, "/p?q=1", "h"});
    parse_as("http://h/#", (want){false, "h", 80, true, false, "/", "h"});
    /* '@' and ':' after the authority are ordinary path characters */
    parse_as("http://h/a@b:c", (want){false, "h", 80, true, false, "/a@b:c", "h"});
    parse_as("http://h?u=a@b", (want){false, "h", 80, true, false, "/?u=a@b", "h"});
    /* percent-escapes and non-ASCII bytes are passed through untouched */
    parse_as("http://h/a%20b/\xc3\xa9",
             (want){false, "h", 80, true, false, "/a%20b/\xc3\xa9", "h"});
}

/* Request-template placeholders in the path and query are kept byte for byte: the template
 * compiler, not the URL parser, gives them meaning. */
static void test_templates_verbatim(void **state) {
    parse_as("http://h/orders/{{seq}}",
             (want){false, "h", 80, true, false, "/orders/{{seq}}", "h"});
    parse_as("http://127.0.0.1:8080/o/{{uuid}}?n={{rand:1-100}}&t={{time}}",
             (want){false, "127.0.0.1", 8080, false, true,
                    "/o/{{uuid}}?n={{rand:1-100}}&t={{time}}", "127.0.0.1:8080"});
    parse_as("http://h?id={{seq}}", (want){false, "h", 80, true, false, "/?id={{seq}}", "h"});
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
    reject("example.com", msg);
    reject("example.com:80/x", msg);
    reject("ftp://example.com/", msg);
    reject("ws://h/", msg);
    reject("http:/h/", msg);
    reject("http:h", msg);
    reject("https:/h", msg);
    reject("httpx://h/", msg);
    reject(" http://h/", msg);
    reject("//h/", msg);
    reject("", msg);
}

static void test_reject_host(void **state) {
    reject("http://", "no host");
    reject("https://", "no host");
    reject("http:///path", "no host");
    reject("http://?q", "no host");
    reject("http://#f", "no host");
    reject("http://:80/", "bad host"); /* a port with no host */
    reject("http://[]/", "bad host");
    reject("http://[]:80/", "bad host");
    /* an unbracketed IPv6 address: its first ':' starts the "port" */
    reject("http://::1/", "bad host");
    reject("http://fe80::1/", "bad port");
    /* placeholders, spaces, backslashes and control characters have no place in a host */
    reject("http://h{{seq}}/", "bad character in host");
    reject("http://{{host}}:80/", "bad character in host");
    reject("http://a b/", "bad character in host");
    reject("http://a\\b/", "bad character in host");
    reject("http://a\tb/", "bad character in host");
    reject("http://a\r\nX-Injected:1/", "bad character in host");
    reject("http://a\x01/", "bad character in host");
    reject("http://a\x7f/", "bad character in host");
    reject("http://[::1\n]/", "bad character in host");
    /* 256 bytes do not fit host[256] */
    char s[300];
    memcpy(s, "http://", 7);
    memset(s + 7, 'a', 256);
    strcpy(s + 7 + 256, "/");
    reject(s, "bad host");
}

static void test_reject_port(void **state) {
    const char *msg = "bad port (want 1..65535)";
    reject("http://h:/", msg); /* empty */
    reject("http://h:", msg);
    reject("http://h:0/", msg); /* zero */
    reject("http://h:00000/", msg);
    reject("http://h:65536/", msg); /* one too large */
    reject("http://h:99999/", msg);
    reject("http://h:123456/", msg); /* six digits */
    reject("http://h:000080/", msg); /* six digits, although the value is 80 */
    reject("http://h:8a/", msg);
    reject("http://h:a8/", msg);
    reject("http://h:-1/", msg);
    reject("http://h:+80/", msg);
    reject("http://h: 80/", msg);
    reject("http://h:80:90/", msg);
    reject("http://h:80 /", msg);
    reject("http://[::1]:/", msg);
    reject("http://[::1]:0/", msg);
    reject("http://[::1]:65536/", msg);
    reject("http://[::1]:x/", msg);
    reject("http://[::1]::80/", msg);
}

static void test_reject_ipv6_syntax(void **state) {
    reject("http://[::1]x/", "junk after IPv6 address");
    reject("http://[::1]80/", "junk after IPv6 address");
    reject("http://[::1]]/", "junk after IPv6 address");
    reject("http://[::1][::2]/", "junk after IPv6 address");
    reject("http://[::1", "unterminated IPv6 address");
    reject("http://[::1/", "unterminated IPv6 address");
    reject("http://[::1:80/", "unterminated IPv6 address");
    reject("http://[::1?q=]", "unterminated IPv6 address"); /* the ']' is in the query */
    reject("http://[", "unterminated IPv6 address");
}

static void test_reject_credentials(void **state) {
    const char *msg = "credentials in URLs are not supported";
    reject("http://user:pw@h/", msg);
    reject("http://user@h", msg);
    reject("https://@h/", msg);
    reject("http://u@[::1]:80/", msg);
    reject("http://h@/", msg);
}

static void test_reject_path_chars(void **state) {
    const char *msg = "spaces or control characters in the path";
    reject("http://h/a b", msg);
    reject("http://h/ ", msg);
    reject("http://h?q=a b", msg); /* the query is part of the path */
    reject("http://h/a\tb", msg);
    reject("http://h/a\r\nX: y", msg);
    reject("http://h/\x01", msg);
    reject("http://h/\x1f", msg);
    reject("http://h/\x7f", msg);
    reject("http://[::1]:80/{{ seq }}", msg);
    reject("http://h:8080/p?x=1&y=2 HTTP/1.1", msg);
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_https_names),
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_path_and_query),
        cmocka_unit_test(test_templates_verbatim),
        cmocka_unit_test(test_long_host),
        cmocka_unit_test(test_reject_scheme),
        cmocka_unit_test(test_reject_host),
        cmocka_unit_test(test_reject_port),
        cmocka_unit_test(test_reject_ipv6_syntax),
        cmocka_unit_test(test_reject_credentials),
        cmocka_unit_test(test_reject_path_chars),
        cmocka_unit_test(test_resolve_literals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
