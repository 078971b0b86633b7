/* FMA peak loop (see fma_peak.h). Twelve independent accumulators cover the FMA latency of
 * both pipes on current x86 cores; the result is stored so the loop cannot be dropped. */
#include "fma_peak.h"
#include "bench.h"

#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#define ACCUMULATORS 12
#define INNER 1000

/* Each returns the flops done (2 per lane per FMA). */
/* Twelve named accumulators so they stay in registers (an array would go through memory). */
#define FMA_ROUND(fmadd)                                                                          \
    do {                                                                                          \
        c0 = fmadd(c0, a, b); c1 = fmadd(c1, a, b); c2 = fmadd(c2, a, b); c3 = fmadd(c3, a, b);    \
        c4 = fmadd(c4, a, b); c5 = fmadd(c5, a, b); c6 = fmadd(c6, a, b); c7 = fmadd(c7, a, b);    \
        c8 = fmadd(c8, a, b); c9 = fmadd(c9, a, b); c10 = fmadd(c10, a, b); c11 = fmadd(c11, a, b); \
    } while (0)

__attribute__((target("avx512f"))) static double loop_avx512(int64_t rounds, float *sink)
{
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    __m512 c0 = _mm512_set1_ps(0), c1 = _mm512_set1_ps(1), c2 = _mm512_set1_ps(2), c3 = _mm512_set1_ps(3),
           c4 = _mm512_set1_ps(4), c5 = _mm512_set1_ps(5), c6 = _mm512_set1_ps(6), c7 = _mm512_set1_ps(7),
           c8 = _mm512_set1_ps(8), c9 = _mm512_set1_ps(9), c10 = _mm512_set1_ps(10), c11 = _mm512_set1_ps(11);
    for (int64_t r = 0; r < rounds; r++)
        for (int k = 0; k < INNER; k++)
            FMA_ROUND(_mm512_fmadd_ps);
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                             _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)));
    *sink = _mm512_reduce_add_ps(s);
    return (double)rounds * INNER * ACCUMULATORS * 16 * 2;
}

__attribute__((target("avx2,fma"))) static double loop_avx2(int64_t rounds, float *sink)
{
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    __m256 c0 = _mm256_set1_ps(0), c1 = _mm256_set1_ps(1), c2 = _mm256_set1_ps(2), c3 = _mm256_set1_ps(3),
           c4 = _mm256_set1_ps(4), c5 = _mm256_set1_ps(5), c6 = _mm256_set1_ps(6), c7 = _mm256_set1_ps(7),
           c8 = _mm256_set1_ps(8), c9 = _mm256_set1_ps(9), c10 = _mm256_set1_ps(10), c11 = _mm256_set1_ps(11);
    for (int64_t r = 0; r < rounds; r++)
        for (int k = 0; k < INNER; k++)
            FMA_ROUND(_mm256_fmadd_ps);
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                             _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    *sink = lanes[0] + lanes[7];
    return (double)rounds * INNER * ACCUMULATORS * 8 * 2;
}

static double loop_scalar(int64_t rounds, float *sink)
{
    float acc[ACCUMULATORS];
    for (int i = 0; i < ACCUMULATORS; i++)
        acc[i] = (float)i;
    for (int64_t r = 0; r < rounds; r++)
        for (int k = 0; k < INNER; k++)
            for (int i = 0; i < ACCUMULATORS; i++)
                acc[i] = acc[i] * 0.999999f + 1e-7f;
    *sink = acc[0] + acc[ACCUMULATORS - 1];
    return (double)rounds * INNER * ACCUMULATORS * 2;
}

typedef struct worker {
    double (*loop)(int64_t, float *);
    double seconds;
    double flops, elapsed;
    float sink;
} worker;

static void *run_worker(void *opaque)
{
    worker *w = opaque;
    /* Calibrate the round count on a short run, then time the real one. */
    int64_t rounds = 16;
    double t0 = bench_seconds();
    w->loop(rounds, &w->sink);
    double dt = bench_seconds() - t0;
    if (dt > 0)
        rounds = (int64_t)(rounds * w->seconds / dt) + 1;
    t0 = bench_seconds();
    w->flops = w->loop(rounds, &w->sink);
    w->elapsed = bench_seconds() - t0;
    return NULL;
}

fma_peak fma_peak_measure(int threads, double seconds)
{
    fma_peak result = {0, "scalar"};
    double (*loop)(int64_t, float *) = loop_scalar;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        loop = loop_avx512;
        result.isa = "avx512f";
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        loop = loop_avx2;
        result.isa = "avx2+fma";
    }
    if (threads < 1)
        threads = 1;
    if (threads > 256)
        threads = 256;
    worker workers[256];
    pthread_t ids[256];
    int started = 0;
    for (int i = 0; i < threads; i++) {
        workers[i] = (worker){.loop = loop, .seconds = seconds};
        if (pthread_create(&ids[i], NULL, run_worker, &workers[i]) == 0)
            started++;
        else
            break;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(ids[i], NULL);
        if (workers[i].elapsed > 0)
            result.gflops += workers[i].flops / workers[i].elapsed * 1e-9;
    }
    return result;
}
