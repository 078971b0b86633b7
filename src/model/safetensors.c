/* safetensors reader (mmap; header parsed with cJSON; every offset and size checked against
 * the file) and atomic writer. The file is untrusted: a lie in the header is an error. */
#include "vidbench/safetensors.h"
#include "common/fsutil.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A header larger than this is hostile rather than a real model. */
#define MAX_HEADER_BYTES (64u << 20)

struct vb_safetensors {
    void *map;
    size_t map_size;
    int count;
    vb_tensor_view *tensors;
    char **names;
    int n_metadata;
    char **metadata;    /* key, value, key, value ... */
};

static const char *const dtype_names[VB_DTYPE_COUNT] = {
    "F32", "F16", "BF16", "F64", "I8", "U8", "I16", "I32", "I64", "BOOL"};
static const size_t dtype_sizes[VB_DTYPE_COUNT] = {4, 2, 2, 8, 1, 1, 2, 4, 8, 1};

const char *vb_dtype_name(vb_dtype dtype)
{
    return (unsigned)dtype < VB_DTYPE_COUNT ? dtype_names[dtype] : "?";
}

size_t vb_dtype_size_bytes(vb_dtype dtype)
{
    return (unsigned)dtype < VB_DTYPE_COUNT ? dtype_sizes[dtype] : 0;
}

int64_t vb_tensor_numel(const vb_tensor_view *tensor)
{
    int64_t n = 1;
    for (int i = 0; i < tensor->ndim; i++)
        n *= tensor->shape[i];
    return n;
}

static int parse_dtype(const char *text, vb_dtype *dtype)
{
    for (int i = 0; i < VB_DTYPE_COUNT; i++)
        if (strcmp(text, dtype_names[i]) == 0) {
            *dtype = (vb_dtype)i;
            return 1;
        }
    return 0;
}

/* JSON numbers are doubles: accept only exact non-negative integers below 2^53. */
static int json_to_u64(const cJSON *item, uint64_t *value)
{
    if (!cJSON_IsNumber(item))
        return 0;
    double d = item->valuedouble;
    if (!(d >= 0 && d < 9007199254740992.0) || d != (double)(uint64_t)d)
        return 0;
    *value = (uint64_t)d;
    return 1;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* names[0], names[stride], ... must be distinct. Sorted copy, so a hostile header with a
 * million keys costs n log n, not n^2. */
static int refuse_duplicates(char *const *names, int stride, int n, const char *what,
                             const char *path, vb_error *err)
{
    if (n < 2)
        return VB_OK;
    char **sorted = malloc((size_t)n * sizeof *sorted);
    if (!sorted)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
    for (int i = 0; i < n; i++)
        sorted[i] = names[(size_t)i * (size_t)stride];
    qsort(sorted, (size_t)n, sizeof *sorted, compare_strings);
    int rc = VB_OK;
    for (int i = 1; i < n && !rc; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0)
            rc = vb_error_set(err, VB_EFORMAT, "%s: %s '%s' appears twice", path, what, sorted[i]);
    free(sorted);
    return rc;
}

static int parse_metadata(vb_safetensors *file, const cJSON *meta, const char *path, vb_error *err)
{
    if (!cJSON_IsObject(meta))
        return vb_error_set(err, VB_EFORMAT, "%s: __metadata__ is not an object", path);
    /* The array is sized by this object alone: a second __metadata__ is refused by the caller
     * before it gets here, so the count below can never outrun the allocation. */
    int n = cJSON_GetArraySize(meta);
    file->metadata = calloc((size_t)n * 2 + 1, sizeof(char *));
    if (!file->metadata)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
    const cJSON *item;
    cJSON_ArrayForEach(item, meta) {
        if (!cJSON_IsString(item))
            return vb_error_set(err, VB_EFORMAT, "%s: metadata value of '%s' is not a string",
                                path, item->string);
        file->metadata[2 * file->n_metadata] = strdup(item->string);
        file->metadata[2 * file->n_metadata + 1] = strdup(item->valuestring);
        file->n_metadata++;
        if (!file->metadata[2 * file->n_metadata - 2] || !file->metadata[2 * file->n_metadata - 1])
            return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
    }
    return VB_OK;
}

static int parse_tensor(vb_safetensors *file, const cJSON *entry, const uint8_t *data,
                        uint64_t data_size, const char *path, vb_error *err)
{
    const char *name = entry->string;
    vb_tensor_view *tensor = &file->tensors[file->count];
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(entry, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(entry, "shape");
    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(entry, "data_offsets");
    if (!cJSON_IsObject(entry) || !cJSON_IsString(dtype) || !cJSON_IsArray(shape) ||
        !cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2)
        return vb_error_set(err, VB_EFORMAT,
                            "%s: tensor '%s' lacks dtype, shape or data_offsets", path, name);
    if (!parse_dtype(dtype->valuestring, &tensor->dtype))
        return vb_error_set(err, VB_EUNSUPPORTED, "%s: tensor '%s' has unknown dtype '%s'", path,
                            name, dtype->valuestring);
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > VB_MAX_DIMS)
        return vb_error_set(err, VB_EFORMAT, "%s: tensor '%s' has %d dimensions (max %d)", path,
                            name, ndim, VB_MAX_DIMS);
    tensor->ndim = ndim;
    uint64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        uint64_t dim;
        if (!json_to_u64(cJSON_GetArrayItem(shape, i), &dim) || dim > (1ull << 40))
            return vb_error_set(err, VB_EFORMAT, "%s: tensor '%s' has an invalid dimension %d",
                                path, name, i);
        tensor->shape[i] = (int64_t)dim;
        /* vb_tensor_numel() multiplies the shape in int64_t: every partial product must fit. */
        if (dim && numel > (uint64_t)INT64_MAX / dim)
            return vb_error_set(err, VB_EFORMAT, "%s: tensor '%s' is impossibly large", path, name);
        numel *= dim;
    }
    uint64_t begin, end;
    if (!json_to_u64(cJSON_GetArrayItem(offsets, 0), &begin) ||
        !json_to_u64(cJSON_GetArrayItem(offsets, 1), &end) || begin > end || end > data_size)
        return vb_error_set(err, VB_EFORMAT,
                            "%s: tensor '%s' has data_offsets outside the %llu-byte data section",
                            path, name, (unsigned long long)data_size);
    size_t element = vb_dtype_size_bytes(tensor->dtype);
    if (numel > UINT64_MAX / element || end - begin != numel * element)
        return vb_error_set(err, VB_EFORMAT,
                            "%s: tensor '%s' holds %llu bytes but its %s shape needs %llu", path,
                            name, (unsigned long long)(end - begin), dtype->valuestring,
                            (unsigned long long)(numel * element));
    file->names[file->count] = strdup(name);
    if (!file->names[file->count])
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
    tensor->name = file->names[file->count];
    tensor->data = data + begin;
    tensor->size_bytes = (size_t)(end - begin);
    file->count++;
    return VB_OK;
}

int vb_safetensors_open(const char *path, vb_safetensors **out, vb_error *err)
{
    *out = NULL;
    int rc = VB_OK;
    cJSON *root = NULL;
    vb_safetensors *file = calloc(1, sizeof *file);
    if (!file)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
    int64_t file_bytes = 0;
    int fd = -1;
    if ((rc = fs_open_regular(path, &fd, &file_bytes, err)))
        goto fail;
    if (file_bytes < 8) {
        rc = vb_error_set(err, VB_EFORMAT, "%s: %lld bytes is too short for a safetensors file",
                          path, (long long)file_bytes);
        goto fail;
    }
    file->map_size = (size_t)file_bytes;
    file->map = mmap(NULL, file->map_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (file->map == MAP_FAILED) {
        file->map = NULL;
        rc = vb_error_set(err, VB_EIO, "%s: mmap failed: %s", path, strerror(errno));
        goto fail;
    }
    const uint8_t *bytes = file->map;
    uint64_t header_size = 0;
    for (int i = 7; i >= 0; i--)
        header_size = header_size << 8 | bytes[i];
    if (header_size > MAX_HEADER_BYTES || header_size > file->map_size - 8) {
        rc = vb_error_set(err, VB_EFORMAT,
                          "%s: header length %llu does not fit in the %zu-byte file", path,
                          (unsigned long long)header_size, file->map_size);
        goto fail;
    }
    root = cJSON_ParseWithLength((const char *)bytes + 8, (size_t)header_size);
    if (!cJSON_IsObject(root)) {
        rc = vb_error_set(err, VB_EFORMAT, "%s: header is not a JSON object", path);
        goto fail;
    }
    int entries = cJSON_GetArraySize(root);
    file->tensors = calloc((size_t)entries + 1, sizeof *file->tensors);
    file->names = calloc((size_t)entries + 1, sizeof *file->names);
    if (!file->tensors || !file->names) {
        rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
        goto fail;
    }
    const uint8_t *data = bytes + 8 + header_size;
    uint64_t data_size = file->map_size - 8 - header_size;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, root) {
        /* cJSON keeps duplicate keys; JSON leaves them undefined, so a repeated name is a lie
         * (two tensors answering one lookup, or two metadata objects) and refused. */
        if (strcmp(entry->string, "__metadata__") == 0)
            rc = file->metadata ? vb_error_set(err, VB_EFORMAT, "%s: __metadata__ appears twice", path)
                                : parse_metadata(file, entry, path, err);
        else
            rc = parse_tensor(file, entry, data, data_size, path, err);
        if (rc)
            goto fail;
    }
    if ((rc = refuse_duplicates(file->names, 1, file->count, "tensor", path, err)) ||
        (rc = refuse_duplicates(file->metadata, 2, file->n_metadata, "metadata key", path, err)))
        goto fail;
    cJSON_Delete(root);
    close(fd);
    *out = file;
    return VB_OK;
fail:
    cJSON_Delete(root);
    if (fd >= 0)
        close(fd);
    vb_safetensors_free(&file);
    return rc;
}

void vb_safetensors_free(vb_safetensors **file_ptr)
{
    if (!file_ptr || !*file_ptr)
        return;
    vb_safetensors *file = *file_ptr;
    if (file->map)
        munmap(file->map, file->map_size);
    if (file->names)
        for (int i = 0; i < file->count; i++)
            free(file->names[i]);
    if (file->metadata)
        for (int i = 0; i < 2 * file->n_metadata; i++)
            free(file->metadata[i]);
    free(file->names);
    free(file->tensors);
    free(file->metadata);
    free(file);
    *file_ptr = NULL;
}

int vb_safetensors_count(const vb_safetensors *file)
{
    return file->count;
}

const vb_tensor_view *vb_safetensors_at(const vb_safetensors *file, int index)
{
    return index >= 0 && index < file->count ? &file->tensors[index] : NULL;
}

const vb_tensor_view *vb_safetensors_find(const vb_safetensors *file, const char *name)
{
    for (int i = 0; i < file->count; i++)
        if (strcmp(file->tensors[i].name, name) == 0)
            return &file->tensors[i];
    return NULL;
}

const char *vb_safetensors_metadata(const vb_safetensors *file, const char *key)
{
    for (int i = 0; i < file->n_metadata; i++)
        if (strcmp(file->metadata[2 * i], key) == 0)
            return file->metadata[2 * i + 1];
    return NULL;
}

int vb_safetensors_write(const char *path, const vb_tensor_view *tensors, int n_tensors,
                         const char *const *metadata, int n_metadata, vb_error *err)
{
    int rc = VB_OK;
    char *header = NULL;
    fs_atomic_file file = {0};
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
    if (n_metadata > 0) {
        cJSON *meta = cJSON_AddObjectToObject(root, "__metadata__");
        for (int i = 0; meta && i < n_metadata; i++)
            cJSON_AddStringToObject(meta, metadata[2 * i], metadata[2 * i + 1]);
    }
    uint64_t offset = 0;
    for (int i = 0; i < n_tensors; i++) {
        const vb_tensor_view *t = &tensors[i];
        size_t expected = (size_t)vb_tensor_numel(t) * vb_dtype_size_bytes(t->dtype);
        if (expected != t->size_bytes) {
            rc = vb_error_set(err, VB_ESHAPE, "%s: tensor '%s' has %zu bytes, its shape needs %zu",
                              path, t->name, t->size_bytes, expected);
            goto done;
        }
        cJSON *entry = cJSON_AddObjectToObject(root, t->name);
        cJSON *shape = cJSON_AddArrayToObject(entry, "shape");
        cJSON *offsets = cJSON_AddArrayToObject(entry, "data_offsets");
        if (!entry || !shape || !offsets || !cJSON_AddStringToObject(entry, "dtype", vb_dtype_name(t->dtype))) {
            rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
            goto done;
        }
        for (int d = 0; d < t->ndim; d++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->shape[d]));
        cJSON_AddItemToArray(offsets, cJSON_CreateNumber((double)offset));
        cJSON_AddItemToArray(offsets, cJSON_CreateNumber((double)(offset + t->size_bytes)));
        offset += t->size_bytes;
    }
    header = cJSON_PrintUnformatted(root);
    if (!header) {
        rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    /* Pad the header with spaces so tensor data starts 8-byte aligned, as the reference
     * implementation does; readers that mmap can then use aligned loads. */
    size_t header_len = strlen(header);
    size_t padded = (header_len + 7) & ~(size_t)7;
    if ((rc = fs_atomic_open(&file, path, err)))
        goto done;
    uint8_t length_bytes[8];
    for (int i = 0; i < 8; i++)
        length_bytes[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    int ok = fwrite(length_bytes, 1, 8, file.fp) == 8 &&
             fwrite(header, 1, header_len, file.fp) == header_len;
    for (size_t i = header_len; ok && i < padded; i++)
        ok = fputc(' ', file.fp) != EOF;
    for (int i = 0; ok && i < n_tensors; i++)
        ok = tensors[i].size_bytes == 0 ||
             fwrite(tensors[i].data, 1, tensors[i].size_bytes, file.fp) == tensors[i].size_bytes;
    if (!ok) {
        rc = vb_error_set(err, fs_write_error_code(errno), "%s: write failed: %s", path, strerror(errno));
        fs_atomic_abort(&file);
        goto done;
    }
    rc = fs_atomic_commit(&file, err);
done:
    free(header);
    cJSON_Delete(root);
    return rc;
}
