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
 * dependency's timeout) followed by polling the ready check, which is what gives the timestamps
 * the same meaning as the embedded stack's: "down" is the first failed check after a stop or
 * kill command returned, "ready" the first successful one after a start or resume command. */
#include "stack/deps.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/yml.h"
#include "core/parse.h"
#include "stack/proc.h"
#include "stack/ready.h"

#define DEFAULT_TIMEOUT_NS (10 * NS_PER_S)
#define START_CHECK_NS     (2 * NS_PER_S) /* the "already running?" probe before a start */
#define KEY_MAX            512

struct deps {
    char *file;
    deps_dep *v;
    int n;
};

/* ---- parsing -------------------------------------------------------------------------------- */

typedef yml_ctx pctx;

static const char *kind(const yaml_node_t *n) {
    if (yml_is_null(n)) return "nothing (null)";
    switch (n->type) {
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_SCALAR_NODE: return yml_str(n) ? "a string" : "a non-string scalar";
    default: return "nothing";
    }
}

/* The node to point at for a value: the value itself, or its key when the value is empty. */
static const yaml_node_t *where(const yaml_node_t *k, const yaml_node_t *v) {
    return yml_is_null(v) ? k : v;
}

/* out = a.b (or b alone when a is empty); a path too long ends in "..." */
static void join(char *out, const char *a, const char *b) {
    int n = a && *a ? snprintf(out, KEY_MAX, "%s.%s", a, b) : snprintf(out, KEY_MAX, "%s", b);
    if (n >= KEY_MAX) memcpy(out + KEY_MAX - 4, "...", 4);
}

/* Every key of map is a string and none appears twice. */
static int check_keys(const pctx *c, const yaml_node_t *map, const char *key) {
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = yml_node(c, p->key);
        const char *ks = yml_str(k);
        if (!ks)
            return yml_fail(c, k, key[0] ? key : "(top level)", "a key is %s, not a name", kind(k));
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            const yaml_node_t *qk = yml_node(c, q->key);
            const char *qs = yml_str(qk);
            if (qs && !strcmp(qs, ks)) {
                char path[KEY_MAX];
                join(path, key, ks);
                return yml_fail(c, k, path, "duplicate key (first at line %d)", yml_line(qk));
            }
        }
    }
    return 0;
}

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
        return yml_fail(c, where(k, v), key, "expected a string or a list of strings, found %s",
                        kind(v));
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n == 0) return yml_fail(c, v, key, "empty command (want at least the program)");
    char **argv = calloc(n + 1, sizeof *argv);
    if (!argv) return yml_fail(c, v, key, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *it = yml_node(c, v->data.sequence.items.start[i]);
        const char *w = yml_str(it);
        if (!w) {
            proc_argv_free(argv);
            return yml_fail(c, where(v, it), key,
                            "expected a string or a list of strings, found %s as item %zu",
                            kind(it), i + 1);
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
#define KNOWN_KEYS   "start_cmd, stop_cmd, kill_cmd, pause_cmd, resume_cmd, ready_check or timeout"
#define DEPS_MAPPING_MSG                                                                           \
    "expected a mapping with one entry per dependency (NAME: {start_cmd: ..., ready_check: "       \
    "...}), found %s"
#define URL_KINDS "tcp://, redis://, postgresql:// or http(s)://"

static int parse_field(const pctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                       const char *field, deps_dep *dep) {
    for (size_t i = 0; i < N_CMD_FIELDS; i++)
        if (!strcmp(field, cmd_fields[i].name))
            return parse_cmd(c, k, v, key, (char ***)((char *)dep + cmd_fields[i].off));
    if (!strcmp(field, "ready_check")) {
        const char *s = yml_str(v);
        if (!s)
            return yml_fail(c, where(k, v), key, "expected a URL (%s), found %s", URL_KINDS,
                            kind(v));
        char e[300];
        if (ready_check_url(s, e, sizeof e) < 0) return yml_fail(c, v, key, "%s", e);
        if (!(dep->ready_check = strdup(s))) return yml_fail(c, v, key, "out of memory");
        return 0;
    }
    if (!strcmp(field, "timeout")) {
        const char *s = yml_str(v);
        if (!s)
            return yml_fail(c, where(k, v), key, "expected a duration (e.g. 10s, 500ms), found %s",
                            kind(v));
        char e[300];
        int64_t ns;
        if (parse_duration_ns(s, &ns, e, sizeof e) < 0) return yml_fail(c, v, key, "%s", e);
        if (ns <= 0) return yml_fail(c, v, key, "must be more than 0");
        dep->timeout_ns = ns;
        return 0;
    }
    return yml_fail(c, k, key, "unknown key (want " KNOWN_KEYS ")");
}

static bool valid_name(const char *s) {
    if (!*s) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

static int parse_dep(const pctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                     deps_dep *dep) {
    if (v->type != YAML_MAPPING_NODE)
        return yml_fail(
            c, where(k, v), key,
            "expected a mapping with ready_check and the commands (start_cmd, stop_cmd, "
            "kill_cmd, ...), found %s",
            kind(v));
    if (check_keys(c, v, key) < 0) return -1;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const yaml_node_t *fk = yml_node(c, p->key), *fv = yml_node(c, p->value);
        const char *field = yml_str(fk);
        char path[KEY_MAX];
        join(path, key, field);
        if (parse_field(c, fk, fv, path, field, dep) < 0) return -1;
    }
    if (!dep->ready_check) {
        char path[KEY_MAX];
        join(path, key, "ready_check");
        return yml_fail(c, k, path, "missing: the URL that answers when %s is up (%s)", dep->name,
                        URL_KINDS);
    }
    if (!dep->timeout_ns) dep->timeout_ns = DEFAULT_TIMEOUT_NS;
    return 0;
}

int deps_parse(yaml_document_t *doc, yaml_node_t *node, const char *file, const char *key,
               deps **out, char *err, size_t errlen) {
    *out = NULL;
    pctx c = {.doc = doc, .file = file, .err = err, .errlen = errlen};
    if (!node || node->type != YAML_MAPPING_NODE)
        return yml_fail(&c, node, key, DEPS_MAPPING_MSG, kind(node));
    if (check_keys(&c, node, key) < 0) return -1;
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
        join(path, key, name);
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

/* The line of byte offset off in f (for errors of libyaml's reader, which give only an offset). */
static int line_at_offset(FILE *f, size_t off) {
    int line = 1;
    if (fseek(f, 0, SEEK_SET) != 0) return 1;
    for (size_t i = 0; i < off; i++) {
        int ch = fgetc(f);
        if (ch == EOF) break;
        if (ch == '\n') line++;
    }
    return line;
}

static void syntax_error(const char *file, FILE *f, const yaml_parser_t *p, char *err,
                         size_t errlen) {
    const char *problem = p->problem ? p->problem : "unknown error";
    if (p->error == YAML_MEMORY_ERROR) {
        err_set(err, errlen, "%s: out of memory while reading it", file);
    } else if (p->error == YAML_READER_ERROR) {
        err_set(err, errlen, "%s:%d: not valid YAML text: %s (byte %zu)", file,
                line_at_offset(f, p->problem_offset), problem, p->problem_offset);
    } else if (p->context) {
        err_set(err, errlen, "%s:%d: YAML syntax error: %s (%s at line %d)", file,
                (int)p->problem_mark.line + 1, problem, p->context, (int)p->context_mark.line + 1);
    } else {
        err_set(err, errlen, "%s:%d: YAML syntax error: %s", file, (int)p->problem_mark.line + 1,
                problem);
    }
    if (err && errlen) yml_one_line(err);
}

/* From the loaded document: the value of the top-level `dependencies:` key, parsed. */
static int load_root(yaml_document_t *doc, const char *path, deps **out, char *err, size_t errlen) {
    pctx c = {.doc = doc, .file = path, .err = err, .errlen = errlen};
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (!root) return yml_fail(&c, NULL, "dependencies", "missing (the file is empty)");
    if (root->type != YAML_MAPPING_NODE)
        return yml_fail(&c, root, "dependencies",
                        "missing: the top level is %s, not a mapping with a dependencies: key",
                        kind(root));
    if (check_keys(&c, root, "") < 0) return -1;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        if (strcmp(yml_str(yml_node(&c, p->key)), "dependencies")) continue;
        yaml_node_t *v = yml_node(&c, p->value);
        if (yml_is_null(v)) /* point at the key, not at the empty value's line */
            return yml_fail(&c, yml_node(&c, p->key), "dependencies", DEPS_MAPPING_MSG, kind(v));
        return deps_parse(doc, v, path, "dependencies", out, err, errlen);
    }
    return yml_fail(&c, root, "dependencies",
                    "missing (want a top-level dependencies: mapping, one entry per dependency)");
}

int deps_load(const char *path, deps **out, char *err, size_t errlen) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        fclose(f);
        err_set(err, errlen, "%s: out of memory while reading it", path);
        return -1;
    }
    yaml_parser_set_input_file(&p, f);
    yaml_document_t doc;
    int rc = -1;
    if (!yaml_parser_load(&p, &doc)) {
        syntax_error(path, f, &p, err, errlen);
    } else {
        rc = load_root(&doc, path, out, err, errlen);
        yaml_document_delete(&doc);
        if (rc == 0) { /* one document only: a second one would be silently ignored */
            yaml_document_t more;
            if (!yaml_parser_load(&p, &more)) {
                syntax_error(path, f, &p, err, errlen);
                rc = -1;
            } else {
                yaml_node_t *r = yaml_document_get_root_node(&more);
                if (r) {
                    err_set(err, errlen,
                            "%s:%d: a second YAML document (put everything in the first one)", path,
                            yml_line(r));
                    rc = -1;
                }
                yaml_document_delete(&more);
            }
            if (rc < 0) {
                deps_free(*out);
                *out = NULL;
            }
        }
    }
    yaml_parser_delete(&p);
    fclose(f);
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
    switch (op) {
    case STACK_FAULT_PAUSE:
        if (need(d, dep, dep->pause_cmd, "pause_cmd", opname, err, errlen) < 0) return -1;
        mark(&t->signal_ns, &t->signal_wall_ns);
        if (run(dep, dep->pause_cmd, "pause_cmd", err, errlen) < 0) return -1;
        mark(&t->down_ns, &t->down_wall_ns);
        return 0;
    case STACK_FAULT_RESUME:
        if (need(d, dep, dep->resume_cmd, "resume_cmd", opname, err, errlen) < 0) return -1;
        mark(&t->signal_ns, &t->signal_wall_ns);
        if (run(dep, dep->resume_cmd, "resume_cmd", err, errlen) < 0) return -1;
        return wait_ready(dep, "resume_cmd", t, err, errlen);
    case STACK_FAULT_STOP:
        if (need(d, dep, dep->stop_cmd, "stop_cmd", opname, err, errlen) < 0) return -1;
        return fault_stop(dep, dep->stop_cmd, "stop_cmd", t, err, errlen);
    case STACK_FAULT_KILL:
        if (need(d, dep, dep->kill_cmd, "kill_cmd", opname, err, errlen) < 0) return -1;
        return fault_stop(dep, dep->kill_cmd, "kill_cmd", t, err, errlen);
    case STACK_FAULT_START:
        if (need(d, dep, dep->start_cmd, "start_cmd", opname, err, errlen) < 0) return -1;
        return fault_start(dep, true, t, err, errlen);
    case STACK_FAULT_RESTART:
        if (need(d, dep, dep->stop_cmd, "stop_cmd", opname, err, errlen) < 0 ||
            need(d, dep, dep->start_cmd, "start_cmd", opname, err, errlen) < 0)
            return -1;
        if (fault_stop(dep, dep->stop_cmd, "stop_cmd", t, err, errlen) < 0) return -1;
        return fault_start(dep, false, t, err, errlen);
    }
    err_set(err, errlen, "unknown fault operation");
    return -1;
}
