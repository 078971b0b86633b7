/* vidbench classify: top-k classes of video files with an I3D (.safetensors) or MoViNet
 * (.tflite) model, as text or JSON. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "vidbench/classifier.h"
#include "vidbench/models.h"
#include "vidbench/threads.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vidbench classify [--model NAME | --weights FILE] [--labels FILE] [--num-frames N]\n"
            "                         [--top K] [--format text|json] [--backend onednn|reference]\n"
            "                         [--threads N] [--precision auto|fp32|bf16|int8] FILE...\n\n"
            "Prints the K most probable classes of each video file.\n"
            "  --model NAME        an installed model (vidbench model list); default i3d-kinetics-400 if\n"
            "                      installed, else movinet-a0-stream-k600\n"
            "  --weights FILE      a model file: .safetensors (I3D) or .tflite (MoViNet)\n"
            "  --labels FILE       label map, one class per line (default: the model's own)\n"
            "  --num-frames N      frames fed to the model (I3D default 100, resampled as the seed does;\n"
            "                      MoViNet default: every frame)\n"
            "  --top K             classes to print, default 5\n"
            "  --format text|json  output format, default text\n"
            "  --backend B         I3D engine: onednn (default) or reference (plain C, slow)\n"
            "  --threads N         model threads, default VIDBENCH_THREADS or all cores\n"
            "  --precision P       I3D arithmetic: auto (default: the file's own), fp32, bf16 (AMX only,\n"
            "                      else fp32 with a note) or int8 (a file from `vidbench model quantize`)\n"
            "Exit status: 0 all files classified, 1 some file failed, 2 usage error.\n");
}

int cmd_classify(int argc, char **argv)
{
    const char *model_name = NULL, *weights = NULL, *labels = NULL, *format = "text";
    long top = 5, num_frames = 0, threads = 0;
    vb_classifier_options options;
    vb_classifier_options_init(&options);
    int first_file = argc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (!strcmp(a, "--")) {
            first_file = i + 1;
            break;
        } else if (a[0] != '-' || !a[1]) {
            first_file = i;
            break;
        } else if (!v) {
            return cli_usage_error("classify", "option '%s' needs a value or is unknown", a);
        } else if (!strcmp(a, "--model")) {
            model_name = v;
        } else if (!strcmp(a, "--weights")) {
            weights = v;
        } else if (!strcmp(a, "--labels")) {
            labels = v;
        } else if (!strcmp(a, "--num-frames")) {
            if (cli_parse_int(v, 1, 100000, &num_frames))
                return cli_usage_error("classify", "--num-frames: expected 1..100000, got '%s'", v);
        } else if (!strcmp(a, "--top")) {
            if (cli_parse_int(v, 1, 100000, &top))
                return cli_usage_error("classify", "--top: expected a positive number, got '%s'", v);
        } else if (!strcmp(a, "--format")) {
            if (strcmp(v, "text") && strcmp(v, "json"))
                return cli_usage_error("classify", "--format: expected text or json, got '%s'", v);
            format = v;
        } else if (!strcmp(a, "--backend")) {
            int b = vb_i3d_backend_from_name(v);
            if (b < 0)
                return cli_usage_error("classify", "--backend: expected onednn or reference, got '%s'", v);
            options.backend = (vb_i3d_backend)b;
        } else if (!strcmp(a, "--precision")) {
            int p = vb_i3d_precision_from_name(v);
            if (p < 0)
                return cli_usage_error("classify", "--precision: expected auto, fp32, bf16 or int8, got '%s'", v);
            options.precision = (vb_i3d_precision)p;
        } else if (!strcmp(a, "--threads")) {
            if (cli_parse_int(v, 1, VB_THREADS_MAX, &threads))
                return cli_usage_error("classify", "--threads: expected 1..%d, got '%s'", VB_THREADS_MAX, v);
        } else {
            return cli_usage_error("classify", "unknown option '%s'", a);
        }
        i++;
    }
    if (first_file >= argc)
        return cli_usage_error("classify", "no video files given");
    if (model_name && weights)
        return cli_usage_error("classify", "--model and --weights exclude each other");

    vb_error err = {0};
    vb_model_paths paths;
    const char *shown_model = weights;
    if (!weights) {
        int rc = model_name ? vb_model_resolve(model_name, &paths, &err) : vb_model_resolve_default(&paths, &model_name, &err);
        if (rc)
            return cli_fail(&err);
        weights = paths.weights;
        if (!labels && paths.labels[0])
            labels = paths.labels;
        shown_model = model_name;
    }
    options.num_frames = (int)num_frames;
    options.threads = (int)threads;
    vb_classifier *classifier = NULL;
    if (vb_classifier_open(weights, labels, &options, &classifier, &err))
        return cli_fail(&err);

    /* int8 asked of an fp32 model runs its quantized sibling: name that file */
    if (strcmp(vb_classifier_weights_path(classifier), weights))
        shown_model = vb_classifier_weights_path(classifier);
    const int classes = vb_classifier_num_classes(classifier);
    const int threads_used = vb_classifier_threads(classifier);
    const char *isa = vb_classifier_isa(classifier), *note = vb_classifier_note(classifier);
    if (cli_verbosity > 1 || options.precision != VB_I3D_PRECISION_AUTO || *note)
        fprintf(stderr, "vidbench classify: %s, %d classes, %d threads, %s%s%s%s%s\n", shown_model, classes, threads_used,
                vb_classifier_precision(classifier), isa ? " on oneDNN ISA " : "", isa ? isa : "", *note ? "; " : "",
                note);
    float *probabilities = malloc((size_t)classes * sizeof(float));
    vb_prediction *best = malloc((size_t)(top < classes ? top : classes) * sizeof *best);
    if (!probabilities || !best) {
        free(probabilities);
        free(best);
        vb_classifier_free(&classifier);
        fprintf(stderr, "vidbench: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    const int json = !strcmp(format, "json");
    cJSON *results = json ? cJSON_CreateArray() : NULL;
    int failures = 0;
    for (int f = first_file; f < argc; f++) {
        const char *path = argv[f];
        vb_error_clear(&err);
        int rc = vb_classifier_classify_file(classifier, path, NULL, probabilities, &err);
        if (rc) {
            failures++;
            if (json) {
                cJSON *item = cJSON_CreateObject();
                cJSON_AddStringToObject(item, "file", path);
                cJSON_AddStringToObject(item, "error", err.message[0] ? err.message : vb_strerror(rc));
                cJSON_AddItemToArray(results, item);
            }
            cli_fail(&err);
            continue;
        }
        int n = vb_top_k(probabilities, classes, (int)top, best);
        if (json) {
            cJSON *item = cJSON_CreateObject();
            cJSON_AddStringToObject(item, "file", path);
            cJSON_AddStringToObject(item, "model", shown_model);
            cJSON_AddNumberToObject(item, "threads", threads_used);
            cJSON_AddStringToObject(item, "precision", vb_classifier_precision(classifier));
            if (isa)
                cJSON_AddStringToObject(item, "isa", isa);
            cJSON *list = cJSON_AddArrayToObject(item, "top");
            for (int k = 0; k < n; k++) {
                cJSON *entry = cJSON_CreateObject();
                const char *label = vb_classifier_label(classifier, best[k].class_id);
                if (label)
                    cJSON_AddStringToObject(entry, "label", label);
                else
                    cJSON_AddNullToObject(entry, "label");
                cJSON_AddNumberToObject(entry, "class", best[k].class_id);
                cJSON_AddNumberToObject(entry, "probability", best[k].probability);
                cJSON_AddItemToArray(list, entry);
            }
            cJSON_AddItemToArray(results, item);
        } else {
            printf("%s\n", path);
            for (int k = 0; k < n; k++) {
                const char *label = vb_classifier_label(classifier, best[k].class_id);
                if (label)
                    printf("  %.4f  %s\n", best[k].probability, cli_safe(label));
                else
                    printf("  %.4f  class %d\n", best[k].probability, best[k].class_id);
            }
        }
    }
    if (json) {
        char *text = cJSON_Print(results);
        if (text)
            printf("%s\n", text);
        free(text);
        cJSON_Delete(results);
    }
    free(probabilities);
    free(best);
    vb_classifier_free(&classifier);
    return failures ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}
