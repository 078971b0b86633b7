/* vidbench bench report: builds the report for N clips (default 100) the way `vidbench
 * report` does (results CSV -> local clips -> probe -> previews -> page) and prints the time
 * of each stage and the size of what was written. The clips are symlinks to the shared
 * Kinetics clips under distinct names, so probing and previews read real video. */
#include "bench.h"
#include "../cli/cli.h"

#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vidbench/labels.h"
#include "vidbench/report.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time of the process: less disturbed than wall time on a shared machine. */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static long long dir_size(const char *path, int *files)
{
    DIR *dir = opendir(path);
    long long total = 0;
    if (!dir)
        return 0;
    for (struct dirent *entry; (entry = readdir(dir));) {
        if (entry->d_name[0] == '.')
            continue;
        char child[4096];
        snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
        total += file_size(child);
        (*files)++;
    }
    closedir(dir);
    return total;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: vidbench bench report [--clips N] [--sample N] [--shared DIR] [--out DIR]\n"
                 "Builds a report of N clips (default 100; symlinks to ../shared Kinetics clips),\n"
                 "with probing of every clip and GIF previews of the sample (default 8), and prints\n"
                 "the time per stage and the size of the page and its files.\n");
}

int bench_report(int argc, char **argv)
{
    long num_clips = 100, sample = 8;
    const char *shared = getenv("VB_SHARED") ? getenv("VB_SHARED") : "../shared";
    const char *out_dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--clips") && i + 1 < argc) {
            if (cli_parse_int(argv[++i], 1, 100000, &num_clips))
                num_clips = -1;   /* refused below */
        } else if (!strcmp(argv[i], "--sample") && i + 1 < argc) {
            if (cli_parse_int(argv[++i], 0, 100000, &sample))
                sample = -1;
        } else if (!strcmp(argv[i], "--shared") && i + 1 < argc) {
            shared = argv[++i];
        } else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            out_dir = argv[++i];
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (num_clips < 1 || num_clips > 100000 || sample < 0 || sample > num_clips) {
        fprintf(stderr, "bench report: --clips must be in [1, 100000] and --sample in [0, clips]\n");
        return 2;
    }
    char temp[] = "/tmp/vidbench-bench-report.XXXXXX";
    char root[4096];
    if (out_dir) {
        snprintf(root, sizeof root, "%s", out_dir);
        mkdir(root, 0755);
    } else {
        if (!mkdtemp(temp)) {
            perror("bench report: mkdtemp");
            return 1;
        }
        snprintf(root, sizeof root, "%s", temp);
    }
    char videos_dir[4200], site_dir[4200], page[4300], files_dir[4300], csv_path[4300], labels_path[4200];
    snprintf(videos_dir, sizeof videos_dir, "%s/videos", root);
    snprintf(site_dir, sizeof site_dir, "%s/site", root);
    snprintf(page, sizeof page, "%s/report.html", site_dir);
    snprintf(files_dir, sizeof files_dir, "%s/report_files", site_dir);
    snprintf(csv_path, sizeof csv_path, "%s/results.csv", root);
    snprintf(labels_path, sizeof labels_path, "%s/data/labelmaps/kinetics400_label_map.txt", shared);
    mkdir(videos_dir, 0755);

    /* Inputs: N symlinked clips and a seed-format CSV with top-5 predictions, every third
     * one wrong, labels from the real K400 label map. */
    static const char *const sources[] = {"R6llTwEh07w.mp4", "SOX5yA1l24A.mp4", "abseiling_k400.mp4",
                                          "mmaction2_demo.mp4"};
    vb_labels labels;
    vb_error err = {0};
    if (vb_labels_load(labels_path, &labels, &err)) {
        fprintf(stderr, "bench report: %s (set --shared or VB_SHARED)\n", err.message);
        return 1;
    }
    FILE *csv = fopen(csv_path, "w");
    if (!csv) {
        perror(csv_path);
        vb_labels_free(&labels);
        return 1;
    }
    fprintf(csv, "video_id,YouTube_Id,Ground_Truth,pred_1,pred_2,pred_3,pred_4,pred_5,score_1,score_2,score_3,score_4,score_5\n");
    for (long i = 0; i < num_clips; i++) {
        /* Symlinks need an absolute target. */
        char source[8400], link[4300], cwd[4096] = "";
        if (shared[0] != '/' && !getcwd(cwd, sizeof cwd))
            cwd[0] = '\0';
        snprintf(source, sizeof source, "%s%s%s/data/videos/kinetics400/%s", cwd, cwd[0] ? "/" : "", shared,
                 sources[i % 4]);
        snprintf(link, sizeof link, "%s/clip%05ld_000000_000010.mp4", videos_dir, i);
        unlink(link);
        if (symlink(source, link)) {
            fprintf(stderr, "bench report: %s: %s\n", link, strerror(errno));
            fclose(csv);
            vb_labels_free(&labels);
            return 1;
        }
        int truth = (int)(i * 7 % labels.count);
        int first = i % 3 == 2 ? (truth + 1) % labels.count : truth;
        fprintf(csv, "clip%05ld_000000_000010,,\"%s\"", i, labels.names[truth]);
        for (int k = 0; k < 5; k++)
            fprintf(csv, ",\"%s\"", labels.names[k == 0 ? first : (first + 11 * k) % labels.count]);
        fprintf(csv, ",0.6,0.2,0.1,0.06,0.04\n");
    }
    fclose(csv);

    vb_report report;
    vb_report_init(&report);
    vb_report_media_options media;
    vb_report_media_options_init(&media);
    char *report_dir = NULL, *files = NULL;
    const char *videos[] = {videos_dir};
    double c0 = cpu_ms(), t0 = now_ms();
    int rc = vb_report_output_dirs(page, &report_dir, &files, &err);
    if (!rc)
        rc = vb_report_load_results_csv(&report, csv_path, &err);
    if (!rc)
        rc = vb_report_set_label_map(&report, labels_path, &err);
    if (!rc)
        rc = vb_report_add_videos(&report, videos, 1, report_dir, &err);
    if (!rc)
        rc = vb_report_finish(&report, (int)sample, &err);
    double t_inputs = now_ms(), c_inputs = cpu_ms();
    media.previews = media.resampling = 0;
    if (!rc)
        rc = vb_report_build_media(&report, report_dir, files, &media, &err);
    double t_probe = now_ms(), c_probe = cpu_ms();
    media.probe = 0;
    media.previews = media.resampling = 1;
    if (!rc)
        rc = vb_report_build_media(&report, report_dir, files, &media, &err);
    double t_previews = now_ms(), c_previews = cpu_ms();
    if (!rc)
        rc = vb_report_write_html(&report, page, &err);
    double t_page = now_ms(), c_page = cpu_ms();
    if (rc) {
        fprintf(stderr, "bench report: %s\n", err.message);
    } else {
        int num_files = 0, previews = 0;
        for (int s = 0; s < report.num_sample; s++)
            previews += report.clips[report.sample[s]].preview_href != NULL;
        long long files_bytes = dir_size(files, &num_files);
        printf("report of %d clips (%d in the sample, %d previews of %d frames at %d px)\n", report.num_clips,
               report.num_sample, previews, media.video.num_frames > 0 ? media.video.num_frames : 64,
               media.preview_size);
        printf("%-36s %10s %10s\n", "stage", "wall ms", "cpu ms");
        printf("%-36s %10.1f %10.1f\n", "read CSV + label map + list clips", t_inputs - t0, c_inputs - c0);
        printf("%-36s %10.1f %10.1f\n", "probe every clip", t_probe - t_inputs, c_probe - c_inputs);
        printf("%-36s %10.1f %10.1f\n", "previews + resampling frames", t_previews - t_probe, c_previews - c_probe);
        printf("%-36s %10.1f %10.1f\n", "write page", t_page - t_previews, c_page - c_previews);
        printf("%-36s %10.1f %10.1f\n", "total", t_page - t0, c_page - c0);
        printf("page: %lld bytes; %d preview files: %lld bytes; total %lld bytes\n", file_size(page), num_files,
               files_bytes, file_size(page) + files_bytes);
        printf("written under %s\n", root);
    }
    vb_report_free(&report);
    vb_labels_free(&labels);
    free(report_dir);
    free(files);
    return rc ? 1 : 0;
}
