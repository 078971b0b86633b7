/* vb_threads_resolve: the one place a thread count of 0 becomes a number (see threads.h). */
#include "vidbench/threads.h"

#include <stdlib.h>
#include <unistd.h>

int vb_threads_resolve(int requested)
{
    if (requested >= 1)
        return requested > VB_THREADS_MAX ? VB_THREADS_MAX : requested;
    const char *env = getenv("VIDBENCH_THREADS");
    if (env && *env) {
        char *end;
        long n = strtol(env, &end, 10);
        if (*end == '\0' && n >= 1 && n <= VB_THREADS_MAX)
            return (int)n;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        return 1;
    return cores > VB_THREADS_MAX ? VB_THREADS_MAX : (int)cores;
}
