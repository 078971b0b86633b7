/* Checks and helpers every operator family shares (interpreter_internal.h): error messages that
 * name the operator, arity, int8 quantization, activations, shapes, work splitting. */
#include "interpreter_internal.h"

#include <stdarg.h>
#include <stdio.h>

int tfl_op_error(vb_error *err, const vb_tflite_model *m, const node *n, int code, const char *fmt, ...)
{
    char text[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    const char *name = n->op->custom_code ? n->op->custom_code : vb_tflite_op_name(n->code);
    return vb_error_set(err, code, "%s: operator %d (%s): %s", m->path, n->index, name, text);
}

const vb_tflite_tensor *tfl_input_tensor(const vb_tflite_model *m, const node *n, int k)
{
    if (k >= n->op->num_inputs || n->op->inputs[k] < 0)
        return NULL;
    return &m->tensors[n->op->inputs[k]];
}

const vb_tflite_tensor *tfl_output_tensor(const vb_tflite_model *m, const node *n, int k)
{
    if (k >= n->op->num_outputs)
        return NULL;
    return &m->tensors[n->op->outputs[k]];
}

int tfl_same_shape(const vb_tflite_tensor *a, const vb_tflite_tensor *b)
{
    if (a->rank != b->rank)
        return 0;
    for (int d = 0; d < a->rank; d++)
        if (a->shape[d] != b->shape[d])
            return 0;
    return 1;
}

int tfl_check_int8_tensor(vb_error *err, const vb_tflite_model *m, const node *n,
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

int tfl_check_arity(vb_error *err, const vb_tflite_model *m, const node *n, int min_in, int max_in, int outs)
{
    if (n->op->num_inputs < min_in || n->op->num_inputs > max_in || n->op->num_outputs != outs)
        return OPFAIL(VB_EFORMAT, "has %d inputs and %d outputs, expected %d..%d and %d", n->op->num_inputs,
                      n->op->num_outputs, min_in, max_in, outs);
    for (int k = 0; k < min_in; k++)
        if (n->op->inputs[k] < 0)
            return OPFAIL(VB_EFORMAT, "required input %d is absent", k);
    return 0;
}

int tfl_check_activation(vb_error *err, const vb_tflite_model *m, const node *n, int activation)
{
    if (activation < 0 || activation > VB_TFLITE_ACT_RELU6)
        return OPFAIL(VB_EUNSUPPORTED, "fused activation %s is not implemented",
                      vb_tflite_activation_name(activation));
    return 0;
}

float tfl_apply_float_activation(int activation, float v)
{
    switch (activation) {
    case VB_TFLITE_ACT_RELU: return v < 0.0f ? 0.0f : v;
    case VB_TFLITE_ACT_RELU6: return v < 0.0f ? 0.0f : v > 6.0f ? 6.0f : v;
    case VB_TFLITE_ACT_RELU_N1_TO_1: return v < -1.0f ? -1.0f : v > 1.0f ? 1.0f : v;
    default: return v;
    }
}

void tfl_range_split(int total, int thread, int threads, int *begin, int *end)
{
    *begin = (int)((int64_t)total * thread / threads);
    *end = (int)((int64_t)total * (thread + 1) / threads);
}
