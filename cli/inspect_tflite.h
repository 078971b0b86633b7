/* `vidbench model inspect FILE.tflite`: lists a TFLite model's inputs, outputs and operators.
 * Called by cmd_model.c for files ending in .tflite. */
#ifndef VIDBENCH_CLI_INSPECT_TFLITE_H
#define VIDBENCH_CLI_INSPECT_TFLITE_H
int cli_inspect_tflite(const char *path, int argc, char **argv);
#endif
