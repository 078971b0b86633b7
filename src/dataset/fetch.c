/* `data download`: path list and annotations once, then partitions in list order (J at a
 * time) until N clips are on disk. A partition is recorded as done, together with its clips,
 * in one transaction after it is downloaded and unpacked; everything before that is redone
 * or resumed (.part files) by the next run. HTTP lives in src/net/download.c. */
#include "dataset_internal.h"
#include "common/fsutil.h"
#include "vidbench/download.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define MAX_JOBS 64
/* The largest partition we accept: the real ones are 1-3 GB; a mirror that streams more is
 * broken or hostile, and stops here (or at the free-space floor, whichever comes first). */
#define MAX_PARTITION_BYTES ((int64_t)64 << 30)
/* Path lists are a few KB, annotation files up to ~100 MB (K700 train). */
#define MAX_META_FILE_BYTES ((int64_t)1 << 30)

void vb_download_request_init(vb_download_request *request)
{
    memset(request, 0, sizeof *request);
    request->version = 400;
    request->split = VB_SPLIT_VAL;
    request->jobs = 1;
}

/* One run's shared state; `mutex` guards everything below it. */
typedef struct fetch_run {
    vb_dataset *ds;
    const vb_download_request *request;
    const vb_pathlist *list;
    char download_dir[PATH_MAX];
    char raw_dir[PATH_MAX];
    pthread_mutex_t mutex;
    size_t next_index;
    long clips_on_disk;
    int partitions_done_total;
    int partitions_failed;
    int unsafe_entries;
    int stop;                 /* target reached, disk full or canceled */
    int canceled;
    int64_t bytes_finished;   /* bytes of partitions finished in this run */
    int64_t *bytes_in_flight; /* per worker */
    int64_t largest_partition_bytes;
    int partitions_owned;     /* of the list, this request's (all unless partition-sharded) */
    vb_error last_error;
    int last_rc;
    int items_done;
} fetch_run;

typedef struct worker_ctx {
    fetch_run *run;
    int worker;
    size_t index;
} worker_ctx;

/* Serialised call of the user's progress callback; run->mutex must be held. */
static int emit(fetch_run *run, vb_dataset_progress *p)
{
    if (!run->request->progress)
        return 0;
    p->items_done = run->items_done;
    p->items_total = run->partitions_owned;
    p->clips_on_disk = run->clips_on_disk;
    p->bytes_all_done = run->bytes_finished;
    for (int i = 0; i < (run->request->jobs > 0 ? run->request->jobs : 1); i++)
        p->bytes_all_done += run->bytes_in_flight[i];
    if (run->request->progress(run->request->progress_user, p)) {
        run->canceled = 1;
        run->stop = 1;
        return 1;
    }
    return 0;
}

static int on_bytes(void *user, int64_t done_bytes, int64_t total_bytes)
{
    worker_ctx *ctx = user;
    fetch_run *run = ctx->run;
    pthread_mutex_lock(&run->mutex);
    run->bytes_in_flight[ctx->worker] = done_bytes;
    vb_dataset_progress p = {.event = VB_EVENT_BYTES, .item = run->list->urls[ctx->index],
                             .bytes_done = done_bytes, .bytes_total = total_bytes};
    int stop = emit(run, &p) || run->canceled;
    pthread_mutex_unlock(&run->mutex);
    return stop;
}

/* File name of partition i in the download folder: its index (so two URLs with one base
 * name never collide) and the URL's last component made file-name safe. */
static void partition_file_name(const char *url, size_t index, char *out, size_t out_size)
{
    const char *base = strrchr(url, '/');
    base = base ? base + 1 : url;
    int n = snprintf(out, out_size, "%05zu_", index);
    size_t w = n > 0 ? (size_t)n : 0;
    for (const char *p = base; *p && w + 1 < out_size && w < 200; p++) {
        unsigned char c = (unsigned char)*p;
        out[w++] = (c == ' ' || c == '/' || c < 0x20 || c >= 0x7f) ? '_' : (char)c;
    }
    out[w] = '\0';
}

typedef struct collected {
    char **paths;
    size_t count, capacity;
} collected;

static int collect_file(void *user, const char *relative_path)
{
    collected *c = user;
    if (c->count == c->capacity) {
        size_t cap = c->capacity ? c->capacity * 2 : 256;
        char **grown = realloc(c->paths, cap * sizeof *grown);
        if (!grown)
            return 1;
        c->paths = grown;
        c->capacity = cap;
    }
    if (!(c->paths[c->count] = strdup(relative_path)))
        return 1;
    c->count++;
    return 0;
}

static void collected_free(collected *c)
{
    for (size_t i = 0; i < c->count; i++)
        free(c->paths[i]);
    free(c->paths);
    memset(c, 0, sizeof *c);
}

/* Records the partition's outcome; for a done partition its clips go in the same
 * transaction. Caller holds ds->lock. */
static int record_partition(fetch_run *run, size_t index, const char *state, const char *error,
                            const collected *files, int64_t bytes, int refused, long *added,
                            vb_error *err)
{
    vb_dataset *ds = run->ds;
    const char *split = vb_split_name(run->request->split);
    int version = run->request->version;
    sqlite3_stmt *stmt = NULL;
    int rc = ds_db_exec(ds, "BEGIN IMMEDIATE", err);
    if (rc)
        return rc;
    *added = 0;
    if (files && files->count) {
        rc = ds_db_prepare(ds,
                           "INSERT OR IGNORE INTO clips(version, split, clip_id, youtube_id, time_start,"
                           " time_end, rel_path, partition) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
                           &stmt, err);
        for (size_t i = 0; !rc && i < files->count; i++) {
            char id[12];
            int start, end;
            const char *rel = files->paths[i];
            if (vb_clip_name_parse(rel, id, &start, &end))
                continue; /* not a clip (a readme, a list): kept on disk, not listed */
            const char *base = strrchr(rel, '/');
            base = base ? base + 1 : rel;
            const char *dot = strrchr(base, '.');
            sqlite3_reset(stmt);
            sqlite3_bind_int(stmt, 1, version);
            sqlite3_bind_text(stmt, 2, split, -1, SQLITE_STATIC);
            sqlite3_bind_text(stmt, 3, base, (int)(dot - base), SQLITE_TRANSIENT);
            sqlite3_bind_text(stmt, 4, id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int(stmt, 5, start);
            sqlite3_bind_int(stmt, 6, end);
            sqlite3_bind_text(stmt, 7, rel, -1, SQLITE_STATIC);
            sqlite3_bind_int64(stmt, 8, (sqlite3_int64)index);
            if (sqlite3_step(stmt) != SQLITE_DONE)
                rc = vb_error_set(err, VB_EDATABASE, "recording clip %s: %s", rel, sqlite3_errmsg(ds->db));
            else
                *added += sqlite3_changes(ds->db);
        }
        sqlite3_finalize(stmt);
        stmt = NULL;
    }
    if (!rc)
        rc = ds_db_prepare(ds,
                           "INSERT OR REPLACE INTO partitions(version, split, idx, url, state, error,"
                           " clips, bytes, refused, updated)"
                           " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,CURRENT_TIMESTAMP)",
                           &stmt, err);
    if (!rc) {
        sqlite3_bind_int(stmt, 1, version);
        sqlite3_bind_text(stmt, 2, split, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 3, (sqlite3_int64)index);
        sqlite3_bind_text(stmt, 4, run->list->urls[index], -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 5, state, -1, SQLITE_STATIC);
        if (error)
            sqlite3_bind_text(stmt, 6, error, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(stmt, 6);
        sqlite3_bind_int64(stmt, 7, *added);
        sqlite3_bind_int64(stmt, 8, bytes);
        sqlite3_bind_int(stmt, 9, refused);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            rc = vb_error_set(err, VB_EDATABASE, "recording partition %zu: %s", index,
                              sqlite3_errmsg(ds->db));
        sqlite3_finalize(stmt);
    }
    if (rc) {
        ds_db_exec(ds, "ROLLBACK", NULL);
        return rc;
    }
    return ds_db_exec(ds, "COMMIT", err);
}

static int partition_is_done(vb_dataset *ds, int version, vb_split split, size_t index)
{
    sqlite3_stmt *stmt = NULL;
    int done = 0;
    if (sqlite3_prepare_v2(ds->db,
                           "SELECT state FROM partitions WHERE version=?1 AND split=?2 AND idx=?3",
                           -1, &stmt, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_int(stmt, 1, version);
    sqlite3_bind_text(stmt, 2, vb_split_name(split), -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)index);
    if (sqlite3_step(stmt) == SQLITE_ROW)
        done = !strcmp((const char *)sqlite3_column_text(stmt, 0), "done");
    sqlite3_finalize(stmt);
    return done;
}

/* Whether partition index belongs to this request (partition sharding). */
static int request_owns(const vb_download_request *req, size_t index)
{
    return req->shard_count <= 1 || vb_partition_shard(index, req->shard_count) == req->shard_index;
}

/* Free bytes on the file system of path, -1 when unknown. */
static int64_t free_bytes(const char *path)
{
    struct statvfs st;
    if (statvfs(path, &st) != 0)
        return -1;
    return (int64_t)st.f_bavail * (int64_t)st.f_frsize;
}

/* Downloads and unpacks one partition, then records it. Returns 0 or the failure. */
static int process_partition(worker_ctx *ctx, vb_error *err)
{
    fetch_run *run = ctx->run;
    const vb_download_request *req = run->request;
    size_t index = ctx->index;
    const char *url = run->list->urls[index];
    char name[256], archive_path[PATH_MAX + 256];
    partition_file_name(url, index, name, sizeof name);
    snprintf(archive_path, sizeof archive_path, "%s/%s", run->download_dir, name);

    if (vb_url_escapes_root(url))
        return vb_error_set(err, VB_EUNSAFE, "%s: a '.' or '..' path segment would leave the mirror's root; "
                            "refused", url);
    char *fetch_url = vb_mirror_url(url, req->mirror);
    if (!fetch_url)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", url);
    vb_download_options options;
    vb_download_options_init(&options);
    if (req->max_attempts > 0)
        options.max_attempts = req->max_attempts;
    if (req->initial_backoff_ms > 0)
        options.initial_backoff_ms = req->initial_backoff_ms;
    options.progress = on_bytes;
    options.progress_user = ctx;
    /* A body may use the free space above the floor (shared by the parallel downloads), never
     * more: a mirror that streams without end stops there, and its .part is removed. */
    options.max_size_bytes = MAX_PARTITION_BYTES;
    int64_t have = free_bytes(run->download_dir);
    if (have >= 0) {
        int64_t floor_bytes = req->min_free_bytes > 0 ? req->min_free_bytes : ((int64_t)1 << 30);
        int jobs = req->jobs > 0 ? req->jobs : 1;
        int64_t share = (have > floor_bytes ? have - floor_bytes : 0) / jobs;
        if (share < options.max_size_bytes)
            options.max_size_bytes = share > 0 ? share : 1;
    }
    int rc = 0;
    /* A complete archive from a run killed while unpacking is unpacked again, not fetched. */
    if (!fs_path_exists(archive_path))
        rc = vb_download_file(fetch_url, archive_path, &options, err);
    free(fetch_url);
    if (rc)
        return rc;

    int64_t bytes = 0;
    FILE *fp = fopen(archive_path, "rb");
    if (fp) {
        if (fseeko(fp, 0, SEEK_END) == 0)
            bytes = (int64_t)ftello(fp);
        fclose(fp);
    }
    collected files = {0};
    vb_unpack_result unpacked;
    rc = vb_unpack_archive(archive_path, run->raw_dir, collect_file, &files, &unpacked, err);
    if (rc) {
        /* A truncated or corrupt archive is fetched anew next time; a compression bomb is not
         * kept on disk either. */
        if (rc == VB_EFORMAT || rc == VB_ELIMIT)
            unlink(archive_path);
        vb_error_prefix(err, "partition %s: ", url);
        collected_free(&files);
        return rc;
    }
    long added = 0;
    pthread_mutex_lock(&run->ds->lock);
    rc = record_partition(run, index, "done", NULL, &files, bytes, unpacked.entries_refused, &added, err);
    pthread_mutex_unlock(&run->ds->lock);
    collected_free(&files);
    if (rc)
        return rc;
    unlink(archive_path); /* the clips are on disk and recorded; the tarball is redundant */

    pthread_mutex_lock(&run->mutex);
    run->clips_on_disk += added;
    run->partitions_done_total++;
    run->items_done++;
    run->bytes_finished += bytes;
    run->bytes_in_flight[ctx->worker] = 0;
    if (bytes > run->largest_partition_bytes)
        run->largest_partition_bytes = bytes;
    run->unsafe_entries += unpacked.entries_refused;
    char message[700];
    if (unpacked.entries_refused) {
        snprintf(message, sizeof message, "%s: refused %d unsafe archive entries (first: %.500s)", url,
                 unpacked.entries_refused, unpacked.first_refused);
        vb_dataset_progress info = {.event = VB_EVENT_INFO, .item = url, .message = message};
        emit(run, &info);
    }
    snprintf(message, sizeof message, "%ld clips", added);
    vb_dataset_progress p = {.event = VB_EVENT_PARTITION_DONE, .item = url, .bytes_done = bytes,
                             .bytes_total = bytes, .message = message};
    emit(run, &p);
    pthread_mutex_unlock(&run->mutex);
    return 0;
}

static void *worker_main(void *arg)
{
    worker_ctx *ctx = arg;
    fetch_run *run = ctx->run;
    const vb_download_request *req = run->request;
    for (;;) {
        pthread_mutex_lock(&run->mutex);
        if (req->num_videos > 0 && run->clips_on_disk >= req->num_videos)
            run->stop = 1;
        while (!run->stop && run->next_index < run->list->count) {
            if (!request_owns(req, run->next_index)) {   /* another shard's */
                run->next_index++;
                continue;
            }
            pthread_mutex_lock(&run->ds->lock);
            int done = partition_is_done(run->ds, req->version, req->split, run->next_index);
            pthread_mutex_unlock(&run->ds->lock);
            if (!done)
                break;
            run->next_index++;
        }
        if (run->stop || run->next_index >= run->list->count) {
            pthread_mutex_unlock(&run->mutex);
            break;
        }
        /* Disk: keep min_free plus room for the archive and its unpacked copy. */
        int64_t floor_bytes = req->min_free_bytes > 0 ? req->min_free_bytes : ((int64_t)1 << 30);
        int64_t need = floor_bytes + run->largest_partition_bytes * 5 / 2;
        int64_t have = free_bytes(run->ds->data_dir);
        if (have >= 0 && have < need) {
            run->stop = 1;
            run->last_rc = vb_error_set(&run->last_error, VB_ENOSPACE,
                                        "%s: only %.2f GiB free, %.2f GiB needed before the next "
                                        "partition; stopping (free space or lower --min-free-mb)",
                                        run->ds->data_dir, have / 1073741824.0, need / 1073741824.0);
            pthread_mutex_unlock(&run->mutex);
            break;
        }
        ctx->index = run->next_index++;
        pthread_mutex_unlock(&run->mutex);

        vb_error err = {0};
        int rc = process_partition(ctx, &err);
        if (rc) {
            pthread_mutex_lock(&run->mutex);
            run->bytes_in_flight[ctx->worker] = 0;
            if (rc == VB_ECANCELED || run->canceled) {
                run->canceled = 1;
                run->stop = 1;
                pthread_mutex_unlock(&run->mutex);
                break;
            }
            run->partitions_failed++;
            run->items_done++;
            run->last_rc = rc;
            run->last_error = err;
            vb_dataset_progress p = {.event = VB_EVENT_PARTITION_FAILED,
                                     .item = run->list->urls[ctx->index], .message = err.message};
            emit(run, &p);
            pthread_mutex_unlock(&run->mutex);
            long ignored;
            pthread_mutex_lock(&run->ds->lock);
            record_partition(run, ctx->index, "failed", err.message, NULL, 0, 0, &ignored, NULL);
            pthread_mutex_unlock(&run->ds->lock);
        }
    }
    return NULL;
}

/* Removes the temporaries ("<name>.unpack-XXXXXX") of unpacks that a kill interrupted, so a
 * killed run leaves no stray file once the next run starts. Depth-limited walk, no links. */
static void remove_stale_unpack_files(const char *dir, int depth)
{
    if (depth > 16)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char path[PATH_MAX];
        int n = snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (n < 0 || (size_t)n >= sizeof path)
            continue;
        struct stat st;
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            remove_stale_unpack_files(path, depth + 1);
        else if (S_ISREG(st.st_mode) && strstr(de->d_name, ".unpack-"))
            unlink(path);
    }
    closedir(d);
}

/* Fetches url (mirror-rewritten) into dir/name unless it is already there. */
static int fetch_meta_file(const vb_download_request *req, const char *canonical_url, const char *dir,
                           const char *name, vb_error *err)
{
    char path[PATH_MAX + 256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (fs_path_exists(path))
        return 0;
    char *url = vb_mirror_url(canonical_url, req->mirror);
    if (!url)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", canonical_url);
    vb_download_options options;
    vb_download_options_init(&options);
    if (req->max_attempts > 0)
        options.max_attempts = req->max_attempts;
    if (req->initial_backoff_ms > 0)
        options.initial_backoff_ms = req->initial_backoff_ms;
    options.max_size_bytes = MAX_META_FILE_BYTES;
    int rc = vb_download_file(url, path, &options, err);
    free(url);
    return rc;
}

/* Path list and annotation file of a version/split, fetched once into meta/. */
static int fetch_metadata(vb_dataset *ds, const vb_download_request *req, const char *meta_dir,
                          vb_pathlist *list, vb_error *err)
{
    const char *vdir = ds_version_dir(req->version);
    const char *split = vb_split_name(req->split);
    char list_name[128], url[512], path[PATH_MAX + 256];
    if (req->version == 700)
        snprintf(list_name, sizeof list_name, "k700_2020_%s_path.txt", split);
    else
        snprintf(list_name, sizeof list_name, "k%d_%s_path.txt", req->version, split);
    snprintf(url, sizeof url, "%s%s/%s/%s", VB_KINETICS_MIRROR, vdir, split, list_name);
    int rc = fetch_meta_file(req, url, meta_dir, list_name, err);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "%s/%s", meta_dir, list_name);
    rc = vb_pathlist_load(path, list, err);
    if (rc) {
        unlink(path); /* a bad list is fetched anew next time */
        return rc;
    }

    /* K600 train/val annotations are `ls -R` listings (.txt); everything else is CSV. */
    const char *candidates[2] = {"csv", NULL};
    if (req->version == 600 && req->split != VB_SPLIT_TEST) {
        candidates[0] = "txt";
        candidates[1] = "csv";
    }
    char ann_name[64] = "";
    for (int i = 0; i < 2 && candidates[i]; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.%s", split, candidates[i]);
        snprintf(url, sizeof url, "%s%s/annotations/%s", VB_KINETICS_MIRROR, vdir, name);
        vb_error attempt = {0};
        rc = fetch_meta_file(req, url, meta_dir, name, &attempt);
        if (!rc) {
            snprintf(ann_name, sizeof ann_name, "%s", name);
            break;
        }
        if (err)
            *err = attempt;
        if (rc != VB_EHTTP)
            break;
    }
    if (!ann_name[0]) {
        vb_pathlist_free(list);
        return vb_error_prefix(err, "annotations of kinetics %d %s: ", req->version, split);
    }
    vb_annotations ann;
    snprintf(path, sizeof path, "%s/%s", meta_dir, ann_name);
    rc = vb_annotations_load(path, &ann, err);
    if (rc) {
        unlink(path);
        vb_pathlist_free(list);
        return rc;
    }
    sqlite3_stmt *stmt = NULL;
    pthread_mutex_lock(&ds->lock);
    rc = ds_db_prepare(ds,
                       "INSERT OR REPLACE INTO splits(version, split, annotation_file, annotated,"
                       " partitions) VALUES(?1,?2,?3,?4,?5)",
                       &stmt, err);
    if (!rc) {
        sqlite3_bind_int(stmt, 1, req->version);
        sqlite3_bind_text(stmt, 2, split, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, ann_name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 4, (sqlite3_int64)ann.count);
        sqlite3_bind_int64(stmt, 5, (sqlite3_int64)list->count);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            rc = vb_error_set(err, VB_EDATABASE, "recording annotations: %s", sqlite3_errmsg(ds->db));
        sqlite3_finalize(stmt);
    }
    pthread_mutex_unlock(&ds->lock);
    vb_annotations_free(&ann);
    if (rc)
        vb_pathlist_free(list);
    return rc;
}

int vb_dataset_download(vb_dataset *ds, const vb_download_request *req, vb_download_result *result,
                        vb_error *err)
{
    vb_download_result local;
    if (!result)
        result = &local;
    memset(result, 0, sizeof *result);
    if (!ds || !req || !vb_kinetics_version_valid(req->version))
        return vb_error_set(err, VB_EINVAL, "download: version must be 400, 600 or 700");
    if (req->jobs < 0 || req->jobs > MAX_JOBS)
        return vb_error_set(err, VB_EINVAL, "download: jobs must be 1..%d", MAX_JOBS);
    if (req->shard_count < 0 || (req->shard_count > 1 && (req->shard_index < 0 || req->shard_index >= req->shard_count)))
        return vb_error_set(err, VB_EINVAL, "download: shard %d/%d: expected 0 <= i < N", req->shard_index,
                            req->shard_count);
    char meta_dir[PATH_MAX];
    fetch_run run;
    memset(&run, 0, sizeof run);
    run.ds = ds;
    run.request = req;
    int rc = ds_dir(ds, "meta", req->version, req->split, meta_dir, sizeof meta_dir, err);
    if (!rc)
        rc = ds_dir(ds, "downloads", req->version, req->split, run.download_dir,
                            sizeof run.download_dir, err);
    if (!rc)
        rc = ds_dir(ds, "raw", req->version, req->split, run.raw_dir, sizeof run.raw_dir, err);
    if (!rc)
        rc = fs_mkdir_p(meta_dir, err);
    if (!rc)
        rc = fs_mkdir_p(run.download_dir, err);
    if (!rc)
        rc = fs_mkdir_p(run.raw_dir, err);
    if (rc)
        return rc;
    remove_stale_unpack_files(run.raw_dir, 0);
    vb_pathlist list;
    rc = fetch_metadata(ds, req, meta_dir, &list, err);
    if (rc)
        return rc;
    run.list = &list;
    int jobs = req->jobs > 0 ? req->jobs : 1;
    pthread_mutex_init(&run.mutex, NULL);
    run.bytes_in_flight = calloc((size_t)jobs, sizeof *run.bytes_in_flight);
    worker_ctx *ctx = calloc((size_t)jobs, sizeof *ctx);
    pthread_t *threads = calloc((size_t)jobs, sizeof *threads);
    if (!run.bytes_in_flight || !ctx || !threads) {
        rc = vb_error_set(err, VB_ENOMEM, "download: out of memory");
        goto done;
    }
    /* With partition sharding, what this shard owns: another shard may share the data dir. */
    char own_clips_sql[200] = "SELECT count(*) FROM clips WHERE version=?1 AND split=?2";
    if (req->shard_count > 1)
        snprintf(own_clips_sql, sizeof own_clips_sql,
                 "SELECT count(*) FROM clips WHERE version=?1 AND split=?2 AND partition %% %d = %d",
                 req->shard_count, req->shard_index);
    pthread_mutex_lock(&ds->lock);
    run.clips_on_disk = ds_db_count(ds, own_clips_sql, req->version, req->split);
    run.largest_partition_bytes = ds_db_count(
        ds, "SELECT coalesce(max(bytes),0) FROM partitions WHERE version=?1 AND split=?2",
        req->version, req->split);
    /* progress counts partitions finished in earlier runs too ("partition 5/20") */
    for (size_t i = 0; i < list.count; i++)
        if (request_owns(req, i)) {
            run.partitions_owned++;
            run.items_done += partition_is_done(ds, req->version, req->split, i);
        }
    pthread_mutex_unlock(&ds->lock);
    if (list.duplicates) {
        char message[160];
        snprintf(message, sizeof message, "path list: %zu repeated URLs dropped (each partition is fetched once)",
                 list.duplicates);
        vb_dataset_progress info = {.event = VB_EVENT_INFO, .message = message};
        pthread_mutex_lock(&run.mutex);
        emit(&run, &info);
        pthread_mutex_unlock(&run.mutex);
    }
    if (run.largest_partition_bytes < 0)
        run.largest_partition_bytes = 0;

    int started = 0;
    for (int i = 0; i < jobs; i++) {
        ctx[i].run = &run;
        ctx[i].worker = i;
        if (pthread_create(&threads[i], NULL, worker_main, &ctx[i]) != 0)
            break;
        started++;
    }
    if (started == 0)
        worker_main(&ctx[0]);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);

    pthread_mutex_lock(&ds->lock);
    for (size_t i = 0; i < list.count; i++)
        if (request_owns(req, i))
            result->partitions_done += partition_is_done(ds, req->version, req->split, i);
    result->clips_on_disk = ds_db_count(ds, own_clips_sql, req->version, req->split);
    pthread_mutex_unlock(&ds->lock);
    /* Leftover archives of done partitions (killed between commit and unlink). */
    for (size_t i = 0; i < list.count; i++) {
        char name[256], path[PATH_MAX + 256];
        partition_file_name(list.urls[i], i, name, sizeof name);
        snprintf(path, sizeof path, "%s/%s", run.download_dir, name);
        if (fs_path_exists(path) && partition_is_done(ds, req->version, req->split, i))
            unlink(path);
    }
    result->partitions_total = run.partitions_owned;
    result->partitions_failed = run.partitions_failed;
    result->unsafe_entries = run.unsafe_entries;
    if (run.canceled) {
        rc = vb_error_set(err, VB_ECANCELED, "download of kinetics %d %s canceled (resumable)",
                          req->version, vb_split_name(req->split));
    } else if (run.last_rc == VB_ENOSPACE) {
        rc = run.last_rc;
        if (err)
            *err = run.last_error;
    } else if (req->num_videos > 0 ? result->clips_on_disk >= req->num_videos
                                   : result->partitions_done == result->partitions_total) {
        rc = 0;
    } else if (req->num_videos > 0 && result->partitions_done == result->partitions_total) {
        rc = 0; /* the split has fewer clips than asked for; every partition is done */
    } else {
        rc = run.last_rc ? run.last_rc : VB_ESTATE;
        if (err) {
            if (run.last_rc)
                *err = run.last_error;
            else
                vb_error_set(err, VB_ESTATE, "download incomplete");
        }
        vb_error_prefix(err, "%d of %d partitions failed; last: ", run.partitions_failed,
                        (int)list.count);
    }
done:
    free(run.bytes_in_flight);
    free(ctx);
    free(threads);
    pthread_mutex_destroy(&run.mutex);
    vb_pathlist_free(&list);
    return rc;
}
