/* vidbench bench movinet: placeholder until its issue lands. */
#include "bench.h"

#include <stdio.h>

int bench_movinet(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "vidbench bench movinet: not implemented yet\n");
    return 2;
}
