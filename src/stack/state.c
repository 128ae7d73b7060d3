/* state.c — the stack's state file (see state.h): a JSON document built with jansson from the
 * stack's info, written 0600 (it holds the PostgreSQL and Redis URLs with their passwords) by
 * renaming a temporary file, so that a reader never sees half of it — the supervisor rewrites it
 * after every process fault, when pids change. */
#include "stack/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"

static json_t *str_or_null(const char *s) {
    return s ? json_string(s) : json_null();
}

static json_t *pid_of(const stack *s, const char *name) {
    stack_process ps[8];
    int n = stack_processes(s, ps, 8);
    for (int i = 0; i < n; i++)
        if (!strcmp(ps[i].name, name)) return json_integer(ps[i].pid);
    return json_null();
}

json_t *stack_state_json(const stack *s, bool keep) {
    const stack_info *i = stack_get_info(s);
    char now[32];
    clock_format_utc(clock_wall_ns(), now);
    json_t *pg = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "url",
        i->pg_url, "proxy_url", i->pg_proxy_url, "service_url", i->pg_service_url, "proxy_addr",
        i->pg_proxy_addr, "host", "127.0.0.1", "port", i->pg_port, "user", i->pg_user, "database",
        i->pg_database, "password_file", i->pg_password_file, "superuser_password_file",
        i->pg_superuser_password_file, "pgpass_file", i->pgpass_file, "data_dir", i->pg_data_dir,
        "log", i->pg_log, "version", i->pg_version, "bindir", i->pg_bindir, "pid",
        pid_of(s, "postgres"));
    json_t *rd = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:o}", "url",
                           i->redis_url, "proxy_url", i->redis_proxy_url, "service_url",
                           i->redis_service_url, "password_file", i->redis_password_file, "addr",
                           i->redis_addr, "proxy_addr", i->redis_proxy_addr, "port", i->redis_port,
                           "data_dir", i->redis_data_dir, "log", i->redis_log, "version",
                           i->redis_version, "server", i->redis_server, "pid", pid_of(s, "redis"));
    json_t *px = json_pack("{s:s, s:s, s:s}", "api", i->proxy_api_url, "postgres", i->pg_proxy_addr,
                           "redis", i->redis_proxy_addr);
    json_t *cmd = json_null();
    if (i->service_argv) {
        cmd = json_array();
        for (char *const *a = i->service_argv; *a; a++) json_array_append_new(cmd, json_string(*a));
    }
    json_t *sv =
        json_pack("{s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:o}", "url", str_or_null(i->service_url),
                  "listen", str_or_null(i->service_listen), "port",
                  i->service_port ? json_integer(i->service_port) : json_null(), "ready_url",
                  str_or_null(i->service_ready), "secret_file", i->secret_file, "log",
                  str_or_null(i->service_log), "command", cmd, "pid", pid_of(s, "service"));
    json_t *pb = json_null();
    if (i->pgb_url)
        pb = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "url",
                       i->pgb_url, "service_url", i->pgb_service_url, "addr", i->pgb_addr, "host",
                       "127.0.0.1", "port", i->pgb_port, "pool_mode", i->pgb_pool_mode, "upstream",
                       i->pg_proxy_addr, "config", i->pgb_config, "auth_file", i->pgb_auth_file,
                       "log", i->pgb_log, "version", i->pgb_version, "program", i->pgb_exe, "pid",
                       pid_of(s, "pgbouncer"));
    json_t *procs = json_array();
    stack_process ps[8];
    int n = stack_processes(s, ps, 8);
    for (int k = 0; k < n; k++)
        json_array_append_new(
            procs, json_pack("{s:s, s:i}", "name", ps[k].name, "pid", (json_int_t)ps[k].pid));
    json_t *doc = json_pack("{s:s, s:s, s:s, s:b, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "schema",
                            STACK_STATE_SCHEMA, "dir", i->dir, "profile", i->profile, "keep", keep,
                            "updated_at", now, "postgres", pg, "redis", rd, "pgbouncer", pb,
                            "proxies", px, "service", sv, "processes", procs);
    return doc;
}

int stack_state_write(json_t *doc, const char *path, char *err, size_t errlen) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        err_set(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    bool ok = text && fchmod(fd, 0600) == 0;
    size_t len = text ? strlen(text) : 0;
    if (ok) ok = write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
    if (text) {
        memset(text, 0, len);
        free(text);
    }
    if (close(fd) != 0) ok = false;
    if (!ok || rename(tmp, path) < 0) {
        err_set(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

json_t *stack_state_read(const char *path, char *err, size_t errlen) {
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    if (!doc) {
        if (errno == ENOENT || access(path, F_OK) < 0)
            err_set(err, errlen, "no stack state at %s (is the stack up?)", path);
        else
            err_set(err, errlen, "cannot read %s: %s", path, je.text);
        return NULL;
    }
    json_t *schema = json_object_get(doc, "schema");
    if (!json_is_string(schema) || strcmp(json_string_value(schema), STACK_STATE_SCHEMA) != 0) {
        err_set(err, errlen, "%s is not a brink stack state file (%s)", path, STACK_STATE_SCHEMA);
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static json_t *dig(json_t *doc, const char *dotted) {
    char key[128];
    const char *p = dotted;
    json_t *cur = doc;
    while (cur && *p) {
        size_t n = strcspn(p, ".");
        if (n >= sizeof key) return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
        p += n;
        if (*p == '.') p++;
    }
    return cur;
}

const char *stack_state_str(json_t *doc, const char *dotted) {
    json_t *v = dig(doc, dotted);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

long long stack_state_int(json_t *doc, const char *dotted) {
    json_t *v = dig(doc, dotted);
    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}
