/* The vidbench command-line tool: one function per verb (cli/cmd_<verb>.c), each taking the
 * arguments after the verb and returning the process exit code. Uses only the public API. */
#ifndef VIDBENCH_CLI_H
#define VIDBENCH_CLI_H

#include "vidbench/error.h"

/* Exit codes: 0 success, 1 the work failed (bad input, failed download...), 2 usage error. */
enum { CLI_EXIT_OK = 0, CLI_EXIT_FAILURE = 1, CLI_EXIT_USAGE = 2 };

int cmd_probe(int argc, char **argv);
int cmd_frames(int argc, char **argv);
int cmd_gif(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_model(int argc, char **argv);
int model_quantize(int argc, char **argv);   /* cmd_model_quantize.c */
int cmd_data(int argc, char **argv);
int cmd_evaluate(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_submit(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_bench(int argc, char **argv);

/* Global verbosity from -v/-q before the verb: 0 quiet, 1 normal, 2 verbose. */
extern int cli_verbosity;

/* text made safe for a terminal: control bytes (C0, DEL, C1) and bytes that are not UTF-8
 * become \xNN, so a label map, tensor name or error message from a hostile file cannot
 * move the cursor, retitle the window or hide text. Every name that comes from a file goes
 * through here before it is printed. Returns one of 8 rotating static buffers (long text is
 * cut with "..."): valid until the 8th call after, single-threaded use only. */
const char *cli_safe(const char *text);
/* Prints "vidbench: <message>" (or the code's text) to stderr and returns CLI_EXIT_FAILURE. */
int cli_fail(const vb_error *err);
/* Prints a usage complaint and returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Strict integer/float parsing for option values; 0 on success, -1 if not a number in range. */
int cli_parse_int(const char *text, long min, long max, long *value);
int cli_parse_double(const char *text, double min, double max, double *value);

#endif
