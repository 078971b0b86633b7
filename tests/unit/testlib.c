/* Shared test helpers (see testlib.h). */
#include "testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const char *rotating_path(const char *base_env, const char *fallback, const char *relative)
{
    static char buffers[8][4096];
    static int next;
    const char *base = getenv(base_env);
    if (!base)
        base = fallback;
    char *out = buffers[next++ % 8];
    snprintf(out, sizeof buffers[0], "%s/%s", base, relative);
    return out;
}

const char *shared_path(const char *relative)
{
    return rotating_path("VB_SHARED", "../shared", relative);
}

const char *temp_path(const char *name)
{
    return rotating_path("VB_TEST_TMP", "/tmp", name);
}

int test_sanitized(void)
{
    const char *s = getenv("VB_SANITIZED");
    return s && s[0] == '1';
}

void test_require_isa(const char *isa, int cpu_has_it)
{
    if (!cpu_has_it) {
        print_message("ISA skipped: %s (this CPU lacks it; the case did not run)\n", isa);
        skip();
    }
    print_message("ISA tested: %s\n", isa);
}

double relative_error(const float *actual, const float *expected, size_t n, double *max_abs_diff)
{
    double max_diff = 0, max_value = 0;
    int not_finite = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)actual[i] - (double)expected[i]);
        /* a NaN or Inf anywhere (either side) must survive later finite elements: it is
         * remembered, not folded into a max that the next comparison would overwrite */
        if (!isfinite(actual[i]) || !isfinite(expected[i]))
            not_finite = 1;
        else if (d > max_diff)
            max_diff = d;
        if (fabs(expected[i]) > max_value)
            max_value = fabs(expected[i]);
    }
    if (not_finite)
        max_diff = NAN;
    if (max_abs_diff)
        *max_abs_diff = max_diff;
    return max_value > 0 ? max_diff / max_value : max_diff;
}

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        return -1;
    fputs(text, fp);
    return fclose(fp);
}

void test_mirror_start(test_mirror *mirror, const char *root)
{
    static int serial;
    memset(mirror, 0, sizeof *mirror);
    char port_file[4096];
    char name[64];
    snprintf(name, sizeof name, "mirror-%d-%d", (int)getpid(), serial++);
    snprintf(port_file, sizeof port_file, "%s.port", temp_path(name));
    snprintf(mirror->log_path, sizeof mirror->log_path, "%s.log", temp_path(name));
    snprintf(mirror->faults_path, sizeof mirror->faults_path, "%s.faults.json", temp_path(name));
    unlink(port_file);
    unlink(mirror->log_path);
    write_text(mirror->faults_path, "[]");
    const char *repo = getenv("VB_ROOT");
    char script[4096];
    snprintf(script, sizeof script, "%s/tests/tools/mirror_server.py", repo ? repo : ".");
    pid_t pid = fork();
    if (pid == 0) {
        execl("/usr/bin/python3", "python3", script, "--root", root, "--port-file", port_file,
              "--log", mirror->log_path, "--faults", mirror->faults_path, "--max-seconds", "300",
              (char *)NULL);
        _exit(127);
    }
    assert_true(pid > 0);
    mirror->pid = pid;
    for (int i = 0; i < 1000; i++) {
        FILE *fp = fopen(port_file, "r");
        if (fp) {
            int ok = fscanf(fp, "%d", &mirror->port) == 1;
            fclose(fp);
            if (ok) {
                snprintf(mirror->base_url, sizeof mirror->base_url, "http://127.0.0.1:%d", mirror->port);
                return;
            }
        }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    test_mirror_stop(mirror);
    fail_msg("test mirror did not start (%s)", script);
}

void test_mirror_stop(test_mirror *mirror)
{
    if (mirror->pid > 0) {
        kill(mirror->pid, SIGTERM);
        waitpid(mirror->pid, NULL, 0);
        mirror->pid = 0;
    }
}

void test_mirror_set_faults(test_mirror *mirror, const char *json)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.new", mirror->faults_path);
    assert_int_equal(write_text(tmp, json), 0);
    assert_int_equal(rename(tmp, mirror->faults_path), 0);
}

int test_mirror_count_requests(const test_mirror *mirror, ...)
{
    FILE *fp = fopen(mirror->log_path, "r");
    if (!fp)
        return 0;
    char line[8192];
    int count = 0;
    while (fgets(line, sizeof line, fp)) {
        va_list ap;
        va_start(ap, mirror);
        int all = 1;
        for (const char *needle; (needle = va_arg(ap, const char *));)
            if (!strstr(line, needle))
                all = 0;
        va_end(ap);
        count += all;
    }
    fclose(fp);
    return count;
}
