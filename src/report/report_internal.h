/* Internal helpers of the report: arena storage, relative links, and the escaping HTML/SVG
 * writer the page is built with. Not part of the public API. */
#ifndef VB_REPORT_INTERNAL_H
#define VB_REPORT_INTERNAL_H

#include <stdio.h>
#include "vidbench/report.h"

void *report_alloc(vb_report *report, size_t size_bytes);
const char *report_strndup(vb_report *report, const char *text, size_t length);

/* Attaches a local file to the clip named clip_name (or the CSV row with its YouTube id),
 * adding the clip if absent; its href is made relative to report_dir. */
vb_report_clip *report_attach_file(vb_report *report, const char *clip_name, const char *path,
                                      const char *report_dir, vb_error *err);

/* *href = target relative to the directory report_dir, each path component percent-encoded
 * (RFC 3986 unreserved characters kept), for use in href/src. Both paths may be relative to
 * the working directory; report_dir and target's parent must exist. Caller frees *href. */
int report_relative_href(const char *report_dir, const char *target, char **href, vb_error *err);

/* Streaming escapes: element text and attribute values alike (& < > " ' escaped; invalid
 * UTF-8 and control bytes become U+FFFD). NULL writes nothing. */
void html_text(FILE *out, const char *text);
/* printf for markup we write ourselves; never pass untrusted text as a %s here. */
void html_raw(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Disagreements per pair the Compare section lists (and the sample table holds). */
#define REPORT_MAX_DISAGREEMENTS 20

/* The Compare section (render_compare.c); nothing when report->compare is NULL. */
void write_compare(FILE *out, const vb_report *report);

/* SVG charts. Labels are escaped. */
typedef struct chart_bar {
    const char *label;
    double value;
} chart_bar;

/* Horizontal bars, one row per entry (label left, value right). */
void svg_bar_chart(FILE *out, const char *title, const chart_bar *bars, int count, const char *value_format,
                   double max_value, int width);
/* Vertical histogram of values in num_bins equal bins between their min and max. */
void svg_histogram(FILE *out, const char *title, const char *unit, const double *values, int count, int num_bins);
/* The top-k probabilities of one clip; the bar of the ground truth is highlighted. */
void svg_topk(FILE *out, const char *const *labels, const double *scores, int count, const char *truth);

#endif
