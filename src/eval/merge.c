/* Merging shard stores into one: every shard 0..N-1 exactly once, one configuration, every
 * clip finished, no clip in two shards and none missing. Clip shards fill the positions
 * 0..total-1 between them; partition shards each hold their own partitions' clips under sort
 * keys (partition << 20 | rank) and are put in key order. The result is an ordinary unsharded
 * store, so outputs are written from it like from a single run. */
#include "vidbench/eval.h"
#include "eval/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct merged_row {
    long ordinal;
    char *clip_id, *youtube_id, *label, *reason;
    int status;
    int shard_index;          /* which shard delivered it (for messages) */
    float *probs;
    double decode_ms, preprocess_ms, model_ms;
} merged_row;

typedef struct {
    const char *path;
    int shard_index, shard_count, num_classes;
    int by_partition;
    merged_row *rows;         /* clip shards: indexed by ordinal, [selection_total];
                                 partition shards: appended, [total] */
    long total;               /* clip shards: the whole selection; partition: rows so far */
    long capacity;            /* partition shards: rows allocated */
    long *owner;              /* [total] shard that delivered each ordinal, -1 none (clip shards) */
} merge_state;

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int collect_row(void *user, const eval_store_row *row, vb_error *err)
{
    merge_state *m = user;
    if (row->status == EVAL_STORE_MISSING)
        return vb_error_set(err, VB_ESTATE, "%s: shard %d/%d is unfinished: clip '%s' (position %ld) "
                            "has no result (re-run that shard)", m->path, m->shard_index,
                            m->shard_count, row->clip_id, row->ordinal);
    merged_row *r;
    if (m->by_partition) {
        /* the key's partition must be one this shard owns (vb_partition_shard) */
        const long partition = row->ordinal >= 0 ? row->ordinal >> EVAL_STORE_RANK_BITS : -1;
        if (partition < 0 || vb_partition_shard((size_t)partition, m->shard_count) != m->shard_index)
            return vb_error_set(err, VB_ESTATE, "%s: clip '%s' (key %ld, partition %ld) does not belong to "
                                "partition shard %d/%d", m->path, row->clip_id, row->ordinal, partition,
                                m->shard_index, m->shard_count);
        if (m->total >= m->capacity)   /* sized from the checked selection count */
            return vb_error_set(err, VB_EFORMAT, "%s: more rows than its selection lists", m->path);
        r = &m->rows[m->total++];
        memset(r, 0, sizeof *r);
    } else {
        if (row->ordinal < 0 || row->ordinal >= m->total ||
            row->ordinal % m->shard_count != m->shard_index)
            return vb_error_set(err, VB_ESTATE, "%s: clip '%s' at position %ld does not belong to shard %d/%d",
                                m->path, row->clip_id, row->ordinal, m->shard_index, m->shard_count);
        if (m->owner[row->ordinal] >= 0)
            return vb_error_set(err, VB_ESTATE, "%s: position %ld ('%s') is also in shard %ld: shards overlap",
                                m->path, row->ordinal, row->clip_id, m->owner[row->ordinal]);
        m->owner[row->ordinal] = m->shard_index;
        r = &m->rows[row->ordinal];
    }
    r->ordinal = row->ordinal;
    r->status = row->status;
    r->clip_id = dup_or_null(row->clip_id);
    r->youtube_id = dup_or_null(row->youtube_id);
    r->label = dup_or_null(row->label);
    r->reason = dup_or_null(row->reason);
    r->decode_ms = row->decode_ms;
    r->preprocess_ms = row->preprocess_ms;
    r->model_ms = row->model_ms;
    if (row->probs) {
        r->probs = malloc((size_t)m->num_classes * sizeof(float));
        if (r->probs)
            memcpy(r->probs, row->probs, (size_t)m->num_classes * sizeof(float));
    }
    r->shard_index = m->shard_index;
    if (!r->clip_id || (row->probs && !r->probs))
        return vb_error_set(err, VB_ENOMEM, "merge: %s: out of memory", m->path);
    return 0;
}

long vb_eval_partition_sort_key(size_t partition, size_t rank)
{
    if (rank >= ((size_t)1 << EVAL_STORE_RANK_BITS) || partition >= ((size_t)1 << 40))
        return -1;
    return (long)(partition << EVAL_STORE_RANK_BITS | rank);
}

static int by_ordinal(const void *a, const void *b)
{
    const merged_row *x = a, *y = b;
    return (x->ordinal > y->ordinal) - (x->ordinal < y->ordinal);
}

static int by_clip_id(const void *a, const void *b)
{
    return strcmp((*(const merged_row *const *)a)->clip_id, (*(const merged_row *const *)b)->clip_id);
}

/* Partition shards: key order is the unsharded listing's order. Two rows with one key, or one
 * clip id in two shards, mean the shards overlap (a partition evaluated twice). */
static int order_partition_rows(merge_state *m, vb_error *err)
{
    qsort(m->rows, (size_t)m->total, sizeof *m->rows, by_ordinal);
    for (long k = 1; k < m->total; k++)
        if (m->rows[k].ordinal == m->rows[k - 1].ordinal)
            return vb_error_set(err, VB_ESTATE, "merge: key %ld ('%s') is in shard %d and shard %d: shards overlap",
                                m->rows[k].ordinal, m->rows[k].clip_id, m->rows[k - 1].shard_index,
                                m->rows[k].shard_index);
    const merged_row **ids = malloc(((size_t)m->total + 1) * sizeof *ids);
    if (!ids)
        return vb_error_set(err, VB_ENOMEM, "merge: out of memory");
    for (long k = 0; k < m->total; k++)
        ids[k] = &m->rows[k];
    qsort(ids, (size_t)m->total, sizeof *ids, by_clip_id);
    int rc = 0;
    for (long k = 1; k < m->total && !rc; k++)
        if (!strcmp(ids[k]->clip_id, ids[k - 1]->clip_id))
            rc = vb_error_set(err, VB_ESTATE, "merge: clip '%s' is in shard %d and shard %d: shards overlap",
                              ids[k]->clip_id, ids[k - 1]->shard_index, ids[k]->shard_index);
    free(ids);
    return rc;
}

/* The arrays below are sized by selection_total, a number the store only claims: before
 * trusting it, it must agree with the selection rows the store really holds (shard i of N
 * covers exactly the positions k < total with k mod N == i). */
static int check_selection_size(eval_store *store, const char *path, const eval_store_info *info, vb_error *err)
{
    long rows = 0;
    int rc = eval_store_selection_count(store, &rows, err);
    if (rc)
        return rc;
    const long total = info->selection_total, n = info->shard_count, i = info->shard_index;
    /* a partition shard's total is its own */
    const long expected = info->by_partition ? total : total > i ? (total - 1 - i) / n + 1 : 0;
    if (rows != expected)
        return vb_error_set(err, VB_EFORMAT, "%s: results store field 'selection_total' (%ld clips in %ld shards) "
                            "means %ld clips for shard %ld, but its selection lists %ld", path, total, n,
                            expected, i, rows);
    return 0;
}

int vb_eval_merge(const char *const *paths, int count, const char *out_path, vb_error *err)
{
    if (count < 1)
        return vb_error_set(err, VB_EINVAL, "merge: no shard stores given");
    for (int i = 0; i < count; i++)
        if (!strcmp(paths[i], out_path))
            return vb_error_set(err, VB_EINVAL, "merge: output %s is also an input", out_path);
    eval_store_info first = {0};
    merge_state m = {0};
    int *seen = NULL;
    int rc = 0;
    for (int i = 0; i < count && !rc; i++) {
        eval_store *store = NULL;
        eval_store_info info = {0};
        rc = eval_store_open(paths[i], 0, &store, err);
        if (!rc)
            rc = eval_store_info_read(store, &info, err);
        if (!rc)
            rc = check_selection_size(store, paths[i], &info, err);
        if (!rc && i == 0) {
            first = info;
            memset(&info, 0, sizeof info);
            m.by_partition = first.by_partition;
            m.total = m.by_partition ? 0 : first.selection_total;
            m.num_classes = first.num_classes;
            if (!m.by_partition) {
                m.rows = calloc((size_t)m.total + 1, sizeof *m.rows);
                m.owner = malloc(((size_t)m.total + 1) * sizeof *m.owner);
            }
            seen = calloc((size_t)first.shard_count, sizeof *seen);
            if ((!m.by_partition && (!m.rows || !m.owner)) || !seen)
                rc = vb_error_set(err, VB_ENOMEM, "merge: %s: out of memory for a selection of %ld clips in %d shards",
                                  paths[i], m.total, first.shard_count);
            for (long k = 0; !rc && k < m.total; k++)
                m.owner[k] = -1;
        }
        const eval_store_info *cur = i == 0 ? &first : &info;
        if (!rc && i > 0) {
            if (strcmp(info.fingerprint, first.fingerprint))
                rc = vb_error_set(err, VB_ESTATE, "%s: another configuration (%s) than %s (%s)",
                                  paths[i], info.fingerprint, paths[0], first.fingerprint);
            else if (info.shard_count != first.shard_count)
                rc = vb_error_set(err, VB_ESTATE, "%s: shard of %d, %s is a shard of %d", paths[i],
                                  info.shard_count, paths[0], first.shard_count);
            else if (info.by_partition != first.by_partition)
                rc = vb_error_set(err, VB_ESTATE, "%s: sharded by %s, %s by %s: not shards of one run", paths[i],
                                  info.by_partition ? "partition" : "clip", paths[0],
                                  first.by_partition ? "partition" : "clip");
            else if (!first.by_partition && info.selection_total != first.selection_total)
                rc = vb_error_set(err, VB_ESTATE, "%s: selection of %ld clips, %s has %ld", paths[i],
                                  info.selection_total, paths[0], first.selection_total);
            else if (info.num_classes != first.num_classes)
                rc = vb_error_set(err, VB_ESTATE, "%s: %d classes, %s has %d", paths[i],
                                  info.num_classes, paths[0], first.num_classes);
            for (int c = 0; !rc && c < info.num_classes; c++)
                if (strcmp(info.class_names[c], first.class_names[c]))
                    rc = vb_error_set(err, VB_ESTATE, "%s: class %d is '%s', in %s '%s'", paths[i], c,
                                      info.class_names[c], paths[0], first.class_names[c]);
        }
        if (!rc && seen[cur->shard_index]++)
            rc = vb_error_set(err, VB_ESTATE, "%s: shard %d/%d given twice: shards overlap", paths[i],
                              cur->shard_index, cur->shard_count);
        if (!rc && m.by_partition) {   /* room for this shard's checked selection */
            merged_row *grown = realloc(m.rows, ((size_t)m.total + (size_t)cur->selection_total + 1) * sizeof *grown);
            if (!grown)
                rc = vb_error_set(err, VB_ENOMEM, "merge: %s: out of memory for %ld more clips", paths[i],
                                  cur->selection_total);
            else
                m.rows = grown;
            m.capacity = m.total + cur->selection_total;
        }
        if (!rc) {
            m.path = paths[i];
            m.shard_index = cur->shard_index;
            m.shard_count = cur->shard_count;
            rc = eval_store_visit_selection(store, collect_row, &m, err);
        }
        eval_store_info_free(&info);
        eval_store_free(&store);
    }
    for (int s = 0; !rc && s < first.shard_count; s++)
        if (!seen[s])
            rc = vb_error_set(err, VB_ESTATE, "merge: shard %d/%d is missing: a gap", s, first.shard_count);
    for (long k = 0; !rc && !m.by_partition && k < m.total; k++)
        if (m.owner[k] < 0)
            rc = vb_error_set(err, VB_ESTATE, "merge: position %ld of the selection is in no shard: a gap", k);
    if (!rc && m.by_partition)
        rc = order_partition_rows(&m, err);
    eval_store *out = NULL;
    long *ordinals = NULL;
    const char **ids = NULL;
    eval_store_row *rows = NULL;
    if (!rc)
        rc = eval_store_open(out_path, 1, &out, err);
    if (!rc) {
        eval_store_identity id = {
            .fingerprint = first.fingerprint,
            .num_classes = first.num_classes,
            .class_names = (const char *const *)first.class_names,
            .shard_index = 0,
            .shard_count = 1,
            .selection_total = m.total,
        };
        rc = eval_store_bind(out, &id, err);
    }
    if (!rc) {
        ordinals = malloc(((size_t)m.total + 1) * sizeof *ordinals);
        ids = malloc(((size_t)m.total + 1) * sizeof *ids);
        rows = calloc((size_t)m.total + 1, sizeof *rows);
        if (!ordinals || !ids || !rows)
            rc = vb_error_set(err, VB_ENOMEM, "merge: out of memory");
    }
    for (long k = 0; !rc && k < m.total; k++) {
        const merged_row *r = &m.rows[k];
        ordinals[k] = k;
        ids[k] = r->clip_id;
        rows[k] = (eval_store_row){
            .ordinal = k, .clip_id = r->clip_id, .youtube_id = r->youtube_id, .label = r->label,
            .status = r->status, .reason = r->reason, .probs = r->probs,
            .decode_ms = r->decode_ms, .preprocess_ms = r->preprocess_ms, .model_ms = r->model_ms,
        };
    }
    if (!rc)
        rc = eval_store_set_selection(out, ordinals, ids, (size_t)m.total, err);
    if (!rc)
        rc = eval_store_commit_rows(out, rows, (size_t)m.total, err);
    eval_store_free(&out);
    free(ordinals);
    free(ids);
    free(rows);
    if (m.rows)
        for (long k = 0; k < m.total; k++) {
            free(m.rows[k].clip_id);
            free(m.rows[k].youtube_id);
            free(m.rows[k].label);
            free(m.rows[k].reason);
            free(m.rows[k].probs);
        }
    free(m.rows);
    free(m.owner);
    free(seen);
    eval_store_info_free(&first);
    return rc;
}
