/* Shared helpers for the verbs: error printing and strict number parsing. */
#include "cli.h"
#include "vidbench/parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int cli_verbosity = 1;

int cli_fail(const vb_error *err)
{
    if (err && err->message[0])
        fprintf(stderr, "vidbench: error: %s\n", err->message);
    else
        fprintf(stderr, "vidbench: error: %s\n", vb_strerror(err ? err->code : VB_EINVAL));
    return CLI_EXIT_FAILURE;
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
    fprintf(stderr, "vidbench %s: ", verb);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'vidbench %s --help')\n", verb);
    return CLI_EXIT_USAGE;
}

int cli_parse_int(const char *text, long min, long max, long *value)
{
    return vb_parse_long(text, min, max, value);
}

int cli_parse_double(const char *text, double min, double max, double *value)
{
    return vb_parse_double(text, min, max, value);
}
