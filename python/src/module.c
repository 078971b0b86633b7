/* vidbench._vidbench: the CPython extension under the `vidbench` package. It wraps the public
 * libvidbench API only (include/vidbench/) and adds nothing the library decides: frames, the
 * classifier, the dataset, the evaluation session and the report are library calls made with
 * the GIL released. This file: the exception classes, shared argument helpers, the bridge that
 * lets library worker threads call Python progress callbacks, and the module table. */
#define VB_PY_IMPORTS_ARRAY
#include "module.h"

#include <stdlib.h>
#include <string.h>
#include "vidbench/version.h"

/* ---- errors --------------------------------------------------------------------------- */

/* vidbench.Error and its subclasses, created once at import. */
PyObject *error_base, *error_not_found, *error_invalid, *error_format, *error_io, *error_network,
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
PyObject *raise_vb(int code, const vb_error *err)
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

int add_error_classes(PyObject *module)
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
int path_converter(PyObject *object, void *out)
{
    return PyUnicode_FSConverter(object, out);
}

/* The same where None means "not given" (*out stays NULL). */
int optional_path_converter(PyObject *object, void *out)
{
    if (object == Py_None) {
        *(PyObject **)out = NULL;
        return 1;
    }
    return PyUnicode_FSConverter(object, out);
}

int parse_resize(const char *name, vb_resize_mode *mode)
{
    if (vb_resize_mode_parse(name, mode)) {
        PyErr_Format(error_invalid, "resize must be crop, pad, shortside or stretch, got '%s'", name);
        return -1;
    }
    return 0;
}

int parse_split(const char *name, vb_split *split)
{
    if (vb_split_parse(name, split)) {
        PyErr_Format(error_invalid, "split must be train, val or test, got '%s'", name);
        return -1;
    }
    return 0;
}

int check_version(int version)
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
PyObject *clip_to_array(vb_frames *clip, int as_float32)
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
        vb_frames_free(clip);
        return array;
    }
    PyObject *array = PyArray_SimpleNewFromData(4, dims, NPY_UINT8, clip->frames);
    if (!array) {
        vb_frames_free(clip);
        return NULL;
    }
    PyObject *capsule = PyCapsule_New(clip->frames, "vidbench.frames", free_frames_capsule);
    if (!capsule) {
        Py_DECREF(array);
        vb_frames_free(clip);
        return NULL;
    }
    if (PyArray_SetBaseObject((PyArrayObject *)array, capsule)) { /* steals capsule */
        Py_DECREF(array);
        return NULL;
    }
    clip->frames = NULL;
    vb_frames_free(clip);
    return array;
}

int parse_dtype(const char *dtype, int *as_float32)
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

/* ---- progress callbacks from library threads ------------------------------------------ */


/* "O&" converter of a progress argument: a callable, or None for none. */
int callback_converter(PyObject *object, void *out)
{
    py_callback *cb = out;
    if (object != Py_None && !PyCallable_Check(object)) {
        PyErr_SetString(error_invalid, "progress must be a callable or None");
        return 0;
    }
    cb->callable = object == Py_None ? NULL : object;
    return 1;
}

int callback_failed(py_callback *cb)
{
    if (!cb->exc_type)
        PyErr_Fetch(&cb->exc_type, &cb->exc_value, &cb->exc_traceback);
    else
        PyErr_Clear();
    return 1;
}

/* Call with the GIL held: takes the stored exception back (1) or 0 when none. */
int callback_reraise(py_callback *cb)
{
    if (!cb->exc_type)
        return 0;
    PyErr_Restore(cb->exc_type, cb->exc_value, cb->exc_traceback);
    cb->exc_type = cb->exc_value = cb->exc_traceback = NULL;
    return 1;
}

/* With the GIL held: cb->callable(arg), arg stolen (NULL: building it failed). Non-zero tells
 * the library to stop: an exception (kept for the caller to raise) or a true return value. */
int callback_call(py_callback *cb, PyObject *arg)
{
    if (cb->exc_type) {
        Py_XDECREF(arg);
        return 1;
    }
    PyObject *r = arg ? PyObject_CallOneArg(cb->callable, arg) : NULL;
    Py_XDECREF(arg);
    if (!r)
        return callback_failed(cb);
    int stop = PyObject_IsTrue(r) == 1;
    Py_DECREF(r);
    return stop;
}

/* After a library call that reported through cb: the callback's exception first (it is why
 * the call stopped), else the library's error. 0 when the call succeeded. */
int call_failed(int rc, const vb_error *err, py_callback *cb)
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
int dataset_progress(void *user, const vb_dataset_progress *p)
{
    py_callback *cb = user;
    if (!cb->callable)
        return 0;
    PyGILState_STATE state = PyGILState_Ensure();
    int stop = callback_call(cb, Py_BuildValue("{s:s,s:z,s:L,s:L,s:L,s:i,s:i,s:l,s:z}", "event", event_name(p->event),
                                               "item", p->item, "bytes_done", (long long)p->bytes_done,
                                               "bytes_total", (long long)p->bytes_total, "bytes_all_done",
                                               (long long)p->bytes_all_done, "items_done", p->items_done,
                                               "items_total", p->items_total, "clips_on_disk", p->clips_on_disk,
                                               "message", p->message));
    PyGILState_Release(state);
    return stop;
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
    {"resolve_default_model", py_resolve_default_model, METH_NOARGS,
     "resolve_default_model() -> (name, (weights, labels)) of the model opened when none is named"},
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
