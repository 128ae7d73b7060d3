/* deps.c — a user's own stack (see deps.h): the `dependencies:` section of a YAML file, and the
 * process faults of the embedded stack (stack.c) carried out with the user's commands.
 *
 * Parsing works on libyaml's document tree (yaml_parser_load), so that brink's main configuration
 * loader can hand deps_parse the node under its own `dependencies:` key; deps_load is the small
 * loader for a file of its own. Nothing is accepted loosely: every key is known, every value has
 * its type, duplicate keys and a second document are errors, and each error is one line that
 * names the file, the line and the key path ("deps.yaml:7: dependencies.redis.stop_cmd: ...").
 * libyaml resolves no tags, so a scalar is a string unless it is tagged otherwise or is a plain
 * null (empty, ~, null); commands given as strings are split with proc_split at load time, so
 * that a bad quote is reported with its line instead of at the moment of the fault.
 *
 * A fault is a command run with proc_run (no shell, its own process group, a time limit: the
 * dependency's timeout) — or, for an operation without a command, a signal to the dependency's
 * pid or pid_file — followed by polling the ready check, which is what gives the timestamps the
 * same meaning as the embedded stack's: "down" is the first failed check after a stop or kill
 * returned, "ready" the first successful one after a start or resume. The toxiproxy key is only
 * parsed here (brink.yaml's network faults are applied by resilience/resil_user.c). */
#include "stack/deps.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/yml.h"
#include "core/parse.h"
#include "http/url.h"
#include "stack/proc.h"
#include "stack/ready.h"

#define DEFAULT_TIMEOUT_NS (10 * NS_PER_S)
#define START_CHECK_NS     (2 * NS_PER_S) /* the "already running?" probe before a start */
#define KEY_MAX            YML_KEY_MAX

struct deps {
    char *file;
    deps_dep *v;
    int n;
};

/* ---- parsing -------------------------------------------------------------------------------- */

typedef yml_ctx pctx;

/* A command: a string (split into words) or a non-empty list of strings. */
static int parse_cmd(const pctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                     char ***out) {
    const char *s = yml_str(v);
    if (s) {
        char e[300];
        if (proc_split(s, out, e, sizeof e) < 0) return yml_fail(c, v, key, "%s", e);
        return 0;
    }
    if (v->type != YAML_SEQUENCE_NODE)
        return yml_fail(c, yml_where(k, v), key, "expected a string or a list of strings, found %s",
                        yml_kind(v));
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n == 0) return yml_fail(c, v, key, "empty command (want at least the program)");
    char **argv = calloc(n + 1, sizeof *argv);
    if (!argv) return yml_fail(c, v, key, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *it = yml_node(c, v->data.sequence.items.start[i]);
        const char *w = yml_str(it);
        if (!w) {
            proc_argv_free(argv);
            return yml_fail(c, yml_where(v, it), key,
                            "expected a string or a list of strings, found %s as item %zu",
                            yml_kind(it), i + 1);
        }
        if (!(argv[i] = strdup(w))) {
            proc_argv_free(argv);
            return yml_fail(c, v, key, "out of memory");
        }
    }
    if (!argv[0][0]) {
        proc_argv_free(argv);
        return yml_fail(c, v, key, "empty command (the program's name is empty)");
    }
    *out = argv;
    return 0;
}

static const struct {
    const char *name;
    size_t off;
} cmd_fields[] = {
    {"start_cmd", offsetof(deps_dep, start_cmd)},   {"stop_cmd", offsetof(deps_dep, stop_cmd)},
    {"kill_cmd", offsetof(deps_dep, kill_cmd)},     {"pause_cmd", offsetof(deps_dep, pause_cmd)},
    {"resume_cmd", offsetof(deps_dep, resume_cmd)},
};
#define N_CMD_FIELDS (sizeof cmd_fields / sizeof cmd_fields[0])
#define KNOWN_KEYS                                                                                 \
    "start_cmd, stop_cmd, kill_cmd, pause_cmd, resume_cmd, ready_check, timeout, pid, pid_file, "  \
    "stop_signal or toxiproxy"
#define DEPS_MAPPING_MSG                                                                           \
    "expected a mapping with one entry per dependency (NAME: {start_cmd: ..., ready_check: "       \
    "...}), found %s"
#define URL_KINDS "tcp://, redis://, postgresql:// or http(s)://"

static bool valid_name(const char *s) {
    if (!*s) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

static int signal_by_name(const char *s) {
    static const struct {
        const char *name;
        int sig;
    } sigs[] = {{"TERM", SIGTERM}, {"INT", SIGINT},   {"QUIT", SIGQUIT},
                {"HUP", SIGHUP},   {"USR1", SIGUSR1}, {"USR2", SIGUSR2}};
    if (!strncmp(s, "SIG", 3)) s += 3;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (!strcmp(s, sigs[i].name)) return sigs[i].sig;
    return 0;
}

char *deps_relative_to(const char *file, const char *p) {
    if (p[0] == '/' || !strchr(file, '/')) return strdup(p);
    size_t dl = (size_t)(strrchr(file, '/') - file);
    size_t n = dl + strlen(p) + 2;
    char *out = malloc(n);
    if (out) snprintf(out, n, "%.*s/%s", (int)dl, file, p);
    return out;
}

/* toxiproxy: {api: http://HOST:PORT, proxy: NAME} — where brink applies network faults. */
static int parse_toxiproxy(const pctx *c, const yaml_node_t *k, const yaml_node_t *v,
                           const char *key, deps_dep *dep) {
    if (yml_want_map(c, k, v, key, "api: the Toxiproxy API's URL, proxy: the proxy's name") < 0)
        return -1;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const yaml_node_t *fk = yml_node(c, p->key), *fv = yml_node(c, p->value);
        const char *field = yml_str(fk);
        char path[KEY_MAX];
        yml_join(path, key, field);
        if (!strcmp(field, "api")) {
            if (yml_get_str(c, fk, fv, path, "the API's base URL (http://127.0.0.1:8474)",
                            &dep->toxi_api) < 0)
                return -1;
            url u;
            char e[300];
            if (url_parse(dep->toxi_api, &u, e, sizeof e) < 0)
                return yml_fail(c, fv, path, "%s", e);
            bool tls = u.tls;
            url_free(&u);
            if (tls) return yml_fail(c, fv, path, "want an http:// URL (the API is plain HTTP)");
        } else if (!strcmp(field, "proxy")) {
            if (yml_get_str(c, fk, fv, path, "the proxy's name", &dep->toxi_proxy) < 0) return -1;
            if (!valid_name(dep->toxi_proxy) || strchr(dep->toxi_proxy, '.'))
                return yml_fail(c, fv, path,
                                "a proxy's name may hold only letters, digits, '-' and '_'");
        } else {
            return yml_fail(c, fk, path, "unknown key (want api or proxy)");
        }
    }
    char path[KEY_MAX];
    if (!dep->toxi_api) {
        yml_join(path, key, "api");
        return yml_fail(c, k, path,
                        "missing: the Toxiproxy API's URL (e.g. http://127.0.0.1:8474)");
    }
    if (!dep->toxi_proxy) {
        yml_join(path, key, "proxy");
        return yml_fail(c, k, path, "missing: the name of the proxy in front of %s", dep->name);
    }
    return 0;
}

static int parse_field(const pctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                       const char *field, deps_dep *dep) {
    for (size_t i = 0; i < N_CMD_FIELDS; i++)
        if (!strcmp(field, cmd_fields[i].name))
            return parse_cmd(c, k, v, key, (char ***)((char *)dep + cmd_fields[i].off));
    if (!strcmp(field, "ready_check")) {
        const char *s = yml_str(v);
        if (!s)
            return yml_fail(c, yml_where(k, v), key, "expected a URL (%s), found %s", URL_KINDS,
                            yml_kind(v));
        char e[300];
        if (ready_check_url(s, e, sizeof e) < 0) return yml_fail(c, v, key, "%s", e);
        if (!(dep->ready_check = strdup(s))) return yml_fail(c, v, key, "out of memory");
        return 0;
    }
    if (!strcmp(field, "timeout")) {
        const char *s = yml_str(v);
        if (!s)
            return yml_fail(c, yml_where(k, v), key,
                            "expected a duration (e.g. 10s, 500ms), found %s", yml_kind(v));
        char e[300];
        int64_t ns;
        if (parse_duration_ns(s, &ns, e, sizeof e) < 0) return yml_fail(c, v, key, "%s", e);
        if (ns <= 0) return yml_fail(c, v, key, "must be more than 0");
        dep->timeout_ns = ns;
        return 0;
    }
    if (!strcmp(field, "pid")) {
        int64_t pid;
        if (yml_get_int(c, k, v, key, 2, 1 << 22, &pid) < 0) return -1;
        dep->pid = (pid_t)pid;
        return 0;
    }
    if (!strcmp(field, "pid_file")) {
        char *f = NULL;
        if (yml_get_str(c, k, v, key, "a file holding the process id", &f) < 0) return -1;
        dep->pid_file = deps_relative_to(c->file, f);
        free(f);
        if (!dep->pid_file) return yml_fail(c, v, key, "out of memory");
        return 0;
    }
    if (!strcmp(field, "stop_signal")) {
        const char *s = yml_str(v);
        int sig = s ? signal_by_name(s) : 0;
        if (!sig)
            return yml_fail(c, yml_where(k, v), key,
                            "expected a signal's name (SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1 "
                            "or SIGUSR2), found %s%s%s%s",
                            yml_kind(v), s ? " '" : "", s ? s : "", s ? "'" : "");
        dep->stop_signal = sig;
        return 0;
    }
    if (!strcmp(field, "toxiproxy")) return parse_toxiproxy(c, k, v, key, dep);
    return yml_fail(c, k, key, "unknown key (want " KNOWN_KEYS ")");
}

static int parse_dep(const pctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                     deps_dep *dep) {
    if (v->type != YAML_MAPPING_NODE)
        return yml_fail(
            c, yml_where(k, v), key,
            "expected a mapping with ready_check and the commands (start_cmd, stop_cmd, "
            "kill_cmd, ...), found %s",
            yml_kind(v));
    if (yml_check_keys(c, v, key) < 0) return -1;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const yaml_node_t *fk = yml_node(c, p->key), *fv = yml_node(c, p->value);
        const char *field = yml_str(fk);
        char path[KEY_MAX];
        yml_join(path, key, field);
        if (parse_field(c, fk, fv, path, field, dep) < 0) return -1;
    }
    bool process = dep->pid || dep->pid_file;
    for (size_t i = 0; i < N_CMD_FIELDS; i++)
        if (*(char ***)((char *)dep + cmd_fields[i].off)) process = true;
    if (!dep->ready_check && (process || !dep->toxi_api)) {
        char path[KEY_MAX];
        yml_join(path, key, "ready_check");
        return yml_fail(c, k, path, "missing: the URL that answers when %s is up (%s)", dep->name,
                        URL_KINDS);
    }
    if (dep->pid && dep->pid_file) return yml_fail(c, v, key, "give pid or pid_file, not both");
    if (dep->stop_signal && !dep->pid && !dep->pid_file)
        return yml_fail(c, v, key, "stop_signal goes with pid or pid_file (the process to signal)");
    if (!dep->stop_signal) dep->stop_signal = SIGTERM;
    if (!dep->timeout_ns) dep->timeout_ns = DEFAULT_TIMEOUT_NS;
    return 0;
}

int deps_parse(yaml_document_t *doc, yaml_node_t *node, const char *file, const char *key,
               deps **out, char *err, size_t errlen) {
    *out = NULL;
    pctx c = {.doc = doc, .file = file, .err = err, .errlen = errlen};
    if (!node || node->type != YAML_MAPPING_NODE)
        return yml_fail(&c, node, key, DEPS_MAPPING_MSG, yml_kind(node));
    if (yml_check_keys(&c, node, key) < 0) return -1;
    size_t n = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    deps *d = calloc(1, sizeof *d);
    if (d) d->v = calloc(n ? n : 1, sizeof *d->v);
    if (!d || !d->v || !(d->file = strdup(file))) {
        deps_free(d);
        return yml_fail(&c, node, key, "out of memory");
    }
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = yml_node(&c, p->key), *v = yml_node(&c, p->value);
        const char *name = yml_str(k);
        char path[KEY_MAX];
        yml_join(path, key, name);
        if (!valid_name(name)) {
            deps_free(d);
            return yml_fail(&c, k, path,
                            "a dependency's name may hold only letters, digits, '-', '_' and '.'");
        }
        deps_dep *dep = &d->v[d->n++];
        dep->line = yml_line(k);
        if (!(dep->name = strdup(name)) || parse_dep(&c, k, v, path, dep) < 0) {
            if (!dep->name) yml_fail(&c, k, path, "out of memory");
            deps_free(d);
            return -1;
        }
    }
    *out = d;
    return 0;
}

/* From the loaded document: the value of the top-level `dependencies:` key, parsed. */
static int load_root(yaml_document_t *doc, const char *path, deps **out, char *err, size_t errlen) {
    pctx c = {.doc = doc, .file = path, .err = err, .errlen = errlen};
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (!root) return yml_fail(&c, NULL, "dependencies", "missing (the file is empty)");
    if (root->type != YAML_MAPPING_NODE)
        return yml_fail(&c, root, "dependencies",
                        "missing: the top level is %s, not a mapping with a dependencies: key",
                        yml_kind(root));
    if (yml_check_keys(&c, root, "") < 0) return -1;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        if (strcmp(yml_str(yml_node(&c, p->key)), "dependencies")) continue;
        yaml_node_t *v = yml_node(&c, p->value);
        if (yml_is_null(v)) /* point at the key, not at the empty value's line */
            return yml_fail(&c, yml_node(&c, p->key), "dependencies", DEPS_MAPPING_MSG,
                            yml_kind(v));
        return deps_parse(doc, v, path, "dependencies", out, err, errlen);
    }
    return yml_fail(&c, root, "dependencies",
                    "missing (want a top-level dependencies: mapping, one entry per dependency)");
}

int deps_load(const char *path, deps **out, char *err, size_t errlen) {
    *out = NULL;
    yaml_document_t doc;
    if (yml_load_file(path, &doc, err, errlen) < 0) return -1;
    int rc = load_root(&doc, path, out, err, errlen);
    yaml_document_delete(&doc);
    return rc;
}

void deps_free(deps *d) {
    if (!d) return;
    for (int i = 0; i < d->n; i++) {
        deps_dep *dep = &d->v[i];
        free(dep->name);
        for (size_t k = 0; k < N_CMD_FIELDS; k++)
            proc_argv_free(*(char ***)((char *)dep + cmd_fields[k].off));
        free(dep->ready_check);
        free(dep->pid_file);
        free(dep->toxi_api);
        free(dep->toxi_proxy);
    }
    free(d->v);
    free(d->file);
    free(d);
}

/* ---- access --------------------------------------------------------------------------------- */

const char *deps_file(const deps *d) {
    return d->file;
}

int deps_count(const deps *d) {
    return d->n;
}

const deps_dep *deps_at(const deps *d, int i) {
    return i >= 0 && i < d->n ? &d->v[i] : NULL;
}

const deps_dep *deps_find(const deps *d, const char *name) {
    for (int i = 0; i < d->n; i++)
        if (!strcmp(d->v[i].name, name)) return &d->v[i];
    return NULL;
}

void deps_names(const deps *d, char *out, size_t outlen) {
    size_t used = 0;
    if (outlen) out[0] = '\0';
    for (int i = 0; i < d->n && used < outlen; i++) {
        int w = snprintf(out + used, outlen - used, "%s%s", i ? ", " : "", d->v[i].name);
        if (w < 0) break;
        used += (size_t)w;
    }
}

/* ---- faults --------------------------------------------------------------------------------- */

static void mark(int64_t *mono, int64_t *wall) {
    *mono = clock_now_ns();
    *wall = clock_wall_ns();
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static double secs(int64_t ns) {
    return (double)ns / NS_PER_S;
}

/* Runs one of dep's commands; 0 when it exited with status 0, else -1 with its status and the
 * start of its output. */
static int run(const deps_dep *dep, char **argv, const char *what, char *err, size_t errlen) {
    char out[1024] = "", e[400];
    int status = 0;
    if (proc_run(argv, dep->timeout_ns, &status, out, sizeof out, e, sizeof e) < 0) {
        err_set(err, errlen, "%s: %s: %s", dep->name, what, e);
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char st[64];
        proc_describe_status(status, st, sizeof st);
        yml_one_line(out);
        char *o = out;
        while (*o == ' ') o++;
        size_t n = strlen(o);
        while (n && o[n - 1] == ' ') o[--n] = '\0';
        if (n > 200) memcpy(o + 197, "...", 4);
        err_set(err, errlen, "%s: %s failed (%s)%s%s", dep->name, what, st, *o ? ": " : "", o);
        return -1;
    }
    return 0;
}

static int need(const deps *d, const deps_dep *dep, char **argv, const char *what, const char *op,
                char *err, size_t errlen) {
    if (argv) return 0;
    err_set(err, errlen, "%s has no %s in %s: add one to %s it", dep->name, what, d->file, op);
    return -1;
}

/* After a stop or kill command: polls the ready check until it fails (down). */
static int wait_down(const deps_dep *dep, const char *what, stack_fault_times *t, char *err,
                     size_t errlen) {
    int64_t deadline = clock_now_ns() + dep->timeout_ns;
    for (int attempt = 0;; attempt++) {
        int64_t left = deadline - clock_now_ns();
        int64_t each = left < NS_PER_S ? left : NS_PER_S;
        if (each < 10 * NS_PER_MS) each = 10 * NS_PER_MS;
        char e[400];
        if (ready_probe(dep->ready_check, each, e, sizeof e) < 0) {
            mark(&t->down_ns, &t->down_wall_ns);
            return 0;
        }
        if (clock_now_ns() >= deadline) break;
        sleep_ms(attempt < 50 ? 5 : 20);
    }
    char shown[512];
    ready_redact(dep->ready_check, shown, sizeof shown);
    err_set(err, errlen, "%s still answers its ready check (%s) %.1fs after its %s returned",
            dep->name, shown, secs(dep->timeout_ns), what);
    return -1;
}

/* After a start or resume command: polls the ready check until it succeeds (ready). */
static int wait_ready(const deps_dep *dep, const char *what, stack_fault_times *t, char *err,
                      size_t errlen) {
    char e[400];
    if (stack_ready_check(dep->ready_check, dep->timeout_ns, e, sizeof e) < 0) {
        err_set(err, errlen, "%s did not become ready within %.1fs after its %s: %s", dep->name,
                secs(dep->timeout_ns), what, e);
        return -1;
    }
    mark(&t->ready_ns, &t->ready_wall_ns);
    return 0;
}

static int fault_stop(const deps_dep *dep, char **argv, const char *what, stack_fault_times *t,
                      char *err, size_t errlen) {
    mark(&t->signal_ns, &t->signal_wall_ns);
    if (run(dep, argv, what, err, errlen) < 0) return -1;
    return wait_down(dep, what, t, err, errlen);
}

static int fault_start(const deps_dep *dep, bool check_running, stack_fault_times *t, char *err,
                       size_t errlen) {
    if (check_running) {
        int64_t probe = dep->timeout_ns < START_CHECK_NS ? dep->timeout_ns : START_CHECK_NS;
        char e[400];
        if (ready_probe(dep->ready_check, probe, e, sizeof e) == 0) {
            char shown[512];
            ready_redact(dep->ready_check, shown, sizeof shown);
            err_set(err, errlen,
                    "%s is already running (its ready check %s answers): stop or kill it first",
                    dep->name, shown);
            return -1;
        }
    }
    if (run(dep, dep->start_cmd, "start_cmd", err, errlen) < 0) return -1;
    return wait_ready(dep, "start_cmd", t, err, errlen);
}

pid_t deps_pid(const deps_dep *dep) {
    if (dep->pid) return dep->pid;
    if (!dep->pid_file) return 0;
    FILE *f = fopen(dep->pid_file, "r");
    if (!f) return 0;
    long v = 0;
    int k = fscanf(f, "%ld", &v);
    fclose(f);
    return k == 1 && v > 1 && v < (1L << 22) ? (pid_t)v : 0;
}

/* The process a signal goes to, or -1 with why not. */
static pid_t signal_target(const deps_dep *dep, char *err, size_t errlen) {
    pid_t pid = deps_pid(dep);
    if (pid > 0) return pid;
    if (dep->pid_file)
        err_set(err, errlen, "%s: no process id in %s (%s)", dep->name, dep->pid_file,
                access(dep->pid_file, R_OK) == 0 ? "not a number" : strerror(errno));
    else
        err_set(err, errlen, "%s: no pid", dep->name);
    return -1;
}

/* Sends sig to the dependency's process (pid or pid_file) instead of running a command. */
static int send_signal(const deps_dep *dep, int sig, stack_fault_times *t, char *err,
                       size_t errlen) {
    pid_t pid = signal_target(dep, err, errlen);
    if (pid < 0) return -1;
    t->pid_before = pid;
    mark(&t->signal_ns, &t->signal_wall_ns);
    if (kill(pid, sig) < 0) {
        err_set(err, errlen, "%s: cannot send %s to pid %d: %s", dep->name, strsignal(sig),
                (int)pid, strerror(errno));
        return -1;
    }
    return 0;
}

int deps_fault(const deps *d, const char *name, stack_fault_op op, stack_fault_times *t, char *err,
               size_t errlen) {
    memset(t, 0, sizeof *t);
    const deps_dep *dep = deps_find(d, name);
    if (!dep) {
        char names[256];
        deps_names(d, names, sizeof names);
        err_set(err, errlen, "unknown dependency '%s' (%s defines %s)", name, d->file,
                names[0] ? names : "none");
        return -1;
    }
    const char *opname = stack_fault_name(op);
    bool sig = dep->pid || dep->pid_file; /* signals stand in for a missing command */
    int rc;
    switch (op) {
    case STACK_FAULT_PAUSE:
        if (!dep->pause_cmd && sig) {
            if (send_signal(dep, SIGSTOP, t, err, errlen) < 0) return -1;
            mark(&t->down_ns, &t->down_wall_ns);
            return 0;
        }
        if (need(d, dep, dep->pause_cmd, "pause_cmd", opname, err, errlen) < 0) return -1;
        mark(&t->signal_ns, &t->signal_wall_ns);
        if (run(dep, dep->pause_cmd, "pause_cmd", err, errlen) < 0) return -1;
        mark(&t->down_ns, &t->down_wall_ns);
        return 0;
    case STACK_FAULT_RESUME:
        if (!dep->resume_cmd && sig) {
            if (send_signal(dep, SIGCONT, t, err, errlen) < 0) return -1;
            return wait_ready(dep, "SIGCONT", t, err, errlen);
        }
        if (need(d, dep, dep->resume_cmd, "resume_cmd", opname, err, errlen) < 0) return -1;
        mark(&t->signal_ns, &t->signal_wall_ns);
        if (run(dep, dep->resume_cmd, "resume_cmd", err, errlen) < 0) return -1;
        return wait_ready(dep, "resume_cmd", t, err, errlen);
    case STACK_FAULT_STOP:
        if (!dep->stop_cmd && sig) {
            if (send_signal(dep, dep->stop_signal, t, err, errlen) < 0) return -1;
            return wait_down(dep, strsignal(dep->stop_signal), t, err, errlen);
        }
        if (need(d, dep, dep->stop_cmd, "stop_cmd", opname, err, errlen) < 0) return -1;
        return fault_stop(dep, dep->stop_cmd, "stop_cmd", t, err, errlen);
    case STACK_FAULT_KILL:
        if (!dep->kill_cmd && sig) {
            if (send_signal(dep, SIGKILL, t, err, errlen) < 0) return -1;
            return wait_down(dep, "SIGKILL", t, err, errlen);
        }
        if (need(d, dep, dep->kill_cmd, "kill_cmd", opname, err, errlen) < 0) return -1;
        return fault_stop(dep, dep->kill_cmd, "kill_cmd", t, err, errlen);
    case STACK_FAULT_START:
        if (need(d, dep, dep->start_cmd, "start_cmd", opname, err, errlen) < 0) return -1;
        rc = fault_start(dep, true, t, err, errlen);
        if (rc == 0 && sig) t->pid_after = deps_pid(dep);
        return rc;
    case STACK_FAULT_RESTART:
        if ((!sig && need(d, dep, dep->stop_cmd, "stop_cmd", opname, err, errlen) < 0) ||
            need(d, dep, dep->start_cmd, "start_cmd", opname, err, errlen) < 0)
            return -1;
        if (dep->stop_cmd) {
            if (fault_stop(dep, dep->stop_cmd, "stop_cmd", t, err, errlen) < 0) return -1;
        } else {
            if (send_signal(dep, dep->stop_signal, t, err, errlen) < 0) return -1;
            if (wait_down(dep, strsignal(dep->stop_signal), t, err, errlen) < 0) return -1;
        }
        rc = fault_start(dep, false, t, err, errlen);
        if (rc == 0 && sig) t->pid_after = deps_pid(dep);
        return rc;
    }
    err_set(err, errlen, "unknown fault operation");
    return -1;
}
