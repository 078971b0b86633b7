/* The vector kernels (AVX2, AVX-512 VNNI) equal the plain C reference bit for bit on random
 * convolutions, depthwise convolutions, quantization and int8 ADD/MUL, including odd channel
 * counts, padding, strides, extreme zero points and multipliers with left and right shifts. */
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/tflite/kernels.h"
#include "tflite_builder.h"
#include "vidbench/tflite.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}
static int rnd_range(int lo, int hi) { return lo + (int)(rnd() % (uint32_t)(hi - lo + 1)); }

typedef struct conv_case {
    tfl_conv_params p;
    int8_t *input, *filter;
    int32_t *bias, *multiplier, *shift;
} conv_case;

static void make_case(conv_case *c, int depthwise)
{
    tfl_conv_params *p = &c->p;
    memset(c, 0, sizeof *c);
    p->batches = rnd_range(1, 2);
    p->in_h = rnd_range(1, 9);
    p->in_w = rnd_range(1, 9);
    p->in_c = depthwise ? rnd_range(1, 40) : rnd_range(1, 70);
    p->depth_multiplier = 1;
    p->out_c = depthwise ? p->in_c : rnd_range(1, 70);
    p->k_h = rnd_range(1, 3);
    p->k_w = rnd_range(1, 5);
    p->stride_h = rnd_range(1, 2);
    p->stride_w = rnd_range(1, 2);
    p->dilation_h = rnd_range(1, 2);
    p->dilation_w = 1;
    if (rnd() % 3 == 0) {   /* the 1x1 stride-1 direct path */
        p->k_h = p->k_w = p->stride_h = p->stride_w = p->dilation_h = 1;
        p->in_c = (p->in_c + 3) / 4 * 4;
        if (depthwise)
            p->out_c = p->in_c;
    }
    int same = rnd() % 2;
    const int eff_h = (p->k_h - 1) * p->dilation_h + 1, eff_w = (p->k_w - 1) * p->dilation_w + 1;
    p->out_h = same ? (p->in_h + p->stride_h - 1) / p->stride_h : (p->in_h - eff_h + p->stride_h) / p->stride_h;
    p->out_w = same ? (p->in_w + p->stride_w - 1) / p->stride_w : (p->in_w - eff_w + p->stride_w) / p->stride_w;
    if (p->out_h < 1 || p->out_w < 1) {
        p->out_h = (p->in_h + p->stride_h - 1) / p->stride_h;
        p->out_w = (p->in_w + p->stride_w - 1) / p->stride_w;
        same = 1;
    }
    const int th = (p->out_h - 1) * p->stride_h + eff_h - p->in_h, tw = (p->out_w - 1) * p->stride_w + eff_w - p->in_w;
    p->pad_top = th > 0 ? th / 2 : 0;
    p->pad_left = tw > 0 ? tw / 2 : 0;
    p->input_offset = -rnd_range(-128, 127);
    p->output_offset = rnd_range(-128, 127);
    p->act_min = rnd() % 2 ? -128 : rnd_range(-128, 0);
    p->act_max = rnd() % 2 ? 127 : rnd_range(1, 127);
    const size_t in_n = (size_t)p->batches * p->in_h * p->in_w * p->in_c;
    const size_t w_n = depthwise ? (size_t)p->k_h * p->k_w * p->out_c : (size_t)p->out_c * p->k_h * p->k_w * p->in_c;
    c->input = malloc(in_n);
    c->filter = malloc(w_n);
    c->bias = malloc((size_t)p->out_c * 4);
    c->multiplier = malloc((size_t)p->out_c * 4);
    c->shift = malloc((size_t)p->out_c * 4);
    for (size_t i = 0; i < in_n; i++)
        c->input[i] = (int8_t)rnd();
    for (size_t i = 0; i < w_n; i++)
        c->filter[i] = (int8_t)(rnd() % 8 == 0 ? -128 : (int8_t)rnd());   /* -128 included */
    for (int o = 0; o < p->out_c; o++) {
        c->bias[o] = (int32_t)(rnd() % 20001) - 10000;
        /* Real multipliers from 2^-20 to 4: right shifts and left shifts. */
        const double real = ldexp(0.5 + (rnd() % 1000) / 2000.0, rnd_range(-19, 3));
        tfl_quantize_multiplier(real, &c->multiplier[o], &c->shift[o]);
    }
    p->filter = c->filter;
    p->bias = rnd() % 4 ? c->bias : NULL;
    p->multiplier = c->multiplier;
    p->shift = c->shift;
}

static void free_case(conv_case *c)
{
    free(c->input);
    free(c->filter);
    free(c->bias);
    free(c->multiplier);
    free(c->shift);
}

static void compare(const int8_t *a, const int8_t *b, size_t n, const char *what, int level, int round)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            fail_msg("%s level %d case %d: element %zu is %d, reference %d", what, level, round, i, a[i], b[i]);
}

/* Each kernel test runs once per vector level, as its own case: a CPU without that level's
 * instruction set skips the case (counted by tests/run.sh) instead of passing silently. */
static const int level_avx2 = 1, level_avx512vnni = 2;

static int case_level(void **state)
{
    const int level = *(const int *)*state;
    test_require_isa(level == 1 ? "avx2" : "avx512vnni", vb_tflite_cpu_simd_level() >= level);
    return level;
}

static void conv_vector_equals_reference(void **state)
{
    const int level = case_level(state);
    const int rounds = test_sanitized() ? 60 : 300;
    for (int round = 0; round < rounds; round++) {
        conv_case c;
        make_case(&c, 0);
        const tfl_conv_params *p = &c.p;
        const int pixels = p->batches * p->out_h * p->out_w;
        const size_t out_n = (size_t)pixels * p->out_c;
        int8_t *ref = malloc(out_n), *vec = malloc(out_n);
        tfl_conv_ref(p, c.input, ref, 0, p->batches * p->out_h);
        tfl_packed_conv packed;
        assert_int_equal(tfl_pack_conv(p, level, &packed), 0);
        void *scratch = aligned_alloc(64, (tfl_conv_scratch_bytes(p, &packed, pixels) + 63) / 64 * 64);
        memset(vec, 0x55, out_n);
        /* Two pieces by pixels, then two by output channels: both splits the interpreter uses. */
        const int mid = (pixels / 2) / 4 * 4;
        tfl_conv_vector(p, &packed, c.input, vec, 0, mid, 0, p->out_c, scratch);
        tfl_conv_vector(p, &packed, c.input, vec, mid, pixels, 0, p->out_c, scratch);
        compare(vec, ref, out_n, "conv (pixel split)", level, round);
        const int block = level == 2 ? 32 : 16;
        const int nmid = ((p->out_c / 2) / block) * block;
        memset(vec, 0x55, out_n);
        tfl_conv_vector(p, &packed, c.input, vec, 0, pixels, 0, nmid, scratch);
        tfl_conv_vector(p, &packed, c.input, vec, 0, pixels, nmid, p->out_c, scratch);
        compare(vec, ref, out_n, "conv (channel split)", level, round);
        free(scratch);
        tfl_packed_conv_free(&packed);
        free(ref);
        free(vec);
        free_case(&c);
    }
}

static void depthwise_vector_equals_reference(void **state)
{
    const int level = case_level(state);
    const int rounds = test_sanitized() ? 60 : 300;
    for (int round = 0; round < rounds; round++) {
        conv_case c;
        make_case(&c, 1);
        const tfl_conv_params *p = &c.p;
        const int pixels = p->batches * p->out_h * p->out_w;
        const size_t out_n = (size_t)pixels * p->out_c;
        int8_t *ref = malloc(out_n), *vec = malloc(out_n);
        tfl_depthwise_ref(p, c.input, ref, 0, pixels);
        memset(vec, 0x55, out_n);
        tfl_depthwise_vector(level, p, c.input, vec, 0, pixels / 2);
        tfl_depthwise_vector(level, p, c.input, vec, pixels / 2, pixels);
        compare(vec, ref, out_n, "depthwise", level, round);
        free(ref);
        free(vec);
        free_case(&c);
    }
}

static void avgpool_vector_equals_reference(void **state)
{
    const int level = case_level(state);
    for (int round = 0; round < 200; round++) {
        conv_case c;
        make_case(&c, 1);
        tfl_conv_params p = c.p;
        if (p.dilation_h != 1) {   /* pooling has no dilation: recompute the geometry */
            p.dilation_h = 1;
            p.out_h = (p.in_h + p.stride_h - 1) / p.stride_h;
            const int th = (p.out_h - 1) * p.stride_h + p.k_h - p.in_h;
            p.pad_top = th > 0 ? th / 2 : 0;
        }
        const size_t out_n = (size_t)p.batches * p.out_h * p.out_w * p.in_c;
        int8_t *ref = malloc(out_n), *vec = malloc(out_n);
        tfl_avgpool_ref(&p, c.input, ref);
        memset(vec, 0x55, out_n);
        tfl_avgpool_vector(level, &p, c.input, vec);
        compare(vec, ref, out_n, "average pool", level, round);
        free(ref);
        free(vec);
        free_case(&c);
    }
}

static void quantize_vector_equals_reference(void **state)
{
    const int level = case_level(state);
    enum { N = 4099 };
    float *x = malloc(N * sizeof(float));
    int8_t *ref = malloc(N), *vec = malloc(N);
    for (int round = 0; round < 20; round++) {
        const float scale = (float)ldexp(0.5 + (rnd() % 1000) / 2000.0, rnd_range(-12, 2));
        const int32_t zp = rnd_range(-128, 127);
        for (int i = 0; i < N; i++) {
            switch (rnd() % 6) {
            case 0: x[i] = scale * ((float)rnd_range(-300, 300) + 0.5f); break;   /* exact halves */
            case 1: x[i] = (float)rnd_range(-1000000, 1000000) * 1e3f; break;    /* far out of range */
            case 2: x[i] = i % 2 ? NAN : -0.0f; break;
            case 3: x[i] = i % 2 ? INFINITY : -INFINITY; break;
            default: x[i] = ((float)(int32_t)rnd() / 2147483648.0f) * 200.0f * scale; break;
            }
        }
        tfl_quantize_ref(x, ref, N, scale, zp);
        tfl_quantize_vector(level, x, vec, N, scale, zp);
        compare(vec, ref, N, "quantize", level, round);
    }
    free(x);
    free(ref);
    free(vec);
}

static void add_mul_vector_equals_reference(void **state)
{
    const int level = case_level(state);
    /* Through the interpreter: level 0 computes each element with TFLite's formula, level 2
     * with 16-lane fixed point, level 1 with the exact 64K-entry table. Scales not powers of
     * two, every pair of int8 values. */
    enum { N = 65536 };
    int8_t *a = malloc(N), *b = malloc(N), *out0 = malloc(N);
    for (int i = 0; i < N; i++) {
        a[i] = (int8_t)(i >> 8);
        b[i] = (int8_t)i;
    }
    for (int op = 0; op < 2; op++) {
        for (int variant = 0; variant < 3; variant++) {
            const float sa = 0.0173f * (float)(variant + 1), sb = 0.0311f / (float)(variant + 1);
            const float so = op == 0 ? 0.0457f : 0.0029f * (float)(variant + 1);
            tb_model tm = {
                .num_tensors = 3,
                .tensors = {{.name = "a", .type = VB_TFLITE_INT8, .rank = 1, .shape = {N}, .num_scales = 1,
                             .scales = {sa}, .zero_points = {-7 + variant * 50}},
                            {.name = "b", .type = VB_TFLITE_INT8, .rank = 1, .shape = {N}, .num_scales = 1,
                             .scales = {sb}, .zero_points = {3 - variant * 40}},
                            {.name = "o", .type = VB_TFLITE_INT8, .rank = 1, .shape = {N}, .num_scales = 1,
                             .scales = {so}, .zero_points = {-20 + variant * 30}}},
                .num_operators = 1,
                .operators = {{.code = op == 0 ? VB_TFLITE_OP_ADD : VB_TFLITE_OP_MUL, .num_inputs = 2,
                               .inputs = {0, 1}, .num_outputs = 1, .outputs = {2}, .options_type = op == 0 ? 11 : 21,
                               .num_options = 1, .options = {{0, 1, variant}}}},
                .num_inputs = 2, .inputs = {0, 1}, .num_outputs = 1, .outputs = {2},
            };
            size_t size;
            uint8_t *bytes = tb_build(&tm, &size);
            vb_tflite_model *m = NULL;
            vb_error err = {0};
            assert_int_equal(vb_tflite_open_memory(bytes, size, "addmul", &m, &err), VB_OK);
            free(bytes);
            for (int run = 0; run < 2; run++) {   /* the plain reference, then the case's level */
                vb_tflite_interpreter *it = NULL;
                assert_int_equal(vb_tflite_interpreter_create(m, 1, &it, &err), VB_OK);
                assert_int_equal(vb_tflite_set_simd_level(it, run ? level : 0), run ? level : 0);
                memcpy(vb_tflite_tensor_buffer(it, 0), a, N);
                memcpy(vb_tflite_tensor_buffer(it, 1), b, N);
                assert_int_equal(vb_tflite_invoke(it, &err), VB_OK);
                if (run == 0)
                    memcpy(out0, vb_tflite_tensor_buffer(it, 2), N);
                else
                    compare(vb_tflite_tensor_buffer(it, 2), out0, N, op == 0 ? "add" : "mul", level, variant);
                vb_tflite_interpreter_free(&it);
            }
            vb_tflite_free(&m);
        }
    }
    free(a);
    free(b);
    free(out0);
}

#define PER_LEVEL(fn)                                                        \
    {#fn "_avx2", fn, NULL, NULL, (void *)&level_avx2},                   \
    {#fn "_avx512vnni", fn, NULL, NULL, (void *)&level_avx512vnni}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PER_LEVEL(conv_vector_equals_reference),
        PER_LEVEL(depthwise_vector_equals_reference),
        PER_LEVEL(avgpool_vector_equals_reference),
        PER_LEVEL(quantize_vector_equals_reference),
        PER_LEVEL(add_mul_vector_equals_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
