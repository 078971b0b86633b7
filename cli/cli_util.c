/* Shared helpers for the verbs: error printing and strict number parsing. */
#include "cli.h"
#include "vidbench/parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_verbosity = 1;

/* Length of the valid, printable UTF-8 sequence at s (2..4 bytes), 0 if there is none. */
static int utf8_printable(const unsigned char *s)
{
    int n = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 && s[0] < 0xE0 ? 2 : 0;
    for (int k = 1; k < n; k++)
        if ((s[k] & 0xC0) != 0x80)
            return 0;
    if (n == 2 && s[0] == 0xC2 && s[1] < 0xA0)
        return 0;   /* U+0080..U+009F: C1 controls (0x9B is a CSI on some terminals) */
    if (n == 3 && ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0)))
        return 0;   /* overlong or a surrogate */
    if (n == 4 && ((s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90)))
        return 0;
    return n;
}

const char *cli_safe(const char *text)
{
    static char buffers[8][1400];
    static unsigned next;
    char *out = buffers[next++ % 8];
    const size_t room = sizeof buffers[0] - 4;   /* "..." and the NUL */
    size_t n = 0;
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    while (*s) {
        int len = *s >= 0x20 && *s < 0x7f ? 1 : utf8_printable(s);
        if (n + (len ? (size_t)len : 4) > room) {
            memcpy(out + n, "...", 3);
            n += 3;
            break;
        }
        if (len) {
            memcpy(out + n, s, (size_t)len);
            n += (size_t)len;
            s += len;
        } else {
            n += (size_t)snprintf(out + n, 5, "\\x%02x", *s++);
        }
    }
    out[n] = '\0';
    return out;
}

int cli_fail(const vb_error *err)
{
    if (err && err->message[0])
        fprintf(stderr, "vidbench: error: %s\n", cli_safe(err->message));
    else
        fprintf(stderr, "vidbench: error: %s\n", vb_strerror(err ? err->code : VB_EINVAL));
    return CLI_EXIT_FAILURE;
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
    fprintf(stderr, "vidbench %s: ", verb);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'vidbench %s --help')\n", verb);
    return CLI_EXIT_USAGE;
}

int cli_parse_int(const char *text, long min, long max, long *value)
{
    return vb_parse_long(text, min, max, value);
}

int cli_parse_double(const char *text, double min, double max, double *value)
{
    return vb_parse_double(text, min, max, value);
}
