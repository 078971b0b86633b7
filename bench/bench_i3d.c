/* vidbench bench i3d: placeholder until its issue lands. */
#include "bench.h"

#include <stdio.h>

int bench_i3d(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "vidbench bench i3d: not implemented yet\n");
    return 2;
}
