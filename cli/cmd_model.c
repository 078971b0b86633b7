/* vidbench model: the model registry (list, info), installation (fetch, with resume and
 * verification), offline checkpoint conversion (convert), listings of checkpoints and TFLite
 * files (inspect) and DeepMind's published output check (verify). */
#include "cli.h"
#include "inspect_tflite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vidbench/labels.h"
#include "vidbench/models.h"
#include "vidbench/tfckpt.h"
#include "vidbench/i3d.h"

static void print_help(FILE *out)
{
    fprintf(out,
            "usage: vidbench model list\n"
            "       vidbench model info NAME\n"
            "       vidbench model fetch NAME [--base-url URL] [--from DIR] [--force]\n"
            "       vidbench model convert PREFIX -o OUT.safetensors [--labels FILE] [--architecture A]\n"
            "       vidbench model verify NAME [--weights FILE] [--labels FILE] [--sample FILE.npy]\n"
            "                             [--reference OUT.txt] [--backend B] [--base-url URL] [--from DIR]\n"
            "       vidbench model inspect PREFIX [--verify] | FILE.tflite\n"
            "       vidbench model quantize NAME|--weights FILE --calibration PATH... -o OUT [--holdout PATH...]\n"
            "                             [--method minmax|percentile|entropy]   (quantize --help)\n"
            "\n"
            "  list      known models: architecture, classes, download size, installed or not\n"
            "  info      one model: input spec, source URLs, sha256 pins, install location\n"
            "  fetch     download (resuming partial files), verify (sha256 pins, crc32c of every\n"
            "            tensor), convert and install atomically into $VIDBENCH_HOME/models/NAME\n"
            "            (default ~/.cache/vidbench). --base-url (or VIDBENCH_MODEL_BASE_URL) names a\n"
            "            mirror laid out like github.com/deepmind/kinetics-i3d (raw files);\n"
            "            --from DIR installs from local copies, verified the same way\n"
            "  convert   TensorFlow checkpoint PREFIX (PREFIX.index + PREFIX.data-*) -> safetensors:\n"
            "            model tensors only, BatchNorm parameters 1-D, crc32c verified\n"
            "  verify    DeepMind's published check: the cricket sample through the model, logits\n"
            "            against out/imagenet_rgb.txt within 1e-3 relative (i3d-kinetics-400)\n"
            "  inspect   list a checkpoint's tensors (dtype, shape, shard, offset, size, crc32c) and\n"
            "            check that they tile the data shard; --verify also reads and checks every\n"
            "            tensor's crc32c. FILE.tflite: inputs, outputs and operators\n"
            "  quantize  an int8 I3D calibrated on video clips, and its agreement with fp32 on\n"
            "            held-back clips (run it with --precision int8)\n"
            "\n"
            "VIDBENCH_MODEL_MANIFEST=FILE adds models from a JSON manifest (docs/models.md); it\n"
            "cannot redefine the built-in models.\n");
}

static void format_bytes(int64_t bytes, char *out, size_t out_size)
{
    if (bytes < 0)
        snprintf(out, out_size, "?");
    else if (bytes >= (1 << 20))
        snprintf(out, out_size, "%.1f MiB", (double)bytes / (1 << 20));
    else if (bytes >= 1024)
        snprintf(out, out_size, "%.1f KiB", (double)bytes / 1024);
    else
        snprintf(out, out_size, "%lld B", (long long)bytes);
}

static int64_t download_bytes(const vb_model_info *model)
{
    int64_t total = 0;
    for (int i = 0; i < model->n_files; i++) {
        const vb_model_file *f = &model->files[i];
        if (f->role == VB_MODEL_FILE_SAMPLE || f->role == VB_MODEL_FILE_REFERENCE)
            continue;
        if (f->size_bytes < 0)
            return -1;
        total += f->size_bytes;
    }
    return total;
}

static int load_registry(vb_model_registry **registry)
{
    vb_error err = {0};
    if (vb_model_registry_load(registry, &err))
        return cli_fail(&err);
    return CLI_EXIT_OK;
}

static int model_list(int argc, char **argv)
{
    if (argc > 1)
        return cli_usage_error("model list", "unexpected argument '%s'", argv[1]);
    vb_model_registry *registry = NULL;
    int rc = load_registry(&registry);
    if (rc)
        return rc;
    printf("%-26s %-18s %7s %10s  %s\n", "NAME", "ARCHITECTURE", "CLASSES", "DOWNLOAD", "INSTALLED");
    for (int i = 0; i < vb_model_registry_count(registry); i++) {
        const vb_model_info *m = vb_model_registry_at(registry, i);
        char size[32];
        format_bytes(download_bytes(m), size, sizeof size);
        printf("%-26s %-18s %7d %10s  %s\n", m->name, m->architecture, m->classes, size,
               vb_model_installed_paths(m, NULL) ? "yes" : "no");
    }
    vb_model_registry_free(&registry);
    return CLI_EXIT_OK;
}

static const char *role_name(vb_model_file_role role)
{
    switch (role) {
    case VB_MODEL_FILE_INDEX: return "index";
    case VB_MODEL_FILE_DATA: return "data";
    case VB_MODEL_FILE_LABELS: return "labels";
    case VB_MODEL_FILE_TFLITE: return "tflite";
    case VB_MODEL_FILE_SAMPLE: return "sample";
    case VB_MODEL_FILE_REFERENCE: return "reference";
    }
    return "?";
}

static const vb_model_info *find_model(vb_model_registry *registry, const char *name)
{
    const vb_model_info *model = vb_model_registry_find(registry, name);
    if (!model) {
        fprintf(stderr, "vidbench: error: unknown model '%s'; known models:", name);
        for (int i = 0; i < vb_model_registry_count(registry); i++)
            fprintf(stderr, " %s", vb_model_registry_at(registry, i)->name);
        fprintf(stderr, "\n");
    }
    return model;
}

static int model_info(int argc, char **argv)
{
    if (argc != 2)
        return cli_usage_error("model info", "expected one model name");
    vb_model_registry *registry = NULL;
    int rc = load_registry(&registry);
    if (rc)
        return rc;
    const vb_model_info *m = find_model(registry, argv[1]);
    if (!m) {
        vb_model_registry_free(&registry);
        return CLI_EXIT_FAILURE;
    }
    char dir[4096] = "", size[32];
    vb_model_install_dir(m, dir, sizeof dir, NULL);
    vb_model_paths paths;
    int installed = vb_model_installed_paths(m, &paths);
    format_bytes(download_bytes(m), size, sizeof size);
    printf("name:          %s\n", m->name);
    printf("description:   %s\n", m->description);
    printf("architecture:  %s\n", m->architecture);
    printf("format:        %s\n", m->format == VB_MODEL_FORMAT_TFLITE ? "TensorFlow Lite" : "TensorFlow checkpoint V2 (converted to safetensors)");
    printf("classes:       %d\n", m->classes);
    printf("input:         %s\n", m->input_spec);
    printf("download:      %s\n", size);
    printf("defined by:    %s\n", m->origin);
    printf("installed:     %s\n", installed ? "yes" : "no");
    printf("location:      %s\n", dir);
    if (installed)
        printf("weights:       %s\nlabels:        %s\n", paths.weights, paths.labels);
    printf("files:\n");
    for (int i = 0; i < m->n_files; i++) {
        const vb_model_file *f = &m->files[i];
        char file_size[32];
        format_bytes(f->size_bytes, file_size, sizeof file_size);
        printf("  %-9s %s\n            size %s, %s%s\n", role_name(f->role), f->url, file_size,
               f->sha256 ? "sha256 " : "", f->sha256 ? f->sha256
               : f->role == VB_MODEL_FILE_DATA ? "verified by the crc32c of every tensor in the pinned index"
                                               : "checked by its shape when read");
    }
    vb_model_registry_free(&registry);
    return CLI_EXIT_OK;
}

/* ---- fetch ------------------------------------------------------------------------------ */

typedef struct fetch_display {
    int terminal;
    const char *current;
    int64_t last_done;
    int line_open;      /* a progress bar is on the current line */
} fetch_display;

static void on_file(void *user, const vb_model_file *file, const char *source)
{
    fetch_display *display = user;
    display->current = file->install_name;
    display->last_done = -1;
    if (display->line_open) {
        fprintf(stderr, "\n");
        display->line_open = 0;
    }
    if (cli_verbosity > 0)
        fprintf(stderr, "  %s <- %s\n", file->install_name, source);
}

static int on_progress(void *user, int64_t done_bytes, int64_t total_bytes)
{
    fetch_display *display = user;
    if (!display->terminal || cli_verbosity == 0 || done_bytes == display->last_done)
        return 0;
    display->last_done = done_bytes;
    char done[32], total[32];
    format_bytes(done_bytes, done, sizeof done);
    format_bytes(total_bytes, total, sizeof total);
    int width = 30, filled = total_bytes > 0 ? (int)(width * done_bytes / total_bytes) : 0;
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r  [%s] %s / %s   ", bar, done, total);
    display->line_open = 1;
    if (total_bytes > 0 && done_bytes >= total_bytes) {
        fprintf(stderr, "\n");
        display->line_open = 0;
    }
    return 0;
}

static void print_manual_install(const vb_model_info *model, const char *base_url)
{
    fprintf(stderr, "\nNo network? Install '%s' by hand: on a machine with access, download\n", model->name);
    for (int i = 0; i < model->n_files; i++) {
        const vb_model_file *f = &model->files[i];
        if (f->role == VB_MODEL_FILE_SAMPLE || f->role == VB_MODEL_FILE_REFERENCE)
            continue;
        char url[4096];
        vb_model_file_url(f, base_url, url, sizeof url);
        fprintf(stderr, "  %s\n", url);
    }
    fprintf(stderr, "into a directory DIR (keeping the repository layout, e.g. %s, or flat), copy it\n"
                    "here and run:\n  vidbench model fetch %s --from DIR\n"
                    "The files are checked against the same sha256/crc32c pins.\n",
            model->files[0].mirror_path, model->name);
}

static int parse_source_options(const char *verb, int argc, char **argv, int *arg, vb_model_fetch_options *options)
{
    if (!strcmp(argv[*arg], "--base-url") && *arg + 1 < argc) {
        options->base_url = argv[++*arg];
        return 1;
    }
    if (!strcmp(argv[*arg], "--from") && *arg + 1 < argc) {
        options->from_dir = argv[++*arg];
        return 1;
    }
    (void)verb;
    return 0;
}

static int model_fetch(int argc, char **argv)
{
    vb_model_fetch_options options;
    vb_model_fetch_options_init(&options);
    const char *name = NULL;
    for (int arg = 1; arg < argc; arg++) {
        if (parse_source_options("model fetch", argc, argv, &arg, &options))
            continue;
        if (!strcmp(argv[arg], "--force"))
            options.force = 1;
        else if (argv[arg][0] == '-')
            return cli_usage_error("model fetch", "unknown option '%s'", argv[arg]);
        else if (name)
            return cli_usage_error("model fetch", "one model at a time");
        else
            name = argv[arg];
    }
    if (!name)
        return cli_usage_error("model fetch", "expected a model name ('vidbench model list')");
    if (options.base_url && options.from_dir)
        return cli_usage_error("model fetch", "--base-url and --from exclude each other");
    if (!options.base_url && !options.from_dir && getenv("VIDBENCH_MODEL_BASE_URL") &&
        *getenv("VIDBENCH_MODEL_BASE_URL"))
        options.base_url = getenv("VIDBENCH_MODEL_BASE_URL");
    const char *attempts = getenv("VIDBENCH_FETCH_ATTEMPTS");
    const char *backoff = getenv("VIDBENCH_FETCH_BACKOFF_MS");
    long value;
    if (attempts && cli_parse_int(attempts, 1, 100, &value) == 0)
        options.max_attempts = (int)value;
    if (backoff && cli_parse_int(backoff, 1, 600000, &value) == 0)
        options.initial_backoff_ms = (int)value;

    vb_model_registry *registry = NULL;
    int rc = load_registry(&registry);
    if (rc)
        return rc;
    const vb_model_info *model = find_model(registry, name);
    if (!model) {
        vb_model_registry_free(&registry);
        return CLI_EXIT_FAILURE;
    }
    fetch_display display = {.terminal = isatty(2)};
    options.on_file = on_file;
    options.progress = on_progress;
    options.user = &display;
    vb_model_paths paths;
    vb_error err = {0};
    if (!options.force && vb_model_installed_paths(model, &paths)) {
        printf("%s is already installed: %s (--force reinstalls)\n", model->name, paths.weights);
        vb_model_registry_free(&registry);
        return CLI_EXIT_OK;
    }
    if (cli_verbosity > 0)
        fprintf(stderr, "fetching %s\n", model->name);
    rc = vb_model_fetch(model, &options, &paths, &err);
    if (display.line_open)
        fprintf(stderr, "\n");
    if (rc) {
        cli_fail(&err);
        if (rc == VB_ENETWORK && !options.from_dir)
            print_manual_install(model, options.base_url);
        else if (cli_verbosity > 0)
            fprintf(stderr, "vidbench: nothing was installed for %s\n", model->name);
        vb_model_registry_free(&registry);
        return CLI_EXIT_FAILURE;
    }
    printf("installed %s: %s\n", model->name, paths.weights);
    vb_model_registry_free(&registry);
    return CLI_EXIT_OK;
}

/* ---- convert / inspect -------------------------------------------------------------------- */

static int model_convert(int argc, char **argv)
{
    const char *prefix = NULL, *out = NULL;
    vb_convert_options options = {0};
    for (int arg = 1; arg < argc; arg++) {
        if (!strcmp(argv[arg], "-o") && arg + 1 < argc)
            out = argv[++arg];
        else if (!strcmp(argv[arg], "--labels") && arg + 1 < argc)
            options.labels_path = argv[++arg];
        else if (!strcmp(argv[arg], "--architecture") && arg + 1 < argc)
            options.architecture = argv[++arg];
        else if (argv[arg][0] == '-')
            return cli_usage_error("model convert", "unknown option '%s'", argv[arg]);
        else if (prefix)
            return cli_usage_error("model convert", "one checkpoint at a time");
        else
            prefix = argv[arg];
    }
    if (!prefix || !out)
        return cli_usage_error("model convert", "expected PREFIX -o OUT.safetensors");
    vb_convert_report report;
    vb_error err = {0};
    if (vb_tfckpt_convert(prefix, out, &options, &report, &err))
        return cli_fail(&err);
    printf("%s: %d tensors written, %d dropped (optimizer slots, bookkeeping), %d classes, "
           "source index sha256 %s\n", out, report.tensors_kept, report.tensors_dropped, report.classes,
           report.index_sha256);
    return CLI_EXIT_OK;
}

static int ends_with(const char *text, const char *suffix)
{
    size_t n = strlen(text), m = strlen(suffix);
    return n >= m && !strcmp(text + n - m, suffix);
}

static int model_inspect(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("model inspect", "expected a checkpoint PREFIX or FILE.tflite");
    if (ends_with(argv[1], ".tflite"))
        return cli_inspect_tflite(argv[1], argc - 1, argv + 1);
    int verify = 0;
    for (int arg = 2; arg < argc; arg++) {
        if (!strcmp(argv[arg], "--verify"))
            verify = 1;
        else
            return cli_usage_error("model inspect", "unexpected argument '%s'", argv[arg]);
    }
    /* Accept "dir/model.ckpt.index" for "dir/model.ckpt". */
    char prefix[4096];
    snprintf(prefix, sizeof prefix, "%s", argv[1]);
    if (ends_with(prefix, ".index"))
        prefix[strlen(prefix) - 6] = '\0';
    vb_tfckpt *ckpt = NULL;
    vb_error err = {0};
    if (vb_tfckpt_open(prefix, &ckpt, &err))
        return cli_fail(&err);
    int shards = vb_tfckpt_num_shards(ckpt);
    int64_t *shard_bytes = calloc((size_t)shards, sizeof *shard_bytes);
    if (!shard_bytes) {
        vb_tfckpt_free(&ckpt);
        return cli_fail(NULL);
    }
    int layout_rc = vb_tfckpt_check_layout(ckpt, shard_bytes, &err);
    /* "tile the shards" is said of the files only when their sizes were compared; an
     * index alone (DeepMind's listings) is described as such. */
    int files_rc = layout_rc ? layout_rc : vb_tfckpt_check_shard_files(ckpt, &err);
    if (files_rc == VB_ENOTFOUND && !verify)
        layout_rc = VB_OK;
    else
        layout_rc = files_rc;
    printf("%-70s %-10s %-22s %5s %12s %12s %8s\n", "TENSOR", "DTYPE", "SHAPE", "SHARD", "OFFSET", "BYTES", "CRC32C");
    for (int i = 0; i < vb_tfckpt_count(ckpt); i++) {
        const vb_tfckpt_entry *e = vb_tfckpt_at(ckpt, i);
        char shape[128] = "";
        size_t used = 0;
        for (int d = 0; d < e->ndim && used < sizeof shape; d++)
            used += (size_t)snprintf(shape + used, sizeof shape - used, "%s%lld", d ? "x" : "", (long long)e->shape[d]);
        if (e->ndim == 0)
            snprintf(shape, sizeof shape, "scalar");
        char crc[16] = "-";
        if (e->has_crc32c)
            snprintf(crc, sizeof crc, "%08x", e->crc32c);
        printf("%-70s %-10s %-22s %5d %12lld %12lld %8s\n", cli_safe(e->name), vb_tf_dtype_name(e->tf_dtype), shape,
               e->shard_id, (long long)e->offset, (long long)e->size_bytes, crc);
    }
    printf("%s: %d tensors, %d shard(s)", prefix, vb_tfckpt_count(ckpt), shards);
    int rc = CLI_EXIT_OK;
    if (layout_rc == VB_OK) {
        for (int s = 0; s < shards; s++)
            printf("; shard %d: %lld bytes", s, (long long)shard_bytes[s]);
        printf(files_rc == VB_ENOTFOUND ? "; entries tile the index's shard ranges without gaps or overlaps "
                                          "(data files absent, not checked)\n"
                                        : "; entries tile the shards without gaps or overlaps\n");
    } else {
        printf("\n");
        rc = cli_fail(&err);
    }
    if (rc == CLI_EXIT_OK && verify) {
        if (vb_tfckpt_verify_all(ckpt, &err))
            rc = cli_fail(&err);
        else
            printf("crc32c verified for every tensor\n");
    }
    free(shard_bytes);
    vb_tfckpt_free(&ckpt);
    return rc;
}

/* ---- verify ----------------------------------------------------------------------------- */

static int model_verify(int argc, char **argv);

int cmd_model(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        print_help(stdout);
        return CLI_EXIT_OK;
    }
    /* `inspect FILE.tflite --help` belongs to the TFLite lister. */
    int tflite_inspect = !strcmp(sub, "inspect") && argc > 2 && ends_with(argv[2], ".tflite");
    if (!strcmp(sub, "quantize"))   /* its own --help */
        return model_quantize(argc - 1, argv + 1);
    for (int i = 2; i < argc && !tflite_inspect; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            print_help(stdout);
            return CLI_EXIT_OK;
        }
    if (!strcmp(sub, "list"))
        return model_list(argc - 1, argv + 1);
    if (!strcmp(sub, "info"))
        return model_info(argc - 1, argv + 1);
    if (!strcmp(sub, "fetch"))
        return model_fetch(argc - 1, argv + 1);
    if (!strcmp(sub, "convert"))
        return model_convert(argc - 1, argv + 1);
    if (!strcmp(sub, "inspect"))
        return model_inspect(argc - 1, argv + 1);
    if (!strcmp(sub, "verify"))
        return model_verify(argc - 1, argv + 1);
    return cli_usage_error("model", "unknown subcommand '%s'", sub);
}

/* DeepMind's evaluate_sample.py check (vb_model_verify): resolves NAME to its installed files and
 * the published sample and listing, then prints what the library measured. */
static int model_verify(int argc, char **argv)
{
    const char *name = NULL, *weights = NULL, *labels_path = NULL, *sample = NULL, *reference_path = NULL;
    const char *backend = NULL;
    double tolerance = 1e-3;
    vb_model_fetch_options options;
    vb_model_fetch_options_init(&options);
    for (int arg = 1; arg < argc; arg++) {
        if (parse_source_options("model verify", argc, argv, &arg, &options))
            continue;
        if (!strcmp(argv[arg], "--weights") && arg + 1 < argc)
            weights = argv[++arg];
        else if (!strcmp(argv[arg], "--labels") && arg + 1 < argc)
            labels_path = argv[++arg];
        else if (!strcmp(argv[arg], "--sample") && arg + 1 < argc)
            sample = argv[++arg];
        else if (!strcmp(argv[arg], "--reference") && arg + 1 < argc)
            reference_path = argv[++arg];
        else if (!strcmp(argv[arg], "--backend") && arg + 1 < argc)
            backend = argv[++arg];
        else if (!strcmp(argv[arg], "--tolerance") && arg + 1 < argc) {
            if (cli_parse_double(argv[++arg], 1e-9, 1, &tolerance))
                return cli_usage_error("model verify", "--tolerance takes a number in (0, 1]");
        } else if (argv[arg][0] == '-')
            return cli_usage_error("model verify", "unknown option '%s'", argv[arg]);
        else if (name)
            return cli_usage_error("model verify", "one model at a time");
        else
            name = argv[arg];
    }
    if (!name && !(weights && labels_path && sample && reference_path))
        return cli_usage_error("model verify", "expected a model NAME (or --weights, --labels, --sample "
                               "and --reference)");
    if (!options.base_url && !options.from_dir && getenv("VIDBENCH_MODEL_BASE_URL") &&
        *getenv("VIDBENCH_MODEL_BASE_URL"))
        options.base_url = getenv("VIDBENCH_MODEL_BASE_URL");
    vb_model_verify_request request = {0};
    if (backend) {
        int b = vb_i3d_backend_from_name(backend);
        if (b < 0)
            return cli_usage_error("model verify", "unknown backend '%s'", backend);
        request.backend = (vb_i3d_backend)b;
    }

    vb_error err = {0};
    int rc = CLI_EXIT_FAILURE;
    vb_model_registry *registry = NULL;
    char sample_path[4096], reference_file[4096];
    vb_model_paths paths;
    if (name) {
        if ((rc = load_registry(&registry)))
            return rc;
        rc = CLI_EXIT_FAILURE;
        const vb_model_info *model = find_model(registry, name);
        if (!model)
            goto done;
        if (model->format != VB_MODEL_FORMAT_TF_CHECKPOINT) {
            fprintf(stderr, "vidbench: error: %s: verify runs I3D models; MoViNet's published check is "
                            "'carving ice' on its reference clip (see its PROVENANCE.txt)\n", name);
            goto done;
        }
        if ((!weights || !labels_path) && !vb_model_installed_paths(model, &paths)) {
            fprintf(stderr, "vidbench: error: %s is not installed; run 'vidbench model fetch %s' "
                            "(or pass --weights and --labels)\n", name, name);
            goto done;
        }
        if (!weights)
            weights = paths.weights;
        if (!labels_path)
            labels_path = paths.labels;
        if (!sample || !reference_path) {
            if (vb_model_fetch_verify_files(model, &options, sample_path, sizeof sample_path, reference_file,
                                            sizeof reference_file, &err)) {
                cli_fail(&err);
                goto done;
            }
            if (!sample)
                sample = sample_path;
            if (!reference_path)
                reference_path = reference_file;
        }
    }
    request.weights_path = weights;
    request.labels_path = labels_path;
    request.sample_path = sample;
    request.reference_path = reference_path;
    request.tolerance = tolerance;
    vb_model_verify_result *result = malloc(sizeof *result);
    if (!result) {
        fprintf(stderr, "vidbench: out of memory\n");
        goto done;
    }
    int verify_rc = vb_model_verify(&request, result, &err);
    if (verify_rc && !(verify_rc == VB_ECHECKSUM && result->check.worst_class)) {
        cli_fail(&err);
        free(result);
        goto done;
    }
    const vb_reference_output *reference = &result->reference;
    const vb_reference_check *check = &result->check;
    printf("sample:      %s (%d frames)\n", sample, result->frames);
    printf("reference:   %s\n", reference_path);
    printf("logit norm:  %.6f (reference %.6f, relative error %.2e)\n", check->logits_norm, reference->logits_norm,
           check->norm_relative_error);
    printf("top class:   %s %.6f (reference %s %.6f)\n", cli_safe(result->top1_label), result->top1_logit,
           cli_safe(reference->top[0].name), reference->top[0].logit);
    printf("top-%d logits: max relative error %.2e at '%s' (tolerance %.0e)\n", reference->count,
           check->max_relative_error, cli_safe(check->worst_class), tolerance);
    free(result);
    if (verify_rc) {
        printf("FAILED\n");
        cli_fail(&err);
        goto done;
    }
    printf("PASSED\n");
    rc = CLI_EXIT_OK;
done:
    vb_model_registry_free(&registry);
    return rc;
}
