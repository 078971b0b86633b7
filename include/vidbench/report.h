/* HTML report: the seed notebook's exploration (dataset, video properties, samples with
 * predictions, resampling, evaluation metrics) as one self-contained page with inline CSS
 * and SVG and no JavaScript. Each section is fed by a plain struct of the report model below;
 * adapters fill it from the seed-format results CSV, summary.json and the video API. All text
 * in the model may come from untrusted files: the writer escapes every byte of it. */
#ifndef VIDBENCH_REPORT_H
#define VIDBENCH_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include "vidbench/error.h"
#include "vidbench/video.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VB_REPORT_MAX_TOP 10   /* predictions kept per clip (the seed writes top_n = 5) */

/* One version/split row of the dataset overview; -1 means unknown. */
typedef struct vb_report_split_row {
    char version[16];          /* "400", "600", "700" */
    char split[16];            /* "train", "val", "test" */
    long annotated, downloaded, prepared, bad;
    int partitions_done, partitions_total;
} vb_report_split_row;

typedef struct vb_report_class_count {
    const char *label;
    long count;
} vb_report_class_count;

/* Dataset overview. Class counts are derived from the clips' labels by
 * vb_report_finish when the adapter leaves classes empty. */
typedef struct vb_report_dataset {
    vb_report_split_row *splits;
    int num_splits;
    vb_report_class_count *classes;    /* local clips per class, most frequent first */
    int num_classes;
    const char **missing_classes;      /* classes of the label map with no local clip */
    int num_missing_classes;
    const char *label_map_name;        /* where the class list came from, NULL if none */
    const char **label_map;            /* every class name of the label map */
    int label_map_count;
    const char *classes_source;        /* "local clips" or "results CSV rows" */
} vb_report_dataset;

/* One clip: a local file, a row of the results CSV, or both (matched by video_id). */
typedef struct vb_report_clip {
    const char *video_id;              /* clip name: file stem / the CSV's video_id */
    const char *youtube_id;            /* NULL when unknown */
    const char *label;                 /* ground truth, NULL when unknown */
    const char *video_path;            /* local file as given (for probing/decoding), or NULL */
    const char *video_href;            /* the file relative to the report's folder, URL-encoded */
    const char *preview_href;          /* animated GIF relative to the report, or NULL */
    const char *preview_note;          /* why there is no preview, or NULL */
    int has_info;                      /* info below was probed */
    vb_video_info info;
    const char *probe_note;            /* why probing failed, or NULL */
    const char *bad_reason;            /* the dataset's reason for a known-bad clip, or NULL */
    int num_predictions;               /* 0 when not evaluated */
    const char *pred_labels[VB_REPORT_MAX_TOP];
    double pred_scores[VB_REPORT_MAX_TOP];  /* softmax probabilities, best first */
} vb_report_clip;

typedef struct vb_report_class_accuracy {
    const char *label;
    int total, correct;
    int not_in_model;                  /* the model has no such class (summary's in_model) */
} vb_report_class_accuracy;

typedef struct vb_report_confusion {
    const char *truth, *predicted;
    int count;
} vb_report_confusion;

typedef struct vb_report_stage {
    const char *name;                  /* "decode", "preprocess", "model" */
    double ms;                         /* total wall time of the stage */
} vb_report_stage;

typedef struct vb_report_skipped {
    const char *clip_id, *reason;
} vb_report_skipped;

/* Evaluation summary. Fractions in [0,1]; negative means unknown. */
typedef struct vb_report_evaluation {
    int present;
    const char *source;                /* "summary.json" or "results CSV" */
    const char *model;                 /* NULL when unknown */
    int top_n;
    int num_frames;                    /* frames per clip the model saw; 0 unknown */
    int resize;                        /* the model's vb_resize_mode, -1 unknown */
    long evaluated, skipped;           /* skipped -1 when unknown */
    double top1, topn, mean_class_accuracy;
    vb_report_class_accuracy *classes;
    int num_classes;
    vb_report_confusion *confusions;   /* most confused first */
    int num_confusions;
    vb_report_stage *stages;
    int num_stages;
    vb_report_skipped *skipped_clips;  /* clips the evaluation skipped, with reasons */
    int num_skipped_clips;
    /* The model's identity and cost, as `vidbench compare` shows them (summary.json of
     * vidbench evaluate); NULL, 0 or negative when the summary does not say. */
    const char *model_file;            /* parameters.model: the weights' file name */
    const char *precision;             /* "fp32", "int8" */
    const char *label_map;             /* the model's label map (a path) */
    int model_classes;                 /* classes the model outputs */
    int model_frames;                  /* parameters.frames: per view, 0 every frame, -1 unknown */
    int views_temporal, views_spatial; /* parameters.clips x parameters.crops */
    double clips_per_s;                /* this run's throughput (0 there: resumed, unknown) */
    double model_ms_per_clip;
    double gflop_per_clip;
    double peak_rss_bytes;
} vb_report_evaluation;

/* The seed's up/down-sampling figure, drawn from one clip's real frames. */
typedef struct vb_report_resampling {
    int present;
    const char *clip_name;
    const char *note;                  /* why it is absent, or NULL */
    int decoded_frames;                /* frames of the whole clip */
    int source_count;                  /* frames shown as the source row */
    const char **source_hrefs;         /* [source_count] one image per source frame */
    int down_count, up_count;
    int *down_indices;                 /* [down_count] source frame used by each output frame */
    int *up_indices;                   /* [up_count] */
} vb_report_resampling;

typedef struct vb_report_arena_block vb_report_arena_block;
struct vb_compare;   /* vidbench/compare.h */

typedef struct vb_report {
    const char *title;
    const char *results_name;          /* input names shown in the page header, or NULL */
    const char *summary_name;
    const char *data_name;
    vb_report_dataset dataset;
    vb_report_clip *clips;             /* sorted by video_id after vb_report_finish */
    int num_clips;
    int clip_capacity;
    int *sample;                       /* indices into clips shown in the sample table */
    int num_sample;
    vb_report_evaluation evaluation;
    vb_report_resampling resampling;
    /* Runs compared in the Compare section (vb_compare_load), or NULL. Not owned: it must
     * outlive vb_report_write_html. Set it before vb_report_finish, which adds the clips
     * where two runs' top-1 differ to the sample so that the section can link to them. */
    const struct vb_compare *compare;
    vb_report_arena_block *arena;      /* owns every string above */
    int *clip_slots;                   /* hash index video_id -> clip, -1 empty (internal) */
    int slot_capacity;
} vb_report;

void vb_report_init(vb_report *report);
void vb_report_free(vb_report *report);

/* Copies text into the report's storage; NULL on allocation failure. */
const char *vb_report_strdup(vb_report *report, const char *text);

/* The clip named video_id, added (empty) if absent. NULL on allocation failure. */
vb_report_clip *vb_report_clip_get(vb_report *report, const char *video_id, vb_error *err);
vb_report_clip *vb_report_clip_find(const vb_report *report, const char *video_id);

/* Reads a seed-format results CSV (video_id,YouTube_Id,Ground_Truth,pred_1..N,score_1..N;
 * extra columns ignored; RFC 4180 quoting). Rows become clips with predictions. */
int vb_report_load_results_csv(vb_report *report, const char *path, vb_error *err);
int vb_report_parse_results_csv(vb_report *report, const char *data, size_t size,
                                const char *name, vb_error *err);

/* The summary.json that vidbench evaluate wrote beside a results CSV: NAME.summary.json
 * for NAME.csv, else summary.json in the same folder. *path is NULL (and 0 returned) when
 * neither is readable; the caller frees it. */
int vb_report_summary_beside(const char *csv_path, char **path, vb_error *err);

/* Reads the evaluation's summary.json (schema in docs/report.md). */
int vb_report_load_summary(vb_report *report, const char *path, vb_error *err);
int vb_report_parse_summary(vb_report *report, const char *data, size_t size,
                            const char *name, vb_error *err);

/* Classes of a label map (one per line) that no local clip has are listed as missing. */
int vb_report_set_label_map(vb_report *report, const char *path, vb_error *err);

/* Adds local video files (clip name = file stem; ground truth from a matching CSV row).
 * A directory is scanned for video files (depth <= 4; links are followed, but each directory
 * is walked once, by device and inode). report_dir is the folder of the
 * page: each clip's href is made relative to it. */
int vb_report_add_videos(vb_report *report, const char *const *paths, int num_paths,
                         const char *report_dir, vb_error *err);

/* Fills the dataset section from a DATA_DIR managed by vidbench data (dataset.h): counts
 * per version/split, and the local clips with their ground truth of the given version and
 * split (version 0 / split NULL: all). Classes of the split's annotations without a local
 * clip are listed as missing unless a label map was set. */
int vb_report_load_dataset(vb_report *report, const char *data_dir, int version, const char *split,
                           const char *report_dir, vb_error *err);

/* Derives what the adapters left out: sorts clips, picks the sample (up to sample_size
 * clips, local files first), class counts, and metrics from the predictions when no
 * summary.json gave them. */
int vb_report_finish(vb_report *report, int sample_size, vb_error *err);

typedef struct vb_report_media_options {
    int probe;                 /* probe every local clip for the property histograms */
    int previews;              /* write a GIF of each sample clip */
    vb_video_options video;    /* the model's preprocessing: crop mode, num_frames */
    int preview_size;          /* preview pixels (same crop, lower resolution); 0 = 112 */
    int resampling;            /* build the up/down-sampling figure from the first sample */
} vb_report_media_options;

void vb_report_media_options_init(vb_report_media_options *options);

/* Probes clips, writes previews and resampling frames into files_dir (a folder beside the
 * page, created if absent). A clip that fails gets a note in the page instead of a file;
 * only failures to write files are errors. */
int vb_report_build_media(vb_report *report, const char *report_dir, const char *files_dir,
                          const vb_report_media_options *options, vb_error *err);

/* For a page at html_path: creates its folder, and returns that folder and the folder for
 * preview files beside the page ("report.html" -> "report_files"). Caller frees both. */
int vb_report_output_dirs(const char *html_path, char **report_dir, char **files_dir, vb_error *err);

/* Writes the page atomically. */
int vb_report_write_html(const vb_report *report, const char *path, vb_error *err);

/* ---- the whole `vidbench report` sequence as one call ---- */

#define VB_REPORT_MAX_RESULTS 16

typedef struct vb_report_request {
    const char *output;           /* the page: report.html (previews in report_files/) */
    const char *title;            /* NULL: default */
    const char *results[VB_REPORT_MAX_RESULTS];   /* seed-format CSVs; the first is the report's,
                                                     two or more add a Compare section */
    int num_results;
    const char *summary;          /* NULL: the summary.json beside the first CSV, if any */
    const char *label_map;
    const char *data_dir;         /* a dataset manager's DATA_DIR, with version/split; may be NULL */
    int version;                  /* 0: every version in data_dir */
    const char *split;
    const char *const *videos;    /* local files or directories */
    int num_videos;
    int sample;                   /* clips in the sample table */
    vb_report_media_options media;
    int resize_given;             /* 0: previews use the resize the evaluation used, if known */
} vb_report_request;

void vb_report_request_init(vb_report_request *request);

typedef struct vb_report_outcome {
    int num_clips, num_sample, num_previews;
} vb_report_outcome;

/* Results CSV, summary, comparison runs, label map, dataset, videos, then the sample, the
 * media and the page, as `vidbench report` and the bindings do it. */
int vb_report_build(const vb_report_request *request, vb_report_outcome *outcome, vb_error *err);

/* Escapes text for HTML element content and attribute values (& < > " '), appending to
 * out (capacity out_size, always NUL-terminated). Returns the length the full escape needs,
 * like snprintf. Control bytes other than tab/newline become U+FFFD. */
size_t vb_html_escape(const char *text, char *out, size_t out_size);

#ifdef __cplusplus
}
#endif
#endif
