/* One evaluation on a Slurm cluster: a job array of N shard tasks (each `vidbench evaluate
 * ... --shard i/N`, resumable from its results store) and a merge job that runs after all of them
 * succeeded. The real sbatch / squeue / scontrol / scancel programs do the scheduling; this layer
 * writes readable batch scripts, submits them, and reads progress back from the shard stores.
 * Assumes a results dir on a filesystem every node sees (the scripts, logs and stores live there).
 */
#ifndef VIDBENCH_SLURM_H
#define VIDBENCH_SLURM_H

#include <stddef.h>
#include "vidbench/error.h"
#include "vidbench/eval.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VB_SLURM_MAX_TASKS 10000
#define VB_SLURM_MAX_EXTRA_ARGS 32

typedef struct vb_slurm_options {
    int tasks;                    /* N: shards 0..N-1, one array task each */
    const char *partition;        /* --partition; NULL: the cluster's default */
    int cpus_per_task;            /* --cpus-per-task; 0: unset (the task then uses every CPU it sees) */
    const char *mem;              /* --mem, e.g. "16G"; NULL: unset */
    const char *time;             /* --time, e.g. "04:00:00"; NULL: unset */
    const char *extra_args[VB_SLURM_MAX_EXTRA_ARGS];   /* more #SBATCH options, as given */
    int extra_arg_count;
    const char *vidbench_path;    /* absolute path of the vidbench the tasks run */
    const char *workdir;          /* absolute; the tasks run there (relative paths in flags) */
} vb_slurm_options;

/* What a submission is made of; the paths are under RESULTS_DIR/slurm/. */
typedef struct vb_slurm_plan {
    int tasks;
    char dir[VB_EVAL_PATH_BYTES];              /* RESULTS_DIR/slurm */
    char evaluate_script[VB_EVAL_PATH_BYTES + 32];
    char merge_script[VB_EVAL_PATH_BYTES + 32];
    char jobs_file[VB_EVAL_PATH_BYTES + 32];   /* ids of the submitted jobs (key=value lines) */
    char merged_base[VB_EVAL_PATH_BYTES + 64]; /* RESULTS_DIR/{model}_{split}{version} */
    char log_pattern[VB_EVAL_PATH_BYTES + 32]; /* RESULTS_DIR/slurm/logs/task-%a.log */
    char *evaluate_text;                       /* the scripts themselves (owned) */
    char *merge_text;
} vb_slurm_plan;

/* Checks the options, names the outputs after the model that will run (the model is opened once
 * to learn its class count, as evaluate does) and builds both scripts. eval_args are the flags as
 * the user gave them to `submit` (an @FILE among them), without --shard. Writes nothing. */
int vb_slurm_plan_make(const vb_eval_config *config, const char *const *eval_args, int eval_argc,
                       const vb_slurm_options *options, vb_slurm_plan *plan, vb_error *err);
void vb_slurm_plan_free(vb_slurm_plan *plan);

/* Writes the scripts (atomically) and submits the array, then the merge job with
 * --dependency=afterok:<array>. ids receive the job ids sbatch printed. */
int vb_slurm_submit(vb_slurm_plan *plan, char array_id[32], char merge_id[32], vb_error *err);

/* Shard i's progress from its results store and its job's state. */
typedef struct vb_slurm_task {
    int index;
    long selected;                /* clips of this shard; -1: the store does not exist yet */
    long done;                    /* of those, with a result (evaluated or skipped) */
    char state[32];               /* Slurm's state (PENDING, RUNNING, COMPLETED, FAILED...) or
                                     "unknown" when the scheduler no longer knows the job */
    int failed;                   /* the task ended without finishing its shard */
    char log_path[VB_EVAL_PATH_BYTES + 64];
} vb_slurm_task;

typedef struct vb_slurm_status {
    char array_id[32], merge_id[32];
    int tasks;
    vb_slurm_task *task;          /* [tasks] */
    char merge_state[32];
    int merged;                   /* the merged CSV exists */
    char merged_csv[VB_EVAL_PATH_BYTES + 80];
    char merge_log[VB_EVAL_PATH_BYTES + 64];
} vb_slurm_status;

/* Reads RESULTS_DIR/slurm/jobs and every shard store. VB_ENOTFOUND when nothing was submitted
 * from that results dir. */
int vb_slurm_status_read(const char *results_dir, vb_slurm_status *status, vb_error *err);
void vb_slurm_status_free(vb_slurm_status *status);
/* 1 while any job of the submission is still queued or running. */
int vb_slurm_active(const vb_slurm_status *status);

/* Resubmits the tasks that failed (cancelling the merge job that waits on them) and a new
 * merge job; what their stores hold is not computed again. count receives how many tasks. */
int vb_slurm_resubmit(const char *results_dir, int *count, char array_id[32], char merge_id[32],
                      vb_error *err);

#ifdef __cplusplus
}
#endif
#endif
