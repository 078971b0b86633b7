/* TensorFlow Lite model files read by vidbench's own checked FlatBuffer reader, and an
 * interpreter for the int8/float operators MoViNet stream models use (TFLite semantics). */
#ifndef VIDBENCH_TFLITE_H
#define VIDBENCH_TFLITE_H

#include <stddef.h>
#include <stdint.h>
#include "vidbench/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VB_TFLITE_MAX_RANK 6

/* TensorType values of the TFLite schema. */
enum {
    VB_TFLITE_FLOAT32 = 0, VB_TFLITE_FLOAT16 = 1, VB_TFLITE_INT32 = 2, VB_TFLITE_UINT8 = 3,
    VB_TFLITE_INT64 = 4, VB_TFLITE_STRING = 5, VB_TFLITE_BOOL = 6, VB_TFLITE_INT16 = 7,
    VB_TFLITE_COMPLEX64 = 8, VB_TFLITE_INT8 = 9, VB_TFLITE_FLOAT64 = 10,
};

/* BuiltinOperator values of the TFLite schema that the interpreter runs. */
enum {
    VB_TFLITE_OP_ADD = 0, VB_TFLITE_OP_AVERAGE_POOL_2D = 1, VB_TFLITE_OP_CONCATENATION = 2,
    VB_TFLITE_OP_CONV_2D = 3, VB_TFLITE_OP_DEPTHWISE_CONV_2D = 4, VB_TFLITE_OP_DEQUANTIZE = 6,
    VB_TFLITE_OP_MUL = 18, VB_TFLITE_OP_RESHAPE = 22, VB_TFLITE_OP_DIV = 42,
    VB_TFLITE_OP_STRIDED_SLICE = 45, VB_TFLITE_OP_CAST = 53, VB_TFLITE_OP_SUM = 74,
    VB_TFLITE_OP_QUANTIZE = 114,
};

/* Fused activations (ActivationFunctionType) and paddings (Padding) of the schema. */
enum { VB_TFLITE_ACT_NONE = 0, VB_TFLITE_ACT_RELU = 1, VB_TFLITE_ACT_RELU_N1_TO_1 = 2,
       VB_TFLITE_ACT_RELU6 = 3 };
enum { VB_TFLITE_PAD_SAME = 0, VB_TFLITE_PAD_VALID = 1 };

typedef struct vb_tflite_tensor {
    char *name;
    int type;                          /* VB_TFLITE_* */
    int rank;
    int32_t shape[VB_TFLITE_MAX_RANK];
    size_t num_elements;
    size_t num_bytes;
    const void *data;                  /* constant contents (aligned, owned), or NULL */
    int is_variable;
    /* Quantization: num_scales == 0 when none; per-axis when > 1. */
    int num_scales;
    float *scales;
    int32_t *zero_points;
    int quantized_dimension;
} vb_tflite_tensor;

/* Builtin options, flattened: only the fields of the operator's own options are meaningful. */
typedef struct vb_tflite_options {
    int padding, stride_w, stride_h, dilation_w, dilation_h, depth_multiplier;
    int filter_w, filter_h, activation, axis, keep_dims;
    int begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask, offset;
    int in_type, out_type;
} vb_tflite_options;

typedef struct vb_tflite_operator {
    int builtin_code;                  /* BuiltinOperator; -1 for CUSTOM */
    char *custom_code;                 /* CUSTOM operators' name, else NULL */
    int version;
    int num_inputs, num_outputs;
    int32_t *inputs, *outputs;         /* tensor indices, -1 = optional input absent */
    int options_type;                  /* BuiltinOptions union type, 0 = none */
    vb_tflite_options options;
} vb_tflite_operator;

typedef struct vb_tflite_signature_entry {
    char *name;
    int tensor;
} vb_tflite_signature_entry;

typedef struct vb_tflite_signature {
    char *key;
    int subgraph;
    int num_inputs, num_outputs;
    vb_tflite_signature_entry *inputs, *outputs;
} vb_tflite_signature;

/* A loaded model: subgraph 0 only (the MoViNet files have one). Read-only after open. */
typedef struct vb_tflite_model {
    char *path;
    int version;
    char *description;
    int num_subgraphs;
    int num_tensors;
    vb_tflite_tensor *tensors;
    int num_inputs, num_outputs;
    int32_t *inputs, *outputs;
    int num_operators;
    vb_tflite_operator *operators;
    int num_signatures;
    vb_tflite_signature *signatures;
} vb_tflite_model;

/* Reads and checks a .tflite file (every offset, length and index). Unknown operators or
 * types are accepted here (inspect lists them); the interpreter refuses them. */
int vb_tflite_open(const char *path, vb_tflite_model **out, vb_error *err);
/* Same from bytes in memory (copied as needed); name is used in messages. */
int vb_tflite_open_memory(const uint8_t *bytes, size_t size_bytes, const char *name,
                          vb_tflite_model **out, vb_error *err);
void vb_tflite_free(vb_tflite_model **model);

/* "CONV_2D", "INT8", "RELU6"...; "UNKNOWN(n)" text in a static buffer for unlisted codes. */
const char *vb_tflite_op_name(int builtin_code);
const char *vb_tflite_type_name(int type);
const char *vb_tflite_activation_name(int activation);
/* Element size in bytes, 0 for types without a fixed size. */
size_t vb_tflite_type_size(int type);

/* Interpreter over subgraph 0: every operator checked and shapes verified at creation, so
 * invoke cannot fail on well-formed inputs. threads: 0 = automatic (vb_threads_resolve), at most 64
 * (pthreads). */
typedef struct vb_tflite_interpreter vb_tflite_interpreter;

int vb_tflite_interpreter_create(const vb_tflite_model *model, int threads,
                                 vb_tflite_interpreter **out, vb_error *err);
void vb_tflite_interpreter_free(vb_tflite_interpreter **interpreter);
/* Threads the interpreter runs with (the resolved count). */
int vb_tflite_interpreter_threads(const vb_tflite_interpreter *interpreter);
/* Buffer of a tensor (input: write it before invoke; output: read it after). */
void *vb_tflite_tensor_buffer(vb_tflite_interpreter *interpreter, int tensor);
int vb_tflite_invoke(vb_tflite_interpreter *interpreter, vb_error *err);

/* Streaming states: after each invoke, vb_tflite_carry_states copies every linked output
 * into its input. Where the input only feeds a QUANTIZE and the output only comes from a
 * DEQUANTIZE, the vector levels keep that state in int8 (exactly the same values; the float
 * output is then not written). Link before the first reset; reset before the first invoke
 * and after changing the SIMD level. */
int vb_tflite_link_state(vb_tflite_interpreter *interpreter, int input_tensor, int output_tensor,
                         vb_error *err);
void vb_tflite_reset_states(vb_tflite_interpreter *interpreter);
void vb_tflite_carry_states(vb_tflite_interpreter *interpreter);

/* Kernel selection for tests and benchmarks: 0 plain C reference, 1 AVX2, 2 AVX-512 VNNI.
 * Returns the level actually used (capped by what the CPU supports). */
int vb_tflite_set_simd_level(vb_tflite_interpreter *interpreter, int level);
int vb_tflite_cpu_simd_level(void);

#ifdef __cplusplus
}
#endif
#endif
