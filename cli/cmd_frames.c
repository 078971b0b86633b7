/* vidbench frames: one video -> a NumPy .npy tensor (uint8 [T,S,S,3] or float32 in [0,1]),
 * the seed's load_and_resize_video on the command line. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "vidbench/video.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vidbench frames FILE -o clip.npy [options]\n\n"
            "Decodes FILE and writes its frames as a NumPy .npy tensor [T,S,S,3] (RGB).\n\n"
            "  -o, --output PATH     where to write the .npy (written atomically)\n"
            "  --size S              output frame size (default 224)\n"
            "  --resize MODE         crop (default): center square, then resize (the seed's)\n"
            "                        pad: zero-pad to a square, then resize\n"
            "                        shortside: short side to 256, then center crop S\n"
            "                        stretch: whole frame to S x S (MoViNet)\n"
            "                        aspect: short side to S, aspect kept, no crop (three-crop testing)\n"
            "  --num-frames N        resample to N frames: frame i = floor(i * count / N)\n"
            "  --min-frames M        fail when fewer than M frames decode (default off)\n"
            "  --fps F               first keep the frames nearest to F frames per second\n"
            "  --dtype uint8|float32 float32 is x / 255 like the seed (default uint8)\n"
            "  --threads N           decoder threads (default: all cores)\n"
            "  --max-seconds S       give up on a file after S seconds (default 300)\n"
            "  --max-frames N        refuse files with more than N frames (default 100000)\n");
}

int cmd_frames(int argc, char **argv)
{
    const char *input = NULL, *output = NULL;
    int as_float32 = 0;
    vb_video_options options;
    vb_video_options_init(&options);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        double d;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (arg[0] != '-' || !strcmp(arg, "-")) {
            if (input)
                return cli_usage_error("frames", "one input file only (got '%s' and '%s')", input, arg);
            input = arg;
            continue;
        }
        if (!value)
            return cli_usage_error("frames", "option %s needs a value", arg);
        i++;
        if (!strcmp(arg, "-o") || !strcmp(arg, "--output")) {
            output = value;
        } else if (!strcmp(arg, "--size")) {
            if (cli_parse_int(value, 1, 4096, &n))
                return cli_usage_error("frames", "--size must be 1..4096, got '%s'", value);
            options.size = (int)n;
        } else if (!strcmp(arg, "--resize")) {
            if (vb_resize_mode_parse(value, &options.resize))
                return cli_usage_error("frames", "--resize must be crop, pad, shortside, stretch or aspect, got '%s'", value);
        } else if (!strcmp(arg, "--num-frames")) {
            if (cli_parse_int(value, 1, 100000, &n))
                return cli_usage_error("frames", "--num-frames must be 1..100000, got '%s'", value);
            options.num_frames = (int)n;
        } else if (!strcmp(arg, "--min-frames")) {
            if (cli_parse_int(value, 0, 100000, &n))
                return cli_usage_error("frames", "--min-frames must be 0..100000, got '%s'", value);
            options.min_frames = (int)n;
        } else if (!strcmp(arg, "--fps")) {
            if (cli_parse_double(value, 0.001, 1000, &d))
                return cli_usage_error("frames", "--fps must be a rate in (0, 1000], got '%s'", value);
            options.target_fps = d;
        } else if (!strcmp(arg, "--dtype")) {
            if (!strcmp(value, "float32"))
                as_float32 = 1;
            else if (!strcmp(value, "uint8"))
                as_float32 = 0;
            else
                return cli_usage_error("frames", "--dtype must be uint8 or float32, got '%s'", value);
        } else if (!strcmp(arg, "--threads")) {
            if (cli_parse_int(value, 0, 256, &n))
                return cli_usage_error("frames", "--threads must be 0..256, got '%s'", value);
            options.threads = (int)n;
        } else if (!strcmp(arg, "--max-seconds")) {
            if (cli_parse_double(value, 0.001, 86400, &d))
                return cli_usage_error("frames", "--max-seconds must be in (0, 86400], got '%s'", value);
            options.max_seconds = d;
        } else if (!strcmp(arg, "--max-frames")) {
            if (cli_parse_int(value, 1, 10000000, &n))
                return cli_usage_error("frames", "--max-frames must be 1..10000000, got '%s'", value);
            options.max_frames = (int)n;
        } else {
            return cli_usage_error("frames", "unknown option '%s'", arg);
        }
    }
    if (!input)
        return cli_usage_error("frames", "no input file");
    if (!output)
        return cli_usage_error("frames", "no output: give -o clip.npy");

    vb_error err = {0};
    vb_frames clip;
    if (vb_video_decode_clip(input, &options, &clip, &err))
        return cli_fail(&err);
    int rc = vb_clip_write_npy(&clip, output, as_float32, &err);
    if (!rc && cli_verbosity > 0)
        fprintf(stderr, "%s: %d frames (%d skipped undecoded: unused, unreferenced)%s, %d written as "
                "[%d,%d,%d,3] %s to %s\n", input, clip.decoded_frames, clip.skipped_frames,
                clip.lost_frames ? " (some lost)" : "", clip.num_frames, clip.num_frames, clip.height,
                clip.width, as_float32 ? "float32" : "uint8", output);
    if (!rc && clip.lost_frames && cli_verbosity > 0)
        fprintf(stderr, "%s: warning: %d frames could not be decoded and were skipped\n", input,
                clip.lost_frames);
    vb_frames_free(&clip);
    return rc ? cli_fail(&err) : CLI_EXIT_OK;
}
