/* Internals shared by the dataset manager's files: the vb_dataset object, its SQLite state
 * store and the directory layout under DATA_DIR. Not part of the public API. */
#ifndef VB_DATASET_INTERNAL_H
#define VB_DATASET_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include "vidbench/dataset.h"

struct vb_dataset {
    char *data_dir;           /* absolute */
    sqlite3 *db;
    pthread_mutex_t lock;     /* one writer at a time on db (threads share the connection) */
};

/* Directory names of a version on the mirror and on disk ("400", "600", "700_2020"). */
const char *ds_version_dir(int version);

/* DATA_DIR/<area>/kinetics/<ver>/<split> into out; area is "meta", "downloads", "raw",
 * "cache". Returns VB_ELIMIT when it does not fit. */
int ds_dir(const vb_dataset *ds, const char *area, int version, vb_split split, char *out,
                   size_t out_size, vb_error *err);

/* Runs sql (no results) under the caller's lock. */
int ds_db_exec(vb_dataset *ds, const char *sql, vb_error *err);
/* Prepares a statement; on failure fills err with SQLite's message. */
int ds_db_prepare(vb_dataset *ds, const char *sql, sqlite3_stmt **stmt, vb_error *err);
/* A single integer result of sql with (version, split) bound as ?1, ?2; -1 on error. */
long ds_db_count(vb_dataset *ds, const char *sql, int version, vb_split split);
/* An INTEGER column read as int64 and range-checked before it becomes an int (the state file
 * is a file: sqlite3_column_int would wrap 4294967296 to 0); fallback when outside [min, max]
 * or not an integer. */
int ds_db_column_int(sqlite3_stmt *stmt, int column, int min, int max, int fallback);

/* ---- cache.c: the clip cache ---- */

/* DATA_DIR/cache/kinetics/<ver>/<split>/<key>/<clip_id>.vbclip (clip_id NULL: the key's folder
 * with a trailing "/.vbclip" name that callers strip). */
int dataset_cache_path(vb_dataset *ds, int version, vb_split split, const char *key,
                       const char *clip_id, char *out, size_t out_size, vb_error *err);
/* Writes a cache file atomically (temporary name, then rename). */
int dataset_cache_write(const char *path, const vb_frames *clip, vb_error *err);

#endif
