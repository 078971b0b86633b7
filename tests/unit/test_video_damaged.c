/* Issue 13: on a bit-flipped H.264 clip, frame-threaded decoding conceals the damage with
 * whatever neighbouring frames are ready, so the full decode and a --num-frames selection
 * differed from run to run (7 of 8 runs on this fixture before the fix). A damaged stream is
 * now decoded again with one thread: every run, full or selected, equals the single-threaded
 * full decode indexed by the resampling rule. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "vidbench/video.h"

#define SOURCE "data/videos/kinetics400/abseiling_k400.mp4"
#define SELECTED 16
#define RUNS 4

/* 40 single-bit flips in the sample data (mdat starts at byte 44, the index is at the end),
 * from a fixed LCG so the fixture is the same on every machine. */
static const char *write_bit_flipped_clip(void)
{
    char *bytes = NULL;
    size_t size = 0;
    vb_error err = {0};
    if (fs_read_file(shared_path(SOURCE), 64u << 20, &bytes, &size, &err))
        fail_msg("%s", err.message);
    assert_true(size > 100000);
    unsigned x = 7;
    for (int k = 0; k < 40; k++) {
        x = x * 1103515245u + 12345u;
        size_t at = 2044 + (x >> 4) % (size - 3044);
        bytes[at] ^= (char)(1u << (x % 8));
    }
    const char *path = temp_path("bit_flipped.mp4");
    if (fs_write_file_atomic(path, bytes, size, &err))
        fail_msg("%s", err.message);
    free(bytes);
    return path;
}

static void decode(const char *path, int threads, int num_frames, vb_frames *clip)
{
    vb_video_options options;
    vb_video_options_init(&options);
    options.size = 64;
    options.threads = threads;
    options.num_frames = num_frames;
    vb_error err = {0};
    if (vb_video_decode_clip(path, &options, clip, &err))
        fail_msg("%s", err.message);
}

static void damaged_stream_decodes_the_same_with_threads(void **state)
{
    (void)state;
    const char *path = write_bit_flipped_clip();
    vb_frames reference, clean;
    decode(path, 1, 0, &reference);
    decode(shared_path(SOURCE), 1, 0, &clean);
    const size_t frame_bytes = 64 * 64 * 3;
    /* the fault is real: same frame count, but the damage shows in the pixels */
    assert_int_equal(reference.num_frames, clean.num_frames);
    assert_true(memcmp(reference.frames, clean.frames, frame_bytes * (size_t)clean.num_frames) != 0);
    vb_frames_free(&clean);
    int indices[SELECTED];
    vb_resample_indices(reference.num_frames, SELECTED, indices);
    for (int run = 0; run < RUNS; run++) {
        vb_frames full, selected;
        decode(path, 3, 0, &full);
        decode(path, 3, SELECTED, &selected);
        assert_int_equal(full.num_frames, reference.num_frames);
        if (memcmp(full.frames, reference.frames, frame_bytes * (size_t)full.num_frames))
            fail_msg("run %d: the 3-thread full decode differs from the 1-thread one", run);
        assert_int_equal(selected.num_frames, SELECTED);
        for (int i = 0; i < SELECTED; i++)
            if (memcmp(selected.frames + frame_bytes * (size_t)i,
                       reference.frames + frame_bytes * (size_t)indices[i], frame_bytes))
                fail_msg("run %d: selected frame %d differs from full-decode frame %d", run, i, indices[i]);
        vb_frames_free(&full);
        vb_frames_free(&selected);
    }
    vb_frames_free(&reference);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(damaged_stream_decodes_the_same_with_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
