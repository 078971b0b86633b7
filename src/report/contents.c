/* The report's contents: storage (a string arena and a hash index of clips by video_id), the
 * label map and local-video adapters, and vb_report_finish, which derives sample, class
 * counts and metrics from whatever the adapters filled in. */
#include "vidbench/report.h"
#include "vidbench/compare.h"
#include "vidbench/labels.h"
#include "report/report_internal.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ARENA_BLOCK_BYTES (64u << 10)
#define MAX_CLIPS 1000000
#define MAX_VIDEO_DIR_DEPTH 4
#define MAX_CONFUSIONS 20

struct vb_report_arena_block {
    vb_report_arena_block *next;
    size_t used, capacity;
    char data[];
};

void vb_report_init(vb_report *report)
{
    memset(report, 0, sizeof *report);
    report->title = "vidbench report";
    report->evaluation.top1 = report->evaluation.topn = -1;
    report->evaluation.mean_class_accuracy = -1;
    report->evaluation.skipped = -1;
    report->evaluation.resize = -1;
    report->evaluation.clips_per_s = report->evaluation.model_ms_per_clip = -1;
    report->evaluation.model_frames = -1;
    report->evaluation.gflop_per_clip = report->evaluation.peak_rss_bytes = -1;
}

void vb_report_free(vb_report *report)
{
    if (!report)
        return;
    vb_report_arena_block *block = report->arena;
    while (block) {
        vb_report_arena_block *next = block->next;
        free(block);
        block = next;
    }
    free(report->dataset.splits);
    free(report->dataset.classes);
    free(report->dataset.missing_classes);
    free(report->dataset.label_map);
    free(report->clips);
    free(report->clip_slots);
    free(report->sample);
    free(report->evaluation.classes);
    free(report->evaluation.confusions);
    free(report->evaluation.stages);
    free(report->evaluation.skipped_clips);
    free(report->resampling.source_hrefs);
    free(report->resampling.down_indices);
    free(report->resampling.up_indices);
    vb_report_init(report);
}

void *report_alloc(vb_report *report, size_t size_bytes)
{
    size_bytes = (size_bytes + 7) & ~(size_t)7;
    vb_report_arena_block *block = report->arena;
    if (!block || block->capacity - block->used < size_bytes) {
        size_t capacity = size_bytes > ARENA_BLOCK_BYTES ? size_bytes : ARENA_BLOCK_BYTES;
        block = malloc(sizeof *block + capacity);
        if (!block)
            return NULL;
        block->capacity = capacity;
        block->used = 0;
        block->next = report->arena;
        report->arena = block;
    }
    void *memory = block->data + block->used;
    block->used += size_bytes;
    return memory;
}

const char *report_strndup(vb_report *report, const char *text, size_t length)
{
    char *copy = report_alloc(report, length + 1);
    if (!copy)
        return NULL;
    memcpy(copy, text, length);
    copy[length] = '\0';
    return copy;
}

const char *vb_report_strdup(vb_report *report, const char *text)
{
    return text ? report_strndup(report, text, strlen(text)) : NULL;
}

/* FNV-1a: the index only needs a spread, not resistance to crafted keys (n is bounded). */
static size_t hash_text(const char *text)
{
    size_t hash = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        hash = (hash ^ *p) * 1099511628211ull;
    return hash;
}

static int rebuild_index(vb_report *report, int capacity)
{
    int *slots = malloc((size_t)capacity * sizeof *slots);
    if (!slots)
        return VB_ENOMEM;
    for (int i = 0; i < capacity; i++)
        slots[i] = -1;
    for (int c = 0; c < report->num_clips; c++) {
        size_t slot = hash_text(report->clips[c].video_id) & (size_t)(capacity - 1);
        while (slots[slot] >= 0)
            slot = (slot + 1) & (size_t)(capacity - 1);
        slots[slot] = c;
    }
    free(report->clip_slots);
    report->clip_slots = slots;
    report->slot_capacity = capacity;
    return 0;
}

vb_report_clip *vb_report_clip_find(const vb_report *report, const char *video_id)
{
    if (!report->clip_slots || !video_id)
        return NULL;
    size_t mask = (size_t)report->slot_capacity - 1;
    for (size_t slot = hash_text(video_id) & mask; report->clip_slots[slot] >= 0; slot = (slot + 1) & mask) {
        vb_report_clip *clip = &report->clips[report->clip_slots[slot]];
        if (!strcmp(clip->video_id, video_id))
            return clip;
    }
    return NULL;
}

vb_report_clip *vb_report_clip_get(vb_report *report, const char *video_id, vb_error *err)
{
    vb_report_clip *found = vb_report_clip_find(report, video_id);
    if (found)
        return found;
    if (report->num_clips >= MAX_CLIPS) {
        vb_error_set(err, VB_ELIMIT, "report: more than %d clips", MAX_CLIPS);
        return NULL;
    }
    if (report->num_clips == report->clip_capacity) {
        int capacity = report->clip_capacity ? report->clip_capacity * 2 : 64;
        vb_report_clip *clips = realloc(report->clips, (size_t)capacity * sizeof *clips);
        if (!clips) {
            vb_error_set(err, VB_ENOMEM, "report: out of memory for %d clips", capacity);
            return NULL;
        }
        report->clips = clips;
        report->clip_capacity = capacity;
    }
    /* Keep the hash table at most half full. */
    if ((report->num_clips + 1) * 2 > report->slot_capacity) {
        int capacity = report->slot_capacity ? report->slot_capacity * 2 : 128;
        if (rebuild_index(report, capacity)) {
            vb_error_set(err, VB_ENOMEM, "report: out of memory for the clip index");
            return NULL;
        }
    }
    const char *id_copy = vb_report_strdup(report, video_id);
    if (!id_copy) {
        vb_error_set(err, VB_ENOMEM, "report: out of memory");
        return NULL;
    }
    vb_report_clip *clip = &report->clips[report->num_clips];
    memset(clip, 0, sizeof *clip);
    clip->video_id = id_copy;
    size_t mask = (size_t)report->slot_capacity - 1;
    size_t slot = hash_text(video_id) & mask;
    while (report->clip_slots[slot] >= 0)
        slot = (slot + 1) & mask;
    report->clip_slots[slot] = report->num_clips++;
    return clip;
}

int vb_report_set_label_map(vb_report *report, const char *path, vb_error *err)
{
    vb_labels labels;
    int rc = vb_labels_load(path, &labels, err);
    if (rc)
        return rc;
    const char **names = malloc((size_t)labels.count * sizeof *names);
    if (!names) {
        vb_labels_free(&labels);
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
    }
    for (int i = 0; i < labels.count; i++) {
        names[i] = vb_report_strdup(report, labels.names[i]);
        if (!names[i]) {
            free(names);
            vb_labels_free(&labels);
            return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
        }
    }
    free(report->dataset.label_map);
    report->dataset.label_map = names;
    report->dataset.label_map_count = labels.count;
    report->dataset.label_map_name = vb_report_strdup(report, path);
    vb_labels_free(&labels);
    return 0;
}

/* ---- local videos ---- */

static int is_video_name(const char *name)
{
    static const char *const extensions[] = {".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg"};
    const char *dot = strrchr(name, '.');
    if (!dot)
        return 0;
    for (size_t i = 0; i < sizeof extensions / sizeof extensions[0]; i++)
        if (!strcasecmp(dot, extensions[i]))
            return 1;
    return 0;
}

vb_report_clip *report_attach_file(vb_report *report, const char *clip_name, const char *path,
                                      const char *report_dir, vb_error *err)
{
    size_t name_length = strlen(clip_name);
    vb_report_clip *clip = vb_report_clip_find(report, clip_name);
    if (!clip && name_length >= 11) {
        /* A CSV row may name the clip by its YouTube id (the first 11 characters). */
        for (int i = 0; i < report->num_clips; i++) {
            vb_report_clip *row = &report->clips[i];
            if (!row->video_path && row->youtube_id && strlen(row->youtube_id) == 11 &&
                !strncmp(row->youtube_id, clip_name, 11)) {
                clip = row;
                break;
            }
        }
    }
    if (!clip)
        clip = vb_report_clip_get(report, clip_name, err);
    if (clip && clip->video_path && !strcmp(clip->video_path, path))
        return clip; /* the very same path given twice */
    if (clip && clip->video_path) /* a second file of the same name: keep both, named by path */
        clip = vb_report_clip_get(report, path, err);
    if (!clip)
        return NULL;
    if (clip->video_path)
        return clip;
    char *href = NULL;
    if (report_relative_href(report_dir, path, &href, err))
        return NULL;
    clip->video_path = vb_report_strdup(report, path);
    clip->video_href = vb_report_strdup(report, href);
    free(href);
    if (!clip->video_path || !clip->video_href) {
        vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
        return NULL;
    }
    return clip;
}

/* The clip's name is its file name without directory and extension. */
static int add_video_file(vb_report *report, const char *path, const char *report_dir, vb_error *err)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t stem_length = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    char stem[1024];
    if (stem_length == 0 || stem_length >= sizeof stem)
        return vb_error_set(err, VB_EINVAL, "%s: file name is empty or too long", path);
    memcpy(stem, base, stem_length);
    stem[stem_length] = '\0';
    if (!report_attach_file(report, stem, path, report_dir, err))
        return err && err->code ? err->code : VB_ENOMEM;
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* (device, inode) of every directory already walked by one vb_report_add_videos call: links
 * to "." or to a parent would otherwise walk one directory again and again (ten links to "."
 * at depth 4 are 10^4 walks, each adding its files again as phantom clips). Files are not
 * deduplicated: one video under two names is two clips, as the names say. Open addressing;
 * the table is at most half full. */
typedef struct walk_seen {
    struct walk_key { dev_t dev; ino_t ino; } *keys;
    unsigned char *used;
    size_t count, capacity;
} walk_seen;

static size_t walk_hash(dev_t dev, ino_t ino, size_t capacity)
{
    uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15ull ^ (uint64_t)dev * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(h ^ (h >> 29)) & (capacity - 1);
}

/* 1 if (dev, ino) was new and is now recorded, 0 if seen before, negative on no memory. */
static int walk_seen_add(walk_seen *seen, dev_t dev, ino_t ino)
{
    if ((seen->count + 1) * 2 > seen->capacity) {
        size_t capacity = seen->capacity ? seen->capacity * 2 : 64;
        walk_seen grown = {calloc(capacity, sizeof *grown.keys), calloc(capacity, 1), 0, capacity};
        if (!grown.keys || !grown.used) {
            free(grown.keys);
            free(grown.used);
            return VB_ENOMEM;
        }
        for (size_t i = 0; i < seen->capacity; i++)
            if (seen->used[i])
                walk_seen_add(&grown, seen->keys[i].dev, seen->keys[i].ino);
        free(seen->keys);
        free(seen->used);
        *seen = grown;
    }
    for (size_t i = walk_hash(dev, ino, seen->capacity);; i = (i + 1) & (seen->capacity - 1)) {
        if (!seen->used[i]) {
            seen->used[i] = 1;
            seen->keys[i].dev = dev;
            seen->keys[i].ino = ino;
            seen->count++;
            return 1;
        }
        if (seen->keys[i].dev == dev && seen->keys[i].ino == ino)
            return 0;
    }
}

static int add_video_dir(vb_report *report, walk_seen *seen, const char *dir_path, const char *report_dir,
                         int depth, vb_error *err)
{
    if (depth > MAX_VIDEO_DIR_DEPTH)
        return 0;
    DIR *dir = opendir(dir_path);
    if (!dir)
        return vb_error_set(err, VB_EIO, "%s: cannot open directory", dir_path);
    /* Sorted so that the report does not depend on directory order. */
    char **names = NULL;
    size_t count = 0, capacity = 0;
    int rc = 0;
    for (struct dirent *entry; (entry = readdir(dir));) {
        if (entry->d_name[0] == '.')
            continue;
        if (count == capacity) {
            capacity = capacity ? capacity * 2 : 64;
            char **grown = realloc(names, capacity * sizeof *grown);
            if (!grown) {
                rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", dir_path);
                break;
            }
            names = grown;
        }
        names[count] = strdup(entry->d_name);
        if (!names[count]) {
            rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", dir_path);
            break;
        }
        count++;
    }
    closedir(dir);
    if (!rc && count > 1)
        qsort(names, count, sizeof *names, compare_names);
    for (size_t i = 0; i < count && !rc; i++) {
        size_t length = strlen(dir_path) + strlen(names[i]) + 2;
        char *child = malloc(length);
        if (!child) {
            rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", dir_path);
            break;
        }
        snprintf(child, length, "%s/%s", dir_path, names[i]);
        struct stat st; /* of the link's target: links are followed, directories once */
        if (stat(child, &st) == 0 && S_ISDIR(st.st_mode)) {
            int fresh = walk_seen_add(seen, st.st_dev, st.st_ino);
            if (fresh < 0)
                rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", dir_path);
            else if (fresh)
                rc = add_video_dir(report, seen, child, report_dir, depth + 1, err);
        } else if (stat(child, &st) == 0 && S_ISREG(st.st_mode) && is_video_name(names[i])) {
            rc = add_video_file(report, child, report_dir, err);
        }
        free(child);
    }
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    return rc;
}

int vb_report_add_videos(vb_report *report, const char *const *paths, int num_paths,
                         const char *report_dir, vb_error *err)
{
    walk_seen seen = {0};
    int rc = 0;
    for (int i = 0; i < num_paths && !rc; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            rc = vb_error_set(err, VB_ENOTFOUND, "%s: no such file or directory", paths[i]);
            break;
        }
        if (!S_ISDIR(st.st_mode)) {
            rc = add_video_file(report, paths[i], report_dir, err);
            continue;
        }
        int fresh = walk_seen_add(&seen, st.st_dev, st.st_ino);
        if (fresh < 0)
            rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", paths[i]);
        else if (fresh)
            rc = add_video_dir(report, &seen, paths[i], report_dir, 0, err);
    }
    free(seen.keys);
    free(seen.used);
    return rc;
}

/* ---- derived parts ---- */

static int compare_clips(const void *a, const void *b)
{
    return strcmp(((const vb_report_clip *)a)->video_id, ((const vb_report_clip *)b)->video_id);
}

static int compare_class_counts(const void *a, const void *b)
{
    const vb_report_class_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->label, y->label);
}

static int compare_confusions(const void *a, const void *b)
{
    const vb_report_confusion *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    int c = strcmp(x->truth, y->truth);
    return c ? c : strcmp(x->predicted, y->predicted);
}

static int compare_class_accuracy(const void *a, const void *b)
{
    return strcmp(((const vb_report_class_accuracy *)a)->label, ((const vb_report_class_accuracy *)b)->label);
}

/* Distinct labels of the chosen clips with their counts. n is small enough (bounded by the
 * clip count) that a sort then a scan is the simplest correct approach. */
static int count_classes(vb_report *report, int local_only, vb_error *err)
{
    const char **labels = malloc(((size_t)report->num_clips + 1) * sizeof *labels);
    if (!labels)
        return vb_error_set(err, VB_ENOMEM, "report: out of memory");
    int n = 0;
    for (int i = 0; i < report->num_clips; i++)
        if (report->clips[i].label && (!local_only || report->clips[i].video_path))
            labels[n++] = report->clips[i].label;
    qsort(labels, (size_t)n, sizeof *labels, compare_names);
    vb_report_class_count *classes = malloc(((size_t)n + 1) * sizeof *classes);
    if (!classes) {
        free(labels);
        return vb_error_set(err, VB_ENOMEM, "report: out of memory");
    }
    int num_classes = 0;
    for (int i = 0; i < n; i++) {
        if (num_classes > 0 && !strcmp(classes[num_classes - 1].label, labels[i]))
            classes[num_classes - 1].count++;
        else
            classes[num_classes++] = (vb_report_class_count){labels[i], 1};
    }
    qsort(classes, (size_t)num_classes, sizeof *classes, compare_class_counts);
    free(report->dataset.classes);
    report->dataset.classes = classes;
    report->dataset.num_classes = num_classes;
    report->dataset.classes_source = local_only ? "local clips" : "results CSV rows";

    /* Missing: label-map classes that no counted clip has (binary search in labels). */
    free(report->dataset.missing_classes);
    report->dataset.missing_classes = NULL;
    report->dataset.num_missing_classes = 0;
    if (report->dataset.label_map_count > 0) {
        report->dataset.missing_classes = malloc((size_t)report->dataset.label_map_count * sizeof(char *));
        if (!report->dataset.missing_classes) {
            free(labels);
            return vb_error_set(err, VB_ENOMEM, "report: out of memory");
        }
        for (int i = 0; i < report->dataset.label_map_count; i++) {
            const char *name = report->dataset.label_map[i];
            if (!bsearch(&name, labels, (size_t)n, sizeof *labels, compare_names))
                report->dataset.missing_classes[report->dataset.num_missing_classes++] = name;
        }
    }
    free(labels);
    return 0;
}

static int clip_correct_at(const vb_report_clip *clip, int top)
{
    for (int k = 0; k < clip->num_predictions && k < top; k++)
        if (clip->pred_labels[k] && !strcmp(clip->pred_labels[k], clip->label))
            return 1;
    return 0;
}

/* Metrics from the CSV's predictions, the seed's definitions: top-1 = first prediction
 * equals the ground truth, top-N = ground truth among the N predictions. */
static int compute_metrics(vb_report *report, vb_error *err)
{
    vb_report_evaluation *ev = &report->evaluation;
    int evaluated = 0, correct1 = 0, correctn = 0, top_n = 0;
    for (int i = 0; i < report->num_clips; i++) {
        const vb_report_clip *clip = &report->clips[i];
        if (!clip->num_predictions || !clip->label)
            continue;
        evaluated++;
        correct1 += clip_correct_at(clip, 1);
        correctn += clip_correct_at(clip, clip->num_predictions);
        if (clip->num_predictions > top_n)
            top_n = clip->num_predictions;
    }
    if (!evaluated)
        return 0;
    int from_summary = ev->present;
    if (!from_summary) {
        ev->present = 1;
        ev->source = "results CSV";
    }
    /* The summary's figures win (they count skipped clips too); the CSV fills the gaps. */
    if (ev->evaluated <= 0)
        ev->evaluated = evaluated;
    if (ev->top_n <= 0)
        ev->top_n = top_n;
    if (ev->top1 < 0) {
        ev->top1 = (double)correct1 / evaluated;
        if (from_summary)
            ev->source = "results CSV (counts and timing: summary.json)";
    }
    if (ev->topn < 0)
        ev->topn = (double)correctn / evaluated;

    /* Per-class table and confusions, unless the summary supplied them. */
    if (!ev->classes) { /* the summary did not list them */
        vb_report_class_accuracy *classes = malloc((size_t)evaluated * sizeof *classes);
        if (!classes)
            return vb_error_set(err, VB_ENOMEM, "report: out of memory");
        int n = 0;
        for (int i = 0; i < report->num_clips; i++) {
            const vb_report_clip *clip = &report->clips[i];
            if (clip->num_predictions && clip->label)
                classes[n++] = (vb_report_class_accuracy){clip->label, 1, clip_correct_at(clip, 1), 0};
        }
        qsort(classes, (size_t)n, sizeof *classes, compare_class_accuracy);
        int m = 0;
        for (int i = 0; i < n; i++) {
            if (m > 0 && !strcmp(classes[m - 1].label, classes[i].label)) {
                classes[m - 1].total++;
                classes[m - 1].correct += classes[i].correct;
            } else {
                classes[m++] = classes[i];
            }
        }
        ev->classes = classes;
        ev->num_classes = m;
        if (ev->mean_class_accuracy < 0 && m > 0) {
            double sum = 0;
            for (int i = 0; i < m; i++)
                sum += (double)classes[i].correct / classes[i].total;
            ev->mean_class_accuracy = sum / m;
        }
    }
    if (!ev->confusions) { /* the summary did not list them */
        vb_report_confusion *pairs = malloc((size_t)evaluated * sizeof *pairs);
        if (!pairs)
            return vb_error_set(err, VB_ENOMEM, "report: out of memory");
        int n = 0;
        for (int i = 0; i < report->num_clips; i++) {
            const vb_report_clip *clip = &report->clips[i];
            if (clip->num_predictions && clip->label && clip->pred_labels[0] &&
                strcmp(clip->label, clip->pred_labels[0]))
                pairs[n++] = (vb_report_confusion){clip->label, clip->pred_labels[0], 1};
        }
        /* Sort by name, merge equal pairs, then order by count. */
        for (int i = 0; i < n; i++)
            pairs[i].count = 1;
        qsort(pairs, (size_t)n, sizeof *pairs, compare_confusions);
        int m = 0;
        for (int i = 0; i < n; i++) {
            if (m > 0 && !strcmp(pairs[m - 1].truth, pairs[i].truth) &&
                !strcmp(pairs[m - 1].predicted, pairs[i].predicted))
                pairs[m - 1].count++;
            else
                pairs[m++] = pairs[i];
        }
        qsort(pairs, (size_t)m, sizeof *pairs, compare_confusions);
        ev->confusions = pairs;
        ev->num_confusions = m < MAX_CONFUSIONS ? m : MAX_CONFUSIONS;
    }
    return 0;
}

/* The Compare section links each listed disagreement to its sample row: those clips join
 * the sample after the ordinary picks. */
static int add_disagreements_to_sample(vb_report *report, vb_error *err)
{
    const vb_compare *cmp = report->compare;
    if (!cmp)
        return 0;
    for (int p = 0; p < cmp->num_pairs; p++) {
        const vb_compare_pair *pair = &cmp->pairs[p];
        for (long i = 0; i < pair->num_disagree && i < REPORT_MAX_DISAGREEMENTS; i++) {
            const vb_report_clip *clip = vb_report_clip_find(report, cmp->clips[pair->disagree[i]].video_id);
            if (!clip)
                continue; /* not a row of the first CSV: listed without a link */
            int index = (int)(clip - report->clips), present = 0;
            for (int s = 0; s < report->num_sample && !present; s++)
                present = report->sample[s] == index;
            if (present)
                continue;
            int *grown = realloc(report->sample, ((size_t)report->num_sample + 1) * sizeof *grown);
            if (!grown)
                return vb_error_set(err, VB_ENOMEM, "report: out of memory");
            report->sample = grown;
            report->sample[report->num_sample++] = index;
        }
    }
    return 0;
}

int vb_report_finish(vb_report *report, int sample_size, vb_error *err)
{
    if (report->num_clips > 1) /* clips is NULL when only a summary was read */
        qsort(report->clips, (size_t)report->num_clips, sizeof *report->clips, compare_clips);
    if (report->slot_capacity && rebuild_index(report, report->slot_capacity))
        return vb_error_set(err, VB_ENOMEM, "report: out of memory for the clip index");

    int num_local = 0;
    for (int i = 0; i < report->num_clips; i++)
        num_local += report->clips[i].video_path != NULL;

    /* Sample: local clips first (they can be played), in name order. */
    free(report->sample);
    report->sample = NULL;
    report->num_sample = 0;
    if (sample_size > 0 && report->num_clips > 0) {
        int n = sample_size < report->num_clips ? sample_size : report->num_clips;
        report->sample = malloc((size_t)n * sizeof *report->sample);
        if (!report->sample)
            return vb_error_set(err, VB_ENOMEM, "report: out of memory");
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < report->num_clips && report->num_sample < n; i++)
                if ((report->clips[i].video_path != NULL) == (pass == 0))
                    report->sample[report->num_sample++] = i;
    }

    int rc = add_disagreements_to_sample(report, err);
    if (rc)
        return rc;
    if (report->dataset.num_classes == 0) {
        rc = count_classes(report, num_local > 0, err);
        if (rc)
            return rc;
    }
    return compute_metrics(report, err);
}
