/* The one CSV reader (csv.h). A byte-at-a-time state machine: fields are copied NUL-terminated
 * into one buffer per record, so a record is usable with the C string functions and costs one
 * allocation that grows to the longest record. */
#include "common/csv.h"
#include "common/fsutil.h"

#include <stdlib.h>
#include <string.h>

void csv_reader_init(csv_reader *reader, const char *data, size_t size, const char *name)
{
    memset(reader, 0, sizeof *reader);
    reader->data = data;
    reader->size = data ? size : 0;
    reader->line = 1;
    reader->name = name ? name : "CSV";
    reader->pos = fs_utf8_bom_bytes(data, reader->size);   /* a byte order mark, as Excel writes */
}

static int record_append(csv_record *record, char c, const csv_reader *reader, vb_error *err)
{
    if (record->used == record->capacity) {
        size_t capacity = record->capacity ? record->capacity * 2 : 4096;
        char *grown = realloc(record->buffer, capacity);
        if (!grown)
            return vb_error_set(err, VB_ENOMEM, "%s: out of memory", reader->name);
        record->buffer = grown;
        record->capacity = capacity;
    }
    record->buffer[record->used++] = c;
    return 0;
}

static int record_end_field(csv_record *record, size_t field_begin, const csv_reader *reader, vb_error *err)
{
    if (record->count >= CSV_MAX_COLUMNS)
        return vb_error_set(err, VB_ELIMIT, "%s:%ld: more than %d columns", reader->name, record->line,
                            CSV_MAX_COLUMNS);
    record->offsets[record->count] = field_begin;
    record->lengths[record->count] = record->used - field_begin;
    record->count++;
    return record_append(record, '\0', reader, err);
}

static void skip_line(csv_reader *reader)
{
    while (reader->pos < reader->size && reader->data[reader->pos] != '\n')
        reader->pos++;
    if (reader->pos < reader->size) {
        reader->pos++;
        reader->line++;
    }
}

/* At a record start: is this line blank or a '#' comment? */
static int comment_or_blank_line(const csv_reader *reader)
{
    size_t p = reader->pos;
    while (p < reader->size && (reader->data[p] == ' ' || reader->data[p] == '\t'))
        p++;
    return p >= reader->size || reader->data[p] == '\n' || reader->data[p] == '\r' || reader->data[p] == '#';
}

int csv_next(csv_reader *reader, csv_record *record, vb_error *err)
{
    while (reader->skip_comments && reader->pos < reader->size && comment_or_blank_line(reader))
        skip_line(reader);
    if (reader->pos >= reader->size)
        return 0;
    record->line = reader->line;
    record->used = 0;
    record->count = 0;
    size_t field_begin = 0;
    int in_quotes = 0, field_start = 1, was_quoted = 0, rc;
    for (;;) {
        if (reader->pos >= reader->size) {
            if (in_quotes)
                return vb_error_set(err, VB_EFORMAT, "%s:%ld: quoted field not closed before the end of the file",
                                    reader->name, record->line);
            if ((rc = record_end_field(record, field_begin, reader, err)))
                return rc;
            break;
        }
        char c = reader->data[reader->pos++];
        if (c == '\0')
            return vb_error_set(err, VB_EFORMAT, "%s:%ld: NUL byte", reader->name, reader->line);
        if (c == '\n')
            reader->line++;
        if (in_quotes) {
            if (c == '"') {
                if (reader->pos < reader->size && reader->data[reader->pos] == '"') {
                    reader->pos++;   /* "" inside quotes is one quote */
                } else {
                    in_quotes = 0;
                    continue;
                }
            }
        } else if (c == '"' && field_start) {
            in_quotes = was_quoted = 1;
            field_start = 0;
            continue;
        } else if (c == '\r' && (reader->pos >= reader->size || reader->data[reader->pos] == '\n')) {
            continue;   /* CRLF: the \n ends the record */
        } else if (c == ',' || c == '\n') {
            if ((rc = record_end_field(record, field_begin, reader, err)))
                return rc;
            field_begin = record->used;
            field_start = 1;
            was_quoted = 0;
            if (c == '\n')
                break;
            continue;
        } else if (c == '"' || was_quoted) {
            return vb_error_set(err, VB_EFORMAT, "%s:%ld: stray quote in field %d", reader->name, reader->line,
                                record->count + 1);
        }
        field_start = 0;
        if (record->used - field_begin >= CSV_MAX_FIELD_BYTES)
            return vb_error_set(err, VB_ELIMIT, "%s:%ld: field %d longer than %d bytes", reader->name, record->line,
                                record->count + 1, CSV_MAX_FIELD_BYTES);
        if ((rc = record_append(record, c, reader, err)))
            return rc;
    }
    for (int i = 0; i < record->count; i++)
        record->fields[i] = record->buffer + record->offsets[i];
    return 1;
}

int csv_record_is_blank(const csv_record *record)
{
    return record->count == 1 && record->lengths[0] == 0;
}

void csv_record_free(csv_record *record)
{
    free(record->buffer);
    record->buffer = NULL;
    record->used = record->capacity = 0;
    record->count = 0;
}
