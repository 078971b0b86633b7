/* TensorFlow checkpoint V2 ("tensor bundle") reader, without TensorFlow: PREFIX.index is a
 * LevelDB-format table of BundleEntryProto values; PREFIX.data-0000K-of-0000N hold the raw
 * little-endian tensor bytes. Every byte is untrusted; every tensor read checks its crc32c.
 * Not supported (refused with VB_EUNSUPPORTED): snappy-compressed blocks, partitioned
 * (sliced) variables, big-endian bundles; string tensors are listed but cannot be read. */
#ifndef VIDBENCH_TFCKPT_H
#define VIDBENCH_TFCKPT_H

#include <stddef.h>
#include <stdint.h>
#include "vidbench/error.h"
#include "vidbench/safetensors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* tensorflow/core/framework/types.proto DataType values that appear in checkpoints. */
enum {
    VB_TF_DT_FLOAT = 1, VB_TF_DT_DOUBLE = 2, VB_TF_DT_INT32 = 3, VB_TF_DT_UINT8 = 4,
    VB_TF_DT_INT16 = 5, VB_TF_DT_INT8 = 6, VB_TF_DT_STRING = 7, VB_TF_DT_INT64 = 9,
    VB_TF_DT_BOOL = 10, VB_TF_DT_BFLOAT16 = 14, VB_TF_DT_HALF = 19,
};

#define VB_TFCKPT_MAX_DIMS VB_MAX_DIMS

typedef struct vb_tfckpt_entry {
    const char *name;        /* tensor name, e.g. "RGB/inception_i3d/Conv3d_1a_7x7/conv_3d/w" */
    int tf_dtype;            /* VB_TF_DT_*, as stored */
    int dtype;               /* matching vb_dtype, or -1 when it has none (string, complex) */
    int ndim;
    int64_t shape[VB_TFCKPT_MAX_DIMS];
    int shard_id;
    int64_t offset;          /* in the shard, bytes */
    int64_t size_bytes;
    uint32_t crc32c;         /* unmasked crc32c of the tensor bytes */
    int has_crc32c;
} vb_tfckpt_entry;

typedef struct vb_tfckpt vb_tfckpt;

/* Opens PREFIX.index (e.g. "dir/model.ckpt") and parses every entry; no data is read yet. */
int vb_tfckpt_open(const char *prefix, vb_tfckpt **out, vb_error *err);
/* Parses an index held in memory; prefix names the checkpoint in messages and locates the
 * shards for vb_tfckpt_read (it may be NULL when no data will be read). */
int vb_tfckpt_parse_index(const void *index_bytes, size_t index_size, const char *prefix,
                          vb_tfckpt **out, vb_error *err);
void vb_tfckpt_free(vb_tfckpt **ckpt);   /* accepts NULL / *ckpt == NULL */

int vb_tfckpt_num_shards(const vb_tfckpt *ckpt);
int vb_tfckpt_count(const vb_tfckpt *ckpt);
/* Entries in key order (TensorFlow sorts them by name). */
const vb_tfckpt_entry *vb_tfckpt_at(const vb_tfckpt *ckpt, int index);
const vb_tfckpt_entry *vb_tfckpt_find(const vb_tfckpt *ckpt, const char *name);
/* "PREFIX.data-0000K-of-0000N" for a shard. */
int vb_tfckpt_shard_path(const vb_tfckpt *ckpt, int shard_id, char *path, size_t path_size);

/* Checks the layout: per shard, the entries' byte ranges tile [0, total) with neither gap
 * nor overlap. shard_bytes (may be NULL) receives each shard's total (num_shards values). */
int vb_tfckpt_check_layout(const vb_tfckpt *ckpt, int64_t *shard_bytes, vb_error *err);

/* Checks the index's claims against the data files: each shard PREFIX.data-K-of-N must be a
 * regular file exactly as long as the entries placed in it (after vb_tfckpt_check_layout).
 * VB_ENOTFOUND when a shard file is absent (an index-only listing), VB_EFORMAT when a size
 * differs. Call it before allocating anything an entry's size_bytes claims. */
int vb_tfckpt_check_shard_files(const vb_tfckpt *ckpt, vb_error *err);

/* Reads one tensor's bytes into dst (dst_size >= entry->size_bytes) and verifies its crc32c;
 * a mismatch is VB_ECHECKSUM naming the tensor and the shard. */
int vb_tfckpt_read(vb_tfckpt *ckpt, const vb_tfckpt_entry *entry, void *dst, size_t dst_size,
                   vb_error *err);
/* Reads and verifies every tensor (crc32c); the first failure names its tensor. */
int vb_tfckpt_verify_all(vb_tfckpt *ckpt, vb_error *err);

/* Conversion to the safetensors file the I3D engine loads. */
typedef struct vb_convert_options {
    const char *labels_path;    /* label map to embed (one class per line), or NULL */
    const char *architecture;   /* NULL = "i3d" */
    const char *model_name;     /* recorded as metadata "model" when non-NULL */
} vb_convert_options;

typedef struct vb_convert_report {
    int tensors_kept;
    int tensors_dropped;        /* optimizer slots, global_step, ... */
    int classes;                /* from the logits bias, 0 when absent */
    char index_sha256[65];
} vb_convert_report;

/* Converts checkpoint PREFIX to out_path (written atomically): model tensors keep their
 * names; BatchNorm parameters become 1-D vectors; optimizer slots (".../Momentum", Adam,
 * ExponentialMovingAverage) and bookkeeping (global_step) are dropped; every tensor's crc32c
 * is verified. Metadata: architecture, classes, input_range "[-1,1]", input layout, labels,
 * sha256 of PREFIX.index. report may be NULL. */
int vb_tfckpt_convert(const char *prefix, const char *out_path, const vb_convert_options *options,
                      vb_convert_report *report, vb_error *err);
/* 1 if the conversion keeps this tensor name, 0 if it drops it. */
int vb_tfckpt_is_model_tensor(const char *name);

/* crc32c (Castagnoli), as LevelDB and TensorFlow compute it; crc = 0 to start. */
uint32_t vb_crc32c_extend(uint32_t crc, const void *data, size_t size);
/* LevelDB/TensorFlow store crcs "masked" so that crcs of crcs stay well distributed. */
uint32_t vb_crc32c_mask(uint32_t crc);
uint32_t vb_crc32c_unmask(uint32_t masked);

/* "DT_FLOAT", ... for listings. */
const char *vb_tf_dtype_name(int tf_dtype);

#ifdef __cplusplus
}
#endif
#endif
