/* test_segment_k8s.c — the Kubernetes manifests of deploy/kubernetes (docs/distributed.md),
 * checked for what brink relies on, since no cluster runs in the tests: every file parses as
 * YAML (libyaml, every document), and
 *   - the load is an Indexed Job (completionMode Indexed) with completions == parallelism ==
 *     SEGMENTS, whose pods map their completion index (JOB_COMPLETION_INDEX, from the pod's
 *     annotation) to --segment "$((index + 1))/$SEGMENTS", with --start-at and no retries;
 *   - --json writes under the mount of a PersistentVolumeClaim that is ReadWriteMany and that
 *     the merge Job mounts too, where it waits for SEGMENTS documents and runs brink merge on
 *     that very directory;
 *   - the signing secret comes from a Kubernetes Secret mounted as a file and passed with
 *     --secret-file (never --secret-env, never an env var from the Secret, never a value);
 *   - the ConfigMap's brink.yaml loads with brink's own loader and is the -f given to brink.
 * The same checks run on deliberately broken copies of the manifests and must fail. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "config/config.h"
#include "unit.h"

#define DIR_K8S  "deploy/kubernetes"
#define MAX_DOCS 32

typedef struct mset {
    yaml_document_t d[MAX_DOCS];
    int n;
} mset;

static yaml_node_t *node(yaml_document_t *d, int id) {
    return id ? yaml_document_get_node(d, id) : NULL;
}

static const char *str(const yaml_node_t *n) {
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Value of key k in mapping m (NULL when absent or m is not a mapping). */
static yaml_node_t *get(yaml_document_t *d, yaml_node_t *m, const char *k) {
    if (!m || m->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const char *key = str(node(d, p->key));
        if (key && !strcmp(key, k)) return node(d, p->value);
    }
    return NULL;
}

/* A dotted path of keys ("spec.template.spec"). */
static yaml_node_t *path(yaml_document_t *d, yaml_node_t *m, const char *p) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", p);
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && m; k = strtok_r(NULL, ".", &save))
        m = get(d, m, k);
    return m;
}

static int seq_len(const yaml_node_t *s) {
    return s && s->type == YAML_SEQUENCE_NODE
               ? (int)(s->data.sequence.items.top - s->data.sequence.items.start)
               : 0;
}

static yaml_node_t *seq_at(yaml_document_t *d, yaml_node_t *s, int i) {
    return i < seq_len(s) ? node(d, s->data.sequence.items.start[i]) : NULL;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads every document of every *.yaml in dir. 0, or -1 with a reason. */
static int load_dir(const char *dir, mset *m, char *err, size_t errlen) {
    m->n = 0;
    DIR *dp = opendir(dir);
    if (!dp) {
        snprintf(err, errlen, "%s: cannot open", dir);
        return -1;
    }
    char *names[64];
    int nn = 0;
    struct dirent *e;
    while ((e = readdir(dp)) && nn < 64) {
        size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".yaml")) names[nn++] = strdup(e->d_name);
    }
    closedir(dp);
    qsort(names, (size_t)nn, sizeof *names, cmp_str);
    int rc = 0;
    for (int i = 0; i < nn; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        FILE *f = rc ? NULL : fopen(p, "rb");
        if (!rc && !f) {
            snprintf(err, errlen, "%.200s: cannot read", p);
            rc = -1;
        }
        if (f) {
            yaml_parser_t ps;
            yaml_parser_initialize(&ps);
            yaml_parser_set_input_file(&ps, f);
            for (;;) {
                if (m->n == MAX_DOCS) {
                    snprintf(err, errlen, "too many documents");
                    rc = -1;
                    break;
                }
                if (!yaml_parser_load(&ps, &m->d[m->n])) {
                    snprintf(err, errlen, "%.200s:%zu: YAML syntax error: %.200s", p,
                             ps.problem_mark.line + 1, ps.problem ? ps.problem : "?");
                    rc = -1;
                    break;
                }
                if (!yaml_document_get_root_node(&m->d[m->n])) {
                    yaml_document_delete(&m->d[m->n]);
                    break;
                }
                m->n++;
            }
            yaml_parser_delete(&ps);
            fclose(f);
        }
        free(names[i]);
    }
    return rc;
}

static void free_set(mset *m) {
    for (int i = 0; i < m->n; i++) yaml_document_delete(&m->d[i]);
    m->n = 0;
}

/* The first document of kind (and, when indexed is not -1, with or without completionMode
 * Indexed); *di receives its index. */
static yaml_node_t *find(mset *m, const char *kind, int indexed, int *di) {
    for (int i = 0; i < m->n; i++) {
        yaml_document_t *d = &m->d[i];
        yaml_node_t *r = yaml_document_get_root_node(d);
        const char *k = str(get(d, r, "kind"));
        if (!k || strcmp(k, kind)) continue;
        const char *cm = str(path(d, r, "spec.completionMode"));
        if (indexed == 1 && !(cm && !strcmp(cm, "Indexed"))) continue;
        if (indexed == 0 && cm && !strcmp(cm, "Indexed")) continue;
        *di = i;
        return r;
    }
    return NULL;
}

/* The item of the sequence seq whose "name" is name; NULL when none is. */
static yaml_node_t *named(yaml_document_t *d, yaml_node_t *seq, const char *name) {
    for (int i = 0; i < seq_len(seq); i++) {
        yaml_node_t *v = seq_at(d, seq, i);
        const char *n = str(get(d, v, "name"));
        if (n && !strcmp(n, name)) return v;
    }
    return NULL;
}

/* The value of env var name in container c ("" when it comes from valueFrom). */
static yaml_node_t *env(yaml_document_t *d, yaml_node_t *c, const char *name) {
    return named(d, get(d, c, "env"), name);
}

/* The container's shell script: command ["/bin/sh", "-c"], args [script]. */
static const char *script(yaml_document_t *d, yaml_node_t *c) {
    yaml_node_t *cmd = get(d, c, "command");
    const char *c0 = str(seq_at(d, cmd, 0)), *c1 = str(seq_at(d, cmd, 1));
    if (!c0 || !c1 || strcmp(c0, "/bin/sh") || strcmp(c1, "-c")) return NULL;
    return str(seq_at(d, get(d, c, "args"), 0));
}

/* The word after opt in s (quotes removed) into out; false when absent. */
static bool arg_of(const char *s, const char *opt, char *out, size_t len) {
    const char *p = s ? strstr(s, opt) : NULL;
    if (!p) return false;
    p += strlen(opt);
    while (*p == ' ') p++;
    size_t n = 0;
    bool q = *p == '"';
    if (q) p++;
    while (*p && n + 1 < len && (q ? *p != '"' : (*p != ' ' && *p != '\n'))) out[n++] = *p++;
    out[n] = '\0';
    return n > 0;
}

/* The volume behind the mount of container c that holds file path p; *mount receives the mount
 * path. */
static yaml_node_t *volume_for(yaml_document_t *d, yaml_node_t *podspec, yaml_node_t *c,
                               const char *p, const char **mount) {
    yaml_node_t *vm = get(d, c, "volumeMounts");
    for (int i = 0; i < seq_len(vm); i++) {
        yaml_node_t *x = seq_at(d, vm, i);
        const char *mp = str(get(d, x, "mountPath")), *name = str(get(d, x, "name"));
        size_t l = mp ? strlen(mp) : 0;
        if (!mp || !name || strncmp(p, mp, l) || p[l] != '/') continue;
        *mount = mp;
        yaml_node_t *v = named(d, get(d, podspec, "volumes"), name);
        if (v) return v;
    }
    return NULL;
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        goto out;                                                                                  \
    } while (0)

/* Every check of the header comment, on the manifests in dir. 0, or -1 with what is wrong. */
static int check(const char *dir, char *err, size_t errlen) {
    mset *m = calloc(1, sizeof *m);
    int rc = -1, di = 0, mi = 0, ci = 0, pi = 0;
    if (!m) FAIL("out of memory");
    if (load_dir(dir, m, err, errlen) < 0) goto out;
    for (int i = 0; i < m->n; i++) {
        yaml_node_t *r = yaml_document_get_root_node(&m->d[i]);
        if (!str(get(&m->d[i], r, "apiVersion")) || !str(get(&m->d[i], r, "kind")))
            FAIL("document %d has no apiVersion or kind", i);
    }
    /* the load: an Indexed Job */
    yaml_node_t *job = find(m, "Job", 1, &di);
    if (!job) FAIL("no Job with completionMode Indexed");
    yaml_document_t *d = &m->d[di];
    const char *completions = str(path(d, job, "spec.completions"));
    const char *parallelism = str(path(d, job, "spec.parallelism"));
    if (!completions || !parallelism || strcmp(completions, parallelism) || atoi(completions) < 1)
        FAIL("load Job: completions (%s) must equal parallelism (%s)", completions, parallelism);
    const char *backoff = str(path(d, job, "spec.backoffLimit"));
    if (!backoff || strcmp(backoff, "0"))
        FAIL("load Job: backoffLimit must be 0 (a retried segment would start late)");
    yaml_node_t *pod = path(d, job, "spec.template.spec");
    const char *restart = str(get(d, pod, "restartPolicy"));
    if (!restart || strcmp(restart, "Never")) FAIL("load Job: restartPolicy must be Never");
    yaml_node_t *c = seq_at(d, get(d, pod, "containers"), 0);
    const char *sh = script(d, c);
    if (!sh) FAIL("load Job: the container must run a /bin/sh -c script");
    const char *segs = str(get(d, env(d, c, "SEGMENTS"), "value"));
    if (!segs || strcmp(segs, completions))
        FAIL("load Job: SEGMENTS (%s) must equal completions (%s)", segs, completions);
    const char *fp =
        str(path(d, env(d, c, "JOB_COMPLETION_INDEX"), "valueFrom.fieldRef.fieldPath"));
    if (!fp || !strstr(fp, "batch.kubernetes.io/job-completion-index"))
        FAIL("load Job: JOB_COMPLETION_INDEX must come from the completion-index annotation");
    if (!strstr(sh, "i=$((JOB_COMPLETION_INDEX + 1))") || !strstr(sh, "--segment \"$i/$SEGMENTS\""))
        FAIL("load Job: the completion index must become --segment \"$i/$SEGMENTS\"");
    if (!strstr(sh, "--start-at \"$START_AT\""))
        FAIL("load Job: the segments must start together (--start-at \"$START_AT\")");

    /* --json on a ReadWriteMany claim */
    char json[256], mdir[256];
    const char *mount = NULL;
    if (!arg_of(sh, "--json", json, sizeof json)) FAIL("load Job: no --json");
    yaml_node_t *vol = volume_for(d, pod, c, json, &mount);
    const char *claim = str(path(d, vol, "persistentVolumeClaim.claimName"));
    if (!claim) FAIL("load Job: --json %s is not on a persistentVolumeClaim mount", json);
    yaml_node_t *pvc = find(m, "PersistentVolumeClaim", -1, &pi);
    const char *pvc_name = pvc ? str(path(&m->d[pi], pvc, "metadata.name")) : NULL;
    if (!pvc_name || strcmp(pvc_name, claim)) FAIL("no PersistentVolumeClaim named %s", claim);
    yaml_node_t *modes = path(&m->d[pi], pvc, "spec.accessModes");
    bool rwx = false;
    for (int i = 0; i < seq_len(modes); i++)
        if (str(seq_at(&m->d[pi], modes, i)) &&
            !strcmp(str(seq_at(&m->d[pi], modes, i)), "ReadWriteMany"))
            rwx = true;
    if (!rwx) FAIL("PersistentVolumeClaim %s must be ReadWriteMany (pods on many nodes)", claim);

    /* the merge Job: the same claim, the same directory, the same count */
    yaml_node_t *mj = find(m, "Job", 0, &mi);
    if (!mj) FAIL("no merge Job (a Job without completionMode Indexed)");
    yaml_document_t *md = &m->d[mi];
    yaml_node_t *mpod = path(md, mj, "spec.template.spec");
    yaml_node_t *mc = seq_at(md, get(md, mpod, "containers"), 0);
    yaml_node_t *wait = seq_at(md, get(md, mpod, "initContainers"), 0);
    const char *msh = script(md, mc), *wsh = script(md, wait);
    if (!msh || !arg_of(msh, "brink merge", mdir, sizeof mdir))
        FAIL("merge Job: its container must run brink merge DIR");
    char *slash = strrchr(json, '/');
    if (!slash || strncmp(json, mdir, (size_t)(slash - json)) ||
        strlen(mdir) != (size_t)(slash - json))
        FAIL("merge Job: brink merge %s is not the directory of --json %s", mdir, json);
    const char *mmount = NULL;
    char mpath[300];
    snprintf(mpath, sizeof mpath, "%s/x.json", mdir);
    const char *mclaim =
        str(path(md, volume_for(md, mpod, mc, mpath, &mmount), "persistentVolumeClaim.claimName"));
    if (!mclaim || strcmp(mclaim, claim)) FAIL("merge Job: %s is not on claim %s", mdir, claim);
    const char *wsegs = str(get(md, env(md, wait, "SEGMENTS"), "value"));
    if (!wsh || !wsegs || strcmp(wsegs, completions) || !strstr(wsh, "$SEGMENTS"))
        FAIL("merge Job: its init container must wait for SEGMENTS = %s documents", completions);

    /* the secret: a Secret volume, passed as a file */
    char sfile[256];
    if (!arg_of(sh, "--secret-file", sfile, sizeof sfile)) FAIL("load Job: no --secret-file");
    if (strstr(sh, "--secret-env")) FAIL("load Job: the secret must be a file, not --secret-env");
    const char *smount = NULL;
    yaml_node_t *svol = volume_for(d, pod, c, sfile, &smount);
    if (!str(path(d, svol, "secret.secretName")))
        FAIL("load Job: --secret-file %s is not on a Secret volume", sfile);
    yaml_node_t *envs = get(d, c, "env");
    for (int i = 0; i < seq_len(envs); i++)
        if (path(d, seq_at(d, envs, i), "valueFrom.secretKeyRef"))
            FAIL("load Job: the secret must not be an environment variable");

    /* the ConfigMap's brink.yaml: valid for brink, and the -f given */
    yaml_node_t *cm = find(m, "ConfigMap", -1, &ci);
    const char *yml = cm ? str(path(&m->d[ci], cm, "data.brink.yaml")) : NULL;
    if (!yml) {
        yaml_node_t *data = cm ? get(&m->d[ci], cm, "data") : NULL;
        yml = str(get(&m->d[ci], data, "brink.yaml"));
    }
    if (!yml) FAIL("no ConfigMap with data brink.yaml");
    char cfile[256];
    const char *cmount = NULL;
    if (!arg_of(sh, "-f", cfile, sizeof cfile)) FAIL("load Job: no -f brink.yaml");
    if (!str(path(d, volume_for(d, pod, c, cfile, &cmount), "configMap.name")))
        FAIL("load Job: -f %s is not on a ConfigMap volume", cfile);
    char tmp[] = "/tmp/brink-k8s-XXXXXX";
    int fd = mkstemp(tmp);
    if (fd < 0) FAIL("mkstemp");
    FILE *f = fdopen(fd, "w");
    fputs(yml, f);
    fclose(f);
    config *cfg = NULL;
    char sub[512];
    int lrc = config_load(tmp, &cfg, sub, sizeof sub);
    unlink(tmp);
    if (lrc < 0) FAIL("the ConfigMap's brink.yaml does not load: %.300s", sub);
    bool same_secret = cfg->secret_file && !strcmp(cfg->secret_file, sfile);
    config_free(cfg);
    if (!same_secret) FAIL("brink.yaml's secret file is not --secret-file %s", sfile);
    rc = 0;
out:
    if (m) free_set(m);
    free(m);
    return rc;
}

static void test_manifests(void **state) {
    char err[512] = "";
    if (check(DIR_K8S, err, sizeof err) < 0) fail_msg("%s", err);
}

/* Copies deploy/kubernetes to a temporary directory with one text replaced in one file. */
static void broken_copy(char *dir, const char *file, const char *from, const char *to) {
    strcpy(dir, "/tmp/brink-k8s-XXXXXX");
    assert_non_null(mkdtemp(dir));
    DIR *dp = opendir(DIR_K8S);
    assert_non_null(dp);
    struct dirent *e;
    bool replaced = false;
    while ((e = readdir(dp))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".yaml")) continue;
        char src[512], dst[512];
        snprintf(src, sizeof src, "%s/%s", DIR_K8S, e->d_name);
        snprintf(dst, sizeof dst, "%s/%s", dir, e->d_name);
        FILE *f = fopen(src, "rb");
        assert_non_null(f);
        static char buf[1 << 16];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        FILE *o = fopen(dst, "wb");
        assert_non_null(o);
        char *at = !strcmp(e->d_name, file) ? strstr(buf, from) : NULL;
        if (at) {
            fwrite(buf, 1, (size_t)(at - buf), o);
            fputs(to, o);
            fputs(at + strlen(from), o);
            replaced = true;
        } else {
            fputs(buf, o);
        }
        fclose(o);
    }
    closedir(dp);
    if (!replaced) fail_msg("'%s' not found in %s", from, file);
}

static void remove_dir(const char *dir) {
    DIR *dp = opendir(dir);
    struct dirent *e;
    while (dp && (e = readdir(dp))) {
        if (e->d_name[0] == '.') continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (dp) closedir(dp);
    rmdir(dir);
}

/* Each broken copy must be refused, for the right reason. */
static void test_broken_manifests(void **state) {
    static const struct {
        const char *file, *from, *to, *want;
    } cases[] = {
        {"job-load.yaml", "parallelism: 4", "parallelism: 3", "must equal parallelism"},
        {"job-load.yaml", "completionMode: Indexed", "completionMode: NonIndexed",
         "no Job with completionMode Indexed"},
        {"job-load.yaml", "spec.parallelism\n              value: \"4\"",
         "spec.parallelism\n              value: \"5\"", "SEGMENTS (5) must equal completions"},
        {"job-load.yaml", "--segment \"$i/$SEGMENTS\"", "--segment \"1/$SEGMENTS\"",
         "must become --segment"},
        {"job-load.yaml", "--start-at \"$START_AT\"", "", "start together"},
        {"job-load.yaml", "--json \"/results/", "--json \"/tmp/", "not on a persistentVolumeClaim"},
        {"job-load.yaml", "--secret-file /etc/brink/secret/webhook-secret",
         "--secret-file /tmp/webhook-secret", "not on a Secret volume"},
        {"job-load.yaml", "backoffLimit: 0", "backoffLimit: 3", "backoffLimit must be 0"},
        {"pvc.yaml", "- ReadWriteMany", "- ReadWriteOnce", "must be ReadWriteMany"},
        {"job-merge.yaml", "brink merge \"/results/$RUN_ID\"", "brink merge \"/results\"",
         "is not the directory of --json"},
        {"job-merge.yaml", "value: \"4\"", "value: \"2\"", "wait for SEGMENTS = 4"},
        {"configmap.yaml", "sign: standard-webhooks", "sign: standard-webhook", "does not load"},
        {"configmap.yaml", "{file: /etc/brink/secret/webhook-secret}", "{file: /etc/brink/other}",
         "is not --secret-file"},
        {"job-load.yaml", "  - name: RATE ",
         "  - name: LEAK\n              valueFrom:\n"
         "                secretKeyRef: {name: s, key: k}\n"
         "            - name: RATE ",
         "must not be an environment variable"},
        {"pvc.yaml", "kind: PersistentVolumeClaim", "kind: PersistentVolumeClaim\n  bad: [",
         "YAML syntax error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[64], err[512] = "";
        broken_copy(dir, cases[i].file, cases[i].from, cases[i].to);
        int rc = check(dir, err, sizeof err);
        remove_dir(dir);
        if (rc == 0) fail_msg("case %zu (%s): the broken manifests passed", i, cases[i].want);
        if (!strstr(err, cases[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
    }
}

UNIT_MAIN(test_manifests, test_broken_manifests)
