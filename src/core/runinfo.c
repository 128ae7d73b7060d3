/* runinfo.c — the run's identity in every result document (runinfo.h). */
#include "core/runinfo.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/json.h"
#include "core/version.h"

static char command[4096];

/* A header value worth hiding: its name says it carries a credential. */
static bool secret_header(const char *h) {
    static const char *const words[] = {"auth", "token", "key", "secret", "cookie", "sig", "pass"};
    const char *colon = strchr(h, ':');
    if (!colon) return false;
    char name[128];
    size_t n = (size_t)(colon - h) < sizeof name - 1 ? (size_t)(colon - h) : sizeof name - 1;
    for (size_t i = 0; i < n; i++) name[i] = (char)tolower((unsigned char)h[i]);
    name[n] = '\0';
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(name, words[i])) return true;
    return false;
}

void runinfo_redact(const char *arg, const char *prev, char *out, size_t outlen) {
    const char *hv = NULL; /* a header's text: -H VALUE, --header VALUE, --header=VALUE */
    if (prev && (!strcmp(prev, "-H") || !strcmp(prev, "--header")))
        hv = arg;
    else if (!strncmp(arg, "--header=", 9))
        hv = arg + 9;
    if (hv && secret_header(hv)) {
        snprintf(out, outlen, "%.*s: ***", (int)(strchr(hv, ':') - arg), arg);
        return;
    }
    if (prev && strstr(prev, "password") && prev[0] == '-') {
        snprintf(out, outlen, "***");
        return;
    }
    /* scheme://user:password@host → scheme://user:***@host */
    const char *s = strstr(arg, "://");
    const char *at = s ? strchr(s + 3, '@') : NULL;
    const char *colon = s ? strchr(s + 3, ':') : NULL;
    if (at && colon && colon < at && !memchr(s + 3, '/', (size_t)(at - s - 3))) {
        snprintf(out, outlen, "%.*s***%s", (int)(colon + 1 - arg), arg, at);
        return;
    }
    snprintf(out, outlen, "%s", arg);
}

/* Appends one word, quoted as a shell would need it. */
static void append_word(char *buf, size_t len, const char *w) {
    size_t n = strlen(buf);
    bool plain = *w != '\0';
    for (const char *p = w; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("-_./:=@,+%{}", *p)) plain = false;
    if (n && n + 1 < len) buf[n++] = ' ';
    if (plain) {
        snprintf(buf + n, len - n, "%s", w);
        return;
    }
    if (n < len) buf[n++] = '\'';
    for (const char *p = w; *p && n + 5 < len; p++) {
        if (*p == '\'') {
            memcpy(buf + n, "'\\''", 4);
            n += 4;
        } else {
            buf[n++] = *p;
        }
    }
    if (n + 1 < len) buf[n++] = '\'';
    buf[n < len ? n : len - 1] = '\0';
}

void runinfo_set_argv(int argc, char **argv) {
    command[0] = '\0';
    append_word(command, sizeof command, "brink");
    for (int i = 1; i < argc; i++) {
        char w[1024];
        runinfo_redact(argv[i], i > 1 ? argv[i - 1] : NULL, w, sizeof w);
        append_word(command, sizeof command, w);
    }
}

const char *runinfo_command(void) {
    return command;
}

json_t *runinfo_stamped(const json_t *doc) {
    if (!json_is_object(doc) || strcmp(jx_str(doc, "schema"), JX_SCHEMA))
        return json_incref((json_t *)doc);
    json_t *c = json_copy((json_t *)doc);
    if (!c) return json_incref((json_t *)doc);
    if (!json_object_get(c, "brink_version"))
        json_object_set_new(c, "brink_version", json_string(BRINK_VERSION));
    if (!json_object_get(c, "command") && command[0])
        json_object_set_new(c, "command", json_string(command));
    if (!json_object_get(c, "host")) {
        char name[256] = "";
        struct utsname u;
        bool have_u = uname(&u) == 0;
        if (gethostname(name, sizeof name - 1) != 0) name[0] = '\0';
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        json_object_set_new(c, "host",
                            json_pack("{s:s, s:I, s:s, s:s}", "name", name, "cores",
                                      (json_int_t)(cores > 0 ? cores : 0), "kernel",
                                      have_u ? u.release : "", "machine", have_u ? u.machine : ""));
    }
    return c;
}
