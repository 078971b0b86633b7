/* vb_eval_store_progress_read: how far a results store has come, read through a read-only
 * SQLite connection so that a store being written by a running task is never disturbed (WAL
 * readers do not block the writer). The tables are store.c's. */
#include "vidbench/eval.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static long count_of(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    long n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return n;
}

static int meta_int(sqlite3 *db, const char *key, long min, long max, int *out)
{
    sqlite3_stmt *stmt = NULL;
    int ok = 0;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key=?1", -1, &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(stmt) == SQLITE_ROW) {
            const char *text = (const char *)sqlite3_column_text(stmt, 0);
            char *end;
            long v = text ? strtol(text, &end, 10) : 0;
            ok = text && *text && !*end && v >= min && v <= max;
            if (ok)
                *out = (int)v;
        }
    }
    sqlite3_finalize(stmt);
    return ok;
}

int vb_eval_store_progress_read(const char *path, vb_eval_store_progress *p, vb_error *err)
{
    memset(p, 0, sizeof *p);
    p->shard_count = 1;
    struct stat st;
    if (stat(path, &st) != 0)
        return vb_error_set(err, VB_ENOTFOUND, "%s: no results store yet", path);
    if (!S_ISREG(st.st_mode))
        return vb_error_set(err, VB_EINVAL, "%s: not a regular file", path);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        int rc = vb_error_set(err, VB_EDATABASE, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_timeout(db, 5000);
    p->selected = count_of(db, "SELECT count(*) FROM selection");
    p->done = count_of(db, "SELECT count(*) FROM results r JOIN selection s ON s.clip_id = r.clip_id");
    p->skipped = count_of(db, "SELECT count(*) FROM results r JOIN selection s ON s.clip_id = r.clip_id"
                              " WHERE r.status <> 0");
    meta_int(db, "shard_index", 0, 1000000, &p->shard_index);
    meta_int(db, "shard_count", 1, 1000000, &p->shard_count);
    sqlite3_close(db);
    if (p->selected < 0 || p->done < 0 || p->skipped < 0)
        return vb_error_set(err, VB_EFORMAT, "%s: not a vidbench results store", path);
    return 0;
}
