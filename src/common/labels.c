/* Label-map loading (see labels.h). Files are untrusted: size and line count are bounded,
 * empty lines inside the map and control bytes are errors. */
#include "vidbench/labels.h"
#include "common/fsutil.h"

#include <stdlib.h>
#include <string.h>

#define MAX_LABEL_FILE_BYTES (8u << 20)
#define MAX_LABELS 100000

int vb_labels_load(const char *path, vb_labels *labels, vb_error *err)
{
    memset(labels, 0, sizeof *labels);
    char *text = NULL;
    size_t size = 0;
    int rc = fs_read_file(path, MAX_LABEL_FILE_BYTES, &text, &size, err);
    if (rc)
        return rc;
    if (memchr(text, '\0', size)) {
        free(text);
        return vb_error_set(err, VB_EFORMAT, "%s: label map contains NUL bytes", path);
    }
    const size_t bom = fs_utf8_bom_bytes(text, size);
    memmove(text, text + bom, size - bom + 1);
    size -= bom;
    /* Drop trailing newlines so "a\nb\n" is two labels, then count lines. */
    while (size > 0 && (text[size - 1] == '\n' || text[size - 1] == '\r'))
        text[--size] = '\0';
    if (size == 0) {
        free(text);
        return vb_error_set(err, VB_EFORMAT, "%s: label map is empty", path);
    }
    int lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += text[i] == '\n';
    if (lines > MAX_LABELS) {
        free(text);
        return vb_error_set(err, VB_ELIMIT, "%s: %d labels exceed the limit of %d", path, lines, MAX_LABELS);
    }
    labels->names = calloc((size_t)lines, sizeof(char *));
    if (!labels->names) {
        free(text);
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
    }
    char *line = text;
    for (int i = 0; i < lines; i++) {
        char *newline = strchr(line, '\n');
        if (newline)
            *newline = '\0';
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        if (len == 0) {
            rc = vb_error_set(err, VB_EFORMAT, "%s: line %d is empty", path, i + 1);
            break;
        }
        /* Labels reach terminals, CSVs and HTML: a control byte (an escape sequence, a stray
         * CR, a tab) is no part of a class name. */
        size_t bad = 0;
        while (bad < len && (unsigned char)line[bad] >= 0x20 && line[bad] != 0x7f)
            bad++;
        if (bad < len) {
            rc = vb_error_set(err, VB_EFORMAT, "%s: line %d has control byte 0x%02x at column %zu", path, i + 1,
                              (unsigned)(unsigned char)line[bad], bad + 1);
            break;
        }
        labels->names[i] = strdup(line);
        if (!labels->names[i]) {
            rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
            break;
        }
        labels->count = i + 1;
        line = newline ? newline + 1 : line + len;
    }
    free(text);
    if (rc)
        vb_labels_free(labels);
    return rc;
}

void vb_labels_free(vb_labels *labels)
{
    if (!labels)
        return;
    for (int i = 0; i < labels->count; i++)
        free(labels->names[i]);
    free(labels->names);
    memset(labels, 0, sizeof *labels);
}

int vb_labels_find(const vb_labels *labels, const char *name)
{
    for (int i = 0; i < labels->count; i++)
        if (strcmp(labels->names[i], name) == 0)
            return i;
    return -1;
}
