/* libFuzzer target for the MoViNet signature/state mapping on top of the TFLite reader: the
 * signature names image, logits and state pairs, the graph lists its own inputs and outputs,
 * and the two lists come from the file independently (a graph listing one state 7 times once
 * overflowed an array sized by the signature, issue 13). A model that opens is stepped once.
 * Seeds: fuzz/corpus/movinet (models written by tests/unit/tflite_builder.c). */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "vidbench/movinet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Cheap pre-check in memory: only files the reader accepts and whose tensors are small
     * go through the path-based open. */
    size_t tensor_bytes;
    vb_tflite_model *m = fuzz_open_tflite(data, size, &tensor_bytes);
    if (!m)
        return 0;
    vb_tflite_free(&m);
    if (tensor_bytes > (1u << 16))
        return 0;
    const char *path = fuzz_write_input("x.tflite", data, size);
    if (!path)
        return 0;
    vb_error err;
    vb_movinet *mv = NULL;
    if (vb_movinet_open(path, 1, &mv, &err) != VB_OK)
        return 0;
    const int s = vb_movinet_input_size(mv), classes = vb_movinet_num_classes(mv);
    if (s < 1 || classes < 1)
        __builtin_trap();
    uint8_t *frame = calloc((size_t)s * s * 3, 1);
    float *logits = malloc((size_t)classes * sizeof *logits);
    if (frame && logits && vb_movinet_step(mv, frame, logits, &err) != VB_OK)
        __builtin_trap();   /* a model that opened must run */
    free(frame);
    free(logits);
    vb_movinet_free(&mv);
    return 0;
}
