/* Class names across label spaces: a key that survives case and punctuation differences,
 * and the Kinetics-400 classes that Kinetics-600 renamed without changing what they mean. */
#include "vidbench/compare.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Kinetics-400 name -> Kinetics-600 name, both as keys. Found by comparing the real label
 * maps (../shared/data/labelmaps): 368 of the 400 names are in the 600 map verbatim, one
 * differs in case only ("passing American football (not in game)"); of the other 31, these
 * four are the same action reworded. Classes the 600 split with a qualifier ("hugging" ->
 * "hugging (not baby)" + "hugging baby", "opening bottle" -> "... (not wine)" + "opening
 * wine bottle") are deliberately not mapped: the 400 class holds clips that a 600 model
 * rightly files under the other half. Kinetics-700 keeps the 600 names. */
static const struct {
    const char *from, *to;
} renames[] = {
    {"dyinghair", "dyeinghair"},
    {"garbagecollecting", "personcollectinggarbage"},
    {"makingbed", "makingthebed"},
    {"tyingtie", "tyingnecktie"},
};

void vb_class_key(const char *name, char out[VB_CLASS_KEY_BYTES])
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p && n + 1 < VB_CLASS_KEY_BYTES; p++)
        if (*p < 0x80 ? isalnum(*p) : 1) /* non-ASCII bytes kept as they are */
            out[n++] = (char)(*p < 0x80 ? tolower(*p) : *p);
    out[n] = '\0';
    for (size_t i = 0; i < sizeof renames / sizeof renames[0]; i++)
        if (!strcmp(out, renames[i].from)) {
            strcpy(out, renames[i].to); /* every target is shorter than the buffer */
            break;
        }
}

typedef struct keyed {
    char key[VB_CLASS_KEY_BYTES];
    int index;
} keyed;

static int compare_keyed(const void *a, const void *b)
{
    return strcmp(((const keyed *)a)->key, ((const keyed *)b)->key);
}

int vb_label_space_map(const vb_labels *from, const vb_labels *to, int *index, vb_error *err)
{
    keyed *sorted = malloc(((size_t)to->count + 1) * sizeof *sorted);
    if (!sorted)
        return vb_error_set(err, VB_ENOMEM, "label map: out of memory");
    for (int i = 0; i < to->count; i++) {
        vb_class_key(to->names[i], sorted[i].key);
        sorted[i].index = i;
    }
    qsort(sorted, (size_t)to->count, sizeof *sorted, compare_keyed);
    int mapped = 0;
    for (int i = 0; i < from->count; i++) {
        keyed probe;
        vb_class_key(from->names[i], probe.key);
        const keyed *hit = bsearch(&probe, sorted, (size_t)to->count, sizeof *sorted, compare_keyed);
        index[i] = hit ? hit->index : -1;
        mapped += hit != NULL;
    }
    free(sorted);
    return mapped;
}
