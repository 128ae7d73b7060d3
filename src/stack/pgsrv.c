/* pgsrv.c — what is particular to PostgreSQL in the embedded stack (see pgsrv.h).
 *
 * The cluster is made fresh for every stack by initdb --no-sync (which only skips initdb's own
 * final flush: the server itself runs with fsync and full_page_writes on, because the stack
 * exists to test durability). The server listens on 127.0.0.1 only and has no unix socket, so
 * nothing outside the stack's directory changes. Passwords never appear on a command line: the
 * superuser's reaches initdb through a file, and the application role's is sent as a SCRAM
 * verifier computed here by libpq, so even a failed statement logged by the server shows no
 * password. */
#include "stack/pgsrv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "core/err.h"

#define PG_ROOT "/usr/lib/postgresql"

static int has_server(const char *bindir) {
    char p[4096];
    snprintf(p, sizeof p, "%s/postgres", bindir);
    if (access(p, X_OK) < 0) return 0;
    snprintf(p, sizeof p, "%s/initdb", bindir);
    return access(p, X_OK) == 0;
}

int pgsrv_find(char *bindir, size_t len, char *major, size_t majorlen, char *err, size_t errlen) {
    const char *env = getenv("BRINK_PG_BINDIR");
    if (env && *env) {
        if (!has_server(env)) {
            err_set(err, errlen,
                    "PostgreSQL server not found: BRINK_PG_BINDIR=%s has no postgres and initdb "
                    "(install the Debian package postgresql)",
                    env);
            return -1;
        }
        snprintf(bindir, len, "%s", env);
        snprintf(major, majorlen, "?");
        return 0;
    }
    DIR *d = opendir(PG_ROOT);
    double best = -1;
    char best_name[64] = "";
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            char *end;
            double v = strtod(e->d_name, &end);
            if (end == e->d_name || *end || v <= best || strlen(e->d_name) >= sizeof best_name)
                continue;
            char cand[4096];
            snprintf(cand, sizeof cand, PG_ROOT "/%s/bin", e->d_name);
            if (!has_server(cand)) continue;
            best = v;
            memcpy(best_name, e->d_name, strlen(e->d_name) + 1); /* length checked above */
        }
        closedir(d);
    }
    if (best < 0) {
        err_set(err, errlen,
                "PostgreSQL server not found in " PG_ROOT
                "/VERSION/bin (install the Debian package postgresql)");
        return -1;
    }
    snprintf(bindir, len, PG_ROOT "/%s/bin", best_name);
    snprintf(major, majorlen, "%s", best_name);
    return 0;
}

char **pgsrv_initdb_argv(const char *bindir, const char *datadir, const char *pwfile) {
    char exe[4096], dflag[4096], pwflag[4096];
    snprintf(exe, sizeof exe, "%s/initdb", bindir);
    snprintf(dflag, sizeof dflag, "--pgdata=%s", datadir);
    snprintf(pwflag, sizeof pwflag, "--pwfile=%s", pwfile);
    return proc_argv(exe, dflag, "--username=postgres", pwflag, "--auth=scram-sha-256",
                     "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions", NULL);
}

int pgsrv_configure(const char *datadir, int port, char *err, size_t errlen) {
    char path[4096], text[1024];
    snprintf(path, sizeof path, "%s/postgresql.conf", datadir);
    snprintf(text, sizeof text,
             "\n# --- brink stack ---\n"
             "listen_addresses = '127.0.0.1'\n"
             "port = %d\n"
             "unix_socket_directories = ''\n"
             "max_connections = 100\n"
             "# a durability test, not a toy: every commit reaches the disk\n"
             "fsync = on\n"
             "full_page_writes = on\n"
             "synchronous_commit = on\n"
             "logging_collector = off\n"
             "log_destination = 'stderr'\n"
             "log_line_prefix = '%%m [%%p] '\n",
             port);
    return proc_write_file(path, text, PROC_FILE_APPEND, 0, 0, err, errlen);
}

char **pgsrv_argv(const char *bindir, const char *datadir) {
    char exe[4096];
    snprintf(exe, sizeof exe, "%s/postgres", bindir);
    return proc_argv(exe, "-D", datadir, NULL);
}

static int exec_sql(PGconn *c, const char *sql, const char *what, char *err, size_t errlen) {
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
        msg[strcspn(msg, "\n")] = '\0';
        err_set(err, errlen, "postgres: cannot %s: %s", what, msg);
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return 0;
}

int pgsrv_create_app(const char *admin_url, const char *user, const char *password, const char *db,
                     char *version, size_t versionlen, char *err, size_t errlen) {
    const char *kw[] = {"dbname", "connect_timeout", NULL};
    const char *val[] = {admin_url, "10", NULL};
    PGconn *c = PQconnectdbParams(kw, val, 1);
    char *verifier = NULL, *role = NULL, *dbname = NULL, *lit = NULL;
    int rc = -1;
    if (!c || PQstatus(c) != CONNECTION_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", c ? PQerrorMessage(c) : "out of memory");
        msg[strcspn(msg, "\n")] = '\0';
        err_set(err, errlen, "postgres: cannot connect as the superuser: %s", msg);
        goto out;
    }
    verifier = PQencryptPasswordConn(c, password, user, "scram-sha-256");
    role = PQescapeIdentifier(c, user, strlen(user));
    dbname = PQescapeIdentifier(c, db, strlen(db));
    lit = verifier ? PQescapeLiteral(c, verifier, strlen(verifier)) : NULL;
    if (!verifier || !role || !dbname || !lit) {
        err_set(err, errlen, "postgres: cannot prepare the role: %s", PQerrorMessage(c));
        goto out;
    }
    char sql[1024];
    snprintf(sql, sizeof sql, "CREATE ROLE %s LOGIN PASSWORD %s", role, lit);
    if (exec_sql(c, sql, "create the role", err, errlen) < 0) goto out;
    snprintf(sql, sizeof sql, "CREATE DATABASE %s OWNER %s", dbname, role);
    if (exec_sql(c, sql, "create the database", err, errlen) < 0) goto out;
    const char *v = PQparameterStatus(c, "server_version");
    snprintf(version, versionlen, "%s", v ? v : "");
    rc = 0;
out:
    PQfreemem(verifier);
    PQfreemem(role);
    PQfreemem(dbname);
    PQfreemem(lit);
    PQfinish(c);
    return rc;
}
