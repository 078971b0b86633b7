/* The oneDNN I3D backend (Debian libdnnl 2.6, C API): convolutions with the folded BatchNorm
 * bias and ReLU fused as post-ops, activations kept in oneDNN's blocked layout (nCdhw16c with
 * AVX-512, nCdhw8c otherwise) from layer to layer, Inception branches written straight into
 * their channel slice of the block output, pooling in oneDNN. Clips run one at a time (N=1):
 * that is what makes a channel slice of a blocked tensor a dense tensor of its own.
 * Threads: Debian builds oneDNN with OpenMP, so the count is set with omp_set_num_threads. */
#include "model/i3d/onednn_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRY ONEDNN_TRY

/* Everything that depends on the clip length: primitives, reordered weights, the arena. */
typedef struct onednn_plan {
    int frames;
    onednn_program prog;
    dnnl_memory_t input;                     /* conv1 src, handle set per call */
    dnnl_memory_t frame_logits;              /* logits conv dst, handle set per call */
    dnnl_memory_t endpoint[VB_I3D_ENDPOINT_COUNT];   /* each stage's output (in the arena) */
    dnnl_primitive_t readout[VB_I3D_ENDPOINT_COUNT]; /* blocked -> ndhwc, made on first use */
    dnnl_memory_desc_t readout_md[VB_I3D_ENDPOINT_COUNT];
    void *arena;
    int64_t arena_bytes;
    int64_t weight_bytes;
    int in_place_blocks;                     /* Mixed blocks concatenated without a copy */
} onednn_plan;

typedef struct onednn_state {
    const i3d_net *net;
    onednn_context ctx;
    dnnl_data_type_t act_type;   /* f32, or bf16 (AMX) */
    dnnl_format_tag_t act_tag;   /* blocked activation layout */
    int block;                   /* its channel block: 16 or 8 */
    onednn_plan *plan;
    i3d_observer observe;        /* calibration (i3d_onednn_set_observer) */
    void *observe_ctx;
    float *observed;             /* an observed tensor as plain float */
    int64_t observed_floats;
    /* Per Mixed block: branch 1 and 2 reduce convs merged into one 1x1 conv (they read the
     * same input), weights [cin, c1+c2]; built when c1 is a multiple of the block. */
    i3d_conv merged_reduce[VB_I3D_ENDPOINT_COUNT];
    float *merged_parameters;
} onednn_state;

/* ---- planning helpers ---- */

/* Arena layout is computed in a first pass (sizes only) and bound in a second. */
typedef struct arena_layout {
    int64_t trunk[2], temp, concat, input;            /* region sizes in bytes */
    onednn_scratch scratch;                           /* binding: the second pass */
    char *base[6];                                    /* in enum order below */
} arena_layout;

enum { REGION_TRUNK0, REGION_TRUNK1, REGION_TEMP, REGION_CONCAT, REGION_SCRATCH, REGION_INPUT, REGION_COUNT };

static void grow(int64_t *have, int64_t need) { if (need > *have) *have = need; }

static dnnl_memory_desc_t act_md(const onednn_state *st, i3d_dims d)
{
    dnnl_memory_desc_t md;
    dnnl_dims_t dims = {1, d.c, d.t, d.h, d.w};
    dnnl_memory_desc_init_by_tag(&md, 5, dims, st->act_type, st->act_tag);
    return md;
}

static dnnl_memory_desc_t plain_md(i3d_dims d)
{
    dnnl_memory_desc_t md;
    dnnl_dims_t dims = {1, d.c, d.t, d.h, d.w};
    dnnl_memory_desc_init_by_tag(&md, 5, dims, dnnl_f32, dnnl_ndhwc);
    return md;
}

/* Convolution with the folded BatchNorm bias and ReLU fused, in the backend's activation type. */
static int plan_conv(onednn_state *st, onednn_plan *p, arena_layout *lay, const i3d_conv *c, i3d_dims in,
                     const dnnl_memory_desc_t *src_md, dnnl_memory_t src, const dnnl_memory_desc_t *dst_md,
                     dnnl_memory_t dst, vb_error *err)
{
    onednn_conv_spec spec = {.conv = c, .in = in, .src_md = src_md, .dst_md = dst_md, .weights_type = st->act_type,
                             .user_weights_type = dnnl_f32, .weights = c->weights, .bias = c->bias, .relu = c->relu};
    return onednn_plan_conv(&st->ctx, &lay->scratch, &p->prog, &spec, src, dst, &p->weight_bytes, err);
}

/* Calibration: the last op planned completes quantization point `point`, held in `memory`. */
static void mark_observed(onednn_plan *p, const arena_layout *lay, int point, dnnl_memory_t memory)
{
    if (!lay->scratch.binding || p->prog.num_ops == 0 || point < 0)
        return;
    onednn_op *op = &p->prog.ops[p->prog.num_ops - 1];
    int k = op->observe_point[0] < 0 ? 0 : 1;
    op->observe_point[k] = point;
    op->observe_memory[k] = memory;
}

/* The src layout oneDNN's fastest kernel wants for conv (format "any"). */
static int choose_conv_src(onednn_state *st, const i3d_conv *c, i3d_dims in, i3d_dims out, dnnl_memory_desc_t *src_md,
                           vb_error *err)
{
    int rc = 0;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_memory_desc_t src_any, dst_md = act_md(st, out);
    dnnl_dims_t sdims = {1, in.c, in.t, in.h, in.w};
    dnnl_memory_desc_init_by_tag(&src_any, 5, sdims, st->act_type, dnnl_format_tag_any);
    dnnl_convolution_desc_t desc;
    onednn_conv_spec spec = {.conv = c, .in = in, .src_md = &src_any, .dst_md = &dst_md, .weights_type = st->act_type};
    TRY(onednn_conv_desc_init(&desc, &spec), "convolution descriptor", c->name);
    TRY(dnnl_primitive_desc_create(&pd, &desc, NULL, st->ctx.engine, NULL), "convolution", c->name);
    *src_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
fail:
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    return rc;
}

/* One Inception block: x (region `in_region`) -> y (region `out_region`). */
static int plan_mixed(onednn_state *st, onednn_plan *p, arena_layout *lay, const i3d_stage *s, i3d_dims xd,
                      const dnnl_memory_desc_t *x_md, dnnl_memory_t x, const dnnl_memory_desc_t *y_md, dnnl_memory_t y,
                      char *y_base, vb_error *err)
{
    const i3d_conv *c = st->net->convs;
    const i3d_conv *branch_out[4] = {&c[s->mixed[MIX_B0]], &c[s->mixed[MIX_B1B]], &c[s->mixed[MIX_B2B]],
                                     &c[s->mixed[MIX_B3]]};
    const int pixels = xd.t * xd.h * xd.w;
    /* In place when every slice starts on a channel block: with N=1 the slice of a blocked
     * [C/b][T][H][W][b] tensor is then itself a dense blocked tensor at an offset. */
    int in_place = 1;
    for (int b = 0, offset = 0; b < 3; b++) {
        offset += branch_out[b]->out_channels;
        in_place &= offset % st->block == 0;
    }
    dnnl_memory_desc_t out_md[4];
    dnnl_memory_t out_mem[4];
    int64_t concat_bytes = 0;
    int rc;
    for (int b = 0, offset = 0; b < 4; b++) {
        i3d_dims bd = {xd.t, xd.h, xd.w, branch_out[b]->out_channels};
        out_md[b] = act_md(st, bd);
        char *ptr = NULL;
        if (in_place)
            ptr = y_base ? y_base + (int64_t)offset * pixels * (st->act_type == dnnl_f32 ? 4 : 2) : NULL;
        else
            ptr = lay->base[REGION_CONCAT] ? lay->base[REGION_CONCAT] + concat_bytes : NULL;
        concat_bytes += (onednn_md_bytes(&out_md[b]) + 63) / 64 * 64;
        if ((rc = onednn_memory(&st->ctx, &p->prog, &out_md[b], ptr, &out_mem[b], err)))
            return rc;
        offset += bd.c;
    }
    if (!in_place)
        grow(&lay->concat, concat_bytes);
    else
        p->in_place_blocks += lay->scratch.binding;

    char *temp = lay->base[REGION_TEMP];
    /* branch 0: 1x1 */
    if ((rc = plan_conv(st, p, lay, branch_out[0], xd, x_md, x, &out_md[0], out_mem[0], err)))
        return rc;
    /* branches 1 and 2: 1x1 reduce into the temp region, then 3x3x3. With the merged reduce
     * conv both reductions come out of one primitive as [c1 | c2] and each 3x3x3 conv reads
     * its (block-aligned, hence dense) channel slice. */
    const i3d_conv *merged = &st->merged_reduce[s->endpoint];
    if (in_place && merged->weights) {
        const int c1 = c[s->mixed[MIX_B1A]].out_channels, c2 = c[s->mixed[MIX_B2A]].out_channels;
        i3d_dims md_dims = {xd.t, xd.h, xd.w, c1 + c2}, r1_dims = md_dims, r2_dims = md_dims;
        r1_dims.c = c1;
        r2_dims.c = c2;
        dnnl_memory_desc_t m_md = act_md(st, md_dims), r1_md = act_md(st, r1_dims), r2_md = act_md(st, r2_dims);
        grow(&lay->temp, onednn_md_bytes(&m_md));
        dnnl_memory_t m, r1, r2;
        if ((rc = onednn_memory(&st->ctx, &p->prog, &m_md, temp, &m, err)) ||
            (rc = onednn_memory(&st->ctx, &p->prog, &r1_md, temp, &r1, err)) ||
            (rc = onednn_memory(&st->ctx, &p->prog, &r2_md, temp ? temp + onednn_md_bytes(&r1_md) : NULL, &r2, err)) ||
            (rc = plan_conv(st, p, lay, merged, xd, x_md, x, &m_md, m, err)))
            return rc;
        mark_observed(p, lay, c[s->mixed[MIX_B1A]].out_point, r1);
        mark_observed(p, lay, c[s->mixed[MIX_B2A]].out_point, r2);
        if ((rc = plan_conv(st, p, lay, branch_out[1], r1_dims, &r1_md, r1, &out_md[1], out_mem[1], err)) ||
            (rc = plan_conv(st, p, lay, branch_out[2], r2_dims, &r2_md, r2, &out_md[2], out_mem[2], err)))
            return rc;
    }
    for (int b = 1; b <= 2 && !(in_place && merged->weights); b++) {
        const i3d_conv *reduce = &c[s->mixed[b == 1 ? MIX_B1A : MIX_B2A]];
        i3d_dims rd = {xd.t, xd.h, xd.w, reduce->out_channels};
        dnnl_memory_desc_t r_md = act_md(st, rd);
        grow(&lay->temp, onednn_md_bytes(&r_md));
        dnnl_memory_t r;
        if ((rc = onednn_memory(&st->ctx, &p->prog, &r_md, temp, &r, err)) ||
            (rc = plan_conv(st, p, lay, reduce, xd, x_md, x, &r_md, r, err)))
            return rc;
        mark_observed(p, lay, reduce->out_point, r);
        if ((rc = plan_conv(st, p, lay, branch_out[b], rd, &r_md, r, &out_md[b], out_mem[b], err)))
            return rc;
    }
    /* branch 3: 3x3x3 max pool (stride 1, SAME) into temp, then 1x1 */
    dnnl_memory_desc_t pooled_md = act_md(st, xd);
    grow(&lay->temp, onednn_md_bytes(&pooled_md));
    dnnl_memory_t pooled;
    static const int k3[3] = {3, 3, 3}, s1[3] = {1, 1, 1};
    if ((rc = onednn_memory(&st->ctx, &p->prog, &pooled_md, temp, &pooled, err)) ||
        (rc = onednn_plan_pool(&st->ctx, &lay->scratch, &p->prog, dnnl_pooling_max, k3, s1, 1, xd, x_md, x, &pooled_md, pooled, c[s->mixed[MIX_B3]].name,
                        err)) ||
        (rc = plan_conv(st, p, lay, branch_out[3], xd, &pooled_md, pooled, &out_md[3], out_mem[3], err)))
        return rc;
    if (!in_place)
        rc = onednn_plan_concat(&st->ctx, &lay->scratch, &p->prog, 4, out_md, out_mem, y_md, y, vb_i3d_endpoint_name(s->endpoint), err);
    return rc;
}

/* Builds every primitive for clips of `frames` frames. Pass 1 sizes the arena regions; pass
 * 2 allocates the arena and binds memory objects to it. */
static int plan_pass(onednn_state *st, onednn_plan *p, arena_layout *lay, const i3d_dims dims[VB_I3D_ENDPOINT_COUNT],
                     vb_error *err)
{
    const i3d_net *net = st->net;
    int rc = 0;
    i3d_dims xd = {p->frames, VB_I3D_INPUT_SIZE, VB_I3D_INPUT_SIZE, 3};
    dnnl_memory_desc_t x_md = plain_md(xd);     /* the input clip, channels last */
    dnnl_memory_t x;
    if ((rc = onednn_memory(&st->ctx, &p->prog, &x_md, NULL, &x, err)))
        return rc;
    p->input = x;
    /* The first conv (3 input channels) has a fast kernel only for the layout oneDNN picks,
     * so the clip is reordered into that layout first when it differs from channels last. */
    dnnl_memory_desc_t conv1_src_md;
    if ((rc = choose_conv_src(st, &net->convs[net->stages[0].conv], xd, dims[0], &conv1_src_md, err)))
        return rc;
    if (!dnnl_memory_desc_equal(&conv1_src_md, &x_md)) {
        grow(&lay->input, onednn_md_bytes(&conv1_src_md));
        dnnl_memory_t reordered;
        if ((rc = onednn_memory(&st->ctx, &p->prog, &conv1_src_md, lay->base[REGION_INPUT], &reordered, err)) ||
            (rc = onednn_plan_reorder(&st->ctx, &lay->scratch, &p->prog, &x_md, x, &conv1_src_md, reordered, 1.0f, "input clip", err)))
            return rc;
        x = reordered;
        x_md = conv1_src_md;
    }
    int next = REGION_TRUNK0;
    for (int e = 0; e < VB_I3D_ENDPOINT_COUNT; e++) {
        const i3d_stage *s = &net->stages[e];
        const i3d_dims yd = dims[e];
        if (s->kind == I3D_STAGE_LOGITS) {
            /* avg pool 2x7x7 VALID -> temp; 1x1x1 conv with bias -> the caller's [T'', classes] */
            i3d_dims pd_dims = {xd.t - 1, 1, 1, xd.c};
            dnnl_memory_desc_t pooled_md = act_md(st, pd_dims);
            grow(&lay->temp, onednn_md_bytes(&pooled_md));
            /* blocked logits go to the free trunk region, then to the caller's channels-last buffer */
            dnnl_memory_t pooled, logits_blocked, logits;
            dnnl_memory_desc_t blocked_md = act_md(st, yd), logits_md = plain_md(yd);
            grow(&lay->trunk[next], onednn_md_bytes(&blocked_md));
            static const int k[3] = {2, 7, 7}, s1[3] = {1, 1, 1};
            if ((rc = onednn_memory(&st->ctx, &p->prog, &pooled_md, lay->base[REGION_TEMP], &pooled, err)) ||
                (rc = onednn_plan_pool(&st->ctx, &lay->scratch, &p->prog, dnnl_pooling_avg_exclude_padding, k, s1, 0, xd, &x_md, x, &pooled_md, pooled,
                                "Logits/AvgPool3D", err)) ||
                (rc = onednn_memory(&st->ctx, &p->prog, &blocked_md, lay->base[next], &logits_blocked, err)) ||
                (rc = plan_conv(st, p, lay, &net->convs[s->conv], pd_dims, &pooled_md, pooled, &blocked_md,
                                logits_blocked, err)) ||
                (rc = onednn_memory(&st->ctx, &p->prog, &logits_md, NULL, &logits, err)) ||
                (rc = onednn_plan_reorder(&st->ctx, &lay->scratch, &p->prog, &blocked_md, logits_blocked, &logits_md, logits, 1.0f, "Logits", err)))
                return rc;
            p->frame_logits = logits;
            break;
        }
        dnnl_memory_desc_t y_md = act_md(st, yd);
        grow(&lay->trunk[next], onednn_md_bytes(&y_md));
        char *y_base = lay->base[next];
        dnnl_memory_t y;
        if ((rc = onednn_memory(&st->ctx, &p->prog, &y_md, y_base, &y, err)))
            return rc;
        if (s->kind == I3D_STAGE_CONV)
            rc = plan_conv(st, p, lay, &net->convs[s->conv], xd, &x_md, x, &y_md, y, err);
        else if (s->kind == I3D_STAGE_MAXPOOL)
            rc = onednn_plan_pool(&st->ctx, &lay->scratch, &p->prog, dnnl_pooling_max, s->pool_kernel, s->pool_stride, 1, xd, &x_md, x, &y_md, y,
                           vb_i3d_endpoint_name(s->endpoint), err);
        else
            rc = plan_mixed(st, p, lay, s, xd, &x_md, x, &y_md, y, y_base, err);
        if (rc)
            return rc;
        if (p->prog.num_ops > 0 && lay->scratch.binding) {
            p->prog.ops[p->prog.num_ops - 1].endpoint_after = e;
            if (s->kind == I3D_STAGE_CONV)
                mark_observed(p, lay, net->convs[s->conv].out_point, y);
            else if (s->kind == I3D_STAGE_MIXED)
                mark_observed(p, lay, net->convs[s->mixed[MIX_B0]].out_point, y);
        }
        p->endpoint[e] = y;
        p->readout_md[e] = plain_md(yd);
        x = y;
        x_md = y_md;
        xd = yd;
        next = next == REGION_TRUNK0 ? REGION_TRUNK1 : REGION_TRUNK0;
    }
    return 0;
}

static void plan_free(onednn_plan *p)
{
    if (!p)
        return;
    onednn_program_free(&p->prog);
    for (int e = 0; e < VB_I3D_ENDPOINT_COUNT; e++)
        if (p->readout[e])
            dnnl_primitive_destroy(p->readout[e]);
    free(p->arena);
    free(p);
}

static void plan_reset(onednn_plan *p)
{
    onednn_program_free(&p->prog);
    p->weight_bytes = 0;
    p->in_place_blocks = 0;
}

static int64_t align64(int64_t n) { return (n + 63) / 64 * 64; }

static int make_plan(onednn_state *st, int frames, vb_error *err)
{
    if (st->plan && st->plan->frames == frames)
        return 0;
    plan_free(st->plan);
    st->plan = NULL;
    i3d_dims dims[VB_I3D_ENDPOINT_COUNT];
    int rc = i3d_net_dims(st->net, frames, dims, err);
    if (rc)
        return rc;
    onednn_plan *p = calloc(1, sizeof *p);
    if (!p)
        return vb_error_set(err, VB_ENOMEM, "I3D oneDNN backend: out of memory");
    p->frames = frames;
    arena_layout lay = {0};
    if ((rc = plan_pass(st, p, &lay, dims, err)))
        goto fail;
    plan_reset(p);
    int64_t sizes[REGION_COUNT] = {align64(lay.trunk[0]), align64(lay.trunk[1]), align64(lay.temp),
                                   align64(lay.concat), align64(lay.scratch.need), align64(lay.input)};
    int64_t total = 0;
    for (int i = 0; i < REGION_COUNT; i++)
        total += sizes[i];
    p->arena = aligned_alloc(64, (size_t)(total > 0 ? total : 64));
    if (!p->arena) {
        rc = vb_error_set(err, VB_ENOMEM, "I3D oneDNN backend: out of memory for %lld activation bytes", (long long)total);
        goto fail;
    }
    p->arena_bytes = total;
    char *cursor = p->arena;
    for (int i = 0; i < REGION_COUNT; i++) {
        lay.base[i] = cursor;
        cursor += sizes[i];
    }
    lay.scratch.base = lay.base[REGION_SCRATCH];
    lay.scratch.binding = 1;
    if ((rc = plan_pass(st, p, &lay, dims, err)))
        goto fail;
    st->plan = p;
    return 0;
fail:
    plan_free(p);
    return rc;
}

/* ---- backend ops ---- */

static void onednn_destroy(void *opaque)
{
    onednn_state *st = opaque;
    if (!st)
        return;
    plan_free(st->plan);
    free(st->merged_parameters);
    free(st->observed);
    onednn_context_free(&st->ctx);
    free(st);
}

/* Concatenates the branch 1 and 2 reduce convs of every Mixed block along output channels:
 * weights [cin, c1] and [cin, c2] -> [cin, c1+c2], biases likewise. */
static int build_merged_reduce(onednn_state *st, vb_error *err)
{
    const i3d_net *net = st->net;
    int64_t total = 0;
    for (int e = 0; e < VB_I3D_ENDPOINT_COUNT; e++) {
        const i3d_stage *s = &net->stages[e];
        if (s->kind != I3D_STAGE_MIXED)
            continue;
        const i3d_conv *a = &net->convs[s->mixed[MIX_B1A]], *b = &net->convs[s->mixed[MIX_B2A]];
        if (a->out_channels % st->block == 0)
            total += (int64_t)(a->in_channels + 1) * (a->out_channels + b->out_channels);
    }
    if (!total)
        return 0;
    st->merged_parameters = malloc((size_t)total * sizeof(float));
    if (!st->merged_parameters)
        return vb_error_set(err, VB_ENOMEM, "I3D oneDNN backend: out of memory");
    float *cursor = st->merged_parameters;
    for (int e = 0; e < VB_I3D_ENDPOINT_COUNT; e++) {
        const i3d_stage *s = &net->stages[e];
        if (s->kind != I3D_STAGE_MIXED)
            continue;
        const i3d_conv *a = &net->convs[s->mixed[MIX_B1A]], *b = &net->convs[s->mixed[MIX_B2A]];
        if (a->out_channels % st->block)
            continue;
        const int cin = a->in_channels, c1 = a->out_channels, c2 = b->out_channels;
        i3d_conv *m = &st->merged_reduce[e];
        *m = *a;
        snprintf(m->name, sizeof m->name, "%s/Branch_1+2/Conv3d_0a_1x1", vb_i3d_endpoint_name((vb_i3d_endpoint)e));
        m->out_channels = c1 + c2;
        m->weights = cursor;
        m->bias = cursor + (int64_t)cin * (c1 + c2);
        cursor += (int64_t)(cin + 1) * (c1 + c2);
        for (int ci = 0; ci < cin; ci++) {
            memcpy(m->weights + (int64_t)ci * (c1 + c2), a->weights + (int64_t)ci * c1, (size_t)c1 * sizeof(float));
            memcpy(m->weights + (int64_t)ci * (c1 + c2) + c1, b->weights + (int64_t)ci * c2, (size_t)c2 * sizeof(float));
        }
        memcpy(m->bias, a->bias, (size_t)c1 * sizeof(float));
        memcpy(m->bias + c1, b->bias, (size_t)c2 * sizeof(float));
    }
    return 0;
}

static int onednn_create(const i3d_net *net, const i3d_backend_config *config, void **out, vb_error *err)
{
    int rc = 0;
    onednn_state *st = calloc(1, sizeof *st);
    if (!st)
        return vb_error_set(err, VB_ENOMEM, "I3D oneDNN backend: out of memory");
    st->net = net;
    if ((rc = onednn_context_init(&st->ctx, config->threads, err)))
        goto fail;
    st->act_type = config->bf16 ? dnnl_bf16 : dnnl_f32;
    int avx512 = onednn_isa_has(st->ctx.isa, dnnl_cpu_isa_avx512_core);
    st->act_tag = avx512 ? dnnl_nCdhw16c : dnnl_nCdhw8c;
    st->block = avx512 ? 16 : 8;
    if ((rc = build_merged_reduce(st, err)))
        goto fail;
    *out = st;
    return 0;
fail:
    onednn_destroy(st);
    return rc;
}

int i3d_onednn_set_observer(void *opaque, i3d_observer observe, void *ctx, vb_error *err)
{
    onednn_state *st = opaque;
    if (st->act_type != dnnl_f32)
        return vb_error_set(err, VB_EINVAL, "I3D oneDNN backend: calibration observes fp32 runs only");
    st->observe = observe;
    st->observe_ctx = ctx;
    return 0;
}

/* Hands one quantization point's tensor to the observer as plain channels-last float. */
static int observe(onednn_state *st, int point, dnnl_memory_t memory, vb_error *err)
{
    int rc = 0;
    const dnnl_memory_desc_t *md;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_memory_t plain = NULL;
    TRY(dnnl_memory_get_memory_desc(memory, &md), "calibration", st->net->point_name[point]);
    i3d_dims d = {(int)md->dims[2], (int)md->dims[3], (int)md->dims[4], (int)md->dims[1]};
    dnnl_memory_desc_t plain_desc = plain_md(d);
    const int64_t n = i3d_dims_count(d);
    if (st->observed_floats < n) {
        free(st->observed);
        st->observed = malloc((size_t)n * sizeof(float));
        st->observed_floats = st->observed ? n : 0;
        if (!st->observed)
            return vb_error_set(err, VB_ENOMEM, "I3D calibration: out of memory for %lld floats", (long long)n);
    }
    TRY(dnnl_reorder_primitive_desc_create(&pd, md, st->ctx.engine, &plain_desc, st->ctx.engine, NULL), "calibration",
        st->net->point_name[point]);
    TRY(dnnl_primitive_create(&prim, pd), "calibration", st->net->point_name[point]);
    TRY(dnnl_memory_create(&plain, &plain_desc, st->ctx.engine, st->observed), "calibration", st->net->point_name[point]);
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, memory}, {DNNL_ARG_TO, plain}};
    TRY(dnnl_primitive_execute(prim, st->ctx.stream, 2, args), "calibration", st->net->point_name[point]);
    TRY(dnnl_stream_wait(st->ctx.stream), "calibration", st->net->point_name[point]);
    st->observe(st->observe_ctx, point, st->observed, n);
fail:
    if (plain)
        dnnl_memory_destroy(plain);
    if (prim)
        dnnl_primitive_destroy(prim);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    return rc;
}

static int read_endpoint(onednn_state *st, int e, float *out, vb_error *err)
{
    onednn_plan *p = st->plan;
    int rc = 0;
    const char *name = vb_i3d_endpoint_name((vb_i3d_endpoint)e);
    dnnl_memory_t user = NULL;
    if (!p->readout[e]) {
        dnnl_primitive_desc_t pd = NULL;
        const dnnl_memory_desc_t *src_md;
        TRY(dnnl_memory_get_memory_desc(p->endpoint[e], &src_md), "endpoint", name);
        TRY(dnnl_reorder_primitive_desc_create(&pd, src_md, st->ctx.engine, &p->readout_md[e], st->ctx.engine, NULL),
            "endpoint reorder", name);
        dnnl_status_t status = dnnl_primitive_create(&p->readout[e], pd);
        dnnl_primitive_desc_destroy(pd);
        TRY(status, "endpoint reorder", name);
    }
    TRY(dnnl_memory_create(&user, &p->readout_md[e], st->ctx.engine, out), "memory", name);
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, p->endpoint[e]}, {DNNL_ARG_TO, user}};
    TRY(dnnl_primitive_execute(p->readout[e], st->ctx.stream, 2, args), "endpoint reorder", name);
fail:
    if (user)
        dnnl_memory_destroy(user);
    return rc;
}

static int onednn_forward_clip(void *opaque, const float *input, int frames, float *logits_per_frame,
                               float *const outputs[VB_I3D_ENDPOINT_COUNT], vb_error *err)
{
    onednn_state *st = opaque;
    onednn_set_threads(&st->ctx);
    int rc = make_plan(st, frames, err);
    if (rc)
        return rc;
    onednn_plan *p = st->plan;
    TRY(dnnl_memory_set_data_handle(p->input, (void *)input), "input", "clip");
    TRY(dnnl_memory_set_data_handle(p->frame_logits, logits_per_frame), "output", "logits");
    for (int i = 0; i < p->prog.num_ops; i++) {
        const onednn_op *op = &p->prog.ops[i];
        TRY(dnnl_primitive_execute(op->primitive, st->ctx.stream, op->nargs, op->args), "execution", "I3D layer");
        int e = op->endpoint_after;
        if (e >= 0 && outputs && outputs[e] && (rc = read_endpoint(st, e, outputs[e], err)))
            return rc;
        for (int k = 0; k < 2 && st->observe; k++)
            if (op->observe_point[k] >= 0 && (rc = observe(st, op->observe_point[k], op->observe_memory[k], err)))
                return rc;
    }
    TRY(dnnl_stream_wait(st->ctx.stream), "execution", "I3D");
fail:
    return rc;
}

static int onednn_plan_memory(void *opaque, int frames, int64_t *activation_bytes, int64_t *parameter_bytes,
                              vb_error *err)
{
    onednn_state *st = opaque;
    onednn_set_threads(&st->ctx);
    int rc = make_plan(st, frames, err);
    if (rc)
        return rc;
    *activation_bytes = st->plan->arena_bytes;
    *parameter_bytes = st->plan->weight_bytes + st->net->parameter_count * (int64_t)sizeof(float);
    return 0;
}

const i3d_backend_ops i3d_onednn_ops = {
    .create = onednn_create,
    .destroy = onednn_destroy,
    .forward_clip = onednn_forward_clip,
    .plan_memory = onednn_plan_memory,
};
