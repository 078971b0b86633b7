/* Inline SVG charts of the report: horizontal bar chart, histogram, top-k probability bars.
 * Fixed pixel layout, text escaped, no scripts; colors come from the page's CSS classes. */
#include "report/report_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BAR_ROW_PX 18
#define LABEL_COLUMN_PX 190
#define MAX_BAR_LABEL_CHARS 30
#define MAX_TOPK_LABEL_CHARS 22

/* Writes at most max_chars code points of label (escaped), with an ellipsis when cut: SVG
 * text does not wrap, and the full label stays in the element's <title>. */
static void svg_label(FILE *out, const char *label, int max_chars)
{
    if (!label)
        return;
    size_t end = 0;
    int chars = 0;
    while (label[end] && chars < max_chars) {
        end++;
        while ((label[end] & 0xC0) == 0x80)
            end++; /* continuation bytes belong to the same character */
        chars++;
    }
    if (!label[end]) {
        html_text(out, label);
        return;
    }
    /* Cut one character earlier to make room for the ellipsis. */
    while (end > 0 && (label[--end] & 0xC0) == 0x80)
        ;
    char *prefix = strndup(label, end);
    if (prefix) {
        html_text(out, prefix);
        free(prefix);
    }
    html_raw(out, "&hellip;");
}

void svg_bar_chart(FILE *out, const char *title, const chart_bar *bars, int count, const char *value_format,
                   double max_value, int width)
{
    if (max_value <= 0)
        for (int i = 0; i < count; i++)
            if (bars[i].value > max_value)
                max_value = bars[i].value;
    if (max_value <= 0)
        max_value = 1;
    int height = count * BAR_ROW_PX + 6;
    /* Narrow charts (resolutions) have short labels. */
    const int label_px = width <= 320 ? 80 : LABEL_COLUMN_PX;
    int bar_space = width - label_px - 60;
    html_raw(out, "<svg class=\"chart bar-chart\" role=\"img\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">",
             width, height, width, height);
    html_raw(out, "<title>");
    html_text(out, title);
    html_raw(out, "</title>");
    for (int i = 0; i < count; i++) {
        int y = 3 + i * BAR_ROW_PX;
        double fraction = bars[i].value / max_value;
        if (!(fraction >= 0))
            fraction = 0;
        if (fraction > 1)
            fraction = 1;
        int bar_px = (int)lround(fraction * bar_space);
        /* A label too long for its column is cut by the clip path, the full text stays in <title>. */
        html_raw(out, "<g><title>");
        html_text(out, bars[i].label);
        html_raw(out, "</title><text class=\"bar-label\" x=\"%d\" y=\"%d\" text-anchor=\"end\">",
                 label_px - 6, y + 13);
        svg_label(out, bars[i].label, MAX_BAR_LABEL_CHARS);
        html_raw(out, "</text><rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"></rect>",
                 label_px, y + 2, bar_px, BAR_ROW_PX - 4);
        html_raw(out, "<text class=\"bar-value\" x=\"%d\" y=\"%d\">", label_px + bar_px + 4, y + 13);
        html_raw(out, value_format, bars[i].value);
        html_raw(out, "</text></g>");
    }
    html_raw(out, "</svg>\n");
}

/* Rounds a positive step up to 1, 2 or 5 times a power of ten so bin edges read well. */
static double nice_step(double raw)
{
    if (!(raw > 0))
        return 1;
    double power = pow(10, floor(log10(raw)));
    double mantissa = raw / power;
    double nice = mantissa <= 1 ? 1 : mantissa <= 2 ? 2 : mantissa <= 5 ? 5 : 10;
    return nice * power;
}

static void format_number(char *out, size_t size, double value)
{
    if (fabs(value - round(value)) < 1e-9)
        snprintf(out, size, "%.0f", value);
    else
        snprintf(out, size, "%.3g", value);
}

void svg_histogram(FILE *out, const char *title, const char *unit, const double *values, int count, int num_bins)
{
    const int width = 300, height = 180, left = 34, bottom = 34, top = 34;
    double low = INFINITY, high = -INFINITY;
    int finite = 0;
    for (int i = 0; i < count; i++)
        if (isfinite(values[i])) {
            finite++;
            low = fmin(low, values[i]);
            high = fmax(high, values[i]);
        }
    html_raw(out, "<figure class=\"histogram\"><svg class=\"chart\" role=\"img\" width=\"%d\" height=\"%d\" "
                  "viewBox=\"0 0 %d %d\"><title>", width, height, width, height);
    html_text(out, title);
    html_raw(out, "</title><text class=\"chart-title\" x=\"%d\" y=\"14\" text-anchor=\"middle\">", width / 2);
    html_text(out, title);
    html_raw(out, "</text>");
    if (finite == 0) {
        html_raw(out, "<text class=\"muted\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">no data</text></svg></figure>\n",
                 width / 2, height / 2);
        return;
    }
    if (num_bins < 1)
        num_bins = 1;
    double step = nice_step((high - low) / num_bins);
    double start = floor(low / step) * step;
    int bins = (int)floor((high - start) / step) + 1;
    if (bins > 64)
        bins = 64;
    int *counts = calloc((size_t)bins, sizeof *counts);
    if (!counts) {
        html_raw(out, "</svg></figure>\n");
        return;
    }
    int max_count = 0;
    for (int i = 0; i < count; i++) {
        if (!isfinite(values[i]))
            continue;
        int bin = (int)floor((values[i] - start) / step);
        if (bin < 0)
            bin = 0;
        if (bin >= bins)
            bin = bins - 1;
        if (++counts[bin] > max_count)
            max_count = counts[bin];
    }
    double plot_width = width - left - 8, plot_height = height - bottom - top;
    double bin_px = plot_width / bins;
    html_raw(out, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"></line>", left, height - bottom,
             width - 8, height - bottom);
    html_raw(out, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%d</text>", left - 4, top + 8, max_count);
    for (int b = 0; b < bins; b++) {
        double bar_height = plot_height * counts[b] / max_count;
        char edge[32], next_edge[32];
        format_number(edge, sizeof edge, start + b * step);
        format_number(next_edge, sizeof next_edge, start + (b + 1) * step);
        html_raw(out, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>%s-%s: %d</title></rect>",
                 left + b * bin_px + 1, height - bottom - bar_height, bin_px - 2, bar_height, edge, next_edge,
                 counts[b]);
        if (counts[b] > 0)
            html_raw(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>",
                     left + (b + 0.5) * bin_px, height - bottom - bar_height - 3, counts[b]);
    }
    char low_text[32], high_text[32];
    format_number(low_text, sizeof low_text, start);
    format_number(high_text, sizeof high_text, start + bins * step);
    html_raw(out, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"start\">%s</text>", left, height - bottom + 14,
             low_text);
    html_raw(out, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", width - 8,
             height - bottom + 14, high_text);
    html_raw(out, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", width / 2, height - 6);
    html_text(out, unit);
    html_raw(out, " (%d clips)</text></svg></figure>\n", finite);
    free(counts);
}

void svg_topk(FILE *out, const char *const *labels, const double *scores, int count, const char *truth)
{
    const int width = 280, row = 16, label_px = 140;
    int height = count * row + 4;
    html_raw(out, "<svg class=\"chart topk\" role=\"img\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\"><title>top-%d probabilities</title>",
             width, height, width, height, count);
    for (int k = 0; k < count; k++) {
        double score = scores[k];
        if (!(score >= 0))
            score = 0;
        if (score > 1)
            score = 1;
        int y = 2 + k * row;
        int bar_px = (int)lround(score * (width - label_px - 50));
        int is_truth = truth && labels[k] && !strcmp(labels[k], truth);
        html_raw(out, "<g class=\"%s\"><title>", is_truth ? "topk-truth" : "topk-other");
        html_text(out, labels[k]);
        html_raw(out, "</title><text class=\"bar-label\" x=\"%d\" y=\"%d\" text-anchor=\"end\">", label_px - 4, y + 12);
        svg_label(out, labels[k], MAX_TOPK_LABEL_CHARS);
        html_raw(out, "</text><rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"></rect>", label_px, y + 2,
                 bar_px, row - 4);
        html_raw(out, "<text class=\"bar-value\" x=\"%d\" y=\"%d\">%.1f%%</text></g>", label_px + bar_px + 4, y + 12,
                 100.0 * scores[k]);
    }
    html_raw(out, "</svg>");
}
