/* libFuzzer target for the TFLite reader and the interpreter's checks: parse the bytes as a
 * .tflite file; when they load, create an interpreter (every operator checked) and, for small
 * models, run it once at the vector level and once in plain C. Seed corpus: tiny models such
 * as the ones tests/unit/tflite_builder.c writes, or the real MoViNet file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "vidbench/tflite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t total;
    vb_tflite_model *m = fuzz_open_tflite(data, size, &total);
    if (!m)
        return 0;
    vb_error err;
    vb_tflite_interpreter *it = NULL;
    /* Small models only: a valid file may legitimately describe a huge network. */
    if (total <= (1u << 16) && vb_tflite_interpreter_create(m, 1, &it, &err) == 0) {
        /* Invoke cannot fail once creation accepted the model. */
        vb_tflite_set_simd_level(it, vb_tflite_cpu_simd_level());
        if (vb_tflite_invoke(it, &err))
            abort();
        vb_tflite_set_simd_level(it, 0);
        if (vb_tflite_invoke(it, &err))
            abort();
        vb_tflite_interpreter_free(&it);
    }
    vb_tflite_free(&m);
    return 0;
}
