/* SQLite results store (see store.h). WAL with synchronous=NORMAL: a committed batch
 * survives a killed process (kill -9); only a power loss may drop the last transactions.
 * A store read back is checked (blob sizes, class counts) before use. */
#include "eval/store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CLASSES 100000

struct eval_store {
    sqlite3 *db;
    char *path;
    int num_classes;          /* after bind / info */
    sqlite3_stmt *has_stmt;
    float *probs_copy;        /* [num_classes]: blobs copied here, SQLite's are unaligned */
};

static int db_error(eval_store *s, vb_error *err, const char *what)
{
    return vb_error_set(err, VB_EDATABASE, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static int exec_sql(eval_store *s, const char *sql, vb_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = vb_error_set(err, VB_EDATABASE, "%s: %s", s->path, msg ? msg : "sqlite error");
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

static const char *schema =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS classes(id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS selection(ordinal INTEGER PRIMARY KEY, clip_id TEXT NOT NULL UNIQUE);"
    "CREATE TABLE IF NOT EXISTS results(clip_id TEXT PRIMARY KEY, ordinal INTEGER NOT NULL,"
    " youtube_id TEXT, label TEXT, status INTEGER NOT NULL, reason TEXT, probs BLOB,"
    " decode_ms REAL, preprocess_ms REAL, model_ms REAL);";

static void remove_store_files(const char *path)
{
    char side[4200];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

int eval_store_open(const char *path, int overwrite, eval_store **out, vb_error *err)
{
    *out = NULL;
    if (overwrite)
        remove_store_files(path);
    /* SQLite would open a FIFO or a device and block or fail obscurely: refuse it by name. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return vb_error_set(err, VB_EINVAL, "%s: is %s; a results store is a regular file", path,
                            S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO" : "not a regular file");
    eval_store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        int rc = vb_error_set(err, VB_EDATABASE, "%s: cannot open results store: %s", path,
                              s->db ? sqlite3_errmsg(s->db) : "out of memory");
        eval_store_free(&s);
        return rc;
    }
    sqlite3_busy_timeout(s->db, 10000);
    int rc = exec_sql(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", err);
    if (!rc)
        rc = exec_sql(s, schema, err);
    if (!rc && sqlite3_prepare_v2(s->db, "SELECT 1 FROM results WHERE clip_id=?", -1,
                                  &s->has_stmt, NULL) != SQLITE_OK)
        rc = db_error(s, err, "prepare");
    if (rc) {
        vb_error_prefix(err, "results store: ");
        eval_store_free(&s);
        return rc;
    }
    *out = s;
    return 0;
}

void eval_store_free(eval_store **store)
{
    if (!store || !*store)
        return;
    eval_store *s = *store;
    sqlite3_finalize(s->has_stmt);
    sqlite3_close(s->db);
    free(s->probs_copy);
    free(s->path);
    free(s);
    *store = NULL;
}

static int meta_get(eval_store *s, const char *key, char **value, vb_error *err)
{
    *value = NULL;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key=?", -1, &st, NULL) != SQLITE_OK)
        return db_error(s, err, "reading meta");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = 0;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text(st, 0);
        *value = strdup(text ? (const char *)text : "");
        if (!*value)
            rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", s->path);
    } else if (step != SQLITE_DONE) {
        rc = db_error(s, err, "reading meta");
    }
    sqlite3_finalize(st);
    return rc;
}

static int meta_set(eval_store *s, const char *key, const char *value, vb_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta(key,value) VALUES(?,?)", -1, &st,
                           NULL) != SQLITE_OK)
        return db_error(s, err, "writing meta");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_error(s, err, "writing meta");
    sqlite3_finalize(st);
    return rc;
}

/* Reads an integer field and checks it in the range its user needs, so that a value like
 * 4294967296 cannot pass a check as long and then become 0 as int. The message names the
 * store, the field and the value. */
static int meta_get_ranged(eval_store *s, const char *key, long min, long max, long *value, vb_error *err)
{
    char *text = NULL;
    int rc = meta_get(s, key, &text, err);
    if (rc)
        return rc;
    if (!text)
        return vb_error_set(err, VB_EFORMAT, "%s: results store lacks '%s'", s->path, key);
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (*end || end == text || errno || v < min || v > max)
        rc = vb_error_set(err, VB_EFORMAT, "%s: results store field '%s' is '%.40s' (expected an integer in %ld..%ld)",
                          s->path, key, text, min, max);
    else
        *value = v;
    free(text);
    return rc;
}

int eval_store_info_read(eval_store *s, eval_store_info *info, vb_error *err)
{
    memset(info, 0, sizeof *info);
    long num_classes = 0, shard_index = 0, shard_count = 0, total = 0;
    int rc = meta_get(s, "fingerprint", &info->fingerprint, err);
    if (!rc && !info->fingerprint)
        rc = vb_error_set(err, VB_EFORMAT, "%s: not a vidbench results store (no fingerprint)", s->path);
    if (!rc)
        rc = meta_get_ranged(s, "num_classes", 1, MAX_CLASSES, &num_classes, err);
    if (!rc)
        rc = meta_get_ranged(s, "shard_count", 1, EVAL_STORE_MAX_SHARDS, &shard_count, err);
    if (!rc)
        rc = meta_get_ranged(s, "shard_index", 0, shard_count - 1, &shard_index, err);
    if (!rc)
        rc = meta_get_ranged(s, "selection_total", 0, EVAL_STORE_MAX_SELECTION, &total, err);
    char *shard_by = NULL;
    if (!rc)
        rc = meta_get(s, "shard_by", &shard_by, err);
    if (!rc && shard_by && strcmp(shard_by, "clip") && strcmp(shard_by, "partition"))
        rc = vb_error_set(err, VB_EFORMAT, "%s: results store field 'shard_by' is '%.40s' (expected clip or partition)",
                          s->path, shard_by);
    info->by_partition = shard_by && !strcmp(shard_by, "partition");
    free(shard_by);
    if (rc) {
        eval_store_info_free(info);
        return rc;
    }
    info->num_classes = (int)num_classes;
    info->shard_index = (int)shard_index;
    info->shard_count = (int)shard_count;
    info->selection_total = total;
    info->class_names = calloc((size_t)num_classes, sizeof(char *));
    if (!info->class_names) {
        eval_store_info_free(info);
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", s->path);
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT id, name FROM classes ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
        rc = db_error(s, err, "reading classes");
        eval_store_info_free(info);
        return rc;
    }
    int expected = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        /* int64 first: column_int would wrap 4294967296 to 0 */
        const sqlite3_int64 id = sqlite3_column_int64(st, 0);
        const unsigned char *name = sqlite3_column_text(st, 1);
        if (id != expected || id >= info->num_classes || !name) {
            rc = vb_error_set(err, VB_EFORMAT, "%s: class table has a gap or extra entry at %lld",
                              s->path, (long long)id);
            break;
        }
        if (!(info->class_names[id] = strdup((const char *)name))) {
            rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", s->path);
            break;
        }
        expected++;
    }
    if (!rc && step != SQLITE_DONE)
        rc = db_error(s, err, "reading classes");
    if (!rc && expected != info->num_classes)
        rc = vb_error_set(err, VB_EFORMAT, "%s: %d class names stored for %d classes", s->path,
                          expected, info->num_classes);
    sqlite3_finalize(st);
    if (rc) {
        eval_store_info_free(info);
        return rc;
    }
    s->num_classes = info->num_classes;
    return 0;
}

void eval_store_info_free(eval_store_info *info)
{
    if (!info)
        return;
    if (info->class_names)
        for (int i = 0; i < info->num_classes; i++)
            free(info->class_names[i]);
    free(info->class_names);
    free(info->fingerprint);
    memset(info, 0, sizeof *info);
}

int eval_store_bind(eval_store *s, const eval_store_identity *id, vb_error *err)
{
    char *existing = NULL;
    int rc = meta_get(s, "fingerprint", &existing, err);
    if (rc)
        return rc;
    char number[32];
    if (existing) {
        free(existing);
        eval_store_info info;
        rc = eval_store_info_read(s, &info, err);
        if (rc)
            return rc;
        if (strcmp(info.fingerprint, id->fingerprint))
            rc = vb_error_set(err, VB_ESTATE,
                              "%s: holds results of another configuration (%s); this run is %s. "
                              "Use --overwrite_output_dir to start over",
                              s->path, info.fingerprint, id->fingerprint);
        else if (info.shard_index != id->shard_index || info.shard_count != id->shard_count)
            rc = vb_error_set(err, VB_ESTATE, "%s: holds shard %d/%d, this run is shard %d/%d",
                              s->path, info.shard_index, info.shard_count, id->shard_index,
                              id->shard_count);
        else if (info.by_partition != id->by_partition)
            rc = vb_error_set(err, VB_ESTATE, "%s: holds a shard by %s, this run shards by %s. "
                              "Use --overwrite_output_dir to start over", s->path,
                              info.by_partition ? "partition" : "clip", id->by_partition ? "partition" : "clip");
        else if (info.num_classes != id->num_classes)
            rc = vb_error_set(err, VB_ESTATE, "%s: holds %d classes, the model has %d", s->path,
                              info.num_classes, id->num_classes);
        for (int i = 0; !rc && i < id->num_classes; i++)
            if (strcmp(info.class_names[i], id->class_names[i]))
                rc = vb_error_set(err, VB_ESTATE, "%s: class %d is '%s' in the store, '%s' in the model",
                                  s->path, i, info.class_names[i], id->class_names[i]);
        eval_store_info_free(&info);
        if (rc)
            return rc;
        snprintf(number, sizeof number, "%ld", id->selection_total);
        return meta_set(s, "selection_total", number, err);
    }
    rc = exec_sql(s, "BEGIN IMMEDIATE", err);
    if (rc)
        return rc;
    rc = meta_set(s, "fingerprint", id->fingerprint, err);
    snprintf(number, sizeof number, "%d", id->num_classes);
    if (!rc)
        rc = meta_set(s, "num_classes", number, err);
    snprintf(number, sizeof number, "%d", id->shard_index);
    if (!rc)
        rc = meta_set(s, "shard_index", number, err);
    snprintf(number, sizeof number, "%d", id->shard_count);
    if (!rc)
        rc = meta_set(s, "shard_count", number, err);
    snprintf(number, sizeof number, "%ld", id->selection_total);
    if (!rc)
        rc = meta_set(s, "selection_total", number, err);
    if (!rc)
        rc = meta_set(s, "shard_by", id->by_partition ? "partition" : "clip", err);
    sqlite3_stmt *st = NULL;
    if (!rc && sqlite3_prepare_v2(s->db, "INSERT INTO classes(id,name) VALUES(?,?)", -1, &st,
                                  NULL) != SQLITE_OK)
        rc = db_error(s, err, "writing classes");
    for (int i = 0; !rc && i < id->num_classes; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int(st, 1, i);
        sqlite3_bind_text(st, 2, id->class_names[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_error(s, err, "writing classes");
    }
    sqlite3_finalize(st);
    if (!rc)
        rc = exec_sql(s, "COMMIT", err);
    if (rc) {
        exec_sql(s, "ROLLBACK", NULL);
        return rc;
    }
    s->num_classes = id->num_classes;
    return 0;
}

int eval_store_set_selection(eval_store *s, const long *ordinals, const char *const *clip_ids,
                           size_t count, vb_error *err)
{
    int rc = exec_sql(s, "BEGIN IMMEDIATE; DELETE FROM selection;", err);
    if (rc)
        return rc;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO selection(ordinal,clip_id) VALUES(?,?)", -1, &st,
                           NULL) != SQLITE_OK)
        rc = db_error(s, err, "writing selection");
    for (size_t i = 0; !rc && i < count; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, ordinals[i]);
        sqlite3_bind_text(st, 2, clip_ids[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = vb_error_set(err, VB_EINVAL, "%s: clip '%s' (position %ld): %s", s->path,
                              clip_ids[i], ordinals[i], sqlite3_errmsg(s->db));
    }
    sqlite3_finalize(st);
    if (!rc)
        rc = exec_sql(s, "COMMIT", err);
    if (rc)
        exec_sql(s, "ROLLBACK", NULL);
    return rc;
}

int eval_store_selection_count(eval_store *s, long *count, vb_error *err)
{
    *count = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM selection", -1, &st, NULL) != SQLITE_OK)
        return db_error(s, err, "counting the selection");
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        *count = (long)sqlite3_column_int64(st, 0);
    else
        rc = db_error(s, err, "counting the selection");
    sqlite3_finalize(st);
    return rc;
}

int eval_store_has(eval_store *s, const char *clip_id, vb_error *err)
{
    sqlite3_reset(s->has_stmt);
    sqlite3_bind_text(s->has_stmt, 1, clip_id, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(s->has_stmt);
    int found = step == SQLITE_ROW;
    sqlite3_reset(s->has_stmt);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return db_error(s, err, "looking up a clip");
    return found;
}

int eval_store_commit_rows(eval_store *s, const eval_store_row *rows, size_t count, vb_error *err)
{
    int rc = exec_sql(s, "BEGIN IMMEDIATE", err);
    if (rc)
        return rc;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO results(clip_id,ordinal,youtube_id,label,status,reason,"
                           "probs,decode_ms,preprocess_ms,model_ms) VALUES(?,?,?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        rc = db_error(s, err, "writing results");
    for (size_t i = 0; !rc && i < count; i++) {
        const eval_store_row *r = &rows[i];
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, r->clip_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, r->ordinal);
        sqlite3_bind_text(st, 3, r->youtube_id ? r->youtube_id : "", -1, SQLITE_STATIC);
        if (r->label)
            sqlite3_bind_text(st, 4, r->label, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 4);
        sqlite3_bind_int(st, 5, r->status);
        if (r->reason)
            sqlite3_bind_text(st, 6, r->reason, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 6);
        if (r->probs)
            sqlite3_bind_blob(st, 7, r->probs, (int)(s->num_classes * sizeof(float)), SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 7);
        sqlite3_bind_double(st, 8, r->decode_ms);
        sqlite3_bind_double(st, 9, r->preprocess_ms);
        sqlite3_bind_double(st, 10, r->model_ms);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = vb_error_set(err, VB_EDATABASE, "%s: storing clip '%s': %s", s->path, r->clip_id,
                              sqlite3_errmsg(s->db));
    }
    sqlite3_finalize(st);
    if (!rc)
        rc = exec_sql(s, "COMMIT", err);
    if (rc)
        exec_sql(s, "ROLLBACK", NULL);
    return rc;
}

static const char *column_text_or(sqlite3_stmt *st, int col, const char *fallback)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : fallback;
}

int eval_store_visit_selection(eval_store *s, eval_store_visit_fn visit, void *user, vb_error *err)
{
    if (s->num_classes <= 0) {
        eval_store_info info;
        int rc = eval_store_info_read(s, &info, err);
        if (rc)
            return rc;
        eval_store_info_free(&info);
    }
    free(s->probs_copy);
    if (!(s->probs_copy = malloc((size_t)s->num_classes * sizeof(float))))
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", s->path);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT s.ordinal, s.clip_id, r.clip_id IS NOT NULL, r.youtube_id,"
                           " r.label, r.status, r.reason, r.probs, r.decode_ms, r.preprocess_ms,"
                           " r.model_ms, r.ordinal FROM selection s LEFT JOIN results r"
                           " ON r.clip_id = s.clip_id ORDER BY s.ordinal",
                           -1, &st, NULL) != SQLITE_OK)
        return db_error(s, err, "reading results");
    int rc = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        eval_store_row row = {0};
        row.ordinal = (long)sqlite3_column_int64(st, 0);
        row.clip_id = column_text_or(st, 1, "");
        if (!sqlite3_column_int(st, 2)) {
            row.status = EVAL_STORE_MISSING;
        } else {
            row.youtube_id = column_text_or(st, 3, "");
            row.label = (const char *)sqlite3_column_text(st, 4);
            /* int64 first: column_int would turn 4294967296 into EVAL_STORE_OK */
            const sqlite3_int64 status = sqlite3_column_int64(st, 5);
            if (sqlite3_column_type(st, 5) != SQLITE_INTEGER ||
                (status != EVAL_STORE_OK && status != EVAL_STORE_SKIPPED)) {
                rc = vb_error_set(err, VB_EFORMAT, "%s: clip '%s' has unknown status %lld", s->path,
                                  row.clip_id, (long long)status);
                break;
            }
            row.status = (int)status;
            row.reason = (const char *)sqlite3_column_text(st, 6);
            row.decode_ms = sqlite3_column_double(st, 8);
            row.preprocess_ms = sqlite3_column_double(st, 9);
            row.model_ms = sqlite3_column_double(st, 10);
            if (row.status == EVAL_STORE_OK) {
                const void *blob = sqlite3_column_blob(st, 7);
                int bytes = sqlite3_column_bytes(st, 7);
                if (!blob || bytes != (int)(s->num_classes * sizeof(float))) {
                    rc = vb_error_set(err, VB_EFORMAT, "%s: clip '%s' has %d bytes of scores, "
                                      "expected %zu", s->path, row.clip_id, bytes,
                                      s->num_classes * sizeof(float));
                    break;
                }
                memcpy(s->probs_copy, blob, (size_t)bytes);
                row.probs = s->probs_copy;
            }
        }
        rc = visit(user, &row, err);
        if (rc)
            break;
    }
    if (!rc && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = db_error(s, err, "reading results");
    sqlite3_finalize(st);
    return rc;
}
