/* TFLite interpreter for subgraph 0: checks every operator (types, shapes, quantization,
 * order) once at creation, then runs the operators in file order. int8 arithmetic follows
 * TFLite's reference kernels; level 0 runs only the plain C code, higher levels use the
 * vector kernels and exact lookup tables, which equal the plain code bit for bit. */
#include "vidbench/tflite.h"
#include "vidbench/threads.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels.h"

#define MAX_TOTAL_ACTIVATION_BYTES ((size_t)1 << 30)
#define MAX_CONV_DEPTH 65536   /* k_h*k_w*in_c: keeps the int32 accumulator exact */

/* ---------------------------------------------------------------- thread pool */

/* One job = `chunks` pieces of an operator. Every thread (the caller included) claims pieces
 * from a shared counter tagged with the job number, so when a worker is descheduled (a busy
 * machine) the caller simply does all the pieces itself instead of waiting for it. */
typedef void (*pool_fn)(void *arg, int chunk, int chunks, int thread);

typedef struct pool {
    int threads;
    pthread_t *ids;
    int started;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int sleepers;                   /* under mutex */
    atomic_uint_fast64_t work;      /* job number << 32 | chunks << 16 | next chunk */
    atomic_int active;              /* threads inside a job */
    atomic_int stop;
    pool_fn fn;
    void *arg;
    /* Adaptive use of the workers (see vb_tflite_invoke). */
    int serial;                     /* current phase: 1 the caller runs alone */
    int phase_left;                 /* invokes left in the current phase */
    double phase_seconds[2];        /* summed invoke times of the last phase of each kind */
    int phase_invokes[2];
} pool;

static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct worker_arg {
    pool *p;
    int index;
} worker_arg;

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Claims and runs pieces of job `job` until none is left. The job's piece count lives in the
 * same atomic word as its number and next piece, so a claim can only succeed while that job
 * still has pieces, i.e. while the caller has not moved on to publishing the next one. */
static void pool_drain(pool *p, uint64_t job, int thread)
{
    for (;;) {
        uint_fast64_t w = atomic_load(&p->work);
        const int next = (int)(w & 0xffffu), chunks = (int)((w >> 16) & 0xffffu);
        if ((w >> 32) != job || next >= chunks)
            return;
        if (atomic_compare_exchange_weak(&p->work, &w, w + 1))
            p->fn(p->arg, next, chunks, thread);
    }
}

static void *worker_main(void *arg)
{
    worker_arg *wa = arg;
    pool *p = wa->p;
    const int index = wa->index;
    free(wa);
    uint64_t seen = 0;
    for (;;) {
        int spins = 0;
        uint64_t job;
        while ((job = atomic_load(&p->work) >> 32) == seen) {
            if (atomic_load(&p->stop))
                return NULL;
            if (++spins < 500) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&p->mutex);
            p->sleepers++;
            while ((atomic_load(&p->work) >> 32) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->cond, &p->mutex);
            p->sleepers--;
            pthread_mutex_unlock(&p->mutex);
            spins = 0;
        }
        seen = job;
        if (atomic_load(&p->stop))
            return NULL;
        atomic_fetch_add(&p->active, 1);
        /* The job fields are stable while a piece of this job can still be claimed. */
        pool_drain(p, job, index);
        atomic_fetch_sub(&p->active, 1);
    }
}

static int pool_start(pool *p, int threads)
{
    memset(p, 0, sizeof *p);
    p->threads = threads;
    p->phase_left = 4;
    if (threads <= 1)
        return 0;
    p->ids = calloc((size_t)threads, sizeof(pthread_t));
    if (!p->ids)
        return -1;
    pthread_mutex_init(&p->mutex, NULL);
    pthread_cond_init(&p->cond, NULL);
    for (int i = 1; i < threads; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa)
            return -1;
        wa->p = p;
        wa->index = i;
        if (pthread_create(&p->ids[i], NULL, worker_main, wa)) {
            free(wa);
            return -1;
        }
        p->started++;
    }
    return 0;
}

static void pool_stop(pool *p)
{
    if (p->threads <= 1 || !p->ids)
        return;
    pthread_mutex_lock(&p->mutex);
    atomic_store(&p->stop, 1);
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mutex);
    for (int i = 1; i <= p->started; i++)
        pthread_join(p->ids[i], NULL);
    pthread_mutex_destroy(&p->mutex);
    pthread_cond_destroy(&p->cond);
    free(p->ids);
    p->ids = NULL;
}

static void pool_run(pool *p, pool_fn fn, void *arg, int chunks)
{
    if (chunks <= 1 || p->threads <= 1 || p->started != p->threads - 1 || p->serial) {
        for (int c = 0; c < chunks; c++)
            fn(arg, c, chunks, 0);
        return;
    }
    /* Publish the job; wait until no piece is left and no worker is still inside it. */
    p->fn = fn;
    p->arg = arg;
    if (chunks > 0xffff)
        chunks = 0xffff;
    const uint64_t job = (atomic_load(&p->work) >> 32) + 1;
    atomic_store(&p->work, (uint_fast64_t)job << 32 | (uint_fast64_t)chunks << 16);
    pthread_mutex_lock(&p->mutex);
    if (p->sleepers)
        pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mutex);
    pool_drain(p, job, 0);
    /* A worker still inside a piece: spin briefly, then give the core away so that a
     * descheduled worker sharing it can finish. */
    for (int spins = 0; atomic_load(&p->active) > 0; spins++) {
        if (spins < 256)
            cpu_relax();
        else
            sched_yield();
    }
}

/* ---------------------------------------------------------------- nodes */

typedef struct broadcast {
    int rank;                       /* 6, leading dims padded with 1 */
    int32_t out_shape[VB_TFLITE_MAX_RANK];
    size_t a_stride[VB_TFLITE_MAX_RANK], b_stride[VB_TFLITE_MAX_RANK];
    int same_shape;
    size_t count;
} broadcast;

typedef struct node {
    const vb_tflite_operator *op;
    int index;
    int code;
    int alias;                      /* RESHAPE: output shares the input's buffer */
    int skip;                       /* QUANTIZE/DEQUANTIZE of a fused state (vector levels) */
    int in_type, out_type;
    /* conv / depthwise */
    tfl_conv_params conv;
    int32_t *multiplier, *shift;
    tfl_packed_conv packed;
    int packed_level;
    size_t scratch_bytes;
    /* int8 ADD/MUL */
    int32_t in1_offset, in2_offset, out_offset, left_shift;
    int32_t in1_mult, in2_mult, out_mult;
    int in1_shift, in2_shift, out_shift;
    int32_t act_min, act_max;
    int8_t *lut;                    /* [256][256] results of the element function */
    float *dequant_lut;             /* [256] */
    broadcast bc;
    /* quantize / dequantize / concat / sum */
    float scale;
    int32_t zero_point;
    float in_scale;
    int32_t in_zero_point;
    /* concatenation: per input requantization; outer x (axis chunk) copy */
    size_t outer, inner_bytes_out;
    /* strided slice / sum: 6-d descriptions */
    int32_t in_dims[VB_TFLITE_MAX_RANK];
    int32_t start[VB_TFLITE_MAX_RANK], step[VB_TFLITE_MAX_RANK], count[VB_TFLITE_MAX_RANK];
    int reduce[VB_TFLITE_MAX_RANK];
    size_t reduce_count;
    /* average pool */
    int filter_h, filter_w;
} node;

/* A streaming state: graph input `input` gets graph output `output` after each invoke. When
 * the input only feeds a QUANTIZE and the output only comes from a DEQUANTIZE, the vector
 * levels keep the state in int8: the next quantized input is a 256-entry table of the
 * produced int8 values (exactly quantize(dequantize(q))), and both float ops are skipped. */
typedef struct state_link {
    int input, output;
    size_t bytes;
    int fused;
    int quantize_node, dequantize_node;
    int quantized_tensor, source_tensor;
    size_t elements;
    int8_t table[256];
    int8_t quantized_zero;
    int identity;                   /* table[q] == q: a plain copy */
} state_link;

struct vb_tflite_interpreter {
    state_link *links;
    int num_links;
    const vb_tflite_model *model;
    void **buffers;                 /* per tensor */
    void **owned;                   /* per tensor, what we allocated */
    node *nodes;
    int num_nodes;
    int level;
    int skip_fused;                 /* level > 0 when the states were last reset */
    pool workers;
    void **scratch;                 /* per thread conv scratch */
    size_t scratch_bytes;
    /* the operator being run by the pool */
    node *current;
};

#define OPFAIL(code, ...) op_error(err, m, n, code, __VA_ARGS__)

static int op_error(vb_error *err, const vb_tflite_model *m, const node *n, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int op_error(vb_error *err, const vb_tflite_model *m, const node *n, int code, const char *fmt, ...)
{
    char text[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    const char *name = n->op->custom_code ? n->op->custom_code : vb_tflite_op_name(n->code);
    return vb_error_set(err, code, "%s: operator %d (%s): %s", m->path, n->index, name, text);
}

static const vb_tflite_tensor *input_tensor(const vb_tflite_model *m, const node *n, int k)
{
    if (k >= n->op->num_inputs || n->op->inputs[k] < 0)
        return NULL;
    return &m->tensors[n->op->inputs[k]];
}

static const vb_tflite_tensor *output_tensor(const vb_tflite_model *m, const node *n, int k)
{
    if (k >= n->op->num_outputs)
        return NULL;
    return &m->tensors[n->op->outputs[k]];
}

static int same_shape(const vb_tflite_tensor *a, const vb_tflite_tensor *b)
{
    if (a->rank != b->rank)
        return 0;
    for (int d = 0; d < a->rank; d++)
        if (a->shape[d] != b->shape[d])
            return 0;
    return 1;
}

/* Per-tensor int8 quantization: one scale, zero point in range. */
static int check_int8_tensor(vb_error *err, const vb_tflite_model *m, const node *n,
                             const vb_tflite_tensor *t, const char *role)
{
    if (t->type != VB_TFLITE_INT8)
        return OPFAIL(VB_EUNSUPPORTED, "%s tensor \"%s\" has type %s, expected INT8", role, t->name ? t->name : "",
                      vb_tflite_type_name(t->type));
    if (t->num_scales != 1)
        return OPFAIL(VB_EFORMAT, "%s tensor \"%s\" needs one quantization scale (has %d)", role,
                      t->name ? t->name : "", t->num_scales);
    if (t->zero_points[0] < -128 || t->zero_points[0] > 127)
        return OPFAIL(VB_EFORMAT, "%s tensor \"%s\" has zero point %d outside int8", role, t->name ? t->name : "",
                      t->zero_points[0]);
    return 0;
}

static int check_arity(vb_error *err, const vb_tflite_model *m, const node *n, int min_in, int max_in, int outs)
{
    if (n->op->num_inputs < min_in || n->op->num_inputs > max_in || n->op->num_outputs != outs)
        return OPFAIL(VB_EFORMAT, "has %d inputs and %d outputs, expected %d..%d and %d", n->op->num_inputs,
                      n->op->num_outputs, min_in, max_in, outs);
    for (int k = 0; k < min_in; k++)
        if (n->op->inputs[k] < 0)
            return OPFAIL(VB_EFORMAT, "required input %d is absent", k);
    return 0;
}

static int check_activation(vb_error *err, const vb_tflite_model *m, const node *n, int activation)
{
    if (activation < 0 || activation > VB_TFLITE_ACT_RELU6)
        return OPFAIL(VB_EUNSUPPORTED, "fused activation %s is not implemented",
                      vb_tflite_activation_name(activation));
    return 0;
}

static int setup_broadcast(vb_error *err, const vb_tflite_model *m, node *n, const vb_tflite_tensor *a,
                           const vb_tflite_tensor *b, const vb_tflite_tensor *out)
{
    broadcast *bc = &n->bc;
    memset(bc, 0, sizeof *bc);
    bc->rank = VB_TFLITE_MAX_RANK;
    bc->same_shape = same_shape(a, b) && same_shape(a, out);
    int32_t ad[VB_TFLITE_MAX_RANK], bd[VB_TFLITE_MAX_RANK];
    for (int d = 0; d < VB_TFLITE_MAX_RANK; d++) {
        int da = d - (VB_TFLITE_MAX_RANK - a->rank), db = d - (VB_TFLITE_MAX_RANK - b->rank);
        ad[d] = da >= 0 ? a->shape[da] : 1;
        bd[d] = db >= 0 ? b->shape[db] : 1;
        if (ad[d] != bd[d] && ad[d] != 1 && bd[d] != 1)
            return OPFAIL(VB_ESHAPE, "input shapes do not broadcast (dimension %d: %d vs %d)", d, ad[d], bd[d]);
        bc->out_shape[d] = ad[d] == 1 ? bd[d] : ad[d];
        int dout = d - (VB_TFLITE_MAX_RANK - out->rank);
        int declared = dout >= 0 ? out->shape[dout] : 1;
        if (declared != bc->out_shape[d])
            return OPFAIL(VB_ESHAPE, "output dimension %d is %d, the broadcast shape has %d", d, declared,
                          bc->out_shape[d]);
    }
    size_t sa = 1, sb = 1;
    for (int d = VB_TFLITE_MAX_RANK - 1; d >= 0; d--) {
        bc->a_stride[d] = ad[d] == 1 ? 0 : sa;
        bc->b_stride[d] = bd[d] == 1 ? 0 : sb;
        sa *= (size_t)ad[d];
        sb *= (size_t)bd[d];
    }
    bc->count = out->num_elements;
    return 0;
}

/* Walks the broadcast output in order, calling body(i, ia, ib). */
#define BROADCAST_LOOP(bc, body)                                                                 \
    do {                                                                                         \
        if ((bc)->same_shape) {                                                                  \
            for (size_t i_ = 0; i_ < (bc)->count; i_++) {                                        \
                size_t io = i_, ia = i_, ib = i_;                                                \
                body;                                                                            \
            }                                                                                    \
        } else {                                                                                 \
            int32_t idx_[VB_TFLITE_MAX_RANK] = {0};                                              \
            size_t ia = 0, ib = 0;                                                               \
            for (size_t io = 0; io < (bc)->count; io++) {                                        \
                body;                                                                            \
                for (int d_ = VB_TFLITE_MAX_RANK - 1; d_ >= 0; d_--) {                           \
                    ia += (bc)->a_stride[d_];                                                    \
                    ib += (bc)->b_stride[d_];                                                    \
                    if (++idx_[d_] < (bc)->out_shape[d_])                                        \
                        break;                                                                   \
                    ia -= (bc)->a_stride[d_] * (size_t)(bc)->out_shape[d_];                      \
                    ib -= (bc)->b_stride[d_] * (size_t)(bc)->out_shape[d_];                      \
                    idx_[d_] = 0;                                                                \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
    } while (0)

/* ---- element functions of int8 ADD and MUL (TFLite reference_integer_ops add.h, mul.h) */

static int8_t add_int8_element(const node *n, int8_t a, int8_t b)
{
    const int32_t input1_val = n->in1_offset + a;
    const int32_t input2_val = n->in2_offset + b;
    const int32_t shifted_input1_val = input1_val * (1 << n->left_shift);
    const int32_t shifted_input2_val = input2_val * (1 << n->left_shift);
    const int32_t scaled_input1_val =
        tfl_multiply_by_quantized_multiplier(shifted_input1_val, n->in1_mult, n->in1_shift);
    const int32_t scaled_input2_val =
        tfl_multiply_by_quantized_multiplier(shifted_input2_val, n->in2_mult, n->in2_shift);
    const int32_t raw_sum = scaled_input1_val + scaled_input2_val;
    const int32_t raw_output = tfl_multiply_by_quantized_multiplier(raw_sum, n->out_mult, n->out_shift) + n->out_offset;
    const int32_t clamped = raw_output < n->act_min ? n->act_min : raw_output > n->act_max ? n->act_max : raw_output;
    return (int8_t)clamped;
}

static int8_t mul_int8_element(const node *n, int8_t a, int8_t b)
{
    const int32_t input1_val = n->in1_offset + a;
    const int32_t input2_val = n->in2_offset + b;
    const int32_t unclamped =
        n->out_offset + tfl_multiply_by_quantized_multiplier(input1_val * input2_val, n->out_mult, n->out_shift);
    const int32_t clamped = unclamped < n->act_min ? n->act_min : unclamped > n->act_max ? n->act_max : unclamped;
    return (int8_t)clamped;
}

static float apply_float_activation(int activation, float v)
{
    switch (activation) {
    case VB_TFLITE_ACT_RELU: return v < 0.0f ? 0.0f : v;
    case VB_TFLITE_ACT_RELU6: return v < 0.0f ? 0.0f : v > 6.0f ? 6.0f : v;
    case VB_TFLITE_ACT_RELU_N1_TO_1: return v < -1.0f ? -1.0f : v > 1.0f ? 1.0f : v;
    default: return v;
    }
}

/* ---------------------------------------------------------------- prepare */

static int prepare_conv(vb_error *err, const vb_tflite_model *m, node *n, int depthwise)
{
    int rc;
    if ((rc = check_arity(err, m, n, 2, 3, 1)))
        return rc;
    const vb_tflite_tensor *in = input_tensor(m, n, 0), *w = input_tensor(m, n, 1), *bias = input_tensor(m, n, 2);
    const vb_tflite_tensor *out = output_tensor(m, n, 0);
    const vb_tflite_options *o = &n->op->options;
    if ((rc = check_int8_tensor(err, m, n, in, "input")) || (rc = check_int8_tensor(err, m, n, out, "output")))
        return rc;
    if (w->type != VB_TFLITE_INT8 || !w->data)
        return OPFAIL(VB_EUNSUPPORTED, "filter must be a constant INT8 tensor (is %s%s)", vb_tflite_type_name(w->type),
                      w->data ? "" : ", not constant");
    if (in->rank != 4 || w->rank != 4 || out->rank != 4)
        return OPFAIL(VB_ESHAPE, "input, filter and output must be 4-d (ranks %d, %d, %d)", in->rank, w->rank, out->rank);
    if ((rc = check_activation(err, m, n, o->activation)))
        return rc;
    if (o->stride_w < 1 || o->stride_h < 1 || o->dilation_w < 1 || o->dilation_h < 1 || o->stride_w > 1024 ||
        o->stride_h > 1024 || o->dilation_w > 1024 || o->dilation_h > 1024)
        return OPFAIL(VB_EFORMAT, "stride %dx%d / dilation %dx%d out of range", o->stride_h, o->stride_w,
                      o->dilation_h, o->dilation_w);
    if (o->padding != VB_TFLITE_PAD_SAME && o->padding != VB_TFLITE_PAD_VALID)
        return OPFAIL(VB_EUNSUPPORTED, "padding %d is not SAME or VALID", o->padding);
    tfl_conv_params *p = &n->conv;
    memset(p, 0, sizeof *p);
    p->batches = in->shape[0];
    p->in_h = in->shape[1];
    p->in_w = in->shape[2];
    p->in_c = in->shape[3];
    p->k_h = w->shape[1];
    p->k_w = w->shape[2];
    p->out_c = out->shape[3];
    p->stride_h = o->stride_h;
    p->stride_w = o->stride_w;
    p->dilation_h = o->dilation_h;
    p->dilation_w = o->dilation_w;
    if (depthwise) {
        if (w->shape[0] != 1)
            return OPFAIL(VB_ESHAPE, "depthwise filter must have shape [1,h,w,c] (first dimension %d)", w->shape[0]);
        if (o->depth_multiplier < 1 || (int64_t)p->in_c * o->depth_multiplier != p->out_c || w->shape[3] != p->out_c)
            return OPFAIL(VB_ESHAPE, "input channels %d x depth multiplier %d must equal output channels %d and filter's %d",
                          p->in_c, o->depth_multiplier, p->out_c, w->shape[3]);
        p->depth_multiplier = o->depth_multiplier;
    } else {
        if (w->shape[0] != p->out_c || w->shape[3] != p->in_c)
            return OPFAIL(VB_ESHAPE, "filter shape [%d,%d,%d,%d] does not match %d input and %d output channels",
                          w->shape[0], w->shape[1], w->shape[2], w->shape[3], p->in_c, p->out_c);
        if ((int64_t)p->k_h * p->k_w * p->in_c > MAX_CONV_DEPTH)
            return OPFAIL(VB_ELIMIT, "filter depth %lld exceeds %d", (long long)p->k_h * p->k_w * p->in_c, MAX_CONV_DEPTH);
    }
    if (p->k_h < 1 || p->k_w < 1 || p->in_c < 1 || p->out_c < 1)
        return OPFAIL(VB_ESHAPE, "empty filter or channels");
    /* Output size and padding: TFLite ComputePaddingHeightWidth. */
    const int64_t eff_h = (int64_t)(p->k_h - 1) * p->dilation_h + 1, eff_w = (int64_t)(p->k_w - 1) * p->dilation_w + 1;
    int64_t oh, ow;
    if (o->padding == VB_TFLITE_PAD_SAME) {
        oh = ((int64_t)p->in_h + p->stride_h - 1) / p->stride_h;
        ow = ((int64_t)p->in_w + p->stride_w - 1) / p->stride_w;
    } else {
        oh = ((int64_t)p->in_h + p->stride_h - eff_h) / p->stride_h;
        ow = ((int64_t)p->in_w + p->stride_w - eff_w) / p->stride_w;
    }
    if (oh != out->shape[1] || ow != out->shape[2] || in->shape[0] != out->shape[0] || oh < 1 || ow < 1)
        return OPFAIL(VB_ESHAPE, "output shape [%d,%d,%d,%d] disagrees with the computed [%d,%lld,%lld,%d]",
                      out->shape[0], out->shape[1], out->shape[2], out->shape[3], in->shape[0], (long long)oh,
                      (long long)ow, p->out_c);
    int64_t total_h = (oh - 1) * p->stride_h + eff_h - p->in_h, total_w = (ow - 1) * p->stride_w + eff_w - p->in_w;
    p->out_h = (int)oh;
    p->out_w = (int)ow;
    p->pad_top = (int)(total_h > 0 ? total_h / 2 : 0);
    p->pad_left = (int)(total_w > 0 ? total_w / 2 : 0);

    /* Per-channel quantization (TFLite PopulateConvolutionQuantizationParams). */
    const int quant_dim = depthwise ? 3 : 0;
    if (w->num_scales != 1 && (w->num_scales != p->out_c || w->quantized_dimension != quant_dim))
        return OPFAIL(VB_EFORMAT, "filter has %d scales on dimension %d, expected 1 or %d on dimension %d",
                      w->num_scales, w->quantized_dimension, p->out_c, quant_dim);
    for (int c = 0; c < w->num_scales; c++)
        if (w->zero_points[c] != 0)
            return OPFAIL(VB_EUNSUPPORTED, "filter zero point %d (int8 filters must be symmetric)", w->zero_points[c]);
    if (bias) {
        if (bias->type != VB_TFLITE_INT32 || !bias->data || bias->num_elements != (size_t)p->out_c)
            return OPFAIL(VB_ESHAPE, "bias must be a constant INT32 tensor of %d values (is %s, %zu values)", p->out_c,
                          vb_tflite_type_name(bias->type), bias->num_elements);
    }
    n->multiplier = malloc((size_t)p->out_c * sizeof(int32_t));
    n->shift = malloc((size_t)p->out_c * sizeof(int32_t));
    if (!n->multiplier || !n->shift)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", m->path);
    for (int c = 0; c < p->out_c; c++) {
        const double filter_scale = w->scales[w->num_scales == 1 ? 0 : c];
        const double effective = (double)in->scales[0] * filter_scale / (double)out->scales[0];
        int shift;
        tfl_quantize_multiplier(effective, &n->multiplier[c], &shift);
        n->shift[c] = shift;
    }
    p->input_offset = -in->zero_points[0];
    p->output_offset = out->zero_points[0];
    tfl_activation_range_int8(o->activation, out->scales[0], out->zero_points[0], &p->act_min, &p->act_max);
    p->filter = w->data;
    p->bias = bias ? bias->data : NULL;
    p->multiplier = n->multiplier;
    p->shift = n->shift;
    return 0;
}

static int prepare_add_mul(vb_error *err, const vb_tflite_model *m, node *n)
{
    int rc;
    if ((rc = check_arity(err, m, n, 2, 2, 1)))
        return rc;
    const vb_tflite_tensor *a = input_tensor(m, n, 0), *b = input_tensor(m, n, 1), *out = output_tensor(m, n, 0);
    if ((rc = check_activation(err, m, n, n->op->options.activation)))
        return rc;
    if (a->type != b->type || a->type != out->type)
        return OPFAIL(VB_EUNSUPPORTED, "mixed types %s, %s -> %s", vb_tflite_type_name(a->type),
                      vb_tflite_type_name(b->type), vb_tflite_type_name(out->type));
    if ((rc = setup_broadcast(err, m, n, a, b, out)))
        return rc;
    n->in_type = a->type;
    if (a->type == VB_TFLITE_FLOAT32 || (a->type == VB_TFLITE_INT32 && n->code != VB_TFLITE_OP_DIV))
        return 0;
    if (a->type != VB_TFLITE_INT8 || n->code == VB_TFLITE_OP_DIV)
        return OPFAIL(VB_EUNSUPPORTED, "type %s is not implemented", vb_tflite_type_name(a->type));
    if ((rc = check_int8_tensor(err, m, n, a, "input 1")) || (rc = check_int8_tensor(err, m, n, b, "input 2")) ||
        (rc = check_int8_tensor(err, m, n, out, "output")))
        return rc;
    const float s1 = a->scales[0], s2 = b->scales[0], so = out->scales[0];
    n->in1_offset = -a->zero_points[0];
    n->in2_offset = -b->zero_points[0];
    n->out_offset = out->zero_points[0];
    tfl_activation_range_int8(n->op->options.activation, so, out->zero_points[0], &n->act_min, &n->act_max);
    if (n->code == VB_TFLITE_OP_ADD) {
        /* add.cc PrepareGeneralSubOp / Prepare for int8: left_shift 20. */
        n->left_shift = 20;
        const double twice_max_input_scale = 2 * (double)(s1 > s2 ? s1 : s2);
        const double real_input1_multiplier = (double)s1 / twice_max_input_scale;
        const double real_input2_multiplier = (double)s2 / twice_max_input_scale;
        const double real_output_multiplier = twice_max_input_scale / ((double)(1 << n->left_shift) * (double)so);
        tfl_quantize_multiplier(real_input1_multiplier, &n->in1_mult, &n->in1_shift);
        tfl_quantize_multiplier(real_input2_multiplier, &n->in2_mult, &n->in2_shift);
        tfl_quantize_multiplier(real_output_multiplier, &n->out_mult, &n->out_shift);
        if (n->in1_shift > 0 || n->in2_shift > 0 || n->out_shift > 0)
            return OPFAIL(VB_EUNSUPPORTED, "output scale %g is too small for the inputs' %g and %g", (double)so,
                          (double)s1, (double)s2);
    } else {
        const double real_multiplier = (double)s1 * (double)s2 / (double)so;
        tfl_quantize_multiplier(real_multiplier, &n->out_mult, &n->out_shift);
    }
    /* The element function of two int8 values has 65536 cases: tabulate it. */
    n->lut = calloc(65536 + 4, 1);
    if (!n->lut)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", m->path);
    for (int x = -128; x < 128; x++)
        for (int y = -128; y < 128; y++)
            n->lut[((unsigned)(uint8_t)x << 8) | (uint8_t)y] =
                n->code == VB_TFLITE_OP_ADD ? add_int8_element(n, (int8_t)x, (int8_t)y) : mul_int8_element(n, (int8_t)x, (int8_t)y);
    return 0;
}

static int prepare_pool(vb_error *err, const vb_tflite_model *m, node *n)
{
    int rc;
    if ((rc = check_arity(err, m, n, 1, 1, 1)))
        return rc;
    const vb_tflite_tensor *in = input_tensor(m, n, 0), *out = output_tensor(m, n, 0);
    const vb_tflite_options *o = &n->op->options;
    if (in->rank != 4 || out->rank != 4)
        return OPFAIL(VB_ESHAPE, "input and output must be 4-d");
    if ((rc = check_activation(err, m, n, o->activation)))
        return rc;
    if (o->stride_w < 1 || o->stride_h < 1 || o->filter_w < 1 || o->filter_h < 1 || o->stride_w > 1024 ||
        o->stride_h > 1024 || o->filter_w > 1024 || o->filter_h > 1024)
        return OPFAIL(VB_EFORMAT, "filter %dx%d / stride %dx%d out of range", o->filter_h, o->filter_w, o->stride_h, o->stride_w);
    tfl_conv_params *p = &n->conv;
    memset(p, 0, sizeof *p);
    p->batches = in->shape[0];
    p->in_h = in->shape[1];
    p->in_w = in->shape[2];
    p->in_c = in->shape[3];
    p->out_c = p->in_c;
    p->k_h = o->filter_h;
    p->k_w = o->filter_w;
    p->stride_h = o->stride_h;
    p->stride_w = o->stride_w;
    int64_t oh, ow;
    if (o->padding == VB_TFLITE_PAD_SAME) {
        oh = ((int64_t)p->in_h + p->stride_h - 1) / p->stride_h;
        ow = ((int64_t)p->in_w + p->stride_w - 1) / p->stride_w;
    } else if (o->padding == VB_TFLITE_PAD_VALID) {
        oh = ((int64_t)p->in_h + p->stride_h - p->k_h) / p->stride_h;
        ow = ((int64_t)p->in_w + p->stride_w - p->k_w) / p->stride_w;
    } else
        return OPFAIL(VB_EUNSUPPORTED, "padding %d is not SAME or VALID", o->padding);
    if (oh < 1 || ow < 1 || oh != out->shape[1] || ow != out->shape[2] || out->shape[0] != p->batches ||
        out->shape[3] != p->in_c)
        return OPFAIL(VB_ESHAPE, "output shape [%d,%d,%d,%d] disagrees with the computed [%d,%lld,%lld,%d]",
                      out->shape[0], out->shape[1], out->shape[2], out->shape[3], p->batches, (long long)oh,
                      (long long)ow, p->in_c);
    p->out_h = (int)oh;
    p->out_w = (int)ow;
    int64_t total_h = (oh - 1) * p->stride_h + p->k_h - p->in_h, total_w = (ow - 1) * p->stride_w + p->k_w - p->in_w;
    p->pad_top = (int)(total_h > 0 ? total_h / 2 : 0);
    p->pad_left = (int)(total_w > 0 ? total_w / 2 : 0);
    n->in_type = in->type;
    if (in->type == VB_TFLITE_FLOAT32 && out->type == VB_TFLITE_FLOAT32)
        return 0;
    if ((rc = check_int8_tensor(err, m, n, in, "input")) || (rc = check_int8_tensor(err, m, n, out, "output")))
        return rc;
    if (in->scales[0] != out->scales[0] || in->zero_points[0] != out->zero_points[0])
        return OPFAIL(VB_EUNSUPPORTED, "int8 average pooling needs equal input and output quantization");
    tfl_activation_range_int8(o->activation, out->scales[0], out->zero_points[0], &p->act_min, &p->act_max);
    return 0;
}

static int prepare_quantize(vb_error *err, const vb_tflite_model *m, node *n)
{
    int rc;
    if ((rc = check_arity(err, m, n, 1, 1, 1)))
        return rc;
    const vb_tflite_tensor *in = input_tensor(m, n, 0), *out = output_tensor(m, n, 0);
    if (!same_shape(in, out))
        return OPFAIL(VB_ESHAPE, "input and output shapes differ");
    n->in_type = in->type;
    if ((rc = check_int8_tensor(err, m, n, out, "output")))
        return rc;
    n->scale = out->scales[0];
    n->zero_point = out->zero_points[0];
    if (in->type == VB_TFLITE_FLOAT32)
        return 0;
    if (in->type != VB_TFLITE_INT8)
        return OPFAIL(VB_EUNSUPPORTED, "quantizing from %s is not implemented", vb_tflite_type_name(in->type));
    if ((rc = check_int8_tensor(err, m, n, in, "input")))
        return rc;
    /* int8 -> int8 requantization (quantize.cc: Requantize). */
    n->in_zero_point = in->zero_points[0];
    tfl_quantize_multiplier((double)in->scales[0] / (double)out->scales[0], &n->out_mult, &n->out_shift);
    return 0;
}

static int prepare_dequantize(vb_error *err, const vb_tflite_model *m, node *n)
{
    int rc;
    if ((rc = check_arity(err, m, n, 1, 1, 1)))
        return rc;
    const vb_tflite_tensor *in = input_tensor(m, n, 0), *out = output_tensor(m, n, 0);
    if (!same_shape(in, out))
        return OPFAIL(VB_ESHAPE, "input and output shapes differ");
    if ((rc = check_int8_tensor(err, m, n, in, "input")))
        return rc;
    if (out->type != VB_TFLITE_FLOAT32)
        return OPFAIL(VB_EUNSUPPORTED, "dequantizing to %s is not implemented", vb_tflite_type_name(out->type));
    n->scale = in->scales[0];
    n->zero_point = in->zero_points[0];
    n->dequant_lut = malloc(256 * sizeof(float));
    if (!n->dequant_lut)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", m->path);
    for (int x = -128; x < 128; x++)
        n->dequant_lut[(uint8_t)x] = (float)((double)n->scale * (double)(x - n->zero_point));
    return 0;
}

static int cast_type_ok(int type)
{
    return type == VB_TFLITE_FLOAT32 || type == VB_TFLITE_INT32 || type == VB_TFLITE_INT8 ||
           type == VB_TFLITE_UINT8 || type == VB_TFLITE_INT64 || type == VB_TFLITE_BOOL || type == VB_TFLITE_INT16;
}

static int prepare_cast(vb_error *err, const vb_tflite_model *m, node *n)
{
    int rc;
    if ((rc = check_arity(err, m, n, 1, 1, 1)))
        return rc;
    const vb_tflite_tensor *in = input_tensor(m, n, 0), *out = output_tensor(m, n, 0);
    if (in->num_elements != out->num_elements)
        return OPFAIL(VB_ESHAPE, "input has %zu elements, output %zu", in->num_elements, out->num_elements);
    if (!cast_type_ok(in->type) || !cast_type_ok(out->type))
        return OPFAIL(VB_EUNSUPPORTED, "cast %s -> %s is not implemented", vb_tflite_type_name(in->type),
                      vb_tflite_type_name(out->type));
    n->in_type = in->type;
    n->out_type = out->type;
    return 0;
}

static int prepare_reshape(vb_error *err, const vb_tflite_model *m, node *n)
{
    int rc;
    if ((rc = check_arity(err, m, n, 1, 2, 1)))
        return rc;
    const vb_tflite_tensor *in = input_tensor(m, n, 0), *out = output_tensor(m, n, 0);
    if (in->type != out->type || in->num_elements != out->num_elements)
        return OPFAIL(VB_ESHAPE, "input %s with %zu elements cannot become output %s with %zu",
                      vb_tflite_type_name(in->type), in->num_elements, vb_tflite_type_name(out->type), out->num_elements);
    if (vb_tflite_type_size(in->type) == 0)
        return OPFAIL(VB_EUNSUPPORTED, "type %s is not implemented", vb_tflite_type_name(in->type));
    if (in->num_scales != out->num_scales ||
        (in->num_scales == 1 && (in->scales[0] != out->scales[0] || in->zero_points[0] != out->zero_points[0])))
        return OPFAIL(VB_EUNSUPPORTED, "input and output quantization differ");
    n->alias = 1;
    return 0;
}

static int prepare_concat(vb_error *err, const vb_tflite_model *m, node *n)
{
    int rc;
    if (n->op->num_inputs < 1 || (rc = check_arity(err, m, n, n->op->num_inputs, n->op->num_inputs, 1)))
        return n->op->num_inputs < 1 ? OPFAIL(VB_EFORMAT, "no inputs") : rc;
    const vb_tflite_tensor *out = output_tensor(m, n, 0);
    if ((rc = check_activation(err, m, n, n->op->options.activation)))
        return rc;
    if (n->op->options.activation != VB_TFLITE_ACT_NONE)
        return OPFAIL(VB_EUNSUPPORTED, "fused activation %s is not implemented",
                      vb_tflite_activation_name(n->op->options.activation));
    int axis = n->op->options.axis;
    if (axis < 0)
        axis += out->rank;
    if (axis < 0 || axis >= out->rank)
        return OPFAIL(VB_EFORMAT, "axis %d out of range for rank %d", n->op->options.axis, out->rank);
    size_t es = vb_tflite_type_size(out->type);
    if (es == 0 || (out->type != VB_TFLITE_INT8 && out->type != VB_TFLITE_FLOAT32 && out->type != VB_TFLITE_INT32))
        return OPFAIL(VB_EUNSUPPORTED, "type %s is not implemented", vb_tflite_type_name(out->type));
    if (out->type == VB_TFLITE_INT8 && (rc = check_int8_tensor(err, m, n, out, "output")))
        return rc;
    int64_t axis_total = 0;
    for (int k = 0; k < n->op->num_inputs; k++) {
        const vb_tflite_tensor *in = input_tensor(m, n, k);
        if (in->type != out->type || in->rank != out->rank)
            return OPFAIL(VB_ESHAPE, "input %d (%s, rank %d) does not match the output (%s, rank %d)", k,
                          vb_tflite_type_name(in->type), in->rank, vb_tflite_type_name(out->type), out->rank);
        for (int d = 0; d < out->rank; d++)
            if (d != axis && in->shape[d] != out->shape[d])
                return OPFAIL(VB_ESHAPE, "input %d dimension %d is %d, output's is %d", k, d, in->shape[d], out->shape[d]);
        axis_total += in->shape[axis];
        if (out->type == VB_TFLITE_INT8 && (rc = check_int8_tensor(err, m, n, in, "input")))
            return rc;
    }
    if (axis_total != out->shape[axis])
        return OPFAIL(VB_ESHAPE, "inputs add up to %lld along axis %d, output has %d", (long long)axis_total, axis,
                      out->shape[axis]);
    size_t outer = 1, inner = es;
    for (int d = 0; d < axis; d++)
        outer *= (size_t)out->shape[d];
    for (int d = axis + 1; d < out->rank; d++)
        inner *= (size_t)out->shape[d];
    n->outer = outer;
    n->inner_bytes_out = inner;   /* bytes per unit of the axis */
    n->reduce[0] = axis;
    n->in_type = out->type;
    return 0;
}

/* TFLite strided_slice.h StartForAxis / StopForAxis (no ellipsis or new axes). */
static int clamp_int(int64_t v, int64_t lo, int64_t hi) { return (int)(v < lo ? lo : v > hi ? hi : v); }

static int prepare_strided_slice(vb_error *err, const vb_tflite_model *m, node *n)
{
    int rc;
    if ((rc = check_arity(err, m, n, 4, 4, 1)))
        return rc;
    const vb_tflite_tensor *in = input_tensor(m, n, 0), *out = output_tensor(m, n, 0);
    const vb_tflite_tensor *tb = input_tensor(m, n, 1), *te = input_tensor(m, n, 2), *ts = input_tensor(m, n, 3);
    const vb_tflite_options *o = &n->op->options;
    if (o->ellipsis_mask || o->new_axis_mask)
        return OPFAIL(VB_EUNSUPPORTED, "ellipsis and new-axis masks are not implemented");
    if (in->type != out->type || vb_tflite_type_size(in->type) == 0)
        return OPFAIL(VB_EUNSUPPORTED, "types %s -> %s", vb_tflite_type_name(in->type), vb_tflite_type_name(out->type));
    const vb_tflite_tensor *idx[3] = {tb, te, ts};
    for (int k = 0; k < 3; k++)
        if (idx[k]->type != VB_TFLITE_INT32 || !idx[k]->data || idx[k]->num_elements != (size_t)in->rank)
            return OPFAIL(VB_EUNSUPPORTED, "begin/end/strides must be constant INT32 vectors of %d values", in->rank);
    const int32_t *begin = tb->data, *end = te->data, *strides = ts->data;
    int out_rank = 0;
    const int pad = VB_TFLITE_MAX_RANK - in->rank;
    for (int d = 0; d < VB_TFLITE_MAX_RANK; d++) {
        n->in_dims[d] = 1;
        n->start[d] = 0;
        n->step[d] = 1;
        n->count[d] = 1;
    }
    for (int i = 0; i < in->rank; i++) {
        const int64_t dim = in->shape[i], stride = strides[i];
        if (stride == 0)
            return OPFAIL(VB_EFORMAT, "stride of axis %d is 0", i);
        int64_t start, stop;
        if (o->begin_mask & (1 << i))
            start = stride > 0 ? 0 : dim - 1;
        else {
            start = begin[i];
            if (start < 0)
                start += dim;
            start = stride > 0 ? clamp_int(start, 0, dim) : clamp_int(start, -1, dim - 1);
        }
        const int shrink = (o->shrink_axis_mask >> i) & 1;
        if (shrink) {
            stop = start + 1;
            if (start < 0 || start >= dim)
                return OPFAIL(VB_EFORMAT, "shrunk axis %d index %lld out of range", i, (long long)start);
        } else if (o->end_mask & (1 << i))
            stop = stride > 0 ? dim : -1;
        else {
            stop = o->offset ? (int64_t)begin[i] + end[i] : end[i];
            if (stop < 0)
                stop += dim;
            stop = stride > 0 ? clamp_int(stop, 0, dim) : clamp_int(stop, -1, dim - 1);
        }
        int64_t count = stride > 0 ? (stop - start + stride - 1) / stride : (start - stop + (-stride) - 1) / (-stride);
        if (count < 0)
            count = 0;
        n->in_dims[pad + i] = (int32_t)dim;
        n->start[pad + i] = (int32_t)start;
        n->step[pad + i] = (int32_t)stride;
        n->count[pad + i] = shrink ? 1 : (int32_t)count;
        if (!shrink) {
            if (out_rank >= out->rank || out->shape[out_rank] != count)
                return OPFAIL(VB_ESHAPE, "output shape disagrees with the slice (axis %d has %lld elements)", i,
                              (long long)count);
            out_rank++;
        }
    }
    if (out_rank != out->rank)
        return OPFAIL(VB_ESHAPE, "output rank %d, slice gives %d", out->rank, out_rank);
    if (in->num_scales == 1 && (out->num_scales != 1 || in->scales[0] != out->scales[0] ||
                                in->zero_points[0] != out->zero_points[0]))
        return OPFAIL(VB_EUNSUPPORTED, "input and output quantization differ");
    return 0;
}

static int prepare_sum(vb_error *err, const vb_tflite_model *m, node *n)
{
    int rc;
    if ((rc = check_arity(err, m, n, 2, 2, 1)))
        return rc;
    const vb_tflite_tensor *in = input_tensor(m, n, 0), *axes = input_tensor(m, n, 1), *out = output_tensor(m, n, 0);
    if (axes->type != VB_TFLITE_INT32 || !axes->data)
        return OPFAIL(VB_EUNSUPPORTED, "axes must be a constant INT32 tensor");
    const int32_t *ax = axes->data;
    memset(n->reduce, 0, sizeof n->reduce);
    const int pad = VB_TFLITE_MAX_RANK - in->rank;
    for (size_t k = 0; k < axes->num_elements; k++) {
        int a = ax[k] < 0 ? ax[k] + in->rank : ax[k];
        if (a < 0 || a >= in->rank)
            return OPFAIL(VB_EFORMAT, "axis %d out of range for rank %d", ax[k], in->rank);
        n->reduce[pad + a] = 1;
    }
    int out_rank = 0;
    n->reduce_count = 1;
    for (int d = 0; d < VB_TFLITE_MAX_RANK; d++) {
        n->in_dims[d] = d < pad ? 1 : in->shape[d - pad];
        if (n->reduce[d])
            n->reduce_count *= (size_t)n->in_dims[d];
    }
    for (int i = 0; i < in->rank; i++) {
        int reduced = n->reduce[pad + i];
        if (reduced && !n->op->options.keep_dims)
            continue;
        int expect = reduced ? 1 : in->shape[i];
        if (out_rank >= out->rank || out->shape[out_rank] != expect)
            return OPFAIL(VB_ESHAPE, "output shape disagrees with the reduction");
        out_rank++;
    }
    if (out_rank != out->rank || in->type != out->type)
        return OPFAIL(VB_ESHAPE, "output rank or type disagrees with the reduction");
    n->in_type = in->type;
    if (in->type == VB_TFLITE_FLOAT32 || in->type == VB_TFLITE_INT32)
        return 0;
    if ((rc = check_int8_tensor(err, m, n, in, "input")) || (rc = check_int8_tensor(err, m, n, out, "output")))
        return rc;
    if (n->reduce_count > ((size_t)1 << 23))
        return OPFAIL(VB_ELIMIT, "reduces %zu elements per output", n->reduce_count);
    n->in_scale = in->scales[0];
    n->in_zero_point = in->zero_points[0];
    n->scale = out->scales[0];
    n->zero_point = out->zero_points[0];
    return 0;
}

/* ---------------------------------------------------------------- eval */

static void *buf(vb_tflite_interpreter *it, const node *n, int k) { return it->buffers[n->op->inputs[k]]; }
static void *outbuf(vb_tflite_interpreter *it, const node *n) { return it->buffers[n->op->outputs[0]]; }

static void range_split(int total, int thread, int threads, int *begin, int *end)
{
    *begin = (int)((int64_t)total * thread / threads);
    *end = (int)((int64_t)total * (thread + 1) / threads);
}

static void run_conv_part(void *arg, int chunk, int chunks, int thread)
{
    const int threads = chunks;
    const int part = chunk;
    vb_tflite_interpreter *it = arg;
    node *n = it->current;
    const int8_t *in = buf(it, n, 0);
    int8_t *out = outbuf(it, n);
    const tfl_conv_params *p = &n->conv;
    if (n->code == VB_TFLITE_OP_DEPTHWISE_CONV_2D) {
        int b, e;
        range_split(p->batches * p->out_h * p->out_w, part, threads, &b, &e);
        if (it->level > 0)
            tfl_depthwise_vector(it->level, p, in, out, b, e);
        else
            tfl_depthwise_ref(p, in, out, b, e);
        return;
    }
    if (n->packed_level == 0) {
        int b, e;
        range_split(p->batches * p->out_h, part, threads, &b, &e);
        tfl_conv_ref(p, in, out, b, e);
        return;
    }
    const int pixels = p->batches * p->out_h * p->out_w;
    const int block = n->packed_level == 2 ? 32 : 16;
    if (pixels >= 8 * threads || threads == 1) {
        int b, e;
        range_split((pixels + 3) / 4, part, threads, &b, &e);
        b *= 4;
        e = e * 4 < pixels ? e * 4 : pixels;
        if (b < e)
            tfl_conv_vector(p, &n->packed, in, out, b, e, 0, p->out_c, it->scratch[thread]);
    } else {
        int blocks = (p->out_c + block - 1) / block, b, e;
        range_split(blocks, part, threads, &b, &e);
        b *= block;
        e = e * block < p->out_c ? e * block : p->out_c;
        if (b < e)
            tfl_conv_vector(p, &n->packed, in, out, 0, pixels, b, e, it->scratch[thread]);
    }
}

static void eval_pool(vb_tflite_interpreter *it, node *n)
{
    const tfl_conv_params *p = &n->conv;
    if (n->in_type == VB_TFLITE_INT8) {
        if (it->level > 0)
            tfl_avgpool_vector(it->level, p, buf(it, n, 0), outbuf(it, n));
        else
            tfl_avgpool_ref(p, buf(it, n, 0), outbuf(it, n));
        return;
    }
    const float *in = buf(it, n, 0);
    float *out = outbuf(it, n);
    for (int b = 0; b < p->batches; b++)
        for (int oy = 0; oy < p->out_h; oy++)
            for (int ox = 0; ox < p->out_w; ox++) {
                const tfl_pool_window w = tfl_pool_window_at(p, oy, ox);
                const int iy0 = w.iy0, ix0 = w.ix0, fy0 = w.fy0, fy1 = w.fy1, fx0 = w.fx0, fx1 = w.fx1;
                const int count = w.count;
                for (int c = 0; c < p->in_c; c++) {
                    float sum = 0.0f;
                    for (int fy = fy0; fy < fy1; fy++)
                        for (int fx = fx0; fx < fx1; fx++)
                            sum += in[(((size_t)b * p->in_h + iy0 + fy) * p->in_w + ix0 + fx) * p->in_c + c];
                    out[(((size_t)b * p->out_h + oy) * p->out_w + ox) * p->in_c + c] =
                        apply_float_activation(n->op->options.activation, count > 0 ? sum / (float)count : 0.0f);
                }
            }
}

/* Large element-wise int8 ADD/MUL and float QUANTIZE on the vector levels: pieces of the
 * flat element range, run by the pool like the convolutions. */
static int elementwise_parallel(const vb_tflite_interpreter *it, const node *n)
{
    if (it->level == 0 || it->workers.threads < 2)
        return 0;
    if (n->code == VB_TFLITE_OP_QUANTIZE)
        return n->in_type == VB_TFLITE_FLOAT32 && it->model->tensors[n->op->outputs[0]].num_elements >= 4096;
    return (n->code == VB_TFLITE_OP_ADD || n->code == VB_TFLITE_OP_MUL) && n->in_type == VB_TFLITE_INT8 &&
           n->bc.same_shape && n->bc.count >= 4096;
}

static void run_elementwise_part(void *arg, int chunk, int chunks, int thread)
{
    (void)thread;
    vb_tflite_interpreter *it = arg;
    const node *n = it->current;
    const size_t count = it->model->tensors[n->op->outputs[0]].num_elements;
    /* Piece boundaries on multiples of 64 elements keep the vector loops whole. */
    const size_t blocks = (count + 63) / 64;
    const size_t begin = blocks * (size_t)chunk / (size_t)chunks * 64;
    size_t end = blocks * (size_t)(chunk + 1) / (size_t)chunks * 64;
    end = end < count ? end : count;
    if (begin >= end)
        return;
    if (n->code == VB_TFLITE_OP_QUANTIZE) {
        tfl_quantize_vector(it->level, (const float *)buf(it, n, 0) + begin, (int8_t *)outbuf(it, n) + begin,
                            end - begin, n->scale, n->zero_point);
        return;
    }
    const tfl_elementwise_params e = {
        n->code == VB_TFLITE_OP_ADD, n->in1_offset, n->in2_offset, n->out_offset, n->left_shift,
        n->in1_mult, n->in2_mult, n->out_mult, n->in1_shift, n->in2_shift, n->out_shift, n->act_min, n->act_max};
    const int8_t *a = (const int8_t *)buf(it, n, 0) + begin, *b = (const int8_t *)buf(it, n, 1) + begin;
    int8_t *o = (int8_t *)outbuf(it, n) + begin;
    if (!tfl_add_mul_vector(it->level, &e, a, b, o, end - begin))
        tfl_lookup2_vector(it->level, n->lut, a, b, o, end - begin);
}

static void eval_add_mul_div(vb_tflite_interpreter *it, node *n)
{
    const broadcast *bc = &n->bc;
    const int act = n->op->options.activation;
    if (n->in_type == VB_TFLITE_INT8) {
        const int8_t *a = buf(it, n, 0), *b = buf(it, n, 1);
        int8_t *o = outbuf(it, n);
        if (it->level > 0 && bc->same_shape) {
            const tfl_elementwise_params e = {
                n->code == VB_TFLITE_OP_ADD, n->in1_offset, n->in2_offset, n->out_offset, n->left_shift,
                n->in1_mult, n->in2_mult, n->out_mult, n->in1_shift, n->in2_shift, n->out_shift, n->act_min, n->act_max};
            if (!tfl_add_mul_vector(it->level, &e, a, b, o, bc->count))
                tfl_lookup2_vector(it->level, n->lut, a, b, o, bc->count);   /* exact by construction */
            return;
        }
        if (it->level > 0) {
            const int8_t *lut = n->lut;
            BROADCAST_LOOP(bc, o[io] = lut[((unsigned)(uint8_t)a[ia] << 8) | (uint8_t)b[ib]]);
        } else if (n->code == VB_TFLITE_OP_ADD) {
            BROADCAST_LOOP(bc, o[io] = add_int8_element(n, a[ia], b[ib]));
        } else {
            BROADCAST_LOOP(bc, o[io] = mul_int8_element(n, a[ia], b[ib]));
        }
    } else if (n->in_type == VB_TFLITE_INT32) {
        const int32_t *a = buf(it, n, 0), *b = buf(it, n, 1);
        int32_t *o = outbuf(it, n);
        /* Activation bounds for int32 are the float ones rounded (RELU 0, RELU6 6). */
        const int32_t lo = act == VB_TFLITE_ACT_NONE ? INT32_MIN : act == VB_TFLITE_ACT_RELU_N1_TO_1 ? -1 : 0;
        const int32_t hi = act == VB_TFLITE_ACT_RELU6 ? 6 : act == VB_TFLITE_ACT_RELU_N1_TO_1 ? 1 : INT32_MAX;
        if (n->code == VB_TFLITE_OP_ADD) {
            BROADCAST_LOOP(bc, { int32_t v = (int32_t)((uint32_t)a[ia] + (uint32_t)b[ib]);
                                 o[io] = v < lo ? lo : v > hi ? hi : v; });
        } else {
            BROADCAST_LOOP(bc, { int32_t v = (int32_t)((uint32_t)a[ia] * (uint32_t)b[ib]);
                                 o[io] = v < lo ? lo : v > hi ? hi : v; });
        }
    } else {
        const float *a = buf(it, n, 0), *b = buf(it, n, 1);
        float *o = outbuf(it, n);
        if (n->code == VB_TFLITE_OP_ADD) {
            BROADCAST_LOOP(bc, o[io] = apply_float_activation(act, a[ia] + b[ib]));
        } else if (n->code == VB_TFLITE_OP_MUL) {
            BROADCAST_LOOP(bc, o[io] = apply_float_activation(act, a[ia] * b[ib]));
        } else {
            BROADCAST_LOOP(bc, o[io] = apply_float_activation(act, a[ia] / b[ib]));
        }
    }
}

static void eval_quantize(vb_tflite_interpreter *it, node *n)
{
    const vb_tflite_tensor *out = &it->model->tensors[n->op->outputs[0]];
    int8_t *o = outbuf(it, n);
    if (n->in_type == VB_TFLITE_FLOAT32) {
        if (it->level > 0)
            tfl_quantize_vector(it->level, buf(it, n, 0), o, out->num_elements, n->scale, n->zero_point);
        else
            tfl_quantize_ref(buf(it, n, 0), o, out->num_elements, n->scale, n->zero_point);
        return;
    }
    const int8_t *in = buf(it, n, 0);
    for (size_t i = 0; i < out->num_elements; i++) {
        int32_t v = tfl_multiply_by_quantized_multiplier(in[i] - n->in_zero_point, n->out_mult, n->out_shift) + n->zero_point;
        o[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
    }
}

static void eval_dequantize(vb_tflite_interpreter *it, node *n)
{
    const vb_tflite_tensor *out = &it->model->tensors[n->op->outputs[0]];
    const int8_t *in = buf(it, n, 0);
    float *o = outbuf(it, n);
    if (it->level > 0) {
        for (size_t i = 0; i < out->num_elements; i++)
            o[i] = n->dequant_lut[(uint8_t)in[i]];
        return;
    }
    /* dequantize.h: static_cast<float>(scale * (val - zero_point)) with a double scale. */
    const double scale = n->scale;
    for (size_t i = 0; i < out->num_elements; i++)
        o[i] = (float)(scale * (double)(in[i] - n->zero_point));
}

static double load_as_double(const void *p, int type, size_t i)
{
    switch (type) {
    case VB_TFLITE_FLOAT32: return ((const float *)p)[i];
    case VB_TFLITE_INT32: return ((const int32_t *)p)[i];
    case VB_TFLITE_INT8: return ((const int8_t *)p)[i];
    case VB_TFLITE_UINT8: return ((const uint8_t *)p)[i];
    case VB_TFLITE_INT16: return ((const int16_t *)p)[i];
    case VB_TFLITE_INT64: return (double)((const int64_t *)p)[i];
    default: return ((const uint8_t *)p)[i] != 0;
    }
}

/* static_cast semantics; out-of-range float -> integer saturates instead of being undefined. */
static void store_from_double(void *p, int type, size_t i, double v)
{
#define SAT(T, lo, hi) (v != v ? (T)0 : v <= (double)(lo) ? (T)(lo) : v >= (double)(hi) ? (T)(hi) : (T)v)
    switch (type) {
    case VB_TFLITE_FLOAT32: ((float *)p)[i] = (float)v; break;
    case VB_TFLITE_INT32: ((int32_t *)p)[i] = SAT(int32_t, INT32_MIN, INT32_MAX); break;
    case VB_TFLITE_INT8: ((int8_t *)p)[i] = SAT(int8_t, -128, 127); break;
    case VB_TFLITE_UINT8: ((uint8_t *)p)[i] = SAT(uint8_t, 0, 255); break;
    case VB_TFLITE_INT16: ((int16_t *)p)[i] = SAT(int16_t, -32768, 32767); break;
    case VB_TFLITE_INT64: ((int64_t *)p)[i] = SAT(int64_t, -9.2e18, 9.2e18); break;
    default: ((uint8_t *)p)[i] = v != 0.0; break;
    }
#undef SAT
}

static void eval_cast(vb_tflite_interpreter *it, node *n)
{
    const vb_tflite_tensor *out = &it->model->tensors[n->op->outputs[0]];
    const void *in = buf(it, n, 0);
    void *o = outbuf(it, n);
    for (size_t i = 0; i < out->num_elements; i++)
        store_from_double(o, n->out_type, i, load_as_double(in, n->in_type, i));
}

static void eval_concat(vb_tflite_interpreter *it, node *n)
{
    const vb_tflite_model *m = it->model;
    const vb_tflite_tensor *out = &m->tensors[n->op->outputs[0]];
    const int axis = n->reduce[0];
    const size_t unit = n->inner_bytes_out;
    uint8_t *o = outbuf(it, n);
    size_t out_row = unit * (size_t)out->shape[axis];
    size_t offset = 0;
    for (int k = 0; k < n->op->num_inputs; k++) {
        const vb_tflite_tensor *in = &m->tensors[n->op->inputs[k]];
        const uint8_t *src = buf(it, n, k);
        const size_t row = unit * (size_t)in->shape[axis];
        const int requantize = out->type == VB_TFLITE_INT8 &&
                               (in->scales[0] != out->scales[0] || in->zero_points[0] != out->zero_points[0]);
        for (size_t r = 0; r < n->outer; r++) {
            uint8_t *dst = o + r * out_row + offset;
            const uint8_t *s = src + r * row;
            if (!requantize) {
                memcpy(dst, s, row);
                continue;
            }
            /* ConcatenationWithScaling: float rescale, std::round, clamp. */
            const float scale = in->scales[0] * (1.0f / out->scales[0]);
            const float bias = -(float)in->zero_points[0] * scale;
            for (size_t j = 0; j < row; j++) {
                int32_t v = (int32_t)roundf((float)(int8_t)s[j] * scale + bias) + out->zero_points[0];
                ((int8_t *)dst)[j] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
            }
        }
        offset += row;
    }
}

static void eval_strided_slice(vb_tflite_interpreter *it, node *n)
{
    const vb_tflite_tensor *in = &it->model->tensors[n->op->inputs[0]];
    const size_t es = vb_tflite_type_size(in->type);
    const uint8_t *src = buf(it, n, 0);
    uint8_t *dst = outbuf(it, n);
    size_t in_stride[VB_TFLITE_MAX_RANK], s = 1;
    for (int d = VB_TFLITE_MAX_RANK - 1; d >= 0; d--) {
        in_stride[d] = s;
        s *= (size_t)n->in_dims[d];
    }
    size_t written = 0;
    for (int i0 = 0; i0 < n->count[0]; i0++)
    for (int i1 = 0; i1 < n->count[1]; i1++)
    for (int i2 = 0; i2 < n->count[2]; i2++)
    for (int i3 = 0; i3 < n->count[3]; i3++)
    for (int i4 = 0; i4 < n->count[4]; i4++) {
        size_t base = (size_t)(n->start[0] + (int64_t)i0 * n->step[0]) * in_stride[0] +
                      (size_t)(n->start[1] + (int64_t)i1 * n->step[1]) * in_stride[1] +
                      (size_t)(n->start[2] + (int64_t)i2 * n->step[2]) * in_stride[2] +
                      (size_t)(n->start[3] + (int64_t)i3 * n->step[3]) * in_stride[3] +
                      (size_t)(n->start[4] + (int64_t)i4 * n->step[4]) * in_stride[4];
        if (n->step[5] == 1) {
            memcpy(dst + written * es, src + (base + (size_t)n->start[5]) * es, (size_t)n->count[5] * es);
            written += (size_t)n->count[5];
        } else {
            for (int i5 = 0; i5 < n->count[5]; i5++, written++)
                memcpy(dst + written * es, src + (base + (size_t)(n->start[5] + (int64_t)i5 * n->step[5])) * es, es);
        }
    }
}

static void eval_sum(vb_tflite_interpreter *it, node *n)
{
    const vb_tflite_tensor *out = &it->model->tensors[n->op->outputs[0]];
    const size_t outputs = out->num_elements;
    size_t out_stride[VB_TFLITE_MAX_RANK], s = 1;
    for (int d = VB_TFLITE_MAX_RANK - 1; d >= 0; d--) {
        out_stride[d] = n->reduce[d] ? 0 : s;
        s *= n->reduce[d] ? 1 : (size_t)n->in_dims[d];
    }
    int32_t idx[VB_TFLITE_MAX_RANK] = {0};
    size_t in_count = 1;
    for (int d = 0; d < VB_TFLITE_MAX_RANK; d++)
        in_count *= (size_t)n->in_dims[d];
    /* Accumulate in the output's own type order (TFLite ReduceSumImpl). */
    int32_t *isum = NULL;
    float *fsum = NULL;
    if (n->in_type == VB_TFLITE_FLOAT32)
        fsum = outbuf(it, n);
    else
        isum = calloc(outputs ? outputs : 1, sizeof(int32_t));
    if (fsum)
        memset(fsum, 0, outputs * sizeof(float));
    if (!fsum && !isum)
        return;   /* cannot happen in practice: tiny allocation; output keeps old values */
    size_t oi = 0;
    for (size_t i = 0; i < in_count; i++) {
        if (fsum)
            fsum[oi] += ((const float *)buf(it, n, 0))[i];
        else if (n->in_type == VB_TFLITE_INT32)
            isum[oi] = (int32_t)((uint32_t)isum[oi] + (uint32_t)((const int32_t *)buf(it, n, 0))[i]);
        else
            isum[oi] += ((const int8_t *)buf(it, n, 0))[i];
        for (int d = VB_TFLITE_MAX_RANK - 1; d >= 0; d--) {
            oi += out_stride[d];
            if (++idx[d] < n->in_dims[d])
                break;
            oi -= out_stride[d] * (size_t)n->in_dims[d];
            idx[d] = 0;
        }
    }
    if (isum && n->in_type == VB_TFLITE_INT32)
        memcpy(outbuf(it, n), isum, outputs * sizeof(int32_t));
    else if (isum) {
        /* reduce.h QuantizedMeanOrSum(compute_sum): float rescale of the int32 sum (TFLite
         * casts without clamping; we saturate, identical whenever the value fits). */
        const float scale = n->in_scale / n->scale;
        const float bias = -(float)n->in_zero_point * scale * (float)n->reduce_count;
        int8_t *o = outbuf(it, n);
        for (size_t k = 0; k < outputs; k++) {
            float f = roundf((float)isum[k] * scale + bias);
            int32_t v = (f != f || f < -1.0e6f) ? -1000000 : f > 1.0e6f ? 1000000 : (int32_t)f;
            v += n->zero_point;
            o[k] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
        }
    }
    free(isum);
}

/* ---------------------------------------------------------------- create / invoke */

static int prepare_node(vb_error *err, const vb_tflite_model *m, node *n)
{
    switch (n->code) {
    case VB_TFLITE_OP_CONV_2D: return prepare_conv(err, m, n, 0);
    case VB_TFLITE_OP_DEPTHWISE_CONV_2D: return prepare_conv(err, m, n, 1);
    case VB_TFLITE_OP_ADD:
    case VB_TFLITE_OP_MUL:
    case VB_TFLITE_OP_DIV: return prepare_add_mul(err, m, n);
    case VB_TFLITE_OP_AVERAGE_POOL_2D: return prepare_pool(err, m, n);
    case VB_TFLITE_OP_QUANTIZE: return prepare_quantize(err, m, n);
    case VB_TFLITE_OP_DEQUANTIZE: return prepare_dequantize(err, m, n);
    case VB_TFLITE_OP_CAST: return prepare_cast(err, m, n);
    case VB_TFLITE_OP_RESHAPE: return prepare_reshape(err, m, n);
    case VB_TFLITE_OP_CONCATENATION: return prepare_concat(err, m, n);
    case VB_TFLITE_OP_STRIDED_SLICE: return prepare_strided_slice(err, m, n);
    case VB_TFLITE_OP_SUM: return prepare_sum(err, m, n);
    default:
        return OPFAIL(VB_EUNSUPPORTED, "operator %s is not implemented",
                      n->op->custom_code ? n->op->custom_code : vb_tflite_op_name(n->code));
    }
}

static void free_nodes(vb_tflite_interpreter *it)
{
    for (int i = 0; it->nodes && i < it->num_nodes; i++) {
        free(it->nodes[i].multiplier);
        free(it->nodes[i].shift);
        free(it->nodes[i].lut);
        free(it->nodes[i].dequant_lut);
        tfl_packed_conv_free(&it->nodes[i].packed);
    }
    free(it->nodes);
    it->nodes = NULL;
}

static int pack_convs(vb_tflite_interpreter *it, vb_error *err)
{
    size_t scratch = 0;
    for (int i = 0; i < it->num_nodes; i++) {
        node *n = &it->nodes[i];
        if (n->code != VB_TFLITE_OP_CONV_2D)
            continue;
        tfl_packed_conv_free(&n->packed);
        n->packed_level = 0;
        if (it->level == 0)
            continue;
        if (tfl_pack_conv(&n->conv, it->level, &n->packed))
            return vb_error_set(err, VB_ENOMEM, "%s: out of memory packing weights", it->model->path);
        n->packed_level = it->level;
        const int pixels = n->conv.batches * n->conv.out_h * n->conv.out_w;
        size_t need = tfl_conv_scratch_bytes(&n->conv, &n->packed, pixels);
        scratch = need > scratch ? need : scratch;
    }
    if (scratch > it->scratch_bytes) {
        for (int t = 0; t < it->workers.threads; t++) {
            free(it->scratch[t]);
            it->scratch[t] = aligned_alloc(64, (scratch + 63) / 64 * 64);
            if (!it->scratch[t])
                return vb_error_set(err, VB_ENOMEM, "%s: out of memory", it->model->path);
        }
        it->scratch_bytes = scratch;
    }
    return 0;
}

int vb_tflite_interpreter_threads(const vb_tflite_interpreter *it)
{
    return it->workers.threads;
}

int vb_tflite_interpreter_create(const vb_tflite_model *m, int threads, vb_tflite_interpreter **out, vb_error *err)
{
    *out = NULL;
    threads = vb_threads_resolve(threads);
    if (threads > 64)
        threads = 64;
    vb_tflite_interpreter *it = calloc(1, sizeof *it);
    if (!it)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", m->path);
    it->model = m;
    it->buffers = calloc((size_t)m->num_tensors + 1, sizeof(void *));
    it->owned = calloc((size_t)m->num_tensors + 1, sizeof(void *));
    it->nodes = calloc((size_t)m->num_operators + 1, sizeof(node));
    it->scratch = calloc((size_t)threads, sizeof(void *));
    it->num_nodes = m->num_operators;
    it->workers.threads = threads;
    char *ready = calloc((size_t)m->num_tensors + 1, 1);
    int rc = 0;
    if (!it->buffers || !it->owned || !it->nodes || !it->scratch || !ready) {
        rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", m->path);
        goto fail;
    }
    /* Tensors available before the first operator: constants and the graph inputs. */
    for (int t = 0; t < m->num_tensors; t++)
        if (m->tensors[t].data) {
            it->buffers[t] = (void *)m->tensors[t].data;
            ready[t] = 1;
        }
    size_t total_bytes = 0;
    for (int k = 0; k < m->num_inputs; k++) {
        int t = m->inputs[k];
        const vb_tflite_tensor *tensor = &m->tensors[t];
        if (tensor->data || ready[t] == 2) {
            rc = vb_error_set(err, VB_EFORMAT, "%s: graph input %d (tensor %d) is a constant or listed twice", m->path, k, t);
            goto fail;
        }
        if (vb_tflite_type_size(tensor->type) == 0) {
            rc = vb_error_set(err, VB_EUNSUPPORTED, "%s: graph input \"%s\" has type %s", m->path,
                              tensor->name ? tensor->name : "", vb_tflite_type_name(tensor->type));
            goto fail;
        }
        total_bytes += tensor->num_bytes;
        it->owned[t] = calloc(1, (tensor->num_bytes + 63) / 64 * 64 + 64);
        if (!it->owned[t] || total_bytes > MAX_TOTAL_ACTIVATION_BYTES) {
            rc = vb_error_set(err, it->owned[t] ? VB_ELIMIT : VB_ENOMEM, "%s: activations need too much memory", m->path);
            goto fail;
        }
        it->buffers[t] = it->owned[t];
        ready[t] = 2;
    }
    for (int i = 0; i < m->num_operators; i++) {
        node *n = &it->nodes[i];
        n->op = &m->operators[i];
        n->index = i;
        n->code = n->op->builtin_code;
        for (int k = 0; k < n->op->num_inputs; k++) {
            int t = n->op->inputs[k];
            if (t >= 0 && !ready[t]) {
                rc = OPFAIL(VB_EFORMAT, "input %d (tensor %d \"%s\") is not computed before it is used", k, t,
                            m->tensors[t].name ? m->tensors[t].name : "");
                goto fail;
            }
        }
        for (int k = 0; k < n->op->num_outputs; k++) {
            int t = n->op->outputs[k];
            if (ready[t]) {
                rc = OPFAIL(VB_EFORMAT, "output %d (tensor %d) is a constant, a graph input or written twice", k, t);
                goto fail;
            }
            if (vb_tflite_type_size(m->tensors[t].type) == 0) {
                rc = OPFAIL(VB_EUNSUPPORTED, "output type %s is not implemented", vb_tflite_type_name(m->tensors[t].type));
                goto fail;
            }
        }
        if ((rc = prepare_node(err, m, n)))
            goto fail;
        for (int k = 0; k < n->op->num_outputs; k++) {
            int t = n->op->outputs[k];
            ready[t] = 1;
            if (n->alias) {
                it->buffers[t] = it->buffers[n->op->inputs[0]];
                continue;
            }
            total_bytes += m->tensors[t].num_bytes;
            if (total_bytes > MAX_TOTAL_ACTIVATION_BYTES) {
                rc = OPFAIL(VB_ELIMIT, "activations exceed %zu bytes", MAX_TOTAL_ACTIVATION_BYTES);
                goto fail;
            }
            it->owned[t] = aligned_alloc(64, (m->tensors[t].num_bytes + 63) / 64 * 64 + 64);
            if (!it->owned[t]) {
                rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory for tensor %d", m->path, t);
                goto fail;
            }
            memset(it->owned[t], 0, m->tensors[t].num_bytes);
            it->buffers[t] = it->owned[t];
        }
    }
    for (int k = 0; k < m->num_outputs; k++)
        if (!ready[m->outputs[k]]) {
            rc = vb_error_set(err, VB_EFORMAT, "%s: graph output %d (tensor %d) is never computed", m->path, k, m->outputs[k]);
            goto fail;
        }
    free(ready);
    ready = NULL;
    if (pool_start(&it->workers, threads)) {
        rc = vb_error_set(err, VB_ENOMEM, "%s: could not start %d threads", m->path, threads);
        goto fail;
    }
    it->level = tfl_cpu_level();
    if ((rc = pack_convs(it, err)))
        goto fail;
    *out = it;
    return 0;
fail:
    free(ready);
    vb_tflite_interpreter_free(&it);
    return rc;
}

void vb_tflite_interpreter_free(vb_tflite_interpreter **interpreter)
{
    if (!interpreter || !*interpreter)
        return;
    vb_tflite_interpreter *it = *interpreter;
    pool_stop(&it->workers);
    free_nodes(it);
    for (int t = 0; it->owned && t < it->model->num_tensors; t++)
        free(it->owned[t]);
    for (int t = 0; it->scratch && t < it->workers.threads; t++)
        free(it->scratch[t]);
    free(it->scratch);
    free(it->links);
    free(it->owned);
    free(it->buffers);
    free(it);
    *interpreter = NULL;
}

void *vb_tflite_tensor_buffer(vb_tflite_interpreter *it, int tensor)
{
    if (!it || tensor < 0 || tensor >= it->model->num_tensors)
        return NULL;
    return it->buffers[tensor];
}

int vb_tflite_cpu_simd_level(void) { return tfl_cpu_level(); }

int vb_tflite_set_simd_level(vb_tflite_interpreter *it, int level)
{
    int cpu = tfl_cpu_level();
    if (level < 0)
        level = 0;
    if (level > cpu)
        level = cpu;
    int previous = it->level;
    it->level = level;
    if (pack_convs(it, NULL)) {
        it->level = 0;
        pack_convs(it, NULL);
        (void)previous;
    }
    return it->level;
}

int vb_tflite_invoke(vb_tflite_interpreter *it, vb_error *err)
{
    (void)err;
    /* With several threads the interpreter measures instead of assuming: it alternates phases
     * where the workers share the operators and phases where the calling thread runs alone,
     * keeps the faster kind for 124 invokes and re-measures the other for 4. On an idle
     * machine the workers win; on one whose other cores are busy (workers preempted inside
     * their pieces) the caller alone wins. Results are identical either way. */
    pool *workers = &it->workers;
    const double invoke_start = workers->threads > 1 ? monotonic_seconds() : 0.0;
    for (int i = 0; i < it->num_nodes; i++) {
        node *n = &it->nodes[i];
        if (n->skip && it->skip_fused)
            continue;
        it->current = n;
        switch (n->code) {
        case VB_TFLITE_OP_CONV_2D:
        case VB_TFLITE_OP_DEPTHWISE_CONV_2D: {
            const int64_t work = (int64_t)n->conv.batches * n->conv.out_h * n->conv.out_w * n->conv.out_c *
                                 n->conv.k_h * n->conv.k_w * (n->code == VB_TFLITE_OP_CONV_2D ? n->conv.in_c : 1);
            /* Small operators run whole: a piece must outweigh the hand-over. */
            int chunks = work >= 40000 ? 4 * it->workers.threads : 1;
            pool_run(&it->workers, run_conv_part, it, chunks);
            break;
        }
        case VB_TFLITE_OP_ADD:
        case VB_TFLITE_OP_MUL:
        case VB_TFLITE_OP_DIV:
            if (elementwise_parallel(it, n))
                pool_run(&it->workers, run_elementwise_part, it, 2 * it->workers.threads);
            else
                eval_add_mul_div(it, n);
            break;
        case VB_TFLITE_OP_AVERAGE_POOL_2D: eval_pool(it, n); break;
        case VB_TFLITE_OP_QUANTIZE:
            if (elementwise_parallel(it, n))
                pool_run(&it->workers, run_elementwise_part, it, 2 * it->workers.threads);
            else
                eval_quantize(it, n);
            break;
        case VB_TFLITE_OP_DEQUANTIZE: eval_dequantize(it, n); break;
        case VB_TFLITE_OP_CAST: eval_cast(it, n); break;
        case VB_TFLITE_OP_RESHAPE: break;   /* output aliases the input */
        case VB_TFLITE_OP_CONCATENATION: eval_concat(it, n); break;
        case VB_TFLITE_OP_STRIDED_SLICE: eval_strided_slice(it, n); break;
        case VB_TFLITE_OP_SUM: eval_sum(it, n); break;
        default: break;   /* refused at creation */
        }
    }
    if (workers->threads > 1) {
        const int kind = workers->serial;
        workers->phase_seconds[kind] += monotonic_seconds() - invoke_start;
        workers->phase_invokes[kind]++;
        if (--workers->phase_left <= 0) {
            const int serial_measured = workers->phase_invokes[1] > 0;
            const double parallel_mean = workers->phase_seconds[0] / (workers->phase_invokes[0] ? workers->phase_invokes[0] : 1);
            const double serial_mean = workers->phase_seconds[1] / (serial_measured ? workers->phase_invokes[1] : 1);
            const int parallel_wins = !serial_measured || parallel_mean < serial_mean;
            workers->serial = !kind;
            workers->phase_left = (workers->serial ? !parallel_wins : parallel_wins) ? 124 : 4;
            workers->phase_seconds[workers->serial] = 0.0;
            workers->phase_invokes[workers->serial] = 0;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- streaming states */

static int consumers(const vb_tflite_model *m, int tensor, int *only)
{
    int count = 0;
    for (int i = 0; i < m->num_operators; i++)
        for (int k = 0; k < m->operators[i].num_inputs; k++)
            if (m->operators[i].inputs[k] == tensor) {
                count++;
                *only = i;
            }
    return count;
}

static int producer(const vb_tflite_model *m, int tensor)
{
    for (int i = 0; i < m->num_operators; i++)
        for (int k = 0; k < m->operators[i].num_outputs; k++)
            if (m->operators[i].outputs[k] == tensor)
                return i;
    return -1;
}

int vb_tflite_link_state(vb_tflite_interpreter *it, int input, int output, vb_error *err)
{
    const vb_tflite_model *m = it->model;
    if (input < 0 || input >= m->num_tensors || output < 0 || output >= m->num_tensors ||
        m->tensors[input].num_bytes != m->tensors[output].num_bytes || m->tensors[input].type != m->tensors[output].type)
        return vb_error_set(err, VB_EINVAL, "%s: state tensors %d -> %d do not match", m->path, output, input);
    state_link *links = realloc(it->links, (size_t)(it->num_links + 1) * sizeof *links);
    if (!links)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", m->path);
    it->links = links;
    state_link *l = &links[it->num_links++];
    memset(l, 0, sizeof *l);
    l->input = input;
    l->output = output;
    l->bytes = m->tensors[input].num_bytes;
    if (input == output)
        return 0;
    int qn = -1, unused = -1;
    const int dn = producer(m, output);
    if (consumers(m, input, &qn) != 1 || dn < 0 || consumers(m, output, &unused) != 0)
        return 0;
    const node *q = &it->nodes[qn], *d = &it->nodes[dn];
    if (q->code != VB_TFLITE_OP_QUANTIZE || q->in_type != VB_TFLITE_FLOAT32 || d->code != VB_TFLITE_OP_DEQUANTIZE)
        return 0;
    const int qt = q->op->outputs[0], st = d->op->inputs[0];
    if (m->tensors[qt].num_elements != m->tensors[st].num_elements || m->tensors[qt].num_elements == 0)
        return 0;
    for (int x = -128; x < 128; x++) {
        const float f = (float)((double)d->scale * (double)(x - d->zero_point));
        tfl_quantize_ref(&f, &l->table[(uint8_t)x], 1, q->scale, q->zero_point);
    }
    l->identity = 1;
    for (int x = -128; x < 128; x++)
        l->identity &= l->table[(uint8_t)x] == x;
    const float zero = 0.0f;
    tfl_quantize_ref(&zero, &l->quantized_zero, 1, q->scale, q->zero_point);
    l->fused = 1;
    l->quantize_node = qn;
    l->dequantize_node = dn;
    l->quantized_tensor = qt;
    l->source_tensor = st;
    l->elements = m->tensors[qt].num_elements;
    it->nodes[qn].skip = 1;
    it->nodes[dn].skip = 1;
    return 0;
}

void vb_tflite_reset_states(vb_tflite_interpreter *it)
{
    it->skip_fused = it->level > 0;
    for (int i = 0; i < it->num_links; i++) {
        const state_link *l = &it->links[i];
        memset(it->buffers[l->input], 0, l->bytes);
        if (l->fused)
            memset(it->buffers[l->quantized_tensor], (uint8_t)l->quantized_zero, l->elements);
    }
}

void vb_tflite_carry_states(vb_tflite_interpreter *it)
{
    for (int i = 0; i < it->num_links; i++) {
        const state_link *l = &it->links[i];
        if (l->fused && it->skip_fused) {
            const int8_t *src = it->buffers[l->source_tensor];
            int8_t *dst = it->buffers[l->quantized_tensor];
            if (l->identity)
                memcpy(dst, src, l->elements);
            else
                for (size_t k = 0; k < l->elements; k++)
                    dst[k] = l->table[(uint8_t)src[k]];
        } else if (it->buffers[l->input] != it->buffers[l->output]) {
            memmove(it->buffers[l->input], it->buffers[l->output], l->bytes);
        }
    }
}
