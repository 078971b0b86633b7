/* The evaluation loop: a worker thread loads and preprocesses batch k+1 while the calling
 * thread runs the model on batch k (two batch slots, handed over under a mutex); each
 * batch's results are committed in one transaction before the next batch runs. Views
 * follow MMAction2's test protocol (SampleFrames test_mode, ThreeCrop) with scores
 * averaged as probabilities per video. */
#include "vidbench/eval.h"
#include "eval/store.h"
#include "common/fsutil.h"
#include "eval/views.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void vb_eval_params_init(vb_eval_params *p)
{
    memset(p, 0, sizeof *p);
    vb_video_options_init(&p->video);
    p->shard_count = 1;
    p->num_frames = 100;
    p->num_clips = 1;
    p->num_crops = 1;
    p->batch_size = 8;
    p->top_n = 5;
}

typedef struct batch_item {
    size_t clip;              /* index into params->clips */
    int ok;
    char reason[VB_ERROR_MESSAGE_BYTES];
    double decode_ms, preprocess_ms;
    int first_view, view_count;
    vb_frames frames;           /* decoded clip (views may point into it) */
    eval_views views;      /* per-view frames */
} batch_item;

typedef struct batch_slot {
    int filled;               /* handed to the model thread */
    int last;                 /* no batch follows */
    batch_item *items;        /* up to batch_size ok clips plus the skipped ones met */
    int item_count, item_capacity;
    int view_count;
    const uint8_t **views_u8; /* [view capacity] */
    int *view_frames;
    float *input_f32;         /* [views, T, S, S, 3] for wants_float models */
    size_t input_capacity;    /* floats */
    int view_capacity;
} batch_slot;

typedef struct pipeline {
    const vb_eval_params *params;
    const vb_eval_model *model;
    const vb_eval_loader *loader;
    const size_t *pending;    /* clip indices still to do, in order */
    size_t pending_count, next_pending;
    batch_slot slots[2];
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int stop;                 /* set by the model thread: worker must quit */
    int worker_failed;
    vb_error worker_error;
} pipeline;

static void item_release(const vb_eval_loader *loader, batch_item *item)
{
    eval_views_free(&item->views);
    if (loader->release)
        loader->release(loader->impl, &item->frames);
    else
        vb_frames_free(&item->frames);
    memset(&item->frames, 0, sizeof item->frames);
}

static void slot_reset(const vb_eval_loader *loader, batch_slot *slot)
{
    for (int i = 0; i < slot->item_count; i++)
        item_release(loader, &slot->items[i]);
    slot->item_count = 0;
    slot->view_count = 0;
    slot->last = 0;
}

static void slot_free(const vb_eval_loader *loader, batch_slot *slot)
{
    slot_reset(loader, slot);
    free(slot->items);
    free(slot->views_u8);
    free(slot->view_frames);
    free(slot->input_f32);
    memset(slot, 0, sizeof *slot);
}

static int slot_reserve_views(batch_slot *slot, int views, size_t floats, vb_error *err)
{
    if (views > slot->view_capacity) {
        int cap = views * 2;
        const uint8_t **v = realloc(slot->views_u8, (size_t)cap * sizeof *v);
        if (v)
            slot->views_u8 = v;
        int *f = realloc(slot->view_frames, (size_t)cap * sizeof *f);
        if (f)
            slot->view_frames = f;
        if (!v || !f)
            return vb_error_set(err, VB_ENOMEM, "evaluation: out of memory for %d views", views);
        slot->view_capacity = cap;
    }
    if (floats > slot->input_capacity) {
        float *in = realloc(slot->input_f32, floats * sizeof(float));
        if (!in)
            return vb_error_set(err, VB_ENOMEM, "evaluation: out of memory for a %zu-float batch",
                                floats);
        slot->input_f32 = in;
        slot->input_capacity = floats;
    }
    return 0;
}

/* Loads and preprocesses the next batch into slot (worker thread). Fatal errors only in the
 * return value; bad clips become skipped items. */
static int fill_slot(pipeline *pl, batch_slot *slot, vb_error *err)
{
    const vb_eval_params *p = pl->params;
    const vb_eval_model *m = pl->model;
    slot_reset(pl->loader, slot);
    int ok_clips = 0;
    while (ok_clips < p->batch_size && pl->next_pending < pl->pending_count) {
        if (slot->item_count == slot->item_capacity) {
            int cap = slot->item_capacity ? slot->item_capacity * 2 : p->batch_size + 4;
            batch_item *items = realloc(slot->items, (size_t)cap * sizeof *items);
            if (!items)
                return vb_error_set(err, VB_ENOMEM, "evaluation: out of memory");
            slot->items = items;
            slot->item_capacity = cap;
        }
        batch_item *item = &slot->items[slot->item_count++];
        memset(item, 0, sizeof *item);
        item->clip = pl->pending[pl->next_pending++];
        const vb_eval_clip *clip = &p->clips[item->clip];

        vb_video_options video = p->video;
        video.size = m->input_size;
        /* One view: the seed's resampling to T frames at decode time. Several temporal
         * views: every frame, windows taken below. */
        video.num_frames = p->num_clips > 1 ? 0 : p->num_frames;
        if (p->num_crops == 3)
            video.resize = VB_RESIZE_ASPECT;   /* ThreeCrop cuts along the long side */
        vb_error clip_err = {0};
        double t0 = now_ms();
        int rc = pl->loader->load(pl->loader->impl, clip, &video, &item->frames, &clip_err);
        double t1 = now_ms();
        item->decode_ms = t1 - t0;
        if (rc == VB_ENOMEM || rc == VB_EDATABASE) {
            *err = clip_err;
            return rc;
        }
        if (!rc)
            rc = eval_make_views(&item->frames, m->input_size, p->num_frames, p->num_clips,
                                    p->num_crops, &item->views, &clip_err);
        if (rc) {
            item_release(pl->loader, item);
            item->ok = 0;
            snprintf(item->reason, sizeof item->reason, "%s",
                     clip_err.message[0] ? clip_err.message : vb_strerror(rc));
            if (rc == VB_ENOMEM) {
                *err = clip_err;
                return rc;
            }
            item->preprocess_ms = now_ms() - t1;
            continue;
        }
        item->ok = 1;
        ok_clips++;
        item->first_view = slot->view_count;
        item->view_count = item->views.count;
        const int views = slot->view_count + item->views.count;
        const size_t view_floats =
            (size_t)p->num_frames * (size_t)m->input_size * (size_t)m->input_size * 3;
        rc = slot_reserve_views(slot, views, m->wants_float ? (size_t)views * view_floats : 0, err);
        if (rc)
            return rc;
        for (int v = 0; v < item->views.count; v++) {
            const int at = slot->view_count + v;
            slot->views_u8[at] = item->views.frames[v];
            slot->view_frames[at] = item->views.frame_counts[v];
            if (m->wants_float) {
                /* The model takes RGB in [0,1]: the seed's frames / 255.0, to the bit. */
                vb_u8_to_float32(item->views.frames[v], view_floats, slot->input_f32 + (size_t)at * view_floats);
            }
        }
        slot->view_count = views;
        item->preprocess_ms = now_ms() - t1;
    }
    slot->last = pl->next_pending >= pl->pending_count;
    return 0;
}

static void *worker_main(void *arg)
{
    pipeline *pl = arg;
    for (int k = 0;; k++) {
        batch_slot *slot = &pl->slots[k & 1];
        pthread_mutex_lock(&pl->lock);
        while (slot->filled && !pl->stop)
            pthread_cond_wait(&pl->changed, &pl->lock);
        int stop = pl->stop;
        pthread_mutex_unlock(&pl->lock);
        if (stop)
            return NULL;
        vb_error err = {0};
        int rc = fill_slot(pl, slot, &err);
        pthread_mutex_lock(&pl->lock);
        if (rc) {
            pl->worker_failed = rc;
            pl->worker_error = err;
            slot->last = 1;
        }
        slot->filled = 1;
        pthread_cond_broadcast(&pl->changed);
        pthread_mutex_unlock(&pl->lock);
        if (rc || slot->last)
            return NULL;
    }
}

/* Runs the model on a filled slot and commits its rows (calling thread). */
static int evaluate_slot(pipeline *pl, batch_slot *slot, eval_store *store, float *logits,
                         float *probs, float *view_probs, eval_store_row *rows, vb_error *err)
{
    const vb_eval_params *p = pl->params;
    const vb_eval_model *m = pl->model;
    const int classes = m->num_classes;
    double model_ms = 0;
    const int chunk = m->max_views_per_call > 0 ? m->max_views_per_call : slot->view_count;
    const size_t view_floats =
        (size_t)p->num_frames * (size_t)m->input_size * (size_t)m->input_size * 3;
    for (int start = 0; start < slot->view_count; start += chunk) {
        int count = slot->view_count - start < chunk ? slot->view_count - start : chunk;
        vb_eval_batch batch = {
            .count = count,
            .size = m->input_size,
            .frames = p->num_frames,
            .input_f32 = m->wants_float ? slot->input_f32 + (size_t)start * view_floats : NULL,
            .views_u8 = slot->views_u8 + start,
            .view_frames = slot->view_frames + start,
        };
        double t0 = now_ms();
        int rc = m->forward(m->impl, &batch, logits + (size_t)start * (size_t)classes, err);
        model_ms += now_ms() - t0;
        if (rc) {
            vb_error_prefix(err, "model: ");
            return rc;
        }
    }
    int ok_clips = 0;
    for (int i = 0; i < slot->item_count; i++)
        ok_clips += slot->items[i].ok;
    for (int i = 0; i < slot->item_count; i++) {
        const batch_item *item = &slot->items[i];
        const vb_eval_clip *clip = &p->clips[item->clip];
        eval_store_row *row = &rows[i];
        memset(row, 0, sizeof *row);
        row->ordinal = p->sort_keys ? p->sort_keys[item->clip] : (long)item->clip;
        row->clip_id = clip->clip_id;
        row->youtube_id = clip->youtube_id;
        row->label = clip->label;
        row->decode_ms = item->decode_ms;
        row->preprocess_ms = item->preprocess_ms;
        if (!item->ok) {
            row->status = EVAL_STORE_SKIPPED;
            row->reason = item->reason;
            continue;
        }
        row->status = EVAL_STORE_OK;
        row->model_ms = model_ms / ok_clips;
        float *out = probs + (size_t)i * (size_t)classes;
        /* Probabilities averaged over views (MMAction2 average_clips='prob'); one view is
         * exactly the softmax of its logits. */
        memset(out, 0, (size_t)classes * sizeof *out);
        for (int v = 0; v < item->view_count; v++) {
            const float *l = logits + (size_t)(item->first_view + v) * (size_t)classes;
            if (item->view_count == 1) {
                vb_softmax(l, classes, out);
                break;
            }
            vb_softmax(l, classes, view_probs);
            for (int c = 0; c < classes; c++)
                out[c] += view_probs[c] / (float)item->view_count;
        }
        row->probs = out;
    }
    return eval_store_commit_rows(store, rows, (size_t)slot->item_count, err);
}

/* A batch meets any number of bad clips before batch_size good ones: rows grow to fit. */
static int grow_rows(eval_store_row **rows, float **probs, int *capacity, int need, int classes,
                     vb_error *err)
{
    if (need <= *capacity)
        return 0;
    eval_store_row *r = realloc(*rows, (size_t)need * sizeof **rows);
    if (r)
        *rows = r;
    float *pr = realloc(*probs, (size_t)need * (size_t)classes * sizeof(float));
    if (pr)
        *probs = pr;
    if (!r || !pr)
        return vb_error_set(err, VB_ENOMEM, "evaluation: out of memory for %d rows", need);
    *capacity = need;
    return 0;
}

/* Tells the caller after each batch; a non-zero answer stops the run (resumable). */
static int report_progress(const vb_eval_params *p, long done_before, long done_this_run, long shard_total,
                           long skipped, double start_ms, vb_error *err)
{
    if (!p->progress)
        return 0;
    const double elapsed = (now_ms() - start_ms) / 1e3;
    const long done = done_before + done_this_run;
    vb_eval_progress prog = {
        .done = done, .total = shard_total, .skipped = skipped, .elapsed_s = elapsed,
        .eta_s = done_this_run > 0 ? elapsed / done_this_run * (shard_total - done) : -1,
    };
    if (p->progress(p->progress_user, &prog))
        return vb_error_set(err, VB_ESTATE, "evaluation stopped after %ld of %ld clips (re-run to resume)", done,
                            shard_total);
    return 0;
}

static int run_pipeline(pipeline *pl, eval_store *store, long done_before, long shard_total,
                        double start_ms, long *done_this_run, vb_error *err)
{
    const vb_eval_params *p = pl->params;
    const int classes = pl->model->num_classes;
    const int max_items = p->batch_size * 2 + 64;   /* grows below if a batch meets many bad clips */
    int rows_capacity = max_items;
    int views_capacity = p->batch_size * p->num_clips * p->num_crops;
    float *logits = malloc((size_t)views_capacity * (size_t)classes * sizeof(float));
    float *view_probs = malloc((size_t)classes * sizeof(float));
    float *probs = malloc((size_t)rows_capacity * (size_t)classes * sizeof(float));
    eval_store_row *rows = malloc((size_t)rows_capacity * sizeof *rows);
    int rc = 0;
    if (!logits || !view_probs || !probs || !rows) {
        rc = vb_error_set(err, VB_ENOMEM, "evaluation: out of memory");
        goto done;
    }
    if (p->serial) {
        /* The same steps without overlap: load a batch, then run it. */
        long skipped = 0;
        batch_slot *slot = &pl->slots[0];
        for (;;) {
            rc = fill_slot(pl, slot, err);
            if (!rc)
                rc = grow_rows(&rows, &probs, &rows_capacity, slot->item_count, classes, err);
            if (!rc && slot->item_count)
                rc = evaluate_slot(pl, slot, store, logits, probs, view_probs, rows, err);
            if (rc)
                break;
            for (int i = 0; i < slot->item_count; i++)
                skipped += !slot->items[i].ok;
            *done_this_run += slot->item_count;
            int last = slot->last;
            slot_reset(pl->loader, slot);
            if ((rc = report_progress(p, done_before, *done_this_run, shard_total, skipped, start_ms, err)))
                break;
            if (last)
                break;
        }
        goto done;
    }
    pthread_t worker;
    if (pthread_create(&worker, NULL, worker_main, pl)) {
        rc = vb_error_set(err, VB_ENOMEM, "evaluation: cannot start the decode thread");
        goto done;
    }
    long skipped = 0;
    for (int k = 0;; k++) {
        batch_slot *slot = &pl->slots[k & 1];
        pthread_mutex_lock(&pl->lock);
        while (!slot->filled)
            pthread_cond_wait(&pl->changed, &pl->lock);
        int worker_rc = pl->worker_failed;
        pthread_mutex_unlock(&pl->lock);
        if (worker_rc) {
            *err = pl->worker_error;
            rc = worker_rc;
            break;
        }
        rc = grow_rows(&rows, &probs, &rows_capacity, slot->item_count, classes, err);
        if (rc)
            break;
        if (slot->item_count)
            rc = evaluate_slot(pl, slot, store, logits, probs, view_probs, rows, err);
        if (rc)
            break;
        for (int i = 0; i < slot->item_count; i++)
            skipped += !slot->items[i].ok;
        *done_this_run += slot->item_count;
        const int last = slot->last, items = slot->item_count;
        pthread_mutex_lock(&pl->lock);
        slot_reset(pl->loader, slot);
        slot->filled = 0;
        pthread_cond_broadcast(&pl->changed);
        pthread_mutex_unlock(&pl->lock);
        if (items == 0 && !last)
            continue;
        if ((rc = report_progress(p, done_before, *done_this_run, shard_total, skipped, start_ms, err)))
            break;
        if (last)
            break;
    }
    pthread_mutex_lock(&pl->lock);
    pl->stop = 1;
    pthread_cond_broadcast(&pl->changed);
    pthread_mutex_unlock(&pl->lock);
    pthread_join(worker, NULL);
done:
    free(logits);
    free(view_probs);
    free(probs);
    free(rows);
    return rc;
}

int vb_eval_run(const vb_eval_params *p, const vb_eval_model *model,
                const vb_eval_loader *loader, vb_eval_summary *summary, vb_error *err)
{
    memset(summary, 0, sizeof *summary);
    if (p->batch_size < 1 || p->num_clips < 1 || (p->num_crops != 1 && p->num_crops != 3) ||
        p->shard_count < 1 || p->shard_index < 0 || p->shard_index >= p->shard_count ||
        model->num_classes < 1 || model->input_size < 1 || !p->store_path)
        return vb_error_set(err, VB_EINVAL, "evaluation: invalid parameters");
    if (model->wants_float && p->num_frames < 1)
        return vb_error_set(err, VB_EINVAL, "evaluation: this model needs a fixed number of frames");
    /* merge orders partition shards by these keys: a repeat or a step back would reorder clips */
    for (size_t k = 0; p->sort_keys && k < p->clip_count; k++)
        if (p->sort_keys[k] < 0 || (k > 0 && p->sort_keys[k] <= p->sort_keys[k - 1]))
            return vb_error_set(err, VB_EINVAL, "evaluation: sort key %ld of clip '%s' (position %zu) is negative "
                                "or not above the one before", p->sort_keys[k], p->clips[k].clip_id, k);
    double start_ms = now_ms();
    eval_store *store = NULL;
    size_t *pending = NULL, *mine = NULL;
    long *ordinals = NULL;
    const char **ids = NULL;
    /* One run per store: two would insert the same clips (SQLite's raw "UNIQUE constraint
     * failed"), and an unwritable dir should be named as such, not as "unable to open
     * database file". The lock file sits beside the store, so shards in one dir run freely. */
    char lock_path[4200], what[4200];
    snprintf(lock_path, sizeof lock_path, "%s.lock", p->store_path);
    const char *slash = strrchr(p->store_path, '/');
    snprintf(what, sizeof what, "results dir %.*s", slash ? (int)(slash - p->store_path) : 1,
             slash ? p->store_path : ".");
    int lock_fd = -1;
    int rc = fs_lock_acquire(lock_path, what, &lock_fd, err);
    if (rc)
        return rc;
    rc = eval_store_open(p->store_path, p->overwrite, &store, err);
    if (rc) {
        fs_lock_release(lock_path, &lock_fd);
        return rc;
    }
    eval_store_identity id = {
        .fingerprint = p->fingerprint ? p->fingerprint : "",
        .num_classes = model->num_classes,
        .class_names = model->class_names,
        .shard_index = p->shard_index,
        .shard_count = p->shard_count,
        .by_partition = p->sort_keys != NULL,
        .selection_total = (long)p->clip_count,
    };
    rc = eval_store_bind(store, &id, err);
    if (rc)
        goto done;
    size_t n_mine = 0;
    mine = malloc((p->clip_count + 1) * sizeof *mine);
    ordinals = malloc((p->clip_count + 1) * sizeof *ordinals);
    ids = malloc((p->clip_count + 1) * sizeof *ids);
    pending = malloc((p->clip_count + 1) * sizeof *pending);
    if (!mine || !ordinals || !ids || !pending) {
        rc = vb_error_set(err, VB_ENOMEM, "evaluation: out of memory");
        goto done;
    }
    /* Clip sharding: shard i of N takes clips k with k mod N == i: deterministic, and every
     * shard gets a similar mix of the listing (which is grouped by partition). Partition
     * sharding: the session gave this shard its own clips only. */
    for (size_t k = 0; k < p->clip_count; k++)
        if (p->sort_keys || (long)(k % (size_t)p->shard_count) == p->shard_index) {
            mine[n_mine] = k;
            ordinals[n_mine] = p->sort_keys ? p->sort_keys[k] : (long)k;
            ids[n_mine] = p->clips[k].clip_id;
            n_mine++;
        }
    rc = eval_store_set_selection(store, ordinals, ids, n_mine, err);
    if (rc)
        goto done;
    size_t n_pending = 0;
    for (size_t i = 0; i < n_mine; i++) {
        int has = eval_store_has(store, p->clips[mine[i]].clip_id, err);
        if (has < 0) {
            rc = has;
            goto done;
        }
        if (!has)
            pending[n_pending++] = mine[i];
    }
    summary->clips_from_earlier_runs = (long)(n_mine - n_pending);
    long done_this_run = 0;
    if (n_pending > 0) {
        pipeline pl = {.params = p, .model = model, .loader = loader, .pending = pending,
                       .pending_count = n_pending};
        pthread_mutex_init(&pl.lock, NULL);
        pthread_cond_init(&pl.changed, NULL);
        rc = run_pipeline(&pl, store, summary->clips_from_earlier_runs, (long)n_mine, start_ms,
                          &done_this_run, err);
        slot_free(loader, &pl.slots[0]);
        slot_free(loader, &pl.slots[1]);
        pthread_mutex_destroy(&pl.lock);
        pthread_cond_destroy(&pl.changed);
    }
    eval_store_free(&store);
    summary->clips_this_run = done_this_run;
    summary->wall_s = (now_ms() - start_ms) / 1e3;
    summary->clips_per_s = summary->wall_s > 0 ? done_this_run / summary->wall_s : 0;
    /* ru_maxrss is the whole process's high-water mark in KiB (Linux): the model, the
     * decoder and the pipeline's buffers, which is what a user has to provision. */
    struct rusage usage;
    summary->peak_rss_bytes = getrusage(RUSAGE_SELF, &usage) == 0 ? usage.ru_maxrss * 1024.0 : 0;
    snprintf(summary->precision, sizeof summary->precision, "%s", p->precision ? p->precision : "");
    summary->gflop_per_clip = p->gflop_per_clip;
    snprintf(summary->label_map, sizeof summary->label_map, "%s", p->label_map ? p->label_map : "");
    /* Outputs reflect what the store holds even when the run stopped early. */
    vb_error out_err = {0};
    int out_rc = vb_eval_write_outputs(p->store_path, p->csv_path, p->summary_path, p->top_n,
                                       summary, rc ? &out_err : err);
    if (!rc)
        rc = out_rc;
done:
    eval_store_free(&store);
    fs_lock_release(lock_path, &lock_fd);
    free(mine);
    free(ordinals);
    free(ids);
    free(pending);
    return rc;
}
