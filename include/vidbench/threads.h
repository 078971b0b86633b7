/* The library's one thread policy. Every backend that runs threads (the I3D oneDNN engine, the
 * TFLite interpreter behind MoViNet, the FFmpeg decoder) resolves the count it was given here,
 * so "0 = automatic" means the same thing everywhere. */
#ifndef VIDBENCH_THREADS_H
#define VIDBENCH_THREADS_H

#ifdef __cplusplus
extern "C" {
#endif

#define VB_THREADS_MAX 1024

/* requested >= 1: that count (at most VB_THREADS_MAX).
 * requested <= 0 (automatic): the environment variable VIDBENCH_THREADS when it holds an integer
 * 1..VB_THREADS_MAX, otherwise the number of online cores. The library reads VIDBENCH_THREADS
 * here and nowhere else. */
int vb_threads_resolve(int requested);

#ifdef __cplusplus
}
#endif
#endif
