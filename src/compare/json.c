/* vb_compare_to_json: the comparison as one JSON document (cJSON), the numbers exactly as
 * computed; unknown figures are null. The schema is documented in docs/report.md. */
#include "vidbench/compare.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

static cJSON *number_or_null(double value)
{
    return value >= 0 ? cJSON_CreateNumber(value) : cJSON_CreateNull();
}

static cJSON *string_or_null(const char *text)
{
    return text ? cJSON_CreateString(text) : cJSON_CreateNull();
}

static cJSON *rate_json(const vb_compare_rate *rate, const char *count_name, const char *n_name)
{
    cJSON *object = cJSON_CreateObject();
    cJSON_AddItemToObject(object, "value", number_or_null(rate->value));
    cJSON_AddNumberToObject(object, "low", rate->low);
    cJSON_AddNumberToObject(object, "high", rate->high);
    cJSON_AddNumberToObject(object, count_name, (double)rate->count);
    cJSON_AddNumberToObject(object, n_name, rate->n);
    return object;
}

static cJSON *run_json(const vb_compare *cmp, const vb_compare_run *run)
{
    cJSON *object = cJSON_CreateObject();
    cJSON_AddStringToObject(object, "label", run->label);
    cJSON_AddStringToObject(object, "csv", run->csv_path);
    cJSON_AddItemToObject(object, "summary", string_or_null(run->summary_path));
    cJSON_AddItemToObject(object, "model", string_or_null(run->model));
    cJSON_AddItemToObject(object, "precision", string_or_null(run->precision));
    cJSON_AddItemToObject(object, "num_classes", run->num_classes > 0 ? cJSON_CreateNumber(run->num_classes)
                                                                      : cJSON_CreateNull());
    cJSON_AddItemToObject(object, "num_frames", number_or_null(run->num_frames));
    cJSON_AddItemToObject(object, "resize", string_or_null(run->resize));
    cJSON *views = run->views_temporal > 0 && run->views_spatial > 0 ? cJSON_CreateArray() : cJSON_CreateNull();
    if (cJSON_IsArray(views)) {
        cJSON_AddItemToArray(views, cJSON_CreateNumber(run->views_temporal));
        cJSON_AddItemToArray(views, cJSON_CreateNumber(run->views_spatial));
    }
    cJSON_AddItemToObject(object, "views", views);
    cJSON_AddItemToObject(object, "label_map", string_or_null(run->label_map));
    cJSON_AddNumberToObject(object, "csv_clips", (double)run->csv_clips);
    cJSON_AddNumberToObject(object, "clips", (double)cmp->clips_common);
    cJSON_AddItemToObject(object, "top1", rate_json(&run->top1, "correct", "clips"));
    cJSON_AddItemToObject(object, "topk", rate_json(&run->topk, "correct", "clips"));
    cJSON_AddItemToObject(object, "mean_class", rate_json(&run->mean_class, "classes", "effective_clips"));
    cJSON_AddItemToObject(object, "clips_per_s", number_or_null(run->clips_per_s));
    cJSON_AddItemToObject(object, "model_ms_per_clip", number_or_null(run->model_ms_per_clip));
    cJSON_AddItemToObject(object, "gflop_per_clip", number_or_null(run->gflop_per_clip));
    cJSON_AddItemToObject(object, "peak_rss_bytes", number_or_null(run->peak_rss_bytes));
    cJSON_AddBoolToObject(object, "pareto", run->pareto);
    cJSON_AddNumberToObject(object, "absent", (double)run->absent);
    cJSON_AddNumberToObject(object, "absent_skipped", (double)run->absent_skipped);
    cJSON_AddNumberToObject(object, "truth_unmapped_clips", (double)run->truth_unmapped_clips);
    cJSON_AddItemToObject(object, "truth_unmapped_classes", number_or_null(run->truth_unmapped_classes));
    cJSON *confused = cJSON_AddArrayToObject(object, "most_confused");
    for (int i = 0; i < run->num_confusions; i++) {
        cJSON *item = cJSON_CreateObject();
        cJSON_AddStringToObject(item, "true", run->confusions[i].truth);
        cJSON_AddStringToObject(item, "predicted", run->confusions[i].predicted);
        cJSON_AddNumberToObject(item, "count", (double)run->confusions[i].count);
        cJSON_AddItemToArray(confused, item);
    }
    return object;
}

static cJSON *pair_json(const vb_compare *cmp, const vb_compare_pair *pair)
{
    cJSON *object = cJSON_CreateObject();
    cJSON_AddNumberToObject(object, "a", pair->a);
    cJSON_AddNumberToObject(object, "b", pair->b);
    cJSON_AddNumberToObject(object, "agree", (double)pair->agree);
    cJSON_AddNumberToObject(object, "agreement", pair->agreement);
    cJSON_AddNumberToObject(object, "both_right", (double)pair->both_right);
    cJSON_AddNumberToObject(object, "a_only_right", (double)pair->a_only);
    cJSON_AddNumberToObject(object, "b_only_right", (double)pair->b_only);
    cJSON_AddNumberToObject(object, "both_wrong", (double)pair->both_wrong);
    cJSON_AddNumberToObject(object, "mcnemar_p", pair->mcnemar_p);
    cJSON *rows = cJSON_AddArrayToObject(object, "disagreements");
    for (long i = 0; i < pair->num_disagree; i++) {
        const vb_compare_clip *clip = &cmp->clips[pair->disagree[i]];
        cJSON *item = cJSON_CreateObject();
        cJSON_AddStringToObject(item, "video_id", clip->video_id);
        cJSON_AddStringToObject(item, "truth", clip->truth);
        cJSON_AddStringToObject(item, "a", clip->top1[pair->a]);
        cJSON_AddStringToObject(item, "b", clip->top1[pair->b]);
        cJSON_AddBoolToObject(item, "a_right", clip->correct[pair->a]);
        cJSON_AddBoolToObject(item, "b_right", clip->correct[pair->b]);
        cJSON_AddItemToArray(rows, item);
    }
    return object;
}

char *vb_compare_to_json(const vb_compare *cmp, vb_error *err)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) {
        vb_error_set(err, VB_ENOMEM, "compare: out of memory");
        return NULL;
    }
    cJSON_AddNumberToObject(root, "top_k", cmp->top_k);
    cJSON *clips = cJSON_AddObjectToObject(root, "clips");
    cJSON_AddNumberToObject(clips, "union", (double)cmp->clips_union);
    cJSON_AddNumberToObject(clips, "common", (double)cmp->clips_common);
    cJSON *dropped = cJSON_AddObjectToObject(clips, "dropped");
    cJSON_AddNumberToObject(dropped, "absent_from_a_run", (double)cmp->dropped_absent);
    cJSON_AddNumberToObject(dropped, "no_ground_truth", (double)cmp->dropped_no_truth);
    cJSON_AddNumberToObject(dropped, "ground_truth_differs", (double)cmp->dropped_truth_differs);
    cJSON_AddNumberToObject(dropped, "ground_truth_not_a_model_class", (double)cmp->dropped_unmapped);
    cJSON *runs = cJSON_AddArrayToObject(root, "runs");
    for (int r = 0; r < cmp->num_runs; r++)
        cJSON_AddItemToArray(runs, run_json(cmp, &cmp->runs[r]));
    cJSON *pairs = cJSON_AddArrayToObject(root, "pairs");
    for (int p = 0; p < cmp->num_pairs; p++)
        cJSON_AddItemToArray(pairs, pair_json(cmp, &cmp->pairs[p]));
    cJSON *classes = cJSON_AddArrayToObject(root, "classes");
    for (int c = 0; c < cmp->num_classes; c++) {
        const vb_compare_class *cls = &cmp->classes[c];
        cJSON *item = cJSON_CreateObject();
        cJSON_AddStringToObject(item, "class", cls->label);
        cJSON_AddNumberToObject(item, "clips", (double)cls->clips);
        cJSON *correct = cJSON_AddArrayToObject(item, "correct");
        for (int r = 0; r < cmp->num_runs; r++)
            cJSON_AddItemToArray(correct, cJSON_CreateNumber((double)cls->correct[r]));
        cJSON_AddNumberToObject(item, "spread", cls->spread);
        cJSON_AddItemToArray(classes, item);
    }
    /* As in src/eval/outputs.c only the final print is checked for memory: an item whose
     * allocation failed while building would be left out. */
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        vb_error_set(err, VB_ENOMEM, "compare: out of memory");
    return text;
}
