/* Listing local clips with their ground truth: clips recorded at unpack time, joined with the
 * annotations (by YouTube id and start time) and with the cache/bad-clip state. */
#include "dataset_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vb_dataset_clip_list_free(vb_dataset_clip_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++) {
        free((char *)list->clips[i].label);
        free(list->clips[i].path);
        free((char *)list->clips[i].bad_reason);
    }
    free(list->clips);
    free(list->strings_);
    memset(list, 0, sizeof *list);
}

static char *dup_or_null(const unsigned char *text)
{
    return text ? strdup((const char *)text) : NULL;
}

int vb_dataset_clips(vb_dataset *ds, int version, vb_split split, const vb_video_options *prepared_for,
                     vb_dataset_clip_list *list, vb_error *err)
{
    memset(list, 0, sizeof *list);
    if (!ds || !vb_kinetics_version_valid(version))
        return vb_error_set(err, VB_EINVAL, "clips: version must be 400, 600 or 700");
    vb_annotations ann;
    vb_error ann_err = {0};
    int have_annotations = vb_dataset_load_annotations(ds, version, split, &ann, &ann_err) == 0;
    char raw_dir[PATH_MAX];
    int rc = ds_dir(ds, "raw", version, split, raw_dir, sizeof raw_dir, err);
    if (rc) {
        if (have_annotations)
            vb_annotations_free(&ann);
        return rc;
    }
    char key[64] = "";
    if (prepared_for)
        vb_prepare_key(prepared_for, key);
    /* Status for the asked parameters; without parameters, bad under any of them. */
    const char *sql =
        "SELECT c.clip_id, c.youtube_id, c.time_start, c.time_end, c.rel_path, c.partition,"
        " (SELECT count(*) FROM prepared p WHERE p.version=c.version AND p.split=c.split"
        "    AND p.clip_id=c.clip_id AND p.params=?3),"
        " (SELECT reason FROM bad_clips b WHERE b.version=c.version AND b.split=c.split"
        "    AND b.clip_id=c.clip_id AND (?3='' OR b.params=?3) ORDER BY b.params LIMIT 1)"
        " FROM clips c WHERE c.version=?1 AND c.split=?2 ORDER BY c.partition, c.clip_id";
    sqlite3_stmt *stmt = NULL;
    pthread_mutex_lock(&ds->lock);
    rc = ds_db_prepare(ds, sql, &stmt, err);
    size_t capacity = 0;
    if (!rc) {
        sqlite3_bind_int(stmt, 1, version);
        sqlite3_bind_text(stmt, 2, vb_split_name(split), -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, key, -1, SQLITE_STATIC);
    }
    while (!rc && sqlite3_step(stmt) == SQLITE_ROW) {
        if (list->count == capacity) {
            capacity = capacity ? capacity * 2 : 256;
            vb_dataset_clip *grown = realloc(list->clips, capacity * sizeof *grown);
            if (!grown) {
                rc = vb_error_set(err, VB_ENOMEM, "clips: out of memory");
                break;
            }
            list->clips = grown;
        }
        vb_dataset_clip *c = &list->clips[list->count];
        memset(c, 0, sizeof *c);
        snprintf(c->clip_id, sizeof c->clip_id, "%s", (const char *)sqlite3_column_text(stmt, 0));
        snprintf(c->youtube_id, sizeof c->youtube_id, "%s", (const char *)sqlite3_column_text(stmt, 1));
        c->time_start = ds_db_column_int(stmt, 2, 0, INT_MAX, -1);
        c->time_end = ds_db_column_int(stmt, 3, 0, INT_MAX, -1);
        const char *rel = (const char *)sqlite3_column_text(stmt, 4);
        size_t path_len = strlen(raw_dir) + 1 + (rel ? strlen(rel) : 0) + 1;
        c->path = malloc(path_len);
        if (c->path)
            snprintf(c->path, path_len, "%s/%s", raw_dir, rel ? rel : "");
        /* int64 first and range-checked: the state file is a file */
        const sqlite3_int64 partition = sqlite3_column_int64(stmt, 5);
        c->partition = partition >= 0 && partition <= INT_MAX ? (size_t)partition : 0;
        if (sqlite3_column_type(stmt, 7) != SQLITE_NULL) {
            c->status = VB_CLIP_BAD;
            c->bad_reason = dup_or_null(sqlite3_column_text(stmt, 7));
        } else if (prepared_for && sqlite3_column_int64(stmt, 6) > 0) {
            c->status = VB_CLIP_PREPARED;
        } else {
            c->status = VB_CLIP_UNPACKED;
        }
        if (have_annotations) {
            long row = vb_annotations_find(&ann, c->youtube_id, c->time_start);
            const char *label = row >= 0 ? vb_annotation_label(&ann, (size_t)row) : NULL;
            c->label = label ? strdup(label) : NULL;
        }
        list->count++;
        if (!c->path) {
            rc = vb_error_set(err, VB_ENOMEM, "clips: out of memory");
            break;
        }
    }
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&ds->lock);
    if (have_annotations)
        vb_annotations_free(&ann);
    if (rc)
        vb_dataset_clip_list_free(list);
    return rc;
}
