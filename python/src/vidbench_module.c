/* vidbench._vidbench: the CPython extension under the `vidbench` package. It wraps the public
 * libvidbench API only (include/vidbench/) and adds nothing the library decides: frames, the
 * classifier, the dataset, the evaluation session and the report are library calls made with
 * the GIL released. Library errors become vidbench.Error subclasses carrying the library's
 * message; progress callbacks from the library's worker threads take the GIL to call Python. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include <stdlib.h>
#include <string.h>

#include "vidbench/classifier.h"
#include "vidbench/dataset.h"
#include "vidbench/eval.h"
#include "vidbench/models.h"
#include "vidbench/report.h"
#include "vidbench/version.h"
#include "vidbench/video.h"

/* ---- errors --------------------------------------------------------------------------- */

/* vidbench.Error and its subclasses, created once at import. */
static PyObject *error_base, *error_not_found, *error_invalid, *error_format, *error_io, *error_network,
    *error_canceled;

static PyObject *error_class(int code)
{
    switch (code) {
    case VB_ENOTFOUND:
        return error_not_found;
    case VB_EINVAL:
        return error_invalid;
    case VB_EFORMAT:
    case VB_EUNSUPPORTED:
    case VB_ECHECKSUM:
    case VB_ESHAPE:
    case VB_EUNSAFE:
    case VB_EDECODE:
    case VB_ETOOSHORT:
    case VB_ELIMIT:
        return error_format;
    case VB_EIO:
    case VB_ENOSPACE:
    case VB_EEXIST:
        return error_io;
    case VB_ENETWORK:
    case VB_EHTTP:
        return error_network;
    case VB_ECANCELED:
        return error_canceled;
    default:
        return error_base;
    }
}

/* Raises the exception for a library error: the library's sentence as the message, the code
 * and its short name as attributes. Always returns NULL. */
static PyObject *raise_vb(int code, const vb_error *err)
{
    const char *message = err && err->message[0] ? err->message : vb_strerror(code);
    PyObject *cls = error_class(code);
    PyObject *exc = PyObject_CallFunction(cls, "s", message);
    if (!exc)
        return NULL;
    PyObject *code_obj = PyLong_FromLong(code);
    PyObject *reason = PyUnicode_FromString(vb_strerror(code));
    if (!code_obj || !reason || PyObject_SetAttrString(exc, "code", code_obj) ||
        PyObject_SetAttrString(exc, "reason", reason)) {
        Py_XDECREF(code_obj);
        Py_XDECREF(reason);
        Py_DECREF(exc);
        return NULL;
    }
    Py_DECREF(code_obj);
    Py_DECREF(reason);
    PyErr_SetObject(cls, exc);
    Py_DECREF(exc);
    return NULL;
}

static int add_error_class(PyObject *module, PyObject **slot, const char *name, PyObject *bases,
                           const char *doc)
{
    char qualified[64];
    snprintf(qualified, sizeof qualified, "vidbench.%s", name);
    *slot = PyErr_NewExceptionWithDoc(qualified, doc, bases, NULL);
    Py_XDECREF(bases);
    if (!*slot)
        return -1;
    Py_INCREF(*slot);
    return PyModule_AddObject(module, name, *slot);
}

static int add_error_classes(PyObject *module)
{
    if (add_error_class(module, &error_base, "Error", NULL,
                        "A libvidbench error: str() is the library's message naming the input and the "
                        "cause; .code is the VB_E* code, .reason its short text."))
        return -1;
    struct {
        PyObject **slot;
        const char *name;
        PyObject *python_base;
        const char *doc;
    } classes[] = {
        {&error_not_found, "NotFoundError", PyExc_FileNotFoundError, "A named file, model, tensor or clip is absent."},
        {&error_invalid, "InvalidArgumentError", PyExc_ValueError, "A bad argument."},
        {&error_format, "FormatError", PyExc_ValueError,
         "Malformed or unusable input: a corrupt video, a bad model file, a wrong shape, too few frames."},
        {&error_io, "IOError", PyExc_OSError, "Reading or writing a file failed."},
        {&error_network, "NetworkError", PyExc_ConnectionError, "A download failed."},
        {&error_canceled, "CanceledError", NULL, "Stopped by a progress callback."},
    };
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
        PyObject *bases = classes[i].python_base ? PyTuple_Pack(2, error_base, classes[i].python_base)
                                                 : PyTuple_Pack(1, error_base);
        if (!bases || add_error_class(module, classes[i].slot, classes[i].name, bases, classes[i].doc))
            return -1;
    }
    return 0;
}

/* ---- shared argument helpers ---------------------------------------------------------- */

/* A path argument: str or os.PathLike, encoded with the file system encoding. */
static int path_converter(PyObject *object, void *out)
{
    return PyUnicode_FSConverter(object, out);
}

/* The same where None means "not given" (*out stays NULL). */
static int optional_path_converter(PyObject *object, void *out)
{
    if (object == Py_None) {
        *(PyObject **)out = NULL;
        return 1;
    }
    return PyUnicode_FSConverter(object, out);
}

static int parse_resize(const char *name, vb_resize_mode *mode)
{
    if (vb_resize_mode_parse(name, mode)) {
        PyErr_Format(error_invalid, "resize must be crop, pad, shortside or stretch, got '%s'", name);
        return -1;
    }
    return 0;
}

static int parse_split(const char *name, vb_split *split)
{
    if (vb_split_parse(name, split)) {
        PyErr_Format(error_invalid, "split must be train, val or test, got '%s'", name);
        return -1;
    }
    return 0;
}

static int check_version(int version)
{
    if (!vb_kinetics_version_valid(version)) {
        PyErr_Format(error_invalid, "Kinetics version must be 400, 600 or 700, got %d", version);
        return -1;
    }
    return 0;
}

/* Frees a clip's frames when the ndarray that wraps them dies (no copy of uint8 frames). */
static void free_frames_capsule(PyObject *capsule)
{
    free(PyCapsule_GetPointer(capsule, "vidbench.frames"));
}

/* A decoded clip as ndarray [T,H,W,3]: uint8 takes the clip's buffer over, float32 is
 * vb_u8_to_float32 of it (the seed's frames / 255.0). The clip is emptied either way. */
static PyObject *clip_to_array(vb_clip *clip, int as_float32)
{
    npy_intp dims[4] = {clip->num_frames, clip->height, clip->width, 3};
    size_t count = (size_t)clip->num_frames * (size_t)clip->height * (size_t)clip->width * 3;
    if (as_float32) {
        PyObject *array = PyArray_SimpleNew(4, dims, NPY_FLOAT32);
        if (array) {
            float *out = PyArray_DATA((PyArrayObject *)array);
            Py_BEGIN_ALLOW_THREADS
            vb_u8_to_float32(clip->frames, count, out);
            Py_END_ALLOW_THREADS
        }
        vb_clip_free(clip);
        return array;
    }
    PyObject *array = PyArray_SimpleNewFromData(4, dims, NPY_UINT8, clip->frames);
    if (!array) {
        vb_clip_free(clip);
        return NULL;
    }
    PyObject *capsule = PyCapsule_New(clip->frames, "vidbench.frames", free_frames_capsule);
    if (!capsule) {
        Py_DECREF(array);
        vb_clip_free(clip);
        return NULL;
    }
    if (PyArray_SetBaseObject((PyArrayObject *)array, capsule)) { /* steals capsule */
        Py_DECREF(array);
        return NULL;
    }
    clip->frames = NULL;
    vb_clip_free(clip);
    return array;
}

static int parse_dtype(const char *dtype, int *as_float32)
{
    if (!strcmp(dtype, "float32"))
        *as_float32 = 1;
    else if (!strcmp(dtype, "uint8"))
        *as_float32 = 0;
    else {
        PyErr_Format(error_invalid, "dtype must be 'float32' or 'uint8', got '%s'", dtype);
        return -1;
    }
    return 0;
}

/* ---- video ---------------------------------------------------------------------------- */

static PyObject *py_read_frames(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"path", "num_frames", "size", "resize", "dtype", "min_frames", "fps", "threads", NULL};
    PyObject *path = NULL;
    int num_frames = 100, size = 224, min_frames = 0, threads = 0;
    double fps = 0;
    const char *resize = "crop", *dtype = "float32";
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&|iissidi:read_frames", keywords, path_converter, &path,
                                     &num_frames, &size, &resize, &dtype, &min_frames, &fps, &threads))
        return NULL;
    vb_video_options options;
    vb_video_options_init(&options);
    int as_float32 = 0;
    PyObject *result = NULL;
    if (parse_resize(resize, &options.resize) || parse_dtype(dtype, &as_float32))
        goto out;
    if (num_frames < 0 || size < 1 || size > 4096 || min_frames < 0 || fps < 0 || threads < 0) {
        PyErr_Format(error_invalid, "read_frames: num_frames >= 0 (0 = all), 1 <= size <= 4096, min_frames >= 0, "
                     "fps >= 0 and threads >= 0 (got %d, %d, %d, %g, %d)", num_frames, size, min_frames, fps, threads);
        goto out;
    }
    options.num_frames = num_frames;
    options.size = size;
    options.min_frames = min_frames;
    options.target_fps = fps;
    options.threads = threads;
    vb_clip clip;
    vb_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = vb_video_decode_clip(PyBytes_AS_STRING(path), &options, &clip, &err);
    Py_END_ALLOW_THREADS
    if (rc)
        raise_vb(rc, &err);
    else
        result = clip_to_array(&clip, as_float32);
out:
    Py_XDECREF(path);
    return result;
}

static PyObject *py_probe(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"path", "count_frames", NULL};
    PyObject *path = NULL;
    int count_frames = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&|p:probe", keywords, path_converter, &path, &count_frames))
        return NULL;
    vb_video_info info;
    vb_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = vb_video_probe(PyBytes_AS_STRING(path), count_frames, &info, &err);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (rc)
        return raise_vb(rc, &err);
    return Py_BuildValue("{s:s,s:s,s:s,s:i,s:i,s:i,s:(ii),s:d,s:d,s:L,s:O,s:i,s:L}", "container", info.container,
                         "codec", info.codec, "pixel_format", info.pixel_format, "width", info.width, "height",
                         info.height, "rotation_degrees", info.rotation_degrees, "sample_aspect_ratio",
                         info.sar_num, info.sar_den, "fps", info.fps, "duration_seconds", info.duration_seconds,
                         "frame_count", (long long)info.frame_count, "frame_count_exact",
                         info.frame_count_exact ? Py_True : Py_False, "lost_frames", info.lost_frames,
                         "file_bytes", (long long)info.file_bytes);
}

static PyObject *py_write_gif(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"frames", "path", "fps", NULL};
    PyObject *frames_obj, *path = NULL;
    double fps = 10;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO&|d:write_gif", keywords, &frames_obj, path_converter, &path,
                                     &fps))
        return NULL;
    PyArrayObject *frames = (PyArrayObject *)PyArray_FROMANY(frames_obj, NPY_UINT8, 4, 4, NPY_ARRAY_IN_ARRAY);
    PyObject *result = NULL;
    if (!frames)
        goto out;
    if (PyArray_DIM(frames, 3) != 3 || PyArray_DIM(frames, 0) < 1 || fps <= 0) {
        PyErr_SetString(error_invalid, "write_gif: frames must be uint8 [T>=1,H,W,3] and fps > 0");
        goto out;
    }
    vb_clip clip = {.num_frames = (int)PyArray_DIM(frames, 0), .height = (int)PyArray_DIM(frames, 1),
                    .width = (int)PyArray_DIM(frames, 2), .frames = PyArray_DATA(frames)};
    vb_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = vb_clip_write_gif(&clip, fps, PyBytes_AS_STRING(path), &err);
    Py_END_ALLOW_THREADS
    if (rc)
        raise_vb(rc, &err);
    else
        result = Py_NewRef(Py_None);
out:
    Py_XDECREF(frames);
    Py_XDECREF(path);
    return result;
}

/* ---- models --------------------------------------------------------------------------- */

static PyObject *py_resolve_model(PyObject *self, PyObject *args)
{
    const char *name;
    if (!PyArg_ParseTuple(args, "s:resolve_model", &name))
        return NULL;
    vb_model_paths paths;
    vb_error err = {0};
    int rc = vb_model_resolve(name, &paths, &err);
    if (rc)
        return raise_vb(rc, &err);
    return Py_BuildValue("(ss)", paths.weights, paths.labels);
}

/* ---- Classifier ----------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    vb_classifier *classifier;
    /* One call at a time: the library's classifier is not reentrant, and calls run without
     * the GIL. */
    PyThread_type_lock lock;
} ClassifierObject;

static void classifier_dealloc(ClassifierObject *self)
{
    vb_classifier_free(&self->classifier);
    if (self->lock)
        PyThread_free_lock(self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int classifier_init(ClassifierObject *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"weights", "labels", "threads", "num_frames", "backend", NULL};
    PyObject *weights = NULL, *labels = NULL;
    int threads = 0, num_frames = 0;
    const char *backend = "onednn";
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&|O&iis:_Classifier", keywords, path_converter, &weights,
                                     optional_path_converter, &labels, &threads, &num_frames, &backend))
        return -1;
    int result = -1;
    vb_classifier_options options;
    vb_classifier_options_init(&options);
    int b = vb_i3d_backend_from_name(backend);
    if (b < 0) {
        PyErr_Format(error_invalid, "backend must be onednn or reference, got '%s'", backend);
        goto out;
    }
    if (threads < 0 || num_frames < 0) {
        PyErr_Format(error_invalid, "threads and num_frames must be >= 0 (got %d, %d)", threads, num_frames);
        goto out;
    }
    options.backend = (vb_i3d_backend)b;
    options.threads = threads;
    options.num_frames = num_frames;
    if (!self->lock && !(self->lock = PyThread_allocate_lock())) {
        PyErr_NoMemory();
        goto out;
    }
    vb_classifier_free(&self->classifier);
    vb_error err = {0};
    int rc;
    const char *labels_path = labels ? PyBytes_AS_STRING(labels) : NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = vb_classifier_open(PyBytes_AS_STRING(weights), labels_path, &options, &self->classifier, &err);
    Py_END_ALLOW_THREADS
    if (rc)
        raise_vb(rc, &err);
    else
        result = 0;
out:
    Py_XDECREF(weights);
    Py_XDECREF(labels);
    return result;
}

static int classifier_ready(ClassifierObject *self)
{
    if (!self->classifier) {
        PyErr_SetString(error_invalid, "Classifier is not open");
        return 0;
    }
    return 1;
}

/* Runs input (a path, uint8 [T,S,S,3] frames or float32 [T,S,S,3] / [B,T,S,S,3] in [0,1]) and
 * returns logits [classes] or [B,classes]; probabilities (same shape) when want_probabilities. */
static PyObject *classifier_compute(ClassifierObject *self, PyObject *input, int want_probabilities)
{
    if (!classifier_ready(self))
        return NULL;
    const int classes = vb_classifier_num_classes(self->classifier);
    vb_classifier_input spec;
    vb_classifier_input_spec(self->classifier, &spec);
    PyObject *path = NULL, *result = NULL;
    PyArrayObject *array = NULL, *logits = NULL;
    int batch = 0; /* 0: one clip, output [classes] */
    if (PyUnicode_Check(input) || PyBytes_Check(input) || PyObject_HasAttrString(input, "__fspath__")) {
        if (!PyUnicode_FSConverter(input, &path))
            return NULL;
    } else {
        array = (PyArrayObject *)PyArray_FROMANY(input, NPY_NOTYPE, 4, 5, NPY_ARRAY_IN_ARRAY);
        if (!array)
            goto out;
        int type = PyArray_TYPE(array), nd = PyArray_NDIM(array);
        int ok = (type == NPY_UINT8 && nd == 4) || type == NPY_FLOAT32;
        if (!ok || PyArray_DIM(array, nd - 1) != 3 || PyArray_DIM(array, nd - 2) != spec.size ||
            PyArray_DIM(array, nd - 3) != spec.size || PyArray_DIM(array, nd - 4) < 1) {
            PyErr_Format(error_format,
                         "the %s model takes uint8 [T,%d,%d,3] frames or float32 [T,%d,%d,3] / [B,T,%d,%d,3] in "
                         "[0,1] (read_frames(path, size=%d, resize='%s')); got %s of %d dimensions",
                         vb_classifier_kind_name(self->classifier), spec.size, spec.size, spec.size, spec.size,
                         spec.size, spec.size, spec.size, vb_resize_mode_name(spec.resize),
                         type == NPY_UINT8 ? "uint8" : type == NPY_FLOAT32 ? "float32" : "another dtype", nd);
            goto out;
        }
        if (nd == 5)
            batch = (int)PyArray_DIM(array, 0);
    }
    npy_intp dims[2] = {batch ? batch : 1, classes};
    logits = (PyArrayObject *)PyArray_SimpleNew(batch ? 2 : 1, batch ? dims : dims + 1, NPY_FLOAT32);
    if (!logits)
        goto out;
    float *out_logits = PyArray_DATA(logits);
    vb_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(self->lock, WAIT_LOCK);
    if (path) {
        rc = vb_classifier_classify_file(self->classifier, PyBytes_AS_STRING(path), out_logits, NULL, &err);
    } else if (PyArray_TYPE(array) == NPY_UINT8) {
        vb_clip clip = {.num_frames = (int)PyArray_DIM(array, 0), .height = spec.size, .width = spec.size,
                        .frames = PyArray_DATA(array)};
        rc = vb_classifier_run(self->classifier, &clip, out_logits, NULL, &err);
    } else {
        int nd = PyArray_NDIM(array);
        rc = vb_classifier_logits_f32(self->classifier, PyArray_DATA(array), VB_RANGE_UNIT, batch ? batch : 1,
                                      (int)PyArray_DIM(array, nd - 4), out_logits, &err);
    }
    PyThread_release_lock(self->lock);
    Py_END_ALLOW_THREADS
    if (rc) {
        raise_vb(rc, &err);
        goto out;
    }
    if (want_probabilities) {
        /* vb_softmax per clip: the probabilities vb_classifier_run gives (classify's). */
        for (int b = 0; b < (batch ? batch : 1); b++)
            vb_softmax(out_logits + (size_t)b * classes, classes, out_logits + (size_t)b * classes);
    }
    result = (PyObject *)logits;
    logits = NULL;
out:
    Py_XDECREF(path);
    Py_XDECREF(array);
    Py_XDECREF(logits);
    return result;
}

static PyObject *classifier_logits(ClassifierObject *self, PyObject *input)
{
    return classifier_compute(self, input, 0);
}

static PyObject *classifier_probabilities(ClassifierObject *self, PyObject *input)
{
    return classifier_compute(self, input, 1);
}

/* [(label or class id, probability)] of the top k of probabilities [classes] (vb_top_k). */
static PyObject *classifier_top_k(ClassifierObject *self, PyObject *args)
{
    PyObject *probabilities_obj;
    int k;
    if (!classifier_ready(self) || !PyArg_ParseTuple(args, "Oi:top_k", &probabilities_obj, &k))
        return NULL;
    const int classes = vb_classifier_num_classes(self->classifier);
    PyArrayObject *probabilities =
        (PyArrayObject *)PyArray_FROMANY(probabilities_obj, NPY_FLOAT32, 1, 1, NPY_ARRAY_IN_ARRAY);
    if (!probabilities)
        return NULL;
    if (PyArray_DIM(probabilities, 0) != classes || k < 1) {
        Py_DECREF(probabilities);
        return PyErr_Format(error_invalid, "top_k: need %d probabilities and k >= 1", classes);
    }
    vb_prediction *best = PyMem_Malloc((size_t)(k < classes ? k : classes) * sizeof *best);
    if (!best) {
        Py_DECREF(probabilities);
        return PyErr_NoMemory();
    }
    int n = vb_top_k(PyArray_DATA(probabilities), classes, k, best);
    Py_DECREF(probabilities);
    PyObject *list = PyList_New(n);
    for (int i = 0; list && i < n; i++) {
        const char *label = vb_classifier_label(self->classifier, best[i].class_id);
        PyObject *item = label ? Py_BuildValue("(sd)", label, (double)best[i].probability)
                               : Py_BuildValue("(id)", best[i].class_id, (double)best[i].probability);
        if (!item) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, item);
    }
    PyMem_Free(best);
    return list;
}

static PyObject *classifier_get_input_spec(ClassifierObject *self, void *closure)
{
    if (!classifier_ready(self))
        return NULL;
    vb_classifier_input spec;
    vb_classifier_input_spec(self->classifier, &spec);
    return Py_BuildValue("{s:i,s:s,s:i,s:i,s:(dd),s:O}", "size", spec.size, "resize", vb_resize_mode_name(spec.resize),
                         "frames", spec.num_frames, "min_frames", spec.min_frames, "value_range",
                         (double)spec.value_min, (double)spec.value_max, "takes_float_batches",
                         spec.takes_float_batches ? Py_True : Py_False);
}

static PyObject *classifier_get_labels(ClassifierObject *self, void *closure)
{
    if (!classifier_ready(self))
        return NULL;
    int classes = vb_classifier_num_classes(self->classifier);
    if (!vb_classifier_labels(self->classifier))
        Py_RETURN_NONE;
    PyObject *list = PyList_New(classes);
    for (int i = 0; list && i < classes; i++) {
        PyObject *name = PyUnicode_FromString(vb_classifier_label(self->classifier, i));
        if (!name) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, name);
    }
    return list;
}

static PyObject *classifier_get_kind(ClassifierObject *self, void *closure)
{
    return classifier_ready(self) ? PyUnicode_FromString(vb_classifier_kind_name(self->classifier)) : NULL;
}

static PyObject *classifier_get_num_classes(ClassifierObject *self, void *closure)
{
    return classifier_ready(self) ? PyLong_FromLong(vb_classifier_num_classes(self->classifier)) : NULL;
}

static PyObject *classifier_get_threads(ClassifierObject *self, void *closure)
{
    return classifier_ready(self) ? PyLong_FromLong(vb_classifier_threads(self->classifier)) : NULL;
}

static PyMethodDef classifier_methods[] = {
    {"logits", (PyCFunction)classifier_logits, METH_O,
     "logits(path | uint8 [T,S,S,3] | float32 [T,S,S,3] or [B,T,S,S,3]) -> float32 [classes] or [B,classes]"},
    {"probabilities", (PyCFunction)classifier_probabilities, METH_O,
     "probabilities(input) -> softmax of logits(input), as vidbench classify computes it"},
    {"top_k", (PyCFunction)classifier_top_k, METH_VARARGS,
     "top_k(probabilities, k) -> [(label, probability)], most probable first (ties: lower class id)"},
    {NULL},
};

static PyGetSetDef classifier_getset[] = {
    {"input_spec", (getter)classifier_get_input_spec, NULL, "what the model takes (decided by the library)", NULL},
    {"labels", (getter)classifier_get_labels, NULL, "class names (None without a label map)", NULL},
    {"kind", (getter)classifier_get_kind, NULL, "'i3d' or 'movinet'", NULL},
    {"num_classes", (getter)classifier_get_num_classes, NULL, NULL, NULL},
    {"threads", (getter)classifier_get_threads, NULL, "threads the model runs with (resolved)", NULL},
    {NULL},
};

static PyTypeObject ClassifierType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "vidbench._vidbench._Classifier",
    .tp_basicsize = sizeof(ClassifierObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "_Classifier(weights, labels=None, threads=0, num_frames=0, backend='onednn'): the library's one "
              "classifier over a weights file (.safetensors I3D, .tflite MoViNet)",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)classifier_init,
    .tp_dealloc = (destructor)classifier_dealloc,
    .tp_methods = classifier_methods,
    .tp_getset = classifier_getset,
};

/* ---- progress callbacks from library threads ------------------------------------------ */

/* A Python callable called from whatever thread the library reports on. The first exception
 * it raises stops the run (the callback returns non-zero) and is re-raised by the caller. */
typedef struct py_callback {
    PyObject *callable;        /* may be NULL */
    PyObject *exc_type, *exc_value, *exc_traceback;
} py_callback;

/* "O&" converter of a progress argument: a callable, or None for none. */
static int callback_converter(PyObject *object, void *out)
{
    py_callback *cb = out;
    if (object != Py_None && !PyCallable_Check(object)) {
        PyErr_SetString(error_invalid, "progress must be a callable or None");
        return 0;
    }
    cb->callable = object == Py_None ? NULL : object;
    return 1;
}

static int callback_failed(py_callback *cb)
{
    if (!cb->exc_type)
        PyErr_Fetch(&cb->exc_type, &cb->exc_value, &cb->exc_traceback);
    else
        PyErr_Clear();
    return 1;
}

/* Call with the GIL held: takes the stored exception back (1) or 0 when none. */
static int callback_reraise(py_callback *cb)
{
    if (!cb->exc_type)
        return 0;
    PyErr_Restore(cb->exc_type, cb->exc_value, cb->exc_traceback);
    cb->exc_type = cb->exc_value = cb->exc_traceback = NULL;
    return 1;
}

/* After a library call that reported through cb: the callback's exception first (it is why
 * the call stopped), else the library's error. 0 when the call succeeded. */
static int call_failed(int rc, const vb_error *err, py_callback *cb)
{
    if (cb && callback_reraise(cb))
        return -1;
    if (rc) {
        raise_vb(rc, err);
        return -1;
    }
    return 0;
}

static const char *event_name(vb_dataset_event event)
{
    switch (event) {
    case VB_EVENT_BYTES: return "bytes";
    case VB_EVENT_PARTITION_DONE: return "partition_done";
    case VB_EVENT_PARTITION_FAILED: return "partition_failed";
    case VB_EVENT_CLIP_DONE: return "clip_done";
    case VB_EVENT_CLIP_BAD: return "clip_bad";
    default: return "info";
    }
}

/* vb_dataset_progress_fn: calls callable(dict) with the event's fields. */
static int dataset_progress(void *user, const vb_dataset_progress *p)
{
    py_callback *cb = user;
    if (!cb->callable)
        return 0;
    PyGILState_STATE state = PyGILState_Ensure();
    int stop = 0;
    if (cb->exc_type) {
        stop = 1;
    } else {
        PyObject *event = Py_BuildValue("{s:s,s:z,s:L,s:L,s:L,s:i,s:i,s:l,s:z}", "event", event_name(p->event),
                                        "item", p->item, "bytes_done", (long long)p->bytes_done, "bytes_total",
                                        (long long)p->bytes_total, "bytes_all_done", (long long)p->bytes_all_done,
                                        "items_done", p->items_done, "items_total", p->items_total,
                                        "clips_on_disk", p->clips_on_disk, "message", p->message);
        PyObject *r = event ? PyObject_CallOneArg(cb->callable, event) : NULL;
        Py_XDECREF(event);
        if (!r)
            stop = callback_failed(cb);
        else
            stop = PyObject_IsTrue(r) == 1;
        Py_XDECREF(r);
    }
    PyGILState_Release(state);
    return stop;
}

/* ---- Kinetics dataset ----------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    vb_dataset *dataset;
    PyThread_type_lock lock;   /* one library call at a time (a vb_dataset is single-threaded) */
} DatasetObject;

static void dataset_dealloc(DatasetObject *self)
{
    vb_dataset_close(&self->dataset);
    if (self->lock)
        PyThread_free_lock(self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int dataset_init(DatasetObject *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"data_dir", NULL};
    PyObject *data_dir = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&:_Dataset", keywords, path_converter, &data_dir))
        return -1;
    if (!self->lock && !(self->lock = PyThread_allocate_lock())) {
        Py_DECREF(data_dir);
        PyErr_NoMemory();
        return -1;
    }
    vb_dataset_close(&self->dataset);
    vb_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = vb_dataset_open(PyBytes_AS_STRING(data_dir), &self->dataset, &err);
    Py_END_ALLOW_THREADS
    Py_DECREF(data_dir);
    if (rc) {
        raise_vb(rc, &err);
        return -1;
    }
    return 0;
}

static int dataset_ready(DatasetObject *self)
{
    if (!self->dataset) {
        PyErr_SetString(error_invalid, "dataset is closed");
        return 0;
    }
    return 1;
}

static PyObject *dataset_close(DatasetObject *self, PyObject *unused)
{
    vb_dataset_close(&self->dataset);
    Py_RETURN_NONE;
}

#define DATASET_CALL(self, call)                            \
    do {                                                    \
        Py_BEGIN_ALLOW_THREADS                              \
        PyThread_acquire_lock((self)->lock, WAIT_LOCK);     \
        rc = (call);                                        \
        PyThread_release_lock((self)->lock);                \
        Py_END_ALLOW_THREADS                                \
    } while (0)

static PyObject *dataset_download(DatasetObject *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"version", "split", "num_videos", "mirror", "jobs", "progress", NULL};
    int version, jobs = 1;
    const char *split_name, *mirror = NULL;
    long num_videos = 0;
    py_callback cb = {0};
    if (!dataset_ready(self) || !PyArg_ParseTupleAndKeywords(args, kwargs, "is|lziO&:download", keywords, &version,
                                                             &split_name, &num_videos, &mirror, &jobs,
                                                             callback_converter, &cb))
        return NULL;
    vb_download_request request;
    vb_download_request_init(&request);
    if (check_version(version) || parse_split(split_name, &request.split))
        return NULL;
    request.version = version;
    request.num_videos = num_videos;
    request.mirror = mirror;
    request.jobs = jobs;
    request.progress = dataset_progress;
    request.progress_user = &cb;
    vb_download_result result = {0};
    vb_error err = {0};
    int rc;
    DATASET_CALL(self, vb_dataset_download(self->dataset, &request, &result, &err));
    if (call_failed(rc, &err, &cb))
        return NULL;
    return Py_BuildValue("{s:i,s:i,s:i,s:l,s:i}", "partitions_total", result.partitions_total, "partitions_done",
                         result.partitions_done, "partitions_failed", result.partitions_failed, "clips_on_disk",
                         result.clips_on_disk, "unsafe_entries", result.unsafe_entries);
}

/* The cache parameters a prepared clip is keyed by. */
static int video_options_from(vb_video_options *video, int size, const char *resize, int num_frames, int min_frames)
{
    vb_video_options_init(video);
    if (parse_resize(resize, &video->resize))
        return -1;
    if (size < 1 || size > 4096 || num_frames < 0 || min_frames < 0) {
        PyErr_Format(error_invalid, "need 1 <= size <= 4096, num_frames >= 0 and min_frames >= 0 (got %d, %d, %d)",
                     size, num_frames, min_frames);
        return -1;
    }
    video->size = size;
    video->num_frames = num_frames;
    video->min_frames = min_frames;
    return 0;
}

static PyObject *dataset_prepare(DatasetObject *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"version", "split", "num_videos", "size", "resize", "num_frames", "min_frames", "jobs",
                               "overwrite", "progress", NULL};
    int version, size = 224, num_frames = 0, min_frames = 0, jobs = 1, overwrite = 0;
    long num_videos = 0;
    const char *split_name, *resize = "crop";
    py_callback cb = {0};
    if (!dataset_ready(self) ||
        !PyArg_ParseTupleAndKeywords(args, kwargs, "is|lisiiipO&:prepare", keywords, &version, &split_name,
                                     &num_videos, &size, &resize, &num_frames, &min_frames, &jobs, &overwrite,
                                     callback_converter, &cb))
        return NULL;
    vb_prepare_request request;
    vb_prepare_request_init(&request);
    if (check_version(version) || parse_split(split_name, &request.split) ||
        video_options_from(&request.video, size, resize, num_frames, min_frames))
        return NULL;
    request.version = version;
    request.num_videos = num_videos;
    request.jobs = jobs;
    request.overwrite = overwrite;
    request.progress = dataset_progress;
    request.progress_user = &cb;
    vb_prepare_result result = {0};
    vb_error err = {0};
    int rc;
    DATASET_CALL(self, vb_dataset_prepare(self->dataset, &request, &result, &err));
    if (call_failed(rc, &err, &cb))
        return NULL;
    char key[64];
    vb_prepare_key(&request.video, key);
    return Py_BuildValue("{s:l,s:l,s:l,s:s}", "clips_considered", result.clips_considered, "clips_cached",
                         result.clips_cached, "clips_bad", result.clips_bad, "cache_key", key);
}

static PyObject *dataset_clips(DatasetObject *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"version", "split", "size", "resize", "num_frames", "min_frames", "prepared", NULL};
    int version, size = 224, num_frames = 0, min_frames = 0, prepared = 1;
    const char *split_name, *resize = "crop";
    if (!dataset_ready(self) || !PyArg_ParseTupleAndKeywords(args, kwargs, "is|isiip:clips", keywords, &version,
                                                             &split_name, &size, &resize, &num_frames, &min_frames,
                                                             &prepared))
        return NULL;
    vb_split split;
    vb_video_options video;
    if (check_version(version) || parse_split(split_name, &split) ||
        video_options_from(&video, size, resize, num_frames, min_frames))
        return NULL;
    vb_clip_list list = {0};
    vb_error err = {0};
    int rc;
    DATASET_CALL(self, vb_dataset_clips(self->dataset, version, split, prepared ? &video : NULL, &list, &err));
    if (rc)
        return raise_vb(rc, &err);
    static const char *const status_names[] = {"unpacked", "prepared", "bad"};
    PyObject *out = PyList_New((Py_ssize_t)list.count);
    for (size_t i = 0; out && i < list.count; i++) {
        const vb_clip_entry *c = &list.clips[i];
        PyObject *item = Py_BuildValue("{s:s,s:s,s:i,s:i,s:z,s:s,s:s,s:z}", "clip_id", c->clip_id, "youtube_id",
                                       c->youtube_id, "time_start", c->time_start, "time_end", c->time_end, "label",
                                       c->label, "path", c->path, "status", status_names[c->status], "bad_reason",
                                       c->bad_reason);
        if (!item) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, (Py_ssize_t)i, item);
    }
    vb_clip_list_free(&list);
    return out;
}

static PyObject *dataset_load_prepared(DatasetObject *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"version", "split", "clip_id", "size", "resize", "num_frames", "min_frames", "dtype",
                               NULL};
    int version, size = 224, num_frames = 0, min_frames = 0;
    const char *split_name, *clip_id, *resize = "crop", *dtype = "uint8";
    if (!dataset_ready(self) || !PyArg_ParseTupleAndKeywords(args, kwargs, "iss|isiis:load_prepared", keywords,
                                                             &version, &split_name, &clip_id, &size, &resize,
                                                             &num_frames, &min_frames, &dtype))
        return NULL;
    vb_split split;
    vb_video_options video;
    int as_float32;
    if (check_version(version) || parse_split(split_name, &split) ||
        video_options_from(&video, size, resize, num_frames, min_frames) || parse_dtype(dtype, &as_float32))
        return NULL;
    vb_clip clip;
    vb_error err = {0};
    int rc;
    DATASET_CALL(self, vb_dataset_load_prepared(self->dataset, version, split, clip_id, &video, &clip, &err));
    if (rc)
        return raise_vb(rc, &err);
    return clip_to_array(&clip, as_float32);
}

static PyObject *dataset_status(DatasetObject *self, PyObject *unused)
{
    if (!dataset_ready(self))
        return NULL;
    vb_split_status *status = NULL;
    size_t count = 0;
    vb_error err = {0};
    int rc;
    DATASET_CALL(self, vb_dataset_status(self->dataset, &status, &count, &err));
    if (rc)
        return raise_vb(rc, &err);
    PyObject *out = PyList_New((Py_ssize_t)count);
    for (size_t i = 0; out && i < count; i++) {
        const vb_split_status *s = &status[i];
        PyObject *item = Py_BuildValue("{s:i,s:s,s:l,s:i,s:i,s:i,s:l,s:l,s:l}", "version", s->version, "split",
                                       vb_split_name(s->split), "annotated", s->annotated, "partitions_total",
                                       s->partitions_total, "partitions_done", s->partitions_done,
                                       "partitions_failed", s->partitions_failed, "clips_unpacked",
                                       s->clips_unpacked, "clips_prepared", s->clips_prepared, "clips_bad",
                                       s->clips_bad);
        if (!item) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, (Py_ssize_t)i, item);
    }
    free(status);
    return out;
}

/* Annotation rows as {"labels": [names], "counts": [clips per label], "rows": n, "unlabelled": n}. */
static PyObject *annotations_to_dict(const vb_annotations *a)
{
    long *counts = PyMem_Calloc((size_t)a->label_count + 1, sizeof *counts);
    if (!counts)
        return PyErr_NoMemory();
    long unlabelled = 0;
    for (size_t i = 0; i < a->count; i++) {
        if (a->rows[i].label >= 0 && a->rows[i].label < a->label_count)
            counts[a->rows[i].label]++;
        else
            unlabelled++;
    }
    PyObject *labels = PyList_New(a->label_count), *clip_counts = PyList_New(a->label_count), *out = NULL;
    for (int i = 0; labels && clip_counts && i < a->label_count; i++) {
        PyObject *name = PyUnicode_FromString(a->labels[i]), *n = PyLong_FromLong(counts[i]);
        if (!name || !n) {
            Py_XDECREF(name);
            Py_XDECREF(n);
            goto done;
        }
        PyList_SET_ITEM(labels, i, name);
        PyList_SET_ITEM(clip_counts, i, n);
    }
    if (labels && clip_counts)
        out = Py_BuildValue("{s:O,s:O,s:n,s:l}", "labels", labels, "counts", clip_counts, "rows",
                            (Py_ssize_t)a->count, "unlabelled", unlabelled);
done:
    Py_XDECREF(labels);
    Py_XDECREF(clip_counts);
    PyMem_Free(counts);
    return out;
}

static PyObject *dataset_annotations(DatasetObject *self, PyObject *args)
{
    int version;
    const char *split_name;
    vb_split split;
    if (!dataset_ready(self) || !PyArg_ParseTuple(args, "is:annotations", &version, &split_name) ||
        check_version(version) || parse_split(split_name, &split))
        return NULL;
    vb_annotations annotations = {0};
    vb_error err = {0};
    int rc;
    DATASET_CALL(self, vb_dataset_load_annotations(self->dataset, version, split, &annotations, &err));
    if (rc)
        return raise_vb(rc, &err);
    PyObject *out = annotations_to_dict(&annotations);
    vb_annotations_free(&annotations);
    return out;
}

static PyMethodDef dataset_methods[] = {
    {"download", (PyCFunction)(void (*)(void))dataset_download, METH_VARARGS | METH_KEYWORDS,
     "download(version, split, num_videos=0, mirror=None, jobs=1, progress=None) -> dict"},
    {"prepare", (PyCFunction)(void (*)(void))dataset_prepare, METH_VARARGS | METH_KEYWORDS,
     "prepare(version, split, num_videos=0, size=224, resize='crop', num_frames=0, min_frames=0, jobs=1, "
     "overwrite=False, progress=None) -> dict"},
    {"clips", (PyCFunction)(void (*)(void))dataset_clips, METH_VARARGS | METH_KEYWORDS,
     "clips(version, split, size=224, resize='crop', num_frames=0, min_frames=0, prepared=True) -> [dict]"},
    {"load_prepared", (PyCFunction)(void (*)(void))dataset_load_prepared, METH_VARARGS | METH_KEYWORDS,
     "load_prepared(version, split, clip_id, size=224, resize='crop', num_frames=0, min_frames=0, dtype='uint8')"},
    {"status", (PyCFunction)dataset_status, METH_NOARGS, "status() -> [dict] per version/split"},
    {"annotations", (PyCFunction)dataset_annotations, METH_VARARGS,
     "annotations(version, split) -> {labels, counts, rows, unlabelled} of the downloaded annotation file"},
    {"close", (PyCFunction)dataset_close, METH_NOARGS, "closes the dataset (also done when it is collected)"},
    {NULL},
};

static PyTypeObject DatasetType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "vidbench._vidbench._Dataset",
    .tp_basicsize = sizeof(DatasetObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "_Dataset(data_dir): the library's Kinetics dataset manager on one DATA_DIR",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)dataset_init,
    .tp_dealloc = (destructor)dataset_dealloc,
    .tp_methods = dataset_methods,
};

static PyObject *py_load_annotations(PyObject *self, PyObject *args)
{
    PyObject *path = NULL;
    if (!PyArg_ParseTuple(args, "O&:load_annotations", path_converter, &path))
        return NULL;
    vb_annotations annotations = {0};
    vb_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = vb_annotations_load(PyBytes_AS_STRING(path), &annotations, &err);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (rc)
        return raise_vb(rc, &err);
    PyObject *out = annotations_to_dict(&annotations);
    vb_annotations_free(&annotations);
    return out;
}

/* ---- evaluation session --------------------------------------------------------------- */

typedef struct eval_callbacks {
    py_callback data, progress, notice;
} eval_callbacks;

/* The loop's progress, on the thread that called vb_eval_session_run (the GIL released). It is
 * installed even without a Python callable: it is where Ctrl-C (a pending KeyboardInterrupt)
 * stops the run, which stays resumable. */
static int eval_progress(void *user, const vb_eval_progress *p)
{
    py_callback *cb = user;
    PyGILState_STATE state = PyGILState_Ensure();
    int stop = 0;
    if (cb->exc_type) {
        stop = 1;
    } else if (PyErr_CheckSignals() < 0) {
        stop = callback_failed(cb);
    } else if (cb->callable) {
        PyObject *r = PyObject_CallFunction(cb->callable, "{s:l,s:l,s:l,s:d,s:d}", "done", p->done, "total", p->total,
                                            "skipped", p->skipped, "elapsed_s", p->elapsed_s, "eta_s", p->eta_s);
        if (!r)
            stop = callback_failed(cb);
        else
            stop = PyObject_IsTrue(r) == 1;
        Py_XDECREF(r);
    }
    PyGILState_Release(state);
    return stop;
}

static void eval_notice(void *user, const char *message)
{
    py_callback *cb = user;
    PyGILState_STATE state = PyGILState_Ensure();
    if (!cb->exc_type) {
        PyObject *r = PyObject_CallFunction(cb->callable, "s", message);
        if (!r)
            callback_failed(cb);
        Py_XDECREF(r);
    }
    PyGILState_Release(state);
}

/* argv: a sequence of str, as UTF-8 pointers into the sequence's items (valid while seq lives). */
static char **utf8_argv(PyObject *seq, Py_ssize_t argc)
{
    char **argv = PyMem_Calloc((size_t)argc + 1, sizeof *argv);
    if (!argv) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < argc; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyUnicode_Check(item)) {
            PyErr_SetString(error_invalid, "evaluate: every argument must be a str");
            argv[i] = NULL;
        } else {
            argv[i] = (char *)PyUnicode_AsUTF8(item);
        }
        if (!argv[i]) {
            PyMem_Free(argv);
            return NULL;
        }
    }
    return argv;
}

static PyObject *session_info_dict(const vb_eval_session *session)
{
    vb_eval_session_info info;
    vb_eval_session_get_info(session, &info);
    return Py_BuildValue("{s:s,s:s,s:z,s:s,s:z,s:s,s:i,s:i,s:n}", "csv_path", info.csv_path, "store_path",
                         info.store_path, "summary_path", info.summary_path, "weights_path", info.weights_path,
                         "labels_path", info.labels_path, "model_kind", info.model_kind, "num_classes",
                         info.num_classes, "threads", info.threads, "clip_count", (Py_ssize_t)info.clip_count);
}

static PyObject *py_evaluate(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"argv", "data_progress", "progress", "notice", NULL};
    PyObject *argv_obj;
    py_callback data = {0}, progress = {0}, notice = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O&O&O&:evaluate", keywords, &argv_obj, callback_converter,
                                     &data, callback_converter, &progress, callback_converter, &notice))
        return NULL;
    PyObject *seq = PySequence_Fast(argv_obj, "evaluate: argv must be a sequence of str");
    if (!seq)
        return NULL;
    Py_ssize_t argc = PySequence_Fast_GET_SIZE(seq);
    char **argv = utf8_argv(seq, argc);
    PyObject *result = NULL;
    vb_eval_config config;
    vb_eval_config_init(&config);
    vb_error err = {0};
    int rc = 0;
    if (!argv)
        goto out;
    rc = vb_eval_config_parse_args(&config, (int)argc, argv, &err);
    if (!rc)
        rc = vb_eval_config_validate(&config, &err);
    if (call_failed(rc, &err, NULL))
        goto out;
    vb_eval_hooks hooks = {
        .data_progress = data.callable ? dataset_progress : NULL, .data_user = &data,
        .progress = eval_progress, .progress_user = &progress,
        .notice = notice.callable ? eval_notice : NULL, .notice_user = &notice,
    };
    vb_eval_session *session = NULL;
    vb_eval_summary summary;
    memset(&summary, 0, sizeof summary);
    Py_BEGIN_ALLOW_THREADS
    rc = vb_eval_session_open(&config, &hooks, &session, &err);
    if (!rc)
        rc = vb_eval_session_run(session, &summary, &err);
    Py_END_ALLOW_THREADS
    /* a callback's exception is why the run stopped: the first one is raised, later ones dropped */
    py_callback *callbacks[] = {&data, &progress, &notice};
    int raised = 0;
    for (size_t i = 0; i < sizeof callbacks / sizeof callbacks[0]; i++) {
        if (!raised)
            raised = callback_reraise(callbacks[i]);
        else if (callbacks[i]->exc_type) {
            Py_XDECREF(callbacks[i]->exc_type);
            Py_XDECREF(callbacks[i]->exc_value);
            Py_XDECREF(callbacks[i]->exc_traceback);
        }
    }
    if (!raised && !call_failed(rc, &err, NULL))
        result = session_info_dict(session);
    vb_eval_summary_free(&summary);
    vb_eval_session_free(&session);
out:
    PyMem_Free(argv);
    Py_DECREF(seq);
    return result;
}

/* ---- report --------------------------------------------------------------------------- */

/* The `vidbench report` sequence: results CSV, summary, label map, dataset, videos, then the
 * sample, the media and the page. Arguments are resolved by the Python wrapper. */
static PyObject *py_report(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"output", "results", "summary", "label_map", "data_dir", "version", "split", "videos",
                               "title", "sample", "num_frames", "resize", "previews", "probe", "preview_size", NULL};
    PyObject *output = NULL, *results = NULL, *summary = NULL, *label_map = NULL, *data_dir = NULL,
             *videos_obj = Py_None;
    const char *split = NULL, *title = NULL, *resize = NULL;
    int version = 0, sample = 8, num_frames = 0, previews = 1, probe = 1, preview_size = 112;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&|O&O&O&O&izOziizppi:report", keywords, path_converter, &output,
                                     optional_path_converter, &results, optional_path_converter, &summary,
                                     optional_path_converter, &label_map, optional_path_converter, &data_dir, &version, &split, &videos_obj, &title, &sample,
                                     &num_frames, &resize, &previews, &probe, &preview_size))
        return NULL;
    PyObject *result = NULL, *video_bytes = NULL;
    const char **videos = NULL;
    Py_ssize_t num_videos = 0;
    vb_report_media_options media;
    vb_report_media_options_init(&media);
    media.previews = media.resampling = previews;
    media.probe = probe;
    media.video.num_frames = num_frames;
    media.preview_size = preview_size;
    if (resize && parse_resize(resize, &media.video.resize))
        goto out;
    if (videos_obj != Py_None) {
        PyObject *seq = PySequence_Fast(videos_obj, "report: videos must be a list of paths");
        if (!seq)
            goto out;
        num_videos = PySequence_Fast_GET_SIZE(seq);
        video_bytes = PyList_New(num_videos);
        videos = PyMem_Calloc((size_t)num_videos + 1, sizeof *videos);
        for (Py_ssize_t i = 0; video_bytes && videos && i < num_videos; i++) {
            PyObject *b = NULL;
            if (!PyUnicode_FSConverter(PySequence_Fast_GET_ITEM(seq, i), &b)) {
                Py_CLEAR(video_bytes);
                break;
            }
            PyList_SET_ITEM(video_bytes, i, b);
            videos[i] = PyBytes_AS_STRING(b);
        }
        Py_DECREF(seq);
        if (!video_bytes || !videos) {
            if (!PyErr_Occurred())
                PyErr_NoMemory();
            goto out;
        }
    }
    vb_report report;
    vb_report_init(&report);
    vb_error err = {0};
    char *report_dir = NULL, *files_dir = NULL;
    const char *out_path = PyBytes_AS_STRING(output);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = vb_report_output_dirs(out_path, &report_dir, &files_dir, &err);
    if (!rc && title && !(report.title = vb_report_strdup(&report, title)))
        rc = vb_error_set(&err, VB_ENOMEM, "report: out of memory");
    if (!rc && results)
        rc = vb_report_load_results_csv(&report, PyBytes_AS_STRING(results), &err);
    if (!rc && summary)
        rc = vb_report_load_summary(&report, PyBytes_AS_STRING(summary), &err);
    if (!rc && label_map)
        rc = vb_report_set_label_map(&report, PyBytes_AS_STRING(label_map), &err);
    if (!rc && data_dir)
        rc = vb_report_load_dataset(&report, PyBytes_AS_STRING(data_dir), version, split, report_dir, &err);
    /* previews show what the model saw unless resize was given */
    if (!rc && !resize && report.evaluation.resize >= 0)
        media.video.resize = (vb_resize_mode)report.evaluation.resize;
    if (!rc && num_videos)
        rc = vb_report_add_videos(&report, videos, (int)num_videos, report_dir, &err);
    if (!rc)
        rc = vb_report_finish(&report, sample, &err);
    if (!rc)
        rc = vb_report_build_media(&report, report_dir, files_dir, &media, &err);
    if (!rc)
        rc = vb_report_write_html(&report, out_path, &err);
    Py_END_ALLOW_THREADS
    if (rc)
        raise_vb(rc, &err);
    else
        result = Py_BuildValue("{s:i,s:i}", "clips", report.num_clips, "sample", report.num_sample);
    vb_report_free(&report);
    free(report_dir);
    free(files_dir);
out:
    PyMem_Free(videos);
    Py_XDECREF(video_bytes);
    Py_XDECREF(output);
    Py_XDECREF(results);
    Py_XDECREF(summary);
    Py_XDECREF(label_map);
    Py_XDECREF(data_dir);
    return result;
}

/* ---- module --------------------------------------------------------------------------- */

static PyMethodDef module_methods[] = {
    {"read_frames", (PyCFunction)(void (*)(void))py_read_frames, METH_VARARGS | METH_KEYWORDS,
     "read_frames(path, num_frames=100, size=224, resize='crop', dtype='float32', min_frames=0, fps=0, threads=0)\n"
     "-> ndarray [T,S,S,3] RGB: the tensor `vidbench frames` writes (float32 = uint8 / 255.0, the seed's).\n"
     "num_frames=0 keeps every frame."},
    {"probe", (PyCFunction)(void (*)(void))py_probe, METH_VARARGS | METH_KEYWORDS,
     "probe(path, count_frames=False) -> dict of the stream's properties"},
    {"write_gif", (PyCFunction)(void (*)(void))py_write_gif, METH_VARARGS | METH_KEYWORDS,
     "write_gif(frames uint8 [T,H,W,3], path, fps=10): an animated GIF (FFmpeg palettegen/paletteuse)"},
    {"resolve_model", py_resolve_model, METH_VARARGS,
     "resolve_model(name) -> (weights, labels) of an installed registry model"},
    {"load_annotations", py_load_annotations, METH_VARARGS,
     "load_annotations(path) -> {labels, counts, rows, unlabelled} of a Kinetics annotation file"},
    {"evaluate", (PyCFunction)(void (*)(void))py_evaluate, METH_VARARGS | METH_KEYWORDS,
     "evaluate(argv, data_progress=None, progress=None, notice=None) -> session info; runs `vidbench evaluate "
     "ARGV` (the library's evaluation session) and writes CSV and summary.json"},
    {"report", (PyCFunction)(void (*)(void))py_report, METH_VARARGS | METH_KEYWORDS,
     "report(output, results=None, summary=None, label_map=None, data_dir=None, version=0, split=None, "
     "videos=None, title=None, sample=8, num_frames=0, resize=None, previews=True, probe=True, "
     "preview_size=112) -> {clips, sample}: the HTML page `vidbench report` writes"},
    {NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_vidbench", "libvidbench bindings (use the vidbench package)", -1, module_methods,
};

PyMODINIT_FUNC PyInit__vidbench(void)
{
    import_array();
    if (PyType_Ready(&ClassifierType) < 0 || PyType_Ready(&DatasetType) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&module_def);
    if (!module)
        return NULL;
    Py_INCREF(&ClassifierType);
    Py_INCREF(&DatasetType);
    if (PyModule_AddObject(module, "_Classifier", (PyObject *)&ClassifierType) ||
        PyModule_AddObject(module, "_Dataset", (PyObject *)&DatasetType) || add_error_classes(module) ||
        PyModule_AddStringConstant(module, "library_version", VB_VERSION_STRING)) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
