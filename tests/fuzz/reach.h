/* reach.h — entry points into parsing code that its own files keep static. Each reach_*.c
 * compiles one file of src/ or service/ whole (#include of the .c file: the code fuzzed is the
 * code shipped, byte for byte) and adds a few functions that reach its static parts; in the fuzz
 * build the reach file replaces that file's object. Only the harnesses include this header. */
#ifndef BRINK_FUZZ_REACH_H
#define BRINK_FUZZ_REACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fault/proxy.h"
#include "load/engine.h"

/* ---- reach_engine.c: the load engine's response handling (src/load/engine.c) ---------------- */

typedef struct fuzz_engine fuzz_engine;
/* An engine prepared from cfg as engine_run would (one thread, one connection), its transport
 * replaced by one that reads the bytes given to fuzz_engine_feed and writes nowhere; it never
 * connects. NULL with a reason. */
fuzz_engine *fuzz_engine_new(const engine_config *cfg, char *err, size_t errlen);
void fuzz_engine_free(fuzz_engine *fe);
/* The engine's connection sends requests of shape pick, pick + 1, ... (modulo the scenario's
 * requests), at most max of them, and reads the server's bytes `data` as the answers through the
 * engine's own read path (conn_read: libhttp-parser with the engine's callbacks, then its
 * response, failure and keep-alive handling): each read returns the next cuts[i] + 1 bytes
 * (cycling; everything at once without cuts), then end-of-file. Returns the responses counted. */
int64_t fuzz_engine_feed(fuzz_engine *fe, int pick, int max, const uint8_t *data, size_t len,
                         const uint8_t *cuts, size_t ncuts);

/* ---- reach_client.c: the set-up and audit client's response parsing (src/http/client.c) ------ */

/* Reads the server's bytes through client_response_step (the split API the race uses) as
 * successive responses on one kept-alive connection (HEAD requests when head), reads cut as
 * above. Returns the complete responses; aborts when a response breaks client.h's promises. */
int fuzz_client_feed(const uint8_t *data, size_t len, const uint8_t *cuts, size_t ncuts, bool head);

/* ---- reach_api.c: the Toxiproxy-compatible API's handlers (src/fault/api.c) ------------------ */

/* Routes one request to the API's handlers as libmicrohttpd would after reading the whole body;
 * the response goes through MHD_queue_response (the harness provides the libmicrohttpd response
 * functions). Returns the handler's MHD_Result. */
int fuzz_api_request(proxy_server *srv, const char *method, const char *url, const char *body,
                     size_t len);

/* ---- reach_dispatchd.c, reach_accept.c: dispatchd's request path (service/) ------------------ */

/* service/http.c classify(): the route of a URL (0: none), the order id copied into id (at
 * least 201 bytes) for /orders/ID and /orders/ID/accept. */
int fuzz_dd_classify(const char *url, char *id, size_t idlen);
/* service/http.c json_content_type(): whether a Content-Type is JSON. */
bool fuzz_dd_json_content_type(const char *ct);
/* service/accept.c parse_vendor(): the accept body's vendor_id; 0, or -1 with a 400 reply set
 * (*status, body into out). */
int fuzz_dd_parse_vendor(const char *body, size_t len, char *vendor, size_t cap, int *status,
                         char *out, size_t outlen);

#endif
