/* vidbench model quantize: an int8 I3D from an fp32 one and calibration clips, with the
 * agreement of the two on held-back clips (vb_quantize_i3d does the work; this parses and
 * prints). */
#include "cli.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vidbench/classifier.h"
#include "vidbench/models.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vidbench model quantize NAME|--weights FILE --calibration PATH... [-o OUT.safetensors]\n"
            "                               [--holdout PATH...] [--method minmax|percentile|entropy]\n"
            "                               [--num-frames N] [--threads N]\n\n"
            "Calibrates an fp32 I3D on video clips and writes an int8 model (per-output-channel s8\n"
            "weights, u8 activations with calibrated scales; logits stay fp32), then prints how it\n"
            "agrees with fp32 on held-back clips: top-1 agreement, top-5 overlap, mean KL divergence,\n"
            "largest logit error. Run the result with --precision int8 (or auto).\n"
            "  -o OUT              default: beside the fp32 file as NAME.int8.safetensors, which\n"
            "                      --precision int8 then finds for that model (--model or --weights)\n"
            "  --calibration PATH  a video file or a directory of them (repeatable)\n"
            "  --holdout PATH      clips for the agreement report (repeatable); default: the last\n"
            "                      quarter of the calibration clips is held back (at least 1 of 2+)\n"
            "  --method M          minmax (default), percentile (99.99th) or entropy (KL, TensorRT's)\n"
            "  --num-frames N      frames per clip, default 100 (the seed's)\n");
}

typedef struct path_list {
    char **items;
    int count, capacity;
} path_list;

static int list_add(path_list *list, const char *path)
{
    if (list->count == list->capacity) {
        int capacity = list->capacity ? 2 * list->capacity : 16;
        char **items = realloc(list->items, (size_t)capacity * sizeof *items);
        if (!items)
            return -1;
        list->items = items;
        list->capacity = capacity;
    }
    if (!(list->items[list->count] = strdup(path)))
        return -1;
    list->count++;
    return 0;
}

static void list_free(path_list *list)
{
    for (int i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A file, or the regular files of a directory in name order (hidden ones skipped). */
static int add_path(path_list *list, const char *path)
{
    struct stat st;
    if (stat(path, &st)) {
        fprintf(stderr, "vidbench model quantize: %s: no such file or directory\n", cli_safe(path));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return list_add(list, path);
    DIR *dir = opendir(path);
    if (!dir) {
        fprintf(stderr, "vidbench model quantize: %s: cannot open the directory\n", cli_safe(path));
        return -1;
    }
    int first = list->count, rc = 0;
    struct dirent *entry;
    while (!rc && (entry = readdir(dir))) {
        if (entry->d_name[0] == '.')
            continue;
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, entry->d_name);
        if (!stat(full, &st) && S_ISREG(st.st_mode))
            rc = list_add(list, full);
    }
    closedir(dir);
    qsort(list->items + first, (size_t)(list->count - first), sizeof *list->items, by_name);
    return rc;
}

static void on_progress(void *user, const char *stage, int done, int total, const char *file)
{
    (void)user;
    fprintf(stderr, "  %s %d/%d: %s\n", stage, done + 1, total, cli_safe(file));
}

int model_quantize(int argc, char **argv)
{
    const char *name = NULL, *weights = NULL, *output = NULL;
    path_list calibration = {0}, holdout = {0};
    vb_quantize_request request = {.method = VB_I3D_CALIBRATE_MINMAX, .progress = on_progress};
    long frames = 0, threads = 0;
    int rc = CLI_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            rc = CLI_EXIT_OK;
            goto done;
        } else if (a[0] != '-') {
            if (name) {
                rc = cli_usage_error("model quantize", "one model at a time ('%s' and '%s')", name, a);
                goto done;
            }
            name = a;
        } else if (!v) {
            rc = cli_usage_error("model quantize", "option '%s' needs a value or is unknown", a);
            goto done;
        } else if (!strcmp(a, "--weights")) {
            weights = argv[++i];
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            output = argv[++i];
        } else if (!strcmp(a, "--calibration") || !strcmp(a, "--holdout")) {
            if (add_path(!strcmp(a, "--holdout") ? &holdout : &calibration, argv[++i])) {
                rc = CLI_EXIT_FAILURE;
                goto done;
            }
        } else if (!strcmp(a, "--method")) {
            int m = vb_i3d_calibration_from_name(argv[++i]);
            if (m < 0) {
                rc = cli_usage_error("model quantize", "--method: expected minmax, percentile or entropy, got '%s'", v);
                goto done;
            }
            request.method = (vb_i3d_calibration)m;
        } else if (!strcmp(a, "--num-frames")) {
            if (cli_parse_int(argv[++i], VB_I3D_MIN_FRAMES, 10000, &frames)) {
                rc = cli_usage_error("model quantize", "--num-frames: expected %d..10000, got '%s'", VB_I3D_MIN_FRAMES, v);
                goto done;
            }
        } else if (!strcmp(a, "--threads")) {
            if (cli_parse_int(argv[++i], 1, 1024, &threads)) {
                rc = cli_usage_error("model quantize", "--threads: expected 1..1024, got '%s'", v);
                goto done;
            }
        } else {
            rc = cli_usage_error("model quantize", "unknown option '%s'", a);
            goto done;
        }
    }
    if (!!name == !!weights || calibration.count == 0) {
        rc = cli_usage_error("model quantize", "expected NAME or --weights FILE, and --calibration PATH");
        goto done;
    }
    vb_error err = {0};
    vb_model_paths paths;
    if (name) {
        if (vb_model_resolve(name, &paths, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
        weights = paths.weights;
    }
    char sibling[4096];
    if (!output) {
        if (vb_quantized_weights_path(weights, sibling, sizeof sibling, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
        output = sibling;
    }
    /* without --holdout, the last quarter of the calibration clips is held back */
    int n_calibration = calibration.count, n_holdout = holdout.count;
    const char *const *held = (const char *const *)holdout.items;
    if (!n_holdout && calibration.count >= 2) {
        n_holdout = calibration.count / 4 > 0 ? calibration.count / 4 : 1;
        n_calibration = calibration.count - n_holdout;
        held = (const char *const *)calibration.items + n_calibration;
    }
    request.weights_path = weights;
    request.output_path = output;
    request.calibration = (const char *const *)calibration.items;
    request.n_calibration = n_calibration;
    request.holdout = held;
    request.n_holdout = n_holdout;
    request.num_frames = (int)frames;
    request.threads = (int)threads;
    fprintf(stderr, "vidbench model quantize: %s -> %s, %s calibration on %d clip(s), %d held back\n", cli_safe(weights),
            cli_safe(output), vb_i3d_calibration_name(request.method), n_calibration, n_holdout);
    vb_quantize_report report;
    if (vb_quantize_i3d(&request, &report, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    printf("wrote %s (int8, %s calibration on %d clip(s))\n", output, vb_i3d_calibration_name(request.method),
           report.calibration_clips);
    printf("int8 ran on oneDNN ISA %s%s%s\n", report.isa, *report.note ? ": " : "", report.note);
    const vb_agreement *a = &report.agreement;
    if (a->clips == 0) {
        printf("no held-back clips: no agreement report (give --holdout, or two or more calibration clips)\n");
    } else {
        printf("int8 against fp32 on %d held-back clip(s):\n", a->clips);
        printf("  top-1 agreement     %d/%d (%.1f%%)\n", a->top1_agree, a->clips, 100.0 * a->top1_agree / a->clips);
        printf("  top-5 overlap       %.1f%%\n", 100.0 * a->top5_overlap);
        printf("  mean KL divergence  %.3g\n", a->mean_kl);
        printf("  max |logit error|   %.4g (%.2f%% of the largest fp32 logit range, %.4g)\n", a->max_abs_logit_error,
               a->max_logit_range > 0 ? 100.0 * a->max_abs_logit_error / a->max_logit_range : 0.0, a->max_logit_range);
    }
    rc = CLI_EXIT_OK;
done:
    list_free(&calibration);
    list_free(&holdout);
    return rc;
}
