/* Placeholder until the TFLite reader lands. */
#include "inspect_tflite.h"
#include "cli.h"

#include <stdio.h>

int cli_inspect_tflite(const char *path, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "vidbench model inspect: %s: TFLite models are not supported yet\n", path);
    return CLI_EXIT_USAGE;
}
