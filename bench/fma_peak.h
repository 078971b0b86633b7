/* Measured fp32 peak of this machine: a loop of independent fused multiply-adds on every
 * thread, AVX-512 or AVX2 chosen at run time. The ratio GFLOP/s / peak is what the benchmarks
 * report, since clock speeds and neighbours on a shared machine move both alike. */
#ifndef VIDBENCH_BENCH_FMA_PEAK_H
#define VIDBENCH_BENCH_FMA_PEAK_H

typedef struct fma_peak {
    double gflops;        /* all threads together */
    const char *isa;      /* "avx512f", "avx2+fma" or "scalar" */
} fma_peak;

/* Runs for about `seconds` on `threads` threads. */
fma_peak fma_peak_measure(int threads, double seconds);

#endif
