/* vidbench data: download, status, list, classes and prepare over the Kinetics dataset
 * manager (include/vidbench/dataset.h). A progress bar on a terminal, log lines otherwise. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vidbench/dataset.h"

static const char usage_text[] =
    "usage: vidbench data SUBCOMMAND [options]\n"
    "\n"
    "subcommands:\n"
    "  download  --version 400|600|700 --split train|val|test (--num-videos N | --all)\n"
    "            [--mirror URL] [--jobs J] [--min-free-mb M] [--retries R]\n"
    "            fetch path list, annotations and partitions until N clips are on disk\n"
    "  status    [--bad]  per version/split: annotated, partitions, unpacked, prepared, bad\n"
    "  list      [--version V --split S] [--format csv|json] [--size S --resize R ...]\n"
    "            local clips: clip, label, YouTube id, time window, path, status\n"
    "  classes   [--version V --split S]  class distribution of the local clips\n"
    "  prepare   [--version V --split S] --num-videos N [--size 224]\n"
    "            [--resize crop|pad|shortside|stretch|aspect] [--min-frames 128] [--num-frames T]\n"
    "            [--fps F] [--jobs J] [--overwrite]   decode + preprocess clips into the\n"
    "            uint8 cache (--overwrite: decode cached and bad clips again)\n"
    "\n"
    "common: --data-dir D (default $VIDBENCH_DATA_DIR, else ./data); version 400 and split\n"
    "val when not given. Exit codes: 0 ok, 1 failure, 2 usage.\n";

typedef struct data_args {
    const char *data_dir;
    int version;
    vb_split split;
    int version_given, split_given;
    long num_videos;
    int all;
    int overwrite;
    const char *mirror;
    long jobs;
    long min_free_mb;
    long retries;
    const char *format;
    int show_bad;
    vb_video_options video;
} data_args;

static int parse_args(const char *verb, int argc, char **argv, data_args *a)
{
    memset(a, 0, sizeof *a);
    a->data_dir = getenv("VIDBENCH_DATA_DIR");
    if (!a->data_dir || !*a->data_dir)
        a->data_dir = "data";
    a->version = 400;
    a->split = VB_SPLIT_VAL;
    a->jobs = 1;
    a->min_free_mb = -1;
    a->format = "csv";
    vb_video_options_init(&a->video);
    a->video.min_frames = 128;
    for (int i = 0; i < argc; i++) {
        const char *opt = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        double d;
#define NEED_VALUE()                                                                               \
    do {                                                                                           \
        if (!val)                                                                                  \
            return cli_usage_error(verb, "%s needs a value", opt);                               \
        i++;                                                                                       \
    } while (0)
        if (!strcmp(opt, "--data-dir")) {
            NEED_VALUE();
            a->data_dir = val;
        } else if (!strcmp(opt, "--version")) {
            NEED_VALUE();
            if (cli_parse_int(val, 0, 100000, &n) || !vb_kinetics_version_valid((int)n))
                return cli_usage_error(verb, "--version must be 400, 600 or 700, not '%s'", val);
            a->version = (int)n;
            a->version_given = 1;
        } else if (!strcmp(opt, "--split")) {
            NEED_VALUE();
            if (vb_split_parse(val, &a->split))
                return cli_usage_error(verb, "--split must be train, val or test, not '%s'", val);
            a->split_given = 1;
        } else if (!strcmp(opt, "--num-videos")) {
            NEED_VALUE();
            if (cli_parse_int(val, 1, 100000000, &a->num_videos))
                return cli_usage_error(verb, "--num-videos must be a positive integer, not '%s'", val);
        } else if (!strcmp(opt, "--overwrite") && !strcmp(verb, "data prepare")) {
            a->overwrite = 1;
        } else if (!strcmp(opt, "--all")) {
            a->all = 1;
        } else if (!strcmp(opt, "--mirror")) {
            NEED_VALUE();
            a->mirror = val;
        } else if (!strcmp(opt, "--jobs") || !strcmp(opt, "-j")) {
            NEED_VALUE();
            if (cli_parse_int(val, 1, 64, &a->jobs))
                return cli_usage_error(verb, "--jobs must be 1..64, not '%s'", val);
        } else if (!strcmp(opt, "--min-free-mb")) {
            NEED_VALUE();
            if (cli_parse_int(val, 0, 1L << 40, &a->min_free_mb))
                return cli_usage_error(verb, "--min-free-mb must be a non-negative integer");
        } else if (!strcmp(opt, "--retries")) {
            NEED_VALUE();
            if (cli_parse_int(val, 1, 100, &a->retries))
                return cli_usage_error(verb, "--retries must be 1..100");
        } else if (!strcmp(opt, "--format")) {
            NEED_VALUE();
            if (strcmp(val, "csv") && strcmp(val, "json"))
                return cli_usage_error(verb, "--format must be csv or json");
            a->format = val;
        } else if (!strcmp(opt, "--bad")) {
            a->show_bad = 1;
        } else if (!strcmp(opt, "--size")) {
            NEED_VALUE();
            if (cli_parse_int(val, 8, 4096, &n))
                return cli_usage_error(verb, "--size must be 8..4096");
            a->video.size = (int)n;
        } else if (!strcmp(opt, "--resize")) {
            NEED_VALUE();
            if (vb_resize_mode_parse(val, &a->video.resize))
                return cli_usage_error(verb, "--resize must be crop, pad, shortside, stretch or aspect");
        } else if (!strcmp(opt, "--min-frames")) {
            NEED_VALUE();
            if (cli_parse_int(val, 0, 100000, &n))
                return cli_usage_error(verb, "--min-frames must be 0..100000");
            a->video.min_frames = (int)n;
        } else if (!strcmp(opt, "--num-frames")) {
            NEED_VALUE();
            if (cli_parse_int(val, 0, 100000, &n))
                return cli_usage_error(verb, "--num-frames must be 0..100000");
            a->video.num_frames = (int)n;
        } else if (!strcmp(opt, "--fps")) {
            NEED_VALUE();
            if (cli_parse_double(val, 0, 1000, &d))
                return cli_usage_error(verb, "--fps must be 0..1000");
            a->video.target_fps = d;
        } else {
            return cli_usage_error(verb, "unknown option '%s'", opt);
        }
#undef NEED_VALUE
    }
    return 0;
}

/* ---- progress display ---- */
typedef struct progress_state {
    int tty;
    int bar_visible;
    double last_draw;         /* seconds since start of the last bar redraw */
    int64_t last_done;        /* bytes shown by that redraw */
    struct timespec start;
    const char *what;
} progress_state;

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void clear_bar(progress_state *s)
{
    if (s->bar_visible) {
        fprintf(stderr, "\r\033[K");
        s->bar_visible = 0;
    }
}

static int on_progress(void *user, const vb_dataset_progress *p)
{
    progress_state *s = user;
    double elapsed = seconds_since(&s->start);
    switch (p->event) {
    case VB_EVENT_BYTES: {
        if (!s->tty || cli_verbosity == 0)
            return 0;
        /* curl reports many times a second; ten redraws a second are plenty */
        if (p->bytes_done == s->last_done ||
            (elapsed - s->last_draw < 0.1 && p->bytes_done != p->bytes_total))
            return 0;
        s->last_draw = elapsed;
        s->last_done = p->bytes_done;
        double rate = elapsed > 0 ? p->bytes_all_done / elapsed : 0;
        double frac = p->bytes_total > 0 ? (double)p->bytes_done / (double)p->bytes_total : 0;
        char bar[21];
        int filled = (int)(frac * 20);
        for (int i = 0; i < 20; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[20] = '\0';
        char eta[32] = "?";
        if (rate > 0 && p->bytes_total > 0)
            snprintf(eta, sizeof eta, "%.0fs", (p->bytes_total - p->bytes_done) / rate);
        fprintf(stderr, "\r\033[K[%s] %3.0f%% %.1f/%.1f MiB %.2f MiB/s ETA %s | partitions %d/%d | clips %ld",
                bar, frac * 100, p->bytes_done / 1048576.0,
                p->bytes_total > 0 ? p->bytes_total / 1048576.0 : 0.0, rate / 1048576.0, eta,
                p->items_done, p->items_total, p->clips_on_disk);
        s->bar_visible = 1;
        return 0;
    }
    case VB_EVENT_PARTITION_DONE:
        clear_bar(s);
        if (cli_verbosity > 0)
            fprintf(stderr, "[%.1fs] partition %d/%d done: %s (%s; %ld clips on disk)\n", elapsed,
                    p->items_done, p->items_total, cli_safe(p->item), cli_safe(p->message),
                    p->clips_on_disk);
        return 0;
    case VB_EVENT_PARTITION_FAILED:
        clear_bar(s);
        fprintf(stderr, "vidbench: warning: partition failed (will retry on the next run): %s\n",
                cli_safe(p->message ? p->message : p->item));
        return 0;
    case VB_EVENT_CLIP_DONE:
        if (s->tty && cli_verbosity > 0) {
            fprintf(stderr, "\r\033[Kprepare %d/%d  %s", p->items_done, p->items_total, cli_safe(p->item));
            s->bar_visible = 1;
        } else if (cli_verbosity > 1) {
            fprintf(stderr, "prepared %d/%d %s\n", p->items_done, p->items_total, cli_safe(p->item));
        }
        return 0;
    case VB_EVENT_CLIP_BAD:
        clear_bar(s);
        fprintf(stderr, "vidbench: warning: bad clip %s: %s\n", cli_safe(p->item), cli_safe(p->message));
        return 0;
    case VB_EVENT_INFO:
        clear_bar(s);
        fprintf(stderr, "vidbench: %s\n", cli_safe(p->message));
        return 0;
    }
    return 0;
}

static void progress_init(progress_state *s)
{
    memset(s, 0, sizeof *s);
    s->tty = isatty(STDERR_FILENO);
    clock_gettime(CLOCK_MONOTONIC, &s->start);
}

/* ---- subcommands ---- */
static int run_download(int argc, char **argv)
{
    data_args a;
    int rc = parse_args("data download", argc, argv, &a);
    if (rc)
        return rc;
    if (!a.version_given || !a.split_given)
        return cli_usage_error("data download", "--version and --split are required");
    if (!a.all && a.num_videos <= 0)
        return cli_usage_error("data download", "give --num-videos N or --all");
    if (a.all && a.num_videos > 0)
        return cli_usage_error("data download", "--num-videos and --all exclude each other");
    vb_error err = {0};
    vb_dataset *ds = NULL;
    if (vb_dataset_open(a.data_dir, &ds, &err))
        return cli_fail(&err);
    progress_state ps;
    progress_init(&ps);
    vb_download_request req;
    vb_download_request_init(&req);
    req.version = a.version;
    req.split = a.split;
    req.num_videos = a.all ? 0 : a.num_videos;
    req.mirror = a.mirror;
    req.jobs = (int)a.jobs;
    if (a.min_free_mb >= 0)
        req.min_free_bytes = a.min_free_mb > 0 ? (int64_t)a.min_free_mb << 20 : 1; /* 0 = off */
    req.max_attempts = (int)a.retries;
    req.progress = on_progress;
    req.progress_user = &ps;
    vb_download_result result;
    rc = vb_dataset_download(ds, &req, &result, &err);
    clear_bar(&ps);
    vb_dataset_free(&ds);
    if (cli_verbosity > 0 || rc)
        fprintf(rc ? stderr : stdout,
                "kinetics %d %s: %ld clips on disk; partitions %d/%d done, %d failed this run, "
                "%d unsafe archive entries refused\n",
                a.version, vb_split_name(a.split), result.clips_on_disk, result.partitions_done,
                result.partitions_total, result.partitions_failed, result.unsafe_entries);
    if (rc)
        return cli_fail(&err);
    return CLI_EXIT_OK;
}

static int run_status(int argc, char **argv)
{
    data_args a;
    int rc = parse_args("data status", argc, argv, &a);
    if (rc)
        return rc;
    vb_error err = {0};
    vb_dataset *ds = NULL;
    if (vb_dataset_open(a.data_dir, &ds, &err))
        return cli_fail(&err);
    vb_split_status *st = NULL;
    size_t n = 0;
    if (vb_dataset_status(ds, &st, &n, &err)) {
        vb_dataset_free(&ds);
        return cli_fail(&err);
    }
    printf("%-7s %-5s %9s %11s %7s %9s %9s %5s\n", "version", "split", "annotated", "partitions",
           "failed", "unpacked", "prepared", "bad");
    for (size_t i = 0; i < n; i++) {
        char parts[32];
        snprintf(parts, sizeof parts, "%d/%d", st[i].partitions_done, st[i].partitions_total);
        printf("%-7d %-5s %9ld %11s %7d %9ld %9ld %5ld\n", st[i].version, vb_split_name(st[i].split),
               st[i].annotated, parts, st[i].partitions_failed, st[i].clips_unpacked,
               st[i].clips_prepared, st[i].clips_bad);
    }
    if (n == 0)
        printf("(nothing downloaded yet in %s)\n", a.data_dir);
    free(st);
    if (a.show_bad || cli_verbosity > 1) {
        vb_bad_clip *bad = NULL;
        size_t nb = 0;
        if (vb_dataset_bad_clips(ds, &bad, &nb, &err)) {
            vb_dataset_free(&ds);
            return cli_fail(&err);
        }
        if (nb)
            printf("\nknown-bad clips:\n");
        for (size_t i = 0; i < nb; i++)
            printf("%d %s %s [%s]: %s\n", bad[i].version, vb_split_name(bad[i].split), cli_safe(bad[i].clip_id),
                   cli_safe(bad[i].params_key), cli_safe(bad[i].reason));
        free(bad);
    }
    vb_dataset_free(&ds);
    return CLI_EXIT_OK;
}

static const char *status_name(vb_clip_status s)
{
    switch (s) {
    case VB_CLIP_UNPACKED: return "unpacked";
    case VB_CLIP_PREPARED: return "prepared";
    case VB_CLIP_BAD: return "bad";
    }
    return "?";
}

static void csv_field(const char *s, int last)
{
    if (!s)
        s = "";
    if (strpbrk(s, ",\"\n\r")) {
        putchar('"');
        for (const char *p = s; *p; p++) {
            if (*p == '"')
                putchar('"');
            putchar(*p);
        }
        putchar('"');
    } else {
        fputs(s, stdout);
    }
    putchar(last ? '\n' : ',');
}

/* Splits to list: the one asked for, or every split that has state. */
static int selected_splits(vb_dataset *ds, const data_args *a, vb_split_status **st, size_t *n,
                           vb_error *err)
{
    int rc = vb_dataset_status(ds, st, n, err);
    if (rc)
        return rc;
    size_t w = 0;
    for (size_t i = 0; i < *n; i++) {
        if (a->version_given && (*st)[i].version != a->version)
            continue;
        if (a->split_given && (*st)[i].split != a->split)
            continue;
        (*st)[w++] = (*st)[i];
    }
    *n = w;
    return 0;
}

/* The start every listing verb shares: parse options, open DATA_DIR, select the
 * version/split pairs. Returns 0 or the exit code to return (after printing). */
static int open_selection(const char *verb, int argc, char **argv, data_args *a, vb_dataset **ds,
                          vb_split_status **st, size_t *n, vb_error *err)
{
    int rc = parse_args(verb, argc, argv, a);
    if (rc)
        return rc;
    if (vb_dataset_open(a->data_dir, ds, err))
        return cli_fail(err);
    if (selected_splits(*ds, a, st, n, err)) {
        vb_dataset_free(ds);
        return cli_fail(err);
    }
    return 0;
}

static int run_list(int argc, char **argv)
{
    data_args a;
    vb_error err = {0};
    vb_dataset *ds = NULL;
    vb_split_status *st = NULL;
    size_t n = 0;
    int rc = open_selection("data list", argc, argv, &a, &ds, &st, &n, &err);
    if (rc)
        return rc;
    int json = !strcmp(a.format, "json");
    cJSON *array = json ? cJSON_CreateArray() : NULL;
    if (!json)
        printf("version,split,clip_id,label,youtube_id,time_start,time_end,path,status,reason\n");
    for (size_t s = 0; s < n && !rc; s++) {
        vb_dataset_clip_list list;
        if (vb_dataset_clips(ds, st[s].version, st[s].split, &a.video, &list, &err)) {
            rc = cli_fail(&err);
            break;
        }
        for (size_t i = 0; i < list.count; i++) {
            const vb_dataset_clip *c = &list.clips[i];
            if (json) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddNumberToObject(o, "version", st[s].version);
                cJSON_AddStringToObject(o, "split", vb_split_name(st[s].split));
                cJSON_AddStringToObject(o, "clip_id", c->clip_id);
                if (c->label)
                    cJSON_AddStringToObject(o, "label", c->label);
                else
                    cJSON_AddNullToObject(o, "label");
                cJSON_AddStringToObject(o, "youtube_id", c->youtube_id);
                cJSON_AddNumberToObject(o, "time_start", c->time_start);
                cJSON_AddNumberToObject(o, "time_end", c->time_end);
                cJSON_AddStringToObject(o, "path", c->path);
                cJSON_AddStringToObject(o, "status", status_name(c->status));
                if (c->bad_reason)
                    cJSON_AddStringToObject(o, "reason", c->bad_reason);
                cJSON_AddItemToArray(array, o);
            } else {
                char num[32];
                printf("%d,%s,", st[s].version, vb_split_name(st[s].split));
                csv_field(c->clip_id, 0);
                csv_field(c->label, 0);
                csv_field(c->youtube_id, 0);
                snprintf(num, sizeof num, "%d", c->time_start);
                csv_field(num, 0);
                snprintf(num, sizeof num, "%d", c->time_end);
                csv_field(num, 0);
                csv_field(c->path, 0);
                csv_field(status_name(c->status), 0);
                csv_field(c->bad_reason, 1);
            }
        }
        vb_dataset_clip_list_free(&list);
    }
    if (json) {
        if (!rc) {
            char *text = cJSON_Print(array);
            if (text)
                printf("%s\n", text);
            free(text);
        }
        cJSON_Delete(array);
    }
    free(st);
    vb_dataset_free(&ds);
    return rc;
}

typedef struct class_count {
    const char *label;
    long count;
} class_count;

static int compare_class_count(const void *a, const void *b)
{
    const class_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->label, y->label);
}

static int run_classes(int argc, char **argv)
{
    data_args a;
    vb_error err = {0};
    vb_dataset *ds = NULL;
    vb_split_status *st = NULL;
    size_t n = 0;
    int rc = open_selection("data classes", argc, argv, &a, &ds, &st, &n, &err);
    if (rc)
        return rc;
    for (size_t s = 0; s < n && !rc; s++) {
        vb_dataset_clip_list list;
        if (vb_dataset_clips(ds, st[s].version, st[s].split, NULL, &list, &err)) {
            rc = cli_fail(&err);
            break;
        }
        class_count *counts = calloc(list.count + 1, sizeof *counts);
        size_t nc = 0;
        for (size_t i = 0; counts && i < list.count; i++) {
            const char *label = list.clips[i].label ? list.clips[i].label : "(no label)";
            size_t k = 0;
            while (k < nc && strcmp(counts[k].label, label))
                k++;
            if (k == nc)
                counts[nc++].label = label;
            counts[k].count++;
        }
        if (counts)
            qsort(counts, nc, sizeof *counts, compare_class_count);
        printf("kinetics %d %s: %zu clips, %zu classes\n", st[s].version, vb_split_name(st[s].split),
               list.count, nc);
        for (size_t k = 0; k < nc; k++)
            printf("%6ld  %s\n", counts[k].count, cli_safe(counts[k].label));
        free(counts);
        vb_dataset_clip_list_free(&list);
    }
    free(st);
    vb_dataset_free(&ds);
    return rc;
}

static int run_prepare(int argc, char **argv)
{
    data_args a;
    int rc = parse_args("data prepare", argc, argv, &a);
    if (rc)
        return rc;
    if (a.num_videos <= 0 && !a.all)
        return cli_usage_error("data prepare", "give --num-videos N (or --all)");
    vb_error err = {0};
    vb_dataset *ds = NULL;
    if (vb_dataset_open(a.data_dir, &ds, &err))
        return cli_fail(&err);
    progress_state ps;
    progress_init(&ps);
    vb_prepare_request req;
    vb_prepare_request_init(&req);
    req.version = a.version;
    req.split = a.split;
    req.num_videos = a.all ? 0 : a.num_videos;
    req.video = a.video;
    req.jobs = (int)a.jobs;
    req.overwrite = a.overwrite;
    req.progress = on_progress;
    req.progress_user = &ps;
    vb_prepare_result result;
    rc = vb_dataset_prepare(ds, &req, &result, &err);
    clear_bar(&ps);
    vb_dataset_free(&ds);
    char key[64];
    vb_prepare_key(&a.video, key);
    if (cli_verbosity > 0 || rc)
        fprintf(rc ? stderr : stdout, "kinetics %d %s [%s]: %ld clips considered, %ld cached, %ld bad\n",
                a.version, vb_split_name(a.split), key, result.clips_considered, result.clips_cached,
                result.clips_bad);
    if (rc)
        return cli_fail(&err);
    if (result.clips_considered == 0) {
        fprintf(stderr, "vidbench: no local clips of kinetics %d %s in %s; run 'vidbench data download' first\n",
                a.version, vb_split_name(a.split), a.data_dir);
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

int cmd_data(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *sub = argv[1];
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return CLI_EXIT_OK;
        }
    if (!strcmp(sub, "download"))
        return run_download(argc - 2, argv + 2);
    if (!strcmp(sub, "status"))
        return run_status(argc - 2, argv + 2);
    if (!strcmp(sub, "list"))
        return run_list(argc - 2, argv + 2);
    if (!strcmp(sub, "classes"))
        return run_classes(argc - 2, argv + 2);
    if (!strcmp(sub, "prepare"))
        return run_prepare(argc - 2, argv + 2);
    return cli_usage_error("data", "unknown subcommand '%s'", sub);
}
