/* NumPy .npy files (format 1.0 written; 1.0-3.0 read): how vidbench exchanges tensors with
 * Python (`vidbench frames`, the published I3D samples). */
#ifndef VIDBENCH_NPY_H
#define VIDBENCH_NPY_H

#include <stddef.h>
#include <stdint.h>
#include "vidbench/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The header of a C-order array of `descr` ("|u1", "<f4") and shape[ndim] (ndim <= 8): magic,
 * version 1.0, the dict, padded so the data starts at a multiple of 64. Returns its length in
 * bytes (written to out), or -1 when out_size is too small. */
int vb_npy_header(const char *descr, const int64_t *shape, int ndim, char *out, size_t out_size);

/* Reads a float32 or float64 (either byte order; float64 rounded to float32) C-order .npy of up
 * to 8 dimensions; every value must be finite. *data is malloc'ed. */
int vb_npy_read_float32(const char *path, float **data, int *ndim, int64_t shape[8], vb_error *err);

#ifdef __cplusplus
}
#endif
#endif
