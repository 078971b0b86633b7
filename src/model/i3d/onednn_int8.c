/* The int8 oneDNN I3D backend (Debian libdnnl 2.6, C API): u8 activations channels last
 * (ndhwc, what oneDNN's int8 kernels take), s8 weights in the layout each kernel picks, the
 * bias and requantization fused as per-channel output scales (quant.h has the scheme, which the
 * plain C reference follows to the bit). Mixed blocks: four branch tensors concatenated in u8
 * (exact: they share the block's scale). Mixed_5c goes back to float through a scaling reorder
 * for the fp32 average pool and logits conv. Buffers are reused by role (trunk ping-pong,
 * branches, reduce outputs), sized from the clip length before any primitive is made. */
#include "model/i3d/onednn_common.h"
#include "model/i3d/quant.h"

#include <stdlib.h>
#include <string.h>

enum { BUF_TRUNK0, BUF_TRUNK1, BUF_BRANCH0, BUF_BRANCH1, BUF_BRANCH2, BUF_BRANCH3, BUF_REDUCE, BUF_POOLED,
       BUF_INPUT, BUF_DEQUANT, BUF_AVG, BUF_COUNT };

typedef struct int8_plan {
    int frames;
    onednn_program prog;
    onednn_scratch scratch;
    void *scratch_buffer;
    void *buffer[BUF_COUNT];
    int64_t buffer_bytes[BUF_COUNT];
    dnnl_memory_t frame_logits;                      /* handle set per call */
    dnnl_memory_t endpoint[VB_I3D_ENDPOINT_COUNT];   /* u8 stage outputs */
    int endpoint_point[VB_I3D_ENDPOINT_COUNT];
    int64_t weight_bytes;
} int8_plan;

/* Conv3d_1a as oneDNN runs it: 3 input channels make the int8 kernels no faster than fp32, so
 * the clip is rearranged space-to-depth (each 2x2x2 cell's 8 pixels become 24 channels) and the
 * 7x7x7 stride-2 kernel, zero-extended to 8x8x8, becomes a 4x4x4 stride-1 kernel over them. The
 * int32 sums are the same products in another order: the u8 output stays bit-identical to the
 * reference's direct convolution. */
typedef struct space_to_depth {
    i3d_conv conv;            /* kernel 4x4x4, stride 1, 24 input channels */
    i3d_qconv qconv;          /* rearranged weights; scales and bias shared with Conv3d_1a */
    int8_t *weights;
} space_to_depth;

typedef struct int8_state {
    const i3d_net *net;
    onednn_context ctx;
    int8_plan *plan;
    space_to_depth s2d;
} int8_state;

enum { S2D = 2, S2D_KERNEL = 4, S2D_CHANNELS = 3 * S2D * S2D * S2D };

static int build_space_to_depth(int8_state *st, vb_error *err)
{
    const int index = st->net->stages[VB_I3D_CONV3D_1A_7X7].conv;
    const i3d_conv *c = &st->net->convs[index];
    const i3d_qconv *qc = &st->net->quant->convs[index];
    for (int d = 0; d < 3; d++)
        if (c->kernel[d] > S2D * S2D_KERNEL || c->stride[d] != S2D || c->in_channels != 3)
            return vb_error_set(err, VB_EUNSUPPORTED, "I3D int8: %s is not a 3-channel stride-2 conv of at most 8x8x8",
                                c->name);
    space_to_depth *s = &st->s2d;
    const int cout = c->out_channels;
    s->conv = *c;
    for (int d = 0; d < 3; d++) {
        s->conv.kernel[d] = S2D_KERNEL;
        s->conv.stride[d] = 1;
    }
    s->conv.in_channels = S2D_CHANNELS;
    const size_t count = (size_t)S2D_KERNEL * S2D_KERNEL * S2D_KERNEL * S2D_CHANNELS * cout;
    s->weights = calloc(count, 1);
    if (!s->weights)
        return vb_error_set(err, VB_ENOMEM, "I3D int8 oneDNN backend: out of memory");
    /* W'[at][ah][aw][(bt,bh,bw,c)][o] = W[2at+bt][2ah+bh][2aw+bw][c][o], 0 past the 7x7x7 kernel */
    for (int t = 0; t < c->kernel[0]; t++)
        for (int h = 0; h < c->kernel[1]; h++)
            for (int w = 0; w < c->kernel[2]; w++)
                for (int ch = 0; ch < 3; ch++) {
                    const int8_t *src = qc->weights + ((((size_t)t * c->kernel[1] + h) * c->kernel[2] + w) * 3 + ch) * cout;
                    size_t cell = ((size_t)(t / S2D) * S2D_KERNEL + h / S2D) * S2D_KERNEL + w / S2D;
                    int channel = (((t % S2D) * S2D + h % S2D) * S2D + w % S2D) * 3 + ch;
                    memcpy(s->weights + (cell * S2D_CHANNELS + channel) * cout, src, (size_t)cout);
                }
    s->qconv = *qc;
    s->qconv.weights = s->weights;
    return 0;
}

/* The rearranged clip: [T'+3, H'+3, W'+3, 24] for a Conv3d_1a output of T' x H' x W'. */
static i3d_dims space_to_depth_dims(i3d_dims conv1_out)
{
    return (i3d_dims){conv1_out.t + S2D_KERNEL - 1, conv1_out.h + S2D_KERNEL - 1, conv1_out.w + S2D_KERNEL - 1,
                      S2D_CHANNELS};
}

/* Writes the rearranged clip from the [-1,1] input: the padded clip of quant.h (pixel values,
 * 128 in the padding and past it, where the extended kernel is 0), cell by cell. */
static void space_to_depth_input(const i3d_net *net, const float *input, int frames, i3d_dims q, uint8_t *out)
{
    const i3d_conv *c = &net->convs[net->stages[VB_I3D_CONV3D_1A_7X7].conv];
    const int in[3] = {frames, VB_I3D_INPUT_SIZE, VB_I3D_INPUT_SIZE};
    int pad[3];
    for (int d = 0; d < 3; d++)
        pad[d] = same_pad_before(in[d], c->kernel[d], c->stride[d]);
    memset(out, I3D_INPUT_PAD, (size_t)i3d_dims_count(q));
    for (int t = 0; t < frames; t++) {
        const int pt = t + pad[0];
        for (int h = 0; h < VB_I3D_INPUT_SIZE; h++) {
            const int ph = h + pad[1];
            const float *row = input + ((size_t)t * VB_I3D_INPUT_SIZE + h) * VB_I3D_INPUT_SIZE * 3;
            uint8_t *cell_row = out + ((size_t)(pt / S2D) * q.h + ph / S2D) * q.w * S2D_CHANNELS;
            const int phase = ((pt % S2D) * S2D + ph % S2D) * S2D;
            for (int w = 0; w < VB_I3D_INPUT_SIZE; w++) {
                const int pw = w + pad[2];
                uint8_t *dst = cell_row + (size_t)(pw / S2D) * S2D_CHANNELS + (phase + pw % S2D) * 3;
                for (int ch = 0; ch < 3; ch++)
                    dst[ch] = i3d_saturate_u8(I3D_INPUT_SCALE * (row[w * 3 + ch] + 1.0f));
            }
        }
    }
}

static dnnl_memory_desc_t tensor_md(i3d_dims d, dnnl_data_type_t type)
{
    dnnl_memory_desc_t md;
    dnnl_dims_t dims = {1, d.c, d.t, d.h, d.w};
    dnnl_memory_desc_init_by_tag(&md, 5, dims, type, dnnl_ndhwc);
    return md;
}

static int memory_in(int8_state *st, int8_plan *p, int buffer, i3d_dims d, dnnl_data_type_t type,
                     dnnl_memory_t *out, vb_error *err)
{
    dnnl_memory_desc_t md = tensor_md(d, type);
    return onednn_memory(&st->ctx, &p->prog, &md, p->buffer[buffer], out, err);
}

/* conv: u8 src -> u8 dst (the logits conv: f32 -> f32), SAME padding unless `valid`. */
static int plan_conv_int8(int8_state *st, int8_plan *p, const i3d_conv *c, i3d_dims in, int valid, dnnl_memory_t src,
                          dnnl_memory_t dst, vb_error *err)
{
    const int is_int8 = c->weights == NULL;
    const i3d_qconv *qc = c == &st->s2d.conv ? &st->s2d.qconv : &st->net->quant->convs[c - st->net->convs];
    const dnnl_data_type_t act = is_int8 ? dnnl_u8 : dnnl_f32;
    const i3d_dims out = valid ? (i3d_dims){(in.t - c->kernel[0]) / c->stride[0] + 1, (in.h - c->kernel[1]) / c->stride[1] + 1,
                                            (in.w - c->kernel[2]) / c->stride[2] + 1, c->out_channels}
                               : i3d_conv_out_dims(c, in);
    dnnl_memory_desc_t src_md = tensor_md(in, act), dst_md = tensor_md(out, act);
    onednn_conv_spec spec = {
        .conv = c,
        .in = in,
        .valid = valid,
        .src_md = &src_md,
        .dst_md = &dst_md,
        .weights_type = is_int8 ? dnnl_s8 : dnnl_f32,
        .user_weights_type = is_int8 ? dnnl_s8 : dnnl_f32,
        .weights = is_int8 ? (void *)qc->weights : (void *)c->weights,
        .bias = is_int8 ? qc->bias_acc : c->bias,
        .output_scales = is_int8 ? qc->out_scale : NULL,
        /* u8 saturation clips at 255 by itself; 7-bit activations need the clip */
        .clip_max = is_int8 && st->net->quant->activation_max < 255 ? st->net->quant->activation_max : 0,
    };
    return onednn_plan_conv(&st->ctx, &p->scratch, &p->prog, &spec, src, dst, &p->weight_bytes, err);
}

static int plan_scale_reorder(int8_state *st, int8_plan *p, dnnl_memory_t src, i3d_dims d, float scale, dnnl_memory_t dst,
                              const char *name, vb_error *err)
{
    dnnl_memory_desc_t src_md = tensor_md(d, dnnl_u8), dst_md = tensor_md(d, dnnl_f32);
    return onednn_plan_reorder(&st->ctx, &p->scratch, &p->prog, &src_md, src, &dst_md, dst, scale, name, err);
}

/* Bytes each buffer role needs for clips of dims[]. */
static void size_buffers(const i3d_net *net, int frames, const i3d_dims dims[VB_I3D_ENDPOINT_COUNT], int64_t bytes[BUF_COUNT])
{
    memset(bytes, 0, BUF_COUNT * sizeof *bytes);
    bytes[BUF_INPUT] = i3d_dims_count(space_to_depth_dims(dims[VB_I3D_CONV3D_1A_7X7]));
    for (int e = 0; e < VB_I3D_LOGITS; e++) {
        int64_t n = i3d_dims_count(dims[e]);
        bytes[BUF_TRUNK0] = n > bytes[BUF_TRUNK0] ? n : bytes[BUF_TRUNK0];
        if (net->stages[e].kind != I3D_STAGE_MIXED)
            continue;
        const i3d_conv *c = net->convs;
        const int *m = net->stages[e].mixed;
        const int64_t pixels = (int64_t)dims[e].t * dims[e].h * dims[e].w;
        const int branch[4] = {m[MIX_B0], m[MIX_B1B], m[MIX_B2B], m[MIX_B3]};
        for (int b = 0; b < 4; b++) {
            int64_t bn = pixels * c[branch[b]].out_channels;
            bytes[BUF_BRANCH0 + b] = bn > bytes[BUF_BRANCH0 + b] ? bn : bytes[BUF_BRANCH0 + b];
        }
        for (int r = 0; r < 2; r++) {
            int64_t rn = pixels * c[m[r ? MIX_B2A : MIX_B1A]].out_channels;
            bytes[BUF_REDUCE] = rn > bytes[BUF_REDUCE] ? rn : bytes[BUF_REDUCE];
        }
        int64_t pooled = i3d_dims_count(dims[e - 1]);
        bytes[BUF_POOLED] = pooled > bytes[BUF_POOLED] ? pooled : bytes[BUF_POOLED];
    }
    bytes[BUF_TRUNK1] = bytes[BUF_TRUNK0];
    bytes[BUF_DEQUANT] = i3d_dims_count(dims[VB_I3D_MIXED_5C]) * 4;
    bytes[BUF_AVG] = (int64_t)dims[VB_I3D_LOGITS].t * dims[VB_I3D_MIXED_5C].c * 4;
}

static int plan_mixed_int8(int8_state *st, int8_plan *p, const i3d_stage *s, i3d_dims xd, dnnl_memory_t x,
                           dnnl_memory_t y, vb_error *err)
{
    const i3d_conv *c = st->net->convs;
    const int *m = s->mixed;
    const int branch[4] = {m[MIX_B0], m[MIX_B1B], m[MIX_B2B], m[MIX_B3]};
    dnnl_memory_t out[4];
    dnnl_memory_desc_t out_md[4];
    int rc;
    for (int b = 0; b < 4; b++) {
        i3d_dims bd = {xd.t, xd.h, xd.w, c[branch[b]].out_channels};
        out_md[b] = tensor_md(bd, dnnl_u8);
        if ((rc = memory_in(st, p, BUF_BRANCH0 + b, bd, dnnl_u8, &out[b], err)))
            return rc;
    }
    if ((rc = plan_conv_int8(st, p, &c[m[MIX_B0]], xd, 0, x, out[0], err)))
        return rc;
    for (int r = 0; r < 2; r++) {
        const i3d_conv *reduce = &c[m[r ? MIX_B2A : MIX_B1A]];
        i3d_dims rd = {xd.t, xd.h, xd.w, reduce->out_channels};
        dnnl_memory_t rm;
        if ((rc = memory_in(st, p, BUF_REDUCE, rd, dnnl_u8, &rm, err)) ||
            (rc = plan_conv_int8(st, p, reduce, xd, 0, x, rm, err)) ||
            (rc = plan_conv_int8(st, p, &c[branch[1 + r]], rd, 0, rm, out[1 + r], err)))
            return rc;
    }
    dnnl_memory_t pooled;
    dnnl_memory_desc_t x_md = tensor_md(xd, dnnl_u8);
    static const int k3[3] = {3, 3, 3}, s1[3] = {1, 1, 1};
    if ((rc = memory_in(st, p, BUF_POOLED, xd, dnnl_u8, &pooled, err)) ||
        (rc = onednn_plan_pool(&st->ctx, &p->scratch, &p->prog, dnnl_pooling_max, k3, s1, 1, xd, &x_md, x, &x_md, pooled,
                               c[m[MIX_B3]].name, err)) ||
        (rc = plan_conv_int8(st, p, &c[m[MIX_B3]], xd, 0, pooled, out[3], err)))
        return rc;
    i3d_dims yd = {xd.t, xd.h, xd.w, 0};
    for (int b = 0; b < 4; b++)
        yd.c += c[branch[b]].out_channels;
    dnnl_memory_desc_t y_md = tensor_md(yd, dnnl_u8);
    return onednn_plan_concat(&st->ctx, &p->scratch, &p->prog, 4, out_md, out, &y_md, y, vb_i3d_endpoint_name(s->endpoint), err);
}

static int plan_stages(int8_state *st, int8_plan *p, const i3d_dims dims[VB_I3D_ENDPOINT_COUNT], vb_error *err)
{
    const i3d_net *net = st->net;
    const i3d_quant *q = net->quant;
    i3d_dims xd = space_to_depth_dims(dims[VB_I3D_CONV3D_1A_7X7]);
    dnnl_memory_t x;
    int rc = memory_in(st, p, BUF_INPUT, xd, dnnl_u8, &x, err);
    if (rc)
        return rc;
    int point = I3D_POINT_INPUT, next = BUF_TRUNK0;
    for (int e = 0; e < VB_I3D_ENDPOINT_COUNT; e++) {
        const i3d_stage *s = &net->stages[e];
        if (s->kind == I3D_STAGE_LOGITS) {
            /* u8 -> float, average pool 2x7x7 VALID, fp32 1x1x1 conv into the caller's [T'', classes] */
            i3d_dims avg = {xd.t - 1, 1, 1, xd.c};
            dnnl_memory_t dequant, pooled, logits;
            dnnl_memory_desc_t dq_md = tensor_md(xd, dnnl_f32), avg_md = tensor_md(avg, dnnl_f32),
                               logits_md = tensor_md(dims[e], dnnl_f32);
            static const int k[3] = {2, 7, 7}, s1[3] = {1, 1, 1};
            if ((rc = memory_in(st, p, BUF_DEQUANT, xd, dnnl_f32, &dequant, err)) ||
                (rc = plan_scale_reorder(st, p, x, xd, 1.0f / q->point_scale[point], dequant, "Mixed_5c", err)) ||
                (rc = memory_in(st, p, BUF_AVG, avg, dnnl_f32, &pooled, err)) ||
                (rc = onednn_plan_pool(&st->ctx, &p->scratch, &p->prog, dnnl_pooling_avg_exclude_padding, k, s1, 0, xd, &dq_md, dequant,
                                       &avg_md, pooled, "Logits/AvgPool3D", err)) ||
                (rc = onednn_memory(&st->ctx, &p->prog, &logits_md, NULL, &logits, err)) ||
                (rc = plan_conv_int8(st, p, &net->convs[s->conv], avg, 0, pooled, logits, err)))
                return rc;
            p->frame_logits = logits;
            break;
        }
        const i3d_dims yd = dims[e];
        dnnl_memory_t y;
        if ((rc = memory_in(st, p, next, yd, dnnl_u8, &y, err)))
            return rc;
        if (s->kind == I3D_STAGE_CONV && point == I3D_POINT_INPUT) {
            rc = plan_conv_int8(st, p, &st->s2d.conv, xd, 1, x, y, err);
            point = net->convs[s->conv].out_point;
        } else if (s->kind == I3D_STAGE_CONV) {
            rc = plan_conv_int8(st, p, &net->convs[s->conv], xd, 0, x, y, err);
            point = net->convs[s->conv].out_point;
        } else if (s->kind == I3D_STAGE_MAXPOOL) {
            dnnl_memory_desc_t x_md = tensor_md(xd, dnnl_u8), y_md = tensor_md(yd, dnnl_u8);
            rc = onednn_plan_pool(&st->ctx, &p->scratch, &p->prog, dnnl_pooling_max, s->pool_kernel, s->pool_stride, 1, xd, &x_md, x,
                                  &y_md, y, vb_i3d_endpoint_name(s->endpoint), err);
        } else {
            rc = plan_mixed_int8(st, p, s, xd, x, y, err);
            point = net->convs[s->mixed[MIX_B0]].out_point;
        }
        if (rc)
            return rc;
        if (p->scratch.binding)
            p->prog.ops[p->prog.num_ops - 1].endpoint_after = e;
        p->endpoint[e] = y;
        p->endpoint_point[e] = point;
        x = y;
        xd = yd;
        next = next == BUF_TRUNK0 ? BUF_TRUNK1 : BUF_TRUNK0;
    }
    return 0;
}

static void plan_free(int8_plan *p)
{
    if (!p)
        return;
    onednn_program_free(&p->prog);
    for (int b = 0; b < BUF_COUNT; b++)
        free(p->buffer[b]);
    free(p->scratch_buffer);
    free(p);
}

static int make_plan(int8_state *st, int frames, vb_error *err)
{
    if (st->plan && st->plan->frames == frames)
        return 0;
    plan_free(st->plan);
    st->plan = NULL;
    i3d_dims dims[VB_I3D_ENDPOINT_COUNT];
    int rc = i3d_net_dims(st->net, frames, dims, err);
    if (rc)
        return rc;
    int8_plan *p = calloc(1, sizeof *p);
    if (!p)
        return vb_error_set(err, VB_ENOMEM, "I3D int8 oneDNN backend: out of memory");
    p->frames = frames;
    size_buffers(st->net, frames, dims, p->buffer_bytes);
    for (int b = 0; b < BUF_COUNT; b++) {
        p->buffer[b] = aligned_alloc(64, (size_t)((p->buffer_bytes[b] + 63) / 64 * 64 + 64));
        if (!p->buffer[b]) {
            rc = vb_error_set(err, VB_ENOMEM, "I3D int8 oneDNN backend: out of memory for %lld activation bytes",
                              (long long)p->buffer_bytes[b]);
            goto fail;
        }
    }
    /* sizing pass for the shared scratchpad, then the real one */
    if ((rc = plan_stages(st, p, dims, err)))
        goto fail;
    onednn_program_free(&p->prog);
    p->scratch_buffer = aligned_alloc(64, (size_t)((p->scratch.need + 63) / 64 * 64 + 64));
    if (!p->scratch_buffer) {
        rc = vb_error_set(err, VB_ENOMEM, "I3D int8 oneDNN backend: out of memory for %lld scratch bytes",
                          (long long)p->scratch.need);
        goto fail;
    }
    p->scratch.base = p->scratch_buffer;
    p->scratch.binding = 1;
    if ((rc = plan_stages(st, p, dims, err)))
        goto fail;
    st->plan = p;
    return 0;
fail:
    plan_free(p);
    return rc;
}

static void int8_destroy(void *opaque)
{
    int8_state *st = opaque;
    if (!st)
        return;
    plan_free(st->plan);
    onednn_context_free(&st->ctx);
    free(st->s2d.weights);
    free(st);
}

static int int8_create(const i3d_net *net, const i3d_backend_config *config, void **out, vb_error *err)
{
    if (!net->quant || !net->quant->prepared)
        return vb_error_set(err, VB_EINVAL, "I3D int8 oneDNN backend: needs a prepared int8 net");
    int8_state *st = calloc(1, sizeof *st);
    if (!st)
        return vb_error_set(err, VB_ENOMEM, "I3D int8 oneDNN backend: out of memory");
    st->net = net;
    int rc = onednn_context_init(&st->ctx, config->threads, err);
    if (!rc)
        rc = build_space_to_depth(st, err);
    if (rc) {
        int8_destroy(st);
        return rc;
    }
    *out = st;
    return 0;
}

static int int8_forward_clip(void *opaque, const float *input, int frames, float *logits_per_frame,
                             float *const outputs[VB_I3D_ENDPOINT_COUNT], vb_error *err)
{
    int8_state *st = opaque;
    onednn_set_threads(&st->ctx);
    int rc = make_plan(st, frames, err);
    if (rc)
        return rc;
    int8_plan *p = st->plan;
    i3d_dims dims[VB_I3D_ENDPOINT_COUNT];
    if ((rc = i3d_net_dims(st->net, frames, dims, err)))
        return rc;
    space_to_depth_input(st->net, input, frames, space_to_depth_dims(dims[VB_I3D_CONV3D_1A_7X7]), p->buffer[BUF_INPUT]);
    dnnl_status_t status = dnnl_memory_set_data_handle(p->frame_logits, logits_per_frame);
    if (status != dnnl_success)
        return onednn_fail(err, status, "output", "logits");
    for (int i = 0; i < p->prog.num_ops; i++) {
        const onednn_op *op = &p->prog.ops[i];
        status = dnnl_primitive_execute(op->primitive, st->ctx.stream, op->nargs, op->args);
        if (status != dnnl_success)
            return onednn_fail(err, status, "execution", "I3D int8 layer");
        int e = op->endpoint_after;
        if (e >= 0 && outputs && outputs[e]) {
            /* the CPU stream runs primitives to completion: the endpoint is in its buffer now */
            void *handle = NULL;
            dnnl_memory_get_data_handle(p->endpoint[e], &handle);
            const uint8_t *u = handle;
            const float inv = 1.0f / st->net->quant->point_scale[p->endpoint_point[e]];
            const int64_t n = i3d_dims_count(dims[e]);
            for (int64_t k = 0; k < n; k++)
                outputs[e][k] = (float)u[k] * inv;
        }
    }
    status = dnnl_stream_wait(st->ctx.stream);
    return status == dnnl_success ? 0 : onednn_fail(err, status, "execution", "I3D int8");
}

static int int8_plan_memory(void *opaque, int frames, int64_t *activation_bytes, int64_t *parameter_bytes, vb_error *err)
{
    int8_state *st = opaque;
    onednn_set_threads(&st->ctx);
    int rc = make_plan(st, frames, err);
    if (rc)
        return rc;
    int64_t total = 0;
    for (int b = 0; b < BUF_COUNT; b++)
        total += st->plan->buffer_bytes[b];
    total += st->plan->scratch.need;
    *activation_bytes = total;
    *parameter_bytes = st->plan->weight_bytes + st->net->parameter_count * 4 + st->net->quant->weight_count;
    return 0;
}

const i3d_backend_ops i3d_onednn_int8_ops = {
    .create = int8_create,
    .destroy = int8_destroy,
    .forward_clip = int8_forward_clip,
    .plan_memory = int8_plan_memory,
};
