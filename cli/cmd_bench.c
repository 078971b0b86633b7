/* vidbench bench NAME: dispatch to the benchmarks in bench/. */
#include "cli.h"
#include "../bench/bench.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} benches[] = {
    {"video", bench_video, "decode + crop + resize + resample clips/s vs the seed's OpenCV path"},
    {"i3d", bench_i3d, "I3D forward ms/clip, GFLOP/s and fraction of the measured FMA peak;\n"
                    "            --peers: PyTorch and ONNX Runtime side by side, logits checked"},
    {"movinet", bench_movinet, "MoViNet-A0 stream frames/s"},
    {"evaluate", bench_evaluate, "whole evaluate loop clips/s"},
    {"report", bench_report, "report build time and size"},
};

int cmd_bench(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        FILE *out = argc < 2 ? stderr : stdout;
        fprintf(out, "usage: vidbench bench NAME [options]\n\n");
        for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
            fprintf(out, "  %-9s %s\n", benches[i].name, benches[i].summary);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
        if (!strcmp(argv[1], benches[i].name))
            return benches[i].run(argc - 1, argv + 1);
    return cli_usage_error("bench", "unknown benchmark '%s'", argv[1]);
}
