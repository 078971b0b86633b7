/* vidbench merge: combines the results stores of `vidbench evaluate --shard i/N` runs into
 * one store, CSV and summary, refusing overlaps, gaps and unfinished shards. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidbench/eval.h"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: vidbench merge [--output BASE] [--top_n N] SHARD.sqlite...\n"
        "\n"
        "Merges the results stores written by `vidbench evaluate --shard i/N` (one per shard,\n"
        "RESULTS_DIR/{model}_{split}{version}.shardIofN.sqlite) into BASE.sqlite, BASE.csv and\n"
        "BASE.summary.json, and prints the accuracy lines. Every shard 0..N-1 must be given\n"
        "exactly once, finished, and made with the same configuration.\n"
        "  --output BASE   default: the first store's name without .shardIofN.sqlite\n"
        "  --top_n N       prediction columns in the CSV (default 5)\n");
}

int cmd_merge(int argc, char **argv)
{
    const char *output = NULL;
    long top_n = 5;
    const char **stores = calloc((size_t)argc + 1, sizeof *stores);
    int count = 0;
    if (!stores)
        return CLI_EXIT_FAILURE;
    int rc = CLI_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            rc = CLI_EXIT_OK;
            goto done;
        } else if (!strcmp(argv[i], "--output") || !strcmp(argv[i], "-o")) {
            if (++i >= argc) {
                rc = cli_usage_error("merge", "--output needs a value");
                goto done;
            }
            output = argv[i];
        } else if (!strcmp(argv[i], "--top_n") || !strcmp(argv[i], "--top-n")) {
            if (++i >= argc || cli_parse_int(argv[i], 1, 1000, &top_n)) {
                rc = cli_usage_error("merge", "--top_n needs an integer 1..1000");
                goto done;
            }
        } else if (argv[i][0] == '-' && argv[i][1]) {
            rc = cli_usage_error("merge", "unknown option '%s'", argv[i]);
            goto done;
        } else {
            stores[count++] = argv[i];
        }
    }
    if (count == 0) {
        rc = cli_usage_error("merge", "no shard stores given");
        goto done;
    }
    char base[4096];
    if (output) {
        snprintf(base, sizeof base, "%s", output);
        size_t n = strlen(base);
        if (n > 4 && !strcmp(base + n - 4, ".csv"))
            base[n - 4] = '\0';
    } else {
        snprintf(base, sizeof base, "%s", stores[0]);
        char *shard = strstr(base, ".shard");
        if (!shard) {
            rc = cli_usage_error("merge", "%s is not named like a shard store (.shardIofN.sqlite); "
                                 "give --output", stores[0]);
            goto done;
        }
        *shard = '\0';
    }
    char store[4200], csv[4200], summary_path[4200];
    snprintf(store, sizeof store, "%s.sqlite", base);
    snprintf(csv, sizeof csv, "%s.csv", base);
    snprintf(summary_path, sizeof summary_path, "%s.summary.json", base);
    vb_error err = {0};
    if (vb_eval_merge(stores, count, store, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    vb_eval_summary summary = {0};
    if (vb_eval_write_outputs(store, csv, summary_path, (int)top_n, &summary, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    printf("top-1 accuracy: %.2f%%\n", summary.top1 * 100.0);
    printf("top-%d accuracy: %.2f%%\n", summary.top_n, summary.topn * 100.0);
    printf("mean class accuracy: %.2f%%\n", summary.mean_class_accuracy * 100.0);
    printf("clips: %ld evaluated, %ld skipped (of %ld, from %d shards)\n", summary.clips_evaluated,
           summary.clips_skipped, summary.clips_selected, count);
    printf("results: %s (summary %s)\n", csv, summary_path);
    vb_eval_summary_free(&summary);
    rc = CLI_EXIT_OK;
done:
    free(stores);
    return rc;
}
