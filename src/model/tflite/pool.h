/* The TFLite interpreter's worker pool: an operator is cut into pieces that every thread (the
 * caller included) claims from one atomic counter, so a descheduled worker never stalls a job.
 * Internal to src/model/tflite/. */
#ifndef VB_TFLITE_POOL_H
#define VB_TFLITE_POOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

/* One job = `chunks` pieces of an operator. Every thread (the caller included) claims pieces
 * from a shared counter tagged with the job number, so when a worker is descheduled (a busy
 * machine) the caller simply does all the pieces itself instead of waiting for it. */
typedef void (*tfl_pool_fn)(void *arg, int chunk, int chunks, int thread);

typedef struct pool {
    int threads;
    pthread_t *ids;
    int started;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int sleepers;                   /* under mutex */
    atomic_uint_fast64_t work;      /* job number << 32 | chunks << 16 | next chunk */
    atomic_int active;              /* threads inside a job */
    atomic_int stop;
    tfl_pool_fn fn;
    void *arg;
    /* Adaptive use of the workers (see vb_tflite_invoke). */
    int serial;                     /* current phase: 1 the caller runs alone */
    int phase_left;                 /* invokes left in the current phase */
    double phase_seconds[2];        /* summed invoke times of the last phase of each kind */
    int phase_invokes[2];
} pool;

/* Starts threads - 1 workers (none for 1). Returns 0 or -1. */
int tfl_pool_start(pool *p, int threads);
void tfl_pool_stop(pool *p);
/* Runs fn(arg, chunk, chunks, thread) for chunk = 0..chunks-1 across the pool; returns when all
 * pieces are done. Runs them on the caller alone for one chunk, one thread or a serial phase. */
void tfl_pool_run(pool *p, tfl_pool_fn fn, void *arg, int chunks);
/* Adaptive use of the workers: after each invoke, the time it took (seconds) decides whether
 * the next invokes run with the workers or on the caller alone (see pool.c). */
void tfl_pool_account_invoke(pool *p, double seconds);
double tfl_monotonic_seconds(void);

#endif
