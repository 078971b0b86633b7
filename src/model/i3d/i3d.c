/* Public I3D API: opens a weights file, picks a backend, runs clips one after another
 * (so memory does not grow with the batch) and averages the per-frame logits. */
#include "model/i3d/net.h"
#include "model/i3d/onednn_common.h"
#include "model/i3d/quant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidbench/safetensors.h"
#include "vidbench/threads.h"

struct vb_i3d {
    i3d_net net;
    const i3d_backend_ops *ops;
    void *backend;
    vb_i3d_backend backend_kind;
    int threads;              /* what the backend runs with (the reference backend: 1) */
    vb_i3d_precision precision;
    char isa[32];
    char note[256];
    float *input;             /* [T,224,224,3] the current clip in [-1,1] */
    int64_t input_floats;
    float *frame_logits;      /* [T'', classes] */
    int64_t frame_logits_floats;
};

void vb_i3d_options_init(vb_i3d_options *options)
{
    memset(options, 0, sizeof *options);
    options->backend = VB_I3D_BACKEND_ONEDNN;
}

int vb_i3d_backend_from_name(const char *name)
{
    if (!strcmp(name, "onednn"))
        return VB_I3D_BACKEND_ONEDNN;
    if (!strcmp(name, "reference"))
        return VB_I3D_BACKEND_REFERENCE;
    return -1;
}

const char *vb_i3d_backend_name(vb_i3d_backend backend)
{
    return backend == VB_I3D_BACKEND_REFERENCE ? "reference" : "onednn";
}

static const char *const precision_names[] = {"auto", "fp32", "bf16", "int8"};

int vb_i3d_precision_from_name(const char *name)
{
    for (int p = 0; p < 4; p++)
        if (!strcmp(name, precision_names[p]))
            return p;
    return -1;
}

const char *vb_i3d_precision_name(vb_i3d_precision precision)
{
    return (int)precision >= 0 && (int)precision < 4 ? precision_names[precision] : "unknown";
}

/* Picks the backend for the precision asked and what the file holds; says in model->note when
 * the run differs from the request. */
static int choose_backend(vb_i3d *model, const vb_i3d_options *options, const char *path, i3d_backend_config *config,
                          vb_error *err)
{
    const int file_int8 = model->net.quant != NULL;
    vb_i3d_precision want = options->precision == VB_I3D_PRECISION_AUTO
                                ? (file_int8 ? VB_I3D_PRECISION_INT8 : VB_I3D_PRECISION_FP32)
                                : options->precision;
    const int reference = options->backend == VB_I3D_BACKEND_REFERENCE;
    const dnnl_cpu_isa_t isa = onednn_isa();
    snprintf(model->isa, sizeof model->isa, "%s", reference ? "plain C" : onednn_isa_name(isa));
    if (want == VB_I3D_PRECISION_INT8 && !file_int8)
        return vb_error_set(err, VB_EINVAL, "%s holds fp32 weights; int8 needs a calibrated file: make one with "
                            "`vidbench model quantize`", path);
    if (want != VB_I3D_PRECISION_INT8 && file_int8)
        return vb_error_set(err, VB_EINVAL, "%s is an int8 model (written by `vidbench model quantize`); run it with "
                            "precision int8", path);
    if (want == VB_I3D_PRECISION_BF16 && reference)
        return vb_error_set(err, VB_EINVAL, "I3D: bf16 runs on the oneDNN backend only (the reference is fp32)");
    if (want == VB_I3D_PRECISION_BF16 && !onednn_isa_has(isa, dnnl_cpu_isa_avx512_core_amx)) {
        /* oneDNN's bf16 convolutions without AMX (avx512_core_bf16) are slower than fp32 */
        snprintf(model->note, sizeof model->note, "bf16 needs AMX (oneDNN avx512_core_amx); this CPU's oneDNN ISA is "
                 "%s, so fp32 ran", onednn_isa_name(isa));
        want = VB_I3D_PRECISION_FP32;
    }
    model->precision = want;
    config->bf16 = want == VB_I3D_PRECISION_BF16;
    if (want == VB_I3D_PRECISION_INT8) {
        /* both backends run the weights the machine's oneDNN kernels can multiply exactly */
        int vnni = onednn_isa_has(isa, dnnl_cpu_isa_avx512_core_vnni);
        /* Either arithmetic on any machine through the reference backend (VNNI's for accuracy
         * figures); oneDNN without VNNI would saturate the full one. */
        const char *forced = getenv("VIDBENCH_INT8_VNNI");
        if (forced && *forced) {
            if (strcmp(forced, "1") && strcmp(forced, "0"))
                return vb_error_set(err, VB_EINVAL, "VIDBENCH_INT8_VNNI is '%.40s': expected 1 (VNNI's arithmetic) or 0 "
                                    "(that of CPUs without VNNI)", forced);
            if (!reference && !vnni && forced[0] == '1')
                return vb_error_set(err, VB_EUNSUPPORTED, "VIDBENCH_INT8_VNNI=1 needs AVX-512 VNNI on the oneDNN backend "
                                    "(this CPU's oneDNN ISA is %s); the reference backend runs it anywhere",
                                    onednn_isa_name(isa));
            vnni = forced[0] == '1';
        }
        if (!vnni)
            snprintf(model->note, sizeof model->note, "int8 without AVX-512 VNNI (oneDNN ISA %s): 7-bit activations "
                     "(and Conv3d_1a's weights), as u8 x s8 pair sums would saturate int16", onednn_isa_name(isa));
        int rc = i3d_quant_prepare(&model->net, !vnni, err);
        if (rc)
            return rc;
        model->ops = reference ? &i3d_reference_int8_ops : &i3d_onednn_int8_ops;
    } else {
        model->ops = reference ? &i3d_reference_ops : &i3d_onednn_ops;
    }
    return 0;
}

int vb_i3d_open(const char *weights_path, const vb_i3d_options *options, vb_i3d **out, vb_error *err)
{
    *out = NULL;
    vb_i3d_options defaults;
    if (!options) {
        vb_i3d_options_init(&defaults);
        options = &defaults;
    }
    if (options->backend != VB_I3D_BACKEND_ONEDNN && options->backend != VB_I3D_BACKEND_REFERENCE)
        return vb_error_set(err, VB_EINVAL, "I3D: unknown backend %d", (int)options->backend);
    if (options->threads < 0)
        return vb_error_set(err, VB_EINVAL, "I3D: thread count %d is negative", options->threads);
    if ((int)options->precision < 0 || (int)options->precision > VB_I3D_PRECISION_INT8)
        return vb_error_set(err, VB_EINVAL, "I3D: unknown precision %d", (int)options->precision);
    vb_i3d *model = calloc(1, sizeof *model);
    if (!model)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", weights_path);
    vb_safetensors *file = NULL;
    int rc = vb_safetensors_open(weights_path, &file, err);
    if (rc)
        goto fail;
    rc = i3d_quant_file_is_int8(file) ? i3d_quant_load(&model->net, file, weights_path, err)
                                      : i3d_net_load(&model->net, file, weights_path, err);
    vb_safetensors_free(&file);   /* folded copies live in net.parameters */
    if (rc)
        goto fail;
    model->backend_kind = options->backend;
    i3d_backend_config config = {0};
    if ((rc = choose_backend(model, options, weights_path, &config, err)))
        goto fail;
    model->threads = options->backend == VB_I3D_BACKEND_REFERENCE ? 1 : vb_threads_resolve(options->threads);
    config.threads = model->threads;
    rc = model->ops->create(&model->net, &config, &model->backend, err);
    if (rc)
        goto fail;
    *out = model;
    return 0;
fail:
    vb_i3d_free(&model);
    return rc;
}

void vb_i3d_free(vb_i3d **model)
{
    if (!model || !*model)
        return;
    vb_i3d *m = *model;
    if (m->ops && m->backend)
        m->ops->destroy(m->backend);
    i3d_quant_free(&m->net.quant);
    i3d_net_free(&m->net);
    free(m->input);
    free(m->frame_logits);
    free(m);
    *model = NULL;
}

int vb_i3d_threads(const vb_i3d *model)
{
    return model->threads;
}

const i3d_net *i3d_model_net(const vb_i3d *model)
{
    return &model->net;
}

void *i3d_model_onednn_fp32_state(vb_i3d *model)
{
    return model->ops == &i3d_onednn_ops && model->precision == VB_I3D_PRECISION_FP32 ? model->backend : NULL;
}

vb_i3d_precision vb_i3d_get_precision(const vb_i3d *model)
{
    return model->precision;
}

const char *vb_i3d_isa(const vb_i3d *model)
{
    return model->isa;
}

const char *vb_i3d_note(const vb_i3d *model)
{
    return model->note;
}

int vb_i3d_num_classes(const vb_i3d *model)
{
    return model->net.num_classes;
}

int vb_i3d_embedding_size(const vb_i3d *model)
{
    i3d_dims dims[VB_I3D_ENDPOINT_COUNT];
    if (i3d_net_dims(&model->net, VB_I3D_MIN_FRAMES, dims, NULL))
        return 0;
    return dims[VB_I3D_MIXED_5C].c;
}

int vb_i3d_endpoint_shape(const vb_i3d *model, vb_i3d_endpoint endpoint, int batch, int frames,
                          int64_t shape[5], vb_error *err)
{
    if ((int)endpoint < 0 || endpoint >= VB_I3D_ENDPOINT_COUNT)
        return vb_error_set(err, VB_EINVAL, "I3D: unknown endpoint %d", (int)endpoint);
    i3d_dims dims[VB_I3D_ENDPOINT_COUNT];
    int rc = i3d_net_dims(&model->net, frames, dims, err);
    if (rc)
        return rc;
    shape[0] = batch;
    if (endpoint == VB_I3D_LOGITS) {
        shape[1] = model->net.num_classes;
        return 2;
    }
    const i3d_dims d = dims[endpoint];
    shape[1] = d.t;
    shape[2] = d.h;
    shape[3] = d.w;
    shape[4] = d.c;
    return 5;
}

double vb_i3d_flops_per_clip(const vb_i3d *model, int frames)
{
    const i3d_net *net = &model->net;
    i3d_dims dims[VB_I3D_ENDPOINT_COUNT];
    if (i3d_net_dims(net, frames, dims, NULL))
        return 0;
    double flops = 0;
    for (int e = 0; e < VB_I3D_ENDPOINT_COUNT; e++) {
        const i3d_stage *s = &net->stages[e];
        int convs[MIX_CONVS], n = 0;
        if (s->kind == I3D_STAGE_CONV || s->kind == I3D_STAGE_LOGITS)
            convs[n++] = s->conv;
        else if (s->kind == I3D_STAGE_MIXED)
            for (int b = 0; b < MIX_CONVS; b++)
                convs[n++] = s->mixed[b];
        for (int i = 0; i < n; i++) {
            const i3d_conv *c = &net->convs[convs[i]];
            double pixels = s->kind == I3D_STAGE_LOGITS ? dims[e].t
                            : (double)dims[e].t * dims[e].h * dims[e].w;
            flops += 2.0 * pixels * c->out_channels * c->in_channels * c->kernel[0] * c->kernel[1] * c->kernel[2];
        }
    }
    return flops;
}

/* Grows a float buffer to at least n floats. */
static int reserve(float **buffer, int64_t *have, int64_t n, vb_error *err)
{
    if (*have >= n)
        return 0;
    free(*buffer);
    *buffer = malloc((size_t)n * sizeof(float));
    *have = *buffer ? n : 0;
    if (!*buffer)
        return vb_error_set(err, VB_ENOMEM, "I3D: out of memory for %lld floats", (long long)n);
    return 0;
}

/* input_signed: the input is already in the network's [-1,1] (DeepMind's samples), else [0,1]. */
static int forward(vb_i3d *model, const float *input, int input_signed, int batch, int frames,
                   float *const outputs[VB_I3D_ENDPOINT_COUNT], vb_error *err)
{
    if (!model || !input || batch < 1)
        return vb_error_set(err, VB_EINVAL, "I3D forward: needs a model, an input and batch >= 1 (got %d)", batch);
    i3d_dims dims[VB_I3D_ENDPOINT_COUNT];
    int rc = i3d_net_dims(&model->net, frames, dims, err);
    if (rc)
        return rc;
    const int classes = model->net.num_classes;
    const int64_t clip_floats = (int64_t)frames * VB_I3D_INPUT_SIZE * VB_I3D_INPUT_SIZE * 3;
    const int logit_frames = dims[VB_I3D_LOGITS].t;
    if ((rc = reserve(&model->input, &model->input_floats, clip_floats, err)) ||
        (rc = reserve(&model->frame_logits, &model->frame_logits_floats, (int64_t)logit_frames * classes, err)))
        return rc;
    for (int n = 0; n < batch; n++) {
        /* [0,1] -> [-1,1], the range DeepMind's checkpoints were trained on */
        const float *clip = input + n * clip_floats;
        if (input_signed)
            memcpy(model->input, clip, (size_t)clip_floats * sizeof(float));
        else
            for (int64_t i = 0; i < clip_floats; i++)
                model->input[i] = 2.0f * clip[i] - 1.0f;
        float *clip_outputs[VB_I3D_ENDPOINT_COUNT] = {0};
        for (int e = 0; outputs && e < VB_I3D_LOGITS; e++)
            if (outputs[e])
                clip_outputs[e] = outputs[e] + n * i3d_dims_count(dims[e]);
        rc = model->ops->forward_clip(model->backend, model->input, frames, model->frame_logits, clip_outputs, err);
        if (rc)
            return rc;
        if (outputs && outputs[VB_I3D_LOGITS]) {
            float *out = outputs[VB_I3D_LOGITS] + (int64_t)n * classes;
            for (int k = 0; k < classes; k++) {
                double sum = 0;
                for (int t = 0; t < logit_frames; t++)
                    sum += model->frame_logits[(int64_t)t * classes + k];
                out[k] = (float)(sum / logit_frames);
            }
        }
    }
    return 0;
}

int vb_i3d_forward_endpoints(vb_i3d *model, const float *input, int batch, int frames,
                             float *const outputs[VB_I3D_ENDPOINT_COUNT], vb_error *err)
{
    return forward(model, input, 0, batch, frames, outputs, err);
}

int vb_i3d_forward(vb_i3d *model, const float *input, int batch, int frames, float *logits, vb_error *err)
{
    float *outputs[VB_I3D_ENDPOINT_COUNT] = {0};
    outputs[VB_I3D_LOGITS] = logits;
    return forward(model, input, 0, batch, frames, outputs, err);
}

int vb_i3d_forward_signed(vb_i3d *model, const float *input, int batch, int frames, float *logits, vb_error *err)
{
    float *outputs[VB_I3D_ENDPOINT_COUNT] = {0};
    outputs[VB_I3D_LOGITS] = logits;
    return forward(model, input, 1, batch, frames, outputs, err);
}

int vb_i3d_embed(vb_i3d *model, const float *input, int batch, int frames, float *embeddings, vb_error *err)
{
    i3d_dims dims[VB_I3D_ENDPOINT_COUNT];
    int rc = i3d_net_dims(&model->net, frames, dims, err);
    if (rc)
        return rc;
    const i3d_dims d = dims[VB_I3D_MIXED_5C];
    const int64_t per_clip = i3d_dims_count(d);
    float *mixed = malloc((size_t)per_clip * sizeof(float));
    if (!mixed)
        return vb_error_set(err, VB_ENOMEM, "I3D embed: out of memory");
    for (int n = 0; n < batch && !rc; n++) {
        float *outputs[VB_I3D_ENDPOINT_COUNT] = {0};
        outputs[VB_I3D_MIXED_5C] = mixed;
        const int64_t clip_floats = (int64_t)frames * VB_I3D_INPUT_SIZE * VB_I3D_INPUT_SIZE * 3;
        rc = vb_i3d_forward_endpoints(model, input + n * clip_floats, 1, frames, outputs, err);
        if (rc)
            break;
        float *e = embeddings + (int64_t)n * d.c;
        const int64_t pixels = per_clip / d.c;
        for (int c = 0; c < d.c; c++) {
            double sum = 0;
            for (int64_t p = 0; p < pixels; p++)
                sum += mixed[p * d.c + c];
            e[c] = (float)(sum / (double)pixels);
        }
    }
    free(mixed);
    return rc;
}

int vb_i3d_plan_memory(vb_i3d *model, int frames, vb_i3d_memory *memory, vb_error *err)
{
    int64_t activation = 0, parameters = 0;
    int rc = model->ops->plan_memory(model->backend, frames, &activation, &parameters, err);
    if (rc)
        return rc;
    i3d_dims dims[VB_I3D_ENDPOINT_COUNT];
    if ((rc = i3d_net_dims(&model->net, frames, dims, err)))
        return rc;
    /* + the converted input clip and the per-frame logits */
    activation += ((int64_t)frames * VB_I3D_INPUT_SIZE * VB_I3D_INPUT_SIZE * 3 +
                   (int64_t)dims[VB_I3D_LOGITS].t * model->net.num_classes) * (int64_t)sizeof(float);
    memory->activation_bytes = activation;
    memory->parameter_bytes = parameters;
    return 0;
}
