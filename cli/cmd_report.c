/* vidbench report: the dataset, video properties, sample clips with predictions, frame
 * resampling and evaluation metrics as one self-contained HTML page (see docs/report.md). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    vb_report_request req;
    vb_report_request_init(&req);
    vb_report_media_options *media = &req.media;
    long version = 0;
    const char **videos = calloc(MAX_VIDEO_ARGS, sizeof *videos);
    int num_videos = 0;
    long sample = 8, num_frames = 0, preview_size = 112;
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
            media->previews = media->resampling = 0;
            continue;
        } else if (!strcmp(arg, "--no-probe")) {
            media->probe = 0;
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
            req.output = value;
        else if (!strcmp(arg, "--results")) {
            if (req.num_results == VB_REPORT_MAX_RESULTS)
                USAGE("at most %d --results", VB_REPORT_MAX_RESULTS);
            req.results[req.num_results++] = value;
        }
        else if (!strcmp(arg, "--summary"))
            req.summary = value;
        else if (!strcmp(arg, "--label-map"))
            req.label_map = value;
        else if (!strcmp(arg, "--title"))
            req.title = value;
        else if (!strcmp(arg, "--data-dir"))
            req.data_dir = value;
        else if (!strcmp(arg, "--split"))
            req.split = value;
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
            req.resize_given = 1;
            if (vb_resize_mode_parse(value, &media->video.resize))
                USAGE("--resize must be crop, pad, shortside, stretch or aspect, got '%s'", value);
        } else
            USAGE("unknown option '%s'", arg);
    }
    if (!req.output)
        USAGE("-o report.html is required");
    if ((version || req.split) && !req.data_dir)
        USAGE("--version and --split select clips of --data-dir");
    if (req.split && strcmp(req.split, "train") && strcmp(req.split, "val") && strcmp(req.split, "validate") &&
        strcmp(req.split, "test"))
        USAGE("--split must be train, val or test, got '%s'", req.split);
    media->video.num_frames = (int)num_frames;
    media->preview_size = (int)preview_size;
    req.version = (int)version;
    req.sample = (int)sample;
    req.videos = videos;
    req.num_videos = num_videos;

    vb_error err = {0};
    vb_report_outcome outcome;
    if (vb_report_build(&req, &outcome, &err))
        exit_code = cli_fail(&err);
    else if (cli_verbosity > 0)
        printf("wrote %s (%d clips, %d in the sample, %d previews)\n", cli_safe(req.output), outcome.num_clips,
               outcome.num_sample, outcome.num_previews);
out:
    free(videos);
    return exit_code;
#undef USAGE
}
