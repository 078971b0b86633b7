/* vb_parse_long / vb_parse_double (parse.h): strtol/strtod with the checks every caller needs. */
#include "vidbench/parse.h"

#include <errno.h>
#include <stdlib.h>

int vb_parse_long(const char *text, long min, long max, long *value)
{
    if (!text || !*text)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *value = v;
    return 0;
}

int vb_parse_double(const char *text, double min, double max, double *value)
{
    if (!text || !*text)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || *end || !(v >= min && v <= max))
        return -1;
    *value = v;
    return 0;
}
