/* xml.h — the one escape for text that goes into the XML and HTML reports (JUnit, the HTML page
 * and its SVG charts). Result documents carry user input (targets, profiles, evidence, probe
 * names), so every string from them goes through here. */
#ifndef BRINK_XML_H
#define BRINK_XML_H

#include <stdio.h>

/* How the two report formats differ. Always: & < > " as &amp; &lt; &gt; &quot;. */
enum report_xml_flags {
    REPORT_XML_HTML = 0,           /* ' as &#39;, every control character as a space */
    REPORT_XML_APOS = 1 << 0,      /* ' as &apos; */
    REPORT_XML_CTRL_REFS = 1 << 1, /* tab, LF, CR as &#9; &#10; &#13;, other controls as '?' */
    REPORT_XML_JUNIT = REPORT_XML_APOS | REPORT_XML_CTRL_REFS,
};

/* Writes s (NULL: nothing) escaped for XML/HTML text and attribute values; bytes from 0x80 up
 * (UTF-8) pass through. Control characters (below 0x20, and 0x7f) are not allowed in XML 1.0. */
void report_xml_escape(FILE *out, const char *s, unsigned flags);

/* Writes before, s escaped (as report_xml_escape), then after: an element's text or an
 * attribute's value with its markup. */
void report_xml_wrap(FILE *out, const char *before, const char *s, const char *after,
                     unsigned flags);

#endif
