/* What the interpreter's files share: the per-operator node (prepared parameters), the
 * interpreter object, the operator table (one prepare + eval pair per operator kind) and the
 * checks every prepare uses. Internal to src/model/tflite/. */
#ifndef VB_TFLITE_INTERPRETER_INTERNAL_H
#define VB_TFLITE_INTERPRETER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "vidbench/tflite.h"
#include "kernels.h"
#include "pool.h"

#define MAX_TOTAL_ACTIVATION_BYTES ((size_t)1 << 30)
#define MAX_CONV_DEPTH 65536   /* k_h*k_w*in_c: keeps the int32 accumulator exact */

typedef struct broadcast {
    int rank;                       /* 6, leading dims padded with 1 */
    int32_t out_shape[VB_TFLITE_MAX_RANK];
    size_t a_stride[VB_TFLITE_MAX_RANK], b_stride[VB_TFLITE_MAX_RANK];
    int same_shape;
    size_t count;
} broadcast;

typedef struct node {
    const vb_tflite_operator *op;
    const struct tfl_operator_kind *kind;   /* its entry in the operator table */
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

/* ---- the operator table (ops.c) ---- */

typedef struct tfl_operator_kind {
    int code;                                  /* VB_TFLITE_OP_* */
    /* Checks types, shapes and quantization once and fills the node; errors name the operator. */
    int (*prepare)(vb_error *err, const vb_tflite_model *m, node *n);
    /* Runs the prepared node on it->buffers (it->current == n); NULL: nothing to run. */
    void (*eval)(vb_tflite_interpreter *it, node *n);
} tfl_operator_kind;

/* The entry for an operator code, NULL when it is not implemented. */
const tfl_operator_kind *tfl_operator_find(int code);

/* Per family, in ops_conv.c, ops_elementwise.c and ops_layout.c. */
int tfl_prepare_conv(vb_error *err, const vb_tflite_model *m, node *n);
int tfl_prepare_depthwise(vb_error *err, const vb_tflite_model *m, node *n);
int tfl_prepare_pool(vb_error *err, const vb_tflite_model *m, node *n);
void tfl_eval_conv(vb_tflite_interpreter *it, node *n);
void tfl_eval_pool(vb_tflite_interpreter *it, node *n);
/* Packs the weights of every CONV_2D for it->level (none at level 0) and sizes the per-thread
 * scratch. err may be NULL. */
int tfl_pack_convs(vb_tflite_interpreter *it, vb_error *err);

int tfl_prepare_add_mul(vb_error *err, const vb_tflite_model *m, node *n);
int tfl_prepare_quantize(vb_error *err, const vb_tflite_model *m, node *n);
int tfl_prepare_dequantize(vb_error *err, const vb_tflite_model *m, node *n);
int tfl_prepare_cast(vb_error *err, const vb_tflite_model *m, node *n);
void tfl_eval_add_mul_div(vb_tflite_interpreter *it, node *n);
void tfl_eval_quantize(vb_tflite_interpreter *it, node *n);
void tfl_eval_dequantize(vb_tflite_interpreter *it, node *n);
void tfl_eval_cast(vb_tflite_interpreter *it, node *n);

int tfl_prepare_reshape(vb_error *err, const vb_tflite_model *m, node *n);
int tfl_prepare_concat(vb_error *err, const vb_tflite_model *m, node *n);
int tfl_prepare_strided_slice(vb_error *err, const vb_tflite_model *m, node *n);
int tfl_prepare_sum(vb_error *err, const vb_tflite_model *m, node *n);
void tfl_eval_concat(vb_tflite_interpreter *it, node *n);
void tfl_eval_strided_slice(vb_tflite_interpreter *it, node *n);
void tfl_eval_sum(vb_tflite_interpreter *it, node *n);

/* ---- checks and helpers shared by the operators (ops_common.c) ---- */

/* Fills err with "<model>: operator <i> (<name>): <text>" and returns code. */
int tfl_op_error(vb_error *err, const vb_tflite_model *m, const node *n, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
#define OPFAIL(code, ...) tfl_op_error(err, m, n, code, __VA_ARGS__)
/* Input / output tensor k of a node, NULL when absent. */
const vb_tflite_tensor *tfl_input_tensor(const vb_tflite_model *m, const node *n, int k);
const vb_tflite_tensor *tfl_output_tensor(const vb_tflite_model *m, const node *n, int k);
int tfl_same_shape(const vb_tflite_tensor *a, const vb_tflite_tensor *b);
/* Per-tensor int8 quantization: one scale, zero point in range. */
int tfl_check_int8_tensor(vb_error *err, const vb_tflite_model *m, const node *n, const vb_tflite_tensor *t,
                          const char *role);
int tfl_check_arity(vb_error *err, const vb_tflite_model *m, const node *n, int min_in, int max_in, int outs);
int tfl_check_activation(vb_error *err, const vb_tflite_model *m, const node *n, int activation);
float tfl_apply_float_activation(int activation, float v);
/* [begin, end) of piece `thread` of `threads` equal pieces of total. */
void tfl_range_split(int total, int thread, int threads, int *begin, int *end);

static inline void *buf(vb_tflite_interpreter *it, const node *n, int k) { return it->buffers[n->op->inputs[k]]; }
static inline void *outbuf(vb_tflite_interpreter *it, const node *n) { return it->buffers[n->op->outputs[0]]; }

#endif
