/* vidbench submit: one evaluation as a Slurm job array of shards plus a merge job
 * (include/vidbench/slurm.h does the work); --status and --resubmit for a submitted run. */
#include "cli.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vidbench/eval.h"
#include "vidbench/slurm.h"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: vidbench submit [@FILE] [--flag value ...] --tasks N [--partition P] [--cpus-per-task C]\n"
        "                       [--mem M] [--time T] [--sbatch-arg ARG]... [--wait] [--dry-run]\n"
        "       vidbench submit --status RESULTS_DIR\n"
        "       vidbench submit --resubmit RESULTS_DIR [--wait]\n"
        "\n"
        "Runs `vidbench evaluate` with the given flags (the seed's, @FILE included) on a Slurm cluster:\n"
        "a job array of N tasks (task i evaluates --shard i/N, resuming from its results store when\n"
        "requeued) and a merge job that starts once every task succeeded. The batch scripts, the job ids\n"
        "and the logs go to RESULTS_DIR/slurm/; RESULTS_DIR must be on a filesystem every node sees.\n"
        "  --tasks N            array tasks (shards)\n"
        "  --partition P        --cpus-per-task C   --mem M   --time T   as for sbatch\n"
        "  --sbatch-arg ARG     any other sbatch option for both jobs (repeatable), e.g. --qos=high\n"
        "  --dry-run            print both scripts, submit nothing\n"
        "  --wait               wait until the jobs end, then print the status (exit 1 if a task failed)\n"
        "  --status DIR         progress of every task from its shard store, failed tasks with their log\n"
        "  --resubmit DIR       submit the failed tasks again (they resume) and a new merge job\n");
}

static void print_log_tail(const char *path, int lines)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("      (no log at %s)\n", path);
        return;
    }
    char ring[8][512];
    int count = 0;
    while (count < 1000000 && fgets(ring[count % lines], sizeof ring[0], f))
        count++;
    fclose(f);
    for (int i = count > lines ? count - lines : 0; i < count; i++) {
        char *line = ring[i % lines];
        line[strcspn(line, "\n")] = '\0';
        for (char *c = line; *c; c++)   /* a log is the task's output: no terminal control bytes */
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                *c = '?';
        printf("      | %s\n", line);
    }
}

/* Prints the status; returns the exit code it implies (1 when a task or the merge failed). */
static int print_status(const char *results_dir, vb_slurm_status *st)
{
    printf("array job %s (%d tasks), merge job %s: %s\n", st->array_id, st->tasks,
           st->merge_id[0] ? st->merge_id : "-", st->merge_id[0] ? st->merge_state : "-");
    printf("%-6s %-12s %s\n", "task", "state", "clips done/selected");
    int failed = 0;
    for (int i = 0; i < st->tasks; i++) {
        const vb_slurm_task *t = &st->task[i];
        if (t->selected >= 0)
            printf("%-6d %-12s %ld/%ld%s\n", i, t->state, t->done, t->selected, t->failed ? "  FAILED" : "");
        else
            printf("%-6d %-12s no store yet%s\n", i, t->state, t->failed ? "  FAILED" : "");
        if (t->failed) {
            failed = 1;
            printf("      log %s:\n", t->log_path);
            print_log_tail(t->log_path, 8);
        }
    }
    const int merge_failed = st->merge_id[0] && !st->merged && !vb_slurm_active(st) && !failed;
    if (st->merged)
        printf("merged: %s\n", st->merged_csv);
    else if (merge_failed) {
        printf("merge job %s ended without %s; log %s:\n", st->merge_id, st->merged_csv, st->merge_log);
        print_log_tail(st->merge_log, 8);
    }
    if (failed)
        printf("resubmit the failed tasks with: vidbench submit --resubmit %s\n", results_dir);
    return failed || merge_failed ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}

static int wait_and_report(const char *results_dir)
{
    vb_error err = {0};
    for (;;) {
        vb_slurm_status st;
        if (vb_slurm_status_read(results_dir, &st, &err))
            return cli_fail(&err);
        if (!vb_slurm_active(&st)) {
            int rc = print_status(results_dir, &st);
            if (rc == CLI_EXIT_OK && !st.merged)
                rc = CLI_EXIT_FAILURE;
            vb_slurm_status_free(&st);
            return rc;
        }
        vb_slurm_status_free(&st);
        sleep(2);
    }
}

int cmd_submit(int argc, char **argv)
{
    vb_slurm_options options = {0};
    const char *status_dir = NULL, *resubmit_dir = NULL;
    int wait = 0, dry_run = 0;
    long n;
    const char **eval_args = calloc((size_t)argc + 1, sizeof *eval_args);
    if (!eval_args)
        return CLI_EXIT_FAILURE;
    int eval_argc = 0, rc = CLI_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            rc = CLI_EXIT_OK;
            goto done;
        } else if (!strcmp(a, "--tasks")) {
            if (!v || cli_parse_int(v, 1, VB_SLURM_MAX_TASKS, &n)) {
                rc = cli_usage_error("submit", "--tasks: expected 1..%d", VB_SLURM_MAX_TASKS);
                goto done;
            }
            options.tasks = (int)n;
            i++;
        } else if (!strcmp(a, "--cpus-per-task")) {
            if (!v || cli_parse_int(v, 1, 4096, &n)) {
                rc = cli_usage_error("submit", "--cpus-per-task: expected 1..4096");
                goto done;
            }
            options.cpus_per_task = (int)n;
            i++;
        } else if (!strcmp(a, "--partition") || !strcmp(a, "--mem") || !strcmp(a, "--time") ||
                   !strcmp(a, "--sbatch-arg") || !strcmp(a, "--status") || !strcmp(a, "--resubmit")) {
            if (!v || !*v) {
                rc = cli_usage_error("submit", "%s needs a value", a);
                goto done;
            }
            if (!strcmp(a, "--partition"))
                options.partition = v;
            else if (!strcmp(a, "--mem"))
                options.mem = v;
            else if (!strcmp(a, "--time"))
                options.time = v;
            else if (!strcmp(a, "--status"))
                status_dir = v;
            else if (!strcmp(a, "--resubmit"))
                resubmit_dir = v;
            else if (options.extra_arg_count == VB_SLURM_MAX_EXTRA_ARGS) {
                rc = cli_usage_error("submit", "at most %d --sbatch-arg", VB_SLURM_MAX_EXTRA_ARGS);
                goto done;
            } else
                options.extra_args[options.extra_arg_count++] = v;
            i++;
        } else if (!strcmp(a, "--wait")) {
            wait = 1;
        } else if (!strcmp(a, "--dry-run")) {
            dry_run = 1;
        } else {
            eval_args[eval_argc++] = a;   /* evaluate's flags (and their values), @FILE */
        }
    }
    vb_error err = {0};
    if (status_dir || resubmit_dir) {
        if (eval_argc || (status_dir && resubmit_dir) || options.tasks || dry_run) {
            rc = cli_usage_error("submit", "--status / --resubmit take only a results dir (and --wait)");
            goto done;
        }
        if (status_dir) {
            vb_slurm_status st;
            if (vb_slurm_status_read(status_dir, &st, &err)) {
                rc = cli_fail(&err);
                goto done;
            }
            rc = print_status(status_dir, &st);
            vb_slurm_status_free(&st);
            goto done;
        }
        char array_id[32], merge_id[32];
        int count;
        if (vb_slurm_resubmit(resubmit_dir, &count, array_id, merge_id, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
        printf("resubmitted %d task(s) as array job %s; merge job %s\n", count, array_id, merge_id);
        rc = wait ? wait_and_report(resubmit_dir) : CLI_EXIT_OK;
        goto done;
    }
    if (!options.tasks) {
        rc = cli_usage_error("submit", "--tasks N is required");
        goto done;
    }
    vb_eval_config config;
    vb_eval_config_init(&config);
    if (vb_eval_config_parse_args(&config, eval_argc, (char *const *)eval_args, &err) ||
        vb_eval_config_validate(&config, &err)) {
        rc = cli_usage_error("submit", "%s", err.message);
        goto done;
    }
    char self[PATH_MAX], cwd[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0 || !getcwd(cwd, sizeof cwd)) {
        fprintf(stderr, "vidbench submit: cannot find this program's path or the working directory\n");
        rc = CLI_EXIT_FAILURE;
        goto done;
    }
    self[len] = '\0';
    options.vidbench_path = self;
    options.workdir = cwd;
    vb_slurm_plan plan;
    if (vb_slurm_plan_make(&config, eval_args, eval_argc, &options, &plan, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    if (dry_run) {
        printf("%s", plan.evaluate_text);
        printf("# ---- merge job, submitted with --dependency=afterok:<array job id> ----\n");
        printf("%s", plan.merge_text);
        vb_slurm_plan_free(&plan);
        rc = CLI_EXIT_OK;
        goto done;
    }
    char array_id[32], merge_id[32];
    if (vb_slurm_submit(&plan, array_id, merge_id, &err)) {
        vb_slurm_plan_free(&plan);
        rc = cli_fail(&err);
        goto done;
    }
    printf("submitted array job %s (%d tasks: %s) and merge job %s (after all succeeded)\n", array_id,
           plan.tasks, plan.evaluate_script, merge_id);
    printf("logs: %s (task i: task-i.log), merge: %s/logs/merge.log\n", plan.log_pattern, plan.dir);
    printf("merged results will be %s.csv\n", plan.merged_base);
    char results_dir[VB_EVAL_PATH_BYTES];
    snprintf(results_dir, sizeof results_dir, "%.*s", (int)(strlen(plan.dir) - strlen("/slurm")), plan.dir);
    vb_slurm_plan_free(&plan);
    rc = wait ? wait_and_report(results_dir) : CLI_EXIT_OK;
done:
    free(eval_args);
    return rc;
}
