/* redsrv.h — the embedded stack's Redis: Debian's redis-server, a configuration file in the
 * stack's directory (loopback only, append-only file fsynced every second, no RDB snapshots),
 * and its version from INFO. Starting and signalling it is generic (stack.c). */
#ifndef BRINK_REDSRV_H
#define BRINK_REDSRV_H

#include <stddef.h>
#include <stdint.h>

/* Finds redis-server: $BRINK_REDIS_SERVER when set, else on PATH, else /usr/bin/redis-server. */
int redsrv_find(char *path, size_t len, char *err, size_t errlen);
/* Writes conf for a server on 127.0.0.1:port with its data in datadir. */
int redsrv_configure(const char *conf, const char *datadir, int port, char *err, size_t errlen);
/* The server's argv (malloc'd, free with proc_argv_free): redis-server CONF. */
char **redsrv_argv(const char *exe, const char *conf);
/* redis_version from INFO server of 127.0.0.1:port ("" when unknown). */
void redsrv_version(int port, int64_t timeout_ns, char *out, size_t outlen);

#endif
