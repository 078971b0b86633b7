/* Frame selection: the seed's resampling rule (output i = input floor(i * count / n)) for up-
 * and down-sampling, the --fps selection, and that decoding with a selection (which skips
 * converting the dropped frames, and decoding those of them no other frame references)
 * gives exactly the frames of a full decode indexed by the rule -- the plain path is the
 * reference for the skipping one. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidbench/video.h"
#include "video/decoder.h"
#include "video/video_internal.h"

static void downsampling_follows_floor_rule(void **state)
{
    (void)state;
    /* floor(i * 10 / 4) for i = 0..3, worked by hand */
    int idx[4];
    vb_resample_indices(10, 4, idx);
    const int expected[4] = {0, 2, 5, 7};
    for (int i = 0; i < 4; i++)
        assert_int_equal(idx[i], expected[i]);
    /* the seed's 100 of 250 frames: i * 250 // 100 */
    int many[100];
    vb_resample_indices(250, 100, many);
    assert_int_equal(many[1], 2);
    assert_int_equal(many[2], 5);
    assert_int_equal(many[99], 247);
}

static void upsampling_repeats_frames(void **state)
{
    (void)state;
    /* floor(i * 3 / 7): 0 0 0 1 1 2 2 */
    int idx[7];
    vb_resample_indices(3, 7, idx);
    const int expected[7] = {0, 0, 0, 1, 1, 2, 2};
    for (int i = 0; i < 7; i++)
        assert_int_equal(idx[i], expected[i]);
    /* same count: identity */
    int same[5];
    vb_resample_indices(5, 5, same);
    for (int i = 0; i < 5; i++)
        assert_int_equal(same[i], i);
}

static void fps_selection_keeps_nearest_frames(void **state)
{
    (void)state;
    int kept[30], n;
    /* 30 fps -> 5 fps: frames at 0, 0.2 s, ... = indices 0, 6, 12, 18, 24 */
    select_fps(30, 30.0, 5.0, kept, &n);
    assert_int_equal(n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(kept[i], 6 * i);
    /* 25 fps -> 10 fps: nearest to k * 2.5 -> 0, 3 (2.5 rounds up), 5, 8, 10 */
    select_fps(11, 25.0, 10.0, kept, &n);
    const int expected[5] = {0, 3, 5, 8, 10};
    assert_int_equal(n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(kept[i], expected[i]);
    /* a target at or above the source rate keeps everything; so does an unknown rate */
    select_fps(7, 25.0, 30.0, kept, &n);
    assert_int_equal(n, 7);
    select_fps(7, 0.0, 5.0, kept, &n);
    assert_int_equal(n, 7);
}

static vb_frames decode_or_fail(const char *path, const vb_video_options *options)
{
    vb_frames clip;
    vb_error err = {0};
    if (vb_video_decode_clip(path, options, &clip, &err))
        fail_msg("%s", err.message);
    return clip;
}

/* Selected decode == full decode indexed by vb_resample_indices, frame by frame. Returns
 * how many frames the selected decode left undecoded. */
static int decoder_threads; /* 0: the default (cores); the skipping test also runs 1 */

static int check_selection_matches_full_decode(const char *path, int num_frames, vb_resize_mode mode)
{
    vb_video_options options;
    vb_video_options_init(&options);
    options.threads = decoder_threads;
    options.size = 64;
    options.resize = mode;
    vb_frames all = decode_or_fail(path, &options);
    options.num_frames = num_frames;
    vb_frames picked = decode_or_fail(path, &options);
    assert_int_equal(picked.num_frames, num_frames);
    assert_int_equal(picked.decoded_frames, all.num_frames);
    int *idx = malloc(sizeof(int) * (size_t)num_frames);
    assert_non_null(idx);
    vb_resample_indices(all.num_frames, num_frames, idx);
    size_t frame_bytes = 64 * 64 * 3;
    for (int i = 0; i < num_frames; i++)
        if (memcmp(picked.frames + frame_bytes * i, all.frames + frame_bytes * idx[i], frame_bytes))
            fail_msg("%s: output frame %d differs from full-decode frame %d", path, i, idx[i]);
    free(idx);
    int skipped = picked.skipped_frames;
    assert_true(skipped >= 0 && skipped <= picked.decoded_frames - 1);
    vb_frames_free(&all);
    vb_frames_free(&picked);
    return skipped;
}

static void selected_decode_equals_full_decode(void **state)
{
    (void)state;
    const char *clip = shared_path("data/videos/kinetics400/abseiling_k400.mp4"); /* 250 frames */
    check_selection_matches_full_decode(clip, 100, VB_RESIZE_CROP);  /* down */
    check_selection_matches_full_decode(shared_path("data/robustness/decord/video_90.mov"), 8,
                                        VB_RESIZE_STRETCH);          /* up: 3 -> 8 */
    /* AV1 in Matroska has no frame count in its header: the count pass path */
    check_selection_matches_full_decode(shared_path("data/robustness/torchcodec/av1_video.mkv"),
                                        test_sanitized() ? 10 : 40, VB_RESIZE_PAD);
}

/* The H.264 access-unit test behind skipping, on packets built by hand: 4-byte length
 * prefixes (avcC), NAL header = forbidden bit | nal_ref_idc << 5 | nal_unit_type, and a
 * slice header start 0xB8 = ue 0 (first_mb_in_slice), ue 2 (slice_type), ue 0 (pps id). */
static void disposable_h264_packets_are_told_apart(void **state)
{
    (void)state;
    const uint8_t nonref_slice[] = {0, 0, 0, 3, 0x01, 0xB8, 0xBB};          /* ref_idc 0, type 1 */
    const uint8_t ref_slice[] = {0, 0, 0, 3, 0x41, 0xB8, 0xBB};             /* ref_idc 2, type 1 */
    const uint8_t idr[] = {0, 0, 0, 2, 0x65, 0x88};                          /* type 5 */
    const uint8_t aud_then_nonref[] = {0, 0, 0, 2, 0x09, 0xF0, 0, 0, 0, 2, 0x01, 0xB8};
    const uint8_t sei_then_nonref[] = {0, 0, 0, 2, 0x06, 0x05, 0, 0, 0, 2, 0x01, 0xB8};
    const uint8_t sps_then_nonref[] = {0, 0, 0, 2, 0x67, 0x64, 0, 0, 0, 2, 0x01, 0xB8};
    const uint8_t two_nonref_slices[] = {0, 0, 0, 2, 0x01, 0xB8, 0, 0, 0, 2, 0x01, 0xB8};
    const uint8_t nonref_then_ref[] = {0, 0, 0, 2, 0x01, 0xB8, 0, 0, 0, 2, 0x21, 0xB8};
    const uint8_t aud_only[] = {0, 0, 0, 2, 0x09, 0xF0};
    const uint8_t overlong[] = {0, 0, 0, 9, 0x01, 0xB8};                     /* length past the end */
    const uint8_t zero_length[] = {0, 0, 0, 0, 0, 0, 0, 2, 0x01, 0xB8};
    const uint8_t cut_prefix[] = {0, 0, 0, 2, 0x01, 0xB8, 0, 0};             /* 2 bytes of a prefix */
    const uint8_t forbidden_bit[] = {0, 0, 0, 2, 0x81, 0xB8};
    const uint8_t two_byte_prefix[] = {0, 2, 0x01, 0xB8};
    /* slice headers a decoder could not start a picture from: decoded, not skipped */
    const uint8_t header_missing[] = {0, 0, 0, 1, 0x01};
    const uint8_t slice_type_10[] = {0, 0, 0, 3, 0x01, 0x8B, 0x80};          /* ue 0, ue 10, ue 0 */
    const uint8_t all_zero_header[] = {0, 0, 0, 6, 0x01, 0, 0, 0, 0, 0};
    const uint8_t mb_too_far[] = {0, 0, 0, 6, 0x01, 0x00, 0x00, 0x7F, 0xFF, 0xF8}; /* ue 262142 */
    assert_int_equal(h264_packet_disposable(header_missing, sizeof header_missing, 4), 0);
    assert_int_equal(h264_packet_disposable(slice_type_10, sizeof slice_type_10, 4), 0);
    assert_int_equal(h264_packet_disposable(all_zero_header, sizeof all_zero_header, 4), 0);
    assert_int_equal(h264_packet_disposable(mb_too_far, sizeof mb_too_far, 4), 0);
    assert_int_equal(h264_packet_disposable(nonref_slice, sizeof nonref_slice, 4), 1);
    assert_int_equal(h264_packet_disposable(ref_slice, sizeof ref_slice, 4), 0);
    assert_int_equal(h264_packet_disposable(idr, sizeof idr, 4), 0);
    assert_int_equal(h264_packet_disposable(aud_then_nonref, sizeof aud_then_nonref, 4), 1);
    assert_int_equal(h264_packet_disposable(sei_then_nonref, sizeof sei_then_nonref, 4), 0);
    assert_int_equal(h264_packet_disposable(sps_then_nonref, sizeof sps_then_nonref, 4), 0);
    assert_int_equal(h264_packet_disposable(two_nonref_slices, sizeof two_nonref_slices, 4), 1);
    assert_int_equal(h264_packet_disposable(nonref_then_ref, sizeof nonref_then_ref, 4), 0);
    assert_int_equal(h264_packet_disposable(aud_only, sizeof aud_only, 4), 0);
    assert_int_equal(h264_packet_disposable(overlong, sizeof overlong, 4), 0);
    assert_int_equal(h264_packet_disposable(zero_length, sizeof zero_length, 4), 0);
    assert_int_equal(h264_packet_disposable(cut_prefix, sizeof cut_prefix, 4), 0);
    assert_int_equal(h264_packet_disposable(forbidden_bit, sizeof forbidden_bit, 4), 0);
    assert_int_equal(h264_packet_disposable(two_byte_prefix, sizeof two_byte_prefix, 2), 1);
    assert_int_equal(h264_packet_disposable(two_byte_prefix, sizeof two_byte_prefix, 4), 0);
    assert_int_equal(h264_packet_disposable(nonref_slice, 0, 4), 0);
    assert_int_equal(h264_packet_disposable(NULL, 5, 4), 0);
    assert_int_equal(h264_packet_disposable(nonref_slice, sizeof nonref_slice, 3), 0);

    /* avcC: version 1, ..., lengthSizeMinusOne in byte 4's low bits (0xFF -> 4 bytes) */
    const uint8_t avcc[] = {1, 0x64, 0, 0x1F, 0xFF, 0xE1, 0};
    const uint8_t avcc_two[] = {1, 0x64, 0, 0x1F, 0xFD, 0xE1, 0};
    const uint8_t avcc_reserved[] = {1, 0x64, 0, 0x1F, 0xFE, 0xE1, 0};
    const uint8_t annex_b[] = {0, 0, 0, 1, 0x67, 0x64, 0};
    assert_int_equal(h264_avcc_length_size(avcc, sizeof avcc), 4);
    assert_int_equal(h264_avcc_length_size(avcc_two, sizeof avcc_two), 2);
    assert_int_equal(h264_avcc_length_size(avcc_reserved, sizeof avcc_reserved), 0);
    assert_int_equal(h264_avcc_length_size(annex_b, sizeof annex_b), 0);
    assert_int_equal(h264_avcc_length_size(avcc, 6), 0);
}

/* Leaving unused, unreferenced H.264 frames undecoded changes no output frame: every H.264
 * clip in ../shared, down to 100, 30 and 7 frames, against the full decode. The Kinetics
 * clips have non-reference B-frames, so the skipping path really runs on them. */
static void skipping_unused_frames_changes_no_output(void **state)
{
    (void)state;
    const char *clips[] = {
        "data/videos/kinetics400/R6llTwEh07w.mp4", "data/videos/kinetics400/SOX5yA1l24A.mp4",
        "data/videos/kinetics400/abseiling_k400.mp4", "data/videos/kinetics400/mmaction2_demo.mp4",
        "data/videos/kinetics400_unverified/mmaction2_demo_2020-06.mp4",
        "data/videos/kinetics400_unverified/mmaction2_rawvideo_part_0.mp4",
        "data/videos/kinetics400_unverified/mmaction2_tests_test.mp4", "data/videos/reference/carving_ice_rpi.mp4",
    };
    const int counts[] = {100, 30, 7};
    int clip_count = test_sanitized() ? 2 : (int)(sizeof clips / sizeof clips[0]);
    for (int c = 0; c < clip_count; c++) {
        int skipped = 0;
        for (int k = 0; k < 3; k++)
            skipped += check_selection_matches_full_decode(shared_path(clips[c]), counts[k], VB_RESIZE_CROP);
        if (strstr(clips[c], "/kinetics400/") && skipped == 0)
            fail_msg("%s: no frame was skipped; the skipping path did not run", clips[c]);
    }
    /* one decoder thread (no frame threading), as the benchmark and parallel evaluation run */
    decoder_threads = 1;
    for (int c = 0; c < 2; c++)
        assert_true(check_selection_matches_full_decode(shared_path(clips[c]), 100, VB_RESIZE_CROP) > 0);
    decoder_threads = 0;
}

/* Encodes testsrc2 with ffmpeg's libx264 (4 s, 25 fps, 100 frames) into the scratch dir. */
static const char *encode_test_clip(const char *name, const char *options)
{
    const char *path = temp_path(name);
    char command[1024];
    snprintf(command, sizeof command,
             "ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=176x144:rate=25 -t 4 -pix_fmt yuv420p "
             "-c:v libx264 %s '%s'", options, path);
    if (system(command) != 0)
        fail_msg("could not encode %s with ffmpeg (libx264)", name);
    return path;
}

/* The same on encoder structures the shared clips lack: B-pyramids (B-frames that are
 * references), open GOPs with several slices, interlaced coding, Matroska, no B-frames,
 * and an MP4 edit list that starts mid-GOP (decoded but not shown frames: no skipping). */
static void skipping_is_exact_on_other_h264_structures(void **state)
{
    (void)state;
    const char *pyramid = encode_test_clip("pyramid.mp4", "-preset medium -bf 3 -x264-params b-pyramid=normal");
    assert_true(check_selection_matches_full_decode(pyramid, 30, VB_RESIZE_CROP) > 0);
    const char *open_gop = encode_test_clip(
        "open_gop.mp4", "-preset medium -bf 2 -x264-params b-pyramid=none:open-gop=1:keyint=20:slices=3");
    assert_true(check_selection_matches_full_decode(open_gop, 30, VB_RESIZE_CROP) > 0);
    const char *no_b = encode_test_clip("no_b.mp4", "-preset ultrafast -bf 0");
    assert_int_equal(check_selection_matches_full_decode(no_b, 30, VB_RESIZE_CROP), 0);
    check_selection_matches_full_decode(
        encode_test_clip("interlaced.mp4", "-preset medium -bf 3 -flags +ildct+ilme -x264-params interlaced=1"),
        30, VB_RESIZE_CROP);
    check_selection_matches_full_decode(encode_test_clip("pyramid.mkv", "-preset medium -bf 3"), 7,
                                        VB_RESIZE_PAD);

    char command[2048];
    const char *cut = temp_path("cut.mp4");
    snprintf(command, sizeof command, "ffmpeg -nostdin -v error -y -ss 1.3 -i '%s' -c copy '%s'", pyramid, cut);
    if (system(command) != 0)
        fail_msg("could not cut %s with ffmpeg", pyramid);
    assert_int_equal(check_selection_matches_full_decode(cut, 30, VB_RESIZE_CROP), 0);
}

/* A stream bigger than the read-ahead budget is not skipped but still decoded whole: the
 * queued packets first, then the demuxer's. And with the whole stream queued, the packet
 * count is the frame count and every output frame knows its display position. */
static void read_ahead_within_and_beyond_its_budget(void **state)
{
    (void)state;
    const char *clip = shared_path("data/videos/kinetics400/abseiling_k400.mp4"); /* 250 frames, ~800 KB */
    video_decoder dec;
    vb_error err = {0};
    assert_int_equal(decoder_open(&dec, clip, 1, 60, &err), VB_OK);
    assert_int_equal(decoder_prefetch(&dec, 50000, &err), 0); /* budget: a few packets */
    assert_true(dec.queue_count > 0 && dec.queue_count < 250);
    int got, frames = 0;
    while ((got = decoder_next(&dec, &err)) > 0) {
        frames++;
        av_frame_unref(dec.frame);
    }
    assert_int_equal(got, 0);
    assert_int_equal(frames, 250);
    assert_int_equal(dec.skipped_frames, 0);
    decoder_close(&dec);

    assert_int_equal(decoder_open(&dec, clip, 1, 60, &err), VB_OK);
    assert_int_equal(decoder_prefetch(&dec, (size_t)16 << 20, &err), 1);
    assert_int_equal(dec.queue_count, 250);
    int last = -1;
    while ((got = decoder_next(&dec, &err)) > 0) {
        assert_int_equal(dec.frame_display_index, last + 1); /* nothing dropped: 0, 1, 2, ... */
        last = dec.frame_display_index;
        av_frame_unref(dec.frame);
    }
    assert_int_equal(last, 249);
    assert_false(dec.order_broken);
    decoder_close(&dec);
}

static void fps_then_resample_on_a_real_clip(void **state)
{
    (void)state;
    /* 25 fps, 250 frames -> 5 fps keeps 50 frames (every 5th) */
    vb_video_options options;
    vb_video_options_init(&options);
    options.size = 32;
    vb_frames all = decode_or_fail(shared_path("data/videos/kinetics400/abseiling_k400.mp4"), &options);
    options.target_fps = 5;
    vb_frames at5 = decode_or_fail(shared_path("data/videos/kinetics400/abseiling_k400.mp4"), &options);
    assert_int_equal(at5.num_frames, 50);
    assert_true(at5.fps > 24.99 && at5.fps < 25.01);
    size_t frame_bytes = 32 * 32 * 3;
    for (int i = 0; i < 50; i++)
        assert_memory_equal(at5.frames + frame_bytes * i, all.frames + frame_bytes * (5 * i), frame_bytes);
    vb_frames_free(&all);
    vb_frames_free(&at5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(downsampling_follows_floor_rule),
        cmocka_unit_test(upsampling_repeats_frames),
        cmocka_unit_test(fps_selection_keeps_nearest_frames),
        cmocka_unit_test(selected_decode_equals_full_decode),
        cmocka_unit_test(fps_then_resample_on_a_real_clip),
        cmocka_unit_test(disposable_h264_packets_are_told_apart),
        cmocka_unit_test(skipping_unused_frames_changes_no_output),
        cmocka_unit_test(skipping_is_exact_on_other_h264_structures),
        cmocka_unit_test(read_ahead_within_and_beyond_its_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
