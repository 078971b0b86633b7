/* vidbench probe: what each video file is (container, codec, size, rotation, aspect, pixel
 * format, rate, duration, frames), as a table, CSV or JSON; unreadable files get an error
 * column and make the exit status 1. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidbench/video.h"

enum format { TABLE, CSV, JSON };

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vidbench probe FILE... [--count] [--format table|csv|json]\n\n"
            "Describes each video: container, codec, width, height, rotation (degrees applied,\n"
            "OpenCV 4.6 convention), sample aspect ratio, pixel format, frame rate, duration and\n"
            "frame count (from the header; --count decodes every frame to count exactly).\n"
            "Files that cannot be read get an error column; the exit status is then 1.\n\n"
            "  --count            decode to count frames exactly (also counts lost frames)\n"
            "  --format FORMAT    table (default), csv or json\n");
}

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void csv_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

int cmd_probe(int argc, char **argv)
{
    int count = 0;
    enum format format = TABLE;
    int files = 0;
    char **paths = calloc((size_t)argc, sizeof *paths);
    if (!paths)
        return CLI_EXIT_FAILURE;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            free(paths);
            return CLI_EXIT_OK;
        } else if (!strcmp(argv[i], "--count")) {
            count = 1;
        } else if (!strcmp(argv[i], "--format")) {
            const char *v = i + 1 < argc ? argv[++i] : "";
            if (!strcmp(v, "table"))
                format = TABLE;
            else if (!strcmp(v, "csv"))
                format = CSV;
            else if (!strcmp(v, "json"))
                format = JSON;
            else {
                free(paths);
                return cli_usage_error("probe", "--format must be table, csv or json, got '%s'", v);
            }
        } else if (argv[i][0] == '-' && argv[i][1]) {
            free(paths);
            return cli_usage_error("probe", "unknown option '%s'", argv[i]);
        } else {
            paths[files++] = argv[i];
        }
    }
    if (files == 0) {
        free(paths);
        return cli_usage_error("probe", "no input file");
    }

    int failed = 0;
    if (format == TABLE)
        printf("%-40s %-10s %-6s %5s %5s %4s %-7s %-12s %7s %8s %7s %s\n", "file", "container", "codec",
               "width", "height", "rot", "sar", "pix_fmt", "fps", "duration", "frames", "error");
    else if (format == CSV)
        printf("file,container,codec,width,height,rotation,sar,pixel_format,fps,duration_seconds,"
               "frame_count,frame_count_exact,lost_frames,error\n");
    else
        printf("[");
    for (int f = 0; f < files; f++) {
        const char *path = paths[f];
        vb_video_info info;
        vb_error err = {0};
        int rc = vb_video_probe(path, count, &info, &err);
        if (rc)
            failed++;
        const char *error = rc ? cli_safe(err.message) : "";
        char sar[32], frames[32];
        snprintf(sar, sizeof sar, "%d:%d", info.sar_num, info.sar_den);
        if (info.frame_count >= 0)
            snprintf(frames, sizeof frames, "%lld", (long long)info.frame_count);
        else
            snprintf(frames, sizeof frames, "?");
        /* the container list "mov,mp4,m4a,3gp,3g2,mj2" reads better as its first name */
        char container[64];
        snprintf(container, sizeof container, "%s", info.container);
        if (format == TABLE) {
            char *comma = strchr(container, ',');
            if (comma)
                *comma = '\0';
            if (rc)
                printf("%-40s %s\n", path, error);
            else
                printf("%-40s %-10s %-6s %5d %5d %4d %-7s %-12s %7.3f %8.3f %7s\n", path, container,
                       info.codec, info.width, info.height, info.rotation_degrees, sar, info.pixel_format,
                       info.fps, info.duration_seconds, frames);
        } else if (format == CSV) {
            csv_field(stdout, path);
            putchar(',');
            csv_field(stdout, container);
            printf(",%s,%d,%d,%d,%s,%s,%.6g,%.6g,%s,%d,%d,", info.codec, info.width, info.height,
                   info.rotation_degrees, rc ? "" : sar, info.pixel_format, info.fps, info.duration_seconds,
                   rc || info.frame_count < 0 ? "" : frames, info.frame_count_exact, info.lost_frames);
            csv_field(stdout, error);
            putchar('\n');
        } else {
            printf("%s\n  {\"file\": ", f ? "," : "");
            json_string(stdout, path);
            if (rc) {
                printf(", \"error\": ");
                json_string(stdout, error);
                printf("}");
                continue;
            }
            printf(", \"container\": ");
            json_string(stdout, info.container);
            printf(", \"codec\": ");
            json_string(stdout, info.codec);
            printf(", \"width\": %d, \"height\": %d, \"rotation\": %d, \"sar\": [%d, %d], \"pixel_format\": ",
                   info.width, info.height, info.rotation_degrees, info.sar_num, info.sar_den);
            json_string(stdout, info.pixel_format);
            printf(", \"fps\": %.6g, \"duration_seconds\": %.6g, \"frame_count\": ", info.fps,
                   info.duration_seconds);
            if (info.frame_count >= 0)
                printf("%lld", (long long)info.frame_count);
            else
                printf("null");
            printf(", \"frame_count_exact\": %s, \"lost_frames\": %d, \"error\": null}",
                   info.frame_count_exact ? "true" : "false", info.lost_frames);
        }
    }
    if (format == JSON)
        printf("\n]\n");
    free(paths);
    if (failed && cli_verbosity > 0)
        fprintf(stderr, "vidbench probe: %d of %d files could not be read\n", failed, files);
    return failed ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}
