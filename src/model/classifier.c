/* Generic classifier over the I3D engine and the MoViNet interpreter (see classifier.h).
 * The model type is decided by the weights file's extension. */
#include "vidbench/classifier.h"

#include "common/fsutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vidbench/movinet.h"

struct vb_classifier {
    vb_classifier_kind kind;
    vb_i3d *i3d;
    vb_movinet *movinet;
    int num_classes;
    int num_frames;           /* 0: all (MoViNet only) */
    vb_labels labels;
    int has_labels;
    float *input;             /* I3D: [T,224,224,3] in [0,1] */
    size_t input_floats;
    float *logits;            /* [classes] scratch when the caller wants only probabilities */
    char weights_path[4096];  /* the file opened (an fp32 file's int8 sibling when int8 was asked) */
};

int vb_quantized_weights_path(const char *fp32_path, char *out, size_t out_bytes, vb_error *err)
{
    static const char suffix[] = ".safetensors";
    size_t len = strlen(fp32_path), stem = len - (sizeof suffix - 1);
    if (len < sizeof suffix - 1 || strcmp(fp32_path + stem, suffix))
        return vb_error_set(err, VB_EINVAL, "%s: not a .safetensors file", fp32_path);
    if ((size_t)snprintf(out, out_bytes, "%.*s.int8%s", (int)stem, fp32_path, suffix) >= out_bytes)
        return vb_error_set(err, VB_ELIMIT, "%s: path too long", fp32_path);
    return 0;
}

/* int8 asked of a file that is not already an int8 one: its sibling NAME.int8.safetensors (what
 * `vidbench model quantize` writes by default) when that exists. */
static const char *int8_sibling(const char *weights_path, char *sibling, size_t size)
{
    struct stat st;
    if (fs_ends_with(weights_path, ".int8.safetensors") || vb_quantized_weights_path(weights_path, sibling, size, NULL) ||
        stat(sibling, &st) || !S_ISREG(st.st_mode))
        return weights_path;
    return sibling;
}

void vb_classifier_options_init(vb_classifier_options *options)
{
    memset(options, 0, sizeof *options);
    options->backend = VB_I3D_BACKEND_ONEDNN;
}

int vb_classifier_kind_of_path(const char *weights_path)
{
    if (fs_ends_with(weights_path, ".safetensors"))
        return VB_CLASSIFIER_I3D;
    if (fs_ends_with(weights_path, ".tflite"))
        return VB_CLASSIFIER_MOVINET;
    return -1;
}

int vb_classifier_open(const char *weights_path, const char *labels_path, const vb_classifier_options *options,
                       vb_classifier **out, vb_error *err)
{
    *out = NULL;
    vb_classifier_options defaults;
    if (!options) {
        vb_classifier_options_init(&defaults);
        options = &defaults;
    }
    if (options->num_frames < 0 || options->threads < 0)
        return vb_error_set(err, VB_EINVAL, "%s: negative frame or thread count", weights_path);
    vb_classifier *c = calloc(1, sizeof *c);
    if (!c)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", weights_path);
    int rc;
    const int kind = vb_classifier_kind_of_path(weights_path);
    char sibling[4096];
    if (kind == VB_CLASSIFIER_I3D && options->precision == VB_I3D_PRECISION_INT8)
        weights_path = int8_sibling(weights_path, sibling, sizeof sibling);
    snprintf(c->weights_path, sizeof c->weights_path, "%s", weights_path);
    if (kind == VB_CLASSIFIER_I3D) {
        c->kind = VB_CLASSIFIER_I3D;
        vb_i3d_options i3d_options;
        vb_i3d_options_init(&i3d_options);
        i3d_options.backend = options->backend;
        i3d_options.threads = options->threads;
        i3d_options.precision = options->precision;
        if ((rc = vb_i3d_open(weights_path, &i3d_options, &c->i3d, err)))
            goto fail;
        c->num_classes = vb_i3d_num_classes(c->i3d);
        c->num_frames = options->num_frames ? options->num_frames : VB_CLASSIFIER_I3D_DEFAULT_FRAMES;
        if (c->num_frames < VB_I3D_MIN_FRAMES) {
            rc = vb_error_set(err, VB_EINVAL, "%s: I3D needs at least %d frames, %d requested", weights_path,
                              VB_I3D_MIN_FRAMES, c->num_frames);
            goto fail;
        }
    } else if (kind == VB_CLASSIFIER_MOVINET) {
        c->kind = VB_CLASSIFIER_MOVINET;
        if (options->precision != VB_I3D_PRECISION_AUTO && options->precision != VB_I3D_PRECISION_INT8) {
            rc = vb_error_set(err, VB_EINVAL, "%s: the MoViNet TFLite model runs in int8 only (asked %s)", weights_path,
                              vb_i3d_precision_name(options->precision));
            goto fail;
        }
        if ((rc = vb_movinet_open(weights_path, options->threads, &c->movinet, err)))
            goto fail;
        c->num_classes = vb_movinet_num_classes(c->movinet);
        c->num_frames = options->num_frames;
    } else {
        rc = vb_error_set(err, VB_EUNSUPPORTED,
                          "%s: unknown model type (expected .safetensors for I3D or .tflite for MoViNet)", weights_path);
        goto fail;
    }
    if (c->num_classes < 1) {
        rc = vb_error_set(err, VB_EFORMAT, "%s: model has no classes", weights_path);
        goto fail;
    }
    if (labels_path) {
        if ((rc = vb_labels_load(labels_path, &c->labels, err)))
            goto fail;
        c->has_labels = 1;
        if (c->labels.count != c->num_classes) {
            rc = vb_error_set(err, VB_ESHAPE, "%s: label map has %d classes but the model %s has %d", labels_path,
                              c->labels.count, weights_path, c->num_classes);
            goto fail;
        }
    }
    c->logits = malloc((size_t)c->num_classes * sizeof(float));
    if (!c->logits) {
        rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", weights_path);
        goto fail;
    }
    *out = c;
    return 0;
fail:
    vb_classifier_free(&c);
    return rc;
}

void vb_classifier_free(vb_classifier **classifier)
{
    if (!classifier || !*classifier)
        return;
    vb_classifier *c = *classifier;
    vb_i3d_free(&c->i3d);
    vb_movinet_free(&c->movinet);
    if (c->has_labels)
        vb_labels_free(&c->labels);
    free(c->input);
    free(c->logits);
    free(c);
    *classifier = NULL;
}

vb_classifier_kind vb_classifier_get_kind(const vb_classifier *classifier) { return classifier->kind; }

const char *vb_classifier_kind_name(const vb_classifier *classifier)
{
    return classifier->kind == VB_CLASSIFIER_I3D ? "i3d" : "movinet";
}
int vb_classifier_threads(const vb_classifier *classifier)
{
    return classifier->kind == VB_CLASSIFIER_I3D ? vb_i3d_threads(classifier->i3d)
                                                 : vb_movinet_threads(classifier->movinet);
}

const char *vb_classifier_precision(const vb_classifier *classifier)
{
    return classifier->kind == VB_CLASSIFIER_I3D ? vb_i3d_precision_name(vb_i3d_get_precision(classifier->i3d)) : "int8";
}

const char *vb_classifier_weights_path(const vb_classifier *classifier)
{
    return classifier->weights_path;
}

vb_i3d *vb_classifier_i3d(vb_classifier *classifier)
{
    return classifier->kind == VB_CLASSIFIER_I3D ? classifier->i3d : NULL;
}

const char *vb_classifier_isa(const vb_classifier *classifier)
{
    return classifier->kind == VB_CLASSIFIER_I3D ? vb_i3d_isa(classifier->i3d) : NULL;
}

const char *vb_classifier_note(const vb_classifier *classifier)
{
    return classifier->kind == VB_CLASSIFIER_I3D ? vb_i3d_note(classifier->i3d) : "";
}

double vb_classifier_gflop_per_clip(const vb_classifier *classifier, int frames)
{
    if (classifier->kind != VB_CLASSIFIER_I3D || frames <= 0)
        return -1;
    double flops = vb_i3d_flops_per_clip(classifier->i3d, frames);
    return flops > 0 ? flops * 1e-9 : -1;
}

int vb_classifier_num_classes(const vb_classifier *classifier) { return classifier->num_classes; }

const vb_labels *vb_classifier_labels(const vb_classifier *classifier)
{
    return classifier->has_labels ? &classifier->labels : NULL;
}

const char *vb_classifier_label(const vb_classifier *classifier, int class_id)
{
    if (!classifier->has_labels || class_id < 0 || class_id >= classifier->labels.count)
        return NULL;
    return classifier->labels.names[class_id];
}

void vb_classifier_input_spec(const vb_classifier *classifier, vb_classifier_input *input)
{
    memset(input, 0, sizeof *input);
    input->num_frames = classifier->num_frames;
    input->value_min = 0.0f;   /* both take uint8 / 255 (I3D: the seed's frames / 255.0) */
    input->value_max = 1.0f;
    if (classifier->kind == VB_CLASSIFIER_I3D) {
        input->size = VB_I3D_INPUT_SIZE;
        input->resize = VB_RESIZE_CROP;        /* the seed's centre square */
        input->min_frames = VB_I3D_MIN_FRAMES;
        input->takes_float_batches = 1;
    } else {
        input->size = vb_movinet_input_size(classifier->movinet);
        input->resize = VB_RESIZE_STRETCH;     /* the published MoViNet apps */
        input->min_frames = 1;
    }
}

void vb_classifier_video_options(const vb_classifier *classifier, vb_video_options *options)
{
    vb_classifier_input input;
    vb_classifier_input_spec(classifier, &input);
    vb_video_options_init(options);
    options->size = input.size;
    options->resize = input.resize;
    options->num_frames = input.num_frames;
}

void vb_softmax(const float *logits, int n, float *probabilities)
{
    if (n <= 0)
        return;
    float max = logits[0];
    for (int i = 1; i < n; i++)
        if (logits[i] > max)
            max = logits[i];
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += exp((double)logits[i] - max);
    for (int i = 0; i < n; i++)
        probabilities[i] = (float)(exp((double)logits[i] - max) / sum);
}

int vb_top_k(const float *probabilities, int n, int k, vb_prediction *out)
{
    if (k > n)
        k = n;
    if (k <= 0)
        return 0;
    int count = 0;
    /* Insertion into a sorted list of k: k is small (top 5) next to n (400-600 classes). */
    for (int i = 0; i < n; i++) {
        float p = probabilities[i];
        if (count == k && !(p > out[k - 1].probability))
            continue;
        int pos = count < k ? count++ : k - 1;
        while (pos > 0 && p > out[pos - 1].probability) {
            out[pos] = out[pos - 1];
            pos--;
        }
        out[pos] = (vb_prediction){i, p};
    }
    return k;
}

int vb_classifier_logits_f32(vb_classifier *c, const float *input, vb_value_range range, int batch, int frames,
                             float *logits, vb_error *err)
{
    if (batch < 1 || frames < 1)
        return vb_error_set(err, VB_EINVAL, "classifier: %d clips of %d frames", batch, frames);
    if (range != VB_RANGE_UNIT && range != VB_RANGE_SIGNED)
        return vb_error_set(err, VB_EINVAL, "classifier: unknown value range %d", (int)range);
    if (c->kind == VB_CLASSIFIER_I3D)
        return range == VB_RANGE_SIGNED ? vb_i3d_forward_signed(c->i3d, input, batch, frames, logits, err)
                                        : vb_i3d_forward(c->i3d, input, batch, frames, logits, err);
    const int size = vb_movinet_input_size(c->movinet);
    const size_t frame_floats = (size_t)size * size * 3;
    float *unit = NULL;   /* MoViNet takes [0,1]: a signed frame is mapped (x+1)/2 */
    if (range == VB_RANGE_SIGNED && !(unit = malloc(frame_floats * sizeof(float))))
        return vb_error_set(err, VB_ENOMEM, "classifier: out of memory");
    int rc = 0;
    for (int b = 0; b < batch && !rc; b++) {
        vb_movinet_reset(c->movinet);
        float *out = logits + (size_t)b * (size_t)c->num_classes;
        for (int f = 0; f < frames && !rc; f++) {
            const float *frame = input + ((size_t)b * frames + f) * frame_floats;
            if (unit) {
                for (size_t i = 0; i < frame_floats; i++)
                    unit[i] = (frame[i] + 1.0f) * 0.5f;
                frame = unit;
            }
            rc = vb_movinet_step_float(c->movinet, frame, f == frames - 1 ? out : NULL, err);
        }
    }
    free(unit);
    return rc;
}

int vb_classifier_logits_u8(vb_classifier *c, const uint8_t *frames, int count, float *logits, vb_error *err)
{
    if (count < 1)
        return vb_error_set(err, VB_EINVAL, "classifier: empty clip");
    if (c->kind == VB_CLASSIFIER_MOVINET)
        return vb_movinet_classify_frames(c->movinet, frames, count, logits, err);
    size_t n = (size_t)count * VB_I3D_INPUT_SIZE * VB_I3D_INPUT_SIZE * 3;
    if (c->input_floats < n) {
        free(c->input);
        c->input = malloc(n * sizeof(float));
        c->input_floats = c->input ? n : 0;
        if (!c->input)
            return vb_error_set(err, VB_ENOMEM, "classifier: out of memory for a %d-frame clip", count);
    }
    /* uint8 RGB -> [0,1], what the seed feeds TF Hub's I3D (frames / 255.0, to the bit) */
    vb_u8_to_float32(frames, n, c->input);
    return vb_i3d_forward(c->i3d, c->input, 1, count, logits, err);
}

int vb_classifier_run(vb_classifier *c, const vb_frames *clip, float *logits, float *probabilities, vb_error *err)
{
    if (!clip || !clip->frames || clip->num_frames < 1)
        return vb_error_set(err, VB_EINVAL, "classifier: empty clip");
    vb_classifier_input input;
    vb_classifier_input_spec(c, &input);
    if (clip->height != input.size || clip->width != input.size)
        return vb_error_set(err, VB_ESHAPE, "%s takes %dx%d frames, the clip has %dx%d",
                            c->kind == VB_CLASSIFIER_I3D ? "I3D" : "MoViNet", input.size, input.size,
                            clip->width, clip->height);
    float *out = logits ? logits : c->logits;
    int rc = vb_classifier_logits_u8(c, clip->frames, clip->num_frames, out, err);
    if (rc)
        return rc;
    if (probabilities)
        vb_softmax(out, c->num_classes, probabilities);
    return 0;
}

int vb_classifier_classify_file(vb_classifier *c, const char *video_path, float *logits, float *probabilities,
                                vb_error *err)
{
    vb_video_options options;
    vb_classifier_video_options(c, &options);
    vb_frames clip;
    int rc = vb_video_decode_clip(video_path, &options, &clip, err);
    if (rc)
        return rc;
    rc = vb_classifier_run(c, &clip, logits, probabilities, err);
    if (rc)
        vb_error_prefix(err, "%s: ", video_path);
    vb_frames_free(&clip);
    return rc;
}
