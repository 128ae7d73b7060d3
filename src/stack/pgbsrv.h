/* pgbsrv.h — the embedded stack's PgBouncer (`brink stack up --pgbouncer`): Debian's pgbouncer in
 * transaction-pooling mode between the service and PostgreSQL, on loopback only, with an
 * auth_file derived from the stack's generated password (0600, never a command line). Starting,
 * stopping and signalling it is generic (stack.c); this file knows what is particular to it. */
#ifndef BRINK_PGBSRV_H
#define BRINK_PGBSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PGBSRV_POOL_MODE "transaction"

/* Finds pgbouncer: $BRINK_PGBOUNCER when set, else on PATH, else /usr/sbin/pgbouncer. */
int pgbsrv_find(char *path, size_t len, char *err, size_t errlen);

/* The version `pgbouncer --version` prints ("1.18.0"; "" when unknown). */
void pgbsrv_version(const char *exe, char *out, size_t outlen);

typedef struct pgbsrv_conf {
    const char *dir;   /* its directory: pgbouncer.ini and userlist.txt are written there */
    int port;          /* listens on 127.0.0.1:port */
    int upstream_port; /* PostgreSQL (or its fault proxy) on 127.0.0.1 */
    const char *database, *user, *password;
    bool chown_to; /* the files belong to uid/gid (it runs as that account) */
    uid_t uid;
    gid_t gid;
} pgbsrv_conf;

/* Writes DIR/pgbouncer.ini and DIR/userlist.txt (both 0600); the paths into ini and auth. */
int pgbsrv_configure(const pgbsrv_conf *c, char *ini, size_t inilen, char *auth, size_t authlen,
                     char *err, size_t errlen);

/* The server's argv (malloc'd, free with proc_argv_free): pgbouncer INI. */
char **pgbsrv_argv(const char *exe, const char *ini);

#endif
