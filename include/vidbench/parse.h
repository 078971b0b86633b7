/* Strict number parsing for everything read as text (flags, argument files, headers): the whole
 * string must be the number, in range; the library and the CLI share these two. */
#ifndef VIDBENCH_PARSE_H
#define VIDBENCH_PARSE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Base-10 integer in [min, max]; 0, or -1 for empty text, trailing characters, overflow or
 * out of range (*value untouched). */
int vb_parse_long(const char *text, long min, long max, long *value);
/* Finite decimal number in [min, max] (NaN never is); 0 or -1 as above. */
int vb_parse_double(const char *text, double min, double max, double *value);

#ifdef __cplusplus
}
#endif
#endif
