/* redsrv.h — the embedded stack's Redis: Debian's redis-server, a configuration file in the
 * stack's directory (loopback only, a password, append-only file fsynced every second, no RDB
 * snapshots), and its version from INFO. Starting and signalling it is generic (stack.c). */
#ifndef BRINK_REDSRV_H
#define BRINK_REDSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Finds redis-server: $BRINK_REDIS_SERVER when set, else on PATH, else /usr/bin/redis-server. */
int redsrv_find(char *path, size_t len, char *err, size_t errlen);
/* Where the server runs and who may read its configuration. */
typedef struct redsrv_conf {
    const char *path;     /* the configuration file to write (0600: it holds the password) */
    const char *datadir;  /* its data (the append-only file) */
    int port;             /* on 127.0.0.1 */
    const char *password; /* requirepass: every client must AUTH (hex: no quoting needed) */
    bool chown_to;        /* make the file uid/gid's (the server runs as that account) */
    uid_t uid;
    gid_t gid;
} redsrv_conf;

/* Writes c->path for a server on 127.0.0.1:port with its data in datadir. */
int redsrv_configure(const redsrv_conf *c, char *err, size_t errlen);
/* The server's argv (malloc'd, free with proc_argv_free): redis-server CONF. */
char **redsrv_argv(const char *exe, const char *conf);
/* redis_version from INFO server of 127.0.0.1:port, after AUTH with password (NULL: none; ""
 * when unknown). */
void redsrv_version(int port, const char *password, int64_t timeout_ns, char *out, size_t outlen);

#endif
