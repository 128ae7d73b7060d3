/* json.c — JSON helpers shared by the tests' result documents (load, webhook, race, resilience,
 * suite) and by the reports that read them (report, compare, merge, JUnit, HTML): getters that
 * tolerate what a document lacks, rounding, the HDR histogram's JSON form, and the atomic file
 * writer every output goes through. */
#include "core/json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/runinfo.h"

const char *jx_str(const json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

double jx_num(const json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

int64_t jx_int(const json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    if (json_is_integer(v)) return json_integer_value(v);
    if (json_is_real(v)) return (int64_t)llround(json_real_value(v));
    return 0;
}

double jx_round3(double v) {
    return round(v * 1000.0) / 1000.0;
}

double jx_round6(double v) {
    return round(v * 1e6) / 1e6;
}

json_t *jx_real(double v) {
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *jx_real3(double v) {
    return isfinite(v) ? json_real(jx_round3(v)) : json_null();
}

json_t *jx_real6(double v) {
    return isfinite(v) ? json_real(jx_round6(v)) : json_null();
}

json_t *jx_hist(const hdr_hist *h, double unit_ns) {
    double k = unit_ns / NS_PER_MS; /* recorded units → ms */
    json_t *o = json_object();
    json_object_set_new(o, "count", json_integer(hdr_total(h)));
    json_object_set_new(o, "min_ms", json_real(jx_round6((double)hdr_min(h) * k)));
    json_object_set_new(o, "mean_ms", json_real(jx_round6(hdr_mean(h) * k)));
    json_object_set_new(o, "stdev_ms", json_real(jx_round6(hdr_stdev(h) * k)));
    json_object_set_new(o, "max_ms", json_real(jx_round6((double)hdr_max(h) * k)));
    json_t *p = json_object();
    static const struct {
        const char *k;
        double p;
    } pts[] = {{"50", 50}, {"75", 75},     {"90", 90},       {"95", 95},
               {"99", 99}, {"99.9", 99.9}, {"99.99", 99.99}, {"100", 100}};
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++)
        json_object_set_new(p, pts[i].k,
                            json_real(jx_round6((double)hdr_value_at_percentile(h, pts[i].p) * k)));
    json_object_set_new(o, "percentiles_ms", p);
    char *enc = hdr_encode_base64(h);
    json_object_set_new(o, "hdr", enc ? json_string(enc) : json_null());
    free(enc);
    return o;
}

int jx_write_file(const char *path, jx_writer fn, const void *arg, char *err, size_t errlen) {
    if (!strcmp(path, "-")) {
        int rc = fn(stdout, arg, err, errlen);
        fflush(stdout);
        return rc;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    char sub[256] = "";
    int rc = fn(f, arg, sub, sizeof sub);
    if (fclose(f) != 0) rc = -1;
    if (rc < 0 || rename(tmp, path) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, sub[0] ? sub : strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

int jx_json_writer(FILE *out, const void *doc, char *err, size_t errlen) {
    if (json_dumpf(doc, out, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) < 0 ||
        fputc('\n', out) == EOF) {
        snprintf(err, errlen, "cannot write the JSON");
        return -1;
    }
    return 0;
}

int jx_write_json(const json_t *doc, const char *path, char *err, size_t errlen) {
    json_t *stamped = runinfo_stamped(doc); /* a result document says which brink, command, host */
    int rc = jx_write_file(path, jx_json_writer, stamped, err, errlen);
    json_decref(stamped);
    return rc;
}
