/* segment.h — scale-out of load generation (docs/distributed.md): n brink processes, on n machines,
 * each run one segment i/n of the same test, so that together they produce the configured load
 * exactly once and `brink merge` can add their result documents up exactly.
 *
 *   open model    the arrival schedule is the whole test's; segment i (1-based) takes requests
 *                 j = i-1, i-1+n, i-1+2n, ... (every n-th, starting at its index): the union of
 *                 the segments is the single-process schedule, request for request, with the same
 *                 intended send times, and {{seq}} = j is disjoint across segments.
 *   closed model  connections and -n request counts are split so that the shares sum to the
 *                 total exactly (the first total mod n segments take one more); {{seq}} is
 *                 i-1 + n x (the segment's own sequence number): disjoint for the same reason.
 *
 * --start-at UNIX_TIME starts the processes together: each waits until that wall-clock time, which
 * becomes time 0 of its run (its document's started_at), so that their timelines align second
 * for second. The engine applies a segment (engine_config.seg); report/merge.c merges. */
#ifndef BRINK_SEGMENT_H
#define BRINK_SEGMENT_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cli.h"

#define SEGMENT_MAX 10000 /* most segments of one test */

/* Segment index (0-based) of count; {0, 0} and {0, 1} both mean the whole test. */
typedef struct segment {
    int index;
    int count;
} segment;

/* Parses "i/n" (1 <= i <= n <= SEGMENT_MAX) into a 0-based index. 0, or -1 with one line. */
int segment_parse(const char *s, segment *out, char *err, size_t errlen);
/* True when s splits the test (count > 1). */
bool segment_split(segment s);
/* This segment's share of total: total / n, plus one for the first total mod n segments. The
 * shares of the n segments sum to total. */
int64_t segment_share(segment s, int64_t total);
/* The global sequence number of the segment's k-th request (0-based): index + count * k. */
uint64_t segment_seq(segment s, uint64_t k);
/* Whether global sequence number seq belongs to s (seq mod count == index). */
bool segment_owns(segment s, uint64_t seq);

/* Parses --start-at: UNIX seconds, with an optional fraction (digits only, e.g. 1767225600.25),
 * into wall-clock ns, exactly. Refuses a time more than a second before now_wall_ns, or more than
 * a day after it (seconds, not milliseconds). 0, or -1 with one line. */
int segment_parse_start_at(const char *s, int64_t now_wall_ns, int64_t *wall_ns, char *err,
                           size_t errlen);

/* The option rows of a test's command line (core/cli.h), as CLI_FN functions and rows:
 *   segment_cli_parse     --segment I/N into a segment (dest: segment *);
 *   segment_cli_start_at  --start-at T into wall-clock ns, checked against now (dest: int64_t *);
 *   segment_cli_refuse    a test that is not split: fails with the message dest points to (the
 *                         command says why, e.g. "brink race does not take --segment ...").
 * Their errors name the option, as cli_parse wants of a CLI_FN. */
int segment_cli_parse(const char *value, void *dest, char *err, size_t errlen);
int segment_cli_start_at(const char *value, void *dest, char *err, size_t errlen);
int segment_cli_refuse(const char *value, void *dest, char *err, size_t errlen);

/* --segment I/N read by fn_ (segment_cli_parse, or a command's own that calls segment_parse) into
 * dest_; help_ says what a segment of this test is. */
#define SEGMENT_CLI_ROW(fn_, dest_, help_)                                                         \
    {                                                                                              \
        .name = "segment", .kind = CLI_FN, .fn = (fn_), .dest = (dest_), .meta = "I/N",            \
        .help = (help_)                                                                            \
    }
#define SEGMENT_CLI_START_AT(dest_)                                                                \
    {                                                                                              \
        .name = "start-at", .kind = CLI_FN, .fn = segment_cli_start_at, .dest = (dest_),           \
        .meta = "T",                                                                               \
        .help = "wait until UNIX time T (seconds, may have a fraction), then start: T is time 0 "  \
                "of the run, so that segments align"                                               \
    }
/* Two hidden rows: --segment and --start-at, both refused with the message at why_ (a char *). */
#define SEGMENT_CLI_REFUSED(why_)                                                                  \
    {.name = "segment", .kind = CLI_FN, .fn = segment_cli_refuse, .dest = (why_), .hidden = true}, \
    {                                                                                              \
        .name = "start-at", .kind = CLI_FN, .fn = segment_cli_refuse, .dest = (why_),              \
        .hidden = true                                                                             \
    }

/* Sleeps until lead_ns before the wall-clock time wall_ns, in slices of at most 50 ms, so that
 * *stop (SIGINT) ends the wait. 0 on time, -1 when stopped. */
int segment_wait(int64_t wall_ns, int64_t lead_ns, volatile sig_atomic_t *stop);

/* {"index": i (1-based), "count": n} for the result document's .config.segment. */
json_t *segment_json(segment s);
/* Records a run's segment and common start in its result document: .config.segment (when
 * s.count >= 1, i.e. --segment was given) and .config.start_at_unix_ns (when start_wall_ns is
 * not 0: --start-at, exact). */
void segment_doc(json_t *doc, segment s, int64_t start_wall_ns);

#endif
