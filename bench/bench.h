/* Benchmarks behind `vidbench bench NAME`: each prints a table and its ratios measured
 * side by side in the same run. Uses only the public API. */
#ifndef VIDBENCH_BENCH_H
#define VIDBENCH_BENCH_H
int bench_video(int argc, char **argv);
int bench_i3d(int argc, char **argv);
int bench_i3d_precision(int argc, char **argv);   /* bench i3d --precision */
int bench_movinet(int argc, char **argv);
int bench_evaluate(int argc, char **argv);
int bench_report(int argc, char **argv);

/* bench_util.c */
double bench_seconds(void); /* monotonic clock */
/* "1,8" -> values within [min, max]; returns how many, or -1 (empty, malformed, too many). */
int bench_parse_int_list(const char *text, long min, long max, int *values, int capacity);
#endif
