/* Comparing evaluation runs ("which model should I run"): several seed-format results CSVs,
 * each with the summary.json vidbench evaluate wrote beside it, reduced to the clips every
 * run evaluated with a ground truth every model can name. Per run: accuracies with 95%
 * Wilson intervals, speed and cost from the summary; per pair: top-1 agreement, McNemar's
 * exact test and the clips where the top-1 differs; per class: accuracy side by side; an
 * accuracy-vs-speed Pareto front. Class names are matched across label spaces (Kinetics-400
 * names inside Kinetics-600) by vb_class_key. The CLI (`vidbench compare`) and the report's
 * Compare section print what vb_compare_load computed; all inputs are untrusted. */
#ifndef VIDBENCH_COMPARE_H
#define VIDBENCH_COMPARE_H

#include <stddef.h>
#include "vidbench/error.h"
#include "vidbench/labels.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VB_COMPARE_MAX_RUNS 16
#define VB_COMPARE_TOP_K 5            /* top-k accuracy; fewer if a CSV has fewer predictions */
#define VB_COMPARE_MAX_CONFUSIONS 10  /* most-confused pairs kept per run */
#define VB_COMPARE_Z95 1.959963984540054  /* two-sided 95% normal quantile */

/* ---- statistics ---- */

/* Wilson score interval for successes out of n trials (n may be fractional: an effective
 * sample size); z = VB_COMPARE_Z95 for 95%. n <= 0 gives [0, 1]. */
void vb_wilson_interval(double successes, double n, double z, double *low, double *high);
/* McNemar's exact test of paired correct/incorrect outcomes: b = clips only the first model
 * got right, c = clips only the second got right. Two-sided p = min(1, 2 P(X <= min(b,c))),
 * X ~ Binomial(b + c, 1/2); 1 when b + c = 0. */
double vb_mcnemar_exact_p(long b, long c);

/* ---- label spaces ---- */

#define VB_CLASS_KEY_BYTES 256
/* The key under which a class name is matched across Kinetics versions: lower case, letters
 * and digits only ("passing American football (not in game)" = the 600's lower-case name),
 * then the renames of Kinetics-400 classes in Kinetics-600 (e.g. "dying hair" -> "dyeing
 * hair"; the table and its source are in src/report/labelspace.c). Names longer than the
 * key are cut (never matched wrongly: such names are not Kinetics classes). */
void vb_class_key(const char *name, char out[VB_CLASS_KEY_BYTES]);
/* For every class of `from`, its index in `to` by key, or -1 (unmapped). Returns how many
 * were mapped, or a negative VB_E* code. index has from->count entries. */
int vb_label_space_map(const vb_labels *from, const vb_labels *to, int *index, vb_error *err);

/* ---- comparison ---- */

typedef struct vb_compare_input {
    const char *csv_path;         /* seed-format results */
    const char *summary_path;     /* NULL: the summary.json beside the CSV, if any */
    const char *label_map;        /* NULL: the summary's label_map, if readable */
} vb_compare_input;

/* A fraction with its 95% Wilson interval and what it rests on. value < 0: no clips. */
typedef struct vb_compare_rate {
    double value, low, high;
    double n;                     /* clips (mean-class: Kish's effective sample size) */
    long count;                   /* correct clips (mean-class: classes) */
} vb_compare_rate;

typedef struct vb_compare_confusion {
    const char *truth, *predicted;
    long count;
} vb_compare_confusion;

typedef struct vb_compare_run {
    const char *csv_path, *summary_path;   /* summary NULL when there was none */
    const char *label;            /* "file.tflite, int8, 600 classes, 32 frames, stretch, 1x1 views" */
    const char *model;            /* weights file name (or the summary's model), NULL unknown */
    const char *precision;        /* NULL unknown */
    const char *resize;           /* NULL unknown */
    int num_classes;              /* 0 unknown */
    int num_frames;               /* -1 unknown, 0 every frame */
    int views_temporal, views_spatial;   /* 0 unknown */
    const char *label_map;        /* the label map used for the model's classes, or NULL */
    long csv_clips;               /* rows of its CSV */
    long skipped;                 /* clips its summary lists as skipped (-1 unknown) */
    double clips_per_s, model_ms_per_clip, gflop_per_clip, peak_rss_bytes;   /* < 0 unknown */
    /* on the common clips */
    vb_compare_rate top1, topk, mean_class;
    int pareto;                   /* 1: no other run is at least as fast and as accurate
                                     (top-1) and better in one; 0 also when speed unknown */
    long truth_unmapped_clips;    /* clips in every CSV whose truth it has no class for */
    int truth_unmapped_classes;   /* distinct such truths; -1 when its label map is unknown */
    long absent;                  /* clips of other runs missing from this run's CSV */
    long absent_skipped;          /* ... of which its summary lists as skipped */
    vb_compare_confusion *confusions;  /* most confused first */
    int num_confusions;
} vb_compare_run;

typedef struct vb_compare_pair {
    int a, b;                     /* run indices, a < b */
    long agree;                   /* common clips with the same top-1 class (by key) */
    long both_right, a_only, b_only, both_wrong;
    double agreement;             /* agree / common clips */
    double mcnemar_p;
    long *disagree;               /* indices into vb_compare.clips where the top-1 differs */
    long num_disagree;
} vb_compare_pair;

typedef struct vb_compare_clip {
    const char *video_id, *truth;
    const char **top1;            /* [num_runs] each run's top-1 label as in its CSV */
    unsigned char *correct;       /* [num_runs] top-1 right */
    unsigned char *correct_topk;  /* [num_runs] truth among the first top_k predictions */
} vb_compare_clip;

typedef struct vb_compare_class {
    const char *label;            /* ground truth as in the first CSV */
    long clips;
    long *correct;                /* [num_runs] top-1 right */
    double spread;                /* max - min accuracy over runs */
} vb_compare_class;

typedef struct vb_compare_arena vb_compare_arena;

typedef struct vb_compare {
    int num_runs;
    vb_compare_run *runs;
    int top_k;
    long clips_union;             /* distinct video_ids over all CSVs */
    long clips_common;            /* compared: in every CSV, with a ground truth every model has */
    long dropped_absent;          /* missing from at least one CSV */
    long dropped_no_truth;        /* in every CSV, without a ground truth */
    long dropped_truth_differs;   /* the CSVs name different ground truths */
    long dropped_unmapped;        /* a model has no class for its ground truth */
    vb_compare_clip *clips;       /* [clips_common] sorted by video_id */
    vb_compare_pair *pairs;       /* [num_pairs] (0,1), (0,2), ..., (1,2), ... */
    int num_pairs;
    vb_compare_class *classes;    /* sorted by spread, largest first, then by label */
    int num_classes;
    vb_compare_arena *arena;      /* owns everything above */
} vb_compare;

/* Reads count (2..VB_COMPARE_MAX_RUNS) runs and computes the comparison. Errors name the
 * file and the cause (unreadable or malformed CSV or summary, an unreadable label map given
 * explicitly, no clip common to all runs). */
int vb_compare_load(vb_compare *compare, const vb_compare_input *inputs, int count, vb_error *err);
void vb_compare_free(vb_compare *compare);

/* The comparison as JSON (the schema is in docs/report.md); the caller free()s the text. */
char *vb_compare_to_json(const vb_compare *compare, vb_error *err);

#ifdef __cplusplus
}
#endif
#endif
