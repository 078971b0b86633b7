/* vidbench bench evaluate: the whole evaluate loop (decode + preprocess + model + store) in
 * clips/s on the shared Kinetics-400 clips, with the full-width I3D engine (random weights of
 * the real shapes, T=100) and with MoViNet-A0-Stream; each case runs pipelined (decode thread)
 * and serial side by side, so the pipelining gain is a ratio measured in one run. Not a test. */
#include "bench.h"
#include "../cli/cli.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vidbench/eval.h"
#include "vidbench/i3d.h"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: vidbench bench evaluate [--models i3d,movinet] [--frames T] [--batch B]\n"
        "                               [--threads N] [--clips DIR] [--repeat N]\n\n"
        "Whole evaluate loop on every .mp4 in DIR (default $VB_SHARED/data/videos/kinetics400,\n"
        "else ../shared/...): clips/s and per-stage ms per clip, pipelined and serial.\n"
        "  --models LIST   i3d (full width, random weights, 400 classes) and/or movinet\n"
        "                  (../shared/models/movinet-a0-stream-int8-k600), default both\n"
        "  --frames T      frames per clip, default 100 (the seed's); MoViNet also runs every frame\n"
        "  --batch B       clips per batch, default 1\n"
        "  --threads N     model threads, default 2\n"
        "  --repeat N      passes over the clips per case, default 1\n");
}

typedef struct bench_case {
    const char *name;
    const char *weights;
    const char *labels;
    int frames;
} bench_case;

static int list_clips(const char *dir, vb_eval_clip **clips, char ***paths, int *count)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0, cap = 16;
    *paths = calloc((size_t)cap, sizeof **paths);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".mp4"))
            continue;
        if (n == cap)
            *paths = realloc(*paths, (size_t)(cap *= 2) * sizeof **paths);
        size_t bytes = strlen(dir) + len + 2;
        (*paths)[n] = malloc(bytes);
        snprintf((*paths)[n], bytes, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    /* sorted, so every run sees the same order */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp((*paths)[j - 1], (*paths)[j]) > 0; j--) {
            char *t = (*paths)[j];
            (*paths)[j] = (*paths)[j - 1];
            (*paths)[j - 1] = t;
        }
    *clips = calloc((size_t)n + 1, sizeof **clips);
    for (int i = 0; i < n; i++) {
        const char *base = strrchr((*paths)[i], '/') + 1;
        (*clips)[i] = (vb_eval_clip){.clip_id = base, .youtube_id = "", .label = NULL,
                                     .path = (*paths)[i]};
    }
    *count = n;
    return 0;
}

/* One loop over the clips; returns clips/s and fills the per-stage ms per clip. */
static int run_case(const vb_eval_model *model, const vb_eval_clip *clips, int n, int frames,
                    int batch, int serial, int repeat, const char *tmp, double *clips_per_s,
                    double stage_ms[3], vb_error *err)
{
    char store[4200], csv[4200];
    snprintf(store, sizeof store, "%s/bench-evaluate-%d.sqlite", tmp, (int)getpid());
    snprintf(csv, sizeof csv, "%s/bench-evaluate-%d.csv", tmp, (int)getpid());
    double wall = 0, done = 0;
    stage_ms[0] = stage_ms[1] = stage_ms[2] = 0;
    for (int r = 0; r < repeat; r++) {
        vb_eval_params p;
        vb_eval_params_init(&p);
        p.clips = clips;
        p.clip_count = (size_t)n;
        p.num_frames = frames;
        p.batch_size = batch;
        p.video.min_frames = 0;
        p.store_path = store;
        p.csv_path = csv;
        p.fingerprint = "bench";
        p.overwrite = 1;
        p.serial = serial;
        vb_eval_summary s;
        int rc = vb_eval_run(&p, model, &vb_eval_file_loader, &s, err);
        if (rc)
            return rc;
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
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (int k = 0; k < 3; k++) {
        char side[4300];
        snprintf(side, sizeof side, "%s%s", store, suffixes[k]);
        unlink(side);
    }
    unlink(csv);
    return 0;
}

int bench_evaluate(int argc, char **argv)
{
    const char *models = "i3d,movinet";
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
    vb_eval_clip *clips = NULL;
    char **paths = NULL;
    int n = 0;
    if (list_clips(dir, &clips, &paths, &n) || n == 0) {
        fprintf(stderr, "vidbench bench evaluate: no .mp4 clips in %s\n", dir);
        return CLI_EXIT_FAILURE;
    }
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    char i3d_weights[4200] = "";
    vb_error err = {0};
    int rc = CLI_EXIT_OK;
    if (strstr(models, "i3d")) {
        snprintf(i3d_weights, sizeof i3d_weights, "%s/vidbench-bench-evaluate-%d.safetensors", tmp, (int)getpid());
        if (vb_i3d_write_random_weights(i3d_weights, 1, 400, 1234, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
    }
    bench_case cases[3];
    int n_cases = 0;
    if (strstr(models, "i3d"))
        cases[n_cases++] = (bench_case){"I3D full width (random weights)", i3d_weights, k400_labels, (int)frames};
    if (strstr(models, "movinet")) {
        cases[n_cases++] = (bench_case){"MoViNet-A0-Stream int8", movinet, movinet_labels, (int)frames};
        cases[n_cases++] = (bench_case){"MoViNet-A0-Stream int8", movinet, movinet_labels, 0};
    }
    printf("vidbench bench evaluate: %d clips from %s, batch %ld, %ld model threads, %ld pass(es)\n",
           n, dir, batch, threads, repeat);
    printf("%-32s %6s %10s %10s %9s %10s %9s %10s\n", "model", "T", "pipelined", "serial", "ratio",
           "decode ms", "prep ms", "model ms");
    for (int c = 0; c < n_cases; c++) {
        vb_eval_classifier_options o = {.threads = (int)threads};
        vb_eval_classifier *classifier = NULL;
        if (vb_eval_classifier_open(cases[c].weights, cases[c].labels, &o, &classifier, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
        const vb_eval_model *model = vb_eval_classifier_model(classifier);
        double piped = 0, serial = 0, stages[3], serial_stages[3];
        /* serial first, then pipelined: a warm cache for neither is favoured twice */
        int r = run_case(model, clips, n, cases[c].frames, (int)batch, 1, (int)repeat, tmp, &serial,
                         serial_stages, &err);
        if (!r)
            r = run_case(model, clips, n, cases[c].frames, (int)batch, 0, (int)repeat, tmp, &piped,
                         stages, &err);
        vb_eval_classifier_free(&classifier);
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
    for (int i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    free(clips);
    return rc;
}
