/* vidbench bench video: clips/s for decode + crop + resize + resample to 100 frames (float32
 * out, like the seed) on the Kinetics clips in ../shared, side by side in the same run with
 * the seed's OpenCV path in Python (bench/seed_opencv_path.py, run as a subprocess). */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <glob.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vidbench/video.h"

typedef struct bench_job {
    char **clips;
    int clip_count, repeat, num_frames, decoder_threads;
    int decode_only;            /* decode every frame, convert none (probe --count) */
    atomic_int next;
    atomic_int failed;
    atomic_long frames, skipped; /* frames in the clips, and of those left undecoded */
    double checksum;            /* keeps the float conversion from being optimized away */
    pthread_mutex_t lock;
} bench_job;

/* One clip the way a classifier gets it: uint8 frames -> float32 in [0,1], into a tensor
 * the worker reuses from clip to clip (as an evaluation loop does). */
static int run_one(bench_job *job, const char *path, float **tensor, size_t *tensor_elements)
{
    if (job->decode_only) {
        vb_video_info info;
        vb_error err = {0};
        if (vb_video_probe(path, 1, &info, &err)) {
            fprintf(stderr, "bench video: %s\n", err.message);
            return -1;
        }
        return 0;
    }
    vb_video_options options;
    vb_video_options_init(&options);
    options.num_frames = job->num_frames;
    options.threads = job->decoder_threads;
    vb_frames clip;
    vb_error err = {0};
    if (vb_video_decode_clip(path, &options, &clip, &err)) {
        fprintf(stderr, "bench video: %s\n", err.message);
        return -1;
    }
    atomic_fetch_add(&job->frames, clip.decoded_frames);
    atomic_fetch_add(&job->skipped, clip.skipped_frames);
    size_t n = (size_t)clip.num_frames * clip.height * clip.width * 3;
    if (n > *tensor_elements) {
        free(*tensor);
        *tensor = malloc(n * sizeof **tensor);
        *tensor_elements = *tensor ? n : 0;
    }
    double sum = 0;
    if (*tensor) {
        vb_clip_to_float32(&clip, *tensor);
        sum = (*tensor)[n / 2];
    }
    vb_frames_free(&clip);
    pthread_mutex_lock(&job->lock);
    job->checksum += sum;
    pthread_mutex_unlock(&job->lock);
    return *tensor ? 0 : -1;
}

static void *worker(void *arg)
{
    bench_job *job = arg;
    int total = job->clip_count * job->repeat;
    float *tensor = NULL;
    size_t tensor_elements = 0;
    for (int i; (i = atomic_fetch_add(&job->next, 1)) < total;)
        if (run_one(job, job->clips[i % job->clip_count], &tensor, &tensor_elements))
            atomic_fetch_add(&job->failed, 1);
    free(tensor);
    return NULL;
}

static double cpu_seconds(int who)
{
    struct rusage u;
    getrusage(who, &u);
    return u.ru_utime.tv_sec + u.ru_utime.tv_usec * 1e-6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec * 1e-6;
}

/* clips/s with `workers` clips decoding at once, each decoder with `threads` threads;
 * *cpu_ms_per_clip: CPU time (all threads, user + system) per clip, which other load on
 * the machine disturbs less than wall time. */
static double measure_c(char **clips, int count, int repeat, int num_frames, int workers, int threads,
                        int decode_only, double *cpu_ms_per_clip, double *skipped_share)
{
    bench_job job = {.clips = clips, .clip_count = count, .repeat = repeat, .num_frames = num_frames,
                     .decoder_threads = threads, .decode_only = decode_only};
    pthread_mutex_init(&job.lock, NULL);
    float *warm = NULL;
    size_t warm_elements = 0;
    run_one(&job, clips[0], &warm, &warm_elements); /* warm-up: first-use costs are not the path's */
    free(warm);
    atomic_store(&job.next, 0);
    atomic_store(&job.frames, 0);
    atomic_store(&job.skipped, 0);
    pthread_t tid[16];
    double start = bench_seconds(), cpu_start = cpu_seconds(RUSAGE_SELF);
    for (int w = 0; w < workers; w++)
        pthread_create(&tid[w], NULL, worker, &job);
    for (int w = 0; w < workers; w++)
        pthread_join(tid[w], NULL);
    double seconds = bench_seconds() - start;
    *cpu_ms_per_clip = (cpu_seconds(RUSAGE_SELF) - cpu_start) * 1e3 / (count * repeat);
    long frames = atomic_load(&job.frames);
    *skipped_share = frames > 0 ? (double)atomic_load(&job.skipped) / frames : 0;
    pthread_mutex_destroy(&job.lock);
    if (atomic_load(&job.failed))
        return -1;
    return count * repeat / seconds;
}

/* Runs the seed path in /usr/bin/python3 and parses its clips/s and CPU seconds, both
 * measured by the script over its timed loop only (warm-up clip, interpreter start and
 * imports outside it), as measure_c does for ours. */
static double measure_python(const char *script, char **clips, int count, int repeat, int num_frames,
                             double *cpu_ms_per_clip)
{
    *cpu_ms_per_clip = -1;
    int fds[2];
    if (pipe(fds))
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char repeat_text[16], frames_text[16];
        snprintf(repeat_text, sizeof repeat_text, "%d", repeat);
        snprintf(frames_text, sizeof frames_text, "%d", num_frames);
        char **args = calloc((size_t)count + 6, sizeof *args);
        if (!args)
            _exit(127);
        int a = 0;
        args[a++] = "/usr/bin/python3";
        args[a++] = (char *)script;
        args[a++] = repeat_text;
        args[a++] = frames_text;
        for (int i = 0; i < count; i++)
            args[a++] = clips[i];
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(args[0], args);
        _exit(127);
    }
    close(fds[1]);
    char line[256] = {0};
    FILE *out = fdopen(fds[0], "r");
    double rate = -1, seconds, cpu = -1;
    int done = 0;
    if (out) {
        while (fgets(line, sizeof line, out))
            if (sscanf(line, "clips_per_second %lf clips %d seconds %lf cpu_seconds %lf", &rate, &done, &seconds,
                       &cpu) != 4)
                rate = -1;
        fclose(out);
    }
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || done != count * repeat || cpu < 0)
        return -1;
    *cpu_ms_per_clip = cpu * 1e3 / done;
    return rate;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vidbench bench video [--repeat R] [--num-frames N] [--no-python] [--best-only] [CLIP...]\n\n"
            "clips/s of decode + crop + resize + resample to N frames (default 100) + float32,\n"
            "for vidbench and, in the same run, the seed's OpenCV path in Python\n"
            "(bench/seed_opencv_path.py with /usr/bin/python3). Default clips:\n"
            "$VB_SHARED/data/videos/kinetics400/*.mp4 (VB_SHARED defaults to ../shared).\n"
            "--best-only runs only the 1-clip-per-core row (to profile it, e.g. under perf).\n");
}

int bench_video(int argc, char **argv)
{
    int repeat = 3, num_frames = 100, python = 1, best_only = 0;
    char **clips = calloc((size_t)argc + 1, sizeof *clips);
    int count = 0;
    glob_t found = {0};
    if (!clips)
        return 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            free(clips);
            return 0;
        } else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
            repeat = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--num-frames") && i + 1 < argc) {
            num_frames = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--no-python")) {
            python = 0;
        } else if (!strcmp(argv[i], "--best-only")) {
            best_only = 1;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "vidbench bench video: unknown option '%s'\n", argv[i]);
            usage(stderr);
            free(clips);
            return 2;
        } else {
            clips[count++] = argv[i];
        }
    }
    if (repeat < 1 || num_frames < 1 || repeat > 1000 || num_frames > 100000) {
        fprintf(stderr, "vidbench bench video: --repeat and --num-frames must be positive\n");
        free(clips);
        return 2;
    }
    char pattern[4096];
    if (count == 0) {
        const char *shared = getenv("VB_SHARED") ? getenv("VB_SHARED") : "../shared";
        snprintf(pattern, sizeof pattern, "%s/data/videos/kinetics400/*.mp4", shared);
        if (glob(pattern, 0, NULL, &found) != 0 || found.gl_pathc == 0) {
            fprintf(stderr, "vidbench bench video: no clips match %s (set VB_SHARED)\n", pattern);
            free(clips);
            return 1;
        }
        for (size_t i = 0; i < found.gl_pathc; i++)
            clips[count++] = found.gl_pathv[i];
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    printf("vidbench bench video: %d clips x %d repeats, resample to %d frames, 224x224 crop, "
           "float32 out; %ld cores\n\n", count, repeat, num_frames, cores);
    printf("%-52s %9s %8s %12s %8s\n", "path", "clips/s", "vs seed", "CPU ms/clip", "vs seed");

    /* The seed runs before and after ours and its mean is the baseline, so load that
     * comes and goes on a shared machine hits both sides alike. */
    const char *script = "bench/seed_opencv_path.py";
    if (python && access(script, R_OK) != 0) {
        fprintf(stderr, "vidbench bench video: bench/seed_opencv_path.py not found; run from the repository root\n");
        python = 0;
    }
    double seed_rate[2] = {-1, -1}, seed_cpu[2] = {0, 0};
    if (python)
        seed_rate[0] = measure_python(script, clips, count, repeat, num_frames, &seed_cpu[0]);
    const int per_core = (int)(cores > 16 ? 16 : cores < 1 ? 1 : cores);
    struct { const char *name; int workers, threads, decode_only; double rate, cpu, skipped; } configs[] = {
        {"vidbench: 1 clip per core, 1 decoder thread each", per_core, 1, 0, 0, 0, 0},
        {"vidbench: 1 clip at a time, 1 decoder thread", 1, 1, 0, 0, 0, 0},
        {"vidbench: 1 clip at a time, decoder threads = cores", 1, 0, 0, 0, 0, 0},
        {"probe --count: every frame, 1 clip per core", per_core, 1, 1, 0, 0, 0},
    };
    const int config_count = best_only ? 1 : (int)(sizeof configs / sizeof configs[0]);
    int failed = 0;
    for (int c = 0; c < config_count; c++)
        configs[c].rate = measure_c(clips, count, repeat, num_frames, configs[c].workers, configs[c].threads,
                                    configs[c].decode_only, &configs[c].cpu, &configs[c].skipped);
    if (python)
        seed_rate[1] = measure_python(script, clips, count, repeat, num_frames, &seed_cpu[1]);
    double seed = seed_rate[0] > 0 && seed_rate[1] > 0 ? (seed_rate[0] + seed_rate[1]) / 2 : -1;
    double seed_cpu_ms = (seed_cpu[0] + seed_cpu[1]) / 2;
    if (seed > 0)
        printf("%-52s %9.2f %7.2fx %12.1f %7.2fx   (runs: %.2f before, %.2f after)\n",
               "seed: python3 + cv2 4.6 (its default threads)", seed, 1.0, seed_cpu_ms, 1.0, seed_rate[0],
               seed_rate[1]);
    else if (python)
        printf("%-52s %9s\n", "seed: python3 + cv2 (failed to run)", "-");
    for (int c = 0; c < config_count; c++) {
        if (configs[c].rate < 0) {
            printf("%-52s %9s\n", configs[c].name, "failed");
            failed = 1;
        } else if (seed > 0) {
            printf("%-52s %9.2f %7.2fx %12.1f %7.2fx\n", configs[c].name, configs[c].rate, configs[c].rate / seed,
                   configs[c].cpu, seed_cpu_ms / configs[c].cpu);
        } else {
            printf("%-52s %9.2f %8s %12.1f\n", configs[c].name, configs[c].rate, "-", configs[c].cpu);
        }
    }
    printf("\nvidbench left %.1f%% of the frames undecoded: unused by the resampling and referenced by\n"
           "no other frame (non-reference H.264 frames); the seed decodes every frame.\n",
           configs[0].skipped * 100);
    struct rusage usage_self;
    getrusage(RUSAGE_SELF, &usage_self);
    printf("\npeak RSS of this process: %.1f MiB\n", usage_self.ru_maxrss / 1024.0);
    globfree(&found);
    free(clips);
    return failed ? 1 : 0;
}
