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

int vb_h264_avcc_length_size(const uint8_t *extradata, size_t size)
{
    /* configurationVersion 1, then profile, compatibility, level, and
     * lengthSizeMinusOne in the low two bits of byte 4 */
    if (!extradata || size < 7 || extradata[0] != 1)
        return 0;
    int length_size = (extradata[4] & 3) + 1;
    return length_size == 3 ? 0 : length_size; /* 3 is reserved */
}

int vb_h264_packet_disposable(const uint8_t *data, size_t size, int length_size)
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
        if (type == NAL_SLICE && nal_ref_idc == 0)
            slices++;
        else if (type != NAL_ACCESS_UNIT_DELIMITER && type != NAL_FILLER)
            return 0; /* a reference slice, IDR, parameter set, SEI, end of sequence...: keep */
        at += nal_size;
    }
    return slices > 0;
}
