/* int8 calibration: fp32 runs of calibration clips with the oneDNN backend handing every
 * quantization point's tensor to a histogram, then thresholds by the chosen method and the int8
 * file (quant.c). */
#include "model/i3d/calibrate.h"
#include "model/i3d/quant.h"

#include <stdlib.h>
#include <string.h>

struct vb_i3d_calibrator {
    vb_i3d *model;
    const i3d_net *net;
    i3d_histogram *histogram[I3D_MAX_POINTS];
    int clips;
};

int vb_i3d_calibration_from_name(const char *name)
{
    return i3d_calibration_method_from_name(name);
}

const char *vb_i3d_calibration_name(vb_i3d_calibration method)
{
    return i3d_calibration_method_name((i3d_calibration_method)method);
}

static void record(void *ctx, int point, const float *values, int64_t count)
{
    vb_i3d_calibrator *cal = ctx;
    i3d_histogram_add(cal->histogram[point], values, count);
}

int vb_i3d_calibrator_new(vb_i3d *model, vb_i3d_calibrator **out, vb_error *err)
{
    *out = NULL;
    void *state = i3d_model_onednn_fp32_state(model);
    if (!state)
        return vb_error_set(err, VB_EINVAL, "I3D calibration needs an fp32 model on the oneDNN backend");
    vb_i3d_calibrator *cal = calloc(1, sizeof *cal);
    if (!cal)
        return vb_error_set(err, VB_ENOMEM, "I3D calibration: out of memory");
    cal->model = model;
    cal->net = i3d_model_net(model);
    int rc = 0;
    for (int p = 0; p < cal->net->num_points && !rc; p++)
        rc = i3d_histogram_new(&cal->histogram[p], err);
    if (!rc)
        rc = i3d_onednn_set_observer(state, record, cal, err);
    if (rc) {
        vb_i3d_calibrator_free(&cal);
        return rc;
    }
    *out = cal;
    return 0;
}

void vb_i3d_calibrator_free(vb_i3d_calibrator **calibrator)
{
    if (!calibrator || !*calibrator)
        return;
    vb_i3d_calibrator *cal = *calibrator;
    void *state = i3d_model_onednn_fp32_state(cal->model);
    if (state)
        i3d_onednn_set_observer(state, NULL, NULL, NULL);
    for (int p = 0; p < I3D_MAX_POINTS; p++)
        i3d_histogram_free(&cal->histogram[p]);
    free(cal);
    *calibrator = NULL;
}

int vb_i3d_calibrator_add(vb_i3d_calibrator *cal, const float *input, int batch, int frames, vb_error *err)
{
    const int classes = vb_i3d_num_classes(cal->model);
    float *logits = malloc((size_t)batch * classes * sizeof(float));
    if (!logits)
        return vb_error_set(err, VB_ENOMEM, "I3D calibration: out of memory");
    int rc = vb_i3d_forward(cal->model, input, batch, frames, logits, err);
    free(logits);
    if (!rc)
        cal->clips += batch;
    return rc;
}

int vb_i3d_calibrator_clips(const vb_i3d_calibrator *cal)
{
    return cal->clips;
}

int vb_i3d_calibrator_write(const vb_i3d_calibrator *cal, const char *path, vb_i3d_calibration method,
                            const char *const *metadata, int n_metadata, vb_error *err)
{
    if (cal->clips < 1)
        return vb_error_set(err, VB_EINVAL, "%s: no calibration clips were run", path);
    float threshold[I3D_MAX_POINTS] = {0};
    for (int p = 0; p < cal->net->num_points; p++) {
        int rc = i3d_histogram_threshold(cal->histogram[p], (i3d_calibration_method)method, 99.99, &threshold[p], err);
        if (rc)
            return rc;
    }
    return i3d_quant_write(path, cal->net, threshold, metadata, n_metadata, err);
}
