/* I3D topology (DeepMind kinetics-i3d i3d.py, InceptionI3d), weight loading with BatchNorm
 * folding, and shape rules. Channel counts come from the weight shapes, so the golden 1/8-width
 * nets and the real ones load through the same code. */
#include "model/i3d/net.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidbench/safetensors.h"

#define BN_EPSILON 1e-3f   /* Sonnet BatchNorm default used by i3d.py */

static const char *const endpoint_names[VB_I3D_ENDPOINT_COUNT] = {
    "Conv3d_1a_7x7", "MaxPool3d_2a_3x3", "Conv3d_2b_1x1", "Conv3d_2c_3x3", "MaxPool3d_3a_3x3",
    "Mixed_3b", "Mixed_3c", "MaxPool3d_4a_3x3", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e",
    "Mixed_4f", "MaxPool3d_5a_2x2", "Mixed_5b", "Mixed_5c", "Logits",
};

const char *vb_i3d_endpoint_name(vb_i3d_endpoint endpoint)
{
    if ((int)endpoint < 0 || endpoint >= VB_I3D_ENDPOINT_COUNT)
        return NULL;
    return endpoint_names[endpoint];
}

int vb_i3d_endpoint_from_name(const char *name)
{
    for (int e = 0; e < VB_I3D_ENDPOINT_COUNT; e++)
        if (!strcmp(name, endpoint_names[e]))
            return e;
    return -1;
}

/* Inception-v1 channel table (i3d.py): branch 0, branch 1 reduce/out, branch 2 reduce/out,
 * branch 3 out. Used only to write random weights; loading reads channels from shapes. */
static const int mixed_channels[9][6] = {
    {64, 96, 128, 16, 32, 32},      /* Mixed_3b */
    {128, 128, 192, 32, 96, 64},    /* Mixed_3c */
    {192, 96, 208, 16, 48, 64},     /* Mixed_4b */
    {160, 112, 224, 24, 64, 64},    /* Mixed_4c */
    {128, 128, 256, 24, 64, 64},    /* Mixed_4d */
    {112, 144, 288, 32, 64, 64},    /* Mixed_4e */
    {256, 160, 320, 32, 128, 128},  /* Mixed_4f */
    {256, 160, 320, 32, 128, 128},  /* Mixed_5b */
    {384, 192, 384, 48, 128, 128},  /* Mixed_5c */
};

/* Branch conv scopes inside a Mixed block. i3d.py names Mixed_5b's second branch-2 conv
 * Conv3d_0a_3x3 (a quirk the checkpoints keep). */
static const char *mixed_conv_scope(const char *block, int which)
{
    static const char *const scopes[MIX_CONVS] = {
        "Branch_0/Conv3d_0a_1x1", "Branch_1/Conv3d_0a_1x1", "Branch_1/Conv3d_0b_3x3",
        "Branch_2/Conv3d_0a_1x1", "Branch_2/Conv3d_0b_3x3", "Branch_3/Conv3d_0b_1x1",
    };
    if (which == MIX_B2B && !strcmp(block, "Mixed_5b"))
        return "Branch_2/Conv3d_0a_3x3";
    return scopes[which];
}

static int add_point(i3d_net *net, const char *name)
{
    net->point_name[net->num_points] = name;
    return net->num_points++;
}

void i3d_net_build_topology(i3d_net *net)
{
    memset(net, 0, sizeof *net);
    int point = I3D_POINT_INPUT;   /* the tensor the next stage reads */
    for (int e = 0; e < VB_I3D_ENDPOINT_COUNT; e++) {
        i3d_stage *s = &net->stages[e];
        s->endpoint = (vb_i3d_endpoint)e;
        const char *name = endpoint_names[e];
        if (!strncmp(name, "Conv3d_", 7) || e == VB_I3D_LOGITS) {
            s->kind = e == VB_I3D_LOGITS ? I3D_STAGE_LOGITS : I3D_STAGE_CONV;
            s->conv = net->num_convs;
            i3d_conv *c = &net->convs[net->num_convs++];
            int k = e == VB_I3D_CONV3D_1A_7X7 ? 7 : e == VB_I3D_CONV3D_2C_3X3 ? 3 : 1;
            int stride = e == VB_I3D_CONV3D_1A_7X7 ? 2 : 1;
            snprintf(c->name, sizeof c->name, "%s", e == VB_I3D_LOGITS ? "Logits/Conv3d_0c_1x1" : name);
            for (int d = 0; d < 3; d++) {
                c->kernel[d] = k;
                c->stride[d] = stride;
            }
            c->relu = e != VB_I3D_LOGITS;
            c->in_point = point;
            c->out_point = e == VB_I3D_LOGITS ? I3D_POINT_INPUT : (point = add_point(net, c->name));
        } else if (!strncmp(name, "MaxPool3d_", 10)) {
            s->kind = I3D_STAGE_MAXPOOL;
            /* 2a, 3a pool only in space; 4a 3x3x3 stride 2; 5a 2x2x2 stride 2 (i3d.py). */
            int kt = 1, ks = 3, st = 1, ss = 2;
            if (e == VB_I3D_MAXPOOL3D_4A_3X3) { kt = 3; st = 2; }
            if (e == VB_I3D_MAXPOOL3D_5A_2X2) { kt = 2; ks = 2; st = 2; }
            s->pool_kernel[0] = kt; s->pool_kernel[1] = ks; s->pool_kernel[2] = ks;
            s->pool_stride[0] = st; s->pool_stride[1] = ss; s->pool_stride[2] = ss;
        } else {
            s->kind = I3D_STAGE_MIXED;
            const int block_in = point;
            point = add_point(net, name);
            for (int b = 0; b < MIX_CONVS; b++) {
                s->mixed[b] = net->num_convs;
                i3d_conv *c = &net->convs[net->num_convs++];
                snprintf(c->name, sizeof c->name, "%s/%s", name, mixed_conv_scope(name, b));
                int k = (b == MIX_B1B || b == MIX_B2B) ? 3 : 1;
                for (int d = 0; d < 3; d++) {
                    c->kernel[d] = k;
                    c->stride[d] = 1;
                }
                c->relu = 1;
                c->in_point = block_in;
                c->out_point = point;
            }
            /* the reduce convs write their own points, which the 3x3x3 convs after them read */
            i3d_conv *c = net->convs;
            c[s->mixed[MIX_B1A]].out_point = c[s->mixed[MIX_B1B]].in_point = add_point(net, c[s->mixed[MIX_B1A]].name);
            c[s->mixed[MIX_B2A]].out_point = c[s->mixed[MIX_B2B]].in_point = add_point(net, c[s->mixed[MIX_B2A]].name);
        }
    }
}

/* ---- loading ---- */

typedef struct loader {
    const vb_safetensors *file;
    const char *path;
    const char *prefix;       /* "RGB/inception_i3d/" or "" */
    unsigned char *used;      /* per tensor index: consumed */
} loader;

static const vb_tensor_view *find_tensor(loader *ld, const char *scope, const char *leaf, int required,
                                         vb_error *err, int *rc)
{
    char name[256];
    snprintf(name, sizeof name, "%s%s/%s", ld->prefix, scope, leaf);
    const vb_tensor_view *t = vb_safetensors_find(ld->file, name);
    if (!t) {
        if (required)
            *rc = vb_error_set(err, VB_ENOTFOUND, "%s: tensor '%s' is missing", ld->path, name);
        return NULL;
    }
    if (t->dtype != VB_DTYPE_F32) {
        *rc = vb_error_set(err, VB_EUNSUPPORTED, "%s: tensor '%s' has dtype %s, expected F32", ld->path,
                           name, vb_dtype_name(t->dtype));
        return NULL;
    }
    i3d_mark_used(ld->file, t, ld->used);
    return t;
}

void i3d_mark_used(const vb_safetensors *file, const vb_tensor_view *tensor, unsigned char *used)
{
    int n = vb_safetensors_count(file);
    for (int i = 0; i < n; i++)
        if (vb_safetensors_at(file, i) == tensor)
            used[i] = 1;
}

void i3d_shape_text(const int64_t *shape, int ndim, char *out, size_t size)
{
    size_t len = (size_t)snprintf(out, size, "[");
    for (int d = 0; d < ndim && len < size; d++)
        len += (size_t)snprintf(out + len, size - len, "%s%lld", d ? "," : "", (long long)shape[d]);
    if (len < size)
        snprintf(out + len, size - len, "]");
}

/* A per-channel vector stored either as [C] or as [1,1,1,1,C] (rgb_scratch_kin600). */
static int check_channel_vector(loader *ld, const vb_tensor_view *t, int channels, vb_error *err)
{
    int ok = t->ndim >= 1 && t->shape[t->ndim - 1] == channels;
    for (int d = 0; ok && d < t->ndim - 1; d++)
        ok = t->shape[d] == 1;
    if (!ok) {
        char text[96];
        i3d_shape_text(t->shape, t->ndim, text, sizeof text);
        return vb_error_set(err, VB_ESHAPE, "%s: tensor '%s' has shape %s, expected [%d]", ld->path,
                            t->name, text, channels);
    }
    return 0;
}

static float read_f32(const vb_tensor_view *t, int64_t index)
{
    float v;
    memcpy(&v, (const unsigned char *)t->data + index * 4, 4);   /* mapping is only byte-aligned */
    return v;
}

/* Pass 1 (parameters == NULL): read shapes, set channels, count floats.
 * Pass 2: copy and fold into the preallocated parameters. */
static int load_conv(loader *ld, i3d_conv *c, int in_channels, int is_logits, float **cursor,
                     int64_t *count, vb_error *err)
{
    int rc = 0;
    char scope[160];
    snprintf(scope, sizeof scope, "%s/conv_3d", c->name);
    const vb_tensor_view *w = find_tensor(ld, scope, "w", 1, err, &rc);
    if (!w)
        return rc;
    int ok = w->ndim == 5 && w->shape[0] == c->kernel[0] && w->shape[1] == c->kernel[1] &&
             w->shape[2] == c->kernel[2] && w->shape[3] == in_channels && w->shape[4] >= 1 &&
             w->shape[4] <= 1 << 16;
    if (!ok) {
        char text[96];
        i3d_shape_text(w->shape, w->ndim, text, sizeof text);
        return vb_error_set(err, VB_ESHAPE, "%s: tensor '%s' has shape %s, expected [%d,%d,%d,%d,cout]",
                            ld->path, w->name, text, c->kernel[0], c->kernel[1], c->kernel[2], in_channels);
    }
    int cout = (int)w->shape[4];
    c->in_channels = in_channels;
    c->out_channels = cout;
    int64_t wcount = (int64_t)c->kernel[0] * c->kernel[1] * c->kernel[2] * in_channels * cout;

    const vb_tensor_view *bias = NULL, *beta = NULL, *mean = NULL, *var = NULL, *gamma = NULL;
    char bn[160];
    snprintf(bn, sizeof bn, "%s/batch_norm", c->name);
    if (is_logits) {
        if (!(bias = find_tensor(ld, scope, "b", 1, err, &rc)))
            return rc;
        if ((rc = check_channel_vector(ld, bias, cout, err)))
            return rc;
    } else {
        if (!(beta = find_tensor(ld, bn, "beta", 1, err, &rc)) ||
            !(mean = find_tensor(ld, bn, "moving_mean", 1, err, &rc)) ||
            !(var = find_tensor(ld, bn, "moving_variance", 1, err, &rc)))
            return rc;
        gamma = find_tensor(ld, bn, "gamma", 0, err, &rc);   /* i3d.py has none; apply if present */
        if (rc)
            return rc;
        if ((rc = check_channel_vector(ld, beta, cout, err)) || (rc = check_channel_vector(ld, mean, cout, err)) ||
            (rc = check_channel_vector(ld, var, cout, err)) ||
            (gamma && (rc = check_channel_vector(ld, gamma, cout, err))))
            return rc;
    }
    *count += wcount + cout;
    if (!*cursor)
        return 0;

    c->weights = *cursor;
    c->bias = *cursor + wcount;
    *cursor += wcount + cout;
    for (int64_t i = 0; i < wcount; i++)
        c->weights[i] = read_f32(w, i);
    if (is_logits) {
        for (int o = 0; o < cout; o++)
            c->bias[o] = read_f32(bias, o);
        return 0;
    }
    /* BN(conv(x)) = scale * conv(x) + (beta - mean * scale), scale = gamma / sqrt(var + eps):
     * the scale multiplies each output channel's weights, the rest becomes the bias. */
    for (int o = 0; o < cout; o++) {
        float v = read_f32(var, o);
        if (!(v >= 0.0f) || !isfinite(v))
            return vb_error_set(err, VB_EFORMAT, "%s: tensor '%s' holds a negative or non-finite variance (%g) at %d",
                                ld->path, var->name, (double)v, o);
        float scale = (gamma ? read_f32(gamma, o) : 1.0f) / sqrtf(v + BN_EPSILON);
        c->bias[o] = read_f32(beta, o) - read_f32(mean, o) * scale;
        for (int64_t i = o; i < wcount; i += cout)
            c->weights[i] *= scale;
    }
    return 0;
}

int i3d_net_walk_convs(i3d_net *net, i3d_conv_loader load, void *ctx, vb_error *err)
{
    int channels = 3;
    int rc;
    for (int e = 0; e < VB_I3D_ENDPOINT_COUNT; e++) {
        i3d_stage *s = &net->stages[e];
        if (s->kind == I3D_STAGE_CONV || s->kind == I3D_STAGE_LOGITS) {
            i3d_conv *c = &net->convs[s->conv];
            if ((rc = load(ctx, c, channels, s->kind == I3D_STAGE_LOGITS, err)))
                return rc;
            channels = c->out_channels;
        } else if (s->kind == I3D_STAGE_MIXED) {
            i3d_conv *c = net->convs;
            const int *m = s->mixed;
            if ((rc = load(ctx, &c[m[MIX_B0]], channels, 0, err)) ||
                (rc = load(ctx, &c[m[MIX_B1A]], channels, 0, err)) ||
                (rc = load(ctx, &c[m[MIX_B1B]], c[m[MIX_B1A]].out_channels, 0, err)) ||
                (rc = load(ctx, &c[m[MIX_B2A]], channels, 0, err)) ||
                (rc = load(ctx, &c[m[MIX_B2B]], c[m[MIX_B2A]].out_channels, 0, err)) ||
                (rc = load(ctx, &c[m[MIX_B3]], channels, 0, err)))
                return rc;
            channels = c[m[MIX_B0]].out_channels + c[m[MIX_B1B]].out_channels + c[m[MIX_B2B]].out_channels +
                       c[m[MIX_B3]].out_channels;
        }
    }
    net->num_classes = net->convs[net->stages[VB_I3D_LOGITS].conv].out_channels;
    return 0;
}

/* Both passes of the fp32 loader go through i3d_net_walk_convs with this context. */
typedef struct load_pass {
    loader *ld;
    float *cursor;
    int64_t count;
} load_pass;

static int load_conv_pass(void *ctx, i3d_conv *c, int in_channels, int is_logits, vb_error *err)
{
    load_pass *pass = ctx;
    return load_conv(pass->ld, c, in_channels, is_logits, &pass->cursor, &pass->count, err);
}

int i3d_net_load(i3d_net *net, const vb_safetensors *file, const char *path, vb_error *err)
{
    i3d_net_build_topology(net);
    int n = vb_safetensors_count(file);
    loader ld = {.file = file, .path = path, .prefix = "", .used = calloc((size_t)n + 1, 1)};
    if (!ld.used)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
    if (vb_safetensors_find(file, "RGB/inception_i3d/Conv3d_1a_7x7/conv_3d/w"))
        ld.prefix = "RGB/inception_i3d/";
    load_pass pass = {.ld = &ld};
    int rc = i3d_net_walk_convs(net, load_conv_pass, &pass, err);
    if (rc)
        goto done;
    for (int i = 0; i < n; i++) {
        if (!ld.used[i]) {
            rc = vb_error_set(err, VB_EFORMAT, "%s: unexpected tensor '%s' (not part of RGB I3D)", path,
                              vb_safetensors_at(file, i)->name);
            goto done;
        }
    }
    net->parameters = malloc((size_t)pass.count * sizeof(float));
    if (!net->parameters) {
        rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory for %lld parameters", path, (long long)pass.count);
        goto done;
    }
    net->parameter_count = pass.count;
    pass.cursor = net->parameters;
    pass.count = 0;
    rc = i3d_net_walk_convs(net, load_conv_pass, &pass, err);
done:
    free(ld.used);
    if (rc)
        i3d_net_free(net);
    return rc;
}

void i3d_net_free(i3d_net *net)
{
    free(net->parameters);
    net->parameters = NULL;
}

/* ---- shapes ---- */

i3d_dims i3d_conv_out_dims(const i3d_conv *conv, i3d_dims in)
{
    return (i3d_dims){same_out(in.t, conv->stride[0]), same_out(in.h, conv->stride[1]),
                      same_out(in.w, conv->stride[2]), conv->out_channels};
}

i3d_dims i3d_pool_out_dims(const int kernel[3], const int stride[3], i3d_dims in)
{
    (void)kernel;
    return (i3d_dims){same_out(in.t, stride[0]), same_out(in.h, stride[1]), same_out(in.w, stride[2]), in.c};
}

int i3d_net_dims(const i3d_net *net, int frames, i3d_dims out[VB_I3D_ENDPOINT_COUNT], vb_error *err)
{
    if (frames < VB_I3D_MIN_FRAMES)
        return vb_error_set(err, VB_ETOOSHORT,
                            "I3D needs at least %d frames (Mixed_5c must keep 2 for the 2x7x7 average pool), got %d",
                            VB_I3D_MIN_FRAMES, frames);
    if (frames > 100000)
        return vb_error_set(err, VB_ELIMIT, "I3D clip of %d frames exceeds the limit of 100000", frames);
    i3d_dims d = {frames, VB_I3D_INPUT_SIZE, VB_I3D_INPUT_SIZE, 3};
    for (int e = 0; e < VB_I3D_ENDPOINT_COUNT; e++) {
        const i3d_stage *s = &net->stages[e];
        switch (s->kind) {
        case I3D_STAGE_CONV:
            d = i3d_conv_out_dims(&net->convs[s->conv], d);
            break;
        case I3D_STAGE_MAXPOOL:
            d = i3d_pool_out_dims(s->pool_kernel, s->pool_stride, d);
            break;
        case I3D_STAGE_MIXED: {
            const i3d_conv *c = net->convs;
            d.c = c[s->mixed[MIX_B0]].out_channels + c[s->mixed[MIX_B1B]].out_channels +
                  c[s->mixed[MIX_B2B]].out_channels + c[s->mixed[MIX_B3]].out_channels;
            break;
        }
        case I3D_STAGE_LOGITS:
            /* avg pool 2x7x7 VALID, stride 1, then the 1x1x1 logits conv */
            if (d.h != 7 || d.w != 7)
                return vb_error_set(err, VB_ESHAPE, "I3D: Mixed_5c is %dx%d, expected 7x7", d.h, d.w);
            d = (i3d_dims){d.t - 1, 1, 1, net->num_classes};
            break;
        }
        out[e] = d;
    }
    return 0;
}

/* ---- random weights (benchmarks and backend-agreement tests) ---- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static float uniform(uint64_t *state, float lo, float hi)
{
    return lo + (hi - lo) * (float)((splitmix64(state) >> 40) * (1.0 / 16777216.0));
}

int vb_i3d_write_random_weights(const char *path, int width_divisor, int classes, uint64_t seed,
                                vb_error *err)
{
    if (width_divisor < 1 || width_divisor > 16 || classes < 1 || classes > 100000)
        return vb_error_set(err, VB_EINVAL, "%s: bad random I3D parameters (width divisor %d, classes %d)",
                            path, width_divisor, classes);
    i3d_net net;
    i3d_net_build_topology(&net);
    /* Assign channel counts from the table. */
    int channels = 3, mixed = 0;
    for (int e = 0; e < VB_I3D_ENDPOINT_COUNT; e++) {
        i3d_stage *s = &net.stages[e];
        int div = width_divisor;
        if (s->kind == I3D_STAGE_CONV || s->kind == I3D_STAGE_LOGITS) {
            i3d_conv *c = &net.convs[s->conv];
            c->in_channels = channels;
            c->out_channels = s->kind == I3D_STAGE_LOGITS ? classes
                              : e == VB_I3D_CONV3D_2C_3X3 ? 192 / div : 64 / div;
            channels = c->out_channels;
        } else if (s->kind == I3D_STAGE_MIXED) {
            const int *t = mixed_channels[mixed++];
            int outs[MIX_CONVS] = {t[0] / div, t[1] / div, t[2] / div, t[3] / div, t[4] / div, t[5] / div};
            int ins[MIX_CONVS] = {channels, channels, outs[MIX_B1A], channels, outs[MIX_B2A], channels};
            for (int b = 0; b < MIX_CONVS; b++) {
                if (outs[b] < 1)
                    return vb_error_set(err, VB_EINVAL, "%s: width divisor %d leaves a branch empty", path, div);
                net.convs[s->mixed[b]].in_channels = ins[b];
                net.convs[s->mixed[b]].out_channels = outs[b];
            }
            channels = outs[MIX_B0] + outs[MIX_B1B] + outs[MIX_B2B] + outs[MIX_B3];
        }
    }
    int64_t total = 0;
    for (int i = 0; i < net.num_convs; i++) {
        const i3d_conv *c = &net.convs[i];
        total += (int64_t)c->kernel[0] * c->kernel[1] * c->kernel[2] * c->in_channels * c->out_channels +
                 4 * c->out_channels;
    }
    float *data = total > 0 ? malloc((size_t)total * sizeof(float)) : NULL;
    int n_tensors_max = net.num_convs * 4;
    vb_tensor_view *views = calloc((size_t)n_tensors_max, sizeof *views);
    char (*names)[192] = calloc((size_t)n_tensors_max, sizeof *names);
    if (!data || !views || !names) {
        free(data);
        free(views);
        free(names);
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory for random weights", path);
    }
    uint64_t rng = seed;
    float *cursor = data;
    int nt = 0;
    for (int i = 0; i < net.num_convs; i++) {
        const i3d_conv *c = &net.convs[i];
        int is_logits = i == net.stages[VB_I3D_LOGITS].conv;
        int64_t fan_in = (int64_t)c->kernel[0] * c->kernel[1] * c->kernel[2] * c->in_channels;
        int64_t wcount = fan_in * c->out_channels;
        /* uniform(-a, a) with variance 2/fan_in (He): ReLU layers keep their scale */
        float a = sqrtf(6.0f / (float)fan_in);
        for (int64_t k = 0; k < wcount; k++)
            cursor[k] = uniform(&rng, -a, a);
        snprintf(names[nt], sizeof names[0], "RGB/inception_i3d/%s/conv_3d/w", c->name);
        views[nt] = (vb_tensor_view){.name = names[nt], .dtype = VB_DTYPE_F32, .ndim = 5,
                                     .shape = {c->kernel[0], c->kernel[1], c->kernel[2], c->in_channels, c->out_channels},
                                     .data = cursor, .size_bytes = (size_t)wcount * 4};
        nt++;
        cursor += wcount;
        int cout = c->out_channels;
        if (is_logits) {
            for (int k = 0; k < cout; k++)
                cursor[k] = uniform(&rng, -0.1f, 0.1f);
            snprintf(names[nt], sizeof names[0], "RGB/inception_i3d/%s/conv_3d/b", c->name);
            views[nt] = (vb_tensor_view){.name = names[nt], .dtype = VB_DTYPE_F32, .ndim = 1, .shape = {cout},
                                         .data = cursor, .size_bytes = (size_t)cout * 4};
            nt++;
            cursor += cout;
            continue;
        }
        static const char *const leaves[3] = {"beta", "moving_mean", "moving_variance"};
        const float lo[3] = {-0.2f, -0.2f, 0.5f}, hi[3] = {0.2f, 0.2f, 1.5f};
        for (int p = 0; p < 3; p++) {
            for (int k = 0; k < cout; k++)
                cursor[k] = uniform(&rng, lo[p], hi[p]);
            snprintf(names[nt], sizeof names[0], "RGB/inception_i3d/%s/batch_norm/%s", c->name, leaves[p]);
            views[nt] = (vb_tensor_view){.name = names[nt], .dtype = VB_DTYPE_F32, .ndim = 1, .shape = {cout},
                                         .data = cursor, .size_bytes = (size_t)cout * 4};
            nt++;
            cursor += cout;
        }
    }
    char seed_text[32], div_text[16];
    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)seed);
    snprintf(div_text, sizeof div_text, "%d", width_divisor);
    const char *meta[] = {"generator", "vb_i3d_write_random_weights", "seed", seed_text, "width_divisor", div_text};
    int rc = vb_safetensors_write(path, views, nt, meta, 3, err);
    free(data);
    free(views);
    free(names);
    return rc;
}
