/* Slurm submission of one evaluation (slurm.h): batch scripts written to RESULTS_DIR/slurm/,
 * submitted with the real sbatch, watched with scontrol, progress read from the shard stores.
 * Programs are run with posix_spawnp and an argument vector (never through a shell), their output
 * read through a pipe with a size bound. */
#include "vidbench/slurm.h"
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_OUTPUT_BYTES (1u << 20)

/* ---- running the scheduler's programs ---- */

/* Runs argv[0] (searched in PATH) with stdout and stderr into out (NUL-terminated, at most
 * out_size - 1 bytes kept). Returns 0 and the exit status, or an error when it cannot run. */
static int run_program(const char *const argv[], char *out, size_t out_size, int *exit_status, vb_error *err)
{
    int fds[2];
    if (pipe(fds))
        return vb_error_set(err, VB_EIO, "%s: cannot create a pipe: %s", argv[0], strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &actions, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc) {
        close(fds[0]);
        return vb_error_set(err, VB_ENOTFOUND, "cannot run %s: %s (is Slurm installed and on PATH?)", argv[0],
                            strerror(rc));
    }
    size_t used = 0;
    char chunk[4096];
    ssize_t n;
    while ((n = read(fds[0], chunk, sizeof chunk)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        size_t keep = (size_t)n < out_size - 1 - used ? (size_t)n : out_size - 1 - used;
        memcpy(out + used, chunk, keep);
        used += keep;
    }
    out[used] = '\0';
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    *exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return 0;
}

/* The last non-empty line of text, trimmed, into out. */
static void last_line(const char *text, char *out, size_t out_size)
{
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
        n--;
    size_t start = n;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    snprintf(out, out_size, "%.*s", (int)(n - start), text + start);
}

/* sbatch --parsable prints "jobid[;cluster]". */
static int sbatch(const char *const argv[], char id[32], vb_error *err)
{
    char *out = malloc(MAX_OUTPUT_BYTES);
    if (!out)
        return vb_error_set(err, VB_ENOMEM, "out of memory");
    int status, rc = run_program(argv, out, MAX_OUTPUT_BYTES, &status, err);
    if (!rc) {
        char line[256];
        last_line(out, line, sizeof line);
        line[strcspn(line, ";")] = '\0';
        size_t digits = strspn(line, "0123456789");
        if (status != 0 || digits == 0 || digits != strlen(line) || digits >= 32)
            rc = vb_error_set(err, VB_EIO, "sbatch failed (exit %d): %.400s", status, out);
        else {
            memcpy(id, line, digits);
            id[digits] = '\0';
        }
    }
    free(out);
    return rc;
}

/* ---- the scripts ---- */

typedef struct text_buffer {
    char *data;
    size_t used, capacity;
    int failed;
} text_buffer;

static void append(text_buffer *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void append(text_buffer *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->data ? b->data + b->used : NULL, b->data ? b->capacity - b->used : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if (b->data && (size_t)n < b->capacity - b->used) {
            b->used += (size_t)n;
            return;
        }
        size_t capacity = (b->capacity ? b->capacity : 4096) + (size_t)n + 4096;
        char *grown = realloc(b->data, capacity);
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->data = grown;
        b->capacity = capacity;
    }
}

/* A single-quoted shell word: ' becomes '\''. */
static void append_quoted(text_buffer *b, const char *word)
{
    append(b, "'");
    for (const char *p = word; *p; p++) {
        if (*p == '\'')
            append(b, "'\\''");
        else
            append(b, "%c", *p);
    }
    append(b, "'");
}

static int has_line_break(const char *text)
{
    return text && (strchr(text, '\n') || strchr(text, '\r'));
}

static void append_resources(text_buffer *b, const vb_slurm_options *o, int with_cpus)
{
    if (o->partition)
        append(b, "#SBATCH --partition=%s\n", o->partition);
    if (with_cpus && o->cpus_per_task > 0)
        append(b, "#SBATCH --cpus-per-task=%d\n", o->cpus_per_task);
    if (o->mem)
        append(b, "#SBATCH --mem=%s\n", o->mem);
    if (o->time)
        append(b, "#SBATCH --time=%s\n", o->time);
    for (int i = 0; i < o->extra_arg_count; i++)
        append(b, "#SBATCH %s\n", o->extra_args[i]);
}

static int check_options(const vb_slurm_options *o, vb_error *err)
{
    if (o->tasks < 1 || o->tasks > VB_SLURM_MAX_TASKS)
        return vb_error_set(err, VB_EINVAL, "--tasks %d: expected 1..%d", o->tasks, VB_SLURM_MAX_TASKS);
    if (!o->vidbench_path || o->vidbench_path[0] != '/' || !o->workdir || o->workdir[0] != '/')
        return vb_error_set(err, VB_EINVAL, "submit: the vidbench path and the working dir must be absolute");
    if (o->extra_arg_count < 0 || o->extra_arg_count > VB_SLURM_MAX_EXTRA_ARGS)
        return vb_error_set(err, VB_EINVAL, "submit: at most %d --sbatch-arg", VB_SLURM_MAX_EXTRA_ARGS);
    const char *fields[] = {o->partition, o->mem, o->time, o->vidbench_path, o->workdir};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (has_line_break(fields[i]))
            return vb_error_set(err, VB_EINVAL, "submit: a line break in '%s'", fields[i]);
    for (int i = 0; i < o->extra_arg_count; i++)
        if (!o->extra_args[i] || o->extra_args[i][0] != '-' || has_line_break(o->extra_args[i]))
            return vb_error_set(err, VB_EINVAL, "--sbatch-arg '%s': expected one sbatch option such as --qos=high",
                                o->extra_args[i] ? o->extra_args[i] : "");
    return 0;
}

int vb_slurm_plan_make(const vb_eval_config *config, const char *const *eval_args, int eval_argc,
                       const vb_slurm_options *o, vb_slurm_plan *plan, vb_error *err)
{
    memset(plan, 0, sizeof *plan);
    int rc = check_options(o, err);
    if (rc)
        return rc;
    if (config->shard_count > 1)
        return vb_error_set(err, VB_EINVAL, "submit makes the shards itself: drop --shard");
    {   /* what every task will be asked, refused here rather than in N task logs */
        vb_eval_config task = *config;
        task.shard_index = 0;
        task.shard_count = o->tasks;
        if ((rc = vb_eval_config_validate(&task, err)))
            return vb_error_prefix(err, "submit --tasks %d: ", o->tasks);
    }
    for (int i = 0; i < eval_argc; i++)
        if (!eval_args[i])
            return vb_error_set(err, VB_EINVAL, "submit: missing argument %d", i);
    if ((rc = vb_eval_output_base(config, plan->merged_base, sizeof plan->merged_base, err)))
        return rc;
    plan->tasks = o->tasks;
    const char *results = config->results_dir[0] ? config->results_dir : ".";
    char results_abs[VB_EVAL_PATH_BYTES];
    if (results[0] == '/')
        snprintf(results_abs, sizeof results_abs, "%s", results);
    else
        snprintf(results_abs, sizeof results_abs, "%.2000s/%.2000s", o->workdir, results);
    if (has_line_break(results_abs) || strchr(results_abs, '%'))
        return vb_error_set(err, VB_EINVAL, "--results_dir '%s': line breaks and %% are not allowed in Slurm paths",
                            results_abs);
    snprintf(plan->dir, sizeof plan->dir, "%.4000s/slurm", results_abs);
    snprintf(plan->evaluate_script, sizeof plan->evaluate_script, "%s/evaluate.sbatch", plan->dir);
    snprintf(plan->merge_script, sizeof plan->merge_script, "%s/merge.sbatch", plan->dir);
    snprintf(plan->jobs_file, sizeof plan->jobs_file, "%s/jobs", plan->dir);
    snprintf(plan->log_pattern, sizeof plan->log_pattern, "%s/logs/task-%%a.log", plan->dir);
    char base_abs[VB_EVAL_PATH_BYTES + 64];
    if (plan->merged_base[0] == '/')
        snprintf(base_abs, sizeof base_abs, "%s", plan->merged_base);
    else
        snprintf(base_abs, sizeof base_abs, "%.2000s/%.2000s", o->workdir, plan->merged_base);
    snprintf(plan->merged_base, sizeof plan->merged_base, "%s", base_abs);

    text_buffer e = {0};
    append(&e, "#!/bin/bash\n"
               "# One shard of a vidbench evaluation, as a Slurm array task (written by `vidbench submit`).\n"
               "# Task i runs `vidbench evaluate ... --shard i/%d`; a requeued or resubmitted task resumes\n"
               "# from its results store, so nothing it committed is computed again.\n", o->tasks);
    append(&e, "#SBATCH --job-name=vidbench-eval\n#SBATCH --array=0-%d\n#SBATCH --chdir=%s\n", o->tasks - 1, o->workdir);
    append(&e, "#SBATCH --output=%s\n#SBATCH --open-mode=append\n#SBATCH --requeue\n", plan->log_pattern);
    append_resources(&e, o, 1);
    append(&e, "set -euo pipefail\n"
               "# The model runs on the CPUs Slurm gave the task, not on every core of the node.\n"
               "if [ -n \"${SLURM_CPUS_PER_TASK:-}\" ]; then export VIDBENCH_THREADS=$SLURM_CPUS_PER_TASK; fi\n"
               "# A data dir named with %%a (Slurm's array-task pattern) is one per task, e.g. node-local\n"
               "# /tmp/vidbench-data-%%a where several tasks share a node; partition shards fetch only their own.\n"
               "if [ -n \"${VIDBENCH_DATA_DIR:-}\" ]; then export VIDBENCH_DATA_DIR=\"${VIDBENCH_DATA_DIR//\\%%a/$SLURM_ARRAY_TASK_ID}\"; fi\n"
               "echo \"vidbench submit: task ${SLURM_ARRAY_TASK_ID}/%d on $(hostname) at $(date -u +%%FT%%TZ)"
               " (restart ${SLURM_RESTART_COUNT:-0})\"\n", o->tasks);
    append(&e, "exec ");
    append_quoted(&e, o->vidbench_path);
    append(&e, " evaluate");
    for (int i = 0; i < eval_argc; i++) {
        append(&e, " ");
        append_quoted(&e, eval_args[i]);
    }
    append(&e, " --shard \"${SLURM_ARRAY_TASK_ID}/%d\"\n", o->tasks);

    text_buffer m = {0};
    append(&m, "#!/bin/bash\n"
               "# Merges the %d shard stores of a vidbench evaluation into one store, CSV and summary once\n"
               "# every array task succeeded (submitted with --dependency=afterok:<array>).\n", o->tasks);
    append(&m, "#SBATCH --job-name=vidbench-merge\n#SBATCH --chdir=%s\n#SBATCH --output=%s/logs/merge.log\n"
               "#SBATCH --open-mode=append\n", o->workdir, plan->dir);
    append_resources(&m, o, 0);
    append(&m, "set -euo pipefail\nexec ");
    append_quoted(&m, o->vidbench_path);
    append(&m, " merge --top_n %d --output ", config->top_n);
    append_quoted(&m, plan->merged_base);
    for (int i = 0; i < o->tasks; i++) {
        char store[VB_EVAL_PATH_BYTES + 128];
        snprintf(store, sizeof store, "%s.shard%dof%d.sqlite", plan->merged_base, i, o->tasks);
        append(&m, " \\\n    ");
        append_quoted(&m, store);
    }
    append(&m, "\n");
    if (e.failed || m.failed) {
        free(e.data);
        free(m.data);
        return vb_error_set(err, VB_ENOMEM, "submit: out of memory");
    }
    plan->evaluate_text = e.data;
    plan->merge_text = m.data;
    return 0;
}

void vb_slurm_plan_free(vb_slurm_plan *plan)
{
    if (!plan)
        return;
    free(plan->evaluate_text);
    free(plan->merge_text);
    plan->evaluate_text = plan->merge_text = NULL;
}

static int write_text(const char *path, const char *text, vb_error *err)
{
    fs_atomic_file file;
    int rc = fs_atomic_open(&file, path, err);
    if (rc)
        return rc;
    if (fputs(text, file.fp) == EOF) {
        fs_atomic_abort(&file);
        return vb_error_set(err, VB_EIO, "%s: write failed: %s", path, strerror(errno));
    }
    return fs_atomic_commit(&file, err);
}

/* The jobs file: "key=value" lines; later "resubmit=" lines name newer jobs of some tasks. */
static int write_jobs(const vb_slurm_plan *plan, const char *array_id, const char *merge_id, vb_error *err)
{
    char text[VB_EVAL_PATH_BYTES * 2 + 256];
    snprintf(text, sizeof text, "array=%s\nmerge=%s\ntasks=%d\nbase=%s\nsubmitted=%ld\n", array_id, merge_id,
             plan->tasks, plan->merged_base, (long)time(NULL));
    return write_text(plan->jobs_file, text, err);
}

int vb_slurm_submit(vb_slurm_plan *plan, char array_id[32], char merge_id[32], vb_error *err)
{
    char logs[VB_EVAL_PATH_BYTES + 16];
    snprintf(logs, sizeof logs, "%s/logs", plan->dir);
    int rc = fs_mkdir_p(logs, err);
    if (!rc)
        rc = write_text(plan->evaluate_script, plan->evaluate_text, err);
    if (!rc)
        rc = write_text(plan->merge_script, plan->merge_text, err);
    if (rc)
        return rc;
    const char *array_argv[] = {"sbatch", "--parsable", plan->evaluate_script, NULL};
    if ((rc = sbatch(array_argv, array_id, err)))
        return rc;
    char dependency[64];
    snprintf(dependency, sizeof dependency, "--dependency=afterok:%s", array_id);
    const char *merge_argv[] = {"sbatch", "--parsable", dependency, plan->merge_script, NULL};
    if ((rc = sbatch(merge_argv, merge_id, err)))
        return rc;
    return write_jobs(plan, array_id, merge_id, err);
}

/* ---- status ---- */

/* The job ids recorded for a submission: task i runs as "<job>_<i>" of the latest array that
 * covered it. */
typedef struct jobs_record {
    char array_id[32], merge_id[32];
    int tasks;
    char base[VB_EVAL_PATH_BYTES + 64];
    char (*task_job)[32];         /* [tasks] the array id that last ran task i */
} jobs_record;

static int parse_task_list(const char *list, int tasks, char (*task_job)[32], const char *job)
{
    const char *p = list;
    while (*p) {
        char *end;
        long i = strtol(p, &end, 10);
        if (end == p || i < 0 || i >= tasks)
            return -1;
        snprintf(task_job[i], 32, "%s", job);
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return 0;
}

static int read_jobs(const char *results_dir, jobs_record *r, vb_error *err)
{
    memset(r, 0, sizeof *r);
    char path[VB_EVAL_PATH_BYTES + 32];
    snprintf(path, sizeof path, "%.4000s/slurm/jobs", results_dir);
    char *text = NULL;
    size_t size = 0;
    int rc = fs_read_file(path, 1 << 20, &text, &size, err);
    if (rc)
        return fs_path_exists(path) ? rc
                                    : vb_error_set(err, VB_ENOTFOUND, "%s: nothing was submitted from this results dir "
                                                   "(no %s)", results_dir, path);
    char *line = text;
    while (!rc && line && *line) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *eq = strchr(line, '=');
        if (eq) {
            *eq = '\0';
            const char *key = line, *value = eq + 1;
            long n;
            if (!strcmp(key, "array") && strlen(value) < 32 && strspn(value, "0123456789") == strlen(value))
                snprintf(r->array_id, sizeof r->array_id, "%s", value);
            else if (!strcmp(key, "merge") && strlen(value) < 32 && strspn(value, "0123456789") == strlen(value))
                snprintf(r->merge_id, sizeof r->merge_id, "%s", value);
            else if (!strcmp(key, "base"))
                snprintf(r->base, sizeof r->base, "%s", value);
            else if (!strcmp(key, "tasks") && !r->task_job) {
                char *end;
                n = strtol(value, &end, 10);
                if (*end || n < 1 || n > VB_SLURM_MAX_TASKS)
                    rc = vb_error_set(err, VB_EFORMAT, "%s: tasks=%s is not 1..%d", path, value, VB_SLURM_MAX_TASKS);
                else if (!(r->task_job = calloc((size_t)n, sizeof *r->task_job)))
                    rc = vb_error_set(err, VB_ENOMEM, "out of memory");
                else
                    r->tasks = (int)n;
            } else if (!strcmp(key, "resubmit") && r->task_job) {
                /* resubmit=<array id>:<merge id>:<task,task,...> */
                char job[32] = "", merge[32] = "";
                const char *c1 = strchr(value, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c1 || !c2 || c1 - value >= 32 || c2 - c1 - 1 >= 32 ||
                    (snprintf(job, sizeof job, "%.*s", (int)(c1 - value), value),
                     snprintf(merge, sizeof merge, "%.*s", (int)(c2 - c1 - 1), c1 + 1),
                     parse_task_list(c2 + 1, r->tasks, r->task_job, job)))
                    rc = vb_error_set(err, VB_EFORMAT, "%s: bad resubmit line '%s'", path, value);
                else
                    snprintf(r->merge_id, sizeof r->merge_id, "%s", merge);
            }
        }
        line = next;
    }
    free(text);
    if (!rc && (!r->array_id[0] || !r->tasks || !r->base[0]))
        rc = vb_error_set(err, VB_EFORMAT, "%s: incomplete (needs array, tasks and base)", path);
    for (int i = 0; !rc && i < r->tasks; i++)
        if (!r->task_job[i][0])
            snprintf(r->task_job[i], 32, "%s", r->array_id);
    if (rc) {
        free(r->task_job);
        r->task_job = NULL;
    }
    return rc;
}

/* JobState of "<job>" from `scontrol -o show job <job>`; "unknown" when Slurm forgot it. */
static void job_state(const char *job, char state[32])
{
    snprintf(state, 32, "unknown");
    char out[8192];
    int status;
    const char *argv[] = {"scontrol", "-o", "show", "job", job, NULL};
    if (run_program(argv, out, sizeof out, &status, NULL) || status != 0)
        return;
    const char *p = strstr(out, "JobState=");
    if (p) {
        p += strlen("JobState=");
        size_t n = strcspn(p, " \n");
        snprintf(state, 32, "%.*s", (int)(n < 31 ? n : 31), p);
    }
}

static int state_is_active(const char *state)
{
    static const char *const active[] = {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED",
                                         "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING", "SUSPENDED", "STOPPED",
                                         "SIGNALING", "STAGE_OUT"};
    for (size_t i = 0; i < sizeof active / sizeof active[0]; i++)
        if (!strcmp(state, active[i]))
            return 1;
    return 0;
}

int vb_slurm_status_read(const char *results_dir, vb_slurm_status *st, vb_error *err)
{
    memset(st, 0, sizeof *st);
    jobs_record r;
    int rc = read_jobs(results_dir, &r, err);
    if (rc)
        return rc;
    snprintf(st->array_id, sizeof st->array_id, "%s", r.array_id);
    snprintf(st->merge_id, sizeof st->merge_id, "%s", r.merge_id);
    st->tasks = r.tasks;
    st->task = calloc((size_t)r.tasks, sizeof *st->task);
    if (!st->task) {
        free(r.task_job);
        return vb_error_set(err, VB_ENOMEM, "out of memory");
    }
    for (int i = 0; i < r.tasks; i++) {
        vb_slurm_task *t = &st->task[i];
        t->index = i;
        snprintf(t->log_path, sizeof t->log_path, "%.4000s/slurm/logs/task-%d.log", results_dir, i);
        char store[VB_EVAL_PATH_BYTES + 128], job[64];
        snprintf(store, sizeof store, "%s.shard%dof%d.sqlite", r.base, i, r.tasks);
        vb_eval_store_progress progress;
        if (vb_eval_store_progress_read(store, &progress, NULL) == 0) {
            t->selected = progress.selected;
            t->done = progress.done;
        } else {
            t->selected = -1;
        }
        snprintf(job, sizeof job, "%s_%d", r.task_job[i], i);
        job_state(job, t->state);
        const int finished = t->selected >= 0 && t->done >= t->selected;
        t->failed = !state_is_active(t->state) && (!finished || (strcmp(t->state, "COMPLETED") &&
                                                                 strcmp(t->state, "unknown")));
    }
    if (r.merge_id[0])
        job_state(r.merge_id, st->merge_state);
    snprintf(st->merged_csv, sizeof st->merged_csv, "%s.csv", r.base);
    snprintf(st->merge_log, sizeof st->merge_log, "%.4000s/slurm/logs/merge.log", results_dir);
    st->merged = fs_path_exists(st->merged_csv);
    free(r.task_job);
    return 0;
}

void vb_slurm_status_free(vb_slurm_status *status)
{
    if (!status)
        return;
    free(status->task);
    status->task = NULL;
}

int vb_slurm_active(const vb_slurm_status *st)
{
    int failed = 0;
    for (int i = 0; i < st->tasks; i++) {
        if (state_is_active(st->task[i].state))
            return 1;
        failed |= st->task[i].failed;
    }
    if (!st->merge_id[0])
        return 0;
    if (!strcmp(st->merge_state, "PENDING"))
        return !failed;   /* it waits on the array, and never runs once a task failed */
    return state_is_active(st->merge_state);
}

int vb_slurm_resubmit(const char *results_dir, int *count, char array_id[32], char merge_id[32], vb_error *err)
{
    *count = 0;
    vb_slurm_status st;
    int rc = vb_slurm_status_read(results_dir, &st, err);
    if (rc)
        return rc;
    text_buffer list = {0};
    for (int i = 0; i < st.tasks; i++)
        if (st.task[i].failed) {
            append(&list, "%s%d", *count ? "," : "", i);
            ++*count;
        }
    char dir[VB_EVAL_PATH_BYTES + 16], evaluate_script[VB_EVAL_PATH_BYTES + 64], merge_script[VB_EVAL_PATH_BYTES + 64],
        jobs_file[VB_EVAL_PATH_BYTES + 64];
    snprintf(dir, sizeof dir, "%.4000s/slurm", results_dir);
    snprintf(evaluate_script, sizeof evaluate_script, "%s/evaluate.sbatch", dir);
    snprintf(merge_script, sizeof merge_script, "%s/merge.sbatch", dir);
    snprintf(jobs_file, sizeof jobs_file, "%s/jobs", dir);
    if (*count == 0) {
        rc = vb_error_set(err, VB_ESTATE, "%s: no failed task to resubmit", results_dir);
        goto done;
    }
    if (list.failed) {
        rc = vb_error_set(err, VB_ENOMEM, "out of memory");
        goto done;
    }
    /* The old merge job can never start (a task it waits on failed): cancel it. */
    if (st.merge_id[0] && !strcmp(st.merge_state, "PENDING")) {
        char out[4096];
        int status;
        const char *cancel_argv[] = {"scancel", st.merge_id, NULL};
        run_program(cancel_argv, out, sizeof out, &status, NULL);
    }
    char array_option[64];
    if (list.used + 16 > sizeof array_option) {
        rc = vb_error_set(err, VB_ELIMIT, "%s: too many failed tasks to resubmit at once (%d)", results_dir, *count);
        goto done;
    }
    snprintf(array_option, sizeof array_option, "--array=%s", list.data);
    const char *array_argv[] = {"sbatch", "--parsable", array_option, evaluate_script, NULL};
    if ((rc = sbatch(array_argv, array_id, err)))
        goto done;
    char dependency[64];
    snprintf(dependency, sizeof dependency, "--dependency=afterok:%s", array_id);
    const char *merge_argv[] = {"sbatch", "--parsable", dependency, merge_script, NULL};
    if ((rc = sbatch(merge_argv, merge_id, err)))
        goto done;
    /* Append the new ids to the jobs file (rewritten whole, atomically). */
    char *old = NULL;
    size_t size = 0;
    if ((rc = fs_read_file(jobs_file, 1 << 20, &old, &size, err)))
        goto done;
    text_buffer jobs = {0};
    append(&jobs, "%.*sresubmit=%s:%s:%s\n", (int)size, old, array_id, merge_id, list.data);
    free(old);
    rc = jobs.failed ? vb_error_set(err, VB_ENOMEM, "out of memory") : write_text(jobs_file, jobs.data, err);
    free(jobs.data);
done:
    free(list.data);
    vb_slurm_status_free(&st);
    return rc;
}
