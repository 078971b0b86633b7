/* vidbench compare: several evaluation runs side by side in the terminal (table, CSV or
 * JSON). Everything is computed by vb_compare_load; this verb parses and prints. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidbench/compare.h"

#define MAX_TABLE_DISAGREEMENTS 10
#define MAX_TABLE_CLASSES 15

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vidbench compare RESULTS.csv RESULTS.csv... [--format table|csv|json]\n"
            "\n"
            "Compares evaluation runs (seed-format CSVs, each with the summary.json that\n"
            "vidbench evaluate wrote beside it) on the clips every run evaluated whose\n"
            "ground truth every model has a class for (Kinetics-400 names are matched inside\n"
            "Kinetics-600). Prints per run: top-1, top-5 and mean-class accuracy with 95%%\n"
            "Wilson intervals, clips/s, model ms/clip, GFLOP/clip and peak RSS from the\n"
            "summaries; per pair: top-1 agreement, McNemar's exact test and the clips where\n"
            "the top-1 differs; per class: accuracy side by side, largest difference first.\n"
            "`vidbench report --results A.csv --results B.csv` shows the same as a page.\n"
            "\n"
            "  --format table   (default) human-readable\n"
            "  --format csv     one row per run, then one row per pair\n"
            "  --format json    everything, including every disagreement and class\n");
}

static void print_percent(double fraction)
{
    if (fraction >= 0)
        printf("%.1f%%", 100 * fraction);
    else
        printf("n/a");
}

static void print_rate(const char *name, const vb_compare_rate *rate, const char *unit)
{
    printf("  %-11s ", name);
    print_percent(rate->value);
    printf(" [%.1f, %.1f] on %.*f %s\n", 100 * rate->low, 100 * rate->high, rate->n == (long)rate->n ? 0 : 1,
           rate->n, unit);
}

static void print_optional(const char *name, double value, const char *format, double scale)
{
    printf("  %-11s ", name);
    if (value >= 0)
        printf(format, value * scale);
    else
        printf("unknown");
    printf("\n");
}

static void print_table(const vb_compare *cmp)
{
    printf("compared on %ld clips: in all %d CSVs with a ground truth every model has a class for "
           "(of %ld clips; dropped: %ld missing from a CSV, %ld without ground truth, %ld with different "
           "ground truths, %ld whose ground truth a model has no class for)\n",
           cmp->clips_common, cmp->num_runs, cmp->clips_union, cmp->dropped_absent, cmp->dropped_no_truth,
           cmp->dropped_truth_differs, cmp->dropped_unmapped);
    char topk_name[32];
    snprintf(topk_name, sizeof topk_name, "top-%d", cmp->top_k);
    for (int r = 0; r < cmp->num_runs; r++) {
        const vb_compare_run *run = &cmp->runs[r];
        printf("\n[%c] %s%s\n", 'A' + r, run->label, run->pareto ? "  (Pareto front)" : "");
        printf("  %-11s %s (%ld rows; %ld of the other runs' clips absent, %ld of them skipped per its summary)\n",
               "results", run->csv_path, run->csv_clips, run->absent, run->absent_skipped);
        print_rate("top-1", &run->top1, "clips");
        print_rate(topk_name, &run->topk, "clips");
        print_rate("mean-class", &run->mean_class, "effective clips");
        print_optional("clips/s", run->clips_per_s, "%.2f", 1);
        print_optional("model", run->model_ms_per_clip, "%.1f ms/clip", 1);
        print_optional("GFLOP/clip", run->gflop_per_clip, "%.1f", 1);
        print_optional("peak RSS", run->peak_rss_bytes, "%.1f MiB", 1.0 / (1 << 20));
        if (run->truth_unmapped_classes < 0)
            printf("  %-11s label map unknown: ground truths it cannot name are not counted\n", "classes");
        else
            printf("  %-11s %ld clips (%d classes) have a ground truth it has no class for\n", "unmapped",
                   run->truth_unmapped_clips, run->truth_unmapped_classes);
        for (int i = 0; i < run->num_confusions && i < 5; i++)
            printf("  %-11s %ld x %s -> %s\n", i ? "" : "confused", run->confusions[i].count,
                   run->confusions[i].truth, run->confusions[i].predicted);
    }
    for (int p = 0; p < cmp->num_pairs; p++) {
        const vb_compare_pair *pair = &cmp->pairs[p];
        char a = (char)('A' + pair->a), b = (char)('A' + pair->b);
        printf("\n%c vs %c: top-1 agreement ", a, b);
        print_percent(pair->agreement);
        printf(" (%ld of %ld clips); right: both %ld, only %c %ld, only %c %ld, neither %ld; "
               "McNemar exact p = %.4g\n", pair->agree, cmp->clips_common, pair->both_right, a, pair->a_only, b,
               pair->b_only, pair->both_wrong, pair->mcnemar_p);
        for (long i = 0; i < pair->num_disagree && i < MAX_TABLE_DISAGREEMENTS; i++) {
            const vb_compare_clip *clip = &cmp->clips[pair->disagree[i]];
            printf("  %s (truth %s): %c %s%s, %c %s%s\n", clip->video_id, clip->truth, a, clip->top1[pair->a],
                   clip->correct[pair->a] ? " (right)" : "", b, clip->top1[pair->b],
                   clip->correct[pair->b] ? " (right)" : "");
        }
        if (pair->num_disagree > MAX_TABLE_DISAGREEMENTS)
            printf("  ... and %ld more (--format json lists them all)\n", pair->num_disagree - MAX_TABLE_DISAGREEMENTS);
    }
    printf("\nper class, top-1, largest difference first:\n");
    for (int c = 0; c < cmp->num_classes && c < MAX_TABLE_CLASSES; c++) {
        const vb_compare_class *cls = &cmp->classes[c];
        printf("  %-40s %4ld clips", cls->label, cls->clips);
        for (int r = 0; r < cmp->num_runs; r++)
            printf("  %c %5.1f%%", 'A' + r, 100.0 * cls->correct[r] / cls->clips);
        printf("\n");
    }
    if (cmp->num_classes > MAX_TABLE_CLASSES)
        printf("  ... and %d more classes\n", cmp->num_classes - MAX_TABLE_CLASSES);
}

/* RFC 4180: quote a field holding a comma, quote or line break. */
static void csv_field(const char *text)
{
    if (!text)
        return;
    if (!strpbrk(text, ",\"\r\n")) {
        fputs(text, stdout);
        return;
    }
    putchar('"');
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            putchar('"');
        putchar(*p);
    }
    putchar('"');
}

static void csv_number(double value)
{
    if (value >= 0)
        printf(",%.6g", value);
    else
        printf(",");
}

static void print_csv(const vb_compare *cmp)
{
    printf("run,label,csv,clips,top1,top1_low,top1_high,topk,topk_low,topk_high,mean_class,mean_class_low,"
           "mean_class_high,clips_per_s,model_ms_per_clip,gflop_per_clip,peak_rss_bytes,pareto\n");
    for (int r = 0; r < cmp->num_runs; r++) {
        const vb_compare_run *run = &cmp->runs[r];
        printf("%c,", 'A' + r);
        csv_field(run->label);
        putchar(',');
        csv_field(run->csv_path);
        printf(",%ld", cmp->clips_common);
        const vb_compare_rate *rates[] = {&run->top1, &run->topk, &run->mean_class};
        for (int i = 0; i < 3; i++) {
            csv_number(rates[i]->value);
            printf(",%.6g,%.6g", rates[i]->low, rates[i]->high);
        }
        csv_number(run->clips_per_s);
        csv_number(run->model_ms_per_clip);
        csv_number(run->gflop_per_clip);
        csv_number(run->peak_rss_bytes);
        printf(",%d\n", run->pareto);
    }
    printf("\npair,agree,agreement,both_right,a_only_right,b_only_right,both_wrong,mcnemar_p\n");
    for (int p = 0; p < cmp->num_pairs; p++) {
        const vb_compare_pair *pair = &cmp->pairs[p];
        printf("%c-%c,%ld,%.6g,%ld,%ld,%ld,%ld,%.6g\n", 'A' + pair->a, 'A' + pair->b, pair->agree, pair->agreement,
               pair->both_right, pair->a_only, pair->b_only, pair->both_wrong, pair->mcnemar_p);
    }
}

int cmd_compare(int argc, char **argv)
{
    vb_compare_input inputs[VB_COMPARE_MAX_RUNS];
    int count = 0;
    const char *format = "table";
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (!strcmp(arg, "--format")) {
            if (i + 1 >= argc)
                return cli_usage_error("compare", "--format needs a value");
            format = argv[++i];
            if (strcmp(format, "table") && strcmp(format, "csv") && strcmp(format, "json"))
                return cli_usage_error("compare", "--format must be table, csv or json, got '%s'", format);
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return cli_usage_error("compare", "unknown option '%s'", arg);
        } else {
            if (count == VB_COMPARE_MAX_RUNS)
                return cli_usage_error("compare", "at most %d results CSVs", VB_COMPARE_MAX_RUNS);
            inputs[count++] = (vb_compare_input){.csv_path = arg};
        }
    }
    if (count < 2)
        return cli_usage_error("compare", "give at least two results CSVs (got %d)", count);
    vb_compare cmp;
    vb_error err = {0};
    if (vb_compare_load(&cmp, inputs, count, &err))
        return cli_fail(&err);
    int rc = CLI_EXIT_OK;
    if (!strcmp(format, "json")) {
        char *text = vb_compare_to_json(&cmp, &err);
        if (text) {
            printf("%s\n", text);
            free(text);
        } else {
            rc = cli_fail(&err);
        }
    } else if (!strcmp(format, "csv")) {
        print_csv(&cmp);
    } else {
        print_table(&cmp);
    }
    vb_compare_free(&cmp);
    if (rc == CLI_EXIT_OK && (fflush(stdout) || ferror(stdout))) {
        fprintf(stderr, "vidbench compare: writing the output failed\n");
        rc = CLI_EXIT_FAILURE;
    }
    return rc;
}
