/* The int8 I3D file as untrusted input, and the precision rules of vb_i3d_open.
 *
 * A valid int8 file is written once (a width-1/16 random I3D, 5 classes, calibrated on one
 * random clip); each hostile case rewrites it with vb_safetensors_write, keeping its metadata,
 * with one defect, and checks that vb_i3d_open refuses it with a message naming the file and
 * the cause (the messages are printed, so the log documents them). The sanitizer build runs
 * the same cases, so "refused" also means "no out-of-bounds read, no leak". */
#include "testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidbench/classifier.h"
#include "vidbench/i3d.h"
#include "vidbench/safetensors.h"

#define MAX_TENSORS 256

static char fp32_path[4096], int8_path[4096];

/* ---- the valid file, and rewriting it with one defect ---- */

typedef struct int8_file {
    int n;
    vb_tensor_view views[MAX_TENSORS];   /* names and data owned (copies) */
    char format[64], version[16];
} int8_file;

static void file_read(int8_file *f)
{
    memset(f, 0, sizeof *f);
    vb_safetensors *st = NULL;
    vb_error err = {0};
    if (vb_safetensors_open(int8_path, &st, &err))
        fail_msg("open %s: %s", int8_path, err.message);
    f->n = vb_safetensors_count(st);
    assert_true(f->n > 0 && f->n <= MAX_TENSORS);
    for (int i = 0; i < f->n; i++) {
        const vb_tensor_view *t = vb_safetensors_at(st, i);
        f->views[i] = *t;
        f->views[i].name = strdup(t->name);
        void *data = malloc(t->size_bytes + 1);
        assert_non_null(data);
        memcpy(data, t->data, t->size_bytes);
        f->views[i].data = data;
    }
    snprintf(f->format, sizeof f->format, "%s", vb_safetensors_metadata(st, "format"));
    snprintf(f->version, sizeof f->version, "%s", vb_safetensors_metadata(st, "format_version"));
    vb_safetensors_free(&st);
}

static void file_free(int8_file *f)
{
    for (int i = 0; i < f->n; i++) {
        free((void *)f->views[i].name);
        free((void *)f->views[i].data);
    }
    f->n = 0;
}

static vb_tensor_view *file_tensor(int8_file *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->views[i].name, name))
            return &f->views[i];
    fail_msg("the valid int8 file has no tensor '%s'", name);
    return NULL;
}

static void file_remove(int8_file *f, const char *name)
{
    vb_tensor_view *t = file_tensor(f, name);
    free((void *)t->name);
    free((void *)t->data);
    *t = f->views[--f->n];
}

/* Replaces a tensor's dtype and shape; its data becomes zeros of the new size. */
static void file_reshape(int8_file *f, const char *name, vb_dtype dtype, int ndim, const int64_t *shape)
{
    vb_tensor_view *t = file_tensor(f, name);
    int64_t numel = 1;
    t->dtype = dtype;
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++)
        numel *= t->shape[d] = shape[d];
    free((void *)t->data);
    t->size_bytes = (size_t)numel * vb_dtype_size_bytes(dtype);
    t->data = calloc(t->size_bytes + 1, 1);
    assert_non_null(t->data);
}

static void file_set_float(int8_file *f, const char *name, int64_t index, float value)
{
    vb_tensor_view *t = file_tensor(f, name);
    assert_int_equal(t->dtype, VB_DTYPE_F32);
    assert_true((size_t)(index + 1) * 4 <= t->size_bytes);
    memcpy((unsigned char *)t->data + index * 4, &value, 4);
}

static void file_fill_float(int8_file *f, const char *name, float value)
{
    vb_tensor_view *t = file_tensor(f, name);
    for (int64_t i = 0; i < (int64_t)(t->size_bytes / 4); i++)
        file_set_float(f, name, i, value);
}

static const char *file_write(const int8_file *f, const char *name)
{
    const char *path = temp_path(name);
    const char *meta[] = {"format", f->format, "format_version", f->version};
    vb_error err = {0};
    if (vb_safetensors_write(path, f->views, f->n, meta, 2, &err))
        fail_msg("write %s: %s", path, err.message);
    return path;
}

static int open_model(const char *path, vb_i3d_backend backend, vb_i3d_precision precision, vb_i3d **model,
                      vb_error *err)
{
    vb_i3d_options options;
    vb_i3d_options_init(&options);
    options.backend = backend;
    options.precision = precision;
    options.threads = 1;
    memset(err, 0, sizeof *err);
    return vb_i3d_open(path, &options, model, err);
}

/* vb_i3d_open must refuse path with this backend and precision, its message holding the path and the
 * cause (and cause2 when given). */
static void expect_refused_with(const char *path, vb_i3d_backend backend, vb_i3d_precision precision,
                                const char *cause, const char *cause2)
{
    vb_i3d *model = NULL;
    vb_error err;
    int rc = open_model(path, backend, precision, &model, &err);
    printf("  %s -> %s\n", strrchr(path, '/') + 1, rc ? err.message : "(opened)");
    if (rc == 0) {
        vb_i3d_free(&model);
        fail_msg("%s opened; expected a refusal naming '%s'", path, cause);
    }
    assert_null(model);
    assert_true(rc < 0);
    if (!strstr(err.message, path))
        fail_msg("the message does not name the file %s: %s", path, err.message);
    if (!strstr(err.message, cause) || (cause2 && !strstr(err.message, cause2)))
        fail_msg("expected '%s'%s%s in: %s", cause, cause2 ? " and " : "", cause2 ? cause2 : "", err.message);
}

/* On the reference backend: loading and i3d_quant_prepare run before either backend is created. */
static void expect_refused(const char *path, const char *cause, const char *cause2)
{
    expect_refused_with(path, VB_I3D_BACKEND_REFERENCE, VB_I3D_PRECISION_INT8, cause, cause2);
}

/* ---- fixture ---- */

static float *random_clip(int frames, uint64_t seed)
{
    size_t n = (size_t)frames * VB_I3D_INPUT_SIZE * VB_I3D_INPUT_SIZE * 3;
    float *clip = malloc(n * sizeof(float));
    assert_non_null(clip);
    uint64_t state = seed;
    for (size_t i = 0; i < n; i++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        clip[i] = (float)((state >> 56) & 255) / 255.0f;
    }
    return clip;
}

static int write_valid_file(void **state)
{
    (void)state;
    snprintf(fp32_path, sizeof fp32_path, "%s", temp_path("int8file-fp32.safetensors"));
    snprintf(int8_path, sizeof int8_path, "%s", temp_path("int8file-valid.safetensors"));
    vb_error err = {0};
    vb_i3d *model = NULL;
    vb_i3d_calibrator *cal = NULL;
    float *clip = random_clip(VB_I3D_MIN_FRAMES, 11);
    int rc;
    if ((rc = vb_i3d_write_random_weights(fp32_path, 16, 5, 7, &err)) ||
        (rc = open_model(fp32_path, VB_I3D_BACKEND_ONEDNN, VB_I3D_PRECISION_FP32, &model, &err)) ||
        (rc = vb_i3d_calibrator_new(model, &cal, &err)) ||
        (rc = vb_i3d_calibrator_add(cal, clip, 1, VB_I3D_MIN_FRAMES, &err)))
        fprintf(stderr, "fixture: %s\n", err.message);
    else {
        const char *meta[] = {"calibration_method", "minmax"};
        if ((rc = vb_i3d_calibrator_write(cal, int8_path, VB_I3D_CALIBRATE_MINMAX, meta, 1, &err)))
            fprintf(stderr, "fixture: %s\n", err.message);
    }
    vb_i3d_calibrator_free(&cal);
    vb_i3d_free(&model);
    free(clip);
    return rc ? -1 : 0;
}

/* ---- the valid file itself ---- */

static void valid_file_loads_as_int8(void **state)
{
    (void)state;
    vb_i3d *model = NULL;
    vb_error err;
    if (open_model(int8_path, VB_I3D_BACKEND_REFERENCE, VB_I3D_PRECISION_INT8, &model, &err))
        fail_msg("%s", err.message);
    assert_int_equal(vb_i3d_num_classes(model), 5);
    assert_int_equal(vb_i3d_get_precision(model), VB_I3D_PRECISION_INT8);
    vb_i3d_free(&model);
    /* and the rewrite itself changes nothing: an unedited copy loads too */
    int8_file f;
    file_read(&f);
    const char *copy = file_write(&f, "int8file-copy.safetensors");
    file_free(&f);
    if (open_model(copy, VB_I3D_BACKEND_REFERENCE, VB_I3D_PRECISION_INT8, &model, &err))
        fail_msg("an unedited rewrite does not load: %s", err.message);
    vb_i3d_free(&model);
}

/* ---- one defect each ---- */

static void missing_tensor(void **state)
{
    (void)state;
    int8_file f;
    file_read(&f);
    file_remove(&f, "Mixed_4c/Branch_1/Conv3d_0b_3x3/weight_scale");
    const char *path = file_write(&f, "int8file-missing.safetensors");
    file_free(&f);
    expect_refused(path, "tensor 'Mixed_4c/Branch_1/Conv3d_0b_3x3/weight_scale' is missing", NULL);
}

static void missing_activation_scale(void **state)
{
    (void)state;
    int8_file f;
    file_read(&f);
    file_remove(&f, "Mixed_4e/activation_scale");
    const char *path = file_write(&f, "int8file-missing-point.safetensors");
    file_free(&f);
    expect_refused(path, "tensor 'Mixed_4e/activation_scale' is missing", NULL);
}

static void weights_s8_stored_as_f32(void **state)
{
    (void)state;
    int8_file f;
    file_read(&f);
    vb_tensor_view *w = file_tensor(&f, "Conv3d_2b_1x1/weights_s8");
    const int64_t shape[5] = {w->shape[0], w->shape[1], w->shape[2], w->shape[3], w->shape[4]};
    file_reshape(&f, w->name, VB_DTYPE_F32, 5, shape);
    const char *path = file_write(&f, "int8file-f32-weights.safetensors");
    file_free(&f);
    expect_refused(path, "tensor 'Conv3d_2b_1x1/weights_s8' is not I8 [", NULL);
}

/* Conv3d_2c reads Conv3d_2b's output: one input channel more than 2b writes does not chain. */
static void input_channels_do_not_chain(void **state)
{
    (void)state;
    int8_file f;
    file_read(&f);
    vb_tensor_view *w = file_tensor(&f, "Conv3d_2c_3x3/weights_s8");
    const int64_t cin = w->shape[3];
    assert_int_equal(cin, file_tensor(&f, "Conv3d_2b_1x1/weights_s8")->shape[4]);
    const int64_t shape[5] = {3, 3, 3, cin + 1, w->shape[4]};
    file_reshape(&f, w->name, VB_DTYPE_I8, 5, shape);
    const char *path = file_write(&f, "int8file-cin.safetensors");
    file_free(&f);
    char want[64];
    snprintf(want, sizeof want, "is not I8 [3,3,3,%lld,", (long long)cin);
    expect_refused(path, "tensor 'Conv3d_2c_3x3/weights_s8'", want);
}

static void wrong_kernel_dims(void **state)
{
    (void)state;
    int8_file f;
    file_read(&f);
    vb_tensor_view *w = file_tensor(&f, "Mixed_3b/Branch_1/Conv3d_0b_3x3/weights_s8");
    const int64_t shape[5] = {1, 3, 3, w->shape[3], w->shape[4]};   /* a 2D kernel where i3d.py has 3x3x3 */
    file_reshape(&f, w->name, VB_DTYPE_I8, 5, shape);
    const char *path = file_write(&f, "int8file-kernel.safetensors");
    file_free(&f);
    expect_refused(path, "tensor 'Mixed_3b/Branch_1/Conv3d_0b_3x3/weights_s8' is not I8 [3,3,3,", NULL);
}

static void weight_scale_not_positive_or_finite(void **state)
{
    (void)state;
    const float bad[] = {0.0f, -0.5f, NAN, INFINITY};
    const char *shown[] = {"holds 0 at 1", "holds -0.5 at 1", "holds nan at 1", "holds inf at 1"};
    for (int i = 0; i < 4; i++) {
        int8_file f;
        file_read(&f);
        file_set_float(&f, "Mixed_4d/Branch_0/Conv3d_0a_1x1/weight_scale", 1, bad[i]);
        char name[64];
        snprintf(name, sizeof name, "int8file-weight-scale-%d.safetensors", i);
        const char *path = file_write(&f, name);
        file_free(&f);
        expect_refused(path, "tensor 'Mixed_4d/Branch_0/Conv3d_0a_1x1/weight_scale'", shown[i]);
        expect_refused(path, "scales must be finite and positive", NULL);
    }
}

static void bias_nan(void **state)
{
    (void)state;
    int8_file f;
    file_read(&f);
    file_set_float(&f, "Conv3d_2c_3x3/bias", 0, NAN);
    const char *path = file_write(&f, "int8file-bias-nan.safetensors");
    file_free(&f);
    expect_refused(path, "tensor 'Conv3d_2c_3x3/bias' holds nan at 0", "not finite");
}

static void logits_weight_inf(void **state)
{
    (void)state;
    int8_file f;
    file_read(&f);
    file_set_float(&f, "Logits/Conv3d_0c_1x1/weights", 3, -INFINITY);
    const char *path = file_write(&f, "int8file-logits-inf.safetensors");
    file_free(&f);
    expect_refused(path, "tensor 'Logits/Conv3d_0c_1x1/weights' holds -inf at 3", "not finite");
}

static void activation_scale_zero_or_nan(void **state)
{
    (void)state;
    const float bad[] = {0.0f, NAN, -1.0f};
    const char *shown[] = {"holds 0 at 0", "holds nan at 0", "holds -1 at 0"};
    for (int i = 0; i < 3; i++) {
        int8_file f;
        file_read(&f);
        file_set_float(&f, "Mixed_4b/activation_scale", 0, bad[i]);
        char name[64];
        snprintf(name, sizeof name, "int8file-act-scale-%d.safetensors", i);
        const char *path = file_write(&f, name);
        file_free(&f);
        expect_refused(path, "tensor 'Mixed_4b/activation_scale'", shown[i]);
    }
}

/* Scales that are finite and positive but put the u8 arithmetic out of float's range: the
 * message comes from i3d_quant_prepare. Each point is tried in turn, the network's first
 * (Conv3d_1a: read by one conv, written from the clip), a middle one and the last (Mixed_5c:
 * read by the fp32 logits head only); each scale huge and tiny. */
static void activation_scale_extreme(void **state)
{
    (void)state;
    const char *points[] = {"Conv3d_1a_7x7", "Mixed_4b", "Mixed_4b/Branch_1/Conv3d_0a_1x1", "Mixed_5c"};
    const float extreme[] = {1e38f, 1e-38f, 3.4e38f, 1e-45f};
    for (size_t p = 0; p < sizeof points / sizeof points[0]; p++)
        for (size_t i = 0; i < sizeof extreme / sizeof extreme[0]; i++) {
            int8_file f;
            file_read(&f);
            char tensor[128], name[64];
            snprintf(tensor, sizeof tensor, "%s/activation_scale", points[p]);
            file_set_float(&f, tensor, 0, extreme[i]);
            snprintf(name, sizeof name, "int8file-act-extreme-%zu-%zu.safetensors", p, i);
            const char *path = file_write(&f, name);
            file_free(&f);
            expect_refused(path, "scales out of range", NULL);
        }
}

static void weight_scale_extreme(void **state)
{
    (void)state;
    const float extreme[] = {1e38f, 1e-40f};
    for (int i = 0; i < 2; i++) {
        int8_file f;
        file_read(&f);
        file_fill_float(&f, "Mixed_5b/Branch_3/Conv3d_0b_1x1/weight_scale", extreme[i]);
        char name[64];
        snprintf(name, sizeof name, "int8file-weight-extreme-%d.safetensors", i);
        const char *path = file_write(&f, name);
        file_free(&f);
        expect_refused(path, "scales out of range", "Mixed_5b/Branch_3/Conv3d_0b_1x1");
    }
}

static void extra_tensor(void **state)
{
    (void)state;
    int8_file f;
    file_read(&f);
    assert_true(f.n < MAX_TENSORS);
    float *junk = calloc(4, sizeof(float));
    assert_non_null(junk);
    f.views[f.n++] = (vb_tensor_view){.name = strdup("Mixed_4b/Branch_4/weights_s8"), .dtype = VB_DTYPE_F32, .ndim = 1,
                                      .shape = {4}, .data = junk, .size_bytes = 16};
    const char *path = file_write(&f, "int8file-extra.safetensors");
    file_free(&f);
    expect_refused(path, "unexpected tensor 'Mixed_4b/Branch_4/weights_s8'", NULL);
}

static void format_version_2(void **state)
{
    (void)state;
    int8_file f;
    file_read(&f);
    assert_string_equal(f.version, "1");
    snprintf(f.version, sizeof f.version, "2");
    const char *path = file_write(&f, "int8file-v2.safetensors");
    file_free(&f);
    expect_refused(path, "format version '2' is not supported", NULL);
}

/* Conv3d_2b made 2408 channels wide: Conv3d_2c then reads 27 x 2408 = 65016 values per output,
 * over MAX_FAN_IN (65000), where 255 x 128 x fan-in nears 2^31 in the int32 accumulator. */
static void fan_in_over_int8_limit(void **state)
{
    (void)state;
    int8_file f;
    file_read(&f);
    const int64_t cin = file_tensor(&f, "Conv3d_2b_1x1/weights_s8")->shape[3], wide = 2408;
    const int64_t wshape[5] = {1, 1, 1, cin, wide}, vshape[1] = {wide};
    file_reshape(&f, "Conv3d_2b_1x1/weights_s8", VB_DTYPE_I8, 5, wshape);
    file_reshape(&f, "Conv3d_2b_1x1/weight_scale", VB_DTYPE_F32, 1, vshape);
    file_fill_float(&f, "Conv3d_2b_1x1/weight_scale", 1.0f);
    file_reshape(&f, "Conv3d_2b_1x1/bias", VB_DTYPE_F32, 1, vshape);
    const char *path = file_write(&f, "int8file-fan-in.safetensors");
    file_free(&f);
    expect_refused(path, "Conv3d_2c_3x3 reads 65016 values per output", "over the int8 limit of 65000");
}

static void truncated_file(void **state)
{
    (void)state;
    FILE *in = fopen(int8_path, "rb");
    assert_non_null(in);
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    rewind(in);
    unsigned char *bytes = malloc((size_t)size);
    assert_non_null(bytes);
    assert_int_equal(fread(bytes, 1, (size_t)size, in), (size_t)size);
    fclose(in);
    const long cuts[] = {size - 1, size / 2, 100, 7};
    for (int i = 0; i < 4; i++) {
        char name[64];
        snprintf(name, sizeof name, "int8file-truncated-%d.safetensors", i);
        const char *path = temp_path(name);
        FILE *out = fopen(path, "wb");
        assert_non_null(out);
        assert_int_equal(fwrite(bytes, 1, (size_t)cuts[i], out), (size_t)cuts[i]);
        assert_int_equal(fclose(out), 0);
        vb_i3d *model = NULL;
        vb_error err;
        int rc = open_model(path, VB_I3D_BACKEND_REFERENCE, VB_I3D_PRECISION_INT8, &model, &err);
        printf("  %s (%ld of %ld bytes) -> %s\n", name, cuts[i], size, rc ? err.message : "(opened)");
        vb_i3d_free(&model);
        assert_true(rc < 0);
        if (!strstr(err.message, path))
            fail_msg("the message does not name the file: %s", err.message);
    }
    free(bytes);
}

/* ---- which precision runs ---- */

static void int8_asked_of_fp32_file(void **state)
{
    (void)state;
    expect_refused_with(fp32_path, VB_I3D_BACKEND_ONEDNN, VB_I3D_PRECISION_INT8, "holds fp32 weights",
                        "`vidbench model quantize`");
    expect_refused_with(fp32_path, VB_I3D_BACKEND_REFERENCE, VB_I3D_PRECISION_INT8, "holds fp32 weights",
                        "`vidbench model quantize`");
}

static void fp32_or_bf16_asked_of_int8_file(void **state)
{
    (void)state;
    expect_refused_with(int8_path, VB_I3D_BACKEND_ONEDNN, VB_I3D_PRECISION_FP32, "is an int8 model",
                        "precision int8");
    expect_refused_with(int8_path, VB_I3D_BACKEND_REFERENCE, VB_I3D_PRECISION_FP32, "is an int8 model", NULL);
    expect_refused_with(int8_path, VB_I3D_BACKEND_ONEDNN, VB_I3D_PRECISION_BF16, "is an int8 model", NULL);
}

static void auto_on_int8_file_runs_int8(void **state)
{
    (void)state;
    const vb_i3d_backend backends[] = {VB_I3D_BACKEND_REFERENCE, VB_I3D_BACKEND_ONEDNN};
    for (int b = 0; b < 2; b++) {
        vb_i3d *model = NULL;
        vb_error err;
        if (open_model(int8_path, backends[b], VB_I3D_PRECISION_AUTO, &model, &err))
            fail_msg("auto on %s (%s): %s", int8_path, vb_i3d_backend_name(backends[b]), err.message);
        printf("  auto, %s: %s, ISA %s, note '%s'\n", vb_i3d_backend_name(backends[b]),
               vb_i3d_precision_name(vb_i3d_get_precision(model)), vb_i3d_isa(model), vb_i3d_note(model));
        assert_int_equal(vb_i3d_get_precision(model), VB_I3D_PRECISION_INT8);
        vb_i3d_free(&model);
    }
    /* and auto on the fp32 file stays fp32 */
    vb_i3d *model = NULL;
    vb_error err;
    if (open_model(fp32_path, VB_I3D_BACKEND_REFERENCE, VB_I3D_PRECISION_AUTO, &model, &err))
        fail_msg("auto on %s: %s", fp32_path, err.message);
    assert_int_equal(vb_i3d_get_precision(model), VB_I3D_PRECISION_FP32);
    vb_i3d_free(&model);
}

static void bf16_on_reference_refused(void **state)
{
    (void)state;
    vb_i3d *model = NULL;
    vb_error err;
    int rc = open_model(fp32_path, VB_I3D_BACKEND_REFERENCE, VB_I3D_PRECISION_BF16, &model, &err);
    printf("  bf16, reference -> %s\n", rc ? err.message : "(opened)");
    vb_i3d_free(&model);
    assert_true(rc < 0);
    assert_non_null(strstr(err.message, "bf16 runs on the oneDNN backend only"));
}

/* AMX as the kernel reports it (/proc/cpuinfo's amx_tile flag: CPU and OS support). */
static int cpu_has_amx(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return 0;
    char line[8192];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = !strncmp(line, "flags", 5) && strstr(line, " amx_tile");
    fclose(f);
    return found;
}

static void bf16_on_onednn(void **state)
{
    (void)state;
    vb_i3d *model = NULL;
    vb_error err;
    if (open_model(fp32_path, VB_I3D_BACKEND_ONEDNN, VB_I3D_PRECISION_BF16, &model, &err))
        fail_msg("bf16 on oneDNN: %s", err.message);
    const int amx = cpu_has_amx() && !getenv("VIDBENCH_MAX_ISA");
    printf("  bf16, oneDNN (ISA %s, AMX %s): %s runs, note '%s'\n", vb_i3d_isa(model), amx ? "yes" : "no",
           vb_i3d_precision_name(vb_i3d_get_precision(model)), vb_i3d_note(model));
    if (amx) {
        assert_int_equal(vb_i3d_get_precision(model), VB_I3D_PRECISION_BF16);
        assert_string_equal(vb_i3d_note(model), "");
        float *clip = random_clip(VB_I3D_MIN_FRAMES, 5), logits[5];
        /* an all-[0,1] clip through bf16 gives finite logits */
        if (vb_i3d_forward(model, clip, 1, VB_I3D_MIN_FRAMES, logits, &err))
            fail_msg("bf16 forward: %s", err.message);
        for (int c = 0; c < 5; c++)
            assert_true(isfinite(logits[c]));
        free(clip);
    } else {
        assert_int_equal(vb_i3d_get_precision(model), VB_I3D_PRECISION_FP32);
        assert_non_null(strstr(vb_i3d_note(model), "bf16 needs AMX"));
        assert_non_null(strstr(vb_i3d_note(model), "fp32 ran"));
    }
    vb_i3d_free(&model);
}

static void movinet_refuses_fp32(void **state)
{
    (void)state;
    const char *weights = shared_path("models/movinet-a0-stream-int8-k600/movinet_a0_stream_int8.tflite");
    char weights_copy[4096];
    snprintf(weights_copy, sizeof weights_copy, "%s", weights);
    const char *labels = shared_path("models/movinet-a0-stream-int8-k600/kinetics600_label_map.txt");
    const vb_i3d_precision refused[] = {VB_I3D_PRECISION_FP32, VB_I3D_PRECISION_BF16};
    for (int i = 0; i < 2; i++) {
        vb_classifier_options options;
        vb_classifier_options_init(&options);
        options.precision = refused[i];
        vb_classifier *classifier = NULL;
        vb_error err = {0};
        int rc = vb_classifier_open(weights_copy, labels, &options, &classifier, &err);
        printf("  MoViNet, %s -> %s\n", vb_i3d_precision_name(refused[i]), rc ? err.message : "(opened)");
        vb_classifier_free(&classifier);
        assert_true(rc < 0);
        assert_non_null(strstr(err.message, vb_i3d_precision_name(refused[i])));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_file_loads_as_int8),
        cmocka_unit_test(missing_tensor),
        cmocka_unit_test(missing_activation_scale),
        cmocka_unit_test(weights_s8_stored_as_f32),
        cmocka_unit_test(input_channels_do_not_chain),
        cmocka_unit_test(wrong_kernel_dims),
        cmocka_unit_test(weight_scale_not_positive_or_finite),
        cmocka_unit_test(bias_nan),
        cmocka_unit_test(logits_weight_inf),
        cmocka_unit_test(activation_scale_zero_or_nan),
        cmocka_unit_test(activation_scale_extreme),
        cmocka_unit_test(weight_scale_extreme),
        cmocka_unit_test(extra_tensor),
        cmocka_unit_test(format_version_2),
        cmocka_unit_test(fan_in_over_int8_limit),
        cmocka_unit_test(truncated_file),
        cmocka_unit_test(int8_asked_of_fp32_file),
        cmocka_unit_test(fp32_or_bf16_asked_of_int8_file),
        cmocka_unit_test(auto_on_int8_file_runs_int8),
        cmocka_unit_test(bf16_on_reference_refused),
        cmocka_unit_test(bf16_on_onednn),
        cmocka_unit_test(movinet_refuses_fp32),
    };
    return cmocka_run_group_tests(tests, write_valid_file, NULL);
}
