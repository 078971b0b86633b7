/* Benchmarks behind `vidbench bench NAME`: each prints a table and its ratios measured
 * side by side in the same run. Uses only the public API. */
#ifndef VIDBENCH_BENCH_H
#define VIDBENCH_BENCH_H

#include <stddef.h>
#include "vidbench/i3d.h"

int bench_video(int argc, char **argv);
int bench_i3d(int argc, char **argv);
int bench_i3d_precision(int argc, char **argv);   /* bench i3d --precision */
int bench_movinet(int argc, char **argv);
int bench_evaluate(int argc, char **argv);
int bench_report(int argc, char **argv);

/* bench_i3d_peers.c: `bench i3d --peers`, ours against PyTorch and ONNX Runtime. */
typedef struct bench_i3d_peers_config {
    const char *weights;    /* NULL: random full-width weights (seed 1234), as bench i3d */
    int frames, batch, threads, rounds;
    vb_i3d_backend backend;
} bench_i3d_peers_config;
int bench_i3d_peers(const bench_i3d_peers_config *config);

/* The options every `bench i3d` mode takes: --frames LIST, --threads N, --repeat N, --weights
 * FILE. Set the defaults, then offer each argument: returns 1 when it was one of these (*i moved
 * past its value), 0 when not; *usage_rc is set (and 1 returned) for a bad value. */
typedef struct bench_i3d_args {
    int frames[8], n_frames, frames_given;
    long threads, repeat;
    int repeat_given;
    const char *weights;
} bench_i3d_args;
int bench_i3d_common_option(bench_i3d_args *args, int argc, char **argv, int *i, int *usage_rc);

/* bench_util.c */
double bench_seconds(void); /* monotonic clock */
/* The benchmarks' clip: deterministic pseudo-random values in [0,1]. */
void bench_random_clip(float *values, size_t count);
/* "1,8" -> values within [min, max]; returns how many, or -1 (empty, malformed, too many). */
int bench_parse_int_list(const char *text, long min, long max, int *values, int capacity);
#endif
