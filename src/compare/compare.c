/* vb_compare_load: reads every run with the report's readers (results CSV, summary.json),
 * keeps the clips all runs evaluated whose ground truth every model can name, and derives
 * per-run accuracies, pairwise agreement and McNemar tests, per-class accuracy and the
 * Pareto front. Class names are compared by vb_class_key so that runs with different label
 * spaces (Kinetics-400 and -600) are judged against the same ground truth. */
#include "vidbench/compare.h"
#include "vidbench/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct vb_compare_arena {
    vb_report reports[VB_COMPARE_MAX_RUNS];   /* own the strings the result points to */
    int num_reports;
    void **blocks;
    size_t num_blocks, block_capacity;
};

/* Zeroed memory owned by the comparison (freed by vb_compare_free). */
static void *owned_calloc(vb_compare *cmp, size_t count, size_t size)
{
    vb_compare_arena *arena = cmp->arena;
    if (arena->num_blocks == arena->block_capacity) {
        size_t capacity = arena->block_capacity ? arena->block_capacity * 2 : 64;
        void **blocks = realloc(arena->blocks, capacity * sizeof *blocks);
        if (!blocks)
            return NULL;
        arena->blocks = blocks;
        arena->block_capacity = capacity;
    }
    void *memory = calloc(count ? count : 1, size);
    if (memory)
        arena->blocks[arena->num_blocks++] = memory;
    return memory;
}

static const char *owned_strdup(vb_compare *cmp, const char *text)
{
    size_t length = strlen(text) + 1;
    char *copy = owned_calloc(cmp, length, 1);
    if (copy)
        memcpy(copy, text, length);
    return copy;
}

void vb_compare_free(vb_compare *cmp)
{
    if (!cmp)
        return;
    if (cmp->arena) {
        for (int i = 0; i < cmp->arena->num_reports; i++)
            vb_report_free(&cmp->arena->reports[i]);
        for (size_t i = 0; i < cmp->arena->num_blocks; i++)
            free(cmp->arena->blocks[i]);
        free(cmp->arena->blocks);
        free(cmp->arena);
    }
    memset(cmp, 0, sizeof *cmp);
}

typedef char class_key[VB_CLASS_KEY_BYTES];

static int compare_keys(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* What a run needs while the comparison is computed. */
typedef struct run_work {
    const vb_report *report;
    class_key *label_keys;        /* sorted keys of the model's classes, NULL unknown */
    int num_label_keys;
    const char **skipped_ids;     /* sorted clip ids its summary lists as skipped */
    int num_skipped;
    class_key *unmapped;          /* truths it has no class for (with repeats) */
    long num_unmapped, unmapped_capacity;
} run_work;

static const char *resize_name(int mode)
{
    static const char *const names[] = {"crop", "pad", "shortside", "stretch"}; /* vb_resize_mode */
    return mode >= 0 && mode < 4 ? names[mode] : NULL;
}

/* "movinet_a0_stream_int8.tflite, int8, 600 classes, 32 frames, stretch, 1x1 views":
 * what distinguishes runs, from the summary; the CSV's name when there is no summary. */
static int describe_run(vb_compare *cmp, vb_compare_run *run, const vb_report_evaluation *ev, vb_error *err)
{
    run->model = ev->model_file ? ev->model_file : ev->model;
    run->precision = ev->precision;
    run->resize = resize_name(ev->resize);
    run->num_classes = ev->model_classes;
    run->num_frames = ev->model_frames >= 0 ? ev->model_frames : ev->num_frames > 0 ? ev->num_frames : -1;
    run->views_temporal = ev->views_temporal;
    run->views_spatial = ev->views_spatial;
    run->clips_per_s = ev->clips_per_s;
    run->model_ms_per_clip = ev->model_ms_per_clip;
    run->gflop_per_clip = ev->gflop_per_clip;
    run->peak_rss_bytes = ev->peak_rss_bytes;
    run->skipped = ev->skipped;
    char label[1024];
    const char *base = strrchr(run->csv_path, '/');
    int n = snprintf(label, sizeof label, "%s", run->model ? run->model : base ? base + 1 : run->csv_path);
    if (run->precision)
        n += snprintf(label + n, sizeof label - (size_t)n, ", %s", run->precision);
    if (run->num_classes > 0 && (size_t)n < sizeof label)
        n += snprintf(label + n, sizeof label - (size_t)n, ", %d classes", run->num_classes);
    if (run->num_frames == 0 && (size_t)n < sizeof label)
        n += snprintf(label + n, sizeof label - (size_t)n, ", every frame");
    else if (run->num_frames > 0 && (size_t)n < sizeof label)
        n += snprintf(label + n, sizeof label - (size_t)n, ", %d frames", run->num_frames);
    if (run->resize && (size_t)n < sizeof label)
        n += snprintf(label + n, sizeof label - (size_t)n, ", %s", run->resize);
    if (run->views_temporal > 0 && run->views_spatial > 0 && (size_t)n < sizeof label)
        snprintf(label + n, sizeof label - (size_t)n, ", %dx%d views", run->views_temporal, run->views_spatial);
    run->label = owned_strdup(cmp, label);
    return run->label ? 0 : vb_error_set(err, VB_ENOMEM, "compare: out of memory");
}

static int load_label_keys(run_work *work, const char *path, vb_error *err)
{
    vb_labels labels;
    int rc = vb_labels_load(path, &labels, err);
    if (rc)
        return rc;
    work->label_keys = malloc(((size_t)labels.count + 1) * sizeof *work->label_keys);
    if (!work->label_keys) {
        vb_labels_free(&labels);
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
    }
    for (int i = 0; i < labels.count; i++)
        vb_class_key(labels.names[i], work->label_keys[i]);
    work->num_label_keys = labels.count;
    qsort(work->label_keys, (size_t)labels.count, sizeof *work->label_keys, compare_keys);
    vb_labels_free(&labels);
    return 0;
}

/* Reads run i: CSV, summary (given or beside the CSV), the model's label map. */
static int load_run(vb_compare *cmp, int i, const vb_compare_input *input, run_work *work, vb_error *err)
{
    vb_report *report = &cmp->arena->reports[i];
    vb_report_init(report);
    cmp->arena->num_reports = i + 1;
    vb_compare_run *run = &cmp->runs[i];
    run->csv_path = owned_strdup(cmp, input->csv_path);
    if (!run->csv_path)
        return vb_error_set(err, VB_ENOMEM, "compare: out of memory");
    int rc = vb_report_load_results_csv(report, input->csv_path, err);
    if (rc)
        return rc;
    char *beside = NULL;
    const char *summary = input->summary_path;
    if (!summary) {
        rc = vb_report_summary_beside(input->csv_path, &beside, err);
        summary = beside;
    }
    if (!rc && summary) {
        rc = vb_report_load_summary(report, summary, err);
        run->summary_path = owned_strdup(cmp, summary);
    }
    free(beside);
    if (rc)
        return rc;
    run->csv_clips = report->num_clips;
    rc = describe_run(cmp, run, &report->evaluation, err);
    if (rc)
        return rc;
    /* An explicit label map must be readable; the summary's is a hint (the results may have
     * been copied to a machine without the model), followed only to a regular file: the
     * summary is untrusted and a FIFO or device there would block or flood the read. */
    const char *label_map = input->label_map ? input->label_map : report->evaluation.label_map;
    struct stat st;
    if (label_map && !input->label_map && (stat(label_map, &st) != 0 || !S_ISREG(st.st_mode)))
        label_map = NULL;
    if (label_map) {
        vb_error map_err = {0};
        rc = load_label_keys(work, label_map, input->label_map ? err : &map_err);
        if (rc && input->label_map)
            return rc;
        if (!rc)
            run->label_map = owned_strdup(cmp, label_map);
    }
    run->truth_unmapped_classes = work->label_keys ? 0 : -1;
    const vb_report_evaluation *ev = &report->evaluation;
    work->report = report;
    work->skipped_ids = malloc(((size_t)ev->num_skipped_clips + 1) * sizeof *work->skipped_ids);
    if (!work->skipped_ids)
        return vb_error_set(err, VB_ENOMEM, "compare: out of memory");
    for (int k = 0; k < ev->num_skipped_clips; k++)
        work->skipped_ids[k] = ev->skipped_clips[k].clip_id;
    work->num_skipped = ev->num_skipped_clips;
    qsort(work->skipped_ids, (size_t)work->num_skipped, sizeof *work->skipped_ids, compare_strings);
    return 0;
}

static const vb_report_clip *evaluated_clip(const run_work *work, const char *video_id)
{
    const vb_report_clip *clip = vb_report_clip_find(work->report, video_id);
    return clip && clip->num_predictions > 0 ? clip : NULL;
}

static int note_unmapped(run_work *work, const char *key, vb_error *err)
{
    if (work->num_unmapped == work->unmapped_capacity) {
        long capacity = work->unmapped_capacity ? work->unmapped_capacity * 2 : 16;
        class_key *grown = realloc(work->unmapped, (size_t)capacity * sizeof *grown);
        if (!grown)
            return vb_error_set(err, VB_ENOMEM, "compare: out of memory");
        work->unmapped = grown;
        work->unmapped_capacity = capacity;
    }
    memcpy(work->unmapped[work->num_unmapped++], key, VB_CLASS_KEY_BYTES);
    return 0;
}

/* Decides whether a clip present in every run is compared; fills *truth_key if so. */
static int admit_clip(vb_compare *cmp, run_work *works, const vb_report_clip *const *rows, class_key truth_key,
                      int *admitted, vb_error *err)
{
    *admitted = 0;
    int with_truth = 0;
    for (int r = 0; r < cmp->num_runs; r++)
        with_truth += rows[r]->label != NULL;
    if (with_truth == 0) {
        cmp->dropped_no_truth++;
        return 0;
    }
    vb_class_key(rows[0]->label ? rows[0]->label : "", truth_key);
    for (int r = 1; r < cmp->num_runs; r++) {
        class_key other;
        vb_class_key(rows[r]->label ? rows[r]->label : "", other);
        if (!rows[r]->label || !rows[0]->label || strcmp(other, truth_key)) {
            cmp->dropped_truth_differs++;
            return 0;
        }
    }
    int unmapped = 0;
    for (int r = 0; r < cmp->num_runs; r++) {
        run_work *work = &works[r];
        if (!work->label_keys)
            continue;
        if (!bsearch(truth_key, work->label_keys, (size_t)work->num_label_keys, sizeof *work->label_keys,
                     compare_keys)) {
            unmapped = 1;
            cmp->runs[r].truth_unmapped_clips++;
            int rc = note_unmapped(work, truth_key, err);
            if (rc)
                return rc;
        }
    }
    if (unmapped) {
        cmp->dropped_unmapped++;
        return 0;
    }
    *admitted = 1;
    return 0;
}

static int compare_clip_ids(const void *a, const void *b)
{
    return strcmp(((const vb_compare_clip *)a)->video_id, ((const vb_compare_clip *)b)->video_id);
}

/* Walks the union of all CSVs' clips once: each clip is counted where it first appears. */
static int align_clips(vb_compare *cmp, run_work *works, vb_error *err)
{
    long capacity = 0;
    for (int r = 0; r < cmp->num_runs; r++)
        capacity = works[r].report->num_clips > capacity ? works[r].report->num_clips : capacity;
    cmp->clips = owned_calloc(cmp, (size_t)capacity, sizeof *cmp->clips);
    if (!cmp->clips)
        return vb_error_set(err, VB_ENOMEM, "compare: out of memory");
    const vb_report_clip *rows[VB_COMPARE_MAX_RUNS];
    for (int r = 0; r < cmp->num_runs; r++) {
        const vb_report *report = works[r].report;
        for (int c = 0; c < report->num_clips; c++) {
            const char *id = report->clips[c].video_id;
            int seen_before = 0;
            for (int e = 0; e < r && !seen_before; e++)
                seen_before = evaluated_clip(&works[e], id) != NULL;
            if (seen_before || !report->clips[c].num_predictions)
                continue;
            cmp->clips_union++;
            int present = 1;
            for (int k = 0; k < cmp->num_runs; k++) {
                rows[k] = evaluated_clip(&works[k], id);
                if (rows[k])
                    continue;
                present = 0;
                cmp->runs[k].absent++;
                if (bsearch(&id, works[k].skipped_ids, (size_t)works[k].num_skipped, sizeof(char *), compare_strings))
                    cmp->runs[k].absent_skipped++;
            }
            if (!present) {
                cmp->dropped_absent++;
                continue;
            }
            class_key truth_key;
            int admitted, rc = admit_clip(cmp, works, rows, truth_key, &admitted, err);
            if (rc)
                return rc;
            if (!admitted)
                continue;
            vb_compare_clip *clip = &cmp->clips[cmp->clips_common++];
            clip->video_id = id;
            clip->truth = rows[0]->label;
            clip->top1 = owned_calloc(cmp, (size_t)cmp->num_runs, sizeof *clip->top1);
            clip->correct = owned_calloc(cmp, (size_t)cmp->num_runs, 1);
            clip->correct_topk = owned_calloc(cmp, (size_t)cmp->num_runs, 1);
            if (!clip->top1 || !clip->correct || !clip->correct_topk)
                return vb_error_set(err, VB_ENOMEM, "compare: out of memory");
            for (int k = 0; k < cmp->num_runs; k++) {
                clip->top1[k] = rows[k]->pred_labels[0];
                for (int p = 0; p < rows[k]->num_predictions && p < cmp->top_k; p++) {
                    class_key predicted;
                    vb_class_key(rows[k]->pred_labels[p], predicted);
                    if (strcmp(predicted, truth_key))
                        continue;
                    clip->correct[k] = p == 0;
                    clip->correct_topk[k] = 1;
                    break;
                }
            }
        }
    }
    if (cmp->clips_common > 1)
        qsort(cmp->clips, (size_t)cmp->clips_common, sizeof *cmp->clips, compare_clip_ids);
    return 0;
}

static void rate(vb_compare_rate *out, long correct, long n)
{
    out->count = correct;
    out->n = (double)n;
    out->value = n > 0 ? (double)correct / (double)n : -1;
    vb_wilson_interval((double)correct, (double)n, VB_COMPARE_Z95, &out->low, &out->high);
}

typedef struct keyed_clip {
    class_key key;
    long clip;
} keyed_clip;

static int compare_keyed_clips(const void *a, const void *b)
{
    const keyed_clip *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->clip > y->clip) - (x->clip < y->clip);
}

static int compare_classes(const void *a, const void *b)
{
    const vb_compare_class *x = a, *y = b;
    if (x->spread != y->spread)
        return x->spread > y->spread ? -1 : 1;
    return strcmp(x->label, y->label);
}

/* Per class (by truth key) on the common clips; then each run's mean-class accuracy with a
 * Wilson interval on Kish's effective sample size: the mean of per-class rates weighs a
 * clip of class c by 1/(C n_c), so n_eff = 1 / sum(w^2) = C^2 / sum_c 1/n_c (= the clip
 * count when classes are balanced, smaller when they are not). */
static int per_class(vb_compare *cmp, vb_error *err)
{
    const long n = cmp->clips_common;
    keyed_clip *sorted = malloc(((size_t)n + 1) * sizeof *sorted);
    if (!sorted)
        return vb_error_set(err, VB_ENOMEM, "compare: out of memory");
    for (long i = 0; i < n; i++) {
        vb_class_key(cmp->clips[i].truth, sorted[i].key);
        sorted[i].clip = i;
    }
    qsort(sorted, (size_t)n, sizeof *sorted, compare_keyed_clips);
    long groups = 0;
    for (long i = 0; i < n; i++)
        groups += i == 0 || strcmp(sorted[i].key, sorted[i - 1].key);
    cmp->classes = owned_calloc(cmp, (size_t)groups, sizeof *cmp->classes);
    if (!cmp->classes) {
        free(sorted);
        return vb_error_set(err, VB_ENOMEM, "compare: out of memory");
    }
    int m = -1;
    for (long i = 0; i < n; i++) {
        const vb_compare_clip *clip = &cmp->clips[sorted[i].clip];
        if (i == 0 || strcmp(sorted[i].key, sorted[i - 1].key)) {
            m++;
            cmp->classes[m].label = clip->truth;
            cmp->classes[m].correct = owned_calloc(cmp, (size_t)cmp->num_runs, sizeof(long));
            if (!cmp->classes[m].correct) {
                free(sorted);
                return vb_error_set(err, VB_ENOMEM, "compare: out of memory");
            }
        }
        cmp->classes[m].clips++;
        for (int r = 0; r < cmp->num_runs; r++)
            cmp->classes[m].correct[r] += clip->correct[r];
    }
    free(sorted);
    cmp->num_classes = (int)groups;
    for (int r = 0; r < cmp->num_runs; r++) {
        double sum = 0, inverse_sizes = 0;
        for (int c = 0; c < cmp->num_classes; c++) {
            sum += (double)cmp->classes[c].correct[r] / (double)cmp->classes[c].clips;
            inverse_sizes += 1.0 / (double)cmp->classes[c].clips;
        }
        vb_compare_rate *out = &cmp->runs[r].mean_class;
        out->count = cmp->num_classes;
        if (cmp->num_classes == 0) {
            out->value = -1;
            out->low = 0;
            out->high = 1;
            continue;
        }
        out->value = sum / cmp->num_classes;
        out->n = (double)cmp->num_classes * cmp->num_classes / inverse_sizes;
        vb_wilson_interval(out->value * out->n, out->n, VB_COMPARE_Z95, &out->low, &out->high);
    }
    for (int c = 0; c < cmp->num_classes; c++) {
        double low = 1, high = 0;
        for (int r = 0; r < cmp->num_runs; r++) {
            double accuracy = (double)cmp->classes[c].correct[r] / (double)cmp->classes[c].clips;
            low = fmin(low, accuracy);
            high = fmax(high, accuracy);
        }
        cmp->classes[c].spread = high - low;
    }
    qsort(cmp->classes, (size_t)cmp->num_classes, sizeof *cmp->classes, compare_classes);
    return 0;
}

static int compare_confusions(const void *a, const void *b)
{
    const vb_compare_confusion *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    int c = strcmp(x->truth, y->truth);
    return c ? c : strcmp(x->predicted, y->predicted);
}

static int confusions(vb_compare *cmp, int r, vb_error *err)
{
    vb_compare_confusion *all = malloc(((size_t)cmp->clips_common + 1) * sizeof *all);
    if (!all)
        return vb_error_set(err, VB_ENOMEM, "compare: out of memory");
    long n = 0;
    for (long i = 0; i < cmp->clips_common; i++)
        if (!cmp->clips[i].correct[r])
            all[n++] = (vb_compare_confusion){cmp->clips[i].truth, cmp->clips[i].top1[r], 1};
    qsort(all, (size_t)n, sizeof *all, compare_confusions);   /* equal counts: by names */
    long m = 0;
    for (long i = 0; i < n; i++) {
        if (m > 0 && !strcmp(all[m - 1].truth, all[i].truth) && !strcmp(all[m - 1].predicted, all[i].predicted))
            all[m - 1].count++;
        else
            all[m++] = all[i];
    }
    qsort(all, (size_t)m, sizeof *all, compare_confusions);
    int keep = m < VB_COMPARE_MAX_CONFUSIONS ? (int)m : VB_COMPARE_MAX_CONFUSIONS;
    cmp->runs[r].confusions = owned_calloc(cmp, (size_t)keep, sizeof *all);
    if (!cmp->runs[r].confusions) {
        free(all);
        return vb_error_set(err, VB_ENOMEM, "compare: out of memory");
    }
    memcpy(cmp->runs[r].confusions, all, (size_t)keep * sizeof *all);
    cmp->runs[r].num_confusions = keep;
    free(all);
    return 0;
}

static int pairs(vb_compare *cmp, vb_error *err)
{
    const int runs = cmp->num_runs;
    cmp->num_pairs = runs * (runs - 1) / 2;
    cmp->pairs = owned_calloc(cmp, (size_t)cmp->num_pairs, sizeof *cmp->pairs);
    if (!cmp->pairs)
        return vb_error_set(err, VB_ENOMEM, "compare: out of memory");
    int p = 0;
    for (int a = 0; a < runs; a++)
        for (int b = a + 1; b < runs; b++, p++) {
            vb_compare_pair *pair = &cmp->pairs[p];
            pair->a = a;
            pair->b = b;
            pair->disagree = owned_calloc(cmp, (size_t)cmp->clips_common, sizeof *pair->disagree);
            if (!pair->disagree)
                return vb_error_set(err, VB_ENOMEM, "compare: out of memory");
            for (long i = 0; i < cmp->clips_common; i++) {
                const vb_compare_clip *clip = &cmp->clips[i];
                class_key key_a, key_b;
                vb_class_key(clip->top1[a], key_a);
                vb_class_key(clip->top1[b], key_b);
                if (!strcmp(key_a, key_b))
                    pair->agree++;
                else
                    pair->disagree[pair->num_disagree++] = i;
                int right_a = clip->correct[a], right_b = clip->correct[b];
                pair->both_right += right_a && right_b;
                pair->a_only += right_a && !right_b;
                pair->b_only += !right_a && right_b;
                pair->both_wrong += !right_a && !right_b;
            }
            pair->agreement = cmp->clips_common ? (double)pair->agree / (double)cmp->clips_common : -1;
            pair->mcnemar_p = vb_mcnemar_exact_p(pair->a_only, pair->b_only);
        }
    return 0;
}

/* A run is on the front when no other run with a known speed is at least as fast and as
 * accurate (top-1) and strictly better in one of the two. */
static void pareto_front(vb_compare *cmp)
{
    for (int i = 0; i < cmp->num_runs; i++) {
        const vb_compare_run *run = &cmp->runs[i];
        if (!(run->clips_per_s > 0))
            continue;
        int dominated = 0;
        for (int j = 0; j < cmp->num_runs && !dominated; j++) {
            const vb_compare_run *other = &cmp->runs[j];
            if (j == i || !(other->clips_per_s > 0))
                continue;
            dominated = other->clips_per_s >= run->clips_per_s && other->top1.value >= run->top1.value &&
                        (other->clips_per_s > run->clips_per_s || other->top1.value > run->top1.value);
        }
        cmp->runs[i].pareto = !dominated;
    }
}

static int count_distinct_unmapped(run_work *work)
{
    if (!work->label_keys)
        return -1;
    if (work->num_unmapped > 1) /* unmapped is NULL while empty, and qsort(NULL, 0) is undefined */
        qsort(work->unmapped, (size_t)work->num_unmapped, sizeof *work->unmapped, compare_keys);
    int distinct = 0;
    for (long i = 0; i < work->num_unmapped; i++)
        distinct += i == 0 || strcmp(work->unmapped[i], work->unmapped[i - 1]);
    return distinct;
}

int vb_compare_load(vb_compare *cmp, const vb_compare_input *inputs, int count, vb_error *err)
{
    memset(cmp, 0, sizeof *cmp);
    if (count < 2 || count > VB_COMPARE_MAX_RUNS)
        return vb_error_set(err, VB_EINVAL, "compare: %d runs given, need 2 to %d", count, VB_COMPARE_MAX_RUNS);
    cmp->arena = calloc(1, sizeof *cmp->arena);
    run_work works[VB_COMPARE_MAX_RUNS];
    memset(works, 0, sizeof works);
    if (!cmp->arena)
        return vb_error_set(err, VB_ENOMEM, "compare: out of memory");
    cmp->num_runs = count;
    int rc = 0;
    cmp->runs = owned_calloc(cmp, (size_t)count, sizeof *cmp->runs);
    if (!cmp->runs)
        rc = vb_error_set(err, VB_ENOMEM, "compare: out of memory");
    cmp->top_k = VB_COMPARE_TOP_K;
    for (int i = 0; i < count && !rc; i++) {
        rc = load_run(cmp, i, &inputs[i], &works[i], err);
        /* Rows of one CSV all have its header's number of predictions. */
        const vb_report *report = &cmp->arena->reports[i];
        for (int c = 0; !rc && c < report->num_clips; c++)
            if (report->clips[c].num_predictions > 0 && report->clips[c].num_predictions < cmp->top_k)
                cmp->top_k = report->clips[c].num_predictions;
    }
    if (!rc)
        rc = align_clips(cmp, works, err);
    if (!rc && cmp->clips_common == 0)
        rc = vb_error_set(err, VB_ENOTFOUND,
                          "compare: no clip is in every CSV with a ground truth every model has a class for "
                          "(%ld clips in all: %ld missing from a CSV, %ld without ground truth, %ld with "
                          "different ground truths, %ld not a class of some model)",
                          cmp->clips_union, cmp->dropped_absent, cmp->dropped_no_truth, cmp->dropped_truth_differs,
                          cmp->dropped_unmapped);
    for (int r = 0; r < count && !rc; r++) {
        long top1 = 0, topk = 0;
        for (long i = 0; i < cmp->clips_common; i++) {
            top1 += cmp->clips[i].correct[r];
            topk += cmp->clips[i].correct_topk[r];
        }
        rate(&cmp->runs[r].top1, top1, cmp->clips_common);
        rate(&cmp->runs[r].topk, topk, cmp->clips_common);
        cmp->runs[r].truth_unmapped_classes = count_distinct_unmapped(&works[r]);
        rc = confusions(cmp, r, err);
    }
    if (!rc)
        rc = per_class(cmp, err);
    if (!rc)
        rc = pairs(cmp, err);
    if (!rc)
        pareto_front(cmp);
    for (int i = 0; i < count; i++) {
        free(works[i].label_keys);
        free(works[i].skipped_ids);
        free(works[i].unmapped);
    }
    if (rc)
        vb_compare_free(cmp);
    return rc;
}
