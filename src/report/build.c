/* vb_report_build: the report's whole sequence in one place (the CLI verb and the Python
 * bindings only gather arguments): inputs, then the sample, the media and the page. */
#include "vidbench/compare.h"
#include "vidbench/report.h"

#include <stdlib.h>
#include <string.h>

void vb_report_request_init(vb_report_request *request)
{
    memset(request, 0, sizeof *request);
    request->sample = 8;
    vb_report_media_options_init(&request->media);
}

int vb_report_build(const vb_report_request *req, vb_report_outcome *outcome, vb_error *err)
{
    memset(outcome, 0, sizeof *outcome);
    if (!req->output || req->num_results < 0 || req->num_results > VB_REPORT_MAX_RESULTS || req->num_videos < 0)
        return vb_error_set(err, VB_EINVAL, "report: an output page and at most %d results are needed",
                            VB_REPORT_MAX_RESULTS);
    vb_report report;
    vb_report_init(&report);
    vb_compare compare = {0};
    vb_report_media_options media = req->media;
    char *report_dir = NULL, *files_dir = NULL, *default_summary = NULL;
    const char *results = req->num_results > 0 ? req->results[0] : NULL, *summary = req->summary;
    int rc = vb_report_output_dirs(req->output, &report_dir, &files_dir, err);
    if (!rc && req->title && !(report.title = vb_report_strdup(&report, req->title)))
        rc = vb_error_set(err, VB_ENOMEM, "report: out of memory");
    if (!rc && results)
        rc = vb_report_load_results_csv(&report, results, err);
    if (!rc && !summary && results) {
        /* vidbench evaluate writes <name>.summary.json beside <name>.csv */
        rc = vb_report_summary_beside(results, &default_summary, err);
        summary = default_summary;
    }
    if (!rc && summary)
        rc = vb_report_load_summary(&report, summary, err);
    if (!rc && req->num_results > 1) {
        vb_compare_input inputs[VB_REPORT_MAX_RESULTS];
        for (int i = 0; i < req->num_results; i++)
            inputs[i] = (vb_compare_input){.csv_path = req->results[i]};
        inputs[0].summary_path = summary;
        rc = vb_compare_load(&compare, inputs, req->num_results, err);
        if (!rc)
            report.compare = &compare;
    }
    if (!rc && req->label_map)
        rc = vb_report_set_label_map(&report, req->label_map, err);
    if (!rc && req->data_dir)
        rc = vb_report_load_dataset(&report, req->data_dir, req->version, req->split, report_dir, err);
    /* Previews show what the model saw: its crop and frame count, unless overridden. */
    if (!rc && !req->resize_given && report.evaluation.resize >= 0)
        media.video.resize = (vb_resize_mode)report.evaluation.resize;
    if (!rc && req->num_videos)
        rc = vb_report_add_videos(&report, req->videos, req->num_videos, report_dir, err);
    if (!rc)
        rc = vb_report_finish(&report, req->sample, err);
    if (!rc)
        rc = vb_report_build_media(&report, report_dir, files_dir, &media, err);
    if (!rc)
        rc = vb_report_write_html(&report, req->output, err);
    if (!rc) {
        outcome->num_clips = report.num_clips;
        outcome->num_sample = report.num_sample;
        for (int s = 0; s < report.num_sample; s++)
            outcome->num_previews += report.clips[report.sample[s]].preview_href != NULL;
    }
    vb_report_free(&report);
    vb_compare_free(&compare);
    free(report_dir);
    free(files_dir);
    free(default_summary);
    return rc;
}
