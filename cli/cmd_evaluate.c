/* vidbench evaluate: the seed's `evaluate.py @scripts/config.txt`. Resolves the model,
 * makes sure the clips are downloaded and prepared (dataset manager) or reads a --clips
 * list, runs the resumable pipelined loop and prints the seed's accuracy lines. */
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
        "  --resize crop|pad|shortside|stretch   (default: crop for I3D, stretch for MoViNet)\n"
        "  --num_clips K --num_crops 1|3         multi-view testing (MMAction2), scores averaged\n"
        "  --shard i/N         evaluate clips k with k mod N == i (merge with `vidbench merge`)\n"
        "  --min_frames N      skip clips with fewer decoded frames (default 128, the seed's)\n"
        "  --threads N         model threads (default: all cores)\n"
        "  --model NAME        registry name   --weights FILE --labels FILE   explicit model\n");
}

/* Default registry names for the seed's --model_type / --model_trained_on. */
static const char *default_model_name(const vb_eval_config *c)
{
    if (!strcmp(c->model_type, "movinet"))
        return "movinet-a0-stream-k600";
    return c->model_trained_on == 600 ? "i3d-kinetics-600" : "i3d-kinetics-400";
}

static const char *resize_name(int mode)
{
    switch (mode) {
    case VB_RESIZE_CROP: return "crop";
    case VB_RESIZE_PAD: return "pad";
    case VB_RESIZE_SHORTSIDE: return "shortside";
    case VB_RESIZE_STRETCH: return "stretch";
    default: return "?";
    }
}

/* ---- clips from the dataset manager ---- */
typedef struct dataset_loader {
    vb_dataset *dataset;
    int version;
    vb_split split;
    const vb_eval_clip *clips;    /* parallel to list->clips */
    const vb_clip_list *list;
    int three_crops;              /* decode with the aspect kept instead of the cache */
} dataset_loader;

static int dataset_load(void *impl, const vb_eval_clip *clip, const vb_video_options *video,
                        vb_clip *out, vb_error *err)
{
    dataset_loader *dl = impl;
    const vb_clip_entry *entry = &dl->list->clips[clip - dl->clips];
    if (entry->status == VB_CLIP_BAD)
        return vb_error_set(err, VB_EDECODE, "%s", entry->bad_reason ? entry->bad_reason : "known bad clip");
    if (dl->three_crops)
        return vb_eval_aspect_loader.load(NULL, clip, video, out, err);
    int rc = vb_dataset_load_prepared(dl->dataset, dl->version, dl->split, clip->clip_id, video, out, err);
    if (rc == VB_ENOTFOUND)   /* not in the cache for these parameters: decode it here */
        rc = vb_video_decode_clip(clip->path, video, out, err);
    return rc;
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

    /* ---- the model ---- */
    vb_model_paths paths;
    memset(&paths, 0, sizeof paths);
    if (cfg.weights[0]) {
        snprintf(paths.weights, sizeof paths.weights, "%s", cfg.weights);
        snprintf(paths.labels, sizeof paths.labels, "%s", cfg.labels);
        if (!cfg.labels[0])
            return cli_usage_error("evaluate", "--weights needs --labels (the label map)");
    } else {
        const char *name = cfg.model[0] ? cfg.model : default_model_name(&cfg);
        if (vb_model_resolve(name, &paths, &err))
            return cli_fail(&err);
    }
    vb_eval_classifier_options copts = {.threads = cfg.threads};
    vb_eval_classifier *classifier = NULL;
    if (vb_eval_classifier_open(paths.weights, paths.labels, &copts, &classifier, &err))
        return cli_fail(&err);
    const vb_eval_model *model = vb_eval_classifier_model(classifier);
    const int is_movinet = !strcmp(vb_eval_classifier_kind(classifier), "movinet");
    snprintf(cfg.model_type, sizeof cfg.model_type, "%s", vb_eval_classifier_kind(classifier));
    if (model->num_classes == 400 || model->num_classes == 600)
        cfg.model_trained_on = model->num_classes;   /* names the CSV after the real model */

    vb_video_options video;
    vb_video_options_init(&video);
    video.size = model->input_size;
    video.resize = cfg.resize >= 0 ? (vb_resize_mode)cfg.resize
                                   : is_movinet ? VB_RESIZE_STRETCH : VB_RESIZE_CROP;
    video.num_frames = cfg.num_clips > 1 ? 0 : cfg.num_frames;
    video.min_frames = cfg.min_frames;

    int rc = CLI_EXIT_FAILURE;
    vb_dataset *dataset = NULL;
    vb_clip_list dlist = {0};
    vb_eval_clip_list flist = {0};
    vb_eval_clip *clips = NULL;
    size_t clip_count = 0;
    dataset_loader dl = {0};
    /* Three crops need the long side: frames resized on their short side only. */
    vb_eval_loader loader = cfg.num_crops == 3 ? vb_eval_aspect_loader : vb_eval_file_loader;
    progress_state ps = {.tty = isatty(2) && cli_verbosity > 0, .verbose = verbose};

    if (cfg.clips_file[0]) {
        if (vb_eval_clip_list_load(cfg.clips_file, &flist, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
        clips = flist.clips;
        clip_count = flist.count;
    } else {
        vb_split split;
        if (vb_split_parse(cfg.kinetics_split, &split)) {
            rc = cli_usage_error("evaluate", "--kinetics_split %s: not a split", cfg.kinetics_split);
            goto done;
        }
        const char *data_dir = cfg.data_dir[0] ? cfg.data_dir : getenv("VIDBENCH_DATA_DIR");
        if (!data_dir || !*data_dir)
            data_dir = "data";
        if (vb_dataset_open(data_dir, &dataset, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
        vb_download_request dreq;
        vb_download_request_init(&dreq);
        dreq.version = cfg.kinetics_version;
        dreq.split = split;
        dreq.num_videos = cfg.num_videos;
        dreq.mirror = cfg.mirror[0] ? cfg.mirror : NULL;
        dreq.progress = data_progress;
        dreq.progress_user = &ps;
        vb_download_result dres;
        if (vb_dataset_download(dataset, &dreq, &dres, &err)) {
            /* Failed partitions are reported; evaluate what is on disk if anything. */
            fprintf(stderr, "vidbench evaluate: download: %s\n", cli_safe(err.message));
            if (err.code == VB_ENOSPACE || dres.clips_on_disk == 0) {
                rc = cli_fail(&err);
                goto done;
            }
        }
        if (cfg.num_crops == 3)
            goto listed;   /* the cache holds square frames: decode in the loop instead */
        vb_prepare_request preq;
        vb_prepare_request_init(&preq);
        preq.version = cfg.kinetics_version;
        preq.split = split;
        preq.num_videos = cfg.num_videos;
        preq.video = video;
        preq.jobs = 2;
        preq.overwrite = cfg.overwrite_cache;
        preq.progress = data_progress;
        preq.progress_user = &ps;
        vb_prepare_result pres;
        if (vb_dataset_prepare(dataset, &preq, &pres, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
    listed:
        if (vb_dataset_clips(dataset, cfg.kinetics_version, split, &video, &dlist, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
        clip_count = cfg.num_videos > 0 && (size_t)cfg.num_videos < dlist.count
                         ? (size_t)cfg.num_videos : dlist.count;
        if (clip_count == 0) {
            fprintf(stderr, "vidbench evaluate: no clips of Kinetics-%d %s are on disk in %s\n",
                    cfg.kinetics_version, cfg.kinetics_split, data_dir);
            goto done;
        }
        if (cfg.num_videos > 0 && (size_t)cfg.num_videos > dlist.count)
            fprintf(stderr, "vidbench evaluate: only %zu clips available (asked for %ld)\n",
                    dlist.count, cfg.num_videos);
        clips = calloc(clip_count, sizeof *clips);
        if (!clips) {
            vb_error_set(&err, VB_ENOMEM, "out of memory");
            rc = cli_fail(&err);
            goto done;
        }
        for (size_t i = 0; i < clip_count; i++)
            clips[i] = (vb_eval_clip){.clip_id = dlist.clips[i].clip_id,
                                      .youtube_id = dlist.clips[i].youtube_id,
                                      .label = dlist.clips[i].label,
                                      .path = dlist.clips[i].path};
        dl = (dataset_loader){.dataset = dataset, .version = cfg.kinetics_version, .split = split,
                              .clips = clips, .list = &dlist, .three_crops = cfg.num_crops == 3};
        loader = (vb_eval_loader){.impl = &dl, .load = dataset_load};
    }
    if (cfg.clips_file[0] && cfg.num_videos > 0 && (size_t)cfg.num_videos < clip_count)
        clip_count = (size_t)cfg.num_videos;

    /* ---- outputs and identity ---- */
    char csv_path[VB_EVAL_PATH_BYTES + 64], store_path[VB_EVAL_PATH_BYTES + 64],
        summary_path[VB_EVAL_PATH_BYTES + 64];
    if (vb_eval_output_path(&cfg, "csv", csv_path, sizeof csv_path, &err) ||
        vb_eval_output_path(&cfg, "sqlite", store_path, sizeof store_path, &err) ||
        vb_eval_output_path(&cfg, "summary.json", summary_path, sizeof summary_path, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    mkdir(cfg.results_dir, 0755);
    struct stat st;
    long long weights_bytes = stat(paths.weights, &st) == 0 ? (long long)st.st_size : -1;
    const char *weights_base = strrchr(paths.weights, '/');
    weights_base = weights_base ? weights_base + 1 : paths.weights;
    char fingerprint[1024];
    snprintf(fingerprint, sizeof fingerprint,
             "model=%.200s bytes=%lld classes=%d input=%d resize=%s frames=%d min_frames=%d "
             "clips=%d crops=%d data=k%d-%s",
             weights_base, weights_bytes, model->num_classes, model->input_size,
             resize_name(video.resize), cfg.num_frames, cfg.min_frames, cfg.num_clips,
             cfg.num_crops, cfg.kinetics_version, cfg.kinetics_split);

    vb_eval_params params;
    vb_eval_params_init(&params);
    params.clips = clips;
    params.clip_count = clip_count;
    params.shard_index = cfg.shard_index;
    params.shard_count = cfg.shard_count;
    params.video = video;
    params.num_frames = cfg.num_frames;
    params.num_clips = cfg.num_clips;
    params.num_crops = cfg.num_crops;
    params.batch_size = cfg.batch_size;
    params.top_n = cfg.top_n;
    params.store_path = store_path;
    params.csv_path = csv_path;
    params.summary_path = summary_path;
    params.fingerprint = fingerprint;
    params.overwrite = cfg.overwrite_output_dir;
    params.progress = eval_progress;
    params.progress_user = &ps;
    if (verbose)
        fprintf(stderr, "vidbench evaluate: %s (%s, %d classes) on %zu clips, batch %d, %s\n",
                paths.weights, vb_eval_classifier_kind(classifier), model->num_classes, clip_count,
                cfg.batch_size, fingerprint);

    vb_eval_summary summary;
    if (vb_eval_run(&params, model, &loader, &summary, &err)) {
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
    printf("results: %s (summary %s)\n", csv_path, summary_path);
    vb_eval_summary_free(&summary);
    rc = CLI_EXIT_OK;
done:
    if (!cfg.clips_file[0])
        free(clips);
    vb_eval_clip_list_free(&flist);
    vb_clip_list_free(&dlist);
    vb_dataset_close(&dataset);
    vb_eval_classifier_free(&classifier);
    return rc;
}
