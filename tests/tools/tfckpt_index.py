#!/usr/bin/python3
"""Writes a TensorFlow checkpoint index (a LevelDB table of BundleEntryProtos, uncompressed,
crc32c on every block) from plain descriptions, so tests can make indexes that lie.

usage: tfckpt_index.py OUT.index NAME:DTYPE:DIMS:OFFSET:SIZE ...
  DTYPE is the TensorFlow DataType number (1 = DT_FLOAT), DIMS like 3x4 (empty: scalar).
  Entries must be given in name order; one data shard, shard 0."""
import struct
import sys


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number, wire_type, payload):
    tag = varint(number << 3 | wire_type)
    return tag + (varint(len(payload)) + payload if wire_type == 2 else payload)


def block(entries):
    body = b"".join(varint(0) + varint(len(k)) + varint(len(v)) + k + v for k, v in entries)
    return body + struct.pack("<II", 0, 1)   # one restart point at 0


def with_trailer(contents):
    return contents + b"\x00" + struct.pack("<I", masked(crc32c(contents + b"\x00")))


def main():
    out, specs = sys.argv[1], sys.argv[2:]
    entries = [(b"", field(1, 0, varint(1)))]   # BundleHeaderProto: num_shards 1
    for spec in specs:
        name, dtype, dims, offset, size = spec.split(":")
        shape = b"".join(field(2, 2, field(1, 0, varint(int(d)))) for d in dims.split("x") if d)
        value = field(1, 0, varint(int(dtype))) + field(2, 2, shape) + field(4, 0, varint(int(offset))) + \
            field(5, 0, varint(int(size)))
        entries.append((name.encode(), value))
    data = block(entries)
    metaindex = block([])
    table = bytearray(with_trailer(data))
    meta_at = len(table)
    table += with_trailer(metaindex)
    index = block([(entries[-1][0] + b"\xff", varint(0) + varint(len(data)))])
    index_at = len(table)
    table += with_trailer(index)
    footer = varint(meta_at) + varint(len(metaindex)) + varint(index_at) + varint(len(index))
    table += footer + b"\x00" * (40 - len(footer)) + struct.pack("<Q", 0xDB4775248B80FB57)
    with open(out, "wb") as f:
        f.write(table)


if __name__ == "__main__":
    main()
