/* libFuzzer target for the TensorFlow checkpoint index parser (LevelDB table walk, block
 * trailers, prefix-compressed keys, BundleHeaderProto/BundleEntryProto decoding), followed by
 * the layout check and every accessor, as `vidbench model inspect` uses them.
 * Seeds: ../shared/data/i3d/checkpoints/NAME/model.ckpt.index, ../shared/data/tf-checkpoints. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "model/tfckpt/internal.h"
#include "model/tfckpt/table.h"
#include "vidbench/tfckpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vb_tfckpt *ckpt = NULL;
    vb_error err;
    /* Even sizes parse as in production; odd sizes skip the block crc32c so that mutations
     * reach the key and protobuf decoding (a real file's crc would stop almost all of them). */
    int flags = (size & 1) ? TABLE_SKIP_BLOCK_CRC : 0;
    if (tfckpt_parse_index_flags(data, size, NULL, flags, &ckpt, &err) != VB_OK)
        return 0;
    int shards = vb_tfckpt_num_shards(ckpt);
    int64_t *shard_bytes = calloc((size_t)shards, sizeof *shard_bytes);
    if (shard_bytes)
        vb_tfckpt_check_layout(ckpt, shard_bytes, &err);
    free(shard_bytes);
    for (int i = 0; i < vb_tfckpt_count(ckpt); i++) {
        const vb_tfckpt_entry *e = vb_tfckpt_at(ckpt, i);
        if (vb_tfckpt_find(ckpt, e->name) != e)
            __builtin_trap();   /* keys were checked to be strictly increasing */
        char buffer[16];
        /* No prefix: reading must refuse, not touch a file. */
        if (vb_tfckpt_read(ckpt, e, buffer, sizeof buffer, &err) == VB_OK)
            __builtin_trap();
    }
    vb_tfckpt_free(&ckpt);
    return 0;
}
