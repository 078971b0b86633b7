/* libFuzzer target for vidbench compare's untrusted inputs taken together: the input is split
 * at "\n====\n" into up to four parts, CSV A, CSV B, summary A, summary B, written as
 * a.csv, b.csv, a.summary.json, b.summary.json in a private folder; then vb_compare_load
 * (alignment, label keys, statistics) and vb_compare_to_json run on them. */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vidbench/compare.h"

static char folder[64];

static void write_part(const char *name, const uint8_t *data, size_t size)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", folder, name);
    if (!data) {
        unlink(path);
        return;
    }
    FILE *fp = fopen(path, "wb");
    if (!fp)
        abort();
    fwrite(data, 1, size, fp);
    fclose(fp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!folder[0]) {
        snprintf(folder, sizeof folder, "/tmp/fuzz_compare.%d", (int)getpid());
        mkdir(folder, 0700);
    }
    static const char *const names[] = {"a.csv", "b.csv", "a.summary.json", "b.summary.json"};
    const uint8_t *part = data;
    size_t left = size;
    for (int i = 0; i < 4; i++) {
        const uint8_t *end = left >= 6 ? memmem(part, left, "\n====\n", 6) : NULL;
        size_t length = end ? (size_t)(end - part) : left;
        write_part(names[i], part ? part : (const uint8_t *)"", part ? length : 0);
        if (!end) {
            for (int j = i + 1; j < 4; j++)
                write_part(names[j], NULL, 0); /* absent: no summary */
            break;
        }
        part = end + 6;
        left -= length + 6;
    }
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/a.csv", folder);
    snprintf(b, sizeof b, "%s/b.csv", folder);
    vb_compare_input inputs[2] = {{.csv_path = a}, {.csv_path = b}};
    vb_compare cmp;
    vb_error err = {0};
    if (vb_compare_load(&cmp, inputs, 2, &err) == 0) {
        free(vb_compare_to_json(&cmp, &err));
        vb_compare_free(&cmp);
    }
    return 0;
}
