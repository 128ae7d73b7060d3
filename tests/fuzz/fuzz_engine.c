/* fuzz_engine.c — the load engine's handling of what a server answers (src/load/engine.c through
 * reach_engine.c): status lines, headers (Retry-After, Connection, Content-Length, chunked),
 * bodies kept for a scenario's JSON checks and captures (load/mix.c, core/jscan.c), interim 1xx
 * responses, answers to HEAD, keep-alive and close, garbage, and the sender's retries that a
 * failed answer schedules. The engine runs a scenario of five requests with checks and captures
 * (loaded by the real loader from the text below) and a delivery policy that honours Retry-After.
 *
 * Input: byte 0 picks the first request's shape; byte 1 (mod 16) is how many bytes follow that
 * cut the server's bytes into reads (each cut + 1 bytes; none: one read); the rest is what the
 * server sends, answering up to 8 requests in turn on one connection (reconnected when closed). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "config/scenario_yaml.h"
#include "load/delivery.h"
#include "load/engine.h"
#include "reach.h"

static const char SCENARIO[] =
    "requests:\n"
    "  create:\n"
    "    method: POST\n"
    "    url: /orders\n"
    "    headers: {Content-Type: application/json}\n"
    "    body: '{\"id\": \"o-{{seq}}\"}'\n"
    "    expect:\n"
    "      status: [200, 201, 409]\n"
    "      json:\n"
    "        - {path: id, exists: true}\n"
    "        - {path: state, equals: open}\n"
    "        - {path: id, matches: '^o-[0-9]+$'}\n"
    "        - {path: total_cents, gt: 0}\n"
    "        - {path: 'data.items[1].qty', le: 5}\n"
    "        - {path: error, exists: false}\n"
    "    capture: {order_id: id, total: total_cents}\n"
    "  get:\n"
    "    url: /orders/1\n"
    "    expect: {status: 2xx, json: [{path: '$.order.vendor_id', equals: v1}]}\n"
    "  accept:\n"
    "    method: POST\n"
    "    url: /orders/1/accept\n"
    "    body: '{\"vendor_id\": \"v-{{conn}}\"}'\n"
    "    expect: {status: '200,409', json: [{path: 'winner[0]', lt: 3}]}\n"
    "  health: {method: HEAD, url: /healthz}\n"
    "  plain: {url: /}\n";

static scenario sc;
static delivery_policy pol;
static fuzz_engine *fe;

static void cleanup(void) {
    fuzz_engine_free(fe);
    scenario_free(&sc);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    char path[512], err[512];
    fuzz_write("scenario.yaml", (const uint8_t *)SCENARIO, strlen(SCENARIO), path, sizeof path);
    if (scenario_load(path, &sc, err, sizeof err) < 0) {
        fprintf(stderr, "fuzz_engine: the scenario: %s\n", err);
        abort();
    }
    if (delivery_preset("standard-webhooks", &pol, err, sizeof err) < 0) {
        fprintf(stderr, "fuzz_engine: the delivery policy: %s\n", err);
        abort();
    }
    pol.honor_retry_after = true;
    static engine_config cfg;
    cfg.url = "http://127.0.0.1:1/";
    cfg.connections = 1;
    cfg.threads = 1;
    cfg.rate = 100;
    cfg.scenario = &sc;
    cfg.delivery = &pol;
    fe = fuzz_engine_new(&cfg, err, sizeof err);
    if (!fe) {
        fprintf(stderr, "fuzz_engine: the engine: %s\n", err);
        abort();
    }
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    int pick = data[0];
    size_t ncuts = data[1] % 16;
    if (size < 2 + ncuts) return 0;
    fuzz_engine_feed(fe, pick, 8, data + 2 + ncuts, size - 2 - ncuts, data + 2, ncuts);
    return 0;
}
