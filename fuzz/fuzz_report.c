/* libFuzzer target for the report's untrusted inputs: the results CSV reader, the
 * summary.json reader (first input byte picks which), metrics derived from what was read,
 * and the HTML escaper over the raw bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vidbench/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    size_t length = size - 1;
    vb_report report;
    vb_report_init(&report);
    vb_error err = {0};
    int rc = data[0] & 1 ? vb_report_parse_summary(&report, text, length, "fuzz.json", &err)
                         : vb_report_parse_results_csv(&report, text, length, "fuzz.csv", &err);
    if (rc == 0)
        vb_report_finish(&report, 8, &err);
    vb_report_free(&report);

    char *copy = malloc(length + 1);
    if (copy) {
        memcpy(copy, text, length);
        copy[length] = '\0';
        char out[256];
        size_t needed = vb_html_escape(copy, out, sizeof out);
        if (needed < sizeof out && strlen(out) != needed)
            abort(); /* the escape must report the length it wrote */
        free(copy);
    }
    return 0;
}
