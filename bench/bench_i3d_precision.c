/* vidbench bench i3d --precision bf16|int8: the same I3D (random full-width weights unless
 * --weights) in fp32 and in the asked precision, interleaved round by round in one process, so
 * the ratio is measured side by side on a shared machine. int8 runs a file calibrated first on
 * one random clip (or --int8-weights, a `vidbench model quantize` file of the same net). Prints
 * the oneDNN ISA each ran with. Not a test. */
#include "bench.h"
#include "../cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vidbench/i3d.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vidbench bench i3d --precision fp32|bf16|int8 [--frames LIST] [--threads N] [--repeat N]\n"
            "                          [--weights FILE] [--int8-weights FILE]\n\n"
            "fp32 against the asked precision, interleaved, batch 1.\n"
            "  --frames LIST        clip lengths, default 100\n"
            "  --threads N          default 2\n"
            "  --repeat N           timed rounds after one warm-up, default 5 (ms/clip: the median round)\n"
            "  --weights FILE       fp32 weights (default: random, full width, 400 classes)\n"
            "  --int8-weights FILE  the int8 file to time (default: calibrated here on one random clip)\n");
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *values, int n)
{
    qsort(values, (size_t)n, sizeof *values, cmp_double);
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

static float *random_clip(int frames, unsigned seed)
{
    size_t count = (size_t)frames * VB_I3D_INPUT_SIZE * VB_I3D_INPUT_SIZE * 3;
    float *clip = malloc(count * sizeof(float));
    for (size_t i = 0; clip && i < count; i++) {
        seed = seed * 1103515245u + 12345u;
        clip[i] = (float)((seed >> 16) & 255) / 255.0f;
    }
    return clip;
}

static int open_model(const char *path, vb_i3d_precision precision, int threads, vb_i3d **out, vb_error *err)
{
    vb_i3d_options options;
    vb_i3d_options_init(&options);
    options.threads = threads;
    options.precision = precision;
    return vb_i3d_open(path, &options, out, err);
}

/* Calibrates the fp32 model on one random clip of 16 frames (minmax) into path. */
static int calibrate(vb_i3d *fp32, const char *path, vb_error *err)
{
    vb_i3d_calibrator *cal = NULL;
    float *clip = random_clip(16, 99);
    if (!clip)
        return vb_error_set(err, VB_ENOMEM, "bench i3d: out of memory");
    const char *meta[] = {"calibration_clips", "one random clip of 16 frames (bench i3d)"};
    int rc = vb_i3d_calibrator_new(fp32, &cal, err);
    if (!rc)
        rc = vb_i3d_calibrator_add(cal, clip, 1, 16, err);
    if (!rc)
        rc = vb_i3d_calibrator_write(cal, path, VB_I3D_CALIBRATE_MINMAX, meta, 1, err);
    vb_i3d_calibrator_free(&cal);
    free(clip);
    return rc;
}

int bench_i3d_precision(int argc, char **argv)
{
    bench_i3d_args args = {.frames = {100}, .n_frames = 1, .threads = 2, .repeat = 5};
    const char *int8_weights = NULL;
    int usage_rc;
    vb_i3d_precision precision = VB_I3D_PRECISION_FP32;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (bench_i3d_common_option(&args, argc, argv, &i, &usage_rc)) {
            if (usage_rc)
                return usage_rc;
        } else if (!strcmp(a, "--precision") && v) {
            int p = vb_i3d_precision_from_name(v);
            if (p < VB_I3D_PRECISION_FP32)
                return cli_usage_error("bench i3d", "--precision: expected fp32, bf16 or int8, got '%s'", v);
            precision = (vb_i3d_precision)p;
            i++;
        } else if (!strcmp(a, "--int8-weights") && v) {
            int8_weights = argv[++i];
        } else {
            return cli_usage_error("bench i3d", "unknown or incomplete option '%s' (with --precision)", a);
        }
    }
    vb_error err = {0};
    const char *tmp = getenv("TMPDIR");
    char random_path[4096] = "", int8_path[4096] = "";
    if (!args.weights) {
        snprintf(random_path, sizeof random_path, "%s/vidbench-bench-i3d-%ld.safetensors", tmp && *tmp ? tmp : "/tmp",
                 (long)getpid());
        if (vb_i3d_write_random_weights(random_path, 1, 400, 1234, &err))
            return cli_fail(&err);
        args.weights = random_path;
    }
    vb_i3d *models[2] = {NULL, NULL};   /* fp32, then the asked precision */
    int rc = open_model(args.weights, VB_I3D_PRECISION_FP32, (int)args.threads, &models[0], &err);
    if (!rc && precision == VB_I3D_PRECISION_INT8 && !int8_weights) {
        snprintf(int8_path, sizeof int8_path, "%s/vidbench-bench-i3d-int8-%ld.safetensors", tmp && *tmp ? tmp : "/tmp",
                 (long)getpid());
        fprintf(stderr, "calibrating an int8 copy on one random clip ...\n");
        rc = calibrate(models[0], int8_path, &err);
        int8_weights = int8_path;
    }
    if (!rc)
        rc = open_model(precision == VB_I3D_PRECISION_INT8 ? int8_weights : args.weights, precision, (int)args.threads, &models[1],
                        &err);
    if (random_path[0])
        unlink(random_path);
    if (int8_path[0])
        unlink(int8_path);
    if (rc) {
        vb_i3d_free(&models[0]);
        return cli_fail(&err);
    }
    printf("I3D forward, oneDNN backend, batch 1, %ld thread(s), %d classes: fp32 vs %s, interleaved, %ld rounds\n",
           args.threads, vb_i3d_num_classes(models[0]), vb_i3d_precision_name(precision), args.repeat);
    for (int m = 0; m < 2; m++)
        printf("  %s: oneDNN ISA %s, ran %s%s%s\n", m ? vb_i3d_precision_name(precision) : "fp32", vb_i3d_isa(models[m]),
               vb_i3d_precision_name(vb_i3d_get_precision(models[m])), *vb_i3d_note(models[m]) ? " - " : "",
               vb_i3d_note(models[m]));
    if (vb_i3d_get_precision(models[1]) != precision) {
        /* bf16 without AMX: what would run is fp32 again; a "bf16" column would time nothing new */
        printf("\n%s not measured: %s\n", vb_i3d_precision_name(precision), vb_i3d_note(models[1]));
        vb_i3d_free(&models[0]);
        vb_i3d_free(&models[1]);
        return CLI_EXIT_OK;
    }
    printf("\n| T | fp32 ms/clip | %s ms/clip | speed-up | GFLOP/clip | %s GOP/s |\n", vb_i3d_precision_name(precision),
           vb_i3d_precision_name(precision));
    printf("|---:|---:|---:|---:|---:|---:|\n");
    const int classes = vb_i3d_num_classes(models[0]);
    for (int fi = 0; fi < args.n_frames && !rc; fi++) {
        const int t = args.frames[fi];
        float *clip = random_clip(t, 12345);
        float *logits = malloc((size_t)classes * sizeof(float));
        double ms[2][100], ratio[100];
        if (!clip || !logits) {
            rc = vb_error_set(&err, VB_ENOMEM, "bench i3d: out of memory for T=%d", t);
        } else {
            for (int m = 0; m < 2 && !rc; m++)   /* warm-up: plans primitives for this T */
                rc = vb_i3d_forward(models[m], clip, 1, t, logits, &err);
            for (long r = 0; r < args.repeat && !rc; r++) {
                for (int m = 0; m < 2 && !rc; m++) {
                    double t0 = bench_seconds();
                    rc = vb_i3d_forward(models[m], clip, 1, t, logits, &err);
                    ms[m][r] = (bench_seconds() - t0) * 1e3;
                }
                ratio[r] = ms[0][r] / ms[1][r];
            }
        }
        if (!rc) {
            const double gflop = vb_i3d_flops_per_clip(models[0], t) * 1e-9;
            double fp32_ms = median(ms[0], (int)args.repeat), other_ms = median(ms[1], (int)args.repeat);
            printf("| %d | %.0f | %.0f | %.2fx | %.1f | %.0f |\n", t, fp32_ms, other_ms, median(ratio, (int)args.repeat), gflop,
                   gflop / (other_ms * 1e-3));
        }
        free(clip);
        free(logits);
    }
    printf("\nspeed-up: the median over rounds of fp32 ms / %s ms within the round\n", vb_i3d_precision_name(precision));
    vb_i3d_free(&models[0]);
    vb_i3d_free(&models[1]);
    return rc ? cli_fail(&err) : CLI_EXIT_OK;
}
