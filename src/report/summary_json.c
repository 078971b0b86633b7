/* Reader of the evaluation's summary.json (cJSON). The file is untrusted: every field is
 * type-checked, numbers range-checked, arrays bounded. Field names and accepted aliases are
 * listed in docs/report.md; unknown fields are ignored so the evaluation may add more. */
#include "vidbench/report.h"
#include "report/report_internal.h"
#include "common/fsutil.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SUMMARY_BYTES (64u << 20)
#define MAX_SUMMARY_ITEMS 100000
#define MAX_STAGES 32

/* The first member of object named by one of the NULL-terminated names. */
static const cJSON *member(const cJSON *object, const char *const *names)
{
    for (; *names; names++) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, *names);
        if (item)
            return item;
    }
    return NULL;
}

/* Accuracy as a fraction: values in [0,1] are fractions, (1,100] percentages. */
static int read_accuracy(const cJSON *object, const char *const *names, double *value, const char *name,
                         vb_error *err)
{
    const cJSON *item = member(object, names);
    if (!item || cJSON_IsNull(item))
        return 0;
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble) || item->valuedouble < 0 ||
        item->valuedouble > 100)
        return vb_error_set(err, VB_EFORMAT, "%s: \"%s\" must be an accuracy in [0,1] or [0,100]", name, names[0]);
    *value = item->valuedouble > 1 ? item->valuedouble / 100 : item->valuedouble;
    return 0;
}

static int read_count(const cJSON *object, const char *const *names, long *value, const char *name, vb_error *err)
{
    const cJSON *item = member(object, names);
    if (!item || cJSON_IsNull(item))
        return 0;
    if (!cJSON_IsNumber(item) || !(item->valuedouble >= 0) || item->valuedouble > 1e12 ||
        item->valuedouble != floor(item->valuedouble))
        return vb_error_set(err, VB_EFORMAT, "%s: \"%s\" must be a non-negative integer", name, names[0]);
    *value = (long)item->valuedouble;
    return 0;
}

/* A number in [min, max]; absent or null leaves *value unchanged. */
static int read_number(const cJSON *object, const char *field, double min, double max, double *value,
                       const char *name, vb_error *err)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, field);
    if (!item || cJSON_IsNull(item))
        return 0;
    if (!cJSON_IsNumber(item) || !(item->valuedouble >= min && item->valuedouble <= max))
        return vb_error_set(err, VB_EFORMAT, "%s: \"%s\" must be a number in [%g, %g]", name, field, min, max);
    *value = item->valuedouble;
    return 0;
}

static const char *read_string(vb_report *report, const cJSON *object, const char *const *names)
{
    const cJSON *item = member(object, names);
    return cJSON_IsString(item) && item->valuestring ? vb_report_strdup(report, item->valuestring) : NULL;
}

/* per_class: [{"label","total","correct"}] or {"label": {"total","correct"}}. */
static int read_per_class(vb_report *report, const cJSON *root, const char *name, vb_error *err)
{
    static const char *const names[] = {"per_class", "per_class_accuracy", NULL};
    const cJSON *list = member(root, names);
    if (!list || cJSON_IsNull(list))
        return 0;
    if (!cJSON_IsArray(list) && !cJSON_IsObject(list))
        return vb_error_set(err, VB_EFORMAT, "%s: \"per_class\" must be an array or object", name);
    int n = cJSON_GetArraySize(list);
    if (n > MAX_SUMMARY_ITEMS)
        return vb_error_set(err, VB_ELIMIT, "%s: \"per_class\" has more than %d entries", name, MAX_SUMMARY_ITEMS);
    vb_report_class_accuracy *classes = calloc((size_t)n + 1, sizeof *classes);
    if (!classes)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", name);
    int m = 0;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, list)
    {
        static const char *const label_names[] = {"label", "class", "name", NULL};
        static const char *const total_names[] = {"total", "count", "clips", NULL};
        static const char *const correct_names[] = {"correct", "top1_correct", NULL};
        if (!cJSON_IsObject(entry)) {
            free(classes);
            return vb_error_set(err, VB_EFORMAT, "%s: \"per_class\" entry %d is not an object", name, m + 1);
        }
        const char *label = cJSON_IsObject(list) ? vb_report_strdup(report, entry->string)
                                                 : read_string(report, entry, label_names);
        long total = -1, correct = -1;
        int rc = read_count(entry, total_names, &total, name, err);
        if (!rc)
            rc = read_count(entry, correct_names, &correct, name, err);
        if (!rc && (!label || total < 0 || correct < 0 || correct > total || total > 1000000000))
            rc = vb_error_set(err, VB_EFORMAT,
                              "%s: \"per_class\" entry %d needs a label and counts with 0 <= correct <= total", name,
                              m + 1);
        if (rc) {
            free(classes);
            return rc;
        }
        const cJSON *in_model = cJSON_GetObjectItemCaseSensitive(entry, "in_model");
        classes[m++] = (vb_report_class_accuracy){label, (int)total, (int)correct, cJSON_IsFalse(in_model)};
    }
    free(report->evaluation.classes);
    report->evaluation.classes = classes;
    report->evaluation.num_classes = m;
    return 0;
}

static int read_confusions(vb_report *report, const cJSON *root, const char *name, vb_error *err)
{
    static const char *const names[] = {"confused_pairs", "most_confused", "confusions", NULL};
    const cJSON *list = member(root, names);
    if (!list || cJSON_IsNull(list))
        return 0;
    if (!cJSON_IsArray(list))
        return vb_error_set(err, VB_EFORMAT, "%s: \"confused_pairs\" must be an array", name);
    int n = cJSON_GetArraySize(list);
    if (n > MAX_SUMMARY_ITEMS)
        return vb_error_set(err, VB_ELIMIT, "%s: \"confused_pairs\" has more than %d entries", name,
                            MAX_SUMMARY_ITEMS);
    vb_report_confusion *pairs = calloc((size_t)n + 1, sizeof *pairs);
    if (!pairs)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", name);
    int m = 0;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, list)
    {
        static const char *const truth_names[] = {"truth", "ground_truth", "true", "label", NULL};
        static const char *const predicted_names[] = {"predicted", "prediction", "pred", NULL};
        static const char *const count_names[] = {"count", "n", NULL};
        long count = -1;
        const char *truth = cJSON_IsObject(entry) ? read_string(report, entry, truth_names) : NULL;
        const char *predicted = cJSON_IsObject(entry) ? read_string(report, entry, predicted_names) : NULL;
        int rc = cJSON_IsObject(entry) ? read_count(entry, count_names, &count, name, err) : 0;
        if (!rc && (!truth || !predicted || count < 0 || count > 1000000000))
            rc = vb_error_set(err, VB_EFORMAT, "%s: \"confused_pairs\" entry %d needs truth, predicted and count",
                              name, m + 1);
        if (rc) {
            free(pairs);
            return rc;
        }
        pairs[m++] = (vb_report_confusion){truth, predicted, (int)count};
    }
    free(report->evaluation.confusions);
    report->evaluation.confusions = pairs;
    report->evaluation.num_confusions = m;
    return 0;
}

/* Stage times: "timing_ms": {"decode": 812.5, ...} (milliseconds per stage), or the
 * evaluation's "timing": {"decode_ms": ..., "model_ms": ..., "model_ms_per_clip": ...}
 * where only the "<stage>_ms" totals are stages (per-clip figures are recomputed). */
static int read_timing(vb_report *report, const cJSON *root, const char *name, vb_error *err)
{
    const cJSON *timing = cJSON_GetObjectItemCaseSensitive(root, "timing_ms");
    int suffixed = 0;
    if (!timing) {
        timing = cJSON_GetObjectItemCaseSensitive(root, "timing");
        suffixed = 1;
    }
    if (!timing || cJSON_IsNull(timing))
        return 0;
    if (!cJSON_IsObject(timing))
        return vb_error_set(err, VB_EFORMAT, "%s: \"%s\" must be an object", name, suffixed ? "timing" : "timing_ms");
    vb_report_stage *stages = calloc(MAX_STAGES, sizeof *stages);
    if (!stages)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", name);
    int m = 0;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, timing)
    {
        if (!cJSON_IsNumber(entry) || !entry->string)
            continue; /* fields we do not chart */
        size_t length = strlen(entry->string);
        if (suffixed && (length <= 3 || strcmp(entry->string + length - 3, "_ms")))
            continue;
        if (!isfinite(entry->valuedouble) || entry->valuedouble < 0 || m == MAX_STAGES) {
            free(stages);
            return vb_error_set(err, VB_EFORMAT, "%s: timing must be at most %d non-negative numbers", name,
                                MAX_STAGES);
        }
        stages[m].name = report_strndup(report, entry->string, suffixed ? length - 3 : length);
        stages[m++].ms = entry->valuedouble;
    }
    free(report->evaluation.stages);
    report->evaluation.stages = stages;
    report->evaluation.num_stages = m;
    return 0;
}

/* "skipped": [{"clip_id": ..., "reason": ...}] (a count is read from "clips"). */
static int read_skipped(vb_report *report, const cJSON *root, const char *name, vb_error *err)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "skipped");
    if (!cJSON_IsArray(list))
        return 0;
    int n = cJSON_GetArraySize(list);
    if (n > MAX_SUMMARY_ITEMS)
        return vb_error_set(err, VB_ELIMIT, "%s: \"skipped\" has more than %d entries", name, MAX_SUMMARY_ITEMS);
    vb_report_skipped *skipped = calloc((size_t)n + 1, sizeof *skipped);
    if (!skipped)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", name);
    static const char *const id_names[] = {"clip_id", "video_id", "clip", NULL};
    static const char *const reason_names[] = {"reason", NULL};
    int m = 0;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, list)
    {
        const char *clip_id = cJSON_IsObject(entry) ? read_string(report, entry, id_names) : NULL;
        if (!clip_id) {
            free(skipped);
            return vb_error_set(err, VB_EFORMAT, "%s: \"skipped\" entry %d needs a clip_id", name, m + 1);
        }
        skipped[m++] = (vb_report_skipped){clip_id, read_string(report, entry, reason_names)};
    }
    free(report->evaluation.skipped_clips);
    report->evaluation.skipped_clips = skipped;
    report->evaluation.num_skipped_clips = m;
    if (report->evaluation.skipped < 0)
        report->evaluation.skipped = m;
    return 0;
}

/* The evaluation's "configuration" is "key=value ..." (model=... resize=stretch frames=16 ...):
 * the frames and crop the model saw, so previews show the same. Unknown keys are ignored.
 * (Newer summaries also carry them as the fields num_frames and resize, read after this.) */
static void read_configuration(vb_report_evaluation *ev, const char *configuration)
{
    const char *p = configuration;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t length = strcspn(p, " ");
        if (length > 7 && !strncmp(p, "frames=", 7)) {
            long frames = strtol(p + 7, NULL, 10);
            if (frames > 0 && frames <= 100000)
                ev->num_frames = (int)frames;
        } else if (length > 7 && length - 7 < 16 && !strncmp(p, "resize=", 7)) {
            char name[16];
            vb_resize_mode mode;
            memcpy(name, p + 7, length - 7);
            name[length - 7] = '\0';
            if (vb_resize_mode_parse(name, &mode) == 0)
                ev->resize = (int)mode;
        }
        p += length;
    }
}

/* The model's identity and cost (written by vidbench evaluate since the compare verb):
 * parameters.{model,frames,classes,clips,crops}, num_classes, precision, label_map, gflop_per_clip,
 * peak_rss_bytes, timing.{clips_per_s_this_run,model_ms_per_clip}. */
static int read_model_facts(vb_report *report, const cJSON *root, const char *name, vb_error *err)
{
    vb_report_evaluation *ev = &report->evaluation;
    const cJSON *parameters = cJSON_GetObjectItemCaseSensitive(root, "parameters");
    if (parameters && !cJSON_IsObject(parameters))
        return vb_error_set(err, VB_EFORMAT, "%s: \"parameters\" must be an object", name);
    const cJSON *timing = cJSON_GetObjectItemCaseSensitive(root, "timing");
    double frames = -1, classes = 0, top_classes = 0, views_temporal = 0, views_spatial = 0;
    double clips_per_s = -1, model_ms = -1, gflop = -1, rss = -1;
    int rc = read_number(parameters, "frames", 0, 100000, &frames, name, err);
    if (!rc)
        rc = read_number(parameters, "classes", 1, 1e6, &classes, name, err);
    if (!rc)
        rc = read_number(root, "num_classes", 1, 1e6, &top_classes, name, err);
    if (!rc)
        rc = read_number(parameters, "clips", 1, 1000, &views_temporal, name, err);
    if (!rc)
        rc = read_number(parameters, "crops", 1, 1000, &views_spatial, name, err);
    if (!rc && cJSON_IsObject(timing))
        rc = read_number(timing, "clips_per_s_this_run", 0, 1e9, &clips_per_s, name, err);
    if (!rc && cJSON_IsObject(timing))
        rc = read_number(timing, "model_ms_per_clip", 0, 1e12, &model_ms, name, err);
    if (!rc)
        rc = read_number(root, "gflop_per_clip", 0, 1e12, &gflop, name, err);
    if (!rc)
        rc = read_number(root, "peak_rss_bytes", 0, 1e18, &rss, name, err);
    if (rc)
        return rc;
    static const char *const file_names[] = {"model", NULL};
    static const char *const precision_names[] = {"precision", NULL};
    static const char *const label_map_names[] = {"label_map", NULL};
    ev->model_file = parameters ? read_string(report, parameters, file_names) : NULL;
    ev->precision = read_string(report, root, precision_names);
    ev->label_map = read_string(report, root, label_map_names);
    ev->model_classes = (int)(top_classes > 0 ? top_classes : classes);
    ev->model_frames = (int)frames;
    ev->views_temporal = (int)views_temporal;
    ev->views_spatial = (int)views_spatial;
    ev->clips_per_s = clips_per_s > 0 ? clips_per_s : -1; /* 0: nothing ran this time (resumed) */
    ev->model_ms_per_clip = model_ms > 0 ? model_ms : -1;
    ev->gflop_per_clip = gflop > 0 ? gflop : -1;
    ev->peak_rss_bytes = rss > 0 ? rss : -1;
    return 0;
}

int vb_report_parse_summary(vb_report *report, const char *data, size_t size, const char *name, vb_error *err)
{
    cJSON *root = cJSON_ParseWithLength(data, size);
    if (!root)
        return vb_error_set(err, VB_EFORMAT, "%s: not valid JSON", name);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return vb_error_set(err, VB_EFORMAT, "%s: the top level must be a JSON object", name);
    }
    vb_report_evaluation *ev = &report->evaluation;
    static const char *const top1_names[] = {"top1_accuracy", "top1", "top_1_accuracy", NULL};
    static const char *const topn_names[] = {"topn_accuracy", "top5_accuracy", "top_n_accuracy", "top5",
                                             "top_5_accuracy", NULL};
    static const char *const mean_names[] = {"mean_class_accuracy", NULL};
    static const char *const top_n_names[] = {"top_n", NULL};
    static const char *const frames_names[] = {"num_frames", NULL};
    static const char *const evaluated_names[] = {"evaluated", "num_evaluated", NULL};
    static const char *const skipped_names[] = {"skipped", "num_skipped", NULL};
    static const char *const model_names[] = {"model", "model_type", "configuration", NULL};
    long top_n = 0, num_frames = 0, evaluated = -1, skipped = -1;
    const cJSON *clips = cJSON_GetObjectItemCaseSensitive(root, "clips");
    const cJSON *counts = cJSON_IsObject(clips) ? clips : root;
    int rc = read_accuracy(root, top1_names, &ev->top1, name, err);
    if (!rc)
        rc = read_accuracy(root, topn_names, &ev->topn, name, err);
    if (!rc)
        rc = read_accuracy(root, mean_names, &ev->mean_class_accuracy, name, err);
    if (!rc)
        rc = read_count(root, top_n_names, &top_n, name, err);
    if (!rc)
        rc = read_count(root, frames_names, &num_frames, name, err);
    if (!rc)
        rc = read_count(counts, evaluated_names, &evaluated, name, err);
    const cJSON *skipped_item = cJSON_GetObjectItemCaseSensitive(counts, "skipped");
    if (!rc && !cJSON_IsArray(skipped_item))
        rc = read_count(counts, skipped_names, &skipped, name, err);
    if (!rc)
        rc = read_per_class(report, root, name, err);
    if (!rc)
        rc = read_confusions(report, root, name, err);
    if (!rc)
        rc = read_timing(report, root, name, err);
    if (!rc)
        rc = read_skipped(report, root, name, err);
    if (!rc)
        rc = read_model_facts(report, root, name, err);
    if (!rc && (top_n > VB_REPORT_MAX_TOP * 100 || num_frames > 100000))
        rc = vb_error_set(err, VB_EFORMAT, "%s: top_n or num_frames out of range", name);
    if (!rc) {
        ev->model = read_string(report, root, model_names);
        const cJSON *configuration = cJSON_GetObjectItemCaseSensitive(root, "configuration");
        if (cJSON_IsString(configuration) && configuration->valuestring)
            read_configuration(ev, configuration->valuestring);
        const cJSON *resize = cJSON_GetObjectItemCaseSensitive(root, "resize");
        vb_resize_mode mode;
        if (cJSON_IsString(resize) && resize->valuestring && vb_resize_mode_parse(resize->valuestring, &mode) == 0)
            ev->resize = (int)mode;
        ev->top_n = (int)top_n;
        if (num_frames > 0)
            ev->num_frames = (int)num_frames;
        if (evaluated >= 0)
            ev->evaluated = evaluated;
        if (skipped >= 0)
            ev->skipped = skipped;
        ev->present = 1;
        ev->source = "summary.json";
        report->summary_name = vb_report_strdup(report, name);
    }
    cJSON_Delete(root);
    return rc;
}

int vb_report_summary_beside(const char *csv_path, char **path, vb_error *err)
{
    *path = NULL;
    size_t length = strlen(csv_path) + sizeof ".summary.json";
    char *candidate = malloc(length);
    if (!candidate)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", csv_path);
    const char *dot = strrchr(csv_path, '.');
    const char *slash = strrchr(csv_path, '/');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - csv_path) : strlen(csv_path);
    snprintf(candidate, length, "%.*s.summary.json", (int)stem, csv_path);
    if (access(candidate, R_OK) != 0) {
        size_t dir_length = slash ? (size_t)(slash - csv_path) + 1 : 0;
        snprintf(candidate, length, "%.*ssummary.json", (int)dir_length, csv_path);
    }
    if (access(candidate, R_OK) == 0)
        *path = candidate;
    else
        free(candidate);
    return 0;
}

int vb_report_load_summary(vb_report *report, const char *path, vb_error *err)
{
    char *data = NULL;
    size_t size = 0;
    int rc = fs_read_file(path, MAX_SUMMARY_BYTES, &data, &size, err);
    if (rc)
        return rc;
    rc = vb_report_parse_summary(report, data, size, path, err);
    free(data);
    return rc;
}
