/* vidbench bench evaluate: the whole evaluate loop (decode + preprocess + model + store) in
 * clips/s on the shared Kinetics-400 clips, with the full-width I3D engine (random weights of
 * the real shapes, T=100) and with MoViNet-A0-Stream; each case runs pipelined (decode thread)
 * and serial side by side, so the pipelining gain is a ratio measured in one run. Not a test. */
#include "bench.h"
#include "../cli/cli.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vidbench/classifier.h"
#include "vidbench/eval.h"
#include "vidbench/i3d.h"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: vidbench bench evaluate [--models i3d,movinet] [--frames T] [--batch B]\n"
        "                               [--threads N] [--clips DIR] [--repeat N] [--precision LIST]\n\n"
        "Whole evaluate loop on every .mp4 in DIR (default $VB_SHARED/data/videos/kinetics400,\n"
        "else ../shared/...): clips/s and per-stage ms per clip, pipelined and serial.\n"
        "  --models LIST   i3d (full width, random weights, 400 classes) and/or movinet\n"
        "                  (../shared/models/movinet-a0-stream-int8-k600), default both\n"
        "  --frames T      frames per clip, default 100 (the seed's); MoViNet also runs every frame\n"
        "  --batch B       clips per batch, default 1\n"
        "  --threads N     model threads, default 2\n"
        "  --repeat N      passes over the clips per case, default 1\n"
        "  --precision LIST  I3D precisions, run one after another: fp32 (default), int8 (the random\n"
        "                  weights calibrated first on the first clip), bf16 (AMX only, else fp32)\n");
}

typedef struct bench_case {
    const char *name;
    const char *weights;
    const char *labels;
    int frames;
    vb_i3d_precision precision;
} bench_case;

/* The .mp4 files of dir, sorted so every run sees the same order, as an unlabelled --clips list
 * (path,label: the label left empty) written to list_path. Returns the clip count, -1 on error. */
static int write_clip_list(const char *dir, const char *list_path)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0, cap = 16;
    char **names = calloc((size_t)cap, sizeof *names);
    struct dirent *e;
    while (names && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".mp4") || strchr(e->d_name, ',') || strchr(e->d_name, '"'))
            continue;
        if (n == cap) {
            char **more = realloc(names, (size_t)(cap *= 2) * sizeof *names);
            if (!more)
                break;
            names = more;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    FILE *f = names ? fopen(list_path, "w") : NULL;
    for (int i = 0; f && i < n; i++)
        fprintf(f, "%s/%s,\n", dir, names[i]);
    int ok = f && fclose(f) == 0;
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return ok ? n : -1;
}

/* Removes the bench's flat work folder (its clip list and the run's outputs). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4500];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
    rmdir(dir);
}

/* One case: the evaluation session run `repeat` times (from scratch each time); returns
 * clips/s and fills the per-stage ms per clip. */
static int run_case(vb_eval_session *session, int serial, int repeat, double *clips_per_s, double stage_ms[3],
                    vb_error *err)
{
    double wall = 0, done = 0;
    stage_ms[0] = stage_ms[1] = stage_ms[2] = 0;
    vb_eval_session_set_serial(session, serial);
    for (int r = 0; r < repeat; r++) {
        vb_eval_summary s;
        int rc = vb_eval_session_run(session, &s, err);
        if (rc) {
            vb_eval_summary_free(&s);
            return rc;
        }
        /* a timing of clips that were skipped (unreadable, too short) would be a lie */
        if (s.clips_evaluated < s.clips_this_run) {
            long skipped = s.clips_this_run - s.clips_evaluated;
            vb_eval_summary_free(&s);
            return vb_error_set(err, VB_EFORMAT, "%ld of the clips were skipped, not evaluated: the timing would not "
                                "be the model's (run `vidbench evaluate --clips` on them to see why)", skipped);
        }
        wall += s.wall_s;
        done += (double)s.clips_this_run;
        stage_ms[0] += s.decode_ms;
        stage_ms[1] += s.preprocess_ms;
        stage_ms[2] += s.model_ms;
        vb_eval_summary_free(&s);
    }
    for (int k = 0; k < 3; k++)
        stage_ms[k] /= done > 0 ? done : 1;
    *clips_per_s = wall > 0 ? done / wall : 0;
    return 0;
}

int bench_evaluate(int argc, char **argv)
{
    const char *models = "i3d,movinet", *precisions = "fp32";
    const char *clips_dir = NULL;
    long frames = 100, batch = 1, threads = 2, repeat = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (!strcmp(a, "--models") && v) {
            models = v;
            i++;
        } else if (!strcmp(a, "--precision") && v) {
            precisions = v;
            i++;
        } else if (!strcmp(a, "--clips") && v) {
            clips_dir = v;
            i++;
        } else if (!strcmp(a, "--frames") && v && !cli_parse_int(v, 9, 10000, &frames)) {
            i++;
        } else if (!strcmp(a, "--batch") && v && !cli_parse_int(v, 1, 64, &batch)) {
            i++;
        } else if (!strcmp(a, "--threads") && v && !cli_parse_int(v, 0, 256, &threads)) {
            i++;
        } else if (!strcmp(a, "--repeat") && v && !cli_parse_int(v, 1, 100, &repeat)) {
            i++;
        } else {
            return cli_usage_error("bench evaluate", "bad argument '%s'", a);
        }
    }
    const char *shared = getenv("VB_SHARED");
    if (!shared || !*shared)
        shared = "../shared";
    char dir[4096], movinet[4096], movinet_labels[4096], k400_labels[4096];
    snprintf(dir, sizeof dir, "%s/data/videos/kinetics400", shared);
    snprintf(movinet, sizeof movinet, "%s/models/movinet-a0-stream-int8-k600/movinet_a0_stream_int8.tflite", shared);
    snprintf(movinet_labels, sizeof movinet_labels, "%s/models/movinet-a0-stream-int8-k600/kinetics600_label_map.txt", shared);
    snprintf(k400_labels, sizeof k400_labels, "%s/data/labelmaps/kinetics400_label_map.txt", shared);
    if (clips_dir)
        snprintf(dir, sizeof dir, "%s", clips_dir);
    /* the clip list lives in a work folder and relative paths in it resolve against that
     * folder: give it absolute ones */
    char *absolute = realpath(dir, NULL);
    if (absolute) {
        snprintf(dir, sizeof dir, "%s", absolute);
        free(absolute);
    }
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    char i3d_weights[4200] = "", int8_weights[4200] = "", work_dir[3200], clip_list[3300];
    snprintf(work_dir, sizeof work_dir, "%.3000s/vidbench-bench-evaluate-%d", tmp, (int)getpid());
    snprintf(clip_list, sizeof clip_list, "%s/clips.csv", work_dir);
    if (mkdir(work_dir, 0700)) {
        fprintf(stderr, "vidbench bench evaluate: %s: %s\n", work_dir, strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    const int n = write_clip_list(dir, clip_list);
    vb_error err = {0};
    int rc = CLI_EXIT_OK;
    if (n <= 0) {
        fprintf(stderr, "vidbench bench evaluate: no .mp4 clips in %s\n", dir);
        rc = CLI_EXIT_FAILURE;
        goto done;
    }
    if (strstr(models, "i3d")) {
        snprintf(i3d_weights, sizeof i3d_weights, "%s/vidbench-bench-evaluate-%d.safetensors", tmp, (int)getpid());
        if (vb_i3d_write_random_weights(i3d_weights, 1, 400, 1234, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
    }
    if (strstr(models, "i3d") && strstr(precisions, "int8")) {
        /* an int8 copy calibrated on the first clip: enough for timing */
        snprintf(int8_weights, sizeof int8_weights, "%s/vidbench-bench-evaluate-%d-int8.safetensors", tmp, (int)getpid());
        char first[4096];
        FILE *list = fopen(clip_list, "r");
        int got = list && fgets(first, sizeof first, list);
        if (list)
            fclose(list);
        char *comma = got ? strrchr(first, ',') : NULL;
        if (comma)
            *comma = 0;
        const char *calibration[1] = {first};
        vb_quantize_request request = {.weights_path = i3d_weights, .output_path = int8_weights,
                                       .calibration = calibration, .n_calibration = 1, .num_frames = (int)frames,
                                       .threads = (int)threads, .method = VB_I3D_CALIBRATE_MINMAX};
        vb_quantize_report report;
        if (!comma || vb_quantize_i3d(&request, &report, &err)) {
            rc = comma ? cli_fail(&err) : CLI_EXIT_FAILURE;
            goto done;
        }
    }
    bench_case cases[6];
    int n_cases = 0;
    static const struct { const char *name, *label; vb_i3d_precision precision; } i3d_precisions[] = {
        {"fp32", "I3D full width fp32 (random)", VB_I3D_PRECISION_FP32},
        {"bf16", "I3D full width bf16 (random)", VB_I3D_PRECISION_BF16},
        {"int8", "I3D full width int8 (random)", VB_I3D_PRECISION_INT8},
    };
    for (int k = 0; k < 3 && strstr(models, "i3d"); k++)
        if (strstr(precisions, i3d_precisions[k].name))
            cases[n_cases++] = (bench_case){i3d_precisions[k].label, k == 2 ? int8_weights : i3d_weights, k400_labels,
                                            (int)frames, i3d_precisions[k].precision};
    if (strstr(models, "movinet")) {
        cases[n_cases++] = (bench_case){"MoViNet-A0-Stream int8", movinet, movinet_labels, (int)frames, 0};
        cases[n_cases++] = (bench_case){"MoViNet-A0-Stream int8", movinet, movinet_labels, 0, 0};
    }
    printf("vidbench bench evaluate: %d clips from %s, batch %ld, %ld model threads, %ld pass(es)\n",
           n, dir, batch, threads, repeat);
    printf("%-32s %6s %10s %10s %9s %10s %9s %10s\n", "model", "T", "pipelined", "serial", "ratio",
           "decode ms", "prep ms", "model ms");
    for (int c = 0; c < n_cases; c++) {
        /* The real evaluation session (same model resolution, fingerprint and loop as
         * `vidbench evaluate`), over the clip list, starting from scratch each pass. */
        vb_eval_config cfg;
        vb_eval_config_init(&cfg);
        snprintf(cfg.weights, sizeof cfg.weights, "%s", cases[c].weights);
        snprintf(cfg.labels, sizeof cfg.labels, "%s", cases[c].labels);
        snprintf(cfg.clips_file, sizeof cfg.clips_file, "%s", clip_list);
        snprintf(cfg.results_dir, sizeof cfg.results_dir, "%s", work_dir);
        snprintf(cfg.model_type, sizeof cfg.model_type, "%s", strstr(cases[c].weights, ".tflite") ? "movinet" : "i3d");
        cfg.num_frames = cases[c].frames;
        cfg.batch_size = (int)batch;
        cfg.threads = (int)threads;
        cfg.precision = cases[c].precision;
        cfg.min_frames = 0;
        cfg.num_videos = 0;
        cfg.overwrite_output_dir = 1;
        vb_eval_session *session = NULL;
        if (vb_eval_session_open(&cfg, NULL, &session, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
        vb_eval_session_info info;
        vb_eval_session_get_info(session, &info);
        if (info.isa)
            fprintf(stderr, "%s: %s on oneDNN ISA %s%s%s\n", cases[c].name, info.precision, info.isa,
                    *info.note ? "; " : "", info.note);
        double piped = 0, serial = 0, stages[3], serial_stages[3];
        /* serial first, then pipelined: a warm cache for neither is favoured twice */
        int r = run_case(session, 1, (int)repeat, &serial, serial_stages, &err);
        if (!r)
            r = run_case(session, 0, (int)repeat, &piped, stages, &err);
        vb_eval_session_free(&session);
        if (r) {
            rc = cli_fail(&err);
            goto done;
        }
        char t[16];
        if (cases[c].frames)
            snprintf(t, sizeof t, "%d", cases[c].frames);
        else
            snprintf(t, sizeof t, "all");
        printf("%-32s %6s %7.3f/s %7.3f/s %8.2fx %10.1f %9.1f %10.1f\n", cases[c].name, t, piped,
               serial, serial > 0 ? piped / serial : 0, stages[0], stages[1], stages[2]);
        fflush(stdout);
    }
    printf("clips/s: whole loop (decode + preprocess + model + commit), wall clock; ratio = pipelined / serial;\n"
           "stage columns: ms per clip in the pipelined run (decode and preprocess overlap the model there)\n");
done:
    if (i3d_weights[0])
        unlink(i3d_weights);
    if (int8_weights[0])
        unlink(int8_weights);
    remove_tree(work_dir);
    return rc;
}
