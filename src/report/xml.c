/* xml.c — escaping for the XML and HTML reports (junit.c, html.c, svg.c): one function, with
 * flags for where JUnit XML and HTML differ (the apostrophe's entity, and whether tabs and line
 * breaks survive as character references). */
#include "report/xml.h"

#include <stdbool.h>

void report_xml_escape(FILE *out, const char *s, unsigned flags) {
    if (!s) return;
    bool refs = flags & REPORT_XML_CTRL_REFS;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs(flags & REPORT_XML_APOS ? "&apos;" : "&#39;", out); break;
        case '\t':
        case '\n':
        case '\r':
            if (refs) {
                fprintf(out, "&#%d;", *p);
                break;
            }
            /* fall through */
        default:
            if (*p < 0x20 || *p == 0x7f)
                fputc(refs ? '?' : ' ', out);
            else
                fputc(*p, out);
        }
    }
}

void report_xml_wrap(FILE *out, const char *before, const char *s, const char *after,
                     unsigned flags) {
    fputs(before, out);
    report_xml_escape(out, s, flags);
    fputs(after, out);
}
