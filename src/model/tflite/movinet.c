/* MoViNet stream models on the TFLite interpreter: the signature def names pair each state
 * input with its updated output; a clip is its frames fed in order from zero states. */
#include "vidbench/movinet.h"
#include "vidbench/video.h"

#include <stdlib.h>
#include <string.h>

#include "vidbench/tflite.h"

#define MAX_GRAPH_INPUTS 4096

typedef struct state_pair {
    int input, output;       /* tensor indices */
    size_t bytes;
} state_pair;

struct vb_movinet {
    vb_tflite_model *model;
    vb_tflite_interpreter *interpreter;
    int image_tensor, logits_tensor;
    int size, classes;
    int num_states;
    state_pair *states;
};

static const vb_tflite_signature_entry *find_entry(const vb_tflite_signature_entry *e, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (e[i].name && !strcmp(e[i].name, name))
            return &e[i];
    return NULL;
}

static int same_shape(const vb_tflite_tensor *a, const vb_tflite_tensor *b)
{
    if (a->rank != b->rank || a->type != b->type)
        return 0;
    for (int d = 0; d < a->rank; d++)
        if (a->shape[d] != b->shape[d])
            return 0;
    return 1;
}

static int map_signature(vb_movinet *mv, const char *path, vb_error *err)
{
    const vb_tflite_model *m = mv->model;
    const vb_tflite_signature *sig = NULL;
    for (int s = 0; s < m->num_signatures; s++)
        if (m->signatures[s].subgraph == 0) {
            sig = &m->signatures[s];
            break;
        }
    if (!sig)
        return vb_error_set(err, VB_EFORMAT, "%s: no signature def names the inputs and outputs", path);
    const vb_tflite_signature_entry *image = find_entry(sig->inputs, sig->num_inputs, "image");
    const vb_tflite_signature_entry *logits = find_entry(sig->outputs, sig->num_outputs, "logits");
    if (!image || !logits)
        return vb_error_set(err, VB_ENOTFOUND, "%s: signature \"%s\" has no \"image\" input or no \"logits\" output",
                            path, sig->key ? sig->key : "");
    const vb_tflite_tensor *ti = &m->tensors[image->tensor], *tl = &m->tensors[logits->tensor];
    if (ti->type != VB_TFLITE_FLOAT32 || ti->rank != 5 || ti->shape[0] != 1 || ti->shape[1] != 1 ||
        ti->shape[2] != ti->shape[3] || ti->shape[2] < 1 || ti->shape[4] != 3)
        return vb_error_set(err, VB_ESHAPE, "%s: input \"image\" must be FLOAT32 [1,1,S,S,3]", path);
    if (tl->type != VB_TFLITE_FLOAT32 || tl->rank != 2 || tl->shape[0] != 1 || tl->shape[1] < 1)
        return vb_error_set(err, VB_ESHAPE, "%s: output \"logits\" must be FLOAT32 [1,C]", path);
    /* Both counts come from the file and need not agree: one list sizes what the other
     * indexes only through the checks below. The cap keeps the name look-ups (linear per
     * state) far from quadratic blow-up; MoViNet streams have about a hundred states. */
    if (m->num_inputs > MAX_GRAPH_INPUTS || m->num_outputs > MAX_GRAPH_INPUTS ||
        sig->num_inputs > MAX_GRAPH_INPUTS || sig->num_outputs > MAX_GRAPH_INPUTS)
        return vb_error_set(err, VB_ELIMIT, "%s: %d graph inputs, %d graph outputs, %d signature inputs and %d "
                            "signature outputs (at most %d each)", path, m->num_inputs, m->num_outputs,
                            sig->num_inputs, sig->num_outputs, MAX_GRAPH_INPUTS);
    int image_is_input = 0, logits_is_output = 0;
    for (int k = 0; k < m->num_inputs; k++)
        image_is_input |= m->inputs[k] == image->tensor;
    for (int k = 0; k < m->num_outputs; k++)
        logits_is_output |= m->outputs[k] == logits->tensor;
    /* Otherwise the buffers written by step() and read for the logits may not exist. */
    if (!image_is_input || !logits_is_output)
        return vb_error_set(err, VB_EFORMAT, "%s: signature's \"image\" is not a graph input or its \"logits\" not a graph output",
                            path);
    mv->image_tensor = image->tensor;
    mv->logits_tensor = logits->tensor;
    mv->size = ti->shape[2];
    mv->classes = tl->shape[1];
    /* Every graph input must be fed: the image or a state with a matching output. The array
     * is sized by the loop that fills it (the graph's inputs), not by the signature. */
    mv->states = calloc((size_t)m->num_inputs + 1, sizeof *mv->states);
    if (!mv->states)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
    for (int k = 0; k < m->num_inputs; k++) {
        const int t = m->inputs[k];
        for (int j = 0; j < k; j++)
            if (m->inputs[j] == t)
                return vb_error_set(err, VB_EFORMAT, "%s: graph input tensor %d is listed twice", path, t);
        if (t == mv->image_tensor)
            continue;
        const vb_tflite_signature_entry *in = NULL;
        for (int i = 0; i < sig->num_inputs; i++)
            if (sig->inputs[i].tensor == t)
                in = &sig->inputs[i];
        if (!in)
            return vb_error_set(err, VB_EFORMAT, "%s: graph input tensor %d is not named by the signature", path, t);
        const vb_tflite_signature_entry *out = find_entry(sig->outputs, sig->num_outputs, in->name);
        if (!out)
            return vb_error_set(err, VB_ENOTFOUND, "%s: state input \"%s\" has no output of the same name", path, in->name);
        if (out->tensor < 0 || out->tensor >= m->num_tensors || !same_shape(&m->tensors[t], &m->tensors[out->tensor]))
            return vb_error_set(err, VB_ESHAPE, "%s: state \"%s\" has different input and output shapes or types",
                                path, in->name);
        int is_output = 0;
        for (int o = 0; o < m->num_outputs; o++)
            is_output |= m->outputs[o] == out->tensor;
        if (!is_output && out->tensor != t)
            return vb_error_set(err, VB_EFORMAT, "%s: state output \"%s\" is not a graph output", path, in->name);
        mv->states[mv->num_states].input = t;
        mv->states[mv->num_states].output = out->tensor;
        mv->states[mv->num_states].bytes = m->tensors[t].num_bytes;
        mv->num_states++;
    }
    return 0;
}

int vb_movinet_open(const char *tflite_path, int threads, vb_movinet **out, vb_error *err)
{
    *out = NULL;
    vb_movinet *mv = calloc(1, sizeof *mv);
    if (!mv)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", tflite_path);
    int rc = vb_tflite_open(tflite_path, &mv->model, err);
    if (!rc)
        rc = map_signature(mv, tflite_path, err);
    /* Clips are decoded at the model's input size: a size the decoder cannot produce is the
     * model's fault, said once here instead of blamed on every clip. */
    if (!rc && mv->size > VB_VIDEO_MAX_SIZE)
        rc = vb_error_set(err, VB_EUNSUPPORTED, "%s: input \"image\" is %dx%d, larger than the %dx%d frames the "
                          "video decoder produces", tflite_path, mv->size, mv->size, VB_VIDEO_MAX_SIZE,
                          VB_VIDEO_MAX_SIZE);
    if (!rc)
        rc = vb_tflite_interpreter_create(mv->model, threads, &mv->interpreter, err);
    for (int s = 0; !rc && s < mv->num_states; s++)
        rc = vb_tflite_link_state(mv->interpreter, mv->states[s].input, mv->states[s].output, err);
    if (rc) {
        vb_movinet_free(&mv);
        return rc;
    }
    vb_movinet_reset(mv);
    *out = mv;
    return 0;
}

int vb_movinet_threads(const vb_movinet *model)
{
    return vb_tflite_interpreter_threads(model->interpreter);
}

void vb_movinet_free(vb_movinet **model)
{
    if (!model || !*model)
        return;
    vb_movinet *mv = *model;
    vb_tflite_interpreter_free(&mv->interpreter);
    vb_tflite_free(&mv->model);
    free(mv->states);
    free(mv);
    *model = NULL;
}

int vb_movinet_num_classes(const vb_movinet *model) { return model ? model->classes : 0; }
int vb_movinet_input_size(const vb_movinet *model) { return model ? model->size : 0; }
int vb_movinet_num_states(const vb_movinet *model) { return model ? model->num_states : 0; }

int vb_movinet_set_simd_level(vb_movinet *model, int level)
{
    int used = vb_tflite_set_simd_level(model->interpreter, level);
    vb_movinet_reset(model);
    return used;
}

void vb_movinet_reset(vb_movinet *model)
{
    vb_tflite_reset_states(model->interpreter);
}

static int run_step(vb_movinet *model, float *logits, vb_error *err)
{
    int rc = vb_tflite_invoke(model->interpreter, err);
    if (rc)
        return rc;
    /* The outputs become the next frame's states (some are the inputs passed through). */
    vb_tflite_carry_states(model->interpreter);
    if (logits)
        memcpy(logits, vb_tflite_tensor_buffer(model->interpreter, model->logits_tensor),
               (size_t)model->classes * sizeof(float));
    return 0;
}

int vb_movinet_step(vb_movinet *model, const uint8_t *frame, float *logits, vb_error *err)
{
    if (!model || !frame)
        return vb_error_set(err, VB_EINVAL, "vb_movinet_step: no model or frame");
    float *image = vb_tflite_tensor_buffer(model->interpreter, model->image_tensor);
    const size_t n = (size_t)model->size * model->size * 3;
    for (size_t i = 0; i < n; i++)
        image[i] = (float)frame[i] / 255.0f;   /* the apps' astype(float32) / 255 */
    return run_step(model, logits, err);
}

int vb_movinet_step_float(vb_movinet *model, const float *frame, float *logits, vb_error *err)
{
    if (!model || !frame)
        return vb_error_set(err, VB_EINVAL, "vb_movinet_step_float: no model or frame");
    float *image = vb_tflite_tensor_buffer(model->interpreter, model->image_tensor);
    memcpy(image, frame, (size_t)model->size * model->size * 3 * sizeof(float));
    return run_step(model, logits, err);
}

int vb_movinet_classify_frames(vb_movinet *model, const uint8_t *frames, int count, float *logits, vb_error *err)
{
    if (!model || !frames || !logits || count < 1)
        return vb_error_set(err, VB_EINVAL, "vb_movinet_classify_frames: need a model, frames and at least one frame");
    vb_movinet_reset(model);
    const size_t frame_bytes = (size_t)model->size * model->size * 3;
    for (int f = 0; f < count; f++) {
        int rc = vb_movinet_step(model, frames + (size_t)f * frame_bytes, f == count - 1 ? logits : NULL, err);
        if (rc)
            return rc;
    }
    return 0;
}
