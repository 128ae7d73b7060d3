/* terminal.c — the human summary of a load run, in the spirit of wrk's: what was sent, what came
 * back, how fast, how it was distributed, and — plainly — what went wrong. Also the live progress
 * line that a TTY gets once per second. */
#include <string.h>

#include "report/report.h"

static void human_bytes(double b, char *out, size_t n) {
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (b >= 1024 && i < 4) {
        b /= 1024;
        i++;
    }
    snprintf(out, n, i ? "%.2f %s" : "%.0f %s", b, u[i]);
}

static double ms(int64_t us) {
    return (double)us / 1000.0;
}

static void print_percentiles(FILE *out, const char *label, const hdr_hist *h) {
    fprintf(
        out,
        "  %-13s p50 %.3f  p75 %.3f  p90 %.3f  p95 %.3f  p99 %.3f  p99.9 %.3f  p99.99 %.3f ms\n",
        label, ms(hdr_value_at_percentile(h, 50)), ms(hdr_value_at_percentile(h, 75)),
        ms(hdr_value_at_percentile(h, 90)), ms(hdr_value_at_percentile(h, 95)),
        ms(hdr_value_at_percentile(h, 99)), ms(hdr_value_at_percentile(h, 99.9)),
        ms(hdr_value_at_percentile(h, 99.99)));
}

static void print_spectrum(FILE *out, const char *label, const hdr_hist *h) {
    fprintf(out, "\n  %s — percentile spectrum\n", label);
    fprintf(out, "  %12s %12s %12s %14s\n", "value (ms)", "percentile", "count", "1/(1-p)");
    hdr_pct_iter it;
    hdr_pct_iter_init(&it, h, 5);
    while (hdr_pct_iter_next(&it)) {
        double p = it.percentile / 100.0;
        if (p < 1.0)
            fprintf(out, "  %12.3f %12.6f %12lld %14.2f\n", ms(it.value), p,
                    (long long)it.total_to_here, 1.0 / (1.0 - p));
        else
            fprintf(out, "  %12.3f %12.6f %12lld %14s\n", ms(it.value), p,
                    (long long)it.total_to_here, "inf");
    }
    fprintf(out, "  mean %.3f ms, stdev %.3f ms, max %.3f ms, total count %lld\n",
            hdr_mean(h) / 1000.0, hdr_stdev(h) / 1000.0, ms(hdr_max(h)), (long long)hdr_total(h));
}

void report_load_terminal(FILE *out, const engine_result *r, const report_load_info *info,
                          bool full_latency) {
    char rd[32], wr[32];
    human_bytes((double)r->bytes_read, rd, sizeof rd);
    human_bytes((double)r->bytes_written, wr, sizeof wr);
    double window = r->send_window_s > 0 ? r->send_window_s : r->elapsed_s;
    fprintf(out, "brink load %s %s — %s model, %d connection%s, %d thread%s\n", info->method,
            info->url, r->open_model ? "open" : "closed", r->connections,
            r->connections == 1 ? "" : "s", r->threads, r->threads == 1 ? "" : "s");
    if (r->open_model)
        fprintf(out, "  schedule      offered %.1f rps over %.2f s (%lld requests due)\n",
                r->offered_rps, window, (long long)r->scheduled);
    fprintf(out, "  requests      %lld responses in %.2f s: %.1f rps; %s read, %s written\n",
            (long long)r->responses, window, window > 0 ? r->responses / window : 0.0, rd, wr);
    const hdr_hist *h = r->latency;
    if (hdr_total(h)) {
        fprintf(out, "  latency       min %.3f  mean %.3f  stdev %.3f  max %.3f ms%s\n",
                ms(hdr_min(h)), hdr_mean(h) / 1000.0, hdr_stdev(h) / 1000.0, ms(hdr_max(h)),
                r->open_model ? " (from intended send time)" : "");
        print_percentiles(out, "percentiles", h);
        if (r->open_model) print_percentiles(out, "service time", r->service);
    }
    fprintf(out, "  status       ");
    int shown = 0;
    for (int i = 0; i < 600; i++) {
        if (!r->status[i]) continue;
        fprintf(out, " %d: %lld", i, (long long)r->status[i]);
        shown++;
    }
    fprintf(out, "%s\n", shown ? "" : " (no responses)");
    if (r->transport_errors) {
        fprintf(out, "  errors        %lld without a response:\n", (long long)r->transport_errors);
        for (int i = 0; i < ERR__COUNT; i++) {
            if (!r->errors_by_class[i]) continue;
            fprintf(out, "    %-16s %lld%s%s%s\n", engine_err_name((engine_err)i),
                    (long long)r->errors_by_class[i], r->first_error[i][0] ? " (first: " : "",
                    r->first_error[i], r->first_error[i][0] ? ")" : "");
        }
    } else {
        fprintf(out, "  errors        none without a response\n");
    }
    if (r->http_errors)
        fprintf(out, "  http errors   %lld responses with status >= 400\n",
                (long long)r->http_errors);
    if (r->open_model) {
        double achieved = window > 0 ? r->sent / window : 0;
        fprintf(out, "  send lag      %lld late sends (> 1 ms behind schedule), max lag %.3f ms\n",
                (long long)r->late_sends, ms(r->max_lag_us));
        if (r->unsent)
            fprintf(out,
                    "  WARNING       %lld due requests were never sent: every connection was busy "
                    "(raise -c) or the run ended\n",
                    (long long)r->unsent);
        if (r->offered_rps > 0 && achieved < 0.99 * r->offered_rps)
            fprintf(out,
                    "  WARNING       brink sent %.1f rps of %.1f offered: the generator or the "
                    "connections could not keep up (more -c or -t)\n",
                    achieved, r->offered_rps);
    }
    if (r->timeline_dropped)
        fprintf(out,
                "  note          %lld thread-seconds are missing from the timeline (the "
                "machine was overloaded)\n",
                (long long)r->timeline_dropped);
    if (r->interrupted) fprintf(out, "  interrupted   stopped early by a signal; partial result\n");
    if (r->responses == 0)
        fprintf(out, "  RESULT        nothing succeeded: no HTTP response was received from %s\n",
                info->url);
    if (full_latency && hdr_total(h)) {
        print_spectrum(out, r->open_model ? "latency (corrected)" : "latency", h);
        if (r->open_model) print_spectrum(out, "service time", r->service);
    }
}

void report_progress_line(FILE *out, const engine_second *s, bool open_model) {
    double len = s->length_s > 0 ? s->length_s : 1.0;
    if (open_model)
        fprintf(out, "\r[%4ds] offered %8.0f  done %8.0f rps  p99 %9.3f ms  errors %-8lld",
                s->index + 1, s->offered / len, s->completed / len, ms(s->p99_us),
                (long long)s->errors);
    else
        fprintf(out, "\r[%4ds] %8.0f rps  p99 %9.3f ms  errors %-8lld", s->index + 1,
                s->completed / len, ms(s->p99_us), (long long)s->errors);
    fflush(out);
}

void report_progress_clear(FILE *out) {
    fprintf(out, "\r%80s\r", "");
    fflush(out);
}
