/* Where clips come from without the dataset manager: a clip list file (--clips) parsed as
 * untrusted CSV, and the loader that decodes a clip's file with the video ingest code. */
#include "vidbench/eval.h"
#include "common/csv.h"
#include "common/fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LIST_BYTES (64u << 20)

static int file_loader_load(void *impl, const vb_eval_clip *clip, const vb_video_options *video,
                            vb_frames *out, vb_error *err)
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
    csv_reader reader;
    csv_reader_init(&reader, text, size, name);
    reader.skip_comments = 1;
    csv_record record = {0};
    const char *const *fields = (const char *const *)record.fields;
    int rc = 0;
    while (!rc && (rc = csv_next(&reader, &record, err)) == 1) {
        rc = 0;
        const long line = record.line;
        const int nf = record.count;
        if (nf > 3) {
            rc = vb_error_set(err, VB_EFORMAT, "%s:%ld: more than 3 fields (path,label,youtube_id)", name, line);
            break;
        }
        if (nf < 2) {
            rc = vb_error_set(err, VB_EFORMAT, "%s:%ld: expected path,label", name, line);
            break;
        }
        const char *path = fields[0];
        if (!path[0]) {
            rc = vb_error_set(err, VB_EFORMAT, "%s:%ld: empty path", name, line);
            break;
        }
        /* clip id: the file name without directories and extension */
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        const char *dot = strrchr(base, '.');
        size_t id_len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
        if (id_len == 0 || id_len > 255) {
            rc = vb_error_set(err, VB_EFORMAT, "%s:%ld: cannot take a clip id from '%s'", name, line, path);
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
    csv_record_free(&record);
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
    int rc = fs_read_file(path, MAX_LIST_BYTES, &text, &size, err);
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
