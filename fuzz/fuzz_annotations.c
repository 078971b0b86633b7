/* libFuzzer target for the dataset's text parsers: annotation CSV / `ls -R` listing, partition
 * path lists, clip file names and mirror URL rewriting. The first input byte picks the parser
 * for half the runs so each gets inputs shaped for it; lookups run on every parsed result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vidbench/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    vb_annotations a;
    if (vb_annotations_parse(text, n, "fuzz", &a, NULL) == 0) {
        for (size_t i = 0; i < a.count && i < 64; i++) {
            long row = vb_annotations_find(&a, a.rows[i].youtube_id, a.rows[i].time_start);
            if (row < 0)
                abort(); /* every parsed row must be found again */
            (void)vb_annotation_label(&a, (size_t)row);
        }
        vb_annotations_free(&a);
    }
    vb_pathlist list;
    if (vb_pathlist_parse(text, n, "fuzz", &list, NULL) == 0) {
        for (size_t i = 0; i < list.count && i < 64; i++) {
            char *url = vb_mirror_url(list.urls[i], (data[0] & 1) ? "http://127.0.0.1:1/m" : NULL);
            free(url);
        }
        vb_pathlist_free(&list);
    }
    char *name = malloc(n + 1);
    if (name) {
        memcpy(name, text, n);
        name[n] = '\0';
        char id[12];
        int s, e;
        if (vb_clip_name_parse(name, id, &s, &e) == 0 && (strlen(id) != 11 || e < s))
            abort();
        free(name);
    }
    return 0;
}
