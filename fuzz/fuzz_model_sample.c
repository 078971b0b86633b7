/* libFuzzer target for the parsers `vidbench model verify` runs on downloaded files: the .npy
 * sample reader (the cricket sample is not pinned by hash upstream) and the reference-output
 * text parser. Both take paths, so each input is written to a per-process temporary file. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "vidbench/models.h"
#include "vidbench/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input("sample", data, size);
    if (!path)
        return 0;
    vb_error err;
    float *values = NULL;
    int ndim = 0;
    int64_t shape[8];
    if (vb_npy_read_float32(path, &values, &ndim, shape, &err) == VB_OK) {
        volatile float sink = 0;
        int64_t count = 1;
        for (int d = 0; d < ndim; d++)
            count *= shape[d];
        for (int64_t i = 0; i < count; i++)   /* every promised element must be readable */
            sink += values[i];
        (void)sink;
        free(values);
    }
    vb_reference_output reference;
    vb_reference_output_parse(path, &reference, &err);
    return 0;
}
