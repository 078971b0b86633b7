/* Small helpers the benchmarks share: a monotonic clock and "1,8"-style option lists. */
#include "bench.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../cli/cli.h"
#include "vidbench/i3d.h"

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

int bench_i3d_common_option(bench_i3d_args *args, int argc, char **argv, int *i, int *usage_rc)
{
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    *usage_rc = 0;
    if (!v)
        return 0;
    if (!strcmp(a, "--frames")) {
        if ((args->n_frames = bench_parse_int_list(v, VB_I3D_MIN_FRAMES, 1000, args->frames, 8)) < 0)
            *usage_rc = cli_usage_error("bench i3d", "--frames: expected a list of %d..1000, got '%s'", VB_I3D_MIN_FRAMES, v);
        args->frames_given = 1;
    } else if (!strcmp(a, "--threads")) {
        if (cli_parse_int(v, 1, 256, &args->threads))
            *usage_rc = cli_usage_error("bench i3d", "--threads: expected 1..256, got '%s'", v);
    } else if (!strcmp(a, "--repeat")) {
        if (cli_parse_int(v, 1, 100, &args->repeat))
            *usage_rc = cli_usage_error("bench i3d", "--repeat: expected 1..100, got '%s'", v);
        args->repeat_given = 1;
    } else if (!strcmp(a, "--weights")) {
        args->weights = v;
    } else {
        return 0;
    }
    (*i)++;
    return 1;
}
