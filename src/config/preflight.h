/* preflight.h — before any load on a user's stack, each thing the run will need is tried once,
 * so that a mistake in brink's own configuration fails in seconds with one line instead of at the
 * end of a run (as a red verdict blaming the service): the --json path is writable, the commands
 * of the dependencies the run will fault are executables, the proxy API answers and has the named
 * proxies, the target accepts a connection, the audit database accepts one and its queries
 * prepare, every probe reads once. Nothing is sent to the target (a server that counts requests
 * sees none). */
#ifndef BRINK_PREFLIGHT_H
#define BRINK_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

typedef struct preflight {
    const config *cfg;      /* brink.yaml (NULL: no file: only target and json are tried) */
    const char *target_url; /* the URL the load goes to (NULL: not tried) */
    const char *json_path;  /* --json (NULL or "-": not tried) */
    bool audit;             /* the run's audit uses audit.url (and its queries) */
    bool audit_events;      /* ... audit.events' queries */
    bool probes;            /* the run reads the probes */
    /* the dependencies the run faults: each one's commands; with network faults (proxy) its
     * Toxiproxy API and proxy */
    const char *deps[2];
    bool proxy[2];
    /* another database the run reads (the race's SQL truth), NULL: none: its URL (password from
     * sql_password or libpq's environment), a query with one parameter that must prepare, and
     * what names it in messages ("--pg", "race.yaml: truth.sql.url") */
    const char *sql_url, *sql_password, *sql_query, *sql_where;
} preflight;

/* Tries each thing p names, quickly (a few seconds at most). EXIT_OK (0); EXIT_USAGE with one line
 * naming the file, key and what is wrong (brink's configuration: a missing password, an unknown
 * table, a proxy the API does not have, a command that is not there, an unwritable path); or
 * EXIT_UNREACHABLE when something does not answer at all (connection refused, timeout). */
int preflight_run(const preflight *p, char *err, size_t errlen);
/* The --json path alone (NULL or "-": nothing to check): EXIT_OK, or EXIT_USAGE with one line
 * (a directory, or a directory that is not writable). */
int preflight_json_path(const char *path, char *err, size_t errlen);

#endif
