/* The Kinetics dataset manager (dataset.h) as the _Dataset type, and annotation files. */
#include "module.h"

#include <stdlib.h>
#include <string.h>

/* ---- Kinetics dataset ----------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    vb_dataset *dataset;
    PyThread_type_lock lock;   /* one library call at a time (a vb_dataset is single-threaded) */
} DatasetObject;

static void dataset_dealloc(DatasetObject *self)
{
    vb_dataset_free(&self->dataset);
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
    vb_dataset_free(&self->dataset);
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
    vb_dataset_free(&self->dataset);
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
    vb_dataset_clip_list list = {0};
    vb_error err = {0};
    int rc;
    DATASET_CALL(self, vb_dataset_clips(self->dataset, version, split, prepared ? &video : NULL, &list, &err));
    if (rc)
        return raise_vb(rc, &err);
    static const char *const status_names[] = {"unpacked", "prepared", "bad"};
    PyObject *out = PyList_New((Py_ssize_t)list.count);
    for (size_t i = 0; out && i < list.count; i++) {
        const vb_dataset_clip *c = &list.clips[i];
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
    vb_dataset_clip_list_free(&list);
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
    vb_frames clip;
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

PyTypeObject DatasetType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "vidbench._vidbench._Dataset",
    .tp_basicsize = sizeof(DatasetObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "_Dataset(data_dir): the library's Kinetics dataset manager on one DATA_DIR",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)dataset_init,
    .tp_dealloc = (destructor)dataset_dealloc,
    .tp_methods = dataset_methods,
};

PyObject *py_load_annotations(PyObject *self, PyObject *args)
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
