/* Bad and unusual input (acceptance 3): every file in ../shared/data/robustness gives
 * frames or an error naming the file; the documented outcome of each known file; and
 * made-up damage: empty, missing, directory, not a video, audio only, truncated, time and
 * frame limits, too short. Runs under ASan/UBSan too. */
#include "testlib.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vidbench/video.h"
#include "common/fsutil.h"

static int decode_small(const char *path, vb_video_options *options, vb_frames *clip, vb_error *err)
{
    vb_video_options local;
    if (!options) {
        vb_video_options_init(&local);
        local.size = 32;
        local.max_seconds = 60;
        options = &local;
    }
    memset(err, 0, sizeof *err);
    return vb_video_decode_clip(path, options, clip, err);
}

/* frames, or an error whose message names the file; never a half-filled clip */
static void check_frames_or_named_error(const char *path)
{
    vb_frames clip;
    vb_error err;
    int rc = decode_small(path, NULL, &clip, &err);
    if (rc == VB_OK) {
        if (clip.num_frames <= 0 || !clip.frames)
            fail_msg("%s: success without frames", path);
        vb_frames_free(&clip);
    } else {
        if (!strstr(err.message, path))
            fail_msg("%s: error message does not name the file: %s", path, err.message);
        if (clip.frames || clip.num_frames)
            fail_msg("%s: failed but left frames in the clip", path);
    }
    vb_video_info info;
    rc = vb_video_probe(path, 1, &info, &err);
    if (rc != VB_OK && !strstr(err.message, path))
        fail_msg("%s: probe error does not name the file: %s", path, err.message);
}

static void walk(const char *dir, int *files)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            walk(path, files);
        else if (!strstr(e->d_name, "PROVENANCE") && !strstr(e->d_name, ".txt") && !strstr(e->d_name, ".md")) {
            check_frames_or_named_error(path);
            (*files)++;
        }
    }
    closedir(d);
}

static void every_robustness_file_gives_frames_or_a_named_error(void **state)
{
    (void)state;
    int files = 0;
    walk(shared_path("data/robustness"), &files);
    assert_true(files >= 19); /* the 19 files documented in ../shared/data/robustness */
}

static void known_files_have_their_documented_outcome(void **state)
{
    (void)state;
    /* outcomes from ffprobe of each file (see ../shared/data/PROVENANCE.tsv) */
    const struct { const char *path; int rc; int frames; } cases[] = {
        {"data/robustness/decord/unordered.mov", VB_OK, 4},
        {"data/robustness/decord/video_0.mov", VB_OK, 3},
        {"data/robustness/decord/video_180.mov", VB_OK, 3},
        {"data/robustness/mmaction2_demo_skeleton_vfr.mp4", VB_OK, 72},
        {"data/robustness/mp4parse/minimal.mp4", VB_OK, 1},
        {"data/robustness/mp4parse/tiny_av1.mp4", VB_OK, 1},
        {"data/robustness/mp4parse/hevc_white_frame.mp4", VB_OK, 1},
        {"data/robustness/mp4parse/h264_white_frame_sar_16_9.mp4", VB_OK, 1},
        {"data/robustness/mp4parse/video_rotation_90.mp4", VB_OK, 1},
        {"data/robustness/torchcodec/h265_video.mp4", VB_OK, 10},
        {"data/robustness/torchcodec/h264_10bits.mp4", VB_OK, 30},
        {"data/robustness/torchcodec/bt709_full_range.mp4", VB_OK, 30},
        {"data/robustness/mp4parse/chunk_out_of_range.mp4", VB_EFORMAT, 0},   /* contradictory STSC/STCO */
        {"data/robustness/mp4parse/bipbop_nonfragment_header.mp4", VB_EDECODE, 0}, /* header only */
        {"data/robustness/mp4parse/invalid_userdata.mp4", VB_EDECODE, 0},     /* header only */
        {"data/robustness/mp4parse/zero_empty_stsc.mp4", VB_EDECODE, 0},      /* empty sample-to-chunk */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vb_frames clip;
        vb_error err;
        const char *path = shared_path(cases[i].path);
        int rc = decode_small(path, NULL, &clip, &err);
        if (rc != cases[i].rc)
            fail_msg("%s: expected %s, got %s (%s)", cases[i].path, vb_strerror(cases[i].rc), vb_strerror(rc),
                     err.message);
        if (rc == VB_OK) {
            if (clip.num_frames != cases[i].frames)
                fail_msg("%s: %d frames, expected %d", cases[i].path, clip.num_frames, cases[i].frames);
            vb_frames_free(&clip);
        }
    }
}

static void corrupt_frames_are_counted_and_decoding_goes_on(void **state)
{
    (void)state;
    /* decord's corrupted.mp4: 50 samples, one damaged mid-stream (ffprobe counts 49 frames) */
    vb_frames clip;
    vb_error err;
    assert_int_equal(decode_small(shared_path("data/robustness/decord/corrupted.mp4"), NULL, &clip, &err), VB_OK);
    assert_int_equal(clip.lost_frames, 1);
    assert_int_equal(clip.num_frames, 49);
    assert_int_equal(clip.decoded_frames, 49);
    vb_frames_free(&clip);
}

static void missing_empty_directory_and_text_are_clear_errors(void **state)
{
    (void)state;
    vb_frames clip;
    vb_error err;
    assert_int_equal(decode_small("/nonexistent/clip.mp4", NULL, &clip, &err), VB_ENOTFOUND);
    assert_non_null(strstr(err.message, "/nonexistent/clip.mp4"));

    const char *empty = temp_path("empty.mp4");
    assert_int_equal(fs_write_file_atomic(empty, "", 0, &err), VB_OK);
    assert_int_equal(decode_small(empty, NULL, &clip, &err), VB_EFORMAT);
    assert_non_null(strstr(err.message, "empty"));

    assert_int_not_equal(decode_small(shared_path("data/robustness"), NULL, &clip, &err), VB_OK);
    assert_non_null(strstr(err.message, "directory"));

    const char *fifo = temp_path("pipe.mp4"); /* would block in open(): refused up front */
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(decode_small(fifo, NULL, &clip, &err), VB_EIO);
    assert_non_null(strstr(err.message, "not a regular file"));
    unlink(fifo);

    const char *text = temp_path("notes.mp4");
    const char *words = "this is not a video, just some words in a file with a video name\n";
    assert_int_equal(fs_write_file_atomic(text, words, strlen(words), &err), VB_OK);
    int rc = decode_small(text, NULL, &clip, &err);
    assert_true(rc == VB_EFORMAT || rc == VB_ENOTFOUND);
    assert_non_null(strstr(err.message, text));
}

static void audio_only_file_has_no_video_stream(void **state)
{
    (void)state;
    /* a valid 8 kHz mono 16-bit WAV: 44-byte RIFF header + 0.1 s of silence */
    unsigned char wav[44 + 1600] = {0};
    memcpy(wav, "RIFF", 4);
    uint32_t riff = sizeof wav - 8, fmt_len = 16, rate = 8000, byte_rate = 16000, data_len = 1600;
    uint16_t pcm = 1, channels = 1, align = 2, bits = 16;
    memcpy(wav + 4, &riff, 4);
    memcpy(wav + 8, "WAVEfmt ", 8);
    memcpy(wav + 16, &fmt_len, 4);
    memcpy(wav + 20, &pcm, 2);
    memcpy(wav + 22, &channels, 2);
    memcpy(wav + 24, &rate, 4);
    memcpy(wav + 28, &byte_rate, 4);
    memcpy(wav + 32, &align, 2);
    memcpy(wav + 34, &bits, 2);
    memcpy(wav + 36, "data", 4);
    memcpy(wav + 40, &data_len, 4);
    const char *path = temp_path("silence.wav");
    vb_error err;
    assert_int_equal(fs_write_file_atomic(path, wav, sizeof wav, &err), VB_OK);
    vb_frames clip;
    assert_int_equal(decode_small(path, NULL, &clip, &err), VB_ENOTFOUND);
    assert_non_null(strstr(err.message, "no video stream"));
}

static void truncated_copies_give_frames_or_errors(void **state)
{
    (void)state;
    char *data;
    size_t size;
    vb_error err;
    assert_int_equal(fs_read_file(shared_path("data/videos/kinetics400/R6llTwEh07w.mp4"), 64u << 20, &data,
                                  &size, &err), VB_OK);
    const double fractions[] = {0.001, 0.02, 0.3, 0.7, 0.97};
    for (size_t i = 0; i < sizeof fractions / sizeof fractions[0]; i++) {
        const char *path = temp_path("truncated.mp4");
        assert_int_equal(fs_write_file_atomic(path, data, (size_t)(size * fractions[i]), &err), VB_OK);
        check_frames_or_named_error(path);
    }
    /* random bytes after a real header: the moov is at the start of this file */
    srand(3);
    for (size_t i = size / 2; i < size; i++)
        data[i] = (char)rand();
    const char *path = temp_path("scrambled.mp4");
    assert_int_equal(fs_write_file_atomic(path, data, size, &err), VB_OK);
    check_frames_or_named_error(path);
    free(data);
}

static void limits_stop_pathological_work(void **state)
{
    (void)state;
    vb_video_options options;
    vb_video_options_init(&options);
    options.size = 32;
    vb_frames clip;
    vb_error err;
    const char *clip_path = shared_path("data/videos/kinetics400/abseiling_k400.mp4");
    options.max_frames = 10;
    assert_int_equal(decode_small(clip_path, &options, &clip, &err), VB_ELIMIT);
    assert_non_null(strstr(err.message, "max_frames"));
    options.max_frames = 0;
    options.max_seconds = 1e-6;
    assert_int_equal(decode_small(clip_path, &options, &clip, &err), VB_ELIMIT);
    assert_non_null(strstr(err.message, clip_path));
    options.max_seconds = 0;
    options.min_frames = 300; /* the seed's check, here above the clip's 250 frames */
    assert_int_equal(decode_small(clip_path, &options, &clip, &err), VB_ETOOSHORT);
    assert_non_null(strstr(err.message, "250 frames"));
    options.min_frames = 250;
    assert_int_equal(decode_small(clip_path, &options, &clip, &err), VB_OK);
    vb_frames_free(&clip);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_robustness_file_gives_frames_or_a_named_error),
        cmocka_unit_test(known_files_have_their_documented_outcome),
        cmocka_unit_test(corrupt_frames_are_counted_and_decoding_goes_on),
        cmocka_unit_test(missing_empty_directory_and_text_are_clear_errors),
        cmocka_unit_test(audio_only_file_has_no_video_stream),
        cmocka_unit_test(truncated_copies_give_frames_or_errors),
        cmocka_unit_test(limits_stop_pathological_work),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
