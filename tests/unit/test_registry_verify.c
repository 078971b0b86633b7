/* The comparison behind `vidbench model verify`: DeepMind's published out/imagenet_rgb.txt
 * parses to the values printed in it, and the golden i3d-tiny-k400 case stands in for the
 * real model offline (its expected Logits written in DeepMind's format, then compared). */
#include "testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "vidbench/labels.h"
#include "vidbench/models.h"
#include "vidbench/npy.h"
#include "vidbench/safetensors.h"

/* Values as printed in ../shared/data/i3d/out/imagenet_rgb.txt (kinetics-i3d README). */
static void deepmind_reference_output_parses(void **state)
{
    (void)state;
    vb_reference_output reference;
    vb_error err = {0};
    if (vb_reference_output_parse(shared_path("data/i3d/out/imagenet_rgb.txt"), &reference, &err))
        fail_msg("%s", err.message);
    assert_true(fabs(reference.logits_norm - 87.108871) < 1e-9);
    assert_int_equal(reference.count, 20);
    assert_string_equal(reference.top[0].name, "playing cricket");
    assert_true(fabs(reference.top[0].logit - 25.856646) < 1e-9);
    assert_true(fabs(reference.top[0].probability - 0.9999968) < 1e-9);
    assert_string_equal(reference.top[19].name, "headbutting");
    assert_string_equal(reference.top[3].name, "shooting goal (soccer)");
    /* Every listed class is a Kinetics-400 label. */
    vb_labels labels = {0};
    assert_int_equal(vb_labels_load(shared_path("data/labelmaps/kinetics400_label_map.txt"), &labels, &err), VB_OK);
    for (int i = 0; i < reference.count; i++)
        if (vb_labels_find(&labels, reference.top[i].name) < 0)
            fail_msg("'%s' is not a K400 label", reference.top[i].name);
    vb_labels_free(&labels);
}

typedef struct golden_case {
    float logits[400];
    vb_labels labels;
} golden_case;

static int setup_golden(void **state)
{
    golden_case *g = calloc(1, sizeof *g);
    vb_safetensors *expected = NULL;
    vb_error err = {0};
    if (vb_safetensors_open(shared_path("golden/i3d-tiny-k400/expected.safetensors"), &expected, &err) ||
        vb_labels_load(shared_path("data/labelmaps/kinetics400_label_map.txt"), &g->labels, &err))
        return -1;
    const vb_tensor_view *logits = vb_safetensors_find(expected, "Logits");
    if (!logits || logits->size_bytes != sizeof g->logits)
        return -1;
    memcpy(g->logits, logits->data, sizeof g->logits);
    vb_safetensors_free(&expected);
    *state = g;
    return 0;
}

static int teardown_golden(void **state)
{
    golden_case *g = *state;
    vb_labels_free(&g->labels);
    free(g);
    return 0;
}

/* Writes logits the way kinetics-i3d evaluate_sample.py prints them: the norm, then the top
 * 20 softmax probabilities with logit and class (numpy's float32 repr: 8 significant digits). */
static const char *write_reference(const char *name, const float *logits, const vb_labels *labels)
{
    int order[400];
    double norm = 0, max = logits[0], sum = 0;
    for (int i = 0; i < 400; i++) {
        order[i] = i;
        norm += (double)logits[i] * logits[i];
        if (logits[i] > max)
            max = logits[i];
    }
    for (int i = 0; i < 400; i++)
        sum += exp(logits[i] - max);
    for (int i = 0; i < 20; i++)
        for (int j = i + 1; j < 400; j++)
            if (logits[order[j]] > logits[order[i]]) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    const char *path = temp_path(name);
    FILE *fp = fopen(path, "w");
    fprintf(fp, "Norm of logits: %.8g\n\nTop classes and probabilities\n", sqrt(norm));
    for (int i = 0; i < 20; i++)
        fprintf(fp, "%.8g %.8g %s\n", exp(logits[order[i]] - max) / sum, logits[order[i]],
                labels->names[order[i]]);
    fclose(fp);
    return path;
}

static void golden_logits_pass_against_their_own_listing(void **state)
{
    golden_case *g = *state;
    vb_reference_output reference;
    vb_reference_check check;
    vb_error err = {0};
    assert_int_equal(vb_reference_output_parse(write_reference("golden_ref.txt", g->logits, &g->labels),
                                               &reference, &err), VB_OK);
    int rc = vb_reference_output_compare(&reference, g->logits, 400, &g->labels, 1e-3, &check, &err);
    if (rc)
        fail_msg("%s", err.message);
    assert_true(check.passed);
    assert_true(check.top1_matches);
    /* 8 printed digits: far inside the 1e-3 tolerance. */
    assert_true(check.max_relative_error < 1e-6);
    assert_true(check.norm_relative_error < 1e-6);
}

static void a_logit_off_by_a_percent_fails_naming_the_class(void **state)
{
    golden_case *g = *state;
    vb_reference_output reference;
    vb_reference_check check;
    vb_error err = {0};
    assert_int_equal(vb_reference_output_parse(write_reference("golden_ref2.txt", g->logits, &g->labels),
                                               &reference, &err), VB_OK);
    float perturbed[400];
    memcpy(perturbed, g->logits, sizeof perturbed);
    int fifth = vb_labels_find(&g->labels, reference.top[4].name);
    double scale = fabs(reference.top[0].logit);
    perturbed[fifth] -= (float)(0.01 * scale);   /* stays below the 4th, so order holds */
    int rc = vb_reference_output_compare(&reference, perturbed, 400, &g->labels, 1e-3, &check, &err);
    assert_int_equal(rc, VB_ECHECKSUM);
    assert_false(check.passed);
    assert_string_equal(check.worst_class, reference.top[4].name);
    assert_non_null(strstr(err.message, reference.top[4].name));
}

static void a_different_top_class_fails(void **state)
{
    golden_case *g = *state;
    vb_reference_output reference;
    vb_reference_check check;
    vb_error err = {0};
    assert_int_equal(vb_reference_output_parse(write_reference("golden_ref3.txt", g->logits, &g->labels),
                                               &reference, &err), VB_OK);
    float swapped[400];
    memcpy(swapped, g->logits, sizeof swapped);
    int first = vb_labels_find(&g->labels, reference.top[0].name);
    int second = vb_labels_find(&g->labels, reference.top[1].name);
    swapped[first] = g->logits[second];
    swapped[second] = g->logits[first];
    assert_int_equal(vb_reference_output_compare(&reference, swapped, 400, &g->labels, 1e-3, &check, &err),
                     VB_ECHECKSUM);
    assert_false(check.top1_matches);
    assert_non_null(strstr(err.message, "top class"));
}

static void malformed_reference_is_refused(void **state)
{
    (void)state;
    vb_error err = {0};
    const char *path = temp_path("bad_ref.txt");
    const char *text = "Norm of logits: 3\nnot a number line\n";
    assert_int_equal(fs_write_file_atomic(path, text, strlen(text), &err), VB_OK);
    vb_reference_output reference;
    assert_int_equal(vb_reference_output_parse(path, &reference, &err), VB_EFORMAT);
    assert_non_null(strstr(err.message, ":2:"));
}

static void npy_sample_reads_shape_and_values(void **state)
{
    (void)state;
    /* A [1,2,3] float32 .npy as numpy.save writes it (v1.0, header padded to 128 bytes). */
    char header[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }";
    unsigned char file[256] = "\x93NUMPY\x01\x00";
    size_t header_len = 128 - 10;
    file[8] = (unsigned char)header_len;
    memset(file + 10, ' ', header_len);
    memcpy(file + 10, header, strlen(header));
    file[10 + header_len - 1] = '\n';
    float values[6] = {-1, -0.5f, 0, 0.25f, 0.5f, 1};
    memcpy(file + 128, values, sizeof values);
    vb_error err = {0};
    const char *path = temp_path("sample.npy");
    assert_int_equal(fs_write_file_atomic(path, file, 128 + sizeof values, &err), VB_OK);
    float *data = NULL;
    int ndim = 0;
    int64_t shape[8];
    if (vb_npy_read_float32(path, &data, &ndim, shape, &err))
        fail_msg("%s", err.message);
    assert_int_equal(ndim, 3);
    assert_int_equal(shape[2], 3);
    assert_memory_equal(data, values, sizeof values);
    free(data);
    /* Cut short: an error, not a short read passed off as data. */
    assert_int_equal(fs_write_file_atomic(path, file, 128 + 10, &err), VB_OK);
    assert_int_equal(vb_npy_read_float32(path, &data, &ndim, shape, &err), VB_EFORMAT);
    assert_null(data);
}

/* Writes a v1.0 .npy: header padded with spaces to 128 bytes, then data_bytes of data. */
static const char *write_npy(const char *name, const char *header, const void *data, size_t data_bytes)
{
    unsigned char file[512];
    memcpy(file, "\x93NUMPY\x01\x00", 8);
    file[8] = 128 - 10;
    file[9] = 0;
    memset(file + 10, ' ', 118);
    memcpy(file + 10, header, strlen(header));
    file[127] = '\n';
    assert_true(data_bytes <= sizeof file - 128);
    memcpy(file + 128, data, data_bytes);
    vb_error err = {0};
    const char *path = temp_path(name);
    assert_int_equal(fs_write_file_atomic(path, file, 128 + data_bytes, &err), VB_OK);
    return path;
}

/* The dtype and byte order in the header are honoured (a '>f8' file was read as '<f4'); other
 * dtypes, repeated or unknown keys, trailing bytes and non-finite values are refused. The
 * expected values are the ones written, byte-swapped and widened by this test itself. */
static void npy_dtype_and_byte_order_are_honoured(void **state)
{
    (void)state;
    const double wide[3] = {-1.5, 0.25, 1e30};
    unsigned char big8[24], big4[12];
    for (int i = 0; i < 3; i++) {
        uint64_t bits;
        memcpy(&bits, &wide[i], 8);
        for (int k = 0; k < 8; k++)
            big8[8 * i + k] = (unsigned char)(bits >> (56 - 8 * k));
        const float narrow = (float)wide[i];
        uint32_t fbits;
        memcpy(&fbits, &narrow, 4);
        for (int k = 0; k < 4; k++)
            big4[4 * i + k] = (unsigned char)(fbits >> (24 - 8 * k));
    }
    const float nan_sample[3] = {0.5f, NAN, 1.0f}, inf_sample[3] = {INFINITY, 0, 0}, plain[3] = {1, 2, 3};
    const double too_big[3] = {1e300, 0, 0};
    const struct {
        const char *header;
        const void *data;
        size_t bytes;
        int expected;
        const char *needle;   /* in the message; NULL: the values must be wide[] */
    } cases[] = {
        {"{'descr': '>f8', 'fortran_order': False, 'shape': (3,), }", big8, 24, VB_OK, NULL},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", wide, 24, VB_OK, NULL},
        {"{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }", big4, 12, VB_OK, NULL},
        {"{'shape': (3,), 'fortran_order': False, 'descr': '>f4'}", big4, 12, VB_OK, NULL},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", nan_sample, 12, VB_EFORMAT, "element 1 is nan"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", inf_sample, 12, VB_EFORMAT, "element 0 is inf"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", too_big, 24, VB_EFORMAT, "element 0"},
        {"{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", plain, 12, VB_EUNSUPPORTED, "dtype '<i4'"},
        {"{'descr': '|f4', 'fortran_order': False, 'shape': (3,), }", plain, 12, VB_EUNSUPPORTED, "dtype '|f4'"},
        {"{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }", plain, 12, VB_EUNSUPPORTED, "Fortran"},
        {"{'descr': '<f4', 'descr': '>f4', 'fortran_order': False, 'shape': (3,), }", plain, 12, VB_EFORMAT, "header"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}", plain, 12, VB_EFORMAT, "header"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", plain, 12, VB_EFORMAT, "promises 2 elements"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", plain, 12, VB_EFORMAT, "promises 4 elements"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = write_npy("dtype.npy", cases[i].header, cases[i].data, cases[i].bytes);
        float *data = NULL;
        int ndim = 0;
        int64_t shape[8];
        vb_error err = {0};
        int rc = vb_npy_read_float32(path, &data, &ndim, shape, &err);
        if (rc != cases[i].expected || (cases[i].needle && !strstr(err.message, cases[i].needle)))
            fail_msg("case %zu (%s): got %d '%s', expected %d containing '%s'", i, cases[i].header, rc,
                     err.message, cases[i].expected, cases[i].needle ? cases[i].needle : "");
        if (rc) {
            assert_null(data);
            continue;
        }
        assert_int_equal(ndim, 1);
        assert_int_equal(shape[0], 3);
        for (int k = 0; k < 3; k++)
            if (data[k] != (float)wide[k])
                fail_msg("case %zu (%s): element %d is %g, expected %g", i, cases[i].header, k, (double)data[k],
                         (double)(float)wide[k]);
        free(data);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deepmind_reference_output_parses),
        cmocka_unit_test_setup_teardown(golden_logits_pass_against_their_own_listing, setup_golden, teardown_golden),
        cmocka_unit_test_setup_teardown(a_logit_off_by_a_percent_fails_naming_the_class, setup_golden, teardown_golden),
        cmocka_unit_test_setup_teardown(a_different_top_class_fails, setup_golden, teardown_golden),
        cmocka_unit_test(malformed_reference_is_refused),
        cmocka_unit_test(npy_sample_reads_shape_and_values),
        cmocka_unit_test(npy_dtype_and_byte_order_are_honoured),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
