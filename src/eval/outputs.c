/* Outputs made from a results store alone: the seed's CSV (video_id, YouTube_Id,
 * Ground_Truth, pred_1..N, score_1..N), the metrics, and summary.json. Both files are
 * written atomically, so a reader sees the old or the new version, never half of one. */
#include "vidbench/eval.h"
#include "eval/store.h"
#include "common/fsutil.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONFUSED 20

void vb_eval_summary_free(vb_eval_summary *summary)
{
    if (!summary)
        return;
    free(summary->classes);
    free(summary->confused);
    summary->classes = NULL;
    summary->confused = NULL;
    summary->class_count = summary->confused_count = 0;
}

/* Indices of the n largest probabilities, largest first; ties keep the lower class id. */
static void top_indices(const float *probs, int classes, int n, int *out)
{
    for (int k = 0; k < n; k++) {
        int best = -1;
        for (int c = 0; c < classes; c++) {
            int taken = 0;
            for (int j = 0; j < k; j++)
                taken |= out[j] == c;
            if (!taken && (best < 0 || probs[c] > probs[best]))
                best = c;
        }
        out[k] = best;
    }
}

/* RFC 4180: quote a field holding a comma, quote or line break. */
static void csv_field(FILE *fp, const char *text)
{
    if (!strpbrk(text, ",\"\r\n")) {
        fputs(text, fp);
        return;
    }
    fputc('"', fp);
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            fputc('"', fp);
        fputc(*p, fp);
    }
    fputc('"', fp);
}

typedef struct {
    const eval_store_info *info;
    int top_n;
    FILE *csv;
    int *top;                 /* [top_n] */
    /* ground-truth classes in order of first appearance */
    vb_eval_class_accuracy *classes;
    int class_count, class_capacity;
    int *gt_model_index;      /* [class_capacity]: model class id of each gt class or -1 */
    long *confusion;          /* [class_capacity * num_classes] counts of (gt, predicted) */
    vb_eval_summary *summary;
    cJSON *skipped;
} outputs_state;

static int gt_class(outputs_state *st, const char *label, vb_error *err)
{
    for (int i = st->class_count - 1; i >= 0; i--)
        if (!strcmp(st->classes[i].name, label))
            return i;
    if (st->class_count == st->class_capacity) {
        int cap = st->class_capacity ? st->class_capacity * 2 : 64;
        size_t nc = (size_t)st->info->num_classes;
        vb_eval_class_accuracy *classes = realloc(st->classes, (size_t)cap * sizeof *classes);
        if (classes)
            st->classes = classes;
        int *idx = realloc(st->gt_model_index, (size_t)cap * sizeof *idx);
        if (idx)
            st->gt_model_index = idx;
        long *conf = realloc(st->confusion, (size_t)cap * nc * sizeof *conf);
        if (conf)
            st->confusion = conf;
        if (!classes || !idx || !conf)
            return vb_error_set(err, VB_ENOMEM, "metrics: out of memory");
        memset(st->confusion + (size_t)st->class_capacity * nc, 0,
               (size_t)(cap - st->class_capacity) * nc * sizeof *conf);
        st->class_capacity = cap;
    }
    int i = st->class_count++;
    memset(&st->classes[i], 0, sizeof st->classes[i]);
    snprintf(st->classes[i].name, sizeof st->classes[i].name, "%s", label);
    st->gt_model_index[i] = -1;
    for (int c = 0; c < st->info->num_classes; c++)
        if (!strcmp(st->info->class_names[c], label)) {
            st->gt_model_index[i] = c;
            break;
        }
    st->classes[i].in_model = st->gt_model_index[i] >= 0;
    return i;
}

static int visit_row(void *user, const eval_store_row *row, vb_error *err)
{
    outputs_state *st = user;
    vb_eval_summary *sum = st->summary;
    sum->clips_selected++;
    if (row->status == EVAL_STORE_MISSING) {
        sum->clips_missing++;
        return 0;
    }
    sum->decode_ms += row->decode_ms;
    sum->preprocess_ms += row->preprocess_ms;
    sum->model_ms += row->model_ms;
    if (row->status == EVAL_STORE_SKIPPED) {
        sum->clips_skipped++;
        cJSON *item = cJSON_CreateObject();
        if (!item || !cJSON_AddStringToObject(item, "clip_id", row->clip_id) ||
            !cJSON_AddStringToObject(item, "reason", row->reason ? row->reason : "")) {
            cJSON_Delete(item);
            return vb_error_set(err, VB_ENOMEM, "summary: out of memory");
        }
        cJSON_AddItemToArray(st->skipped, item);
        return 0;
    }
    sum->clips_evaluated++;
    const int classes = st->info->num_classes;
    top_indices(row->probs, classes, st->top_n, st->top);
    if (st->csv) {
        csv_field(st->csv, row->clip_id);
        fputc(',', st->csv);
        csv_field(st->csv, row->youtube_id ? row->youtube_id : "");
        fputc(',', st->csv);
        csv_field(st->csv, row->label ? row->label : "");
        for (int k = 0; k < st->top_n; k++) {
            fputc(',', st->csv);
            csv_field(st->csv, st->info->class_names[st->top[k]]);
        }
        /* %.9g round-trips a float32 exactly. */
        for (int k = 0; k < st->top_n; k++)
            fprintf(st->csv, ",%.9g", (double)row->probs[st->top[k]]);
        fputc('\n', st->csv);
    }
    if (!row->label)
        return 0;
    sum->labelled++;
    int g = gt_class(st, row->label, err);
    if (g < 0)
        return g;
    vb_eval_class_accuracy *cls = &st->classes[g];
    cls->clips++;
    if (!cls->in_model)
        sum->label_not_in_model++;
    int truth = st->gt_model_index[g];
    int hit1 = truth >= 0 && st->top[0] == truth;
    int hitn = 0;
    for (int k = 0; k < st->top_n; k++)
        hitn |= truth >= 0 && st->top[k] == truth;
    cls->top1_correct += hit1;
    cls->topn_correct += hitn;
    sum->top1 += hit1;
    sum->topn += hitn;
    if (!hit1)
        st->confusion[(size_t)g * (size_t)classes + (size_t)st->top[0]]++;
    return 0;
}

static int compare_class_names(const void *a, const void *b)
{
    return strcmp(((const vb_eval_class_accuracy *)a)->name,
                  ((const vb_eval_class_accuracy *)b)->name);
}

static int compare_confusions(const void *a, const void *b)
{
    const vb_eval_confusion *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    int c = strcmp(x->truth, y->truth);
    return c ? c : strcmp(x->predicted, y->predicted);
}

/* Picks the most frequent confusions (ties by names) into the summary. */
static int collect_confusions(outputs_state *st, vb_error *err)
{
    const int classes = st->info->num_classes;
    size_t total = 0;
    for (size_t i = 0; i < (size_t)st->class_count * (size_t)classes; i++)
        total += st->confusion[i] > 0;
    if (total == 0)
        return 0;
    vb_eval_confusion *all = calloc(total, sizeof *all);
    if (!all)
        return vb_error_set(err, VB_ENOMEM, "metrics: out of memory");
    size_t n = 0;
    for (int g = 0; g < st->class_count; g++)
        for (int c = 0; c < classes; c++) {
            long count = st->confusion[(size_t)g * (size_t)classes + (size_t)c];
            if (!count)
                continue;
            snprintf(all[n].truth, sizeof all[n].truth, "%s", st->classes[g].name);
            snprintf(all[n].predicted, sizeof all[n].predicted, "%s", st->info->class_names[c]);
            all[n++].count = count;
        }
    qsort(all, n, sizeof *all, compare_confusions);
    st->summary->confused_count = (int)(n < MAX_CONFUSED ? n : MAX_CONFUSED);
    st->summary->confused = all;   /* only the first confused_count are read */
    return 0;
}

/* The configuration string's "key=value" tokens (vidbench evaluate writes "model=...
 * resize=crop frames=100 ...") as an object, integers as numbers, so that readers of
 * summary.json need not parse the string. Tokens without '=' are left out. */
static cJSON *parameters_json(const char *configuration)
{
    cJSON *parameters = cJSON_CreateObject();
    const char *p = configuration;
    while (parameters && *p) {
        while (*p == ' ')
            p++;
        size_t length = strcspn(p, " ");
        const char *equals = memchr(p, '=', length);
        if (equals && equals > p && length < 512) {
            char key[512], value[512];
            snprintf(key, sizeof key, "%.*s", (int)(equals - p), p);
            snprintf(value, sizeof value, "%.*s", (int)(p + length - equals - 1), equals + 1);
            char *end = NULL;
            long long number = strtoll(value, &end, 10);
            if (value[0] && *end == '\0' && llabs(number) < (1LL << 53))
                cJSON_AddNumberToObject(parameters, key, (double)number);
            else
                cJSON_AddStringToObject(parameters, key, value);
        }
        p += length;
    }
    return parameters;
}

static cJSON *summary_json(const vb_eval_summary *s, const eval_store_info *info,
                           const char *csv_path, cJSON *skipped)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddStringToObject(root, "configuration", info->fingerprint);
    cJSON *parameters = parameters_json(info->fingerprint);
    if (parameters) {
        /* the frames and crop the model saw, as plain fields (the report's previews use them) */
        const cJSON *frames = cJSON_GetObjectItemCaseSensitive(parameters, "frames");
        const cJSON *resize = cJSON_GetObjectItemCaseSensitive(parameters, "resize");
        if (cJSON_IsNumber(frames))
            cJSON_AddNumberToObject(root, "num_frames", frames->valuedouble);
        if (cJSON_IsString(resize))
            cJSON_AddStringToObject(root, "resize", resize->valuestring);
        cJSON_AddItemToObject(root, "parameters", parameters);
    }
    cJSON_AddStringToObject(root, "csv", csv_path ? csv_path : "");
    cJSON_AddNumberToObject(root, "num_classes", info->num_classes);
    cJSON *clips = cJSON_AddObjectToObject(root, "clips");
    cJSON_AddNumberToObject(clips, "selected", (double)s->clips_selected);
    cJSON_AddNumberToObject(clips, "evaluated", (double)s->clips_evaluated);
    cJSON_AddNumberToObject(clips, "skipped", (double)s->clips_skipped);
    cJSON_AddNumberToObject(clips, "missing", (double)s->clips_missing);
    cJSON_AddNumberToObject(clips, "labelled", (double)s->labelled);
    cJSON_AddNumberToObject(clips, "label_not_in_model", (double)s->label_not_in_model);
    cJSON_AddNumberToObject(clips, "from_earlier_runs", (double)s->clips_from_earlier_runs);
    cJSON_AddNumberToObject(root, "top_n", s->top_n);
    cJSON_AddNumberToObject(root, "top1_accuracy", s->top1);
    cJSON_AddNumberToObject(root, "topn_accuracy", s->topn);
    cJSON_AddNumberToObject(root, "mean_class_accuracy", s->mean_class_accuracy);
    cJSON *timing = cJSON_AddObjectToObject(root, "timing");
    cJSON_AddNumberToObject(timing, "decode_ms", s->decode_ms);
    cJSON_AddNumberToObject(timing, "preprocess_ms", s->preprocess_ms);
    cJSON_AddNumberToObject(timing, "model_ms", s->model_ms);
    double n = s->clips_evaluated + s->clips_skipped;
    cJSON_AddNumberToObject(timing, "decode_ms_per_clip", n > 0 ? s->decode_ms / n : 0);
    cJSON_AddNumberToObject(timing, "preprocess_ms_per_clip", n > 0 ? s->preprocess_ms / n : 0);
    cJSON_AddNumberToObject(timing, "model_ms_per_clip",
                            s->clips_evaluated > 0 ? s->model_ms / (double)s->clips_evaluated : 0);
    cJSON_AddNumberToObject(timing, "wall_s_this_run", s->wall_s);
    cJSON_AddNumberToObject(timing, "clips_this_run", (double)s->clips_this_run);
    cJSON_AddNumberToObject(timing, "clips_per_s_this_run", s->clips_per_s);
    cJSON *per_class = cJSON_AddArrayToObject(root, "per_class");
    for (int i = 0; i < s->class_count; i++) {
        const vb_eval_class_accuracy *c = &s->classes[i];
        cJSON *item = cJSON_CreateObject();
        cJSON_AddStringToObject(item, "class", c->name);
        cJSON_AddNumberToObject(item, "clips", (double)c->clips);
        cJSON_AddNumberToObject(item, "top1_correct", (double)c->top1_correct);
        cJSON_AddNumberToObject(item, "topn_correct", (double)c->topn_correct);
        cJSON_AddNumberToObject(item, "top1_accuracy", c->clips ? (double)c->top1_correct / c->clips : 0);
        cJSON_AddBoolToObject(item, "in_model", c->in_model);
        cJSON_AddItemToArray(per_class, item);
    }
    cJSON *confused = cJSON_AddArrayToObject(root, "most_confused");
    for (int i = 0; i < s->confused_count; i++) {
        cJSON *item = cJSON_CreateObject();
        cJSON_AddStringToObject(item, "true", s->confused[i].truth);
        cJSON_AddStringToObject(item, "predicted", s->confused[i].predicted);
        cJSON_AddNumberToObject(item, "count", (double)s->confused[i].count);
        cJSON_AddItemToArray(confused, item);
    }
    cJSON_AddItemToObject(root, "skipped", skipped);
    /* Cost of the model, for `vidbench compare`; left out when unknown (a merge has no model). */
    if (s->precision[0])
        cJSON_AddStringToObject(root, "precision", s->precision);
    if (s->gflop_per_clip > 0)
        cJSON_AddNumberToObject(root, "gflop_per_clip", s->gflop_per_clip);
    if (s->peak_rss_bytes > 0)
        cJSON_AddNumberToObject(root, "peak_rss_bytes", s->peak_rss_bytes);
    if (s->label_map[0])
        cJSON_AddStringToObject(root, "label_map", s->label_map);
    return root;
}

int vb_eval_write_outputs(const char *store_path, const char *csv_path,
                          const char *summary_path, int top_n, vb_eval_summary *summary,
                          vb_error *err)
{
    /* Run-level fields the caller measured survive; metrics are recomputed. */
    vb_eval_summary run = *summary;
    vb_eval_summary_free(summary);
    memset(summary, 0, sizeof *summary);
    summary->wall_s = run.wall_s;
    summary->clips_per_s = run.clips_per_s;
    summary->clips_this_run = run.clips_this_run;
    summary->clips_from_earlier_runs = run.clips_from_earlier_runs;
    summary->peak_rss_bytes = run.peak_rss_bytes;
    memcpy(summary->precision, run.precision, sizeof summary->precision);
    summary->gflop_per_clip = run.gflop_per_clip;
    memcpy(summary->label_map, run.label_map, sizeof summary->label_map);

    eval_store *store = NULL;
    eval_store_info info = {0};
    fs_atomic_file csv = {0};
    outputs_state st = {0};
    cJSON *json = NULL;
    int rc = eval_store_open(store_path, 0, &store, err);
    if (!rc)
        rc = eval_store_info_read(store, &info, err);
    if (rc)
        goto done;
    if (top_n < 1)
        top_n = 1;
    if (top_n > info.num_classes)
        top_n = info.num_classes;
    summary->top_n = top_n;
    st.info = &info;
    st.top_n = top_n;
    st.summary = summary;
    st.top = calloc((size_t)top_n, sizeof *st.top);
    st.skipped = cJSON_CreateArray();
    if (!st.top || !st.skipped) {
        rc = vb_error_set(err, VB_ENOMEM, "writing results: out of memory");
        goto done;
    }
    if (csv_path) {
        rc = fs_atomic_open(&csv, csv_path, err);
        if (rc)
            goto done;
        st.csv = csv.fp;
        fputs("video_id,YouTube_Id,Ground_Truth", st.csv);
        for (int k = 1; k <= top_n; k++)
            fprintf(st.csv, ",pred_%d", k);
        for (int k = 1; k <= top_n; k++)
            fprintf(st.csv, ",score_%d", k);
        fputc('\n', st.csv);
    }
    rc = eval_store_visit_selection(store, visit_row, &st, err);
    if (rc)
        goto done;
    if (summary->labelled > 0) {
        summary->top1 /= (double)summary->labelled;
        summary->topn /= (double)summary->labelled;
    }
    double class_sum = 0;
    for (int i = 0; i < st.class_count; i++)
        class_sum += (double)st.classes[i].top1_correct / (double)st.classes[i].clips;
    summary->mean_class_accuracy = st.class_count ? class_sum / st.class_count : 0;
    rc = collect_confusions(&st, err);
    if (rc)
        goto done;
    if (st.class_count) {
        qsort(st.classes, (size_t)st.class_count, sizeof *st.classes, compare_class_names);
        summary->classes = st.classes;
        summary->class_count = st.class_count;
        st.classes = NULL;
    }
    if (csv_path) {
        rc = fs_atomic_commit(&csv, err);
        if (rc)
            goto done;
    }
    if (summary_path) {
        json = summary_json(summary, &info, csv_path, st.skipped);
        if (json)
            st.skipped = NULL;   /* owned by json now */
        char *text = json ? cJSON_Print(json) : NULL;
        if (!text) {
            rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", summary_path);
            goto done;
        }
        size_t len = strlen(text);
        text[len] = '\n';   /* cJSON_Print's buffer ends in NUL: replace, no terminator needed */
        rc = fs_write_file_atomic(summary_path, text, len + 1, err);
        free(text);
    }
done:
    if (rc)
        fs_atomic_abort(&csv);
    cJSON_Delete(json);
    cJSON_Delete(st.skipped);
    free(st.top);
    free(st.classes);
    free(st.gt_model_index);
    free(st.confusion);
    eval_store_info_free(&info);
    eval_store_free(&store);
    return rc;
}
