/* Evaluation of a classifier on a list of labelled clips, seed-compatible (the Python kit's
 * `scripts/evaluate.py @scripts/config.txt`): argument files, a resumable SQLite results
 * store, the seed's CSV, metrics and summary.json, a decode/model pipeline, shards and merge.
 * The model and the clip loader sit behind small function-pointer tables so the loop can be
 * driven by any classifier (I3D, MoViNet, a test model). */
#ifndef VIDBENCH_EVAL_H
#define VIDBENCH_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include "vidbench/classifier.h"
#include "vidbench/dataset.h"
#include "vidbench/error.h"
#include "vidbench/video.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------
 * Configuration: the seed's flags plus ours. Strings are fixed buffers so a config is a
 * plain value the caller owns. */
#define VB_EVAL_PATH_BYTES 4096

typedef struct vb_eval_config {
    /* the seed's flags (defaults: the seed's scripts/config.txt values) */
    char model_type[16];          /* "i3d" | "movinet" */
    int model_trained_on;         /* 400 | 600 (--model_trained_on kinetics-400|kinetics-600) */
    int kinetics_version;         /* 400 | 600 | 700 */
    char kinetics_split[8];       /* "train" | "val" | "test" */
    long num_videos;              /* clips to evaluate; 0 = all available ("all") */
    int num_frames;               /* T per view; 0 = every frame (MoViNet only) */
    char results_dir[VB_EVAL_PATH_BYTES];
    int batch_size;               /* clips per model batch and per committed transaction */
    int top_n;
    int verbose_logging;
    int no_cuda;                  /* accepted for compatibility: vidbench runs on the CPU */
    int overwrite_output_dir;     /* discard stored results and start over */
    int overwrite_cache;          /* re-prepare cached clips */
    int min_frames;               /* skip clips with fewer decoded frames (the seed: 128) */
    /* ours */
    char data_dir[VB_EVAL_PATH_BYTES];   /* dataset root; "" = $VIDBENCH_DATA or data */
    char mirror[VB_EVAL_PATH_BYTES];     /* Kinetics mirror root; "" = the public one */
    int resize;                   /* vb_resize_mode, or -1 = the model's default */
    int num_clips;                /* temporal views per video (MMAction2 SampleFrames) */
    int num_crops;                /* spatial views: 1 (centre) or 3 (MMAction2 ThreeCrop) */
    int shard_index, shard_count; /* --shard i/N; 0/1 = unsharded */
    int shard_by;                 /* --shard_by: vb_eval_shard_by (VB_SHARD_BY_PARTITION) */
    int threads;                  /* 0 = automatic (vb_threads_resolve) */
    int precision;                /* vb_i3d_precision: auto (the weights file's own: fp32 for
                                     DeepMind's, int8 for a quantized file), fp32, bf16, int8 */
    char model[VB_EVAL_PATH_BYTES];      /* registry name; "" = from model_type/trained_on */
    char weights[VB_EVAL_PATH_BYTES];    /* explicit weights file (.safetensors | .tflite) */
    char labels[VB_EVAL_PATH_BYTES];     /* label map for --weights */
    char clips_file[VB_EVAL_PATH_BYTES]; /* --clips: CSV of path,label[,youtube_id] instead
                                            of the dataset manager */
} vb_eval_config;

/* How --shard i/N splits the dataset's clips. partition (the default): shard i downloads,
 * prepares and evaluates only the partitions p of the path list with p mod N == i
 * (vb_partition_shard), so N nodes download the dataset once between them; --num_videos must
 * be "all" then (the first N clips of the whole listing are not known without every
 * partition). clip: clip k of the selection goes to shard k mod N (every shard needs every
 * partition). A --clips list has no partitions: it is always sharded by clip. */
typedef enum vb_eval_shard_by { VB_SHARD_BY_PARTITION = 0, VB_SHARD_BY_CLIP = 1 } vb_eval_shard_by;

/* The seed's scripts/config.txt values; our flags off. */
void vb_eval_config_init(vb_eval_config *config);

/* Applies command-line style arguments in order: "--flag value", "--flag=value", and
 * "@FILE" (the file's arguments are spliced in at that point: one or more --flag value per
 * line, '#' starts a comment, blank lines ignored, "..." or '...' quote a value with
 * spaces; nested @FILE up to depth 4). Later flags override earlier ones. Errors name the
 * flag (and FILE:LINE for files) and the cause: unknown flag, missing or bad value. */
int vb_eval_config_parse_args(vb_eval_config *config, int argc, char *const argv[],
                              vb_error *err);
/* The same for the text of an argument file held in memory (name used in messages). */
int vb_eval_config_parse_text(vb_eval_config *config, const char *text, size_t size_bytes,
                              const char *name, vb_error *err);
/* Cross-flag checks made once everything is parsed (e.g. num_frames 0 needs movinet). */
int vb_eval_config_validate(const vb_eval_config *config, vb_error *err);

/* "i3d_k400", "movinet_k600": the {model} part of the seed's CSV name. */
void vb_eval_model_tag(const vb_eval_config *config, char *out, size_t out_bytes);
/* RESULTS_DIR/{model}_{split}{version}[.shardIofN].{ext}, e.g. results/i3d_k400_val400.csv */
int vb_eval_output_path(const vb_eval_config *config, const char *ext, char *out,
                        size_t out_bytes, vb_error *err);

/* ---------------------------------------------------------------------------------------
 * The model behind the loop. A batch holds `count` views (clips x temporal clips x crops);
 * forward writes logits [count, num_classes]. */
typedef struct vb_eval_batch {
    int count;                    /* views */
    int size;                     /* S: views are S x S */
    int frames;                   /* T of every view when input_f32 is set */
    const float *input_f32;       /* [count, T, S, S, 3] RGB in [0,1] (wants_float models) */
    const uint8_t *const *views_u8;  /* count pointers to [view_frames[i], S, S, 3] RGB */
    const int *view_frames;
} vb_eval_batch;

typedef struct vb_eval_model {
    void *impl;
    int num_classes;
    const char *const *class_names;   /* num_classes names, index = class id */
    int input_size;               /* S */
    int wants_float;              /* 1: input_f32 is filled; 0: only views_u8 */
    int max_views_per_call;       /* 0 = no limit */
    int (*forward)(void *impl, const vb_eval_batch *batch, float *logits, vb_error *err);
} vb_eval_model;

/* One clip to evaluate (the selection, in the order the seed would take them). */
typedef struct vb_eval_clip {
    const char *clip_id;          /* unique, e.g. "R6llTwEh07w_000000_000010" */
    const char *youtube_id;       /* "" when unknown */
    const char *label;            /* ground-truth class name; NULL when unlabelled */
    const char *path;             /* file to decode (the default loader) */
} vb_eval_clip;

/* Frames of one clip. The loop passes the video options it needs (size, resize, num_frames);
 * an error marks the clip skipped with err's message as the reason (VB_ENOMEM and
 * VB_EDATABASE stop the run). Called from the pipeline's worker thread only. */
typedef struct vb_eval_loader {
    void *impl;
    int (*load)(void *impl, const vb_eval_clip *clip, const vb_video_options *video,
                vb_frames *out, vb_error *err);
    /* Frees what load filled; NULL = vb_frames_free. */
    void (*release)(void *impl, vb_frames *clip);
} vb_eval_loader;

/* Progress after each committed batch (main thread). Return non-zero to stop (resumable). */
typedef struct vb_eval_progress {
    long done;                    /* clips finished in the store for this shard */
    long total;                   /* clips in this shard */
    long skipped;
    double elapsed_s;             /* this run */
    double eta_s;                 /* -1 unknown */
} vb_eval_progress;
typedef int (*vb_eval_progress_fn)(void *user, const vb_eval_progress *progress);

typedef struct vb_eval_params {
    const vb_eval_clip *clips;    /* the whole selection, before sharding (clip sharding), or
                                     this shard's own clips (partition sharding) */
    size_t clip_count;
    int shard_index, shard_count; /* clip k belongs to shard k mod shard_count */
    /* Partition sharding: NULL = clip sharding as above. Else every clip given is this
     * shard's and sort_keys[k] is its position key in the whole listing
     * (vb_eval_partition_sort_key), strictly increasing; vb_eval_merge orders by it. */
    const long *sort_keys;
    vb_video_options video;       /* size, resize (num_frames is set by the loop) */
    int num_frames, num_clips, num_crops;
    int batch_size, top_n;
    const char *store_path;       /* SQLite results store */
    const char *csv_path;         /* the seed's CSV, rewritten atomically at the end */
    const char *summary_path;     /* summary.json; NULL = none */
    const char *fingerprint;      /* identity of model + protocol; a store made with another
                                     one is refused (use overwrite) */
    int overwrite;                /* start over: discard the store */
    int serial;                   /* 1: no decode thread (benchmarks compare against it) */
    /* What the model costs, written to summary.json for `vidbench compare` (NULL / <= 0:
     * unknown, left out of the summary). */
    const char *precision;        /* arithmetic the model runs in: "fp32", "int8" */
    double gflop_per_clip;        /* all views of one clip */
    const char *label_map;        /* the model's label map (class id = line) */
    vb_eval_progress_fn progress;
    void *progress_user;
} vb_eval_params;

void vb_eval_params_init(vb_eval_params *params);

/* Accuracy of one ground-truth class. */
typedef struct vb_eval_class_accuracy {
    char name[128];
    long clips;
    long top1_correct, topn_correct;
    int in_model;                 /* 0: the model has no class of this name */
} vb_eval_class_accuracy;

/* A (true, predicted top-1) pair that differs, with how often it happened. */
typedef struct vb_eval_confusion {
    char truth[128], predicted[128];
    long count;
} vb_eval_confusion;

/* Metrics and timings of a finished (or merged) evaluation. The arrays are owned; free
 * with vb_eval_summary_free. */
typedef struct vb_eval_summary {
    long clips_selected;          /* in this shard */
    long clips_evaluated;
    long clips_skipped;
    long clips_from_earlier_runs; /* found already done in the store */
    long labelled;                /* evaluated clips with a ground truth */
    long label_not_in_model;      /* ground truth absent from the model's classes */
    int top_n;
    double top1, topn;            /* fractions of labelled evaluated clips */
    double mean_class_accuracy;   /* mean over ground-truth classes of their top-1 */
    double decode_ms, preprocess_ms, model_ms;  /* summed per clip over the store */
    double wall_s;                /* this run */
    double clips_per_s;           /* evaluated in this run / wall_s */
    long clips_this_run;          /* evaluated or skipped by this run */
    long clips_missing;           /* selected but not finished (stopped run) */
    vb_eval_class_accuracy *classes;   /* per ground-truth class, sorted by name */
    int class_count;
    vb_eval_confusion *confused;  /* most confused pairs, most frequent first (<= 20) */
    int confused_count;
    /* Run-level facts kept by vb_eval_write_outputs like wall_s (0 / "" unknown). */
    double peak_rss_bytes;        /* the process's peak resident set at the end of the run */
    char precision[16];
    double gflop_per_clip;
    char label_map[VB_EVAL_PATH_BYTES];
} vb_eval_summary;

void vb_eval_summary_free(vb_eval_summary *summary);

/* Runs the loop: loads pending clips of this shard (a worker thread decodes and
 * preprocesses batch k+1 while the model runs batch k), commits each batch's predictions
 * (and skipped clips with reasons) in one transaction, then writes CSV and summary from
 * the store. A store left by a killed run is resumed without recomputing finished clips. */
int vb_eval_run(const vb_eval_params *params, const vb_eval_model *model,
                const vb_eval_loader *loader, vb_eval_summary *summary, vb_error *err);

/* Writes CSV (top_n columns) and summary.json from a store alone (no model needed). */
int vb_eval_write_outputs(const char *store_path, const char *csv_path,
                          const char *summary_path, int top_n, vb_eval_summary *summary,
                          vb_error *err);

/* The position key of the rank-th clip (0-based, listing order) of partition p in the whole
 * listing: p << 20 | rank; -1 beyond 2^20 clips in a partition (real Kinetics partitions hold
 * ~1,000) or 2^40 partitions. */
long vb_eval_partition_sort_key(size_t partition, size_t rank);

/* Merges complete shard stores (same fingerprint, same sharding, shards 0..N-1 each exactly
 * once, no clip twice, every clip of every shard finished) into out_store_path; VB_ESTATE
 * names the overlap or gap. Clip shards fill positions 0..total-1 between them (k mod N);
 * partition shards are ordered by their sort keys, each key's partition belonging to the
 * shard that holds it. */
int vb_eval_merge(const char *const *shard_store_paths, int count, const char *out_store_path,
                  vb_error *err);

/* The loader that decodes clip->path with vb_video_decode_clip. */
extern const vb_eval_loader vb_eval_file_loader;

/* The evaluation loop's view of a vb_classifier opened with its label map (class names); the
 * classifier must outlive the model. */
int vb_eval_model_from_classifier(vb_classifier *classifier, vb_eval_model *model, vb_error *err);

/* ---------------------------------------------------------------------------------------
 * An evaluation session: everything between a parsed config and the loop, decided in one place
 * for `vidbench evaluate`, `bench evaluate` and any other caller (a scheduler front end, the
 * bindings). Opening it
 *   1. resolves the model: --weights/--labels, else --model, else the seed's --model_type and
 *      --model_trained_on through the registry; opens the one classifier (classifier.h);
 *   2. takes the model's input (vb_classifier_input_spec) with --resize, --num_frames and
 *      --min_frames applied;
 *   3. selects the clips: a --clips list, or the dataset sequence download -> prepare -> list
 *      (--num_crops 3 skips prepare: the cache holds square frames, three crops need the long
 *      side), --num_videos of them;
 *   4. names the outputs under results_dir and the fingerprint that decides whether an existing
 *      results store may be resumed.
 * config->data_dir "" means "data"; the library reads no environment variable for it. */
typedef struct vb_eval_session vb_eval_session;

typedef struct vb_eval_hooks {
    vb_dataset_progress_fn data_progress;   /* download and prepare events; may be NULL */
    void *data_user;
    vb_eval_progress_fn progress;           /* the loop's progress; may be NULL */
    void *progress_user;
    /* Non-fatal news for the user: failed partitions while others are on disk, fewer clips on
     * disk than asked. May be NULL. */
    void (*notice)(void *user, const char *message);
    void *notice_user;
} vb_eval_hooks;

typedef struct vb_eval_session_info {
    const char *weights_path;
    const char *labels_path;
    const char *model_kind;       /* "i3d" | "movinet" */
    int num_classes;
    int threads;                  /* what the engine runs with (resolved) */
    const char *precision;        /* what it computes in: "fp32" "bf16" "int8" */
    const char *isa;              /* I3D: the oneDNN ISA; NULL for MoViNet */
    const char *note;             /* why that differs from what was asked, or "" */
    vb_video_options video;       /* what every clip is decoded to */
    size_t clip_count;            /* clips selected (all shards; a partition shard: its own) */
    int batch_size;
    const char *fingerprint;
    const char *csv_path, *store_path, *summary_path;
} vb_eval_session_info;

/* RESULTS_DIR/{model}_{split}{version} of the unsharded run config describes, named after the
 * model that will really run (opened once to learn its classes, as vb_eval_session_open does;
 * no data is touched). Shard stores are this + ".shardIofN.sqlite". */
int vb_eval_output_base(const vb_eval_config *config, char *out, size_t out_bytes, vb_error *err);

/* Progress of one results store (a shard's or a whole run's), read without changing it. */
typedef struct vb_eval_store_progress {
    long selected;                /* clips the store covers */
    long done;                    /* of those, with a row (evaluated or skipped) */
    long skipped;
    int shard_index, shard_count;
} vb_eval_store_progress;
/* VB_ENOTFOUND when the store does not exist (yet). */
int vb_eval_store_progress_read(const char *store_path, vb_eval_store_progress *progress, vb_error *err);

int vb_eval_session_open(const vb_eval_config *config, const vb_eval_hooks *hooks,
                         vb_eval_session **out, vb_error *err);
void vb_eval_session_get_info(const vb_eval_session *session, vb_eval_session_info *info);
/* For benchmarks: 1 runs decoding and the model in one thread (the pipelining baseline). */
void vb_eval_session_set_serial(vb_eval_session *session, int serial);
/* Runs (or resumes) the evaluation and writes the CSV and summary.json. */
int vb_eval_session_run(vb_eval_session *session, vb_eval_summary *summary, vb_error *err);
void vb_eval_session_free(vb_eval_session **session);

/* A clip list file (--clips): one clip per line, "path,label[,youtube_id]" (CSV quoting,
 * empty label = unlabelled, '#' comment lines, blank lines ignored). Relative paths are
 * taken from the list's directory; the clip id is the file name without its extension and
 * must be unique. */
typedef struct vb_eval_clip_list {
    size_t count;
    vb_eval_clip *clips;          /* strings owned by the list */
    char *strings_;
} vb_eval_clip_list;
int vb_eval_clip_list_parse(const char *text, size_t size_bytes, const char *name,
                            const char *base_dir, vb_eval_clip_list *list, vb_error *err);
int vb_eval_clip_list_load(const char *path, vb_eval_clip_list *list, vb_error *err);
void vb_eval_clip_list_free(vb_eval_clip_list *list);

#ifdef __cplusplus
}
#endif
#endif
