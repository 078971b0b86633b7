/* The report page: one HTML5 file with inline CSS and SVG, no script, links relative to its
 * folder. Sections follow the seed notebook: dataset, video properties, sample clips with
 * predictions, frame resampling, evaluation. Every string from the model goes through
 * html_text; markup written with html_raw carries only our own text and numbers. */
#include "vidbench/report.h"
#include "vidbench/version.h"
#include "report/report_internal.h"
#include "common/fsutil.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHART_CLASSES 40
#define NUM_HISTOGRAM_BINS 10

static const char page_style[] =
    "*{box-sizing:border-box}"
    "body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "color:#1d2330;background:#f4f6f9}"
    "header{background:#1d2b45;color:#fff;padding:18px 32px}"
    "header h1{margin:0 0 4px;font-size:22px}"
    "header .inputs{margin:0;color:#c5d0e3;font-size:13px}"
    "nav{margin-top:10px}nav a{color:#fff;margin-right:16px;text-decoration:none;border-bottom:1px solid #7d8fb3}"
    "main{max-width:1240px;margin:0 auto;padding:8px 24px 40px}"
    "section{background:#fff;border:1px solid #dde3ec;border-radius:8px;margin:18px 0;padding:6px 22px 18px}"
    "h2{font-size:18px;margin:14px 0 10px}h3{font-size:15px;margin:16px 0 6px}"
    "table{border-collapse:collapse;margin:6px 0}"
    "th,td{border-bottom:1px solid #e4e8ef;padding:5px 10px;text-align:left;vertical-align:top}"
    "th{background:#f0f3f7;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".muted{color:#6b7587;fill:#6b7587}.note{color:#6b7587;font-style:italic}"
    ".cards{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0 4px}"
    ".card{border:1px solid #dde3ec;border-radius:8px;padding:8px 16px;min-width:150px;background:#fafbfd}"
    ".card .figure{display:block;font-size:26px;font-weight:700;color:#1d2b45}"
    ".card .caption{color:#6b7587;font-size:12px}"
    ".charts{display:flex;flex-wrap:wrap;gap:14px}figure{margin:0}"
    "svg.chart text{font-size:11px;fill:#1d2330}svg.chart .chart-title{font-size:12px;font-weight:600}"
    "svg.chart .bar{fill:#4a78c2}svg.chart .tick{fill:#6b7587;font-size:10px}svg.chart .axis{stroke:#9aa5b8}"
    "svg.topk .topk-truth .bar{fill:#2e7d32}svg.topk .topk-truth text{font-weight:700}"
    ".samples td{vertical-align:middle}"
    ".media{display:flex;flex-wrap:nowrap;gap:8px;align-items:center}"
    ".media .note{font-size:12px;max-width:220px;word-break:break-word}"
    "figure.histogram svg{display:block}"
    "video{width:200px;height:150px;background:#000;border-radius:4px}"
    "img.preview{width:112px;height:112px;border-radius:4px;image-rendering:auto}"
    ".clip-name{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:12px;word-break:break-all}"
    ".prediction.correct{color:#2e7d32;font-weight:600}"
    ".prediction.wrong{color:#c62828;font-weight:600}"
    ".frames{display:flex;flex-wrap:wrap;gap:6px;margin:4px 0 10px}"
    ".frames figure{text-align:center;font-size:11px;color:#6b7587}"
    ".frames img{width:64px;height:64px;display:block;border:3px solid transparent;border-radius:3px}"
    ".frames .dropped img{opacity:.3}.frames .repeated img{border-color:#e08a00}"
    ".frames .kept img{border-color:#4a78c2}"
    ".acc-bar{display:inline-block;height:9px;background:#4a78c2;border-radius:2px;vertical-align:middle}"
    "details{margin:6px 0}summary{cursor:pointer;color:#2b4f8a}"
    "ul.classes{columns:4;font-size:12px;margin:6px 0}"
    "tr:target{background:#fff3c4}tr:target td{border-bottom-color:#e0b400}"
    ".ci{font-size:12px}svg.accuracy-speed .grid{stroke:#eef1f5}"
    "svg.accuracy-speed .run-point circle{fill:#fff;stroke:#4a78c2;stroke-width:2}"
    "svg.accuracy-speed .run-point.on-front circle{fill:#4a78c2}"
    "svg.accuracy-speed .run-point line.ci{stroke:#9aa5b8;stroke-width:2}"
    "svg.accuracy-speed .point-label{font-weight:700;font-size:12px}"
    "svg.accuracy-speed .pareto-front{fill:none;stroke:#e08a00;stroke-width:2;stroke-dasharray:5 3}"
    ".compare-notes{font-size:13px;color:#3b4456}span.ci{white-space:nowrap}"
    "footer{text-align:center;color:#6b7587;font-size:12px;padding:10px}";

static void write_percent(FILE *out, double fraction)
{
    if (fraction >= 0)
        html_raw(out, "%.2f%%", 100.0 * fraction);
    else
        html_raw(out, "n/a");
}

static void write_count(FILE *out, long value)
{
    if (value >= 0)
        html_raw(out, "%ld", value);
    else
        html_raw(out, "&ndash;");
}

static void write_header(FILE *out, const vb_report *report)
{
    html_raw(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    /* No script may run and nothing outside the page's own folder tree is fetched, even if
     * a file name or label slipped past escaping. */
    html_raw(out, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                  "img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'\">\n");
    html_raw(out, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    html_raw(out, "<link rel=\"icon\" href=\"data:,\">\n<title>");
    html_text(out, report->title);
    html_raw(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<header>\n<h1>", page_style);
    html_text(out, report->title);
    html_raw(out, "</h1>\n<p class=\"inputs\">");
    int any = 0;
    const struct { const char *label, *value; } inputs[] = {
        {"results", report->results_name},
        {"summary", report->summary_name},
        {"data", report->data_name},
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        if (!inputs[i].value)
            continue;
        html_raw(out, "%s%s: <span class=\"clip-name\">", any ? " &middot; " : "", inputs[i].label);
        html_text(out, inputs[i].value);
        html_raw(out, "</span>");
        any = 1;
    }
    html_raw(out, "%s%d clips</p>\n", any ? " &middot; " : "", report->num_clips);
    html_raw(out, "<nav><a href=\"#dataset\">Dataset</a><a href=\"#properties\">Video properties</a>"
                  "<a href=\"#samples\">Sample clips</a><a href=\"#resampling\">Frame resampling</a>"
                  "<a href=\"#evaluation\">Evaluation</a>%s</nav>\n</header>\n<main>\n",
             report->compare ? "<a href=\"#compare\">Compare</a>" : "");
}

static void write_dataset(FILE *out, const vb_report *report)
{
    const vb_report_dataset *data = &report->dataset;
    html_raw(out, "<section id=\"dataset\">\n<h2>Dataset</h2>\n");
    if (data->num_splits > 0) {
        html_raw(out, "<table class=\"splits\"><thead><tr><th>version</th><th>split</th><th class=\"num\">in annotations</th>"
                      "<th class=\"num\">partitions</th><th class=\"num\">downloaded</th><th class=\"num\">prepared</th>"
                      "<th class=\"num\">bad</th></tr></thead><tbody>\n");
        for (int i = 0; i < data->num_splits; i++) {
            const vb_report_split_row *row = &data->splits[i];
            html_raw(out, "<tr><td>");
            html_text(out, row->version);
            html_raw(out, "</td><td>");
            html_text(out, row->split);
            html_raw(out, "</td><td class=\"num\">");
            write_count(out, row->annotated);
            html_raw(out, "</td><td class=\"num\">%d / %d</td><td class=\"num\">", row->partitions_done,
                     row->partitions_total);
            write_count(out, row->downloaded);
            html_raw(out, "</td><td class=\"num\">");
            write_count(out, row->prepared);
            html_raw(out, "</td><td class=\"num\">");
            write_count(out, row->bad);
            html_raw(out, "</td></tr>\n");
        }
        html_raw(out, "</tbody></table>\n");
    } else {
        html_raw(out, "<p class=\"note\">No dataset state was given (vidbench report --data-dir DIR shows "
                      "per split counts from the annotations, downloaded, prepared and bad clips).</p>\n");
    }

    html_raw(out, "<h3>Class distribution</h3>\n");
    if (data->num_classes == 0) {
        html_raw(out, "<p class=\"note\">No labelled clips.</p>\n");
    } else {
        long total = 0;
        for (int i = 0; i < data->num_classes; i++)
            total += data->classes[i].count;
        html_raw(out, "<p>%ld clips in %d classes (", total, data->num_classes);
        html_text(out, data->classes_source);
        html_raw(out, ")%s.</p>\n", data->num_classes > MAX_CHART_CLASSES ? "; the chart shows the most frequent" : "");
        int shown = data->num_classes < MAX_CHART_CLASSES ? data->num_classes : MAX_CHART_CLASSES;
        chart_bar *bars = malloc((size_t)shown * sizeof *bars);
        if (bars) {
            for (int i = 0; i < shown; i++)
                bars[i] = (chart_bar){data->classes[i].label, (double)data->classes[i].count};
            svg_bar_chart(out, "clips per class", bars, shown, "%.0f", 0, 720);
            free(bars);
        }
        if (data->num_classes > shown) {
            html_raw(out, "<details><summary>all %d classes</summary><table><thead><tr><th>class</th>"
                          "<th class=\"num\">clips</th></tr></thead><tbody>", data->num_classes);
            for (int i = 0; i < data->num_classes; i++) {
                html_raw(out, "<tr><td>");
                html_text(out, data->classes[i].label);
                html_raw(out, "</td><td class=\"num\">%ld</td></tr>", data->classes[i].count);
            }
            html_raw(out, "</tbody></table></details>\n");
        }
    }
    if (data->label_map_count > 0) {
        html_raw(out, "<h3>Classes missing locally</h3>\n<p id=\"missing-classes\">%d of the %d classes of ",
                 data->num_missing_classes, data->label_map_count);
        html_raw(out, "<span class=\"clip-name\">");
        html_text(out, data->label_map_name);
        html_raw(out, "</span> have no local clip.</p>\n");
        if (data->num_missing_classes > 0) {
            html_raw(out, "<details><summary>list them</summary><ul class=\"classes\">");
            for (int i = 0; i < data->num_missing_classes; i++) {
                html_raw(out, "<li>");
                html_text(out, data->missing_classes[i]);
                html_raw(out, "</li>");
            }
            html_raw(out, "</ul></details>\n");
        }
    }
    html_raw(out, "</section>\n");
}

static int compare_resolution_bars(const void *a, const void *b)
{
    const chart_bar *x = a, *y = b;
    if (x->value != y->value)
        return x->value > y->value ? -1 : 1;
    return strcmp(x->label, y->label);
}

static void write_resolution_chart(FILE *out, const vb_report *report)
{
    /* Distinct display sizes (rotation applied) with their counts, most common first. */
    enum { MAX_SIZES = 12 };
    char (*names)[32] = calloc((size_t)report->num_clips + 1, sizeof *names);
    chart_bar *bars = calloc((size_t)report->num_clips + 1, sizeof *bars);
    if (!names || !bars) {
        free(names);
        free(bars);
        return;
    }
    int count = 0;
    for (int i = 0; i < report->num_clips; i++) {
        const vb_report_clip *clip = &report->clips[i];
        if (!clip->has_info)
            continue;
        int swap = clip->info.rotation_degrees == 90 || clip->info.rotation_degrees == 270;
        char name[32];
        snprintf(name, sizeof name, "%dx%d", swap ? clip->info.height : clip->info.width,
                 swap ? clip->info.width : clip->info.height);
        int found = -1;
        for (int j = 0; j < count; j++)
            if (!strcmp(names[j], name))
                found = j;
        if (found < 0) {
            found = count++;
            memcpy(names[found], name, sizeof name);
            bars[found] = (chart_bar){names[found], 0};
        }
        bars[found].value++;
    }
    qsort(bars, (size_t)count, sizeof *bars, compare_resolution_bars);
    html_raw(out, "<figure class=\"histogram\"><svg class=\"chart\" width=\"300\" height=\"20\"><text class=\"chart-title\" "
                  "x=\"150\" y=\"14\" text-anchor=\"middle\">resolution (width x height)</text></svg>");
    if (count == 0)
        html_raw(out, "<p class=\"muted\">no data</p>");
    else
        svg_bar_chart(out, "clips per resolution", bars, count < MAX_SIZES ? count : MAX_SIZES, "%.0f", 0, 300);
    html_raw(out, "</figure>\n");
    free(names);
    free(bars);
}

static void write_properties(FILE *out, const vb_report *report)
{
    html_raw(out, "<section id=\"properties\">\n<h2>Video properties</h2>\n");
    int probed = 0, failed = 0;
    for (int i = 0; i < report->num_clips; i++) {
        probed += report->clips[i].has_info;
        failed += report->clips[i].probe_note != NULL;
    }
    if (probed == 0 && failed == 0) {
        html_raw(out, "<p class=\"note\">No local clips were probed (give --videos or --data-dir).</p>\n</section>\n");
        return;
    }
    html_raw(out, "<p>%d local clips probed%s", probed, failed ? ", " : ".");
    if (failed)
        html_raw(out, "%d could not be read (reasons in the table below).", failed);
    html_raw(out, "</p>\n");
    double *values = probed ? malloc(((size_t)report->num_clips + 1) * sizeof *values) : NULL;
    if (values)
        html_raw(out, "<div class=\"charts\">\n");
    if (values) {
        const char *titles[] = {"frame count", "frame rate", "duration"};
        const char *units[] = {"frames", "frames per second", "seconds"};
        for (int chart = 0; chart < 3; chart++) {
            int n = 0;
            for (int i = 0; i < report->num_clips; i++) {
                const vb_report_clip *clip = &report->clips[i];
                if (!clip->has_info)
                    continue;
                double value = chart == 0 ? (clip->info.frame_count >= 0 ? (double)clip->info.frame_count : NAN)
                             : chart == 1 ? (clip->info.fps > 0 ? clip->info.fps : NAN)
                                          : (clip->info.duration_seconds > 0 ? clip->info.duration_seconds : NAN);
                values[n++] = value;
            }
            svg_histogram(out, titles[chart], units[chart], values, n, NUM_HISTOGRAM_BINS);
            if (chart == 0)
                write_resolution_chart(out, report);
        }
        free(values);
        html_raw(out, "</div>\n");
    }
    html_raw(out, "<h3>Properties of the sample clips</h3>\n<table class=\"properties\"><thead><tr><th>clip</th><th>codec</th>"
                  "<th class=\"num\">size</th><th class=\"num\">rotation</th><th class=\"num\">fps</th>"
                  "<th class=\"num\">frames</th><th class=\"num\">duration</th></tr></thead><tbody>\n");
    for (int s = 0; s < report->num_sample; s++) {
        const vb_report_clip *clip = &report->clips[report->sample[s]];
        if (!clip->video_path)
            continue;
        html_raw(out, "<tr><td class=\"clip-name\">");
        html_text(out, clip->video_id);
        if (!clip->has_info) {
            html_raw(out, "</td><td colspan=\"6\" class=\"note\">not probed: ");
            html_text(out, clip->probe_note ? clip->probe_note : "probing was switched off");
            html_raw(out, "</td></tr>\n");
            continue;
        }
        html_raw(out, "</td><td>");
        html_text(out, clip->info.codec);
        html_raw(out, " / ");
        html_text(out, clip->info.pixel_format);
        html_raw(out, "</td><td class=\"num\">%dx%d</td><td class=\"num\">%d&deg;</td><td class=\"num\">%.2f</td>"
                      "<td class=\"num\">",
                 clip->info.width, clip->info.height, clip->info.rotation_degrees, clip->info.fps);
        write_count(out, (long)clip->info.frame_count);
        html_raw(out, "</td><td class=\"num\">%.2f s</td></tr>\n", clip->info.duration_seconds);
    }
    html_raw(out, "</tbody></table>\n</section>\n");
}

static void write_samples(FILE *out, const vb_report *report)
{
    html_raw(out, "<section id=\"samples\">\n<h2>Sample clips</h2>\n");
    if (report->num_sample == 0) {
        html_raw(out, "<p class=\"note\">No clips to show.</p>\n</section>\n");
        return;
    }
    html_raw(out, "<p>%d of %d clips. The player shows the local file; the animated preview shows the frames "
                  "the model sees (its crop and temporal sampling, at preview resolution).",
             report->num_sample, report->num_clips);
    if (report->evaluation.present)
        html_raw(out, " Top-1 predictions are <span class=\"prediction correct\">green when right</span> and "
                      "<span class=\"prediction wrong\">red when wrong</span>; the ground truth's bar is green.");
    html_raw(out, "</p>\n<table class=\"samples\"><thead><tr><th>#</th><th>clip</th><th>ground truth</th>"
                  "<th>top-1 prediction</th><th>top-k probabilities</th></tr></thead><tbody>\n");
    for (int s = 0; s < report->num_sample; s++) {
        const vb_report_clip *clip = &report->clips[report->sample[s]];
        /* The id is the clip's index, not its name: names are untrusted and may repeat after escaping. */
        html_raw(out, "<tr class=\"sample\" id=\"clip-%d\"><td class=\"num\">%d</td><td><div class=\"clip-name\">",
                 report->sample[s], s + 1);
        html_text(out, clip->video_id);
        html_raw(out, "</div><div class=\"media\">");
        if (clip->video_href) {
            html_raw(out, "<video controls muted preload=\"metadata\" src=\"");
            html_text(out, clip->video_href);
            if (clip->preview_href) {
                html_raw(out, "\" poster=\"");
                html_text(out, clip->preview_href);
            }
            html_raw(out, "\"></video>");
        } else {
            html_raw(out, "<span class=\"note\">no local file</span>");
        }
        if (clip->preview_href) {
            html_raw(out, "<img class=\"preview\" alt=\"frames the model sees\" src=\"");
            html_text(out, clip->preview_href);
            html_raw(out, "\">");
        } else if (clip->preview_note) {
            html_raw(out, "<span class=\"note preview-note\">no preview: ");
            html_text(out, clip->preview_note);
            html_raw(out, "</span>");
        }
        if (clip->bad_reason) {
            html_raw(out, "<span class=\"note\">known bad: ");
            html_text(out, clip->bad_reason);
            html_raw(out, "</span>");
        }
        html_raw(out, "</div></td><td class=\"truth\">");
        html_text(out, clip->label ? clip->label : "unknown");
        html_raw(out, "</td>");
        if (clip->num_predictions > 0) {
            int correct = clip->label && !strcmp(clip->label, clip->pred_labels[0]);
            html_raw(out, "<td class=\"prediction %s\" data-correct=\"%d\">", correct ? "correct" : "wrong", correct);
            html_text(out, clip->pred_labels[0]);
            html_raw(out, " <span class=\"muted\">(%.1f%%)</span></td><td>", 100.0 * clip->pred_scores[0]);
            svg_topk(out, clip->pred_labels, clip->pred_scores, clip->num_predictions, clip->label);
            html_raw(out, "</td></tr>\n");
        } else {
            html_raw(out, "<td class=\"note\">not evaluated</td><td></td></tr>\n");
        }
    }
    html_raw(out, "</tbody></table>\n</section>\n");
}

static void write_frame_row(FILE *out, const vb_report_resampling *figure, const int *indices, int count,
                            int kind /* 0 source, 1 down, 2 up */)
{
    html_raw(out, "<div class=\"frames\">");
    for (int i = 0; i < count; i++) {
        int source = indices ? indices[i] : i;
        const char *state = "";
        if (kind == 0) {
            int used = 0;
            for (int k = 0; k < figure->down_count; k++)
                used |= figure->down_indices[k] == i;
            state = used ? "kept" : "dropped";
        } else if (kind == 2) {
            state = (i > 0 && indices[i - 1] == source) ? "repeated" : "";
        }
        html_raw(out, "<figure class=\"%s\"><img alt=\"frame %d\" src=\"", state, source);
        html_text(out, figure->source_hrefs[source]);
        html_raw(out, "\"><figcaption>%s%d</figcaption></figure>", kind == 0 ? "frame " : "&larr; ", source);
    }
    html_raw(out, "</div>\n");
}

static void write_resampling(FILE *out, const vb_report *report)
{
    const vb_report_resampling *figure = &report->resampling;
    html_raw(out, "<section id=\"resampling\">\n<h2>Frame resampling</h2>\n");
    html_raw(out, "<p>Clips differ in length, the model takes a fixed number of frames. The seed's rule keeps "
                  "output frame <i>i</i> = source frame &lfloor;<i>i</i> &middot; count / <i>n</i>&rfloor;: "
                  "fewer frames drop some, more frames repeat some.</p>\n");
    if (!figure->present) {
        html_raw(out, "<p class=\"note\">No figure: ");
        html_text(out, figure->note ? figure->note : "no local clip was given");
        html_raw(out, "</p>\n</section>\n");
        return;
    }
    html_raw(out, "<p>%d frames of <span class=\"clip-name\">", figure->source_count);
    html_text(out, figure->clip_name);
    html_raw(out, "</span> (sampled from its %d decoded frames with the same rule).</p>\n", figure->decoded_frames);
    html_raw(out, "<h3>Source: %d frames (dimmed: dropped when downsampling)</h3>\n", figure->source_count);
    write_frame_row(out, figure, NULL, figure->source_count, 0);
    html_raw(out, "<h3>Downsampled to %d frames</h3>\n", figure->down_count);
    write_frame_row(out, figure, figure->down_indices, figure->down_count, 1);
    html_raw(out, "<h3>Upsampled to %d frames (orange: repeated)</h3>\n", figure->up_count);
    write_frame_row(out, figure, figure->up_indices, figure->up_count, 2);
    int num_frames = report->evaluation.num_frames;
    if (num_frames > 0 && figure->decoded_frames > 0) {
        int shown = num_frames < 12 ? num_frames : 12;
        int *indices = malloc((size_t)num_frames * sizeof *indices);
        if (indices) {
            vb_resample_indices(figure->decoded_frames, num_frames, indices);
            html_raw(out, "<p>For the evaluation's %d frames this clip gives source frames ", num_frames);
            for (int i = 0; i < shown; i++)
                html_raw(out, "%s%d", i ? ", " : "", indices[i]);
            html_raw(out, "%s</p>\n", shown < num_frames ? ", &hellip;" : ".");
            free(indices);
        }
    }
    html_raw(out, "</section>\n");
}

static void write_card(FILE *out, const char *id, const char *caption, double fraction)
{
    html_raw(out, "<div class=\"card\"><span class=\"figure\" id=\"%s\">", id);
    write_percent(out, fraction);
    html_raw(out, "</span><span class=\"caption\">%s</span></div>", caption);
}

static void write_evaluation(FILE *out, const vb_report *report)
{
    const vb_report_evaluation *ev = &report->evaluation;
    html_raw(out, "<section id=\"evaluation\">\n<h2>Evaluation</h2>\n");
    if (!ev->present) {
        html_raw(out, "<p class=\"note\">No evaluation results were given (--results CSV, --summary JSON).</p>\n"
                      "</section>\n");
        return;
    }
    html_raw(out, "<p>");
    if (ev->model) {
        html_raw(out, "Model <b>");
        html_text(out, ev->model);
        html_raw(out, "</b>; ");
    }
    html_raw(out, "<span id=\"evaluated-count\">%ld</span> clips evaluated", ev->evaluated);
    if (ev->skipped >= 0)
        html_raw(out, ", <span id=\"skipped-count\">%ld</span> skipped", ev->skipped);
    html_raw(out, " (figures from the ");
    html_text(out, ev->source);
    html_raw(out, ").</p>\n<div class=\"cards\">");
    write_card(out, "top1-accuracy", "top-1 accuracy", ev->top1);
    char caption[48];
    snprintf(caption, sizeof caption, "top-%d accuracy", ev->top_n > 0 ? ev->top_n : 5);
    write_card(out, "topn-accuracy", caption, ev->topn);
    write_card(out, "mean-class-accuracy", "mean class accuracy", ev->mean_class_accuracy);
    html_raw(out, "</div>\n");
    if (ev->num_skipped_clips > 0) {
        html_raw(out, "<details class=\"skipped\"><summary>%d skipped clips and why</summary><table><thead><tr>"
                      "<th>clip</th><th>reason</th></tr></thead><tbody>\n", ev->num_skipped_clips);
        for (int i = 0; i < ev->num_skipped_clips; i++) {
            html_raw(out, "<tr><td class=\"clip-name\">");
            html_text(out, ev->skipped_clips[i].clip_id);
            html_raw(out, "</td><td>");
            html_text(out, ev->skipped_clips[i].reason ? ev->skipped_clips[i].reason : "");
            html_raw(out, "</td></tr>\n");
        }
        html_raw(out, "</tbody></table></details>\n");
    }

    if (ev->num_classes > 0) {
        html_raw(out, "<h3>Per-class accuracy (top-1)</h3>\n");
        /* Long tables fold away so the confusions and timing stay in view. */
        if (ev->num_classes > 20)
            html_raw(out, "<details><summary>%d classes</summary>", ev->num_classes);
        html_raw(out, "<table class=\"per-class\"><thead><tr><th>class</th>"
                      "<th class=\"num\">clips</th><th class=\"num\">correct</th><th class=\"num\">accuracy</th><th></th>"
                      "</tr></thead><tbody>\n");
        for (int i = 0; i < ev->num_classes; i++) {
            const vb_report_class_accuracy *row = &ev->classes[i];
            double accuracy = row->total > 0 ? (double)row->correct / row->total : 0;
            html_raw(out, "<tr><td>");
            html_text(out, row->label);
            if (row->not_in_model)
                html_raw(out, " <span class=\"muted\">(not a class of the model)</span>");
            html_raw(out, "</td><td class=\"num\">%d</td><td class=\"num\">%d</td><td class=\"num\">%.1f%%</td>"
                          "<td><span class=\"acc-bar\" style=\"width:%dpx\"></span></td></tr>\n",
                     row->total, row->correct, 100 * accuracy, (int)lround(accuracy * 120));
        }
        html_raw(out, "</tbody></table>%s\n", ev->num_classes > 20 ? "</details>" : "");
    }
    html_raw(out, "<h3>Most confused pairs</h3>\n");
    if (ev->num_confusions == 0) {
        html_raw(out, "<p class=\"note\">No confusions.</p>\n");
    } else {
        html_raw(out, "<table class=\"confusions\"><thead><tr><th>ground truth</th><th>predicted as</th>"
                      "<th class=\"num\">clips</th></tr></thead><tbody>\n");
        for (int i = 0; i < ev->num_confusions; i++) {
            html_raw(out, "<tr><td>");
            html_text(out, ev->confusions[i].truth);
            html_raw(out, "</td><td class=\"prediction wrong\">");
            html_text(out, ev->confusions[i].predicted);
            html_raw(out, "</td><td class=\"num\">%d</td></tr>\n", ev->confusions[i].count);
        }
        html_raw(out, "</tbody></table>\n");
    }
    html_raw(out, "<h3>Time per stage</h3>\n");
    if (ev->num_stages == 0) {
        html_raw(out, "<p class=\"note\">No timing (it comes from summary.json).</p>\n");
    } else {
        chart_bar bars[32];
        int n = ev->num_stages < 32 ? ev->num_stages : 32;
        for (int i = 0; i < n; i++)
            bars[i] = (chart_bar){ev->stages[i].name, ev->stages[i].ms};
        svg_bar_chart(out, "milliseconds per stage", bars, n, "%.0f ms", 0, 600);
        if (ev->evaluated > 0) {
            html_raw(out, "<p class=\"muted\">per clip: ");
            for (int i = 0; i < n; i++) {
                html_raw(out, "%s", i ? ", " : "");
                html_text(out, ev->stages[i].name);
                html_raw(out, " %.1f ms", ev->stages[i].ms / ev->evaluated);
            }
            html_raw(out, "</p>\n");
        }
    }
    html_raw(out, "</section>\n");
}

int vb_report_write_html(const vb_report *report, const char *path, vb_error *err)
{
    fs_atomic_file file;
    int rc = fs_atomic_open(&file, path, err);
    if (rc)
        return rc;
    FILE *out = file.fp;
    write_header(out, report);
    write_dataset(out, report);
    write_properties(out, report);
    write_samples(out, report);
    write_resampling(out, report);
    write_evaluation(out, report);
    write_compare(out, report);
    html_raw(out, "</main>\n<footer>written by vidbench %s &middot; no script, no network: links are relative to "
                  "this page's folder</footer>\n</body>\n</html>\n", VB_VERSION_STRING);
    if (ferror(out)) {
        int saved = errno; /* of the last failed write, as near as stdio lets us know */
        fs_atomic_abort(&file);
        return vb_error_set(err, fs_write_error_code(saved), "%s: write failed: %s", path, strerror(saved));
    }
    return fs_atomic_commit(&file, err);
}
