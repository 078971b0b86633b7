/* safetensors files: read (memory-mapped, every offset checked) and write (atomically).
 * Format: u64 little-endian header length, JSON header {name: {dtype, shape, data_offsets}},
 * then the raw tensor bytes. Used for I3D weights, golden data and converted checkpoints. */
#ifndef VIDBENCH_SAFETENSORS_H
#define VIDBENCH_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "vidbench/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VB_MAX_DIMS 8

typedef enum vb_dtype {
    VB_DTYPE_F32, VB_DTYPE_F16, VB_DTYPE_BF16, VB_DTYPE_F64,
    VB_DTYPE_I8, VB_DTYPE_U8, VB_DTYPE_I16, VB_DTYPE_I32, VB_DTYPE_I64, VB_DTYPE_BOOL,
    VB_DTYPE_COUNT
} vb_dtype;

/* "F32", "U8", ... as spelled in safetensors headers. */
const char *vb_dtype_name(vb_dtype dtype);
size_t vb_dtype_size_bytes(vb_dtype dtype);

typedef struct vb_tensor_view {
    const char *name;
    vb_dtype dtype;
    int ndim;
    int64_t shape[VB_MAX_DIMS];
    const void *data;      /* for a read file: points into the mapping (not aligned beyond 1) */
    size_t size_bytes;
} vb_tensor_view;

typedef struct vb_safetensors vb_safetensors;

int vb_safetensors_open(const char *path, vb_safetensors **out, vb_error *err);
void vb_safetensors_free(vb_safetensors **file);   /* accepts NULL / *file == NULL */

int vb_safetensors_count(const vb_safetensors *file);
const vb_tensor_view *vb_safetensors_at(const vb_safetensors *file, int index);
const vb_tensor_view *vb_safetensors_find(const vb_safetensors *file, const char *name);
/* Value of a string in "__metadata__", or NULL. */
const char *vb_safetensors_metadata(const vb_safetensors *file, const char *key);
int64_t vb_tensor_numel(const vb_tensor_view *tensor);

/* Writes tensors (in the given order) and string metadata pairs atomically.
 * metadata: n_metadata pairs laid out as {key0, value0, key1, value1, ...}; may be NULL. */
int vb_safetensors_write(const char *path, const vb_tensor_view *tensors, int n_tensors,
                         const char *const *metadata, int n_metadata, vb_error *err);

#ifdef __cplusplus
}
#endif
#endif
