/* A video classifier whatever the model: opens a weights file by type (.safetensors -> I3D,
 * .tflite -> MoViNet) with an optional label map, says which decoded input it wants, and
 * turns a decoded clip into logits, probabilities and the top-k classes. It is the one
 * classifier of the library: `classify`, `evaluate` (through vb_eval_model_from_classifier)
 * and `model verify` all run their models through it, and ask it what input a model needs. */
#ifndef VIDBENCH_CLASSIFIER_H
#define VIDBENCH_CLASSIFIER_H

#include "vidbench/agreement.h"
#include "vidbench/error.h"
#include "vidbench/i3d.h"
#include "vidbench/labels.h"
#include "vidbench/video.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vb_classifier_kind {
    VB_CLASSIFIER_I3D = 0,
    VB_CLASSIFIER_MOVINET,
} vb_classifier_kind;

/* I3D takes num_frames frames (the seed resamples every clip to 100). */
#define VB_CLASSIFIER_I3D_DEFAULT_FRAMES 100

typedef struct vb_classifier_options {
    vb_i3d_backend backend;   /* I3D only (VB_I3D_BACKEND_REFERENCE: the plain C oracle) */
    int threads;              /* 0: automatic (vb_threads_resolve: VIDBENCH_THREADS or all cores) */
    int num_frames;           /* frames fed to the model; 0: I3D 100, MoViNet every frame */
    vb_i3d_precision precision; /* I3D: auto (the file's own), fp32, bf16, int8; MoViNet runs int8
                                 * only (auto or int8) */
} vb_classifier_options;

void vb_classifier_options_init(vb_classifier_options *options);

typedef struct vb_classifier vb_classifier;

/* labels_path may be NULL (classes are then reported by id). The label map must have exactly
 * one line per class. */
int vb_classifier_open(const char *weights_path, const char *labels_path, const vb_classifier_options *options,
                       vb_classifier **out, vb_error *err);
void vb_classifier_free(vb_classifier **classifier);

vb_classifier_kind vb_classifier_get_kind(const vb_classifier *classifier);
/* "i3d" or "movinet" */
const char *vb_classifier_kind_name(const vb_classifier *classifier);
/* Which kind a weights file is, from its name (.safetensors I3D, .tflite MoViNet); -1 when
 * neither. The one place the library decides a model's type. */
int vb_classifier_kind_of_path(const char *weights_path);
int vb_classifier_num_classes(const vb_classifier *classifier);
/* Threads the model runs with (the resolved count, whatever options.threads said). */
int vb_classifier_threads(const vb_classifier *classifier);
/* Arithmetic the model runs in: I3D "fp32", "bf16" or "int8"; MoViNet "int8" (the TFLite
 * interpreter's kernels). */
const char *vb_classifier_precision(const vb_classifier *classifier);
/* I3D: the oneDNN ISA its kernels use ("plain C" for the reference backend); MoViNet: NULL. */
const char *vb_classifier_isa(const vb_classifier *classifier);
/* Why the run differs from what was asked (e.g. bf16 fell back to fp32), or "". */
const char *vb_classifier_note(const vb_classifier *classifier);
/* Multiply-adds x 2 of one clip of `frames` frames, in GFLOP; -1 where unknown (MoViNet: no
 * operation count is implemented for TFLite graphs; frames 0 = every frame). */
double vb_classifier_gflop_per_clip(const vb_classifier *classifier, int frames);
/* NULL when opened without a label map. */
const vb_labels *vb_classifier_labels(const vb_classifier *classifier);
/* Name of a class: its label, or NULL without a label map. */
const char *vb_classifier_label(const vb_classifier *classifier, int class_id);

/* What the model takes, decided here and nowhere else. */
typedef struct vb_classifier_input {
    int size;                 /* square frame side S (I3D 224, MoViNet-A0 172) */
    vb_resize_mode resize;    /* frame -> S x S: I3D the seed's centre crop, MoViNet stretched */
    int num_frames;           /* frames per clip; 0 = every frame (MoViNet's default) */
    int min_frames;           /* fewest frames the network accepts (I3D 9, MoViNet 1) */
    float value_min, value_max; /* float input range: uint8 / 255, i.e. [0, 1] for both */
    int takes_float_batches;  /* 1: vb_classifier_logits_f32 runs a batch in one call (I3D) */
} vb_classifier_input;

void vb_classifier_input_spec(const vb_classifier *classifier, vb_classifier_input *input);

/* The decode options the model wants (vb_classifier_input_spec as vb_video_options): I3D
 * 224 x 224 centre crop resampled to num_frames; MoViNet its own input size, whole frame
 * stretched, every frame (or num_frames). */
void vb_classifier_video_options(const vb_classifier *classifier, vb_video_options *options);

/* Ranges a float input may come in. */
typedef enum vb_value_range {
    VB_RANGE_UNIT = 0,        /* [0,1]: uint8 / 255, what the seed feeds (value_min..value_max) */
    VB_RANGE_SIGNED,          /* [-1,1]: DeepMind's published I3D samples */
} vb_value_range;

/* Logits of `batch` clips of `frames` frames, input [batch,frames,S,S,3] float32 in `range`
 * (I3D takes both as they are; MoViNet runs each clip's frames in turn). logits: [batch, classes]. */
int vb_classifier_logits_f32(vb_classifier *classifier, const float *input, vb_value_range range, int batch,
                             int frames, float *logits, vb_error *err);
/* Logits of one clip of uint8 RGB frames [count,S,S,3]. logits: [classes]. */
int vb_classifier_logits_u8(vb_classifier *classifier, const uint8_t *frames, int count, float *logits,
                            vb_error *err);

/* Runs a decoded clip ([T,S,S,3] uint8 RGB of the size video_options asked for).
 * logits and probabilities: [classes] each, either may be NULL. */
int vb_classifier_run(vb_classifier *classifier, const vb_frames *clip, float *logits, float *probabilities,
                      vb_error *err);

/* Decodes a file with vb_classifier_video_options and runs it: the one-call path. */
int vb_classifier_classify_file(vb_classifier *classifier, const char *video_path, float *logits,
                                float *probabilities, vb_error *err);

/* The weights file the classifier opened: weights_path, or, when int8 was asked of an fp32 I3D
 * file, its int8 sibling (vb_quantized_weights_path) if that exists. */
const char *vb_classifier_weights_path(const vb_classifier *classifier);
/* NAME.safetensors -> NAME.int8.safetensors: where `vidbench model quantize` writes by default
 * and where int8 is looked for. */
int vb_quantized_weights_path(const char *fp32_path, char *out, size_t out_bytes, vb_error *err);

/* The I3D model behind an I3D classifier (NULL for MoViNet): calibration and endpoints. */
vb_i3d *vb_classifier_i3d(vb_classifier *classifier);

/* `vidbench model quantize`: calibrates an fp32 I3D on video clips (decoded as the classifier
 * decodes them), writes the int8 file atomically, then runs the held-back clips through fp32 and
 * int8 and reports how they agree. */
typedef struct vb_quantize_request {
    const char *weights_path;          /* fp32 I3D .safetensors */
    const char *output_path;           /* the int8 .safetensors to write */
    const char *const *calibration;    /* video files the activation ranges come from */
    int n_calibration;
    const char *const *holdout;        /* video files the agreement is measured on (may be 0) */
    int n_holdout;
    vb_i3d_calibration method;
    int num_frames;                    /* 0: the classifier's default (100) */
    int threads;                       /* 0: automatic */
    void (*progress)(void *user, const char *stage, int done, int total, const char *file);
    void *user;
} vb_quantize_request;

typedef struct vb_quantize_report {
    int calibration_clips;
    vb_agreement agreement;            /* int8 against fp32 on the held-back clips */
    char isa[32];                      /* the oneDNN ISA the int8 model ran on */
    char note[256];                    /* e.g. 7-bit activations without VNNI; or "" */
} vb_quantize_report;

int vb_quantize_i3d(const vb_quantize_request *request, vb_quantize_report *report, vb_error *err);

/* Numerically stable softmax over n values. */
void vb_softmax(const float *logits, int n, float *probabilities);

typedef struct vb_prediction {
    int class_id;
    float probability;
} vb_prediction;

/* The k most probable classes, most probable first (ties: lower class id first).
 * Returns how many were written: min(k, n). */
int vb_top_k(const float *probabilities, int n, int k, vb_prediction *out);

#ifdef __cplusplus
}
#endif
#endif
