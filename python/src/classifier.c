/* The library's one classifier (classifier.h) as the _Classifier type, and registry lookups. */
#include "module.h"

#include <stdlib.h>
#include <string.h>
#include "vidbench/classifier.h"
#include "vidbench/models.h"

/* ---- models --------------------------------------------------------------------------- */

PyObject *py_resolve_model(PyObject *self, PyObject *args)
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

PyObject *py_resolve_default_model(PyObject *self, PyObject *args)
{
    (void)self;
    (void)args;
    vb_model_paths paths;
    const char *name = NULL;
    vb_error err = {0};
    int rc = vb_model_resolve_default(&paths, &name, &err);
    if (rc)
        return raise_vb(rc, &err);
    return Py_BuildValue("(s(ss))", name, paths.weights, paths.labels);
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
    static char *keywords[] = {"weights", "labels", "threads", "num_frames", "backend", "precision", NULL};
    PyObject *weights = NULL, *labels = NULL;
    int threads = 0, num_frames = 0;
    const char *backend = "onednn", *precision = "auto";
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&|O&iiss:_Classifier", keywords, path_converter, &weights,
                                     optional_path_converter, &labels, &threads, &num_frames, &backend, &precision))
        return -1;
    int result = -1;
    vb_classifier_options options;
    vb_classifier_options_init(&options);
    int b = vb_i3d_backend_from_name(backend);
    if (b < 0) {
        PyErr_Format(error_invalid, "backend must be onednn or reference, got '%s'", backend);
        goto out;
    }
    int p = vb_i3d_precision_from_name(precision);
    if (p < 0) {
        PyErr_Format(error_invalid, "precision must be auto, fp32, bf16 or int8, got '%s'", precision);
        goto out;
    }
    options.precision = (vb_i3d_precision)p;
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
        vb_frames clip = {.num_frames = (int)PyArray_DIM(array, 0), .height = spec.size, .width = spec.size,
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

static PyObject *classifier_get_precision(ClassifierObject *self, void *closure)
{
    return classifier_ready(self) ? PyUnicode_FromString(vb_classifier_precision(self->classifier)) : NULL;
}

static PyObject *classifier_get_isa(ClassifierObject *self, void *closure)
{
    if (!classifier_ready(self))
        return NULL;
    const char *isa = vb_classifier_isa(self->classifier);
    if (!isa)
        Py_RETURN_NONE;
    return PyUnicode_FromString(isa);
}

static PyObject *classifier_get_note(ClassifierObject *self, void *closure)
{
    return classifier_ready(self) ? PyUnicode_FromString(vb_classifier_note(self->classifier)) : NULL;
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
    {"precision", (getter)classifier_get_precision, NULL, "'fp32', 'bf16' or 'int8': what the model computes in", NULL},
    {"isa", (getter)classifier_get_isa, NULL, "I3D: the oneDNN ISA its kernels use; None for MoViNet", NULL},
    {"note", (getter)classifier_get_note, NULL, "why the run differs from what was asked, or ''", NULL},
    {NULL},
};

PyTypeObject ClassifierType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "vidbench._vidbench._Classifier",
    .tp_basicsize = sizeof(ClassifierObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "_Classifier(weights, labels=None, threads=0, num_frames=0, backend='onednn', precision='auto'): the library's one "
              "classifier over a weights file (.safetensors I3D, .tflite MoViNet)",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)classifier_init,
    .tp_dealloc = (destructor)classifier_dealloc,
    .tp_methods = classifier_methods,
    .tp_getset = classifier_getset,
};
