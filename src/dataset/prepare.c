/* The clip cache: each clip decoded and preprocessed once (vb_video_decode_clip) into a
 * uint8 [T,S,S,3] file under cache/kinetics/{ver}/{split}/{key}/, where the key spells out
 * every parameter that changes the pixels. Failures are recorded per clip and parameters. */
#include "dataset_internal.h"
#include "common/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Cache file: 40-byte little-endian header, then T*H*W*C bytes.
 *   magic "VBCLIP01" | u32 T | u32 H | u32 W | u32 C | u32 decoded_frames | u32 lost_frames
 *   | f64 fps */
#define CACHE_MAGIC "VBCLIP01"
#define CACHE_HEADER_BYTES 40
#define MAX_CACHE_BYTES ((size_t)4 << 30)

static const char *resize_name(vb_resize_mode mode)
{
    switch (mode) {
    case VB_RESIZE_CROP: return "crop";
    case VB_RESIZE_PAD: return "pad";
    case VB_RESIZE_SHORTSIDE: return "shortside";
    case VB_RESIZE_STRETCH: return "stretch";
    }
    return "unknown";
}

void vb_prepare_key(const vb_video_options *video, char key[64])
{
    int size = video->size > 0 ? video->size : 224;
    /* fps in milli-frames so the key stays an exact, file-name safe integer */
    long fps_milli = video->target_fps > 0 ? (long)(video->target_fps * 1000.0 + 0.5) : 0;
    snprintf(key, 64, "s%d-%s-t%d-m%d-fps%ld", size, resize_name(video->resize), video->num_frames,
             video->min_frames, fps_milli);
}

void vb_prepare_request_init(vb_prepare_request *request)
{
    memset(request, 0, sizeof *request);
    request->version = 400;
    request->split = VB_SPLIT_VAL;
    vb_video_options_init(&request->video);
    request->jobs = 1;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int write_cache_file(const char *path, const vb_clip *clip, vb_error *err)
{
    unsigned char header[CACHE_HEADER_BYTES];
    memcpy(header, CACHE_MAGIC, 8);
    put_u32(header + 8, (uint32_t)clip->num_frames);
    put_u32(header + 12, (uint32_t)clip->height);
    put_u32(header + 16, (uint32_t)clip->width);
    put_u32(header + 20, 3);
    put_u32(header + 24, (uint32_t)clip->decoded_frames);
    put_u32(header + 28, (uint32_t)clip->lost_frames);
    uint64_t fps_bits;
    double fps = clip->fps;
    memcpy(&fps_bits, &fps, 8);
    for (int i = 0; i < 8; i++)
        header[32 + i] = (unsigned char)(fps_bits >> (8 * i));
    vb_atomic_file file;
    int rc = vb_atomic_open(&file, path, err);
    if (rc)
        return rc;
    size_t bytes = (size_t)clip->num_frames * clip->height * clip->width * 3;
    if (fwrite(header, 1, sizeof header, file.fp) != sizeof header ||
        (bytes && fwrite(clip->frames, 1, bytes, file.fp) != bytes)) {
        vb_atomic_abort(&file);
        return vb_error_set(err, errno == ENOSPC ? VB_ENOSPACE : VB_EIO, "%s: write failed: %s", path,
                            strerror(errno));
    }
    return vb_atomic_commit(&file, err);
}

/* Reads a cache file back, checking the header against the file size. */
static int read_cache_file(const char *path, vb_clip *clip, vb_error *err)
{
    memset(clip, 0, sizeof *clip);
    char *data = NULL;
    size_t size = 0;
    int rc = vb_read_file(path, MAX_CACHE_BYTES, &data, &size, err);
    if (rc)
        return rc == VB_EIO && !vb_path_exists(path)
                   ? vb_error_set(err, VB_ENOTFOUND, "%s: not in the cache", path)
                   : rc;
    const unsigned char *h = (const unsigned char *)data;
    if (size < CACHE_HEADER_BYTES || memcmp(h, CACHE_MAGIC, 8)) {
        free(data);
        return vb_error_set(err, VB_EFORMAT, "%s: not a vidbench clip cache file", path);
    }
    uint32_t t = get_u32(h + 8), hh = get_u32(h + 12), w = get_u32(h + 16), c = get_u32(h + 20);
    if (c != 3 || t > 100000 || hh > 8192 || w > 8192 ||
        (uint64_t)t * hh * w * c != (uint64_t)(size - CACHE_HEADER_BYTES)) {
        free(data);
        return vb_error_set(err, VB_EFORMAT, "%s: header says [%u,%u,%u,%u] but the file has %zu bytes",
                            path, t, hh, w, c, size - CACHE_HEADER_BYTES);
    }
    size_t bytes = size - CACHE_HEADER_BYTES;
    clip->frames = malloc(bytes ? bytes : 1);
    if (!clip->frames) {
        free(data);
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
    }
    memcpy(clip->frames, data + CACHE_HEADER_BYTES, bytes);
    clip->num_frames = (int)t;
    clip->height = (int)hh;
    clip->width = (int)w;
    /* counts written by write_cache_file from ints: larger ones are damage */
    const uint32_t decoded = get_u32(h + 24), lost = get_u32(h + 28);
    if (decoded > INT32_MAX || lost > INT32_MAX) {
        free(clip->frames);
        clip->frames = NULL;
        free(data);
        return vb_error_set(err, VB_EFORMAT, "%s: frame counts %u and %u out of range", path, decoded, lost);
    }
    clip->decoded_frames = (int)decoded;
    clip->lost_frames = (int)lost;
    uint64_t fps_bits = 0;
    for (int i = 0; i < 8; i++)
        fps_bits |= (uint64_t)h[32 + i] << (8 * i);
    memcpy(&clip->fps, &fps_bits, 8);
    free(data);
    return 0;
}

static int cache_path(vb_dataset *ds, int version, vb_split split, const char *key,
                      const char *clip_id, char *out, size_t out_size, vb_error *err)
{
    char dir[PATH_MAX];
    int rc = vb_dataset_dir(ds, "cache", version, split, dir, sizeof dir, err);
    if (rc)
        return rc;
    int n = snprintf(out, out_size, "%s/%s/%s.vbclip", dir, key, clip_id ? clip_id : "");
    if (n < 0 || (size_t)n >= out_size)
        return vb_error_set(err, VB_ELIMIT, "%s: cache path too long", clip_id);
    return 0;
}

int vb_dataset_load_prepared(vb_dataset *ds, int version, vb_split split, const char *clip_id,
                             const vb_video_options *video, vb_clip *clip, vb_error *err)
{
    memset(clip, 0, sizeof *clip);
    if (!ds || !clip_id || !video || strchr(clip_id, '/') || !strcmp(clip_id, "..") || !*clip_id)
        return vb_error_set(err, VB_EINVAL, "load prepared: bad arguments");
    char key[64], path[PATH_MAX + 128];
    vb_prepare_key(video, key);
    int rc = cache_path(ds, version, split, key, clip_id, path, sizeof path, err);
    if (rc)
        return rc;
    if (!vb_path_exists(path))
        return vb_error_set(err, VB_ENOTFOUND, "%s: clip %s is not prepared for %s", path, clip_id, key);
    return read_cache_file(path, clip, err);
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
    int rc = vb_db_prepare(ds, sql, &stmt, err);
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

        vb_clip clip;
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
            rc = write_cache_file(path, &clip, &err);
            if (!rc)
                rc = record_result(run, item->clip_id, clip.num_frames, NULL, &err);
            fatal = rc != 0; /* our own I/O or database failed: the run cannot go on */
            vb_clip_free(&clip);
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
    int rc = cache_path(ds, req->version, req->split, run.key, NULL, dummy, sizeof dummy, err);
    if (rc)
        return rc;
    snprintf(run.cache_dir, sizeof run.cache_dir, "%.*s", (int)(strlen(dummy) - strlen("/.vbclip")), dummy);
    rc = vb_mkdir_p(run.cache_dir, err);
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
    vb_clip_list list;
    rc = vb_dataset_clips(ds, req->version, req->split, &req->video, &list, err);
    if (rc)
        return rc;
    size_t n = list.count;
    if (req->num_videos > 0 && (size_t)req->num_videos < n)
        n = (size_t)req->num_videos;
    result->clips_considered = (long)n;
    run.items = calloc(n ? n : 1, sizeof *run.items);
    if (!run.items) {
        vb_clip_list_free(&list);
        return vb_error_set(err, VB_ENOMEM, "prepare: out of memory");
    }
    long already_cached = 0, already_bad = 0;
    for (size_t i = 0; i < n; i++) {
        const vb_clip_entry *c = &list.clips[i];
        if (c->status == VB_CLIP_BAD && !req->overwrite) {
            already_bad++;
            continue;
        }
        if (c->status == VB_CLIP_PREPARED && !req->overwrite) {
            char path[PATH_MAX + 128];
            if (!cache_path(ds, req->version, req->split, run.key, c->clip_id, path, sizeof path, NULL) &&
                vb_path_exists(path)) {
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
    vb_clip_list_free(&list);
    return rc;
}
