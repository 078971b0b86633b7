/* The model registry: built-in models with pinned sources, optional test/mirror models from a
 * JSON manifest ($VIDBENCH_MODEL_MANIFEST; may add models, never redefine built-ins), the
 * cache layout under $VIDBENCH_HOME, and vb_model_resolve for every verb that takes --model. */
#define _GNU_SOURCE
#include "vidbench/models.h"
#include "vidbench/download.h"
#include "common/fsutil.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KI3D VB_MODEL_DEFAULT_BASE_URL
#define MAX_MANIFEST_BYTES (1u << 20)

/* sha256 pins computed from the copies in ../shared (data/PROVENANCE.tsv gives the same
 * values for deepmind/kinetics-i3d @ 0667e889). The data shards are not pinned by hash: the
 * pinned index carries a crc32c for every tensor and the shard size (entries tile it). */
#define SHA_RGB_IMAGENET_INDEX "f4bfd6f4af485f276c68333d3eca3697b691bb647f0167a03fe021147ca7f8eb"
#define SHA_RGB_KIN600_INDEX "366815af85b76e46222db13761f087584b3dc9c56abf67b822949846302e432a"
#define SHA_LABEL_MAP_400 "e9f2806fe9109b851a80a74841244f6f8c9d10917fa0229cd82bab67f2f8e28f"
#define SHA_LABEL_MAP_600 "8dfca4202520ea8291ce0242ef33b006d0a0772b409663c090a2876bc1978dcf"
#define SHA_OUT_IMAGENET_RGB "6c54c379a5f6bea37c3b05b715e13d9553bd9b0a6eacce3fea4b748b4a7cb3d1"
#define SHA_MOVINET_A0_INT8 "6125b36e2485eeb5cc1fd6206cf5e5d70235593fbc84610d1dce97fe3aa9c2ac"

static const vb_model_info builtin_models[] = {
    {
        .name = "i3d-kinetics-400",
        .description = "DeepMind I3D RGB, ImageNet-inflated, trained on Kinetics-400 (checkpoint rgb_imagenet; "
                       "the model TF Hub serves as i3d-kinetics-400)",
        .architecture = "i3d",
        .format = VB_MODEL_FORMAT_TF_CHECKPOINT,
        .classes = 400,
        .input_spec = "[batch,frames,224,224,3] RGB; network range [-1,1] (vb_i3d_forward takes [0,1])",
        .origin = "built-in",
        .n_files = 5,
        .files = {
            {VB_MODEL_FILE_INDEX, KI3D "data/checkpoints/rgb_imagenet/model.ckpt.index",
             "data/checkpoints/rgb_imagenet/model.ckpt.index", "model.ckpt.index", SHA_RGB_IMAGENET_INDEX, 10953},
            {VB_MODEL_FILE_LABELS, KI3D "data/label_map.txt", "data/label_map.txt", "labels.txt",
             SHA_LABEL_MAP_400, 5956},
            {VB_MODEL_FILE_DATA, KI3D "data/checkpoints/rgb_imagenet/model.ckpt.data-00000-of-00001",
             "data/checkpoints/rgb_imagenet/model.ckpt.data-00000-of-00001", "model.ckpt.data-00000-of-00001",
             NULL, 50818176},
            /* DeepMind's published check (evaluate_sample.py): not pinned by hash upstream;
             * its shape [1,79,224,224,3] is checked when read. */
            {VB_MODEL_FILE_SAMPLE, KI3D "data/v_CricketShot_g04_c01_rgb.npy", "data/v_CricketShot_g04_c01_rgb.npy",
             "v_CricketShot_g04_c01_rgb.npy", NULL, -1},
            {VB_MODEL_FILE_REFERENCE, KI3D "out/imagenet_rgb.txt", "out/imagenet_rgb.txt", "imagenet_rgb.txt",
             SHA_OUT_IMAGENET_RGB, 821},
        },
    },
    {
        .name = "i3d-kinetics-600",
        .description = "DeepMind I3D RGB trained from scratch on Kinetics-600 (checkpoint rgb_scratch_kin600)",
        .architecture = "i3d",
        .format = VB_MODEL_FORMAT_TF_CHECKPOINT,
        .classes = 600,
        .input_spec = "[batch,frames,224,224,3] RGB; network range [-1,1] (vb_i3d_forward takes [0,1])",
        .origin = "built-in",
        .n_files = 3,
        .files = {
            {VB_MODEL_FILE_INDEX, KI3D "data/checkpoints/rgb_scratch_kin600/model.ckpt.index",
             "data/checkpoints/rgb_scratch_kin600/model.ckpt.index", "model.ckpt.index", SHA_RGB_KIN600_INDEX, 19632},
            {VB_MODEL_FILE_LABELS, KI3D "data/label_map_600.txt", "data/label_map_600.txt", "labels.txt",
             SHA_LABEL_MAP_600, 9209},
            {VB_MODEL_FILE_DATA, KI3D "data/checkpoints/rgb_scratch_kin600/model.ckpt.data-00000-of-00001",
             "data/checkpoints/rgb_scratch_kin600/model.ckpt.data-00000-of-00001", "model.ckpt.data-00000-of-00001",
             NULL, 103218112},
        },
    },
    {
        .name = "movinet-a0-stream-k600",
        .description = "Google MoViNet-A0-Stream, Kinetics-600, TensorFlow Lite int8 (TF Hub "
                       "tensorflow/lite-model/movinet/a0/stream/kinetics-600/classification/tflite/int8/1)",
        .architecture = "movinet-a0-stream",
        .format = VB_MODEL_FORMAT_TFLITE,
        .classes = 600,
        .input_spec = "one RGB frame [1,1,172,172,3] in [0,1] per call, 43 state tensors carried over",
        .origin = "built-in",
        .n_files = 2,
        .files = {
            {VB_MODEL_FILE_TFLITE,
             "https://tfhub.dev/tensorflow/lite-model/movinet/a0/stream/kinetics-600/classification/tflite/int8/1"
             "?lite-format=tflite",
             "models/movinet-a0-stream-int8-k600/movinet_a0_stream_int8.tflite", "model.tflite",
             SHA_MOVINET_A0_INT8, 3276048},
            /* Byte-identical to kinetics-i3d data/label_map_600.txt (its PROVENANCE.txt). */
            {VB_MODEL_FILE_LABELS, KI3D "data/label_map_600.txt",
             "models/movinet-a0-stream-int8-k600/kinetics600_label_map.txt", "labels.txt", SHA_LABEL_MAP_600, 9209},
        },
    },
};

#define N_BUILTIN ((int)(sizeof builtin_models / sizeof builtin_models[0]))

struct vb_model_registry {
    int count;
    vb_model_info *models;
    int n_strings;
    char **strings;      /* owned copies of manifest strings */
};

int vb_model_registry_count(const vb_model_registry *registry) { return registry->count; }

const vb_model_info *vb_model_registry_at(const vb_model_registry *registry, int index)
{
    return index >= 0 && index < registry->count ? &registry->models[index] : NULL;
}

const vb_model_info *vb_model_registry_find(const vb_model_registry *registry, const char *name)
{
    for (int i = 0; i < registry->count; i++)
        if (strcmp(registry->models[i].name, name) == 0)
            return &registry->models[i];
    return NULL;
}

const vb_model_file *vb_model_find_file(const vb_model_info *model, vb_model_file_role role)
{
    for (int i = 0; i < model->n_files; i++)
        if (model->files[i].role == role)
            return &model->files[i];
    return NULL;
}

void vb_model_registry_free(vb_model_registry **registry)
{
    if (!registry || !*registry)
        return;
    for (int i = 0; i < (*registry)->n_strings; i++)
        free((*registry)->strings[i]);
    free((*registry)->strings);
    free((*registry)->models);
    free(*registry);
    *registry = NULL;
}

/* Keeps a copy of a manifest string alive as long as the registry. */
static const char *keep_string(vb_model_registry *registry, const char *text)
{
    char **grown = realloc(registry->strings, ((size_t)registry->n_strings + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    registry->strings = grown;
    char *copy = strdup(text);
    if (copy)
        registry->strings[registry->n_strings++] = copy;
    return copy;
}

static int is_sha256_hex(const char *text)
{
    if (strlen(text) != 64)
        return 0;
    for (int i = 0; i < 64; i++)
        if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f')))
            return 0;
    return 1;
}

/* Mirror paths must stay below the base URL / --from directory. */
static int is_safe_relative_path(const char *path)
{
    if (!*path || path[0] == '/' || strstr(path, "..") || strchr(path, '\\') || strchr(path, '?') ||
        vb_url_escapes_root(path)) /* %2e%2e: a file:// base URL decodes it */
        return 0;
    return 1;
}

static const char *json_string(const cJSON *object, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

static int parse_role(const char *text, vb_model_file_role *role)
{
    static const struct { const char *name; vb_model_file_role role; } roles[] = {
        {"index", VB_MODEL_FILE_INDEX}, {"data", VB_MODEL_FILE_DATA}, {"labels", VB_MODEL_FILE_LABELS},
        {"tflite", VB_MODEL_FILE_TFLITE}, {"sample", VB_MODEL_FILE_SAMPLE}, {"reference", VB_MODEL_FILE_REFERENCE},
    };
    for (size_t i = 0; text && i < sizeof roles / sizeof roles[0]; i++)
        if (!strcmp(text, roles[i].name)) {
            *role = roles[i].role;
            return 1;
        }
    return 0;
}

static const char *default_install_name(vb_model_file_role role)
{
    switch (role) {
    case VB_MODEL_FILE_INDEX: return "model.ckpt.index";
    case VB_MODEL_FILE_DATA: return "model.ckpt.data-00000-of-00001";
    case VB_MODEL_FILE_LABELS: return "labels.txt";
    case VB_MODEL_FILE_TFLITE: return "model.tflite";
    case VB_MODEL_FILE_SAMPLE: return "sample.npy";
    case VB_MODEL_FILE_REFERENCE: return "reference.txt";
    }
    return "file";
}

#define KEEP(dst, text)                                                   \
    do {                                                                  \
        if (!((dst) = keep_string(registry, (text))))                     \
            return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path); \
    } while (0)

static int parse_manifest_model(vb_model_registry *registry, const cJSON *item, const char *path,
                                vb_model_info *model, vb_error *err)
{
    const char *name = json_string(item, "name");
    if (!name || !*name || strlen(name) > 100 || strchr(name, '/') || name[0] == '.')
        return vb_error_set(err, VB_EFORMAT, "%s: every model needs a plain \"name\"", path);
    for (int i = 0; i < N_BUILTIN; i++)
        if (!strcmp(builtin_models[i].name, name))
            return vb_error_set(err, VB_EEXIST, "%s: model '%s' is built in; a manifest may add models "
                                "but not redefine built-in ones (their pins stay fixed)", path, name);
    if (vb_model_registry_find(registry, name))
        return vb_error_set(err, VB_EEXIST, "%s: model '%s' defined twice", path, name);
    memset(model, 0, sizeof *model);
    KEEP(model->name, name);
    KEEP(model->origin, path);
    const char *text = json_string(item, "description");
    KEEP(model->description, text ? text : "(from manifest)");
    text = json_string(item, "architecture");
    KEEP(model->architecture, text ? text : "i3d");
    text = json_string(item, "input");
    KEEP(model->input_spec, text ? text : "[batch,frames,224,224,3] RGB");
    text = json_string(item, "format");
    if (!text || !strcmp(text, "tf-checkpoint"))
        model->format = VB_MODEL_FORMAT_TF_CHECKPOINT;
    else if (!strcmp(text, "tflite"))
        model->format = VB_MODEL_FORMAT_TFLITE;
    else
        return vb_error_set(err, VB_EFORMAT, "%s: model '%s': unknown format '%s'", path, name, text);
    const cJSON *classes = cJSON_GetObjectItemCaseSensitive(item, "classes");
    model->classes = cJSON_IsNumber(classes) && classes->valuedouble >= 1 && classes->valuedouble <= 100000
                         ? (int)classes->valuedouble : 0;
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(item, "files");
    const cJSON *file;
    cJSON_ArrayForEach(file, files) {
        if (model->n_files == VB_MODEL_MAX_FILES)
            return vb_error_set(err, VB_ELIMIT, "%s: model '%s': more than %d files", path, name, VB_MODEL_MAX_FILES);
        vb_model_file *f = &model->files[model->n_files];
        if (!parse_role(json_string(file, "role"), &f->role))
            return vb_error_set(err, VB_EFORMAT, "%s: model '%s': file %d needs a role (index, data, "
                                "labels, tflite, sample, reference)", path, name, model->n_files);
        const char *mirror_path = json_string(file, "path");
        if (!mirror_path || !is_safe_relative_path(mirror_path))
            return vb_error_set(err, VB_EUNSAFE, "%s: model '%s': file %d needs a relative \"path\" "
                                "without '..'", path, name, model->n_files);
        KEEP(f->mirror_path, mirror_path);
        char *url = NULL;
        const char *given_url = json_string(file, "url");
        if (given_url) {
            KEEP(f->url, given_url);
        } else {
            if (asprintf(&url, "%s%s", VB_MODEL_DEFAULT_BASE_URL, mirror_path) < 0)
                return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
            f->url = keep_string(registry, url);
            free(url);
            if (!f->url)
                return vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
        }
        KEEP(f->install_name, default_install_name(f->role));
        const char *sha = json_string(file, "sha256");
        if (sha) {
            if (!is_sha256_hex(sha))
                return vb_error_set(err, VB_EFORMAT, "%s: model '%s': sha256 '%s' is not 64 lowercase hex digits",
                                    path, name, sha);
            KEEP(f->sha256, sha);
        }
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(file, "size");
        f->size_bytes = cJSON_IsNumber(size) && size->valuedouble >= 0 && size->valuedouble < 9e15
                            ? (int64_t)size->valuedouble : -1;
        /* What anchors trust in the download: the index and labels (and a tflite) must be
         * pinned, as in the built-in models. */
        if (!f->sha256 && (f->role == VB_MODEL_FILE_INDEX || f->role == VB_MODEL_FILE_LABELS ||
                           f->role == VB_MODEL_FILE_TFLITE))
            return vb_error_set(err, VB_EFORMAT, "%s: model '%s': the %s file needs a sha256 pin", path,
                                name, f->install_name);
        model->n_files++;
    }
    int ok = model->format == VB_MODEL_FORMAT_TF_CHECKPOINT
                 ? vb_model_find_file(model, VB_MODEL_FILE_INDEX) && vb_model_find_file(model, VB_MODEL_FILE_DATA)
                 : vb_model_find_file(model, VB_MODEL_FILE_TFLITE) != NULL;
    if (!ok || !vb_model_find_file(model, VB_MODEL_FILE_LABELS))
        return vb_error_set(err, VB_EFORMAT, "%s: model '%s' lacks files: a checkpoint model needs index, "
                            "data and labels; a tflite model needs tflite and labels", path, name);
    return VB_OK;
}
#undef KEEP

int vb_model_registry_load_manifest(const char *manifest_path, vb_model_registry **out, vb_error *err)
{
    *out = NULL;
    vb_model_registry *registry = calloc(1, sizeof *registry);
    char *text = NULL;
    cJSON *root = NULL;
    int rc = VB_OK;
    if (!registry)
        return vb_error_set(err, VB_ENOMEM, "out of memory");
    int capacity = N_BUILTIN;
    cJSON *models = NULL;
    if (manifest_path && *manifest_path) {
        size_t size;
        if ((rc = fs_read_file(manifest_path, MAX_MANIFEST_BYTES, &text, &size, err)))
            goto fail;
        root = cJSON_ParseWithLength(text, size);
        models = cJSON_GetObjectItemCaseSensitive(root, "models");
        if (!cJSON_IsArray(models)) {
            rc = vb_error_set(err, VB_EFORMAT, "%s: not a model manifest (expected {\"models\": [...]})",
                              manifest_path);
            goto fail;
        }
        capacity += cJSON_GetArraySize(models);
    }
    registry->models = calloc((size_t)capacity, sizeof *registry->models);
    if (!registry->models) {
        rc = vb_error_set(err, VB_ENOMEM, "out of memory");
        goto fail;
    }
    memcpy(registry->models, builtin_models, sizeof builtin_models);
    registry->count = N_BUILTIN;
    const cJSON *item;
    cJSON_ArrayForEach(item, models) {
        if ((rc = parse_manifest_model(registry, item, manifest_path, &registry->models[registry->count], err)))
            goto fail;
        registry->count++;
    }
    cJSON_Delete(root);
    free(text);
    *out = registry;
    return VB_OK;
fail:
    cJSON_Delete(root);
    free(text);
    vb_model_registry_free(&registry);
    return rc;
}

int vb_model_registry_load(vb_model_registry **out, vb_error *err)
{
    return vb_model_registry_load_manifest(getenv("VIDBENCH_MODEL_MANIFEST"), out, err);
}

int vb_model_home(char *path, size_t path_size, vb_error *err)
{
    const char *home = getenv("VIDBENCH_HOME");
    int n;
    if (home && *home) {
        n = snprintf(path, path_size, "%s", home);
    } else {
        const char *user_home = getenv("HOME");
        if (!user_home || !*user_home)
            return vb_error_set(err, VB_ENOTFOUND, "neither VIDBENCH_HOME nor HOME is set: no model cache");
        n = snprintf(path, path_size, "%s/.cache/vidbench", user_home);
    }
    if (n < 0 || (size_t)n >= path_size)
        return vb_error_set(err, VB_ELIMIT, "model cache path too long");
    return VB_OK;
}

int vb_model_install_dir(const vb_model_info *model, char *path, size_t path_size, vb_error *err)
{
    char home[4096];
    int rc = vb_model_home(home, sizeof home, err);
    if (rc)
        return rc;
    int n = snprintf(path, path_size, "%s/models/%s", home, model->name);
    if (n < 0 || (size_t)n >= path_size)
        return vb_error_set(err, VB_ELIMIT, "%s: model cache path too long", model->name);
    return VB_OK;
}

int vb_model_installed_paths(const vb_model_info *model, vb_model_paths *paths)
{
    char dir[4096];
    vb_model_paths local;
    if (!paths)
        paths = &local;
    if (vb_model_install_dir(model, dir, sizeof dir, NULL))
        return 0;
    const char *weights = model->format == VB_MODEL_FORMAT_TFLITE ? "model.tflite" : "weights.safetensors";
    int n1 = snprintf(paths->weights, sizeof paths->weights, "%s/%s", dir, weights);
    int n2 = snprintf(paths->labels, sizeof paths->labels, "%s/labels.txt", dir);
    if (n1 < 0 || (size_t)n1 >= sizeof paths->weights || n2 < 0 || (size_t)n2 >= sizeof paths->labels)
        return 0;
    return fs_path_exists(paths->weights) && fs_path_exists(paths->labels);
}

int vb_model_file_url(const vb_model_file *file, const char *base_url, char *url, size_t url_size)
{
    int n;
    if (base_url && *base_url) {
        size_t len = strlen(base_url);
        n = snprintf(url, url_size, "%s%s%s", base_url, base_url[len - 1] == '/' ? "" : "/", file->mirror_path);
    } else {
        n = snprintf(url, url_size, "%s", file->url);
    }
    return n < 0 || (size_t)n >= url_size ? VB_ELIMIT : VB_OK;
}

int vb_model_resolve(const char *name, vb_model_paths *paths, vb_error *err)
{
    vb_model_registry *registry = NULL;
    int rc = vb_model_registry_load(&registry, err);
    if (rc)
        return rc;
    const vb_model_info *model = vb_model_registry_find(registry, name);
    if (!model) {
        rc = vb_error_set(err, VB_ENOTFOUND, "model '%s' is unknown ('vidbench model list' shows the "
                          "known models; --weights FILE takes an explicit file)", name);
    } else if (!vb_model_installed_paths(model, paths)) {
        char dir[4096] = "";
        vb_model_install_dir(model, dir, sizeof dir, NULL);
        rc = vb_error_set(err, VB_ENOTFOUND, "model '%s' is not installed in %s; install it with "
                          "'vidbench model fetch %s'", name, dir, name);
    }
    vb_model_registry_free(&registry);
    return rc;
}

int vb_model_resolve_default(vb_model_paths *paths, const char **name, vb_error *err)
{
    static const char *const defaults[] = {"i3d-kinetics-400", "movinet-a0-stream-k600"};
    int rc = VB_ENOTFOUND;
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        vb_error_clear(err);
        if (!(rc = vb_model_resolve(defaults[i], paths, err))) {
            *name = defaults[i];
            return 0;
        }
    }
    vb_error_prefix(err, "no model given and no default model installed (tried i3d-kinetics-400, "
                         "movinet-a0-stream-k600; use --weights FILE or 'vidbench model fetch NAME'): ");
    return rc;
}
