/* Frame selection: the seed's resampling rule (output i = input floor(i * count / n)) for up-
 * and down-sampling, the --fps selection, and that decoding with a selection (which skips
 * converting the dropped frames) gives exactly the frames of a full decode indexed by the
 * rule -- the plain path is the reference for the skipping one. */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#include "vidbench/video.h"
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
    vb_select_fps(30, 30.0, 5.0, kept, &n);
    assert_int_equal(n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(kept[i], 6 * i);
    /* 25 fps -> 10 fps: nearest to k * 2.5 -> 0, 3 (2.5 rounds up), 5, 8, 10 */
    vb_select_fps(11, 25.0, 10.0, kept, &n);
    const int expected[5] = {0, 3, 5, 8, 10};
    assert_int_equal(n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(kept[i], expected[i]);
    /* a target at or above the source rate keeps everything; so does an unknown rate */
    vb_select_fps(7, 25.0, 30.0, kept, &n);
    assert_int_equal(n, 7);
    vb_select_fps(7, 0.0, 5.0, kept, &n);
    assert_int_equal(n, 7);
}

static vb_clip decode_or_fail(const char *path, const vb_video_options *options)
{
    vb_clip clip;
    vb_error err = {0};
    if (vb_video_decode_clip(path, options, &clip, &err))
        fail_msg("%s", err.message);
    return clip;
}

/* Selected decode == full decode indexed by vb_resample_indices, frame by frame. */
static void check_selection_matches_full_decode(const char *path, int num_frames, vb_resize_mode mode)
{
    vb_video_options options;
    vb_video_options_init(&options);
    options.size = 64;
    options.resize = mode;
    vb_clip all = decode_or_fail(path, &options);
    options.num_frames = num_frames;
    vb_clip picked = decode_or_fail(path, &options);
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
    vb_clip_free(&all);
    vb_clip_free(&picked);
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

static void fps_then_resample_on_a_real_clip(void **state)
{
    (void)state;
    /* 25 fps, 250 frames -> 5 fps keeps 50 frames (every 5th) */
    vb_video_options options;
    vb_video_options_init(&options);
    options.size = 32;
    vb_clip all = decode_or_fail(shared_path("data/videos/kinetics400/abseiling_k400.mp4"), &options);
    options.target_fps = 5;
    vb_clip at5 = decode_or_fail(shared_path("data/videos/kinetics400/abseiling_k400.mp4"), &options);
    assert_int_equal(at5.num_frames, 50);
    assert_true(at5.fps > 24.99 && at5.fps < 25.01);
    size_t frame_bytes = 32 * 32 * 3;
    for (int i = 0; i < 50; i++)
        assert_memory_equal(at5.frames + frame_bytes * i, all.frames + frame_bytes * (5 * i), frame_bytes);
    vb_clip_free(&all);
    vb_clip_free(&at5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(downsampling_follows_floor_rule),
        cmocka_unit_test(upsampling_repeats_frames),
        cmocka_unit_test(fps_selection_keeps_nearest_frames),
        cmocka_unit_test(selected_decode_equals_full_decode),
        cmocka_unit_test(fps_then_resample_on_a_real_clip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
