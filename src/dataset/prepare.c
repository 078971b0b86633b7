/* Filling the clip cache (cache.c has its naming and file format): each clip decoded and
 * preprocessed once with vb_video_decode_clip, by several workers. Failures are recorded per clip
 * and parameters. */
#include "dataset_internal.h"
#include "common/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void vb_prepare_request_init(vb_prepare_request *request)
{
    memset(request, 0, sizeof *request);
    request->version = 400;
    request->split = VB_SPLIT_VAL;
    vb_video_options_init(&request->video);
    request->jobs = 1;
}

/* ---- prepare run ---- */
typedef struct prepare_item {
    char clip_id[64];
    char *path;               /* absolute path of the unpacked clip */
} prepare_item;

typedef struct prepare_run {
    vb_dataset *ds;
    const vb_prepare_request *request;
    char key[64];
    char cache_dir[PATH_MAX];
    prepare_item *items;
    size_t count;
    pthread_mutex_t mutex;    /* guards the fields below and the progress callback */
    size_t next;
    int done;
    long cached, bad;
    int stop, canceled;
    int fatal_rc;
    vb_error fatal_error;
} prepare_run;

static int emit_clip(prepare_run *run, vb_dataset_event event, const char *clip_id, const char *message)
{
    if (!run->request->progress)
        return 0;
    vb_dataset_progress p = {.event = event, .item = clip_id, .items_done = run->done,
                             .items_total = (int)run->count, .message = message};
    if (run->request->progress(run->request->progress_user, &p)) {
        run->stop = run->canceled = 1;
        return 1;
    }
    return 0;
}

/* Runs one statement on (version, split, clip_id, params[, value]) rows; ds->lock held. */
static int clip_row_statement(prepare_run *run, const char *sql, const char *clip_id, const char *reason,
                              int frames, vb_error *err)
{
    vb_dataset *ds = run->ds;
    sqlite3_stmt *stmt = NULL;
    int rc = ds_db_prepare(ds, sql, &stmt, err);
    if (rc)
        return rc;
    sqlite3_bind_int(stmt, 1, run->request->version);
    sqlite3_bind_text(stmt, 2, vb_split_name(run->request->split), -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, clip_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, run->key, -1, SQLITE_STATIC);
    if (reason)
        sqlite3_bind_text(stmt, 5, reason, -1, SQLITE_STATIC);
    else if (sqlite3_bind_parameter_count(stmt) >= 5)
        sqlite3_bind_int(stmt, 5, frames);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        rc = vb_error_set(err, VB_EDATABASE, "recording clip %s: %s", clip_id, sqlite3_errmsg(ds->db));
    sqlite3_finalize(stmt);
    return rc;
}

/* Records a clip as prepared (reason NULL) or bad, and drops the opposite record an earlier
 * run may have left (a re-prepared clip can change sides under overwrite). */
static int record_result(prepare_run *run, const char *clip_id, int frames, const char *reason,
                         vb_error *err)
{
    const char *record = reason ? "INSERT OR REPLACE INTO bad_clips(version, split, clip_id, params, reason)"
                                  " VALUES(?1,?2,?3,?4,?5)"
                                : "INSERT OR REPLACE INTO prepared(version, split, clip_id, params, frames)"
                                  " VALUES(?1,?2,?3,?4,?5)";
    const char *drop = reason ? "DELETE FROM prepared WHERE version=?1 AND split=?2 AND clip_id=?3 AND params=?4"
                              : "DELETE FROM bad_clips WHERE version=?1 AND split=?2 AND clip_id=?3 AND params=?4";
    pthread_mutex_lock(&run->ds->lock);
    int rc = clip_row_statement(run, record, clip_id, reason, frames, err);
    if (!rc)
        rc = clip_row_statement(run, drop, clip_id, NULL, 0, err);
    pthread_mutex_unlock(&run->ds->lock);
    return rc;
}

static void *prepare_worker(void *arg)
{
    prepare_run *run = arg;
    for (;;) {
        pthread_mutex_lock(&run->mutex);
        if (run->stop || run->next >= run->count) {
            pthread_mutex_unlock(&run->mutex);
            break;
        }
        prepare_item *item = &run->items[run->next++];
        pthread_mutex_unlock(&run->mutex);

        vb_frames clip;
        vb_error decode_err = {0};
        vb_error err = {0};
        vb_video_options options = run->request->video;
        /* parallel clips: one decoder thread each, rather than every decoder using every core */
        if (run->request->jobs > 1 && options.threads == 0)
            options.threads = 1;
        int rc = vb_video_decode_clip(item->path, &options, &clip, &decode_err);
        int fatal = 0;
        if (rc == 0) {
            char path[PATH_MAX + 128];
            snprintf(path, sizeof path, "%s/%s.vbclip", run->cache_dir, item->clip_id);
            rc = dataset_cache_write(path, &clip, &err);
            if (!rc)
                rc = record_result(run, item->clip_id, clip.num_frames, NULL, &err);
            fatal = rc != 0; /* our own I/O or database failed: the run cannot go on */
            vb_frames_free(&clip);
        } else if (rc == VB_ENOMEM) {
            fatal = 1;
            err = decode_err;
        } else {
            /* The clip itself is bad: record why and move on (and, when an overwrite finds a
             * once-good clip bad now, its old cache file goes). */
            const char *reason = decode_err.message[0] ? decode_err.message : vb_strerror(rc);
            int db_rc = record_result(run, item->clip_id, 0, reason, &err);
            fatal = db_rc != 0;
            if (!fatal && run->request->overwrite) {
                char path[PATH_MAX + 128];
                snprintf(path, sizeof path, "%s/%s.vbclip", run->cache_dir, item->clip_id);
                unlink(path);
            }
        }
        pthread_mutex_lock(&run->mutex);
        run->done++;
        if (fatal) {
            if (!run->fatal_rc) {
                run->fatal_rc = err.code ? err.code : VB_EIO;
                run->fatal_error = err;
            }
            run->stop = 1;
        } else if (rc == 0) {
            run->cached++;
            emit_clip(run, VB_EVENT_CLIP_DONE, item->clip_id, NULL);
        } else {
            run->bad++;
            emit_clip(run, VB_EVENT_CLIP_BAD, item->clip_id,
                      decode_err.message[0] ? decode_err.message : vb_strerror(rc));
        }
        pthread_mutex_unlock(&run->mutex);
    }
    return NULL;
}

int vb_dataset_prepare(vb_dataset *ds, const vb_prepare_request *req, vb_prepare_result *result,
                       vb_error *err)
{
    vb_prepare_result local;
    if (!result)
        result = &local;
    memset(result, 0, sizeof *result);
    if (!ds || !req || !vb_kinetics_version_valid(req->version))
        return vb_error_set(err, VB_EINVAL, "prepare: version must be 400, 600 or 700");
    if (req->jobs < 0 || req->jobs > 256)
        return vb_error_set(err, VB_EINVAL, "prepare: jobs must be 1..256");
    prepare_run run;
    memset(&run, 0, sizeof run);
    run.ds = ds;
    run.request = req;
    vb_prepare_key(&req->video, run.key);
    char dummy[PATH_MAX + 128];
    int rc = dataset_cache_path(ds, req->version, req->split, run.key, NULL, dummy, sizeof dummy, err);
    if (rc)
        return rc;
    snprintf(run.cache_dir, sizeof run.cache_dir, "%.*s", (int)(strlen(dummy) - strlen("/.vbclip")), dummy);
    rc = fs_mkdir_p(run.cache_dir, err);
    if (rc)
        return rc;

    /* temporaries of cache files whose writer was killed */
    DIR *dir = opendir(run.cache_dir);
    if (dir) {
        struct dirent *de;
        while ((de = readdir(dir)))
            if (strstr(de->d_name, ".vbclip.tmp.")) {
                char stale[PATH_MAX + 256];
                snprintf(stale, sizeof stale, "%s/%s", run.cache_dir, de->d_name);
                unlink(stale);
            }
        closedir(dir);
    }
    vb_dataset_clip_list list;
    rc = vb_dataset_clips(ds, req->version, req->split, &req->video, &list, err);
    if (rc)
        return rc;
    size_t list_keep = list.count;
    /* Partition sharding: keep this shard's clips (the listing's order is kept). */
    if (req->shard_count > 1) {
        if (req->shard_index < 0 || req->shard_index >= req->shard_count) {
            vb_dataset_clip_list_free(&list);
            return vb_error_set(err, VB_EINVAL, "prepare: shard %d/%d: expected 0 <= i < N", req->shard_index,
                                req->shard_count);
        }
        size_t kept = 0;
        for (size_t i = 0; i < list.count; i++) {
            if (vb_partition_shard(list.clips[i].partition, req->shard_count) != req->shard_index)
                continue;
            vb_dataset_clip tmp = list.clips[kept];
            list.clips[kept++] = list.clips[i];
            list.clips[i] = tmp;
        }
        list_keep = kept;   /* the others stay in the list, behind, and are freed with it */
    }
    size_t n = list_keep;
    if (req->num_videos > 0 && (size_t)req->num_videos < n)
        n = (size_t)req->num_videos;
    result->clips_considered = (long)n;
    run.items = calloc(n ? n : 1, sizeof *run.items);
    if (!run.items) {
        vb_dataset_clip_list_free(&list);
        return vb_error_set(err, VB_ENOMEM, "prepare: out of memory");
    }
    long already_cached = 0, already_bad = 0;
    for (size_t i = 0; i < n; i++) {
        const vb_dataset_clip *c = &list.clips[i];
        if (c->status == VB_CLIP_BAD && !req->overwrite) {
            already_bad++;
            continue;
        }
        if (c->status == VB_CLIP_PREPARED && !req->overwrite) {
            char path[PATH_MAX + 128];
            if (!dataset_cache_path(ds, req->version, req->split, run.key, c->clip_id, path, sizeof path, NULL) &&
                fs_path_exists(path)) {
                already_cached++;
                continue;
            }
        }
        prepare_item *item = &run.items[run.count++];
        snprintf(item->clip_id, sizeof item->clip_id, "%s", c->clip_id);
        item->path = c->path; /* borrowed from list, freed with it */
    }
    pthread_mutex_init(&run.mutex, NULL);
    int jobs = req->jobs > 0 ? req->jobs : 1;
    if ((size_t)jobs > run.count)
        jobs = run.count ? (int)run.count : 1;
    pthread_t threads[256];
    int started = 0;
    for (int i = 0; i < jobs; i++) {
        if (pthread_create(&threads[i], NULL, prepare_worker, &run) != 0)
            break;
        started++;
    }
    if (started == 0)
        prepare_worker(&run);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    pthread_mutex_destroy(&run.mutex);

    result->clips_cached = already_cached + run.cached;
    result->clips_bad = already_bad + run.bad;
    rc = 0;
    if (run.fatal_rc) {
        rc = run.fatal_rc;
        if (err)
            *err = run.fatal_error;
    } else if (run.canceled) {
        rc = vb_error_set(err, VB_ECANCELED, "prepare of kinetics %d %s canceled (resumable)",
                          req->version, vb_split_name(req->split));
    }
    free(run.items);
    vb_dataset_clip_list_free(&list);
    return rc;
}
