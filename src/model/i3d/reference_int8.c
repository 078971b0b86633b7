/* The int8 reference I3D backend: plain C loops over channels-last u8 tensors following
 * quant.h's scheme step by step (int32 sums, then float bias, scale, round half even and u8
 * saturation), the oracle the oneDNN int8 backend is tested against. One clip at a time,
 * single-threaded. Mixed_5c is turned back into float for the fp32 logits head it shares with
 * the fp32 reference. */
#include "model/i3d/quant.h"
#include "model/i3d/reference_pool.h"

#include <stdlib.h>
#include <string.h>

typedef struct reference_int8_state {
    const i3d_net *net;
    uint8_t *arena;           /* the padded clip, two trunk buffers and one branch temp */
    int64_t arena_bytes;
    int32_t *acc;             /* [CONV_PIXELS, max channels] */
    float *dequantized;       /* Mixed_5c as float, for the logits head */
    int64_t dequantized_floats;
    float *pooled;
    int max_channels;
} reference_int8_state;

#define CONV_PIXELS 4

/* acc[p][co] += sum_ci src[p][ci] * w[ci][co] for CONV_PIXELS pixels (exact in int32: quant.c
 * bounds the fan-in). */
__attribute__((target_clones("arch=skylake-avx512", "avx2", "default")))
static void conv_accumulate_u8(const uint8_t *const src[CONV_PIXELS], const int8_t *restrict w, int cin, int cout,
                               int32_t *restrict acc)
{
    int32_t *restrict acc0 = acc, *restrict acc1 = acc + cout, *restrict acc2 = acc + 2 * cout,
                      *restrict acc3 = acc + 3 * cout;
    for (int ci = 0; ci < cin; ci++) {
        const int32_t a0 = src[0][ci], a1 = src[1][ci], a2 = src[2][ci], a3 = src[3][ci];
        const int8_t *restrict row = w + (size_t)ci * cout;
        for (int co = 0; co < cout; co++) {
            acc0[co] += a0 * row[co];
            acc1[co] += a1 * row[co];
            acc2[co] += a2 * row[co];
            acc3[co] += a3 * row[co];
        }
    }
}

/* 3-D convolution u8 -> u8. same: TF SAME padding with zeros (x = 0); else VALID (Conv3d_1a
 * over the written-out padding). out: pixel stride out_stride bytes, so a branch writes its
 * channel slice of the block. */
static void conv3d_u8(const i3d_conv *conv, const i3d_qconv *qc, int activation_max, const uint8_t *in,
                      i3d_dims in_dims, int same, uint8_t *out, int out_stride, const uint8_t *zeros, int32_t *acc)
{
    const int kt = conv->kernel[0], kh = conv->kernel[1], kw = conv->kernel[2];
    const int st = conv->stride[0], sh = conv->stride[1], sw = conv->stride[2];
    const int in_d[3] = {in_dims.t, in_dims.h, in_dims.w}, k[3] = {kt, kh, kw}, s[3] = {st, sh, sw};
    int pad[3], od[3];
    for (int d = 0; d < 3; d++) {
        pad[d] = same ? same_pad_before(in_d[d], k[d], s[d]) : 0;
        od[d] = same ? same_out(in_d[d], s[d]) : (in_d[d] - k[d]) / s[d] + 1;
    }
    const int cin = conv->in_channels, cout = conv->out_channels;
    for (int t = 0; t < od[0]; t++)
        for (int h = 0; h < od[1]; h++)
            for (int w0 = 0; w0 < od[2]; w0 += CONV_PIXELS) {
                memset(acc, 0, (size_t)CONV_PIXELS * cout * sizeof *acc);
                for (int dt = 0; dt < kt; dt++) {
                    int ti = t * st - pad[0] + dt;
                    if (ti < 0 || ti >= in_dims.t)
                        continue;
                    for (int dh = 0; dh < kh; dh++) {
                        int hi = h * sh - pad[1] + dh;
                        if (hi < 0 || hi >= in_dims.h)
                            continue;
                        const uint8_t *row = in + ((size_t)ti * in_dims.h + hi) * in_dims.w * cin;
                        for (int dw = 0; dw < kw; dw++) {
                            const uint8_t *src[CONV_PIXELS];
                            for (int p = 0; p < CONV_PIXELS; p++) {
                                int wi = (w0 + p) * sw - pad[2] + dw;
                                int valid = w0 + p < od[2] && wi >= 0 && wi < in_dims.w;
                                src[p] = valid ? row + (size_t)wi * cin : zeros;
                            }
                            const int8_t *wk = qc->weights + (((size_t)dt * kh + dh) * kw + dw) * cin * cout;
                            conv_accumulate_u8(src, wk, cin, cout, acc);
                        }
                    }
                }
                for (int p = 0; p < CONV_PIXELS && w0 + p < od[2]; p++) {
                    uint8_t *o = out + (((size_t)t * od[1] + h) * od[2] + w0 + p) * out_stride;
                    const int32_t *a = acc + (size_t)p * cout;
                    for (int co = 0; co < cout; co++)
                        o[co] = i3d_saturate(((float)a[co] + qc->bias_acc[co]) * qc->out_scale[co], activation_max);
                }
            }
}

/* Max pool with TF SAME padding (padded cells never win), u8 -> u8: exact. */
I3D_DEFINE_MAX_POOL(maxpool3d_u8, uint8_t, 0)

/* Sizes: trunk buffers hold the largest stage output, temp the largest reduce output or pooled
 * block input; plus the padded clip. */
static int64_t arena_need(const i3d_net *net, const i3d_dims dims[VB_I3D_ENDPOINT_COUNT], int frames, int64_t *trunk,
                          int64_t *temp, int *max_channels)
{
    *trunk = *temp = 0;
    *max_channels = 3;
    for (int e = 0; e < VB_I3D_LOGITS; e++) {
        int64_t n = i3d_dims_count(dims[e]);
        *trunk = n > *trunk ? n : *trunk;
        *max_channels = dims[e].c > *max_channels ? dims[e].c : *max_channels;
        if (net->stages[e].kind == I3D_STAGE_MIXED) {
            const i3d_conv *c = net->convs;
            int64_t in_count = i3d_dims_count(dims[e - 1]);
            int64_t pixels = (int64_t)dims[e].t * dims[e].h * dims[e].w;
            int64_t r1 = pixels * c[net->stages[e].mixed[MIX_B1A]].out_channels;
            int64_t r2 = pixels * c[net->stages[e].mixed[MIX_B2A]].out_channels;
            int64_t m = in_count > r1 ? in_count : r1;
            m = m > r2 ? m : r2;
            *temp = m > *temp ? m : *temp;
        }
    }
    return 2 * *trunk + *temp + i3d_dims_count(i3d_quant_padded_input_dims(net, frames)) + *max_channels;
}

static int reference_int8_plan_memory(void *opaque, int frames, int64_t *activation_bytes, int64_t *parameter_bytes,
                                      vb_error *err)
{
    reference_int8_state *st = opaque;
    i3d_dims dims[VB_I3D_ENDPOINT_COUNT];
    int rc = i3d_net_dims(st->net, frames, dims, err);
    if (rc)
        return rc;
    int64_t trunk, temp;
    int max_c;
    int64_t bytes = arena_need(st->net, dims, frames, &trunk, &temp, &max_c);
    *activation_bytes = bytes + (int64_t)CONV_PIXELS * max_c * 4 + i3d_dims_count(dims[VB_I3D_MIXED_5C]) * 4;
    *parameter_bytes = st->net->parameter_count * 4 + st->net->quant->weight_count;
    return 0;
}

static int reference_int8_create(const i3d_net *net, const i3d_backend_config *config, void **out, vb_error *err)
{
    (void)config;
    if (!net->quant || !net->quant->prepared)
        return vb_error_set(err, VB_EINVAL, "I3D int8 reference backend: needs a prepared int8 net");
    reference_int8_state *st = calloc(1, sizeof *st);
    if (!st)
        return vb_error_set(err, VB_ENOMEM, "I3D int8 reference backend: out of memory");
    st->net = net;
    *out = st;
    return 0;
}

static void reference_int8_destroy(void *opaque)
{
    reference_int8_state *st = opaque;
    if (!st)
        return;
    free(st->arena);
    free(st->acc);
    free(st->dequantized);
    free(st->pooled);
    free(st);
}

static void dequantize(const uint8_t *x, int64_t n, float scale, float *out)
{
    const float inv = 1.0f / scale;
    for (int64_t i = 0; i < n; i++)
        out[i] = (float)x[i] * inv;
}

static int reserve(reference_int8_state *st, int64_t bytes, int max_c, int64_t dequantized, vb_error *err)
{
    if (st->arena_bytes < bytes) {
        free(st->arena);
        st->arena = malloc((size_t)bytes);
        st->arena_bytes = st->arena ? bytes : 0;
    }
    if (st->max_channels < max_c) {
        free(st->acc);
        free(st->pooled);
        st->acc = malloc((size_t)CONV_PIXELS * max_c * sizeof *st->acc);
        st->pooled = malloc((size_t)max_c * sizeof *st->pooled);
        st->max_channels = st->acc && st->pooled ? max_c : 0;
    }
    if (st->dequantized_floats < dequantized) {
        free(st->dequantized);
        st->dequantized = malloc((size_t)dequantized * sizeof(float));
        st->dequantized_floats = st->dequantized ? dequantized : 0;
    }
    if (!st->arena || !st->acc || !st->pooled || !st->dequantized)
        return vb_error_set(err, VB_ENOMEM, "I3D int8 reference backend: out of memory for %lld activation bytes",
                            (long long)bytes);
    return 0;
}

static int reference_int8_forward_clip(void *opaque, const float *input, int frames, float *logits_per_frame,
                                       float *const outputs[VB_I3D_ENDPOINT_COUNT], vb_error *err)
{
    reference_int8_state *st = opaque;
    const i3d_net *net = st->net;
    const i3d_quant *q = net->quant;
    i3d_dims dims[VB_I3D_ENDPOINT_COUNT];
    int rc = i3d_net_dims(net, frames, dims, err);
    if (rc)
        return rc;
    int64_t trunk, temp;
    int max_c;
    int64_t need = arena_need(net, dims, frames, &trunk, &temp, &max_c);
    if ((rc = reserve(st, need, max_c, i3d_dims_count(dims[VB_I3D_MIXED_5C]), err)))
        return rc;
    uint8_t *buffers[2] = {st->arena, st->arena + trunk};
    uint8_t *branch_temp = st->arena + 2 * trunk;
    uint8_t *padded = branch_temp + temp;
    const i3d_dims padded_dims = i3d_quant_padded_input_dims(net, frames);
    uint8_t *zeros = padded + i3d_dims_count(padded_dims);
    memset(zeros, 0, (size_t)max_c);
    i3d_quant_pad_input(net, input, frames, padded);

    const uint8_t *x = padded;
    i3d_dims xd = padded_dims;
    int point = I3D_POINT_INPUT, next = 0;
    for (int e = 0; e < VB_I3D_ENDPOINT_COUNT; e++) {
        const i3d_stage *s = &net->stages[e];
        uint8_t *y = buffers[next];
        if (s->kind == I3D_STAGE_LOGITS) {
            const int64_t n = i3d_dims_count(xd);
            dequantize(x, n, q->point_scale[point], st->dequantized);
            i3d_reference_logits_head(&net->convs[s->conv], st->dequantized, xd, logits_per_frame, st->pooled);
            break;
        }
        const i3d_conv *c = net->convs;
        if (s->kind == I3D_STAGE_CONV) {
            conv3d_u8(&c[s->conv], &q->convs[s->conv], q->activation_max, x, xd, point != I3D_POINT_INPUT, y, dims[e].c, zeros, st->acc);
            point = c[s->conv].out_point;
        } else if (s->kind == I3D_STAGE_MAXPOOL) {
            maxpool3d_u8(x, xd, s->pool_kernel, s->pool_stride, y);
        } else {
            /* y: (T,H,W, b0|b1|b2|b3), each branch in its channel slice */
            const int *m = s->mixed;
            const int stride = dims[e].c;
            const i3d_qconv *qc = q->convs;
            int offset = 0;
            conv3d_u8(&c[m[MIX_B0]], &qc[m[MIX_B0]], q->activation_max, x, xd, 1, y, stride, zeros, st->acc);
            offset += c[m[MIX_B0]].out_channels;
            for (int b = 0; b < 2; b++) {
                const int reduce = m[b ? MIX_B2A : MIX_B1A], conv = m[b ? MIX_B2B : MIX_B1B];
                i3d_dims rd = {xd.t, xd.h, xd.w, c[reduce].out_channels};
                conv3d_u8(&c[reduce], &qc[reduce], q->activation_max, x, xd, 1, branch_temp, rd.c, zeros, st->acc);
                conv3d_u8(&c[conv], &qc[conv], q->activation_max, branch_temp, rd, 1, y + offset, stride, zeros, st->acc);
                offset += c[conv].out_channels;
            }
            static const int k3[3] = {3, 3, 3}, s1[3] = {1, 1, 1};
            maxpool3d_u8(x, xd, k3, s1, branch_temp);
            conv3d_u8(&c[m[MIX_B3]], &qc[m[MIX_B3]], q->activation_max, branch_temp, xd, 1, y + offset, stride, zeros, st->acc);
            point = c[m[MIX_B0]].out_point;
        }
        if (outputs && outputs[e])
            dequantize(y, i3d_dims_count(dims[e]), q->point_scale[point], outputs[e]);
        x = y;
        xd = dims[e];
        next ^= 1;
    }
    return 0;
}

const i3d_backend_ops i3d_reference_int8_ops = {
    .create = reference_int8_create,
    .destroy = reference_int8_destroy,
    .forward_clip = reference_int8_forward_clip,
    .plan_memory = reference_int8_plan_memory,
};
