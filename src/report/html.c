/* Escaping for the report: every untrusted string reaches the page through html_text (element
 * content and quoted attribute values alike) or as a percent-encoded relative link. */
#include "report/report_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Length of the valid UTF-8 sequence at text (1..4), or 0 if invalid (overlong forms,
 * surrogates and code points above U+10FFFF are invalid). */
static int utf8_sequence_length(const unsigned char *text)
{
    unsigned char c = text[0];
    if (c < 0x80)
        return 1;
    int length;
    unsigned code;
    if (c >= 0xC2 && c <= 0xDF) {
        length = 2;
        code = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        length = 3;
        code = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        length = 4;
        code = c & 0x07;
    } else {
        return 0;
    }
    for (int i = 1; i < length; i++) {
        if ((text[i] & 0xC0) != 0x80)
            return 0; /* also stops at the NUL terminator */
        code = (code << 6) | (text[i] & 0x3F);
    }
    if ((length == 3 && code < 0x800) || (length == 4 && (code < 0x10000 || code > 0x10FFFF)) ||
        (code >= 0xD800 && code <= 0xDFFF))
        return 0;
    return length;
}

/* Calls emit(piece, length) for the escaped form of text. */
static void escape_into(const char *text, void (*emit)(void *, const char *, size_t), void *context)
{
    static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        const char *entity = NULL;
        switch (*p) {
        case '&': entity = "&amp;"; break;
        case '<': entity = "&lt;"; break;
        case '>': entity = "&gt;"; break;
        case '"': entity = "&quot;"; break;
        case '\'': entity = "&#39;"; break;
        default: break;
        }
        if (entity) {
            emit(context, entity, strlen(entity));
            p++;
            continue;
        }
        if (*p < 0x20 && *p != '\t' && *p != '\n') {
            emit(context, replacement, 3);
            p++;
            continue;
        }
        if (*p == 0x7F) {
            emit(context, replacement, 3);
            p++;
            continue;
        }
        int length = utf8_sequence_length(p);
        if (length == 0) {
            emit(context, replacement, 3);
            p++;
            continue;
        }
        emit(context, (const char *)p, (size_t)length);
        p += length;
    }
}

static void emit_file(void *context, const char *piece, size_t length)
{
    fwrite(piece, 1, length, (FILE *)context);
}

void html_text(FILE *out, const char *text)
{
    if (text)
        escape_into(text, emit_file, out);
}

void html_raw(FILE *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
}

typedef struct buffer_sink {
    char *out;
    size_t size, needed;
} buffer_sink;

static void emit_buffer(void *context, const char *piece, size_t length)
{
    buffer_sink *sink = context;
    if (sink->size > 0 && sink->needed < sink->size - 1) {
        size_t room = sink->size - 1 - sink->needed;
        /* Never cut an entity or a UTF-8 sequence: a piece fits whole or not at all. */
        if (length <= room)
            memcpy(sink->out + sink->needed, piece, length);
        else
            sink->size = sink->needed + 1; /* stop writing; the rest only counts */
    }
    sink->needed += length;
}

size_t vb_html_escape(const char *text, char *out, size_t out_size)
{
    buffer_sink sink = {out, out_size, 0};
    if (text)
        escape_into(text, emit_buffer, &sink);
    if (out_size > 0) {
        size_t end = sink.needed < sink.size ? sink.needed : sink.size - 1;
        out[end] = '\0';
    }
    return sink.needed;
}

/* ---- relative links ---- */

/* Absolute, normalized form of a directory that exists. */
static char *absolute_dir(const char *dir, vb_error *err)
{
    char *resolved = realpath(dir, NULL);
    if (!resolved)
        vb_error_set(err, VB_ENOTFOUND, "%s: cannot resolve directory: %s", dir, strerror(errno));
    return resolved;
}

/* Absolute form of a file: its directory resolved, its own name kept (a symlinked clip
 * stays a link to the name the user gave). */
static char *absolute_file(const char *path, vb_error *err)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    const char *name;
    if (!slash) {
        dir = absolute_dir(".", err);
        name = path;
    } else {
        size_t length = slash == path ? 1 : (size_t)(slash - path);
        char *parent = strndup(path, length);
        if (!parent) {
            vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
            return NULL;
        }
        dir = absolute_dir(parent, err);
        free(parent);
        name = slash + 1;
    }
    if (!dir)
        return NULL;
    size_t length = strlen(dir) + strlen(name) + 2;
    char *full = malloc(length);
    if (full)
        snprintf(full, length, "%s/%s", strcmp(dir, "/") ? dir : "", name);
    else
        vb_error_set(err, VB_ENOMEM, "%s: out of memory", path);
    free(dir);
    return full;
}

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int report_relative_href(const char *report_dir, const char *target, char **href, vb_error *err)
{
    *href = NULL;
    char *base = absolute_dir(report_dir, err);
    if (!base)
        return err ? err->code : VB_ENOTFOUND;
    char *file = absolute_file(target, err);
    if (!file) {
        free(base);
        return err ? err->code : VB_ENOTFOUND;
    }
    /* Longest common prefix that ends at a component boundary. */
    size_t base_length = strlen(base);
    if (base_length == 1)
        base_length = 0; /* "/" */
    size_t common = 0;
    for (size_t i = 0; i <= base_length; i++) {
        char b = i < base_length ? base[i] : '/';
        if (file[i] != b)
            break;
        if (b == '/')
            common = i;
    }
    int ups = 0;
    for (size_t i = common; i < base_length; i++)
        ups += base[i] == '/';
    const char *rest = file + common + 1;
    size_t capacity = (size_t)ups * 3 + strlen(rest) * 3 + 1;
    char *out = malloc(capacity);
    if (!out) {
        free(base);
        free(file);
        return vb_error_set(err, VB_ENOMEM, "%s: out of memory", target);
    }
    size_t n = 0;
    for (int i = 0; i < ups; i++) {
        memcpy(out + n, "../", 3);
        n += 3;
    }
    for (const unsigned char *p = (const unsigned char *)rest; *p; p++) {
        if (*p == '/' || is_unreserved(*p)) {
            out[n++] = (char)*p;
        } else {
            static const char hex[] = "0123456789ABCDEF";
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    out[n] = '\0';
    free(base);
    free(file);
    *href = out;
    return 0;
}
