/* DeepMind's RGB I3D (Inflated Inception-v1) run by vidbench's own engine.
 * Weights come from a safetensors file holding the TensorFlow checkpoint's tensor names and
 * shapes; channel counts and the class count are taken from the weight shapes. */
#ifndef VIDBENCH_I3D_H
#define VIDBENCH_I3D_H

#include <stdint.h>
#include "vidbench/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vb_i3d_backend {
    VB_I3D_BACKEND_ONEDNN = 0,   /* default: oneDNN convolutions, blocked layouts */
    VB_I3D_BACKEND_REFERENCE,    /* plain C loops: the oracle */
} vb_i3d_backend;

/* Arithmetic the network runs in. int8 needs a calibrated file (`vidbench model quantize`,
 * vb_i3d_quantize); bf16 runs the fp32 weights with bf16 activations, only where oneDNN has AMX
 * (without it bf16 is slower than fp32, so fp32 runs and vb_i3d_note says so). */
typedef enum vb_i3d_precision {
    VB_I3D_PRECISION_AUTO = 0,   /* what the weights file holds: fp32, or int8 for a quantized file */
    VB_I3D_PRECISION_FP32,
    VB_I3D_PRECISION_BF16,
    VB_I3D_PRECISION_INT8,
} vb_i3d_precision;

typedef struct vb_i3d_options {
    vb_i3d_backend backend;
    int threads;                 /* 0: automatic (vb_threads_resolve); the reference backend runs on 1 */
    vb_i3d_precision precision;
} vb_i3d_options;

void vb_i3d_options_init(vb_i3d_options *options);
/* "onednn" / "reference" -> backend; -1 when unknown. */
int vb_i3d_backend_from_name(const char *name);
const char *vb_i3d_backend_name(vb_i3d_backend backend);
/* "auto" "fp32" "bf16" "int8" -> precision; -1 when unknown. */
int vb_i3d_precision_from_name(const char *name);
const char *vb_i3d_precision_name(vb_i3d_precision precision);

typedef struct vb_i3d vb_i3d;

int vb_i3d_open(const char *weights_path, const vb_i3d_options *options, vb_i3d **out,
                vb_error *err);
void vb_i3d_free(vb_i3d **model);
int vb_i3d_num_classes(const vb_i3d *model);
/* Threads the backend runs with (the resolved count). */
int vb_i3d_threads(const vb_i3d *model);
/* The precision that runs (never AUTO). */
vb_i3d_precision vb_i3d_get_precision(const vb_i3d *model);
/* The instruction set the backend's kernels use: oneDNN's ISA name ("avx2", "avx512_core_vnni",
 * "avx512_core_amx", ...; VIDBENCH_MAX_ISA caps it) or "plain C" for the reference backend. */
const char *vb_i3d_isa(const vb_i3d *model);
/* Why the run differs from what was asked (bf16 fell back to fp32; int8 in the narrow arithmetic
 * of CPUs without VNNI: 7-bit activations), or "" when it does not. VIDBENCH_INT8_VNNI=1|0 picks
 * the arithmetic (1 on the reference backend gives what a VNNI machine computes, anywhere). */
const char *vb_i3d_note(const vb_i3d *model);

/* Smallest clip length the network accepts: Mixed_5c must keep 2 frames for the final
 * 2x7x7 VALID average pool (ceil(T/8) >= 2, so T >= 9). */
#define VB_I3D_MIN_FRAMES 9
#define VB_I3D_INPUT_SIZE 224

/* input: [batch, frames, 224, 224, 3] RGB in [0,1] (mapped to 2x-1 inside).
 * logits: [batch, classes], averaged over time, before softmax. */
int vb_i3d_forward(vb_i3d *model, const float *input, int batch, int frames, float *logits,
                   vb_error *err);
/* The same with the input already in the network's own range [-1,1] (DeepMind's samples),
 * used as it is. */
int vb_i3d_forward_signed(vb_i3d *model, const float *input, int batch, int frames, float *logits,
                          vb_error *err);

/* Endpoints in network order, named as in DeepMind's i3d.py. */
typedef enum vb_i3d_endpoint {
    VB_I3D_CONV3D_1A_7X7 = 0,
    VB_I3D_MAXPOOL3D_2A_3X3,
    VB_I3D_CONV3D_2B_1X1,
    VB_I3D_CONV3D_2C_3X3,
    VB_I3D_MAXPOOL3D_3A_3X3,
    VB_I3D_MIXED_3B,
    VB_I3D_MIXED_3C,
    VB_I3D_MAXPOOL3D_4A_3X3,
    VB_I3D_MIXED_4B,
    VB_I3D_MIXED_4C,
    VB_I3D_MIXED_4D,
    VB_I3D_MIXED_4E,
    VB_I3D_MIXED_4F,
    VB_I3D_MAXPOOL3D_5A_2X2,
    VB_I3D_MIXED_5B,
    VB_I3D_MIXED_5C,
    VB_I3D_LOGITS,
    VB_I3D_ENDPOINT_COUNT
} vb_i3d_endpoint;

/* "Mixed_4f" ...; NULL for an out-of-range value. */
const char *vb_i3d_endpoint_name(vb_i3d_endpoint endpoint);
/* Endpoint for a name, or -1. */
int vb_i3d_endpoint_from_name(const char *name);

/* Shape of an endpoint for a batch of clips of `frames` frames: fills shape with
 * [batch, T', H', W', C] (ndim 5) or, for Logits, [batch, classes] (ndim 2).
 * Returns ndim, or a negative VB_E* code (frames too small). */
int vb_i3d_endpoint_shape(const vb_i3d *model, vb_i3d_endpoint endpoint, int batch, int frames,
                          int64_t shape[5], vb_error *err);

/* Forward pass that also copies out endpoints: outputs[e] (NULL = not wanted) receives
 * endpoint e in [batch, T', H', W', C] layout (Logits: [batch, classes]). */
int vb_i3d_forward_endpoints(vb_i3d *model, const float *input, int batch, int frames,
                             float *const outputs[VB_I3D_ENDPOINT_COUNT], vb_error *err);

/* Feature extraction: Mixed_5c averaged over time and space, one vector per clip.
 * embeddings: [batch, vb_i3d_embedding_size(model)] (1024 for the real network). */
int vb_i3d_embedding_size(const vb_i3d *model);
int vb_i3d_embed(vb_i3d *model, const float *input, int batch, int frames, float *embeddings,
                 vb_error *err);

/* Multiply-adds x 2 of every convolution for one clip of `frames` frames (pooling not
 * counted): 222.3e9 for the real network at T=64. */
double vb_i3d_flops_per_clip(const vb_i3d *model, int frames);

/* Memory a forward pass plans for clips of `frames` frames (clips run one after another, so
 * batch does not change it): activation buffers and backend scratch, in bytes. The
 * parameters (folded weights, and the backend's reordered copy) are reported apart. */
typedef struct vb_i3d_memory {
    int64_t activation_bytes;
    int64_t parameter_bytes;
} vb_i3d_memory;
int vb_i3d_plan_memory(vb_i3d *model, int frames, vb_i3d_memory *memory, vb_error *err);

/* int8 calibration (`vidbench model quantize`): run calibration clips through an fp32 model,
 * collecting the range of every tensor the int8 net stores, then write the int8 file. */
typedef enum vb_i3d_calibration {
    VB_I3D_CALIBRATE_MINMAX = 0,    /* the largest value seen */
    VB_I3D_CALIBRATE_PERCENTILE,    /* the 99.99th percentile */
    VB_I3D_CALIBRATE_ENTROPY,       /* the threshold minimising KL divergence (TensorRT's method) */
} vb_i3d_calibration;
/* "minmax" "percentile" "entropy" -> method; -1 when unknown. */
int vb_i3d_calibration_from_name(const char *name);
const char *vb_i3d_calibration_name(vb_i3d_calibration method);

typedef struct vb_i3d_calibrator vb_i3d_calibrator;
/* model: an fp32 model on the oneDNN backend; it must outlive the calibrator. */
int vb_i3d_calibrator_new(vb_i3d *model, vb_i3d_calibrator **out, vb_error *err);
void vb_i3d_calibrator_free(vb_i3d_calibrator **calibrator);
/* Runs `batch` clips ([batch,frames,224,224,3] in [0,1]) and records their activations. */
int vb_i3d_calibrator_add(vb_i3d_calibrator *calibrator, const float *input, int batch, int frames, vb_error *err);
/* Clips recorded so far. */
int vb_i3d_calibrator_clips(const vb_i3d_calibrator *calibrator);
/* Writes the int8 file: weights per output channel s8, activation scales from `method`, and the
 * metadata pairs given ({key, value, ...}: calibration clips, method, source hash). */
int vb_i3d_calibrator_write(const vb_i3d_calibrator *calibrator, const char *path, vb_i3d_calibration method,
                            const char *const *metadata, int n_metadata, vb_error *err);

/* Writes an I3D with random weights and the real checkpoint's tensor names and shapes
 * (Inception-v1 channel table divided by width_divisor: 1 full width, 8 like the golden
 * tiny nets), `classes` logits, prefix RGB/inception_i3d/. Deterministic for a seed.
 * BatchNorm statistics are drawn so activations keep a unit scale through the network. */
int vb_i3d_write_random_weights(const char *path, int width_divisor, int classes, uint64_t seed,
                                vb_error *err);

#ifdef __cplusplus
}
#endif
#endif
