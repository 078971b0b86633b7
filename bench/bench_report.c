/* vidbench bench report: placeholder until its issue lands. */
#include "bench.h"

#include <stdio.h>

int bench_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "vidbench bench report: not implemented yet\n");
    return 2;
}
