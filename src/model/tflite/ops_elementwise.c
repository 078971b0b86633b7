/* Element-wise operators: ADD, MUL, DIV (with broadcasting), QUANTIZE, DEQUANTIZE, CAST.
 * int8 ADD/MUL follow TFLite's reference_integer_ops add.h / mul.h; the vector levels use exact
 * lookup tables or vector kernels that equal the plain element functions bit for bit. */
#include "interpreter_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Walks the broadcast output in order, calling body(i, ia, ib). */
#define BROADCAST_LOOP(bc, body)                                                                 \
    do {                                                                                         \
        if ((bc)->same_shape) {                                                                  \
            for (size_t i_ = 0; i_ < (bc)->count; i_++) {                                        \
                size_t io = i_, ia = i_, ib = i_;                                                \
                body;                                                                            \
            }                                                                                    \
        } else {                                                                                 \
            int32_t idx_[VB_TFLITE_MAX_RANK] = {0};                                              \
            size_t ia = 0, ib = 0;                                                               \
            for (size_t io = 0; io < (bc)->count; io++) {                                        \
                body;                                                                            \
                for (int d_ = VB_TFLITE_MAX_RANK - 1; d_ >= 0; d_--) {                           \
                    ia += (bc)->a_stride[d_];                                                    \
                    ib += (bc)->b_stride[d_];                                                    \
                    if (++idx_[d_] < (bc)->out_shape[d_])                                        \
                        break;                                                                   \
                    ia -= (bc)->a_stride[d_] * (size_t)(bc)->out_shape[d_];                      \
                    ib -= (bc)->b_stride[d_] * (size_t)(bc)->out_shape[d_];                      \
                    idx_[d_] = 0;                                                                \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
    } while (0)

static int setup_broadcast(vb_error *err, const vb_tflite_model *m, node *n, const vb_tflite_tensor *a,
                           const vb_tflite_tensor *b, const vb_tflite_tensor *out)
{
    broadcast *bc = &n->bc;
    memset(bc, 0, sizeof *bc);
    bc->rank = VB_TFLITE_MAX_RANK;
    bc->same_shape = tfl_same_shape(a, b) && tfl_same_shape(a, out);
    int32_t ad[VB_TFLITE_MAX_RANK], bd[VB_TFLITE_MAX_RANK];
    for (int d = 0; d < VB_TFLITE_MAX_RANK; d++) {
        int da = d - (VB_TFLITE_MAX_RANK - a->rank), db = d - (VB_TFLITE_MAX_RANK - b->rank);
        ad[d] = da >= 0 ? a->shape[da] : 1;
        bd[d] = db >= 0 ? b->shape[db] : 1;
        if (ad[d] != bd[d] && ad[d] != 1 && bd[d] != 1)
            return OPFAIL(VB_ESHAPE, "input shapes do not broadcast (dimension %d: %d vs %d)", d, ad[d], bd[d]);
        bc->out_shape[d] = ad[d] == 1 ? bd[d] : ad[d];
        int dout = d - (VB_TFLITE_MAX_RANK - out->rank);
        int declared = dout >= 0 ? out->shape[dout] : 1;
        if (declared != bc->out_shape[d])
            return OPFAIL(VB_ESHAPE, "output dimension %d is %d, the broadcast shape has %d", d, declared,
                          bc->out_shape[d]);
    }
    size_t sa = 1, sb = 1;
    for (int d = VB_TFLITE_MAX_RANK - 1; d >= 0; d--) {
        bc->a_stride[d] = ad[d] == 1 ? 0 : sa;
        bc->b_stride[d] = bd[d] == 1 ? 0 : sb;
        sa *= (size_t)ad[d];
        sb *= (size_t)bd[d];
    }
    bc->count = out->num_elements;
    return 0;
}

/* ---- element functions of int8 ADD and MUL (TFLite reference_integer_ops add.h, mul.h) */

static int8_t add_int8_element(const node *n, int8_t a, int8_t b)
{
    const int32_t input1_val = n->in1_offset + a;
    const int32_t input2_val = n->in2_offset + b;
    const int32_t shifted_input1_val = input1_val * (1 << n->left_shift);
    const int32_t shifted_input2_val = input2_val * (1 << n->left_shift);
    const int32_t scaled_input1_val =
        tfl_multiply_by_quantized_multiplier(shifted_input1_val, n->in1_mult, n->in1_shift);
    const int32_t scaled_input2_val =
        tfl_multiply_by_quantized_multiplier(shifted_input2_val, n->in2_mult, n->in2_shift);
    const int32_t raw_sum = scaled_input1_val + scaled_input2_val;
    const int32_t raw_output = tfl_multiply_by_quantized_multiplier(raw_sum, n->out_mult, n->out_shift) + n->out_offset;
    const int32_t clamped = raw_output < n->act_min ? n->act_min : raw_output > n->act_max ? n->act_max : raw_output;
    return (int8_t)clamped;
}

static int8_t mul_int8_element(const node *n, int8_t a, int8_t b)
{
    const int32_t input1_val = n->in1_offset + a;
    const int32_t input2_val = n->in2_offset + b;
    const int32_t unclamped =
        n->out_offset + tfl_multiply_by_quantized_multiplier(input1_val * input2_val, n->out_mult, n->out_shift);
    const int32_t clamped = unclamped < n->act_min ? n->act_min : unclamped > n->act_max ? n->act_max : unclamped;
    return (int8_t)clamped;
}

int tfl_prepare_add_mul(vb_error *err, const vb_tflite_model *m, node *n)
{
    int rc;
    if ((rc = tfl_check_arity(err, m, n, 2, 2, 1)))
        return rc;
    const vb_tflite_tensor *a = tfl_input_tensor(m, n, 0), *b = tfl_input_tensor(m, n, 1), *out = tfl_output_tensor(m, n, 0);
    if ((rc = tfl_check_activation(err, m, n, n->op->options.activation)))
        return rc;
    if (a->type != b->type || a->type != out->type)
        return OPFAIL(VB_EUNSUPPORTED, "mixed types %s, %s -> %s", vb_tflite_type_name(a->type),
                      vb_tflite_type_name(b->type), vb_tflite_type_name(out->type));
    if ((rc = setup_broadcast(err, m, n, a, b, out)))
        return rc;
    n->in_type = a->type;
    if (a->type == VB_TFLITE_FLOAT32 || (a->type == VB_TFLITE_INT32 && n->code != VB_TFLITE_OP_DIV))
        return 0;
    if (a->type != VB_TFLITE_INT8 || n->code == VB_TFLITE_OP_DIV)
        return OPFAIL(VB_EUNSUPPORTED, "type %s is not implemented", vb_tflite_type_name(a->type));
    if ((rc = tfl_check_int8_tensor(err, m, n, a, "input 1")) || (rc = tfl_check_int8_tensor(err, m, n, b, "input 2")) ||
        (rc = tfl_check_int8_tensor(err, m, n, out, "output")))
        return rc;
    const float s1 = a->scales[0], s2 = b->scales[0], so = out->scales[0];
    n->in1_offset = -a->zero_points[0];
    n->in2_offset = -b->zero_points[0];
    n->out_offset = out->zero_points[0];
    tfl_activation_range_int8(n->op->options.activation, so, out->zero_points[0], &n->act_min, &n->act_max);
    if (n->code == VB_TFLITE_OP_ADD) {
        /* add.cc PrepareGeneralSubOp / Prepare for int8: left_shift 20. */
        n->left_shift = 20;
        const double twice_max_input_scale = 2 * (double)(s1 > s2 ? s1 : s2);
        const double real_input1_multiplier = (double)s1 / twice_max_input_scale;
        const double real_input2_multiplier = (double)s2 / twice_max_input_scale;
        const double real_output_multiplier = twice_max_input_scale / ((double)(1 << n->left_shift) * (double)so);
        tfl_quantize_multiplier(real_input1_multiplier, &n->in1_mult, &n->in1_shift);
        tfl_quantize_multiplier(real_input2_multiplier, &n->in2_mult, &n->in2_shift);
        tfl_quantize_multiplier(real_output_multiplier, &n->out_mult, &n->out_shift);
        if (n->in1_shift > 0 || n->in2_shift > 0 || n->out_shift > 0)
            return OPFAIL(VB_EUNSUPPORTED, "output scale %g is too small for the inputs' %g and %g", (double)so,
                          (double)s1, (double)s2);
    } else {
        const double real_multiplier = (double)s1 * (double)s2 / (double)so;
        tfl_quantize_multiplier(real_multiplier, &n->out_mult, &n->out_shift);
    }
    /* The element function of two int8 values has 65536 cases: tabulate it. */
    n->lut = calloc(65536 + 4, 1);
    if (!n->lut)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", m->path);
    for (int x = -128; x < 128; x++)
        for (int y = -128; y < 128; y++)
            n->lut[((unsigned)(uint8_t)x << 8) | (uint8_t)y] =
                n->code == VB_TFLITE_OP_ADD ? add_int8_element(n, (int8_t)x, (int8_t)y) : mul_int8_element(n, (int8_t)x, (int8_t)y);
    return 0;
}

/* One input, one output of the same shape (QUANTIZE, DEQUANTIZE, CAST). */
static int unary_same_shape(vb_error *err, const vb_tflite_model *m, const node *n, const vb_tflite_tensor **in,
                            const vb_tflite_tensor **out)
{
    int rc = tfl_check_arity(err, m, n, 1, 1, 1);
    if (rc)
        return rc;
    *in = tfl_input_tensor(m, n, 0);
    *out = tfl_output_tensor(m, n, 0);
    if (!tfl_same_shape(*in, *out))
        return OPFAIL(VB_ESHAPE, "input and output shapes differ");
    return 0;
}

int tfl_prepare_quantize(vb_error *err, const vb_tflite_model *m, node *n)
{
    const vb_tflite_tensor *in, *out;
    int rc = unary_same_shape(err, m, n, &in, &out);
    if (rc)
        return rc;
    n->in_type = in->type;
    if ((rc = tfl_check_int8_tensor(err, m, n, out, "output")))
        return rc;
    n->scale = out->scales[0];
    n->zero_point = out->zero_points[0];
    if (in->type == VB_TFLITE_FLOAT32)
        return 0;
    if (in->type != VB_TFLITE_INT8)
        return OPFAIL(VB_EUNSUPPORTED, "quantizing from %s is not implemented", vb_tflite_type_name(in->type));
    if ((rc = tfl_check_int8_tensor(err, m, n, in, "input")))
        return rc;
    /* int8 -> int8 requantization (quantize.cc: Requantize). */
    n->in_zero_point = in->zero_points[0];
    tfl_quantize_multiplier((double)in->scales[0] / (double)out->scales[0], &n->out_mult, &n->out_shift);
    return 0;
}

int tfl_prepare_dequantize(vb_error *err, const vb_tflite_model *m, node *n)
{
    const vb_tflite_tensor *in, *out;
    int rc = unary_same_shape(err, m, n, &in, &out);
    if (rc)
        return rc;
    if ((rc = tfl_check_int8_tensor(err, m, n, in, "input")))
        return rc;
    if (out->type != VB_TFLITE_FLOAT32)
        return OPFAIL(VB_EUNSUPPORTED, "dequantizing to %s is not implemented", vb_tflite_type_name(out->type));
    n->scale = in->scales[0];
    n->zero_point = in->zero_points[0];
    n->dequant_lut = malloc(256 * sizeof(float));
    if (!n->dequant_lut)
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", m->path);
    for (int x = -128; x < 128; x++)
        n->dequant_lut[(uint8_t)x] = (float)((double)n->scale * (double)(x - n->zero_point));
    return 0;
}

static int cast_type_ok(int type)
{
    return type == VB_TFLITE_FLOAT32 || type == VB_TFLITE_INT32 || type == VB_TFLITE_INT8 ||
           type == VB_TFLITE_UINT8 || type == VB_TFLITE_INT64 || type == VB_TFLITE_BOOL || type == VB_TFLITE_INT16;
}

int tfl_prepare_cast(vb_error *err, const vb_tflite_model *m, node *n)
{
    int rc;
    if ((rc = tfl_check_arity(err, m, n, 1, 1, 1)))
        return rc;
    const vb_tflite_tensor *in = tfl_input_tensor(m, n, 0), *out = tfl_output_tensor(m, n, 0);
    if (in->num_elements != out->num_elements)
        return OPFAIL(VB_ESHAPE, "input has %zu elements, output %zu", in->num_elements, out->num_elements);
    if (!cast_type_ok(in->type) || !cast_type_ok(out->type))
        return OPFAIL(VB_EUNSUPPORTED, "cast %s -> %s is not implemented", vb_tflite_type_name(in->type),
                      vb_tflite_type_name(out->type));
    n->in_type = in->type;
    n->out_type = out->type;
    return 0;
}

/* Large element-wise int8 ADD/MUL and float QUANTIZE on the vector levels: pieces of the
 * flat element range, run by the pool like the convolutions. */
static int elementwise_parallel(const vb_tflite_interpreter *it, const node *n)
{
    if (it->level == 0 || it->workers.threads < 2)
        return 0;
    if (n->code == VB_TFLITE_OP_QUANTIZE)
        return n->in_type == VB_TFLITE_FLOAT32 && it->model->tensors[n->op->outputs[0]].num_elements >= 4096;
    return (n->code == VB_TFLITE_OP_ADD || n->code == VB_TFLITE_OP_MUL) && n->in_type == VB_TFLITE_INT8 &&
           n->bc.same_shape && n->bc.count >= 4096;
}

static void run_elementwise_part(void *arg, int chunk, int chunks, int thread)
{
    (void)thread;
    vb_tflite_interpreter *it = arg;
    const node *n = it->current;
    const size_t count = it->model->tensors[n->op->outputs[0]].num_elements;
    /* Piece boundaries on multiples of 64 elements keep the vector loops whole. */
    const size_t blocks = (count + 63) / 64;
    const size_t begin = blocks * (size_t)chunk / (size_t)chunks * 64;
    size_t end = blocks * (size_t)(chunk + 1) / (size_t)chunks * 64;
    end = end < count ? end : count;
    if (begin >= end)
        return;
    if (n->code == VB_TFLITE_OP_QUANTIZE) {
        tfl_quantize_vector(it->level, (const float *)buf(it, n, 0) + begin, (int8_t *)outbuf(it, n) + begin,
                            end - begin, n->scale, n->zero_point);
        return;
    }
    const tfl_elementwise_params e = {
        n->code == VB_TFLITE_OP_ADD, n->in1_offset, n->in2_offset, n->out_offset, n->left_shift,
        n->in1_mult, n->in2_mult, n->out_mult, n->in1_shift, n->in2_shift, n->out_shift, n->act_min, n->act_max};
    const int8_t *a = (const int8_t *)buf(it, n, 0) + begin, *b = (const int8_t *)buf(it, n, 1) + begin;
    int8_t *o = (int8_t *)outbuf(it, n) + begin;
    if (!tfl_add_mul_vector(it->level, &e, a, b, o, end - begin))
        tfl_lookup2_vector(it->level, n->lut, a, b, o, end - begin);
}

static void eval_add_mul_div(vb_tflite_interpreter *it, node *n)
{
    const broadcast *bc = &n->bc;
    const int act = n->op->options.activation;
    if (n->in_type == VB_TFLITE_INT8) {
        const int8_t *a = buf(it, n, 0), *b = buf(it, n, 1);
        int8_t *o = outbuf(it, n);
        if (it->level > 0 && bc->same_shape) {
            const tfl_elementwise_params e = {
                n->code == VB_TFLITE_OP_ADD, n->in1_offset, n->in2_offset, n->out_offset, n->left_shift,
                n->in1_mult, n->in2_mult, n->out_mult, n->in1_shift, n->in2_shift, n->out_shift, n->act_min, n->act_max};
            if (!tfl_add_mul_vector(it->level, &e, a, b, o, bc->count))
                tfl_lookup2_vector(it->level, n->lut, a, b, o, bc->count);   /* exact by construction */
            return;
        }
        if (it->level > 0) {
            const int8_t *lut = n->lut;
            BROADCAST_LOOP(bc, o[io] = lut[((unsigned)(uint8_t)a[ia] << 8) | (uint8_t)b[ib]]);
        } else if (n->code == VB_TFLITE_OP_ADD) {
            BROADCAST_LOOP(bc, o[io] = add_int8_element(n, a[ia], b[ib]));
        } else {
            BROADCAST_LOOP(bc, o[io] = mul_int8_element(n, a[ia], b[ib]));
        }
    } else if (n->in_type == VB_TFLITE_INT32) {
        const int32_t *a = buf(it, n, 0), *b = buf(it, n, 1);
        int32_t *o = outbuf(it, n);
        /* Activation bounds for int32 are the float ones rounded (RELU 0, RELU6 6). */
        const int32_t lo = act == VB_TFLITE_ACT_NONE ? INT32_MIN : act == VB_TFLITE_ACT_RELU_N1_TO_1 ? -1 : 0;
        const int32_t hi = act == VB_TFLITE_ACT_RELU6 ? 6 : act == VB_TFLITE_ACT_RELU_N1_TO_1 ? 1 : INT32_MAX;
        if (n->code == VB_TFLITE_OP_ADD) {
            BROADCAST_LOOP(bc, { int32_t v = (int32_t)((uint32_t)a[ia] + (uint32_t)b[ib]);
                                 o[io] = v < lo ? lo : v > hi ? hi : v; });
        } else {
            BROADCAST_LOOP(bc, { int32_t v = (int32_t)((uint32_t)a[ia] * (uint32_t)b[ib]);
                                 o[io] = v < lo ? lo : v > hi ? hi : v; });
        }
    } else {
        const float *a = buf(it, n, 0), *b = buf(it, n, 1);
        float *o = outbuf(it, n);
        if (n->code == VB_TFLITE_OP_ADD) {
            BROADCAST_LOOP(bc, o[io] = tfl_apply_float_activation(act, a[ia] + b[ib]));
        } else if (n->code == VB_TFLITE_OP_MUL) {
            BROADCAST_LOOP(bc, o[io] = tfl_apply_float_activation(act, a[ia] * b[ib]));
        } else {
            BROADCAST_LOOP(bc, o[io] = tfl_apply_float_activation(act, a[ia] / b[ib]));
        }
    }
}

static void eval_quantize(vb_tflite_interpreter *it, node *n)
{
    const vb_tflite_tensor *out = &it->model->tensors[n->op->outputs[0]];
    int8_t *o = outbuf(it, n);
    if (n->in_type == VB_TFLITE_FLOAT32) {
        if (it->level > 0)
            tfl_quantize_vector(it->level, buf(it, n, 0), o, out->num_elements, n->scale, n->zero_point);
        else
            tfl_quantize_ref(buf(it, n, 0), o, out->num_elements, n->scale, n->zero_point);
        return;
    }
    const int8_t *in = buf(it, n, 0);
    for (size_t i = 0; i < out->num_elements; i++) {
        int32_t v = tfl_multiply_by_quantized_multiplier(in[i] - n->in_zero_point, n->out_mult, n->out_shift) + n->zero_point;
        o[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
    }
}

void tfl_eval_dequantize(vb_tflite_interpreter *it, node *n)
{
    const vb_tflite_tensor *out = &it->model->tensors[n->op->outputs[0]];
    const int8_t *in = buf(it, n, 0);
    float *o = outbuf(it, n);
    if (it->level > 0) {
        for (size_t i = 0; i < out->num_elements; i++)
            o[i] = n->dequant_lut[(uint8_t)in[i]];
        return;
    }
    /* dequantize.h: static_cast<float>(scale * (val - zero_point)) with a double scale. */
    const double scale = n->scale;
    for (size_t i = 0; i < out->num_elements; i++)
        o[i] = (float)(scale * (double)(in[i] - n->zero_point));
}

static double load_as_double(const void *p, int type, size_t i)
{
    switch (type) {
    case VB_TFLITE_FLOAT32: return ((const float *)p)[i];
    case VB_TFLITE_INT32: return ((const int32_t *)p)[i];
    case VB_TFLITE_INT8: return ((const int8_t *)p)[i];
    case VB_TFLITE_UINT8: return ((const uint8_t *)p)[i];
    case VB_TFLITE_INT16: return ((const int16_t *)p)[i];
    case VB_TFLITE_INT64: return (double)((const int64_t *)p)[i];
    default: return ((const uint8_t *)p)[i] != 0;
    }
}

/* static_cast semantics; out-of-range float -> integer saturates instead of being undefined. */
static void store_from_double(void *p, int type, size_t i, double v)
{
#define SAT(T, lo, hi) (v != v ? (T)0 : v <= (double)(lo) ? (T)(lo) : v >= (double)(hi) ? (T)(hi) : (T)v)
    switch (type) {
    case VB_TFLITE_FLOAT32: ((float *)p)[i] = (float)v; break;
    case VB_TFLITE_INT32: ((int32_t *)p)[i] = SAT(int32_t, INT32_MIN, INT32_MAX); break;
    case VB_TFLITE_INT8: ((int8_t *)p)[i] = SAT(int8_t, -128, 127); break;
    case VB_TFLITE_UINT8: ((uint8_t *)p)[i] = SAT(uint8_t, 0, 255); break;
    case VB_TFLITE_INT16: ((int16_t *)p)[i] = SAT(int16_t, -32768, 32767); break;
    case VB_TFLITE_INT64: ((int64_t *)p)[i] = SAT(int64_t, -9.2e18, 9.2e18); break;
    default: ((uint8_t *)p)[i] = v != 0.0; break;
    }
#undef SAT
}

void tfl_eval_cast(vb_tflite_interpreter *it, node *n)
{
    const vb_tflite_tensor *out = &it->model->tensors[n->op->outputs[0]];
    const void *in = buf(it, n, 0);
    void *o = outbuf(it, n);
    for (size_t i = 0; i < out->num_elements; i++)
        store_from_double(o, n->out_type, i, load_as_double(in, n->in_type, i));
}


void tfl_eval_add_mul_div(vb_tflite_interpreter *it, node *n)
{
    if (elementwise_parallel(it, n))
        tfl_pool_run(&it->workers, run_elementwise_part, it, 2 * it->workers.threads);
    else
        eval_add_mul_div(it, n);
}

void tfl_eval_quantize(vb_tflite_interpreter *it, node *n)
{
    if (elementwise_parallel(it, n))
        tfl_pool_run(&it->workers, run_elementwise_part, it, 2 * it->workers.threads);
    else
        eval_quantize(it, n);
}
