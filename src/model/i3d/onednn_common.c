/* oneDNN helpers shared by the fp32/bf16 and int8 I3D backends (see onednn_common.h). */
#include "model/i3d/onednn_common.h"
#include "vidbench/threads.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

int onednn_fail(vb_error *err, dnnl_status_t status, const char *what, const char *layer)
{
    return vb_error_set(err, status == dnnl_out_of_memory ? VB_ENOMEM : VB_EUNSUPPORTED,
                        "I3D oneDNN backend: %s for %s failed (dnnl status %d)", what, layer, (int)status);
}

/* ---- ISA ---- */

static const struct {
    const char *name;
    dnnl_cpu_isa_t isa;
} isa_names[] = {
    {"sse41", dnnl_cpu_isa_sse41},
    {"avx", dnnl_cpu_isa_avx},
    {"avx2", dnnl_cpu_isa_avx2},
    {"avx2_vnni", dnnl_cpu_isa_avx2_vnni},
    {"avx512_core", dnnl_cpu_isa_avx512_core},
    {"avx512_core_vnni", dnnl_cpu_isa_avx512_core_vnni},
    {"avx512_core_bf16", dnnl_cpu_isa_avx512_core_bf16},
    {"avx512_core_amx", dnnl_cpu_isa_avx512_core_amx},
};

static pthread_once_t isa_once = PTHREAD_ONCE_INIT;
static int isa_cap_unknown;   /* VIDBENCH_MAX_ISA named no ISA: every open says so */

static void apply_isa_cap(void)
{
    const char *cap = getenv("VIDBENCH_MAX_ISA");
    if (!cap || !*cap)
        return;
    for (size_t i = 0; i < sizeof isa_names / sizeof isa_names[0]; i++)
        if (!strcmp(cap, isa_names[i].name)) {
            /* fails once oneDNN has dispatched a kernel; the first I3D open of the process is
             * early enough */
            dnnl_set_max_cpu_isa(isa_names[i].isa);
            return;
        }
    isa_cap_unknown = 1;
}

dnnl_cpu_isa_t onednn_isa(void)
{
    pthread_once(&isa_once, apply_isa_cap);
    return dnnl_get_effective_cpu_isa();
}

const char *onednn_isa_name(dnnl_cpu_isa_t isa)
{
    const char *best = "generic";
    for (size_t i = 0; i < sizeof isa_names / sizeof isa_names[0]; i++)
        if (onednn_isa_has(isa, isa_names[i].isa))
            best = isa_names[i].name;   /* the table runs from least to most capable */
    return best;
}

int onednn_isa_has(dnnl_cpu_isa_t isa, dnnl_cpu_isa_t feature)
{
    return ((unsigned)isa & (unsigned)feature) == (unsigned)feature;
}

/* ---- context and program ---- */

int onednn_context_init(onednn_context *ctx, int threads, vb_error *err)
{
    int rc = 0;
    memset(ctx, 0, sizeof *ctx);
    ctx->isa = onednn_isa();
    if (isa_cap_unknown)
        return vb_error_set(err, VB_EINVAL, "VIDBENCH_MAX_ISA is '%.40s': expected sse41, avx, avx2, avx2_vnni, "
                            "avx512_core, avx512_core_vnni, avx512_core_bf16 or avx512_core_amx", getenv("VIDBENCH_MAX_ISA"));
    ctx->threads = vb_threads_resolve(threads);
    /* OpenMP is loaded with libdnnl; look the setter up so a TBB build would still link. */
    ctx->omp_set_num_threads = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    ONEDNN_TRY(dnnl_engine_create(&ctx->engine, dnnl_cpu, 0), "engine", "CPU");
    ONEDNN_TRY(dnnl_stream_create(&ctx->stream, ctx->engine, dnnl_stream_default_flags), "stream", "CPU");
    return 0;
fail:
    onednn_context_free(ctx);
    return rc;
}

void onednn_context_free(onednn_context *ctx)
{
    if (ctx->stream)
        dnnl_stream_destroy(ctx->stream);
    if (ctx->engine)
        dnnl_engine_destroy(ctx->engine);
    ctx->stream = NULL;
    ctx->engine = NULL;
}

void onednn_set_threads(const onednn_context *ctx)
{
    if (ctx->omp_set_num_threads)
        ctx->omp_set_num_threads(ctx->threads);
}

int onednn_memory(const onednn_context *ctx, onednn_program *prog, const dnnl_memory_desc_t *md, void *ptr,
                  dnnl_memory_t *out, vb_error *err)
{
    int rc = 0;
    ONEDNN_TRY(dnnl_memory_create(out, md, ctx->engine, ptr ? ptr : DNNL_MEMORY_NONE), "memory", "activation");
    if (prog->num_memories >= ONEDNN_MAX_MEMORIES) {
        dnnl_memory_destroy(*out);
        return vb_error_set(err, VB_ELIMIT, "I3D oneDNN backend: too many memory objects");
    }
    prog->memories[prog->num_memories++] = *out;
fail:
    return rc;
}

int onednn_add_op(onednn_program *prog, dnnl_primitive_t prim, int nargs, const dnnl_exec_arg_t *args, vb_error *err)
{
    if (prog->num_ops >= ONEDNN_MAX_OPS) {
        dnnl_primitive_destroy(prim);
        return vb_error_set(err, VB_ELIMIT, "I3D oneDNN backend: too many primitives");
    }
    onednn_op *op = &prog->ops[prog->num_ops++];
    memset(op, 0, sizeof *op);
    op->primitive = prim;
    op->nargs = nargs;
    memcpy(op->args, args, (size_t)nargs * sizeof *args);
    op->endpoint_after = -1;
    op->observe_point[0] = op->observe_point[1] = -1;
    return 0;
}

void onednn_program_free(onednn_program *prog)
{
    for (int i = 0; i < prog->num_ops; i++)
        dnnl_primitive_destroy(prog->ops[i].primitive);
    for (int i = 0; i < prog->num_memories; i++)
        dnnl_memory_destroy(prog->memories[i]);
    prog->num_ops = 0;
    prog->num_memories = 0;
}

int64_t onednn_md_bytes(const dnnl_memory_desc_t *md) { return (int64_t)dnnl_memory_desc_get_size(md); }

/* Attributes every primitive gets: the shared user scratchpad. */
static dnnl_status_t make_attr(dnnl_primitive_attr_t *attr)
{
    dnnl_status_t status = dnnl_primitive_attr_create(attr);
    if (status == dnnl_success)
        status = dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user);
    return status;
}

/* Sizes the scratchpad (sizing pass) or binds a memory object to it (binding pass). */
static int scratch_memory(const onednn_context *ctx, onednn_scratch *scratch, onednn_program *prog,
                          dnnl_primitive_desc_t pd, dnnl_memory_t *out, vb_error *err)
{
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    int64_t bytes = onednn_md_bytes(md);
    if (bytes > scratch->need)
        scratch->need = bytes;
    if (!scratch->binding)
        return 0;
    return onednn_memory(ctx, prog, md, scratch->base, out, err);
}

/* ---- convolution ---- */

dnnl_status_t onednn_conv_desc_init(dnnl_convolution_desc_t *desc, const onednn_conv_spec *spec)
{
    const i3d_conv *c = spec->conv;
    dnnl_memory_desc_t weights_any, bias_md;
    dnnl_dims_t wdims = {c->out_channels, c->in_channels, c->kernel[0], c->kernel[1], c->kernel[2]};
    dnnl_dims_t bdims = {c->out_channels};
    dnnl_memory_desc_init_by_tag(&weights_any, 5, wdims, spec->weights_type, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&bias_md, 1, bdims, dnnl_f32, dnnl_x);
    dnnl_dims_t strides, pad_l, pad_r;
    const int in_dims[3] = {spec->in.t, spec->in.h, spec->in.w};
    for (int d = 0; d < 3; d++) {
        strides[d] = c->stride[d];
        pad_l[d] = spec->valid ? 0 : same_pad_before(in_dims[d], c->kernel[d], c->stride[d]);
        pad_r[d] = spec->valid ? 0 : same_pad_after(in_dims[d], c->kernel[d], c->stride[d]);
    }
    return dnnl_convolution_forward_desc_init(desc, dnnl_forward_inference, dnnl_convolution_direct, spec->src_md,
                                              &weights_any, &bias_md, spec->dst_md, strides, pad_l, pad_r);
}

int onednn_plan_conv(const onednn_context *ctx, onednn_scratch *scratch, onednn_program *prog,
                     const onednn_conv_spec *spec, dnnl_memory_t src, dnnl_memory_t dst, int64_t *weight_bytes,
                     vb_error *err)
{
    const i3d_conv *c = spec->conv;
    int rc = 0;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t post_ops = NULL;
    dnnl_primitive_desc_t pd = NULL, reorder_pd = NULL;
    dnnl_primitive_t prim = NULL, reorder = NULL;
    dnnl_memory_t user_weights = NULL, weights = NULL, bias = NULL, scratch_mem = NULL;
    dnnl_memory_desc_t bias_md, user_weights_md;
    dnnl_dims_t wdims = {c->out_channels, c->in_channels, c->kernel[0], c->kernel[1], c->kernel[2]};
    dnnl_dims_t bdims = {c->out_channels};
    dnnl_memory_desc_init_by_tag(&user_weights_md, 5, wdims, spec->user_weights_type, dnnl_dhwio);
    dnnl_memory_desc_init_by_tag(&bias_md, 1, bdims, dnnl_f32, dnnl_x);
    dnnl_convolution_desc_t desc;
    ONEDNN_TRY(onednn_conv_desc_init(&desc, spec), "convolution descriptor", c->name);
    ONEDNN_TRY(make_attr(&attr), "attributes", c->name);
    if (spec->output_scales)
        ONEDNN_TRY(dnnl_primitive_attr_set_output_scales(attr, c->out_channels, 1 << 1, spec->output_scales),
                   "output scales", c->name);
    if (spec->relu || spec->clip_max > 0) {
        ONEDNN_TRY(dnnl_post_ops_create(&post_ops), "post-ops", c->name);
        if (spec->relu)
            ONEDNN_TRY(dnnl_post_ops_append_eltwise(post_ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f), "ReLU post-op", c->name);
        if (spec->clip_max > 0)
            ONEDNN_TRY(dnnl_post_ops_append_eltwise(post_ops, 1.0f, dnnl_eltwise_clip, 0.0f, (float)spec->clip_max),
                       "clip post-op", c->name);
        ONEDNN_TRY(dnnl_primitive_attr_set_post_ops(attr, post_ops), "post-ops", c->name);
    }
    ONEDNN_TRY(dnnl_primitive_desc_create(&pd, &desc, attr, ctx->engine, NULL), "convolution", c->name);
    if ((rc = scratch_memory(ctx, scratch, prog, pd, &scratch_mem, err)) || !scratch->binding)
        goto fail;
    const dnnl_memory_desc_t *weights_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    ONEDNN_TRY(dnnl_memory_create(&user_weights, &user_weights_md, ctx->engine, (void *)spec->weights), "memory", c->name);
    if (prog->num_memories + 2 > ONEDNN_MAX_MEMORIES) {
        rc = vb_error_set(err, VB_ELIMIT, "I3D oneDNN backend: too many memory objects");
        goto fail;
    }
    ONEDNN_TRY(dnnl_memory_create(&weights, weights_md, ctx->engine, DNNL_MEMORY_ALLOCATE), "memory", c->name);
    prog->memories[prog->num_memories++] = weights;   /* owned by the program from here */
    weights = NULL;
    ONEDNN_TRY(dnnl_memory_create(&bias, &bias_md, ctx->engine, (void *)spec->bias), "memory", c->name);
    prog->memories[prog->num_memories++] = bias;
    bias = NULL;
    ONEDNN_TRY(dnnl_reorder_primitive_desc_create(&reorder_pd, &user_weights_md, ctx->engine, weights_md, ctx->engine, NULL),
               "weights reorder", c->name);
    ONEDNN_TRY(dnnl_primitive_create(&reorder, reorder_pd), "weights reorder", c->name);
    dnnl_exec_arg_t rargs[2] = {{DNNL_ARG_FROM, user_weights}, {DNNL_ARG_TO, prog->memories[prog->num_memories - 2]}};
    ONEDNN_TRY(dnnl_primitive_execute(reorder, ctx->stream, 2, rargs), "weights reorder", c->name);
    ONEDNN_TRY(dnnl_stream_wait(ctx->stream), "weights reorder", c->name);
    *weight_bytes += onednn_md_bytes(weights_md) + (int64_t)c->out_channels * 4;
    ONEDNN_TRY(dnnl_primitive_create(&prim, pd), "convolution", c->name);
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, prog->memories[prog->num_memories - 2]},
                               {DNNL_ARG_BIAS, prog->memories[prog->num_memories - 1]}, {DNNL_ARG_DST, dst},
                               {DNNL_ARG_SCRATCHPAD, scratch_mem}};
    rc = onednn_add_op(prog, prim, 5, args, err);
    prim = NULL;
fail:
    if (prim)
        dnnl_primitive_destroy(prim);
    if (reorder)
        dnnl_primitive_destroy(reorder);
    if (reorder_pd)
        dnnl_primitive_desc_destroy(reorder_pd);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (user_weights)
        dnnl_memory_destroy(user_weights);
    if (weights)
        dnnl_memory_destroy(weights);
    if (bias)
        dnnl_memory_destroy(bias);
    if (post_ops)
        dnnl_post_ops_destroy(post_ops);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return rc;
}

/* ---- pooling, concatenation, reorders ---- */

int onednn_plan_pool(const onednn_context *ctx, onednn_scratch *scratch, onednn_program *prog, dnnl_alg_kind_t alg,
                     const int kernel[3], const int stride[3], int same, i3d_dims in, const dnnl_memory_desc_t *src_md,
                     dnnl_memory_t src, const dnnl_memory_desc_t *dst_md, dnnl_memory_t dst, const char *name,
                     vb_error *err)
{
    int rc = 0;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_memory_t scratch_mem = NULL;
    dnnl_dims_t k, s, pl, pr;
    const int in_dims[3] = {in.t, in.h, in.w};
    for (int d = 0; d < 3; d++) {
        k[d] = kernel[d];
        s[d] = stride[d];
        pl[d] = same ? same_pad_before(in_dims[d], kernel[d], stride[d]) : 0;
        pr[d] = same ? same_pad_after(in_dims[d], kernel[d], stride[d]) : 0;
    }
    dnnl_pooling_desc_t desc;
    ONEDNN_TRY(dnnl_pooling_forward_desc_init(&desc, dnnl_forward_inference, alg, src_md, dst_md, s, k, pl, pr),
               "pooling descriptor", name);
    ONEDNN_TRY(make_attr(&attr), "attributes", name);
    ONEDNN_TRY(dnnl_primitive_desc_create(&pd, &desc, attr, ctx->engine, NULL), "pooling", name);
    if ((rc = scratch_memory(ctx, scratch, prog, pd, &scratch_mem, err)) || !scratch->binding)
        goto fail;
    ONEDNN_TRY(dnnl_primitive_create(&prim, pd), "pooling", name);
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}, {DNNL_ARG_SCRATCHPAD, scratch_mem}};
    rc = onednn_add_op(prog, prim, 3, args, err);
fail:
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return rc;
}

int onednn_plan_concat(const onednn_context *ctx, onednn_scratch *scratch, onednn_program *prog, int n,
                       const dnnl_memory_desc_t *src_mds, dnnl_memory_t const *srcs, const dnnl_memory_desc_t *dst_md,
                       dnnl_memory_t dst, const char *name, vb_error *err)
{
    int rc = 0;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_memory_t scratch_mem = NULL;
    if (n > ONEDNN_MAX_ARGS - 2)
        return vb_error_set(err, VB_ELIMIT, "I3D oneDNN backend: %s concatenates %d tensors", name, n);
    ONEDNN_TRY(make_attr(&attr), "attributes", name);
    ONEDNN_TRY(dnnl_concat_primitive_desc_create(&pd, dst_md, n, 1, src_mds, attr, ctx->engine), "concat", name);
    if ((rc = scratch_memory(ctx, scratch, prog, pd, &scratch_mem, err)) || !scratch->binding)
        goto fail;
    ONEDNN_TRY(dnnl_primitive_create(&prim, pd), "concat", name);
    dnnl_exec_arg_t args[ONEDNN_MAX_ARGS];
    int nargs = 0;
    for (int i = 0; i < n; i++)
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_MULTIPLE_SRC + i, srcs[i]};
    args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_DST, dst};
    args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, scratch_mem};
    rc = onednn_add_op(prog, prim, nargs, args, err);
fail:
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return rc;
}

int onednn_plan_reorder(const onednn_context *ctx, onednn_scratch *scratch, onednn_program *prog,
                        const dnnl_memory_desc_t *src_md, dnnl_memory_t src, const dnnl_memory_desc_t *dst_md,
                        dnnl_memory_t dst, float scale, const char *name, vb_error *err)
{
    int rc = 0;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    if (scale != 1.0f) {
        ONEDNN_TRY(dnnl_primitive_attr_create(&attr), "attributes", name);
        ONEDNN_TRY(dnnl_primitive_attr_set_output_scales(attr, 1, 0, &scale), "output scale", name);
    }
    ONEDNN_TRY(dnnl_reorder_primitive_desc_create(&pd, src_md, ctx->engine, dst_md, ctx->engine, attr), "reorder", name);
    if (scratch->binding) {
        ONEDNN_TRY(dnnl_primitive_create(&prim, pd), "reorder", name);
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}};
        rc = onednn_add_op(prog, prim, 2, args, err);
    }
fail:
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return rc;
}
