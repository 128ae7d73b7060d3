/* race_spec.c — the race's protocol description (race_spec, config/race_spec.h): dispatchd's
 * built-in one and the {{id}}/{{vendor}}/{{run}} substitution. A race.yaml (config/race_yaml.c)
 * fills the same structure, so the scenario never knows which service it is talking to. */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "race/race.h"

static const char WEBHOOK_BODY[] =
    "{\"type\":\"order.created\",\"data\":{\"order_id\":\"{{id}}\",\"customer_id\":\"race-"
    "customer-{{seq}}\",\"items\":[{\"sku\":\"race-sku\",\"qty\":1,\"price_cents\":1250}],"
    "\"total_cents\":1250}}";

static int set(char **dst, const char *v) {
    *dst = v ? strdup(v) : NULL;
    return v && !*dst ? -1 : 0;
}

static int add_header(race_request *r, const char *h) {
    if (r->nheaders == RACE_MAX_HEADERS) return -1;
    if (set(&r->headers[r->nheaders], h) < 0) return -1;
    r->nheaders++;
    return 0;
}

int race_spec_default(race_spec *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    int rc = 0;
    rc |= set(&s->create.method, "POST");
    rc |= set(&s->create.path, "/webhooks/orders");
    rc |= add_header(&s->create, "Content-Type: application/json");
    rc |= set(&s->create.body, WEBHOOK_BODY);
    s->create_sign = SIGN_STANDARD_WEBHOOKS;
    status_set_add(&s->create_ok, 200, 299);
    rc |= set(&s->visible.method, "GET");
    rc |= set(&s->visible.path, "/orders/{{id}}");
    status_set_add(&s->visible_ok, 200, 200);
    rc |= set(&s->claim.method, "POST");
    rc |= set(&s->claim.path, "/orders/{{id}}/accept");
    rc |= add_header(&s->claim, "Content-Type: application/json");
    rc |= set(&s->claim.body, "{\"vendor_id\":\"{{vendor}}\"}");
    status_set_add(&s->won, 200, 299);
    status_set_add(&s->lost, 409, 409);
    rc |= set(&s->loser_winner_path, "winner");
    rc |= set(&s->truth.method, "GET");
    rc |= set(&s->truth.path, "/orders/{{id}}");
    rc |= set(&s->truth_winner_path, "vendor_id");
    rc |= set(&s->sql_query, "SELECT vendor_id FROM order_assignments WHERE order_id = $1");
    if (rc) {
        race_spec_free(s);
        err_set(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

char *race_subst(const char *tmpl, const char *id, const char *vendor, const char *run) {
    static const char *const names[] = {"{{id}}", "{{vendor}}", "{{run}}"};
    const char *vals[] = {id, vendor, run};
    size_t out_len = 0;
    for (int pass = 0; pass < 2; pass++) {
        char *out = pass ? malloc(out_len + 1) : NULL;
        if (pass && !out) return NULL;
        size_t n = 0;
        const char *p = tmpl;
        while (*p) {
            int hit = -1;
            if (p[0] == '{' && p[1] == '{')
                for (int k = 0; k < 3; k++)
                    if (vals[k] && !strncmp(p, names[k], strlen(names[k]))) hit = k;
            if (hit >= 0) {
                size_t vl = strlen(vals[hit]);
                if (out) memcpy(out + n, vals[hit], vl);
                n += vl;
                p += strlen(names[hit]);
            } else {
                if (out) out[n] = *p;
                n++;
                p++;
            }
        }
        if (out) {
            out[n] = '\0';
            return out;
        }
        out_len = n;
    }
    return NULL;
}
