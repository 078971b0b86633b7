/* vidbench bench movinet: MoViNet-A0-Stream frames/s for each kernel level and thread count,
 * measured side by side in one run on the same frames (a decoded clip or synthetic frames),
 * with the ratio to the first row. Not a test: the suite checks the results. */
#include "bench.h"
#include "../cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vidbench/movinet.h"
#include "vidbench/tflite.h"
#include "vidbench/video.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vidbench bench movinet [--model FILE.tflite] [--clip VIDEO] [--frames N] [--repeat N]\n"
            "                              [--threads LIST] [--levels LIST]\n\n"
            "Frames/s of a MoViNet stream model (default: $VB_SHARED or ../shared\n"
            "models/movinet-a0-stream-int8-k600/movinet_a0_stream_int8.tflite) on the frames of VIDEO\n"
            "(whole frame stretched to the model's size) or on synthetic frames.\n"
            "  --frames N      frames per timed run, default 150 (the plain C level runs 1/10 of them)\n"
            "  --repeat N      timed runs per row after a warm-up, best reported, default 3\n"
            "  --threads LIST  e.g. 1,2; 0 = the library default, VIDBENCH_THREADS or all cores (default 1,2,0)\n"
            "  --levels LIST   kernel levels: 0 plain C, 1 AVX2, 2 AVX-512 VNNI; default: the best\n"
            "                  this CPU has, then 0\n");
}

int bench_movinet(int argc, char **argv)
{
    char default_model[4096];
    const char *shared = getenv("VB_SHARED");
    snprintf(default_model, sizeof default_model, "%s/models/movinet-a0-stream-int8-k600/movinet_a0_stream_int8.tflite",
             shared ? shared : "../shared");
    const char *model_path = default_model, *clip_path = NULL;
    long frames = 150, repeat = 3;
    int threads[8] = {1, 2, 0}, n_threads = 3;   /* 0: the library default (all cores) */
    int levels[4] = {vb_tflite_cpu_simd_level(), 0}, n_levels = levels[0] > 0 ? 2 : 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (!strcmp(a, "--model") && v) {
            model_path = v;
            i++;
        } else if (!strcmp(a, "--clip") && v) {
            clip_path = v;
            i++;
        } else if (!strcmp(a, "--frames") && v) {
            if (cli_parse_int(v, 1, 100000, &frames))
                return cli_usage_error("bench movinet", "--frames: expected 1..100000, got %s", v);
            i++;
        } else if (!strcmp(a, "--repeat") && v) {
            if (cli_parse_int(v, 1, 100, &repeat))
                return cli_usage_error("bench movinet", "--repeat: expected 1..100, got %s", v);
            i++;
        } else if (!strcmp(a, "--threads") && v) {
            if ((n_threads = bench_parse_int_list(v, 0, 64, threads, 8)) < 0)
                return cli_usage_error("bench movinet", "--threads: expected a list like 1,2,0 (0 = default), got %s", v);
            i++;
        } else if (!strcmp(a, "--levels") && v) {
            if ((n_levels = bench_parse_int_list(v, 0, 2, levels, 4)) < 0)
                return cli_usage_error("bench movinet", "--levels: expected a list of 0, 1, 2, got %s", v);
            i++;
        } else {
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }

    vb_error err = {0};
    vb_movinet *probe = NULL;
    if (vb_movinet_open(model_path, 1, &probe, &err))
        return cli_fail(&err);
    const int size = vb_movinet_input_size(probe), classes = vb_movinet_num_classes(probe);
    vb_movinet_free(&probe);
    const size_t frame_bytes = (size_t)size * size * 3;

    /* The frames: a clip's (cycled), or a deterministic moving gradient. */
    vb_frames clip = {0};
    uint8_t *synthetic = NULL;
    const uint8_t *pool;
    int pool_frames;
    if (clip_path) {
        vb_video_options options;
        vb_video_options_init(&options);
        options.size = size;
        options.resize = VB_RESIZE_STRETCH;
        if (vb_video_decode_clip(clip_path, &options, &clip, &err))
            return cli_fail(&err);
        pool = clip.frames;
        pool_frames = clip.num_frames;
    } else {
        pool_frames = 16;
        synthetic = malloc(frame_bytes * (size_t)pool_frames);
        if (!synthetic) {
            fprintf(stderr, "vidbench bench movinet: out of memory\n");
            return CLI_EXIT_FAILURE;
        }
        for (int f = 0; f < pool_frames; f++)
            for (size_t i = 0; i < frame_bytes; i++)
                synthetic[(size_t)f * frame_bytes + i] = (uint8_t)((i / 3 % (size_t)size) * 255 / size + f * 9 + (i % 3) * 60);
        pool = synthetic;
        pool_frames = 16;
    }
    float *logits = malloc((size_t)classes * sizeof(float));

    printf("model: %s\nframes: %s (%dx%d); %ld frames per timed run (plain C: 1/10), best of %ld after a warm-up\n",
           model_path, clip_path ? clip_path : "synthetic", size, size, frames, repeat);
    printf("%-14s %8s %10s %10s %8s\n", "kernels", "threads", "frames/s", "ms/frame", "ratio");
    static const char *level_names[] = {"plain C", "AVX2", "AVX-512 VNNI"};
    /* Every configuration is opened first and the timed runs interleave (run r of each row,
     * then run r+1...), so that a machine whose load changes treats all rows alike. */
    enum { MAX_ROWS = 32 };
    vb_movinet *models[MAX_ROWS] = {0};
    int row_level[MAX_ROWS], row_threads[MAX_ROWS], row_default[MAX_ROWS];
    double best[MAX_ROWS];
    int rows = 0, rc = CLI_EXIT_OK;
    for (int li = 0; li < n_levels && rc == CLI_EXIT_OK; li++)
        for (int ti = 0; ti < n_threads && rows < MAX_ROWS; ti++) {
            vb_movinet *m = NULL;
            if (vb_movinet_open(model_path, threads[ti], &m, &err)) {
                rc = cli_fail(&err);
                break;
            }
            if (vb_movinet_set_simd_level(m, levels[li]) != levels[li]) {
                printf("%-14s %8d %10s   (not supported by this CPU)\n", level_names[levels[li]], threads[ti], "-");
                vb_movinet_free(&m);
                continue;
            }
            models[rows] = m;
            row_level[rows] = levels[li];
            row_threads[rows] = vb_movinet_threads(m);   /* what the interpreter resolved */
            row_default[rows] = threads[ti] == 0;
            best[rows] = 1e30;
            rows++;
        }
    for (long r = 0; r <= repeat && rc == CLI_EXIT_OK; r++)
        for (int row = 0; row < rows && rc == CLI_EXIT_OK; row++) {
            const long n = row_level[row] == 0 ? (frames + 9) / 10 : frames;
            const long todo = r == 0 ? (n < 8 ? n : 8) : n;   /* run 0 warms caches and threads up */
            vb_movinet_reset(models[row]);
            const double t0 = bench_seconds();
            for (long f = 0; f < todo; f++)
                if (vb_movinet_step(models[row], pool + (size_t)(f % pool_frames) * frame_bytes, logits, &err)) {
                    rc = cli_fail(&err);
                    break;
                }
            const double per_frame = (bench_seconds() - t0) / (double)todo;
            if (r > 0 && per_frame < best[row])
                best[row] = per_frame;
        }
    for (int row = 0; row < rows && rc == CLI_EXIT_OK; row++) {
        const double fps = 1.0 / best[row];
        char shown[24];
        snprintf(shown, sizeof shown, row_default[row] ? "%d (def)" : "%d", row_threads[row]);
        printf("%-14s %8s %10.1f %10.3f %7.2fx\n", level_names[row_level[row]], shown, fps,
               1000.0 * best[row], best[0] / best[row]);
    }
    for (int row = 0; row < rows; row++)
        vb_movinet_free(&models[row]);
    free(logits);
    free(synthetic);
    vb_frames_free(&clip);
    return rc;
}
