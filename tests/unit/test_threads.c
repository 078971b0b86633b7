/* The one thread policy (vb_threads_resolve): an explicit count wins, 0 means VIDBENCH_THREADS
 * when it is a valid count and the online cores otherwise; every backend reports the count it
 * resolved to. */
#include "testlib.h"

#include <stdlib.h>
#include <unistd.h>

#include "vidbench/movinet.h"
#include "vidbench/threads.h"

static int online_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > VB_THREADS_MAX ? VB_THREADS_MAX : (int)n;
}

static void explicit_count_wins_over_the_environment(void **state)
{
    (void)state;
    setenv("VIDBENCH_THREADS", "3", 1);
    assert_int_equal(vb_threads_resolve(1), 1);
    assert_int_equal(vb_threads_resolve(5), 5);
    assert_int_equal(vb_threads_resolve(VB_THREADS_MAX + 7), VB_THREADS_MAX);
    unsetenv("VIDBENCH_THREADS");
}

static void zero_reads_vidbench_threads(void **state)
{
    (void)state;
    setenv("VIDBENCH_THREADS", "3", 1);
    assert_int_equal(vb_threads_resolve(0), 3);
    assert_int_equal(vb_threads_resolve(-1), 3);
    unsetenv("VIDBENCH_THREADS");
}

static void zero_without_the_variable_is_every_core(void **state)
{
    (void)state;
    unsetenv("VIDBENCH_THREADS");
    assert_int_equal(vb_threads_resolve(0), online_cores());
}

static void invalid_variable_is_ignored(void **state)
{
    (void)state;
    const char *bad[] = {"", "0", "-2", "2x", "abc", "1025", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("VIDBENCH_THREADS", bad[i], 1);
        if (vb_threads_resolve(0) != online_cores())
            fail_msg("VIDBENCH_THREADS='%s' gave %d threads, expected the %d online cores", bad[i],
                     vb_threads_resolve(0), online_cores());
    }
    unsetenv("VIDBENCH_THREADS");
}

/* The regression this policy fixed: MoViNet's interpreter turned 0 into 1 thread. */
static void movinet_default_uses_the_policy(void **state)
{
    (void)state;
    const char *model = shared_path("models/movinet-a0-stream-int8-k600/movinet_a0_stream_int8.tflite");
    vb_movinet *mv = NULL;
    vb_error err = {0};
    unsetenv("VIDBENCH_THREADS");
    if (vb_movinet_open(model, 0, &mv, &err))
        fail_msg("%s", err.message);
    const int expected = online_cores() > 64 ? 64 : online_cores();   /* the interpreter's cap */
    assert_int_equal(vb_movinet_threads(mv), expected);
    vb_movinet_free(&mv);
    setenv("VIDBENCH_THREADS", "1", 1);
    if (vb_movinet_open(model, 0, &mv, &err))
        fail_msg("%s", err.message);
    assert_int_equal(vb_movinet_threads(mv), 1);
    vb_movinet_free(&mv);
    unsetenv("VIDBENCH_THREADS");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(explicit_count_wins_over_the_environment),
        cmocka_unit_test(zero_reads_vidbench_threads),
        cmocka_unit_test(zero_without_the_variable_is_every_core),
        cmocka_unit_test(invalid_variable_is_ignored),
        cmocka_unit_test(movinet_default_uses_the_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
