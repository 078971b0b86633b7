/* vidbench gif: an animated GIF preview of a video (the seed's to_gif), made with FFmpeg's
 * palettegen/paletteuse filters and GIF encoder. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "vidbench/video.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vidbench gif FILE -o preview.gif [--size N] [--fps F] [--resize MODE]\n\n"
            "Writes an animated GIF of FILE: frames center-cropped and resized like the model\n"
            "input (--resize crop|pad|shortside|stretch|aspect), one palette for the whole clip.\n\n"
            "  -o, --output PATH   the GIF to write (atomically)\n"
            "  --size N            frame size (default 224)\n"
            "  --fps F             playback rate; frames are also picked at this rate (default 25)\n"
            "  --num-frames N      resample to N frames first\n");
}

int cmd_gif(int argc, char **argv)
{
    const char *input = NULL, *output = NULL;
    double fps = 25;
    vb_video_options options;
    vb_video_options_init(&options);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        long n;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            usage(stdout);
            return CLI_EXIT_OK;
        }
        if (arg[0] != '-') {
            if (input)
                return cli_usage_error("gif", "one input file only (got '%s' and '%s')", input, arg);
            input = arg;
            continue;
        }
        if (i + 1 >= argc)
            return cli_usage_error("gif", "option %s needs a value", arg);
        const char *value = argv[++i];
        if (!strcmp(arg, "-o") || !strcmp(arg, "--output"))
            output = value;
        else if (!strcmp(arg, "--size")) {
            if (cli_parse_int(value, 8, 1024, &n))
                return cli_usage_error("gif", "--size must be 8..1024, got '%s'", value);
            options.size = (int)n;
        } else if (!strcmp(arg, "--fps")) {
            if (cli_parse_double(value, 0.1, 100, &fps))
                return cli_usage_error("gif", "--fps must be in [0.1, 100], got '%s'", value);
        } else if (!strcmp(arg, "--num-frames")) {
            if (cli_parse_int(value, 1, 10000, &n))
                return cli_usage_error("gif", "--num-frames must be 1..10000, got '%s'", value);
            options.num_frames = (int)n;
        } else if (!strcmp(arg, "--resize")) {
            if (vb_resize_mode_parse(value, &options.resize))
                return cli_usage_error("gif", "--resize must be crop, pad, shortside, stretch or aspect, got '%s'", value);
        } else
            return cli_usage_error("gif", "unknown option '%s'", arg);
    }
    if (!input)
        return cli_usage_error("gif", "no input file");
    if (!output)
        return cli_usage_error("gif", "no output: give -o preview.gif");
    options.target_fps = fps; /* play in real time: keep the frames nearest to this rate */

    vb_error err = {0};
    vb_frames clip;
    if (vb_video_decode_clip(input, &options, &clip, &err))
        return cli_fail(&err);
    int rc = vb_clip_write_gif(&clip, fps, output, &err);
    if (!rc && cli_verbosity > 0)
        fprintf(stderr, "%s: %d frames at %g fps written to %s\n", input, clip.num_frames, fps, output);
    vb_frames_free(&clip);
    return rc ? cli_fail(&err) : CLI_EXIT_OK;
}
