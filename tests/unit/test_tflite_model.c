/* The TFLite reader on the real MoViNet file (facts from its PROVENANCE.txt) and on broken
 * files: truncated, identifier wrong, offsets out of range, shapes that disagree with their
 * buffers, indices out of range, random byte damage. Each gives an error naming the cause. */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "tflite_builder.h"
#include "vidbench/tflite.h"

#define MOVINET "models/movinet-a0-stream-int8-k600/movinet_a0_stream_int8.tflite"

static void real_model_matches_provenance(void **state)
{
    (void)state;
    vb_tflite_model *m = NULL;
    vb_error err = {0};
    if (vb_tflite_open(shared_path(MOVINET), &m, &err))
        fail_msg("%s", err.message);
    /* PROVENANCE.txt: 1 subgraph, signature serving_default, 44 inputs / 44 outputs, 227 ops. */
    assert_int_equal(m->num_subgraphs, 1);
    assert_int_equal(m->num_operators, 227);
    assert_int_equal(m->num_inputs, 44);
    assert_int_equal(m->num_outputs, 44);
    assert_int_equal(m->num_signatures, 1);
    assert_string_equal(m->signatures[0].key, "serving_default");
    static const struct { int code, count; } counts[] = {
        {VB_TFLITE_OP_RESHAPE, 74}, {VB_TFLITE_OP_CONV_2D, 38}, {VB_TFLITE_OP_DEPTHWISE_CONV_2D, 26},
        {VB_TFLITE_OP_ADD, 17}, {VB_TFLITE_OP_MUL, 16}, {VB_TFLITE_OP_QUANTIZE, 14},
        {VB_TFLITE_OP_DEQUANTIZE, 13}, {VB_TFLITE_OP_CONCATENATION, 11}, {VB_TFLITE_OP_STRIDED_SLICE, 11},
        {VB_TFLITE_OP_AVERAGE_POOL_2D, 4}, {VB_TFLITE_OP_SUM, 1}, {VB_TFLITE_OP_CAST, 1}, {VB_TFLITE_OP_DIV, 1}};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        int n = 0;
        for (int i = 0; i < m->num_operators; i++)
            n += m->operators[i].builtin_code == counts[k].code;
        if (n != counts[k].count)
            fail_msg("%s: %d operators, PROVENANCE.txt says %d", vb_tflite_op_name(counts[k].code), n, counts[k].count);
    }
    /* "image" FLOAT32 [1,1,172,172,3] and "logits" FLOAT32 [1,600]. */
    int image = -1, logits = -1;
    for (int k = 0; k < m->signatures[0].num_inputs; k++)
        if (!strcmp(m->signatures[0].inputs[k].name, "image"))
            image = m->signatures[0].inputs[k].tensor;
    for (int k = 0; k < m->signatures[0].num_outputs; k++)
        if (!strcmp(m->signatures[0].outputs[k].name, "logits"))
            logits = m->signatures[0].outputs[k].tensor;
    assert_true(image >= 0 && logits >= 0);
    const vb_tflite_tensor *ti = &m->tensors[image], *tl = &m->tensors[logits];
    assert_int_equal(ti->type, VB_TFLITE_FLOAT32);
    assert_int_equal(ti->rank, 5);
    assert_int_equal(ti->shape[2], 172);
    assert_int_equal(ti->shape[4], 3);
    assert_int_equal(tl->rank, 2);
    assert_int_equal(tl->shape[1], 600);
    vb_tflite_free(&m);
}

static void truncated_files_are_refused(void **state)
{
    (void)state;
    char *bytes = NULL;
    size_t size = 0;
    assert_int_equal(fs_read_file(shared_path(MOVINET), 8u << 20, &bytes, &size, NULL), VB_OK);
    /* Cut anywhere: the root table and the vectors at the end no longer fit. */
    const int cuts = test_sanitized() ? 40 : 200;
    for (int i = 0; i < cuts; i++) {
        const size_t cut = i == 0 ? 0 : i == 1 ? 7 : (size / (size_t)cuts) * (size_t)i + (size_t)i * 37 % 1000;
        vb_tflite_model *m = NULL;
        vb_error err = {0};
        int rc = vb_tflite_open_memory((const uint8_t *)bytes, cut, "cut.tflite", &m, &err);
        if (rc == VB_OK)
            fail_msg("a file cut at %zu of %zu bytes was accepted", cut, size);
        assert_null(m);
        if (!strstr(err.message, "cut.tflite"))
            fail_msg("message does not name the file: %s", err.message);
    }
    free(bytes);
}

static tb_model small_conv_model(const int8_t *filter, size_t filter_bytes)
{
    tb_model tm = {
        .num_tensors = 3,
        .tensors = {{.name = "in", .type = VB_TFLITE_INT8, .rank = 4, .shape = {1, 2, 2, 4}, .num_scales = 1,
                     .scales = {0.5f}},
                    {.name = "w", .type = VB_TFLITE_INT8, .rank = 4, .shape = {2, 1, 1, 4}, .data = filter,
                     .data_bytes = filter_bytes, .num_scales = 1, .scales = {0.25f}},
                    {.name = "out", .type = VB_TFLITE_INT8, .rank = 4, .shape = {1, 2, 2, 2}, .num_scales = 1,
                     .scales = {1.0f}}},
        .num_operators = 1,
        .operators = {{.code = VB_TFLITE_OP_CONV_2D, .num_inputs = 3, .inputs = {0, 1, -1}, .num_outputs = 1,
                       .outputs = {2}, .options_type = 1, .num_options = 1, .options = {{1, 4, 1}}}},
        .num_inputs = 1, .inputs = {0}, .num_outputs = 1, .outputs = {2},
        .input_names = {"in"}, .output_names = {"out"},
    };
    return tm;
}

static void wrong_identifier_and_bad_offsets(void **state)
{
    (void)state;
    static const int8_t filter[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    tb_model tm = small_conv_model(filter, 8);
    size_t size;
    uint8_t *bytes = tb_build(&tm, &size);
    vb_tflite_model *m = NULL;
    vb_error err = {0};
    assert_int_equal(vb_tflite_open_memory(bytes, size, "ok.tflite", &m, &err), VB_OK);
    vb_tflite_free(&m);

    uint8_t *bad = malloc(size);
    memcpy(bad, bytes, size);
    memcpy(bad + 4, "XXXX", 4);
    assert_int_equal(vb_tflite_open_memory(bad, size, "id.tflite", &m, &err), VB_EFORMAT);
    if (!strstr(err.message, "TFL3"))
        fail_msg("expected the identifier in the message: %s", err.message);

    /* Root offset pointing past the end. */
    memcpy(bad, bytes, size);
    const uint32_t far = (uint32_t)size + 100;
    memcpy(bad, &far, 4);
    assert_int_equal(vb_tflite_open_memory(bad, size, "root.tflite", &m, &err), VB_EFORMAT);
    if (!strstr(err.message, "out of range"))
        fail_msg("expected an out-of-range complaint: %s", err.message);

    /* Every 4-byte word set to a huge offset in turn: never accepted silently with a crash;
     * each either loads (the word was data) or names a cause. */
    int refused = 0;
    for (size_t pos = 8; pos + 4 <= size; pos += 4) {
        memcpy(bad, bytes, size);
        const uint32_t huge = 0x7FFFFFF0u;
        memcpy(bad + pos, &huge, 4);
        err.message[0] = 0;
        int rc = vb_tflite_open_memory(bad, size, "word.tflite", &m, &err);
        if (rc) {
            refused++;
            assert_true(strlen(err.message) > 0);
        } else {
            vb_tflite_interpreter *it = NULL;
            if (vb_tflite_interpreter_create(m, 1, &it, &err) == VB_OK) {
                assert_int_equal(vb_tflite_invoke(it, &err), VB_OK);
                vb_tflite_interpreter_free(&it);
            }
            vb_tflite_free(&m);
        }
    }
    assert_true(refused > 10);
    free(bad);
    free(bytes);
}

static void shape_disagreeing_with_buffer(void **state)
{
    (void)state;
    /* The filter says [2,1,1,4] = 8 bytes but its buffer has 7. */
    static const int8_t filter[7] = {1, 2, 3, 4, 5, 6, 7};
    tb_model tm = small_conv_model(filter, 7);
    size_t size;
    uint8_t *bytes = tb_build(&tm, &size);
    vb_tflite_model *m = NULL;
    vb_error err = {0};
    assert_int_equal(vb_tflite_open_memory(bytes, size, "short.tflite", &m, &err), VB_ESHAPE);
    if (!strstr(err.message, "\"w\"") && !strstr(err.message, "(w)"))
        fail_msg("message does not name the tensor: %s", err.message);
    if (!strstr(err.message, "8 bytes") || !strstr(err.message, "has 7"))
        fail_msg("message does not give both sizes: %s", err.message);
    free(bytes);
}

static void operator_shapes_are_checked(void **state)
{
    (void)state;
    static const int8_t filter[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    vb_tflite_model *m = NULL;
    vb_tflite_interpreter *it = NULL;
    vb_error err = {0};
    size_t size;

    /* Output declared [1,2,2,3] while the filter has 2 output channels. */
    tb_model tm = small_conv_model(filter, 8);
    tm.tensors[2].shape[3] = 3;
    uint8_t *bytes = tb_build(&tm, &size);
    assert_int_equal(vb_tflite_open_memory(bytes, size, "shape.tflite", &m, &err), VB_OK);
    assert_int_equal(vb_tflite_interpreter_create(m, 1, &it, &err), VB_ESHAPE);
    if (!strstr(err.message, "CONV_2D"))
        fail_msg("message does not name the operator: %s", err.message);
    vb_tflite_free(&m);
    free(bytes);

    /* An operator input index past the tensor list. */
    tm = small_conv_model(filter, 8);
    tm.operators[0].inputs[0] = 9;
    bytes = tb_build(&tm, &size);
    assert_int_equal(vb_tflite_open_memory(bytes, size, "index.tflite", &m, &err), VB_EFORMAT);
    if (!strstr(err.message, "out of range"))
        fail_msg("expected an out-of-range complaint: %s", err.message);
    free(bytes);

    /* An input used before any operator computes it. */
    tm = small_conv_model(filter, 8);
    tm.num_inputs = 0;
    bytes = tb_build(&tm, &size);
    assert_int_equal(vb_tflite_open_memory(bytes, size, "order.tflite", &m, &err), VB_OK);
    assert_int_equal(vb_tflite_interpreter_create(m, 1, &it, &err), VB_EFORMAT);
    if (!strstr(err.message, "not computed"))
        fail_msg("expected an ordering complaint: %s", err.message);
    vb_tflite_free(&m);
    free(bytes);
}

static void random_damage_never_crashes(void **state)
{
    (void)state;
    static const int8_t filter[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    tb_model tm = small_conv_model(filter, 8);
    size_t size;
    uint8_t *bytes = tb_build(&tm, &size);
    uint8_t *bad = malloc(size);
    uint64_t s = 12345;
    const int rounds = test_sanitized() ? 3000 : 20000;
    for (int r = 0; r < rounds; r++) {
        memcpy(bad, bytes, size);
        for (int k = 0; k < 1 + r % 4; k++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            bad[(s >> 33) % size] = (uint8_t)(s >> 20);
        }
        vb_tflite_model *m = NULL;
        vb_error err = {0};
        if (vb_tflite_open_memory(bad, size, "damaged.tflite", &m, &err) == VB_OK) {
            vb_tflite_interpreter *it = NULL;
            size_t total = 0;   /* a damaged shape may ask for a large (valid) model: skip running it */
            for (int t = 0; t < m->num_tensors; t++)
                total += m->tensors[t].num_bytes;
            if (total < (1u << 16) && vb_tflite_interpreter_create(m, 1, &it, &err) == VB_OK) {
                assert_int_equal(vb_tflite_invoke(it, &err), VB_OK);
                vb_tflite_interpreter_free(&it);
            }
            vb_tflite_free(&m);
        }
    }
    free(bad);
    free(bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_model_matches_provenance),
        cmocka_unit_test(truncated_files_are_refused),
        cmocka_unit_test(wrong_identifier_and_bad_offsets),
        cmocka_unit_test(shape_disagreeing_with_buffer),
        cmocka_unit_test(operator_shapes_are_checked),
        cmocka_unit_test(random_damage_never_crashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
