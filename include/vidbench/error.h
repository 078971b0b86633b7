/* Error values shared by every libvidbench function.
 * Functions return 0 or a negative VB_E* code; when the caller passes a vb_error,
 * it also receives a sentence naming the input (file, tensor, URL) and the cause. */
#ifndef VIDBENCH_ERROR_H
#define VIDBENCH_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum {
    VB_OK = 0,
    VB_EINVAL = -1,        /* bad argument from the caller */
    VB_ENOMEM = -2,        /* allocation failed */
    VB_EIO = -3,           /* open/read/write/rename failed (errno text in the message) */
    VB_EFORMAT = -4,       /* malformed input: bytes that do not follow the format */
    VB_EUNSUPPORTED = -5,  /* well-formed, but a codec/operator/dtype we do not implement */
    VB_ENOTFOUND = -6,     /* a named thing (file, tensor, stream, label, model) is absent */
    VB_ECHECKSUM = -7,     /* crc32c/sha256 mismatch */
    VB_ENETWORK = -8,      /* connection failed, timed out or dropped */
    VB_EHTTP = -9,         /* server answered with an HTTP error status */
    VB_ESHAPE = -10,       /* tensor/frame shapes disagree */
    VB_EUNSAFE = -11,      /* archive entry escaping its target, hostile path */
    VB_ENOSPACE = -12,     /* not enough free disk space */
    VB_EDECODE = -13,      /* a video could not be decoded */
    VB_ETOOSHORT = -14,    /* a clip has fewer frames than required */
    VB_ELIMIT = -15,       /* an input exceeds a safety limit (size, time, count) */
    VB_EDATABASE = -16,    /* SQLite state store failed */
    VB_EEXIST = -17,       /* refusing to overwrite */
    VB_ESTATE = -18,       /* call made in the wrong state (e.g. overlapping shards) */
    VB_ECANCELED = -19,    /* stopped by the caller (progress callback, signal) */
};

#define VB_ERROR_MESSAGE_BYTES 1024

/* Detailed error: code plus a human sentence. Callers own it (usually on the stack). */
typedef struct vb_error {
    int code;
    char message[VB_ERROR_MESSAGE_BYTES];
} vb_error;

/* Short text for a code ("malformed input", ...). Never NULL. */
const char *vb_strerror(int code);

/* Fills err (if non-NULL) with code and a printf-style message; returns code so that
 * library code can write `return vb_error_set(err, VB_EFORMAT, "%s: ...", path);`. */
int vb_error_set(vb_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with more context ("loading model X: " + old). */
int vb_error_prefix(vb_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void vb_error_clear(vb_error *err);

#ifdef __cplusplus
}
#endif
#endif
