/* vidbench bench video: placeholder until its issue lands. */
#include "bench.h"

#include <stdio.h>

int bench_video(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "vidbench bench video: not implemented yet\n");
    return 2;
}
