/* The evaluation session (eval.h): model resolution, the model's input, the clip selection
 * (a --clips list or the dataset's download -> prepare -> list), the outputs and the resume
 * fingerprint, decided once for every caller. The verbs only parse arguments and print. */
#include "vidbench/eval.h"
#include "vidbench/models.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Clips of the dataset manager: the cached, preprocessed frames when they were prepared for
 * these video options, else decoded on the spot. */
typedef struct dataset_loader {
    vb_dataset *dataset;
    int version;
    vb_split split;
    const vb_eval_clip *clips;    /* parallel to entries */
    const vb_dataset_clip *const *entries;
} dataset_loader;

struct vb_eval_session {
    vb_eval_config config;
    vb_eval_hooks hooks;
    vb_model_paths paths;
    vb_classifier *classifier;
    vb_eval_model model;
    vb_video_options video;
    vb_dataset *dataset;
    vb_dataset_clip_list dataset_clips;
    const vb_dataset_clip **entries;   /* the selected ones, parallel to clips */
    vb_eval_clip_list listed_clips;
    vb_eval_clip *clips;          /* owned when they come from the dataset */
    int clips_owned;
    long *sort_keys;              /* partition shards: each clip's key in the whole listing */
    size_t clip_count;
    dataset_loader dataset_loader;
    vb_eval_loader loader;
    char fingerprint[1024];
    char csv_path[VB_EVAL_PATH_BYTES + 64];
    char store_path[VB_EVAL_PATH_BYTES + 64];
    char summary_path[VB_EVAL_PATH_BYTES + 64];
    int serial;
};

static void notice(const vb_eval_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void notice(const vb_eval_session *s, const char *fmt, ...)
{
    if (!s->hooks.notice)
        return;
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    s->hooks.notice(s->hooks.notice_user, text);
}

static int dataset_load(void *impl, const vb_eval_clip *clip, const vb_video_options *video,
                        vb_frames *out, vb_error *err)
{
    dataset_loader *dl = impl;
    const vb_dataset_clip *entry = dl->entries[clip - dl->clips];
    if (entry->status == VB_CLIP_BAD)
        return vb_error_set(err, VB_EDECODE, "%s", entry->bad_reason ? entry->bad_reason : "known bad clip");
    int rc = vb_dataset_load_prepared(dl->dataset, dl->version, dl->split, clip->clip_id, video, out, err);
    if (rc == VB_ENOTFOUND)   /* not in the cache for these parameters: decode it here */
        rc = vb_video_decode_clip(clip->path, video, out, err);
    return rc;
}

/* The seed's --model_type / --model_trained_on as a registry name. */
static const char *default_model_name(const vb_eval_config *c)
{
    if (!strcmp(c->model_type, "movinet"))
        return "movinet-a0-stream-k600";
    return c->model_trained_on == 600 ? "i3d-kinetics-600" : "i3d-kinetics-400";
}

static int open_model(vb_eval_session *s, vb_error *err)
{
    vb_eval_config *cfg = &s->config;
    if (cfg->weights[0]) {   /* with its label map: vb_eval_config_validate checked */
        snprintf(s->paths.weights, sizeof s->paths.weights, "%s", cfg->weights);
        snprintf(s->paths.labels, sizeof s->paths.labels, "%s", cfg->labels);
    } else {
        int rc = vb_model_resolve(cfg->model[0] ? cfg->model : default_model_name(cfg), &s->paths, err);
        if (rc)
            return rc;
    }
    vb_classifier_options options;
    vb_classifier_options_init(&options);
    options.threads = cfg->threads;
    options.precision = (vb_i3d_precision)cfg->precision;
    int rc = vb_classifier_open(s->paths.weights, s->paths.labels, &options, &s->classifier, err);
    if (!rc)
        rc = vb_eval_model_from_classifier(s->classifier, &s->model, err);
    if (rc)
        return rc;
    /* the file that really runs (int8: maybe the fp32 file's quantized sibling) names the run */
    snprintf(s->paths.weights, sizeof s->paths.weights, "%s", vb_classifier_weights_path(s->classifier));
    /* The outputs are named after the model that really runs, whatever the flags said; an I3D
     * in int8 or bf16 gets its own files (i3d-int8_k400_val400.csv), so that it sits beside the
     * fp32 run instead of refusing its store. */
    const char *precision = vb_classifier_precision(s->classifier);
    if (vb_classifier_get_kind(s->classifier) == VB_CLASSIFIER_I3D && strcmp(precision, "fp32"))
        snprintf(cfg->model_type, sizeof cfg->model_type, "%s-%s", vb_classifier_kind_name(s->classifier), precision);
    else
        snprintf(cfg->model_type, sizeof cfg->model_type, "%s", vb_classifier_kind_name(s->classifier));
    if (s->model.num_classes == 400 || s->model.num_classes == 600)
        cfg->model_trained_on = s->model.num_classes;

    vb_classifier_input input;
    vb_classifier_input_spec(s->classifier, &input);
    vb_video_options_init(&s->video);
    s->video.size = input.size;
    s->video.resize = cfg->resize >= 0 ? (vb_resize_mode)cfg->resize : input.resize;
    s->video.num_frames = cfg->num_clips > 1 ? 0 : cfg->num_frames;   /* views are cut by the loop */
    s->video.min_frames = cfg->min_frames;
    if (cfg->num_crops == 3)
        s->video.resize = VB_RESIZE_ASPECT;   /* ThreeCrop needs the long side (--resize does not apply) */
    return 0;
}

static int select_dataset_clips(vb_eval_session *s, vb_error *err)
{
    const vb_eval_config *cfg = &s->config;
    vb_split split;
    if (vb_split_parse(cfg->kinetics_split, &split))
        return vb_error_set(err, VB_EINVAL, "--kinetics_split %s: not a split", cfg->kinetics_split);
    const char *data_dir = cfg->data_dir[0] ? cfg->data_dir : "data";
    int rc = vb_dataset_open(data_dir, &s->dataset, err);
    if (rc)
        return rc;

    /* Partition sharding: this shard fetches, prepares and lists its own partitions only. */
    const int by_partition = cfg->shard_count > 1 && cfg->shard_by == VB_SHARD_BY_PARTITION;
    const int shard_index = by_partition ? cfg->shard_index : 0, shard_count = by_partition ? cfg->shard_count : 0;
    vb_download_request dreq;
    vb_download_request_init(&dreq);
    dreq.shard_index = shard_index;
    dreq.shard_count = shard_count;
    dreq.version = cfg->kinetics_version;
    dreq.split = split;
    dreq.num_videos = cfg->num_videos;
    dreq.mirror = cfg->mirror[0] ? cfg->mirror : NULL;
    dreq.progress = s->hooks.data_progress;
    dreq.progress_user = s->hooks.data_user;
    vb_download_result dres;
    if ((rc = vb_dataset_download(s->dataset, &dreq, &dres, err))) {
        /* Failed partitions are reported; evaluate what is on disk if anything. A partition
         * shard must cover all of its partitions, or the merge would silently lack some: it
         * fails, and a re-run (or `submit --resubmit`) resumes the download. */
        if (by_partition)
            return vb_error_prefix(err, "shard %d/%d (by partition): ", cfg->shard_index, cfg->shard_count);
        if (rc == VB_ENOSPACE || dres.clips_on_disk == 0)
            return rc;
        notice(s, "download: %s", err->message);
        vb_error_clear(err);
    }
    {
        vb_prepare_request preq;
        vb_prepare_request_init(&preq);
        preq.version = cfg->kinetics_version;
        preq.split = split;
        preq.num_videos = cfg->num_videos;
        preq.video = s->video;
        preq.jobs = 2;
        preq.overwrite = cfg->overwrite_cache;
        preq.shard_index = shard_index;
        preq.shard_count = shard_count;
        preq.progress = s->hooks.data_progress;
        preq.progress_user = s->hooks.data_user;
        vb_prepare_result pres;
        if ((rc = vb_dataset_prepare(s->dataset, &preq, &pres, err)))
            return rc;
    }
    if ((rc = vb_dataset_clips(s->dataset, cfg->kinetics_version, split, &s->video, &s->dataset_clips, err)))
        return rc;
    const vb_dataset_clip_list *list = &s->dataset_clips;
    s->clips = calloc(list->count + 1, sizeof *s->clips);
    s->entries = calloc(list->count + 1, sizeof *s->entries);
    s->sort_keys = by_partition ? calloc(list->count + 1, sizeof *s->sort_keys) : NULL;
    if (!s->clips || !s->entries || (by_partition && !s->sort_keys))
        return vb_error_set(err, VB_ENOMEM, "out of memory for %zu clips", list->count);
    s->clips_owned = 1;
    /* The listing is ordered by (partition, clip id); a partition shard keeps its partitions'
     * clips with keys (partition, rank) that put them back in that order when merged. */
    size_t count = 0, available = 0, rank = 0;
    for (size_t i = 0; i < list->count; i++) {
        const vb_dataset_clip *c = &list->clips[i];
        rank = i > 0 && list->clips[i - 1].partition == c->partition ? rank + 1 : 0;
        if (by_partition && vb_partition_shard(c->partition, cfg->shard_count) != cfg->shard_index)
            continue;
        available++;
        if (cfg->num_videos > 0 && count >= (size_t)cfg->num_videos)
            continue;
        if (by_partition && (s->sort_keys[count] = vb_eval_partition_sort_key(c->partition, rank)) < 0)
            return vb_error_set(err, VB_ELIMIT, "%s: partition %zu holds more than 2^20 clips", c->clip_id,
                                c->partition);
        s->entries[count] = c;
        s->clips[count++] = (vb_eval_clip){.clip_id = c->clip_id, .youtube_id = c->youtube_id, .label = c->label,
                                           .path = c->path};
    }
    if (count == 0 && by_partition)   /* more shards than partitions: an empty shard merges fine */
        notice(s, "shard %d/%d holds no clips (its partitions: %d)", cfg->shard_index, cfg->shard_count,
               dres.partitions_total);
    else if (count == 0)
        return vb_error_set(err, VB_ENOTFOUND, "no clips of Kinetics-%d %s are on disk in %s", cfg->kinetics_version,
                            cfg->kinetics_split, data_dir);
    if (cfg->num_videos > 0 && (size_t)cfg->num_videos > available)
        notice(s, "only %zu clips available (asked for %ld)", available, cfg->num_videos);
    s->clip_count = count;
    s->dataset_loader = (dataset_loader){.dataset = s->dataset, .version = cfg->kinetics_version, .split = split,
                                         .clips = s->clips, .entries = s->entries};
    s->loader = (vb_eval_loader){.impl = &s->dataset_loader, .load = dataset_load};
    return 0;
}

static int select_clips(vb_eval_session *s, vb_error *err)
{
    const vb_eval_config *cfg = &s->config;
    s->loader = vb_eval_file_loader;
    if (!cfg->clips_file[0])
        return select_dataset_clips(s, err);
    int rc = vb_eval_clip_list_load(cfg->clips_file, &s->listed_clips, err);
    if (rc)
        return rc;
    s->clips = s->listed_clips.clips;
    s->clip_count = s->listed_clips.count;
    if (cfg->num_videos > 0 && (size_t)cfg->num_videos < s->clip_count)
        s->clip_count = (size_t)cfg->num_videos;
    return 0;
}

/* Everything that changes a clip's predictions: a store made with another fingerprint is not
 * resumed (the loop refuses it unless told to overwrite). */
static int name_outputs(vb_eval_session *s, vb_error *err)
{
    const vb_eval_config *cfg = &s->config;
    int rc;
    if ((rc = vb_eval_output_path(cfg, "csv", s->csv_path, sizeof s->csv_path, err)) ||
        (rc = vb_eval_output_path(cfg, "sqlite", s->store_path, sizeof s->store_path, err)) ||
        (rc = vb_eval_output_path(cfg, "summary.json", s->summary_path, sizeof s->summary_path, err)))
        return rc;
    struct stat st;
    long long weights_bytes = stat(s->paths.weights, &st) == 0 ? (long long)st.st_size : -1;
    const char *weights_base = strrchr(s->paths.weights, '/');
    weights_base = weights_base ? weights_base + 1 : s->paths.weights;
    snprintf(s->fingerprint, sizeof s->fingerprint,
             "model=%.200s bytes=%lld classes=%d input=%d resize=%s frames=%d min_frames=%d "
             "clips=%d crops=%d data=k%d-%s",
             weights_base, weights_bytes, s->model.num_classes, s->model.input_size,
             vb_resize_mode_name(s->video.resize), cfg->num_frames, cfg->min_frames, cfg->num_clips,
             cfg->num_crops, cfg->kinetics_version, cfg->kinetics_split);
    /* bf16 runs the fp32 file: tell its results apart (int8 files have their own name) */
    if (!strcmp(vb_classifier_precision(s->classifier), "bf16")) {
        size_t len = strlen(s->fingerprint);
        snprintf(s->fingerprint + len, sizeof s->fingerprint - len, " precision=bf16");
    }
    return 0;
}

/* A session holding a checked copy of config, nothing opened yet. */
static int session_new(const vb_eval_config *config, const vb_eval_hooks *hooks, vb_eval_session **out,
                       vb_error *err)
{
    *out = NULL;
    int rc = vb_eval_config_validate(config, err);
    if (rc)
        return rc;
    vb_eval_session *s = calloc(1, sizeof *s);
    if (!s)
        return vb_error_set(err, VB_ENOMEM, "out of memory");
    s->config = *config;
    if (hooks)
        s->hooks = *hooks;
    *out = s;
    return 0;
}

int vb_eval_output_base(const vb_eval_config *config, char *out, size_t out_bytes, vb_error *err)
{
    vb_eval_session *s;
    int rc = session_new(config, NULL, &s, err);
    if (rc)
        return rc;
    s->config.shard_index = 0;
    s->config.shard_count = 1;
    char csv[VB_EVAL_PATH_BYTES + 64];
    if (!(rc = open_model(s, err)) && !(rc = vb_eval_output_path(&s->config, "csv", csv, sizeof csv, err))) {
        csv[strlen(csv) - strlen(".csv")] = '\0';
        if ((size_t)snprintf(out, out_bytes, "%s", csv) >= out_bytes)
            rc = vb_error_set(err, VB_ELIMIT, "%s: path too long", csv);
    }
    vb_eval_session_free(&s);
    return rc;
}

int vb_eval_session_open(const vb_eval_config *config, const vb_eval_hooks *hooks, vb_eval_session **out,
                         vb_error *err)
{
    vb_eval_session *s;
    int rc = session_new(config, hooks, &s, err);
    if (rc)
        return rc;
    if ((rc = open_model(s, err)) || (rc = select_clips(s, err)) || (rc = name_outputs(s, err))) {
        vb_eval_session_free(&s);
        return rc;
    }
    *out = s;
    return 0;
}

void vb_eval_session_get_info(const vb_eval_session *s, vb_eval_session_info *info)
{
    memset(info, 0, sizeof *info);
    info->weights_path = s->paths.weights;
    info->labels_path = s->paths.labels;
    info->model_kind = vb_classifier_kind_name(s->classifier);
    info->num_classes = s->model.num_classes;
    info->threads = vb_classifier_threads(s->classifier);
    info->precision = vb_classifier_precision(s->classifier);
    info->isa = vb_classifier_isa(s->classifier);
    info->note = vb_classifier_note(s->classifier);
    info->video = s->video;
    info->clip_count = s->clip_count;
    info->batch_size = s->config.batch_size;
    info->fingerprint = s->fingerprint;
    info->csv_path = s->csv_path;
    info->store_path = s->store_path;
    info->summary_path = s->summary_path;
}

void vb_eval_session_set_serial(vb_eval_session *s, int serial)
{
    s->serial = serial;
}

int vb_eval_session_run(vb_eval_session *s, vb_eval_summary *summary, vb_error *err)
{
    const vb_eval_config *cfg = &s->config;
    mkdir(cfg->results_dir, 0755);   /* an error shows when the store is opened, naming it */
    vb_eval_params params;
    vb_eval_params_init(&params);
    params.clips = s->clips;
    params.clip_count = s->clip_count;
    params.shard_index = cfg->shard_index;
    params.shard_count = cfg->shard_count;
    params.sort_keys = s->sort_keys;
    params.video = s->video;
    params.num_frames = cfg->num_frames;
    params.num_clips = cfg->num_clips;
    params.num_crops = cfg->num_crops;
    params.batch_size = cfg->batch_size;
    params.top_n = cfg->top_n;
    params.store_path = s->store_path;
    params.csv_path = s->csv_path;
    params.summary_path = s->summary_path;
    params.fingerprint = s->fingerprint;
    params.overwrite = cfg->overwrite_output_dir;
    params.serial = s->serial;
    params.progress = s->hooks.progress;
    params.progress_user = s->hooks.progress_user;
    /* What the model costs, for summary.json and `vidbench compare`. */
    params.precision = vb_classifier_precision(s->classifier);
    const double gflop_view = vb_classifier_gflop_per_clip(s->classifier, cfg->num_frames);
    params.gflop_per_clip = gflop_view > 0 ? gflop_view * cfg->num_clips * cfg->num_crops : -1;
    /* Absolute, so that `vidbench compare` finds it from any folder. */
    char *label_map_abs = realpath(s->paths.labels, NULL);
    params.label_map = label_map_abs ? label_map_abs : s->paths.labels;
    int rc = vb_eval_run(&params, &s->model, &s->loader, summary, err);
    free(label_map_abs);
    return rc;
}

void vb_eval_session_free(vb_eval_session **session)
{
    if (!session || !*session)
        return;
    vb_eval_session *s = *session;
    if (s->clips_owned)
        free(s->clips);
    free(s->entries);
    free(s->sort_keys);
    vb_eval_clip_list_free(&s->listed_clips);
    vb_dataset_clip_list_free(&s->dataset_clips);
    vb_dataset_free(&s->dataset);
    vb_classifier_free(&s->classifier);
    free(s);
    *session = NULL;
}
