/* int8 I3D: the quantized network `vidbench model quantize` writes and the int8 backends run.
 *
 * Scheme (the same in the plain C reference and in oneDNN, so both give identical u8 tensors):
 *  - weights: per output channel symmetric s8, w ~= q / weight_scale[oc], weight_scale =
 *    127 / max|w[..., oc]| of the BatchNorm-folded fp32 weights;
 *  - activations: every conv output is u8 after ReLU with one scale per tensor (a quantization
 *    point, net->point_name): x ~= u / scale, scale = 255 / the calibrated threshold; max pools
 *    and the channel concatenation of Mixed blocks are exact in u8 because the four branches of
 *    a block share its point;
 *  - the clip is u8 too: u = 127.5 (x + 1), i.e. the decoded pixel itself. Its SAME padding is
 *    written out with u = 128 (x = 1/255 instead of 0: u8 cannot hold 127.5) and Conv3d_1a runs
 *    VALID over it, its bias compensating the 127.5 offset;
 *  - a conv: acc = sum(u * q) in int32; u_out = saturate_u8(round_half_even((float(acc) +
 *    bias_acc[oc]) * out_scale[oc])) with bias_acc = bias * s_in * weight_scale and out_scale =
 *    s_out / (s_in * weight_scale): oneDNN's output scales applied after its bias, and u8
 *    saturation doing the ReLU;
 *  - Mixed_5c is turned back into float (u / scale) for the 2x7x7 average pool and the logits
 *    conv, which stay fp32.
 * CPUs without VNNI multiply u8 by s8 with vpmaddubsw, whose int16 pair sums saturate when
 * both factors use 8 bits (255 * 127 * 2 > 32767). There (the "narrow" arithmetic) activations
 * use 7 bits: scale / 2 and values clipped to [0,127] (a clip post-op in oneDNN), so 127 * 127 * 2
 * fits and the weights keep their 8 bits; only Conv3d_1a, whose input is the 8-bit pixel, has
 * its weights halved to 7 bits (round half even, scale / 2). Both backends run the same narrow
 * arithmetic: exact again. Measured on the golden cases, this halves the error of halving every
 * weight instead (docs/i3d.md). */
#ifndef VB_I3D_QUANT_H
#define VB_I3D_QUANT_H

#include <stdint.h>
#include "model/i3d/net.h"

#define I3D_INT8_FORMAT "vidbench-i3d-int8"
#define I3D_INT8_FORMAT_VERSION "1"
#define I3D_INPUT_SCALE 127.5f   /* u8 clip value per unit of the network's [-1,1] input */
#define I3D_INPUT_PAD 128        /* the clip's padding value */

typedef struct i3d_qconv {
    int8_t *weights;          /* [kt,kh,kw,cin,cout] as the kernels run them */
    float *weight_scale;      /* [cout]: w ~= weights / weight_scale */
    float *out_scale;         /* [cout]: s_out / (s_in * weight_scale) */
    float *bias_acc;          /* [cout]: the bias in accumulator units (+ Conv3d_1a's offset) */
} i3d_qconv;

typedef struct i3d_quant {
    float point_scale[I3D_MAX_POINTS];   /* u8 per unit of each point's float tensor */
    i3d_qconv convs[I3D_MAX_CONVS];      /* indexed like net->convs; the logits conv stays fp32 */
    int narrow;                          /* prepared for kernels without VNNI (see above) */
    int activation_max;                  /* u8 activations run up to this: 255, or 127 narrow */
    int prepared;
    char *path;                          /* the file it was loaded from, for i3d_quant_prepare's errors */
    int8_t *weight_storage;
    int64_t weight_count;
    float *float_storage;
} i3d_quant;

struct vb_safetensors;
/* A file whose metadata says it was written by i3d_quant_write. */
int i3d_quant_file_is_int8(const struct vb_safetensors *file);
/* Loads an int8 file (every tensor, shape and scale checked) into net, quant set. */
int i3d_quant_load(i3d_net *net, const struct vb_safetensors *file, const char *path, vb_error *err);
void i3d_quant_free(struct i3d_quant **quant);

/* Derives out_scale and bias_acc, for the narrow arithmetic of CPUs without VNNI (narrow 1) or
 * the full one (0). Once. */
int i3d_quant_prepare(i3d_net *net, int narrow, vb_error *err);

/* Quantizes the fp32 net's weights and writes the int8 file with the activation thresholds
 * (threshold[p]: the float value u8 255 stands for at point p) and string metadata pairs. */
int i3d_quant_write(const char *path, const i3d_net *fp32, const float threshold[I3D_MAX_POINTS],
                    const char *const *metadata, int n_metadata, vb_error *err);

/* The u8 clip conv1 reads: [T + pad, 224 + pad, 224 + pad, 3], SAME padding of Conv3d_1a
 * written out. input: [T,224,224,3] in [-1,1]. padded_dims receives the padded shape. */
i3d_dims i3d_quant_padded_input_dims(const i3d_net *net, int frames);
void i3d_quant_pad_input(const i3d_net *net, const float *input, int frames, uint8_t *padded);

/* round half even, saturated to [0, max] (max 255 or 127): the conversion both int8 backends
 * apply (oneDNN clips to max before it rounds; with integer bounds that is the same) */
static inline uint8_t i3d_saturate(float v, int max)
{
    if (!(v > 0.0f))
        return 0;
    if (v >= (float)max)
        return (uint8_t)max;
    return (uint8_t)__builtin_rintf(v);
}

static inline uint8_t i3d_saturate_u8(float v) { return i3d_saturate(v, 255); }

#endif
