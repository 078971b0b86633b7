/* The dataset's SQLite state store (WAL mode, DATA_DIR/vidbench-data.db): which partitions
 * are done, which clips are on disk, prepared or known bad. Every state change is one
 * transaction, so a killed run leaves either the old or the new state, never half of one. */
#include "dataset_internal.h"
#include "common/fsutil.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const schema_sql =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS splits("
    "  version INTEGER NOT NULL, split TEXT NOT NULL, annotation_file TEXT, annotated INTEGER,"
    "  partitions INTEGER, PRIMARY KEY(version, split));"
    "CREATE TABLE IF NOT EXISTS partitions("
    "  version INTEGER NOT NULL, split TEXT NOT NULL, idx INTEGER NOT NULL, url TEXT NOT NULL,"
    "  state TEXT NOT NULL, error TEXT, clips INTEGER DEFAULT 0, bytes INTEGER DEFAULT 0,"
    "  refused INTEGER DEFAULT 0, updated TEXT DEFAULT CURRENT_TIMESTAMP,"
    "  PRIMARY KEY(version, split, idx));"
    "CREATE TABLE IF NOT EXISTS clips("
    "  version INTEGER NOT NULL, split TEXT NOT NULL, clip_id TEXT NOT NULL,"
    "  youtube_id TEXT NOT NULL, time_start INTEGER, time_end INTEGER, rel_path TEXT NOT NULL,"
    "  partition INTEGER NOT NULL, PRIMARY KEY(version, split, clip_id));"
    "CREATE TABLE IF NOT EXISTS prepared("
    "  version INTEGER NOT NULL, split TEXT NOT NULL, clip_id TEXT NOT NULL, params TEXT NOT NULL,"
    "  frames INTEGER, PRIMARY KEY(version, split, clip_id, params));"
    "CREATE TABLE IF NOT EXISTS bad_clips("
    "  version INTEGER NOT NULL, split TEXT NOT NULL, clip_id TEXT NOT NULL, params TEXT NOT NULL,"
    "  reason TEXT NOT NULL, PRIMARY KEY(version, split, clip_id, params));";

const char *ds_version_dir(int version)
{
    switch (version) {
    case 400: return "400";
    case 600: return "600";
    case 700: return "700_2020";
    }
    return NULL;
}

int ds_dir(const vb_dataset *ds, const char *area, int version, vb_split split, char *out,
                   size_t out_size, vb_error *err)
{
    int n = snprintf(out, out_size, "%s/%s/kinetics/%d/%s", ds->data_dir, area, version,
                     vb_split_name(split));
    if (n < 0 || (size_t)n >= out_size)
        return vb_error_set(err, VB_ELIMIT, "%s: data directory path too long", ds->data_dir);
    return 0;
}

int ds_db_exec(vb_dataset *ds, const char *sql, vb_error *err)
{
    char *message = NULL;
    if (sqlite3_exec(ds->db, sql, NULL, NULL, &message) != SQLITE_OK) {
        int rc = vb_error_set(err, VB_EDATABASE, "%s/vidbench-data.db: %s", ds->data_dir,
                              message ? message : sqlite3_errmsg(ds->db));
        sqlite3_free(message);
        return rc;
    }
    return 0;
}

int ds_db_prepare(vb_dataset *ds, const char *sql, sqlite3_stmt **stmt, vb_error *err)
{
    if (sqlite3_prepare_v2(ds->db, sql, -1, stmt, NULL) != SQLITE_OK)
        return vb_error_set(err, VB_EDATABASE, "%s/vidbench-data.db: %s", ds->data_dir,
                            sqlite3_errmsg(ds->db));
    return 0;
}

long ds_db_count(vb_dataset *ds, const char *sql, int version, vb_split split)
{
    sqlite3_stmt *stmt = NULL;
    long value = -1;
    if (sqlite3_prepare_v2(ds->db, sql, -1, &stmt, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int(stmt, 1, version);
    sqlite3_bind_text(stmt, 2, vb_split_name(split), -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) == SQLITE_ROW)
        value = (long)sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return value;
}

int ds_db_column_int(sqlite3_stmt *stmt, int column, int min, int max, int fallback)
{
    if (sqlite3_column_type(stmt, column) != SQLITE_INTEGER)
        return fallback;
    const sqlite3_int64 v = sqlite3_column_int64(stmt, column);
    return v >= min && v <= max ? (int)v : fallback;
}

int vb_dataset_open(const char *data_dir, vb_dataset **dataset, vb_error *err)
{
    *dataset = NULL;
    if (!data_dir || !*data_dir)
        return vb_error_set(err, VB_EINVAL, "no data directory given");
    int rc = fs_mkdir_p(data_dir, err);
    if (rc)
        return rc;
    char absolute[PATH_MAX];
    if (!realpath(data_dir, absolute))
        return vb_error_set(err, VB_EIO, "%s: cannot resolve the data directory", data_dir);
    vb_dataset *ds = calloc(1, sizeof *ds);
    if (!ds || !(ds->data_dir = strdup(absolute))) {
        free(ds);
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", data_dir);
    }
    pthread_mutex_init(&ds->lock, NULL);
    char db_path[PATH_MAX + 32];
    snprintf(db_path, sizeof db_path, "%s/vidbench-data.db", absolute);
    if (sqlite3_open_v2(db_path, &ds->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        rc = vb_error_set(err, VB_EDATABASE, "%s: %s", db_path,
                          ds->db ? sqlite3_errmsg(ds->db) : "cannot open");
        vb_dataset_free(&ds);
        return rc;
    }
    /* Another process (a second `vidbench data` on the same DATA_DIR) may hold the write
     * lock for a moment; wait for it rather than fail. */
    sqlite3_busy_timeout(ds->db, 30000);
    rc = ds_db_exec(ds, schema_sql, err);
    if (rc) {
        vb_dataset_free(&ds);
        return rc;
    }
    *dataset = ds;
    return 0;
}

void vb_dataset_free(vb_dataset **dataset)
{
    if (!dataset || !*dataset)
        return;
    vb_dataset *ds = *dataset;
    if (ds->db)
        sqlite3_close(ds->db);
    pthread_mutex_destroy(&ds->lock);
    free(ds->data_dir);
    free(ds);
    *dataset = NULL;
}

int vb_dataset_load_annotations(vb_dataset *ds, int version, vb_split split, vb_annotations *ann,
                                vb_error *err)
{
    memset(ann, 0, sizeof *ann);
    sqlite3_stmt *stmt = NULL;
    int rc = ds_db_prepare(ds, "SELECT annotation_file FROM splits WHERE version=?1 AND split=?2",
                           &stmt, err);
    if (rc)
        return rc;
    sqlite3_bind_int(stmt, 1, version);
    sqlite3_bind_text(stmt, 2, vb_split_name(split), -1, SQLITE_STATIC);
    char name[256] = "";
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
        snprintf(name, sizeof name, "%s", (const char *)sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    if (!name[0])
        return vb_error_set(err, VB_ENOTFOUND, "kinetics %d %s: no annotations downloaded yet",
                            version, vb_split_name(split));
    char dir[PATH_MAX], path[PATH_MAX + 256];
    rc = ds_dir(ds, "meta", version, split, dir, sizeof dir, err);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return vb_annotations_load(path, ann, err);
}

int vb_dataset_status(vb_dataset *ds, vb_split_status **status, size_t *count, vb_error *err)
{
    *status = NULL;
    *count = 0;
    static const char *const list_sql =
        "SELECT version, split FROM splits UNION SELECT version, split FROM partitions "
        "UNION SELECT version, split FROM clips ORDER BY 1, 2";
    sqlite3_stmt *stmt = NULL;
    pthread_mutex_lock(&ds->lock);
    int rc = ds_db_prepare(ds, list_sql, &stmt, err);
    size_t capacity = 0;
    while (!rc && sqlite3_step(stmt) == SQLITE_ROW) {
        vb_split split;
        if (vb_split_parse((const char *)sqlite3_column_text(stmt, 1), &split))
            continue;
        if (*count == capacity) {
            capacity = capacity ? capacity * 2 : 8;
            vb_split_status *grown = realloc(*status, capacity * sizeof *grown);
            if (!grown) {
                rc = vb_error_set(err, VB_ENOMEM, "status: out of memory");
                break;
            }
            *status = grown;
        }
        vb_split_status *s = &(*status)[(*count)++];
        memset(s, 0, sizeof *s);
        s->version = ds_db_column_int(stmt, 0, 0, 100000, 0);
        s->split = split;
        long v;
        v = ds_db_count(ds, "SELECT annotated FROM splits WHERE version=?1 AND split=?2", s->version, split);
        s->annotated = v > 0 ? v : 0;
        v = ds_db_count(ds, "SELECT partitions FROM splits WHERE version=?1 AND split=?2", s->version, split);
        s->partitions_total = v > 0 && v <= INT_MAX ? (int)v : 0;
        s->partitions_done = (int)ds_db_count(
            ds, "SELECT count(*) FROM partitions WHERE version=?1 AND split=?2 AND state='done'",
            s->version, split);
        s->partitions_failed = (int)ds_db_count(
            ds, "SELECT count(*) FROM partitions WHERE version=?1 AND split=?2 AND state='failed'",
            s->version, split);
        s->clips_unpacked = ds_db_count(ds, "SELECT count(*) FROM clips WHERE version=?1 AND split=?2",
                                        s->version, split);
        s->clips_prepared = ds_db_count(
            ds, "SELECT count(DISTINCT clip_id) FROM prepared WHERE version=?1 AND split=?2",
            s->version, split);
        s->clips_bad = ds_db_count(
            ds, "SELECT count(DISTINCT clip_id) FROM bad_clips WHERE version=?1 AND split=?2",
            s->version, split);
    }
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&ds->lock);
    if (rc) {
        free(*status);
        *status = NULL;
        *count = 0;
    }
    return rc;
}

int vb_dataset_bad_clips(vb_dataset *ds, vb_bad_clip **bad, size_t *count, vb_error *err)
{
    *bad = NULL;
    *count = 0;
    sqlite3_stmt *stmt = NULL;
    pthread_mutex_lock(&ds->lock);
    int rc = ds_db_prepare(ds,
                           "SELECT version, split, clip_id, params, reason FROM bad_clips "
                           "ORDER BY version, split, clip_id, params",
                           &stmt, err);
    size_t capacity = 0;
    while (!rc && sqlite3_step(stmt) == SQLITE_ROW) {
        if (*count == capacity) {
            capacity = capacity ? capacity * 2 : 16;
            vb_bad_clip *grown = realloc(*bad, capacity * sizeof *grown);
            if (!grown) {
                rc = vb_error_set(err, VB_ENOMEM, "bad clips: out of memory");
                break;
            }
            *bad = grown;
        }
        vb_bad_clip *b = &(*bad)[(*count)++];
        memset(b, 0, sizeof *b);
        b->version = ds_db_column_int(stmt, 0, 0, 100000, 0);
        vb_split_parse((const char *)sqlite3_column_text(stmt, 1), &b->split);
        snprintf(b->clip_id, sizeof b->clip_id, "%s", (const char *)sqlite3_column_text(stmt, 2));
        snprintf(b->params_key, sizeof b->params_key, "%s", (const char *)sqlite3_column_text(stmt, 3));
        snprintf(b->reason, sizeof b->reason, "%s", (const char *)sqlite3_column_text(stmt, 4));
    }
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&ds->lock);
    if (rc) {
        free(*bad);
        *bad = NULL;
        *count = 0;
    }
    return rc;
}
