/* The one CSV reader (src/common/csv.c) that annotations, --clips lists and results CSVs share:
 * RFC 4180 quoting, CRLF, a BOM, comment lines where asked, and errors that name the input and
 * the line. Expected fields are written out by hand from RFC 4180's rules. */
#include "testlib.h"

#include <string.h>

#include "common/csv.h"
#include "vidbench/eval.h"

/* Reads every record of text and joins them as "f1|f2;f1;..." (fields '|', records ';'). */
static int read_all(const char *text, size_t size, int skip_comments, char *out, size_t out_size, vb_error *err)
{
    csv_reader reader;
    csv_reader_init(&reader, text, size, "mem.csv");
    reader.skip_comments = skip_comments;
    csv_record record = {0};
    out[0] = '\0';
    int rc;
    while ((rc = csv_next(&reader, &record, err)) == 1) {
        for (int i = 0; i < record.count; i++) {
            strncat(out, record.fields[i], out_size - strlen(out) - 1);
            strncat(out, i + 1 < record.count ? "|" : ";", out_size - strlen(out) - 1);
        }
    }
    csv_record_free(&record);
    return rc;
}

static void expect_records(const char *text, int skip_comments, const char *expected)
{
    char got[1024];
    vb_error err = {0};
    int rc = read_all(text, strlen(text), skip_comments, got, sizeof got, &err);
    if (rc != 0)
        fail_msg("'%s': error %d %s", text, rc, err.message);
    if (strcmp(got, expected))
        fail_msg("'%s': read '%s', expected '%s'", text, got, expected);
}

static void quoting_follows_rfc_4180(void **state)
{
    (void)state;
    expect_records("a,b,c\n1,2,3\n", 0, "a|b|c;1|2|3;");
    expect_records("a,b\n1,2", 0, "a|b;1|2;");                           /* no final newline */
    expect_records("\"x,y\",\"say \"\"hi\"\"\",z\n", 0, "x,y|say \"hi\"|z;");
    expect_records("\"two\nlines\",b\n", 0, "two\nlines|b;");              /* a line break inside quotes */
    expect_records("a,,\n", 0, "a||;");                                    /* empty fields */
    expect_records("\"\",b\n", 0, "|b;");
}

static void crlf_bom_and_blank_lines(void **state)
{
    (void)state;
    expect_records("a,b\r\n1,2\r\n", 0, "a|b;1|2;");
    expect_records("\xEF\xBB\xBF" "a,b\n", 0, "a|b;");                   /* the BOM is not part of "a" */
    expect_records("a\n\n", 0, "a;;");                                     /* a blank record, for the caller */
    expect_records("# note, \"quoted\n  \t\na,b\n  # indented\n", 1, "a|b;");
    expect_records("# not a comment here\n", 0, "# not a comment here;");
}

static void expect_error(const char *text, size_t size, int code, const char *needle)
{
    char got[1024];
    vb_error err = {0};
    int rc = read_all(text, size, 0, got, sizeof got, &err);
    if (rc != code || !strstr(err.message, needle) || !strstr(err.message, "mem.csv"))
        fail_msg("'%.40s': got %d '%s', expected %d with '%s'", text, rc, err.message, code, needle);
}

static void malformed_input_names_file_and_line(void **state)
{
    (void)state;
    expect_error("a,b\n\"open,c\n", 12, VB_EFORMAT, "mem.csv:2: quoted field not closed");
    expect_error("a,b\nx\"y,c\n", 10, VB_EFORMAT, "mem.csv:2: stray quote in field 1");
    expect_error("a,b\n\"x\"y,c\n", 11, VB_EFORMAT, "mem.csv:2: stray quote");
    expect_error("a,b\nx\0y\n", 8, VB_EFORMAT, "mem.csv:2: NUL byte");
    char wide[2 * CSV_MAX_COLUMNS + 2];
    for (int i = 0; i < CSV_MAX_COLUMNS + 1; i++) {
        wide[2 * i] = 'x';
        wide[2 * i + 1] = ',';
    }
    wide[2 * CSV_MAX_COLUMNS + 1] = '\n';
    expect_error(wide, sizeof wide, VB_ELIMIT, "columns");
    static char long_field[CSV_MAX_FIELD_BYTES + 8];
    memset(long_field, 'a', sizeof long_field - 1);
    expect_error(long_field, sizeof long_field - 1, VB_ELIMIT, "longer than");
}

/* The --clips list on the shared reader: comments, quoting, CRLF, BOM; ids from file names. */
static void clip_lists_use_the_shared_reader(void **state)
{
    (void)state;
    const char text[] = "\xEF\xBB\xBF# path,label[,youtube_id]\r\n"
                        "a/x1.mp4,abseiling,\r\n"
                        "\r\n"
                        "\"b/with,comma.avi\",\"arm wrestling\",yt123\r\n"
                        "/abs/c.mp4,,\r\n";
    vb_eval_clip_list list;
    vb_error err = {0};
    if (vb_eval_clip_list_parse(text, sizeof text - 1, "list.csv", "/base", &list, &err))
        fail_msg("%s", err.message);
    assert_int_equal(list.count, 3);
    assert_string_equal(list.clips[0].clip_id, "x1");
    assert_string_equal(list.clips[0].path, "/base/a/x1.mp4");
    assert_string_equal(list.clips[0].label, "abseiling");
    assert_string_equal(list.clips[1].clip_id, "with,comma");
    assert_string_equal(list.clips[1].label, "arm wrestling");
    assert_string_equal(list.clips[1].youtube_id, "yt123");
    assert_string_equal(list.clips[2].path, "/abs/c.mp4");
    assert_null(list.clips[2].label);
    vb_eval_clip_list_free(&list);

    const char bad[] = "a.mp4,x\n\"b.mp4,y\n";
    assert_int_equal(vb_eval_clip_list_parse(bad, sizeof bad - 1, "list.csv", NULL, &list, &err), VB_EFORMAT);
    assert_non_null(strstr(err.message, "list.csv:2:"));
    const char four[] = "a.mp4,x,y,z\n";
    assert_int_equal(vb_eval_clip_list_parse(four, sizeof four - 1, "list.csv", NULL, &list, &err), VB_EFORMAT);
    assert_non_null(strstr(err.message, "list.csv:1: more than 3 fields"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quoting_follows_rfc_4180),
        cmocka_unit_test(crlf_bom_and_blank_lines),
        cmocka_unit_test(malformed_input_names_file_and_line),
        cmocka_unit_test(clip_lists_use_the_shared_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
