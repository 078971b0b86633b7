/* The SQLite results store of one evaluation (or one shard): identity, class names, the
 * selection of clips this store is responsible for, and one row per finished clip with its
 * probability vector. WAL mode; a batch of rows is one transaction, so a killed run loses
 * at most the batch in flight. Internal to src/eval. */
#ifndef VB_EVAL_STORE_H
#define VB_EVAL_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "vidbench/error.h"

typedef struct eval_store eval_store;

enum { EVAL_STORE_MISSING = -1, EVAL_STORE_OK = 0, EVAL_STORE_SKIPPED = 1 };

/* What a store read back may claim: the same bounds as --shard and --num_videos. */
#define EVAL_STORE_MAX_SHARDS 1000000L
#define EVAL_STORE_MAX_SELECTION 100000000L

/* One finished clip. probs is NULL for skipped clips. */
typedef struct eval_store_row {
    long ordinal;             /* position in the whole (unsharded) selection; a partition
                                 shard's: the clip's sort key (vb_eval_partition_sort_key) */
    const char *clip_id;
    const char *youtube_id;
    const char *label;        /* NULL when unlabelled */
    int status;               /* EVAL_STORE_OK, EVAL_STORE_SKIPPED (EVAL_STORE_MISSING on visit) */
    const char *reason;       /* skipped: why */
    const float *probs;       /* [num_classes] */
    double decode_ms, preprocess_ms, model_ms;
} eval_store_row;

/* Bits of a partition sort key below the partition index. */
#define EVAL_STORE_RANK_BITS 20

/* Identity stored once: the run is resumed only when these agree. */
typedef struct eval_store_identity {
    const char *fingerprint;
    int num_classes;
    const char *const *class_names;
    int shard_index, shard_count;
    int by_partition;         /* 1: a partition shard (meta shard_by=partition) */
    long selection_total;     /* clips in the whole selection (all shards); a partition
                                 shard's: its own clips */
} eval_store_identity;

/* Opens (creating) path. overwrite deletes an existing store first. */
int eval_store_open(const char *path, int overwrite, eval_store **store, vb_error *err);
void eval_store_free(eval_store **store);

/* First run: records identity. Later runs: VB_ESTATE unless fingerprint, classes and shard
 * agree (selection_total is updated: --num_videos may grow). */
int eval_store_bind(eval_store *store, const eval_store_identity *id, vb_error *err);

/* Replaces the selection list (ordinal, clip id) this store covers. */
int eval_store_set_selection(eval_store *store, const long *ordinals, const char *const *clip_ids,
                           size_t count, vb_error *err);

/* 1 if clip_id already has a row, 0 if not. */
int eval_store_has(eval_store *store, const char *clip_id, vb_error *err);

/* Commits rows in one transaction. */
int eval_store_commit_rows(eval_store *store, const eval_store_row *rows, size_t count,
                         vb_error *err);

/* Reads the identity back (owned by info; free with eval_store_info_free). */
typedef struct eval_store_info {
    char *fingerprint;
    int num_classes;
    char **class_names;
    int shard_index, shard_count;
    int by_partition;         /* meta shard_by: absent or 'clip' 0, 'partition' 1 */
    long selection_total;
} eval_store_info;
int eval_store_info_read(eval_store *store, eval_store_info *info, vb_error *err);
void eval_store_info_free(eval_store_info *info);

/* Number of (ordinal, clip id) rows in the selection table: what the store really holds. */
int eval_store_selection_count(eval_store *store, long *count, vb_error *err);

/* Visits the rows of the selection in ordinal order; missing rows are reported with
 * status -1 (clip_id set, everything else empty). probs valid during the call only. */
typedef int (*eval_store_visit_fn)(void *user, const eval_store_row *row, vb_error *err);
int eval_store_visit_selection(eval_store *store, eval_store_visit_fn visit, void *user,
                             vb_error *err);

#endif
