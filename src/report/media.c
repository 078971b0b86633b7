/* Media adapters of the report: probes local clips (vb_video_probe) for the property
 * histograms, writes GIF previews of the frames the model sees (vb_video_decode_clip with
 * the model's crop and temporal sampling, at preview resolution), and the resampling figure.
 * A clip that cannot be probed or decoded gets a note on the page; a failed write is an error. */
#include "vidbench/report.h"
#include "report/report_internal.h"
#include "common/fsutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_PREVIEW_FRAMES 64
#define RESAMPLING_SOURCE_FRAMES 8
#define RESAMPLING_DOWN_FRAMES 5
#define RESAMPLING_UP_FRAMES 12
#define RESAMPLING_FRAME_PX 80

void vb_report_media_options_init(vb_report_media_options *options)
{
    memset(options, 0, sizeof *options);
    options->probe = 1;
    options->previews = 1;
    options->resampling = 1;
    vb_video_options_init(&options->video);
    options->preview_size = 112;
}

/* "<dir>/<name>" in a malloc'd string. */
static char *join_path(const char *dir, const char *name)
{
    size_t length = strlen(dir) + strlen(name) + 2;
    char *path = malloc(length);
    if (path)
        snprintf(path, length, "%s/%s", dir, name);
    return path;
}

/* Writes clip as GIF at path and stores its href; a failed encode becomes *note. */
static int write_gif(vb_report *report, const vb_frames *clip, double fps, const char *report_dir,
                     const char *files_dir, const char *file_name, const char **href_out, const char **note_out,
                     vb_error *err)
{
    char *path = join_path(files_dir, file_name);
    if (!path)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", files_dir);
    vb_error gif_err = {0};
    if (vb_clip_write_gif(clip, fps, path, &gif_err)) {
        free(path);
        /* A clip the encoder cannot take is a note on the page; a write that failed (full
         * disk, I/O error) would fail every later file too, so the report fails with it. */
        if (gif_err.code == VB_ENOSPACE || gif_err.code == VB_EIO || gif_err.code == VB_ENOMEM) {
            if (err)
                *err = gif_err;
            return gif_err.code;
        }
        *note_out = vb_report_strdup(report, gif_err.message);
        return 0;
    }
    char *href = NULL;
    int rc = report_relative_href(report_dir, path, &href, err);
    free(path);
    if (rc)
        return rc;
    *href_out = vb_report_strdup(report, href);
    free(href);
    return *href_out ? 0 : vb_error_set(err, VB_ENOMEM, "%s: out of memory", file_name);
}

static int build_resampling(vb_report *report, const vb_report_clip *clip, const char *report_dir,
                            const char *files_dir, const vb_report_media_options *options, vb_error *err)
{
    vb_report_resampling *figure = &report->resampling;
    figure->clip_name = clip->video_id;
    vb_video_options video = options->video;
    video.size = RESAMPLING_FRAME_PX;
    video.num_frames = RESAMPLING_SOURCE_FRAMES;
    vb_frames frames;
    vb_error decode_err = {0};
    if (vb_video_decode_clip(clip->video_path, &video, &frames, &decode_err)) {
        figure->note = vb_report_strdup(report, decode_err.message);
        return 0;
    }
    int rc = 0;
    figure->source_hrefs = calloc(RESAMPLING_SOURCE_FRAMES, sizeof *figure->source_hrefs);
    figure->down_indices = malloc(RESAMPLING_DOWN_FRAMES * sizeof *figure->down_indices);
    figure->up_indices = malloc(RESAMPLING_UP_FRAMES * sizeof *figure->up_indices);
    if (!figure->source_hrefs || !figure->down_indices || !figure->up_indices) {
        rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", clip->video_path);
        goto done;
    }
    size_t frame_bytes = (size_t)frames.height * frames.width * 3;
    for (int i = 0; i < frames.num_frames && i < RESAMPLING_SOURCE_FRAMES; i++) {
        vb_frames one = frames;
        one.num_frames = 1;
        one.frames = frames.frames + (size_t)i * frame_bytes;
        char name[64];
        snprintf(name, sizeof name, "resample_%02d.gif", i);
        const char *note = NULL;
        rc = write_gif(report, &one, 1, report_dir, files_dir, name, &figure->source_hrefs[i], &note, err);
        if (rc)
            goto done;
        if (note) {
            figure->note = note;
            goto done;
        }
    }
    figure->source_count = frames.num_frames < RESAMPLING_SOURCE_FRAMES ? frames.num_frames : RESAMPLING_SOURCE_FRAMES;
    figure->decoded_frames = frames.decoded_frames;
    figure->down_count = RESAMPLING_DOWN_FRAMES;
    figure->up_count = RESAMPLING_UP_FRAMES;
    vb_resample_indices(figure->source_count, figure->down_count, figure->down_indices);
    vb_resample_indices(figure->source_count, figure->up_count, figure->up_indices);
    figure->present = figure->source_count > 0;
done:
    vb_frames_free(&frames);
    return rc;
}

int vb_report_build_media(vb_report *report, const char *report_dir, const char *files_dir,
                          const vb_report_media_options *options, vb_error *err)
{
    if (options->probe) {
        for (int i = 0; i < report->num_clips; i++) {
            vb_report_clip *clip = &report->clips[i];
            if (!clip->video_path)
                continue;
            vb_error probe_err = {0};
            if (vb_video_probe(clip->video_path, 0, &clip->info, &probe_err) == 0)
                clip->has_info = 1;
            else
                clip->probe_note = vb_report_strdup(report, probe_err.message);
        }
    }
    int wants_files = options->previews || options->resampling;
    if (!wants_files || report->num_sample == 0)
        return 0;
    /* A planted <name>_files link would send our previews (and their renames) anywhere. */
    struct stat st;
    if (lstat(files_dir, &st) == 0 && !S_ISDIR(st.st_mode))
        return vb_error_set(err, VB_EUNSAFE, "%s: exists and is %s, not a directory; remove it or choose "
                            "another output name", files_dir, S_ISLNK(st.st_mode) ? "a symbolic link" : "a file");
    int rc = fs_mkdir_p(files_dir, err);
    if (rc)
        return rc;

    if (options->previews) {
        vb_video_options video = options->video;
        video.size = options->preview_size > 0 ? options->preview_size : 112;
        if (video.num_frames <= 0)
            video.num_frames = report->evaluation.num_frames > 0 ? report->evaluation.num_frames : DEFAULT_PREVIEW_FRAMES;
        for (int s = 0; s < report->num_sample; s++) {
            vb_report_clip *clip = &report->clips[report->sample[s]];
            if (!clip->video_path)
                continue;
            vb_frames frames;
            vb_error decode_err = {0};
            if (vb_video_decode_clip(clip->video_path, &video, &frames, &decode_err)) {
                clip->preview_note = vb_report_strdup(report, decode_err.message);
                continue;
            }
            /* Play the frames over the clip's real duration, so motion looks natural. */
            double fps = 10;
            if (clip->has_info && clip->info.duration_seconds > 0)
                fps = frames.num_frames / clip->info.duration_seconds;
            else if (frames.fps > 0 && frames.decoded_frames > 0)
                fps = frames.fps * frames.num_frames / frames.decoded_frames;
            if (fps < 1)
                fps = 1;
            if (fps > 50)
                fps = 50;
            char name[64];
            snprintf(name, sizeof name, "preview_%03d.gif", s);
            rc = write_gif(report, &frames, fps, report_dir, files_dir, name, &clip->preview_href,
                           &clip->preview_note, err);
            vb_frames_free(&frames);
            if (rc)
                return rc;
        }
    }
    if (options->resampling) {
        for (int s = 0; s < report->num_sample; s++) {
            const vb_report_clip *clip = &report->clips[report->sample[s]];
            if (clip->video_path)
                return build_resampling(report, clip, report_dir, files_dir, options, err);
        }
        report->resampling.note = "no local clip to draw frames from";
    }
    return 0;
}

int vb_report_output_dirs(const char *html_path, char **report_dir, char **files_dir, vb_error *err)
{
    *report_dir = *files_dir = NULL;
    const char *slash = strrchr(html_path, '/');
    const char *base = slash ? slash + 1 : html_path;
    if (!*base)
        return vb_error_set(err, VB_EINVAL, "%s: the output must name a file", html_path);
    char *dir = slash ? strndup(html_path, slash == html_path ? 1 : (size_t)(slash - html_path)) : strdup(".");
    const char *dot = strrchr(base, '.');
    size_t stem_length = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    size_t files_length = strlen(dir) + stem_length + sizeof "/_files";
    char *files = malloc(files_length);
    if (!dir || !files) {
        free(dir);
        free(files);
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", html_path);
    }
    snprintf(files, files_length, "%s/%.*s_files", dir, (int)stem_length, base);
    int rc = fs_mkdir_p(dir, err);
    if (rc) {
        free(dir);
        free(files);
        return rc;
    }
    *report_dir = dir;
    *files_dir = files;
    return 0;
}
