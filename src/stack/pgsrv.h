/* pgsrv.h — the embedded stack's PostgreSQL: Debian's server binaries, a fresh cluster made by
 * initdb, the settings of a durability test (fsync and full_page_writes on, loopback only, no
 * unix sockets), and the application's role and database. Starting, stopping and signalling the
 * server is generic (stack.c); this file knows what is particular to PostgreSQL. */
#ifndef BRINK_PGSRV_H
#define BRINK_PGSRV_H

#include <stddef.h>
#include <sys/types.h>

#include "stack/proc.h"

/* Finds the server binaries: $BRINK_PG_BINDIR when set, else the highest version under
 * /usr/lib/postgresql/VERSION/bin that has both postgres and initdb. major receives VERSION. */
int pgsrv_find(char *bindir, size_t len, char *major, size_t majorlen, char *err, size_t errlen);

/* initdb's argv (malloc'd, free with proc_argv_free) for datadir (an existing empty directory
 * owned by the account it runs as) with superuser "postgres" whose password is in pwfile, SCRAM
 * authentication, UTF8 and the C locale. */
char **pgsrv_initdb_argv(const char *bindir, const char *datadir, const char *pwfile);

/* Appends the stack's settings to datadir/postgresql.conf. */
int pgsrv_configure(const char *datadir, int port, char *err, size_t errlen);

/* The server's argv (malloc'd, free with proc_argv_free): BINDIR/postgres -D DATADIR. */
char **pgsrv_argv(const char *bindir, const char *datadir);

/* Connected as the superuser (admin_url), creates role user (LOGIN, the password sent only as a
 * SCRAM verifier) and database db owned by it; version receives server_version. */
int pgsrv_create_app(const char *admin_url, const char *user, const char *password, const char *db,
                     char *version, size_t versionlen, char *err, size_t errlen);

#endif
