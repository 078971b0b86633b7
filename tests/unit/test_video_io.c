/* Probe, .npy and GIF output: header facts of real clips (values from ffprobe), the .npy
 * layout numpy expects, the seed's float32 values, and a GIF that FFmpeg reads back. */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#include "vidbench/video.h"
#include "common/fsutil.h"
#include "video/video_internal.h"

static void probe_reports_header_facts(void **state)
{
    (void)state;
    vb_video_info info;
    vb_error err = {0};
    /* ffprobe: h264 454x256 yuv420p 25/1 fps, 250 frames, 10 s, SAR 2048:2043 */
    assert_int_equal(vb_video_probe(shared_path("data/videos/kinetics400/abseiling_k400.mp4"), 0, &info, &err),
                     VB_OK);
    assert_string_equal(info.codec, "h264");
    assert_string_equal(info.pixel_format, "yuv420p");
    assert_non_null(strstr(info.container, "mp4"));
    assert_int_equal(info.width, 454);
    assert_int_equal(info.height, 256);
    assert_int_equal(info.frame_count, 250);
    assert_int_equal(info.frame_count_exact, 0);
    assert_int_equal(info.sar_num, 2048);
    assert_int_equal(info.sar_den, 2043);
    assert_true(info.fps > 24.999 && info.fps < 25.001);
    assert_true(info.duration_seconds > 9.99 && info.duration_seconds < 10.01);
    /* ffprobe: display matrix rotation -90; OpenCV 4.6 applies 270 (see docs/video.md) */
    assert_int_equal(vb_video_probe(shared_path("data/robustness/decord/video_90.mov"), 1, &info, &err), VB_OK);
    assert_int_equal(info.rotation_degrees, 270);
    assert_int_equal(info.frame_count, 3);
    assert_int_equal(info.frame_count_exact, 1);
    /* Matroska AV1 carries no frame count; --count finds 125 */
    assert_int_equal(vb_video_probe(shared_path("data/robustness/torchcodec/av1_video.mkv"), 0, &info, &err), VB_OK);
    assert_int_equal(info.frame_count, -1);
    assert_int_equal(vb_video_probe(shared_path("data/robustness/torchcodec/av1_video.mkv"), 1, &info, &err), VB_OK);
    assert_int_equal(info.frame_count, 125);
    assert_int_equal(vb_video_probe("/no/such.mp4", 0, &info, &err), VB_ENOTFOUND);
    assert_non_null(strstr(err.message, "/no/such.mp4"));
}

static vb_frames tiny_clip(void)
{
    vb_frames clip = {.num_frames = 2, .height = 4, .width = 5};
    clip.frames = malloc(2 * 4 * 5 * 3);
    assert_non_null(clip.frames);
    for (int i = 0; i < 2 * 4 * 5 * 3; i++)
        clip.frames[i] = (uint8_t)(i * 37 % 256);
    return clip;
}

static void npy_has_numpy_layout(void **state)
{
    (void)state;
    vb_frames clip = tiny_clip();
    vb_error err = {0};
    const char *path = temp_path("tiny.npy");
    assert_int_equal(vb_clip_write_npy(&clip, path, 0, &err), VB_OK);
    char *data;
    size_t size;
    assert_int_equal(fs_read_file(path, 1 << 20, &data, &size, &err), VB_OK);
    /* NPY 1.0: magic, version 1.0, little-endian header length, header padded so the data
     * starts at a multiple of 64, ending in '\n' */
    assert_memory_equal(data, "\x93NUMPY\x01\x00", 8);
    size_t header_len = (unsigned char)data[8] | (unsigned char)data[9] << 8;
    assert_int_equal((10 + header_len) % 64, 0);
    assert_int_equal(data[10 + header_len - 1], '\n');
    assert_non_null(strstr(data + 10, "'descr': '|u1'"));
    assert_non_null(strstr(data + 10, "'shape': (2, 4, 5, 3)"));
    assert_int_equal(size, 10 + header_len + 120);
    assert_memory_equal(data + 10 + header_len, clip.frames, 120);
    free(data);

    assert_int_equal(vb_clip_write_npy(&clip, path, 1, &err), VB_OK);
    assert_int_equal(fs_read_file(path, 1 << 20, &data, &size, &err), VB_OK);
    header_len = (unsigned char)data[8] | (unsigned char)data[9] << 8;
    assert_non_null(strstr(data + 10, "'descr': '<f4'"));
    assert_int_equal(size, 10 + header_len + 120 * 4);
    float values[120];
    memcpy(values, data + 10 + header_len, sizeof values);
    for (int i = 0; i < 120; i++) /* numpy: np.float32(np.float64(v) / 255.0) */
        assert_true(values[i] == (float)(clip.frames[i] / 255.0));
    free(data);
    vb_frames_free(&clip);
}

static void npy_refuses_empty_clip_and_bad_path(void **state)
{
    (void)state;
    vb_frames empty = {0};
    vb_error err = {0};
    assert_int_equal(vb_clip_write_npy(&empty, temp_path("empty.npy"), 0, &err), VB_EINVAL);
    assert_false(fs_path_exists(temp_path("empty.npy")));
    vb_frames clip = tiny_clip();
    assert_int_equal(vb_clip_write_npy(&clip, "/nonexistent-dir/x.npy", 0, &err), VB_EIO);
    assert_non_null(strstr(err.message, "/nonexistent-dir/x.npy"));
    vb_frames_free(&clip);
}

/* The SIMD float conversions (AVX2 or SSE2, streaming stores for large outputs) equal the seed's float64 x / 255.0 cast to float32 for every
 * uint8 value, at every offset of the 16-wide body and its tail. */
static void float_conversion_equals_seeds_float64_division(void **state)
{
    (void)state;
    enum { N = 256 * 3 + 7 };
    uint8_t in[N];
    float fast[N], plain[N];
    for (int i = 0; i < N; i++)
        in[i] = (uint8_t)((i * 7) & 255);
    for (int start = 0; start < 16; start++) {
        int n = N - start;
        vb_u8_to_float32(in + start, (size_t)n, fast);
        u8_to_float32_reference(in + start, (size_t)n, plain);
        assert_memory_equal(fast, plain, (size_t)n * sizeof(float));
    }
    /* outputs of 8 MiB and more take the streaming-store path, which starts at the first
     * 32-byte aligned float: every start offset of the output within 32 bytes */
    size_t big = (9u << 20) / sizeof(float) + 13;
    uint8_t *big_in = malloc(big + 8);
    float *big_fast = malloc((big + 8) * sizeof(float)), *big_plain = malloc(big * sizeof(float));
    assert_non_null(big_in);
    assert_non_null(big_fast);
    assert_non_null(big_plain);
    for (size_t i = 0; i < big + 8; i++)
        big_in[i] = (uint8_t)((i * 131 + (i >> 9)) & 255);
    for (int shift = 0; shift < 8; shift++) {
        u8_to_float32_reference(big_in + shift, big, big_plain);
        vb_u8_to_float32(big_in + shift, big, big_fast + shift);
        assert_memory_equal(big_fast + shift, big_plain, big * sizeof(float));
    }
    free(big_in);
    free(big_fast);
    free(big_plain);
    for (int v = 0; v < 256; v++) { /* against the double division itself, not the table */
        uint8_t byte = (uint8_t)v;
        float one[16];
        uint8_t sixteen[16];
        memset(sixteen, byte, sizeof sixteen);
        vb_u8_to_float32(sixteen, 16, one);
        assert_true(one[15] == (float)(v / 255.0));
        vb_u8_to_float32(&byte, 1, one);
        assert_true(one[0] == (float)(v / 255.0));
    }
}

static void gif_round_trips_through_ffmpeg(void **state)
{
    (void)state;
    vb_video_options options;
    vb_video_options_init(&options);
    options.size = 48;
    options.num_frames = 6;
    vb_frames clip;
    vb_error err = {0};
    assert_int_equal(vb_video_decode_clip(shared_path("data/videos/kinetics400/abseiling_k400.mp4"), &options,
                                          &clip, &err), VB_OK);
    const char *path = temp_path("preview.gif");
    assert_int_equal(vb_clip_write_gif(&clip, 10, path, &err), VB_OK);
    char *data;
    size_t size;
    assert_int_equal(fs_read_file(path, 1 << 24, &data, &size, &err), VB_OK);
    assert_memory_equal(data, "GIF89a", 6);
    free(data);
    /* FFmpeg's GIF demuxer reads back 6 frames of 48x48 */
    vb_frames back;
    vb_video_options plain;
    vb_video_options_init(&plain);
    plain.size = 48;
    plain.resize = VB_RESIZE_STRETCH;
    assert_int_equal(vb_video_decode_clip(path, &plain, &back, &err), VB_OK);
    assert_int_equal(back.num_frames, 6);
    /* a palette of 256 colours keeps a natural image close: mean error below 8 levels */
    double total = 0;
    size_t n = (size_t)6 * 48 * 48 * 3;
    for (size_t i = 0; i < n; i++)
        total += abs((int)back.frames[i] - (int)clip.frames[i]);
    assert_true(total / n < 8.0);
    vb_frames_free(&back);
    assert_int_equal(vb_clip_write_gif(&clip, 0, path, &err), VB_EINVAL);
    vb_frames_free(&clip);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(probe_reports_header_facts),
        cmocka_unit_test(npy_has_numpy_layout),
        cmocka_unit_test(npy_refuses_empty_clip_and_bad_path),
        cmocka_unit_test(gif_round_trips_through_ffmpeg),
        cmocka_unit_test(float_conversion_equals_seeds_float64_division),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
