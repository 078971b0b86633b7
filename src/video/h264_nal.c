/* Just enough of H.264's NAL unit syntax (ITU-T H.264 7.3.1, 7.4.1, and the avcC record of
 * ISO/IEC 14496-15 5.2.4.1) to tell a disposable access unit: one whose pictures no other
 * picture references, so that a decoder may drop it without changing any other frame
 * (the "nal_ref_idc == 0" rule that FFmpeg's skip_frame=noref also relies on). */
#include "video/video_internal.h"

enum {
    NAL_SLICE = 1,          /* coded slice of a non-IDR picture */
    NAL_IDR_SLICE = 5,
    NAL_ACCESS_UNIT_DELIMITER = 9,
    NAL_FILLER = 12,
};
enum { MAX_MACROBLOCKS = 139264 }; /* level 6.2's frame size limit, in macroblocks */

int h264_avcc_length_size(const uint8_t *extradata, size_t size)
{
    /* configurationVersion 1, then profile, compatibility, level, and
     * lengthSizeMinusOne in the low two bits of byte 4 */
    if (!extradata || size < 7 || extradata[0] != 1)
        return 0;
    int length_size = (extradata[4] & 3) + 1;
    return length_size == 3 ? 0 : length_size; /* 3 is reserved */
}

/* Reads the RBSP of a NAL unit (emulation prevention bytes 00 00 03 removed) bit by bit. */
typedef struct rbsp_reader {
    const uint8_t *data;
    size_t size, byte;
    int bit;           /* next bit in data[byte], 7 = most significant */
    int zeros;         /* consecutive zero bytes just read */
    int overrun;
} rbsp_reader;

static int read_bit(rbsp_reader *r)
{
    if (r->bit == 7) { /* entering a new byte: drop an emulation prevention byte */
        if (r->zeros >= 2 && r->byte < r->size && r->data[r->byte] == 3) {
            r->byte++;
            r->zeros = 0;
        }
        if (r->byte >= r->size) {
            r->overrun = 1;
            return 0;
        }
        r->zeros = r->data[r->byte] == 0 ? r->zeros + 1 : 0;
    }
    int value = (r->data[r->byte] >> r->bit) & 1;
    if (--r->bit < 0) {
        r->bit = 7;
        r->byte++;
    }
    return value;
}

/* ue(v), Exp-Golomb; -1 when it runs past the data or beyond 32 bits. */
static long read_ue(rbsp_reader *r)
{
    int leading_zeros = 0;
    while (!read_bit(r)) {
        if (r->overrun || ++leading_zeros > 31)
            return -1;
    }
    unsigned long value = 0;
    for (int i = 0; i < leading_zeros; i++)
        value = value << 1 | (unsigned long)read_bit(r);
    return r->overrun ? -1 : (long)((1ul << leading_zeros) - 1 + value);
}

/* The start of a slice header (7.3.3) can be read and is in range. A packet left
 * undecoded is counted as one frame, as the full decode would count it; a header too
 * damaged to start a picture would make the decoder drop it, so such a packet is decoded
 * instead (and any loss shows in the pass's count check). */
static int slice_header_plausible(const uint8_t *nal, size_t size)
{
    rbsp_reader r = {.data = nal + 1, .size = size - 1, .bit = 7};
    long first_mb_in_slice = read_ue(&r), slice_type = read_ue(&r), pic_parameter_set_id = read_ue(&r);
    return first_mb_in_slice >= 0 && first_mb_in_slice < MAX_MACROBLOCKS && slice_type >= 0 &&
           slice_type <= 9 && pic_parameter_set_id >= 0 && pic_parameter_set_id <= 255;
}

int h264_packet_disposable(const uint8_t *data, size_t size, int length_size)
{
    if (!data || (length_size != 1 && length_size != 2 && length_size != 4))
        return 0;
    int slices = 0;
    size_t at = 0;
    while (at < size) {
        if (size - at < (size_t)length_size)
            return 0;
        uint32_t nal_size = 0;
        for (int i = 0; i < length_size; i++)
            nal_size = nal_size << 8 | data[at + i];
        at += (size_t)length_size;
        if (nal_size == 0 || nal_size > size - at)
            return 0;
        uint8_t header = data[at];
        int forbidden_zero_bit = header >> 7, nal_ref_idc = (header >> 5) & 3, type = header & 31;
        if (forbidden_zero_bit)
            return 0;
        if (type == NAL_SLICE && nal_ref_idc == 0) {
            if (!slice_header_plausible(data + at, nal_size))
                return 0;
            slices++;
        }
        else if (type != NAL_ACCESS_UNIT_DELIMITER && type != NAL_FILLER)
            return 0; /* a reference slice, IDR, parameter set, SEI, end of sequence...: keep */
        at += nal_size;
    }
    return slices > 0;
}
