/* What the fp32/bf16 (onednn.c) and int8 (onednn_int8.c) oneDNN I3D backends share: the
 * engine and thread setup, a program (primitives in execution order with the memory objects
 * they own), and planning helpers for convolution, pooling, concatenation and reorders. Plans
 * are made in two passes: a sizing pass (binding 0) that only creates descriptors so the
 * scratchpad can be sized, then a binding pass that creates the primitives. */
#ifndef VB_I3D_ONEDNN_COMMON_H
#define VB_I3D_ONEDNN_COMMON_H

#include <stdint.h>
#include <oneapi/dnnl/dnnl.h>

#include "model/i3d/net.h"

#define ONEDNN_MAX_OPS 192
#define ONEDNN_MAX_MEMORIES 768
#define ONEDNN_MAX_ARGS 8

typedef struct onednn_op {
    dnnl_primitive_t primitive;
    int nargs;
    dnnl_exec_arg_t args[ONEDNN_MAX_ARGS];
    int endpoint_after;        /* endpoint complete after this op, or -1 */
    /* calibration: quantization points this op completes, with their memory (-1: none) */
    int observe_point[2];
    dnnl_memory_t observe_memory[2];
} onednn_op;

typedef struct onednn_program {
    onednn_op ops[ONEDNN_MAX_OPS];
    int num_ops;
    dnnl_memory_t memories[ONEDNN_MAX_MEMORIES];   /* owned */
    int num_memories;
} onednn_program;

/* One scratchpad shared by every primitive (they run one after another). */
typedef struct onednn_scratch {
    int64_t need;              /* grows to the largest primitive's scratchpad */
    void *base;                /* NULL in the sizing pass */
    int binding;               /* 0: sizing pass (descriptors only), 1: make the primitives */
} onednn_scratch;

typedef struct onednn_context {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    int threads;
    void (*omp_set_num_threads)(int);
    dnnl_cpu_isa_t isa;        /* what oneDNN dispatches to (VIDBENCH_MAX_ISA applied) */
} onednn_context;

int onednn_fail(vb_error *err, dnnl_status_t status, const char *what, const char *layer);

/* Jumps to `fail` with rc set when a dnnl call fails. */
#define ONEDNN_TRY(call, what, layer)                            \
    do {                                                         \
        dnnl_status_t status_ = (call);                          \
        if (status_ != dnnl_success) {                           \
            rc = onednn_fail(err, status_, what, layer);         \
            goto fail;                                           \
        }                                                        \
    } while (0)

int onednn_context_init(onednn_context *ctx, int threads, vb_error *err);
void onednn_context_free(onednn_context *ctx);
/* Debian builds oneDNN with OpenMP: the count is set with omp_set_num_threads before a run. */
void onednn_set_threads(const onednn_context *ctx);

/* The ISA oneDNN dispatches to in this process, with VIDBENCH_MAX_ISA (a oneDNN ISA name:
 * avx2, avx2_vnni, avx512_core, avx512_core_vnni, avx512_core_bf16, avx512_core_amx) applied as a
 * cap the first time it is asked. */
dnnl_cpu_isa_t onednn_isa(void);
const char *onednn_isa_name(dnnl_cpu_isa_t isa);
int onednn_isa_has(dnnl_cpu_isa_t isa, dnnl_cpu_isa_t feature);

/* A memory object over md at ptr (NULL: a placeholder, e.g. in the sizing pass or for a handle
 * set per call), owned by the program. */
int onednn_memory(const onednn_context *ctx, onednn_program *prog, const dnnl_memory_desc_t *md, void *ptr,
                  dnnl_memory_t *out, vb_error *err);
int onednn_add_op(onednn_program *prog, dnnl_primitive_t prim, int nargs, const dnnl_exec_arg_t *args, vb_error *err);
/* Destroys every primitive and memory object; the program is empty again. */
void onednn_program_free(onednn_program *prog);
int64_t onednn_md_bytes(const dnnl_memory_desc_t *md);

typedef struct onednn_conv_spec {
    const i3d_conv *conv;
    i3d_dims in;
    int valid;                         /* VALID instead of TensorFlow's SAME padding */
    const dnnl_memory_desc_t *src_md, *dst_md;
    dnnl_data_type_t weights_type;     /* what the kernel computes with: f32, bf16 or s8 */
    dnnl_data_type_t user_weights_type;/* what `weights` holds ([kt,kh,kw,cin,cout]): f32 or s8 */
    const void *weights;
    const float *bias;
    const float *output_scales;        /* [cout] (int8), or NULL */
    int relu;                          /* fused ReLU post-op */
    int clip_max;                      /* > 0: outputs clipped to [0, clip_max] (int8's 7-bit activations) */
} onednn_conv_spec;

/* A convolution descriptor with the weights' layout left to oneDNN. */
dnnl_status_t onednn_conv_desc_init(dnnl_convolution_desc_t *desc, const onednn_conv_spec *spec);
/* The convolution with its weights reordered once into the kernel's layout; weight_bytes grows
 * by what that copy takes. */
int onednn_plan_conv(const onednn_context *ctx, onednn_scratch *scratch, onednn_program *prog,
                     const onednn_conv_spec *spec, dnnl_memory_t src, dnnl_memory_t dst, int64_t *weight_bytes,
                     vb_error *err);
/* Pooling (max: padded cells never win, as in TensorFlow; average: VALID only). */
int onednn_plan_pool(const onednn_context *ctx, onednn_scratch *scratch, onednn_program *prog, dnnl_alg_kind_t alg,
                     const int kernel[3], const int stride[3], int same, i3d_dims in, const dnnl_memory_desc_t *src_md,
                     dnnl_memory_t src, const dnnl_memory_desc_t *dst_md, dnnl_memory_t dst, const char *name,
                     vb_error *err);
/* Concatenation along channels. */
int onednn_plan_concat(const onednn_context *ctx, onednn_scratch *scratch, onednn_program *prog, int n,
                       const dnnl_memory_desc_t *src_mds, dnnl_memory_t const *srcs, const dnnl_memory_desc_t *dst_md,
                       dnnl_memory_t dst, const char *name, vb_error *err);
/* A reorder (layout and/or type), multiplying by `scale` unless it is 1. */
int onednn_plan_reorder(const onednn_context *ctx, onednn_scratch *scratch, onednn_program *prog,
                        const dnnl_memory_desc_t *src_md, dnnl_memory_t src, const dnnl_memory_desc_t *dst_md,
                        dnnl_memory_t dst, float scale, const char *name, vb_error *err);

#endif
