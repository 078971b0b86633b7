/* Test helper: writes small TFLite FlatBuffers (one subgraph) from plain descriptions, so
 * that each operator can be tested through the real reader and interpreter, and corrupted
 * files can be made by editing the bytes. */
#ifndef VB_TFLITE_BUILDER_H
#define VB_TFLITE_BUILDER_H

#include <stddef.h>
#include <stdint.h>

typedef struct tb_tensor {
    const char *name;
    int type;
    int rank;
    int shape[6];
    const void *data;        /* constant contents or NULL */
    size_t data_bytes;
    int num_scales;          /* 0 = not quantized */
    float scales[8];
    int64_t zero_points[8];
    int quantized_dimension;
} tb_tensor;

typedef struct tb_option {
    int field;
    int width;               /* 1 or 4 bytes */
    int64_t value;
} tb_option;

typedef struct tb_operator {
    int code;
    int num_inputs, inputs[8];
    int num_outputs, outputs[4];
    int options_type;        /* BuiltinOptions union type, 0 = none */
    int num_options;
    tb_option options[8];
} tb_operator;

typedef struct tb_model {
    int num_tensors;
    tb_tensor tensors[16];
    int num_operators;
    tb_operator operators[8];
    int num_inputs, inputs[8];
    int num_outputs, outputs[8];
    const char *input_names[8];   /* signature names (NULL: no signature) */
    const char *output_names[8];
    int signature_inputs;         /* input entries in the signature; 0: num_inputs */
} tb_model;

/* Serializes the model; returns a malloc'ed buffer (free it) and its size. */
uint8_t *tb_build(const tb_model *model, size_t *size_bytes);

#endif
