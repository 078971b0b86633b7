/* libFuzzer target for the safetensors reader itself (fuzz_i3d_weights goes on to the I3D
 * checks): header JSON, __metadata__ (including a repeated one, the heap overflow of issue
 * 13), repeated names, dtypes, shape products, data_offsets. A file that opens must keep its
 * promises: every tensor's bytes readable, size = numel x dtype size, names unique.
 * Seeds: fuzz/corpus/safetensors (hand-made files, see docs/i3d.md). */
#include <stdint.h>

#include "fuzz_common.h"
#include "vidbench/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input("x.safetensors", data, size);
    if (!path)
        return 0;
    vb_safetensors *file = NULL;
    vb_error err;
    if (vb_safetensors_open(path, &file, &err) != VB_OK)
        return 0;
    volatile uint8_t sink = 0;
    for (int i = 0; i < vb_safetensors_count(file); i++) {
        const vb_tensor_view *t = vb_safetensors_at(file, i);
        if (!t || (uint64_t)vb_tensor_numel(t) * vb_dtype_size_bytes(t->dtype) != t->size_bytes ||
            vb_safetensors_find(file, t->name) != t)
            __builtin_trap();
        const uint8_t *bytes = t->data;
        for (size_t k = 0; k < t->size_bytes; k++)
            sink ^= bytes[k];
    }
    /* Metadata look-ups of keys the loaders ask for, and one that may be in the input. */
    (void)vb_safetensors_metadata(file, "architecture");
    (void)vb_safetensors_metadata(file, "classes");
    (void)vb_safetensors_metadata(file, "a");
    (void)sink;
    vb_safetensors_free(&file);
    return 0;
}
