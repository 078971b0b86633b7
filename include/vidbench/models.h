/* The model registry: known models by name (i3d-kinetics-400, i3d-kinetics-600,
 * movinet-a0-stream-k600), their sources, and where an installed copy lives in the cache
 * ($VIDBENCH_HOME, default ~/.cache/vidbench). */
#ifndef VIDBENCH_MODELS_H
#define VIDBENCH_MODELS_H

#include <stddef.h>
#include <stdint.h>
#include "vidbench/download.h"
#include "vidbench/error.h"
#include "vidbench/i3d.h"
#include "vidbench/labels.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vb_model_paths {
    char weights[4096];   /* .safetensors (I3D) or .tflite (MoViNet) */
    char labels[4096];    /* label map, one class per line, index = class id */
} vb_model_paths;

/* Resolves an installed model by name. VB_ENOTFOUND with a message saying how to install
 * it (vidbench model fetch NAME) when it is known but not installed, or unknown. */
int vb_model_resolve(const char *name, vb_model_paths *paths, vb_error *err);
/* The model opened when none is named (`classify`, the bindings): the first installed of
 * i3d-kinetics-400 and movinet-a0-stream-k600; *name receives its registry name. VB_ENOTFOUND
 * naming both and how to install one when neither is. */
int vb_model_resolve_default(vb_model_paths *paths, const char **name, vb_error *err);


/* ---- the registry ------------------------------------------------------------------- */

/* Built-in models come from the kinetics-i3d repository unless a file says otherwise; a
 * mirror laid out like the repository replaces this prefix (--base-url or
 * $VIDBENCH_MODEL_BASE_URL). */
#define VB_MODEL_DEFAULT_BASE_URL "https://github.com/deepmind/kinetics-i3d/raw/master/"

typedef enum vb_model_format {
    VB_MODEL_FORMAT_TF_CHECKPOINT,   /* converted to weights.safetensors on install */
    VB_MODEL_FORMAT_TFLITE,          /* installed as model.tflite */
} vb_model_format;

typedef enum vb_model_file_role {
    VB_MODEL_FILE_INDEX,      /* PREFIX.index: sha256 pinned, it pins the data via crc32c */
    VB_MODEL_FILE_DATA,       /* PREFIX.data-00000-of-00001 */
    VB_MODEL_FILE_LABELS,     /* label map, sha256 pinned */
    VB_MODEL_FILE_TFLITE,     /* the .tflite model, sha256 pinned */
    VB_MODEL_FILE_SAMPLE,     /* verification input (not installed) */
    VB_MODEL_FILE_REFERENCE,  /* published reference output for the sample (not installed) */
} vb_model_file_role;

#define VB_MODEL_MAX_FILES 8

typedef struct vb_model_file {
    vb_model_file_role role;
    const char *url;           /* canonical source */
    const char *mirror_path;   /* path below a mirror's base URL or a --from directory */
    const char *install_name;  /* file name in the staging and install directories */
    const char *sha256;        /* lowercase hex, or NULL where another check covers it */
    int64_t size_bytes;        /* -1 when not known in advance */
} vb_model_file;

typedef struct vb_model_info {
    const char *name;            /* "i3d-kinetics-400" */
    const char *description;
    const char *architecture;    /* "i3d", "movinet-a0-stream" */
    vb_model_format format;
    int classes;
    const char *input_spec;      /* human-readable input description */
    const char *origin;          /* "built-in" or the manifest file that defined it */
    int n_files;
    vb_model_file files[VB_MODEL_MAX_FILES];
} vb_model_info;

typedef struct vb_model_registry vb_model_registry;

/* The built-in models plus, when $VIDBENCH_MODEL_MANIFEST names a JSON file, the models it
 * defines (for tests and private mirrors). A manifest may only add models: redefining a
 * built-in name is refused, so the pinned hashes of the real models cannot be overridden. */
int vb_model_registry_load(vb_model_registry **out, vb_error *err);
/* Same with an explicit manifest path (NULL = built-ins only). */
int vb_model_registry_load_manifest(const char *manifest_path, vb_model_registry **out, vb_error *err);
void vb_model_registry_free(vb_model_registry **registry);
int vb_model_registry_count(const vb_model_registry *registry);
const vb_model_info *vb_model_registry_at(const vb_model_registry *registry, int index);
const vb_model_info *vb_model_registry_find(const vb_model_registry *registry, const char *name);
/* The file of a given role, or NULL. */
const vb_model_file *vb_model_find_file(const vb_model_info *model, vb_model_file_role role);

/* $VIDBENCH_HOME, else ~/.cache/vidbench. */
int vb_model_home(char *path, size_t path_size, vb_error *err);
/* HOME/models/NAME: present only when completely installed (it appears by rename). */
int vb_model_install_dir(const vb_model_info *model, char *path, size_t path_size, vb_error *err);
/* 1 if installed (fills paths when non-NULL), 0 if not. */
int vb_model_installed_paths(const vb_model_info *model, vb_model_paths *paths);
/* Where a file comes from: base_url + mirror_path when base_url is non-NULL, else its url. */
int vb_model_file_url(const vb_model_file *file, const char *base_url, char *url, size_t url_size);

typedef struct vb_model_fetch_options {
    const char *base_url;      /* mirror laid out like the repository; NULL = canonical URLs */
    const char *from_dir;      /* install from local copies (DIR/mirror_path or DIR/install_name) */
    int force;                 /* reinstall over an installed copy */
    int max_attempts;          /* per file; 0 = download default */
    int initial_backoff_ms;    /* 0 = download default */
    /* Told before each file is fetched (source = URL or local path). */
    void (*on_file)(void *user, const vb_model_file *file, const char *source);
    vb_progress_fn progress;
    void *user;                /* passed to on_file and progress */
} vb_model_fetch_options;

void vb_model_fetch_options_init(vb_model_fetch_options *options);

/* Downloads (resuming partial files in HOME/downloads/NAME), verifies (sha256 pins, per-tensor
 * crc32c), converts, and installs atomically: HOME/models/NAME appears by a single rename
 * only when everything checked out. On failure nothing is installed; partial downloads are
 * kept for resume unless they proved corrupt. paths (may be NULL) receives the result. */
int vb_model_fetch(const vb_model_info *model, const vb_model_fetch_options *options,
                   vb_model_paths *paths, vb_error *err);

/* Fetches the verification files of a model (sample input, reference output) into
 * HOME/samples/NAME, reusing copies already there; fills their paths. */
int vb_model_fetch_verify_files(const vb_model_info *model, const vb_model_fetch_options *options,
                                char *sample_path, size_t sample_path_size,
                                char *reference_path, size_t reference_path_size, vb_error *err);

/* ---- published reference outputs (DeepMind kinetics-i3d out/NAME.txt) ------------------------------- */

#define VB_REFERENCE_MAX_TOP 64

/* "Norm of logits: N", then "prob logit class name" lines (evaluate_sample.py output). */
typedef struct vb_reference_output {
    double logits_norm;
    int count;
    struct {
        double probability;
        double logit;
        char name[128];
    } top[VB_REFERENCE_MAX_TOP];
} vb_reference_output;

int vb_reference_output_parse(const char *path, vb_reference_output *reference, vb_error *err);

typedef struct vb_reference_check {
    double logits_norm;          /* of the computed logits */
    double norm_relative_error;  /* |norm - reference| / reference */
    double max_relative_error;   /* max over listed classes |logit - reference| / max |reference| */
    const char *worst_class;     /* where max_relative_error occurs (points into the reference) */
    int top1_index;              /* argmax of the computed logits */
    int top1_matches;            /* the reference's first class is the computed argmax */
    int passed;                  /* all within tolerance and top-1 agrees */
} vb_reference_check;

/* Compares computed logits [classes] with a reference listing: each listed class is found in
 * labels by name. tolerance is relative (1e-3 for DeepMind's check). VB_ECHECKSUM with a
 * message naming the worst class when the check fails (check is filled either way). */
int vb_reference_output_compare(const vb_reference_output *reference, const float *logits,
                                int classes, const vb_labels *labels, double tolerance,
                                vb_reference_check *check, vb_error *err);


/* ---- DeepMind's evaluate_sample.py check (`vidbench model verify`) -------------------------------- */

typedef struct vb_model_verify_request {
    const char *weights_path;     /* I3D .safetensors */
    const char *labels_path;
    const char *sample_path;      /* .npy [1,T>=9,224,224,3] float32 in [-1,1] (the published sample) */
    const char *reference_path;   /* the published listing (out/NAME.txt) */
    vb_i3d_backend backend;
    int threads;                  /* 0 = automatic */
    double tolerance;             /* relative, on the listed logits; 0 = 1e-3 (DeepMind's) */
} vb_model_verify_request;

typedef struct vb_model_verify_result {
    int frames;                   /* T of the sample */
    vb_reference_output reference;
    vb_reference_check check;     /* check.worst_class points into reference */
    char top1_label[128];         /* the computed argmax's class name */
    float top1_logit;
} vb_model_verify_result;

/* Runs the sample, as it is, through the one classifier (classifier.h) and compares the logits
 * with the listing. 0 when the check passed; VB_ECHECKSUM when it ran and failed (result filled,
 * err names the worst class); other codes when an input is unreadable, has the wrong shape or
 * holds a non-finite value. */
int vb_model_verify(const vb_model_verify_request *request, vb_model_verify_result *result, vb_error *err);

#ifdef __cplusplus
}
#endif
#endif
