/* The library's one CSV reader (RFC 4180) for the files it reads from outside: Kinetics
 * annotations, --clips lists and results CSVs. Fields separated by ',', records by LF or CRLF;
 * quoted fields may hold commas, doubled quotes and line breaks; a UTF-8 BOM at the start is
 * skipped; NUL bytes, stray quotes and unclosed quotes are errors naming the input and line;
 * fields and columns are bounded. Internal to the library (src/common/ is for every module). */
#ifndef VB_COMMON_CSV_H
#define VB_COMMON_CSV_H

#include <stddef.h>
#include "vidbench/error.h"

#define CSV_MAX_COLUMNS 256
#define CSV_MAX_FIELD_BYTES 8192

typedef struct csv_reader {
    const char *data;
    size_t size, pos;
    long line;                    /* 1-based physical line of pos */
    const char *name;             /* for messages */
    int skip_comments;            /* 1: lines that are blank (spaces, tabs) or whose first other
                                     character is '#' are skipped */
} csv_reader;

/* One record's fields, NUL-terminated copies in a buffer reused from record to record. */
typedef struct csv_record {
    char *fields[CSV_MAX_COLUMNS];
    size_t lengths[CSV_MAX_COLUMNS];
    int count;
    long line;                    /* physical line where the record starts */
    char *buffer;
    size_t used, capacity;
    size_t offsets[CSV_MAX_COLUMNS];
} csv_record;

void csv_reader_init(csv_reader *reader, const char *data, size_t size, const char *name);
/* Reads the next record: 1 when one was read, 0 at the end, a negative VB_E* on error. */
int csv_next(csv_reader *reader, csv_record *record, vb_error *err);
/* An empty line: one empty, unquoted field. */
int csv_record_is_blank(const csv_record *record);
void csv_record_free(csv_record *record);

#endif
