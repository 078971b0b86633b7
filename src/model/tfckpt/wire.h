/* A minimal protocol-buffer wire-format decoder for the few TensorFlow messages a checkpoint
 * index holds. Every read is bounds-checked against the message end; internal. */
#ifndef VB_MODEL_TFCKPT_WIRE_H
#define VB_MODEL_TFCKPT_WIRE_H

#include <stddef.h>
#include <stdint.h>

enum { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_LEN = 2, WIRE_FIXED32 = 5 };

typedef struct wire_reader {
    const uint8_t *pos;
    const uint8_t *end;
} wire_reader;

/* Each returns 0 on success, -1 on truncated or malformed bytes (reader left unspecified). */
int wire_varint(wire_reader *r, uint64_t *value);
int wire_fixed32(wire_reader *r, uint32_t *value);
/* Reads a tag; *field_number >= 1 and *wire_type one of WIRE_* (groups are refused). */
int wire_tag(wire_reader *r, uint32_t *field_number, int *wire_type);
/* A length-delimited payload as a sub-reader. */
int wire_bytes(wire_reader *r, wire_reader *payload);
/* Skips the value of a field whose tag was just read. */
int wire_skip(wire_reader *r, int wire_type);

#endif
