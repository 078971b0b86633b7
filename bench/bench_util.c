/* Small helpers the benchmarks share: a monotonic clock and "1,8"-style option lists. */
#include "bench.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../cli/cli.h"

double bench_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void bench_random_clip(float *values, size_t count)
{
    unsigned state = 12345;
    for (size_t i = 0; i < count; i++) {
        state = state * 1103515245u + 12345u;
        values[i] = (float)((state >> 8) & 0xffff) / 65535.0f;
    }
}

int bench_parse_int_list(const char *text, long min, long max, int *values, int capacity)
{
    int n = 0;
    char buffer[256];
    if (strlen(text) >= sizeof buffer)
        return -1;
    snprintf(buffer, sizeof buffer, "%s", text);
    for (char *save = NULL, *tok = strtok_r(buffer, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long v;
        if (n >= capacity || cli_parse_int(tok, min, max, &v))
            return -1;
        values[n++] = (int)v;
    }
    return n > 0 ? n : -1;
}
