/* TensorFlow tensor bundle (checkpoint V2): BundleHeaderProto under the empty key, one
 * BundleEntryProto per tensor (tensorflow/core/protobuf/tensor_bundle.proto), tensor bytes
 * in PREFIX.data-0000K-of-0000N. Sliced (partitioned) variables and big-endian bundles are
 * refused; string tensors are listed but not readable. */
#define _GNU_SOURCE
#include "vidbench/tfckpt.h"
#include "common/fsutil.h"
#include "model/tfckpt/internal.h"
#include "model/tfckpt/table.h"
#include "model/tfckpt/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Real indexes are tens of KB; 256 MiB is far beyond any sane checkpoint index. */
#define MAX_INDEX_BYTES (256u << 20)
#define MAX_SHARDS 100000

struct vb_tfckpt {
    char *prefix;            /* may be NULL (parsed from memory, no data) */
    char *index_name;        /* for messages */
    int num_shards;
    int have_header;
    int count;
    int capacity;
    vb_tfckpt_entry *entries;
};

const char *vb_tf_dtype_name(int tf_dtype)
{
    switch (tf_dtype) {
    case VB_TF_DT_FLOAT: return "DT_FLOAT";
    case VB_TF_DT_DOUBLE: return "DT_DOUBLE";
    case VB_TF_DT_INT32: return "DT_INT32";
    case VB_TF_DT_UINT8: return "DT_UINT8";
    case VB_TF_DT_INT16: return "DT_INT16";
    case VB_TF_DT_INT8: return "DT_INT8";
    case VB_TF_DT_STRING: return "DT_STRING";
    case VB_TF_DT_INT64: return "DT_INT64";
    case VB_TF_DT_BOOL: return "DT_BOOL";
    case VB_TF_DT_BFLOAT16: return "DT_BFLOAT16";
    case VB_TF_DT_HALF: return "DT_HALF";
    default: return "DT_other";
    }
}

static int tf_to_vb_dtype(int tf_dtype)
{
    switch (tf_dtype) {
    case VB_TF_DT_FLOAT: return VB_DTYPE_F32;
    case VB_TF_DT_DOUBLE: return VB_DTYPE_F64;
    case VB_TF_DT_INT32: return VB_DTYPE_I32;
    case VB_TF_DT_UINT8: return VB_DTYPE_U8;
    case VB_TF_DT_INT16: return VB_DTYPE_I16;
    case VB_TF_DT_INT8: return VB_DTYPE_I8;
    case VB_TF_DT_INT64: return VB_DTYPE_I64;
    case VB_TF_DT_BOOL: return VB_DTYPE_BOOL;
    case VB_TF_DT_BFLOAT16: return VB_DTYPE_BF16;
    case VB_TF_DT_HALF: return VB_DTYPE_F16;
    default: return -1;
    }
}

/* Printable copy of a key for messages (control bytes become '?'). */
static void printable_key(const uint8_t *key, size_t key_size, char *out, size_t out_size)
{
    size_t n = key_size < out_size - 1 ? key_size : out_size - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (key[i] >= 0x20 && key[i] < 0x7f) ? (char)key[i] : '?';
    out[n] = '\0';
}

static int parse_header(vb_tfckpt *ckpt, const uint8_t *value, size_t value_size, vb_error *err)
{
    wire_reader r = {value, value + value_size};
    uint64_t num_shards = 1, endianness = 0;
    while (r.pos < r.end) {
        uint32_t field;
        int type;
        if (wire_tag(&r, &field, &type))
            goto malformed;
        if (field == 1 && type == WIRE_VARINT) {
            if (wire_varint(&r, &num_shards))
                goto malformed;
        } else if (field == 2 && type == WIRE_VARINT) {
            if (wire_varint(&r, &endianness))
                goto malformed;
        } else if (wire_skip(&r, type)) {
            goto malformed;
        }
    }
    if (num_shards < 1 || num_shards > MAX_SHARDS)
        return vb_error_set(err, VB_EFORMAT, "%s: header says %llu data shards", ckpt->index_name,
                            (unsigned long long)num_shards);
    if (endianness != 0)
        return vb_error_set(err, VB_EUNSUPPORTED, "%s: big-endian checkpoint (only little-endian "
                            "bundles are supported)", ckpt->index_name);
    ckpt->num_shards = (int)num_shards;
    ckpt->have_header = 1;
    return VB_OK;
malformed:
    return vb_error_set(err, VB_EFORMAT, "%s: malformed BundleHeaderProto", ckpt->index_name);
}

/* TensorShapeProto: repeated Dim dim = 2 { int64 size = 1; string name = 2; },
 * bool unknown_rank = 3. */
static int parse_shape(wire_reader *r, vb_tfckpt_entry *entry, const char *index_name,
                       const char *tensor, vb_error *err)
{
    while (r->pos < r->end) {
        uint32_t field;
        int type;
        if (wire_tag(r, &field, &type))
            goto malformed;
        if (field == 2 && type == WIRE_LEN) {
            wire_reader dim;
            uint64_t size = 0;
            if (wire_bytes(r, &dim))
                goto malformed;
            while (dim.pos < dim.end) {
                uint32_t dim_field;
                int dim_type;
                if (wire_tag(&dim, &dim_field, &dim_type))
                    goto malformed;
                if (dim_field == 1 && dim_type == WIRE_VARINT) {
                    if (wire_varint(&dim, &size))
                        goto malformed;
                } else if (wire_skip(&dim, dim_type)) {
                    goto malformed;
                }
            }
            /* -1 (unknown) arrives as a huge unsigned value; 2^40 elements per dim is beyond
             * any real tensor and keeps products checkable. */
            if (size > ((uint64_t)1 << 40))
                return vb_error_set(err, VB_EFORMAT, "%s: tensor '%s': dimension %llu out of range",
                                    index_name, tensor, (unsigned long long)size);
            if (entry->ndim >= VB_TFCKPT_MAX_DIMS)
                return vb_error_set(err, VB_EUNSUPPORTED, "%s: tensor '%s' has more than %d dimensions",
                                    index_name, tensor, VB_TFCKPT_MAX_DIMS);
            entry->shape[entry->ndim++] = (int64_t)size;
        } else if (field == 3 && type == WIRE_VARINT) {
            uint64_t unknown_rank;
            if (wire_varint(r, &unknown_rank))
                goto malformed;
            if (unknown_rank)
                return vb_error_set(err, VB_EFORMAT, "%s: tensor '%s' has unknown rank", index_name, tensor);
        } else if (wire_skip(r, type)) {
            goto malformed;
        }
    }
    return VB_OK;
malformed:
    return vb_error_set(err, VB_EFORMAT, "%s: tensor '%s': malformed TensorShapeProto", index_name, tensor);
}

static int parse_entry(vb_tfckpt *ckpt, const char *tensor, const uint8_t *value, size_t value_size,
                       vb_tfckpt_entry *entry, vb_error *err)
{
    wire_reader r = {value, value + value_size};
    uint64_t dtype = 0, shard_id = 0, offset = 0, size = 0;
    int rc;
    while (r.pos < r.end) {
        uint32_t field;
        int type;
        if (wire_tag(&r, &field, &type))
            goto malformed;
        if (field == 1 && type == WIRE_VARINT) {
            if (wire_varint(&r, &dtype))
                goto malformed;
        } else if (field == 2 && type == WIRE_LEN) {
            wire_reader shape;
            if (wire_bytes(&r, &shape))
                goto malformed;
            entry->ndim = 0;   /* a repeated message field: the last occurrence wins here */
            if ((rc = parse_shape(&shape, entry, ckpt->index_name, tensor, err)))
                return rc;
        } else if (field == 3 && type == WIRE_VARINT) {
            if (wire_varint(&r, &shard_id))
                goto malformed;
        } else if (field == 4 && type == WIRE_VARINT) {
            if (wire_varint(&r, &offset))
                goto malformed;
        } else if (field == 5 && type == WIRE_VARINT) {
            if (wire_varint(&r, &size))
                goto malformed;
        } else if (field == 6 && type == WIRE_FIXED32) {
            uint32_t masked;
            if (wire_fixed32(&r, &masked))
                goto malformed;
            entry->crc32c = vb_crc32c_unmask(masked);
            entry->has_crc32c = 1;
        } else if (field == 7) {
            return vb_error_set(err, VB_EUNSUPPORTED, "%s: tensor '%s' is a partitioned (sliced) "
                                "variable; only whole tensors are supported", ckpt->index_name, tensor);
        } else if (wire_skip(&r, type)) {
            goto malformed;
        }
    }
    if (dtype > 1000 || shard_id >= (uint64_t)ckpt->num_shards || offset > INT64_MAX ||
        size > INT64_MAX || offset + size > INT64_MAX)
        return vb_error_set(err, VB_EFORMAT, "%s: tensor '%s': dtype %llu, shard %llu of %d, "
                            "offset %llu, size %llu out of range", ckpt->index_name, tensor,
                            (unsigned long long)dtype, (unsigned long long)shard_id, ckpt->num_shards,
                            (unsigned long long)offset, (unsigned long long)size);
    entry->tf_dtype = (int)dtype;
    entry->dtype = tf_to_vb_dtype(entry->tf_dtype);
    entry->shard_id = (int)shard_id;
    entry->offset = (int64_t)offset;
    entry->size_bytes = (int64_t)size;
    if (entry->dtype >= 0) {
        /* Fixed-size dtypes: the byte size must be exactly numel * element size. */
        uint64_t expected = vb_dtype_size_bytes((vb_dtype)entry->dtype);
        for (int d = 0; d < entry->ndim; d++)
            if (__builtin_mul_overflow(expected, (uint64_t)entry->shape[d], &expected))
                return vb_error_set(err, VB_EFORMAT, "%s: tensor '%s': shape overflows", ckpt->index_name, tensor);
        if (expected != size)
            return vb_error_set(err, VB_EFORMAT, "%s: tensor '%s': %s shape needs %llu bytes, entry "
                                "says %llu", ckpt->index_name, tensor, vb_tf_dtype_name(entry->tf_dtype),
                                (unsigned long long)expected, (unsigned long long)size);
    }
    return VB_OK;
malformed:
    return vb_error_set(err, VB_EFORMAT, "%s: tensor '%s': malformed BundleEntryProto", ckpt->index_name, tensor);
}

static int visit_key(void *user, const uint8_t *key, size_t key_size, const uint8_t *value,
                     size_t value_size, vb_error *err)
{
    vb_tfckpt *ckpt = user;
    if (key_size == 0)
        return parse_header(ckpt, value, value_size, err);
    char shown[256];
    printable_key(key, key_size, shown, sizeof shown);
    /* The empty key sorts first, so the header precedes every tensor. */
    if (!ckpt->have_header)
        return vb_error_set(err, VB_EFORMAT, "%s: tensor '%s' before the bundle header (empty key)",
                            ckpt->index_name, shown);
    if (memchr(key, '\0', key_size))
        return vb_error_set(err, VB_EFORMAT, "%s: tensor name '%s' contains a NUL byte",
                            ckpt->index_name, shown);
    if (ckpt->count == ckpt->capacity) {
        int capacity = ckpt->capacity ? ckpt->capacity * 2 : 64;
        vb_tfckpt_entry *grown = realloc(ckpt->entries, (size_t)capacity * sizeof *grown);
        if (!grown)
            return vb_error_set(err, VB_ENOMEM, "%s: out of memory", ckpt->index_name);
        ckpt->entries = grown;
        ckpt->capacity = capacity;
    }
    vb_tfckpt_entry *entry = &ckpt->entries[ckpt->count];
    memset(entry, 0, sizeof *entry);
    int rc = parse_entry(ckpt, shown, value, value_size, entry, err);
    if (rc)
        return rc;
    char *name = malloc(key_size + 1);
    if (!name)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", ckpt->index_name);
    memcpy(name, key, key_size);
    name[key_size] = '\0';
    entry->name = name;
    ckpt->count++;
    return VB_OK;
}

int vb_tfckpt_parse_index(const void *index_bytes, size_t index_size, const char *prefix,
                          vb_tfckpt **out, vb_error *err)
{
    return tfckpt_parse_index_flags(index_bytes, index_size, prefix, 0, out, err);
}

int tfckpt_parse_index_flags(const void *index_bytes, size_t index_size, const char *prefix, int table_flags,
                             vb_tfckpt **out, vb_error *err)
{
    *out = NULL;
    vb_tfckpt *ckpt = calloc(1, sizeof *ckpt);
    if (!ckpt)
        return vb_error_set(err, VB_ENOMEM, "out of memory");
    int rc = VB_OK;
    if ((prefix && !(ckpt->prefix = strdup(prefix))) ||
        asprintf(&ckpt->index_name, "%s.index", prefix ? prefix : "(checkpoint)") < 0) {
        ckpt->index_name = NULL;
        rc = vb_error_set(err, VB_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = table_for_each_flags(index_bytes, index_size, ckpt->index_name, table_flags, visit_key, ckpt, err)))
        goto fail;
    if (!ckpt->have_header) {
        rc = vb_error_set(err, VB_EFORMAT, "%s: no bundle header (empty key) in the table", ckpt->index_name);
        goto fail;
    }
    *out = ckpt;
    return VB_OK;
fail:
    vb_tfckpt_free(&ckpt);
    return rc;
}

int vb_tfckpt_open(const char *prefix, vb_tfckpt **out, vb_error *err)
{
    *out = NULL;
    char *index_path = NULL;
    if (asprintf(&index_path, "%s.index", prefix) < 0)
        return vb_error_set(err, VB_ENOMEM, "out of memory");
    char *bytes = NULL;
    size_t size = 0;
    int rc = fs_read_file(index_path, MAX_INDEX_BYTES, &bytes, &size, err);
    free(index_path);
    if (rc)
        return rc;
    rc = vb_tfckpt_parse_index(bytes, size, prefix, out, err);
    free(bytes);
    return rc;
}

void vb_tfckpt_free(vb_tfckpt **ckpt)
{
    if (!ckpt || !*ckpt)
        return;
    vb_tfckpt *c = *ckpt;
    for (int i = 0; i < c->count; i++)
        free((char *)c->entries[i].name);
    free(c->entries);
    free(c->prefix);
    free(c->index_name);
    free(c);
    *ckpt = NULL;
}

int vb_tfckpt_num_shards(const vb_tfckpt *ckpt) { return ckpt->num_shards; }
int vb_tfckpt_count(const vb_tfckpt *ckpt) { return ckpt->count; }

const vb_tfckpt_entry *vb_tfckpt_at(const vb_tfckpt *ckpt, int index)
{
    return index >= 0 && index < ckpt->count ? &ckpt->entries[index] : NULL;
}

const vb_tfckpt_entry *vb_tfckpt_find(const vb_tfckpt *ckpt, const char *name)
{
    /* Entries are in strictly increasing byte order (checked while parsing). */
    int lo = 0, hi = ckpt->count - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int order = strcmp(ckpt->entries[mid].name, name);
        if (order == 0)
            return &ckpt->entries[mid];
        if (order < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

int vb_tfckpt_shard_path(const vb_tfckpt *ckpt, int shard_id, char *path, size_t path_size)
{
    if (!ckpt->prefix || shard_id < 0 || shard_id >= ckpt->num_shards)
        return VB_EINVAL;
    int n = snprintf(path, path_size, "%s.data-%05d-of-%05d", ckpt->prefix, shard_id, ckpt->num_shards);
    return n < 0 || (size_t)n >= path_size ? VB_EINVAL : VB_OK;
}

static int compare_by_position(const void *a, const void *b)
{
    const vb_tfckpt_entry *x = *(const vb_tfckpt_entry *const *)a;
    const vb_tfckpt_entry *y = *(const vb_tfckpt_entry *const *)b;
    if (x->shard_id != y->shard_id)
        return x->shard_id < y->shard_id ? -1 : 1;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return (x->size_bytes > y->size_bytes) - (x->size_bytes < y->size_bytes);
}

int vb_tfckpt_check_layout(const vb_tfckpt *ckpt, int64_t *shard_bytes, vb_error *err)
{
    const vb_tfckpt_entry **order = malloc(((size_t)ckpt->count + 1) * sizeof *order);
    if (!order)
        return vb_error_set(err, VB_ENOMEM, "out of memory");
    for (int i = 0; i < ckpt->count; i++)
        order[i] = &ckpt->entries[i];
    qsort(order, (size_t)ckpt->count, sizeof *order, compare_by_position);
    if (shard_bytes)
        for (int s = 0; s < ckpt->num_shards; s++)
            shard_bytes[s] = 0;
    int rc = VB_OK;
    int shard = -1;
    int64_t end = 0;
    for (int i = 0; i < ckpt->count; i++) {
        const vb_tfckpt_entry *e = order[i];
        if (e->shard_id != shard) {
            shard = e->shard_id;
            end = 0;
        }
        if (e->offset != end) {
            rc = vb_error_set(err, VB_EFORMAT, "%s: tensor '%s' starts at byte %lld of shard %d, "
                              "previous tensor ends at %lld (%s)", ckpt->index_name, e->name,
                              (long long)e->offset, shard, (long long)end,
                              e->offset > end ? "gap" : "overlap");
            break;
        }
        end = e->offset + e->size_bytes;
        if (shard_bytes)
            shard_bytes[shard] = end;
    }
    free(order);
    return rc;
}

int vb_tfckpt_check_shard_files(const vb_tfckpt *ckpt, vb_error *err)
{
    if (!ckpt->prefix)
        return vb_error_set(err, VB_EINVAL, "%s: parsed from memory: no data shards to check", ckpt->index_name);
    int64_t *claimed = calloc((size_t)ckpt->num_shards + 1, sizeof *claimed);
    if (!claimed)
        return vb_error_set(err, VB_ENOMEM, "out of memory");
    int rc = vb_tfckpt_check_layout(ckpt, claimed, err);
    for (int s = 0; !rc && s < ckpt->num_shards; s++) {
        char path[4200];
        int fd;
        int64_t actual = 0;
        if (vb_tfckpt_shard_path(ckpt, s, path, sizeof path)) {
            rc = vb_error_set(err, VB_EINVAL, "%s: shard path too long", ckpt->index_name);
            break;
        }
        if ((rc = fs_open_regular(path, &fd, &actual, err))) {
            vb_error_prefix(err, "data shard: ");
            break;
        }
        close(fd);
        if (actual != claimed[s])
            rc = vb_error_set(err, VB_EFORMAT, "%s: the index places %lld bytes in shard %d, but %s holds %lld",
                              ckpt->index_name, (long long)claimed[s], s, path, (long long)actual);
    }
    free(claimed);
    return rc;
}

int vb_tfckpt_read(vb_tfckpt *ckpt, const vb_tfckpt_entry *entry, void *dst, size_t dst_size,
                   vb_error *err)
{
    char path[4200];
    if (!ckpt->prefix || vb_tfckpt_shard_path(ckpt, entry->shard_id, path, sizeof path))
        return vb_error_set(err, VB_EINVAL, "%s: no data shard path for tensor '%s'",
                            ckpt->index_name, entry->name);
    if (entry->tf_dtype == VB_TF_DT_STRING || entry->dtype < 0)
        return vb_error_set(err, VB_EUNSUPPORTED, "%s: tensor '%s' has dtype %s, which vidbench does not read",
                            path, entry->name, vb_tf_dtype_name(entry->tf_dtype));
    if ((uint64_t)entry->size_bytes > dst_size)
        return vb_error_set(err, VB_EINVAL, "tensor '%s': %lld bytes do not fit a %zu-byte buffer",
                            entry->name, (long long)entry->size_bytes, dst_size);
    int fd;
    int64_t shard_bytes = 0;
    int rc = fs_open_regular(path, &fd, &shard_bytes, err);
    if (rc) {
        vb_error_prefix(err, "data shard: ");
        return rc;
    }
    if (entry->offset > shard_bytes || entry->size_bytes > shard_bytes - entry->offset) {
        rc = vb_error_set(err, VB_EFORMAT, "%s: tensor '%s' needs bytes [%lld, %lld) but the shard "
                          "has %lld bytes (truncated?)", path, entry->name, (long long)entry->offset,
                          (long long)(entry->offset + entry->size_bytes), (long long)shard_bytes);
        goto done;
    }
    size_t done_bytes = 0;
    while (done_bytes < (size_t)entry->size_bytes) {
        ssize_t n = pread(fd, (char *)dst + done_bytes, (size_t)entry->size_bytes - done_bytes,
                          (off_t)(entry->offset + (int64_t)done_bytes));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = vb_error_set(err, VB_EIO, "%s: reading tensor '%s': %s", path, entry->name,
                              n < 0 ? strerror(errno) : "unexpected end of file");
            goto done;
        }
        done_bytes += (size_t)n;
    }
    if (entry->has_crc32c) {
        uint32_t actual = vb_crc32c_extend(0, dst, (size_t)entry->size_bytes);
        if (actual != entry->crc32c)
            rc = vb_error_set(err, VB_ECHECKSUM, "%s: tensor '%s' (bytes %lld..%lld) is corrupt: "
                              "crc32c %08x, index says %08x", path, entry->name, (long long)entry->offset,
                              (long long)(entry->offset + entry->size_bytes), actual, entry->crc32c);
    }
done:
    close(fd);
    return rc;
}

int vb_tfckpt_verify_all(vb_tfckpt *ckpt, vb_error *err)
{
    /* The sizes come from the (untrusted) index: compared with the real shard files first,
     * so the buffer below is never larger than a file on disk. */
    int rc = vb_tfckpt_check_shard_files(ckpt, err);
    if (rc)
        return rc;
    int64_t largest = 0;
    for (int i = 0; i < ckpt->count; i++)
        if (ckpt->entries[i].size_bytes > largest)
            largest = ckpt->entries[i].size_bytes;
    /* The sizes come from the (untrusted) index; refuse before allocating absurd amounts. */
    if (largest > ((int64_t)8 << 30))
        return vb_error_set(err, VB_ELIMIT, "%s: a %lld-byte tensor exceeds the 8 GiB limit",
                            ckpt->index_name, (long long)largest);
    void *buffer = malloc(largest > 0 ? (size_t)largest : 1);
    if (!buffer)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory (%lld bytes)", ckpt->index_name,
                            (long long)largest);
    for (int i = 0; i < ckpt->count && rc == VB_OK; i++) {
        if (ckpt->entries[i].dtype < 0)
            continue;   /* string tensors: not readable, nothing to verify here */
        rc = vb_tfckpt_read(ckpt, &ckpt->entries[i], buffer, (size_t)largest, err);
    }
    free(buffer);
    return rc;
}
