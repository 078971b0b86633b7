/* LevelDB table (SSTable) reading, as TensorFlow writes it for checkpoint indexes: a footer
 * pointing at an index block whose entries point at data blocks. Internal. */
#ifndef VB_MODEL_TFCKPT_TABLE_H
#define VB_MODEL_TFCKPT_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include "vidbench/error.h"

/* Called for each key/value in key order; the pointers are valid only during the call.
 * A non-zero return stops the walk and is returned. */
typedef int (*table_entry_fn)(void *user, const uint8_t *key, size_t key_size,
                              const uint8_t *value, size_t value_size, vb_error *err);

/* Walks every entry of the table held in table[0..size); name labels messages. Checks the
 * footer magic, every block's trailer crc32c, every varint and length, and that keys are
 * strictly increasing. */
int table_for_each(const uint8_t *table, size_t size, const char *name, table_entry_fn fn,
                   void *user, vb_error *err);

/* Flags for table_for_each_flags. */
enum { TABLE_SKIP_BLOCK_CRC = 1 };   /* fuzzing only: lets mutated blocks reach the parsers */
int table_for_each_flags(const uint8_t *table, size_t size, const char *name, int flags,
                         table_entry_fn fn, void *user, vb_error *err);

#endif
