/* The reference I3D backend: plain C loops over channels-last tensors, the oracle the oneDNN
 * backend is tested against. One clip at a time, single-threaded; the convolution's inner loop
 * runs over output channels so the compiler vectorizes it (cloned for AVX-512/AVX2 at run time). */
#include "model/i3d/net.h"
#include "model/i3d/reference_pool.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

typedef struct reference_state {
    const i3d_net *net;
    float *arena;             /* planned activations: two trunk buffers + one branch temp */
    int64_t arena_floats;
    int arena_frames;
    float *zeros;             /* [max cin]: stands in for padded input pixels */
} reference_state;

/* Output pixels computed together along w, so each weight row loaded feeds 4 FMAs. */
#define CONV_PIXELS 4

/* acc[p][co] += sum_ci src[p][ci] * w[ci][co] for CONV_PIXELS pixels.
 * src[p]: [cin]; w: [cin, cout]; acc: [CONV_PIXELS, cout]. */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void conv_accumulate(const float *const src[CONV_PIXELS], const float *restrict w, int cin,
                            int cout, float *restrict acc)
{
    float *restrict acc0 = acc, *restrict acc1 = acc + cout, *restrict acc2 = acc + 2 * cout,
                    *restrict acc3 = acc + 3 * cout;
    for (int ci = 0; ci < cin; ci++) {
        const float a0 = src[0][ci], a1 = src[1][ci], a2 = src[2][ci], a3 = src[3][ci];
        const float *restrict row = w + (size_t)ci * cout;
        for (int co = 0; co < cout; co++) {
            acc0[co] += a0 * row[co];
            acc1[co] += a1 * row[co];
            acc2[co] += a2 * row[co];
            acc3[co] += a3 * row[co];
        }
    }
}

/* 3-D convolution with TF SAME padding, bias and optional ReLU.
 * in: (T,H,W,cin); out: (T',H',W',cout) written with a pixel stride of out_stride floats, so a
 * branch can write straight into its channel slice of a concatenated tensor. */
static void conv3d_same(const i3d_conv *conv, const float *in, i3d_dims in_dims, float *out,
                        int out_stride, const float *zeros, float *acc)
{
    const i3d_dims od = i3d_conv_out_dims(conv, in_dims);
    const int kt = conv->kernel[0], kh = conv->kernel[1], kw = conv->kernel[2];
    const int st = conv->stride[0], sh = conv->stride[1], sw = conv->stride[2];
    const int pt = same_pad_before(in_dims.t, kt, st), ph = same_pad_before(in_dims.h, kh, sh),
              pw = same_pad_before(in_dims.w, kw, sw);
    const int cin = conv->in_channels, cout = conv->out_channels;
    for (int t = 0; t < od.t; t++) {
        for (int h = 0; h < od.h; h++) {
            for (int w0 = 0; w0 < od.w; w0 += CONV_PIXELS) {
                for (int p = 0; p < CONV_PIXELS; p++)
                    memcpy(acc + (size_t)p * cout, conv->bias, (size_t)cout * sizeof(float));
                for (int dt = 0; dt < kt; dt++) {
                    int ti = t * st - pt + dt;
                    if (ti < 0 || ti >= in_dims.t)
                        continue;
                    for (int dh = 0; dh < kh; dh++) {
                        int hi = h * sh - ph + dh;
                        if (hi < 0 || hi >= in_dims.h)
                            continue;
                        const float *row = in + ((size_t)ti * in_dims.h + hi) * in_dims.w * cin;
                        for (int dw = 0; dw < kw; dw++) {
                            const float *src[CONV_PIXELS];
                            for (int p = 0; p < CONV_PIXELS; p++) {
                                int wi = (w0 + p) * sw - pw + dw;
                                int valid = w0 + p < od.w && wi >= 0 && wi < in_dims.w;
                                src[p] = valid ? row + (size_t)wi * cin : zeros;
                            }
                            const float *wk = conv->weights + (((size_t)dt * kh + dh) * kw + dw) * cin * cout;
                            conv_accumulate(src, wk, cin, cout, acc);
                        }
                    }
                }
                for (int p = 0; p < CONV_PIXELS && w0 + p < od.w; p++) {
                    float *o = out + (((size_t)t * od.h + h) * od.w + w0 + p) * out_stride;
                    const float *a = acc + (size_t)p * cout;
                    for (int co = 0; co < cout; co++)
                        o[co] = conv->relu && a[co] < 0.0f ? 0.0f : a[co];
                }
            }
        }
    }
}

/* Max pool with TF SAME padding (padded cells never win). */
I3D_DEFINE_MAX_POOL(maxpool3d_same, float, -FLT_MAX)

/* Logits before the time mean: average pool 2x7x7 VALID (stride 1), then the 1x1x1 conv with
 * bias. in: (T,7,7,C); logits: (T-1, classes); pooled: scratch [C]. */
void i3d_reference_logits_head(const i3d_conv *conv, const float *in, i3d_dims in_dims, float *logits, float *pooled)
{
    const int c = in_dims.c, classes = conv->out_channels;
    const size_t frame = (size_t)in_dims.h * in_dims.w * c;
    for (int t = 0; t + 1 < in_dims.t; t++) {
        for (int ch = 0; ch < c; ch++)
            pooled[ch] = 0.0f;
        for (size_t i = 0; i < 2 * frame; i += c)
            for (int ch = 0; ch < c; ch++)
                pooled[ch] += in[t * frame + i + ch];
        float inv = 1.0f / (float)(2 * in_dims.h * in_dims.w);
        float *out = logits + (size_t)t * classes;
        memcpy(out, conv->bias, (size_t)classes * sizeof(float));
        for (int ch = 0; ch < c; ch++) {
            const float a = pooled[ch] * inv;
            const float *row = conv->weights + (size_t)ch * classes;
            for (int k = 0; k < classes; k++)
                out[k] += a * row[k];
        }
    }
}

/* Activation sizes for one clip: trunk buffers hold the largest stage output; the branch temp
 * holds the largest reduce-conv output or pooled block input. */
static void plan(const i3d_net *net, const i3d_dims dims[VB_I3D_ENDPOINT_COUNT], int64_t *trunk,
                 int64_t *temp, int *max_channels)
{
    *trunk = 0;
    *temp = 0;
    *max_channels = 3;
    for (int e = 0; e < VB_I3D_ENDPOINT_COUNT; e++) {
        int64_t n = i3d_dims_count(dims[e]);
        if (n > *trunk)
            *trunk = n;
        if (dims[e].c > *max_channels)
            *max_channels = dims[e].c;
        if (net->stages[e].kind == I3D_STAGE_MIXED) {
            int64_t in_count = i3d_dims_count(dims[e - 1]);
            const i3d_conv *c = net->convs;
            int reduce = c[net->stages[e].mixed[MIX_B1A]].out_channels;
            if (c[net->stages[e].mixed[MIX_B2A]].out_channels > reduce)
                reduce = c[net->stages[e].mixed[MIX_B2A]].out_channels;
            int64_t reduce_count = (int64_t)dims[e].t * dims[e].h * dims[e].w * reduce;
            if (in_count > *temp)
                *temp = in_count;
            if (reduce_count > *temp)
                *temp = reduce_count;
        }
    }
}

static int reference_plan_memory(void *opaque, int frames, int64_t *activation_bytes, int64_t *parameter_bytes,
                                 vb_error *err)
{
    reference_state *st = opaque;
    i3d_dims dims[VB_I3D_ENDPOINT_COUNT];
    int rc = i3d_net_dims(st->net, frames, dims, err);
    if (rc)
        return rc;
    int64_t trunk, temp;
    int max_c;
    plan(st->net, dims, &trunk, &temp, &max_c);
    /* + conv accumulators and the zero row */
    *activation_bytes = (int64_t)(2 * trunk + temp + (CONV_PIXELS + 2) * (int64_t)max_c) * (int64_t)sizeof(float);
    *parameter_bytes = st->net->parameter_count * (int64_t)sizeof(float);
    return 0;
}

static int reference_create(const i3d_net *net, const i3d_backend_config *config, void **out, vb_error *err)
{
    (void)config;
    reference_state *st = calloc(1, sizeof *st);
    if (!st)
        return vb_error_set(err, VB_ENOMEM, "I3D reference backend: out of memory");
    st->net = net;
    *out = st;
    return 0;
}

static void reference_destroy(void *opaque)
{
    reference_state *st = opaque;
    if (!st)
        return;
    free(st->arena);
    free(st);
}

static void copy_endpoint(float *const outputs[VB_I3D_ENDPOINT_COUNT], int e, const float *x, i3d_dims d)
{
    if (outputs && outputs[e])
        memcpy(outputs[e], x, (size_t)i3d_dims_count(d) * sizeof(float));
}

static int reference_forward_clip(void *opaque, const float *input, int frames, float *logits_per_frame,
                                  float *const outputs[VB_I3D_ENDPOINT_COUNT], vb_error *err)
{
    reference_state *st = opaque;
    const i3d_net *net = st->net;
    i3d_dims dims[VB_I3D_ENDPOINT_COUNT];
    int rc = i3d_net_dims(net, frames, dims, err);
    if (rc)
        return rc;
    int64_t trunk, temp;
    int max_c;
    plan(net, dims, &trunk, &temp, &max_c);
    int64_t need = 2 * trunk + temp + (CONV_PIXELS + 2) * (int64_t)max_c;
    if (st->arena_floats < need) {
        free(st->arena);
        st->arena = malloc((size_t)need * sizeof(float));
        st->arena_floats = st->arena ? need : 0;
        if (!st->arena)
            return vb_error_set(err, VB_ENOMEM, "I3D reference backend: out of memory for %lld activation floats",
                                (long long)need);
    }
    float *buffers[2] = {st->arena, st->arena + trunk};
    float *branch_temp = st->arena + 2 * trunk;
    float *acc = branch_temp + temp;                       /* [CONV_PIXELS, max_c] */
    float *zeros = acc + (int64_t)CONV_PIXELS * max_c;     /* [max_c] */
    float *pooled = zeros + max_c;                         /* [max_c] */
    memset(zeros, 0, (size_t)max_c * sizeof(float));

    const float *x = input;
    i3d_dims xd = {frames, VB_I3D_INPUT_SIZE, VB_I3D_INPUT_SIZE, 3};
    int next = 0;
    for (int e = 0; e < VB_I3D_ENDPOINT_COUNT; e++) {
        const i3d_stage *s = &net->stages[e];
        float *y = buffers[next];
        switch (s->kind) {
        case I3D_STAGE_CONV:
            conv3d_same(&net->convs[s->conv], x, xd, y, dims[e].c, zeros, acc);
            break;
        case I3D_STAGE_MAXPOOL:
            maxpool3d_same(x, xd, s->pool_kernel, s->pool_stride, y);
            break;
        case I3D_STAGE_MIXED: {
            /* y: (T,H,W, b0|b1|b2|b3): each branch writes its channel slice. */
            const i3d_conv *c = net->convs;
            const i3d_conv *b0 = &c[s->mixed[MIX_B0]], *b1a = &c[s->mixed[MIX_B1A]], *b1b = &c[s->mixed[MIX_B1B]],
                           *b2a = &c[s->mixed[MIX_B2A]], *b2b = &c[s->mixed[MIX_B2B]], *b3 = &c[s->mixed[MIX_B3]];
            const int stride = dims[e].c;
            int offset = 0;
            conv3d_same(b0, x, xd, y + offset, stride, zeros, acc);
            offset += b0->out_channels;
            i3d_dims reduce = {xd.t, xd.h, xd.w, b1a->out_channels};
            conv3d_same(b1a, x, xd, branch_temp, reduce.c, zeros, acc);
            conv3d_same(b1b, branch_temp, reduce, y + offset, stride, zeros, acc);
            offset += b1b->out_channels;
            reduce.c = b2a->out_channels;
            conv3d_same(b2a, x, xd, branch_temp, reduce.c, zeros, acc);
            conv3d_same(b2b, branch_temp, reduce, y + offset, stride, zeros, acc);
            offset += b2b->out_channels;
            static const int k3[3] = {3, 3, 3}, s1[3] = {1, 1, 1};
            maxpool3d_same(x, xd, k3, s1, branch_temp);
            conv3d_same(b3, branch_temp, xd, y + offset, stride, zeros, acc);
            break;
        }
        case I3D_STAGE_LOGITS:
            i3d_reference_logits_head(&net->convs[s->conv], x, xd, logits_per_frame, pooled);
            continue;
        }
        copy_endpoint(outputs, e, y, dims[e]);
        x = y;
        xd = dims[e];
        next ^= 1;
    }
    return 0;
}

const i3d_backend_ops i3d_reference_ops = {
    .create = reference_create,
    .destroy = reference_destroy,
    .forward_clip = reference_forward_clip,
    .plan_memory = reference_plan_memory,
};
