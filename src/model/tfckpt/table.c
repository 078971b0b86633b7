/* LevelDB table reader (format: leveldb/doc/table_format.md). Whole file in memory; blocks
 * are walked entry by entry, rebuilding prefix-compressed keys. Snappy blocks are refused:
 * TensorFlow writes bundle indexes uncompressed. */
#include "model/tfckpt/table.h"
#include "model/tfckpt/wire.h"
#include "vidbench/tfckpt.h"

#include <stdlib.h>
#include <string.h>

#define TABLE_MAGIC 0xdb4775248b80fb57ull
#define FOOTER_BYTES 48          /* two handles padded to 40 bytes, then the 8-byte magic */
#define BLOCK_TRAILER_BYTES 5    /* compression type + masked crc32c */
#define MAX_KEY_BYTES (1u << 16) /* tensor names; anything longer is hostile */

typedef struct block_handle {
    uint64_t offset;
    uint64_t size;
} block_handle;

static uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int decode_handle(wire_reader *r, block_handle *handle)
{
    return wire_varint(r, &handle->offset) || wire_varint(r, &handle->size) ? -1 : 0;
}

/* Validates a block's place in the file and its trailer; *contents points at its bytes. */
static int read_block(const uint8_t *table, size_t size, const char *name, const char *what,
                      int flags, block_handle handle, const uint8_t **contents, vb_error *err)
{
    if (handle.offset > size || handle.size > size - handle.offset ||
        size - handle.offset - handle.size < BLOCK_TRAILER_BYTES)
        return vb_error_set(err, VB_EFORMAT,
                            "%s: %s block at offset %llu size %llu lies outside the %zu-byte file",
                            name, what, (unsigned long long)handle.offset,
                            (unsigned long long)handle.size, size);
    const uint8_t *block = table + handle.offset;
    const uint8_t *trailer = block + handle.size;
    uint32_t expected = vb_crc32c_unmask(load_le32(trailer + 1));
    /* The crc covers the contents and the compression-type byte. */
    uint32_t actual = vb_crc32c_extend(vb_crc32c_extend(0, block, handle.size), trailer, 1);
    if (actual != expected && !(flags & TABLE_SKIP_BLOCK_CRC))
        return vb_error_set(err, VB_ECHECKSUM,
                            "%s: %s block at offset %llu: crc32c %08x, trailer says %08x (file corrupt)",
                            name, what, (unsigned long long)handle.offset, actual, expected);
    if (trailer[0] == 1)
        return vb_error_set(err, VB_EUNSUPPORTED,
                            "%s: %s block at offset %llu is snappy-compressed; vidbench reads only "
                            "uncompressed tables (as TensorFlow writes checkpoint indexes)",
                            name, what, (unsigned long long)handle.offset);
    if (trailer[0] != 0)
        return vb_error_set(err, VB_EFORMAT, "%s: %s block at offset %llu: unknown compression type %u",
                            name, what, (unsigned long long)handle.offset, trailer[0]);
    *contents = block;
    return VB_OK;
}

typedef struct key_buffer {
    uint8_t *bytes;
    size_t size;
    size_t capacity;
} key_buffer;

static int key_reserve(key_buffer *key, size_t size)
{
    if (size <= key->capacity)
        return 0;
    size_t capacity = key->capacity ? key->capacity : 64;
    while (capacity < size)
        capacity *= 2;
    uint8_t *bytes = realloc(key->bytes, capacity);
    if (!bytes)
        return -1;
    key->bytes = bytes;
    key->capacity = capacity;
    return 0;
}

/* Walks one block's entries. previous_key carries the last key across blocks so that key
 * order is checked over the whole table; block_key is this block's rebuilt key. */
static int walk_block(const uint8_t *block, size_t block_size, const char *name, const char *what,
                      uint64_t block_offset, key_buffer *block_key, key_buffer *previous_key,
                      int *have_previous, table_entry_fn fn, void *user, vb_error *err)
{
    if (block_size < 4)
        return vb_error_set(err, VB_EFORMAT, "%s: %s block at offset %llu is %zu bytes, too small",
                            name, what, (unsigned long long)block_offset, block_size);
    uint32_t num_restarts = load_le32(block + block_size - 4);
    if (num_restarts == 0 || num_restarts > (block_size - 4) / 4)
        return vb_error_set(err, VB_EFORMAT, "%s: %s block at offset %llu: %u restart points do not fit",
                            name, what, (unsigned long long)block_offset, num_restarts);
    size_t entries_end = block_size - 4 - 4 * (size_t)num_restarts;
    for (uint32_t i = 0; i < num_restarts; i++)
        if (load_le32(block + entries_end + 4 * (size_t)i) > entries_end)
            return vb_error_set(err, VB_EFORMAT, "%s: %s block at offset %llu: restart point %u out of range",
                                name, what, (unsigned long long)block_offset, i);
    wire_reader r = {block, block + entries_end};
    block_key->size = 0;
    int first = 1;
    while (r.pos < r.end) {
        size_t entry_offset = (size_t)(r.pos - block);
        uint64_t shared, non_shared, value_size;
        if (wire_varint(&r, &shared) || wire_varint(&r, &non_shared) || wire_varint(&r, &value_size))
            return vb_error_set(err, VB_EFORMAT, "%s: %s block at offset %llu: truncated entry header at byte %zu",
                                name, what, (unsigned long long)block_offset, entry_offset);
        size_t left = (size_t)(r.end - r.pos);
        if (shared > block_key->size || (first && shared != 0) || non_shared > left ||
            value_size > left - non_shared || shared + non_shared > MAX_KEY_BYTES)
            return vb_error_set(err, VB_EFORMAT,
                                "%s: %s block at offset %llu: entry at byte %zu has inconsistent key/value lengths",
                                name, what, (unsigned long long)block_offset, entry_offset);
        if (key_reserve(block_key, shared + non_shared + 1))
            return vb_error_set(err, VB_ENOMEM, "%s: out of memory", name);
        memcpy(block_key->bytes + shared, r.pos, non_shared);
        block_key->size = shared + non_shared;
        r.pos += non_shared;
        const uint8_t *value = r.pos;
        r.pos += value_size;
        first = 0;

        if (*have_previous) {
            size_t common = previous_key->size < block_key->size ? previous_key->size : block_key->size;
            int order = memcmp(previous_key->bytes, block_key->bytes, common);
            if (order > 0 || (order == 0 && previous_key->size >= block_key->size))
                return vb_error_set(err, VB_EFORMAT, "%s: %s block at offset %llu: keys out of order at byte %zu",
                                    name, what, (unsigned long long)block_offset, entry_offset);
        }
        if (key_reserve(previous_key, block_key->size + 1))
            return vb_error_set(err, VB_ENOMEM, "%s: out of memory", name);
        memcpy(previous_key->bytes, block_key->bytes, block_key->size);
        previous_key->size = block_key->size;
        *have_previous = 1;

        int rc = fn(user, block_key->bytes, block_key->size, value, (size_t)value_size, err);
        if (rc)
            return rc;
    }
    return VB_OK;
}

typedef struct data_walk {
    const uint8_t *table;
    size_t size;
    const char *name;
    int flags;
    key_buffer data_key;
    key_buffer data_previous;
    int data_have_previous;
    table_entry_fn fn;
    void *user;
} data_walk;

/* Index block entry: key = a separator >= every key of the block, value = its handle. */
static int visit_index_entry(void *user, const uint8_t *key, size_t key_size, const uint8_t *value,
                             size_t value_size, vb_error *err)
{
    data_walk *walk = user;
    wire_reader r = {value, value + value_size};
    block_handle handle;
    if (decode_handle(&r, &handle))
        return vb_error_set(err, VB_EFORMAT, "%s: index block entry holds a malformed block handle",
                            walk->name);
    const uint8_t *contents;
    int rc = read_block(walk->table, walk->size, walk->name, "data", walk->flags, handle, &contents, err);
    if (rc)
        return rc;
    return walk_block(contents, (size_t)handle.size, walk->name, "data", handle.offset,
                      &walk->data_key, &walk->data_previous, &walk->data_have_previous,
                      walk->fn, walk->user, err);
}

int table_for_each(const uint8_t *table, size_t size, const char *name, table_entry_fn fn,
                   void *user, vb_error *err)
{
    return table_for_each_flags(table, size, name, 0, fn, user, err);
}

int table_for_each_flags(const uint8_t *table, size_t size, const char *name, int flags,
                         table_entry_fn fn, void *user, vb_error *err)
{
    if (size < FOOTER_BYTES)
        return vb_error_set(err, VB_EFORMAT, "%s: %zu bytes, too short for a checkpoint index "
                            "(a table footer alone is %d)", name, size, FOOTER_BYTES);
    const uint8_t *footer = table + size - FOOTER_BYTES;
    uint64_t magic = (uint64_t)load_le32(footer + 40) | (uint64_t)load_le32(footer + 44) << 32;
    if (magic != TABLE_MAGIC)
        return vb_error_set(err, VB_EFORMAT, "%s: not a TensorFlow checkpoint index (table magic "
                            "%016llx, expected %016llx)", name, (unsigned long long)magic,
                            (unsigned long long)TABLE_MAGIC);
    wire_reader r = {footer, footer + 40};
    block_handle metaindex, index;
    if (decode_handle(&r, &metaindex) || decode_handle(&r, &index))
        return vb_error_set(err, VB_EFORMAT, "%s: malformed block handles in the table footer", name);
    /* The metaindex (filter blocks) is not used, but its crc is checked like LevelDB does. */
    const uint8_t *index_contents, *metaindex_contents;
    int rc = read_block(table, size, name, "metaindex", flags, metaindex, &metaindex_contents, err);
    if (rc)
        return rc;
    rc = read_block(table, size, name, "index", flags, index, &index_contents, err);
    if (rc)
        return rc;
    data_walk walk = {.table = table, .size = size, .name = name, .flags = flags, .fn = fn, .user = user};
    key_buffer index_key = {0}, index_previous = {0};
    int index_have_previous = 0;
    rc = walk_block(index_contents, (size_t)index.size, name, "index", index.offset, &index_key,
                    &index_previous, &index_have_previous, visit_index_entry, &walk, err);
    free(index_key.bytes);
    free(index_previous.bytes);
    free(walk.data_key.bytes);
    free(walk.data_previous.bytes);
    return rc;
}
