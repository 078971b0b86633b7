/* The operator table: each TFLite operator the interpreter runs, with its prepare (checks once,
 * at creation) and eval (every invoke). A new operator is one entry here plus its two functions
 * in the ops_*.c file of its family (which share the checks of ops_common.c). */
#include "interpreter_internal.h"


static const tfl_operator_kind operator_kinds[] = {
    {VB_TFLITE_OP_CONV_2D, tfl_prepare_conv, tfl_eval_conv},
    {VB_TFLITE_OP_DEPTHWISE_CONV_2D, tfl_prepare_depthwise, tfl_eval_conv},
    {VB_TFLITE_OP_AVERAGE_POOL_2D, tfl_prepare_pool, tfl_eval_pool},
    {VB_TFLITE_OP_ADD, tfl_prepare_add_mul, tfl_eval_add_mul_div},
    {VB_TFLITE_OP_MUL, tfl_prepare_add_mul, tfl_eval_add_mul_div},
    {VB_TFLITE_OP_DIV, tfl_prepare_add_mul, tfl_eval_add_mul_div},
    {VB_TFLITE_OP_QUANTIZE, tfl_prepare_quantize, tfl_eval_quantize},
    {VB_TFLITE_OP_DEQUANTIZE, tfl_prepare_dequantize, tfl_eval_dequantize},
    {VB_TFLITE_OP_CAST, tfl_prepare_cast, tfl_eval_cast},
    {VB_TFLITE_OP_RESHAPE, tfl_prepare_reshape, NULL},   /* the output aliases the input */
    {VB_TFLITE_OP_CONCATENATION, tfl_prepare_concat, tfl_eval_concat},
    {VB_TFLITE_OP_STRIDED_SLICE, tfl_prepare_strided_slice, tfl_eval_strided_slice},
    {VB_TFLITE_OP_SUM, tfl_prepare_sum, tfl_eval_sum},
};

const tfl_operator_kind *tfl_operator_find(int code)
{
    for (size_t i = 0; i < sizeof operator_kinds / sizeof operator_kinds[0]; i++)
        if (operator_kinds[i].code == code)
            return &operator_kinds[i];
    return NULL;
}
