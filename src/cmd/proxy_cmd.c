/* proxy_cmd.c — `brink proxy`: the fault proxy (proxy.h) and its Toxiproxy-compatible control API
 * (api.h) as a standalone server, a drop-in for toxiproxy-server in front of a user's Redis or
 * PostgreSQL. Proxies come from --listen/--upstream, from a Toxiproxy config file (--config, the
 * JSON array POST /populate takes) and later from any Toxiproxy client through the API. Every
 * option is checked before anything listens; then one line per proxy and the API address are
 * printed (and flushed, for scripts that wait for them), and the server runs until SIGINT or
 * SIGTERM, when it closes every listener and connection and exits 0. */
#include "cmd/proxy_cmd.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "core/err.h"
#include "fault/api.h"
#include "fault/proxy.h"
#include "core/exitcode.h"

#define MAX_CONFIG (16 * 1024 * 1024)

static const cli_cmd proxy_cli = {
    .name = "proxy",
    .args = "[--listen ADDR] --upstream ADDR [--name NAME] [options]\n--config FILE [options]",
    .summary = "A TCP proxy that injects faults (latency, bandwidth, slow_close, timeout, "
               "reset_peer, slicer, limit_data), driven by an HTTP API compatible with Toxiproxy "
               "2.x: existing Toxiproxy clients and toxiproxy-cli work unchanged against --api.",
    .epilog = "Prints \"proxy NAME LISTEN -> UPSTREAM\" for each proxy and \"api http://ADDR\", "
              "then serves until SIGINT or SIGTERM.\n"
              "\n"
              "Exit status: 0 stopped by a signal; 1 an address could not be listened on; 2 bad "
              "usage or config file (an address that is none, a name outside A-Z a-z 0-9 _ . -).",
    .min_args = 0,
    .max_args = 0,
};

/* HOST:PORT or [V6]:PORT with a numeric port: the shape every address option takes. */
static bool valid_addr(const char *s) {
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s) return false;
    if (s[0] == '[' ? colon[-1] != ']' : memchr(s, ':', (size_t)(colon - s)) != NULL)
        return false; /* an IPv6 address needs its brackets */
    const char *p = colon + 1;
    size_t n = strlen(p);
    return n >= 1 && n <= 5 && strspn(p, "0123456789") == n && atoi(p) <= 65535;
}

/* The host of a HOST:PORT that valid_addr accepted names an address: NULL, or getaddrinfo's
 * reason when it does not ("999.999.999.999", a name that does not resolve) — the user's mistake,
 * exit 2, unlike an address that is one but cannot be listened on (exit 1). A lookup that may
 * succeed later (a DNS timeout) is left to the listen. */
static const char *unresolved(const char *addr) {
    char host[PROXY_ADDR_MAX];
    const char *colon = strrchr(addr, ':'), *h = addr;
    size_t hl = (size_t)(colon - addr);
    if (addr[0] == '[') { /* [V6]:PORT */
        h++;
        hl -= 2;
    }
    if (hl >= sizeof host) return "name too long";
    memcpy(host, h, hl);
    host[hl] = '\0';
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc == 0) freeaddrinfo(res);
    return rc == 0 || rc == EAI_AGAIN || rc == EAI_MEMORY || rc == EAI_SYSTEM ? NULL
                                                                              : gai_strerror(rc);
}

static char *read_config(const char *path, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(MAX_CONFIG + 1);
    size_t n = buf ? fread(buf, 1, MAX_CONFIG + 1, f) : 0;
    bool bad = !buf || ferror(f);
    fclose(f);
    if (bad || n > MAX_CONFIG) {
        err_set(err, errlen, "cannot read config file %s: %s", path,
                bad ? "read error" : "larger than 16 MiB");
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static void on_signal(int sig) {
    (void)sig; /* the signal stays pending for sigwait: it is blocked in every thread */
}

static void print_proxies(proxy_server *srv) {
    proxy_info *list = NULL;
    int n = 0;
    if (proxy_list(srv, &list, &n) != PROXY_OK) return;
    for (int i = 0; i < n; i++)
        printf("proxy %s %s -> %s%s\n", list[i].name, list[i].listen, list[i].upstream,
               list[i].enabled ? "" : " (disabled)");
    free(list);
}

int proxy_cmd_main(int argc, char **argv, char *err, size_t errlen) {
    const char *listen = NULL, *upstream = NULL, *name = NULL, *config = NULL;
    const char *api_addr = NULL;
    /* clang-format off */
    const cli_opt opts[] = {
        {.name = "listen", .kind = CLI_STR, .dest = &listen, .meta = "ADDR",
         .help = "the first proxy's listen address, HOST:PORT (default 127.0.0.1:0, a free port; "
                 "the chosen one is printed)"},
        {.name = "upstream", .kind = CLI_STR, .dest = &upstream, .meta = "ADDR",
         .help = "the first proxy's upstream, HOST:PORT"},
        {.name = "name", .kind = CLI_STR, .dest = &name, .meta = "NAME",
         .help = "the first proxy's name (default \"proxy\"): 1 to 63 of A-Z a-z 0-9 _ . -"},
        {.name = "config", .kind = CLI_STR, .dest = &config, .meta = "FILE",
         .help = "create the proxies of a Toxiproxy config file (a JSON array of {name, listen, "
                 "upstream, enabled})"},
        {.name = "api", .kind = CLI_STR, .dest = &api_addr, .def = PROXY_API_DEFAULT_LISTEN,
         .meta = "ADDR",
         .help = "the control API's address (port 0 picks a free one); it listens on that address "
                 "only"},
        CLI_HELP,
    };
    /* clang-format on */
    int npos;
    int prc = cli_parse(&proxy_cli, opts, CLI_NOPTS(opts), argc, argv, NULL, 0, &npos, err, errlen);
    if (prc != CLI_OK) return prc == CLI_EXIT_HELP ? EXIT_OK : EXIT_USAGE;
    if ((listen || name) && !upstream) {
        err_set(err, errlen, "--%s needs --upstream HOST:PORT", listen ? "listen" : "name");
        return EXIT_USAGE;
    }
    if (!listen) listen = "127.0.0.1:0";
    if (!name) name = "proxy";
    if (upstream && !valid_addr(upstream)) {
        err_set(err, errlen, "invalid --upstream '%s' (want HOST:PORT)", upstream);
        return EXIT_USAGE;
    }
    if (upstream && !valid_addr(listen)) {
        err_set(err, errlen, "invalid --listen '%s' (want HOST:PORT)", listen);
        return EXIT_USAGE;
    }
    if (!valid_addr(api_addr)) {
        err_set(err, errlen, "invalid --api '%s' (want HOST:PORT, e.g. 127.0.0.1:8474)", api_addr);
        return EXIT_USAGE;
    }
    const char *why = unresolved(api_addr);
    if (why) {
        err_set(err, errlen,
                "invalid --api '%s': %s (want an address of this host, e.g. "
                "127.0.0.1:8474)",
                api_addr, why);
        return EXIT_USAGE;
    }
    if (!proxy_name_ok(name)) {
        err_set(err, errlen, "option '--name': invalid proxy name '%.80s': " PROXY_NAME_RULE, name);
        return EXIT_USAGE;
    }
    char *cfg_text = NULL;
    size_t cfg_len = 0;
    if (config && !(cfg_text = read_config(config, &cfg_len, err, errlen))) return EXIT_USAGE;

    /* Signals are blocked before any thread starts, so that every thread inherits the mask and
     * only sigwait below receives them; the handler makes sure they are not ignored. */
    sigset_t set, old_mask;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old_mask);
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term,
                     ign = {.sa_handler = SIG_IGN}, old_pipe;
    sigemptyset(&sa.sa_mask);
    sigemptyset(&ign.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGPIPE, &ign, &old_pipe);

    int status = EXIT_FAILURE_;
    proxy_api *api = NULL;
    proxy_server *srv = proxy_server_start(err, errlen);
    if (!srv) goto out;
    if (cfg_text) {
        char sub[400] = "";
        int rc = proxy_api_populate(srv, cfg_text, cfg_len, sub, sizeof sub);
        if (rc) {
            err_set(err, errlen, "config file %s: %s", config, sub);
            status = rc == 500 ? EXIT_FAILURE_ : EXIT_USAGE;
            goto out;
        }
    }
    if (upstream) {
        char sub[400] = "";
        proxy_status s = proxy_create(srv, name, listen, upstream, true, NULL, sub, sizeof sub);
        if (s != PROXY_OK) {
            if (s == PROXY_EEXIST)
                err_set(err, errlen, "proxy '%s' already exists (from --config): give --name",
                        name);
            else if (sub[0])
                err_set(err, errlen, "proxy '%s': %s", name, sub);
            else
                err_set(err, errlen, "proxy '%s': cannot create it on %s", name, listen);
            status = s == PROXY_EINVAL || s == PROXY_EEXIST ? EXIT_USAGE : EXIT_FAILURE_;
            goto out;
        }
    }
    char bound[300];
    api = proxy_api_start(srv, api_addr, bound, sizeof bound, err, errlen);
    if (!api) goto out;
    print_proxies(srv);
    printf("api http://%s\n", bound);
    fflush(stdout);

    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    status = EXIT_OK;
out:
    proxy_api_stop(api);
    if (srv) proxy_server_stop(srv);
    free(cfg_text);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    return status;
}
