/* The interpreter's worker pool (pool.h). Workers spin briefly, then sleep on a condition
 * variable; the caller always takes part, so a job finishes even when every worker is
 * descheduled. */
#include "pool.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double tfl_monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct worker_arg {
    pool *p;
    int index;
} worker_arg;

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Claims and runs pieces of job `job` until none is left. The job's piece count lives in the
 * same atomic word as its number and next piece, so a claim can only succeed while that job
 * still has pieces, i.e. while the caller has not moved on to publishing the next one. */
static void pool_drain(pool *p, uint64_t job, int thread)
{
    for (;;) {
        uint_fast64_t w = atomic_load(&p->work);
        const int next = (int)(w & 0xffffu), chunks = (int)((w >> 16) & 0xffffu);
        if ((w >> 32) != job || next >= chunks)
            return;
        if (atomic_compare_exchange_weak(&p->work, &w, w + 1))
            p->fn(p->arg, next, chunks, thread);
    }
}

static void *worker_main(void *arg)
{
    worker_arg *wa = arg;
    pool *p = wa->p;
    const int index = wa->index;
    free(wa);
    uint64_t seen = 0;
    for (;;) {
        int spins = 0;
        uint64_t job;
        while ((job = atomic_load(&p->work) >> 32) == seen) {
            if (atomic_load(&p->stop))
                return NULL;
            if (++spins < 500) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&p->mutex);
            p->sleepers++;
            while ((atomic_load(&p->work) >> 32) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->cond, &p->mutex);
            p->sleepers--;
            pthread_mutex_unlock(&p->mutex);
            spins = 0;
        }
        seen = job;
        if (atomic_load(&p->stop))
            return NULL;
        atomic_fetch_add(&p->active, 1);
        /* The job fields are stable while a piece of this job can still be claimed. */
        pool_drain(p, job, index);
        atomic_fetch_sub(&p->active, 1);
    }
}

int tfl_pool_start(pool *p, int threads)
{
    memset(p, 0, sizeof *p);
    p->threads = threads;
    p->phase_left = 4;
    if (threads <= 1)
        return 0;
    p->ids = calloc((size_t)threads, sizeof(pthread_t));
    if (!p->ids)
        return -1;
    pthread_mutex_init(&p->mutex, NULL);
    pthread_cond_init(&p->cond, NULL);
    for (int i = 1; i < threads; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa)
            return -1;
        wa->p = p;
        wa->index = i;
        if (pthread_create(&p->ids[i], NULL, worker_main, wa)) {
            free(wa);
            return -1;
        }
        p->started++;
    }
    return 0;
}

void tfl_pool_stop(pool *p)
{
    if (p->threads <= 1 || !p->ids)
        return;
    pthread_mutex_lock(&p->mutex);
    atomic_store(&p->stop, 1);
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mutex);
    for (int i = 1; i <= p->started; i++)
        pthread_join(p->ids[i], NULL);
    pthread_mutex_destroy(&p->mutex);
    pthread_cond_destroy(&p->cond);
    free(p->ids);
    p->ids = NULL;
}

void tfl_pool_run(pool *p, tfl_pool_fn fn, void *arg, int chunks)
{
    if (chunks <= 1 || p->threads <= 1 || p->started != p->threads - 1 || p->serial) {
        for (int c = 0; c < chunks; c++)
            fn(arg, c, chunks, 0);
        return;
    }
    /* Publish the job; wait until no piece is left and no worker is still inside it. */
    p->fn = fn;
    p->arg = arg;
    if (chunks > 0xffff)
        chunks = 0xffff;
    const uint64_t job = (atomic_load(&p->work) >> 32) + 1;
    atomic_store(&p->work, (uint_fast64_t)job << 32 | (uint_fast64_t)chunks << 16);
    pthread_mutex_lock(&p->mutex);
    if (p->sleepers)
        pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mutex);
    pool_drain(p, job, 0);
    /* A worker still inside a piece: spin briefly, then give the core away so that a
     * descheduled worker sharing it can finish. */
    for (int spins = 0; atomic_load(&p->active) > 0; spins++) {
        if (spins < 256)
            cpu_relax();
        else
            sched_yield();
    }
}

/* With several threads the interpreter measures instead of assuming: it alternates phases
 * where the workers share the operators and phases where the calling thread runs alone,
 * keeps the faster kind for 124 invokes and re-measures the other for 4. On an idle machine
 * the workers win; on one whose other cores are busy (workers preempted inside their pieces)
 * the caller alone wins. Results are identical either way. */
void tfl_pool_account_invoke(pool *workers, double seconds)
{
    if (workers->threads <= 1)
        return;
    const int kind = workers->serial;
    workers->phase_seconds[kind] += seconds;
    workers->phase_invokes[kind]++;
    if (--workers->phase_left <= 0) {
        const int serial_measured = workers->phase_invokes[1] > 0;
        const double parallel_mean = workers->phase_seconds[0] / (workers->phase_invokes[0] ? workers->phase_invokes[0] : 1);
        const double serial_mean = workers->phase_seconds[1] / (serial_measured ? workers->phase_invokes[1] : 1);
        const int parallel_wins = !serial_measured || parallel_mean < serial_mean;
        workers->serial = !kind;
        workers->phase_left = (workers->serial ? !parallel_wins : parallel_wins) ? 124 : 4;
        workers->phase_seconds[workers->serial] = 0.0;
        workers->phase_invokes[workers->serial] = 0;
    }
}
