/* vidbench probe: placeholder until its issue lands; refuses with exit 2 so nothing
 * mistakes it for a working verb. */
#include "cli.h"

#include <stdio.h>

int cmd_probe(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "vidbench probe: not implemented yet\n");
    return CLI_EXIT_USAGE;
}
