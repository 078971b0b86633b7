/* libFuzzer target for the video ingest: arbitrary bytes as a media file through probe and
 * the full decode -> transform -> resample path (small output, tight limits). FFmpeg reads
 * from a file, so each input is written to a private temporary file first. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vidbench/video.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/vidbench-fuzz-video.%ld", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    if (size && fwrite(data, 1, size, f) != size) {
        fclose(f);
        return 0;
    }
    fclose(f);

    vb_video_info info;
    vb_error err;
    vb_video_probe(path, 0, &info, &err);

    vb_video_options options;
    vb_video_options_init(&options);
    options.size = 16;
    options.num_frames = 4;
    options.threads = 1;
    options.max_frames = 200;
    options.max_seconds = 2;
    options.resize = (vb_resize_mode)(size % 4);
    vb_frames clip;
    if (vb_video_decode_clip(path, &options, &clip, &err) == VB_OK)
        vb_frames_free(&clip);
    unlink(path);
    return 0;
}
