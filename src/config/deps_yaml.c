/* deps_yaml.c — the `dependencies:` section (see deps_yaml.h): one table of core/yml.h per
 * dependency, filling the deps of stack/deps.h, which runs the hooks. brink.yaml's loader
 * (config.c) hands deps_parse the node under its own `dependencies:` key; deps_load is the small
 * loader of a file of its own (`brink stack fault --config`). Commands given as strings are split
 * with proc_split at load time, so that a bad quote is reported with its line instead of at the
 * moment of the fault. */
#include "config/deps_yaml.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/yml.h"
#include "fault/proxy.h"
#include "http/url.h"
#include "stack/proc.h"
#include "stack/ready.h"

_Static_assert(sizeof(pid_t) == sizeof(int), "YML_INT stores an int");

#define DEPS_WHAT "with one entry per dependency (NAME: {start_cmd: ..., ready_check: ...})"
#define URL_KINDS "tcp://, redis://, postgresql:// or http(s)://"

static bool valid_name(const char *s) {
    if (!*s) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

/* A command: a string (split into words) or a non-empty list of strings. */
static int parse_cmd(const yml_ctx *c, const yml_val *x, void *obj) {
    char ***out = x->dst;
    const yaml_node_t *v = x->v;
    const char *s = yml_str(v);
    if (s) {
        char e[300];
        if (proc_split(s, out, e, sizeof e) < 0) return yml_fail(c, v, x->key, "%s", e);
        return 0;
    }
    if (v->type != YAML_SEQUENCE_NODE)
        return yml_fail(c, yml_where(x->k, v), x->key,
                        "expected a string or a list of strings, found %s", yml_kind(v));
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n == 0) return yml_fail(c, v, x->key, "empty command (want at least the program)");
    char **argv = calloc(n + 1, sizeof *argv);
    if (!argv) return yml_fail(c, v, x->key, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *it = yml_node(c, v->data.sequence.items.start[i]);
        const char *w = yml_str(it);
        if (!w) {
            proc_argv_free(argv);
            return yml_fail(c, yml_where(v, it), x->key,
                            "expected a string or a list of strings, found %s as item %zu",
                            yml_kind(it), i + 1);
        }
        if (!(argv[i] = strdup(w))) {
            proc_argv_free(argv);
            return yml_fail(c, v, x->key, "out of memory");
        }
    }
    if (!argv[0][0]) {
        proc_argv_free(argv);
        return yml_fail(c, v, x->key, "empty command (the program's name is empty)");
    }
    *out = argv;
    return 0;
}

static int parse_signal(const yml_ctx *c, const yml_val *x, void *obj) {
    static const struct {
        const char *name;
        int sig;
    } sigs[] = {{"TERM", SIGTERM}, {"INT", SIGINT},   {"QUIT", SIGQUIT},
                {"HUP", SIGHUP},   {"USR1", SIGUSR1}, {"USR2", SIGUSR2}};
    const char *s = yml_str(x->v), *name = s && !strncmp(s, "SIG", 3) ? s + 3 : s;
    for (size_t i = 0; name && i < sizeof sigs / sizeof sigs[0]; i++)
        if (!strcmp(name, sigs[i].name)) {
            ((deps_dep *)obj)->stop_signal = sigs[i].sig;
            return 0;
        }
    return yml_fail(c, yml_where(x->k, x->v), x->key,
                    "expected a signal's name (SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1 or "
                    "SIGUSR2), found %s%s%s%s",
                    yml_kind(x->v), s ? " '" : "", s ? s : "", s ? "'" : "");
}

static int check_ready(const yml_ctx *c, const yml_val *x, void *obj) {
    char e[300];
    if (ready_check_url(((deps_dep *)obj)->ready_check, e, sizeof e) < 0)
        return yml_fail(c, x->v, x->key, "%s", e);
    return 0;
}

/* ---- toxiproxy: {api: http://HOST:PORT, proxy: NAME} — where brink applies network faults ---- */

static int check_api(const yml_ctx *c, const yml_val *x, void *obj) {
    url u;
    char e[300];
    if (url_parse(((deps_dep *)obj)->toxi_api, &u, e, sizeof e) < 0)
        return yml_fail(c, x->v, x->key, "%s", e);
    bool tls = u.tls;
    url_free(&u);
    if (tls) return yml_fail(c, x->v, x->key, "want an http:// URL (the API is plain HTTP)");
    return 0;
}

/* The proxy's name as brink proxy's API takes it (proxy_name_ok): one /proxies/NAME can name. */
static int check_proxy(const yml_ctx *c, const yml_val *x, void *obj) {
    const char *p = ((deps_dep *)obj)->toxi_proxy;
    if (!proxy_name_ok(p))
        return yml_fail(c, x->v, x->key, "invalid proxy name '%.80s': " PROXY_NAME_RULE, p);
    return 0;
}

static int finish_toxiproxy(const yml_ctx *c, const yml_val *x, void *obj) {
    const deps_dep *dep = obj;
    if (dep->toxi_proxy) return 0;
    char path[YML_KEY_MAX];
    yml_join(path, x->key, "proxy");
    return yml_fail(c, x->k, path, "missing: the name of the proxy in front of %s", dep->name);
}

static const yml_field toxiproxy_rows[] = {
    {"api", YML_STR, offsetof(deps_dep, toxi_api), "the API's base URL (http://127.0.0.1:8474)",
     .fn = check_api, .missing = "the Toxiproxy API's URL (e.g. http://127.0.0.1:8474)"},
    {"proxy", YML_STR, offsetof(deps_dep, toxi_proxy), "the proxy's name", .fn = check_proxy},
    {0},
};
static const yml_table toxiproxy = {"(api: the Toxiproxy API's URL, proxy: the proxy's name)",
                                    toxiproxy_rows, finish_toxiproxy};

/* ---- a dependency ------------------------------------------------------------------------------
 */

static int finish_dep(const yml_ctx *c, const yml_val *x, void *obj) {
    deps_dep *dep = obj;
    bool process = dep->pid || dep->pid_file || dep->start_cmd || dep->stop_cmd || dep->kill_cmd ||
                   dep->pause_cmd || dep->resume_cmd;
    if (!dep->ready_check && (process || !dep->toxi_api)) {
        char path[YML_KEY_MAX];
        yml_join(path, x->key, "ready_check");
        return yml_fail(c, x->k, path, "missing: the URL that answers when %s is up (%s)",
                        dep->name, URL_KINDS);
    }
    if (dep->pid && dep->pid_file)
        return yml_fail(c, x->v, x->key, "give pid or pid_file, not both");
    if (dep->stop_signal && !dep->pid && !dep->pid_file)
        return yml_fail(c, x->v, x->key,
                        "stop_signal goes with pid or pid_file (the process to signal)");
    if (!dep->stop_signal) dep->stop_signal = SIGTERM;
    if (!dep->timeout_ns) dep->timeout_ns = DEPS_TIMEOUT_DEFAULT_NS;
    return 0;
}

static const yml_field dep_rows[] = {
    {"start_cmd", YML_CUSTOM, offsetof(deps_dep, start_cmd), .fn = parse_cmd},
    {"stop_cmd", YML_CUSTOM, offsetof(deps_dep, stop_cmd), .fn = parse_cmd},
    {"kill_cmd", YML_CUSTOM, offsetof(deps_dep, kill_cmd), .fn = parse_cmd},
    {"pause_cmd", YML_CUSTOM, offsetof(deps_dep, pause_cmd), .fn = parse_cmd},
    {"resume_cmd", YML_CUSTOM, offsetof(deps_dep, resume_cmd), .fn = parse_cmd},
    {"ready_check", YML_STR, offsetof(deps_dep, ready_check), "a URL (" URL_KINDS ")",
     .fn = check_ready},
    {"timeout", YML_DURATION, offsetof(deps_dep, timeout_ns), .min = 1},
    {"pid", YML_INT, offsetof(deps_dep, pid), .min = 2, .max = 1 << 22},
    {"pid_file", YML_FILE, offsetof(deps_dep, pid_file), .what = "a file holding the process id"},
    {"stop_signal", YML_CUSTOM, 0, .fn = parse_signal},
    {"toxiproxy", YML_MAP, .sub = &toxiproxy},
    {0},
};
static const yml_table dep_table = {
    "with ready_check and the commands (start_cmd, stop_cmd, kill_cmd, ...)", dep_rows, finish_dep};

static int parse_dep(const yml_ctx *c, const yml_val *x, void *obj) {
    const char *name = yml_str(x->k);
    if (!valid_name(name))
        return yml_fail(c, x->k, x->key,
                        "a dependency's name may hold only letters, digits, '-', '_' and '.'");
    deps_dep *dep = deps_add(obj, name, yml_line(x->k));
    if (!dep) return yml_fail(c, x->k, x->key, "out of memory");
    return yml_walk(c, x->k, x->v, x->key, &dep_table, dep);
}

/* ---- loading ------------------------------------------------------------------------------- */

int deps_parse(yaml_document_t *doc, const yaml_node_t *node, const char *file, const char *key,
               deps **out, char *err, size_t errlen) {
    *out = NULL;
    yml_ctx c = {.doc = doc, .file = file, .err = err, .errlen = errlen};
    deps *d = deps_new(file);
    if (!d) return yml_fail(&c, node, key, "out of memory");
    if (yml_each(&c, NULL, node, key, DEPS_WHAT, parse_dep, d) < 0) {
        deps_free(d);
        return -1;
    }
    *out = d;
    return 0;
}

/* From the loaded document: the value of the top-level `dependencies:` key, parsed. */
static int load_root(yaml_document_t *doc, const char *path, deps **out, char *err, size_t errlen) {
    yml_ctx c = {.doc = doc, .file = path, .err = err, .errlen = errlen};
    const yaml_node_t *root = yaml_document_get_root_node(doc), *k;
    if (!root) return yml_fail(&c, NULL, "dependencies", "missing (the file is empty)");
    if (root->type != YAML_MAPPING_NODE)
        return yml_fail(&c, root, "dependencies",
                        "missing: the top level is %s, not a mapping with a dependencies: key",
                        yml_kind(root));
    if (yml_check_keys(&c, root, "") < 0) return -1;
    const yaml_node_t *v = yml_find(&c, root, "dependencies", &k);
    if (!k)
        return yml_fail(&c, root, "dependencies",
                        "missing (want a top-level dependencies: mapping, one entry per "
                        "dependency)");
    if (yml_is_null(v)) /* point at the key, not at the empty value's line */
        return yml_fail(&c, k, "dependencies", "expected a mapping %s, found %s", DEPS_WHAT,
                        yml_kind(v));
    return deps_parse(doc, v, path, "dependencies", out, err, errlen);
}

int deps_load(const char *path, deps **out, char *err, size_t errlen) {
    *out = NULL;
    yaml_document_t doc;
    if (yml_load_file(path, &doc, err, errlen) < 0) return -1;
    int rc = load_root(&doc, path, out, err, errlen);
    yaml_document_delete(&doc);
    return rc;
}
