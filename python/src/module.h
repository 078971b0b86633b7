/* Declarations shared by the files of the vidbench._vidbench extension (python/src/): the
 * exception classes, argument converters, the progress-callback bridge and the functions and
 * types module.c puts in the module. Internal to the extension. */
#ifndef VIDBENCH_PY_MODULE_H
#define VIDBENCH_PY_MODULE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
/* one NumPy API table for the whole extension, filled by import_array() in module.c */
#define PY_ARRAY_UNIQUE_SYMBOL vidbench_ARRAY_API
#ifndef VB_PY_IMPORTS_ARRAY
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>

#include "vidbench/dataset.h"
#include "vidbench/error.h"
#include "vidbench/video.h"

/* vidbench.Error and its subclasses (module.c) */
extern PyObject *error_base, *error_not_found, *error_invalid, *error_format, *error_io, *error_network,
    *error_canceled;
int add_error_classes(PyObject *module);
/* Raises the exception for a library error; always returns NULL. */
PyObject *raise_vb(int code, const vb_error *err);

/* "O&" converters: a path (str or os.PathLike) to bytes; the same with None as NULL. */
int path_converter(PyObject *object, void *out);
int optional_path_converter(PyObject *object, void *out);
/* Argument checks that raise InvalidArgumentError naming the value; 0 or -1. */
int parse_resize(const char *name, vb_resize_mode *mode);
int parse_split(const char *name, vb_split *split);
int check_version(int version);
int parse_dtype(const char *dtype, int *as_float32);
/* A decoded clip as ndarray [T,H,W,3] (uint8 takes the buffer over, float32 = / 255.0). */
PyObject *clip_to_array(vb_frames *clip, int as_float32);

/* A Python callable called from whatever thread the library reports on. The first exception
 * it raises stops the run (the callback returns non-zero) and is re-raised by the caller. */
typedef struct py_callback {
    PyObject *callable;        /* may be NULL */
    PyObject *exc_type, *exc_value, *exc_traceback;
} py_callback;
int callback_converter(PyObject *object, void *out);
int callback_failed(py_callback *cb);
int callback_reraise(py_callback *cb);
int callback_call(py_callback *cb, PyObject *arg);
int call_failed(int rc, const vb_error *err, py_callback *cb);
/* vb_dataset_progress_fn calling cb->callable(event dict); user is a py_callback. */
int dataset_progress(void *user, const vb_dataset_progress *p);

/* module functions and types */
PyObject *py_read_frames(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *py_probe(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *py_write_gif(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *py_resolve_model(PyObject *self, PyObject *args);
PyObject *py_resolve_default_model(PyObject *self, PyObject *args);
PyObject *py_load_annotations(PyObject *self, PyObject *args);
PyObject *py_evaluate(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *py_report(PyObject *self, PyObject *args, PyObject *kwargs);
extern PyTypeObject ClassifierType, DatasetType;

#endif
