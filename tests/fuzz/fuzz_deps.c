/* fuzz_deps.c — the dependency hooks file (config/deps_yaml.c: deps_load, `brink stack fault
 * --config`) on arbitrary bytes: commands as lists or as strings split into words, ready_check
 * URLs, timeouts, signals, pid files, toxiproxy. Nothing is run: the file is only read. The input
 * is written as deps.yaml into the scratch directory. Checked: no crash, no leak, a refusal is
 * one line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "config/deps_yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[512];
    fuzz_write("deps.yaml", data, size, path, sizeof path);
    deps *d = NULL;
    char err[1024] = "";
    if (deps_load(path, &d, err, sizeof err) < 0) {
        if (!err[0] || strchr(err, '\n')) abort(); /* a refusal is one line */
    } else {
        char names[512];
        deps_names(d, names, sizeof names);
        (void)deps_count(d);
    }
    deps_free(d);
    return 0;
}
