/* Shared by the libFuzzer targets: the code under test often takes a path (it memory-maps or
 * stats the file), so each input goes through one per-process scratch file, on /dev/shm when
 * writable (30x faster than /tmp here) and removed at exit. */
#ifndef VB_FUZZ_COMMON_H
#define VB_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vidbench/tflite.h"

static char fuzz_scratch_path[96];

static inline void fuzz_remove_scratch(void)
{
    unlink(fuzz_scratch_path);
}

/* Writes the input to the scratch file named after stem ("x.safetensors"); NULL on failure. */
static inline const char *fuzz_write_input(const char *stem, const uint8_t *data, size_t size)
{
    if (!fuzz_scratch_path[0]) {
        snprintf(fuzz_scratch_path, sizeof fuzz_scratch_path, "%s/fuzz-%ld-%s",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (long)getpid(), stem);
        atexit(fuzz_remove_scratch);
    }
    FILE *f = fopen(fuzz_scratch_path, "wb");
    if (!f)
        return NULL;
    size_t written = fwrite(data, 1, size, f);
    return fclose(f) == 0 && written == size ? fuzz_scratch_path : NULL;
}

/* The input as a TFLite model (NULL when the reader refuses it) and the bytes its tensors
 * need: a valid file may describe a huge network, so targets run only small ones. */
static inline vb_tflite_model *fuzz_open_tflite(const uint8_t *data, size_t size, size_t *tensor_bytes)
{
    vb_tflite_model *m = NULL;
    vb_error err;
    *tensor_bytes = 0;
    if (vb_tflite_open_memory(data, size, "fuzz.tflite", &m, &err))
        return NULL;
    for (int t = 0; t < m->num_tensors; t++)
        *tensor_bytes += m->tensors[t].num_bytes;
    return m;
}

#endif
