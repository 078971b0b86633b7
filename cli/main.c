/* vidbench: video-classification benchmarking on the command line. Dispatches to one verb. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "vidbench/version.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} verb_entry;

static const verb_entry verbs[] = {
    {"probe", cmd_probe, "describe video files (container, codec, size, rotation, frames)"},
    {"frames", cmd_frames, "decode and preprocess a clip into a NumPy .npy tensor"},
    {"gif", cmd_gif, "write an animated GIF preview of a clip"},
    {"classify", cmd_classify, "top-k classes of video files with a model"},
    {"model", cmd_model, "list, fetch, convert, inspect, verify and quantize models"},
    {"data", cmd_data, "download, unpack, list and prepare the Kinetics dataset"},
    {"evaluate", cmd_evaluate, "evaluate a model on Kinetics (seed-compatible flags, @config)"},
    {"merge", cmd_merge, "merge sharded evaluation results"},
    {"submit", cmd_submit, "run an evaluation as a Slurm job array plus a merge job"},
    {"report", cmd_report, "write an HTML report of the dataset and results"},
    {"compare", cmd_compare, "compare evaluation runs: accuracy with intervals, agreement, speed, cost"},
    {"bench", cmd_bench, "benchmarks: video, i3d, movinet, evaluate, report"},
};

static void print_usage(FILE *out)
{
    fprintf(out, "usage: vidbench [-v|-q] VERB [options]\n\nverbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(out, "\n'vidbench VERB --help' describes each verb.\n");
}

int main(int argc, char **argv)
{
    int arg = 1;
    for (; arg < argc && argv[arg][0] == '-'; arg++) {
        if (!strcmp(argv[arg], "-v") || !strcmp(argv[arg], "--verbose"))
            cli_verbosity = 2;
        else if (!strcmp(argv[arg], "-q") || !strcmp(argv[arg], "--quiet"))
            cli_verbosity = 0;
        else if (!strcmp(argv[arg], "-h") || !strcmp(argv[arg], "--help")) {
            print_usage(stdout);
            return CLI_EXIT_OK;
        } else if (!strcmp(argv[arg], "--version")) {
            printf("vidbench %s\n", VB_VERSION_STRING);
            return CLI_EXIT_OK;
        } else {
            fprintf(stderr, "vidbench: unknown option '%s'\n", argv[arg]);
            print_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (arg >= argc) {
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(argv[arg], verbs[i].name))
            return verbs[i].run(argc - arg, argv + arg);
    fprintf(stderr, "vidbench: unknown verb '%s'\n", argv[arg]);
    print_usage(stderr);
    return CLI_EXIT_USAGE;
}
