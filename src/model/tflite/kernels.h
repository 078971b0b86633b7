/* int8 kernels of the TFLite interpreter: TFLite's fixed-point helpers (bit-exact with
 * tensorflow/lite/kernels/internal/common.h), the plain C reference kernels and the vector
 * kernels (AVX2, AVX-512 VNNI) that must equal them bit for bit. Internal. */
#ifndef VB_TFLITE_KERNELS_H
#define VB_TFLITE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* gemmlowp SaturatingRoundingDoublingHighMul: (a*b*2 + 2^31 rounding) >> 32, saturating the
 * single overflow case INT32_MIN*INT32_MIN. The division truncates toward zero like C++. */
static inline int32_t tfl_saturating_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN)
        return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero. 0 <= exponent <= 31. */
static inline int32_t tfl_rounding_divide_by_pot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* TFLite MultiplyByQuantizedMultiplier (double rounding): shift > 0 is a left shift done
 * before the multiply (int32 wrap-around like the C++ code on every target), shift <= 0 a
 * rounding right shift after it. */
static inline int32_t tfl_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift)
{
    const int left_shift = shift > 0 ? shift : 0;
    const int right_shift = shift > 0 ? 0 : -shift;
    const int32_t shifted = (int32_t)(uint32_t)((uint32_t)x << left_shift);
    return tfl_rounding_divide_by_pot(tfl_saturating_rounding_doubling_high_mul(shifted, multiplier),
                                      right_shift);
}

/* TFLite QuantizeMultiplier: real = multiplier * 2^(shift-31), multiplier in [2^30, 2^31).
 * Multipliers below 2^-31 flush to zero; shifts above 30 saturate (both never occur in
 * converted models, but keep every shift in [-31, 30]). */
void tfl_quantize_multiplier(double real_multiplier, int32_t *multiplier, int *shift);

/* CalculateActivationRangeQuantized for int8 outputs. */
void tfl_activation_range_int8(int activation, float scale, int32_t zero_point,
                               int32_t *act_min, int32_t *act_max);

/* Parameters of CONV_2D / DEPTHWISE_CONV_2D on NHWC int8 tensors with per-channel weights. */
typedef struct tfl_conv_params {
    int batches;
    int in_h, in_w, in_c;
    int out_h, out_w, out_c;
    int k_h, k_w;
    int stride_h, stride_w, dilation_h, dilation_w;
    int pad_top, pad_left;
    int depth_multiplier;           /* depthwise only */
    int32_t input_offset;           /* -input zero point */
    int32_t output_offset;          /* output zero point */
    int32_t act_min, act_max;
    const int8_t *filter;           /* conv: [out_c][k_h][k_w][in_c]; depthwise: [k_h][k_w][out_c] */
    const int32_t *bias;            /* [out_c] or NULL */
    const int32_t *multiplier;      /* [out_c] */
    const int32_t *shift;           /* [out_c] */
} tfl_conv_params;

/* The taps of pooling window (oy, ox) inside the input: rows iy0 + [fy0, fy1), columns
 * ix0 + [fx0, fx1); TFLite's padded taps do not count (count = the valid ones). */
typedef struct tfl_pool_window {
    int iy0, ix0, fy0, fy1, fx0, fx1, count;
} tfl_pool_window;

static inline tfl_pool_window tfl_pool_window_at(const tfl_conv_params *p, int oy, int ox)
{
    tfl_pool_window w;
    w.iy0 = oy * p->stride_h - p->pad_top;
    w.ix0 = ox * p->stride_w - p->pad_left;
    w.fy0 = w.iy0 < 0 ? -w.iy0 : 0;
    w.fx0 = w.ix0 < 0 ? -w.ix0 : 0;
    w.fy1 = p->k_h < p->in_h - w.iy0 ? p->k_h : p->in_h - w.iy0;
    w.fx1 = p->k_w < p->in_w - w.ix0 ? p->k_w : p->in_w - w.ix0;
    w.count = (w.fy1 - w.fy0) * (w.fx1 - w.fx0);
    return w;
}

/* Reference kernels. conv: output rows [row_begin, row_end) of the flattened (batch, out_y)
 * index; depthwise: output pixels [pixel_begin, pixel_end) of the flattened (batch, y, x). */
void tfl_conv_ref(const tfl_conv_params *p, const int8_t *input, int8_t *output, int row_begin, int row_end);
void tfl_depthwise_ref(const tfl_conv_params *p, const int8_t *input, int8_t *output, int pixel_begin, int pixel_end);

/* Vector kernels. A packed convolution owns weights rearranged for one instruction set. */
typedef struct tfl_packed_conv {
    int level;                      /* 1 AVX2, 2 AVX-512 VNNI */
    int k_padded;                   /* k_h*k_w*in_c rounded up to 4 */
    int n_padded;                   /* out_c rounded up to the block width */
    void *weights;                  /* level 2: int8 [n/32][k/4][32][4]; level 1: int16 [n/16][k/2][16][2] */
    int32_t *bias_adjusted;         /* bias - (zp+128)*sum(w) for level 2, bias for level 1; [n_padded] */
    int32_t *multiplier, *left_shift, *right_shift;   /* [n_padded] */
} tfl_packed_conv;

int tfl_cpu_level(void);            /* 0, 1 (AVX2) or 2 (AVX-512 VNNI + BW + VL) */
int tfl_pack_conv(const tfl_conv_params *p, int level, tfl_packed_conv *packed);
void tfl_packed_conv_free(tfl_packed_conv *packed);
/* Scratch bytes one thread needs for tfl_conv_vector over `pixels` output pixels. */
size_t tfl_conv_scratch_bytes(const tfl_conv_params *p, const tfl_packed_conv *packed, int pixels);
/* Output pixels [pixel_begin, pixel_end) of the flattened (batch, y, x) index, output
 * channels [n_begin, n_end) (multiples of the block width except at out_c). */
void tfl_conv_vector(const tfl_conv_params *p, const tfl_packed_conv *packed, const int8_t *input,
                     int8_t *output, int pixel_begin, int pixel_end, int n_begin, int n_end, void *scratch);
void tfl_depthwise_vector(int level, const tfl_conv_params *p, const int8_t *input, int8_t *output,
                          int pixel_begin, int pixel_end);
/* int8 ADD (left_shift 20) and MUL on equal shapes, TFLite add.h / mul.h arithmetic. */
typedef struct tfl_elementwise_params {
    int is_add;
    int32_t in1_offset, in2_offset, out_offset, left_shift;
    int32_t in1_mult, in2_mult, out_mult;
    int in1_shift, in2_shift, out_shift;
    int32_t act_min, act_max;
} tfl_elementwise_params;
/* Returns 1 when done, 0 when this level has no vector version (caller falls back). */
int tfl_add_mul_vector(int level, const tfl_elementwise_params *e, const int8_t *a, const int8_t *b, int8_t *out,
                       size_t n);

/* out[i] = table[(uint8)a[i] * 256 + (uint8)b[i]] for a tabulated int8 element function. */
void tfl_lookup2_vector(int level, const int8_t *table, const int8_t *a, const int8_t *b, int8_t *out, size_t n);

/* AVERAGE_POOL_2D on int8 (k_h x k_w window, equal input and output quantization). */
void tfl_avgpool_ref(const tfl_conv_params *p, const int8_t *input, int8_t *output);
void tfl_avgpool_vector(int level, const tfl_conv_params *p, const int8_t *input, int8_t *output);

/* float -> int8 (TFLite AffineQuantize): zero_point + round(x / scale), clamped. */
void tfl_quantize_ref(const float *input, int8_t *output, size_t n, float scale, int32_t zero_point);
void tfl_quantize_vector(int level, const float *input, int8_t *output, size_t n, float scale,
                         int32_t zero_point);

#endif
