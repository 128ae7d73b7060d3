/* fuzz_config.c — brink.yaml (config/config.c: config_load and every section it hands on: race,
 * load, dependencies, probes, audit, thresholds, delivery) on arbitrary bytes. The input is
 * written as brink.yaml into the scratch directory, beside a secret, a body file and a stack
 * state file that relative names may point at. Checked: no crash, no leak, and a refusal is one
 * line (the loader's promise); a file that loads is applied (threshold overrides) and rendered. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "config/config.h"
#include "verdict/threshold.h"

static char path[512];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    static const char secret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n";
    static const char body[] = "{\"type\":\"order.created\",\"id\":\"{{webhook_id}}\"}";
    static const char stack[] =
        "{\"postgres\":{\"port\":5432,\"password\":\"pw\"},"
        "\"redis\":{\"port\":6379},\"proxies\":{\"api\":\"127.0.0.1:8474\"}}";
    char p[512];
    fuzz_write("whsec.txt", (const uint8_t *)secret, strlen(secret), p, sizeof p);
    fuzz_write("body.json", (const uint8_t *)body, strlen(body), p, sizeof p);
    fuzz_write("stack.json", (const uint8_t *)stack, strlen(stack), p, sizeof p);
    fuzz_quiet_stdout();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_write("brink.yaml", data, size, path, sizeof path);
    config *c = NULL;
    char err[1024] = "";
    if (config_load(path, &c, err, sizeof err) < 0) {
        if (!err[0] || strchr(err, '\n')) abort(); /* a refusal is one line */
        config_free(c);
    } else {
        char url[2048], e[512];
        config_webhook_url(c, url, sizeof url);
        if (config_apply_thresholds(c, e, sizeof e) < 0 && strchr(e, '\n')) abort();
        threshold_overrides_clear();
        if (c->body) free(config_render(c->body, "msg_{{seq}}", "r1"));
        config_free(c);
    }
    /* the race.yaml sniffing of `brink race -f` reads the file again: one input in four */
    bool race = false;
    if (size % 4 == 0 && config_is_race_yaml(path, &race, err, sizeof err) < 0 && strchr(err, '\n'))
        abort();
    return 0;
}
