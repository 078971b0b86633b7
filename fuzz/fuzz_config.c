/* libFuzzer target for evaluation inputs read from files: the seed-style argument file
 * (@config.txt) and the --clips list. Either must parse or fail with a message; never crash.
 * The first byte picks the parser so one corpus covers both. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vidbench/eval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    size_t text_size = size - 1;
    vb_error err = {0};
    if (data[0] & 1) {
        vb_eval_clip_list list;
        if (vb_eval_clip_list_parse(text, text_size, "fuzz.csv", "/base", &list, &err) == 0) {
            for (size_t i = 0; i < list.count; i++)
                if (!list.clips[i].clip_id[0] || !list.clips[i].path[0])
                    abort();   /* a parsed clip always has an id and a path */
            vb_eval_clip_list_free(&list);
        } else if (!err.message[0]) {
            abort();           /* every failure explains itself */
        }
        return 0;
    }
    vb_eval_config config;
    vb_eval_config_init(&config);
    /* Argument files may name other files (@FILE); those reads fail cleanly here. */
    int rc = vb_eval_config_parse_text(&config, text, text_size, "fuzz.txt", &err);
    if (rc && !err.message[0])
        abort();
    if (!rc) {
        vb_eval_config_validate(&config, &err);
        if (config.batch_size < 1 || config.top_n < 1 || config.shard_index >= config.shard_count)
            abort();           /* accepted values stay in range */
    }
    return 0;
}
