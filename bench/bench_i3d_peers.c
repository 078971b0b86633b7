/* vidbench bench i3d --peers: the same I3D forward in other engines, interleaved with ours in
 * one process tree: PyTorch eager and TorchScript-frozen (bench/peers/i3d_torch.py under
 * /usr/bin/python3) and ONNX Runtime (bench/peers/i3d_onnxruntime.mjs under node, on the ONNX
 * file the PyTorch peer exports). Each round runs ours once, then each peer once, so load from
 * elsewhere hits every engine alike; every peer's logits are checked against ours. Peers are
 * optional: a missing interpreter or package is skipped with a one-line note. Not a test of
 * the engine's accuracy (the golden cases are); a check that the timed peers compute the same
 * network. */
#define _GNU_SOURCE   /* pipe2 */
#include "bench.h"
#include "../cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vidbench/i3d.h"
#include "vidbench/npy.h"

extern char **environ;

/* fp32 agreement: max |peer - ours| / max |ours| over every logit of every run. */
#define PEER_AGREEMENT 1e-4
#define PEER_PYTHON_DEFAULT "/usr/bin/python3"
#define PEER_TORCH_SCRIPT "bench/peers/i3d_torch.py"
#define PEER_ORT_SCRIPT "bench/peers/i3d_onnxruntime.mjs"
#define PEER_NODE_MODULES_DEFAULT "bench/peers/node_modules"

/* A peer process: commands go to its stdin, one reply line comes back on its stdout. */
typedef struct peer {
    pid_t pid;
    FILE *commands;
    FILE *replies;
} peer;

enum { PEER_READY = 1, PEER_DECLINED = 0, PEER_FAILED = -1 };

static void peer_stop(peer *p)
{
    if (p->commands) {
        fputs("quit\n", p->commands);
        fclose(p->commands);   /* end of input: the peer exits even if it missed "quit" */
    }
    if (p->replies)
        fclose(p->replies);
    if (p->pid > 0)
        waitpid(p->pid, NULL, 0);
    *p = (peer){0};
}

/* Reads one reply line into line (newline removed); -1 when the peer closed its end. */
static int peer_read_line(peer *p, char *line, size_t size)
{
    if (!fgets(line, (int)size, p->replies))
        return -1;
    line[strcspn(line, "\r\n")] = '\0';
    return 0;
}

/* Starts argv (argv[0] looked up in PATH) with its stdin and stdout on pipes and reads its
 * first line: "ready TEXT" (TEXT to text), "skip WHY" or "error WHY" (to text). A program that
 * cannot be started is declined, not failed: it is an optional dependency. */
static int peer_start(peer *p, char *const argv[], char *text, size_t text_size)
{
    *p = (peer){0};
    int to_child[2], from_child[2];
    if (pipe2(to_child, O_CLOEXEC)) {
        snprintf(text, text_size, "pipe: %s", strerror(errno));
        return PEER_FAILED;
    }
    if (pipe2(from_child, O_CLOEXEC)) {
        snprintf(text, text_size, "pipe: %s", strerror(errno));
        close(to_child[0]);
        close(to_child[1]);
        return PEER_FAILED;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    int rc = posix_spawnp(&p->pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(to_child[0]);
    close(from_child[1]);
    if (rc) {
        close(to_child[1]);
        close(from_child[0]);
        p->pid = 0;
        snprintf(text, text_size, "cannot start %s: %s", argv[0], strerror(rc));
        return PEER_DECLINED;
    }
    p->commands = fdopen(to_child[1], "w");
    p->replies = fdopen(from_child[0], "r");
    if (!p->commands || !p->replies) {
        if (!p->commands)
            close(to_child[1]);
        if (!p->replies)
            close(from_child[0]);
        snprintf(text, text_size, "fdopen: %s", strerror(errno));
        peer_stop(p);
        return PEER_FAILED;
    }
    char line[1024];
    int state = PEER_FAILED;
    if (peer_read_line(p, line, sizeof line)) {
        snprintf(text, text_size, "%s exited before it was ready", argv[0]);
    } else if (!strncmp(line, "ready ", 6)) {
        snprintf(text, text_size, "%s", line + 6);
        return PEER_READY;
    } else if (!strncmp(line, "skip ", 5)) {
        snprintf(text, text_size, "%s", line + 5);
        state = PEER_DECLINED;
    } else {
        snprintf(text, text_size, "%s", !strncmp(line, "error ", 6) ? line + 6 : line);
    }
    peer_stop(p);
    return state;
}

/* "run ENGINE OUT" -> the peer's forward time in ms; logits land in out_path. */
static int peer_run(peer *p, const char *engine, const char *out_path, double *ms, char *text, size_t text_size)
{
    char line[1024];
    if (fprintf(p->commands, "run %s %s\n", engine, out_path) < 0 || fflush(p->commands)) {
        snprintf(text, text_size, "the peer stopped reading commands");
        return -1;
    }
    if (peer_read_line(p, line, sizeof line)) {
        snprintf(text, text_size, "the peer exited during a forward");
        return -1;
    }
    if (sscanf(line, "ok %lf", ms) != 1 || !(*ms >= 0)) {
        snprintf(text, text_size, "%s", !strncmp(line, "error ", 6) ? line + 6 : line);
        return -1;
    }
    return 0;
}

/* max |b - a| / max |a|; NaN (never passes) when a value is NaN or the shapes differ. */
static double relative_diff(const float *ours, const float *theirs, size_t count)
{
    double diff = 0, scale = 0;
    for (size_t i = 0; i < count; i++) {
        double d = fabs((double)theirs[i] - ours[i]);
        if (d != d || ours[i] != ours[i])
            return NAN;
        if (d > diff)
            diff = d;
        if (fabs(ours[i]) > scale)
            scale = fabs(ours[i]);
    }
    return scale > 0 ? diff / scale : diff > 0 ? INFINITY : 0;
}

static int write_clip_npy(const char *path, const float *clip, int batch, int frames, char *text, size_t text_size)
{
    const int64_t shape[5] = {batch, frames, VB_I3D_INPUT_SIZE, VB_I3D_INPUT_SIZE, 3};
    const size_t count = (size_t)batch * frames * VB_I3D_INPUT_SIZE * VB_I3D_INPUT_SIZE * 3;
    char header[256];
    int header_bytes = vb_npy_header("<f4", shape, 5, header, sizeof header);
    FILE *f = fopen(path, "wb");
    int ok = f && header_bytes > 0 && fwrite(header, 1, (size_t)header_bytes, f) == (size_t)header_bytes &&
             fwrite(clip, sizeof(float), count, f) == count;
    if (f && fclose(f))
        ok = 0;
    if (!ok)
        snprintf(text, text_size, "%.800s: cannot write the clip: %s", path, strerror(errno));
    return ok ? 0 : -1;
}

enum { ENGINE_ON, ENGINE_SKIPPED, ENGINE_FAILED };

typedef struct engine {
    char label[128];
    peer *process;          /* NULL: vidbench itself */
    const char *command;    /* the peer's engine name: eager, script, ort */
    double ms[101];         /* per run: the warm-up, then one per round */
    int runs;
    double worst_diff;      /* over every run */
    int state;
    char note[1400];
} engine;

static int compare_sort(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of runs 1..runs-1 (run 0 is the warm-up). */
static double median_ms(const engine *e)
{
    double v[100];
    int n = e->runs - 1;
    if (n < 1)
        return NAN;
    memcpy(v, e->ms + 1, (size_t)n * sizeof v[0]);
    qsort(v, (size_t)n, sizeof v[0], compare_sort);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* One run of a peer engine: its time, and its logits against ours. */
static void run_peer(engine *e, const char *dir, const float *ours, size_t count, int batch, int classes)
{
    char out_path[4200], text[1024], label[sizeof e->label];
    double ms;
    memcpy(label, e->label, sizeof label);   /* the note is written beside it in the same struct */
    snprintf(out_path, sizeof out_path, "%s/%s-logits.npy", dir, e->command);
    if (peer_run(e->process, e->command, out_path, &ms, text, sizeof text)) {
        e->state = ENGINE_FAILED;
        snprintf(e->note, sizeof e->note, "%s failed: %s", label, text);
        return;
    }
    vb_error err = {0};
    float *theirs = NULL;
    int ndim = 0;
    int64_t shape[8];
    if (vb_npy_read_float32(out_path, &theirs, &ndim, shape, &err)) {
        e->state = ENGINE_FAILED;
        snprintf(e->note, sizeof e->note, "%s: its logits: %s", label, err.message);
    } else if (ndim != 2 || shape[0] != batch || shape[1] != classes) {
        e->state = ENGINE_FAILED;
        snprintf(e->note, sizeof e->note, "%s: logits of %d dimensions [%lld,%lld...], expected [%d,%d]", label, ndim,
                 (long long)shape[0], (long long)(ndim > 1 ? shape[1] : 0), batch, classes);
    } else {
        double d = relative_diff(ours, theirs, count);
        if (!(d <= e->worst_diff))   /* NaN sticks */
            e->worst_diff = d;
        e->ms[e->runs++] = ms / batch;
    }
    free(theirs);
    unlink(out_path);
}

int bench_i3d_peers(const bench_i3d_peers_config *cfg)
{
    const int t = cfg->frames, n = cfg->batch;
    vb_error err = {0};
    char dir[4096], weights_path[4200], clip_path[4200], onnx_path[4200], text[1024];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/vidbench-peers-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "vidbench bench i3d: cannot create a temporary folder in %s: %s\n", tmp && *tmp ? tmp : "/tmp",
                strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    snprintf(weights_path, sizeof weights_path, "%s/weights.safetensors", dir);
    snprintf(clip_path, sizeof clip_path, "%s/clip.npy", dir);
    snprintf(onnx_path, sizeof onnx_path, "%s/i3d.onnx", dir);

    int result = CLI_EXIT_FAILURE;
    vb_i3d *model = NULL;
    float *clip = NULL, *logits = NULL;
    peer torch = {0}, ort = {0};
    void (*old_sigpipe)(int) = signal(SIGPIPE, SIG_IGN);   /* a peer that died: an error, not our death */
    const char *weights = cfg->weights;
    if (!weights) {
        if (vb_i3d_write_random_weights(weights_path, 1, 400, 1234, &err)) {
            cli_fail(&err);
            goto done;
        }
        weights = weights_path;
    }
    vb_i3d_options options;
    vb_i3d_options_init(&options);
    options.backend = cfg->backend;
    options.threads = cfg->threads;
    options.precision = VB_I3D_PRECISION_FP32;   /* the peers are fp32: compare like with like */
    if (vb_i3d_open(weights, &options, &model, &err)) {
        cli_fail(&err);
        goto done;
    }
    const int classes = vb_i3d_num_classes(model);
    const size_t clip_count = (size_t)n * t * VB_I3D_INPUT_SIZE * VB_I3D_INPUT_SIZE * 3;
    const size_t logit_count = (size_t)n * classes;
    clip = malloc(clip_count * sizeof(float));
    logits = malloc(logit_count * sizeof(float));
    if (!clip || !logits) {
        fprintf(stderr, "vidbench: out of memory for a %d x %d-frame batch\n", n, t);
        goto done;
    }
    bench_random_clip(clip, clip_count);
    if (write_clip_npy(clip_path, clip, n, t, text, sizeof text)) {
        fprintf(stderr, "vidbench bench i3d: %s\n", text);
        goto done;
    }
    if (access(PEER_TORCH_SCRIPT, R_OK) || access(PEER_ORT_SCRIPT, R_OK)) {
        fprintf(stderr, "vidbench bench i3d: %s not found; run --peers from the repository root\n", PEER_TORCH_SCRIPT);
        goto done;
    }

    engine engines[4];
    memset(engines, 0, sizeof engines);
    snprintf(engines[0].label, sizeof engines[0].label, "vidbench %s", vb_i3d_backend_name(cfg->backend));
    engines[1].process = engines[2].process = &torch;
    engines[1].command = "eager";
    engines[2].command = "script";
    engines[3].process = &ort;
    engines[3].command = "ort";
    snprintf(engines[1].label, sizeof engines[1].label, "PyTorch eager");
    snprintf(engines[2].label, sizeof engines[2].label, "PyTorch TorchScript frozen");
    snprintf(engines[3].label, sizeof engines[3].label, "ONNX Runtime (node)");

    char threads_text[16];
    snprintf(threads_text, sizeof threads_text, "%d", vb_i3d_threads(model));
    /* ONNX Runtime first, probed only: the PyTorch peer exports the ONNX file only if it will be used. */
    const char *modules = getenv("VIDBENCH_NODE_MODULES");
    if (!modules || !*modules)
        modules = PEER_NODE_MODULES_DEFAULT;
    char *probe_argv[] = {"node", PEER_ORT_SCRIPT, "--modules", (char *)modules, "--probe", NULL};
    int ort_state = peer_start(&ort, probe_argv, text, sizeof text);
    peer_stop(&ort);
    if (ort_state != PEER_READY) {
        engines[3].state = ENGINE_SKIPPED;
        snprintf(engines[3].note, sizeof engines[3].note, "ONNX Runtime skipped: %s", text);
    }

    const char *python = getenv("VIDBENCH_PEER_PYTHON");
    if (!python || !*python)
        python = PEER_PYTHON_DEFAULT;
    fprintf(stderr, "starting the PyTorch peer (%s %s): loads, traces, freezes%s\n", python, PEER_TORCH_SCRIPT,
            ort_state == PEER_READY ? ", exports ONNX" : "");
    /* without ONNX Runtime the vector ends before --export-onnx */
    char *torch_argv[] = {(char *)python, PEER_TORCH_SCRIPT, "--weights", (char *)weights, "--input", clip_path,
                          "--threads", threads_text, ort_state == PEER_READY ? "--export-onnx" : NULL, onnx_path, NULL};
    int torch_state = peer_start(&torch, torch_argv, text, sizeof text);
    if (torch_state == PEER_READY) {
        snprintf(engines[1].label, sizeof engines[1].label, "PyTorch %.40s eager", text + (strncmp(text, "torch ", 6) ? 0 : 6));
        snprintf(engines[2].label, sizeof engines[2].label, "PyTorch %.40s TorchScript frozen",
                 text + (strncmp(text, "torch ", 6) ? 0 : 6));
    } else {
        int s = torch_state == PEER_DECLINED ? ENGINE_SKIPPED : ENGINE_FAILED;
        engines[1].state = engines[2].state = s;
        snprintf(engines[1].note, sizeof engines[1].note, "PyTorch %s: %s", s == ENGINE_SKIPPED ? "skipped" : "failed", text);
        if (engines[3].state == ENGINE_ON) {
            engines[3].state = ENGINE_SKIPPED;
            snprintf(engines[3].note, sizeof engines[3].note,
                     "ONNX Runtime skipped: it runs the ONNX file the PyTorch peer exports");
        }
    }
    if (engines[3].state == ENGINE_ON) {
        char *ort_argv[] = {"node", PEER_ORT_SCRIPT, "--modules", (char *)modules, "--model", onnx_path,
                            "--input", clip_path, "--threads", threads_text, NULL};
        int s = peer_start(&ort, ort_argv, text, sizeof text);
        if (s == PEER_READY) {
            snprintf(engines[3].label, sizeof engines[3].label, "ONNX Runtime (%.60s)", text);
        } else {
            engines[3].state = s == PEER_DECLINED ? ENGINE_SKIPPED : ENGINE_FAILED;
            snprintf(engines[3].note, sizeof engines[3].note, "ONNX Runtime %s: %s",
                     s == PEER_DECLINED ? "skipped" : "failed", text);
        }
    }

    /* Run 0 warms every engine up (plans, reorders, JIT); rounds 1..rounds are timed. Each
     * round: ours, then every peer still on, one after another, never two at once. */
    int ours_failed = vb_i3d_plan_memory(model, t, &(vb_i3d_memory){0}, &err) != 0;
    for (int r = 0; r <= cfg->rounds && !ours_failed; r++) {
        double t0 = bench_seconds();
        if (vb_i3d_forward(model, clip, n, t, logits, &err)) {
            ours_failed = 1;
            break;
        }
        engines[0].ms[engines[0].runs++] = (bench_seconds() - t0) * 1e3 / n;
        fprintf(stderr, "  %s %d/%d: vidbench %.1f", r ? "round" : "warm-up", r, cfg->rounds, engines[0].ms[r]);
        for (int i = 1; i < 4; i++) {
            if (engines[i].state != ENGINE_ON)
                continue;
            run_peer(&engines[i], dir, logits, logit_count, n, classes);
            if (engines[i].state == ENGINE_ON)
                fprintf(stderr, ", %s %.1f", engines[i].command, engines[i].ms[engines[i].runs - 1]);
        }
        fprintf(stderr, " ms/clip\n");
    }
    peer_stop(&ort);
    peer_stop(&torch);
    if (ours_failed) {
        cli_fail(&err);
        goto done;
    }

    printf("I3D peers: %s, %d classes, T=%d, batch %d, fp32, %d thread(s) each, %d interleaved round(s) after one warm-up run each\n",
           cfg->weights ? cli_safe(cfg->weights) : "random full-width weights (seed 1234)", classes, t, n,
           vb_i3d_threads(model), cfg->rounds);
    printf("ms/clip: median over the rounds of each engine's own forward time (a peer times its forward in its own\n"
           "process: input to logits, no pipe or file I/O). vs vidbench: peer ms / vidbench ms (above 1.00x: vidbench is\n"
           "faster). max rel diff: max |peer - vidbench| / max |vidbench| over every logit of every run; PASS at <= %.0e\n\n",
           PEER_AGREEMENT);
    printf("| engine | ms/clip | vs vidbench | max rel diff | agreement |\n");
    printf("|---|---:|---:|---:|---|\n");
    const double ours_ms = median_ms(&engines[0]);
    printf("| %s | %.1f | 1.00x | - | reference |\n", engines[0].label, ours_ms);
    int disagree = 0;
    for (int i = 1; i < 4; i++) {
        const engine *e = &engines[i];
        if (e->state == ENGINE_SKIPPED)
            continue;
        if (e->state == ENGINE_FAILED && e->runs < 2) {
            printf("| %s | - | - | - | FAIL (no result) |\n", cli_safe(e->label));
            disagree = 1;
            continue;
        }
        const int pass = e->state == ENGINE_ON && e->worst_diff <= PEER_AGREEMENT;
        const double ms = median_ms(e);
        printf("| %s | %.1f | %.2fx | %.1e | %s |\n", cli_safe(e->label), ms, ms / ours_ms, e->worst_diff, pass ? "PASS" : "FAIL");
        disagree |= !pass;
    }
    /* one line per skipped or failed peer; the PyTorch note covers both of its engines */
    for (int i = 1; i < 4; i++)
        if (engines[i].note[0])
            printf("%s\n", cli_safe(engines[i].note));
    result = disagree ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
    if (disagree)
        fprintf(stderr, "vidbench bench i3d: a peer's logits disagree with ours (or the peer failed)\n");
done:
    signal(SIGPIPE, old_sigpipe);
    vb_i3d_free(&model);
    free(clip);
    free(logits);
    unlink(clip_path);
    unlink(onnx_path);
    if (!cfg->weights)
        unlink(weights_path);
    rmdir(dir);
    return result;
}
