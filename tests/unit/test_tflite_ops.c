/* TFLite operators, one per test case, through the real reader and interpreter on tiny
 * models written by tflite_builder. Expected values are computed by hand from TFLite's rules
 * (the arithmetic is in each comment) and every case is checked at every kernel level this
 * CPU has: plain C (0), AVX2 (1), AVX-512 VNNI (2) must all give them exactly. */
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/tflite/kernels.h"
#include "tflite_builder.h"
#include "vidbench/tflite.h"

#define SHAPE(...) .rank = (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), .shape = {__VA_ARGS__}
#define Q(s, z) .num_scales = 1, .scales = {s}, .zero_points = {z}
#define OPT1(f, v) {f, 1, v}
#define OPT4(f, v) {f, 4, v}

static vb_tflite_model *build_model(const tb_model *tm)
{
    size_t size;
    uint8_t *bytes = tb_build(tm, &size);
    vb_tflite_model *m = NULL;
    vb_error err = {0};
    int rc = vb_tflite_open_memory(bytes, size, "test.tflite", &m, &err);
    free(bytes);
    if (rc)
        fail_msg("test model did not load: %s", err.message);
    return m;
}

/* Runs the model at every level with the given input contents and compares output 0 with
 * `expected` byte for byte. */
static void check_all_levels(const tb_model *tm, const void *const *inputs, const void *expected, size_t bytes)
{
    vb_tflite_model *m = build_model(tm);
    for (int level = 0; level <= vb_tflite_cpu_simd_level(); level++) {
        vb_tflite_interpreter *it = NULL;
        vb_error err = {0};
        if (vb_tflite_interpreter_create(m, 2, &it, &err))
            fail_msg("interpreter: %s", err.message);
        assert_int_equal(vb_tflite_set_simd_level(it, level), level);
        for (int k = 0; k < m->num_inputs; k++)
            memcpy(vb_tflite_tensor_buffer(it, m->inputs[k]), inputs[k], m->tensors[m->inputs[k]].num_bytes);
        assert_int_equal(vb_tflite_invoke(it, &err), VB_OK);
        const uint8_t *out = vb_tflite_tensor_buffer(it, m->outputs[0]);
        assert_int_equal(m->tensors[m->outputs[0]].num_bytes, bytes);
        for (size_t i = 0; i < bytes; i++)
            if (out[i] != ((const uint8_t *)expected)[i])
                fail_msg("level %d: output byte %zu is %d, expected %d", level, i, out[i],
                         ((const uint8_t *)expected)[i]);
        vb_tflite_interpreter_free(&it);
    }
    vb_tflite_free(&m);
}

/* ---- fixed-point helpers (tensorflow/lite/kernels/internal/common.h) */

static void fixed_point_rounding(void **state)
{
    (void)state;
    /* The one overflow case saturates. */
    assert_int_equal(tfl_saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MIN), INT32_MAX);
    /* x * 2^30 * 2 / 2^32 = x / 2; the nudge rounds exact halves toward +infinity:
     * 5/2 = 2.5 -> 3, -5/2 = -2.5 -> -2 ((-5*2^30 + 1 - 2^30) / 2^31 truncates to -2). */
    assert_int_equal(tfl_saturating_rounding_doubling_high_mul(5, 1 << 30), 3);
    assert_int_equal(tfl_saturating_rounding_doubling_high_mul(-5, 1 << 30), -2);
    /* RoundingDivideByPOT rounds halves away from zero: 3/2 -> 2, -3/2 -> -2, -5/4 -> -1,
     * -6/4 = -1.5 -> -2. */
    assert_int_equal(tfl_rounding_divide_by_pot(3, 1), 2);
    assert_int_equal(tfl_rounding_divide_by_pot(-3, 1), -2);
    assert_int_equal(tfl_rounding_divide_by_pot(-5, 2), -1);
    assert_int_equal(tfl_rounding_divide_by_pot(-6, 2), -2);
    /* Double rounding: 5 * 0.25 = 1.25 becomes 2 (2.5 -> 3, then 1.5 -> 2); -5 * 0.25 becomes
     * -1 (-2.5 -> -2, then -1 exactly). Single rounding would give 1 and -1. */
    assert_int_equal(tfl_multiply_by_quantized_multiplier(5, 1 << 30, -1), 2);
    assert_int_equal(tfl_multiply_by_quantized_multiplier(-5, 1 << 30, -1), -1);
    /* A left shift first: 3 * 1.5 = 4.5 -> 5 (multiplier 0.75 * 2^31, shift 1). */
    assert_int_equal(tfl_multiply_by_quantized_multiplier(3, 1610612736, 1), 5);
}

static void quantize_multiplier_values(void **state)
{
    (void)state;
    int32_t q;
    int shift;
    tfl_quantize_multiplier(0.25, &q, &shift);      /* 0.5 * 2^-1 */
    assert_int_equal(q, 1 << 30);
    assert_int_equal(shift, -1);
    tfl_quantize_multiplier(1.5, &q, &shift);       /* 0.75 * 2^1 */
    assert_int_equal(q, 1610612736);
    assert_int_equal(shift, 1);
    tfl_quantize_multiplier(0.0, &q, &shift);
    assert_int_equal(q, 0);
    assert_int_equal(shift, 0);
    tfl_quantize_multiplier(1e-12, &q, &shift);     /* below 2^-31: flushed to zero */
    assert_int_equal(q, 0);
    assert_int_equal(shift, 0);
    /* 0.99999999999 rounds up to 2^31 and is renormalized to 2^30 with shift + 1. */
    tfl_quantize_multiplier(0.99999999999, &q, &shift);
    assert_int_equal(q, 1 << 30);
    assert_int_equal(shift, 1);
}

static void activation_ranges(void **state)
{
    (void)state;
    int32_t lo, hi;
    /* RELU6, scale 0.05, zero point -128: 0 -> -128, 6 -> -128 + 120 = -8. */
    tfl_activation_range_int8(VB_TFLITE_ACT_RELU6, 0.05f, -128, &lo, &hi);
    assert_int_equal(lo, -128);
    assert_int_equal(hi, -8);
    /* RELU, scale 0.5, zero point 10: [10, 127]. */
    tfl_activation_range_int8(VB_TFLITE_ACT_RELU, 0.5f, 10, &lo, &hi);
    assert_int_equal(lo, 10);
    assert_int_equal(hi, 127);
    /* NONE: the whole int8 range. */
    tfl_activation_range_int8(VB_TFLITE_ACT_NONE, 0.5f, 10, &lo, &hi);
    assert_int_equal(lo, -128);
    assert_int_equal(hi, 127);
}

/* ---- operators */

static void quantize_float_to_int8(void **state)
{
    (void)state;
    /* scale 0.5, zero point -3: q = round(x / 0.5) - 3, half away from zero, saturated. */
    static const float x8[8] = {0.25f, -0.25f, 1.0f, 100.0f, -100.0f, 0.7499f, -0.75f, 0.0f};
    static const int8_t q8[8] = {-2, -4, -1, 127, -128, -2, -5, -3};
    float x[24];
    int8_t q[24];
    for (int i = 0; i < 24; i++) {   /* 24 values: the vector loops and their tails */
        x[i] = x8[i % 8];
        q[i] = q8[i % 8];
    }
    tb_model tm = {
        .num_tensors = 2,
        .tensors = {{.name = "x", .type = VB_TFLITE_FLOAT32, SHAPE(24)},
                    {.name = "q", .type = VB_TFLITE_INT8, SHAPE(24), Q(0.5f, -3)}},
        .num_operators = 1,
        .operators = {{.code = VB_TFLITE_OP_QUANTIZE, .num_inputs = 1, .inputs = {0}, .num_outputs = 1, .outputs = {1}}},
        .num_inputs = 1, .inputs = {0}, .num_outputs = 1, .outputs = {1},
    };
    const void *inputs[] = {x};
    check_all_levels(&tm, inputs, q, sizeof q);
}

static void dequantize_int8_to_float(void **state)
{
    (void)state;
    /* scale 0.25, zero point 5: (q - 5) * 0.25. */
    static const int8_t q[4] = {-128, 5, 127, 6};
    static const float x[4] = {-33.25f, 0.0f, 30.5f, 0.25f};
    tb_model tm = {
        .num_tensors = 2,
        .tensors = {{.name = "q", .type = VB_TFLITE_INT8, SHAPE(4), Q(0.25f, 5)},
                    {.name = "x", .type = VB_TFLITE_FLOAT32, SHAPE(4)}},
        .num_operators = 1,
        .operators = {{.code = VB_TFLITE_OP_DEQUANTIZE, .num_inputs = 1, .inputs = {0}, .num_outputs = 1, .outputs = {1}}},
        .num_inputs = 1, .inputs = {0}, .num_outputs = 1, .outputs = {1},
    };
    const void *inputs[] = {q};
    check_all_levels(&tm, inputs, x, sizeof x);
}

static void add_int8_rescales_and_rounds(void **state)
{
    (void)state;
    /* a: scale 0.5, b: scale 0.25, out: scale 0.5, zero points 0. add.cc: left shift 20,
     * multipliers 0.5/1 -> (2^30, 0), 0.25/1 -> (2^30, -1), out 1/(2^20*0.5) -> (2^30, -18).
     * a=3,b=1: 3<<20 halved = 1572864; 1<<20 halved twice = 262144; sum 1835008, halved
     * 917504, / 2^18 = 3.5 -> 4. a=-3,b=-1 mirrors to -3.5 -> -4 (away from zero).
     * a=1,b=1: 0.75 -> 1.5 -> 2; a=-1,b=-1 -> -2; 100,100: 75 -> 150 saturates to 127;
     * -128,-128: -96 -> -192 saturates to -128. */
    static const int8_t a[6] = {3, -3, 1, -1, 100, -128};
    static const int8_t b[6] = {1, -1, 1, -1, 100, -128};
    static const int8_t out[6] = {4, -4, 2, -2, 127, -128};
    tb_model tm = {
        .num_tensors = 3,
        .tensors = {{.name = "a", .type = VB_TFLITE_INT8, SHAPE(1, 6), Q(0.5f, 0)},
                    {.name = "b", .type = VB_TFLITE_INT8, SHAPE(1, 6), Q(0.25f, 0)},
                    {.name = "out", .type = VB_TFLITE_INT8, SHAPE(1, 6), Q(0.5f, 0)}},
        .num_operators = 1,
        .operators = {{.code = VB_TFLITE_OP_ADD, .num_inputs = 2, .inputs = {0, 1}, .num_outputs = 1, .outputs = {2},
                       .options_type = 11, .num_options = 1, .options = {OPT1(0, VB_TFLITE_ACT_NONE)}}},
        .num_inputs = 2, .inputs = {0, 1}, .num_outputs = 1, .outputs = {2},
    };
    const void *inputs[] = {a, b};
    check_all_levels(&tm, inputs, out, sizeof out);
}

static void add_int32_broadcasts_a_scalar(void **state)
{
    (void)state;
    /* The frame counter of MoViNet: [3] + [] (rank 0) = element-wise + 5. */
    static const int32_t a[3] = {1, -2, 7}, b[1] = {5}, out[3] = {6, 3, 12};
    tb_model tm = {
        .num_tensors = 3,
        .tensors = {{.name = "a", .type = VB_TFLITE_INT32, SHAPE(3)},
                    {.name = "b", .type = VB_TFLITE_INT32, .rank = 0, .data = b, .data_bytes = 4},
                    {.name = "out", .type = VB_TFLITE_INT32, SHAPE(3)}},
        .num_operators = 1,
        .operators = {{.code = VB_TFLITE_OP_ADD, .num_inputs = 2, .inputs = {0, 1}, .num_outputs = 1, .outputs = {2}}},
        .num_inputs = 1, .inputs = {0}, .num_outputs = 1, .outputs = {2},
    };
    const void *inputs[] = {a};
    check_all_levels(&tm, inputs, out, sizeof out);
}

static void mul_int8_with_relu_and_saturation(void **state)
{
    (void)state;
    /* a: scale 0.5 zp 1, b: scale 0.5 zp -1, out: scale 0.25 zp 0 -> multiplier 1.0 =
     * (2^30, 1), exact: out = (a-1)(b+1). RELU clamps below the zero point 0.
     * (3,1): 2*2 = 4; (-5,-3): -6*-2 = 12; (0,0): -1*1 = -1 -> 0; (127,127): 126*128 -> 127;
     * (-128,127): -129*128 -> 0 (RELU). */
    static const int8_t a[5] = {3, -5, 0, 127, -128}, b[5] = {1, -3, 0, 127, 127};
    static const int8_t out[5] = {4, 12, 0, 127, 0};
    tb_model tm = {
        .num_tensors = 3,
        .tensors = {{.name = "a", .type = VB_TFLITE_INT8, SHAPE(5), Q(0.5f, 1)},
                    {.name = "b", .type = VB_TFLITE_INT8, SHAPE(5), Q(0.5f, -1)},
                    {.name = "out", .type = VB_TFLITE_INT8, SHAPE(5), Q(0.25f, 0)}},
        .num_operators = 1,
        .operators = {{.code = VB_TFLITE_OP_MUL, .num_inputs = 2, .inputs = {0, 1}, .num_outputs = 1, .outputs = {2},
                       .options_type = 21, .num_options = 1, .options = {OPT1(0, VB_TFLITE_ACT_RELU)}}},
        .num_inputs = 2, .inputs = {0, 1}, .num_outputs = 1, .outputs = {2},
    };
    const void *inputs[] = {a, b};
    check_all_levels(&tm, inputs, out, sizeof out);
}

static void conv_1x1_per_channel(void **state)
{
    (void)state;
    /* input scale 0.5 zp 1; filter scales {0.5, 0.25}; output scale 0.25 zp -2:
     * channel 0 multiplier 1.0 (exact), channel 1 multiplier 0.5 (x/2, halves toward +inf).
     * w0 = {1, 2}, w1 = {-3, 1}, bias {10, -1}.
     * pixel [3,-2] -> x-zp [2,-3]: c0 2-6+10 = 6 -> 4; c1 -6-3-1 = -10 -> -5 -> -7.
     * pixel [1,1] -> [0,0]: c0 10 -> 8; c1 -1 -> -0.5 -> 0 -> -2 (rounding of a negative).
     * pixel [-128,127] -> [-129,126]: c0 -129+252+10 = 133 -> 131 -> 127 (saturated);
     *   c1 387+126-1 = 512 -> 256 -> 127.
     * pixel [0,4] -> [-1,3]: c0 -1+6+10 = 15 -> 13; c1 3+3-1 = 5 -> 2.5 -> 3 -> 1. */
    static const int8_t input[8] = {3, -2, 1, 1, -128, 127, 0, 4};
    static const int8_t filter[4] = {1, 2, -3, 1};
    static const int32_t bias[2] = {10, -1};
    static const int8_t out[8] = {4, -7, 8, -2, 127, 127, 13, 1};
    tb_model tm = {
        .num_tensors = 4,
        .tensors = {{.name = "in", .type = VB_TFLITE_INT8, SHAPE(1, 2, 2, 2), Q(0.5f, 1)},
                    {.name = "w", .type = VB_TFLITE_INT8, SHAPE(2, 1, 1, 2), .data = filter, .data_bytes = 4,
                     .num_scales = 2, .scales = {0.5f, 0.25f}, .zero_points = {0, 0}},
                    {.name = "b", .type = VB_TFLITE_INT32, SHAPE(2), .data = bias, .data_bytes = 8},
                    {.name = "out", .type = VB_TFLITE_INT8, SHAPE(1, 2, 2, 2), Q(0.25f, -2)}},
        .num_operators = 1,
        .operators = {{.code = VB_TFLITE_OP_CONV_2D, .num_inputs = 3, .inputs = {0, 1, 2}, .num_outputs = 1,
                       .outputs = {3}, .options_type = 1, .num_options = 3,
                       .options = {OPT1(0, VB_TFLITE_PAD_SAME), OPT4(1, 1), OPT4(2, 1)}}},
        .num_inputs = 1, .inputs = {0}, .num_outputs = 1, .outputs = {3},
    };
    const void *inputs[] = {input};
    check_all_levels(&tm, inputs, out, sizeof out);
}

static void conv_3x3_stride2_same_padding(void **state)
{
    (void)state;
    /* 3x3 input 1..9 stored with zero point 2 (q = value + 2), all-ones 3x3 filter, no bias,
     * stride 2, SAME: output 2x2, padding 1 before (total (2-1)*2+3-3 = 2). Padded taps count
     * as the zero point, i.e. nothing: (0,0) = 1+2+4+5 = 12, (0,1) = 2+3+5+6 = 16,
     * (1,0) = 4+5+7+8 = 24, (1,1) = 5+6+8+9 = 28. */
    int8_t input[9];
    for (int i = 0; i < 9; i++)
        input[i] = (int8_t)(i + 1 + 2);
    int8_t filter[9];
    for (int i = 0; i < 9; i++)
        filter[i] = 1;
    static const int8_t out[4] = {12, 16, 24, 28};
    tb_model tm = {
        .num_tensors = 3,
        .tensors = {{.name = "in", .type = VB_TFLITE_INT8, SHAPE(1, 3, 3, 1), Q(1.0f, 2)},
                    {.name = "w", .type = VB_TFLITE_INT8, SHAPE(1, 3, 3, 1), .data = filter, .data_bytes = 9, Q(1.0f, 0)},
                    {.name = "out", .type = VB_TFLITE_INT8, SHAPE(1, 2, 2, 1), Q(1.0f, 0)}},
        .num_operators = 1,
        .operators = {{.code = VB_TFLITE_OP_CONV_2D, .num_inputs = 3, .inputs = {0, 1, -1}, .num_outputs = 1,
                       .outputs = {2}, .options_type = 1, .num_options = 3,
                       .options = {OPT1(0, VB_TFLITE_PAD_SAME), OPT4(1, 2), OPT4(2, 2)}}},
        .num_inputs = 1, .inputs = {0}, .num_outputs = 1, .outputs = {2},
    };
    const void *inputs[] = {input};
    check_all_levels(&tm, inputs, out, sizeof out);
}

static void depthwise_1x3_same_relu6(void **state)
{
    (void)state;
    /* 1x3 image, 2 channels: c0 = {1, 3, -1}, c1 = {2, 4, -5}; 1x3 filter, taps t0 {1,1},
     * t1 {3,1}, t2 {1,-1}; channel scales {1, 0.5}; SAME pads one tap each side; RELU6.
     * x=0 (taps t1,t2 on pixels 0,1): c0 3+3 = 6; c1 2-4 = -2 -> -1 -> 0 (RELU).
     * x=1: c0 1+9-1 = 9 -> 6 (RELU6); c1 2+4+5 = 11 -> 5.5 -> 6.
     * x=2 (t0,t1 on pixels 1,2): c0 3-3 = 0; c1 4-5 = -1 -> -0.5 -> 0. */
    static const int8_t input[6] = {1, 2, 3, 4, -1, -5};
    static const int8_t filter[6] = {1, 1, 3, 1, 1, -1};
    static const int8_t out[6] = {6, 0, 6, 6, 0, 0};
    tb_model tm = {
        .num_tensors = 3,
        .tensors = {{.name = "in", .type = VB_TFLITE_INT8, SHAPE(1, 1, 3, 2), Q(1.0f, 0)},
                    {.name = "w", .type = VB_TFLITE_INT8, SHAPE(1, 1, 3, 2), .data = filter, .data_bytes = 6,
                     .num_scales = 2, .scales = {1.0f, 0.5f}, .zero_points = {0, 0}, .quantized_dimension = 3},
                    {.name = "out", .type = VB_TFLITE_INT8, SHAPE(1, 1, 3, 2), Q(1.0f, 0)}},
        .num_operators = 1,
        .operators = {{.code = VB_TFLITE_OP_DEPTHWISE_CONV_2D, .num_inputs = 3, .inputs = {0, 1, -1}, .num_outputs = 1,
                       .outputs = {2}, .options_type = 2, .num_options = 5,
                       .options = {OPT1(0, VB_TFLITE_PAD_SAME), OPT4(1, 1), OPT4(2, 1), OPT4(3, 1),
                                   OPT1(4, VB_TFLITE_ACT_RELU6)}}},
        .num_inputs = 1, .inputs = {0}, .num_outputs = 1, .outputs = {2},
    };
    const void *inputs[] = {input};
    check_all_levels(&tm, inputs, out, sizeof out);
}

static void average_pool_rounds_negative_halves_away(void **state)
{
    (void)state;
    /* 2x2 input {-5, 0; 2, -1}, 2x2 filter, stride 1, SAME (padding after): windows
     * (0,0) all four: -4/4 = -1; (0,1) {0,-1}: -0.5 -> -1; (1,0) {2,-1}: 0.5 -> 1;
     * (1,1) {-1}: -1. */
    static const int8_t input[4] = {-5, 0, 2, -1};
    static const int8_t out[4] = {-1, -1, 1, -1};
    tb_model tm = {
        .num_tensors = 2,
        .tensors = {{.name = "in", .type = VB_TFLITE_INT8, SHAPE(1, 2, 2, 1), Q(1.0f, 0)},
                    {.name = "out", .type = VB_TFLITE_INT8, SHAPE(1, 2, 2, 1), Q(1.0f, 0)}},
        .num_operators = 1,
        .operators = {{.code = VB_TFLITE_OP_AVERAGE_POOL_2D, .num_inputs = 1, .inputs = {0}, .num_outputs = 1,
                       .outputs = {1}, .options_type = 5, .num_options = 5,
                       .options = {OPT1(0, VB_TFLITE_PAD_SAME), OPT4(1, 1), OPT4(2, 1), OPT4(3, 2), OPT4(4, 2)}}},
        .num_inputs = 1, .inputs = {0}, .num_outputs = 1, .outputs = {1},
    };
    const void *inputs[] = {input};
    check_all_levels(&tm, inputs, out, sizeof out);
}

static void concatenation_requantizes_differing_input(void **state)
{
    (void)state;
    /* in0 has the output's quantization (copied); in1 scale 0.5 zp 1 into scale 1 zp 0:
     * q*0.5 - 0.5 rounded: 4 -> 1.5 -> 2, -2 -> -1.5 -> -2, 127 -> 63. */
    static const int8_t a[2] = {3, -3}, b[3] = {4, -2, 127};
    static const int8_t out[5] = {3, -3, 2, -2, 63};
    tb_model tm = {
        .num_tensors = 3,
        .tensors = {{.name = "a", .type = VB_TFLITE_INT8, SHAPE(1, 2), Q(1.0f, 0)},
                    {.name = "b", .type = VB_TFLITE_INT8, SHAPE(1, 3), Q(0.5f, 1)},
                    {.name = "out", .type = VB_TFLITE_INT8, SHAPE(1, 5), Q(1.0f, 0)}},
        .num_operators = 1,
        .operators = {{.code = VB_TFLITE_OP_CONCATENATION, .num_inputs = 2, .inputs = {0, 1}, .num_outputs = 1,
                       .outputs = {2}, .options_type = 10, .num_options = 1, .options = {OPT4(0, -1)}}},
        .num_inputs = 2, .inputs = {0, 1}, .num_outputs = 1, .outputs = {2},
    };
    const void *inputs[] = {a, b};
    check_all_levels(&tm, inputs, out, sizeof out);
}

static void strided_slice_negative_begin_and_shrink(void **state)
{
    (void)state;
    /* [[1,2,3],[4,5,6]][1, -3:3:2] with axis 0 shrunk: row 1, columns 0 and 2 -> {4, 6}. */
    static const int8_t input[6] = {1, 2, 3, 4, 5, 6};
    static const int32_t begin[2] = {1, -3}, end[2] = {2, 3}, strides[2] = {1, 2};
    static const int8_t out[2] = {4, 6};
    tb_model tm = {
        .num_tensors = 5,
        .tensors = {{.name = "in", .type = VB_TFLITE_INT8, SHAPE(2, 3), Q(1.0f, 0)},
                    {.name = "begin", .type = VB_TFLITE_INT32, SHAPE(2), .data = begin, .data_bytes = 8},
                    {.name = "end", .type = VB_TFLITE_INT32, SHAPE(2), .data = end, .data_bytes = 8},
                    {.name = "strides", .type = VB_TFLITE_INT32, SHAPE(2), .data = strides, .data_bytes = 8},
                    {.name = "out", .type = VB_TFLITE_INT8, SHAPE(2), Q(1.0f, 0)}},
        .num_operators = 1,
        .operators = {{.code = VB_TFLITE_OP_STRIDED_SLICE, .num_inputs = 4, .inputs = {0, 1, 2, 3}, .num_outputs = 1,
                       .outputs = {4}, .options_type = 32, .num_options = 1, .options = {OPT4(4, 1)}}},
        .num_inputs = 1, .inputs = {0}, .num_outputs = 1, .outputs = {4},
    };
    const void *inputs[] = {input};
    check_all_levels(&tm, inputs, out, sizeof out);
}

static void sum_int8_rescales(void **state)
{
    (void)state;
    /* Input scale 0.5 zp 2: {4,6,2,0} = {1,2,0,-1}, sum 2; output scale 0.25 zp -1 -> 8-1 = 7.
     * TFLite's formula: 12 * 2 + (-2 * 2 * 4) = 8 -> 7. */
    static const int8_t input[4] = {4, 6, 2, 0};
    static const int32_t axes[2] = {1, 2};
    static const int8_t out[1] = {7};
    tb_model tm = {
        .num_tensors = 3,
        .tensors = {{.name = "in", .type = VB_TFLITE_INT8, SHAPE(1, 2, 2, 1), Q(0.5f, 2)},
                    {.name = "axes", .type = VB_TFLITE_INT32, SHAPE(2), .data = axes, .data_bytes = 8},
                    {.name = "out", .type = VB_TFLITE_INT8, SHAPE(1, 1, 1, 1), Q(0.25f, -1)}},
        .num_operators = 1,
        .operators = {{.code = VB_TFLITE_OP_SUM, .num_inputs = 2, .inputs = {0, 1}, .num_outputs = 1, .outputs = {2},
                       .options_type = 27, .num_options = 1, .options = {OPT1(0, 1)}}},
        .num_inputs = 1, .inputs = {0}, .num_outputs = 1, .outputs = {2},
    };
    const void *inputs[] = {input};
    check_all_levels(&tm, inputs, out, sizeof out);
}

static void reshape_cast_div_chain(void **state)
{
    (void)state;
    /* RESHAPE [1,2] -> [2] (shares the buffer), CAST int32 -> float, DIV by a constant [1]
     * broadcast: {3, -1} / 2 = {1.5, -0.5}; 16777217 casts to 16777216.0f (nearest float). */
    static const int32_t x[2] = {3, -1};
    static const int32_t shape[1] = {2};
    static const float divisor[1] = {2.0f};
    static const float out[2] = {1.5f, -0.5f};
    tb_model tm = {
        .num_tensors = 6,
        .tensors = {{.name = "x", .type = VB_TFLITE_INT32, SHAPE(1, 2)},
                    {.name = "shape", .type = VB_TFLITE_INT32, SHAPE(1), .data = shape, .data_bytes = 4},
                    {.name = "flat", .type = VB_TFLITE_INT32, SHAPE(2)},
                    {.name = "f", .type = VB_TFLITE_FLOAT32, SHAPE(2)},
                    {.name = "d", .type = VB_TFLITE_FLOAT32, SHAPE(1), .data = divisor, .data_bytes = 4},
                    {.name = "out", .type = VB_TFLITE_FLOAT32, SHAPE(2)}},
        .num_operators = 3,
        .operators = {{.code = VB_TFLITE_OP_RESHAPE, .num_inputs = 2, .inputs = {0, 1}, .num_outputs = 1, .outputs = {2}},
                      {.code = VB_TFLITE_OP_CAST, .num_inputs = 1, .inputs = {2}, .num_outputs = 1, .outputs = {3}},
                      {.code = VB_TFLITE_OP_DIV, .num_inputs = 2, .inputs = {3, 4}, .num_outputs = 1, .outputs = {5}}},
        .num_inputs = 1, .inputs = {0}, .num_outputs = 1, .outputs = {5},
    };
    const void *inputs[] = {x};
    check_all_levels(&tm, inputs, out, sizeof out);

    static const int32_t big[2] = {16777217, 0};
    static const float big_out[2] = {8388608.0f, 0.0f};
    const void *inputs2[] = {big};
    check_all_levels(&tm, inputs2, big_out, sizeof big_out);
}

static void refuses_unknown_operator_and_type(void **state)
{
    (void)state;
    tb_model tm = {
        .num_tensors = 2,
        .tensors = {{.name = "a", .type = VB_TFLITE_FLOAT32, SHAPE(1, 2, 2, 1)},
                    {.name = "b", .type = VB_TFLITE_FLOAT32, SHAPE(1, 1, 1, 1)}},
        .num_operators = 1,
        .operators = {{.code = 17 /* MAX_POOL_2D */, .num_inputs = 1, .inputs = {0}, .num_outputs = 1, .outputs = {1}}},
        .num_inputs = 1, .inputs = {0}, .num_outputs = 1, .outputs = {1},
    };
    vb_tflite_model *m = build_model(&tm);
    vb_tflite_interpreter *it = NULL;
    vb_error err = {0};
    assert_int_equal(vb_tflite_interpreter_create(m, 1, &it, &err), VB_EUNSUPPORTED);
    if (!strstr(err.message, "MAX_POOL_2D"))
        fail_msg("message does not name the operator: %s", err.message);
    assert_null(it);
    vb_tflite_free(&m);

    /* ADD on INT16 tensors: the type is named. */
    tb_model t16 = {
        .num_tensors = 3,
        .tensors = {{.name = "a", .type = VB_TFLITE_INT16, SHAPE(2)}, {.name = "b", .type = VB_TFLITE_INT16, SHAPE(2)},
                    {.name = "c", .type = VB_TFLITE_INT16, SHAPE(2)}},
        .num_operators = 1,
        .operators = {{.code = VB_TFLITE_OP_ADD, .num_inputs = 2, .inputs = {0, 1}, .num_outputs = 1, .outputs = {2}}},
        .num_inputs = 2, .inputs = {0, 1}, .num_outputs = 1, .outputs = {2},
    };
    m = build_model(&t16);
    assert_int_equal(vb_tflite_interpreter_create(m, 1, &it, &err), VB_EUNSUPPORTED);
    if (!strstr(err.message, "INT16") || !strstr(err.message, "ADD"))
        fail_msg("message does not name the operator and type: %s", err.message);
    vb_tflite_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixed_point_rounding),
        cmocka_unit_test(quantize_multiplier_values),
        cmocka_unit_test(activation_ranges),
        cmocka_unit_test(quantize_float_to_int8),
        cmocka_unit_test(dequantize_int8_to_float),
        cmocka_unit_test(add_int8_rescales_and_rounds),
        cmocka_unit_test(add_int32_broadcasts_a_scalar),
        cmocka_unit_test(mul_int8_with_relu_and_saturation),
        cmocka_unit_test(conv_1x1_per_channel),
        cmocka_unit_test(conv_3x3_stride2_same_padding),
        cmocka_unit_test(depthwise_1x3_same_relu6),
        cmocka_unit_test(average_pool_rounds_negative_halves_away),
        cmocka_unit_test(concatenation_requantizes_differing_input),
        cmocka_unit_test(strided_slice_negative_begin_and_shrink),
        cmocka_unit_test(sum_int8_rescales),
        cmocka_unit_test(reshape_cast_div_chain),
        cmocka_unit_test(refuses_unknown_operator_and_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
