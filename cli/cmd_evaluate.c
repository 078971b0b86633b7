/* vidbench evaluate: the seed's `evaluate.py @scripts/config.txt`. Parses the flags, opens an
 * evaluation session (the library resolves the model, downloads and prepares the clips or reads
 * a --clips list, names the outputs), runs it and prints progress and the seed's accuracy lines. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vidbench/dataset.h"
#include "vidbench/eval.h"
#include "vidbench/models.h"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: vidbench evaluate [@FILE] [--flag value ...]\n"
        "\n"
        "Evaluates a classifier on Kinetics clips like the seed kit's\n"
        "`python3 scripts/evaluate.py @scripts/config.txt`: downloads and prepares missing clips,\n"
        "runs them in batches, writes RESULTS_DIR/{model}_{split}{version}.csv and prints top-1 and\n"
        "top-N accuracy. @FILE reads flags from a file (one or more per line, '#' comments);\n"
        "flags after it override it. Interrupted runs resume from the results store.\n"
        "\n"
        "seed flags:\n"
        "  --model_type i3d|movinet        model family (movinet: MoViNet-A0 stream, Kinetics-600)\n"
        "  --model_trained_on kinetics-400|kinetics-600   which I3D\n"
        "  --kinetics_version 400|600|700  dataset version      --kinetics_split train|val|test\n"
        "  --num_videos N|all              clips to evaluate    --num_frames T (0: every frame, movinet)\n"
        "  --results_dir DIR               CSV, store, summary  --batch_size B   --top_n N\n"
        "  --verbose_logging  --no_cuda (accepted; CPU only)  --overwrite_output_dir  --overwrite_cache\n"
        "vidbench flags:\n"
        "  --data_dir DIR      dataset root (default $VIDBENCH_DATA_DIR, else ./data)\n"
        "  --mirror URL        Kinetics mirror root replacing https://s3.amazonaws.com/kinetics/\n"
        "  --clips FILE        evaluate the clips listed in FILE (path,label[,youtube_id]) instead\n"
        "  --resize crop|pad|shortside|stretch|aspect   (default: crop for I3D, stretch for MoViNet)\n"
        "  --num_clips K --num_crops 1|3         multi-view testing (MMAction2), scores averaged\n"
        "  --shard i/N         evaluate shard i of N (merge the N stores with `vidbench merge`)\n"
        "  --shard_by partition|clip  partition (default): download, prepare and evaluate only the\n"
        "                      partitions p with p mod N == i (needs --num_videos all); clip: clips\n"
        "                      k mod N of the selection. A --clips list is always sharded by clip\n"
        "  --min_frames N      skip clips with fewer decoded frames (default 128, the seed's)\n"
        "  --threads N         model threads (default: VIDBENCH_THREADS or all cores)\n"
        "  --precision P       I3D arithmetic: auto (default: the weights file's own), fp32, bf16 (AMX\n"
        "                      only, else fp32 with a note), int8 (a `vidbench model quantize` file)\n"
        "  --model NAME        registry name   --weights FILE --labels FILE   explicit model\n");
}

typedef struct progress_state {
    int tty;
    int verbose;
    double last_print;
} progress_state;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int data_progress(void *user, const vb_dataset_progress *p)
{
    progress_state *ps = user;
    if (p->event == VB_EVENT_PARTITION_FAILED || p->event == VB_EVENT_CLIP_BAD)
        fprintf(stderr, "vidbench evaluate: %s: %s\n", cli_safe(p->item),
                cli_safe(p->message ? p->message : "failed"));
    else if (ps->verbose && (p->event == VB_EVENT_PARTITION_DONE || p->event == VB_EVENT_INFO))
        fprintf(stderr, "vidbench evaluate: %s%s%s\n", cli_safe(p->item),
                p->item && p->message ? ": " : "", cli_safe(p->message ? p->message : "done"));
    return 0;
}

static void print_notice(void *user, const char *message)
{
    (void)user;
    fprintf(stderr, "vidbench evaluate: %s\n", cli_safe(message));
}

static int eval_progress(void *user, const vb_eval_progress *p)
{
    progress_state *ps = user;
    double t = now_s();
    if (ps->tty) {
        if (t - ps->last_print < 0.2 && p->done < p->total)
            return 0;
        ps->last_print = t;
        int width = 30, filled = p->total > 0 ? (int)(width * p->done / p->total) : width;
        char bar[64];
        for (int i = 0; i < width; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[width] = '\0';
        char eta[32] = "--";
        if (p->eta_s >= 0)
            snprintf(eta, sizeof eta, "%dm%02ds", (int)(p->eta_s / 60), (int)p->eta_s % 60);
        fprintf(stderr, "\r[%s] %ld/%ld clips (%ld skipped)  ETA %s ", bar, p->done, p->total,
                p->skipped, eta);
        if (p->done >= p->total)
            fputc('\n', stderr);
    } else if (ps->verbose) {
        fprintf(stderr, "vidbench evaluate: %ld/%ld clips done (%ld skipped), %.1f s\n", p->done,
                p->total, p->skipped, p->elapsed_s);
    }
    return 0;
}

int cmd_evaluate(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return CLI_EXIT_OK;
        }
    vb_eval_config cfg;
    vb_eval_config_init(&cfg);
    vb_error err = {0};
    if (vb_eval_config_parse_args(&cfg, argc - 1, argv + 1, &err) ||
        vb_eval_config_validate(&cfg, &err))
        return cli_usage_error("evaluate", "%s", err.message);
    const int verbose = cfg.verbose_logging || cli_verbosity >= 2;
    if (cfg.no_cuda && verbose)
        fprintf(stderr, "vidbench evaluate: --no_cuda: vidbench always runs on the CPU\n");

    /* The dataset root's default is the CLI's business (VIDBENCH_DATA_DIR, README). */
    if (!cfg.data_dir[0] && getenv("VIDBENCH_DATA_DIR"))
        snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", getenv("VIDBENCH_DATA_DIR"));
    progress_state ps = {.tty = isatty(2) && cli_verbosity > 0, .verbose = verbose};
    vb_eval_hooks hooks = {.data_progress = data_progress, .data_user = &ps, .progress = eval_progress,
                           .progress_user = &ps, .notice = print_notice, .notice_user = &ps};
    vb_eval_session *session = NULL;
    if (vb_eval_session_open(&cfg, &hooks, &session, &err))
        return cli_fail(&err);
    vb_eval_session_info info;
    vb_eval_session_get_info(session, &info);
    if (verbose)
        fprintf(stderr, "vidbench evaluate: %s (%s, %d classes, %d threads, %s%s%s) on %zu clips, batch %d, %s\n",
                cli_safe(info.weights_path), info.model_kind, info.num_classes, info.threads, info.precision,
                info.isa ? " on oneDNN ISA " : "", info.isa ? info.isa : "", info.clip_count, info.batch_size,
                info.fingerprint);
    if (*info.note)
        fprintf(stderr, "vidbench evaluate: note: %s\n", info.note);

    int rc = CLI_EXIT_FAILURE;
    vb_eval_summary summary;
    if (vb_eval_session_run(session, &summary, &err)) {
        rc = cli_fail(&err);
        vb_eval_summary_free(&summary);
        goto done;
    }
    /* The seed's report lines, then ours. */
    printf("top-1 accuracy: %.2f%%\n", summary.top1 * 100.0);
    printf("top-%d accuracy: %.2f%%\n", summary.top_n, summary.topn * 100.0);
    printf("mean class accuracy: %.2f%%\n", summary.mean_class_accuracy * 100.0);
    printf("clips: %ld evaluated, %ld skipped, %ld from earlier runs (of %ld)\n",
           summary.clips_evaluated, summary.clips_skipped, summary.clips_from_earlier_runs,
           summary.clips_selected);
    double per_clip = summary.clips_evaluated + summary.clips_skipped;
    if (per_clip > 0)
        printf("time per clip: decode %.1f ms, preprocess %.1f ms, model %.1f ms; "
               "this run %.2f clips/s\n", summary.decode_ms / per_clip,
               summary.preprocess_ms / per_clip,
               summary.clips_evaluated ? summary.model_ms / summary.clips_evaluated : 0,
               summary.clips_per_s);
    if (summary.labelled == 0 && summary.clips_evaluated > 0)
        printf("note: no evaluated clip has a ground truth (unlabelled split?): accuracies are 0\n");
    if (summary.label_not_in_model)
        printf("note: %ld clips have a ground truth the model does not know (counted wrong)\n",
               summary.label_not_in_model);
    if (verbose) {
        printf("per-class accuracy:\n");
        for (int i = 0; i < summary.class_count; i++)
            printf("  %-40s %4ld clips  top-1 %6.2f%%  top-%d %6.2f%%%s\n", cli_safe(summary.classes[i].name),
                   summary.classes[i].clips,
                   100.0 * summary.classes[i].top1_correct / summary.classes[i].clips,
                   summary.top_n, 100.0 * summary.classes[i].topn_correct / summary.classes[i].clips,
                   summary.classes[i].in_model ? "" : "  (not a model class)");
        if (summary.confused_count)
            printf("most confused (true -> predicted):\n");
        for (int i = 0; i < summary.confused_count && i < 10; i++)
            printf("  %ld x %s -> %s\n", summary.confused[i].count, cli_safe(summary.confused[i].truth),
                   cli_safe(summary.confused[i].predicted));
    }
    printf("results: %s (summary %s)\n", cli_safe(info.csv_path), cli_safe(info.summary_path));
    vb_eval_summary_free(&summary);
    rc = CLI_EXIT_OK;
done:
    vb_eval_session_free(&session);
    return rc;
}
