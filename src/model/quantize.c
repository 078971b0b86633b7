/* `vidbench model quantize` in the library: calibrates an fp32 I3D on decoded video clips,
 * writes the int8 file (weights per output channel s8, activation scales, and metadata naming
 * the clips, the method and the source's sha256), then measures how the int8 model agrees with
 * fp32 on held-back clips. */
#include "vidbench/classifier.h"
#include "vidbench/download.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void report_progress(const vb_quantize_request *request, const char *stage, int done, int total,
                            const char *file)
{
    if (request->progress)
        request->progress(request->user, stage, done, total, file);
}

/* Every clip of `files` through the fp32 model's calibrator. */
static int calibrate(const vb_quantize_request *request, vb_classifier *fp32, vb_i3d_calibrator *cal, vb_error *err)
{
    vb_video_options options;
    vb_classifier_video_options(fp32, &options);
    float *input = NULL;
    size_t have = 0;
    int rc = 0;
    for (int i = 0; i < request->n_calibration && !rc; i++) {
        const char *file = request->calibration[i];
        report_progress(request, "calibrating", i, request->n_calibration, file);
        vb_frames clip;
        if ((rc = vb_video_decode_clip(file, &options, &clip, err)))
            break;
        const size_t n = (size_t)clip.num_frames * clip.height * clip.width * 3;
        if (n > have) {
            free(input);
            input = malloc(n * sizeof(float));
            have = input ? n : 0;
        }
        if (!input)
            rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory for %zu floats", file, n);
        for (size_t k = 0; !rc && k < n; k++)
            input[k] = (float)clip.frames[k] / 255.0f;   /* the classifier's own [0,1], to the bit */
        if (!rc && (rc = vb_i3d_calibrator_add(cal, input, 1, clip.num_frames, err)))
            vb_error_prefix(err, "%s: ", file);
        vb_frames_free(&clip);
    }
    free(input);
    return rc;
}

/* Metadata pairs: what the file was made from. */
static int write_int8(const vb_quantize_request *request, const vb_i3d_calibrator *cal, int frames, vb_error *err)
{
    char sha[65], frames_text[16];
    int rc = vb_sha256_file(request->weights_path, sha, err);
    if (rc)
        return rc;
    snprintf(frames_text, sizeof frames_text, "%d", frames);
    size_t clips_bytes = 1;
    for (int i = 0; i < request->n_calibration; i++)
        clips_bytes += strlen(request->calibration[i]) + 1;
    char *clips = malloc(clips_bytes);
    if (!clips)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", request->output_path);
    clips[0] = 0;
    for (int i = 0; i < request->n_calibration; i++) {
        strcat(clips, request->calibration[i]);
        if (i + 1 < request->n_calibration)
            strcat(clips, "\n");
    }
    const char *source = strrchr(request->weights_path, '/');
    source = source ? source + 1 : request->weights_path;
    const char *meta[] = {
        "written_by", "vidbench model quantize",
        "calibration_method", vb_i3d_calibration_name(request->method),
        "calibration_frames", frames_text,
        "calibration_clips", clips,
        "source_file", source,
        "source_sha256", sha,
    };
    rc = vb_i3d_calibrator_write(cal, request->output_path, request->method, meta, 6, err);
    free(clips);
    return rc;
}

/* Held-back clips through both models, decoded once each. */
static int measure_agreement(const vb_quantize_request *request, vb_classifier *fp32, vb_classifier *int8,
                             vb_agreement *agreement, vb_error *err)
{
    const int classes = vb_classifier_num_classes(fp32);
    float *logits = malloc(2 * (size_t)classes * sizeof(float));
    if (!logits)
        return vb_error_set(err, VB_ENOMEM, "agreement: out of memory");
    vb_video_options options;
    vb_classifier_video_options(fp32, &options);
    int rc = 0;
    for (int i = 0; i < request->n_holdout && !rc; i++) {
        const char *file = request->holdout[i];
        report_progress(request, "checking", i, request->n_holdout, file);
        vb_frames clip;
        if ((rc = vb_video_decode_clip(file, &options, &clip, err)))
            break;
        if (!(rc = vb_classifier_run(fp32, &clip, logits, NULL, err)) &&
            !(rc = vb_classifier_run(int8, &clip, logits + classes, NULL, err)))
            rc = vb_agreement_add(agreement, logits, logits + classes, classes, err);
        if (rc)
            vb_error_prefix(err, "%s: ", file);
        vb_frames_free(&clip);
    }
    free(logits);
    return rc;
}

int vb_quantize_i3d(const vb_quantize_request *request, vb_quantize_report *report, vb_error *err)
{
    memset(report, 0, sizeof *report);
    vb_agreement_init(&report->agreement);
    if (!request->weights_path || !request->output_path || request->n_calibration < 1)
        return vb_error_set(err, VB_EINVAL, "quantize: needs fp32 weights, an output path and calibration clips");
    if ((int)request->method < VB_I3D_CALIBRATE_MINMAX || request->method > VB_I3D_CALIBRATE_ENTROPY)
        return vb_error_set(err, VB_EINVAL, "quantize: unknown calibration method %d", (int)request->method);
    vb_classifier_options options;
    vb_classifier_options_init(&options);
    options.threads = request->threads;
    options.num_frames = request->num_frames;
    options.precision = VB_I3D_PRECISION_FP32;
    vb_classifier *fp32 = NULL, *int8 = NULL;
    vb_i3d_calibrator *cal = NULL;
    int rc = vb_classifier_open(request->weights_path, NULL, &options, &fp32, err);
    if (!rc && vb_classifier_get_kind(fp32) != VB_CLASSIFIER_I3D)
        rc = vb_error_set(err, VB_EINVAL, "%s: only I3D (.safetensors) models are quantized here (MoViNet files "
                          "are int8 already)", request->weights_path);
    if (!rc)
        rc = vb_i3d_calibrator_new(vb_classifier_i3d(fp32), &cal, err);
    if (!rc)
        rc = calibrate(request, fp32, cal, err);
    vb_classifier_input input;
    if (!rc) {
        vb_classifier_input_spec(fp32, &input);
        rc = write_int8(request, cal, input.num_frames, err);
    }
    vb_i3d_calibrator_free(&cal);   /* before the agreement runs: it observes no more */
    if (!rc) {
        report->calibration_clips = request->n_calibration;
        options.precision = VB_I3D_PRECISION_INT8;
        rc = vb_classifier_open(request->output_path, NULL, &options, &int8, err);
    }
    if (!rc) {
        snprintf(report->isa, sizeof report->isa, "%s", vb_classifier_isa(int8));
        snprintf(report->note, sizeof report->note, "%s", vb_classifier_note(int8));
        rc = measure_agreement(request, fp32, int8, &report->agreement, err);
    }
    vb_classifier_free(&int8);
    vb_classifier_free(&fp32);
    return rc;
}
