/* test_yml.c — the table-driven walker of core/yml.c that every config loader stands on: each row
 * kind stored at its offset, unknown keys with the keys wanted and the closest one, wrong kinds,
 * bounds, required keys (pointing at the mapping's key, or at the mapping), nested mappings,
 * included tables, mappings of names and lists with their key paths, a section's prefix, and the
 * suggestion and path helpers. Every error is checked whole: "FILE:LINE: KEY: reason". */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "core/yml.h"
#include "unit.h"

typedef struct inner {
    char *host;
    int port;
} inner;

typedef struct thing {
    char *name;
    char *file;
    char label[8];
    int64_t timeout_ns;
    double ratio;
    int count;
    bool on;
    inner in;    /* a nested mapping (MAP, off 0 into inner) */
    inner extra; /* the same rows included at the top level (INCLUDE) */
    char *names[4];
    int nnames;   /* EACH: the entries' paths */
    int items;    /* LIST: items seen */
    int finished; /* the tables' finish ran */
} thing;

static int check_name(const yml_ctx *c, const yml_val *x, void *obj) {
    if (!strcmp(*(char **)x->dst, "bad")) return yml_fail(c, x->v, x->key, "a bad name");
    return 0;
}

static int finish_inner(const yml_ctx *c, const yml_val *x, void *obj) {
    if (((inner *)obj)->port == 1) return yml_fail(c, x->v, x->key, "port 1 is reserved");
    return 0;
}

static const yml_field inner_rows[] = {
    {"host", YML_STR, offsetof(inner, host), .what = "a host name", .missing = "the host"},
    {"port", YML_INT, offsetof(inner, port), .min = 1, .max = 65535},
    {0},
};
static const yml_table inner_table = {"(host, port)", inner_rows, finish_inner};

static int each_entry(const yml_ctx *c, const yml_val *x, void *obj) {
    thing *t = obj;
    if (t->nnames == 4) return yml_fail(c, x->k, x->key, "too many");
    t->names[t->nnames++] = strdup(x->key);
    return 0;
}

static int list_item(const yml_ctx *c, const yml_val *x, void *obj) {
    thing *t = obj;
    if (!yml_str(x->v)) return yml_fail(c, x->v, x->key, "expected a string");
    t->items++;
    return 0;
}

static int custom_on(const yml_ctx *c, const yml_val *x, void *obj) {
    const char *s = yml_str(x->v);
    if (!s || strcmp(s, "yes")) return yml_fail(c, yml_where(x->k, x->v), x->key, "say yes");
    ((thing *)obj)->on = true;
    return 0;
}

static int finish_thing(const yml_ctx *c, const yml_val *x, void *obj) {
    ((thing *)obj)->finished++;
    return 0;
}

static const yml_field rows[] = {
    {"name", YML_STR, offsetof(thing, name), .what = "a name", .fn = check_name,
     .missing = "a name for the thing"},
    {"file", YML_FILE, offsetof(thing, file), .what = "a file name"},
    {"label", YML_TEXT, offsetof(thing, label), .max = sizeof(((thing *)0)->label)},
    {"timeout", YML_DURATION, offsetof(thing, timeout_ns), .min = 1},
    {"ratio", YML_NUMBER, offsetof(thing, ratio), .min = 0, .max = 1},
    {"count", YML_INT, offsetof(thing, count), .min = 1, .max = 10},
    {"enabled", YML_BOOL, offsetof(thing, on), .what = "true or false"},
    {"yes", YML_CUSTOM, 0, .fn = custom_on},
    {"inner", YML_MAP, offsetof(thing, in), .sub = &inner_table},
    {.type = YML_INCLUDE, .off = offsetof(thing, extra), .sub = &inner_table},
    {"names", YML_EACH, 0, .what = "(NAME: anything)", .fn = each_entry},
    {"list", YML_LIST, 0, .what = "of strings", .fn = list_item},
    {"legacy", YML_CUSTOM, 0, .fn = custom_on, .hidden = true},
    {0},
};
static const yml_table table = {"(name, file, ...)", rows, finish_thing};

static void thing_free(thing *t) {
    free(t->name);
    free(t->file);
    free(t->in.host);
    free(t->extra.host);
    for (int i = 0; i < t->nnames; i++) free(t->names[i]);
}

/* Walks text (as dir/t.yaml, under prefix) into *t; returns yml_walk's result, err filled. */
static int walk(const char *text, const char *prefix, thing *t, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    yaml_parser_t p;
    yaml_document_t doc;
    assert_int_equal(yaml_parser_initialize(&p), 1);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    assert_int_equal(yaml_parser_load(&p, &doc), 1);
    yml_ctx c = {.doc = &doc, .file = "dir/t.yaml", .err = err, .errlen = errlen, .prefix = prefix};
    err[0] = '\0';
    int rc = yml_walk(&c, NULL, yaml_document_get_root_node(&doc), "", &table, t);
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    return rc;
}

/* text must fail with exactly want. */
static void expect_error(const char *text, const char *want) {
    thing t;
    char err[512];
    assert_int_equal(walk(text, NULL, &t, err, sizeof err), -1);
    if (strcmp(err, want)) fail_msg("got:  %s\nwant: %s", err, want);
    assert_int_equal(t.finished, 0);
    thing_free(&t);
}

static void test_every_kind(void **state) {
    thing t;
    char err[512];
    if (walk("name: n1\n"
             "file: keys/a.pem\n"
             "label: seven77\n"
             "timeout: 1.5s\n"
             "ratio: 0.25\n"
             "count: 10\n"
             "enabled: true\n"
             "yes: yes\n"
             "inner: {host: a, port: 80}\n"
             "host: b\n"
             "port: 8080\n"
             "names: {x: 1, y: [2]}\n"
             "list: [a, b, c]\n",
             NULL, &t, err, sizeof err) < 0)
        fail_msg("%s", err);
    assert_string_equal(t.name, "n1");
    assert_string_equal(t.file, "dir/keys/a.pem"); /* relative to the YAML file */
    assert_string_equal(t.label, "seven77");
    assert_true(t.timeout_ns == 1500000000LL);
    assert_true(t.ratio == 0.25);
    assert_int_equal(t.count, 10);
    assert_true(t.on);
    assert_string_equal(t.in.host, "a");
    assert_int_equal(t.in.port, 80);
    assert_string_equal(t.extra.host, "b"); /* included rows land at their own offset */
    assert_int_equal(t.extra.port, 8080);
    assert_int_equal(t.nnames, 2);
    assert_string_equal(t.names[0], "names.x");
    assert_string_equal(t.names[1], "names.y");
    assert_int_equal(t.items, 3);
    assert_int_equal(t.finished, 1);
    thing_free(&t);
    /* an absolute file stays as it is */
    if (walk("name: n\nhost: h\nfile: /etc/k\n", NULL, &t, err, sizeof err) < 0)
        fail_msg("%s", err);
    assert_string_equal(t.file, "/etc/k");
    thing_free(&t);
}

static void test_unknown_key(void **state) {
    expect_error(
        "name: n\nhost: h\ntimout: 1s\n",
        "dir/t.yaml:3: timout: unknown key (want name, file, label, timeout, ratio, count, "
        "enabled, yes, inner, host, port, names or list); did you mean 'timeout'?");
    /* nothing close: no suggestion; a hidden key is neither wanted nor suggested */
    expect_error("name: n\nhost: h\nzzzzzz: 1\n",
                 "dir/t.yaml:3: zzzzzz: unknown key (want name, file, label, timeout, ratio, "
                 "count, enabled, yes, inner, host, port, names or list)");
    expect_error("name: n\nhost: h\nlegacyy: 1\n",
                 "dir/t.yaml:3: legacyy: unknown key (want name, file, label, timeout, ratio, "
                 "count, enabled, yes, inner, host, port, names or list)");
    /* in a nested mapping: its path, its own keys */
    expect_error("name: n\nhost: h\ninner:\n  host: a\n  prot: 1\n",
                 "dir/t.yaml:5: inner.prot: unknown key (want host or port); did you mean 'port'?");
    /* a hidden row is still handled */
    thing t;
    char err[512];
    assert_int_equal(walk("name: n\nhost: h\nlegacy: yes\n", NULL, &t, err, sizeof err), 0);
    assert_true(t.on);
    thing_free(&t);
}

static void test_wrong_kind(void **state) {
    expect_error("name: [a]\nhost: h\n", "dir/t.yaml:1: name: expected a name, found a list");
    expect_error("name:\nhost: h\n", "dir/t.yaml:1: name: expected a name, found nothing (null)");
    expect_error("name: n\nhost: h\ntimeout: {a: 1}\n",
                 "dir/t.yaml:3: timeout: expected a duration (e.g. 10s, 500ms), found a mapping");
    expect_error("name: n\nhost: h\nratio: lots\n",
                 "dir/t.yaml:3: ratio: expected a number, found a string 'lots'");
    expect_error("name: n\nhost: h\ncount: 2.5\n",
                 "dir/t.yaml:3: count: invalid number '2.5' (want an integer from 1 to 10)");
    expect_error("name: n\nhost: h\nenabled: yes\n",
                 "dir/t.yaml:3: enabled: expected true or false, found a string 'yes'");
    expect_error("name: n\nhost: h\ninner: [1]\n",
                 "dir/t.yaml:3: inner: expected a mapping (host, port), found a list");
    expect_error("name: n\nhost: h\nnames: x\n",
                 "dir/t.yaml:3: names: expected a mapping (NAME: anything), found a string");
    expect_error("name: n\nhost: h\nlist: {a: 1}\n",
                 "dir/t.yaml:3: list: expected a list of strings, found a mapping");
    expect_error("name: n\nhost: h\nlist: [a, [b]]\n", "dir/t.yaml:3: list[1]: expected a string");
    expect_error("- a\n", "dir/t.yaml:1: (top level): expected a mapping (name, file, ...), found "
                          "a list");
    expect_error("name: n\nhost: h\n[a]: 1\n", "dir/t.yaml:3: (top level): a key is a list, not a "
                                               "name");
    expect_error("name: n\nhost: h\nname: m\n",
                 "dir/t.yaml:3: name: duplicate key (first at line 1)");
    /* a row's check runs on the stored value */
    expect_error("name: bad\nhost: h\n", "dir/t.yaml:1: name: a bad name");
    expect_error("name: n\nhost: h\nyes: no\n", "dir/t.yaml:3: yes: say yes");
}

static void test_bounds(void **state) {
    expect_error("name: n\nhost: h\ncount: 11\n",
                 "dir/t.yaml:3: count: invalid number '11' (want an integer from 1 to 10)");
    expect_error("name: n\nhost: h\ncount: 0\n",
                 "dir/t.yaml:3: count: invalid number '0' (want an integer from 1 to 10)");
    expect_error("name: n\nhost: h\nratio: 1.5\n",
                 "dir/t.yaml:3: ratio: 1.5 is out of range (0 to 1)");
    expect_error("name: n\nhost: h\ntimeout: 0s\n", "dir/t.yaml:3: timeout: must be more than 0");
    expect_error("name: n\nhost: h\nlabel: eight888\n", "dir/t.yaml:3: label: longer than 7 bytes");
    expect_error("name: n\nhost: h\nlabel: ''\n", "dir/t.yaml:3: label: empty");
    expect_error("name: n\nhost: h\ninner: {host: a, port: 70000}\n",
                 "dir/t.yaml:3: inner.port: invalid number '70000' (want an integer from 1 to "
                 "65535)");
}

static void test_required(void **state) {
    /* at the top level: the mapping's line, the key's path */
    expect_error("\nfile: f\nhost: h\n", "dir/t.yaml:2: name: missing: a name for the thing");
    /* an included table's required key */
    expect_error("name: n\n", "dir/t.yaml:1: host: missing: the host");
    /* in a nested mapping: the line of its key */
    expect_error("name: n\nhost: h\n\ninner:\n  port: 2\n",
                 "dir/t.yaml:4: inner.host: missing: the host");
    /* the nested table's finish, after its keys */
    expect_error("name: n\nhost: h\ninner: {host: a, port: 1}\n",
                 "dir/t.yaml:3: inner: port 1 is reserved");
}

static void test_prefix(void **state) {
    thing t;
    char err[512];
    assert_int_equal(
        walk("name: n\nhost: h\ninner: {host: a, porrt: 1}\n", "sect", &t, err, sizeof err), -1);
    assert_string_equal(err, "dir/t.yaml:3: sect.inner.porrt: unknown key (want host or port); "
                             "did you mean 'port'?");
    thing_free(&t);
    assert_int_equal(walk("- 1\n", "sect", &t, err, sizeof err), -1);
    assert_string_equal(err, "dir/t.yaml:1: sect: expected a mapping (name, file, ...), found a "
                             "list");
    thing_free(&t);
}

static void test_helpers(void **state) {
    const char *const keys[] = {"timeout", "stop_cmd", "stop_signal", "url", "url_env"};
    assert_string_equal(cli_suggest("timout", keys, 5), "timeout");
    assert_string_equal(cli_suggest("stopcmd", keys, 5), "stop_cmd");
    assert_string_equal(cli_suggest("URL", keys, 5), "url");
    assert_string_equal(cli_suggest("url_e", keys, 5), "url_env"); /* a prefix of one key */
    assert_null(cli_suggest("stop", keys, 5));                     /* a prefix of two */
    assert_null(cli_suggest("x", keys, 5));
    assert_null(cli_suggest("completely_else", keys, 5));
    char *p = yml_relative_to("a/b/c.yaml", "d.txt");
    assert_string_equal(p, "a/b/d.txt");
    free(p);
    p = yml_relative_to("c.yaml", "d.txt");
    assert_string_equal(p, "d.txt");
    free(p);
}

/* Writes head, rep n times, then tail into path. */
static void write_repeat(const char *path, const char *head, const char *rep, int n,
                         const char *tail) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(head, f);
    for (int i = 0; i < n; i++) fputs(rep, f);
    fputs(tail, f);
    assert_int_equal(fclose(f), 0);
}

/* yml_load_file on path: 0, or -1 with err. */
static int load_path(const char *path, char *err, size_t errlen) {
    yaml_document_t doc;
    if (yml_load_file(path, &doc, err, errlen) < 0) return -1;
    yaml_document_delete(&doc);
    return 0;
}

/* The limits (docs/config.md; security review, issue 15): a file of at most 1 MiB, nested at most
 * 64 levels deep with at most 100 anchors, a mapping of at most 1000 keys, each checked before
 * libyaml or the duplicate-key scan could spend quadratic time on it, and each one line naming the
 * file. */
static void test_limits(void **state) {
    unit_tmp t;
    assert_int_equal(unit_tmp_make(&t, "yml", "big.yaml"), 0);
    char err[512] = "", want[600];
    /* 1 MiB exactly is read; a byte more is refused before parsing */
    write_repeat(t.file, "a: ", "x", (1 << 20) - 4, "\n");
    if (load_path(t.file, err, sizeof err) < 0) fail_msg("%s", err);
    write_repeat(t.file, "a: ", "x", (1 << 20) - 3, "\n");
    assert_int_equal(load_path(t.file, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: too big (1048577 bytes; a config file holds at most 1 MiB)",
             t.file);
    assert_string_equal(err, want);
    /* 64 levels (the top mapping is the first) are read; 65 are refused, in flow or block style */
    char text[4096];
    for (int levels = 63; levels <= 64; levels++) {
        size_t o = (size_t)snprintf(text, sizeof text, "a: ");
        for (int i = 0; i < levels; i++) text[o++] = '[';
        for (int i = 0; i < levels; i++) text[o++] = ']';
        memcpy(text + o, "\n", 2);
        unit_write_file(t.file, text);
        assert_int_equal(load_path(t.file, err, sizeof err), levels == 63 ? 0 : -1);
    }
    snprintf(want, sizeof want, "%s:1: nested more than 64 levels deep", t.file);
    assert_string_equal(err, want);
    size_t o = 0;
    for (int i = 0; i < 65; i++) o += (size_t)snprintf(text + o, sizeof text - o, "%*sa:\n", i, "");
    unit_write_file(t.file, text);
    assert_int_equal(load_path(t.file, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:65: nested more than 64 levels deep", t.file);
    assert_string_equal(err, want);
    /* 100 anchors are read (and their aliases resolved); 101 are refused */
    for (int n = 100; n <= 101; n++) {
        FILE *f = fopen(t.file, "w");
        assert_non_null(f);
        fputs("a: [", f);
        for (int i = 0; i < n; i++) fprintf(f, "&a%d v, ", i);
        fputs("*a0, *a99]\n", f);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(load_path(t.file, err, sizeof err), n == 100 ? 0 : -1);
    }
    snprintf(want, sizeof want, "%s:1: more than 100 anchors (&a100)", t.file);
    assert_string_equal(err, want);
    /* a mapping of 1000 keys is checked; of 1001, refused before the duplicate-key scan */
    for (int n = 1000; n <= 1001; n++) {
        FILE *f = fopen(t.file, "w");
        assert_non_null(f);
        for (int i = 0; i < n; i++) fprintf(f, "k%d: v\n", i);
        assert_int_equal(fclose(f), 0);
        yaml_document_t doc;
        if (yml_load_file(t.file, &doc, err, sizeof err) < 0) fail_msg("%s", err);
        yml_ctx c = {.doc = &doc, .file = "dir/t.yaml", .err = err, .errlen = sizeof err};
        int rc = yml_check_keys(&c, yaml_document_get_root_node(&doc), "");
        yaml_document_delete(&doc);
        assert_int_equal(rc, n == 1000 ? 0 : -1);
    }
    assert_string_equal(err, "dir/t.yaml:1: (top level): 1001 keys (a mapping holds at most 1000)");
    unit_tmp_remove(&t);
}

UNIT_MAIN(test_every_kind, test_unknown_key, test_wrong_kind, test_bounds, test_required,
          test_prefix, test_helpers, test_limits)
