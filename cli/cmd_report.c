/* vidbench report: the dataset, video properties, sample clips with predictions, frame
 * resampling and evaluation metrics as one self-contained HTML page (see docs/report.md). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vidbench/compare.h"
#include "vidbench/report.h"

#define MAX_VIDEO_ARGS 4096

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vidbench report [options] -o report.html\n"
            "\n"
            "Writes one HTML page (inline CSS and SVG, no script, no network) and a folder\n"
            "<name>_files/ of previews beside it. Links are relative to the page's folder.\n"
            "\n"
            "inputs (all optional; sections without input say so on the page):\n"
            "  --results CSV        seed-format results (video_id,YouTube_Id,Ground_Truth,\n"
            "                       pred_1..N,score_1..N); given two or more times, the page\n"
            "                       gains a Compare section (as vidbench compare) and the\n"
            "                       other sections show the first\n"
            "  --summary JSON       the (first) evaluation's summary (default: NAME.summary.json\n"
            "                       or summary.json beside the results CSV NAME.csv, if present)\n"
            "  --videos PATH...     local clips: files and/or directories (scanned for\n"
            "                       .mp4/.avi/.mkv/.webm/.mov...); clip name = file stem,\n"
            "                       matched with the CSV's video_id or YouTube id\n"
            "  --data-dir DIR       dataset state (vidbench data) and its local clips with\n"
            "                       their ground truth\n"
            "  --version V          with --data-dir: clips of Kinetics V only (400|600|700)\n"
            "  --split S            with --data-dir: clips of split S only (train|val|test)\n"
            "  --label-map FILE     class list: classes without a local clip are listed\n"
            "\n"
            "options:\n"
            "  -o, --output FILE    the page to write (required)\n"
            "  --sample N           clips in the sample table (default 8)\n"
            "  --title TEXT         page title\n"
            "  --num-frames N       frames per preview, the model's input (default: summary's\n"
            "                       num_frames, else 64)\n"
            "  --resize MODE        crop|pad|shortside|stretch|aspect, the model's preprocessing\n"
            "                       (default: the summary's, else crop)\n"
            "  --preview-size PX    preview resolution (default 112)\n"
            "  --no-previews        no GIF previews and no resampling figure\n"
            "  --no-probe           no property histograms (skips reading every clip)\n");
}

int cmd_report(int argc, char **argv)
{
    vb_compare_input compare_inputs[VB_COMPARE_MAX_RUNS];
    int num_results = 0;
    const char *output = NULL, *results = NULL, *summary = NULL, *label_map = NULL, *title = NULL;
    const char *data_dir = NULL, *split = NULL;
    long version = 0;
    const char **videos = calloc(MAX_VIDEO_ARGS, sizeof *videos);
    int num_videos = 0;
    long sample = 8, num_frames = 0, preview_size = 112;
    vb_report_media_options media;
    vb_report_media_options_init(&media);
    int resize_given = 0;
    if (!videos) {
        fprintf(stderr, "vidbench report: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    int exit_code = CLI_EXIT_OK;
#define USAGE(...)                                          \
    do {                                                    \
        exit_code = cli_usage_error("report", __VA_ARGS__); \
        goto out;                                           \
    } while (0)
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            usage(stdout);
            goto out;
        } else if (!strcmp(arg, "--no-previews")) {
            media.previews = media.resampling = 0;
            continue;
        } else if (!strcmp(arg, "--no-probe")) {
            media.probe = 0;
            continue;
        } else if (!strcmp(arg, "--videos")) {
            int start = num_videos;
            while (i + 1 < argc && (argv[i + 1][0] != '-' || argv[i + 1][1] == '\0')) {
                if (num_videos == MAX_VIDEO_ARGS)
                    USAGE("more than %d --videos paths; give a directory instead", MAX_VIDEO_ARGS);
                videos[num_videos++] = argv[++i];
            }
            if (num_videos == start)
                USAGE("--videos needs at least one file or directory");
            continue;
        }
        if (arg[0] != '-')
            USAGE("unexpected argument '%s'", arg);
        if (!value)
            USAGE("%s needs a value", arg);
        i++;
        if (!strcmp(arg, "-o") || !strcmp(arg, "--output"))
            output = value;
        else if (!strcmp(arg, "--results")) {
            if (num_results == VB_COMPARE_MAX_RUNS)
                USAGE("at most %d --results", VB_COMPARE_MAX_RUNS);
            compare_inputs[num_results++] = (vb_compare_input){.csv_path = value};
            if (!results)
                results = value;
        }
        else if (!strcmp(arg, "--summary"))
            summary = value;
        else if (!strcmp(arg, "--label-map"))
            label_map = value;
        else if (!strcmp(arg, "--title"))
            title = value;
        else if (!strcmp(arg, "--data-dir"))
            data_dir = value;
        else if (!strcmp(arg, "--split"))
            split = value;
        else if (!strcmp(arg, "--version")) {
            if (cli_parse_int(value, 400, 700, &version) || (version != 400 && version != 600 && version != 700))
                USAGE("--version must be 400, 600 or 700, got '%s'", value);
        }
        else if (!strcmp(arg, "--sample")) {
            if (cli_parse_int(value, 0, 100000, &sample))
                USAGE("--sample must be an integer in [0, 100000], got '%s'", value);
        } else if (!strcmp(arg, "--num-frames")) {
            if (cli_parse_int(value, 1, 10000, &num_frames))
                USAGE("--num-frames must be an integer in [1, 10000], got '%s'", value);
        } else if (!strcmp(arg, "--preview-size")) {
            if (cli_parse_int(value, 16, 1024, &preview_size))
                USAGE("--preview-size must be an integer in [16, 1024], got '%s'", value);
        } else if (!strcmp(arg, "--resize")) {
            resize_given = 1;
            if (vb_resize_mode_parse(value, &media.video.resize))
                USAGE("--resize must be crop, pad, shortside, stretch or aspect, got '%s'", value);
        } else
            USAGE("unknown option '%s'", arg);
    }
    if (!output)
        USAGE("-o report.html is required");
    if ((version || split) && !data_dir)
        USAGE("--version and --split select clips of --data-dir");
    if (split && strcmp(split, "train") && strcmp(split, "val") && strcmp(split, "validate") && strcmp(split, "test"))
        USAGE("--split must be train, val or test, got '%s'", split);
    media.video.num_frames = (int)num_frames;
    media.preview_size = (int)preview_size;

    vb_report report;
    vb_report_init(&report);
    vb_error err = {0};
    char *report_dir = NULL, *files_dir = NULL, *default_summary = NULL;
    int rc = vb_report_output_dirs(output, &report_dir, &files_dir, &err);
    if (!rc && title)
        report.title = vb_report_strdup(&report, title);
    if (!rc && results)
        rc = vb_report_load_results_csv(&report, results, &err);
    if (!rc && !summary && results) {
        /* vidbench evaluate writes <name>.summary.json beside <name>.csv */
        rc = vb_report_summary_beside(results, &default_summary, &err);
        summary = default_summary;
    }
    if (!rc && summary)
        rc = vb_report_load_summary(&report, summary, &err);
    vb_compare compare = {0};
    if (!rc && num_results > 1) {
        compare_inputs[0].summary_path = summary;
        rc = vb_compare_load(&compare, compare_inputs, num_results, &err);
        if (!rc)
            report.compare = &compare;
    }
    if (!rc && label_map)
        rc = vb_report_set_label_map(&report, label_map, &err);
    if (!rc && data_dir)
        rc = vb_report_load_dataset(&report, data_dir, (int)version, split, report_dir, &err);
    /* Previews show what the model saw: its crop and frame count, unless overridden. */
    if (!rc && !resize_given && report.evaluation.resize >= 0)
        media.video.resize = (vb_resize_mode)report.evaluation.resize;
    if (!rc && num_videos)
        rc = vb_report_add_videos(&report, videos, num_videos, report_dir, &err);
    if (!rc)
        rc = vb_report_finish(&report, (int)sample, &err);
    if (!rc)
        rc = vb_report_build_media(&report, report_dir, files_dir, &media, &err);
    if (!rc)
        rc = vb_report_write_html(&report, output, &err);
    if (rc) {
        exit_code = cli_fail(&err);
    } else if (cli_verbosity > 0) {
        int previews = 0;
        for (int s = 0; s < report.num_sample; s++)
            previews += report.clips[report.sample[s]].preview_href != NULL;
        printf("wrote %s (%d clips, %d in the sample, %d previews)\n", output, report.num_clips, report.num_sample,
               previews);
    }
    vb_report_free(&report);
    vb_compare_free(&compare);
    free(report_dir);
    free(files_dir);
    free(default_summary);
out:
    free(videos);
    return exit_code;
#undef USAGE
}
