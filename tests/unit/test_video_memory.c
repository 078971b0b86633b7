/* Memory bound of the streaming decoder: decoding the 1080p NTU clip to 224x224 keeps at most
 * one full-resolution frame beyond the decoder's own references, so peak RSS grows by no more
 * than 64 MiB above the output clip (measured from this process's RSS before decoding). */
#include "testlib.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "vidbench/video.h"

static double current_rss_mib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * 4096.0 / (1024 * 1024);
}

static double peak_rss_mib(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss / 1024.0;
}

static void decoding_1080p_stays_within_64_mib_of_the_output(void **state)
{
    (void)state;
    const char *path = shared_path("data/videos/other/S001C001P001R001A001_rgb.avi");
    double before = current_rss_mib();
    vb_video_options options;
    vb_video_options_init(&options);
    vb_frames clip;
    vb_error err = {0};
    if (vb_video_decode_clip(path, &options, &clip, &err))
        fail_msg("%s", err.message);
    double output_mib = (double)clip.num_frames * clip.height * clip.width * 3 / (1024 * 1024);
    double growth = peak_rss_mib() - before;
    print_message("1080p clip: %d frames, output %.1f MiB, RSS before %.1f MiB, peak growth %.1f MiB, "
                  "%.1f MiB above the output\n", clip.num_frames, output_mib, before, growth,
                  growth - output_mib);
    assert_int_equal(clip.num_frames, 103);
    assert_int_equal(clip.width, 224);
    /* ASan keeps freed memory in quarantine and shadows everything: the bound is for real builds */
    if (!test_sanitized() && growth - output_mib > 64.0)
        fail_msg("peak RSS grew %.1f MiB above the %.1f MiB output (limit 64)", growth - output_mib, output_mib);
    vb_frames_free(&clip);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decoding_1080p_stays_within_64_mib_of_the_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
