/* The evaluation loop with a model and clips this test controls: a linear classifier on
 * the mean colour of each view (a real computation whose logits the test recomputes) and
 * synthetic clips, some of them broken. Checks: CSV scores = softmax of the logits, a last
 * partial batch is evaluated, broken clips are skipped and counted, an interrupted run
 * resumes without recomputing and ends with the same CSV, shards merge to the unsharded
 * CSV, merge refuses gaps and overlaps, multi-view windows follow MMAction2. */
#include "testlib.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "vidbench/eval.h"
#include "common/fsutil.h"
#include "eval/views.h"

#define CLASSES 5
#define SIZE 8
static const char *const class_names[CLASSES] = {"abseiling", "arm wrestling", "using segway",
                                                 "carving ice", "juggling, balls"};

/* ---- the test model: logits[c] = sum_k W[c][k] * mean_channel_k + B[c] ---- */
static const float W[CLASSES][3] = {
    {4, -2, 0}, {-1, 3, 1}, {0, 0, 5}, {2, 2, -3}, {-3, 1, 1},
};
static const float B[CLASSES] = {0.1f, -0.2f, 0.3f, 0, -0.1f};

typedef struct {
    int calls;
    int fail_after_calls;     /* > 0: the call with this number fails (a crash stand-in) */
    int views_seen;
    int max_batch_seen;
} test_model;

static void mean_colour(const uint8_t *frames, int count, double mean[3])
{
    double sum[3] = {0};
    size_t pixels = (size_t)count * SIZE * SIZE;
    for (size_t i = 0; i < pixels; i++)
        for (int k = 0; k < 3; k++)
            sum[k] += frames[i * 3 + k] / 255.0;
    for (int k = 0; k < 3; k++)
        mean[k] = sum[k] / (double)pixels;
}

static void logits_of_view(const uint8_t *frames, int count, float *logits)
{
    double mean[3];
    mean_colour(frames, count, mean);
    for (int c = 0; c < CLASSES; c++)
        logits[c] = (float)(W[c][0] * mean[0] + W[c][1] * mean[1] + W[c][2] * mean[2] + B[c]);
}

static int test_forward(void *impl, const vb_eval_batch *batch, float *logits, vb_error *err)
{
    test_model *m = impl;
    m->calls++;
    if (m->fail_after_calls > 0 && m->calls >= m->fail_after_calls)
        return vb_error_set(err, VB_EIO, "test model: simulated failure in call %d", m->calls);
    if (batch->count > m->max_batch_seen)
        m->max_batch_seen = batch->count;
    for (int v = 0; v < batch->count; v++) {
        /* the float input must be exactly the uint8 frames / 255 */
        const size_t n = (size_t)batch->frames * SIZE * SIZE * 3;
        const float *f = batch->input_f32 + (size_t)v * n;
        for (size_t i = 0; i < n; i += 97)
            if (f[i] != (float)(batch->views_u8[v][i] / 255.0)) /* the seed's float64 division */
                return vb_error_set(err, VB_ESHAPE, "float input differs from frames/255 at %zu", i);
        logits_of_view(batch->views_u8[v], batch->view_frames[v], logits + (size_t)v * CLASSES);
        m->views_seen++;
    }
    return 0;
}

static vb_eval_model make_model(test_model *m)
{
    return (vb_eval_model){.impl = m, .num_classes = CLASSES, .class_names = class_names,
                           .input_size = SIZE, .wants_float = 1, .forward = test_forward};
}

/* ---- synthetic clips: 40 source frames, colour from the clip number; "bad*" fail ---- */
#define SOURCE_FRAMES 40

static void source_frames(int clip_number, uint8_t *frames)
{
    for (int f = 0; f < SOURCE_FRAMES; f++)
        for (int p = 0; p < SIZE * SIZE; p++) {
            uint8_t *px = frames + ((size_t)f * SIZE * SIZE + p) * 3;
            px[0] = (uint8_t)((clip_number * 37 + f * 3 + p) % 256);
            px[1] = (uint8_t)((clip_number * 91 + f * 7) % 256);
            px[2] = (uint8_t)((clip_number * 13 + p * 5) % 256);
        }
}

static int test_load(void *impl, const vb_eval_clip *clip, const vb_video_options *video,
                     vb_frames *out, vb_error *err)
{
    (void)impl;
    memset(out, 0, sizeof *out);
    if (!strncmp(clip->clip_id, "bad", 3))
        return vb_error_set(err, VB_EDECODE, "%s: invalid data found when processing input", clip->path);
    if (video->size != SIZE)
        return vb_error_set(err, VB_EINVAL, "asked for size %d", video->size);
    int number = atoi(clip->clip_id + 4);
    uint8_t *all = malloc((size_t)SOURCE_FRAMES * SIZE * SIZE * 3);
    source_frames(number, all);
    int t = video->num_frames > 0 ? video->num_frames : SOURCE_FRAMES;
    int *idx = malloc((size_t)t * sizeof *idx);
    if (video->num_frames > 0)
        vb_resample_indices(SOURCE_FRAMES, t, idx);
    else
        for (int i = 0; i < t; i++)
            idx[i] = i;
    out->frames = malloc((size_t)t * SIZE * SIZE * 3);
    for (int i = 0; i < t; i++)
        memcpy(out->frames + (size_t)i * SIZE * SIZE * 3, all + (size_t)idx[i] * SIZE * SIZE * 3,
               SIZE * SIZE * 3);
    out->num_frames = t;
    out->height = out->width = SIZE;
    out->decoded_frames = SOURCE_FRAMES;
    free(idx);
    free(all);
    return 0;
}

static void test_release(void *impl, vb_frames *clip)
{
    (void)impl;
    free(clip->frames);
    clip->frames = NULL;
}

static const vb_eval_loader test_loader = {.impl = NULL, .load = test_load, .release = test_release};

/* 19 clips: clip_05 and clip_12 are broken, 17 evaluate; with batch 4 the last is partial */
#define NCLIPS 19
static char ids[NCLIPS][32], labels_buf[NCLIPS][32];
static vb_eval_clip clips[NCLIPS];

static void make_clips(void)
{
    for (int i = 0; i < NCLIPS; i++) {
        snprintf(ids[i], sizeof ids[i], "%s%02d", (i == 5 || i == 12) ? "bad_" : "clip", i);
        clips[i].clip_id = ids[i];
        clips[i].youtube_id = "yt";
        snprintf(labels_buf[i], sizeof labels_buf[i], "%s", class_names[i % CLASSES]);
        clips[i].label = i == 7 ? "not a model class" : labels_buf[i];
        clips[i].path = ids[i];
    }
}

static vb_eval_params make_params(const char *stem, int num_frames)
{
    static char store[8][4200], csv[8][4200], summary[8][4200];
    static int next;
    int k = next++ % 8;
    snprintf(store[k], sizeof store[k], "%s.sqlite", temp_path(stem));
    snprintf(csv[k], sizeof csv[k], "%s.csv", temp_path(stem));
    snprintf(summary[k], sizeof summary[k], "%s.summary.json", temp_path(stem));
    vb_eval_params p;
    vb_eval_params_init(&p);
    p.clips = clips;
    p.clip_count = NCLIPS;
    p.num_frames = num_frames;
    p.batch_size = 4;
    p.top_n = 3;
    p.store_path = store[k];
    p.csv_path = csv[k];
    p.summary_path = summary[k];
    p.fingerprint = "test-model|T=16";
    p.overwrite = 1;
    return p;
}

static char *read_text(const char *path)
{
    char *text = NULL;
    size_t size;
    vb_error err = {0};
    if (fs_read_file(path, 1 << 24, &text, &size, &err))
        fail_msg("%s", err.message);
    return text;
}

static void run_ok(const vb_eval_params *p, test_model *m, vb_eval_summary *s)
{
    vb_eval_model model = make_model(m);
    vb_error err = {0};
    int rc = vb_eval_run(p, &model, &test_loader, s, &err);
    if (rc)
        fail_msg("vb_eval_run: %s", err.message);
}

/* Parses one CSV line of the test's own simple output (no quotes except one label). */
static void csv_scores_are_softmax_of_logits(void **state)
{
    (void)state;
    make_clips();
    vb_eval_params p = make_params("plain", 16);
    test_model m = {0};
    vb_eval_summary s;
    run_ok(&p, &m, &s);
    assert_int_equal(s.clips_selected, NCLIPS);
    assert_int_equal(s.clips_evaluated, NCLIPS - 2);
    assert_int_equal(s.clips_skipped, 2);
    /* 17 good clips in batches of 4: 4,4,4,4,1 -> the partial last batch ran */
    assert_int_equal(m.calls, 5);
    assert_int_equal(m.views_seen, NCLIPS - 2);

    char *csv = read_text(p.csv_path);
    const char *line = csv;
    assert_true(!strncmp(line, "video_id,YouTube_Id,Ground_Truth,pred_1,pred_2,pred_3,score_1,score_2,score_3\n",
                         strlen("video_id,YouTube_Id,Ground_Truth,pred_1,pred_2,pred_3,score_1,score_2,score_3\n")));
    int rows = 0;
    uint8_t *frames = malloc((size_t)16 * SIZE * SIZE * 3);
    for (int i = 0; i < NCLIPS; i++) {
        if (!strncmp(ids[i], "bad", 3)) {
            assert_null(strstr(csv, ids[i]));   /* skipped clips have no CSV row */
            continue;
        }
        const char *row = strstr(csv, ids[i]);
        assert_non_null(row);
        rows++;
        /* expected: the model's logits for the 16 resampled frames, softmaxed, top 3 */
        vb_frames clip;
        vb_video_options vo;
        vb_video_options_init(&vo);
        vo.size = SIZE;
        vo.num_frames = 16;
        vb_error err = {0};
        assert_int_equal(test_load(NULL, &clips[i], &vo, &clip, &err), 0);
        float logits[CLASSES], probs[CLASSES];
        logits_of_view(clip.frames, 16, logits);
        free(clip.frames);
        vb_softmax(logits, CLASSES, probs);
        int order[CLASSES] = {0, 1, 2, 3, 4};
        for (int a = 0; a < CLASSES; a++)
            for (int b = a + 1; b < CLASSES; b++)
                if (probs[order[b]] > probs[order[a]]) {
                    int t = order[a];
                    order[a] = order[b];
                    order[b] = t;
                }
        char expected_start[700];
        const char *name = class_names[order[0]];
        snprintf(expected_start, sizeof expected_start, "%s,yt,", ids[i]);
        assert_true(!strncmp(row, expected_start, strlen(expected_start)));
        /* the three scores are the last three fields of the row */
        const char *end = strchr(row, '\n');
        const char *p3 = end;
        for (int k = 0; k < 3; k++)
            do p3--; while (*p3 != ',');
        float got[3];   /* %.9g in the CSV round-trips float32 exactly */
        assert_int_equal(sscanf(p3, ",%f,%f,%f", &got[0], &got[1], &got[2]), 3);
        for (int k = 0; k < 3; k++)
            if (got[k] != probs[order[k]])
                fail_msg("%s: score_%d is %.9g, softmax of the logits gives %.9g", ids[i], k + 1,
                         (double)got[k], (double)probs[order[k]]);
        (void)name;
    }
    free(frames);
    assert_int_equal(rows, NCLIPS - 2);
    /* the label with a comma is quoted as CSV requires */
    assert_true(strstr(csv, "\"juggling, balls\"") != NULL);
    free(csv);

    char *json = read_text(p.summary_path);
    assert_non_null(strstr(json, "\"skipped\":\t2"));
    assert_non_null(strstr(json, "bad_05"));
    assert_non_null(strstr(json, "invalid data found"));
    free(json);
    vb_eval_summary_free(&s);
}

static void metrics_match_a_count_by_hand(void **state)
{
    (void)state;
    make_clips();
    vb_eval_params p = make_params("metrics", 16);
    test_model m = {0};
    vb_eval_summary s;
    run_ok(&p, &m, &s);
    /* recount top-1 from the CSV rows: pred_1 equals Ground_Truth */
    char *csv = read_text(p.csv_path);
    int hits = 0, labelled = 0;
    for (char *line = strchr(csv, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        char id[64], yt[64], truth[64], pred[64];
        if (sscanf(line, "%63[^,],%63[^,],%63[^,],%63[^,]", id, yt, truth, pred) == 4) {
            labelled++;
            hits += !strcmp(truth, pred);
        } else {
            labelled++;   /* quoted label row: "juggling, balls" */
            char *q = strstr(line, "\"juggling, balls\",");
            assert_non_null(q);
            hits += !strncmp(q + 18, "\"juggling, balls\"", 17);
        }
    }
    free(csv);
    assert_int_equal(s.labelled, labelled);
    assert_int_equal(s.label_not_in_model, 1);   /* clip07 */
    assert_true(fabs(s.top1 - (double)hits / labelled) < 1e-12);
    assert_true(s.topn >= s.top1);
    long clips_in_classes = 0, correct = 0;
    for (int i = 0; i < s.class_count; i++) {
        clips_in_classes += s.classes[i].clips;
        correct += s.classes[i].top1_correct;
    }
    assert_int_equal(clips_in_classes, labelled);
    assert_int_equal(correct, hits);
    long confused = 0;
    for (int i = 0; i < s.confused_count; i++) {
        assert_string_not_equal(s.confused[i].truth, s.confused[i].predicted);
        if (i > 0)
            assert_true(s.confused[i - 1].count >= s.confused[i].count);
        confused += s.confused[i].count;
    }
    assert_true(confused <= labelled - hits);
    vb_eval_summary_free(&s);
}

static void interrupted_run_resumes_to_the_same_csv(void **state)
{
    (void)state;
    make_clips();
    vb_eval_params full = make_params("full", 16);
    test_model m_full = {0};
    vb_eval_summary s;
    run_ok(&full, &m_full, &s);
    vb_eval_summary_free(&s);

    vb_eval_params part = make_params("resumed", 16);
    test_model crashing = {.fail_after_calls = 3};   /* batches 1 and 2 commit, 3 fails */
    vb_eval_model model = make_model(&crashing);
    vb_error err = {0};
    assert_int_not_equal(vb_eval_run(&part, &model, &test_loader, &s, &err), 0);
    assert_non_null(strstr(err.message, "simulated failure"));
    vb_eval_summary_free(&s);

    part.overwrite = 0;
    test_model again = {0};
    run_ok(&part, &again, &s);
    /* 8 good clips (+ bad_05) were committed; 9 good clips remain: batches 4,4,1 */
    assert_int_equal(s.clips_from_earlier_runs, 9);
    assert_int_equal(again.calls, 3);
    assert_int_equal(again.views_seen, 9);
    vb_eval_summary_free(&s);
    char *a = read_text(full.csv_path), *b = read_text(part.csv_path);
    assert_string_equal(a, b);
    free(a);
    free(b);

    /* a finished store re-run computes nothing */
    test_model idle = {0};
    run_ok(&part, &idle, &s);
    assert_int_equal(idle.calls, 0);
    vb_eval_summary_free(&s);

    /* another configuration is refused unless overwritten */
    part.fingerprint = "test-model|T=8";
    assert_int_equal(vb_eval_run(&part, &model, &test_loader, &s, &err), VB_ESTATE);
    assert_non_null(strstr(err.message, "--overwrite_output_dir"));
}

static int stop_after_two(void *user, const vb_eval_progress *progress)
{
    int *calls = user;
    assert_true(progress->done <= progress->total);
    return ++*calls >= 2;
}

static void progress_can_stop_and_run_resumes(void **state)
{
    (void)state;
    make_clips();
    vb_eval_params p = make_params("stopped", 16);
    int calls = 0;
    p.progress = stop_after_two;
    p.progress_user = &calls;
    test_model m = {0};
    vb_eval_model model = make_model(&m);
    vb_eval_summary s;
    vb_error err = {0};
    assert_int_equal(vb_eval_run(&p, &model, &test_loader, &s, &err), VB_ESTATE);
    vb_eval_summary_free(&s);
    p.progress = NULL;
    p.overwrite = 0;
    test_model rest = {0};
    run_ok(&p, &rest, &s);
    assert_int_equal(s.clips_evaluated, NCLIPS - 2);
    assert_int_equal(m.views_seen + rest.views_seen, NCLIPS - 2);   /* nothing twice */
    vb_eval_summary_free(&s);
}

static void shards_merge_to_the_unsharded_csv(void **state)
{
    (void)state;
    make_clips();
    vb_eval_params whole = make_params("whole", 16);
    test_model m = {0};
    vb_eval_summary s;
    run_ok(&whole, &m, &s);
    vb_eval_summary_free(&s);

    const int n = 3;
    char stores[3][4200];
    const char *paths[3];
    for (int i = 0; i < n; i++) {
        char stem[32];
        snprintf(stem, sizeof stem, "shard%d", i);
        vb_eval_params p = make_params(stem, 16);
        p.shard_index = i;
        p.shard_count = n;
        test_model ms = {0};
        run_ok(&p, &ms, &s);
        assert_int_equal(s.clips_selected, (NCLIPS - i + n - 1) / n);
        vb_eval_summary_free(&s);
        snprintf(stores[i], sizeof stores[i], "%s", p.store_path);
        paths[i] = stores[i];
    }
    char merged[4200], merged_csv[4200];
    snprintf(merged, sizeof merged, "%s", temp_path("merged.sqlite"));
    snprintf(merged_csv, sizeof merged_csv, "%s", temp_path("merged.csv"));
    vb_error err = {0};
    if (vb_eval_merge(paths, n, merged, &err))
        fail_msg("merge: %s", err.message);
    vb_eval_summary ms = {0};
    assert_int_equal(vb_eval_write_outputs(merged, merged_csv, NULL, 3, &ms, &err), 0);
    vb_eval_summary_free(&ms);
    char *a = read_text(whole.csv_path), *b = read_text(merged_csv);
    assert_string_equal(a, b);
    free(a);
    free(b);

    /* a gap: shard 2 missing */
    assert_int_equal(vb_eval_merge(paths, 2, merged, &err), VB_ESTATE);
    assert_non_null(strstr(err.message, "shard 2/3 is missing"));
    /* an overlap: shard 1 given twice */
    const char *twice[3] = {paths[0], paths[1], paths[1]};
    assert_int_equal(vb_eval_merge(twice, 3, merged, &err), VB_ESTATE);
    assert_non_null(strstr(err.message, "overlap"));
    /* an unfinished shard */
    vb_eval_params p = make_params("unfinished", 16);
    p.shard_index = 2;
    p.shard_count = 3;
    test_model crash = {.fail_after_calls = 2};
    vb_eval_model model = make_model(&crash);
    assert_int_not_equal(vb_eval_run(&p, &model, &test_loader, &s, &err), 0);
    vb_eval_summary_free(&s);
    const char *unfinished[3] = {paths[0], paths[1], p.store_path};
    assert_int_equal(vb_eval_merge(unfinished, 3, merged, &err), VB_ESTATE);
    assert_non_null(strstr(err.message, "unfinished"));
    /* another configuration */
    vb_eval_params other = make_params("other", 8);
    other.fingerprint = "test-model|T=8";
    other.shard_index = 2;
    other.shard_count = 3;
    test_model mo = {0};
    run_ok(&other, &mo, &s);
    vb_eval_summary_free(&s);
    const char *mixed[3] = {paths[0], paths[1], other.store_path};
    assert_int_equal(vb_eval_merge(mixed, 3, merged, &err), VB_ESTATE);
    assert_non_null(strstr(err.message, "another configuration"));
}

static void tamper(const char *store, const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    if (sqlite3_open(store, &db) != SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s: %s", store, sql, msg ? msg : sqlite3_errmsg(db));
    sqlite3_close(db);
}

/* ---- partition shards: clip k lies in partition k / 4 (5 partitions: 4,4,4,4,3 clips) ---- */
#define CLIPS_PER_PARTITION 4

/* What a partition shard's session selects: its partitions' clips with (partition, rank) keys. */
static size_t partition_shard_selection(int shard, int shards, vb_eval_clip *mine, long *keys)
{
    size_t n = 0;
    for (int k = 0; k < NCLIPS; k++) {
        const size_t partition = (size_t)(k / CLIPS_PER_PARTITION);
        if (vb_partition_shard(partition, shards) != shard)
            continue;
        mine[n] = clips[k];
        keys[n++] = vb_eval_partition_sort_key(partition, (size_t)(k % CLIPS_PER_PARTITION));
    }
    return n;
}

/* Partition shard `shard` of `shards` over the test clips; its selection goes to mine/keys. */
static vb_eval_params partition_shard_params(const char *stem, int shard, int shards, vb_eval_clip *mine, long *keys)
{
    vb_eval_params p = make_params(stem, 16);
    p.clip_count = partition_shard_selection(shard, shards, mine, keys);
    p.clips = mine;
    p.sort_keys = keys;
    p.shard_index = shard;
    p.shard_count = shards;
    return p;
}

static void partition_sort_keys_order_partition_then_rank(void **state)
{
    (void)state;
    assert_int_equal(vb_eval_partition_sort_key(0, 0), 0);
    assert_int_equal(vb_eval_partition_sort_key(3, 7), (3L << 20) | 7);
    assert_true(vb_eval_partition_sort_key(2, 0) > vb_eval_partition_sort_key(1, (1 << 20) - 1));
    assert_int_equal(vb_eval_partition_sort_key(0, 1 << 20), -1);   /* rank would spill into the partition */
    assert_int_equal(vb_eval_partition_sort_key((size_t)1 << 40, 0), -1);
}

static void partition_shards_merge_to_the_unsharded_csv(void **state)
{
    (void)state;
    make_clips();
    vb_eval_params whole = make_params("pwhole", 16);
    test_model m = {0};
    vb_eval_summary s;
    run_ok(&whole, &m, &s);
    vb_eval_summary_free(&s);

    enum { N = 3 };
    static vb_eval_clip mine[N][NCLIPS];
    static long keys[N][NCLIPS];
    char stores[N][4200];
    const char *paths[N];
    /* partitions 0..4 -> shards 0,1,2,0,1: shard 0 holds 8 clips, 1 holds 7, 2 holds 4 */
    const size_t expected_counts[N] = {8, 7, 4};
    for (int i = 0; i < N; i++) {
        char stem[32];
        snprintf(stem, sizeof stem, "pshard%d", i);
        vb_eval_params p = partition_shard_params(stem, i, N, mine[i], keys[i]);
        assert_int_equal(p.clip_count, expected_counts[i]);
        test_model ms = {0};
        run_ok(&p, &ms, &s);
        assert_int_equal(s.clips_selected, (long)expected_counts[i]);
        vb_eval_summary_free(&s);
        snprintf(stores[i], sizeof stores[i], "%s", p.store_path);
        paths[i] = stores[i];
    }
    char merged[4200], merged_csv[4200];
    snprintf(merged, sizeof merged, "%s", temp_path("pmerged.sqlite"));
    snprintf(merged_csv, sizeof merged_csv, "%s", temp_path("pmerged.csv"));
    vb_error err = {0};
    /* given in any order: shard 2 first */
    const char *shuffled[N] = {paths[2], paths[0], paths[1]};
    if (vb_eval_merge(shuffled, N, merged, &err))
        fail_msg("merge: %s", err.message);
    vb_eval_summary ms = {0};
    assert_int_equal(vb_eval_write_outputs(merged, merged_csv, NULL, 3, &ms, &err), 0);
    assert_int_equal(ms.clips_selected, NCLIPS);
    vb_eval_summary_free(&ms);
    char *a = read_text(whole.csv_path), *b = read_text(merged_csv);
    assert_string_equal(a, b);
    free(a);
    free(b);

    /* a gap: shard 1 missing */
    const char *gap[2] = {paths[0], paths[2]};
    assert_int_equal(vb_eval_merge(gap, 2, merged, &err), VB_ESTATE);
    assert_non_null(strstr(err.message, "shard 1/3 is missing"));
    /* an overlap: shard 2 given twice */
    const char *twice[N + 1] = {paths[0], paths[1], paths[2], paths[2]};
    assert_int_equal(vb_eval_merge(twice, N + 1, merged, &err), VB_ESTATE);
    assert_non_null(strstr(err.message, "overlap"));
    /* partition and clip shards of one configuration do not mix */
    vb_eval_params clip_shard = make_params("pclipshard", 16);
    clip_shard.shard_index = 2;
    clip_shard.shard_count = N;
    test_model mc = {0};
    run_ok(&clip_shard, &mc, &s);
    vb_eval_summary_free(&s);
    const char *mixed[N] = {paths[0], paths[1], clip_shard.store_path};
    assert_int_equal(vb_eval_merge(mixed, N, merged, &err), VB_ESTATE);
    assert_non_null(strstr(err.message, "sharded by clip"));
    /* an unfinished partition shard */
    vb_eval_params p = partition_shard_params("punfinished", 2, N, mine[2], keys[2]);
    test_model crash = {.fail_after_calls = 1};
    vb_eval_model model = make_model(&crash);
    assert_int_not_equal(vb_eval_run(&p, &model, &test_loader, &s, &err), 0);
    vb_eval_summary_free(&s);
    const char *unfinished[N] = {paths[0], paths[1], p.store_path};
    assert_int_equal(vb_eval_merge(unfinished, N, merged, &err), VB_ESTATE);
    assert_non_null(strstr(err.message, "unfinished"));
    /* a shard holding a partition of another shard (partition 1 belongs to shard 1) */
    p = partition_shard_params("pforeign", 2, N, mine[2], keys[2]);
    keys[2][0] = vb_eval_partition_sort_key(1, 9);
    test_model mf = {0};
    run_ok(&p, &mf, &s);
    vb_eval_summary_free(&s);
    const char *foreign[N] = {paths[0], paths[1], p.store_path};
    assert_int_equal(vb_eval_merge(foreign, N, merged, &err), VB_ESTATE);
    assert_non_null(strstr(err.message, "does not belong to partition shard 2/3"));
    /* one clip in two shards under different keys (shard 2 also evaluated clip00 of shard 0) */
    p = partition_shard_params("ptwiceclip", 2, N, mine[2], keys[2]);
    mine[2][0] = clips[0];
    test_model mt = {0};
    run_ok(&p, &mt, &s);
    vb_eval_summary_free(&s);
    const char *clip_twice[N] = {paths[0], paths[1], p.store_path};
    assert_int_equal(vb_eval_merge(clip_twice, N, merged, &err), VB_ESTATE);
    assert_non_null(strstr(err.message, "clip 'clip00' is in shard 0 and shard 2: shards overlap"));
    /* a store claiming more clips than its selection lists is refused before anything is sized */
    p = partition_shard_params("ptampered", 1, N, mine[1], keys[1]);
    test_model mtt = {0};
    run_ok(&p, &mtt, &s);
    vb_eval_summary_free(&s);
    tamper(p.store_path, "UPDATE meta SET value='99999999' WHERE key='selection_total'");
    const char *tampered[N] = {paths[0], p.store_path, paths[2]};
    assert_int_equal(vb_eval_merge(tampered, N, merged, &err), VB_EFORMAT);
    assert_non_null(strstr(err.message, "but its selection lists 7"));
    tamper(p.store_path, "UPDATE meta SET value='rows' WHERE key='shard_by'");
    assert_int_equal(vb_eval_merge(tampered, N, merged, &err), VB_EFORMAT);
    assert_non_null(strstr(err.message, "field 'shard_by' is 'rows'"));
}

static void run_refuses_unordered_sort_keys(void **state)
{
    (void)state;
    make_clips();
    vb_eval_params p = make_params("pbadkeys", 16);
    static long keys[NCLIPS];
    for (int k = 0; k < NCLIPS; k++)
        keys[k] = k;
    keys[4] = 3;   /* a repeat: two clips at one position */
    p.sort_keys = keys;
    p.shard_index = 0;
    p.shard_count = 2;
    test_model m = {0};
    vb_eval_model model = make_model(&m);
    vb_eval_summary s;
    vb_error err = {0};
    assert_int_equal(vb_eval_run(&p, &model, &test_loader, &s, &err), VB_EINVAL);
    assert_non_null(strstr(err.message, "sort key 3 of clip 'clip04'"));
    assert_int_equal(m.calls, 0);
}


/* A store is a file like any other: every integer read back is checked in the type it is used
 * in. shard_count 4294967296 once passed a check as long, became 0 as int, and merge wrote
 * past a 0-byte array and divided by zero; absurd sizes said only "merge: out of memory". */
static void merge_refuses_absurd_store_metadata(void **state)
{
    (void)state;
    make_clips();
    const struct {
        const char *sql, *needle;
    } cases[] = {
        {"UPDATE meta SET value='4294967296' WHERE key='shard_count'", "field 'shard_count' is '4294967296'"},
        {"UPDATE meta SET value='-1' WHERE key='shard_index'", "field 'shard_index' is '-1'"},
        {"UPDATE meta SET value='99999999999999999999' WHERE key='num_classes'", "field 'num_classes'"},
        {"UPDATE meta SET value='999999999999' WHERE key='selection_total'", "field 'selection_total' is '999999999999'"},
        /* in range, but more clips than the store lists: refused before anything is sized by it */
        {"UPDATE meta SET value='99999999' WHERE key='selection_total'", "but its selection lists"},
        {"UPDATE classes SET id=4294967296 WHERE id=0", "class table"},
        {"UPDATE results SET status=4294967296 WHERE clip_id='clip00'", "unknown status 4294967296"},
        {"UPDATE results SET status='ok' WHERE clip_id='clip00'", "unknown status"},
    };
    char merged[4200];
    snprintf(merged, sizeof merged, "%s", temp_path("tampered_merged.sqlite"));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vb_eval_params p = make_params("tampered", 16);
        test_model m = {0};
        vb_eval_summary s;
        run_ok(&p, &m, &s);
        vb_eval_summary_free(&s);
        tamper(p.store_path, cases[i].sql);
        const char *paths[1] = {p.store_path};
        vb_error err = {0};
        int rc = vb_eval_merge(paths, 1, merged, &err);
        if (rc != VB_EFORMAT || !strstr(err.message, cases[i].needle) || !strstr(err.message, p.store_path))
            fail_msg("case %zu (%s): got %d '%s', expected VB_EFORMAT naming the store and '%s'", i,
                     cases[i].sql, rc, err.message, cases[i].needle);
    }
}

static void window_offsets_follow_mmaction2(void **state)
{
    (void)state;
    /* MMAction2 SampleFrames(clip_len=32, num_clips=10, test_mode=True) on 300 frames:
     * avg = (300-32+1)/10 = 26.9; offsets = int(k*26.9 + 13.45) */
    int offsets[10];
    eval_window_offsets(300, 32, 10, offsets);
    const int expected[10] = {13, 40, 67, 94, 121, 147, 174, 201, 228, 255};
    for (int k = 0; k < 10; k++)
        assert_int_equal(offsets[k], expected[k]);
    /* a clip shorter than the window starts every view at 0 (frames then loop) */
    eval_window_offsets(20, 32, 3, offsets);
    for (int k = 0; k < 3; k++)
        assert_int_equal(offsets[k], 0);
}

static void three_crops_along_the_long_side(void **state)
{
    (void)state;
    /* a 2-frame 12x8 clip (W=12, H=8): crops of 8 at x = 0, 2, 4 */
    vb_frames clip = {.num_frames = 2, .height = 8, .width = 12};
    clip.frames = malloc(2 * 8 * 12 * 3);
    for (int i = 0; i < 2 * 8 * 12; i++) {
        clip.frames[i * 3] = (uint8_t)(i % 12);   /* x coordinate in red */
        clip.frames[i * 3 + 1] = (uint8_t)(i / 96);
        clip.frames[i * 3 + 2] = 0;
    }
    eval_views views;
    vb_error err = {0};
    assert_int_equal(eval_make_views(&clip, 8, 2, 1, 3, &views, &err), 0);
    assert_int_equal(views.count, 3);
    assert_int_equal(views.frames[0][0], 0);
    assert_int_equal(views.frames[1][0], 2);
    assert_int_equal(views.frames[2][0], 4);
    assert_int_equal(views.frames[2][(7 * 8 + 7) * 3], 11);   /* last pixel of the last crop */
    assert_int_equal(views.frames[0][(8 * 8) * 3 + 1], 1);    /* second frame */
    eval_views_free(&views);
    /* square frames smaller than the model input are refused for the clip, not fatal */
    assert_int_equal(eval_make_views(&clip, 10, 2, 1, 1, &views, &err), VB_ESHAPE);
    free(clip.frames);
}

static void multi_view_scores_average_probabilities(void **state)
{
    (void)state;
    make_clips();
    vb_eval_params p = make_params("multiview", 16);
    p.num_clips = 3;
    test_model m = {0};
    vb_eval_summary s;
    run_ok(&p, &m, &s);
    assert_int_equal(m.views_seen, 3 * (NCLIPS - 2));
    /* recompute clip00: all 40 frames, 3 windows of 16, probabilities averaged */
    vb_video_options vo;
    vb_video_options_init(&vo);
    vo.size = SIZE;
    vo.num_frames = 0;
    vb_frames clip;
    assert_int_equal(test_load(NULL, &clips[0], &vo, &clip, NULL), 0);
    int offsets[3];
    eval_window_offsets(40, 16, 3, offsets);
    float avg[CLASSES] = {0};
    for (int k = 0; k < 3; k++) {
        float logits[CLASSES], probs[CLASSES];
        logits_of_view(clip.frames + (size_t)offsets[k] * SIZE * SIZE * 3, 16, logits);
        vb_softmax(logits, CLASSES, probs);
        for (int c = 0; c < CLASSES; c++)
            avg[c] += probs[c] / 3.0f;
    }
    free(clip.frames);
    float best = 0;
    for (int c = 0; c < CLASSES; c++)
        best = avg[c] > best ? avg[c] : best;
    char *csv = read_text(p.csv_path);
    const char *row = strstr(csv, "clip00,");
    assert_non_null(row);
    const char *end = strchr(row, '\n');
    const char *p3 = end;
    for (int k = 0; k < 3; k++)
        do p3--; while (*p3 != ',');
    double score1;
    assert_int_equal(sscanf(p3, ",%lf", &score1), 1);
    assert_true(fabs(score1 - best) < 1e-6);
    free(csv);
    vb_eval_summary_free(&s);
}

static void serial_mode_gives_the_same_csv(void **state)
{
    (void)state;
    make_clips();
    vb_eval_params a = make_params("pipelined", 16), b = make_params("serial", 16);
    b.serial = 1;
    test_model ma = {0}, mb = {0};
    vb_eval_summary s;
    run_ok(&a, &ma, &s);
    vb_eval_summary_free(&s);
    run_ok(&b, &mb, &s);
    vb_eval_summary_free(&s);
    assert_int_equal(ma.calls, mb.calls);
    char *x = read_text(a.csv_path), *y = read_text(b.csv_path);
    assert_string_equal(x, y);
    free(x);
    free(y);
}

static void a_batch_may_meet_many_bad_clips(void **state)
{
    (void)state;
    /* 150 clips, all broken but three: batch_size 1 must still collect rows for every
     * broken clip met before the next good one */
    enum { N = 150 };
    static char many_ids[N][32];
    static vb_eval_clip many[N];
    for (int i = 0; i < N; i++) {
        int good = i == 0 || i == 120 || i == 149;
        snprintf(many_ids[i], sizeof many_ids[i], "%s%03d", good ? "clip" : "bad_", i);
        many[i] = (vb_eval_clip){many_ids[i], "", class_names[i % CLASSES], many_ids[i]};
    }
    for (int serial = 0; serial <= 1; serial++) {
        vb_eval_params p = make_params(serial ? "many_bad_serial" : "many_bad", 16);
        p.clips = many;
        p.clip_count = N;
        p.batch_size = 1;
        p.serial = serial;
        test_model m = {0};
        vb_eval_summary s;
        run_ok(&p, &m, &s);
        assert_int_equal(s.clips_evaluated, 3);
        assert_int_equal(s.clips_skipped, N - 3);
        assert_int_equal(s.clips_missing, 0);
        vb_eval_summary_free(&s);
    }
}

/* summary.json carries the configuration's key=value tokens as fields, and the frames and
 * crop the model saw at the top level. */
static void summary_json_has_the_parameters_as_fields(void **state)
{
    (void)state;
    make_clips();
    vb_eval_params p = make_params("fields", 16);
    p.fingerprint = "model=w.safetensors bytes=1234 classes=5 resize=stretch frames=16 data=k400-val odd";
    test_model m = {0};
    vb_eval_summary s;
    run_ok(&p, &m, &s);
    vb_eval_summary_free(&s);
    char *text = read_text(p.summary_path);
    cJSON *root = cJSON_Parse(text);
    free(text);
    assert_non_null(root);
    const cJSON *parameters = cJSON_GetObjectItemCaseSensitive(root, "parameters");
    assert_true(cJSON_IsObject(parameters));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(parameters, "model")->valuestring, "w.safetensors");
    assert_true(cJSON_GetObjectItemCaseSensitive(parameters, "bytes")->valuedouble == 1234);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(parameters, "data")->valuestring, "k400-val");
    assert_null(cJSON_GetObjectItemCaseSensitive(parameters, "odd"));
    assert_true(cJSON_GetObjectItemCaseSensitive(root, "num_frames")->valuedouble == 16);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "resize")->valuestring, "stretch");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "configuration")->valuestring, p.fingerprint);
    cJSON_Delete(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_scores_are_softmax_of_logits),
        cmocka_unit_test(metrics_match_a_count_by_hand),
        cmocka_unit_test(interrupted_run_resumes_to_the_same_csv),
        cmocka_unit_test(progress_can_stop_and_run_resumes),
        cmocka_unit_test(shards_merge_to_the_unsharded_csv),
        cmocka_unit_test(merge_refuses_absurd_store_metadata),
        cmocka_unit_test(partition_sort_keys_order_partition_then_rank),
        cmocka_unit_test(partition_shards_merge_to_the_unsharded_csv),
        cmocka_unit_test(run_refuses_unordered_sort_keys),
        cmocka_unit_test(window_offsets_follow_mmaction2),
        cmocka_unit_test(three_crops_along_the_long_side),
        cmocka_unit_test(multi_view_scores_average_probabilities),
        cmocka_unit_test(serial_mode_gives_the_same_csv),
        cmocka_unit_test(a_batch_may_meet_many_bad_clips),
        cmocka_unit_test(summary_json_has_the_parameters_as_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
