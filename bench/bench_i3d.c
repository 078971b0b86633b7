/* vidbench bench i3d: full-width I3D (random weights with the real checkpoint's shapes), fp32,
 * ms per clip, GFLOP/s and the ratio to this machine's FMA peak measured right before each
 * case, plus the planned activation memory and the process's peak RSS. Not a test.
 * --peers hands over to bench_i3d_peers.c (PyTorch and ONNX Runtime side by side). */
#include "bench.h"
#include "fma_peak.h"
#include "../cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "vidbench/i3d.h"

#define PEERS_DEFAULT_ROUNDS 5

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vidbench bench i3d [--batch LIST] [--frames LIST] [--threads N] [--backend onednn|reference]\n"
            "                          [--repeat N] [--full] [--weights FILE] [--peers]\n"
            "       vidbench bench i3d --precision fp32|bf16|int8 ...   (fp32 against it, side by side: --precision --help)\n\n"
            "Full-width I3D with random weights (real checkpoint shapes, 400 classes), fp32.\n"
            "  --batch LIST    batch sizes, default 1 (--full: 1,8)\n"
            "  --frames LIST   clip lengths, default 64,79,100\n"
            "  --threads N     default 2\n"
            "  --repeat N      timed runs per case after one warm-up run, default 3 (ms: best run)\n"
            "  --weights FILE  use this weights file instead of random ones\n"
            "  --peers         the same forward in PyTorch (eager, TorchScript-frozen; /usr/bin/python3) and\n"
            "                  ONNX Runtime (node + onnxruntime-node, scripts/install-bench-peers.sh), in\n"
            "                  interleaved rounds: median ms/clip, ratio to vidbench, logits agreement (PASS at\n"
            "                  1e-4 relative; exit 1 when a present peer disagrees). A missing peer is skipped\n"
            "                  with a note. Defaults: --frames 100 --batch 1 --threads 2 --repeat %d (rounds);\n"
            "                  one --frames and one --batch value. Run from the repository root.\n",
            PEERS_DEFAULT_ROUNDS);
}

int bench_i3d(int argc, char **argv)
{
    int batches[8] = {1}, n_batches = 1;
    bench_i3d_args args = {.frames = {64, 79, 100}, .n_frames = 3, .threads = 2, .repeat = 3};
    vb_i3d_backend backend = VB_I3D_BACKEND_ONEDNN;
    int peers = 0, usage_rc;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--precision"))
            return bench_i3d_precision(argc, argv);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (bench_i3d_common_option(&args, argc, argv, &i, &usage_rc)) {
            if (usage_rc)
                return usage_rc;
        } else if (!strcmp(a, "--peers")) {
            peers = 1;
        } else if (!strcmp(a, "--full")) {
            batches[0] = 1;
            batches[1] = 8;
            n_batches = 2;
        } else if (!strcmp(a, "--batch") && v) {
            if ((n_batches = bench_parse_int_list(v, 1, 64, batches, 8)) < 0)
                return cli_usage_error("bench i3d", "--batch: expected a list of 1..64, got '%s'", v);
            i++;
        } else if (!strcmp(a, "--backend") && v) {
            int b = vb_i3d_backend_from_name(v);
            if (b < 0)
                return cli_usage_error("bench i3d", "--backend: expected onednn or reference, got '%s'", v);
            backend = (vb_i3d_backend)b;
            i++;
        } else {
            return cli_usage_error("bench i3d", "unknown or incomplete option '%s'", a);
        }
    }

    if (peers) {
        if (args.n_frames > 1 && args.frames_given)
            return cli_usage_error("bench i3d", "--peers takes one --frames value");
        if (n_batches > 1)
            return cli_usage_error("bench i3d", "--peers takes one --batch value");
        bench_i3d_peers_config config = {.weights = args.weights, .frames = args.frames_given ? args.frames[0] : 100,
                                         .batch = batches[0], .threads = (int)args.threads,
                                         .rounds = args.repeat_given ? (int)args.repeat : PEERS_DEFAULT_ROUNDS,
                                         .backend = backend};
        return bench_i3d_peers(&config);
    }

    vb_error err = {0};
    char random_path[4096] = "";
    if (!args.weights) {
        const char *tmp = getenv("TMPDIR");
        snprintf(random_path, sizeof random_path, "%s/vidbench-bench-i3d-%ld.safetensors", tmp && *tmp ? tmp : "/tmp",
                 (long)getpid());
        if (vb_i3d_write_random_weights(random_path, 1, 400, 1234, &err))
            return cli_fail(&err);
        args.weights = random_path;
    }
    vb_i3d_options options;
    vb_i3d_options_init(&options);
    options.backend = backend;
    options.threads = (int)args.threads;
    vb_i3d *model = NULL;
    int rc = vb_i3d_open(args.weights, &options, &model, &err);
    if (random_path[0])
        unlink(random_path);
    if (rc)
        return cli_fail(&err);

    printf("I3D forward, %s backend, fp32, %ld thread(s), %d classes\n", vb_i3d_backend_name(backend), args.threads,
           vb_i3d_num_classes(model));
    printf("peak: FMA loop on %ld thread(s) run before and after every timed forward. 'of adjacent peak': median over\n"
           "the timed forwards of GFLOP/s / mean of the peaks just before and after it (side by side: neighbours on a\n"
           "shared machine slow both); 'of best peak': best-run GFLOP/s / highest peak of the whole run\n",
           args.threads);
    double run_peak = fma_peak_measure((int)args.threads, 0.5).gflops;
    typedef struct row { int batch, frames; double adjacent_ratio, ms, gflop, rate, peak_before, peak_after, act_mib, param_mib, rss_mib; } row;
    row rows[64];
    int n_rows = 0;
    int failed = 0;
    for (int fi = 0; fi < args.n_frames && !failed; fi++) {
        for (int bi = 0; bi < n_batches && !failed; bi++) {
            const int t = args.frames[fi], n = batches[bi];
            const size_t count = (size_t)n * t * VB_I3D_INPUT_SIZE * VB_I3D_INPUT_SIZE * 3;
            float *input = malloc(count * sizeof(float));
            float *logits = malloc((size_t)n * vb_i3d_num_classes(model) * sizeof(float));
            if (!input || !logits) {
                free(input);
                free(logits);
                fprintf(stderr, "vidbench: out of memory for a %d x %d-frame batch\n", n, t);
                failed = 1;
                break;
            }
            bench_random_clip(input, count);
            vb_i3d_memory memory = {0};
            /* warm-up: plans primitives and reorders weights for this T */
            if (vb_i3d_plan_memory(model, t, &memory, &err) || vb_i3d_forward(model, input, 1, t, logits, &err)) {
                failed = 1;
            } else {
                /* Side by side: an FMA-peak run before every timed forward and one after the last;
                 * each forward's ratio uses the mean of the peaks around it, and the median ratio
                 * is reported. */
                double peaks[101] = {0}, ratios[100] = {0}, best = 0;
                const double gflop = vb_i3d_flops_per_clip(model, t) * 1e-9;
                peaks[0] = fma_peak_measure((int)args.threads, 0.4).gflops;
                for (long r = 0; r < args.repeat && !failed; r++) {
                    double t0 = bench_seconds();
                    if (vb_i3d_forward(model, input, n, t, logits, &err))
                        failed = 1;
                    double dt = bench_seconds() - t0;
                    if (r == 0 || dt < best)
                        best = dt;
                    peaks[r + 1] = fma_peak_measure((int)args.threads, 0.4).gflops;
                    ratios[r] = (gflop * n / dt) / (0.5 * (peaks[r] + peaks[r + 1]));
                }
                for (long i = 1; i < args.repeat; i++)   /* insertion sort: a handful of values */
                    for (long j = i; j > 0 && ratios[j] < ratios[j - 1]; j--) {
                        double tmp = ratios[j];
                        ratios[j] = ratios[j - 1];
                        ratios[j - 1] = tmp;
                    }
                const double median_ratio = args.repeat % 2 ? ratios[args.repeat / 2]
                                                       : 0.5 * (ratios[args.repeat / 2 - 1] + ratios[args.repeat / 2]);
                fma_peak peak = {peaks[0], ""};
                if (!failed) {
                    fma_peak after = {peaks[args.repeat], ""};
                    for (long i = 0; i <= args.repeat; i++)
                        if (peaks[i] > run_peak)
                            run_peak = peaks[i];
                    row *r = &rows[n_rows++];
                    r->adjacent_ratio = median_ratio;
                    r->batch = n;
                    r->frames = t;
                    r->gflop = gflop;
                    r->ms = best * 1e3 / n;
                    r->rate = r->gflop / (r->ms * 1e-3);
                    r->peak_before = peak.gflops;
                    r->peak_after = after.gflops;
                    if (peak.gflops > run_peak)
                        run_peak = peak.gflops;
                    if (after.gflops > run_peak)
                        run_peak = after.gflops;
                    struct rusage usage;
                    getrusage(RUSAGE_SELF, &usage);
                    r->act_mib = memory.activation_bytes / 1048576.0;
                    r->param_mib = memory.parameter_bytes / 1048576.0;
                    r->rss_mib = usage.ru_maxrss / 1024.0;
                    fprintf(stderr, "  batch %d T %d: %.1f ms/clip (peak before %.1f, after %.1f GFLOP/s)\n", n, t, r->ms,
                            peak.gflops, after.gflops);
                }
            }
            free(input);
            free(logits);
        }
    }
    vb_i3d_free(&model);
    if (failed)
        return cli_fail(&err);
    printf("measured peak: %.1f GFLOP/s (%s)\n\n", run_peak, fma_peak_measure(1, 0.05).isa);
    printf("| batch | T | ms/clip | GFLOP/clip | GFLOP/s | peak first/last | of adjacent peak | of best peak | activations MiB | parameters MiB | peak RSS MiB |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < n_rows; i++) {
        const row *r = &rows[i];
        printf("| %d | %d | %.1f | %.1f | %.1f | %.0f / %.0f | %.1f%% | %.1f%% | %.1f | %.1f | %.1f |\n", r->batch, r->frames,
               r->ms, r->gflop, r->rate, r->peak_before, r->peak_after,
               100.0 * r->adjacent_ratio, 100.0 * r->rate / run_peak, r->act_mib, r->param_mib,
               r->rss_mib);
    }
    return CLI_EXIT_OK;
}
