/* The report's Compare section: what vb_compare_load computed for several runs, as tables
 * and an accuracy-vs-speed SVG with the Pareto front. Disagreements link to their rows in
 * the sample table (#clip-<index>), which vb_report_finish made sure exist. Every string
 * from the runs (labels, paths, class names, clip ids) goes through html_text. */
#include "vidbench/compare.h"
#include "report/report_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FOLDED_ROWS 20

static void write_rate(FILE *out, const char *class_name, const vb_compare_rate *rate)
{
    if (rate->value < 0) {
        html_raw(out, "<td class=\"num %s\">n/a</td>", class_name);
        return;
    }
    html_raw(out, "<td class=\"num %s\">%.2f%%<br><span class=\"muted ci\">[%.2f, %.2f]</span></td>", class_name,
             100 * rate->value, 100 * rate->low, 100 * rate->high);
}

static void write_optional(FILE *out, const char *class_name, double value, const char *format, double scale)
{
    html_raw(out, "<td class=\"num %s\">", class_name);
    if (value >= 0)
        html_raw(out, format, value * scale);
    else
        html_raw(out, "<span class=\"muted\">&ndash;</span>");
    html_raw(out, "</td>");
}

static char run_letter(int run)
{
    return (char)('A' + run);
}

static void write_runs(FILE *out, const vb_compare *cmp)
{
    html_raw(out, "<table class=\"compare-runs\"><thead><tr><th>run</th><th>model</th>"
                  "<th class=\"num\">top-1 [95%% CI]</th><th class=\"num\">top-%d [95%% CI]</th>"
                  "<th class=\"num\">mean class [95%% CI]</th><th class=\"num\">clips/s</th>"
                  "<th class=\"num\">model ms/clip</th><th class=\"num\">GFLOP/clip</th>"
                  "<th class=\"num\">peak RSS</th><th>Pareto</th></tr></thead><tbody>\n", cmp->top_k);
    for (int r = 0; r < cmp->num_runs; r++) {
        const vb_compare_run *run = &cmp->runs[r];
        html_raw(out, "<tr class=\"compare-run\" id=\"run-%c\"><td><b>%c</b></td><td><span class=\"run-label\">", run_letter(r),
                 run_letter(r));
        html_text(out, run->label);
        html_raw(out, "</span><div class=\"clip-name muted\">");
        html_text(out, run->csv_path);
        html_raw(out, "</div></td>");
        write_rate(out, "top1", &run->top1);
        write_rate(out, "topk", &run->topk);
        write_rate(out, "mean-class", &run->mean_class);
        write_optional(out, "clips-per-s", run->clips_per_s, "%.2f", 1);
        write_optional(out, "model-ms", run->model_ms_per_clip, "%.1f", 1);
        write_optional(out, "gflop", run->gflop_per_clip, "%.1f", 1);
        write_optional(out, "peak-rss", run->peak_rss_bytes, "%.0f MiB", 1.0 / (1 << 20));
        html_raw(out, "<td class=\"pareto\">%s</td></tr>\n",
                 run->pareto ? "&#9733; front" : run->clips_per_s >= 0 ? "" : "<span class=\"muted\">no speed</span>");
    }
    html_raw(out, "</tbody></table>\n");
    html_raw(out, "<p class=\"muted\">Intervals are 95%% Wilson score intervals on the %ld compared clips; the "
                  "mean-class interval uses Kish's effective sample size C&sup2;/&Sigma;(1/n<sub>c</sub>) over the "
                  "%d classes (",
             cmp->clips_common, cmp->num_classes);
    for (int r = 0; r < cmp->num_runs; r++)
        html_raw(out, "%s%c: %.1f", r ? ", " : "", run_letter(r), cmp->runs[r].mean_class.n);
    html_raw(out, " effective clips), equal to the clip count when classes are balanced. Speed, model time, "
                  "GFLOP and peak resident memory come from each run's summary.json (&ndash;: not recorded).</p>\n");
    html_raw(out, "<ul class=\"compare-notes\">");
    for (int r = 0; r < cmp->num_runs; r++) {
        const vb_compare_run *run = &cmp->runs[r];
        html_raw(out, "<li><b>%c</b>: %ld rows in its CSV; %ld clips of other runs absent (%ld of them skipped "
                      "per its summary); ", run_letter(r), run->csv_clips, run->absent, run->absent_skipped);
        if (run->truth_unmapped_classes < 0)
            html_raw(out, "label map unknown, so ground truths it cannot name are not detected.</li>");
        else
            html_raw(out, "%ld clips with a ground truth it has no class for (%d classes).</li>",
                     run->truth_unmapped_clips, run->truth_unmapped_classes);
    }
    html_raw(out, "</ul>\n");
}

/* Accuracy (top-1, with the Wilson interval as an error bar) against clips/s on a log axis;
 * the Pareto front joins the runs no other run beats on both. */
static void write_plot(FILE *out, const vb_compare *cmp)
{
    const int width = 560, height = 330, left = 56, right = 24, top = 20, bottom = 46;
    double low_speed = INFINITY, high_speed = 0;
    int plotted = 0;
    for (int r = 0; r < cmp->num_runs; r++)
        if (cmp->runs[r].clips_per_s > 0) {
            plotted++;
            low_speed = fmin(low_speed, cmp->runs[r].clips_per_s);
            high_speed = fmax(high_speed, cmp->runs[r].clips_per_s);
        }
    html_raw(out, "<figure class=\"compare-plot\"><svg class=\"chart accuracy-speed\" role=\"img\" width=\"%d\" "
                  "height=\"%d\" viewBox=\"0 0 %d %d\"><title>top-1 accuracy against clips per second</title>",
             width, height, width, height);
    const double plot_w = width - left - right, plot_h = height - top - bottom;
    html_raw(out, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"></line>", left, height - bottom,
             width - right, height - bottom);
    html_raw(out, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"></line>", left, top, left,
             height - bottom);
    for (int tick = 0; tick <= 100; tick += 25) {
        double y = top + plot_h * (1 - tick / 100.0);
        html_raw(out, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"></line>"
                      "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d%%</text>",
                 left, y, width - right, y, left - 6, y + 4, tick);
    }
    html_raw(out, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">clips per second (log scale), "
                  "from each summary.json</text>", left + (int)plot_w / 2, height - 8);
    html_raw(out, "<text class=\"tick\" x=\"14\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 14 %d)\">"
                  "top-1 accuracy (95%% CI)</text>", top + (int)plot_h / 2, top + (int)plot_h / 2);
    if (plotted == 0) {
        html_raw(out, "<text class=\"muted\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">no run recorded its speed"
                      "</text></svg></figure>\n", width / 2, height / 2);
        return;
    }
    /* Log axis padded by a quarter decade each side so single points are not on the frame. */
    double log_low = log10(low_speed) - 0.25, log_high = log10(high_speed) + 0.25;
    html_raw(out, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"start\">%.3g</text>"
                  "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%.3g</text>",
             left, height - bottom + 14, pow(10, log_low), width - right, height - bottom + 14, pow(10, log_high));
    double xs[VB_COMPARE_MAX_RUNS], ys[VB_COMPARE_MAX_RUNS];
    for (int r = 0; r < cmp->num_runs; r++) {
        const vb_compare_run *run = &cmp->runs[r];
        if (!(run->clips_per_s > 0))
            continue;
        xs[r] = left + plot_w * (log10(run->clips_per_s) - log_low) / (log_high - log_low);
        ys[r] = top + plot_h * (1 - fmax(0, run->top1.value));
    }
    /* Front: its runs ordered by speed, joined left to right. */
    int front[VB_COMPARE_MAX_RUNS], front_count = 0;
    for (int r = 0; r < cmp->num_runs; r++)
        if (cmp->runs[r].pareto)
            front[front_count++] = r;
    for (int i = 1; i < front_count; i++)
        for (int j = i; j > 0 && xs[front[j]] < xs[front[j - 1]]; j--) {
            int t = front[j];
            front[j] = front[j - 1];
            front[j - 1] = t;
        }
    if (front_count > 1) {
        html_raw(out, "<polyline class=\"pareto-front\" points=\"");
        for (int i = 0; i < front_count; i++)
            html_raw(out, "%s%.1f,%.1f", i ? " " : "", xs[front[i]], ys[front[i]]);
        html_raw(out, "\"></polyline>");
    }
    for (int r = 0; r < cmp->num_runs; r++) {
        const vb_compare_run *run = &cmp->runs[r];
        if (!(run->clips_per_s > 0))
            continue;
        double y_low = top + plot_h * (1 - run->top1.low), y_high = top + plot_h * (1 - run->top1.high);
        html_raw(out, "<g class=\"run-point %s\"><title>", run->pareto ? "on-front" : "dominated");
        html_raw(out, "%c: ", run_letter(r));
        html_text(out, run->label);
        html_raw(out, " &mdash; top-1 %.2f%%, %.2f clips/s</title>", 100 * run->top1.value, run->clips_per_s);
        html_raw(out, "<line class=\"ci\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"></line>", xs[r], y_low, xs[r],
                 y_high);
        html_raw(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\"></circle>", xs[r], ys[r]);
        html_raw(out, "<text class=\"point-label\" x=\"%.1f\" y=\"%.1f\">%c</text></g>", xs[r] + 9, ys[r] - 6,
                 run_letter(r));
    }
    html_raw(out, "</svg><figcaption class=\"muted\">One point per run; &#9733; filled points form the Pareto "
                  "front (no other run is both at least as fast and at least as accurate). Vertical bars: 95%% "
                  "Wilson interval of top-1.%s</figcaption></figure>\n",
             plotted < cmp->num_runs ? " Runs without a recorded speed are not drawn." : "");
}

static void write_pairs(FILE *out, const vb_report *report, const vb_compare *cmp)
{
    html_raw(out, "<h3>Pairs: agreement and McNemar's test</h3>\n<table class=\"compare-pairs\"><thead><tr>"
                  "<th>pair</th><th class=\"num\">top-1 agreement</th><th class=\"num\">both right</th>"
                  "<th class=\"num\">only first right</th><th class=\"num\">only second right</th>"
                  "<th class=\"num\">both wrong</th><th class=\"num\">McNemar exact p</th></tr></thead><tbody>\n");
    for (int p = 0; p < cmp->num_pairs; p++) {
        const vb_compare_pair *pair = &cmp->pairs[p];
        html_raw(out, "<tr class=\"compare-pair\"><td>%c vs %c</td><td class=\"num agreement\">%.2f%% "
                      "<span class=\"muted\">(%ld/%ld)</span></td><td class=\"num\">%ld</td><td class=\"num\">%ld</td>"
                      "<td class=\"num\">%ld</td><td class=\"num\">%ld</td><td class=\"num mcnemar\">%.4g</td></tr>\n",
                 run_letter(pair->a), run_letter(pair->b), 100 * pair->agreement, pair->agree, cmp->clips_common,
                 pair->both_right, pair->a_only, pair->b_only, pair->both_wrong, pair->mcnemar_p);
    }
    html_raw(out, "</tbody></table>\n<p class=\"muted\">McNemar's test asks whether the two runs' error rates "
                  "differ, using only the clips exactly one of them gets right (exact binomial, two-sided). A small "
                  "p (say below 0.05) means the difference in top-1 is unlikely to be luck of these clips.</p>\n");
    for (int p = 0; p < cmp->num_pairs; p++) {
        const vb_compare_pair *pair = &cmp->pairs[p];
        char a = run_letter(pair->a), b = run_letter(pair->b);
        html_raw(out, "<h3>Where %c and %c disagree (%ld clip%s)</h3>\n", a, b, pair->num_disagree,
                 pair->num_disagree == 1 ? "" : "s");
        if (pair->num_disagree == 0) {
            html_raw(out, "<p class=\"note\">Same top-1 class on every compared clip.</p>\n");
            continue;
        }
        html_raw(out, "<table class=\"disagreements\" data-pair=\"%c%c\"><thead><tr><th>clip</th><th>ground truth</th>"
                      "<th>%c top-1</th><th>%c top-1</th></tr></thead><tbody>\n", a, b, a, b);
        for (long i = 0; i < pair->num_disagree && i < REPORT_MAX_DISAGREEMENTS; i++) {
            const vb_compare_clip *clip = &cmp->clips[pair->disagree[i]];
            const vb_report_clip *row = vb_report_clip_find(report, clip->video_id);
            html_raw(out, "<tr class=\"disagreement\"><td class=\"clip-name\">");
            if (row) {
                html_raw(out, "<a href=\"#clip-%d\">", (int)(row - report->clips));
                html_text(out, clip->video_id);
                html_raw(out, "</a>");
            } else {
                html_text(out, clip->video_id);
            }
            html_raw(out, "</td><td>");
            html_text(out, clip->truth);
            for (int k = 0; k < 2; k++) {
                int run = k ? pair->b : pair->a;
                html_raw(out, "</td><td class=\"prediction %s\">", clip->correct[run] ? "correct" : "wrong");
                html_text(out, clip->top1[run]);
            }
            html_raw(out, "</td></tr>\n");
        }
        html_raw(out, "</tbody></table>\n");
        if (pair->num_disagree > REPORT_MAX_DISAGREEMENTS)
            html_raw(out, "<p class=\"muted\">and %ld more (<code>vidbench compare --format json</code> lists "
                          "all).</p>\n", pair->num_disagree - REPORT_MAX_DISAGREEMENTS);
    }
}

static void write_classes(FILE *out, const vb_compare *cmp)
{
    html_raw(out, "<h3>Per class (top-1), largest difference first</h3>\n");
    if (cmp->num_classes > MAX_FOLDED_ROWS)
        html_raw(out, "<details><summary>%d classes</summary>", cmp->num_classes);
    html_raw(out, "<table class=\"compare-classes\"><thead><tr><th>class</th><th class=\"num\">clips</th>");
    for (int r = 0; r < cmp->num_runs; r++)
        html_raw(out, "<th class=\"num\">%c</th>", run_letter(r));
    html_raw(out, "<th class=\"num\">difference</th></tr></thead><tbody>\n");
    for (int c = 0; c < cmp->num_classes; c++) {
        const vb_compare_class *cls = &cmp->classes[c];
        html_raw(out, "<tr class=\"compare-class\"><td>");
        html_text(out, cls->label);
        html_raw(out, "</td><td class=\"num\">%ld</td>", cls->clips);
        for (int r = 0; r < cmp->num_runs; r++)
            html_raw(out, "<td class=\"num\">%.1f%%</td>", 100.0 * cls->correct[r] / cls->clips);
        html_raw(out, "<td class=\"num\">%.1f</td></tr>\n", 100 * cls->spread);
    }
    html_raw(out, "</tbody></table>%s\n", cmp->num_classes > MAX_FOLDED_ROWS ? "</details>" : "");

    html_raw(out, "<h3>Most confused pairs per run</h3>\n<div class=\"charts\">");
    for (int r = 0; r < cmp->num_runs; r++) {
        const vb_compare_run *run = &cmp->runs[r];
        html_raw(out, "<div><b>%c</b>", run_letter(r));
        if (run->num_confusions == 0) {
            html_raw(out, "<p class=\"note\">No wrong top-1 on the compared clips.</p></div>");
            continue;
        }
        html_raw(out, "<table class=\"confusions\"><thead><tr><th>ground truth</th><th>predicted as</th>"
                      "<th class=\"num\">clips</th></tr></thead><tbody>");
        for (int i = 0; i < run->num_confusions; i++) {
            html_raw(out, "<tr><td>");
            html_text(out, run->confusions[i].truth);
            html_raw(out, "</td><td class=\"prediction wrong\">");
            html_text(out, run->confusions[i].predicted);
            html_raw(out, "</td><td class=\"num\">%ld</td></tr>", run->confusions[i].count);
        }
        html_raw(out, "</tbody></table></div>");
    }
    html_raw(out, "</div>\n");
}

void write_compare(FILE *out, const vb_report *report)
{
    const vb_compare *cmp = report->compare;
    if (!cmp)
        return;
    html_raw(out, "<section id=\"compare\">\n<h2>Compare</h2>\n");
    html_raw(out, "<p>%d runs compared on <b id=\"compare-clips\">%ld</b> clips: those in every results CSV with "
                  "a ground truth every model has a class for (class names matched across label spaces, e.g. "
                  "Kinetics-400 names inside Kinetics-600). Of <span id=\"compare-union\">%ld</span> clips in all, "
                  "dropped: <span id=\"dropped-absent\">%ld</span> missing from at least one CSV, "
                  "<span id=\"dropped-no-truth\">%ld</span> without ground truth, "
                  "<span id=\"dropped-truth-differs\">%ld</span> whose CSVs name different ground truths, "
                  "<span id=\"dropped-unmapped\">%ld</span> whose ground truth some model has no class for.</p>\n",
             cmp->num_runs, cmp->clips_common, cmp->clips_union, cmp->dropped_absent, cmp->dropped_no_truth,
             cmp->dropped_truth_differs, cmp->dropped_unmapped);
    write_runs(out, cmp);
    write_plot(out, cmp);
    write_pairs(out, report, cmp);
    write_classes(out, cmp);
    html_raw(out, "</section>\n");
}
