/* read_frames, probe, write_gif: the video ingest (video.h) from Python. */
#include "module.h"

#include <string.h>

/* ---- video ---------------------------------------------------------------------------- */

PyObject *py_read_frames(PyObject *self, PyObject *args, PyObject *kwargs)
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
    vb_frames clip;
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

PyObject *py_probe(PyObject *self, PyObject *args, PyObject *kwargs)
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

PyObject *py_write_gif(PyObject *self, PyObject *args, PyObject *kwargs)
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
    vb_frames clip = {.num_frames = (int)PyArray_DIM(frames, 0), .height = (int)PyArray_DIM(frames, 1),
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
