/* Dataset adapter of the report: fills the dataset section and the local clips from a
 * DATA_DIR managed by `vidbench data` (public dataset.h API only). Label names come from
 * the downloaded annotation files and are escaped by the page writer like any other text. */
#include "vidbench/report.h"
#include "vidbench/dataset.h"
#include "report/report_internal.h"

#include <stdlib.h>
#include <string.h>

static int set_missing_classes_from(vb_report *report, const vb_annotations *annotations)
{
    if (!annotations->has_labels || annotations->label_count <= 0)
        return 0;
    const char **names = malloc((size_t)annotations->label_count * sizeof *names);
    if (!names)
        return VB_ENOMEM;
    for (int i = 0; i < annotations->label_count; i++) {
        names[i] = vb_report_strdup(report, annotations->labels[i]);
        if (!names[i]) {
            free(names);
            return VB_ENOMEM;
        }
    }
    free(report->dataset.label_map);
    report->dataset.label_map = names;
    report->dataset.label_map_count = annotations->label_count;
    report->dataset.label_map_name = "the split's annotations";
    return 0;
}

int vb_report_load_dataset(vb_report *report, const char *data_dir, int version, const char *split_name,
                           const char *report_dir, vb_error *err)
{
    vb_split wanted_split = VB_SPLIT_VAL;
    if (split_name && vb_split_parse(split_name, &wanted_split))
        return vb_error_set(err, VB_EINVAL, "%s: unknown split (train, val or test)", split_name);
    vb_dataset *dataset = NULL;
    int rc = vb_dataset_open(data_dir, &dataset, err);
    if (rc)
        return rc;
    vb_split_status *status = NULL;
    size_t count = 0;
    rc = vb_dataset_status(dataset, &status, &count, err);
    if (rc) {
        vb_dataset_free(&dataset);
        return rc;
    }
    report->dataset.splits = calloc(count + 1, sizeof *report->dataset.splits);
    if (!report->dataset.splits) {
        free(status);
        vb_dataset_free(&dataset);
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", data_dir);
    }
    report->data_name = vb_report_strdup(report, data_dir);
    int missing_set = report->dataset.label_map_count > 0;
    for (size_t i = 0; i < count && !rc; i++) {
        const vb_split_status *row = &status[i];
        vb_report_split_row *out = &report->dataset.splits[report->dataset.num_splits++];
        snprintf(out->version, sizeof out->version, "%d", row->version);
        snprintf(out->split, sizeof out->split, "%s", vb_split_name(row->split));
        out->annotated = row->annotated > 0 ? row->annotated : -1;
        out->downloaded = row->clips_unpacked;
        out->prepared = row->clips_prepared;
        out->bad = row->clips_bad;
        out->partitions_done = row->partitions_done;
        out->partitions_total = row->partitions_total;

        if ((version && row->version != version) || (split_name && row->split != wanted_split))
            continue;
        vb_dataset_clip_list clips;
        rc = vb_dataset_clips(dataset, row->version, row->split, NULL, &clips, err);
        if (rc)
            break;
        for (size_t c = 0; c < clips.count && !rc; c++) {
            const vb_dataset_clip *entry = &clips.clips[c];
            vb_report_clip *clip = report_attach_file(report, entry->clip_id, entry->path, report_dir, err);
            if (!clip) {
                rc = err && err->code ? err->code : VB_ENOMEM;
                break;
            }
            if (!clip->youtube_id && entry->youtube_id[0])
                clip->youtube_id = vb_report_strdup(report, entry->youtube_id);
            if (!clip->label && entry->label)
                clip->label = vb_report_strdup(report, entry->label);
            if (entry->status == VB_CLIP_BAD && entry->bad_reason)
                clip->bad_reason = vb_report_strdup(report, entry->bad_reason);
        }
        vb_dataset_clip_list_free(&clips);
        if (!rc && !missing_set) {
            vb_annotations annotations;
            if (vb_dataset_load_annotations(dataset, row->version, row->split, &annotations, NULL) == 0) {
                if (set_missing_classes_from(report, &annotations))
                    rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", data_dir);
                else
                    missing_set = 1;
                vb_annotations_free(&annotations);
            }
        }
    }
    free(status);
    vb_dataset_free(&dataset);
    return rc;
}
