/* The evaluation session (eval.h) and the HTML report (report.h) from Python. */
#include "module.h"

#include <stdlib.h>
#include <string.h>
#include "vidbench/eval.h"
#include "vidbench/report.h"

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
    if (!cb->exc_type && PyErr_CheckSignals() < 0)
        stop = callback_failed(cb);
    else if (cb->callable)
        stop = callback_call(cb, Py_BuildValue("{s:l,s:l,s:l,s:d,s:d}", "done", p->done, "total", p->total, "skipped",
                                               p->skipped, "elapsed_s", p->elapsed_s, "eta_s", p->eta_s));
    else
        stop = cb->exc_type != NULL;
    PyGILState_Release(state);
    return stop;
}

static void eval_notice(void *user, const char *message)
{
    PyGILState_STATE state = PyGILState_Ensure();
    callback_call(user, PyUnicode_FromString(message));
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

PyObject *py_evaluate(PyObject *self, PyObject *args, PyObject *kwargs)
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

/* `vidbench report` as one library call (vb_report_build); arguments are resolved by the Python
 * wrapper. */
PyObject *py_report(PyObject *self, PyObject *args, PyObject *kwargs)
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
    vb_report_request req;
    vb_report_request_init(&req);
    req.output = PyBytes_AS_STRING(output);
    req.title = title;
    if (results)
        req.results[req.num_results++] = PyBytes_AS_STRING(results);
    req.summary = summary ? PyBytes_AS_STRING(summary) : NULL;
    req.label_map = label_map ? PyBytes_AS_STRING(label_map) : NULL;
    req.data_dir = data_dir ? PyBytes_AS_STRING(data_dir) : NULL;
    req.version = version;
    req.split = split;
    req.videos = videos;
    req.num_videos = (int)num_videos;
    req.sample = sample;
    req.media = media;
    req.resize_given = resize != NULL;
    vb_report_outcome outcome;
    vb_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = vb_report_build(&req, &outcome, &err);
    Py_END_ALLOW_THREADS
    if (rc)
        raise_vb(rc, &err);
    else
        result = Py_BuildValue("{s:i,s:i}", "clips", outcome.num_clips, "sample", outcome.num_sample);
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
