/* libFuzzer target for the one CSV reader (src/common/csv.c) and the three parsers built on it:
 * the reader alone (with and without comment skipping, checking that every field it returns is
 * NUL-terminated at its stated length), Kinetics annotations, --clips lists and results CSVs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/csv.h"
#include "vidbench/dataset.h"
#include "vidbench/eval.h"
#include "vidbench/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *text = (const char *)data + 1;
    const size_t n = size - 1;
    csv_reader reader;
    csv_reader_init(&reader, text, n, "fuzz");
    reader.skip_comments = data[0] & 1;
    csv_record record = {0};
    long last_line = 0;
    while (csv_next(&reader, &record, NULL) == 1) {
        if (record.count < 1 || record.count > CSV_MAX_COLUMNS || record.line < last_line)
            abort();
        for (int i = 0; i < record.count; i++)
            if (strlen(record.fields[i]) != record.lengths[i] || record.lengths[i] > CSV_MAX_FIELD_BYTES)
                abort();   /* a field holds no NUL, so strlen equals its length */
        last_line = record.line;
    }
    csv_record_free(&record);

    vb_annotations annotations;
    if (vb_annotations_parse(text, n, "fuzz", &annotations, NULL) == 0)
        vb_annotations_free(&annotations);
    vb_eval_clip_list clips;
    if (vb_eval_clip_list_parse(text, n, "fuzz", "/base", &clips, NULL) == 0)
        vb_eval_clip_list_free(&clips);
    vb_report report;
    vb_report_init(&report);
    (void)vb_report_parse_results_csv(&report, text, n, "fuzz", NULL);
    vb_report_free(&report);
    return 0;
}
