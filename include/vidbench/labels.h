/* Label maps: one class name per line, line index = class id (DeepMind's label_map.txt,
 * Kinetics 400/600/700). CRLF and a missing final newline are accepted. */
#ifndef VIDBENCH_LABELS_H
#define VIDBENCH_LABELS_H

#include "vidbench/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vb_labels {
    int count;
    char **names;     /* count NUL-terminated names, owned */
} vb_labels;

int vb_labels_load(const char *path, vb_labels *labels, vb_error *err);
void vb_labels_free(vb_labels *labels);
/* Index of name, or -1. */
int vb_labels_find(const vb_labels *labels, const char *name);

#ifdef __cplusplus
}
#endif
#endif
