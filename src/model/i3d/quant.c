/* int8 I3D files: quantizing an fp32 net and writing it, loading it back with every tensor
 * checked (the file is untrusted input), and deriving what the int8 kernels need. The scheme is
 * described in quant.h. */
#include "model/i3d/quant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidbench/safetensors.h"

/* Largest |accumulator|: fan_in * 255 * 128 must stay below 2^31 (the nets have at most
 * 27 * 192 = 5184, Conv3d_1a 1029). */
#define MAX_FAN_IN 65000

int i3d_quant_file_is_int8(const vb_safetensors *file)
{
    const char *format = vb_safetensors_metadata(file, "format");
    return format && !strcmp(format, I3D_INT8_FORMAT);
}

void i3d_quant_free(i3d_quant **quant)
{
    if (!quant || !*quant)
        return;
    free((*quant)->path);
    free((*quant)->weight_storage);
    free((*quant)->float_storage);
    free(*quant);
    *quant = NULL;
}

/* ---- loading ---- */

typedef struct qloader {
    const vb_safetensors *file;
    const char *path;
    unsigned char *used;
    i3d_net *net;
    int binding;              /* pass 2: copy into the allocations */
    int64_t weights, floats;  /* pass 1: counts; pass 2: cursors */
} qloader;

static const vb_tensor_view *find(qloader *ld, const char *scope, const char *leaf, vb_dtype dtype, int ndim,
                                  const int64_t *shape, vb_error *err, int *rc)
{
    char name[256];
    snprintf(name, sizeof name, "%s/%s", scope, leaf);
    const vb_tensor_view *t = vb_safetensors_find(ld->file, name);
    if (!t) {
        *rc = vb_error_set(err, VB_ENOTFOUND, "%s: tensor '%s' is missing", ld->path, name);
        return NULL;
    }
    int ok = t->dtype == dtype && t->ndim == ndim;
    for (int d = 0; ok && d < ndim; d++)
        ok = t->shape[d] == shape[d];
    if (!ok) {
        char want[96];
        i3d_shape_text(shape, ndim, want, sizeof want);
        *rc = vb_error_set(err, VB_ESHAPE, "%s: tensor '%s' is not %s %s", ld->path, name, vb_dtype_name(dtype), want);
        return NULL;
    }
    i3d_mark_used(ld->file, t, ld->used);
    return t;
}

/* Copies a float vector; every value finite (and > 0 when `positive`). */
static int read_floats(qloader *ld, const vb_tensor_view *t, float *out, int64_t n, int positive, vb_error *err)
{
    for (int64_t i = 0; i < n; i++) {
        float v;
        memcpy(&v, (const unsigned char *)t->data + i * 4, 4);   /* the mapping is only byte-aligned */
        if (!isfinite(v) || (positive && !(v > 0.0f)))
            return vb_error_set(err, VB_EFORMAT, "%s: tensor '%s' holds %g at %lld (%s)", ld->path, t->name, (double)v,
                                (long long)i, positive ? "scales must be finite and positive" : "not finite");
        out[i] = v;
    }
    return 0;
}

/* The shape of an int8 conv's weights: the channel count comes from the file, bounded. */
static int weight_cout(qloader *ld, const char *scope, const char *leaf, vb_error *err)
{
    char name[256];
    snprintf(name, sizeof name, "%s/%s", scope, leaf);
    const vb_tensor_view *t = vb_safetensors_find(ld->file, name);
    if (!t)
        return vb_error_set(err, VB_ENOTFOUND, "%s: tensor '%s' is missing", ld->path, name);
    if (t->ndim != 5 || t->shape[4] < 1 || t->shape[4] > 1 << 16)
        return vb_error_set(err, VB_ESHAPE, "%s: tensor '%s' needs 5 dimensions and 1..65536 output channels",
                            ld->path, name);
    return (int)t->shape[4];
}

static int load_qconv(void *ctx, i3d_conv *c, int in_channels, int is_logits, vb_error *err)
{
    qloader *ld = ctx;
    i3d_quant *q = ld->net->quant;
    const int index = (int)(c - ld->net->convs);
    int rc = 0;
    int cout = weight_cout(ld, c->name, is_logits ? "weights" : "weights_s8", err);
    if (cout < 0)
        return cout;
    const int64_t fan_in = (int64_t)c->kernel[0] * c->kernel[1] * c->kernel[2] * in_channels;
    if (fan_in > MAX_FAN_IN)
        return vb_error_set(err, VB_ELIMIT, "%s: %s reads %lld values per output, over the int8 limit of %d (its int32 "
                            "sums could overflow)", ld->path, c->name, (long long)fan_in, MAX_FAN_IN);
    c->in_channels = in_channels;
    c->out_channels = cout;
    const int64_t wshape[5] = {c->kernel[0], c->kernel[1], c->kernel[2], in_channels, cout}, vshape[1] = {cout};
    const vb_tensor_view *w, *bias, *scale = NULL;
    if (!(w = find(ld, c->name, is_logits ? "weights" : "weights_s8", is_logits ? VB_DTYPE_F32 : VB_DTYPE_I8, 5, wshape,
                   err, &rc)) ||
        !(bias = find(ld, c->name, "bias", VB_DTYPE_F32, 1, vshape, err, &rc)) ||
        (!is_logits && !(scale = find(ld, c->name, "weight_scale", VB_DTYPE_F32, 1, vshape, err, &rc))))
        return rc;
    const int64_t wcount = fan_in * cout;
    if (!ld->binding) {
        /* fp32: the logits weights and every bias; per int8 conv 3 vectors of cout */
        ld->floats += (is_logits ? wcount : 3 * (int64_t)cout) + cout;
        ld->weights += is_logits ? 0 : wcount;
        return 0;
    }
    float *f = ld->net->parameters + ld->floats;
    if (is_logits) {
        c->weights = f;
        c->bias = f + wcount;
        ld->floats += wcount + cout;
        if ((rc = read_floats(ld, w, c->weights, wcount, 0, err)))
            return rc;
        return read_floats(ld, bias, c->bias, cout, 0, err);
    }
    i3d_qconv *qc = &q->convs[index];
    c->weights = NULL;
    c->bias = f;
    qc->weight_scale = f + cout;
    qc->out_scale = f + 2 * (int64_t)cout;
    qc->bias_acc = f + 3 * (int64_t)cout;
    ld->floats += 4 * (int64_t)cout;
    qc->weights = q->weight_storage + ld->weights;
    ld->weights += wcount;
    memcpy(qc->weights, w->data, (size_t)wcount);
    if ((rc = read_floats(ld, bias, c->bias, cout, 0, err)))
        return rc;
    return read_floats(ld, scale, qc->weight_scale, cout, 1, err);
}

static int load_point_scales(qloader *ld, vb_error *err)
{
    const int64_t one[1] = {1};
    for (int p = 0; p < ld->net->num_points; p++) {
        int rc = 0;
        const vb_tensor_view *t = find(ld, ld->net->point_name[p], "activation_scale", VB_DTYPE_F32, 1, one, err, &rc);
        if (!t || (rc = read_floats(ld, t, &ld->net->quant->point_scale[p], 1, 1, err)))
            return rc;
    }
    return 0;
}

int i3d_quant_load(i3d_net *net, const vb_safetensors *file, const char *path, vb_error *err)
{
    i3d_net_build_topology(net);
    const char *version = vb_safetensors_metadata(file, "format_version");
    if (!version || strcmp(version, I3D_INT8_FORMAT_VERSION))
        return vb_error_set(err, VB_EUNSUPPORTED, "%s: int8 I3D format version '%s' is not supported (this build reads %s)",
                            path, version ? version : "(none)", I3D_INT8_FORMAT_VERSION);
    int n = vb_safetensors_count(file);
    qloader ld = {.file = file, .path = path, .used = calloc((size_t)n + 1, 1), .net = net};
    net->quant = calloc(1, sizeof *net->quant);
    int rc = 0;
    if (!ld.used || !net->quant || !(net->quant->path = strdup(path))) {
        rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    net->quant->activation_max = 255;
    if ((rc = i3d_net_walk_convs(net, load_qconv, &ld, err)) || (rc = load_point_scales(&ld, err)))
        goto done;
    for (int i = 0; i < n; i++)
        if (!ld.used[i]) {
            rc = vb_error_set(err, VB_EFORMAT, "%s: unexpected tensor '%s' (not part of an int8 I3D)", path,
                              vb_safetensors_at(file, i)->name);
            goto done;
        }
    net->parameters = malloc((size_t)ld.floats * sizeof(float));
    net->quant->weight_storage = malloc((size_t)ld.weights + 1);
    if (!net->parameters || !net->quant->weight_storage) {
        rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory for %lld parameters", path, (long long)(ld.floats + ld.weights));
        goto done;
    }
    net->parameter_count = ld.floats;
    net->quant->weight_count = ld.weights;
    ld.binding = 1;
    ld.floats = ld.weights = 0;
    rc = i3d_net_walk_convs(net, load_qconv, &ld, err);
done:
    free(ld.used);
    if (rc) {
        i3d_quant_free(&net->quant);
        i3d_net_free(net);
    }
    return rc;
}

/* ---- what the kernels run ---- */

int i3d_quant_prepare(i3d_net *net, int narrow, vb_error *err)
{
    i3d_quant *q = net->quant;
    if (!q)
        return vb_error_set(err, VB_EINVAL, "I3D: not an int8 net");
    if (q->prepared)
        return q->narrow == !!narrow ? 0 : vb_error_set(err, VB_EINVAL, "I3D int8: already prepared for the other arithmetic");
    /* a u8 step stands for 1/scale of the float tensor (Mixed_5c is turned back that way): it must
     * be a normal float, else a finite scale like 1e38 silently turns the tensor into zeros;
     * checked on the file's scale, so both arithmetics refuse the same files */
    for (int p = 0; p < net->num_points; p++)
        if (!isnormal(1.0f / q->point_scale[p]))
            return vb_error_set(err, VB_EFORMAT, "%s: I3D int8: %s/activation_scale %g: scales out of range (one u8 step, "
                                "1/scale, must be a normal float)", q->path, net->point_name[p], (double)q->point_scale[p]);
    if (narrow)
        for (int p = 0; p < net->num_points; p++)
            q->point_scale[p] *= 0.5f;   /* 7-bit activations: [0, threshold] -> [0, 127.5] */
    const int logits = net->stages[VB_I3D_LOGITS].conv;
    for (int i = 0; i < net->num_convs; i++) {
        if (i == logits)
            continue;
        const i3d_conv *c = &net->convs[i];
        i3d_qconv *qc = &q->convs[i];
        const int cout = c->out_channels;
        const int64_t wcount = (int64_t)c->kernel[0] * c->kernel[1] * c->kernel[2] * c->in_channels * cout;
        if (narrow && c->in_point == I3D_POINT_INPUT) {   /* the 8-bit pixel meets 7-bit weights */
            for (int64_t k = 0; k < wcount; k++)
                qc->weights[k] = (int8_t)rintf((float)qc->weights[k] * 0.5f);
            for (int o = 0; o < cout; o++)
                qc->weight_scale[o] *= 0.5f;
        }
        const double s_in = c->in_point == I3D_POINT_INPUT ? I3D_INPUT_SCALE : q->point_scale[c->in_point];
        const double s_out = q->point_scale[c->out_point];
        for (int o = 0; o < cout; o++) {
            double sw = qc->weight_scale[o];
            double bias_acc = (double)c->bias[o] * s_in * sw;
            if (c->in_point == I3D_POINT_INPUT) {
                /* the clip is u = 127.5 (x + 1): take 127.5 * sum(q) back out of every output */
                int64_t sum = 0;
                for (int64_t k = o; k < wcount; k += cout)
                    sum += qc->weights[k];
                bias_acc -= I3D_INPUT_SCALE * (double)sum;
            }
            qc->bias_acc[o] = (float)bias_acc;
            qc->out_scale[o] = (float)(s_out / (s_in * sw));
            /* a subnormal output scale has lost its precision (1e-38 thresholds turn outputs into zeros) */
            if (!isnormal(qc->out_scale[o]) || !isfinite(qc->bias_acc[o]) || !(qc->out_scale[o] > 0.0f))
                return vb_error_set(err, VB_EFORMAT, "%s: I3D int8: %s channel %d: scales out of range (output scale %g, "
                                    "bias %g)", q->path, c->name, o, (double)qc->out_scale[o], (double)qc->bias_acc[o]);
        }
    }
    q->narrow = !!narrow;
    q->activation_max = narrow ? 127 : 255;
    q->prepared = 1;
    return 0;
}

i3d_dims i3d_quant_padded_input_dims(const i3d_net *net, int frames)
{
    const i3d_conv *c = &net->convs[net->stages[VB_I3D_CONV3D_1A_7X7].conv];
    const int in[3] = {frames, VB_I3D_INPUT_SIZE, VB_I3D_INPUT_SIZE};
    int out[3];
    for (int d = 0; d < 3; d++)
        out[d] = in[d] + same_pad_before(in[d], c->kernel[d], c->stride[d]) + same_pad_after(in[d], c->kernel[d], c->stride[d]);
    return (i3d_dims){out[0], out[1], out[2], 3};
}

void i3d_quant_pad_input(const i3d_net *net, const float *input, int frames, uint8_t *padded)
{
    const i3d_conv *c = &net->convs[net->stages[VB_I3D_CONV3D_1A_7X7].conv];
    const i3d_dims pd = i3d_quant_padded_input_dims(net, frames);
    const int pt = same_pad_before(frames, c->kernel[0], c->stride[0]);
    const int ph = same_pad_before(VB_I3D_INPUT_SIZE, c->kernel[1], c->stride[1]);
    const int pw = same_pad_before(VB_I3D_INPUT_SIZE, c->kernel[2], c->stride[2]);
    memset(padded, I3D_INPUT_PAD, (size_t)i3d_dims_count(pd));
    for (int t = 0; t < frames; t++)
        for (int h = 0; h < VB_I3D_INPUT_SIZE; h++) {
            const float *src = input + ((size_t)t * VB_I3D_INPUT_SIZE + h) * VB_I3D_INPUT_SIZE * 3;
            uint8_t *dst = padded + (((size_t)(t + pt) * pd.h + h + ph) * pd.w + pw) * 3;
            for (int i = 0; i < VB_I3D_INPUT_SIZE * 3; i++)
                dst[i] = i3d_saturate_u8(I3D_INPUT_SCALE * (src[i] + 1.0f));
        }
}

/* ---- quantizing and writing ---- */

int i3d_quant_write(const char *path, const i3d_net *fp32, const float threshold[I3D_MAX_POINTS],
                    const char *const *metadata, int n_metadata, vb_error *err)
{
    if (fp32->quant)
        return vb_error_set(err, VB_EINVAL, "%s: the source net is already int8", path);
    for (int p = 0; p < fp32->num_points; p++)
        if (!(threshold[p] > 0.0f) || !isfinite(threshold[p]))
            return vb_error_set(err, VB_EINVAL, "%s: threshold of %s is %g (must be finite and positive)", path,
                                fp32->point_name[p], (double)threshold[p]);
    const int logits = fp32->stages[VB_I3D_LOGITS].conv;
    int64_t weights = 0, floats = fp32->num_points;
    for (int i = 0; i < fp32->num_convs; i++) {
        const i3d_conv *c = &fp32->convs[i];
        int64_t wcount = (int64_t)c->kernel[0] * c->kernel[1] * c->kernel[2] * c->in_channels * c->out_channels;
        if (i == logits)
            floats += wcount;
        else
            weights += wcount, floats += c->out_channels;   /* weight scales */
    }
    const int max_tensors = 3 * fp32->num_convs + fp32->num_points;
    int8_t *q = malloc((size_t)weights + 1);
    float *f = malloc((size_t)floats * sizeof(float));
    vb_tensor_view *views = calloc((size_t)max_tensors, sizeof *views);
    char (*names)[160] = calloc((size_t)max_tensors, sizeof *names);
    int rc = 0;
    if (!q || !f || !views || !names) {
        rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory for the int8 weights", path);
        goto done;
    }
    int nt = 0;
    int8_t *qc = q;
    float *fc = f;
#define ADD_VIEW(scope, leaf, type, nd, ptr, bytes, ...)                                                      \
    do {                                                                                                  \
        snprintf(names[nt], sizeof names[0], "%s/%s", scope, leaf);                                       \
        views[nt] = (vb_tensor_view){.name = names[nt], .dtype = type, .ndim = nd, .shape = {__VA_ARGS__}, \
                                     .data = ptr, .size_bytes = bytes};                                   \
        nt++;                                                                                             \
    } while (0)
    for (int i = 0; i < fp32->num_convs; i++) {
        const i3d_conv *c = &fp32->convs[i];
        const int cout = c->out_channels;
        const int64_t wcount = (int64_t)c->kernel[0] * c->kernel[1] * c->kernel[2] * c->in_channels * cout;
        if (i == logits) {
            ADD_VIEW(c->name, "weights", VB_DTYPE_F32, 5, c->weights, (size_t)wcount * 4, c->kernel[0], c->kernel[1],
                     c->kernel[2], c->in_channels, cout);
            ADD_VIEW(c->name, "bias", VB_DTYPE_F32, 1, c->bias, (size_t)cout * 4, cout);
            continue;
        }
        float *scale = fc;
        fc += cout;
        for (int o = 0; o < cout; o++) {
            float max_abs = 0.0f;
            for (int64_t k = o; k < wcount; k += cout)
                max_abs = fmaxf(max_abs, fabsf(c->weights[k]));
            scale[o] = max_abs > 0.0f ? (float)(127.0 / max_abs) : 1.0f;   /* an all-zero channel stays 0 */
            for (int64_t k = o; k < wcount; k += cout)
                qc[k] = (int8_t)fmaxf(-127.0f, fminf(127.0f, rintf(c->weights[k] * scale[o])));
        }
        ADD_VIEW(c->name, "weights_s8", VB_DTYPE_I8, 5, qc, (size_t)wcount, c->kernel[0], c->kernel[1], c->kernel[2],
                 c->in_channels, cout);
        ADD_VIEW(c->name, "weight_scale", VB_DTYPE_F32, 1, scale, (size_t)cout * 4, cout);
        ADD_VIEW(c->name, "bias", VB_DTYPE_F32, 1, c->bias, (size_t)cout * 4, cout);
        qc += wcount;
    }
    for (int p = 0; p < fp32->num_points; p++) {
        fc[p] = 255.0f / threshold[p];
        ADD_VIEW(fp32->point_name[p], "activation_scale", VB_DTYPE_F32, 1, &fc[p], 4, 1);
    }
#undef ADD_VIEW
    {
        const char **meta = calloc((size_t)(n_metadata + 2) * 2, sizeof *meta);
        if (!meta) {
            rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
            goto done;
        }
        meta[0] = "format";
        meta[1] = I3D_INT8_FORMAT;
        meta[2] = "format_version";
        meta[3] = I3D_INT8_FORMAT_VERSION;
        for (int i = 0; i < 2 * n_metadata; i++)
            meta[4 + i] = metadata[i];
        rc = vb_safetensors_write(path, views, nt, meta, n_metadata + 2, err);
        free(meta);
    }
done:
    free(q);
    free(f);
    free(views);
    free(names);
    return rc;
}
