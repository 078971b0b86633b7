/* The plain C max pool both reference backends use (fp32 on float tensors, int8 on u8 ones):
 * TensorFlow SAME padding where padded cells never win, channels last. Written once as a
 * template so the two oracles cannot drift apart. */
#ifndef VB_I3D_REFERENCE_POOL_H
#define VB_I3D_REFERENCE_POOL_H

#include "model/i3d/net.h"

/* Defines `static void NAME(const TYPE *in, i3d_dims in_dims, const int kernel[3], const int
 * stride[3], TYPE *out)`; LOWEST is below every value the tensor can hold. */
#define I3D_DEFINE_MAX_POOL(NAME, TYPE, LOWEST)                                                            \
    static void NAME(const TYPE *in, i3d_dims in_dims, const int kernel[3], const int stride[3], TYPE *out) \
    {                                                                                                      \
        const i3d_dims od = i3d_pool_out_dims(kernel, stride, in_dims);                                    \
        const int c = in_dims.c;                                                                           \
        const int pt = same_pad_before(in_dims.t, kernel[0], stride[0]);                                   \
        const int ph = same_pad_before(in_dims.h, kernel[1], stride[1]);                                   \
        const int pw = same_pad_before(in_dims.w, kernel[2], stride[2]);                                   \
        for (int t = 0; t < od.t; t++)                                                                     \
            for (int h = 0; h < od.h; h++)                                                                 \
                for (int w = 0; w < od.w; w++) {                                                           \
                    TYPE *o = out + (((size_t)t * od.h + h) * od.w + w) * c;                               \
                    for (int ch = 0; ch < c; ch++)                                                         \
                        o[ch] = LOWEST;                                                                    \
                    for (int dt = 0; dt < kernel[0]; dt++) {                                               \
                        int ti = t * stride[0] - pt + dt;                                                  \
                        if (ti < 0 || ti >= in_dims.t)                                                     \
                            continue;                                                                      \
                        for (int dh = 0; dh < kernel[1]; dh++) {                                           \
                            int hi = h * stride[1] - ph + dh;                                              \
                            if (hi < 0 || hi >= in_dims.h)                                                 \
                                continue;                                                                  \
                            for (int dw = 0; dw < kernel[2]; dw++) {                                       \
                                int wi = w * stride[2] - pw + dw;                                          \
                                if (wi < 0 || wi >= in_dims.w)                                             \
                                    continue;                                                              \
                                const TYPE *x = in + (((size_t)ti * in_dims.h + hi) * in_dims.w + wi) * c; \
                                for (int ch = 0; ch < c; ch++)                                             \
                                    o[ch] = x[ch] > o[ch] ? x[ch] : o[ch];                                 \
                            }                                                                              \
                        }                                                                                  \
                    }                                                                                      \
                }                                                                                          \
    }

#endif
