/* vidbench bench evaluate: placeholder until its issue lands. */
#include "bench.h"

#include <stdio.h>

int bench_evaluate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "vidbench bench evaluate: not implemented yet\n");
    return 2;
}
