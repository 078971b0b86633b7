/* Error codes to text, and the message-carrying vb_error. */
#include "vidbench/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *vb_strerror(int code)
{
    switch (code) {
    case VB_OK: return "success";
    case VB_EINVAL: return "invalid argument";
    case VB_ENOMEM: return "out of memory";
    case VB_EIO: return "input/output error";
    case VB_EFORMAT: return "malformed input";
    case VB_EUNSUPPORTED: return "unsupported";
    case VB_ENOTFOUND: return "not found";
    case VB_ECHECKSUM: return "checksum mismatch";
    case VB_ENETWORK: return "network error";
    case VB_EHTTP: return "HTTP error";
    case VB_ESHAPE: return "shape mismatch";
    case VB_EUNSAFE: return "unsafe input refused";
    case VB_ENOSPACE: return "not enough disk space";
    case VB_EDECODE: return "decode error";
    case VB_ETOOSHORT: return "clip too short";
    case VB_ELIMIT: return "safety limit exceeded";
    case VB_EDATABASE: return "database error";
    case VB_EEXIST: return "already exists";
    case VB_ESTATE: return "invalid state";
    case VB_ECANCELED: return "canceled";
    default: return "unknown error";
    }
}

int vb_error_set(vb_error *err, int code, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

int vb_error_prefix(vb_error *err, const char *fmt, ...)
{
    if (!err)
        return VB_OK;
    char prefix[VB_ERROR_MESSAGE_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t prefix_len = strnlen(prefix, sizeof err->message - 1);
    size_t old_len = strnlen(err->message, sizeof err->message - 1);
    if (prefix_len + old_len > sizeof err->message - 1)
        old_len = sizeof err->message - 1 - prefix_len;
    memmove(err->message + prefix_len, err->message, old_len);
    memcpy(err->message, prefix, prefix_len);
    err->message[prefix_len + old_len] = '\0';
    return err->code;
}

void vb_error_clear(vb_error *err)
{
    if (err) {
        err->code = VB_OK;
        err->message[0] = '\0';
    }
}
