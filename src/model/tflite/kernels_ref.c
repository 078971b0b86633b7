/* Plain C reference kernels, written after TFLite's reference_integer_ops (conv.h,
 * depthwise_conv.h) and quantization_util.cc. Every vector kernel is tested against these. */
#include "kernels.h"

#include <math.h>

#include "vidbench/tflite.h"

void tfl_quantize_multiplier(double real_multiplier, int32_t *multiplier, int *shift)
{
    if (real_multiplier == 0.0) {
        *multiplier = 0;
        *shift = 0;
        return;
    }
    const double q = frexp(real_multiplier, shift);
    int64_t q_fixed = (int64_t)round(q * (double)((int64_t)1 << 31));
    if (q_fixed == ((int64_t)1 << 31)) {
        q_fixed /= 2;
        ++*shift;
    }
    if (*shift < -31) {
        *shift = 0;
        q_fixed = 0;
    }
    if (*shift > 30) {
        *shift = 30;
        q_fixed = ((int64_t)1 << 31) - 1;
    }
    *multiplier = (int32_t)q_fixed;
}

void tfl_activation_range_int8(int activation, float scale, int32_t zero_point,
                               int32_t *act_min, int32_t *act_max)
{
    /* TFLite quantizes the activation bounds with float division and std::round. */
#define QUANTIZE_BOUND(f) (zero_point + (int32_t)roundf((f) / scale))
    int32_t lo = -128, hi = 127;
    if (activation == VB_TFLITE_ACT_RELU) {
        int32_t z = QUANTIZE_BOUND(0.0f);
        lo = z > lo ? z : lo;
    } else if (activation == VB_TFLITE_ACT_RELU6) {
        int32_t z = QUANTIZE_BOUND(0.0f), six = QUANTIZE_BOUND(6.0f);
        lo = z > lo ? z : lo;
        hi = six < hi ? six : hi;
    } else if (activation == VB_TFLITE_ACT_RELU_N1_TO_1) {
        int32_t m1 = QUANTIZE_BOUND(-1.0f), p1 = QUANTIZE_BOUND(1.0f);
        lo = m1 > lo ? m1 : lo;
        hi = p1 < hi ? p1 : hi;
    }
#undef QUANTIZE_BOUND
    *act_min = lo;
    *act_max = hi;
}

static inline int8_t requantize(int32_t acc, const tfl_conv_params *p, int channel)
{
    /* Additions wrap like the vector kernels' (a well-formed model never gets near it). */
    if (p->bias)
        acc = (int32_t)((uint32_t)acc + (uint32_t)p->bias[channel]);
    acc = tfl_multiply_by_quantized_multiplier(acc, p->multiplier[channel], p->shift[channel]);
    acc = (int32_t)((uint32_t)acc + (uint32_t)p->output_offset);
    acc = acc < p->act_min ? p->act_min : acc;
    acc = acc > p->act_max ? p->act_max : acc;
    return (int8_t)acc;
}

/* out: (N, out_h, out_w, out_c); padded positions are skipped, i.e. count as the zero point. */
void tfl_conv_ref(const tfl_conv_params *p, const int8_t *input, int8_t *output, int row_begin, int row_end)
{
    for (int row = row_begin; row < row_end; row++) {
        const int b = row / p->out_h, out_y = row % p->out_h;
        const int8_t *in_batch = input + (size_t)b * p->in_h * p->in_w * p->in_c;
        for (int out_x = 0; out_x < p->out_w; out_x++) {
            const int in_y0 = out_y * p->stride_h - p->pad_top;
            const int in_x0 = out_x * p->stride_w - p->pad_left;
            int8_t *out = output + (((size_t)b * p->out_h + out_y) * p->out_w + out_x) * p->out_c;
            for (int oc = 0; oc < p->out_c; oc++) {
                int32_t acc = 0;
                for (int ky = 0; ky < p->k_h; ky++) {
                    const int in_y = in_y0 + p->dilation_h * ky;
                    if (in_y < 0 || in_y >= p->in_h)
                        continue;
                    for (int kx = 0; kx < p->k_w; kx++) {
                        const int in_x = in_x0 + p->dilation_w * kx;
                        if (in_x < 0 || in_x >= p->in_w)
                            continue;
                        const int8_t *in = in_batch + ((size_t)in_y * p->in_w + in_x) * p->in_c;
                        const int8_t *w = p->filter + (((size_t)oc * p->k_h + ky) * p->k_w + kx) * p->in_c;
                        for (int ic = 0; ic < p->in_c; ic++)
                            acc += (in[ic] + p->input_offset) * w[ic];
                    }
                }
                out[oc] = requantize(acc, p, oc);
            }
        }
    }
}

/* out: (N, out_h, out_w, in_c * depth_multiplier); filter (1, k_h, k_w, out_c). Output
 * pixels [pixel_begin, pixel_end) of the flattened (batch, y, x) index. */
void tfl_depthwise_ref(const tfl_conv_params *p, const int8_t *input, int8_t *output, int pixel_begin, int pixel_end)
{
    for (int pixel = pixel_begin; pixel < pixel_end; pixel++) {
        const int b = pixel / (p->out_h * p->out_w), rem = pixel % (p->out_h * p->out_w);
        const int out_y = rem / p->out_w, out_x = rem % p->out_w;
        const int8_t *in_batch = input + (size_t)b * p->in_h * p->in_w * p->in_c;
        const int in_y0 = out_y * p->stride_h - p->pad_top;
        const int in_x0 = out_x * p->stride_w - p->pad_left;
        int8_t *out = output + (size_t)pixel * p->out_c;
        for (int ic = 0; ic < p->in_c; ic++) {
            for (int m = 0; m < p->depth_multiplier; m++) {
                const int oc = ic * p->depth_multiplier + m;
                int32_t acc = 0;
                for (int ky = 0; ky < p->k_h; ky++) {
                    const int in_y = in_y0 + p->dilation_h * ky;
                    if (in_y < 0 || in_y >= p->in_h)
                        continue;
                    for (int kx = 0; kx < p->k_w; kx++) {
                        const int in_x = in_x0 + p->dilation_w * kx;
                        if (in_x < 0 || in_x >= p->in_w)
                            continue;
                        const int32_t x = in_batch[((size_t)in_y * p->in_w + in_x) * p->in_c + ic];
                        const int32_t w = p->filter[((size_t)ky * p->k_w + kx) * p->out_c + oc];
                        acc += (x + p->input_offset) * w;
                    }
                }
                out[oc] = requantize(acc, p, oc);
            }
        }
    }
}

/* reference_integer_ops::AveragePool: windows cut by the padding average only their valid
 * taps; the average rounds half away from zero. out: (N, out_h, out_w, C). */
void tfl_avgpool_ref(const tfl_conv_params *p, const int8_t *input, int8_t *output)
{
    for (int b = 0; b < p->batches; b++)
        for (int oy = 0; oy < p->out_h; oy++)
            for (int ox = 0; ox < p->out_w; ox++) {
                const tfl_pool_window w = tfl_pool_window_at(p, oy, ox);
                const int iy0 = w.iy0, ix0 = w.ix0, fy0 = w.fy0, fy1 = w.fy1, fx0 = w.fx0, fx1 = w.fx1;
                const int count = w.count;
                int8_t *out = output + (((size_t)b * p->out_h + oy) * p->out_w + ox) * p->in_c;
                for (int c = 0; c < p->in_c; c++) {
                    int32_t acc = 0;
                    for (int fy = fy0; fy < fy1; fy++)
                        for (int fx = fx0; fx < fx1; fx++)
                            /* iy0, ix0 < 0 in the padding, but iy0 + fy and ix0 + fx never are:
                             * add them as ints, so no negative value is wrapped through size_t */
                            acc += input[(((size_t)b * p->in_h + (size_t)(iy0 + fy)) * p->in_w + (size_t)(ix0 + fx)) *
                                             p->in_c + c];
                    /* A window entirely in the padding cannot occur with TFLite's padding; 0. */
                    if (count > 0)
                        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    acc = acc < p->act_min ? p->act_min : acc > p->act_max ? p->act_max : acc;
                    out[c] = (int8_t)acc;
                }
            }
}

void tfl_quantize_ref(const float *input, int8_t *output, size_t n, float scale, int32_t zero_point)
{
    for (size_t i = 0; i < n; i++) {
        /* TFLite: static_cast<int32>(round(x / scale)) + zero_point, clamped. Values far out of
         * range (and NaN) are clamped first so that the conversion is defined; the clamped
         * result is the same. */
        float q = input[i] / scale;
        if (!(q >= -1.0e6f))
            q = -1.0e6f;
        if (q > 1.0e6f)
            q = 1.0e6f;
        int32_t v = (int32_t)roundf(q) + zero_point;
        v = v < -128 ? -128 : v;
        v = v > 127 ? 127 : v;
        output[i] = (int8_t)v;
    }
}
