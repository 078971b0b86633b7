/* Protocol-buffer wire decoding (see wire.h): varints of at most 10 bytes, lengths checked
 * against the bytes left before any pointer moves. */
#include "model/tfckpt/wire.h"

int wire_varint(wire_reader *r, uint64_t *value)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->pos >= r->end)
            return -1;
        uint8_t b = *r->pos++;
        /* The 10th byte may only carry the top bit of a 64-bit value. */
        if (shift == 63 && b > 1)
            return -1;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *value = v;
            return 0;
        }
    }
    return -1;
}

int wire_fixed32(wire_reader *r, uint32_t *value)
{
    if (r->end - r->pos < 4)
        return -1;
    const uint8_t *p = r->pos;
    *value = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    r->pos += 4;
    return 0;
}

int wire_tag(wire_reader *r, uint32_t *field_number, int *wire_type)
{
    uint64_t tag;
    if (wire_varint(r, &tag) || tag > UINT32_MAX)
        return -1;
    *field_number = (uint32_t)(tag >> 3);
    *wire_type = (int)(tag & 7);
    if (*field_number == 0)
        return -1;
    switch (*wire_type) {
    case WIRE_VARINT: case WIRE_FIXED64: case WIRE_LEN: case WIRE_FIXED32:
        return 0;
    default:
        return -1;   /* groups (3, 4) are deprecated and absent from TF protos; 6, 7 invalid */
    }
}

int wire_bytes(wire_reader *r, wire_reader *payload)
{
    uint64_t length;
    if (wire_varint(r, &length) || length > (uint64_t)(r->end - r->pos))
        return -1;
    payload->pos = r->pos;
    payload->end = r->pos + length;
    r->pos += length;
    return 0;
}

int wire_skip(wire_reader *r, int wire_type)
{
    uint64_t ignored;
    wire_reader sub;
    switch (wire_type) {
    case WIRE_VARINT:
        return wire_varint(r, &ignored);
    case WIRE_FIXED64:
        if (r->end - r->pos < 8)
            return -1;
        r->pos += 8;
        return 0;
    case WIRE_FIXED32:
        if (r->end - r->pos < 4)
            return -1;
        r->pos += 4;
        return 0;
    case WIRE_LEN:
        return wire_bytes(r, &sub);
    default:
        return -1;
    }
}
