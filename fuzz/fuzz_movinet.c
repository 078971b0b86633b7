/* libFuzzer target for the MoViNet signature/state mapping on top of the TFLite reader: the
 * signature names image, logits and state pairs, the graph lists its own inputs and outputs,
 * and the two lists come from the file independently (a graph listing one state 7 times once
 * overflowed an array sized by the signature, issue 13). A model that opens is stepped once.
 * Seeds: fuzz/corpus/movinet (models written by tests/unit/tflite_builder.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vidbench/movinet.h"
#include "vidbench/tflite.h"

static char path[64];

static void remove_temp_file(void)
{
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Cheap pre-check in memory: only files the reader accepts and whose tensors are small
     * go through the path-based open (a valid file may describe a huge network). */
    vb_tflite_model *m = NULL;
    vb_error err;
    if (vb_tflite_open_memory(data, size, "fuzz.tflite", &m, &err))
        return 0;
    size_t total = 0;
    for (int t = 0; t < m->num_tensors; t++)
        total += m->tensors[t].num_bytes;
    vb_tflite_free(&m);
    if (total > (1u << 16))
        return 0;
    if (!path[0]) {
        snprintf(path, sizeof path, "%s/fuzz-movinet-%ld.tflite", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
                 (long)getpid());
        atexit(remove_temp_file);
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    size_t written = fwrite(data, 1, size, f);
    fclose(f);
    if (written != size)
        return 0;
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
