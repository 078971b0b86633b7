/* libFuzzer target for results stores read back by `vidbench merge`: a real store is made
 * with the library, then the fuzz input overwrites its metadata and fills its selection and
 * results as a hostile or damaged file could (every value as text, so SQLite's type affinity
 * lets non-numbers through), and the store is merged. Issue 13: shard_count 4294967296 became
 * 0 as int (heap overflow, SIGFPE); selection_total sized arrays before anything checked it.
 * Input: lines "num_classes", "shard_index", "shard_count", "selection_total", then up to 64
 * rows "ordinal,status,score_bytes,clip_id" or "shard_by=VALUE". Seeds: fuzz/corpus/store_merge. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vidbench/eval.h"
#include "eval/store.h"

static char store_path[96], out_path[96];

static void remove_temp_files(void)
{
    const char *suffixes[] = {"", "-wal", "-shm"};
    char p[128];
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", store_path, suffixes[i]);
        unlink(p);
        snprintf(p, sizeof p, "%s%s", out_path, suffixes[i]);
        unlink(p);
    }
}

/* Next line of the input (without the newline) into buf; 0 at the end. */
static int next_line(const uint8_t **p, const uint8_t *end, char *buf, size_t buf_size)
{
    if (*p >= end)
        return 0;
    size_t n = 0;
    while (*p < end && **p != '\n') {
        if (n + 1 < buf_size)
            buf[n++] = (char)**p;
        (*p)++;
    }
    *p += *p < end;
    buf[n] = '\0';
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store_path[0]) {
        /* /dev/shm: SQLite's syncs cost nothing there */
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(store_path, sizeof store_path, "%s/fuzz-store-%ld.shard0of2.sqlite", dir, (long)getpid());
        snprintf(out_path, sizeof out_path, "%s/fuzz-store-%ld.merged.sqlite", dir, (long)getpid());
        atexit(remove_temp_files);
    }
    remove_temp_files();
    const char *names[3] = {"a", "b", "c"};
    eval_store_identity id = {.fingerprint = "fuzz", .num_classes = 3, .class_names = names,
                            .shard_index = 0, .shard_count = 2, .selection_total = 4};
    eval_store *store = NULL;
    vb_error err;
    if (eval_store_open(store_path, 1, &store, &err) || eval_store_bind(store, &id, &err)) {
        eval_store_free(&store);
        return 0;
    }
    eval_store_free(&store);

    sqlite3 *db = NULL;
    if (sqlite3_open(store_path, &db) != SQLITE_OK) {
        sqlite3_close(db);
        return 0;
    }
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    const uint8_t *p = data, *end = data + size;
    const char *keys[4] = {"num_classes", "shard_index", "shard_count", "selection_total"};
    char line[256];
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(value,key) VALUES(?,?)", -1, &st, NULL);
    for (int k = 0; k < 4 && next_line(&p, end, line, sizeof line); k++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, line, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, keys[k], -1, SQLITE_STATIC);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
    sqlite3_stmt *sel = NULL, *res = NULL;
    sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO selection(ordinal,clip_id) VALUES(?,?)", -1, &sel, NULL);
    sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO results(clip_id,ordinal,youtube_id,label,status,reason,probs,"
                           "decode_ms,preprocess_ms,model_ms) VALUES(?,?,'','a',?,NULL,?,1,1,1)", -1, &res, NULL);
    static uint8_t scores[4096];
    for (int row = 0; row < 64 && next_line(&p, end, line, sizeof line); row++) {
        /* "shard_by=V": how merge orders and checks the shards (clip k mod N, or partition
         * sort keys); hostile values must be refused, not trusted */
        if (!strncmp(line, "shard_by=", 9)) {
            sqlite3_stmt *sb = NULL;
            sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(key,value) VALUES('shard_by',?)", -1, &sb, NULL);
            sqlite3_bind_text(sb, 1, line + 9, -1, SQLITE_TRANSIENT);
            sqlite3_step(sb);
            sqlite3_finalize(sb);
            continue;
        }
        char *fields[4] = {line, "", "0", "x"};
        for (int f = 1; f < 4; f++) {
            char *comma = strchr(fields[f - 1], ',');
            if (!comma)
                break;
            *comma = '\0';
            fields[f] = comma + 1;
        }
        long score_bytes = strtol(fields[2], NULL, 10);
        if (score_bytes < 0 || score_bytes > (long)sizeof scores)
            score_bytes = 12;
        sqlite3_reset(sel);
        sqlite3_bind_text(sel, 1, fields[0], -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(sel, 2, fields[3], -1, SQLITE_TRANSIENT);
        sqlite3_step(sel);
        sqlite3_reset(res);
        sqlite3_bind_text(res, 1, fields[3], -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(res, 2, fields[0], -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(res, 3, fields[1], -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(res, 4, scores, (int)score_bytes, SQLITE_STATIC);
        sqlite3_step(res);
    }
    sqlite3_finalize(sel);
    sqlite3_finalize(res);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);

    const char *paths[1] = {store_path};
    vb_eval_merge(paths, 1, out_path, &err);
    return 0;
}
