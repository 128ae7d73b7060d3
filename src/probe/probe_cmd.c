/* probe_cmd.c — `brink probe [-n COUNT] [-i INTERVAL] SPEC`: the command-line face of the probes
 * (probe.h). SPEC is the JSON object a scenario takes (--probe), so a probe can be tried before a
 * long run; each read prints one line, the number or the reason it failed. */
#include "probe/probe_cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/parse.h"
#include "core/exitcode.h"
#include "probe/probe.h"

static void usage(void) {
    printf(
        "Usage: brink probe [options] SPEC\n"
        "\n"
        "Reads a probe and prints its value: one number per read.\n"
        "SPEC is a JSON object:\n"
        "  {\"kind\":\"redis\",\"url\":\"redis://127.0.0.1:6379\",\"command\":\"XLEN s\"}\n"
        "  {\"kind\":\"redis\",\"url\":\"...\",\"command\":\"XINFO GROUPS "
        "s\",\"path\":\"[name=g].lag\"}\n"
        "  {\"kind\":\"sql\",\"url_env\":\"DATABASE_URL\",\"query\":\"SELECT count(*) FROM "
        "inbox\"}\n"
        "  "
        "{\"kind\":\"http\",\"url\":\"http://127.0.0.1:8080/metrics\",\"metric\":\"queue_depth\"}\n"
        "  {\"kind\":\"http\",\"url\":\"http://127.0.0.1:8080/stats\",\"path\":\"queue.depth\"}\n"
        "Keys: kind, name, url or url_env (keeps passwords off the command line), command,\n"
        "query, path, metric, timeout_ms (default 1000). See docs/resilience.md.\n"
        "\n"
        "Options:\n"
        "  -n, --count N        read N times (default 1)\n"
        "  -i, --interval D     between reads (default 250ms)\n"
        "  -h, --help           this help\n"
        "\n"
        "Exit status: 0 every read gave a number; 2 bad usage; 3 a read failed.\n");
}

int probe_cmd_main(int argc, char **argv, char *err, size_t errlen) {
    static const struct option opts[] = {
        {"count", required_argument, 0, 'n'},
        {"interval", required_argument, 0, 'i'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int64_t count = 1, interval = 250 * NS_PER_MS;
    char sub[256];
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":n:i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (parse_int(optarg, 1, 100000, &count, sub, sizeof sub) < 0) {
                snprintf(err, errlen, "%s", sub);
                return EXIT_USAGE;
            }
            break;
        case 'i':
            if (parse_duration_ns(optarg, &interval, sub, sizeof sub) < 0) {
                snprintf(err, errlen, "%s", sub);
                return EXIT_USAGE;
            }
            break;
        case 'h': usage(); return EXIT_OK;
        case ':':
            snprintf(err, errlen, "option '%s' needs a value (see brink probe --help)",
                     argv[optind - 1]);
            return EXIT_USAGE;
        default:
            snprintf(err, errlen, "unknown option '%s' (see brink probe --help)", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        snprintf(err, errlen, "want exactly one SPEC (a JSON object; see brink probe --help)");
        return EXIT_USAGE;
    }
    probe_spec spec;
    if (probe_spec_parse(argv[optind], &spec, err, errlen) < 0) return EXIT_USAGE;
    probe *p;
    if (probe_open(&spec, &p, err, errlen) < 0) return EXIT_USAGE;
    int status = EXIT_OK;
    for (int64_t i = 0; i < count; i++) {
        if (i) {
            struct timespec ts = {(time_t)(interval / NS_PER_S), (long)(interval % NS_PER_S)};
            nanosleep(&ts, NULL);
        }
        double v;
        char why[512];
        if (probe_read(p, &v, why, sizeof why) == 0) {
            printf("%.15g\n", v);
        } else {
            printf("error: %s\n", why);
            snprintf(err, errlen, "%s", why);
            status = EXIT_UNREACHABLE;
        }
        fflush(stdout);
    }
    probe_close(p);
    return status;
}
