/* I3D network description shared by the backends: the topology of DeepMind's i3d.py as a
 * list of stages, BatchNorm-folded parameters, and TensorFlow SAME-padding shape rules. */
#ifndef VB_I3D_NET_H
#define VB_I3D_NET_H

#include <stddef.h>
#include <stdint.h>
#include "vidbench/i3d.h"

/* One 3-D convolution with its BatchNorm folded in: y = relu(conv(x, weights) + bias)
 * (no ReLU for the logits layer). */
typedef struct i3d_conv {
    char name[96];            /* checkpoint scope without prefix, e.g. "Mixed_3b/Branch_1/Conv3d_0b_3x3" */
    int kernel[3];            /* kt, kh, kw */
    int stride[3];
    int in_channels, out_channels;
    int relu;
    float *weights;           /* [kt,kh,kw,cin,cout] as TensorFlow stores it, BN scale folded in
                               * (int8 nets: NULL except for the logits conv) */
    float *bias;              /* [cout]: BN shift folded in, or the logits bias */
    /* Quantization points (int8): the tensor this conv reads and the one it writes, as indices
     * into net->point_name; in_point I3D_POINT_INPUT is the clip itself. Max pools keep their
     * input's point, and every branch of a Mixed block writes the block's point. */
    int in_point, out_point;
} i3d_conv;

#define I3D_POINT_INPUT (-1)
#define I3D_MAX_POINTS 32

typedef enum i3d_stage_kind { I3D_STAGE_CONV, I3D_STAGE_MAXPOOL, I3D_STAGE_MIXED, I3D_STAGE_LOGITS } i3d_stage_kind;

/* Branch convolutions of an Inception block, in checkpoint order. Branch 3 max-pools
 * 3x3x3 (stride 1, SAME) before its 1x1 convolution. */
enum { MIX_B0 = 0, MIX_B1A, MIX_B1B, MIX_B2A, MIX_B2B, MIX_B3, MIX_CONVS };

typedef struct i3d_stage {
    vb_i3d_endpoint endpoint;
    i3d_stage_kind kind;
    int conv;                 /* I3D_STAGE_CONV / LOGITS: index into net->convs */
    int mixed[MIX_CONVS];     /* I3D_STAGE_MIXED: indices into net->convs */
    int pool_kernel[3], pool_stride[3];   /* I3D_STAGE_MAXPOOL */
} i3d_stage;

#define I3D_MAX_CONVS 64

typedef struct i3d_net {
    i3d_stage stages[VB_I3D_ENDPOINT_COUNT];
    i3d_conv convs[I3D_MAX_CONVS];
    int num_convs;
    int num_classes;
    float *parameters;        /* one allocation holding every weights/bias array */
    int64_t parameter_count;
    /* Tensors an int8 net stores in u8, each with one scale: the outputs of Conv3d_1a, 2b, 2c,
     * of every Mixed block and of its two reduce convs (named like them). */
    const char *point_name[I3D_MAX_POINTS];
    int num_points;
    struct i3d_quant *quant;  /* int8 nets (model/i3d/quant.h); NULL for fp32 */
} i3d_net;

/* Activation shape of one clip: [t, h, w, c] channels last. */
typedef struct i3d_dims { int t, h, w, c; } i3d_dims;

static inline int64_t i3d_dims_count(i3d_dims d) { return (int64_t)d.t * d.h * d.w * d.c; }

/* TensorFlow SAME: out = ceil(in / stride); total pad max((out-1)*stride + k - in, 0), the
 * odd pixel after. */
static inline int same_out(int in, int stride) { return (in + stride - 1) / stride; }
static inline int same_pad_before(int in, int kernel, int stride)
{
    int out = same_out(in, stride);
    int total = (out - 1) * stride + kernel - in;
    return total > 0 ? total / 2 : 0;
}
static inline int same_pad_after(int in, int kernel, int stride)
{
    int out = same_out(in, stride);
    int total = (out - 1) * stride + kernel - in;
    return total > 0 ? total - total / 2 : 0;
}

/* The topology of i3d.py with every conv's geometry and quantization points; channels still
 * unknown. */
void i3d_net_build_topology(i3d_net *net);

/* Walks the convs in network order with their input channel count (the previous output, or the
 * concatenated branches): load(ctx, conv, in_channels, is_logits) sets out_channels. Sets
 * num_classes at the end. */
typedef int (*i3d_conv_loader)(void *ctx, i3d_conv *conv, int in_channels, int is_logits, vb_error *err);
int i3d_net_walk_convs(i3d_net *net, i3d_conv_loader load, void *ctx, vb_error *err);

/* Loader helpers: marks `tensor` of `file` as consumed (used[index] = 1), and prints a shape as
 * "[a,b,c]". */
struct vb_safetensors;
struct vb_tensor_view;
void i3d_mark_used(const struct vb_safetensors *file, const struct vb_tensor_view *tensor, unsigned char *used);
void i3d_shape_text(const int64_t *shape, int ndim, char *out, size_t size);

/* Loads and folds the fp32 weights of `file` (already opened) into net; path names the file in
 * errors. (Files written by `vidbench model quantize` load with i3d_quant_load.) */
int i3d_net_load(i3d_net *net, const struct vb_safetensors *file, const char *path, vb_error *err);
/* Frees the parameters; an int8 net's quant is freed by i3d_quant_free. */
void i3d_net_free(i3d_net *net);

/* Output dims of every stage for one clip of `frames` frames (Logits: [t'=frames of the
 * logits conv, 1, 1, classes]); fails when frames is too short. */
int i3d_net_dims(const i3d_net *net, int frames, i3d_dims out[VB_I3D_ENDPOINT_COUNT], vb_error *err);
i3d_dims i3d_conv_out_dims(const i3d_conv *conv, i3d_dims in);
i3d_dims i3d_pool_out_dims(const int kernel[3], const int stride[3], i3d_dims in);

typedef struct i3d_backend_config {
    int threads;              /* resolved count (the reference backends run on 1) */
    int bf16;                 /* oneDNN fp32 backend: bf16 activations and weights (AMX) */
} i3d_backend_config;

/* Backends: each keeps its own state behind these calls. */
typedef struct i3d_backend_ops {
    int (*create)(const i3d_net *net, const i3d_backend_config *config, void **state, vb_error *err);
    void (*destroy)(void *state);
    /* One clip: input [T,224,224,3] in [-1,1] already; logits_per_frame [T'', classes];
     * outputs[e] (may be NULL) receives endpoint e as [T',H',W',C]. */
    int (*forward_clip)(void *state, const float *input, int frames, float *logits_per_frame,
                        float *const outputs[VB_I3D_ENDPOINT_COUNT], vb_error *err);
    int (*plan_memory)(void *state, int frames, int64_t *activation_bytes, int64_t *parameter_bytes,
                       vb_error *err);
} i3d_backend_ops;

/* Calibration: the fp32 oneDNN backend hands each quantization point's tensor (channels last,
 * float) to an observer as soon as it is computed. */
typedef void (*i3d_observer)(void *ctx, int point, const float *values, int64_t count);
int i3d_onednn_set_observer(void *state, i3d_observer observe, void *ctx, vb_error *err);

/* The plain C logits head (average pool 2x7x7 VALID, 1x1x1 conv with bias) the int8 reference
 * shares with the fp32 one. in: (T,7,7,C); logits: (T-1, classes); pooled: scratch [C]. */
void i3d_reference_logits_head(const i3d_conv *conv, const float *in, i3d_dims in_dims, float *logits, float *pooled);

/* For the calibrator (calibrator.c): the net of an open model, and its backend state when that
 * is the fp32 oneDNN backend (NULL otherwise). */
const i3d_net *i3d_model_net(const vb_i3d *model);
void *i3d_model_onednn_fp32_state(vb_i3d *model);

extern const i3d_backend_ops i3d_reference_ops;
extern const i3d_backend_ops i3d_onednn_ops;
extern const i3d_backend_ops i3d_reference_int8_ops;
extern const i3d_backend_ops i3d_onednn_int8_ops;

#endif
