/* Reader of the seed-format results CSV (video_id,YouTube_Id,Ground_Truth,pred_1..N,
 * score_1..N). The file is untrusted: RFC 4180 quoting, CRLF or LF, a UTF-8 BOM, bounded
 * sizes; columns are found by header name, extra columns (a pandas index) are ignored. */
#include "vidbench/report.h"
#include "report/report_internal.h"
#include "common/csv.h"
#include "common/fsutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESULTS_BYTES (256u << 20)
/* Softmax outputs written with limited precision may sum or round a hair past 1. */
#define SCORE_TOLERANCE 1e-4

static int parse_score(const char *text, double *score)
{
    if (!*text)
        return -1;
    char *end;
    double value = strtod(text, &end);
    while (*end == ' ')
        end++;
    if (*end || !isfinite(value) || value < -SCORE_TOLERANCE || value > 1 + SCORE_TOLERANCE)
        return -1;
    *score = value < 0 ? 0 : value > 1 ? 1 : value;
    return 0;
}

/* Column index of "<prefix><k>" in the header, or -1. */
static int find_numbered(char *const *header, int count, const char *prefix, int k)
{
    char name[32];
    snprintf(name, sizeof name, "%s%d", prefix, k);
    for (int i = 0; i < count; i++)
        if (!strcmp(header[i], name))
            return i;
    return -1;
}

static int find_column(char *const *header, int count, const char *name)
{
    for (int i = 0; i < count; i++)
        if (!strcmp(header[i], name))
            return i;
    return -1;
}

int vb_report_parse_results_csv(vb_report *report, const char *data, size_t size, const char *name,
                                vb_error *err)
{
    csv_reader reader;
    csv_reader_init(&reader, data, size, name);
    char *header_copy[CSV_MAX_COLUMNS];
    csv_record *record = calloc(1, sizeof *record);
    if (!record)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", name);
    char **fields = record->fields;
    int rc;
    char *header_storage = NULL;
    int header_count = 0;

    rc = csv_next(&reader, record, err);
    int count = record->count;
    if (rc <= 0) {
        csv_record_free(record);
        free(record);
        return rc < 0 ? rc : vb_error_set(err, VB_EFORMAT, "%s: empty file, expected a header row", name);
    }
    /* Keep the header: the record buffer is reused for every row. */
    size_t header_bytes = 0;
    for (int i = 0; i < count; i++)
        header_bytes += strlen(fields[i]) + 1;
    header_storage = malloc(header_bytes ? header_bytes : 1);
    if (!header_storage) {
        csv_record_free(record);
        free(record);
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", name);
    }
    size_t offset = 0;
    for (int i = 0; i < count; i++) {
        size_t length = strlen(fields[i]) + 1;
        memcpy(header_storage + offset, fields[i], length);
        header_copy[i] = header_storage + offset;
        offset += length;
    }
    header_count = count;

    int col_id = find_column(header_copy, header_count, "video_id");
    int col_youtube = find_column(header_copy, header_count, "YouTube_Id");
    int col_truth = find_column(header_copy, header_count, "Ground_Truth");
    int col_pred[VB_REPORT_MAX_TOP], col_score[VB_REPORT_MAX_TOP];
    int top_n = 0;
    while (top_n < VB_REPORT_MAX_TOP) {
        col_pred[top_n] = find_numbered(header_copy, header_count, "pred_", top_n + 1);
        col_score[top_n] = find_numbered(header_copy, header_count, "score_", top_n + 1);
        if (col_pred[top_n] < 0 || col_score[top_n] < 0)
            break;
        top_n++;
    }
    if (col_id < 0 || col_truth < 0 || top_n == 0) {
        rc = vb_error_set(err, VB_EFORMAT,
                          "%s: header lacks %s; expected video_id,YouTube_Id,Ground_Truth,pred_1..N,score_1..N",
                          name, col_id < 0 ? "video_id" : col_truth < 0 ? "Ground_Truth" : "pred_1/score_1");
        goto done;
    }

    long rows = 0;
    while ((rc = csv_next(&reader, record, err)) == 1) {
        count = record->count;
        long line = record->line;
        if (csv_record_is_blank(record))
            continue;
        if (count != header_count) {
            rc = vb_error_set(err, VB_EFORMAT, "%s:%ld: %d fields, the header has %d", name, line, count,
                              header_count);
            goto done;
        }
        const char *video_id = fields[col_id];
        if (!*video_id) {
            rc = vb_error_set(err, VB_EFORMAT, "%s:%ld: empty video_id", name, line);
            goto done;
        }
        vb_report_clip *existing = vb_report_clip_find(report, video_id);
        if (existing && existing->num_predictions) {
            rc = vb_error_set(err, VB_EFORMAT, "%s:%ld: video_id appears twice", name, line);
            goto done;
        }
        vb_report_clip *clip = existing ? existing : vb_report_clip_get(report, video_id, err);
        if (!clip) {
            rc = err ? err->code : VB_ENOMEM;
            goto done;
        }
        if (col_youtube >= 0 && fields[col_youtube][0])
            clip->youtube_id = vb_report_strdup(report, fields[col_youtube]);
        if (fields[col_truth][0])
            clip->label = vb_report_strdup(report, fields[col_truth]);
        for (int k = 0; k < top_n; k++) {
            double score;
            if (parse_score(fields[col_score[k]], &score)) {
                rc = vb_error_set(err, VB_EFORMAT, "%s:%ld: score_%d '%.40s' is not a probability in [0,1]",
                                  name, line, k + 1, fields[col_score[k]]);
                goto done;
            }
            if (!fields[col_pred[k]][0]) {
                rc = vb_error_set(err, VB_EFORMAT, "%s:%ld: pred_%d is empty", name, line, k + 1);
                goto done;
            }
            clip->pred_labels[k] = vb_report_strdup(report, fields[col_pred[k]]);
            clip->pred_scores[k] = score;
            if (!clip->pred_labels[k]) {
                rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", name);
                goto done;
            }
        }
        clip->num_predictions = top_n;
        rows++;
    }
    if (rc == 0 && rows == 0)
        rc = vb_error_set(err, VB_EFORMAT, "%s: no result rows after the header", name);
done:
    csv_record_free(record);
    free(record);
    free(header_storage);
    if (rc == 0 && !report->results_name)
        report->results_name = vb_report_strdup(report, name);
    return rc < 0 ? rc : 0;
}

int vb_report_load_results_csv(vb_report *report, const char *path, vb_error *err)
{
    char *data = NULL;
    size_t size = 0;
    int rc = fs_read_file(path, MAX_RESULTS_BYTES, &data, &size, err);
    if (rc)
        return rc;
    rc = vb_report_parse_results_csv(report, data, size, path, err);
    free(data);
    return rc;
}
