/* Where clips come from without the dataset manager: a clip list file (--clips) parsed as
 * untrusted CSV, and the loader that decodes a clip's file with the video ingest code. */
#include "vidbench/eval.h"
#include "common/fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LIST_BYTES (64u << 20)
#define MAX_FIELD_BYTES 4096

static int file_loader_load(void *impl, const vb_eval_clip *clip, const vb_video_options *video,
                            vb_clip *out, vb_error *err)
{
    (void)impl;
    return vb_video_decode_clip(clip->path, video, out, err);
}

const vb_eval_loader vb_eval_file_loader = {.impl = NULL, .load = file_loader_load};

void vb_eval_clip_list_free(vb_eval_clip_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++)
        free((char *)list->clips[i].clip_id);   /* one block holds the clip's strings */
    free(list->clips);
    free(list->strings_);
    memset(list, 0, sizeof *list);
}

/* Reads one CSV field at *pos (quoted or not) into out; stops at ',' or end of line. */
static int read_field(const char *text, size_t size, size_t *pos, char *out, const char *name,
                      int line, vb_error *err)
{
    size_t n = 0, i = *pos;
    int quoted = i < size && text[i] == '"';
    if (quoted)
        i++;
    for (;;) {
        if (i >= size || text[i] == '\n' || (text[i] == '\r' && !quoted)) {
            if (quoted)
                return vb_error_set(err, VB_EFORMAT, "%s:%d: unterminated quoted field", name, line);
            break;
        }
        char ch = text[i];
        if (quoted && ch == '"') {
            if (i + 1 < size && text[i + 1] == '"') {
                i += 2;
                if (n >= MAX_FIELD_BYTES - 1)
                    return vb_error_set(err, VB_ELIMIT, "%s:%d: field too long", name, line);
                out[n++] = '"';
                continue;
            }
            i++;
            quoted = 0;
            if (i < size && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
                return vb_error_set(err, VB_EFORMAT, "%s:%d: text after a closing quote", name, line);
            continue;
        }
        if (!quoted && ch == ',')
            break;
        if (ch == '\0' || (ch == '\r' && quoted))
            return vb_error_set(err, VB_EFORMAT, "%s:%d: control byte in field", name, line);
        if (n >= MAX_FIELD_BYTES - 1)
            return vb_error_set(err, VB_ELIMIT, "%s:%d: field longer than %d bytes", name, line,
                                MAX_FIELD_BYTES - 1);
        out[n++] = ch;
        i++;
    }
    out[n] = '\0';
    *pos = i;
    return 0;
}

static int compare_id_pointers(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Clip ids key the results store: a repeated one would silently merge two clips. */
static int check_unique_ids(const vb_eval_clip_list *list, const char *name, vb_error *err)
{
    const char **ids = malloc(list->count * sizeof *ids);
    if (!ids)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", name);
    for (size_t i = 0; i < list->count; i++)
        ids[i] = list->clips[i].clip_id;
    qsort(ids, list->count, sizeof *ids, compare_id_pointers);
    int rc = 0;
    for (size_t i = 1; i < list->count && !rc; i++)
        if (!strcmp(ids[i - 1], ids[i]))
            rc = vb_error_set(err, VB_EFORMAT, "%s: clip id '%s' is listed twice", name, ids[i]);
    free(ids);
    return rc;
}

int vb_eval_clip_list_parse(const char *text, size_t size, const char *name,
                            const char *base_dir, vb_eval_clip_list *list, vb_error *err)
{
    memset(list, 0, sizeof *list);
    if (size > MAX_LIST_BYTES)
        return vb_error_set(err, VB_ELIMIT, "%s: clip list larger than %u bytes", name, MAX_LIST_BYTES);
    size_t capacity = 0;
    char fields[3][MAX_FIELD_BYTES];
    size_t pos = vb_utf8_bom_bytes(text, size);
    int line = 0, rc = 0;
    while (pos < size && !rc) {
        line++;
        size_t line_start = pos;
        /* blank and comment lines */
        size_t p = pos;
        while (p < size && (text[p] == ' ' || text[p] == '\t'))
            p++;
        if (p >= size || text[p] == '\n' || text[p] == '\r' || text[p] == '#') {
            while (pos < size && text[pos] != '\n')
                pos++;
            pos += pos < size;
            continue;
        }
        int nf = 0;
        for (;;) {
            if (nf == 3) {
                rc = vb_error_set(err, VB_EFORMAT, "%s:%d: more than 3 fields (path,label,youtube_id)",
                                  name, line);
                break;
            }
            rc = read_field(text, size, &pos, fields[nf++], name, line, err);
            if (rc)
                break;
            if (pos < size && text[pos] == ',') {
                pos++;
                continue;
            }
            break;
        }
        if (rc)
            break;
        if (pos < size && text[pos] == '\r')
            pos++;
        if (pos < size && text[pos] != '\n') {
            rc = vb_error_set(err, VB_EFORMAT, "%s:%d: malformed line", name, line);
            break;
        }
        pos += pos < size;
        (void)line_start;
        if (nf < 2) {
            rc = vb_error_set(err, VB_EFORMAT, "%s:%d: expected path,label", name, line);
            break;
        }
        const char *path = fields[0];
        if (!path[0]) {
            rc = vb_error_set(err, VB_EFORMAT, "%s:%d: empty path", name, line);
            break;
        }
        /* clip id: the file name without directories and extension */
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        const char *dot = strrchr(base, '.');
        size_t id_len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
        if (id_len == 0 || id_len > 255) {
            rc = vb_error_set(err, VB_EFORMAT, "%s:%d: cannot take a clip id from '%s'", name, line, path);
            break;
        }
        const int relative = path[0] != '/' && base_dir && base_dir[0];
        size_t path_len = (relative ? strlen(base_dir) + 1 : 0) + strlen(path);
        const char *label = fields[1];
        const char *youtube = nf > 2 ? fields[2] : "";
        size_t block_bytes = id_len + 1 + path_len + 1 + strlen(label) + 1 + strlen(youtube) + 1;
        if (list->count == capacity) {
            size_t cap = capacity ? capacity * 2 : 64;
            vb_eval_clip *clips = realloc(list->clips, cap * sizeof *clips);
            if (!clips) {
                rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", name);
                break;
            }
            list->clips = clips;
            capacity = cap;
        }
        char *block = malloc(block_bytes);
        if (!block) {
            rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", name);
            break;
        }
        vb_eval_clip *clip = &list->clips[list->count++];
        char *at = block;
        memcpy(at, base, id_len);
        at[id_len] = '\0';
        clip->clip_id = at;
        at += id_len + 1;
        if (relative)
            at += sprintf(at, "%s/%s", base_dir, path) + 1;
        else
            at += sprintf(at, "%s", path) + 1;
        clip->path = at - path_len - 1;
        clip->label = label[0] ? strcpy(at, label) : NULL;
        at += strlen(label) + 1;
        clip->youtube_id = strcpy(at, youtube);
    }
    if (!rc && list->count == 0)
        rc = vb_error_set(err, VB_EFORMAT, "%s: no clips listed", name);
    if (!rc)
        rc = check_unique_ids(list, name, err);
    if (rc)
        vb_eval_clip_list_free(list);
    return rc;
}

int vb_eval_clip_list_load(const char *path, vb_eval_clip_list *list, vb_error *err)
{
    memset(list, 0, sizeof *list);
    char *text = NULL;
    size_t size = 0;
    int rc = vb_read_file(path, MAX_LIST_BYTES, &text, &size, err);
    if (rc)
        return rc;
    char dir[VB_EVAL_PATH_BYTES];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    rc = vb_eval_clip_list_parse(text, size, path, dir, list, err);
    free(text);
    return rc;
}
