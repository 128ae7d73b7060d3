/* race_release.h — the synchronized release of the vendor race: V kept-alive connections, one per
 * vendor, each carrying its request written up to the last byte; then the last bytes released
 * together, so that the requests become complete at the server within microseconds of each
 * other; then every answer read back with its latency. Two ways to release:
 *   loop     one thread writes each connection's last byte in a tight loop (the default: on
 *            loopback, measured to give the smaller spread — see docs/race.md)
 *   barrier  one thread per vendor, all waiting on a pthread barrier, each writing its own byte
 * The send spread (first to last final-byte write, CLOCK_MONOTONIC) is measured for each race. */
#ifndef BRINK_RACE_RELEASE_H
#define BRINK_RACE_RELEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/client.h"

typedef enum race_release_mode {
    RACE_RELEASE_LOOP,
    RACE_RELEASE_BARRIER,
} race_release_mode;

const char *race_release_name(race_release_mode m);          /* "loop", "barrier" */
int race_release_parse(const char *s, race_release_mode *m); /* 0 or -1 */

/* One vendor's request in one race. */
typedef struct race_shot {
    int status;       /* the response's status; 0 when none */
    client_err err;   /* CLIENT_OK when a response came */
    char detail[160]; /* the failure, one line */
    const char *body; /* the response's body; valid until the next race */
    size_t body_len;
    int64_t release_ns; /* just before its last byte was written */
    int64_t sent_ns;    /* its last byte was written (0: never sent) */
    int64_t done_ns;    /* its response was complete, or it failed */
} race_shot;

typedef struct race_times {
    int sent;              /* requests whose last byte went out */
    int64_t release_ns;    /* the first last byte was about to be written */
    int64_t first_sent_ns; /* the first and the last final-byte write returned */
    int64_t last_sent_ns;
    int64_t last_done_ns;   /* the last answer (or failure) */
    int64_t prefix_wait_ns; /* how long the prefixes took to reach the server */
} race_times;

typedef struct race_release race_release;

/* V connections to base_url (opened lazily, reopened when the server closes one); settle_ns:
 * the pause between "every prefix reached the server" and the release (lets the server parse
 * them). 0, or -1 with a one-line reason (bad URL, resolution, threads). */
int race_release_new(const char *base_url, int vendors, race_release_mode mode, bool insecure,
                     int64_t settle_ns, race_release **out, char *err, size_t errlen);
void race_release_free(race_release *r); /* NULL is allowed */

/* One race: reqs[i] (lens[i] bytes, at least 2) is vendor i's complete request. Last bytes are
 * written starting with vendor `first` (rotate it so that no vendor is always first). Every
 * shot is filled; a request gets at most timeout_ns from the start of the race. */
void race_release_fire(race_release *r, char *const *reqs, const size_t *lens, int first,
                       int64_t timeout_ns, race_shot *shots, race_times *t);

#endif
