/* libFuzzer target for the H.264 access-unit reader behind frame skipping: arbitrary bytes
 * as an avcC record and as a length-prefixed packet (the first byte picks the prefix size,
 * so the invalid 0 and 3 are exercised too). The decode path with real containers is
 * fuzzed by fuzz_video. */
#include <stddef.h>
#include <stdint.h>

#include "video/video_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h264_avcc_length_size(data, size);
    if (size == 0)
        return 0;
    int length_size = data[0] % 5;
    h264_packet_disposable(data + 1, size - 1, length_size);
    return 0;
}
