/* Internal entry points of the checkpoint reader, for the fuzz target. */
#ifndef VB_MODEL_TFCKPT_INTERNAL_H
#define VB_MODEL_TFCKPT_INTERNAL_H

#include "vidbench/tfckpt.h"

/* vb_tfckpt_parse_index with table flags (TABLE_SKIP_BLOCK_CRC from table.h lets the fuzzer's
 * mutations get past the block crc32c to the key and protobuf decoding behind it). */
int tfckpt_parse_index_flags(const void *index_bytes, size_t index_size, const char *prefix, int table_flags,
                             vb_tfckpt **out, vb_error *err);

#endif
