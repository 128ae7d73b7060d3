/* redsrv.c — what is particular to Redis in the embedded stack (see redsrv.h): the binary, the
 * configuration (appendonly yes with appendfsync everysec — Redis's usual durable setting, so a
 * SIGKILL may lose up to a second of writes, which the Redis failure test must account for —
 * and no RDB snapshots, so the append-only file is the only persistence), and the version. */
#include "stack/redsrv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "core/clock.h"
#include "core/err.h"
#include "stack/proc.h"

int redsrv_find(char *path, size_t len, char *err, size_t errlen) {
    const char *env = getenv("BRINK_REDIS_SERVER");
    if (env && *env) {
        if (proc_find_exe(env, path, len) == 0) return 0;
        err_set(err, errlen,
                "redis-server not found: BRINK_REDIS_SERVER=%s is not an executable (install the "
                "Debian package redis-server)",
                env);
        return -1;
    }
    if (proc_find_exe("redis-server", path, len) == 0) return 0;
    if (proc_find_exe("/usr/bin/redis-server", path, len) == 0) return 0;
    err_set(err, errlen, "redis-server not found (install the Debian package redis-server)");
    return -1;
}

/* Writes s as a double-quoted Redis configuration string. */
static void put_quoted(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int redsrv_configure(const char *conf, const char *datadir, int port, char *err, size_t errlen) {
    FILE *f = fopen(conf, "w");
    if (!f) {
        err_set(err, errlen, "cannot write %s: %s", conf, strerror(errno));
        return -1;
    }
    fprintf(f,
            "# brink stack: Redis on loopback, append-only file fsynced every second\n"
            "bind 127.0.0.1\n"
            "port %d\n"
            "protected-mode yes\n"
            "daemonize no\n"
            "supervised no\n"
            "logfile \"\"\n"
            "unixsocket \"\"\n"
            "dir ",
            port);
    put_quoted(f, datadir);
    fprintf(f, "\n"
               "appendonly yes\n"
               "appendfsync everysec\n"
               "save \"\"\n");
    if (fclose(f) != 0) {
        err_set(err, errlen, "cannot write %s: %s", conf, strerror(errno));
        return -1;
    }
    return 0;
}

char **redsrv_argv(const char *exe, const char *conf) {
    char **argv = calloc(3, sizeof *argv);
    if (!argv) return NULL;
    argv[0] = strdup(exe);
    argv[1] = strdup(conf);
    if (!argv[0] || !argv[1]) {
        proc_argv_free(argv);
        return NULL;
    }
    return argv;
}

void redsrv_version(int port, int64_t timeout_ns, char *out, size_t outlen) {
    out[0] = '\0';
    struct timeval tv = {.tv_sec = timeout_ns / NS_PER_S,
                         .tv_usec = (timeout_ns % NS_PER_S) / 1000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!c || c->err) {
        if (c) redisFree(c);
        return;
    }
    redisSetTimeout(c, tv);
    redisReply *r = redisCommand(c, "INFO server");
    if (r && (r->type == REDIS_REPLY_STRING) && r->str) {
        const char *v = strstr(r->str, "redis_version:");
        if (v) {
            v += strlen("redis_version:");
            size_t n = strcspn(v, "\r\n");
            snprintf(out, outlen, "%.*s", (int)n, v);
        }
    }
    if (r) freeReplyObject(r);
    redisFree(c);
}
