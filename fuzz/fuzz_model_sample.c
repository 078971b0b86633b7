/* libFuzzer target for the parsers `vidbench model verify` runs on downloaded files: the .npy
 * sample reader (the cricket sample is not pinned by hash upstream) and the reference-output
 * text parser. Both take paths, so each input is written to a per-process temporary file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vidbench/models.h"

static char path[64];

static void remove_temp_file(void)
{
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        snprintf(path, sizeof path, "%s/vb-fuzz-sample-%ld", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
                 (long)getpid());
        atexit(remove_temp_file);
    }
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return 0;
    fwrite(data, 1, size, fp);
    fclose(fp);
    vb_error err;
    float *values = NULL;
    int ndim = 0;
    int64_t shape[8];
    if (vb_model_read_sample_npy(path, &values, &ndim, shape, &err) == VB_OK) {
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
