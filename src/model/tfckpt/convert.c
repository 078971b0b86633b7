/* TensorFlow checkpoint -> safetensors conversion for the I3D engine: model tensors only
 * (optimizer slots and bookkeeping dropped), BatchNorm parameters as 1-D vectors, names kept,
 * every tensor's crc32c verified on the way, metadata describing the model. */
#define _GNU_SOURCE
#include "vidbench/tfckpt.h"
#include "vidbench/download.h"
#include "vidbench/labels.h"
#include "vidbench/version.h"
#include "common/fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Label maps are a few KB; this guards the embedded copy against a wrong file. */
#define MAX_LABELS_BYTES (1u << 20)

static const char *last_component(const char *name)
{
    const char *slash = strrchr(name, '/');
    return slash ? slash + 1 : name;
}

int vb_tfckpt_is_model_tensor(const char *name)
{
    /* Slots TensorFlow optimizers add beside each variable, and training bookkeeping. */
    static const char *const dropped_leaves[] = {
        "Momentum", "Adam", "Adam_1", "RMSProp", "RMSProp_1", "Adagrad", "Ftrl", "Ftrl_1",
        "ExponentialMovingAverage", "global_step", "beta1_power", "beta2_power",
    };
    const char *leaf = last_component(name);
    for (size_t i = 0; i < sizeof dropped_leaves / sizeof dropped_leaves[0]; i++)
        if (strcmp(leaf, dropped_leaves[i]) == 0)
            return 0;
    return 1;
}

/* BatchNorm parameters of rgb_scratch_kin600 are stored 1x1x1x1xC (broadcast shape);
 * rgb_imagenet stores them as C. The engine takes the 1-D form. */
static int is_batch_norm_param(const char *name)
{
    if (!strstr(name, "/batch_norm/"))
        return 0;
    const char *leaf = last_component(name);
    return !strcmp(leaf, "beta") || !strcmp(leaf, "gamma") || !strcmp(leaf, "moving_mean") ||
           !strcmp(leaf, "moving_variance");
}

int vb_tfckpt_convert(const char *prefix, const char *out_path, const vb_convert_options *options,
                      vb_convert_report *report, vb_error *err)
{
    vb_convert_options defaults = {0};
    if (!options)
        options = &defaults;
    vb_convert_report local_report;
    if (!report)
        report = &local_report;
    memset(report, 0, sizeof *report);

    vb_tfckpt *ckpt = NULL;
    vb_tensor_view *views = NULL;
    uint8_t *data = NULL;
    char *labels_text = NULL;
    vb_labels labels = {0};
    char *index_path = NULL;
    int rc = vb_tfckpt_open(prefix, &ckpt, err);
    if (rc)
        return rc;
    /* Before anything is sized by the index's claims: they must match the shard files. */
    if ((rc = vb_tfckpt_check_shard_files(ckpt, err)))
        goto done;
    if (asprintf(&index_path, "%s.index", prefix) < 0) {
        index_path = NULL;
        rc = vb_error_set(err, VB_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = vb_sha256_file(index_path, report->index_sha256, err)))
        goto done;

    int count = vb_tfckpt_count(ckpt);
    size_t total_bytes = 0;
    for (int i = 0; i < count; i++) {
        const vb_tfckpt_entry *e = vb_tfckpt_at(ckpt, i);
        if (!vb_tfckpt_is_model_tensor(e->name)) {
            report->tensors_dropped++;
            continue;
        }
        if (e->dtype < 0) {
            rc = vb_error_set(err, VB_EUNSUPPORTED, "%s: tensor '%s' has dtype %s, which safetensors "
                              "cannot hold", index_path, e->name, vb_tf_dtype_name(e->tf_dtype));
            goto done;
        }
        if ((uint64_t)e->size_bytes > ((uint64_t)16 << 30) - total_bytes) {
            rc = vb_error_set(err, VB_ELIMIT, "%s: model tensors exceed 16 GiB", index_path);
            goto done;
        }
        total_bytes += (size_t)e->size_bytes;
        report->tensors_kept++;
    }
    views = calloc((size_t)report->tensors_kept + 1, sizeof *views);
    data = malloc(total_bytes ? total_bytes : 1);
    if (!views || !data) {
        rc = vb_error_set(err, VB_ENOMEM, "%s: out of memory (%zu bytes of tensors)", prefix, total_bytes);
        goto done;
    }
    size_t offset = 0;
    int kept = 0;
    for (int i = 0; i < count; i++) {
        const vb_tfckpt_entry *e = vb_tfckpt_at(ckpt, i);
        if (!vb_tfckpt_is_model_tensor(e->name))
            continue;
        if ((rc = vb_tfckpt_read(ckpt, e, data + offset, total_bytes - offset, err)))
            goto done;
        vb_tensor_view *v = &views[kept++];
        v->name = e->name;
        v->dtype = (vb_dtype)e->dtype;
        v->data = data + offset;
        v->size_bytes = (size_t)e->size_bytes;
        int squeeze = is_batch_norm_param(e->name) && e->ndim > 1;
        for (int d = 0; squeeze && d < e->ndim - 1; d++)
            squeeze = e->shape[d] == 1;
        if (squeeze) {
            v->ndim = 1;
            v->shape[0] = e->shape[e->ndim - 1];
        } else {
            v->ndim = e->ndim;
            memcpy(v->shape, e->shape, sizeof v->shape);
        }
        if (fs_ends_with(e->name, "Logits/Conv3d_0c_1x1/conv_3d/b") && e->ndim == 1)
            report->classes = (int)e->shape[0];
        offset += (size_t)e->size_bytes;
    }

    if (options->labels_path) {
        size_t labels_size;
        if ((rc = vb_labels_load(options->labels_path, &labels, err)) ||
            (rc = fs_read_file(options->labels_path, MAX_LABELS_BYTES, &labels_text, &labels_size, err)))
            goto done;
        if (report->classes && labels.count != report->classes) {
            rc = vb_error_set(err, VB_ESHAPE, "%s: %d labels, but checkpoint %s has %d classes",
                              options->labels_path, labels.count, prefix, report->classes);
            goto done;
        }
    }
    char classes_text[32];
    snprintf(classes_text, sizeof classes_text, "%d", report->classes);
    const char *metadata[2 * 9];
    int n_meta = 0;
#define META(key, value) (metadata[2 * n_meta] = (key), metadata[2 * n_meta + 1] = (value), n_meta++)
    META("format", "pt");   /* what other safetensors readers expect to find */
    META("architecture", options->architecture ? options->architecture : "i3d");
    META("classes", classes_text);
    /* What the network itself expects; vb_i3d_forward takes [0,1] and maps 2x-1. */
    META("input_range", "[-1,1]");
    META("input_layout", "NTHWC RGB 224x224");
    META("source_index_sha256", report->index_sha256);
    META("converter", "vidbench " VB_VERSION_STRING);
    if (options->model_name)
        META("model", options->model_name);
    if (labels_text)
        META("labels", labels_text);
#undef META
    rc = vb_safetensors_write(out_path, views, kept, metadata, n_meta, err);
done:
    vb_labels_free(&labels);
    free(labels_text);
    free(index_path);
    free(views);
    free(data);
    vb_tfckpt_free(&ckpt);
    return rc;
}
