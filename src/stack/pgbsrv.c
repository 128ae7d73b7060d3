/* pgbsrv.c — what is particular to PgBouncer in the embedded stack (see pgbsrv.h).
 *
 * PgBouncer runs in the foreground (no -d), logs to its stderr (the stack's pgbouncer.log) and
 * listens on 127.0.0.1 only, with no unix socket. pool_mode = transaction: a server connection
 * belongs to a client only for one transaction — the mode that lets many service instances share
 * few PostgreSQL connections, and the one that breaks protocol-level prepared statements before
 * PgBouncer 1.21 (dispatchd --pg-prepare off). Clients authenticate with SCRAM against the
 * auth_file, which holds the application role's password in clear (PgBouncer needs it to log in
 * to PostgreSQL with SCRAM itself); the file is 0600 and belongs to the account PgBouncer runs as.
 * server_login_retry is 1 s instead of 15 s, so that a PostgreSQL restart costs about as long as
 * it takes, not a quarter of a minute of "server login failed". The application role is also a
 * stats user: it may read PgBouncer's SHOW POOLS / SHOW STATS on the admin database "pgbouncer"
 * (clients waiting for a server connection are the pooler's saturation signal), not change it. */
#include "stack/pgbsrv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "stack/proc.h"

int pgbsrv_find(char *path, size_t len, char *err, size_t errlen) {
    return proc_find_server("BRINK_PGBOUNCER", "pgbouncer", "/usr/sbin/pgbouncer", "pgbouncer",
                            path, len, err, errlen);
}

void pgbsrv_version(const char *exe, char *out, size_t outlen) {
    out[0] = '\0';
    char *argv[] = {(char *)exe, "--version", NULL};
    char text[256], err[128];
    int st;
    if (proc_run(argv, 5 * NS_PER_S, &st, text, sizeof text, err, sizeof err) < 0) return;
    const char *v = strstr(text, "PgBouncer ");
    if (!v) return;
    v += strlen("PgBouncer ");
    snprintf(out, outlen, "%.*s", (int)strcspn(v, " \r\n"), v);
}

/* Writes a 0600 file owned by the configured account. */
static int write_file(const pgbsrv_conf *c, const char *path, const char *text, char *err,
                      size_t errlen) {
    return proc_write_file(path, text, PROC_FILE_SECRET | (c->chown_to ? PROC_FILE_CHOWN : 0),
                           c->uid, c->gid, err, errlen);
}

/* Whether s can stand in PgBouncer's files unquoted/inside "..." (the stack's own names and
 * hex passwords always can). */
static bool plain(const char *s) {
    for (; *s; s++)
        if (*s == '"' || *s == '\\' || *s == '\n' || *s == '\r' || *s == ' ' || *s == '\'')
            return false;
    return true;
}

int pgbsrv_configure(const pgbsrv_conf *c, char *ini, size_t inilen, char *auth, size_t authlen,
                     char *err, size_t errlen) {
    if (!plain(c->database) || !plain(c->user) || !plain(c->password) || !plain(c->dir)) {
        err_set(err, errlen, "pgbouncer: unsupported character in a name, password or path");
        return -1;
    }
    if ((size_t)snprintf(ini, inilen, "%s/pgbouncer.ini", c->dir) >= inilen ||
        (size_t)snprintf(auth, authlen, "%s/userlist.txt", c->dir) >= authlen) {
        err_set(err, errlen, "pgbouncer: directory path too long");
        return -1;
    }
    char text[2048];
    int n = snprintf(text, sizeof text, "\"%s\" \"%s\"\n", c->user, c->password);
    if (n < 0 || (size_t)n >= sizeof text) {
        err_set(err, errlen, "pgbouncer: user name or password too long");
        return -1;
    }
    int rc = write_file(c, auth, text, err, errlen);
    memset(text, 0, sizeof text);
    if (rc < 0) return -1;
    n = snprintf(text, sizeof text,
                 "; brink stack: PgBouncer between the service and PostgreSQL's fault proxy\n"
                 "[databases]\n"
                 "%s = host=127.0.0.1 port=%d dbname=%s\n"
                 "\n"
                 "[pgbouncer]\n"
                 "listen_addr = 127.0.0.1\n"
                 "listen_port = %d\n"
                 "unix_socket_dir =\n"
                 "auth_type = scram-sha-256\n"
                 "auth_file = %s\n"
                 "pool_mode = " PGBSRV_POOL_MODE "\n"
                 "max_client_conn = 500\n"
                 "default_pool_size = 20\n"
                 "max_db_connections = 40\n"
                 "server_login_retry = 1\n"
                 "server_connect_timeout = 5\n"
                 "log_connections = 0\n"
                 "log_disconnections = 0\n"
                 "stats_users = %s\n",
                 c->database, c->upstream_port, c->database, c->port, auth, c->user);
    if (n < 0 || (size_t)n >= sizeof text) {
        err_set(err, errlen, "pgbouncer: configuration too long");
        return -1;
    }
    return write_file(c, ini, text, err, errlen);
}

char **pgbsrv_argv(const char *exe, const char *ini) {
    return proc_argv(exe, ini, NULL);
}
