/* probe.h — numbers read from a running system while a scenario breaks it: a queue's depth, a
 * table's row count, a gauge on a /metrics page. A probe is {kind, url, what to read} and gives
 * back one number per read:
 *   redis  a command (words separated by spaces, e.g. "XLEN orders") whose reply is a number,
 *          or a path into the reply ("[0]" for XPENDING's summary count,
 *          "[name=workers].lag" for one group of XINFO GROUPS);
 *   sql    a query whose first column of its first row is a number;
 *   http   a GET whose body is JSON (a path: "queue.depth", "items[0].n", "[id=a].n") or the
 *          Prometheus text format (a metric name, optionally with labels:
 *          name{route="webhook"} — the sum of every sample that has those labels).
 * Probes keep their connection between reads and reconnect after a failure; every read is
 * bounded by the probe's timeout, also against a server that accepts and never answers. A probe
 * is used from one thread at a time.
 *
 * The extraction functions (Prometheus text, JSON paths) are pure and exposed for tests. */
#ifndef BRINK_PROBE_H
#define BRINK_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum probe_kind {
    PROBE_REDIS,
    PROBE_SQL,
    PROBE_HTTP,
} probe_kind;

#define PROBE_NAME_MAX 64
/* Each read's limit when a spec gives none: brink.yaml's probes and the JSON ones alike. */
#define PROBE_TIMEOUT_DEFAULT_NS 1000000000LL
#define PROBE_TEXT_MAX           1024

typedef struct probe_spec {
    probe_kind kind;
    char name[PROBE_NAME_MAX]; /* a label for reports ("inbox", "stream_pending") */
    /* redis://[[USER]:PASS@]HOST[:PORT][/DB], postgresql://... (any libpq connection string),
     * http://HOST[:PORT]/PATH. May carry a password: never printed (see probe_describe). */
    char url[PROBE_TEXT_MAX];
    char command[PROBE_TEXT_MAX]; /* redis */
    char query[PROBE_TEXT_MAX];   /* sql */
    char path[256];               /* redis: into the reply; http: JSON path */
    char metric[256];             /* http: Prometheus selector (instead of path) */
    int64_t timeout_ns;           /* each read; 0: PROBE_TIMEOUT_DEFAULT_NS */
} probe_spec;

const char *probe_kind_name(probe_kind k);
int probe_kind_parse(const char *s, probe_kind *out); /* 0 or -1 */

/* Reads a spec from a JSON object: {"kind": "redis"|"sql"|"http", "name", "url" or "url_env"
 * (an environment variable holding the URL, so that passwords stay off command lines),
 * "command", "query", "path", "metric", "timeout" (a duration, "500ms"; default 1s; "timeout_ms",
 * a whole number of milliseconds, is the older spelling)}. Checks that the kind has what it needs;
 * a URL that starts with a {placeholder} (a scenario fills in its stack's addresses) is checked
 * by probe_open instead.
 * 0, or -1 with a one-line reason. */
int probe_spec_parse(const char *json, probe_spec *out, char *err, size_t errlen);
/* "redis XLEN orders @ redis://127.0.0.1:6379" with any password replaced by ***. */
void probe_describe(const probe_spec *s, char *out, size_t outlen);

typedef struct probe probe;

/* Checks the spec and makes the probe; nothing is connected yet. 0, or -1 with a reason. */
int probe_open(const probe_spec *s, probe **out, char *err, size_t errlen);
/* One read: 0 with the number in *value, or -1 with a one-line reason (the target is down, the
 * reply is not a number, the path matches nothing). A failed read drops the connection; the next
 * read connects again. */
int probe_read(probe *p, double *value, char *err, size_t errlen);
const probe_spec *probe_get_spec(const probe *p);
void probe_close(probe *p);

/* The HTTP client of the http probes, for a whole page: one GET of page (plain http://, Connection:
 * close) under timeout_ns (0: 1 s). 0 with the body of a 2xx answer in *body (malloc'd,
 * NUL-terminated; free it) and its length in *len, or -1 with a one-line reason (refused, timed
 * out, a status other than 2xx). probe_metrics.c scrapes /metrics pages with it. */
int probe_http_get(const char *page, int64_t timeout_ns, char **body, size_t *len, char *err,
                   size_t errlen);

/* ---- pure extraction (exposed for tests) ------------------------------------------------------
 */

/* The Prometheus text exposition format (version 0.0.4) in text[0..len): the sum of the samples
 * of metric `selector` — "name" or "name{label="value",...}" (a sample matches when it has every
 * label given, with that value; other labels may differ). Comments, HELP/TYPE lines and other
 * metrics are skipped; NaN and +Inf values are read as such. 0 with *out, or -1 when no sample
 * matches or the selector is malformed (reason in err). */
int probe_prom_value(const char *text, size_t len, const char *selector, double *out, char *err,
                     size_t errlen);

/* A JSON document in text[0..len), and a path: segments ".key" (the first may omit the dot),
 * "[N]" (array index) or "[key=value]" (the first element of an array that is an object whose
 * key is the string value, or a number equal to it). The value found must be a number, a
 * boolean (1/0) or a string holding a number. "" or "." is the whole document. 0 with *out, or
 * -1 with a reason. */
int probe_json_value(const char *text, size_t len, const char *path, double *out, char *err,
                     size_t errlen);

/* A path, compiled: the shared syntax of JSON and Redis reply paths. */
#define PROBE_PATH_MAX 16
typedef struct probe_path_seg {
    enum { PROBE_SEG_KEY, PROBE_SEG_INDEX, PROBE_SEG_MATCH } type;
    char key[64];   /* KEY, MATCH */
    char value[64]; /* MATCH */
    long index;     /* INDEX */
} probe_path_seg;
/* 0 with n segments in segs, or -1 with a reason. */
int probe_path_parse(const char *path, probe_path_seg *segs, int *n, char *err, size_t errlen);

/* A whole string as a number (leading/trailing blanks allowed; "NaN", "+Inf", "-Inf" too). */
int probe_parse_number(const char *s, size_t len, double *out);

#endif
