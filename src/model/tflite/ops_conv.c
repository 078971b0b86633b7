/* CONV_2D, DEPTHWISE_CONV_2D and AVERAGE_POOL_2D: the windowed operators. int8 follows
 * TFLite's reference_integer_ops; the vector levels (packed weights, kernels_x86.c) equal the
 * plain kernels (kernels_ref.c) bit for bit. Convolutions are cut into pieces for the pool. */
#include "interpreter_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Clears the window parameters and takes the NHWC input's dimensions (convolutions, pooling). */
static void window_params_from_input(tfl_conv_params *p, const vb_tflite_tensor *in)
{
    memset(p, 0, sizeof *p);
    p->batches = in->shape[0];
    p->in_h = in->shape[1];
    p->in_w = in->shape[2];
    p->in_c = in->shape[3];
}

static int prepare_conv(vb_error *err, const vb_tflite_model *m, node *n, int depthwise)
{
    int rc;
    if ((rc = tfl_check_arity(err, m, n, 2, 3, 1)))
        return rc;
    const vb_tflite_tensor *in = tfl_input_tensor(m, n, 0), *w = tfl_input_tensor(m, n, 1), *bias = tfl_input_tensor(m, n, 2);
    const vb_tflite_tensor *out = tfl_output_tensor(m, n, 0);
    const vb_tflite_options *o = &n->op->options;
    if ((rc = tfl_check_int8_tensor(err, m, n, in, "input")) || (rc = tfl_check_int8_tensor(err, m, n, out, "output")))
        return rc;
    if (w->type != VB_TFLITE_INT8 || !w->data)
        return OPFAIL(VB_EUNSUPPORTED, "filter must be a constant INT8 tensor (is %s%s)", vb_tflite_type_name(w->type),
                      w->data ? "" : ", not constant");
    if (in->rank != 4 || w->rank != 4 || out->rank != 4)
        return OPFAIL(VB_ESHAPE, "input, filter and output must be 4-d (ranks %d, %d, %d)", in->rank, w->rank, out->rank);
    if ((rc = tfl_check_activation(err, m, n, o->activation)))
        return rc;
    if (o->stride_w < 1 || o->stride_h < 1 || o->dilation_w < 1 || o->dilation_h < 1 || o->stride_w > 1024 ||
        o->stride_h > 1024 || o->dilation_w > 1024 || o->dilation_h > 1024)
        return OPFAIL(VB_EFORMAT, "stride %dx%d / dilation %dx%d out of range", o->stride_h, o->stride_w,
                      o->dilation_h, o->dilation_w);
    if (o->padding != VB_TFLITE_PAD_SAME && o->padding != VB_TFLITE_PAD_VALID)
        return OPFAIL(VB_EUNSUPPORTED, "padding %d is not SAME or VALID", o->padding);
    tfl_conv_params *p = &n->conv;
    window_params_from_input(p, in);
    p->k_h = w->shape[1];
    p->k_w = w->shape[2];
    p->out_c = out->shape[3];
    p->stride_h = o->stride_h;
    p->stride_w = o->stride_w;
    p->dilation_h = o->dilation_h;
    p->dilation_w = o->dilation_w;
    if (depthwise) {
        if (w->shape[0] != 1)
            return OPFAIL(VB_ESHAPE, "depthwise filter must have shape [1,h,w,c] (first dimension %d)", w->shape[0]);
        if (o->depth_multiplier < 1 || (int64_t)p->in_c * o->depth_multiplier != p->out_c || w->shape[3] != p->out_c)
            return OPFAIL(VB_ESHAPE, "input channels %d x depth multiplier %d must equal output channels %d and filter's %d",
                          p->in_c, o->depth_multiplier, p->out_c, w->shape[3]);
        p->depth_multiplier = o->depth_multiplier;
    } else {
        if (w->shape[0] != p->out_c || w->shape[3] != p->in_c)
            return OPFAIL(VB_ESHAPE, "filter shape [%d,%d,%d,%d] does not match %d input and %d output channels",
                          w->shape[0], w->shape[1], w->shape[2], w->shape[3], p->in_c, p->out_c);
        if ((int64_t)p->k_h * p->k_w * p->in_c > MAX_CONV_DEPTH)
            return OPFAIL(VB_ELIMIT, "filter depth %lld exceeds %d", (long long)p->k_h * p->k_w * p->in_c, MAX_CONV_DEPTH);
    }
    if (p->k_h < 1 || p->k_w < 1 || p->in_c < 1 || p->out_c < 1)
        return OPFAIL(VB_ESHAPE, "empty filter or channels");
    /* Output size and padding: TFLite ComputePaddingHeightWidth. */
    const int64_t eff_h = (int64_t)(p->k_h - 1) * p->dilation_h + 1, eff_w = (int64_t)(p->k_w - 1) * p->dilation_w + 1;
    int64_t oh, ow;
    if (o->padding == VB_TFLITE_PAD_SAME) {
        oh = ((int64_t)p->in_h + p->stride_h - 1) / p->stride_h;
        ow = ((int64_t)p->in_w + p->stride_w - 1) / p->stride_w;
    } else {
        oh = ((int64_t)p->in_h + p->stride_h - eff_h) / p->stride_h;
        ow = ((int64_t)p->in_w + p->stride_w - eff_w) / p->stride_w;
    }
    if (oh != out->shape[1] || ow != out->shape[2] || in->shape[0] != out->shape[0] || oh < 1 || ow < 1)
        return OPFAIL(VB_ESHAPE, "output shape [%d,%d,%d,%d] disagrees with the computed [%d,%lld,%lld,%d]",
                      out->shape[0], out->shape[1], out->shape[2], out->shape[3], in->shape[0], (long long)oh,
                      (long long)ow, p->out_c);
    int64_t total_h = (oh - 1) * p->stride_h + eff_h - p->in_h, total_w = (ow - 1) * p->stride_w + eff_w - p->in_w;
    p->out_h = (int)oh;
    p->out_w = (int)ow;
    p->pad_top = (int)(total_h > 0 ? total_h / 2 : 0);
    p->pad_left = (int)(total_w > 0 ? total_w / 2 : 0);

    /* Per-channel quantization (TFLite PopulateConvolutionQuantizationParams). */
    const int quant_dim = depthwise ? 3 : 0;
    if (w->num_scales != 1 && (w->num_scales != p->out_c || w->quantized_dimension != quant_dim))
        return OPFAIL(VB_EFORMAT, "filter has %d scales on dimension %d, expected 1 or %d on dimension %d",
                      w->num_scales, w->quantized_dimension, p->out_c, quant_dim);
    for (int c = 0; c < w->num_scales; c++)
        if (w->zero_points[c] != 0)
            return OPFAIL(VB_EUNSUPPORTED, "filter zero point %d (int8 filters must be symmetric)", w->zero_points[c]);
    if (bias) {
        if (bias->type != VB_TFLITE_INT32 || !bias->data || bias->num_elements != (size_t)p->out_c)
            return OPFAIL(VB_ESHAPE, "bias must be a constant INT32 tensor of %d values (is %s, %zu values)", p->out_c,
                          vb_tflite_type_name(bias->type), bias->num_elements);
    }
    n->multiplier = malloc((size_t)p->out_c * sizeof(int32_t));
    n->shift = malloc((size_t)p->out_c * sizeof(int32_t));
    if (!n->multiplier || !n->shift)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", m->path);
    for (int c = 0; c < p->out_c; c++) {
        const double filter_scale = w->scales[w->num_scales == 1 ? 0 : c];
        const double effective = (double)in->scales[0] * filter_scale / (double)out->scales[0];
        int shift;
        tfl_quantize_multiplier(effective, &n->multiplier[c], &shift);
        n->shift[c] = shift;
    }
    p->input_offset = -in->zero_points[0];
    p->output_offset = out->zero_points[0];
    tfl_activation_range_int8(o->activation, out->scales[0], out->zero_points[0], &p->act_min, &p->act_max);
    p->filter = w->data;
    p->bias = bias ? bias->data : NULL;
    p->multiplier = n->multiplier;
    p->shift = n->shift;
    return 0;
}

int tfl_prepare_pool(vb_error *err, const vb_tflite_model *m, node *n)
{
    int rc;
    if ((rc = tfl_check_arity(err, m, n, 1, 1, 1)))
        return rc;
    const vb_tflite_tensor *in = tfl_input_tensor(m, n, 0), *out = tfl_output_tensor(m, n, 0);
    const vb_tflite_options *o = &n->op->options;
    if (in->rank != 4 || out->rank != 4)
        return OPFAIL(VB_ESHAPE, "input and output must be 4-d");
    if ((rc = tfl_check_activation(err, m, n, o->activation)))
        return rc;
    if (o->stride_w < 1 || o->stride_h < 1 || o->filter_w < 1 || o->filter_h < 1 || o->stride_w > 1024 ||
        o->stride_h > 1024 || o->filter_w > 1024 || o->filter_h > 1024)
        return OPFAIL(VB_EFORMAT, "filter %dx%d / stride %dx%d out of range", o->filter_h, o->filter_w, o->stride_h, o->stride_w);
    tfl_conv_params *p = &n->conv;
    window_params_from_input(p, in);
    p->out_c = p->in_c;
    p->k_h = o->filter_h;
    p->k_w = o->filter_w;
    p->stride_h = o->stride_h;
    p->stride_w = o->stride_w;
    int64_t oh, ow;
    if (o->padding == VB_TFLITE_PAD_SAME) {
        oh = ((int64_t)p->in_h + p->stride_h - 1) / p->stride_h;
        ow = ((int64_t)p->in_w + p->stride_w - 1) / p->stride_w;
    } else if (o->padding == VB_TFLITE_PAD_VALID) {
        oh = ((int64_t)p->in_h + p->stride_h - p->k_h) / p->stride_h;
        ow = ((int64_t)p->in_w + p->stride_w - p->k_w) / p->stride_w;
    } else
        return OPFAIL(VB_EUNSUPPORTED, "padding %d is not SAME or VALID", o->padding);
    if (oh < 1 || ow < 1 || oh != out->shape[1] || ow != out->shape[2] || out->shape[0] != p->batches ||
        out->shape[3] != p->in_c)
        return OPFAIL(VB_ESHAPE, "output shape [%d,%d,%d,%d] disagrees with the computed [%d,%lld,%lld,%d]",
                      out->shape[0], out->shape[1], out->shape[2], out->shape[3], p->batches, (long long)oh,
                      (long long)ow, p->in_c);
    p->out_h = (int)oh;
    p->out_w = (int)ow;
    int64_t total_h = (oh - 1) * p->stride_h + p->k_h - p->in_h, total_w = (ow - 1) * p->stride_w + p->k_w - p->in_w;
    p->pad_top = (int)(total_h > 0 ? total_h / 2 : 0);
    p->pad_left = (int)(total_w > 0 ? total_w / 2 : 0);
    n->in_type = in->type;
    if (in->type == VB_TFLITE_FLOAT32 && out->type == VB_TFLITE_FLOAT32)
        return 0;
    if ((rc = tfl_check_int8_tensor(err, m, n, in, "input")) || (rc = tfl_check_int8_tensor(err, m, n, out, "output")))
        return rc;
    if (in->scales[0] != out->scales[0] || in->zero_points[0] != out->zero_points[0])
        return OPFAIL(VB_EUNSUPPORTED, "int8 average pooling needs equal input and output quantization");
    tfl_activation_range_int8(o->activation, out->scales[0], out->zero_points[0], &p->act_min, &p->act_max);
    return 0;
}

static void run_conv_part(void *arg, int chunk, int chunks, int thread)
{
    const int threads = chunks;
    const int part = chunk;
    vb_tflite_interpreter *it = arg;
    node *n = it->current;
    const int8_t *in = buf(it, n, 0);
    int8_t *out = outbuf(it, n);
    const tfl_conv_params *p = &n->conv;
    if (n->code == VB_TFLITE_OP_DEPTHWISE_CONV_2D) {
        int b, e;
        tfl_range_split(p->batches * p->out_h * p->out_w, part, threads, &b, &e);
        if (it->level > 0)
            tfl_depthwise_vector(it->level, p, in, out, b, e);
        else
            tfl_depthwise_ref(p, in, out, b, e);
        return;
    }
    if (n->packed_level == 0) {
        int b, e;
        tfl_range_split(p->batches * p->out_h, part, threads, &b, &e);
        tfl_conv_ref(p, in, out, b, e);
        return;
    }
    const int pixels = p->batches * p->out_h * p->out_w;
    const int block = n->packed_level == 2 ? 32 : 16;
    if (pixels >= 8 * threads || threads == 1) {
        int b, e;
        tfl_range_split((pixels + 3) / 4, part, threads, &b, &e);
        b *= 4;
        e = e * 4 < pixels ? e * 4 : pixels;
        if (b < e)
            tfl_conv_vector(p, &n->packed, in, out, b, e, 0, p->out_c, it->scratch[thread]);
    } else {
        int blocks = (p->out_c + block - 1) / block, b, e;
        tfl_range_split(blocks, part, threads, &b, &e);
        b *= block;
        e = e * block < p->out_c ? e * block : p->out_c;
        if (b < e)
            tfl_conv_vector(p, &n->packed, in, out, 0, pixels, b, e, it->scratch[thread]);
    }
}

void tfl_eval_pool(vb_tflite_interpreter *it, node *n)
{
    const tfl_conv_params *p = &n->conv;
    if (n->in_type == VB_TFLITE_INT8) {
        if (it->level > 0)
            tfl_avgpool_vector(it->level, p, buf(it, n, 0), outbuf(it, n));
        else
            tfl_avgpool_ref(p, buf(it, n, 0), outbuf(it, n));
        return;
    }
    const float *in = buf(it, n, 0);
    float *out = outbuf(it, n);
    for (int b = 0; b < p->batches; b++)
        for (int oy = 0; oy < p->out_h; oy++)
            for (int ox = 0; ox < p->out_w; ox++) {
                const tfl_pool_window w = tfl_pool_window_at(p, oy, ox);
                const int iy0 = w.iy0, ix0 = w.ix0, fy0 = w.fy0, fy1 = w.fy1, fx0 = w.fx0, fx1 = w.fx1;
                const int count = w.count;
                for (int c = 0; c < p->in_c; c++) {
                    float sum = 0.0f;
                    for (int fy = fy0; fy < fy1; fy++)
                        for (int fx = fx0; fx < fx1; fx++)
                            sum += in[(((size_t)b * p->in_h + iy0 + fy) * p->in_w + ix0 + fx) * p->in_c + c];
                    out[(((size_t)b * p->out_h + oy) * p->out_w + ox) * p->in_c + c] =
                        tfl_apply_float_activation(n->op->options.activation, count > 0 ? sum / (float)count : 0.0f);
                }
            }
}

int tfl_pack_convs(vb_tflite_interpreter *it, vb_error *err)
{
    size_t scratch = 0;
    for (int i = 0; i < it->num_nodes; i++) {
        node *n = &it->nodes[i];
        if (n->code != VB_TFLITE_OP_CONV_2D)
            continue;
        tfl_packed_conv_free(&n->packed);
        n->packed_level = 0;
        if (it->level == 0)
            continue;
        if (tfl_pack_conv(&n->conv, it->level, &n->packed))
            return vb_error_set(err, VB_ENOMEM, "%s: out of memory packing weights", it->model->path);
        n->packed_level = it->level;
        const int pixels = n->conv.batches * n->conv.out_h * n->conv.out_w;
        size_t need = tfl_conv_scratch_bytes(&n->conv, &n->packed, pixels);
        scratch = need > scratch ? need : scratch;
    }
    if (scratch > it->scratch_bytes) {
        for (int t = 0; t < it->workers.threads; t++) {
            free(it->scratch[t]);
            it->scratch[t] = aligned_alloc(64, (scratch + 63) / 64 * 64);
            if (!it->scratch[t])
                return vb_error_set(err, VB_ENOMEM, "%s: out of memory", it->model->path);
        }
        it->scratch_bytes = scratch;
    }
    return 0;
}


int tfl_prepare_conv(vb_error *err, const vb_tflite_model *m, node *n) { return prepare_conv(err, m, n, 0); }
int tfl_prepare_depthwise(vb_error *err, const vb_tflite_model *m, node *n) { return prepare_conv(err, m, n, 1); }

void tfl_eval_conv(vb_tflite_interpreter *it, node *n)
{
    const int64_t work = (int64_t)n->conv.batches * n->conv.out_h * n->conv.out_w * n->conv.out_c *
                         n->conv.k_h * n->conv.k_w * (n->code == VB_TFLITE_OP_CONV_2D ? n->conv.in_c : 1);
    /* Small operators run whole: a piece must outweigh the hand-over. */
    int chunks = work >= 40000 ? 4 * it->workers.threads : 1;
    tfl_pool_run(&it->workers, run_conv_part, it, chunks);
}
